/* The console multiplexer against a stubbed UART: every source's output in
 * whole prefixed lines, and no source's output, however large or however
 * slow the UART, holds the others up: a huge write returns promptly
 * (what exceeds the console's buffering is dropped and counted), and while
 * one CPU waits on the UART the others still write. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "console/console.h"
#include "core/vm.h"

/* ---- stubs: the UART records what it is given ---- */
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

#define CAPTURE (1u << 20)
static char *uart_out;
static volatile size_t uart_len;   /* bytes captured (at most CAPTURE) */
static volatile size_t uart_total; /* bytes given to the UART */
static void (*uart_hook)(void);    /* called for each byte, before it is taken */
static volatile bool tx_full;

void uart_putc(char c)
{
	if (uart_hook)
		uart_hook();
	if (uart_len < CAPTURE)
		uart_out[uart_len++] = c;
	uart_total++;
}
bool uart_tx_full(void)
{
	return tx_full;
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "test_console: timed out (a writer is stuck on the console)\n";
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

static int setup(void **state)
{
	(void)state;
	memset(vms, 0, sizeof(vms));
	vms[0].name = "mvm";
	vms[1].name = "gvm1";
	vms[2].name = "gvm2";
	nvms = 3;
	if (!uart_out)
		uart_out = malloc(CAPTURE);
	uart_hook = NULL;
	tx_full = false;
	console_init();
	console_flush(); /* whatever the previous test left */
	uart_len = uart_total = 0;
	signal(SIGALRM, on_alarm);
	alarm(10);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	alarm(0);
	uart_hook = NULL;
	return 0;
}

static void out_str(char *buf, size_t size)
{
	size_t n = uart_len < size - 1 ? uart_len : size - 1;
	memcpy(buf, uart_out, n);
	buf[n] = 0;
}

static bool uart_has(const char *s)
{
	return memmem(uart_out, uart_len, s, strlen(s)) != NULL;
}

static void write_str(int source, const char *s)
{
	console_write(source, s, strlen(s));
}

/* Every line on the UART is "[name] text\r\n" with a known name. */
static void assert_whole_lines(void)
{
	size_t i = 0;

	while (i < uart_len) {
		assert_int_equal(uart_out[i], '[');
		const char *end = memchr(uart_out + i, '\n', uart_len - i);
		assert_non_null(end);
		size_t len = (size_t)(end - (uart_out + i)) + 1;
		assert_true(len >= 3 && end[-1] == '\r');
		assert_true(!strncmp(uart_out + i, "[hv] ", 5) ||
			    !strncmp(uart_out + i, "[mvm] ", 6) ||
			    !strncmp(uart_out + i, "[gvm1] ", 7) ||
			    !strncmp(uart_out + i, "[gvm2] ", 7));
		i += len;
	}
}

static void test_lines_are_whole(void **state)
{
	char buf[256];

	(void)state;
	write_str(0, "hello ");
	write_str(1, "world\n");
	write_str(CONSOLE_HV, "log line\n");
	write_str(0, "there\r\n");
	out_str(buf, sizeof(buf));
	assert_string_equal(buf, "[gvm1] world\r\n[hv] log line\r\n[mvm] hello there\r\n");
}

/* The emulated PL011 hands bytes over one at a time, two VMs at once. */
static void test_pl011_bytes_interleaved(void **state)
{
	const char *a = "first vm line\n", *b = "second vm\n";
	char buf[256];

	(void)state;
	for (size_t i = 0; i < strlen(a) || i < strlen(b); i++) {
		if (i < strlen(a))
			console_putc(1, a[i]);
		if (i < strlen(b))
			console_putc(2, b[i]);
	}
	out_str(buf, sizeof(buf));
	assert_string_equal(buf, "[gvm2] second vm\r\n[gvm1] first vm line\r\n");
}

/* An unfinished line (a prompt) goes out on flush; another source's line
 * then starts on a line of its own. */
static void test_prompt_flushed(void **state)
{
	char buf[256];

	(void)state;
	write_str(1, "# ");
	console_flush();
	write_str(0, "boot\n");
	write_str(1, "ls\n");
	out_str(buf, sizeof(buf));
	assert_string_equal(buf, "[gvm1] # \r\n[mvm] boot\r\n[gvm1] ls\r\n");
}

/* A slow writer's line is not cut by the tick: an unfinished line goes out
 * only once its source has been quiet for a few ticks (a prompt). */
static void test_tick_does_not_cut_a_slow_line(void **state)
{
	char buf[256];

	(void)state;
	write_str(2, "s");
	console_tick(1000);
	write_str(2, "torm: ready");
	console_tick(1250);
	write_str(2, "\n");
	write_str(1, "# ");
	for (int ms = 1300; ms < 1700; ms += 50)
		console_tick(ms);
	out_str(buf, sizeof(buf));
	assert_string_equal(buf, "[gvm2] storm: ready\r\n[gvm1] # ");
	write_str(1, "\n"); /* the next test starts on a fresh line */
	console_flush();
}

/* A line longer than 160 bytes (Linux's version line) stays whole while
 * another VM writes: it was cut at 160 and resumed under a new prefix. */
static void test_long_line_is_whole(void **state)
{
	static char buf[1024], line[201], want[512];

	(void)state;
	memset(line, 'v', 200);
	write_str(1, line);
	write_str(2, "x\n");
	write_str(1, "\n");
	out_str(buf, sizeof(buf));
	snprintf(want, sizeof(want), "[gvm2] x\r\n[gvm1] %s\r\n", line);
	assert_string_equal(buf, want);
}

/* Every CPU ticks: many ticks close together (4 CPUs, a stalled writer)
 * must not cut a line. With a count of ticks, 4 ticks of 4 CPUs (50 ms)
 * cut a GVM's "Linux version" line in two. */
static void test_many_cpus_ticking_do_not_cut_a_line(void **state)
{
	char buf[256];

	(void)state;
	write_str(2, "Linux version 6.1 (gcc) #");
	for (int ms = 2000; ms < 2250; ms += 12)
		console_tick(ms);
	out_str(buf, sizeof(buf));
	assert_string_equal(buf, "");
	write_str(2, "1 SMP\n");
	console_tick(2300);
	out_str(buf, sizeof(buf));
	assert_string_equal(buf, "[gvm2] Linux version 6.1 (gcc) #1 SMP\r\n");
}

/* Finding 3: one hvc0 descriptor of any size (up to 4 GiB) went through
 * console_write with the global lock held until the UART had taken every
 * byte. Now the write is bounded: it returns promptly, the excess is
 * counted as dropped, and the UART gets no more than the console buffers. */
static void test_huge_write_bounded(void **state)
{
	const size_t huge = 256u << 20;
	char *p = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec t0, t1;

	(void)state;
	assert_true(p != MAP_FAILED);
	memset(p, 'x', 1u << 20); /* the rest reads as NUL bytes */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	console_write(CONSOLE_HVC(1), p, huge);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	munmap(p, huge);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs < 1.0);
	assert_true(uart_total < (1u << 20));
	assert_true(console_dropped() >= huge - (1u << 20));
	write_str(2, "still here\n");
	console_flush();
	/* the next line, and the drop reported by the hypervisor */
	assert_true(uart_has("[gvm2] still here\r\n"));
	assert_true(uart_has("[hv] console: "));
	assert_whole_lines();
}

/* Finding 3: while the UART drains one source's output (here: our own
 * thread is inside uart_putc), another source's write must not wait for
 * it. The old console held its lock across the UART: this deadlocked. */
static volatile int nested;

static void write_from_uart(void)
{
	if (nested++ == 0)
		write_str(2, "meanwhile\n");
}

static void test_write_while_uart_drains(void **state)
{
	(void)state;
	nested = 0;
	uart_hook = write_from_uart;
	write_str(1, "a line from gvm1\n");
	uart_hook = NULL;
	console_flush();
	assert_true(nested > 0);
	char buf[256];
	out_str(buf, sizeof(buf));
	assert_string_equal(buf, "[gvm1] a line from gvm1\r\n[gvm2] meanwhile\r\n");
}

/* The same across CPUs: one is stuck at a slow UART; the other floods and
 * still returns, dropping what does not fit; every line stays whole. */
static volatile bool release_uart, in_uart;

static void slow_uart(void)
{
	__atomic_store_n(&in_uart, true, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&release_uart, __ATOMIC_SEQ_CST))
		usleep(1000);
}

static void *drainer(void *arg)
{
	(void)arg;
	write_str(0, "mvm line that is being drained\n");
	return NULL;
}

static void test_flood_while_other_cpu_at_uart(void **state)
{
	pthread_t t;
	char line[100];

	(void)state;
	release_uart = in_uart = false;
	uart_hook = slow_uart;
	assert_int_equal(pthread_create(&t, NULL, drainer, NULL), 0);
	while (!__atomic_load_n(&in_uart, __ATOMIC_SEQ_CST))
		usleep(1000);
	uint64_t dropped = console_dropped();
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(line, sizeof(line), "flood line %d from gvm2\n", i);
		console_write(2, line, (size_t)n);
	}
	write_str(1, "gvm1 still writes\n");
	assert_true(console_dropped() > dropped); /* the buffer filled: dropped */
	__atomic_store_n(&release_uart, true, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	uart_hook = NULL;
	for (int i = 0; i < 100; i++)
		console_flush();
	assert_whole_lines();
	assert_true(uart_has("[mvm] mvm line that is being drained\r\n"));
	assert_true(uart_has("[gvm2] flood line 0 from gvm2\r\n"));
}

/* With the UART's FIFO full, the tick's flush does not wait for it. */
static void test_flush_does_not_wait_for_full_uart(void **state)
{
	(void)state;
	tx_full = true;
	uart_hook = NULL;
	write_str(CONSOLE_HVC(2), "x");
	size_t before = uart_total;
	console_flush();
	assert_int_equal(uart_total, before);
	tx_full = false;
	console_flush();
	assert_true(uart_total > before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_are_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pl011_bytes_interleaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prompt_flushed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick_does_not_cut_a_slow_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_cpus_ticking_do_not_cut_a_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_line_is_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_write_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_while_uart_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_while_other_cpu_at_uart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flush_does_not_wait_for_full_uart, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
