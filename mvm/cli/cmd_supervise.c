/* syshyper autostart: starts the manifest's autostart VMs (the MVM's init
 * runs it at boot). syshyper supervise: reloads and restarts every GVM that
 * stopped asking for it (a guest's reboot, a kernel panic with panic=),
 * woken by the hypervisor's VM events. */
#include <stdio.h>
#include <time.h>

#include "cli.h"

#define MAX_VMS 16
#define RETRY_S 10 /* after a failed restart, wait before trying again */

static void stamp(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	printf("%ld.%03ld ", (long)t.tv_sec, t.tv_nsec / 1000000);
}

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

int cmd_supervise(int argc, char **argv)
{
	time_t retry_at[MAX_VMS] = {0};
	uint64_t seen = 0;

	(void)argv;
	if (argc > 1)
		return cli_fail(EX_USAGE, "supervise takes no arguments");
	setvbuf(stdout, NULL, _IOLBF, 0);
	stamp();
	printf("supervise: watching the VMs\n");
	for (;;) {
		int n = hv_vm_count();
		if (n < 0)
			return -n;
		for (int i = 0; i < n && i < MAX_VMS; i++) {
			struct vm vm = {.idx = (unsigned)i};
			if (vm_refresh(&vm) || !vm_is_gvm(&vm) || !vm_is_down(&vm) ||
			    vm.info.want != HC_WANT_RESTART || time(NULL) < retry_at[i])
				continue;
			stamp();
			printf("supervise: %s asked for a restart (%s): reloading\n", vm.info.name,
			       vm.info.reason);
			int err = vm_boot(&vm);
			stamp();
			if (err) {
				printf("supervise: %s: restart failed (%d), again in %d s\n",
				       vm.info.name, err, RETRY_S);
				retry_at[i] = time(NULL) + RETRY_S;
			} else {
				printf("supervise: %s %s (restart %llu)\n", vm.info.name,
				       vm_state_name(vm.info.state), vm.info.restarts);
			}
		}
		hv_wait_event(&seen, 5000);
	}
}
