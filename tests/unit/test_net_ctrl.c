/* virtio-net control commands against well-formed and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "net/net_ctrl.h"

static const uint8_t own[6] = {0x52, 0x54, 0, 0x5e, 0, 0x11};
static uint8_t buf[1024];
static struct virtq_chain chain;

/* A command split over two buffers, as a driver may send it. */
static void make(const uint8_t *bytes, uint32_t len)
{
	memcpy(buf, bytes, len);
	uint32_t first = len > 2 ? 2 : len;
	chain = (struct virtq_chain){.nbufs = 2, .nreadable = 2, .readable_len = len};
	chain.bufs[0] = (struct virtq_buf){buf, first, false};
	chain.bufs[1] = (struct virtq_buf){buf + first, len - first ? len - first : 1, false};
}

static void test_rx_mode(void **state)
{
	struct net_rx_mode m = {0};
	(void)state;
	make((const uint8_t[]){0, 0, 1}, 3);
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_OK);
	assert_true(m.promisc);
	make((const uint8_t[]){0, 1, 1}, 3);
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_OK);
	assert_true(m.allmulti);
	make((const uint8_t[]){0, 0, 7}, 3); /* not a boolean */
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_ERR);
	make((const uint8_t[]){0, 0, 1, 1}, 4); /* trailing byte */
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_ERR);
}

static void test_mac_table(void **state)
{
	struct net_rx_mode m = {0};
	uint8_t cmd[2 + 4 + 6 + 4 + 12] = {1, 0, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 2, 0, 0, 0};
	(void)state;
	make(cmd, sizeof(cmd));
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_OK);
	assert_int_equal(m.unicast_macs, 1);
	assert_int_equal(m.multicast_macs, 2);
	make(cmd, sizeof(cmd) - 1); /* short */
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_ERR);
	cmd[2] = 0xff, cmd[3] = 0xff, cmd[4] = 0xff, cmd[5] = 0xff; /* huge count */
	make(cmd, sizeof(cmd));
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_ERR);
	assert_int_equal(m.unicast_macs, 1); /* unchanged */
}

static void test_mac_addr_set_and_unknown(void **state)
{
	struct net_rx_mode m = {0};
	uint8_t set[8] = {1, 1};
	(void)state;
	memcpy(set + 2, own, 6);
	make(set, 8);
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_OK);
	set[7] ^= 1; /* another MAC: refused */
	make(set, 8);
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_ERR);
	make((const uint8_t[]){9, 9}, 2); /* unknown class */
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_ERR);
	make((const uint8_t[]){0}, 1); /* too short */
	assert_int_equal(net_ctrl_command(&m, own, &chain), NET_CTRL_ERR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_mode),
		cmocka_unit_test(test_mac_table),
		cmocka_unit_test(test_mac_addr_set_and_unknown),
	};
	return cmocka_run_group_tests_name("net_ctrl", tests, NULL, NULL);
}
