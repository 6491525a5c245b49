/* QEMU's side of a configuration, one argument per line (scripts/qemu.sh
 * reads them with mapfile):
 *   cfgc -q  the loader: each preloaded image at its physical address
 *   cfgc -d  the board: CPUs, RAM, and what is attached to each virtio-mmio
 *            slot the configuration names with disk=FILE or net=user */
#include <inttypes.h>

#include "cfgc.h"

/* QEMU's option syntax: a ',' inside a value is written ",,". */
static void qemu_value(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == ',')
			fputc(',', o);
		fputc(*s, o);
	}
}

void write_qemu_loader(FILE *o)
{
	for (unsigned v = 0; v < cfg.nvms; v++) {
		const struct cfg_vm *vm = &cfg.vms[v];
		const struct cfg_image *img[IMG_COUNT] = {&vm->kernel, &vm->initrd, &vm->dtb};

		if (vmb[v].images != IMAGES_PRELOAD)
			continue; /* the MVM loads them */
		for (unsigned i = 0; i < IMG_COUNT; i++) {
			if (!vmb[v].path[i][0])
				continue;
			fputs("-device\nloader,file=", o);
			qemu_value(o, vmb[v].path[i]);
			fprintf(o, ",addr=0x%" PRIx64 ",force-raw=on\n", img[i]->pa);
		}
	}
}

void write_qemu_devices(FILE *o)
{
	fprintf(o, "-smp\n%" PRIu32 "\n-m\n%" PRIu64 "M\n", cfg.ncpus, cfg.ram_size >> 20);
	for (unsigned i = 0; i < nqemu_devs; i++) {
		const struct qemu_dev *q = &qemu_devs[i];

		if (q->kind == QB_DISK) {
			fputs("-drive\nfile=", o);
			qemu_value(o, q->file);
			fprintf(o, ",if=none,format=raw,id=disk%" PRIu32 "\n", q->slot);
			fprintf(o,
				"-device\nvirtio-blk-device,drive=disk%" PRIu32
				",bus=virtio-mmio-bus.%" PRIu32 "\n",
				q->slot, q->slot);
		} else if (q->kind == QB_NET_USER) {
			fprintf(o, "-netdev\nuser,id=net%" PRIu32 "\n", q->slot);
			fprintf(o,
				"-device\nvirtio-net-device,netdev=net%" PRIu32
				",bus=virtio-mmio-bus.%" PRIu32 "\n",
				q->slot, q->slot);
		}
	}
}
