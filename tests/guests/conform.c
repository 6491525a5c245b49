/* Conformance guest (issue 11): checks from inside a VM that the machine the
 * hypervisor gives it behaves as the Arm ARM and the GIC architecture say:
 * GIC registers (v2 and v3), SGIs every way with their senders, pending and
 * active state, priorities, both EL1 timers as level sources with and
 * without WFI, exceptions at EL1 and EL0, PSCI CPU_ON/OFF/AFFINITY_INFO and
 * FP/SIMD state across exits and CPUs. One or two vCPUs (found from the
 * GIC). Prints 'PASS name' or 'FAIL name: why' per check, then
 * 'CONFORM DONE <n> checks <f> failed', and powers the VM off.
 *
 * Only vCPU 0 prints; vCPU 1 takes commands through a mailbox. */
#include "guest.h"

/* ---------------------------------------------------------------- GIC */
#define GICD GUEST_GICD_BASE
#define GICC GUEST_GICC_BASE
#define GICR_FRAME 0x20000UL
#define GICR_SGI 0x10000UL
#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_IIDR 0x008
#define GICD_IGROUPR 0x080
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ISPENDR 0x200
#define GICD_ICPENDR 0x280
#define GICD_ISACTIVER 0x300
#define GICD_ICACTIVER 0x380
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_ICFGR 0xc00
#define GICD_SGIR 0xf00
#define GICD_CPENDSGIR 0xf10
#define GICD_SPENDSGIR 0xf20
#define GICD_IROUTER 0x6000
#define GICD_PIDR2 0xffe8
#define GICR_TYPER 0x008
#define GICR_WAKER 0x014
#define GICC_CTLR 0x000
#define GICC_PMR 0x004
#define GICC_IAR 0x00c
#define GICC_EOIR 0x010

#define ICC_PMR_EL1 S3_0_C4_C6_0
#define ICC_IAR1_EL1 S3_0_C12_C12_0
#define ICC_EOIR1_EL1 S3_0_C12_C12_1
#define ICC_SRE_EL1 S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
#define ICC_SGI1R_EL1 S3_0_C12_C11_5

#define PPI_VTIMER 27
#define PPI_PTIMER 30
#define SPI_TEST 40 /* no device behind it in a test VM */

static unsigned gic_version, ncpus;

static unsigned this_cpu(void)
{
	return (unsigned)(read_sysreg(mpidr_el1) & 0xff);
}

/* Registers of the private INTIDs of the calling CPU (GICv2: the banked
 * GICD; GICv3: its redistributor's SGI frame). */
static uint64_t priv_base(void)
{
	return gic_version == 3 ? GUEST_GICR_BASE + this_cpu() * GICR_FRAME + GICR_SGI : GICD;
}

static uint32_t bit_of(uint64_t bank, unsigned intid)
{
	uint64_t base = intid < 32 ? priv_base() : GICD;
	return (mmio_read32(base + bank + 4 * (intid / 32)) >> (intid % 32)) & 1;
}

static void set_bit_reg(uint64_t bank, unsigned intid)
{
	uint64_t base = intid < 32 ? priv_base() : GICD;
	mmio_write32(base + bank + 4 * (intid / 32), 1u << (intid % 32));
}

static void set_priority(unsigned intid, uint8_t prio)
{
	uint64_t base = intid < 32 ? priv_base() : GICD;
	mmio_write8(base + GICD_IPRIORITYR + intid, prio);
}

static uint32_t gic_ack(void)
{
	if (gic_version == 3)
		return (uint32_t)read_sysreg(ICC_IAR1_EL1);
	return mmio_read32(GICC + GICC_IAR);
}

static void gic_eoi(uint32_t iar)
{
	if (gic_version == 3)
		write_sysreg(ICC_EOIR1_EL1, iar);
	else
		mmio_write32(GICC + GICC_EOIR, iar);
	isb();
}

static void set_pmr(uint8_t pmr)
{
	if (gic_version == 3)
		write_sysreg(ICC_PMR_EL1, pmr);
	else
		mmio_write32(GICC + GICC_PMR, pmr);
	isb();
}

static void gic_cpu_init(void)
{
	if (gic_version == 3) {
		write_sysreg(ICC_SRE_EL1, 7);
		isb();
		write_sysreg(ICC_IGRPEN1_EL1, 1);
	} else {
		mmio_write32(GICC + GICC_CTLR, 1);
	}
	set_pmr(0xff);
	mmio_write32(priv_base() + GICD_ISENABLER, 0xffff | 1u << PPI_VTIMER | 1u << PPI_PTIMER);
}

/* One SGI to the CPUs in `list` (a bit per CPU), to all others, or to self. */
enum sgi_mode { SGI_LIST, SGI_OTHERS, SGI_SELF };

static void send_sgi(unsigned intid, enum sgi_mode mode, unsigned list)
{
	dsb();
	if (gic_version == 2) {
		mmio_write32(GICD + GICD_SGIR, (uint32_t)mode << 24 | (list & 0xff) << 16 | intid);
		return;
	}
	uint64_t v = (uint64_t)intid << 24;
	if (mode == SGI_OTHERS)
		v |= 1ULL << 40;
	else
		v |= mode == SGI_SELF ? 1u << this_cpu() : list & 0xffff;
	write_sysreg(ICC_SGI1R_EL1, v);
	isb();
}

#define irq_unmask() __asm__ volatile("msr daifclr, #2" ::: "memory")
#define irq_mask() __asm__ volatile("msr daifset, #2" ::: "memory")

/* ---------------------------------------------------------------- IRQ log */
#define LOG_SIZE 256
struct irq_log {
	volatile unsigned n;
	volatile uint32_t iar[LOG_SIZE];
};
static struct irq_log logs[2];
/* While handling `probe_intid`, its active/pending bits as the guest reads them. */
static volatile int probe_intid = -1;
static volatile uint32_t probe_active, probe_pending;

static void on_irq(struct exc_frame *f)
{
	struct irq_log *log = &logs[this_cpu() & 1];
	(void)f;
	for (unsigned i = 0; i < 16; i++) {
		uint32_t iar = gic_ack();
		uint32_t intid = iar & 0x3ff;
		if (intid >= 1020)
			return;
		if (intid == PPI_VTIMER) /* lower the level before the EOI */
			write_sysreg(cntv_ctl_el0, 0);
		if (intid == PPI_PTIMER)
			write_sysreg(cntp_ctl_el0, 0);
		isb();
		if ((int)intid == probe_intid) {
			probe_active = bit_of(GICD_ISACTIVER, intid);
			probe_pending = bit_of(GICD_ISPENDR, intid);
		}
		log->iar[log->n % LOG_SIZE] = iar;
		dmb();
		log->n++;
		gic_eoi(iar);
	}
}

/* Deliveries of `intid` to `cpu` since log position `from` (-1: any). */
static unsigned count_irq(unsigned cpu, unsigned from, uint32_t intid, int source)
{
	unsigned hits = 0;
	for (unsigned i = from; i < logs[cpu].n; i++) {
		uint32_t iar = logs[cpu].iar[i % LOG_SIZE];
		if ((iar & 0x3ff) == intid && (source < 0 || ((iar >> 10) & 7) == (unsigned)source))
			hits++;
	}
	return hits;
}

static bool wait_irq(unsigned cpu, unsigned from, uint32_t intid, int source, unsigned want,
		     uint64_t ms)
{
	uint64_t end = time_ms() + ms;
	while (count_irq(cpu, from, intid, source) < want)
		if (time_ms() > end)
			return false;
	return true;
}

/* ---------------------------------------------------------------- results */
static unsigned checks, failed;

static void __attribute__((format(printf, 3, 4)))
check(bool ok, const char *name, const char *why, ...)
{
	char buf[160];
	va_list ap;

	checks++;
	if (ok) {
		printf("PASS %s\n", name);
		return;
	}
	failed++;
	va_start(ap, why);
	vsnprintf(buf, sizeof(buf), why, ap);
	va_end(ap);
	printf("FAIL %s: %s\n", name, buf);
}

/* ---------------------------------------------------------------- assembly */
uint64_t el0_run(uint64_t entry, uint64_t sp);
void el1_svc(void);
void el1_udf(void);
void fp_fill(uint64_t seed);
uint64_t fp_check(uint64_t seed);
extern char el0_svc_code[], el0_udf_code[], secondary_entry[];
extern volatile uint64_t el0_result[3]; /* esr, elr, vector kind */

__asm__(".text\n"
	/* el0_run(entry, sp): runs `entry` at EL0 with SP_EL0 = sp until its
	 * first exception; returns its ESR (el0_result: esr, elr, kind). */
	".global el0_run\n"
	"el0_run:\n"
	"	stp x29, x30, [sp, #-96]!\n"
	"	stp x19, x20, [sp, #16]\n"
	"	stp x21, x22, [sp, #32]\n"
	"	stp x23, x24, [sp, #48]\n"
	"	stp x25, x26, [sp, #64]\n"
	"	stp x27, x28, [sp, #80]\n"
	"	ldr x9, =el0_saved\n"
	"	mov x10, sp\n"
	"	mrs x11, vbar_el1\n"
	"	stp x10, x11, [x9]\n"
	"	adr x10, el0_vectors\n"
	"	msr vbar_el1, x10\n"
	"	msr sp_el0, x1\n"
	"	msr elr_el1, x0\n"
	"	mov x10, #0x3c0\n" /* EL0t, DAIF masked */
	"	msr spsr_el1, x10\n"
	"	isb\n"
	"	eret\n"
	"	.balign 0x800\n"
	"el0_vectors:\n"
	"	.irp k,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
	"	.balign 0x80\n"
	"	mov x0, #\\k\n"
	"	b el0_back\n"
	"	.endr\n"
	"el0_back:\n"
	"	mrs x1, esr_el1\n"
	"	mrs x2, elr_el1\n"
	"	ldr x3, =el0_result\n"
	"	stp x1, x2, [x3]\n"
	"	str x0, [x3, #16]\n"
	"	ldr x9, =el0_saved\n"
	"	ldp x10, x11, [x9]\n"
	"	msr vbar_el1, x11\n"
	"	mov sp, x10\n"
	"	isb\n"
	"	mov x0, x1\n"
	"	ldp x19, x20, [sp, #16]\n"
	"	ldp x21, x22, [sp, #32]\n"
	"	ldp x23, x24, [sp, #48]\n"
	"	ldp x25, x26, [sp, #64]\n"
	"	ldp x27, x28, [sp, #80]\n"
	"	ldp x29, x30, [sp], #96\n"
	"	ret\n"
	"	.balign 8\n"
	".global el0_svc_code\n"
	"el0_svc_code:\n"
	"	svc #0x42\n"
	"	b .\n"
	".global el0_udf_code\n"
	"el0_udf_code:\n"
	"	udf #7\n"
	"	b .\n"
	/* at EL1, with the library's exception capture (resumes at ELR + 4) */
	".global el1_svc\n"
	"el1_svc:\n"
	"	svc #0x43\n"
	"	nop\n"
	"	ret\n"
	".global el1_udf\n"
	"el1_udf:\n"
	"	udf #5\n"
	"	ret\n"
	/* fp_fill(seed) / fp_check(seed): v0..v31 and FPCR-free patterns */
	".global fp_fill\n"
	"fp_fill:\n"
	"	mov x1, x0\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,"
	"28,29,30,31\n"
	"	add x1, x1, #0x111\n"
	"	eor x2, x1, x1, lsl #17\n"
	"	fmov d\\n, x1\n"
	"	mov v\\n\\().d[1], x2\n"
	"	.endr\n"
	"	ret\n"
	".global fp_check\n"
	"fp_check:\n"
	"	mov x1, x0\n"
	"	mov x0, #0\n"
	"	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,"
	"28,29,30,31\n"
	"	add x1, x1, #0x111\n"
	"	eor x2, x1, x1, lsl #17\n"
	"	fmov x3, d\\n\n"
	"	mov x4, v\\n\\().d[1]\n"
	"	cmp x3, x1\n"
	"	cinc x0, x0, ne\n"
	"	cmp x4, x2\n"
	"	cinc x0, x0, ne\n"
	"	.endr\n"
	"	ret\n"
	/* secondary_entry: PSCI CPU_ON's entry, x0 = context id. MMU off. */
	".global secondary_entry\n"
	"secondary_entry:\n"
	"	msr daifset, #0xf\n"
	"	ldr x1, =sec_stack_top\n"
	"	mov sp, x1\n"
	"	b secondary_main\n"
	"	.ltorg\n"
	"	.data\n"
	"	.balign 16\n"
	"el0_saved: .quad 0, 0\n"
	".global el0_result\n"
	"el0_result: .quad 0, 0, 0\n"
	"	.bss\n"
	"	.balign 16\n"
	"	.space 16384\n"
	"sec_stack_top:\n"
	"	.text\n");

/* ---------------------------------------------------------------- vCPU 1 */
enum cmd { CMD_NONE, CMD_SGI, CMD_OFF, CMD_FP, CMD_MASK, CMD_UNMASK };
struct mailbox {
	volatile uint32_t seq, done, cmd;
	volatile uint64_t arg, res;
};
static struct mailbox mb;
static volatile unsigned cpu1_starts;
static volatile uint64_t cpu1_ctx;
static uint64_t mmu_regs[4]; /* vCPU 0's MAIR, TCR, TTBR0, SCTLR */

static uint64_t fp_exits_check(uint64_t seed);

void __attribute__((noreturn, used)) secondary_main(uint64_t ctx);
void secondary_main(uint64_t ctx)
{
	extern char exception_vectors[];
	write_sysreg(vbar_el1, (uint64_t)exception_vectors);
	write_sysreg(cpacr_el1, 3UL << 20);
	write_sysreg(mair_el1, mmu_regs[0]);
	write_sysreg(tcr_el1, mmu_regs[1]);
	write_sysreg(ttbr0_el1, mmu_regs[2]);
	isb();
	__asm__ volatile("tlbi vmalle1\n dsb nsh" ::: "memory");
	write_sysreg(sctlr_el1, mmu_regs[3]);
	isb();
	cpu1_ctx = ctx;
	uint32_t seen = mb.seq;
	dmb();
	cpu1_starts++;
	gic_cpu_init();
	irq_unmask();
	for (;;) {
		while (mb.seq == seen) /* woken by SGI 0 (or the hypervisor's tick) */
			__asm__ volatile("wfi");
		seen = mb.seq;
		dmb();
		uint64_t arg = mb.arg, res = 0;
		switch (mb.cmd) {
		case CMD_SGI:
			send_sgi(arg & 0xf, (enum sgi_mode)((arg >> 8) & 3), (unsigned)(arg >> 16));
			break;
		case CMD_FP:
			res = fp_exits_check(arg);
			break;
		case CMD_MASK:
			irq_mask();
			break;
		case CMD_UNMASK:
			irq_unmask();
			break;
		case CMD_OFF:
			mb.done = seen;
			dsb();
			psci_call(PSCI_CPU_OFF, 0, 0, 0);
			break;
		default:
			break;
		}
		mb.res = res;
		dmb();
		mb.done = seen;
		dsb();
		__asm__ volatile("sev");
	}
}

static void send_sgi(unsigned intid, enum sgi_mode mode, unsigned list);

/* Posts a command for vCPU 1 and rings its doorbell (SGI 0). */
static uint32_t cpu1_post(enum cmd cmd, uint64_t arg)
{
	mb.cmd = cmd;
	mb.arg = arg;
	dmb();
	uint32_t seq = ++mb.seq;
	dsb();
	send_sgi(0, SGI_LIST, 2);
	return seq;
}

static bool cpu1_wait(uint32_t seq, uint64_t ms, uint64_t *res)
{
	uint64_t end = time_ms() + ms;
	while (mb.done != seq)
		if (time_ms() > end)
			return false;
	dmb();
	if (res)
		*res = mb.res;
	return true;
}

/* Runs a command on vCPU 1; false if it did not answer in time. */
static bool cpu1_call(enum cmd cmd, uint64_t arg, uint64_t *res)
{
	return cpu1_wait(cpu1_post(cmd, arg), 3000, res);
}

static uint64_t sgi_arg(unsigned intid, enum sgi_mode mode, unsigned list)
{
	return intid | (uint64_t)mode << 8 | (uint64_t)list << 16;
}

/* ---------------------------------------------------------------- GIC registers */
static void test_gicd_ids(void)
{
	uint32_t typer = mmio_read32(GICD + GICD_TYPER), iidr = mmio_read32(GICD + GICD_IIDR);
	mmio_write32(GICD + GICD_TYPER, ~typer);
	mmio_write32(GICD + GICD_IIDR, ~iidr);
	check(mmio_read32(GICD + GICD_TYPER) == typer && mmio_read32(GICD + GICD_IIDR) == iidr,
	      "gicd-id-read-only", "TYPER/IIDR changed by a write");
	check((typer & 0x1f) >= 1, "gicd-typer-lines", "ITLinesNumber %u", typer & 0x1f);
	if (gic_version == 2)
		check(((typer >> 5) & 7) + 1 == ncpus, "gicd-typer-cpus",
		      "CPUNumber %u for %u vCPUs", (typer >> 5) & 7, ncpus);
	else
		check(((typer >> 19) & 0x1f) >= 9, "gicd-typer-idbits", "IDbits %u",
		      (typer >> 19) & 0x1f);
}

static void test_itargetsr(void)
{
	uint8_t mask = (uint8_t)((1u << ncpus) - 1);
	uint64_t t = GICD + GICD_ITARGETSR;

	mmio_write8(t + SPI_TEST, 0xff);
	uint8_t got = mmio_read8(t + SPI_TEST);
	check(got == mask, "itargetsr-mask", "wrote 0xff, read 0x%x (VM mask 0x%x)", got, mask);
	mmio_write32(t + 44, 0x01010101u * (mask & 1));
	mmio_write8(t + 45, mask);
	uint32_t w = mmio_read32(t + 44);
	uint32_t want = 0x01010101u * (mask & 1);
	want = (want & ~0xff00u) | (uint32_t)mask << 8;
	check(w == want, "itargetsr-byte-write", "word reads 0x%x, want 0x%x", w, want);
	mmio_write32(t + 48, 0x01000100u | (uint32_t)mask << 16);
	check(mmio_read8(t + 50) == mask && mmio_read8(t + 49) == 1, "itargetsr-byte-read",
	      "bytes 0x%x 0x%x", mmio_read8(t + 49), mmio_read8(t + 50));
	uint8_t own = (uint8_t)(1u << this_cpu());
	mmio_write8(t + PPI_VTIMER, 0xff);
	uint32_t ppiw = mmio_read32(t + 28);
	check(mmio_read8(t + PPI_VTIMER) == own && mmio_read8(t + 3) == own &&
		      ppiw == 0x01010101u * own,
	      "itargetsr-private-read-only", "PPI 27 reads 0x%x, SGI 3 0x%x, want 0x%x",
	      mmio_read8(t + PPI_VTIMER), mmio_read8(t + 3), own);
	mmio_write8(t + SPI_TEST, 1); /* back to vCPU 0 */
	mmio_write32(t + 44, 0x01010101);
	mmio_write32(t + 48, 0x01010101);
}

static void test_priority_regs(void)
{
	uint64_t p = GICD + GICD_IPRIORITYR;

	mmio_write8(p + SPI_TEST + 1, 0xff);
	uint8_t lsb = mmio_read8(p + SPI_TEST + 1); /* the implemented bits */
	check(lsb == 0xff || lsb == 0xfe || lsb == 0xfc || lsb == 0xf8 || lsb == 0xf0,
	      "ipriority-bits", "0xff reads 0x%x", lsb);
	mmio_write32(p + 44, 0x10203040);
	uint32_t w = mmio_read32(p + 44);
	check(w == (0x10203040u & (0x01010101u * lsb)), "ipriority-word", "reads 0x%x", w);
	mmio_write8(p + 46, 0x80);
	w = mmio_read32(p + 44);
	check(w == (0x10803040u & (0x01010101u * lsb)), "ipriority-byte-write", "reads 0x%x", w);
	mmio_write8(priv_base() + GICD_IPRIORITYR + 5, 0x60);
	check(mmio_read8(priv_base() + GICD_IPRIORITYR + 5) == 0x60, "ipriority-private-byte",
	      "SGI 5 reads 0x%x", mmio_read8(priv_base() + GICD_IPRIORITYR + 5));
	mmio_write32(p + 44, 0xa0a0a0a0);
	mmio_write8(p + SPI_TEST + 1, 0xa0);
	mmio_write8(priv_base() + GICD_IPRIORITYR + 5, 0xa0);
}

static void test_icfgr(void)
{
	uint64_t c = GICD + GICD_ICFGR + 8; /* SPIs 32..47 */
	mmio_write32(c, 0xaaaaaaaa);
	uint32_t edge = mmio_read32(c);
	mmio_write32(c, 0);
	uint32_t level = mmio_read32(c);
	check(edge == 0xaaaaaaaa && level == 0, "icfgr-spi", "edge 0x%x level 0x%x", edge, level);
	uint64_t pc = priv_base() + GICD_ICFGR;
	mmio_write32(pc, 0);
	check(mmio_read32(pc) == 0xaaaaaaaa, "icfgr-sgi-edge", "SGI config 0x%x", mmio_read32(pc));
	uint32_t ppi = mmio_read32(pc + 4);
	check(((ppi >> (2 * (PPI_VTIMER - 16))) & 2) == 0 &&
		      ((ppi >> (2 * (PPI_PTIMER - 16))) & 2) == 0,
	      "icfgr-timers-level", "PPI config 0x%x", ppi);
}

static void test_active_pending_regs(void)
{
	set_bit_reg(GICD_ICENABLER, SPI_TEST);
	set_bit_reg(GICD_ISACTIVER, SPI_TEST);
	bool a = bit_of(GICD_ISACTIVER, SPI_TEST) && bit_of(GICD_ICACTIVER, SPI_TEST);
	set_bit_reg(GICD_ICACTIVER, SPI_TEST);
	check(a && !bit_of(GICD_ISACTIVER, SPI_TEST), "isactiver-spi", "set %d, after clear %u", a,
	      bit_of(GICD_ISACTIVER, SPI_TEST));
	set_bit_reg(GICD_ISPENDR, SPI_TEST);
	bool p = bit_of(GICD_ISPENDR, SPI_TEST) && bit_of(GICD_ICPENDR, SPI_TEST);
	set_bit_reg(GICD_ICPENDR, SPI_TEST);
	check(p && !bit_of(GICD_ISPENDR, SPI_TEST), "ispendr-spi", "set %d, after clear %u", p,
	      bit_of(GICD_ISPENDR, SPI_TEST));
	/* pending while disabled, delivered once enabled, then neither pending nor active */
	unsigned from = logs[0].n;
	set_bit_reg(GICD_ISPENDR, SPI_TEST);
	irq_unmask();
	delay_us(2000);
	bool early = count_irq(0, from, SPI_TEST, -1) != 0;
	set_bit_reg(GICD_ISENABLER, SPI_TEST);
	bool got = wait_irq(0, from, SPI_TEST, -1, 1, 1000);
	irq_mask();
	check(!early && got && !bit_of(GICD_ISPENDR, SPI_TEST) && !bit_of(GICD_ISACTIVER, SPI_TEST),
	      "spi-pending-delivery", "early %d, delivered %d, pending %u, active %u", early, got,
	      bit_of(GICD_ISPENDR, SPI_TEST), bit_of(GICD_ISACTIVER, SPI_TEST));
	set_bit_reg(GICD_ICENABLER, SPI_TEST);
}

static void test_gicr(void)
{
	bool ok = true;
	for (unsigned i = 0; i < ncpus; i++) {
		uint64_t t = mmio_read64(GUEST_GICR_BASE + i * GICR_FRAME + GICR_TYPER);
		bool last = (t >> 4) & 1;
		if (((t >> 8) & 0xffff) != i || (t >> 32) != i || last != (i == ncpus - 1)) {
			check(false, "gicr-typer", "frame %u: TYPER 0x%lx", i, (unsigned long)t);
			ok = false;
		}
	}
	if (ok)
		check(true, "gicr-typer", " ");
	uint64_t w = GUEST_GICR_BASE + this_cpu() * GICR_FRAME + GICR_WAKER;
	mmio_write32(w, 2);
	uint32_t asleep = mmio_read32(w);
	mmio_write32(w, 0);
	uint32_t awake = mmio_read32(w);
	check(asleep == 6 && awake == 0, "gicr-waker", "asleep 0x%x awake 0x%x", asleep, awake);
}

/* ---------------------------------------------------------------- SGIs */
static void sgi_case(const char *name, unsigned from_cpu, unsigned intid, enum sgi_mode mode,
		     unsigned list, unsigned want_mask)
{
	unsigned mark[2] = {logs[0].n, logs[1].n};

	if (from_cpu == 0) {
		send_sgi(intid, mode, list);
	} else if (!cpu1_call(CMD_SGI, sgi_arg(intid, mode, list), NULL)) {
		check(false, name, "vCPU 1 did not answer");
		return;
	}
	int src = gic_version == 2 ? (int)from_cpu : -1;
	for (unsigned c = 0; c < ncpus; c++) {
		bool want = want_mask & (1u << c);
		bool got = wait_irq(c, mark[c], intid, src, 1, want ? 1000 : 20);
		unsigned any = count_irq(c, mark[c], intid, -1);
		if (want != got || any > 1) {
			check(false, name,
			      "vCPU %u: %s (deliveries %u; want source %d; last IAR 0x%x)", c,
			      want ? "not delivered with its source" : "delivered", any, src,
			      logs[c].n ? logs[c].iar[(logs[c].n - 1) % LOG_SIZE] : 0);
			return;
		}
	}
	check(true, name, " ");
}

static void test_sgis(void)
{
	irq_unmask();
	sgi_case("sgi-self", 0, 1, SGI_SELF, 0, 1);
	sgi_case("sgi-list-self", 0, 2, SGI_LIST, 1, 1);
	sgi_case("sgi-broadcast-alone", 0, 3, SGI_OTHERS, 0, ncpus == 2 ? 2 : 0);
	if (gic_version == 2) {
		/* filter 3 is reserved: nobody */
		unsigned m = logs[0].n;
		mmio_write32(GICD + GICD_SGIR, 3u << 24 | 0xffu << 16 | 4);
		delay_us(20000);
		check(count_irq(0, m, 4, -1) == 0, "sgir-filter-reserved", "delivered");
	}
	if (ncpus == 2) {
		sgi_case("sgi-self-cpu1", 1, 5, SGI_SELF, 0, 2);
		sgi_case("sgi-list-cpu1-to-0", 1, 6, SGI_LIST, 1, 1);
		sgi_case("sgi-list-0-to-1", 0, 7, SGI_LIST, 2, 2);
		sgi_case("sgi-list-both", 0, 8, SGI_LIST, 3, 3);
		sgi_case("sgi-broadcast-cpu1", 1, 9, SGI_OTHERS, 0, 1);
		sgi_case("sgi-broadcast-cpu0", 0, 10, SGI_OTHERS, 0, 2);
	}
	irq_mask();
}

/* GICv2: SGI 11 pending from both vCPUs at once is two interrupts, each
 * with its sender; GICD_SPENDSGIR shows both senders. */
static void test_sgi_two_senders(void)
{
	unsigned m = logs[0].n;

	irq_mask();
	send_sgi(11, SGI_SELF, 0);
	if (!cpu1_call(CMD_SGI, sgi_arg(11, SGI_LIST, 1), NULL)) {
		check(false, "sgi-two-senders", "vCPU 1 did not answer");
		return;
	}
	delay_us(2000);
	uint8_t senders = mmio_read8(GICD + GICD_SPENDSGIR + 11);
	check(senders == 3, "spendsgir-senders", "SGI 11 pending from 0x%x, want 0x3", senders);
	irq_unmask();
	bool both = wait_irq(0, m, 11, 0, 1, 1000) && wait_irq(0, m, 11, 1, 1, 1000);
	irq_mask();
	check(both && count_irq(0, m, 11, -1) == 2, "sgi-two-senders", "from 0: %u, from 1: %u",
	      count_irq(0, m, 11, 0), count_irq(0, m, 11, 1));
	/* CPENDSGIR clears one sender */
	send_sgi(12, SGI_SELF, 0);
	cpu1_call(CMD_SGI, sgi_arg(12, SGI_LIST, 1), NULL);
	delay_us(2000);
	mmio_write8(GICD + GICD_CPENDSGIR + 12, 1);
	senders = mmio_read8(GICD + GICD_SPENDSGIR + 12);
	m = logs[0].n;
	irq_unmask();
	bool one = wait_irq(0, m, 12, 1, 1, 1000);
	delay_us(10000);
	irq_mask();
	check(senders == 2 && one && count_irq(0, m, 12, -1) == 1, "cpendsgir-one-sender",
	      "after clearing sender 0: 0x%x, deliveries %u", senders, count_irq(0, m, 12, -1));
}

/* Pending SGIs are taken in priority order; the priority mask holds back
 * lower priorities; an interrupt being handled is active, not pending. */
static void test_priorities(void)
{
	set_priority(13, 0xa0);
	set_priority(14, 0x40);
	unsigned m = logs[0].n;
	irq_mask();
	send_sgi(13, SGI_SELF, 0);
	send_sgi(14, SGI_SELF, 0);
	delay_us(2000);
	irq_unmask();
	bool both = wait_irq(0, m, 13, -1, 1, 1000) && wait_irq(0, m, 14, -1, 1, 1000);
	irq_mask();
	bool order = both && (logs[0].iar[m % LOG_SIZE] & 0x3ff) == 14;
	check(order, "priority-order", "first taken: %u", logs[0].iar[m % LOG_SIZE] & 0x3ff);

	set_pmr(0x80);
	m = logs[0].n;
	send_sgi(13, SGI_SELF, 0); /* 0xa0: masked by PMR 0x80 */
	irq_unmask();
	delay_us(20000);
	bool held = count_irq(0, m, 13, -1) == 0;
	set_pmr(0xff);
	bool later = wait_irq(0, m, 13, -1, 1, 1000);
	irq_mask();
	check(held && later, "priority-mask", "held %d, delivered after unmask %d", held, later);

	probe_intid = 15;
	m = logs[0].n;
	send_sgi(15, SGI_SELF, 0);
	irq_unmask();
	bool got = wait_irq(0, m, 15, -1, 1, 1000);
	irq_mask();
	probe_intid = -1;
	check(got && probe_active && !probe_pending && !bit_of(GICD_ISACTIVER, 15),
	      "active-while-handled", "in handler: active %u pending %u; after EOI active %u",
	      probe_active, probe_pending, bit_of(GICD_ISACTIVER, 15));
}

/* ---------------------------------------------------------------- timers */
struct timer {
	const char *name;
	unsigned ppi;
};

static void timer_write(unsigned ppi, uint64_t ctl, uint64_t cval)
{
	if (ppi == PPI_VTIMER) {
		write_sysreg(cntv_cval_el0, cval);
		write_sysreg(cntv_ctl_el0, ctl);
	} else {
		write_sysreg(cntp_cval_el0, cval);
		write_sysreg(cntp_ctl_el0, ctl);
	}
	isb();
}

static uint64_t timer_ctl(unsigned ppi)
{
	return ppi == PPI_VTIMER ? read_sysreg(cntv_ctl_el0) : read_sysreg(cntp_ctl_el0);
}

static uint64_t timer_now(unsigned ppi)
{
	isb();
	return ppi == PPI_VTIMER ? read_sysreg(cntvct_el0) : read_sysreg(cntpct_el0);
}

static void test_timer(const char *t, unsigned ppi)
{
	char name[48];
	uint64_t ms = timer_freq() / 1000;

	/* fires while the vCPU busy-waits */
	unsigned m = logs[0].n;
	irq_unmask();
	timer_write(ppi, 1, timer_now(ppi) + 2 * ms);
	bool got = wait_irq(0, m, ppi, -1, 1, 3000);
	irq_mask();
	snprintf(name, sizeof(name), "%s-irq", t);
	check(got, name, "no interrupt %u within 3 s", ppi);

	/* wakes the vCPU from WFI (the hypervisor's tick may wake it earlier: loop) */
	m = logs[0].n;
	uint64_t start = time_ms();
	timer_write(ppi, 1, timer_now(ppi) + 5 * ms);
	irq_unmask();
	while (count_irq(0, m, ppi, -1) == 0 && time_ms() - start < 3000)
		__asm__ volatile("wfi");
	irq_mask();
	snprintf(name, sizeof(name), "%s-wfi", t);
	check(count_irq(0, m, ppi, -1) == 1, name, "%u interrupts after %lu ms",
	      count_irq(0, m, ppi, -1), (unsigned long)(time_ms() - start));

	/* level: pending while the condition holds, not once the timer is
	 * disabled, and no interrupt after unmasking */
	for (unsigned how = 0; how < 3; how++) {
		static const char *const hows[] = {"disabled", "cval-future", "imask"};
		m = logs[0].n;
		timer_write(ppi, 1, timer_now(ppi));
		uint64_t end = time_ms() + 1000;
		bool pend = false;
		while (!(pend = bit_of(GICD_ISPENDR, ppi)) && time_ms() < end)
			;
		bool istatus = timer_ctl(ppi) & 4;
		if (how == 0)
			timer_write(ppi, 0, 0);
		else if (how == 1)
			timer_write(ppi, 1, timer_now(ppi) + 1000 * 1000 * ms);
		else
			timer_write(ppi, 3, timer_now(ppi));
		bool after = bit_of(GICD_ISPENDR, ppi);
		irq_unmask();
		delay_us(20000);
		irq_mask();
		unsigned n = count_irq(0, m, ppi, -1);
		snprintf(name, sizeof(name), "%s-level-%s", t, hows[how]);
		check(istatus && pend && !after && n == 0, name,
		      "ISTATUS %d, pending while firing %d, pending after %d, interrupts %u",
		      istatus, pend, after, n);
		timer_write(ppi, 0, 0);
	}
}

/* ---------------------------------------------------------------- exceptions */
#define EC_UNKNOWN 0x00
#define EC_SVC64 0x15
static uint8_t el0_stack[4096] __attribute__((aligned(16)));

/* Aliases of the RAM GiB for EL0: VA 16 GiB read-only and executable at
 * EL0, VA 17 GiB read-write, never executable (the library maps RAM for
 * EL1 only). */
static void map_el0_aliases(void)
{
	uint64_t *l1 = (uint64_t *)read_sysreg(ttbr0_el1);
	uint64_t ram = 1UL << 30, attr = 1UL | 1UL << 2 | 3UL << 8 | 1UL << 10;
	l1[16] = ram | attr | 3UL << 6 | 1UL << 53;
	l1[17] = ram | attr | 1UL << 6 | 1UL << 53 | 1UL << 54;
	dsb();
	__asm__ volatile("tlbi vmalle1\n dsb nsh\n isb" ::: "memory");
}

static uint64_t el0_va(uint64_t a, unsigned gib)
{
	return ((uint64_t)gib << 30) + (a - (1UL << 30));
}

static void test_exceptions(void)
{
	struct exc_record rec;

	exc_expect(&rec, 0);
	el1_udf();
	exc_disarm();
	check(rec.count == 1 && rec.kind == EXC_SYNC && ESR_EC(rec.esr) == EC_UNKNOWN &&
		      rec.elr == (uint64_t)el1_udf,
	      "undef-el1", "count %u kind %u esr 0x%lx elr 0x%lx", rec.count, rec.kind,
	      (unsigned long)rec.esr, (unsigned long)rec.elr);
	exc_expect(&rec, 0);
	el1_svc();
	exc_disarm();
	check(rec.count == 1 && ESR_EC(rec.esr) == EC_SVC64 && (rec.esr & 0xffff) == 0x43 &&
		      rec.elr == (uint64_t)el1_svc + 4,
	      "svc-el1", "count %u esr 0x%lx elr 0x%lx", rec.count, (unsigned long)rec.esr,
	      (unsigned long)rec.elr);

	/* outside the VM's RAM (512 MiB at 0x40000000) but inside the
	 * library's executable RAM GiB: stage 2 has nothing there */
	const uint64_t hole = 0x60000000;
	exc_expect(&rec, 0);
	((void (*)(void))hole)();
	exc_disarm();
	check(rec.count == 1 && ESR_EC(rec.esr) == EC_IABT_CUR && rec.elr == hole &&
		      rec.far == hole,
	      "prefetch-abort-unmapped", "count %u esr 0x%lx elr 0x%lx far 0x%lx", rec.count,
	      (unsigned long)rec.esr, (unsigned long)rec.elr, (unsigned long)rec.far);
	exc_expect(&rec, 0);
	(void)*(volatile uint32_t *)hole;
	exc_disarm();
	check(rec.count == 1 && ESR_EC(rec.esr) == EC_DABT_CUR && rec.far == hole,
	      "data-abort-unmapped", "count %u esr 0x%lx far 0x%lx", rec.count,
	      (unsigned long)rec.esr, (unsigned long)rec.far);

	map_el0_aliases();
	uint64_t sp = el0_va((uint64_t)el0_stack + sizeof(el0_stack), 17);
	uint64_t daif = read_sysreg(daif);
	uint64_t code = el0_va((uint64_t)el0_svc_code, 16);
	uint64_t esr = el0_run(code, sp);
	write_sysreg(daif, daif);
	check(ESR_EC(esr) == EC_SVC64 && (esr & 0xffff) == 0x42 && el0_result[1] == code + 4 &&
		      el0_result[2] == 8,
	      "svc-el0", "esr 0x%lx elr 0x%lx vector %lu", (unsigned long)esr,
	      (unsigned long)el0_result[1], (unsigned long)el0_result[2]);
	code = el0_va((uint64_t)el0_udf_code, 16);
	esr = el0_run(code, sp);
	write_sysreg(daif, daif);
	check(ESR_EC(esr) == EC_UNKNOWN && el0_result[1] == code && el0_result[2] == 8, "undef-el0",
	      "esr 0x%lx elr 0x%lx vector %lu", (unsigned long)esr, (unsigned long)el0_result[1],
	      (unsigned long)el0_result[2]);
}

/* ---------------------------------------------------------------- FP/SIMD */
/* Fills v0-v31, leaves the guest through several kinds of exit, checks. */
static uint64_t fp_exits_check(uint64_t seed)
{
	fp_fill(seed);
	for (unsigned i = 0; i < 20; i++) {
		psci_call(PSCI_VERSION, 0, 0, 0);
		(void)mmio_read32(GICD + GICD_TYPER);
		delay_us(500);
	}
	write_sysreg(cntv_cval_el0, read_sysreg(cntvct_el0) + timer_freq() / 1000);
	write_sysreg(cntv_ctl_el0, 3); /* masked: wakes WFI without an IRQ */
	isb();
	uint64_t end = time_ms() + 50;
	while (time_ms() < end)
		__asm__ volatile("wfi");
	write_sysreg(cntv_ctl_el0, 0);
	return fp_check(seed);
}

static void test_fp(void)
{
	uint64_t bad = fp_exits_check(0x1234567890abcdefULL);
	check(bad == 0, "fpsimd-exits", "%lu of 64 halves changed", (unsigned long)bad);
	if (ncpus < 2)
		return;
	/* both vCPUs at once, different patterns */
	uint32_t seq = cpu1_post(CMD_FP, 0xfedcba0987654321ULL);
	uint64_t bad0 = fp_exits_check(0x0f0f0f0f12345678ULL), bad1 = ~0ULL;
	bool answered = cpu1_wait(seq, 5000, &bad1);
	check(answered && bad0 == 0 && bad1 == 0, "fpsimd-two-cpus",
	      "vCPU 0: %lu bad, vCPU 1: %lu bad (answered %d)", (unsigned long)bad0,
	      (unsigned long)bad1, answered);
}

/* ---------------------------------------------------------------- PSCI */
#define PSCI_ALREADY_ON (-4L)
#define PSCI_ON_PENDING (-5L)

static bool wait_starts(unsigned n)
{
	uint64_t end = time_ms() + 3000;
	while (cpu1_starts < n)
		if (time_ms() > end)
			return false;
	return true;
}

static void test_psci_basic(void)
{
	int64_t v = psci_call(PSCI_VERSION, 0, 0, 0);
	check(v >= 0x10000, "psci-version", "0x%lx", (long)v);
	int64_t r = psci_call(0x8400001fUL, 0, 0, 0);
	check(r == PSCI_NOT_SUPPORTED, "psci-unknown-function", "returned %ld", (long)r);
	r = psci_call(PSCI_AFFINITY_INFO, this_cpu(), 0, 0);
	check(r == 0, "psci-affinity-self-on", "returned %ld", (long)r);
	r = psci_call(PSCI_CPU_ON, 7, (uint64_t)secondary_entry, 0);
	check(r == PSCI_INVALID_PARAMS, "psci-cpu-on-absent", "returned %ld", (long)r);
	r = psci_call(PSCI_CPU_ON, 0, (uint64_t)secondary_entry, 0);
	check(r == PSCI_ALREADY_ON, "psci-cpu-on-self", "returned %ld", (long)r);
	uint64_t mpidr = read_sysreg(mpidr_el1);
	check((mpidr & 0xff) == 0 && (mpidr & (1UL << 31)), "mpidr", "0x%lx", (unsigned long)mpidr);
}

/* Starts vCPU 1 (racing a second CPU_ON against the first), and checks
 * AFFINITY_INFO along the way. */
static bool start_cpu1(void)
{
	int64_t off = psci_call(PSCI_AFFINITY_INFO, 1, 0, 0);
	check(off == 1, "psci-affinity-off", "before CPU_ON: %ld", (long)off);
	int64_t r1 = psci_call(PSCI_CPU_ON, 1, (uint64_t)secondary_entry, 0x1111);
	int64_t r2 = psci_call(PSCI_CPU_ON, 1, (uint64_t)secondary_entry, 0x2222);
	bool up = wait_starts(1);
	delay_us(20000);
	check(r1 == 0 && (r2 == PSCI_ALREADY_ON || r2 == PSCI_ON_PENDING) && up &&
		      cpu1_starts == 1 && cpu1_ctx == 0x1111,
	      "psci-cpu-on-race", "first %ld, second %ld, started %u times, context 0x%lx",
	      (long)r1, (long)r2, cpu1_starts, (unsigned long)cpu1_ctx);
	int64_t on = psci_call(PSCI_AFFINITY_INFO, 1, 0, 0);
	check(on == 0, "psci-affinity-on", "after start: %ld", (long)on);
	return up;
}

static void test_cpu_off_on(void)
{
	bool answered = cpu1_call(CMD_OFF, 0, NULL);
	uint64_t end = time_ms() + 3000;
	int64_t aff;
	while ((aff = psci_call(PSCI_AFFINITY_INFO, 1, 0, 0)) != 1 && time_ms() < end)
		;
	check(answered && aff == 1, "psci-cpu-off", "answered %d, AFFINITY_INFO %ld", answered,
	      (long)aff);
	int64_t r = psci_call(PSCI_CPU_ON, 1, (uint64_t)secondary_entry, 0x3333);
	bool up = wait_starts(2);
	check(r == 0 && up && cpu1_ctx == 0x3333, "psci-cpu-on-again",
	      "returned %ld, started %d, context 0x%lx", (long)r, up, (unsigned long)cpu1_ctx);
}

/* ---------------------------------------------------------------- main */
static unsigned count_cpus(void)
{
	if (gic_version == 2)
		return ((mmio_read32(GICD + GICD_TYPER) >> 5) & 7) + 1;
	for (unsigned i = 0; i < 8; i++)
		if (mmio_read64(GUEST_GICR_BASE + i * GICR_FRAME + GICR_TYPER) & (1u << 4))
			return i + 1;
	return 1;
}

int main(uint64_t dtb)
{
	(void)dtb;
	gic_version = (mmio_read32(GICD + GICD_PIDR2) >> 4) & 0xf;
	ncpus = count_cpus();
	printf("conform: GICv%u, %u vCPUs\n", gic_version, ncpus);
	if (ncpus > 2)
		ncpus = 2;
	irq_handler = on_irq;
	mmio_write32(GICD + GICD_CTLR, gic_version == 3 ? 0x12 : 1);
	gic_cpu_init();
	mmu_regs[0] = read_sysreg(mair_el1);
	mmu_regs[1] = read_sysreg(tcr_el1);
	mmu_regs[2] = read_sysreg(ttbr0_el1);
	mmu_regs[3] = read_sysreg(sctlr_el1);
	dsb();

	test_psci_basic();
	if (ncpus == 2 && !start_cpu1())
		ncpus = 1;
	test_gicd_ids();
	if (gic_version == 2)
		test_itargetsr();
	else
		test_gicr();
	test_priority_regs();
	test_icfgr();
	test_active_pending_regs();
	test_sgis();
	if (gic_version == 2 && ncpus == 2)
		test_sgi_two_senders();
	test_priorities();
	test_timer("vtimer", PPI_VTIMER);
	test_timer("ptimer", PPI_PTIMER);
	test_exceptions();
	test_fp();
	if (ncpus == 2)
		test_cpu_off_on();
	printf("CONFORM DONE %u checks %u failed\n", checks, failed);
	return 0;
}
