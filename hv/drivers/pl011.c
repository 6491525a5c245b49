/* PL011 UART: polled output, interrupt-driven input. */
#include "drivers/uart.h"

#define UART_DR 0x00
#define UART_FR 0x18
#define UART_IMSC 0x38
#define UART_ICR 0x44
#define FR_TXFF BIT(5)
#define FR_RXFE BIT(4)
#define INT_RX (BIT(4) | BIT(6)) /* receive and receive-timeout */

static volatile uint32_t *uart;

static inline uint32_t reg_read(unsigned off)
{
	return uart[off / 4];
}

static inline void reg_write(unsigned off, uint32_t v)
{
	uart[off / 4] = v;
}

void uart_init(paddr_t base)
{
	uart = (volatile uint32_t *)base;
}

void uart_putc(char c)
{
	if (!uart)
		return;
	while (reg_read(UART_FR) & FR_TXFF)
		;
	reg_write(UART_DR, (uint8_t)c);
}

bool uart_tx_full(void)
{
	return uart && (reg_read(UART_FR) & FR_TXFF);
}

int uart_getc(void)
{
	if (!uart || (reg_read(UART_FR) & FR_RXFE))
		return -1;
	return reg_read(UART_DR) & 0xff;
}

void uart_enable_rx_irq(void)
{
	reg_write(UART_ICR, 0x7ff);
	reg_write(UART_IMSC, INT_RX);
}
