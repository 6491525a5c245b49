/* The console multiplexer: every VM's console output and the hypervisor's
 * log share the one physical UART, each line prefixed with its source's
 * name; input goes to the VM that has the focus. Ctrl-] is the escape key:
 * Ctrl-] then a digit gives the focus to that VM, 's' prints statistics,
 * 'l' lists VMs, 'c' moves the VM's input between its PL011 and its hvc0,
 * '?' helps, Ctrl-] again sends a literal Ctrl-]. */
#ifndef CONSOLE_H
#define CONSOLE_H
#include "lib/types.h"

#define CONSOLE_HV (-1) /* the hypervisor's own output */
/* A VM's second stream (hvc0): the same prefix, but its own lines, so the
 * two never share one. */
#define CONSOLE_HVC(vm_id) (64 + (vm_id))
#define CONSOLE_ESCAPE 0x1d

void console_init(void);
/* Any n: a bounded amount of work; output beyond the console's buffering
 * is dropped (whole lines) and counted. */
void console_write(int source, const char *s, size_t n);
void console_putc(int source, char c);
/* Writes out every source's unfinished line, and what the UART's FIFO takes
 * of the buffered output without waiting. */
void console_flush(void);
/* The hypervisor's tick (any CPU; `now_ms` from the board's counter): the
 * same, but only for unfinished lines whose source has been quiet for a
 * while (a prompt, not a line half-written by a slow writer). */
void console_tick(uint64_t now_ms);
/* A VM stopped: its unfinished lines (PL011 and hvc0) go out ended. */
void console_end_lines(int vm_id);
/* Bytes of output dropped because a source wrote faster than the UART
 * drains (or more than a write may carry). */
uint64_t console_dropped(void);
/* Called from the physical UART's interrupt with each received byte. */
void console_input(char c);
/* Sink for a VM's console input (set by its console device). */
typedef void (*console_sink_fn)(void *dev, char c);
void console_attach(int vm_id, console_sink_fn fn, void *dev);
/* The VM's virtio-console: takes the input instead after Ctrl-] c. */
void console_attach_hvc(int vm_id, console_sink_fn fn, void *dev);
#endif
