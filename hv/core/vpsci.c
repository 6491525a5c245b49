/* PSCI 1.1 for guests (by HVC or SMC): CPU_ON/OFF of their own vCPUs,
 * system off/reset of their own VM. */
#include "arch.h"
#include "gic.h"
#include "hv.h"
#include "percpu.h"
#include "print.h"
#include "vm.h"

#define PSCI_VERSION 0x84000000UL
#define PSCI_CPU_SUSPEND 0xc4000001UL
#define PSCI_CPU_OFF 0x84000002UL
#define PSCI_CPU_ON 0xc4000003UL
#define PSCI_AFFINITY_INFO 0xc4000004UL
#define PSCI_MIGRATE_INFO_TYPE 0x84000006UL
#define PSCI_SYSTEM_OFF 0x84000008UL
#define PSCI_SYSTEM_RESET 0x84000009UL
#define PSCI_FEATURES 0x8400000aUL
#define SMCCC_VERSION 0x80000000UL

#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1L)
#define PSCI_INVALID_PARAMS (-2L)
#define PSCI_ALREADY_ON (-4L)
#define PSCI_ON_PENDING (-5L)

/* 32-bit callers use 0x84.. ids for the 0xc4.. calls. */
static uint64_t to_smc64(uint64_t fid)
{
	return (fid & 0xff000000UL) == 0x84000000UL && (fid & 0xff) >= 1 && (fid & 0xff) <= 4 &&
			       (fid & 0xff) != 2
		       ? fid | 0x40000000UL
		       : fid;
}

static int64_t cpu_on(struct vcpu *caller, uint64_t mpidr, uint64_t entry, uint64_t ctx)
{
	struct vcpu *t = vm_find_vcpu_by_mpidr(caller->vm, mpidr);

	if (!t)
		return PSCI_INVALID_PARAMS;
	if (t->state == VCPU_RUNNING)
		return PSCI_ALREADY_ON;
	if (t->state == VCPU_PENDING_ON)
		return PSCI_ON_PENDING;
	t->on_entry = entry;
	t->on_ctx = ctx;
	dsb(ish);
	t->state = VCPU_PENDING_ON;
	dsb(ish);
	gic_send_sgi(t->pcpu, IPI_VCPU_ON);
	return PSCI_SUCCESS;
}

static int64_t affinity_info(struct vcpu *caller, uint64_t mpidr)
{
	struct vcpu *t = vm_find_vcpu_by_mpidr(caller->vm, mpidr);

	if (!t)
		return PSCI_INVALID_PARAMS;
	return t->state == VCPU_RUNNING ? 0 : t->state == VCPU_PENDING_ON ? 2 : 1;
}

static int64_t features(uint64_t fid)
{
	switch (to_smc64(fid)) {
	case PSCI_VERSION:
	case PSCI_CPU_SUSPEND:
	case PSCI_CPU_OFF:
	case PSCI_CPU_ON:
	case PSCI_AFFINITY_INFO:
	case PSCI_MIGRATE_INFO_TYPE:
	case PSCI_SYSTEM_OFF:
	case PSCI_SYSTEM_RESET:
	case PSCI_FEATURES:
		return PSCI_SUCCESS;
	default:
		return PSCI_NOT_SUPPORTED;
	}
}

static void __attribute__((noreturn)) system_off(struct vcpu *vcpu, bool reset)
{
	struct vm *vm = vcpu->vm;

	printk("vm %s: system %s\n", vm->name, reset ? "reset" : "off");
	if (vm->cfg->role == VM_ROLE_MVM) {
		stats_print_all();
		if (reset)
			psci_system_reset();
		psci_system_off();
	}
	vm_power_off(vm);
	vcpu_halt(vcpu);
}

bool vpsci_handle(struct vcpu *vcpu, uint64_t fid)
{
	uint64_t *x = vcpu->regs.x;
	int64_t ret;

	switch (to_smc64(fid)) {
	case PSCI_VERSION:
		ret = 0x10001; /* 1.1 */
		break;
	case PSCI_CPU_SUSPEND:
		ret = PSCI_SUCCESS; /* a standby: return as if woken */
		break;
	case PSCI_CPU_OFF:
		vcpu_halt(vcpu);
	case PSCI_CPU_ON:
		ret = cpu_on(vcpu, x[1], x[2], x[3]);
		break;
	case PSCI_AFFINITY_INFO:
		ret = affinity_info(vcpu, x[1]);
		break;
	case PSCI_MIGRATE_INFO_TYPE:
		ret = 2; /* no trusted OS to migrate */
		break;
	case PSCI_SYSTEM_OFF:
		system_off(vcpu, false);
	case PSCI_SYSTEM_RESET:
		system_off(vcpu, true);
	case PSCI_FEATURES:
		ret = features(x[1]);
		break;
	case SMCCC_VERSION:
		ret = 0x10001; /* SMCCC 1.1 */
		break;
	default:
		if ((fid & 0xff000000UL) != 0x84000000UL && (fid & 0xff000000UL) != 0xc4000000UL)
			return false;
		ret = PSCI_NOT_SUPPORTED;
	}
	x[0] = (uint64_t)ret;
	return true;
}

/* Stops every vCPU of a VM (the others are kicked to halt themselves). */
void vm_power_off(struct vm *vm)
{
	vm->state = VM_STOPPED;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->pcpu != this_cpu()->id && v->state == VCPU_RUNNING)
			gic_send_sgi(v->pcpu, IPI_STOP);
	}
}
