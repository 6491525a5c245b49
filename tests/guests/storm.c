/* The storming neighbour of `make bench` (issue 7, fairness under abuse).
 * It takes commands on its console: "spin" burns its CPU without a single
 * trap (under TCG a busy vCPU takes host time from the others whatever the
 * hypervisor does: the bench's control), "storm" never stops abusing what a
 * GVM can reach: its mediated virtio-blk is kept full of requests the device answers
 * by itself (unknown type, out of range, GET_ID), republished as they come
 * back and notified every time; QueueNotify on a drained queue; denied
 * sysHyper hypercalls; PSCI calls; SGIs to itself. Until then it waits in
 * WFI. The bench measures its neighbour gvm1 in each phase. */
#include "guest.h"
#include "virtio.h"

#define MED_SLOT 31
#define HC_VM_COUNT 0xc6000001UL

static struct vdev blk;

static bool has_prefix(const char *s, const char *prefix)
{
	return !memcmp(s, prefix, strlen(prefix));
}

/* Half the queue of self-answered requests (two descriptors each). */
static unsigned fill_queue(struct vq *q)
{
	unsigned chains = q->num / 2;
	struct blk_hdr *hdr = dma_alloc(16 * chains, 16);
	uint8_t *st = dma_alloc(32 * chains, 16);
	static const uint32_t types[3] = {0x7777, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_GET_ID};

	for (unsigned c = 0; c < chains; c++) {
		hdr[c].type = types[c % 3];
		hdr[c].sector = 1ULL << 40; /* out of range for IN */
		vq_desc(q, 2 * c, (uint64_t)&hdr[c], 16, VRING_F_NEXT, 2 * c + 1);
		vq_desc(q, 2 * c + 1, (uint64_t)&st[32 * c], 21, VRING_F_WRITE, 0);
		vq_publish(q, (uint16_t)(2 * c));
	}
	return chains;
}

enum abuse { ABUSE_BLK = 1, ABUSE_CALLS = 2, ABUSE_SGI = 4, ABUSE_ALL = 7 };

/* Hypercalls the VM is denied and PSCI calls it gets wrong. */
static void call_round(void)
{
	hvc_call(HC_VM_COUNT, 0, 0, 0, 0, 0, 0, 0);
	hvc_call(0x1c6000010UL, 0, 0, 0, 0, 0, 0, 0);
	psci_call(PSCI_VERSION, 0, 0, 0);
	psci_call(PSCI_AFFINITY_INFO, 0xff00ff, 7, 0);
	psci_call(PSCI_CPU_ON, 0x8000, 0x40200000, 0); /* no such vCPU */
}

static void sgi_to_self(bool gicv3)
{
	if (gicv3) /* ICC_SGI1R_EL1: SGI 5 to itself (target list bit 0) */
		__asm__ volatile("msr s3_0_c12_c11_5, %0" ::"r"((1UL << 0) | (5UL << 24)));
	else /* GICD_SGIR: SGI 5 to itself (filter 2) */
		mmio_write32(GUEST_GICD_BASE + 0xf00, (2u << 24) | 5);
}

static bool console_has_input(void)
{
	return !(mmio_read32(GUEST_UART_BASE + 0x18) & (1u << 4)); /* UARTFR.RXFE */
}

/* Abuses `what` until a console line arrives (a new command). */
static void storm(bool gicv3, unsigned what)
{
	static bool queue_full;
	struct vq *q = &blk.q[0];
	uint64_t answered = 0, rounds = 0, report = time_ms() + 10000;

	if ((what & ABUSE_BLK) && !queue_full) {
		fill_queue(q);
		queue_full = true;
	}
	for (;; rounds++) {
		if (what & ABUSE_BLK) {
			uint32_t head;
			while (vq_used_pending(q) && vq_poll(q, 0, &head, NULL) == 0) {
				vq_publish(q, (uint16_t)head);
				answered++;
			}
			vio_notify(&blk, 0);
		}
		if (what & ABUSE_CALLS)
			call_round();
		if (what & ABUSE_SGI)
			sgi_to_self(gicv3);
		if (rounds % 64)
			continue;
		if (console_has_input())
			return;
		if (time_ms() > report) {
			printf("storm: %lu rounds, %lu self-answered requests\n",
			       (unsigned long)rounds, (unsigned long)answered);
			report = time_ms() + 10000;
		}
	}
}

/* A console command, waiting in WFI between polls (the hypervisor's tick
 * wakes the vCPU), so an idle storm guest is idle. */
static void read_command(char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		int c = uart_getc(0);
		if (c < 0) {
			__asm__ volatile("wfi");
			continue;
		}
		if (c != '\r' && c != '\n') {
			if (n + 1 < size)
				line[n++] = (char)c;
		} else if (n) {
			line[n] = 0;
			return;
		}
	}
}

/* No trap at all but a console poll every 10 ms, until a new command. */
static void spin(void)
{
	volatile uint64_t work = 0;

	while (!console_has_input()) {
		uint64_t until = timer_count() + timer_freq() / 100;
		while (timer_count() < until)
			work++;
	}
}

/* "spin", "storm" (everything), "storm blk|calls|sgi"; anything else idles. */
static unsigned parse_command(const char *line, bool *spinning)
{
	*spinning = has_prefix(line, "spin");
	if (!has_prefix(line, "storm"))
		return 0;
	if (has_prefix(line, "storm blk"))
		return ABUSE_BLK;
	if (has_prefix(line, "storm calls"))
		return ABUSE_CALLS;
	if (has_prefix(line, "storm sgi"))
		return ABUSE_SGI;
	return ABUSE_ALL;
}

int main(uint64_t dtb)
{
	char line[16];
	/* GICv3 guests see the system-register interface (ID_AA64PFR0_EL1.GIC) */
	bool gicv3 = (read_sysreg(id_aa64pfr0_el1) >> 24 & 0xf) != 0;

	(void)dtb;
	vio_alloc_rings(&blk, 1);
	if (vio_probe(&blk, VIRTIO_MMIO_BASE(MED_SLOT), VIO_ID_BLK) ||
	    vio_setup(&blk, VIO_F_VERSION_1, 1, 256)) {
		printf("FAIL storm: no virtio-blk in slot %d\n", MED_SLOT);
		return 1;
	}
	printf("storm: ready (spin, storm [blk|calls|sgi])\n");
	for (;;) {
		bool spinning;
		read_command(line, sizeof(line));
		unsigned what = parse_command(line, &spinning);
		printf("storm: %s %s\n", spinning ? "spinning" : what ? "storming" : "idle", line);
		if (spinning)
			spin();
		else if (what)
			storm(gicv3, what);
	}
}
