/* vGIC register emulation: the distributor (v2 and v3) and the GICv3
 * redistributors. Guest values are bounds-checked; unknown registers read
 * as zero and ignore writes (logged once per VM). */
#include "core/print.h"
#include "core/vgic_internal.h"
#include "core/vm.h"
#include "drivers/gic_regs.h"
#include "platform/board.h"

#define GICV_SIZE 0x2000UL
#define GICD_CPENDSGIR 0xf10 /* GICv2: a byte per SGI, a bit per sender */
#define GICD_SPENDSGIR 0xf20

enum bank { B_GROUP, B_SET_ENABLE, B_CLR_ENABLE, B_SET_PEND, B_CLR_PEND, B_SET_ACT, B_CLR_ACT };

static void odd_access(struct vm *vm, const char *what, uint32_t off)
{
	if (!vm->vgic.warned) {
		vm->vgic.warned = true;
		printk("vm %s: vGIC: %s at offset 0x%x ignored (logged once)\n", vm->name, what,
		       off);
	}
}

/* Physical side of a passthrough SPI, kept in step with the guest's view. */
static void hw_enable(struct vm *vm, uint32_t intid, bool on)
{
	if (vgic_is_hw_spi(vm, intid))
		gic_enable(intid, on);
}

static void hw_route(struct vm *vm, uint32_t intid, struct virq *v)
{
	if (vgic_is_hw_spi(vm, intid))
		gic_route_spi(intid, vm->vcpus[v->target < vm->ncpus ? v->target : 0].pcpu);
}

static uint32_t bank_read(struct vm *vm, struct vcpu *vcpu, enum bank b, uint32_t first)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < 32; i++) {
		struct virq *q = vgic_virq(vm, vcpu, first + i);
		if (!q)
			break;
		bool in_lr_pending = q->in_lr && (q->lr_state & LR_STATE_PENDING);
		bool bit = b == B_GROUP                             ? q->group1
			   : b == B_SET_ENABLE || b == B_CLR_ENABLE ? q->enabled
			   : b == B_SET_PEND || b == B_CLR_PEND     ? q->pending || in_lr_pending
								    : q->active;
		v |= (uint32_t)bit << i;
	}
	return v;
}

/* Lock held; returns a vCPU to kick when an enable made something deliverable. */
static struct vcpu *bank_write(struct vm *vm, struct vcpu *vcpu, enum bank b, uint32_t first,
			       uint32_t val)
{
	struct vcpu *kick = NULL;

	for (uint32_t i = 0; i < 32; i++) {
		uint32_t intid = first + i;
		struct virq *q = vgic_virq(vm, vcpu, intid);
		if (!q)
			break;
		bool bit = val & (1u << i);
		if (b == B_GROUP) {
			q->group1 = bit;
			continue;
		}
		if (!bit)
			continue;
		if (gic.version == 2 && intid < 16 && (b == B_SET_PEND || b == B_CLR_PEND))
			continue; /* GICv2: SGIs by GICD_SPENDSGIR/CPENDSGIR only */
		struct vcpu *target = vgic_target(vm, vcpu, intid);
		switch (b) {
		case B_SET_ENABLE:
			q->enabled = 1;
			hw_enable(vm, intid, true);
			if (q->pending)
				kick = target;
			break;
		case B_CLR_ENABLE:
			q->enabled = 0;
			hw_enable(vm, intid, false);
			break;
		case B_SET_PEND:
			if (!vgic_is_hw_spi(vm, intid) && target &&
			    vgic_set_pending_locked(vm, target, intid, false))
				kick = target;
			break;
		case B_CLR_PEND:
			if (!vgic_is_hw_spi(vm, intid))
				vgic_clear_pending_locked(vm, target, intid);
			break;
		case B_SET_ACT:
		case B_CLR_ACT:
			vgic_set_active_locked(vm, vcpu, intid, b == B_SET_ACT);
			break;
		default:
			break;
		}
	}
	return kick;
}

static uint64_t bytes_read(struct vm *vm, struct vcpu *vcpu, uint32_t first, unsigned width,
			   bool targets)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++) {
		struct virq *q = vgic_virq(vm, vcpu, first + i);
		if (!q)
			break;
		uint8_t byte = q->priority;
		if (targets)
			byte = first + i < GIC_NR_PRIV ? (uint8_t)(1u << (vcpu ? vcpu->id : 0))
						       : vm->vgic.itargets[first + i - GIC_NR_PRIV];
		v |= (uint64_t)byte << (8 * i);
	}
	return v;
}

static uint8_t vm_cpu_mask(const struct vm *vm)
{
	return (uint8_t)((1u << vm->ncpus) - 1);
}

/* IPRIORITYR or (GICv2) ITARGETSR bytes. Priorities keep the 5 bits the
 * virtual CPU interface implements; target bits of CPUs the VM does not
 * have read as zero, SGI/PPI targets are read-only. Returns a vCPU to kick
 * when a pending SPI moved to it. */
static struct vcpu *bytes_write(struct vm *vm, struct vcpu *vcpu, uint32_t first, unsigned width,
				uint64_t val, bool targets)
{
	struct vcpu *kick = NULL;

	for (unsigned i = 0; i < width; i++) {
		uint32_t intid = first + i;
		struct virq *q = vgic_virq(vm, vcpu, intid);
		uint8_t byte = (uint8_t)(val >> (8 * i));
		if (!q)
			break;
		if (!targets) {
			q->priority = byte & VGIC_PRIO_MASK;
		} else if (intid >= GIC_NR_PRIV) {
			byte &= vm_cpu_mask(vm);
			vm->vgic.itargets[intid - GIC_NR_PRIV] = byte;
			struct vcpu *moved = vgic_retarget_locked(
				vm, intid, byte ? (unsigned)__builtin_ctz(byte) : 0);
			kick = moved ? moved : kick;
			hw_route(vm, intid, q);
		}
	}
	return kick;
}

static uint32_t cfg_read(struct vm *vm, struct vcpu *vcpu, uint32_t first)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < 16; i++) {
		struct virq *q = vgic_virq(vm, vcpu, first + i);
		if (q && q->edge)
			v |= 2u << (2 * i);
	}
	return v;
}

static void cfg_write(struct vm *vm, struct vcpu *vcpu, uint32_t first, uint32_t val)
{
	for (uint32_t i = 0; i < 16; i++) {
		uint32_t intid = first + i;
		struct virq *q = vgic_virq(vm, vcpu, intid);
		if (!q || intid < GIC_NR_PRIV)
			continue; /* SGIs are edge, PPIs (the timers) level: read-only */
		q->edge = (val >> (2 * i + 1)) & 1;
		if (vgic_is_hw_spi(vm, intid))
			gic_set_level(intid, !q->edge);
	}
}

static void kick_other(struct vcpu *self, struct vcpu *t)
{
	if (t != self && t->state == VCPU_RUNNING)
		gic_send_sgi(t->pcpu, IPI_KICK);
}

/* GICv2 GICD_SGIR: filter 0 = the target list, 1 = all but the sender,
 * 2 = the sender only, 3 = reserved (nobody). */
static void sgir_write(struct vm *vm, struct vcpu *vcpu, uint32_t val)
{
	uint32_t intid = val & 0xf, filter = (val >> 24) & 3, list = (val >> 16) & 0xff;

	if (!vcpu || filter == 3)
		return;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *t = &vm->vcpus[i];
		bool hit = filter == 0 ? (list >> i) & 1 : filter == 1 ? t != vcpu : t == vcpu;
		if (hit && vgic_set_sgi_pending_locked(vm, t, intid, vcpu->id))
			kick_other(vcpu, t);
	}
}

/* GICv2 GICD_SPENDSGIR/CPENDSGIR of the accessing vCPU: which senders'
 * SGIs are pending, including one waiting in a list register. */
static uint64_t pendsgir_read(struct vcpu *vcpu, uint32_t sgi, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width && sgi + i < 16; i++) {
		struct virq *q = &vcpu->vgic.priv[sgi + i];
		uint8_t byte = vcpu->vgic.sgi_sources[sgi + i];
		if (q->in_lr && (q->lr_state & LR_STATE_PENDING))
			byte |= (uint8_t)(1u << q->lr_source);
		v |= (uint64_t)byte << (8 * i);
	}
	return v;
}

static void pendsgir_write(struct vm *vm, struct vcpu *vcpu, uint32_t sgi, unsigned width,
			   uint64_t val, bool set)
{
	/* the accessing vCPU is the target: it picks them up on its way back */
	for (unsigned i = 0; i < width && sgi + i < 16; i++) {
		uint32_t intid = sgi + i;
		uint8_t bits = (uint8_t)(val >> (8 * i)) & vm_cpu_mask(vm);
		for (unsigned src = 0; set && src < vm->ncpus; src++)
			if (bits & (1u << src))
				vgic_set_sgi_pending_locked(vm, vcpu, intid, src);
		if (!set && bits)
			vgic_clear_sgi_sources_locked(vcpu, intid, bits);
	}
}

static uint32_t typer(struct vm *vm)
{
	uint32_t lines = VGIC_NR_IRQS / 32 - 1;

	if (gic.version == 3)
		return lines | (9u << 19); /* IDbits: 10-bit INTIDs, no LPIs */
	return lines | ((vm->ncpus - 1) << 5);
}

/* Register banks shared by GICD and the GICR SGI frame. Returns false if
 * `off` is not one of them. */
static bool banks_read(struct vm *vm, struct vcpu *vcpu, uint32_t off, unsigned width,
		       uint64_t *val)
{
	static const uint32_t base[] = {GICD_IGROUPR, GICD_ISENABLER, GICD_ICENABLER, GICD_ISPENDR,
					GICD_ICPENDR, GICD_ISACTIVER, GICD_ICACTIVER};

	for (unsigned b = 0; b < ARRAY_SIZE(base); b++) {
		if (off >= base[b] && off < base[b] + 0x80) {
			*val = width == 4 ? bank_read(vm, vcpu, b, (off - base[b]) * 8) : 0;
			return true;
		}
	}
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) {
		*val = bytes_read(vm, vcpu, off - GICD_IPRIORITYR, width, false);
		return true;
	}
	if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		*val = width == 4 ? cfg_read(vm, vcpu, (off - GICD_ICFGR) * 4) : 0;
		return true;
	}
	return false;
}

static bool banks_write(struct vm *vm, struct vcpu *vcpu, uint32_t off, unsigned width,
			uint64_t val, struct vcpu **kick)
{
	static const uint32_t base[] = {GICD_IGROUPR, GICD_ISENABLER, GICD_ICENABLER, GICD_ISPENDR,
					GICD_ICPENDR, GICD_ISACTIVER, GICD_ICACTIVER};

	for (unsigned b = 0; b < ARRAY_SIZE(base); b++) {
		if (off >= base[b] && off < base[b] + 0x80) {
			if (width == 4)
				*kick = bank_write(vm, vcpu, b, (off - base[b]) * 8, (uint32_t)val);
			return true;
		}
	}
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) {
		*kick = bytes_write(vm, vcpu, off - GICD_IPRIORITYR, width, val, false);
		return true;
	}
	if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
		if (width == 4)
			cfg_write(vm, vcpu, (off - GICD_ICFGR) * 4, (uint32_t)val);
		return true;
	}
	return false;
}

/* With GICv3 affinity routing, private INTIDs live in the redistributors. */
static bool private_in_gicd(uint32_t off)
{
	return gic.version == 3 &&
	       ((off >= GICD_IGROUPR && off < GICD_IPRIORITYR && (off & 0x7f) < 4) ||
		(off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 32) ||
		(off >= GICD_ICFGR && off < GICD_ICFGR + 8));
}

uint64_t vgic_dist_read(struct vm *vm, struct vcpu *vcpu, uint32_t off, unsigned width)
{
	uint64_t v = 0;

	if (private_in_gicd(off))
		return 0;
	vgic_refresh_locked(vcpu);
	if (banks_read(vm, vcpu, off, width, &v))
		return v;
	if (gic.version == 2 && vcpu && off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR + 16)
		return pendsgir_read(vcpu, off & 0xf, width);
	if (gic.version == 2 && off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400)
		return bytes_read(vm, vcpu, off - GICD_ITARGETSR, width, true);
	if (gic.version == 3 && off >= GICD_IROUTER + 8 * GIC_NR_PRIV &&
	    off < GICD_IROUTER + 8 * VGIC_NR_IRQS) {
		uint64_t r = vm->vgic.irouter[(off - GICD_IROUTER) / 8 - GIC_NR_PRIV];
		return width == 8 ? r : (off & 4) ? r >> 32 : (uint32_t)r;
	}
	switch (off) {
	case GICD_CTLR:
		return vm->vgic.ctlr | (gic.version == 3 ? 1u << 4 : 0); /* ARE */
	case GICD_TYPER:
		return typer(vm);
	case GICD_IIDR:
		return 0x43b;
	case GICD_TYPER2:
		return 0;
	case GICD_PIDR2:
		return gic.version == 3 ? 0x3b : 0x2b;
	default:
		odd_access(vm, "read of an unemulated distributor register", off);
		return 0;
	}
}

static struct vcpu *irouter_write(struct vm *vm, uint32_t off, unsigned width, uint64_t val)
{
	uint32_t intid = (off - GICD_IROUTER) / 8;
	uint64_t *r = &vm->vgic.irouter[intid - GIC_NR_PRIV];

	if (width == 8)
		*r = val;
	else if (off & 4)
		*r = (*r & 0xffffffffULL) | (val << 32);
	else
		*r = (*r & ~0xffffffffULL) | (uint32_t)val;
	struct virq *q = vgic_virq(vm, NULL, intid);
	uint64_t aff0 = *r & 0xff;
	struct vcpu *moved = vgic_retarget_locked(
		vm, intid, (*r & (1ULL << 31)) || aff0 >= vm->ncpus ? 0 : aff0);
	hw_route(vm, intid, q);
	return moved;
}

void vgic_dist_write(struct vm *vm, struct vcpu *vcpu, uint32_t off, unsigned width, uint64_t val)
{
	struct vcpu *kick = NULL;

	if (private_in_gicd(off))
		return;
	vgic_refresh_locked(vcpu);
	if (banks_write(vm, vcpu, off, width, val, &kick)) {
		if (kick && kick != vcpu && kick->state == VCPU_RUNNING)
			gic_send_sgi(kick->pcpu, IPI_KICK);
		return;
	}
	if (gic.version == 2 && off >= GICD_ITARGETSR && off < GICD_ITARGETSR + 0x400) {
		kick = bytes_write(vm, vcpu, off - GICD_ITARGETSR, width, val, true);
		if (kick)
			kick_other(vcpu, kick);
	} else if (gic.version == 3 && off >= GICD_IROUTER + 8 * GIC_NR_PRIV &&
		   off < GICD_IROUTER + 8 * VGIC_NR_IRQS) {
		kick = irouter_write(vm, off, width, val);
		if (kick)
			kick_other(vcpu, kick);
	} else if (off == GICD_CTLR) {
		vm->vgic.ctlr = (uint32_t)val & 3;
	} else if (off == GICD_SGIR && gic.version == 2) {
		sgir_write(vm, vcpu, (uint32_t)val);
	} else if (gic.version == 2 && vcpu && off >= GICD_CPENDSGIR && off < GICD_SPENDSGIR + 16) {
		pendsgir_write(vm, vcpu, off & 0xf, width, val, off >= GICD_SPENDSGIR);
	} else {
		odd_access(vm, "write to an unemulated distributor register", off);
	}
}

/* The SGI frame holds the first register of each bank (INTIDs 0-31); what
 * follows it in the GICD layout is reserved there. */
static bool redist_sgi_frame_reg(uint32_t off)
{
	return (off >= GICD_IGROUPR && off < GICD_IPRIORITYR && (off & 0x7f) < 4) ||
	       (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 32) ||
	       (off >= GICD_ICFGR && off < GICD_ICFGR + 8);
}

uint64_t vgic_redist_read(struct vm *vm, struct vcpu *rd, uint32_t off, unsigned width)
{
	uint64_t v = 0;

	if (off >= GICR_SGI_BASE) {
		off -= GICR_SGI_BASE;
		vgic_refresh_locked(rd);
		if (redist_sgi_frame_reg(off))
			if (banks_read(vm, rd, off, width, &v))
				return v;
		return 0;
	}
	switch (off) {
	case GICR_TYPER: {
		uint64_t t = (uint64_t)rd->id << 8 | (uint64_t)(rd->vmpidr & 0xff) << 32 |
			     (rd->id == vm->ncpus - 1 ? GICR_TYPER_LAST : 0);
		return width == 8 ? t : (uint32_t)t;
	}
	case GICR_TYPER + 4:
		return (uint32_t)(rd->vmpidr & 0xff);
	case GICR_IIDR:
		return 0x43b;
	case GICR_WAKER:
		return rd->vgic.redist_waker;
	case GICR_PIDR2:
		return 0x3b;
	default:
		return 0;
	}
}

void vgic_redist_write(struct vm *vm, struct vcpu *rd, uint32_t off, unsigned width, uint64_t val)
{
	struct vcpu *kick = NULL;

	if (off >= GICR_SGI_BASE) {
		off -= GICR_SGI_BASE;
		vgic_refresh_locked(rd);
		if (redist_sgi_frame_reg(off))
			banks_write(vm, rd, off, width, val, &kick);
		if (kick && kick->state == VCPU_RUNNING && kick->pcpu != rd->pcpu)
			gic_send_sgi(kick->pcpu, IPI_KICK);
		return;
	}
	if (off == GICR_WAKER) {
		/* ChildrenAsleep follows ProcessorSleep at once */
		uint32_t sleep = (uint32_t)val & GICR_WAKER_SLEEP;
		rd->vgic.redist_waker = sleep | (sleep ? GICR_WAKER_ASLEEP : 0);
	}
}

static bool width_ok(const struct mmio_access *acc, bool allow64)
{
	return acc->width == 4 || acc->width == 1 || (allow64 && acc->width == 8);
}

static bool gicd_mmio(struct vcpu *vcpu, struct mmio_access *acc, void *opaque)
{
	struct vm *vm = opaque;
	uint32_t off = (uint32_t)(acc->addr - PLAT_GUEST_GICD);

	if (!width_ok(acc, gic.version == 3) || (off & (acc->width - 1)))
		return false;
	spin_lock(&vm->vgic.lock);
	if (acc->write)
		vgic_dist_write(vm, vcpu, off, acc->width, acc->value);
	else
		acc->value = vgic_dist_read(vm, vcpu, off, acc->width);
	spin_unlock(&vm->vgic.lock);
	return true;
}

static bool gicr_mmio(struct vcpu *vcpu, struct mmio_access *acc, void *opaque)
{
	struct vm *vm = opaque;
	uint64_t rel = acc->addr - PLAT_GUEST_GICR;
	unsigned idx = (unsigned)(rel / GICR_FRAME);

	(void)vcpu;
	if (idx >= vm->ncpus || !width_ok(acc, true) || (rel & (acc->width - 1)))
		return false;
	spin_lock(&vm->vgic.lock);
	if (acc->write)
		vgic_redist_write(vm, &vm->vcpus[idx], (uint32_t)(rel % GICR_FRAME), acc->width,
				  acc->value);
	else
		acc->value = vgic_redist_read(vm, &vm->vcpus[idx], (uint32_t)(rel % GICR_FRAME),
					      acc->width);
	spin_unlock(&vm->vgic.lock);
	return true;
}

int vgic_mmio_register(struct vm *vm)
{
	if (vm_register_mmio(vm, PLAT_GUEST_GICD, PLAT_GUEST_GICD_SIZE, gicd_mmio, vm))
		return -1;
	if (gic.version == 3)
		return vm_register_mmio(vm, PLAT_GUEST_GICR, (uint64_t)vm->ncpus * GICR_FRAME,
					gicr_mmio, vm);
	return vm_map(vm, PLAT_GUEST_GICC, gic.gicv, GICV_SIZE, true);
}
