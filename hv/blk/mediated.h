/* The mediated block backend: GVM virtio-blk requests served by the MVM
 * through the shared area of include/syshyper/mediated.h. */
#ifndef MEDIATED_H
#define MEDIATED_H
#include "lib/types.h"
#include "blk/virtio_blk.h"

struct vcpu;
extern const struct blk_backend_ops mediated_blk_backend;
/* Makes `blk` the MVM's disk number `index`. */
int mediated_add_disk(struct virtio_blk *blk, unsigned index);
/* IPI_WORK on the MVM's CPU: move kicked requests into the area. */
void mediated_work(void);
/* Every CPU's hypervisor tick: resumes a pass that stopped on its budget. */
void mediated_tick(void);
void mediated_print_stats(void);
/* Slots holding a request (at the MVM or waiting for it). */
unsigned mediated_slots_in_flight(void);
/* HC_MED_* hypercalls from the MVM. */
int64_t mediated_hypercall(struct vcpu *vcpu, uint64_t fid, uint64_t a1, uint64_t a2);
#ifdef HOST_UNIT_TEST
void mediated_test_reset(void); /* forgets disks, area and slots */
/* Called where a copy runs with med.lock dropped: before each part of a
 * write is filled (filling, its part), and before a finished request is
 * copied into its guest (!filling, 0); NULL: none. */
extern void (*mediated_test_unlocked)(bool filling, unsigned part);
#endif
#endif
