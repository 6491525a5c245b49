/* libFuzzer harness: the console multiplexer fed by several sources at once
 * (VMs' PL011 byte by byte, hvc0 writes of any size, the hypervisor's log),
 * with flushes and a UART whose FIFO is sometimes full. Property: what
 * reaches the UART is whole lines, each "[known name] ...\r\n", except a
 * last unfinished one; nothing is emitted that no source wrote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/console.h"
#include "core/vm.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct vm vms[CFG_MAX_VMS];
unsigned nvms;
void printk(const char *fmt, ...)
{
	(void)fmt;
}
void stats_print_all(void)
{
}
void vm_list_print(void)
{
}

static bool fifo_full;
static bool at_line_start = true;
static char prefix[24];
static unsigned prefix_len;
static bool in_prefix;

static bool known_prefix(const char *p)
{
	static const char *const names[] = {"[hv] ", "[mvm] ", "[gvm1] ", "[gvm2] "};
	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(p, names[i]))
			return true;
	return false;
}

/* Checks the stream byte by byte: a line starts with a known prefix. */
void uart_putc(char c)
{
	if (at_line_start) {
		CHECK(c == '[');
		at_line_start = false;
		in_prefix = true;
		prefix_len = 0;
	}
	if (in_prefix) {
		CHECK(prefix_len < sizeof(prefix) - 1);
		prefix[prefix_len++] = c;
		prefix[prefix_len] = 0;
		if (c == ' ') {
			CHECK(known_prefix(prefix));
			in_prefix = false;
		}
		return;
	}
	if (c == '\n')
		at_line_start = true;
}
bool uart_tx_full(void)
{
	return fifo_full;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int sources[] = {CONSOLE_HV, 0, 1, 2, CONSOLE_HVC(1), CONSOLE_HVC(2)};
	static char big[70000];

	if (!nvms) {
		vms[0].name = "mvm";
		vms[1].name = "gvm1";
		vms[2].name = "gvm2";
		nvms = 3;
		memset(big, 'x', sizeof(big));
	}
	for (size_t i = 0; i + 1 < size;) {
		uint8_t op = data[i++];
		int source = sources[(op >> 3) % 6];
		switch (op & 7) {
		case 0: /* a byte, as the PL011 gives them */
		case 1:
			console_putc(source, (char)data[i++]);
			break;
		case 2: { /* a write of the next bytes */
			size_t len = data[i++];
			size_t n = MIN(len, size - i);
			console_write(source, (const char *)data + i, n);
			i += n;
			break;
		}
		case 3: /* a large write: bounded, the rest dropped */
			console_write(source, big, (size_t)data[i++] * 300);
			break;
		case 4:
			console_flush();
			break;
		case 5:
			fifo_full = data[i++] & 1;
			break;
		default:
			console_write(source, "\r\n", 2);
			break;
		}
	}
	fifo_full = false;
	console_flush();
	return 0;
}
