/* A realistic guest-memory model for host tests of the device models.
 *
 * Each GVM gets RAM reserved with mmap(MAP_NORESERVE) at a fake IPA, with
 * PROT_NONE guard pages on both sides: any access outside it crashes (ASan
 * reports the SEGV). The MVM's RAM is the mediated area (followed by a guard
 * page). The real virtio-mmio transport, virtqueue code, virtio-blk model
 * and mediated backend are linked; what they need from the rest of EL2
 * (vgic_inject, gic_send_sgi, printk, vm_log, vm_register_mmio, vms/nvms)
 * is stubbed here and counted. A small "driver" sets the device up through
 * its virtio-mmio registers and submits chains as a guest would. */
#ifndef GUEST_MEM_MODEL_H
#define GUEST_MEM_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "core/mmio.h"
#include "blk/virtio_blk.h"
#include "core/vm.h"

#define GMM_RAM_IPA 0x40000000UL
#define GMM_MVM_IPA 0x48000000UL
/* The MVM's configured mediated area: 62 slots (any size from MED_AREA_MIN
 * to MED_AREA_MAX is valid; the tests' counts are for this one). */
#define GMM_AREA_SLOTS 62u
#define GMM_AREA_SIZE (MED_HDR_SIZE + GMM_AREA_SLOTS * MED_SLOT_DATA)
#define GMM_MMIO_BASE 0x0a003e00UL
#define GMM_BLK_IRQ 79
#define GMM_MAX_GVMS 3

/* Driver-side layout inside each GVM's RAM. */
#define GMM_QSZ 256
#define GMM_DESC_IPA (GMM_RAM_IPA + 0x1000)
#define GMM_AVAIL_IPA (GMM_RAM_IPA + 0x3000)
#define GMM_USED_IPA (GMM_RAM_IPA + 0x4000)
#define GMM_BUF_IPA (GMM_RAM_IPA + 0x10000)

struct gmm_gvm {
	struct vm *vm;
	uint8_t *ram; /* host address of GMM_RAM_IPA */
	uint64_t ram_size;
	struct virtio_blk blk;
	mmio_handler_fn mmio_fn; /* captured from vm_register_mmio */
	void *mmio_dev;
	uint16_t avail_idx; /* the driver's */
	uint16_t used_seen;
};

struct gmm {
	unsigned ngvms;
	struct gmm_gvm gvm[GMM_MAX_GVMS];
	struct vm *mvm;
	uint8_t *area; /* the MVM's RAM = the mediated area */
	uint64_t area_size;
	/* stub counters */
	unsigned sgis, irqs_to_mvm, log_lines[LOG_CAUSES], printks;
	unsigned irqs_to_gvm[GMM_MAX_GVMS];
	/* called on every interrupt injected into a GVM (a driver's reaction) */
	void (*on_gvm_irq)(struct gmm_gvm *g);
};

extern struct gmm gmm;

/* Builds the MVM and `ngvms` GVMs with `ram_size` bytes of RAM each (NULL
 * guard-paged mmaps). Disks are not created yet. */
void gmm_init(unsigned ngvms, uint64_t ram_size);
void gmm_fini(void);
/* Host pointer of a GVM's IPA (no check: the test's own accesses). */
void *gmm_ptr(struct gmm_gvm *g, uint64_t ipa);

/* Creates GVM g's virtio-blk with `backend` (mediated: also disk index g). */
void gmm_create_blk(struct gmm_gvm *g, uint64_t sectors, bool read_only,
		    const struct blk_backend_ops *backend);
/* Register access through the device's MMIO handler, as a trapped guest
 * access would do it. Returns the value read (reads). */
uint32_t gmm_mmio_read(struct gmm_gvm *g, uint64_t off);
void gmm_mmio_write(struct gmm_gvm *g, uint64_t off, uint32_t v);
/* Driver set-up: reset, features (VERSION_1 | extra), queue 0 of GMM_QSZ
 * at the layout above, DRIVER_OK. Returns the status register. */
uint32_t gmm_driver_init(struct gmm_gvm *g, uint64_t extra_features);
/* Descriptor i of the driver's table. */
void gmm_set_desc(struct gmm_gvm *g, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next);
/* Publishes head as available (no notify). */
void gmm_offer(struct gmm_gvm *g, uint16_t head);
/* Sets the driver's avail->idx directly (a hostile driver). */
void gmm_set_avail_idx(struct gmm_gvm *g, uint16_t idx);
void gmm_notify(struct gmm_gvm *g);
/* The device's used->idx, and used ring entry i. */
uint16_t gmm_used_idx(struct gmm_gvm *g);
void gmm_used_elem(struct gmm_gvm *g, uint16_t i, uint32_t *id, uint32_t *len);

/* A whole blk request with a 16-byte header at `hdr_ipa`, `ndata` data
 * buffers (writable for reads) and the status byte at `status_ipa`, using
 * descriptors from `first`. Returns the head. */
uint16_t gmm_blk_request(struct gmm_gvm *g, unsigned first, uint32_t type, uint64_t sector,
			 uint64_t hdr_ipa, const uint64_t *data_ipa, const uint32_t *data_len,
			 unsigned ndata, uint64_t status_ipa);

/* The mediated area as the MVM sees it, registered by HC_MED_REGISTER. */
struct med_area;
struct med_area *gmm_area(void);
int64_t gmm_mvm_hypercall(uint64_t fid, uint64_t a1, uint64_t a2);
#endif
