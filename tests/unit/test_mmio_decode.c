/* Data-abort syndrome decoding: widths, direction, register, sign
 * extension, 32-bit destinations, and the no-syndrome case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/mmio.h"

#define ISV (1UL << 24)
#define SAS(n) ((uint64_t)(n) << 22)
#define SSE (1UL << 21)
#define SRT(n) ((uint64_t)(n) << 16)
#define SF (1UL << 15)
#define WNR (1UL << 6)
#define EC_DABT (0x24UL << 26)

static void test_no_syndrome(void **state)
{
	struct mmio_access a;
	(void)state;
	assert_false(mmio_decode(EC_DABT | SAS(2) | SRT(3), 0x1000, &a));
}

static void test_widths_and_direction(void **state)
{
	struct mmio_access a;
	(void)state;
	for (unsigned sas = 0; sas < 4; sas++) {
		assert_true(mmio_decode(EC_DABT | ISV | SAS(sas) | SRT(7) | WNR, 0x9000018, &a));
		assert_int_equal(a.width, 1u << sas);
		assert_true(a.write);
		assert_int_equal(a.reg, 7);
		assert_int_equal(a.addr, 0x9000018);
	}
	assert_true(mmio_decode(EC_DABT | ISV | SAS(2) | SRT(31), 0x0, &a));
	assert_false(a.write);
	assert_int_equal(a.reg, 31);
}

static void test_sign_extension(void **state)
{
	struct mmio_access a;
	(void)state;
	/* ldrsb x1: 64-bit destination */
	assert_true(mmio_decode(EC_DABT | ISV | SAS(0) | SSE | SF | SRT(1), 0, &a));
	assert_int_equal(mmio_load_result(&a, 0x80), 0xffffffffffffff80UL);
	assert_int_equal(mmio_load_result(&a, 0x7f), 0x7f);
	/* ldrsh w1: 32-bit destination keeps the upper half zero */
	assert_true(mmio_decode(EC_DABT | ISV | SAS(1) | SSE | SRT(1), 0, &a));
	assert_int_equal(mmio_load_result(&a, 0x8000), 0xffff8000UL);
	/* ldr w1 of 0x1_0000_0001 garbage above width is cut */
	assert_true(mmio_decode(EC_DABT | ISV | SAS(2) | SRT(1), 0, &a));
	assert_int_equal(mmio_load_result(&a, 0x100000001UL), 1);
	/* ldr x1 */
	assert_true(mmio_decode(EC_DABT | ISV | SAS(3) | SF | SRT(1), 0, &a));
	assert_int_equal(mmio_load_result(&a, 0x8000000000000001UL), 0x8000000000000001UL);
	/* a store never sign-extends */
	assert_true(mmio_decode(EC_DABT | ISV | SAS(0) | SSE | WNR | SRT(1), 0, &a));
	assert_false(a.sign_extend);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_syndrome),
		cmocka_unit_test(test_widths_and_direction),
		cmocka_unit_test(test_sign_extension),
	};
	return cmocka_run_group_tests_name("mmio_decode", tests, NULL, NULL);
}
