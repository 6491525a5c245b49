/* Data and instruction cache maintenance for memory a guest will see with
 * its MMU (and so its caches) off: images the MVM loads, RAM zeroed for
 * the next instance of a VM. */
#ifndef CACHE_H
#define CACHE_H
#include "lib/types.h"

/* Cleans [p, p+len) to the point of coherency. */
void dcache_clean_poc(void *p, uint64_t len);
/* Zeroes [p, p+len) and cleans it to the point of coherency. */
void mem_zero_poc(void *p, uint64_t len);
/* Invalidates all instruction caches (inner shareable). */
void icache_inval_all(void);
#endif
