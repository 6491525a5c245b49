/* config_check() against a good configuration and against one mutation of
 * it per rule: the error's field and message, and the boundaries (regions
 * that touch pass, base + size that wraps fails). Also the QEMU virt
 * device list the checks and cfgc use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/vm_config.h"
#include "syshyper/mediated.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* The checker's limit on mediated disks must be the MVM ABI's. */
_Static_assert(MED_MAX_DISKS == 8, "config_check.c assumes 8 mediated disks");

static struct sys_config cfg;

static const struct platform_dev *pdev(const char *name)
{
	for (unsigned i = 0; i < platform_ndevs; i++)
		if (!strcmp(platform_devs[i].name, name))
			return &platform_devs[i];
	fail_msg("no platform device %s", name);
	return NULL;
}

static void set_dev(struct cfg_passthrough *d, const char *name)
{
	const struct platform_dev *p = pdev(name);

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", p->name);
	d->pa = p->pa;
	d->size = p->size;
	d->nirqs = p->nirqs;
	memcpy(d->irqs, p->irqs, sizeof(d->irqs));
}

static void add_dev(struct cfg_vm *vm, const char *name)
{
	set_dev(&vm->devs[vm->ndevs++], name);
}

static struct cfg_vm *vm_init(const char *name, uint32_t role, uint32_t cpu, uint64_t ipa,
			      uint64_t pa, uint64_t size)
{
	struct cfg_vm *vm = &cfg.vms[cfg.nvms++];

	snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm->role = role;
	vm->ncpus = 1;
	vm->cpus[0] = cpu;
	vm->nmem = 1;
	vm->mem[0] = (struct cfg_mem){.ipa = ipa, .pa = pa, .size = size};
	vm->kernel = (struct cfg_image){.pa = pa + 2 * MiB, .size = 30 * MiB};
	vm->initrd = (struct cfg_image){.pa = pa + 128 * MiB, .size = 2 * MiB};
	vm->dtb = (struct cfg_image){.pa = pa + size - 2 * MiB, .size = 0x800};
	return vm;
}

static void add_blk(struct cfg_vm *vm, uint32_t slot, uint32_t backend, uint32_t disk)
{
	vm->virtio[vm->nvirtio++] = (struct cfg_virtio){
		.type = CFG_VIRTIO_BLK,
		.slot = slot,
		.backend = backend,
		.disk = disk,
		.sectors = backend == CFG_BLK_MEDIATED ? 131072 : 0,
	};
}

/* The shape of configs/qemu-virt.cfg: an identity-mapped MVM with two
 * devices, two GVMs at IPA 1 GiB, a hypervisor disk. */
static int setup(void **state)
{
	struct cfg_vm *vm;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_base = 0x40000000;
	cfg.ram_size = 2 * GiB;
	cfg.hv_base = 0x40000000;
	cfg.hv_size = 64 * MiB;
	cfg.ncpus = 4;
	set_dev(&cfg.hv_disk, "virtio-mmio7");

	vm = vm_init("mvm", VM_ROLE_MVM, 0, 0x48000000, 0x48000000, 512 * MiB);
	vm->ncpus = 2;
	vm->cpus[1] = 1;
	add_dev(vm, "virtio-mmio31");
	add_dev(vm, "virtio-mmio30");
	vm->med_area = (struct cfg_image){.pa = 0x48000000 + 384 * MiB, .size = MED_AREA_DEFAULT};

	vm = vm_init("gvm1", VM_ROLE_GVM, 2, 0x40000000, 0x68000000, 256 * MiB);
	add_blk(vm, 31, CFG_BLK_MEDIATED, 0);

	vm = vm_init("gvm2", VM_ROLE_GVM, 3, 0x40000000, 0x78000000, 256 * MiB);
	add_blk(vm, 31, CFG_BLK_MEDIATED, 1);
	add_blk(vm, 30, CFG_BLK_HV_DRIVER, 0);
	vm->virtio[1].read_only = 1;
	return 0;
}

static struct cfg_vm *const mvm = &cfg.vms[0];
static struct cfg_vm *const gvm1 = &cfg.vms[1];
static struct cfg_vm *const gvm2 = &cfg.vms[2];

static void ok(void)
{
	struct cfg_error err;

	memset(&err, 0, sizeof(err));
	if (config_check(&cfg, platform_devs, platform_ndevs, &err))
		fail_msg("rejected: %s: %s", err.field, err.msg);
}

/* Rejected with exactly `field` and a message containing `msg`. */
static void bad(const char *field, const char *msg)
{
	struct cfg_error err;

	memset(&err, 0x5a, sizeof(err)); /* must come back NUL-terminated */
	assert_int_equal(config_check(&cfg, platform_devs, platform_ndevs, &err), -1);
	assert_non_null(memchr(err.field, 0, sizeof(err.field)));
	assert_non_null(memchr(err.msg, 0, sizeof(err.msg)));
	if (strcmp(err.field, field) || !strstr(err.msg, msg))
		fail_msg("got '%s: %s', expected '%s: ...%s...'", err.field, err.msg, field, msg);
}

/* ---------------------------------------------------------------- good */

static void test_good(void **state)
{
	(void)state;
	ok();
}

static void test_good_minimal(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_base = 0x40000000;
	cfg.ram_size = 1 * GiB;
	cfg.hv_base = 0x40000000;
	cfg.hv_size = 2 * MiB;
	cfg.ncpus = 1;
	vm_init("m", VM_ROLE_MVM, 0, 0x40200000, 0x40200000, 1 * GiB - 2 * MiB);
	cfg.vms[0].initrd = (struct cfg_image){0, 0}; /* none */
	ok();
}

/* The generated file's shape check: image sizes of 0 (cfgc --no-files). */
static void test_good_unmeasured_images(void **state)
{
	(void)state;
	for (unsigned v = 0; v < cfg.nvms; v++) {
		cfg.vms[v].kernel.size = 0;
		cfg.vms[v].initrd.size = 0;
		cfg.vms[v].dtb.size = 0;
	}
	ok();
}

/* ---------------------------------------------------------------- system */

static void test_ram(void **state)
{
	(void)state;
	cfg.ram_size = 0;
	bad("system: ram", "zero");
	setup(NULL);
	cfg.ram_base = 0xffffffffc0000000ULL;
	cfg.ram_size = 2 * GiB;
	bad("system: ram", "overflows");
	setup(NULL);
	cfg.ram_base = 0xffffffff80000000ULL; /* ends exactly at 2^64 */
	cfg.ram_size = 2 * GiB;
	bad("system: ram", "overflows");
}

/* [system] ram must be the board's RAM: below it lies the board's device
 * space (GIC, UART, virtio-mmio), which a VM's memory would otherwise map
 * (fuzz_config's oracle: a GVM given the GIC and the MVM's devices). */
static void test_ram_inside_board(void **state)
{
	(void)state;
	cfg.ram_base = 0;
	cfg.ram_size = 4 * GiB;
	bad("system: ram", "the board's RAM");
	setup(NULL);
	cfg.ram_base = 0x3fe00000; /* 2 MiB of it below the board's RAM */
	bad("system: ram", "the board's RAM");
	setup(NULL);
	cfg.ram_size = 256 * GiB; /* past the board's RAM window */
	bad("system: ram", "the board's RAM");
}

static void test_hypervisor_region(void **state)
{
	(void)state;
	cfg.hv_size = 0;
	bad("system: hypervisor", "empty");
	setup(NULL);
	cfg.hv_base = 0x3fe00000; /* starts below RAM */
	bad("system: hypervisor", "inside RAM");
	setup(NULL);
	cfg.hv_base = 0xbe000000; /* ends 32 MiB past RAM */
	bad("system: hypervisor", "inside RAM");
	setup(NULL);
	cfg.hv_base = 0xfffffffffc000000ULL;
	bad("system: hypervisor", "inside RAM");
	setup(NULL);
	/* the last 64 MiB of RAM exactly: fine (the MVM does not reach it) */
	cfg.hv_base = 0xbc000000;
	ok();
}

/* The EL2 image (link address to __hv_end, .bss included) in its region:
 * what the boot checks (the link checks the same in linker.ld). */
static void hv_image_bad(uint64_t start, uint64_t end, const char *msg)
{
	struct cfg_error err;

	memset(&err, 0x5a, sizeof(err));
	assert_int_equal(config_check_hv_image(&cfg, start, end, &err), -1);
	assert_string_equal(err.field, "system: hypervisor");
	assert_non_null(memchr(err.msg, 0, sizeof(err.msg)));
	if (!strstr(err.msg, msg))
		fail_msg("got '%s', expected '...%s...'", err.msg, msg);
}

static void test_hypervisor_image(void **state)
{
	struct cfg_error err;

	(void)state;
	/* today's image: 1.5 MiB at 0x40200000, in 0x40000000 + 64 MiB */
	assert_int_equal(config_check_hv_image(&cfg, 0x40200000, 0x40388000, &err), 0);
	/* a region of 2 MiB: the .bss is what leaves it */
	cfg.hv_size = 2 * MiB;
	hv_image_bad(0x40200000, 0x40388000,
		     "the EL2 image 0x40200000-0x40388000 (1568 KiB with .bss) is not inside the "
		     "region 0x40000000 + 0x200000");
	/* ending where the region ends: fine; a page more: not */
	cfg.hv_size = 0x388000;
	assert_int_equal(config_check_hv_image(&cfg, 0x40200000, 0x40388000, &err), 0);
	hv_image_bad(0x40200000, 0x40389000, "not inside the region 0x40000000 + 0x388000");
	/* a region that starts above the link address */
	setup(NULL);
	cfg.hv_base = 0x40400000;
	hv_image_bad(0x40200000, 0x40388000, "not inside the region 0x40400000 + 0x4000000");
	/* nonsense bounds do not pass by wrapping */
	setup(NULL);
	hv_image_bad(0x40388000, 0x40200000, "(0 KiB with .bss)");
	cfg.hv_base = 0xfffffffffc000000ULL;
	cfg.hv_size = 64 * MiB - 1;
	hv_image_bad(0xfffffffffc200000ULL, 0, "not inside");
}

static void test_system_cpus(void **state)
{
	(void)state;
	cfg.ncpus = 0;
	bad("system: cpus", "at least one");
}

static void test_vm_count(void **state)
{
	(void)state;
	cfg.nvms = 0;
	bad("system: vms", "no VM");
	setup(NULL);
	cfg.nvms = CFG_MAX_VMS + 1;
	bad("system: vms", "at most 8");
}

static void test_hv_disk(void **state)
{
	(void)state;
	cfg.hv_disk.pa += 0x100; /* not a device */
	bad("system: hv-disk", "no device");
	setup(NULL);
	cfg.hv_disk.irqs[0]++;
	bad("system: hv-disk", "interrupts");
	setup(NULL);
	memset(&cfg.hv_disk, 0, sizeof(cfg.hv_disk)); /* none: gvm2's hv disk breaks */
	bad("vm gvm2: virtio[1]", "needs the hypervisor's disk");
}

static void test_med_area(void **state)
{
	(void)state;
	mvm->med_area.size = 0;
	mvm->med_area.pa = 0;
	bad("vm mvm: mediated-area", "mediated disks need");
	gvm1->nvirtio = 0;
	gvm2->nvirtio = 0;
	ok(); /* no mediated disk: no area needed */
	setup(NULL);
	gvm1->med_area = mvm->med_area;
	bad("vm gvm1: mediated-area", "only the MVM");
	setup(NULL);
	mvm->med_area.size = MED_AREA_MIN - MED_AREA_ALIGN;
	bad("vm mvm: mediated-area", "the size must be");
	mvm->med_area.size = MED_AREA_MAX + MED_AREA_ALIGN;
	bad("vm mvm: mediated-area", "the size must be");
	mvm->med_area.size = MED_AREA_MAX;
	ok();
	mvm->med_area.size = MED_AREA_MIN + 4096;
	bad("vm mvm: mediated-area", "multiples");
	mvm->med_area.size = MED_AREA_MIN;
	ok();
	mvm->med_area.pa += 4096;
	bad("vm mvm: mediated-area", "multiples");
	setup(NULL);
	mvm->med_area.pa = 0x48000000 + 512 * MiB - 4 * MiB; /* runs past the memory */
	bad("vm mvm: mediated-area", "not inside");
	mvm->med_area.pa = 0x48000000 + 512 * MiB - MED_AREA_DEFAULT; /* the dtb is at the top */
	bad("vm mvm: mediated-area", "overlaps the dtb");
	mvm->med_area.pa = mvm->kernel.pa;
	bad("vm mvm: mediated-area", "overlaps the kernel");
}

/* ---------------------------------------------------------------- names, roles */

static void test_names(void **state)
{
	(void)state;
	gvm1->name[0] = '\0';
	bad("system: vms[1]", "needs a name");
	setup(NULL);
	memset(gvm1->name, 'x', sizeof(gvm1->name)); /* not terminated */
	bad("system: vms[1]", "needs a name");
	setup(NULL);
	strcpy(gvm2->name, "gvm1");
	bad("vm gvm1: name", "two VMs have this name");
}

static void test_roles(void **state)
{
	(void)state;
	gvm1->role = 0;
	bad("vm gvm1: role", "mvm or gvm");
	setup(NULL);
	mvm->role = VM_ROLE_GVM;
	bad("system: vms", "no VM has role = mvm");
	setup(NULL);
	gvm2->role = VM_ROLE_MVM;
	gvm2->mem[0].ipa = gvm2->mem[0].pa;
	bad("vm gvm2: role", "a second MVM: vm mvm is the MVM already");
}

/* ---------------------------------------------------------------- CPUs */

static void test_vcpu_count(void **state)
{
	(void)state;
	gvm1->ncpus = 0;
	bad("vm gvm1: cpus", "1 to 8 CPUs");
	setup(NULL);
	gvm1->ncpus = CFG_MAX_CPUS + 1;
	bad("vm gvm1: cpus", "1 to 8 CPUs");
}

static void test_cpu_exists(void **state)
{
	(void)state;
	gvm2->cpus[0] = 4; /* the system has 0..3 */
	bad("vm gvm2: cpus", "physical CPU 4 does not exist (the system has 4)");
	setup(NULL);
	cfg.ncpus = 5; /* now it does */
	gvm2->cpus[0] = 4;
	ok();
}

static void test_cpu_twice(void **state)
{
	(void)state;
	gvm2->cpus[0] = 1;
	bad("vm gvm2: cpus", "physical CPU 1 is given twice: vm mvm has it already");
	setup(NULL);
	mvm->cpus[1] = 0;
	bad("vm mvm: cpus", "physical CPU 0 is given twice to this VM");
}

/* ---------------------------------------------------------------- memory */

static void test_region_count(void **state)
{
	(void)state;
	gvm1->nmem = 0;
	bad("vm gvm1: memory", "1 to 4 memory regions");
	setup(NULL);
	gvm1->nmem = CFG_MAX_MEM + 1;
	bad("vm gvm1: memory", "1 to 4 memory regions");
}

static void test_region_empty(void **state)
{
	(void)state;
	gvm1->mem[0].size = 0;
	bad("vm gvm1: memory[0]", "empty");
}

static void test_region_alignment(void **state)
{
	(void)state;
	gvm1->mem[0].ipa += 0x1000;
	bad("vm gvm1: memory[0]", "2 MiB aligned");
	setup(NULL);
	gvm1->mem[0].pa += 1 * MiB;
	bad("vm gvm1: memory[0]", "2 MiB aligned");
	setup(NULL);
	gvm1->mem[0].size -= 0x1000;
	bad("vm gvm1: memory[0]", "2 MiB aligned");
}

static void test_region_overflow(void **state)
{
	(void)state;                              /* (the pa stays in RAM: only the ipa wraps) */
	gvm1->mem[0].ipa = 0xffffffffffe00000ULL; /* ipa + 4 MiB wraps */
	gvm1->mem[0].size = 4 * MiB;
	bad("vm gvm1: memory[0]", "overflows");
	setup(NULL);
	gvm1->mem[0].ipa = 0xffffffffffe00000ULL; /* ends exactly at 2^64 */
	gvm1->mem[0].size = 2 * MiB;
	bad("vm gvm1: memory[0]", "overflows");
	setup(NULL);
	gvm1->mem[0].pa = 0xffffffffffc00000ULL; /* pa + 256 MiB wraps to low memory */
	bad("vm gvm1: memory[0]", "overflows");
}

static void test_region_in_ram(void **state)
{
	(void)state;
	gvm2->mem[0].pa = 0xb8000000; /* 0xb8000000 + 256 MiB ends 128 MiB past RAM */
	bad("vm gvm2: memory[0]", "outside the system's RAM");
	setup(NULL);
	gvm2->mem[0].pa = 0x30000000;
	bad("vm gvm2: memory[0]", "outside the system's RAM");
	setup(NULL);
	/* the last 256 MiB of RAM exactly (images moved along) */
	gvm2->mem[0].pa = 0xb0000000;
	gvm2->kernel.pa = 0xb0200000;
	gvm2->initrd.pa = 0xb8000000;
	gvm2->dtb.pa = 0xbfe00000;
	ok();
}

static void test_region_hypervisor(void **state)
{
	(void)state;
	mvm->mem[0].ipa = mvm->mem[0].pa = 0x42000000; /* hv: 0x40000000 + 64 MiB */
	mvm->mem[0].size = 64 * MiB;
	mvm->kernel.pa = 0x44000000;
	mvm->kernel.size = 8 * MiB;
	mvm->initrd.pa = 0x45000000;
	mvm->dtb.pa = 0x45e00000;
	mvm->med_area.pa = 0x46000000;
	bad("vm mvm: memory[0]", "overlaps the hypervisor's memory");
	/* starting where the hypervisor ends: touching, fine */
	mvm->mem[0].ipa = mvm->mem[0].pa = 0x44000000;
	ok();
}

static void test_region_other_vm(void **state)
{
	(void)state;
	gvm1->mem[0].pa = 0x66000000; /* the MVM ends at 0x68000000 */
	gvm1->kernel.pa = 0x68200000;
	bad("vm gvm1: memory[0]", "overlaps memory[0] of vm mvm");
	setup(NULL);
	gvm2->mem[0].pa = 0x70000000; /* inside gvm1 */
	bad("vm gvm2: memory[0]", "overlaps memory[0] of vm gvm1");
	setup(NULL);
	/* the same IPA in two VMs is fine: different address spaces */
	assert_int_equal(gvm1->mem[0].ipa, gvm2->mem[0].ipa);
	/* gvm1 ends exactly where gvm2 starts (0x78000000): touching, fine */
	assert_int_equal(gvm1->mem[0].pa + gvm1->mem[0].size, gvm2->mem[0].pa);
	ok();
}

static void test_region_same_vm(void **state)
{
	(void)state;
	/* a second region of gvm1, right after the first in both spaces: fine */
	gvm1->mem[1] = (struct cfg_mem){.ipa = 0x50000000, .pa = 0x88000000, .size = 16 * MiB};
	gvm1->nmem = 2;
	ok();
	gvm1->mem[1].pa = 0x6fe00000; /* inside its own first region */
	bad("vm gvm1: memory[1]", "overlaps memory[0] of vm gvm1");
	gvm1->mem[1].pa = 0x88000000;
	gvm1->mem[1].ipa = 0x4fe00000; /* ipa inside the first region */
	bad("vm gvm1: memory[1]", "ipa range overlaps memory[0] of this VM");
}

static void test_mvm_identity(void **state)
{
	(void)state;
	mvm->mem[0].ipa = 0x40000000;
	bad("vm mvm: memory[0]", "identity mapped");
}

/* ---------------------------------------------------------------- images */

static void test_images_required(void **state)
{
	(void)state;
	gvm1->kernel = (struct cfg_image){0, 0};
	bad("vm gvm1: kernel", "no kernel image");
	setup(NULL);
	gvm1->dtb = (struct cfg_image){0, 0};
	bad("vm gvm1: dtb", "no dtb image");
	setup(NULL);
	gvm1->initrd = (struct cfg_image){0, 0}; /* optional */
	ok();
}

static void test_image_outside(void **state)
{
	(void)state;
	gvm1->initrd.pa = 0x48000000; /* the MVM's */
	bad("vm gvm1: initrd", "outside the VM's memory");
	setup(NULL);
	gvm1->initrd.pa = 0x78000000; /* one past the end */
	bad("vm gvm1: initrd", "outside the VM's memory");
}

static void test_image_fits(void **state)
{
	(void)state;
	/* an initrd ending exactly at the dtb, which ends exactly at the region's end */
	gvm1->dtb.pa = 0x78000000 - 0x800;
	gvm1->initrd.pa = 0x70000000;
	gvm1->initrd.size = gvm1->dtb.pa - gvm1->initrd.pa;
	ok();
	gvm1->dtb.size++;
	bad("vm gvm1: dtb", "does not fit");
	setup(NULL);
	gvm1->initrd.size = 0x08000001; /* one byte into gvm2's memory */
	gvm1->dtb.pa = 0x6fe00000;
	bad("vm gvm1: initrd", "does not fit");
	setup(NULL);
	gvm1->initrd.size = UINT64_MAX - 0x1000; /* pa + size wraps */
	bad("vm gvm1: initrd", "does not fit");
}

static void test_image_one_region(void **state)
{
	(void)state;
	/* two adjacent regions: an image may not straddle them */
	gvm1->mem[0].size = 128 * MiB; /* 0x68000000..0x70000000 */
	gvm1->mem[1] = (struct cfg_mem){.ipa = 0x48000000, .pa = 0x70000000, .size = 128 * MiB};
	gvm1->nmem = 2;
	gvm1->initrd.pa = 0x6ff00000;
	bad("vm gvm1: initrd", "does not fit");
	gvm1->initrd.pa = 0x70000000; /* in the second region: fine */
	ok();
}

static void test_images_overlap(void **state)
{
	(void)state;
	gvm1->initrd.pa = gvm1->kernel.pa + gvm1->kernel.size - 1;
	bad("vm gvm1: initrd", "overlaps the kernel image");
	gvm1->initrd.pa = gvm1->kernel.pa + gvm1->kernel.size; /* touching: fine */
	ok();
	gvm1->dtb.pa = gvm1->initrd.pa + 0x1000;
	bad("vm gvm1: dtb", "overlaps the initrd image");
	setup(NULL);
	/* sizes unknown (cfgc --no-files): the same address still clashes */
	gvm1->kernel.size = gvm1->dtb.size = 0;
	gvm1->dtb.pa = gvm1->kernel.pa;
	bad("vm gvm1: dtb", "overlaps the kernel image");
}

static void test_image_alignment(void **state)
{
	(void)state;
	gvm1->kernel.pa += 0x1000;
	bad("vm gvm1: kernel", "2 MiB aligned");
	setup(NULL);
	gvm1->dtb.pa += 4;
	bad("vm gvm1: dtb", "8-byte aligned");
	setup(NULL);
	gvm1->dtb.pa += 8;
	gvm1->initrd.pa += 1; /* an initrd needs no alignment */
	ok();
}

static void test_dtb_size(void **state)
{
	(void)state;
	gvm1->dtb.pa = 0x77c00000;
	gvm1->dtb.size = 2 * MiB;
	ok();
	gvm1->dtb.size++;
	bad("vm gvm1: dtb", "more than 2 MiB");
}

/* ---------------------------------------------------------------- devices */

static void test_device_exists(void **state)
{
	(void)state;
	mvm->devs[1].pa = 0x09000000; /* the UART: the hypervisor's */
	mvm->devs[1].size = 0x1000;
	bad("vm mvm: device[1]", "no device at 0x9000000");
	setup(NULL);
	mvm->devs[1].size = 0x1000; /* right address, wrong size */
	bad("vm mvm: device[1]", "no device");
	setup(NULL);
	mvm->devs[0].irqs[0] = 33;
	bad("vm mvm: device[0]", "interrupts of virtio-mmio31 differ");
	setup(NULL);
	mvm->devs[0].nirqs = 2;
	bad("vm mvm: device[0]", "interrupts");
	setup(NULL);
	mvm->devs[0].nirqs = 0;
	bad("vm mvm: device[0]", "interrupts");
}

static void test_device_count(void **state)
{
	(void)state;
	mvm->ndevs = CFG_MAX_DEVS + 1;
	bad("vm mvm: device", "at most 8");
}

static void test_device_twice_same_vm(void **state)
{
	(void)state;
	set_dev(&mvm->devs[1], "virtio-mmio31");
	bad("vm mvm: device[1]", "virtio-mmio31 is given twice to this VM");
}

static void test_device_two_vms(void **state)
{
	(void)state;
	add_dev(gvm2, "virtio-mmio31");
	gvm2->nvirtio = 0; /* not to clash with its emulated slot 31 */
	bad("vm gvm2: device[0]", "virtio-mmio31 is given to two VMs: vm mvm has it already");
	setup(NULL);
	/* virtio-mmio29 shares a 4 KiB page with the MVM's virtio-mmio30 and 31 */
	add_dev(gvm1, "virtio-mmio29");
	gvm1->nvirtio = 0;
	bad("vm gvm1: device[0]", "shares a 4 KiB page with device[0] of vm mvm");
	setup(NULL);
	/* virtio-mmio23 is on the page before (slots 24..31 share one): fine */
	add_dev(gvm1, "virtio-mmio23");
	ok();
	add_dev(gvm1, "pl031");
	add_dev(gvm2, "pl061");
	ok();
}

static void test_device_hv_disk(void **state)
{
	(void)state;
	add_dev(gvm1, "virtio-mmio6"); /* shares virtio-mmio7's page */
	bad("vm gvm1: device[0]", "the hypervisor's disk");
	setup(NULL);
	add_dev(gvm1, "virtio-mmio7");
	bad("vm gvm1: device[0]", "the hypervisor's disk");
}

static void test_device_in_memory(void **state)
{
	(void)state;
	/* a GVM whose memory covers the virtio-mmio window at its IPA */
	gvm1->mem[0].ipa = 0x0a000000;
	gvm1->nvirtio = 0;
	add_dev(gvm1, "pl031");
	ok(); /* 0x09010000 is below */
	add_dev(gvm1, "virtio-mmio8");
	bad("vm gvm1: device[1]", "lies in this VM's memory[0]");
}

/* ---------------------------------------------------------------- virtio */

static void test_virtio_count(void **state)
{
	(void)state;
	gvm1->nvirtio = CFG_MAX_VIRTIO + 1;
	bad("vm gvm1: virtio", "at most 4");
}

static void test_virtio_slot(void **state)
{
	(void)state;
	gvm1->virtio[0].slot = 32;
	bad("vm gvm1: virtio[0]", "slots 0 to 31");
	setup(NULL);
	gvm2->virtio[1].slot = 31;
	bad("vm gvm2: virtio[1]", "slot 31 is used twice");
	setup(NULL);
	gvm1->virtio[0].slot = 0;
	gvm1->mem[0].ipa = 0x0a000000;
	bad("vm gvm1: virtio[0]", "lies in this VM's memory[0]");
	setup(NULL);
	gvm1->virtio[0].slot = 8;
	add_dev(gvm1, "virtio-mmio9"); /* the page of slots 8..15 */
	bad("vm gvm1: virtio[0]", "slot 8 shares a 4 KiB page with device[0] of this VM");
}

static void test_virtio_fields(void **state)
{
	(void)state;
	gvm1->virtio[0].type = 0;
	bad("vm gvm1: virtio[0]", "unknown virtio device type");
	setup(NULL);
	gvm1->virtio[0].backend = 3;
	bad("vm gvm1: virtio[0]", "mediated or hv");
	setup(NULL);
	gvm1->virtio[0].read_only = 2;
	bad("vm gvm1: virtio[0]", "read_only");
}

/* A switch port's storm control: rate 0 (no limit) or 1 to 10^6 frames/s
 * with a burst of 1 to 65536; only on virtio-net. */
static void test_virtio_net_flood_limit(void **state)
{
	struct cfg_virtio *n = &gvm1->virtio[gvm1->nvirtio++];

	(void)state;
	*n = (struct cfg_virtio){
		.type = CFG_VIRTIO_NET, .slot = 29, .mac = {0x52, 0x54, 0, 0, 0, 1}};
	ok(); /* no limit, as a configuration built before the keys */
	n->flood_rate = 1000;
	n->flood_burst = 64;
	ok();
	n->flood_rate = CFG_FLOOD_MAX_RATE;
	n->flood_burst = CFG_FLOOD_MAX_BURST;
	ok();
	n->flood_rate = CFG_FLOOD_MAX_RATE + 1;
	bad("vm gvm1: virtio[1]", "flood-rate 1000001: at most 1000000");
	n->flood_rate = 1;
	n->flood_burst = 0;
	bad("vm gvm1: virtio[1]", "flood-burst 0: 1 to 65536");
	n->flood_burst = CFG_FLOOD_MAX_BURST + 1;
	bad("vm gvm1: virtio[1]", "flood-burst 65537");
	n->flood_rate = 0;
	n->flood_burst = 64;
	bad("vm gvm1: virtio[1]", "flood-burst without a limit");
	n->flood_burst = 0;
	gvm1->virtio[0].flood_rate = 10; /* the disk */
	bad("vm gvm1: virtio[0]", "not virtio-net");
}

static void test_virtio_mediated(void **state)
{
	(void)state;
	gvm1->virtio[0].sectors = 0;
	bad("vm gvm1: virtio[0]", "needs a size");
	setup(NULL);
	gvm1->virtio[0].disk = MED_MAX_DISKS - 1;
	ok();
	gvm1->virtio[0].disk = MED_MAX_DISKS;
	bad("vm gvm1: virtio[0]", "disks 0 to 7");
	setup(NULL);
	gvm2->virtio[0].disk = 0;
	bad("vm gvm2: virtio[0]", "mediated disk 0 is used twice (also by virtio[0] of vm gvm1)");
	setup(NULL);
	/* the hv backend (the whole hypervisor's disk) may be shared read-only */
	add_blk(gvm1, 30, CFG_BLK_HV_DRIVER, 0);
	gvm1->virtio[1].read_only = 1;
	ok();
	gvm1->virtio[1].read_only = 0; /* gvm1 could write what gvm2 reads */
	bad("vm gvm2: virtio[1]", "hypervisor's disk is also virtio[1] of vm gvm1");
}

/* ---------------------------------------------------------------- the board */

static void test_platform_devices(void **state)
{
	(void)state;
	assert_int_equal(platform_ndevs, 34);
	for (unsigned n = 0; n < 32; n++) {
		char name[16];
		snprintf(name, sizeof(name), "virtio-mmio%u", n);
		const struct platform_dev *p = pdev(name);
		assert_int_equal(p->pa, 0x0a000000 + n * 0x200);
		assert_int_equal(p->size, 0x200);
		assert_int_equal(p->nirqs, 1);
		assert_int_equal(p->irqs[0], 32 + 16 + n);
	}
	assert_int_equal(pdev("pl031")->pa, 0x09010000);
	assert_int_equal(pdev("pl031")->size, 0x1000);
	assert_int_equal(pdev("pl031")->irqs[0], 34);
	assert_int_equal(pdev("pl061")->pa, 0x09030000);
	assert_int_equal(pdev("pl061")->size, 0x1000);
	assert_int_equal(pdev("pl061")->irqs[0], 39);
	for (unsigned i = 0; i < platform_ndevs; i++) {
		/* the UART and the GIC are the hypervisor's */
		assert_false(platform_devs[i].pa >= 0x08000000 && platform_devs[i].pa < 0x09001000);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(platform_devs[i].name, platform_devs[j].name);
	}
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_good),
		T(test_good_minimal),
		T(test_good_unmeasured_images),
		T(test_ram),
		T(test_ram_inside_board),
		T(test_hypervisor_region),
		T(test_hypervisor_image),
		T(test_system_cpus),
		T(test_vm_count),
		T(test_hv_disk),
		T(test_med_area),
		T(test_names),
		T(test_roles),
		T(test_vcpu_count),
		T(test_cpu_exists),
		T(test_cpu_twice),
		T(test_region_count),
		T(test_region_empty),
		T(test_region_alignment),
		T(test_region_overflow),
		T(test_region_in_ram),
		T(test_region_hypervisor),
		T(test_region_other_vm),
		T(test_region_same_vm),
		T(test_mvm_identity),
		T(test_images_required),
		T(test_image_outside),
		T(test_image_fits),
		T(test_image_one_region),
		T(test_images_overlap),
		T(test_image_alignment),
		T(test_dtb_size),
		T(test_device_exists),
		T(test_device_count),
		T(test_device_twice_same_vm),
		T(test_device_two_vms),
		T(test_device_hv_disk),
		T(test_device_in_memory),
		T(test_virtio_count),
		T(test_virtio_slot),
		T(test_virtio_fields),
		T(test_virtio_net_flood_limit),
		T(test_virtio_mediated),
		T(test_platform_devices),
	};

	return cmocka_run_group_tests_name("config_check", tests, NULL, NULL);
}
