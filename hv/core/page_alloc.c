/* Bitmap page allocator (see page_alloc.h). First fit from a rotating hint:
 * allocations are rare (boot, VM creation), so simplicity wins. */
#include "core/page_alloc.h"

#include "lib/lib.h"
#include "arch/arm64/spinlock.h"

static struct {
	spinlock_t lock;
	uint8_t *base; /* first allocatable page */
	size_t npages;
	uint64_t *bitmap; /* bit set: page in use */
	size_t nfree;
} pool;

static bool page_used(size_t i)
{
	return pool.bitmap[i / 64] & (1UL << (i % 64));
}

static void mark(size_t first, size_t n, bool used)
{
	for (size_t i = first; i < first + n; i++) {
		if (used)
			pool.bitmap[i / 64] |= 1UL << (i % 64);
		else
			pool.bitmap[i / 64] &= ~(1UL << (i % 64));
	}
}

void palloc_init(paddr_t base, uint64_t size)
{
	base = ALIGN_UP(base, PAGE_SIZE);
	size_t total = size / PAGE_SIZE;
	size_t bitmap_bytes = (total + 63) / 64 * 8;
	size_t bitmap_pages = (bitmap_bytes + PAGE_SIZE - 1) / PAGE_SIZE;

	pool.bitmap = (uint64_t *)base;
	pool.base = (uint8_t *)(base + bitmap_pages * PAGE_SIZE);
	pool.npages = total > bitmap_pages ? total - bitmap_pages : 0;
	pool.nfree = pool.npages;
	memset(pool.bitmap, 0, bitmap_pages * PAGE_SIZE);
}

/* First index of a run of n free pages, or npages if none. */
static size_t find_run(size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < pool.npages; i++) {
		run = page_used(i) ? 0 : run + 1;
		if (run == n)
			return i + 1 - n;
	}
	return pool.npages;
}

void *palloc(size_t n)
{
	void *p = NULL;

	if (n == 0)
		return NULL;
	spin_lock(&pool.lock);
	size_t first = find_run(n);
	if (first < pool.npages) {
		mark(first, n, true);
		pool.nfree -= n;
		p = pool.base + first * PAGE_SIZE;
	}
	spin_unlock(&pool.lock);
	if (p)
		memset(p, 0, n * PAGE_SIZE);
	return p;
}

void pfree(void *p, size_t n)
{
	uint8_t *b = p;

	if (!p || b < pool.base)
		return;
	size_t first = (size_t)(b - pool.base) / PAGE_SIZE;
	if (first + n > pool.npages)
		return;
	spin_lock(&pool.lock);
	mark(first, n, false);
	pool.nfree += n;
	spin_unlock(&pool.lock);
}

size_t palloc_free_pages(void)
{
	return pool.nfree;
}
