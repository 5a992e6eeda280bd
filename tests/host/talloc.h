/*
 * tests/host/talloc.h - a counting allocator for the iobus tests: counts live
 * blocks (leaks), injects a failure at the Nth call (rollback tests), and can
 * recycle big blocks (the 65,536-registration capacity tests would otherwise
 * malloc gigabytes), counts the bytes handed out (what one update costs),
 * and checks that every free names the size its block was allocated with.
 * Shared by test_iobus.c and test_ioeventfd.c.
 */
#ifndef TESTS_HOST_TALLOC_H
#define TESTS_HOST_TALLOC_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- a counting allocator with fault injection and an optional pool ---- */

struct talloc {
	long live;		/* blocks handed out and not freed */
	long allocs;		/* alloc calls since the last arm */
	long bytes;		/* bytes handed out since the last arm */
	long fail_at;		/* fail the fail_at-th call (1-based); 0 never */
	long failed;		/* failures injected */
	long bad_frees;		/* frees whose size was not the alloc's */
	bool pool;		/* recycle big blocks (capacity tests) */
	void *cache[4];
	size_t cache_cap[4];
};

/* Every block carries a 16-byte header: its capacity (pool blocks) and the
 * size it was handed out with, which the free must repeat. */
#define POOL_HDR 16
#define HDR_CAP   0
#define HDR_SIZE  8
#define POOL_MIN (64 * 1024)	/* smaller blocks: plain malloc */

static inline void *talloc_hand_out(char *p, size_t bytes)
{
	memcpy(p + HDR_SIZE, &bytes, sizeof(bytes));
	return p + POOL_HDR;
}

static inline void *t_alloc(void *ctx, size_t bytes)
{
	struct talloc *a = ctx;

	a->allocs++;
	if (a->fail_at && a->allocs == a->fail_at) {
		a->failed++;
		return NULL;
	}
	a->live++;
	a->bytes += (long)bytes;
	if (!a->pool || bytes < POOL_MIN)
		return talloc_hand_out(malloc(bytes + POOL_HDR), bytes);
	for (int i = 0; i < 4; i++) {
		if (a->cache[i] && a->cache_cap[i] >= bytes) {
			char *p = a->cache[i];
			a->cache[i] = NULL;
			return talloc_hand_out(p, bytes);
		}
	}
	size_t cap = bytes + bytes / 4 + 4096;
	char *p = malloc(cap + POOL_HDR);
	memcpy(p + HDR_CAP, &cap, sizeof(cap));
	return talloc_hand_out(p, bytes);
}

static inline void t_free(void *ctx, void *ptr, size_t bytes)
{
	struct talloc *a = ctx;
	char *p = (char *)ptr - POOL_HDR;
	size_t cap, given;

	a->live--;
	memcpy(&given, p + HDR_SIZE, sizeof(given));
	if (given != bytes)
		a->bad_frees++;
	if (!a->pool || given < POOL_MIN) {
		free(p);
		return;
	}
	memcpy(&cap, p + HDR_CAP, sizeof(cap));
	/* Keep the biggest blocks: the arrays only grow in these tests. */
	int slot = 0;
	for (int i = 0; i < 4; i++) {
		if (!a->cache[i]) {
			slot = i;
			break;
		}
		if (a->cache_cap[i] < a->cache_cap[slot])
			slot = i;
	}
	if (a->cache[slot] && a->cache_cap[slot] >= cap) {
		free(p);
		return;
	}
	free(a->cache[slot]);
	a->cache[slot] = p;
	a->cache_cap[slot] = cap;
}

static inline void talloc_drain(struct talloc *a)
{
	for (int i = 0; i < 4; i++) {
		free(a->cache[i]);
		a->cache[i] = NULL;
	}
}

static inline void talloc_arm(struct talloc *a, long fail_at)
{
	a->allocs = 0;
	a->bytes = 0;
	a->fail_at = fail_at;
}

#endif
