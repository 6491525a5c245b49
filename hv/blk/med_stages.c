/* Time per stage of the mediated block path (see med_stages.h). */
#include "blk/med_stages.h"

static void add(struct med_stage_sum *s, uint64_t from, uint64_t to)
{
	uint64_t d = to - from; /* callers ordered them: from <= to */

	s->count++;
	s->ticks += d;
	if (d > s->max_ticks)
		s->max_ticks = d;
}

bool med_stages_add(struct med_stage_sum *sums, const struct med_times *t)
{
	if (t->notify <= t->gvm_irq)
		add(&sums[MED_ST_TOTAL], t->notify, t->gvm_irq);
	if (t->complete <= t->gvm_irq)
		add(&sums[MED_ST_COMPLETE_GVM], t->complete, t->gvm_irq);
	if (!t->irq && !t->pickup && !t->done)
		return true; /* a daemon that does not measure */
	if (!(t->notify <= t->queued && t->queued <= t->irq && t->irq <= t->pickup &&
	      t->pickup <= t->done && t->done <= t->complete))
		return false;
	add(&sums[MED_ST_NOTIFY_IRQ], t->notify, t->irq);
	add(&sums[MED_ST_IRQ_PICKUP], t->irq, t->pickup);
	add(&sums[MED_ST_PICKUP_DONE], t->pickup, t->done);
	add(&sums[MED_ST_DONE_COMPLETE], t->done, t->complete);
	return true;
}
