/* vGIC core: virtual interrupt state, injection, and list registers.
 * Register emulation is in vgic_mmio.c. One lock per VM guards all of its
 * virtual interrupt state; list registers are touched only on the vCPU's
 * own physical CPU. */
#include "core/vgic.h"

#include "arch/arm64/arch.h"
#include "lib/lib.h"
#include "core/percpu.h"
#include "core/print.h"
#include "core/vgic_internal.h"
#include "core/vm.h"

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

/* GICv2 keeps an SGI pending per sender; GICv3 (affinity routing) does not. */
static bool v2_sgi(uint32_t intid)
{
	return gic.version == 2 && intid < 16;
}

static void set_waiting(struct vcpu *vcpu, uint32_t intid, bool on)
{
	if (on)
		vcpu->vgic.pending[intid / 64] |= 1ULL << (intid % 64);
	else
		vcpu->vgic.pending[intid / 64] &= ~(1ULL << (intid % 64));
}

/* The list registers of `vcpu` are this CPU's (we run on its CPU). */
bool vgic_lrs_here(const struct vcpu *vcpu)
{
	return vcpu && this_cpu()->vcpu == vcpu;
}

static bool mark_pending(struct vm *vm, struct vcpu *target, uint32_t intid, bool hw)
{
	struct virq *v = vgic_virq(vm, target, intid);

	if (!v)
		return false;
	v->pending = 1;
	v->hw = hw;
	set_waiting(target, intid, true);
	target->stats.irqs_injected++;
	return v->enabled;
}

/* Marks intid pending for `target`; lock held. Returns whether to kick. */
bool vgic_set_pending_locked(struct vm *vm, struct vcpu *target, uint32_t intid, bool hw)
{
	if (v2_sgi(intid))
		return vgic_set_sgi_pending_locked(vm, target, intid, target->id);
	return mark_pending(vm, target, intid, hw);
}

/* SGI `intid` from vCPU `source`; lock held. Returns whether to kick. */
bool vgic_set_sgi_pending_locked(struct vm *vm, struct vcpu *target, uint32_t intid,
				 unsigned source)
{
	if (intid >= 16 || source >= 8)
		return false;
	if (gic.version == 2)
		target->vgic.sgi_sources[intid] |= (uint8_t)(1u << source);
	return mark_pending(vm, target, intid, false);
}

/* Finds the list register holding `intid` for `vcpu`; -1 if none. */
static int lr_find(struct vcpu *vcpu, uint32_t intid, struct gic_lr *lr)
{
	for (unsigned i = 0; i < gic.nr_lrs; i++) {
		if (!(vcpu->vgic.lr_used & (1u << i)))
			continue;
		gich_read_lr(i, lr);
		if (lr->vintid == intid)
			return (int)i;
	}
	return -1;
}

static void lr_release(struct vcpu *vcpu, struct virq *v, unsigned idx)
{
	struct gic_lr empty = {0};

	gich_write_lr(idx, &empty);
	vcpu->vgic.lr_used &= ~(1u << idx);
	v->in_lr = 0;
	v->lr_state = LR_STATE_INVALID;
}

/* Takes the pending state of `intid` back out of this CPU's list register
 * (its active state stays). A linked physical interrupt is deactivated so
 * that it can fire again. Lock held. */
static void lr_unpend(struct vcpu *vcpu, struct virq *v, uint32_t intid)
{
	struct gic_lr lr;
	int idx = lr_find(vcpu, intid, &lr);

	if (idx < 0 || !(lr.state & LR_STATE_PENDING))
		return;
	if (lr.hw) {
		gic_deactivate(lr.pintid);
		lr_release(vcpu, v, (unsigned)idx);
		return;
	}
	lr.state &= (uint8_t)~LR_STATE_PENDING;
	if (lr.state == LR_STATE_INVALID) {
		lr_release(vcpu, v, (unsigned)idx);
		return;
	}
	lr.eoi = false;
	gich_write_lr((unsigned)idx, &lr);
	v->lr_state = lr.state;
}

/* The guest cleared the pending state of `intid` (ICPENDR); lock held. */
void vgic_clear_pending_locked(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	struct virq *v = vgic_virq(vm, vcpu, intid);

	if (!v)
		return;
	v->pending = 0;
	if (vcpu && intid < 16)
		vcpu->vgic.sgi_sources[intid] = 0;
	if (vcpu)
		set_waiting(vcpu, intid, false);
	if (v->in_lr && vgic_lrs_here(vcpu))
		lr_unpend(vcpu, v, intid);
}

/* GICv2 GICD_CPENDSGIR: forgets SGI `intid` from `senders`; lock held. */
void vgic_clear_sgi_sources_locked(struct vcpu *vcpu, uint32_t intid, uint8_t senders)
{
	struct virq *v = &vcpu->vgic.priv[intid & 15];
	uint8_t *sources = &vcpu->vgic.sgi_sources[intid & 15];

	*sources &= (uint8_t)~senders;
	v->pending = *sources != 0;
	set_waiting(vcpu, intid & 15, v->pending);
	if (v->in_lr && (v->lr_state & LR_STATE_PENDING) && (senders & (1u << v->lr_source)) &&
	    vgic_lrs_here(vcpu))
		lr_unpend(vcpu, v, intid & 15);
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

/* A GICv2 SGI in a list register while more are pending for it: the same
 * sender folds into the entry, other senders wait for the guest's EOI
 * (maintenance interrupt) and their own entry. Returns whether `lr`
 * changed. */
static bool fold_sgi_sources(struct vcpu *vcpu, struct virq *v, struct gic_lr *lr)
{
	uint8_t *sources = &vcpu->vgic.sgi_sources[lr->vintid];
	uint8_t same = (uint8_t)(1u << lr->source);
	bool changed = false;

	if (*sources & same) {
		*sources &= (uint8_t)~same;
		if (lr->state == LR_STATE_ACTIVE) {
			lr->state = LR_STATE_PENDING_ACTIVE;
			changed = true;
		}
	}
	if (*sources && !lr->eoi) {
		lr->eoi = true;
		changed = true;
	}
	v->pending = *sources != 0;
	set_waiting(vcpu, lr->vintid, v->pending);
	return changed;
}

/* Folds a re-raised interrupt into its list register entry: pending again
 * if the guest is handling it, one interrupt if it still waits. */
static bool fold_pending(struct vcpu *vcpu, struct virq *v, struct gic_lr *lr)
{
	bool changed = false;

	if (!v->pending)
		return false;
	if (lr->state == LR_STATE_ACTIVE) {
		lr->state = LR_STATE_PENDING_ACTIVE;
		changed = true;
	}
	v->pending = 0;
	set_waiting(vcpu, lr->vintid, false);
	return changed;
}

/* Reads back the list registers (state the guest changed) and takes back
 * those it has finished with; lock held, on the vCPU's CPU. */
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
		v->lr_state = lr.state & 3;
		v->lr_source = lr.source & 7;
		if (lr.state == LR_STATE_INVALID) {
			if (lr.eoi) /* clear the EOI maintenance condition */
				lr_release(vcpu, v, i);
			v->in_lr = 0;
			vcpu->vgic.lr_used &= ~(1u << i);
			continue;
		}
		if (lr.hw)
			continue;
		bool changed = v2_sgi(lr.vintid) ? fold_sgi_sources(vcpu, v, &lr)
						 : fold_pending(vcpu, v, &lr);
		if (changed) {
			gich_write_lr(i, &lr);
			v->lr_state = lr.state & 3;
		}
	}
}

/* SPI `intid` now goes to vCPU `to`; a pending one that still waits for a
 * list register moves along. Lock held. Returns the vCPU to kick, if any. */
struct vcpu *vgic_retarget_locked(struct vm *vm, uint32_t intid, unsigned to)
{
	struct virq *v = vgic_virq(vm, NULL, intid);

	if (!v || intid < GIC_NR_PRIV)
		return NULL;
	struct vcpu *old = vgic_target(vm, NULL, intid);
	v->target = (uint8_t)(to < vm->ncpus ? to : 0);
	struct vcpu *now = vgic_target(vm, NULL, intid);
	if (old == now || !v->pending || !(old->vgic.pending[intid / 64] & (1ULL << (intid % 64))))
		return NULL;
	set_waiting(old, intid, false);
	set_waiting(now, intid, true);
	return v->enabled ? now : NULL;
}

/* ISACTIVER/ICACTIVER: an entry in this CPU's list registers changes with
 * it; a linked physical interrupt deactivated by the guest is deactivated.
 * Lock held. */
void vgic_set_active_locked(struct vm *vm, struct vcpu *vcpu, uint32_t intid, bool on)
{
	struct virq *v = vgic_virq(vm, vcpu, intid);
	struct gic_lr lr;

	if (!v)
		return;
	v->active = on;
	if (!v->in_lr || !vgic_lrs_here(vcpu))
		return;
	int idx = lr_find(vcpu, intid, &lr);
	if (idx < 0)
		return;
	if (lr.hw) { /* pending or active, never both */
		if (!on && lr.state == LR_STATE_ACTIVE) {
			gic_deactivate(lr.pintid);
			lr_release(vcpu, v, (unsigned)idx);
		}
		return;
	}
	lr.state = on ? lr.state | LR_STATE_ACTIVE : lr.state & (uint8_t)~LR_STATE_ACTIVE;
	if (lr.state == LR_STATE_INVALID) {
		lr_release(vcpu, v, (unsigned)idx);
		return;
	}
	gich_write_lr((unsigned)idx, &lr);
	v->lr_state = lr.state;
}

/* The guest's EL1 timers are level sources linked to their physical PPIs:
 * once a timer's output drops (disabled, masked, or CVAL moved on), its
 * interrupt is no longer pending: it leaves the list register unless the
 * guest already took it, and the physical PPI is deactivated so that it
 * can fire again. Lock held, on the vCPU's CPU. */
static void sample_timers(struct vcpu *vcpu)
{
	static const uint32_t ppis[] = {PPI_VTIMER, PPI_PTIMER};

	for (unsigned i = 0; i < ARRAY_SIZE(ppis); i++) {
		struct virq *v = &vcpu->vgic.priv[ppis[i]];
		if (!v->hw || (!v->pending && !v->in_lr) || timer_guest_irq_asserted(ppis[i]))
			continue;
		if (v->in_lr) {
			lr_unpend(vcpu, v, ppis[i]);
		} else {
			v->pending = 0;
			set_waiting(vcpu, ppis[i], false);
			gic_deactivate(ppis[i]);
		}
	}
}

/* Brings the vCPU's interrupt state up to date with its list registers
 * and timers before the guest reads or changes it; lock held. */
void vgic_refresh_locked(struct vcpu *vcpu)
{
	if (!vgic_lrs_here(vcpu))
		return;
	reap_lrs(vcpu);
	sample_timers(vcpu);
}

/* The lowest sender of a GICv2 SGI goes into `lr`; returns whether other
 * senders still wait (then the guest's EOI brings us back). */
static bool take_sgi_source(struct vcpu *vcpu, uint32_t intid, struct gic_lr *lr)
{
	uint8_t *sources = &vcpu->vgic.sgi_sources[intid];

	if (!*sources)
		return false; /* made pending without a sender: show itself */
	lr->source = (uint8_t)__builtin_ctz(*sources);
	*sources &= (uint8_t)(*sources - 1);
	lr->eoi = *sources != 0;
	return lr->eoi;
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
				.state = v->active && !v->hw ? LR_STATE_PENDING_ACTIVE
							     : LR_STATE_PENDING,
				.hw = v->hw,
				.group1 = gic.version == 3,
			};
			bool more = v2_sgi(intid) && take_sgi_source(vcpu, intid, &lr);
			gich_write_lr((unsigned)lr_idx, &lr);
			vcpu->vgic.lr_used |= 1u << lr_idx;
			v->in_lr = 1;
			v->lr_state = lr.state;
			v->lr_source = lr.source & 7;
			v->pending = more;
			set_waiting(vcpu, intid, more);
		}
	}
	return waiting;
}

void vgic_sync(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	spin_lock(&vm->vgic.lock);
	reap_lrs(vcpu);
	sample_timers(vcpu);
	bool waiting = fill_lrs(vcpu);
	spin_unlock(&vm->vgic.lock);
	gich_set_underflow_irq(waiting);
}

/* The vCPU of this CPU is off: nobody will take its list register entries
 * back, so they stop asking for maintenance (kept for vgic_init_vcpu). */
static void quiet_lrs(void)
{
	for (unsigned i = 0; i < gic.nr_lrs; i++) {
		struct gic_lr lr;
		gich_read_lr(i, &lr);
		if (lr.eoi) {
			lr.eoi = false;
			gich_write_lr(i, &lr);
		}
	}
	gich_set_underflow_irq(false);
}

/* Underflow: vgic_sync on the way back to the guest refills. EOI (a GICv2
 * SGI with more senders): the finished entry is taken back here, since the
 * interrupt stays asserted while it sits in a list register. */
void vgic_maintenance(struct vcpu *vcpu)
{
	if (!vcpu) {
		quiet_lrs();
		return;
	}
	spin_lock(&vcpu->vm->vgic.lock);
	reap_lrs(vcpu);
	spin_unlock(&vcpu->vm->vgic.lock);
	gich_set_underflow_irq(false);
}

/* An SPI that was in a list register of a vCPU being reset: no longer in
 * one (else it is never delivered again), active no more (its handler went
 * with the old vCPU), and, if it still waited to be taken, pending for
 * whichever vCPU it is routed to. Lock held. */
static void spi_leaves_reset_lr(struct vcpu *vcpu, const struct gic_lr *lr)
{
	struct virq *v = vgic_virq(vcpu->vm, NULL, lr->vintid);

	if (lr->vintid < GIC_NR_PRIV || !v)
		return;
	v->in_lr = 0;
	v->lr_state = LR_STATE_INVALID;
	v->active = 0;
	if (!lr->hw && (lr->state & LR_STATE_PENDING)) {
		v->pending = 1;
		set_waiting(vcpu, lr->vintid, true);
	}
}

/* A fresh vCPU: empty list registers; physical interrupts linked to old
 * entries are deactivated so they can fire again; SPIs it held are handed
 * back (SPIs waiting for it stay pending: they are the VM's, not the vCPU's). */
void vgic_init_vcpu(struct vcpu *vcpu)
{
	struct gic_lr empty = {0};

	spin_lock(&vcpu->vm->vgic.lock);
	for (unsigned i = 0; i < gic.nr_lrs; i++) {
		struct gic_lr lr;
		gich_read_lr(i, &lr);
		if (lr.hw && lr.state != LR_STATE_INVALID)
			gic_deactivate(lr.pintid);
		gich_write_lr(i, &empty);
		if ((vcpu->vgic.lr_used & (1u << i)) && !vcpu->vgic.discard_lrs)
			spi_leaves_reset_lr(vcpu, &lr);
	}
	for (unsigned i = 0; i < GIC_NR_PRIV; i++) {
		struct virq *v = &vcpu->vgic.priv[i];
		if (v->hw && v->pending)
			gic_deactivate(i);
		*v = (struct virq){.priority = VGIC_DEFAULT_PRIO, .edge = i < 16};
		set_waiting(vcpu, i, false);
	}
	for (unsigned i = 0; i < 16; i++)
		vcpu->vgic.sgi_sources[i] = 0;
	vcpu->vgic.lr_used = 0;
	vcpu->vgic.redist_waker = 0;
	vcpu->vgic.discard_lrs = false;
	spin_unlock(&vcpu->vm->vgic.lock);
	gich_set_underflow_irq(false);
	gich_reset_cpu_if(); /* no active priority or VMCR of a previous vCPU */
}

void vgic_reset_vm(struct vm *vm)
{
	spin_lock(&vm->vgic.lock);
	vm->vgic.ctlr = 0;
	for (uint32_t i = 0; i < VGIC_NR_IRQS - GIC_NR_PRIV; i++) {
		struct virq *v = &vm->vgic.spi[i];
		if (vgic_is_hw_spi(vm, i + GIC_NR_PRIV)) {
			gic_enable(i + GIC_NR_PRIV, false);      /* the guest enables it again */
			if (v->active || v->in_lr || v->pending) /* acked, never deactivated */
				gic_deactivate(i + GIC_NR_PRIV);
		}
		*v = (struct virq){.priority = VGIC_DEFAULT_PRIO};
		vm->vgic.irouter[i] = 0;
		vm->vgic.itargets[i] = 0;
	}
	for (unsigned c = 0; c < vm->ncpus; c++) {
		struct vgic_cpu *vc = &vm->vcpus[c].vgic;
		memset(vc->pending, 0, sizeof(vc->pending));
		memset(vc->sgi_sources, 0, sizeof(vc->sgi_sources));
		vc->discard_lrs = true;
	}
	spin_unlock(&vm->vgic.lock);
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
