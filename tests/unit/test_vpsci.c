/* PSCI for guests (finding 10 of issue 7): CPU_ON checks the VM's state
 * (no restart of a sibling after SYSTEM_OFF or while the VM stops), the
 * target's state and the entry address; powering off withdraws pending
 * CPU_ONs; a pending start is dropped when the VM stops; bad MPIDRs and
 * 32-bit calling convention arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "vcpu.h"
#include "vpsci.h"

static void test_cpu_on_answers(void **state)
{
	(void)state;
	assert_int_equal(psci_cpu_on_check(true, VCPU_OFF, true), PSCI_SUCCESS);
	assert_int_equal(psci_cpu_on_check(true, VCPU_RUNNING, true), PSCI_ALREADY_ON);
	assert_int_equal(psci_cpu_on_check(true, VCPU_PENDING_ON, true), PSCI_ON_PENDING);
	assert_int_equal(psci_cpu_on_check(true, VCPU_OFF, false), PSCI_INVALID_ADDRESS);
	/* already on wins over a bad address: the call could not start it anyway */
	assert_int_equal(psci_cpu_on_check(true, VCPU_RUNNING, false), PSCI_ALREADY_ON);
}

static void test_cpu_on_refused_while_vm_stops(void **state)
{
	(void)state;
	/* after a sibling's SYSTEM_OFF the VM is stopped: no vCPU comes back */
	assert_int_equal(psci_cpu_on_check(false, VCPU_OFF, true), PSCI_INTERNAL_FAILURE);
	assert_int_equal(psci_cpu_on_check(false, VCPU_PENDING_ON, true), PSCI_INTERNAL_FAILURE);
}

static void test_power_off_handles_pending(void **state)
{
	(void)state;
	assert_int_equal(psci_power_off_action(VCPU_PENDING_ON, false), PSCI_OFF_CANCEL);
	assert_int_equal(psci_power_off_action(VCPU_RUNNING, false), PSCI_OFF_KICK);
	assert_int_equal(psci_power_off_action(VCPU_RUNNING, true), PSCI_OFF_NOTHING);
	assert_int_equal(psci_power_off_action(VCPU_OFF, false), PSCI_OFF_NOTHING);
}

static void test_claim_start(void **state)
{
	int s;
	(void)state;
	s = VCPU_PENDING_ON;
	assert_true(psci_claim_start(&s, true));
	assert_int_equal(s, VCPU_RUNNING);
	/* the VM stopped between CPU_ON and the target CPU waking: stays off */
	s = VCPU_PENDING_ON;
	assert_false(psci_claim_start(&s, false));
	assert_int_equal(s, VCPU_OFF);
	/* a cancelled CPU_ON is not started */
	s = VCPU_OFF;
	assert_false(psci_claim_start(&s, true));
	assert_int_equal(s, VCPU_OFF);
	s = VCPU_RUNNING;
	assert_false(psci_claim_start(&s, true));
	assert_int_equal(s, VCPU_RUNNING);
}

static void test_mpidr_and_arguments(void **state)
{
	(void)state;
	assert_true(psci_mpidr_valid(0));
	assert_true(psci_mpidr_valid(0xff00ffffffUL));
	assert_false(psci_mpidr_valid(1UL << 31)); /* MPIDR_EL1.U/RES1 bits are not affinity */
	assert_false(psci_mpidr_valid(1UL << 24)); /* MT */
	assert_false(psci_mpidr_valid(0xffffffffffffffffUL));
	/* CPU_ON by SMC32 (0x84000003): only w1..w3 count */
	assert_int_equal(psci_arg(0x84000003u, 0xdead000000000001UL), 1);
	assert_int_equal(psci_arg(0xc4000003u, 0xdead000000000001UL), 0xdead000000000001UL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_on_answers),
		cmocka_unit_test(test_cpu_on_refused_while_vm_stops),
		cmocka_unit_test(test_power_off_handles_pending),
		cmocka_unit_test(test_claim_start),
		cmocka_unit_test(test_mpidr_and_arguments),
	};
	return cmocka_run_group_tests_name("vpsci", tests, NULL, NULL);
}
