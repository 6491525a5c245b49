/* The log rate limiter: a burst per window, the rest counted and reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/ratelimit.h"

#define WINDOW 1000

static void burst_then_suppressed(void **state)
{
	struct log_limit l = {0};
	uint32_t dropped = 99;

	(void)state;
	for (unsigned i = 0; i < LOG_BURST; i++) {
		assert_true(log_limit_allow(&l, 10 + i, WINDOW, &dropped));
		assert_int_equal(dropped, 0);
	}
	for (unsigned i = 0; i < 1000; i++)
		assert_false(log_limit_allow(&l, 20 + i % WINDOW / 2, WINDOW, &dropped));
	/* the next window reports what was dropped */
	assert_true(log_limit_allow(&l, 10 + WINDOW, WINDOW, &dropped));
	assert_int_equal(dropped, 1000);
	assert_true(log_limit_allow(&l, 11 + WINDOW, WINDOW, &dropped));
	assert_int_equal(dropped, 0);
}

static void counter_wrap_opens_a_window(void **state)
{
	struct log_limit l = {0};
	uint32_t dropped;

	(void)state;
	for (unsigned i = 0; i < LOG_BURST; i++)
		assert_true(log_limit_allow(&l, UINT64_MAX - 5, WINDOW, &dropped));
	assert_false(log_limit_allow(&l, UINT64_MAX, WINDOW, &dropped));
	assert_true(log_limit_allow(&l, WINDOW, WINDOW, &dropped)); /* wrapped */
	assert_int_equal(dropped, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_suppressed),
		cmocka_unit_test(counter_wrap_opens_a_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
