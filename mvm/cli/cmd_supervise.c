/* syshyper autostart: starts the manifest's autostart VMs (the MVM's init
 * runs it at boot). syshyper supervise: reloads and restarts every GVM that
 * stopped asking for it (a guest's reboot, a kernel panic with panic=),
 * woken by the hypervisor's VM events; a VM that keeps stopping soon after
 * its start waits longer each time (backoff.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define MAX_VMS 16

int cmd_autostart(int argc, char **argv)
{
	struct vm_images list[MAX_VMS];
	int n, worst = EX_OK;

	(void)argv;
	if (argc > 1)
		return cli_fail(EX_USAGE, "autostart takes no arguments");
	n = manifest_read(MANIFEST_PATH, list, MAX_VMS);
	if (n < 0)
		return cli_fail(EX_IMAGE, "cannot read %s", MANIFEST_PATH);
	for (int i = 0; i < n; i++) {
		struct vm vm;
		int err;
		if (!list[i].autostart)
			continue;
		err = vm_find(list[i].name, &vm);
		/* STOPPING right after the hypervisor's boot: its RAM is being
		 * zeroed on its own CPU; it can be started once that is done */
		if (!err && vm.info.state == HC_VM_STOPPING)
			err = vm_wait_down(&vm, 30000);
		if (!err && !vm_is_down(&vm))
			continue; /* already running */
		if (!err)
			err = vm_boot(&vm);
		if (!err)
			printf("syshyper: %s started\n", list[i].name);
		worst = err > worst ? err : worst;
	}
	return worst;
}

/* "-d S", "-m S", "-u S": the first delay, the longest, the run that resets. */
int supervise_options(int argc, char **argv, struct backoff_cfg *cfg)
{
	cfg->first_ms = BACKOFF_FIRST_MS;
	cfg->max_ms = BACKOFF_MAX_MS;
	cfg->stable_ms = BACKOFF_STABLE_MS;
	for (int i = 1; i < argc; i++) {
		uint64_t *to = !strcmp(argv[i], "-d")   ? &cfg->first_ms
			       : !strcmp(argv[i], "-m") ? &cfg->max_ms
			       : !strcmp(argv[i], "-u") ? &cfg->stable_ms
							: NULL;
		char *end;
		unsigned long s;
		if (!to || i + 1 >= argc)
			return cli_fail(EX_USAGE, "supervise: unexpected '%s' (see --help)",
					argv[i]);
		s = strtoul(argv[++i], &end, 10);
		if (*end || !*argv[i] || s > 3600)
			return cli_fail(EX_USAGE, "supervise: %s wants seconds (0-3600)",
					argv[i - 1]);
		*to = (uint64_t)s * 1000;
	}
	return EX_OK;
}

static void stamp(const struct supervisor *s, uint64_t now)
{
	fprintf(s->log, "%llu.%03llu ", (unsigned long long)(now / 1000),
		(unsigned long long)(now % 1000));
}

unsigned supervise_pass(struct supervisor *s, int n)
{
	uint64_t wait = SUPERVISE_POLL_MS;

	for (int i = 0; i < n && i < SUPERVISE_MAX_VMS; i++) {
		struct vm vm = {.idx = (unsigned)i};
		struct backoff *b = &s->vm[i];
		uint64_t now;
		if (vm_refresh(&vm) || !vm_is_gvm(&vm))
			continue;
		now = s->now_ms();
		if (vm.info.state == HC_VM_RUNNING) { /* whoever started it: since when */
			backoff_up(b, now - vm.info.uptime_ms);
			continue;
		}
		if (!vm_is_down(&vm) || vm.info.want != HC_WANT_RESTART) {
			backoff_cancel(b); /* stopped for good, or on its way */
			continue;
		}
		if (!b->waiting) {
			uint64_t delay = backoff_schedule(&s->cfg, b, now);
			stamp(s, now);
			fprintf(s->log, "supervise: %s asked for a restart (%s): ", vm.info.name,
				vm.info.reason);
			if (delay)
				fprintf(s->log,
					"reloading in %llu s (ran %llu s, quick restart %u)\n",
					(unsigned long long)(delay / 1000),
					(unsigned long long)((now - b->started_at) / 1000),
					b->quick);
			else
				fprintf(s->log, "reloading\n");
		}
		if (now < b->due_at) {
			wait = b->due_at - now < wait ? b->due_at - now : wait;
			continue;
		}
		int err = vm_boot(&vm);
		now = s->now_ms();
		stamp(s, now);
		if (err) {
			uint64_t delay = backoff_failed(&s->cfg, b, now);
			fprintf(s->log, "supervise: %s: restart failed (%d), again in %llu s\n",
				vm.info.name, err, (unsigned long long)(delay / 1000));
			wait = delay < wait ? delay : wait;
		} else {
			backoff_up(b, now);
			fprintf(s->log, "supervise: %s %s (restart %llu)\n", vm.info.name,
				vm_state_name(vm.info.state), vm.info.restarts);
		}
	}
	return (unsigned)wait;
}

static uint64_t monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

int cmd_supervise(int argc, char **argv)
{
	static struct supervisor s;
	uint64_t seen = 0;
	int err, n;

	if ((err = supervise_options(argc, argv, &s.cfg)))
		return err;
	s.now_ms = monotonic_ms;
	s.log = stdout;
	setvbuf(stdout, NULL, _IOLBF, 0);
	stamp(&s, monotonic_ms());
	printf("supervise: watching the VMs (restarts of a VM that ran less than %llu s wait "
	       "%llu s, doubled each time, up to %llu s)\n",
	       (unsigned long long)(s.cfg.stable_ms / 1000),
	       (unsigned long long)(s.cfg.first_ms / 1000),
	       (unsigned long long)(s.cfg.max_ms / 1000));
	for (;;) {
		if ((n = hv_vm_count()) < 0)
			return -n;
		hv_wait_event(&seen, supervise_pass(&s, n));
	}
}
