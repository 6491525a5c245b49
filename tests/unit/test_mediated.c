/* The mediated block path (hv/blk/med_blk.c) against the guest-memory
 * model: GVMs drive their virtio-blk through its registers, a fake daemon
 * serves the shared area, and a hostile MVM writes what it likes into it.
 * Issue 7, findings 1 (oversized chains never reach a slot), 2 (slot
 * addresses and the hypervisor's indices do not come from the area), 4
 * (bounded work per pass, one IPI per batch), 5 (slots shared fairly), 8
 * (no read data into a reset device's buffers) and 11 (tags with a
 * generation: stale and duplicate completions finish nothing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest_mem_model.h"
#include "blk/mediated.h"
#include "syshyper/med_ring.h"
#include "syshyper/mediated.h"

#define RAM_SIZE (512UL << 20)
#define SECTORS 2048 /* 1 MiB disks */
#define HDR_IPA(i) (GMM_BUF_IPA + 0x20 * (i))
#define STATUS_IPA(i) (GMM_BUF_IPA + 0x4000 + (i))
#define DATA_IPA(i) (GMM_BUF_IPA + 0x10000 + 0x1000 * (uint64_t)(i))

static uint8_t disk_data[GMM_MAX_GVMS][SECTORS * 512];

static struct med_area *A(void)
{
	return gmm_area();
}

/* ngvms GVMs, each with mediated disk i, and the MVM's area registered. */
static void setup_gvms(unsigned ngvms)
{
	mediated_test_reset();
	gmm_init(ngvms, RAM_SIZE);
	for (unsigned i = 0; i < ngvms; i++) {
		gmm_create_blk(&gmm.gvm[i], SECTORS, false, &mediated_blk_backend);
		assert_true(gmm_driver_init(&gmm.gvm[i], 0) & VIRTIO_STATUS_DRIVER_OK);
		memset(disk_data[i], 0x10 + i, sizeof(disk_data[i]));
	}
	assert_int_equal(gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, GMM_AREA_SIZE), HC_OK);
	assert_int_equal(A()->magic, MED_MAGIC);
	assert_int_equal(A()->version, MED_VERSION);
}

static int setup(void **state)
{
	(void)state;
	setup_gvms(2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mediated_test_unlocked = NULL;
	gmm_fini();
	mediated_test_reset();
	return 0;
}

/* ---------------------------------------------------------------- the MVM */

/* Takes every queued request: tags into tags[], returns how many. */
static unsigned mvm_take(uint64_t *tags, unsigned max)
{
	unsigned n = 0;
	uint64_t tag;

	while (n < max && med_req_take(A(), MED_RING_SIZE, &tag) == MED_RING_OK)
		tags[n++] = tag;
	return n;
}

/* Does the I/O of one request as the daemon would and gives it back. */
static void mvm_serve(uint64_t tag)
{
	uint32_t s = MED_TAG_SLOT(tag);
	struct med_slot *slot = &A()->slots[s];
	uint8_t *data = MED_SLOT_DATA_PTR(A(), s);
	uint8_t *d = disk_data[slot->disk] + slot->sector * 512;

	if (slot->type == MED_REQ_READ)
		memcpy(data, d, slot->len);
	else if (slot->type == MED_REQ_WRITE)
		memcpy(d, data, slot->len);
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, tag, MED_S_OK), MED_RING_OK);
}

static int64_t mvm_complete(void)
{
	return gmm_mvm_hypercall(HC_MED_COMPLETE, 0, 0);
}

/* Everything queued, served and completed. */
static unsigned mvm_serve_all(void)
{
	uint64_t tags[MED_MAX_SLOTS];
	unsigned n = mvm_take(tags, MED_MAX_SLOTS);

	for (unsigned i = 0; i < n; i++)
		mvm_serve(tags[i]);
	if (n)
		assert_int_equal(mvm_complete(), HC_OK);
	return n;
}

/* ---------------------------------------------------------------- the GVMs */

static struct gmm_gvm *G(unsigned i)
{
	return &gmm.gvm[i];
}

/* Request number i (descriptors 3i..3i+2) of `len` bytes at `sector`. */
static void submit(struct gmm_gvm *g, unsigned i, uint32_t type, uint64_t sector, uint32_t len)
{
	uint64_t a[1] = {DATA_IPA(i)};
	uint32_t l[1] = {len};

	gmm_offer(g, gmm_blk_request(g, 3 * i, type, sector, HDR_IPA(i), a, l, 1, STATUS_IPA(i)));
}

static uint8_t status_of(struct gmm_gvm *g, unsigned i)
{
	return *(uint8_t *)gmm_ptr(g, STATUS_IPA(i));
}

/* The IPI handler on the MVM's CPU. */
static void ipi(void)
{
	mediated_work();
}

static void test_write_then_read_end_to_end(void **state)
{
	struct gmm_gvm *g = G(0);
	(void)state;
	memset(gmm_ptr(g, DATA_IPA(0)), 0xa5, 4096);
	submit(g, 0, VIRTIO_BLK_T_OUT, 16, 4096);
	gmm_notify(g);
	assert_int_equal(gmm.sgis, 1);
	ipi();
	assert_int_equal(gmm.irqs_to_mvm, 1);
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(status_of(g, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(disk_data[0][16 * 512 + 4095], 0xa5);

	memset(gmm_ptr(g, DATA_IPA(1)), 0, 4096);
	submit(g, 1, VIRTIO_BLK_T_IN, 16, 4096);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(gmm_used_idx(g), 2);
	assert_int_equal(status_of(g, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA(1)))[4095], 0xa5);
}

extern uint64_t mediated_test_clock;

/* Time per stage: the hypervisor's stamps (notify, queueing, completion
 * hypercall, GVM interrupt) and the MVM's (interrupt, pick-up, I/O done)
 * add up per stage, published in the area; a hostile MVM's stamps out of
 * order count in no MVM stage and are counted as rejected. */
static void test_stage_times_add_up_and_hostile_stamps_do_not(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t tag = 0;
	(void)state;
	for (unsigned round = 0; round < 2; round++) {
		uint64_t base = 1000 * (round + 1);
		mediated_test_clock = base;
		submit(g, round, VIRTIO_BLK_T_IN, 8, 4096);
		gmm_notify(g); /* notify at +0 */
		mediated_test_clock = base + 10;
		ipi(); /* queued at +10 */
		assert_int_equal(med_req_take(A(), MED_RING_SIZE, &tag), MED_RING_OK);
		assert_int_equal(A()->slots[MED_TAG_SLOT(tag)].t_queued, base + 10);
		struct med_cmp e = {.t_irq = base + 15, .t_pickup = base + 20, .t_done = base + 60};
		if (round == 1)
			e.t_done = base + 5; /* before its own pick-up */
		assert_int_equal(med_cmp_give_timed(A(), MED_RING_SIZE, tag, MED_S_OK, &e),
				 MED_RING_OK);
		mediated_test_clock = base + 70;
		assert_int_equal(mvm_complete(), HC_OK); /* complete and GVM irq at +70 */
		assert_int_equal(status_of(g, round), VIRTIO_BLK_S_OK);
	}
	const struct med_stage_sum *st = A()->stages;
	assert_int_equal(st[MED_ST_TOTAL].count, 2);
	assert_int_equal(st[MED_ST_TOTAL].ticks, 140);
	assert_int_equal(st[MED_ST_NOTIFY_IRQ].count, 1);
	assert_int_equal(st[MED_ST_NOTIFY_IRQ].ticks, 15);
	assert_int_equal(st[MED_ST_IRQ_PICKUP].ticks, 5);
	assert_int_equal(st[MED_ST_PICKUP_DONE].ticks, 40);
	assert_int_equal(st[MED_ST_DONE_COMPLETE].ticks, 10);
	assert_int_equal(st[MED_ST_COMPLETE_GVM].count, 2);
	assert_int_equal(A()->stage_rejected, 1);
}

static uint16_t avail_event(struct gmm_gvm *g)
{
	volatile uint16_t *used = gmm_ptr(g, GMM_USED_IPA);
	return used[2 + 4 * GMM_QSZ];
}

/* With event idx, a disk's driver is told not to notify while the disk has
 * requests in flight (its avail_event stays behind what it published):
 * the pass after each completion takes what it added meanwhile, with no
 * notify and no IPI; with nothing in flight notifies are on again. */
static void test_notifies_off_while_in_flight(void **state)
{
	struct gmm_gvm *g = G(0);
	(void)state;
	assert_true(gmm_driver_init(g, VIRTIO_F_RING_EVENT_IDX) & VIRTIO_STATUS_DRIVER_OK);
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 4096);
	gmm_notify(g);
	ipi();
	assert_int_equal(A()->req_prod, 1);
	/* vring_need_event(avail_event, new 2, old 1) is false: no notify */
	assert_int_equal(avail_event(g), 0);
	submit(g, 1, VIRTIO_BLK_T_IN, 8, 4096); /* not notified, as the driver would */
	assert_int_equal(mvm_serve_all(), 1);   /* request 0; its completion's pass takes 1 */
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(A()->req_prod, 2);
	assert_int_equal(avail_event(g), 1);
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(gmm_used_idx(g), 2);
	assert_int_equal(avail_event(g), 2); /* nothing in flight: on */
	assert_int_equal(gmm.sgis, 1);       /* only the first request cost an IPI */
	assert_int_equal(status_of(g, 1), VIRTIO_BLK_S_OK);
}

/* Finding 1 through the mediated path: the 4 GiB + 512 write never reaches
 * a slot (it used to be copied whole into the 64 KiB slot). */
static void test_oversized_chain_never_reaches_a_slot(void **state)
{
	struct gmm_gvm *g = G(0);
	uint32_t type = VIRTIO_BLK_T_OUT;
	unsigned d;
	(void)state;
	memset(gmm_ptr(g, HDR_IPA(0)), 0, 16);
	memcpy(gmm_ptr(g, HDR_IPA(0)), &type, 4);
	gmm_set_desc(g, 0, HDR_IPA(0), 16, VIRTQ_DESC_F_NEXT, 1);
	for (d = 1; d <= 8; d++)
		gmm_set_desc(g, d, GMM_RAM_IPA, 512u << 20, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	gmm_set_desc(g, d, DATA_IPA(0), 512, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	gmm_set_desc(g, d + 1, STATUS_IPA(0), 1, VIRTQ_DESC_F_WRITE, 0);
	gmm_offer(g, 0);
	gmm_notify(g);
	ipi();
	assert_int_equal(A()->req_prod, 0);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(status_of(g, 0), VIRTIO_BLK_S_IOERR);
}

/* Finding 2: the MVM rewrites the header's layout fields and the
 * hypervisor's indices; the data still goes to slot 0's data at the
 * constant offset, and the ring entry where the hypervisor's own index says. */
static void test_area_layout_fields_are_not_trusted(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t tags[4];
	(void)state;
	A()->data_offset = 0xfff00000u;
	A()->slot_data_size = 0x7fffffffu;
	A()->nslots = 0xffffffffu;
	A()->req_prod = 1000; /* the hypervisor's index: only a copy */
	A()->req_cons = 12345;
	A()->cmp_cons = 777;
	memset(gmm_ptr(g, DATA_IPA(0)), 0x3c, 4096);
	submit(g, 0, VIRTIO_BLK_T_OUT, 0, 4096);
	gmm_notify(g);
	ipi();
	assert_int_equal(A()->req_prod, 1);
	uint64_t tag = A()->req_ring[0];
	assert_int_equal(MED_TAG_SLOT(tag), 0);
	assert_int_equal(MED_SLOT_DATA_PTR(A(), 0)[4095], 0x3c);
	assert_int_equal(MED_SLOT_DATA_PTR(A(), 0) - (uint8_t *)A(), MED_HDR_SIZE);
	/* the MVM side works from its own view again */
	A()->nslots = GMM_AREA_SLOTS;
	A()->req_cons = 0;
	A()->cmp_cons = 0;
	assert_int_equal(mvm_take(tags, 4), 1);
	mvm_serve(tags[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(A()->cmp_cons, 1); /* its own index, published */
	assert_int_equal(status_of(g, 0), VIRTIO_BLK_S_OK);
}

/* Finding 4: a guest republishing a request the device answers itself
 * (unsupported type) on every interrupt: one pass does a bounded amount of
 * work, the disk stays marked, and its further notifies send no IPI. */
static unsigned feeds;

static void feed(struct gmm_gvm *g)
{
	if (feeds && feeds-- > 0)
		gmm_offer(g, 0);
}

static void test_self_answered_flood_is_bounded(void **state)
{
	struct gmm_gvm *g = G(0);
	(void)state;
	submit(g, 0, 99, 0, 512);
	gmm_notify(g);
	assert_int_equal(gmm.sgis, 1);
	feeds = 100000;
	gmm.on_gvm_irq = feed;
	ipi();
	uint16_t answered = gmm_used_idx(g);
	assert_true(answered <= VIRTQ_MAX_SIZE);
	assert_true(answered > 0);
	gmm_notify(g);
	gmm_notify(g);
	assert_int_equal(gmm.sgis, 1); /* still marked: no IPI per notify */
	/* passes before the next tick answer nothing more: the budget is per
	 * tick, not per pass, so IPIs and completions cannot renew it */
	ipi();
	ipi();
	assert_int_equal(gmm_used_idx(g), answered);
	/* the next tick renews it, bounded again */
	mediated_tick();
	ipi();
	assert_true((uint16_t)(gmm_used_idx(g) - answered) <= VIRTQ_MAX_SIZE);
	assert_true(gmm_used_idx(g) != answered);
	gmm.on_gvm_irq = NULL;
	feeds = 0;
	/* once the guest stops, the disk drains and a new request IPIs again */
	for (int i = 0; i < 8; i++) {
		mediated_tick();
		ipi();
	}
	unsigned sgis = gmm.sgis;
	submit(g, 1, VIRTIO_BLK_T_IN, 1, 512);
	gmm_notify(g);
	assert_int_equal(gmm.sgis, sgis + 1);
}

/* A flood of requests the device answers itself on disk 0 costs the MVM's
 * CPU a bounded amount per tick, while disk 1's honest requests are served
 * at once, tick or no tick (fairness under abuse). */
static void test_junk_flood_leaves_honest_disk_served(void **state)
{
	struct gmm_gvm *g0 = G(0), *g1 = G(1);
	(void)state;
	submit(g0, 0, 99, 0, 512);
	gmm_notify(g0);
	feeds = 100000;
	gmm.on_gvm_irq = feed;
	unsigned answered_before = 0;
	for (unsigned i = 0; i < 8; i++) {
		submit(g1, i, VIRTIO_BLK_T_IN, i, 512);
		gmm_notify(g1);
		ipi();
		assert_true(mvm_serve_all() >= 1);
		assert_int_equal(status_of(g1, i), VIRTIO_BLK_S_OK);
		answered_before = gmm_used_idx(g0);
	}
	/* eight passes, no tick: one tick's budget of junk answered in all */
	assert_true(answered_before > 0 && answered_before <= VIRTQ_MAX_SIZE);
	gmm.on_gvm_irq = NULL;
	feeds = 0;
}

/* Finding 4: one IPI per batch, not per notify. */
static void test_one_ipi_per_batch(void **state)
{
	struct gmm_gvm *g = G(0);
	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		submit(g, i, VIRTIO_BLK_T_IN, i, 512);
		gmm_notify(g);
	}
	assert_int_equal(gmm.sgis, 1);
	ipi();
	assert_int_equal(A()->req_prod, 4);
	submit(g, 4, VIRTIO_BLK_T_IN, 4, 512);
	gmm_notify(g);
	assert_int_equal(gmm.sgis, 2);
}

/* A guest notifying in a loop with nothing new in its queue costs the MVM's
 * CPU nothing: no IPI. */
static void test_empty_notify_storm_sends_no_ipi(void **state)
{
	struct gmm_gvm *g = G(0);
	(void)state;
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(g);
	ipi();
	assert_int_equal(gmm.sgis, 1);
	for (int i = 0; i < 1000; i++)
		gmm_notify(g);
	assert_int_equal(gmm.sgis, 1);
	assert_int_equal(mvm_serve_all(), 1);
	submit(g, 1, VIRTIO_BLK_T_IN, 1, 512);
	gmm_notify(g);
	assert_int_equal(gmm.sgis, 2);
}

/* Finding 5: disk 0 floods; disk 1's request still gets a slot at once,
 * and disk 0 never holds all of them. */
static void test_flooding_disk_does_not_starve_another(void **state)
{
	struct gmm_gvm *g0 = G(0), *g1 = G(1);
	unsigned per_disk[2] = {0, 0};
	(void)state;
	for (unsigned i = 0; i < 80; i++)
		submit(g0, i, VIRTIO_BLK_T_IN, i, 512);
	gmm_notify(g0);
	ipi();
	submit(g1, 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(g1);
	ipi();
	for (uint32_t i = 0; i < A()->req_prod; i++)
		per_disk[A()->slots[MED_TAG_SLOT(A()->req_ring[i % MED_RING_SIZE])].disk]++;
	assert_int_equal(per_disk[1], 1);
	assert_true(per_disk[0] < GMM_AREA_SLOTS);
	assert_int_equal(mvm_serve_all(), per_disk[0] + 1);
	assert_int_equal(status_of(g1, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(((uint8_t *)gmm_ptr(g1, DATA_IPA(0)))[0], 0x11);
	/* disk 0's remaining requests are served in later rounds */
	while (mvm_serve_all())
		;
	assert_int_equal(gmm_used_idx(g0), 80);
}

/* Finding 5: both disks flood; slots are shared evenly. */
static void test_two_floods_share_slots(void **state)
{
	unsigned per_disk[2] = {0, 0};
	(void)state;
	for (unsigned d = 0; d < 2; d++)
		for (unsigned i = 0; i < 60; i++)
			submit(G(d), i, VIRTIO_BLK_T_IN, i, 512);
	gmm_notify(G(0));
	gmm_notify(G(1));
	ipi();
	for (uint32_t i = 0; i < A()->req_prod; i++)
		per_disk[A()->slots[MED_TAG_SLOT(A()->req_ring[i % MED_RING_SIZE])].disk]++;
	assert_int_equal(per_disk[0], GMM_AREA_SLOTS / 2);
	assert_int_equal(per_disk[1], GMM_AREA_SLOTS / 2);
}

/* Finding 8: the guest resets its device while a read is in flight; the
 * completion writes nothing into its memory (buffers, status, used ring). */
static void test_no_read_data_after_reset(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t tags[2];
	(void)state;
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 4096);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_take(tags, 2), 1);
	/* reset and set up again; the buffer is the guest's to reuse */
	assert_true(gmm_driver_init(g, 0) & VIRTIO_STATUS_DRIVER_OK);
	memset(gmm_ptr(g, DATA_IPA(0)), 0x99, 4096);
	*(uint8_t *)gmm_ptr(g, STATUS_IPA(0)) = 0x42;
	mvm_serve(tags[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA(0)))[0], 0x99);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA(0)))[4095], 0x99);
	assert_int_equal(status_of(g, 0), 0x42);
	assert_int_equal(gmm_used_idx(g), 0);
	/* the slot is free again: a new request is served */
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(status_of(g, 0), VIRTIO_BLK_S_OK);
}

/* QueueReady 0 stops the queue (the driver may take its memory back
 * without a device reset, as Linux's del_vq does); enabled again, it is a
 * new queue: a read still at the MVM must not land in the old buffers nor
 * its head in the new used ring. */
static void test_no_read_data_after_queue_reenable(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t tags[2];
	(void)state;
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 4096);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_take(tags, 2), 1);
	gmm_mmio_write(g, 0x044, 0); /* QueueReady */
	assert_int_equal(gmm_mmio_read(g, 0x044), 0);
	gmm_mmio_write(g, 0x044, 1);
	assert_int_equal(gmm_mmio_read(g, 0x044), 1);
	memset(gmm_ptr(g, DATA_IPA(0)), 0x99, 4096);
	*(uint8_t *)gmm_ptr(g, STATUS_IPA(0)) = 0x42;
	mvm_serve(tags[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA(0)))[0], 0x99);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA(0)))[4095], 0x99);
	assert_int_equal(status_of(g, 0), 0x42);
	assert_int_equal(gmm_used_idx(g), 0);
}

/* Finding 11: a completion from before a resync (the request was queued
 * again with a new tag) finishes nothing; the new tag does. */
static void test_stale_completion_after_resync(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t old[2], now[2];
	(void)state;
	submit(g, 0, VIRTIO_BLK_T_IN, 3, 512);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_take(old, 2), 1);
	assert_int_equal(gmm_mvm_hypercall(HC_MED_RESYNC, 0, 0), HC_OK);
	assert_int_equal(mvm_take(now, 2), 1);
	assert_int_equal(MED_TAG_SLOT(old[0]), MED_TAG_SLOT(now[0]));
	assert_true(old[0] != now[0]);
	/* the old daemon's worker finishes late */
	memset(MED_SLOT_DATA_PTR(A(), MED_TAG_SLOT(old[0])), 0xee, 512);
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, old[0], MED_S_OK), MED_RING_OK);
	unsigned logs = gmm.log_lines[LOG_MEDIATED];
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	assert_int_equal(gmm.log_lines[LOG_MEDIATED], logs + 1);
	assert_int_equal(gmm_used_idx(g), 0);
	mvm_serve(now[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA(0)))[0], 0x10);
}

/* Finding 11: a duplicate completion, after the slot went to another GVM's
 * request, never finishes that request. */
static void test_duplicate_completion_after_reuse(void **state)
{
	uint64_t t0[2], t1[2];
	(void)state;
	submit(G(0), 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(G(0));
	ipi();
	assert_int_equal(mvm_take(t0, 2), 1);
	mvm_serve(t0[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	/* gvm2's request takes the same slot */
	submit(G(1), 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(G(1));
	ipi();
	assert_int_equal(mvm_take(t1, 2), 1);
	assert_int_equal(MED_TAG_SLOT(t1[0]), MED_TAG_SLOT(t0[0]));
	/* the first completion again, with gvm1's data in the slot */
	memset(MED_SLOT_DATA_PTR(A(), MED_TAG_SLOT(t0[0])), 0x10, 512);
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, t0[0], MED_S_OK), MED_RING_OK);
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	assert_int_equal(gmm_used_idx(G(1)), 0);
	assert_int_equal(gmm_used_idx(G(0)), 1);
	mvm_serve(t1[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(gmm_used_idx(G(1)), 1);
	assert_int_equal(((uint8_t *)gmm_ptr(G(1), DATA_IPA(0)))[0], 0x11);
}

/* Hostile completion values: a slot that does not exist, a free slot, a
 * producer far ahead or behind, a garbage status. */
static void test_hostile_completion_values(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t tags[2];
	(void)state;
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_take(tags, 2), 1);

	/* slot 200 and slot 61 (free) */
	med_cmp_give(A(), MED_RING_SIZE, (tags[0] & ~0xffull) | 200, MED_S_OK);
	med_cmp_give(A(), MED_RING_SIZE, (tags[0] & ~0xffull) | 61, MED_S_OK);
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	assert_int_equal(gmm_used_idx(g), 0);

	/* producer far ahead, then behind: nothing is taken */
	uint32_t cons = A()->cmp_cons;
	A()->cmp_prod = cons + 1000;
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	assert_int_equal(gmm_used_idx(g), 0);
	A()->cmp_prod = A()->cmp_cons - 3;
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	assert_int_equal(gmm_used_idx(g), 0);

	/* the hypervisor follows the producer; a garbage status is an error */
	A()->cmp_prod = A()->cmp_cons;
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, tags[0], 0x7eadbeef), MED_RING_OK);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(status_of(g, 0), VIRTIO_BLK_S_IOERR);
	assert_true(gmm.log_lines[LOG_MEDIATED] >= 3);
}

/* A killed daemon: requests in flight are queued again by the resync and
 * finish once; nothing is lost. */
static void test_resync_loses_nothing(void **state)
{
	uint64_t tags[MED_MAX_SLOTS];
	(void)state;
	for (unsigned i = 0; i < 10; i++)
		submit(G(0), i, VIRTIO_BLK_T_IN, i, 512);
	gmm_notify(G(0));
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), 10);
	for (unsigned i = 0; i < 3; i++) /* the old daemon finished three */
		mvm_serve(tags[i]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(gmm_used_idx(G(0)), 3);
	/* it dies; the new one resyncs and serves the rest */
	assert_int_equal(gmm_mvm_hypercall(HC_MED_RESYNC, 0, 0), HC_OK);
	assert_int_equal(A()->req_prod, 7);
	assert_int_equal(mvm_serve_all(), 7);
	assert_int_equal(gmm_used_idx(G(0)), 10);
}

/* MVM user space may call HC_MED_RESYNC (SYSHYPER_IOC_RESYNC) in a loop:
 * it must not get a hypervisor log line per call, only rate-limited ones
 * (vm_log). */
static void test_resync_loop_does_not_flood_the_log(void **state)
{
	(void)state;
	submit(G(0), 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(G(0));
	ipi();
	unsigned printks = gmm.printks;
	for (unsigned i = 0; i < 1000; i++)
		assert_int_equal(gmm_mvm_hypercall(HC_MED_RESYNC, 0, 0), HC_OK);
	assert_int_equal(gmm.printks, printks);
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(status_of(G(0), 0), VIRTIO_BLK_S_OK);
}

/* A pass that stopped on its budget leaves the disk marked, so the
 * guest's later notifies send no IPI; with no other disk busy nothing else
 * starts a pass: the hypervisor's tick must, or the disk hangs for good
 * (here: the flood stops, an honest read waits). */
static void test_leftover_work_is_resumed_by_the_tick(void **state)
{
	struct gmm_gvm *g = G(0);
	(void)state;
	submit(g, 0, 99, 0, 512);
	gmm_notify(g);
	feeds = 100000;
	gmm.on_gvm_irq = feed;
	ipi(); /* stops on its budget */
	gmm.on_gvm_irq = NULL;
	feeds = 0;
	submit(g, 1, VIRTIO_BLK_T_IN, 1, 512);
	gmm_notify(g);
	unsigned sgis = gmm.sgis;
	uint64_t tags[MED_MAX_SLOTS];
	for (unsigned t = 0; t < 4 && !mvm_take(tags, MED_MAX_SLOTS); t++) {
		mediated_tick(); /* on every CPU's tick */
		if (gmm.sgis != sgis) {
			sgis = gmm.sgis;
			ipi();
		}
	}
	assert_int_equal(A()->req_prod, 1);
	mvm_serve(tags[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(status_of(g, 1), VIRTIO_BLK_S_OK);
	/* nothing left over: ticks send no IPI */
	sgis = gmm.sgis;
	mediated_tick();
	mediated_tick();
	assert_int_equal(gmm.sgis, sgis);
}

/* Issue 9, review F7: requests a GVM had at the MVM when it stopped are
 * not cancelled (the daemon may be writing one): they count in the VM's
 * life.l.io, which keeps its next instance from starting, until the MVM
 * has done them, across a daemon's resync; a completion with a wrong tag
 * releases nothing, and the completions write nothing into the stopped
 * VM. Another GVM's count is its own. */
static void test_stopped_vm_counts_its_requests_at_the_mvm(void **state)
{
	struct gmm_gvm *g = G(0);
	struct life *l = &g->vm->life.l;
	uint64_t tags[4];
	(void)state;
	memset(gmm_ptr(g, DATA_IPA(0)), 0xab, 4096);
	submit(g, 0, VIRTIO_BLK_T_OUT, 8, 4096);
	submit(g, 1, VIRTIO_BLK_T_IN, 16, 512);
	gmm_notify(g);
	ipi();
	assert_int_equal(l->io, 2);
	assert_int_equal(G(1)->vm->life.l.io, 0);
	assert_int_equal(mvm_take(tags, 4), 2);
	/* the VM stops: vm_reset_devices; its RAM is zeroed */
	virtio_mmio_reset(&g->blk.vdev);
	memset(gmm_ptr(g, DATA_IPA(1)), 0, 512);
	assert_int_equal(l->io, 2);
	/* a hostile completion: a tag of the slot's, but not its generation */
	assert_int_equal(
		med_cmp_give(A(), MED_RING_SIZE, tags[0] + (1u << MED_TAG_SLOT_BITS), MED_S_OK),
		MED_RING_OK);
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	assert_int_equal(l->io, 2);
	/* a restarted daemon gets them again: still counted */
	assert_int_equal(gmm_mvm_hypercall(HC_MED_RESYNC, 0, 0), HC_OK);
	assert_int_equal(mvm_take(tags, 4), 2);
	assert_int_equal(l->io, 2);
	unsigned w = A()->slots[MED_TAG_SLOT(tags[0])].type == MED_REQ_WRITE ? 0 : 1;
	mvm_serve(tags[1 - w]); /* the read */
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(l->io, 1);
	mvm_serve(tags[w]); /* the write lands on the disk: only now */
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(l->io, 0);
	assert_int_equal(disk_data[0][8 * 512], 0xab);
	assert_int_equal(((uint8_t *)gmm_ptr(g, DATA_IPA(1)))[0], 0);
	assert_int_equal(gmm_used_idx(g), 0);
}

/* A new area (the module registered again) retires every request of the
 * old one: the counts go with them. */
static void test_new_area_releases_the_count(void **state)
{
	struct life *l = &G(0)->vm->life.l;
	(void)state;
	submit(G(0), 0, VIRTIO_BLK_T_IN, 0, 512);
	submit(G(0), 1, VIRTIO_BLK_T_IN, 1, 512);
	gmm_notify(G(0));
	ipi();
	assert_int_equal(l->io, 2);
	assert_int_equal(gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, GMM_AREA_SIZE), HC_OK);
	assert_int_equal(l->io, 0);
	assert_int_equal(status_of(G(0), 0), VIRTIO_BLK_S_IOERR);
}

/* The MVM can register only the region its configuration reserves: not a
 * shifted, shorter or longer one (which would reach past the reservation
 * into memory its kernel uses), and the header says how many slots it has. */
static void test_register_only_the_configured_area(void **state)
{
	(void)state;
	assert_int_equal(A()->nslots, GMM_AREA_SLOTS);
	assert_int_equal(
		gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA + 4096, GMM_AREA_SIZE - 4096),
		HC_ERR_INVALID);
	assert_int_equal(
		gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, GMM_AREA_SIZE - MED_SLOT_DATA),
		HC_ERR_INVALID);
	assert_int_equal(
		gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, GMM_AREA_SIZE + MED_SLOT_DATA),
		HC_ERR_INVALID);
	assert_int_equal(gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, 0), HC_ERR_INVALID);
	assert_int_equal(gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, GMM_AREA_SIZE), HC_OK);
	assert_int_equal(A()->nslots, GMM_AREA_SLOTS);
	/* the configured slots are used, none beyond: one disk up to its cap
	 * (another disk exists), the other the rest */
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned i = 0; i < GMM_AREA_SLOTS; i++)
			submit(G(d), i, VIRTIO_BLK_T_IN, i % SECTORS, 512);
		gmm_notify(G(d));
	}
	ipi();
	assert_int_equal(A()->req_prod, GMM_AREA_SLOTS);
	for (uint32_t i = 0; i < A()->req_prod; i++)
		assert_true(MED_TAG_SLOT(A()->req_ring[i]) < GMM_AREA_SLOTS);
}

/* A stopped VM's RAM is zeroed (the write's buffer included) while its
 * write is at the daemon; a resync then must not copy the data again from
 * the guest: the disk gets what the guest wrote, not zeros. */
static void test_resync_keeps_the_data_copied_at_submission(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t tags[4];
	(void)state;
	memset(gmm_ptr(g, DATA_IPA(0)), 0xab, 4096);
	submit(g, 0, VIRTIO_BLK_T_OUT, 8, 4096);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_take(tags, 4), 1);
	virtio_mmio_reset(&g->blk.vdev);
	memset(gmm_ptr(g, DATA_IPA(0)), 0, 4096); /* clean-up zeroes the VM's RAM */
	assert_int_equal(gmm_mvm_hypercall(HC_MED_RESYNC, 0, 0), HC_OK);
	assert_int_equal(mvm_take(tags, 4), 1);
	mvm_serve(tags[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(disk_data[0][8 * 512], 0xab);
}

/* ------------------------------------------------ requests of up to 1 MiB */

#define BIG (1u << 20)
#define BIG_IPA(i) (GMM_RAM_IPA + 0x1000000UL + (uint64_t)(i)*0x200000UL)
#define BIG_HDR_IPA(i) (GMM_RAM_IPA + 0x800000UL + 0x20 * (uint64_t)(i))
#define BIG_STATUS_IPA(i) (GMM_RAM_IPA + 0x900000UL + (uint64_t)(i))
#define IND_IPA(i) (GMM_RAM_IPA + 0xa00000UL + 0x2000UL * (uint64_t)(i))
#define PARTS (BIG / MED_SLOT_DATA)

/* Large request number i (descriptors from `first`) in `n` buffers of the
 * given lengths, laid end to end from BIG_IPA(i) (direct descriptors). */
static void submit_big(struct gmm_gvm *g, unsigned i, unsigned first, uint32_t type,
		       uint64_t sector, const uint32_t *lens, unsigned n)
{
	uint64_t a[16];
	uint64_t at = BIG_IPA(i);

	for (unsigned k = 0; k < n; k++) {
		a[k] = at;
		at += lens[k];
	}
	gmm_offer(g, gmm_blk_request(g, first, type, sector, BIG_HDR_IPA(i), a, lens, n,
				     BIG_STATUS_IPA(i)));
}

/* 1 MiB as Linux sends it with seg_max 256: one indirect table of 258
 * entries (header, 256 pages, status) in descriptor `first`. */
static void submit_big_indirect(struct gmm_gvm *g, unsigned i, unsigned first, uint32_t type,
				uint64_t sector, unsigned pages)
{
	struct virtq_desc *t = gmm_ptr(g, IND_IPA(i));
	uint8_t *hdr = gmm_ptr(g, BIG_HDR_IPA(i));
	uint16_t wr = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;
	unsigned n = pages + 2;

	memset(hdr, 0, 16);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	*(uint8_t *)gmm_ptr(g, BIG_STATUS_IPA(i)) = 0xee;
	t[0] = (struct virtq_desc){BIG_HDR_IPA(i), 16, VIRTQ_DESC_F_NEXT, 1};
	for (unsigned k = 0; k < pages; k++) /* pages in reverse: not contiguous */
		t[1 + k] =
			(struct virtq_desc){BIG_IPA(i) + 4096UL * (pages - 1 - k), 4096,
					    (uint16_t)(VIRTQ_DESC_F_NEXT | wr), (uint16_t)(2 + k)};
	t[n - 1] = (struct virtq_desc){BIG_STATUS_IPA(i), 1, VIRTQ_DESC_F_WRITE, 0};
	gmm_set_desc(g, first, IND_IPA(i), 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	gmm_offer(g, (uint16_t)first);
}

static uint8_t big_status(struct gmm_gvm *g, unsigned i)
{
	return *(uint8_t *)gmm_ptr(g, BIG_STATUS_IPA(i));
}

static uint8_t pattern(uint64_t k)
{
	return (uint8_t)(k * 7 + (k >> 12) * 13 + 1);
}

/* The device offers what a 1 MiB request needs: seg_max 256 pages of 4 KiB
 * (Linux: max_segments 256, max_segment_size 4096, so 1 MiB requests);
 * longer reads or writes are answered with an error and reach no slot. */
static void test_large_request_limits(void **state)
{
	struct gmm_gvm *g = G(0);
	uint32_t lens[2] = {BIG, 512};
	(void)state;
	assert_int_equal(gmm_mmio_read(g, 0x100 + 8), 4096); /* size_max */
	assert_int_equal(gmm_mmio_read(g, 0x100 + 12), 256); /* seg_max */
	submit_big(g, 0, 0, VIRTIO_BLK_T_OUT, 0, lens, 2);
	gmm_notify(g);
	ipi();
	assert_int_equal(A()->req_prod, 0);
	assert_int_equal(big_status(g, 0), VIRTIO_BLK_S_IOERR);
}

/* A 1 MiB write in buffers that straddle the 64 KiB parts (some at odd
 * addresses, some at 4 mod 8, the rest aligned): 16 slots, each
 * a request of adjacent sectors for the MVM, holding exactly its bytes;
 * completed out of order, the guest hears of it once, after the last. */
static void test_large_write_is_a_chain_of_slots(void **state)
{
	struct gmm_gvm *g = G(0);
	uint32_t lens[5] = {100001, 299999, 4100, 499996, BIG - 904096}; /* odd: bytes */
	uint64_t tags[MED_MAX_SLOTS];
	uint8_t *src = gmm_ptr(g, BIG_IPA(0));
	(void)state;
	for (uint64_t k = 0; k < BIG; k++)
		src[k] = pattern(k);
	submit_big(g, 0, 0, VIRTIO_BLK_T_OUT, 0, lens, 5);
	gmm_notify(g);
	ipi();
	assert_int_equal(gmm.irqs_to_mvm, 1);
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), PARTS);
	for (unsigned p = 0; p < PARTS; p++) {
		const struct med_slot *s = &A()->slots[MED_TAG_SLOT(tags[p])];
		assert_int_equal(s->type, MED_REQ_WRITE);
		assert_int_equal(s->sector, p * (MED_SLOT_DATA / 512));
		assert_int_equal(s->len, MED_SLOT_DATA);
		const uint8_t *d = MED_SLOT_DATA_PTR(A(), MED_TAG_SLOT(tags[p]));
		for (uint32_t k = 0; k < MED_SLOT_DATA; k += 997)
			assert_int_equal(d[k], pattern((uint64_t)p * MED_SLOT_DATA + k));
		assert_int_equal(d[MED_SLOT_DATA - 1],
				 pattern((uint64_t)(p + 1) * MED_SLOT_DATA - 1));
	}
	for (unsigned p = PARTS; p-- > 0;) { /* last part first, one hypercall each */
		mvm_serve(tags[p]);
		assert_int_equal(mvm_complete(), HC_OK);
		assert_int_equal(gmm_used_idx(g), p ? 0 : 1);
	}
	assert_int_equal(big_status(g, 0), VIRTIO_BLK_S_OK);
	for (uint64_t k = 0; k < BIG; k++)
		if (disk_data[0][k] != pattern(k))
			fail_msg("byte %lu on disk differs", (unsigned long)k);
	assert_int_equal(mediated_slots_in_flight(), 0);
}

/* A 1 MiB read in 256 pages by an indirect table (a chain of 258 buffers):
 * parts served in a scrambled order over several hypercalls land in the
 * guest's pages in order, with the used length 1 MiB + the status byte. */
static void test_large_read_out_of_order(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t tags[MED_MAX_SLOTS];
	uint32_t id, len;
	(void)state;
	assert_true(gmm_driver_init(g, VIRTIO_F_RING_INDIRECT_DESC) & VIRTIO_STATUS_DRIVER_OK);
	for (uint64_t k = 0; k < BIG; k++)
		disk_data[0][k] = pattern(k);
	memset(gmm_ptr(g, BIG_IPA(0)), 0, BIG);
	submit_big_indirect(g, 0, 0, VIRTIO_BLK_T_IN, 0, 256);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), PARTS);
	for (unsigned j = 0; j < PARTS; j++) {
		mvm_serve(tags[(j * 7 + 3) % PARTS]); /* 7 is prime to 16: each once */
		if (j % 5 == 4 || j == PARTS - 1)
			assert_int_equal(mvm_complete(), HC_OK);
		assert_int_equal(gmm_used_idx(g), j == PARTS - 1 ? 1 : 0);
	}
	gmm_used_elem(g, 0, &id, &len);
	assert_int_equal(len, BIG + 1);
	assert_int_equal(big_status(g, 0), VIRTIO_BLK_S_OK);
	const uint8_t *pages = gmm_ptr(g, BIG_IPA(0));
	for (uint64_t k = 0; k < BIG; k++) { /* page k/4096 of the disk is buffer page 255 - it */
		uint64_t at = 4096 * (255 - k / 4096) + k % 4096;
		if (pages[at] != pattern(k))
			fail_msg("byte %lu of the read differs", (unsigned long)k);
	}
}

/* Hostile completions of a large request's parts: a part completed twice,
 * a part's tag with another generation, a part of a slot the request does
 * not hold, and one failed part: the request finishes once, after its last
 * part, with the failure, and no read data reaches the guest. */
static void test_large_request_hostile_parts(void **state)
{
	struct gmm_gvm *g = G(0);
	uint32_t lens[1] = {BIG};
	uint64_t tags[MED_MAX_SLOTS];
	(void)state;
	memset(gmm_ptr(g, BIG_IPA(0)), 0x5a, BIG);
	submit_big(g, 0, 0, VIRTIO_BLK_T_IN, 0, lens, 1);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), PARTS);
	for (unsigned p = 0; p + 1 < PARTS; p++)
		mvm_serve(tags[p]);
	/* the first part again, the last part with a wrong generation, a
	 * free slot's number: refused, the request still waits */
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, tags[0], MED_S_OK), MED_RING_OK);
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, tags[PARTS - 1] + (1u << 8), MED_S_OK),
			 MED_RING_OK);
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, (tags[0] & ~0xffull) | 60, MED_S_OK),
			 MED_RING_OK);
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	assert_int_equal(gmm_used_idx(g), 0);
	assert_int_equal(mediated_slots_in_flight(), PARTS);
	/* the last part fails: the whole request is an error, nothing copied */
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, tags[PARTS - 1], MED_S_IOERR),
			 MED_RING_OK);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(big_status(g, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(((uint8_t *)gmm_ptr(g, BIG_IPA(0)))[0], 0x5a);
	assert_int_equal(((uint8_t *)gmm_ptr(g, BIG_IPA(0)))[BIG - 1], 0x5a);
	/* and its tags are dead: a late repeat finishes nothing */
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, tags[3], MED_S_OK), MED_RING_OK);
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(mediated_slots_in_flight(), 0);
}

/* A killed daemon with half of a large write's parts done: the resync
 * queues the other half again (new tags, the data left in the slots, not
 * copied again), the old tags finish nothing, the write completes once. */
static void test_large_write_survives_resync(void **state)
{
	struct gmm_gvm *g = G(0);
	uint32_t lens[1] = {BIG};
	uint64_t tags[MED_MAX_SLOTS], again[MED_MAX_SLOTS];
	(void)state;
	memset(gmm_ptr(g, BIG_IPA(0)), 0x77, BIG);
	submit_big(g, 0, 0, VIRTIO_BLK_T_OUT, 0, lens, 1);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), PARTS);
	for (unsigned p = 0; p < PARTS / 2; p++)
		mvm_serve(tags[p]);
	assert_int_equal(mvm_complete(), HC_OK);
	/* the guest rewrites its buffer: what reaches the disk is what was
	 * copied when the request was taken */
	memset(gmm_ptr(g, BIG_IPA(0)), 0x11, BIG);
	assert_int_equal(gmm_mvm_hypercall(HC_MED_RESYNC, 0, 0), HC_OK);
	assert_int_equal(mvm_take(again, MED_MAX_SLOTS), PARTS / 2);
	for (unsigned p = 0; p < PARTS / 2; p++) {
		assert_int_equal(MED_TAG_SLOT(again[p]), MED_TAG_SLOT(tags[PARTS / 2 + p]));
		assert_int_equal(A()->slots[MED_TAG_SLOT(again[p])].sector,
				 (PARTS / 2 + p) * (MED_SLOT_DATA / 512));
	}
	assert_int_equal(med_cmp_give(A(), MED_RING_SIZE, tags[PARTS - 1], MED_S_OK), MED_RING_OK);
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	for (unsigned p = 0; p < PARTS / 2; p++)
		mvm_serve(again[p]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(big_status(g, 0), VIRTIO_BLK_S_OK);
	for (uint64_t k = 0; k < BIG; k += 4093)
		assert_int_equal(disk_data[0][k], 0x77);
}

/* Two disks each sending ten 1 MiB requests (62 slots: three requests of
 * 16 at a time, the fourth waits), many rounds: the ring wraps around, the requests complete in
 * order of their service and every one is right. */
static void test_large_requests_wrap_and_share(void **state)
{
	unsigned done[2] = {0, 0};
	uint32_t lens[1] = {BIG};
	(void)state;
	for (unsigned d = 0; d < 2; d++) {
		for (unsigned i = 0; i < 10; i++)
			submit_big(G(d), i, 3 * i, VIRTIO_BLK_T_OUT, 0, lens, 1);
		gmm_notify(G(d));
	}
	ipi();
	assert_int_equal(A()->req_prod, 3 * PARTS);
	for (unsigned round = 0; round < 20 && (done[0] < 10 || done[1] < 10); round++) {
		uint64_t tags[MED_MAX_SLOTS];
		unsigned n = mvm_take(tags, MED_MAX_SLOTS);
		assert_true(n <= 3 * PARTS);
		for (unsigned k = n; k-- > 0;) /* backwards */
			mvm_serve(tags[k]);
		if (n)
			assert_int_equal(mvm_complete(), HC_OK);
		for (unsigned d = 0; d < 2; d++)
			done[d] = gmm_used_idx(G(d));
	}
	assert_int_equal(done[0], 10);
	assert_int_equal(done[1], 10);
	assert_true(A()->req_prod > MED_RING_SIZE); /* wrapped */
	for (unsigned d = 0; d < 2; d++)
		for (unsigned i = 0; i < 10; i++)
			assert_int_equal(big_status(G(d), i), VIRTIO_BLK_S_OK);
	assert_int_equal(mediated_slots_in_flight(), 0);
}

/* A busy disk next to an idle one holds up to 46 slots (two 1 MiB requests
 * and small ones), never so many that the other's 1 MiB request finds no
 * room: it is queued at once. */
static void test_busy_disk_leaves_room_for_a_whole_request(void **state)
{
	uint32_t lens[1] = {BIG};
	(void)state;
	for (unsigned i = 0; i < 3; i++)
		submit_big(G(0), i, 3 * i, VIRTIO_BLK_T_IN, 0, lens, 1);
	for (unsigned i = 10; i < 40; i++)
		submit(G(0), i, VIRTIO_BLK_T_IN, i, 512);
	gmm_notify(G(0));
	ipi();
	assert_int_equal(A()->req_prod, 2 * PARTS); /* the third waits: 48 > 46 */
	assert_int_equal(mediated_slots_in_flight(), 2 * PARTS);
	submit_big(G(1), 0, 0, VIRTIO_BLK_T_IN, 0, lens, 1);
	gmm_notify(G(1));
	ipi();
	assert_int_equal(A()->req_prod, 3 * PARTS);
	while (mvm_serve_all())
		;
	assert_int_equal(gmm_used_idx(G(0)), 33);
	assert_int_equal(gmm_used_idx(G(1)), 1);
	assert_int_equal(big_status(G(1), 0), VIRTIO_BLK_S_OK);
}

static int setup_one_disk(void **state)
{
	(void)state;
	setup_gvms(1);
	return 0;
}

/* A full area: 50 small requests hold 50 of the 62 slots; a 1 MiB request
 * behind them waits (no slot is taken for a part of it) and so do the small
 * ones behind it (order kept); it goes once 16 slots are free, not before. */
static void test_large_request_waits_for_a_full_area(void **state)
{
	struct gmm_gvm *g = G(0);
	uint32_t lens[1] = {BIG};
	uint64_t tags[MED_MAX_SLOTS];
	(void)state;
	for (unsigned i = 0; i < 50; i++)
		submit(g, i, VIRTIO_BLK_T_IN, i, 512);
	submit_big(g, 0, 150, VIRTIO_BLK_T_IN, 0, lens, 1);
	for (unsigned i = 60; i < 65; i++)
		submit(g, i, VIRTIO_BLK_T_IN, i, 512);
	gmm_notify(g);
	ipi();
	assert_int_equal(A()->req_prod, 50);
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), 50);
	for (unsigned i = 0; i < 3; i++)
		mvm_serve(tags[i]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(A()->req_prod, 50); /* 15 free: not enough */
	mvm_serve(tags[3]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(A()->req_prod, 50 + PARTS); /* 16 free: it goes, alone */
	assert_int_equal(mediated_slots_in_flight(), 62);
	for (unsigned i = 4; i < 50; i++)
		mvm_serve(tags[i]);
	assert_int_equal(mvm_complete(), HC_OK);
	while (mvm_serve_all())
		;
	assert_int_equal(gmm_used_idx(g), 56);
	assert_int_equal(big_status(g, 0), VIRTIO_BLK_S_OK);
	for (unsigned i = 60; i < 65; i++)
		assert_int_equal(status_of(g, i), VIRTIO_BLK_S_OK);
}

/* A large write waiting for slots when the guest resets its device (a
 * stopped VM's next instance may hold anything in those buffers): its
 * data is never copied into a slot nor written to the disk. */
static void test_waiting_write_after_reset_copies_nothing(void **state)
{
	struct gmm_gvm *g = G(0);
	uint32_t lens[1] = {BIG};
	uint64_t tags[MED_MAX_SLOTS];
	(void)state;
	for (unsigned i = 0; i < 50; i++)
		submit(g, i, VIRTIO_BLK_T_IN, i, 512);
	memset(gmm_ptr(g, BIG_IPA(0)), 0x66, BIG);
	submit_big(g, 0, 150, VIRTIO_BLK_T_OUT, 0, lens, 1);
	gmm_notify(g);
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), 50);
	assert_true(gmm_driver_init(g, 0) & VIRTIO_STATUS_DRIVER_OK);
	memset(gmm_ptr(g, BIG_IPA(0)), 0xcc, BIG); /* the new instance's secret */
	for (unsigned i = 0; i < 50; i++)
		mvm_serve(tags[i]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(A()->req_prod, 50);
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), 0);
	for (unsigned s = 0; s < GMM_AREA_SLOTS; s++)
		assert_int_not_equal(MED_SLOT_DATA_PTR(A(), s)[100], 0xcc);
	assert_int_equal(mediated_slots_in_flight(), 0);
	assert_int_equal(gmm_used_idx(g), 0);
	assert_int_equal(disk_data[0][0], 0x10);
}

/* Three mediated disks: gvm2 and gvm3 (G(1), G(2)) fill the area at their
 * caps, and gvm1 (G(0)) queues a WRITE_ZEROES that waits for a slot. gvm1
 * stops (reset) and its next instance writes the same sectors; when slots
 * free, the old instance's zeroing must not reach the MVM. */
static int setup3(void **state)
{
	(void)state;
	setup_gvms(3);
	return 0;
}

static void test_waiting_request_of_a_stopped_instance_never_reaches_the_mvm(void **state)
{
	struct gmm_gvm *g = G(0);
	struct life *l = &g->vm->life.l;
	uint64_t tags[MED_MAX_SLOTS];
	(void)state;
	for (unsigned v = 1; v < 3; v++) {
		for (unsigned i = 0; i < 31; i++)
			submit(G(v), i, VIRTIO_BLK_T_IN, i, 512);
		gmm_notify(G(v));
	}
	ipi();
	unsigned held = mvm_take(tags, MED_MAX_SLOTS);
	/* gvm1: WRITE_ZEROES of sectors 8..15 (16-byte range segment) */
	uint8_t *seg = gmm_ptr(g, DATA_IPA(0));
	uint64_t sec = 8;
	uint32_t n = 8, fl = 0;
	memcpy(seg, &sec, 8);
	memcpy(seg + 8, &n, 4);
	memcpy(seg + 12, &fl, 4);
	submit(g, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16);
	gmm_notify(g);
	ipi();
	/* gvm1 stops (devices reset), START sees io == 0, next instance up */
	virtio_mmio_reset(&g->blk.vdev);
	assert_int_equal(l->io, 0);
	assert_true(gmm_driver_init(g, 0) & VIRTIO_STATUS_DRIVER_OK);
	memset(disk_data[0] + 8 * 512, 0x77, 8 * 512); /* the new instance's data */
	/* the others complete: the staged request of the old instance goes */
	for (unsigned i = 0; i < held; i++)
		mvm_serve(tags[i]);
	assert_int_equal(mvm_complete(), HC_OK);
	unsigned k = mvm_take(tags, MED_MAX_SLOTS);
	unsigned zeroes = 0;
	for (unsigned i = 0; i < k; i++) {
		struct med_slot *sl = &A()->slots[MED_TAG_SLOT(tags[i])];
		if (sl->disk == 0 && sl->type == MED_REQ_WRITE_ZEROES)
			zeroes++;
	}
	assert_int_equal(zeroes, 0);
}

/* ------------------------------------------- copies with med.lock dropped */

/* The guest-sized copies (a write's data into the slots, a read's into the
 * guest) run without the global lock: what another CPU may do meanwhile
 * (a daemon's resync, a new area, completions, another pass, the GVM
 * resetting its device) runs here from the hook, once, where the copy
 * would be. A test that reached it with med.lock held would hang. */
static void (*hook_action)(void);
static bool hook_filling;
static unsigned hook_part, hook_runs;

static void hook(bool filling, unsigned part)
{
	if (!hook_action || filling != hook_filling || part != hook_part)
		return;
	void (*f)(void) = hook_action;
	hook_action = NULL; /* once: what it does may copy too */
	hook_runs++;
	f();
}

static void at_copy(bool filling, unsigned part, void (*f)(void))
{
	hook_filling = filling;
	hook_part = part;
	hook_action = f;
	hook_runs = 0;
	mediated_test_unlocked = hook;
}

/* A 1 MiB write of pattern() from GVM 0 (request 0 at sector 0). */
static void submit_big_write(void)
{
	uint32_t lens[1] = {BIG};
	uint8_t *src = gmm_ptr(G(0), BIG_IPA(0));

	for (uint64_t k = 0; k < BIG; k++)
		src[k] = pattern(k);
	submit_big(G(0), 0, 0, VIRTIO_BLK_T_OUT, 0, lens, 1);
	gmm_notify(G(0));
}

/* That write, with f() run once as its part `part` is copied into the slots
 * (on the CPU that takes the IPI and fills them). */
static void big_write_filled_with(unsigned part, void (*f)(void))
{
	at_copy(true, part, f);
	submit_big_write();
	ipi();
	assert_int_equal(hook_runs, 1);
}

/* The write's parts are queued once each, with exactly its data; served,
 * the guest hears of it once; nothing is left held or counted. */
static void check_big_write_served(void)
{
	uint64_t tags[MED_MAX_SLOTS];

	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), PARTS);
	for (unsigned p = 0; p < PARTS; p++) {
		const struct med_slot *sl = &A()->slots[MED_TAG_SLOT(tags[p])];
		const uint8_t *d = MED_SLOT_DATA_PTR(A(), MED_TAG_SLOT(tags[p]));
		assert_int_equal(sl->sector, p * (MED_SLOT_DATA / 512));
		for (uint32_t k = 0; k < MED_SLOT_DATA; k += 509)
			assert_int_equal(d[k], pattern((uint64_t)p * MED_SLOT_DATA + k));
		mvm_serve(tags[p]);
	}
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(gmm_used_idx(G(0)), 1);
	assert_int_equal(big_status(G(0), 0), VIRTIO_BLK_S_OK);
	for (uint64_t k = 0; k < BIG; k += 4093)
		assert_int_equal(disk_data[0][k], pattern(k));
	assert_int_equal(mediated_slots_in_flight(), 0);
	assert_int_equal(G(0)->vm->life.l.io, 0);
}

static void resync_now(void)
{
	/* the write holds its slots, none at the MVM: nothing to queue again */
	assert_int_equal(mediated_slots_in_flight(), PARTS);
	assert_int_equal(gmm_mvm_hypercall(HC_MED_RESYNC, 0, 0), HC_OK);
	assert_int_equal(A()->req_prod, 0);
	assert_int_equal(mediated_slots_in_flight(), PARTS);
}

/* A daemon's resync while a write is being filled: its slots are not
 * queued by the resync (half filled), but by the filling CPU, once. */
static void test_resync_while_a_write_is_filled(void **state)
{
	(void)state;
	big_write_filled_with(PARTS / 2, resync_now);
	assert_int_equal(A()->req_prod, PARTS);
	check_big_write_served();
}

static void register_now(void)
{
	assert_int_equal(gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, GMM_AREA_SIZE), HC_OK);
	/* the busy request keeps its slots and its VM's count */
	assert_int_equal(mediated_slots_in_flight(), PARTS);
	assert_int_equal(G(0)->vm->life.l.io, 1);
	assert_int_equal(A()->req_prod, 0);
}

/* A new area while a write is being filled: the write is not released
 * (another request could take its slots while it is copied into them); it
 * is queued on the new area once filled. */
static void test_new_area_while_a_write_is_filled(void **state)
{
	(void)state;
	big_write_filled_with(3, register_now);
	assert_int_equal(gmm_used_idx(G(0)), 0);
	check_big_write_served();
}

/* Another CPU's pass and completion while a write is being filled: a read
 * of GVM 1 takes other slots and is served; guessed completions for the
 * filled write's slots (not at the MVM) finish nothing. */
static void other_cpu_now(void)
{
	uint64_t tags[MED_MAX_SLOTS];

	submit(G(1), 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(G(1));
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), 1);
	assert_int_equal(mediated_slots_in_flight(), PARTS + 1);
	for (unsigned s = 0; s < GMM_AREA_SLOTS; s++)
		if (s != MED_TAG_SLOT(tags[0]))
			med_cmp_give(A(), MED_RING_SIZE,
				     tags[0] + (1u << MED_TAG_SLOT_BITS) - MED_TAG_SLOT(tags[0]) +
					     s,
				     MED_S_OK);
	assert_int_equal(mvm_complete(), HC_ERR_INVALID);
	mvm_serve(tags[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(status_of(G(1), 0), VIRTIO_BLK_S_OK);
	assert_int_equal(((uint8_t *)gmm_ptr(G(1), DATA_IPA(0)))[0], 0x11);
	assert_int_equal(mediated_slots_in_flight(), PARTS);
	assert_int_equal(gmm_used_idx(G(0)), 0);
}

static void test_other_cpu_works_while_a_write_is_filled(void **state)
{
	(void)state;
	big_write_filled_with(1, other_cpu_now);
	check_big_write_served();
}

static void vm_stops_now(void)
{
	/* vm_reset_devices: the copy's VM stays counted while it runs */
	virtio_mmio_reset(&G(0)->blk.vdev);
	assert_int_equal(G(0)->vm->life.l.io, 1);
	memset(gmm_ptr(G(0), BIG_IPA(0)), 0xcc, BIG); /* its RAM, the next instance's */
}

/* The VM stops while its write is being filled: the parts not yet copied
 * are not (the device is not live), nothing reaches the MVM, the slots are
 * free and the count is released only after the copy ended. */
static void test_vm_stops_while_its_write_is_filled(void **state)
{
	(void)state;
	big_write_filled_with(5, vm_stops_now);
	assert_int_equal(A()->req_prod, 0);
	assert_int_equal(mediated_slots_in_flight(), 0);
	assert_int_equal(G(0)->vm->life.l.io, 0);
	for (unsigned s = 0; s < GMM_AREA_SLOTS; s++)
		assert_int_not_equal(MED_SLOT_DATA_PTR(A(), s)[7], 0xcc);
	/* the next instance is served */
	assert_true(gmm_driver_init(G(0), 0) & VIRTIO_STATUS_DRIVER_OK);
	submit(G(0), 1, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(G(0));
	ipi();
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(status_of(G(0), 1), VIRTIO_BLK_S_OK);
}

/* A 1 MiB read of pattern() by GVM 0, every part served; the completion
 * hypercall is left to the test. */
static void big_read_served(void)
{
	uint32_t lens[1] = {BIG};
	uint64_t tags[MED_MAX_SLOTS];

	for (uint64_t k = 0; k < BIG; k++)
		disk_data[0][k] = pattern(k);
	memset(gmm_ptr(G(0), BIG_IPA(0)), 0, BIG);
	submit_big(G(0), 0, 0, VIRTIO_BLK_T_IN, 0, lens, 1);
	gmm_notify(G(0));
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), PARTS);
	for (unsigned p = 0; p < PARTS; p++)
		mvm_serve(tags[p]);
}

static unsigned read_slots[PARTS];

static void register_and_pass_now(void)
{
	uint64_t tags[MED_MAX_SLOTS];

	register_now();
	/* another request takes a free slot, not one being copied from */
	submit(G(1), 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(G(1));
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), 1);
	for (unsigned p = 0; p < PARTS; p++)
		assert_int_not_equal(MED_TAG_SLOT(tags[0]), read_slots[p]);
	mvm_serve(tags[0]);
}

/* A new area and another pass while a finished 1 MiB read is copied into
 * its guest: its slots are not released nor reused meanwhile; the guest
 * gets its data and status once; then they are free. */
static void test_new_area_while_a_read_is_copied(void **state)
{
	(void)state;
	big_read_served();
	for (unsigned p = 0; p < PARTS; p++)
		read_slots[p] = MED_TAG_SLOT(A()->req_ring[p]);
	at_copy(false, 0, register_and_pass_now);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(hook_runs, 1);
	assert_int_equal(gmm_used_idx(G(0)), 1);
	assert_int_equal(big_status(G(0), 0), VIRTIO_BLK_S_OK);
	const uint8_t *dst = gmm_ptr(G(0), BIG_IPA(0));
	for (uint64_t k = 0; k < BIG; k++)
		if (dst[k] != pattern(k))
			fail_msg("byte %lu read wrong", (unsigned long)k);
	assert_int_equal(G(0)->vm->life.l.io, 0);
	assert_int_equal(mediated_slots_in_flight(), 1); /* GVM 1's, served */
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(status_of(G(1), 0), VIRTIO_BLK_S_OK);
	assert_int_equal(mediated_slots_in_flight(), 0);
}

/* The VM stops while its finished read is about to be copied: nothing
 * lands in its memory, and its count covers the copy. */
static void test_vm_stops_while_its_read_is_copied(void **state)
{
	(void)state;
	big_read_served();
	at_copy(false, 0, vm_stops_now);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(hook_runs, 1);
	const uint8_t *dst = gmm_ptr(G(0), BIG_IPA(0));
	for (uint64_t k = 0; k < BIG; k += 511)
		assert_int_equal(dst[k], 0xcc);
	assert_int_equal(big_status(G(0), 0), 0xee);
	assert_int_equal(gmm_used_idx(G(0)), 0);
	assert_int_equal(G(0)->vm->life.l.io, 0);
	assert_int_equal(mediated_slots_in_flight(), 0);
	/* stage sums are still added, under the lock */
	assert_int_equal(A()->stages[MED_ST_TOTAL].count, 1);
}

/* Another CPU's pass while a completion's requests are copied into their
 * guest: the disk is at its cap (its slots are still the finished
 * requests') and its third 1 MiB read waits; once the copies are done and
 * the slots free, that read goes to the MVM (the completions' mark is not
 * used up by a pass that could not act on it). */
static void test_request_at_cap_goes_once_copied_slots_are_free(void **state)
{
	uint32_t lens[1] = {BIG};
	uint64_t tags[MED_MAX_SLOTS];
	(void)state;
	for (unsigned i = 0; i < 3; i++)
		submit_big(G(0), i, 3 * i, VIRTIO_BLK_T_IN, 0, lens, 1);
	gmm_notify(G(0));
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), 2 * PARTS); /* the third waits: cap */
	for (unsigned p = 0; p < 2 * PARTS; p++)
		mvm_serve(tags[p]);
	at_copy(false, 0, ipi); /* the IPI handler on the MVM's other CPU */
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(hook_runs, 1);
	assert_int_equal(gmm_used_idx(G(0)), 2);
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), PARTS); /* the third, now */
}

/* ---------------------------------------------------------------- polling */

/* vring_need_event(): whether a driver that moved its avail idx from old
 * to new notifies. */
static bool driver_notifies(struct gmm_gvm *g, uint16_t old, uint16_t new_idx)
{
	return (uint16_t)(new_idx - avail_event(g) - 1) < (uint16_t)(new_idx - old);
}

static uint64_t poll_call(uint64_t us)
{
	return (uint64_t)gmm_mvm_hypercall(HC_MED_POLL, us, 0);
}

/* While the daemon polls, a GVM's request reaches req_ring by the next
 * HC_MED_POLL: the driver is told not to notify, a notify sends no IPI and
 * the MVM gets no service interrupt; once polling stops, notifies are on
 * again and a request costs one IPI and one interrupt as before. */
static void test_polling_takes_requests_without_notify_ipi_or_interrupt(void **state)
{
	struct gmm_gvm *g = G(0);
	(void)state;
	assert_true(gmm_driver_init(g, VIRTIO_F_RING_EVENT_IDX) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(poll_call(500), HC_OK);
	unsigned irqs = gmm.irqs_to_mvm, sgis = gmm.sgis;
	/* notifies off although nothing is in flight */
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 4096);
	assert_false(driver_notifies(g, 0, 1));
	gmm_notify(g); /* a driver may notify anyway: no IPI */
	assert_int_equal(gmm.sgis, sgis);
	assert_int_equal(poll_call(500), HC_OK);
	assert_int_equal(A()->req_prod, 1);
	assert_int_equal(gmm.irqs_to_mvm, irqs);
	/* the completion's pass queues the next one quietly too */
	submit(g, 1, VIRTIO_BLK_T_IN, 8, 4096);
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(A()->req_prod, 2);
	assert_int_equal(gmm.irqs_to_mvm, irqs);
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(status_of(g, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(gmm.sgis, sgis);
	assert_true(A()->polls >= 2);
	/* stopped: notifies on (avail_event caught up), IPI and interrupt */
	assert_int_equal(poll_call(0), HC_OK);
	assert_int_equal(avail_event(g), 2);
	submit(g, 2, VIRTIO_BLK_T_IN, 16, 4096);
	gmm_notify(g);
	assert_int_equal(gmm.sgis, sgis + 1);
	ipi();
	assert_int_equal(gmm.irqs_to_mvm, irqs + 1);
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(status_of(g, 2), VIRTIO_BLK_S_OK);
}

/* The request a driver added while polling kept its notifies off is taken
 * by the pass that ends polling, and told by a service interrupt. */
static void test_request_added_as_polling_stops_is_not_lost(void **state)
{
	struct gmm_gvm *g = G(1);
	(void)state;
	assert_true(gmm_driver_init(g, VIRTIO_F_RING_EVENT_IDX) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(poll_call(200), HC_OK);
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 4096); /* no notify: they are off */
	unsigned irqs = gmm.irqs_to_mvm;
	assert_int_equal(poll_call(0), HC_OK);
	assert_int_equal(A()->req_prod, 1);
	assert_int_equal(gmm.irqs_to_mvm, irqs + 1);
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(status_of(g, 0), VIRTIO_BLK_S_OK);
}

/* A daemon that dies polling (no call ends it) strands nothing: once its
 * window is over, the tick sends the IPI whose pass takes the request and
 * turns the notifies on again; before that, the tick leaves it alone. */
static void test_polling_that_ends_without_a_word_is_rescued_by_the_tick(void **state)
{
	struct gmm_gvm *g = G(0);
	(void)state;
	assert_true(gmm_driver_init(g, VIRTIO_F_RING_EVENT_IDX) & VIRTIO_STATUS_DRIVER_OK);
	mediated_test_clock = 1000;
	assert_int_equal(poll_call(300), HC_OK); /* the test clock: 1 tick a us */
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 4096);
	unsigned sgis = gmm.sgis;
	mediated_test_clock += 299;
	mediated_tick();
	assert_int_equal(gmm.sgis, sgis); /* still polling */
	mediated_test_clock += 1;
	mediated_tick();
	assert_int_equal(gmm.sgis, sgis + 1);
	ipi();
	assert_int_equal(A()->req_prod, 1);
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(status_of(g, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(avail_event(g), 1); /* notifies on */
	mediated_tick();
	assert_int_equal(gmm.sgis, sgis + 1); /* nothing more to rescue */
}

/* A notify that sent no IPI while polling (a driver that ignores the
 * suppression, or one racing it) is taken by the tick once polling ended
 * (the poll's pass muted its disk). */
static void test_quiet_notify_after_polling_is_rescued_by_the_tick(void **state)
{
	struct gmm_gvm *g = G(0);
	(void)state;
	mediated_test_clock = 1000;
	assert_int_equal(poll_call(10), HC_OK);
	submit(g, 0, VIRTIO_BLK_T_IN, 0, 4096);
	unsigned sgis = gmm.sgis;
	gmm_notify(g);
	assert_int_equal(gmm.sgis, sgis);
	mediated_test_clock += 10;
	mediated_tick();
	assert_int_equal(gmm.sgis, sgis + 1);
	ipi();
	assert_int_equal(mvm_serve_all(), 1);
	assert_int_equal(status_of(g, 0), VIRTIO_BLK_S_OK);
}

/* The daemon's last call (polling stopped) on one MVM CPU while another
 * CPU's quiet pass copies a write with med.lock dropped: the daemon saw
 * an empty ring after that call and sleeps, so the write's parts, queued
 * after it, come with a service interrupt. */
static void daemon_stops_polling_now(void)
{
	assert_int_equal(poll_call(0), HC_OK);
	assert_int_equal(A()->req_prod, 0); /* the daemon's last look: nothing */
}

static void test_write_queued_as_polling_stops_is_announced(void **state)
{
	(void)state;
	mediated_test_clock = 1000;
	assert_int_equal(poll_call(500), HC_OK);
	unsigned irqs = gmm.irqs_to_mvm;
	at_copy(true, 1, daemon_stops_polling_now);
	submit_big_write(); /* its notify sends no IPI: polling */
	ipi();              /* another CPU's pass (the tick's, a completion's) */
	assert_int_equal(hook_runs, 1);
	assert_int_equal(A()->req_prod, PARTS);
	assert_int_equal(gmm.irqs_to_mvm, irqs + 1);
	check_big_write_served();
}

/* The window is the hypervisor's bound, whatever the MVM asks for; polling
 * before the area is registered is refused. */
static void test_poll_window_is_bounded(void **state)
{
	(void)state;
	mediated_test_clock = 1000;
	assert_int_equal(poll_call(~0ULL), HC_OK);
	submit(G(0), 0, VIRTIO_BLK_T_IN, 0, 4096);
	unsigned sgis = gmm.sgis;
	mediated_test_clock += MED_POLL_MAX_US - 1;
	mediated_tick();
	assert_int_equal(gmm.sgis, sgis);
	mediated_test_clock += 1;
	mediated_tick();
	assert_int_equal(gmm.sgis, sgis + 1);
	mediated_test_reset();
	assert_int_equal(poll_call(100), HC_ERR_INVALID);
}

/* ---------------------------------------------------------------- coalescing */

/* Completions interrupt the guest once they are half of what its disk
 * still has at the MVM: used entries go out at once, the interrupt with a
 * later completion, and the last completion always interrupts. */
static void test_completion_interrupts_are_coalesced(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t tags[MED_MAX_SLOTS];
	/* requests left at the MVM after each completion: 7..0; an interrupt
	 * once held * 2 >= left */
	static const bool irq_after[8] = {false, false, true, false, true, true, true, true};
	(void)state;
	for (unsigned i = 0; i < 8; i++) {
		submit(g, i, VIRTIO_BLK_T_IN, i, 512);
		gmm_notify(g);
	}
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), 8);
	for (unsigned i = 0; i < 8; i++) {
		unsigned irqs = gmm.irqs_to_gvm[0];
		mvm_serve(tags[i]);
		assert_int_equal(mvm_complete(), HC_OK);
		assert_int_equal(gmm_used_idx(g), i + 1); /* the entry is out at once */
		assert_int_equal(gmm.irqs_to_gvm[0], irqs + irq_after[i]);
	}
}

/* An interrupt held back for the requests still at the MVM is not lost
 * when they never complete: a new area fails them, with an interrupt. */
static void test_held_interrupt_goes_with_a_new_area(void **state)
{
	struct gmm_gvm *g = G(0);
	uint64_t tags[MED_MAX_SLOTS];
	(void)state;
	for (unsigned i = 0; i < 8; i++) {
		submit(g, i, VIRTIO_BLK_T_IN, i, 512);
		gmm_notify(g);
	}
	ipi();
	assert_int_equal(mvm_take(tags, MED_MAX_SLOTS), 8);
	unsigned irqs = gmm.irqs_to_gvm[0];
	mvm_serve(tags[0]);
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(gmm_used_idx(g), 1);
	assert_int_equal(gmm.irqs_to_gvm[0], irqs); /* held: 7 still at the MVM */
	assert_int_equal(gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, GMM_AREA_SIZE), HC_OK);
	assert_int_equal(gmm_used_idx(g), 8);
	assert_true(gmm.irqs_to_gvm[0] > irqs);
	assert_int_equal(status_of(g, 7), VIRTIO_BLK_S_IOERR);
	assert_int_equal(mediated_slots_in_flight(), 0);
}

/* At queue depth 1 every completion interrupts at once; another disk's
 * requests in flight do not hold this one's back. */
static void test_lone_completion_interrupts_at_once(void **state)
{
	uint64_t tags[MED_MAX_SLOTS];
	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		submit(G(1), i, VIRTIO_BLK_T_IN, i, 512);
		gmm_notify(G(1));
	}
	submit(G(0), 0, VIRTIO_BLK_T_IN, 0, 512);
	gmm_notify(G(0));
	ipi();
	unsigned n = mvm_take(tags, MED_MAX_SLOTS);
	assert_int_equal(n, 5);
	for (unsigned i = 0; i < n; i++)
		if (A()->slots[MED_TAG_SLOT(tags[i])].disk == 0)
			mvm_serve(tags[i]);
	unsigned irqs = gmm.irqs_to_gvm[0];
	assert_int_equal(mvm_complete(), HC_OK);
	assert_int_equal(gmm.irqs_to_gvm[0], irqs + 1);
	assert_int_equal(status_of(G(0), 0), VIRTIO_BLK_S_OK);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_write_then_read_end_to_end),
		T(test_stage_times_add_up_and_hostile_stamps_do_not),
		T(test_notifies_off_while_in_flight),
		T(test_oversized_chain_never_reaches_a_slot),
		T(test_area_layout_fields_are_not_trusted),
		T(test_self_answered_flood_is_bounded),
		T(test_one_ipi_per_batch),
		T(test_empty_notify_storm_sends_no_ipi),
		T(test_flooding_disk_does_not_starve_another),
		T(test_two_floods_share_slots),
		T(test_no_read_data_after_reset),
		T(test_no_read_data_after_queue_reenable),
		T(test_stale_completion_after_resync),
		T(test_duplicate_completion_after_reuse),
		T(test_hostile_completion_values),
		T(test_resync_loses_nothing),
		T(test_resync_loop_does_not_flood_the_log),
		T(test_leftover_work_is_resumed_by_the_tick),
		T(test_junk_flood_leaves_honest_disk_served),
		T(test_stopped_vm_counts_its_requests_at_the_mvm),
		T(test_new_area_releases_the_count),
		T(test_register_only_the_configured_area),
		T(test_resync_keeps_the_data_copied_at_submission),
		cmocka_unit_test_setup_teardown(
			test_waiting_request_of_a_stopped_instance_never_reaches_the_mvm, setup3,
			teardown),
		T(test_large_request_limits),
		T(test_large_write_is_a_chain_of_slots),
		T(test_large_read_out_of_order),
		T(test_large_request_hostile_parts),
		T(test_large_write_survives_resync),
		T(test_large_requests_wrap_and_share),
		T(test_busy_disk_leaves_room_for_a_whole_request),
		cmocka_unit_test_setup_teardown(test_large_request_waits_for_a_full_area,
						setup_one_disk, teardown),
		cmocka_unit_test_setup_teardown(test_waiting_write_after_reset_copies_nothing,
						setup_one_disk, teardown),
		T(test_resync_while_a_write_is_filled),
		T(test_new_area_while_a_write_is_filled),
		T(test_other_cpu_works_while_a_write_is_filled),
		T(test_vm_stops_while_its_write_is_filled),
		T(test_new_area_while_a_read_is_copied),
		T(test_vm_stops_while_its_read_is_copied),
		T(test_request_at_cap_goes_once_copied_slots_are_free),
		T(test_polling_takes_requests_without_notify_ipi_or_interrupt),
		T(test_request_added_as_polling_stops_is_not_lost),
		T(test_polling_that_ends_without_a_word_is_rescued_by_the_tick),
		T(test_quiet_notify_after_polling_is_rescued_by_the_tick),
		T(test_poll_window_is_bounded),
		T(test_write_queued_as_polling_stops_is_announced),
		T(test_completion_interrupts_are_coalesced),
		T(test_lone_completion_interrupts_at_once),
		T(test_held_interrupt_goes_with_a_new_area),
#undef T
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("mediated", tests, NULL, NULL);
}
