/* virtio-net device and the switch's data path.
 *
 * TX runs on the sending vCPU's CPU: a chain is taken from the sender's TX
 * queue under the sender's lock, then, with no lock of the sender held, its
 * frame is copied into one RX chain of every destination port under that
 * port's lock, so two VMs sending to each other cannot deadlock.
 *
 * Storm control: a frame the switch would flood (netswitch_floods) first
 * takes a token of the sender's bucket (netswitch_flood_take), under the
 * sender's device lock: the VM's vCPUs may run handle_tx at once (notify
 * runs without the lock), and the bucket must see one update at a time.
 * The lock is dropped before any delivery, as above. */
#include "net/virtio_net.h"

#include "net/net_ctrl.h"

#include "arch/arm64/arch.h"
#include "lib/lib.h"
#include "core/print.h"
#include "core/vm.h"
#include "core/vm_config.h"

#define Q_RX 0
#define Q_TX 1
#define Q_CTRL 2
#define F_MTU (1ULL << 3)
#define F_MAC (1ULL << 5)
#define F_MRG_RXBUF (1ULL << 15)
#define F_STATUS (1ULL << 16)
#define F_CTRL_VQ (1ULL << 17)
#define F_CTRL_RX (1ULL << 18)
#define HDR_LEN 12 /* struct virtio_net_hdr_v1 */
#define ETH_HLEN 14
#define MTU 1500
#define MAX_FRAME (MTU + ETH_HLEN + 4) /* room for a VLAN tag */

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

/* Copies the frame (read from the sender once) into the receiver's RX
 * chain after a fresh header. Returns bytes written, 0 if it does not fit. */
static uint32_t copy_frame(const uint8_t *frame, uint32_t frame_len, const struct virtq_chain *rx)
{
	uint8_t hdr[HDR_LEN] = {0};
	uint32_t total = HDR_LEN + frame_len, done = 0;

	if (rx->writable_len < total || rx->nreadable)
		return 0;
	hdr[10] = 1; /* num_buffers */
	for (unsigned i = 0; i < rx->nbufs && done < total; i++) {
		uint8_t *dst = rx->bufs[i].hva;
		uint32_t room = rx->bufs[i].len;
		if (done < HDR_LEN) {
			uint32_t n = MIN(room, HDR_LEN - done);
			memcpy(dst, hdr + done, n);
			done += n;
			dst += n;
			room -= n;
		}
		uint32_t n = MIN(room, total - done);
		if (n)
			memcpy(dst, frame + (done - HDR_LEN), n);
		done += n;
	}
	return total;
}

static void deliver(struct virtio_net *dst, const uint8_t *frame, uint32_t frame_len)
{
	struct virtio_dev *d = &dst->vdev;
	struct net_port_stats *st = &sw.ports[dst->port].stats;
	struct virtq_chain rx;
	uint32_t written = 0;
	int r = VQ_EMPTY;

	spin_lock(&d->lock);
	if ((d->status & VIRTIO_STATUS_DRIVER_OK) && d->vq[Q_RX].ready)
		r = virtq_pop(&d->vq[Q_RX], d->mem, &rx);
	if (r == VQ_OK) {
		written = copy_frame(frame, frame_len, &rx);
		/* virtq_pop filled rx (VQ_OK); cppcheck does not follow it. */
		// cppcheck-suppress uninitStructMember
		virtq_push(&d->vq[Q_RX], rx.head, written);
	} else if (r < 0) {
		virtio_device_error_locked(d, virtq_strerror(r));
	}
	spin_unlock(&d->lock);
	if (r != VQ_OK || !written) {
		st->drop_no_buffer++;
		if (r == VQ_OK)
			virtio_notify_used(d, Q_RX);
		return;
	}
	st->rx_frames++;
	st->rx_bytes += frame_len;
	virtio_notify_used(d, Q_RX);
}

/* The frame is read from the sender's memory once: its other vCPUs may
 * rewrite it meanwhile, and every receiver must get what was routed. */
static void send_frame(struct virtio_net *src, const struct virtq_chain *tx)
{
	struct net_port_stats *st = &sw.ports[src->port].stats;
	uint8_t frame[MAX_FRAME];

	if (tx->writable_len || tx->readable_len < HDR_LEN + ETH_HLEN ||
	    tx->readable_len > HDR_LEN + MAX_FRAME) {
		st->drop_bad++;
		return;
	}
	uint32_t frame_len = (uint32_t)tx->readable_len - HDR_LEN;
	virtq_chain_read(tx, HDR_LEN, frame, frame_len);
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
			return;
		}
	}
	for (unsigned p = 0; p < sw.nports; p++)
		if (ports & (1u << p))
			deliver(sw.ports[p].dev, frame, frame_len);
}

static void handle_tx(struct virtio_net *net)
{
	struct virtio_dev *d = &net->vdev;
	struct virtq_chain tx;
	int r = VQ_EMPTY;

	for (unsigned n = 0; n < VIRTIO_CHAINS_PER_NOTIFY; n++) {
		r = virtio_queue_pop(d, Q_TX, &tx);
		if (r != VQ_OK)
			break;
		send_frame(net, &tx);
		virtio_queue_push(d, Q_TX, &tx, 0);
	}
	if (r < 0)
		return;
	if (r == VQ_OK)
		virtio_queue_budget_spent(d, Q_TX);
	virtio_notify_used(d, Q_TX);
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
	/* Q_RX: new buffers; frames wait in no queue, so nothing to do */
}

int virtio_net_create(struct virtio_net *net, struct vm *vm, ipa_t base, uint32_t irq,
		      const uint8_t mac[ETH_ALEN], bool uplink)
{
	static const struct virtio_dev_ops ops = {
		.device_id = 1,
		.features = VIRTIO_F_VERSION_1 | VIRTIO_F_RING_EVENT_IDX |
			    VIRTIO_F_RING_INDIRECT_DESC | F_MTU | F_MAC | F_MRG_RXBUF | F_STATUS |
			    F_CTRL_VQ | F_CTRL_RX,
		.nqueues = 3,
		.config_size = 12,
		.config_read = config_read,
		.notify = notify,
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
