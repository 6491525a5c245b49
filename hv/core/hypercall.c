/* sysHyper hypercalls (see include/syshyper/hypercall.h). */
#include "core/hypercall.h"

#include "arch/arm64/arch.h"
#include "lib/lib.h"
#include "blk/mediated.h"
#include "syshyper/hypercall.h"
#include "syshyper/mediated.h"
#include "core/vm.h"

static bool caller_is_mvm(struct vcpu *vcpu)
{
	return vcpu->vm->cfg->role == VM_ROLE_MVM;
}

static void fill_vm_info(const struct vm *vm, struct hc_vm_info *info)
{
	memset(info, 0, sizeof(*info));
	memcpy(info->name, vm->name, MIN(strlen(vm->name), (size_t)HC_NAME_LEN - 1));
	info->ncpus = vm->ncpus;
	for (unsigned i = 0; i < vm->cfg->nmem; i++)
		info->mem_bytes += vm->cfg->mem[i].size;
	for (unsigned c = 0; c < vm->ncpus; c++) {
		const struct vcpu_stats *s = &vm->vcpus[c].stats;
		for (unsigned t = 0; t < TRAP_NR && t < HC_TRAP_CAUSES; t++)
			info->traps[t] += s->traps[t];
		info->mmio_reads += s->mmio_reads;
		info->mmio_writes += s->mmio_writes;
		info->hypercalls += s->hypercalls;
		info->irqs_injected += s->irqs_injected;
		info->guest_us += timer_ticks_to_us(s->guest_ticks);
	}
	vm_life_fill_info(vm, info);
}

static int64_t hc_vm_info(struct vcpu *vcpu, uint64_t index, ipa_t buf)
{
	struct hc_vm_info *info;

	if (index >= nvms || !IS_ALIGNED(buf, 8)) /* the struct's alignment */
		return HC_ERR_INVALID;
	info = vm_ipa_to_hva(vcpu->vm, buf, sizeof(*info));
	if (!info)
		return HC_ERR_INVALID;
	fill_vm_info(&vms[index], info);
	return HC_OK;
}

/* `x0` as the guest left it: the function id is its low 32 bits (SMCCC's
 * w0), whatever bits 63:32 hold. */
bool hypercall_handle(struct vcpu *vcpu, uint64_t x0)
{
	uint32_t fid = hc_function_id(x0);
	uint64_t *x = vcpu->regs.x;

	if (!hc_is_syshyper(fid))
		return false;
	if (!caller_is_mvm(vcpu)) {
		x[0] = (uint64_t)HC_ERR_DENIED;
		return true;
	}
	switch (fid) {
	case HC_VERSION:
		x[0] = HC_OK;
		x[1] = HC_ABI_VERSION;
		break;
	case HC_VM_COUNT:
		x[0] = HC_OK;
		x[1] = nvms;
		break;
	case HC_VM_INFO:
		x[0] = (uint64_t)hc_vm_info(vcpu, x[1], x[2]);
		break;
	case HC_VM_LOAD:
	case HC_VM_START:
	case HC_VM_STOP:
		x[0] = (uint64_t)vm_life_hypercall(vcpu, fid, x);
		break;
	case HC_MED_REGISTER:
	case HC_MED_COMPLETE:
	case HC_MED_RESYNC:
	case HC_MED_POLL:
		x[0] = (uint64_t)mediated_hypercall(vcpu, fid, x[1], x[2]);
		break;
	default:
		x[0] = (uint64_t)HC_ERR_INVALID;
	}
	return true;
}
