/* Boot of the hypervisor: CPU 0 sets up the machine and the VMs, starts
 * the other CPUs, and every CPU then runs the vCPU pinned to it. */
#include "arch/arm64/arch.h"
#include "blk/blk_hv_backend.h"
#include "console/console.h"
#include "drivers/dt.h"
#include "drivers/gic.h"
#include "core/entry.h"
#include "core/stats.h"
#include "core/vcpu.h"
#include "core/page_alloc.h"
#include "core/percpu.h"
#include "platform/board.h"
#include "core/print.h"
#include "drivers/uart.h"
#include "core/vm.h"

extern char __hv_start[], __hv_end[]; /* the board's linker.ld */

struct pcpu pcpus[MAX_PCPUS];
unsigned nr_pcpus;

uint64_t pcpu_mpidr(unsigned pcpu)
{
	return pcpu < MAX_PCPUS ? pcpus[pcpu].mpidr : 0;
}

static void percpu_init(unsigned id)
{
	struct pcpu *cpu = this_cpu();

	cpu->id = id;
	cpu->mpidr = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
}

/* MPIDRs of the board's CPUs, in DT order (the index is our CPU id). */
static void collect_cpu(const void *fdt, int node, void *arg)
{
	uint64_t reg, size;

	(void)arg;
	if (nr_pcpus < MAX_PCPUS && dt_get_reg(fdt, node, 0, &reg, &size) == 0)
		pcpus[nr_pcpus++].mpidr = reg;
}

static void check_config(void)
{
	struct cfg_error err;

	if (config_check(&sys_config, platform_devs, platform_ndevs, &err))
		panic("configuration rejected: %s: %s\n", err.field, err.msg);
	/* the link checked it too: this holds an image linked or loaded otherwise */
	if (config_check_hv_image(&sys_config, (uint64_t)__hv_start, (uint64_t)__hv_end, &err))
		panic("configuration rejected: %s: %s\n", err.field, err.msg);
	if (sys_config.ncpus > nr_pcpus)
		panic("configuration rejected: system: cpus: %u configured, the board has %u\n",
		      sys_config.ncpus, nr_pcpus);
}

static void start_secondaries(void)
{
	for (unsigned i = 1; i < nr_pcpus && i < sys_config.ncpus; i++) {
		int64_t r = psci_cpu_on(pcpus[i].mpidr, (uint64_t)secondary_entry, i);
		if (r)
			printk("CPU %u did not start (PSCI %ld)\n", i, (long)r);
	}
}

static void cpu_common_init(void)
{
	mmu_enable_el2();
	gic_cpu_init();
	hv_timer_init();
	this_cpu()->online = true;
}

void hv_main(void)
{
	const void *fdt = (const void *)PLAT_DTB_ADDR;

	uart_init(PLAT_UART_BASE);
	console_init();
	printk("sysHyper starting at EL%lu\n", (unsigned long)(read_sysreg(CurrentEL) >> 2));
	if (dt_check(fdt))
		panic("no valid device tree at 0x%lx\n", PLAT_DTB_ADDR);
	dt_for_each_child(fdt, dt_path_offset(fdt, "/cpus"), "cpu@", collect_cpu, NULL);
	percpu_init(0);
	check_config();
	if (gic_probe(fdt))
		panic("no supported GIC in the device tree\n");
	printk("%u CPUs, GICv%d, %lu MiB RAM\n", nr_pcpus, gic.version,
	       (unsigned long)(sys_config.ram_size >> 20));
	mmu_build_el2_tables(sys_config.ram_base, sys_config.ram_size);
	palloc_init((paddr_t)__hv_end, sys_config.hv_base + sys_config.hv_size - (paddr_t)__hv_end);
	gic_init();
	cpu_common_init();
	gic_route_spi(PLAT_UART_IRQ, 0);
	gic_enable(PLAT_UART_IRQ, true);
	uart_enable_rx_irq();
	if (sys_config.hv_disk.pa && blk_hv_backend_init(sys_config.hv_disk.pa))
		printk("hypervisor disk %s unusable: GVM disks on it will fail\n",
		       sys_config.hv_disk.name);
	if (vms_create_all())
		panic("VM creation failed\n");
	start_secondaries();
	vms_start_all();
	pcpu_idle();
}

void secondary_main(unsigned id)
{
	percpu_init(id);
	cpu_common_init();
	pcpu_idle();
}
