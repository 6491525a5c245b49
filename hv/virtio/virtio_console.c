/* virtio-console (see virtio_console.h): the transmit queue's bytes go to
 * the console multiplexer; input stays with the VM's PL011 (its shell's
 * terminal), so the receive queue only holds the driver's buffers. */
#include "virtio_console.h"

#include "console.h"
#include "vm.h"

#define Q_RX 0
#define Q_TX 1

static void handle_tx(struct virtio_console *con)
{
	struct virtio_dev *d = &con->vdev;
	struct virtq_chain c;

	int r;

	while ((r = virtio_queue_pop(d, Q_TX, &c)) == VQ_OK) {
		for (unsigned i = 0; i < c.nreadable; i++) {
			console_write((int)d->vm->id, (const char *)c.bufs[i].hva, c.bufs[i].len);
			con->bytes_out += c.bufs[i].len;
		}
		virtio_queue_push(d, Q_TX, c.head, 0);
	}
	if (r < 0)
		return;
	virtio_notify_used(d, Q_TX);
}

static void notify(struct virtio_dev *dev, unsigned q)
{
	if (q == Q_TX)
		handle_tx(dev->priv);
}

static uint32_t config_read(struct virtio_dev *dev, uint32_t off, unsigned len)
{
	(void)dev, (void)len;
	return off == 0 ? (80u | 25u << 16) : 0; /* cols, rows; no multiport */
}

int virtio_console_create(struct virtio_console *con, struct vm *vm, ipa_t base, uint32_t irq)
{
	static const struct virtio_dev_ops ops = {
		.device_id = 3,
		.features = VIRTIO_F_VERSION_1 | VIRTIO_F_RING_EVENT_IDX | VIRTIO_F_RING_INDIRECT_DESC,
		.nqueues = 2,
		.config_size = 12,
		.config_read = config_read,
		.notify = notify,
	};

	return virtio_mmio_create(&con->vdev, vm, base, irq, &ops, con);
}
