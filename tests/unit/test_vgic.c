/* vGIC state logic against stubbed hardware: distributor and redistributor
 * register semantics, SPI routing, SGIs, list-register filling with
 * overflow into the pending set, passthrough SPIs, hostile offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/percpu.h"
#include "core/vgic_internal.h"
#include "core/vm.h"
#include "drivers/gic_regs.h"

/* ---- stubs of the hardware and the rest of the hypervisor ---- */
struct gic_info gic;
struct vm vms[CFG_MAX_VMS];
unsigned nvms;
static struct pcpu cpu0;
static struct gic_lr lrs[16];
static bool underflow;
static uint32_t hw_enabled[32], sgis_sent;
static unsigned routed_to[1024];
static int mmio_regions, mapped;

struct pcpu *this_cpu(void)
{
	return &cpu0;
}
void printk(const char *fmt, ...)
{
	(void)fmt;
}
void gic_enable(uint32_t intid, bool on)
{
	if (on)
		hw_enabled[intid / 32] |= 1u << (intid % 32);
	else
		hw_enabled[intid / 32] &= ~(1u << (intid % 32));
}
void gic_route_spi(uint32_t intid, unsigned pcpu)
{
	routed_to[intid] = pcpu;
}
void gic_set_level(uint32_t intid, bool level)
{
	(void)intid, (void)level;
}
void gic_send_sgi(unsigned pcpu, unsigned sgi)
{
	(void)pcpu, (void)sgi;
	sgis_sent++;
}
static unsigned deactivated[GIC_NR_PRIV];
void gic_deactivate(uint32_t intid)
{
	if (intid < GIC_NR_PRIV)
		deactivated[intid]++;
}
static bool timer_line[GIC_NR_PRIV]; /* the guest timers' outputs */
bool timer_guest_irq_asserted(uint32_t ppi)
{
	return ppi < GIC_NR_PRIV && timer_line[ppi];
}
void gich_write_lr(unsigned i, const struct gic_lr *lr)
{
	lrs[i] = *lr;
}
void gich_read_lr(unsigned i, struct gic_lr *lr)
{
	*lr = lrs[i];
}
void gich_set_underflow_irq(bool on)
{
	underflow = on;
}
static struct gich_state cpu_if; /* the physical virtual CPU interface's state */
void gich_reset_cpu_if(void)
{
	memset(&cpu_if, 0, sizeof(cpu_if));
}
int vm_register_mmio(struct vm *vm, ipa_t b, uint64_t s, mmio_handler_fn f, void *d)
{
	(void)vm, (void)b, (void)s, (void)f, (void)d;
	mmio_regions++;
	return 0;
}
int vm_map(struct vm *vm, ipa_t i, paddr_t p, uint64_t s, bool dev)
{
	(void)vm, (void)i, (void)p, (void)s, (void)dev;
	mapped++;
	return 0;
}

static struct vm *vm;
static struct cfg_vm cfg;

static int setup_v(int version)
{
	memset(vms, 0, sizeof(vms));
	memset(lrs, 0, sizeof(lrs));
	memset(hw_enabled, 0, sizeof(hw_enabled));
	memset(deactivated, 0, sizeof(deactivated));
	memset(timer_line, 0, sizeof(timer_line));
	underflow = false;
	sgis_sent = 0;
	mmio_regions = mapped = 0;
	gic = (struct gic_info){.version = version, .nr_lrs = 4};
	vm = &vms[0];
	vm->cfg = &cfg;
	vm->ncpus = 2;
	for (unsigned i = 0; i < 2; i++) {
		vm->vcpus[i] = (struct vcpu){.vm = vm, .id = i, .pcpu = i, .vmpidr = i};
		vm->vcpus[i].state = VCPU_RUNNING;
	}
	cpu0.id = 0;
	cpu0.vcpu = &vm->vcpus[0]; /* the list registers are vCPU 0's */
	assert_int_equal(vgic_init_vm(vm), 0);
	vgic_init_vcpu(&vm->vcpus[0]);
	vgic_init_vcpu(&vm->vcpus[1]);
	return 0;
}

static int setup3(void **state)
{
	(void)state;
	return setup_v(3);
}

static int setup2(void **state)
{
	(void)state;
	return setup_v(2);
}

static void test_registers_v3(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0];
	(void)state;
	assert_int_equal(mmio_regions, 2); /* GICD and GICR */
	assert_int_equal(vgic_dist_read(vm, v0, GICD_PIDR2, 4), 0x3b);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_TYPER, 4) & 0x1f, VGIC_NR_IRQS / 32 - 1);
	/* enable SPI 40, read back, disable */
	vgic_dist_write(vm, v0, GICD_ISENABLER + 4, 4, 1u << 8);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISENABLER + 4, 4), 1u << 8);
	vgic_dist_write(vm, v0, GICD_ICENABLER + 4, 4, 1u << 8);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISENABLER + 4, 4), 0);
	/* priorities by byte and by word */
	vgic_dist_write(vm, v0, GICD_IPRIORITYR + 41, 1, 0x80);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_IPRIORITYR + 40, 4) >> 8 & 0xff, 0x80);
	/* private INTIDs are RAZ/WI in the GICD with affinity routing */
	vgic_dist_write(vm, v0, GICD_ISENABLER, 4, ~0u);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISENABLER, 4), 0);
	/* redistributor of vCPU 1: affinity and Last */
	uint64_t typer = vgic_redist_read(vm, &vm->vcpus[1], GICR_TYPER, 8);
	assert_int_equal(typer >> 32, 1);
	assert_true(typer & GICR_TYPER_LAST);
	assert_false(vgic_redist_read(vm, v0, GICR_TYPER, 8) & GICR_TYPER_LAST);
}

static void test_spi_routing_and_delivery(void **state)
{
	struct vcpu *v1 = &vm->vcpus[1];
	(void)state;
	vgic_dist_write(vm, NULL, GICD_IROUTER + 8 * 40, 8, 1); /* Aff0 = 1 */
	vgic_dist_write(vm, NULL, GICD_ISENABLER + 4, 4, 1u << 8);
	vgic_inject(vm, NULL, 40);
	assert_true(v1->vgic.pending[0] & (1ULL << 40));
	assert_false(vm->vcpus[0].vgic.pending[0] & (1ULL << 40));
	assert_int_equal(sgis_sent, 1); /* vCPU 1 runs on another CPU: kicked */
	vgic_sync(v1);
	assert_int_equal(lrs[0].vintid, 40);
	assert_int_equal(lrs[0].state, LR_STATE_PENDING);
	assert_true(lrs[0].group1);
	/* the guest took and finished it: the list register empties */
	lrs[0].state = LR_STATE_INVALID;
	vgic_sync(v1);
	assert_false(v1->vgic.lr_used & 1);
}

static void test_disabled_interrupt_waits(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0];
	(void)state;
	vgic_inject(vm, v0, 27); /* PPI not enabled yet */
	vgic_sync(v0);
	assert_int_equal(v0->vgic.lr_used, 0);
	vgic_redist_write(vm, v0, GICR_SGI_BASE + GICD_ISENABLER, 4, 1u << 27);
	vgic_sync(v0);
	assert_int_equal(lrs[0].vintid, 27);
}

static void test_overflow_sets_underflow_irq(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0];
	(void)state;
	vgic_redist_write(vm, v0, GICR_SGI_BASE + GICD_ISENABLER, 4, 0xffff);
	for (uint32_t sgi = 0; sgi < 6; sgi++)
		vgic_inject(vm, v0, sgi);
	vgic_sync(v0);
	assert_int_equal(v0->vgic.lr_used, 0xf); /* 4 list registers */
	assert_true(underflow);
	for (unsigned i = 0; i < 4; i++)
		lrs[i].state = LR_STATE_INVALID;
	vgic_sync(v0);
	assert_false(underflow);
	assert_int_equal(v0->vgic.lr_used, 0x3);
	/* the vCPU stops with maintenance armed: without a vCPU the maintenance
	 * interrupt disarms it (the entries stay for the vCPU's restart) */
	vgic_sync(v0);
	assert_int_equal(v0->vgic.lr_used, 0x3);
	underflow = true;
	lrs[1].eoi = true;
	lrs[1].state = LR_STATE_INVALID;
	vgic_maintenance(NULL);
	assert_false(underflow);
	assert_false(lrs[1].eoi);
	assert_int_equal(lrs[0].state, LR_STATE_PENDING);
}

static void test_sgi1r_targets(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0], *v1 = &vm->vcpus[1];
	(void)state;
	vgic_sgi1r_write(v0, (3ULL << 24) | 0x2); /* SGI 3 to vCPU 1 */
	assert_true(v1->vgic.pending[0] & (1ULL << 3));
	assert_false(v0->vgic.pending[0] & (1ULL << 3));
	vgic_sgi1r_write(v1, (5ULL << 24) | (1ULL << 40)); /* IRM: all but self */
	assert_true(v0->vgic.pending[0] & (1ULL << 5));
	assert_false(v1->vgic.pending[0] & (1ULL << 5));
	vgic_sgi1r_write(v0, (6ULL << 24) | (1ULL << 16) | 0x1); /* Aff1 = 1: nobody */
	assert_false(v0->vgic.pending[0] & (1ULL << 6));
}

static void test_passthrough_spi(void **state)
{
	(void)state;
	vgic_assign_hw_irq(vm, 79);
	assert_true(vgic_is_hw_spi(vm, 79));
	vgic_dist_write(vm, NULL, GICD_IROUTER + 8 * 79, 8, 1);
	assert_int_equal(routed_to[79], 1);
	vgic_dist_write(vm, NULL, GICD_ISENABLER + 8, 4, 1u << 15);
	assert_true(hw_enabled[2] & (1u << 15));
	/* emulated SPIs never touch the hardware */
	vgic_dist_write(vm, NULL, GICD_ISENABLER + 4, 4, 1u << 8);
	assert_false(hw_enabled[1] & (1u << 8));
	/* a guest cannot make a passthrough SPI pending by hand */
	vgic_dist_write(vm, NULL, GICD_ISPENDR + 8, 4, 1u << 15);
	assert_false(vm->vcpus[1].vgic.pending[1] & (1ULL << 15));
}

static void test_hostile_values(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0];
	(void)state;
	/* beyond the INTIDs the VM has: read as zero, writes ignored */
	vgic_dist_write(vm, v0, GICD_ISENABLER + 0x7c, 4, ~0u);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISENABLER + 0x7c, 4), 0);
	vgic_dist_write(vm, v0, GICD_IROUTER + 8 * 1000, 8, 1);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_IROUTER + 8 * 1000, 8), 0);
	vgic_dist_write(vm, v0, GICD_IPRIORITYR + 1020, 4, ~0u);
	vgic_dist_write(vm, v0, 0xfff0, 4, 1);
	vgic_inject(vm, NULL, 5000);
	vgic_inject(vm, NULL, 5); /* private INTID without a vCPU */
	vgic_sgi1r_write(v0, ~0ULL);
	/* routing to a vCPU that does not exist falls back to vCPU 0 */
	vgic_dist_write(vm, NULL, GICD_IROUTER + 8 * 41, 8, 7);
	vgic_dist_write(vm, NULL, GICD_ISENABLER + 4, 4, 1u << 9);
	vgic_inject(vm, NULL, 41);
	assert_true(v0->vgic.pending[0] & (1ULL << 41));
}

static void test_v2_targets_and_sgir(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0], *v1 = &vm->vcpus[1];
	(void)state;
	assert_int_equal(mapped, 1); /* GICV mapped as the guest's GICC */
	assert_int_equal(vgic_dist_read(vm, v0, GICD_TYPER, 4) >> 5 & 7, 1); /* 2 CPUs */
	assert_int_equal(vgic_dist_read(vm, v1, GICD_ITARGETSR, 1), 2);      /* banked */
	vgic_dist_write(vm, v0, GICD_ITARGETSR + 40, 1, 0x2);
	vgic_dist_write(vm, v0, GICD_ISENABLER + 4, 4, 1u << 8);
	vgic_inject(vm, NULL, 40);
	assert_true(v1->vgic.pending[0] & (1ULL << 40));
	vgic_dist_write(vm, v0, GICD_SGIR, 4, (1u << 24) | 7); /* all but self */
	assert_true(v1->vgic.pending[0] & (1ULL << 7));
	assert_false(v0->vgic.pending[0] & (1ULL << 7));
	vgic_dist_write(vm, v0, GICD_SGIR, 4, (2u << 24) | 9); /* self */
	assert_true(v0->vgic.pending[0] & (1ULL << 9));
	vgic_dist_write(vm, v0, GICD_ISENABLER, 4, 1u << 9);
	vgic_sync(v0);
	assert_int_equal(lrs[0].vintid, 9);
	assert_false(lrs[0].group1);
}

/* The list register of `intid`, or NULL. */
static struct gic_lr *lr_of(uint32_t intid)
{
	for (unsigned i = 0; i < 4; i++)
		if (lrs[i].state != LR_STATE_INVALID && lrs[i].vintid == intid)
			return &lrs[i];
	return NULL;
}

/* The guest acknowledged and finished whatever is in the list registers. */
static void guest_eois_all(void)
{
	for (unsigned i = 0; i < 4; i++)
		lrs[i].state = LR_STATE_INVALID;
}

static void v2_enable_sgis(struct vcpu *v)
{
	vgic_dist_write(vm, v, GICD_ISENABLER, 4, 0xffff);
}

/* GICv2: GICV_IAR's CPUID (the list register's bits 12:10) names the
 * sender of an SGI, whichever way it was sent. */
static void test_v2_sgi_source(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0], *v1 = &vm->vcpus[1];
	(void)state;
	v2_enable_sgis(v0);
	v2_enable_sgis(v1);
	vgic_dist_write(vm, v1, GICD_SGIR, 4, (2u << 24) | 3); /* self */
	vgic_sync(v1);
	assert_non_null(lr_of(3));
	assert_int_equal(lr_of(3)->source, 1);
	guest_eois_all();
	vgic_sync(v1);
	vgic_dist_write(vm, v1, GICD_SGIR, 4, (0x1u << 16) | 4); /* list: CPU 0 */
	vgic_sync(v0);
	assert_int_equal(lr_of(4)->source, 1);
	assert_false(v1->vgic.pending[0] & (1ULL << 4));
	guest_eois_all();
	vgic_sync(v0);
	vgic_dist_write(vm, v1, GICD_SGIR, 4, (1u << 24) | 6); /* all but self */
	vgic_sync(v0);
	assert_int_equal(lr_of(6)->source, 1);
	guest_eois_all();
	vgic_sync(v0);
	vgic_dist_write(vm, v0, GICD_SGIR, 4, (0x3u << 16) | 7); /* list: both */
	vgic_sync(v0);
	assert_int_equal(lr_of(7)->source, 0);
	guest_eois_all();
	vgic_sync(v1);
	assert_int_equal(lr_of(7)->source, 0);
	/* filter 3 is reserved: nobody */
	guest_eois_all();
	vgic_sync(v1);
	vgic_dist_write(vm, v0, GICD_SGIR, 4, (3u << 24) | (0x3u << 16) | 8);
	assert_false(v0->vgic.pending[0] & (1ULL << 8));
	assert_false(v1->vgic.pending[0] & (1ULL << 8));
	/* list bits of CPUs the VM does not have reach nobody */
	vgic_dist_write(vm, v0, GICD_SGIR, 4, (0xfcu << 16) | 9);
	assert_false(v0->vgic.pending[0] & (1ULL << 9));
	assert_false(v1->vgic.pending[0] & (1ULL << 9));
}

/* One SGI pending per (source, target): two senders give two deliveries,
 * the second after the guest's EOI of the first (maintenance on EOI); the
 * same sender twice gives one. */
static void test_v2_sgi_per_source_pending(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0], *v1 = &vm->vcpus[1];
	(void)state;
	v2_enable_sgis(v0);
	vgic_dist_write(vm, v0, GICD_SGIR, 4, (2u << 24) | 5);   /* from 0 */
	vgic_dist_write(vm, v1, GICD_SGIR, 4, (0x1u << 16) | 5); /* from 1 */
	vgic_sync(v0);
	struct gic_lr *lr = lr_of(5);
	assert_non_null(lr);
	assert_int_equal(lr->source, 0);
	assert_true(lr->eoi); /* another source waits: exit on the guest's EOI */
	guest_eois_all();
	/* the EOI maintenance interrupt: its condition (an invalid entry with
	 * EOI set) is cleared at once, or the dispatch loop would ack it again */
	vgic_maintenance(v0);
	for (unsigned i = 0; i < 4; i++)
		assert_false(lrs[i].eoi);
	vgic_sync(v0);
	lr = lr_of(5);
	assert_non_null(lr);
	assert_int_equal(lr->source, 1);
	assert_false(lr->eoi);
	guest_eois_all();
	vgic_sync(v0);
	assert_null(lr_of(5));
	/* the same sender twice before delivery: one interrupt */
	vgic_dist_write(vm, v1, GICD_SGIR, 4, (0x1u << 16) | 5);
	vgic_dist_write(vm, v1, GICD_SGIR, 4, (0x1u << 16) | 5);
	vgic_sync(v0);
	assert_int_equal(lr_of(5)->source, 1);
	assert_false(lr_of(5)->eoi);
	/* ... and again while that one is still pending in its list register */
	vgic_dist_write(vm, v1, GICD_SGIR, 4, (0x1u << 16) | 5);
	vgic_sync(v0);
	guest_eois_all();
	vgic_sync(v0);
	assert_null(lr_of(5));
	/* re-sent while the guest handles it (active): pending and active */
	vgic_dist_write(vm, v1, GICD_SGIR, 4, (0x1u << 16) | 5);
	vgic_sync(v0);
	lr_of(5)->state = LR_STATE_ACTIVE;
	vgic_dist_write(vm, v1, GICD_SGIR, 4, (0x1u << 16) | 5);
	vgic_sync(v0);
	assert_int_equal(lr_of(5)->state, LR_STATE_PENDING_ACTIVE);
	assert_int_equal(lr_of(5)->source, 1);
	/* another sender while active: waits for the EOI */
	vgic_dist_write(vm, v0, GICD_SGIR, 4, (2u << 24) | 5);
	vgic_sync(v0);
	assert_true(lr_of(5)->eoi);
	assert_int_equal(lr_of(5)->source, 1);
}

#define GICD_CPENDSGIR 0xf10
#define GICD_SPENDSGIR 0xf20

/* GICD_SPENDSGIR/CPENDSGIR: a byte per SGI, a bit per source, banked per
 * CPU; GICD_ISPENDR/ICPENDR cannot set or clear SGIs on GICv2. */
static void test_v2_sgi_pending_registers(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0], *v1 = &vm->vcpus[1];
	(void)state;
	vgic_dist_write(vm, v0, GICD_SPENDSGIR, 1, 0x2);            /* SGI 0 from CPU 1 */
	vgic_dist_write(vm, v0, GICD_SPENDSGIR + 4, 4, 0x03000000); /* SGI 7 from 0 and 1 */
	assert_int_equal(vgic_dist_read(vm, v0, GICD_SPENDSGIR, 4), 0x2);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_SPENDSGIR + 7, 1), 0x3);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_CPENDSGIR + 4, 4), 0x03000000);
	assert_int_equal(vgic_dist_read(vm, v1, GICD_SPENDSGIR, 4), 0);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISPENDR, 4), (1u << 0) | (1u << 7));
	/* sources the VM does not have are ignored */
	vgic_dist_write(vm, v0, GICD_SPENDSGIR + 1, 1, 0xfc);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_SPENDSGIR + 1, 1), 0);
	vgic_dist_write(vm, v0, GICD_CPENDSGIR + 7, 1, 0x1);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_SPENDSGIR + 4, 4), 0x02000000);
	/* GICD_ICPENDR0/ISPENDR0 SGI bits are WI on GICv2 */
	vgic_dist_write(vm, v0, GICD_ICPENDR, 4, 0xffff);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISPENDR, 4), (1u << 0) | (1u << 7));
	vgic_dist_write(vm, v1, GICD_ISPENDR, 4, 0xffff);
	assert_int_equal(vgic_dist_read(vm, v1, GICD_ISPENDR, 4), 0);
	/* delivered with its source, and then no longer pending */
	v2_enable_sgis(v0);
	vgic_sync(v0);
	assert_int_equal(lr_of(0)->source, 1);
	assert_int_equal(lr_of(7)->source, 1);
	guest_eois_all();
	vgic_sync(v0);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_SPENDSGIR, 4), 0);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_SPENDSGIR + 4, 4), 0);
}

/* GICv2 ITARGETSR: bits of CPUs the VM lacks are masked, values read back
 * by byte and by word, SGI/PPI bytes read as the reader's own bit and
 * ignore writes; a pending SPI follows its new target. */
static void test_v2_itargetsr(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0], *v1 = &vm->vcpus[1];
	(void)state;
	vgic_dist_write(vm, v0, GICD_ITARGETSR + 40, 1, 0xff);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ITARGETSR + 40, 1), 0x3);
	vgic_dist_write(vm, v0, GICD_ITARGETSR + 44, 4, 0x02010302);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ITARGETSR + 44, 4), 0x02010302);
	assert_int_equal(vgic_dist_read(vm, v1, GICD_ITARGETSR + 45, 1), 0x03);
	vgic_dist_write(vm, v0, GICD_ITARGETSR + 46, 1, 0x02);
	vgic_dist_write(vm, v0, GICD_ITARGETSR + 47, 1, 0x0c); /* CPUs 2, 3: none here */
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ITARGETSR + 44, 4), 0x00020302);
	/* private: the reader's own bit, writes ignored */
	vgic_dist_write(vm, v1, GICD_ITARGETSR + 27, 1, 0x1);
	assert_int_equal(vgic_dist_read(vm, v1, GICD_ITARGETSR + 27, 1), 0x2);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ITARGETSR + 28, 4), 0x01010101);
	assert_int_equal(vgic_dist_read(vm, v1, GICD_ITARGETSR, 4), 0x02020202);
	/* routing follows: SPI 46 goes to vCPU 1, then moves with its target */
	vgic_dist_write(vm, v0, GICD_ISENABLER + 4, 4, 1u << 14);
	vgic_inject(vm, NULL, 46);
	assert_true(v1->vgic.pending[0] & (1ULL << 46));
	vgic_dist_write(vm, v0, GICD_ITARGETSR + 46, 1, 0x01);
	assert_false(v1->vgic.pending[0] & (1ULL << 46));
	assert_true(v0->vgic.pending[0] & (1ULL << 46));
}

/* Priorities by byte and word, with the 5 bits the virtual CPU interface
 * implements; ICFGR: SGIs edge and PPIs level, read-only; SPIs writable. */
static void test_priority_and_config(int version)
{
	struct vcpu *v0 = &vm->vcpus[0];
	uint32_t spi_cfg = version == 3 ? GICD_ICFGR + 8 : GICD_ICFGR + 8;
	vgic_dist_write(vm, v0, GICD_IPRIORITYR + 41, 1, 0xff);
	vgic_dist_write(vm, v0, GICD_IPRIORITYR + 42, 1, 0x10);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_IPRIORITYR + 40, 4), 0xa010f8a0);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_IPRIORITYR + 41, 1), 0xf8);
	vgic_dist_write(vm, v0, GICD_IPRIORITYR + 128, 4, 0x80808080); /* 0x480: not a bank */
	assert_int_equal(vgic_dist_read(vm, v0, GICD_IPRIORITYR + 128, 4), 0x80808080);
	vgic_dist_write(vm, v0, GICD_IPRIORITYR + 44, 4, 0x11223344);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_IPRIORITYR + 47, 1), 0x10);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_IPRIORITYR + 44, 4), 0x10203040);
	/* SPI 33 level -> edge */
	assert_int_equal(vgic_dist_read(vm, v0, spi_cfg, 4), 0);
	vgic_dist_write(vm, v0, spi_cfg, 4, 0xffffffff);
	assert_int_equal(vgic_dist_read(vm, v0, spi_cfg, 4), 0xaaaaaaaa);
	/* private configuration: SGIs edge, PPIs level, both read-only */
	uint32_t cfg0 = version == 3 ? GICR_SGI_BASE + GICD_ICFGR : GICD_ICFGR;
	uint64_t (*rd)(struct vm *, struct vcpu *, uint32_t, unsigned) =
		version == 3 ? vgic_redist_read : vgic_dist_read;
	void (*wr)(struct vm *, struct vcpu *, uint32_t, unsigned, uint64_t) =
		version == 3 ? vgic_redist_write : vgic_dist_write;
	wr(vm, v0, cfg0, 4, 0);
	wr(vm, v0, cfg0 + 4, 4, 0xffffffff);
	assert_int_equal(rd(vm, v0, cfg0, 4), 0xaaaaaaaa);
	assert_int_equal(rd(vm, v0, cfg0 + 4, 4), 0);
	/* private priorities by byte */
	uint32_t prio0 = version == 3 ? GICR_SGI_BASE + GICD_IPRIORITYR : GICD_IPRIORITYR;
	wr(vm, v0, prio0 + 27, 1, 0x40);
	assert_int_equal(rd(vm, v0, prio0 + 27, 1), 0x40);
	assert_int_equal(rd(vm, v0, prio0 + 24, 4), 0x40a0a0a0);
}

static void test_priority_and_config_v2(void **state)
{
	(void)state;
	test_priority_and_config(2);
}

static void test_priority_and_config_v3(void **state)
{
	(void)state;
	test_priority_and_config(3);
}

/* Read-only identification registers ignore writes. */
static void test_id_registers_read_only(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0];
	(void)state;
	uint64_t typer = vgic_dist_read(vm, v0, GICD_TYPER, 4);
	uint64_t iidr = vgic_dist_read(vm, v0, GICD_IIDR, 4);
	vgic_dist_write(vm, v0, GICD_TYPER, 4, ~0u);
	vgic_dist_write(vm, v0, GICD_IIDR, 4, 0);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_TYPER, 4), typer);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_IIDR, 4), iidr);
	assert_int_equal(typer & 0x1f, VGIC_NR_IRQS / 32 - 1);
	if (gic.version == 2)
		assert_int_equal(typer >> 5 & 7, vm->ncpus - 1);
}

/* Active state: set, read back, cleared, by the ISACTIVER/ICACTIVER
 * registers and from the list register the guest acknowledged. */
static void test_active_state(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0];
	(void)state;
	uint32_t base = gic.version == 3 ? GICR_SGI_BASE : 0;
	uint64_t (*rd)(struct vm *, struct vcpu *, uint32_t, unsigned) =
		gic.version == 3 ? vgic_redist_read : vgic_dist_read;
	void (*wr)(struct vm *, struct vcpu *, uint32_t, unsigned, uint64_t) =
		gic.version == 3 ? vgic_redist_write : vgic_dist_write;
	/* an SPI: set and clear by register */
	vgic_dist_write(vm, v0, GICD_ISACTIVER + 4, 4, 1u << 10);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISACTIVER + 4, 4), 1u << 10);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ICACTIVER + 4, 4), 1u << 10);
	vgic_dist_write(vm, v0, GICD_ICACTIVER + 4, 4, 1u << 10);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISACTIVER + 4, 4), 0);
	/* a PPI the guest acknowledged: active, not pending */
	wr(vm, v0, base + GICD_ISENABLER, 4, 1u << 20);
	vgic_inject(vm, v0, 20);
	vgic_sync(v0);
	assert_int_equal(rd(vm, v0, base + GICD_ISPENDR, 4), 1u << 20);
	lr_of(20)->state = LR_STATE_ACTIVE; /* the guest read IAR */
	assert_int_equal(rd(vm, v0, base + GICD_ISACTIVER, 4), 1u << 20);
	assert_int_equal(rd(vm, v0, base + GICD_ISPENDR, 4), 0);
	/* the guest deactivates it by ICACTIVER instead of EOI */
	wr(vm, v0, base + GICD_ICACTIVER, 4, 1u << 20);
	assert_null(lr_of(20));
	assert_int_equal(rd(vm, v0, base + GICD_ISACTIVER, 4), 0);
	/* made active while pending: pending and active in the list register */
	vgic_inject(vm, v0, 20);
	vgic_sync(v0);
	wr(vm, v0, base + GICD_ISACTIVER, 4, 1u << 20);
	assert_int_equal(lr_of(20)->state, LR_STATE_PENDING_ACTIVE);
	/* ICPENDR takes the pending part back */
	wr(vm, v0, base + GICD_ICPENDR, 4, 1u << 20);
	assert_int_equal(lr_of(20)->state, LR_STATE_ACTIVE);
	assert_int_equal(rd(vm, v0, base + GICD_ISPENDR, 4), 0);
}

/* GICv3 redistributor identification: processor number, affinity, Last,
 * and GICR_WAKER's ProcessorSleep/ChildrenAsleep handshake. */
static void test_redist_properties(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0], *v1 = &vm->vcpus[1];
	(void)state;
	uint64_t t0 = vgic_redist_read(vm, v0, GICR_TYPER, 8);
	uint64_t t1 = vgic_redist_read(vm, v1, GICR_TYPER, 8);
	assert_int_equal(t0 >> 8 & 0xffff, 0);
	assert_int_equal(t1 >> 8 & 0xffff, 1);
	assert_int_equal(t1 >> 32, 1);
	assert_false(t0 & GICR_TYPER_LAST);
	assert_true(t1 & GICR_TYPER_LAST);
	assert_int_equal(vgic_redist_read(vm, v1, GICR_TYPER, 4), (uint32_t)t1);
	assert_int_equal(vgic_redist_read(vm, v1, GICR_TYPER + 4, 4), 1);
	vgic_redist_write(vm, v1, GICR_TYPER, 8, 0);
	assert_int_equal(vgic_redist_read(vm, v1, GICR_TYPER, 8), t1);
	assert_int_equal(vgic_redist_read(vm, v0, GICR_WAKER, 4), 0);
	vgic_redist_write(vm, v0, GICR_WAKER, 4, GICR_WAKER_SLEEP);
	assert_int_equal(vgic_redist_read(vm, v0, GICR_WAKER, 4),
			 GICR_WAKER_SLEEP | GICR_WAKER_ASLEEP);
	vgic_redist_write(vm, v0, GICR_WAKER, 4, 0);
	assert_int_equal(vgic_redist_read(vm, v0, GICR_WAKER, 4), 0);
	assert_int_equal(vgic_redist_read(vm, v0, GICR_PIDR2, 4) >> 4 & 0xf, 3);
}

/* A guest timer (virtual PPI 27, physical PPI 30) is a level source:
 * forwarded linked to the physical PPI, its pending state follows the
 * timer's output, sampled on the way back to the guest and on reads of the
 * pending registers. An acknowledged (active) one stays for the guest. */
static void timer_level(int ppi)
{
	struct vcpu *v0 = &vm->vcpus[0];
	uint32_t base = gic.version == 3 ? GICR_SGI_BASE : 0;
	uint64_t (*rd)(struct vm *, struct vcpu *, uint32_t, unsigned) =
		gic.version == 3 ? vgic_redist_read : vgic_dist_read;
	void (*wr)(struct vm *, struct vcpu *, uint32_t, unsigned, uint64_t) =
		gic.version == 3 ? vgic_redist_write : vgic_dist_write;

	wr(vm, v0, base + GICD_ISENABLER, 4, 1u << ppi);
	timer_line[ppi] = true;
	vgic_inject_hw(v0, (uint32_t)ppi);
	vgic_sync(v0);
	assert_non_null(lr_of((uint32_t)ppi));
	assert_true(lr_of((uint32_t)ppi)->hw);
	assert_int_equal(lr_of((uint32_t)ppi)->pintid, ppi);
	assert_int_equal(rd(vm, v0, base + GICD_ISPENDR, 4), 1u << ppi);
	/* the guest disables the timer (masked, before taking it) */
	timer_line[ppi] = false;
	assert_int_equal(rd(vm, v0, base + GICD_ISPENDR, 4), 0);
	assert_null(lr_of((uint32_t)ppi));
	assert_int_equal(deactivated[ppi], 1); /* the physical PPI can fire again */
	/* fires again; this time the exit samples it */
	timer_line[ppi] = true;
	vgic_inject_hw(v0, (uint32_t)ppi);
	vgic_sync(v0);
	timer_line[ppi] = false;
	vgic_sync(v0);
	assert_null(lr_of((uint32_t)ppi));
	assert_int_equal(deactivated[ppi], 2);
	/* pending while the guest keeps it disabled in the GIC: dropped too */
	wr(vm, v0, base + GICD_ICENABLER, 4, 1u << ppi);
	timer_line[ppi] = true;
	vgic_inject_hw(v0, (uint32_t)ppi);
	vgic_sync(v0);
	assert_int_equal(rd(vm, v0, base + GICD_ISPENDR, 4), 1u << ppi);
	timer_line[ppi] = false;
	vgic_sync(v0);
	assert_int_equal(rd(vm, v0, base + GICD_ISPENDR, 4), 0);
	assert_int_equal(deactivated[ppi], 3);
	/* acknowledged by the guest: stays active until its EOI */
	wr(vm, v0, base + GICD_ISENABLER, 4, 1u << ppi);
	timer_line[ppi] = true;
	vgic_inject_hw(v0, (uint32_t)ppi);
	vgic_sync(v0);
	lr_of((uint32_t)ppi)->state = LR_STATE_ACTIVE;
	timer_line[ppi] = false;
	vgic_sync(v0);
	assert_non_null(lr_of((uint32_t)ppi));
	assert_int_equal(rd(vm, v0, base + GICD_ISACTIVER, 4), 1u << ppi);
	assert_int_equal(deactivated[ppi], 3);
}

static void test_vtimer_level(void **state)
{
	(void)state;
	timer_level(27);
}

static void test_ptimer_level(void **state)
{
	(void)state;
	timer_level(30);
}

/* The redistributor's SGI frame has one register per bank (INTIDs 0-31):
 * the offsets after it are reserved and must not reach the SPIs. */
static void test_redist_banks_private_only(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0];
	(void)state;
	vgic_redist_write(vm, v0, GICR_SGI_BASE + GICD_ISENABLER + 4, 4, ~0u);
	vgic_redist_write(vm, v0, GICR_SGI_BASE + GICD_ISACTIVER + 4, 4, ~0u);
	vgic_redist_write(vm, v0, GICR_SGI_BASE + GICD_IPRIORITYR + 32, 4, 0);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISENABLER + 4, 4), 0);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_ISACTIVER + 4, 4), 0);
	assert_int_equal(vgic_dist_read(vm, v0, GICD_IPRIORITYR + 32, 4), 0xa0a0a0a0);
	vgic_dist_write(vm, v0, GICD_ISENABLER + 4, 4, 1u << 3);
	assert_int_equal(vgic_redist_read(vm, v0, GICR_SGI_BASE + GICD_ISENABLER + 4, 4), 0);
}

/* A vCPU restarts (PSCI CPU_OFF, then CPU_ON) while SPIs sit in its list
 * registers: one still pending is delivered again, one the guest had taken
 * can fire again. Found by fuzz_vgic: both stayed marked as in a list
 * register that no longer held them, and were never delivered again. */
static void test_restart_keeps_spis_deliverable(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0];
	(void)state;
	vgic_dist_write(vm, v0, GICD_ISENABLER + 4, 4, 3u << 8); /* SPIs 40, 41 */
	vgic_inject(vm, NULL, 40);
	vgic_inject(vm, NULL, 41);
	vgic_sync(v0);
	assert_non_null(lr_of(40));
	assert_non_null(lr_of(41));
	lr_of(41)->state = LR_STATE_ACTIVE; /* the guest took 41, not 40 */
	vgic_init_vcpu(v0);
	assert_null(lr_of(40));
	assert_null(lr_of(41));
	vgic_sync(v0);
	assert_non_null(lr_of(40)); /* still pending: delivered again */
	assert_null(lr_of(41));     /* its handler went with the old vCPU */
	vgic_inject(vm, NULL, 41);
	vgic_sync(v0);
	assert_non_null(lr_of(41)); /* and it fires again */
}

/* A vCPU stopped inside an interrupt handler (acknowledged, never EOI'd)
 * leaves an active priority and its VMCR in the CPU interface: the next
 * instance on this CPU starts without them (security review, F5). */
static void test_restart_resets_cpu_interface(void **state)
{
	struct vcpu *v0 = &vm->vcpus[0];
	(void)state;
	cpu_if.apr[0] = 0x80000000u;
	cpu_if.vmcr = 0xf0000003u;
	vgic_reset_vm(vm);
	vgic_init_vcpu(v0);
	assert_int_equal(cpu_if.apr[0], 0);
	assert_int_equal(cpu_if.vmcr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_registers_v3, setup3),
		cmocka_unit_test_setup(test_spi_routing_and_delivery, setup3),
		cmocka_unit_test_setup(test_disabled_interrupt_waits, setup3),
		cmocka_unit_test_setup(test_overflow_sets_underflow_irq, setup3),
		cmocka_unit_test_setup(test_sgi1r_targets, setup3),
		cmocka_unit_test_setup(test_passthrough_spi, setup3),
		cmocka_unit_test_setup(test_hostile_values, setup3),
		cmocka_unit_test_setup(test_v2_targets_and_sgir, setup2),
		cmocka_unit_test_setup(test_v2_sgi_source, setup2),
		cmocka_unit_test_setup(test_v2_sgi_per_source_pending, setup2),
		cmocka_unit_test_setup(test_v2_sgi_pending_registers, setup2),
		cmocka_unit_test_setup(test_v2_itargetsr, setup2),
		cmocka_unit_test_setup(test_priority_and_config_v2, setup2),
		cmocka_unit_test_setup(test_priority_and_config_v3, setup3),
		cmocka_unit_test_setup(test_id_registers_read_only, setup2),
		cmocka_unit_test_setup(test_id_registers_read_only, setup3),
		cmocka_unit_test_setup(test_active_state, setup2),
		cmocka_unit_test_setup(test_active_state, setup3),
		cmocka_unit_test_setup(test_redist_properties, setup3),
		cmocka_unit_test_setup(test_redist_banks_private_only, setup3),
		cmocka_unit_test_setup(test_vtimer_level, setup2),
		cmocka_unit_test_setup(test_vtimer_level, setup3),
		cmocka_unit_test_setup(test_ptimer_level, setup2),
		cmocka_unit_test_setup(test_ptimer_level, setup3),
		cmocka_unit_test_setup(test_restart_keeps_spis_deliverable, setup2),
		cmocka_unit_test_setup(test_restart_keeps_spis_deliverable, setup3),
		cmocka_unit_test_setup(test_restart_resets_cpu_interface, setup2),
		cmocka_unit_test_setup(test_restart_resets_cpu_interface, setup3),
	};
	return cmocka_run_group_tests_name("vgic", tests, NULL, NULL);
}
