/*
 * iobus/iobus.h - the guest's I/O space: three address buses per VM (port
 * I/O, MMIO, and the length-less "fast MMIO" bus), each a sorted sequence of
 * ranges that an exit handler searches to find the device behind an access;
 * the grace-period scheme that lets the buses change while a vCPU reads them;
 * and ioeventfd, KVM's "a guest write to this address signals this event"
 * (CONTRACTS.md section 3), with Linux's rules from virt/kvm/eventfd.c.
 *
 * Pure logic: memory comes from alloc/free callbacks, events leave through a
 * signal callback, so the module also builds and is tested on the host.
 *
 * Concurrency: one writer at a time (the caller holds the VM's registration
 * lock around every function marked "writer"), any number of readers (the
 * vCPUs, through iobus_write/iobus_read) that never block and never wait for
 * the writer. A bus is a top-level array of immutable chunks; a writer copies
 * the chunk it changes and the top-level array, and publishes the new
 * top-level array with one release store; readers load the pointer with
 * acquire once per access. A replaced array or chunk, or an unregistered
 * device's memory, is freed only after every online reader has reported a
 * quiescent state (iobus_reader_quiescent: "I hold nothing from the bus"),
 * which a vCPU does once per VM exit.
 */
#ifndef IOBUS_IOBUS_H
#define IOBUS_IOBUS_H

#include "lib/lib.h"

/* ---- memory callbacks --------------------------------------------------- */

/* Returns bytes of memory aligned for any type, or NULL. */
typedef void *(*iobus_alloc_fn)(void *ctx, size_t bytes);
/* Frees ptr, obtained from the alloc callback with the same bytes. */
typedef void (*iobus_free_fn)(void *ctx, void *ptr, size_t bytes);

struct iobus_mem {
	iobus_alloc_fn alloc;
	iobus_free_fn free;
	void *ctx;
};

/* ---- grace periods (iobus/iobus.c) -------------------------------------- */

/* Readers (vCPUs) per grace-period domain: one VM has one vCPU today. */
#define IOBUS_MAX_READERS  8

/* A block whose free waits for a grace period; lives inside the block. */
struct iobus_retired {
	struct iobus_retired *next;
	u64 epoch;		/* freeable once every online reader saw it */
	void *ptr;
	size_t bytes;
};

/*
 * One grace-period domain: the readers of a VM's buses and the memory retired
 * from them. epoch counts retirements; reader_epoch[i] is the epoch reader i
 * last reported quiescent at, or 0 while it is offline (epochs start at 1).
 */
struct iobus_epoch {
	struct iobus_mem mem;
	u64 epoch;
	u64 reader_epoch[IOBUS_MAX_READERS];
	struct iobus_retired *retired;	/* newest first */
};

/* Sets up an empty domain with no reader online; blocks are freed through
 * mem. Cannot fail. */
void iobus_epoch_init(struct iobus_epoch *ep, const struct iobus_mem *mem);

/* Frees every retired block. Caller: the writer, with no reader online. */
void iobus_epoch_destroy(struct iobus_epoch *ep);

/* True while any reader is online (teardown must wait for none). */
bool iobus_epoch_any_online(struct iobus_epoch *ep);

/* Reader id comes online: from now on it may call iobus_write/iobus_read on
 * the domain's buses, and must report quiescent states. Returns 0, or -EINVAL
 * if id >= IOBUS_MAX_READERS. Caller: reader id itself. */
int iobus_reader_online(struct iobus_epoch *ep, u32 id);

/* Reader id goes offline (it will make no lookups until it comes online
 * again), so it no longer holds back reclamation. Caller: reader id. */
void iobus_reader_offline(struct iobus_epoch *ep, u32 id);

/* Reader id holds no pointer obtained from any bus of this domain (nor any
 * device found through one): call at each VM exit. Wait-free: a load and a
 * store, inline because every exit pays it. Caller: reader id, online,
 * id < IOBUS_MAX_READERS (a constant at every call site).
 * Acquire on the epoch: having seen epoch E, the reader also sees every array
 * published before E was (so it can no longer find what was retired at E).
 * Release on the slot: its earlier lookups are done before the writer, which
 * reads the slot with acquire, frees anything. */
static inline void iobus_reader_quiescent(struct iobus_epoch *ep, u32 id)
{
	__atomic_store_n(&ep->reader_epoch[id],
			 __atomic_load_n(&ep->epoch, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
}

/* Hands ptr (bytes, from the domain's alloc callback, with node inside it)
 * to the domain, to be freed once every reader online now has reported a
 * quiescent state. Caller: writer, after unpublishing every path to ptr. */
void iobus_retire(struct iobus_epoch *ep, struct iobus_retired *node,
		  void *ptr, size_t bytes);

/* Frees the retired blocks that no reader can still hold. Called by every
 * writer operation; call it also when idle to return memory. Caller: writer. */
void iobus_reclaim(struct iobus_epoch *ep);

/* ---- the bus (iobus/iobus.c) -------------------------------------------- */

enum iobus_index {
	IOBUS_PIO,		/* I/O ports: OUT/IN exits */
	IOBUS_MMIO,		/* guest-physical addresses, decoded accesses */
	IOBUS_FAST_MMIO,	/* length-0 MMIO ioeventfds, probed by address
				 * alone before any instruction decoding */
	IOBUS_NR
};

enum iobus_lookup {
	IOBUS_LOOKUP_BINARY,	/* O(log n): the normal mode */
	IOBUS_LOOKUP_LINEAR,	/* scan every range: the benchmark's baseline */
};

/* Ioeventfds per VM (CONTRACTS.md 3: exactly 65,536, one more is -ENOSPC). */
#define IOEVENTFD_MAX        65536u
/* Ranges the hypervisor's own emulated devices may place on one bus. */
#define IOBUS_DEVICE_SLOTS   16u
/* A length-0 MMIO ioeventfd takes a range on both MMIO and FAST_MMIO, any
 * other ioeventfd one range on one bus, so a bus never needs more than every
 * ioeventfd of the VM plus the emulated devices. */
#define IOBUS_MAX_RANGES     (IOEVENTFD_MAX + IOBUS_DEVICE_SLOTS)

struct iobus_device;

/* Device callbacks. Return 0 if the access was this device's and is done,
 * -EOPNOTSUPP (or any non-zero) to pass it on to the next range in address
 * order. addr is the access's, len its size in bytes (0 on IOBUS_FAST_MMIO,
 * where val is NULL: the size is not known without decoding). val holds len
 * bytes, little-endian. Called by a reader, concurrently with the writer. */
typedef int (*iobus_write_fn)(struct iobus_device *dev, u64 addr, u32 len,
			      const void *val);
typedef int (*iobus_read_fn)(struct iobus_device *dev, u64 addr, u32 len,
			     void *val);

struct iobus_device_ops {
	iobus_read_fn read;	/* NULL: never answers reads */
	iobus_write_fn write;	/* NULL: never answers writes */
};

/* Embedded in the device's own struct (container_of). */
struct iobus_device {
	const struct iobus_device_ops *ops;
};

/*
 * One registration. A range of length len > 0 covers [addr, addr + len); a
 * length-0 range matches accesses starting exactly at addr, of any size.
 * max_last is the largest last byte of this and every earlier range of its
 * chunk, which makes "the first range that can contain addr" a binary search
 * even when ranges overlap.
 */
struct iobus_range {
	u64 addr;
	u64 max_last;
	struct iobus_device *dev;
	u32 len;
	u32 reserved;
};

/*
 * Ranges per chunk. A registration copies one chunk (32 bytes a range) and
 * the top-level array (16 bytes a chunk), so filling a bus moves about
 * 32 * IOBUS_CHUNK / 2 + 16 * n / IOBUS_CHUNK / 2 bytes per range: least
 * near sqrt(n / 2) = 181 for a full VM, and flat from 128 to 256. Measured
 * on the 65,536-doorbell fill: Bochs guest cycles per registration 9,635
 * (128), 7,922 (254), 7,990 (510), 10,231 (1,022); host tests with
 * sanitizers 2.0 s (128), 2.0 s (254), 2.8 s (510). 254 rather than 256
 * because a full chunk (40-byte header + 254 * 32) then fits two 4 KiB
 * pages, which the kernel's allocator hands out whole above 2 KiB. Lookups
 * stay two binary searches of about 8 steps each.
 */
#define IOBUS_CHUNK  254u

/* Up to IOBUS_CHUNK consecutive ranges of a bus (count >= 1), in bus order.
 * Immutable once published; successive top-level arrays share it until an
 * update replaces it. */
struct iobus_chunk {
	struct iobus_retired retired;
	u32 count;
	u32 reserved;
	struct iobus_range ranges[];
};

/* A chunk's entry in the top-level array: max_last is the largest last byte
 * of every range in this and every earlier chunk. */
struct iobus_chunk_ref {
	u64 max_last;
	struct iobus_chunk *chunk;
};

/* What a reader sees: count ranges sorted by (addr, len), equal keys in
 * registration order, held by nchunks >= 1 chunks. With one chunk, the chunk
 * sits in this block right after chunks[0], so a small bus is one block.
 * Immutable once published. */
struct iobus_array {
	struct iobus_retired retired;
	u32 count;
	u32 nchunks;
	struct iobus_chunk_ref chunks[];
};

struct iobus {
	struct iobus_array *cur;	/* published; NULL = no ranges */
	struct iobus_epoch *ep;
	u32 lookup;			/* enum iobus_lookup */
};

/* Sets up an empty bus whose memory comes from, and is retired to, ep. */
void iobus_init(struct iobus *bus, struct iobus_epoch *ep);

/* Frees the published array and its chunks (not the devices). Caller:
 * writer, with no reader online. */
void iobus_destroy(struct iobus *bus);

/* Switches lookups to mode (enum iobus_lookup); both modes offer an access to
 * the same devices in the same order. Returns 0 or -EINVAL. Any caller. */
int iobus_set_lookup(struct iobus *bus, u32 mode);

/* Number of ranges now published. Caller: writer or an online reader. */
u32 iobus_count(const struct iobus *bus);

/* Adds the range [addr, addr + len) (len 0: the address alone) for dev, after
 * any range with the same (addr, len). Returns 0, -EINVAL (dev without ops,
 * range past the end of the address space), -EEXIST (dev already has this
 * exact range), -ENOSPC (IOBUS_MAX_RANGES reached) or -ENOMEM. Caller: writer.
 * Copies one or two chunks and the top-level array: O(IOBUS_CHUNK + n /
 * IOBUS_CHUNK). */
int iobus_register(struct iobus *bus, u64 addr, u32 len,
		   struct iobus_device *dev);

/* Removes dev's range (addr, len). Returns 0, -ENOENT or -ENOMEM (nothing
 * changed). Readers may still call dev until the next grace period: free it
 * with iobus_retire. Caller: writer. */
int iobus_unregister(struct iobus *bus, u64 addr, u32 len,
		     struct iobus_device *dev);

/* Offers a write to the devices whose range covers [addr, addr + len) (len 0:
 * ranges covering addr; length-0 ranges: starting at addr), in (addr, len)
 * order, until one returns 0. Returns 0 if a device took it, -EOPNOTSUPP if
 * none did. Caller: an online reader (or the writer). */
int iobus_write(struct iobus *bus, u64 addr, u32 len, const void *val);

/* The same for a read into val (len bytes). */
int iobus_read(struct iobus *bus, u64 addr, u32 len, void *val);

/* Calls fn for each range overlapping the bytes [first, last] (a length-0
 * range occupies its address), in bus order, until fn returns true. Returns
 * true if fn stopped the walk. Caller: writer or an online reader. */
typedef bool (*iobus_visit_fn)(void *arg, const struct iobus_range *r);
bool iobus_for_each_overlap(struct iobus *bus, u64 first, u64 last,
			    iobus_visit_fn fn, void *arg);

/* Two-phase updates, to change several buses all or nothing: prepare builds
 * (and allocates) the next top-level array and its new chunks without
 * publishing them; commit publishes the array and retires the old array and
 * the chunks it no longer uses, and cannot fail; abort frees what prepare
 * allocated. A bus must have at most one prepared update at a time, and no
 * other change between prepare and commit. Same errors as
 * register/unregister. */
#define IOBUS_UPDATE_CHUNKS  2	/* chunks one update makes, or drops */
struct iobus_update {
	struct iobus *bus;
	struct iobus_array *next;	/* NULL when the bus becomes empty */
	/* next's chunks outside its own block that this update made (abort
	 * frees them), and the old chunks next no longer holds (commit
	 * retires them); NULL-padded. */
	struct iobus_chunk *made[IOBUS_UPDATE_CHUNKS];
	struct iobus_chunk *dropped[IOBUS_UPDATE_CHUNKS];
};
int iobus_prepare_register(struct iobus *bus, u64 addr, u32 len,
			   struct iobus_device *dev, struct iobus_update *up);
int iobus_prepare_unregister(struct iobus *bus, u64 addr, u32 len,
			     struct iobus_device *dev, struct iobus_update *up);
void iobus_commit(struct iobus_update *up);
void iobus_abort(struct iobus_update *up);

/* ---- ioeventfd (iobus/ioeventfd.c) -------------------------------------- */

/* The hypercall's argument (CONTRACTS.md 3): Linux's struct kvm_ioeventfd
 * with the eventfd replaced by an event id. */
struct doorbell_ioeventfd {
	u64 datamatch;
	u64 addr;
	u32 len;
	s32 event;
	u32 flags;
	u8  pad[36];
};
_Static_assert(sizeof(struct doorbell_ioeventfd) == 64, "ioeventfd ABI size");
_Static_assert(offsetof(struct doorbell_ioeventfd, datamatch) == 0, "ABI");
_Static_assert(offsetof(struct doorbell_ioeventfd, addr) == 8, "ABI");
_Static_assert(offsetof(struct doorbell_ioeventfd, len) == 16, "ABI");
_Static_assert(offsetof(struct doorbell_ioeventfd, event) == 20, "ABI");
_Static_assert(offsetof(struct doorbell_ioeventfd, flags) == 24, "ABI");
_Static_assert(offsetof(struct doorbell_ioeventfd, pad) == 28, "ABI");

#define DOORBELL_IOEVENTFD_FLAG_DATAMATCH  BIT(0)  /* signal only on datamatch */
#define DOORBELL_IOEVENTFD_FLAG_PIO        BIT(1)  /* port, not MMIO address */
#define DOORBELL_IOEVENTFD_FLAG_DEASSIGN   BIT(2)  /* remove, not add */
#define DOORBELL_IOEVENTFD_VALID_FLAGS     (DOORBELL_IOEVENTFD_FLAG_DATAMATCH | \
					    DOORBELL_IOEVENTFD_FLAG_PIO |       \
					    DOORBELL_IOEVENTFD_FLAG_DEASSIGN)

#define IOEVENTFD_MAX_EVENTS    1024	/* event ids 0..1023 (CONTRACTS.md 3) */
/* The hypervisor's own doorbells (ioeventfd_hv_ioctl) signal ids
 * IOEVENTFD_MAX_EVENTS .. + IOEVENTFD_HV_EVENTS - 1 (service/: EVENTS_HV). */
#define IOEVENTFD_HV_EVENTS     64
#define IOEVENTFD_PIO_PORTS     0x10000ull	/* 16-bit I/O address space */
#define IOEVENTFD_MAX_RESERVED  16	/* port ranges kept for devices */
#define IOEVENTFD_DEFAULT_WINDOW_BASE  0xd0000000ull	/* CONTRACTS.md 3 */
#define IOEVENTFD_DEFAULT_WINDOW_SIZE  (256 * MiB)

/* A hit: the guest wrote to event's doorbell. Called by a reader (vCPU). */
typedef void (*ioeventfd_signal_fn)(void *ctx, s32 event);
/* The first MMIO doorbell arrived on, or the last one left, the 4 KiB page
 * at gpa_page: mark it (or unmark it) so guest writes there exit (an EPT
 * misconfiguration) instead of reaching memory. Called by the writer. */
typedef void (*ioeventfd_page_fn)(void *ctx, u64 gpa_page);

struct ioeventfd_hooks {
	ioeventfd_signal_fn signal;
	ioeventfd_page_fn page_mark;	/* optional */
	ioeventfd_page_fn page_unmark;	/* optional */
	void *ctx;
};

struct ioeventfd_port_range {
	u16 first, last;		/* inclusive */
};

struct ioeventfd;			/* one assignment (iobus/ioeventfd.c) */

/* ---- the doorbell index (iobus/iofast.c) -------------------------------- */

/*
 * Two constant-time tables in front of the buses, for the doorbell exits:
 * the fast-MMIO table (length-0 MMIO ioeventfds, keyed by the exact
 * guest-physical address, probed with the address the EPT-misconfiguration
 * exit reports) and the PIO table (ioeventfds of size 1, 2 or 4 on a port,
 * wildcard or datamatch, probed with the port, size and value an OUT exit
 * reports). They are an index: every doorbell stays a device on its bus, and
 * an access the tables do not answer goes to the bus as before.
 *
 * Each table is an open-addressing hash table with linear probing over a
 * power-of-two number of hashed 64-bit slots, followed by a few more where
 * walks that start near the end go on instead of wrapping (so a lookup needs
 * no mask), the last of which is always empty. One slot is one whole entry,
 * so a reader sees an entry complete or not at all:
 *
 *   bits 0-10   event id (the guest's 1024, IOEVENTFD_MAX_EVENTS, then the
 *               hypervisor's own, IOEVENTFD_HV_EVENTS)
 *   bit  11     IOFAST_VALID (an entry; clear in an empty slot (0) and in a
 *               tombstone (IOFAST_TOMBSTONE))
 *   bits 12-63  key: fast MMIO: guest-physical address bits 0-51 in bits
 *               12-63; PIO: the size (1, 2 or 4) in bits 12-14,
 *               IOFAST_PIO_DM in bit 15 (set for a datamatch), the port
 *               in bits 16-31, and the datamatch's size bytes left-justified
 *               in bits 32-63 (so the lookup's shift drops the value's bytes
 *               above the access size)
 *
 * A lookup hashes the key (the slot word with the event bits clear)
 * multiplicatively, (key * IOFAST_HASH_MUL) >> shift, and walks from there
 * until it finds the key (a hit) or an empty slot (a miss). The writer keeps
 * at most 3/8 of the hashed slots non-empty (entries plus tombstones), and
 * after a rebuild at most a quarter hold entries; rebuilds place the oldest
 * doorbells first, so a doorbell keeps its home slot however many come
 * after it.
 *
 * cur, the published block: the slot array's address (256-byte aligned),
 * the hash shift (64 - log2 hashed slots) in bits 0-5 (x86 shifts take the
 * count modulo 64, so the lookup shifts by cur itself), and in bits 6-7
 * which kinds of entries the table holds (IOFAST_HAS_PLAIN: fast-MMIO
 * entries or PIO wildcards; IOFAST_HAS_DM: PIO datamatches), so a PIO lookup
 * skips the probe of a kind the VM does not use.
 *
 * Concurrency (the buses' rule: one writer, lock-free readers):
 *  - A rebuilt block is filled with plain stores and published with a
 *    release store of cur; a reader loads cur once per lookup with acquire,
 *    so it sees the filled slots. The replaced block is retired to the
 *    grace-period domain and freed only after every online reader reported
 *    a quiescent state (a vCPU: at its next VM exit).
 *  - In place, the writer only ever turns an empty slot or a tombstone into
 *    an entry (insert) or an entry into a tombstone (remove), each with one
 *    atomic 64-bit store; it never empties a slot or moves an entry. So a
 *    reader walking to a key that is present the whole time cannot stop
 *    early (every slot before it has been non-empty since it was inserted),
 *    and an entry it reads is one that was published.
 *  - The kind bits: the first entry of a kind is stored before cur is
 *    republished (release) with its bit set, and the bit is cleared after
 *    the last one's tombstone; a reader that sees a bit (acquire) sees the
 *    entries, and one that does not is at worst early for an insert or late
 *    for a remove that races with it, as with any lookup during an ioctl.
 *  - Keys are unique in a table (KVM's collision rules: a length-0 doorbell
 *    owns its address; two PIO doorbells of one size on one port are both
 *    datamatch with different values), so a hit is the only match.
 *  - An empty table points at a shared, zero-filled static block: a lookup
 *    never tests for NULL, and an empty VM allocates nothing.
 */
#define IOFAST_EVENT_MASK   0x7ffull
#define IOFAST_VALID        BIT(11)
#define IOFAST_TOMBSTONE    1ull	/* not VALID, not 0 */
#define IOFAST_PIO_DM       BIT(15)	/* above the size (at most 4) */
#define IOFAST_KEY_SHIFT    12
#define IOFAST_GPA_BITS     (64 - IOFAST_KEY_SHIFT)	/* 52: MAXPHYADDR's limit */
#define IOFAST_PIO_PORT_SHIFT  16
#define IOFAST_SHIFT_MASK   63ull	/* cur: the hash shift */
#define IOFAST_HAS_PLAIN    BIT(6)	/* cur: entries without IOFAST_PIO_DM */
#define IOFAST_HAS_DM       BIT(7)	/* cur: entries with IOFAST_PIO_DM */
#define IOFAST_TAG_MASK     0xffull	/* cur: shift and kinds */
#define IOFAST_ALIGN        256		/* slot arrays: leaves cur 8 tag bits */
/* The hash multiplier: odd, and chosen among 300 random ones for the fewest
 * probes on doorbells at power-of-two and other strides (1 B to 1 MiB, 64 to
 * 65,536 of them), PIO ports x values, and random keys, at load 1/4 and 1/2;
 * checked on a second set of strides: worst mean hit + miss 4.0 slots, where
 * 2^64/phi (Fibonacci hashing) had 14 (the key's low 12 bits are constant, so
 * what counts is the multiplier shifted left 12 and more, which for phi
 * lands near simple fractions). */
#define IOFAST_HASH_MUL     0x53436b24182e9e17ull
#define IOFAST_MIN_SLOTS    8u	/* one cache line */

_Static_assert(IOFAST_EVENT_MASK + 1 >= IOEVENTFD_MAX_EVENTS + IOEVENTFD_HV_EVENTS,
	       "every event id fits the event bits");
_Static_assert(IOFAST_VALID > IOFAST_EVENT_MASK, "VALID above the event bits");

/* One table. cur is read by vCPUs; the rest is the writer's. */
struct iofast {
	uintptr_t cur;		/* slot array | kinds | hash shift */
	u32 live;		/* entries */
	u32 used;		/* entries + tombstones: at most 3/8 of slots */
	u32 ndm;		/* entries with IOFAST_PIO_DM */
	struct iobus_epoch *ep;	/* memory and grace periods */
};

/* A change prepared on one table (like iobus_update): insert or remove
 * entry; when next is non-zero the change is a rebuild into the (unpublished)
 * block next, which the caller fills with iofast_fill before the commit. */
struct iofast_update {
	struct iofast *f;
	uintptr_t next;		/* 0: in place */
	u64 entry;
	bool insert;
	bool overflow;		/* a fill found no room: iofast_refill */
};

/* The probe every lookup shares: the event id of the entry whose key is key
 * in the block cur, or -1. key has IOFAST_VALID set and no event bits. */
static inline s32 iofast_probe(uintptr_t cur, u64 key)
{
	const u64 *slot = (const u64 *)(cur & ~(uintptr_t)IOFAST_TAG_MASK);
	u64 i = (key * IOFAST_HASH_MUL) >> (cur & IOFAST_SHIFT_MASK);

	for (;; i++) {
		/* Relaxed: a slot is a whole entry, nothing else hangs on it;
		 * the acquire on cur ordered the block's contents. */
		u64 e = __atomic_load_n(&slot[i], __ATOMIC_RELAXED);
		if (likely((e & ~IOFAST_EVENT_MASK) == key))
			return (s32)(e & IOFAST_EVENT_MASK);
		if (likely(!e))
			return -1;
	}
}

static inline u64 iofast_mmio_key(u64 gpa)
{
	return gpa << IOFAST_KEY_SHIFT | IOFAST_VALID;
}

/* size: 1, 2 or 4. */
static inline u64 iofast_pio_key(u16 port, u32 size)
{
	return (u64)port << IOFAST_PIO_PORT_SHIFT |
	       (u64)size << IOFAST_KEY_SHIFT | IOFAST_VALID;
}

/* The value's low size bytes at the top of the key: a shift by 64 - 8 *
 * size (56, 48, 32), which x86 takes modulo 64, so (0 - 8 * size) & 63 is
 * one NEG. */
static inline u64 iofast_pio_dm_key(u64 wildcard_key, u32 size, u64 val)
{
	return wildcard_key | IOFAST_PIO_DM | val << ((0u - 8 * size) & 63);
}

/* Sets up an empty table (no memory) in domain ep. */
void iofast_init(struct iofast *f, struct iobus_epoch *ep);
/* Frees the published block. Caller: writer, with no reader online. */
void iofast_destroy(struct iofast *f);
/* Prepares inserting (insert) or removing entry (with its event bits; a
 * removed entry must be present, an inserted key absent). Allocates a new
 * block when the table must grow, shrink or shed tombstones; the caller then
 * fills it with every entry that stays (oldest first: the oldest get their
 * home slots) and, for an insert, entry itself. Returns 0 or -ENOMEM
 * (nothing changed). Caller: writer. */
int iofast_prepare(struct iofast *f, u64 entry, bool insert,
		   struct iofast_update *up);
/* Adds entry to up's new block (only while up->next is non-zero). If a
 * cluster reached the block's end, up->overflow is set: call iofast_refill
 * and fill again from the start. */
void iofast_fill(struct iofast_update *up, u64 entry);
/* Replaces up's new block by an empty one with twice the padding. Returns 0
 * or -ENOMEM (the table unchanged, nothing left allocated). */
int iofast_refill(struct iofast_update *up);
/* Publishes the change; cannot fail. The prepare is an ioctl's last step
 * that can fail, so no abort is needed: a failed prepare holds nothing. */
void iofast_commit(struct iofast_update *up);
/* Hashed slots, and bytes, of the published block (0 when empty). */
u32 iofast_slots(const struct iofast *f);
u32 iofast_bytes(const struct iofast *f);

/* A VM's I/O space: its buses, its ioeventfds and the policy for them. The
 * emulated devices register on buses[] directly. */
struct ioeventfd_table {
	/* The doorbell exits' index, first so that the two tables every
	 * lookup starts with share the struct's first cache line. The PIO
	 * datamatch doorbells have a table of their own, so that however many
	 * there are, they never take a wildcard's slot: a wildcard is probed
	 * first by every OUT. */
	struct iofast fast_mmio;	/* length-0 MMIO doorbells by address */
	struct iofast pio;		/* PIO wildcard doorbells of size 1, 2, 4 */
	struct iofast pio_dm;		/* PIO datamatch doorbells of size 1, 2, 4 */
	struct iobus_epoch ep;
	struct iobus buses[IOBUS_NR];
	struct ioeventfd *list;		/* every ioeventfd, newest first */
	/* The doorbells each index table holds ([0] fast MMIO, [1] PIO
	 * wildcards, [2] PIO datamatches), oldest to newest: what a rebuild
	 * refills, in that order, without walking the doorbells of other
	 * kinds. */
	struct ioeventfd *index_oldest[3], *index_newest[3];
	u32 count;
	u32 limit;			/* IOEVENTFD_MAX; -ENOSPC beyond */
	u64 window_base, window_size;	/* where MMIO doorbells may lie */
	/* The first byte after guest RAM (0: none set). A length-0 doorbell
	 * exactly there stays off the fast-MMIO table: a store that starts in
	 * RAM and runs onto its page exits with its address, and only the
	 * full path writes the RAM half too. */
	u64 ram_end;
	struct ioeventfd_port_range reserved[IOEVENTFD_MAX_RESERVED];
	u32 reserved_count;
	struct ioeventfd_hooks hooks;
};

/*
 * The doorbell exits' lookups (the hot path: inline, no call, no division).
 * Each returns the event id of the ioeventfd the write hits, or -1 when no
 * ioeventfd in the table does: then the exit goes on to the generic path
 * (decoding, the buses) as before, which finds any doorbell the tables do
 * not index. A table hit is exactly the bus's hit (KVM's ioeventfd_in_range).
 * Caller: an online reader of t->ep (a vCPU between two quiescent states);
 * the answer is the table's state at some instant during the call.
 *
 * Cost (gcc -O2 with the kernel's flags; valgrind --tool=callgrind on a
 * host harness calling them out of line, call and ret included; the same
 * with 1 and with 65,536 doorbells registered, the measured one first):
 *   fast MMIO: hit 18, miss 21 instructions;
 *   PIO, wildcard-only VM: hit 25, miss 30; datamatch-only VM: hit 32,
 *   miss 35; a VM with both kinds probes the wildcard first (+ ~12 for a
 *   datamatch hit);
 *   each slot a walk goes past its home: +8. Inlined in the exit handlers
 *   (vmx/run.c) the fast-MMIO hit is 17 instructions after the VMREAD.
 * One load of t (cur), one slot line, no call, no division.
 */

/* A write of any size at guest-physical address gpa (the EPT-misconfiguration
 * exit's GUEST_PHYSICAL_ADDRESS): a length-0 MMIO doorbell at exactly gpa.
 * Only a write signals: the caller knows the direction. gpa must be below
 * 2^52 (the key keeps bits 0-51): an exit reports no more, since
 * MAXPHYADDR is at most 52 (SDM Vol. 3A, "Physical Address Width"). */
static inline s32 ioeventfd_fast_mmio_find(const struct ioeventfd_table *t,
					   u64 gpa)
{
	uintptr_t cur = __atomic_load_n(&t->fast_mmio.cur, __ATOMIC_ACQUIRE);

	return iofast_probe(cur, iofast_mmio_key(gpa));
}

/* An OUT of size bytes (1, 2 or 4, as the I/O exit qualification gives:
 * no other size may be passed) of val (its low size bytes count) to port:
 * the wildcard doorbell of that port and size, else the one whose datamatch
 * is the value. At most one exists (CONTRACTS.md 3: a wildcard collides with
 * every doorbell of its port and size). */
static inline s32 ioeventfd_pio_find(const struct ioeventfd_table *t,
				     u16 port, u32 size, u32 val)
{
	uintptr_t cur = __atomic_load_n(&t->pio.cur, __ATOMIC_ACQUIRE);
	u64 key = iofast_pio_key(port, size);

	/* Wildcards first, and laid out as the straight path: the common
	 * doorbell (a wildcard hit) takes no jump here. */
	if (likely(cur & IOFAST_HAS_PLAIN)) {
		s32 ev = iofast_probe(cur, key);
		if (likely(ev >= 0))
			return ev;
	}
	cur = __atomic_load_n(&t->pio_dm.cur, __ATOMIC_ACQUIRE);
	if (!(cur & IOFAST_HAS_DM))
		return -1;
	return iofast_probe(cur, iofast_pio_dm_key(key, size, val));
}

/* Sets up a VM's I/O space: empty buses, no ioeventfd, the default doorbell
 * window, and the emulated devices' ports (CONTRACTS.md 2) reserved. */
void ioeventfd_table_init(struct ioeventfd_table *t, const struct iobus_mem *mem,
			  const struct ioeventfd_hooks *hooks);

/* Frees every ioeventfd, array and retired block (devices the caller
 * registered are its own). Caller: writer, with no reader online. */
void ioeventfd_table_destroy(struct ioeventfd_table *t);

/* Sets the MMIO doorbell window to [base, base + size). Existing doorbells
 * stay. Returns 0, or -EINVAL for size 0 or a window past 2^64. Writer. */
int ioeventfd_set_window(struct ioeventfd_table *t, u64 base, u64 size);
/* Tells t where guest RAM ends (t->ram_end). Before any doorbell. Writer. */
void ioeventfd_set_ram_end(struct ioeventfd_table *t, u64 ram_end);

/* Forbids PIO doorbells on ports [first, first + count) (an emulated device
 * answers there). Returns 0, -EINVAL (count 0, past port 0xffff) or -ENOSPC
 * (IOEVENTFD_MAX_RESERVED ranges already). Writer. */
int ioeventfd_reserve_ports(struct ioeventfd_table *t, u32 first, u32 count);
/* Undoes ioeventfd_reserve_ports(t, first, count) (an emulated device's
 * ports moved). Returns 0, or -ENOENT if no such range is reserved. Writer. */
int ioeventfd_unreserve_ports(struct ioeventfd_table *t, u32 first, u32 count);

/*
 * The IOEVENTFD hypercall: assigns, or with FLAG_DEASSIGN removes, a doorbell.
 * Returns 0 or, checked in this order:
 *   assign:   -EINVAL  unknown flag, len not 0/1/2/4/8, addr + len wraps,
 *                      len 0 with PIO or with DATAMATCH;
 *             -EBADF   event not in 0..1023 (KVM: a bad eventfd);
 *             -EPERM   MMIO: [addr, addr + max(len, 1)) not inside the
 *                      window; PIO: past port 0xffff, or on a reserved port;
 *             -EEXIST  same bus and addr as an existing doorbell, and either
 *                      has len 0, or same len and (either is a wildcard, or
 *                      equal datamatch);
 *             -ENOSPC  the VM already holds t->limit doorbells;
 *             -ENOMEM  (nothing changed).
 *   deassign: -EINVAL  unknown flag; -EBADF bad event;
 *             -ENOENT  no doorbell with this bus, event, addr, len,
 *                      wildcard-ness and (if not wildcard) datamatch;
 *             -ENOMEM  (nothing changed).
 * A length-0 MMIO doorbell is on IOBUS_MMIO and IOBUS_FAST_MMIO, added and
 * removed on both or neither. Caller: writer.
 */
int ioeventfd_ioctl(struct ioeventfd_table *t,
		    const struct doorbell_ioeventfd *args);

/* The hypervisor's own doorbells (a device model's, like pci-testdev's):
 * ioeventfd_ioctl's rules, except that the event must be one of the
 * hypervisor's ids, IOEVENTFD_MAX_EVENTS .. + IOEVENTFD_HV_EVENTS - 1
 * (-EBADF otherwise; and the guest's ioctl refuses those ids), there is no
 * placement policy (the device puts them in its own BARs, outside the
 * window), and they do not count toward t->limit: the guest still holds
 * exactly IOEVENTFD_MAX of its own. A guest deassign never matches one (its
 * event ids differ). Caller: writer. */
int ioeventfd_hv_ioctl(struct ioeventfd_table *t,
		       const struct doorbell_ioeventfd *args);

/* True if an MMIO doorbell has a byte on the 4 KiB page holding gpa (so
 * guest writes there must exit). Caller: writer or an online reader. */
bool ioeventfd_page_has_mmio_doorbell(struct ioeventfd_table *t, u64 gpa);

/* Parses "pio:ADDR:LEN:EVENT[:DATAMATCH]" or "mmio:ADDR:LEN:EVENT[:DATAMATCH]"
 * (numbers decimal or 0x-hex) into out (an assign; DATAMATCH given sets
 * FLAG_DATAMATCH). Returns 0 or -EINVAL (malformed, or LEN/EVENT out of
 * their field's range); the ioctl checks the rest. */
int ioeventfd_parse_spec(const char *spec, struct doorbell_ioeventfd *out);

#endif /* IOBUS_IOBUS_H */
