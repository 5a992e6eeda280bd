/*
 * iobus/iobus.c - the I/O bus: a sorted sequence of address ranges per bus,
 * searched by the vCPU on every port-I/O or MMIO exit, changed by a writer
 * that copies what it changes and publishes the copy. iobus/epoch.c frees an
 * old copy only once no reader can still be looking at it.
 *
 * The rules follow Linux KVM's kvm_io_bus (virt/kvm/kvm_main.c): ranges sorted
 * by (address, length), new ranges after equal ones, and an access offered to
 * every range that can contain it, in order, until a device accepts it. Unlike
 * KVM, overlapping ranges of any shape are found: each entry carries the
 * largest last byte of itself and every earlier entry (max_last), which is
 * non-decreasing, so the first entry that can contain an address is a binary
 * search on max_last, and the candidates follow it up to the first entry
 * starting past the address.
 *
 * Storage is two levels (square-root decomposition), so that filling a VM
 * with 65,536 doorbells is not quadratic: the ranges live in immutable chunks
 * of at most IOBUS_CHUNK, and a top-level array lists the chunks in order
 * with the running max_last across chunks; inside a chunk max_last runs from
 * the chunk's start. A lookup binary-searches the chunks, then the one chunk.
 * An update copies the top-level array and the one or two chunks it touches
 * (a full chunk splits in two; a chunk left small merges with a neighbour, so
 * adjacent chunks always hold more than IOBUS_CHUNK / 2 ranges together and a
 * bus of n ranges has at most 4n / IOBUS_CHUNK + 1 chunks, however it was
 * edited), then publishes the new top-level array with one release store.
 */
#include "iobus/iobus.h"

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

/* ---- chunks and the top-level array ------------------------------------- */

/* Adjacent chunks holding this many ranges or fewer together are merged.
 * Half a chunk: a split leaves two halves of more than this, so a chunk is
 * not split and merged back over and over. */
#define CHUNK_MERGE_MAX  (IOBUS_CHUNK / 2)

_Static_assert(sizeof(struct iobus_chunk) +
	       IOBUS_CHUNK * sizeof(struct iobus_range) <= 2 * PAGE_SIZE,
	       "a full chunk fits two pages (see IOBUS_CHUNK)");

static size_t chunk_bytes(u32 count)
{
	return sizeof(struct iobus_chunk) +
	       (size_t)count * sizeof(struct iobus_range);
}

/* A top-level array's block: with one chunk, that chunk is inside it. */
static size_t array_bytes(u32 nchunks, u32 count)
{
	size_t bytes = sizeof(struct iobus_array) +
		       (size_t)nchunks * sizeof(struct iobus_chunk_ref);

	return nchunks == 1 ? bytes + chunk_bytes(count) : bytes;
}

static size_t array_block_bytes(const struct iobus_array *a)
{
	return array_bytes(a->nchunks, a->count);
}

/* Where a one-chunk array keeps its chunk. */
static struct iobus_chunk *array_own_chunk(struct iobus_array *a)
{
	return (struct iobus_chunk *)(void *)&a->chunks[1];
}

static u32 chunk_count(const struct iobus_array *a, u32 c)
{
	return a->chunks[c].chunk->count;
}

static const struct iobus_range *chunk_last(const struct iobus_chunk *ch)
{
	return &ch->ranges[ch->count - 1];
}

static struct iobus_array *bus_current(const struct iobus *bus)
{
	return __atomic_load_n(&bus->cur, __ATOMIC_ACQUIRE);
}

/* A range's place on a bus: chunk c, index i inside it. */
struct bus_pos {
	u32 c, i;
};

/*
 * The first range whose running max_last reaches addr: no earlier range can
 * contain it. The chunk is the first whose running maximum across chunks
 * reaches addr; every earlier chunk stays below addr, so inside the chunk its
 * own running maximum decides. Returns false if no range reaches addr.
 */
static bool array_first_candidate(const struct iobus_array *a, u64 addr,
				  struct bus_pos *p)
{
	const struct iobus_chunk *ch;
	u32 lo = 0, hi = a->nchunks;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		if (a->chunks[mid].max_last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == a->nchunks)
		return false;
	p->c = lo;
	ch = a->chunks[lo].chunk;
	lo = 0;
	hi = ch->count;
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		if (ch->ranges[mid].max_last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	p->i = lo;
	return true;
}

/* Does range r's key go before (addr, len)? With past_equal, also when equal. */
static bool key_goes_before(const struct iobus_range *r, u64 addr, u32 len,
			    bool past_equal)
{
	return past_equal ? !key_less(addr, len, r->addr, r->len)
			  : key_less(r->addr, r->len, addr, len);
}

/* Index in ch of the first range whose key is not below (addr, len), or with
 * past_equal the first whose key is above it. */
static u32 chunk_bound(const struct iobus_chunk *ch, u64 addr, u32 len,
		       bool past_equal)
{
	u32 lo = 0, hi = ch->count;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		if (key_goes_before(&ch->ranges[mid], addr, len, past_equal))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The same over a whole (non-empty) bus: in the first chunk whose last key
 * is not before it, or the end of the last chunk. */
static struct bus_pos array_bound(const struct iobus_array *a, u64 addr,
				  u32 len, bool past_equal)
{
	u32 lo = 0, hi = a->nchunks;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		if (key_goes_before(chunk_last(a->chunks[mid].chunk), addr, len,
				    past_equal))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == a->nchunks)
		return (struct bus_pos){ lo - 1, chunk_count(a, lo - 1) };
	return (struct bus_pos){
		lo, chunk_bound(a->chunks[lo].chunk, addr, len, past_equal)
	};
}

/* ---- building the next array -------------------------------------------- */

/*
 * One update: the old array's chunks [first, first + nold) (nold 0 to 2) give
 * way to nnew new chunks (0 to 2) of sizes[] ranges, which hold the old
 * chunks' ranges in order with one range inserted at, or removed from, index
 * at (counted from the start of chunk first). All other chunks are shared.
 */
struct edit {
	u32 first, nold, nnew;
	u32 sizes[IOBUS_UPDATE_CHUNKS];
	u32 at;
	bool insert;
	struct iobus_range range;	/* the inserted one */
};

/* A run of ranges to copy. */
struct run {
	const struct iobus_range *r;
	u32 n;
};

#define EDIT_MAX_RUNS  4	/* chunk, chunk cut in two, the inserted range */

/* The new chunks' ranges as runs of old ranges (and the inserted one). */
static u32 edit_runs(const struct iobus_array *old, const struct edit *e,
		     struct run runs[EDIT_MAX_RUNS])
{
	u32 nruns = 0, base = 0;
	bool applied = false;

	for (u32 k = 0; k < e->nold; k++) {
		const struct iobus_chunk *ch = old->chunks[e->first + k].chunk;
		u32 n = ch->count, off = e->at - base;
		bool here = !applied && e->at >= base &&
			    (e->insert ? off <= n : off < n);

		if (!here) {
			runs[nruns++] = (struct run){ ch->ranges, n };
		} else if (e->insert) {
			runs[nruns++] = (struct run){ ch->ranges, off };
			runs[nruns++] = (struct run){ &e->range, 1 };
			runs[nruns++] = (struct run){ ch->ranges + off, n - off };
		} else {
			runs[nruns++] = (struct run){ ch->ranges, off };
			runs[nruns++] = (struct run){ ch->ranges + off + 1,
						      n - off - 1 };
		}
		applied |= here;
		base += n;
	}
	if (!applied) {
		/* Nothing replaced: a new chunk of the inserted range alone. */
		ASSERT(e->insert && e->nold == 0);
		runs[nruns++] = (struct run){ &e->range, 1 };
	}
	return nruns;
}

/* Copies n ranges, starting skip ranges into the runs, to dst. */
static void runs_copy(const struct run *runs, u32 nruns, u32 skip, u32 n,
		      struct iobus_range *dst)
{
	for (u32 k = 0; k < nruns && n; k++) {
		u32 take;

		if (skip >= runs[k].n) {
			skip -= runs[k].n;
			continue;
		}
		take = MIN(runs[k].n - skip, n);
		memcpy(dst, runs[k].r + skip, take * sizeof(*dst));
		dst += take;
		n -= take;
		skip = 0;
	}
	ASSERT(n == 0);
}

/* Sets the running max_last of ch's ranges from index from on (earlier ones
 * are right already). */
static void chunk_fix_max(struct iobus_chunk *ch, u32 from)
{
	u64 m = from ? ch->ranges[from - 1].max_last : 0;

	for (u32 i = from; i < ch->count; i++) {
		struct iobus_range *r = &ch->ranges[i];
		m = MAX(m, range_last(r->addr, r->len));
		r->max_last = m;
	}
}

static void *bus_alloc(struct iobus *bus, size_t bytes)
{
	return bus->ep->mem.alloc(bus->ep->mem.ctx, bytes);
}

static void bus_free(struct iobus *bus, void *ptr, size_t bytes)
{
	bus->ep->mem.free(bus->ep->mem.ctx, ptr, bytes);
}

/*
 * Allocates and fills the array after edit e into up, or nothing and returns
 * -ENOMEM. A result of one chunk is always built inside the array's block
 * (the planner then replaces every old chunk), a result of none is NULL.
 */
static int edit_build(struct iobus *bus, const struct edit *e,
		      struct iobus_update *up)
{
	const struct iobus_array *old = bus->cur;
	u32 old_nchunks = old ? old->nchunks : 0;
	u32 count = (old ? old->count : 0) + (e->insert ? 1u : 0u) -
		    (e->insert ? 0u : 1u);
	u32 nchunks = old_nchunks - e->nold + e->nnew;
	u32 after = e->first + e->nnew, skip = 0, nruns, k;
	struct iobus_chunk *made[IOBUS_UPDATE_CHUNKS] = { NULL, NULL };
	struct run runs[EDIT_MAX_RUNS];
	struct iobus_array *a;
	u64 m;

	ASSERT(e->first + e->nold <= old_nchunks);
	ASSERT(nchunks != 1 || (e->nnew == 1 && e->nold == old_nchunks));
	ASSERT(old_nchunks != 1 || e->nold == 1);
	up->bus = bus;
	up->next = NULL;
	for (k = 0; k < IOBUS_UPDATE_CHUNKS; k++) {
		up->made[k] = NULL;
		/* A one-chunk array's chunk goes with the array's block. */
		up->dropped[k] = k < e->nold && old_nchunks > 1 ?
				 old->chunks[e->first + k].chunk : NULL;
	}
	if (nchunks == 0)
		return 0;

	for (k = 0; nchunks > 1 && k < e->nnew; k++) {
		made[k] = bus_alloc(bus, chunk_bytes(e->sizes[k]));
		if (!made[k])
			goto fail;
	}
	a = bus_alloc(bus, array_bytes(nchunks, count));
	if (!a)
		goto fail;
	if (nchunks == 1)
		made[0] = array_own_chunk(a);

	/* The new chunks. A prefix of the first one that is a prefix of the
	 * first old chunk keeps its running maxima. */
	nruns = edit_runs(old, e, runs);
	for (k = 0; k < e->nnew; k++) {
		struct iobus_chunk *ch = made[k];
		u32 kept = k == 0 && e->nold ? MIN(runs[0].n, e->sizes[0]) : 0;

		ch->count = e->sizes[k];
		ch->reserved = 0;
		runs_copy(runs, nruns, skip, ch->count, ch->ranges);
		chunk_fix_max(ch, kept);
		skip += ch->count;
	}
	for (k = 0; k < nruns; k++)
		skip -= runs[k].n;
	ASSERT(skip == 0);	/* the new chunks hold every run exactly */

	/* The top level: old entries around the new chunks, and the running
	 * maximum across chunks from the first new one. Past the new chunks
	 * it can stop where it meets the old value: the rest is unchanged. */
	a->count = count;
	a->nchunks = nchunks;
	for (k = 0; k < e->first; k++)
		a->chunks[k] = old->chunks[k];
	for (k = 0; k < e->nnew; k++)
		a->chunks[e->first + k].chunk = made[k];
	for (k = after; k < nchunks; k++)
		a->chunks[k] = old->chunks[k - e->nnew + e->nold];
	m = e->first ? a->chunks[e->first - 1].max_last : 0;
	for (k = e->first; k < nchunks; k++) {
		m = MAX(m, chunk_last(a->chunks[k].chunk)->max_last);
		if (k >= after && a->chunks[k].max_last == m)
			break;
		a->chunks[k].max_last = m;
	}

	up->next = a;
	for (k = 0; nchunks > 1 && k < e->nnew; k++)
		up->made[k] = made[k];
	return 0;

fail:
	for (k = 0; nchunks > 1 && k < e->nnew; k++)
		if (made[k])
			bus_free(bus, made[k], chunk_bytes(e->sizes[k]));
	return -ENOMEM;
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

	ASSERT(!iobus_epoch_any_online(bus->ep));
	if (a) {
		for (u32 c = 0; a->nchunks > 1 && c < a->nchunks; c++)
			bus_free(bus, a->chunks[c].chunk,
				 chunk_bytes(chunk_count(a, c)));
		bus_free(bus, a, array_block_bytes(a));
	}
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

/* Is dev among the ranges with key (addr, len) just before position p? */
static bool array_has_equal_before(const struct iobus_array *a,
				   struct bus_pos p, u64 addr, u32 len,
				   const struct iobus_device *dev)
{
	for (;;) {
		const struct iobus_range *r;

		if (p.i == 0) {
			if (p.c == 0)
				return false;
			p.c--;
			p.i = chunk_count(a, p.c);
		}
		r = &a->chunks[p.c].chunk->ranges[--p.i];
		if (r->addr != addr || r->len != len)
			return false;
		if (r->dev == dev)
			return true;
	}
}

/* Where dev's range (addr, len) is on a non-empty bus, if it is there. */
static bool array_find(const struct iobus_array *a, u64 addr, u32 len,
		       const struct iobus_device *dev, struct bus_pos *out)
{
	struct bus_pos p = array_bound(a, addr, len, false);

	for (;;) {
		const struct iobus_range *r;

		if (p.i == chunk_count(a, p.c)) {
			if (p.c + 1 == a->nchunks)
				return false;
			p.c++;
			p.i = 0;
		}
		r = &a->chunks[p.c].chunk->ranges[p.i];
		if (r->addr != addr || r->len != len)
			return false;
		if (r->dev == dev) {
			*out = p;
			return true;
		}
		p.i++;
	}
}

/*
 * Where a new range goes (position p, after every equal key): into its chunk
 * if that has room, or the end of the previous chunk (the same place in bus
 * order) if that one has. A full chunk splits: at its end or start, the new
 * range becomes a chunk of its own and the full chunk is shared as it is
 * (filling a bus in address order leaves full chunks behind; the new chunk's
 * neighbours are full, so no pair of small chunks appears); in the middle,
 * into halves. A one-chunk bus's chunk lives in the array's block, so it is
 * always copied.
 */
static void plan_insert(const struct iobus_array *a, struct bus_pos p,
			struct edit *e)
{
	u32 n;

	if (p.i == 0 && p.c > 0 && chunk_count(a, p.c - 1) < IOBUS_CHUNK) {
		p.c--;
		p.i = chunk_count(a, p.c);
	}
	n = chunk_count(a, p.c);
	e->first = p.c;
	e->nold = 1;
	e->at = p.i;
	if (n < IOBUS_CHUNK) {
		e->nnew = 1;
		e->sizes[0] = n + 1;
	} else if (a->nchunks > 1 && (p.i == 0 || p.i == n)) {
		e->first = p.i ? p.c + 1 : p.c;
		e->nold = 0;
		e->nnew = 1;
		e->sizes[0] = 1;
		e->at = 0;
	} else {
		e->nnew = 2;
		e->sizes[0] = p.i == n ? n : p.i == 0 ? 1 : (n + 1) / 2;
		e->sizes[1] = n + 1 - e->sizes[0];
	}
}

/*
 * Removing the range at p: its chunk shrinks, or goes if it empties, or
 * merges with a neighbour when the two hold CHUNK_MERGE_MAX ranges or fewer.
 * A bus left with one chunk gets it inside the array's block.
 */
static void plan_remove(const struct iobus_array *a, struct bus_pos p,
			struct edit *e)
{
	u32 n = chunk_count(a, p.c) - 1;

	e->first = p.c;
	e->nold = 1;
	e->nnew = 1;
	e->sizes[0] = n;
	e->at = p.i;
	if (n == 0) {
		e->nnew = 0;	/* the chunk goes (with one chunk, the bus) */
	} else if (a->nchunks == 1) {
		return;
	} else if (p.c > 0 && chunk_count(a, p.c - 1) + n <= CHUNK_MERGE_MAX) {
		e->first = p.c - 1;
		e->nold = 2;
		e->sizes[0] = chunk_count(a, p.c - 1) + n;
		e->at = chunk_count(a, p.c - 1) + p.i;
	} else if (p.c + 1 < a->nchunks &&
		   n + chunk_count(a, p.c + 1) <= CHUNK_MERGE_MAX) {
		e->nold = 2;
		e->sizes[0] = n + chunk_count(a, p.c + 1);
	}
	if (a->nchunks - e->nold + e->nnew == 1) {
		/* Two chunks become one: both are replaced by a copy. */
		e->first = 0;
		e->nold = 2;
		e->nnew = 1;
		e->sizes[0] = a->count - 1;
		e->at = (p.c ? chunk_count(a, 0) : 0) + p.i;
	}
}

int iobus_prepare_register(struct iobus *bus, u64 addr, u32 len,
			   struct iobus_device *dev, struct iobus_update *up)
{
	const struct iobus_array *old = bus->cur;
	u64 last = range_last(addr, len);
	struct edit e = {
		.first = 0, .nold = 0, .nnew = 1, .sizes = { 1, 0 }, .at = 0,
		.insert = true,
		.range = { .addr = addr, .max_last = last, .dev = dev,
			   .len = len },
	};

	if (!dev || !dev->ops || last < addr)
		return -EINVAL;
	if (old && old->count >= IOBUS_MAX_RANGES)
		return -ENOSPC;
	if (old) {
		struct bus_pos p = array_bound(old, addr, len, true);
		if (array_has_equal_before(old, p, addr, len, dev))
			return -EEXIST;
		plan_insert(old, p, &e);
	}
	return edit_build(bus, &e, up);
}

int iobus_prepare_unregister(struct iobus *bus, u64 addr, u32 len,
			     struct iobus_device *dev, struct iobus_update *up)
{
	const struct iobus_array *old = bus->cur;
	struct edit e = { .insert = false };
	struct bus_pos p;

	if (!old || !array_find(old, addr, len, dev, &p))
		return -ENOENT;
	plan_remove(old, p, &e);
	return edit_build(bus, &e, up);
}

void iobus_commit(struct iobus_update *up)
{
	struct iobus *bus = up->bus;
	struct iobus_array *old = bus->cur;

	/* Release: the array's and its new chunks' contents are visible
	 * before its address. */
	__atomic_store_n(&bus->cur, up->next, __ATOMIC_RELEASE);
	if (old)
		iobus_retire(bus->ep, &old->retired, old,
			     array_block_bytes(old));
	for (u32 k = 0; k < IOBUS_UPDATE_CHUNKS; k++) {
		struct iobus_chunk *ch = up->dropped[k];
		if (ch)
			iobus_retire(bus->ep, &ch->retired, ch,
				     chunk_bytes(ch->count));
		up->dropped[k] = NULL;
		up->made[k] = NULL;
	}
	up->next = NULL;
}

void iobus_abort(struct iobus_update *up)
{
	struct iobus_array *a = up->next;

	/* Never published, so no reader can hold any of it. */
	for (u32 k = 0; k < IOBUS_UPDATE_CHUNKS; k++) {
		struct iobus_chunk *ch = up->made[k];
		if (ch)
			bus_free(up->bus, ch, chunk_bytes(ch->count));
		up->made[k] = NULL;
		up->dropped[k] = NULL;
	}
	if (a)
		bus_free(up->bus, a, array_block_bytes(a));
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

/* Ranges of one snapshot in bus order, from a starting position on: the
 * current chunk's next range and end, and that chunk's index. */
struct bus_walk {
	const struct iobus_array *a;	/* NULL: nothing (more) */
	const struct iobus_range *r, *end;
	u32 c;
};

static void walk_start(struct bus_walk *w, const struct iobus_array *a,
		       struct bus_pos p)
{
	const struct iobus_chunk *ch = a->chunks[p.c].chunk;

	w->a = a;
	w->c = p.c;
	w->r = &ch->ranges[p.i];
	w->end = &ch->ranges[ch->count];
}

static const struct iobus_range *walk_next(struct bus_walk *w)
{
	while (w->r == w->end) {
		const struct iobus_chunk *ch;

		if (!w->a || ++w->c >= w->a->nchunks) {
			w->a = NULL;
			return NULL;
		}
		ch = w->a->chunks[w->c].chunk;
		w->r = ch->ranges;
		w->end = &ch->ranges[ch->count];
	}
	return w->r++;
}

/* From the first range that can reach first (every range, linear). */
static void walk_from(struct bus_walk *w, const struct iobus_array *a,
		      u64 first, bool linear)
{
	struct bus_pos p = { 0, 0 };

	w->a = NULL;
	w->r = w->end = NULL;
	if (a && (linear || array_first_candidate(a, first, &p)))
		walk_start(w, a, p);
}

/* The ranges an access is offered to, in bus order, from one snapshot. */
struct bus_cursor {
	struct bus_walk w;
	bool linear;
	u64 addr;
	u32 len;
};

static void cursor_start(struct bus_cursor *c, const struct iobus *bus,
			 u64 addr, u32 len)
{
	const struct iobus_array *a = bus_current(bus);	/* the one load */

	c->linear = __atomic_load_n(&bus->lookup, __ATOMIC_RELAXED) ==
		    IOBUS_LOOKUP_LINEAR;
	c->addr = addr;
	c->len = len;
	walk_from(&c->w, a, addr, c->linear);
}

static const struct iobus_range *cursor_next(struct bus_cursor *c)
{
	const struct iobus_range *r;

	while ((r = walk_next(&c->w))) {
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
	struct bus_walk w;
	const struct iobus_range *r;

	walk_from(&w, bus_current(bus), first, false);
	while ((r = walk_next(&w)) && r->addr <= last)
		if (range_last(r->addr, r->len) >= first && fn(arg, r))
			return true;
	return false;
}
