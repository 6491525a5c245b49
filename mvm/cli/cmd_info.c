/* syshyper list: every VM with its state, uptime and restarts. */
#include <stdio.h>

#include "cli.h"

int cmd_list(int argc, char **argv)
{
	struct hc_vm_info v;
	int n = hv_vm_count(), err;

	(void)argv;
	if (argc > 1)
		return cli_fail(EX_USAGE, "list takes no arguments");
	if (n < 0)
		return -n;
	printf("%-3s %-16s %-9s %5s %6s %9s %8s  %s\n", "id", "name", "state", "vcpus", "MiB",
	       "uptime-s", "restarts", "note");
	for (int i = 0; i < n; i++) {
		if ((err = hv_vm_info((unsigned)i, &v)))
			return err;
		printf("%-3d %-16s %-9s %5llu %6llu %9.1f %8llu  %s%s%s\n", i, v.name,
		       vm_state_name(v.state), v.ncpus, v.mem_bytes >> 20, v.uptime_ms / 1000.0,
		       v.restarts, v.is_mvm ? "management VM" : "",
		       v.want == HC_WANT_RESTART ? "restart pending " : "", v.reason);
	}
	return EX_OK;
}
