/* syshyper: the MVM's command line to the hypervisor. `syshyper --help`
 * lists the commands, `syshyper COMMAND --help` explains one. Every error
 * prints one line "syshyper: ..." on stderr and exits with its kind's
 * status (cli.h: 2 usage, 3 unknown VM, 4 wrong state, 5 image, 6 not the
 * MVM, 7 timeout, 1 other). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct command commands[] = {
	{"list", "", "every VM: state, vCPUs, MiB, uptime, restarts, why it last stopped",
	 cmd_list},
	{"stats", "[VM]", "the hypervisor's counters per VM (traps by cause, MMIO, interrupts)",
	 cmd_stats},
	{"start", "VM", "load a stopped or crashed GVM's images from the MVM and start it",
	 cmd_start},
	{"stop", "VM [-t SECONDS]",
	 "press the GVM's power button; force it off after SECONDS (30; 0: at once)", cmd_stop},
	{"kill", "VM", "stop the GVM at once (its memory is zeroed)", cmd_kill},
	{"reboot", "VM [-t SECONDS] [-f]",
	 "stop the GVM as 'stop' does (-f: kill it), reload its images and start it", cmd_reboot},
	{"autostart", "", "start the GVMs the manifest marks autostart (the MVM's init runs it)",
	 cmd_autostart},
	{"supervise", "[-d S] [-m S] [-u S]",
	 "run forever: reload and restart every GVM that asked for a reset (reboot, panic); "
	 "a VM that ran less than -u seconds (60) waits -d seconds (1), doubled per quick "
	 "restart, up to -m (60)",
	 cmd_supervise},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: syshyper COMMAND [ARGS]   (syshyper COMMAND --help for one)\n");
	for (unsigned i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-9s %-22s %s\n", commands[i].name, commands[i].args,
			commands[i].help);
	fprintf(out, "exit status: 0 done, 1 failed, 2 usage, 3 unknown VM, 4 wrong state, "
		     "5 image missing or too big, 6 not the MVM, 7 timeout\n");
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "list";
	int err;

	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		usage(stdout);
		return EX_OK;
	}
	for (unsigned i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];
		if (strcmp(name, c->name))
			continue;
		if (wants_help(argc - 1, argv + 1)) {
			printf("usage: syshyper %s %s\n  %s\n", c->name, c->args, c->help);
			return EX_OK;
		}
		if ((err = hv_open()))
			return err;
		return argc > 1 ? c->run(argc - 1, argv + 1) : c->run(1, (char *[]){"list", NULL});
	}
	return cli_fail(EX_USAGE, "unknown command '%s' (syshyper --help lists them)", name);
}
