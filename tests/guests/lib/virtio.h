/* A minimal virtio-mmio (version 2) driver with split virtqueues, for test
 * guests: polled (no interrupts), one request at a time for honest use, and
 * raw access to the rings for hostile use. */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H
#include "guest.h"

#define VIO_MAGIC 0x000
#define VIO_VERSION 0x004
#define VIO_DEVICE_ID 0x008
#define VIO_VENDOR_ID 0x00c
#define VIO_DEVICE_FEATURES 0x010
#define VIO_DEVICE_FEATURES_SEL 0x014
#define VIO_DRIVER_FEATURES 0x020
#define VIO_DRIVER_FEATURES_SEL 0x024
#define VIO_QUEUE_SEL 0x030
#define VIO_QUEUE_NUM_MAX 0x034
#define VIO_QUEUE_NUM 0x038
#define VIO_QUEUE_READY 0x044
#define VIO_QUEUE_NOTIFY 0x050
#define VIO_INTERRUPT_STATUS 0x060
#define VIO_INTERRUPT_ACK 0x064
#define VIO_STATUS 0x070
#define VIO_QUEUE_DESC_LOW 0x080
#define VIO_QUEUE_DESC_HIGH 0x084
#define VIO_QUEUE_DRIVER_LOW 0x090
#define VIO_QUEUE_DRIVER_HIGH 0x094
#define VIO_QUEUE_DEVICE_LOW 0x0a0
#define VIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIO_QUEUE_RESET 0x0c0
#define VIO_CONFIG_GENERATION 0x0fc
#define VIO_CONFIG 0x100
#define VIO_WINDOW 0x200

#define VIO_S_ACKNOWLEDGE 1
#define VIO_S_DRIVER 2
#define VIO_S_DRIVER_OK 4
#define VIO_S_FEATURES_OK 8
#define VIO_S_NEEDS_RESET 64
#define VIO_S_FAILED 128

#define VIO_F_INDIRECT_DESC (1ULL << 28)
#define VIO_F_EVENT_IDX (1ULL << 29)
#define VIO_F_VERSION_1 (1ULL << 32)
#define VIO_F_RING_RESET (1ULL << 40)

#define VIO_ID_NET 1
#define VIO_ID_BLK 2
#define VIO_ID_CONSOLE 3

#define VRING_F_NEXT 1
#define VRING_F_WRITE 2
#define VRING_F_INDIRECT 4
#define VQ_MAX 256 /* ring memory is sized for this many entries */

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq {
	unsigned index, num;
	volatile struct vring_desc *desc; /* num entries */
	volatile uint16_t *avail;         /* flags, idx, ring[num], used_event */
	volatile uint16_t *used;          /* flags, idx, {u32 id, u32 len}[num], avail_event */
	uint16_t avail_idx;               /* the driver's next avail->idx */
	uint16_t last_used;               /* used entries consumed */
};

#define VIO_MAX_QUEUES 3
struct vdev {
	uint64_t base;
	uint32_t device_id;
	uint64_t features; /* negotiated */
	unsigned nqueues;
	struct vq q[VIO_MAX_QUEUES];
};

static inline uint32_t vio_read(const struct vdev *d, uint32_t off)
{
	return mmio_read32(d->base + off);
}
static inline void vio_write(const struct vdev *d, uint32_t off, uint32_t v)
{
	mmio_write32(d->base + off, v);
}

/* Checks magic, version 2 and the device ID at `base`; 0 or -1. */
int vio_probe(struct vdev *d, uint64_t base, uint32_t device_id);
/* Resets the device (status 0) and waits until it reads back 0. */
int vio_reset(struct vdev *d);
/* Full bring-up: reset, ACKNOWLEDGE, DRIVER, features (the device's offer
 * & `want`, which must include VERSION_1), FEATURES_OK, `nqueues` queues of
 * `qsize` entries, DRIVER_OK. 0 on success, else a negative step number. */
int vio_setup(struct vdev *d, uint64_t want, unsigned nqueues, unsigned qsize);
/* Allocates the ring memory of `nqueues` queues (VQ_MAX entries each) now,
 * outside any dma_mark() region; vio_queue_setup() does it on first use. */
void vio_alloc_rings(struct vdev *d, unsigned nqueues);
/* Programs and enables one queue (after FEATURES_OK). */
int vio_queue_setup(struct vdev *d, unsigned q, unsigned qsize);
uint64_t vio_device_features(struct vdev *d);

/* Writes descriptor i of the queue. */
void vq_desc(struct vq *q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
/* Puts `head` in the avail ring and publishes it (avail->idx++). */
void vq_publish(struct vq *q, uint16_t head);
static inline void vio_notify(struct vdev *d, unsigned q)
{
	dsb();
	vio_write(d, VIO_QUEUE_NOTIFY, q);
}
/* Waits up to timeout_ms for the next used entry; 0 (id/len filled) or -1. */
int vq_poll(struct vq *q, uint32_t timeout_ms, uint32_t *id, uint32_t *len);
/* Used entries not yet consumed. */
static inline uint16_t vq_used_pending(const struct vq *q)
{
	return (uint16_t)(q->used[1] - q->last_used);
}

/* ---------------------------------------------------------------- virtio-blk */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* One request (header, data, status) on queue 0 as descriptors 0..2, waits
 * for it: the status byte, or -1 on a timeout. `len` may be 0 (FLUSH). */
int blk_request(struct vdev *d, uint32_t type, uint64_t sector, void *buf, uint32_t len,
		uint32_t timeout_ms);
uint64_t blk_capacity(struct vdev *d);

/* Sends `len` bytes on queue `q` (a chain of one readable buffer) and waits
 * for the device to return it; 0 or -1. */
int vio_send(struct vdev *d, unsigned q, const void *buf, uint32_t len, uint32_t timeout_ms);
#endif
