/* Synchronous exceptions the hypervisor injects into a guest's EL1, as the
 * hardware would take them: an external abort for an access nothing
 * answers, an undefined instruction for a trap nothing emulates. */
#ifndef EXC_INJECT_H
#define EXC_INJECT_H
#include "lib/types.h"

struct vcpu;

/* ESR_ELx fields (Arm ARM D17.2.37) */
#define ESR_EC_SHIFT 26
#define ESR_IL BIT(25)
#define ESR_EC_UNKNOWN 0x00
#define ESR_EC_IABT_LOWER 0x20
#define ESR_EC_IABT_SAME 0x21
#define ESR_EC_DABT_LOWER 0x24
#define ESR_EC_DABT_SAME 0x25
#define ESR_DABT_WNR BIT(6)
#define ESR_FSC_SEA 0x10 /* synchronous external abort, not on a table walk */

/* PSTATE / SPSR_ELx (AArch64) */
#define PSR_MODE_MASK 0x1fUL
#define PSR_MODE_EL0T 0x0UL
#define PSR_MODE_EL1T 0x4UL
#define PSR_MODE_EL1H 0x5UL
#define PSR_AARCH32 BIT(4)
#define PSR_F BIT(6)
#define PSR_I BIT(7)
#define PSR_A BIT(8)
#define PSR_D BIT(9)
#define PSR_BTYPE (3UL << 10)
#define PSR_SSBS BIT(12)
#define PSR_IL BIT(20)
#define PSR_SS BIT(21)
#define PSR_PAN BIT(22)
#define PSR_UAO BIT(23)
#define PSR_DIT BIT(24)
#define PSR_NZCV (0xfUL << 28)

/* SCTLR_EL1 bits that shape exception entry */
#define SCTLR_SPAN BIT(23)  /* 0: entry sets PSTATE.PAN (RES1 without PAN) */
#define SCTLR_DSSBS BIT(44) /* PSTATE.SSBS on entry (RES0 without SSBS) */

/* Vector offsets from VBAR_EL1 for a synchronous exception, by source */
#define VEC_CUR_SP0 0x000
#define VEC_CUR_SPX 0x200
#define VEC_LOWER_A64 0x400
#define VEC_LOWER_A32 0x600

enum exc_kind {
	EXC_DABT, /* data abort: external abort, FAR = the data address */
	EXC_IABT, /* instruction abort: external abort, FAR = the PC */
	EXC_UNDEF /* unknown reason (undefined instruction), FAR untouched */
};

/* What entering EL1 looks like, from the state the guest left. */
struct exc_entry_in {
	enum exc_kind kind;
	bool write;      /* EXC_DABT: the access was a write (WnR) */
	uint64_t pc;     /* guest PC of the faulting instruction */
	uint64_t pstate; /* guest PSTATE (SPSR_EL2 at the trap) */
	uint64_t far;    /* faulting virtual address (FAR_EL2) */
	uint64_t vbar;   /* guest VBAR_EL1 */
	uint64_t sctlr;  /* guest SCTLR_EL1 */
};

struct exc_entry_out {
	uint64_t esr, far, elr, spsr; /* the guest's *_EL1 registers */
	bool set_far;                 /* FAR_EL1 is written (aborts only) */
	uint64_t pc, pstate;          /* where and how the guest resumes */
};

/* Pure: the register values an exception taken to EL1 produces. */
void exc_entry_compute(const struct exc_entry_in *in, struct exc_entry_out *out);

/* Pure: the PSTATE after the guest's trapped instruction is skipped (the
 * PC moves by 4, or 2 for a 16-bit T32 one, per ESR.IL): an AArch32 T32
 * IT block advances (ITSTATE in SPSR bits [26:25] and [15:10]). */
uint64_t guest_skip_insn(uint64_t *pc, uint64_t pstate, bool il32);

/* What the syndrome of a stage-2 abort taken to EL2 (data or instruction,
 * ESR_EL2) says of the fault address registers. HPFAR_EL2 holds the IPA
 * only for an address size, translation or access flag fault, or a fault
 * on the guest's own table walk (S1PTW); for a permission fault it may be
 * stale. FAR_EL2 holds the virtual address unless ISS.FnV says otherwise. */
bool s2_abort_hpfar_valid(uint64_t esr);
bool s2_abort_far_valid(uint64_t esr);
/* Whether the syndrome's fault status is a translation fault, or a
 * permission fault (any level). */
bool s2_abort_is_translation(uint64_t esr);
bool s2_abort_is_permission(uint64_t esr);
/* Why a stage-2 instruction abort happened, for the log: nothing mapped
 * (translation fault), mapped but not executable (permission fault, e.g.
 * a virtio-mmio read page), or another stage-2 fault. */
const char *s2_iabt_reason(uint64_t esr);

/* The IPA logged with an injected abort when neither HPFAR nor the guest's
 * translation of FAR gives it. */
#define ABORT_IPA_UNKNOWN (~(ipa_t)0)

/* Injects into the vCPU running on this CPU (its EL1 registers are live):
 * the trap frame is redirected to the guest's vector. Logged (rate-limited,
 * with `why` and the IPA, or "unknown" for ABORT_IPA_UNKNOWN) and counted. */
void vcpu_inject_abort(struct vcpu *vcpu, bool instruction, bool write, uint64_t far, ipa_t ipa,
		       const char *why);
void vcpu_inject_undef(struct vcpu *vcpu);

/* The guest's stack pointer in the mode it trapped from (SP_EL0 for EL0t
 * and EL1t, SP_EL1 for EL1h): what register 31 means as a base. */
uint64_t guest_sp(const struct vcpu *vcpu);
void guest_set_sp(const struct vcpu *vcpu, uint64_t sp);

/* The IPA the guest's own stage-1 translation (live on this CPU) gives
 * virtual address `va`: false if it does not translate. */
bool guest_va_to_ipa(uint64_t va, ipa_t *ipa);
/* Reads the 32-bit instruction at guest virtual address `va` through the
 * guest's own stage-1 translation (and stage 2): false if it does not
 * translate or is not the VM's RAM. */
bool guest_fetch_insn(struct vcpu *vcpu, uint64_t va, uint32_t *insn);
#endif
