/* Mediated virtio-blk backend (DESIGN.md §1-2).
 *
 * GVM CPU: QueueNotify traps -> kick(): mark the disk, IPI the MVM's CPU,
 * return to the guest at once.
 * MVM CPU: IPI -> mediated_work(): take every available request of every
 * kicked disk, copy write data into a free slot of the shared area, queue
 * it on req_ring, then inject one service interrupt into the MVM.
 * MVM daemon: performs the I/O, queues completions, HVC HC_MED_COMPLETE.
 * Any CPU of the MVM: complete(): copy read data into the GVM, used ring,
 * interrupt the GVM, refill freed slots.
 * What the hypervisor needs to finish a request (chain, sizes) stays in
 * hypervisor memory: the MVM can only corrupt data and status. */
#include "mediated.h"

#include "gic.h"
#include "lib.h"
#include "print.h"
#include "spinlock.h"
#include "syshyper/hypercall.h"
#include "syshyper/med_ring.h"
#include "syshyper/mediated.h"
#include "vgic.h"
#include "vm.h"

static struct {
	spinlock_t lock;
	struct med_area *area; /* NULL until the MVM registers it */
	struct vm *mvm;
	struct virtio_blk *disks[MED_MAX_DISKS];
	unsigned ndisks;
	uint32_t kicked; /* bitmap of disks with new requests */
	struct blk_req req[MED_MAX_SLOTS];
	bool busy[MED_MAX_SLOTS];
	uint64_t kicks, irqs_to_mvm, completions;
} med;

static struct vm *find_mvm(void)
{
	for (unsigned i = 0; i < nvms; i++)
		if (vms[i].cfg->role == VM_ROLE_MVM)
			return &vms[i];
	return NULL;
}

int mediated_add_disk(struct virtio_blk *blk, unsigned index)
{
	if (index >= MED_MAX_DISKS || med.disks[index])
		return -1;
	med.disks[index] = blk;
	blk->disk_index = index;
	if (index >= med.ndisks)
		med.ndisks = index + 1;
	return 0;
}

static void kick(struct virtio_blk *blk)
{
	__atomic_or_fetch(&med.kicked, 1u << blk->disk_index, __ATOMIC_SEQ_CST);
	med.kicks++;
	if (!med.mvm)
		med.mvm = find_mvm();
	if (med.mvm)
		gic_send_sgi(med.mvm->vcpus[0].pcpu, IPI_WORK);
}

static int free_slot(void)
{
	for (unsigned i = 0; i < MED_MAX_SLOTS; i++)
		if (!med.busy[i])
			return (int)i;
	return -1;
}

static void queue_slot(unsigned s)
{
	struct med_area *a = med.area;
	struct blk_req *r = &med.req[s];
	struct med_slot *slot = &a->slots[s];

	slot->disk = r->blk->disk_index;
	slot->type = r->type;
	slot->sector = r->sector;
	slot->len = r->len;
	slot->status = -1;
	slot->tag = s;
	if (r->type == VIRTIO_BLK_T_OUT)
		blk_req_copy_out(r, MED_SLOT_DATA_PTR(a, s));
	/* never full: at most MED_MAX_SLOTS slots are busy */
	med_ring_push(a->req_ring, &a->req_prod, a->req_cons, MED_MAX_SLOTS, s);
}

/* Moves requests of kicked disks into free slots; lock held. */
static unsigned fill_slots(void)
{
	unsigned queued = 0;
	uint32_t kicked = __atomic_exchange_n(&med.kicked, 0, __ATOMIC_SEQ_CST);

	for (unsigned d = 0; d < med.ndisks; d++) {
		if (!(kicked & (1u << d)) || !med.disks[d])
			continue;
		for (;;) {
			int s = free_slot();
			if (s < 0) { /* all slots in flight: retry when some complete */
				__atomic_or_fetch(&med.kicked, 1u << d, __ATOMIC_SEQ_CST);
				break;
			}
			if (!virtio_blk_next(med.disks[d], &med.req[s]))
				break;
			med.busy[s] = true;
			queue_slot((unsigned)s);
			queued++;
		}
	}
	return queued;
}

void mediated_work(void)
{
	spin_lock(&med.lock);
	unsigned queued = med.area ? fill_slots() : 0;
	spin_unlock(&med.lock);
	if (queued) {
		med.irqs_to_mvm++;
		med.area->kicks_to_mvm++;
		vgic_inject(med.mvm, NULL, HC_MVM_IRQ_INTID);
	}
}

static uint8_t to_virtio_status(int32_t s)
{
	if (s == MED_S_OK)
		return VIRTIO_BLK_S_OK;
	return s == MED_S_UNSUPP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

static void finish_slot(unsigned s)
{
	struct blk_req *r = &med.req[s];
	uint8_t status = to_virtio_status(med.area->slots[s].status);
	uint32_t written = 0;

	if (r->type == VIRTIO_BLK_T_IN && status == VIRTIO_BLK_S_OK) {
		blk_req_copy_in(r, MED_SLOT_DATA_PTR(med.area, s), r->len);
		written = r->len;
	}
	med.busy[s] = false;
	med.completions++;
	virtio_blk_complete(r, status, written);
}

static int64_t complete(void)
{
	struct med_area *a = med.area;
	int64_t ret = HC_OK;

	spin_lock(&med.lock);
	for (uint32_t s; a;) {
		int r = med_ring_pop(a->cmp_ring, READ_ONCE(a->cmp_prod), &a->cmp_cons,
				     MED_MAX_SLOTS, &s);
		if (r == MED_RING_EMPTY)
			break;
		if (r == MED_RING_CORRUPT) {
			printk("mediated: completion ring corrupt (prod %u cons %u)\n", a->cmp_prod,
			       a->cmp_cons);
			a->cmp_cons = a->cmp_prod;
			ret = HC_ERR_INVALID;
			break;
		}
		if (!med.busy[s]) {
			printk("mediated: MVM completed slot %u that is not in flight\n", s);
			ret = HC_ERR_INVALID;
			continue;
		}
		finish_slot(s);
	}
	if (a)
		a->completions_hvc++;
	spin_unlock(&med.lock);
	mediated_work(); /* freed slots may take waiting requests */
	return ret;
}

static void init_header(struct med_area *a)
{
	memset(a, 0, sizeof(*a));
	a->version = MED_VERSION;
	a->nslots = MED_MAX_SLOTS;
	a->slot_data_size = MED_SLOT_DATA;
	a->data_offset = MED_HDR_SIZE;
	a->ndisks = med.ndisks;
	for (unsigned d = 0; d < med.ndisks; d++) {
		struct virtio_blk *b = med.disks[d];
		if (!b)
			continue;
		memcpy(a->disks[d].name, b->name,
		       MIN(strlen(b->name), sizeof(a->disks[d].name) - 1));
		a->disks[d].sectors = b->sectors;
		a->disks[d].read_only = b->read_only;
		a->disks[d].valid = 1;
	}
	MED_WMB();
	a->magic = MED_MAGIC;
}

static int64_t do_register(struct vcpu *vcpu, uint64_t pa, uint64_t size)
{
	struct med_area *a = vm_ipa_to_hva(vcpu->vm, pa, size);

	if (!a || size < MED_AREA_SIZE || !IS_ALIGNED(pa, PAGE_SIZE))
		return HC_ERR_INVALID;
	spin_lock(&med.lock);
	for (unsigned s = 0; s < MED_MAX_SLOTS; s++)
		if (med.busy[s]) /* a new area: requests in flight start over */
			med.busy[s] = false,
			virtio_blk_complete(&med.req[s], VIRTIO_BLK_S_IOERR, 0);
	med.mvm = vcpu->vm;
	init_header(a);
	med.area = a;
	med.kicked = (1u << med.ndisks) - 1;
	spin_unlock(&med.lock);
	printk("mediated: MVM registered its area at 0x%lx (%u slots, %u disk(s))\n",
	       (unsigned long)pa, MED_MAX_SLOTS, med.ndisks);
	mediated_work();
	return HC_OK;
}

/* A restarted daemon: everything in flight is queued again. */
static int64_t resync(void)
{
	struct med_area *a = med.area;

	if (!a)
		return HC_ERR_INVALID;
	spin_lock(&med.lock);
	a->req_prod = a->req_cons = a->cmp_prod = a->cmp_cons = 0;
	for (unsigned s = 0; s < MED_MAX_SLOTS; s++)
		if (med.busy[s])
			queue_slot(s);
	bool any = a->req_prod != 0;
	spin_unlock(&med.lock);
	printk("mediated: daemon resync, %u request(s) queued again\n", a->req_prod);
	if (any)
		vgic_inject(med.mvm, NULL, HC_MVM_IRQ_INTID);
	mediated_work();
	return HC_OK;
}

int64_t mediated_hypercall(struct vcpu *vcpu, uint64_t fid, uint64_t a1, uint64_t a2)
{
	switch (fid) {
	case HC_MED_REGISTER:
		return do_register(vcpu, a1, a2);
	case HC_MED_COMPLETE:
		return complete();
	case HC_MED_RESYNC:
		return resync();
	default:
		return HC_ERR_INVALID;
	}
}

void mediated_print_stats(void)
{
	printk("mediated: kicks %lu, service interrupts to the MVM %lu, completions %lu\n",
	       (unsigned long)med.kicks, (unsigned long)med.irqs_to_mvm,
	       (unsigned long)med.completions);
}

static void reset(struct virtio_blk *blk)
{
	(void)blk; /* requests in flight complete into a queue that is no longer ready */
}

const struct blk_backend_ops mediated_blk_backend = {
	.kick = kick,
	.reset = reset,
};
