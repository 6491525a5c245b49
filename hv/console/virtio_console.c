/* virtio-console (see virtio_console.h): the transmit queue's bytes go to
 * the console multiplexer; typed input reaches the receive queue when the
 * VM's input is toggled to hvc0 (Ctrl-] c), else it stays with the PL011. */
#include "console/virtio_console.h"

#include "console/console.h"
#include "core/vm.h"

#define Q_RX 0
#define Q_TX 1

/* No honest hvc0 write is larger (Linux writes at most a page); the rest
 * of a larger chain is dropped and counted. */
#define TX_BYTES_PER_CHAIN 65536

static void write_chain(struct virtio_console *con, const struct virtq_chain *c)
{
	uint64_t left = TX_BYTES_PER_CHAIN;

	for (unsigned i = 0; i < c->nreadable; i++) {
		uint32_t n = (uint32_t)MIN((uint64_t)c->bufs[i].len, left);
		console_write(CONSOLE_HVC((int)con->vdev.vm->id), (const char *)c->bufs[i].hva, n);
		con->bytes_out += n;
		con->bytes_dropped += c->bufs[i].len - n;
		left -= n;
	}
}

static void handle_tx(struct virtio_console *con)
{
	struct virtio_dev *d = &con->vdev;
	struct virtq_chain c;
	int r = VQ_EMPTY;

	for (unsigned n = 0; n < VIRTIO_CHAINS_PER_NOTIFY; n++) {
		r = virtio_queue_pop(d, Q_TX, &c);
		if (r != VQ_OK)
			break;
		write_chain(con, &c);
		virtio_queue_push(d, Q_TX, &c, 0);
	}
	if (r < 0)
		return;
	if (r == VQ_OK)
		virtio_queue_budget_spent(d, Q_TX);
	virtio_notify_used(d, Q_TX);
}

/* One typed character into the driver's next receive buffer; without a
 * buffer it is dropped (a terminal with nobody reading). */
static void input(void *opaque, char ch)
{
	struct virtio_console *con = opaque;
	struct virtio_dev *d = &con->vdev;
	struct virtq_chain c;
	int r = VQ_EMPTY;

	/* take, fill and return the buffer in one hold of the lock: after a
	 * reset the buffer may be the guest's again */
	spin_lock(&d->lock);
	if ((d->status & VIRTIO_STATUS_DRIVER_OK) && d->vq[Q_RX].ready)
		r = virtq_pop(&d->vq[Q_RX], d->mem, &c);
	if (r < 0) {
		virtio_device_error_locked(d, virtq_strerror(r));
	} else if (r == VQ_OK && c.nbufs == c.nreadable) {
		virtio_device_error_locked(d, "receive buffer is not device-writable");
		r = VQ_EMPTY;
	} else if (r == VQ_OK) {
		c.bufs[c.nreadable].hva[0] = (uint8_t)ch;
		virtq_push(&d->vq[Q_RX], c.head, 1);
	}
	spin_unlock(&d->lock);
	if (r == VQ_OK)
		virtio_notify_used(d, Q_RX);
}

static void notify(struct virtio_dev *dev, unsigned q)
{
	if (q == Q_TX)
		handle_tx(dev->priv);
}

/* Config space as the guest sees it, little-endian: cols, rows (16 bits
 * each), max_nr_ports and emerg_wr (32 bits each, 0: no multiport, no
 * emergency write). Any offset and width reads these bytes, so a trapped
 * read returns what the read window holds. */
static uint32_t config_read(struct virtio_dev *dev, uint32_t off, unsigned len)
{
	static const uint8_t cfg[12] = {80, 0, 25, 0};
	uint32_t v = 0;

	(void)dev;
	for (unsigned i = 0; i < len && off + i < sizeof(cfg); i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

int virtio_console_create(struct virtio_console *con, struct vm *vm, ipa_t base, uint32_t irq)
{
	static const struct virtio_dev_ops ops = {
		.device_id = 3,
		.features =
			VIRTIO_F_VERSION_1 | VIRTIO_F_RING_EVENT_IDX | VIRTIO_F_RING_INDIRECT_DESC,
		.nqueues = 2,
		.config_size = 12,
		.config_read = config_read,
		.notify = notify,
	};

	console_attach_hvc((int)vm->id, input, con);
	return virtio_mmio_create(&con->vdev, vm, base, irq, &ops, con);
}
