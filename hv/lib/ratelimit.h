/* Rate-limited log lines, per VM and cause: a guest (or the MVM side) that
 * keeps making the same mistake must not flood the console or keep a CPU
 * busy formatting. A window lets LOG_BURST lines through; the rest are
 * counted and the count is printed when the next window opens. */
#ifndef RATELIMIT_H
#define RATELIMIT_H
#include "arch/arm64/spinlock.h"
#include "lib/types.h"

#define LOG_BURST 5
#define LOG_WINDOW_MS 5000

enum log_cause {
	LOG_SYSREG,    /* trapped system register the VM may not use */
	LOG_VIRTIO,    /* virtio device errors (DEVICE_NEEDS_RESET) */
	LOG_ABORT,     /* aborts injected into the guest */
	LOG_MMIO,      /* MMIO accesses that could not be emulated */
	LOG_PSCI,      /* bad PSCI calls */
	LOG_HYPERCALL, /* bad or denied hypercalls */
	LOG_MEDIATED,  /* bad values from the MVM's side of the mediated area */
	LOG_CAUSES
};

struct log_limit {
	spinlock_t lock;
	uint64_t window_start; /* counter ticks */
	uint32_t printed;      /* lines in this window */
	uint32_t suppressed;   /* lines dropped since the last one printed */
};

/* Decides whether a line may be printed at time `now` (counter ticks, with
 * `window` ticks per window). Returns true if so; *suppressed_before is then
 * how many lines were dropped before it (to report). Pure: unit-tested. */
bool log_limit_allow(struct log_limit *l, uint64_t now, uint64_t window,
		     uint32_t *suppressed_before);

struct vm;
/* printk() prefixed "vm NAME: ", at most LOG_BURST lines per cause and VM
 * every LOG_WINDOW_MS (vm may be NULL: a system-wide limit per cause). */
void vm_log(struct vm *vm, enum log_cause cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#endif
