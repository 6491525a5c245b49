/* How soon `syshyper supervise` restarts a GVM that stopped asking for a
 * restart. A VM that ran at least stable_ms (or that the supervisor never
 * saw start or running) is restarted at once; each further restart after a
 * shorter run waits first_ms, doubled each time, up to max_ms. A guest that
 * panics at boot is so restarted after 0, 1, 2, 4 ... 60 s, not at full
 * speed. Pure logic on a millisecond clock the caller passes in
 * (unit-tested with a fake one). */
#include "cli.h"

#define RETRY_MS 10000 /* a failed restart is tried again after at least this */

static uint64_t delay_of(const struct backoff_cfg *c, unsigned quick)
{
	uint64_t d = c->first_ms;

	if (!quick)
		return 0;
	for (unsigned i = 1; i < quick && d < c->max_ms; i++)
		d *= 2;
	return d < c->max_ms ? d : c->max_ms;
}

uint64_t backoff_schedule(const struct backoff_cfg *c, struct backoff *b, uint64_t now)
{
	uint64_t ran = b->started ? now - b->started_at : 0;

	if (!b->started || ran >= c->stable_ms)
		b->quick = 0;
	else if (b->quick < 64)
		b->quick++;
	b->waiting = 1;
	b->due_at = now + delay_of(c, b->quick);
	return b->due_at - now;
}

void backoff_up(struct backoff *b, uint64_t since)
{
	b->started = 1;
	b->started_at = since;
	b->waiting = 0;
}

uint64_t backoff_failed(const struct backoff_cfg *c, struct backoff *b, uint64_t now)
{
	uint64_t d;

	if (b->quick < 64)
		b->quick++;
	d = delay_of(c, b->quick);
	if (d < RETRY_MS)
		d = RETRY_MS;
	b->waiting = 1;
	b->due_at = now + d;
	return d;
}

void backoff_cancel(struct backoff *b)
{
	b->waiting = 0;
}
