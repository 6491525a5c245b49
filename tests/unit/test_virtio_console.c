/* virtio-console's transmit path against a guest-memory model: the work one
 * notify does is bounded whatever the guest puts in the queue (descriptors
 * of any size, a driver that keeps adding chains while the device works),
 * and a driver stopped by the budget is asked to notify again. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <cmocka.h>

#include "console/console.h"
#include "console/virtio_console.h"
#include "core/vm.h"
#include "arch/arm64/cache.h"

/* ---- stubs ---- */
static mmio_handler_fn handler;
static void *handler_dev;
static console_sink_fn hvc_input;
static void *hvc_dev;
static unsigned injected, writes;
static uint64_t written;
static void (*on_write)(void);

/* the read window's cache clean: host memory is coherent */
void dcache_clean_poc(void *p, uint64_t len)
{
	(void)p, (void)len;
}

void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	(void)vm, (void)vcpu, (void)intid;
	injected++;
}
void vm_log(struct vm *vm, enum log_cause cause, const char *fmt, ...)
{
	(void)vm, (void)cause, (void)fmt;
}
int vm_register_mmio(struct vm *vm, ipa_t b, uint64_t s, mmio_handler_fn f, void *d)
{
	(void)vm, (void)b, (void)s;
	handler = f;
	handler_dev = d;
	return 0;
}
void console_attach_hvc(int vm_id, console_sink_fn fn, void *dev)
{
	(void)vm_id;
	hvc_input = fn;
	hvc_dev = dev;
}
void console_write(int source, const char *s, size_t n)
{
	(void)source, (void)s;
	writes++;
	written += n;
	if (on_write)
		on_write();
}

/* ---- guest memory: rings in the first MiB, then a huge sparse buffer ---- */
#define BASE 0x0a000000ULL
#define RAM_IPA 0x40000000ULL
#define RAM_SIZE (5ULL << 30) /* reserved, not touched: room for a 4 GiB buffer */
#define QSIZE 16
#define Q_TX 1
#define DESC_IPA(q) (RAM_IPA + 0x1000 * (1 + 3 * (q)))
#define AVAIL_IPA(q) (DESC_IPA(q) + 0x1000)
#define USED_IPA(q) (DESC_IPA(q) + 0x2000)
#define DATA_IPA (RAM_IPA + 0x100000)

static struct vm vm;
static struct guest_region region;
static uint8_t *ram;
static struct virtio_console con;

static void *hva(uint64_t ipa)
{
	return ram + (ipa - RAM_IPA);
}

static void wr(uint64_t off, uint32_t v)
{
	struct mmio_access acc = {.addr = BASE + off, .width = 4, .write = true, .value = v};
	assert_true(handler(NULL, &acc, handler_dev));
}

static uint32_t rd(uint64_t off)
{
	struct mmio_access acc = {.addr = BASE + off, .width = 4};
	assert_true(handler(NULL, &acc, handler_dev));
	return (uint32_t)acc.value;
}

static void bring_up(bool event_idx)
{
	wr(0x070, 0);
	wr(0x070, 3);
	wr(0x024, 0);
	wr(0x020, event_idx ? (uint32_t)VIRTIO_F_RING_EVENT_IDX : 0);
	wr(0x024, 1);
	wr(0x020, (uint32_t)(VIRTIO_F_VERSION_1 >> 32));
	wr(0x070, 3 | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 2; q++) {
		wr(0x030, q);
		wr(0x038, QSIZE);
		wr(0x080, (uint32_t)DESC_IPA(q));
		wr(0x090, (uint32_t)AVAIL_IPA(q));
		wr(0x0a0, (uint32_t)USED_IPA(q));
		wr(0x044, 1);
		assert_int_equal(rd(0x044), 1);
	}
	wr(0x070, 3 | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* Descriptor i of the TX queue: one readable buffer of `len` bytes. */
static void offer(uint16_t i, uint32_t len)
{
	struct virtq_desc *d = hva(DESC_IPA(Q_TX));
	volatile uint16_t *avail = hva(AVAIL_IPA(Q_TX));

	d[i] = (struct virtq_desc){.addr = DATA_IPA, .len = len};
	avail[2 + avail[1] % QSIZE] = i;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	avail[1]++;
}

static int setup(void **state)
{
	(void)state;
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(ram != MAP_FAILED);
	memset(&vm, 0, sizeof(vm));
	memset(&con, 0, sizeof(con));
	region = (struct guest_region){.ipa = RAM_IPA, .size = RAM_SIZE, .hva = ram};
	vm.mem = (struct guest_mem){.regions = &region, .n = 1};
	vm.name = "gvm";
	vm.id = 1;
	assert_int_equal(virtio_console_create(&con, &vm, BASE, 48), 0);
	injected = writes = 0;
	written = 0;
	on_write = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(ram, RAM_SIZE);
	return 0;
}

static void test_tx_round_trip(void **state)
{
	(void)state;
	bring_up(false);
	memcpy(hva(DATA_IPA), "hello\n", 6);
	offer(0, 6);
	wr(0x050, Q_TX);
	assert_int_equal(written, 6);
	volatile uint16_t *used = hva(USED_IPA(Q_TX));
	assert_int_equal(used[1], 1);
	assert_int_equal(injected, 1);
}

/* One descriptor of 4 GiB - 1: the console is handed a bounded amount, the
 * rest is counted as dropped. */
static void test_tx_huge_descriptor_bounded(void **state)
{
	(void)state;
	bring_up(false);
	offer(0, 0xffffffffu);
	wr(0x050, Q_TX);
	assert_true(written <= 65536);
	assert_int_equal(con.bytes_dropped + con.bytes_out, 0xffffffffull);
	volatile uint16_t *used = hva(USED_IPA(Q_TX));
	assert_int_equal(used[1], 1);
}

/* A driver (another vCPU) that adds a chain for every one the device takes:
 * one notify used to loop for as long as it kept going. */
static uint16_t next_desc;

static void keep_feeding(void)
{
	if (writes < 100000)
		offer(next_desc++ % QSIZE, 8);
}

static void test_tx_loop_bounded_per_notify(void **state)
{
	(void)state;
	bring_up(true);
	next_desc = 1;
	offer(0, 8);
	on_write = keep_feeding;
	wr(0x050, Q_TX);
	on_write = NULL;
	assert_int_equal(writes, VIRTIO_CHAINS_PER_NOTIFY);
	/* chains are left: the driver is asked to notify on its next one */
	volatile uint16_t *avail = hva(AVAIL_IPA(Q_TX));
	volatile uint16_t *used = hva(USED_IPA(Q_TX));
	assert_int_equal(used[2 + 4 * QSIZE], avail[1]);
	assert_int_equal(used[1], VIRTIO_CHAINS_PER_NOTIFY);
	/* the next notify takes what is left */
	wr(0x050, Q_TX);
	assert_int_equal(writes, VIRTIO_CHAINS_PER_NOTIFY + 1);
	assert_int_equal(used[2 + 4 * QSIZE], avail[1]);
}

/* Typed input goes into a writable receive buffer, never a readable one. */
static void test_rx_readable_buffer_is_an_error(void **state)
{
	(void)state;
	bring_up(false);
	struct virtq_desc *d = hva(DESC_IPA(0));
	volatile uint16_t *avail = hva(AVAIL_IPA(0));
	d[0] = (struct virtq_desc){.addr = DATA_IPA, .len = 4};
	avail[2] = 0;
	avail[1] = 1;
	hvc_input(hvc_dev, 'x');
	assert_true(rd(0x070) & VIRTIO_STATUS_NEEDS_RESET);
	d[0].flags = VIRTQ_DESC_F_WRITE;
	bring_up(false);
	avail[2] = 0;
	avail[1] = 1;
	hvc_input(hvc_dev, 'y');
	assert_int_equal(*(uint8_t *)hva(DATA_IPA), 'y');
	volatile uint16_t *used = hva(USED_IPA(0));
	assert_int_equal(used[1], 1);
	assert_int_equal(*(volatile uint32_t *)&used[4], 1); /* len */
}

/* A key typed while the guest resets the device: the byte must not land
 * in a buffer the reset handed back to the guest. */
static volatile bool typed;

static void *type_key(void *arg)
{
	(void)arg;
	hvc_input(hvc_dev, 'k');
	__atomic_store_n(&typed, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_rx_during_reset(void **state)
{
	pthread_t t;

	(void)state;
	bring_up(false);
	struct virtq_desc *d = hva(DESC_IPA(0));
	volatile uint16_t *avail = hva(AVAIL_IPA(0));
	d[0] = (struct virtq_desc){.addr = DATA_IPA, .len = 4, .flags = VIRTQ_DESC_F_WRITE};
	avail[2] = 0;
	avail[1] = 1;
	*(volatile uint8_t *)hva(DATA_IPA) = 0;
	typed = false;
	spin_lock(&con.vdev.lock); /* a vCPU writes Status = 0 */
	assert_int_equal(pthread_create(&t, NULL, type_key, NULL), 0);
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	bool early = __atomic_load_n(&typed, __ATOMIC_SEQ_CST);
	con.vdev.status = 0;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		con.vdev.vq[q] = (struct virtq){0};
	spin_unlock(&con.vdev.lock);
	pthread_join(t, NULL);
	assert_false(early);
	assert_int_equal(*(volatile uint8_t *)hva(DATA_IPA), 0);
}

/* Config space read byte by byte through a trap equals the read window:
 * what the guest sees must not depend on whether its page is a read page
 * (config_read once ignored off/len: rows at offset 2 trapped read 0). */
static void test_config_window_equals_trapped_bytes(void **state)
{
	static uint32_t window[0x200 / 4];
	const uint8_t *bytes = (const uint8_t *)window;

	(void)state;
	virtio_mmio_attach_read_window(&con.vdev, window);
	for (uint64_t off = 0x100; off < 0x100 + 12; off++) {
		struct mmio_access acc = {.addr = BASE + off, .width = 1};
		assert_true(handler(NULL, &acc, handler_dev));
		if (bytes[off] != (uint8_t)acc.value)
			fail_msg("config byte 0x%03lx: window 0x%02x, trapped read 0x%02x",
				 (unsigned long)off, bytes[off], (unsigned)(uint8_t)acc.value);
	}
}

static uint64_t trapped_read(uint64_t off, uint8_t width)
{
	struct mmio_access acc = {.addr = BASE + off, .width = width};

	assert_true(handler(NULL, &acc, handler_dev));
	return acc.value;
}

/* Each field at its own offset and width: cols 80, rows 25, no ports. */
static void test_config_fields_at_their_offsets(void **state)
{
	(void)state;
	assert_int_equal(trapped_read(0x100, 4), 80u | 25u << 16);
	assert_int_equal(trapped_read(0x100, 2), 80);
	assert_int_equal(trapped_read(0x102, 2), 25);
	assert_int_equal(trapped_read(0x103, 1), 0);
	assert_int_equal(trapped_read(0x104, 4), 0);
	assert_int_equal(trapped_read(0x108, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tx_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_huge_descriptor_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_loop_bounded_per_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_readable_buffer_is_an_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rx_during_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_window_equals_trapped_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config_fields_at_their_offsets, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
