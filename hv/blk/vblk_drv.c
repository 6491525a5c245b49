/* virtio-blk driver at EL2 (see vblk_drv.h). One request in flight at a
 * time: descriptors 0 = header, 1..n = data, n+1 = status. */
#include "blk/vblk_drv.h"

#include "lib/lib.h"
#include "core/page_alloc.h"
#include "core/print.h"
#include "blk/virtio_blk.h"
#include "virtio/virtio_mmio_regs.h"
#include "virtio/virtq.h"

#define F_RO_BIT 5
#ifndef VBLK_POLL_LIMIT
#define VBLK_POLL_LIMIT 2000000000UL
#endif
#define POLL_LIMIT VBLK_POLL_LIMIT
#ifdef __aarch64__
#define mb() __asm__ volatile("dmb ish" ::: "memory")
#else /* host unit tests */
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* Layout of ring_mem (one page): desc at 0, avail at 512, used at 1024,
 * header at 2048, status at 2064. */
#define OFF_AVAIL 512
#define OFF_USED 1024
#define OFF_HDR 2048
#define OFF_STATUS 2064

static uint32_t rd(struct vblk_drv *d, unsigned off)
{
	return d->regs[off / 4];
}

static void wr(struct vblk_drv *d, unsigned off, uint32_t v)
{
	d->regs[off / 4] = v;
}

static int negotiate(struct vblk_drv *d)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint32_t hi = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	if (!(hi & 1)) /* VIRTIO_F_VERSION_1 */
		return -1;
	d->read_only = lo & (1u << F_RO_BIT);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, lo & (1u << F_RO_BIT));
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FEATURES_OK);
	return (rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) ? 0 : -1;
}

static int setup_queue(struct vblk_drv *d)
{
	paddr_t mem = (paddr_t)(uintptr_t)d->ring_mem;

	wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	if (rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX) < VBLK_DRV_QSIZE)
		return -1;
	wr(d, VIRTIO_MMIO_QUEUE_NUM, VBLK_DRV_QSIZE);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)mem);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(mem >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(mem + OFF_AVAIL));
	wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)((mem + OFF_AVAIL) >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(mem + OFF_USED));
	wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)((mem + OFF_USED) >> 32));
	wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

int vblk_drv_init(struct vblk_drv *d, paddr_t base)
{
	d->regs = (volatile uint32_t *)base;
	if (rd(d, VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE ||
	    rd(d, VIRTIO_MMIO_DEVICE_ID) != 2) {
		printk("vblk: no virtio-blk device at 0x%lx\n", (unsigned long)base);
		return -1;
	}
	if (rd(d, VIRTIO_MMIO_VERSION) != 2) {
		printk("vblk: device at 0x%lx is legacy virtio-mmio (version %u); run QEMU with "
		       "-global virtio-mmio.force-legacy=false\n",
		       (unsigned long)base, rd(d, VIRTIO_MMIO_VERSION));
		return -1;
	}
	d->ring_mem = palloc(1);
	if (!d->ring_mem || negotiate(d) || setup_queue(d)) {
		wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
		printk("vblk: device at 0x%lx refused set-up\n", (unsigned long)base);
		return -1;
	}
	d->sectors = rd(d, VIRTIO_MMIO_CONFIG) | (uint64_t)rd(d, VIRTIO_MMIO_CONFIG + 4) << 32;
	printk("vblk: virtio-blk at 0x%lx, %lu MiB%s\n", (unsigned long)base,
	       (unsigned long)(d->sectors >> 11), d->read_only ? ", read-only" : "");
	return 0;
}

static void set_desc(struct virtq_desc *t, unsigned i, paddr_t a, uint32_t len, uint16_t flags)
{
	t[i] = (struct virtq_desc){a, len, flags, (uint16_t)(i + 1)};
}

uint8_t vblk_drv_request(struct vblk_drv *d, uint32_t type, uint64_t sector,
			 const struct vblk_seg *segs, unsigned nsegs, bool to_device)
{
	uint8_t *mem = d->ring_mem;
	struct virtq_desc *desc = (struct virtq_desc *)mem;
	volatile uint16_t *avail = (volatile uint16_t *)(mem + OFF_AVAIL);
	volatile uint16_t *used = (volatile uint16_t *)(mem + OFF_USED);
	uint32_t *hdr = (uint32_t *)(mem + OFF_HDR);
	volatile uint8_t *status = mem + OFF_STATUS;
	paddr_t base = (paddr_t)(uintptr_t)mem;

	if (nsegs > VBLK_DRV_MAX_SEGS)
		return VIRTIO_BLK_S_IOERR;
	spin_lock(&d->lock);
	if (used[1] != d->avail_idx) {
		/* a request that timed out is still the device's: its
		 * descriptors, header and status byte are not ours to reuse */
		spin_unlock(&d->lock);
		return VIRTIO_BLK_S_IOERR;
	}
	d->used_seen = used[1];
	hdr[0] = type;
	hdr[1] = 0;
	memcpy(&hdr[2], &sector, sizeof(sector));
	*status = 0xff;
	set_desc(desc, 0, base + OFF_HDR, 16, VIRTQ_DESC_F_NEXT);
	for (unsigned i = 0; i < nsegs; i++)
		set_desc(desc, i + 1, segs[i].addr, segs[i].len,
			 VIRTQ_DESC_F_NEXT | (to_device ? 0 : VIRTQ_DESC_F_WRITE));
	set_desc(desc, nsegs + 1, base + OFF_STATUS, 1, VIRTQ_DESC_F_WRITE);
	desc[nsegs + 1].flags = VIRTQ_DESC_F_WRITE;
	avail[2 + d->avail_idx % VBLK_DRV_QSIZE] = 0;
	mb();
	avail[1] = ++d->avail_idx;
	mb();
	wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	unsigned long spins = 0;
	while (used[1] == d->used_seen && ++spins < POLL_LIMIT)
		;
	mb();
	uint8_t s = used[1] != d->used_seen ? *status : VIRTIO_BLK_S_IOERR;
	wr(d, VIRTIO_MMIO_INTERRUPT_ACK, rd(d, VIRTIO_MMIO_INTERRUPT_STATUS));
	d->requests++;
	spin_unlock(&d->lock);
	return s;
}

bool vblk_drv_busy(struct vblk_drv *d)
{
	volatile uint16_t *used = (volatile uint16_t *)((uint8_t *)d->ring_mem + OFF_USED);

	spin_lock(&d->lock);
	bool busy = used[1] != d->avail_idx;
	mb(); /* the device's accesses to the buffers are done before what follows */
	spin_unlock(&d->lock);
	return busy;
}
