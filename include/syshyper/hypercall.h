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

#define HC_ABI_VERSION 0x00010000UL

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
 * mediated calls have their own ioctls; HC_MED_REGISTER is the module's. */
static inline int hc_user_allowed(unsigned long long x0)
{
	if (x0 >> 32)
		return 0;
	switch (hc_function_id(x0)) {
	case HC_VERSION:
	case HC_VM_COUNT:
	case HC_VM_INFO:
		return 1;
	default:
		return 0;
	}
}

/* The interrupt (GIC INTID, an SPI no board device uses) the hypervisor
 * injects into the MVM when mediated requests wait; the MVM's device tree
 * names it in its "syshyper,hypervisor" node. */
#define HC_MVM_IRQ_INTID 140

#define HC_OK 0
#define HC_ERR_INVALID (-2L)
#define HC_ERR_DENIED (-3L) /* only the MVM may call it */

#define HC_NAME_LEN 16
#define HC_TRAP_CAUSES 7

/* Filled by HC_VM_INFO; fixed layout, little-endian, no pointers. */
struct hc_vm_info {
	char name[HC_NAME_LEN];
	unsigned long long ncpus;
	unsigned long long state; /* 0 stopped, 1 running */
	unsigned long long mem_bytes;
	unsigned long long traps[HC_TRAP_CAUSES]; /* summed over vCPUs, by cause */
	unsigned long long mmio_reads, mmio_writes, hypercalls, irqs_injected;
	unsigned long long guest_us;
};

#endif
