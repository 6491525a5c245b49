/* vCPU reset and the EL1 context switch. */
#include "core/vcpu.h"

#include "lib/lib.h"
#include "arch/arm64/sysreg.h"
#include "core/vm.h"

#define SCTLR_EL1_RESET 0x30d00800UL /* RES1 bits, MMU and caches off */
#define SPSR_EL1H_MASKED (SPSR_EL1H | SPSR_DAIF)

/* Architectural boot state for a (Linux) kernel: EL1h, interrupts masked,
 * MMU off, x0 = argument (the DTB for the first vCPU). */
void vcpu_reset(struct vcpu *vcpu, uint64_t entry, uint64_t x0)
{
	memset(&vcpu->regs, 0, sizeof(vcpu->regs));
	memset(&vcpu->el1, 0, sizeof(vcpu->el1));
	memset(&vcpu->fp, 0, sizeof(vcpu->fp));
	vcpu->regs.x[0] = x0;
	vcpu->regs.elr = entry;
	vcpu->regs.spsr = SPSR_EL1H_MASKED;
	vcpu->el1.sctlr = SCTLR_EL1_RESET;
	vcpu->el1.cpacr = 0;
}

void vcpu_save_el1(struct el1_context *c)
{
	c->sctlr = read_sysreg(sctlr_el1);
	c->ttbr0 = read_sysreg(ttbr0_el1);
	c->ttbr1 = read_sysreg(ttbr1_el1);
	c->tcr = read_sysreg(tcr_el1);
	c->mair = read_sysreg(mair_el1);
	c->amair = read_sysreg(amair_el1);
	c->vbar = read_sysreg(vbar_el1);
	c->contextidr = read_sysreg(contextidr_el1);
	c->tpidr = read_sysreg(tpidr_el1);
	c->tpidrro = read_sysreg(tpidrro_el0);
	c->tpidr_el0 = read_sysreg(tpidr_el0);
	c->sp_el0 = read_sysreg(sp_el0);
	c->sp_el1 = read_sysreg(sp_el1);
	c->elr = read_sysreg(elr_el1);
	c->spsr = read_sysreg(spsr_el1);
	c->esr = read_sysreg(esr_el1);
	c->far = read_sysreg(far_el1);
	c->afsr0 = read_sysreg(afsr0_el1);
	c->afsr1 = read_sysreg(afsr1_el1);
	c->par = read_sysreg(par_el1);
	c->cpacr = read_sysreg(cpacr_el1);
	c->csselr = read_sysreg(csselr_el1);
	c->cntkctl = read_sysreg(cntkctl_el1);
	c->cntv_ctl = read_sysreg(cntv_ctl_el0);
	c->cntv_cval = read_sysreg(cntv_cval_el0);
	c->mdscr = read_sysreg(mdscr_el1);
	/* the guest's timer must not fire for a vCPU that is not here */
	write_sysreg(cntv_ctl_el0, 0);
}

void vcpu_restore_el1(const struct el1_context *c)
{
	write_sysreg(sctlr_el1, c->sctlr);
	write_sysreg(ttbr0_el1, c->ttbr0);
	write_sysreg(ttbr1_el1, c->ttbr1);
	write_sysreg(tcr_el1, c->tcr);
	write_sysreg(mair_el1, c->mair);
	write_sysreg(amair_el1, c->amair);
	write_sysreg(vbar_el1, c->vbar);
	write_sysreg(contextidr_el1, c->contextidr);
	write_sysreg(tpidr_el1, c->tpidr);
	write_sysreg(tpidrro_el0, c->tpidrro);
	write_sysreg(tpidr_el0, c->tpidr_el0);
	write_sysreg(sp_el0, c->sp_el0);
	write_sysreg(sp_el1, c->sp_el1);
	write_sysreg(elr_el1, c->elr);
	write_sysreg(spsr_el1, c->spsr);
	write_sysreg(esr_el1, c->esr);
	write_sysreg(far_el1, c->far);
	write_sysreg(afsr0_el1, c->afsr0);
	write_sysreg(afsr1_el1, c->afsr1);
	write_sysreg(par_el1, c->par);
	write_sysreg(cpacr_el1, c->cpacr);
	write_sysreg(csselr_el1, c->csselr);
	write_sysreg(cntkctl_el1, c->cntkctl);
	write_sysreg(cntv_cval_el0, c->cntv_cval);
	write_sysreg(cntv_ctl_el0, c->cntv_ctl);
	write_sysreg(mdscr_el1, c->mdscr);
	isb();
}
