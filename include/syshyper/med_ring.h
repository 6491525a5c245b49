/* The two rings of struct med_area (mediated.h): index arithmetic shared by
 * the hypervisor, the MVM daemon and the unit tests, and the MVM's side of
 * both rings. Indices are free-running u32; an index read from the other
 * side is read once and checked before use (a producer more than n ahead of
 * the consumer, or behind it, is corruption). */
#ifndef SYSHYPER_MED_RING_H
#define SYSHYPER_MED_RING_H

#include "mediated.h"

#if defined(__aarch64__)
#define MED_WMB() __asm__ volatile("dmb ishst" ::: "memory")
#define MED_RMB() __asm__ volatile("dmb ishld" ::: "memory")
#else
#define MED_WMB() __atomic_thread_fence(__ATOMIC_RELEASE)
#define MED_RMB() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#define MED_READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define MED_WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

enum med_ring_result {
	MED_RING_OK = 0,
	MED_RING_EMPTY = 1,
	MED_RING_FULL = 2,
	MED_RING_CORRUPT = -1
};

/* Entries waiting between a producer and a consumer index. */
static inline uint32_t med_ring_count(uint32_t prod, uint32_t cons)
{
	return prod - cons;
}

/* Entries a consumer at `cons` may take from a ring of n whose producer
 * index it read (once) as `prod`: 0..n, or -1 if prod cannot be right. */
static inline int64_t med_ring_pending(uint32_t prod, uint32_t cons, uint32_t n)
{
	uint32_t c = med_ring_count(prod, cons);

	return c > n ? -1 : (int64_t)c;
}

/* Whether a producer at `prod` may add to a ring of n whose consumer index
 * it read as `cons`. */
static inline int med_ring_has_room(uint32_t prod, uint32_t cons, uint32_t n)
{
	return med_ring_count(prod, cons) < n;
}

/* ---- the MVM's side (its own indices live in the area) ---- */

/* Reads the oldest request's tag (its slot is < n); with `consume`, takes
 * it too, a corrupt entry included (so one bad entry does not stop the
 * ring). The entry is read once, after the index that published it. */
static inline int med_req_read(struct med_area *a, uint32_t n, uint64_t *tag, int consume)
{
	uint32_t prod = MED_READ_ONCE(a->req_prod), cons = a->req_cons;
	int64_t pending = med_ring_pending(prod, cons, n);

	if (pending == 0)
		return MED_RING_EMPTY;
	if (pending < 0)
		return MED_RING_CORRUPT;
	MED_RMB();
	uint64_t t = MED_READ_ONCE(a->req_ring[cons % n]);
	if (consume)
		a->req_cons = cons + 1;
	if (MED_TAG_SLOT(t) >= n)
		return MED_RING_CORRUPT;
	*tag = t;
	return MED_RING_OK;
}

/* The oldest request's tag, left on the ring. */
static inline int med_req_peek(struct med_area *a, uint32_t n, uint64_t *tag)
{
	return med_req_read(a, n, tag, 0);
}

/* The oldest request's tag, taken off the ring. */
static inline int med_req_take(struct med_area *a, uint32_t n, uint64_t *tag)
{
	return med_req_read(a, n, tag, 1);
}

/* Whether request `next` continues a run of requests that starts with
 * `first` and holds run_bytes so far, so that the backend may do them as
 * one I/O of at most max_bytes: same disk, both reads or both writes,
 * next's first sector right after the run's end, a whole number of sectors
 * no larger than a slot. Computed in 64 bits. */
static inline int med_can_merge(const struct med_slot *first, uint64_t run_bytes,
				const struct med_slot *next, uint64_t max_bytes)
{
	if (next->disk != first->disk || next->type != first->type ||
	    (first->type != MED_REQ_READ && first->type != MED_REQ_WRITE))
		return 0;
	if (!next->len || next->len > MED_SLOT_DATA || next->len % MED_SECTOR ||
	    run_bytes % MED_SECTOR || run_bytes + next->len > max_bytes)
		return 0;
	return first->sector + run_bytes / MED_SECTOR == next->sector &&
	       next->sector >= first->sector; /* no wrap-around */
}

/* Returns a request's tag, status and the MVM side's stamps (t_irq,
 * t_pickup, t_done of *e; e NULL: none); the entry is visible before the
 * index that publishes it. */
static inline int med_cmp_give_timed(struct med_area *a, uint32_t n, uint64_t tag, int32_t status,
				     const struct med_cmp *e)
{
	uint32_t prod = a->cmp_prod, cons = MED_READ_ONCE(a->cmp_cons);
	struct med_cmp *c = &a->cmp_ring[prod % n];

	if (!med_ring_has_room(prod, cons, n))
		return MED_RING_FULL;
	c->tag = tag;
	c->status = status;
	c->t_irq = e ? e->t_irq : 0;
	c->t_pickup = e ? e->t_pickup : 0;
	c->t_done = e ? e->t_done : 0;
	MED_WMB();
	a->cmp_prod = prod + 1;
	return MED_RING_OK;
}

/* The same without stamps. */
static inline int med_cmp_give(struct med_area *a, uint32_t n, uint64_t tag, int32_t status)
{
	return med_cmp_give_timed(a, n, tag, status, NULL);
}

#endif
