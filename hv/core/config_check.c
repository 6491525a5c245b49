/* Validation of the system configuration (see vm_config.h).
 *
 * The same code runs in tools/cfgc at build time and in the hypervisor at
 * boot, so it is freestanding: no libc, only the tiny string builder below.
 * Every rejection names a field ("system: hypervisor", "vm gvm1: memory[0]")
 * that cfgc maps back to a line of the .cfg file, and says why. */
#include "core/vm_config.h"

#include <stdarg.h>
#include <stddef.h>

#include "syshyper/mediated.h" /* the mediated area's bounds */

#define SZ_4K 0x1000ULL
#define SZ_2M 0x200000ULL
#define DTB_MAX_SIZE SZ_2M /* arm64 Linux boot protocol */

/* The board's virtio-mmio window, as vm_config.h describes struct cfg_virtio. */

/* Disks the mediated backend can serve: MED_MAX_DISKS of
 * include/syshyper/mediated.h (tests/unit/test_config.c asserts they agree). */
#define MEDIATED_MAX_DISKS 8

/* ---------------------------------------------------------------- strings */

struct sbuf {
	char *buf;
	size_t cap; /* including the terminating NUL */
	size_t len;
};

static void sb_init(struct sbuf *b, char *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	buf[0] = '\0';
}

/* Appends one character; silently truncates when full. */
static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->buf[b->len++] = c;
		b->buf[b->len] = '\0';
	}
}

static void sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static void sb_putnum(struct sbuf *b, unsigned long long v, unsigned base)
{
	char digits[24];
	unsigned n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		sb_putc(b, digits[--n]);
}

/* A printf subset: %s %d %u %llu %llx (hex with "0x") and %%. The format
 * attribute lets the compiler check the arguments against these. */
static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sb_putc(b, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == 's') {
			sb_puts(b, va_arg(ap, const char *));
		} else if (*fmt == 'u') {
			sb_putnum(b, va_arg(ap, unsigned), 10);
		} else if (*fmt == 'd') {
			int v = va_arg(ap, int);
			if (v < 0)
				sb_putc(b, '-');
			sb_putnum(b, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v,
				  10);
		} else if (fmt[0] == 'l' && fmt[1] == 'l' && (fmt[2] == 'u' || fmt[2] == 'x')) {
			fmt += 2;
			if (*fmt == 'x')
				sb_puts(b, "0x");
			sb_putnum(b, va_arg(ap, unsigned long long), *fmt == 'x' ? 16 : 10);
		} else if (*fmt == '%') {
			sb_putc(b, '%');
		} else {
			break; /* unsupported: stop rather than misread the arguments */
		}
	}
	va_end(ap);
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* A name field must be a NUL-terminated, non-empty string. */
static int name_ok(const char *name, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (name[i] == '\0')
			return i > 0;
	return 0;
}

/* ---------------------------------------------------------------- errors */

/* Names the field: "system: KEY" (vm NULL) or "vm NAME: KEY" / "vm NAME: KEY[idx]"
 * (idx >= 0), clears the message, and returns the builder for the message. */
static struct sbuf *report(struct cfg_error *e, const struct cfg_vm *vm, const char *key, int idx,
			   struct sbuf *msg)
{
	struct sbuf f;

	sb_init(&f, e->field, sizeof(e->field));
	if (vm)
		sb_printf(&f, "vm %s: %s", vm->name, key);
	else
		sb_printf(&f, "system: %s", key);
	if (idx >= 0)
		sb_printf(&f, "[%d]", idx);
	sb_init(msg, e->msg, sizeof(e->msg));
	return msg;
}

/* The common case: a fixed message. Returns -1. */
static int fail(struct cfg_error *e, const struct cfg_vm *vm, const char *key, int idx,
		const char *text)
{
	struct sbuf m;

	sb_puts(report(e, vm, key, idx, &m), text);
	return -1;
}

/* ---------------------------------------------------------------- ranges */

/* base + size does not wrap (an end of exactly 2^64 counts as wrapping). */
static int range_ok(uint64_t base, uint64_t size)
{
	return base + size >= base && (size == 0 || base + size != 0);
}

/* Half-open [a, a+as) and [b, b+bs) intersect; both ranges valid, sizes > 0. */
static int overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* [inner, inner+is) lies within [outer, outer+os); written so nothing wraps. */
static int contains(uint64_t outer, uint64_t os, uint64_t inner, uint64_t is)
{
	return inner >= outer && inner - outer <= os && is <= os - (inner - outer);
}

/* The 4 KiB pages of two MMIO ranges intersect (stage 2 maps whole pages). */
static int share_page(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	uint64_t a0 = a & ~(SZ_4K - 1), b0 = b & ~(SZ_4K - 1);
	uint64_t a1 = (a + as + SZ_4K - 1) & ~(SZ_4K - 1);
	uint64_t b1 = (b + bs + SZ_4K - 1) & ~(SZ_4K - 1);

	return a0 < b1 && b0 < a1;
}

static uint64_t virtio_slot_ipa(uint32_t slot)
{
	return PLAT_VIRTIO_MMIO_BASE + (uint64_t)slot * PLAT_VIRTIO_MMIO_STRIDE;
}

/* ---------------------------------------------------------------- system */

static const struct platform_dev *find_platform_dev(const struct platform_dev *devs, unsigned n,
						    uint64_t pa, uint64_t size)
{
	for (unsigned i = 0; i < n; i++)
		if (devs[i].pa == pa && devs[i].size == size)
			return &devs[i];
	return NULL;
}

static int same_irqs(const struct cfg_passthrough *d, const struct platform_dev *p)
{
	if (d->nirqs != p->nirqs || d->nirqs > CFG_MAX_IRQS)
		return 0;
	for (unsigned i = 0; i < d->nirqs; i++)
		if (d->irqs[i] != p->irqs[i])
			return 0;
	return 1;
}

int config_check_hv_image(const struct sys_config *c, uint64_t start, uint64_t end,
			  struct cfg_error *e)
{
	struct sbuf m;

	if (end >= start && contains(c->hv_base, c->hv_size, start, end - start))
		return 0;
	sb_printf(
		report(e, NULL, "hypervisor", -1, &m),
		"the EL2 image %llx-%llx (%llu KiB with .bss) is not inside the region %llx + %llx",
		(unsigned long long)start, (unsigned long long)end,
		(unsigned long long)(end >= start ? (end - start) >> 10 : 0),
		(unsigned long long)c->hv_base, (unsigned long long)c->hv_size);
	return -1;
}

static int check_system(const struct sys_config *c, const struct platform_dev *devs, unsigned ndevs,
			struct cfg_error *e)
{
	struct sbuf m;

	if (c->ram_size == 0)
		return fail(e, NULL, "ram", -1, "RAM size is zero");
	if (!range_ok(c->ram_base, c->ram_size))
		return fail(e, NULL, "ram", -1, "base + size overflows");
	if (!contains(platform_ram_base, platform_ram_size, c->ram_base, c->ram_size)) {
		sb_printf(report(e, NULL, "ram", -1, &m),
			  "must lie inside the board's RAM (%llx + %llx): below it are devices",
			  (unsigned long long)platform_ram_base,
			  (unsigned long long)platform_ram_size);
		return -1;
	}
	if (c->hv_size == 0)
		return fail(e, NULL, "hypervisor", -1, "the hypervisor's region is empty");
	if (!range_ok(c->hv_base, c->hv_size) ||
	    !contains(c->ram_base, c->ram_size, c->hv_base, c->hv_size)) {
		sb_printf(report(e, NULL, "hypervisor", -1, &m),
			  "the hypervisor's region must lie inside RAM (%llx + %llx)",
			  (unsigned long long)c->ram_base, (unsigned long long)c->ram_size);
		return -1;
	}
	if (c->ncpus == 0)
		return fail(e, NULL, "cpus", -1, "the system needs at least one CPU");
	if (c->nvms == 0)
		return fail(e, NULL, "vms", -1, "no VM is configured");
	if (c->nvms > CFG_MAX_VMS) {
		sb_printf(report(e, NULL, "vms", -1, &m), "%u VMs: at most %u are supported",
			  c->nvms, CFG_MAX_VMS);
		return -1;
	}
	if (c->hv_disk.pa || c->hv_disk.size) {
		const struct platform_dev *p =
			find_platform_dev(devs, ndevs, c->hv_disk.pa, c->hv_disk.size);
		if (!p) {
			sb_printf(report(e, NULL, "hv-disk", -1, &m),
				  "no device at %llx (size %llx) on this board",
				  (unsigned long long)c->hv_disk.pa,
				  (unsigned long long)c->hv_disk.size);
			return -1;
		}
		if (!same_irqs(&c->hv_disk, p))
			return fail(e, NULL, "hv-disk", -1,
				    "interrupts differ from the board's device");
	}
	return 0;
}

/* Names, roles and the single MVM, before anything prints a VM's name. */
static int check_vm_identities(const struct sys_config *c, struct cfg_error *e)
{
	const struct cfg_vm *mvm = NULL;
	struct sbuf m;

	for (unsigned v = 0; v < c->nvms; v++) {
		const struct cfg_vm *vm = &c->vms[v];
		if (!name_ok(vm->name, sizeof(vm->name))) {
			sb_printf(report(e, NULL, "vms", (int)v, &m),
				  "VM %u needs a name of 1 to %u characters", v, CFG_NAME_LEN - 1);
			return -1;
		}
		for (unsigned w = 0; w < v; w++)
			if (str_eq(vm->name, c->vms[w].name))
				return fail(e, vm, "name", -1, "two VMs have this name");
	}
	for (unsigned v = 0; v < c->nvms; v++) {
		const struct cfg_vm *vm = &c->vms[v];
		if (vm->role != VM_ROLE_MVM && vm->role != VM_ROLE_GVM)
			return fail(e, vm, "role", -1, "role must be mvm or gvm");
		if (vm->role != VM_ROLE_MVM)
			continue;
		if (mvm) {
			sb_printf(report(e, vm, "role", -1, &m),
				  "a second MVM: vm %s is the MVM already (exactly one is needed)",
				  mvm->name);
			return -1;
		}
		mvm = vm;
	}
	if (!mvm)
		return fail(e, NULL, "vms", -1, "no VM has role = mvm (exactly one is needed)");
	return 0;
}

/* ---------------------------------------------------------------- per VM */

static int check_cpus(const struct sys_config *c, unsigned v, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	struct sbuf m;

	if (vm->ncpus == 0 || vm->ncpus > CFG_MAX_CPUS) {
		sb_printf(report(e, vm, "cpus", -1, &m), "a VM needs 1 to %u CPUs, not %u",
			  CFG_MAX_CPUS, vm->ncpus);
		return -1;
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		uint32_t cpu = vm->cpus[i];
		if (cpu >= c->ncpus) {
			sb_printf(report(e, vm, "cpus", -1, &m),
				  "physical CPU %u does not exist (the system has %u)", cpu,
				  c->ncpus);
			return -1;
		}
		for (unsigned w = 0; w <= v; w++) {
			const struct cfg_vm *o = &c->vms[w];
			for (unsigned j = 0; j < (w == v ? i : o->ncpus); j++) {
				if (o->cpus[j] != cpu)
					continue;
				if (w == v)
					sb_printf(report(e, vm, "cpus", -1, &m),
						  "physical CPU %u is given twice to this VM", cpu);
				else
					sb_printf(report(e, vm, "cpus", -1, &m),
						  "physical CPU %u is given twice: vm %s has it "
						  "already",
						  cpu, o->name);
				return -1;
			}
		}
	}
	return 0;
}

static int check_one_region(const struct sys_config *c, const struct cfg_vm *vm, unsigned i,
			    struct cfg_error *e)
{
	const struct cfg_mem *r = &vm->mem[i];
	struct sbuf m;

	if (r->size == 0)
		return fail(e, vm, "memory", (int)i, "the region is empty");
	if ((r->ipa | r->pa | r->size) & (SZ_2M - 1))
		return fail(e, vm, "memory", (int)i, "ipa, pa and size must be 2 MiB aligned");
	if (!range_ok(r->ipa, r->size) || !range_ok(r->pa, r->size))
		return fail(e, vm, "memory", (int)i, "base + size overflows");
	if (!contains(c->ram_base, c->ram_size, r->pa, r->size)) {
		sb_printf(report(e, vm, "memory", (int)i, &m),
			  "pa %llx + %llx is outside the system's RAM (%llx + %llx)",
			  (unsigned long long)r->pa, (unsigned long long)r->size,
			  (unsigned long long)c->ram_base, (unsigned long long)c->ram_size);
		return -1;
	}
	if (overlaps(r->pa, r->size, c->hv_base, c->hv_size)) {
		sb_printf(report(e, vm, "memory", (int)i, &m),
			  "overlaps the hypervisor's memory (%llx + %llx)",
			  (unsigned long long)c->hv_base, (unsigned long long)c->hv_size);
		return -1;
	}
	if (vm->role == VM_ROLE_MVM && r->ipa != r->pa)
		return fail(e, vm, "memory", (int)i,
			    "the MVM must be identity mapped (ipa = pa): passthrough devices DMA "
			    "to guest-physical addresses");
	return 0;
}

static int check_memory(const struct sys_config *c, unsigned v, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	struct sbuf m;

	if (vm->nmem == 0 || vm->nmem > CFG_MAX_MEM) {
		sb_printf(report(e, vm, "memory", -1, &m),
			  "a VM needs 1 to %u memory regions, not %u", CFG_MAX_MEM, vm->nmem);
		return -1;
	}
	for (unsigned i = 0; i < vm->nmem; i++) {
		const struct cfg_mem *r = &vm->mem[i];
		if (check_one_region(c, vm, i, e))
			return -1;
		for (unsigned j = 0; j < i; j++)
			if (overlaps(r->ipa, r->size, vm->mem[j].ipa, vm->mem[j].size)) {
				sb_printf(report(e, vm, "memory", (int)i, &m),
					  "its ipa range overlaps memory[%u] of this VM", j);
				return -1;
			}
		/* Physical memory belongs to one VM (and one region) only. */
		for (unsigned w = 0; w <= v; w++) {
			const struct cfg_vm *o = &c->vms[w];
			for (unsigned j = 0; j < (w == v ? i : o->nmem); j++) {
				if (!overlaps(r->pa, r->size, o->mem[j].pa, o->mem[j].size))
					continue;
				sb_printf(report(e, vm, "memory", (int)i, &m),
					  "overlaps memory[%u] of vm %s (pa %llx + %llx)", j,
					  o->name, (unsigned long long)o->mem[j].pa,
					  (unsigned long long)o->mem[j].size);
				return -1;
			}
		}
	}
	return 0;
}

static const char *const image_keys[3] = {"kernel", "initrd", "dtb"};

/* An image occupies at least its first byte, so two at one address clash
 * even when their sizes are unknown (cfgc --no-files). */
static uint64_t image_span(const struct cfg_image *img)
{
	return img->size ? img->size : 1;
}

int config_has_mediated_disk(const struct sys_config *c)
{
	for (unsigned v = 0; v < c->nvms; v++)
		for (unsigned i = 0; i < c->vms[v].nvirtio && i < CFG_MAX_VIRTIO; i++)
			if (c->vms[v].virtio[i].type == CFG_VIRTIO_BLK &&
			    c->vms[v].virtio[i].backend == CFG_BLK_MEDIATED)
				return 1;
	return 0;
}

/* The MVM's mediated area: in one of its memory regions (identity mapped),
 * clear of its images, within the ABI's bounds; none for a GVM. */
static int check_med_area(const struct sys_config *c, const struct cfg_vm *vm, struct cfg_error *e)
{
	const struct cfg_image *a = &vm->med_area, *img[3] = {&vm->kernel, &vm->initrd, &vm->dtb};
	struct sbuf m;
	unsigned r;

	if (vm->role != VM_ROLE_MVM) {
		if (a->size || a->pa)
			return fail(e, vm, "mediated-area", -1, "only the MVM has a mediated area");
		return 0;
	}
	if (!a->size) {
		if (config_has_mediated_disk(c))
			return fail(e, vm, "mediated-area", -1,
				    "mediated disks need the MVM's mediated area");
		return 0;
	}
	if (a->size < MED_AREA_MIN || a->size > MED_AREA_MAX || a->size % MED_AREA_ALIGN ||
	    a->pa % MED_AREA_ALIGN) {
		sb_printf(report(e, vm, "mediated-area", -1, &m),
			  "the size must be %u KiB to %u KiB, and size and address multiples of "
			  "%u KiB",
			  MED_AREA_MIN >> 10, MED_AREA_MAX >> 10, MED_AREA_ALIGN >> 10);
		return -1;
	}
	for (r = 0; r < vm->nmem; r++)
		if (contains(vm->mem[r].pa, vm->mem[r].size, a->pa, a->size))
			break;
	if (r == vm->nmem) {
		sb_printf(report(e, vm, "mediated-area", -1, &m),
			  "pa %llx + %llx is not inside one region of the VM's memory",
			  (unsigned long long)a->pa, (unsigned long long)a->size);
		return -1;
	}
	for (unsigned i = 0; i < 3; i++) {
		if (img[i]->pa == 0 && img[i]->size == 0)
			continue;
		if (overlaps(a->pa, a->size, img[i]->pa, image_span(img[i]))) {
			sb_printf(report(e, vm, "mediated-area", -1, &m),
				  "overlaps the %s image (pa %llx + %llx)", image_keys[i],
				  (unsigned long long)img[i]->pa, (unsigned long long)img[i]->size);
			return -1;
		}
	}
	return 0;
}

static int check_images(const struct cfg_vm *vm, struct cfg_error *e)
{
	const struct cfg_image *img[3] = {&vm->kernel, &vm->initrd, &vm->dtb};
	struct sbuf m;

	for (unsigned i = 0; i < 3; i++) {
		const struct cfg_image *im = img[i];
		const char *key = image_keys[i];
		unsigned r;

		if (im->pa == 0 && im->size == 0) {
			if (im == &vm->initrd)
				continue; /* optional */
			sb_printf(report(e, vm, key, -1, &m), "the VM has no %s image", key);
			return -1;
		}
		for (r = 0; r < vm->nmem; r++)
			if (contains(vm->mem[r].pa, vm->mem[r].size, im->pa, 1))
				break;
		if (r == vm->nmem) {
			sb_printf(report(e, vm, key, -1, &m), "pa %llx is outside the VM's memory",
				  (unsigned long long)im->pa);
			return -1;
		}
		if (!contains(vm->mem[r].pa, vm->mem[r].size, im->pa, image_span(im))) {
			sb_printf(report(e, vm, key, -1, &m),
				  "does not fit: %llu bytes at %llx end past memory[%u] "
				  "(pa %llx + %llx)",
				  (unsigned long long)im->size, (unsigned long long)im->pa, r,
				  (unsigned long long)vm->mem[r].pa,
				  (unsigned long long)vm->mem[r].size);
			return -1;
		}
		for (unsigned j = 0; j < i; j++) {
			if (img[j]->pa == 0 && img[j]->size == 0)
				continue;
			if (overlaps(im->pa, image_span(im), img[j]->pa, image_span(img[j]))) {
				sb_printf(report(e, vm, key, -1, &m),
					  "overlaps the %s image (pa %llx + %llx)", image_keys[j],
					  (unsigned long long)img[j]->pa,
					  (unsigned long long)img[j]->size);
				return -1;
			}
		}
	}
	if (vm->kernel.pa & (SZ_2M - 1))
		return fail(e, vm, "kernel", -1, "the kernel must be loaded 2 MiB aligned");
	if (vm->dtb.pa & 7)
		return fail(e, vm, "dtb", -1, "the DTB must be loaded 8-byte aligned");
	if (vm->dtb.size > DTB_MAX_SIZE) {
		sb_printf(report(e, vm, "dtb", -1, &m), "the DTB is %llu bytes, more than 2 MiB",
			  (unsigned long long)vm->dtb.size);
		return -1;
	}
	return 0;
}

/* Index of the VM's memory region whose ipa range meets [ipa, ipa+size), or -1. */
static int ipa_in_memory(const struct cfg_vm *vm, uint64_t ipa, uint64_t size)
{
	uint64_t base = ipa & ~(SZ_4K - 1);
	uint64_t end = (ipa + size + SZ_4K - 1) & ~(SZ_4K - 1);

	for (unsigned i = 0; i < vm->nmem; i++)
		if (overlaps(base, end - base, vm->mem[i].ipa, vm->mem[i].size))
			return (int)i;
	return -1;
}

static int check_devices(const struct sys_config *c, unsigned v, const struct platform_dev *devs,
			 unsigned ndevs, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	struct sbuf m;

	if (vm->ndevs > CFG_MAX_DEVS) {
		sb_printf(report(e, vm, "device", -1, &m), "%u devices: at most %u are supported",
			  vm->ndevs, CFG_MAX_DEVS);
		return -1;
	}
	for (unsigned i = 0; i < vm->ndevs; i++) {
		const struct cfg_passthrough *d = &vm->devs[i];
		const struct platform_dev *p = find_platform_dev(devs, ndevs, d->pa, d->size);
		int r;

		if (!p) {
			sb_printf(report(e, vm, "device", (int)i, &m),
				  "no device at %llx (size %llx) on this board",
				  (unsigned long long)d->pa, (unsigned long long)d->size);
			return -1;
		}
		if (!same_irqs(d, p)) {
			sb_printf(report(e, vm, "device", (int)i, &m),
				  "interrupts of %s differ from the board's device", p->name);
			return -1;
		}
		for (unsigned j = 0; j < i; j++)
			if (vm->devs[j].pa == d->pa) {
				sb_printf(report(e, vm, "device", (int)i, &m),
					  "%s is given twice to this VM", p->name);
				return -1;
			}
		r = ipa_in_memory(vm, d->pa, d->size);
		if (r >= 0) {
			sb_printf(report(e, vm, "device", (int)i, &m),
				  "%s (mapped at ipa = pa) lies in this VM's memory[%d]", p->name,
				  r);
			return -1;
		}
		if ((c->hv_disk.pa || c->hv_disk.size) &&
		    share_page(d->pa, d->size, c->hv_disk.pa, c->hv_disk.size)) {
			sb_printf(report(e, vm, "device", (int)i, &m),
				  "%s is, or shares a 4 KiB page with, the hypervisor's disk",
				  p->name);
			return -1;
		}
		/* Devices of earlier VMs; those of later VMs are checked from there. */
		for (unsigned w = 0; w < v; w++) {
			const struct cfg_vm *o = &c->vms[w];
			for (unsigned j = 0; j < o->ndevs && j < CFG_MAX_DEVS; j++) {
				const struct cfg_passthrough *od = &o->devs[j];
				if (!share_page(d->pa, d->size, od->pa, od->size))
					continue;
				if (od->pa == d->pa)
					sb_printf(report(e, vm, "device", (int)i, &m),
						  "%s is given to two VMs: vm %s has it already",
						  p->name, o->name);
				else
					sb_printf(report(e, vm, "device", (int)i, &m),
						  "%s is given to two VMs: it shares a 4 KiB page "
						  "with device[%u] of vm %s",
						  p->name, j, o->name);
				return -1;
			}
		}
	}
	return 0;
}

/* Every hv-backend disk is the whole hypervisor's disk: VMs may share it
 * only if none of them can write it (one VM's writes would be another's
 * data). */
static int check_hv_disk_shared(const struct sys_config *c, unsigned v, unsigned i,
				struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	const struct cfg_virtio *d = &vm->virtio[i];
	struct sbuf m;

	for (unsigned w = 0; w <= v; w++) {
		const struct cfg_vm *o = &c->vms[w];
		for (unsigned j = 0; j < (w == v ? i : o->nvirtio); j++) {
			const struct cfg_virtio *od = &o->virtio[j];
			if (od->type != CFG_VIRTIO_BLK || od->backend != CFG_BLK_HV_DRIVER ||
			    (d->read_only && od->read_only))
				continue;
			sb_printf(report(e, vm, "virtio", (int)i, &m),
				  "the hypervisor's disk is also virtio[%u] of vm %s, and one of "
				  "them "
				  "can write it: only read-only hv disks may share it",
				  j, o->name);
			return -1;
		}
	}
	return 0;
}

static int check_blk(const struct sys_config *c, unsigned v, unsigned i, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	const struct cfg_virtio *d = &vm->virtio[i];
	struct sbuf m;

	if (d->backend == CFG_BLK_HV_DRIVER) {
		if (!c->hv_disk.pa)
			return fail(e, vm, "virtio", (int)i,
				    "backend hv needs the hypervisor's disk (system: hv-disk)");
		return check_hv_disk_shared(c, v, i, e);
	}
	if (d->backend != CFG_BLK_MEDIATED)
		return fail(e, vm, "virtio", (int)i, "the backend must be mediated or hv");
	if (d->sectors == 0)
		return fail(e, vm, "virtio", (int)i, "a mediated disk needs a size");
	if (d->disk >= MEDIATED_MAX_DISKS) {
		sb_printf(report(e, vm, "virtio", (int)i, &m),
			  "mediated disk %u: the MVM serves disks 0 to %u", d->disk,
			  MEDIATED_MAX_DISKS - 1);
		return -1;
	}
	for (unsigned w = 0; w <= v; w++) {
		const struct cfg_vm *o = &c->vms[w];
		for (unsigned j = 0; j < (w == v ? i : o->nvirtio); j++) {
			const struct cfg_virtio *od = &o->virtio[j];
			if (od->type != CFG_VIRTIO_BLK || od->backend != CFG_BLK_MEDIATED ||
			    od->disk != d->disk)
				continue;
			sb_printf(report(e, vm, "virtio", (int)i, &m),
				  "mediated disk %u is used twice (also by virtio[%u] of vm %s)",
				  d->disk, j, o->name);
			return -1;
		}
	}
	return 0;
}

/* A switch port's MAC: unicast, not zero, unique in the system; its storm
 * control within the switch's bounds. */
static int check_net(const struct sys_config *c, unsigned v, unsigned i, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	const struct cfg_virtio *d = &vm->virtio[i];
	const uint8_t *mac = d->mac;
	struct sbuf m;

	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return fail(e, vm, "virtio", (int)i, "the MAC must be a non-zero unicast address");
	if (d->flood_rate > CFG_FLOOD_MAX_RATE) {
		sb_printf(report(e, vm, "virtio", (int)i, &m),
			  "flood-rate %u: at most %u frames a second (0: no limit)", d->flood_rate,
			  CFG_FLOOD_MAX_RATE);
		return -1;
	}
	if (d->flood_rate && (d->flood_burst == 0 || d->flood_burst > CFG_FLOOD_MAX_BURST)) {
		sb_printf(report(e, vm, "virtio", (int)i, &m), "flood-burst %u: 1 to %u frames",
			  d->flood_burst, CFG_FLOOD_MAX_BURST);
		return -1;
	}
	if (!d->flood_rate && d->flood_burst)
		return fail(e, vm, "virtio", (int)i, "flood-burst without a limit (flood-rate=0)");
	for (unsigned w = 0; w <= v; w++) {
		const struct cfg_vm *o = &c->vms[w];
		for (unsigned j = 0; j < (w == v ? i : o->nvirtio); j++) {
			const uint8_t *om = o->virtio[j].mac;
			if (o->virtio[j].type != CFG_VIRTIO_NET || om[0] != mac[0] ||
			    om[1] != mac[1] || om[2] != mac[2] || om[3] != mac[3] ||
			    om[4] != mac[4] || om[5] != mac[5])
				continue;
			sb_printf(report(e, vm, "virtio", (int)i, &m),
				  "MAC already used by virtio[%u] of vm %s", j, o->name);
			return -1;
		}
	}
	return 0;
}

static int check_virtio(const struct sys_config *c, unsigned v, struct cfg_error *e)
{
	const struct cfg_vm *vm = &c->vms[v];
	struct sbuf m;

	if (vm->nvirtio > CFG_MAX_VIRTIO) {
		sb_printf(report(e, vm, "virtio", -1, &m),
			  "%u virtio devices: at most %u are supported", vm->nvirtio,
			  CFG_MAX_VIRTIO);
		return -1;
	}
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		const struct cfg_virtio *d = &vm->virtio[i];
		uint64_t ipa = virtio_slot_ipa(d->slot);
		int r;

		if (d->type != CFG_VIRTIO_BLK && d->type != CFG_VIRTIO_NET &&
		    d->type != CFG_VIRTIO_CONSOLE)
			return fail(e, vm, "virtio", (int)i, "unknown virtio device type");
		if (d->slot >= PLAT_VIRTIO_MMIO_SLOTS) {
			sb_printf(report(e, vm, "virtio", (int)i, &m),
				  "slot %u: the board has virtio-mmio slots 0 to %u", d->slot,
				  PLAT_VIRTIO_MMIO_SLOTS - 1);
			return -1;
		}
		for (unsigned j = 0; j < i; j++)
			if (vm->virtio[j].slot == d->slot) {
				sb_printf(report(e, vm, "virtio", (int)i, &m),
					  "slot %u is used twice in this VM", d->slot);
				return -1;
			}
		for (unsigned j = 0; j < vm->ndevs; j++)
			if (share_page(ipa, PLAT_VIRTIO_MMIO_STRIDE, vm->devs[j].pa,
				       vm->devs[j].size)) {
				sb_printf(report(e, vm, "virtio", (int)i, &m),
					  "slot %u shares a 4 KiB page with device[%u] of this VM",
					  d->slot, j);
				return -1;
			}
		r = ipa_in_memory(vm, ipa, PLAT_VIRTIO_MMIO_STRIDE);
		if (r >= 0) {
			sb_printf(report(e, vm, "virtio", (int)i, &m),
				  "slot %u (ipa %llx) lies in this VM's memory[%d]", d->slot,
				  (unsigned long long)ipa, r);
			return -1;
		}
		if (d->read_only > 1)
			return fail(e, vm, "virtio", (int)i, "read_only must be 0 or 1");
		if (d->type != CFG_VIRTIO_NET && (d->flood_rate || d->flood_burst))
			return fail(e, vm, "virtio", (int)i,
				    "a flood limit on a device not virtio-net");
		if (d->type == CFG_VIRTIO_BLK && check_blk(c, v, i, e))
			return -1;
		if (d->type == CFG_VIRTIO_NET && check_net(c, v, i, e))
			return -1;
	}
	return 0;
}

int config_check(const struct sys_config *cfg, const struct platform_dev *devs, unsigned ndevs,
		 struct cfg_error *err)
{
	if (check_system(cfg, devs, ndevs, err) || check_vm_identities(cfg, err))
		return -1;
	/* Memory first for every VM: images and devices are placed relative to it. */
	for (unsigned v = 0; v < cfg->nvms; v++)
		if (check_cpus(cfg, v, err) || check_memory(cfg, v, err))
			return -1;
	for (unsigned v = 0; v < cfg->nvms; v++)
		if (check_images(&cfg->vms[v], err) || check_med_area(cfg, &cfg->vms[v], err) ||
		    check_devices(cfg, v, devs, ndevs, err) || check_virtio(cfg, v, err))
			return -1;
	return 0;
}
