/* The storming neighbour of `make bench` (issue 7, fairness under abuse):
 * waits for "go" on its console, then never stops abusing what a GVM can
 * reach: its mediated virtio-blk is kept full of requests the device answers
 * by itself (unknown type, out of range, GET_ID), republished as they come
 * back and notified every time; QueueNotify on a drained queue; denied
 * sysHyper hypercalls; PSCI calls; SGIs to itself. The bench measures its
 * neighbour gvm1 before and after "go". */
#include "guest.h"
#include "virtio.h"

#define MED_SLOT 31
#define HC_VM_COUNT 0xc6000001UL

static struct vdev blk;

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

/* One round of the other abuses a GVM can commit from EL1. */
static void call_round(bool gicv3)
{
	hvc_call(HC_VM_COUNT, 0, 0, 0, 0, 0, 0, 0);
	hvc_call(0x1c6000010UL, 0, 0, 0, 0, 0, 0, 0);
	psci_call(PSCI_VERSION, 0, 0, 0);
	psci_call(PSCI_AFFINITY_INFO, 0xff00ff, 7, 0);
	psci_call(PSCI_CPU_ON, 0x8000, 0x40200000, 0); /* no such vCPU */
	if (gicv3) /* ICC_SGI1R_EL1: SGI 5 to itself (target list bit 0) */
		__asm__ volatile("msr s3_0_c12_c11_5, %0" ::"r"((1UL << 0) | (5UL << 24)));
	else /* GICD_SGIR: SGI 5 to itself (filter 2) */
		mmio_write32(GUEST_GICD_BASE + 0xf00, (2u << 24) | 5);
}

static void __attribute__((noreturn)) storm(bool gicv3)
{
	struct vq *q = &blk.q[0];
	uint64_t answered = 0, rounds = 0, report = time_ms() + 10000;

	fill_queue(q);
	vio_notify(&blk, 0);
	for (;;) {
		uint32_t head;
		while (vq_used_pending(q) && vq_poll(q, 0, &head, NULL) == 0) {
			vq_publish(q, (uint16_t)head);
			answered++;
		}
		vio_notify(&blk, 0);
		call_round(gicv3);
		if (++rounds % 64 == 0 && time_ms() > report) {
			printf("storm: %lu rounds, %lu self-answered requests\n",
			       (unsigned long)rounds, (unsigned long)answered);
			report = time_ms() + 10000;
		}
	}
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
		printf("FAIL storm: no virtio-blk in slot %u\n", MED_SLOT);
		return 1;
	}
	for (;;) {
		printf("storm: ready, type go\n");
		if (uart_getline(line, sizeof(line), 60000) > 0 && !memcmp(line, "go", 2))
			break;
	}
	printf("storm: storming\n");
	storm(gicv3);
}
