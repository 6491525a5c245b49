/* virtio-net control commands (see net_ctrl.h): RX mode (promiscuous,
 * all-multicast) and the MAC table; a guest may not change its MAC. */
#include "net/net_ctrl.h"

#include "lib/lib.h"

#define CLASS_RX 0
#define CMD_PROMISC 0
#define CMD_ALLMULTI 1
#define CLASS_MAC 1
#define CMD_MAC_TABLE_SET 0
#define CMD_MAC_ADDR_SET 1

static uint32_t read_u32(const struct virtq_chain *c, uint32_t off)
{
	uint8_t b[4];

	virtq_chain_read(c, off, b, 4);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Two tables, {u32 entries; u8 macs[entries][6]}, filling the data exactly. */
static uint8_t mac_table_set(struct net_rx_mode *mode, const struct virtq_chain *c, uint64_t len)
{
	uint64_t off = 2;

	if (len < off + 4)
		return NET_CTRL_ERR;
	uint32_t uc = read_u32(c, (uint32_t)off);
	if (uc > NET_CTRL_MAC_MAX || len < off + 4 + 6ULL * uc + 4)
		return NET_CTRL_ERR;
	off += 4 + 6ULL * uc;
	uint32_t mc = read_u32(c, (uint32_t)off);
	if (mc > NET_CTRL_MAC_MAX || len != off + 4 + 6ULL * mc)
		return NET_CTRL_ERR;
	mode->unicast_macs = uc;
	mode->multicast_macs = mc;
	return NET_CTRL_OK;
}

uint8_t net_ctrl_command(struct net_rx_mode *mode, const uint8_t own_mac[6],
			 const struct virtq_chain *c)
{
	uint64_t len = c->readable_len;
	uint8_t cmd[2 + 6];

	if (len < 2)
		return NET_CTRL_ERR;
	virtq_chain_read(c, 0, cmd, (uint32_t)MIN(len, (uint64_t)sizeof(cmd)));
	if (cmd[0] == CLASS_RX && (cmd[1] == CMD_PROMISC || cmd[1] == CMD_ALLMULTI)) {
		if (len != 3 || cmd[2] > 1)
			return NET_CTRL_ERR;
		if (cmd[1] == CMD_PROMISC)
			mode->promisc = cmd[2];
		else
			mode->allmulti = cmd[2];
		return NET_CTRL_OK;
	}
	if (cmd[0] == CLASS_MAC && cmd[1] == CMD_MAC_TABLE_SET)
		return mac_table_set(mode, c, len);
	if (cmd[0] == CLASS_MAC && cmd[1] == CMD_MAC_ADDR_SET)
		return len == 8 && !memcmp(cmd + 2, own_mac, 6) ? NET_CTRL_OK : NET_CTRL_ERR;
	return NET_CTRL_ERR;
}
