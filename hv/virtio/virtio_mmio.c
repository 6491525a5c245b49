/* virtio-mmio transport (see virtio_mmio.h). Register accesses are
 * serialised per device by its lock; queue work runs in the device model. */
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_mmio_regs.h"

#include "arch/arm64/cache.h"
#include "core/percpu.h"
#include "core/print.h"
#include "core/vgic.h"
#include "core/vm.h"

#define VENDOR_SYSHYPER 0x48535953 /* "SYSH" */

static struct virtq *selected_queue(struct virtio_dev *dev)
{
	return dev->queue_sel < dev->ops->nqueues ? &dev->vq[dev->queue_sel] : NULL;
}

/* ---------------------------------------------------------------- read window
 * What a read returns, in the device's read window (if it has one): every
 * function that changes a value a read returns calls one of these under
 * dev->lock, before the access that changed it returns to the guest and
 * before an interrupt announces it. One 32-bit store per word: a guest
 * reading on another vCPU meanwhile sees each word old or new. */
static void publish_window(struct virtio_dev *dev);

static void window_clean(struct virtio_dev *dev, uint32_t off, uint32_t len)
{
	/* the guest reads through a Device mapping, past the caches; the
	 * clean ends with a DSB: done before any interrupt or eret follows */
	dcache_clean_poc((void *)(uintptr_t)(dev->read_window + off / 4), len);
}

static void publish_isr(struct virtio_dev *dev)
{
	if (!dev->read_window)
		return;
	dev->read_window[VIRTIO_MMIO_INTERRUPT_STATUS / 4] = dev->isr;
	window_clean(dev, VIRTIO_MMIO_INTERRUPT_STATUS, 4);
}

/* Interrupt bookkeeping runs with dev->lock held, like every register
 * access: a reset (which zeroes the queues and the ISR under that lock) is
 * wholly before or after it, so no status update or interrupt is lost and
 * no ring is read after the reset cleared it. */
static void raise_irq_locked(struct virtio_dev *dev, uint32_t why)
{
	dev->isr |= why;
	publish_isr(dev); /* before the interrupt the driver reads it for */
	dev->irqs++;
	vgic_inject(dev->vm, NULL, dev->irq);
}

/* Changes whenever queue q is reset, alone or with the device, and
 * whenever it is enabled (after QueueReady 0 or a device error the driver
 * may have taken its memory back): the counts only grow. */
uint64_t virtio_queue_epoch_locked(const struct virtio_dev *dev, unsigned q)
{
	return dev->reset_count + dev->queue_resets[q] + dev->queue_enables[q];
}

void virtio_notify_used(struct virtio_dev *dev, unsigned q)
{
	if (q >= dev->ops->nqueues)
		return;
	spin_lock(&dev->lock);
	if (dev->vq[q].ready && virtq_needs_interrupt(&dev->vq[q]))
		raise_irq_locked(dev, VIRTIO_INT_USED);
	spin_unlock(&dev->lock);
}

void virtio_device_error_locked(struct virtio_dev *dev, const char *what)
{
	dev->errors++;
	vm_log(dev->vm, LOG_VIRTIO, "virtio device %u at 0x%lx: %s: device needs reset\n",
	       dev->ops->device_id, (unsigned long)dev->base, what);
	dev->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned q = 0; q < dev->ops->nqueues; q++)
		dev->vq[q].ready = false;
	publish_window(dev);
	raise_irq_locked(dev, VIRTIO_INT_CONFIG);
}

void virtio_device_error(struct virtio_dev *dev, const char *what)
{
	spin_lock(&dev->lock);
	virtio_device_error_locked(dev, what);
	spin_unlock(&dev->lock);
}

bool virtio_queue_has_new(struct virtio_dev *dev, unsigned q)
{
	bool more = false;

	if (q >= dev->ops->nqueues)
		return false;
	spin_lock(&dev->lock);
	if (dev->vq[q].ready)
		more = virtq_has_avail(&dev->vq[q]);
	spin_unlock(&dev->lock);
	return more;
}

int virtio_queue_pop(struct virtio_dev *dev, unsigned q, struct virtq_chain *chain)
{
	int r = VQ_EMPTY;

	if (q >= dev->ops->nqueues)
		return VQ_EMPTY;
	spin_lock(&dev->lock);
	if (dev->vq[q].ready)
		r = virtq_pop(&dev->vq[q], dev->mem, chain);
	chain->epoch = virtio_queue_epoch_locked(dev, q);
	if (r < 0) /* the queue this chain came from, not one set up since */
		virtio_device_error_locked(dev, virtq_strerror(r));
	spin_unlock(&dev->lock);
	return r;
}

void virtio_queue_push(struct virtio_dev *dev, unsigned q, const struct virtq_chain *chain,
		       uint32_t written)
{
	if (q >= dev->ops->nqueues)
		return;
	spin_lock(&dev->lock);
	if (dev->vq[q].ready && virtio_queue_epoch_locked(dev, q) == chain->epoch)
		virtq_push(&dev->vq[q], chain->head, written);
	spin_unlock(&dev->lock);
}

void virtio_queue_budget_spent(struct virtio_dev *dev, unsigned q)
{
	if (q >= dev->ops->nqueues)
		return;
	spin_lock(&dev->lock);
	if (dev->vq[q].ready)
		virtq_kick_on_next(&dev->vq[q]);
	spin_unlock(&dev->lock);
}

_Static_assert(VIRTIO_MAX_COPIES >= MAX_PCPUS, "one copy under way per CPU");

unsigned virtio_copy_begin(struct virtio_dev *dev, unsigned q, uint64_t epoch)
{
	unsigned copy = 0;

	if (q >= dev->ops->nqueues)
		return 0;
	spin_lock(&dev->lock);
	if (dev->vq[q].ready && virtio_queue_epoch_locked(dev, q) == epoch) {
		for (unsigned i = 0; i < VIRTIO_MAX_COPIES && !copy; i++)
			if (!dev->copy_at[i])
				copy = i + 1;
		/* release: a takeback that reads this number has seen the
		 * end of the copy this entry held before */
		if (copy)
			__atomic_store_n(&dev->copy_at[copy - 1], ++dev->copy_seq,
					 __ATOMIC_RELEASE);
	}
	spin_unlock(&dev->lock);
	return copy;
}

void virtio_copy_end_locked(struct virtio_dev *dev, unsigned copy)
{
	if (copy && copy <= VIRTIO_MAX_COPIES) /* release: after the copy's stores */
		__atomic_store_n(&dev->copy_at[copy - 1], 0, __ATOMIC_RELEASE);
}

/* After a takeback, outside dev->lock (the copier takes it to end): every
 * copy counted in up to `seq` (dev->copy_seq read with the takeback) ends
 * before the guest goes on. Copies counted in later are not waited for
 * (they checked the queue after the takeback), so the wait is bounded by
 * one request's data per CPU, whatever the guest's other vCPUs do. */
static void wait_for_copies(struct virtio_dev *dev, uint64_t seq)
{
	for (unsigned i = 0; i < VIRTIO_MAX_COPIES; i++)
		for (;;) {
			uint64_t at = __atomic_load_n(&dev->copy_at[i], __ATOMIC_ACQUIRE);
			if (!at || at > seq)
				break;
		}
}

static void device_reset(struct virtio_dev *dev)
{
	dev->takebacks++;
	dev->status = 0;
	dev->reset_count++;
	dev->driver_features = 0;
	dev->dev_features_sel = dev->drv_features_sel = dev->queue_sel = 0;
	dev->isr = 0;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		dev->vq[q] = (struct virtq){0};
	if (dev->ops->reset)
		dev->ops->reset(dev);
	publish_window(dev);
}

/* FEATURES_OK only for a subset of what we offer that includes VERSION_1
 * (this transport is modern only). */
static bool features_acceptable(const struct virtio_dev *dev)
{
	return !(dev->driver_features & ~dev->features) &&
	       (dev->driver_features & VIRTIO_F_VERSION_1);
}

static void write_status(struct virtio_dev *dev, uint32_t v)
{
	if (v == 0) {
		device_reset(dev);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(dev->status & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(dev))
		v &= ~VIRTIO_STATUS_FEATURES_OK;
	dev->status = v | (dev->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void queue_ready(struct virtio_dev *dev, struct virtq *vq, uint32_t v)
{
	if (!v) {
		vq->ready = false;
		return;
	}
	if (!(dev->status & VIRTIO_STATUS_FEATURES_OK)) {
		virtio_device_error_locked(dev, "queue enabled before FEATURES_OK");
		return;
	}
	vq->event_idx = dev->driver_features & VIRTIO_F_RING_EVENT_IDX;
	vq->indirect = dev->driver_features & VIRTIO_F_RING_INDIRECT_DESC;
	int err = virtq_enable(vq, dev->mem);
	if (err)
		virtio_device_error_locked(dev, virtq_strerror(err));
	else /* a new queue: chains taken before are not returned into it */
		dev->queue_enables[vq - dev->vq]++;
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	*v = high ? (*v & 0xffffffffULL) | ((uint64_t)val << 32) : (*v & ~0xffffffffULL) | val;
}

static void queue_reg_write(struct virtio_dev *dev, uint64_t off, uint32_t v)
{
	struct virtq *vq = selected_queue(dev);

	if (!vq)
		return;
	if (vq->ready && off != VIRTIO_MMIO_QUEUE_READY && off != VIRTIO_MMIO_QUEUE_RESET)
		return; /* the spec forbids changing a live queue: ignore */
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->num = (uint16_t)(v <= VIRTQ_MAX_SIZE ? v : 0);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		dev->takebacks++;
		queue_ready(dev, vq, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&vq->desc_ipa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		set_half(&vq->avail_ipa, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		set_half(&vq->used_ipa, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_RESET:
		if (v == 1 && (dev->driver_features & VIRTIO_F_RING_RESET)) {
			dev->takebacks++;
			*vq = (struct virtq){0};
			dev->queue_resets[dev->queue_sel]++; /* its chains are not returned */
		}
		break;
	}
}

static uint32_t queue_reg_read(struct virtio_dev *dev, uint64_t off)
{
	struct virtq *vq = selected_queue(dev);

	if (!vq)
		return 0;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return VIRTQ_MAX_SIZE;
	case VIRTIO_MMIO_QUEUE_NUM:
		return vq->num;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq->ready;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return (uint32_t)vq->desc_ipa;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return (uint32_t)(vq->desc_ipa >> 32);
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		return (uint32_t)vq->avail_ipa;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		return (uint32_t)(vq->avail_ipa >> 32);
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		return (uint32_t)vq->used_ipa;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return (uint32_t)(vq->used_ipa >> 32);
	default:
		return 0;
	}
}

static uint32_t reg_read(struct virtio_dev *dev, uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC:
		return VIRTIO_MMIO_MAGIC_VALUE;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VENDOR_SYSHYPER;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return dev->dev_features_sel > 1
			       ? 0
			       : (uint32_t)(dev->features >> (32 * dev->dev_features_sel));
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return dev->isr;
	case VIRTIO_MMIO_STATUS:
		return dev->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return dev->config_generation;
	case VIRTIO_MMIO_QUEUE_RESET:
		return 0;
	default:
		return queue_reg_read(dev, off);
	}
}

/* Returns the queue to notify, or -1. */
static int reg_write(struct virtio_dev *dev, uint64_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (dev->drv_features_sel <= 1 && !(dev->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&dev->driver_features, dev->drv_features_sel == 1, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v < dev->ops->nqueues && dev->vq[v].ready &&
		    (dev->status & VIRTIO_STATUS_DRIVER_OK))
			return (int)v;
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		dev->isr &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(dev, v);
		break;
	default:
		queue_reg_write(dev, off, v);
	}
	return -1;
}

/* Config space as the read window holds it: little-endian 32-bit words,
 * the word the space ends in read byte by byte, anything past its end 0
 * (where a trapped read is refused). */
static uint32_t config_word(struct virtio_dev *dev, uint32_t off)
{
	uint32_t size = dev->ops->config_size, v = 0;

	if (!dev->ops->config_read || off >= size)
		return 0;
	if (size - off >= 4)
		return dev->ops->config_read(dev, off, 4);
	for (uint32_t i = 0; i < size - off; i++)
		v |= (dev->ops->config_read(dev, off + i, 1) & 0xffu) << (8 * i);
	return v;
}

static void publish_window(struct virtio_dev *dev)
{
	if (!dev->read_window)
		return;
	for (uint32_t off = 0; off < VIRTIO_MMIO_CONFIG; off += 4)
		dev->read_window[off / 4] = reg_read(dev, off);
	for (uint32_t off = VIRTIO_MMIO_CONFIG; off < VIRTIO_MMIO_WINDOW; off += 4)
		dev->read_window[off / 4] = config_word(dev, off - VIRTIO_MMIO_CONFIG);
	window_clean(dev, 0, VIRTIO_MMIO_WINDOW);
}

/* After a guest's write took effect: a notify changes nothing a read
 * returns, an ACK only InterruptStatus (both per request: kept cheap). */
static void publish_after_write(struct virtio_dev *dev, uint64_t off)
{
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY)
		return;
	if (off == VIRTIO_MMIO_INTERRUPT_ACK)
		publish_isr(dev);
	else
		publish_window(dev);
}

static bool config_access(struct virtio_dev *dev, struct mmio_access *acc, uint32_t off)
{
	if (acc->width > 4 || off + acc->width > dev->ops->config_size || (off & (acc->width - 1)))
		return false;
	if (acc->write) {
		if (dev->ops->config_write)
			dev->ops->config_write(dev, off, acc->width, (uint32_t)acc->value);
	} else {
		acc->value =
			dev->ops->config_read ? dev->ops->config_read(dev, off, acc->width) : 0;
	}
	return true;
}

static bool virtio_mmio_access(struct vcpu *vcpu, struct mmio_access *acc, void *opaque)
{
	struct virtio_dev *dev = opaque;
	uint64_t off = acc->addr - dev->base;
	int notify = -1;
	bool ok = true;

	(void)vcpu;
	spin_lock(&dev->lock);
	uint32_t takebacks = dev->takebacks;
	if (off >= VIRTIO_MMIO_WINDOW) {
		ok = false; /* checked in 64 bits before config space narrows it */
	} else if (off >= VIRTIO_MMIO_CONFIG) {
		ok = config_access(dev, acc, (uint32_t)(off - VIRTIO_MMIO_CONFIG));
	} else if (acc->width != 4 || (off & 3)) {
		ok = false; /* registers are 32-bit only */
	} else if (acc->write) {
		notify = reg_write(dev, off, (uint32_t)acc->value);
	} else {
		acc->value = reg_read(dev, off);
	}
	if (ok && acc->write)
		publish_after_write(dev, off);
	if (notify >= 0)
		dev->notifies++;
	bool took_back = dev->takebacks != takebacks;
	uint64_t seq = dev->copy_seq;
	spin_unlock(&dev->lock);
	if (took_back)
		wait_for_copies(dev, seq);
	if (notify >= 0)
		dev->ops->notify(dev, (unsigned)notify);
	return ok;
}

void virtio_mmio_reset(struct virtio_dev *dev)
{
	spin_lock(&dev->lock);
	device_reset(dev);
	uint64_t seq = dev->copy_seq;
	spin_unlock(&dev->lock);
	wait_for_copies(dev, seq); /* then the VM's memory may be zeroed */
}

struct virtio_dev *virtio_mmio_region_dev(const struct mmio_region *r)
{
	return r->handler == virtio_mmio_access ? r->dev : NULL;
}

bool virtio_mmio_page_only_windows(const struct mmio_region *regions, unsigned n, ipa_t page)
{
	bool any = false;

	for (unsigned i = 0; i < n; i++) {
		const struct mmio_region *r = &regions[i];
		bool overlaps =
			r->base >= page ? r->base - page < PAGE_SIZE : page - r->base < r->size;
		if (!overlaps)
			continue;
		/* a window wholly inside, its words aligned */
		if (!virtio_mmio_region_dev(r) || r->base < page || r->size != VIRTIO_MMIO_WINDOW ||
		    r->base - page > PAGE_SIZE - r->size || (r->base & 3))
			return false;
		any = true;
	}
	return any;
}

void virtio_mmio_attach_read_window(struct virtio_dev *dev, void *window)
{
	spin_lock(&dev->lock);
	dev->read_window = window;
	publish_window(dev);
	spin_unlock(&dev->lock);
}

int virtio_mmio_create(struct virtio_dev *dev, struct vm *vm, ipa_t base, uint32_t irq,
		       const struct virtio_dev_ops *ops, void *priv)
{
	dev->vm = vm;
	dev->base = base;
	dev->irq = irq;
	dev->ops = ops;
	dev->features |= ops->features;
	dev->priv = priv;
	dev->mem = &vm->mem;
	device_reset(dev);
	return vm_register_mmio(vm, base, VIRTIO_MMIO_WINDOW, virtio_mmio_access, dev);
}
