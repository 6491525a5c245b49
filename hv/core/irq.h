/* Physical interrupt dispatch at EL2. */
#ifndef IRQ_H
#define IRQ_H
#include "lib/types.h"
struct vm;
struct vcpu;
void irq_set_owner(uint32_t intid, struct vm *vm);
/* Handles every pending physical interrupt; `vcpu` is the one running on
 * this CPU (NULL when idle). */
void irq_dispatch(struct vcpu *vcpu);
#endif
