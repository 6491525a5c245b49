/* ioctls of /dev/syshyper, the MVM kernel module's device (shared by the
 * module and the MVM's user-space tools). */
#ifndef SYSHYPER_IOCTL_H
#define SYSHYPER_IOCTL_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <sys/ioctl.h>
#endif

/* A sysHyper hypercall (HC_FID range only): x[0] = function id, x[1..3]
 * arguments; on return x[0..3] as the hypervisor left them. For
 * HC_VM_INFO the module passes its own buffer and copies the struct
 * hc_vm_info to user space at `buf`. */
struct syshyper_hvc {
	uint64_t x[4];
	uint64_t buf;
};

#define SYSHYPER_IOC_MAGIC 'S'
#define SYSHYPER_IOC_COMPLETE _IO(SYSHYPER_IOC_MAGIC, 1) /* HC_MED_COMPLETE */
#define SYSHYPER_IOC_RESYNC _IO(SYSHYPER_IOC_MAGIC, 2)   /* HC_MED_RESYNC */
#define SYSHYPER_IOC_HVC _IOWR(SYSHYPER_IOC_MAGIC, 3, struct syshyper_hvc)

#endif
