/* Console multiplexer (see console.h). */
#include "console.h"

#include "lib.h"
#include "print.h"
#include "spinlock.h"
#include "uart.h"
#include "vm.h"

void stats_print_all(void);
void vm_list_print(void);

static spinlock_t out_lock = SPINLOCK_INIT;
static int last_source = CONSOLE_HV;
static bool mid_line; /* last_source has an unfinished line */
static int focus;     /* VM index that receives input */
static bool escaped;

static struct {
	console_sink_fn fn;
	void *dev;
} sinks[CFG_MAX_VMS];

static const char *source_name(int source)
{
	if (source == CONSOLE_HV || source >= (int)nvms)
		return "hv";
	return vms[source].name;
}

static void put_prefix(int source)
{
	const char *n = source_name(source);

	uart_putc('[');
	while (*n)
		uart_putc(*n++);
	uart_putc(']');
	uart_putc(' ');
}

/* One character from `source`; out_lock held. A line interrupted by another
 * source is ended first, so every line on the UART has one owner. */
static void put_locked(int source, char c)
{
	if (mid_line && source != last_source) {
		uart_putc('\r');
		uart_putc('\n');
		mid_line = false;
	}
	if (!mid_line) {
		if (c == '\r')
			return; /* the '\n' that follows prints the line end */
		put_prefix(source);
		mid_line = true;
	}
	last_source = source;
	if (c == '\n') {
		uart_putc('\r');
		mid_line = false;
	}
	uart_putc(c);
}

void console_write(int source, const char *s, size_t n)
{
	spin_lock(&out_lock);
	while (n--)
		put_locked(source, *s++);
	spin_unlock(&out_lock);
}

void console_putc(int source, char c)
{
	console_write(source, &c, 1);
}

void console_init(void)
{
	focus = 0;
}

void console_attach(int vm_id, console_sink_fn fn, void *dev)
{
	if (vm_id < 0 || vm_id >= CFG_MAX_VMS)
		return;
	sinks[vm_id].fn = fn;
	sinks[vm_id].dev = dev;
}

static void deliver(char c)
{
	if (focus < CFG_MAX_VMS && sinks[focus].fn)
		sinks[focus].fn(sinks[focus].dev, c);
}

static void escape_command(char c)
{
	if (c >= '0' && c <= '9' && (unsigned)(c - '0') < nvms) {
		focus = c - '0';
		printk("console input now goes to %s\n", vms[focus].name);
	} else if (c == 's') {
		stats_print_all();
	} else if (c == 'l') {
		vm_list_print();
	} else if (c == CONSOLE_ESCAPE) {
		deliver(c);
	} else {
		printk("console: Ctrl-] then: 0-%u focus a VM, s statistics, l list VMs, "
		       "Ctrl-] a literal Ctrl-]\n",
		       nvms ? nvms - 1 : 0);
	}
}

void console_input(char c)
{
	if (escaped) {
		escaped = false;
		escape_command(c);
	} else if (c == CONSOLE_ESCAPE) {
		escaped = true;
	} else {
		deliver(c);
	}
}
