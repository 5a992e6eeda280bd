/*
 * iobus/iofast.c - the writer's side of the doorbell index: the fast-MMIO and
 * PIO tables that the doorbell exits probe before the buses (the layout, the
 * lookups and the concurrency argument are in iobus/iobus.h, "the doorbell
 * index"). ioeventfd.c keeps them in step with the buses, inside the same
 * prepare/commit as the bus updates, so an ioctl changes both or neither.
 */
#include "iobus/iobus.h"

/* The block every empty table points at: zero slots are empty slots, so any
 * probe misses at its first slot. Never written, never freed. */
static const u64 iofast_empty_slots[IOFAST_MIN_SLOTS]
	__aligned(IOFAST_ALIGN) = { 0 };

/* Tables grow when more than 1/IOFAST_MAX_LOAD of the slots would be in use
 * (entries and tombstones), are rebuilt with at most 1/IOFAST_REBUILD_LOAD of
 * them holding entries, and shrink below 1/IOFAST_SHRINK_LOAD. */
#define IOFAST_MAX_LOAD      2u
#define IOFAST_REBUILD_LOAD  4u
#define IOFAST_SHRINK_LOAD   16u

/* A block: the header, then (64-byte aligned) the slots. The allocation
 * starts at or before the header; the retired node remembers it. */
struct iofast_block {
	struct iobus_retired retired;
	u64 slots;
};

static u64 *cur_slots(uintptr_t cur)
{
	return (u64 *)(cur & ~(uintptr_t)IOFAST_SHIFT_MASK);
}

static u32 cur_shift(uintptr_t cur)
{
	return (u32)(cur & IOFAST_SHIFT_MASK);
}

static u64 cur_nslots(uintptr_t cur)
{
	return 1ull << (64 - cur_shift(cur));
}

static bool cur_is_empty_block(uintptr_t cur)
{
	return cur_slots(cur) == iofast_empty_slots;
}

static struct iofast_block *cur_block(uintptr_t cur)
{
	return (struct iofast_block *)(void *)cur_slots(cur) - 1;
}

static size_t block_bytes(u64 nslots)
{
	return sizeof(struct iofast_block) + (IOFAST_ALIGN - 1) +
	       (size_t)nslots * sizeof(u64);
}

static u32 log2_u64(u64 x)
{
	return 63u - (u32)__builtin_clzll(x);
}

static uintptr_t empty_cur(void)
{
	return (uintptr_t)iofast_empty_slots | (64 - log2_u64(IOFAST_MIN_SLOTS));
}

void iofast_init(struct iofast *f, struct iobus_epoch *ep)
{
	f->cur = empty_cur();
	f->live = 0;
	f->used = 0;
	f->ep = ep;
}

u32 iofast_slots(const struct iofast *f)
{
	return cur_is_empty_block(f->cur) ? 0 : (u32)cur_nslots(f->cur);
}

static void block_free(struct iobus_epoch *ep, uintptr_t cur)
{
	struct iofast_block *b = cur_block(cur);

	ep->mem.free(ep->mem.ctx, b->retired.ptr, b->retired.bytes);
}

void iofast_destroy(struct iofast *f)
{
	ASSERT(!iobus_epoch_any_online(f->ep));
	if (!cur_is_empty_block(f->cur))
		block_free(f->ep, f->cur);
	f->cur = empty_cur();
	f->live = f->used = 0;
}

/* A zeroed block of nslots (a power of two >= IOFAST_MIN_SLOTS), not
 * published, as a cur value; 0 if the allocation failed. */
static uintptr_t block_alloc(struct iobus_epoch *ep, u64 nslots)
{
	size_t bytes = block_bytes(nslots);
	char *p = ep->mem.alloc(ep->mem.ctx, bytes);
	uintptr_t slots;
	struct iofast_block *b;

	if (!p)
		return 0;
	slots = ALIGN_UP((uintptr_t)p + sizeof(*b), (uintptr_t)IOFAST_ALIGN);
	b = (struct iofast_block *)slots - 1;
	b->retired.ptr = p;
	b->retired.bytes = bytes;
	b->slots = nslots;
	memset((void *)slots, 0, (size_t)nslots * sizeof(u64));
	return slots | (64 - log2_u64(nslots));
}

/* Slots for a rebuild holding live entries: at most a quarter full. */
static u64 rebuild_slots(u32 live)
{
	u64 n = IOFAST_MIN_SLOTS;

	while (n < (u64)live * IOFAST_REBUILD_LOAD)
		n <<= 1;
	return n;
}

/* The slot holding entry's key in cur, or the first free one (empty or
 * tombstone) on its walk when it is absent. */
static u64 *slot_find(uintptr_t cur, u64 key, bool want_free)
{
	u64 *slot = cur_slots(cur);
	u32 shift = cur_shift(cur);
	u64 mask = ~0ull >> shift, i = (key * IOFAST_HASH_MUL) >> shift;

	for (u64 n = 0; n <= mask; n++, i = (i + 1) & mask) {
		u64 e = slot[i];
		if (want_free ? !(e & IOFAST_VALID)
			      : (e & ~IOFAST_EVENT_MASK) == key)
			return &slot[i];
		if (!e)
			return NULL;
	}
	return NULL;
}

int iofast_prepare(struct iofast *f, u64 entry, bool insert,
		   struct iofast_update *up)
{
	u32 live = insert ? f->live + 1 : f->live - 1;
	u64 nslots = cur_nslots(f->cur), want;

	ASSERT(entry & IOFAST_VALID);
	ASSERT(insert || f->live > 0);
	*up = (struct iofast_update){ .f = f, .entry = entry, .insert = insert };
	if (insert && !cur_is_empty_block(f->cur) &&
	    (u64)(f->used + 1) * IOFAST_MAX_LOAD <= nslots)
		return 0;		/* room in place */
	if (!insert && live > 0 &&
	    (nslots <= IOFAST_MIN_SLOTS ||
	     (u64)live * IOFAST_SHRINK_LOAD >= nslots))
		return 0;		/* a tombstone in place */
	if (live == 0) {
		up->next = empty_cur();	/* the last one out: no memory */
		return 0;
	}
	want = rebuild_slots(live);
	up->next = block_alloc(f->ep, want);
	return up->next ? 0 : -ENOMEM;
}

void iofast_fill(struct iofast_update *up, u64 entry)
{
	u64 *slot;

	ASSERT(up->next && !cur_is_empty_block(up->next));
	ASSERT(entry & IOFAST_VALID);
	slot = slot_find(up->next, entry & ~IOFAST_EVENT_MASK, true);
	ASSERT(slot && *slot == 0);
	*slot = entry;		/* not published yet: plain stores */
}

void iofast_commit(struct iofast_update *up)
{
	struct iofast *f = up->f;
	u64 key = up->entry & ~IOFAST_EVENT_MASK;
	uintptr_t old = f->cur;
	u64 *slot;

	if (up->next) {
		/* Release: the slots filled above are visible to a reader
		 * that loads cur (acquire) and finds this block. */
		__atomic_store_n(&f->cur, up->next, __ATOMIC_RELEASE);
		f->live = up->insert ? f->live + 1 : f->live - 1;
		f->used = f->live;
		if (!cur_is_empty_block(old)) {
			struct iofast_block *b = cur_block(old);
			iobus_retire(f->ep, &b->retired, b->retired.ptr,
				     b->retired.bytes);
		}
		return;
	}
	if (up->insert) {
		slot = slot_find(f->cur, key, true);
		ASSERT(slot);
		if (!*slot)
			f->used++;	/* a tombstone was already counted */
		f->live++;
		/* One 64-bit store: a reader sees the whole entry or the
		 * free slot. Release pairs with nothing in particular (the
		 * entry carries all a reader needs) but keeps the compiler
		 * from tearing or delaying the store. */
		__atomic_store_n(slot, up->entry, __ATOMIC_RELEASE);
	} else {
		slot = slot_find(f->cur, key, false);
		ASSERT(slot && *slot == up->entry);
		f->live--;
		/* Never back to empty: a walk past this slot must go on. */
		__atomic_store_n(slot, IOFAST_TOMBSTONE, __ATOMIC_RELEASE);
	}
}

void iofast_abort(struct iofast_update *up)
{
	if (up->next && !cur_is_empty_block(up->next))
		block_free(up->f->ep, up->next);
	up->next = 0;
}
