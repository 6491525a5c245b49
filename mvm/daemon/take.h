/* syshyperd's reading of the mediated area: which requests a run holds
 * (the next one on req_ring and those queued right after it that continue
 * it) and whether their slots and sectors are valid for the disk they name.
 * The hypervisor, and in a hostile MVM anything in it, writes that memory:
 * each slot is copied out once as its request is taken, and only the copy
 * is checked and used. No system calls and no threads here, so that the
 * unit tests and a fuzzer run exactly the engine's checks on the host. */
#ifndef SYSHYPERD_TAKE_H
#define SYSHYPERD_TAKE_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "backing.h"
#include "syshyper/mediated.h"

#define RUN_MAX_BYTES (1u << 20) /* one I/O for up to this many bytes of adjacent requests */
#define RUN_MAX (RUN_MAX_BYTES / MED_SLOT_DATA)
_Static_assert(RUN_MAX <= BACKING_IOV_MAX, "a run is one backing_io");

/* The requests of a run, each slot as it was when taken. */
struct run_reqs {
	unsigned n; /* 1..RUN_MAX */
	uint64_t tag[RUN_MAX];
	struct med_slot slot[RUN_MAX];
};

/* A run of reads or writes once checked: one I/O of `bytes` at `off` of
 * backing b, on the slots' data. */
struct run_io {
	struct backing *b;
	struct iovec iov[RUN_MAX];
	off_t off;
	uint64_t bytes;
	int write;
};

/* Takes the next request off area a's req_ring and the ones queued right
 * after it that continue it (med_can_merge, up to RUN_MAX_BYTES). `slots`
 * is how many slots are mapped: a tag naming one beyond is corrupt. Returns
 * a med_ring result (r holds a run only with MED_RING_OK). One thread
 * alone takes requests: req_cons is its own. */
int take_run(struct med_area *a, uint32_t slots, struct run_reqs *r);

/* Whether run r is of reads or writes (prepare_rw); anything else is one
 * request (check_other). */
int run_is_rw(const struct run_reqs *r);

/* Checks run r (as take_run took it from a) against its disk in table (of
 * MED_MAX_DISKS: slots of whole sectors, within the disk, no write to a
 * read-only one) and points io->iov at its slots' data: MED_S_OK, or the
 * status that fails it. */
int prepare_rw(struct med_area *a, struct backing *table, const struct run_reqs *r,
	       struct run_io *io);

/* Checks a request other than a read or write against its disk in table:
 * MED_S_OK with its backing in *b and, for one with sectors, where they
 * start in *off; or the status that fails it. */
int check_other(struct backing *table, const struct med_slot *s, struct backing **b, off_t *off);

#endif
