/*
 * boot/mm.c - the kernel's page allocator: the pure range allocator of
 * boot/pmm.c over the usable memory below 4 GiB (what boot/entry.asm maps),
 * behind a spinlock, handing out zeroed pages.
 */
#include "boot/cpu.h"
#include "drivers/drivers.h"

static struct pmm kernel_pmm;
static u32 pmm_lock;

static u64 pmm_lock_take(void)
{
	u64 flags = irq_save();
	while (__atomic_exchange_n(&pmm_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	return flags;
}

static void pmm_lock_drop(u64 flags)
{
	__atomic_store_n(&pmm_lock, 0, __ATOMIC_RELEASE);
	irq_restore(flags);
}

extern u8 __kernel_start[], __kernel_end[];

/* Builds the free set from the memory map, then takes out everything that
 * must never be handed out: the first MiB (BIOS data, the AP trampoline),
 * the kernel image, the multiboot information and every module. Returns the
 * free bytes, or 0 when no usable memory is left. */
u64 mm_init(const struct mb2_info *mb, u64 mbi_phys)
{
	pmm_init(&kernel_pmm);
	for (u32 i = 0; i < mb->mmap_count; i++) {
		const struct mb2_mmap_entry *e = &mb->mmap[i];
		if (e->type != MB2_MEMORY_AVAILABLE || e->base >= 4 * GiB)
			continue;
		u64 end = e->len > 4 * GiB - e->base ? 4 * GiB : e->base + e->len;
		pmm_add(&kernel_pmm, e->base, end);
	}
	/* Reserved ranges may overlap usable ones in a buggy map: remove them. */
	for (u32 i = 0; i < mb->mmap_count; i++) {
		const struct mb2_mmap_entry *e = &mb->mmap[i];
		if (e->type != MB2_MEMORY_AVAILABLE && e->len)
			pmm_reserve(&kernel_pmm, e->base,
				    e->base + e->len < e->base ? UINT64_MAX : e->base + e->len);
	}
	pmm_reserve(&kernel_pmm, 0, 1 * MiB);
	pmm_reserve(&kernel_pmm, (u64)(uintptr_t)__kernel_start, (u64)(uintptr_t)__kernel_end);
	pmm_reserve(&kernel_pmm, mbi_phys, mbi_phys + mb->total_size);
	for (u32 i = 0; i < mb->module_count; i++)
		pmm_reserve(&kernel_pmm, mb->modules[i].start, mb->modules[i].end);
	return pmm_free_bytes(&kernel_pmm);
}

void *page_alloc_aligned(u64 npages, u64 align)
{
	u64 flags = pmm_lock_take();
	u64 pa = pmm_alloc(&kernel_pmm, npages * PAGE_SIZE, align);
	pmm_lock_drop(flags);
	if (!pa)
		return NULL;
	void *p = (void *)(uintptr_t)pa;
	memset(p, 0, npages * PAGE_SIZE);
	return p;
}

void *page_alloc(u64 npages)
{
	return page_alloc_aligned(npages, PAGE_SIZE);
}

void page_free(void *p, u64 npages)
{
	u64 flags = pmm_lock_take();
	pmm_free(&kernel_pmm, (u64)(uintptr_t)p, npages * PAGE_SIZE);
	pmm_lock_drop(flags);
}

u64 mm_free_bytes(void)
{
	u64 flags = pmm_lock_take();
	u64 n = pmm_free_bytes(&kernel_pmm);
	pmm_lock_drop(flags);
	return n;
}

/* ---- small objects ---------------------------------------------------------
 * kmalloc serves sizes up to KMALLOC_MAX from power-of-two classes carved out
 * of whole pages, each class with a free list; larger sizes take whole pages.
 * The caller passes the size back to kfree (as the iobus allocator callbacks
 * do), so no header is needed. Memory comes back zeroed.
 */
#define KMALLOC_MIN_SHIFT  4	/* 16 bytes */
#define KMALLOC_MAX_SHIFT  11	/* 2 KiB */
#define KMALLOC_CLASSES    (KMALLOC_MAX_SHIFT - KMALLOC_MIN_SHIFT + 1)
#define KMALLOC_MAX        (1u << KMALLOC_MAX_SHIFT)

struct kfree_obj {
	struct kfree_obj *next;
};

static struct kfree_obj *kmalloc_free[KMALLOC_CLASSES];
static u32 kmalloc_lock;

static u32 kmalloc_class(size_t size)
{
	u32 c = 0;
	while ((1u << (c + KMALLOC_MIN_SHIFT)) < size)
		c++;
	return c;
}

void *kmalloc(size_t size)
{
	if (size == 0)
		size = 1;
	if (size > KMALLOC_MAX)
		return page_alloc((size + PAGE_SIZE - 1) / PAGE_SIZE);

	u32 c = kmalloc_class(size);
	size_t obj = 1u << (c + KMALLOC_MIN_SHIFT);
	u64 flags = irq_save();
	while (__atomic_exchange_n(&kmalloc_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	if (!kmalloc_free[c]) {
		u8 *page = page_alloc(1);
		for (size_t off = 0; page && off < PAGE_SIZE; off += obj) {
			struct kfree_obj *o = (struct kfree_obj *)(page + off);
			o->next = kmalloc_free[c];
			kmalloc_free[c] = o;
		}
	}
	struct kfree_obj *o = kmalloc_free[c];
	if (o)
		kmalloc_free[c] = o->next;
	__atomic_store_n(&kmalloc_lock, 0, __ATOMIC_RELEASE);
	irq_restore(flags);
	if (o)
		memset(o, 0, obj);
	return o;
}

void kfree(void *p, size_t size)
{
	if (!p)
		return;
	if (size == 0)
		size = 1;
	if (size > KMALLOC_MAX) {
		page_free(p, (size + PAGE_SIZE - 1) / PAGE_SIZE);
		return;
	}
	u32 c = kmalloc_class(size);
	u64 flags = irq_save();
	while (__atomic_exchange_n(&kmalloc_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	struct kfree_obj *o = p;
	o->next = kmalloc_free[c];
	kmalloc_free[c] = o;
	__atomic_store_n(&kmalloc_lock, 0, __ATOMIC_RELEASE);
	irq_restore(flags);
}
