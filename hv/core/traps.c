/* Synchronous exceptions from guests: MMIO emulation, hypercalls, PSCI,
 * trapped system registers. */
#include "arch/arm64/at.h"
#include "arch/arm64/arch.h"
#include "arch/arm64/exc_inject.h"
#include "core/entry.h"
#include "core/vcpu.h"
#include "core/vpsci.h"
#include "core/hypercall.h"
#include "arch/arm64/insn_decode.h"
#include "core/irq.h"
#include "lib/lib.h"
#include "core/print.h"
#include "arch/arm64/sysreg.h"
#include "core/vm.h"

#define HPFAR_FIPA(h) (((h)&0x00000ffffffffff0UL) << 8)

/* ISS of a trapped MSR/MRS: Op0, Op2, Op1, CRn, Rt, CRm, direction (1 = read) */
#define SYSREG_ISS(op0, op1, crn, crm, op2) \
	(((op0) << 20) | ((op2) << 17) | ((op1) << 14) | ((crn) << 10) | ((crm) << 1))
#define SYSREG_ISS_MASK SYSREG_ISS(3, 7, 15, 15, 7)
#define ICC_SGI1R_EL1_ISS SYSREG_ISS(3, 0, 12, 11, 5)

static void set_reg(struct vcpu *vcpu, unsigned reg, uint64_t v)
{
	if (reg < 31)
		vcpu->regs.x[reg] = v;
}

static uint64_t get_reg(struct vcpu *vcpu, unsigned reg)
{
	return reg < 31 ? vcpu->regs.x[reg] : 0;
}

static struct mmio_region *find_mmio(struct vm *vm, ipa_t ipa)
{
	for (unsigned i = 0; i < vm->nmmio; i++)
		if (ipa >= vm->mmio[i].base && ipa - vm->mmio[i].base < vm->mmio[i].size)
			return &vm->mmio[i];
	return NULL;
}

/* A guest access nothing handles and no exception can report (SError):
 * log it and stop that vCPU, and a GVM as a whole (CRASHED, the reason in
 * its info); the rest of the system goes on. */
static void __attribute__((noreturn)) guest_fault(struct vcpu *vcpu, const char *what, uint64_t a)
{
	char why[HC_REASON_LEN];

	printk("vm %s: vCPU %u stopped: %s 0x%lx at pc 0x%lx (esr 0x%lx)\n", vcpu->vm->name,
	       vcpu->id, what, (unsigned long)a, (unsigned long)vcpu->regs.elr,
	       (unsigned long)vcpu->regs.esr);
	snprintf(why, sizeof(why), "%s 0x%lx (vCPU %u)", what, (unsigned long)a, vcpu->id);
	vm_life_crash(vcpu->vm, why);
	vcpu_halt(vcpu);
}

/* Past the trapped instruction: its length is in ESR.IL (a guest's 32-bit
 * EL0 may run 16-bit T32 code, inside an IT block). */
static void skip_insn(struct vcpu *vcpu)
{
	vcpu->regs.spsr =
		guest_skip_insn(&vcpu->regs.elr, vcpu->regs.spsr, vcpu->regs.esr & ESR_IL);
}

/* ---------------------------------------------------------------- data aborts
 * A stage-2 data abort is emulated MMIO when it hits a device region of the
 * VM; anything else (nothing mapped, an access the device refuses, an
 * instruction that cannot be emulated) becomes a synchronous external
 * abort in the guest's EL1, as hardware reports a bus error. */

#define ISS_DABT_ISV BIT(24)
#define ISS_DABT_CM BIT(8)
#define ISS_DABT_S1PTW BIT(7)
#define ISS_DABT_WNR BIT(6)

static ipa_t fault_ipa(const struct vcpu *vcpu)
{
	return HPFAR_FIPA(vcpu->regs.hpfar) | (vcpu->regs.far & 0xfff);
}

/* The IPA of an abort for the log: HPFAR where it is valid, else (a
 * permission fault) the guest's own translation of FAR, else unknown. */
static ipa_t logged_fault_ipa(const struct vcpu *vcpu)
{
	uint64_t esr = vcpu->regs.esr;
	ipa_t ipa;

	if (s2_abort_hpfar_valid(esr))
		return fault_ipa(vcpu);
	if (s2_abort_far_valid(esr) && guest_va_to_ipa(vcpu->regs.far, &ipa))
		return ipa;
	return ABORT_IPA_UNKNOWN;
}

static void dabt_inject(struct vcpu *vcpu, const char *why)
{
	vcpu_inject_abort(vcpu, false, vcpu->regs.esr & ISS_DABT_WNR, vcpu->regs.far,
			  logged_fault_ipa(vcpu), why);
}

/* One access through the VM's MMIO bus: false if no device takes it. */
static bool mmio_dispatch(struct vcpu *vcpu, struct mmio_access *acc)
{
	struct mmio_region *r = find_mmio(vcpu->vm, acc->addr);

	if (!r || acc->width > r->size || acc->addr - r->base > r->size - acc->width)
		return false;
	if (acc->write)
		vcpu->stats.mmio_writes++;
	else
		vcpu->stats.mmio_reads++;
	return r->handler(vcpu, acc, r->dev);
}

/* ISV = 1: the syndrome names the register, width and direction. */
static void emulate_with_syndrome(struct vcpu *vcpu, ipa_t ipa)
{
	struct mmio_access acc;

	mmio_decode(vcpu->regs.esr, ipa, &acc);
	if (acc.write) {
		acc.value = get_reg(vcpu, acc.reg);
		if (acc.width < 8)
			acc.value &= (1UL << (acc.width * 8)) - 1;
	}
	if (!mmio_dispatch(vcpu, &acc)) {
		dabt_inject(vcpu, "access refused by the device");
		return;
	}
	if (!acc.write)
		set_reg(vcpu, acc.reg, mmio_load_result(&acc, acc.value));
	skip_insn(vcpu);
}

/* ISV = 0 (write-back, pairs): decode the guest's instruction, fetched
 * through its own translation, and emulate it as one or two accesses. */
static void emulate_decoded(struct vcpu *vcpu, ipa_t ipa)
{
	struct mem_insn mi;
	struct mmio_plan plan;
	uint64_t regs[32];
	uint32_t insn;

	if (vcpu->regs.spsr & PSR_AARCH32) {
		dabt_inject(vcpu, "AArch32 MMIO without syndrome");
		return;
	}
	if (!guest_fetch_insn(vcpu, vcpu->regs.elr, &insn)) {
		dabt_inject(vcpu, "MMIO without syndrome, instruction not readable");
		return;
	}
	memcpy(regs, vcpu->regs.x, sizeof(vcpu->regs.x));
	regs[31] = guest_sp(vcpu);
	if (!insn_decode_mem(insn, &mi) || !mmio_plan_insn(&mi, regs, vcpu->regs.far, ipa, &plan)) {
		vm_log(vcpu->vm, LOG_MMIO, "instruction 0x%08x at pc 0x%lx not emulated\n", insn,
		       (unsigned long)vcpu->regs.elr);
		dabt_inject(vcpu, "MMIO without syndrome, instruction not emulated");
		return;
	}
	for (unsigned i = 0; i < plan.n; i++) {
		if (!mmio_dispatch(vcpu, &plan.acc[i])) {
			dabt_inject(vcpu, "access refused by the device");
			return;
		}
	}
	mmio_plan_apply(&mi, &plan, regs);
	memcpy(vcpu->regs.x, regs, sizeof(vcpu->regs.x));
	if (plan.writeback && mi.rn == INSN_REG_SP_OR_ZR)
		guest_set_sp(vcpu, regs[31]);
	vcpu->stats.mmio_decoded++;
	skip_insn(vcpu);
}

/* A write to a read page (virtio-mmio registers the guest reads without
 * trapping) is a stage-2 permission fault, for which HPFAR need not hold
 * the IPA: the guest's own translation of FAR gives it. The access passed
 * stage 1, so the walk succeeds unless the guest changed its tables since;
 * then, or if the IPA is not a read page (nothing else is mapped
 * read-only), the fault is what it was before read pages: an abort. */
static bool read_page_write_ipa(struct vcpu *vcpu, ipa_t *ipa)
{
	return guest_va_to_ipa(vcpu->regs.far, ipa) && vm_in_read_page(vcpu->vm, *ipa);
}

static void handle_dabt(struct vcpu *vcpu)
{
	uint64_t esr = vcpu->regs.esr, iss = ESR_ISS(esr);
	ipa_t ipa;

	/* HPFAR holds the IPA for a stage-2 translation fault; of the other
	 * faults only a write to a read page is an access to emulate (not an
	 * address size fault, nor a guest page-table walk that hit a device) */
	if (iss & ISS_DABT_S1PTW) {
		dabt_inject(vcpu, "stage-2 fault");
		return;
	}
	if (s2_abort_is_translation(esr)) {
		ipa = fault_ipa(vcpu);
	} else if (!s2_abort_is_permission(esr) || !read_page_write_ipa(vcpu, &ipa)) {
		dabt_inject(vcpu, "stage-2 fault");
		return;
	}
	if (!find_mmio(vcpu->vm, ipa)) {
		dabt_inject(vcpu, "access to unmapped IPA");
		return;
	}
	if (iss & ISS_DABT_CM) { /* cache maintenance by VA on a device: nothing to do */
		skip_insn(vcpu);
		return;
	}
	if (iss & ISS_DABT_ISV)
		emulate_with_syndrome(vcpu, ipa);
	else
		emulate_decoded(vcpu, ipa);
}

/* The 2 KiB of exception vectors at VBAR_EL1. */
#define VECTORS_SIZE 0x800UL

/* A stage-2 instruction abort: the guest executes where it has no RAM
 * (nothing mapped, or a page it may not execute: a virtio-mmio read page,
 * a device). If that is its own exception vector table, the abort would be
 * taken there again and again (e.g. a VM started on zeroed RAM: its first
 * instruction is undefined, VBAR_EL1 is 0): the vCPU can never run again,
 * a fatal condition. */
static void handle_iabt(struct vcpu *vcpu)
{
	uint64_t vbar = read_sysreg(vbar_el1) & ~(VECTORS_SIZE - 1);

	if (vcpu->regs.elr - vbar < VECTORS_SIZE)
		guest_fault(vcpu, "exception vector not in RAM:", vcpu->regs.elr);
	vcpu_inject_abort(vcpu, true, false, vcpu->regs.far, logged_fault_ipa(vcpu),
			  s2_iabt_reason(vcpu->regs.esr));
}

static void handle_hvc(struct vcpu *vcpu)
{
	uint64_t fid = vcpu->regs.x[0];

	vcpu->stats.hypercalls++;
	if (vpsci_handle(vcpu, fid))
		return;
	if (!hypercall_handle(vcpu, fid))
		vcpu->regs.x[0] = (uint64_t)-1; /* SMCCC NOT_SUPPORTED */
}

static void handle_sysreg(struct vcpu *vcpu)
{
	uint64_t iss = ESR_ISS(vcpu->regs.esr);
	unsigned rt = (iss >> 5) & 31;
	bool read = iss & 1;

	if ((iss & SYSREG_ISS_MASK) == ICC_SGI1R_EL1_ISS && !read) {
		vgic_sgi1r_write(vcpu, get_reg(vcpu, rt));
	} else {
		vm_log(vcpu->vm, LOG_SYSREG, "trapped system register (iss 0x%lx) reads as zero\n",
		       (unsigned long)iss);
		if (read)
			set_reg(vcpu, rt, 0);
	}
	vcpu->regs.elr += 4;
}

static enum trap_cause classify(unsigned ec)
{
	switch (ec) {
	case EC_DABT_LOW:
		return TRAP_DABT;
	case EC_HVC64:
		return TRAP_HVC;
	case EC_SMC64:
		return TRAP_SMC;
	case EC_WFX:
		return TRAP_WFI;
	case EC_SYSREG:
		return TRAP_SYSREG;
	default:
		return TRAP_OTHER;
	}
}

static void account_exit(struct vcpu *vcpu)
{
	vcpu->stats.guest_ticks += timer_now() - vcpu->stats.entered_at;
}

void guest_handle_sync(struct vcpu *vcpu)
{
	unsigned ec = ESR_EC(vcpu->regs.esr);

	account_exit(vcpu);
	vcpu->stats.traps[classify(ec)]++;
	switch (ec) {
	case EC_DABT_LOW:
		handle_dabt(vcpu);
		break;
	case EC_HVC64:
		handle_hvc(vcpu);
		break;
	case EC_SMC64:
		vcpu->regs.elr += 4; /* SMC's preferred return is the SMC itself */
		handle_hvc(vcpu);
		break;
	case EC_WFX: /* not trapped (run.c's GUEST_HCR): nothing to wait for here */
		skip_insn(vcpu);
		break;
	case EC_SYSREG:
		handle_sysreg(vcpu);
		break;
	case EC_IABT_LOW:
		handle_iabt(vcpu);
		break;
	default: /* nothing emulates it: what an unimplemented instruction does */
		vcpu_inject_undef(vcpu);
		break;
	}
	vcpu_resume(vcpu);
}

void guest_handle_irq(struct vcpu *vcpu)
{
	account_exit(vcpu);
	vcpu->stats.traps[TRAP_IRQ]++;
	irq_dispatch(vcpu);
	if (vcpu->vm->state == VM_STOPPED) /* IPI_STOP from another CPU */
		vcpu_halt(vcpu);
	vcpu_resume(vcpu);
}

void guest_handle_serror(struct vcpu *vcpu)
{
	account_exit(vcpu);
	guest_fault(vcpu, "SError", vcpu->regs.esr);
}

void hv_handle_irq(struct trap_frame *frame)
{
	(void)frame;
	irq_dispatch(NULL);
}

/* at.S */

/* A synchronous exception at EL2 is fatal, except on the one instruction
 * that walks a guest's page tables on its behalf: that resumes at its
 * fixup, which reports a failed translation. */
void hv_handle_sync(struct trap_frame *f)
{
	if (f->elr == (uint64_t)(uintptr_t)guest_at_insn) {
		f->elr = (uint64_t)(uintptr_t)guest_at_fixup;
		return;
	}
	hv_fatal_exception(f);
}

void hv_fatal_exception(struct trap_frame *f)
{
	panic("exception at EL2: esr 0x%lx elr 0x%lx far 0x%lx\n", (unsigned long)f->esr,
	      (unsigned long)f->elr, (unsigned long)f->far);
}
