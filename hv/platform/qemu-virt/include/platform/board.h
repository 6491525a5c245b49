/* QEMU virt board constants the hypervisor needs before (or without) the
 * device tree. A new board is a new folder with this header. */
#ifndef PLATFORM_H
#define PLATFORM_H

#define PLAT_DTB_ADDR 0x40000000UL /* QEMU places the DTB at the start of RAM */
#define PLAT_UART_BASE 0x09000000UL
#define PLAT_UART_IRQ 33 /* SPI 1 */
#define PLAT_GUEST_UART_IPA 0x09000000UL
#define PLAT_GUEST_UART_IRQ 33
#define PLAT_DEVICE_LIMIT 0x40000000UL /* below: device memory */

#endif
