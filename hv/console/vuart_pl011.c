/* An emulated PL011 per VM: output goes to the console multiplexer with
 * the VM's prefix, input comes from it when the VM has the focus. The TX
 * FIFO drains instantly, so TXFF never sets and TX interrupts are always
 * ready; the RX side is a small FIFO. */
#include "console/console.h"
#include "core/print.h"
#include "arch/arm64/spinlock.h"
#include "core/vgic.h"
#include "core/vm.h"
#include "console/vuart.h"

#define DR 0x000
#define RSR 0x004
#define FR 0x018
#define IBRD 0x024
#define FBRD 0x028
#define LCRH 0x02c
#define CR 0x030
#define IFLS 0x034
#define IMSC 0x038
#define RIS 0x03c
#define MIS 0x040
#define ICR 0x044
#define DMACR 0x048
#define PERIPH_ID 0xfe0

#define FR_RXFE BIT(4)
#define FR_TXFE BIT(7)
#define INT_RX BIT(4)
#define INT_TX BIT(5)
#define INT_RT BIT(6)

#define RX_FIFO 4096 /* deeper than a PL011 so pasted lines are not cut */

struct vuart {
	struct vm *vm;
	uint32_t irq;
	spinlock_t lock;
	uint32_t ibrd, fbrd, lcrh, cr, ifls, imsc;
	char rx[RX_FIFO];
	unsigned rx_head, rx_count;
};

static struct vuart vuarts[CFG_MAX_VMS];

/* PL011 r1p5 identification, as the Linux amba bus probes it. */
static const uint8_t periph_id[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

static uint32_t raw_status(const struct vuart *u)
{
	return INT_TX | (u->rx_count ? INT_RX | INT_RT : 0);
}

static void update_irq(struct vuart *u)
{
	if (raw_status(u) & u->imsc)
		vgic_inject(u->vm, NULL, u->irq);
}

static uint32_t rx_pop(struct vuart *u)
{
	if (!u->rx_count)
		return 0;
	char c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_FIFO;
	u->rx_count--;
	return (uint8_t)c;
}

static uint32_t reg_read(struct vuart *u, uint64_t off)
{
	switch (off) {
	case DR:
		return rx_pop(u);
	case FR:
		return FR_TXFE | (u->rx_count ? 0 : FR_RXFE);
	case IBRD:
		return u->ibrd;
	case FBRD:
		return u->fbrd;
	case LCRH:
		return u->lcrh;
	case CR:
		return u->cr;
	case IFLS:
		return u->ifls;
	case IMSC:
		return u->imsc;
	case RIS:
		return raw_status(u);
	case MIS:
		return raw_status(u) & u->imsc;
	default:
		if (off >= PERIPH_ID && off < PERIPH_ID + 0x20)
			return periph_id[(off - PERIPH_ID) / 4];
		return 0;
	}
}

/* Returns true when the interrupt line may have risen. */
static bool reg_write(struct vuart *u, uint64_t off, uint32_t v)
{
	switch (off) {
	case DR: /* vuart_mmio() writes the byte out, without u->lock */
		return u->imsc & INT_TX;
	case IBRD:
		u->ibrd = v;
		break;
	case FBRD:
		u->fbrd = v;
		break;
	case LCRH:
		u->lcrh = v;
		break;
	case CR:
		u->cr = v;
		break;
	case IFLS:
		u->ifls = v;
		break;
	case IMSC: {
		bool raised = v & ~u->imsc;
		u->imsc = v & 0x7ff;
		return raised;
	}
	default: /* RSR/ICR (nothing latched to clear), DMACR: ignored */
		break;
	}
	return false;
}

static bool vuart_mmio(struct vcpu *vcpu, struct mmio_access *acc, void *dev)
{
	struct vuart *u = dev;
	uint64_t off = acc->addr & 0xfff; /* the region is one 4 KiB page */
	bool raise = false;

	(void)vcpu;
	if (off & 3)
		return false;
	if (acc->write && off == DR) /* the console may wait on the UART: no lock held */
		console_putc((int)u->vm->id, (char)acc->value);
	spin_lock(&u->lock);
	if (acc->write)
		raise = reg_write(u, off, (uint32_t)acc->value);
	else
		acc->value = reg_read(u, off);
	spin_unlock(&u->lock);
	if (raise)
		update_irq(u);
	return true;
}

static void vuart_input(void *dev, char c)
{
	struct vuart *u = dev;

	spin_lock(&u->lock);
	if (u->rx_count < RX_FIFO) {
		u->rx[(u->rx_head + u->rx_count) % RX_FIFO] = c;
		u->rx_count++;
	}
	spin_unlock(&u->lock);
	update_irq(u);
}

/* The VM stopped: registers as at power-on, typed-ahead input dropped. */
void vuart_reset(struct vm *vm)
{
	struct vuart *u = &vuarts[vm->id];

	spin_lock(&u->lock);
	u->ibrd = u->fbrd = u->lcrh = u->ifls = u->imsc = 0;
	u->cr = 0x300; /* TXE | RXE */
	u->rx_head = u->rx_count = 0;
	spin_unlock(&u->lock);
}

int vuart_create(struct vm *vm, ipa_t base, uint32_t irq)
{
	struct vuart *u = &vuarts[vm->id];

	u->vm = vm;
	u->irq = irq;
	u->cr = 0x300; /* TXE | RXE */
	vm->vuart = u;
	console_attach((int)vm->id, vuart_input, u);
	return vm_register_mmio(vm, base, 0x1000, vuart_mmio, u);
}
