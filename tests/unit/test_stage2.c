/* Stage-2 table building: block/page choice, translation, and refusal of
 * misaligned, overflowing, out-of-range and double mappings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/page_alloc.h"
#include "core/stage2.h"

#define POOL_PAGES 256
static void *pool;

static int setup(void **state)
{
	(void)state;
	pool = aligned_alloc(PAGE_SIZE, POOL_PAGES * PAGE_SIZE);
	palloc_init((paddr_t)(uintptr_t)pool, POOL_PAGES * PAGE_SIZE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(pool);
	return 0;
}

static void test_ipa_bits(void **state)
{
	(void)state;
	assert_int_equal(s2_ipa_bits_from_parange(0), 32);
	assert_int_equal(s2_ipa_bits_from_parange(2), 40);
	assert_int_equal(s2_ipa_bits_from_parange(5), 48);
	assert_int_equal(s2_ipa_bits_from_parange(6), 48); /* 52 needs LPA2: capped */
}

static void test_start_level_and_vtcr(void **state)
{
	struct s2_table t40, t36;
	(void)state;
	assert_int_equal(s2_init(&t40, 40), 0);
	assert_int_equal(t40.start_level, 0);
	assert_int_equal(s2_vtcr(&t40, 2) & 0x3f, 24);     /* T0SZ */
	assert_int_equal((s2_vtcr(&t40, 2) >> 6) & 3, 2);  /* SL0: level 0 */
	assert_int_equal((s2_vtcr(&t40, 2) >> 16) & 7, 2); /* PS */
	assert_int_equal(s2_init(&t36, 36), 0);
	assert_int_equal(t36.start_level, 1);
	assert_int_equal((s2_vtcr(&t36, 1) >> 6) & 3, 1);
	assert_int_not_equal(s2_init(&t36, 20), 0);
}

static void test_map_blocks_and_pages(void **state)
{
	struct s2_table t;
	paddr_t pa;
	(void)state;
	assert_int_equal(s2_init(&t, 44), 0);
	size_t before = palloc_free_pages();
	/* 4 MiB + 8 KiB: two 2 MiB blocks then two pages */
	assert_int_equal(s2_map(&t, 0x40000000, 0x80000000, 0x402000, S2_NORMAL), 0);
	assert_int_equal(s2_translate(&t, 0x40000000, &pa), 0);
	assert_int_equal(pa, 0x80000000);
	assert_int_equal(s2_translate(&t, 0x40312345, &pa), 0);
	assert_int_equal(pa, 0x80312345);
	assert_int_equal(s2_translate(&t, 0x40401fff, &pa), 0);
	assert_int_equal(pa, 0x80401fff);
	assert_int_not_equal(s2_translate(&t, 0x40402000, &pa), 0);
	/* level 1, level 2 and one level-3 table were needed */
	assert_int_equal(before - palloc_free_pages(), 3);
}

static void test_unaligned_pa_uses_pages(void **state)
{
	struct s2_table t;
	paddr_t pa;
	(void)state;
	assert_int_equal(s2_init(&t, 40), 0);
	assert_int_equal(s2_map(&t, 0x0, 0x1001000, 0x200000, S2_DEVICE), 0);
	assert_int_equal(s2_translate(&t, 0x1ff000, &pa), 0);
	assert_int_equal(pa, 0x1200000);
}

static void test_rejects_bad_input(void **state)
{
	struct s2_table t;
	(void)state;
	assert_int_equal(s2_init(&t, 40), 0);
	assert_int_not_equal(s2_map(&t, 0x1000 + 1, 0x2000, 0x1000, S2_NORMAL), 0);
	assert_int_not_equal(s2_map(&t, 0x1000, 0x2000, 0x800, S2_NORMAL), 0);
	assert_int_not_equal(s2_map(&t, 0x1000, 0x2000, 0, S2_NORMAL), 0);
	/* beyond the 40-bit input range */
	assert_int_not_equal(s2_map(&t, 1UL << 40, 0x2000, 0x1000, S2_NORMAL), 0);
	assert_int_not_equal(s2_map(&t, (1UL << 40) - 0x1000, 0x2000, 0x2000, S2_NORMAL), 0);
	/* wrap-around */
	assert_int_not_equal(s2_map(&t, 0x1000, ~0UL & ~0xfffUL, 0x2000, S2_NORMAL), 0);
	/* double mapping */
	assert_int_equal(s2_map(&t, 0x200000, 0x400000, 0x200000, S2_NORMAL), 0);
	assert_int_not_equal(s2_map(&t, 0x201000, 0x600000, 0x1000, S2_NORMAL), 0);
}

static void test_translate_outside(void **state)
{
	struct s2_table t;
	paddr_t pa;
	(void)state;
	assert_int_equal(s2_init(&t, 40), 0);
	assert_int_not_equal(s2_translate(&t, 1UL << 41, &pa), 0);
	assert_int_not_equal(s2_translate(&t, 0x1234000, &pa), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipa_bits),
		cmocka_unit_test(test_start_level_and_vtcr),
		cmocka_unit_test(test_map_blocks_and_pages),
		cmocka_unit_test(test_unaligned_pa_uses_pages),
		cmocka_unit_test(test_rejects_bad_input),
		cmocka_unit_test(test_translate_outside),
	};
	return cmocka_run_group_tests_name("stage2", tests, setup, teardown);
}
