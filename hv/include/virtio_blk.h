/* virtio-blk device model (virtio 1.1 §5.2). The device parses and checks
 * requests; a backend moves the data (the MVM through the mediated area,
 * or the hypervisor's own virtio-blk driver). */
#ifndef VIRTIO_BLK_H
#define VIRTIO_BLK_H
#include "virtio_mmio.h"

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

struct virtio_blk;

/* A request taken from the queue, checked, waiting for its backend. */
struct blk_req {
	struct virtio_blk *blk;
	uint32_t type;
	uint64_t sector;
	uint32_t len; /* data bytes: to write (OUT) or room to read into (IN) */
	struct virtq_chain chain;
	unsigned data_first;  /* index of the first data buffer in chain.bufs */
	uint32_t data_skip;   /* bytes of that buffer that belong to the header */
	uint8_t *status;      /* the status byte in the guest */
	uint32_t reset_count; /* the device's, when the request was taken */
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
	unsigned disk_index; /* the backend's number for this disk */
	const struct blk_backend_ops *backend;
	uint64_t reqs, bytes_read, bytes_written, errors;
};

int virtio_blk_create(struct virtio_blk *blk, struct vm *vm, ipa_t base, uint32_t irq,
		      uint64_t sectors, bool read_only, const struct blk_backend_ops *backend);
/* The next request for the backend: 1 and *req filled, 0 if none. Requests
 * the device can answer itself (errors, GET_ID, out of range, read-only)
 * are completed here and never reach the backend. */
int virtio_blk_next(struct virtio_blk *blk, struct blk_req *req);
/* Copies between the request's data buffers and a linear buffer. */
void blk_req_copy_out(const struct blk_req *req, uint8_t *dst); /* guest -> dst (OUT) */
void blk_req_copy_in(const struct blk_req *req, const uint8_t *src, uint32_t len); /* IN */
/* Finishes a request: status byte, used ring, interrupt if wanted. */
void virtio_blk_complete(struct blk_req *req, uint8_t status, uint32_t written);
#endif
