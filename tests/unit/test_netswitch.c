/* Switch forwarding decisions: unicast, broadcast/multicast, unknown
 * unicast to the uplink, own MAC, and port table validation; storm control
 * (the per-port token bucket on flooded frames). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "net/netswitch.h"

static const uint8_t mvm[6] = {0x52, 0x54, 0, 0x5e, 0, 0x01};
static const uint8_t g1[6] = {0x52, 0x54, 0, 0x5e, 0, 0x11};
static const uint8_t g2[6] = {0x52, 0x54, 0, 0x5e, 0, 0x12};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
static const uint8_t outside[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};

static struct netswitch sw;

static int setup(void **state)
{
	(void)state;
	sw = (struct netswitch){0};
	assert_int_equal(netswitch_add_port(&sw, mvm, true, NULL), 0);
	assert_int_equal(netswitch_add_port(&sw, g1, false, NULL), 1);
	assert_int_equal(netswitch_add_port(&sw, g2, false, NULL), 2);
	return 0;
}

static void test_unicast(void **state)
{
	(void)state;
	assert_int_equal(netswitch_route(&sw, 1, g2), 1u << 2);
	assert_int_equal(netswitch_route(&sw, 2, g1), 1u << 1);
	assert_int_equal(netswitch_route(&sw, 1, mvm), 1u << 0);
	assert_int_equal(netswitch_route(&sw, 0, g1), 1u << 1); /* from outside to a GVM */
}

static void test_broadcast_and_multicast(void **state)
{
	(void)state;
	assert_int_equal(netswitch_route(&sw, 1, bcast), (1u << 0) | (1u << 2));
	assert_int_equal(netswitch_route(&sw, 0, bcast), (1u << 1) | (1u << 2));
	assert_int_equal(netswitch_route(&sw, 2, mcast), (1u << 0) | (1u << 1));
}

static void test_unknown_goes_to_uplink(void **state)
{
	(void)state;
	assert_int_equal(netswitch_route(&sw, 1, outside), 1u << 0);
	/* unknown unicast arriving from the uplink goes nowhere */
	assert_int_equal(netswitch_route(&sw, 0, outside), 0);
}

static void test_own_mac_and_bad_port(void **state)
{
	(void)state;
	assert_int_equal(netswitch_route(&sw, 1, g1), 0);
	assert_int_equal(netswitch_route(&sw, 7, g1), 0);
	/* a port number past the mask's width (fuzz_net: the mask was built
	 * with a shift by it before the check, undefined from 32 on) */
	assert_int_equal(netswitch_route(&sw, 40, bcast), 0);
	assert_int_equal(netswitch_route(&sw, 0xffffffffu, g1), 0);
}

static void test_port_table_checks(void **state)
{
	static const uint8_t zero[6] = {0};
	const uint8_t other[6] = {0x52, 0x54, 0, 0x5e, 0, 0x20};
	(void)state;
	assert_int_equal(netswitch_add_port(&sw, g1, false, NULL), -1);    /* MAC taken */
	assert_int_equal(netswitch_add_port(&sw, bcast, false, NULL), -1); /* not unicast */
	assert_int_equal(netswitch_add_port(&sw, zero, false, NULL), -1);
	assert_int_equal(netswitch_add_port(&sw, other, true, NULL), -1); /* a second uplink */
	for (int i = 3; i < NET_MAX_PORTS; i++) {
		uint8_t m[6] = {0x52, 0x54, 0, 0x5e, 1, (uint8_t)i};
		assert_int_equal(netswitch_add_port(&sw, m, false, NULL), i);
	}
	assert_int_equal(netswitch_add_port(&sw, other, false, NULL), -1); /* full */
	assert_int_equal(netswitch_route(&sw, 1, bcast), ((1u << NET_MAX_PORTS) - 1) & ~(1u << 1));
}

/* ---- storm control ---- */

#define HZ 62500000ull /* QEMU virt's counter before 9.0; any works */

/* Sends n flooded frames from port src at counter value now; how many pass. */
static unsigned flood(unsigned src, unsigned n, uint64_t now)
{
	unsigned ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += netswitch_flood_take(&sw, src, now);
	return ok;
}

static void test_floods(void **state)
{
	(void)state;
	assert_true(netswitch_floods(bcast, netswitch_route(&sw, 1, bcast)));
	assert_true(netswitch_floods(mcast, netswitch_route(&sw, 2, mcast)));
	assert_true(netswitch_floods(g1, (1u << 0) | (1u << 2))); /* several ports */
	/* unicast to a known MAC and unknown unicast to the uplink alone */
	assert_false(netswitch_floods(g2, netswitch_route(&sw, 1, g2)));
	assert_false(netswitch_floods(outside, netswitch_route(&sw, 1, outside)));
	/* a group address routed nowhere (no other port) costs nothing */
	assert_false(netswitch_floods(bcast, 0));
}

static void test_flood_limit_bounds(void **state)
{
	(void)state;
	assert_int_equal(netswitch_set_flood_limit(&sw, 1, 1000, 64, HZ), 0);
	assert_int_equal(netswitch_set_flood_limit(&sw, 1, 0, 0, HZ), 0);      /* no limit */
	assert_int_equal(netswitch_set_flood_limit(&sw, 3, 1000, 64, HZ), -1); /* no port */
	assert_int_equal(netswitch_set_flood_limit(&sw, 1, NET_FLOOD_MAX_RATE + 1, 64, HZ), -1);
	assert_int_equal(netswitch_set_flood_limit(&sw, 1, 1000, 0, HZ), -1);
	assert_int_equal(netswitch_set_flood_limit(&sw, 1, 1000, NET_FLOOD_MAX_BURST + 1, HZ), -1);
	assert_int_equal(netswitch_set_flood_limit(&sw, 1, 1000, 64, 0), -1);
	assert_int_equal(netswitch_set_flood_limit(&sw, 1, 1000, 64, (1ull << 40) + 1), -1);
	assert_false(netswitch_flood_take(&sw, 3, 0)); /* no such port */
}

static void test_flood_no_limit(void **state)
{
	(void)state;
	/* a port never configured, and one configured with rate 0 */
	assert_int_equal(flood(1, 100000, 5), 100000);
	assert_int_equal(netswitch_set_flood_limit(&sw, 2, 0, 0, HZ), 0);
	assert_int_equal(flood(2, 100000, 5), 100000);
}

static void test_flood_burst(void **state)
{
	uint64_t t = 12345;
	(void)state;
	assert_int_equal(netswitch_set_flood_limit(&sw, 2, 1000, 64, HZ), 0);
	/* a full bucket at the start: the burst, then nothing at that instant */
	assert_int_equal(flood(2, 100, t), 64);
	assert_int_equal(flood(2, 10, t), 0);
	/* one frame's worth of time (1 ms at 1000/s) gives one frame */
	t += HZ / 1000;
	assert_int_equal(flood(2, 10, t), 1);
	/* just short of the next frame: nothing */
	t += HZ / 1000 - 1;
	assert_int_equal(flood(2, 10, t), 0);
	t += 1;
	assert_int_equal(flood(2, 10, t), 1);
	/* a quiet second refills to the burst, never beyond */
	t += HZ;
	assert_int_equal(flood(2, 1000, t), 64);
}

static void test_flood_rate_over_a_second(void **state)
{
	uint64_t t = 1000;
	unsigned sent = 0;
	(void)state;
	assert_int_equal(netswitch_set_flood_limit(&sw, 2, 1000, 64, HZ), 0);
	assert_int_equal(flood(2, 64, t), 64); /* empty the bucket */
	/* a flooder at 8000 frames/s for one second, as ethflood */
	for (unsigned i = 1; i <= 8000; i++)
		sent += flood(2, 1, t + HZ * i / 8000);
	assert_int_equal(sent, 1000);
	/* a rate that does not divide the counter's frequency: 3 frames/s over
	 * 10 s, polled every millisecond, is exactly 30 (no drift) */
	assert_int_equal(netswitch_set_flood_limit(&sw, 2, 3, 2, HZ), 0);
	t = 7;
	assert_int_equal(flood(2, 5, t), 2); /* the burst */
	sent = 0;
	for (unsigned ms = 1; ms <= 10000; ms++)
		sent += flood(2, 1, t + HZ * ms / 1000);
	assert_int_equal(sent, 30);
}

static void test_flood_ports_independent(void **state)
{
	uint64_t t = 99;
	(void)state;
	assert_int_equal(netswitch_set_flood_limit(&sw, 1, 1000, 64, HZ), 0);
	assert_int_equal(netswitch_set_flood_limit(&sw, 2, 1000, 64, HZ), 0);
	assert_int_equal(flood(2, 1000, t), 64);   /* port 2 exhausted */
	assert_int_equal(flood(1, 64, t), 64);     /* port 1 still has all of its own */
	assert_int_equal(flood(0, 1000, t), 1000); /* port 0 has no limit */
	/* and port 2's known unicast is not flooded, so never asks the bucket */
	assert_false(netswitch_floods(g1, netswitch_route(&sw, 2, g1)));
}

static void test_flood_idle_and_wrap(void **state)
{
	(void)state;
	/* the largest bucket at the highest rate, idle for a year of a 1 GHz
	 * counter: the refill must not overflow (it would with ticks * rate) */
	uint64_t ghz = 1000000000ull, t = 5;
	assert_int_equal(
		netswitch_set_flood_limit(&sw, 1, NET_FLOOD_MAX_RATE, NET_FLOOD_MAX_BURST, ghz), 0);
	assert_int_equal(flood(1, NET_FLOOD_MAX_BURST + 10, t), NET_FLOOD_MAX_BURST);
	t += 365ull * 24 * 3600 * ghz;
	assert_int_equal(flood(1, NET_FLOOD_MAX_BURST + 10, t), NET_FLOOD_MAX_BURST);
	/* the counter wraps: 1 ms across 2^64 is 1 ms */
	assert_int_equal(netswitch_set_flood_limit(&sw, 2, 1000, 4, HZ), 0);
	t = UINT64_MAX - HZ / 2000; /* half a millisecond before the wrap */
	assert_int_equal(flood(2, 10, t), 4);
	t += HZ / 1000; /* wrapped, 1 ms later */
	assert_true(t < HZ);
	assert_int_equal(flood(2, 10, t), 1);
	/* a counter value from before the last update (read on another CPU)
	 * gives nothing and does not move the bucket's time back */
	assert_int_equal(flood(2, 10, t - 100), 0);
	assert_int_equal(flood(2, 10, t + HZ / 1000), 1);
	/* idle for 2^62 ticks (73 years at 2 GHz): a full bucket */
	assert_int_equal(netswitch_set_flood_limit(&sw, 2, 1000, 4, HZ), 0);
	assert_int_equal(flood(2, 10, 0), 4);
	assert_int_equal(flood(2, 10, (1ull << 62)), 4);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_unicast),
		T(test_broadcast_and_multicast),
		T(test_unknown_goes_to_uplink),
		T(test_own_mac_and_bad_port),
		T(test_port_table_checks),
		T(test_floods),
		T(test_flood_limit_bounds),
		T(test_flood_no_limit),
		T(test_flood_burst),
		T(test_flood_rate_over_a_second),
		T(test_flood_ports_independent),
		T(test_flood_idle_and_wrap),
	};
	return cmocka_run_group_tests_name("netswitch", tests, NULL, NULL);
}
