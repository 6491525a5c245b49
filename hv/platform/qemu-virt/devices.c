/* QEMU virt devices that a configuration may pass through to a VM or give
 * to the hypervisor's own driver. The UART and the GIC are the
 * hypervisor's and are not listed. */
#include "vm_config.h"

#define VIRTIO(n) {"virtio-mmio" #n, 0x0a000000 + (n)*0x200, 0x200, 48 + (n)}

const struct platform_dev platform_devs[] = {
	VIRTIO(0),  VIRTIO(1),  VIRTIO(2),  VIRTIO(3),  VIRTIO(4),  VIRTIO(5),  VIRTIO(6),
	VIRTIO(7),  VIRTIO(8),  VIRTIO(9),  VIRTIO(10), VIRTIO(11), VIRTIO(12), VIRTIO(13),
	VIRTIO(14), VIRTIO(15), VIRTIO(16), VIRTIO(17), VIRTIO(18), VIRTIO(19), VIRTIO(20),
	VIRTIO(21), VIRTIO(22), VIRTIO(23), VIRTIO(24), VIRTIO(25), VIRTIO(26), VIRTIO(27),
	VIRTIO(28), VIRTIO(29), VIRTIO(30), VIRTIO(31),
	{"pl031", 0x09010000, 0x1000, 34},
	{"pl061", 0x09030000, 0x1000, 39},
};
const unsigned platform_ndevs = sizeof(platform_devs) / sizeof(platform_devs[0]);
