/* The mediated block-I/O area shared by the hypervisor and the MVM: the
 * single source of truth for its layout (EL2, the MVM kernel module and the
 * daemon all include this file).
 *
 * The MVM's kernel module allocates one physically contiguous area and
 * registers it with HC_MED_REGISTER. The MVM is identity mapped, so the
 * hypervisor reaches the area at the address the MVM passes (after checking
 * it lies in the MVM's memory); the MVM never sees a GVM's memory: data
 * moves through the area's slots, copied by the hypervisor.
 *
 * Requests flow hypervisor -> MVM through req_ring, completions MVM ->
 * hypervisor through cmp_ring. req_ring holds tags, cmp_ring {tag, status};
 * producer and consumer indices are free-running u32 (index % nslots is the
 * position). Any number of slots may be in flight and they complete in any
 * order.
 *
 *   hypervisor: fills slot, req_ring[req_prod % n] = tag, req_prod++,
 *               injects MED_IRQ into the MVM (batched: once per kick;
 *               none while the daemon polls: HC_MED_POLL)
 *   MVM daemon: takes tag = req_ring[req_cons % n], req_cons++, performs the
 *               I/O on slot MED_TAG_SLOT(tag), cmp_ring[cmp_prod % n] =
 *               {tag, status}, cmp_prod++, then HVC HC_MED_COMPLETE (once per
 *               batch)
 *   hypervisor: takes cmp_ring[cmp_cons % n], cmp_cons++, finishes the GVM's
 *               request (copies read data into the GVM, used ring, IRQ
 *               unless held back for a later completion) if the tag is the
 *               one the slot holds now.
 *
 * Time per stage (counter ticks: CNTVCT, which every VM and EL2 read alike
 * since CNTVOFF_EL2 is 0): the hypervisor stamps a request's notify, its
 * queueing (slot t_queued), the completion hypercall and the GVM interrupt;
 * the MVM side stamps its service interrupt (mvm_irq_at, the module), the
 * pick-up and the end of the I/O (in the completion entry). The hypervisor
 * adds them up per stage (enum med_stage) and publishes the sums in
 * stages[] for the MVM's tools; MVM-written stamps count only when they are
 * ordered between the hypervisor's own.
 *
 * The MVM can write the whole area, so the hypervisor trusts none of it:
 * slot addresses come from the constants below (never from the header
 * fields, which are information for the daemon), its own indices (req_prod,
 * cmp_cons) live in hypervisor memory and are only published here, and
 * every value the MVM writes (cmp_prod, ring entries) is read once and
 * checked. A tag's generation changes every time the hypervisor queues a
 * slot (also when a resync queues it again), so a stale or duplicate
 * completion never finishes a later use of the slot.
 */
#ifndef SYSHYPER_MEDIATED_H
#define SYSHYPER_MEDIATED_H

#include "hypercall.h"

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

/* x1 = physical address of the area, x2 = its size in bytes */
#define HC_MED_REGISTER HC_FID(0x10)
/* completions were added to cmp_ring */
#define HC_MED_COMPLETE HC_FID(0x11)
/* a (re)started daemon: the hypervisor resets both rings and queues every
 * request still in flight again (with new tags), so none is lost with a
 * killed daemon */
#define HC_MED_RESYNC HC_FID(0x12)
/* x1 = microseconds: the daemon looks at req_ring again within that time
 * (at most MED_POLL_MAX_US), so until then the hypervisor keeps the GVMs'
 * notifies off, sends no IPI for a notify and no service interrupt for
 * requests it queues; each call also takes the requests waiting in the
 * GVMs' queues. x1 = 0: the daemon stopped polling (notifies and service
 * interrupts again). */
#define HC_MED_POLL HC_FID(0x13)
#define MED_POLL_MAX_US 20000u

#define MED_MAGIC 0x4d454453u /* "SDEM" */
/* 2: tags with a generation, status in cmp_ring; 3: stage times; 4: the
 * area's size is configuration (nslots slots), rings of MED_RING_SIZE;
 * 5: polling counters */
#define MED_VERSION 5
#define MED_HDR_SIZE (64u << 10)    /* header + rings + disk table */
#define MED_SLOT_DATA (64u << 10)   /* data bytes per slot (a request takes up to 16) */
#define MED_MAX_SLOTS 256           /* what a tag's slot number can name */
#define MED_RING_SIZE MED_MAX_SLOTS /* entries of req_ring and cmp_ring */
#define MED_MAX_DISKS 8
#define MED_SECTOR 512

/* The area's size is the MVM's `mediated-area` in the configuration (the
 * MVM's device tree reserves it; the hypervisor accepts only that region):
 * the header, then as many slots as fit, at most MED_MAX_SLOTS. At least
 * 32 slots, so that one disk at its cap leaves another a whole 1 MiB
 * request. */
#define MED_AREA_MIN (MED_HDR_SIZE + 32u * MED_SLOT_DATA)
#define MED_AREA_MAX (MED_HDR_SIZE + MED_MAX_SLOTS * MED_SLOT_DATA)
#define MED_AREA_DEFAULT (16u << 20) /* 255 slots: 15 requests of 1 MiB in flight */
#define MED_AREA_ALIGN MED_SLOT_DATA
/* Slots an area of `size` bytes holds (size checked against the bounds). */
#define MED_AREA_SLOTS(size) ((uint32_t)(((size)-MED_HDR_SIZE) / MED_SLOT_DATA))

/* A tag: the slot number in its low 8 bits, a generation above them. */
#define MED_TAG_SLOT_BITS 8
#define MED_TAG_SLOT(tag) ((uint32_t)((tag) & ((1u << MED_TAG_SLOT_BITS) - 1)))

enum med_req_type {
	MED_REQ_READ = 0,
	MED_REQ_WRITE = 1,
	MED_REQ_FLUSH = 4,
	MED_REQ_GET_ID = 8,
	MED_REQ_DISCARD = 11,
	MED_REQ_WRITE_ZEROES = 13,
};

enum med_status { MED_S_OK = 0, MED_S_IOERR = 1, MED_S_UNSUPP = 2 };

/* Written by the hypervisor, read by the MVM. */
struct med_slot {
	uint32_t disk;   /* index in disks[] */
	uint32_t type;   /* enum med_req_type */
	uint64_t sector; /* in 512-byte sectors */
	uint32_t len;    /* data bytes (read/write); sectors*512 for discard/zeroes */
	uint32_t reserved;
	uint64_t tag;      /* the request's tag (the same as in req_ring) */
	uint64_t t_queued; /* counter when put on req_ring */
};

/* A completion: the tag the MVM took from req_ring and its result. */
struct med_cmp {
	uint64_t tag;
	int32_t status; /* enum med_status */
	uint32_t reserved;
	/* counter stamps (0: not measured): the service interrupt that
	 * announced the request (its pick-up time if none did), the pick-up,
	 * the end of the I/O */
	uint64_t t_irq, t_pickup, t_done;
};

/* The stages of a mediated request, and the whole from the hypervisor's own
 * stamps. */
enum med_stage {
	MED_ST_NOTIFY_IRQ,    /* GVM notify -> MVM service interrupt */
	MED_ST_IRQ_PICKUP,    /* MVM interrupt -> the backend takes it */
	MED_ST_PICKUP_DONE,   /* the backend's I/O */
	MED_ST_DONE_COMPLETE, /* I/O done -> completion hypercall */
	MED_ST_COMPLETE_GVM,  /* completion hypercall -> GVM interrupt (copy, used ring) */
	MED_ST_TOTAL,         /* GVM notify -> GVM interrupt */
	MED_STAGES
};

#define MED_STAGE_NAMES                                                                       \
	{                                                                                     \
		"notify->mvm-irq", "mvm-irq->pickup", "pickup->io-done", "io-done->complete", \
			"complete->gvm-irq", "total"                                          \
	}

struct med_stage_sum {
	uint64_t count, ticks, max_ticks;
};

/* Filled by the hypervisor from its configuration, for the daemon to check
 * against its own (which file backs which disk is the MVM's business). */
struct med_disk {
	char name[16]; /* "gvm1.vda" */
	uint64_t sectors;
	uint32_t read_only;
	uint32_t valid;
};

struct med_area {
	uint32_t magic;
	uint32_t version;
	uint32_t nslots;         /* data slots: MED_AREA_SLOTS(the configured size) */
	uint32_t slot_data_size; /* MED_SLOT_DATA (information only) */
	uint32_t data_offset;    /* MED_HDR_SIZE (information only) */
	uint32_t ndisks;
	uint32_t pad[2];
	volatile uint32_t req_prod; /* hypervisor (a copy of its own index) */
	volatile uint32_t req_cons; /* MVM */
	volatile uint32_t cmp_prod; /* MVM */
	volatile uint32_t cmp_cons; /* hypervisor (a copy of its own index) */
	uint64_t req_ring[MED_RING_SIZE];
	struct med_cmp cmp_ring[MED_RING_SIZE];
	struct med_slot slots[MED_MAX_SLOTS];
	struct med_disk disks[MED_MAX_DISKS];
	/* counters the MVM's tools may show */
	uint64_t kicks_to_mvm, completions_hvc;
	uint64_t mvm_irq_at; /* MVM module: counter at its latest service interrupt */
	uint64_t counter_hz; /* hypervisor: the counter's frequency */
	/* hypervisor: a copy of its per-stage sums, and how many requests came
	 * back with MVM stamps out of order (their MVM stages not counted) */
	struct med_stage_sum stages[MED_STAGES];
	uint64_t stage_rejected;
	/* hypervisor: HC_MED_POLL calls, and those whose pass found requests */
	uint64_t polls, poll_hits;
};

_Static_assert(sizeof(struct med_area) <= MED_HDR_SIZE, "header overlaps slot data");
_Static_assert(MED_AREA_SLOTS(MED_AREA_MAX) == MED_MAX_SLOTS, "the largest area");
_Static_assert(MED_AREA_DEFAULT >= MED_AREA_MIN && MED_AREA_DEFAULT <= MED_AREA_MAX,
	       "the default area is valid");
_Static_assert(MED_RING_SIZE >= MED_MAX_SLOTS, "a ring holds every slot");
_Static_assert(MED_MAX_SLOTS <= (1u << MED_TAG_SLOT_BITS), "slot number does not fit a tag");

/* Slot i's data, from the constants alone (i < the area's slots). */
#define MED_SLOT_DATA_PTR(area, i) ((uint8_t *)(area) + MED_HDR_SIZE + (uint64_t)(i)*MED_SLOT_DATA)

#endif
