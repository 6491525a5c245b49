/* libFuzzer harness of the configuration compiler: arbitrary text goes
 * through tools/cfgc's parser (compiled in here, its main() renamed and its
 * exit() turned into a longjmp back to the harness) and through
 * hv/core/config_check.c, as `cfgc --no-files` runs them; an input starting
 * with a NUL byte is instead a raw struct sys_config for config_check alone
 * (what the hypervisor checks again at boot), one starting with 1 a list of
 * mutations of a good configuration for config_check.
 *
 * Whatever is accepted must satisfy an independent statement of the
 * isolation rules: every VM's memory inside RAM and outside the
 * hypervisor, physical memory given once (no overlap between any two
 * regions), no overlapping IPA ranges in a VM, the MVM identity mapped,
 * CPUs given once and existing, one MVM, images inside their VM's memory,
 * unique virtio slots, MACs and mediated disks, devices given once and not
 * inside memory. A rejection must name a line of the input. */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/fuzz_stubs.h"
#include "platform/board.h"
#include "syshyper/mediated.h"

static jmp_buf cfgc_died;
static FILE *cfgc_err; /* cfgc's error output: /dev/null unless FUZZ_TRACE */

static void __attribute__((noreturn)) cfgc_exit(int status)
{
	longjmp(cfgc_died, status ? status : 100);
}

#define exit(status) cfgc_exit(status)
#undef stderr
#define stderr cfgc_err
#include "../../tools/cfgc/build_check.c"
#include "../../tools/cfgc/errors.c"
#include "../../tools/cfgc/images.c"
#include "../../tools/cfgc/model.c"
#include "../../tools/cfgc/out_c.c"
#include "../../tools/cfgc/out_qemu.c"
#include "../../tools/cfgc/parse.c"
#undef stderr
#undef exit

static int last_line; /* of the input being parsed */

/* ---------------------------------------------------------------- the oracle */

typedef unsigned __int128 u128;

static bool overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return (u128)a < (u128)b + bs && (u128)b < (u128)a + as;
}

static bool inside(uint64_t outer, uint64_t os, uint64_t inner, uint64_t is)
{
	return inner >= outer && (u128)inner + is <= (u128)outer + os;
}

static void check_vm_memory(const struct sys_config *c, unsigned v)
{
	const struct cfg_vm *vm = &c->vms[v];

	FUZZ_ASSERT(vm->nmem >= 1 && vm->nmem <= CFG_MAX_MEM, "vm %u: %u regions", v, vm->nmem);
	for (unsigned i = 0; i < vm->nmem; i++) {
		const struct cfg_mem *r = &vm->mem[i];
		FUZZ_ASSERT(r->size > 0, "vm %u: empty region %u", v, i);
		FUZZ_ASSERT((u128)r->ipa + r->size <= (u128)UINT64_MAX,
			    "vm %u: region %u ipa wraps", v, i);
		FUZZ_ASSERT(inside(c->ram_base, c->ram_size, r->pa, r->size),
			    "vm %u: region %u (pa 0x%" PRIx64 " + 0x%" PRIx64 ") outside RAM", v, i,
			    r->pa, r->size);
		FUZZ_ASSERT(!overlap(r->pa, r->size, c->hv_base, c->hv_size),
			    "vm %u: region %u overlaps the hypervisor", v, i);
		/* the board's devices (GIC and UART included) are never a VM's RAM */
		FUZZ_ASSERT(r->pa >= PLAT_DEVICE_LIMIT,
			    "vm %u: region %u (pa 0x%" PRIx64 ") is in the board's device space", v,
			    i, r->pa);
		for (unsigned p = 0; p < platform_ndevs; p++)
			FUZZ_ASSERT(!overlap(r->pa, r->size, platform_devs[p].pa,
					     platform_devs[p].size),
				    "vm %u: region %u overlaps device %s", v, i,
				    platform_devs[p].name);
		FUZZ_ASSERT(vm->role != VM_ROLE_MVM || r->ipa == r->pa,
			    "the MVM's region %u is not identity mapped", i);
		for (unsigned j = 0; j < i; j++)
			FUZZ_ASSERT(!overlap(r->ipa, r->size, vm->mem[j].ipa, vm->mem[j].size),
				    "vm %u: ipa of regions %u and %u overlap", v, j, i);
		for (unsigned w = 0; w <= v; w++)
			for (unsigned j = 0; j < (w == v ? i : c->vms[w].nmem); j++)
				FUZZ_ASSERT(
					!overlap(r->pa, r->size, c->vms[w].mem[j].pa,
						 c->vms[w].mem[j].size),
					"physical memory given twice: vm %u region %u and vm %u "
					"region %u",
					v, i, w, j);
	}
}

static bool in_vm_memory(const struct cfg_vm *vm, uint64_t pa, uint64_t size)
{
	for (unsigned i = 0; i < vm->nmem; i++)
		if (inside(vm->mem[i].pa, vm->mem[i].size, pa, size ? size : 1))
			return true;
	return false;
}

/* Whether [ipa, ipa+size) meets a 4 KiB page of the VM's memory. */
static bool touches_memory(const struct cfg_vm *vm, uint64_t ipa, uint64_t size)
{
	u128 start = ipa & ~0xfffULL, end = ((u128)ipa + size + 0xfff) & ~(u128)0xfff;

	for (unsigned i = 0; i < vm->nmem; i++)
		if (start < (u128)vm->mem[i].ipa + vm->mem[i].size && vm->mem[i].ipa < end)
			return true;
	return false;
}

/* The mediated area: the MVM's, in its memory, within the ABI's bounds. */
static void check_med_area(const struct cfg_vm *vm, unsigned v)
{
	const struct cfg_image *a = &vm->med_area;

	if (vm->role != VM_ROLE_MVM) {
		FUZZ_ASSERT(!a->pa && !a->size, "vm %u: a GVM with a mediated area", v);
		return;
	}
	if (!a->size)
		return;
	FUZZ_ASSERT(a->size >= MED_AREA_MIN && a->size <= MED_AREA_MAX, "vm %u: area size %" PRIx64,
		    v, a->size);
	FUZZ_ASSERT(!(a->pa % MED_AREA_ALIGN) && !(a->size % MED_AREA_ALIGN),
		    "vm %u: area alignment", v);
	FUZZ_ASSERT(in_vm_memory(vm, a->pa, a->size), "vm %u: area outside its memory", v);
}

static void check_vm_rest(const struct sys_config *c, unsigned v)
{
	const struct cfg_vm *vm = &c->vms[v];

	check_med_area(vm, v);

	FUZZ_ASSERT(vm->ncpus >= 1 && vm->ncpus <= CFG_MAX_CPUS, "vm %u: %u CPUs", v, vm->ncpus);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		FUZZ_ASSERT(vm->cpus[i] < c->ncpus, "vm %u: CPU %u does not exist", v, vm->cpus[i]);
		for (unsigned w = 0; w <= v; w++)
			for (unsigned j = 0; j < (w == v ? i : c->vms[w].ncpus); j++)
				FUZZ_ASSERT(c->vms[w].cpus[j] != vm->cpus[i], "CPU %u given twice",
					    vm->cpus[i]);
	}
	FUZZ_ASSERT(in_vm_memory(vm, vm->kernel.pa, vm->kernel.size), "vm %u: kernel outside", v);
	FUZZ_ASSERT(in_vm_memory(vm, vm->dtb.pa, vm->dtb.size), "vm %u: dtb outside", v);
	if (vm->initrd.pa || vm->initrd.size)
		FUZZ_ASSERT(in_vm_memory(vm, vm->initrd.pa, vm->initrd.size),
			    "vm %u: initrd outside", v);
	FUZZ_ASSERT(vm->ndevs <= CFG_MAX_DEVS && vm->nvirtio <= CFG_MAX_VIRTIO, "vm %u: counts", v);
	for (unsigned i = 0; i < vm->ndevs; i++) {
		const struct cfg_passthrough *d = &vm->devs[i];
		bool known = false;
		for (unsigned p = 0; p < platform_ndevs; p++)
			known |= platform_devs[p].pa == d->pa && platform_devs[p].size == d->size;
		FUZZ_ASSERT(known, "vm %u: device %u is not the board's", v, i);
		FUZZ_ASSERT(!touches_memory(vm, d->pa, d->size), "vm %u: device %u in memory", v,
			    i);
		FUZZ_ASSERT(!(c->hv_disk.pa || c->hv_disk.size) ||
				    !overlap(d->pa & ~0xfffULL, 0x1000, c->hv_disk.pa & ~0xfffULL,
					     0x1000),
			    "vm %u: device %u shares a page with the hypervisor's disk", v, i);
		for (unsigned j = 0; j < i; j++) /* one VM may have two devices in a page */
			FUZZ_ASSERT(vm->devs[j].pa != d->pa, "vm %u: device %u twice", v, i);
		for (unsigned w = 0; w < v; w++)
			for (unsigned j = 0; j < c->vms[w].ndevs; j++)
				FUZZ_ASSERT(
					(c->vms[w].devs[j].pa & ~0xfffULL) != (d->pa & ~0xfffULL),
					"a device page given to two VMs (vm %u device %u)", v, i);
	}
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		const struct cfg_virtio *d = &vm->virtio[i];
		uint64_t ipa = 0x0a000000ULL + (uint64_t)d->slot * 0x200;
		FUZZ_ASSERT(d->slot < 32, "vm %u: virtio slot %u", v, d->slot);
		FUZZ_ASSERT(!touches_memory(vm, ipa, 0x200), "vm %u: virtio slot %u in memory", v,
			    d->slot);
		for (unsigned j = 0; j < i; j++)
			FUZZ_ASSERT(vm->virtio[j].slot != d->slot, "vm %u: slot %u twice", v,
				    d->slot);
		for (unsigned j = 0; j < vm->ndevs; j++)
			FUZZ_ASSERT((vm->devs[j].pa & ~0xfffULL) != (ipa & ~0xfffULL),
				    "vm %u: slot %u shares a page with a device", v, d->slot);
		for (unsigned w = 0; w <= v; w++)
			for (unsigned j = 0; j < (w == v ? i : c->vms[w].nvirtio); j++) {
				const struct cfg_virtio *o = &c->vms[w].virtio[j];
				if (d->type == CFG_VIRTIO_NET && o->type == CFG_VIRTIO_NET)
					FUZZ_ASSERT(memcmp(d->mac, o->mac, 6), "a MAC twice");
				if (d->type == CFG_VIRTIO_BLK && o->type == CFG_VIRTIO_BLK &&
				    d->backend == CFG_BLK_MEDIATED &&
				    o->backend == CFG_BLK_MEDIATED)
					FUZZ_ASSERT(d->disk != o->disk, "mediated disk %u twice",
						    d->disk);
			}
		if (d->type == CFG_VIRTIO_NET)
			FUZZ_ASSERT(!(d->mac[0] & 1), "vm %u: multicast MAC", v);
	}
}

static void check_accepted(const struct sys_config *c)
{
	unsigned mvms = 0;

	FUZZ_ASSERT(c->ram_size && c->hv_size &&
			    inside(c->ram_base, c->ram_size, c->hv_base, c->hv_size),
		    "the hypervisor is not inside RAM");
	FUZZ_ASSERT((u128)c->ram_base + c->ram_size <= (u128)UINT64_MAX + 1, "RAM wraps");
	FUZZ_ASSERT(c->nvms >= 1 && c->nvms <= CFG_MAX_VMS, "%u VMs", c->nvms);
	for (unsigned v = 0; v < c->nvms; v++) {
		const struct cfg_vm *vm = &c->vms[v];
		FUZZ_ASSERT(memchr(vm->name, 0, sizeof(vm->name)) && vm->name[0], "vm %u: bad name",
			    v);
		for (unsigned w = 0; w < v; w++)
			FUZZ_ASSERT(strcmp(vm->name, c->vms[w].name), "two VMs named %s", vm->name);
		FUZZ_ASSERT(vm->role == VM_ROLE_MVM || vm->role == VM_ROLE_GVM, "vm %u: role", v);
		mvms += vm->role == VM_ROLE_MVM;
		check_vm_memory(c, v);
		check_vm_rest(c, v);
	}
	FUZZ_ASSERT(mvms == 1, "%u MVMs", mvms);
}

/* ---------------------------------------------------------------- the harness */

static void reset_cfgc(void)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(vmb, 0, sizeof(vmb));
	memset(qemu_devs, 0, sizeof(qemu_devs));
	nqemu_devs = 0;
	loc_reset();
	cfg_path = "fuzz.cfg";
	defs[0].name = "GIC";
	defs[0].value = "3";
	ndefs = 1;
}

static void run_text(const uint8_t *data, size_t size)
{
	struct cfg_error err;
	FILE *f = fmemopen((void *)data, size, "r");
	char *out = NULL;
	size_t out_len = 0;

	if (!f)
		return;
	reset_cfgc();
	last_line = 1;
	for (size_t i = 0; i < size; i++)
		last_line += data[i] == '\n';
	if (setjmp(cfgc_died) == 0) {
		parse_config(f);
		check_required();
		place_med_area();
		resolve_images(false, -1); /* --no-files: never stat() fuzzed paths */
		if (config_check(&cfg, platform_devs, platform_ndevs, &err)) {
			int line = line_of_field(err.field);
			FUZZ_ASSERT(memchr(err.field, 0, sizeof(err.field)) &&
					    memchr(err.msg, 0, sizeof(err.msg)),
				    "unterminated error text");
			FUZZ_ASSERT(line >= 1 && line <= last_line + 1,
				    "error \"%s: %s\" at line %d of %d", err.field, err.msg, line,
				    last_line);
		} else {
			check_accepted(&cfg);
			check_build(); /* may longjmp: before the stream is opened */
			FILE *o = open_memstream(&out, &out_len);
			if (o) { /* the generated C and QEMU arguments, for the sanitizers */
				write_c(o);
				write_qemu_loader(o);
				write_qemu_devices(o);
				fclose(o);
			}
		}
	}
	free(out);
	fclose(f);
}

static void run_binary(const uint8_t *data, size_t size)
{
	static struct sys_config c;
	struct cfg_error err;

	memset(&c, 0, sizeof(c));
	memcpy(&c, data, size < sizeof(c) ? size : sizeof(c));
	if (config_check(&c, platform_devs, platform_ndevs, &err) == 0)
		check_accepted(&c);
	else
		FUZZ_ASSERT(memchr(err.field, 0, sizeof(err.field)) &&
				    memchr(err.msg, 0, sizeof(err.msg)),
			    "unterminated error text");
}

/* A good configuration (the shape of configs/qemu-virt.cfg) for the
 * structured mode to mutate. */
static void good_config(struct sys_config *c)
{
	static const uint8_t mac1[6] = {0x52, 0x54, 0, 0x5e, 0, 0x11};
	static const uint8_t mac2[6] = {0x52, 0x54, 0, 0x5e, 0, 0x12};

	memset(c, 0, sizeof(*c));
	*c = (struct sys_config){.ram_base = 0x40000000,
				 .ram_size = 2ULL << 30,
				 .hv_base = 0x40000000,
				 .hv_size = 64 << 20,
				 .ncpus = 4,
				 .nvms = 3};
	struct cfg_vm *m = &c->vms[0], *g1 = &c->vms[1], *g2 = &c->vms[2];
	*m = (struct cfg_vm){.name = "mvm",
			     .role = VM_ROLE_MVM,
			     .ncpus = 2,
			     .cpus = {0, 1},
			     .nmem = 1,
			     .mem = {{0x48000000, 0x48000000, 512 << 20}},
			     .kernel = {0x48200000, 0x1000000},
			     .initrd = {0x58000000, 0x100000},
			     .dtb = {0x5fe00000, 0x10000},
			     .med_area = {0x67000000, MED_AREA_DEFAULT},
			     .ndevs = 1};
	passthrough_from(&m->devs[0], &platform_devs[31]);
	*g1 = (struct cfg_vm){.name = "gvm1",
			      .role = VM_ROLE_GVM,
			      .ncpus = 1,
			      .cpus = {2},
			      .nmem = 1,
			      .mem = {{0x40000000, 0x68000000, 512 << 20}},
			      .kernel = {0x68200000, 0x1000000},
			      .dtb = {0x87e00000, 0x10000},
			      .nvirtio = 3};
	g1->virtio[0] = (struct cfg_virtio){
		.type = CFG_VIRTIO_BLK, .slot = 31, .backend = CFG_BLK_MEDIATED, .sectors = 131072};
	g1->virtio[1] = (struct cfg_virtio){.type = CFG_VIRTIO_NET, .slot = 30};
	memcpy(g1->virtio[1].mac, mac1, 6);
	g1->virtio[2] = (struct cfg_virtio){.type = CFG_VIRTIO_CONSOLE, .slot = 28};
	*g2 = *g1;
	memcpy(g2->name, "gvm2", 5);
	g2->cpus[0] = 3;
	g2->mem[0].pa = 0x88000000;
	g2->kernel.pa = 0x88200000;
	g2->dtb.pa = 0xa7e00000;
	g2->virtio[0].disk = 1;
	memcpy(g2->virtio[1].mac, mac2, 6);
}

/* Every number of a configuration, for the structured mode. */
static unsigned config_fields(struct sys_config *c, uint64_t **f64, uint32_t **f32)
{
	unsigned n = 0;

	f64[n] = &c->ram_base, f32[n++] = NULL;
	f64[n] = &c->ram_size, f32[n++] = NULL;
	f64[n] = &c->hv_base, f32[n++] = NULL;
	f64[n] = &c->hv_size, f32[n++] = NULL;
	f64[n] = NULL, f32[n++] = &c->ncpus;
	f64[n] = NULL, f32[n++] = &c->nvms;
	for (unsigned v = 0; v < 3; v++) {
		struct cfg_vm *vm = &c->vms[v];
		f64[n] = NULL, f32[n++] = &vm->ncpus;
		f64[n] = NULL, f32[n++] = &vm->cpus[0];
		f64[n] = NULL, f32[n++] = &vm->cpus[1];
		f64[n] = NULL, f32[n++] = &vm->nmem;
		for (unsigned r = 0; r < 2; r++) {
			f64[n] = &vm->mem[r].ipa, f32[n++] = NULL;
			f64[n] = &vm->mem[r].pa, f32[n++] = NULL;
			f64[n] = &vm->mem[r].size, f32[n++] = NULL;
		}
		f64[n] = &vm->kernel.pa, f32[n++] = NULL;
		f64[n] = &vm->kernel.size, f32[n++] = NULL;
		f64[n] = &vm->dtb.pa, f32[n++] = NULL;
		f64[n] = &vm->initrd.pa, f32[n++] = NULL;
		f64[n] = &vm->med_area.pa, f32[n++] = NULL;
		f64[n] = &vm->med_area.size, f32[n++] = NULL;
		f64[n] = NULL, f32[n++] = &vm->ndevs;
		f64[n] = &vm->devs[0].pa, f32[n++] = NULL;
		f64[n] = NULL, f32[n++] = &vm->nvirtio;
		f64[n] = NULL, f32[n++] = &vm->virtio[0].slot;
		f64[n] = NULL, f32[n++] = &vm->virtio[0].disk;
		f64[n] = NULL, f32[n++] = &vm->virtio[1].slot;
		f64[n] = NULL, f32[n++] = &vm->role;
	}
	return n;
}

/* Mutations of a good configuration: a number set to the fuzzer's value,
 * moved by a few 2 MiB steps, or set to another number plus a little. */
static void run_structured(const uint8_t *data, size_t size)
{
	static struct sys_config c;
	static uint64_t *f64[128];
	static uint32_t *f32[128];
	struct fuzz_in in = {data, size};
	struct cfg_error err;

	good_config(&c);
	unsigned n = config_fields(&c, f64, f32);
	while (in.n) {
		unsigned i = fin_u8(&in) % n, j = fin_u8(&in) % n;
		uint8_t how = fin_u8(&in);
		uint64_t other = f64[j] ? *f64[j] : *f32[j];
		uint64_t val = how % 3 == 0 ? fin_u64(&in)
			       : how % 3 == 1
				       ? (f64[i] ? *f64[i] : *f32[i]) +
						 (uint64_t)((int64_t)(int8_t)fin_u8(&in) * 0x200000)
				       : other + (int8_t)fin_u8(&in);
		if (f64[i])
			*f64[i] = val;
		else
			*f32[i] = (uint32_t)val;
	}
	if (config_check(&c, platform_devs, platform_ndevs, &err) == 0)
		check_accepted(&c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const seeds[] = {"configs", "tests/fuzz/seeds/fuzz_config", NULL};

	static struct sys_config good;
	struct cfg_error err;

	fuzz_add_corpus(argc, argv, "fuzz_config", seeds);
	good_config(&good); /* the structured mode starts from an accepted one */
	FUZZ_ASSERT(!config_check(&good, platform_devs, platform_ndevs, &err), "%s: %s", err.field,
		    err.msg);
	cfgc_err = getenv("FUZZ_TRACE") ? fdopen(2, "w") : fopen("/dev/null", "w");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 0)
		run_binary(data + 1, size - 1);
	else if (size && data[0] == 1)
		run_structured(data + 1, size - 1);
	else
		run_text(data, size);
	return 0;
}
