/* syshyper: the MVM's command line to the hypervisor.
 *
 *   syshyper list          one line per VM: index, name, state, vCPUs, memory
 *   syshyper stats [VM]    counters per VM: traps by cause, MMIO, hypercalls,
 *                          interrupts injected, time in guest */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "syshyper/hypercall.h"
#include "syshyper/ioctl.h"

static const char *const causes[HC_TRAP_CAUSES] = {"dabt",   "hvc", "smc",  "wfx",
						   "sysreg", "irq", "other"};

static int hv_call(int fd, struct syshyper_hvc *c)
{
	if (ioctl(fd, SYSHYPER_IOC_HVC, c)) {
		fprintf(stderr, "syshyper: hypercall failed: %s\n", strerror(errno));
		return -1;
	}
	if ((long)c->x[0] != HC_OK) {
		fprintf(stderr, "syshyper: the hypervisor answered %ld\n", (long)c->x[0]);
		return -1;
	}
	return 0;
}

static int vm_info(int fd, unsigned idx, struct hc_vm_info *info)
{
	struct syshyper_hvc c = {.x = {HC_VM_INFO, idx}, .buf = (uintptr_t)info};
	return hv_call(fd, &c);
}

static int vm_count(int fd)
{
	struct syshyper_hvc c = {.x = {HC_VM_COUNT}};
	return hv_call(fd, &c) ? -1 : (int)c.x[1];
}

static void print_stats(unsigned idx, const struct hc_vm_info *v)
{
	printf("%u %s:", idx, v->name);
	for (int t = 0; t < HC_TRAP_CAUSES; t++)
		printf(" %s %llu", causes[t], v->traps[t]);
	printf(" | mmio r %llu w %llu hypercalls %llu irqs-injected %llu guest-ms %llu\n",
	       v->mmio_reads, v->mmio_writes, v->hypercalls, v->irqs_injected, v->guest_us / 1000);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "list";
	struct hc_vm_info info;
	int fd = open("/dev/syshyper", O_RDWR);

	if (fd < 0) {
		fprintf(stderr, "syshyper: cannot open /dev/syshyper: %s\n", strerror(errno));
		return 1;
	}
	int n = vm_count(fd);
	if (n < 0)
		return 1;
	if (!strcmp(cmd, "list")) {
		printf("%-3s %-16s %-8s %5s %8s\n", "id", "name", "state", "vcpus", "MiB");
		for (int i = 0; i < n; i++) {
			if (vm_info(fd, (unsigned)i, &info))
				return 1;
			printf("%-3d %-16s %-8s %5llu %8llu\n", i, info.name,
			       info.state ? "running" : "stopped", info.ncpus,
			       info.mem_bytes >> 20);
		}
	} else if (!strcmp(cmd, "stats")) {
		for (int i = 0; i < n; i++) {
			if (vm_info(fd, (unsigned)i, &info))
				return 1;
			if (argc < 3 || !strcmp(argv[2], info.name))
				print_stats((unsigned)i, &info);
		}
	} else {
		fprintf(stderr, "usage: syshyper list | stats [VM]\n");
		return 2;
	}
	return 0;
}
