/* The hypervisor's own driver for a real virtio-blk device (virtio-mmio
 * version 2). Requests are synchronous and polled: the calling CPU waits
 * for the device, up to a limit. Buffers are physical addresses (EL2 is
 * identity mapped). A request the device has not answered within the limit
 * stays the device's: it may still read or write its buffers and the disk
 * any time later (vblk_drv_busy), so they must be the caller's own memory,
 * never a guest's (blk_hv_backend.c bounces). */
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
 * the device's status byte (VIRTIO_BLK_S_*), or IOERR if the device still
 * holds an earlier request or did not answer this one in time. */
uint8_t vblk_drv_request(struct vblk_drv *d, uint32_t type, uint64_t sector,
			 const struct vblk_seg *segs, unsigned nsegs, bool to_device);
/* Whether the device still holds a request that timed out (its buffers
 * and the disk blocks it writes are not settled yet). */
bool vblk_drv_busy(struct vblk_drv *d);
#endif
