/* The sysHyper hypercall ABI: the single source of truth shared by the
 * hypervisor (EL2) and the MVM's kernel module and tools.
 *
 * Calls are SMCCC-style fast calls by HVC #0: x0 = function id, x1..x5 =
 * arguments; x0 returns a status (0 or a negative HC_ERR_*), x1..x3 values.
 * Function ids live in the SMCCC "vendor specific hypervisor service"
 * range (owner 6), 64-bit convention. */
#ifndef SYSHYPER_HYPERCALL_H
#define SYSHYPER_HYPERCALL_H

#define HC_FID(n) (0xc6000000UL | (n))

#define HC_VERSION HC_FID(0)  /* -> x1 = ABI version (major << 16 | minor) */
#define HC_VM_COUNT HC_FID(1) /* -> x1 = number of VMs */
/* x1 = vm index, x2 = IPA of a page of the caller's memory -> a struct
 * hc_vm_info written there */
#define HC_VM_INFO HC_FID(2)

/* VM lifecycle (MVM only; a GVM gets HC_ERR_DENIED). A VM is one of the
 * HC_VM_STOPPED..HC_VM_CRASHED states below; every state change (and every
 * change of `want`) raises HC_VM_EVENT_INTID in the MVM.
 *
 * HC_VM_LOAD: x1 = vm index, x2 = destination IPA in that VM, x3 = source
 * IPA in the MVM (a buffer the MVM *module* allocated, never an address
 * user space chose), x4 = length in bytes (1..HC_LOAD_CHUNK). The
 * hypervisor copies through its own mappings. HC_ERR_DENIED: caller not the
 * MVM or target not a GVM; HC_ERR_STATE: target not STOPPED or CRASHED;
 * HC_ERR_RANGE: length 0 or above HC_LOAD_CHUNK, either address not a
 * multiple of HC_LOAD_ALIGN, either range not wholly inside one RAM region
 * of its VM, or wrapping around; HC_ERR_INVALID: no such VM. The length
 * needs no alignment (an image's last chunk is what is left of it).
 *
 * HC_VM_START: x1 = vm index. From STOPPED or CRASHED: the state becomes
 * STARTING, then RUNNING once vCPU 0 enters the guest at the configured
 * kernel IPA with x0 = the dtb IPA (as at boot); clears `want`.
 * HC_ERR_STATE in any other state (or while an HC_VM_LOAD copies).
 * HC_ERR_BUSY (nothing changes): block requests of the VM's previous
 * instance are still at the MVM or at the hypervisor's disk driver; a new
 * instance starts only once all have left the disks (so an old write never
 * lands over a new one). Retry; while the MVM's daemon holds them, it is
 * the daemon that keeps the VM from starting.
 *
 * HC_VM_STOP: x1 = vm index, x2 = HC_STOP_REQUEST or HC_STOP_FORCE.
 *   REQUEST, RUNNING: presses the VM's virtual power button (a gpio-keys
 *     KEY_POWER line on an emulated PL061) and returns at once; the guest
 *     powers off by PSCI SYSTEM_OFF (-> STOPPED) when it chooses to.
 *   FORCE, RUNNING or STARTING: the state becomes STOPPING at once and
 *     STOPPED once the vCPUs are parked, the VM's devices reset, its
 *     in-flight mediated requests retired (never writing its memory), its
 *     switch port dropping frames, its vGIC/timer/console state clean and
 *     its RAM zeroed (done on the VM's own CPU). FORCE while STOPPING: HC_OK
 *     (already on its way).
 *   Any other state: HC_ERR_STATE. A STOP of a STOPPED or CRASHED VM also
 *     clears `want` (withdraws a pending restart) before failing.
 *
 * Guest-initiated: PSCI SYSTEM_OFF = a forced stop (-> STOPPED); PSCI
 * SYSTEM_RESET = a forced stop with want = HC_WANT_RESTART (the MVM side
 * reloads the images and starts it); a fatal vCPU condition = a forced
 * stop ending in CRASHED with `reason` set. */
#define HC_VM_LOAD HC_FID(3)
#define HC_VM_START HC_FID(4)
#define HC_VM_STOP HC_FID(5)

#define HC_STOP_REQUEST 0
#define HC_STOP_FORCE 1
#define HC_LOAD_CHUNK (1UL << 20) /* most bytes one HC_VM_LOAD copies */
#define HC_LOAD_ALIGN 8UL         /* both addresses of HC_VM_LOAD */

/* hc_vm_info.state */
#define HC_VM_STOPPED 0
#define HC_VM_RUNNING 1
#define HC_VM_STARTING 2
#define HC_VM_STOPPING 3
#define HC_VM_CRASHED 4

/* hc_vm_info.want */
#define HC_WANT_NONE 0
#define HC_WANT_RESTART 1 /* the guest asked for a reset: reload and start it */

#define HC_ABI_VERSION 0x00020001UL /* 2.1: HC_ERR_BUSY */

/* SMCCC function ids are 32 bits: w0. Bits 63:32 of x0 are not part of the
 * id (arm_smccc_1_1_hvc passes only the low 32 bits), so every decision is
 * taken on this value and nothing else. */
static inline unsigned int hc_function_id(unsigned long long x0)
{
	return (unsigned int)x0;
}

/* A sysHyper call: fast call, SMC64, owner 6, bits 23:16 zero. */
static inline int hc_is_syshyper(unsigned int fid)
{
	return (fid & 0xffff0000u) == HC_FID(0);
}

/* Whether MVM user space may make the call `x0` through /dev/syshyper:
 * an explicit allow-list, on the exact 32-bit id the module passes on (an
 * x0 with any of bits 63:32 set is refused rather than truncated). The
 * mediated calls have their own ioctls; HC_MED_REGISTER is the module's;
 * HC_VM_LOAD is the module's too (its source must be a module buffer). */
static inline int hc_user_allowed(unsigned long long x0)
{
	if (x0 >> 32)
		return 0;
	switch (hc_function_id(x0)) {
	case HC_VERSION:
	case HC_VM_COUNT:
	case HC_VM_INFO:
	case HC_VM_START:
	case HC_VM_STOP:
		return 1;
	default:
		return 0;
	}
}

/* The interrupt (GIC INTID, an SPI no board device uses) the hypervisor
 * injects into the MVM when mediated requests wait; the MVM's device tree
 * names it in its "syshyper,hypervisor" node. */
#define HC_MVM_IRQ_INTID 140
/* Raised in the MVM (an SPI, edge: once per change) whenever a VM's state
 * or `want` changes; the MVM's device tree names it as the second interrupt
 * of the "syshyper,hypervisor" node. */
#define HC_VM_EVENT_INTID 141

#define HC_OK 0
#define HC_ERR_INVALID (-2L)
#define HC_ERR_DENIED (-3L) /* only the MVM may call it / target not a GVM */
#define HC_ERR_STATE (-4L)  /* the VM is in the wrong state for it */
#define HC_ERR_RANGE (-5L)  /* bad address or length */
#define HC_ERR_BUSY (-6L)   /* HC_VM_START: the previous instance's I/O is not done: retry */

#define HC_NAME_LEN 16
#define HC_TRAP_CAUSES 7

/* Filled by HC_VM_INFO; fixed layout, little-endian, no pointers. */
#define HC_REASON_LEN 48

struct hc_vm_info {
	char name[HC_NAME_LEN];
	unsigned long long ncpus;
	unsigned long long state; /* HC_VM_STOPPED .. HC_VM_CRASHED */
	unsigned long long mem_bytes;
	unsigned long long traps[HC_TRAP_CAUSES]; /* summed over vCPUs, by cause */
	unsigned long long mmio_reads, mmio_writes, hypercalls, irqs_injected;
	unsigned long long guest_us;
	/* lifecycle (ABI 2) */
	unsigned long long is_mvm;    /* 1 for the MVM (never loaded, started or stopped) */
	unsigned long long uptime_ms; /* since the last start; 0 unless RUNNING */
	unsigned long long restarts;  /* starts after the first */
	unsigned long long want;      /* HC_WANT_* */
	unsigned long long events;    /* state/want changes so far (to spot missed ones) */
	/* where the configuration places the images (IPAs in this VM); the
	 * MVM side loads the files there. initrd_ipa 0: no initrd. */
	unsigned long long kernel_ipa, initrd_ipa, dtb_ipa;
	unsigned long long ram_ipa, ram_bytes; /* the RAM region holding the kernel */
	char reason[HC_REASON_LEN];            /* why it last stopped or crashed, NUL-terminated */
};

#endif
