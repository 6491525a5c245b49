/* virtio-net offloads between VMs (virtio 1.1 §5.1.6.2): a sender may leave
 * a frame's TCP/UDP checksum to the device (NEEDS_CSUM) and hand it TCP
 * segments of up to 64 KiB (GSO), which cross the switch as one frame. A
 * receiver that negotiated the same offloads gets the frame as it is; for
 * one that did not, the switch finishes the checksum or cuts the segment
 * into MSS-sized frames with their own headers and checksums.
 *
 * Everything in the header and the frame is the sender's: checked against
 * the frame's own Ethernet, IP and TCP headers before anything is done. */
#ifndef NET_OFFLOAD_H
#define NET_OFFLOAD_H
#include "lib/types.h"

#define NET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */
#define NET_HDR_F_NEEDS_CSUM 1
#define NET_GSO_NONE 0
#define NET_GSO_TCPV4 1
#define NET_GSO_TCPV6 4
/* The largest GSO frame: 64 KiB of IP packet, its Ethernet and VLAN header. */
#define NET_GSO_MAX_FRAME (65536 + 18)
/* The smallest MSS a GSO frame may give (Linux's tcp_min_snd_mss default):
 * the switch cuts one frame into at most 64 KiB / 48 segments for a
 * receiver without TSO, so a TX chain cannot make it deliver tens of
 * thousands of frames (an MSS of 1: 65536, some 10 ms of EL2 time each). */
#define NET_GSO_MIN_SIZE 48

/* The feature bits (virtio 1.1 §5.1.3) the offloads need. */
#define NET_F_CSUM (1ULL << 0)
#define NET_F_GUEST_CSUM (1ULL << 1)
#define NET_F_GUEST_TSO4 (1ULL << 7)
#define NET_F_GUEST_TSO6 (1ULL << 8)
#define NET_F_HOST_TSO4 (1ULL << 11)
#define NET_F_HOST_TSO6 (1ULL << 12)
#define NET_OFFLOAD_FEATURES                                                                     \
	(NET_F_CSUM | NET_F_GUEST_CSUM | NET_F_GUEST_TSO4 | NET_F_GUEST_TSO6 | NET_F_HOST_TSO4 | \
	 NET_F_HOST_TSO6)

struct net_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
};

/* A checked frame: what it asks of the device and, for GSO, its layout. */
struct net_offload {
	bool needs_csum;
	uint8_t gso_type;  /* NET_GSO_NONE, _TCPV4 or _TCPV6 */
	uint16_t gso_size; /* payload bytes per segment */
	uint16_t csum_start, csum_offset;
	uint32_t l3, l4, hlen; /* GSO: IP header, TCP header, payload offsets */
};

void net_hdr_parse(const uint8_t raw[NET_HDR_LEN], struct net_hdr *h);
void net_hdr_write(uint8_t raw[NET_HDR_LEN], const struct net_hdr *h);

/* Checks a sender's header against its frame and the features its driver
 * negotiated; fills *o. 0, or -1 for a frame the switch must drop. */
int net_offload_check(const struct net_hdr *h, const uint8_t *frame, uint32_t len,
		      uint64_t sender_features, struct net_offload *o);
/* Whether a receiver with these negotiated features takes the frame as it
 * is (its checksum left to it, the GSO frame whole). */
bool net_offload_accepts(const struct net_offload *o, uint64_t receiver_features);
/* The header a receiver that accepts the frame gets (num_buffers 1). */
void net_offload_hdr(const struct net_offload *o, struct net_hdr *h);
/* Writes the checksum a NEEDS_CSUM (non-GSO) frame left to the device, in
 * the frame (the switch's own copy). */
void net_csum_finish(uint8_t *frame, uint32_t len, const struct net_offload *o);
/* GSO: how many segments the frame is cut into, and segment i of them
 * built in out (its headers, IP lengths, TCP sequence, flags and both
 * checksums its own). Returns the segment's length, or 0 if it does not
 * fit in out_size. */
uint32_t net_gso_segments(const struct net_offload *o, uint32_t len);
uint32_t net_gso_segment(const uint8_t *frame, uint32_t len, const struct net_offload *o,
			 uint32_t i, uint8_t *out, uint32_t out_size);
#endif
