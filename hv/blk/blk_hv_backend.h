/* virtio-blk backend served by the hypervisor's own virtio-blk driver. */
#ifndef BLK_HV_BACKEND_H
#define BLK_HV_BACKEND_H
#include "blk/virtio_blk.h"
extern const struct blk_backend_ops blk_hv_backend;
/* Brings up the real device at `device`; -1 if absent or unusable. */
int blk_hv_backend_init(paddr_t device);
uint64_t blk_hv_backend_sectors(void);
/* A request the device answered after its timeout goes off its VM's count
 * (life.l.io); never waits for a request in progress. */
void blk_hv_backend_reap(void);
#endif
