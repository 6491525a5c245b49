/* The C functions the assembly calls: boot (arch/arm64/boot.S) and the
 * exception vectors (arch/arm64/vectors.S). */
#ifndef ENTRY_H
#define ENTRY_H
#include "core/vcpu.h"

void hv_main(void);
void secondary_main(unsigned id);
/* A trap from the guest running on this CPU (its frame is vcpu->regs). */
void guest_handle_sync(struct vcpu *vcpu);
void guest_handle_irq(struct vcpu *vcpu);
void guest_handle_serror(struct vcpu *vcpu);
/* A trap taken at EL2 itself. */
void hv_handle_irq(struct trap_frame *f);
void hv_handle_sync(struct trap_frame *f);
void hv_fatal_exception(struct trap_frame *f);

#endif
