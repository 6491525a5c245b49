/* virtio-blk device model (see virtio_blk.h). */
#include "virtio_blk.h"

#include "lib.h"
#include "print.h"
#include "vm.h"

#define F_SIZE_MAX (1ULL << 1)
#define F_SEG_MAX (1ULL << 2)
#define F_RO (1ULL << 5)
#define F_BLK_SIZE (1ULL << 6)
#define F_FLUSH (1ULL << 9)
#define F_DISCARD (1ULL << 13)
#define F_WRITE_ZEROES (1ULL << 14)
#define SECTOR 512
#define HDR_LEN 16
#define CONFIG_LEN 60
#define MAX_DISCARD_SECTORS (BLK_SEG_MAX * BLK_SIZE_MAX / SECTOR)

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct virtio_blk *to_blk(struct virtio_dev *dev)
{
	return dev->priv;
}

static void put_le(uint8_t *cfg, unsigned off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t config_read(struct virtio_dev *dev, uint32_t off, unsigned len)
{
	struct virtio_blk *blk = to_blk(dev);
	uint8_t cfg[CONFIG_LEN] = {0};
	uint32_t v = 0;

	put_le(cfg, 0, blk->sectors, 8);         /* capacity */
	put_le(cfg, 8, BLK_SIZE_MAX, 4);         /* size_max */
	put_le(cfg, 12, BLK_SEG_MAX, 4);         /* seg_max */
	put_le(cfg, 20, SECTOR, 4);              /* blk_size */
	put_le(cfg, 34, 1, 2);                   /* num_queues */
	put_le(cfg, 36, MAX_DISCARD_SECTORS, 4); /* max_discard_sectors */
	put_le(cfg, 40, 1, 4);                   /* max_discard_seg */
	put_le(cfg, 44, 1, 4);                   /* discard_sector_alignment */
	put_le(cfg, 48, MAX_DISCARD_SECTORS, 4); /* max_write_zeroes_sectors */
	put_le(cfg, 52, 1, 4);                   /* max_write_zeroes_seg */
	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

static void notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_blk *blk = to_blk(dev);

	(void)q;
	blk->backend->kick(blk);
}

static void reset(struct virtio_dev *dev)
{
	struct virtio_blk *blk = to_blk(dev);

	if (blk->backend && blk->backend->reset)
		blk->backend->reset(blk);
}

/* Gathers the 16-byte header from the chain's readable bytes (a driver may
 * split it) and locates the data that follows it. */
static bool read_header(struct blk_req *req, struct blk_hdr *hdr)
{
	uint8_t *out = (uint8_t *)hdr;
	uint32_t need = HDR_LEN;

	for (unsigned i = 0; i < req->chain.nreadable; i++) {
		const struct virtq_buf *b = &req->chain.bufs[i];
		uint32_t take = MIN(need, b->len);
		memcpy(out + (HDR_LEN - need), b->hva, take);
		need -= take;
		if (need == 0) {
			req->data_first = take == b->len ? i + 1 : i;
			req->data_skip = take == b->len ? 0 : take;
			return true;
		}
	}
	return false;
}

/* The status byte is the last byte of the last (device-writable) buffer. */
static bool find_status(struct blk_req *req)
{
	struct virtq_chain *c = &req->chain;

	if (c->nbufs == c->nreadable)
		return false;
	struct virtq_buf *last = &c->bufs[c->nbufs - 1];
	req->status = last->hva + last->len - 1;
	return true;
}

static uint32_t data_len(const struct blk_req *req)
{
	const struct virtq_chain *c = &req->chain;

	if (req->type == VIRTIO_BLK_T_IN || req->type == VIRTIO_BLK_T_GET_ID)
		return (uint32_t)(c->writable_len - 1);
	return (uint32_t)(c->readable_len - HDR_LEN);
}

void blk_req_copy_out(const struct blk_req *req, uint8_t *dst)
{
	const struct virtq_chain *c = &req->chain;
	uint32_t skip = req->data_skip;

	for (unsigned i = req->data_first; i < c->nreadable; i++, skip = 0) {
		memcpy(dst, c->bufs[i].hva + skip, c->bufs[i].len - skip);
		dst += c->bufs[i].len - skip;
	}
}

void blk_req_copy_in(const struct blk_req *req, const uint8_t *src, uint32_t len)
{
	const struct virtq_chain *c = &req->chain;

	for (unsigned i = c->nreadable; i < c->nbufs && len; i++) {
		uint32_t room = c->bufs[i].len - (i == c->nbufs - 1); /* not the status byte */
		uint32_t n = MIN(room, len);
		memcpy(c->bufs[i].hva, src, n);
		src += n;
		len -= n;
	}
}

void virtio_blk_complete(struct blk_req *req, uint8_t status, uint32_t written)
{
	struct virtio_blk *blk = req->blk;

	if (status != VIRTIO_BLK_S_OK)
		blk->errors++;
	else if (req->type == VIRTIO_BLK_T_IN)
		blk->bytes_read += written;
	else if (req->type == VIRTIO_BLK_T_OUT)
		blk->bytes_written += req->len;
	spin_lock(&blk->vdev.lock);
	bool live = blk->vdev.vq[0].ready && blk->vdev.reset_count == req->reset_count;
	if (live) {
		*req->status = status;
		virtq_push(&blk->vdev.vq[0], req->chain.head, written + 1);
	}
	spin_unlock(&blk->vdev.lock);
	if (!live)
		return; /* the driver reset the device meanwhile: not ours to touch */
	virtio_notify_used(&blk->vdev, 0);
}

static bool in_range(const struct virtio_blk *blk, uint64_t sector, uint64_t bytes)
{
	uint64_t n = (bytes + SECTOR - 1) / SECTOR;

	return sector <= blk->sectors && n <= blk->sectors - sector;
}

/* Discard / write-zeroes carry one {sector, num_sectors, flags} segment. */
static bool parse_range(struct blk_req *req)
{
	uint8_t seg[16];

	if (req->len != sizeof(seg))
		return false;
	blk_req_copy_out(req, seg);
	uint32_t n;
	memcpy(&req->sector, seg, sizeof(req->sector));
	memcpy(&n, seg + 8, sizeof(n));
	if (n == 0 || n > MAX_DISCARD_SECTORS)
		return false;
	req->len = n * SECTOR;
	return true;
}

/* Status for a request the device can judge alone; -1 if it must go on. */
static int check_request(struct virtio_blk *blk, struct blk_req *req)
{
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (req->sector > blk->sectors || req->len % SECTOR ||
		    req->len > BLK_SEG_MAX * BLK_SIZE_MAX || !in_range(blk, req->sector, req->len))
			return VIRTIO_BLK_S_IOERR;
		if (req->type == VIRTIO_BLK_T_OUT && blk->read_only)
			return VIRTIO_BLK_S_IOERR;
		return -1;
	case VIRTIO_BLK_T_FLUSH:
		return -1;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (blk->read_only || !parse_range(req) || !in_range(blk, req->sector, req->len))
			return VIRTIO_BLK_S_IOERR;
		return -1;
	case VIRTIO_BLK_T_GET_ID: {
		uint8_t id[VIRTIO_BLK_ID_BYTES] = {0};
		memcpy(id, blk->name, MIN(strlen(blk->name), sizeof(id)));
		blk_req_copy_in(req, id, MIN(req->len, (uint32_t)sizeof(id)));
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

int virtio_blk_next(struct virtio_blk *blk, struct blk_req *req)
{
	struct virtio_dev *dev = &blk->vdev;
	struct blk_hdr hdr;

	for (;;) {
		spin_lock(&dev->lock);
		int r = dev->vq[0].ready ? virtq_pop(&dev->vq[0], dev->mem, &req->chain)
					 : VQ_EMPTY;
		req->reset_count = dev->reset_count;
		spin_unlock(&dev->lock);
		if (r == VQ_EMPTY)
			return 0;
		if (r != VQ_OK) {
			virtio_device_error(dev, virtq_strerror(r));
			return 0;
		}
		req->blk = blk;
		if (!find_status(req) || !read_header(req, &hdr)) {
			virtio_device_error(dev, "request without header or status byte");
			return 0;
		}
		blk->reqs++;
		req->type = hdr.type;
		req->sector = hdr.sector;
		req->len = data_len(req);
		int status = check_request(blk, req);
		if (status < 0)
			return 1;
		virtio_blk_complete(req, (uint8_t)status,
				    req->type == VIRTIO_BLK_T_GET_ID && status == 0
					    ? MIN(req->len, (uint32_t)VIRTIO_BLK_ID_BYTES)
					    : 0);
	}
}

int virtio_blk_create(struct virtio_blk *blk, struct vm *vm, ipa_t base, uint32_t irq,
		      uint64_t sectors, bool read_only, const struct blk_backend_ops *backend)
{
	static const struct virtio_dev_ops ops = {
		.features = VIRTIO_F_VERSION_1 | VIRTIO_F_RING_EVENT_IDX |
			    VIRTIO_F_RING_INDIRECT_DESC | F_SIZE_MAX | F_SEG_MAX | F_BLK_SIZE |
			    F_FLUSH | F_DISCARD | F_WRITE_ZEROES,
		.device_id = 2,
		.nqueues = 1,
		.config_size = CONFIG_LEN,
		.config_read = config_read,
		.notify = notify,
		.reset = reset,
	};

	blk->sectors = sectors;
	blk->backend = backend;
	snprintf(blk->name, sizeof(blk->name), "%s-vd%c", vm->name, 'a');
	blk->read_only = read_only;
	blk->vdev.features = read_only ? F_RO : 0;
	return virtio_mmio_create(&blk->vdev, vm, base, irq, &ops, blk);
}
