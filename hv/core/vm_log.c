/* vm_log(): rate-limited log lines per VM and cause (see ratelimit.h). */
#include <stdarg.h>

#include "arch/arm64/arch.h"
#include "core/print.h"
#include "lib/ratelimit.h"
#include "core/vm.h"

static struct log_limit system_limits[LOG_CAUSES];

void vm_log(struct vm *vm, enum log_cause cause, const char *fmt, ...)
{
	uint64_t window = timer_freq() / 1000 * LOG_WINDOW_MS;
	uint32_t dropped;
	char line[200];
	va_list ap;

	if (cause >= LOG_CAUSES)
		return;
	struct log_limit *l = vm ? &vm->log_limits[cause] : &system_limits[cause];
	if (!log_limit_allow(l, timer_now(), window, &dropped))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	const char *who = vm ? "vm " : "", *name = vm ? vm->name : "";
	if (dropped)
		printk("%s%s: %u similar line(s) suppressed\n", who, name, dropped);
	printk("%s%s%s%s", who, name, vm ? ": " : "", line);
}
