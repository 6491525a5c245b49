/* Dispatch of the sysHyper hypercalls (ABI: include/syshyper/hypercall.h). */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H
#include "lib/types.h"
struct vcpu;
/* false if x0 (its low 32 bits, SMCCC's w0) is not a sysHyper hypercall */
bool hypercall_handle(struct vcpu *vcpu, uint64_t x0);
#endif
