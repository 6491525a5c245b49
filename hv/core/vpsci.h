/* The guest-facing PSCI rules, kept apart from the CPU plumbing so they can
 * be unit-tested: which answer a call gets for the VM's and vCPU's state. */
#ifndef VPSCI_H
#define VPSCI_H
#include "lib/types.h"

#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1L)
#define PSCI_INVALID_PARAMS (-2L)
#define PSCI_DENIED (-3L)
#define PSCI_ALREADY_ON (-4L)
#define PSCI_ON_PENDING (-5L)
#define PSCI_INTERNAL_FAILURE (-6L)
#define PSCI_INVALID_ADDRESS (-9L)

/* MPIDR fields PSCI takes as a target: Aff3 [39:32], Aff2..Aff0 [23:0] */
#define PSCI_MPIDR_AFF_MASK 0xff00ffffffUL

/* SMC32/HVC32 calls (bit 30 of the function id clear) pass 32-bit
 * arguments: the upper halves of x1..x3 are not the caller's. */
uint64_t psci_arg(uint32_t fid, uint64_t reg);

/* Whether `mpidr` can name a CPU at all (no bits outside the affinity). */
bool psci_mpidr_valid(uint64_t mpidr);

/* CPU_ON's answer: `vm_running` false while the VM is stopping or stopped
 * (no vCPU may be started then), `target_state` an enum vcpu_state,
 * `entry_ok` whether the entry address is in the VM's RAM. */
int64_t psci_cpu_on_check(bool vm_running, int target_state, bool entry_ok);

/* What powering a VM off does to one of its vCPUs. */
enum psci_off_action {
	PSCI_OFF_NOTHING, /* already off, or the caller itself (halts after) */
	PSCI_OFF_CANCEL,  /* CPU_ON pending: withdraw it before it starts */
	PSCI_OFF_KICK     /* running elsewhere: IPI it to halt */
};
enum psci_off_action psci_power_off_action(int vcpu_state, bool is_caller);

/* The vCPU's CPU may start it (state PENDING_ON): true if it goes
 * RUNNING, false if it must stay off because the VM stops. Updates
 * *state. */
bool psci_claim_start(int *state, bool vm_running);
struct vcpu;
/* A guest's PSCI call (HVC/SMC with a PSCI function id); false if `fid` is
 * not PSCI. */
bool vpsci_handle(struct vcpu *vcpu, uint64_t fid);
#endif
