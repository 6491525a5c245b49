/* Synchronous exceptions from guests: MMIO emulation, hypercalls, PSCI,
 * WFI/WFE and trapped system registers. */
#include "arch.h"
#include "gic.h"
#include "hv.h"
#include "hypercall.h"
#include "irq.h"
#include "print.h"
#include "sysreg.h"
#include "vm.h"

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

/* A guest access nothing handles: the guest is buggy or hostile. Log it and
 * stop that vCPU; the rest of the system goes on. */
static void __attribute__((noreturn)) guest_fault(struct vcpu *vcpu, const char *what, uint64_t a)
{
	printk("vm %s: vCPU %u stopped: %s 0x%lx at pc 0x%lx (esr 0x%lx)\n", vcpu->vm->name,
	       vcpu->id, what, (unsigned long)a, (unsigned long)vcpu->regs.elr,
	       (unsigned long)vcpu->regs.esr);
	vcpu_halt(vcpu);
}

static void handle_dabt(struct vcpu *vcpu)
{
	ipa_t ipa = HPFAR_FIPA(vcpu->regs.hpfar) | (vcpu->regs.far & 0xfff);
	struct mmio_access acc;
	struct mmio_region *r = find_mmio(vcpu->vm, ipa);

	if (!r)
		guest_fault(vcpu, "access to unmapped IPA", ipa);
	if (!mmio_decode(vcpu->regs.esr, ipa, &acc))
		guest_fault(vcpu, "MMIO access without syndrome (pair/writeback) at", ipa);
	if (acc.write) {
		acc.value = get_reg(vcpu, acc.reg);
		if (acc.width < 8)
			acc.value &= (1UL << (acc.width * 8)) - 1;
		vcpu->stats.mmio_writes++;
	} else {
		vcpu->stats.mmio_reads++;
	}
	if (!r->handler(vcpu, &acc, r->dev))
		acc.value = 0; /* refused: reads as zero, write ignored */
	if (!acc.write)
		set_reg(vcpu, acc.reg, mmio_load_result(&acc, acc.value));
	vcpu->regs.elr += 4;
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

/* WFI: sleep here unless a virtual interrupt is already waiting in a list
 * register (it would not wake an EL2 WFI). */
static void handle_wfx(struct vcpu *vcpu)
{
	bool is_wfe = vcpu->regs.esr & 1;

	vcpu->regs.elr += 4;
	if (is_wfe)
		return;
	for (unsigned i = 0; i < gic.nr_lrs; i++) {
		struct gic_lr lr;
		gich_read_lr(i, &lr);
		if (lr.state & LR_STATE_PENDING)
			return;
	}
	wfi();
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
	case EC_WFX:
		handle_wfx(vcpu);
		break;
	case EC_SYSREG:
		handle_sysreg(vcpu);
		break;
	case EC_IABT_LOW:
		guest_fault(vcpu, "instruction fetch from unmapped IPA",
			    HPFAR_FIPA(vcpu->regs.hpfar) | (vcpu->regs.far & 0xfff));
	default:
		guest_fault(vcpu, "unhandled exception class", ec);
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

void hv_fatal_exception(struct trap_frame *f)
{
	panic("exception at EL2: esr 0x%lx elr 0x%lx far 0x%lx\n", (unsigned long)f->esr,
	      (unsigned long)f->elr, (unsigned long)f->far);
}
