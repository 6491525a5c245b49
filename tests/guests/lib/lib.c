/* The bare-metal guests' runtime (see guest.h). */
#include "guest.h"

/* ---------------------------------------------------------------- PL011 */
#define UART_DR 0x000
#define UART_FR 0x018
#define FR_TXFF (1u << 5)

void uart_putc(char c)
{
	if (c == '\n')
		uart_putc('\r');
	for (unsigned spins = 0; spins < 100000; spins++)
		if (!(mmio_read32(GUEST_UART_BASE + UART_FR) & FR_TXFF))
			break;
	mmio_write32(GUEST_UART_BASE + UART_DR, (uint8_t)c);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

#define FR_RXFE (1u << 4)

int uart_getc(uint32_t timeout_ms)
{
	uint64_t end = time_ms() + timeout_ms;

	while (mmio_read32(GUEST_UART_BASE + UART_FR) & FR_RXFE)
		if (time_ms() > end)
			return -1;
	return (int)(mmio_read32(GUEST_UART_BASE + UART_DR) & 0xff);
}

int uart_getline(char *buf, size_t size, uint32_t timeout_ms)
{
	size_t n = 0;

	for (;;) {
		int c = uart_getc(timeout_ms);
		if (c < 0)
			return -1;
		if (c == '\r' || c == '\n') {
			if (n == 0)
				continue; /* an empty line */
			uart_putc('\n');
			break;
		}
		uart_putc((char)c);
		if (n + 1 < size)
			buf[n++] = (char)c;
	}
	buf[n] = 0;
	return (int)n;
}

/* ---------------------------------------------------------------- output
 * memset/memcpy/memcmp/strlen and vsnprintf/snprintf are the hypervisor's
 * (hv/lib/string.c, hv/lib/vsnprintf.c), linked into every guest. */
int printf(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	uart_puts(line);
	return n;
}

/* ---------------------------------------------------------------- SMCCC */
#define SMCCC_CALL(insn)                                                                          \
	register uint64_t r0 __asm__("x0") = a0, r1 __asm__("x1") = a1, r2 __asm__("x2") = a2,    \
			     r3 __asm__("x3") = a3, r4 __asm__("x4") = a4, r5 __asm__("x5") = a5, \
			     r6 __asm__("x6") = a6, r7 __asm__("x7") = a7;                        \
	__asm__ volatile(                                                                         \
		insn                                                                              \
		: "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6), "+r"(r7)  \
		:                                                                                 \
		: "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");  \
	return (struct smccc_res)                                                                 \
	{                                                                                         \
		r0, r1, r2, r3                                                                    \
	}

struct smccc_res hvc_call(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5, uint64_t a6, uint64_t a7)
{
	SMCCC_CALL("hvc #0");
}

struct smccc_res smc_call(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5, uint64_t a6, uint64_t a7)
{
	SMCCC_CALL("smc #0");
}

int64_t psci_call(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return (int64_t)hvc_call(fid, a1, a2, a3, 0, 0, 0, 0).a0;
}

void guest_halt(void)
{
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

/* ---------------------------------------------------------------- exceptions */
static struct exc_record *armed;
static uint64_t resume_at;
void (*irq_handler)(struct exc_frame *f);

void exc_expect(struct exc_record *rec, uint64_t resume)
{
	memset(rec, 0, sizeof(*rec));
	resume_at = resume;
	dsb();
	armed = rec;
}

void exc_disarm(void)
{
	armed = NULL;
}

static void __attribute__((noreturn)) fatal(struct exc_frame *f, unsigned kind)
{
	printf("FAIL exception: unexpected exception kind %u esr 0x%lx far 0x%lx elr 0x%lx\n", kind,
	       f->esr, f->far, f->elr);
	guest_halt();
}

void exception_entry(struct exc_frame *f, unsigned kind)
{
	if (kind == EXC_IRQ && irq_handler) {
		irq_handler(f);
		return;
	}
	if (kind != EXC_SYNC || !armed)
		fatal(f, kind);
	struct exc_record *r = armed;
	if (r->count++ == 0) {
		r->kind = kind;
		r->esr = f->esr;
		r->far = f->far;
		r->elr = f->elr;
	}
	if (r->count > 16) /* a storm: the resume point faults again */
		fatal(f, kind);
	if (resume_at)
		f->elr = resume_at;
	else if (ESR_EC(f->esr) == EC_IABT_CUR || ESR_EC(f->esr) == 0x20)
		f->elr = f->x[30]; /* a call into nowhere: back to the caller */
	else
		f->elr += 4;
}

/* ---------------------------------------------------------------- time */
uint64_t timer_freq(void)
{
	return read_sysreg(cntfrq_el0);
}

uint64_t time_ms(void)
{
	return timer_count() / (timer_freq() / 1000);
}

void delay_us(uint64_t us)
{
	uint64_t end = timer_count() + us * (timer_freq() / 1000000);
	while (timer_count() < end)
		;
}

/* ---------------------------------------------------------------- DMA pool */
#define DMA_POOL (8u << 20)
static uint8_t dma_pool[DMA_POOL] __attribute__((aligned(4096)));
static size_t dma_used;

void *dma_alloc(size_t size, size_t align)
{
	size_t at = (dma_used + align - 1) & ~(align - 1);
	if (at > DMA_POOL || size > DMA_POOL - at) {
		printf("FAIL dma_alloc: pool exhausted (%lu bytes)\n", (unsigned long)size);
		guest_halt();
	}
	dma_used = at + size;
	memset(dma_pool + at, 0, size);
	return dma_pool + at;
}

size_t dma_mark(void)
{
	return dma_used;
}

void dma_release(size_t mark)
{
	if (mark <= dma_used)
		dma_used = mark;
}

/* ---------------------------------------------------------------- MMU
 * One level-1 table of 1 GiB blocks (4 KiB granule, 39-bit VA): GiB 0
 * (GIC, UART, virtio-mmio) and 2..15 as Device-nGnRnE, never executable;
 * GiB 1 (the RAM at 0x40000000) as Normal write-back, executable. */
#define PTE_BLOCK 1UL
#define PTE_ATTR(i) ((uint64_t)(i) << 2)
#define PTE_SH_INNER (3UL << 8)
#define PTE_AF (1UL << 10)
#define PTE_PXN (1UL << 53)
#define PTE_UXN (1UL << 54)

static uint64_t l1_table[512] __attribute__((aligned(4096)));

void mmu_enable(void)
{
	for (uint64_t i = 0; i < 16; i++)
		l1_table[i] = (i << 30) | PTE_BLOCK | PTE_ATTR(0) | PTE_AF | PTE_PXN | PTE_UXN;
	l1_table[1] = (1UL << 30) | PTE_BLOCK | PTE_ATTR(1) | PTE_SH_INNER | PTE_AF;
	dsb();
	write_sysreg(mair_el1, 0xff00UL); /* attr0 Device-nGnRnE, attr1 Normal WB */
	/* T0SZ 25, walks non-cacheable (the table was written with the MMU off),
	 * TTBR1 walks off, IPS 36 bits */
	write_sysreg(tcr_el1, 25UL | (1UL << 23) | (1UL << 32));
	write_sysreg(ttbr0_el1, (uint64_t)l1_table);
	isb();
	__asm__ volatile("tlbi vmalle1\n dsb nsh" ::: "memory");
	isb();
	uint64_t sctlr = read_sysreg(sctlr_el1);
	sctlr |= 1UL | (1UL << 2) | (1UL << 12); /* M, C, I */
	sctlr &= ~(1UL << 1);                    /* A: no alignment checks */
	write_sysreg(sctlr_el1, sctlr);
	isb();
}

/* ---------------------------------------------------------------- FDT */
uint64_t guest_dtb;

static uint32_t be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4

/* Whether the node name `name` (length n) is the path component at *path;
 * advances *path past it. Unit addresses must match if the path gives one. */
static bool component_matches(const char **path, const char *name, size_t n)
{
	const char *p = *path;
	size_t k = 0;
	while (p[k] && p[k] != '/')
		k++;
	bool same = k == n && !memcmp(p, name, n);
	if (!same && k < n && name[k] == '@' && !memcmp(p, name, k))
		same = true; /* "chosen" matches "chosen", "memory" matches "memory@0" */
	if (same)
		*path = p[k] ? p + k + 1 : p + k;
	return same;
}

const void *dt_find_prop(const char *path, const char *prop, uint32_t *len)
{
	const uint8_t *fdt = (const uint8_t *)guest_dtb;

	if (!fdt || be32(fdt) != FDT_MAGIC || path[0] != '/')
		return NULL;
	uint32_t total = be32(fdt + 4), off_struct = be32(fdt + 8), off_strings = be32(fdt + 12);
	if (total > (2u << 20) || off_struct >= total || off_strings >= total)
		return NULL;
	const uint8_t *p = fdt + off_struct, *end = fdt + total;
	const char *want = path + 1;
	int depth = 0, matched = 0; /* nodes entered; of those, on the path */

	while (p + 4 <= end) {
		uint32_t tok = be32(p);
		p += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char *name = (const char *)p;
			size_t n = strlen(name);
			p += (n + 4) & ~3UL;
			if (depth++ == matched && (depth == 1 || component_matches(&want, name, n)))
				matched = depth;
		} else if (tok == FDT_END_NODE) {
			if (depth-- == matched)
				return NULL; /* left the node on our path without a match */
		} else if (tok == FDT_PROP) {
			uint32_t plen = be32(p), nameoff = be32(p + 4);
			const uint8_t *val = p + 8;
			p = val + ((plen + 3) & ~3u);
			if (depth == matched && !*want && off_strings + nameoff < total &&
			    !memcmp(fdt + off_strings + nameoff, prop, strlen(prop) + 1)) {
				if (len)
					*len = plen;
				return val;
			}
		} else if (tok != FDT_NOP) {
			return NULL;
		}
	}
	return NULL;
}
