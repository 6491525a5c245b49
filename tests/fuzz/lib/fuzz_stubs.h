/* Shared pieces of the libFuzzer harnesses: host stubs of what the EL2 code
 * calls (printk, vm_log, vgic_inject, vm_register_mmio, ...; all weak, so a
 * harness that links the real one gets the real one), a guest-memory model
 * with guard pages, a reader of the fuzzer's bytes, an oracle of what a
 * device may write into guest memory, and the corpus directories (seeds and
 * saved regressions) every harness runs first. */
#ifndef FUZZ_STUBS_H
#define FUZZ_STUBS_H
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "virtio/virtq.h"

struct vm;
struct vcpu;

/* For a harness's own checking loops: no coverage feedback (noise, and slow). */
#define FUZZ_NOCOV __attribute__((no_sanitize("coverage")))

/* A property does not hold: print why and abort (libFuzzer saves the input). */
#define FUZZ_ASSERT(cond, ...)                                             \
	do {                                                               \
		if (!(cond))                                               \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

/* ---- guest memory: two regions adjacent in IPA but not on the host, each
 * between PROT_NONE guard pages, so a stray access faults at once ---- */
#define FUZZ_GUEST_IPA 0x40000000UL
#define FUZZ_GUEST_R0 0x4000UL /* region 0: [IPA, IPA + R0) */
#define FUZZ_GUEST_R1 0x2000UL /* region 1: right after region 0 */
#define FUZZ_GUEST_SIZE (FUZZ_GUEST_R0 + FUZZ_GUEST_R1)

struct fuzz_guest {
	struct guest_region regions[2];
	struct guest_mem mem;
	uint8_t snap[FUZZ_GUEST_SIZE]; /* contents before an operation */
};
/* Maps the regions once (guard pages around each); zeroes them. */
void fuzz_guest_init(struct fuzz_guest *g);
void fuzz_guest_clear(struct fuzz_guest *g);
/* Host pointer of byte `off` of the guest's RAM (0 <= off < FUZZ_GUEST_SIZE). */
uint8_t *fuzz_guest_byte(struct fuzz_guest *g, uint64_t off);
/* The guest writes `len` bytes at guest offset `off` (clipped to its RAM). */
void fuzz_guest_write(struct fuzz_guest *g, uint64_t off, const void *src, size_t len);
void fuzz_guest_snapshot(struct fuzz_guest *g);
/* Whether [ipa, ipa+len) lies inside the guest's RAM (one region). */
bool fuzz_guest_contains(const struct fuzz_guest *g, ipa_t ipa, uint64_t len);
/* Whether host [p, p+len) lies inside one region of the guest's RAM. */
bool fuzz_guest_owns(const struct fuzz_guest *g, const void *p, uint64_t len);

/* ---- what a device may have written: after an operation, every byte of
 * guest RAM that differs from the snapshot must be in a used ring of one of
 * the given queues or in a buffer some descriptor (direct or in an indirect
 * table, as the snapshot had them) marks device-writable ---- */
struct fuzz_queue_view {
	uint16_t num;
	ipa_t desc_ipa, used_ipa;
};
void fuzz_check_writes(struct fuzz_guest *g, const struct fuzz_queue_view *qs, unsigned nq,
		       const char *what);

/* ---- an independent walk of a descriptor chain in a flat image of the
 * guest's RAM (the snapshot, or fuzz_guest_flat's copy): the buffers as
 * offsets into it, device-readable ones first; -1 for a chain the device
 * must refuse (loop, index, bounds, order, indirect rules) ---- */
struct fuzz_seg {
	uint64_t off; /* from FUZZ_GUEST_IPA */
	uint32_t len;
	bool writable;
};
int fuzz_walk_chain(const uint8_t *mem, ipa_t desc_ipa, unsigned num, uint16_t head,
		    bool indirect_ok, struct fuzz_seg *segs, unsigned max);
/* Concatenates the chain's readable (or writable) bytes, at most cap. */
size_t fuzz_gather(const uint8_t *mem, const struct fuzz_seg *segs, int n, bool writable,
		   uint8_t *dst, size_t cap);
void fuzz_guest_flat(struct fuzz_guest *g, uint8_t *dst);

/* ---- injected interrupts, as vgic_inject saw them ---- */
struct fuzz_irq {
	struct vm *vm;
	struct vcpu *vcpu;
	uint32_t intid;
};
extern struct fuzz_irq fuzz_irqs[64];
extern unsigned fuzz_nirqs; /* total since the last reset; the log keeps the first 64 */
void fuzz_irqs_reset(void);

/* ---- corpus: call from LLVMFuzzerInitialize. When the fuzzer runs on
 * corpus directories, tests/fuzz/regressions/NAME (saved reproducers) and
 * the given seed directories (relative to the repository) are appended, so
 * libFuzzer runs every one of them before fuzzing ---- */
void fuzz_add_corpus(int *argc, char ***argv, const char *name, const char *const *seed_dirs);
#endif
