/* virtio-net offloads between VMs: the checks, the checksums and the
 * segmentation (net_offload.h). All multi-byte header fields on the wire
 * are big-endian; the virtio header is little-endian. */
#include "net/net_offload.h"

#include "lib/lib.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define IPPROTO_TCP 6
#define TCP_HLEN_MIN 20
#define TCP_CSUM_OFFSET 16
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* The Internet checksum's sum (RFC 1071) of n bytes, added to acc; an odd
 * last byte is the high half of a word. */
static uint64_t csum_add(const uint8_t *p, uint32_t n, uint64_t acc)
{
	uint32_t i = 0;

	for (; i + 1 < n; i += 2)
		acc += get16(p + i);
	if (i < n)
		acc += (uint64_t)p[i] << 8;
	return acc;
}

static uint16_t csum_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

void net_hdr_parse(const uint8_t raw[NET_HDR_LEN], struct net_hdr *h)
{
	h->flags = raw[0];
	h->gso_type = raw[1];
	h->hdr_len = le16(raw + 2);
	h->gso_size = le16(raw + 4);
	h->csum_start = le16(raw + 6);
	h->csum_offset = le16(raw + 8);
	h->num_buffers = le16(raw + 10);
}

void net_hdr_write(uint8_t raw[NET_HDR_LEN], const struct net_hdr *h)
{
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	put_le16(raw + 2, h->hdr_len);
	put_le16(raw + 4, h->gso_size);
	put_le16(raw + 6, h->csum_start);
	put_le16(raw + 8, h->csum_offset);
	put_le16(raw + 10, h->num_buffers);
}

/* The IP header's offset past Ethernet and at most one VLAN tag, and the
 * EtherType it carries; 0 if the frame is too short for them. */
static uint32_t l3_offset(const uint8_t *frame, uint32_t len, uint16_t *type)
{
	if (len < ETH_HLEN)
		return 0;
	*type = get16(frame + 12);
	if (*type != ETH_P_8021Q)
		return ETH_HLEN;
	if (len < ETH_HLEN + 4)
		return 0;
	*type = get16(frame + 16);
	return ETH_HLEN + 4;
}

/* The TCP header's offset of a TCP/IPv4 or TCP/IPv6 packet at l3 (no IPv6
 * extension headers: Linux sends none with TSO); 0 if it is not one. */
static uint32_t l4_offset(const uint8_t *frame, uint32_t len, uint32_t l3, uint16_t type, bool v6)
{
	const uint8_t *ip = frame + l3;

	if (!v6) {
		uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;
		if (type != ETH_P_IP || len < l3 + 20 || ip[0] >> 4 != 4 || ihl < 20 ||
		    len < l3 + ihl || ip[9] != IPPROTO_TCP)
			return 0;
		return l3 + ihl;
	}
	if (type != ETH_P_IPV6 || len < l3 + 40 || ip[0] >> 4 != 6 || ip[6] != IPPROTO_TCP)
		return 0;
	return l3 + 40;
}

/* A GSO frame: TCP over IPv4 or IPv6, as the sender negotiated, with its
 * checksum left to the device at the TCP header's checksum field. */
static int check_gso(const struct net_hdr *h, const uint8_t *frame, uint32_t len, uint64_t features,
		     struct net_offload *o)
{
	bool v6 = h->gso_type == NET_GSO_TCPV6;
	uint16_t type = 0;

	if (h->gso_type != NET_GSO_TCPV4 && !v6)
		return -1; /* UDP, ECN: never offered */
	if (!(features & (v6 ? NET_F_HOST_TSO6 : NET_F_HOST_TSO4)) || !o->needs_csum ||
	    h->gso_size < NET_GSO_MIN_SIZE || len > NET_GSO_MAX_FRAME)
		return -1;
	uint32_t l3 = l3_offset(frame, len, &type);
	uint32_t l4 = l3 ? l4_offset(frame, len, l3, type, v6) : 0;
	if (!l4 || len < l4 + TCP_HLEN_MIN)
		return -1;
	uint32_t hlen = l4 + (uint32_t)(frame[l4 + 12] >> 4) * 4;
	if (hlen < l4 + TCP_HLEN_MIN || hlen > len || o->csum_start != l4 ||
	    o->csum_offset != TCP_CSUM_OFFSET)
		return -1;
	o->gso_type = h->gso_type;
	o->gso_size = h->gso_size;
	o->l3 = l3;
	o->l4 = l4;
	o->hlen = hlen;
	return 0;
}

int net_offload_check(const struct net_hdr *h, const uint8_t *frame, uint32_t len,
		      uint64_t sender_features, struct net_offload *o)
{
	memset(o, 0, sizeof(*o));
	if (h->flags & ~NET_HDR_F_NEEDS_CSUM)
		return -1; /* DATA_VALID and RSC_INFO are the device's to set */
	o->needs_csum = h->flags & NET_HDR_F_NEEDS_CSUM;
	if (o->needs_csum) {
		if (!(sender_features & NET_F_CSUM) ||
		    (uint32_t)h->csum_start + h->csum_offset + 2 > len)
			return -1;
		o->csum_start = h->csum_start;
		o->csum_offset = h->csum_offset;
	}
	if (h->gso_type == NET_GSO_NONE)
		return 0;
	return check_gso(h, frame, len, sender_features, o);
}

bool net_offload_accepts(const struct net_offload *o, uint64_t receiver_features)
{
	if (o->gso_type == NET_GSO_TCPV4 && !(receiver_features & NET_F_GUEST_TSO4))
		return false;
	if (o->gso_type == NET_GSO_TCPV6 && !(receiver_features & NET_F_GUEST_TSO6))
		return false;
	return !o->needs_csum || (receiver_features & NET_F_GUEST_CSUM);
}

void net_offload_hdr(const struct net_offload *o, struct net_hdr *h)
{
	bool gso = o->gso_type != NET_GSO_NONE;

	*h = (struct net_hdr){
		.flags = o->needs_csum ? NET_HDR_F_NEEDS_CSUM : 0,
		.gso_type = o->gso_type,
		.hdr_len = (uint16_t)(gso ? o->hlen : 0),
		.gso_size = gso ? o->gso_size : 0,
		.csum_start = o->csum_start,
		.csum_offset = o->csum_offset,
		.num_buffers = 1,
	};
}

/* The field holds the pseudo-header's sum (the sender's part): the device
 * sums from csum_start to the end, that field included, and stores the
 * complement; 0 becomes 0xffff, which UDP would read as "no checksum". */
void net_csum_finish(uint8_t *frame, uint32_t len, const struct net_offload *o)
{
	uint8_t *field = frame + o->csum_start + o->csum_offset;
	uint16_t c = (uint16_t)~csum_fold(csum_add(frame + o->csum_start, len - o->csum_start, 0));

	put16(field, c ? c : 0xffff);
}

uint32_t net_gso_segments(const struct net_offload *o, uint32_t len)
{
	uint32_t payload = len - o->hlen;

	return payload ? (payload + o->gso_size - 1) / o->gso_size : 1;
}

/* The IP header of a segment of seg_len bytes, the i-th of its packet. */
static void fix_ip(uint8_t *seg, uint32_t seg_len, const struct net_offload *o, uint32_t i)
{
	uint8_t *ip = seg + o->l3;

	if (o->gso_type == NET_GSO_TCPV6) {
		put16(ip + 4, (uint16_t)(seg_len - o->l3 - 40));
		return;
	}
	put16(ip + 2, (uint16_t)(seg_len - o->l3));
	put16(ip + 4, (uint16_t)(get16(ip + 4) + i));
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~csum_fold(csum_add(ip, o->l4 - o->l3, 0)));
}

/* The TCP header of segment i of n carrying bytes from `off` of the
 * payload: its sequence number, flags and checksum (pseudo-header, header
 * and payload: nothing of the sender's partial sum is kept). */
static void fix_tcp(uint8_t *seg, uint32_t seg_len, const struct net_offload *o, uint32_t i,
		    uint32_t n, uint32_t off)
{
	uint8_t *tcp = seg + o->l4;
	const uint8_t *ip = seg + o->l3;
	uint32_t tcp_len = seg_len - o->l4;
	uint64_t acc;

	put32(tcp + 4, get32(tcp + 4) + off);
	if (i + 1 < n)
		tcp[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	if (i > 0)
		tcp[13] &= (uint8_t)~TCP_CWR;
	if (o->gso_type == NET_GSO_TCPV6)
		acc = csum_add(ip + 8, 32, 0); /* source and destination */
	else
		acc = csum_add(ip + 12, 8, 0);
	acc += IPPROTO_TCP + tcp_len;
	put16(tcp + TCP_CSUM_OFFSET, 0);
	put16(tcp + TCP_CSUM_OFFSET, (uint16_t)~csum_fold(csum_add(tcp, tcp_len, acc)));
}

uint32_t net_gso_segment(const uint8_t *frame, uint32_t len, const struct net_offload *o,
			 uint32_t i, uint8_t *out, uint32_t out_size)
{
	uint32_t n = net_gso_segments(o, len);
	uint64_t off = (uint64_t)i * o->gso_size, payload = len - o->hlen;

	if (i >= n)
		return 0;
	uint64_t bytes = payload - off < o->gso_size ? payload - off : o->gso_size;
	uint64_t seg_len = o->hlen + bytes;
	if (seg_len > out_size)
		return 0;
	memcpy(out, frame, o->hlen);
	memcpy(out + o->hlen, frame + o->hlen + off, bytes);
	fix_ip(out, (uint32_t)seg_len, o, i);
	fix_tcp(out, (uint32_t)seg_len, o, i, n, (uint32_t)off);
	return (uint32_t)seg_len;
}
