/*
 * vmx/wprot.c - the fast-MMIO path's remembered doorbell store, kept true by
 * write protection rather than by checking.
 *
 * With fastmmio_len=decode the length of a doorbell store comes from its
 * bytes at CS:RIP, because the SDM leaves VM_EXIT_INSTRUCTION_LEN undefined
 * for an EPT misconfiguration. The verified path (vmx/run.c:
 * fast_mmio_verify) reads those bytes, and in a 64-bit guest the four
 * page-table entries that translate RIP, on every doorbell, and compares
 * them with the last ones: correct whatever the guest does, but 50-odd
 * instructions more than PIO.
 *
 * The store the verified path has just completed is therefore remembered in
 * struct insn_cache (vmx/vmx.h) by what the hot path can read from the VMCS
 * alone - RIP, CS's access rights and base, CR3 - and every guest page the
 * verification read is made read-and-execute-only in the EPT. While the
 * entry holds, no byte of those pages has changed, because nothing can
 * write them without this file hearing of it:
 *
 *   - the guest (a store, the CPU setting an accessed or dirty bit in a
 *     table entry, or pushing an event's frame) takes an EPT violation,
 *     which vmx/mmio.c hands to insn_cache_write_fault() before anything
 *     else: the page is writable again, the entry dropped if it needed the
 *     page, an event being delivered is delivered again, and the write is
 *     retried;
 *   - doorbell itself writes guest RAM only through vm_phys_access() and
 *     the descriptors' accessed and busy bits (vmx/segload.c), which call
 *     insn_cache_ram_written(): the entry is dropped if it read the page;
 *   - a change of paging mode (MOV to CR0, WRMSR EFER, and MOV to CR4
 *     changing PSE or PAE: all exit) drops the entry (vcpu_update_long_mode,
 *     vmx/msr.c; guest_write_cr4, vmx/cr.c); CR3, CS and RIP are compared.
 *
 * Each VM has one vCPU and no device writes its RAM behind its back, so no
 * other writer exists. Shadow paging keeps its shadows true the same way
 * (KVM write-protects the guest page tables it shadows).
 *
 * Pages stay protected after their entry is gone, until the guest writes
 * them or a fill needs the slot (WPROT_PAGES), so a store filled again over
 * the same pages costs no EPT change. Only taking protection away from a
 * page needs no INVEPT: the translation the CPU may still cache is read-
 * only, a write through it is an EPT violation, and an EPT violation
 * invalidates the cached translations of its address (SDM Vol. 3C,
 * "Operations that Invalidate Cached Mappings"), so it is retried on the
 * new, writable one. insn_cache_write_fault() recognises that stale case
 * (and runs INVEPT then, to be sure: rare).
 * Granting protection needs INVEPT (single-context) before the next entry.
 *
 * A guest that writes those pages often (code and data on one page, say)
 * would pay an exit and a fill per write. When one store's entry has been
 * dropped WPROT_STRIKES times in a row, each time fewer than
 * WPROT_THRASH_HITS doorbells after it was filled, a back-off doubles (to
 * at most WPROT_BACKOFF_MAX): that store is filled again only after that
 * many verified doorbells from it. The verified path serves meanwhile,
 * correct as ever. A loss after many doorbells, or a fill for another
 * store, ends the back-off.
 *
 * SDM Vol. 3C, "EPT Violations", "Invalidation of TLBs and Paging-Structure
 * Caches", "Information for VM Exits During Event Delivery".
 */
#include "vmx/hotpath.h"
#include "ept/ept.h"

#define WPROT_THRASH_HITS  64u
#define WPROT_STRIKES      4u
#define WPROT_BACKOFF_MAX  4096u
#define RAM_ACCESS         (EPT_READ | EPT_WRITE | EPT_EXEC)	/* vmx/vm.c */
#define PROTECTED_ACCESS   (EPT_READ | EPT_EXEC)

static bool page_in(const u64 *pages, u32 n, u64 page)
{
	for (u32 i = 0; i < n; i++)
		if (pages[i] == page)
			return true;
	return false;
}

/* Makes prot[i] writable again and forgets it; the entry too, if it needed
 * the page. True if the entry was dropped. No INVEPT: see above. */
static bool unprotect_slot(struct vcpu *v, u32 i)
{
	struct insn_cache *k = &v->insn_cache;
	u64 page = k->prot[i];
	/* Cannot fail: the page is mapped and its leaf is 4 KiB now. */
	int r = ept_set_page_access(&v->vm->ept, page, RAM_ACCESS);

	ASSERT(r == 0);
	k->prot[i] = k->prot[--k->nprot];
	if (k->evict >= k->nprot)
		k->evict = 0;
	if (k->cs_ar && page_in(k->page, k->npages, page)) {
		k->cs_ar = 0;
		return true;
	}
	return false;
}

static int prot_slot(const struct insn_cache *k, u64 page)
{
	for (u32 i = 0; i < k->nprot; i++)
		if (k->prot[i] == page)
			return (int)i;
	return -1;
}

void insn_cache_drop(struct vcpu *v)
{
	v->insn_cache.cs_ar = 0;
}

/* Write-protects page for the entry being filled, whose pages are need[];
 * sets *flush when the EPT changed. 0 or -errno. */
static int protect(struct vcpu *v, u64 page, const u64 *need, u32 nneed, bool *flush)
{
	struct insn_cache *k = &v->insn_cache;

	if (prot_slot(k, page) >= 0)
		return 0;
	if (k->nprot == WPROT_PAGES) {
		/* Round robin over the slots, past the pages this fill needs
		 * (fewer than the slots, so one is found). */
		while (page_in(need, nneed, k->prot[k->evict]))
			k->evict = (k->evict + 1) % k->nprot;
		unprotect_slot(v, k->evict);
	}
	int r = ept_set_page_access(&v->vm->ept, page, PROTECTED_ACCESS);
	if (r)
		return r;
	k->prot[k->nprot++] = page;
	*flush = true;
	return 0;
}

void insn_cache_fill(struct vcpu *v, u64 rip, u32 cs_ar, u64 cs_base, u64 cr3, u64 gpa,
		     const u64 *tables, u32 ntables)
{
	struct insn_cache *k = &v->insn_cache;
	u64 pages[INSN_CACHE_PAGES];
	bool flush = false;
	u32 n = 0;

	if (k->wait) {
		if (rip == k->strike_rip) {
			k->wait--;
			return;
		}
		k->wait = k->backoff = k->strikes = 0;	/* another store */
	}
	k->cs_ar = 0;
	/* The code's page (the store cache keeps all 16 bytes on it), and
	 * the pages of the entries that translated RIP. */
	pages[n++] = gpa & ~PAGE_OFFSET_MASK;
	for (u32 i = 0; i < ntables && n < INSN_CACHE_PAGES; i++) {
		u64 page = tables[i] & ~PAGE_OFFSET_MASK;
		if (!page_in(pages, n, page))
			pages[n++] = page;
	}
	int r = 0;
	for (u32 i = 0; i < n && !r; i++)
		r = protect(v, pages[i], pages, n, &flush);
	if (!r) {
		/* Out of table pages for a split leaves the entry empty: the
		 * verified path goes on serving. */
		memcpy(k->page, pages, n * sizeof(pages[0]));
		k->npages = n;
		k->rip = rip;
		k->cs_base = cs_base;
		k->cr3 = cr3;
		k->len = v->store_cache.len;
		k->filled_at = v->fastmmio_hits;
		k->fills++;
		k->cs_ar = cs_ar;
	}
	if (flush)
		vmx_invept(INVEPT_SINGLE_CONTEXT, ept_eptp(&v->vm->ept));
}

/* The entry was dropped by a write: back off if its store keeps losing it
 * early. */
static void entry_written(struct vcpu *v)
{
	struct insn_cache *k = &v->insn_cache;
	bool early = v->fastmmio_hits - k->filled_at < WPROT_THRASH_HITS;

	k->faults++;
	if (early && k->rip == k->strike_rip) {
		k->strikes++;
	} else {
		k->strikes = early;
		k->strike_rip = k->rip;
		k->backoff = 0;
	}
	if (k->strikes >= WPROT_STRIKES)
		k->backoff = MIN(2 * k->backoff + 1, WPROT_BACKOFF_MAX);
	k->wait = k->backoff;
}

bool insn_cache_write_fault(struct vcpu *v, u64 gpa)
{
	u64 page = gpa & ~PAGE_OFFSET_MASK, perms;
	int i = prot_slot(&v->insn_cache, page);

	if (i < 0) {
		/* Not protected (any more): a translation the CPU cached while
		 * it was is stale, and this violation has flushed it; the
		 * INVEPT (rare) makes sure a retry cannot fault again. Anything
		 * else is not ours. */
		if (!ept_translate(&v->vm->ept, gpa, NULL, &perms, NULL) ||
		    (perms & RAM_ACCESS) != RAM_ACCESS)
			return false;
		vmx_invept(INVEPT_SINGLE_CONTEXT, ept_eptp(&v->vm->ept));
		return true;
	}
	if (unprotect_slot(v, (u32)i))
		entry_written(v);
	return true;
}

/* doorbell's own write needs no protection taken away (it did not go
 * through the EPT); the entry goes if it read the page. */
void insn_cache_ram_written(struct vm *vm, u64 gpa, u64 size)
{
	struct vcpu *v = &vm->vcpu;
	struct insn_cache *k = &v->insn_cache;

	if (likely(!k->cs_ar) || !size)
		return;
	for (u64 page = gpa & ~PAGE_OFFSET_MASK; page < gpa + size; page += PAGE_SIZE) {
		if (page_in(k->page, k->npages, page)) {
			k->cs_ar = 0;
			entry_written(v);
			return;
		}
	}
}
