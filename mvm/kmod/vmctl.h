/* SPDX-License-Identifier: GPL-2.0 */
/* The VM lifecycle part of the MVM module (vmctl.c). */
#ifndef SYSHYPER_VMCTL_H
#define SYSHYPER_VMCTL_H

#include <linux/platform_device.h>

/* Allocates the load buffer and takes the VM event interrupt (the second
 * of the node); neither is fatal: loads then fail, waits poll. */
void vmctl_probe(struct platform_device *pdev);
/* The lifecycle ioctls; -ENOTTY for any other command. */
long vmctl_ioctl(unsigned int cmd, unsigned long arg);

#endif
