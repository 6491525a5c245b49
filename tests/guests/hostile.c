/* The hostile test guest (issue 7): abuses every emulated register, queue
 * and request path it is given and checks containment after each case.
 *
 * Waits for a "go" line on its PL011, then prints "PASS <case>" or
 * "FAIL <case>: why" per case and "HOSTILE DONE <n> cases". A case passes
 * when the hypervisor answered the abuse as a device or CPU should (refused,
 * flagged DEVICE_NEEDS_RESET, aborted with the right syndrome) and, after a
 * device reset, an honest request on the abused device succeeds with the
 * right data. The hypervisor's survival and the other VMs' workloads are
 * checked by the system scenario (tests/system/test_hostile.py).
 *
 * Devices as in configs/test-hostile.cfg (tests/guests/hostile-slots.dtsi). */
#include "guest.h"
#include "virtio.h"

#define MIB (1UL << 20)
#define GUEST_RAM_SIZE (512 * MIB)
/* The upper half of RAM is never used by the image, its stack or its pool:
 * hostile buffers and descriptors point there. */
#define SCRATCH (GUEST_RAM_BASE + 256 * MIB)
#define SCRATCH_SIZE (256 * MIB)
#define UNMAPPED_RAM_END (GUEST_RAM_BASE + GUEST_RAM_SIZE) /* the first IPA after RAM */
#define SECTOR 512
#define HONEST_TIMEOUT_MS 20000 /* mediated requests go through the MVM */
#define ANSWER_TIMEOUT_MS 2000  /* for a refusal the device gives alone */

#define NET_F_MAC (1ULL << 5)
#define NET_F_CTRL_VQ (1ULL << 17)
#define NET_F_CTRL_RX (1ULL << 18)
#define NET_HDR_LEN 12

struct dev {
	const char *name;
	unsigned slot;
	uint32_t id;
	uint64_t want;
	unsigned nqueues;
	bool read_only;
	struct vdev v;
};

static struct dev med = {"med-blk", 31,    VIO_ID_BLK, VIO_F_VERSION_1 | VIO_F_INDIRECT_DESC,
			 1,         false, {0}};
static struct dev hvd = {"hv-blk", 30,   VIO_ID_BLK, VIO_F_VERSION_1 | VIO_F_INDIRECT_DESC,
			 1,        true, {0}};
static struct dev net = {
	"net",
	29,
	VIO_ID_NET,
	VIO_F_VERSION_1 | VIO_F_INDIRECT_DESC | NET_F_MAC | NET_F_CTRL_VQ | NET_F_CTRL_RX,
	3,
	false,
	{0}};
static struct dev con = {"console", 28, VIO_ID_CONSOLE, VIO_F_VERSION_1 | VIO_F_INDIRECT_DESC, 2,
			 false,     {0}};
static uint8_t hv_disk_first[4096]; /* the read-only disk's first 4 KiB, read at the start */
static unsigned ncases, nfailed, round_no;
static char detail[128]; /* a PASS line's note */

/* ---------------------------------------------------------------- helpers */
static char why_buf[4][160];
static unsigned why_next;

static const char *__attribute__((format(printf, 1, 2))) why(const char *fmt, ...)
{
	char *b = why_buf[why_next++ % 4];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof(why_buf[0]), fmt, ap);
	va_end(ap);
	return b;
}

static uint32_t rng_state = 0x9e3779b9;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static const char *dev_up_sized(struct dev *d, unsigned qsize)
{
	if (vio_probe(&d->v, VIRTIO_MMIO_BASE(d->slot), d->id))
		return why("%s: no virtio device %u at slot %u", d->name, d->id, d->slot);
	int r = vio_setup(&d->v, d->want, d->nqueues, qsize);
	if (r)
		return why("%s: bring-up failed at step %d (status 0x%x)", d->name, -r,
			   vio_read(&d->v, VIO_STATUS));
	return NULL;
}

static const char *dev_up(struct dev *d)
{
	return dev_up_sized(d, 64);
}

static bool needs_reset(struct dev *d)
{
	return vio_read(&d->v, VIO_STATUS) & VIO_S_NEEDS_RESET;
}

/* An honest write + read back on a block device (read only on a read-only
 * one), with a pattern that changes every round. */
static const char *blk_honest(struct dev *d)
{
	size_t mark = dma_mark();
	uint8_t *w = dma_alloc(4096, 4096), *r = dma_alloc(4096, 4096);
	uint64_t sector = 2048 + (round_no % 64) * 8;
	const char *err = NULL;
	int s;

	round_no++;
	for (unsigned i = 0; i < 4096; i++)
		w[i] = (uint8_t)(i * 7 + round_no);
	if (!d->read_only) {
		s = blk_request(&d->v, VIRTIO_BLK_T_OUT, sector, w, 4096, HONEST_TIMEOUT_MS);
		if (s != VIRTIO_BLK_S_OK) {
			err = why("%s: honest write: %s %d", d->name,
				  s < 0 ? "no answer" : "status", s);
			goto out;
		}
	} else {
		memcpy(w, hv_disk_first, sizeof(hv_disk_first));
		sector = 0;
	}
	s = blk_request(&d->v, VIRTIO_BLK_T_IN, sector, r, 4096, HONEST_TIMEOUT_MS);
	if (s != VIRTIO_BLK_S_OK)
		err = why("%s: honest read: %s %d", d->name, s < 0 ? "no answer" : "status", s);
	else if (memcmp(w, r, 4096))
		err = why("%s: honest read returned other data than was written", d->name);
out:
	dma_release(mark);
	return err;
}

/* One frame through the switch to a unicast MAC nobody has (the MVM's
 * uplink takes it): the device must return the buffer. */
static const char *net_honest(struct dev *d)
{
	size_t mark = dma_mark();
	uint8_t *f = dma_alloc(NET_HDR_LEN + 60, 16);
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0x0b, 0xad};
	static const uint8_t src[6] = {0x52, 0x54, 0x00, 0x5e, 0x00, 0x12};
	memcpy(f + NET_HDR_LEN, dst, 6);
	memcpy(f + NET_HDR_LEN + 6, src, 6);
	f[NET_HDR_LEN + 12] = 0x88; /* local experimental ethertype */
	f[NET_HDR_LEN + 13] = 0xb5;
	int r = vio_send(&d->v, 1, f, NET_HDR_LEN + 60, HONEST_TIMEOUT_MS);
	dma_release(mark);
	return r ? why("%s: an honest frame was never returned", d->name) : NULL;
}

static const char *con_honest(struct dev *d)
{
	size_t mark = dma_mark();
	char *line = dma_alloc(64, 16);
	int n = snprintf(line, 64, "hostile: hvc0 alive %u\n", round_no++);
	int r = vio_send(&d->v, 1, line, (uint32_t)n, HONEST_TIMEOUT_MS);
	dma_release(mark);
	return r ? why("%s: an honest line was never returned", d->name) : NULL;
}

/* Containment: the device resets, comes up again and serves an honest
 * request. */
static const char *contained(struct dev *d)
{
	const char *err = dev_up(d);
	if (err)
		return why("after the case: %s", err);
	if (d->id == VIO_ID_BLK)
		err = blk_honest(d);
	else if (d->id == VIO_ID_NET)
		err = net_honest(d);
	else
		err = con_honest(d);
	return err ? why("after the case: %s", err) : NULL;
}

/* Waits for the answer to a request the device must refuse: an error status,
 * DEVICE_NEEDS_RESET, or no answer at all pass; status OK fails. */
static const char *refused(struct dev *d, volatile uint8_t *status, const char *what)
{
	uint32_t len;

	if (vq_poll(&d->v.q[0], ANSWER_TIMEOUT_MS, NULL, &len) == 0) {
		if (*status == VIRTIO_BLK_S_OK)
			return why("%s: the device accepted it (status OK, %u bytes)", what, len);
		return NULL;
	}
	return NULL; /* not answered (DEVICE_NEEDS_RESET or dropped): contained if honest I/O works
		      */
}

/* ---------------------------------------------------------------- requests */
struct req {
	struct blk_hdr *hdr;
	volatile uint8_t *status;
	unsigned n; /* descriptors so far */
};

static void req_start(struct dev *d, struct req *q, uint32_t type, uint64_t sector)
{
	q->hdr = dma_alloc(sizeof(*q->hdr), 16);
	q->status = dma_alloc(1, 1);
	q->hdr->type = type;
	q->hdr->sector = sector;
	*q->status = 0xee;
	q->n = 0;
	vq_desc(&d->v.q[0], q->n, (uint64_t)q->hdr, sizeof(*q->hdr), VRING_F_NEXT, q->n + 1);
	q->n++;
}

static void req_add(struct dev *d, struct req *q, uint64_t addr, uint32_t len, uint16_t flags)
{
	vq_desc(&d->v.q[0], q->n, addr, len, flags | VRING_F_NEXT, q->n + 1);
	q->n++;
}

static void req_submit(struct dev *d, struct req *q)
{
	vq_desc(&d->v.q[0], q->n, (uint64_t)q->status, 1, VRING_F_WRITE, 0);
	vq_publish(&d->v.q[0], 0);
	vio_notify(&d->v, 0);
}

/* ---------------------------------------------------------------- blk cases */
/* The attack: header, eight 512 MiB descriptors over the guest's
 * whole RAM, a 512-byte tail, the status byte: 4 GiB + 528 readable bytes,
 * 528 if narrowed to 32 bits. */
static const char *blk_wrap(struct dev *d, uint32_t type)
{
	const char *err = dev_up(d);
	if (err)
		return err;
	size_t mark = dma_mark();
	struct req q;
	req_start(d, &q, type, 0);
	for (unsigned i = 0; i < 8; i++)
		req_add(d, &q, GUEST_RAM_BASE, (uint32_t)GUEST_RAM_SIZE, 0);
	uint8_t *tail = dma_alloc(512, 16);
	/* for DISCARD/WRITE_ZEROES the last 16 bytes read as one honest segment */
	memset(tail, 0, 512);
	tail[8] = 1; /* {sector 0, 1 sector, flags 0} */
	req_add(d, &q, (uint64_t)tail, type == VIRTIO_BLK_T_OUT ? 512 : 16, 0);
	req_submit(d, &q);
	err = refused(d, q.status, "4 GiB + 528 readable bytes");
	dma_release(mark);
	return err;
}

static const char *blk_wrap_write_med(void)
{
	return blk_wrap(&med, VIRTIO_BLK_T_OUT);
}
static const char *blk_wrap_discard_med(void)
{
	return blk_wrap(&med, VIRTIO_BLK_T_DISCARD);
}
static const char *blk_wrap_write_zeroes_med(void)
{
	return blk_wrap(&med, VIRTIO_BLK_T_WRITE_ZEROES);
}
static const char *blk_wrap_write_hv(void)
{
	return blk_wrap(&hvd, VIRTIO_BLK_T_OUT);
}
static const char *blk_wrap_discard_hv(void)
{
	return blk_wrap(&hvd, VIRTIO_BLK_T_DISCARD);
}

/* The read direction: sixteen 256 MiB device-writable descriptors over the
 * scratch half, a 512-byte tail and the status: 4 GiB + 513 writable bytes. */
static const char *blk_wrap_read(struct dev *d)
{
	const char *err = dev_up(d);
	if (err)
		return err;
	size_t mark = dma_mark();
	struct req q;
	req_start(d, &q, VIRTIO_BLK_T_IN, 0);
	for (unsigned i = 0; i < 16; i++)
		req_add(d, &q, SCRATCH, (uint32_t)SCRATCH_SIZE, VRING_F_WRITE);
	uint8_t *tail = dma_alloc(512, 16);
	req_add(d, &q, (uint64_t)tail, 512, VRING_F_WRITE);
	req_submit(d, &q);
	err = refused(d, q.status, "4 GiB + 513 writable bytes");
	dma_release(mark);
	return err;
}

static const char *blk_wrap_read_med(void)
{
	return blk_wrap_read(&med);
}
static const char *blk_wrap_read_hv(void)
{
	return blk_wrap_read(&hvd);
}

/* Requests the device must refuse by their size or sector. */
struct bad_req {
	const char *what;
	uint32_t type;
	uint64_t sector; /* ~0: capacity - 1 */
	unsigned nbufs;
	uint32_t buf_len;
};

static const struct bad_req oversized[] = {
	/* beyond the largest request of any disk (mediated: 1 MiB, hv: 64 KiB) */
	{"write of 1 MiB + 512", VIRTIO_BLK_T_OUT, 0, 1, (1 << 20) + 512},
	{"read of 1 MiB + 512", VIRTIO_BLK_T_IN, 0, 1, (1 << 20) + 512},
	{"20 x 64 KiB read", VIRTIO_BLK_T_IN, 0, 20, 64 << 10},
	{"256 MiB write", VIRTIO_BLK_T_OUT, 0, 1, 256 << 20},
	{"read at sector 2^64-1", VIRTIO_BLK_T_IN, 0xffffffffffffffffULL, 1, 4096},
	{"read at sector 2^63", VIRTIO_BLK_T_IN, 1ULL << 63, 1, 4096},
	{"write across the end", VIRTIO_BLK_T_OUT, ~0ULL - 1, 1, 4096},
	{"write of 513 bytes", VIRTIO_BLK_T_OUT, 0, 1, 513},
	{"discard of 4 GiB sectors", VIRTIO_BLK_T_DISCARD, 0, 1, 16},
	{"write-zeroes past the end", VIRTIO_BLK_T_WRITE_ZEROES, ~0ULL - 1, 1, 16},
};

static const char *blk_oversized(struct dev *d)
{
	uint64_t cap = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(oversized); i++) {
		const struct bad_req *b = &oversized[i];
		const char *err = dev_up(d);
		if (err)
			return err;
		cap = blk_capacity(&d->v);
		size_t mark = dma_mark();
		struct req q;
		uint64_t sector = b->sector == ~0ULL - 1 ? cap - 1 : b->sector;
		req_start(d, &q, b->type, sector);
		uint8_t *seg = (uint8_t *)SCRATCH;
		if (b->type == VIRTIO_BLK_T_DISCARD || b->type == VIRTIO_BLK_T_WRITE_ZEROES) {
			memset(seg, 0, 16);
			uint64_t s = b->type == VIRTIO_BLK_T_DISCARD ? 0 : cap - 1;
			uint32_t n = b->type == VIRTIO_BLK_T_DISCARD ? 0xffffffffu : 8;
			memcpy(seg, &s, 8);
			memcpy(seg + 8, &n, 4);
		}
		bool in = b->type == VIRTIO_BLK_T_IN;
		for (unsigned k = 0; k < b->nbufs; k++)
			req_add(d, &q, SCRATCH + (uint64_t)k * b->buf_len, b->buf_len,
				in ? VRING_F_WRITE : 0);
		req_submit(d, &q);
		err = refused(d, q.status, b->what);
		dma_release(mark);
		if (err)
			return err;
	}
	return NULL;
}

static const char *blk_oversized_med(void)
{
	return blk_oversized(&med);
}
static const char *blk_oversized_hv(void)
{
	return blk_oversized(&hvd);
}

/* Malformed chains: each one gets its own fresh device; whatever the device
 * answers (except a crash) is fine, the containment check decides. */
static const char *blk_malformed(struct dev *d)
{
	unsigned variants = 0;

	for (unsigned v = 0;; v++) {
		const char *err = dev_up(d);
		if (err)
			return err;
		struct vq *q = &d->v.q[0];
		size_t mark = dma_mark();
		struct blk_hdr *hdr = dma_alloc(16, 16);
		volatile uint8_t *st = dma_alloc(1, 1);
		struct vring_desc *ind = dma_alloc(16 * 128, 16);
		hdr->type = VIRTIO_BLK_T_IN;
		hdr->sector = 8;
		uint16_t head = 0;
		switch (v) {
		case 0: /* a loop: 0 -> 1 -> 0 */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, SCRATCH, 512, VRING_F_NEXT | VRING_F_WRITE, 0);
			break;
		case 1: /* a self loop on a writable buffer */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, SCRATCH, 512, VRING_F_NEXT | VRING_F_WRITE, 1);
			break;
		case 2: /* head out of range */
			head = 0x1234;
			break;
		case 3: /* next out of range */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 0xffff);
			break;
		case 4: /* no status byte: all readable */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, SCRATCH, 512, 0, 0);
			break;
		case 5: /* zero-length status */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, (uint64_t)st, 0, VRING_F_WRITE, 0);
			break;
		case 6: /* readable after writable */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, SCRATCH, 512, VRING_F_NEXT | VRING_F_WRITE, 2);
			vq_desc(q, 2, SCRATCH, 512, VRING_F_NEXT, 3);
			vq_desc(q, 3, (uint64_t)st, 1, VRING_F_WRITE, 0);
			break;
		case 7: /* header shorter than 16 bytes */
			vq_desc(q, 0, (uint64_t)hdr, 7, VRING_F_NEXT, 1);
			vq_desc(q, 1, (uint64_t)st, 1, VRING_F_WRITE, 0);
			break;
		case 8: /* buffer outside RAM: the device's own window, the GIC, IPA 0 */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, VIRTIO_MMIO_BASE(d->slot), 512, VRING_F_NEXT | VRING_F_WRITE,
				2);
			vq_desc(q, 2, GUEST_GICD_BASE, 512, VRING_F_NEXT | VRING_F_WRITE, 3);
			vq_desc(q, 3, 0, 1, VRING_F_WRITE, 0);
			break;
		case 9: /* a buffer crossing the end of RAM, one wrapping 2^64 */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, UNMAPPED_RAM_END - 256, 512, VRING_F_NEXT | VRING_F_WRITE, 2);
			vq_desc(q, 2, ~0ULL - 255, 512, VRING_F_NEXT | VRING_F_WRITE, 3);
			vq_desc(q, 3, (uint64_t)st, 1, VRING_F_WRITE, 0);
			break;
		case 10: /* overlapping: data over the descriptor table and the used ring,
			  * the status byte inside the header */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, (uint64_t)q->desc, 1024, VRING_F_NEXT | VRING_F_WRITE, 2);
			vq_desc(q, 2, (uint64_t)q->used, 512, VRING_F_NEXT | VRING_F_WRITE, 3);
			vq_desc(q, 3, (uint64_t)hdr + 8, 1, VRING_F_WRITE, 0);
			break;
		case 11: /* overlapping writable buffers, the same 4 KiB 60 times */
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			for (unsigned i = 1; i < 61; i++)
				vq_desc(q, i, SCRATCH, 1024, VRING_F_NEXT | VRING_F_WRITE, i + 1);
			vq_desc(q, 61, (uint64_t)st, 1, VRING_F_WRITE, 0);
			break;
		case 12: /* a write whose data is the descriptor table itself */
			hdr->type = VIRTIO_BLK_T_OUT;
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, (uint64_t)q->desc, 1024, VRING_F_NEXT, 2);
			vq_desc(q, 2, (uint64_t)st, 1, VRING_F_WRITE, 0);
			break;
		case 13: /* nested indirect */
			ind[0] = (struct vring_desc){(uint64_t)(ind + 4), 64, VRING_F_INDIRECT, 0};
			vq_desc(q, 0, (uint64_t)ind, 16, VRING_F_INDIRECT, 0);
			break;
		case 14: /* indirect of length 0, 17, 2^32-16, 259 entries (the
			  * longest chain a device takes is 258: a 1 MiB request) */
		case 15:
		case 16:
		case 17: {
			static const uint32_t lens[] = {0, 17, 0xfffffff0u, 259 * 16};
			ind[0] = (struct vring_desc){(uint64_t)hdr, 16, VRING_F_NEXT, 1};
			ind[1] = (struct vring_desc){(uint64_t)st, 1, VRING_F_WRITE, 0};
			vq_desc(q, 0, (uint64_t)ind, lens[v - 14], VRING_F_INDIRECT, 0);
			break;
		}
		case 18: /* indirect table outside RAM, misaligned, with NEXT, in MMIO */
			vq_desc(q, 0, 0x1000, 32, VRING_F_INDIRECT | VRING_F_NEXT, 1);
			vq_desc(q, 1, (uint64_t)ind + 8, 32, VRING_F_INDIRECT, 0);
			break;
		case 19:
			vq_desc(q, 0, (uint64_t)ind + 8, 32, VRING_F_INDIRECT, 0);
			break;
		case 20:
			vq_desc(q, 0, VIRTIO_MMIO_BASE(d->slot), 32, VRING_F_INDIRECT, 0);
			break;
		case 21: /* a loop inside an indirect table */
			ind[0] = (struct vring_desc){(uint64_t)hdr, 16, VRING_F_NEXT, 1};
			ind[1] = (struct vring_desc){SCRATCH, 512, VRING_F_NEXT | VRING_F_WRITE, 0};
			vq_desc(q, 0, (uint64_t)ind, 32, VRING_F_INDIRECT, 0);
			break;
		case 22: /* 128 indirect entries, 126 of them 2 MiB writable over scratch */
			ind[0] = (struct vring_desc){(uint64_t)hdr, 16, VRING_F_NEXT, 1};
			for (unsigned i = 1; i < 127; i++)
				ind[i] = (struct vring_desc){SCRATCH, 2 << 20,
							     VRING_F_NEXT | VRING_F_WRITE,
							     (uint16_t)(i + 1)};
			ind[127] = (struct vring_desc){(uint64_t)st, 1, VRING_F_WRITE, 0};
			vq_desc(q, 0, (uint64_t)ind, 128 * 16, VRING_F_INDIRECT, 0);
			break;
		default:
			dma_release(mark);
			snprintf(detail, sizeof(detail), "%u malformed chains", variants);
			return NULL;
		}
		dsb();
		vq_publish(q, head);
		vio_notify(&d->v, 0);
		uint32_t len;
		bool may_succeed = v == 10 || v == 11 || v == 12; /* odd but valid requests */
		if (vq_poll(q, 500, NULL, &len) == 0 && *st == VIRTIO_BLK_S_OK && !may_succeed)
			err = why("malformed chain %u answered with status OK", v);
		dma_release(mark);
		if (err)
			return err;
		variants++;
	}
}

static const char *blk_malformed_med(void)
{
	return blk_malformed(&med);
}
static const char *blk_malformed_hv(void)
{
	return blk_malformed(&hvd);
}

/* avail->idx jumps by more than the queue size, then wraps to 65535. */
static const char *blk_avail_jump(struct dev *d)
{
	static const uint16_t jumps[] = {65, 1000, 0xffff, 0x8000};

	for (unsigned i = 0; i < ARRAY_SIZE(jumps); i++) {
		const char *err = dev_up(d);
		if (err)
			return err;
		struct vq *q = &d->v.q[0];
		q->avail[1] = jumps[i];
		dsb();
		vio_notify(&d->v, 0);
		delay_us(20000);
		if (vq_used_pending(q))
			return why("avail idx %u: %u used entries appeared", jumps[i],
				   vq_used_pending(q));
	}
	return NULL;
}

static const char *blk_avail_jump_med(void)
{
	return blk_avail_jump(&med);
}

/* Queue set-up with rings outside RAM, unaligned, in MMIO, crossing the end
 * of RAM, and bad sizes: the queue must not go live, or the device must ask
 * for a reset. */
static const char *blk_bad_rings(struct dev *d)
{
	struct bad_ring {
		uint32_t num;
		uint64_t desc, avail, used;
	} rings[] = {
		{0, SCRATCH, SCRATCH + 8192, SCRATCH + 16384},
		{3, SCRATCH, SCRATCH + 8192, SCRATCH + 16384},
		{512, SCRATCH, SCRATCH + 8192, SCRATCH + 16384},
		{0xffff, SCRATCH, SCRATCH + 8192, SCRATCH + 16384},
		{64, 0, SCRATCH + 8192, SCRATCH + 16384},
		{64, SCRATCH + 8, SCRATCH + 8192, SCRATCH + 16384},
		{64, SCRATCH, SCRATCH + 8193, SCRATCH + 16386},
		{64, VIRTIO_MMIO_BASE(d->slot), SCRATCH + 8192, SCRATCH + 16384},
		{64, SCRATCH, SCRATCH + 8192, UNMAPPED_RAM_END - 64},
		{64, ~0ULL - 1023, SCRATCH + 8192, SCRATCH + 16384},
		{64, GUEST_GICD_BASE, GUEST_UART_BASE, UNMAPPED_RAM_END},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(rings); i++) {
		struct vdev *v = &d->v;
		if (vio_probe(v, VIRTIO_MMIO_BASE(d->slot), d->id) || vio_reset(v))
			return why("ring set %u: the device did not reset", i);
		vio_write(v, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER);
		vio_write(v, VIO_DRIVER_FEATURES_SEL, 1);
		vio_write(v, VIO_DRIVER_FEATURES, 1);
		vio_write(v, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK);
		vio_write(v, VIO_QUEUE_SEL, 0);
		vio_write(v, VIO_QUEUE_NUM, rings[i].num);
		vio_write(v, VIO_QUEUE_DESC_LOW, (uint32_t)rings[i].desc);
		vio_write(v, VIO_QUEUE_DESC_HIGH, (uint32_t)(rings[i].desc >> 32));
		vio_write(v, VIO_QUEUE_DRIVER_LOW, (uint32_t)rings[i].avail);
		vio_write(v, VIO_QUEUE_DRIVER_HIGH, (uint32_t)(rings[i].avail >> 32));
		vio_write(v, VIO_QUEUE_DEVICE_LOW, (uint32_t)rings[i].used);
		vio_write(v, VIO_QUEUE_DEVICE_HIGH, (uint32_t)(rings[i].used >> 32));
		vio_write(v, VIO_QUEUE_READY, 1);
		vio_write(v, VIO_STATUS,
			  VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK | VIO_S_DRIVER_OK);
		vio_write(v, VIO_QUEUE_NOTIFY, 0);
		if (vio_read(v, VIO_QUEUE_READY) && !needs_reset(d))
			return why(
				"ring set %u (num %u desc 0x%lx avail 0x%lx used 0x%lx) went live",
				i, rings[i].num, rings[i].desc, rings[i].avail, rings[i].used);
	}
	return NULL;
}

static const char *blk_bad_rings_med(void)
{
	return blk_bad_rings(&med);
}

/* Requests the device answers by itself (unknown type, out of range, GET_ID)
 * are republished as fast as they come back: the device must keep answering
 * without starving anyone. After 1 s an honest read joins the queue; it must
 * be served within 5 s while the storm goes on (the mediated device answers
 * on the MVM's CPUs, which must not be held by this queue). */
static const char *blk_self_answer_storm(struct dev *d)
{
	const char *err = dev_up(d);
	if (err)
		return err;
	struct vq *q = &d->v.q[0];
	size_t mark = dma_mark();
	unsigned chains = q->num / 2 - 2, honest = q->num - 3;
	struct blk_hdr *hdr = dma_alloc(16 * (chains + 1), 16);
	uint8_t *st = dma_alloc(chains + 1, 1);
	uint8_t *id = dma_alloc(32 * chains, 16);
	uint8_t *data = dma_alloc(4096, 4096);
	uint32_t types[3] = {0x7777, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_GET_ID};

	for (unsigned c = 0; c < chains; c++) {
		hdr[c].type = types[c % 3];
		hdr[c].sector = 1ULL << 40;
		vq_desc(q, 2 * c, (uint64_t)&hdr[c], 16, VRING_F_NEXT, 2 * c + 1);
		if (hdr[c].type == VIRTIO_BLK_T_GET_ID)
			vq_desc(q, 2 * c + 1, (uint64_t)&id[32 * c], 20 + 1, VRING_F_WRITE, 0);
		else
			vq_desc(q, 2 * c + 1, (uint64_t)&st[c], 1, VRING_F_WRITE, 0);
		vq_publish(q, (uint16_t)(2 * c));
	}
	hdr[chains] = (struct blk_hdr){VIRTIO_BLK_T_IN, 0, 2048};
	st[chains] = 0xee;
	vq_desc(q, honest, (uint64_t)&hdr[chains], 16, VRING_F_NEXT, honest + 1);
	vq_desc(q, honest + 1, (uint64_t)data, 4096, VRING_F_NEXT | VRING_F_WRITE, honest + 2);
	vq_desc(q, honest + 2, (uint64_t)&st[chains], 1, VRING_F_WRITE, 0);
	vio_notify(&d->v, 0);
	uint64_t start = time_ms(), sent_at = 0, served_at = 0;
	unsigned answered = 0, notifies = 1;
	for (;;) {
		uint64_t now = time_ms();
		if (now > start + 3000 && (served_at || now > sent_at + 5000))
			break;
		if (!sent_at && now > start + 1000) {
			vq_publish(q, (uint16_t)honest);
			sent_at = now;
		}
		uint32_t head;
		bool any = false;
		while (vq_used_pending(q) && vq_poll(q, 0, &head, NULL) == 0) {
			if (head == honest) {
				served_at = time_ms();
				continue;
			}
			vq_publish(q, (uint16_t)head);
			answered++;
			any = true;
		}
		if (any || (rnd() & 63) == 0) {
			vio_notify(&d->v, 0);
			notifies++;
		}
		if (needs_reset(d)) {
			err = why("the device asked for a reset after %u answers", answered);
			break;
		}
	}
	if (!err && answered < chains)
		err = why("only %u of %u requests answered", answered, chains);
	if (!err && !served_at)
		err = why("an honest read waited more than 5 s behind %u self-answered requests",
			  answered);
	if (!err && st[chains] != VIRTIO_BLK_S_OK)
		err = why("the honest read during the storm: status %u", st[chains]);
	dma_release(mark);
	snprintf(detail, sizeof(detail),
		 "%u self-answered requests, %u notifies; an honest read served in %lu ms",
		 answered, notifies, served_at ? served_at - sent_at : 0);
	return err;
}

static const char *blk_self_answer_storm_med(void)
{
	return blk_self_answer_storm(&med);
}
static const char *blk_self_answer_storm_hv(void)
{
	return blk_self_answer_storm(&hvd);
}

/* QueueNotify in a tight loop for 2 s (valid, invalid and absent queues). */
static const char *notify_storm(struct dev *d)
{
	const char *err = dev_up(d);
	if (err)
		return err;
	uint64_t end = time_ms() + 2000;
	unsigned n = 0;
	while (time_ms() < end) {
		for (unsigned i = 0; i < 256; i++, n++)
			vio_write(&d->v, VIO_QUEUE_NOTIFY, i & 7 ? 0 : (i & 8 ? 0xffffffffu : 5));
	}
	snprintf(detail, sizeof(detail), "%u notifies in 2 s", n);
	return NULL;
}

static const char *blk_notify_storm_med(void)
{
	return notify_storm(&med);
}
static const char *net_notify_storm(void)
{
	return notify_storm(&net);
}

/* Reads in flight when the driver resets: their data must not land in the
 * buffers (the driver owns them again) nor their completions in the new
 * rings. */
static const char *blk_reset_inflight_once(struct dev *d, unsigned *done_before)
{
	const char *err = dev_up_sized(d, 256);
	if (err)
		return err;
	struct vq *q = &d->v.q[0];
	size_t mark = dma_mark();
	enum { N = 80, LEN = 64 * 1024 };
	uint8_t *buf = (uint8_t *)(SCRATCH + 64 * MIB);
	struct blk_hdr *hdr = dma_alloc(16 * N, 16);
	uint8_t *st = dma_alloc(N, 1);

	for (unsigned c = 0; c < N; c++) {
		hdr[c].type = VIRTIO_BLK_T_IN;
		hdr[c].sector = 4096 + c * (LEN / SECTOR);
		vq_desc(q, 3 * c, (uint64_t)&hdr[c], 16, VRING_F_NEXT, 3 * c + 1);
		vq_desc(q, 3 * c + 1, (uint64_t)(buf + c * LEN), LEN, VRING_F_NEXT | VRING_F_WRITE,
			3 * c + 2);
		vq_desc(q, 3 * c + 2, (uint64_t)&st[c], 1, VRING_F_WRITE, 0);
		vq_publish(q, (uint16_t)(3 * c));
	}
	vio_notify(&d->v, 0);
	/* the first completion: the others are being served (by the MVM) */
	uint64_t end = time_ms() + HONEST_TIMEOUT_MS;
	while (!vq_used_pending(q) && time_ms() < end)
		;
	*done_before = vq_used_pending(q);
	vio_write(&d->v, VIO_STATUS, 0);
	memset(buf, 0x5a, N * LEN);
	dsb();
	err = dev_up(d); /* the same ring memory, zeroed */
	if (err)
		goto out;
	delay_us(2 * 1000 * 1000);
	for (unsigned i = 0; i < N * LEN; i++)
		if (buf[i] != 0x5a) {
			err = why("byte %u of the read buffers changed after the reset (0x%x)", i,
				  buf[i]);
			goto out;
		}
	if (q->used[1] != 0)
		err = why("%u stale completions landed in the new used ring", q->used[1]);
out:
	dma_release(mark);
	return err;
}

/* Up to 4 rounds on the mediated disk, until one reset caught reads in
 * flight (the hypervisor's own backend may answer before the reset). */
static const char *blk_reset_inflight(struct dev *d)
{
	unsigned done = 0, round, rounds = d == &med ? 4 : 1;

	for (round = 1; round <= rounds; round++) {
		const char *err = blk_reset_inflight_once(d, &done);
		if (err)
			return err;
		if (done < 80)
			break;
	}
	snprintf(detail, sizeof(detail), "reset with %u of 80 reads finished (round %u)", done,
		 MIN(round, rounds));
	return NULL;
}

static const char *blk_reset_inflight_med(void)
{
	return blk_reset_inflight(&med);
}
static const char *blk_reset_inflight_hv(void)
{
	return blk_reset_inflight(&hvd);
}

/* The guest rewrites a request's descriptors and header while the device
 * (the mediated path runs on the MVM's CPUs) works on it: lengths, addresses,
 * flags, next indices and the type flip between honest and hostile values.
 * The device must read each once and check what it read. */
static const char *blk_toctou_flip(struct dev *d)
{
	const char *err = dev_up(d);
	if (err)
		return err;
	struct vq *q = &d->v.q[0];
	size_t mark = dma_mark();
	struct blk_hdr *hdr = dma_alloc(16, 16);
	volatile uint8_t *st = dma_alloc(1, 1);
	static const uint32_t lens[] = {4096, 0x20000000, 0, 0xfffffe00};
	static const uint64_t addrs[] = {SCRATCH, UNMAPPED_RAM_END - 512, 0, GUEST_RAM_BASE};
	static const uint16_t flags[] = {VRING_F_NEXT | VRING_F_WRITE,
					 VRING_F_NEXT | VRING_F_INDIRECT, VRING_F_WRITE,
					 VRING_F_NEXT};
	static const uint32_t types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_OUT,
					 VIRTIO_BLK_T_WRITE_ZEROES};
	unsigned answers = 0, resets = 0, flips = 0;
	uint64_t end = time_ms() + 3000, deadline = 0;
	bool outstanding = false;

	while (time_ms() < end) {
		if (!outstanding) {
			hdr->type = VIRTIO_BLK_T_IN;
			hdr->sector = 16;
			vq_desc(q, 0, (uint64_t)hdr, 16, VRING_F_NEXT, 1);
			vq_desc(q, 1, SCRATCH, 4096, VRING_F_NEXT | VRING_F_WRITE, 2);
			vq_desc(q, 2, (uint64_t)st, 1, VRING_F_WRITE, 0);
			vq_publish(q, 0);
			vio_notify(&d->v, 0);
			outstanding = true;
			deadline = time_ms() + 1000;
		}
		uint32_t r = rnd();
		volatile struct vring_desc *e = &q->desc[1];
		e->len = lens[r & 3];
		e->addr = addrs[r >> 2 & 3];
		e->flags = flags[r >> 4 & 3];
		q->desc[0].next = r >> 6 & 1 ? 1 : 0xffff;
		q->desc[0].len = r >> 7 & 1 ? 16 : 0xffffffff;
		hdr->type = types[r >> 8 & 3];
		hdr->sector = r >> 10 & 1 ? 16 : ~0ULL;
		flips++;
		if (vq_used_pending(q)) {
			vq_poll(q, 0, NULL, NULL);
			answers++;
			outstanding = false;
		} else if (needs_reset(d) || time_ms() > deadline) {
			if ((err = dev_up(d)))
				break;
			resets++;
			outstanding = false;
		}
	}
	dma_release(mark);
	snprintf(detail, sizeof(detail), "%u flips, %u answers, %u resets in 3 s", flips, answers,
		 resets);
	return err;
}

static const char *blk_toctou_flip_med(void)
{
	return blk_toctou_flip(&med);
}

/* ---------------------------------------------------------------- registers */
static unsigned aborts_seen;

/* One access with the abort capture armed; returns true if it aborted. */
static bool probe(uint64_t addr, unsigned width, bool write, uint64_t value)
{
	struct exc_record rec;

	exc_expect(&rec, 0);
	if (write) {
		switch (width) {
		case 1:
			mmio_write8(addr, (uint8_t)value);
			break;
		case 2:
			mmio_write16(addr, (uint16_t)value);
			break;
		case 4:
			mmio_write32(addr, (uint32_t)value);
			break;
		default:
			mmio_write64(addr, value);
			break;
		}
	} else {
		switch (width) {
		case 1:
			(void)mmio_read8(addr);
			break;
		case 2:
			(void)mmio_read16(addr);
			break;
		case 4:
			(void)mmio_read32(addr);
			break;
		default:
			(void)mmio_read64(addr);
			break;
		}
	}
	exc_disarm();
	aborts_seen += rec.count != 0;
	return rec.count != 0;
}

/* Every offset of the 512-byte window, widths 1/2/4/8 (aligned and not),
 * read and written with hostile values, once with live queues and once
 * after a reset. Aborts for refused accesses are fine. */
static const char *virtio_registers(struct dev *d)
{
	static const uint32_t values[] = {0xffffffffu, 0x80000000u, 0, 0x12345678u, 64, 1};
	unsigned accesses = 0;

	aborts_seen = 0;
	for (unsigned pass = 0; pass < 2; pass++) {
		const char *err = dev_up(d);
		if (err)
			return err;
		if (pass)
			vio_reset(&d->v);
		for (unsigned off = 0; off < VIO_WINDOW; off++) {
			for (unsigned w = 1; w <= 8; w *= 2) {
				if ((off & (w - 1)) && (off & 3) != 1)
					continue; /* unaligned only at odd offsets */
				uint64_t a = d->v.base + off;
				probe(a, w, false, 0);
				accesses++;
				if (off == VIO_STATUS && w == 4)
					continue; /* resets: covered below */
				probe(a, w, true, values[(off / 4 + w) % ARRAY_SIZE(values)]);
				accesses++;
			}
		}
		vio_write(&d->v, VIO_STATUS, 0xff);
		vio_write(&d->v, VIO_QUEUE_SEL, 0xffffffffu);
		vio_write(&d->v, VIO_QUEUE_READY, 1);
		vio_write(&d->v, VIO_QUEUE_NOTIFY, 0xffff);
		vio_write(&d->v, VIO_DEVICE_FEATURES_SEL, 0xffffffffu);
		(void)vio_read(&d->v, VIO_DEVICE_FEATURES);
	}
	/* features the device does not offer: FEATURES_OK must not stick */
	vio_reset(&d->v);
	vio_write(&d->v, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER);
	vio_write(&d->v, VIO_DRIVER_FEATURES_SEL, 0);
	vio_write(&d->v, VIO_DRIVER_FEATURES, 0xffffffffu);
	vio_write(&d->v, VIO_DRIVER_FEATURES_SEL, 1);
	vio_write(&d->v, VIO_DRIVER_FEATURES, 0xffffffffu);
	vio_write(&d->v, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK);
	if (vio_read(&d->v, VIO_STATUS) & VIO_S_FEATURES_OK)
		return why("FEATURES_OK accepted with every feature bit set");
	/* DRIVER_OK without FEATURES_OK, then a notify */
	vio_reset(&d->v);
	vio_write(&d->v, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_DRIVER_OK);
	vio_write(&d->v, VIO_QUEUE_SEL, 0);
	vio_write(&d->v, VIO_QUEUE_READY, 1);
	vio_write(&d->v, VIO_QUEUE_NOTIFY, 0);
	snprintf(detail, sizeof(detail), "%u accesses, %u aborted", accesses, aborts_seen);
	return NULL;
}

static const char *med_registers(void)
{
	return virtio_registers(&med);
}
static const char *hv_registers(void)
{
	return virtio_registers(&hvd);
}
static const char *net_registers(void)
{
	return virtio_registers(&net);
}
static const char *con_registers(void)
{
	return virtio_registers(&con);
}

/* ---------------------------------------------------------------- interrupts */
#define GICD_CTLR 0x000
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_SGIR 0xf00
#define GICD_IROUTER 0x6000
#define GICR_SGI_FRAME 0x10000
#define GICC_CTLR 0x000
#define GICC_PMR 0x004
#define GICC_IAR 0x00c
#define GICC_EOIR 0x010
#define UART_IMSC 0x038
#define UART_INT_TX (1u << 5)
#define UART_INTID 33

static bool irq_v3;
static volatile unsigned irq_count, irq_phase; /* 1: SGI ping-pong, 2: PL011 TX */
static uint64_t irq_end;                       /* the handler stops re-triggering then */

static uint64_t private_base(void)
{
	return irq_v3 ? GUEST_GICR_BASE + GICR_SGI_FRAME : GUEST_GICD_BASE;
}

static void sgi_to_self(unsigned intid)
{
	dsb();
	if (irq_v3) {
		write_sysreg(s3_0_c12_c11_5, (uint64_t)intid << 24 | 1); /* ICC_SGI1R_EL1, Aff0 0 */
		isb();
	} else {
		mmio_write32(GUEST_GICD_BASE + GICD_SGIR, 2u << 24 | intid);
	}
}

/* Every interrupt triggers the next one: this vCPU is busy with its own
 * interrupts, the other VMs must not notice. */
static void storm_irq(struct exc_frame *f)
{
	(void)f;
	uint32_t iar = irq_v3 ? (uint32_t)read_sysreg(s3_0_c12_c12_0) /* ICC_IAR1_EL1 */
			      : mmio_read32(GUEST_GICC_BASE + GICC_IAR);
	uint32_t intid = iar & (irq_v3 ? 0xffffff : 0x3ff);
	if (intid >= 1020)
		return;
	irq_count++;
	if (time_ms() >= irq_end)
		irq_phase = 0;
	if (irq_phase == 1 && intid == 1)
		sgi_to_self(1);
	else if (irq_phase == 2 && intid == UART_INTID) {
		/* the emulated PL011 raises TX on an unmask (not as a level) */
		mmio_write32(GUEST_UART_BASE + UART_IMSC, 0);
		mmio_write32(GUEST_UART_BASE + UART_IMSC, UART_INT_TX);
	}
	if (irq_v3) {
		write_sysreg(s3_0_c12_c12_1, iar); /* ICC_EOIR1_EL1 */
		isb();
	} else {
		mmio_write32(GUEST_GICC_BASE + GICC_EOIR, iar);
	}
}

static const char *irq_storm(void)
{
	unsigned counts[2];

	irq_v3 = (read_sysreg(id_aa64pfr0_el1) >> 24 & 0xf) != 0;
	mmio_write32(GUEST_GICD_BASE + GICD_CTLR, irq_v3 ? 0x12 : 1);
	if (irq_v3) {
		write_sysreg(s3_0_c12_c12_5, 7); /* ICC_SRE_EL1 */
		isb();
		write_sysreg(s3_0_c4_c6_0, 0xff); /* ICC_PMR_EL1 */
		write_sysreg(s3_0_c12_c12_7, 1);  /* ICC_IGRPEN1_EL1 */
		isb();
		mmio_write64(GUEST_GICD_BASE + GICD_IROUTER + 8 * UART_INTID, 0);
	} else {
		mmio_write32(GUEST_GICC_BASE + GICC_PMR, 0xff);
		mmio_write32(GUEST_GICC_BASE + GICC_CTLR, 1);
		mmio_write8(GUEST_GICD_BASE + GICD_ITARGETSR + UART_INTID, 1);
	}
	mmio_write8(private_base() + GICD_IPRIORITYR + 1, 0xa0);
	mmio_write8(GUEST_GICD_BASE + GICD_IPRIORITYR + UART_INTID, 0xa0);
	mmio_write32(private_base() + GICD_ISENABLER, 1u << 1);
	mmio_write32(GUEST_GICD_BASE + GICD_ISENABLER + 4, 1u << (UART_INTID - 32));
	irq_handler = storm_irq;
	for (unsigned phase = 1; phase <= 2; phase++) {
		irq_count = 0;
		irq_end = time_ms() + 1500;
		irq_phase = phase;
		__asm__ volatile("msr daifclr, #2" ::: "memory");
		if (phase == 1)
			sgi_to_self(1);
		else
			mmio_write32(GUEST_UART_BASE + UART_IMSC, UART_INT_TX);
		while (time_ms() < irq_end + 20) /* the main line runs only between interrupts */
			;
		irq_phase = 0;
		mmio_write32(GUEST_UART_BASE + UART_IMSC, 0);
		delay_us(20 * 1000);
		__asm__ volatile("msr daifset, #2" ::: "memory");
		counts[phase - 1] = irq_count;
	}
	mmio_write32(private_base() + GICD_ICENABLER, 1u << 1);
	mmio_write32(GUEST_GICD_BASE + GICD_ICENABLER + 4, 1u << (UART_INTID - 32));
	irq_handler = NULL;
	snprintf(detail, sizeof(detail), "GICv%u: %u self-SGIs, %u PL011 interrupts in 1.5 s each",
		 irq_v3 ? 3u : 2u, counts[0], counts[1]);
	if (counts[0] < 10 || counts[1] < 10)
		return why("interrupts did not flow: %u SGIs, %u PL011 interrupts", counts[0],
			   counts[1]);
	return NULL;
}

/* The PL011: every register, all widths, except writes to DR (output). */
static const char *uart_registers(void)
{
	unsigned accesses = 0;

	aborts_seen = 0;
	for (unsigned off = 0; off < 0x1000; off += 2) {
		for (unsigned w = 1; w <= 8; w *= 2) {
			if (off & (w - 1))
				continue;
			uint64_t a = GUEST_UART_BASE + off;
			probe(a, w, false, 0);
			accesses++;
			if (off < 4)
				continue;
			uint32_t v = off == 0x038 ? 0 : rnd(); /* IMSC: keep interrupts off */
			if (off == 0x030)
				v = 0x301; /* CR: keep it enabled */
			probe(a, w, true, v);
			accesses++;
		}
	}
	snprintf(detail, sizeof(detail), "%u accesses, %u aborted", accesses, aborts_seen);
	return NULL;
}

/* The vGIC: the distributor and our redistributor (GICv3) or CPU interface
 * (GICv2), read and written with random values: every bank register at
 * word steps, the rest sparsely, other widths at some offsets. The other
 * VMs' interrupts must keep flowing (their workloads check it). */
static void sweep(uint64_t base, uint64_t size, uint64_t dense, unsigned *n)
{
	for (uint64_t off = 0; off < size; off += off < dense ? 4 : 64) {
		probe(base + off, 4, false, 0);
		probe(base + off, 4, true, rnd());
		*n += 2;
		if ((off & 0xff) == 0) {
			probe(base + off + 1, 1, true, rnd());
			probe(base + off, 8, false, 0);
			probe(base + off, 8, true, (uint64_t)rnd() << 32 | rnd());
			*n += 3;
		}
	}
}

static const char *gic_registers(void)
{
	bool v3 = (read_sysreg(id_aa64pfr0_el1) >> 24 & 0xf) != 0;
	unsigned n = 0;

	aborts_seen = 0;
	sweep(GUEST_GICD_BASE, 0x10000, 0x1000, &n);
	if (v3) {
		sweep(GUEST_GICR_BASE, 0x10000, 0x200, &n);            /* RD frame */
		sweep(GUEST_GICR_BASE + 0x10000, 0x10000, 0x1000, &n); /* SGI frame */
		sweep(GUEST_GICR_BASE + 0x20000, 0x1000, 0, &n);       /* no second vCPU */
	} else {
		sweep(GUEST_GICC_BASE, 0x2000, 0x100, &n);
	}
	snprintf(detail, sizeof(detail), "GICv%u, %u accesses, %u aborted", v3 ? 3u : 2u, n,
		 aborts_seen);
	return NULL;
}

/* System registers the hypervisor traps or should (PMU, debug, OS lock,
 * implementation defined, GIC SGI registers, secure timer), 200 times each:
 * each access is emulated or UNDEFINED, and the log stays rate-limited. */
#define SYSREG_PROBE(insn, ...)                                                   \
	do {                                                                      \
		exc_expect(&rec, 0);                                              \
		__asm__ volatile(insn __VA_ARGS__);                               \
		exc_disarm();                                                     \
		if (rec.count && ESR_EC(rec.esr) != 0 && ESR_EC(rec.esr) != 0x18) \
			return why("%s: exception esr 0x%lx", insn, rec.esr);     \
		undefs += rec.count != 0;                                         \
		n++;                                                              \
	} while (0)

static const char *sysreg_traps(void)
{
	struct exc_record rec;
	unsigned n = 0, undefs = 0;
	uint64_t v = 0, w = 0;

	for (unsigned i = 0; i < 200; i++) {
		w = rnd();
		SYSREG_PROBE("mrs %0, s3_3_c9_c12_0", : "=r"(v)); /* PMCR_EL0 */
		SYSREG_PROBE("msr s3_3_c9_c12_0, %0", ::"r"(w & ~1UL));
		SYSREG_PROBE("mrs %0, s3_3_c9_c13_0", : "=r"(v));   /* PMCCNTR_EL0 */
		SYSREG_PROBE("mrs %0, s2_0_c0_c2_2", : "=r"(v));    /* MDSCR_EL1 */
		SYSREG_PROBE("msr s2_0_c1_c0_4, %0", ::"r"(w & 1)); /* OSLAR_EL1 */
		SYSREG_PROBE("mrs %0, s2_0_c1_c3_4", : "=r"(v));    /* OSDLR_EL1 */
		SYSREG_PROBE("msr s2_0_c0_c0_4, %0", ::"r"(w));     /* DBGBVR0_EL1 */
		SYSREG_PROBE("mrs %0, s2_0_c0_c0_5", : "=r"(v));    /* DBGBCR0_EL1 */
		SYSREG_PROBE("mrs %0, s3_0_c1_c0_1", : "=r"(v));    /* ACTLR_EL1 */
		SYSREG_PROBE("mrs %0, s3_1_c15_c2_0", : "=r"(v));   /* CPUACTLR_EL1 (A57) */
		SYSREG_PROBE("msr s3_0_c12_c11_7, %0", ::"r"(w));   /* ICC_SGI0R_EL1 */
		SYSREG_PROBE("msr s3_0_c12_c11_6, %0", ::"r"(w));   /* ICC_ASGI1R_EL1 */
		SYSREG_PROBE("mrs %0, s3_7_c14_c2_1", : "=r"(v));   /* CNTPS_CTL_EL1 */
		SYSREG_PROBE("dc cisw, %0", ::"r"(w & 0xfe));       /* set/way maintenance */
	}
	(void)v;
	snprintf(detail, sizeof(detail), "%u accesses, %u undefined", n, undefs);
	return NULL;
}

/* ---------------------------------------------------------------- console */
/* One TX chain of 64 descriptors x 4 MiB (256 MiB), a few times: the
 * hypervisor, the console and the other VMs must keep going. */
static const char *con_huge_tx(void)
{
	const char *err = dev_up(&con);
	if (err)
		return err;
	struct vq *q = &con.v.q[1];
	char *text = (char *)SCRATCH;
	/* one visible line, then carriage returns (dropped at a line start): the
	 * console still walks what it takes of the chain, the log stays short */
	int n = snprintf(text, 128, "hostile: a 256 MiB hvc0 chain begins here\n");
	memset(text + n, '\r', 4 * MIB - (size_t)n);
	uint64_t start = time_ms();
	for (unsigned rep = 0; rep < 4; rep++) {
		for (unsigned i = 0; i < 64; i++)
			vq_desc(q, i, SCRATCH, 4 * MIB, i < 63 ? VRING_F_NEXT : 0, i + 1);
		vq_publish(q, 0);
		vio_notify(&con.v, 1);
		if (vq_poll(q, 60000, NULL, NULL))
			return why("a 256 MiB chain was not returned within 60 s");
	}
	snprintf(detail, sizeof(detail), "4 x 256 MiB chains returned in %lu ms",
		 time_ms() - start);
	return NULL;
}

/* Typed input into hvc0 (the scenario types when asked): first into receive
 * buffers the device may not write (readable ones: it must flag
 * DEVICE_NEEDS_RESET and leave them alone), then after a reset into honest
 * one-byte buffers, which must get exactly what was typed. */
static const char *con_rx(void)
{
	const char *err = dev_up(&con);
	if (err)
		return err;
	struct vq *q = &con.v.q[0];
	size_t mark = dma_mark();
	uint8_t *b = dma_alloc(64, 16);

	memset(b, 0x77, 64);
	for (unsigned i = 0; i < 4; i++) {
		vq_desc(q, i, (uint64_t)b + 16 * i, 16, 0, 0);
		vq_publish(q, (uint16_t)i);
	}
	printf("hostile: hvc0 input wanted (bad)\n");
	uint64_t end = time_ms() + 30000;
	while (!needs_reset(&con) && !vq_used_pending(q) && time_ms() < end)
		;
	for (unsigned i = 0; i < 64 && !err; i++)
		if (b[i] != 0x77)
			err = why("a typed byte landed in a device-readable buffer");
	if (!err && !needs_reset(&con))
		err = why("input into device-readable buffers: no DEVICE_NEEDS_RESET in 30 s");
	if (!err)
		err = dev_up(&con);
	if (!err) {
		memset(b, 0, 64);
		for (unsigned i = 0; i < 8; i++) {
			vq_desc(q, i, (uint64_t)b + i, 1, VRING_F_WRITE, 0);
			vq_publish(q, (uint16_t)i);
		}
		printf("hostile: hvc0 input wanted (honest)\n");
		char got[4] = {0};
		for (unsigned i = 0; i < 3 && !err; i++) {
			uint32_t id, len;
			if (vq_poll(q, 30000, &id, &len))
				err = why("honest input: %u of 3 typed bytes arrived", i);
			else if (id >= 8 || len != 1)
				err = why("honest input: used id %u len %u", id, len);
			else
				got[i] = (char)b[id];
		}
		if (!err && memcmp(got, "abc", 3))
			err = why("honest input: got \"%s\", typed \"abc\"", got);
	}
	printf("hostile: hvc0 input done\n");
	/* the scenario moves our input back to the PL011 and says so: a key
	 * typed while a line is being printed would cut it */
	char line[16];
	if (uart_getline(line, sizeof(line), 30000) < 0 && !err)
		err = why("the console never came back to the PL011");
	dma_release(mark);
	return err;
}

/* ---------------------------------------------------------------- net */
static const char *net_bad_frames(void)
{
	const char *err = dev_up(&net);
	if (err)
		return err;
	struct vq *q = &net.v.q[1];
	size_t mark = dma_mark();
	uint8_t *f = dma_alloc(4096, 16);
	static const uint8_t gvm1[6] = {0x52, 0x54, 0x00, 0x5e, 0x00, 0x11};
	unsigned sent = 0;

	for (unsigned i = 0; i < 4096; i++)
		f[i] = (uint8_t)rnd();
	memcpy(f + NET_HDR_LEN, gvm1, 6);
	for (unsigned v = 0; v < 9; v++) {
		unsigned n = 1;
		switch (v) {
		case 0:
			vq_desc(q, 0, (uint64_t)f, 1, 0, 0);
			break; /* 1 byte */
		case 1:
			vq_desc(q, 0, (uint64_t)f, NET_HDR_LEN, 0, 0);
			break; /* header only */
		case 2:
			vq_desc(q, 0, (uint64_t)f, NET_HDR_LEN + 13, 0, 0);
			break; /* runt */
		case 3:
			vq_desc(q, 0, (uint64_t)f, 4096, 0, 0);
			break; /* jumbo */
		case 4:
			vq_desc(q, 0, SCRATCH, 256 * MIB, 0, 0);
			break; /* 256 MiB */
		case 5:        /* 64 one-byte pieces */
			for (unsigned i = 0; i < 64; i++)
				vq_desc(q, i, (uint64_t)f + i, 1, i < 63 ? VRING_F_NEXT : 0, i + 1);
			break;
		case 6: /* garbage to gvm1, 1514 bytes */
			vq_desc(q, 0, (uint64_t)f, NET_HDR_LEN + 1514, 0, 0);
			break;
		case 7: /* a writable buffer in a TX chain */
			vq_desc(q, 0, (uint64_t)f, NET_HDR_LEN + 60, VRING_F_NEXT, 1);
			vq_desc(q, 1, (uint64_t)f + 2048, 60, VRING_F_WRITE, 0);
			break;
		case 8: /* broadcast garbage, 1514 bytes, 200 times */
			memset(f + NET_HDR_LEN, 0xff, 6);
			n = 200;
			vq_desc(q, 0, (uint64_t)f, NET_HDR_LEN + 1514, 0, 0);
			break;
		}
		for (unsigned k = 0; k < n; k++) {
			vq_publish(q, 0);
			vio_notify(&net.v, 1);
			if (vq_poll(q, ANSWER_TIMEOUT_MS, NULL, NULL) && !needs_reset(&net)) {
				err = why("bad frame %u was never returned", v);
				goto out;
			}
			if (needs_reset(&net)) {
				err = dev_up(&net);
				if (err)
					goto out;
				break;
			}
			sent++;
		}
	}
	snprintf(detail, sizeof(detail), "%u bad frames", sent);
out:
	dma_release(mark);
	return err;
}

/* Control-queue commands: unknown class/command, truncated, oversized,
 * MAC tables with huge counts, no ack byte, a MAC change. */
static const char *net_bad_ctrl(void)
{
	struct cmd {
		uint8_t bytes[16];
		uint32_t len;
		bool ok_allowed;
	} cmds[] = {
		{{0xff, 0xff}, 2, false},
		{{0}, 1, false},
		{{0, 0, 7}, 3, false},                      /* promisc 7 */
		{{0, 0, 1, 0}, 4, false},                   /* promisc with a trailing byte */
		{{1, 0, 0xff, 0xff, 0xff, 0xff}, 6, false}, /* MAC table of 2^32-1 entries */
		{{1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f}, 10, false},
		{{1, 1, 0x02, 0, 0, 0, 0, 0x66}, 8, false}, /* another MAC */
		{{1, 0, 1, 0, 0, 0}, 6, false},             /* 1 entry, no room for it */
		{{0, 0, 1}, 3, true},                       /* honest: promisc on */
	};
	const char *err = dev_up(&net);
	if (err)
		return err;
	struct vq *q = &net.v.q[2];
	size_t mark = dma_mark();
	uint8_t *c = dma_alloc(64, 16);
	volatile uint8_t *ack = dma_alloc(1, 1);

	for (unsigned i = 0; i < ARRAY_SIZE(cmds) + 3; i++) {
		bool ok_allowed = false;
		if (i < ARRAY_SIZE(cmds)) {
			memcpy(c, cmds[i].bytes, 16);
			vq_desc(q, 0, (uint64_t)c, cmds[i].len, VRING_F_NEXT, 1);
			vq_desc(q, 1, (uint64_t)ack, 1, VRING_F_WRITE, 0);
			ok_allowed = cmds[i].ok_allowed;
		} else if (i == ARRAY_SIZE(cmds)) { /* 128 MiB command */
			vq_desc(q, 0, SCRATCH, 128 * MIB, VRING_F_NEXT, 1);
			vq_desc(q, 1, (uint64_t)ack, 1, VRING_F_WRITE, 0);
		} else if (i == ARRAY_SIZE(cmds) + 1) { /* no ack byte */
			vq_desc(q, 0, (uint64_t)c, 3, 0, 0);
		} else { /* a 64 MiB "ack" buffer */
			vq_desc(q, 0, (uint64_t)c, 2, VRING_F_NEXT, 1);
			vq_desc(q, 1, SCRATCH, 64 * MIB, VRING_F_WRITE, 0);
		}
		*ack = 0xee;
		vq_publish(q, 0);
		vio_notify(&net.v, 2);
		if (vq_poll(q, ANSWER_TIMEOUT_MS, NULL, NULL) == 0) {
			if (*ack == 0 && !ok_allowed && i < ARRAY_SIZE(cmds)) {
				err = why("control command %u acknowledged OK", i);
				break;
			}
		}
		if (needs_reset(&net)) {
			err = dev_up(&net);
			if (err)
				break;
			q = &net.v.q[2];
		}
	}
	dma_release(mark);
	return err;
}

/* RX buffers that cannot take a frame (readable, one byte, outside RAM)
 * while gvm1's broadcasts (ARP) arrive; then honest ones. */
static const char *net_bad_rx(void)
{
	const char *err = dev_up(&net);
	if (err)
		return err;
	struct vq *q = &net.v.q[0];
	size_t mark = dma_mark();
	uint8_t *b = dma_alloc(4096, 16);
	for (unsigned i = 0; i < 8; i++) {
		uint16_t flags = i & 1 ? VRING_F_WRITE : 0;
		uint32_t len = i & 2 ? 1 : 2048;
		uint64_t addr = i & 4 ? UNMAPPED_RAM_END + 4096 : (uint64_t)b;
		vq_desc(q, i, addr, len, flags, 0);
		vq_publish(q, (uint16_t)i);
	}
	vio_notify(&net.v, 0);
	delay_us(3 * 1000 * 1000); /* gvm1 pings the MVM: ARP broadcasts reach us */
	dma_release(mark);
	return NULL;
}

/* ---------------------------------------------------------------- hypercalls */
#define HC_FID(n) (0xc6000000UL | (n))
#define HC_ERR_DENIED (-3L)

static const char *hypercalls(void)
{
	uint8_t *buf = dma_alloc(4096, 4096);
	unsigned calls = 0;

	memset(buf, 0xa5, 4096);
	for (unsigned hi = 0; hi < 6; hi++) {
		static const uint64_t high[] = {
			0,           1ULL << 32,          0x100000000ULL << 4,
			~0ULL << 32, 0xff000000ULL << 32, 0x80000000ULL << 32};
		for (unsigned n = 0; n < 0x40; n++) {
			uint64_t fid = high[hi] | HC_FID(n);
			for (unsigned smc = 0; smc < 2; smc++) {
				uint64_t a1 = n == 2 ? 0 : (uint64_t)buf, a2 = (uint64_t)buf;
				struct smccc_res r = smc ? smc_call(fid, a1, a2, 4096, 0, 0, 0, 0)
							 : hvc_call(fid, a1, a2, 4096, 0, 0, 0, 0);
				calls++;
				if (r.a0 == 0)
					return why("%s 0x%lx returned 0 (success) to a GVM",
						   smc ? "smc" : "hvc", fid);
				if (r.a1 != a1 && r.a1 != 0)
					return why("%s 0x%lx changed x1 to 0x%lx",
						   smc ? "smc" : "hvc", fid, r.a1);
			}
		}
	}
	for (unsigned i = 0; i < 4096; i++)
		if (buf[i] != 0xa5)
			return why("a denied hypercall wrote into the guest (byte %u = 0x%x)", i,
				   buf[i]);
	/* the registration call with an area at the MVM's memory (IPA = PA) */
	struct smccc_res r = hvc_call(HC_FID(0x10), 0x48000000, 0x100000, 0, 0, 0, 0, 0);
	if ((int64_t)r.a0 != HC_ERR_DENIED && (int64_t)r.a0 != -1)
		return why("HC_MED_REGISTER from a GVM returned %ld", (int64_t)r.a0);
	snprintf(detail, sizeof(detail), "%u calls denied", calls);
	return NULL;
}

/* Hypercalls, PSCI calls and SMCs in a tight loop for 2 s: they cost only
 * this VM's CPU (the others' workloads keep their pace). */
static const char *call_storm(void)
{
	static const uint64_t fids[] = {PSCI_VERSION, HC_FID(2),          HC_FID(0x10),
					0x86000000UL, PSCI_AFFINITY_INFO, 0x1c6000010ULL};
	uint64_t end = time_ms() + 2000;
	unsigned n = 0;

	while (time_ms() < end) {
		for (unsigned i = 0; i < 64; i++, n++) {
			uint64_t fid = fids[i % ARRAY_SIZE(fids)];
			struct smccc_res r = i & 1 ? smc_call(fid, 0, 0, 0, 0, 0, 0, 0)
						   : hvc_call(fid, 0, 0, 0, 0, 0, 0, 0);
			if (fid != PSCI_VERSION && fid != PSCI_AFFINITY_INFO && r.a0 == 0)
				return why("call 0x%lx succeeded", fid);
		}
	}
	snprintf(detail, sizeof(detail), "%u calls in 2 s", n);
	return NULL;
}

static const char *psci_abuse(void)
{
	struct psci_call {
		uint64_t fid, a1, a2, a3;
		int64_t want; /* 1: any error */
	} calls[] = {
		{PSCI_CPU_ON, 1, SCRATCH, 0, PSCI_INVALID_PARAMS},
		{PSCI_CPU_ON, 0xffffffffffffffffULL, SCRATCH, 0, PSCI_INVALID_PARAMS},
		{PSCI_CPU_ON, 0x80000000, SCRATCH, 0, 1}, /* bit 31 is not affinity: ourselves */
		{PSCI_CPU_ON, 0x100, 0, 0, PSCI_INVALID_PARAMS},
		{PSCI_CPU_ON, 3, UNMAPPED_RAM_END, 0,
		 PSCI_INVALID_PARAMS},                        /* gvm2's old physical CPU */
		{PSCI_CPU_ON, 0, 0xdead, 0, -4},              /* ourselves: ALREADY_ON */
		{PSCI_CPU_ON & 0xbfffffff, 2, SCRATCH, 0, 1}, /* 32-bit: gvm1's CPU number */
		{PSCI_AFFINITY_INFO, 0xffffffffffffffffULL, 0, 0, PSCI_INVALID_PARAMS},
		{PSCI_AFFINITY_INFO, 0, 7, 0, 1},
		{PSCI_AFFINITY_INFO, 1, 0, 0, PSCI_INVALID_PARAMS},
		{PSCI_FEATURES, 0xc6000010, 0, 0, PSCI_NOT_SUPPORTED},
		{PSCI_FEATURES, 0xffffffffffffffffULL, 0, 0, PSCI_NOT_SUPPORTED},
		{0x8400ffffUL, 0, 0, 0, PSCI_NOT_SUPPORTED},
		{0xc400ffffUL, 0, 0, 0, PSCI_NOT_SUPPORTED},
		{0x840000ffUL, 0, 0, 0, PSCI_NOT_SUPPORTED},
		{0x84000005UL, 0, 0, 0, 1}, /* MIGRATE */
		{0xc4000007UL, 0, 0, 0, 1}, /* MIGRATE_INFO_UP_CPU */
		{0xc4000012UL, 0, 0, 0, 1}, /* SYSTEM_RESET2 */
		{0xc400000eUL, 0, 0, 0, 1}, /* CPU_DEFAULT_SUSPEND */
	};
	unsigned done = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(calls); i++) {
		int64_t r = psci_call(calls[i].fid, calls[i].a1, calls[i].a2, calls[i].a3);
		int64_t want = calls[i].want;
		if (want == 1 ? r >= 0 : r != want)
			return why("psci 0x%lx(0x%lx, 0x%lx) returned %ld, expected %s%ld",
				   calls[i].fid, calls[i].a1, calls[i].a2, r,
				   want == 1 ? "an error, not " : "", want == 1 ? r : want);
		done++;
	}
	/* CPU_SUSPEND with garbage returns (a standby) */
	int64_t r = psci_call(PSCI_CPU_SUSPEND, 0xfffeffff, 0xdead, 0); /* standby type */
	(void)r;
	/* the same ids with high bits set must not be taken for PSCI calls that succeed */
	for (unsigned i = 0; i < 64; i++) {
		uint64_t fid = (uint64_t)(rnd() | 1) << 32 | PSCI_CPU_ON;
		r = psci_call(fid, rnd(), SCRATCH, 0);
		if (r == 0)
			return why("psci 0x%lx started a CPU", fid);
	}
	snprintf(detail, sizeof(detail), "%u checked calls", done + 65);
	return NULL;
}

/* SGIs to ourselves, to every target list, to all but self, with garbage
 * affinities: only our vCPU may see them (the other VMs' workloads prove
 * they were not disturbed). */
static const char *sgi_storm(void)
{
	bool v3 = (read_sysreg(id_aa64pfr0_el1) >> 24 & 0xf) != 0;
	unsigned n = 0;
	uint64_t end = time_ms() + 2000;

	while (time_ms() < end) {
		for (unsigned i = 0; i < 64; i++, n++) {
			uint64_t r = rnd();
			if (v3 && (r & 2)) { /* Aff3.2.1 = 0: our vCPU and absent ones */
				uint64_t v = (r & 0xffff) | (uint64_t)(r >> 16 & 0xf) << 24 |
					     (uint64_t)(r & 1) << 40;
				__asm__ volatile("msr s3_0_c12_c11_5, %0" ::"r"(v));
			} else if (v3) {
				uint64_t v = (r & 0xffff) | (uint64_t)(r >> 16 & 0xf) << 24 |
					     (uint64_t)(rnd() & 0xff) << 16 |
					     (uint64_t)(rnd() & 0xff) << 32 |
					     (uint64_t)(rnd() & 0xff) << 48 |
					     (uint64_t)(r & 1) << 40 |
					     (uint64_t)(rnd() & 0xf) << 44;
				__asm__ volatile(
					"msr s3_0_c12_c11_5, %0" ::"r"(v)); /* ICC_SGI1R_EL1 */
			} else {
				mmio_write32(GUEST_GICD_BASE + 0xf00, r & 0x03ff800f);
			}
		}
	}
	snprintf(detail, sizeof(detail), "%u SGIs (GICv%u)", n, v3 ? 3u : 2u);
	return NULL;
}

/* ---------------------------------------------------------------- faults */
#define DFSC_SEA 0x10

static const char *expect_sea(const struct exc_record *rec, uint64_t addr, unsigned ec,
			      const char *what)
{
	if (rec->count == 0)
		return why("%s 0x%lx: no abort", what, addr);
	if (ESR_EC(rec->esr) != ec || (ESR_ISS(rec->esr) & 0x3f) != DFSC_SEA)
		return why("%s 0x%lx: esr 0x%lx, expected EC 0x%x with FSC 0x10", what, addr,
			   rec->esr, ec);
	if (rec->far != addr)
		return why("%s 0x%lx: far 0x%lx", what, addr, rec->far);
	return NULL;
}

static const char *unmapped_data(void)
{
	static const uint64_t addrs[] = {
		UNMAPPED_RAM_END, /* just past RAM */
		UNMAPPED_RAM_END + 0x1238,
		GUEST_RAM_BASE - 8, /* just below RAM */
		0x0c000000,         /* a hole in the device map */
		0x0a000e00,         /* virtio-mmio slot 7: the hypervisor's own disk */
		0x09010000,         /* past the PL011's page */
		0x100000000ULL,     /* 4 GiB */
		0x3ffffff000ULL & 0x3ffffffffULL,
	};
	unsigned n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(addrs); i++) {
		for (unsigned w = 0; w < 2; w++) {
			struct exc_record rec;
			exc_expect(&rec, 0);
			if (w)
				mmio_write32(addrs[i], 0xdeadbeef);
			else
				(void)mmio_read32(addrs[i]);
			exc_disarm();
			const char *err =
				expect_sea(&rec, addrs[i], EC_DABT_CUR, w ? "write" : "read");
			if (err)
				return err;
			if (!!(ESR_ISS(rec.esr) & (1u << 6)) != w)
				return why("0x%lx: WnR is %u", addrs[i], w ^ 1);
			n++;
		}
	}
	/* slot 24 (no device of ours) shares the read page of our slots 28-31:
	 * it reads 0 without trapping, a write to it aborts as anywhere */
	static const uint64_t empty_slot = 0x0a003000;
	struct exc_record rec;
	exc_expect(&rec, 0);
	uint32_t v = mmio_read32(empty_slot + 0x60);
	exc_disarm();
	if (rec.count || v)
		return why("slot 24 in the read page: read 0x%x, aborts %u", v, rec.count);
	exc_expect(&rec, 0);
	mmio_write32(empty_slot, 0xdeadbeef);
	exc_disarm();
	const char *err = expect_sea(&rec, empty_slot, EC_DABT_CUR, "write");
	if (err)
		return err;
	if (!(ESR_ISS(rec.esr) & (1u << 6)))
		return why("0x%lx: WnR is 0", empty_slot);
	snprintf(detail, sizeof(detail), "%u aborts with the right syndrome", n + 1);
	return NULL;
}

typedef void (*jump_fn)(void);

static const char *unmapped_fetch(void)
{
	static const uint64_t addrs[] = {UNMAPPED_RAM_END, UNMAPPED_RAM_END + 0x10000};
	for (unsigned i = 0; i < ARRAY_SIZE(addrs); i++) {
		struct exc_record rec;
		exc_expect(&rec, 0);
		((jump_fn)addrs[i])();
		exc_disarm();
		const char *err = expect_sea(&rec, addrs[i], EC_IABT_CUR, "fetch");
		if (err)
			return err;
		if (rec.elr != addrs[i])
			return why("fetch 0x%lx: elr 0x%lx", addrs[i], rec.elr);
	}
	return NULL;
}

/* Loads and stores without a syndrome on the virtio-mmio window (what an
 * optimising compiler emits in a driver loop): emulated with the right
 * values and the base register written back. */
static const char *mmio_writeback(void)
{
	struct dev *d = &med;
	const char *err = dev_up(d);
	if (err)
		return err;
	uint64_t base = d->v.base, x1;
	uint32_t w0, w1;
	struct exc_record rec;
	uint32_t magic = vio_read(&d->v, VIO_MAGIC), version = vio_read(&d->v, VIO_VERSION);

	exc_expect(&rec, 0);
	/* post-index load */
	x1 = base + VIO_MAGIC;
	__asm__ volatile("ldr %w0, [%1], #4" : "=r"(w0), "+r"(x1)::"memory");
	if (rec.count)
		return why("ldr w, [x], #4: aborted (esr 0x%lx)", rec.esr);
	if (w0 != magic || x1 != base + 4)
		return why("ldr w, [x], #4: value 0x%x base +%ld", w0, (int64_t)(x1 - base));
	/* pre-index load */
	x1 = base;
	__asm__ volatile("ldr %w0, [%1, #4]!" : "=r"(w0), "+r"(x1)::"memory");
	/* The abort handler counts into rec behind the compiler's back (the asm
	 * clobbers memory), so this second test is not the first one again. */
	// cppcheck-suppress identicalConditionAfterEarlyExit
	if (rec.count || w0 != version || x1 != base + 4)
		return why("ldr w, [x, #4]!: value 0x%x base +%ld aborts %u", w0,
			   (int64_t)(x1 - base), rec.count);
	/* a pair */
	x1 = base + VIO_MAGIC;
	__asm__ volatile("ldp %w0, %w1, [%2]" : "=&r"(w0), "=&r"(w1) : "r"(x1) : "memory");
	if (rec.count || w0 != magic || w1 != version)
		return why("ldp w, w, [x]: 0x%x 0x%x aborts %u", w0, w1, rec.count);
	/* a pair with post-index write-back */
	x1 = base + VIO_MAGIC;
	__asm__ volatile("ldp %w0, %w1, [%2], #8" : "=&r"(w0), "=&r"(w1), "+r"(x1)::"memory");
	if (rec.count || w0 != magic || w1 != version || x1 != base + 8)
		return why("ldp w, w, [x], #8: 0x%x 0x%x base +%ld aborts %u", w0, w1,
			   (int64_t)(x1 - base), rec.count);
	/* a pre-index store: DeviceFeaturesSel = 1 selects the high word */
	x1 = base + VIO_DEVICE_FEATURES_SEL - 4;
	w0 = 1;
	__asm__ volatile("str %w1, [%0, #4]!" : "+r"(x1) : "r"(w0) : "memory");
	uint32_t hi = vio_read(&d->v, VIO_DEVICE_FEATURES);
	if (rec.count || x1 != base + VIO_DEVICE_FEATURES_SEL || !(hi & 1))
		return why("str w, [x, #4]!: base +%ld, features high 0x%x, aborts %u",
			   (int64_t)(x1 - base), hi, rec.count);
	/* a post-index store and a store pair: QueueSel, then DeviceFeaturesSel = 0 */
	x1 = base + VIO_DEVICE_FEATURES_SEL;
	w0 = 0;
	__asm__ volatile("str %w1, [%0], #-4" : "+r"(x1) : "r"(w0) : "memory");
	hi = vio_read(&d->v, VIO_DEVICE_FEATURES);
	if (rec.count || x1 != base + VIO_DEVICE_FEATURES_SEL - 4 || hi & (1u << 31) ||
	    hi != (uint32_t)vio_device_features(&d->v))
		return why("str w, [x], #-4: base %ld, features 0x%x, aborts %u",
			   (int64_t)(x1 - base), hi, rec.count);
	/* a store pair and a load pair on QueueDescLow/High of a queue not live */
	vio_reset(&d->v);
	vio_write(&d->v, VIO_QUEUE_SEL, 0);
	x1 = base + VIO_QUEUE_DESC_LOW;
	w0 = 0x11223340;
	w1 = 0x5;
	__asm__ volatile("stp %w0, %w1, [%2]" ::"r"(w0), "r"(w1), "r"(x1) : "memory");
	uint32_t lo = vio_read(&d->v, VIO_QUEUE_DESC_LOW);
	hi = vio_read(&d->v, VIO_QUEUE_DESC_HIGH);
	if (rec.count || lo != w0 || hi != w1)
		return why("stp w, w, [x]: read back 0x%x 0x%x aborts %u", lo, hi, rec.count);
	__asm__ volatile("ldp %w0, %w1, [%2]" : "=&r"(w0), "=&r"(w1) : "r"(x1) : "memory");
	if (rec.count || w0 != lo || w1 != hi)
		return why("ldp w, w, [x]: 0x%x 0x%x, wrote 0x%x 0x%x, aborts %u", w0, w1, lo, hi,
			   rec.count);
	exc_disarm();
	return NULL;
}

/* Edges of syndrome-less MMIO: byte loads with write-back over config space,
 * a pre-indexed pair, loads past config space and 64 bits wide (all read
 * from the read page, no trap), and stores the device refuses (a pair past
 * config space, a 64-bit store with write-back): those abort and leave the
 * base register alone. */
static const char *mmio_writeback_edges(void)
{
	struct dev *d = &med;
	const char *err = dev_up(d);
	if (err)
		return err;
	uint64_t base = d->v.base, x1;
	uint32_t w0 = 0, w1 = 0, cfg = vio_read(&d->v, VIO_CONFIG);
	struct exc_record rec;

	exc_expect(&rec, 0);
	x1 = base + VIO_CONFIG;
	for (unsigned i = 0; i < 4; i++) {
		__asm__ volatile("ldrb %w0, [%1], #1" : "=r"(w0), "+r"(x1)::"memory");
		if (rec.count || w0 != (cfg >> (8 * i) & 0xff))
			return why("ldrb w, [x], #1 at config %u: 0x%x, expected 0x%x, aborts %u",
				   i, w0, cfg >> (8 * i) & 0xff, rec.count);
	}
	if (x1 != base + VIO_CONFIG + 4)
		return why("ldrb w, [x], #1 x4: base +%ld", (int64_t)(x1 - base));
	x1 = base + VIO_MAGIC - 8;
	__asm__ volatile("ldp %w0, %w1, [%2, #8]!" : "=&r"(w0), "=&r"(w1), "+r"(x1)::"memory");
	if (rec.count || w0 != vio_read(&d->v, VIO_MAGIC) || w1 != 2 || x1 != base)
		return why("ldp w, w, [x, #8]!: 0x%x 0x%x base %ld aborts %u", w0, w1,
			   (int64_t)(x1 - base), rec.count);
	exc_disarm();

	/* loads read the read page: zeros past config space, two registers at once */
	x1 = base + 0x1f8;
	exc_expect(&rec, 0);
	__asm__ volatile("ldp %w0, %w1, [%2], #8" : "=&r"(w0), "=&r"(w1), "+r"(x1)::"memory");
	exc_disarm();
	if (rec.count || w0 || w1 || x1 != base + 0x200)
		return why("ldp past the config space: 0x%x 0x%x base +%ld aborts %u", w0, w1,
			   (int64_t)(x1 - base), rec.count);
	uint64_t x0 = 0;
	x1 = base + VIO_MAGIC;
	exc_expect(&rec, 0);
	__asm__ volatile("ldr %0, [%1], #8" : "=r"(x0), "+r"(x1)::"memory");
	exc_disarm();
	if (rec.count ||
	    x0 != ((uint64_t)vio_read(&d->v, VIO_VERSION) << 32 | vio_read(&d->v, VIO_MAGIC)) ||
	    x1 != base + VIO_MAGIC + 8)
		return why("ldr x, [x], #8 on two registers: 0x%lx base +%ld aborts %u", x0,
			   (int64_t)(x1 - base), rec.count);

	/* refused: stores past the config space, 64 bits wide */
	x1 = base + 0x1f8;
	w0 = w1 = 0x5a5a5a5a;
	exc_expect(&rec, 0);
	__asm__ volatile("stp %w1, %w2, [%0], #8" : "+r"(x1) : "r"(w0), "r"(w1) : "memory");
	exc_disarm();
	if (!rec.count)
		return why("stp past the config space: no abort");
	if (x1 != base + 0x1f8)
		return why("stp past the config space aborted but wrote the base back (+%ld)",
			   (int64_t)(x1 - base));
	x0 = 0;
	x1 = base + VIO_QUEUE_SEL;
	exc_expect(&rec, 0);
	__asm__ volatile("str %1, [%0], #8" : "+r"(x1) : "r"(x0) : "memory");
	exc_disarm();
	if (!rec.count)
		return why("str x, [x], #8 on a 32-bit register: no abort");
	if (x1 != base + VIO_QUEUE_SEL)
		return why("str x, [x], #8 aborted but wrote the base back (+%ld)",
			   (int64_t)(x1 - base));
	if (ESR_EC(rec.esr) != EC_DABT_CUR || (ESR_ISS(rec.esr) & 0x3f) != DFSC_SEA ||
	    rec.far != base + VIO_QUEUE_SEL)
		return why("str x, [x], #8: esr 0x%lx far 0x%lx", rec.esr, rec.far);
	return NULL;
}

/* ---------------------------------------------------------------- runner */
struct hcase {
	const char *name;
	const char *(*fn)(void);
	struct dev *dev; /* containment checked on it afterwards */
};

static const struct hcase cases[] = {
	{"blk_wrap_4g_write.med", blk_wrap_write_med, &med},
	{"blk_wrap_4g_discard.med", blk_wrap_discard_med, &med},
	{"blk_wrap_4g_write_zeroes.med", blk_wrap_write_zeroes_med, &med},
	{"blk_wrap_4g_read.med", blk_wrap_read_med, &med},
	{"blk_wrap_4g_write.hv", blk_wrap_write_hv, &hvd},
	{"blk_wrap_4g_discard.hv", blk_wrap_discard_hv, &hvd},
	{"blk_wrap_4g_read.hv", blk_wrap_read_hv, &hvd},
	{"blk_oversized.med", blk_oversized_med, &med},
	{"blk_oversized.hv", blk_oversized_hv, &hvd},
	{"blk_malformed_chains.med", blk_malformed_med, &med},
	{"blk_malformed_chains.hv", blk_malformed_hv, &hvd},
	{"blk_avail_jump.med", blk_avail_jump_med, &med},
	{"blk_bad_rings.med", blk_bad_rings_med, &med},
	{"blk_self_answer_storm.med", blk_self_answer_storm_med, &med},
	{"blk_self_answer_storm.hv", blk_self_answer_storm_hv, &hvd},
	{"blk_notify_storm.med", blk_notify_storm_med, &med},
	{"blk_toctou_flip.med", blk_toctou_flip_med, &med},
	{"blk_reset_inflight.med", blk_reset_inflight_med, &med},
	{"blk_reset_inflight.hv", blk_reset_inflight_hv, &hvd},
	{"virtio_registers.med", med_registers, &med},
	{"virtio_registers.hv", hv_registers, &hvd},
	{"virtio_registers.net", net_registers, &net},
	{"virtio_registers.console", con_registers, &con},
	{"console_huge_tx", con_huge_tx, &con},
	{"console_rx", con_rx, &con},
	{"net_bad_frames", net_bad_frames, &net},
	{"net_bad_ctrl", net_bad_ctrl, &net},
	{"net_bad_rx", net_bad_rx, &net},
	{"net_notify_storm", net_notify_storm, &net},
	{"hypercalls_denied", hypercalls, &med},
	{"call_storm", call_storm, &med},
	{"psci_abuse", psci_abuse, &med},
	{"sgi_storm", sgi_storm, &med},
	{"irq_storm", irq_storm, &med},
	{"uart_registers", uart_registers, &med},
	{"gic_registers", gic_registers, &med},
	{"sysreg_traps", sysreg_traps, &med},
	{"unmapped_data_abort", unmapped_data, &med},
	{"unmapped_fetch_abort", unmapped_fetch, &med},
	{"mmio_writeback", mmio_writeback, &med},
	{"mmio_writeback_edges", mmio_writeback_edges, &med},
};

static void report(const char *name, const char *err)
{
	ncases++;
	if (err) {
		nfailed++;
		printf("FAIL %s: %s\n", name, err);
	} else if (detail[0]) {
		printf("PASS %s (%s)\n", name, detail);
	} else {
		printf("PASS %s\n", name);
	}
}

/* The go line may select cases by substrings of their names: "go wrap sgi"
 * runs those only, "go -wrap" all but those. */
static bool word_in(const char *name, const char *w, size_t n)
{
	for (const char *p = name; n && *p; p++)
		if (!memcmp(p, w, n))
			return true;
	return false;
}

static bool selected(const char *name, const char *filter)
{
	bool any_positive = false, hit = false;

	for (const char *f = filter; *f;) {
		while (*f == ' ')
			f++;
		bool neg = *f == '-';
		f += neg;
		size_t n = 0;
		while (f[n] && f[n] != ' ')
			n++;
		if (n && neg && word_in(name, f, n))
			return false;
		if (n && !neg) {
			any_positive = true;
			hit |= word_in(name, f, n);
		}
		f += n;
	}
	return !any_positive || hit;
}

static void honest_baseline(void)
{
	const char *err = NULL;
	struct dev *devs[] = {&med, &hvd, &net, &con};

	for (unsigned i = 0; i < ARRAY_SIZE(devs) && !err; i++) {
		err = dev_up(devs[i]);
		if (!err && devs[i] == &hvd &&
		    blk_request(&hvd.v, VIRTIO_BLK_T_IN, 0, hv_disk_first, sizeof(hv_disk_first),
				HONEST_TIMEOUT_MS) != VIRTIO_BLK_S_OK)
			err = "hv-blk: the first read failed";
		if (!err)
			err = contained(devs[i]);
	}
	report("honest_baseline", err);
}

int main(uint64_t dtb)
{
	char line[128];

	printf("hostile: started, dtb at 0x%lx, timer %lu Hz, %u cases\n", dtb, timer_freq(),
	       (unsigned)ARRAY_SIZE(cases));
	detail[0] = 0;
	report("boot", NULL);
	printf("hostile: waiting for 'go' on the console\n");
	while (uart_getline(line, sizeof(line), 3600 * 1000) < 0 || memcmp(line, "go", 2))
		;
	const char *filter = line[2] == ' ' ? line + 3 : "";
	rng_state ^= (uint32_t)timer_count();
	vio_alloc_rings(&med.v, med.nqueues);
	vio_alloc_rings(&hvd.v, hvd.nqueues);
	vio_alloc_rings(&net.v, net.nqueues);
	vio_alloc_rings(&con.v, con.nqueues);
	honest_baseline();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct hcase *c = &cases[i];
		if (!selected(c->name, filter))
			continue;
		printf("hostile: case %s\n", c->name);
		detail[0] = 0;
		exc_disarm();
		const char *err = c->fn();
		exc_disarm();
		if (!err && c->dev)
			err = contained(c->dev);
		report(c->name, err);
	}
	printf("HOSTILE DONE %u cases\n", ncases);
	return 0;
}
