/* The hypercall ABI's pure decisions (include/syshyper/hypercall.h), shared
 * by EL2's dispatcher and the MVM module's filter: function ids are the low
 * 32 bits of x0 (what arm_smccc_1_1_hvc passes), and user space gets an
 * explicit allow-list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "syshyper/hypercall.h"
#include "syshyper/mediated.h"

static void test_function_id_is_w0(void **state)
{
	(void)state;
	assert_int_equal(hc_function_id(0x1c6000010ULL), HC_MED_REGISTER);
	assert_int_equal(hc_function_id(0xffffffff00000000ULL | HC_VM_INFO), HC_VM_INFO);
	assert_int_equal(hc_function_id(HC_VERSION), HC_VERSION);
}

static void test_is_syshyper(void **state)
{
	(void)state;
	assert_true(hc_is_syshyper(HC_VERSION));
	assert_true(hc_is_syshyper(HC_MED_RESYNC));
	assert_true(hc_is_syshyper(hc_function_id(0x1c6000002ULL)));
	assert_false(hc_is_syshyper(0x84000008u)); /* PSCI SYSTEM_OFF */
	assert_false(hc_is_syshyper(0x86000000u)); /* SMC32 convention */
	assert_false(hc_is_syshyper(0xc6010000u)); /* bits 23:16 set */
	assert_false(hc_is_syshyper(0x46000000u)); /* yielding call */
}

static void test_user_allow_list(void **state)
{
	(void)state;
	assert_true(hc_user_allowed(HC_VERSION));
	assert_true(hc_user_allowed(HC_VM_COUNT));
	assert_true(hc_user_allowed(HC_VM_INFO));
	/* the module registers the area; the daemon has ioctls for the rest */
	assert_false(hc_user_allowed(HC_MED_REGISTER));
	assert_false(hc_user_allowed(HC_MED_COMPLETE));
	assert_false(hc_user_allowed(HC_MED_RESYNC));
	assert_false(hc_user_allowed(HC_MED_POLL));
	assert_false(hc_user_allowed(HC_FID(3)));
	assert_false(hc_user_allowed(HC_FID(0xffff)));
	assert_false(hc_user_allowed(0x84000008u));
	assert_false(hc_user_allowed(0));
}

/* Finding 6: the old filter compared 64 bits, the HVC passed 32. */
static void test_high_bits_refused(void **state)
{
	(void)state;
	assert_false(hc_user_allowed(0x1c6000010ULL)); /* would reach HC_MED_REGISTER */
	assert_false(hc_user_allowed(0x1c6000002ULL)); /* HC_VM_INFO, user's buffer */
	assert_false(hc_user_allowed(0x1c6000000ULL));
	assert_false(hc_user_allowed(0xffffffffc6000001ULL));
	assert_false(hc_user_allowed(0x100000000ULL | HC_VM_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_function_id_is_w0),
		cmocka_unit_test(test_is_syshyper),
		cmocka_unit_test(test_user_allow_list),
		cmocka_unit_test(test_high_bits_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
