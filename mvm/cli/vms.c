/* VMs by name, their states, and waiting for a state. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *const state_names[] = {
	[HC_VM_STOPPED] = "stopped",   [HC_VM_RUNNING] = "running", [HC_VM_STARTING] = "starting",
	[HC_VM_STOPPING] = "stopping", [HC_VM_CRASHED] = "crashed",
};

const char *vm_state_name(uint64_t state)
{
	if (state < sizeof(state_names) / sizeof(state_names[0]) && state_names[state])
		return state_names[state];
	return "unknown";
}

int vm_find(const char *name, struct vm *vm)
{
	int n = hv_vm_count();

	if (n < 0)
		return -n;
	for (int i = 0; i < n; i++) {
		int err = hv_vm_info((unsigned)i, &vm->info);
		if (err)
			return err;
		if (!strcmp(vm->info.name, name)) {
			vm->idx = (unsigned)i;
			return EX_OK;
		}
	}
	return cli_fail(EX_NOVM, "no VM named '%s' (syshyper list shows them)", name);
}

int vm_refresh(struct vm *vm)
{
	return hv_vm_info(vm->idx, &vm->info);
}

int vm_is_gvm(const struct vm *vm)
{
	return !vm->info.is_mvm;
}

int vm_is_down(const struct vm *vm)
{
	return vm->info.state == HC_VM_STOPPED || vm->info.state == HC_VM_CRASHED;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

int vm_wait_down(struct vm *vm, unsigned timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms, seen = 0;
	int err;

	/* read the event count first: a change after it wakes the wait */
	hv_wait_event(&seen, 0);
	for (;;) {
		if ((err = vm_refresh(vm)))
			return err;
		if (vm_is_down(vm))
			return EX_OK;
		uint64_t now = now_ms();
		if (now >= deadline)
			return EX_TIMEOUT;
		uint64_t left = deadline - now;
		hv_wait_event(&seen, left < 1000 ? (unsigned)left : 1000);
	}
}
