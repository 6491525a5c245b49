/* libFuzzer harness of the vGIC (GICv2 and GICv3 models): a sequence of
 * distributor and redistributor accesses of any width, offset and value
 * (through the MMIO handlers the vGIC registers, as a trapped guest access
 * reaches them), SGIs, device and passthrough injections, list-register
 * syncs with the guest acknowledging and finishing interrupts, and vCPU
 * restarts. Checked after every step:
 *  - the physical GIC is touched only for SPIs this VM owns (enable, route,
 *    trigger, deactivate) and kicks go only to this VM's CPUs;
 *  - list registers hold only INTIDs the VM has, a linked (HW) entry only for
 *    a physical interrupt the VM owns, an SPI in at most one list register,
 *    and a new entry only for an interrupt something raised and the guest
 *    did not clear since;
 *  - a register read after a write returns what the architecture says
 *    (enables, priorities, targets, trigger, routing, control), accesses of
 *    an unsupported width or alignment are refused. */
#include <stdio.h>
#include <string.h>

#include "lib/fuzz_stubs.h"
#include "core/percpu.h"
#include "core/vgic_internal.h"
#include "core/vm.h"
#include "drivers/gic_regs.h"
#include "platform/board.h"

#define MAX_VCPUS 4
#define MAX_LRS 16
#define OTHER_PCPU 6    /* the other VM's vCPU */
#define EXTERNAL_PCPU 7 /* a CPU without a vCPU (e.g. a device completing) */
#define HW_PPI 27       /* the virtual timer, forwarded linked */
#define HW_PPI2 30      /* the physical timer, forwarded linked */

struct gic_info gic;
static struct pcpu cpu; /* this_cpu(): whoever runs the current step */
static struct gic_lr lrs[MAX_VCPUS][MAX_LRS];
static struct vm *vm, *other;
static uint64_t owned[VGIC_BITMAP_WORDS]; /* physical SPIs given to `vm` */
/* How often each interrupt was raised since the guest last cleared it:
 * [vcpu][intid] for private ones, [0][intid] for SPIs. */
static unsigned raised[MAX_VCPUS][VGIC_NR_IRQS];

struct pcpu *this_cpu(void)
{
	return &cpu;
}

static bool trace; /* FUZZ_TRACE=1: print each step (to read a reproducer) */
#define TRACE(...)                                    \
	do {                                          \
		if (trace)                            \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

static bool owns(uint32_t intid)
{
	return intid >= GIC_NR_PRIV && intid < VGIC_NR_IRQS &&
	       (owned[intid / 64] & (1ULL << (intid % 64)));
}

static bool vm_pcpu(unsigned pcpu)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].pcpu == pcpu)
			return true;
	return false;
}

static void run_on(struct vcpu *v)
{
	cpu.vcpu = v;
	cpu.id = v ? v->pcpu : EXTERNAL_PCPU;
}

/* ---- the physical GIC, as the vGIC may use it ---- */

void gic_enable(uint32_t intid, bool on)
{
	(void)on;
	FUZZ_ASSERT(owns(intid), "gic_enable of INTID %u the VM does not own", intid);
}

void gic_route_spi(uint32_t intid, unsigned pcpu)
{
	FUZZ_ASSERT(owns(intid), "routing INTID %u the VM does not own", intid);
	FUZZ_ASSERT(vm_pcpu(pcpu), "INTID %u routed to CPU %u, not the VM's", intid, pcpu);
}

void gic_set_level(uint32_t intid, bool level)
{
	(void)level;
	FUZZ_ASSERT(owns(intid), "trigger of INTID %u the VM does not own", intid);
}

void gic_deactivate(uint32_t intid)
{
	FUZZ_ASSERT(owns(intid) || intid == HW_PPI || intid == HW_PPI2,
		    "deactivating INTID %u the VM does not own", intid);
}

void gic_send_sgi(unsigned pcpu, unsigned sgi)
{
	FUZZ_ASSERT(sgi == IPI_KICK, "physical SGI %u sent", sgi);
	FUZZ_ASSERT(vm_pcpu(pcpu), "kick sent to CPU %u, not the VM's", pcpu);
}

static uint8_t timer_level[MAX_VCPUS]; /* bit 0: virtual, bit 1: physical timer */

bool timer_guest_irq_asserted(uint32_t ppi)
{
	FUZZ_ASSERT(cpu.vcpu && cpu.vcpu->vm == vm, "timer sampled off the vCPU's CPU");
	return timer_level[cpu.vcpu->id] & (ppi == HW_PPI ? 1 : 2);
}

static struct vcpu *lr_owner(void)
{
	FUZZ_ASSERT(cpu.vcpu && cpu.vcpu->vm == vm && cpu.vcpu->pcpu == cpu.id,
		    "list registers used on CPU %u, which runs none of the VM's vCPUs", cpu.id);
	return cpu.vcpu;
}

static unsigned *raised_of(unsigned vcpu, uint32_t intid)
{
	return &raised[intid < GIC_NR_PRIV ? vcpu : 0][intid];
}

void gich_write_lr(unsigned idx, const struct gic_lr *lr)
{
	struct vcpu *v = lr_owner();

	FUZZ_ASSERT(idx < gic.nr_lrs, "list register %u of %u", idx, gic.nr_lrs);
	struct gic_lr *old = &lrs[v->id][idx];
	if (lr->state != LR_STATE_INVALID) {
		FUZZ_ASSERT(lr->vintid < VGIC_NR_IRQS, "INTID %u in a list register", lr->vintid);
		FUZZ_ASSERT(!lr->hw || (lr->pintid == lr->vintid &&
					(owns(lr->pintid) || lr->pintid == HW_PPI ||
					 lr->pintid == HW_PPI2)),
			    "list register linked to physical INTID %u (virtual %u)", lr->pintid,
			    lr->vintid);
		bool fresh = old->state == LR_STATE_INVALID || old->vintid != lr->vintid;
		if (fresh && (lr->state & LR_STATE_PENDING)) {
			unsigned *r = raised_of(v->id, lr->vintid);
			FUZZ_ASSERT(*r > 0,
				    "INTID %u delivered to vCPU %u, but nothing raised it since "
				    "the guest cleared it",
				    lr->vintid, v->id);
			(*r)--;
		}
	}
	TRACE("  vcpu %u LR%u: intid %u state %u hw %d\n", v->id, idx, lr->vintid, lr->state,
	      lr->hw);
	*old = *lr;
}

void gich_read_lr(unsigned idx, struct gic_lr *lr)
{
	struct vcpu *v = lr_owner();

	FUZZ_ASSERT(idx < gic.nr_lrs, "list register %u of %u", idx, gic.nr_lrs);
	*lr = lrs[v->id][idx];
}

void gich_set_underflow_irq(bool on)
{
	(void)on;
}
void gich_reset_cpu_if(void)
{
}

/* ---- what raises and clears interrupts, for the delivery check ---- */

static void raise_all_vcpus(uint32_t intid)
{
	if (intid >= VGIC_NR_IRQS)
		return;
	for (unsigned i = 0; i < MAX_VCPUS; i++)
		(*raised_of(i, intid))++;
}

/* A guest write of `val` at distributor (or SGI frame) offset `off`. */
static void note_write(uint32_t off, unsigned width, uint64_t val, bool redist, unsigned vcpu)
{
	if (width == 4 && off >= GICD_ISPENDR && off < GICD_ISPENDR + 0x80) {
		for (unsigned i = 0; i < 32; i++)
			if (val & (1ULL << i))
				raise_all_vcpus((off - GICD_ISPENDR) * 8 + i);
	}
	if (!redist && gic.version == 2 && off == GICD_SGIR)
		raise_all_vcpus(val & 0xf);
	if (!redist && gic.version == 2 && off >= 0xf20 && off < 0xf30) /* SPENDSGIR */
		for (unsigned i = 0; i < width; i++)                    /* one per sender */
			for (int n = __builtin_popcount((uint8_t)(val >> (8 * i))); n; n--)
				raise_all_vcpus((off & 0xf) + i);
	/* ICPENDR: what the architecture says clears (word 0 is private) */
	if (width == 4 && off >= GICD_ICPENDR && off < GICD_ICPENDR + 0x80) {
		uint32_t word = (off - GICD_ICPENDR) / 4;
		bool privates = word == 0 && (redist || gic.version == 2);
		bool spis = word > 0 && !redist;
		for (unsigned i = 0; i < 32 && (privates || spis); i++) {
			uint32_t intid = word * 32 + i;
			if (!(val & (1ULL << i)) || intid >= VGIC_NR_IRQS || owns(intid))
				continue;
			if (intid < 16 && gic.version == 2)
				continue; /* v2 SGIs: by CPENDSGIR */
			*raised_of(vcpu, intid) = 0;
		}
	}
}

/* ---- register semantics: what reading back must give ---- */

/* Whether `intid`'s state is reached at this frame (GICD of v3: SPIs only). */
static bool implemented(uint32_t intid, bool redist)
{
	if (intid >= VGIC_NR_IRQS)
		return false;
	if (redist)
		return intid < GIC_NR_PRIV;
	return gic.version == 2 || intid >= GIC_NR_PRIV;
}

static uint64_t access(mmio_handler_fn fn, ipa_t addr, unsigned width, bool write, uint64_t val,
		       struct vcpu *v, bool *ok)
{
	struct mmio_access acc = {.addr = addr, .width = width, .write = write, .value = val};

	run_on(v);
	*ok = fn(v, &acc, vm);
	return acc.value;
}

/* A GIC implements at least 4 priority bits, the high ones; the others are
 * RAZ/WI. */
static bool priority_matches(uint8_t got, uint8_t written)
{
	for (unsigned bits = 8; bits >= 4; bits--)
		if (got == (written & (uint8_t)(0xff << (8 - bits))))
			return true;
	return false;
}

static void check_readback(mmio_handler_fn fn, ipa_t frame, uint32_t off, unsigned width,
			   uint64_t val, struct vcpu *v, bool redist)
{
	bool ok;
	uint64_t mask = width == 8 ? ~0ULL : (1ULL << (8 * width)) - 1;
	uint64_t got = access(fn, frame + off, width, false, 0, v, &ok);
	uint32_t first;

	FUZZ_ASSERT(ok, "read refused after a write was accepted at 0x%x", off);
	val &= mask;
	got &= mask; /* what the trap path leaves in the register */
	if (width == 4 && off >= GICD_ISENABLER && off < GICD_ICENABLER + 0x80) {
		bool set = off < GICD_ICENABLER;
		first = ((off - (set ? GICD_ISENABLER : GICD_ICENABLER)) / 4) * 32;
		for (unsigned i = 0; i < 32; i++) {
			bool bit = (got >> i) & 1;
			if (!implemented(first + i, redist))
				FUZZ_ASSERT(!bit, "enable bit of INTID %u reads as one", first + i);
			else if (val & (1ULL << i))
				FUZZ_ASSERT(bit == set, "INTID %u: enable reads %d after %s",
					    first + i, bit, set ? "ISENABLER" : "ICENABLER");
		}
	} else if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) {
		first = off - GICD_IPRIORITYR;
		for (unsigned i = 0; i < width; i++) {
			uint8_t want =
				implemented(first + i, redist) ? (uint8_t)(val >> (8 * i)) : 0;
			FUZZ_ASSERT(priority_matches((uint8_t)(got >> (8 * i)), want),
				    "priority of INTID %u reads 0x%x after writing 0x%x", first + i,
				    (unsigned)(uint8_t)(got >> (8 * i)), (unsigned)want);
		}
	} else if (!redist && gic.version == 2 && off >= GICD_ITARGETSR + GIC_NR_PRIV &&
		   off < GICD_ITARGETSR + 0x400) {
		first = off - GICD_ITARGETSR;
		uint8_t cpus = (uint8_t)((1u << vm->ncpus) - 1);
		for (unsigned i = 0; i < width; i++) {
			uint8_t want =
				first + i < VGIC_NR_IRQS ? (uint8_t)(val >> (8 * i)) & cpus : 0;
			FUZZ_ASSERT((uint8_t)(got >> (8 * i)) == want,
				    "targets of INTID %u read 0x%x after writing 0x%x", first + i,
				    (unsigned)(uint8_t)(got >> (8 * i)), (unsigned)want);
		}
	} else if (width == 4 && off >= GICD_ICFGR + 8 && off < GICD_ICFGR + 0x100 && !redist) {
		first = (off - GICD_ICFGR) * 4;
		for (unsigned i = 0; i < 16; i++) {
			uint32_t want =
				first + i < VGIC_NR_IRQS ? (uint32_t)(val >> (2 * i)) & 2 : 0;
			FUZZ_ASSERT(((got >> (2 * i)) & 3) == want, "trigger of INTID %u",
				    first + i);
		}
	} else if (!redist && gic.version == 3 && width >= 4 &&
		   off >= GICD_IROUTER + 8 * GIC_NR_PRIV && off < GICD_IROUTER + 8 * VGIC_NR_IRQS) {
		FUZZ_ASSERT(got == val, "IROUTER at 0x%x reads 0x%lx after writing 0x%lx", off,
			    (unsigned long)got, (unsigned long)val);
	} else if (!redist && off == GICD_CTLR && width == 4) {
		uint64_t want = (val & 3) | (gic.version == 3 ? 1u << 4 : 0);
		FUZZ_ASSERT(got == want, "GICD_CTLR reads 0x%lx after writing 0x%lx",
			    (unsigned long)got, (unsigned long)val);
	}
}

/* Static registers that read the same whatever the guest did. */
static void check_ids(struct vcpu *v)
{
	bool ok;
	mmio_handler_fn gicd = vm->mmio[0].handler;
	uint64_t typer = access(gicd, PLAT_GUEST_GICD + GICD_TYPER, 4, false, 0, v, &ok);

	FUZZ_ASSERT(ok && (typer & 0x1f) == VGIC_NR_IRQS / 32 - 1, "GICD_TYPER 0x%lx",
		    (unsigned long)typer);
	if (gic.version == 2)
		FUZZ_ASSERT(((typer >> 5) & 7) == vm->ncpus - 1, "GICD_TYPER CPUs");
	for (unsigned i = 0; gic.version == 3 && i < vm->ncpus; i++) {
		uint64_t t = access(vm->mmio[1].handler,
				    PLAT_GUEST_GICR + (uint64_t)i * GICR_FRAME + GICR_TYPER, 8,
				    false, 0, v, &ok);
		FUZZ_ASSERT(ok && (t >> 32) == vm->vcpus[i].vmpidr &&
				    !!(t & GICR_TYPER_LAST) == (i == vm->ncpus - 1),
			    "GICR_TYPER of vCPU %u: 0x%lx", i, (unsigned long)t);
	}
}

/* ---- invariants of the list registers ---- */

FUZZ_NOCOV static void check_lrs(void)
{
	static unsigned seen[VGIC_NR_IRQS];

	memset(seen, 0, sizeof(seen));
	for (unsigned c = 0; c < vm->ncpus; c++) {
		struct vcpu *v = &vm->vcpus[c];
		FUZZ_ASSERT(!(v->vgic.lr_used & ~((1ULL << gic.nr_lrs) - 1)),
			    "vCPU %u uses list registers 0x%x of %u", c, v->vgic.lr_used,
			    gic.nr_lrs);
		for (unsigned i = 0; i < gic.nr_lrs; i++) {
			const struct gic_lr *lr = &lrs[c][i];
			if (lr->state == LR_STATE_INVALID)
				continue;
			for (unsigned j = 0; j < i; j++)
				FUZZ_ASSERT(lrs[c][j].state == LR_STATE_INVALID ||
						    lrs[c][j].vintid != lr->vintid,
					    "INTID %u in two list registers of vCPU %u", lr->vintid,
					    c);
			if (lr->vintid >= GIC_NR_PRIV && lr->vintid < VGIC_NR_IRQS)
				FUZZ_ASSERT(!seen[lr->vintid]++,
					    "SPI %u in list registers of two vCPUs", lr->vintid);
		}
	}
	/* an SPI marked as held by a list register is in one the vGIC still
	 * owns (maybe finished by the guest, not reaped yet): else it is lost */
	memset(seen, 0, sizeof(seen));
	for (unsigned c = 0; c < vm->ncpus; c++)
		for (unsigned i = 0; i < gic.nr_lrs; i++)
			if ((vm->vcpus[c].vgic.lr_used & (1u << i)) &&
			    lrs[c][i].vintid < VGIC_NR_IRQS)
				seen[lrs[c][i].vintid] = 1;
	for (uint32_t intid = GIC_NR_PRIV; intid < VGIC_NR_IRQS; intid++)
		FUZZ_ASSERT(!vm->vgic.spi[intid - GIC_NR_PRIV].in_lr || seen[intid],
			    "SPI %u is marked in a list register, but none holds it", intid);
}

/* The guest acknowledges (pending -> active) and finishes (active -> idle)
 * interrupts, as the virtual CPU interface does without the hypervisor. */
static void guest_handles(struct vcpu *v, uint32_t how)
{
	for (unsigned i = 0; i < gic.nr_lrs; i++, how >>= 2) {
		struct gic_lr *lr = &lrs[v->id][i];
		if (!(how & 1) || lr->state == LR_STATE_INVALID)
			continue;
		TRACE("  guest on vcpu %u: LR%u (intid %u) %s\n", v->id, i, lr->vintid,
		      lr->state & LR_STATE_ACTIVE ? "EOI"
		      : how & 2                   ? "ack"
						  : "-");
		if (lr->state & LR_STATE_ACTIVE)
			lr->state &= (uint8_t)~LR_STATE_ACTIVE; /* EOI (and deactivate) */
		else if (how & 2)
			lr->state = LR_STATE_ACTIVE; /* acknowledge */
	}
}

/* A vCPU restarts: what waited in its list registers, still pending, may
 * be delivered again (an SPI, to whichever vCPU it is routed to). */
static void restart(struct vcpu *v)
{
	for (unsigned i = 0; i < gic.nr_lrs; i++) {
		const struct gic_lr *lr = &lrs[v->id][i];
		if ((v->vgic.lr_used & (1u << i)) && (lr->state & LR_STATE_PENDING))
			raise_all_vcpus(lr->vintid);
	}
	TRACE("restart vcpu %u\n", v->id);
	vgic_init_vcpu(v);
}

/* Liveness: the guest takes and finishes whatever is in its list registers,
 * round after round; then nothing enabled may still be pending (it would be
 * an interrupt the vGIC lost). */
static void drain(void)
{
	unsigned rounds = VGIC_NR_IRQS / gic.nr_lrs + 8;

	for (unsigned r = 0; r < rounds; r++)
		for (unsigned c = 0; c < vm->ncpus; c++) {
			struct vcpu *v = &vm->vcpus[c];
			run_on(v);
			vgic_sync(v);
			for (unsigned i = 0; i < gic.nr_lrs; i++)
				lrs[c][i].state = LR_STATE_INVALID;
			check_lrs();
		}
	for (unsigned c = 0; c < vm->ncpus; c++) {
		run_on(&vm->vcpus[c]);
		vgic_sync(&vm->vcpus[c]);
		for (uint32_t intid = 0; intid < GIC_NR_PRIV; intid++) {
			const struct virq *q = &vm->vcpus[c].vgic.priv[intid];
			FUZZ_ASSERT(!q->pending || !q->enabled || q->in_lr,
				    "INTID %u of vCPU %u stays pending, never delivered", intid, c);
		}
	}
	for (uint32_t intid = GIC_NR_PRIV; intid < VGIC_NR_IRQS; intid++) {
		const struct virq *q = &vm->vgic.spi[intid - GIC_NR_PRIV];
		FUZZ_ASSERT(!q->pending || !q->enabled || q->in_lr,
			    "SPI %u stays pending, never delivered", intid);
	}
}

/* ---- the harness ---- */

static void setup(struct fuzz_in *in)
{
	uint8_t b = fin_u8(in);

	memset(vms, 0, sizeof(vms));
	memset(lrs, 0, sizeof(lrs));
	memset(owned, 0, sizeof(owned));
	memset(raised, 0, sizeof(raised));
	memset(timer_level, 0, sizeof(timer_level));
	gic = (struct gic_info){.version = 2 + (b & 1), .nr_lrs = 1 + (b >> 4)};
	vm = &vms[0];
	other = &vms[1];
	vm->name = "fuzz";
	vm->ncpus = 1 + ((b >> 1) & 3);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		vm->vcpus[i] = (struct vcpu){.vm = vm, .id = i, .pcpu = 1 + i, .vmpidr = i};
		vm->vcpus[i].state = (b >> 3) & 1 && i ? VCPU_OFF : VCPU_RUNNING;
	}
	other->name = "other";
	other->ncpus = 1;
	other->vcpus[0] = (struct vcpu){.vm = other, .pcpu = OTHER_PCPU};
	run_on(&vm->vcpus[0]);
	TRACE("GICv%d, %u vCPUs, %u LRs\n", gic.version, vm->ncpus, gic.nr_lrs);
	FUZZ_ASSERT(vgic_init_vm(vm) == 0, "vgic_init_vm");
	FUZZ_ASSERT(vm->nmmio == (gic.version == 3 ? 2u : 1u), "%u MMIO regions", vm->nmmio);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		run_on(&vm->vcpus[i]);
		vgic_init_vcpu(&vm->vcpus[i]);
	}
	/* a few physical SPIs passed through to the VM */
	for (unsigned n = fin_u8(in) % 4; n; n--) {
		uint32_t intid = GIC_NR_PRIV + fin_u8(in) % (VGIC_NR_IRQS - GIC_NR_PRIV);
		owned[intid / 64] |= 1ULL << (intid % 64);
		run_on(&vm->vcpus[0]);
		vgic_assign_hw_irq(vm, intid);
	}
}

static const uint32_t dist_bases[] = {
	GICD_CTLR,    GICD_IGROUPR,   GICD_ISENABLER, GICD_ICENABLER,  GICD_ISPENDR,
	GICD_ICPENDR, GICD_ISACTIVER, GICD_ICACTIVER, GICD_IPRIORITYR, GICD_ITARGETSR,
	GICD_ICFGR,   GICD_SGIR,      0xf10,          0xf20,           GICD_IROUTER + 8 * 32,
	GICD_PIDR2,
};
static const uint32_t redist_bases[] = {
	GICR_CTLR,
	GICR_TYPER,
	GICR_WAKER,
	GICR_SGI_BASE + GICD_IGROUPR,
	GICR_SGI_BASE + GICD_ISENABLER,
	GICR_SGI_BASE + GICD_ICENABLER,
	GICR_SGI_BASE + GICD_ISPENDR,
	GICR_SGI_BASE + GICD_ICPENDR,
	GICR_SGI_BASE + GICD_IPRIORITYR,
	GICR_SGI_BASE + GICD_ICFGR,
};

/* An offset near a register the fuzzer picks, or anywhere. */
static uint32_t pick_offset(struct fuzz_in *in, const uint32_t *bases, unsigned n, uint32_t size)
{
	uint8_t sel = fin_u8(in);
	uint32_t r = fin_u16(in);

	if (sel & 0x80)
		return (r | (uint32_t)fin_u8(in) << 16) % size;
	return (bases[sel % n] + (r & 0x3ff)) % size;
}

static struct vcpu *pick_vcpu(struct fuzz_in *in)
{
	return &vm->vcpus[fin_u8(in) % vm->ncpus];
}

static void mmio_step(struct fuzz_in *in, bool redist, bool write)
{
	static const unsigned widths[] = {4, 4, 1, 8, 2, 4, 1, 3};
	struct vcpu *v = pick_vcpu(in);
	unsigned width = widths[fin_u8(in) % 8];
	uint64_t val = fin_u64(in);
	mmio_handler_fn fn;

	if (width < 8) /* the trap path passes a store's low `width` bytes */
		val &= (1ULL << (8 * width)) - 1;
	uint32_t off, frame_size;
	unsigned frame = 0;
	ipa_t base;
	bool ok;

	if (!redist) {
		fn = vm->mmio[0].handler;
		off = pick_offset(in, dist_bases, ARRAY_SIZE(dist_bases), 0x10000);
		base = PLAT_GUEST_GICD;
	} else {
		if (gic.version != 3)
			return;
		fn = vm->mmio[1].handler;
		frame = fin_u8(in) % vm->ncpus;
		frame_size = GICR_FRAME;
		off = pick_offset(in, redist_bases, ARRAY_SIZE(redist_bases), frame_size);
		base = PLAT_GUEST_GICR + (uint64_t)frame * GICR_FRAME;
	}
	access(fn, base + off, width, write, val, v, &ok);
	TRACE("vcpu %u: %s %s 0x%x/%u = 0x%lx%s\n", v->id, redist ? "GICR" : "GICD",
	      write ? "write" : "read", off + (redist ? frame * GICR_FRAME : 0), width,
	      (unsigned long)val, ok ? "" : " (refused)");
	bool width_ok = width == 4 || width == 1 || (width == 8 && (redist || gic.version == 3));
	if (!width_ok || (off & (width - 1))) {
		FUZZ_ASSERT(!ok, "%s access of width %u at 0x%x accepted", redist ? "GICR" : "GICD",
			    width, off);
		return;
	}
	FUZZ_ASSERT(ok, "%s access of width %u at 0x%x refused", redist ? "GICR" : "GICD", width,
		    off);
	if (!write)
		return; /* (the trap path keeps the low `width` bytes of a read) */
	struct vcpu *target = redist ? &vm->vcpus[frame] : v;
	bool sgi_frame = redist && off >= GICR_SGI_BASE;
	uint32_t roff = sgi_frame ? off - GICR_SGI_BASE : off;
	if (!redist || sgi_frame) {
		note_write(roff, width, val, redist, target->id);
		check_readback(fn, base + (sgi_frame ? GICR_SGI_BASE : 0), roff, width, val, v,
			       redist);
	} else if (off == GICR_WAKER && width == 4) {
		uint32_t w = (uint32_t)access(fn, base + off, 4, false, 0, v, &ok);
		bool sleep = val & GICR_WAKER_SLEEP;
		FUZZ_ASSERT(!!(w & GICR_WAKER_SLEEP) == sleep && !!(w & GICR_WAKER_ASLEEP) == sleep,
			    "GICR_WAKER 0x%x after writing 0x%lx", w, (unsigned long)val);
	}
}

static void step(struct fuzz_in *in)
{
	uint8_t op = fin_u8(in);
	struct vcpu *v;

	TRACE("step %u\n", op % 12);
	switch (op % 12) {
	case 0:
	case 1:
		mmio_step(in, false, op % 12 == 0);
		break;
	case 2:
	case 3:
		mmio_step(in, true, op % 12 == 2);
		break;
	case 4: { /* a device's interrupt, from any CPU */
		uint32_t intid = fin_u16(in) % 300;
		uint8_t who = fin_u8(in);
		v = who & 1 ? pick_vcpu(in) : NULL;
		if (who & 2)
			run_on(NULL);
		else
			run_on(pick_vcpu(in));
		if (!owns(intid) && (intid >= GIC_NR_PRIV || v))
			raise_all_vcpus(intid);
		TRACE("inject %u to vcpu %d\n", intid, v ? (int)v->id : -1);
		if (!owns(intid))
			vgic_inject(vm, v, intid);
		break;
	}
	case 5: { /* a physical interrupt forwarded on the vCPU's CPU */
		v = pick_vcpu(in);
		uint8_t b = fin_u8(in);
		uint32_t intid = b & 2 ? HW_PPI2 : HW_PPI;
		timer_level[v->id] = (uint8_t)(b >> 2) & 3; /* the timers' outputs now */
		for (uint32_t i = 0; i < VGIC_NR_IRQS && (b & 1); i++)
			if (owns((b + i) % VGIC_NR_IRQS)) {
				intid = (b + i) % VGIC_NR_IRQS;
				break;
			}
		run_on(v);
		raise_all_vcpus(intid);
		TRACE("inject_hw %u to vcpu %u\n", intid, v->id);
		vgic_inject_hw(v, intid);
		break;
	}
	case 6: /* GICv3 ICC_SGI1R_EL1 */
		v = pick_vcpu(in);
		if (gic.version == 3) {
			uint64_t val = fin_u64(in);
			raise_all_vcpus((val >> 24) & 0xf);
			TRACE("vcpu %u: SGI1R 0x%lx\n", v->id, (unsigned long)val);
			run_on(v);
			vgic_sgi1r_write(v, val);
		}
		break;
	case 7:
	case 8:
		v = pick_vcpu(in);
		run_on(v);
		TRACE("sync vcpu %u\n", v->id);
		vgic_sync(v);
		break;
	case 9:
	case 10:
		v = pick_vcpu(in);
		guest_handles(v, fin_u32(in));
		break;
	case 11: /* the vCPU restarts (PSCI CPU_ON after CPU_OFF) */
		v = pick_vcpu(in);
		run_on(v);
		if (fin_u8(in) & 1)
			vgic_maintenance(v);
		else
			restart(v);
		break;
	}
	check_lrs();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_add_corpus(argc, argv, "fuzz_vgic", NULL);
	trace = getenv("FUZZ_TRACE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};

	setup(&in);
	check_ids(&vm->vcpus[0]);
	for (unsigned n = 0; in.n && n < 500; n++)
		step(&in);
	check_ids(&vm->vcpus[vm->ncpus - 1]);
	memset(raised, 0xff, sizeof(raised)); /* (the drain delivers what is left) */
	drain();
	return 0;
}
