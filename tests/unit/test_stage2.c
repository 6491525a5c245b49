/* Stage-2 table building: block/page choice, translation, and refusal of
 * misaligned, overflowing, out-of-range and double mappings; the
 * attributes of a read-only page. */
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

/* The page descriptor mapping `ipa` (a level-3 entry), found by walking. */
static uint64_t leaf_of(const struct s2_table *t, ipa_t ipa)
{
	const uint64_t *table = t->root;

	for (unsigned level = t->start_level; level < 3; level++) {
		uint64_t e = table[(ipa >> (12 + 9 * (3 - level))) & 511];
		assert_int_equal(e & 3, 3); /* a table */
		table = (const uint64_t *)(uintptr_t)(e & 0x0000fffffffff000UL);
	}
	return table[(ipa >> 12) & 511];
}

/* A read page: readable normal memory (S2AP 01), never writable or
 * executable (XN); the RAM and device mappings stay read-write. */
static void test_read_only_page(void **state)
{
	struct s2_table t;
	paddr_t pa;
	(void)state;
	assert_int_equal(s2_init(&t, 40), 0);
	assert_int_equal(s2_map(&t, 0x0a003000, 0x40123000, 0x1000, S2_READ_ONLY), 0);
	assert_int_equal(s2_map(&t, 0x0a002000, 0x0a002000, 0x1000, S2_DEVICE), 0);
	assert_int_equal(s2_map(&t, 0x0a004000, 0x40124000, 0x1000, S2_NORMAL), 0);
	assert_int_equal(s2_translate(&t, 0x0a003e60, &pa), 0);
	assert_int_equal(pa, 0x40123e60);
	uint64_t ro = leaf_of(&t, 0x0a003000), dev = leaf_of(&t, 0x0a002000);
	uint64_t ram = leaf_of(&t, 0x0a004000);
	assert_int_equal((ro >> 6) & 3, 1);     /* S2AP: read only */
	assert_int_equal((ro >> 2) & 0xf, 0xf); /* normal write-back, like RAM */
	assert_int_equal((ro >> 53) & 3, 2);    /* XN */
	assert_int_equal(ro & 0x400, 0x400);    /* AF */
	assert_int_equal((dev >> 6) & 3, 3);
	assert_int_equal((ram >> 6) & 3, 3);
	assert_int_equal((ram >> 53) & 3, 0);
	/* mapped once only, as every page */
	assert_int_not_equal(s2_map(&t, 0x0a003000, 0x40125000, 0x1000, S2_READ_ONLY), 0);
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
		cmocka_unit_test(test_read_only_page),
	};
	return cmocka_run_group_tests_name("stage2", tests, setup, teardown);
}
