/* The hypervisor's own driver for a real virtio-blk device (virtio-mmio
 * version 2). Requests are synchronous and polled: the calling CPU waits
 * for the device. Buffers are physical addresses (EL2 is identity mapped),
 * so a guest's buffers can be handed to the device without a copy. */
#ifndef VBLK_DRV_H
#define VBLK_DRV_H
#include "arch/arm64/spinlock.h"
#include "lib/types.h"

#define VBLK_DRV_QSIZE 32
#define VBLK_DRV_MAX_SEGS 24

struct vblk_seg {
	paddr_t addr;
	uint32_t len;
};

struct vblk_drv {
	volatile uint32_t *regs;
	spinlock_t lock;
	uint64_t sectors;
	bool read_only;
	void *ring_mem; /* desc table, avail and used rings, request header */
	uint16_t avail_idx, used_seen;
	uint64_t requests;
};

/* Probes and initialises the device at `base`; 0 on success, else -1 with
 * a log line saying why (no device, legacy version 1, not a block device). */
int vblk_drv_init(struct vblk_drv *d, paddr_t base);
/* One request of `type` (VIRTIO_BLK_T_*) at `sector` over `segs`; returns
 * the device's status byte (VIRTIO_BLK_S_*). */
uint8_t vblk_drv_request(struct vblk_drv *d, uint32_t type, uint64_t sector,
			 const struct vblk_seg *segs, unsigned nsegs, bool to_device);
#endif
