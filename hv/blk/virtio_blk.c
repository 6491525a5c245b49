/* virtio-blk device model (see virtio_blk.h). */
#include "blk/virtio_blk.h"

#include "lib/lib.h"
#include "core/print.h"
#include "core/vm.h"

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
#define MAX_DISCARD_SECTORS (BLK_MAX_REQUEST / SECTOR)

_Static_assert(BLK_LONG_MAX_REQUEST == (1u << 20), "long requests are 1 MiB");

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
	put_le(cfg, 12, blk->seg_max, 4);        /* seg_max */
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
	/* a notify without new chains (a guest notifying in a loop) costs only
	 * its own CPU: no kick of the backend (for the mediated one, no IPI to
	 * the MVM's CPU) */
	if (virtio_queue_has_new(dev, 0))
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
	struct virtq_long_chain *c = &req->chain;

	if (c->nbufs == c->nreadable)
		return false;
	struct virtq_buf *last = &c->bufs[c->nbufs - 1];
	req->status = last->hva + last->len - 1;
	return true;
}

/* Data bytes of the chain, in 64 bits: a chain of up to VIRTQ_MAX_SEGS
 * buffers of up to 4 GiB each (overlapping, if the guest likes) exceeds
 * 32 bits. The header and the status byte were found, so no underflow. */
static uint64_t chain_data_len(const struct blk_req *req)
{
	const struct virtq_long_chain *c = &req->chain;

	if (req->type == VIRTIO_BLK_T_IN || req->type == VIRTIO_BLK_T_GET_ID)
		return c->writable_len - 1;
	return c->readable_len - HDR_LEN;
}

/* Data bytes [off, off + len) of an OUT request into dst (len and off
 * bounded by the caller against req->len). */
static void copy_out_at(const struct blk_req *req, uint32_t off, uint8_t *dst, uint32_t len)
{
	const struct virtq_long_chain *c = &req->chain;
	uint32_t skip = req->data_skip;

	for (unsigned i = req->data_first; i < c->nreadable && len; i++, skip = 0) {
		uint32_t avail = c->bufs[i].len - skip;
		if (off >= avail) {
			off -= avail;
			continue;
		}
		uint32_t n = MIN(avail - off, len);
		memcpy(dst, c->bufs[i].hva + skip + off, n);
		off = 0;
		dst += n;
		len -= n;
	}
}

void blk_req_copy_out(const struct blk_req *req, uint8_t *dst, uint32_t cap)
{
	copy_out_at(req, 0, dst, MIN(req->len, cap));
}

/* Whether the driver has not reset the device or the request's queue (or
 * enabled it again) since the request was taken; device lock held. */
static bool live_locked(const struct blk_req *req)
{
	struct virtio_blk *blk = req->blk;

	return blk->vdev.vq[0].ready && virtio_queue_epoch_locked(&blk->vdev, 0) == req->epoch;
}

bool virtio_blk_req_live(const struct blk_req *req)
{
	spin_lock(&req->blk->vdev.lock);
	bool live = live_locked(req);
	spin_unlock(&req->blk->vdev.lock);
	return live;
}

/* The copy runs without the device lock (virtio_copy_begin); data read
 * while the driver took its buffers back is not used: the request is live
 * at the end only if no reset came meanwhile. */
bool virtio_blk_copy_out_live(const struct blk_req *req, uint32_t off, uint8_t *dst, uint32_t len)
{
	struct virtio_blk *blk = req->blk;

	if (off > req->len || len > req->len - off)
		return false;
	unsigned copy = virtio_copy_begin(&blk->vdev, 0, req->epoch);
	if (!copy)
		return false;
	copy_out_at(req, off, dst, len);
	spin_lock(&blk->vdev.lock);
	virtio_copy_end_locked(&blk->vdev, copy);
	bool live = live_locked(req);
	spin_unlock(&blk->vdev.lock);
	return live;
}

/* Guest buffers <- the parts: at most `len` bytes, never more than the
 * request's checked length, never over the status byte. Byte k of the data
 * is parts[k / part_bytes][k % part_bytes]. */
static void copy_in(const struct blk_req *req, const uint8_t *const *parts, uint32_t part_bytes,
		    uint32_t len)
{
	const struct virtq_long_chain *c = &req->chain;
	uint32_t done = 0;

	len = MIN(len, req->len);
	for (unsigned i = c->nreadable; i < c->nbufs && done < len; i++) {
		uint32_t room = c->bufs[i].len - (i == c->nbufs - 1); /* not the status byte */
		for (uint32_t at = 0; at < room && done < len;) {
			uint32_t po = done % part_bytes;
			uint32_t n = MIN(MIN(room - at, len - done), part_bytes - po);
			memcpy(c->bufs[i].hva + at, parts[done / part_bytes] + po, n);
			at += n;
			done += n;
		}
	}
}

/* Data (for reads), then status and used ring under the device lock, and
 * only if the driver has not reset the device or its queue (or enabled it
 * again) since the request was taken: its buffers may hold something else.
 * The data is copied without the lock (virtio_copy_begin: a reset waits for
 * it), so the guest's register accesses do not wait for up to 1 MiB. */
static void complete(struct blk_req *req, uint8_t status, const uint8_t *const *parts,
		     uint32_t part_bytes, uint32_t len, uint32_t written)
{
	struct virtio_blk *blk = req->blk;
	unsigned copy = parts && part_bytes ? virtio_copy_begin(&blk->vdev, 0, req->epoch) : 0;
	bool copied = copy != 0;

	if (copied)
		copy_in(req, parts, part_bytes, len);
	spin_lock(&blk->vdev.lock);
	if (copied)
		virtio_copy_end_locked(&blk->vdev, copy);
	/* the counters under the lock too: two CPUs may finish a disk's
	 * requests at once */
	if (status != VIRTIO_BLK_S_OK)
		blk->errors++;
	else if (req->type == VIRTIO_BLK_T_IN)
		blk->bytes_read += written;
	else if (req->type == VIRTIO_BLK_T_OUT)
		blk->bytes_written += req->len;
	bool live = live_locked(req) && (copied || !parts || !part_bytes);
	if (live) {
		*req->status = status;
		virtq_push(&blk->vdev.vq[0], req->chain.head, written + 1);
	}
	spin_unlock(&blk->vdev.lock);
	if (!live || req->no_interrupt)
		return; /* the driver reset the device meanwhile: not ours to touch */
	virtio_notify_used(&blk->vdev, 0);
}

void virtio_blk_complete(struct blk_req *req, uint8_t status, uint32_t written)
{
	complete(req, status, NULL, 0, 0, MIN(written, req->len));
}

void virtio_blk_complete_read_parts(struct blk_req *req, uint8_t status,
				    const uint8_t *const *parts, uint32_t part_bytes, uint32_t len)
{
	if (status != VIRTIO_BLK_S_OK || !part_bytes)
		parts = NULL;
	len = parts ? MIN(len, req->len) : 0;
	complete(req, status, parts, part_bytes, len, len);
}

void virtio_blk_complete_read(struct blk_req *req, uint8_t status, const uint8_t *src, uint32_t len)
{
	virtio_blk_complete_read_parts(req, status, &src, MAX(len, 1u), len);
}

static bool in_range(const struct virtio_blk *blk, uint64_t sector, uint64_t bytes)
{
	uint64_t n = (bytes + SECTOR - 1) / SECTOR;

	return sector <= blk->sectors && n <= blk->sectors - sector;
}

/* Discard / write-zeroes carry one {sector, num_sectors, flags} segment:
 * exactly its 16 bytes of data (max_discard_seg is 1). */
static bool parse_range(struct blk_req *req, uint64_t data_len)
{
	uint8_t seg[16];
	uint32_t n;

	if (data_len != sizeof(seg))
		return false;
	req->len = sizeof(seg);
	blk_req_copy_out(req, seg, sizeof(seg));
	memcpy(&req->sector, seg, sizeof(req->sector));
	memcpy(&n, seg + 8, sizeof(n));
	if (n == 0 || n > MAX_DISCARD_SECTORS)
		return false;
	req->len = n * SECTOR;
	return true;
}

/* Checks the request against what the device offers, with the chain's
 * data length in 64 bits; only then is it narrowed into req->len. Returns a
 * status for a request the device answers itself, -1 if it must go on. */
static int check_request(struct virtio_blk *blk, struct blk_req *req, uint64_t data_len)
{
	req->len = 0;
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (data_len > blk->max_request || data_len % SECTOR)
			return VIRTIO_BLK_S_IOERR;
		req->len = (uint32_t)data_len;
		if (!in_range(blk, req->sector, req->len))
			return VIRTIO_BLK_S_IOERR;
		if (req->type == VIRTIO_BLK_T_OUT && blk->read_only)
			return VIRTIO_BLK_S_IOERR;
		return -1;
	case VIRTIO_BLK_T_FLUSH:
		return -1;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (blk->read_only || !parse_range(req, data_len) ||
		    !in_range(blk, req->sector, req->len))
			return VIRTIO_BLK_S_IOERR;
		return -1;
	case VIRTIO_BLK_T_GET_ID:
		req->len = (uint32_t)MIN(data_len, (uint64_t)VIRTIO_BLK_ID_BYTES);
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Answers a request the device judged alone. */
static void answer(struct virtio_blk *blk, struct blk_req *req, uint8_t status)
{
	if (req->type == VIRTIO_BLK_T_GET_ID && status == VIRTIO_BLK_S_OK) {
		uint8_t id[VIRTIO_BLK_ID_BYTES] = {0};
		memcpy(id, blk->name, MIN(strlen(blk->name), sizeof(id)));
		virtio_blk_complete_read(req, status, id, MIN(req->len, (uint32_t)sizeof(id)));
		return;
	}
	req->len = 0;
	virtio_blk_complete(req, status, 0);
}

int virtio_blk_next(struct virtio_blk *blk, struct blk_req *req, unsigned *budget)
{
	struct virtio_dev *dev = &blk->vdev;
	struct blk_hdr hdr;

	for (;;) {
		if (*budget == 0)
			return BLK_NEXT_BUSY; /* more may wait: the caller comes back later */
		spin_lock(&dev->lock);
		int r = dev->vq[0].ready ? virtq_pop_long(&dev->vq[0], dev->mem, &req->chain)
					 : VQ_EMPTY;
		req->epoch = virtio_queue_epoch_locked(dev, 0);
		if (r < 0) /* under the lock: the error is this queue's, not a reset one's */
			virtio_device_error_locked(dev, virtq_strerror(r));
		spin_unlock(&dev->lock);
		if (r != VQ_OK)
			return BLK_NEXT_NONE;
		req->blk = blk;
		req->no_interrupt = false;
		if (!find_status(req) || !read_header(req, &hdr)) {
			virtio_device_error(dev, "request without header or status byte");
			return BLK_NEXT_NONE;
		}
		blk->reqs++;
		req->type = hdr.type;
		req->sector = hdr.sector;
		int status = check_request(blk, req, chain_data_len(req));
		if (status < 0)
			return BLK_NEXT_REQ;
		(*budget)--; /* only work the device does alone: the backend bounds the rest */
		answer(blk, req, (uint8_t)status);
	}
}

void virtio_blk_set_max_request(struct virtio_blk *blk, uint32_t bytes)
{
	uint32_t segs = MIN(bytes, (uint32_t)BLK_LONG_MAX_REQUEST) / BLK_SIZE_MAX;

	blk->seg_max = MAX(segs, 1u);
	blk->max_request = blk->seg_max * BLK_SIZE_MAX;
}

bool virtio_blk_set_notify(struct virtio_blk *blk, bool on)
{
	struct virtio_dev *dev = &blk->vdev;
	struct virtq *vq = &dev->vq[0];
	bool waiting = false;

	spin_lock(&dev->lock);
	if (vq->ready) {
		virtq_set_notify(vq, on); /* with a barrier before the look at avail */
		waiting = on && virtq_has_avail(vq);
	}
	spin_unlock(&dev->lock);
	return waiting;
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
	blk->seg_max = BLK_SEG_MAX;
	blk->max_request = BLK_MAX_REQUEST;
	snprintf(blk->name, sizeof(blk->name), "%s-vd%c", vm->name, 'a');
	blk->read_only = read_only;
	blk->vdev.features = read_only ? F_RO : 0;
	return virtio_mmio_create(&blk->vdev, vm, base, irq, &ops, blk);
}
