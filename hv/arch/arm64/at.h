/* Guest address translation on the guest's behalf (arch/arm64/at.S). */
#ifndef AT_H
#define AT_H
#include "lib/types.h"

/* AT S1E1R through the guest's live EL1 regime and its stage 2: PAR_EL1
 * (PAR.F = 1 when the walk failed, even by an abort at EL2). */
uint64_t guest_at_s1e1r(uint64_t va);
/* The AT instruction and where an abort taken on it resumes. */
extern char guest_at_insn[], guest_at_fixup[];

#endif
