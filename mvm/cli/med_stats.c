/* The mediated block path's time per stage, as `syshyper stats` shows it:
 * the hypervisor's sums, published read-only in the mediated area
 * (syshyper/mediated.h), which the module lets any opener map. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "syshyper/mediated.h"

static void print_stage(const char *name, const struct med_stage_sum *s, double per_us)
{
	if (!s->count)
		return;
	printf("  %-18s %10llu %10.1f %10.1f\n", name, (unsigned long long)s->count,
	       (double)s->ticks / (double)s->count / per_us, (double)s->max_ticks / per_us);
}

void print_med_stages(void)
{
	static const char *const names[MED_STAGES] = MED_STAGE_NAMES;
	int fd = open("/dev/syshyper", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	const struct med_area *a = mmap(NULL, MED_HDR_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (a == MAP_FAILED)
		return;
	if (a->magic == MED_MAGIC && a->version == MED_VERSION && a->counter_hz >= 1000000) {
		struct med_stage_sum st[MED_STAGES];
		double per_us = (double)a->counter_hz / 1e6;
		for (int i = 0; i < MED_STAGES; i++) /* one read of what the hypervisor updates */
			st[i] = a->stages[i];
		printf("mediated path, per request (counter %.1f MHz):\n", per_us);
		printf("  %-18s %10s %10s %10s\n", "stage", "requests", "mean us", "max us");
		for (int i = 0; i < MED_STAGES; i++)
			print_stage(names[i], &st[i], per_us);
		if (a->stage_rejected)
			printf("  MVM stamps out of order (not counted): %llu\n",
			       (unsigned long long)a->stage_rejected);
		uint64_t polls = a->polls, hits = a->poll_hits;
		if (polls)
			printf("  daemon polls: %llu, found requests: %llu\n",
			       (unsigned long long)polls, (unsigned long long)hits);
	}
	munmap((void *)(uintptr_t)a, MED_HDR_SIZE);
}
