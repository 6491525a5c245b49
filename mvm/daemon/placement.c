/* syshyperd: where its workers run (placement.h). */
#define _GNU_SOURCE
#include "placement.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define LOG(...) fprintf(stderr, "syshyperd: " __VA_ARGS__)

/* The number of the interrupt /proc/interrupts names exactly `name`, or -1. */
static int irq_named(const char *name)
{
	char line[512];
	int irq = -1;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (irq < 0 && fgets(line, sizeof(line), f)) {
		int n;
		char *end = line + strcspn(line, "\n");
		*end = 0;
		if (sscanf(line, " %d:", &n) != 1)
			continue;
		size_t len = strlen(name);
		if ((size_t)(end - line) <= len)
			continue;
		char *tail = end - len;
		if (tail[-1] == ' ' && !strcmp(tail, name))
			irq = n;
	}
	fclose(f);
	return irq;
}

/* The first CPU of /proc/irq/N/<file> (a CPU list), or -1. */
static int irq_cpu(int irq, const char *file)
{
	char path[64];
	int cpu = -1;

	snprintf(path, sizeof(path), "/proc/irq/%d/%s", irq, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &cpu) != 1)
		cpu = -1;
	fclose(f);
	return cpu;
}

static int service_cpu(void)
{
	int irq = irq_named("syshyper");

	if (irq < 0)
		return -1;
	int cpu = irq_cpu(irq, "effective_affinity_list");
	return cpu >= 0 ? cpu : irq_cpu(irq, "smp_affinity_list");
}

/* Routes the interrupt of the device behind block device fd (a virtio
 * disk: the interrupt carries the device's name, "virtioN") to cpu. */
static void route_disk_irq(unsigned idx, int fd, int cpu)
{
	struct stat st;
	char link[64], dev[PATH_MAX], path[64];

	if (fstat(fd, &st) || !S_ISBLK(st.st_mode))
		return; /* a file: its file system's device is not ours to move */
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u/device", major(st.st_rdev),
		 minor(st.st_rdev));
	if (!realpath(link, dev)) { /* a partition: its disk's device */
		snprintf(link, sizeof(link), "/sys/dev/block/%u:%u/../device", major(st.st_rdev),
			 minor(st.st_rdev));
		if (!realpath(link, dev))
			return;
	}
	const char *name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	int irq = irq_named(name);
	if (irq < 0)
		return;
	if (irq_cpu(irq, "effective_affinity_list") == cpu)
		return;
	snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", irq);
	FILE *f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", cpu) < 0 || fclose(f)) {
		LOG("disk %u: cannot route %s's interrupt %d to CPU %d\n", idx, name, irq, cpu);
		return;
	}
	LOG("disk %u: %s's interrupt %d routed to CPU %d\n", idx, name, irq, cpu);
}

void place_workers(const int *disk_fds, unsigned ndisks)
{
	const char *env = getenv("SYSHYPERD_CPU");
	int cpu = env ? atoi(env) : service_cpu();
	cpu_set_t set;

	if (cpu < 0) {
		LOG("workers on any CPU\n");
		return;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) { /* the workers inherit it */
		LOG("cannot keep the workers on CPU %d: %s\n", cpu, strerror(errno));
		return;
	}
	for (unsigned i = 0; i < ndisks; i++)
		if (disk_fds[i] >= 0)
			route_disk_irq(i, disk_fds[i], cpu);
	LOG("workers on CPU %d\n", cpu);
}
