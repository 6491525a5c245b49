/* Shared between the vGIC core and its register emulation. */
#ifndef VGIC_INTERNAL_H
#define VGIC_INTERNAL_H
#include "core/vgic.h"

#define VGIC_PRIO_MASK 0xf8 /* 5 priority bits, as the virtual CPU interface */

struct virq *vgic_virq(struct vm *vm, struct vcpu *vcpu, uint32_t intid);
bool vgic_is_hw_spi(const struct vm *vm, uint32_t intid);
struct vcpu *vgic_target(struct vm *vm, struct vcpu *vcpu, uint32_t intid);
bool vgic_set_pending_locked(struct vm *vm, struct vcpu *target, uint32_t intid, bool hw);
bool vgic_set_sgi_pending_locked(struct vm *vm, struct vcpu *target, uint32_t intid,
				 unsigned source);
void vgic_clear_pending_locked(struct vm *vm, struct vcpu *vcpu, uint32_t intid);
void vgic_clear_sgi_sources_locked(struct vcpu *vcpu, uint32_t intid, uint8_t senders);
bool vgic_lrs_here(const struct vcpu *vcpu);
struct vcpu *vgic_retarget_locked(struct vm *vm, uint32_t intid, unsigned to);
void vgic_set_active_locked(struct vm *vm, struct vcpu *vcpu, uint32_t intid, bool on);
void vgic_refresh_locked(struct vcpu *vcpu);
int vgic_mmio_register(struct vm *vm);
/* Register emulation entry points (also used by the unit tests). */
uint64_t vgic_dist_read(struct vm *vm, struct vcpu *vcpu, uint32_t off, unsigned width);
void vgic_dist_write(struct vm *vm, struct vcpu *vcpu, uint32_t off, unsigned width, uint64_t val);
uint64_t vgic_redist_read(struct vm *vm, struct vcpu *rd, uint32_t off, unsigned width);
void vgic_redist_write(struct vm *vm, struct vcpu *rd, uint32_t off, unsigned width, uint64_t val);
#endif
