/* libFuzzer harness of virtio-net and the switch: three VMs (the MVM's
 * uplink port and two GVMs), each with its own guard-paged RAM and a
 * virtio-net device behind the real virtio-mmio register file. The fuzzer
 * drives each guest as a driver that may misbehave at any point: register
 * accesses of any offset and value, a proper set-up with chosen features and
 * queue sizes, chains of any shape (direct or indirect, hostile addresses,
 * lengths and flags) posted on TX, RX and the control queue, raw ring and
 * memory writes, notifies. The switch's forwarding is also fuzzed alone.
 *
 * Checked after every step, for every VM:
 *  - the device wrote only its used rings and device-writable buffers;
 *  - every frame received is a fresh header plus a frame some other VM sent
 *    in that step, fits the receiver's buffers, and was for the receiver
 *    (its MAC, multicast, or unknown unicast to the uplink);
 *  - TX chains come back with 0 bytes written, control chains with 1 (an ack
 *    of OK or ERR in the last writable byte);
 *  - interrupts only for the VM's own device interrupt; no lock left held;
 *  - config space shows the port's MAC, whatever the guest did;
 *  - forwarding: never back to the sender, only to existing ports, broadcast
 *    to all others, unicast to its owner, unknown unicast to the uplink;
 *  - storm control, with a limit per port chosen per input (and changed by
 *    steps, out of bounds too) and a counter the input moves (by ticks,
 *    seconds, any 64-bit amount, backwards): limits refused exactly when out
 *    of bounds, a refused one changes nothing; only the sender's bucket is
 *    asked, once per frame it floods (broadcast/multicast, as read back from
 *    its memory), and every such frame is either delivered to both other
 *    ports or counted in drop_storm, which grows for nothing else; with rate
 *    0 nothing is dropped; a fresh or refilled bucket lets min(frames, burst)
 *    through, one drained leaves at least floor(ticks * rate / hz) and at most
 *    floor((hz - 1 + ticks * rate) / hz) (none for a counter gone back); and
 *    since the limit was set at most burst + floor(rate * ticks / hz) frames
 *    went (credit starts at burst * hz, a tick adds rate, a frame costs hz,
 *    so passed * hz <= burst * hz + rate * ticks: no + 1). The bucket runs
 *    alone in the switch mode too, at any counter value. */
#include <stdio.h>
#include <string.h>

#include "lib/fuzz_stubs.h"
#include "net/virtio_net.h"
#include "core/vm.h"

typedef unsigned __int128 u128;

#define NVMS 3
#define SLOT_BASE 0x0a000000UL
#define IRQ0 48
#define Q_RX 0
#define Q_TX 1
#define Q_CTRL 2
#define NQ 3
#define HDR_LEN 12
#define MAX_FRAME (1500 + 14 + 4)
/* Guest RAM layout of the well-behaved part of the driver: queue q's
 * descriptors at q * QAREA, avail ring at + 0x400, used ring at + 0x500;
 * buffers after BUF_START. */
#define QAREA 0x800
#define QMAX 64
#define BUF_START (NQ * QAREA)

/* virtio-mmio registers */
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INTERRUPT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC_LOW 0x080
#define R_QUEUE_DRIVER_LOW 0x090
#define R_QUEUE_DEVICE_LOW 0x0a0
#define R_CONFIG 0x100

static const uint8_t macs[NVMS][6] = {
	{0x52, 0x54, 0x00, 0x5e, 0x00, 0x01},
	{0x52, 0x54, 0x00, 0x5e, 0x00, 0x11},
	{0x52, 0x54, 0x00, 0x5e, 0x00, 0x12},
};

struct driver { /* what the well-behaved part of a guest's driver knows */
	uint16_t num[NQ];
	uint16_t avail_idx[NQ];
	uint16_t next_desc[NQ];
	bool indirect;
};

static struct fuzz_guest guests[NVMS];
static struct virtio_net nets[NVMS];
static struct driver drv[NVMS];
static bool trace;
#define TRACE(...)                                    \
	do {                                          \
		if (trace)                            \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

/* ---------------------------------------------------------------- guest side */

static uint32_t mmio(unsigned v, uint64_t off, unsigned width, bool write, uint64_t val, bool *ok)
{
	struct vm *vm = &vms[v];
	struct mmio_access acc = {.addr = SLOT_BASE + off, .width = width, .write = write};
	bool dummy;

	if (width < 8)
		val &= (1ULL << (8 * width)) - 1; /* as the trap path passes a store */
	acc.value = write ? val : 0;
	*(ok ? ok : &dummy) = vm->mmio[0].handler(&vm->vcpus[0], &acc, vm->mmio[0].dev);
	return (uint32_t)acc.value;
}

static void wr(unsigned v, uint64_t off, uint32_t val)
{
	mmio(v, off, 4, true, val, NULL);
}

static uint32_t rd(unsigned v, uint64_t off)
{
	return mmio(v, off, 4, false, 0, NULL);
}

static void put16(unsigned v, uint64_t off, uint16_t x)
{
	fuzz_guest_write(&guests[v], off, &x, 2);
}

static ipa_t qarea(unsigned q)
{
	return FUZZ_GUEST_IPA + q * QAREA;
}

/* Reset, features, three queues, DRIVER_OK: the normal bring-up. */
static void driver_init(unsigned v, struct fuzz_in *in)
{
	struct driver *d = &drv[v];
	uint32_t choice = fin_u32(in);
	uint64_t offered;

	wr(v, R_STATUS, 0);
	wr(v, R_STATUS, 1);
	wr(v, R_STATUS, 3);
	wr(v, R_DEVICE_FEATURES_SEL, 0);
	offered = rd(v, R_DEVICE_FEATURES);
	wr(v, R_DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)rd(v, R_DEVICE_FEATURES) << 32;
	uint64_t want = (offered & choice) | VIRTIO_F_VERSION_1;
	wr(v, R_DRIVER_FEATURES_SEL, 0);
	wr(v, R_DRIVER_FEATURES, (uint32_t)want);
	wr(v, R_DRIVER_FEATURES_SEL, 1);
	wr(v, R_DRIVER_FEATURES, (uint32_t)(want >> 32));
	wr(v, R_STATUS, 0xb);
	FUZZ_ASSERT(rd(v, R_STATUS) & VIRTIO_STATUS_FEATURES_OK,
		    "features 0x%llx of 0x%llx refused", (unsigned long long)want,
		    (unsigned long long)offered);
	*d = (struct driver){.indirect = want & VIRTIO_F_RING_INDIRECT_DESC};
	for (unsigned q = 0; q < NQ; q++) {
		uint16_t num = (uint16_t)(1u << (fin_u8(in) % 7)); /* 1..64 */
		ipa_t a = qarea(q);
		d->num[q] = num;
		wr(v, R_QUEUE_SEL, q);
		wr(v, R_QUEUE_NUM, num);
		wr(v, R_QUEUE_DESC_LOW, (uint32_t)a);
		wr(v, R_QUEUE_DESC_LOW + 4, 0);
		wr(v, R_QUEUE_DRIVER_LOW, (uint32_t)(a + 0x400));
		wr(v, R_QUEUE_DRIVER_LOW + 4, 0);
		wr(v, R_QUEUE_DEVICE_LOW, (uint32_t)(a + 0x500));
		wr(v, R_QUEUE_DEVICE_LOW + 4, 0);
		wr(v, R_QUEUE_READY, 1);
		FUZZ_ASSERT(rd(v, R_QUEUE_READY) == 1, "queue %u of %u entries refused", q, num);
	}
	wr(v, R_STATUS, 0xf);
	TRACE("vm %u: driver up, features 0x%llx\n", v, (unsigned long long)want);
}

/* The bytes the guest puts in a chain's readable buffers. */
static size_t chain_content(struct fuzz_in *in, unsigned q, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	if (q == Q_TX) {
		uint8_t who = fin_u8(in);
		memset(buf, 0, HDR_LEN);
		n = HDR_LEN;
		if (who < 3 * 64) /* a port, broadcast or a stranger */
			memcpy(buf + n, macs[who % NVMS], 6);
		else if (who < 224)
			memset(buf + n, 0xff, 6);
		else
			fin_bytes(in, buf + n, 6);
		n += 6;
	}
	return n + fin_bytes(in, buf + n, fin_u16(in) % (cap - n));
}

/* A chain of 1-4 descriptors, direct or through an indirect table,
 * well-formed for its queue or not. */
static void post_chain(unsigned v, struct fuzz_in *in)
{
	struct driver *d = &drv[v];
	unsigned q = fin_u8(in) % NQ;
	uint8_t mode = fin_u8(in);
	unsigned nseg = 1 + mode % 4;
	bool indirect = d->indirect && (mode & 4);
	uint16_t num = d->num[q];
	struct virtq_desc descs[4];
	static uint8_t content[4096];
	size_t len = chain_content(in, q, content, sizeof(content)), done = 0;

	if (!num)
		return;
	for (unsigned i = 0; i < nseg; i++) {
		uint16_t off = fin_u16(in);
		uint32_t blen = fin_u16(in) % 0x700 + 1;
		bool writable = q == Q_RX || (q == Q_CTRL && i == nseg - 1 && nseg > 1);
		if (i == 0 && q == Q_CTRL && nseg == 1)
			writable = false;
		uint16_t flags = writable ? VIRTQ_DESC_F_WRITE : 0;
		if (mode & 0x80) { /* hostile: any flags, address and length */
			flags = fin_u16(in);
			descs[i].addr = mode & 0x40 ? fin_u64(in) : FUZZ_GUEST_IPA + off;
			blen = mode & 0x20 ? fin_u32(in) : blen;
		} else {
			descs[i].addr =
				FUZZ_GUEST_IPA + BUF_START + off % (FUZZ_GUEST_SIZE - BUF_START);
			if (descs[i].addr + blen > FUZZ_GUEST_IPA + FUZZ_GUEST_SIZE)
				blen = (uint32_t)(FUZZ_GUEST_IPA + FUZZ_GUEST_SIZE - descs[i].addr);
		}
		descs[i].len = blen;
		if (!(mode & 0x80) && !writable && done < len) {
			size_t n = MIN(len - done, blen);
			fuzz_guest_write(&guests[v], descs[i].addr - FUZZ_GUEST_IPA, content + done,
					 n);
			done += n;
		}
		descs[i].flags = (uint16_t)(flags & ~VIRTQ_DESC_F_NEXT) |
				 (i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0);
	}
	uint16_t head = d->next_desc[q] % num;
	if (indirect) {
		ipa_t table = FUZZ_GUEST_IPA + ((BUF_START + (fin_u16(in) % 0x2000)) & ~15UL);
		for (unsigned i = 0; i < nseg; i++) {
			descs[i].next = (uint16_t)(i + 1);
			fuzz_guest_write(&guests[v], table - FUZZ_GUEST_IPA + 16 * i, &descs[i],
					 16);
		}
		struct virtq_desc ind = {table, 16 * nseg, VIRTQ_DESC_F_INDIRECT, 0};
		fuzz_guest_write(&guests[v], qarea(q) - FUZZ_GUEST_IPA + 16ULL * head, &ind, 16);
		d->next_desc[q]++;
	} else {
		for (unsigned i = 0; i < nseg; i++) {
			uint16_t at = (uint16_t)((d->next_desc[q] + i) % num);
			descs[i].next = (uint16_t)((at + 1) % num);
			fuzz_guest_write(&guests[v], qarea(q) - FUZZ_GUEST_IPA + 16ULL * at,
					 &descs[i], 16);
		}
		d->next_desc[q] += (uint16_t)nseg;
	}
	uint64_t avail = qarea(q) + 0x400 - FUZZ_GUEST_IPA;
	put16(v, avail + 4 + 2ULL * (d->avail_idx[q] % num), head);
	d->avail_idx[q]++;
	put16(v, avail + 2, d->avail_idx[q]);
	TRACE("vm %u: q%u chain head %u, %u segs%s mode 0x%x, %zu bytes\n", v, q, head, nseg,
	      indirect ? " indirect" : "", mode, len);
}

/* ---------------------------------------------------------------- checks */

struct qstate {
	struct fuzz_queue_view view;
	bool ready, event_idx;
	uint16_t last_avail, used_idx, signalled;
	ipa_t avail_ipa;
	bool indirect;
};
struct before {
	struct qstate q[NVMS][NQ];
	uint64_t resets[NVMS];
	uint64_t qresets[NVMS][NQ];
};

static void capture(struct qstate *s, const struct virtq *vq)
{
	*s = (struct qstate){{vq->num, vq->desc_ipa, vq->used_ipa},
			     vq->ready,
			     vq->event_idx,
			     vq->last_avail,
			     vq->used_idx,
			     vq->signalled_used,
			     vq->avail_ipa,
			     vq->indirect};
}

FUZZ_NOCOV static void save_before(struct before *b)
{
	for (unsigned v = 0; v < NVMS; v++) {
		fuzz_guest_snapshot(&guests[v]);
		b->resets[v] = nets[v].vdev.reset_count;
		for (unsigned q = 0; q < NQ; q++) {
			capture(&b->q[v][q], &nets[v].vdev.vq[q]);
			b->qresets[v][q] = nets[v].vdev.queue_resets[q];
		}
	}
	fuzz_irqs_reset();
}

static bool same_queue(const struct before *b, unsigned v, unsigned q)
{
	const struct virtq *vq = &nets[v].vdev.vq[q];
	const struct qstate *s = &b->q[v][q];

	return s->ready && vq->ready && b->resets[v] == nets[v].vdev.reset_count &&
	       b->qresets[v][q] == nets[v].vdev.queue_resets[q] && s->view.num == vq->num &&
	       s->view.desc_ipa == vq->desc_ipa && s->view.used_ipa == vq->used_ipa &&
	       s->avail_ipa == vq->avail_ipa;
}

static bool seg_overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

/* Whether a chain's buffers overlap each other or the queues' rings: then
 * what we read back need not be what the device wrote or read. */
FUZZ_NOCOV static bool tangled(const struct fuzz_seg *s, int n, const struct before *b, unsigned v)
{
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < i; j++)
			if (seg_overlap(s[i].off, s[i].len, s[j].off, s[j].len))
				return true;
		for (unsigned q = 0; q < NQ; q++) {
			const struct qstate *qs = &b->q[v][q];
			if (!qs->view.num)
				continue;
			uint64_t d = qs->view.desc_ipa - FUZZ_GUEST_IPA;
			uint64_t a = qs->avail_ipa - FUZZ_GUEST_IPA;
			uint64_t u = qs->view.used_ipa - FUZZ_GUEST_IPA;
			if (seg_overlap(s[i].off, s[i].len, d, 16ULL * qs->view.num) ||
			    seg_overlap(s[i].off, s[i].len, a, 6 + 2ULL * qs->view.num) ||
			    seg_overlap(s[i].off, s[i].len, u, 6 + 8ULL * qs->view.num))
				return true;
		}
	}
	return false;
}

static uint16_t get16(const uint8_t *mem, ipa_t ipa)
{
	uint16_t x;
	memcpy(&x, mem + (ipa - FUZZ_GUEST_IPA), 2);
	return x;
}

static uint32_t get32(const uint8_t *mem, ipa_t ipa)
{
	uint32_t x;
	memcpy(&x, mem + (ipa - FUZZ_GUEST_IPA), 4);
	return x;
}

/* The frames the sender handed over in this step (from its snapshot). */
struct sent {
	unsigned n;
	bool unknown;           /* some chain we could not read back (tangled) */
	unsigned good, flooded; /* well-formed frames, and those to a group */
	uint32_t len[VIRTIO_CHAINS_PER_NOTIFY];
	uint8_t frame[8][MAX_FRAME];
};

FUZZ_NOCOV static void collect_sent(const struct before *b, unsigned v, struct sent *out)
{
	const struct qstate *s = &b->q[v][Q_TX];
	const struct virtq *vq = &nets[v].vdev.vq[Q_TX];
	const uint8_t *mem = guests[v].snap;
	struct fuzz_seg segs[VIRTQ_MAX_SEGS];

	out->n = out->good = out->flooded = 0;
	out->unknown = false;
	/* (a device error in the step stops the queue but keeps its indices) */
	if (!s->ready || b->resets[v] != nets[v].vdev.reset_count ||
	    b->qresets[v][Q_TX] != nets[v].vdev.queue_resets[Q_TX] || vq->num != s->view.num) {
		out->unknown = true;
		return;
	}
	for (uint16_t i = s->last_avail; i != vq->last_avail && out->n < 8; i++) {
		uint16_t head = get16(mem, s->avail_ipa + 4 + 2ULL * (i % s->view.num));
		int n = fuzz_walk_chain(mem, s->view.desc_ipa, s->view.num, head, s->indirect, segs,
					VIRTQ_MAX_SEGS);
		FUZZ_ASSERT(n > 0, "vm %u: the device took a TX chain (head %u) it must refuse", v,
			    head);
		if (tangled(segs, n, b, v)) {
			out->unknown = true;
			continue;
		}
		uint8_t all[HDR_LEN + MAX_FRAME + 1];
		size_t got = fuzz_gather(mem, segs, n, false, all, sizeof(all));
		TRACE("vm %u: sent chain %u: %d segs, %zu bytes\n", v, head, n, got);
		if (got < HDR_LEN + 14 || got > HDR_LEN + MAX_FRAME)
			continue; /* dropped as malformed */
		/* so is one with a writable buffer (received frames may match it) */
		if (!segs[n - 1].writable) {
			out->good++;
			out->flooded += all[HDR_LEN] & 1; /* three ports: groups only */
		}
		out->len[out->n] = (uint32_t)(got - HDR_LEN);
		memcpy(out->frame[out->n++], all + HDR_LEN, got - HDR_LEN);
	}
	if ((uint16_t)(vq->last_avail - s->last_avail) > 8)
		out->unknown = true;
}

static bool routed_to(unsigned rx, const uint8_t *dst)
{
	if (dst[0] & 1)
		return true;
	if (!memcmp(dst, macs[rx], 6))
		return true;
	for (unsigned p = 0; p < NVMS; p++)
		if (!memcmp(dst, macs[p], 6))
			return false;
	return rx == 0; /* unknown unicast: the uplink */
}

/* Whether a chain used after entry `i` in the step has writable buffers
 * over `segs`: its frame may have overwritten this one's (a driver may give
 * two chains the same buffer, or a reset leaves stale ones in the ring). */
FUZZ_NOCOV static bool overwritten(const struct qstate *s, uint16_t used_idx, uint16_t i,
				   const struct fuzz_seg *segs, int n, unsigned v,
				   const uint8_t *now)
{
	struct fuzz_seg later[VIRTQ_MAX_SEGS];

	for (uint16_t j = (uint16_t)(i + 1); j != used_idx; j++) {
		uint32_t id = get32(now, s->view.used_ipa + 4 + 8ULL * (j % s->view.num));
		int m = fuzz_walk_chain(guests[v].snap, s->view.desc_ipa, s->view.num, (uint16_t)id,
					s->indirect, later, VIRTQ_MAX_SEGS);
		for (int a = 0; a < n; a++)
			for (int k = 0; k < m; k++)
				if (later[k].writable && seg_overlap(segs[a].off, segs[a].len,
								     later[k].off, later[k].len))
					return true;
	}
	return false;
}

FUZZ_NOCOV static void check_received(const struct before *b, unsigned rx, unsigned tx,
				      const struct sent *sent)
{
	const struct qstate *s = &b->q[rx][Q_RX];
	const struct virtq *vq = &nets[rx].vdev.vq[Q_RX];
	static uint8_t now[FUZZ_GUEST_SIZE];
	struct fuzz_seg segs[VIRTQ_MAX_SEGS];

	if (!same_queue(b, rx, Q_RX) || s->used_idx == vq->used_idx)
		return;
	fuzz_guest_flat(&guests[rx], now);
	for (uint16_t i = s->used_idx; i != vq->used_idx; i++) {
		ipa_t elem = s->view.used_ipa + 4 + 8ULL * (i % s->view.num);
		uint32_t id = get32(now, elem), len = get32(now, elem + 4);
		TRACE("vm %u: received chain %u, %u bytes\n", rx, id, len);
		int n = fuzz_walk_chain(guests[rx].snap, s->view.desc_ipa, s->view.num,
					(uint16_t)id, s->indirect, segs, VIRTQ_MAX_SEGS);
		FUZZ_ASSERT(n > 0, "vm %u: RX chain %u used, but it is not a valid chain", rx, id);
		uint64_t room = 0;
		for (int k = 0; k < n; k++)
			room += segs[k].writable ? segs[k].len : 0;
		FUZZ_ASSERT(len <= room, "vm %u: %u bytes received into %llu bytes of buffers", rx,
			    len, (unsigned long long)room);
		if (!len)
			continue;
		FUZZ_ASSERT(len >= HDR_LEN + 14 && len <= HDR_LEN + MAX_FRAME,
			    "vm %u: received %u bytes", rx, len);
		if (tangled(segs, n, b, rx) || overwritten(s, vq->used_idx, i, segs, n, rx, now))
			continue;
		static uint8_t got[HDR_LEN + MAX_FRAME];
		fuzz_gather(now, segs, n, true, got, len);
		static const uint8_t hdr[HDR_LEN] = {[10] = 1};
		FUZZ_ASSERT(!memcmp(got, hdr, HDR_LEN), "vm %u: received header is not fresh", rx);
		FUZZ_ASSERT(rx != tx, "vm %u: received its own frame", rx);
		FUZZ_ASSERT(routed_to(rx, got + HDR_LEN),
			    "vm %u: received a frame for %02x:%02x:%02x:%02x:%02x:%02x", rx,
			    got[12], got[13], got[14], got[15], got[16], got[17]);
		if (sent->unknown)
			continue;
		bool match = false;
		for (unsigned f = 0; f < sent->n && !match; f++)
			match = sent->len[f] == len - HDR_LEN &&
				!memcmp(sent->frame[f], got + HDR_LEN, len - HDR_LEN);
		FUZZ_ASSERT(match, "vm %u: received %u bytes that vm %u did not send", rx, len, tx);
	}
}

/* Used entries of TX (0 bytes) and control chains (1 byte: OK or ERR). */
FUZZ_NOCOV static void check_returned(const struct before *b, unsigned v)
{
	static uint8_t now[FUZZ_GUEST_SIZE];
	bool copied = false;

	for (unsigned q = Q_TX; q <= Q_CTRL; q++) {
		const struct qstate *s = &b->q[v][q];
		if (!same_queue(b, v, q) || s->used_idx == nets[v].vdev.vq[q].used_idx)
			continue;
		if (!copied)
			fuzz_guest_flat(&guests[v], now);
		copied = true;
		for (uint16_t i = s->used_idx; i != nets[v].vdev.vq[q].used_idx; i++) {
			ipa_t elem = s->view.used_ipa + 4 + 8ULL * (i % s->view.num);
			uint32_t id = get32(now, elem), len = get32(now, elem + 4);
			TRACE("vm %u: q%u chain %u back, %u bytes\n", v, q, id, len);
			FUZZ_ASSERT(len == (q == Q_TX ? 0u : 1u),
				    "vm %u q%u: chain %u returned with %u", v, q, id, len);
			struct fuzz_seg segs[VIRTQ_MAX_SEGS];
			int n = fuzz_walk_chain(guests[v].snap, s->view.desc_ipa, s->view.num,
						(uint16_t)id, s->indirect, segs, VIRTQ_MAX_SEGS);
			FUZZ_ASSERT(n > 0, "vm %u q%u: chain %u used, not a valid chain", v, q, id);
			if (q == Q_CTRL && !tangled(segs, n, b, v)) {
				uint8_t ack = now[segs[n - 1].off + segs[n - 1].len - 1];
				FUZZ_ASSERT(segs[n - 1].writable && ack <= 1, "vm %u: ack %u", v,
					    ack);
			}
		}
	}
}

/* No lost interrupt: used entries the driver asked to hear about (no
 * NO_INTERRUPT flag, or used_event crossed with EVENT_IDX) come with one. */
FUZZ_NOCOV static void check_interrupts(const struct before *b, unsigned v)
{
	bool irq = false;

	for (unsigned i = 0; i < fuzz_nirqs && i < ARRAY_SIZE(fuzz_irqs); i++)
		irq |= fuzz_irqs[i].vm == &vms[v];
	for (unsigned q = 0; q < NQ; q++) {
		const struct qstate *s = &b->q[v][q];
		uint16_t now = nets[v].vdev.vq[q].used_idx;
		if (!same_queue(b, v, q) || now == s->used_idx ||
		    fuzz_nirqs > ARRAY_SIZE(fuzz_irqs))
			continue;
		uint8_t *flags = fuzz_guest_byte(&guests[v], s->avail_ipa - FUZZ_GUEST_IPA);
		uint16_t event;
		memcpy(&event,
		       fuzz_guest_byte(&guests[v],
				       s->avail_ipa - FUZZ_GUEST_IPA + 4 + 2ULL * s->view.num),
		       2);
		bool want = s->event_idx
				    ? (uint16_t)(now - event - 1) < (uint16_t)(now - s->signalled)
				    : !(flags[0] & 1);
		FUZZ_ASSERT(
			!want || (irq && (nets[v].vdev.isr & VIRTIO_INT_USED)),
			"vm %u q%u: used idx %u -> %u without the interrupt the driver asked for",
			v, q, s->used_idx, now);
	}
}

/* The frames the sender handed over, NULL if no VM could send. */
static const struct sent *check_step(const struct before *b, int sender)
{
	static struct sent sent;

	for (unsigned v = 0; v < NVMS; v++) {
		struct fuzz_queue_view views[2 * NQ];
		for (unsigned q = 0; q < NQ; q++) {
			const struct virtq *vq = &nets[v].vdev.vq[q];
			views[q] = b->q[v][q].view;
			views[NQ + q] =
				(struct fuzz_queue_view){vq->num, vq->desc_ipa, vq->used_ipa};
		}
		fuzz_check_writes(&guests[v], views, 2 * NQ, vms[v].name);
		check_interrupts(b, v);
		FUZZ_ASSERT(!nets[v].vdev.lock.locked, "vm %u: device lock left held", v);
		check_returned(b, v);
	}
	if (sender >= 0) {
		collect_sent(b, (unsigned)sender, &sent);
		for (unsigned rx = 0; rx < NVMS; rx++)
			check_received(b, rx, (unsigned)sender, &sent);
	}
	for (unsigned i = 0; i < fuzz_nirqs && i < ARRAY_SIZE(fuzz_irqs); i++) {
		const struct fuzz_irq *q = &fuzz_irqs[i];
		unsigned v = (unsigned)(q->vm - vms);
		FUZZ_ASSERT(v < NVMS && !q->vcpu && q->intid == IRQ0 + v,
			    "interrupt %u injected into vm %u", q->intid, v);
	}
	return sender >= 0 ? &sent : NULL;
}

static void check_config(unsigned v, struct fuzz_in *in)
{
	static const unsigned widths[] = {1, 2, 4, 8, 4, 1, 2, 3};
	unsigned width = widths[fin_u8(in) % 8];
	uint32_t off = fin_u8(in) % 16;
	bool ok;
	uint32_t val = mmio(v, R_CONFIG + off, width, false, 0, &ok);

	if (!ok)
		return;
	for (unsigned i = 0; i < width && i < 4; i++)
		if (off + i < 6)
			FUZZ_ASSERT((uint8_t)(val >> (8 * i)) == macs[v][off + i],
				    "vm %u: config byte %u is not the MAC's", v, off + i);
}

/* ---------------------------------------------------------------- storm control */

/* The counter (the stubs' timer_now and timer_freq are weak): it moves only
 * when the input says, and its frequency is the input's. */
static uint64_t clock_now, clock_hz = 1000000;

uint64_t timer_now(void)
{
	return clock_now;
}

uint64_t timer_freq(void)
{
	return clock_hz;
}

/* The switch is virtio_net.c's own: its address, and each bucket take, are
 * seen through the linker's --wrap (Makefile). */
static struct netswitch *the_sw;
static unsigned takes[NVMS], passes[NVMS]; /* in the current step */

int __real_netswitch_add_port(struct netswitch *sw, const uint8_t mac[ETH_ALEN], bool uplink,
			      void *dev);
bool __real_netswitch_flood_take(struct netswitch *sw, unsigned src, uint64_t now);

int __wrap_netswitch_add_port(struct netswitch *sw, const uint8_t mac[ETH_ALEN], bool uplink,
			      void *dev)
{
	if (dev) /* virtio_net_create's (fuzz_switch's ports have none) */
		the_sw = sw;
	return __real_netswitch_add_port(sw, mac, uplink, dev);
}

bool __wrap_netswitch_flood_take(struct netswitch *sw, unsigned src, uint64_t now)
{
	bool ok = __real_netswitch_flood_take(sw, src, now);

	if (sw == the_sw) {
		FUZZ_ASSERT(src < NVMS && now == clock_now, "flood take of port %u at %llu", src,
			    (unsigned long long)now);
		takes[src]++;
		passes[src] += ok;
	}
	return ok;
}

/* What the header's contract alone tells of a port's bucket. */
enum credit { C_FULL, C_UNDER_ONE_FRAME, C_UNKNOWN };
struct flood_model {
	uint32_t rate, burst;
	uint64_t hz;
	bool timed;
	uint64_t ref;       /* the bucket's time: counter value of its last refill */
	u128 ticks;         /* it was given since the limit was set */
	uint64_t passed;    /* flooded frames let through since then */
	enum credit credit; /* at ref */
};

static void model_set(struct flood_model *m, uint32_t rate, uint32_t burst, uint64_t hz)
{
	*m = (struct flood_model){rate, rate ? burst : 0, hz, .credit = C_FULL};
}

/* `t` flooded frames at counter value `now`, `p` of them let through.
 * With coverage: its cases lead the fuzzer to buckets run dry after a
 * refill, where the lower bound bites. */
static void model_takes(struct flood_model *m, uint64_t now, unsigned t, unsigned p,
			const char *who, unsigned port)
{
	uint64_t e = 0;

	if (!t)
		return;
	if (!m->rate) {
		FUZZ_ASSERT(p == t, "%s %u: %u of %u flooded frames dropped with no limit", who,
			    port, t - p, t);
		return;
	}
	/* Time starts at the first frame; a counter value less than 2^63
	 * ticks ahead (modulo 2^64) gives the ticks, one behind gives none
	 * and leaves the bucket's time where it was. */
	if (!m->timed) {
		m->timed = true;
		m->ref = now;
	} else if (!((now - m->ref) >> 63)) {
		e = now - m->ref;
		m->ref = now;
	}
	m->ticks += e;
	/* what the bucket holds now, in 1/hz frames: lo..hi */
	u128 cap = (u128)m->burst * m->hz, gain = (u128)e * m->rate, lo = 0, hi = cap;
	if (m->credit == C_FULL || gain >= cap)
		lo = cap;
	else if (m->credit == C_UNDER_ONE_FRAME) {
		lo = gain;
		hi = MIN(cap, gain + m->hz - 1);
	}
	bool dry = p < t && lo >= m->hz; /* ran dry with a frame's credit or more */
	FUZZ_ASSERT(p <= hi / m->hz && (!dry || p >= lo / m->hz),
		    "%s %u: %u of %u flooded frames let through, %llu..%llu allowed (%u/s burst "
		    "%u, %llu Hz, %llu ticks on, credit %s)",
		    who, port, p, t, (unsigned long long)MIN(t, lo / m->hz),
		    (unsigned long long)(hi / m->hz), m->rate, m->burst, (unsigned long long)m->hz,
		    (unsigned long long)e,
		    m->credit == C_FULL      ? "full"
		    : m->credit == C_UNKNOWN ? "?"
					     : "< 1 frame");
	m->passed += p;
	u128 most = m->burst + (u128)m->rate * m->ticks / m->hz;
	FUZZ_ASSERT(m->passed <= most,
		    "%s %u: %llu flooded frames let through since the limit was set, over burst "
		    "%u + %u/s * %llu ticks / %llu Hz = %llu",
		    who, port, (unsigned long long)m->passed, m->burst, m->rate,
		    (unsigned long long)m->ticks, (unsigned long long)m->hz,
		    (unsigned long long)most);
	m->credit = p < t ? C_UNDER_ONE_FRAME : C_UNKNOWN;
}

static uint64_t pick_hz(struct fuzz_in *in)
{
	/* real counters (1 GHz from Armv8.6), the bounds, and out of them */
	static const uint64_t hz[] = {1000000, 62500000,   1000000000, 1,
				      1000,    1ULL << 40, 0,          (1ULL << 40) + 1};
	uint8_t how = fin_u8(in);

	return how < 240 ? hz[how % 8] : fin_u64(in);
}

/* A limit as the configuration could give it, or one out of its bounds. */
static void pick_limit(struct fuzz_in *in, uint32_t *rate, uint32_t *burst)
{
	uint8_t how = fin_u8(in);

	*rate = 1 + fin_u8(in) % 16;
	*burst = 1 + fin_u8(in) % 8;
	switch (how % 8) {
	case 0:
		*rate = 0; /* no limit, whatever the burst */
		break;
	case 1:
		*burst = 1;
		break;
	case 2:
		break;
	case 3:
		*rate = NET_FLOOD_MAX_RATE;
		*burst = NET_FLOOD_MAX_BURST;
		break;
	case 4:
		*rate = fin_u32(in) % (NET_FLOOD_MAX_RATE + 1);
		*burst = 1 + fin_u32(in) % NET_FLOOD_MAX_BURST;
		break;
	case 5: /* just out of bounds */
		if (how & 8)
			*rate = NET_FLOOD_MAX_RATE + 1;
		else
			*burst = how & 16 ? 0 : NET_FLOOD_MAX_BURST + 1;
		break;
	case 6:
		*rate = fin_u32(in);
		*burst = fin_u32(in);
		break;
	case 7:
		*burst = NET_FLOOD_MAX_BURST;
		break;
	}
}

/* Sets port `port`'s limit as the input picks it (through its device, if
 * `net`): taken exactly when in the header's bounds, and a refused one
 * leaves the bucket as it was. */
static void try_limit(struct fuzz_in *in, struct netswitch *sw, unsigned port,
		      struct virtio_net *net, struct flood_model *m, uint64_t hz)
{
	uint32_t rate, burst;
	bool exists = port < sw->nports;
	struct net_flood_limit was = {0}, *f = exists ? &sw->ports[port].flood : &was;

	pick_limit(in, &rate, &burst);
	was = *f;
	bool ok = exists && rate <= NET_FLOOD_MAX_RATE && hz && hz <= (1ULL << 40) &&
		  (!rate || (burst && burst <= NET_FLOOD_MAX_BURST));
	int r = net ? virtio_net_set_flood_limit(net, rate, burst)
		    : netswitch_set_flood_limit(sw, port, rate, burst, hz);
	TRACE("port %u: flood limit %u/s burst %u at %llu Hz: %d\n", port, rate, burst,
	      (unsigned long long)hz, r);
	FUZZ_ASSERT(r == (ok ? 0 : -1), "port %u: flood limit %u/s burst %u at %llu Hz gave %d",
		    port, rate, burst, (unsigned long long)hz, r);
	if (ok)
		model_set(m, rate, burst, hz);
	else
		FUZZ_ASSERT(f->rate == was.rate && f->burst == was.burst && f->hz == was.hz &&
				    f->credit == was.credit && f->last == was.last &&
				    f->timed == was.timed,
			    "port %u: the refused limit %u/s burst %u changed the bucket", port,
			    rate, burst);
}

/* The counter moves as the input says: forward by ticks or seconds as a
 * real one; also back as far (a value read on another CPU before the
 * bucket's update), to just before the wrap, and by any 64-bit amount. */
static void advance(struct fuzz_in *in, uint64_t *now, uint64_t hz)
{
	uint8_t how = fin_u8(in);
	uint64_t seconds = hz * (1 + fin_u8(in) % 4) / (1 + (how >> 4)); /* 1/16 s..4 s */

	switch (how % 8) {
	case 0:
		*now += fin_u8(in);
		break;
	case 1:
		*now += fin_u32(in);
		break;
	case 2:
		*now += seconds;
		break;
	case 3:
		*now += 1ULL << (fin_u8(in) % 64);
		break;
	case 4:
		*now -= how & 8 ? seconds : 1 + fin_u8(in) % 16;
		break;
	case 5:
		*now -= fin_u64(in);
		break;
	case 6:
		*now = UINT64_MAX - fin_u16(in);
		break;
	case 7:
		*now += fin_u64(in);
		break;
	}
	TRACE("counter at %llu\n", (unsigned long long)*now);
}

static struct flood_model models[NVMS];
static struct net_port_stats stats_before[NVMS];

FUZZ_NOCOV static void save_stats(void)
{
	for (unsigned v = 0; v < NVMS; v++) {
		stats_before[v] = the_sw->ports[v].stats;
		takes[v] = passes[v] = 0;
	}
}

/* Only the sender sends and asks its bucket, once per frame it floods;
 * each of those is either delivered to both other ports or storm-dropped,
 * every other routed frame delivered to one. */
FUZZ_NOCOV static void check_storm(int sender, const struct sent *sent)
{
	uint64_t delivered = 0;

	for (unsigned v = 0; v < NVMS; v++) {
		const struct net_port_stats *a = &stats_before[v], *z = &the_sw->ports[v].stats;
		uint64_t storm = z->drop_storm - a->drop_storm;
		if ((int)v != sender)
			FUZZ_ASSERT(z->tx_frames == a->tx_frames && z->drop_bad == a->drop_bad &&
					    z->drop_no_route == a->drop_no_route && !storm &&
					    !takes[v],
				    "vm %u: sent or storm-dropped (%llu) while vm %d sent", v,
				    (unsigned long long)storm, sender);
		else
			FUZZ_ASSERT(z->rx_frames == a->rx_frames &&
					    z->drop_no_buffer == a->drop_no_buffer,
				    "vm %u: a frame delivered to its sender", v);
		FUZZ_ASSERT(storm == takes[v] - passes[v],
			    "vm %u: drop_storm grew by %llu for %u of %u flooded frames refused", v,
			    (unsigned long long)storm, takes[v] - passes[v], takes[v]);
		model_takes(&models[v], clock_now, takes[v], passes[v], "vm", v);
		delivered += z->rx_frames - a->rx_frames + z->drop_no_buffer - a->drop_no_buffer;
	}
	if (sender < 0)
		return;
	unsigned s = (unsigned)sender;
	const struct net_port_stats *a = &stats_before[s], *z = &the_sw->ports[s].stats;
	uint64_t tx = z->tx_frames - a->tx_frames, nowhere = z->drop_no_route - a->drop_no_route;
	FUZZ_ASSERT(tx >= nowhere + takes[s] &&
			    delivered == (NVMS - 1) * passes[s] + tx - nowhere - takes[s],
		    "vm %u: %llu sent, %llu to nowhere, %u of %u flooded let through, but %llu "
		    "delivered",
		    s, (unsigned long long)tx, (unsigned long long)nowhere, passes[s], takes[s],
		    (unsigned long long)delivered);
	if (sent && !sent->unknown)
		FUZZ_ASSERT(tx == sent->good && takes[s] == sent->flooded,
			    "vm %u: handed over %u frames, %u to a group; the switch took %llu, "
			    "asked the bucket %u times",
			    s, sent->good, sent->flooded, (unsigned long long)tx, takes[s]);
}

/* ---------------------------------------------------------------- the switch alone */

static void fuzz_switch(struct fuzz_in *in)
{
	struct netswitch sw = {0};
	uint8_t mac[NET_MAX_PORTS + 2][6];
	bool uplink = false;
	int up = -1;
	unsigned n = 0;

	for (unsigned i = fin_u8(in) % (NET_MAX_PORTS + 3); i; i--) {
		uint8_t m[6];
		uint8_t pick = fin_u8(in);
		bool want_up = pick & 1;
		if (pick & 2 && n)
			memcpy(m, mac[fin_u8(in) % n], 6); /* a MAC taken already */
		else
			fin_bytes(in, m, 6);
		bool dup = false, zero = !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
		for (unsigned k = 0; k < n; k++)
			dup |= !memcmp(mac[k], m, 6);
		int r = netswitch_add_port(&sw, m, want_up, NULL);
		bool fine =
			n < NET_MAX_PORTS && !dup && !zero && !(m[0] & 1) && !(want_up && uplink);
		FUZZ_ASSERT((r >= 0) == fine && (r < 0 || r == (int)n), "add_port gave %d", r);
		if (r >= 0) {
			memcpy(mac[n++], m, 6);
			if (want_up) {
				uplink = true;
				up = r;
			}
		}
	}
	for (unsigned k = fin_u8(in) % 16; k; k--) {
		unsigned src = fin_u8(in);
		uint8_t dst[6];
		if (n && (src & 0x80))
			memcpy(dst, mac[fin_u8(in) % n], 6);
		else
			fin_bytes(in, dst, 6);
		src = src & 0x40 ? src : src % (n + 1);
		uint32_t got = netswitch_route(&sw, src, dst);
		uint32_t others = src < n ? ((1u << n) - 1) & ~(1u << src) : 0;
		uint32_t want = 0;
		if (src >= n)
			want = 0;
		else if (dst[0] & 1)
			want = others;
		else {
			int owner = -1;
			for (unsigned p = 0; p < n; p++)
				if (!memcmp(mac[p], dst, 6))
					owner = (int)p;
			if (owner >= 0)
				want = (1u << owner) & others;
			else if (up >= 0)
				want = (1u << up) & others;
		}
		FUZZ_ASSERT(got == want, "route from port %u of %u: 0x%x, not 0x%x", src, n, got,
			    want);
	}
	/* storm control, at any counter value: limits (for a missing port
	 * too), moves of the counter, runs of flooded frames; on one port
	 * until the input picks another, so its bucket sees them in a row */
	static struct flood_model m[NET_MAX_PORTS + 1];
	uint64_t hz = pick_hz(in), now = fin_u64(in);
	unsigned p = fin_u8(in) % (n + 1); /* n: a port it lacks */
	for (unsigned i = 0; i < n; i++)
		model_set(&m[i], 0, 0, hz); /* a new port has no limit */
	for (unsigned k = fin_u8(in) % 32; k; k--) {
		uint8_t what = fin_u8(in);
		unsigned t = 1 + what / 4 % 32, ok = 0;
		switch (what % 4) {
		case 0:
			try_limit(in, &sw, p, NULL, &m[p], hz);
			break;
		case 1:
			advance(in, &now, hz);
			break;
		case 2:
			for (unsigned i = 0; i < t; i++)
				ok += netswitch_flood_take(&sw, p, now);
			FUZZ_ASSERT(p < n || !ok, "a flooded frame from port %u of %u let through",
				    p, n);
			if (p < n)
				model_takes(&m[p], now, t, ok, "switch port", p);
			break;
		case 3:
			p = fin_u8(in) % (n + 1);
			break;
		}
	}
}

/* ---------------------------------------------------------------- the harness */

static void setup_once(void)
{
	static const char *const names[NVMS] = {"mvm", "gvm1", "gvm2"};

	for (unsigned v = 0; v < NVMS; v++) {
		struct vm *vm = &vms[v];
		fuzz_guest_init(&guests[v]);
		vm->id = v;
		vm->name = names[v];
		vm->ncpus = 1;
		vm->vcpus[0].vm = vm;
		vm->regions[0] = guests[v].regions[0];
		vm->regions[1] = guests[v].regions[1];
		vm->mem = (struct guest_mem){vm->regions, 2};
		FUZZ_ASSERT(
			!virtio_net_create(&nets[v], vm, SLOT_BASE, IRQ0 + v, macs[v], v == 0) &&
				nets[v].port == (int)v,
			"virtio_net_create");
	}
	FUZZ_ASSERT(the_sw && the_sw->nports == NVMS, "the switch's ports");
}

static void step(struct fuzz_in *in)
{
	uint8_t op = fin_u8(in);
	unsigned v = fin_u8(in) % NVMS;
	static struct before b;
	int sender = -1;
	/* only set-up, notifies and register accesses make a device act */
	bool device_acts = op % 12 == 0 || op % 12 == 3 || op % 12 == 4 || op % 12 == 5;

	save_stats();
	if (device_acts)
		save_before(&b);
	switch (op % 12) {
	case 0:
		driver_init(v, in);
		break;
	case 1:
	case 2:
		post_chain(v, in);
		break;
	case 3:
	case 4: { /* notify: TX, control or RX */
		unsigned q = fin_u8(in) % (NQ + 1);
		TRACE("vm %u: notify %u\n", v, q);
		wr(v, R_QUEUE_NOTIFY, q);
		sender = (int)v;
		break;
	}
	case 5: { /* any register access */
		static const unsigned widths[] = {4, 4, 4, 1, 2, 8};
		uint64_t off = fin_u16(in) % 0x240;
		unsigned width = widths[fin_u8(in) % 6];
		uint32_t val = fin_u32(in);
		bool write = off & 1;
		off &= ~1ULL;
		TRACE("vm %u: %s 0x%llx/%u 0x%x\n", v, write ? "write" : "read",
		      (unsigned long long)off, width, val);
		mmio(v, off, width, write, val, NULL);
		sender = (int)v; /* maybe a QueueNotify */
		break;
	}
	case 6: { /* the guest scribbles on its RAM (rings included) */
		uint8_t buf[64];
		uint64_t off = fin_u16(in) % FUZZ_GUEST_SIZE;
		size_t n = fin_bytes(in, buf, 1 + fin_u8(in) % sizeof(buf));
		fuzz_guest_write(&guests[v], off, buf, n);
		break;
	}
	case 7:
		check_config(v, in);
		break;
	case 8:
		fuzz_switch(in);
		break;
	case 9: /* acknowledge interrupts */
		wr(v, R_INTERRUPT_ACK, fin_u8(in) & 3);
		break;
	case 10:
		advance(in, &clock_now, clock_hz);
		break;
	case 11:
		try_limit(in, the_sw, v, &nets[v], &models[v], clock_hz);
		break;
	}
	check_storm(sender, device_acts ? check_step(&b, sender) : NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const seeds[] = {"tests/fuzz/seeds/fuzz_net", NULL};

	fuzz_add_corpus(argc, argv, "fuzz_net", seeds);
	trace = getenv("FUZZ_TRACE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool created;
	struct fuzz_in in = {data, size};

	if (!created) {
		setup_once();
		created = true;
	}
	for (unsigned v = 0; v < NVMS; v++) {
		wr(v, R_STATUS, 0); /* a fresh device, fresh RAM */
		fuzz_guest_clear(&guests[v]);
		drv[v] = (struct driver){0};
	}
	/* no flood limit, unless the input picks one per port, a counter
	 * frequency and a start value */
	clock_hz = 1000000;
	clock_now = 0;
	for (unsigned v = 0; v < NVMS; v++) {
		FUZZ_ASSERT(!virtio_net_set_flood_limit(&nets[v], 0, 0), "no flood limit");
		model_set(&models[v], 0, 0, clock_hz);
	}
	/* most inputs start with every driver up */
	uint8_t start = fin_u8(&in);
	if (start & 1)
		for (unsigned v = 0; v < NVMS; v++)
			driver_init(v, &in);
	if (start & 2) {
		clock_hz = pick_hz(&in);
		clock_now = fin_u64(&in);
		for (unsigned v = 0; v < NVMS; v++)
			try_limit(&in, the_sw, v, &nets[v], &models[v], clock_hz);
	}
	for (unsigned n = 0; in.n && n < 100; n++)
		step(&in);
	return 0;
}
