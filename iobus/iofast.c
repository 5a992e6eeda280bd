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

/* Tables grow when more than IOFAST_MAX_LOAD_8THS / 8 of the hashed slots
 * would be in use (entries and tombstones), are rebuilt with at most
 * 1/IOFAST_REBUILD_LOAD of them holding entries, and shrink below
 * 1/IOFAST_SHRINK_LOAD. 3/8 rather than 1/2 because a full VM (65,536 =
 * 2^16 doorbells) then sits at load 1/4 in 2^18 slots (2 MiB) instead of
 * 1/2 in 2^17 (1 MiB): a doorbell registered after the others finds its
 * home slot taken about 1 time in 4 instead of 1 in 2 (linear probing,
 * random keys: 1.39 against 2.5 slots for an insert). */
#define IOFAST_MAX_LOAD_8THS 3u
#define IOFAST_REBUILD_LOAD  4u
#define IOFAST_SHRINK_LOAD   16u
/* Slots past the hashed ones where walks that start near the end go on
 * (the lookups never wrap, so they need no mask); doubled, at the same size,
 * when a cluster would reach the block's last slot. */
#define IOFAST_PAD           16u

/* A block: the header, then (64-byte aligned) nslots hashed slots and pad
 * more; the last of them stays empty, so every walk ends inside the block.
 * The allocation starts at or before the header; the retired node
 * remembers it. */
struct iofast_block {
	struct iobus_retired retired;
	u32 nslots;		/* hashed: 2^(64 - shift) */
	u32 pad;
};

static u64 *cur_slots(uintptr_t cur)
{
	return (u64 *)(cur & ~(uintptr_t)IOFAST_TAG_MASK);
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

/* Slots in the block, the hashed ones and the pad (the empty block: its 8). */
static u64 cur_total(uintptr_t cur)
{
	if (cur_is_empty_block(cur))
		return IOFAST_MIN_SLOTS;
	return cur_block(cur)->nslots + (u64)cur_block(cur)->pad;
}

static size_t block_bytes(u64 total)
{
	return sizeof(struct iofast_block) + (IOFAST_ALIGN - 1) +
	       (size_t)total * sizeof(u64);
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
	f->ndm = 0;
	f->ep = ep;
}

u32 iofast_slots(const struct iofast *f)
{
	return cur_is_empty_block(f->cur) ? 0 : (u32)cur_nslots(f->cur);
}

u32 iofast_bytes(const struct iofast *f)
{
	return cur_is_empty_block(f->cur) ? 0 :
	       (u32)cur_block(f->cur)->retired.bytes;
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
	f->live = f->used = f->ndm = 0;
}

/* A zeroed block of nslots hashed slots (a power of two >= IOFAST_MIN_SLOTS)
 * and pad more, not published, as a cur value; 0 if the allocation failed. */
static uintptr_t block_alloc(struct iobus_epoch *ep, u32 nslots, u32 pad)
{
	u64 total = (u64)nslots + pad;
	size_t bytes = block_bytes(total);
	char *p = ep->mem.alloc(ep->mem.ctx, bytes);
	uintptr_t slots;
	struct iofast_block *b;

	if (!p)
		return 0;
	slots = ALIGN_UP((uintptr_t)p + sizeof(*b), (uintptr_t)IOFAST_ALIGN);
	b = (struct iofast_block *)slots - 1;
	b->retired.ptr = p;
	b->retired.bytes = bytes;
	b->nslots = nslots;
	b->pad = pad;
	memset((void *)slots, 0, (size_t)total * sizeof(u64));
	return slots | (64 - log2_u64(nslots));
}

/* Hashed slots for a rebuild holding live entries: at most a quarter full. */
static u32 rebuild_slots(u32 live)
{
	u32 n = IOFAST_MIN_SLOTS;

	while (n < (u64)live * IOFAST_REBUILD_LOAD)
		n <<= 1;
	return n;
}

/* The slot holding key in cur (want_free false; NULL if absent), or the
 * first free one (empty or tombstone) on its walk (want_free true; NULL if
 * that is the block's last slot, which must stay empty). */
static u64 *slot_find(uintptr_t cur, u64 key, bool want_free)
{
	u64 *slot = cur_slots(cur);
	u64 last = cur_total(cur) - 1;

	for (u64 i = (key * IOFAST_HASH_MUL) >> cur_shift(cur); i <= last; i++) {
		u64 e = slot[i];
		if (want_free ? !(e & IOFAST_VALID)
			      : (e & ~IOFAST_EVENT_MASK) == key)
			return want_free && i == last ? NULL : &slot[i];
		if (!e)
			return NULL;
	}
	return NULL;	/* not reached: the last slot is empty */
}

/* Allocates up->next for a rebuild to nslots hashed slots and pad more. */
static int prepare_rebuild(struct iofast_update *up, u32 nslots, u32 pad)
{
	up->next = block_alloc(up->f->ep, nslots, pad);
	up->overflow = false;
	return up->next ? 0 : -ENOMEM;
}

int iofast_prepare(struct iofast *f, u64 entry, bool insert,
		   struct iofast_update *up)
{
	u32 live = insert ? f->live + 1 : f->live - 1;
	u64 nslots = cur_nslots(f->cur);
	u64 key = entry & ~IOFAST_EVENT_MASK;
	u32 pad = IOFAST_PAD;

	ASSERT(entry & IOFAST_VALID);
	ASSERT(insert || f->live > 0);
	*up = (struct iofast_update){ .f = f, .entry = entry, .insert = insert };
	if (insert && !cur_is_empty_block(f->cur) &&
	    (u64)(f->used + 1) * 8 <= nslots * IOFAST_MAX_LOAD_8THS) {
		if (slot_find(f->cur, key, true))
			return 0;	/* room in place */
		/* The walk would take the last slot: same size, more pad. */
		return prepare_rebuild(up, (u32)nslots,
				       cur_block(f->cur)->pad * 2);
	}
	if (!insert && live > 0 &&
	    (nslots <= IOFAST_MIN_SLOTS ||
	     (u64)live * IOFAST_SHRINK_LOAD >= nslots))
		return 0;		/* a tombstone in place */
	if (live == 0) {
		up->next = empty_cur();	/* the last one out: no memory */
		return 0;
	}
	if (!cur_is_empty_block(f->cur) && rebuild_slots(live) == nslots)
		pad = cur_block(f->cur)->pad;	/* what this size needed */
	return prepare_rebuild(up, rebuild_slots(live), pad);
}

void iofast_fill(struct iofast_update *up, u64 entry)
{
	u64 *slot;

	ASSERT(up->next && !cur_is_empty_block(up->next));
	ASSERT(entry & IOFAST_VALID);
	if (up->overflow)
		return;
	slot = slot_find(up->next, entry & ~IOFAST_EVENT_MASK, true);
	if (!slot) {
		up->overflow = true;	/* iofast_refill, then fill again */
		return;
	}
	ASSERT(*slot == 0);
	*slot = entry;		/* not published yet: plain stores */
}

int iofast_refill(struct iofast_update *up)
{
	struct iofast_block *b = cur_block(up->next);
	u32 nslots = b->nslots, pad = b->pad * 2;

	/* A cluster never spills past the hashed slots by more than the
	 * entries it holds, so this ends by pad > live. */
	block_free(up->f->ep, up->next);
	return prepare_rebuild(up, nslots, pad);	/* next = 0 on failure */
}

/* cur's kind bits for a table of live entries, ndm of them datamatches. */
static uintptr_t kinds(u32 live, u32 ndm)
{
	return (live > ndm ? IOFAST_HAS_PLAIN : 0) | (ndm ? IOFAST_HAS_DM : 0);
}

void iofast_commit(struct iofast_update *up)
{
	struct iofast *f = up->f;
	u64 key = up->entry & ~IOFAST_EVENT_MASK;
	uintptr_t old = f->cur, tags;
	u64 *slot;

	ASSERT(!up->overflow);
	f->live = up->insert ? f->live + 1 : f->live - 1;
	if (up->entry & IOFAST_PIO_DM)
		f->ndm = up->insert ? f->ndm + 1 : f->ndm - 1;
	tags = kinds(f->live, f->ndm);
	if (up->next) {
		/* Release: the slots filled above are visible to a reader
		 * that loads cur (acquire) and finds this block. */
		__atomic_store_n(&f->cur, up->next | tags, __ATOMIC_RELEASE);
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
		/* One 64-bit store: a reader sees the whole entry or the
		 * free slot. Relaxed would do (the entry carries all a reader
		 * needs); release costs nothing on x86 and keeps the compiler
		 * from sinking the store. */
		__atomic_store_n(slot, up->entry, __ATOMIC_RELEASE);
	} else {
		slot = slot_find(f->cur, key, false);
		ASSERT(slot && *slot == up->entry);
		/* Never back to empty: a walk past this slot must go on. */
		__atomic_store_n(slot, IOFAST_TOMBSTONE, __ATOMIC_RELEASE);
	}
	/* A kind's bit comes after its first entry and goes after its last
	 * one's tombstone (release: the slot store above is ordered first). */
	if ((old & (IOFAST_HAS_PLAIN | IOFAST_HAS_DM)) != tags)
		__atomic_store_n(&f->cur,
				 (old & ~(uintptr_t)(IOFAST_HAS_PLAIN |
						     IOFAST_HAS_DM)) | tags,
				 __ATOMIC_RELEASE);
}
