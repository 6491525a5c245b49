/* Time per stage of the mediated path (hv/blk/med_stages.c): ordered
 * stamps add up per stage, stamps a hostile MVM put out of order count in
 * no MVM stage, the hypervisor's own stages always count, a daemon that
 * stamps nothing is not an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blk/med_stages.h"

static struct med_stage_sum sums[MED_STAGES];

static int setup(void **state)
{
	(void)state;
	memset(sums, 0, sizeof(sums));
	return 0;
}

static const struct med_times ordered = {.notify = 100,
					 .queued = 110,
					 .irq = 130,
					 .pickup = 160,
					 .done = 260,
					 .complete = 300,
					 .gvm_irq = 320};

static void test_ordered_stamps_add_per_stage(void **state)
{
	(void)state;
	assert_true(med_stages_add(sums, &ordered));
	struct med_times t = ordered;
	t.done = 460; /* a second, slower I/O */
	t.complete = 500;
	t.gvm_irq = 530;
	assert_true(med_stages_add(sums, &t));
	assert_int_equal(sums[MED_ST_NOTIFY_IRQ].count, 2);
	assert_int_equal(sums[MED_ST_NOTIFY_IRQ].ticks, 60);
	assert_int_equal(sums[MED_ST_IRQ_PICKUP].ticks, 60);
	assert_int_equal(sums[MED_ST_PICKUP_DONE].ticks, 100 + 300);
	assert_int_equal(sums[MED_ST_PICKUP_DONE].max_ticks, 300);
	assert_int_equal(sums[MED_ST_DONE_COMPLETE].ticks, 80);
	assert_int_equal(sums[MED_ST_COMPLETE_GVM].ticks, 20 + 30);
	assert_int_equal(sums[MED_ST_TOTAL].ticks, 220 + 430);
	assert_int_equal(sums[MED_ST_TOTAL].max_ticks, 430);
	/* the stages tile the whole */
	uint64_t parts = 0;
	for (int i = 0; i < MED_ST_TOTAL; i++)
		parts += sums[i].ticks;
	assert_int_equal(parts, sums[MED_ST_TOTAL].ticks);
}

/* Every MVM stamp moved out of its place: no MVM stage counts, the
 * hypervisor's do, and the caller hears of it. */
static void test_hostile_stamps_count_nowhere(void **state)
{
	(void)state;
	const uint64_t bad[] = {0, 1, 105, 301, ~0ull};
	for (unsigned field = 0; field < 3; field++)
		for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			struct med_times t = ordered;
			uint64_t *p = field == 0 ? &t.irq : field == 1 ? &t.pickup : &t.done;
			*p = bad[k];
			assert_false(med_stages_add(sums, &t)); /* one 0 alone: out of order too */
		}
	/* pickup before irq, done before pickup */
	struct med_times t = ordered;
	t.pickup = 120;
	assert_false(med_stages_add(sums, &t));
	t = ordered;
	t.done = 150;
	assert_false(med_stages_add(sums, &t));
	for (int i = 0; i < MED_ST_COMPLETE_GVM; i++)
		assert_int_equal(sums[i].count, 0);
	assert_int_equal(sums[MED_ST_TOTAL].count, 17);
	assert_int_equal(sums[MED_ST_COMPLETE_GVM].count, 17);
}

static void test_unmeasured_daemon_is_not_an_error(void **state)
{
	(void)state;
	struct med_times t = ordered;
	t.irq = t.pickup = t.done = 0;
	assert_true(med_stages_add(sums, &t));
	assert_int_equal(sums[MED_ST_PICKUP_DONE].count, 0);
	assert_int_equal(sums[MED_ST_TOTAL].count, 1);
	assert_int_equal(sums[MED_ST_TOTAL].ticks, 220);
}

/* Equal stamps (a fast stage, a coarse counter) are in order. */
static void test_equal_stamps_are_ordered(void **state)
{
	(void)state;
	struct med_times t = {7, 7, 7, 7, 7, 7, 7};
	assert_true(med_stages_add(sums, &t));
	for (int i = 0; i < MED_STAGES; i++) {
		assert_int_equal(sums[i].count, 1);
		assert_int_equal(sums[i].ticks, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ordered_stamps_add_per_stage, setup),
		cmocka_unit_test_setup(test_hostile_stamps_count_nowhere, setup),
		cmocka_unit_test_setup(test_unmeasured_daemon_is_not_an_error, setup),
		cmocka_unit_test_setup(test_equal_stamps_are_ordered, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
