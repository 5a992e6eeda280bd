/*
 * iobus/iobus.c - the I/O bus: a sorted array of address ranges per bus,
 * searched by the vCPU on every port-I/O or MMIO exit, changed by a writer
 * that copies the array and publishes the copy; and the grace-period scheme
 * (quiescent-state based, like Linux's RCU "QSBR" flavour) that frees an old
 * array only once no reader can still be looking at it.
 *
 * The rules follow Linux KVM's kvm_io_bus (virt/kvm/kvm_main.c): ranges sorted
 * by (address, length), new ranges after equal ones, and an access offered to
 * every range that can contain it, in order, until a device accepts it. Unlike
 * KVM, overlapping ranges of any shape are found: each entry carries the
 * largest last byte of itself and every earlier entry (max_last), which is
 * non-decreasing, so the first entry that can contain an address is a binary
 * search on max_last, and the candidates follow it up to the first entry
 * starting past the address.
 */
#include "iobus/iobus.h"

/* ---- grace periods ------------------------------------------------------ */

/* Epoch values: 0 marks an offline reader, so counting starts above it. */
#define EPOCH_OFFLINE  0ull
#define EPOCH_FIRST    1ull

void iobus_epoch_init(struct iobus_epoch *ep, const struct iobus_mem *mem)
{
	ep->mem = *mem;
	ep->epoch = EPOCH_FIRST;
	for (u32 i = 0; i < IOBUS_MAX_READERS; i++)
		ep->reader_epoch[i] = EPOCH_OFFLINE;
	ep->retired = NULL;
}

static bool epoch_any_online(struct iobus_epoch *ep)
{
	for (u32 i = 0; i < IOBUS_MAX_READERS; i++)
		if (__atomic_load_n(&ep->reader_epoch[i], __ATOMIC_ACQUIRE) !=
		    EPOCH_OFFLINE)
			return true;
	return false;
}

void iobus_epoch_destroy(struct iobus_epoch *ep)
{
	ASSERT(!epoch_any_online(ep));
	iobus_reclaim(ep);
	ASSERT(ep->retired == NULL);
}

/*
 * Coming online races with a writer that has just unpublished an array and is
 * checking who might hold it: the writer stores the new pointer then reads the
 * reader slots, the reader stores its slot then reads the pointer. The two
 * full fences (here and in iobus_reclaim) guarantee that either the writer
 * sees the reader online or the reader sees the new pointer.
 */
int iobus_reader_online(struct iobus_epoch *ep, u32 id)
{
	if (id >= IOBUS_MAX_READERS)
		return -EINVAL;
	__atomic_store_n(&ep->reader_epoch[id],
			 __atomic_load_n(&ep->epoch, __ATOMIC_ACQUIRE),
			 __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

void iobus_reader_offline(struct iobus_epoch *ep, u32 id)
{
	ASSERT(id < IOBUS_MAX_READERS);
	/* Release: every lookup this reader made is before the slot clears. */
	__atomic_store_n(&ep->reader_epoch[id], EPOCH_OFFLINE, __ATOMIC_RELEASE);
}

/*
 * Acquire on the epoch: having seen epoch E, the reader also sees every array
 * published before E was (so it can no longer find what was retired at E).
 * Release on the slot: its earlier lookups are done before the writer, which
 * reads the slot with acquire, frees anything.
 */
void iobus_reader_quiescent(struct iobus_epoch *ep, u32 id)
{
	ASSERT(id < IOBUS_MAX_READERS);
	__atomic_store_n(&ep->reader_epoch[id],
			 __atomic_load_n(&ep->epoch, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
}

void iobus_retire(struct iobus_epoch *ep, struct iobus_retired *node,
		  void *ptr, size_t bytes)
{
	/* The caller's unpublishing stores come first (release); a reader
	 * that reports this epoch has seen them. */
	u64 e = ep->epoch + 1;

	__atomic_store_n(&ep->epoch, e, __ATOMIC_SEQ_CST);
	node->epoch = e;
	node->ptr = ptr;
	node->bytes = bytes;
	node->next = ep->retired;
	ep->retired = node;
}

void iobus_reclaim(struct iobus_epoch *ep)
{
	struct iobus_retired **link = &ep->retired, *node;
	u64 safe = UINT64_MAX;	/* every reader has seen epochs <= safe */

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (u32 i = 0; i < IOBUS_MAX_READERS; i++) {
		u64 seen = __atomic_load_n(&ep->reader_epoch[i],
					   __ATOMIC_ACQUIRE);
		if (seen != EPOCH_OFFLINE && seen < safe)
			safe = seen;
	}
	/* Newest first, so epochs fall along the list: cut it at the first
	 * block every reader is past, and free the rest. */
	while (*link && (*link)->epoch > safe)
		link = &(*link)->next;
	node = *link;
	*link = NULL;
	while (node) {
		struct iobus_retired *next = node->next;
		ep->mem.free(ep->mem.ctx, node->ptr, node->bytes);
		node = next;
	}
}

/* ---- ranges ------------------------------------------------------------- */

/* The last byte a range occupies; a length-0 range occupies its address. */
static u64 range_last(u64 addr, u32 len)
{
	return addr + (len ? len : 1) - 1;
}

/* Does range r take part in an access of len bytes at addr? A length-0 range
 * answers accesses of any size that start at its address (KVM's fast-MMIO
 * ioeventfd); a length-0 access (the fast-MMIO probe) is a single byte. */
static bool range_covers(const struct iobus_range *r, u64 addr, u32 len)
{
	u64 off;

	if (r->len == 0)
		return addr == r->addr;
	if (addr < r->addr)
		return false;
	off = addr - r->addr;
	if (len == 0)
		return off < r->len;
	return len <= r->len && off <= (u64)(r->len - len);
}

/* (addr, len) order, as kvm_io_bus_sort_cmp: by address, then length. */
static bool key_less(u64 addr1, u32 len1, u64 addr2, u32 len2)
{
	return addr1 < addr2 || (addr1 == addr2 && len1 < len2);
}

static size_t array_bytes(u32 count)
{
	return sizeof(struct iobus_array) +
	       (size_t)count * sizeof(struct iobus_range);
}

static struct iobus_array *bus_current(const struct iobus *bus)
{
	return __atomic_load_n(&bus->cur, __ATOMIC_ACQUIRE);
}

/* First index whose max_last reaches addr: no earlier range can contain it. */
static u32 array_first_candidate(const struct iobus_array *a, u64 addr)
{
	u32 lo = 0, hi = a->count;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		if (a->ranges[mid].max_last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First index whose key is not below (addr, len), or with past_equal the
 * first whose key is above it (where a new range goes: after equal ones). */
static u32 array_bound(const struct iobus_array *a, u64 addr, u32 len,
		       bool past_equal)
{
	u32 lo = 0, hi = a ? a->count : 0;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		const struct iobus_range *r = &a->ranges[mid];
		bool go_right = past_equal ? !key_less(addr, len, r->addr, r->len)
					   : key_less(r->addr, r->len, addr, len);
		if (go_right)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- the bus ------------------------------------------------------------ */

void iobus_init(struct iobus *bus, struct iobus_epoch *ep)
{
	bus->cur = NULL;
	bus->ep = ep;
	bus->lookup = IOBUS_LOOKUP_BINARY;
}

void iobus_destroy(struct iobus *bus)
{
	struct iobus_array *a = bus->cur;

	ASSERT(!epoch_any_online(bus->ep));
	if (a)
		bus->ep->mem.free(bus->ep->mem.ctx, a, array_bytes(a->count));
	bus->cur = NULL;
}

int iobus_set_lookup(struct iobus *bus, u32 mode)
{
	if (mode != IOBUS_LOOKUP_BINARY && mode != IOBUS_LOOKUP_LINEAR)
		return -EINVAL;
	__atomic_store_n(&bus->lookup, mode, __ATOMIC_RELAXED);
	return 0;
}

u32 iobus_count(const struct iobus *bus)
{
	const struct iobus_array *a = bus_current(bus);
	return a ? a->count : 0;
}

static struct iobus_array *array_alloc(struct iobus *bus, u32 count)
{
	struct iobus_array *a = bus->ep->mem.alloc(bus->ep->mem.ctx,
						   array_bytes(count));
	if (a)
		a->count = count;
	return a;
}

int iobus_prepare_register(struct iobus *bus, u64 addr, u32 len,
			   struct iobus_device *dev, struct iobus_update *up)
{
	const struct iobus_array *old = bus->cur;
	u32 n = old ? old->count : 0, pos, i;
	u64 last = range_last(addr, len);
	struct iobus_array *a;

	if (!dev || !dev->ops || last < addr)
		return -EINVAL;
	if (n >= IOBUS_MAX_RANGES)
		return -ENOSPC;
	pos = array_bound(old, addr, len, true);
	for (i = pos; i > 0; i--) {
		const struct iobus_range *r = &old->ranges[i - 1];
		if (r->addr != addr || r->len != len)
			break;
		if (r->dev == dev)
			return -EEXIST;
	}
	a = array_alloc(bus, n + 1);
	if (!a)
		return -ENOMEM;
	if (pos)
		memcpy(a->ranges, old->ranges, pos * sizeof(a->ranges[0]));
	if (n > pos)
		memcpy(&a->ranges[pos + 1], &old->ranges[pos],
		       (n - pos) * sizeof(a->ranges[0]));
	a->ranges[pos] = (struct iobus_range){
		.addr = addr,
		.max_last = pos ? MAX(a->ranges[pos - 1].max_last, last) : last,
		.dev = dev,
		.len = len,
	};
	/* Later prefixes now include this range too; they are sorted, so
	 * once one already reaches past it, all the rest do. */
	for (i = pos + 1; i <= n && a->ranges[i].max_last < last; i++)
		a->ranges[i].max_last = last;
	up->bus = bus;
	up->next = a;
	return 0;
}

int iobus_prepare_unregister(struct iobus *bus, u64 addr, u32 len,
			     struct iobus_device *dev, struct iobus_update *up)
{
	const struct iobus_array *old = bus->cur;
	u32 n = old ? old->count : 0, k, i;
	struct iobus_array *a;
	u64 running;

	for (k = array_bound(old, addr, len, false); k < n; k++) {
		const struct iobus_range *r = &old->ranges[k];
		if (r->addr != addr || r->len != len)
			return -ENOENT;
		if (r->dev == dev)
			break;
	}
	if (k == n)
		return -ENOENT;
	up->bus = bus;
	up->next = NULL;
	if (n == 1)
		return 0;
	a = array_alloc(bus, n - 1);
	if (!a)
		return -ENOMEM;
	if (k)
		memcpy(a->ranges, old->ranges, k * sizeof(a->ranges[0]));
	if (n - 1 > k)
		memcpy(&a->ranges[k], &old->ranges[k + 1],
		       (n - 1 - k) * sizeof(a->ranges[0]));
	/* Recompute the prefixes the removed range was part of, until one
	 * comes out unchanged: from there on nothing differs. */
	running = k ? a->ranges[k - 1].max_last : 0;
	for (i = k; i < n - 1; i++) {
		const struct iobus_range *r = &a->ranges[i];
		u64 m = MAX(running, range_last(r->addr, r->len));
		if (m == r->max_last)
			break;
		a->ranges[i].max_last = m;
		running = m;
	}
	up->next = a;
	return 0;
}

void iobus_commit(struct iobus_update *up)
{
	struct iobus *bus = up->bus;
	struct iobus_array *old = bus->cur;

	/* Release: the array's contents are visible before its address. */
	__atomic_store_n(&bus->cur, up->next, __ATOMIC_RELEASE);
	if (old)
		iobus_retire(bus->ep, &old->retired, old,
			     array_bytes(old->count));
	up->next = NULL;
}

void iobus_abort(struct iobus_update *up)
{
	struct iobus_array *a = up->next;

	/* Never published, so no reader can hold it. */
	if (a)
		up->bus->ep->mem.free(up->bus->ep->mem.ctx, a,
				      array_bytes(a->count));
	up->next = NULL;
}

int iobus_register(struct iobus *bus, u64 addr, u32 len,
		   struct iobus_device *dev)
{
	struct iobus_update up;
	int ret = iobus_prepare_register(bus, addr, len, dev, &up);

	if (ret)
		return ret;
	iobus_commit(&up);
	iobus_reclaim(bus->ep);
	return 0;
}

int iobus_unregister(struct iobus *bus, u64 addr, u32 len,
		     struct iobus_device *dev)
{
	struct iobus_update up;
	int ret = iobus_prepare_unregister(bus, addr, len, dev, &up);

	if (ret)
		return ret;
	iobus_commit(&up);
	iobus_reclaim(bus->ep);
	return 0;
}

/* ---- lookups ------------------------------------------------------------ */

/* The ranges an access is offered to, in bus order, from one snapshot. */
struct bus_cursor {
	const struct iobus_array *a;
	u32 i;
	bool linear;
	u64 addr;
	u32 len;
};

static void cursor_start(struct bus_cursor *c, const struct iobus *bus,
			 u64 addr, u32 len)
{
	c->a = bus_current(bus);	/* the one load of this lookup */
	c->linear = __atomic_load_n(&bus->lookup, __ATOMIC_RELAXED) ==
		    IOBUS_LOOKUP_LINEAR;
	c->addr = addr;
	c->len = len;
	c->i = (c->a && !c->linear) ? array_first_candidate(c->a, addr) : 0;
}

static const struct iobus_range *cursor_next(struct bus_cursor *c)
{
	const struct iobus_array *a = c->a;

	if (!a)
		return NULL;
	while (c->i < a->count) {
		const struct iobus_range *r = &a->ranges[c->i++];
		/* Sorted by address: nothing further can contain it. */
		if (!c->linear && r->addr > c->addr)
			return NULL;
		if (range_covers(r, c->addr, c->len))
			return r;
	}
	return NULL;
}

int iobus_write(struct iobus *bus, u64 addr, u32 len, const void *val)
{
	struct bus_cursor c;
	const struct iobus_range *r;

	cursor_start(&c, bus, addr, len);
	while ((r = cursor_next(&c))) {
		iobus_write_fn fn = r->dev->ops->write;
		if (fn && fn(r->dev, addr, len, val) == 0)
			return 0;
	}
	return -EOPNOTSUPP;
}

int iobus_read(struct iobus *bus, u64 addr, u32 len, void *val)
{
	struct bus_cursor c;
	const struct iobus_range *r;

	cursor_start(&c, bus, addr, len);
	while ((r = cursor_next(&c))) {
		iobus_read_fn fn = r->dev->ops->read;
		if (fn && fn(r->dev, addr, len, val) == 0)
			return 0;
	}
	return -EOPNOTSUPP;
}

bool iobus_for_each_overlap(struct iobus *bus, u64 first, u64 last,
			    iobus_visit_fn fn, void *arg)
{
	const struct iobus_array *a = bus_current(bus);

	if (!a)
		return false;
	for (u32 i = array_first_candidate(a, first);
	     i < a->count && a->ranges[i].addr <= last; i++) {
		const struct iobus_range *r = &a->ranges[i];
		if (range_last(r->addr, r->len) >= first && fn(arg, r))
			return true;
	}
	return false;
}
