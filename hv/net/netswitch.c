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

bool netswitch_floods(const uint8_t dst[ETH_ALEN], uint32_t ports)
{
	return ports && (is_multicast(dst) || (ports & (ports - 1)));
}

int netswitch_set_flood_limit(struct netswitch *sw, unsigned port, uint32_t rate, uint32_t burst,
			      uint64_t hz)
{
	if (port >= sw->nports || rate > NET_FLOOD_MAX_RATE || hz == 0 || hz > (1ULL << 40) ||
	    (rate && (burst == 0 || burst > NET_FLOOD_MAX_BURST)))
		return -1;
	struct net_flood_limit *f = &sw->ports[port].flood;
	f->rate = rate;
	f->burst = rate ? burst : 0;
	f->hz = hz;
	f->credit = (uint64_t)f->burst * hz; /* <= 2^16 * 2^40 */
	f->last = 0;
	f->timed = false;
	return 0;
}

/* The refill never multiplies more ticks than fill the bucket, so neither
 * an idle spell of years nor a counter that wrapped overflows: the product
 * is at most cap + rate. A counter seen going back (a value read on another
 * CPU before the last update; or 2^63 ticks idle, 292 years at 1 GHz)
 * refills nothing. */
bool netswitch_flood_take(struct netswitch *sw, unsigned src, uint64_t now)
{
	if (src >= sw->nports)
		return false;
	struct net_flood_limit *f = &sw->ports[src].flood;
	if (!f->rate)
		return true;
	uint64_t cap = (uint64_t)f->burst * f->hz;
	uint64_t elapsed = now - f->last; /* modulo 2^64: right across a wrap */

	if (!f->timed) { /* the first frame: the bucket is full */
		f->timed = true;
		f->last = now;
		elapsed = 0;
	} else if (elapsed >> 63)
		elapsed = 0; /* behind the last update */
	else
		f->last = now;
	if (elapsed >= (cap - f->credit) / f->rate + 1)
		f->credit = cap;
	else
		f->credit += elapsed * f->rate;
	if (f->credit < f->hz)
		return false;
	f->credit -= f->hz;
	return true;
}
