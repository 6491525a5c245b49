/* The VM lifecycle (issue 9): the state machine with every command in every
 * state (life_apply), HC_VM_LOAD's address checks (out of range, overlapping
 * the MVM or the hypervisor, wrap-around, unaligned, too long), and the
 * hypercalls end to end through hypercall_handle on a stubbed machine: a
 * GVM caller is denied, a running VM cannot be loaded or started, a stop
 * parks the vCPUs and the clean-up on the VM's own CPU resets its devices
 * and zeroes its RAM before the VM is STOPPED, the MVM hears of each change,
 * and a guest's reset asks the MVM for a restart, and a VM starts again
 * only once its previous instance's block requests have left the MVM and
 * the disk (review F6/F7). Also the PL061 model of the virtual power
 * button. The machine's stubs are life_machine.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/arm64/cache.h"
#include "console/console.h"
#include "core/vcpu.h"
#include "core/hypercall.h"
#include "core/percpu.h"
#include "core/vm.h"
#include "core/vm_lifecycle.h"
#include "core/vpwrbtn.h"
#include "drivers/gic.h"
#include "life_machine.h"
#include "syshyper/hypercall.h"

/* ---------------------------------------------------------------- the machine:
 * vms[0] the MVM (CPU 0), vms[1] a GVM of one vCPU on CPU 2, vms[2] a GVM of
 * two vCPUs on CPUs 3 and 4 (never started here) */
#define MVM_IPA 0x48000000UL
#define GVM_IPA 0x40000000UL
#define RAM_SIZE (2UL << 20)
#define KERNEL_OFF 0x80000UL
#define DTB_OFF 0x1f0000UL

struct vm vms[CFG_MAX_VMS];
unsigned nvms;
static uint8_t *mvm_ram, *gvm_ram, *gvm2_ram;
static unsigned log_lines; /* vm_log calls */

void printk(const char *fmt, ...)
{
	(void)fmt;
}
void vm_log(struct vm *vm, enum log_cause cause, const char *fmt, ...)
{
	(void)vm, (void)cause, (void)fmt;
	log_lines++;
}

static int setup(void **state)
{
	(void)state;
	mvm_ram = calloc(1, RAM_SIZE);
	gvm_ram = calloc(1, RAM_SIZE);
	gvm2_ram = calloc(1, RAM_SIZE);
	nvms = 3;
	lm_reset();
	log_lines = 0;
	lm_setup_vm(0, VM_ROLE_MVM, MVM_IPA, mvm_ram, RAM_SIZE, 2, 0, KERNEL_OFF, DTB_OFF);
	lm_setup_vm(1, VM_ROLE_GVM, GVM_IPA, gvm_ram, RAM_SIZE, 1, 2, KERNEL_OFF, DTB_OFF);
	lm_setup_vm(2, VM_ROLE_GVM, GVM_IPA, gvm2_ram, RAM_SIZE, 2, 3, KERNEL_OFF, DTB_OFF);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(mvm_ram);
	free(gvm_ram);
	free(gvm2_ram);
	return 0;
}

/* One hypercall by vCPU 0 of `vm` (on its CPU); returns x0. */
static int64_t hvc(unsigned vm, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	struct vcpu *v = &vms[vm].vcpus[0];

	lm.cur_cpu = v->pcpu;
	v->regs.x[0] = fid;
	v->regs.x[1] = a1;
	v->regs.x[2] = a2;
	v->regs.x[3] = a3;
	v->regs.x[4] = a4;
	assert_true(hypercall_handle(v, fid));
	lm.cur_cpu = 0;
	return (int64_t)v->regs.x[0];
}

static int life_state(unsigned vm)
{
	return vms[vm].life.l.state;
}

/* The info page the MVM reads (at the start of its RAM). */
static struct hc_vm_info *info(unsigned vm)
{
	assert_int_equal(hvc(0, HC_VM_INFO, vm, MVM_IPA, 0, 0), HC_OK);
	return (struct hc_vm_info *)mvm_ram;
}

/* ---------------------------------------------------------------- the state machine */

struct expect {
	int64_t status;
	int next;
	uint32_t actions;
};

#define OK(n, a)            \
	{                   \
		HC_OK, n, a \
	}
#define NO(s)                      \
	{                          \
		HC_ERR_STATE, s, 0 \
	}
#define PARK_EV (LIFE_ACT_PARK | LIFE_ACT_EVENT)

static const int states[] = {LIFE_STOPPED, LIFE_STARTING, LIFE_RUNNING, LIFE_STOPPING,
			     LIFE_CRASHED};

/* [state][command], want and loads 0; STOPPING's outcome STOPPED */
static const struct expect table[5][LIFE_NCMDS] = {
	[0] = /* STOPPED */ {
		[LIFE_LOAD] = OK(LIFE_STOPPED, 0),
		[LIFE_START] = OK(LIFE_STARTING, LIFE_ACT_BOOT | LIFE_ACT_EVENT),
		[LIFE_STOP_REQUEST] = NO(LIFE_STOPPED),
		[LIFE_STOP_FORCE] = NO(LIFE_STOPPED),
		[LIFE_GUEST_OFF] = NO(LIFE_STOPPED),
		[LIFE_GUEST_RESET] = NO(LIFE_STOPPED),
		[LIFE_GUEST_CRASH] = NO(LIFE_STOPPED),
		[LIFE_ENTERED] = NO(LIFE_STOPPED),
		[LIFE_CLEANED] = NO(LIFE_STOPPED),
	},
	[1] = /* STARTING */ {
		[LIFE_LOAD] = NO(LIFE_STARTING),
		[LIFE_START] = NO(LIFE_STARTING),
		[LIFE_STOP_REQUEST] = NO(LIFE_STARTING),
		[LIFE_STOP_FORCE] = OK(LIFE_STOPPING, PARK_EV),
		[LIFE_GUEST_OFF] = NO(LIFE_STARTING),
		[LIFE_GUEST_RESET] = NO(LIFE_STARTING),
		[LIFE_GUEST_CRASH] = NO(LIFE_STARTING),
		[LIFE_ENTERED] = OK(LIFE_RUNNING, LIFE_ACT_EVENT),
		[LIFE_CLEANED] = NO(LIFE_STARTING),
	},
	[2] = /* RUNNING */ {
		[LIFE_LOAD] = NO(LIFE_RUNNING),
		[LIFE_START] = NO(LIFE_RUNNING),
		[LIFE_STOP_REQUEST] = OK(LIFE_RUNNING, LIFE_ACT_BUTTON),
		[LIFE_STOP_FORCE] = OK(LIFE_STOPPING, PARK_EV),
		[LIFE_GUEST_OFF] = OK(LIFE_STOPPING, PARK_EV),
		[LIFE_GUEST_RESET] = OK(LIFE_STOPPING, PARK_EV),
		[LIFE_GUEST_CRASH] = OK(LIFE_STOPPING, PARK_EV),
		[LIFE_ENTERED] = NO(LIFE_RUNNING),
		[LIFE_CLEANED] = NO(LIFE_RUNNING),
	},
	[3] = /* STOPPING */ {
		[LIFE_LOAD] = NO(LIFE_STOPPING),
		[LIFE_START] = NO(LIFE_STOPPING),
		[LIFE_STOP_REQUEST] = NO(LIFE_STOPPING),
		[LIFE_STOP_FORCE] = OK(LIFE_STOPPING, LIFE_ACT_PARK), /* parks again */
		[LIFE_GUEST_OFF] = NO(LIFE_STOPPING),
		[LIFE_GUEST_RESET] = NO(LIFE_STOPPING),
		[LIFE_GUEST_CRASH] = NO(LIFE_STOPPING),
		[LIFE_ENTERED] = NO(LIFE_STOPPING),
		[LIFE_CLEANED] = OK(LIFE_STOPPED, LIFE_ACT_EVENT),
	},
	[4] = /* CRASHED */ {
		[LIFE_LOAD] = OK(LIFE_CRASHED, 0),
		[LIFE_START] = OK(LIFE_STARTING, LIFE_ACT_BOOT | LIFE_ACT_EVENT),
		[LIFE_STOP_REQUEST] = NO(LIFE_CRASHED),
		[LIFE_STOP_FORCE] = NO(LIFE_CRASHED),
		[LIFE_GUEST_OFF] = NO(LIFE_CRASHED),
		[LIFE_GUEST_RESET] = NO(LIFE_CRASHED),
		[LIFE_GUEST_CRASH] = NO(LIFE_CRASHED),
		[LIFE_ENTERED] = NO(LIFE_CRASHED),
		[LIFE_CLEANED] = NO(LIFE_CRASHED),
	},
};

static void test_every_command_in_every_state(void **state)
{
	(void)state;
	for (unsigned s = 0; s < ARRAY_SIZE(states); s++) {
		for (int c = 0; c < LIFE_NCMDS; c++) {
			struct life l = {.state = states[s], .outcome = LIFE_STOPPED};
			const struct expect *e = &table[s][c];
			int64_t r = life_apply(&l, (enum life_cmd)c);
			if (r != e->status || l.state != e->next || l.actions != e->actions)
				fail_msg("state %d command %d: got %ld -> %d actions %u, want %ld "
					 "-> "
					 "%d actions %u",
					 states[s], c, (long)r, l.state, l.actions, (long)e->status,
					 e->next, e->actions);
			bool reset = states[s] == LIFE_RUNNING && c == LIFE_GUEST_RESET;
			assert_int_equal(l.want, reset ? HC_WANT_RESTART : HC_WANT_NONE);
		}
	}
	/* an unknown state refuses everything */
	struct life bad = {.state = 42};
	assert_int_equal(life_apply(&bad, LIFE_START), HC_ERR_STATE);
	assert_int_equal(bad.state, 42);
}

static void test_outcomes_and_want(void **state)
{
	struct life l = {.state = LIFE_RUNNING};
	(void)state;

	/* the guest's reset: down as STOPPED, with a restart wanted */
	assert_int_equal(life_apply(&l, LIFE_GUEST_RESET), HC_OK);
	assert_int_equal(l.want, HC_WANT_RESTART);
	assert_int_equal(life_apply(&l, LIFE_GUEST_CRASH), HC_ERR_STATE); /* first reason wins */
	assert_int_equal(life_apply(&l, LIFE_CLEANED), HC_OK);
	assert_int_equal(l.state, LIFE_STOPPED);
	assert_int_equal(l.want, HC_WANT_RESTART);
	/* a START takes it */
	assert_int_equal(life_apply(&l, LIFE_START), HC_OK);
	assert_int_equal(l.want, HC_WANT_NONE);
	assert_int_equal(life_apply(&l, LIFE_ENTERED), HC_OK);
	/* a crash ends CRASHED, without a restart */
	assert_int_equal(life_apply(&l, LIFE_GUEST_CRASH), HC_OK);
	assert_int_equal(life_apply(&l, LIFE_CLEANED), HC_OK);
	assert_int_equal(l.state, LIFE_CRASHED);
	assert_int_equal(l.want, HC_WANT_NONE);
	/* a STOP of a VM that is down withdraws a wanted restart (an event) */
	l.want = HC_WANT_RESTART;
	assert_int_equal(life_apply(&l, LIFE_STOP_FORCE), HC_ERR_STATE);
	assert_int_equal(l.want, HC_WANT_NONE);
	assert_int_equal(l.actions, LIFE_ACT_EVENT);
	assert_int_equal(life_apply(&l, LIFE_STOP_REQUEST), HC_ERR_STATE);
	assert_int_equal(l.actions, 0);
	assert_int_equal(l.state, LIFE_CRASHED);
}

static void test_no_start_while_loading(void **state)
{
	struct life l = {.state = LIFE_STOPPED, .loads = 1};
	(void)state;

	assert_int_equal(life_apply(&l, LIFE_START), HC_ERR_STATE);
	assert_int_equal(l.state, LIFE_STOPPED);
	assert_int_equal(life_apply(&l, LIFE_LOAD), HC_OK); /* a second copy may go on */
	l.loads = 0;
	assert_int_equal(life_apply(&l, LIFE_START), HC_OK);
}

/* Review F7/F6: a VM that is down starts again only once every block
 * request of its previous instance has left the MVM and the disk driver
 * (life.io); until then START is HC_ERR_BUSY and changes nothing (a
 * restart the guest asked for stays wanted). Loading may go on. */
static void test_no_start_while_requests_out(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		struct life l = {
			.state = i ? LIFE_CRASHED : LIFE_STOPPED, .want = HC_WANT_RESTART, .io = 2};
		int was = l.state;
		assert_int_equal(life_apply(&l, LIFE_START), HC_ERR_BUSY);
		assert_int_equal(l.state, was);
		assert_int_equal(l.actions, 0);
		assert_int_equal(l.want, HC_WANT_RESTART);
		assert_int_equal(life_apply(&l, LIFE_LOAD), HC_OK);
		life_io_end(&l);
		assert_int_equal(life_apply(&l, LIFE_START), HC_ERR_BUSY);
		life_io_end(&l);
		assert_int_equal(life_apply(&l, LIFE_START), HC_OK);
		assert_int_equal(l.state, LIFE_STARTING);
		assert_int_equal(l.actions, LIFE_ACT_BOOT | LIFE_ACT_EVENT);
	}
	/* a running VM's requests hold nothing else up: it stops as ever */
	struct life r = {.state = LIFE_RUNNING, .io = 5};
	assert_int_equal(life_apply(&r, LIFE_STOP_FORCE), HC_OK);
	assert_int_equal(life_apply(&r, LIFE_CLEANED), HC_OK);
	assert_int_equal(r.state, LIFE_STOPPED);
	/* STATE wins over BUSY while an image is copied in */
	r.loads = 1;
	assert_int_equal(life_apply(&r, LIFE_START), HC_ERR_STATE);
}

/* ---------------------------------------------------------------- HC_VM_LOAD's checks */

static int64_t check(ipa_t dst, ipa_t src, uint64_t len, uint64_t hv_lo, uint64_t hv_hi)
{
	void *d = NULL, *s = NULL;
	int64_t r = life_load_check(&vms[1].mem, dst, &vms[0].mem, src, len, hv_lo, hv_hi, &d, &s);

	if (r == HC_OK) {
		assert_ptr_equal(d, gvm_ram + (dst - GVM_IPA));
		assert_ptr_equal(s, mvm_ram + (src - MVM_IPA));
	} else {
		assert_null(d);
		assert_null(s);
	}
	return r;
}

static void test_load_checks(void **state)
{
	(void)state;
	assert_int_equal(check(GVM_IPA, MVM_IPA, 4096, 0, 0), HC_OK);
	assert_int_equal(check(GVM_IPA + RAM_SIZE - HC_LOAD_CHUNK, MVM_IPA, HC_LOAD_CHUNK, 0, 0),
			 HC_OK);
	assert_int_equal(check(GVM_IPA + RAM_SIZE - 8, MVM_IPA, 3, 0, 0), HC_OK); /* any length */
	/* length: none, or more than a chunk */
	assert_int_equal(check(GVM_IPA, MVM_IPA, 0, 0, 0), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA, MVM_IPA, HC_LOAD_CHUNK + 1, 0, 0), HC_ERR_RANGE);
	/* unaligned, either side */
	assert_int_equal(check(GVM_IPA + 4, MVM_IPA, 8, 0, 0), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA, MVM_IPA + 1, 8, 0, 0), HC_ERR_RANGE);
	/* out of range: past the end, before the start, straddling the end */
	assert_int_equal(check(GVM_IPA + RAM_SIZE, MVM_IPA, 8, 0, 0), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA - 8, MVM_IPA, 8, 0, 0), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA + RAM_SIZE - 8, MVM_IPA, 16, 0, 0), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA, MVM_IPA + RAM_SIZE - 8, 16, 0, 0), HC_ERR_RANGE);
	/* the MVM's IPA is not the GVM's RAM; the GVM's not the MVM's; the
	 * hypervisor's (below both) neither */
	assert_int_equal(check(MVM_IPA, MVM_IPA, 8, 0, 0), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA, GVM_IPA, 8, 0, 0), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA, 0x1000, 8, 0, 0), HC_ERR_RANGE);
	/* wrap-around: an address near 2^64 and a length that wraps */
	assert_int_equal(check(0xfffffffffffffff8UL, MVM_IPA, 16, 0, 0), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA, 0xfffffffffffffff8UL, 16, 0, 0), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA + 8, MVM_IPA, (uint64_t)-8, 0, 0), HC_ERR_RANGE);
	/* host ranges that overlap the hypervisor's are refused even if the
	 * configuration placed them there */
	uint64_t g = (uint64_t)(uintptr_t)gvm_ram, m = (uint64_t)(uintptr_t)mvm_ram;
	assert_int_equal(check(GVM_IPA, MVM_IPA, 4096, g + 4095, g + 8192), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA, MVM_IPA, 4096, m, m + 1), HC_ERR_RANGE);
	assert_int_equal(check(GVM_IPA, MVM_IPA, 4096, g + 4096, g + 8192), HC_OK);
	/* and so is a destination that is the source itself */
	lm.regions[1].hva = mvm_ram;
	void *d, *s;
	assert_int_equal(
		life_load_check(&vms[1].mem, GVM_IPA, &vms[0].mem, MVM_IPA + 8, 16, 0, 0, &d, &s),
		HC_ERR_RANGE);
	lm.regions[1].hva = gvm_ram;
}

/* ---------------------------------------------------------------- the hypercalls */

static void test_gvm_caller_denied(void **state)
{
	(void)state;
	for (unsigned id = 0; id < 3; id++) {
		assert_int_equal(hvc(1, HC_VM_LOAD, id, GVM_IPA, MVM_IPA, 8), HC_ERR_DENIED);
		assert_int_equal(hvc(1, HC_VM_START, id, 0, 0, 0), HC_ERR_DENIED);
		assert_int_equal(hvc(1, HC_VM_STOP, id, HC_STOP_FORCE, 0, 0), HC_ERR_DENIED);
	}
	assert_int_equal(life_state(1), LIFE_STOPPED);
	assert_int_equal(life_state(2), LIFE_STOPPED);
	assert_int_equal(lm.events, 0);
	/* the MVM itself is never a target; an unknown VM is invalid */
	assert_int_equal(hvc(0, HC_VM_LOAD, 0, MVM_IPA, MVM_IPA + 4096, 8), HC_ERR_DENIED);
	assert_int_equal(hvc(0, HC_VM_START, 0, 0, 0, 0), HC_ERR_DENIED);
	assert_int_equal(hvc(0, HC_VM_STOP, 0, HC_STOP_FORCE, 0, 0), HC_ERR_DENIED);
	assert_int_equal(hvc(0, HC_VM_START, 3, 0, 0, 0), HC_ERR_INVALID);
	assert_int_equal(hvc(0, HC_VM_LOAD, 1UL << 32, GVM_IPA, MVM_IPA, 8), HC_ERR_INVALID);
	assert_int_equal(hvc(0, HC_VM_STOP, 1, 2, 0, 0), HC_ERR_INVALID); /* no such mode */
}

static void test_load_copies_into_stopped_vm_only(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 4096; i++)
		mvm_ram[8192 + i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA + KERNEL_OFF, MVM_IPA + 8192, 4096), HC_OK);
	assert_memory_equal(gvm_ram + KERNEL_OFF, mvm_ram + 8192, 4096);
	assert_int_equal(lm.dcache_cleans, 1);
	assert_int_equal(vms[1].life.l.loads, 0);
	/* a refused range copies nothing */
	memset(gvm_ram, 0, 64);
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA - 8, MVM_IPA + 8192, 64), HC_ERR_RANGE);
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA, MVM_IPA + 8192, HC_LOAD_CHUNK + 8),
			 HC_ERR_RANGE);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(gvm_ram[i], 0);
	assert_int_equal(vms[1].life.l.loads, 0);
	/* started: no more loading */
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA, MVM_IPA + 8192, 64), HC_ERR_STATE);
	vm_life_entered(&vms[1].vcpus[0]);
	assert_int_equal(life_state(1), LIFE_RUNNING);
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA, MVM_IPA + 8192, 64), HC_ERR_STATE);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(gvm_ram[i], 0);
	assert_int_equal(lm.dcache_cleans, 1);
}

/* The VM's CPU parks its vCPU and runs its idle loop. */
static void park_vcpus(unsigned vm)
{
	for (unsigned i = 0; i < vms[vm].ncpus; i++)
		vms[vm].vcpus[i].state = VCPU_OFF;
	lm.cur_cpu = vms[vm].vcpus[0].pcpu;
	vm_life_idle(&vms[vm].vcpus[0]);
	lm.cur_cpu = 0;
}

static void test_start_stop_cycle(void **state)
{
	struct vcpu *v0 = &vms[1].vcpus[0];
	(void)state;

	/* START: vCPU 0 released at the kernel with x0 = the DTB */
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	assert_int_equal(life_state(1), LIFE_STARTING);
	assert_int_equal(v0->state, VCPU_PENDING_ON);
	assert_int_equal(v0->on_entry, GVM_IPA + KERNEL_OFF);
	assert_int_equal(v0->on_ctx, GVM_IPA + DTB_OFF);
	assert_int_equal(vms[1].state, VM_RUNNING);
	assert_int_equal(lm.sgis[2][IPI_VCPU_ON], 1);
	assert_int_equal(lm.events, 1);
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_ERR_STATE);
	/* vCPU 0 enters the guest: RUNNING */
	v0->state = VCPU_RUNNING;
	lm.now = 5000;
	lm.cur_cpu = 2;
	vm_life_entered(v0);
	assert_int_equal(life_state(1), LIFE_RUNNING);
	assert_int_equal(lm.events, 2);
	lm.now = 5000 + 3000000;
	assert_int_equal(info(1)->uptime_ms, 3000);
	assert_int_equal(info(1)->state, HC_VM_RUNNING);
	assert_int_equal(info(1)->restarts, 0);
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_ERR_STATE);

	/* a graceful stop presses the button, held for a while, and returns */
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_REQUEST, 0, 0), HC_OK);
	assert_int_equal(lm.button, 1);
	assert_int_equal(life_state(1), LIFE_RUNNING);
	lm.cur_cpu = 2;
	vm_life_tick();
	assert_int_equal(lm.button, 1);
	lm.now += 250000;
	vm_life_tick();
	assert_int_equal(lm.button, 0);
	lm.cur_cpu = 0;

	/* a forced stop: STOPPING at once, the vCPUs parked, RAM intact... */
	memset(gvm_ram, 0xa5, RAM_SIZE);
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_FORCE, 0, 0), HC_OK);
	assert_int_equal(life_state(1), LIFE_STOPPING);
	assert_int_equal(vms[1].state, VM_STOPPED);
	assert_int_equal(lm.power_offs, 1);
	assert_int_equal(lm.sgis[2][IPI_KICK], 1);
	assert_int_equal(lm.events, 3);
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_FORCE, 0, 0), HC_OK);
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_REQUEST, 0, 0), HC_ERR_STATE);
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_ERR_STATE);
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA, MVM_IPA, 8), HC_ERR_STATE);
	assert_int_equal(info(1)->state, HC_VM_STOPPING);
	assert_int_equal(info(1)->uptime_ms, 0);
	/* ...until its vCPU has parked: the clean-up waits for it */
	lm.cur_cpu = 2;
	vm_life_idle(v0);
	assert_int_equal(life_state(1), LIFE_STOPPING);
	assert_int_equal(lm.cleaned, 0);
	assert_int_equal(gvm_ram[0], 0xa5);
	/* another CPU's idle loop is not the one to clean it */
	vm_life_idle(&vms[2].vcpus[0]);
	assert_int_equal(lm.cleaned, 0);
	/* parked: devices reset, vGIC and console clean, RAM zeroed, STOPPED */
	park_vcpus(1);
	assert_int_equal(life_state(1), LIFE_STOPPED);
	assert_int_equal(lm.resets, 1);
	assert_int_equal(lm.vgic_resets, 1);
	assert_int_equal(lm.lines_ended, 1);
	assert_true(lm.cleaned > 0);
	for (uint64_t i = 0; i < RAM_SIZE; i++)
		if (gvm_ram[i])
			fail_msg("byte 0x%lx of the stopped VM's RAM is 0x%x", (unsigned long)i,
				 gvm_ram[i]);
	for (uint64_t i = 0; i < RAM_SIZE; i++)
		if (gvm2_ram[i])
			fail_msg("another GVM's RAM was touched");
	assert_int_equal(lm.events, 4);
	assert_string_equal(info(1)->reason, "stopped by the MVM");
	/* the idle loop again changes nothing */
	park_vcpus(1);
	assert_int_equal(lm.resets, 1);
	/* a stop of a stopped VM is refused */
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_FORCE, 0, 0), HC_ERR_STATE);
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_REQUEST, 0, 0), HC_ERR_STATE);
	assert_int_equal(lm.events, 4);

	/* and it starts again: a restart */
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA, MVM_IPA, 8), HC_OK);
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	lm.cur_cpu = 2;
	vm_life_entered(v0);
	assert_int_equal(info(1)->restarts, 1);
	assert_string_equal(info(1)->reason, "");
}

/* One request of the disk driver that answers late: done at the next
 * reap (the START path reaps before it decides). */
static void disk_answers(void)
{
	life_io_end(&vms[1].life.l);
}

/* Review F7/F6 through the hypercalls: a write still at the MVM (or the
 * disk) when the VM was killed keeps HC_VM_START at HC_ERR_BUSY, with no
 * vCPU released, no event, and a (rate-limited) line saying why, until it
 * has left; a request the disk driver finishes late counts off at START. */
static void test_start_waits_for_the_previous_instances_io(void **state)
{
	(void)state;
	vm_life_boot(&vms[1]);
	lm.cur_cpu = 2;
	vms[1].vcpus[0].state = VCPU_RUNNING;
	vm_life_entered(&vms[1].vcpus[0]);
	lm.cur_cpu = 0;
	life_io_begin(&vms[1].life.l); /* a write to the MVM */
	life_io_begin(&vms[1].life.l); /* a request the disk driver timed out on */
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_FORCE, 0, 0), HC_OK);
	park_vcpus(1);
	assert_int_equal(life_state(1), LIFE_STOPPED);
	unsigned ev = lm.events, ons = lm.sgis[2][IPI_VCPU_ON], starts = vms[1].life.starts;
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_ERR_BUSY);
	assert_int_equal(life_state(1), LIFE_STOPPED);
	assert_int_equal(vms[1].state, VM_STOPPED);
	assert_int_equal(vms[1].vcpus[0].state, VCPU_OFF);
	assert_int_equal(lm.sgis[2][IPI_VCPU_ON], ons);
	assert_int_equal(lm.events, ev);
	assert_int_equal(vms[1].life.starts, starts);
	assert_int_equal(log_lines, 1);
	assert_int_equal(lm.reaps, 1);
	/* images may be loaded meanwhile */
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA, MVM_IPA, 8), HC_OK);
	/* the MVM's daemon completes the write: the disk's request is left */
	life_io_end(&vms[1].life.l);
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_ERR_BUSY);
	/* the disk answers it: the START's reap counts it off, and it starts */
	lm.reap_hook = disk_answers;
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	assert_int_equal(life_state(1), LIFE_STARTING);
	assert_int_equal(lm.sgis[2][IPI_VCPU_ON], ons + 1);
	assert_int_equal(vms[1].life.l.io, 0);
	/* other GVMs were never held up */
	assert_int_equal(hvc(0, HC_VM_START, 2, 0, 0, 0), HC_OK);
}

static void test_guest_reset_wants_restart(void **state)
{
	(void)state;
	vm_life_boot(&vms[1]); /* as at boot: no event for the MVM yet */
	assert_int_equal(lm.events, 0);
	lm.cur_cpu = 2;
	vms[1].vcpus[0].state = VCPU_RUNNING;
	vm_life_entered(&vms[1].vcpus[0]);
	assert_int_equal(life_state(1), LIFE_RUNNING);
	/* the guest's PSCI SYSTEM_RESET (vpsci.c calls this, then parks) */
	vm_life_guest_off(&vms[1], true);
	assert_int_equal(life_state(1), LIFE_STOPPING);
	assert_int_equal(lm.sgis[2][IPI_KICK], 0); /* its own CPU: no IPI to itself */
	park_vcpus(1);
	struct hc_vm_info *i = info(1);
	assert_int_equal(i->state, HC_VM_STOPPED);
	assert_int_equal(i->want, HC_WANT_RESTART);
	assert_non_null(strstr(i->reason, "SYSTEM_RESET"));
	uint64_t ev = i->events;
	assert_true(ev >= 3);
	/* the MVM starts it again: the wish is taken */
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	assert_int_equal(info(1)->want, HC_WANT_NONE);
	/* a SYSTEM_OFF does not ask for a restart */
	vm_life_entered(&vms[1].vcpus[0]);
	vm_life_guest_off(&vms[1], false);
	park_vcpus(1);
	assert_int_equal(info(1)->want, HC_WANT_NONE);
	assert_int_equal(info(1)->state, HC_VM_STOPPED);
}

static void test_crash(void **state)
{
	(void)state;
	vm_life_boot(&vms[1]);
	vm_life_entered(&vms[1].vcpus[0]);
	vm_life_crash(&vms[1], "vCPU 0: SError 0xbf000000 at pc 0x1234");
	vm_life_crash(&vms[1], "a second one"); /* the first reason stays */
	park_vcpus(1);
	struct hc_vm_info *i = info(1);
	assert_int_equal(i->state, HC_VM_CRASHED);
	assert_string_equal(i->reason, "vCPU 0: SError 0xbf000000 at pc 0x1234");
	/* a crashed VM can be loaded and started again */
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA, MVM_IPA, 8), HC_OK);
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	/* the MVM never crashes this way: its vCPU only halts */
	vm_life_boot(&vms[0]);
	vm_life_crash(&vms[0], "SError");
	assert_int_equal(life_state(0), LIFE_STARTING);
}

/* A stop before vCPU 0 ever entered: its pending start is withdrawn. */
static void test_stop_while_starting(void **state)
{
	(void)state;
	assert_int_equal(hvc(0, HC_VM_START, 2, 0, 0, 0), HC_OK);
	assert_int_equal(vms[2].vcpus[0].state, VCPU_PENDING_ON);
	assert_int_equal(hvc(0, HC_VM_STOP, 2, HC_STOP_REQUEST, 0, 0), HC_ERR_STATE);
	assert_int_equal(hvc(0, HC_VM_STOP, 2, HC_STOP_FORCE, 0, 0), HC_OK);
	assert_int_equal(vms[2].vcpus[0].state, VCPU_OFF);
	/* a late ENTERED (its CPU had claimed the start) does not revive it */
	vm_life_entered(&vms[2].vcpus[0]);
	assert_int_equal(life_state(2), LIFE_STOPPING);
	/* two vCPUs: the clean-up waits for both */
	vms[2].vcpus[1].state = VCPU_RUNNING;
	lm.cur_cpu = 3;
	vm_life_idle(&vms[2].vcpus[0]);
	assert_int_equal(life_state(2), LIFE_STOPPING);
	/* vCPU 1 parks on CPU 4 and wakes vCPU 0's CPU */
	vms[2].vcpus[1].state = VCPU_OFF;
	lm.cur_cpu = 4;
	vm_life_parked(&vms[2].vcpus[1]);
	assert_int_equal(lm.sgis[3][IPI_KICK], 2); /* the stop's and this one */
	vm_life_idle(&vms[2].vcpus[1]);            /* not vCPU 0's CPU */
	assert_int_equal(life_state(2), LIFE_STOPPING);
	lm.cur_cpu = 3;
	vm_life_idle(&vms[2].vcpus[0]);
	assert_int_equal(life_state(2), LIFE_STOPPED);
}

static void test_info_addresses(void **state)
{
	(void)state;
	struct hc_vm_info *i = info(1);
	assert_int_equal(i->is_mvm, 0);
	assert_int_equal(i->kernel_ipa, GVM_IPA + KERNEL_OFF);
	assert_int_equal(i->dtb_ipa, GVM_IPA + DTB_OFF);
	assert_int_equal(i->initrd_ipa, 0);
	assert_int_equal(i->ram_ipa, GVM_IPA);
	assert_int_equal(i->ram_bytes, RAM_SIZE);
	assert_int_equal(info(0)->is_mvm, 1);
	/* the page must be the MVM's, and aligned for the struct (found by
	 * fuzz_vm_lifecycle: EL2 wrote 64-bit fields at an odd address) */
	assert_int_equal(hvc(0, HC_VM_INFO, 1, GVM_IPA - 4096, 0, 0), HC_ERR_INVALID);
	assert_int_equal(hvc(0, HC_VM_INFO, 1, MVM_IPA + 4, 0, 0), HC_ERR_INVALID);
	assert_int_equal(hvc(0, HC_VM_INFO, 1, MVM_IPA + RAM_SIZE - 8, 0, 0), HC_ERR_INVALID);
}

/* ---------------------------------------------------------------- the PL061 */

static void test_pl061_power_button(void **state)
{
	struct pl061 p;
	(void)state;

	pl061_reset(&p);
	/* the amba bus's identification: 0x00041061, PrimeCell 0xb105f00d */
	assert_int_equal(pl061_read(&p, 0xfe0), 0x61);
	assert_int_equal(pl061_read(&p, 0xfe4), 0x10);
	assert_int_equal(pl061_read(&p, 0xfe8), 0x04);
	assert_int_equal(pl061_read(&p, 0xfec), 0x00);
	assert_int_equal(pl061_read(&p, 0xff0), 0x0d);
	assert_int_equal(pl061_read(&p, 0xffc), 0xb1);
	/* nothing enabled: a press raises nothing, but reads back */
	assert_false(pl061_set_input(&p, PWRBTN_LINE, true));
	assert_int_equal(pl061_read(&p, 0x3fc), 1u << PWRBTN_LINE);
	assert_int_equal(pl061_read(&p, 0x3fc & ~(4u << PWRBTN_LINE)), 0); /* masked */
	assert_false(pl061_set_input(&p, PWRBTN_LINE, false));
	/* gpio-keys: both edges, enabled */
	pl061_write(&p, 0x41c, 0xff);
	assert_false(pl061_write(&p, 0x408, 1u << PWRBTN_LINE)); /* IBE */
	assert_false(pl061_write(&p, 0x410, 1u << PWRBTN_LINE)); /* IE */
	assert_true(pl061_set_input(&p, PWRBTN_LINE, true));     /* press */
	assert_int_equal(pl061_read(&p, 0x418), 1u << PWRBTN_LINE);
	assert_false(pl061_set_input(&p, PWRBTN_LINE, true));    /* no change, no edge */
	assert_false(pl061_write(&p, 0x41c, 1u << PWRBTN_LINE)); /* IC */
	assert_int_equal(pl061_read(&p, 0x418), 0);
	assert_true(pl061_set_input(&p, PWRBTN_LINE, false)); /* release */
	assert_false(pl061_write(&p, 0x41c, 0xff));
	/* rising edge only */
	pl061_write(&p, 0x408, 0);
	pl061_write(&p, 0x40c, 1u << PWRBTN_LINE); /* IEV */
	assert_true(pl061_set_input(&p, PWRBTN_LINE, true));
	pl061_write(&p, 0x41c, 0xff);
	assert_false(pl061_set_input(&p, PWRBTN_LINE, false));
	/* masked: latched in RIS, raised once enabled (a level to the GIC) */
	pl061_write(&p, 0x410, 0);
	assert_false(pl061_set_input(&p, PWRBTN_LINE, true));
	assert_int_equal(pl061_read(&p, 0x414), 1u << PWRBTN_LINE);
	assert_int_equal(pl061_read(&p, 0x418), 0);
	assert_true(pl061_write(&p, 0x410, 1u << PWRBTN_LINE));
	/* level-sensitive, high: RIS follows the level, IC cannot clear it */
	pl061_reset(&p);
	pl061_write(&p, 0x404, 1u << PWRBTN_LINE);
	pl061_write(&p, 0x40c, 1u << PWRBTN_LINE);
	pl061_write(&p, 0x410, 1u << PWRBTN_LINE);
	assert_true(pl061_set_input(&p, PWRBTN_LINE, true));
	assert_true(pl061_write(&p, 0x41c, 0xff));
	pl061_set_input(&p, PWRBTN_LINE, false);
	assert_false(pl061_irq_asserted(&p));
	/* output pins: data written through the address mask, inputs ignore it */
	pl061_reset(&p);
	pl061_write(&p, 0x400, 0x01); /* line 0 an output */
	pl061_write(&p, 0x3fc, 0xff);
	assert_int_equal(pl061_read(&p, 0x3fc), 0x01);
	pl061_write(&p, 0x004 << 1, 0x00); /* mask 0x02: line 1, an input: nothing */
	assert_int_equal(pl061_read(&p, 0x3fc), 0x01);
	pl061_write(&p, 0x004, 0x00); /* mask 0x01 */
	assert_int_equal(pl061_read(&p, 0x3fc), 0x00);
	/* a line that does not exist */
	assert_false(pl061_set_input(&p, 8, true));
	assert_int_equal(pl061_read(&p, 0x3fc), 0x00);
}

/* ---------------------------------------------------------------- races
 * (security review of issue 9): a second MVM vCPU or the VM's own CPU acts
 * from inside a stub the plumbing calls between a decision and its action */

/* A hypercall by vCPU `vc` of `vm`, restoring the current CPU after. */
static int64_t hvc_v(unsigned vm, unsigned vc, uint64_t fid, uint64_t a1, uint64_t a2)
{
	struct vcpu *v = &vms[vm].vcpus[vc];
	unsigned saved = lm.cur_cpu;

	lm.cur_cpu = v->pcpu;
	v->regs.x[0] = fid;
	v->regs.x[1] = a1;
	v->regs.x[2] = a2;
	assert_true(hypercall_handle(v, fid));
	lm.cur_cpu = saved;
	return (int64_t)v->regs.x[0];
}

static void kill_vm1(void)
{
	assert_int_equal(hvc_v(0, 1, HC_VM_STOP, 1, HC_STOP_FORCE), HC_OK);
}

/* the kill, then vm1's CPU idles: all parked (v0 is still OFF) */
static void kill_and_clean_vm1(void)
{
	unsigned saved = lm.cur_cpu;

	kill_vm1();
	lm.cur_cpu = 2;
	vm_life_idle(&vms[1].vcpus[0]);
	lm.cur_cpu = saved;
}

/* F1a: MVM vCPU 1's STOP FORCE and the clean-up land between START's
 * decision and vCPU 0's release: a STOPPED VM has no vCPU about to run. */
static void test_race_start_vs_kill_after_cleanup(void **state)
{
	(void)state;
	lm.icache_hook = kill_and_clean_vm1;
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	assert_int_equal(life_state(1), LIFE_STOPPED);
	assert_int_equal(vms[1].state, VM_STOPPED);
	assert_int_equal(vms[1].vcpus[0].state, VCPU_OFF);
	assert_int_equal(lm.sgis[2][IPI_VCPU_ON], 0);
}

/* F1b: the same race before the clean-up: vCPU 0 is not released into a
 * STOPPING VM, and a kill in STOPPING parks again whatever got going. */
static void test_race_start_vs_kill_unkillable(void **state)
{
	(void)state;
	lm.icache_hook = kill_vm1;
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	assert_int_equal(life_state(1), LIFE_STOPPING);
	assert_int_equal(vms[1].state, VM_STOPPED);
	assert_int_equal(vms[1].vcpus[0].state, VCPU_OFF);
	/* had it got going anyway, the next kill must park it */
	vms[1].vcpus[0].state = VCPU_RUNNING;
	unsigned before = lm.power_offs;
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_FORCE, 0, 0), HC_OK);
	assert_true(lm.power_offs > before);
	assert_int_equal(life_state(1), LIFE_STOPPING);
	park_vcpus(1);
	assert_int_equal(life_state(1), LIFE_STOPPED);
}

/* F4: a kill while the VM goes down for a guest reset withdraws the
 * restart (an event), so `supervise` does not bring back the killed VM. */
static void test_kill_withdraws_restart(void **state)
{
	(void)state;
	vm_life_boot(&vms[1]);
	lm.cur_cpu = 2;
	vm_life_entered(&vms[1].vcpus[0]);
	vm_life_guest_off(&vms[1], true); /* SYSTEM_RESET */
	lm.cur_cpu = 0;
	assert_int_equal(vms[1].life.l.want, HC_WANT_RESTART);
	unsigned ev = lm.events;
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_FORCE, 0, 0), HC_OK);
	assert_int_equal(vms[1].life.l.want, HC_WANT_NONE);
	assert_int_equal(lm.events, ev + 1);
	park_vcpus(1);
	assert_int_equal(life_state(1), LIFE_STOPPED);
	assert_int_equal(vms[1].life.l.want, HC_WANT_NONE);
	/* no change, no event */
	struct life l = {.state = LIFE_STOPPING, .outcome = LIFE_STOPPED};
	assert_int_equal(life_apply(&l, LIFE_STOP_FORCE), HC_OK);
	assert_int_equal(l.actions, LIFE_ACT_PARK);
}

/* F3: a GVM whose images the MVM loads (stopped_at_boot) is zeroed on its
 * own CPU at boot, before it can be loaded or started: its first instance
 * does not see what RAM held (a warm reset, an earlier boot). */
static void test_first_start_ram_zeroed(void **state)
{
	(void)state;
	lm.cfgs[1].stopped_at_boot = 1;
	memset(gvm_ram, 0xa5, RAM_SIZE);
	memset(mvm_ram, 0x11, 8);
	vm_life_boot(&vms[1]); /* as vms_start_all */
	assert_int_equal(life_state(1), LIFE_STOPPING);
	assert_int_equal(vms[1].vcpus[0].state, VCPU_OFF);
	assert_int_equal(lm.sgis[2][IPI_KICK], 1);
	assert_int_equal(lm.events, 0); /* the MVM is not up yet */
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA + KERNEL_OFF, MVM_IPA, 8), HC_ERR_STATE);
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_ERR_STATE);
	park_vcpus(1); /* its CPU's idle loop */
	assert_int_equal(life_state(1), LIFE_STOPPED);
	assert_int_equal(hvc(0, HC_VM_LOAD, 1, GVM_IPA + KERNEL_OFF, MVM_IPA, 8), HC_OK);
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	assert_int_equal(gvm_ram[0], 0);
	assert_int_equal(gvm_ram[RAM_SIZE - 1], 0);
	assert_int_equal(gvm_ram[KERNEL_OFF], 0x11);
	assert_int_equal(vms[1].life.starts, 1);
}

/* F2: a STOP REQUEST whose press lands after another CPU stopped and
 * cleaned the VM presses nothing: the next instance does not start with
 * KEY_POWER held. */
static void test_race_button_after_cleanup(void **state)
{
	(void)state;
	vm_life_boot(&vms[1]);
	vms[1].vcpus[0].state = VCPU_RUNNING;
	lm.cur_cpu = 2;
	vm_life_entered(&vms[1].vcpus[0]);
	lm.cur_cpu = 0;
	vms[1].vcpus[0].state = VCPU_OFF;   /* it parks when stopped */
	lm.timer_hook = kill_and_clean_vm1; /* the press reads the clock first */
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_REQUEST, 0, 0), HC_OK);
	assert_int_equal(life_state(1), LIFE_STOPPED);
	assert_false(vms[1].life.button_held);
	assert_int_equal(lm.button, -1);
	/* without the race the press lands */
	assert_int_equal(hvc(0, HC_VM_START, 1, 0, 0, 0), HC_OK);
	vms[1].vcpus[0].state = VCPU_RUNNING;
	lm.cur_cpu = 2;
	vm_life_entered(&vms[1].vcpus[0]);
	lm.cur_cpu = 0;
	assert_int_equal(hvc(0, HC_VM_STOP, 1, HC_STOP_REQUEST, 0, 0), HC_OK);
	assert_true(vms[1].life.button_held);
	assert_int_equal(lm.button, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_in_every_state),
		cmocka_unit_test(test_outcomes_and_want),
		cmocka_unit_test(test_no_start_while_loading),
		cmocka_unit_test(test_no_start_while_requests_out),
		cmocka_unit_test_setup_teardown(test_load_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gvm_caller_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_copies_into_stopped_vm_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_start_stop_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_waits_for_the_previous_instances_io,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_reset_wants_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_while_starting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info_addresses, setup, teardown),
		cmocka_unit_test(test_pl061_power_button),
		cmocka_unit_test_setup_teardown(test_race_start_vs_kill_after_cleanup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_race_start_vs_kill_unkillable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kill_withdraws_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_start_ram_zeroed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race_button_after_cleanup, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
