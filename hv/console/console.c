/* Console multiplexer (see console.h). */
#include "core/stats.h"
#include "console/console.h"

#include "lib/lib.h"
#include "core/print.h"
#include "arch/arm64/spinlock.h"
#include "drivers/uart.h"
#include "core/vm.h"

/* Output is assembled per source into whole lines; finished lines go,
 * prefixed, into one ring (out_lock: short, bounded critical sections, never
 * across the UART). One CPU at a time copies the ring to the UART without
 * out_lock; the others never wait for it (the drain role is taken by a
 * try, not a spin). A source that writes faster than the UART drains loses
 * whole lines, counted and reported, rather than holding anybody up. */
static spinlock_t out_lock = SPINLOCK_INIT;
static int last_source = CONSOLE_HV;
static bool mid_line; /* last_source has an unfinished line */
static int focus;     /* VM index that receives input */
static bool escaped;

#define OUT_SIZE 16384  /* the console's buffering (power of 2) */
#define HV_RESERVE 2048 /* of it, only for the hypervisor's own log */
#define WRITE_MAX 65536 /* bytes one console_write takes; more are dropped */
#define CHUNK 256       /* bytes taken per out_lock hold */
#define NOTE_EVERY 100  /* flushes between two drop reports (5 s of ticks) */

static char out[OUT_SIZE];
static uint32_t out_head, out_tail; /* free running; out_lock */
static uint32_t draining;           /* a CPU owns the drain (atomic) */
static uint32_t owed;               /* added while another drained (atomic) */
static uint64_t dropped, dropped_reported;
static unsigned flushes_since_note = NOTE_EVERY;

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
	if (source < 0 || source >= (int)nvms)
		return "hv";
	return vms[source].name;
}

static uint32_t out_room(void)
{
	return OUT_SIZE - (out_head - out_tail);
}

static void out_put(char c)
{
	out[out_head++ % OUT_SIZE] = c;
}

static void put_prefix(int source)
{
	const char *n = source_name(source);

	out_put('[');
	while (*n)
		out_put(*n++);
	out_put(']');
	out_put(' ');
}

/* One character from `source` into the ring; out_lock held, room checked.
 * A line left unfinished by another source (a flushed prompt) is ended
 * first, so every line on the UART has one owner. */
static void put_locked(int source, char c)
{
	if (mid_line && source != last_source) {
		out_put('\r');
		out_put('\n');
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
		out_put('\r');
		mid_line = false;
	}
	out_put(c);
}

/* Each source's output is collected into whole lines, so VMs writing at
 * the same time never cut each other's lines (tools read the console line
 * by line). An unfinished line (a shell prompt) goes out once its source
 * has been quiet for QUIET_MS (a slow writer's line is not cut in two: a
 * vCPU descheduled mid-line on a loaded host, Linux's earlycon writing a
 * long line), on the next key typed, or when its buffer fills. */
/* Linux's "Linux version" line is 176 bytes with its time stamp; printk
 * lines rarely pass 300. A longer line goes out in pieces. */
#define LINE_MAX 512
#define NSOURCES (1 + 2 * CFG_MAX_VMS)
/* Measured in time, not in ticks: every CPU ticks, so a count of ticks
 * shrinks as CPUs are added (4 ticks were 50 ms on 4 CPUs). */
#define QUIET_MS 300

struct line {
	char buf[LINE_MAX];
	unsigned len;
	uint32_t writes;      /* bytes ever taken: the tick sees new ones */
	uint32_t seen_writes; /* `writes` at the tick that set quiet_since */
	uint64_t quiet_since; /* ms: when the tick last saw the line grow */
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

/* The line into the ring whole, or dropped whole if the ring has no room
 * for it (a VM's lines leave HV_RESERVE to the hypervisor's log). Returns
 * the bytes added. */
static uint32_t emit_locked(int source, struct line *l)
{
	uint32_t before = out_head;
	/* worst case: end another's line, prefix, the text, "\r" before "\n" */
	uint32_t need = 2 + 3 + (uint32_t)strlen(source_name(source)) + l->len + 1;
	uint32_t reserve = source == CONSOLE_HV ? 0 : HV_RESERVE;

	if (need + reserve > out_room()) {
		dropped += l->len;
	} else {
		for (unsigned i = 0; i < l->len; i++)
			put_locked(source, l->buf[i]);
	}
	l->len = 0;
	return out_head - before;
}

static int source_of(unsigned idx)
{
	if (idx == 0)
		return CONSOLE_HV;
	return idx <= CFG_MAX_VMS ? (int)idx - 1 : CONSOLE_HVC((int)(idx - 1 - CFG_MAX_VMS));
}

/* Up to `n` bytes into the source's line; out_lock held. Returns the bytes
 * added to the ring. */
static uint32_t take_locked(int source, struct line *l, const char *s, size_t n)
{
	uint32_t added = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\r')
			continue; /* put_locked ends lines with \r\n */
		l->buf[l->len++] = c;
		l->writes++;
		if (c == '\n' || l->len == LINE_MAX)
			added += emit_locked(source, l);
	}
	return added;
}

/* Moves up to `budget` bytes from the ring to the UART; `wait`: for room
 * in its FIFO, else stops when the FIFO is full. Drain role held. */
static void move_out(uint32_t budget, bool wait)
{
	char buf[64];

	while (budget && (wait || !uart_tx_full())) {
		uint32_t n = wait ? MIN(budget, (uint32_t)sizeof(buf)) : 1;
		spin_lock(&out_lock);
		n = MIN(n, out_head - out_tail);
		for (uint32_t i = 0; i < n; i++)
			buf[i] = out[out_tail++ % OUT_SIZE];
		spin_unlock(&out_lock);
		if (!n)
			return;
		for (uint32_t i = 0; i < n; i++)
			uart_putc(buf[i]);
		budget -= n;
	}
}

/* A writer waits on the UART for as many bytes as it added itself (its own
 * cost); anything else (what writers added while another CPU drained, and
 * `more`) only goes out while the FIFO has room. If another CPU is draining,
 * our bytes are left to it: nobody waits for the drain role. */
static void drain(uint32_t own, uint32_t more)
{
	if (__atomic_exchange_n(&draining, 1, __ATOMIC_ACQUIRE)) {
		__atomic_add_fetch(&owed, own, __ATOMIC_RELAXED);
		return;
	}
	move_out(own, true);
	move_out(__atomic_exchange_n(&owed, 0, __ATOMIC_RELAXED) + more, false);
	__atomic_store_n(&draining, 0, __ATOMIC_RELEASE);
}

/* Bounded whatever `n` a guest chose: at most WRITE_MAX bytes are looked
 * at (the rest is dropped and counted), out_lock is held for CHUNK bytes at
 * a time, and the UART is waited for only without it. */
void console_write(int source, const char *s, size_t n)
{
	struct line *l = line_of(source);

	if (n > WRITE_MAX) {
		spin_lock(&out_lock);
		dropped += n - WRITE_MAX;
		spin_unlock(&out_lock);
		n = WRITE_MAX;
	}
	for (size_t done = 0; done < n;) {
		size_t chunk = MIN(n - done, (size_t)CHUNK);
		spin_lock(&out_lock);
		uint32_t added = take_locked(source, l, s + done, chunk);
		spin_unlock(&out_lock);
		if (added)
			drain(added, 0);
		done += chunk;
	}
}

/* "dropped N bytes" once in a while, when the ring has room again. */
static uint32_t note_drops_locked(void)
{
	struct line *l = &lines[0];

	if (dropped == dropped_reported || flushes_since_note < NOTE_EVERY ||
	    out_room() < OUT_SIZE / 2 || l->len)
		return 0;
	flushes_since_note = 0;
	int n = snprintf(l->buf, LINE_MAX,
			 "console: %lu bytes of output dropped (faster than the UART)\n",
			 (unsigned long)(dropped - dropped_reported));
	dropped_reported = dropped;
	l->len = n > 0 && n < LINE_MAX ? (unsigned)n : 0;
	return emit_locked(CONSOLE_HV, l);
}

void console_flush(void)
{
	spin_lock(&out_lock);
	if (flushes_since_note < NOTE_EVERY)
		flushes_since_note++;
	for (unsigned i = 0; i < NSOURCES; i++)
		if (lines[i].len)
			emit_locked(source_of(i), &lines[i]);
	note_drops_locked();
	spin_unlock(&out_lock);
	drain(0, OUT_SIZE);
}

/* Whether a source's unfinished line has been quiet for QUIET_MS at
 * `now_ms`; out_lock held. */
static bool quiet_long_enough(struct line *l, uint64_t now_ms)
{
	if (l->writes != l->seen_writes) {
		l->seen_writes = l->writes;
		l->quiet_since = now_ms;
		return false;
	}
	return now_ms - l->quiet_since >= QUIET_MS;
}

void console_tick(uint64_t now_ms)
{
	spin_lock(&out_lock);
	if (flushes_since_note < NOTE_EVERY)
		flushes_since_note++;
	for (unsigned i = 0; i < NSOURCES; i++)
		if (quiet_long_enough(&lines[i], now_ms) && lines[i].len)
			emit_locked(source_of(i), &lines[i]);
	note_drops_locked();
	spin_unlock(&out_lock);
	drain(0, OUT_SIZE);
}

/* A VM stopped: what its last instance left unfinished goes out ended, so
 * the next instance's output starts on a line of its own. */
void console_end_lines(int vm_id)
{
	const int sources[2] = {vm_id, CONSOLE_HVC(vm_id)};
	uint32_t added = 0;

	spin_lock(&out_lock);
	for (unsigned i = 0; i < ARRAY_SIZE(sources); i++) {
		struct line *l = line_of(sources[i]);
		if (l->len && l->len < LINE_MAX)
			l->buf[l->len++] = '\n';
		if (l->len)
			added += emit_locked(sources[i], l);
		if (mid_line && last_source == sources[i] && out_room() >= 2) {
			out_put('\r');
			out_put('\n');
			mid_line = false;
			added += 2;
		}
	}
	spin_unlock(&out_lock);
	if (added)
		drain(0, added);
}

uint64_t console_dropped(void)
{
	spin_lock(&out_lock);
	uint64_t n = dropped;
	spin_unlock(&out_lock);
	return n;
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
		/* nvms <= CFG_MAX_VMS bounds it; cppcheck sees only the digit. */
		// cppcheck-suppress arrayIndexOutOfBoundsCond
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
