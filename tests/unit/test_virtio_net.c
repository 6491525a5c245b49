/* virtio-net's transmit queue against a guest-memory model: one notify
 * takes a bounded number of frames however fast the driver (another vCPU)
 * keeps adding them, then asks for a new notify for the rest. The switch is
 * stubbed: its routing decision is where the feeding happens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "net/net_offload.h"
#include "net/virtio_net.h"
#include "core/percpu.h"
#include "core/vm.h"
#include "arch/arm64/cache.h"
#include "drivers/gic.h"

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
/* The last line printed (virtio_net_print_stats: the port's counters). */
static char printed[512];
void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(printed, sizeof(printed), fmt, ap);
	va_end(ap);
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
	/* fresh counters per test; the uplink, as only frames for it are parked */
	sw->ports[0] = (struct net_port){.dev = dev, .uplink = true};
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
static uint16_t rx_next;       /* the next receive descriptor a test offers */
static uint64_t now_ticks;     /* the counter, 1 MHz: moves only when a test says */
static void (*on_clock)(void); /* once, at the next read of the counter */
uint64_t timer_now(void)
{
	void (*f)(void) = on_clock;

	on_clock = NULL;
	if (f)
		f();
	return now_ticks;
}
uint64_t timer_freq(void)
{
	return 1000000;
}
static struct pcpu cpus[2] = {{.id = 0}, {.id = 1}};
static unsigned cur_cpu; /* a test runs a "second vCPU" on CPU 1 */
struct pcpu *this_cpu(void)
{
	return &cpus[cur_cpu];
}
/* IPI_NET sent to each CPU and not yet taken; the sender's vCPU 0 is on
 * SENDER_CPU, and no CPU is the sender's unless a test says (cpus[].vcpu),
 * so a notify or tick on CPU 0 is another VM's. */
#define SENDER_CPU 1
static unsigned ipis[2];
void gic_send_sgi(unsigned pcpu, unsigned sgi)
{
	assert_int_equal(sgi, IPI_NET);
	assert_true(pcpu < 2);
	ipis[pcpu]++;
}
/* The IPIs land: each CPU sent one runs virtio_net_work. */
static void take_ipis(void)
{
	unsigned was = cur_cpu;

	for (unsigned c = 0; c < 2; c++)
		if (ipis[c]) {
			ipis[c] = 0;
			cur_cpu = c;
			virtio_net_work();
		}
	cur_cpu = was;
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

static void bring_up_with(uint64_t features)
{
	features |= VIRTIO_F_RING_EVENT_IDX;
	wr(0x070, 0);
	wr(0x070, 3);
	wr(0x024, 0);
	wr(0x020, (uint32_t)features);
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

static void bring_up(void)
{
	bring_up_with(0);
}

static void offer_tx(uint16_t i, uint32_t len);

/* A 12-byte header and a 60-byte frame in one readable descriptor. */
static void offer_frame(uint16_t i)
{
	offer_tx(i, 12 + 60);
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
	vm.vcpus[0] = (struct vcpu){.vm = &vm, .pcpu = SENDER_CPU};
	cpus[0].vcpu = cpus[1].vcpu = NULL;
	assert_int_equal(virtio_net_create(&net, &vm, BASE, 48, mac, false), 0);
	routed = commands = 0;
	route_to = 0;
	now_ticks = 0;
	rx_next = 0;
	on_route = on_command = NULL;
	on_clock = NULL;
	return 0;
}

static void offer_rx(unsigned n, uint32_t len);

static int teardown(void **state)
{
	(void)state;
	/* the switch's parked frames and unresponsive marks outlive a test:
	 * expire them, and let the device ask for frames again */
	now_ticks += 10 * 1000000;
	cur_cpu = 0;
	virtio_net_tick();
	take_ipis();       /* and the work they left goes */
	offer_rx(1, 2048); /* a notify clears the mark only with buffers to take */
	wr(0x050, 0);
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

/* ---- offloads, mergeable buffers and parked frames ----
 * The device sends to itself (the stub switch's one port): the frame it
 * parks waits for its own receive queue. */
#define F_MRG_RXBUF (1ULL << 15)
#define TSO_FEATURES \
	(NET_F_CSUM | NET_F_GUEST_CSUM | NET_F_HOST_TSO4 | NET_F_GUEST_TSO4 | F_MRG_RXBUF)
#define RXBUF_IPA (RAM_IPA + 0xa0000) /* QSIZE receive buffers of RXBUF_LEN */
#define RXBUF_LEN 4096
#define GSO_LEN 65000 /* frame bytes: 16 buffers of 4 KiB hold it with its header */
#define MSS 1448

/* n receive chains of one writable buffer each. */
static void offer_rx(unsigned n, uint32_t len)
{
	struct virtq_desc *d = hva(DESC_IPA(0));
	volatile uint16_t *avail = hva(AVAIL_IPA(0));

	for (unsigned k = 0; k < n; k++, rx_next++) {
		uint16_t i = rx_next % QSIZE;
		d[i] = (struct virtq_desc){.addr = RXBUF_IPA + (uint64_t)i * RXBUF_LEN,
					   .len = len,
					   .flags = VIRTQ_DESC_F_WRITE};
		avail[2 + avail[1] % QSIZE] = i;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		avail[1]++;
	}
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A header and a TCP/IPv4 frame of `len` bytes at DATA_IPA: payload byte k
 * is k * 7. */
static void write_tcp_frame(const struct net_hdr *h, uint32_t len)
{
	uint8_t *p = hva(DATA_IPA), *f = p + NET_HDR_LEN;

	net_hdr_write(p, h);
	memset(f, 0, 54);
	memset(f, 0x02, 6); /* a unicast destination */
	put_be16(f + 12, 0x0800);
	f[14] = 0x45;
	put_be16(f + 16, (uint16_t)(len - 14 > 0xffff ? 0xffff : len - 14));
	f[22] = 64;
	f[23] = 6;    /* TCP */
	f[46] = 0x50; /* data offset 5 words */
	f[47] = 0x18;
	for (uint32_t k = 54; k < len; k++)
		f[k] = (uint8_t)((k - 54) * 7);
}

/* The frame at DATA_IPA, `len` bytes with its header, as TX chain i. */
static void offer_tx(uint16_t i, uint32_t len)
{
	struct virtq_desc *d = hva(DESC_IPA(Q_TX));
	volatile uint16_t *avail = hva(AVAIL_IPA(Q_TX));

	d[i] = (struct virtq_desc){.addr = DATA_IPA, .len = len};
	avail[2 + avail[1] % QSIZE] = i;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	avail[1]++;
}

static const struct net_hdr gso_hdr = {.flags = NET_HDR_F_NEEDS_CSUM,
				       .gso_type = NET_GSO_TCPV4,
				       .gso_size = MSS,
				       .csum_start = 34,
				       .csum_offset = 16};

struct counters {
	unsigned long rx, no_buffer, bad;
};

static struct counters counters(void)
{
	struct counters c = {0};
	unsigned long tx, txb, rxb, route, storm;

	virtio_net_print_stats();
	assert_int_equal(
		sscanf(printed,
		       "gvm/net port 0 (uplink): tx %lu frames %lu B, rx %lu frames %lu B, drops: "
		       "no-buffer %lu bad %lu no-route %lu storm %lu",
		       &tx, &txb, &c.rx, &rxb, &c.no_buffer, &c.bad, &route, &storm),
		8);
	return c;
}

static uint16_t used_idx(unsigned q)
{
	return ((volatile uint16_t *)hva(USED_IPA(q)))[1];
}

static uint32_t used_len(unsigned q, uint16_t i)
{
	volatile uint32_t *ring = (volatile uint32_t *)((uint8_t *)hva(USED_IPA(q)) + 4);
	return ring[2 * (i % QSIZE) + 1];
}

static void notify(unsigned q)
{
	wr(0x050, q);
}

/* A 64 KiB TCP segment to a receiver that takes it whole: one frame over
 * 16 mergeable buffers, num_buffers 16 in the first header, the GSO fields
 * as the sender gave them (hdr_len its headers'). */
static void test_gso_frame_over_mergeable_buffers(void **state)
{
	(void)state;
	bring_up_with(TSO_FEATURES);
	route_to = 1;
	offer_rx(QSIZE, RXBUF_LEN);
	write_tcp_frame(&gso_hdr, GSO_LEN);
	offer_tx(0, NET_HDR_LEN + GSO_LEN);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 1);
	assert_int_equal(used_len(Q_TX, 0), 0);
	assert_int_equal(used_idx(0), QSIZE);
	uint32_t total = 0;
	for (uint16_t i = 0; i < QSIZE; i++) {
		uint32_t want = i + 1 < QSIZE ? RXBUF_LEN : NET_HDR_LEN + GSO_LEN - total;
		assert_int_equal(used_len(0, i), want);
		total += used_len(0, i);
	}
	assert_int_equal(total, NET_HDR_LEN + GSO_LEN);
	struct net_hdr h;
	net_hdr_parse(hva(RXBUF_IPA), &h);
	assert_int_equal(h.flags, NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h.gso_type, NET_GSO_TCPV4);
	assert_int_equal(h.gso_size, MSS);
	assert_int_equal(h.hdr_len, 54);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(h.num_buffers, QSIZE);
	/* the buffers are consecutive: the frame reads straight through */
	assert_memory_equal((uint8_t *)hva(RXBUF_IPA) + NET_HDR_LEN,
			    (uint8_t *)hva(DATA_IPA) + NET_HDR_LEN, GSO_LEN);
	struct counters c = counters();
	assert_int_equal(c.rx, 1);
	assert_int_equal(c.no_buffer + c.bad, 0);
}

/* Too few buffers for the frame: none is used (the driver still owns them,
 * the avail index is not consumed, a notify is asked on the next one) and
 * the TX chain is held; more buffers and an RX notify deliver it and
 * return the TX chain. */
static void test_no_room_parks_until_rx_notify(void **state)
{
	(void)state;
	bring_up_with(TSO_FEATURES);
	route_to = 1;
	offer_rx(4, RXBUF_LEN);
	write_tcp_frame(&gso_hdr, GSO_LEN);
	offer_tx(0, NET_HDR_LEN + GSO_LEN);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 0);
	assert_int_equal(used_idx(0), 0);
	assert_int_equal(net.vdev.vq[0].last_avail, 0);
	volatile uint16_t *rx_used = hva(USED_IPA(0));
	assert_int_equal(rx_used[2 + 4 * QSIZE], 4); /* avail_event: notify on the 5th */
	/* the sender's next notify retries, and takes nothing else */
	offer_tx(1, NET_HDR_LEN + GSO_LEN);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 0);
	assert_int_equal(net.vdev.vq[Q_TX].last_avail, 1);
	struct counters c = counters();
	assert_int_equal(c.rx + c.no_buffer + c.bad, 0);

	offer_rx(QSIZE - 4, RXBUF_LEN);
	notify(0);
	/* the parked frame, then, on the sender's CPU, the second (which
	 * finds no room, and parks) */
	assert_int_equal(used_idx(0), QSIZE);
	assert_int_equal(used_idx(Q_TX), 1);
	assert_int_equal(net.vdev.vq[Q_TX].last_avail, 1);
	take_ipis();
	assert_int_equal(used_len(Q_TX, 0), 0);
	assert_int_equal(net.vdev.vq[Q_TX].last_avail, 2);
	c = counters();
	assert_int_equal(c.rx, 1);
	assert_int_equal(c.no_buffer, 0);
}

/* Nothing frees room: after 100 ms the tick drops the frame (counted) and
 * returns its chain; the receiver is then unresponsive (the next frame
 * without room is dropped at once) until it notifies its RX queue. */
static void test_parked_frame_expires(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	now_ticks = 5000;
	offer_frame(0);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 0);
	now_ticks += 100 * 1000; /* exactly 100 ms: not yet */
	virtio_net_tick();
	assert_int_equal(used_idx(Q_TX), 0);
	now_ticks++;
	virtio_net_tick();
	assert_int_equal(used_idx(Q_TX), 1);
	assert_int_equal(used_len(Q_TX, 0), 0);
	assert_int_equal(counters().no_buffer, 1);

	offer_frame(1); /* unresponsive: dropped at once */
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 2);
	assert_int_equal(counters().no_buffer, 2);

	notify(0); /* a notify without buffers: still unresponsive */
	offer_frame(2);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 3);
	assert_int_equal(counters().no_buffer, 3);

	offer_rx(1, 2048); /* it adds buffers: frames for it are delivered again */
	notify(0);
	offer_frame(3);
	notify(Q_TX);
	assert_int_equal(used_idx(0), 1);
	assert_int_equal(used_idx(Q_TX), 4);
	assert_int_equal(counters().no_buffer, 3);
}

/* Two vCPUs of the sender: while CPU 0 routes its frame, CPU 1 sends one
 * that finds no room and parks; CPU 0's frame then finds the port's parked
 * slot taken and is dropped (counted), its chain returned. */
static bool second_sent;

static void send_from_cpu1(void)
{
	if (second_sent)
		return;
	second_sent = true;
	cur_cpu = 1;
	offer_frame(1);
	notify(Q_TX);
	cur_cpu = 0;
}

static void test_second_frame_dropped_while_parked(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	second_sent = false;
	offer_frame(0);
	on_route = send_from_cpu1;
	notify(Q_TX);
	on_route = NULL;
	assert_int_equal(routed, 2);
	assert_int_equal(used_idx(Q_TX), 1); /* CPU 0's, dropped */
	volatile uint32_t *ring = (volatile uint32_t *)((uint8_t *)hva(USED_IPA(Q_TX)) + 4);
	assert_int_equal(ring[0], 0);
	assert_int_equal(counters().no_buffer, 1);
	/* CPU 1's is parked: delivered once there is room */
	offer_rx(1, 2048);
	notify(0);
	assert_int_equal(used_idx(0), 1);
	assert_int_equal(used_idx(Q_TX), 2);
	assert_int_equal(ring[2], 1);
}

/* Headers a sender may not send: dropped as bad, the chain returned,
 * nothing delivered or parked. */
static void test_hostile_headers_dropped(void **state)
{
	const struct net_hdr bad[] = {
		{.flags = 2}, /* DATA_VALID is the device's to set */
		gso_hdr,      /* GSO without HOST_TSO4 negotiated */
		{.flags = NET_HDR_F_NEEDS_CSUM, .csum_start = 100, .csum_offset = 16},
		{.flags = NET_HDR_F_NEEDS_CSUM, .csum_start = 0xffff, .csum_offset = 0xffff},
	};
	(void)state;
	bring_up_with(NET_F_CSUM | NET_F_GUEST_CSUM);
	route_to = 1;
	offer_rx(QSIZE, 2048);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		write_tcp_frame(&bad[i], 100); /* csum_start 100 + 16 + 2 > 100 */
		offer_tx((uint16_t)i, NET_HDR_LEN + 100);
		notify(Q_TX);
		assert_int_equal(used_idx(Q_TX), i + 1);
		assert_int_equal(counters().bad, i + 1);
	}
	assert_int_equal(used_idx(0), 0);
	struct counters c = counters();
	assert_int_equal(c.rx + c.no_buffer, 0);
}

/* A sender with TSO may hand over up to 64 KiB, but only as a GSO frame: a
 * plain frame is at most the MTU's (a receiver that negotiated nothing
 * must never get more), whatever else the header says. */
static void test_plain_frame_over_mtu_dropped(void **state)
{
	static const struct net_hdr plain = {0}, csum = {.flags = NET_HDR_F_NEEDS_CSUM,
							 .csum_start = 34,
							 .csum_offset = 16};
	(void)state;
	bring_up_with(TSO_FEATURES);
	route_to = 1;
	offer_rx(QSIZE, RXBUF_LEN);
	write_tcp_frame(&plain, 1519);
	offer_tx(0, NET_HDR_LEN + 1519);
	notify(Q_TX);
	write_tcp_frame(&csum, 9000);
	offer_tx(1, NET_HDR_LEN + 9000);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 2);
	assert_int_equal(used_idx(0), 0);
	assert_int_equal(counters().bad, 2);
	write_tcp_frame(&plain, 1518); /* the largest plain frame goes */
	offer_tx(2, NET_HDR_LEN + 1518);
	notify(Q_TX);
	assert_int_equal(used_idx(0), 1);
	assert_int_equal(used_len(0, 0), NET_HDR_LEN + 1518);
}

/* A receiver without GUEST_CSUM gets a NEEDS_CSUM frame with its checksum
 * finished by the switch; one without room for it makes it wait like any
 * other unicast frame (parked, not dropped), and gets it finished, flags
 * clear, once it adds a buffer. */
static void test_finished_frame_parks_without_room(void **state)
{
	static const struct net_hdr csum = {
		.flags = NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
	(void)state;
	bring_up_with(NET_F_CSUM); /* and not GUEST_CSUM */
	route_to = 1;
	write_tcp_frame(&csum, 200);
	put_be16((uint8_t *)hva(DATA_IPA) + NET_HDR_LEN + 50,
		 6 + (200 - 34)); /* the sender's part */
	offer_tx(0, NET_HDR_LEN + 200);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 0);
	assert_int_equal(counters().no_buffer, 0);
	offer_rx(1, 2048);
	notify(0);
	assert_int_equal(used_idx(Q_TX), 1);
	assert_int_equal(used_idx(0), 1);
	assert_int_equal(used_len(0, 0), NET_HDR_LEN + 200);
	struct net_hdr h;
	const uint8_t *got = hva(RXBUF_IPA);
	net_hdr_parse(got, &h);
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.csum_start, 0);
	/* the TCP checksum (pseudo-header: zero addresses, protocol, length)
	 * verifies */
	uint32_t sum = 6 + (200 - 34);
	for (unsigned i = 34; i < 200; i += 2)
		sum += (uint32_t)(got[NET_HDR_LEN + i] << 8 | got[NET_HDR_LEN + i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff);
}

/* An MSS under NET_GSO_MIN_SIZE would have the switch cut one TX chain
 * into up to 65536 frames for a receiver without TSO: dropped as bad. */
static void test_gso_tiny_mss_dropped(void **state)
{
	struct net_hdr h = gso_hdr;
	(void)state;
	bring_up_with(NET_F_CSUM | NET_F_HOST_TSO4 | F_MRG_RXBUF);
	route_to = 1;
	offer_rx(QSIZE, 2048);
	h.gso_size = NET_GSO_MIN_SIZE - 1;
	write_tcp_frame(&h, 4000);
	offer_tx(0, NET_HDR_LEN + 4000);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 1);
	assert_int_equal(used_idx(0), 0);
	assert_int_equal(counters().bad, 1);
	h.gso_size = NET_GSO_MIN_SIZE; /* 82 segments of 48 bytes, 16 of them delivered */
	write_tcp_frame(&h, 4000);
	offer_tx(1, NET_HDR_LEN + 4000);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 2);
	assert_int_equal(used_idx(0), QSIZE);
	assert_int_equal(used_len(0, 0), NET_HDR_LEN + 54 + NET_GSO_MIN_SIZE);
	struct counters c = counters();
	assert_int_equal(c.bad, 1);
	assert_int_equal(c.rx, QSIZE);
	assert_int_equal(c.no_buffer,
			 (4000 - 54 + NET_GSO_MIN_SIZE - 1) / NET_GSO_MIN_SIZE - QSIZE);
}

/* A receive chain (without MRG_RXBUF) too small for the frame: more
 * buffers would not make it fit, so it is dropped at once (counted), its
 * TX chain returned, not parked for 100 ms; the chain stays the driver's,
 * for frames that fit. */
static void test_frame_too_big_for_rx_chain_dropped(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	offer_rx(1, NET_HDR_LEN + 40);
	offer_frame(0); /* 60 bytes */
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 1);
	assert_int_equal(used_idx(0), 0);
	assert_int_equal(net.vdev.vq[0].last_avail, 0);
	struct counters c = counters();
	assert_int_equal(c.rx, 0);
	assert_int_equal(c.no_buffer, 1);
}

/* An unresponsive port whose new buffers were all taken before its notify
 * came (that notify finds none): the frame delivered into them shows it
 * reads again, and the next frame without room waits. */
static void test_delivery_clears_unresponsive(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	offer_frame(0);
	notify(Q_TX);
	now_ticks += 100 * 1000 + 1;
	virtio_net_tick(); /* expired: unresponsive */
	assert_int_equal(used_idx(Q_TX), 1);
	offer_rx(1, 2048);
	offer_frame(1); /* takes the new buffer before the RX notify */
	notify(Q_TX);
	assert_int_equal(used_idx(0), 1);
	notify(0); /* finds no buffers */
	offer_frame(2);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 2); /* parked, not dropped */
	assert_int_equal(counters().no_buffer, 1);
}

/* The receiver's RX notify comes on its own CPU, another VM's: it delivers
 * the parked frame and returns its chain, but takes none of the sender's
 * other TX chains (guest-sized work on a foreign CPU); it sends IPI_NET to
 * the sender's CPU, where they are taken without the guest notifying
 * again. A second wake before that CPU took the work sends no more IPIs. */
static void test_foreign_wake_leaves_queue_to_sender(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	offer_frame(0);
	notify(Q_TX);
	assert_int_equal(used_idx(Q_TX), 0);
	offer_frame(1); /* behind the parked one, not notified */
	offer_frame(2);
	offer_rx(3, 2048);
	cur_cpu = 0;
	notify(0);
	assert_int_equal(used_idx(0), 1); /* the parked frame only */
	assert_int_equal(used_idx(Q_TX), 1);
	assert_int_equal(net.vdev.vq[Q_TX].last_avail, 1);
	assert_int_equal(routed, 1);
	assert_int_equal(ipis[SENDER_CPU], 1);
	assert_int_equal(ipis[0], 0);
	notify(0); /* nothing parked: no wake, no IPI */
	assert_int_equal(ipis[SENDER_CPU], 1);
	take_ipis();
	assert_int_equal(routed, 3);
	assert_int_equal(used_idx(0), 3);
	assert_int_equal(used_idx(Q_TX), 3);
	struct counters c = counters();
	assert_int_equal(c.rx, 3);
	assert_int_equal(c.no_buffer, 0);
}

/* The tick on another VM's CPU drops an expired frame and leaves the
 * sender's queue to the sender's CPU; on the sender's own CPU the tick
 * takes the queue itself (no IPI). */
static void test_tick_leaves_queue_to_sender(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	offer_frame(0);
	notify(Q_TX);
	offer_frame(1);
	now_ticks += 100 * 1000 + 1;
	cur_cpu = 0;
	virtio_net_tick();
	assert_int_equal(used_idx(Q_TX), 1); /* dropped, its chain back */
	assert_int_equal(routed, 1);
	assert_int_equal(ipis[SENDER_CPU], 1);
	offer_rx(1, 2048);
	notify(0); /* the receiver reads again */
	take_ipis();
	assert_int_equal(routed, 2);
	assert_int_equal(used_idx(0), 1);
	assert_int_equal(used_idx(Q_TX), 2);

	offer_frame(2); /* parks (no room) */
	notify(Q_TX);
	offer_frame(3);
	assert_int_equal(used_idx(Q_TX), 2);
	now_ticks += 100 * 1000 + 1;
	cpus[SENDER_CPU].vcpu = &vm.vcpus[0];
	cur_cpu = SENDER_CPU;
	virtio_net_tick(); /* dropped; frame 3 taken here, dropped too: unresponsive */
	cur_cpu = 0;
	assert_int_equal(ipis[SENDER_CPU], 0);
	assert_int_equal(routed, 4);
	assert_int_equal(used_idx(Q_TX), 4);
	assert_int_equal(counters().no_buffer, 3);
}

/* The sender's driver resets the device while a frame is parked: the
 * frame is dropped then (counted) and never delivered, and its chain is
 * not returned into the new driver's queue, which sends at once. */
static void test_reset_drops_parked_frame(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	offer_frame(0);
	notify(Q_TX);
	assert_int_equal(counters().no_buffer, 0);
	wr(0x070, 0);
	assert_int_equal(counters().no_buffer, 1);
	memset(hva(DESC_IPA(0)), 0, 3 * 3 * 0x1000); /* the new driver's rings */
	rx_next = 0;
	bring_up();
	offer_rx(1, 2048);
	notify(0);
	take_ipis();
	assert_int_equal(used_idx(0), 0);
	assert_int_equal(used_idx(Q_TX), 0);
	offer_frame(0);
	notify(Q_TX);
	assert_int_equal(used_idx(0), 1);
	assert_int_equal(used_idx(Q_TX), 1);
	struct counters c = counters();
	assert_int_equal(c.rx, 1);
	assert_int_equal(c.no_buffer, 1);
}

/* The TX queue disabled and enabled again (QueueReady 0, 1) under a parked
 * frame: its chain is not the driver's any more, so the next retry drops
 * the frame (counted) instead of delivering it. */
static void test_queue_reenable_drops_parked_frame(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	offer_frame(0);
	notify(Q_TX);
	wr(0x030, Q_TX);
	wr(0x044, 0);
	wr(0x044, 1);
	offer_rx(1, 2048);
	notify(0);
	assert_int_equal(used_idx(0), 0);
	assert_int_equal(used_idx(Q_TX), 0);
	assert_int_equal(counters().no_buffer, 1);
	take_ipis();
}

/* One IPI_NET until the sender's CPU takes the work: a second frame
 * delivered by a foreign wake before that sends none (kick_sender's bit),
 * nor does a foreign retry that finds no room; the one IPI then takes all
 * the chains the driver added meanwhile. */
static void test_one_ipi_until_work_taken(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	offer_frame(0);
	notify(Q_TX); /* parks: no receive buffer */
	offer_rx(1, 2048);
	notify(0); /* foreign: delivers frame 0, kicks */
	assert_int_equal(ipis[SENDER_CPU], 1);
	offer_frame(1);
	notify(Q_TX); /* the driver's own notify: frame 1 parks */
	assert_int_equal(net.vdev.vq[Q_TX].last_avail, 2);
	virtio_net_tick(); /* a foreign retry without room: no IPI */
	assert_int_equal(ipis[SENDER_CPU], 1);
	offer_frame(2); /* not notified */
	offer_rx(1, 2048);
	notify(0); /* delivers frame 1: the work is still pending, no IPI */
	assert_int_equal(ipis[SENDER_CPU], 1);
	assert_int_equal(used_idx(Q_TX), 2);
	assert_int_equal(net.vdev.vq[Q_TX].last_avail, 2);
	take_ipis();
	assert_int_equal(net.vdev.vq[Q_TX].last_avail, 3);
	assert_int_equal(routed, 3);
	assert_int_equal(ipis[SENDER_CPU], 0);
}

static void driver_resets(void)
{
	wr(0x070, 0);
}

/* The sender's driver resets the device while another CPU's retry of its
 * parked frame is under way (the reset hook leaves that frame to it): the
 * try that finds no room drops the frame then (counted), and the sender's
 * CPU is told to go on; the new driver's first frame is not held up. */
static void test_reset_during_retry_drops_parked_frame(void **state)
{
	(void)state;
	bring_up();
	route_to = 1;
	offer_frame(0);
	notify(Q_TX);             /* parks: no receive buffer */
	on_clock = driver_resets; /* read after the retry's delivery found no room */
	virtio_net_tick();
	assert_null(on_clock);
	assert_int_equal(counters().no_buffer, 1);
	assert_int_equal(ipis[SENDER_CPU], 1);
	take_ipis();
	memset(hva(DESC_IPA(0)), 0, 3 * 3 * 0x1000); /* the new driver's rings */
	rx_next = 0;
	bring_up();
	offer_rx(1, 2048);
	offer_frame(0);
	notify(Q_TX);
	assert_int_equal(used_idx(0), 1);
	assert_int_equal(used_idx(Q_TX), 1);
	assert_int_equal(counters().no_buffer, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_foreign_wake_leaves_queue_to_sender, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tick_leaves_queue_to_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_drops_parked_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_ipi_until_work_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_during_retry_drops_parked_frame, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_reenable_drops_parked_frame, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gso_tiny_mss_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery_clears_unresponsive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_too_big_for_rx_chain_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_loop_bounded_per_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_read_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_loop_bounded_per_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctrl_without_ack_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gso_frame_over_mergeable_buffers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_room_parks_until_rx_notify, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_parked_frame_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_frame_dropped_while_parked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hostile_headers_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_frame_over_mtu_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finished_frame_parks_without_room, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
