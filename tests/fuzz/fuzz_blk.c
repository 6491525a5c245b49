/* libFuzzer harness: the virtio-blk device model with arbitrary guest
 * memory. The input builds descriptors (in-RAM or wild addresses, small,
 * huge or wrapping lengths, any flags and links), request headers of every
 * type and arbitrary buffer contents in a guest-memory model (RAM between
 * PROT_NONE guard pages); the driver notifies and a backend copies every
 * request the device lets through into a buffer of exactly the maximum
 * request (guard page after it) and completes reads from one. Properties:
 * no access outside guest RAM or the buffers (guard pages, ASan), every
 * request reaching the backend is within what the device offers (length,
 * whole sectors), and a notify answers at most a queue's worth of chains. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/fuzz_input.h"
#include "guest_mem_model.h"
#include "blk/mediated.h"

#define RAM_SIZE 0x40000UL /* 256 KiB */
#define NDESC 32
#define BUFS_OFF 0x10000UL

static uint8_t *dst, *src;
static unsigned reqs_seen;

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_blk: %s\n", what);
		abort();
	}
}

static void backend_kick(struct virtio_blk *blk)
{
	struct blk_req req;
	unsigned budget = 8;
	int r;

	while ((r = virtio_blk_next(blk, &req, &budget)) == BLK_NEXT_REQ) {
		reqs_seen++;
		check(req.len <= BLK_MAX_REQUEST, "request longer than the device offers");
		if (req.type == VIRTIO_BLK_T_IN || req.type == VIRTIO_BLK_T_OUT)
			check(req.len % 512 == 0, "partial sector");
		if (req.type == VIRTIO_BLK_T_OUT) {
			blk_req_copy_out(&req, dst, BLK_MAX_REQUEST);
			virtio_blk_complete(&req, VIRTIO_BLK_S_OK, 0);
		} else if (req.type == VIRTIO_BLK_T_IN) {
			virtio_blk_complete_read(&req, VIRTIO_BLK_S_OK, src, BLK_MAX_REQUEST);
		} else {
			virtio_blk_complete(&req, VIRTIO_BLK_S_OK, 0);
		}
	}
}

static const struct blk_backend_ops backend = {.kick = backend_kick};

static void init_once(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	gmm_init(1, RAM_SIZE);
	gmm_create_blk(&gmm.gvm[0], 1024, false, &backend);
	dst = mmap(NULL, BLK_MAX_REQUEST + 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(dst + BLK_MAX_REQUEST, 4096, PROT_NONE);
	src = mmap(NULL, BLK_MAX_REQUEST + 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(src, 0x5a, BLK_MAX_REQUEST);
	mprotect(src + BLK_MAX_REQUEST, 4096, PROT_NONE);
}

static uint64_t desc_addr(struct fuzz_in *in)
{
	switch (fin_le(in, 1) % 5) {
	case 0:
		return fin_le(in, 8); /* anything */
	case 1:
		return GMM_RAM_IPA + RAM_SIZE - fin_le(in, 2) % 4096; /* near the end */
	case 2:
		return GMM_RAM_IPA + (fin_le(in, 1) % (RAM_SIZE / 4096)) * 4096; /* a page */
	default:
		return GMM_RAM_IPA + BUFS_OFF + fin_le(in, 3) % (RAM_SIZE - BUFS_OFF);
	}
}

static uint32_t desc_len(struct fuzz_in *in)
{
	switch (fin_le(in, 1) % 6) {
	case 0:
		return (uint32_t)fin_le(in, 4); /* anything, up to 4 GiB - 1 */
	case 1:
		return (uint32_t)RAM_SIZE; /* the whole RAM: overlapping chains */
	case 2:
		return 16;
	case 3:
		return 512 * (1 + (uint32_t)fin_le(in, 1)); /* sectors, up to 128 KiB */
	default:
		return (uint32_t)fin_le(in, 2);
	}
}

/* Header at a buffer offset: a type from those the device knows (or any). */
static void write_header(struct gmm_gvm *g, struct fuzz_in *in)
{
	static const uint32_t types[] = {0, 1, 4, 8, 11, 13};
	uint64_t off = BUFS_OFF + fin_le(in, 3) % (RAM_SIZE - BUFS_OFF - 16);
	uint8_t t = (uint8_t)fin_le(in, 1);
	uint32_t type = t < 240 ? types[t % 6] : (uint32_t)fin_le(in, 4);
	uint64_t sector = fin_le(in, 1) & 1 ? fin_le(in, 8) : fin_le(in, 1);

	memcpy(g->ram + off, &type, 4);
	memcpy(g->ram + off + 8, &sector, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct gmm_gvm *g;

	init_once();
	g = &gmm.gvm[0];
	memset(g->ram, 0, RAM_SIZE);
	uint8_t ctl = (uint8_t)fin_le(&in, 1);
	uint64_t features = (ctl & 1 ? VIRTIO_F_RING_EVENT_IDX : 0) |
			    (ctl & 2 ? VIRTIO_F_RING_INDIRECT_DESC : 0);
	if (!(gmm_driver_init(g, features) & VIRTIO_STATUS_DRIVER_OK))
		return 0;
	for (unsigned i = 0; i < NDESC; i++) {
		uint64_t addr = desc_addr(&in);
		uint32_t len = desc_len(&in);
		uint16_t flags = (uint16_t)(fin_le(&in, 1) & 7);
		uint16_t next = (uint16_t)(fin_le(&in, 1) % (NDESC + 2));
		gmm_set_desc(g, i, addr, len, flags, next);
	}
	for (unsigned i = 0, n = (unsigned)fin_le(&in, 1) % 8; i < n; i++)
		write_header(g, &in);
	/* an indirect table or discard segments: raw bytes somewhere */
	uint64_t off = BUFS_OFF + fin_le(&in, 3) % (RAM_SIZE - BUFS_OFF);
	size_t raw = in.n < RAM_SIZE - off ? in.n : RAM_SIZE - off;
	raw = raw > 512 ? 512 : raw;
	memcpy(g->ram + off, in.p, raw);
	for (unsigned round = 0, rounds = 1 + (ctl >> 4) % 4; round < rounds; round++) {
		unsigned heads = 1 + (unsigned)fin_le(&in, 1) % 8;
		for (unsigned h = 0; h < heads; h++)
			gmm_offer(g, (uint16_t)(fin_le(&in, 1) % (NDESC + 2)));
		if (ctl & 4)
			gmm_set_avail_idx(g, (uint16_t)fin_le(&in, 2)); /* a wild avail index */
		/* the device's own count (the guest may have pointed writable
		 * buffers at its rings: their contents prove nothing) */
		uint16_t before = g->blk.vdev.vq[0].used_idx;
		gmm_notify(g);
		uint16_t after = g->blk.vdev.vq[0].used_idx;
		check((uint16_t)(after - before) <= GMM_QSZ, "more answers than chains offered");
	}
	return 0;
}
