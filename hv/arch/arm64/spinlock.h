/* Ticket-free test-and-set spinlock on exclusive monitors (EL2 runs with its
 * data cacheable, so exclusives work on real hardware too). */
#ifndef SPINLOCK_H
#define SPINLOCK_H
#include "lib/types.h"

typedef struct {
	volatile uint32_t locked;
} spinlock_t;

#define SPINLOCK_INIT \
	{             \
		0     \
	}

static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (READ_ONCE(l->locked))
			;
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}
#endif
