/* virtio-net offloads between VMs (net_offload.c): the sender's header
 * checked against its frame; checksums finished and GSO frames cut into
 * segments whose IP and TCP headers and checksums are verified here by a
 * separate computation (the pseudo-header sums as RFC 793 and 8200 define
 * them), whose payloads put together are the frame's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net/net_offload.h"

#define TSO_FEATURES (NET_F_CSUM | NET_F_HOST_TSO4 | NET_F_HOST_TSO6)
#define PAYLOAD 5000
#define MSS 1448

static uint8_t frame[NET_GSO_MAX_FRAME];
static uint8_t seg[2048];

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

/* The one's-complement sum, folded, written independently of the code. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i < n; i++)
		acc += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

static uint32_t pseudo_sum(const uint8_t *ip, bool v6, uint32_t tcp_len)
{
	uint32_t acc = v6 ? sum16(ip + 8, 32, 0) : sum16(ip + 12, 8, 0);

	return sum16((const uint8_t[]){0, 6, (uint8_t)(tcp_len >> 8), (uint8_t)tcp_len}, 4, acc);
}

/* Whether the TCP checksum of the packet at l3 (TCP at l4, len bytes of
 * frame in all) verifies. */
static bool tcp_ok(const uint8_t *f, uint32_t len, uint32_t l3, uint32_t l4, bool v6)
{
	return sum16(f + l4, len - l4, pseudo_sum(f + l3, v6, len - l4)) == 0xffff;
}

/* A TCP/IP frame of `payload` bytes (byte i of it is i * 7), the TCP
 * checksum field holding the pseudo-header's sum as a sender leaves it for
 * NEEDS_CSUM. Returns its length; *l3 and *l4: the header offsets. */
static uint32_t make_frame(bool v6, bool vlan, uint32_t payload, uint8_t tcp_flags, uint32_t *l3,
			   uint32_t *l4)
{
	uint32_t o = 12;

	memset(frame, 0, sizeof(frame));
	memcpy(frame, (uint8_t[]){0x52, 0x54, 0, 0x5e, 0, 0x12, 0x52, 0x54, 0, 0x5e, 0, 0x11}, 12);
	if (vlan) {
		frame[o++] = 0x81;
		frame[o++] = 0x00;
		frame[o++] = 0;
		frame[o++] = 7;
	}
	frame[o++] = v6 ? 0x86 : 0x08;
	frame[o++] = v6 ? 0xdd : 0x00;
	*l3 = o;
	uint8_t *ip = frame + o;
	if (v6) {
		ip[0] = 0x60;
		ip[6] = 6;
		ip[7] = 64;
		for (int i = 0; i < 32; i++)
			ip[8 + i] = (uint8_t)(0x20 + i);
		*l4 = o + 40;
	} else {
		ip[0] = 0x45;
		ip[4] = 0x12, ip[5] = 0x34; /* id */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, (uint8_t[]){10, 0, 2, 21, 10, 0, 2, 22}, 8);
		*l4 = o + 20;
	}
	uint8_t *tcp = frame + *l4;
	tcp[0] = 0x9c, tcp[1] = 0x40, tcp[3] = 80;
	tcp[4] = 0xff, tcp[5] = 0xff, tcp[6] = 0xfa, tcp[7] = 0x00; /* wraps within the frame */
	tcp[12] = 8 << 4;                                           /* 32 bytes: options */
	tcp[13] = tcp_flags;
	tcp[20] = 1, tcp[21] = 1, tcp[22] = 8, tcp[23] = 10; /* NOP NOP timestamps */
	uint32_t hlen = *l4 + 32, len = hlen + payload;
	for (uint32_t i = 0; i < payload; i++)
		frame[hlen + i] = (uint8_t)(i * 7);
	uint32_t ps = pseudo_sum(ip, v6, len - *l4);
	tcp[16] = (uint8_t)(ps >> 8);
	tcp[17] = (uint8_t)ps;
	return len;
}

static struct net_hdr gso_hdr(bool v6, uint32_t l4)
{
	return (struct net_hdr){.flags = NET_HDR_F_NEEDS_CSUM,
				.gso_type = v6 ? NET_GSO_TCPV6 : NET_GSO_TCPV4,
				.gso_size = MSS,
				.csum_start = (uint16_t)l4,
				.csum_offset = 16};
}

static void test_header_round_trip(void **state)
{
	(void)state;
	struct net_hdr h = {1, 4, 0x1234, 1448, 54, 16, 3}, back;
	uint8_t raw[NET_HDR_LEN];

	net_hdr_write(raw, &h);
	assert_int_equal(raw[2], 0x34); /* little-endian */
	net_hdr_parse(raw, &back);
	assert_memory_equal(&h, &back, sizeof(h));
}

static void test_csum_finish(void **state)
{
	(void)state;
	uint32_t l3, l4, len = make_frame(false, false, 999, 0x18, &l3, &l4);
	struct net_hdr h = {
		.flags = NET_HDR_F_NEEDS_CSUM, .csum_start = (uint16_t)l4, .csum_offset = 16};
	struct net_offload o;

	assert_int_equal(net_offload_check(&h, frame, len, NET_F_CSUM, &o), 0);
	assert_false(tcp_ok(frame, len, l3, l4, false));
	assert_true(net_offload_accepts(&o, NET_F_GUEST_CSUM));
	assert_false(net_offload_accepts(&o, 0));
	net_csum_finish(frame, len, &o);
	assert_true(tcp_ok(frame, len, l3, l4, false)); /* odd length: the last byte padded */
}

/* Cuts the frame and checks every segment against the original. */
static void check_segments(bool v6, bool vlan, uint32_t payload, uint8_t flags)
{
	uint32_t l3, l4, len = make_frame(v6, vlan, payload, flags, &l3, &l4);
	struct net_hdr h = gso_hdr(v6, l4);
	struct net_offload o;
	static uint8_t orig[NET_GSO_MAX_FRAME];

	memcpy(orig, frame, len);
	assert_int_equal(net_offload_check(&h, frame, len, TSO_FEATURES, &o), 0);
	assert_int_equal(o.hlen, l4 + 32);
	uint32_t n = net_gso_segments(&o, len), got = 0;
	assert_int_equal(n, payload ? (payload + MSS - 1) / MSS : 1);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t sl = net_gso_segment(frame, len, &o, i, seg, sizeof(seg));
		uint32_t bytes = sl - o.hlen;
		assert_true(sl > o.hlen || payload == 0);
		assert_true(bytes == MSS || i == n - 1);
		assert_memory_equal(seg + o.hlen, orig + o.hlen + got, bytes);
		assert_memory_equal(seg, orig, l3); /* Ethernet and VLAN */
		assert_true(tcp_ok(seg, sl, l3, l4, v6));
		if (v6) {
			assert_int_equal(rd16(seg + l3 + 4), sl - l3 - 40);
		} else {
			assert_int_equal(rd16(seg + l3 + 2), sl - l3);
			assert_int_equal(rd16(seg + l3 + 4), 0x1234 + i);
			assert_int_equal(sum16(seg + l3, 20, 0), 0xffff);
		}
		assert_int_equal(rd32(seg + l4 + 4), (uint32_t)(0xfffffa00u + got));
		uint8_t f = seg[l4 + 13];
		assert_int_equal(f & 0x09, i == n - 1 ? (flags & 0x09) : 0); /* FIN, PSH: last */
		assert_int_equal(f & 0x80, i == 0 ? (flags & 0x80) : 0);     /* CWR: first */
		assert_int_equal(f & 0x10, flags & 0x10);                    /* ACK: all */
		got += bytes;
	}
	assert_int_equal(got, payload);
	assert_memory_equal(frame, orig, len); /* the frame itself is left alone */
}

static void test_segments_v4(void **state)
{
	(void)state;
	check_segments(false, false, PAYLOAD, 0x19 | 0x80);
	check_segments(false, false, 65535 - 20 - 32, 0x10); /* the largest IPv4 packet */
	check_segments(false, false, MSS, 0x18);             /* one full segment */
	check_segments(false, false, 0, 0x11);               /* no payload */
}

static void test_segments_v6_and_vlan(void **state)
{
	(void)state;
	check_segments(true, false, PAYLOAD, 0x19);
	check_segments(true, true, PAYLOAD, 0x99);
	check_segments(false, true, 3 * MSS + 1, 0x18);
}

static void test_segment_does_not_fit(void **state)
{
	(void)state;
	uint32_t l3, l4, len = make_frame(false, false, PAYLOAD, 0x10, &l3, &l4);
	struct net_hdr h = gso_hdr(false, l4);
	struct net_offload o;

	h.gso_size = 4000; /* beyond the receivers' MTU */
	assert_int_equal(net_offload_check(&h, frame, len, TSO_FEATURES, &o), 0);
	assert_int_equal(net_gso_segment(frame, len, &o, 0, seg, sizeof(seg)), 0);
	assert_int_equal(net_gso_segment(frame, len, &o, 2, seg, sizeof(seg)),
			 0); /* past the end */
}

static void test_receiver_features(void **state)
{
	(void)state;
	uint32_t l3, l4, len = make_frame(true, false, PAYLOAD, 0x10, &l3, &l4);
	struct net_hdr h = gso_hdr(true, l4), out;
	struct net_offload o;

	assert_int_equal(net_offload_check(&h, frame, len, TSO_FEATURES, &o), 0);
	assert_false(net_offload_accepts(&o, NET_F_GUEST_CSUM | NET_F_GUEST_TSO4));
	assert_false(net_offload_accepts(&o, NET_F_GUEST_TSO6)); /* TSO without CSUM */
	assert_true(net_offload_accepts(&o, NET_F_GUEST_CSUM | NET_F_GUEST_TSO6));
	net_offload_hdr(&o, &out);
	assert_int_equal(out.hdr_len, l4 + 32); /* the switch's own, not the sender's */
	assert_int_equal(out.num_buffers, 1);
	assert_int_equal(out.gso_size, MSS);
	struct net_offload plain = {0};
	assert_true(net_offload_accepts(&plain, 0));
}

/* Each of these comes from a hostile sender: dropped, never acted on. */
static void test_hostile_headers(void **state)
{
	(void)state;
	uint32_t l3, l4, len = make_frame(false, false, PAYLOAD, 0x10, &l3, &l4);
	struct net_offload o;
	struct net_hdr h;

#define REFUSED(field_changes, features)                                               \
	do {                                                                           \
		h = gso_hdr(false, l4);                                                \
		field_changes;                                                         \
		assert_int_equal(net_offload_check(&h, frame, len, features, &o), -1); \
	} while (0)
	REFUSED((void)0, NET_F_CSUM | NET_F_HOST_TSO6);    /* TSO4 not negotiated */
	REFUSED((void)0, NET_F_HOST_TSO4);                 /* CSUM not negotiated */
	REFUSED(h.flags = 2, TSO_FEATURES);                /* DATA_VALID is the device's */
	REFUSED(h.flags = 0, TSO_FEATURES);                /* GSO without NEEDS_CSUM */
	REFUSED(h.gso_type = 3, TSO_FEATURES);             /* UDP */
	REFUSED(h.gso_type = 0x81, TSO_FEATURES);          /* ECN */
	REFUSED(h.gso_type = NET_GSO_TCPV6, TSO_FEATURES); /* an IPv4 frame */
	REFUSED(h.gso_size = 0, TSO_FEATURES);
	REFUSED(h.csum_start = (uint16_t)(l4 + 4), TSO_FEATURES);
	REFUSED(h.csum_offset = 6, TSO_FEATURES);
	REFUSED((h.gso_type = 0, h.csum_start = (uint16_t)(len - 1)), TSO_FEATURES);
	REFUSED((h.gso_type = 0, h.csum_start = 0xffff, h.csum_offset = 0xffff), TSO_FEATURES);
	assert_int_equal(net_offload_check(&h, frame, NET_GSO_MAX_FRAME + 1, TSO_FEATURES, &o), -1);

	frame[l4 + 12] = 4 << 4; /* a TCP header of 16 bytes */
	REFUSED((void)0, TSO_FEATURES);
	frame[l4 + 12] = 15 << 4; /* 60 bytes: fits the frame, accepted */
	h = gso_hdr(false, l4);
	assert_int_equal(net_offload_check(&h, frame, len, TSO_FEATURES, &o), 0);
	assert_int_equal(net_offload_check(&h, frame, l4 + 40, TSO_FEATURES, &o), -1); /* beyond */
	frame[l4 + 12] = 8 << 4;
	frame[l3] = 0x44; /* IHL 4 */
	REFUSED((void)0, TSO_FEATURES);
	frame[l3] = 0x45;
	frame[l3 + 9] = 17; /* UDP inside */
	REFUSED((void)0, TSO_FEATURES);
	frame[l3 + 9] = 6;
	assert_int_equal(net_offload_check(&h, frame, l4 + 10, TSO_FEATURES, &o), -1); /* short */
	assert_int_equal(net_offload_check(&h, frame, 13, TSO_FEATURES, &o), -1);
#undef REFUSED
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_csum_finish),
		cmocka_unit_test(test_segments_v4),
		cmocka_unit_test(test_segments_v6_and_vlan),
		cmocka_unit_test(test_segment_does_not_fit),
		cmocka_unit_test(test_receiver_features),
		cmocka_unit_test(test_hostile_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
