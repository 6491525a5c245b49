/* The page allocator: zeroed pages, contiguous runs, exhaustion, reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/page_alloc.h"

#define POOL_PAGES 16

static void test_alloc_free(void **state)
{
	(void)state;
	uint8_t *mem = aligned_alloc(PAGE_SIZE, POOL_PAGES * PAGE_SIZE);
	memset(mem, 0xaa, POOL_PAGES * PAGE_SIZE);
	palloc_init((paddr_t)(uintptr_t)mem, POOL_PAGES * PAGE_SIZE);
	size_t total = palloc_free_pages();
	assert_int_equal(total, POOL_PAGES - 1); /* one page holds the bitmap */

	uint8_t *a = palloc(1);
	assert_non_null(a);
	assert_int_equal((uintptr_t)a % PAGE_SIZE, 0);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		assert_int_equal(a[i], 0);
	uint8_t *b = palloc(4);
	assert_non_null(b);
	assert_true(b >= a + PAGE_SIZE || b + 4 * PAGE_SIZE <= a);
	assert_int_equal(palloc_free_pages(), total - 5);
	assert_null(palloc(total)); /* not enough left */
	assert_null(palloc(0));
	pfree(b, 4);
	pfree(a, 1);
	assert_int_equal(palloc_free_pages(), total);
	uint8_t *all = palloc(total);
	assert_non_null(all);
	assert_null(palloc(1));
	pfree(all, total);
	pfree(mem + 100 * PAGE_SIZE, 1); /* outside the pool: ignored */
	assert_int_equal(palloc_free_pages(), total);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_free),
	};
	return cmocka_run_group_tests_name("page_alloc", tests, NULL, NULL);
}
