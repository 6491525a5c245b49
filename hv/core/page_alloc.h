/* Physical page allocator for the hypervisor's own memory (page tables,
 * device state): a bitmap over the free part of the hypervisor region. */
#ifndef PAGE_ALLOC_H
#define PAGE_ALLOC_H
#include "lib/types.h"

/* Manages [base, base+size); the bitmap lives at its start. */
void palloc_init(paddr_t base, uint64_t size);
/* `n` contiguous zeroed 4 KiB pages; NULL when exhausted. */
void *palloc(size_t n);
void pfree(void *p, size_t n);
size_t palloc_free_pages(void);
#endif
