/* virtio-net device and the switch's data path.
 *
 * TX runs on the sending vCPU's CPU: a chain is taken from the sender's TX
 * queue under the sender's lock, then, with no lock of the sender held, its
 * frame is copied into the RX chains of every destination port under that
 * port's lock, so two VMs sending to each other cannot deadlock.
 *
 * Offloads (net_offload.h): a frame whose checksum the sender left to the
 * device, or a TCP segment of up to 64 KiB, goes to a single receiver that
 * negotiated the same offloads as it is (spread over mergeable buffers);
 * any other receiver gets it finished by the switch.
 *
 * Storm control: a frame the switch would flood (netswitch_floods) first
 * takes a token of the sender's bucket (netswitch_flood_take), under the
 * sender's device lock: the VM's vCPUs may run handle_tx at once (notify
 * runs without the lock), and the bucket must see one update at a time.
 * The lock is dropped before any delivery, as above. */
#include "net/virtio_net.h"

#include "net/net_ctrl.h"
#include "net/net_offload.h"

#include "arch/arm64/arch.h"
#include "lib/lib.h"
#include "core/percpu.h"
#include "core/print.h"
#include "core/vm.h"
#include "core/vm_config.h"
#include "drivers/gic.h"

#define Q_RX 0
#define Q_TX 1
#define Q_CTRL 2
#define F_MTU (1ULL << 3)
#define F_MAC (1ULL << 5)
#define F_MRG_RXBUF (1ULL << 15)
#define F_STATUS (1ULL << 16)
#define F_CTRL_VQ (1ULL << 17)
#define F_CTRL_RX (1ULL << 18)
#define ETH_HLEN 14
#define MTU 1500
#define MAX_FRAME (MTU + ETH_HLEN + 4) /* room for a VLAN tag */
#define RX_CHAINS_MAX 64 /* mergeable buffers of one frame: 64 KiB in 1 KiB and more */

_Static_assert(CFG_FLOOD_MAX_RATE == NET_FLOOD_MAX_RATE &&
		       CFG_FLOOD_MAX_BURST == NET_FLOOD_MAX_BURST,
	       "the configuration's flood bounds are the switch's");

static struct netswitch sw;
static spinlock_t sw_lock = SPINLOCK_INIT; /* port table changes only */

static struct virtio_net *to_net(struct virtio_dev *dev)
{
	return dev->priv;
}

static uint32_t config_read(struct virtio_dev *dev, uint32_t off, unsigned len)
{
	struct virtio_net *net = to_net(dev);
	uint8_t cfg[12] = {0};
	uint32_t v = 0;

	memcpy(cfg, net->mac, ETH_ALEN);
	cfg[6] = 1; /* status: link up */
	cfg[8] = 1; /* max_virtqueue_pairs */
	cfg[10] = MTU & 0xff;
	cfg[11] = MTU >> 8;
	for (unsigned i = 0; i < len && off + i < sizeof(cfg); i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

/* The frame a vCPU is sending, read from its VM once (its other vCPUs may
 * rewrite the buffers meanwhile, and every receiver must get what was
 * routed), and the segment cut from it for a receiver without TSO: per
 * physical CPU, as a GSO frame is too large for the EL2 stack. */
struct tx_scratch {
	uint8_t frame[NET_GSO_MAX_FRAME];
	uint8_t seg[MAX_FRAME];
};
static struct tx_scratch scratch[MAX_PCPUS];

/* A unicast frame for the MVM's port (the uplink) whose RX queue had no
 * room, per sender port: the sender takes no more frames until it is
 * delivered (its TX chain is returned then), so a GVM sending out or to the
 * MVM slows to the MVM's pace instead of losing frames a TCP sender would
 * have to resend (a whole 64 KiB GSO frame). Only the uplink: a GVM never
 * waits for another GVM, nor the MVM for a GVM, so a slow or hostile GVM
 * holds up nobody's traffic but its own.
 * While one is parked, the sender's TX queue is not taken at all: frames
 * behind it for other ports (another GVM) wait too (head-of-line), as the
 * queue is one ring taken in order.
 * Retried when the receiver adds buffers (its RX notify), on the sender's
 * next notify and on every tick; dropped after PARK_MAX_MS, and then that
 * receiver is "unresponsive": frames to it are dropped at once until it
 * adds buffers again, so a VM that stopped reading delays its senders once.
 * A retry on another VM's CPU (the receiver's notify, a tick) delivers or
 * drops the parked frame only: the rest of the sender's queue is taken on
 * the sender's own CPU (IPI_NET, virtio_net_work). A reset of the sender's
 * device (or its VM stopping) drops the frame (counted): the new driver's
 * queue waits for no frame of the old one. */
struct parked_frame {
	bool held;      /* under the sender's lock, as retrying */
	bool retrying;  /* one CPU is delivering (or filling in) the frame */
	uint32_t wakes; /* the receiver's notifies since: a try they found busy tries again */
	unsigned dst;   /* port */
	uint64_t since;
	struct virtq_chain chain;
	uint32_t len;
	struct net_offload o;
	uint8_t frame[NET_GSO_MAX_FRAME];
};
static struct parked_frame parked[NET_MAX_PORTS];
static volatile bool unresponsive[NET_MAX_PORTS];
#define PARK_MAX_MS 100

_Static_assert(NET_MAX_PORTS <= 32, "a port is a bit of tx_work");
/* Per physical CPU: the ports whose TX queue another CPU left to it, the
 * sender's own, after delivering their parked frame (IPI_NET). */
static uint32_t tx_work[MAX_PCPUS];

enum deliver_result { DELIVERED, NO_ROOM, NOT_ACCEPTED, NOT_LIVE, TOO_BIG };

/* Writes src into the chain's device-writable buffers from byte `at` on. */
static void chain_write(const struct virtq_chain *c, uint32_t at, const uint8_t *src, uint32_t len)
{
	for (unsigned i = 0; i < c->nbufs && len; i++) {
		uint32_t blen = c->bufs[i].len;
		if (at >= blen) {
			at -= blen;
			continue;
		}
		uint32_t n = MIN(blen - at, len);
		memcpy(c->bufs[i].hva + at, src, n);
		src += n;
		len -= n;
		at = 0;
	}
}

/* Returns the chains taken for a frame that will not be delivered: all
 * given back untouched if only room was lacking, all pushed empty (the
 * driver drops them) if the last one was not a receive buffer. */
static void abandon_rx(struct virtq *vq, const uint16_t *heads, unsigned n, bool bad_last)
{
	if (!bad_last) { /* and a notify on the next buffer: a parked frame waits for it */
		virtq_unpop(vq, (uint16_t)n);
		virtq_kick_on_next(vq);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		virtq_push(vq, heads[i], 0);
}

/* Copies header and frame into as many RX chains as they need (one without
 * MRG_RXBUF; num_buffers says how many); lock held. Returns the chains
 * used, 0 if the frame was dropped, < 0 once the device needs a reset.
 * *too_big: the most chains it may take do not hold it (given back): more
 * buffers would not help, so it is not worth parking. */
static int fill_rx(struct virtio_dev *d, struct net_hdr *h, const uint8_t *frame, uint32_t len,
		   bool *too_big)
{
	struct virtq *vq = &d->vq[Q_RX];
	unsigned max = d->driver_features & F_MRG_RXBUF ? RX_CHAINS_MAX : 1, n = 0;
	uint16_t heads[RX_CHAINS_MAX + 1];
	uint32_t written[RX_CHAINS_MAX];
	struct virtq_chain rx, first;
	uint32_t done = 0;

	while (n == 0 || done < len) {
		if (n == max) {
			virtq_unpop(vq, (uint16_t)n);
			*too_big = true;
			return 0;
		}
		int r = virtq_pop(vq, d->mem, &rx);
		if (r != VQ_OK) {
			abandon_rx(vq, heads, n, false);
			return r < 0 ? r : 0;
		}
		heads[n] = rx.head;
		uint32_t hdr = n ? 0 : NET_HDR_LEN;
		if (rx.nreadable || rx.writable_len < hdr) {
			abandon_rx(vq, heads, n + 1, true);
			return 0;
		}
		uint32_t part = (uint32_t)MIN(rx.writable_len - hdr, len - done);
		chain_write(&rx, hdr, frame + done, part);
		if (!n)
			first = rx;
		written[n++] = hdr + part;
		done += part;
	}
	uint8_t raw[NET_HDR_LEN];
	h->num_buffers = (uint16_t)n;
	net_hdr_write(raw, h);
	chain_write(&first, 0, raw, NET_HDR_LEN);
	for (unsigned i = 0; i < n; i++)
		virtq_push(vq, heads[i], written[i]);
	return (int)n;
}

/* Delivers a frame to dst with the header its offloads give it (o NULL: a
 * frame with none), unless dst's driver did not negotiate them. The
 * features are read under dst's lock: a reset may change them. A frame
 * that finds no room is not counted as dropped here: it may be parked. */
static enum deliver_result deliver(struct virtio_net *dst, const uint8_t *frame, uint32_t len,
				   const struct net_offload *o)
{
	struct virtio_dev *d = &dst->vdev;
	struct net_port_stats *st = &sw.ports[dst->port].stats;
	struct net_hdr h = {.num_buffers = 1};
	bool too_big = false;
	int r = -1;

	spin_lock(&d->lock);
	if (o && !net_offload_accepts(o, d->driver_features)) {
		spin_unlock(&d->lock);
		return NOT_ACCEPTED;
	}
	if (o)
		net_offload_hdr(o, &h);
	bool live = (d->status & VIRTIO_STATUS_DRIVER_OK) && d->vq[Q_RX].ready;
	if (live)
		r = fill_rx(d, &h, frame, len, &too_big);
	if (live && r < 0)
		virtio_device_error_locked(d, virtq_strerror(r));
	spin_unlock(&d->lock);
	if (r <= 0) {
		if (r == 0)
			virtio_notify_used(d, Q_RX); /* a bad chain may have been returned */
		return r < 0 ? NOT_LIVE : too_big ? TOO_BIG : NO_ROOM;
	}
	st->rx_frames++;
	st->rx_bytes += len;
	if (unresponsive[dst->port]) /* it reads again, if its notify found its buffers gone */
		unresponsive[dst->port] = false;
	virtio_notify_used(d, Q_RX);
	return DELIVERED;
}

/* Counts a frame dst did not get. */
static void count_drop(const struct virtio_net *dst)
{
	sw.ports[dst->port].stats.drop_no_buffer++;
}

/* Finishes the checksum a (non-GSO) frame's sender left to the device, in
 * the switch's own copy: the frame is a plain one from then on (*o
 * cleared), whoever gets it, and if it is parked, when it is retried. */
static void finish_csum(uint8_t *frame, uint32_t len, struct net_offload *o)
{
	if (o->needs_csum)
		net_csum_finish(frame, len, o);
	*o = (struct net_offload){0};
}

/* The frame without offloads, for receivers that did not negotiate them:
 * its checksum finished, or its GSO segment cut into frames of the
 * sender's MSS. */
static void deliver_finished(struct virtio_net *src, struct virtio_net *const *dsts, unsigned n,
			     uint8_t *frame, uint32_t len, struct net_offload *o)
{
	if (o->gso_type == NET_GSO_NONE) {
		finish_csum(frame, len, o);
		for (unsigned k = 0; k < n; k++)
			if (deliver(dsts[k], frame, len, NULL) != DELIVERED)
				count_drop(dsts[k]);
		return;
	}
	uint8_t *seg = scratch[this_cpu()->id].seg;
	uint32_t segs = net_gso_segments(o, len);
	for (uint32_t i = 0; i < segs; i++) {
		uint32_t seg_len = net_gso_segment(frame, len, o, i, seg, MAX_FRAME);
		if (!seg_len) { /* an MSS beyond the receivers' MTU */
			sw.ports[src->port].stats.drop_bad++;
			return;
		}
		for (unsigned k = 0; k < n; k++)
			if (deliver(dsts[k], seg, seg_len, NULL) != DELIVERED)
				count_drop(dsts[k]);
	}
}

/* Delivers to one destination, finished if it does not take the frame as
 * it is: DELIVERED (or dropped segments, counted), NO_ROOM, NOT_LIVE or TOO_BIG. A
 * checksum finished is the frame's from then on (*o cleared): one that
 * finds no room is parked, and retried, as the plain frame it now is. */
static enum deliver_result deliver_one(struct virtio_net *src, struct virtio_net *dst,
				       uint8_t *frame, uint32_t len, struct net_offload *o)
{
	enum deliver_result r = deliver(dst, frame, len, o);

	if (r != NOT_ACCEPTED)
		return r;
	if (o->gso_type != NET_GSO_NONE) {
		deliver_finished(src, &dst, 1, frame, len, o);
		return DELIVERED;
	}
	finish_csum(frame, len, o);
	return deliver(dst, frame, len, o);
}

/* Forwards a frame to the ports routed. A single destination takes it as
 * it is if it can; several get it finished (a checksum finished in place
 * is no longer the partial sum one taking NEEDS_CSUM expects). Returns the
 * uplink port if a frame for it alone found no room (the caller parks it),
 * or -1. */
static int forward(struct virtio_net *src, uint32_t ports, uint8_t *frame, uint32_t len,
		   struct net_offload *o)
{
	struct virtio_net *dsts[NET_MAX_PORTS];
	unsigned n = 0;

	for (unsigned p = 0; p < sw.nports; p++)
		if (ports & (1u << p))
			dsts[n++] = sw.ports[p].dev;
	if (n == 1) {
		enum deliver_result r = deliver_one(src, dsts[0], frame, len, o);
		if (r == NO_ROOM && sw.ports[dsts[0]->port].uplink && !unresponsive[dsts[0]->port])
			return dsts[0]->port;
		if (r != DELIVERED)
			count_drop(dsts[0]);
	} else if (n > 1) {
		deliver_finished(src, dsts, n, frame, len, o);
	}
	return -1;
}

/* Parks the frame src could not deliver to port dst for want of room;
 * false if one is parked already (another vCPU of src got there first). */
static bool park(struct virtio_net *src, unsigned dst, const struct virtq_chain *tx,
		 const uint8_t *frame, uint32_t len, const struct net_offload *o)
{
	struct parked_frame *p = &parked[src->port];
	bool taken;

	spin_lock(&src->vdev.lock);
	taken = p->held;
	if (!taken)
		p->held = p->retrying = true; /* nobody delivers it half filled in */
	spin_unlock(&src->vdev.lock);
	if (taken) {
		count_drop(sw.ports[dst].dev);
		return false;
	}
	memcpy(p->frame, frame, len);
	p->len = len;
	p->o = *o;
	p->dst = dst;
	p->chain = *tx;
	p->since = timer_now();
	spin_lock(&src->vdev.lock);
	p->retrying = false;
	spin_unlock(&src->vdev.lock);
	return true;
}

/* Whether src's parked frame came from a TX queue reset since (its chain
 * is not the driver's any more); src's lock held, the frame not being
 * filled in. */
static bool parked_stale_locked(struct virtio_net *src)
{
	return virtio_queue_epoch_locked(&src->vdev, Q_TX) != parked[src->port].chain.epoch;
}

/* Drops src's parked frame, counted, its chain not returned (its queue was
 * reset); src's lock held, nobody delivering or filling in the frame. */
static void drop_parked_locked(struct virtio_net *src)
{
	struct parked_frame *p = &parked[src->port];

	count_drop(sw.ports[p->dst].dev);
	p->held = false;
}

/* Tries to deliver src's parked frame (dropped once it waited too long,
 * or once src's TX queue was reset) and returns its TX chain. Whether src
 * may send on: nothing is parked. */
static bool unpark(struct virtio_net *src)
{
	struct parked_frame *p = &parked[src->port];
	struct virtio_dev *d = &src->vdev;
	bool held, mine;

	if (!__atomic_load_n(&p->held, __ATOMIC_ACQUIRE))
		return true; /* the common case, without the lock */
	spin_lock(&d->lock);
	held = p->held;
	mine = held && !p->retrying;
	if (mine && parked_stale_locked(src)) {
		drop_parked_locked(src);
		held = mine = false;
	}
	if (mine)
		p->retrying = true;
	spin_unlock(&d->lock);
	if (!mine)
		return !held;
	struct virtio_net *dst = sw.ports[p->dst].dev;
	enum deliver_result r;
	for (unsigned tries = 0;; tries++) {
		uint32_t wakes = __atomic_load_n(&p->wakes, __ATOMIC_ACQUIRE);
		r = deliver_one(src, dst, p->frame, p->len, &p->o);
		if (r != NO_ROOM || timer_now() - p->since > timer_freq() / 1000 * PARK_MAX_MS)
			break;
		spin_lock(&d->lock);
		/* the receiver's notify came during this try: its wake found us busy */
		bool woken = p->wakes != wakes && tries < 3, stale = parked_stale_locked(src);
		if (stale) /* a reset during this try found it busy */
			drop_parked_locked(src);
		if (stale || !woken)
			p->retrying = false;
		spin_unlock(&d->lock);
		if (stale || !woken)
			return stale;
	}
	if (r != DELIVERED) {
		count_drop(dst);
		unresponsive[p->dst] = r == NO_ROOM;
	}
	virtio_queue_push(d, Q_TX, &p->chain, 0);
	spin_lock(&d->lock);
	p->held = p->retrying = false;
	spin_unlock(&d->lock);
	virtio_notify_used(d, Q_TX);
	return true;
}

/* A frame from src's TX chain: its header and frame read once into this
 * CPU's scratch, checked, routed and forwarded. Whether it is parked (the
 * chain is returned once it is delivered or dropped). */
static bool send_frame(struct virtio_net *src, const struct virtq_chain *tx)
{
	struct net_port_stats *st = &sw.ports[src->port].stats;
	uint8_t *frame = scratch[this_cpu()->id].frame;
	uint64_t features = src->vdev.driver_features;
	uint64_t max =
		features & (NET_F_HOST_TSO4 | NET_F_HOST_TSO6) ? NET_GSO_MAX_FRAME : MAX_FRAME;
	uint8_t raw[NET_HDR_LEN];
	struct net_hdr h;
	struct net_offload o;

	if (tx->writable_len || tx->readable_len < NET_HDR_LEN + ETH_HLEN ||
	    tx->readable_len > NET_HDR_LEN + max) {
		st->drop_bad++;
		return false;
	}
	uint32_t frame_len = (uint32_t)tx->readable_len - NET_HDR_LEN;
	virtq_chain_read(tx, 0, raw, NET_HDR_LEN);
	virtq_chain_read(tx, NET_HDR_LEN, frame, frame_len);
	net_hdr_parse(raw, &h);
	/* only a GSO frame may exceed the MTU: TSO lets a sender hand over
	 * 64 KiB, not send a plain frame no receiver negotiated */
	if (net_offload_check(&h, frame, frame_len, features, &o) ||
	    (o.gso_type == NET_GSO_NONE && frame_len > MAX_FRAME)) {
		st->drop_bad++;
		return false;
	}
	st->tx_frames++;
	st->tx_bytes += frame_len;
	uint32_t ports = netswitch_route(&sw, (unsigned)src->port, frame);
	if (!ports)
		st->drop_no_route++;
	if (netswitch_floods(frame, ports)) {
		bool ok;
		spin_lock(&src->vdev.lock);
		ok = netswitch_flood_take(&sw, (unsigned)src->port, timer_now());
		spin_unlock(&src->vdev.lock);
		if (!ok) {
			st->drop_storm++;
			return false;
		}
	}
	int full = forward(src, ports, frame, frame_len, &o);
	return full >= 0 && park(src, (unsigned)full, tx, frame, frame_len, &o);
}

/* Takes src's frames, up to a budget, while none is parked. */
static void handle_tx(struct virtio_net *net)
{
	struct virtio_dev *d = &net->vdev;
	struct virtq_chain tx;
	int r = VQ_EMPTY;

	for (unsigned n = 0; n < VIRTIO_CHAINS_PER_NOTIFY; n++) {
		if (!unpark(net)) { /* its receiver's RX notify or the tick go on */
			r = VQ_EMPTY;
			break;
		}
		r = virtio_queue_pop(d, Q_TX, &tx);
		if (r != VQ_OK)
			break;
		if (!send_frame(net, &tx))
			virtio_queue_push(d, Q_TX, &tx, 0);
	}
	if (r < 0)
		return;
	if (r == VQ_OK)
		virtio_queue_budget_spent(d, Q_TX);
	virtio_notify_used(d, Q_TX);
}

/* Whether this CPU is one of net's VM's (each vCPU owns its CPU). */
static bool own_cpu(const struct virtio_net *net)
{
	const struct vcpu *v = this_cpu()->vcpu;

	return v && v->vm == net->vdev.vm;
}

/* Has net's own CPU take its TX queue: what its driver added while a frame
 * was parked may never be notified again (the chains are in the avail ring
 * already, and EVENT_IDX may have kept the driver from kicking). One IPI
 * until that CPU takes the work. */
static void kick_sender(struct virtio_net *net)
{
	unsigned cpu = net->vdev.vm->vcpus[0].pcpu;
	uint32_t bit = 1u << net->port;

	if (cpu >= MAX_PCPUS)
		return;
	if (!(__atomic_fetch_or(&tx_work[cpu], bit, __ATOMIC_SEQ_CST) & bit))
		gic_send_sgi(cpu, IPI_NET);
}

void virtio_net_work(void)
{
	uint32_t ports = __atomic_exchange_n(&tx_work[this_cpu()->id], 0, __ATOMIC_SEQ_CST);

	for (unsigned p = 0; p < sw.nports; p++)
		if (ports & (1u << p))
			handle_tx(sw.ports[p].dev);
}

/* The senders parked on port `port` (it added receive buffers, or the tick
 * came: port -1, all) deliver and go on: on their own CPU, all their queue;
 * on another (the receiver's, any VM's tick), the parked frame only, the
 * rest left to the sender's CPU (a guest's queue is its CPU's work). */
static void wake_parked(int port)
{
	for (unsigned s = 0; s < sw.nports; s++) {
		struct virtio_net *src = sw.ports[s].dev;
		if (!parked[s].held || (port >= 0 && parked[s].dst != (unsigned)port))
			continue;
		__atomic_add_fetch(&parked[s].wakes, 1, __ATOMIC_RELEASE);
		if (own_cpu(src))
			handle_tx(src);
		else if (unpark(src))
			kick_sender(src);
	}
}

void virtio_net_tick(void)
{
	wake_parked(-1);
}

/* The driver reset the device, or the VM stopped (dev->lock held): a
 * parked frame goes (counted), or it would hold the new driver's queue
 * and be delivered for a driver long gone. One another CPU is filling in
 * or trying right now is left to it: delivered if this try finds room (a
 * frame already on its way), else dropped by unpark, which finds its
 * queue reset; its chain is never returned into the new queue. */
static void reset(struct virtio_dev *dev)
{
	struct virtio_net *net = to_net(dev);
	struct parked_frame *p = &parked[net->port];

	if (p->held && !p->retrying)
		drop_parked_locked(net);
}

/* One command: taken, answered and returned in one hold of the device lock,
 * so the ack never lands in a buffer a reset has handed back to the guest.
 * VQ_OK, VQ_EMPTY, or < 0 once the device needs a reset. */
static int ctrl_one(struct virtio_net *net)
{
	struct virtio_dev *d = &net->vdev;
	struct virtq_chain c;
	int r = VQ_EMPTY;

	spin_lock(&d->lock);
	if (d->vq[Q_CTRL].ready)
		r = virtq_pop(&d->vq[Q_CTRL], d->mem, &c);
	if (r == VQ_OK && c.nbufs == c.nreadable) {
		virtio_device_error_locked(d, "control command without an ack byte");
		r = VQ_ERR_LEN;
	} else if (r < 0) {
		virtio_device_error_locked(d, virtq_strerror(r));
	} else if (r == VQ_OK) {
		struct virtq_buf *ack = &c.bufs[c.nbufs - 1];
		ack->hva[ack->len - 1] = net_ctrl_command(&net->rx_mode, net->mac, &c);
		virtq_push(&d->vq[Q_CTRL], c.head, 1);
	}
	spin_unlock(&d->lock);
	return r;
}

static void handle_ctrl(struct virtio_net *net)
{
	struct virtio_dev *d = &net->vdev;
	int r = VQ_EMPTY;

	for (unsigned n = 0; n < VIRTIO_CHAINS_PER_NOTIFY; n++) {
		r = ctrl_one(net);
		if (r != VQ_OK)
			break;
	}
	if (r < 0)
		return;
	if (r == VQ_OK)
		virtio_queue_budget_spent(d, Q_CTRL);
	virtio_notify_used(d, Q_CTRL);
}

static void notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_net *net = to_net(dev);

	if (q == Q_TX)
		handle_tx(net);
	else if (q == Q_CTRL)
		handle_ctrl(net);
	else if (q == Q_RX) { /* new buffers: for parked frames */
		/* only with buffers to take: a notify without any must not make
		 * an unresponsive port cost its senders another PARK_MAX_MS each */
		if (virtio_queue_has_new(dev, Q_RX))
			unresponsive[net->port] = false;
		wake_parked(net->port);
	}
}

int virtio_net_create(struct virtio_net *net, struct vm *vm, ipa_t base, uint32_t irq,
		      const uint8_t mac[ETH_ALEN], bool uplink)
{
	static const struct virtio_dev_ops ops = {
		.device_id = 1,
		.features = VIRTIO_F_VERSION_1 | VIRTIO_F_RING_EVENT_IDX |
			    VIRTIO_F_RING_INDIRECT_DESC | F_MTU | F_MAC | F_MRG_RXBUF | F_STATUS |
			    F_CTRL_VQ | F_CTRL_RX | NET_OFFLOAD_FEATURES,
		.nqueues = 3,
		.config_size = 12,
		.config_read = config_read,
		.notify = notify,
		.reset = reset,
	};

	memcpy(net->mac, mac, ETH_ALEN);
	spin_lock(&sw_lock);
	net->port = netswitch_add_port(&sw, mac, uplink, net);
	spin_unlock(&sw_lock);
	if (net->port < 0)
		return -1;
	return virtio_mmio_create(&net->vdev, vm, base, irq, &ops, net);
}

int virtio_net_set_flood_limit(struct virtio_net *net, uint32_t rate, uint32_t burst)
{
	struct virtio_dev *d = &net->vdev;
	int r;

	spin_lock(&d->lock);
	r = netswitch_set_flood_limit(&sw, (unsigned)net->port, rate, burst, timer_freq());
	spin_unlock(&d->lock);
	return r;
}

void virtio_net_print_stats(void)
{
	for (unsigned i = 0; i < sw.nports; i++) {
		const struct net_port *p = &sw.ports[i];
		const struct virtio_net *n = p->dev;
		printk("%s/net port %u%s: tx %lu frames %lu B, rx %lu frames %lu B, drops: "
		       "no-buffer %lu bad %lu no-route %lu storm %lu\n",
		       n->vdev.vm->name, i, p->uplink ? " (uplink)" : "",
		       (unsigned long)p->stats.tx_frames, (unsigned long)p->stats.tx_bytes,
		       (unsigned long)p->stats.rx_frames, (unsigned long)p->stats.rx_bytes,
		       (unsigned long)p->stats.drop_no_buffer, (unsigned long)p->stats.drop_bad,
		       (unsigned long)p->stats.drop_no_route, (unsigned long)p->stats.drop_storm);
	}
}
