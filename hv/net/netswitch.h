/* The hypervisor's Ethernet switch between VMs' virtio-net ports. Ports
 * have fixed MACs from the configuration; the MVM's port is the uplink that
 * bridges to the real NIC. A frame is copied once, from the sender's TX
 * buffers into each receiver's RX buffers; a receiver without buffers costs
 * the sender nothing (the frame is dropped and counted). */
#ifndef NETSWITCH_H
#define NETSWITCH_H
#include "lib/types.h"

#define NET_MAX_PORTS 8
#define ETH_ALEN 6

struct net_port_stats {
	uint64_t tx_frames, tx_bytes; /* sent by this port's VM */
	uint64_t rx_frames, rx_bytes; /* delivered to this port's VM */
	uint64_t drop_no_buffer;      /* receiver had no RX buffers */
	uint64_t drop_bad;            /* malformed frame from the VM */
	uint64_t drop_no_route;       /* unicast to nobody (own MAC, unknown from uplink) */
};

struct net_port {
	uint8_t mac[ETH_ALEN];
	bool uplink;
	bool used;
	void *dev; /* the port's virtio-net device */
	struct net_port_stats stats;
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
#endif
