/* The build's rules, which the hypervisor's config_check cannot know:
 * where images come from, which VM runs make run's script, what QEMU
 * attaches to the board, what backs the mediated disks in the MVM. Run
 * after config_check, so names and roles are sound (and mediated disk
 * indices unique). */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "cfgc.h"
#include "syshyper/mediated.h"

static int line_of(unsigned v, const char *key)
{
	char field[FIELD_LEN];
	int line;

	snprintf(field, sizeof(field), "vm %s: %s", cfg.vms[v].name, key);
	line = loc_find(field);
	return line > 0 ? line : vmb[v].line;
}

static void __attribute__((noreturn, format(printf, 3, 4)))
vm_error(unsigned v, const char *key, const char *fmt, ...)
{
	char field[FIELD_LEN], msg[256];
	va_list ap;

	snprintf(field, sizeof(field), "vm %s: %s", cfg.vms[v].name, key);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	die_at(line_of(v, key), field, "%s", msg);
}

static int mvm_index(void)
{
	for (unsigned v = 0; v < cfg.nvms; v++)
		if (cfg.vms[v].role == VM_ROLE_MVM)
			return (int)v;
	return -1;
}

static void check_images_source(unsigned v)
{
	const struct vm_build *b = &vmb[v];
	int mvm = mvm_index();

	if (cfg.vms[v].role == VM_ROLE_MVM) {
		if (b->images == IMAGES_MVM)
			vm_error(v, "images", "the MVM's images are always preloaded");
		if (!b->autostart)
			vm_error(v, "autostart", "the MVM always starts at boot");
		return;
	}
	if (b->images != IMAGES_MVM)
		return;
	if (mvm < 0 || !vmb[mvm].generated[IMG_INITRD])
		vm_error(v, "images",
			 "'mvm' needs the MVM's initrd built from the configuration "
			 "(initrd = @ ADDRESS in [vm %s])",
			 mvm < 0 ? "mvm" : cfg.vms[mvm].name);
}

static void check_run_script(unsigned v)
{
	if (!vmb[v].run_script)
		return;
	if (cfg.vms[v].role != VM_ROLE_GVM)
		vm_error(v, "run-script", "make run's script runs in a GVM, not the MVM");
	if (!vmb[v].generated[IMG_INITRD])
		vm_error(v, "run-script",
			 "the script goes into a built initrd: write 'initrd = @ ADDRESS'");
	for (unsigned w = 0; w < v; w++)
		if (vmb[w].run_script)
			vm_error(v, "run-script", "vm %s runs make run's script already",
				 cfg.vms[w].name);
}

/* mediated-poll = US: the MVM's block daemon polls that long for requests
 * before it sleeps (0: never), bounded by what the hypervisor grants. */
static void check_poll(unsigned v)
{
	if (!vmb[v].has_poll)
		return;
	if (cfg.vms[v].role != VM_ROLE_MVM)
		vm_error(v, "mediated-poll", "only the MVM's block daemon polls");
	if (vmb[v].poll_us > MED_POLL_MAX_US)
		vm_error(v, "mediated-poll", "at most %u microseconds, not %" PRIu32,
			 MED_POLL_MAX_US, vmb[v].poll_us);
}

/* Two board devices of QEMU's must not share a file (QEMU would open a
 * raw image twice, both writable). */
static void check_qemu_files(void)
{
	for (unsigned i = 0; i < nqemu_devs; i++)
		for (unsigned j = 0; j < i; j++)
			if (qemu_devs[i].kind == QB_DISK && qemu_devs[j].kind == QB_DISK &&
			    !strcmp(qemu_devs[i].file, qemu_devs[j].file)) {
				die_at(qemu_devs[i].line, qemu_devs[i].field,
				       "disk=%s is attached to virtio-mmio%u already",
				       qemu_devs[i].file, qemu_devs[j].slot);
			}
}

/* Paths the make fragment names: make and mkinitramfs's SRC:DEST cannot
 * carry blanks or these characters. */
static void check_path(const char *path, int line, const char *field)
{
	if (strpbrk(path, " \t$#:=%\\\"'"))
		die_at(line, field,
		       "'%s': a file name the build uses cannot hold blanks or "
		       "$#:=%%\\\"'",
		       path);
}

static void check_paths(void)
{
	char field[FIELD_LEN];

	for (unsigned v = 0; v < cfg.nvms; v++)
		for (unsigned k = 0; k < IMG_COUNT; k++) {
			snprintf(field, sizeof(field), "vm %s: %s", cfg.vms[v].name, image_keys[k]);
			check_path(vmb[v].path[k], line_of(v, image_keys[k]), field);
		}
	for (unsigned i = 0; i < nqemu_devs; i++)
		if (qemu_devs[i].kind == QB_DISK)
			check_path(qemu_devs[i].file, qemu_devs[i].line, qemu_devs[i].field);
}

static bool is_mediated(const struct cfg_virtio *d)
{
	return d->type == CFG_VIRTIO_BLK && d->backend == CFG_BLK_MEDIATED;
}

/* Mediated disk i of VM v against those before it: no two regions of one
 * backing store overlap (two GVMs would write each other's data). */
static void check_backing_overlap(unsigned v, unsigned i)
{
	const struct cfg_virtio *d = &cfg.vms[v].virtio[i];
	const struct med_backing *b = &vmb[v].backing[i];
	char key[24];

	for (unsigned w = 0; w <= v; w++)
		for (unsigned j = 0; j < (w == v ? i : cfg.vms[w].nvirtio); j++) {
			const struct cfg_virtio *od = &cfg.vms[w].virtio[j];
			const struct med_backing *ob = &vmb[w].backing[j];

			if (!is_mediated(od) || strcmp(ob->path, b->path) ||
			    b->offset >= ob->offset + od->sectors * 512 ||
			    ob->offset >= b->offset + d->sectors * 512)
				continue;
			snprintf(key, sizeof(key), "virtio[%u]", i);
			vm_error(v, key,
				 "its region of %s overlaps mediated disk %u's (virtio[%u] of vm "
				 "%s)",
				 b->path, od->disk, j, cfg.vms[w].name);
		}
}

/* disks.conf goes into the MVM's built initrd. */
static void check_backing(void)
{
	int mvm = mvm_index();
	char key[24];

	for (unsigned v = 0; v < cfg.nvms; v++)
		for (unsigned i = 0; i < cfg.vms[v].nvirtio; i++) {
			if (!is_mediated(&cfg.vms[v].virtio[i]))
				continue;
			snprintf(key, sizeof(key), "virtio[%u]", i);
			if (mvm < 0 || !vmb[mvm].generated[IMG_INITRD])
				vm_error(v, key,
					 "backing= goes into the MVM's initrd built from the "
					 "configuration (initrd = @ ADDRESS in [vm %s])",
					 mvm < 0 ? "mvm" : cfg.vms[mvm].name);
			check_backing_overlap(v, i);
		}
}

void check_build(void)
{
	check_paths();
	for (unsigned v = 0; v < cfg.nvms; v++) {
		check_images_source(v);
		check_run_script(v);
		check_poll(v);
	}
	check_qemu_files();
	check_backing();
}
