/* Exception injection into the vCPU running on this CPU. Its EL1 system
 * registers are live on the CPU while it runs (vcpu_restore_el1 loads them
 * once at start), so the *_EL1 registers are written directly and the trap
 * frame is sent to the guest's vector. */
#include "arch/arm64/at.h"
#include "arch/arm64/exc_inject.h"
#include "lib/ratelimit.h"
#include "arch/arm64/sysreg.h"
#include "core/print.h"
#include "core/vm.h"

/* at.S: AT S1E1R of `va`, PAR_EL1 preserved; returns the resulting PAR (bit
 * 0 set if it faulted, also when the walk itself took an abort). */

#define PAR_F BIT(0)
#define PAR_PA_MASK 0x000ffffffffff000UL

static void inject(struct vcpu *vcpu, enum exc_kind kind, bool write, uint64_t far)
{
	struct exc_entry_in in = {.kind = kind,
				  .write = write,
				  .pc = vcpu->regs.elr,
				  .pstate = vcpu->regs.spsr,
				  .far = far,
				  .vbar = read_sysreg(vbar_el1),
				  .sctlr = read_sysreg(sctlr_el1)};
	struct exc_entry_out out;

	exc_entry_compute(&in, &out);
	write_sysreg(esr_el1, out.esr);
	if (out.set_far)
		write_sysreg(far_el1, out.far);
	write_sysreg(elr_el1, out.elr);
	write_sysreg(spsr_el1, out.spsr);
	vcpu->regs.elr = out.pc;
	vcpu->regs.spsr = out.pstate;
}

void vcpu_inject_abort(struct vcpu *vcpu, bool instruction, bool write, uint64_t far, ipa_t ipa,
		       const char *why)
{
	char ipa_text[24] = "unknown";

	if (ipa != ABORT_IPA_UNKNOWN)
		snprintf(ipa_text, sizeof(ipa_text), "0x%lx", (unsigned long)ipa);
	vm_log(vcpu->vm, LOG_ABORT,
	       "vCPU %u: %s abort injected (%s): %s of va 0x%lx ipa %s at pc 0x%lx\n", vcpu->id,
	       instruction ? "prefetch" : "data", why,
	       instruction ? "fetch"
	       : write     ? "write"
			   : "read",
	       (unsigned long)far, ipa_text, (unsigned long)vcpu->regs.elr);
	vcpu->stats.aborts_injected++;
	inject(vcpu, instruction ? EXC_IABT : EXC_DABT, write, far);
}

void vcpu_inject_undef(struct vcpu *vcpu)
{
	vm_log(vcpu->vm, LOG_ABORT,
	       "vCPU %u: undefined instruction injected at pc 0x%lx (esr 0x%lx)\n", vcpu->id,
	       (unsigned long)vcpu->regs.elr, (unsigned long)vcpu->regs.esr);
	vcpu->stats.undefs_injected++;
	inject(vcpu, EXC_UNDEF, false, 0);
}

static bool uses_sp_el1(const struct vcpu *vcpu)
{
	return (vcpu->regs.spsr & PSR_MODE_MASK) == PSR_MODE_EL1H &&
	       !(vcpu->regs.spsr & PSR_AARCH32);
}

uint64_t guest_sp(const struct vcpu *vcpu)
{
	return uses_sp_el1(vcpu) ? read_sysreg(sp_el1) : read_sysreg(sp_el0);
}

void guest_set_sp(const struct vcpu *vcpu, uint64_t sp)
{
	if (uses_sp_el1(vcpu))
		write_sysreg(sp_el1, sp);
	else
		write_sysreg(sp_el0, sp);
}

bool guest_va_to_ipa(uint64_t va, ipa_t *ipa)
{
	uint64_t par = guest_at_s1e1r(va);

	if (par & PAR_F)
		return false;
	*ipa = (par & PAR_PA_MASK) | (va & 0xfff);
	return true;
}

/* AT S1E1R gives the IPA of the guest's own stage-1 mapping; the IPA must
 * then be the VM's RAM: never read a device page on the guest's behalf. */
bool guest_fetch_insn(struct vcpu *vcpu, uint64_t va, uint32_t *insn)
{
	ipa_t ipa;

	if ((va & 3) || !guest_va_to_ipa(va, &ipa))
		return false;
	const volatile uint32_t *p = vm_ipa_to_hva(vcpu->vm, ipa, 4);
	if (!p)
		return false;
	*insn = *p;
	return true;
}
