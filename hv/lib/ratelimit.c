/* The rate limiter behind vm_log() (see ratelimit.h); pure, unit-tested. */
#include "lib/ratelimit.h"

bool log_limit_allow(struct log_limit *l, uint64_t now, uint64_t window,
		     uint32_t *suppressed_before)
{
	bool ok;

	spin_lock(&l->lock);
	if (l->printed == 0 || now - l->window_start >= window) {
		l->window_start = now;
		l->printed = 0;
	}
	ok = l->printed < LOG_BURST;
	if (ok) {
		l->printed++;
		*suppressed_before = l->suppressed;
		l->suppressed = 0;
	} else if (l->suppressed < UINT32_MAX) {
		l->suppressed++;
	}
	spin_unlock(&l->lock);
	return ok;
}
