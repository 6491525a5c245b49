/* Core entry points shared across hv/core. */
#ifndef HV_H
#define HV_H
#include "lib/types.h"
struct vcpu;
struct vm;
void __attribute__((noreturn)) pcpu_idle(void);
void __attribute__((noreturn)) vcpu_start(struct vcpu *vcpu);
/* Returns to the guest: syncs the vGIC and accounts time first. */
void __attribute__((noreturn)) vcpu_resume(struct vcpu *vcpu);
/* Stops the vCPU running on this CPU (it misbehaved or switched off). */
void __attribute__((noreturn)) vcpu_halt(struct vcpu *vcpu);
bool vpsci_handle(struct vcpu *vcpu, uint64_t fid);
void vm_power_off(struct vm *vm);
int vms_create_all(void);
void vms_start_all(void);
void stats_print_all(void);
void vm_list_print(void);
#endif
