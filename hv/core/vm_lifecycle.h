/* A VM's lifecycle: stopped, starting, running, stopping, crashed (the
 * HC_VM_* states of include/syshyper/hypercall.h), driven by the MVM's
 * HC_VM_LOAD/START/STOP, by the guest (PSCI SYSTEM_OFF/RESET, a fatal
 * vCPU condition) and by the VM's own CPU (vCPU 0 entered, clean-up done).
 *
 * life_apply() is the pure state machine (vm_life_rules.c, unit-tested);
 * vm_life_*() do the work on the hypervisor's CPUs (vm_lifecycle.c). */
#ifndef VM_LIFECYCLE_H
#define VM_LIFECYCLE_H
#include "arch/arm64/spinlock.h"
#include "lib/types.h"
#include "syshyper/hypercall.h"
#include "virtio/virtq.h"

enum life_state {
	LIFE_STOPPED = HC_VM_STOPPED,
	LIFE_RUNNING = HC_VM_RUNNING,
	LIFE_STARTING = HC_VM_STARTING,
	LIFE_STOPPING = HC_VM_STOPPING,
	LIFE_CRASHED = HC_VM_CRASHED,
};

enum life_cmd {
	LIFE_LOAD,         /* HC_VM_LOAD (a copy begins) */
	LIFE_START,        /* HC_VM_START */
	LIFE_STOP_REQUEST, /* HC_VM_STOP, HC_STOP_REQUEST */
	LIFE_STOP_FORCE,   /* HC_VM_STOP, HC_STOP_FORCE */
	LIFE_GUEST_OFF,    /* PSCI SYSTEM_OFF from the guest */
	LIFE_GUEST_RESET,  /* PSCI SYSTEM_RESET from the guest */
	LIFE_GUEST_CRASH,  /* a vCPU hit a fatal condition */
	LIFE_ENTERED,      /* vCPU 0 is about to enter the guest */
	LIFE_CLEANED,      /* vCPUs parked, devices reset, RAM zeroed */
	LIFE_NCMDS
};

/* What the plumbing must do after a command (life.actions). */
#define LIFE_ACT_PARK BIT(0)   /* stop the vCPUs; clean up on vCPU 0's CPU */
#define LIFE_ACT_BOOT BIT(1)   /* release vCPU 0 at the kernel entry */
#define LIFE_ACT_BUTTON BIT(2) /* press the virtual power button */
#define LIFE_ACT_EVENT BIT(3)  /* the state or want changed: tell the MVM */

/* The state machine's own data; a VM's is guarded by vm_life.lock. */
struct life {
	int state;        /* enum life_state */
	int outcome;      /* STOPPING ends in this: LIFE_STOPPED or LIFE_CRASHED */
	uint32_t want;    /* HC_WANT_* */
	uint32_t loads;   /* HC_VM_LOAD copies in progress (no START meanwhile) */
	uint32_t io;      /* atomic: block requests at the MVM or a disk (life_io_*) */
	uint32_t actions; /* LIFE_ACT_* of the last command */
};

/* A block request of the VM goes to the MVM or the hypervisor's disk
 * driver / has left it (completed, or retired after a stop: its data then
 * never reaches the VM, but a write reached the disk). No START while any
 * is out: an old write must not land over the next instance's. Balanced by
 * the backends; no lock (they count under their own). */
static inline void life_io_begin(struct life *l)
{
	__atomic_add_fetch(&l->io, 1, __ATOMIC_SEQ_CST);
}

static inline void life_io_end(struct life *l)
{
	__atomic_sub_fetch(&l->io, 1, __ATOMIC_SEQ_CST);
}

/* Applies `cmd`: HC_OK, or HC_ERR_STATE with nothing changed except that a
 * STOP of a VM that is down withdraws a pending restart (want). Commands
 * that cannot happen in a state (a guest call while no vCPU runs, a stale
 * ENTERED or CLEANED) are HC_ERR_STATE and change nothing. A START of a VM
 * that is down while l->io is not 0 is HC_ERR_BUSY and changes nothing. */
int64_t life_apply(struct life *l, enum life_cmd cmd);

/* HC_VM_LOAD's address checks: len in 1..HC_LOAD_CHUNK, both addresses
 * HC_LOAD_ALIGN-aligned, [dst, dst+len) inside one region of `dst_mem` and
 * [src, src+len) inside one of `src_mem` (64-bit, no wrap-around), and the
 * two host ranges overlapping neither each other nor [hv_lo, hv_hi). On
 * HC_OK *dptr, *sptr are the host pointers. */
int64_t life_load_check(const struct guest_mem *dst_mem, ipa_t dst, const struct guest_mem *src_mem,
			ipa_t src, uint64_t len, uint64_t hv_lo, uint64_t hv_hi, void **dptr,
			void **sptr);

/* ---------------------------------------------------------------- plumbing */
struct vm;
struct vcpu;
struct hc_vm_info;

struct vm_life {
	spinlock_t lock;
	struct life l;
	uint64_t starts;     /* boot start included */
	uint64_t events;     /* state/want changes */
	uint64_t started_at; /* counter value at the last start */
	uint64_t button_at;  /* counter value when the power button was pressed */
	bool button_held;
	char reason[HC_REASON_LEN];
};

/* HC_VM_LOAD, HC_VM_START, HC_VM_STOP from the MVM (already checked to be
 * the caller); x = the caller's registers. */
int64_t vm_life_hypercall(struct vcpu *caller, uint32_t fid, const uint64_t *x);
/* At boot: the VM starts (images pre-placed by the loader), or, for a GVM
 * the MVM loads (stopped_at_boot), its RAM is zeroed on its own CPU first. */
void vm_life_boot(struct vm *vm);
/* From the guest: PSCI SYSTEM_OFF (reset false) or SYSTEM_RESET of a GVM;
 * the caller's vCPU halts after. */
void vm_life_guest_off(struct vm *vm, bool reset);
/* A fatal vCPU condition: the VM goes down as CRASHED with `why`. */
void vm_life_crash(struct vm *vm, const char *why);
/* vCPU 0 of a starting VM is about to enter the guest (its own CPU). */
void vm_life_entered(struct vcpu *vcpu);
/* A vCPU of this VM has just parked (vcpu_halt). */
void vm_life_parked(struct vcpu *vcpu);
/* The idle loop of a CPU: clean-up of a stopping VM whose vCPU 0 lives
 * here, once all its vCPUs are parked. IRQs masked on entry and exit. */
void vm_life_idle(struct vcpu *pinned);
/* The hypervisor tick of this CPU (power-button release). */
void vm_life_tick(void);
void vm_life_fill_info(const struct vm *vm, struct hc_vm_info *info);
const char *vm_life_state_name(const struct vm *vm);
#endif
