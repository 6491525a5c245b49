/* The MVM CLI's pure parts: the manifest reader (mvm/cli/manifest.c) and the
 * checks load_images() makes before a byte moves (mvm/cli/load.c): images
 * missing, empty, outside the VM's RAM (also by wrapping around), a kernel
 * whose BSS reaches past RAM or into the next image, overlaps. The device
 * is a stub that records what would be loaded. And supervise's restarts
 * (mvm/cli/cmd_supervise.c, backoff.c) on a fake clock, against stubbed VMs
 * whose "boot" is recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../mvm/cli/cli.h"

/* ---- stubs of hv.c */
static char last_error[512];
static struct {
	unsigned idx;
	uint64_t ipa, len;
	unsigned char first;
} loads[8];
static int nloads;
static long load_status;

int cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

long hv_vm_load(unsigned idx, uint64_t dest_ipa, const void *src, uint64_t len)
{
	if (load_status != HC_OK)
		return load_status;
	assert_true(nloads < 8);
	loads[nloads].idx = idx;
	loads[nloads].ipa = dest_ipa;
	loads[nloads].len = len;
	loads[nloads].first = *(const unsigned char *)src;
	nloads++;
	return HC_OK;
}

int hv_error(long status, const char *vm, const char *what)
{
	(void)vm;
	return cli_fail(status == HC_ERR_STATE ? EX_STATE : EX_FAIL, "%s: %ld", what, status);
}

/* ---- stubs of hv.c and cmd_life.c for supervise: VMs in a table, a fake clock */
static struct hc_vm_info fake_vms[4];
static uint64_t fake_up_at[4]; /* when a running one started */
static int nfake;
static uint64_t clock_ms;
static uint64_t boots_at[64];
static int nboots, boot_status;
static const uint64_t BOOT_MS = 700; /* what loading and starting takes */

int hv_vm_count(void)
{
	return nfake;
}

int hv_vm_info(unsigned idx, struct hc_vm_info *info)
{
	assert_true(idx < (unsigned)nfake);
	*info = fake_vms[idx];
	info->uptime_ms = info->state == HC_VM_RUNNING ? clock_ms - fake_up_at[idx] : 0;
	return EX_OK;
}

int hv_wait_event(uint64_t *seen, unsigned timeout_ms)
{
	(void)seen;
	clock_ms += timeout_ms;
	return 0;
}

int vm_boot(struct vm *vm)
{
	struct hc_vm_info *v = &fake_vms[vm->idx];

	assert_true(nboots < 64);
	boots_at[nboots++] = clock_ms;
	clock_ms += BOOT_MS;
	if (boot_status)
		return boot_status;
	v->state = HC_VM_RUNNING;
	v->want = HC_WANT_NONE;
	v->restarts++;
	fake_up_at[vm->idx] = clock_ms;
	*vm = (struct vm){.idx = vm->idx, .info = *v};
	return EX_OK;
}

static uint64_t fake_now(void)
{
	return clock_ms;
}

/* ---- helpers */
static char dir[] = "/tmp/test_mvm_cli.XXXXXX";

static const char *file_of(const char *name, size_t size, unsigned char fill)
{
	static char paths[8][256];
	static int n;
	char *p = paths[n++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc(fill, f);
	fclose(f);
	return p;
}

/* An arm64 Image header that asks for `need` bytes from its load address. */
static const char *kernel_of(const char *name, size_t size, uint64_t need)
{
	const char *p = file_of(name, size, 0x4b);
	unsigned char h[64] = {0};
	FILE *f = fopen(p, "r+");

	for (int i = 0; i < 8; i++)
		h[16 + i] = (unsigned char)(need >> (8 * i));
	memcpy(h + 56, "ARM\x64", 4);
	fwrite(h, 1, sizeof(h), f);
	fclose(f);
	return p;
}

static struct vm gvm(void)
{
	struct vm vm = {.idx = 2};

	strcpy(vm.info.name, "gvm2");
	vm.info.ram_ipa = 0x40000000;
	vm.info.ram_bytes = 64 << 20;
	vm.info.kernel_ipa = 0x40200000;
	vm.info.initrd_ipa = 0x42000000;
	vm.info.dtb_ipa = 0x43e00000;
	return vm;
}

static struct vm_images images(const char *kernel, const char *initrd, const char *dtb)
{
	struct vm_images m = {0};

	strcpy(m.name, "gvm2");
	strcpy(m.kernel, kernel);
	if (initrd)
		strcpy(m.initrd, initrd);
	strcpy(m.dtb, dtb);
	return m;
}

static int setup(void **state)
{
	(void)state;
	memset(fake_vms, 0, sizeof(fake_vms));
	strcpy(fake_vms[0].name, "mvm");
	fake_vms[0].is_mvm = 1;
	fake_vms[0].state = HC_VM_RUNNING;
	strcpy(fake_vms[1].name, "gvm1");
	fake_vms[1].state = HC_VM_RUNNING;
	strcpy(fake_vms[2].name, "gvm2");
	fake_vms[2].state = HC_VM_RUNNING;
	nfake = 3;
	clock_ms = 1000000;
	nboots = 0;
	boot_status = EX_OK;
	nloads = 0;
	load_status = HC_OK;
	last_error[0] = 0;
	return 0;
}

/* ---- manifest */
static void test_manifest_one_line_form(void **state)
{
	struct vm_images m[4];
	FILE *f = fopen(file_of("vms.conf", 0, 0), "w");

	(void)state;
	fputs("# generated\n\n"
	      "gvm1 autostart=yes kernel=/lib/syshyper/Image initrd=/lib/syshyper/gvm1/initrd "
	      "dtb=/lib/syshyper/gvm1/dtb\n"
	      "gvm2 autostart=no kernel=/k dtb=/d future=key   # comment\n",
	      f);
	fclose(f);
	snprintf(last_error, sizeof(last_error), "%s/vms.conf", dir);
	assert_int_equal(manifest_read(last_error, m, 4), 2);
	assert_string_equal(m[0].name, "gvm1");
	assert_true(m[0].autostart);
	assert_string_equal(m[0].kernel, "/lib/syshyper/Image");
	assert_string_equal(m[0].initrd, "/lib/syshyper/gvm1/initrd");
	assert_string_equal(m[0].dtb, "/lib/syshyper/gvm1/dtb");
	assert_false(m[1].autostart);
	assert_string_equal(m[1].initrd, "");
	assert_ptr_equal(manifest_find(m, 2, "gvm2"), &m[1]);
	assert_null(manifest_find(m, 2, "gvm3"));
}

static void test_manifest_sections_and_limits(void **state)
{
	struct vm_images m[2];
	char path[300], longname[600];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/sections.conf", dir);
	f = fopen(path, "w");
	fputs("[vm gvm1]\nkernel = /k1\nautostart = yes\n[vm gvm2]\ndtb=/d2\n", f);
	fclose(f);
	assert_int_equal(manifest_read(path, m, 2), 2);
	assert_string_equal(m[0].kernel, "/k1");
	assert_true(m[0].autostart);
	assert_string_equal(m[1].dtb, "/d2");

	/* more VMs than room: refused, not overflowed */
	f = fopen(path, "w");
	fputs("a kernel=/a\nb kernel=/b\nc kernel=/c\n", f);
	fclose(f);
	assert_int_equal(manifest_read(path, m, 2), -1);

	/* a path longer than the entry holds, a name longer than a VM's */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	f = fopen(path, "w");
	fprintf(f, "gvm1 kernel=/%s\n", longname);
	fclose(f);
	assert_int_equal(manifest_read(path, m, 2), -1);
	f = fopen(path, "w");
	fputs("a-name-longer-than-sixteen kernel=/k\n", f);
	fclose(f);
	assert_int_equal(manifest_read(path, m, 2), -1);
	f = fopen(path, "w");
	fputs("gvm1 kernel\n", f); /* no '=' */
	fclose(f);
	assert_int_equal(manifest_read(path, m, 2), -1);

	snprintf(path, sizeof(path), "%s/absent.conf", dir);
	assert_int_equal(manifest_read(path, m, 2), -1);
}

/* ---- image checks */
static void test_load_all_three_in_place(void **state)
{
	struct vm vm = gvm();
	struct vm_images m = images(kernel_of("k", 4096, 8192), file_of("i", 1000, 0x11),
				    file_of("d", 100, 0xd7));

	(void)state;
	assert_int_equal(load_images(&vm, &m), EX_OK);
	assert_int_equal(nloads, 3);
	assert_int_equal(loads[0].ipa, 0x40200000);
	assert_int_equal(loads[0].len, 4096); /* the file, not its BSS */
	assert_int_equal(loads[1].ipa, 0x42000000);
	assert_int_equal(loads[1].first, 0x11);
	assert_int_equal(loads[2].ipa, 0x43e00000);
	assert_int_equal(loads[2].len, 100);
	assert_int_equal(loads[2].first, 0xd7);
	assert_int_equal(loads[2].idx, 2);
}

static void test_load_no_initrd(void **state)
{
	struct vm vm = gvm();
	struct vm_images m = images(kernel_of("k", 4096, 0), NULL, file_of("d", 100, 1));

	(void)state;
	assert_int_equal(load_images(&vm, &m), EX_OK);
	assert_int_equal(nloads, 2);
	/* a VM configured without an initrd gets none even if one is named */
	m = images(kernel_of("k", 4096, 0), file_of("i", 10, 1), file_of("d", 100, 1));
	vm.info.initrd_ipa = 0;
	nloads = 0;
	assert_int_equal(load_images(&vm, &m), EX_OK);
	assert_int_equal(nloads, 2);
}

static void test_load_missing_or_empty(void **state)
{
	struct vm vm = gvm();
	char missing[300];
	struct vm_images m;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/none", dir);
	m = images(kernel_of("k", 4096, 0), missing, file_of("d", 100, 1));
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	assert_non_null(strstr(last_error, "initrd image"));
	assert_non_null(strstr(last_error, "No such file"));
	m = images(kernel_of("k", 4096, 0), NULL, file_of("empty", 0, 0));
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	m = images(kernel_of("k", 4096, 0), NULL, dir); /* a directory */
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	m = images("", NULL, file_of("d", 100, 1));
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	assert_int_equal(nloads, 0); /* nothing moved */
}

static void test_load_outside_ram(void **state)
{
	struct vm vm = gvm();
	struct vm_images m = images(kernel_of("k", 4096, 0), NULL, file_of("d", 100, 1));

	(void)state;
	/* the dtb's last byte one past the end of RAM */
	vm.info.dtb_ipa = vm.info.ram_ipa + vm.info.ram_bytes - 99;
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	assert_non_null(strstr(last_error, "too big"));
	/* exactly at the end: fits */
	vm.info.dtb_ipa = vm.info.ram_ipa + vm.info.ram_bytes - 100;
	assert_int_equal(load_images(&vm, &m), EX_OK);
	/* below RAM */
	nloads = 0;
	vm.info.dtb_ipa = vm.info.ram_ipa - 4096;
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	/* an address whose end wraps around 2^64 */
	vm.info.dtb_ipa = UINT64_MAX - 50;
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	/* RAM reported as reaching the top of the address space */
	vm.info.ram_ipa = UINT64_MAX - 4095;
	vm.info.ram_bytes = 4096;
	vm.info.kernel_ipa = UINT64_MAX - 4095;
	vm.info.dtb_ipa = UINT64_MAX - 10;
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	assert_int_equal(nloads, 0);
}

static void test_load_kernel_bss_counts(void **state)
{
	struct vm vm = gvm();
	struct vm_images m;

	(void)state;
	/* 4 KiB file, 64 MiB image size: its BSS passes the end of RAM */
	m = images(kernel_of("k", 4096, 64 << 20), NULL, file_of("d", 100, 1));
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	assert_non_null(strstr(last_error, "kernel image"));
	/* more than the whole RAM (the end check must not wrap) */
	vm.info.dtb_ipa = vm.info.ram_ipa; /* below it: no overlap to catch it */
	m = images(kernel_of("k", 4096, 128 << 20), NULL, file_of("d", 100, 1));
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	assert_non_null(strstr(last_error, "too big"));
	vm.info.dtb_ipa = 0x43e00000;
	/* its BSS reaches the initrd */
	m = images(kernel_of("k", 4096, 0x1e00001), file_of("i", 10, 1), file_of("d", 100, 1));
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	assert_non_null(strstr(last_error, "overlaps"));
	/* up to the initrd's first byte: fine */
	m = images(kernel_of("k", 4096, 0x1e00000), file_of("i", 10, 1), file_of("d", 100, 1));
	assert_int_equal(load_images(&vm, &m), EX_OK);
	/* a file without the header counts by its size */
	nloads = 0;
	m = images(file_of("raw", 8192, 0), NULL, file_of("d", 100, 1));
	assert_int_equal(load_images(&vm, &m), EX_OK);
	assert_int_equal(nloads, 2);
}

static void test_load_overlap(void **state)
{
	struct vm vm = gvm();
	struct vm_images m = images(kernel_of("k", 4096, 0), file_of("i", 0x1e00000 + 1, 1),
				    file_of("d", 100, 1));

	(void)state;
	/* the initrd's last byte on the dtb's first */
	assert_int_equal(load_images(&vm, &m), EX_IMAGE);
	assert_non_null(strstr(last_error, "overlaps"));
	assert_int_equal(nloads, 0);
	/* images in another order (the dtb first) do not overlap */
	vm.info.dtb_ipa = vm.info.ram_ipa;
	m = images(kernel_of("k", 4096, 0), file_of("i", 4096, 1), file_of("d", 100, 1));
	assert_int_equal(load_images(&vm, &m), EX_OK);
	assert_int_equal(nloads, 3);
}

static void test_load_hypervisor_refusal(void **state)
{
	struct vm vm = gvm();
	struct vm_images m = images(kernel_of("k", 4096, 0), NULL, file_of("d", 100, 1));

	(void)state;
	load_status = HC_ERR_STATE; /* started meanwhile */
	assert_int_equal(load_images(&vm, &m), EX_STATE);
}

/* ---- supervise: restarts with backoff */
static struct supervisor sup;
static char sup_log[8192];

static void sup_init(void)
{
	memset(&sup, 0, sizeof(sup));
	assert_int_equal(supervise_options(1, (char *[]){"supervise", NULL}, &sup.cfg), EX_OK);
	sup.now_ms = fake_now;
	memset(sup_log, 0, sizeof(sup_log));
	sup.log = fmemopen(sup_log, sizeof(sup_log) - 1, "w");
	assert_non_null(sup.log);
	setvbuf(sup.log, NULL, _IONBF, 0);
}

/* The guest in fake_vms[idx] stops asking for a restart (a panic). */
static void crash(int idx)
{
	fake_vms[idx].state = HC_VM_STOPPED;
	fake_vms[idx].want = HC_WANT_RESTART;
	strcpy(fake_vms[idx].reason, "guest reset (PSCI SYSTEM_RESET)");
}

/* supervise's loop: a look, then a wait that the clock runs through (no
 * event comes), until `until`. */
static void supervise_until(uint64_t until)
{
	while (clock_ms < until) {
		unsigned wait = supervise_pass(&sup, nfake);
		assert_true(wait <= SUPERVISE_POLL_MS);
		if (clock_ms >= until) /* a boot took the clock past it */
			break;
		hv_wait_event(NULL, wait < until - clock_ms ? wait : (unsigned)(until - clock_ms));
	}
}

/* The guest in fake_vms[idx] panics now: how long supervise, looking every
 * millisecond (events do not hurry a restart), takes to restart it (ms). */
static uint64_t restart_delay(int idx)
{
	uint64_t t = clock_ms;
	int n = nboots;

	crash(idx);
	while (nboots == n && clock_ms < t + 120000)
		supervise_until(clock_ms + 1);
	assert_int_equal(nboots, n + 1);
	return boots_at[n] - t;
}

/* A guest that panics 3 s into each boot: restarted at once, then after 1,
 * 2, 4 ... s, never more than 60 s apart, and never sooner than the delay. */
static void test_supervise_backs_off_a_crash_loop(void **state)
{
	static const uint64_t want[] = {0, 1, 2, 4, 8, 16, 32, 60, 60, 60};

	(void)state;
	sup_init();
	supervise_until(clock_ms + 10000); /* running: nothing happens */
	assert_int_equal(nboots, 0);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(restart_delay(2), want[i] * 1000);
		supervise_until(clock_ms + 3000); /* panics 3 s after its start */
	}
	assert_int_equal(fake_vms[2].restarts, 10);
	assert_int_equal(fake_vms[1].restarts, 0); /* its neighbour untouched */
	/* a line per restart with its delay */
	assert_non_null(strstr(sup_log,
			       "gvm2 asked for a restart (guest reset (PSCI SYSTEM_RESET)): "
			       "reloading\n"));
	assert_non_null(strstr(sup_log, "reloading in 1 s (ran 3 s, quick restart 1)"));
	assert_non_null(strstr(sup_log, "reloading in 4 s (ran 3 s, quick restart 3)"));
	assert_non_null(strstr(sup_log, "reloading in 60 s (ran 3 s, quick restart 9)"));
	assert_null(strstr(sup_log, "reloading in 64 s"));
	fclose(sup.log);
}

/* After a run of 60 s the next restart is at once again; backoffs are per VM. */
static void test_supervise_resets_after_a_stable_run(void **state)
{
	(void)state;
	sup_init();
	for (uint64_t d = 0; d <= 4000; d = d ? 2 * d : 1000) { /* 0, 1, 2, 4 s */
		assert_int_equal(restart_delay(2), d);
		supervise_until(clock_ms + 2000);
	}
	/* gvm1 crashes now: its first restart is at once, gvm2's history aside */
	assert_int_equal(restart_delay(1), 0);
	/* gvm2 runs 59 s: still quick, the next wait is 8 s */
	supervise_until(clock_ms + 59000 - 2000 - BOOT_MS);
	assert_int_equal(restart_delay(2), 8000);
	/* now it runs 60 s: the next restart is at once */
	supervise_until(clock_ms + 60000);
	assert_int_equal(restart_delay(2), 0);
	assert_int_equal(nboots, 7);
	fclose(sup.log);
}

/* A restart that fails is tried again after the next step, at least 10 s;
 * a VM stopped for good or started by hand meanwhile is left alone. */
static void test_supervise_failed_and_cancelled(void **state)
{
	uint64_t t;

	(void)state;
	sup_init();
	boot_status = EX_IMAGE;
	t = clock_ms;
	assert_int_equal(restart_delay(2), 0); /* tried at once, and failed */
	assert_non_null(strstr(sup_log, "supervise: gvm2: restart failed (5), again in 10 s\n"));
	supervise_until(t + BOOT_MS + 10000 - 1);
	assert_int_equal(nboots, 1);
	boot_status = EX_OK;
	supervise_until(t + BOOT_MS + 10000 + 1);
	assert_int_equal(nboots, 2);
	assert_int_equal(boots_at[1], t + BOOT_MS + 10000);
	assert_int_equal(fake_vms[2].state, HC_VM_RUNNING);

	/* a quick crash waits 2 s; `syshyper kill` meanwhile (down, no restart
	 * wanted): nothing happens */
	supervise_until(clock_ms + 1000);
	crash(2);
	supervise_until(clock_ms + 500);
	fake_vms[2].want = HC_WANT_NONE;
	supervise_until(clock_ms + 30000);
	assert_int_equal(nboots, 2);
	/* started by hand, panics after 0.1 s: a new schedule, one more quick
	 * restart (the run counts from the hand's start, not the supervisor's) */
	fake_vms[2].state = HC_VM_RUNNING;
	fake_up_at[2] = clock_ms;
	supervise_until(clock_ms + 100);
	assert_int_equal(restart_delay(2), 4000);
	assert_non_null(strstr(sup_log, "reloading in 4 s (ran 0 s, quick restart 3)"));
	/* rebooted by hand (syshyper reboot), then runs 61 s: at once */
	supervise_until(clock_ms + 1000);
	fake_up_at[2] = clock_ms;
	supervise_until(clock_ms + 61000);
	assert_int_equal(restart_delay(2), 0);
	assert_int_equal(nboots, 4);
	fclose(sup.log);
}

static void test_supervise_options(void **state)
{
	struct backoff_cfg c;

	(void)state;
	assert_int_equal(
		supervise_options(
			7, (char *[]){"supervise", "-d", "2", "-m", "30", "-u", "120", NULL}, &c),
		EX_OK);
	assert_int_equal(c.first_ms, 2000);
	assert_int_equal(c.max_ms, 30000);
	assert_int_equal(c.stable_ms, 120000);
	assert_int_equal(supervise_options(3, (char *[]){"supervise", "-d", "soon", NULL}, &c),
			 EX_USAGE);
	assert_non_null(strstr(last_error, "-d wants seconds"));
	assert_int_equal(supervise_options(3, (char *[]){"supervise", "-m", "3601", NULL}, &c),
			 EX_USAGE);
	assert_int_equal(supervise_options(2, (char *[]){"supervise", "-u", NULL}, &c), EX_USAGE);
	assert_int_equal(supervise_options(2, (char *[]){"supervise", "extra", NULL}, &c),
			 EX_USAGE);
	/* -d 0: no backoff, restarts at once as a crash loop wants them */
	assert_int_equal(supervise_options(3, (char *[]){"supervise", "-d", "0", NULL}, &c), EX_OK);
	struct backoff b = {0};
	assert_int_equal(backoff_schedule(&c, &b, 5000), 0);
	backoff_up(&b, 5000);
	assert_int_equal(backoff_schedule(&c, &b, 6000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_manifest_one_line_form, setup),
		cmocka_unit_test_setup(test_manifest_sections_and_limits, setup),
		cmocka_unit_test_setup(test_load_all_three_in_place, setup),
		cmocka_unit_test_setup(test_load_no_initrd, setup),
		cmocka_unit_test_setup(test_load_missing_or_empty, setup),
		cmocka_unit_test_setup(test_load_outside_ram, setup),
		cmocka_unit_test_setup(test_load_kernel_bss_counts, setup),
		cmocka_unit_test_setup(test_load_overlap, setup),
		cmocka_unit_test_setup(test_load_hypervisor_refusal, setup),
		cmocka_unit_test_setup(test_supervise_backs_off_a_crash_loop, setup),
		cmocka_unit_test_setup(test_supervise_resets_after_a_stable_run, setup),
		cmocka_unit_test_setup(test_supervise_failed_and_cancelled, setup),
		cmocka_unit_test_setup(test_supervise_options, setup),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (fork() == 0)
		execlp("rm", "rm", "-rf", dir, (char *)NULL);
	return rc;
}
