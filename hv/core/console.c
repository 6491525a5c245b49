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

struct sink {
	console_sink_fn fn;
	void *dev;
};
/* Each VM's input goes to its PL011, or to its hvc0 once toggled (Ctrl-] c). */
static struct sink uart_sinks[CFG_MAX_VMS], hvc_sinks[CFG_MAX_VMS];
static bool to_hvc[CFG_MAX_VMS];

static const char *source_name(int source)
{
	if (source >= CONSOLE_HVC(0))
		source -= CONSOLE_HVC(0);
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

/* One character from `source`; out_lock held. A line left unfinished by
 * another source (a flushed prompt) is ended first, so every line on the
 * UART has one owner. */
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

/* Each source's output is collected into whole lines, so VMs writing at
 * the same time never cut each other's lines (tools read the console line
 * by line). An unfinished line (a shell prompt) goes out on the next
 * hypervisor tick, on the next key typed, or when its buffer fills. */
#define LINE_MAX 160
#define NSOURCES (1 + 2 * CFG_MAX_VMS)

struct line {
	char buf[LINE_MAX];
	unsigned len;
};
static struct line lines[NSOURCES];

static struct line *line_of(int source)
{
	if (source >= CONSOLE_HVC(0) && source < CONSOLE_HVC(CFG_MAX_VMS))
		return &lines[1 + CFG_MAX_VMS + (source - CONSOLE_HVC(0))];
	if (source >= 0 && source < CFG_MAX_VMS)
		return &lines[1 + source];
	return &lines[0];
}

static void emit_locked(int source, struct line *l)
{
	for (unsigned i = 0; i < l->len; i++)
		put_locked(source, l->buf[i]);
	l->len = 0;
}

static int source_of(unsigned idx)
{
	if (idx == 0)
		return CONSOLE_HV;
	return idx <= CFG_MAX_VMS ? (int)idx - 1 : CONSOLE_HVC((int)(idx - 1 - CFG_MAX_VMS));
}

void console_write(int source, const char *s, size_t n)
{
	struct line *l = line_of(source);

	spin_lock(&out_lock);
	while (n--) {
		char c = *s++;
		if (c == '\r')
			continue; /* put_locked ends lines with \r\n */
		l->buf[l->len++] = c;
		if (c == '\n' || l->len == LINE_MAX)
			emit_locked(source, l);
	}
	spin_unlock(&out_lock);
}

void console_flush(void)
{
	spin_lock(&out_lock);
	for (unsigned i = 0; i < NSOURCES; i++)
		if (lines[i].len)
			emit_locked(source_of(i), &lines[i]);
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
	if (vm_id >= 0 && vm_id < CFG_MAX_VMS)
		uart_sinks[vm_id] = (struct sink){fn, dev};
}

void console_attach_hvc(int vm_id, console_sink_fn fn, void *dev)
{
	if (vm_id >= 0 && vm_id < CFG_MAX_VMS)
		hvc_sinks[vm_id] = (struct sink){fn, dev};
}

static void deliver(char c)
{
	if (focus >= CFG_MAX_VMS)
		return;
	struct sink *s = to_hvc[focus] ? &hvc_sinks[focus] : &uart_sinks[focus];
	if (s->fn)
		s->fn(s->dev, c);
}

static void toggle_hvc(void)
{
	if (focus >= (int)nvms || !hvc_sinks[focus].fn) {
		printk("console: %s has no hvc0\n", vms[focus].name);
		return;
	}
	to_hvc[focus] = !to_hvc[focus];
	printk("console input of %s now goes to %s\n", vms[focus].name,
	       to_hvc[focus] ? "hvc0" : "its PL011 (ttyAMA0)");
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
	} else if (c == 'c') {
		toggle_hvc();
	} else if (c == CONSOLE_ESCAPE) {
		deliver(c);
	} else {
		printk("console: Ctrl-] then: 0-%u focus a VM, s statistics, l list VMs, "
		       "c input to hvc0/ttyAMA0, Ctrl-] a literal Ctrl-]\n",
		       nvms ? nvms - 1 : 0);
	}
}

void console_input(char c)
{
	console_flush();
	if (escaped) {
		escaped = false;
		escape_command(c);
		console_flush(); /* what the operator asked for, at once */
	} else if (c == CONSOLE_ESCAPE) {
		escaped = true;
	} else {
		deliver(c);
	}
}
