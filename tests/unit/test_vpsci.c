/* PSCI for guests (finding 10 of issue 7): CPU_ON checks the VM's state
 * (no restart of a sibling after SYSTEM_OFF or while the VM stops), the
 * target's state and the entry address; powering off withdraws pending
 * CPU_ONs; a pending start is dropped when the VM stops; bad MPIDRs and
 * 32-bit calling convention arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/gic.h"
#include "core/percpu.h"
#include "lib/ratelimit.h"
#include "arch/arm64/sysreg.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "core/vpsci.h"

/* ---------------------------------------------------------------- stubs:
 * a VM of three vCPUs on CPUs 0-2 with 16 MiB of RAM at 0x40000000 */
#define RAM_IPA 0x40000000UL
#define RAM_SIZE 0x1000000UL

static struct vm vm;
static struct cfg_vm cfg = {.role = VM_ROLE_GVM};
static struct pcpu cpus[3];
static unsigned cur_cpu;
static jmp_buf halted;
static unsigned sgis[3][4]; /* [pcpu][sgi] sent */

struct pcpu *this_cpu(void)
{
	return &cpus[cur_cpu];
}

void gic_send_sgi(unsigned pcpu, unsigned sgi)
{
	assert_true(pcpu < 3 && sgi < 4);
	sgis[pcpu][sgi]++;
}

struct vcpu *vm_find_vcpu_by_mpidr(struct vm *v, uint64_t mpidr)
{
	for (unsigned i = 0; i < v->ncpus; i++)
		if (v->vcpus[i].vmpidr == (mpidr & MPIDR_AFF_MASK))
			return &v->vcpus[i];
	return NULL;
}

void *vm_ipa_to_hva(const struct vm *v, ipa_t ipa, uint64_t len)
{
	static uint8_t byte;
	(void)v;
	return ipa >= RAM_IPA && ipa - RAM_IPA < RAM_SIZE && len <= RAM_SIZE - (ipa - RAM_IPA)
		       ? &byte
		       : NULL;
}

void vm_log(struct vm *v, enum log_cause cause, const char *fmt, ...)
{
	(void)v, (void)cause, (void)fmt;
}

int printk(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

void vcpu_halt(struct vcpu *vcpu)
{
	vcpu->state = VCPU_OFF;
	longjmp(halted, 1);
}

void stats_print_all(void)
{
}

static unsigned guest_offs; /* the lifecycle was told of SYSTEM_OFF/RESET */
void vm_life_guest_off(struct vm *v, bool reset)
{
	(void)v, (void)reset;
	guest_offs++;
}

void psci_system_off(void)
{
	fail_msg("a GVM powered the machine off");
	abort();
}

void psci_system_reset(void)
{
	fail_msg("a GVM reset the machine");
	abort();
}

static void vm_setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(sgis, 0, sizeof(sgis));
	guest_offs = 0;
	vm.cfg = &cfg;
	vm.name = "gvm";
	vm.state = VM_RUNNING;
	vm.ncpus = 3;
	for (unsigned i = 0; i < 3; i++) {
		vm.vcpus[i] = (struct vcpu){.vm = &vm, .id = i, .pcpu = i, .vmpidr = i};
		cpus[i].id = i;
	}
	vm.vcpus[0].state = VCPU_RUNNING;
	vm.vcpus[1].state = VCPU_RUNNING;
	vm.vcpus[2].state = VCPU_OFF;
}

/* One PSCI call by vCPU `from` (on its own CPU); returns x0. */
static int64_t call(unsigned from, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct vcpu *v = &vm.vcpus[from];
	cur_cpu = v->pcpu;
	v->regs.x[0] = fid;
	v->regs.x[1] = a1;
	v->regs.x[2] = a2;
	v->regs.x[3] = a3;
	if (setjmp(halted))
		return 0x7fffffff; /* the caller halted */
	assert_true(vpsci_handle(v, fid));
	return (int64_t)v->regs.x[0];
}

#define CPU_ON 0xc4000003UL
#define CPU_ON32 0x84000003UL
#define SYSTEM_OFF 0x84000008UL
#define AFFINITY_INFO 0xc4000004UL

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

/* Finding 10: after vCPU 0's SYSTEM_OFF, vCPU 1 (not yet stopped by its
 * IPI) asks to start vCPU 2: refused, and a CPU_ON still pending when the
 * VM went off is withdrawn. */
static void test_no_restart_after_system_off(void **state)
{
	(void)state;
	vm_setup();
	assert_int_equal(call(0, CPU_ON, 2, RAM_IPA, 0), PSCI_SUCCESS);
	assert_int_equal(vm.vcpus[2].state, VCPU_PENDING_ON);
	assert_int_equal(sgis[2][IPI_VCPU_ON], 1);
	assert_int_equal(call(0, SYSTEM_OFF, 0, 0, 0), 0x7fffffff);
	assert_int_equal(vm.state, VM_STOPPED);
	assert_int_equal(guest_offs, 1);
	assert_int_equal(vm.vcpus[2].state, VCPU_OFF); /* pending start withdrawn */
	assert_int_equal(sgis[1][IPI_STOP], 1);        /* the running sibling is kicked */
	assert_int_equal(sgis[0][IPI_STOP], 0);        /* not the caller */
	/* the kicked sibling's CPU_ON, before it takes the IPI */
	assert_true(call(1, CPU_ON, 2, RAM_IPA, 0) < 0);
	assert_int_equal(vm.vcpus[2].state, VCPU_OFF);
	assert_int_equal(sgis[2][IPI_VCPU_ON], 1);
	/* and vCPU 2's CPU, had it seen the IPI late, does not start it */
	assert_false(vcpu_claim_start(&vm.vcpus[2]));
}

static void test_cpu_on_target_and_entry(void **state)
{
	(void)state;
	vm_setup();
	assert_int_equal(call(0, CPU_ON, 1, RAM_IPA, 0), PSCI_ALREADY_ON);
	assert_int_equal(call(0, CPU_ON, 0, RAM_IPA, 0), PSCI_ALREADY_ON); /* itself */
	assert_int_equal(call(0, CPU_ON, 3, RAM_IPA, 0), PSCI_INVALID_PARAMS);
	assert_int_equal(call(0, CPU_ON, 2 | 1UL << 31, RAM_IPA, 0), PSCI_INVALID_PARAMS);
	assert_int_equal(call(0, CPU_ON, 2, RAM_IPA + RAM_SIZE, 0), PSCI_INVALID_ADDRESS);
	assert_int_equal(call(0, CPU_ON, 2, 0x09000000, 0), PSCI_INVALID_ADDRESS); /* a device */
	assert_int_equal(call(0, CPU_ON, 2, RAM_IPA + 2, 0), PSCI_INVALID_ADDRESS);
	assert_int_equal(vm.vcpus[2].state, VCPU_OFF);
	assert_int_equal(sgis[2][IPI_VCPU_ON], 0);
	assert_int_equal(call(0, CPU_ON, 2, RAM_IPA + 0x1000, 0x1234), PSCI_SUCCESS);
	assert_int_equal(call(1, CPU_ON, 2, RAM_IPA, 0), PSCI_ON_PENDING);
	assert_int_equal(vm.vcpus[2].on_entry,
			 RAM_IPA + 0x1000); /* the second call changed nothing */
	assert_int_equal(vm.vcpus[2].on_ctx, 0x1234);
	assert_int_equal(call(0, AFFINITY_INFO, 2, 0, 0), 2); /* ON_PENDING */
	cur_cpu = 2;
	assert_true(vcpu_claim_start(&vm.vcpus[2]));
	assert_int_equal(vm.vcpus[2].state, VCPU_RUNNING);
	assert_int_equal(call(0, AFFINITY_INFO, 2, 0, 0), 0);
	assert_int_equal(call(0, AFFINITY_INFO, 2, 1, 0), PSCI_INVALID_PARAMS);
}

/* SMC32 calls carry 32-bit arguments and SMCCC ids are w0: the upper
 * halves are not the caller's to use. */
static void test_32bit_calls(void **state)
{
	(void)state;
	vm_setup();
	assert_int_equal(call(0, CPU_ON32, 0xffffffff00000002UL, 0xffffffff00000000UL | RAM_IPA, 0),
			 PSCI_SUCCESS);
	assert_int_equal(vm.vcpus[2].on_entry, RAM_IPA);
	assert_int_equal(call(0, 0xdead000000000000UL | 0x84000000UL, 0, 0, 0),
			 0x10001); /* VERSION */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_on_answers),
		cmocka_unit_test(test_cpu_on_refused_while_vm_stops),
		cmocka_unit_test(test_power_off_handles_pending),
		cmocka_unit_test(test_claim_start),
		cmocka_unit_test(test_mpidr_and_arguments),
		cmocka_unit_test(test_no_restart_after_system_off),
		cmocka_unit_test(test_cpu_on_target_and_entry),
		cmocka_unit_test(test_32bit_calls),
	};
	return cmocka_run_group_tests_name("vpsci", tests, NULL, NULL);
}
