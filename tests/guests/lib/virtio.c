/* virtio-mmio driver for test guests (see virtio.h). */
#include "virtio.h"

#define MAGIC_VALUE 0x74726976 /* "virt" */

int vio_probe(struct vdev *d, uint64_t base, uint32_t device_id)
{
	d->base = base; /* the queues' ring memory is kept */
	d->device_id = 0;
	if (vio_read(d, VIO_MAGIC) != MAGIC_VALUE || vio_read(d, VIO_VERSION) != 2 ||
	    vio_read(d, VIO_DEVICE_ID) != device_id)
		return -1;
	d->device_id = device_id;
	return 0;
}

int vio_reset(struct vdev *d)
{
	vio_write(d, VIO_STATUS, 0);
	for (unsigned i = 0; i < 1000; i++) {
		if (vio_read(d, VIO_STATUS) == 0)
			return 0;
		delay_us(100);
	}
	return -1;
}

uint64_t vio_device_features(struct vdev *d)
{
	vio_write(d, VIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = vio_read(d, VIO_DEVICE_FEATURES);
	vio_write(d, VIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)vio_read(d, VIO_DEVICE_FEATURES) << 32;
}

static void set_addr(struct vdev *d, uint32_t lo_reg, const volatile void *p)
{
	vio_write(d, lo_reg, (uint32_t)(uint64_t)p);
	vio_write(d, lo_reg + 4, (uint32_t)((uint64_t)p >> 32));
}

void vio_alloc_rings(struct vdev *d, unsigned nqueues)
{
	for (unsigned i = 0; i < nqueues && i < VIO_MAX_QUEUES; i++) {
		struct vq *q = &d->q[i];
		if (q->desc)
			continue;
		q->desc = dma_alloc(16 * VQ_MAX, 4096);
		q->avail = dma_alloc(6 + 2 * VQ_MAX, 4096);
		q->used = dma_alloc(6 + 8 * VQ_MAX, 4096);
	}
}

int vio_queue_setup(struct vdev *d, unsigned qi, unsigned qsize)
{
	struct vq *q = &d->q[qi];

	if (qi >= VIO_MAX_QUEUES || qsize > VQ_MAX)
		return -1;
	vio_write(d, VIO_QUEUE_SEL, qi);
	if (vio_read(d, VIO_QUEUE_READY) || vio_read(d, VIO_QUEUE_NUM_MAX) < qsize)
		return -1;
	vio_alloc_rings(d, qi + 1); /* ring memory for VQ_MAX entries, kept across resets */
	memset((void *)q->desc, 0, 16 * VQ_MAX);
	memset((void *)q->avail, 0, 6 + 2 * VQ_MAX);
	memset((void *)q->used, 0, 6 + 8 * VQ_MAX);
	q->index = qi;
	q->num = qsize;
	q->avail_idx = q->last_used = 0;
	dsb();
	vio_write(d, VIO_QUEUE_NUM, qsize);
	set_addr(d, VIO_QUEUE_DESC_LOW, q->desc);
	set_addr(d, VIO_QUEUE_DRIVER_LOW, q->avail);
	set_addr(d, VIO_QUEUE_DEVICE_LOW, q->used);
	vio_write(d, VIO_QUEUE_READY, 1);
	return vio_read(d, VIO_QUEUE_READY) == 1 ? 0 : -1;
}

int vio_setup(struct vdev *d, uint64_t want, unsigned nqueues, unsigned qsize)
{
	if (vio_reset(d))
		return -1;
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE);
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER);
	d->features = vio_device_features(d) & want;
	if (!(d->features & VIO_F_VERSION_1))
		return -2;
	vio_write(d, VIO_DRIVER_FEATURES_SEL, 0);
	vio_write(d, VIO_DRIVER_FEATURES, (uint32_t)d->features);
	vio_write(d, VIO_DRIVER_FEATURES_SEL, 1);
	vio_write(d, VIO_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK);
	if (!(vio_read(d, VIO_STATUS) & VIO_S_FEATURES_OK))
		return -3;
	d->nqueues = nqueues;
	for (unsigned i = 0; i < nqueues; i++)
		if (vio_queue_setup(d, i, qsize))
			return -4;
	vio_write(d, VIO_STATUS,
		  VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK | VIO_S_DRIVER_OK);
	if (vio_read(d, VIO_STATUS) & VIO_S_NEEDS_RESET)
		return -5;
	return 0;
}

void vq_desc(struct vq *q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	volatile struct vring_desc *e = &q->desc[i % VQ_MAX];
	e->addr = addr;
	e->len = len;
	e->flags = flags;
	e->next = next;
}

void vq_publish(struct vq *q, uint16_t head)
{
	q->avail[2 + q->avail_idx % q->num] = head;
	dmb();
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	dmb();
}

int vq_poll(struct vq *q, uint32_t timeout_ms, uint32_t *id, uint32_t *len)
{
	uint64_t end = time_ms() + timeout_ms;

	while (q->used[1] == q->last_used)
		if (time_ms() > end)
			return -1;
	dmb();
	volatile uint32_t *ring = (volatile uint32_t *)&q->used[2];
	unsigned slot = q->last_used % q->num;
	if (id)
		*id = ring[2 * slot];
	if (len)
		*len = ring[2 * slot + 1];
	q->last_used++;
	return 0;
}

int blk_request(struct vdev *d, uint32_t type, uint64_t sector, void *buf, uint32_t len,
		uint32_t timeout_ms)
{
	struct vq *q = &d->q[0];
	size_t mark = dma_mark();
	struct blk_hdr *hdr = dma_alloc(sizeof(*hdr), 16);
	volatile uint8_t *status = dma_alloc(1, 1);
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	unsigned n = 0;

	hdr->type = type;
	hdr->sector = sector;
	*status = 0xff;
	vq_desc(q, n, (uint64_t)hdr, sizeof(*hdr), VRING_F_NEXT, n + 1);
	n++;
	if (len) {
		vq_desc(q, n, (uint64_t)buf, len, VRING_F_NEXT | (in ? VRING_F_WRITE : 0), n + 1);
		n++;
	}
	vq_desc(q, n, (uint64_t)status, 1, VRING_F_WRITE, 0);
	vq_publish(q, 0);
	vio_notify(d, 0);
	int r = vq_poll(q, timeout_ms, NULL, NULL) ? -1 : *status;
	dma_release(mark);
	return r;
}

uint64_t blk_capacity(struct vdev *d)
{
	return vio_read(d, VIO_CONFIG) | (uint64_t)vio_read(d, VIO_CONFIG + 4) << 32;
}

int vio_send(struct vdev *d, unsigned qi, const void *buf, uint32_t len, uint32_t timeout_ms)
{
	struct vq *q = &d->q[qi];

	vq_desc(q, 0, (uint64_t)buf, len, 0, 0);
	vq_publish(q, 0);
	vio_notify(d, qi);
	return vq_poll(q, timeout_ms, NULL, NULL);
}
