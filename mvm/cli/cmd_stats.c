/* syshyper stats [VM]: the hypervisor's counters per VM. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const causes[HC_TRAP_CAUSES] = {"dabt",   "hvc", "smc",  "wfx",
						   "sysreg", "irq", "other"};

static void print_stats(unsigned idx, const struct hc_vm_info *v)
{
	printf("%u %s:", idx, v->name);
	for (int t = 0; t < HC_TRAP_CAUSES; t++)
		printf(" %s %llu", causes[t], v->traps[t]);
	printf(" | mmio r %llu w %llu hypercalls %llu irqs-injected %llu guest-ms %llu\n",
	       v->mmio_reads, v->mmio_writes, v->hypercalls, v->irqs_injected, v->guest_us / 1000);
}

int cmd_stats(int argc, char **argv)
{
	struct hc_vm_info v;
	int n = hv_vm_count(), err, shown = 0;

	if (argc > 2)
		return cli_fail(EX_USAGE, "stats takes at most one VM name");
	if (n < 0)
		return -n;
	for (int i = 0; i < n; i++) {
		if ((err = hv_vm_info((unsigned)i, &v)))
			return err;
		if (argc < 2 || !strcmp(argv[1], v.name)) {
			print_stats((unsigned)i, &v);
			shown++;
		}
	}
	if (!shown)
		return cli_fail(EX_NOVM, "no VM named '%s' (syshyper list shows them)", argv[1]);
	if (argc < 2)
		print_med_stages();
	return EX_OK;
}
