/* virtio-blk driver at EL2 (see vblk_drv.h). One request in flight at a
 * time: descriptors 0 = header, 1..n = data, n+1 = status. */
#include "blk/vblk_drv.h"

#include "lib/lib.h"
#include "core/page_alloc.h"
#include "core/print.h"
#include "blk/virtio_blk.h"
#include "virtio/virtq.h"

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_AVAIL_LO 0x090
#define R_AVAIL_HI 0x094
#define R_USED_LO 0x0a0
#define R_USED_HI 0x0a4
#define R_CONFIG 0x100

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
	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(d, R_DEV_FEATURES_SEL, 0);
	uint32_t lo = rd(d, R_DEV_FEATURES);
	wr(d, R_DEV_FEATURES_SEL, 1);
	uint32_t hi = rd(d, R_DEV_FEATURES);
	if (!(hi & 1)) /* VIRTIO_F_VERSION_1 */
		return -1;
	d->read_only = lo & (1u << F_RO_BIT);
	wr(d, R_DRV_FEATURES_SEL, 0);
	wr(d, R_DRV_FEATURES, lo & (1u << F_RO_BIT));
	wr(d, R_DRV_FEATURES_SEL, 1);
	wr(d, R_DRV_FEATURES, 1);
	wr(d, R_STATUS, rd(d, R_STATUS) | VIRTIO_STATUS_FEATURES_OK);
	return (rd(d, R_STATUS) & VIRTIO_STATUS_FEATURES_OK) ? 0 : -1;
}

static int setup_queue(struct vblk_drv *d)
{
	paddr_t mem = (paddr_t)(uintptr_t)d->ring_mem;

	wr(d, R_QUEUE_SEL, 0);
	if (rd(d, R_QUEUE_NUM_MAX) < VBLK_DRV_QSIZE)
		return -1;
	wr(d, R_QUEUE_NUM, VBLK_DRV_QSIZE);
	wr(d, R_DESC_LO, (uint32_t)mem);
	wr(d, R_DESC_HI, (uint32_t)(mem >> 32));
	wr(d, R_AVAIL_LO, (uint32_t)(mem + OFF_AVAIL));
	wr(d, R_AVAIL_HI, (uint32_t)((mem + OFF_AVAIL) >> 32));
	wr(d, R_USED_LO, (uint32_t)(mem + OFF_USED));
	wr(d, R_USED_HI, (uint32_t)((mem + OFF_USED) >> 32));
	wr(d, R_QUEUE_READY, 1);
	wr(d, R_STATUS, rd(d, R_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

int vblk_drv_init(struct vblk_drv *d, paddr_t base)
{
	d->regs = (volatile uint32_t *)base;
	if (rd(d, R_MAGIC) != 0x74726976 || rd(d, R_DEVICE_ID) != 2) {
		printk("vblk: no virtio-blk device at 0x%lx\n", (unsigned long)base);
		return -1;
	}
	if (rd(d, R_VERSION) != 2) {
		printk("vblk: device at 0x%lx is legacy virtio-mmio (version %u); run QEMU with "
		       "-global virtio-mmio.force-legacy=false\n",
		       (unsigned long)base, rd(d, R_VERSION));
		return -1;
	}
	d->ring_mem = palloc(1);
	if (!d->ring_mem || negotiate(d) || setup_queue(d)) {
		wr(d, R_STATUS, VIRTIO_STATUS_FAILED);
		printk("vblk: device at 0x%lx refused set-up\n", (unsigned long)base);
		return -1;
	}
	d->sectors = rd(d, R_CONFIG) | (uint64_t)rd(d, R_CONFIG + 4) << 32;
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
	wr(d, R_QUEUE_NOTIFY, 0);
	unsigned long spins = 0;
	while (used[1] == d->used_seen && ++spins < POLL_LIMIT)
		;
	mb();
	uint8_t s = used[1] != d->used_seen ? *status : VIRTIO_BLK_S_IOERR;
	wr(d, R_INT_ACK, rd(d, R_INT_STATUS));
	d->requests++;
	spin_unlock(&d->lock);
	return s;
}
