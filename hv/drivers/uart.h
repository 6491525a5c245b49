/* The physical UART driver (PL011 on QEMU virt). */
#ifndef UART_H
#define UART_H
#include "lib/types.h"
void uart_init(paddr_t base);
void uart_putc(char c);  /* waits for room in the TX FIFO */
bool uart_tx_full(void); /* uart_putc would wait */
int uart_getc(void);     /* -1 if nothing received */
void uart_enable_rx_irq(void);
#endif
