/* The structure offsets boot.S and vectors.S use (asm-offsets.h) must match
 * the C structures: a mismatch fails the build here, not a guest at run time. */
#include <stddef.h>

#include "arch/arm64/asm-offsets.h"
#include "core/percpu.h"
#include "core/vcpu.h"

_Static_assert(sizeof(struct pcpu) == PCPU_SIZE, "PCPU_SIZE");
_Static_assert(offsetof(struct pcpu, stack_top) == PCPU_STACK_TOP, "PCPU_STACK_TOP");
_Static_assert(MAX_PCPUS == MAX_PCPUS_ASM, "MAX_PCPUS_ASM");
_Static_assert(offsetof(struct trap_frame, x) == 0, "trap frame starts with x0..x30");
_Static_assert(offsetof(struct trap_frame, elr) == FRAME_ELR, "FRAME_ELR");
_Static_assert(offsetof(struct trap_frame, spsr) == FRAME_SPSR, "FRAME_SPSR");
_Static_assert(offsetof(struct trap_frame, esr) == FRAME_ESR, "FRAME_ESR");
_Static_assert(offsetof(struct trap_frame, far) == FRAME_FAR, "FRAME_FAR");
_Static_assert(offsetof(struct trap_frame, hpfar) == FRAME_HPFAR, "FRAME_HPFAR");
_Static_assert(sizeof(struct trap_frame) == FRAME_SIZE, "FRAME_SIZE");
_Static_assert(offsetof(struct vcpu, regs) == 0, "vectors.S finds the frame at the vCPU");
