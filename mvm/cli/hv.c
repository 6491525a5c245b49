/* The hypervisor as the CLI sees it: /dev/syshyper and the hypercalls the
 * module passes on (information, start, stop) or makes itself (loading). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "syshyper/ioctl.h"

#define DEVICE "/dev/syshyper"

static int dev = -1;

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("syshyper: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int hv_open(void)
{
	if (dev >= 0)
		return EX_OK;
	dev = open(DEVICE, O_RDWR | O_CLOEXEC);
	if (dev >= 0)
		return EX_OK;
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		return cli_fail(EX_NOT_MVM, "not the MVM: no %s (this VM has no sysHyper module)",
				DEVICE);
	return cli_fail(EX_NOT_MVM, "cannot open %s: %s", DEVICE, strerror(errno));
}

/* A hypercall through the module's allow-list; x[0] is the status after. */
static long hvc(struct syshyper_hvc *c)
{
	if (ioctl(dev, SYSHYPER_IOC_HVC, c))
		return 1;
	return (long)c->x[0];
}

int hv_vm_count(void)
{
	struct syshyper_hvc c = {.x = {HC_VM_COUNT}};
	long st = hvc(&c);

	if (st != HC_OK)
		return -hv_error(st, NULL, "count the VMs");
	return (int)c.x[1];
}

int hv_vm_info(unsigned idx, struct hc_vm_info *info)
{
	struct syshyper_hvc c = {.x = {HC_VM_INFO, idx}, .buf = (uintptr_t)info};
	long st = hvc(&c);

	if (st != HC_OK)
		return hv_error(st, NULL, "read a VM's information");
	info->name[HC_NAME_LEN - 1] = 0;
	info->reason[HC_REASON_LEN - 1] = 0;
	return EX_OK;
}

long hv_vm_start(unsigned idx)
{
	struct syshyper_hvc c = {.x = {HC_VM_START, idx}};
	return hvc(&c);
}

long hv_vm_stop(unsigned idx, unsigned long mode)
{
	struct syshyper_hvc c = {.x = {HC_VM_STOP, idx, mode}};
	return hvc(&c);
}

long hv_vm_load(unsigned idx, uint64_t dest_ipa, const void *src, uint64_t len)
{
	struct syshyper_vm_load l = {
		.vm = idx, .dest_ipa = dest_ipa, .src = (uintptr_t)src, .len = len};

	if (ioctl(dev, SYSHYPER_IOC_VM_LOAD, &l))
		return 1;
	return (long)l.status;
}

int hv_wait_event(uint64_t *seen, unsigned timeout_ms)
{
	struct syshyper_vm_wait w = {.seen = *seen, .timeout_ms = timeout_ms};

	if (ioctl(dev, SYSHYPER_IOC_VM_WAIT, &w)) {
		if (errno == EINTR)
			return EX_OK;
		/* a module without the event interrupt: poll instead */
		usleep(timeout_ms < 500 ? timeout_ms * 1000 : 500000);
		return EX_OK;
	}
	*seen = w.seen;
	return EX_OK;
}

int hv_error(long status, const char *vm, const char *what)
{
	const char *v = vm ? vm : "the VM";

	switch (status) {
	case 1:
		if (errno == EPERM || errno == EACCES)
			return cli_fail(EX_NOT_MVM, "%s: not allowed: %s", what, strerror(errno));
		return cli_fail(EX_FAIL, "%s: %s", what, strerror(errno));
	case HC_ERR_DENIED:
		return cli_fail(EX_NOT_MVM,
				"%s: the hypervisor denied it (not the MVM, or %s is "
				"not a guest VM)",
				what, v);
	case HC_ERR_STATE:
		return cli_fail(EX_STATE, "%s: %s is in the wrong state", what, v);
	case HC_ERR_RANGE:
		return cli_fail(EX_IMAGE, "%s: outside %s's memory", what, v);
	case HC_ERR_INVALID:
		return cli_fail(EX_NOVM, "%s: no such VM", what);
	default:
		return cli_fail(EX_FAIL, "%s: the hypervisor answered %ld", what, status);
	}
}
