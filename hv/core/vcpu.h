/* A virtual CPU: its trap frame, EL1 context, vGIC state and counters.
 * Each vCPU is pinned to one physical CPU (partitioning). */
#ifndef VCPU_H
#define VCPU_H
#include "arch/arm64/spinlock.h"
#include "core/stats.h"
#include "lib/types.h"
#include "core/vgic.h"

struct vm;

/* Saved by the exception entry code; layout shared with arch/arm64/vectors.S (asm-offsets.h). */
struct trap_frame {
	uint64_t x[31];
	uint64_t elr;  /* guest PC */
	uint64_t spsr; /* guest PSTATE */
	uint64_t esr, far, hpfar;
};

/* EL1 system registers, saved when a vCPU leaves its CPU. */
struct el1_context {
	uint64_t sctlr, ttbr0, ttbr1, tcr, mair, amair, vbar, contextidr, tpidr, tpidrro, tpidr_el0,
		sp_el0, sp_el1, elr, spsr, esr, far, afsr0, afsr1, par, cpacr, csselr, cntkctl,
		cntv_ctl, cntv_cval, mdscr;
};

struct fp_context {
	__uint128_t q[32];
	uint64_t fpsr, fpcr;
};

enum vcpu_state { VCPU_OFF, VCPU_PENDING_ON, VCPU_RUNNING };

struct vcpu {
	struct trap_frame regs; /* must stay first: vectors.S */
	struct vm *vm;
	unsigned id;   /* index in the VM */
	unsigned pcpu; /* physical CPU it is pinned to */
	uint64_t vmpidr;
	volatile int state;        /* enum vcpu_state */
	spinlock_t power_lock;     /* state changes by PSCI and power-off */
	uint64_t on_entry, on_ctx; /* PSCI CPU_ON arguments */
	struct el1_context el1;
	struct fp_context fp;
	struct vgic_cpu vgic;
	struct vcpu_stats stats;
};

void vcpu_reset(struct vcpu *vcpu, uint64_t entry, uint64_t x0);
void vcpu_save_el1(struct el1_context *c);
void vcpu_restore_el1(const struct el1_context *c);
void fp_save(struct fp_context *c); /* arch/arm64/vectors.S */
void fp_restore(const struct fp_context *c);
/* Enters the guest with `vcpu`'s frame; returns only via the trap path. */
void __attribute__((noreturn)) vcpu_run(struct vcpu *vcpu);
struct vcpu *current_vcpu(void);
/* On the vCPU's CPU: takes a pending PSCI CPU_ON (state RUNNING) unless its
 * VM has stopped meanwhile (state OFF); true if the vCPU is to start. */
bool vcpu_claim_start(struct vcpu *v);
/* This CPU's scheduler (core/run.c): idle until a vCPU is given work,
 * start or resume one, or stop the one running here. */
void __attribute__((noreturn)) pcpu_idle(void);
void __attribute__((noreturn)) vcpu_start(struct vcpu *vcpu);
/* Returns to the guest: syncs the vGIC and accounts time first. */
void __attribute__((noreturn)) vcpu_resume(struct vcpu *vcpu);
/* Stops the vCPU running on this CPU (it misbehaved or switched off). */
void __attribute__((noreturn)) vcpu_halt(struct vcpu *vcpu);
#endif
