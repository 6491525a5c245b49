/* Split virtqueue, device side (see virtq.h). Everything read from the
 * rings is read once into a local and validated before use: the guest may
 * change the rings concurrently. */
#include "virtio/virtq.h"

#include "lib/lib.h"

#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1
#define DESC_SIZE 16

#define barrier() __asm__ volatile("" ::: "memory")
#ifdef __aarch64__
#define rmb() __asm__ volatile("dmb ishld" ::: "memory")
#define wmb() __asm__ volatile("dmb ishst" ::: "memory")
#define mb() __asm__ volatile("dmb ish" ::: "memory")
#else
#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

void *guest_ptr(const struct guest_mem *mem, ipa_t ipa, uint64_t len)
{
	for (unsigned i = 0; i < mem->n; i++) {
		const struct guest_region *r = &mem->regions[i];
		if (ipa >= r->ipa && len <= r->size && ipa - r->ipa <= r->size - len)
			return r->hva + (ipa - r->ipa);
	}
	return NULL;
}

int virtq_enable(struct virtq *vq, const struct guest_mem *mem)
{
	uint64_t n = vq->num;

	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return VQ_ERR_RING;
	/* alignment from the spec: desc 16, avail 2, used 4 */
	if ((vq->desc_ipa & 15) || (vq->avail_ipa & 1) || (vq->used_ipa & 3))
		return VQ_ERR_RING;
	vq->desc = guest_ptr(mem, vq->desc_ipa, n * DESC_SIZE);
	vq->avail = guest_ptr(mem, vq->avail_ipa, 6 + 2 * n);
	vq->used = guest_ptr(mem, vq->used_ipa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used)
		return VQ_ERR_RING;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->ready = true;
	return VQ_OK;
}

/* The chain being filled: its buffers and how many fit. */
struct chain_fill {
	struct virtq_buf *bufs;
	unsigned cap, nbufs, nreadable;
	uint64_t readable_len, writable_len;
};

static int add_buf(struct chain_fill *c, const struct guest_mem *mem, uint64_t addr, uint32_t len,
		   bool writable)
{
	if (c->nbufs >= c->cap)
		return VQ_ERR_SEGS;
	if (len == 0)
		return VQ_ERR_LEN;
	if (addr + len < addr)
		return VQ_ERR_ADDR;
	uint8_t *hva = guest_ptr(mem, addr, len);
	if (!hva)
		return VQ_ERR_ADDR;
	if (!writable && c->nbufs > c->nreadable)
		return VQ_ERR_ORDER;
	c->bufs[c->nbufs++] = (struct virtq_buf){hva, len, writable};
	if (writable) {
		c->writable_len += len;
	} else {
		c->nreadable++;
		c->readable_len += len;
	}
	return VQ_OK;
}

/* Walks the chain starting at `idx` in `table` of `size` entries. */
static int walk(struct chain_fill *c, const struct guest_mem *mem, const struct virtq_desc *table,
		uint32_t size, uint16_t idx, bool in_indirect, bool indirect_ok)
{
	for (uint32_t steps = 0;; steps++) {
		if (idx >= size)
			return VQ_ERR_INDEX;
		if (steps >= size)
			return VQ_ERR_LOOP;
		struct virtq_desc d = table[idx];
		barrier();
		int err;
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (in_indirect || !indirect_ok || (d.flags & VIRTQ_DESC_F_NEXT))
				return VQ_ERR_INDIRECT;
			if (d.len == 0 || d.len % DESC_SIZE || d.len / DESC_SIZE > c->cap)
				return VQ_ERR_INDIRECT;
			const struct virtq_desc *ind = guest_ptr(mem, d.addr, d.len);
			if (!ind || (d.addr & 15))
				return VQ_ERR_INDIRECT;
			return walk(c, mem, ind, d.len / DESC_SIZE, 0, true, false);
		}
		err = add_buf(c, mem, d.addr, d.len, d.flags & VIRTQ_DESC_F_WRITE);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return VQ_OK;
		idx = d.next;
	}
}

/* Takes the next chain into c (bufs and cap set); *head its head. */
static int pop(struct virtq *vq, const struct guest_mem *mem, struct chain_fill *c, uint16_t *head)
{
	uint16_t avail_idx = vq->avail[1];

	if (avail_idx == vq->last_avail)
		return VQ_EMPTY;
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->num)
		return VQ_ERR_AVAIL;
	rmb(); /* ring entries after the index that published them */
	*head = vq->avail[2 + (vq->last_avail % vq->num)];
	int err = walk(c, mem, vq->desc, vq->num, *head, false, vq->indirect);
	if (err)
		return err;
	vq->last_avail++;
	if (vq->event_idx) /* avail_event: ask for a kick only beyond what we took */
		vq->used[2 + 4 * vq->num] = vq->last_avail;
	return VQ_OK;
}

/* Both chain types have the same fields (VIRTQ_CHAIN_FIELDS). */
#define POP_INTO(vq, mem, chain, nsegs)                                         \
	({                                                                      \
		struct chain_fill f_ = {.bufs = (chain)->bufs, .cap = (nsegs)}; \
		uint16_t head_ = 0;                                             \
		int r_ = pop(vq, mem, &f_, &head_);                             \
		(chain)->head = head_;                                          \
		(chain)->nbufs = f_.nbufs;                                      \
		(chain)->nreadable = f_.nreadable;                              \
		(chain)->readable_len = f_.readable_len;                        \
		(chain)->writable_len = f_.writable_len;                        \
		r_;                                                             \
	})

int virtq_pop(struct virtq *vq, const struct guest_mem *mem, struct virtq_chain *chain)
{
	/* only the address of chain->bufs is taken before it is filled */
	// cppcheck-suppress ctuuninitvar
	return POP_INTO(vq, mem, chain, VIRTQ_MAX_SEGS);
}

int virtq_pop_long(struct virtq *vq, const struct guest_mem *mem, struct virtq_long_chain *chain)
{
	/* only the address of chain->bufs is taken before it is filled */
	// cppcheck-suppress ctuuninitvar
	return POP_INTO(vq, mem, chain, VIRTQ_LONG_SEGS);
}

void virtq_unpop(struct virtq *vq, uint16_t n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
	if (vq->event_idx)
		vq->used[2 + 4 * vq->num] = vq->last_avail;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	volatile uint32_t *ring = (volatile uint32_t *)&vq->used[2];
	unsigned slot = vq->used_idx % vq->num;

	ring[2 * slot] = head;
	ring[2 * slot + 1] = written;
	wmb(); /* the entry before the index that publishes it */
	vq->used_idx++;
	vq->used[1] = vq->used_idx;
}

bool virtq_needs_interrupt(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx;

	mb(); /* our used idx store before reading the driver's suppression */
	vq->signalled_used = now;
	if (old == now)
		return false;
	if (!vq->event_idx)
		return !(vq->avail[0] & AVAIL_F_NO_INTERRUPT);
	uint16_t used_event = vq->avail[2 + vq->num];
	/* vring_need_event(): used_event in [old, now) */
	return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
}

void virtq_kick_on_next(struct virtq *vq)
{
	if (vq->event_idx)
		vq->used[2 + 4 * vq->num] = vq->avail[1];
	mb();
}

void virtq_set_notify(struct virtq *vq, bool enable)
{
	if (vq->event_idx) /* off: an avail_event the driver has passed already */
		vq->used[2 + 4 * vq->num] =
			enable ? vq->last_avail : (uint16_t)(vq->last_avail - 1);
	else
		vq->used[0] = enable ? 0 : USED_F_NO_NOTIFY;
	mb();
}

void virtq_chain_read(const struct virtq_chain *c, uint32_t skip, uint8_t *dst, uint32_t len)
{
	for (unsigned i = 0; i < c->nreadable && len; i++) {
		uint32_t blen = c->bufs[i].len;
		if (skip >= blen) {
			skip -= blen;
			continue;
		}
		uint32_t n = blen - skip < len ? blen - skip : len;
		memcpy(dst, c->bufs[i].hva + skip, n);
		dst += n;
		len -= n;
		skip = 0;
	}
}

const char *virtq_strerror(int err)
{
	switch (err) {
	case VQ_ERR_RING:
		return "ring outside the VM's memory or bad size";
	case VQ_ERR_AVAIL:
		return "avail index moved by more than the queue size";
	case VQ_ERR_INDEX:
		return "descriptor index out of range";
	case VQ_ERR_LOOP:
		return "descriptor chain loops";
	case VQ_ERR_ADDR:
		return "buffer outside the VM's memory";
	case VQ_ERR_LEN:
		return "zero-length buffer";
	case VQ_ERR_INDIRECT:
		return "bad or nested indirect table";
	case VQ_ERR_ORDER:
		return "device-readable buffer after a device-writable one";
	case VQ_ERR_SEGS:
		return "too many buffers in one chain";
	default:
		return "ok";
	}
}
