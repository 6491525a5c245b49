/* ethflood IFACE SECONDS: sends broadcast Ethernet frames as fast as it can
 * for SECONDS, then prints how many. A test tool: a guest that floods the
 * hypervisor's switch must not stop the other VMs from talking. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ethflood IFACE SECONDS\n");
		return 2;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	unsigned idx = if_nametoindex(argv[1]);
	if (fd < 0 || !idx) {
		perror("ethflood");
		return 1;
	}
	struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = (int)idx, .sll_halen = 6};
	unsigned char frame[1000];
	memset(frame, 0xff, 6); /* broadcast */
	memset(frame + 6, 0x02, 6);
	frame[12] = 0x88, frame[13] = 0xb5; /* local experimental EtherType */
	memset(to.sll_addr, 0xff, 6);
	time_t end = time(NULL) + atoi(argv[2]);
	unsigned long sent = 0;
	while (time(NULL) < end)
		if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&to, sizeof(to)) > 0)
			sent++;
	printf("ethflood: %lu frames\n", sent);
	return 0;
}
