/* The two slot rings of struct med_area (mediated.h): producer/consumer
 * helpers shared by the hypervisor, the MVM daemon and the unit tests.
 * Indices are free-running u32; a value read from the other side is checked
 * before use (a producer more than n ahead, or a slot >= n, is corruption). */
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

/* Appends `slot`; the entry is visible before the index that publishes it. */
static inline int med_ring_push(volatile uint32_t *ring, volatile uint32_t *prod, uint32_t cons,
				uint32_t n, uint32_t slot)
{
	uint32_t p = *prod;

	if (med_ring_count(p, cons) >= n)
		return MED_RING_FULL;
	ring[p % n] = slot;
	MED_WMB();
	*prod = p + 1;
	return MED_RING_OK;
}

/* Takes the oldest entry into *slot. */
static inline int med_ring_pop(volatile uint32_t *ring, uint32_t prod, volatile uint32_t *cons,
			       uint32_t n, uint32_t *slot)
{
	uint32_t c = *cons;

	if (prod == c)
		return MED_RING_EMPTY;
	if (med_ring_count(prod, c) > n)
		return MED_RING_CORRUPT;
	MED_RMB(); /* the entry after the index that published it */
	uint32_t s = ring[c % n];
	*cons = c + 1;
	if (s >= n)
		return MED_RING_CORRUPT;
	*slot = s;
	return MED_RING_OK;
}

#endif
