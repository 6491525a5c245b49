/* The virtio-mmio transport against a guest-memory model: interrupt
 * bookkeeping and device errors are serialised with the guest's register
 * accesses (a reset zeroes the queues under the device lock), so a reset
 * in the middle neither loses a status update nor lets the bookkeeping
 * read a ring that is gone; hostile register values; the read window (what
 * the guest reads without trapping) equals what a trapped read returns
 * after every write and every change the device makes. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio/virtio_mmio.h"
#include "virtio/virtio_mmio_regs.h"
#include "core/vm.h"
#include "arch/arm64/cache.h"

/* ---- stubs of the rest of the hypervisor ---- */
static mmio_handler_fn handler;
static void *handler_dev;
static volatile unsigned injected, logged;
static uint32_t window[0x200 / 4]; /* the device's place in a read page */
static uint32_t isr_at_inject;     /* InterruptStatus there when injected */

/* the read window's cache clean: host memory is coherent */
void dcache_clean_poc(void *p, uint64_t len)
{
	(void)p, (void)len;
}

void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	(void)vm, (void)vcpu, (void)intid;
	isr_at_inject = window[0x060 / 4];
	__atomic_add_fetch(&injected, 1, __ATOMIC_SEQ_CST);
}
void vm_log(struct vm *vm, enum log_cause cause, const char *fmt, ...)
{
	(void)vm, (void)cause, (void)fmt;
	__atomic_add_fetch(&logged, 1, __ATOMIC_SEQ_CST);
}
int vm_register_mmio(struct vm *vm, ipa_t b, uint64_t s, mmio_handler_fn f, void *d)
{
	(void)vm, (void)b, (void)s;
	handler = f;
	handler_dev = d;
	return 0;
}

/* ---- a device with two queues over one page-aligned RAM region ---- */
#define BASE 0x0a000000ULL
#define RAM_IPA 0x40000000ULL
#define RAM_SIZE (64 * 1024)
#define QSIZE 8
#define DESC_IPA(q) (RAM_IPA + 0x1000 * (1 + 3 * (q)))
#define AVAIL_IPA(q) (DESC_IPA(q) + 0x1000)
#define USED_IPA(q) (DESC_IPA(q) + 0x2000)
#define DATA_IPA (RAM_IPA + 0x8000)

static struct vm vm;
static struct guest_region region;
static uint8_t *ram;
static struct virtio_dev dev;
static unsigned notified[VIRTIO_MAX_QUEUES];

static void notify(struct virtio_dev *d, unsigned q)
{
	(void)d;
	notified[q]++;
}

/* 10 bytes: the last word of config space is partly past its end */
#define CONFIG_SIZE 10

static uint32_t config_read(struct virtio_dev *d, uint32_t off, unsigned len)
{
	uint32_t v = 0;

	(void)d;
	for (unsigned i = 0; i < len; i++)
		v |= (0xa0u + off + i) << (8 * i);
	return v;
}

static const struct virtio_dev_ops ops = {
	.device_id = 42,
	.features = VIRTIO_F_VERSION_1 | VIRTIO_F_RING_EVENT_IDX | VIRTIO_F_RING_RESET,
	.nqueues = 2,
	.config_size = CONFIG_SIZE,
	.config_read = config_read,
	.notify = notify,
};

static void *hva(uint64_t ipa)
{
	return ram + (ipa - RAM_IPA);
}

static bool mmio(uint64_t off, unsigned width, bool write, uint64_t *value)
{
	struct mmio_access acc = {.addr = BASE + off, .width = width, .write = write};

	if (write)
		acc.value = *value;
	bool ok = handler(NULL, &acc, handler_dev);
	if (!write)
		*value = acc.value;
	return ok;
}

static uint32_t rd(uint64_t off)
{
	uint64_t x = 0;
	assert_true(mmio(off, 4, false, &x));
	return (uint32_t)x;
}

static bool checking = true; /* the stress test's resetter does not assert */

/* The read window holds exactly what trapped reads return: every register,
 * config space byte by byte, and zeros past config space (where a trapped
 * read is refused). */
static void check_window(void)
{
	const uint8_t *bytes = (const uint8_t *)window;

	for (uint64_t off = 0; off < 0x100; off += 4)
		if (window[off / 4] != rd(off))
			fail_msg("read window at 0x%03lx: 0x%08x, a trapped read 0x%08x",
				 (unsigned long)off, window[off / 4], rd(off));
	for (uint64_t off = 0x100; off < VIRTIO_MMIO_WINDOW; off++) {
		uint64_t x = 0;
		bool ok = mmio(off, 1, false, &x);
		assert_int_equal(ok, off < 0x100 + CONFIG_SIZE);
		assert_int_equal(bytes[off], ok ? x : 0);
	}
	for (uint64_t off = 0x100; off + 4 <= 0x100 + CONFIG_SIZE; off += 4)
		assert_int_equal(window[off / 4], rd(off));
}

/* A guest's write; the read window is checked after it. */
static void wr(uint64_t off, uint32_t v)
{
	uint64_t x = v;
	assert_true(mmio(off, 4, true, &x));
	if (checking)
		check_window();
}

static void setup_queue(unsigned q)
{
	wr(0x030, q); /* QueueSel */
	wr(0x038, QSIZE);
	wr(0x080, (uint32_t)DESC_IPA(q));
	wr(0x084, 0);
	wr(0x090, (uint32_t)AVAIL_IPA(q));
	wr(0x094, 0);
	wr(0x0a0, (uint32_t)USED_IPA(q));
	wr(0x0a4, 0);
	wr(0x044, 1); /* QueueReady */
	if (checking)
		assert_int_equal(rd(0x044), 1);
}

/* Driver initialisation as Linux does it; features: low word, high word. */
static void bring_up(uint32_t features_lo)
{
	wr(0x070, 0);
	wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(0x024, 0);
	wr(0x020, features_lo);
	wr(0x024, 1);
	wr(0x020, (uint32_t)((VIRTIO_F_VERSION_1 | VIRTIO_F_RING_RESET) >> 32));
	wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (checking)
		assert_true(rd(0x070) & VIRTIO_STATUS_FEATURES_OK);
	setup_queue(0);
	setup_queue(1);
	wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
			  VIRTIO_STATUS_DRIVER_OK);
}

/* The driver offers descriptor `i` of queue q (one 64-byte readable buffer). */
static void offer(unsigned q, uint16_t i)
{
	struct virtq_desc *d = hva(DESC_IPA(q));
	volatile uint16_t *avail = hva(AVAIL_IPA(q));

	d[i] = (struct virtq_desc){.addr = DATA_IPA + 64 * i, .len = 64};
	avail[2 + avail[1] % QSIZE] = i;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	avail[1]++;
}

static int setup(void **state)
{
	(void)state;
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	memset(&vm, 0, sizeof(vm));
	memset(&dev, 0, sizeof(dev));
	memset(notified, 0, sizeof(notified));
	region = (struct guest_region){.ipa = RAM_IPA, .size = RAM_SIZE, .hva = ram};
	vm.mem = (struct guest_mem){.regions = &region, .n = 1};
	vm.name = "gvm";
	assert_int_equal(virtio_mmio_create(&dev, &vm, BASE, 48, &ops, NULL), 0);
	memset(window, 0, sizeof(window));
	virtio_mmio_attach_read_window(&dev, window);
	check_window();
	injected = logged = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(ram, RAM_SIZE);
	return 0;
}

static void test_basic_round_trip(void **state)
{
	struct virtq_chain c;

	(void)state;
	bring_up(0);
	offer(0, 3);
	wr(0x050, 0); /* QueueNotify */
	assert_int_equal(notified[0], 1);
	assert_int_equal(virtio_queue_pop(&dev, 0, &c), VQ_OK);
	assert_int_equal(c.head, 3);
	virtio_queue_push(&dev, 0, &c, 0);
	virtio_notify_used(&dev, 0);
	assert_int_equal(injected, 1);
	assert_int_equal(rd(0x060), VIRTIO_INT_USED);
	assert_int_equal(window[0x060 / 4], VIRTIO_INT_USED); /* before the interrupt */
	check_window();
	wr(0x064, VIRTIO_INT_USED);
	assert_int_equal(rd(0x060), 0);
	volatile uint16_t *used = hva(USED_IPA(0));
	assert_int_equal(used[1], 1);
}

/* ---- a register access in progress on another CPU: we hold the lock ---- */
struct call {
	void (*fn)(struct call *);
	unsigned q;
	volatile bool done;
};

static void *run_call(void *arg)
{
	struct call *c = arg;
	c->fn(c);
	__atomic_store_n(&c->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void call_notify_used(struct call *c)
{
	virtio_notify_used(&dev, c->q);
}

static void call_device_error(struct call *c)
{
	(void)c;
	virtio_device_error(&dev, "test");
}

/* Starts `c` on another thread and gives it time to run to completion if
 * nothing stops it. Returns whether it completed. */
static bool start_and_wait(pthread_t *t, struct call *c)
{
	assert_int_equal(pthread_create(t, NULL, run_call, c), 0);
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	return __atomic_load_n(&c->done, __ATOMIC_SEQ_CST);
}

/* Finding 7: virtio_notify_used raced with a reset that zeroes the queue;
 * it read the avail ring through a pointer the reset had just cleared. Now
 * it waits for the register access, then sees a queue that is not ready and
 * touches no ring memory (the rings are unmapped here to prove it). */
static void test_notify_used_during_reset(void **state)
{
	struct virtq_chain c;
	pthread_t t;
	struct call call = {.fn = call_notify_used, .q = 0};

	(void)state;
	bring_up(0);
	offer(0, 1);
	assert_int_equal(virtio_queue_pop(&dev, 0, &c), VQ_OK);
	virtio_queue_push(&dev, 0, &c, 0);

	spin_lock(&dev.lock); /* a vCPU is in the middle of writing Status = 0 */
	bool completed = start_and_wait(&t, &call);
	/* what device_reset does, under the lock */
	dev.status = 0;
	dev.isr = 0;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		dev.vq[q] = (struct virtq){0};
	assert_int_equal(mprotect(ram, RAM_SIZE, PROT_NONE), 0);
	spin_unlock(&dev.lock);
	pthread_join(t, NULL);
	assert_int_equal(mprotect(ram, RAM_SIZE, PROT_READ | PROT_WRITE), 0);

	assert_false(completed); /* it waited for the register access */
	assert_int_equal(injected, 0);
	assert_int_equal(dev.isr, 0);
}

/* Finding 7: a device error concurrent with a Status write was lost: the
 * write's read-modify-write (keep NEEDS_RESET, take the driver's bits)
 * overwrote the error's update. */
static void test_device_error_during_status_write(void **state)
{
	pthread_t t;
	struct call call = {.fn = call_device_error};

	(void)state;
	bring_up(0);
	spin_lock(&dev.lock); /* write_status() on another CPU: */
	uint32_t old = dev.status;
	bool completed = start_and_wait(&t, &call);
	dev.status = (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		      VIRTIO_STATUS_DRIVER_OK) |
		     (old & VIRTIO_STATUS_NEEDS_RESET);
	spin_unlock(&dev.lock);
	pthread_join(t, NULL);

	assert_false(completed);
	check_window();
	assert_true(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(rd(0x060) & VIRTIO_INT_CONFIG);
	assert_int_equal(rd(0x044), 0); /* queues stopped */
	assert_int_equal(injected, 1);
}

/* A chain taken before a reset is not returned into the queue the driver
 * set up afterwards (its head means nothing there). */
static void test_push_after_reset_dropped(void **state)
{
	struct virtq_chain c;

	(void)state;
	bring_up(0);
	offer(1, 5);
	assert_int_equal(virtio_queue_pop(&dev, 1, &c), VQ_OK);
	bring_up(0); /* reset and the same queues again */
	virtio_queue_push(&dev, 1, &c, 0);
	volatile uint16_t *used = hva(USED_IPA(1));
	assert_int_equal(used[1], 0);
	virtio_notify_used(&dev, 1);
	assert_int_equal(injected, 0);
}

/* The same for a per-queue reset (VIRTIO_F_RING_RESET). */
static void test_push_after_queue_reset_dropped(void **state)
{
	struct virtq_chain c;

	(void)state;
	bring_up(0);
	offer(1, 2);
	assert_int_equal(virtio_queue_pop(&dev, 1, &c), VQ_OK);
	wr(0x030, 1);
	wr(0x0c0, 1); /* QueueReset */
	assert_int_equal(rd(0x044), 0);
	memset(hva(USED_IPA(1)), 0, 0x1000);
	setup_queue(1);
	virtio_queue_push(&dev, 1, &c, 0);
	volatile uint16_t *used = hva(USED_IPA(1));
	assert_int_equal(used[1], 0);
}

/* A guest that resets and re-enables a queue 2^32 times while a request is
 * out never brings the queue's epoch back to the request's: the counters
 * are 64-bit (the QueueReady cycles are added by hand, 2^32 would take
 * the test hours). */
static void test_push_after_epoch_would_wrap_dropped(void **state)
{
	struct virtq_chain c;

	(void)state;
	bring_up(0);
	offer(1, 5);
	assert_int_equal(virtio_queue_pop(&dev, 1, &c), VQ_OK);
	bring_up(0);                              /* the epoch moves by 2: a reset, an enable */
	dev.queue_enables[1] += (1ULL << 32) - 2; /* and by 2^32 - 2 more */
	virtio_queue_push(&dev, 1, &c, 0);
	volatile uint16_t *used = hva(USED_IPA(1));
	assert_int_equal(used[1], 0);
}

/* ... but a queue reset leaves the other queues' chains alone. */
static void test_queue_reset_spares_other_queues(void **state)
{
	struct virtq_chain c;

	(void)state;
	bring_up(0);
	offer(0, 4);
	assert_int_equal(virtio_queue_pop(&dev, 0, &c), VQ_OK);
	wr(0x030, 1);
	wr(0x0c0, 1); /* QueueReset of queue 1 */
	virtio_queue_push(&dev, 0, &c, 0);
	volatile uint16_t *used = hva(USED_IPA(0));
	assert_int_equal(used[1], 1);
}

/* A pop error puts the device in NEEDS_RESET once, with a config interrupt. */
static void test_pop_error(void **state)
{
	struct virtq_chain c;

	(void)state;
	bring_up(0);
	volatile uint16_t *avail = hva(AVAIL_IPA(0));
	avail[1] = QSIZE + 1; /* moved by more than the queue size */
	assert_int_equal(virtio_queue_pop(&dev, 0, &c), VQ_ERR_AVAIL);
	check_window();
	assert_true(window[0x070 / 4] & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(0x060), VIRTIO_INT_CONFIG);
	assert_int_equal(logged, 1);
	assert_int_equal(virtio_queue_pop(&dev, 0, &c), VQ_EMPTY); /* queue stopped */
}

/* Stress: a vCPU resets and re-initialises the device while another keeps
 * completing and signalling. Under ASan any read through a cleared ring
 * pointer is a crash. */
static volatile bool stop;

static void *resetter(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) {
		bring_up(0);
		memset(hva(AVAIL_IPA(0)), 0, 0x1000); /* a new driver's empty rings */
	}
	return NULL;
}

static void test_stress_notify_vs_reset(void **state)
{
	struct virtq_chain c;
	pthread_t t;

	(void)state;
	bring_up(0);
	stop = false;
	checking = false;
	assert_int_equal(pthread_create(&t, NULL, resetter, NULL), 0);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (unsigned i = 0;; i++) {
		offer(0, (uint16_t)(i % QSIZE));
		if (virtio_queue_pop(&dev, 0, &c) == VQ_OK)
			virtio_queue_push(&dev, 0, &c, 0);
		virtio_notify_used(&dev, 0);
		virtio_notify_used(&dev, 1);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 1)
			break;
	}
	__atomic_store_n(&stop, true, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	checking = true;
}

/* ---- hostile register values ---- */
static void test_hostile_registers(void **state)
{
	uint64_t x;

	(void)state;
	bring_up(0);
	wr(0x030, 0xffffffffu); /* QueueSel beyond the queues: reads 0, writes ignored */
	assert_int_equal(rd(0x034), 0);
	wr(0x038, 16);
	wr(0x030, 2);
	assert_int_equal(rd(0x034), 0);
	wr(0x014, 0xffffffffu); /* DeviceFeaturesSel */
	assert_int_equal(rd(0x010), 0);
	wr(0x050, 0xffffffffu); /* notify of a queue that does not exist */
	wr(0x050, 2);
	assert_int_equal(notified[0] + notified[1], 0);
	/* QueueNum above the maximum or not a power of two: enabling fails */
	wr(0x070, 0);
	wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(0x024, 1);
	wr(0x020, (uint32_t)(VIRTIO_F_VERSION_1 >> 32));
	wr(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	wr(0x030, 0);
	wr(0x038, 0x10000 + QSIZE); /* would narrow to QSIZE */
	assert_int_equal(rd(0x038), 0);
	wr(0x038, 6);
	wr(0x080, (uint32_t)DESC_IPA(0));
	wr(0x090, (uint32_t)AVAIL_IPA(0));
	wr(0x0a0, (uint32_t)USED_IPA(0));
	wr(0x044, 1);
	assert_int_equal(rd(0x044), 0);
	assert_true(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
	/* config space: beyond its size, unaligned, 8 bytes, offset wrap */
	x = 0;
	assert_false(mmio(0x100 + 8, 4, false, &x));
	assert_false(mmio(0x100 + CONFIG_SIZE, 1, false, &x));
	assert_false(mmio(0x100 + 6, 4, false, &x));
	assert_false(mmio(0x100, 8, false, &x));
	assert_false(mmio(0x100 + 0xfc, 4, false, &x));
	/* an offset beyond the window must not wrap into config space */
	assert_false(mmio(0x100000100ULL, 4, false, &x));
	assert_false(mmio(0x200, 4, false, &x));
	/* registers are 32-bit only */
	assert_false(mmio(0x070, 8, false, &x));
	assert_false(mmio(0x071, 1, false, &x));
}

/* A takeback waits for the copies counted in before it, not for those a
 * queue enabled again meanwhile counts in: a guest cannot keep its vCPU
 * at EL2 (IRQs masked, not parkable) by keeping copies going. */
static volatile bool reenabled;

static void *reenabler(void *arg)
{
	(void)arg;
	uint64_t v = 0;
	mmio(0x030, 4, true, &v); /* QueueSel 0 */
	v = 1;
	mmio(0x044, 4, true, &v); /* QueueReady 1 again: a takeback */
	__atomic_store_n(&reenabled, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void end_copy(unsigned c)
{
	spin_lock(&dev.lock);
	virtio_copy_end_locked(&dev, c);
	spin_unlock(&dev.lock);
}

static void test_takeback_waits_only_for_earlier_copies(void **state)
{
	(void)state;
	bring_up(0);
	unsigned a = virtio_copy_begin(&dev, 0, virtio_queue_epoch_locked(&dev, 0));
	assert_true(a);
	reenabled = false;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reenabler, NULL), 0);
	usleep(50000);
	assert_false(__atomic_load_n(&reenabled, __ATOMIC_SEQ_CST)); /* waits for a */
	spin_lock(&dev.lock);
	uint64_t epoch = virtio_queue_epoch_locked(&dev, 0);
	spin_unlock(&dev.lock);
	unsigned b = virtio_copy_begin(&dev, 0, epoch); /* the new queue's */
	assert_true(b);
	end_copy(a);
	for (int i = 0; i < 1000 && !__atomic_load_n(&reenabled, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	bool returned = __atomic_load_n(&reenabled, __ATOMIC_SEQ_CST);
	end_copy(b);
	pthread_join(t, NULL);
	assert_true(returned); /* with b still under way */
}

/* Every kind of change, the hostile ones included, with the window checked
 * after each (wr() checks it after every write). */
static uint32_t last_irq_count;

/* An interrupt was injected, with its reason already in the window. */
static void raised(uint32_t why)
{
	assert_int_equal(isr_at_inject & why, why);
	assert_int_equal(injected, last_irq_count + 1);
	last_irq_count = injected;
	check_window();
}

static void test_read_window_follows_every_change(void **state)
{
	struct virtq_chain c;

	(void)state;
	assert_int_equal(window[0], 0x74726976);         /* magic, before any write */
	assert_int_equal(window[0x100 / 4], 0xa3a2a1a0); /* config space */
	assert_int_equal(window[0x108 / 4], 0xa9a8);     /* its last, short word */
	bring_up(0);
	for (uint32_t sel = 0; sel < 9; sel++) { /* selectors, in range and not */
		wr(0x014, sel);                  /* DeviceFeaturesSel (7: nothing) */
		wr(0x024, sel);                  /* DriverFeaturesSel */
		wr(0x030, sel);                  /* QueueSel: queue registers */
	}
	wr(0x030, 0xffffffffu);
	wr(0x014, 1);
	wr(0x030, 1);
	/* an interrupt: InterruptStatus before the injection, then ACKs */
	last_irq_count = injected;
	offer(0, 1);
	assert_int_equal(virtio_queue_pop(&dev, 0, &c), VQ_OK);
	virtio_queue_push(&dev, 0, &c, 0);
	virtio_notify_used(&dev, 0);
	raised(VIRTIO_INT_USED);
	wr(0x064, 0); /* ACK of nothing */
	wr(0x064, VIRTIO_INT_USED);
	/* QueueReady 0 and 1, QueueReset, notify: a notify changes nothing */
	wr(0x030, 1);
	wr(0x044, 0);
	wr(0x044, 1);
	wr(0x0c0, 1);
	wr(0x050, 0);
	/* reset while an interrupt is pending */
	offer(0, 2);
	assert_int_equal(virtio_queue_pop(&dev, 0, &c), VQ_OK);
	virtio_queue_push(&dev, 0, &c, 0);
	virtio_notify_used(&dev, 0);
	raised(VIRTIO_INT_USED);
	assert_int_equal(window[0x060 / 4], VIRTIO_INT_USED);
	wr(0x070, 0);
	assert_int_equal(window[0x060 / 4], 0);
	assert_int_equal(window[0x070 / 4], 0);
	/* a device error (config interrupt, NEEDS_RESET, queues stopped) */
	bring_up(0);
	virtio_device_error(&dev, "test");
	raised(VIRTIO_INT_CONFIG);
	assert_int_equal(window[0x060 / 4], VIRTIO_INT_CONFIG);
	/* the VM stopped: its devices reset */
	virtio_mmio_reset(&dev);
	check_window();
	assert_int_equal(window[0x070 / 4], 0);
	/* refused writes change nothing (and are not published): config
	 * space is read-only here, registers are 32-bit */
	uint64_t x = 0x55;
	assert_false(mmio(0x070, 1, true, &x));
	assert_false(mmio(0x100 + CONFIG_SIZE, 1, true, &x));
	check_window();
}

/* Which pages may be read pages: only virtio-mmio windows in them, whole. */
static bool other_device(struct vcpu *v, struct mmio_access *acc, void *d)
{
	(void)v, (void)acc, (void)d;
	return true;
}

static void test_page_only_windows(void **state)
{
	(void)state;
	struct mmio_region r[4] = {
		{0x0a003e00, 0x200, handler, &dev},
		{0x0a003c00, 0x200, handler, &dev},
		{0x09000000, 0x1000, other_device, NULL},
		{0x08000000, 0x10000, other_device, NULL},
	};
	assert_true(virtio_mmio_page_only_windows(r, 4, 0x0a003000));
	assert_false(virtio_mmio_page_only_windows(r, 4, 0x0a002000)); /* nothing there */
	assert_false(virtio_mmio_page_only_windows(r, 4, 0x09000000)); /* not virtio */
	assert_false(virtio_mmio_page_only_windows(r, 4, 0x08003000)); /* inside the GIC's */
	r[2] = (struct mmio_region){0x0a003100, 0x100, other_device, NULL};
	assert_false(virtio_mmio_page_only_windows(r, 4, 0x0a003000)); /* shares the page */
	r[2] = (struct mmio_region){0x0a002f00, 0x200, other_device, NULL};
	assert_false(virtio_mmio_page_only_windows(r, 4, 0x0a003000)); /* reaches into it */
	r[2] = (struct mmio_region){0x0a003f00, 0x200, handler, &dev};
	assert_false(virtio_mmio_page_only_windows(r, 4, 0x0a003000)); /* a window across */
	r[2] = (struct mmio_region){0x0a004000, 0x1000, other_device, NULL};
	assert_true(virtio_mmio_page_only_windows(r, 4, 0x0a003000)); /* the next page */
	assert_ptr_equal(virtio_mmio_region_dev(&r[0]), &dev);
	assert_null(virtio_mmio_region_dev(&r[2]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_used_during_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_error_during_status_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_push_after_reset_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_after_queue_reset_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_reset_spares_other_queues, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_push_after_epoch_would_wrap_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pop_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stress_notify_vs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeback_waits_only_for_earlier_copies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_window_follows_every_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_page_only_windows, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
