/* Time per stage of the mediated block path (enum med_stage in
 * syshyper/mediated.h): one request's counter stamps, added up. */
#ifndef MED_STAGES_H
#define MED_STAGES_H
#include "lib/types.h"
#include "syshyper/mediated.h"

/* One request's stamps. notify, queued, complete and gvm_irq are the
 * hypervisor's own; irq, pickup and done come from the MVM (0: none). */
struct med_times {
	uint64_t notify, queued, irq, pickup, done, complete, gvm_irq;
};

/* Adds a finished request to sums[MED_STAGES]. The hypervisor's stages
 * (total, complete->gvm-irq) always count; the MVM's stamps count only if
 * queued <= irq <= pickup <= done <= complete (the MVM can write anything
 * there). Returns false if it gave stamps that were out of that order. */
bool med_stages_add(struct med_stage_sum *sums, const struct med_times *t);

#endif
