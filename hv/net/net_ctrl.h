/* virtio-net control-queue commands (virtio 1.1 §5.1.6.5), parsed and
 * checked apart from the device so the parser can be tested on the host. */
#ifndef NET_CTRL_H
#define NET_CTRL_H
#include "lib/types.h"
#include "virtio/virtq.h"

#define NET_CTRL_OK 0
#define NET_CTRL_ERR 1
#define NET_CTRL_MAC_MAX 64 /* entries per MAC table we accept */

struct net_rx_mode {
	bool promisc, allmulti;
	uint32_t unicast_macs, multicast_macs; /* sizes of the last MAC table */
};

/* Applies one command (class, command, data: the chain's readable bytes)
 * and returns the ack status; malformed or unknown commands get ERR and
 * change nothing. */
uint8_t net_ctrl_command(struct net_rx_mode *mode, const uint8_t own_mac[6],
			 const struct virtq_chain *c);
#endif
