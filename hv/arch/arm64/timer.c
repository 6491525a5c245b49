/* The generic timer: the counter, and the EL2 physical timer (CNTHP) that
 * gives the hypervisor its own periodic tick, independent of the guests'
 * EL1 timers. Both EL1 timers belong to the vCPU pinned to the CPU: the
 * virtual one (CNTV, PPI 27; CNTVOFF_EL2 = 0, so it counts like the physical
 * counter) and the physical one (CNTP, PPI 30; CNTHCTL_EL2 EL1PCEN/EL1PCTEN
 * let EL1 use it without traps). Their PPIs are forwarded linked (HW=1). */
#include "arch/arm64/arch.h"
#include "console/console.h"
#include "drivers/gic.h"
#include "arch/arm64/sysreg.h"

#define CTL_ENABLE BIT(0)
#define CTL_IMASK BIT(1)
#define CTL_ISTATUS BIT(2)
#define HV_TICK_MS 50 /* also how late a VM's unfinished line (a prompt) shows */

uint64_t timer_freq(void)
{
	return read_sysreg(cntfrq_el0);
}

uint64_t timer_ticks_to_us(uint64_t ticks)
{
	return ticks / (timer_freq() / 1000000);
}

bool timer_guest_irq_asserted(uint32_t ppi)
{
	uint64_t ctl = ppi == PPI_PTIMER ? read_sysreg(cntp_ctl_el0) : read_sysreg(cntv_ctl_el0);

	return (ctl & (CTL_ENABLE | CTL_IMASK | CTL_ISTATUS)) == (CTL_ENABLE | CTL_ISTATUS);
}

void timer_guest_stop(void)
{
	write_sysreg(cntv_ctl_el0, 0);
	write_sysreg(cntp_ctl_el0, 0);
	isb();
}

void hv_timer_arm_ms(uint64_t ms)
{
	write_sysreg(cnthp_tval_el2, timer_freq() / 1000 * ms);
	write_sysreg(cnthp_ctl_el2, CTL_ENABLE);
	isb();
}

void hv_timer_init(void)
{
	timer_guest_stop(); /* their reset state is UNKNOWN: no PPI storm before a vCPU */
	gic_enable(PPI_HYP_TIMER, true);
	hv_timer_arm_ms(HV_TICK_MS);
}

/* The tick writes out unfinished console lines; watchdogs and
 * time-slicing would hook here too. */
void hv_timer_irq(void)
{
	hv_timer_arm_ms(HV_TICK_MS);
	console_tick(timer_ticks_to_us(timer_now()) / 1000);
}
