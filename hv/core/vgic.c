/* vGIC core: virtual interrupt state, injection, and list registers.
 * Register emulation is in vgic_mmio.c. One lock per VM guards all of its
 * virtual interrupt state; list registers are touched only on the vCPU's
 * own physical CPU. */
#include "vgic.h"

#include "percpu.h"
#include "print.h"
#include "vgic_internal.h"
#include "vm.h"

#define VGIC_DEFAULT_PRIO 0xa0

struct virq *vgic_virq(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	if (intid < GIC_NR_PRIV)
		return vcpu ? &vcpu->vgic.priv[intid] : NULL;
	if (intid < VGIC_NR_IRQS)
		return &vm->vgic.spi[intid - GIC_NR_PRIV];
	return NULL;
}

bool vgic_is_hw_spi(const struct vm *vm, uint32_t intid)
{
	return intid >= GIC_NR_PRIV && intid < VGIC_NR_IRQS &&
	       (vm->vgic.hw_owned[intid / 64] & (1ULL << (intid % 64)));
}

/* The vCPU that receives `intid` for `vcpu` (private) or by its routing. */
struct vcpu *vgic_target(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	if (intid < GIC_NR_PRIV)
		return vcpu;
	struct virq *v = vgic_virq(vm, NULL, intid);
	return v && v->target < vm->ncpus ? &vm->vcpus[v->target] : &vm->vcpus[0];
}

static void kick(struct vcpu *target)
{
	if (target->pcpu != this_cpu()->id && target->state == VCPU_RUNNING)
		gic_send_sgi(target->pcpu, IPI_KICK);
}

/* Marks intid pending for `target`; lock held. Returns whether to kick. */
bool vgic_set_pending_locked(struct vm *vm, struct vcpu *target, uint32_t intid, bool hw)
{
	struct virq *v = vgic_virq(vm, target, intid);

	if (!v)
		return false;
	v->pending = 1;
	v->hw = hw;
	target->vgic.pending[intid / 64] |= 1ULL << (intid % 64);
	target->stats.irqs_injected++;
	return v->enabled;
}

static void inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid, bool hw)
{
	spin_lock(&vm->vgic.lock);
	struct vcpu *target = vgic_target(vm, vcpu, intid);
	bool deliver = target && vgic_set_pending_locked(vm, target, intid, hw);
	spin_unlock(&vm->vgic.lock);
	if (deliver)
		kick(target);
}

void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	if (intid < GIC_NR_PRIV && !vcpu)
		return;
	inject(vm, vcpu, intid, false);
}

void vgic_inject_hw(struct vcpu *vcpu, uint32_t intid)
{
	inject(vcpu->vm, vcpu, intid, true);
}

/* Takes back list registers the guest has finished with; lock held. */
static void reap_lrs(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	for (unsigned i = 0; i < gic.nr_lrs; i++) {
		if (!(vcpu->vgic.lr_used & (1u << i)))
			continue;
		struct gic_lr lr;
		gich_read_lr(i, &lr);
		struct virq *v = vgic_virq(vm, vcpu, lr.vintid);
		if (!v)
			continue;
		v->active = (lr.state & LR_STATE_ACTIVE) != 0;
		if (lr.state == LR_STATE_INVALID) {
			v->in_lr = 0;
			vcpu->vgic.lr_used &= ~(1u << i);
		} else if (v->pending && !lr.hw && lr.state == LR_STATE_ACTIVE) {
			/* re-raised while the guest handles it: pending again */
			lr.state = LR_STATE_PENDING_ACTIVE;
			gich_write_lr(i, &lr);
			v->pending = 0;
			vcpu->vgic.pending[lr.vintid / 64] &= ~(1ULL << (lr.vintid % 64));
		}
	}
}

static int free_lr(struct vcpu *vcpu)
{
	for (unsigned i = 0; i < gic.nr_lrs; i++)
		if (!(vcpu->vgic.lr_used & (1u << i)))
			return (int)i;
	return -1;
}

/* Moves pending, enabled interrupts into free list registers; lock held.
 * Returns whether some stay pending for lack of a list register. */
static bool fill_lrs(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	bool waiting = false;

	for (unsigned w = 0; w < VGIC_BITMAP_WORDS; w++) {
		uint64_t bits = vcpu->vgic.pending[w];
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			uint32_t intid = w * 64 + b;
			struct virq *v = vgic_virq(vm, vcpu, intid);
			if (!v->enabled || v->in_lr)
				continue;
			int lr_idx = free_lr(vcpu);
			if (lr_idx < 0) {
				waiting = true;
				continue;
			}
			struct gic_lr lr = {
				.vintid = intid,
				.pintid = intid,
				.priority = v->priority,
				.state = LR_STATE_PENDING,
				.hw = v->hw,
				.group1 = gic.version == 3,
			};
			gich_write_lr((unsigned)lr_idx, &lr);
			vcpu->vgic.lr_used |= 1u << lr_idx;
			v->in_lr = 1;
			v->pending = 0;
			vcpu->vgic.pending[w] &= ~(1ULL << b);
		}
	}
	return waiting;
}

void vgic_sync(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	spin_lock(&vm->vgic.lock);
	reap_lrs(vcpu);
	bool waiting = fill_lrs(vcpu);
	spin_unlock(&vm->vgic.lock);
	gich_set_underflow_irq(waiting);
}

void vgic_maintenance(struct vcpu *vcpu)
{
	(void)vcpu; /* vgic_sync on the way back to the guest refills */
	gich_set_underflow_irq(false);
}

/* A fresh vCPU: empty list registers; physical interrupts linked to old
 * entries are deactivated so they can fire again. */
void vgic_init_vcpu(struct vcpu *vcpu)
{
	struct gic_lr empty = {0};

	for (unsigned i = 0; i < gic.nr_lrs; i++) {
		struct gic_lr lr;
		gich_read_lr(i, &lr);
		if (lr.hw && lr.state != LR_STATE_INVALID)
			gic_deactivate(lr.pintid);
		gich_write_lr(i, &empty);
	}
	spin_lock(&vcpu->vm->vgic.lock);
	for (unsigned i = 0; i < GIC_NR_PRIV; i++) {
		struct virq *v = &vcpu->vgic.priv[i];
		if (v->hw && v->pending)
			gic_deactivate(i);
		*v = (struct virq){.priority = VGIC_DEFAULT_PRIO, .edge = i < 16};
	}
	for (unsigned w = 0; w < VGIC_BITMAP_WORDS; w++)
		vcpu->vgic.pending[w] = 0;
	vcpu->vgic.lr_used = 0;
	vcpu->vgic.redist_waker = 0;
	spin_unlock(&vcpu->vm->vgic.lock);
	gich_set_underflow_irq(false);
}

void vgic_assign_hw_irq(struct vm *vm, uint32_t intid)
{
	if (intid < GIC_NR_PRIV || intid >= VGIC_NR_IRQS)
		return;
	vm->vgic.hw_owned[intid / 64] |= 1ULL << (intid % 64);
	gic_enable(intid, false);
	gic_route_spi(intid, vm->vcpus[0].pcpu);
}

/* GICv3 ICC_SGI1R_EL1: our vMPIDRs have Aff0 = vCPU index, Aff1-3 = 0. */
void vgic_sgi1r_write(struct vcpu *vcpu, uint64_t value)
{
	struct vm *vm = vcpu->vm;
	uint32_t intid = (value >> 24) & 0xf;
	bool all_others = value & (1ULL << 40);
	uint64_t aff123 = value & (0xffULL << 16 | 0xffULL << 32 | 0xffULL << 48 | 0xfULL << 44);

	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *t = &vm->vcpus[i];
		bool hit = all_others ? t != vcpu : (!aff123 && i < 16 && (value & (1u << i)));
		if (hit)
			vgic_inject(vm, t, intid);
	}
}

int vgic_init_vm(struct vm *vm)
{
	for (unsigned i = 0; i < VGIC_NR_IRQS - GIC_NR_PRIV; i++)
		vm->vgic.spi[i] = (struct virq){.priority = VGIC_DEFAULT_PRIO};
	return vgic_mmio_register(vm);
}
