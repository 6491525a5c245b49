/* virtio-net device model (virtio 1.1 §5.1), a port of the hypervisor's
 * switch (netswitch.h). */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H
#include "net/net_ctrl.h"
#include "net/netswitch.h"
#include "virtio/virtio_mmio.h"

struct virtio_net {
	struct virtio_dev vdev;
	uint8_t mac[ETH_ALEN];
	int port; /* index in the switch */
	struct net_rx_mode rx_mode;
};

int virtio_net_create(struct virtio_net *net, struct vm *vm, ipa_t base, uint32_t irq,
		      const uint8_t mac[ETH_ALEN], bool uplink);
/* The port's storm control (netswitch_set_flood_limit): flooded frames
 * per second (0: no limit) and burst; -1 if out of bounds. */
int virtio_net_set_flood_limit(struct virtio_net *net, uint32_t rate, uint32_t burst);
void virtio_net_print_stats(void);
/* Every CPU's hypervisor tick: parked frames are retried (or dropped). */
void virtio_net_tick(void);
/* IPI_NET on a VM's CPU: takes the TX queues that another CPU, having
 * delivered a frame parked on them, left to this one. */
void virtio_net_work(void);
#endif
