/* The mediated area's slot rings: empty, full, u32 index wrap-around,
 * completion in another order than issue, and hostile indices/slots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "syshyper/med_ring.h"

#define N 8

struct ring {
	uint32_t entries[N];
	uint32_t prod, cons;
};

static void test_empty(void **state)
{
	struct ring r = {0};
	uint32_t s;
	(void)state;
	assert_int_equal(med_ring_pop(r.entries, r.prod, &r.cons, N, &s), MED_RING_EMPTY);
}

static void test_full(void **state)
{
	struct ring r = {0};
	(void)state;
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(med_ring_push(r.entries, &r.prod, r.cons, N, i), MED_RING_OK);
	assert_int_equal(med_ring_push(r.entries, &r.prod, r.cons, N, 0), MED_RING_FULL);
	assert_int_equal(med_ring_count(r.prod, r.cons), N);
}

static void test_wrap_around(void **state)
{
	struct ring r = {.prod = 0xfffffff0u, .cons = 0xfffffff0u};
	uint32_t s;
	(void)state;
	for (uint32_t round = 0; round < 5; round++) {
		for (uint32_t i = 0; i < N; i++)
			assert_int_equal(med_ring_push(r.entries, &r.prod, r.cons, N, i),
					 MED_RING_OK);
		for (uint32_t i = 0; i < N; i++) {
			assert_int_equal(med_ring_pop(r.entries, r.prod, &r.cons, N, &s),
					 MED_RING_OK);
			assert_int_equal(s, i);
		}
	}
	assert_true(r.prod < 0x100); /* the indices wrapped */
	assert_int_equal(med_ring_pop(r.entries, r.prod, &r.cons, N, &s), MED_RING_EMPTY);
}

/* Requests go out as 0..7; completions come back 5,2,7,0,... and each
 * is delivered exactly once, in completion order. */
static void test_out_of_order_completion(void **state)
{
	struct ring req = {0}, cmp = {0};
	const uint32_t order[N] = {5, 2, 7, 0, 1, 6, 3, 4};
	uint32_t s, seen = 0;
	(void)state;
	for (uint32_t i = 0; i < N; i++)
		med_ring_push(req.entries, &req.prod, req.cons, N, i);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(med_ring_pop(req.entries, req.prod, &req.cons, N, &s),
				 MED_RING_OK);
		assert_int_equal(s, i);
	}
	for (uint32_t i = 0; i < N; i++)
		med_ring_push(cmp.entries, &cmp.prod, cmp.cons, N, order[i]);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(med_ring_pop(cmp.entries, cmp.prod, &cmp.cons, N, &s),
				 MED_RING_OK);
		assert_int_equal(s, order[i]);
		assert_false(seen & (1u << s));
		seen |= 1u << s;
	}
	assert_int_equal(seen, 0xff);
}

static void test_hostile_producer(void **state)
{
	struct ring r = {0};
	uint32_t s = 99;
	(void)state;
	/* producer claims more entries than the ring holds */
	assert_int_equal(med_ring_pop(r.entries, N + 1, &r.cons, N, &s), MED_RING_CORRUPT);
	assert_int_equal(r.cons, 0);
	/* a slot number out of range is reported, never returned */
	r.entries[0] = N;
	assert_int_equal(med_ring_pop(r.entries, 1, &r.cons, N, &s), MED_RING_CORRUPT);
	assert_int_equal(s, 99);
	/* producer "behind" the consumer looks like a huge count */
	r.cons = 10;
	assert_int_equal(med_ring_pop(r.entries, 5, &r.cons, N, &s), MED_RING_CORRUPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_out_of_order_completion),
		cmocka_unit_test(test_hostile_producer),
	};
	return cmocka_run_group_tests_name("med_ring", tests, NULL, NULL);
}
