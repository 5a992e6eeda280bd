/*
 * iobus/ioeventfd.c - doorbells: a guest write to a registered port or MMIO
 * address signals an event instead of being emulated (CONTRACTS.md 3, the
 * IOEVENTFD hypercall). The rules are KVM's (Linux virt/kvm/eventfd.c:
 * kvm_assign_ioeventfd, ioeventfd_check_collision, ioeventfd_in_range), with
 * an event id where KVM has an eventfd, a per-VM limit, and a placement policy
 * of ours: MMIO doorbells inside the doorbell window, PIO doorbells off the
 * emulated devices' ports.
 *
 * Each doorbell is an iobus device on IOBUS_PIO or IOBUS_MMIO; a length-0
 * MMIO doorbell is also on IOBUS_FAST_MMIO, probed by address alone. Finding
 * a doorbell by address (collisions, deassign, page marking) goes through the
 * bus's sorted array, so it costs O(log n), not a walk of every doorbell.
 *
 * The doorbells an exit can hit without decoding are also indexed in the
 * fast-MMIO and PIO tables (iobus/iofast.c), changed in the same all-or-
 * nothing step as the buses.
 */
#include "iobus/iobus.h"

struct ioeventfd {
	struct iobus_device dev;	/* on buses[bus] (and FAST_MMIO) */
	struct iobus_retired retired;	/* freed a grace period after removal */
	struct ioeventfd *next, *prev;	/* the table's list */
	struct ioeventfd *index_newer, *index_older;	/* its index's list */
	struct ioeventfd_table *table;
	u64 addr;
	u64 datamatch;			/* meaningful unless wildcard */
	u32 len;			/* 0: any access size */
	s32 event;
	u32 bus;			/* IOBUS_PIO or IOBUS_MMIO */
	bool wildcard;			/* no FLAG_DATAMATCH: any value hits */
};

#define ioeventfd_of(d) \
	((struct ioeventfd *)(void *)((char *)(d) - offsetof(struct ioeventfd, dev)))

/* Ports the emulated devices answer (CONTRACTS.md 2, "Devices the guest
 * sees"): PIC master and slave, pc-testdev latch, exit port, COM1. */
static const struct ioeventfd_port_range default_reserved[] = {
	{ 0x20,  0x21  },
	{ 0xa0,  0xa1  },
	{ 0xe0,  0xe3  },
	{ 0xf4,  0xf7  },
	{ 0x3f8, 0x3ff },
};

/* ---- the doorbell as a bus device --------------------------------------- */

/*
 * KVM's ioeventfd_in_range: the address must be exact; length 0 matches any
 * size; otherwise the size must be the same, and with a datamatch the value
 * written, read at the access size (1, 2, 4 or 8 bytes), must equal the full
 * 64-bit datamatch (so a datamatch wider than the access never hits).
 */
static bool ioeventfd_in_range(const struct ioeventfd *p, u64 addr, u32 len,
			       const void *val)
{
	u64 v;

	if (addr != p->addr)
		return false;
	if (p->len == 0)
		return true;
	if (len != p->len)
		return false;
	if (p->wildcard)
		return true;
	switch (len) {
	case 1: { u8 x;  memcpy(&x, val, sizeof(x)); v = x; break; }
	case 2: { u16 x; memcpy(&x, val, sizeof(x)); v = x; break; }
	case 4: { u32 x; memcpy(&x, val, sizeof(x)); v = x; break; }
	case 8: { u64 x; memcpy(&x, val, sizeof(x)); v = x; break; }
	default:
		return false;
	}
	return v == p->datamatch;
}

/* A hit is signalled and consumed; a miss goes on to the next range. */
static int ioeventfd_dev_write(struct iobus_device *dev, u64 addr, u32 len,
			       const void *val)
{
	struct ioeventfd *p = ioeventfd_of(dev);

	if (!ioeventfd_in_range(p, addr, len, val))
		return -EOPNOTSUPP;
	p->table->hooks.signal(p->table->hooks.ctx, p->event);
	return 0;
}

/* No read callback: a read of a doorbell is emulated as usual. */
static const struct iobus_device_ops ioeventfd_dev_ops = {
	.write = ioeventfd_dev_write,
};

/* ---- the table ---------------------------------------------------------- */

void ioeventfd_table_init(struct ioeventfd_table *t, const struct iobus_mem *mem,
			  const struct ioeventfd_hooks *hooks)
{
	ASSERT(hooks->signal);
	iobus_epoch_init(&t->ep, mem);
	for (u32 i = 0; i < IOBUS_NR; i++)
		iobus_init(&t->buses[i], &t->ep);
	iofast_init(&t->fast_mmio, &t->ep);
	iofast_init(&t->pio, &t->ep);
	iofast_init(&t->pio_dm, &t->ep);
	t->list = NULL;
	for (u32 k = 0; k < ARRAY_SIZE(t->index_oldest); k++)
		t->index_oldest[k] = t->index_newest[k] = NULL;
	t->count = 0;
	t->limit = IOEVENTFD_MAX;
	t->window_base = IOEVENTFD_DEFAULT_WINDOW_BASE;
	t->window_size = IOEVENTFD_DEFAULT_WINDOW_SIZE;
	t->reserved_count = ARRAY_SIZE(default_reserved);
	for (u32 i = 0; i < ARRAY_SIZE(default_reserved); i++)
		t->reserved[i] = default_reserved[i];
	t->hooks = *hooks;
}

void ioeventfd_table_destroy(struct ioeventfd_table *t)
{
	struct ioeventfd *p = t->list;

	for (u32 i = 0; i < IOBUS_NR; i++)
		iobus_destroy(&t->buses[i]);	/* asserts no reader online */
	iofast_destroy(&t->fast_mmio);
	iofast_destroy(&t->pio);
	iofast_destroy(&t->pio_dm);
	while (p) {
		struct ioeventfd *next = p->next;
		t->ep.mem.free(t->ep.mem.ctx, p, sizeof(*p));
		p = next;
	}
	t->list = NULL;
	for (u32 k = 0; k < ARRAY_SIZE(t->index_oldest); k++)
		t->index_oldest[k] = t->index_newest[k] = NULL;
	t->count = 0;
	iobus_epoch_destroy(&t->ep);
}

int ioeventfd_set_window(struct ioeventfd_table *t, u64 base, u64 size)
{
	if (size == 0 || base + (size - 1) < base)
		return -EINVAL;
	t->window_base = base;
	t->window_size = size;
	return 0;
}

void ioeventfd_set_ram_end(struct ioeventfd_table *t, u64 ram_end)
{
	t->ram_end = ram_end;
}

int ioeventfd_reserve_ports(struct ioeventfd_table *t, u32 first, u32 count)
{
	if (count == 0 || first >= IOEVENTFD_PIO_PORTS ||
	    count > IOEVENTFD_PIO_PORTS - first)
		return -EINVAL;
	if (t->reserved_count >= IOEVENTFD_MAX_RESERVED)
		return -ENOSPC;
	t->reserved[t->reserved_count++] = (struct ioeventfd_port_range){
		.first = (u16)first,
		.last = (u16)(first + count - 1),
	};
	return 0;
}

int ioeventfd_unreserve_ports(struct ioeventfd_table *t, u32 first, u32 count)
{
	for (u32 i = 0; i < t->reserved_count; i++) {
		if (t->reserved[i].first != first ||
		    (u32)t->reserved[i].last + 1 - first != count)
			continue;
		t->reserved[i] = t->reserved[--t->reserved_count];
		return 0;
	}
	return -ENOENT;
}

/* ---- finding doorbells on a bus ----------------------------------------- */

struct doorbell_query;
typedef bool (*doorbell_match_fn)(const struct doorbell_query *q,
				  const struct ioeventfd *p);

struct doorbell_query {
	u64 addr;		/* exact start address wanted */
	doorbell_match_fn match;
	const struct ioeventfd *want;	/* what match compares against */
	const struct doorbell_ioeventfd *args;
	struct ioeventfd *found;
};

static bool query_visit(void *arg, const struct iobus_range *r)
{
	struct doorbell_query *q = arg;
	struct ioeventfd *p;

	if (r->dev->ops != &ioeventfd_dev_ops || r->addr != q->addr)
		return false;
	p = ioeventfd_of(r->dev);
	if (!q->match(q, p))
		return false;
	q->found = p;
	return true;
}

/* The doorbell at q->addr on bus that q->match accepts, or NULL. */
static struct ioeventfd *doorbell_find(struct ioeventfd_table *t, u32 bus,
				       struct doorbell_query *q)
{
	q->found = NULL;
	iobus_for_each_overlap(&t->buses[bus], q->addr, q->addr, query_visit, q);
	return q->found;
}

/* KVM's ioeventfd_check_collision (the bus and address already agree): two
 * doorbells could both answer one write. */
static bool match_collision(const struct doorbell_query *q,
			    const struct ioeventfd *p)
{
	const struct ioeventfd *n = q->want;

	return !p->len || !n->len ||
	       (p->len == n->len &&
		(p->wildcard || n->wildcard || p->datamatch == n->datamatch));
}

/* KVM's kvm_deassign_ioeventfd_idx: every field the assign set must agree. */
static bool match_deassign(const struct doorbell_query *q,
			   const struct ioeventfd *p)
{
	const struct doorbell_ioeventfd *a = q->args;
	bool wildcard = !(a->flags & DOORBELL_IOEVENTFD_FLAG_DATAMATCH);

	return p->event == a->event && p->len == a->len &&
	       p->wildcard == wildcard &&
	       (wildcard || p->datamatch == a->datamatch);
}

static bool page_visit(void *arg, const struct iobus_range *r)
{
	(void)arg;
	return r->dev->ops == &ioeventfd_dev_ops;
}

bool ioeventfd_page_has_mmio_doorbell(struct ioeventfd_table *t, u64 gpa)
{
	u64 page = ALIGN_DOWN(gpa, PAGE_SIZE);

	return iobus_for_each_overlap(&t->buses[IOBUS_MMIO], page,
				      page + (PAGE_SIZE - 1), page_visit, NULL);
}

/* The pages holding an MMIO doorbell's bytes: one, or two if it straddles. */
static u32 doorbell_pages(const struct ioeventfd *p, u64 pages[2])
{
	u64 last = p->addr + (p->len ? p->len : 1) - 1;

	pages[0] = ALIGN_DOWN(p->addr, PAGE_SIZE);
	pages[1] = ALIGN_DOWN(last, PAGE_SIZE);
	return pages[1] == pages[0] ? 1 : 2;
}

/* ---- the doorbell index ------------------------------------------------- */

/* p's entry in the fast-MMIO table, or 0: only length-0 MMIO doorbells, at an
 * address an exit can report, and not at the first byte after RAM (see
 * ram_end in iobus.h: the bus answers for that one). */
static u64 fast_mmio_entry(const struct ioeventfd_table *t, const struct ioeventfd *p)
{
	if (p->bus != IOBUS_MMIO || p->len != 0 || p->addr >> IOFAST_GPA_BITS ||
	    (t->ram_end && p->addr == t->ram_end))
		return 0;
	return iofast_mmio_key(p->addr) | (u64)p->event;
}

/* p's entry in the PIO table, or 0: the sizes an OUT has (SDM Vol. 3C, "Exit
 * Qualification for I/O Instructions": 1, 2 or 4 bytes), and a datamatch an
 * access of that size can equal (KVM compares the value read at the access
 * size with the whole 64-bit datamatch, so a wider one never hits). */
static u64 pio_entry(const struct ioeventfd *p)
{
	u64 key;

	if (p->bus != IOBUS_PIO || !(p->len == 1 || p->len == 2 || p->len == 4))
		return 0;
	key = iofast_pio_key((u16)p->addr, p->len);
	if (!p->wildcard) {
		if (p->datamatch >> (8 * p->len))
			return 0;
		key = iofast_pio_dm_key(key, p->len, p->datamatch);
	}
	return key | (u64)p->event;
}

/* The table that indexes p, and its entry there; NULL if none does. */
static struct iofast *index_of(struct ioeventfd_table *t,
			       const struct ioeventfd *p, u64 *entry)
{
	*entry = fast_mmio_entry(t, p);
	if (*entry)
		return &t->fast_mmio;
	*entry = pio_entry(p);
	if (!*entry)
		return NULL;
	return p->wildcard ? &t->pio : &t->pio_dm;
}

/* Which of t->index_oldest/newest lists the doorbells of table f. */
static u32 index_nr(const struct ioeventfd_table *t, const struct iofast *f)
{
	return f == &t->fast_mmio ? 0 : f == &t->pio ? 1 : 2;
}

/*
 * Prepares p's insertion into (insert) or removal from its table, if one
 * indexes it (up->f stays NULL otherwise). A rebuild is filled here from the
 * table's own doorbell list, oldest first, so the longest-standing doorbells
 * keep their home slots, and a rebuild costs the table's size, not the VM's;
 * p itself is still off the list on an insert (it goes in last) and still on
 * it on a removal (skipped). Returns 0 or -ENOMEM (nothing changed).
 */
static int index_prepare(struct ioeventfd_table *t, struct ioeventfd *p,
			 bool insert, struct iofast_update *up)
{
	struct iofast *f;
	u64 entry, e;
	int ret;

	up->f = NULL;
	up->next = 0;
	f = index_of(t, p, &entry);
	if (!f)
		return 0;
	ret = iofast_prepare(f, entry, insert, up);
	if (ret || !up->next || (!insert && f->live == 1))
		return ret;		/* in place, or to the empty block */
	for (;;) {
		for (struct ioeventfd *q = t->index_oldest[index_nr(t, f)]; q;
		     q = q->index_newer) {
			if (q == p)
				continue;
			index_of(t, q, &e);
			iofast_fill(up, e);
		}
		if (insert)
			iofast_fill(up, entry);
		if (!up->overflow)
			return 0;
		ret = iofast_refill(up);
		if (ret)
			return ret;
	}
}

/* Publishes the prepared change and keeps the table's list in step. */
static void index_commit(struct ioeventfd_table *t, struct ioeventfd *p,
			 struct iofast_update *up)
{
	u32 k;

	if (!up->f)
		return;
	iofast_commit(up);
	k = index_nr(t, up->f);
	if (up->insert) {
		p->index_newer = NULL;
		p->index_older = t->index_newest[k];
		if (p->index_older)
			p->index_older->index_newer = p;
		else
			t->index_oldest[k] = p;
		t->index_newest[k] = p;
		return;
	}
	if (p->index_older)
		p->index_older->index_newer = p->index_newer;
	else
		t->index_oldest[k] = p->index_newer;
	if (p->index_newer)
		p->index_newer->index_older = p->index_older;
	else
		t->index_newest[k] = p->index_older;
}

/* ---- assign and deassign ------------------------------------------------ */

static bool len_is_valid(u32 len)
{
	/* KVM: "must be natural-word sized, or 0 to ignore length" */
	return len == 0 || len == 1 || len == 2 || len == 4 || len == 8;
}

/* The guest's ids, or (hv) the hypervisor's own, never one for the other. */
static bool event_is_valid(s32 event, bool hv)
{
	if (hv)
		return event >= IOEVENTFD_MAX_EVENTS &&
		       event < IOEVENTFD_MAX_EVENTS + IOEVENTFD_HV_EVENTS;
	return event >= 0 && event < IOEVENTFD_MAX_EVENTS;
}

/* Our placement policy; addr + len is known not to wrap. */
static bool placement_allowed(const struct ioeventfd_table *t, bool pio,
			      u64 addr, u32 len)
{
	if (!pio) {
		u64 extent = len ? len : 1;
		return addr >= t->window_base &&
		       t->window_size >= extent &&
		       addr - t->window_base <= t->window_size - extent;
	}
	if (addr + len > IOEVENTFD_PIO_PORTS)
		return false;
	for (u32 i = 0; i < t->reserved_count; i++)
		if (addr <= t->reserved[i].last &&
		    addr + len - 1 >= t->reserved[i].first)
			return false;
	return true;
}

static int ioeventfd_assign(struct ioeventfd_table *t,
			    const struct doorbell_ioeventfd *args, bool hv)
{
	bool pio = args->flags & DOORBELL_IOEVENTFD_FLAG_PIO;
	bool datamatch = args->flags & DOORBELL_IOEVENTFD_FLAG_DATAMATCH;
	bool fast = !pio && args->len == 0;
	u32 bus = pio ? IOBUS_PIO : IOBUS_MMIO;
	struct ioeventfd probe, *p;
	struct doorbell_query q;
	struct iobus_update up_bus, up_fast;
	struct iofast_update up_index;
	bool marked[2] = { false, false };
	u64 pages[2];
	u32 npages = 0;
	int ret;

	if (!len_is_valid(args->len))
		return -EINVAL;
	if (args->addr + args->len < args->addr)
		return -EINVAL;
	/* Length 0 exists only for MMIO, where the fast path cannot know the
	 * value (or the size) without decoding the instruction. */
	if (args->len == 0 && (pio || datamatch))
		return -EINVAL;
	if (!event_is_valid(args->event, hv))
		return -EBADF;
	if (!hv && !placement_allowed(t, pio, args->addr, args->len))
		return -EPERM;

	probe = (struct ioeventfd){
		.addr = args->addr,
		.datamatch = datamatch ? args->datamatch : 0,
		.len = args->len,
		.event = args->event,
		.bus = bus,
		.wildcard = !datamatch,
	};
	q = (struct doorbell_query){ .addr = args->addr,
				     .match = match_collision, .want = &probe };
	if (doorbell_find(t, bus, &q))
		return -EEXIST;
	if (!hv && t->count >= t->limit)
		return -ENOSPC;

	p = t->ep.mem.alloc(t->ep.mem.ctx, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = probe;
	p->dev.ops = &ioeventfd_dev_ops;
	p->table = t;
	ret = iobus_prepare_register(&t->buses[bus], p->addr, p->len, &p->dev,
				     &up_bus);
	if (ret)
		goto fail_free;
	/* KVM puts a length-0 MMIO doorbell on the fast-MMIO bus as well. If
	 * that fails, the first registration is undone: it was never seen. */
	if (fast) {
		ret = iobus_prepare_register(&t->buses[IOBUS_FAST_MMIO], p->addr,
					     0, &p->dev, &up_fast);
		if (ret)
			goto fail_abort;
	}
	ret = index_prepare(t, p, true, &up_index);
	if (ret)
		goto fail_abort_fast;

	if (!pio) {
		npages = doorbell_pages(p, pages);
		for (u32 i = 0; i < npages; i++)
			marked[i] = ioeventfd_page_has_mmio_doorbell(t, pages[i]);
	}
	iobus_commit(&up_bus);
	if (fast)
		iobus_commit(&up_fast);
	index_commit(t, p, &up_index);
	p->prev = NULL;
	p->next = t->list;
	if (t->list)
		t->list->prev = p;
	t->list = p;
	if (!hv)
		t->count++;
	for (u32 i = 0; i < npages; i++)
		if (!marked[i] && t->hooks.page_mark)
			t->hooks.page_mark(t->hooks.ctx, pages[i]);
	iobus_reclaim(&t->ep);
	return 0;

fail_abort_fast:
	if (fast)
		iobus_abort(&up_fast);
fail_abort:
	iobus_abort(&up_bus);
fail_free:
	t->ep.mem.free(t->ep.mem.ctx, p, sizeof(*p));
	return ret;
}

static int ioeventfd_deassign(struct ioeventfd_table *t,
			      const struct doorbell_ioeventfd *args, bool hv)
{
	bool pio = args->flags & DOORBELL_IOEVENTFD_FLAG_PIO;
	u32 bus = pio ? IOBUS_PIO : IOBUS_MMIO;
	struct iobus_update up_bus, up_fast;
	struct iofast_update up_index;
	struct doorbell_query q;
	struct ioeventfd *p;
	u64 pages[2];
	u32 npages = 0;
	int ret;

	if (!event_is_valid(args->event, hv))
		return -EBADF;
	q = (struct doorbell_query){ .addr = args->addr,
				     .match = match_deassign, .args = args };
	p = doorbell_find(t, bus, &q);
	if (!p)
		return -ENOENT;

	ret = iobus_prepare_unregister(&t->buses[bus], p->addr, p->len, &p->dev,
				       &up_bus);
	if (ret)
		return ret;
	if (!pio && p->len == 0) {
		ret = iobus_prepare_unregister(&t->buses[IOBUS_FAST_MMIO],
					       p->addr, 0, &p->dev, &up_fast);
		if (ret) {
			iobus_abort(&up_bus);
			return ret;
		}
	}
	ret = index_prepare(t, p, false, &up_index);
	if (ret) {
		if (!pio && p->len == 0)
			iobus_abort(&up_fast);
		iobus_abort(&up_bus);
		return ret;
	}
	iobus_commit(&up_bus);
	if (!pio && p->len == 0)
		iobus_commit(&up_fast);
	index_commit(t, p, &up_index);

	if (p->prev)
		p->prev->next = p->next;
	else
		t->list = p->next;
	if (p->next)
		p->next->prev = p->prev;
	if (!hv)
		t->count--;
	if (!pio) {
		npages = doorbell_pages(p, pages);
		for (u32 i = 0; i < npages; i++)
			if (!ioeventfd_page_has_mmio_doorbell(t, pages[i]) &&
			    t->hooks.page_unmark)
				t->hooks.page_unmark(t->hooks.ctx, pages[i]);
	}
	/* A vCPU that found p before the commit may still be calling it. */
	iobus_retire(&t->ep, &p->retired, p, sizeof(*p));
	iobus_reclaim(&t->ep);
	return 0;
}

int ioeventfd_ioctl(struct ioeventfd_table *t,
		    const struct doorbell_ioeventfd *args)
{
	/* CONTRACTS.md 3: any other flag bit is -EINVAL, assign or not. */
	if (args->flags & ~(u32)DOORBELL_IOEVENTFD_VALID_FLAGS)
		return -EINVAL;
	if (args->flags & DOORBELL_IOEVENTFD_FLAG_DEASSIGN)
		return ioeventfd_deassign(t, args, false);
	return ioeventfd_assign(t, args, false);
}

int ioeventfd_hv_ioctl(struct ioeventfd_table *t,
		       const struct doorbell_ioeventfd *args)
{
	if (args->flags & ~(u32)DOORBELL_IOEVENTFD_VALID_FLAGS)
		return -EINVAL;
	if (args->flags & DOORBELL_IOEVENTFD_FLAG_DEASSIGN)
		return ioeventfd_deassign(t, args, true);
	return ioeventfd_assign(t, args, true);
}

/* ---- the command-line form ---------------------------------------------- */

#define SPEC_MIN_FIELDS  4	/* kind:ADDR:LEN:EVENT */
#define SPEC_MAX_FIELDS  5	/* ...:DATAMATCH */

int ioeventfd_parse_spec(const char *spec, struct doorbell_ioeventfd *out)
{
	const char *field[SPEC_MAX_FIELDS];
	size_t flen[SPEC_MAX_FIELDS];
	u32 nfields = 0;
	u64 num[SPEC_MAX_FIELDS] = { 0 };
	struct doorbell_ioeventfd d;
	const char *s = spec;

	if (!spec)
		return -EINVAL;
	for (;;) {
		const char *end = strchr(s, ':');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		if (nfields == SPEC_MAX_FIELDS)
			return -EINVAL;
		field[nfields] = s;
		flen[nfields++] = n;
		if (!end)
			break;
		s = end + 1;
	}
	if (nfields < SPEC_MIN_FIELDS)
		return -EINVAL;
	for (u32 i = 1; i < nfields; i++)
		if (parse_u64(field[i], flen[i], &num[i]))
			return -EINVAL;
	if (num[2] > UINT32_MAX || num[3] > INT32_MAX)
		return -EINVAL;

	memset(&d, 0, sizeof(d));
	if (flen[0] == 3 && memcmp(field[0], "pio", 3) == 0)
		d.flags = DOORBELL_IOEVENTFD_FLAG_PIO;
	else if (!(flen[0] == 4 && memcmp(field[0], "mmio", 4) == 0))
		return -EINVAL;
	d.addr = num[1];
	d.len = (u32)num[2];
	d.event = (s32)num[3];
	if (nfields == SPEC_MAX_FIELDS) {
		d.flags |= DOORBELL_IOEVENTFD_FLAG_DATAMATCH;
		d.datamatch = num[4];
	}
	*out = d;
	return 0;
}
