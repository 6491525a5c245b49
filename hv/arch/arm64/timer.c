/* The generic timer: the counter, and the EL2 physical timer (CNTHP) that
 * gives the hypervisor its own periodic tick, independent of the guests'
 * virtual timers. */
#include "arch.h"
#include "console.h"
#include "gic.h"
#include "sysreg.h"

#define CTL_ENABLE BIT(0)
#define HV_TICK_MS 50 /* also how late a VM's unfinished line (a prompt) shows */

uint64_t timer_freq(void)
{
	return read_sysreg(cntfrq_el0);
}

uint64_t timer_ticks_to_us(uint64_t ticks)
{
	return ticks / (timer_freq() / 1000000);
}

void hv_timer_arm_ms(uint64_t ms)
{
	write_sysreg(cnthp_tval_el2, timer_freq() / 1000 * ms);
	write_sysreg(cnthp_ctl_el2, CTL_ENABLE);
	isb();
}

void hv_timer_init(void)
{
	gic_enable(PPI_HYP_TIMER, true);
	hv_timer_arm_ms(HV_TICK_MS);
}

/* The tick writes out unfinished console lines; watchdogs and
 * time-slicing would hook here too. */
void hv_timer_irq(void)
{
	hv_timer_arm_ms(HV_TICK_MS);
	console_flush();
}
