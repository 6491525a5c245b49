/* virtio-blk device model (virtio 1.1 §5.2). The device parses and checks
 * requests; a backend moves the data (the MVM through the mediated area,
 * or the hypervisor's own virtio-blk driver). */
#ifndef VIRTIO_BLK_H
#define VIRTIO_BLK_H
#include "virtio/virtio_mmio.h"

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define BLK_SEG_MAX 16
#define BLK_SIZE_MAX 4096
/* The largest read or write a device accepts by default (what seg_max *
 * size_max promise the driver); longer requests fail with IOERR. */
#define BLK_MAX_REQUEST (BLK_SEG_MAX * BLK_SIZE_MAX)
/* The most a backend may raise it to (virtio_blk_set_max_request): 1 MiB,
 * 256 segments of a page, a chain of VIRTQ_LONG_SEGS buffers. */
#define BLK_LONG_SEG_MAX (VIRTQ_LONG_SEGS - 2)
#define BLK_LONG_MAX_REQUEST (BLK_LONG_SEG_MAX * BLK_SIZE_MAX)

struct virtio_blk;

/* A request taken from the queue, checked, waiting for its backend. */
struct blk_req {
	struct virtio_blk *blk;
	uint32_t type;
	uint64_t sector;
	uint32_t len; /* data bytes (checked, <= the device's max_request): to write or to read */
	struct virtq_long_chain chain;
	unsigned data_first; /* index of the first data buffer in chain.bufs */
	uint32_t data_skip;  /* bytes of that buffer that belong to the header */
	uint8_t *status;     /* the status byte in the guest */
	uint64_t epoch;      /* the queue's (virtio_queue_epoch_locked) when taken */
	bool no_interrupt;   /* completing it does not interrupt the guest: the
			      * backend calls virtio_notify_used() itself */
};

struct blk_backend_ops {
	/* The device has requests: pull them with virtio_blk_next(). Runs on
	 * the notifying vCPU's CPU; a backend may defer to another CPU. */
	void (*kick)(struct virtio_blk *blk);
	void (*reset)(struct virtio_blk *blk);
};

struct virtio_blk {
	struct virtio_dev vdev;
	char name[CFG_NAME_LEN * 2];
	uint64_t sectors;
	bool read_only;
	unsigned disk_index;  /* the backend's number for this disk */
	uint32_t seg_max;     /* offered to the driver (seg_max * BLK_SIZE_MAX = max_request) */
	uint32_t max_request; /* bytes of the largest read or write accepted */
	const struct blk_backend_ops *backend;
	uint64_t reqs, bytes_read, bytes_written, errors;
};

int virtio_blk_create(struct virtio_blk *blk, struct vm *vm, ipa_t base, uint32_t irq,
		      uint64_t sectors, bool read_only, const struct blk_backend_ops *backend);
/* virtio_blk_next() results. */
#define BLK_NEXT_NONE 0 /* the queue is empty (or broken: device needs reset) */
#define BLK_NEXT_REQ 1  /* *req is a checked request for the backend */
#define BLK_NEXT_BUSY 2 /* *budget ran out: more may wait, come back later */
/* The next request for the backend. Requests the device can answer itself
 * (errors, GET_ID, out of range, read-only) are completed here and never
 * reach the backend. Each of those costs one unit of *budget (none left:
 * BLK_NEXT_BUSY before anything is taken), so a guest that keeps feeding
 * the queue with them cannot keep the caller here; requests for the backend
 * cost nothing here (the backend bounds them: slots). */
int virtio_blk_next(struct virtio_blk *blk, struct blk_req *req, unsigned *budget);
/* Whether the driver should notify new requests: off while the backend
 * has requests of this disk in flight and looks at the queue again when one
 * completes. Turning it on returns whether requests wait already (added
 * while it was off: the caller takes them). */
bool virtio_blk_set_notify(struct virtio_blk *blk, bool on);
/* Lets the driver send reads and writes of up to `bytes` (a multiple of
 * BLK_SIZE_MAX, at most BLK_LONG_MAX_REQUEST; before the driver starts). */
void virtio_blk_set_max_request(struct virtio_blk *blk, uint32_t bytes);
/* Copies the request's data (OUT) into dst: at most min(req->len, cap). */
void blk_req_copy_out(const struct blk_req *req, uint8_t *dst, uint32_t cap);
/* Whether the driver has not reset the device or its queue since the
 * request was taken (what the copy below and the completions check). */
bool virtio_blk_req_live(const struct blk_req *req);
/* Copies data bytes [off, off + len) of an OUT request (bounded by req->len)
 * into dst, under the device lock and only if the driver did not reset the
 * device or its queue since the request was taken; false (nothing copied)
 * if it did: the buffers may hold another instance's data by now. */
bool virtio_blk_copy_out_live(const struct blk_req *req, uint32_t off, uint8_t *dst, uint32_t len);
/* Finishes a request: status byte, used ring, interrupt if wanted; nothing
 * is written into the guest if it reset the device since the request was
 * taken. `written` is bounded by req->len. */
void virtio_blk_complete(struct blk_req *req, uint8_t status, uint32_t written);
/* The same for a read whose data is in `src` (len bytes, bounded by
 * req->len): copied into the guest's buffers under the device lock, after
 * the reset check; nothing is copied unless status is OK. */
void virtio_blk_complete_read(struct blk_req *req, uint8_t status, const uint8_t *src,
			      uint32_t len);
/* The same with the data in parts: bytes [i * part_bytes, (i + 1) *
 * part_bytes) of the request are at parts[i] (len bounded by req->len; the
 * caller gives every part len needs). */
void virtio_blk_complete_read_parts(struct blk_req *req, uint8_t status,
				    const uint8_t *const *parts, uint32_t part_bytes, uint32_t len);
#endif
