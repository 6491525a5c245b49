/* Validation of the system configuration (see vm_config.h). Freestanding:
 * it runs in tools/cfgc at build time and in the hypervisor at boot. */
#include "vm_config.h"

#include <stddef.h>

int snprintf(char *buf, size_t size, const char *fmt, ...);

#define SZ_2M 0x200000ULL
#define PAGE 0x1000ULL

/* Fills `e` with "vm NAME: field[idx]" (or "system: field") and msg. */
static int fail(struct cfg_error *e, const char *vm, const char *field, int idx, const char *msg)
{
	const char *who = vm ? vm : "system";
	const char *pre = vm ? "vm " : "";

	if (idx >= 0)
		snprintf(e->field, sizeof(e->field), "%s%s: %s[%d]", pre, who, field, idx);
	else
		snprintf(e->field, sizeof(e->field), "%s%s: %s", pre, who, field);
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return -1;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* [a, a+as) and [b, b+bs) intersect (sizes > 0, no overflow). */
static int overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

static int wraps(uint64_t base, uint64_t size)
{
	return base + size < base;
}

static int check_cpus(const struct sys_config *c, unsigned v, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	char msg[128];

	if (vm->ncpus == 0 || vm->ncpus > CFG_MAX_CPUS)
		return fail(e, vm->name, "cpus", -1, "a VM needs 1 to 8 CPUs");
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->cpus[i] >= c->ncpus) {
			snprintf(msg, sizeof(msg), "physical CPU %u does not exist (the system has %u)",
				 vm->cpus[i], c->ncpus);
			return fail(e, vm->name, "cpus", -1, msg);
		}
		for (unsigned w = 0; w <= v; w++)
			for (unsigned j = 0; j < (w == v ? i : c->vms[w].ncpus); j++)
				if (c->vms[w].cpus[j] == vm->cpus[i]) {
					snprintf(msg, sizeof(msg),
						 "physical CPU %u is already given to vm %s",
						 vm->cpus[i], c->vms[w].name);
					return fail(e, vm->name, "cpus", -1, msg);
				}
	}
	return 0;
}

static int check_memory(const struct sys_config *c, unsigned v, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	char msg[128];

	if (vm->nmem == 0 || vm->nmem > CFG_MAX_MEM)
		return fail(e, vm->name, "memory", -1, "a VM needs 1 to 4 memory regions");
	for (unsigned i = 0; i < vm->nmem; i++) {
		const struct cfg_mem *m = &vm->mem[i];
		if (m->size == 0)
			return fail(e, vm->name, "memory", (int)i, "size is zero");
		if ((m->ipa | m->pa | m->size) & (SZ_2M - 1))
			return fail(e, vm->name, "memory", (int)i, "not 2 MiB aligned");
		if (wraps(m->ipa, m->size) || wraps(m->pa, m->size))
			return fail(e, vm->name, "memory", (int)i, "base + size overflows");
		if (m->pa < c->ram_base || m->pa + m->size > c->ram_base + c->ram_size)
			return fail(e, vm->name, "memory", (int)i, "outside the system's RAM");
		if (overlaps(m->pa, m->size, c->hv_base, c->hv_size))
			return fail(e, vm->name, "memory", (int)i, "overlaps the hypervisor's memory");
		if (vm->role == VM_ROLE_MVM && m->ipa != m->pa)
			return fail(e, vm->name, "memory", (int)i,
				    "the MVM must be identity mapped (ipa = pa): its devices DMA");
		for (unsigned w = 0; w <= v; w++)
			for (unsigned j = 0; j < (w == v ? i : c->vms[w].nmem); j++)
				if (overlaps(m->pa, m->size, c->vms[w].mem[j].pa,
					     c->vms[w].mem[j].size)) {
					snprintf(msg, sizeof(msg), "overlaps memory[%u] of vm %s", j,
						 c->vms[w].name);
					return fail(e, vm->name, "memory", (int)i, msg);
				}
	}
	return 0;
}

/* Index of the memory region holding [pa, pa+size), or -1. */
static int region_of(const struct cfg_vm *vm, uint64_t pa, uint64_t size)
{
	for (unsigned i = 0; i < vm->nmem; i++) {
		const struct cfg_mem *m = &vm->mem[i];
		if (pa >= m->pa && pa - m->pa < m->size && size <= m->size - (pa - m->pa))
			return (int)i;
	}
	return -1;
}

static int check_images(const struct cfg_vm *vm, struct cfg_error *e)
{
	const struct cfg_image *img[3] = {&vm->kernel, &vm->initrd, &vm->dtb};
	static const char *const names[3] = {"kernel", "initrd", "dtb"};

	for (unsigned i = 0; i < 3; i++) {
		if (img[i]->pa == 0 && i != 1)
			return fail(e, vm->name, names[i], -1, "missing");
		if (img[i]->pa == 0)
			continue;
		if (region_of(vm, img[i]->pa, img[i]->size ? img[i]->size : 1) < 0)
			return fail(e, vm->name, names[i], -1,
				    "does not fit inside the VM's memory at that address");
		for (unsigned j = 0; j < i; j++)
			if (img[j]->pa && overlaps(img[i]->pa, img[i]->size ? img[i]->size : 1,
						   img[j]->pa, img[j]->size ? img[j]->size : 1))
				return fail(e, vm->name, names[i], -1, "overlaps another image");
	}
	if (vm->kernel.pa & (SZ_2M - 1))
		return fail(e, vm->name, "kernel", -1, "must be loaded 2 MiB aligned");
	if ((vm->dtb.pa & 7) || vm->dtb.size > SZ_2M)
		return fail(e, vm->name, "dtb", -1, "must be 8-byte aligned and at most 2 MiB");
	return 0;
}

static const struct platform_dev *find_dev(const struct platform_dev *devs, unsigned n,
					   uint64_t pa, uint64_t size)
{
	for (unsigned i = 0; i < n; i++)
		if (devs[i].pa == pa && devs[i].size == size)
			return &devs[i];
	return NULL;
}

static int same_page(uint64_t a, uint64_t b)
{
	return (a & ~(PAGE - 1)) == (b & ~(PAGE - 1));
}

static int check_devices(const struct sys_config *c, unsigned v, const struct platform_dev *devs,
			 unsigned ndevs, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	char msg[128];

	if (vm->ndevs > CFG_MAX_DEVS)
		return fail(e, vm->name, "device", -1, "too many devices");
	for (unsigned i = 0; i < vm->ndevs; i++) {
		const struct cfg_passthrough *d = &vm->devs[i];
		if (!find_dev(devs, ndevs, d->pa, d->size))
			return fail(e, vm->name, "device", (int)i, "no such device on this board");
		if (c->hv_disk.pa && same_page(d->pa, c->hv_disk.pa))
			return fail(e, vm->name, "device", (int)i,
				    "shares its page with the hypervisor's disk");
		for (unsigned w = 0; w < c->nvms; w++) {
			if (w == v)
				continue;
			for (unsigned j = 0; j < c->vms[w].ndevs; j++)
				if (same_page(d->pa, c->vms[w].devs[j].pa)) {
					snprintf(msg, sizeof(msg),
						 "%s is (or shares a 4 KiB page with) a device of vm %s",
						 d->name, c->vms[w].name);
					return fail(e, vm->name, "device", (int)i, msg);
				}
		}
	}
	return 0;
}

static int check_virtio(const struct sys_config *c, unsigned v, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];

	if (vm->nvirtio > CFG_MAX_VIRTIO)
		return fail(e, vm->name, "virtio", -1, "too many virtio devices");
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		const struct cfg_virtio *d = &vm->virtio[i];
		if (d->slot >= 32)
			return fail(e, vm->name, "virtio", (int)i, "slot must be 0-31");
		for (unsigned j = 0; j < i; j++)
			if (vm->virtio[j].slot == d->slot)
				return fail(e, vm->name, "virtio", (int)i, "slot used twice");
		for (unsigned j = 0; j < vm->ndevs; j++)
			if (same_page(vm->devs[j].pa, 0x0a000000ULL + d->slot * 0x200ULL))
				return fail(e, vm->name, "virtio", (int)i,
					    "slot shares a page with a passthrough device");
		if (d->type != CFG_VIRTIO_BLK)
			continue;
		if (d->backend == CFG_BLK_HV_DRIVER && !c->hv_disk.pa)
			return fail(e, vm->name, "virtio", (int)i,
				    "backend hv needs a hypervisor disk (system: hv-disk)");
		if (d->backend == CFG_BLK_MEDIATED && (d->sectors == 0 || d->disk >= 8))
			return fail(e, vm->name, "virtio", (int)i,
				    "a mediated disk needs a capacity and an index 0-7");
		for (unsigned w = 0; w <= v; w++)
			for (unsigned j = 0; j < (w == v ? i : c->vms[w].nvirtio); j++) {
				const struct cfg_virtio *o = &c->vms[w].virtio[j];
				if (o->type == CFG_VIRTIO_BLK && o->backend == d->backend &&
				    o->disk == d->disk && d->backend == CFG_BLK_MEDIATED)
					return fail(e, vm->name, "virtio", (int)i,
						    "mediated disk index used twice");
			}
	}
	return 0;
}

int config_check(const struct sys_config *c, const struct platform_dev *devs, unsigned ndevs,
		 struct cfg_error *e)
{
	unsigned mvms = 0;

	if (c->ram_size == 0 || wraps(c->ram_base, c->ram_size))
		return fail(e, NULL, "ram", -1, "empty or overflowing");
	if (c->hv_size == 0 || c->hv_base < c->ram_base ||
	    c->hv_base + c->hv_size > c->ram_base + c->ram_size)
		return fail(e, NULL, "hypervisor", -1, "must lie inside RAM");
	if (c->ncpus == 0 || c->ncpus > CFG_MAX_CPUS)
		return fail(e, NULL, "cpus", -1, "1 to 8 physical CPUs");
	if (c->nvms == 0 || c->nvms > CFG_MAX_VMS)
		return fail(e, NULL, "vms", -1, "1 to 8 VMs are needed");
	if (c->hv_disk.pa && !find_dev(devs, ndevs, c->hv_disk.pa, c->hv_disk.size))
		return fail(e, NULL, "hv-disk", -1, "no such device on this board");
	for (unsigned v = 0; v < c->nvms; v++) {
		const struct cfg_vm *vm = &c->vms[v];
		if (!vm->name[0])
			return fail(e, NULL, "vms", (int)v, "a VM needs a name");
		for (unsigned w = 0; w < v; w++)
			if (streq(vm->name, c->vms[w].name))
				return fail(e, vm->name, "name", -1, "two VMs have this name");
		if (vm->role != VM_ROLE_MVM && vm->role != VM_ROLE_GVM)
			return fail(e, vm->name, "role", -1, "must be mvm or gvm");
		mvms += vm->role == VM_ROLE_MVM;
		if (check_cpus(c, v, e) || check_memory(c, v, e) || check_images(vm, e) ||
		    check_devices(c, v, devs, ndevs, e) || check_virtio(c, v, e))
			return -1;
	}
	if (mvms != 1)
		return fail(e, NULL, "vms", -1, "exactly one VM must have role = mvm");
	return 0;
}
