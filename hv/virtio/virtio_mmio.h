/* virtio-mmio transport, version 2 (virtio 1.1 §4.2.2), emulated in EL2.
 * A device model supplies its ID, features, config space and queue
 * handling through virtio_dev_ops. */
#ifndef VIRTIO_MMIO_H
#define VIRTIO_MMIO_H
#include "arch/arm64/spinlock.h"
#include "lib/types.h"
#include "virtio/virtq.h"
#include "core/vm_config.h"
#include "core/mmio.h"

#define VIRTIO_MAX_QUEUES 4
/* Copies a device may have under way without its lock: one per CPU. */
#define VIRTIO_MAX_COPIES 8
#define VIRTIO_F_VERSION_1 (1ULL << 32)
#define VIRTIO_F_RING_INDIRECT_DESC (1ULL << 28)
#define VIRTIO_F_RING_EVENT_IDX (1ULL << 29)
#define VIRTIO_F_RING_RESET (1ULL << 40)

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_INT_USED 1
#define VIRTIO_INT_CONFIG 2

struct vm;
struct virtio_dev;

struct virtio_dev_ops {
	uint32_t device_id;
	uint64_t features; /* device-specific + transport features offered */
	unsigned nqueues;
	uint32_t config_size;
	/* config space bytes [off, off+len): len 1, 2, 4 (8 as two 4s) */
	uint32_t (*config_read)(struct virtio_dev *dev, uint32_t off, unsigned len);
	void (*config_write)(struct virtio_dev *dev, uint32_t off, unsigned len, uint32_t val);
	/* the driver notified queue `q` (called on the notifying vCPU's CPU) */
	void (*notify)(struct virtio_dev *dev, unsigned q);
	/* the driver reset the device: drop in-flight state */
	void (*reset)(struct virtio_dev *dev);
};

struct virtio_dev {
	struct vm *vm;
	ipa_t base;
	uint32_t irq;
	const struct virtio_dev_ops *ops;
	uint64_t features; /* offered: ops->features plus per-device bits */
	void *priv;
	spinlock_t lock;
	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint64_t driver_features;
	uint32_t isr;
	uint32_t config_generation;
	/* Event counts that make up a queue's epoch: 64 bits, so a guest that
	 * resets in a loop never brings an epoch back to a value still held
	 * by a request in flight. */
	uint64_t reset_count;                      /* completions from before a reset are dropped */
	uint64_t queue_resets[VIRTIO_MAX_QUEUES];  /* QueueReset, per queue */
	uint64_t queue_enables[VIRTIO_MAX_QUEUES]; /* QueueReady 1 that took */
	struct virtq vq[VIRTIO_MAX_QUEUES];
	const struct guest_mem *mem;     /* the VM's */
	uint64_t notifies, irqs, errors; /* counters */
	/* Guest-buffer copies under way without the lock (virtio_copy_begin):
	 * copy_at[i] is the number of one (written under the lock, read by a
	 * takeback without it), 0 if free; at most one per CPU at a time. */
	uint64_t copy_seq; /* copies counted in so far */
	uint64_t copy_at[VIRTIO_MAX_COPIES];
	uint32_t takebacks; /* resets, QueueReset, QueueReady writes: see virtio_copy_begin */
	/* The window's VIRTIO_MMIO_WINDOW bytes in the VM's read page (mapped
	 * read-only at `base`, so the guest's reads do not trap), or NULL:
	 * what a read of each register and of config space returns, kept
	 * current under the lock (see virtio_mmio_attach_read_window). */
	volatile uint32_t *read_window;
};

/* Registers the device's MMIO window (0x200 bytes at `base`) in `vm`. */
int virtio_mmio_create(struct virtio_dev *dev, struct vm *vm, ipa_t base, uint32_t irq,
		       const struct virtio_dev_ops *ops, void *priv);
/* The device behind an MMIO region if the region is a virtio-mmio window,
 * NULL otherwise. */
struct virtio_dev *virtio_mmio_region_dev(const struct mmio_region *r);
/* Whether the 4 KiB page at `page` may be a read page: it holds at least one
 * virtio-mmio window, each wholly, and no other of the VM's MMIO regions
 * (`regions`, n of them) reaches into it. */
bool virtio_mmio_page_only_windows(const struct mmio_region *regions, unsigned n, ipa_t page);
/* From now on the guest reads dev's registers from `window` (its place in a
 * read page, zeroed), without trapping; writes still trap. Every change of
 * what a read returns is written there under dev->lock, word by word (a
 * reader on another vCPU sees each word old or new, never torn), cleaned
 * to the point of coherency (the guest reads through a Device mapping,
 * past the caches) before the access that made it returns or the
 * interrupt that announces it is injected. */
void virtio_mmio_attach_read_window(struct virtio_dev *dev, void *window);
/* The VM stopped: the device as after a driver's reset (status 0), under
 * its lock, so no queue work writes into the VM's memory after it. */
void virtio_mmio_reset(struct virtio_dev *dev);
/* The functions below take dev->lock themselves (call them without it),
 * except the _locked ones; interrupt bookkeeping always runs under it. */
/* Raises the used-buffer interrupt if the driver wants one for queue q (a
 * queue that is not ready, e.g. reset meanwhile, gets none). */
void virtio_notify_used(struct virtio_dev *dev, unsigned q);
/* Takes the next chain of queue q under the device lock: VQ_OK, VQ_EMPTY
 * (also for a queue that is not ready), or an error, after which the device
 * has been put in DEVICE_NEEDS_RESET. The chain remembers the queue's
 * epoch (virtio_queue_epoch_locked). */
int virtio_queue_pop(struct virtio_dev *dev, unsigned q, struct virtq_chain *chain);
/* Whether queue q is ready and its driver published chains the device has
 * not taken: a notify without any (a driver may write QueueNotify at will)
 * asks for no work. */
bool virtio_queue_has_new(struct virtio_dev *dev, unsigned q);
/* Copies between a chain's buffers and the device's data, done without
 * dev->lock (a long one would hold the guest's own register accesses, the
 * vCPU spinning, for its whole length). virtio_copy_begin() counts one in
 * if queue q is ready and still at `epoch`, and says whether it did; the
 * copier then copies and calls virtio_copy_end_locked() with what
 * virtio_copy_begin() returned (0: not counted, do not copy) and dev->lock
 * held, where it checks the chain again before completing it. A reset, a
 * QueueReset or a QueueReady write (the driver taking its buffers back)
 * returns to the guest only once every copy counted in before it has
 * ended, so none writes into buffers the driver owns again; copies counted
 * in after it (a queue enabled again meanwhile) are not waited for, so the
 * wait is bounded by one request's data per CPU whatever the guest does. */
unsigned virtio_copy_begin(struct virtio_dev *dev, unsigned q, uint64_t epoch);
void virtio_copy_end_locked(struct virtio_dev *dev, unsigned copy);
/* Queue q's epoch (dev->lock held): it changes with every device reset,
 * QueueReset and enable, so a request taken before one of those is never
 * completed into the queue or buffers the driver has now. */
uint64_t virtio_queue_epoch_locked(const struct virtio_dev *dev, unsigned q);
/* Returns a chain to queue q, unless the queue was reset since the chain was
 * taken (or is not ready): then it is not the driver's any more. */
void virtio_queue_push(struct virtio_dev *dev, unsigned q, const struct virtq_chain *chain,
		       uint32_t written);
/* Every loop over a queue is bounded per notify (a guest may keep adding
 * buffers while we work): at most this many chains, then
 * virtio_queue_budget_spent() so the driver notifies again for the rest. */
#define VIRTIO_CHAINS_PER_NOTIFY VIRTQ_MAX_SIZE
void virtio_queue_budget_spent(struct virtio_dev *dev, unsigned q);
/* A guest error: logs it (rate-limited), sets DEVICE_NEEDS_RESET, stops the
 * queues and interrupts. */
void virtio_device_error(struct virtio_dev *dev, const char *what);
/* The same with dev->lock already held (e.g. right after a virtq_pop that
 * failed, so the error is the queue's that failed, not a reset one's). */
void virtio_device_error_locked(struct virtio_dev *dev, const char *what);
#endif
