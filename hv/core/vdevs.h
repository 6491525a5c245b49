/* The emulated virtio devices of each VM, made from its configuration. */
#ifndef VDEVS_H
#define VDEVS_H

struct vm;
/* Creates the VM's virtio devices and maps their windows; 0 or -1. */
int vm_create_virtio(struct vm *vm);
/* A stopped VM's devices back to their reset state (lifecycle). */
void vm_reset_devices(struct vm *vm);
/* Per-device request counters (Ctrl-] s). */
void vdevs_print_stats(void);

#endif
