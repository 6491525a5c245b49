/* libFuzzer harness of the VM lifecycle (issue 9): any sequence of the
 * hypercalls (HC_VM_LOAD/START/STOP/INFO with any arguments, from the MVM
 * or a GVM), the guest's power-off, reset and crash from a running vCPU,
 * vCPUs entering and parking, the idle loop and the tick of any CPU, and
 * guests and the MVM writing their own memory. Checked after every step:
 *  - a GVM's RAM changes only by its own writes while it runs, by an
 *    HC_VM_LOAD that succeeded (exactly the bytes asked, from the MVM's
 *    buffer as it was) while it was STOPPED or CRASHED, and by the clean-up,
 *    after which it is all zero; nobody else's memory changes but the info
 *    page HC_VM_INFO writes into the MVM;
 *  - LOAD and START succeed only from STOPPED/CRASHED, a GVM's lifecycle
 *    calls are always denied, a VM is RUNNING only after its vCPU 0 entered,
 *    the clean-up never runs while one of its vCPUs is not parked;
 *  - every change of state or `want` after boot raises the MVM's event
 *    interrupt, and nothing else does;
 *  - START succeeds only with none of the VM's block requests out (at the
 *    MVM or a disk: the input sends and answers them), and is HC_ERR_BUSY,
 *    changing nothing, for a VM that is down with some out;
 *  - a GVM that is STOPPING, STOPPED or CRASHED has its run flag down and
 *    no vCPU about to start, and one that is down no vCPU running.
 * Races: the input may pick a command that another CPU runs between a
 * hypercall's decision under life.lock and its action (from inside
 * icache_inval_all, which the release of vCPU 0 calls first, or timer_now,
 * which the power-button press reads first): a STOP FORCE from the MVM's
 * second vCPU, with or without the clean-up on the VM's CPU, a STOP
 * REQUEST, or vCPU 0 taking a pending start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/arch.h"
#include "arch/arm64/cache.h"
#include "console/console.h"
#include "core/vcpu.h"
#include "core/hypercall.h"
#include "core/percpu.h"
#include "core/vm.h"
#include "core/vm_lifecycle.h"
#include "core/vpwrbtn.h"
#include "drivers/gic.h"
#include "lib/fuzz_stubs.h"
#include "life_machine.h"
#include "syshyper/hypercall.h"

#define NVM 3
#define RAM 0x4000UL
#define MVM_IPA 0x48000000UL
#define GVM_IPA 0x40000000UL

static uint8_t *ram[NVM], shadow[NVM][RAM];

/* A racing command armed by a hypercall, run once from the machine's
 * timer or icache hook (life_machine.h). */
static uint8_t race_op;
static unsigned race_vm;
static bool raced; /* in this step */

static void setup_vm(unsigned id, enum vm_role role, ipa_t ipa, unsigned ncpus, unsigned cpu0)
{
	if (!ram[id])
		ram[id] = malloc(RAM); /* ASan: a stray copy past it faults */
	memset(ram[id], 0, RAM);
	memset(shadow[id], 0, RAM);
	lm_setup_vm(id, role, ipa, ram[id], RAM, ncpus, cpu0, 0x1000, 0x3000);
}

static int life_state(unsigned id)
{
	return vms[id].life.l.state;
}

static bool down(int s)
{
	return s == LIFE_STOPPED || s == LIFE_CRASHED;
}

static void race_call(unsigned target, uint64_t how)
{
	struct vcpu *v = &vms[0].vcpus[1]; /* the MVM's other vCPU */
	unsigned saved = lm.cur_cpu;

	lm.cur_cpu = v->pcpu;
	v->regs.x[0] = HC_VM_STOP;
	v->regs.x[1] = target;
	v->regs.x[2] = how;
	FUZZ_ASSERT(hypercall_handle(v, HC_VM_STOP), "STOP not handled");
	lm.cur_cpu = saved;
}

static void run_race(void)
{
	raced = true;
	struct vm *vm = &vms[race_vm];
	struct vcpu *v0 = &vm->vcpus[0];
	unsigned saved = lm.cur_cpu;
	switch (race_op % 4) {
	case 0: /* kill */
		race_call(race_vm, HC_STOP_FORCE);
		break;
	case 1: /* kill, and the VM's CPU cleans up if all parked */
		race_call(race_vm, HC_STOP_FORCE);
		lm.cur_cpu = v0->pcpu;
		int was = life_state(race_vm);
		vm_life_idle(v0);
		if (was == LIFE_STOPPING && down(life_state(race_vm)))
			memset(shadow[race_vm], 0, RAM); /* cleaned up: all zero */
		break;
	case 2:
		race_call(race_vm, HC_STOP_REQUEST);
		break;
	default: /* vCPU 0 takes a pending start on its CPU */
		lm.cur_cpu = v0->pcpu;
		if (v0->state == VCPU_PENDING_ON && vm->state == VM_RUNNING) {
			v0->state = VCPU_RUNNING;
			vm_life_entered(v0);
		}
		break;
	}
	lm.cur_cpu = saved;
}

/* An address in the VM's RAM most of the time, anything sometimes. */
static uint64_t addr(struct fuzz_in *in, ipa_t base)
{
	uint8_t how = fin_u8(in);

	if (how < 200)
		return base + (fin_u16(in) % (RAM + 64)) - (how & 1 ? 32 : 0);
	return fin_u64(in);
}

static void hypercall(struct fuzz_in *in)
{
	static const uint32_t fids[] = {HC_VM_LOAD, HC_VM_START, HC_VM_STOP, HC_VM_INFO};
	unsigned from = fin_u8(in) % 4 == 0 ? 1 + fin_u8(in) % 2 : 0; /* mostly the MVM */
	uint32_t fid = fids[fin_u8(in) % ARRAY_SIZE(fids)];
	uint64_t target = fin_u8(in) % 5, x2, x3, x4;
	struct vcpu *v = &vms[from].vcpus[0];
	int before = target < NVM ? life_state(target) : -1;
	uint32_t io = target < NVM ? vms[target].life.l.io : 0;
	uint8_t mvm_before[RAM];

	if (fid == HC_VM_LOAD) {
		x2 = addr(in, GVM_IPA);
		x3 = addr(in, MVM_IPA);
		x4 = fin_u8(in) < 240 ? fin_u16(in) % (RAM + 16) : fin_u64(in);
	} else if (fid == HC_VM_INFO) {
		x2 = addr(in, MVM_IPA);
		x3 = x4 = 0;
	} else {
		x2 = fin_u8(in) % 3;
		x3 = x4 = 0;
	}
	memcpy(mvm_before, ram[0], RAM);
	if (from == 0 && target >= 1 && target < NVM && fin_u8(in) % 4 == 0) {
		if (fin_u8(in) & 1)
			lm.timer_hook = run_race;
		else
			lm.icache_hook = run_race;
		race_op = fin_u8(in);
		race_vm = (unsigned)target;
	}
	lm.cur_cpu = v->pcpu;
	v->regs.x[0] = fid;
	v->regs.x[1] = target;
	v->regs.x[2] = x2;
	v->regs.x[3] = x3;
	v->regs.x[4] = x4;
	FUZZ_ASSERT(hypercall_handle(v, fid), "fid 0x%x not handled", fid);
	int64_t r = (int64_t)v->regs.x[0];
	lm.cur_cpu = 0;
	lm.timer_hook = lm.icache_hook = NULL; /* not reached: no race */
	if (from != 0) {
		FUZZ_ASSERT(r == HC_ERR_DENIED, "a GVM's call 0x%x returned %ld", fid, (long)r);
		return;
	}
	if (fid == HC_VM_INFO && r == HC_OK) { /* the info page is the MVM's to receive */
		uint64_t off = x2 - MVM_IPA;
		FUZZ_ASSERT(x2 >= MVM_IPA && off + sizeof(struct hc_vm_info) <= RAM,
			    "info written at 0x%lx", (unsigned long)x2);
		memcpy(shadow[0] + off, ram[0] + off, sizeof(struct hc_vm_info));
		FUZZ_ASSERT(!memcmp(ram[0], shadow[0], RAM), "HC_VM_INFO wrote beyond its page");
	}
	if (fid == HC_VM_LOAD) {
		if (r == HC_OK) {
			FUZZ_ASSERT(target >= 1 && target < NVM && down(before),
				    "LOAD into vm %lu in state %d", (unsigned long)target, before);
			FUZZ_ASSERT(x4 >= 1 && x4 <= HC_LOAD_CHUNK && x2 % 8 == 0 && x3 % 8 == 0 &&
					    x2 >= GVM_IPA && x2 - GVM_IPA + x4 <= RAM &&
					    x3 >= MVM_IPA && x3 - MVM_IPA + x4 <= RAM,
				    "LOAD 0x%lx <- 0x%lx (%lu) accepted", (unsigned long)x2,
				    (unsigned long)x3, (unsigned long)x4);
			memcpy(shadow[target] + (x2 - GVM_IPA), mvm_before + (x3 - MVM_IPA), x4);
		} else {
			FUZZ_ASSERT(r == HC_ERR_RANGE || r == HC_ERR_STATE || r == HC_ERR_DENIED ||
					    r == HC_ERR_INVALID,
				    "LOAD returned %ld", (long)r);
		}
	}
	if (fid == HC_VM_START && r == HC_OK && !raced)
		FUZZ_ASSERT(down(before) && life_state(target) == LIFE_STARTING && io == 0,
			    "START from %d to %d with %u block requests out", before,
			    life_state(target), io);
	if (fid == HC_VM_START && r == HC_ERR_BUSY)
		FUZZ_ASSERT(down(before) && io > 0 && life_state(target) == before,
			    "START busy in state %d with %u block requests out", before, io);
	if (fid == HC_VM_STOP && r == HC_OK)
		FUZZ_ASSERT(before == LIFE_RUNNING || before == LIFE_STARTING ||
				    before == LIFE_STOPPING,
			    "STOP accepted in state %d", before);
}

/* A vCPU of GVM `id` does something on its own CPU. */
static void vcpu_step(struct fuzz_in *in)
{
	unsigned id = 1 + fin_u8(in) % 2;
	struct vm *vm = &vms[id];
	struct vcpu *v = &vm->vcpus[fin_u8(in) % vm->ncpus];
	uint8_t what = fin_u8(in) % 6;

	lm.cur_cpu = v->pcpu;
	switch (what) {
	case 0: /* takes a pending start (vcpu_claim_start, vcpu_start) */
		if (v->state == VCPU_PENDING_ON && vm->state == VM_RUNNING) {
			v->state = VCPU_RUNNING;
			vm_life_entered(v);
		}
		break;
	case 1: /* PSCI SYSTEM_OFF / SYSTEM_RESET, then parks */
	case 2:
		if (v->state == VCPU_RUNNING) {
			vm_life_guest_off(vm, what == 2);
			vm_power_off(vm);
			v->state = VCPU_OFF;
			vm_life_parked(v);
		}
		break;
	case 3: /* a fatal condition */
		if (v->state == VCPU_RUNNING) {
			vm_life_crash(vm, "fuzzed SError");
			v->state = VCPU_OFF;
			vm_life_parked(v);
		}
		break;
	case 4: /* kicked by IPI_STOP: parks if its VM stopped */
		if (v->state == VCPU_RUNNING && vm->state == VM_STOPPED) {
			v->state = VCPU_OFF;
			vm_life_parked(v);
		}
		break;
	default: /* writes its own memory */
		if (v->state == VCPU_RUNNING) {
			uint16_t off = fin_u16(in) % RAM;
			uint8_t b = fin_u8(in) | 1;
			ram[id][off] = b;
			shadow[id][off] = b;
		}
		break;
	}
	lm.cur_cpu = 0;
}

/* A block request of a GVM goes to the MVM or the disk (only while its
 * queue can be live: RUNNING, or STOPPING before the clean-up), or one
 * comes back (in any state: the MVM answers whenever it likes). */
static void io_step(struct fuzz_in *in)
{
	struct life *l = &vms[1 + fin_u8(in) % 2].life.l;
	int s = l->state;

	if (fin_u8(in) & 1) {
		if ((s == LIFE_RUNNING || s == LIFE_STOPPING) && l->io < 64)
			life_io_begin(l);
	} else if (l->io) {
		life_io_end(l);
	}
}

static void cpu_step(struct fuzz_in *in)
{
	unsigned c = fin_u8(in) % LM_NCPU;
	int before[NVM];

	for (unsigned i = 0; i < NVM; i++)
		before[i] = life_state(i);
	lm.cur_cpu = c;
	lm.now += fin_u8(in) * 1000UL;
	if (fin_u8(in) & 1)
		vm_life_tick();
	local_irq_disable();
	vm_life_idle(lm.cpus[c].vcpu);
	lm.cur_cpu = 0;
	for (unsigned i = 1; i < NVM; i++)
		if (before[i] == LIFE_STOPPING && down(life_state(i)))
			memset(shadow[i], 0, RAM); /* cleaned up: all zero */
}

/* Down or going down: the run flag is down and no vCPU is about to start
 * (a START's release came after a kill); down: none runs either. */
static void check_stopped(const struct vm *vm, bool is_down)
{
	FUZZ_ASSERT(vm->state == VM_STOPPED, "%s in state %d with its run flag up", vm->name,
		    life_state(vm->id));
	for (unsigned i = 0; i < vm->ncpus; i++) {
		int vs = vm->vcpus[i].state;
		FUZZ_ASSERT(vs != VCPU_PENDING_ON && (!is_down || vs == VCPU_OFF),
			    "%s in state %d with vCPU %u in state %d", vm->name, life_state(vm->id),
			    i, vs);
	}
}

static void check(unsigned events_before, const int *before, const uint32_t *want_before)
{
	unsigned changes = 0;

	for (unsigned i = 0; i < NVM; i++) {
		int s = life_state(i);
		FUZZ_ASSERT(s >= LIFE_STOPPED && s <= LIFE_CRASHED, "vm %u state %d", i, s);
		FUZZ_ASSERT(vms[i].life.l.loads == 0, "vm %u: %u loads left", i,
			    vms[i].life.l.loads);
		FUZZ_ASSERT(!memcmp(ram[i], shadow[i], RAM), "vm %u's memory changed unexpectedly",
			    i);
		if (s == LIFE_RUNNING && before[i] != LIFE_RUNNING)
			FUZZ_ASSERT(vms[i].vcpus[0].state == VCPU_RUNNING,
				    "vm %u RUNNING without its vCPU 0", i);
		if (i > 0 && s != LIFE_RUNNING && s != LIFE_STARTING)
			check_stopped(&vms[i], down(s));
		changes += (s != before[i]) + (vms[i].life.l.want != want_before[i]);
	}
	/* a race makes several changes in one step (STOPPED -> STARTING ->
	 * STOPPING), each with its event */
	FUZZ_ASSERT(raced || (lm.events - events_before <= changes &&
			      (changes == 0) == (lm.events == events_before)),
		    "%u events for %u changes", lm.events - events_before, changes);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_add_corpus(argc, argv, "fuzz_vm_lifecycle", NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};

	nvms = NVM;
	lm_reset();
	lm.now = 1;
	setup_vm(0, VM_ROLE_MVM, MVM_IPA, 2, 0);
	setup_vm(1, VM_ROLE_GVM, GVM_IPA, 1, 2);
	setup_vm(2, VM_ROLE_GVM, GVM_IPA, 2, 3);
	uint8_t boot = fin_u8(&in);
	if (boot & 1) { /* preplaced and started at boot, or zeroed at boot */
		lm.cfgs[1].stopped_at_boot = (boot >> 1) & 1;
		vm_life_boot(&vms[1]);
	}
	for (unsigned step = 0; step < 64 && in.n; step++) {
		int before[NVM];
		uint32_t want_before[NVM];
		unsigned ev = lm.events;
		raced = false;
		for (unsigned i = 0; i < NVM; i++) {
			before[i] = life_state(i);
			want_before[i] = vms[i].life.l.want;
		}
		uint8_t op = fin_u8(&in) % 9;
		if (op < 3) {
			hypercall(&in);
		} else if (op < 6) {
			vcpu_step(&in);
		} else if (op < 7) {
			cpu_step(&in);
		} else if (op < 8) {
			io_step(&in);
		} else { /* MVM user space fills its buffer */
			uint16_t off = fin_u16(&in) % RAM;
			size_t n = fin_bytes(&in, ram[0] + off, MIN((size_t)16, RAM - off));
			memcpy(shadow[0] + off, ram[0] + off, n);
		}
		check(ev, before, want_before);
	}
	return 0;
}
