/* virtio-blk backend served by the hypervisor itself: a GVM's requests go
 * straight to a real virtio-blk device through the EL2 driver, on the
 * notifying vCPU's CPU, with the guest's own buffers handed to the device
 * (its memory is physically contiguous per region, so IPA -> PA is a
 * translation, not a copy). No MVM round trip. */
#include "blk/blk_hv_backend.h"

#include "core/print.h"
#include "blk/vblk_drv.h"

static struct vblk_drv drv;
static bool drv_ready;

int blk_hv_backend_init(paddr_t device)
{
	drv_ready = vblk_drv_init(&drv, device) == 0;
	return drv_ready ? 0 : -1;
}

uint64_t blk_hv_backend_sectors(void)
{
	return drv_ready ? drv.sectors : 0;
}

/* The request's data buffers as physical segments, r->len bytes in all
 * (the device DMAs into or out of them: never more than was checked). */
static unsigned data_segs(const struct blk_req *r, struct vblk_seg *segs)
{
	const struct virtq_chain *c = &r->chain;
	uint32_t left = r->len;
	unsigned n = 0;
	bool in = r->type == VIRTIO_BLK_T_IN;
	unsigned first = in ? c->nreadable : r->data_first;
	unsigned end = in ? c->nbufs : c->nreadable;

	for (unsigned i = first; i < end && left; i++) {
		uint32_t skip = (!in && i == r->data_first) ? r->data_skip : 0;
		uint32_t len = c->bufs[i].len - skip - (in && i == c->nbufs - 1 ? 1 : 0);
		len = MIN(len, left);
		if (len == 0)
			continue;
		left -= len;
		if (n == VBLK_DRV_MAX_SEGS)
			return VBLK_DRV_MAX_SEGS + 1;
		segs[n++] = (struct vblk_seg){(paddr_t)(uintptr_t)(c->bufs[i].hva + skip), len};
	}
	return n;
}

static uint8_t serve(struct blk_req *r)
{
	struct vblk_seg segs[VBLK_DRV_MAX_SEGS];

	if (!drv_ready)
		return VIRTIO_BLK_S_IOERR;
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		unsigned n = data_segs(r, segs);
		if (n > VBLK_DRV_MAX_SEGS)
			return VIRTIO_BLK_S_IOERR;
		return vblk_drv_request(&drv, r->type, r->sector, segs, n,
					r->type == VIRTIO_BLK_T_OUT);
	}
	case VIRTIO_BLK_T_FLUSH:
		return vblk_drv_request(&drv, r->type, 0, segs, 0, false);
	default:
		return VIRTIO_BLK_S_UNSUPP; /* discard/zeroes: not negotiated with the device */
	}
}

/* Runs on the notifying vCPU's own CPU: a guest that keeps its queue full
 * keeps only itself busy, so every budget is followed by another (stopping
 * early would strand requests the driver will not notify again). */
static void kick(struct virtio_blk *blk)
{
	struct blk_req req;
	unsigned budget = VIRTQ_MAX_SIZE;
	int r;

	while ((r = virtio_blk_next(blk, &req, &budget)) != BLK_NEXT_NONE) {
		if (r == BLK_NEXT_BUSY) {
			budget = VIRTQ_MAX_SIZE;
			continue;
		}
		uint8_t status = serve(&req);
		virtio_blk_complete(&req, status,
				    req.type == VIRTIO_BLK_T_IN && status == 0 ? req.len : 0);
	}
}

const struct blk_backend_ops blk_hv_backend = {
	.kick = kick,
};
