/* The stubbed machine the VM lifecycle's unit test (test_vm_lifecycle.c)
 * and fuzzer (tests/fuzz/fuzz_vm_lifecycle.c) run vm_lifecycle.c and
 * hypercall.c on: CPUs, a counter, and what the lifecycle's plumbing calls
 * (IPIs, the MVM's event interrupt, parking, the clean-up's steps, RAM
 * zeroing), each counted in `lm`. A stub given something impossible (an
 * IPI to a CPU that does not exist, an interrupt other than the MVM's
 * event, a clean-up step while a vCPU still runs) aborts the program. The
 * harness defines vms[], nvms, printk and vm_log. */
#ifndef LIFE_MACHINE_H
#define LIFE_MACHINE_H
#include "core/percpu.h"
#include "core/vm.h"

#define LM_NCPU 5

struct life_machine {
	struct cfg_vm cfgs[3];
	struct guest_region regions[3];
	struct pcpu cpus[LM_NCPU];
	unsigned cur_cpu; /* this_cpu() */
	uint64_t now;     /* timer_now(), at 1 MHz */
	/* what the plumbing did */
	unsigned sgis[LM_NCPU][4], events, power_offs, resets, vgic_resets, lines_ended;
	unsigned cleaned, dcache_cleans, reaps;
	int button; /* last vpwrbtn_set, -1: none */
	/* a command another CPU runs between a decision under life.lock and
	 * the action on it: run once, from the first timer_now (the power
	 * button's press reads the clock first) or icache_inval_all (vCPU 0's
	 * release calls it first) after it is set */
	void (*timer_hook)(void);
	void (*icache_hook)(void);
	/* called by blk_hv_backend_reap (the START path), if set */
	void (*reap_hook)(void);
};

extern struct life_machine lm;

/* Forgets every count and hook; CPU 0, now = 1000. */
void lm_reset(void);
/* vms[id] with `ncpus` vCPUs on CPUs cpu0.., `size` bytes of RAM at `ram`
 * (IPA `ipa`), its kernel and DTB at those offsets in it. */
void lm_setup_vm(unsigned id, enum vm_role role, ipa_t ipa, uint8_t *ram, uint64_t size,
		 unsigned ncpus, unsigned cpu0, uint64_t kernel_off, uint64_t dtb_off);
#endif
