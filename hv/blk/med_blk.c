/* Mediated virtio-blk backend (the mediated path of the README).
 *
 * GVM CPU: QueueNotify traps -> kick(): mark the disk, IPI the MVM's CPU
 * (only if the disk was not marked already), return to the guest at once.
 * MVM CPU: IPI -> mediated_work(): take available requests of the kicked
 * disks in turn, one per disk per turn, copy write data into free slots of
 * the shared area (a request of up to 1 MiB takes one slot per 64 KiB, a
 * chain the MVM sees as adjacent requests), queue their tags on req_ring,
 * then inject one service interrupt into the MVM.
 * MVM daemon: performs the I/O, queues {tag, status}, HVC HC_MED_COMPLETE.
 * While the daemon polls (HC_MED_POLL, below) its calls take the requests
 * instead: no notify, IPI or service interrupt on the way.
 * Any CPU of the MVM: complete(): once every slot of a request is back,
 * copy read data into the GVM, used ring, interrupt the GVM (coalesced:
 * COALESCE), refill freed slots.
 *
 * The MVM can write the whole area at any time. What the hypervisor needs
 * to finish a request (chain, sizes, tag) and its own ring indices stay in
 * hypervisor memory; slot addresses come from constants; every value the
 * MVM writes is read once and checked. The MVM can only corrupt the data
 * and status of requests it was given (and the stamps of its own stages,
 * which count only when ordered between the hypervisor's: med_stages.c).
 *
 * A stopped GVM's requests at the MVM are not cancelled (the daemon may be
 * writing one): their completions finish nothing in the reset device, and
 * each counts in its VM's life.l.io until it comes, so the VM's next
 * instance starts only after the last of them left the disk. A daemon that
 * never completes keeps only that VM from starting.
 *
 * Locking: med.lock (global: every disk, the MVM's hypercalls) guards the
 * records, slots, rings and stage sums; a device's own lock guards its
 * queue and is taken under med.lock, never the other way round. The copies
 * a guest sizes (a write's data into the slots, a read's into the guest: up
 * to 1 MiB) run with med.lock dropped and without the device lock (counted
 * by virtio_copy_begin, so a reset waits for them): their record is busy
 * meanwhile, its slots tagged 0 (no completion, resync or
 * new area touches them), and only the copying CPU queues or releases it
 * once it holds med.lock again. */
#include "blk/mediated.h"

#include "blk/med_stages.h"

#include "drivers/gic.h"
#include "lib/lib.h"
#include "core/print.h"
#include "arch/arm64/spinlock.h"
#include "syshyper/hypercall.h"
#include "syshyper/med_ring.h"
#include "syshyper/mediated.h"
#include "core/vgic.h"
#include "core/vm.h"
#ifndef HOST_UNIT_TEST
#include "arch/arm64/arch.h"
#endif

_Static_assert(MED_MAX_DISKS <= 32, "kicked is a 32-bit map");

/* Requests the device answers itself (unknown type, out of range, GET_ID,
 * malformed) are answered on the MVM's CPU with med.lock held: each disk
 * may have JUNK_PER_TICK of them answered per hypervisor tick (any CPU's,
 * 50 ms each), so a guest that keeps its queue full of them costs the MVM a
 * bounded share of its CPU. An honest driver sends GET_ID once. The rest
 * waits for the next tick (mediated_tick). */
#define JUNK_PER_TICK 4
/* A read or write of up to 1 MiB is carried by a chain of slots, part p in
 * the request's bytes [p * MED_SLOT_DATA, (p + 1) * MED_SLOT_DATA), each
 * part a request of its own for the MVM (adjacent sectors, queued one after
 * the other: the daemon does them as one I/O). */
#define REQ_SLOTS (BLK_LONG_MAX_REQUEST / MED_SLOT_DATA)
/* No disk holds more than the area's slots less one request's while
 * another disk exists (disk_cap): the others always find room for a whole
 * request, and a busy disk next to idle ones keeps all but one request's
 * worth in flight. Among disks that all want slots, the one holding fewest
 * is served first, so they converge to equal shares. */
/* A disk's completions interrupt its guest only once they are at least
 * 1/COALESCE of the requests it still has at the MVM (at once when it has
 * none): an interrupt costs an IPI and the driver's ACK trap, and at queue
 * depth 1 each completion interrupts at once. Those held back go with a
 * later completion of the same disk, which the requests still at the MVM
 * guarantee. At 4 KiB QD32 (the daemon completes in bursts, and a burst
 * that empties the disk interrupts at once) 1/4 gave 0.74-0.80 traps per
 * request in short runs, 1/2 0.53-0.66, with no change in IOPS. */
#define COALESCE 2
/* Requests holding slots (each at least one) and one waiting per disk. */
#define NRECORDS (MED_MAX_SLOTS + MED_MAX_DISKS)

_Static_assert(REQ_SLOTS *MED_SLOT_DATA == BLK_LONG_MAX_REQUEST, "parts of a whole slot");
_Static_assert(2 * REQ_SLOTS * MED_SLOT_DATA <= MED_AREA_MIN - MED_HDR_SIZE,
	       "a disk at its cap holds a whole request, and leaves one");
_Static_assert(MED_SLOT_DATA % 512 == 0, "parts start on a sector");
_Static_assert(NRECORDS < 65536, "record numbers are 16 bits in a slot");
_Static_assert(MED_MAX_SLOTS <= 256, "slot numbers are 8 bits in a record");

/* A guest request given to the MVM, or waiting for slots (staged). */
struct mreq {
	struct blk_req req;
	bool used;
	bool placed;    /* its slots are taken: at the MVM or done */
	bool busy;      /* being copied with med.lock dropped (see the top) */
	uint8_t status; /* the first failed part's, else OK */
	unsigned disk;
	unsigned nslots, left; /* slots it holds, parts still at the MVM */
	uint8_t slot[REQ_SLOTS];
	uint64_t t_notify, t_queued; /* counter stamps (med_stages.h) */
	/* the MVM's stamps of its last part, and the hypercall's */
	uint64_t t_irq, t_pickup, t_done, t_complete;
	uint16_t next_done; /* record + 1: the next one complete() finishes */
};

/* A slot is free (rec 0), at the MVM (tag not 0), or holds a part that is
 * done while other parts of its request are not (tag 0, rec not 0): read
 * data stays in it until the whole request is copied into the guest. */
struct slot_state {
	uint64_t tag;
	uint16_t rec; /* record number + 1 */
	uint8_t part;
};

static struct {
	spinlock_t lock;
	struct med_area *area; /* NULL until the MVM registers it */
	unsigned nslots;       /* the area's slots (its configured size) */
	struct vm *mvm;
	struct virtio_blk *disks[MED_MAX_DISKS];
	unsigned ndisks; /* highest index + 1 */
	unsigned ndisks_present;
	uint32_t kicked;                     /* bitmap of disks with requests to take */
	uint32_t leftover;                   /* a pass stopped on its budget: the tick resumes it */
	unsigned junk_budget[MED_MAX_DISKS]; /* see JUNK_PER_TICK */
	uint32_t budget_tick[MED_MAX_DISKS]; /* the tick it was renewed at */
	uint32_t ticks;                      /* atomic: every CPU's tick adds 1 */
	struct mreq reqs[NRECORDS];
	struct slot_state slot[MED_MAX_SLOTS];
	unsigned nfree;                     /* free slots */
	uint16_t staged[MED_MAX_DISKS];     /* record + 1 of a request waiting for slots */
	unsigned disk_slots[MED_MAX_DISKS]; /* slots each disk holds */
	unsigned disk_reqs[MED_MAX_DISKS];  /* requests each disk has placed */
	unsigned held[MED_MAX_DISKS];       /* completed, their interrupt held back */
	uint64_t irqs_held;
	unsigned next_disk;          /* round robin: first to serve */
	uint32_t req_prod, cmp_cons; /* ours; the area only has copies */
	uint64_t generation;
	uint64_t kicks, irqs_to_mvm, completions, bad_completions;
	uint64_t kick_at[MED_MAX_DISKS]; /* atomic: first notify not yet taken, 0: none */
	/* polling (HC_MED_POLL): the counter until which the daemon looks at
	 * req_ring on its own (0: not polling); the disks a pass looked at
	 * while it polled (their notifies off for it: every disk, as each
	 * HC_MED_POLL's pass looks at all), until a pass after it */
	uint64_t poll_until; /* atomic */
	uint32_t muted;      /* atomic */
	uint64_t polls, poll_hits;
	struct med_stage_sum stages[MED_STAGES];
	uint64_t stage_rejected;
} med;

/* kick_at[] values: 0 none, LEFT_OVER requests a pass left (stamped when
 * taken), else the counter at the first notify since the last pass. */
#define LEFT_OVER 1

#ifdef HOST_UNIT_TEST
uint64_t mediated_test_clock; /* the unit tests' counter */
void (*mediated_test_unlocked)(bool filling, unsigned part);
/* Runs the unit tests' code where a copy runs with med.lock dropped (as
 * another CPU would meanwhile). */
static void unlocked_hook(bool filling, unsigned part)
{
	if (mediated_test_unlocked)
		mediated_test_unlocked(filling, part);
}
static uint64_t med_now(void)
{
	return mediated_test_clock;
}
static uint64_t med_counter_hz(void)
{
	return 1000000;
}
#else
static uint64_t med_now(void)
{
	return timer_now();
}
static uint64_t med_counter_hz(void)
{
	return timer_freq();
}
static void unlocked_hook(bool filling, unsigned part)
{
	(void)filling;
	(void)part;
}
#endif

static struct vm *find_mvm(void)
{
	for (unsigned i = 0; i < nvms; i++)
		if (vms[i].cfg->role == VM_ROLE_MVM)
			return &vms[i];
	return NULL;
}

/* Whether the daemon said it looks at req_ring again before now. */
static bool polling(void)
{
	uint64_t until = __atomic_load_n(&med.poll_until, __ATOMIC_SEQ_CST);

	return until && med_now() < until;
}

int mediated_add_disk(struct virtio_blk *blk, unsigned index)
{
	if (index >= MED_MAX_DISKS || med.disks[index])
		return -1;
	med.disks[index] = blk;
	blk->disk_index = index;
	virtio_blk_set_max_request(blk, BLK_LONG_MAX_REQUEST); /* a chain of slots */
	med.junk_budget[index] = JUNK_PER_TICK;
	med.ndisks_present++;
	if (index >= med.ndisks)
		med.ndisks = index + 1;
	return 0;
}

/* A notify: one IPI per batch, none while the disk is still marked (the
 * MVM's CPU has not taken its requests yet, or left some for later). */
static void kick(struct virtio_blk *blk)
{
	uint32_t bit = 1u << blk->disk_index;
	uint64_t none = 0, now = med_now();

	/* stamped before the mark the MVM's CPU takes it by */
	__atomic_compare_exchange_n(&med.kick_at[blk->disk_index], &none,
				    now > LEFT_OVER ? now : LEFT_OVER + 1, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_RELAXED);
	uint32_t old = __atomic_fetch_or(&med.kicked, bit, __ATOMIC_SEQ_CST);

	__atomic_add_fetch(&med.kicks, 1, __ATOMIC_RELAXED);
	if (old & bit)
		return;
	if (polling()) /* the daemon's next call takes it; the tick (muted) if none comes */
		return;
	if (!med.mvm)
		med.mvm = find_mvm();
	if (med.mvm)
		gic_send_sgi(med.mvm->vcpus[0].pcpu, IPI_WORK);
}

/* Every disk index up to the highest (a pass skips the absent ones). */
static uint32_t all_disks(void)
{
	return (uint32_t)((1ull << med.ndisks) - 1);
}

static int free_slot(void)
{
	for (unsigned i = 0; i < med.nslots; i++)
		if (!med.slot[i].rec)
			return (int)i;
	return -1;
}

static int free_record(void)
{
	for (unsigned i = 0; i < NRECORDS; i++)
		if (!med.reqs[i].used)
			return (int)i;
	return -1;
}

/* The lifecycle of the VM whose request a record holds: counted from its
 * queueing until its slots are free again (the VM does not start anew
 * meanwhile: its previous instance's write may still be on its way). */
static struct life *life_of(const struct mreq *m)
{
	return &m->req.blk->vdev.vm->life.l;
}

/* Slots a request needs: reads and writes one per MED_SLOT_DATA bytes
 * (req.len was checked against the device's 1 MiB), the rest one. */
static unsigned slots_needed(const struct blk_req *r)
{
	if (r->type != VIRTIO_BLK_T_IN && r->type != VIRTIO_BLK_T_OUT)
		return 1;
	uint64_t n = ((uint64_t)r->len + MED_SLOT_DATA - 1) / MED_SLOT_DATA;
	return n ? (unsigned)MIN(n, (uint64_t)REQ_SLOTS) : 1;
}

/* Bytes of part p (reads and writes); the whole length for the others. */
static uint32_t part_len(const struct mreq *m, unsigned p)
{
	if (m->req.type != VIRTIO_BLK_T_IN && m->req.type != VIRTIO_BLK_T_OUT)
		return m->req.len;
	uint64_t off = (uint64_t)p * MED_SLOT_DATA;
	return off >= m->req.len ? 0 : (uint32_t)MIN((uint64_t)m->req.len - off, MED_SLOT_DATA);
}

/* Puts slot s (its request's part filled) on req_ring with a new tag;
 * publish() makes it visible. The ring has room: it never holds more
 * entries than slots are at the MVM, whatever the MVM wrote into req_cons
 * (which is never read). */
static void queue_slot(unsigned s)
{
	struct med_area *a = med.area;
	struct slot_state *st = &med.slot[s];
	const struct mreq *m = &med.reqs[st->rec - 1];
	struct med_slot *slot = &a->slots[s];
	bool rw = m->req.type == VIRTIO_BLK_T_IN || m->req.type == VIRTIO_BLK_T_OUT;

	st->tag = (++med.generation << MED_TAG_SLOT_BITS) | s;
	slot->t_queued = m->t_queued;
	slot->disk = m->disk;
	slot->type = m->req.type;
	slot->sector = m->req.sector + (rw ? (uint64_t)st->part * (MED_SLOT_DATA / 512) : 0);
	slot->len = part_len(m, st->part);
	slot->tag = st->tag;
	a->req_ring[med.req_prod % MED_RING_SIZE] = st->tag;
	med.req_prod++;
}

/* Makes the entries queue_slot added visible to the MVM. */
static void publish(void)
{
	MED_WMB(); /* slots and ring entries before the index */
	WRITE_ONCE(med.area->req_prod, med.req_prod);
}

/* Gives record r's slots back and forgets it; lock held, and r not busy
 * (or the caller is the CPU that marked it). */
static void release(unsigned r)
{
	struct mreq *m = &med.reqs[r];

	if (m->placed) {
		for (unsigned p = 0; p < m->nslots; p++) {
			med.slot[m->slot[p]].rec = 0;
			med.slot[m->slot[p]].tag = 0;
			med.nfree++;
		}
		med.disk_slots[m->disk] -= m->nslots;
		med.disk_reqs[m->disk]--;
		life_io_end(life_of(m));
	}
	m->placed = false;
	m->used = false;
}

/* Copies record m's write data into its slots, with med.lock dropped: the
 * guest sized it (up to 1 MiB). Each part is copied (without the device
 * lock: virtio_blk_copy_out_live) only if the device and queue are still
 * the request's, and used only if they still were at its end. m is busy
 * meanwhile and its slots tagged 0: nobody else queues, releases or reuses
 * them. Called and returns with med.lock held. false: not live. */
static bool fill(struct mreq *m)
{
	struct med_area *a = med.area; /* the same memory at every registration */
	bool live = true;

	m->busy = true;
	spin_unlock(&med.lock);
	for (unsigned p = 0; live && p < m->nslots; p++) {
		unlocked_hook(true, p);
		live = virtio_blk_copy_out_live(&m->req, p * MED_SLOT_DATA,
						MED_SLOT_DATA_PTR(a, m->slot[p]), part_len(m, p));
	}
	spin_lock(&med.lock);
	m->busy = false;
	return live;
}

/* Takes free slots for record r (the caller checked there are enough),
 * copies its write data into them (fill: med.lock is dropped meanwhile)
 * and queues its parts. false: the driver reset the device since the
 * request was taken (its buffers are not the request's any more): nothing
 * is queued and the request is finished into the dead queue (nothing
 * written). Lock held. */
static bool place(unsigned r)
{
	struct mreq *m = &med.reqs[r];

	for (unsigned p = 0; p < m->nslots; p++) {
		int s = free_slot();
		m->slot[p] = (uint8_t)s;
		med.slot[s] = (struct slot_state){.rec = (uint16_t)(r + 1), .part = (uint8_t)p};
		med.nfree--;
	}
	m->placed = true;
	m->left = m->nslots;
	m->status = VIRTIO_BLK_S_OK;
	med.disk_slots[m->disk] += m->nslots;
	med.disk_reqs[m->disk]++;
	life_io_begin(life_of(m));
	/* counted first, then checked: a reset after the check comes before
	 * the clean-up, so START sees the count; every type, since discard
	 * and write-zeroes change the disk too */
	bool live = m->req.type == VIRTIO_BLK_T_OUT ? fill(m) : virtio_blk_req_live(&m->req);
	if (!live) {
		release(r);
		virtio_blk_complete(&m->req, VIRTIO_BLK_S_IOERR, 0);
		return false;
	}
	m->t_queued = med_now();
	for (unsigned p = 0; p < m->nslots; p++)
		queue_slot(m->slot[p]);
	return true;
}

static unsigned disk_cap(void)
{
	return med.ndisks_present > 1 ? med.nslots - REQ_SLOTS : med.nslots;
}

/* The disk to serve next among `want`: under its cap, fewest slots held,
 * ties in round-robin order. -1 if none may have a slot. */
static int pick_disk(uint32_t want)
{
	int best = -1;

	for (unsigned k = 0; k < med.ndisks; k++) {
		unsigned d = (med.next_disk + k) % med.ndisks;
		if (!(want & (1u << d)) || med.disk_slots[d] >= disk_cap())
			continue;
		if (best < 0 || med.disk_slots[d] < med.disk_slots[best])
			best = (int)d;
	}
	return best;
}

/* Notifies are off for a disk while it has requests in flight (each
 * completion marks it, so the pass after it looks at its queue) or while
 * the daemon polls (muted: the first pass after polling looks at it), and
 * on otherwise; returns the disks whose driver added requests while they
 * were off. Lock held. */
static uint32_t set_notifies(uint32_t looked, bool quiet)
{
	uint32_t waiting = 0, muted = __atomic_load_n(&med.muted, __ATOMIC_SEQ_CST);

	for (unsigned d = 0; d < MED_MAX_DISKS; d++) {
		uint32_t bit = 1u << d;
		if (!(looked & bit))
			continue;
		if (med.disk_slots[d] || med.staged[d] || quiet) {
			virtio_blk_set_notify(med.disks[d], false);
			muted = quiet ? muted | bit : muted & ~bit;
			continue;
		}
		muted &= ~bit;
		if (virtio_blk_set_notify(med.disks[d], true))
			waiting |= bit;
	}
	__atomic_store_n(&med.muted, muted, __ATOMIC_SEQ_CST);
	return waiting;
}

/* Moves requests of kicked disks into free slots, one per disk per turn;
 * lock held (place drops it while it copies a write: another CPU's pass
 * may run meanwhile, with other requests and free slots). Disks with
 * requests left (no slot, at their cap, or out of budget) stay marked for
 * the next pass; *again: disks to look at once more (set_notifies). */
static unsigned fill_pass(uint32_t *again, bool quiet)
{
	uint32_t want = __atomic_exchange_n(&med.kicked, 0, __ATOMIC_SEQ_CST);
	uint32_t later = 0, looked;
	unsigned queued = 0;

	if (!quiet) /* polling ended: their notifies go on again */
		want |= __atomic_load_n(&med.muted, __ATOMIC_SEQ_CST);

	uint32_t tick = __atomic_load_n(&med.ticks, __ATOMIC_RELAXED);
	uint64_t notified[MED_MAX_DISKS], now = med_now();

	for (unsigned d = 0; d < MED_MAX_DISKS; d++) {
		if (!med.disks[d])
			want &= ~(1u << d);
		/* requests taken now were notified at the first notify since
		 * the last pass (or left by it: see below) */
		notified[d] = __atomic_exchange_n(&med.kick_at[d], 0, __ATOMIC_SEQ_CST);
		if (notified[d] <= LEFT_OVER || notified[d] > now)
			notified[d] = now;
		if (med.budget_tick[d] != tick) { /* a tick since: a new budget */
			med.budget_tick[d] = tick;
			med.junk_budget[d] = JUNK_PER_TICK;
		}
	}
	looked = want;
	while (want) {
		int d = pick_disk(want);
		if (d < 0)
			break; /* retried when slots complete */
		uint32_t bit = 1u << d;
		int r = med.staged[d] ? med.staged[d] - 1 : free_record();
		if (r < 0)
			break; /* cannot happen: NRECORDS */
		struct mreq *m = &med.reqs[r];
		med.next_disk = ((unsigned)d + 1) % med.ndisks;
		if (!med.staged[d]) {
			int got = virtio_blk_next(med.disks[d], &m->req, &med.junk_budget[d]);
			if (got != BLK_NEXT_REQ) {
				want &= ~bit;
				if (got == BLK_NEXT_BUSY)
					later |= bit;
				continue;
			}
			m->used = true;
			m->placed = false;
			m->disk = (unsigned)d;
			m->t_notify = notified[d];
			m->nslots = slots_needed(&m->req);
		} else {
			/* its wait for slots is the guest's queueing, in no stage
			 * (as for requests a pass left in the queue) */
			m->t_notify = now;
		}
		if (med.disk_slots[d] + m->nslots > disk_cap()) {
			/* waits for this disk's own completions (it holds slots:
			 * REQ_SLOTS <= the cap), which mark it again */
			med.staged[d] = (uint16_t)(r + 1);
			want &= ~bit;
			continue;
		}
		if (m->nslots > med.nfree) {
			/* the disk holding fewest slots waits for enough of them,
			 * and the others with it: freed slots are not taken one by
			 * one by small requests while a large one starves */
			med.staged[d] = (uint16_t)(r + 1);
			break;
		}
		med.staged[d] = 0;
		if (place((unsigned)r))
			queued++;
	}
	if (queued)
		publish();
	/* requests left for later (no free slot, cap, budget) are stamped when
	 * a pass takes them (LEFT_OVER): the time a request waits for a slot is
	 * the guest's queueing, in none of the stages */
	for (unsigned d = 0; d < MED_MAX_DISKS; d++) {
		uint64_t none = 0;
		if ((want | later) & (1u << d))
			__atomic_compare_exchange_n(&med.kick_at[d], &none, LEFT_OVER, false,
						    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
	}
	if (want | later)
		__atomic_or_fetch(&med.kicked, want | later, __ATOMIC_SEQ_CST);
	if (later) /* still marked, so no notify IPIs again: the tick must */
		__atomic_store_n(&med.leftover, 1, __ATOMIC_SEQ_CST);
	*again = set_notifies(looked, quiet);
	return queued;
}

/* A pass, and one more for requests a driver added while its notifies
 * were off; any still found after that stay marked for the tick. */
static unsigned fill_slots(bool quiet)
{
	uint32_t again = 0;
	unsigned queued = fill_pass(&again, quiet);

	if (again) {
		__atomic_or_fetch(&med.kicked, again, __ATOMIC_SEQ_CST);
		queued += fill_pass(&again, quiet);
	}
	if (again) {
		__atomic_or_fetch(&med.kicked, again, __ATOMIC_SEQ_CST);
		__atomic_store_n(&med.leftover, 1, __ATOMIC_SEQ_CST);
	}
	return queued;
}

/* A pass; the service interrupt tells the MVM about what it queued unless
 * the daemon polls (it looks at req_ring before it stops: HC_MED_POLL).
 * A quiet pass that copied a write with med.lock dropped may find polling
 * over once it queued: the daemon's last look at req_ring may have come
 * before its entries, so it is told, and a pass that is not quiet turns
 * back on the notifies the quiet one just turned off. Returns how many
 * requests it queued. */
static unsigned work(void)
{
	spin_lock(&med.lock);
	bool quiet = polling();
	unsigned queued = med.area ? fill_slots(quiet) : 0;
	if (quiet && med.area && !polling()) {
		quiet = false;
		queued += fill_slots(false);
	}
	bool irq = queued && !quiet;
	if (irq) {
		med.irqs_to_mvm++;
		med.area->kicks_to_mvm++;
	}
	spin_unlock(&med.lock);
	if (irq)
		vgic_inject(med.mvm, NULL, HC_MVM_IRQ_INTID);
	return queued;
}

void mediated_work(void)
{
	(void)work();
}

/* Every CPU's tick: each disk's budget for requests the device answers
 * itself is renewed, and a pass that stopped on it goes on (one IPI to the
 * MVM's CPU per tick at most), so a disk left marked is never stranded;
 * so does a pass once polling ended without the daemon's word (killed), for
 * the disks whose notifies it kept off (a notify meanwhile sent no IPI:
 * its disk is among them). */
void mediated_tick(void)
{
	struct vm *mvm = med.mvm;
	bool resume;

	__atomic_add_fetch(&med.ticks, 1, __ATOMIC_RELAXED); /* no lock: resync may hold it */
	if (!mvm)
		return;
	resume = __atomic_exchange_n(&med.leftover, 0, __ATOMIC_SEQ_CST);
	if (!polling() && __atomic_load_n(&med.muted, __ATOMIC_SEQ_CST))
		resume = true; /* the pass looks at the muted disks by itself */
	if (resume)
		gic_send_sgi(mvm->vcpus[0].pcpu, IPI_WORK);
}

/* HC_MED_POLL: the daemon polls for `us` more microseconds (0: stopped).
 * Every disk is looked at: the requests their drivers added without a
 * notify are queued now, and after the last call the pass that is not
 * quiet turns their notifies on again. */
static int64_t poll(uint64_t us)
{
	uint64_t until = 0;

	if (!READ_ONCE(med.area))
		return HC_ERR_INVALID;
	if (us) {
		uint64_t ticks = MIN(us, (uint64_t)MED_POLL_MAX_US) * (med_counter_hz() / 1000000);
		until = med_now() + (ticks ? ticks : 1);
	}
	__atomic_store_n(&med.poll_until, until, __ATOMIC_SEQ_CST);
	__atomic_or_fetch(&med.kicked, all_disks(), __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&med.polls, 1, __ATOMIC_RELAXED);
	if (work())
		__atomic_add_fetch(&med.poll_hits, 1, __ATOMIC_RELAXED);
	return HC_OK;
}

static uint8_t to_virtio_status(int32_t s)
{
	if (s == MED_S_OK)
		return VIRTIO_BLK_S_OK;
	return s == MED_S_UNSUPP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

/* Adds a finished request's stamps to the per-stage sums; lock held. */
static void account(const struct mreq *m)
{
	struct med_times t = {
		.notify = m->t_notify,
		.queued = m->t_queued,
		.irq = m->t_irq,
		.pickup = m->t_pickup,
		.done = m->t_done,
		.complete = m->t_complete,
		.gvm_irq = med_now(),
	};

	if (!med_stages_add(med.stages, &t))
		med.stage_rejected++;
}

/* Finishes busy record m, no part of which is at the MVM, with med.lock
 * dropped (complete()): read data from its slots into the guest (the guest
 * sized it: up to 1 MiB; only if the GVM did not reset its device or queue
 * meanwhile, checked under the device lock), status, used ring. Its slots
 * stay its own until complete() releases it. */
static void finish_request(struct med_area *a, struct mreq *m)
{
	const uint8_t *parts[REQ_SLOTS];

	unlocked_hook(false, 0);
	m->req.no_interrupt = true; /* complete() decides (COALESCE) */
	if (m->req.type == VIRTIO_BLK_T_IN) {
		for (unsigned p = 0; p < m->nslots; p++)
			parts[p] = MED_SLOT_DATA_PTR(a, m->slot[p]);
		virtio_blk_complete_read_parts(&m->req, m->status, parts, MED_SLOT_DATA,
					       m->req.len);
	} else {
		virtio_blk_complete(&m->req, m->status, 0);
	}
}

static void bad_completion(const char *what, uint64_t tag)
{
	med.bad_completions++;
	vm_log(med.mvm, LOG_MEDIATED, "mediated: completion %s (tag 0x%lx): ignored\n", what,
	       (unsigned long)tag);
}

/* One completion entry, read once: finishes the part only if its slot is
 * at the MVM with exactly this tag (not a stale or repeated completion).
 * A request whose last part is back is marked busy and put on *done, for
 * complete() to finish with the lock dropped (and to mark its disk once
 * its slots are free). Lock held. */
static bool take_completion(const struct med_cmp *e, uint64_t t_complete, uint16_t *done)
{
	uint64_t tag = READ_ONCE(e->tag);
	int32_t status = READ_ONCE(e->status);
	uint64_t t_irq = READ_ONCE(e->t_irq), t_pickup = READ_ONCE(e->t_pickup);
	uint64_t t_done = READ_ONCE(e->t_done);
	uint32_t s = MED_TAG_SLOT(tag);

	if (s >= med.nslots) {
		bad_completion("for a slot that does not exist", tag);
		return false;
	}
	struct slot_state *st = &med.slot[s];
	if (!st->tag || st->tag != tag) {
		bad_completion(st->tag ? "with a stale tag" : "for a slot not at the MVM", tag);
		return false;
	}
	unsigned r = st->rec - 1u; /* rec is set while the tag is */
	struct mreq *m = &med.reqs[r];
	uint8_t vs = to_virtio_status(status);
	st->tag = 0;
	if (vs != VIRTIO_BLK_S_OK && m->status == VIRTIO_BLK_S_OK)
		m->status = vs;
	if (--m->left)
		return true; /* other parts still at the MVM */
	m->t_irq = t_irq;
	m->t_pickup = t_pickup;
	m->t_done = t_done;
	m->t_complete = t_complete;
	m->busy = true; /* every slot's tag is 0 now: no completion finds it */
	m->next_done = *done;
	*done = (uint16_t)(r + 1);
	med.completions++;
	return true;
}

/* The disks among `finished` whose guests are interrupted now (COALESCE);
 * lock held. */
static uint32_t interrupts_due(uint32_t finished)
{
	uint32_t due = 0;

	for (unsigned d = 0; d < MED_MAX_DISKS; d++) {
		if (!(finished & (1u << d)))
			continue;
		if ((uint64_t)med.held[d] * COALESCE < med.disk_reqs[d]) {
			med.irqs_held++;
			continue;
		}
		med.held[d] = 0;
		due |= 1u << d;
	}
	return due;
}

/* HC_MED_COMPLETE: takes every completion entry with the lock held, then
 * finishes the requests whose last part came back with it dropped (the
 * copies into the guests), then releases them and adds their stages with
 * it held again. */
static int64_t complete(void)
{
	struct med_area *a;
	int64_t ret = HC_OK;
	uint16_t done = 0; /* record + 1 of the first request to finish */

	spin_lock(&med.lock);
	a = med.area;
	if (!a) {
		spin_unlock(&med.lock);
		return HC_ERR_INVALID;
	}
	uint32_t prod = READ_ONCE(a->cmp_prod);
	/* after the index: an entry published by then was stamped done by then */
	uint64_t t_complete = med_now();
	int64_t pending = med_ring_pending(prod, med.cmp_cons, MED_RING_SIZE);
	if (pending < 0) {
		med.bad_completions++;
		vm_log(med.mvm, LOG_MEDIATED,
		       "mediated: completion ring corrupt (prod %u, ours %u): skipped\n", prod,
		       med.cmp_cons);
		med.cmp_cons = prod;
		ret = HC_ERR_INVALID;
		pending = 0;
	}
	MED_RMB(); /* entries after the index that published them */
	for (int64_t i = 0; i < pending; i++) {
		const struct med_cmp *e = &a->cmp_ring[med.cmp_cons % MED_RING_SIZE];
		med.cmp_cons++;
		if (!take_completion(e, t_complete, &done))
			ret = HC_ERR_INVALID;
	}
	WRITE_ONCE(a->cmp_cons, med.cmp_cons);
	a->completions_hvc++;
	spin_unlock(&med.lock);
	/* the records on the list are busy: theirs to read without the lock */
	for (uint16_t r = done; r; r = med.reqs[r - 1].next_done)
		finish_request(a, &med.reqs[r - 1]);
	spin_lock(&med.lock);
	uint32_t finished = 0;
	while (done) {
		unsigned r = done - 1u;
		done = med.reqs[r].next_done;
		med.reqs[r].busy = false;
		account(&med.reqs[r]);
		release(r); /* the VM's count covered the copy */
		med.held[med.reqs[r].disk]++;
		finished |= 1u << med.reqs[r].disk;
		/* its driver was told not to notify while this disk had
		 * requests in flight: the pass after this completion looks at
		 * its queue. Marked only now that its slots are free: a pass
		 * meanwhile (another CPU's) would use the mark up while they
		 * were still held, and a request waiting at the disk's cap
		 * would then wait for completions that already came. */
		__atomic_or_fetch(&med.kicked, 1u << med.reqs[r].disk, __ATOMIC_SEQ_CST);
	}
	uint32_t interrupt = interrupts_due(finished);
	memcpy(a->stages, med.stages, sizeof(a->stages)); /* a copy for the MVM's tools */
	a->stage_rejected = med.stage_rejected;
	a->polls = __atomic_load_n(&med.polls, __ATOMIC_RELAXED);
	a->poll_hits = __atomic_load_n(&med.poll_hits, __ATOMIC_RELAXED);
	spin_unlock(&med.lock);
	for (unsigned d = 0; d < MED_MAX_DISKS; d++)
		if (interrupt & (1u << d))
			virtio_notify_used(&med.disks[d]->vdev, 0);
	mediated_work(); /* freed slots may take waiting requests */
	return ret;
}

static void init_header(struct med_area *a)
{
	memset(a, 0, sizeof(*a));
	a->version = MED_VERSION;
	a->nslots = med.nslots;
	a->slot_data_size = MED_SLOT_DATA;
	a->data_offset = MED_HDR_SIZE;
	a->ndisks = med.ndisks;
	a->counter_hz = med_counter_hz();
	for (unsigned d = 0; d < med.ndisks; d++) {
		struct virtio_blk *b = med.disks[d];
		if (!b)
			continue;
		memcpy(a->disks[d].name, b->name,
		       MIN(strlen(b->name), sizeof(a->disks[d].name) - 1));
		a->disks[d].sectors = b->sectors;
		a->disks[d].read_only = b->read_only;
		a->disks[d].valid = 1;
	}
	MED_WMB();
	a->magic = MED_MAGIC;
}

/* The MVM names its area: exactly the region its configuration gives it
 * (config_check held it to the ABI's bounds, inside the MVM's memory). */
static int64_t do_register(struct vcpu *vcpu, uint64_t pa, uint64_t size)
{
	const struct cfg_image *conf = &vcpu->vm->cfg->med_area;
	struct med_area *a = vm_ipa_to_hva(vcpu->vm, pa, size);

	if (!a || !conf->size || pa != conf->pa || size != conf->size || size < MED_AREA_MIN ||
	    size > MED_AREA_MAX)
		return HC_ERR_INVALID;
	spin_lock(&med.lock);
	/* a new area: in flight starts over (registering it is the MVM's word
	 * that no I/O on the old one goes on: it no longer counts). A busy
	 * record is another CPU's, copying: a write being filled is queued on
	 * the new area once filled, a finished request released once copied
	 * into its guest (its slots must not be reused while the copy runs). */
	for (unsigned r = 0; r < NRECORDS; r++)
		if (med.reqs[r].used && med.reqs[r].placed && !med.reqs[r].busy) {
			release(r);
			virtio_blk_complete(&med.reqs[r].req, VIRTIO_BLK_S_IOERR, 0);
		}
	if (!med.area) {
		med.nslots = MED_AREA_SLOTS(size); /* the same at every registration */
		med.nfree = med.nslots;
	}
	med.mvm = vcpu->vm;
	init_header(a);
	med.area = a;
	med.req_prod = med.cmp_cons = 0;
	med.kicked = all_disks();
	spin_unlock(&med.lock);
	vm_log(vcpu->vm, LOG_MEDIATED,
	       "mediated: area registered at 0x%lx (%u slots, %u disk(s))\n", (unsigned long)pa,
	       med.nslots, med.ndisks);
	mediated_work();
	return HC_OK;
}

/* A restarted daemon: every request in flight is queued again, with a new
 * tag, so a completion from before the resync finishes nothing. */
static int64_t resync(void)
{
	struct med_area *a;
	unsigned requeued = 0;

	spin_lock(&med.lock);
	a = med.area;
	if (!a) {
		spin_unlock(&med.lock);
		return HC_ERR_INVALID;
	}
	med.req_prod = med.cmp_cons = 0;
	WRITE_ONCE(a->req_prod, 0);
	WRITE_ONCE(a->req_cons, 0);
	WRITE_ONCE(a->cmp_prod, 0);
	WRITE_ONCE(a->cmp_cons, 0);
	/* its data stays: copied once; a busy record's slots (tag 0) are not
	 * at the MVM: a write being filled is queued by its CPU when filled */
	for (unsigned s = 0; s < med.nslots; s++)
		if (med.slot[s].tag) {
			queue_slot(s);
			requeued++;
		}
	publish();
	spin_unlock(&med.lock);
	/* MVM user space may resync in a loop: rate-limited */
	vm_log(med.mvm, LOG_MEDIATED, "mediated: daemon resync, %u request(s) queued again\n",
	       requeued);
	if (requeued)
		vgic_inject(med.mvm, NULL, HC_MVM_IRQ_INTID);
	mediated_work();
	return HC_OK;
}

int64_t mediated_hypercall(struct vcpu *vcpu, uint64_t fid, uint64_t a1, uint64_t a2)
{
	switch (fid) {
	case HC_MED_REGISTER:
		return do_register(vcpu, a1, a2);
	case HC_MED_COMPLETE:
		return complete();
	case HC_MED_RESYNC:
		return resync();
	case HC_MED_POLL:
		return poll(a1);
	default:
		return HC_ERR_INVALID;
	}
}

/* One line per stage (scripts/bench.py parses "stage NAME: N requests, T
 * ticks"); the mean and max in microseconds for people. */
static void print_stages(void)
{
	static const char *const names[MED_STAGES] = MED_STAGE_NAMES;
	uint64_t per_us = med_counter_hz() / 1000000;

	for (unsigned i = 0; i < MED_STAGES; i++) {
		const struct med_stage_sum *st = &med.stages[i];
		if (!st->count)
			continue;
		printk("mediated stage %s: %lu requests, %lu ticks, mean %lu us, max %lu us\n",
		       names[i], (unsigned long)st->count, (unsigned long)st->ticks,
		       (unsigned long)(st->ticks / st->count / (per_us ? per_us : 1)),
		       (unsigned long)(st->max_ticks / (per_us ? per_us : 1)));
	}
	if (med.stage_rejected)
		printk("mediated stage stamps out of order (MVM stages not counted): %lu\n",
		       (unsigned long)med.stage_rejected);
}

unsigned mediated_slots_in_flight(void)
{
	unsigned n = 0;

	spin_lock(&med.lock);
	for (unsigned s = 0; s < med.nslots; s++) /* busy records' too */
		n += med.slot[s].rec != 0;
	spin_unlock(&med.lock);
	return n;
}

void mediated_print_stats(void)
{
	printk("mediated: kicks %lu, service interrupts to the MVM %lu, completions %lu\n",
	       (unsigned long)med.kicks, (unsigned long)med.irqs_to_mvm,
	       (unsigned long)med.completions);
	if (med.irqs_held) /* a line of its own: scripts/bench.py parses the first */
		printk("mediated: guest interrupts held back to go with a later completion %lu\n",
		       (unsigned long)med.irqs_held);
	if (med.polls) /* a line of its own: scripts/bench.py parses the first */
		printk("mediated: daemon polls %lu (found requests %lu)\n",
		       (unsigned long)med.polls, (unsigned long)med.poll_hits);
	if (med.bad_completions) /* a line of its own: scripts/bench.py parses the first */
		printk("mediated: completions refused (bad tag, slot or ring index) %lu\n",
		       (unsigned long)med.bad_completions);
	print_stages();
}

#ifdef HOST_UNIT_TEST
void mediated_test_reset(void)
{
	memset(&med, 0, sizeof(med));
}
#endif

static void reset(struct virtio_blk *blk)
{
	/* requests in flight complete into a queue that is no longer ready;
	 * they stay counted in the VM's life.l.io until then */
	(void)blk;
}

const struct blk_backend_ops mediated_blk_backend = {
	.kick = kick,
	.reset = reset,
};
