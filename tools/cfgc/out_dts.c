/* cfgc --dts VM FILE: the device tree source of one VM, for dtc.
 *
 * Everything in it comes from the configuration (CPUs, memory, initrd,
 * kernel command line, virtio devices, passed-through devices) or from the
 * board header (where the guest's GIC, UART and virtio-mmio window are), so
 * a VM is described in one place. The GIC is the board's version (-D GIC=2
 * or 3); a GICv3's redistributor region has one frame per vCPU. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cfgc.h"
#include "drivers/gic_regs.h" /* GICR_FRAME */
#include "platform/board.h"
#include "platform/guest_dt.h"
#include "syshyper/hypercall.h"
/* The hypervisor gives every GVM a power button where the board says, once
 * it has the model (core/vpwrbtn.h names the line). */
#if defined(PLAT_GUEST_GPIO_IPA) && __has_include("core/vpwrbtn.h")
#include "core/vpwrbtn.h"
#define HAVE_POWER_BUTTON 1
#endif

#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_EDGE 1
#define IRQ_LEVEL 4
#define INTID_SPI0 32
#define GICV2_CPUIF_SIZE 0x2000 /* the GICv2 CPU interface: 8 KiB (architecture) */

/* The EL1 timers' PPIs: secure, non-secure physical, virtual, hypervisor. */
static const unsigned timer_ppis[] = {13, 14, 11, 10};

static void cells64(FILE *o, uint64_t v)
{
	fprintf(o, "0x%" PRIx64 " 0x%" PRIx64, v >> 32, v & 0xffffffffu);
}

static void reg(FILE *o, uint64_t base, uint64_t size)
{
	fputs("<", o);
	cells64(o, base);
	fputs(" ", o);
	cells64(o, size);
	fputs(">", o);
}

static void dts_string(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', o);
		fputc(*s, o);
	}
	fputc('"', o);
}

/* An SPI by its GIC INTID, as a device tree interrupt specifier. */
static void spi(FILE *o, uint32_t intid, unsigned type)
{
	fprintf(o, "<%d %" PRIu32 " %u>", GIC_SPI, intid - INTID_SPI0, type);
}

static void chosen(FILE *o, unsigned v)
{
	const struct cfg_vm *vm = &cfg.vms[v];
	uint64_t start;

	fputs("\tchosen {\n", o);
	if (vmb[v].bootargs[0]) {
		fputs("\t\tbootargs = ", o);
		dts_string(o, vmb[v].bootargs);
		fputs(";\n", o);
	}
	fprintf(o, "\t\tstdout-path = \"/pl011@%lx\";\n", (unsigned long)PLAT_GUEST_UART_IPA);
	if (vm->initrd.size && vm_ipa_of_pa(vm, vm->initrd.pa, &start)) {
		fputs("\t\tlinux,initrd-start = <", o);
		cells64(o, start);
		fputs(">;\n\t\tlinux,initrd-end = <", o);
		cells64(o, start + vm->initrd.size);
		fputs(">;\n", o);
	}
	fputs("\t};\n\n", o);
}

static void cpus(FILE *o, const struct cfg_vm *vm)
{
	fputs("\tpsci {\n\t\tcompatible = \"arm,psci-1.0\", \"arm,psci-0.2\";\n"
	      "\t\tmethod = \"hvc\";\n\t};\n\n",
	      o);
	fputs("\tcpus {\n\t\t#address-cells = <1>;\n\t\t#size-cells = <0>;\n", o);
	for (unsigned i = 0; i < vm->ncpus; i++)
		fprintf(o,
			"\n\t\tcpu@%u {\n\t\t\tdevice_type = \"cpu\";\n"
			"\t\t\tcompatible = \"%s\";\n\t\t\treg = <%u>;\n"
			"\t\t\tenable-method = \"psci\";\n\t\t};\n",
			i, PLAT_GUEST_CPU_COMPAT, i);
	fputs("\t};\n\n", o);
}

static void memory(FILE *o, const struct cfg_vm *vm)
{
	for (unsigned i = 0; i < vm->nmem; i++) {
		fprintf(o, "\tmemory@%" PRIx64 " {\n\t\tdevice_type = \"memory\";\n\t\treg = ",
			vm->mem[i].ipa);
		reg(o, vm->mem[i].ipa, vm->mem[i].size);
		fputs(";\n\t};\n\n", o);
	}
}

/* The MVM's mediated area, kept from the kernel's allocator (still in its
 * linear map: the module maps its pages for the block daemon). */
static void reserved_memory(FILE *o, const struct cfg_vm *vm)
{
	if (!vm->med_area.size)
		return;
	fputs("\treserved-memory {\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n"
	      "\t\tranges;\n\n",
	      o);
	fprintf(o, "\t\tmed_area: mediated-area@%" PRIx64 " {\n\t\t\treg = ", vm->med_area.pa);
	reg(o, vm->med_area.pa, vm->med_area.size);
	fputs(";\n\t\t};\n\t};\n\n", o);
}

static void timer(FILE *o, const struct cfg_vm *vm, unsigned gic)
{
	/* GICv2 PPIs name the CPUs they go to (bits 15:8). */
	unsigned flags = IRQ_LEVEL | (gic == 2 ? ((1u << vm->ncpus) - 1) << 8 : 0);

	fputs("\ttimer {\n\t\tcompatible = \"arm,armv8-timer\";\n\t\tinterrupts = ", o);
	for (unsigned i = 0; i < sizeof(timer_ppis) / sizeof(timer_ppis[0]); i++)
		fprintf(o, "%s<%d %u 0x%x>", i ? ", " : "", GIC_PPI, timer_ppis[i], flags);
	fputs(";\n\t\talways-on;\n\t};\n\n", o);
}

static void gic_node(FILE *o, const struct cfg_vm *vm, unsigned gic)
{
	fprintf(o,
		"\tgic: interrupt-controller@%lx {\n\t\t#interrupt-cells = <3>;\n"
		"\t\tinterrupt-controller;\n\t\t#address-cells = <0>;\n",
		(unsigned long)PLAT_GUEST_GICD);
	if (gic == 2) {
		fputs("\t\tcompatible = \"arm,cortex-a15-gic\";\n\t\treg = ", o);
		reg(o, PLAT_GUEST_GICD, PLAT_GUEST_GICD_SIZE);
		fputs(", ", o);
		reg(o, PLAT_GUEST_GICC, GICV2_CPUIF_SIZE);
	} else {
		fputs("\t\tcompatible = \"arm,gic-v3\";\n\t\t#redistributor-regions = <1>;\n"
		      "\t\treg = ",
		      o);
		reg(o, PLAT_GUEST_GICD, PLAT_GUEST_GICD_SIZE);
		fputs(", ", o);
		reg(o, PLAT_GUEST_GICR, (uint64_t)vm->ncpus * GICR_FRAME);
	}
	fputs(";\n\t};\n\n", o);
}

/* The start of an Arm PrimeCell's node (one 4 KiB page, one level SPI),
 * up to its interrupts; the caller adds the rest and closes it. */
static void primecell_head(FILE *o, const char *label, const char *model, uint64_t ipa,
			   uint32_t irq)
{
	fprintf(o, "\t%s%s@%" PRIx64 " {\n\t\tcompatible = \"arm,%s\", \"arm,primecell\";\n", label,
		model, ipa, model);
	fputs("\t\treg = ", o);
	reg(o, ipa, 0x1000);
	fputs(";\n\t\tinterrupts = ", o);
	spi(o, irq, IRQ_LEVEL);
	fputs(";\n", o);
}

static void uart(FILE *o)
{
	fprintf(o,
		"\tapb_pclk: apb-pclk {\n\t\tcompatible = \"fixed-clock\";\n"
		"\t\t#clock-cells = <0>;\n\t\tclock-frequency = <%u>;\n"
		"\t\tclock-output-names = \"apb_pclk\";\n\t};\n\n",
		(unsigned)PLAT_GUEST_APB_CLOCK_HZ);
	primecell_head(o, "", "pl011", PLAT_GUEST_UART_IPA, PLAT_GUEST_UART_IRQ);
	fputs("\t\tclocks = <&apb_pclk>, <&apb_pclk>;\n"
	      "\t\tclock-names = \"uartclk\", \"apb_pclk\";\n\t};\n\n",
	      o);
}

/* The power button the hypervisor presses for `syshyper stop` (a GVM's
 * emulated PL061 with a gpio-keys KEY_POWER line), where the board has one. */
static void power_button(FILE *o, const struct cfg_vm *vm)
{
#ifdef HAVE_POWER_BUTTON
	if (vm->role != VM_ROLE_GVM)
		return;
	for (unsigned i = 0; i < vm->ndevs; i++)
		if (vm->devs[i].pa == PLAT_GUEST_GPIO_IPA)
			return; /* the board's own PL061 is passed through instead */
	primecell_head(o, "gpio: ", "pl061", PLAT_GUEST_GPIO_IPA, PLAT_GUEST_GPIO_IRQ);
	fputs("\t\tgpio-controller;\n\t\t#gpio-cells = <2>;\n"
	      "\t\tclocks = <&apb_pclk>;\n\t\tclock-names = \"apb_pclk\";\n\t};\n\n",
	      o);
	fprintf(o,
		"\tgpio-keys {\n\t\tcompatible = \"gpio-keys\";\n\n\t\tpoweroff {\n"
		"\t\t\tlabel = \"GPIO Key Poweroff\";\n\t\t\tlinux,code = <116>;\n"
		"\t\t\tgpios = <&gpio %u 0>;\n\t\t};\n\t};\n\n",
		(unsigned)PWRBTN_LINE);
#else
	(void)o;
	(void)vm;
#endif
}

static void virtio_node(FILE *o, uint32_t slot, const char *what)
{
	uint64_t base = PLAT_VIRTIO_MMIO_BASE + (uint64_t)slot * PLAT_VIRTIO_MMIO_STRIDE;

	fprintf(o, "\tvirtio_mmio@%" PRIx64 " { /* slot %" PRIu32 ": %s */\n", base, slot, what);
	fputs("\t\tcompatible = \"virtio,mmio\";\n\t\treg = ", o);
	reg(o, base, PLAT_VIRTIO_MMIO_STRIDE);
	fputs(";\n\t\tinterrupts = ", o);
	spi(o, PLAT_VIRTIO_MMIO_INTID0 + slot, IRQ_EDGE);
	fputs(";\n\t\tdma-coherent;\n\t};\n\n", o);
}

static const char *virtio_what(const struct cfg_virtio *d)
{
	switch (d->type) {
	case CFG_VIRTIO_BLK:
		return d->backend == CFG_BLK_MEDIATED ? "virtio-blk, mediated"
						      : "virtio-blk, the hypervisor's disk";
	case CFG_VIRTIO_NET:
		return "virtio-net, a port of the hypervisor's switch";
	default:
		return "virtio-console";
	}
}

/* Passed-through board devices: virtio-mmio transports (their own node);
 * the others need a driver's node cfgc cannot know. */
static void passthrough(FILE *o, const struct cfg_vm *vm)
{
	for (unsigned i = 0; i < vm->ndevs; i++) {
		const struct cfg_passthrough *d = &vm->devs[i];
		uint64_t off = d->pa - PLAT_VIRTIO_MMIO_BASE;

		if (d->pa >= PLAT_VIRTIO_MMIO_BASE && off % PLAT_VIRTIO_MMIO_STRIDE == 0 &&
		    off / PLAT_VIRTIO_MMIO_STRIDE < PLAT_VIRTIO_MMIO_SLOTS)
			virtio_node(o, (uint32_t)(off / PLAT_VIRTIO_MMIO_STRIDE),
				    "the board's, passed through");
		else
			fprintf(o, "\t/* %s: passed through, no node (describe it by hand) */\n\n",
				d->name);
	}
}

/* The MVM's way to the hypervisor: the module binds to this node and takes
 * its interrupts (mediated requests waiting, VM state changes). */
static void syshyper_node(FILE *o, const struct cfg_vm *vm)
{
	if (vm->role != VM_ROLE_MVM)
		return;
	fputs("\tsyshyper {\n\t\tcompatible = \"syshyper,hypervisor\";\n\t\tinterrupts = ", o);
	spi(o, HC_MVM_IRQ_INTID, IRQ_EDGE);
	fputs(", ", o);
	spi(o, HC_VM_EVENT_INTID, IRQ_EDGE);
	fputs(";\n", o);
	if (vm->med_area.size)
		fputs("\t\tmemory-region = <&med_area>;\n", o);
	fputs("\t};\n\n", o);
}

void write_dts(FILE *o, unsigned v, unsigned gic)
{
	const struct cfg_vm *vm = &cfg.vms[v];

	fputs("/dts-v1/;\n\n/* Generated by tools/cfgc from ", o);
	comment_safe(o, cfg_path);
	fprintf(o, " (vm %s, GICv%u): do not edit. */\n\n/ {\n", vm->name, gic);
	fputs("\tcompatible = \"linux,dummy-virt\";\n\t#address-cells = <2>;\n"
	      "\t#size-cells = <2>;\n\tinterrupt-parent = <&gic>;\n\n",
	      o);
	chosen(o, v);
	cpus(o, vm);
	memory(o, vm);
	reserved_memory(o, vm);
	timer(o, vm, gic);
	gic_node(o, vm, gic);
	uart(o);
	power_button(o, vm);
	syshyper_node(o, vm);
	passthrough(o, vm);
	for (unsigned i = 0; i < vm->nvirtio; i++)
		virtio_node(o, vm->virtio[i].slot, virtio_what(&vm->virtio[i]));
	fputs("};\n", o);
}
