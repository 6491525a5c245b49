/* libFuzzer harness: the MVM block daemon's reading of the mediated area
 * (mvm/daemon/take.c: take_run, prepare_rw, check_other, with backing.c's
 * in_range) and the completions it gives (med_cmp_give_timed). The input
 * builds an area of 1..32 slots and a disk table as load_config and
 * check_disks leave it (sizes, offsets, read-only and missing disks), then
 * runs steps: the hypervisor queues requests (any slot, disk, type, sector
 * and length, often continuing the previous one so that runs form), the
 * engine takes what the ring holds as the daemon does (up to RUNS_MAX runs),
 * checks each run and gives its completions, the hypervisor takes
 * completions, or a hostile writer changes an index, a ring entry or a slot.
 *
 * Properties: no access outside the area (ASan; each I/O's first and last
 * bytes are touched); a run holds the ring's next entries in order, each
 * taken once, within the mapped slots, continuing each other (same disk,
 * both reads or both writes, adjacent sectors without wrapping, whole
 * sectors, at most RUN_MAX_BYTES) and it stops only where the next one does
 * not continue it; a checked I/O lies in its slots' data and in its backing
 * (offsets in 64 bits that do not wrap); the daemon refuses exactly what an
 * independent model of the rules refuses; a completion lands at cmp_prod or
 * the ring is full; a pass over the ring ends. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fuzz_stubs.h"
#include "../../mvm/daemon/take.h"
#include "syshyper/med_ring.h"

typedef unsigned __int128 u128;

#define MAX_SLOTS 32 /* slots the fuzzed area maps at most */
#define MAX_STEPS 64
#define RUNS_MAX 64 /* the engine's runs in flight (syshyperd.c) */
#define MAX_GEN (MAX_STEPS * 16 + 1)

static struct med_area *areas[MAX_SLOTS + 1]; /* one mapping per slot count, kept */
static struct med_area *area;
static uint32_t nslots;
static struct backing table[MED_MAX_DISKS];
static struct med_slot last; /* the request queued last: the next may continue it */
static uint32_t generation;
static bool hostile_ring; /* an index or entry was overwritten: entries may show twice */
static bool taken_gen[MAX_GEN + 1];

static bool is_rw_type(uint32_t type)
{
	return type == MED_REQ_READ || type == MED_REQ_WRITE;
}

/* ---------------------------------------------------------------- set-up */

static struct med_area *map_area(uint32_t slots)
{
	if (!areas[slots]) {
		size_t size = MED_HDR_SIZE + (size_t)slots * MED_SLOT_DATA;
		areas[slots] = malloc(size); /* ASan's redzone right after the last slot */
		if (!areas[slots])
			abort();
		memset(areas[slots], 0, size);
	}
	memset(areas[slots], 0, MED_HDR_SIZE);
	return areas[slots];
}

/* One backing as load_config opens it (size: what lies past the offset)
 * and check_disks holds it to the disk the hypervisor announces (too
 * small: closed; else the guest's size, computed as the daemon does). */
static void make_backing(struct fuzz_in *in, unsigned d)
{
	struct backing *b = &table[d];
	uint8_t f = fin_u8(in);
	uint64_t total, sectors;

	memset(b, 0, sizeof(*b));
	b->fd = b->fd_direct = -1;
	if (!(f & 1))
		return;
	b->fd = b->fd_direct = 100 + (int)d; /* never used: nothing here does I/O */
	b->direct_ok = 1;
	b->read_only = !!(f & 2);
	total = (f & 4) ? fin_u64(in) & INT64_MAX : (uint64_t)fin_u16(in) << 12;
	if (f & 8)
		total += fin_u8(in); /* not a whole number of sectors */
	if (f & 16)
		b->offset = fin_u64(in);
	else if (f & 32)
		b->offset = (uint64_t)fin_u16(in) << 9;
	b->size = total > b->offset ? total - b->offset : 0;
	if (!(f & 64))
		return;
	sectors = (f & 128) ? fin_u64(in) : fin_u16(in);
	if (b->size < sectors * MED_SECTOR) /* wraps as in check_disks */
		b->fd = b->fd_direct = -1;
	else
		b->size = sectors * MED_SECTOR;
}

static void setup(struct fuzz_in *in)
{
	nslots = 1 + fin_u8(in) % MAX_SLOTS;
	area = map_area(nslots);
	area->magic = MED_MAGIC;
	area->version = MED_VERSION;
	area->nslots = nslots;
	area->req_prod = area->req_cons = fin_u32(in);
	area->cmp_prod = area->cmp_cons = fin_u32(in);
	for (unsigned d = 0; d < MED_MAX_DISKS; d++)
		make_backing(in, d);
	memset(&last, 0, sizeof(last));
	generation = 0;
	hostile_ring = false;
	memset(taken_gen, 0, sizeof(taken_gen));
}

/* ---------------------------------------------------------------- the writers */

static uint64_t fuzz_sector(struct fuzz_in *in, unsigned how)
{
	switch (how & 3) {
	case 0:
		return fin_u16(in);
	case 1:
		return fin_u32(in);
	case 2:
		return fin_u64(in);
	default:
		return UINT64_MAX - fin_u16(in); /* where sector * 512 wraps */
	}
}

static uint32_t fuzz_len(struct fuzz_in *in)
{
	uint8_t l = fin_u8(in);

	if (l < 0xe0)
		return (uint32_t)(l % 129) * MED_SECTOR; /* 0..MED_SLOT_DATA */
	if (l < 0xf0)
		return MED_SLOT_DATA + (l & 15) * MED_SECTOR;
	if (l < 0xf8)
		return 1 + fin_u16(in); /* rarely whole sectors */
	return fin_u32(in);
}

/* A slot's request: a fresh one, or (how's top bit) the continuation of the
 * last one queued. */
static void fill_slot(struct fuzz_in *in, struct med_slot *s)
{
	static const uint32_t types[] = {MED_REQ_READ,   MED_REQ_WRITE,       MED_REQ_READ,
					 MED_REQ_WRITE,  MED_REQ_FLUSH,       MED_REQ_DISCARD,
					 MED_REQ_GET_ID, MED_REQ_WRITE_ZEROES};
	uint8_t how = fin_u8(in);

	if (how & 0x80) {
		s->disk = last.disk;
		s->type = last.type;
		s->sector = last.sector + last.len / MED_SECTOR;
		s->len = (how & 0x40) ? MED_SLOT_DATA : ((how & 0x3f) + 1u) * MED_SECTOR;
	} else {
		uint8_t d = fin_u8(in);
		s->disk = d < 0xf0 ? d % (MED_MAX_DISKS + 1) : fin_u32(in);
		s->type = (how & 8) ? fin_u32(in) : types[how & 7];
		s->sector = fuzz_sector(in, how >> 4);
		s->len = fuzz_len(in);
	}
	s->t_queued = fin_u8(in);
	last = *s;
}

/* The hypervisor queues up to 16 requests (while the ring has room), each
 * in a slot of the area, now and then one beyond it. */
static void hv_queue(struct fuzz_in *in)
{
	unsigned k = 1 + fin_u8(in) % 16;

	for (unsigned i = 0; i < k && area->req_prod - area->req_cons < MED_RING_SIZE; i++) {
		uint8_t sel = fin_u8(in);
		uint32_t s = sel < 0xe0 ? sel % nslots : sel;
		uint64_t tag = (uint64_t)++generation << MED_TAG_SLOT_BITS | s;

		fill_slot(in, &area->slots[s]);
		area->slots[s].tag = tag;
		area->req_ring[area->req_prod % MED_RING_SIZE] = tag;
		area->req_prod++;
	}
}

/* The hypervisor takes up to n completions (none from a ring it finds
 * corrupt). */
static void hv_take_completions(uint32_t n)
{
	uint32_t count = area->cmp_prod - area->cmp_cons;

	if (count <= MED_RING_SIZE)
		area->cmp_cons += n < count ? n : count;
}

/* Anything in the MVM writes an index, a ring entry or a slot. */
static void hostile_write(struct fuzz_in *in)
{
	switch (fin_u8(in) % 6) {
	case 0:
		area->req_prod = fin_u32(in);
		hostile_ring = true;
		break;
	case 1:
		area->req_cons += (uint32_t)(int8_t)fin_u8(in);
		hostile_ring = true;
		break;
	case 2:
		area->req_ring[fin_u8(in)] = fin_u64(in);
		hostile_ring = true;
		break;
	case 3:
		area->cmp_cons = fin_u32(in);
		break;
	case 4:
		area->cmp_prod = fin_u32(in);
		break;
	default:
		fill_slot(in, &area->slots[fin_u8(in)]);
		break;
	}
}

/* ---------------------------------------------------------------- the model */

static const struct backing *model_backing(uint32_t disk)
{
	return disk < MED_MAX_DISKS && table[disk].fd >= 0 ? &table[disk] : NULL;
}

/* Whether [sector, + len bytes) lies in b, in exact arithmetic. */
static bool model_in_range(const struct backing *b, uint64_t sector, u128 len)
{
	return (u128)sector * MED_SECTOR + len <= b->size;
}

/* Whether next continues a run that starts with first and holds run_bytes:
 * the daemon's rules, written again without its code. */
static bool model_continues(const struct med_slot *first, uint64_t run_bytes,
			    const struct med_slot *next)
{
	if (!is_rw_type(first->type) || first->len > MED_SLOT_DATA || first->len % MED_SECTOR)
		return false;
	if (next->type != first->type || next->disk != first->disk)
		return false;
	if (!next->len || next->len > MED_SLOT_DATA || next->len % MED_SECTOR ||
	    run_bytes + next->len > RUN_MAX_BYTES)
		return false;
	return (u128)first->sector + run_bytes / MED_SECTOR == next->sector;
}

static int model_rw(const struct run_reqs *r)
{
	const struct med_slot *first = &r->slot[0];
	const struct backing *b = model_backing(first->disk);
	u128 bytes = 0;

	if (!b || (first->type == MED_REQ_WRITE && b->read_only))
		return MED_S_IOERR;
	for (unsigned i = 0; i < r->n; i++) {
		if (r->slot[i].len > MED_SLOT_DATA || r->slot[i].len % MED_SECTOR)
			return MED_S_IOERR;
		bytes += r->slot[i].len;
	}
	return model_in_range(b, first->sector, bytes) ? MED_S_OK : MED_S_IOERR;
}

static int model_other(const struct med_slot *s)
{
	const struct backing *b = model_backing(s->disk);
	bool writes = s->type == MED_REQ_DISCARD || s->type == MED_REQ_WRITE_ZEROES;
	bool has_sectors = s->type != MED_REQ_FLUSH && s->type != MED_REQ_GET_ID;

	if (!b || (writes && b->read_only))
		return MED_S_IOERR;
	if (has_sectors && !model_in_range(b, s->sector, s->len))
		return MED_S_IOERR;
	return MED_S_OK;
}

/* ---------------------------------------------------------------- the checks */

/* An I/O of len bytes at off of b stays inside the backing's part of its
 * file, computed without wrapping. */
static FUZZ_NOCOV void check_io_range(const struct backing *b, uint64_t sector, off_t off, u128 len)
{
	if (!len)
		return; /* nothing is read or written */
	FUZZ_ASSERT(model_in_range(b, sector, len), "sector %llu + %llu bytes beyond %llu",
		    (unsigned long long)sector, (unsigned long long)len,
		    (unsigned long long)b->size);
	FUZZ_ASSERT(off >= 0 && (u128)(uint64_t)off == (u128)b->offset + (u128)sector * MED_SECTOR,
		    "offset %lld for sector %llu", (long long)off, (unsigned long long)sector);
	FUZZ_ASSERT((u128)(uint64_t)off + len <= (u128)b->offset + b->size,
		    "I/O ends past the backing");
}

/* What take_run returned against the ring it read (nothing else wrote it
 * meanwhile): cons and prod as they were before. */
static FUZZ_NOCOV void check_take(int res, const struct run_reqs *r, uint32_t cons, uint32_t prod)
{
	uint32_t pending = prod - cons, moved = area->req_cons - cons;
	uint64_t bytes = 0;

	FUZZ_ASSERT(area->req_prod == prod, "req_prod written by the daemon");
	if (pending > MED_RING_SIZE) {
		FUZZ_ASSERT(res == MED_RING_CORRUPT && !moved, "%u pending: res %d moved %u",
			    pending, res, moved);
		return;
	}
	if (!pending) {
		FUZZ_ASSERT(res == MED_RING_EMPTY && !moved, "empty: res %d moved %u", res, moved);
		return;
	}
	if (MED_TAG_SLOT(area->req_ring[cons % MED_RING_SIZE]) >= nslots) {
		FUZZ_ASSERT(res == MED_RING_CORRUPT && moved == 1, "slot beyond the area: res %d",
			    res);
		return;
	}
	FUZZ_ASSERT(res == MED_RING_OK, "res %d", res);
	FUZZ_ASSERT(r->n >= 1 && r->n <= RUN_MAX && r->n <= pending && moved == r->n,
		    "run of %u, %u pending, cons moved %u", r->n, pending, moved);
	for (unsigned i = 0; i < r->n; i++) {
		uint64_t tag = area->req_ring[(cons + i) % MED_RING_SIZE];
		uint32_t s = MED_TAG_SLOT(tag);
		FUZZ_ASSERT(r->tag[i] == tag, "request %u: tag %llx, the ring's %llx", i,
			    (unsigned long long)r->tag[i], (unsigned long long)tag);
		FUZZ_ASSERT(s < nslots, "slot %u of %u", s, nslots);
		FUZZ_ASSERT(!memcmp(&r->slot[i], &area->slots[s], sizeof(r->slot[i])),
			    "request %u: not its slot's copy", i);
		FUZZ_ASSERT(!i || model_continues(&r->slot[0], bytes, &r->slot[i]),
			    "request %u does not continue the run", i);
		bytes += r->slot[i].len;
		if (!hostile_ring && (tag >> MED_TAG_SLOT_BITS) <= MAX_GEN) {
			FUZZ_ASSERT(!taken_gen[tag >> MED_TAG_SLOT_BITS], "tag %llx taken twice",
				    (unsigned long long)tag);
			taken_gen[tag >> MED_TAG_SLOT_BITS] = true;
		}
	}
	if (r->n > 1)
		FUZZ_ASSERT(bytes <= RUN_MAX_BYTES, "run of %llu bytes", (unsigned long long)bytes);
	if (r->n < RUN_MAX && r->n < pending) { /* why did it stop? */
		uint64_t tag = area->req_ring[(cons + r->n) % MED_RING_SIZE];
		FUZZ_ASSERT(MED_TAG_SLOT(tag) >= nslots ||
				    !model_continues(&r->slot[0], bytes,
						     &area->slots[MED_TAG_SLOT(tag)]),
			    "run of %u stopped before a request that continues it", r->n);
	}
}

/* The I/O the kernel would do touches each buffer's ends. */
static void touch(const struct iovec *v)
{
	volatile uint8_t *p = v->iov_base;

	if (!v->iov_len)
		return;
	p[0] = p[0];
	p[v->iov_len - 1] = p[v->iov_len - 1];
}

static FUZZ_NOCOV int check_rw(const struct run_reqs *r)
{
	const struct med_slot *first = &r->slot[0];
	const uint8_t *data = (const uint8_t *)area + MED_HDR_SIZE;
	struct run_io io;
	uint64_t bytes = 0;
	int status, want = model_rw(r);

	memset(&io, 0x5a, sizeof(io));
	status = prepare_rw(area, table, r, &io);
	FUZZ_ASSERT(status == want, "prepare_rw %d, the model %d (%u requests, the first %u bytes)",
		    status, want, r->n, first->len);
	if (status != MED_S_OK)
		return status;
	FUZZ_ASSERT(io.b == &table[first->disk], "the run's backing");
	FUZZ_ASSERT(io.write == (first->type == MED_REQ_WRITE), "direction");
	FUZZ_ASSERT(!io.write || !io.b->read_only, "a write on a read-only disk");
	for (unsigned i = 0; i < r->n; i++) {
		const uint8_t *p = io.iov[i].iov_base;
		FUZZ_ASSERT(p == data + (uint64_t)MED_TAG_SLOT(r->tag[i]) * MED_SLOT_DATA &&
				    io.iov[i].iov_len == r->slot[i].len,
			    "iov %u is not its slot's data", i);
		FUZZ_ASSERT(p >= data && io.iov[i].iov_len <= MED_SLOT_DATA &&
				    p + io.iov[i].iov_len <=
					    data + (uint64_t)nslots * MED_SLOT_DATA,
			    "iov %u outside the area's slots", i);
		touch(&io.iov[i]);
		bytes += io.iov[i].iov_len;
	}
	FUZZ_ASSERT(io.bytes == bytes && bytes <= RUN_MAX_BYTES && bytes % MED_SECTOR == 0,
		    "run of %llu bytes (iovs %llu)", (unsigned long long)io.bytes,
		    (unsigned long long)bytes);
	check_io_range(io.b, first->sector, io.off, bytes);
	return status;
}

static FUZZ_NOCOV int check_other_request(const struct med_slot *s)
{
	struct backing *b = NULL;
	off_t off = -1;
	int status = check_other(table, s, &b, &off);
	int want = model_other(s);

	FUZZ_ASSERT(status == want, "check_other %d, the model %d (type %u)", status, want,
		    s->type);
	if (status != MED_S_OK)
		return status;
	FUZZ_ASSERT(b == &table[s->disk], "the request's backing");
	if (s->type == MED_REQ_DISCARD || s->type == MED_REQ_WRITE_ZEROES)
		check_io_range(b, s->sector, off, s->len);
	return status;
}

/* Gives run r's completions as give_run does; each lands at cmp_prod, or
 * the ring (as the hypervisor left cmp_cons) is full. */
static FUZZ_NOCOV void give(const struct run_reqs *r, int status)
{
	for (unsigned i = 0; i < r->n; i++) {
		uint32_t prod = area->cmp_prod, cons = area->cmp_cons;
		struct med_cmp stamps = {.t_irq = 1, .t_pickup = 2, .t_done = 3 + i};
		int res = med_cmp_give_timed(area, MED_RING_SIZE, r->tag[i], status, &stamps);
		const struct med_cmp *c = &area->cmp_ring[prod % MED_RING_SIZE];

		if (prod - cons >= MED_RING_SIZE) {
			FUZZ_ASSERT(res == MED_RING_FULL && area->cmp_prod == prod,
				    "completion into a full ring");
			continue;
		}
		FUZZ_ASSERT(res == MED_RING_OK && area->cmp_prod == prod + 1 &&
				    c->tag == r->tag[i] && c->status == status &&
				    c->t_done == stamps.t_done,
			    "completion %u not at cmp_prod", i);
	}
}

/* One pass of the engine (take_requests, then each run's checks): takes
 * runs until the ring is empty or corrupt or RUNS_MAX runs are out. */
static void engine_pass(void)
{
	unsigned taken = 0;

	for (unsigned runs = 0; runs < RUNS_MAX; runs++) {
		uint32_t cons = area->req_cons, prod = area->req_prod;
		struct run_reqs r;
		int res;

		memset(&r, 0xa5, sizeof(r));
		res = take_run(area, nslots, &r);
		check_take(res, &r, cons, prod);
		if (res == MED_RING_CORRUPT) {
			area->req_cons = area->req_prod; /* the resync: nothing queued now */
			return;
		}
		if (res != MED_RING_OK)
			return;
		taken += r.n;
		FUZZ_ASSERT(taken <= MED_RING_SIZE, "a pass took %u requests", taken);
		FUZZ_ASSERT(run_is_rw(&r) == is_rw_type(r.slot[0].type), "kind of run");
		give(&r, run_is_rw(&r) ? check_rw(&r) : check_other_request(&r.slot[0]));
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const seeds[] = {"tests/fuzz/seeds/fuzz_daemon_area", NULL};

	fuzz_add_corpus(argc, argv, "fuzz_daemon_area", seeds);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};

	setup(&in);
	for (unsigned step = 0; step < MAX_STEPS && in.n; step++) {
		switch (fin_u8(&in) % 8) {
		case 0:
		case 1:
		case 2:
			hv_queue(&in);
			break;
		case 3:
		case 4:
			engine_pass();
			break;
		case 5:
			hv_take_completions(fin_u8(&in));
			break;
		default:
			hostile_write(&in);
			break;
		}
	}
	engine_pass(); /* whatever is left */
	return 0;
}
