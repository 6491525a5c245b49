/* libFuzzer harness: the mediated completion path with a hostile MVM. Two
 * GVMs submit honest requests through their virtio-blk registers; between
 * steps the input makes the MVM take requests, complete them with right,
 * stale, duplicate or invented tags and any status, write arbitrary bytes
 * anywhere in the area's header (indices, rings, slots, layout fields),
 * make completion and resync hypercalls, and makes the GVMs reset their
 * devices. Requests are small or large (up to 136 KiB in two buffers: a
 * chain of up to three slots, buffers straddling the parts). Properties: no
 * access outside the area and guest RAM (guard pages, ASan); a GVM's used
 * ring only ever returns a request that is in flight, once, and only after
 * the MVM gave completions with tags it took for every part of that very
 * request (or one it invented); a buffer (and status byte) of a request
 * that is not in flight, or that was in flight across a reset, is never
 * written. Where the hypervisor copies with its global lock dropped (a
 * write into the slots, a read into the guest), the input may run what
 * another CPU could meanwhile: a resync, a completion hypercall, a pass, a
 * GVM's reset, a new area (in_copy). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fuzz_input.h"
#include "guest_mem_model.h"
#include "blk/mediated.h"
#include "syshyper/med_ring.h"
#include "syshyper/mediated.h"

#define RAM_SIZE 0x200000UL
#define NREQ 8
#define BUF_LEN (136u << 10)
#define REQ_SECTORS 1024 /* request i is at sector i * REQ_SECTORS */
#define PART_SECTORS (MED_SLOT_DATA / 512)
#define HDR_IPA(i) (GMM_BUF_IPA + 0x20 * (i))
#define STATUS_IPA(i) (GMM_BUF_IPA + 0x400 + (i))
#define DATA_IPA(i) (GMM_BUF_IPA + 0x1000 + BUF_LEN * (uint64_t)(i))
#define CANARY 0xc5

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_mediated: %s\n", what);
		abort();
	}
}

struct gvm_state {
	bool inflight[NREQ];
	uint32_t given[NREQ]; /* parts given a completion for this incarnation */
	uint32_t parts[NREQ]; /* all its parts (bit per part) */
	uint32_t incarnation[NREQ];
	uint32_t len[NREQ];
	uint16_t used_seen;
};
static struct gvm_state gs[2];
static uint64_t taken[MED_MAX_SLOTS * 2];
static unsigned ntaken;

/* Which request (GVM, number, incarnation) each tag the MVM took was for,
 * learnt from the slot when taken (sector = request number). */
#define TAGMAP 512
static struct {
	uint64_t tag;
	unsigned v, i, part;
	uint32_t incarnation;
} tagmap[TAGMAP];
static unsigned ntagmap;

static void learn_tag(uint64_t tag)
{
	const struct med_slot *slot = &gmm_area()->slots[MED_TAG_SLOT(tag)];
	unsigned v = slot->disk, i = (unsigned)(slot->sector / REQ_SECTORS);
	uint64_t part = slot->sector % REQ_SECTORS / PART_SECTORS;

	if (v >= 2 || i >= NREQ || part >= 32)
		return;
	tagmap[ntagmap % TAGMAP].part = (unsigned)part;
	tagmap[ntagmap % TAGMAP].tag = tag;
	tagmap[ntagmap % TAGMAP].v = v;
	tagmap[ntagmap % TAGMAP].i = i;
	tagmap[ntagmap % TAGMAP].incarnation = gs[v].incarnation[i];
	ntagmap++;
}

/* The MVM gives a completion with `tag`: credit the request it was for. A
 * tag never seen may be a guess of a current or future one (tags are not
 * secret: the MVM reads them in the slots): from then on, this input cannot
 * tell whose request a completion was meant for (~0 is never a real tag). */
static bool wild;

static void credit(uint64_t tag)
{
	unsigned n = ntagmap < TAGMAP ? ntagmap : TAGMAP;

	for (unsigned k = 0; k < n; k++)
		if (tagmap[k].tag == tag) {
			if (tagmap[k].incarnation == gs[tagmap[k].v].incarnation[tagmap[k].i])
				gs[tagmap[k].v].given[tagmap[k].i] |= 1u << tagmap[k].part;
			return;
		}
	wild = true;
}

static void idle_buffer(struct gmm_gvm *g, unsigned i)
{
	memset(gmm_ptr(g, DATA_IPA(i)), CANARY, BUF_LEN);
	*(uint8_t *)gmm_ptr(g, STATUS_IPA(i)) = CANARY;
}

/* Every 61st byte and the last (a whole compare per step is too slow for
 * buffers of 136 KiB; a copy writes whole runs, so it is still seen). */
static void check_idle_buffers(void)
{
	for (unsigned v = 0; v < 2; v++)
		for (unsigned i = 0; i < NREQ; i++) {
			struct gmm_gvm *g = &gmm.gvm[v];
			const uint8_t *b = gmm_ptr(g, DATA_IPA(i));
			if (gs[v].inflight[i])
				continue;
			for (uint32_t k = 0; k < BUF_LEN; k += 61)
				check(b[k] == CANARY, "a buffer not in flight was written");
			check(b[BUF_LEN - 1] == CANARY, "a buffer not in flight was written");
			check(*(uint8_t *)gmm_ptr(g, STATUS_IPA(i)) == CANARY,
			      "a status byte not in flight was written");
		}
}

/* Every new used entry is a request in flight; it is no longer. */
static void collect_used(void)
{
	for (unsigned v = 0; v < 2; v++) {
		struct gmm_gvm *g = &gmm.gvm[v];
		uint16_t now = gmm_used_idx(g);
		check((uint16_t)(now - gs[v].used_seen) <= NREQ, "more completions than requests");
		for (; gs[v].used_seen != now; gs[v].used_seen++) {
			uint32_t id, len;
			gmm_used_elem(g, gs[v].used_seen, &id, &len);
			check(id % 4 == 0 && id / 4 < NREQ, "used id never offered");
			unsigned i = id / 4;
			check(gs[v].inflight[i], "a request completed twice or after a reset");
			check(wild || (gs[v].given[i] & gs[v].parts[i]) == gs[v].parts[i],
			      "a request completed before the MVM gave every part of it");
			check(len <= gs[v].len[i] + 1, "used length beyond the request");
			gs[v].inflight[i] = false;
			idle_buffer(g, i); /* the guest reuses it */
		}
	}
}

static void submit(struct gmm_gvm *g, struct gvm_state *s, struct fuzz_in *in)
{
	static const uint32_t types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
					 VIRTIO_BLK_T_IN, 77};
	unsigned i = (unsigned)fin_le(in, 1) % NREQ;
	uint32_t type = types[fin_le(in, 1) % 5];
	uint32_t size = (uint32_t)fin_le(in, 2);
	/* small, or large: 512-byte multiples up to BUF_LEN */
	uint32_t len = size & 0x8000 ? 512 * (1 + size % (BUF_LEN / 512)) : 512 * (1 + size % 2);
	uint32_t first = len > 512 ? 512 * (1 + (size >> 4) % (len / 512 - 1)) : len;
	uint64_t a[2] = {DATA_IPA(i), DATA_IPA(i) + first};
	uint32_t l[2] = {first, len - first};
	uint32_t nparts = (len + MED_SLOT_DATA - 1) / MED_SLOT_DATA;

	if (s->inflight[i])
		return;
	s->inflight[i] = true;
	s->parts[i] = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT ? (1u << nparts) - 1 : 1;
	s->given[i] = type == 77 ? s->parts[i] : 0; /* answered by the device itself */
	s->incarnation[i]++;
	s->len[i] = len;
	/* descriptors 3i..3i+3: requests with two buffers take one more; the
	 * next request's first is then 3(i+1): make room with 4 per request */
	gmm_offer(g, gmm_blk_request(g, 4 * i, type, (uint64_t)i * REQ_SECTORS, HDR_IPA(i), a, l,
				     first < len ? 2 : 1, STATUS_IPA(i)));
	if (fin_le(in, 1) & 1)
		gmm_notify(g);
}

static void guest_reset(unsigned v)
{
	struct gmm_gvm *g = &gmm.gvm[v];

	gmm_driver_init(g, 0);
	gs[v].used_seen = 0;
	for (unsigned i = 0; i < NREQ; i++) {
		gs[v].inflight[i] = false; /* whatever was in flight is dead */
		gs[v].incarnation[i]++;
		idle_buffer(g, i);
	}
}

/* The input of the run, for in_copy. */
static struct fuzz_in *cur_in;
extern uint64_t mediated_test_clock;

/* Another CPU while a copy runs with med.lock dropped (not nested). */
static void in_copy(bool filling, unsigned part)
{
	static bool inside;

	(void)filling;
	(void)part;
	if (inside || !cur_in->n)
		return;
	inside = true;
	uint8_t what = (uint8_t)fin_le(cur_in, 1);
	switch (what % 8) {
	case 0:
		gmm_mvm_hypercall(HC_MED_RESYNC, 0, 0);
		ntaken = 0;
		break;
	case 1:
		gmm_mvm_hypercall(HC_MED_COMPLETE, 0, 0);
		break;
	case 2:
		mediated_work();
		break;
	case 3:
		guest_reset(what >> 3 & 1);
		break;
	case 4: /* every request at the MVM fails: none is owed its parts */
		gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, GMM_AREA_SIZE);
		ntaken = 0;
		wild = true;
		break;
	default:
		break;
	}
	inside = false;
}

static void mvm_take_all(void)
{
	uint64_t tag;
	struct med_area *a = gmm_area();

	while (ntaken < sizeof(taken) / sizeof(taken[0]) &&
	       med_req_take(a, MED_RING_SIZE, &tag) == MED_RING_OK) {
		taken[ntaken++] = tag;
		learn_tag(tag);
	}
}

static void mvm_complete_one(struct fuzz_in *in)
{
	struct med_area *a = gmm_area();
	uint8_t how = (uint8_t)fin_le(in, 1);
	uint64_t tag;

	if (ntaken && how < 200) { /* one it took (maybe again: a duplicate) */
		unsigned k = (unsigned)fin_le(in, 1) % ntaken;
		tag = taken[k];
		if (how & 1)
			taken[k] = taken[--ntaken];
		if (how & 2)
			tag ^= fin_le(in, 1) << MED_TAG_SLOT_BITS; /* another generation */
	} else {
		tag = fin_le(in, 8); /* invented */
	}
	uint32_t s = MED_TAG_SLOT(tag);
	if (s < GMM_AREA_SLOTS && (how & 4))
		memset(MED_SLOT_DATA_PTR(a, s), (int)fin_le(in, 1), MED_SLOT_DATA);
	int32_t status = how & 8 ? (int32_t)fin_le(in, 4) : MED_S_OK;
	credit(tag);
	a->cmp_ring[a->cmp_prod % MED_RING_SIZE].tag = tag;
	a->cmp_ring[a->cmp_prod % MED_RING_SIZE].status = status;
	a->cmp_prod++;
}

static void mvm_scribble(struct fuzz_in *in)
{
	/* everything before the slots (which the hypervisor never reads back,
	 * and from which the harness learns what a tag was for) */
	uint8_t *hdr = (uint8_t *)gmm_area();
	size_t end = offsetof(struct med_area, slots);
	size_t off = (size_t)fin_le(in, 2) % end;
	unsigned n = 1 + (unsigned)fin_le(in, 1) % 8;

	for (unsigned k = 0; k < n && off + k < end; k++)
		hdr[off + k] = (uint8_t)fin_le(in, 1);
	size_t ring = offsetof(struct med_area, cmp_ring);
	if (off < ring + sizeof(gmm_area()->cmp_ring) && off + n > ring)
		credit(~0ull); /* it may have written a current tag: any request may finish */
}

static void init_once(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	gmm_init(2, RAM_SIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};

	init_once();
	mediated_test_reset();
	mediated_test_clock = 0; /* the same input, the same run */
	cur_in = &in;
	mediated_test_unlocked = in_copy;
	memset(gs, 0, sizeof(gs));
	ntaken = ntagmap = 0;
	wild = false;
	for (unsigned v = 0; v < 2; v++) {
		gmm_create_blk(&gmm.gvm[v], NREQ * REQ_SECTORS, false, &mediated_blk_backend);
		guest_reset(v);
	}
	if (gmm_mvm_hypercall(HC_MED_REGISTER, GMM_MVM_IPA, GMM_AREA_SIZE) != HC_OK)
		abort();
	for (unsigned step = 0; step < 64 && in.n; step++) {
		unsigned v = (unsigned)fin_le(&in, 1);
		switch (v >> 1 & 15) {
		case 0:
		case 1:
			submit(&gmm.gvm[v & 1], &gs[v & 1], &in);
			break;
		case 2:
			gmm_notify(&gmm.gvm[v & 1]);
			break;
		case 3:
		case 4:
			mediated_work();
			break;
		case 5:
			mvm_take_all();
			break;
		case 6:
		case 7:
			mvm_complete_one(&in);
			break;
		case 8:
			mvm_scribble(&in);
			break;
		case 9:
		case 10:
			gmm_mvm_hypercall(HC_MED_COMPLETE, 0, 0);
			break;
		case 11:
			gmm_mvm_hypercall(HC_MED_RESYNC, 0, 0);
			ntaken = 0;
			break;
		case 12:
			guest_reset(v & 1);
			break;
		case 13:
			gmm_area()->cmp_prod = (uint32_t)fin_le(&in, 4);
			break;
		case 14: /* the daemon polls (or stops: 0), time passes, a tick */
			mediated_test_clock += fin_le(&in, 2);
			gmm_mvm_hypercall(HC_MED_POLL, fin_le(&in, 1) * 100, 0);
			if (v & 1)
				mediated_tick();
			break;
		default: { /* an honest daemon round: take, complete everything */
			mvm_take_all();
			struct med_area *a = gmm_area();
			for (unsigned k = 0; k < ntaken; k++)
				if (med_cmp_give(a, MED_RING_SIZE, taken[k], MED_S_OK) ==
				    MED_RING_OK)
					credit(taken[k]);
			ntaken = 0;
			gmm_mvm_hypercall(HC_MED_COMPLETE, 0, 0);
		}
		}
		collect_used();
		check_idle_buffers();
	}
	for (unsigned v = 0; v < 2; v++) /* the next input creates them again */
		gmm.gvm[v].blk.vdev.vq[0].ready = false;
	return 0;
}
