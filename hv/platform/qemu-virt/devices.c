/* The QEMU virt devices a configuration may pass through to a VM or give to
 * the hypervisor's own driver (system: hv-disk). The PL011 UART and the GIC
 * belong to the hypervisor and are deliberately not listed.
 *
 * Interrupts are GIC INTIDs: SPI n is INTID 32 + n. QEMU virt wires
 * virtio-mmio slot n to SPI 16 + n, the PL031 RTC to SPI 2 and the PL061
 * GPIO controller to SPI 7. */
#include "platform/platform.h"

#define SPI(n) (32 + (n))

#define VIRTIO(n)                                                                     \
	{                                                                             \
		.name = "virtio-mmio" #n,                                             \
		.pa = PLAT_VIRTIO_MMIO_BASE + (n)*PLAT_VIRTIO_MMIO_STRIDE,            \
		.size = PLAT_VIRTIO_MMIO_STRIDE, .irqs = {SPI(16 + (n))}, .nirqs = 1, \
	}

const struct platform_dev platform_devs[] = {
	VIRTIO(0),
	VIRTIO(1),
	VIRTIO(2),
	VIRTIO(3),
	VIRTIO(4),
	VIRTIO(5),
	VIRTIO(6),
	VIRTIO(7),
	VIRTIO(8),
	VIRTIO(9),
	VIRTIO(10),
	VIRTIO(11),
	VIRTIO(12),
	VIRTIO(13),
	VIRTIO(14),
	VIRTIO(15),
	VIRTIO(16),
	VIRTIO(17),
	VIRTIO(18),
	VIRTIO(19),
	VIRTIO(20),
	VIRTIO(21),
	VIRTIO(22),
	VIRTIO(23),
	VIRTIO(24),
	VIRTIO(25),
	VIRTIO(26),
	VIRTIO(27),
	VIRTIO(28),
	VIRTIO(29),
	VIRTIO(30),
	VIRTIO(31),
	{.name = "pl031", .pa = 0x09010000, .size = 0x1000, .irqs = {SPI(2)}, .nirqs = 1},
	{.name = "pl061", .pa = 0x09030000, .size = 0x1000, .irqs = {SPI(7)}, .nirqs = 1},
};

const unsigned platform_ndevs = sizeof(platform_devs) / sizeof(platform_devs[0]);

/* QEMU virt's RAM starts at 1 GiB and may reach 255 GiB; below it is the
 * device space (the GIC and the UART too, which the list above leaves out). */
const uint64_t platform_ram_base = 0x40000000ULL;
const uint64_t platform_ram_size = 255ULL << 30;
