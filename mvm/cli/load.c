/* Loading a stopped GVM: every image is checked against the VM's RAM (as
 * the hypervisor reports it) and against the others before a byte moves;
 * the module then copies each file through its own buffer and the
 * hypervisor into the VM. The MVM never maps the VM's memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

struct image {
	const char *what, *path;
	uint64_t ipa;
	uint64_t size; /* bytes in the file */
	uint64_t span; /* bytes it occupies in the VM (a kernel's BSS too) */
};

/* An arm64 Linux Image says how much memory it needs from its load
 * address, BSS included (header: image_size at 16, magic "ARM\x64" at 56). */
static uint64_t kernel_span(int fd, uint64_t size)
{
	unsigned char h[64];
	uint64_t need = 0;

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || memcmp(h + 56, "ARM\x64", 4))
		return size;
	for (int i = 7; i >= 0; i--)
		need = need << 8 | h[16 + i];
	return need > size ? need : size;
}

static int check_image(const struct vm *vm, struct image *img)
{
	const struct hc_vm_info *v = &vm->info;
	struct stat st;
	int fd = open(img->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return cli_fail(EX_IMAGE, "%s: %s image %s: %s", v->name, img->what, img->path,
				strerror(e));
	}
	img->size = (uint64_t)st.st_size;
	img->span = !strcmp(img->what, "kernel") ? kernel_span(fd, img->size) : img->size;
	close(fd);
	if (!S_ISREG(st.st_mode) || !img->size)
		return cli_fail(EX_IMAGE, "%s: %s image %s is empty or not a file", v->name,
				img->what, img->path);
	/* inside [ram_ipa, ram_ipa + ram_bytes), computed without overflow */
	if (img->ipa < v->ram_ipa || img->span > v->ram_bytes ||
	    img->ipa - v->ram_ipa > v->ram_bytes - img->span)
		return cli_fail(EX_IMAGE,
				"%s: %s image %s is too big: %llu bytes at 0x%llx do not fit the "
				"VM's RAM 0x%llx + %llu MiB",
				v->name, img->what, img->path, (unsigned long long)img->span,
				(unsigned long long)img->ipa, v->ram_ipa, v->ram_bytes >> 20);
	return EX_OK;
}

static int overlap(const struct image *a, const struct image *b)
{
	return a->ipa < b->ipa + b->span && b->ipa < a->ipa + a->span;
}

static int copy_image(const struct vm *vm, const struct image *img)
{
	int fd = open(img->path, O_RDONLY | O_CLOEXEC);
	void *p = fd < 0 ? MAP_FAILED : mmap(NULL, img->size, PROT_READ, MAP_PRIVATE, fd, 0);
	long st;

	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED)
		return cli_fail(EX_IMAGE, "%s: cannot read %s: %s", vm->info.name, img->path,
				strerror(errno));
	st = hv_vm_load(vm->idx, img->ipa, p, img->size);
	munmap(p, img->size);
	if (st != HC_OK) {
		char what[80];
		snprintf(what, sizeof(what), "load %s", img->path);
		return hv_error(st, vm->info.name, what);
	}
	return EX_OK;
}

int load_images(const struct vm *vm, const struct vm_images *m)
{
	struct image imgs[3];
	int n = 0, err;

	if (!m->kernel[0] || !m->dtb[0])
		return cli_fail(EX_IMAGE, "%s: the manifest names no kernel or no device tree",
				vm->info.name);
	imgs[n++] = (struct image){"kernel", m->kernel, vm->info.kernel_ipa, 0, 0};
	if (m->initrd[0] && vm->info.initrd_ipa)
		imgs[n++] = (struct image){"initrd", m->initrd, vm->info.initrd_ipa, 0, 0};
	imgs[n++] = (struct image){"dtb", m->dtb, vm->info.dtb_ipa, 0, 0};
	for (int i = 0; i < n; i++)
		if ((err = check_image(vm, &imgs[i])))
			return err;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (overlap(&imgs[i], &imgs[j]))
				return cli_fail(EX_IMAGE, "%s: the %s image overlaps the %s image",
						vm->info.name, imgs[i].what, imgs[j].what);
	for (int i = 0; i < n; i++)
		if ((err = copy_image(vm, &imgs[i])))
			return err;
	return EX_OK;
}
