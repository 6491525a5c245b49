/* PSCI 1.1 for guests (by HVC or SMC): CPU_ON/OFF of their own vCPUs,
 * system off/reset of their own VM. */
#include "arch/arm64/arch.h"
#include "drivers/gic.h"
#include "core/stats.h"
#include "core/vcpu.h"
#include "core/percpu.h"
#include "core/print.h"
#include "arch/arm64/spinlock.h"
#include "core/vm.h"
#include "core/vpsci.h"

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

/* 32-bit callers use 0x84.. ids for the 0xc4.. calls. */
static uint64_t to_smc64(uint64_t fid)
{
	return (fid & 0xff000000UL) == 0x84000000UL && (fid & 0xff) >= 1 && (fid & 0xff) <= 4 &&
			       (fid & 0xff) != 2
		       ? fid | 0x40000000UL
		       : fid;
}

/* The target's power_lock orders CPU_ON against vm_power_off and against
 * the target's CPU taking the start (vcpu_claim_start). */
static int64_t cpu_on(struct vcpu *caller, uint64_t mpidr, uint64_t entry, uint64_t ctx)
{
	struct vm *vm = caller->vm;
	struct vcpu *t = psci_mpidr_valid(mpidr) ? vm_find_vcpu_by_mpidr(vm, mpidr) : NULL;
	bool entry_ok = IS_ALIGNED(entry, 4) && vm_ipa_to_hva(vm, entry, 4);
	int64_t ret;

	if (!t) {
		vm_log(vm, LOG_PSCI, "CPU_ON of unknown MPIDR 0x%lx\n", (unsigned long)mpidr);
		return PSCI_INVALID_PARAMS;
	}
	spin_lock(&t->power_lock);
	ret = psci_cpu_on_check(__atomic_load_n(&vm->state, __ATOMIC_SEQ_CST) == VM_RUNNING,
				t->state, entry_ok);
	if (ret == PSCI_SUCCESS) {
		t->on_entry = entry;
		t->on_ctx = ctx;
		__atomic_store_n(&t->state, VCPU_PENDING_ON, __ATOMIC_RELEASE);
	}
	spin_unlock(&t->power_lock);
	if (ret == PSCI_SUCCESS)
		gic_send_sgi(t->pcpu, IPI_VCPU_ON);
	else if (ret == PSCI_INVALID_ADDRESS)
		vm_log(vm, LOG_PSCI, "CPU_ON of vCPU %u at 0x%lx: not in the VM's RAM\n", t->id,
		       (unsigned long)entry);
	return ret;
}

static int64_t affinity_info(struct vcpu *caller, uint64_t mpidr, uint64_t level)
{
	struct vcpu *t = psci_mpidr_valid(mpidr) ? vm_find_vcpu_by_mpidr(caller->vm, mpidr) : NULL;

	if (!t || level != 0) /* only level 0: each vCPU is its own node */
		return PSCI_INVALID_PARAMS;
	int s = READ_ONCE(t->state);
	return s == VCPU_RUNNING ? 0 : s == VCPU_PENDING_ON ? 2 : 1;
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
	vm_life_guest_off(vm, reset); /* STOPPED, or to be restarted by the MVM */
	vm_power_off(vm);
	vcpu_halt(vcpu);
}

bool vpsci_handle(struct vcpu *vcpu, uint64_t x0)
{
	uint32_t fid = (uint32_t)x0; /* SMCCC: the function id is w0 */
	uint64_t *x = vcpu->regs.x;
	uint64_t a1 = psci_arg(fid, x[1]), a2 = psci_arg(fid, x[2]), a3 = psci_arg(fid, x[3]);
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
		ret = cpu_on(vcpu, a1, a2, a3);
		break;
	case PSCI_AFFINITY_INFO:
		ret = affinity_info(vcpu, a1, a2);
		break;
	case PSCI_MIGRATE_INFO_TYPE:
		ret = 2; /* no trusted OS to migrate */
		break;
	case PSCI_SYSTEM_OFF:
		system_off(vcpu, false);
	case PSCI_SYSTEM_RESET:
		system_off(vcpu, true);
	case PSCI_FEATURES:
		ret = features((uint32_t)a1);
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

/* Stops every vCPU of a VM: pending CPU_ONs are withdrawn, running vCPUs
 * on other CPUs are kicked to halt themselves (guest_handle_irq), and a
 * CPU about to start one sees the VM stopped (vcpu_claim_start). The
 * caller's own vCPU halts after. */
void vm_power_off(struct vm *vm)
{
	__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		spin_lock(&v->power_lock);
		switch (psci_power_off_action(v->state, v->pcpu == this_cpu()->id)) {
		case PSCI_OFF_CANCEL:
			__atomic_store_n(&v->state, VCPU_OFF, __ATOMIC_SEQ_CST);
			break;
		case PSCI_OFF_KICK:
			gic_send_sgi(v->pcpu, IPI_STOP);
			break;
		default:
			break;
		}
		spin_unlock(&v->power_lock);
	}
}

/* On the vCPU's own CPU, before starting it: takes a pending CPU_ON unless
 * the VM has been stopped meanwhile. */
bool vcpu_claim_start(struct vcpu *v)
{
	bool start;
	int s;

	spin_lock(&v->power_lock);
	s = v->state;
	start = psci_claim_start(&s,
				 __atomic_load_n(&v->vm->state, __ATOMIC_SEQ_CST) == VM_RUNNING);
	__atomic_store_n(&v->state, s, __ATOMIC_SEQ_CST);
	spin_unlock(&v->power_lock);
	return start;
}
