/* Architecture services the core uses (arch/arm64). */
#ifndef ARCH_H
#define ARCH_H
#include "lib/types.h"

struct vcpu;

void mmu_build_el2_tables(uint64_t ram_base, uint64_t ram_size);
void mmu_enable_el2(void);

/* PSCI calls to the firmware (QEMU emulates it, reached by SMC). */
int64_t psci_cpu_on(uint64_t mpidr, uint64_t entry, uint64_t ctx);
void __attribute__((noreturn)) psci_system_off(void);
void __attribute__((noreturn)) psci_system_reset(void);

/* Time: the counter and the EL2 (hypervisor) timer. */
#ifdef HOST_UNIT_TEST
uint64_t timer_now(void); /* provided by the test */
#else
static inline uint64_t timer_now(void)
{
	uint64_t v;
	__asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(v));
	return v;
}
#endif
uint64_t timer_freq(void);
void hv_timer_init(void);
void hv_timer_arm_ms(uint64_t ms);
void hv_timer_irq(void);
uint64_t timer_ticks_to_us(uint64_t ticks);
/* The guest's EL1 timers on this CPU (virtual: PPI 27, physical: PPI 30):
 * whether `ppi`'s output is asserted (ENABLE, not IMASK, ISTATUS). */
bool timer_guest_irq_asserted(uint32_t ppi);
/* Stops both EL1 timers of the guest on this CPU (vCPU off or restarted). */
void timer_guest_stop(void);

/* This CPU's breakpoints, watchpoints, OS lock and PMU as at power-on:
 * nothing of a vCPU's previous start is left there (debug_pmu.c). */
void debug_pmu_reset(void);

void __attribute__((noreturn)) guest_enter(struct vcpu *vcpu);
extern char secondary_entry[];

#ifdef HOST_UNIT_TEST
void local_irq_enable(void); /* provided by the test */
void local_irq_disable(void);
#else
static inline void local_irq_enable(void)
{
	__asm__ volatile("msr daifclr, #2" ::: "memory");
}
static inline void local_irq_disable(void)
{
	__asm__ volatile("msr daifset, #2" ::: "memory");
}
#endif
#endif
