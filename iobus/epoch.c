/*
 * iobus/epoch.c - grace periods for the I/O buses: quiescent-state based
 * reclamation, like Linux's RCU "QSBR" flavour. A writer that replaces a bus
 * array or chunk retires the old block with the current epoch; each reader
 * (a vCPU) reports a quiescent point at every VM exit, when it holds no bus
 * memory; a block is freed once every online reader has reported since it was
 * retired.
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

bool iobus_epoch_any_online(struct iobus_epoch *ep)
{
	for (u32 i = 0; i < IOBUS_MAX_READERS; i++)
		if (__atomic_load_n(&ep->reader_epoch[i], __ATOMIC_ACQUIRE) !=
		    EPOCH_OFFLINE)
			return true;
	return false;
}

void iobus_epoch_destroy(struct iobus_epoch *ep)
{
	ASSERT(!iobus_epoch_any_online(ep));
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
