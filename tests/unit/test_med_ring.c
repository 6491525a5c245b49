/* The mediated area's rings: index arithmetic (empty, full, u32 wrap-around,
 * hostile indices) and the MVM's side (taking tags, giving completions in
 * another order than issue, hostile tags). The hypervisor's side is tested
 * with the device model in test_mediated.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "syshyper/med_ring.h"

#define N 8

static struct med_area *area;

static int setup(void **state)
{
	(void)state;
	area = calloc(1, sizeof(*area));
	return area ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(area);
	return 0;
}

/* The hypervisor's push, as med_blk.c does it. */
static void hv_push(uint64_t tag)
{
	area->req_ring[area->req_prod % N] = tag;
	area->req_prod++;
}

static void test_pending_and_room(void **state)
{
	(void)state;
	assert_int_equal(med_ring_pending(0, 0, N), 0);
	assert_int_equal(med_ring_pending(N, 0, N), N);
	assert_int_equal(med_ring_pending(N + 1, 0, N), -1); /* producer too far ahead */
	assert_int_equal(med_ring_pending(5, 10, N), -1);    /* producer behind */
	assert_true(med_ring_has_room(N - 1, 0, N));
	assert_false(med_ring_has_room(N, 0, N));
	/* across the u32 wrap */
	assert_int_equal(med_ring_pending(3, 0xfffffffeu, N), 5);
	assert_true(med_ring_has_room(3, 0xfffffffeu, N));
}

static void test_take_empty_and_order(void **state)
{
	uint64_t tag;
	(void)state;
	assert_int_equal(med_req_take(area, N, &tag), MED_RING_EMPTY);
	for (uint64_t i = 0; i < N; i++)
		hv_push((i + 1) << MED_TAG_SLOT_BITS | i);
	for (uint64_t i = 0; i < N; i++) {
		assert_int_equal(med_req_take(area, N, &tag), MED_RING_OK);
		assert_int_equal(MED_TAG_SLOT(tag), i);
		assert_int_equal(tag >> MED_TAG_SLOT_BITS, i + 1);
	}
	assert_int_equal(med_req_take(area, N, &tag), MED_RING_EMPTY);
}

static void test_wrap_around(void **state)
{
	uint64_t tag;
	(void)state;
	area->req_prod = area->req_cons = 0xfffffff0u;
	area->cmp_prod = area->cmp_cons = 0xfffffff0u;
	for (uint32_t round = 0; round < 5; round++) {
		for (uint64_t i = 0; i < N; i++)
			hv_push(i);
		for (uint64_t i = 0; i < N; i++) {
			assert_int_equal(med_req_take(area, N, &tag), MED_RING_OK);
			assert_int_equal(tag, i);
			assert_int_equal(med_cmp_give(area, N, tag, MED_S_OK), MED_RING_OK);
		}
		area->cmp_cons = area->cmp_prod; /* the hypervisor took them */
	}
	assert_true(area->req_prod < 0x100); /* the indices wrapped */
	assert_int_equal(med_req_take(area, N, &tag), MED_RING_EMPTY);
}

/* Requests go out as 0..7; completions come back 5,2,7,0,... each once,
 * with its tag and status. */
static void test_out_of_order_completion(void **state)
{
	const uint32_t order[N] = {5, 2, 7, 0, 1, 6, 3, 4};
	(void)state;
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(med_cmp_give(area, N, 0x100 | order[i], (int32_t)i), MED_RING_OK);
	assert_int_equal(med_cmp_give(area, N, 0x100, 0), MED_RING_FULL);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(MED_TAG_SLOT(area->cmp_ring[i].tag), order[i]);
		assert_int_equal(area->cmp_ring[i].status, (int32_t)i);
	}
	assert_int_equal(area->cmp_prod, N);
}

static void test_hostile_request_ring(void **state)
{
	uint64_t tag = 99;
	(void)state;
	/* producer claims more entries than the ring holds */
	area->req_prod = N + 1;
	assert_int_equal(med_req_take(area, N, &tag), MED_RING_CORRUPT);
	assert_int_equal(area->req_cons, 0);
	/* a slot number out of range is reported, never returned */
	area->req_prod = 1;
	area->req_ring[0] = (7ull << MED_TAG_SLOT_BITS) | N;
	assert_int_equal(med_req_take(area, N, &tag), MED_RING_CORRUPT);
	assert_int_equal(tag, 99);
}

/* Peeking reads the oldest tag without taking it, across the u32 wrap;
 * a hostile index or slot is refused and nothing is taken. */
static void test_peek_then_take(void **state)
{
	uint64_t tag;
	(void)state;
	area->req_prod = area->req_cons = UINT32_MAX;
	assert_int_equal(med_req_peek(area, N, &tag), MED_RING_EMPTY);
	hv_push(0x103);
	hv_push(0x204);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(med_req_peek(area, N, &tag), MED_RING_OK);
		assert_int_equal(tag, 0x103);
		assert_int_equal(area->req_cons, UINT32_MAX);
	}
	assert_int_equal(med_req_take(area, N, &tag), MED_RING_OK);
	assert_int_equal(tag, 0x103);
	assert_int_equal(med_req_peek(area, N, &tag), MED_RING_OK);
	assert_int_equal(tag, 0x204);
	assert_int_equal(area->req_cons, 0);            /* wrapped */
	area->req_ring[area->req_cons % N] = 0x100 | N; /* a slot past n */
	assert_int_equal(med_req_peek(area, N, &tag), MED_RING_CORRUPT);
	area->req_prod = area->req_cons + N + 1; /* more than n pending */
	assert_int_equal(med_req_peek(area, N, &tag), MED_RING_CORRUPT);
	assert_int_equal(area->req_cons, 0);
}

static struct med_slot rw(uint32_t disk, uint32_t type, uint64_t sector, uint32_t len)
{
	struct med_slot s = {.disk = disk, .type = type, .sector = sector, .len = len};
	return s;
}

/* Which requests the daemon may do as one I/O: only exact continuations
 * of the same kind on the same disk, within the run's limit. */
static void test_merge_rules(void **state)
{
	const uint32_t K64 = MED_SLOT_DATA;
	struct med_slot first = rw(1, MED_REQ_READ, 1000, K64);
	struct med_slot next = rw(1, MED_REQ_READ, 1000 + K64 / 512, K64);
	(void)state;
	assert_true(med_can_merge(&first, K64, &next, 1 << 20));
	next.type = MED_REQ_WRITE;
	assert_false(med_can_merge(&first, K64, &next, 1 << 20)); /* kinds differ */
	first.type = next.type;
	assert_true(med_can_merge(&first, K64, &next, 1 << 20));
	next.disk = 0;
	assert_false(med_can_merge(&first, K64, &next, 1 << 20)); /* other disk */
	next = rw(1, MED_REQ_WRITE, 1000 + K64 / 512 + 1, K64);
	assert_false(med_can_merge(&first, K64, &next, 1 << 20)); /* a gap */
	next.sector = 1000;                                       /* the same place again */
	assert_false(med_can_merge(&first, K64, &next, 1 << 20));
	next = rw(1, MED_REQ_WRITE, 1000 + K64 / 512, K64);
	assert_false(med_can_merge(&first, (1 << 20) - K64 + 512, &next, 1 << 20)); /* over max */
	next.sector = 1000 + 15 * K64 / 512; /* the 16th slot of a 1 MiB run fits exactly */
	assert_true(med_can_merge(&first, 15 * (uint64_t)K64, &next, 16 * (uint64_t)K64));
	next.sector = 1000 + K64 / 512;
	next.len = K64 + 512; /* larger than a slot */
	assert_false(med_can_merge(&first, K64, &next, 1 << 20));
	next.len = 100; /* not whole sectors */
	assert_false(med_can_merge(&first, K64, &next, 1 << 20));
	next.len = 0;
	assert_false(med_can_merge(&first, K64, &next, 1 << 20));
	struct med_slot f = rw(1, MED_REQ_FLUSH, 0, 0), g = rw(1, MED_REQ_FLUSH, 0, 0);
	assert_false(med_can_merge(&f, 0, &g, 1 << 20)); /* only reads and writes */
	/* a run at the end of the sector space does not wrap to sector 0 */
	first = rw(1, MED_REQ_READ, UINT64_MAX - 127, K64);
	next = rw(1, MED_REQ_READ, 0, K64);
	assert_false(med_can_merge(&first, K64, &next, 1 << 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pending_and_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_empty_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_around, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_completion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_request_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peek_then_take, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_rules, setup, teardown),
	};
	return cmocka_run_group_tests_name("med_ring", tests, NULL, NULL);
}
