/* libFuzzer harness of virtio-net and the switch: three VMs (the MVM's
 * uplink port and two GVMs), each with its own guard-paged RAM and a
 * virtio-net device behind the real virtio-mmio register file. The fuzzer
 * drives each guest as a driver that may misbehave at any point: register
 * accesses of any offset and value, a proper set-up with chosen features
 * (offloads and mergeable buffers included) and queue sizes, chains of any
 * shape (direct or indirect, hostile addresses, lengths and flags) posted
 * on TX, RX and the control queue, TX headers of any flags and GSO fields
 * (TCP/IPv4 and IPv6 segments of up to 6000 bytes built for them), raw ring
 * and memory writes, notifies, and the counter moved with the hypervisor's
 * tick; each step runs on a physical CPU the input picks (VM v's vCPU is
 * on CPU v + 1; the IPI_NET a step sends lands after it). The switch's
 * forwarding is also fuzzed alone.
 *
 * Checked after every step, for every VM:
 *  - the device wrote only its used rings and device-writable buffers;
 *  - every frame received (over num_buffers chains used in a row with
 *    MRG_RXBUF, each but the last filled up; num_buffers 1 without) fits
 *    the receiver's buffers, was for it (its MAC, multicast, or unknown
 *    unicast to the uplink), and is a frame another VM sent in that step
 *    or had parked: as it is, with the header its offloads give (only to a
 *    receiver that negotiated them: NEEDS_CSUM only with GUEST_CSUM, GSO
 *    only with GUEST_TSO4/6), or finished by the switch: its checksum
 *    written, or a GSO frame cut into an MSS segment whose IP and TCP
 *    checksums verify and whose payload is the right slice of the frame's;
 *    a plain frame is never longer than the MTU's;
 *  - the switch takes exactly the frames the header's rules allow
 *    (net_offload.h, checked by the harness's own reading of them);
 *  - TX chains come back with 0 bytes written, in the order taken, none
 *    twice; at most one stays (parked: a frame for the uplink alone that found no room), and
 *    nothing is taken while it does; it comes back on the tick once it
 *    waited more than 100 ms, and at once when its receiver notifies with
 *    room for it; control chains come back with 1 (an ack of OK or ERR in
 *    the last writable byte);
 *  - a VM's TX chains are taken only on its own CPU or by its own step (its
 *    notify, on whatever CPU): another VM's RX notify or tick delivers its
 *    parked frame at most, the rest waits for its CPU's IPI, which takes
 *    them (a chain made available is never left behind a returned one);
 *  - interrupts only for the VM's own device interrupt; no lock left held;
 *  - config space shows the port's MAC, whatever the guest did;
 *  - forwarding: never back to the sender, only to existing ports, broadcast
 *    to all others, unicast to its owner, unknown unicast to the uplink;
 *  - storm control, with a limit per port chosen per input (and changed by
 *    steps, out of bounds too) and a counter the input moves (by ticks,
 *    seconds, any 64-bit amount, backwards): limits refused exactly when out
 *    of bounds, a refused one changes nothing; only the sender's bucket is
 *    asked, once per frame it floods (broadcast/multicast, as read back from
 *    its memory), and every such frame is either delivered to both other
 *    ports (checked when nothing is parked and no GSO frame is cut) or
 *    counted in drop_storm, which grows for nothing else; with rate
 *    0 nothing is dropped; a fresh or refilled bucket lets min(frames, burst)
 *    through, one drained leaves at least floor(ticks * rate / hz) and at most
 *    floor((hz - 1 + ticks * rate) / hz) (none for a counter gone back); and
 *    since the limit was set at most burst + floor(rate * ticks / hz) frames
 *    went (credit starts at burst * hz, a tick adds rate, a frame costs hz,
 *    so passed * hz <= burst * hz + rate * ticks: no + 1). The bucket runs
 *    alone in the switch mode too, at any counter value. */
#include <stdio.h>
#include <string.h>

#include "lib/fuzz_stubs.h"
#include "net/net_offload.h"
#include "net/virtio_net.h"
#include "core/percpu.h"
#include "core/vm.h"
#include "drivers/gic.h"

typedef unsigned __int128 u128;

#define NVMS 3
#define SLOT_BASE 0x0a000000UL
#define IRQ0 48
#define Q_RX 0
#define Q_TX 1
#define Q_CTRL 2
#define NQ 3
#define HDR_LEN 12
#define MAX_FRAME (1500 + 14 + 4)
/* Guest RAM layout of the well-behaved part of the driver: queue q's
 * descriptors at q * QAREA, avail ring at + 0x400, used ring at + 0x500;
 * buffers after BUF_START. */
#define QAREA 0x800
#define QMAX 64
#define BUF_START (NQ * QAREA)

/* virtio-mmio registers */
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INTERRUPT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC_LOW 0x080
#define R_QUEUE_DRIVER_LOW 0x090
#define R_QUEUE_DEVICE_LOW 0x0a0
#define R_CONFIG 0x100

static const uint8_t macs[NVMS][6] = {
	{0x52, 0x54, 0x00, 0x5e, 0x00, 0x01},
	{0x52, 0x54, 0x00, 0x5e, 0x00, 0x11},
	{0x52, 0x54, 0x00, 0x5e, 0x00, 0x12},
};

struct driver { /* what the well-behaved part of a guest's driver knows */
	uint16_t num[NQ];
	uint16_t avail_idx[NQ];
	uint16_t next_desc[NQ];
	bool indirect;
};

static struct fuzz_guest guests[NVMS];
static struct virtio_net nets[NVMS];
static struct driver drv[NVMS];
static struct pcpu cpu; /* this_cpu(): the step's physical CPU, as the input says */
static bool trace;
#define TRACE(...)                                    \
	do {                                          \
		if (trace)                            \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

/* ---------------------------------------------------------------- guest side */

static uint32_t mmio(unsigned v, uint64_t off, unsigned width, bool write, uint64_t val, bool *ok)
{
	struct vm *vm = &vms[v];
	struct mmio_access acc = {.addr = SLOT_BASE + off, .width = width, .write = write};
	bool dummy;

	if (width < 8)
		val &= (1ULL << (8 * width)) - 1; /* as the trap path passes a store */
	acc.value = write ? val : 0;
	*(ok ? ok : &dummy) = vm->mmio[0].handler(&vm->vcpus[0], &acc, vm->mmio[0].dev);
	return (uint32_t)acc.value;
}

static void wr(unsigned v, uint64_t off, uint32_t val)
{
	mmio(v, off, 4, true, val, NULL);
}

static uint32_t rd(unsigned v, uint64_t off)
{
	return mmio(v, off, 4, false, 0, NULL);
}

static void put16(unsigned v, uint64_t off, uint16_t x)
{
	fuzz_guest_write(&guests[v], off, &x, 2);
}

static ipa_t qarea(unsigned q)
{
	return FUZZ_GUEST_IPA + q * QAREA;
}

/* Reset, features, three queues, DRIVER_OK: the normal bring-up. */
static void driver_init(unsigned v, struct fuzz_in *in)
{
	struct driver *d = &drv[v];
	uint32_t choice = fin_u32(in);
	uint64_t offered;

	wr(v, R_STATUS, 0);
	wr(v, R_STATUS, 1);
	wr(v, R_STATUS, 3);
	wr(v, R_DEVICE_FEATURES_SEL, 0);
	offered = rd(v, R_DEVICE_FEATURES);
	wr(v, R_DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)rd(v, R_DEVICE_FEATURES) << 32;
	uint64_t want = (offered & choice) | VIRTIO_F_VERSION_1;
	wr(v, R_DRIVER_FEATURES_SEL, 0);
	wr(v, R_DRIVER_FEATURES, (uint32_t)want);
	wr(v, R_DRIVER_FEATURES_SEL, 1);
	wr(v, R_DRIVER_FEATURES, (uint32_t)(want >> 32));
	wr(v, R_STATUS, 0xb);
	FUZZ_ASSERT(rd(v, R_STATUS) & VIRTIO_STATUS_FEATURES_OK,
		    "features 0x%llx of 0x%llx refused", (unsigned long long)want,
		    (unsigned long long)offered);
	*d = (struct driver){.indirect = want & VIRTIO_F_RING_INDIRECT_DESC};
	for (unsigned q = 0; q < NQ; q++) {
		uint16_t num = (uint16_t)(1u << (fin_u8(in) % 7)); /* 1..64 */
		ipa_t a = qarea(q);
		d->num[q] = num;
		wr(v, R_QUEUE_SEL, q);
		wr(v, R_QUEUE_NUM, num);
		wr(v, R_QUEUE_DESC_LOW, (uint32_t)a);
		wr(v, R_QUEUE_DESC_LOW + 4, 0);
		wr(v, R_QUEUE_DRIVER_LOW, (uint32_t)(a + 0x400));
		wr(v, R_QUEUE_DRIVER_LOW + 4, 0);
		wr(v, R_QUEUE_DEVICE_LOW, (uint32_t)(a + 0x500));
		wr(v, R_QUEUE_DEVICE_LOW + 4, 0);
		wr(v, R_QUEUE_READY, 1);
		FUZZ_ASSERT(rd(v, R_QUEUE_READY) == 1, "queue %u of %u entries refused", q, num);
	}
	wr(v, R_STATUS, 0xf);
	TRACE("vm %u: driver up, features 0x%llx\n", v, (unsigned long long)want);
}

struct pcpu *this_cpu(void)
{
	return &cpu;
}

/* VM v's vCPU runs on CPU v + 1 (CPU 0 and the others are nobody's): a
 * step on it is the VM's own. IPI_NET sent to a CPU lands after the step's
 * action, before it is checked. */
static uint32_t ipis;

void gic_send_sgi(unsigned pcpu, unsigned sgi)
{
	FUZZ_ASSERT(sgi == IPI_NET && pcpu >= 1 && pcpu <= NVMS, "SGI %u to CPU %u", sgi, pcpu);
	ipis |= 1u << pcpu;
}

static void set_cpu(unsigned id)
{
	cpu.id = id;
	cpu.vcpu = id >= 1 && id <= NVMS ? &vms[id - 1].vcpus[0] : NULL;
}

static void take_ipis(void)
{
	unsigned was = cpu.id;

	while (ipis) {
		unsigned c = (unsigned)__builtin_ctz(ipis);
		ipis &= ipis - 1;
		set_cpu(c);
		virtio_net_work();
	}
	set_cpu(was);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* The Internet checksum's sum (RFC 1071) of n bytes from p, added to acc
 * (an odd last byte is the high half of a word), and its fold. */
static uint64_t sum16(const uint8_t *p, uint32_t n, uint64_t acc)
{
	for (uint32_t i = 0; i < n; i += 2)
		acc += i + 1 < n ? be16(p + i) : (uint64_t)p[i] << 8;
	return acc;
}

static uint16_t fold16(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* A TCP segment as a driver with offloads hands it over: Ethernet, maybe a
 * VLAN tag, IPv4 (with options) or IPv6, TCP (with options), a payload of
 * up to PAYLOAD_MAX bytes; the TCP checksum field holds the pseudo-header's
 * sum (what NEEDS_CSUM leaves to the device); the header asks for the
 * checksum, GSO, both or neither, and a hostile one has a field changed. */
#define PAYLOAD_MAX 6000
FUZZ_NOCOV static size_t tcp_content(struct fuzz_in *in, uint8_t how, uint8_t *buf, size_t cap)
{
	uint8_t *f = buf + HDR_LEN;
	bool vlan = how & 1, v6 = how & 2;
	uint32_t l3 = vlan ? 18 : 14;
	uint32_t l4 = l3 + (v6 ? 40 : 4 * (5 + fin_u8(in) % 3));
	uint32_t hlen = l4 + 4 * (5 + fin_u8(in) % 4);
	uint32_t payload = fin_u16(in) % (PAYLOAD_MAX + 1);
	uint32_t len = MIN(hlen + payload, (uint32_t)(cap - HDR_LEN));
	uint8_t *ip = f + l3, *tcp = f + l4;

	memset(f + 6, 0, len - 6);
	fin_bytes(in, f + 6, 6);
	if (vlan) {
		put_be16(f + 12, 0x8100);
		put_be16(f + 14, fin_u16(in));
	}
	put_be16(f + l3 - 2, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ip[0] = 0x60;
		put_be16(ip + 4, (uint16_t)(len - l4));
		ip[6] = 6;
		ip[7] = 64;
		fin_bytes(in, ip + 8, 32);
	} else {
		ip[0] = (uint8_t)(0x40 | (l4 - l3) / 4);
		put_be16(ip + 2, (uint16_t)MIN(len - l3, 0xffffu));
		put_be16(ip + 4, fin_u16(in));
		ip[8] = 64;
		ip[9] = 6;
		fin_bytes(in, ip + 12, 8);
		fin_bytes(in, ip + 20, l4 - l3 - 20);
		put_be16(ip + 10, (uint16_t)~fold16(sum16(ip, l4 - l3, 0)));
	}
	fin_bytes(in, tcp, 8); /* ports, sequence number */
	tcp[12] = (uint8_t)((hlen - l4) / 4 << 4);
	tcp[13] = fin_u8(in);
	fin_bytes(in, tcp + 20, hlen - l4 - 20);
	if (len > hlen)
		fin_bytes(in, f + hlen, len - hlen);
	uint64_t pseudo = v6 ? sum16(ip + 8, 32, 0) : sum16(ip + 12, 8, 0);
	put_be16(tcp + 16, fold16(pseudo + 6 + (len - l4)));
	/* the virtio header (little-endian) */
	bool gso = how & 8, csum = gso || (how & 4);
	uint16_t mss = (uint16_t)(how & 0x10 ? 1 + fin_u8(in) : 64 + fin_u16(in) % 1500);
	uint16_t hdr_len = fin_u16(in), num_buffers = fin_u16(in); /* anything */
	uint16_t fields[5] = {hdr_len, gso ? mss : 0, csum ? (uint16_t)l4 : 0, csum ? 16 : 0,
			      num_buffers};
	buf[0] = csum;
	buf[1] = gso ? (v6 ? NET_GSO_TCPV6 : NET_GSO_TCPV4) : NET_GSO_NONE;
	for (unsigned i = 0; i < 5; i++) {
		buf[2 + 2 * i] = (uint8_t)fields[i];
		buf[3 + 2 * i] = (uint8_t)(fields[i] >> 8);
	}
	if (how & 0x20) /* hostile: one byte of the header changed */
		buf[fin_u8(in) % HDR_LEN] = fin_u8(in);
	return HDR_LEN + len;
}

/* The bytes the guest puts in a chain's readable buffers: on TX a zero
 * header, or for a well-formed chain with mode bit 0x40 one the next byte
 * picks (a TCP segment's, a checksum request at any place, any bytes). */
FUZZ_NOCOV static size_t chain_content(struct fuzz_in *in, unsigned q, uint8_t mode, uint8_t *buf,
				       size_t cap)
{
	size_t n = 0;

	if (q == Q_TX) {
		uint8_t who = fin_u8(in);
		memset(buf, 0, HDR_LEN);
		n = HDR_LEN;
		if (who < 3 * 64) /* a port, broadcast or a stranger */
			memcpy(buf + n, macs[who % NVMS], 6);
		else if (who < 224)
			memset(buf + n, 0xff, 6);
		else
			fin_bytes(in, buf + n, 6);
		uint8_t how = (mode & 0xc0) == 0x40 ? fin_u8(in) : 0;
		if (how >= 0x80)
			return tcp_content(in, how, buf, cap);
		if (how & 0x40)
			fin_bytes(in, buf, HDR_LEN);
		else if (how & 0x20) {
			buf[0] = NET_HDR_F_NEEDS_CSUM;
			buf[6] = fin_u8(in);
			buf[8] = fin_u8(in) % 32;
		}
		n += 6;
	}
	return n + fin_bytes(in, buf + n, fin_u16(in) % (cap - n));
}

/* A chain of 1-4 descriptors, direct or through an indirect table,
 * well-formed for its queue or not. */
static void post_chain(unsigned v, struct fuzz_in *in)
{
	struct driver *d = &drv[v];
	unsigned q = fin_u8(in) % NQ;
	uint8_t mode = fin_u8(in);
	unsigned nseg = 1 + mode % 4;
	bool indirect = d->indirect && (mode & 4);
	uint16_t num = d->num[q];
	struct virtq_desc descs[4];
	static uint8_t content[8192];
	size_t len = chain_content(in, q, mode, content, sizeof(content)), done = 0;

	if (!num)
		return;
	for (unsigned i = 0; i < nseg; i++) {
		uint16_t off = fin_u16(in);
		uint32_t blen = fin_u16(in) % 0x700 + 1;
		bool writable = q == Q_RX || (q == Q_CTRL && i == nseg - 1 && nseg > 1);
		if (i == 0 && q == Q_CTRL && nseg == 1)
			writable = false;
		uint16_t flags = writable ? VIRTQ_DESC_F_WRITE : 0;
		if (mode & 0x80) { /* hostile: any flags, address and length */
			flags = fin_u16(in);
			descs[i].addr = mode & 0x40 ? fin_u64(in) : FUZZ_GUEST_IPA + off;
			blen = mode & 0x20 ? fin_u32(in) : blen;
		} else {
			descs[i].addr =
				FUZZ_GUEST_IPA + BUF_START + off % (FUZZ_GUEST_SIZE - BUF_START);
			if (descs[i].addr + blen > FUZZ_GUEST_IPA + FUZZ_GUEST_SIZE)
				blen = (uint32_t)(FUZZ_GUEST_IPA + FUZZ_GUEST_SIZE - descs[i].addr);
		}
		descs[i].len = blen;
		if (!(mode & 0x80) && !writable && done < len) {
			size_t n = MIN(len - done, blen);
			fuzz_guest_write(&guests[v], descs[i].addr - FUZZ_GUEST_IPA, content + done,
					 n);
			done += n;
		}
		descs[i].flags = (uint16_t)(flags & ~VIRTQ_DESC_F_NEXT) |
				 (i + 1 < nseg ? VIRTQ_DESC_F_NEXT : 0);
	}
	uint16_t head = d->next_desc[q] % num;
	if (indirect) {
		ipa_t table = FUZZ_GUEST_IPA + ((BUF_START + (fin_u16(in) % 0x2000)) & ~15UL);
		for (unsigned i = 0; i < nseg; i++) {
			descs[i].next = (uint16_t)(i + 1);
			fuzz_guest_write(&guests[v], table - FUZZ_GUEST_IPA + 16 * i, &descs[i],
					 16);
		}
		struct virtq_desc ind = {table, 16 * nseg, VIRTQ_DESC_F_INDIRECT, 0};
		fuzz_guest_write(&guests[v], qarea(q) - FUZZ_GUEST_IPA + 16ULL * head, &ind, 16);
		d->next_desc[q]++;
	} else {
		for (unsigned i = 0; i < nseg; i++) {
			uint16_t at = (uint16_t)((d->next_desc[q] + i) % num);
			descs[i].next = (uint16_t)((at + 1) % num);
			fuzz_guest_write(&guests[v], qarea(q) - FUZZ_GUEST_IPA + 16ULL * at,
					 &descs[i], 16);
		}
		d->next_desc[q] += (uint16_t)nseg;
	}
	uint64_t avail = qarea(q) + 0x400 - FUZZ_GUEST_IPA;
	put16(v, avail + 4 + 2ULL * (d->avail_idx[q] % num), head);
	d->avail_idx[q]++;
	put16(v, avail + 2, d->avail_idx[q]);
	TRACE("vm %u: q%u chain head %u, %u segs%s mode 0x%x, %zu bytes\n", v, q, head, nseg,
	      indirect ? " indirect" : "", mode, len);
}

/* ---------------------------------------------------------------- checks */

struct qstate {
	struct fuzz_queue_view view;
	bool ready, event_idx;
	uint16_t last_avail, used_idx, signalled;
	ipa_t avail_ipa;
	bool indirect;
};
struct before {
	struct qstate q[NVMS][NQ];
	uint64_t resets[NVMS];
	uint64_t qresets[NVMS][NQ];
};

static void capture(struct qstate *s, const struct virtq *vq)
{
	*s = (struct qstate){{vq->num, vq->desc_ipa, vq->used_ipa},
			     vq->ready,
			     vq->event_idx,
			     vq->last_avail,
			     vq->used_idx,
			     vq->signalled_used,
			     vq->avail_ipa,
			     vq->indirect};
}

FUZZ_NOCOV static void save_before(struct before *b)
{
	for (unsigned v = 0; v < NVMS; v++) {
		fuzz_guest_snapshot(&guests[v]);
		b->resets[v] = nets[v].vdev.reset_count;
		for (unsigned q = 0; q < NQ; q++) {
			capture(&b->q[v][q], &nets[v].vdev.vq[q]);
			b->qresets[v][q] = nets[v].vdev.queue_resets[q];
		}
	}
	fuzz_irqs_reset();
}

static bool same_queue(const struct before *b, unsigned v, unsigned q)
{
	const struct virtq *vq = &nets[v].vdev.vq[q];
	const struct qstate *s = &b->q[v][q];

	return s->ready && vq->ready && b->resets[v] == nets[v].vdev.reset_count &&
	       b->qresets[v][q] == nets[v].vdev.queue_resets[q] && s->view.num == vq->num &&
	       s->view.desc_ipa == vq->desc_ipa && s->view.used_ipa == vq->used_ipa &&
	       s->avail_ipa == vq->avail_ipa;
}

static bool seg_overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

/* Whether a device-writable segment of `w` overlaps one of `segs`. */
FUZZ_NOCOV static bool writes_over(const struct fuzz_seg *w, int m, const struct fuzz_seg *segs,
				   int n)
{
	for (int k = 0; k < m; k++)
		for (int a = 0; a < n; a++)
			if (w[k].writable &&
			    seg_overlap(segs[a].off, segs[a].len, w[k].off, w[k].len))
				return true;
	return false;
}

/* Whether a chain's buffers overlap each other or the queues' rings: then
 * what we read back need not be what the device wrote or read. */
FUZZ_NOCOV static bool tangled(const struct fuzz_seg *s, int n, const struct before *b, unsigned v)
{
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < i; j++)
			if (seg_overlap(s[i].off, s[i].len, s[j].off, s[j].len))
				return true;
		for (unsigned q = 0; q < NQ; q++) {
			const struct qstate *qs = &b->q[v][q];
			if (!qs->view.num)
				continue;
			uint64_t d = qs->view.desc_ipa - FUZZ_GUEST_IPA;
			uint64_t a = qs->avail_ipa - FUZZ_GUEST_IPA;
			uint64_t u = qs->view.used_ipa - FUZZ_GUEST_IPA;
			if (seg_overlap(s[i].off, s[i].len, d, 16ULL * qs->view.num) ||
			    seg_overlap(s[i].off, s[i].len, a, 6 + 2ULL * qs->view.num) ||
			    seg_overlap(s[i].off, s[i].len, u, 6 + 8ULL * qs->view.num))
				return true;
		}
	}
	return false;
}

static uint16_t get16(const uint8_t *mem, ipa_t ipa)
{
	uint16_t x;
	memcpy(&x, mem + (ipa - FUZZ_GUEST_IPA), 2);
	return x;
}

static uint32_t get32(const uint8_t *mem, ipa_t ipa)
{
	uint32_t x;
	memcpy(&x, mem + (ipa - FUZZ_GUEST_IPA), 4);
	return x;
}

static void check_config(unsigned v, struct fuzz_in *in)
{
	static const unsigned widths[] = {1, 2, 4, 8, 4, 1, 2, 3};
	unsigned width = widths[fin_u8(in) % 8];
	uint32_t off = fin_u8(in) % 16;
	bool ok;
	uint32_t val = mmio(v, R_CONFIG + off, width, false, 0, &ok);

	if (!ok)
		return;
	for (unsigned i = 0; i < width && i < 4; i++)
		if (off + i < 6)
			FUZZ_ASSERT((uint8_t)(val >> (8 * i)) == macs[v][off + i],
				    "vm %u: config byte %u is not the MAC's", v, off + i);
}

/* ---------------------------------------------------------------- storm control */

/* The counter (the stubs' timer_now and timer_freq are weak): it moves only
 * when the input says, and its frequency is the input's. */
static uint64_t clock_now, clock_hz = 1000000;

uint64_t timer_now(void)
{
	return clock_now;
}

uint64_t timer_freq(void)
{
	return clock_hz;
}

/* The switch is virtio_net.c's own: its address, and each bucket take, are
 * seen through the linker's --wrap (Makefile). */
static struct netswitch *the_sw;
static unsigned takes[NVMS], passes[NVMS]; /* in the current step */

int __real_netswitch_add_port(struct netswitch *sw, const uint8_t mac[ETH_ALEN], bool uplink,
			      void *dev);
bool __real_netswitch_flood_take(struct netswitch *sw, unsigned src, uint64_t now);

int __wrap_netswitch_add_port(struct netswitch *sw, const uint8_t mac[ETH_ALEN], bool uplink,
			      void *dev)
{
	if (dev) /* virtio_net_create's (fuzz_switch's ports have none) */
		the_sw = sw;
	return __real_netswitch_add_port(sw, mac, uplink, dev);
}

bool __wrap_netswitch_flood_take(struct netswitch *sw, unsigned src, uint64_t now)
{
	bool ok = __real_netswitch_flood_take(sw, src, now);

	if (sw == the_sw) {
		FUZZ_ASSERT(src < NVMS && now == clock_now, "flood take of port %u at %llu", src,
			    (unsigned long long)now);
		takes[src]++;
		passes[src] += ok;
	}
	return ok;
}

/* What the header's contract alone tells of a port's bucket. */
enum credit { C_FULL, C_UNDER_ONE_FRAME, C_UNKNOWN };
struct flood_model {
	uint32_t rate, burst;
	uint64_t hz;
	bool timed;
	uint64_t ref;       /* the bucket's time: counter value of its last refill */
	u128 ticks;         /* it was given since the limit was set */
	uint64_t passed;    /* flooded frames let through since then */
	enum credit credit; /* at ref */
};

static void model_set(struct flood_model *m, uint32_t rate, uint32_t burst, uint64_t hz)
{
	*m = (struct flood_model){rate, rate ? burst : 0, hz, .credit = C_FULL};
}

/* `t` flooded frames at counter value `now`, `p` of them let through.
 * With coverage: its cases lead the fuzzer to buckets run dry after a
 * refill, where the lower bound bites. */
static void model_takes(struct flood_model *m, uint64_t now, unsigned t, unsigned p,
			const char *who, unsigned port)
{
	uint64_t e = 0;

	if (!t)
		return;
	if (!m->rate) {
		FUZZ_ASSERT(p == t, "%s %u: %u of %u flooded frames dropped with no limit", who,
			    port, t - p, t);
		return;
	}
	/* Time starts at the first frame; a counter value less than 2^63
	 * ticks ahead (modulo 2^64) gives the ticks, one behind gives none
	 * and leaves the bucket's time where it was. */
	if (!m->timed) {
		m->timed = true;
		m->ref = now;
	} else if (!((now - m->ref) >> 63)) {
		e = now - m->ref;
		m->ref = now;
	}
	m->ticks += e;
	/* what the bucket holds now, in 1/hz frames: lo..hi */
	u128 cap = (u128)m->burst * m->hz, gain = (u128)e * m->rate, lo = 0, hi = cap;
	if (m->credit == C_FULL || gain >= cap)
		lo = cap;
	else if (m->credit == C_UNDER_ONE_FRAME) {
		lo = gain;
		hi = MIN(cap, gain + m->hz - 1);
	}
	bool dry = p < t && lo >= m->hz; /* ran dry with a frame's credit or more */
	FUZZ_ASSERT(p <= hi / m->hz && (!dry || p >= lo / m->hz),
		    "%s %u: %u of %u flooded frames let through, %llu..%llu allowed (%u/s burst "
		    "%u, %llu Hz, %llu ticks on, credit %s)",
		    who, port, p, t, (unsigned long long)MIN(t, lo / m->hz),
		    (unsigned long long)(hi / m->hz), m->rate, m->burst, (unsigned long long)m->hz,
		    (unsigned long long)e,
		    m->credit == C_FULL      ? "full"
		    : m->credit == C_UNKNOWN ? "?"
					     : "< 1 frame");
	m->passed += p;
	u128 most = m->burst + (u128)m->rate * m->ticks / m->hz;
	FUZZ_ASSERT(m->passed <= most,
		    "%s %u: %llu flooded frames let through since the limit was set, over burst "
		    "%u + %u/s * %llu ticks / %llu Hz = %llu",
		    who, port, (unsigned long long)m->passed, m->burst, m->rate,
		    (unsigned long long)m->ticks, (unsigned long long)m->hz,
		    (unsigned long long)most);
	m->credit = p < t ? C_UNDER_ONE_FRAME : C_UNKNOWN;
}

static uint64_t pick_hz(struct fuzz_in *in)
{
	/* real counters (1 GHz from Armv8.6), the bounds, and out of them */
	static const uint64_t hz[] = {1000000, 62500000,   1000000000, 1,
				      1000,    1ULL << 40, 0,          (1ULL << 40) + 1};
	uint8_t how = fin_u8(in);

	return how < 240 ? hz[how % 8] : fin_u64(in);
}

/* A limit as the configuration could give it, or one out of its bounds. */
static void pick_limit(struct fuzz_in *in, uint32_t *rate, uint32_t *burst)
{
	uint8_t how = fin_u8(in);

	*rate = 1 + fin_u8(in) % 16;
	*burst = 1 + fin_u8(in) % 8;
	switch (how % 8) {
	case 0:
		*rate = 0; /* no limit, whatever the burst */
		break;
	case 1:
		*burst = 1;
		break;
	case 2:
		break;
	case 3:
		*rate = NET_FLOOD_MAX_RATE;
		*burst = NET_FLOOD_MAX_BURST;
		break;
	case 4:
		*rate = fin_u32(in) % (NET_FLOOD_MAX_RATE + 1);
		*burst = 1 + fin_u32(in) % NET_FLOOD_MAX_BURST;
		break;
	case 5: /* just out of bounds */
		if (how & 8)
			*rate = NET_FLOOD_MAX_RATE + 1;
		else
			*burst = how & 16 ? 0 : NET_FLOOD_MAX_BURST + 1;
		break;
	case 6:
		*rate = fin_u32(in);
		*burst = fin_u32(in);
		break;
	case 7:
		*burst = NET_FLOOD_MAX_BURST;
		break;
	}
}

/* Sets port `port`'s limit as the input picks it (through its device, if
 * `net`): taken exactly when in the header's bounds, and a refused one
 * leaves the bucket as it was. */
static void try_limit(struct fuzz_in *in, struct netswitch *sw, unsigned port,
		      struct virtio_net *net, struct flood_model *m, uint64_t hz)
{
	uint32_t rate, burst;
	bool exists = port < sw->nports;
	struct net_flood_limit was = {0}, *f = exists ? &sw->ports[port].flood : &was;

	pick_limit(in, &rate, &burst);
	was = *f;
	bool ok = exists && rate <= NET_FLOOD_MAX_RATE && hz && hz <= (1ULL << 40) &&
		  (!rate || (burst && burst <= NET_FLOOD_MAX_BURST));
	int r = net ? virtio_net_set_flood_limit(net, rate, burst)
		    : netswitch_set_flood_limit(sw, port, rate, burst, hz);
	TRACE("port %u: flood limit %u/s burst %u at %llu Hz: %d\n", port, rate, burst,
	      (unsigned long long)hz, r);
	FUZZ_ASSERT(r == (ok ? 0 : -1), "port %u: flood limit %u/s burst %u at %llu Hz gave %d",
		    port, rate, burst, (unsigned long long)hz, r);
	if (ok)
		model_set(m, rate, burst, hz);
	else
		FUZZ_ASSERT(f->rate == was.rate && f->burst == was.burst && f->hz == was.hz &&
				    f->credit == was.credit && f->last == was.last &&
				    f->timed == was.timed,
			    "port %u: the refused limit %u/s burst %u changed the bucket", port,
			    rate, burst);
}

/* The counter moves as the input says: forward by ticks or seconds as a
 * real one; also back as far (a value read on another CPU before the
 * bucket's update), to just before the wrap, and by any 64-bit amount. */
static void advance(struct fuzz_in *in, uint64_t *now, uint64_t hz)
{
	uint8_t how = fin_u8(in);
	uint64_t seconds = hz * (1 + fin_u8(in) % 4) / (1 + (how >> 4)); /* 1/16 s..4 s */

	switch (how % 8) {
	case 0:
		*now += fin_u8(in);
		break;
	case 1:
		*now += fin_u32(in);
		break;
	case 2:
		*now += seconds;
		break;
	case 3:
		*now += 1ULL << (fin_u8(in) % 64);
		break;
	case 4:
		*now -= how & 8 ? seconds : 1 + fin_u8(in) % 16;
		break;
	case 5:
		*now -= fin_u64(in);
		break;
	case 6:
		*now = UINT64_MAX - fin_u16(in);
		break;
	case 7:
		*now += fin_u64(in);
		break;
	}
	TRACE("counter at %llu\n", (unsigned long long)*now);
}

static struct flood_model models[NVMS];
static struct net_port_stats stats_before[NVMS];

FUZZ_NOCOV static void save_stats(void)
{
	for (unsigned v = 0; v < NVMS; v++) {
		stats_before[v] = the_sw->ports[v].stats;
		takes[v] = passes[v] = 0;
	}
}

/* ---------------------------------------------------------------- frames and offloads */

/* What the checks saw (FUZZ_NET_STATS=1 prints them at exit): whether the
 * input reaches the offloads, mergeable buffers and parking at all. */
static struct {
	unsigned long gso_sent, whole_gso, whole_csum, segments, finished, merged, parked,
		back_tick, back_notify;
} seen;

FUZZ_NOCOV static void print_seen(void)
{
	fprintf(stderr,
		"fuzz_net: %lu GSO frames sent; received: %lu whole GSO, %lu whole NEEDS_CSUM, "
		"%lu segments, %lu checksums finished, %lu over several buffers; %lu parked, "
		"%lu back on the tick, %lu after another notify\n",
		seen.gso_sent, seen.whole_gso, seen.whole_csum, seen.segments, seen.finished,
		seen.merged, seen.parked, seen.back_tick, seen.back_notify);
}

#define F_MRG_RXBUF (1ULL << 15)
#define MAX_SENT 16               /* frames kept per VM and step */
#define FRAME_CAP FUZZ_GUEST_SIZE /* no frame is longer than the guest's RAM */
#define RX_CHAINS_MAX 64          /* mergeable buffers of one frame */
#define PARK_MAX_MS 100
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

struct vhdr {
	uint8_t flags, gso;
	uint16_t hdr_len, gso_size, cs, co, nbuf;
};

static struct vhdr parse_vhdr(const uint8_t *p)
{
	return (struct vhdr){p[0],
			     p[1],
			     (uint16_t)(p[2] | p[3] << 8),
			     (uint16_t)(p[4] | p[5] << 8),
			     (uint16_t)(p[6] | p[7] << 8),
			     (uint16_t)(p[8] | p[9] << 8),
			     (uint16_t)(p[10] | p[11] << 8)};
}

/* Where a TCP segment's headers are (GSO frames only). */
struct layout {
	bool ok, v6;
	uint32_t l3, l4, hlen;
};

/* Ethernet, at most one VLAN tag, IPv4 (options allowed) or IPv6 (no
 * extension headers), TCP: what net_offload.h documents a GSO frame is. */
FUZZ_NOCOV static struct layout tcp_layout(const uint8_t *f, uint32_t len, bool v6)
{
	struct layout l = {.v6 = v6, .l3 = 14};
	uint16_t type;

	if (len < 14)
		return l;
	type = be16(f + 12);
	if (type == 0x8100) {
		if (len < 18)
			return l;
		type = be16(f + 16);
		l.l3 = 18;
	}
	const uint8_t *ip = f + l.l3;
	if (!v6) {
		if (type != 0x0800 || len < l.l3 + 20 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5 ||
		    len < l.l3 + 4u * (ip[0] & 15) || ip[9] != 6)
			return l;
		l.l4 = l.l3 + 4u * (ip[0] & 15);
	} else {
		if (type != 0x86dd || len < l.l3 + 40 || ip[0] >> 4 != 6 || ip[6] != 6)
			return l;
		l.l4 = l.l3 + 40;
	}
	if (len < l.l4 + 20)
		return l;
	l.hlen = l.l4 + 4u * (f[l.l4 + 12] >> 4);
	l.ok = l.hlen >= l.l4 + 20 && l.hlen <= len;
	return l;
}

/* Whether the switch takes a frame with this header from a sender that
 * negotiated `feat` (else it is dropped as bad): no flag but NEEDS_CSUM,
 * its checksum place inside the frame and CSUM negotiated; GSO only TCP
 * over the IP version whose HOST_TSO was negotiated, with NEEDS_CSUM at
 * the TCP checksum and an MSS of at least NET_GSO_MIN_SIZE; a plain frame
 * at most the MTU's. */
FUZZ_NOCOV static bool frame_valid(const struct vhdr *h, const uint8_t *f, uint32_t len,
				   uint64_t feat, struct layout *l)
{
	bool csum = h->flags & NET_HDR_F_NEEDS_CSUM, v6 = h->gso == NET_GSO_TCPV6;

	*l = (struct layout){0};
	if (len < 14 || (h->flags & ~NET_HDR_F_NEEDS_CSUM))
		return false;
	if (csum && (!(feat & NET_F_CSUM) || (uint32_t)h->cs + h->co + 2 > len))
		return false;
	if (h->gso == NET_GSO_NONE)
		return len <= MAX_FRAME;
	if ((h->gso != NET_GSO_TCPV4 && !v6) ||
	    !(feat & (v6 ? NET_F_HOST_TSO6 : NET_F_HOST_TSO4)) || !csum ||
	    h->gso_size < NET_GSO_MIN_SIZE || len > NET_GSO_MAX_FRAME)
		return false;
	*l = tcp_layout(f, len, v6);
	return l->ok && h->cs == l->l4 && h->co == 16;
}

/* A frame a VM handed over (or has parked). */
struct cand {
	bool known, valid;
	unsigned from;
	struct vhdr h;
	struct layout l;
	uint32_t len;
	uint8_t *frame;
};

/* What one VM's TX queue did in a step. */
struct txstep {
	bool counted;    /* the queue kept its indices: popped is right */
	bool same;       /* and is the same queue, ready, after the step */
	unsigned popped; /* chains taken */
	uint16_t heads[VIRTQ_MAX_SIZE];
	bool unknown;                /* some frame taken could not be read back */
	unsigned good, flooded, gso; /* frames the switch takes, to a group, GSO */
	struct cand f[MAX_SENT];     /* the first MAX_SENT taken */
};
static struct txstep txs[NVMS];
static uint8_t frame_store[NVMS][MAX_SENT][FRAME_CAP];

/* The frame a VM has parked, as far as the model knows: `held` may stay
 * set after a reset of the sender made its chain one that never comes back
 * (chain_known false) and the switch delivered it unseen. */
struct park_model {
	bool held, chain_known;
	uint16_t head;
	uint64_t since;
	struct cand c;
};
static struct park_model parks[NVMS];
static uint8_t parked_store[NVMS][FRAME_CAP];

static bool expired(uint64_t since)
{
	return clock_now - since > clock_hz / 1000 * PARK_MAX_MS;
}

FUZZ_NOCOV static void collect_sent(const struct before *b, unsigned v)
{
	const struct qstate *s = &b->q[v][Q_TX];
	const struct virtq *vq = &nets[v].vdev.vq[Q_TX];
	const uint8_t *mem = guests[v].snap;
	struct txstep *t = &txs[v];
	struct fuzz_seg segs[VIRTQ_MAX_SEGS];
	static uint8_t all[HDR_LEN + FRAME_CAP + 1];
	uint64_t feat = nets[v].vdev.driver_features;

	t->popped = t->good = t->flooded = t->gso = 0;
	t->unknown = false;
	/* (a device error in the step stops the queue but keeps its indices) */
	t->counted = s->ready && b->resets[v] == nets[v].vdev.reset_count &&
		     b->qresets[v][Q_TX] == nets[v].vdev.queue_resets[Q_TX] &&
		     vq->num == s->view.num;
	t->same = same_queue(b, v, Q_TX);
	if (!t->counted) {
		t->unknown = s->ready; /* what it took before the change is not known */
		return;
	}
	t->popped = (uint16_t)(vq->last_avail - s->last_avail);
	FUZZ_ASSERT(t->popped <= s->view.num, "vm %u: %u TX chains taken from a ring of %u", v,
		    t->popped, s->view.num);
	for (unsigned k = 0; k < t->popped; k++) {
		uint16_t i = (uint16_t)(s->last_avail + k);
		uint16_t head = get16(mem, s->avail_ipa + 4 + 2ULL * (i % s->view.num));
		int n = fuzz_walk_chain(mem, s->view.desc_ipa, s->view.num, head, s->indirect, segs,
					VIRTQ_MAX_SEGS);
		FUZZ_ASSERT(n > 0, "vm %u: the device took a TX chain (head %u) it must refuse", v,
			    head);
		t->heads[k] = head;
		if (k >= MAX_SENT || tangled(segs, n, b, v)) {
			t->unknown = true;
			if (k < MAX_SENT)
				t->f[k].known = false;
			continue;
		}
		struct cand *c = &t->f[k];
		size_t got = fuzz_gather(mem, segs, n, false, all, sizeof(all));
		TRACE("vm %u: sent chain %u: %d segs, %zu bytes\n", v, head, n, got);
		*c = (struct cand){.known = true, .from = v, .frame = frame_store[v][k]};
		if (got < HDR_LEN + 14 || segs[n - 1].writable)
			continue; /* dropped as malformed */
		c->h = parse_vhdr(all);
		c->len = (uint32_t)(got - HDR_LEN);
		memcpy(c->frame, all + HDR_LEN, c->len);
		c->valid = frame_valid(&c->h, c->frame, c->len, feat, &c->l);
		t->good += c->valid;
		t->flooded += c->valid && (c->frame[0] & 1); /* three ports: groups only */
		t->gso += c->valid && c->h.gso != NET_GSO_NONE;
		seen.gso_sent += c->valid && c->h.gso != NET_GSO_NONE;
	}
}

static bool routed_to(unsigned rx, const uint8_t *dst)
{
	if (dst[0] & 1)
		return true;
	if (!memcmp(dst, macs[rx], 6))
		return true;
	for (unsigned p = 0; p < NVMS; p++)
		if (!memcmp(dst, macs[p], 6))
			return false;
	return rx == 0; /* unknown unicast: the uplink */
}

/* The one port a unicast frame goes to. */
static unsigned unicast_port(const uint8_t *dst)
{
	for (unsigned p = 0; p < NVMS; p++)
		if (!memcmp(dst, macs[p], 6))
			return p;
	return 0;
}

/* The checksum NEEDS_CSUM asks for: the complement of the sum from
 * csum_start to the end (the field, holding the sender's part, included);
 * 0 is sent as 0xffff. */
FUZZ_NOCOV static uint16_t finished_csum(const uint8_t *f, uint32_t len, uint16_t start)
{
	uint16_t c = (uint16_t)~fold16(sum16(f + start, len - start, 0));

	return c ? c : 0xffff;
}

/* Whether g (len bytes) is one of the segments the GSO frame c is cut
 * into: its headers the frame's but for IP lengths, IPv4 ID (+ i) and
 * checksum, TCP sequence number (+ offset), flags (FIN and PSH only on the
 * last, CWR only on the first) and checksum, both checksums right, and its
 * payload the right slice of the frame's. */
FUZZ_NOCOV static bool is_segment(const struct cand *c, const uint8_t *g, uint32_t len)
{
	const struct layout *l = &c->l;
	const uint8_t *f = c->frame, *fi = f + l->l3, *gi = g + l->l3, *ft = f + l->l4,
		      *gt = g + l->l4;
	uint32_t payload = c->len - l->hlen, mss = c->h.gso_size;

	if (len < l->hlen || len > MAX_FRAME || memcmp(g, f, l->l3))
		return false;
	uint32_t off = be32(gt + 4) - be32(ft + 4);
	if (off % mss || (payload ? off >= payload : off != 0))
		return false;
	uint32_t i = off / mss, n = payload ? (payload - 1) / mss + 1 : 1;
	uint32_t bytes = MIN(mss, payload - off);
	if (len != l->hlen + bytes || memcmp(g + l->hlen, f + l->hlen + off, bytes))
		return false;
	if (l->v6) {
		if (be16(gi + 4) != len - l->l4 || memcmp(gi, fi, 4) || memcmp(gi + 6, fi + 6, 34))
			return false;
	} else {
		uint32_t ihl = l->l4 - l->l3;
		if (be16(gi + 2) != len - l->l3 || be16(gi + 4) != (uint16_t)(be16(fi + 4) + i) ||
		    memcmp(gi, fi, 2) || memcmp(gi + 6, fi + 6, 4) ||
		    memcmp(gi + 12, fi + 12, ihl - 12) || fold16(sum16(gi, ihl, 0)) != 0xffff)
			return false;
	}
	uint8_t flags = ft[13];
	if (i + 1 < n)
		flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	if (i)
		flags &= (uint8_t)~TCP_CWR;
	if (memcmp(gt, ft, 4) || memcmp(gt + 8, ft + 8, 5) || gt[13] != flags ||
	    memcmp(gt + 14, ft + 14, 2) || memcmp(gt + 18, ft + 18, l->hlen - l->l4 - 18))
		return false;
	uint64_t pseudo = l->v6 ? sum16(gi + 8, 32, 0) : sum16(gi + 12, 8, 0);
	return fold16(sum16(gt, len - l->l4, pseudo + 6 + (len - l->l4))) == 0xffff;
}

/* Whether receiver rx may have got g (header h) from the frame c: as it
 * is, with the header its offloads give (a receiver that negotiated them);
 * or finished: its checksum written, or cut into segments. */
FUZZ_NOCOV static bool received_from(const struct cand *c, unsigned rx, const struct vhdr *h,
				     const uint8_t *g, uint32_t len)
{
	bool csum = c->h.flags & NET_HDR_F_NEEDS_CSUM, gso = c->h.gso != NET_GSO_NONE;

	if (!c->known || !c->valid || c->from == rx)
		return false;
	if (h->flags || h->gso != NET_GSO_NONE) {
		bool same = h->flags == c->h.flags && h->gso == c->h.gso &&
			    h->gso_size == (gso ? c->h.gso_size : 0) &&
			    h->hdr_len == (gso ? c->l.hlen : 0) && h->cs == (csum ? c->h.cs : 0) &&
			    h->co == (csum ? c->h.co : 0) && len == c->len &&
			    !memcmp(g, c->frame, len);
		seen.whole_gso += same && gso;
		seen.whole_csum += same && !gso;
		return same;
	}
	if (h->hdr_len || h->gso_size || h->cs || h->co)
		return false;
	if (gso) {
		bool seg = is_segment(c, g, len);
		seen.segments += seg;
		return seg;
	}
	if (len != c->len)
		return false;
	if (!csum)
		return !memcmp(g, c->frame, len);
	uint32_t at = (uint32_t)c->h.cs + c->h.co;
	bool done = !memcmp(g, c->frame, at) &&
		    !memcmp(g + at + 2, c->frame + at + 2, len - at - 2) &&
		    be16(g + at) == finished_csum(c->frame, len, c->h.cs);
	seen.finished += done;
	return done;
}

/* The frames a receiver may get in this step: those taken in it, and the
 * ones parked before it. */
FUZZ_NOCOV static bool from_anyone(unsigned rx, const struct vhdr *h, const uint8_t *g,
				   uint32_t len, bool *unknown)
{
	*unknown = false;
	for (unsigned v = 0; v < NVMS; v++) {
		const struct txstep *t = &txs[v];
		if (v == rx)
			continue;
		*unknown |= t->unknown || (parks[v].held && !parks[v].c.known);
		for (unsigned k = 0; k < MIN(t->popped, MAX_SENT); k++)
			if (received_from(&t->f[k], rx, h, g, len))
				return true;
		if (parks[v].held && received_from(&parks[v].c, rx, h, g, len))
			return true;
	}
	return false;
}

/* Whether a chain used after entry `i` in the step has writable buffers
 * over `segs`: its frame may have overwritten this one's (a driver may give
 * two chains the same buffer, or a reset leaves stale ones in the ring). */
FUZZ_NOCOV static bool overwritten(const struct qstate *s, uint16_t used_idx, uint16_t i,
				   const struct fuzz_seg *segs, int n, unsigned v,
				   const uint8_t *now)
{
	struct fuzz_seg later[VIRTQ_MAX_SEGS];

	for (uint16_t j = (uint16_t)(i + 1); j != used_idx; j++) {
		uint32_t id = get32(now, s->view.used_ipa + 4 + 8ULL * (j % s->view.num));
		int m = fuzz_walk_chain(guests[v].snap, s->view.desc_ipa, s->view.num, (uint16_t)id,
					s->indirect, later, VIRTQ_MAX_SEGS);
		if (writes_over(later, m, segs, n))
			return true;
	}
	return false;
}

/* No lost interrupt: used entries the driver asked to hear about (no
 * NO_INTERRUPT flag, or used_event crossed with EVENT_IDX) come with one. */
FUZZ_NOCOV static void check_interrupts(const struct before *b, unsigned v)
{
	bool irq = false;

	for (unsigned i = 0; i < fuzz_nirqs && i < ARRAY_SIZE(fuzz_irqs); i++)
		irq |= fuzz_irqs[i].vm == &vms[v];
	for (unsigned q = 0; q < NQ; q++) {
		const struct qstate *s = &b->q[v][q];
		uint16_t now = nets[v].vdev.vq[q].used_idx;
		if (!same_queue(b, v, q) || now == s->used_idx ||
		    fuzz_nirqs > ARRAY_SIZE(fuzz_irqs))
			continue;
		uint8_t *flags = fuzz_guest_byte(&guests[v], s->avail_ipa - FUZZ_GUEST_IPA);
		uint16_t event;
		memcpy(&event,
		       fuzz_guest_byte(&guests[v],
				       s->avail_ipa - FUZZ_GUEST_IPA + 4 + 2ULL * s->view.num),
		       2);
		bool want = s->event_idx
				    ? (uint16_t)(now - event - 1) < (uint16_t)(now - s->signalled)
				    : !(flags[0] & 1);
		FUZZ_ASSERT(
			!want || (irq && (nets[v].vdev.isr & VIRTIO_INT_USED)),
			"vm %u q%u: used idx %u -> %u without the interrupt the driver asked for",
			v, q, s->used_idx, now);
	}
}

/* The frames the sender handed over, NULL if no VM could send. */

/* Header of a frame received: only offloads the receiver negotiated, a
 * plain frame no longer than the MTU's, num_buffers 1 without mergeable
 * buffers. */
FUZZ_NOCOV static void check_rx_header(unsigned rx, const struct vhdr *h, uint32_t len)
{
	uint64_t feat = nets[rx].vdev.driver_features;

	FUZZ_ASSERT(h->flags == 0 ||
			    (h->flags == NET_HDR_F_NEEDS_CSUM && (feat & NET_F_GUEST_CSUM)),
		    "vm %u: received flags 0x%x (features 0x%llx)", rx, h->flags,
		    (unsigned long long)feat);
	FUZZ_ASSERT(h->gso == NET_GSO_NONE ||
			    (h->gso == NET_GSO_TCPV4 && (feat & NET_F_GUEST_TSO4)) ||
			    (h->gso == NET_GSO_TCPV6 && (feat & NET_F_GUEST_TSO6)),
		    "vm %u: received GSO type %u (features 0x%llx)", rx, h->gso,
		    (unsigned long long)feat);
	FUZZ_ASSERT(len >= 14 && len <= (h->gso ? NET_GSO_MAX_FRAME : MAX_FRAME),
		    "vm %u: received a frame of %u bytes (GSO type %u)", rx, len, h->gso);
}

/* num_buffers: 1 without mergeable buffers, at most RX_CHAINS_MAX with. */
FUZZ_NOCOV static void check_num_buffers(unsigned rx, const struct vhdr *h)
{
	uint64_t feat = nets[rx].vdev.driver_features;

	FUZZ_ASSERT(
		h->nbuf >= 1 && (h->nbuf == 1 || (feat & F_MRG_RXBUF)) && h->nbuf <= RX_CHAINS_MAX,
		"vm %u: num_buffers %u (features 0x%llx)", rx, h->nbuf, (unsigned long long)feat);
}

/* Whether a chain still available (from `from` on: the device may have
 * taken it for a frame that did not fit, written part of it, and given it
 * back) has writable buffers over `segs`. */
FUZZ_NOCOV static bool still_available_over(const struct qstate *s, uint16_t from,
					    const struct fuzz_seg *segs, int n, unsigned v)
{
	const uint8_t *mem = guests[v].snap;
	struct fuzz_seg other[VIRTQ_MAX_SEGS];
	uint16_t avail = get16(mem, s->avail_ipa + 2);

	for (uint16_t j = from, k = 0; j != avail && k < s->view.num; j++, k++) {
		uint16_t head = get16(mem, s->avail_ipa + 4 + 2ULL * (j % s->view.num));
		int m = fuzz_walk_chain(mem, s->view.desc_ipa, s->view.num, head, s->indirect,
					other, VIRTQ_MAX_SEGS);
		if (writes_over(other, m, segs, n))
			return true;
	}
	return false;
}

/* Every frame received: its header (check_rx_header), in num_buffers
 * chains used one after the other, every one but the last filled up; it
 * was for the receiver, and is one a VM sent (or parked) as it is or as
 * the switch finishes it. Chains returned empty were not receive buffers
 * (or came with one that was not). */
FUZZ_NOCOV static void check_received(const struct before *b, unsigned rx)
{
	const struct qstate *s = &b->q[rx][Q_RX];
	const struct virtq *vq = &nets[rx].vdev.vq[Q_RX];
	static uint8_t now[FUZZ_GUEST_SIZE];
	static uint8_t got[HDR_LEN + NET_GSO_MAX_FRAME];
	struct fuzz_seg segs[VIRTQ_MAX_SEGS];

	if (!same_queue(b, rx, Q_RX) || s->used_idx == vq->used_idx)
		return;
	fuzz_guest_flat(&guests[rx], now);
	for (uint16_t i = s->used_idx; i != vq->used_idx;) {
		struct vhdr h = {0};
		uint32_t total = 0;
		bool trusted = true;
		unsigned chains = 1;
		for (unsigned k = 0; k < chains; k++, i++) {
			FUZZ_ASSERT(i != vq->used_idx, "vm %u: num_buffers %u, %u chains used", rx,
				    chains, k);
			ipa_t elem = s->view.used_ipa + 4 + 8ULL * (i % s->view.num);
			uint32_t id = get32(now, elem), len = get32(now, elem + 4);
			TRACE("vm %u: received chain %u, %u bytes\n", rx, id, len);
			int n = fuzz_walk_chain(guests[rx].snap, s->view.desc_ipa, s->view.num,
						(uint16_t)id, s->indirect, segs, VIRTQ_MAX_SEGS);
			FUZZ_ASSERT(n > 0, "vm %u: RX chain %u used, but it is not a valid chain",
				    rx, id);
			uint64_t room = 0;
			for (int a = 0; a < n; a++)
				room += segs[a].writable ? segs[a].len : 0;
			FUZZ_ASSERT(len <= room,
				    "vm %u: %u bytes received into %llu bytes of buffers", rx, len,
				    (unsigned long long)room);
			if (!len && !k) {
				i++;
				break; /* not a receive buffer, or given back with one */
			}
			FUZZ_ASSERT(len && (k || len >= HDR_LEN) && total + len <= sizeof(got),
				    "vm %u: chain %u of a frame used with %u bytes", rx, k, len);
			bool bad = tangled(segs, n, b, rx) ||
				   overwritten(s, vq->used_idx, i, segs, n, rx, now) ||
				   still_available_over(s, vq->last_avail, segs, n, rx);
			if (!k && bad)
				return; /* its num_buffers may not be the device's */
			trusted &= !bad;
			fuzz_gather(now, segs, n, true, got + total, len);
			total += len;
			if (!k) {
				h = parse_vhdr(got);
				check_num_buffers(rx, &h);
				chains = h.nbuf;
			}
			FUZZ_ASSERT(k + 1 == chains || len == room,
				    "vm %u: chain %u of %u of a frame holds %u of its %llu bytes",
				    rx, k, chains, len, (unsigned long long)room);
		}
		if (!total)
			continue;
		seen.merged += chains > 1;
		uint32_t len = total - HDR_LEN;
		const uint8_t *g = got + HDR_LEN;
		check_rx_header(rx, &h, len);
		if (!trusted)
			continue;
		FUZZ_ASSERT(routed_to(rx, g),
			    "vm %u: received a frame for %02x:%02x:%02x:%02x:%02x:%02x", rx, g[0],
			    g[1], g[2], g[3], g[4], g[5]);
		bool unknown;
		bool match = from_anyone(rx, &h, g, len, &unknown);
		FUZZ_ASSERT(
			match || unknown,
			"vm %u: received %u bytes (flags 0x%x GSO %u/%u csum %u+%u) nobody sent",
			rx, len, h.flags, h.gso, h.gso_size, h.cs, h.co);
	}
}

/* Used entries of control chains: 1 byte, an ack of OK or ERR. */
FUZZ_NOCOV static void check_ctrl_returned(const struct before *b, unsigned v)
{
	static uint8_t now[FUZZ_GUEST_SIZE];
	const struct qstate *s = &b->q[v][Q_CTRL];

	if (!same_queue(b, v, Q_CTRL) || s->used_idx == nets[v].vdev.vq[Q_CTRL].used_idx)
		return;
	fuzz_guest_flat(&guests[v], now);
	for (uint16_t i = s->used_idx; i != nets[v].vdev.vq[Q_CTRL].used_idx; i++) {
		ipa_t elem = s->view.used_ipa + 4 + 8ULL * (i % s->view.num);
		uint32_t id = get32(now, elem), len = get32(now, elem + 4);
		TRACE("vm %u: control chain %u back, %u bytes\n", v, id, len);
		FUZZ_ASSERT(len == 1, "vm %u: control chain %u returned with %u", v, id, len);
		struct fuzz_seg segs[VIRTQ_MAX_SEGS];
		int n = fuzz_walk_chain(guests[v].snap, s->view.desc_ipa, s->view.num, (uint16_t)id,
					s->indirect, segs, VIRTQ_MAX_SEGS);
		FUZZ_ASSERT(n > 0, "vm %u: control chain %u used, not a valid chain", v, id);
		if (!tangled(segs, n, b, v)) {
			uint8_t ack = now[segs[n - 1].off + segs[n - 1].len - 1];
			FUZZ_ASSERT(segs[n - 1].writable && ack <= 1, "vm %u: ack %u", v, ack);
		}
	}
}

/* Whether rx's receive ring, as it is now, has room for `need` bytes in
 * the chains the device takes for one frame (one without MRG_RXBUF, up to
 * RX_CHAINS_MAX with), each of them a well-formed receive chain. */
FUZZ_NOCOV static bool ring_has_room(unsigned rx, uint64_t need)
{
	const struct virtio_dev *d = &nets[rx].vdev;
	const struct virtq *vq = &d->vq[Q_RX];
	static uint8_t now[FUZZ_GUEST_SIZE];
	struct fuzz_seg segs[VIRTQ_MAX_SEGS];
	unsigned max = d->driver_features & F_MRG_RXBUF ? RX_CHAINS_MAX : 1;
	uint64_t room = 0;

	if (!vq->ready || !(d->status & VIRTIO_STATUS_DRIVER_OK))
		return false;
	fuzz_guest_flat(&guests[rx], now);
	uint16_t avail = get16(now, vq->avail_ipa + 2);
	if ((uint16_t)(avail - vq->last_avail) > vq->num)
		return false;
	for (uint16_t i = vq->last_avail; i != avail && max; i++, max--) {
		uint16_t head = get16(now, vq->avail_ipa + 4 + 2ULL * (i % vq->num));
		int n = fuzz_walk_chain(now, vq->desc_ipa, vq->num, head, vq->indirect, segs,
					VIRTQ_MAX_SEGS);
		if (n <= 0 || !segs[0].writable)
			return false;
		uint64_t w = 0;
		for (int k = 0; k < n; k++)
			w += segs[k].len;
		if (i == vq->last_avail && w < HDR_LEN)
			return false;
		room += w;
		if (room >= need)
			return true;
	}
	return false;
}

/* TX chains come back with 0 bytes written, in the order taken, the one
 * parked (at most one per VM: the harness has one vCPU per VM) first once
 * it goes, and none twice: only a unicast frame that found no room stays,
 * and nothing is taken while it does. A parked chain comes back on the
 * tick once it waited more than PARK_MAX_MS, and as soon as its receiver
 * notifies with room for it (or takes it in segments). `rx_notified`: the
 * VM that notified its receive queue in the step, or -1. */
FUZZ_NOCOV static void check_tx_returned(const struct before *b, unsigned v, bool ticked,
					 int rx_notified)
{
	static uint8_t now[FUZZ_GUEST_SIZE];
	const struct qstate *s = &b->q[v][Q_TX];
	const struct txstep *t = &txs[v];
	struct park_model *m = &parks[v];
	uint16_t expect[VIRTQ_MAX_SIZE + 1];
	unsigned ne = 0;

	if (!t->same) {
		m->chain_known = false; /* never returned into the queue the driver has now */
		if (t->popped) {        /* what became of them is not known */
			m->held = true;
			m->c.known = false;
			m->since = clock_now;
		}
		if (ticked && m->held && expired(m->since))
			m->held = false;
		return;
	}
	bool old = m->held && m->chain_known;
	if (old)
		expect[ne++] = m->head;
	for (unsigned k = 0; k < t->popped; k++)
		expect[ne++] = t->heads[k];
	uint16_t used = (uint16_t)(nets[v].vdev.vq[Q_TX].used_idx - s->used_idx);
	FUZZ_ASSERT(used <= ne && ne - used <= 1,
		    "vm %u: %u TX chains returned of %u taken (%s one parked before)", v, used, ne,
		    old ? "with" : "without");
	if (used)
		fuzz_guest_flat(&guests[v], now);
	/* a driver that reused a descriptor while its chain was parked may
	 * have the device return num + 1 chains in one step: the first
	 * entry is then overwritten */
	for (uint16_t j = used > s->view.num ? (uint16_t)(used - s->view.num) : 0; j < used; j++) {
		ipa_t elem =
			s->view.used_ipa + 4 + 8ULL * ((uint16_t)(s->used_idx + j) % s->view.num);
		uint32_t id = get32(now, elem), len = get32(now, elem + 4);
		TRACE("vm %u: TX chain %u back, %u bytes\n", v, id, len);
		FUZZ_ASSERT(id == expect[j] && len == 0,
			    "vm %u: TX chain %u returned with %u bytes, chain %u was next", v, id,
			    len, expect[j]);
	}
	seen.back_tick += old && used && ticked;
	seen.back_notify += old && used && !ticked;
	if (old && ticked && expired(m->since))
		FUZZ_ASSERT(
			used,
			"vm %u: chain %u parked at %llu still held on the tick at %llu (%llu Hz)",
			v, m->head, (unsigned long long)m->since, (unsigned long long)clock_now,
			(unsigned long long)clock_hz);
	if (!old && m->held && ticked && expired(m->since))
		m->held = false; /* its chain gone with a reset: dropped on this tick */
	if (t->popped || (old && used))
		m->held = false; /* (the device takes nothing while one is parked) */
	if (ne == used)
		return;
	if (t->popped) { /* the last one taken found no room */
		seen.parked++;
		m->held = m->chain_known = true;
		m->head = expect[ne - 1];
		m->since = clock_now;
		unsigned k = t->popped - 1;
		m->c = k < MAX_SENT ? t->f[k] : (struct cand){0};
		if (m->c.known) {
			FUZZ_ASSERT(m->c.valid && !(m->c.frame[0] & 1),
				    "vm %u: parked a frame the switch %s", v,
				    m->c.valid ? "floods" : "drops");
			/* only frames for the MVM's port (vm 0, the uplink) wait */
			FUZZ_ASSERT(v != 0 && unicast_port(m->c.frame) == 0,
				    "vm %u: parked a frame for vm %u, not for the uplink", v,
				    unicast_port(m->c.frame));
			memcpy(parked_store[v], m->c.frame, m->c.len);
			m->c.frame = parked_store[v];
		}
		return;
	}
	/* still parked: its receiver notified, had room, and nothing came in
	 * between (a used chain: a bad one taken, or another frame first) */
	unsigned dst = m->c.known ? unicast_port(m->c.frame) : NVMS;
	if ((int)dst != rx_notified || !m->c.known || !same_queue(b, dst, Q_RX) ||
	    b->q[dst][Q_RX].used_idx != nets[dst].vdev.vq[Q_RX].used_idx)
		return;
	uint64_t feat = nets[dst].vdev.driver_features;
	bool whole = (!(m->c.h.flags & 1) || (feat & NET_F_GUEST_CSUM)) &&
		     (m->c.h.gso == NET_GSO_NONE ||
		      (feat & (m->c.h.gso == NET_GSO_TCPV6 ? NET_F_GUEST_TSO6 : NET_F_GUEST_TSO4)));
	FUZZ_ASSERT(whole || m->c.h.gso == NET_GSO_NONE,
		    "vm %u: a GSO frame parked for vm %u, which takes it in segments", v, dst);
	FUZZ_ASSERT(!ring_has_room(dst, HDR_LEN + m->c.len),
		    "vm %u: its frame of %u bytes still parked after vm %u notified with room", v,
		    m->c.len, dst);
}

/* No lost interrupt (check_interrupts), nothing written but used rings and
 * device-writable buffers, no lock left held; then what every VM sent and
 * received in the step, and what became of the chains it had parked. */
FUZZ_NOCOV static void check_step(const struct before *b, bool ticked, int rx_notified)
{
	for (unsigned v = 0; v < NVMS; v++) {
		struct fuzz_queue_view views[2 * NQ];
		for (unsigned q = 0; q < NQ; q++) {
			const struct virtq *vq = &nets[v].vdev.vq[q];
			views[q] = b->q[v][q].view;
			views[NQ + q] =
				(struct fuzz_queue_view){vq->num, vq->desc_ipa, vq->used_ipa};
		}
		fuzz_check_writes(&guests[v], views, 2 * NQ, vms[v].name);
		check_interrupts(b, v);
		FUZZ_ASSERT(!nets[v].vdev.lock.locked, "vm %u: device lock left held", v);
		check_ctrl_returned(b, v);
		collect_sent(b, v);
	}
	for (unsigned rx = 0; rx < NVMS; rx++)
		check_received(b, rx);
	for (unsigned v = 0; v < NVMS; v++)
		check_tx_returned(b, v, ticked, rx_notified);
	for (unsigned i = 0; i < fuzz_nirqs && i < ARRAY_SIZE(fuzz_irqs); i++) {
		const struct fuzz_irq *q = &fuzz_irqs[i];
		unsigned v = (unsigned)(q->vm - vms);
		FUZZ_ASSERT(v < NVMS && !q->vcpu && q->intid == IRQ0 + v,
			    "interrupt %u injected into vm %u", q->intid, v);
	}
}

/* Only VMs that took TX chains send and ask their bucket, once per frame
 * they flood; drop_storm grows by the frames the bucket refused. With one
 * sender and no GSO frame or parked one around, every frame routed is
 * delivered to (or counted dropped at) one port, or both others for a
 * flooded one the bucket let through. `acted`: a device ran in the step. */
FUZZ_NOCOV static void check_storm(bool acted, bool held_before)
{
	uint64_t delivered = 0;
	unsigned senders = 0, s = 0;
	bool held_after = false;

	for (unsigned v = 0; v < NVMS; v++) {
		const struct net_port_stats *a = &stats_before[v], *z = &the_sw->ports[v].stats;
		const struct txstep *t = &txs[v];
		uint64_t storm = z->drop_storm - a->drop_storm, tx = z->tx_frames - a->tx_frames;
		bool took = acted && (t->popped || !t->counted);
		if (!took)
			FUZZ_ASSERT(!tx && z->drop_bad == a->drop_bad &&
					    z->drop_no_route == a->drop_no_route && !storm &&
					    !takes[v],
				    "vm %u: sent or storm-dropped (%llu) without taking a TX chain",
				    v, (unsigned long long)storm);
		FUZZ_ASSERT(storm == takes[v] - passes[v],
			    "vm %u: drop_storm grew by %llu for %u of %u flooded frames refused", v,
			    (unsigned long long)storm, takes[v] - passes[v], takes[v]);
		model_takes(&models[v], clock_now, takes[v], passes[v], "vm", v);
		delivered += z->rx_frames - a->rx_frames + z->drop_no_buffer - a->drop_no_buffer;
		if (took && t->counted && !t->unknown)
			FUZZ_ASSERT(
				tx == t->good && takes[v] == t->flooded,
				"vm %u: handed over %u frames the switch takes, %u to a group; it "
				"took %llu, asked the bucket %u times",
				v, t->good, t->flooded, (unsigned long long)tx, takes[v]);
		senders += took;
		s = took ? v : s;
		held_after |= parks[v].held;
	}
	if (held_before || held_after || senders > 1)
		return;
	if (!senders) {
		FUZZ_ASSERT(!delivered, "%llu frames delivered or dropped, none sent",
			    (unsigned long long)delivered);
		return;
	}
	const struct net_port_stats *a = &stats_before[s], *z = &the_sw->ports[s].stats;
	uint64_t tx = z->tx_frames - a->tx_frames, nowhere = z->drop_no_route - a->drop_no_route;
	if (!txs[s].counted || txs[s].unknown || txs[s].gso)
		return;
	FUZZ_ASSERT(tx >= nowhere + takes[s] &&
			    delivered == (NVMS - 1) * passes[s] + tx - nowhere - takes[s],
		    "vm %u: %llu sent, %llu to nowhere, %u of %u flooded let through, but %llu "
		    "delivered",
		    s, (unsigned long long)tx, (unsigned long long)nowhere, passes[s], takes[s],
		    (unsigned long long)delivered);
}

/* ---------------------------------------------------------------- the switch alone */

static void fuzz_switch(struct fuzz_in *in)
{
	struct netswitch sw = {0};
	uint8_t mac[NET_MAX_PORTS + 2][6];
	bool uplink = false;
	int up = -1;
	unsigned n = 0;

	for (unsigned i = fin_u8(in) % (NET_MAX_PORTS + 3); i; i--) {
		uint8_t m[6];
		uint8_t pick = fin_u8(in);
		bool want_up = pick & 1;
		if (pick & 2 && n)
			memcpy(m, mac[fin_u8(in) % n], 6); /* a MAC taken already */
		else
			fin_bytes(in, m, 6);
		bool dup = false, zero = !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
		for (unsigned k = 0; k < n; k++)
			dup |= !memcmp(mac[k], m, 6);
		int r = netswitch_add_port(&sw, m, want_up, NULL);
		bool fine =
			n < NET_MAX_PORTS && !dup && !zero && !(m[0] & 1) && !(want_up && uplink);
		FUZZ_ASSERT((r >= 0) == fine && (r < 0 || r == (int)n), "add_port gave %d", r);
		if (r >= 0) {
			memcpy(mac[n++], m, 6);
			if (want_up) {
				uplink = true;
				up = r;
			}
		}
	}
	for (unsigned k = fin_u8(in) % 16; k; k--) {
		unsigned src = fin_u8(in);
		uint8_t dst[6];
		if (n && (src & 0x80))
			memcpy(dst, mac[fin_u8(in) % n], 6);
		else
			fin_bytes(in, dst, 6);
		src = src & 0x40 ? src : src % (n + 1);
		uint32_t got = netswitch_route(&sw, src, dst);
		uint32_t others = src < n ? ((1u << n) - 1) & ~(1u << src) : 0;
		uint32_t want = 0;
		if (src >= n)
			want = 0;
		else if (dst[0] & 1)
			want = others;
		else {
			int owner = -1;
			for (unsigned p = 0; p < n; p++)
				if (!memcmp(mac[p], dst, 6))
					owner = (int)p;
			if (owner >= 0)
				want = (1u << owner) & others;
			else if (up >= 0)
				want = (1u << up) & others;
		}
		FUZZ_ASSERT(got == want, "route from port %u of %u: 0x%x, not 0x%x", src, n, got,
			    want);
	}
	/* storm control, at any counter value: limits (for a missing port
	 * too), moves of the counter, runs of flooded frames; on one port
	 * until the input picks another, so its bucket sees them in a row */
	static struct flood_model m[NET_MAX_PORTS + 1];
	uint64_t hz = pick_hz(in), now = fin_u64(in);
	unsigned p = fin_u8(in) % (n + 1); /* n: a port it lacks */
	for (unsigned i = 0; i < n; i++)
		model_set(&m[i], 0, 0, hz); /* a new port has no limit */
	for (unsigned k = fin_u8(in) % 32; k; k--) {
		uint8_t what = fin_u8(in);
		unsigned t = 1 + what / 4 % 32, ok = 0;
		switch (what % 4) {
		case 0:
			try_limit(in, &sw, p, NULL, &m[p], hz);
			break;
		case 1:
			advance(in, &now, hz);
			break;
		case 2:
			for (unsigned i = 0; i < t; i++)
				ok += netswitch_flood_take(&sw, p, now);
			FUZZ_ASSERT(p < n || !ok, "a flooded frame from port %u of %u let through",
				    p, n);
			if (p < n)
				model_takes(&m[p], now, t, ok, "switch port", p);
			break;
		case 3:
			p = fin_u8(in) % (n + 1);
			break;
		}
	}
}

/* ---------------------------------------------------------------- the harness */

static void setup_once(void)
{
	static const char *const names[NVMS] = {"mvm", "gvm1", "gvm2"};

	for (unsigned v = 0; v < NVMS; v++) {
		struct vm *vm = &vms[v];
		fuzz_guest_init(&guests[v]);
		vm->id = v;
		vm->name = names[v];
		vm->ncpus = 1;
		vm->vcpus[0].vm = vm;
		vm->vcpus[0].pcpu = v + 1;
		vm->regions[0] = guests[v].regions[0];
		vm->regions[1] = guests[v].regions[1];
		vm->mem = (struct guest_mem){vm->regions, 2};
		FUZZ_ASSERT(
			!virtio_net_create(&nets[v], vm, SLOT_BASE, IRQ0 + v, macs[v], v == 0) &&
				nets[v].port == (int)v,
			"virtio_net_create");
	}
	FUZZ_ASSERT(the_sw && the_sw->nports == NVMS, "the switch's ports");
}

/* The TX chains each VM's device has taken (its queue's last_avail) and
 * returned (its used index). */
static void save_tx_taken(uint16_t *took, uint16_t *back)
{
	for (unsigned u = 0; u < NVMS; u++) {
		took[u] = nets[u].vdev.vq[Q_TX].last_avail;
		back[u] = nets[u].vdev.vq[Q_TX].used_idx;
	}
}

/* Before the IPIs land: no VM's TX queue was taken on another VM's CPU but
 * by its own step (`acting`, or -1). */
FUZZ_NOCOV static void check_tx_own_cpu(const uint16_t *took, int acting)
{
	for (unsigned u = 0; u < NVMS; u++)
		if ((int)u != acting && cpu.vcpu != &vms[u].vcpus[0])
			FUZZ_ASSERT(nets[u].vdev.vq[Q_TX].last_avail == took[u],
				    "vm %u: TX chains %u..%u taken on CPU %u, not its own", u,
				    took[u], nets[u].vdev.vq[Q_TX].last_avail, cpu.id);
}

/* After the IPIs land: a VM whose parked chain came back on another VM's
 * CPU (its queue stood still behind it, and its driver need not notify
 * again) has taken the next chain its driver made available, on its own
 * CPU: no sender stalls with chains in its ring. */
FUZZ_NOCOV static void check_tx_resumed(const uint16_t *took, const uint16_t *back, int acting)
{
	for (unsigned u = 0; u < NVMS; u++) {
		const struct virtq *vq = &nets[u].vdev.vq[Q_TX];
		if ((int)u == acting || cpu.vcpu == &vms[u].vcpus[0] || !vq->ready ||
		    vq->used_idx == back[u] || vq->last_avail != took[u])
			continue;
		FUZZ_ASSERT(vq->avail[1] == took[u],
			    "vm %u: parked chain returned on CPU %u, chains %u..%u left untaken", u,
			    cpu.id, took[u], vq->avail[1]);
	}
}

static void step(struct fuzz_in *in)
{
	uint8_t op = fin_u8(in);
	unsigned v = fin_u8(in) % NVMS;
	static struct before b;
	int rx_notified = -1;
	bool held_before = false;
	uint16_t took[NVMS], back[NVMS];
	/* only set-up, notifies, register accesses and the tick make a device act */
	bool device_acts =
		op % 12 == 0 || op % 12 == 3 || op % 12 == 4 || op % 12 == 5 || op % 12 == 10;

	set_cpu(op / 12 % MAX_PCPUS); /* the physical CPU the step runs on */
	for (unsigned p = 0; p < NVMS; p++)
		held_before |= parks[p].held;
	save_stats();
	if (device_acts)
		save_before(&b);
	save_tx_taken(took, back);
	switch (op % 12) {
	case 0:
		driver_init(v, in);
		break;
	case 1:
	case 2:
		post_chain(v, in);
		break;
	case 3:
	case 4: { /* notify: TX, control or RX */
		unsigned q = fin_u8(in) % (NQ + 1);
		TRACE("vm %u: notify %u\n", v, q);
		wr(v, R_QUEUE_NOTIFY, q);
		rx_notified = q == Q_RX ? (int)v : -1;
		TRACE("vm %u: status 0x%x, q%u %sready, took %u, returned %u\n", v,
		      nets[v].vdev.status, q, nets[v].vdev.vq[q % NQ].ready ? "" : "not ",
		      nets[v].vdev.vq[q % NQ].last_avail, nets[v].vdev.vq[q % NQ].used_idx);
		break;
	}
	case 5: { /* any register access */
		static const unsigned widths[] = {4, 4, 4, 1, 2, 8};
		uint64_t off = fin_u16(in) % 0x240;
		unsigned width = widths[fin_u8(in) % 6];
		uint32_t val = fin_u32(in);
		bool write = off & 1;
		off &= ~1ULL;
		TRACE("vm %u: %s 0x%llx/%u 0x%x\n", v, write ? "write" : "read",
		      (unsigned long long)off, width, val);
		mmio(v, off, width, write, val, NULL);
		break;
	}
	case 6: { /* the guest scribbles on its RAM (rings included) */
		uint8_t buf[64];
		uint64_t off = fin_u16(in) % FUZZ_GUEST_SIZE;
		size_t n = fin_bytes(in, buf, 1 + fin_u8(in) % sizeof(buf));
		fuzz_guest_write(&guests[v], off, buf, n);
		break;
	}
	case 7:
		check_config(v, in);
		break;
	case 8:
		fuzz_switch(in);
		break;
	case 9: /* acknowledge interrupts */
		wr(v, R_INTERRUPT_ACK, fin_u8(in) & 3);
		break;
	case 10: /* time goes by; the hypervisor's tick retries parked frames */
		advance(in, &clock_now, clock_hz);
		virtio_net_tick();
		break;
	case 11:
		try_limit(in, the_sw, v, &nets[v], &models[v], clock_hz);
		break;
	}
	int acting = op % 12 == 10 || op % 12 == 8 ? -1 : (int)v;
	check_tx_own_cpu(took, acting);
	take_ipis();
	check_tx_resumed(took, back, acting);
	if (device_acts)
		check_step(&b, op % 12 == 10, rx_notified);
	check_storm(device_acts, held_before);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const seeds[] = {"tests/fuzz/seeds/fuzz_net", NULL};

	fuzz_add_corpus(argc, argv, "fuzz_net", seeds);
	trace = getenv("FUZZ_TRACE") != NULL;
	if (getenv("FUZZ_NET_STATS"))
		atexit(print_seen);
	return 0;
}

/* The switch's state outside the devices outlives an input: frames parked
 * (dropped here: every device is reset, and a tick at two counter values
 * 2^63 apart finds each one waited longer than PARK_MAX_MS at one of them)
 * and unresponsive receivers (an RX notify from a device brought up with
 * one receive queue clears it). */
FUZZ_NOCOV static void forget_switch_state(void)
{
	clock_hz = 1000000;
	clock_now = 0;
	virtio_net_tick();
	clock_now = 1ULL << 63;
	virtio_net_tick();
	take_ipis();
	for (unsigned v = 0; v < NVMS; v++) {
		wr(v, R_STATUS, 0);
		wr(v, R_STATUS, 3);
		wr(v, R_DRIVER_FEATURES_SEL, 1);
		wr(v, R_DRIVER_FEATURES, (uint32_t)(VIRTIO_F_VERSION_1 >> 32));
		wr(v, R_STATUS, 0xb);
		wr(v, R_QUEUE_SEL, Q_RX);
		wr(v, R_QUEUE_NUM, 1);
		wr(v, R_QUEUE_DESC_LOW, (uint32_t)qarea(Q_RX));
		wr(v, R_QUEUE_DRIVER_LOW, (uint32_t)(qarea(Q_RX) + 0x400));
		wr(v, R_QUEUE_DEVICE_LOW, (uint32_t)(qarea(Q_RX) + 0x500));
		wr(v, R_QUEUE_READY, 1);
		wr(v, R_STATUS, 0xf);
		wr(v, R_QUEUE_NOTIFY, Q_RX);
		wr(v, R_STATUS, 0);
		parks[v] = (struct park_model){0};
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool created;
	struct fuzz_in in = {data, size};

	if (!created) {
		setup_once();
		created = true;
	}
	for (unsigned v = 0; v < NVMS; v++) {
		wr(v, R_STATUS, 0); /* a fresh device, fresh RAM */
		fuzz_guest_clear(&guests[v]);
		drv[v] = (struct driver){0};
	}
	forget_switch_state();
	/* no flood limit, unless the input picks one per port, a counter
	 * frequency and a start value */
	clock_hz = 1000000;
	clock_now = 0;
	for (unsigned v = 0; v < NVMS; v++) {
		FUZZ_ASSERT(!virtio_net_set_flood_limit(&nets[v], 0, 0), "no flood limit");
		model_set(&models[v], 0, 0, clock_hz);
	}
	/* most inputs start with every driver up */
	uint8_t start = fin_u8(&in);
	if (start & 1)
		for (unsigned v = 0; v < NVMS; v++)
			driver_init(v, &in);
	if (start & 2) {
		clock_hz = pick_hz(&in);
		clock_now = fin_u64(&in);
		for (unsigned v = 0; v < NVMS; v++)
			try_limit(&in, the_sw, v, &nets[v], &models[v], clock_hz);
	}
	for (unsigned n = 0; in.n && n < 100; n++)
		step(&in);
	return 0;
}
