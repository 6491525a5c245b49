/* The virtio-blk device model against the guest-memory model: requests
 * driven through the virtio-mmio registers of the real transport, with
 * honest and hostile chains (issue 7, finding 1: lengths above 4 GiB that
 * used to be narrowed to 32 bits; finding 4: requests the device answers
 * itself are bounded per call); the hypervisor's own backend (issue 9,
 * review F6: the device never DMAs into a guest's memory, and a request
 * it still holds counts as its VM's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "blk/blk_hv_backend.h"
#include "guest_mem_model.h"
#include "blk/vblk_drv.h"

#define RAM_SIZE (512UL << 20)
#define SECTORS 2048 /* 1 MiB disk */
#define MAX_REQ (BLK_SEG_MAX * BLK_SIZE_MAX)
#define HDR_IPA (GMM_BUF_IPA)
#define STATUS_IPA (GMM_BUF_IPA + 0x100)
#define DATA_IPA (GMM_BUF_IPA + 0x1000)

/* A test backend: what the mediated backend does with the data, into a
 * destination of exactly the maximum request with a guard page after it. */
static uint8_t *dst_page;
static uint8_t *dst;
static unsigned served, served_len;
static uint8_t disk[SECTORS * 512];

static void test_kick(struct virtio_blk *blk)
{
	struct blk_req req;
	unsigned budget = VIRTQ_MAX_SIZE;
	int r;

	while ((r = virtio_blk_next(blk, &req, &budget)) != BLK_NEXT_NONE) {
		if (r == BLK_NEXT_BUSY) {
			budget = VIRTQ_MAX_SIZE; /* the test's "later" is now */
			continue;
		}
		served++;
		served_len = req.len;
		if (req.type == VIRTIO_BLK_T_OUT) {
			blk_req_copy_out(&req, dst, MAX_REQ);
			memcpy(disk + req.sector * 512, dst, req.len);
			virtio_blk_complete(&req, VIRTIO_BLK_S_OK, 0);
		} else if (req.type == VIRTIO_BLK_T_IN) {
			virtio_blk_complete_read(&req, VIRTIO_BLK_S_OK, disk + req.sector * 512,
						 req.len);
		} else {
			virtio_blk_complete(&req, VIRTIO_BLK_S_OK, 0);
		}
	}
}

static const struct blk_backend_ops test_backend = {.kick = test_kick};

static struct gmm_gvm *g;

static int setup(void **state)
{
	(void)state;
	gmm_init(1, RAM_SIZE);
	g = &gmm.gvm[0];
	/* MAX_REQ bytes, then a PROT_NONE page */
	dst_page = mmap(NULL, MAX_REQ + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	mprotect(dst_page + MAX_REQ, 4096, PROT_NONE);
	dst = dst_page;
	served = served_len = 0;
	gmm_create_blk(g, SECTORS, false, &test_backend);
	uint32_t status = gmm_driver_init(g, 0);
	assert_true(status & VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(dst_page, MAX_REQ + 4096);
	gmm_fini();
	return 0;
}

static uint8_t status_byte(void)
{
	return *(uint8_t *)gmm_ptr(g, STATUS_IPA);
}

static void test_honest_write_then_read(void **state)
{
	uint64_t a[2] = {DATA_IPA, DATA_IPA + 0x3000};
	uint32_t l[2] = {0x3000, 0x1000};
	uint32_t id, len;
	(void)state;

	memset(gmm_ptr(g, DATA_IPA), 0x5a, 0x4000);
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_OUT, 8, HDR_IPA, a, l, 2, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_OK);
	assert_int_equal(disk[8 * 512], 0x5a);
	assert_int_equal(disk[8 * 512 + 0x3fff], 0x5a);

	memset(gmm_ptr(g, DATA_IPA), 0, 0x4000);
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_IN, 8, HDR_IPA, a, l, 2, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(gmm_used_idx(g), 2);
	gmm_used_elem(g, 1, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, 0x4000 + 1);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_OK);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA))[0x3fff], 0x5a);
}

/* The attack: header, eight 512 MiB descriptors over the guest's
 * whole RAM, a 512-byte tail, the status byte: readable length 4 GiB + 528
 * used to narrow to 512 and copy 4 GiB into a 64 KiB buffer. */
static void overlapping_chain(uint32_t type, uint32_t tail)
{
	unsigned d = 0;

	memset(gmm_ptr(g, HDR_IPA), 0, 16);
	memcpy(gmm_ptr(g, HDR_IPA), &type, 4);
	*(uint8_t *)gmm_ptr(g, STATUS_IPA) = 0xee;
	gmm_set_desc(g, d, HDR_IPA, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	d++;
	for (int i = 0; i < 8; i++, d++)
		gmm_set_desc(g, d, GMM_RAM_IPA, 512u << 20, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	gmm_set_desc(g, d, DATA_IPA, tail, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	d++;
	gmm_set_desc(g, d, STATUS_IPA, 1, VIRTQ_DESC_F_WRITE, 0);
	gmm_offer(g, 0);
	gmm_notify(g);
}

static void test_write_above_4g_is_refused(void **state)
{
	(void)state;
	overlapping_chain(VIRTIO_BLK_T_OUT, 512);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_IOERR);
	assert_int_equal(served, 0);
}

static void test_discard_above_4g_is_refused(void **state)
{
	(void)state;
	overlapping_chain(VIRTIO_BLK_T_DISCARD, 16);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_IOERR);
	assert_int_equal(served, 0);
}

/* Eight writable 512 MiB buffers: a read of 4 GiB + 512 bytes. */
static void test_read_above_4g_is_refused(void **state)
{
	unsigned d = 0;
	uint32_t type = VIRTIO_BLK_T_IN;
	(void)state;

	memset(gmm_ptr(g, HDR_IPA), 0, 16);
	memcpy(gmm_ptr(g, HDR_IPA), &type, 4);
	gmm_set_desc(g, d, HDR_IPA, 16, VIRTQ_DESC_F_NEXT, 1);
	for (d = 1; d <= 8; d++)
		gmm_set_desc(g, d, GMM_RAM_IPA, 512u << 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
			     (uint16_t)(d + 1));
	gmm_set_desc(g, d, DATA_IPA, 513, VIRTQ_DESC_F_WRITE, 0);
	gmm_offer(g, 0);
	gmm_notify(g);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(served, 0);
	assert_int_equal(*(uint8_t *)gmm_ptr(g, DATA_IPA + 512), VIRTIO_BLK_S_IOERR);
}

/* One byte more than the device offers (seg_max * size_max). */
static void test_write_above_max_request(void **state)
{
	uint64_t a[1] = {DATA_IPA};
	uint32_t l[1] = {MAX_REQ + 512};
	(void)state;
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_OUT, 0, HDR_IPA, a, l, 1, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_IOERR);
	assert_int_equal(served, 0);
	l[0] = MAX_REQ;
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_OUT, 0, HDR_IPA, a, l, 1, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_OK);
	assert_int_equal(served, 1);
	assert_int_equal(served_len, MAX_REQ);
}

/* A discard segment must be exactly 16 bytes. */
static void test_discard_segment_size(void **state)
{
	uint64_t a[1] = {DATA_IPA};
	uint32_t l[1] = {32};
	uint32_t seg[4] = {0, 0, 8, 0}; /* sector 0, 8 sectors */
	(void)state;
	memcpy(gmm_ptr(g, DATA_IPA), seg, sizeof(seg));
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_DISCARD, 0, HDR_IPA, a, l, 1, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_IOERR);
	l[0] = 16;
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_DISCARD, 0, HDR_IPA, a, l, 1, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_OK);
	assert_int_equal(served_len, 8 * 512);
}

/* GET_ID writes at most 20 bytes, and never over the status byte. */
static void test_get_id_bounded(void **state)
{
	uint64_t a[1] = {DATA_IPA};
	uint32_t l[1] = {4};
	uint32_t id, len;
	(void)state;
	memset(gmm_ptr(g, DATA_IPA), 0x77, 64);
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_GET_ID, 0, HDR_IPA, a, l, 1, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_OK);
	gmm_used_elem(g, 0, &id, &len);
	assert_int_equal(len, 4 + 1);
	assert_memory_equal(gmm_ptr(g, DATA_IPA), "gvm1", 4);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA))[4], 0x77);
	l[0] = 64;
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_GET_ID, 0, HDR_IPA, a, l, 1, STATUS_IPA));
	gmm_notify(g);
	gmm_used_elem(g, 1, &id, &len);
	assert_int_equal(len, VIRTIO_BLK_ID_BYTES + 1);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA))[VIRTIO_BLK_ID_BYTES], 0x77);
}

/* The status byte inside a buffer that also holds read data: data stops
 * before it. */
static void test_status_shares_last_buffer(void **state)
{
	uint32_t type = VIRTIO_BLK_T_IN;
	uint32_t id, len;
	(void)state;
	memset(disk, 0xab, 1024);
	memset(gmm_ptr(g, HDR_IPA), 0, 16);
	memcpy(gmm_ptr(g, HDR_IPA), &type, 4);
	gmm_set_desc(g, 0, HDR_IPA, 16, VIRTQ_DESC_F_NEXT, 1);
	gmm_set_desc(g, 1, DATA_IPA, 513, VIRTQ_DESC_F_WRITE, 0);
	gmm_offer(g, 0);
	gmm_notify(g);
	gmm_used_elem(g, 0, &id, &len);
	assert_int_equal(len, 513);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA))[511], 0xab);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA))[512], VIRTIO_BLK_S_OK);
}

/* A guest on another CPU that republishes its unsupported request as soon
 * as it is answered (here: on every interrupt), a bounded number of times. */
static unsigned feeds;

static void feed(struct gmm_gvm *gvm)
{
	if (feeds && feeds-- > 0)
		gmm_offer(gvm, 0);
}

/* Finding 4: requests the device answers itself cost budget; the call
 * returns BUSY instead of answering for as long as the guest feeds. */
static void test_self_answered_requests_are_bounded(void **state)
{
	uint64_t a[1] = {DATA_IPA};
	uint32_t l[1] = {512};
	struct blk_req req;
	unsigned budget = 16;
	(void)state;

	gmm_blk_request(g, 0, 99 /* unsupported */, 0, HDR_IPA, a, l, 1, STATUS_IPA);
	gmm_offer(g, 0);
	feeds = 100000;
	gmm.on_gvm_irq = feed;
	int r = virtio_blk_next(&g->blk, &req, &budget);
	gmm.on_gvm_irq = NULL;
	assert_int_equal(r, BLK_NEXT_BUSY);
	assert_int_equal(budget, 0);
	assert_int_equal(gmm_used_idx(g), 16);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_UNSUPP);
}

/* The hypervisor's own backend against a stub driver that plays the real
 * device: it DMAs into or out of the segments it is given (a "disk" of its
 * own), or, timing out, keeps the request (the device may still do it any
 * time later) until the test says it answered. */
static unsigned drv_calls;
static uint64_t drv_bytes;
static bool drv_times_out, drv_holds;
static struct vblk_seg drv_held; /* the request the device still holds */
static uint8_t hv_disk[SECTORS * 512];

void *palloc(size_t n)
{
	static uint8_t *pool; /* the bounce buffer, then a PROT_NONE page */
	size_t len = n * 4096;

	assert_true(len == MAX_REQ);
	if (!pool) {
		pool = mmap(NULL, len + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
		mprotect(pool + len, 4096, PROT_NONE);
	}
	return pool;
}

int vblk_drv_init(struct vblk_drv *d, paddr_t base)
{
	(void)base;
	d->sectors = SECTORS;
	return 0;
}

static bool in_guest_ram(uint64_t addr, uint64_t len)
{
	uint8_t *p = (uint8_t *)(uintptr_t)addr;

	return p + len > g->ram && p < g->ram + g->ram_size;
}

uint8_t vblk_drv_request(struct vblk_drv *d, uint32_t type, uint64_t sector,
			 const struct vblk_seg *segs, unsigned nsegs, bool to_device)
{
	(void)d;
	drv_calls++;
	assert_false(drv_holds); /* the driver refuses while it holds one */
	assert_true(nsegs <= VBLK_DRV_MAX_SEGS);
	assert_int_equal(to_device, type == VIRTIO_BLK_T_OUT);
	for (unsigned i = 0; i < nsegs; i++) {
		uint8_t *p = (uint8_t *)(uintptr_t)segs[i].addr;
		if (in_guest_ram(segs[i].addr, segs[i].len))
			fail_msg("the device was given the guest's memory at %p", (void *)p);
		drv_bytes += segs[i].len;
		if (drv_times_out) {
			drv_held = segs[i];
			continue;
		}
		if (type == VIRTIO_BLK_T_IN)
			memcpy(p, hv_disk + sector * 512, segs[i].len);
		else
			memcpy(hv_disk + sector * 512, p, segs[i].len);
		sector += segs[i].len / 512;
	}
	drv_holds = drv_times_out;
	return drv_times_out ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

bool vblk_drv_busy(struct vblk_drv *d)
{
	(void)d;
	return drv_holds;
}

static int setup_hv(void **state)
{
	(void)state;
	gmm_init(1, RAM_SIZE);
	g = &gmm.gvm[0];
	drv_calls = 0;
	drv_bytes = 0;
	drv_times_out = drv_holds = false;
	memset(hv_disk, 0x5a, sizeof(hv_disk));
	assert_int_equal(blk_hv_backend_init(0x0a003c00), 0);
	gmm_create_blk(g, SECTORS, false, &blk_hv_backend);
	assert_true(gmm_driver_init(g, 0) & VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

static int teardown_hv(void **state)
{
	(void)state;
	gmm_fini();
	return 0;
}

static uint8_t *data(uint64_t off)
{
	return gmm_ptr(g, DATA_IPA + off);
}

/* The device gets exactly the request's data, never the guest's own
 * memory (review F6 of issue 9: a request that times out is still the
 * device's, and the VM may be stopped and zeroed by the time it does it):
 * a bounce buffer, copied from the guest for a write and into it for a
 * read. The 4 GiB chain never reaches it. */
static void test_hv_backend_dma_never_targets_guest_memory(void **state)
{
	uint64_t a[3] = {DATA_IPA, DATA_IPA + 0x1000, DATA_IPA + 0x3000};
	uint32_t l[3] = {0x1000, 0x2000, 0x1000};
	(void)state;
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_IN, 0, HDR_IPA, a, l, 3, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(drv_calls, 1);
	assert_int_equal(drv_bytes, 0x4000);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_OK);
	assert_int_equal(data(0)[0], 0x5a);
	assert_int_equal(data(0x3000)[0xfff], 0x5a);
	/* a write reaches the disk with the guest's bytes */
	memset(data(0), 0x33, 0x4000);
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_OUT, 8, HDR_IPA, a, l, 3, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_OK);
	assert_int_equal(hv_disk[8 * 512], 0x33);
	assert_int_equal(hv_disk[8 * 512 + 0x3fff], 0x33);
	assert_int_equal(hv_disk[8 * 512 + 0x4000], 0x5a);
	assert_int_equal(g->vm->life.l.io, 0);
	overlapping_chain(VIRTIO_BLK_T_OUT, 512);
	assert_int_equal(drv_calls, 2);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_IOERR);
}

/* A request the device still holds after the driver's timeout counts as
 * its VM's (life.l.io: no new instance starts) until the device answers
 * it; its late DMA lands in the bounce buffer, not in the guest; every
 * request meanwhile fails without touching the buffer. */
static void test_hv_backend_timeout_counts_until_the_device_answers(void **state)
{
	uint64_t a[1] = {DATA_IPA};
	uint32_t l[1] = {0x1000};
	(void)state;
	drv_times_out = true;
	memset(data(0), 0x11, 0x1000);
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_IN, 0, HDR_IPA, a, l, 1, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_IOERR);
	assert_int_equal(g->vm->life.l.io, 1);
	/* the VM stops, its RAM is zeroed; then the device does the read */
	virtio_mmio_reset(&g->blk.vdev);
	memset(data(0), 0, 0x1000);
	assert_false(in_guest_ram(drv_held.addr, drv_held.len));
	memset((void *)(uintptr_t)drv_held.addr, 0x77, drv_held.len);
	assert_int_equal(data(0)[0], 0);
	/* reaped while the device still holds it: still counted */
	blk_hv_backend_reap();
	assert_int_equal(g->vm->life.l.io, 1);
	/* the next instance's request fails without reaching the device */
	drv_times_out = false;
	assert_true(gmm_driver_init(g, 0) & VIRTIO_STATUS_DRIVER_OK);
	gmm_offer(g, gmm_blk_request(g, 0, VIRTIO_BLK_T_OUT, 0, HDR_IPA, a, l, 1, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_IOERR);
	assert_int_equal(drv_calls, 1);
	assert_int_equal(g->vm->life.l.io, 1);
	/* the device answers: the count goes, requests go through again */
	drv_holds = false;
	blk_hv_backend_reap();
	assert_int_equal(g->vm->life.l.io, 0);
	gmm_offer(g, gmm_blk_request(g, 1, VIRTIO_BLK_T_IN, 0, HDR_IPA, a, l, 1, STATUS_IPA));
	gmm_notify(g);
	assert_int_equal(status_byte(), VIRTIO_BLK_S_OK);
	assert_int_equal(drv_calls, 2);
	assert_int_equal(g->vm->life.l.io, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_honest_write_then_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_above_4g_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_above_4g_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_above_4g_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_above_max_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_segment_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_id_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_shares_last_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_answered_requests_are_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hv_backend_dma_never_targets_guest_memory,
						setup_hv, teardown_hv),
		cmocka_unit_test_setup_teardown(
			test_hv_backend_timeout_counts_until_the_device_answers, setup_hv,
			teardown_hv),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("virtio_blk", tests, NULL, NULL);
}
