/* PSCI decisions for guests (PSCI 1.1, DEN0022): pure, see vpsci.h. */
#include "core/vpsci.h"
#include "core/vcpu.h"

#define SMC64_BIT 0x40000000u

uint64_t psci_arg(uint32_t fid, uint64_t reg)
{
	return fid & SMC64_BIT ? reg : (uint32_t)reg;
}

bool psci_mpidr_valid(uint64_t mpidr)
{
	return !(mpidr & ~PSCI_MPIDR_AFF_MASK);
}

int64_t psci_cpu_on_check(bool vm_running, int target_state, bool entry_ok)
{
	if (!vm_running)
		return PSCI_INTERNAL_FAILURE; /* DENIED is not a CPU_ON answer */
	if (target_state == VCPU_RUNNING)
		return PSCI_ALREADY_ON;
	if (target_state == VCPU_PENDING_ON)
		return PSCI_ON_PENDING;
	if (!entry_ok)
		return PSCI_INVALID_ADDRESS;
	return PSCI_SUCCESS;
}

enum psci_off_action psci_power_off_action(int vcpu_state, bool is_caller)
{
	if (vcpu_state == VCPU_PENDING_ON)
		return PSCI_OFF_CANCEL;
	if (vcpu_state == VCPU_RUNNING && !is_caller)
		return PSCI_OFF_KICK;
	return PSCI_OFF_NOTHING;
}

bool psci_claim_start(int *state, bool vm_running)
{
	if (*state != VCPU_PENDING_ON)
		return false;
	*state = vm_running ? VCPU_RUNNING : VCPU_OFF;
	return vm_running;
}
