/* Split virtqueues (virtio 1.1 §2.6) as the device side sees them, with
 * every guest-written value validated: ring addresses and sizes, avail
 * index, descriptor indices, chain length and loops, indirect tables,
 * buffer addresses and lengths inside the VM's memory. */
#ifndef VIRTQ_H
#define VIRTQ_H
#include "lib/types.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_MAX_SIZE 256 /* queue size we offer (QueueNumMax) */
#define VIRTQ_MAX_SEGS 64  /* buffers in one chain, direct + indirect */
/* buffers in a long chain (virtq_pop_long): a virtio-blk request of 1 MiB
 * in 4 KiB pages, its header and its status byte */
#define VIRTQ_LONG_SEGS 258

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

/* Guest memory as [ipa, ipa+size) -> host pointer base. */
struct guest_region {
	ipa_t ipa;
	uint64_t size;
	uint8_t *hva;
};
struct guest_mem {
	const struct guest_region *regions;
	unsigned n;
};

/* Host pointer for guest [ipa, ipa+len) if wholly inside one region. */
void *guest_ptr(const struct guest_mem *mem, ipa_t ipa, uint64_t len);

struct virtq {
	uint16_t num; /* size the driver chose (power of 2, <= VIRTQ_MAX_SIZE) */
	bool ready;
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;  /* VIRTIO_F_INDIRECT_DESC negotiated */
	ipa_t desc_ipa, avail_ipa, used_ipa;
	/* resolved when the queue is enabled */
	struct virtq_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[num], used_event */
	volatile uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[num], avail_event */
	uint16_t last_avail;      /* next avail entry the device will take */
	uint16_t used_idx;        /* device's copy of used->idx */
	uint16_t signalled_used;  /* used_idx when the driver was last interrupted */
};

/* One buffer of a chain, already translated. */
struct virtq_buf {
	uint8_t *hva;
	uint32_t len;
	bool device_writable;
};

#define VIRTQ_CHAIN_FIELDS(nsegs)                                                     \
	uint16_t head;                                                                \
	uint64_t epoch; /* the queue's resets when it was taken (virtio_queue_pop) */ \
	unsigned nbufs;                                                               \
	unsigned nreadable; /* the first nreadable bufs are driver->device */         \
	uint64_t readable_len, writable_len;                                          \
	struct virtq_buf bufs[nsegs]

struct virtq_chain {
	VIRTQ_CHAIN_FIELDS(VIRTQ_MAX_SEGS);
};
/* The same fields with room for VIRTQ_LONG_SEGS buffers (4 KiB: kept in
 * static state, not on a 16 KiB EL2 stack where it can be avoided). */
struct virtq_long_chain {
	VIRTQ_CHAIN_FIELDS(VIRTQ_LONG_SEGS);
};

enum virtq_err {
	VQ_OK = 0,
	VQ_EMPTY = 1,
	VQ_ERR_RING = -1,     /* ring memory outside the VM / bad size */
	VQ_ERR_AVAIL = -2,    /* avail idx moved by more than the queue size */
	VQ_ERR_INDEX = -3,    /* descriptor index >= queue size */
	VQ_ERR_LOOP = -4,     /* chain longer than its table: a loop */
	VQ_ERR_ADDR = -5,     /* buffer outside the VM's memory or overflowing */
	VQ_ERR_LEN = -6,      /* zero-length buffer */
	VQ_ERR_INDIRECT = -7, /* bad indirect table / nested / not negotiated */
	VQ_ERR_ORDER = -8,    /* device-readable after device-writable */
	VQ_ERR_SEGS = -9,     /* more buffers than the chain holds */
};

/* Translates and checks the three ring areas; VQ_OK or VQ_ERR_RING. */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem);
/* Whether the driver published chains the device has not taken (the
 * driver's avail index, read once, against the device's own count). */
static inline bool virtq_has_avail(const struct virtq *vq)
{
	return vq->avail[1] != vq->last_avail;
}
/* Takes the next available chain: VQ_OK, VQ_EMPTY, or an error (the queue
 * is then unusable: the device should enter DEVICE_NEEDS_RESET). */
int virtq_pop(struct virtq *vq, const struct guest_mem *mem, struct virtq_chain *chain);
/* The same for a chain of up to VIRTQ_LONG_SEGS buffers. */
int virtq_pop_long(struct virtq *vq, const struct guest_mem *mem, struct virtq_long_chain *chain);
/* Gives back the last n chains taken, none of them pushed since (a frame
 * that did not fit in them): the driver still owns them. */
void virtq_unpop(struct virtq *vq, uint16_t n);
/* Returns a chain to the driver with `written` bytes written into it. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t written);
/* Whether the driver wants an interrupt for what was pushed since the last
 * call (VIRTQ_AVAIL_F_NO_INTERRUPT or used_event); resets the marker. */
bool virtq_needs_interrupt(struct virtq *vq);
/* The device stops taking chains before the ring is empty (a budget per
 * notify): with EVENT_IDX, asks the driver to notify again on its next
 * buffer (avail_event = its current avail idx), so what is left is not
 * stranded behind an avail_event the driver has already passed. */
void virtq_kick_on_next(struct virtq *vq);
/* Tells the driver whether to notify (used->flags / avail_event; with
 * event idx "off" holds until the next virtq_pop). */
void virtq_set_notify(struct virtq *vq, bool enable);
const char *virtq_strerror(int err);
/* Copies `len` bytes from byte `skip` of the chain's driver-written part
 * (stops early if the chain is shorter). */
void virtq_chain_read(const struct virtq_chain *c, uint32_t skip, uint8_t *dst, uint32_t len);
#endif
