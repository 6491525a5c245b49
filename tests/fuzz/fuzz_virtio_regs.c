/* libFuzzer harness of the virtio-mmio register file (virtio 1.1 §4.2.2)
 * against a model of what the specification says each register does. A
 * test device (1 to 4 queues, config space, every transport feature) sits
 * behind the real transport, over guard-paged guest memory; the guest
 * reads and writes any offset with any width and value, brings the device
 * up properly when the fuzzer says so, builds chains in its rings and
 * notifies. After every access the model is compared with what the guest
 * reads back:
 *  - identification registers are constant; DeviceFeatures shows the offer
 *    by DeviceFeaturesSel; QueueNumMax is 256 for a queue that exists;
 *  - queue registers read back what was written while the queue was not
 *    live, and are frozen while it is; QueueReady only for rings wholly in
 *    guest memory with a valid size, and only after FEATURES_OK;
 *  - FEATURES_OK sticks only for a subset of the offer with VERSION_1;
 *    DRIVER_FEATURES is frozen after it; a status write of 0 resets every
 *    register; DEVICE_NEEDS_RESET stays until then;
 *  - InterruptACK clears what it names; interrupts only on the device's
 *    line; the device is notified only for a live queue after DRIVER_OK;
 *  - registers take only aligned 32-bit accesses, the config space only
 *    accesses of 1, 2 or 4 bytes inside it, nothing beyond the window;
 *  - buffers handed to the device lie in guest memory, and the device
 *    writes nothing but used rings and device-writable buffers;
 *  - the read window (what the guest reads without trapping) holds what a
 *    trapped read returns, every register and config byte, zeros past
 *    config space. */
#include <stdio.h>
#include <string.h>

#include "lib/fuzz_stubs.h"
#include "virtio/virtio_mmio.h"
#include "core/vm.h"

#define BASE 0x0a000000UL
#define IRQ 60
#define DEVICE_ID 42
#define CONFIG_SIZE 12

enum reg {
	MAGIC = 0x000,
	VERSION = 0x004,
	DEV_ID = 0x008,
	VENDOR = 0x00c,
	DEV_FEATURES = 0x010,
	DEV_FEATURES_SEL = 0x014,
	DRV_FEATURES = 0x020,
	DRV_FEATURES_SEL = 0x024,
	QUEUE_SEL = 0x030,
	QUEUE_NUM_MAX = 0x034,
	QUEUE_NUM = 0x038,
	QUEUE_READY = 0x044,
	QUEUE_NOTIFY = 0x050,
	INT_STATUS = 0x060,
	INT_ACK = 0x064,
	STATUS = 0x070,
	Q_DESC = 0x080,
	Q_DRIVER = 0x090,
	Q_DEVICE = 0x0a0,
	Q_RESET = 0x0c0,
	CONFIG_GEN = 0x0fc,
	CONFIG = 0x100,
	WINDOW = 0x200,
};

static const uint64_t offer = VIRTIO_F_VERSION_1 | VIRTIO_F_RING_EVENT_IDX |
			      VIRTIO_F_RING_INDIRECT_DESC | VIRTIO_F_RING_RESET | (1ULL << 0) |
			      (1ULL << 5);

/* ---------------------------------------------------------------- the test device */

static struct fuzz_guest guest;
static struct virtio_dev dev;
static uint8_t config[CONFIG_SIZE];
static int notified = -1; /* queue of the last notify callback */
static uint32_t window[WINDOW / 4];
static unsigned resets;

static uint32_t config_read(struct virtio_dev *d, uint32_t off, unsigned len)
{
	uint32_t v = 0;

	(void)d;
	FUZZ_ASSERT((len == 1 || len == 2 || len == 4) && off % len == 0 &&
			    off + len <= CONFIG_SIZE,
		    "config read of %u bytes at %u", len, off);
	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)config[off + i] << (8 * i);
	return v;
}

static void config_write(struct virtio_dev *d, uint32_t off, unsigned len, uint32_t val)
{
	(void)d;
	FUZZ_ASSERT((len == 1 || len == 2 || len == 4) && off % len == 0 &&
			    off + len <= CONFIG_SIZE,
		    "config write of %u bytes at %u", len, off);
	for (unsigned i = 0; i < len; i++)
		config[off + i] = (uint8_t)(val >> (8 * i));
}

/* Takes a few chains, fills their writable buffers, returns them. */
static void notify(struct virtio_dev *d, unsigned q)
{
	struct virtq_chain c;

	FUZZ_ASSERT(q < d->ops->nqueues, "notify of queue %u", q);
	notified = (int)q;
	for (unsigned n = 0; n < 8 && virtio_queue_pop(d, q, &c) == VQ_OK; n++) {
		uint32_t written = 0;
		for (unsigned b = 0; b < c.nbufs; b++) {
			FUZZ_ASSERT(fuzz_guest_owns(&guest, c.bufs[b].hva, c.bufs[b].len),
				    "buffer %u of a chain outside guest memory", b);
			if (c.bufs[b].device_writable) {
				memset(c.bufs[b].hva, 0xa5, c.bufs[b].len);
				written += c.bufs[b].len;
			}
		}
		virtio_queue_push(d, q, &c, written);
	}
	virtio_notify_used(d, q);
}

static void reset(struct virtio_dev *d)
{
	(void)d;
	resets++;
}

#define OPS(n)                                                                  \
	{                                                                       \
		.device_id = DEVICE_ID, .features = offer, .nqueues = (n),      \
		.config_size = CONFIG_SIZE, .config_read = config_read,         \
		.config_write = config_write, .notify = notify, .reset = reset, \
	}
static const struct virtio_dev_ops ops[4] = {OPS(1), OPS(2), OPS(3), OPS(4)};

/* ---------------------------------------------------------------- the model */

struct mqueue {
	uint32_t num;
	uint64_t desc, driver, device;
	bool ready;
};

static struct model {
	unsigned nq;
	uint32_t status;
	bool needs_reset;
	uint32_t dev_sel, drv_sel, queue_sel;
	uint64_t drv_features;
	struct mqueue q[VIRTIO_MAX_QUEUES];
	uint64_t errors; /* dev.errors when the model last looked */
} m;

static void model_reset(void)
{
	unsigned nq = m.nq;

	m = (struct model){.nq = nq, .errors = dev.errors};
}

/* The device met a guest error: NEEDS_RESET, every queue stopped. */
static void model_sync_errors(void)
{
	if (dev.errors == m.errors)
		return;
	m.errors = dev.errors;
	m.needs_reset = true;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		m.q[q].ready = false;
}

static struct mqueue *model_queue(void)
{
	return m.queue_sel < m.nq ? &m.q[m.queue_sel] : NULL;
}

/* The rings the driver gave lie in guest memory, sized and aligned. */
static bool rings_ok(const struct mqueue *q)
{
	uint64_t n = q->num;

	return n && n <= VIRTQ_MAX_SIZE && !(n & (n - 1)) && !(q->desc & 15) && !(q->driver & 1) &&
	       !(q->device & 3) && fuzz_guest_contains(&guest, q->desc, 16 * n) &&
	       fuzz_guest_contains(&guest, q->driver, 6 + 2 * n) &&
	       fuzz_guest_contains(&guest, q->device, 6 + 8 * n);
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	*v = high ? (*v & 0xffffffffULL) | ((uint64_t)val << 32) : (*v & ~0xffffffffULL) | val;
}

static bool features_ok(void)
{
	return !(m.drv_features & ~offer) && (m.drv_features & VIRTIO_F_VERSION_1);
}

/* What a write does, by the specification; returns the queue the device
 * must be notified of, or -1. */
static int model_write(uint32_t off, uint32_t v)
{
	struct mqueue *q = model_queue();

	switch (off) {
	case DEV_FEATURES_SEL:
		m.dev_sel = v;
		return -1;
	case DRV_FEATURES_SEL:
		m.drv_sel = v;
		return -1;
	case DRV_FEATURES:
		if (m.drv_sel <= 1 && !(m.status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&m.drv_features, m.drv_sel, v);
		return -1;
	case QUEUE_SEL:
		m.queue_sel = v;
		return -1;
	case QUEUE_NOTIFY:
		return v < m.nq && m.q[v].ready && (m.status & VIRTIO_STATUS_DRIVER_OK) ? (int)v
											: -1;
	case STATUS:
		if (!v) {
			model_reset();
			return -1;
		}
		if ((v & VIRTIO_STATUS_FEATURES_OK) && !(m.status & VIRTIO_STATUS_FEATURES_OK) &&
		    !features_ok())
			v &= ~VIRTIO_STATUS_FEATURES_OK;
		/* a driver that sets NEEDS_RESET itself keeps it until a reset:
		 * its own business, the device treats it as its own flag */
		m.needs_reset |= (v & VIRTIO_STATUS_NEEDS_RESET) != 0;
		m.status = v & ~VIRTIO_STATUS_NEEDS_RESET;
		return -1;
	}
	if (!q || (q->ready && off != QUEUE_READY && off != Q_RESET))
		return -1;
	switch (off) {
	case QUEUE_NUM:
		q->num = v <= VIRTQ_MAX_SIZE ? v : 0;
		break;
	case QUEUE_READY:
		if (!v) {
			q->ready = false;
		} else if (!(m.status & VIRTIO_STATUS_FEATURES_OK) || !rings_ok(q)) {
			m.errors++; /* the device must refuse: a guest error */
			m.needs_reset = true;
			for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
				m.q[i].ready = false;
		} else {
			q->ready = true;
		}
		break;
	case Q_DESC:
	case Q_DESC + 4:
		set_half(&q->desc, off & 4, v);
		break;
	case Q_DRIVER:
	case Q_DRIVER + 4:
		set_half(&q->driver, off & 4, v);
		break;
	case Q_DEVICE:
	case Q_DEVICE + 4:
		set_half(&q->device, off & 4, v);
		break;
	case Q_RESET:
		if (v == 1 && (m.drv_features & VIRTIO_F_RING_RESET))
			*q = (struct mqueue){0};
		break;
	}
	return -1;
}

/* What a read must give; false for registers whose value the model leaves
 * open (write-only ones, the interrupt status). */
static bool model_read(uint32_t off, uint32_t *v)
{
	const struct mqueue *q = model_queue();
	uint64_t vq_reg = 0;

	switch (off) {
	case MAGIC:
		*v = 0x74726976;
		return true;
	case VERSION:
		*v = 2;
		return true;
	case DEV_ID:
		*v = DEVICE_ID;
		return true;
	case VENDOR:
		*v = 0x48535953;
		return true;
	case DEV_FEATURES:
		*v = m.dev_sel > 1 ? 0 : (uint32_t)(offer >> (32 * m.dev_sel));
		return true;
	case STATUS:
		*v = m.status | (m.needs_reset ? VIRTIO_STATUS_NEEDS_RESET : 0);
		return true;
	case CONFIG_GEN:
	case Q_RESET:
		*v = 0;
		return true;
	case QUEUE_NUM_MAX:
		*v = q ? VIRTQ_MAX_SIZE : 0;
		return true;
	case QUEUE_NUM:
		vq_reg = q ? q->num : 0;
		break;
	case QUEUE_READY:
		vq_reg = q ? q->ready : 0;
		break;
	case Q_DESC:
	case Q_DESC + 4:
		vq_reg = q ? q->desc >> (off & 4 ? 32 : 0) : 0;
		break;
	case Q_DRIVER:
	case Q_DRIVER + 4:
		vq_reg = q ? q->driver >> (off & 4 ? 32 : 0) : 0;
		break;
	case Q_DEVICE:
	case Q_DEVICE + 4:
		vq_reg = q ? q->device >> (off & 4 ? 32 : 0) : 0;
		break;
	default:
		return false;
	}
	*v = (uint32_t)vq_reg;
	return true;
}

/* ---------------------------------------------------------------- the guest */

static bool trace;
#define TRACE(...)                                    \
	do {                                          \
		if (trace)                            \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

static bool access(uint64_t off, unsigned width, bool write, uint64_t *val)
{
	struct mmio_access acc = {.addr = BASE + off, .width = width, .write = write};

	if (write && width < 8)
		*val &= (1ULL << (8 * width)) - 1; /* as the trap path passes a store */
	acc.value = write ? *val : 0;
	bool ok = vms[0].mmio[0].handler(&vms[0].vcpus[0], &acc, vms[0].mmio[0].dev);
	if (!write)
		*val = acc.value;
	return ok;
}

static void check_queue_views(void);
static void check_read_window(void);

/* No lost interrupt: used entries the driver asked to hear about (no
 * NO_INTERRUPT flag, or used_event crossed with EVENT_IDX) come with one. */
FUZZ_NOCOV static void check_used_interrupt(const struct virtq *was, const struct virtq *vq)
{
	if (!was->ready || !vq->ready || vq->used_idx == was->used_idx ||
	    vq->avail_ipa != was->avail_ipa || vq->num != was->num)
		return;
	uint64_t avail = was->avail_ipa - FUZZ_GUEST_IPA;
	uint16_t flags, event;
	memcpy(&flags, fuzz_guest_byte(&guest, avail), 2);
	memcpy(&event, fuzz_guest_byte(&guest, avail + 4 + 2ULL * was->num), 2);
	uint16_t now = vq->used_idx;
	bool want = was->event_idx
			    ? (uint16_t)(now - event - 1) < (uint16_t)(now - was->signalled_used)
			    : !(flags & 1);
	FUZZ_ASSERT(!want || (fuzz_nirqs && (dev.isr & VIRTIO_INT_USED)),
		    "used idx %u -> %u without the interrupt the driver asked for", was->used_idx,
		    now);
}

/* One register access, checked against the model. */
static void reg_access(uint64_t off, unsigned width, bool write, uint64_t val)
{
	uint32_t isr_before = dev.isr;
	bool reg = off < CONFIG && width == 4 && !(off & 3);
	int expect_notify = -1;

	notified = -1;
	fuzz_irqs_reset();
	fuzz_guest_snapshot(&guest);
	if (write && reg)
		expect_notify = model_write((uint32_t)off, (uint32_t)val);
	struct virtq before = expect_notify >= 0 ? dev.vq[expect_notify] : (struct virtq){0};
	uint64_t got = val;
	bool ok = access(off, width, write, &got);
	TRACE("%s 0x%llx/%u 0x%llx -> %d 0x%llx\n", write ? "write" : "read",
	      (unsigned long long)off, width, (unsigned long long)val, ok, (unsigned long long)got);
	if (off >= WINDOW)
		FUZZ_ASSERT(!ok, "access at 0x%llx beyond the window accepted",
			    (unsigned long long)off);
	else if (off >= CONFIG)
		FUZZ_ASSERT(ok == ((width == 1 || width == 2 || width == 4) &&
				   !(off & (width - 1)) && off - CONFIG + width <= CONFIG_SIZE),
			    "config access of %u bytes at 0x%llx: %d", width,
			    (unsigned long long)off, ok);
	else
		FUZZ_ASSERT(ok == reg, "register access of %u bytes at 0x%llx: %d", width,
			    (unsigned long long)off, ok);
	FUZZ_ASSERT(notified == expect_notify, "notify of %d, the model says %d", notified,
		    expect_notify);
	/* a notify's (or a ready's) guest errors, as the device saw them */
	if (dev.errors > m.errors && notified >= 0)
		model_sync_errors();
	FUZZ_ASSERT(dev.errors == m.errors, "the device found %llu guest errors, the model %llu",
		    (unsigned long long)dev.errors, (unsigned long long)m.errors);
	if (!write && reg) {
		uint32_t want;
		if (model_read((uint32_t)off, &want))
			FUZZ_ASSERT((uint32_t)got == want, "register 0x%llx reads 0x%x, not 0x%x",
				    (unsigned long long)off, (uint32_t)got, want);
	}
	if (write && reg && off == INT_ACK)
		FUZZ_ASSERT(!(dev.isr & (uint32_t)val) || fuzz_nirqs,
			    "InterruptStatus 0x%x after acknowledging 0x%x (was 0x%x)", dev.isr,
			    (uint32_t)val, isr_before);
	if (write && reg && off == STATUS && !val)
		FUZZ_ASSERT(dev.isr == 0, "InterruptStatus 0x%x after a reset", dev.isr);
	if (expect_notify >= 0)
		check_used_interrupt(&before, &dev.vq[expect_notify]);
	for (unsigned i = 0; i < fuzz_nirqs && i < ARRAY_SIZE(fuzz_irqs); i++)
		FUZZ_ASSERT(fuzz_irqs[i].vm == &vms[0] && !fuzz_irqs[i].vcpu &&
				    fuzz_irqs[i].intid == IRQ,
			    "interrupt %u injected", fuzz_irqs[i].intid);
	check_queue_views();
	check_read_window();
}

FUZZ_NOCOV static void check_read_window(void)
{
	const uint8_t *bytes = (const uint8_t *)window;

	for (uint64_t off = 0; off < CONFIG; off += 4) {
		uint64_t v = 0;
		FUZZ_ASSERT(access(off, 4, false, &v), "register 0x%llx refused",
			    (unsigned long long)off);
		FUZZ_ASSERT(window[off / 4] == (uint32_t)v,
			    "read window at 0x%llx: 0x%x, a trapped read 0x%x",
			    (unsigned long long)off, window[off / 4], (uint32_t)v);
	}
	for (uint64_t off = CONFIG; off < WINDOW; off++) {
		uint64_t v = 0;
		if (off - CONFIG >= CONFIG_SIZE || !access(off, 1, false, &v))
			v = 0;
		FUZZ_ASSERT(bytes[off] == v, "read window at config 0x%llx: 0x%x, not 0x%x",
			    (unsigned long long)off, bytes[off], (unsigned)v);
	}
}

static void check_queue_views(void)
{
	struct fuzz_queue_view views[VIRTIO_MAX_QUEUES];

	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		const struct virtq *vq = &dev.vq[q];
		FUZZ_ASSERT(!vq->ready || (q < m.nq && m.q[q].ready),
			    "queue %u is live, the model says not", q);
		FUZZ_ASSERT(!vq->ready || rings_ok(&m.q[q]), "queue %u live with bad rings", q);
		views[q] = (struct fuzz_queue_view){vq->num, vq->desc_ipa, vq->used_ipa};
	}
	fuzz_check_writes(&guest, views, VIRTIO_MAX_QUEUES, "virtio device");
	FUZZ_ASSERT(!dev.lock.locked, "device lock left held");
}

static void w32(uint32_t off, uint32_t v)
{
	reg_access(off, 4, true, v);
}

/* The normal bring-up, with rings at places the fuzzer picks. */
static void bring_up(struct fuzz_in *in)
{
	uint64_t feat = (offer & fin_u64(in)) | VIRTIO_F_VERSION_1;

	w32(STATUS, 0);
	w32(STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	w32(STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	w32(DRV_FEATURES_SEL, 0);
	w32(DRV_FEATURES, (uint32_t)feat);
	w32(DRV_FEATURES_SEL, 1);
	w32(DRV_FEATURES, (uint32_t)(feat >> 32));
	w32(STATUS, 0xb);
	for (unsigned q = 0; q < m.nq; q++) {
		uint32_t num = 1u << (fin_u8(in) % 9);
		uint64_t base = FUZZ_GUEST_IPA + (fin_u16(in) % FUZZ_GUEST_SIZE & ~15UL);
		w32(QUEUE_SEL, q);
		w32(QUEUE_NUM, num);
		w32(Q_DESC, (uint32_t)base);
		w32(Q_DESC + 4, (uint32_t)(base >> 32));
		w32(Q_DRIVER, (uint32_t)(base + 16 * num));
		w32(Q_DRIVER + 4, 0);
		w32(Q_DEVICE, (uint32_t)((base + 16 * num + 6 + 2 * num + 3) & ~3ULL));
		w32(Q_DEVICE + 4, 0);
		w32(QUEUE_READY, 1);
	}
	w32(STATUS, 0xf);
}

/* A register offset near a known one, or anywhere (also past the window). */
static uint64_t pick_offset(struct fuzz_in *in)
{
	static const uint32_t regs[] = {
		MAGIC,        VERSION,          DEV_ID,       VENDOR,
		DEV_FEATURES, DEV_FEATURES_SEL, DRV_FEATURES, DRV_FEATURES_SEL,
		QUEUE_SEL,    QUEUE_NUM_MAX,    QUEUE_NUM,    QUEUE_READY,
		QUEUE_NOTIFY, INT_STATUS,       INT_ACK,      STATUS,
		Q_DESC,       Q_DESC + 4,       Q_DRIVER,     Q_DRIVER + 4,
		Q_DEVICE,     Q_DEVICE + 4,     Q_RESET,      CONFIG_GEN,
		CONFIG,       CONFIG + 4,       CONFIG + 8,
	};
	uint8_t sel = fin_u8(in);

	if (sel & 0x80)
		return sel & 0x40 ? fin_u64(in) & 0xffffffffffULL : fin_u16(in) % 0x240;
	return regs[sel % ARRAY_SIZE(regs)] + (sel & 0x40 ? fin_u8(in) % 8 : 0);
}

/* The guest offers a chain of 1-3 descriptors on a queue it set up (the
 * buffers in guest memory, or anywhere when the fuzzer says so). */
static void offer_chain(struct fuzz_in *in)
{
	const struct mqueue *q = &m.q[fin_u8(in) % m.nq];
	uint8_t mode = fin_u8(in);
	unsigned n = 1 + mode % 3;

	if (!q->num || !fuzz_guest_contains(&guest, q->desc, 16ULL * q->num) ||
	    !fuzz_guest_contains(&guest, q->driver, 6 + 2ULL * q->num))
		return;
	uint16_t head = fin_u8(in) % q->num;
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc d = {
			.addr = mode & 0x80 ? fin_u64(in)
					    : FUZZ_GUEST_IPA + fin_u16(in) % FUZZ_GUEST_SIZE,
			.len = mode & 0x40 ? fin_u32(in) : fin_u8(in) + 1u,
			.flags = (uint16_t)((fin_u8(in) & 6) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = (uint16_t)((head + i + 1) % q->num),
		};
		fuzz_guest_write(&guest, q->desc - FUZZ_GUEST_IPA + 16ULL * ((head + i) % q->num),
				 &d, sizeof(d));
	}
	uint64_t avail = q->driver - FUZZ_GUEST_IPA;
	uint16_t idx;
	memcpy(&idx, fuzz_guest_byte(&guest, avail + 2), 2);
	fuzz_guest_write(&guest, avail + 4 + 2ULL * (idx % q->num), &head, 2);
	idx++;
	fuzz_guest_write(&guest, avail + 2, &idx, 2);
}

static void step(struct fuzz_in *in)
{
	static const unsigned widths[] = {4, 4, 4, 4, 1, 2, 8, 4}; /* what a trap gives */
	uint8_t op = fin_u8(in);

	switch (op % 9) {
	case 0:
	case 1:
	case 2: { /* any access */
		uint64_t off = pick_offset(in);
		unsigned width = widths[fin_u8(in) % 8];
		reg_access(off, width, op % 9 != 2, fin_u32(in));
		break;
	}
	case 3: /* a notify of any value */
		w32(QUEUE_NOTIFY, fin_u8(in) % 6);
		break;
	case 4: { /* the guest writes its RAM: rings, descriptors, buffers */
		uint8_t buf[64];
		uint64_t off = fin_u16(in) % FUZZ_GUEST_SIZE;
		fuzz_guest_write(&guest, off, buf, fin_bytes(in, buf, 1 + fin_u8(in) % 64));
		break;
	}
	case 5:
		bring_up(in);
		break;
	case 6: /* a raw 64-bit value into a queue address pair */
		w32(QUEUE_SEL, fin_u8(in) % 5);
		w32(Q_DESC + 0x10 * (fin_u8(in) % 3), fin_u32(in));
		break;
	case 7: /* acknowledge what is pending */
		w32(INT_ACK, dev.isr & fin_u8(in));
		break;
	case 8:
		offer_chain(in);
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_add_corpus(argc, argv, "fuzz_virtio_regs", NULL);
	trace = getenv("FUZZ_TRACE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct vm *vm = &vms[0];

	fuzz_guest_init(&guest);
	memset(vm, 0, sizeof(*vm));
	memset(&dev, 0, sizeof(dev));
	memset(config, 0, sizeof(config));
	vm->name = "fuzz";
	vm->ncpus = 1;
	vm->vcpus[0].vm = vm;
	vm->regions[0] = guest.regions[0];
	vm->regions[1] = guest.regions[1];
	vm->mem = (struct guest_mem){vm->regions, 2};
	m = (struct model){.nq = 1 + fin_u8(&in) % 4};
	FUZZ_ASSERT(!virtio_mmio_create(&dev, vm, BASE, IRQ, &ops[m.nq - 1], NULL), "create");
	memset(window, 0, sizeof(window));
	virtio_mmio_attach_read_window(&dev, window);
	m.errors = dev.errors;
	for (unsigned n = 0; in.n && n < 300; n++)
		step(&in);
	return 0;
}
