/* virtio-net's transmit queue against a guest-memory model: one notify
 * takes a bounded number of frames however fast the driver (another vCPU)
 * keeps adding them, then asks for a new notify for the rest. The switch is
 * stubbed: its routing decision is where the feeding happens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "net/virtio_net.h"
#include "core/percpu.h"
#include "core/vm.h"
#include "arch/arm64/cache.h"

/* ---- stubs ---- */
static mmio_handler_fn handler;
static void *handler_dev;
static unsigned routed, commands;
static void (*on_route)(void), (*on_command)(void);

/* the read window's cache clean: host memory is coherent */
void dcache_clean_poc(void *p, uint64_t len)
{
	(void)p, (void)len;
}

void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	(void)vm, (void)vcpu, (void)intid;
}
void vm_log(struct vm *vm, enum log_cause cause, const char *fmt, ...)
{
	(void)vm, (void)cause, (void)fmt;
}
void printk(const char *fmt, ...)
{
	(void)fmt;
}
int vm_register_mmio(struct vm *vm, ipa_t b, uint64_t s, mmio_handler_fn f, void *d)
{
	(void)vm, (void)b, (void)s;
	handler = f;
	handler_dev = d;
	return 0;
}
/* One port, 0, the device of the current test (frames routed to it loop
 * back into its own receive queue). */
int netswitch_add_port(struct netswitch *sw, const uint8_t mac[ETH_ALEN], bool uplink, void *dev)
{
	(void)mac, (void)uplink;
	sw->ports[0].dev = dev;
	sw->nports = 1;
	return 0;
}
/* Storm control is the switch's (test_netswitch.c): never a limit here. */
bool netswitch_floods(const uint8_t dst[ETH_ALEN], uint32_t ports)
{
	(void)dst, (void)ports;
	return false;
}
bool netswitch_flood_take(struct netswitch *sw, unsigned src, uint64_t now)
{
	(void)sw, (void)src, (void)now;
	return true;
}
int netswitch_set_flood_limit(struct netswitch *sw, unsigned port, uint32_t rate, uint32_t burst,
			      uint64_t hz)
{
	(void)sw, (void)port, (void)rate, (void)burst, (void)hz;
	return 0;
}
uint64_t timer_now(void)
{
	return 0;
}
uint64_t timer_freq(void)
{
	return 1000000;
}
static struct pcpu cpu0;
struct pcpu *this_cpu(void)
{
	return &cpu0;
}
static uint32_t route_to; /* what netswitch_route answers */
static uint8_t routed_dst[ETH_ALEN];
uint32_t netswitch_route(const struct netswitch *sw, unsigned src, const uint8_t dst[ETH_ALEN])
{
	(void)sw, (void)src;
	routed++;
	memcpy(routed_dst, dst, ETH_ALEN);
	if (on_route)
		on_route();
	return route_to; /* 0 unless a test says: nowhere, counted as no-route */
}
uint8_t net_ctrl_command(struct net_rx_mode *mode, const uint8_t mac[ETH_ALEN],
			 const struct virtq_chain *c)
{
	(void)mode, (void)mac, (void)c;
	commands++;
	if (on_command)
		on_command();
	return 0;
}

#define BASE 0x0a000000ULL
#define RAM_IPA 0x40000000ULL
#define RAM_SIZE (1u << 20)
#define QSIZE 16
#define Q_TX 1
#define DESC_IPA(q) (RAM_IPA + 0x1000 * (1 + 3 * (q)))
#define AVAIL_IPA(q) (DESC_IPA(q) + 0x1000)
#define USED_IPA(q) (DESC_IPA(q) + 0x2000)
#define DATA_IPA (RAM_IPA + 0x80000)

static struct vm vm;
static struct guest_region region;
static uint8_t *ram;
static struct virtio_net net;

static void *hva(uint64_t ipa)
{
	return ram + (ipa - RAM_IPA);
}

static void wr(uint64_t off, uint32_t v)
{
	struct mmio_access acc = {.addr = BASE + off, .width = 4, .write = true, .value = v};
	assert_true(handler(NULL, &acc, handler_dev));
}

static void bring_up(void)
{
	wr(0x070, 0);
	wr(0x070, 3);
	wr(0x024, 0);
	wr(0x020, (uint32_t)VIRTIO_F_RING_EVENT_IDX);
	wr(0x024, 1);
	wr(0x020, (uint32_t)(VIRTIO_F_VERSION_1 >> 32));
	wr(0x070, 3 | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < 3; q++) {
		wr(0x030, q);
		wr(0x038, QSIZE);
		wr(0x080, (uint32_t)DESC_IPA(q));
		wr(0x090, (uint32_t)AVAIL_IPA(q));
		wr(0x0a0, (uint32_t)USED_IPA(q));
		wr(0x044, 1);
	}
	wr(0x070, 3 | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* A 12-byte header and a 60-byte frame in one readable descriptor. */
static void offer_frame(uint16_t i)
{
	struct virtq_desc *d = hva(DESC_IPA(Q_TX));
	volatile uint16_t *avail = hva(AVAIL_IPA(Q_TX));

	d[i] = (struct virtq_desc){.addr = DATA_IPA, .len = 12 + 60};
	avail[2 + avail[1] % QSIZE] = i;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	avail[1]++;
}

static int setup(void **state)
{
	static const uint8_t mac[ETH_ALEN] = {0x52, 0x54, 0, 0, 0, 1};

	(void)state;
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	memset(&vm, 0, sizeof(vm));
	memset(&net, 0, sizeof(net));
	region = (struct guest_region){.ipa = RAM_IPA, .size = RAM_SIZE, .hva = ram};
	vm.mem = (struct guest_mem){.regions = &region, .n = 1};
	vm.name = "gvm";
	assert_int_equal(virtio_net_create(&net, &vm, BASE, 48, mac, false), 0);
	routed = commands = 0;
	route_to = 0;
	on_route = on_command = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(ram, RAM_SIZE);
	return 0;
}

static uint16_t next_desc;

static void keep_feeding(void)
{
	if (routed < 100000)
		offer_frame(next_desc++ % QSIZE);
}

static void test_tx_loop_bounded_per_notify(void **state)
{
	(void)state;
	bring_up();
	next_desc = 1;
	offer_frame(0);
	on_route = keep_feeding;
	wr(0x050, Q_TX);
	on_route = NULL;
	assert_int_equal(routed, VIRTIO_CHAINS_PER_NOTIFY);
	volatile uint16_t *avail = hva(AVAIL_IPA(Q_TX));
	volatile uint16_t *used = hva(USED_IPA(Q_TX));
	assert_int_equal(used[1], VIRTIO_CHAINS_PER_NOTIFY);
	assert_int_equal(used[2 + 4 * QSIZE], avail[1]); /* notify again for the rest */
	wr(0x050, Q_TX);
	assert_int_equal(routed, VIRTIO_CHAINS_PER_NOTIFY + 1);
}

/* The control queue: a command and its writable ack byte. */
#define Q_CTRL 2

static void offer_command(uint16_t i)
{
	struct virtq_desc *d = hva(DESC_IPA(Q_CTRL));
	volatile uint16_t *avail = hva(AVAIL_IPA(Q_CTRL));
	uint16_t cmd = (uint16_t)(2 * (i % (QSIZE / 2))), ack = cmd + 1;

	d[cmd] = (struct virtq_desc){
		.addr = DATA_IPA, .len = 4, .flags = VIRTQ_DESC_F_NEXT, .next = ack};
	d[ack] = (struct virtq_desc){.addr = DATA_IPA + 64, .len = 1, .flags = VIRTQ_DESC_F_WRITE};
	avail[2 + avail[1] % QSIZE] = cmd;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	avail[1]++;
}

static void keep_commanding(void)
{
	if (commands < 100000)
		offer_command(next_desc++);
}

static void test_ctrl_loop_bounded_per_notify(void **state)
{
	(void)state;
	bring_up();
	next_desc = 1;
	offer_command(0);
	on_command = keep_commanding;
	wr(0x050, Q_CTRL);
	on_command = NULL;
	assert_int_equal(commands, VIRTIO_CHAINS_PER_NOTIFY);
	volatile uint16_t *avail = hva(AVAIL_IPA(Q_CTRL));
	volatile uint16_t *used = hva(USED_IPA(Q_CTRL));
	assert_int_equal(used[1], VIRTIO_CHAINS_PER_NOTIFY);
	assert_int_equal(used[2 + 4 * QSIZE], avail[1]);
}

static void test_ctrl_without_ack_is_an_error(void **state)
{
	(void)state;
	bring_up();
	struct virtq_desc *d = hva(DESC_IPA(Q_CTRL));
	volatile uint16_t *avail = hva(AVAIL_IPA(Q_CTRL));
	d[0] = (struct virtq_desc){.addr = DATA_IPA, .len = 4};
	avail[2] = 0;
	avail[1] = 1;
	wr(0x050, Q_CTRL);
	assert_int_equal(commands, 0);
	struct mmio_access acc = {.addr = BASE + 0x070, .width = 4};
	assert_true(handler(NULL, &acc, handler_dev));
	assert_true(acc.value & VIRTIO_STATUS_NEEDS_RESET);
}

/* The sender's other vCPU rewrites the frame while the device works on it:
 * the frame is read from the guest once, so what is delivered is what was
 * routed (a destination MAC the switch never saw reaches nobody). */
#define RX_IPA (RAM_IPA + 0x90000)

static void rewrite_frame(void)
{
	memset((uint8_t *)hva(DATA_IPA) + 12, 0xee, 12 + 60 - 12);
}

static void test_frame_read_once(void **state)
{
	struct virtq_desc *rxd = hva(DESC_IPA(0));
	volatile uint16_t *rxa = hva(AVAIL_IPA(0));
	volatile uint16_t *rxu = hva(USED_IPA(0));
	uint8_t *frame = (uint8_t *)hva(DATA_IPA) + 12;
	uint8_t *got = (uint8_t *)hva(RX_IPA) + 12;
	(void)state;
	bring_up();
	rxd[0] = (struct virtq_desc){.addr = RX_IPA, .len = 2048, .flags = VIRTQ_DESC_F_WRITE};
	rxa[2] = 0;
	rxa[1] = 1;
	for (unsigned i = 0; i < 60; i++)
		frame[i] = (uint8_t)(0x20 + i);
	offer_frame(0);
	route_to = 1;
	on_route = rewrite_frame;
	wr(0x050, Q_TX);
	assert_int_equal(routed, 1);
	assert_int_equal(rxu[1], 1);
	assert_memory_equal(routed_dst, got, ETH_ALEN);
	for (unsigned i = 0; i < 60; i++)
		assert_int_equal(got[i], 0x20 + i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tx_loop_bounded_per_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_read_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_loop_bounded_per_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_without_ack_is_an_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
