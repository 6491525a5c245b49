/* The VM lifecycle on the hypervisor's CPUs: the MVM's HC_VM_LOAD, START
 * and STOP, the guest's power-off, reset and crash, and the clean-up of a
 * stopped VM on its own CPU. The decisions are life_apply()'s
 * (vm_life_rules.c); this file does what they ask.
 *
 * Stopping: the VM's run flag drops and its vCPUs are kicked to park
 * (vm_power_off); the CPU of vCPU 0, once every vCPU is parked, resets the
 * VM's devices (so no backend, switch port or console writes into its
 * memory any more: every such write happens under the device's lock and
 * only into a queue that is ready), cleans its vGIC and console state and
 * zeroes its RAM, without any global lock and on no other VM's CPU. Only
 * then is the VM STOPPED (or CRASHED) and may be loaded, and started once
 * its block requests still at the MVM or the disk driver have left the
 * disks (life.l.io): the device never DMAs into a VM's RAM (the mediated
 * path copies through slots, the hypervisor's driver through its own
 * bounce buffer), so the zeroing does not wait for them. */
#include "core/vm_lifecycle.h"

#include "arch/arm64/arch.h"
#include "arch/arm64/cache.h"
#include "arch/arm64/sysreg.h"
#include "blk/blk_hv_backend.h"
#include "console/console.h"
#include "core/vcpu.h"
#include "core/vdevs.h"
#include "core/percpu.h"
#include "core/print.h"
#include "core/vm.h"
#include "core/vpwrbtn.h"
#include "drivers/gic.h"
#include "lib/lib.h"
#include "lib/ratelimit.h"

#define BUTTON_HOLD_MS 200     /* longer than gpio-keys' debounce */
#define ZERO_CHUNK (2UL << 20) /* RAM zeroed between two windows for interrupts */

static struct vm *mvm(void)
{
	for (unsigned i = 0; i < nvms; i++)
		if (vms[i].cfg->role == VM_ROLE_MVM)
			return &vms[i];
	return NULL;
}

/* HC_VM_EVENT_INTID into the MVM: a state or `want` changed. */
static void tell_mvm(void)
{
	struct vm *m = mvm();

	if (m)
		vgic_inject(m, NULL, HC_VM_EVENT_INTID);
}

static void set_reason(struct vm *vm, const char *why)
{
	size_t n = MIN(strlen(why), (size_t)HC_REASON_LEN - 1);

	memcpy(vm->life.reason, why, n);
	vm->life.reason[n] = 0;
}

/* One command under the VM's lifecycle lock; the actions it asks for are
 * returned in *actions and done by the caller after the lock
 * (do_actions). */
static int64_t apply(struct vm *vm, enum life_cmd cmd, const char *why, uint32_t *actions)
{
	struct vm_life *lf = &vm->life;
	int64_t r;

	spin_lock(&lf->lock);
	int was = lf->l.state;
	r = life_apply(&lf->l, cmd);
	uint32_t act = lf->l.actions;
	if (act & LIFE_ACT_EVENT)
		lf->events++;
	if (act & LIFE_ACT_PARK) {
		/* the run flag drops with the decision: a BOOT decided earlier
		 * and acted on later finds the VM no longer STARTING */
		__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_SEQ_CST);
		if (was != LIFE_STOPPING) /* the first reason stays */
			set_reason(vm, why ? why : "stopped");
	}
	if (act & LIFE_ACT_BOOT) {
		lf->starts++;
		lf->reason[0] = 0;
	}
	if (r == HC_OK && cmd == LIFE_ENTERED)
		lf->started_at = timer_now();
	spin_unlock(&lf->lock);
	*actions = act;
	return r;
}

/* ---------------------------------------------------------------- start */

/* The IPA at which the VM sees physical address `pa` of its memory. */
static ipa_t pa_to_ipa(const struct cfg_vm *cfg, paddr_t pa)
{
	for (unsigned i = 0; i < cfg->nmem; i++)
		if (pa >= cfg->mem[i].pa && pa - cfg->mem[i].pa < cfg->mem[i].size)
			return cfg->mem[i].ipa + (pa - cfg->mem[i].pa);
	return 0;
}

/* vCPU 0 at the kernel's entry with x0 = its DTB, as at boot. Done under
 * the lifecycle lock and only while the VM is still STARTING: a STOP FORCE
 * from another CPU may have come between the START and this (lock order
 * life.lock -> power_lock; nothing takes them the other way round). */
static void boot_vcpu0(struct vm *vm)
{
	struct vcpu *v0 = &vm->vcpus[0];
	bool release = false;

	icache_inval_all(); /* images loaded since the last start */
	spin_lock(&vm->life.lock);
	if (vm->life.l.state == LIFE_STARTING) {
		v0->on_entry = pa_to_ipa(vm->cfg, vm->cfg->kernel.pa);
		v0->on_ctx = pa_to_ipa(vm->cfg, vm->cfg->dtb.pa);
		__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_SEQ_CST);
		spin_lock(&v0->power_lock);
		__atomic_store_n(&v0->state, VCPU_PENDING_ON, __ATOMIC_SEQ_CST);
		spin_unlock(&v0->power_lock);
		release = true;
	}
	spin_unlock(&vm->life.lock);
	if (release && v0->pcpu != this_cpu()->id)
		gic_send_sgi(v0->pcpu, IPI_VCPU_ON);
}

/* A GVM whose images the MVM loads starts down, but its RAM holds whatever
 * was there at boot (a warm reset keeps DRAM: an earlier boot's VMs): it
 * goes through the clean-up on its own CPU (STOPPING, so no LOAD or START
 * meanwhile) before the MVM can load and start it. */
static void boot_stopping(struct vm *vm)
{
	unsigned cpu0 = vm->vcpus[0].pcpu;

	spin_lock(&vm->life.lock);
	vm->life.l.state = LIFE_STOPPING;
	vm->life.l.outcome = LIFE_STOPPED;
	__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_SEQ_CST);
	set_reason(vm, "not started yet");
	spin_unlock(&vm->life.lock);
	if (cpu0 != this_cpu()->id)
		gic_send_sgi(cpu0, IPI_KICK);
}

/* At boot the MVM is not up yet: no event for it. */
void vm_life_boot(struct vm *vm)
{
	uint32_t act;

	if (vm->cfg->role == VM_ROLE_GVM && vm->cfg->stopped_at_boot)
		boot_stopping(vm);
	else if (apply(vm, LIFE_START, NULL, &act) == HC_OK && (act & LIFE_ACT_BOOT))
		boot_vcpu0(vm);
}

static void do_actions(struct vm *vm, uint32_t act);

void vm_life_entered(struct vcpu *vcpu)
{
	uint32_t act;

	if (vcpu->id == 0 && READ_ONCE(vcpu->vm->life.l.state) == LIFE_STARTING &&
	    apply(vcpu->vm, LIFE_ENTERED, NULL, &act) == HC_OK)
		do_actions(vcpu->vm, act);
}

/* ---------------------------------------------------------------- stop */

/* The run flag drops, pending CPU_ONs are withdrawn, running vCPUs are
 * kicked; vCPU 0's CPU is woken to clean up once they have parked. */
static void park(struct vm *vm)
{
	unsigned cpu0 = vm->vcpus[0].pcpu;

	vm_power_off(vm);
	if (cpu0 != this_cpu()->id)
		gic_send_sgi(cpu0, IPI_KICK);
}

/* The power button, pressed only while the VM still runs: a stop and
 * clean-up on another CPU may have come after the STOP REQUEST's decision,
 * and a press then would be held into the next instance. clean_up() runs
 * in STOPPING only, so after a press made here (lock order life.lock ->
 * the PL061's lock; clean_up takes that one alone). */
static void press_button(struct vm *vm)
{
	uint64_t t = timer_now();

	spin_lock(&vm->life.lock);
	if (vm->life.l.state == LIFE_RUNNING) {
		vm->life.button_at = t;
		__atomic_store_n(&vm->life.button_held, true, __ATOMIC_RELEASE);
		vpwrbtn_set(vm, true);
	}
	spin_unlock(&vm->life.lock);
}

static void do_actions(struct vm *vm, uint32_t act)
{
	if (act & LIFE_ACT_PARK)
		park(vm);
	if (act & LIFE_ACT_BOOT)
		boot_vcpu0(vm);
	if (act & LIFE_ACT_BUTTON)
		press_button(vm);
	if (act & LIFE_ACT_EVENT)
		tell_mvm();
}

void vm_life_guest_off(struct vm *vm, bool reset)
{
	uint32_t act;

	apply(vm, reset ? LIFE_GUEST_RESET : LIFE_GUEST_OFF,
	      reset ? "the guest reset itself (PSCI SYSTEM_RESET)"
		    : "the guest powered off (PSCI SYSTEM_OFF)",
	      &act);
	do_actions(vm, act);
}

void vm_life_crash(struct vm *vm, const char *why)
{
	uint32_t act;

	if (vm->cfg->role != VM_ROLE_GVM)
		return; /* the MVM's vCPU only halts, as before */
	apply(vm, LIFE_GUEST_CRASH, why, &act);
	do_actions(vm, act);
}

void vm_life_parked(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	unsigned cpu0 = vm->vcpus[0].pcpu;

	if (READ_ONCE(vm->life.l.state) == LIFE_STOPPING && cpu0 != this_cpu()->id)
		gic_send_sgi(cpu0, IPI_KICK);
}

static bool all_parked(const struct vm *vm)
{
	if (__atomic_load_n(&vm->state, __ATOMIC_SEQ_CST) != VM_STOPPED)
		return false;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (__atomic_load_n(&vm->vcpus[i].state, __ATOMIC_SEQ_CST) != VCPU_OFF)
			return false;
	return true;
}

/* Lets this CPU take a pending interrupt: without a context
 * synchronisation between the unmask and the mask again, real hardware
 * need not take it. */
static void irq_window(void)
{
	local_irq_enable();
#ifndef HOST_UNIT_TEST
	isb();
#endif
	local_irq_disable();
}

/* Zeroes the VM's RAM in chunks, letting this CPU's interrupts (its tick)
 * in between; cleaned to the point of coherency, since the next instance
 * starts with its MMU (and so its caches) off. */
static uint64_t zero_ram(struct vm *vm)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < vm->mem.n; i++) {
		const struct guest_region *r = &vm->mem.regions[i];
		for (uint64_t off = 0; off < r->size; off += ZERO_CHUNK) {
			uint64_t n = MIN(ZERO_CHUNK, r->size - off);
			mem_zero_poc(r->hva + off, n);
			total += n;
			irq_window();
		}
	}
	return total;
}

static void clean_up(struct vm *vm)
{
	uint64_t t0 = timer_now(), zeroed;
	uint32_t act;

	vm_reset_devices(vm);
	vpwrbtn_reset(vm);
	WRITE_ONCE(vm->life.button_held, false);
	vgic_reset_vm(vm);
	console_end_lines(vm->id);
	zeroed = zero_ram(vm);
	apply(vm, LIFE_CLEANED, NULL, &act);
	do_actions(vm, act);
	printk("vm %s: %s (%s); devices reset, %lu MiB zeroed in %lu ms\n", vm->name,
	       vm->life.l.state == LIFE_CRASHED ? "crashed" : "stopped", vm->life.reason,
	       (unsigned long)(zeroed >> 20),
	       (unsigned long)(timer_ticks_to_us(timer_now() - t0) / 1000));
}

void vm_life_idle(struct vcpu *pinned)
{
	struct vm *vm = pinned ? pinned->vm : NULL;

	if (!vm || pinned->id != 0 || READ_ONCE(vm->life.l.state) != LIFE_STOPPING)
		return;
	if (all_parked(vm))
		clean_up(vm);
}

void vm_life_tick(void)
{
	struct vcpu *pinned = this_cpu()->vcpu;
	struct vm *vm = pinned ? pinned->vm : NULL;

	if (!vm || pinned->id != 0 || !__atomic_load_n(&vm->life.button_held, __ATOMIC_ACQUIRE))
		return;
	if (timer_ticks_to_us(timer_now() - READ_ONCE(vm->life.button_at)) >=
	    BUTTON_HOLD_MS * 1000) {
		WRITE_ONCE(vm->life.button_held, false);
		vpwrbtn_set(vm, false);
	}
}

/* ---------------------------------------------------------------- hypercalls */

/* The GVM a lifecycle call names: HC_ERR_INVALID (no such VM) or
 * HC_ERR_DENIED (the MVM: never loaded, started or stopped this way). */
static int64_t target(uint64_t id, struct vm **vm)
{
	if (id >= nvms)
		return HC_ERR_INVALID;
	if (vms[id].cfg->role != VM_ROLE_GVM)
		return HC_ERR_DENIED;
	*vm = &vms[id];
	return HC_OK;
}

/* Up to HC_LOAD_CHUNK bytes, 8-byte aligned: words, with a barrier so the
 * compiler does not turn the loop back into a (byte-wise) memcpy call. */
static void copy_words(uint8_t *d, const uint8_t *s, uint64_t len)
{
	uint64_t i = 0;

	for (; i + 8 <= len; i += 8) {
		*(uint64_t *)(d + i) = READ_ONCE(*(const uint64_t *)(s + i));
		__asm__ volatile("" ::: "memory");
	}
	for (; i < len; i++)
		d[i] = s[i];
}

static int64_t load(struct vcpu *caller, uint64_t id, ipa_t dst, ipa_t src, uint64_t len)
{
	struct vm *vm;
	void *d, *s;
	int64_t r = target(id, &vm);

	if (r != HC_OK)
		return r;
	spin_lock(&vm->life.lock);
	r = life_apply(&vm->life.l, LIFE_LOAD);
	if (r == HC_OK)
		vm->life.l.loads++;
	spin_unlock(&vm->life.lock);
	if (r != HC_OK)
		return r;
	r = life_load_check(&vm->mem, dst, &caller->vm->mem, src, len, sys_config.hv_base,
			    sys_config.hv_base + sys_config.hv_size, &d, &s);
	if (r == HC_OK) {
		copy_words(d, s, len);
		dcache_clean_poc(d, len);
	} else {
		vm_log(caller->vm, LOG_HYPERCALL,
		       "HC_VM_LOAD into %s: 0x%lx <- 0x%lx (%lu bytes) refused\n", vm->name,
		       (unsigned long)dst, (unsigned long)src, (unsigned long)len);
	}
	spin_lock(&vm->life.lock);
	vm->life.l.loads--;
	spin_unlock(&vm->life.lock);
	return r;
}

/* START while the previous instance's block requests are out: a line
 * (rate-limited: the MVM retries) naming who holds them. */
static void log_busy(struct vm *vm)
{
	vm_log(vm, LOG_HYPERCALL,
	       "not started: %u block request(s) of its previous instance still at the MVM's "
	       "daemon or the disk driver\n",
	       (unsigned)__atomic_load_n(&vm->life.l.io, __ATOMIC_SEQ_CST));
}

static int64_t start(uint64_t id)
{
	struct vm *vm;
	uint32_t act;
	int64_t r = target(id, &vm);

	if (r != HC_OK)
		return r;
	blk_hv_backend_reap(); /* a request the disk finished after its timeout */
	r = apply(vm, LIFE_START, NULL, &act);
	if (r == HC_ERR_BUSY)
		log_busy(vm);
	do_actions(vm, act);
	return r;
}

static int64_t stop(uint64_t id, uint64_t how)
{
	struct vm *vm;
	uint32_t act;
	int64_t r = target(id, &vm);

	if (r != HC_OK)
		return r;
	if (how != HC_STOP_REQUEST && how != HC_STOP_FORCE)
		return HC_ERR_INVALID;
	r = apply(vm, how == HC_STOP_FORCE ? LIFE_STOP_FORCE : LIFE_STOP_REQUEST,
		  "stopped by the MVM", &act);
	do_actions(vm, act);
	return r;
}

int64_t vm_life_hypercall(struct vcpu *caller, uint32_t fid, const uint64_t *x)
{
	switch (fid) {
	case HC_VM_LOAD:
		return load(caller, x[1], x[2], x[3], x[4]);
	case HC_VM_START:
		return start(x[1]);
	case HC_VM_STOP:
		return stop(x[1], x[2]);
	default:
		return HC_ERR_INVALID;
	}
}

/* ---------------------------------------------------------------- information */

static const struct cfg_mem *region_of(const struct cfg_vm *cfg, paddr_t pa)
{
	for (unsigned i = 0; i < cfg->nmem; i++)
		if (pa >= cfg->mem[i].pa && pa - cfg->mem[i].pa < cfg->mem[i].size)
			return &cfg->mem[i];
	return cfg->nmem ? &cfg->mem[0] : NULL;
}

void vm_life_fill_info(const struct vm *vm, struct hc_vm_info *info)
{
	const struct cfg_vm *cfg = vm->cfg;
	const struct vm_life *lf = &vm->life;
	const struct cfg_mem *ram = region_of(cfg, cfg->kernel.pa);
	int state = READ_ONCE(lf->l.state);

	info->state = (unsigned)state;
	info->is_mvm = cfg->role == VM_ROLE_MVM;
	info->uptime_ms =
		state == LIFE_RUNNING
			? timer_ticks_to_us(timer_now() - READ_ONCE(lf->started_at)) / 1000
			: 0;
	info->restarts = lf->starts ? lf->starts - 1 : 0;
	info->want = READ_ONCE(lf->l.want);
	info->events = READ_ONCE(lf->events);
	info->kernel_ipa = pa_to_ipa(cfg, cfg->kernel.pa);
	info->initrd_ipa = cfg->initrd.pa ? pa_to_ipa(cfg, cfg->initrd.pa) : 0;
	info->dtb_ipa = pa_to_ipa(cfg, cfg->dtb.pa);
	info->ram_ipa = ram ? ram->ipa : 0;
	info->ram_bytes = ram ? ram->size : 0;
	for (unsigned i = 0; i < HC_REASON_LEN - 1 && lf->reason[i]; i++)
		info->reason[i] = lf->reason[i];
}

const char *vm_life_state_name(const struct vm *vm)
{
	static const char *const names[] = {"stopped", "running", "starting", "stopping",
					    "crashed"};
	unsigned s = (unsigned)READ_ONCE(vm->life.l.state);

	return s < ARRAY_SIZE(names) ? names[s] : "?";
}
