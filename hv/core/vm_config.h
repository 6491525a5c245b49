/* The system configuration as the hypervisor consumes it.
 *
 * configs/<name>.cfg is the human-written source; tools/cfgc validates it and
 * emits a C file defining `sys_config` that is linked into the EL2 image. The
 * same validator (hv/core/config_check.c) runs again at boot, so an image
 * built from a hand-edited generated file is still checked. */
#ifndef VM_CONFIG_H
#define VM_CONFIG_H

#include <stdint.h>

#include "platform/platform.h"

#define CFG_NAME_LEN 16
#define CFG_MAX_VMS 8
#define CFG_MAX_CPUS 8
#define CFG_MAX_MEM 4
#define CFG_MAX_DEVS 8
#define CFG_MAX_IRQS PLAT_MAX_DEV_IRQS

enum vm_role { VM_ROLE_MVM = 1, VM_ROLE_GVM = 2 };

/* Guest memory: [ipa, ipa+size) is backed by [pa, pa+size). */
struct cfg_mem {
	uint64_t ipa;
	uint64_t pa;
	uint64_t size;
};

/* An image placed in physical memory by the loader (QEMU -device loader),
 * at `pa`; `size` is the file size measured by cfgc at build time. */
struct cfg_image {
	uint64_t pa;
	uint64_t size;
};

/* A physical MMIO device given to a VM: mapped at the same IPA, its
 * interrupts (GIC INTIDs) routed to the VM. */
struct cfg_passthrough {
	char name[CFG_NAME_LEN];
	uint64_t pa;
	uint64_t size;
	uint32_t irqs[CFG_MAX_IRQS];
	uint32_t nirqs;
};

/* An emulated virtio-mmio device in a VM, at slot n of the board's
 * virtio-mmio window (IPA 0x0a000000 + n*0x200, INTID 48 + n). */
enum cfg_virtio_type { CFG_VIRTIO_BLK = 1, CFG_VIRTIO_NET = 2, CFG_VIRTIO_CONSOLE = 3 };
enum cfg_blk_backend { CFG_BLK_MEDIATED = 1, CFG_BLK_HV_DRIVER = 2 };
#define CFG_MAX_VIRTIO 4

struct cfg_virtio {
	uint32_t type;    /* enum cfg_virtio_type */
	uint32_t slot;    /* 0..31 */
	uint32_t backend; /* blk: enum cfg_blk_backend */
	uint32_t disk;    /* blk: the backend's disk index */
	uint64_t sectors; /* blk: capacity in 512-byte sectors */
	uint32_t read_only;
	uint8_t mac[6]; /* net */
	/* net: storm control, flooded frames (broadcast, multicast) per second
	 * the switch takes from this port, 0: no limit; and the burst (1 to
	 * 65536 with a rate, else 0). cfgc writes its defaults. */
	uint32_t flood_rate;
	uint32_t flood_burst;
};
#define CFG_FLOOD_MAX_RATE 1000000u /* = NET_FLOOD_MAX_RATE (virtio_net.c asserts) */
#define CFG_FLOOD_MAX_BURST 65536u  /* = NET_FLOOD_MAX_BURST */

struct cfg_vm {
	char name[CFG_NAME_LEN];
	uint32_t role;
	uint32_t ncpus;
	uint32_t cpus[CFG_MAX_CPUS]; /* physical CPU of vCPU i */
	uint32_t nmem;
	struct cfg_mem mem[CFG_MAX_MEM];
	struct cfg_image kernel;
	struct cfg_image initrd; /* size 0: none */
	struct cfg_image dtb;
	uint32_t ndevs;
	struct cfg_passthrough devs[CFG_MAX_DEVS];
	uint32_t nvirtio;
	struct cfg_virtio virtio[CFG_MAX_VIRTIO];
	/* The MVM's mediated block area (configuration `mediated-area`): the
	 * region of its memory (identity mapped) its device tree reserves and
	 * HC_MED_REGISTER must name; size 0: none. GVMs: 0. */
	struct cfg_image med_area;
	/* 1: the hypervisor leaves this GVM STOPPED at boot: its images come
	 * from the MVM (configuration `images = mvm`; the MVM loads and starts
	 * it, if `autostart = yes`) or it is preloaded with `autostart = no`.
	 * 0: preloaded by the boot loader and started at boot, as always. */
	uint32_t stopped_at_boot;
};

struct sys_config {
	uint64_t ram_base; /* physical RAM of the board */
	uint64_t ram_size;
	uint64_t hv_base; /* reserved for the hypervisor image and heap */
	uint64_t hv_size;
	uint32_t ncpus; /* physical CPUs the board has */
	/* A platform virtio-blk device the hypervisor drives itself (backend
	 * "hv" of GVM disks); pa 0: none. */
	struct cfg_passthrough hv_disk;
	uint32_t nvms;
	struct cfg_vm vms[CFG_MAX_VMS];
};

/* Error report of a validation: which VM/field is wrong and why. */
struct cfg_error {
	char field[48];
	char msg[128];
};

/* Returns 0 if `cfg` is consistent, else fills `err` and returns -1.
 * `devs`/`ndevs` list what the platform has; no libc needed. */
int config_check(const struct sys_config *cfg, const struct platform_dev *devs, unsigned ndevs,
		 struct cfg_error *err);

/* Whether the EL2 image, [start, end) from its link address to its end with
 * .bss (__hv_start, __hv_end), lies inside the hypervisor's region: 0, or
 * -1 with `err` filled (field "system: hypervisor"). The link checks the
 * same (the board's linker.ld); the hypervisor checks again at boot. */
int config_check_hv_image(const struct sys_config *cfg, uint64_t start, uint64_t end,
			  struct cfg_error *err);

/* Whether some VM has a disk the MVM serves (it then needs the MVM's
 * mediated area). */
int config_has_mediated_disk(const struct sys_config *cfg);

extern const struct sys_config sys_config;

#endif
