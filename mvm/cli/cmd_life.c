/* syshyper start | stop | kill | reboot VM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define STOP_TIMEOUT_S 30      /* a guest that ignores its power button is forced */
#define PRESS_AGAIN_S 5        /* a press made before the guest listened is lost */
#define DOWN_TIMEOUT_MS 30000  /* a forced stop (RAM zeroed) takes this at most */
#define QUIET_TIMEOUT_MS 30000 /* the previous instance's disk I/O ends within this */
#define QUIET_POLL_MS 100

static int find_gvm(const char *name, struct vm *vm)
{
	int err = vm_find(name, vm);

	if (err)
		return err;
	if (!vm_is_gvm(vm))
		return cli_fail(EX_STATE, "%s is the management VM: use poweroff or reboot in it",
				name);
	return EX_OK;
}

/* A name and, optionally, "-t SECONDS" (stop, reboot) or "-f" (reboot). */
static int parse_vm_args(int argc, char **argv, const char **name, unsigned *timeout_s, int *force)
{
	*name = NULL;
	for (int i = 1; i < argc; i++) {
		if (timeout_s && !strcmp(argv[i], "-t") && i + 1 < argc) {
			char *end;
			unsigned long t = strtoul(argv[++i], &end, 10);
			if (*end || !*argv[i] || t > 3600)
				return cli_fail(EX_USAGE, "%s: -t wants seconds (0-3600)", argv[0]);
			*timeout_s = (unsigned)t;
		} else if (force && !strcmp(argv[i], "-f")) {
			*force = 1;
		} else if (argv[i][0] != '-' && !*name) {
			*name = argv[i];
		} else {
			return cli_fail(EX_USAGE, "%s: unexpected '%s' (see syshyper %s --help)",
					argv[0], argv[i], argv[0]);
		}
	}
	if (!*name)
		return cli_fail(EX_USAGE, "%s: which VM? (see syshyper %s --help)", argv[0],
				argv[0]);
	return EX_OK;
}

/* HC_VM_START, again every QUIET_POLL_MS while the hypervisor answers
 * HC_ERR_BUSY: block requests of the VM's previous instance are still at
 * the daemon or a disk, and a new instance must not start before the last
 * of them has left (an old write would land over its data). */
static int start_when_quiet(struct vm *vm)
{
	unsigned waited_ms = 0;
	long st;

	while ((st = hv_vm_start(vm->idx)) == HC_ERR_BUSY && waited_ms < QUIET_TIMEOUT_MS) {
		usleep(QUIET_POLL_MS * 1000);
		waited_ms += QUIET_POLL_MS;
	}
	if (st == HC_ERR_BUSY)
		return cli_fail(EX_TIMEOUT,
				"start: %s not started: block requests of its previous instance "
				"are still at the MVM's daemon or the disk after %d s",
				vm->info.name, QUIET_TIMEOUT_MS / 1000);
	if (st != HC_OK)
		return hv_error(st, vm->info.name, "start");
	return EX_OK;
}

int vm_boot(struct vm *vm)
{
	struct vm_images list[16];
	const struct vm_images *img = NULL;
	int n = manifest_read(MANIFEST_PATH, list, 16), err;

	if (n > 0)
		img = manifest_find(list, n, vm->info.name);
	if (img && (err = load_images(vm, img)))
		return err;
	if ((err = start_when_quiet(vm)))
		return err;
	/* STARTING until vCPU 0 enters the guest: a moment */
	for (int i = 0; i < 50 && !vm_refresh(vm) && vm->info.state == HC_VM_STARTING; i++)
		usleep(100000);
	return EX_OK;
}

int cmd_start(int argc, char **argv)
{
	const char *name;
	struct vm vm;
	int err;

	if ((err = parse_vm_args(argc, argv, &name, NULL, NULL)) || (err = find_gvm(name, &vm)))
		return err;
	if (!vm_is_down(&vm))
		return cli_fail(EX_STATE, "%s is %s: only a stopped or crashed VM starts", name,
				vm_state_name(vm.info.state));
	if ((err = vm_boot(&vm)))
		return err;
	printf("%s: %s\n", name, vm_state_name(vm.info.state));
	return EX_OK;
}

static int force_down(struct vm *vm)
{
	long st = hv_vm_stop(vm->idx, HC_STOP_FORCE);

	/* HC_ERR_STATE: it got down by itself meanwhile */
	if (st != HC_OK && st != HC_ERR_STATE)
		return hv_error(st, vm->info.name, "kill");
	if (vm_wait_down(vm, DOWN_TIMEOUT_MS))
		return cli_fail(EX_TIMEOUT, "%s is still %s %d s after a forced stop",
				vm->info.name, vm_state_name(vm->info.state),
				DOWN_TIMEOUT_MS / 1000);
	return EX_OK;
}

/* Asks the guest to power off, pressing its power button again every
 * PRESS_AGAIN_S (a press is an edge: one that came before the guest's
 * handler listened, early in its boot, is lost, as on a real board);
 * forces it after timeout_s. */
static int stop_vm(struct vm *vm, unsigned timeout_s)
{
	unsigned waited_ms = 0, limit_ms = timeout_s * 1000;
	int pressed = 0;

	while (waited_ms < limit_ms && !vm_is_down(vm)) {
		if (vm->info.state == HC_VM_RUNNING) {
			long st = hv_vm_stop(vm->idx, HC_STOP_REQUEST);
			if (st != HC_OK && st != HC_ERR_STATE)
				return hv_error(st, vm->info.name, "stop");
			pressed = 1;
		} else if (!pressed) {
			break; /* not running: nothing to ask */
		}
		unsigned step = limit_ms - waited_ms;
		if (step > PRESS_AGAIN_S * 1000)
			step = PRESS_AGAIN_S * 1000;
		int err = vm_wait_down(vm, step);
		if (!err)
			return EX_OK;
		if (err != EX_TIMEOUT)
			return err;
		waited_ms += step;
	}
	if (pressed) {
		printf("%s: no power-off within %u s: forcing it\n", vm->info.name, timeout_s);
		fflush(stdout);
	}
	return force_down(vm);
}

static int not_running(struct vm *vm)
{
	/* a stop also withdraws a restart the guest asked for */
	hv_vm_stop(vm->idx, HC_STOP_FORCE);
	return cli_fail(EX_STATE, "%s is %s: not running", vm->info.name,
			vm_state_name(vm->info.state));
}

int cmd_stop(int argc, char **argv)
{
	const char *name;
	unsigned timeout_s = STOP_TIMEOUT_S;
	struct vm vm;
	int err;

	if ((err = parse_vm_args(argc, argv, &name, &timeout_s, NULL)) ||
	    (err = find_gvm(name, &vm)))
		return err;
	if (vm_is_down(&vm))
		return not_running(&vm);
	if ((err = stop_vm(&vm, timeout_s)))
		return err;
	printf("%s: %s\n", name, vm_state_name(vm.info.state));
	return EX_OK;
}

int cmd_kill(int argc, char **argv)
{
	const char *name;
	struct vm vm;
	int err;

	if ((err = parse_vm_args(argc, argv, &name, NULL, NULL)) || (err = find_gvm(name, &vm)))
		return err;
	if (vm_is_down(&vm))
		return not_running(&vm);
	if ((err = force_down(&vm)))
		return err;
	printf("%s: %s\n", name, vm_state_name(vm.info.state));
	return EX_OK;
}

int cmd_reboot(int argc, char **argv)
{
	const char *name;
	unsigned timeout_s = STOP_TIMEOUT_S;
	int force = 0, err;
	struct vm vm;

	if ((err = parse_vm_args(argc, argv, &name, &timeout_s, &force)) ||
	    (err = find_gvm(name, &vm)))
		return err;
	if (vm_is_down(&vm))
		return cli_fail(EX_STATE, "%s is %s: not running (use start)", name,
				vm_state_name(vm.info.state));
	if ((err = stop_vm(&vm, force ? 0 : timeout_s)) || (err = vm_boot(&vm)))
		return err;
	printf("%s: %s\n", name, vm_state_name(vm.info.state));
	return EX_OK;
}
