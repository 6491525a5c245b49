/* QEMU virt board facts: where the hypervisor finds its console and device
 * tree, and the machine every VM is shown (GIC, UART and virtio-mmio window
 * at the board's own addresses). A new board is a new folder with this
 * header and a devices.c. */
#ifndef PLATFORM_BOARD_H
#define PLATFORM_BOARD_H

#define PLAT_DTB_ADDR 0x40000000UL /* QEMU places the DTB at the start of RAM */
#define PLAT_UART_BASE 0x09000000UL
#define PLAT_UART_IRQ 33               /* SPI 1 */
#define PLAT_DEVICE_LIMIT 0x40000000UL /* below: device memory */

/* A VM's PL011 (emulated) sits where the board's is. */
#define PLAT_GUEST_UART_IPA 0x09000000UL
#define PLAT_GUEST_UART_IRQ 33
/* A GVM's power button: an emulated PL061 where the board's is (SPI 7). */
#define PLAT_GUEST_GPIO_IPA 0x09030000UL
#define PLAT_GUEST_GPIO_IRQ 39

/* A VM's GIC: distributor, GICv2 CPU interface, GICv3 redistributors (one
 * 128 KiB frame pair per vCPU). */
#define PLAT_GUEST_GICD 0x08000000UL
#define PLAT_GUEST_GICD_SIZE 0x10000UL
#define PLAT_GUEST_GICC 0x08010000UL
#define PLAT_GUEST_GICR 0x080a0000UL

/* The virtio-mmio window: slot n at BASE + n * STRIDE, interrupt INTID0 + n
 * (SPI 16 + n). The hypervisor's virtio devices use these slots too. */
#define PLAT_VIRTIO_MMIO_BASE 0x0a000000UL
#define PLAT_VIRTIO_MMIO_STRIDE 0x200UL
#define PLAT_VIRTIO_MMIO_SLOTS 32
#define PLAT_VIRTIO_MMIO_INTID0 48

#endif
