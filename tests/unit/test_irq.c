/* Physical interrupt dispatch against a stubbed GIC: the guests' EL1 timer
 * PPIs (virtual 27, physical 30) go to the vCPU running here, linked to the
 * physical interrupt; with no vCPU they are deactivated and dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/irq.h"
#include "core/vm.h"

/* ---- stubs ---- */
static uint32_t acks[8];
static unsigned nacks, next_ack, deactivated[64], injected[64];
static struct vcpu *injected_to;

uint32_t gic_ack(void)
{
	return next_ack < nacks ? acks[next_ack++] : GIC_SPURIOUS;
}
void gic_eoi(uint32_t intid)
{
	(void)intid;
}
void gic_deactivate(uint32_t intid)
{
	if (intid < 64)
		deactivated[intid]++;
}
void gic_enable(uint32_t intid, bool on)
{
	(void)intid, (void)on;
}
void vgic_inject_hw(struct vcpu *vcpu, uint32_t intid)
{
	if (intid < 64)
		injected[intid]++;
	injected_to = vcpu;
}
static unsigned maintenance_calls;
void vgic_maintenance(struct vcpu *vcpu)
{
	(void)vcpu;
	maintenance_calls++;
}
void mediated_work(void)
{
}
void mediated_tick(void)
{
}
void virtio_net_tick(void)
{
}
void virtio_net_work(void)
{
}
void vm_life_tick(void)
{
}
void hv_timer_irq(void)
{
}
int uart_getc(void)
{
	return -1;
}
void console_input(char c)
{
	(void)c;
}

static void raise(uint32_t intid)
{
	memset(deactivated, 0, sizeof(deactivated));
	memset(injected, 0, sizeof(injected));
	injected_to = NULL;
	acks[0] = intid;
	nacks = 1;
	next_ack = 0;
}

static void test_timers_forwarded_to_running_vcpu(void **state)
{
	static struct vm vm;
	struct vcpu *v = &vm.vcpus[0];
	(void)state;
	v->vm = &vm;
	const uint32_t ppis[] = {PPI_VTIMER, PPI_PTIMER};
	for (unsigned i = 0; i < 2; i++) {
		raise(ppis[i]);
		irq_dispatch(v);
		assert_int_equal(injected[ppis[i]], 1);
		assert_ptr_equal(injected_to, v);
		assert_int_equal(deactivated[ppis[i]], 0); /* the guest's EOI does it */
	}
}

static void test_timers_dropped_when_idle(void **state)
{
	(void)state;
	raise(PPI_PTIMER);
	irq_dispatch(NULL);
	assert_int_equal(injected[PPI_PTIMER], 0);
	assert_int_equal(deactivated[PPI_PTIMER], 1);
}

/* A maintenance interrupt on a CPU whose vCPU is off still goes to the vGIC
 * (its level would otherwise be acked again and again). */
static void test_maintenance_without_vcpu(void **state)
{
	(void)state;
	raise(PPI_MAINT);
	maintenance_calls = 0;
	irq_dispatch(NULL);
	assert_int_equal(maintenance_calls, 1);
	assert_int_equal(deactivated[PPI_MAINT], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_forwarded_to_running_vcpu),
		cmocka_unit_test(test_timers_dropped_when_idle),
		cmocka_unit_test(test_maintenance_without_vcpu),
	};
	return cmocka_run_group_tests_name("irq", tests, NULL, NULL);
}
