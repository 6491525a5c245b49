/* The shared library of the bare-metal test guests (tests/guests/README.md):
 * console output on the VM's PL011, MMIO accessors that always trap with a
 * valid syndrome, SMCCC/PSCI calls, exception capture, the generic timer and
 * a bump allocator for DMA memory. Identity-mapped, one vCPU, no interrupts
 * unless a guest enables them. */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Board addresses every sysHyper VM sees (mvm/dts/vm-common.dtsi). */
#define GUEST_RAM_BASE 0x40000000UL
#define GUEST_UART_BASE 0x09000000UL
#define GUEST_GICD_BASE 0x08000000UL
#define GUEST_GICC_BASE 0x08010000UL /* GICv2 CPU interface */
#define GUEST_GICR_BASE 0x080a0000UL /* GICv3 redistributors */
#define VIRTIO_MMIO_BASE(slot) (0x0a000000UL + (uint64_t)(slot)*0x200)
#define VIRTIO_MMIO_INTID(slot) (48 + (slot))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ---------------------------------------------------------------- MMIO
 * One instruction each with an immediate offset of 0, so the hypervisor
 * always gets a data abort with a valid syndrome (ISV=1). */
static inline uint32_t mmio_read32(uint64_t a)
{
	uint32_t v;
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline void mmio_write32(uint64_t a, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}
static inline uint8_t mmio_read8(uint64_t a)
{
	uint8_t v;
	__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline void mmio_write8(uint64_t a, uint8_t v)
{
	__asm__ volatile("strb %w0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}
static inline uint16_t mmio_read16(uint64_t a)
{
	uint16_t v;
	__asm__ volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline void mmio_write16(uint64_t a, uint16_t v)
{
	__asm__ volatile("strh %w0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}
static inline uint64_t mmio_read64(uint64_t a)
{
	uint64_t v;
	__asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
	return v;
}
static inline void mmio_write64(uint64_t a, uint64_t v)
{
	__asm__ volatile("str %x0, [%1]" ::"rZ"(v), "r"(a) : "memory");
}

#define dmb() __asm__ volatile("dmb sy" ::: "memory")
#define dsb() __asm__ volatile("dsb sy" ::: "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
#define read_sysreg(r)                                       \
	({                                                   \
		uint64_t __v;                                \
		__asm__ volatile("mrs %0, " #r : "=r"(__v)); \
		__v;                                         \
	})
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" ::"r"((uint64_t)(v)))

/* ---------------------------------------------------------------- output */
void uart_putc(char c);
void uart_puts(const char *s); /* no newline added */
/* A character from the PL011 (console input when the VM has the focus), or
 * -1 after timeout_ms; uart_getline() reads up to a newline (echoed). */
int uart_getc(uint32_t timeout_ms);
int uart_getline(char *buf, size_t size, uint32_t timeout_ms);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* ---------------------------------------------------------------- calls */
struct smccc_res {
	uint64_t a0, a1, a2, a3;
};
/* HVC #0 with x0..x7 = a0..a7; returns x0..x3. */
struct smccc_res hvc_call(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5, uint64_t a6, uint64_t a7);
struct smccc_res smc_call(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
			  uint64_t a5, uint64_t a6, uint64_t a7);

#define PSCI_VERSION 0x84000000UL
#define PSCI_CPU_SUSPEND 0xc4000001UL
#define PSCI_CPU_OFF 0x84000002UL
#define PSCI_CPU_ON 0xc4000003UL
#define PSCI_AFFINITY_INFO 0xc4000004UL
#define PSCI_SYSTEM_OFF 0x84000008UL
#define PSCI_SYSTEM_RESET 0x84000009UL
#define PSCI_FEATURES 0x8400000aUL
#define PSCI_NOT_SUPPORTED (-1L)
#define PSCI_INVALID_PARAMS (-2L)

int64_t psci_call(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3);
/* Powers the VM off (PSCI SYSTEM_OFF); spins if that returns. */
void __attribute__((noreturn)) guest_halt(void);

/* ---------------------------------------------------------------- exceptions */
struct exc_frame {
	uint64_t x[31];
	uint64_t elr, spsr, esr, far;
};

/* Vector kinds: 0-3 current EL SP_EL0, 4-7 current EL SP_ELx (sync, irq,
 * fiq, serror), 8-15 lower ELs. */
#define EXC_SYNC 4
#define EXC_IRQ 5

struct exc_record {
	unsigned count; /* exceptions taken since exc_expect() */
	unsigned kind;  /* of the first one */
	uint64_t esr, far, elr;
};

/* Arms the capture of synchronous exceptions: the next ones are recorded
 * (the first's syndrome kept) and the guest resumes at `resume` (the
 * faulting instruction's next one if 0; for an instruction abort, at the
 * caller's x30). exc_disarm() returns to "an exception is fatal". */
void exc_expect(struct exc_record *rec, uint64_t resume);
void exc_disarm(void);
/* Called for IRQs (kind EXC_IRQ) if set; else IRQs are fatal. */
extern void (*irq_handler)(struct exc_frame *f);
#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_ISS(esr) ((esr)&0x1ffffff)
#define EC_DABT_CUR 0x25
#define EC_IABT_CUR 0x21

/* ---------------------------------------------------------------- time */
static inline uint64_t timer_count(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}
uint64_t timer_freq(void);
uint64_t time_ms(void);
void delay_us(uint64_t us);

/* ---------------------------------------------------------------- memory
 * A bump allocator over a static pool (identity mapped, cacheable): DMA
 * buffers for virtqueues. dma_mark()/dma_release() free everything
 * allocated after the mark. */
void *dma_alloc(size_t size, size_t align);
size_t dma_mark(void);
void dma_release(size_t mark);
extern char __image_end[];

/* The FDT the hypervisor passed in x0 (0 if none or bad); dt_find_prop()
 * returns a property of the node at `path` (e.g. "/chosen", "bootargs"). */
extern uint64_t guest_dtb;
const void *dt_find_prop(const char *path, const char *prop, uint32_t *len);

int main(uint64_t dtb);

#endif
