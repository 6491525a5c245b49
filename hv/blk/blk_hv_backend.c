/* virtio-blk backend served by the hypervisor itself: a GVM's requests go
 * straight to a real virtio-blk device through the EL2 driver, on the
 * notifying vCPU's CPU. No MVM round trip.
 *
 * The device DMAs only into and out of a bounce buffer of the hypervisor's
 * own memory, never into a guest's: a request that timed out is still the
 * device's and may be done any time later, when its VM may have stopped
 * and had its RAM zeroed for the next instance. Read data is copied into
 * the guest after the reset check, counted in (virtio_copy_begin) so a
 * reset waits for it, like the mediated path's. Until the device gives such a request back, the
 * buffer stays its own (every request meanwhile fails) and the request counts as its VM's
 * (life.l.io): the VM does not start again, since a late write would land over its next instance's
 * data. */
#include "blk/blk_hv_backend.h"

#include "core/page_alloc.h"
#include "core/print.h"
#include "core/vm.h"
#include "blk/vblk_drv.h"

#define BOUNCE_PAGES (BLK_MAX_REQUEST / PAGE_SIZE)

static struct {
	spinlock_t lock; /* the bounce buffer and `late`; taken before drv.lock */
	struct vblk_drv drv;
	bool ready;
	uint8_t *bounce;   /* BLK_MAX_REQUEST bytes: all the device ever DMAs */
	struct life *late; /* the VM of a timed-out request the device still holds */
} hv;

int blk_hv_backend_init(paddr_t device)
{
	hv.bounce = palloc(BOUNCE_PAGES);
	hv.ready = hv.bounce && vblk_drv_init(&hv.drv, device) == 0;
	return hv.ready ? 0 : -1;
}

uint64_t blk_hv_backend_sectors(void)
{
	return hv.ready ? hv.drv.sectors : 0;
}

/* Lock held: the timed-out request's VM gets its count back once the
 * device has answered it. */
static void settle(void)
{
	if (hv.late && !vblk_drv_busy(&hv.drv)) {
		life_io_end(hv.late);
		hv.late = NULL;
	}
}

/* spin_lock without the spinning: the holder may be polling the device
 * (up to its time limit), and the MVM's START must not wait for that. */
static bool try_lock(spinlock_t *l)
{
	return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

void blk_hv_backend_reap(void)
{
	if (!try_lock(&hv.lock))
		return; /* a request in progress settles it itself */
	settle();
	spin_unlock(&hv.lock);
}

/* One read or write through the bounce buffer; lock held. A request the
 * device still holds when the driver gives up stays counted (`late`). */
static uint8_t transfer(struct blk_req *r, struct life *l)
{
	bool out = r->type == VIRTIO_BLK_T_OUT;
	struct vblk_seg seg = {(paddr_t)(uintptr_t)hv.bounce, r->len};

	if (out)
		blk_req_copy_out(r, hv.bounce, BLK_MAX_REQUEST);
	life_io_begin(l);
	uint8_t s = vblk_drv_request(&hv.drv, r->type, r->sector, &seg, r->len ? 1 : 0, out);
	if (vblk_drv_busy(&hv.drv))
		hv.late = l;
	else
		life_io_end(l);
	return s;
}

/* Serves and completes one request (read data from the bounce buffer, so
 * before another request may reuse it). */
static void serve(struct blk_req *r)
{
	struct life *l = &r->blk->vdev.vm->life.l;
	uint8_t s = VIRTIO_BLK_S_UNSUPP; /* discard/zeroes: not negotiated with the device */

	spin_lock(&hv.lock);
	settle();
	if (!hv.ready || hv.late || r->len > BLK_MAX_REQUEST)
		s = VIRTIO_BLK_S_IOERR; /* the buffer is still the device's, or too small */
	else if (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT ||
		 r->type == VIRTIO_BLK_T_FLUSH)
		s = transfer(r, l);
	if (r->type == VIRTIO_BLK_T_IN)
		virtio_blk_complete_read(r, s, hv.bounce, r->len);
	else
		virtio_blk_complete(r, s, 0);
	spin_unlock(&hv.lock);
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
		serve(&req);
	}
}

const struct blk_backend_ops blk_hv_backend = {
	.kick = kick,
};
