/* What every board provides: its facts (platform/board.h, from the board's
 * folder) and the list of devices a configuration may give to a VM or to the
 * hypervisor (the board's devices.c). */
#ifndef PLATFORM_H
#define PLATFORM_H
#include <stdint.h>

#include "platform/board.h"

#define PLAT_MAX_DEV_IRQS 4

/* A device that may be passed through (name, pa, size, GIC INTIDs). */
struct platform_dev {
	const char *name;
	uint64_t pa;
	uint64_t size;
	uint32_t irqs[PLAT_MAX_DEV_IRQS];
	uint32_t nirqs;
};

extern const struct platform_dev platform_devs[];
extern const unsigned platform_ndevs;

/* The board's RAM window: [system] ram must lie inside it, so no VM's memory
 * can map the board's devices. */
extern const uint64_t platform_ram_base, platform_ram_size;

#endif
