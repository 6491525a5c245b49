/* The virtual power button's MMIO window as Linux drives it: the AMBA bus
 * reads the PL061's IDs with 32-bit loads, gpio-pl061 programs and reads the
 * 8-bit registers with byte accesses (a first version refused them, and the
 * guest's driver died on an injected abort at probe), gpio-keys waits for
 * the interrupt on both edges of the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/vm.h"
#include "core/vpwrbtn.h"
#include "platform/board.h"

static mmio_handler_fn handler;
static void *handler_dev;
static ipa_t handler_base;
static unsigned injected;

int vm_register_mmio(struct vm *vm, ipa_t base, uint64_t size, mmio_handler_fn fn, void *dev)
{
	(void)vm;
	assert_int_equal(size, 0x1000);
	handler_base = base;
	handler = fn;
	handler_dev = dev;
	return 0;
}

void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	(void)vm, (void)vcpu;
	assert_int_equal(intid, PLAT_GUEST_GPIO_IRQ);
	injected++;
}

static struct vm vm;

static bool access(uint32_t off, unsigned width, bool write, uint64_t *value)
{
	struct mmio_access acc = {.addr = handler_base + off, .width = width, .write = write};

	if (write)
		acc.value = *value;
	bool ok = handler(NULL, &acc, handler_dev);
	if (!write)
		*value = acc.value;
	return ok;
}

static uint64_t rd(uint32_t off, unsigned width)
{
	uint64_t v = 0xdead;
	assert_true(access(off, width, false, &v));
	return v;
}

static void wr(uint32_t off, unsigned width, uint64_t v)
{
	assert_true(access(off, width, true, &v));
}

static void test_linux_probe_and_key(void **state)
{
	uint64_t v = 0;
	(void)state;

	vm.id = 1;
	assert_int_equal(vpwrbtn_create(&vm), 0);
	assert_int_equal(handler_base, PLAT_GUEST_GPIO_IPA);
	/* amba: peripheral and PrimeCell IDs by readl */
	assert_int_equal(rd(0xfe0, 4) | rd(0xfe4, 4) << 8 | rd(0xfe8, 4) << 16 | rd(0xfec, 4) << 24,
			 0x00041061);
	assert_int_equal(rd(0xff0, 4) | rd(0xff4, 4) << 8 | rd(0xff8, 4) << 16 | rd(0xffc, 4) << 24,
			 0xb105f00d);
	/* gpio-pl061's probe and irq_set_type(EDGE_BOTH), unmask: writeb/readb */
	wr(0x410, 1, 0);                     /* GPIOIE */
	wr(0x41c, 1, 0xff);                  /* GPIOIC */
	wr(0x400, 1, rd(0x400, 1) & ~0x08u); /* GPIODIR: line 3 an input */
	wr(0x404, 1, rd(0x404, 1) & ~0x08u); /* GPIOIS: edge */
	wr(0x408, 1, rd(0x408, 1) | 0x08u);  /* GPIOIBE: both edges */
	wr(0x410, 1, rd(0x410, 1) | 0x08u);  /* GPIOIE */
	assert_int_equal(injected, 0);
	/* the MVM asks: the key goes down, an interrupt, MIS and the data say so */
	vpwrbtn_set(&vm, true);
	assert_int_equal(injected, 1);
	assert_int_equal(rd(0x418, 1), 0x08); /* GPIOMIS */
	assert_int_equal(rd(0x020, 1), 0x08); /* GPIODATA, mask 0x08 */
	wr(0x41c, 1, 0x08);                   /* ack */
	assert_int_equal(rd(0x418, 1), 0);
	/* released after the hold: the other edge */
	vpwrbtn_set(&vm, false);
	assert_int_equal(injected, 2);
	assert_int_equal(rd(0x020, 1), 0);
	/* the widths Linux uses only: 16- and 64-bit and unaligned ones are refused */
	assert_false(access(0x418, 2, false, &v));
	assert_false(access(0x418, 8, false, &v));
	assert_false(access(0x419, 1, false, &v));
	/* a stopped VM's button is as at power-on */
	vpwrbtn_reset(&vm);
	assert_int_equal(rd(0x410, 4), 0);
	assert_int_equal(rd(0x3fc, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_probe_and_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
