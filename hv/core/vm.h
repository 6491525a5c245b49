/* A virtual machine: its configuration, stage-2 tables, emulated devices,
 * vCPUs and counters. */
#ifndef VM_H
#define VM_H
#include "core/mmio.h"
#include "lib/ratelimit.h"
#include "lib/types.h"
#include "core/vcpu.h"
#include "core/vgic.h"
#include "virtio/virtq.h"
#include "core/vm_config.h"
#include "core/vm_lifecycle.h"

#define VM_MAX_MMIO 16
/* 4 KiB pages of virtio-mmio windows a VM reads without trapping: QEMU
 * virt's 32 slots of 0x200 bytes fill 4 pages. */
#define VM_MAX_READ_PAGES 4

/* Whether the VM's vCPUs may run (PSCI's view); the lifecycle state the MVM
 * sees (stopped, starting, running, stopping, crashed) is life.l.state. */
enum vm_state { VM_STOPPED, VM_RUNNING };

struct vuart;

struct vm {
	const struct cfg_vm *cfg;
	unsigned id;
	const char *name;
	volatile int state;
	unsigned ncpus;
	struct vcpu vcpus[CFG_MAX_CPUS];
	/* its RAM as the hypervisor reaches it (IPA ranges -> pointers) */
	struct guest_region regions[CFG_MAX_MEM];
	struct guest_mem mem;
	paddr_t s2_root;
	uint64_t vttbr;
	unsigned nmmio;
	struct mmio_region mmio[VM_MAX_MMIO];
	/* IPAs of the pages mapped read-only over virtio-mmio windows (their
	 * reads hit memory, their writes take permission faults) */
	unsigned nread_pages;
	ipa_t read_pages[VM_MAX_READ_PAGES];
	struct vgic_dist vgic;
	struct vuart *vuart;
	struct log_limit log_limits[LOG_CAUSES]; /* see vm_log() */
	struct vm_life life;
};

extern struct vm vms[CFG_MAX_VMS];
extern unsigned nvms;

int vm_register_mmio(struct vm *vm, ipa_t base, uint64_t size, mmio_handler_fn fn, void *dev);
/* Maps guest [ipa, ipa+size) to [pa, pa+size): normal memory or device. */
int vm_map(struct vm *vm, ipa_t ipa, paddr_t pa, uint64_t size, bool device);
/* Whether `ipa` lies in one of the VM's read pages. */
bool vm_in_read_page(const struct vm *vm, ipa_t ipa);
struct vcpu *vm_find_vcpu_by_mpidr(struct vm *vm, uint64_t mpidr);
/* The VM's memory: translates [ipa, ipa+len) to a hypervisor pointer if the
 * whole range is inside one of its RAM regions; NULL otherwise. */
void *vm_ipa_to_hva(const struct vm *vm, ipa_t ipa, uint64_t len);
void vm_power_off(struct vm *vm);
int vms_create_all(void);
void vms_start_all(void);
/* The stage-2 translation control every VM runs with (VTCR_EL2). */
uint64_t vm_vtcr(void);
#endif
