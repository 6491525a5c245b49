/* syshyperd's reading of the mediated area (mvm/daemon/take.c): which
 * requests a run holds (wrap-around of the indices and of the ring, a full
 * ring, corrupt indices, slots beyond the area, merge limits) and whether a
 * run or another request is valid for its disk (slot length, whole
 * sectors, sector ranges whose byte offset would wrap 64 bits, read-only
 * and missing disks), with the slot data and file offsets it yields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../mvm/daemon/take.h"
#include "syshyper/med_ring.h"

#define SLOTS 32 /* slots the test's area maps */
#define K64 MED_SLOT_DATA
#define SECTORS_PER_SLOT (MED_SLOT_DATA / MED_SECTOR)
#define DISK_BYTES (64ull << 20)
#define DISK_OFFSET (1ull << 20) /* where the disk starts in its file */

static struct med_area *area;
static struct backing table[MED_MAX_DISKS];
static uint64_t generation;

/* Disk 0 read-write, disk 1 read-only (each DISK_BYTES at DISK_OFFSET of
 * its file), the others not configured. */
static int setup(void **state)
{
	(void)state;
	area = calloc(1, MED_HDR_SIZE + (size_t)SLOTS * MED_SLOT_DATA);
	for (unsigned d = 0; d < MED_MAX_DISKS; d++)
		table[d] = (struct backing){.fd = -1, .fd_direct = -1};
	for (unsigned d = 0; d < 2; d++)
		table[d] = (struct backing){.fd = 10 + (int)d,
					    .fd_direct = 20 + (int)d,
					    .direct_ok = 1,
					    .offset = DISK_OFFSET,
					    .size = DISK_BYTES,
					    .read_only = d == 1};
	generation = 0;
	return area ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(area);
	return 0;
}

/* The hypervisor queues slot s with a request (as med_blk.c's queue_slot);
 * returns its tag. */
static uint64_t queue(uint32_t s, uint32_t disk, uint32_t type, uint64_t sector, uint32_t len)
{
	uint64_t tag = ++generation << MED_TAG_SLOT_BITS | s;

	if (s < MED_MAX_SLOTS)
		area->slots[s] = (struct med_slot){
			.disk = disk, .type = type, .sector = sector, .len = len, .tag = tag};
	area->req_ring[area->req_prod % MED_RING_SIZE] = tag;
	area->req_prod++;
	return tag;
}

/* n reads of 64 KiB on disk 0 that continue each other from sector 0, in
 * slots first, first + 1, ... (mod SLOTS). */
static void queue_sequential(unsigned n, uint32_t first)
{
	for (unsigned i = 0; i < n; i++)
		queue((first + i) % SLOTS, 0, MED_REQ_READ, (uint64_t)i * SECTORS_PER_SLOT, K64);
}

static struct run_reqs one(uint32_t s, uint32_t disk, uint32_t type, uint64_t sector, uint32_t len)
{
	struct run_reqs r = {.n = 1, .tag = {s}};

	r.slot[0] = (struct med_slot){.disk = disk, .type = type, .sector = sector, .len = len};
	return r;
}

/* ---------------------------------------------------------------- take_run */

static void test_empty_ring(void **state)
{
	struct run_reqs r;
	(void)state;
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_EMPTY);
	assert_int_equal(area->req_cons, 0);
}

/* A run across the u32 wrap of the indices and the end of req_ring. */
static void test_wrap_around(void **state)
{
	struct run_reqs r;
	(void)state;
	area->req_prod = area->req_cons = UINT32_MAX - 2;
	queue_sequential(6, 0);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
	assert_int_equal(r.n, 6);
	for (unsigned i = 0; i < r.n; i++) {
		assert_int_equal(MED_TAG_SLOT(r.tag[i]), i);
		assert_int_equal(r.tag[i] >> MED_TAG_SLOT_BITS, i + 1);
		assert_int_equal(r.slot[i].sector, (uint64_t)i * SECTORS_PER_SLOT);
	}
	assert_int_equal(area->req_cons, 3); /* wrapped */
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_EMPTY);
}

/* A ring of MED_RING_SIZE entries is full, not corrupt: every one is
 * taken; one more entry pending is corruption. */
static void test_full_ring(void **state)
{
	struct run_reqs r;
	unsigned taken = 0;
	(void)state;
	area->req_prod = area->req_cons = 100;
	for (unsigned i = 0; i < MED_RING_SIZE; i++) /* flushes: each a run of its own */
		queue(i % SLOTS, 0, MED_REQ_FLUSH, 0, 0);
	while (take_run(area, SLOTS, &r) == MED_RING_OK) {
		assert_int_equal(r.n, 1);
		taken++;
	}
	assert_int_equal(taken, MED_RING_SIZE);
	assert_int_equal(area->req_cons, area->req_prod);
	area->req_prod += MED_RING_SIZE + 1;
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_CORRUPT);
}

/* A producer more than a ring ahead, or behind the consumer: corrupt, and
 * nothing is taken (the engine resyncs). */
static void test_corrupt_indices(void **state)
{
	struct run_reqs r;
	(void)state;
	queue_sequential(2, 0);
	area->req_prod = area->req_cons + MED_RING_SIZE + 1;
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_CORRUPT);
	assert_int_equal(area->req_cons, 0);
	area->req_prod = UINT32_MAX; /* behind */
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_CORRUPT);
	assert_int_equal(area->req_cons, 0);
}

/* A tag naming a slot the area does not have: the request is taken off
 * (one bad entry does not stop the ring) and reported corrupt; in the
 * middle of a run, the run ends before it and the next take reports it. */
static void test_slot_beyond_area(void **state)
{
	struct run_reqs r;
	(void)state;
	queue(SLOTS, 0, MED_REQ_READ, 0, K64);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_CORRUPT);
	assert_int_equal(area->req_cons, 1);
	queue(0, 0, MED_REQ_READ, 0, K64);
	queue(MED_MAX_SLOTS - 1, 0, MED_REQ_READ, SECTORS_PER_SLOT, K64);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(area->req_cons, 2);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_CORRUPT);
	assert_int_equal(area->req_cons, 3);
}

/* Requests larger than a slot, or not of whole sectors, are taken alone
 * (and refused by prepare_rw). */
static void test_odd_lengths_alone(void **state)
{
	struct run_reqs r;
	(void)state;
	queue(0, 0, MED_REQ_READ, 0, K64 + 512);
	queue(1, 0, MED_REQ_READ, K64 / 512 + 1, K64);
	queue(2, 0, MED_REQ_WRITE, 100, 100);
	queue(3, 0, MED_REQ_WRITE, 100, 512); /* where 100 bytes from sector 100 end */
	for (unsigned i = 0; i < 4; i++) {
		struct run_io io;
		assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
		assert_int_equal(r.n, 1);
		assert_int_equal(prepare_rw(area, table, &r, &io),
				 i == 0 || i == 2 ? MED_S_IOERR : MED_S_OK);
	}
}

/* A run holds at most RUN_MAX requests (and so, a slot being at most
 * MED_SLOT_DATA, at most RUN_MAX_BYTES). */
static void test_merge_limits(void **state)
{
	struct run_reqs r;
	(void)state;
	/* 16 slots of 64 KiB are 1 MiB: the 17th starts the next run */
	queue_sequential(RUN_MAX + 1, 0);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
	assert_int_equal(r.n, RUN_MAX);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.slot[0].sector, (uint64_t)RUN_MAX * SECTORS_PER_SLOT);
	/* small requests: RUN_MAX of them, whatever their bytes */
	for (unsigned i = 0; i < RUN_MAX + 3; i++)
		queue(i % SLOTS, 0, MED_REQ_WRITE, 5000 + i, 512);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
	assert_int_equal(r.n, RUN_MAX);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
	assert_int_equal(r.n, 3);
}

/* Only the same disk, the same direction, the next sector: a FLUSH, a
 * gap, another disk or a write after reads end the run. */
static void test_merge_breaks(void **state)
{
	struct run_reqs r;
	(void)state;
	queue(0, 0, MED_REQ_READ, 0, K64);
	queue(1, 0, MED_REQ_WRITE, SECTORS_PER_SLOT, K64);         /* other direction */
	queue(2, 1, MED_REQ_WRITE, 2 * SECTORS_PER_SLOT, K64);     /* other disk */
	queue(3, 1, MED_REQ_WRITE, 3 * SECTORS_PER_SLOT + 1, K64); /* a gap */
	queue(4, 1, MED_REQ_FLUSH, 0, 0);
	queue(5, 1, MED_REQ_FLUSH, 0, 0); /* flushes are never merged */
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
		assert_int_equal(r.n, 1);
		assert_int_equal(MED_TAG_SLOT(r.tag[0]), i);
	}
}

/* A run at the end of the sector space does not continue at sector 0. */
static void test_merge_no_sector_wrap(void **state)
{
	struct run_reqs r;
	(void)state;
	queue(0, 0, MED_REQ_READ, UINT64_MAX - SECTORS_PER_SLOT + 1, K64);
	queue(1, 0, MED_REQ_READ, 0, K64);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
	assert_int_equal(r.n, 1);
}

/* ---------------------------------------------------------------- prepare_rw */

/* A run's iovs are its slots' data, its offset the disk's start in the
 * file plus its first sector. */
static void test_prepare_points_at_slots(void **state)
{
	struct run_reqs r;
	struct run_io io;
	(void)state;
	queue(5, 0, MED_REQ_WRITE, 100, K64);
	queue(2, 0, MED_REQ_WRITE, 100 + SECTORS_PER_SLOT, 4096);
	assert_int_equal(take_run(area, SLOTS, &r), MED_RING_OK);
	assert_int_equal(r.n, 2);
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_OK);
	assert_ptr_equal(io.iov[0].iov_base, MED_SLOT_DATA_PTR(area, 5));
	assert_int_equal(io.iov[0].iov_len, K64);
	assert_ptr_equal(io.iov[1].iov_base, MED_SLOT_DATA_PTR(area, 2));
	assert_int_equal(io.iov[1].iov_len, 4096);
	assert_int_equal(io.bytes, K64 + 4096);
	assert_int_equal(io.off, DISK_OFFSET + 100 * MED_SECTOR);
	assert_ptr_equal(io.b, &table[0]);
	assert_true(io.write);
}

static void test_prepare_slot_len(void **state)
{
	struct run_io io;
	struct run_reqs r = one(0, 0, MED_REQ_READ, 0, K64 + 512);
	(void)state;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].len = UINT32_MAX;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].len = K64;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_OK);
	r.slot[0].len = 100; /* not whole sectors */
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].len = K64 - 1;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].len = 0; /* the guest may read nothing: done, no I/O */
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_OK);
	assert_int_equal(io.bytes, 0);
}

/* The last sector of the disk is in range, one further is not; a sector
 * whose byte offset wraps 64 bits (sector * 512 small again) is refused. */
static void test_prepare_sector_range(void **state)
{
	struct run_io io;
	const uint64_t last = DISK_BYTES / MED_SECTOR - 1;
	struct run_reqs r = one(0, 0, MED_REQ_READ, last, 512);
	(void)state;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_OK);
	assert_int_equal(io.off, DISK_OFFSET + DISK_BYTES - 512);
	r.slot[0].len = 1024;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].sector = last + 1;
	r.slot[0].len = 0;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_OK); /* the end, nothing */
	r.slot[0].len = 512;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].sector = (UINT64_MAX / MED_SECTOR) + 1; /* * 512 wraps to 0 */
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].sector = (1ull << 55) + 8; /* * 512 wraps to 4096 */
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].sector = UINT64_MAX;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
}

/* The offset of the disk in its file is added in 64 bits, after the range
 * check: a disk that ends at the largest offset a file has. */
static void test_prepare_offset_at_file_end(void **state)
{
	struct run_io io;
	struct run_reqs r = one(0, 0, MED_REQ_WRITE, 0, 4096);
	(void)state;
	table[0].offset = (uint64_t)INT64_MAX - DISK_BYTES + 1;
	r.slot[0].sector = DISK_BYTES / MED_SECTOR - 8;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_OK);
	assert_true(io.off > 0);
	assert_int_equal((uint64_t)io.off + io.bytes, (uint64_t)INT64_MAX + 1);
	r.slot[0].sector += 1;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
}

static void test_prepare_read_only(void **state)
{
	struct run_io io;
	struct run_reqs r = one(0, 1, MED_REQ_WRITE, 0, 4096);
	(void)state;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].type = MED_REQ_READ;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_OK);
	assert_false(io.write);
}

static void test_prepare_missing_disk(void **state)
{
	struct run_io io;
	struct run_reqs r = one(0, 2, MED_REQ_READ, 0, 4096); /* not configured */
	(void)state;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].disk = MED_MAX_DISKS;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
	r.slot[0].disk = UINT32_MAX;
	assert_int_equal(prepare_rw(area, table, &r, &io), MED_S_IOERR);
}

/* ---------------------------------------------------------------- check_other */

static void test_other_requests(void **state)
{
	struct backing *b;
	off_t off;
	struct med_slot s = {.disk = 0, .type = MED_REQ_DISCARD, .sector = 8, .len = 4096};
	(void)state;
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_OK);
	assert_ptr_equal(b, &table[0]);
	assert_int_equal(off, DISK_OFFSET + 8 * MED_SECTOR);
	s.sector = DISK_BYTES / MED_SECTOR; /* past the end */
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_IOERR);
	s.type = MED_REQ_WRITE_ZEROES;
	s.sector = (UINT64_MAX / MED_SECTOR) + 1; /* * 512 wraps */
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_IOERR);
	/* a flush or get-id has no sectors: whatever the slot says there */
	s.type = MED_REQ_FLUSH;
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_OK);
	s.type = MED_REQ_GET_ID;
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_OK);
	/* an unknown request is still held to its range (then unsupported) */
	s.type = 77;
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_IOERR);
	s.sector = 0;
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_OK);
	s.disk = 3; /* not configured */
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_IOERR);
	s.disk = MED_MAX_DISKS;
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_IOERR);
}

/* A read-only disk is flushed, never discarded or zeroed. */
static void test_other_read_only(void **state)
{
	struct backing *b;
	off_t off;
	struct med_slot s = {.disk = 1, .type = MED_REQ_DISCARD, .sector = 0, .len = 4096};
	(void)state;
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_IOERR);
	s.type = MED_REQ_WRITE_ZEROES;
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_IOERR);
	s.type = MED_REQ_FLUSH;
	assert_int_equal(check_other(table, &s, &b, &off), MED_S_OK);
}

/* ---------------------------------------------------------------- completions */

/* Completions go to cmp_ring until the hypervisor's (hostile) cmp_cons
 * leaves no room; none is written then. */
static void test_completion_ring_full(void **state)
{
	struct med_cmp t = {.t_irq = 1, .t_pickup = 2, .t_done = 3};
	(void)state;
	area->cmp_prod = area->cmp_cons = UINT32_MAX - 1;
	for (unsigned i = 0; i < MED_RING_SIZE; i++)
		assert_int_equal(med_cmp_give_timed(area, MED_RING_SIZE, i, MED_S_OK, &t),
				 MED_RING_OK);
	assert_int_equal(med_cmp_give_timed(area, MED_RING_SIZE, 999, MED_S_OK, &t), MED_RING_FULL);
	assert_int_equal(area->cmp_prod, MED_RING_SIZE - 2);
	area->cmp_cons = area->cmp_prod + 1; /* ahead of the producer: no room */
	assert_int_equal(med_cmp_give_timed(area, MED_RING_SIZE, 999, MED_S_OK, &t), MED_RING_FULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrap_around, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_indices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_beyond_area, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_lengths_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_breaks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_no_sector_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_points_at_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_slot_len, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_sector_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_offset_at_file_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prepare_missing_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_completion_ring_full, setup, teardown),
	};
	return cmocka_run_group_tests_name("daemon_take", tests, NULL, NULL);
}
