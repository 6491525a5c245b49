/* Switch forwarding decisions (see netswitch.h): pure logic, unit-tested. */
#include "net/netswitch.h"

static bool mac_eq(const uint8_t *a, const uint8_t *b)
{
	for (unsigned i = 0; i < ETH_ALEN; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static bool is_multicast(const uint8_t *mac)
{
	return mac[0] & 1; /* broadcast is a multicast address too */
}

static bool is_zero(const uint8_t *mac)
{
	for (unsigned i = 0; i < ETH_ALEN; i++)
		if (mac[i])
			return false;
	return true;
}

int netswitch_add_port(struct netswitch *sw, const uint8_t mac[ETH_ALEN], bool uplink, void *dev)
{
	if (sw->nports >= NET_MAX_PORTS || is_multicast(mac) || is_zero(mac))
		return -1;
	for (unsigned i = 0; i < sw->nports; i++)
		if (mac_eq(sw->ports[i].mac, mac) || (uplink && sw->ports[i].uplink))
			return -1;
	struct net_port *p = &sw->ports[sw->nports];
	for (unsigned i = 0; i < ETH_ALEN; i++)
		p->mac[i] = mac[i];
	p->uplink = uplink;
	p->used = true;
	p->dev = dev;
	return (int)sw->nports++;
}

uint32_t netswitch_route(const struct netswitch *sw, unsigned src, const uint8_t dst[ETH_ALEN])
{
	if (src >= sw->nports) /* before any shift by it */
		return 0;
	uint32_t all_others = ((1u << sw->nports) - 1) & ~(1u << src);

	if (is_multicast(dst))
		return all_others;
	for (unsigned i = 0; i < sw->nports; i++)
		if (mac_eq(sw->ports[i].mac, dst))
			return i == src ? 0 : 1u << i;
	for (unsigned i = 0; i < sw->nports; i++)
		if (sw->ports[i].uplink && i != src)
			return 1u << i;
	return 0;
}
