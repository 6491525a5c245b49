/* virtio-console device (virtio 1.1 §5.3), single port: the guest's hvc0.
 * Its output joins the console multiplexer under the VM's prefix, like the
 * emulated PL011's. */
#ifndef VIRTIO_CONSOLE_H
#define VIRTIO_CONSOLE_H
#include "virtio/virtio_mmio.h"

struct virtio_console {
	struct virtio_dev vdev;
	uint64_t bytes_out;
	uint64_t bytes_dropped; /* beyond what one chain may carry */
};

int virtio_console_create(struct virtio_console *con, struct vm *vm, ipa_t base, uint32_t irq);
#endif
