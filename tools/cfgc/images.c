/* Where each VM's image files are and how big they are.
 *
 * An image written "@ ADDRESS" is made by the build:
 *   initrd  the initramfs of the VM's role (scripts/mkinitramfs.sh), shared
 *           as INITRAMFS_DIR/ROLE/initramfs.cpio.gz, or, when the VM needs
 *           files added (the MVM: its disks.conf and the images of the GVMs
 *           it loads; the VM that runs make run's SCRIPT), OUT/VM/initrd.img:
 *           the shared archive with an uncompressed one of those files
 *           appended
 *   dtb     OUT/VM/vm.dtb, compiled by dtc from cfgc --dts
 * OUT is -B, INITRAMFS_DIR --initramfs-dir. A GVM with `images = mvm` has
 * its files in the MVM at /lib/syshyper/VM/{kernel,initrd,dtb}; a file
 * several such GVMs use is kept once (the others' entries are links). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cfgc.h"

const char *const image_keys[IMG_COUNT] = {"kernel", "initrd", "dtb"};

static const char *role_name(const struct cfg_vm *vm)
{
	return vm->role == VM_ROLE_MVM ? "mvm" : "gvm";
}

bool mvm_loads_images(void)
{
	for (unsigned v = 0; v < cfg.nvms; v++)
		if (cfg.vms[v].role == VM_ROLE_GVM && vmb[v].images == IMAGES_MVM)
			return true;
	return false;
}

bool mvm_initrd_built(void)
{
	for (unsigned v = 0; v < cfg.nvms; v++)
		if (cfg.vms[v].role == VM_ROLE_MVM)
			return vmb[v].generated[IMG_INITRD];
	return false;
}

/* The MVM's built initrd always carries its disks.conf (out_disks.c). */
bool initrd_has_extras(unsigned v)
{
	return vmb[v].run_script || cfg.vms[v].role == VM_ROLE_MVM;
}

void base_initramfs(char *buf, size_t size, unsigned v)
{
	snprintf(buf, size, "%s/%s/initramfs.cpio.gz", initramfs_dir, role_name(&cfg.vms[v]));
}

static void generated_path(unsigned v, enum image_kind kind)
{
	char *p = vmb[v].path[kind];
	int n;

	if (kind == IMG_INITRD && !initrd_has_extras(v)) {
		base_initramfs(p, MAX_PATH, v);
		return;
	}
	n = snprintf(p, MAX_PATH, "%s/%s/%s", out_dir, cfg.vms[v].name,
		     kind == IMG_INITRD ? "initrd.img" : "vm.dtb");
	if (n < 0 || n >= MAX_PATH)
		die_at(vmb[v].line, "-B", "the output directory's name is too long");
}

static void measure(unsigned v, enum image_kind kind)
{
	struct cfg_vm *vm = &cfg.vms[v];
	struct cfg_image *img[IMG_COUNT] = {&vm->kernel, &vm->initrd, &vm->dtb};
	const char *path = vmb[v].path[kind];
	char field[FIELD_LEN];
	struct stat st;
	int line;

	snprintf(field, sizeof(field), "vm %s: %s", vm->name, image_keys[kind]);
	line = loc_find(field);
	if (stat(path, &st))
		die_at(line, field, "cannot read image file '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die_at(line, field, "image file '%s' is not a regular file", path);
	img[kind]->size = (uint64_t)st.st_size;
}

/* Names the generated images; measures every image if `all`, else only
 * the initrd of VM `initrd_of` (-1: none; a device tree needs its size). */
void resolve_images(bool all, int initrd_of)
{
	for (unsigned v = 0; v < cfg.nvms; v++)
		for (unsigned k = 0; k < IMG_COUNT; k++) {
			bool given = vmb[v].path[k][0] || vmb[v].generated[k];
			if (vmb[v].generated[k])
				generated_path(v, (enum image_kind)k);
			if (given && (all || (k == IMG_INITRD && (int)v == initrd_of)))
				measure(v, (enum image_kind)k);
		}
}

static unsigned first_user_of(unsigned vm, enum image_kind kind)
{
	for (unsigned v = 0; v < vm; v++)
		for (unsigned k = 0; k < IMG_COUNT; k++)
			if (vmb[v].images == IMAGES_MVM && cfg.vms[v].role == VM_ROLE_GVM &&
			    !strcmp(vmb[v].path[k], vmb[vm].path[kind]))
				return v;
	return vm;
}

/* The image of `kind` that `vm` shares with an earlier VM, as that VM's kind. */
static enum image_kind shared_kind(unsigned owner, unsigned vm, enum image_kind kind)
{
	for (unsigned k = 0; k < IMG_COUNT; k++)
		if (!strcmp(vmb[owner].path[k], vmb[vm].path[kind]))
			return (enum image_kind)k;
	return kind;
}

void mvm_image_path(char *buf, size_t size, unsigned vm, enum image_kind kind)
{
	snprintf(buf, size, "/lib/syshyper/%s/%s", cfg.vms[vm].name, image_keys[kind]);
}

/* Where the file behind the MVM's entry for (vm, kind) really is: the first
 * GVM that uses it. */
void mvm_image_owner(unsigned vm, enum image_kind kind, unsigned *owner, enum image_kind *okind)
{
	*owner = first_user_of(vm, kind);
	*okind = *owner == vm ? kind : shared_kind(*owner, vm, kind);
}

bool vm_ipa_of_pa(const struct cfg_vm *vm, uint64_t pa, uint64_t *ipa)
{
	for (unsigned r = 0; r < vm->nmem; r++)
		if (pa >= vm->mem[r].pa && pa - vm->mem[r].pa < vm->mem[r].size) {
			*ipa = pa - vm->mem[r].pa + vm->mem[r].ipa;
			return true;
		}
	return false;
}
