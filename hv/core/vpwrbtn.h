/* Every GVM's virtual power button: an emulated PL061 GPIO controller whose
 * input line PWRBTN_LINE is wired to a gpio-keys KEY_POWER, the way QEMU's
 * virt board does it, so an unmodified Linux guest sees a power key press
 * (HC_VM_STOP with HC_STOP_REQUEST) and its user space can power off.
 *
 * The device tree node a GVM needs (tools/cfgc generates it):
 *
 *	gpio0: pl061@9030000 {
 *		compatible = "arm,pl061", "arm,primecell";
 *		reg = <0x0 0x09030000 0x0 0x1000>;
 *		interrupts = <0 7 4>;          // SPI 7 = INTID 39, level high
 *		gpio-controller;
 *		#gpio-cells = <2>;
 *		clocks = <&apb_pclk>;
 *		clock-names = "apb_pclk";
 *	};
 *	gpio-keys {
 *		compatible = "gpio-keys";
 *		poweroff {
 *			label = "GPIO Key Poweroff";
 *			linux,code = <116>;    // KEY_POWER
 *			gpios = <&gpio0 3 0>;  // line 3, active high
 *		};
 *	};
 *
 * (Debian's kernel has gpio-pl061 built in; gpio_keys and evdev are
 * modules the GVM's initramfs must load, and something in its user space
 * must act on the key: busybox acpid, or a read of /dev/input/event0.) */
#ifndef VPWRBTN_H
#define VPWRBTN_H
#include "lib/types.h"

#define PWRBTN_LINE 3

/* The PL061's registers (pure model, unit-tested). */
struct pl061 {
	uint8_t data; /* output pins' latched values */
	uint8_t in;   /* input lines' levels */
	uint8_t dir;  /* 1 = output */
	uint8_t is;   /* 1 = level-sensitive */
	uint8_t ibe;  /* 1 = both edges */
	uint8_t iev;  /* 1 = rising edge / high level */
	uint8_t ie;   /* interrupt mask (1 = enabled) */
	uint8_t ris;  /* raw interrupt status */
	uint8_t afsel;
};

void pl061_reset(struct pl061 *p);
/* A 32-bit register access at `off` (< 0x1000, 4-aligned). A write to a
 * control register returns whether the interrupt output (RIS & IE) is
 * asserted after it: the line is level-sensitive, and the vGIC's software
 * interrupts are edges, so it is raised again while it stays asserted
 * (e.g. another line still pending after a GPIOIC). */
uint32_t pl061_read(const struct pl061 *p, uint32_t off);
bool pl061_write(struct pl061 *p, uint32_t off, uint32_t v);
/* An input line changes level: true if the interrupt output rose. */
bool pl061_set_input(struct pl061 *p, unsigned line, bool level);
bool pl061_irq_asserted(const struct pl061 *p);

struct vm;
/* The VM's button at the board's guest GPIO address (GVMs only). */
int vpwrbtn_create(struct vm *vm);
void vpwrbtn_set(struct vm *vm, bool pressed);
void vpwrbtn_reset(struct vm *vm);
#endif
