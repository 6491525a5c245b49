/* The emulated PL011 every VM sees as its console (ttyAMA0). */
#ifndef VUART_H
#define VUART_H
#include "lib/types.h"
struct vm;
int vuart_create(struct vm *vm, ipa_t base, uint32_t irq);
/* The VM stopped: the PL011 as at power-on, its input FIFO empty. */
void vuart_reset(struct vm *vm);
#endif
