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
/* HC_MED_POLL: the argument is the microseconds (0: stopped); a file that
 * polled says it stopped when it is closed (its daemon died) */
#define SYSHYPER_IOC_POLL _IO(SYSHYPER_IOC_MAGIC, 4)

/* VM lifecycle (mvm/kmod/vmctl.c). VM_LOAD copies `len` bytes from user
 * memory at `src` to `dest_ipa` in the stopped GVM `vm`: the module copies
 * them through its own buffer in HC_LOAD_CHUNK pieces (HC_VM_LOAD never
 * sees an address user space chose); `status` is the hypervisor's answer
 * (HC_OK or the first HC_ERR_*), `done` the bytes copied. The ioctl fails
 * only for the module's own reasons (EFAULT, EINVAL, ENOMEM, EINTR). */
struct syshyper_vm_load {
	uint64_t vm, dest_ipa, src, len;
	int64_t status;
	uint64_t done;
};

/* VM_WAIT: waits until the count of HC_VM_EVENT_INTID interrupts differs
 * from `seen` or `timeout_ms` passed (0: no wait); `seen` gets the count. */
struct syshyper_vm_wait {
	uint64_t seen, timeout_ms;
};

#define SYSHYPER_IOC_VM_LOAD _IOWR(SYSHYPER_IOC_MAGIC, 16, struct syshyper_vm_load)
#define SYSHYPER_IOC_VM_WAIT _IOWR(SYSHYPER_IOC_MAGIC, 17, struct syshyper_vm_wait)

#endif
