/* The hypervisor's Ethernet switch between VMs' virtio-net ports. Ports
 * have fixed MACs from the configuration; the MVM's port is the uplink that
 * bridges to the real NIC. The forwarding decisions are here; the data
 * path, offloads and parking of frames a receiver has no room for are
 * virtio_net.c's. */
#ifndef NETSWITCH_H
#define NETSWITCH_H
#include "lib/types.h"

#define NET_MAX_PORTS 8
#define ETH_ALEN 6

struct net_port_stats {
	uint64_t tx_frames, tx_bytes; /* sent by this port's VM */
	uint64_t rx_frames, rx_bytes; /* delivered to this port's VM */
	uint64_t drop_no_buffer;      /* receiver had no RX buffers (nor got them in time) */
	uint64_t drop_bad;            /* malformed frame from the VM */
	uint64_t drop_no_route;       /* unicast to nobody (own MAC, unknown from uplink) */
	uint64_t drop_storm;          /* flooded frame over the port's flood limit */
};

/* Storm control: a token bucket per source port on the frames the switch
 * floods (netswitch_floods). Credit is kept in 1/hz frames, so refill is
 * exact in counter ticks: each tick adds `rate` units, a frame costs `hz`,
 * the bucket holds burst * hz. rate 0: no limit. */
struct net_flood_limit {
	uint32_t rate;   /* frames per second; 0: no limit */
	uint32_t burst;  /* frames that may go at once after a quiet spell */
	uint64_t hz;     /* counter frequency */
	uint64_t credit; /* in 1/hz frames, at most burst * hz */
	uint64_t last;   /* counter value credit was computed at */
	bool timed;      /* last is set (by the first frame after configuring) */
};
#define NET_FLOOD_MAX_RATE 1000000u /* frames/s: the configuration's bounds */
#define NET_FLOOD_MAX_BURST 65536u

struct net_port {
	uint8_t mac[ETH_ALEN];
	bool uplink;
	bool used;
	void *dev; /* the port's virtio-net device */
	struct net_port_stats stats;
	struct net_flood_limit flood;
};

struct netswitch {
	struct net_port ports[NET_MAX_PORTS];
	unsigned nports;
};

/* Adds a port; its index, or -1 (full, or the MAC is taken or not unicast). */
int netswitch_add_port(struct netswitch *sw, const uint8_t mac[ETH_ALEN], bool uplink, void *dev);
/* The ports a frame from `src` to `dst` goes to, as a bitmask: broadcast and
 * multicast to every other port, unicast to its owner, unknown unicast to
 * the uplink (never back to the uplink it came from). */
uint32_t netswitch_route(const struct netswitch *sw, unsigned src, const uint8_t dst[ETH_ALEN]);

/* Whether the switch floods a frame to `dst` that it routes to `ports`:
 * broadcast and multicast, and any frame it copies to several ports. */
bool netswitch_floods(const uint8_t dst[ETH_ALEN], uint32_t ports);
/* Sets port `port`'s flood limit (rate frames/s, 0: none; burst frames;
 * hz: the counter's frequency); the bucket starts full. -1 if the port does
 * not exist or the values are out of bounds (rate > NET_FLOOD_MAX_RATE,
 * burst 0 or > NET_FLOOD_MAX_BURST with a rate, hz 0 or > 2^40). */
int netswitch_set_flood_limit(struct netswitch *sw, unsigned port, uint32_t rate, uint32_t burst,
			      uint64_t hz);
/* Takes one flooded frame from port `src`'s bucket at counter value `now`:
 * true if it may go, false if it is over the limit (the caller drops and
 * counts it). Not thread-safe: the caller serialises the calls of one port. */
bool netswitch_flood_take(struct netswitch *sw, unsigned src, uint64_t now);
#endif
