/* An emulated MMIO access decoded from a stage-2 data abort, and the bus
 * that routes it to the device model owning the address. */
#ifndef MMIO_H
#define MMIO_H
#include "lib/types.h"

struct vcpu;

struct mmio_access {
	ipa_t addr;     /* faulting IPA */
	unsigned width; /* bytes: 1, 2, 4 or 8 */
	bool write;
	bool sign_extend; /* loads only: sign-extend into the register */
	bool reg64;       /* destination/source is an X register (SF) */
	unsigned reg;     /* register number, 31 = xzr */
	uint64_t value;   /* value written, or value to return on a read */
};

/* Decodes ESR_EL2.ISS of a data abort with a valid syndrome (ISV=1).
 * Returns false when the syndrome does not describe a single register
 * load/store (ISV=0: the guest used a pair, post-index or similar). */
bool mmio_decode(uint64_t esr, uint64_t far_ipa, struct mmio_access *acc);

/* Value a load of `width` bytes leaves in the destination register. */
uint64_t mmio_load_result(const struct mmio_access *acc, uint64_t raw);

typedef bool (*mmio_handler_fn)(struct vcpu *vcpu, struct mmio_access *acc, void *dev);

struct mmio_region {
	ipa_t base;
	uint64_t size;
	mmio_handler_fn handler; /* returns false for an access it refuses */
	void *dev;
};
#endif
