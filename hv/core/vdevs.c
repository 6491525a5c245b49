/* The emulated virtio devices of each VM, from its configuration. */
#include "core/vdevs.h"
#include "blk/blk_hv_backend.h"
#include "blk/mediated.h"
#include "core/print.h"
#include "blk/virtio_blk.h"
#include "console/virtio_console.h"
#include "net/virtio_net.h"
#include "core/vm.h"
#include "console/vuart.h"
#include "platform/board.h"

#define MAX_BLK (CFG_MAX_VMS * CFG_MAX_VIRTIO)

static struct virtio_blk blks[MAX_BLK];
static unsigned nblks;
static struct virtio_net nets[NET_MAX_PORTS];
static unsigned nnets;

/* A virtio-mmio slot's register window and interrupt on this board. */
static ipa_t slot_base(const struct cfg_virtio *c)
{
	return PLAT_VIRTIO_MMIO_BASE + c->slot * PLAT_VIRTIO_MMIO_STRIDE;
}

static uint32_t slot_irq(const struct cfg_virtio *c)
{
	return PLAT_VIRTIO_MMIO_INTID0 + c->slot;
}

static struct virtio_console consoles[CFG_MAX_VMS];
static unsigned nconsoles;

static int create_console(struct vm *vm, const struct cfg_virtio *c)
{
	if (nconsoles >= CFG_MAX_VMS || c->slot >= 32)
		return -1;
	return virtio_console_create(&consoles[nconsoles++], vm, slot_base(c), slot_irq(c));
}

/* The MVM's port is the switch's uplink: it bridges to the real NIC. */
static int create_net(struct vm *vm, const struct cfg_virtio *c)
{
	if (nnets >= NET_MAX_PORTS || c->slot >= 32)
		return -1;
	struct virtio_net *net = &nets[nnets++];
	if (virtio_net_create(net, vm, slot_base(c), slot_irq(c), c->mac,
			      vm->cfg->role == VM_ROLE_MVM))
		return -1;
	return virtio_net_set_flood_limit(net, c->flood_rate, c->flood_burst);
}

static int create_blk(struct vm *vm, const struct cfg_virtio *c)
{
	bool hv = c->backend == CFG_BLK_HV_DRIVER;
	uint64_t sectors = c->sectors;

	if (nblks >= MAX_BLK || c->slot >= 32)
		return -1;
	if (hv) { /* the whole real disk, or what the configuration asks of it */
		uint64_t real = blk_hv_backend_sectors();
		if (real == 0)
			return -1;
		sectors = sectors ? MIN(sectors, real) : real;
	}
	struct virtio_blk *blk = &blks[nblks++];

	if (virtio_blk_create(blk, vm, slot_base(c), slot_irq(c), sectors, c->read_only,
			      hv ? &blk_hv_backend : &mediated_blk_backend))
		return -1;
	return hv ? 0 : mediated_add_disk(blk, c->disk);
}

int vm_create_virtio(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg->nvirtio; i++) {
		const struct cfg_virtio *c = &vm->cfg->virtio[i];
		int err = c->type == CFG_VIRTIO_BLK       ? create_blk(vm, c)
			  : c->type == CFG_VIRTIO_NET     ? create_net(vm, c)
			  : c->type == CFG_VIRTIO_CONSOLE ? create_console(vm, c)
							  : -1;
		if (err) {
			printk("vm %s: virtio device %u (slot %u) could not be created\n", vm->name,
			       i, c->slot);
			return -1;
		}
	}
	return 0;
}

/* The VM stopped: each of its virtio devices reset as by its driver, so
 * in-flight mediated requests complete into nothing, its switch port has
 * no receive buffers (frames to it are dropped) and its console none. */
void vm_reset_devices(struct vm *vm)
{
	for (unsigned i = 0; i < nblks; i++)
		if (blks[i].vdev.vm == vm)
			virtio_mmio_reset(&blks[i].vdev);
	for (unsigned i = 0; i < nnets; i++)
		if (nets[i].vdev.vm == vm)
			virtio_mmio_reset(&nets[i].vdev);
	for (unsigned i = 0; i < nconsoles; i++)
		if (consoles[i].vdev.vm == vm)
			virtio_mmio_reset(&consoles[i].vdev);
	vuart_reset(vm);
}

void vdevs_print_stats(void)
{
	for (unsigned i = 0; i < nblks; i++) {
		const struct virtio_blk *b = &blks[i];
		printk("%s/virtio-blk@slot%u %s: requests %lu read %lu KiB written %lu KiB errors "
		       "%lu "
		       "notifies %lu irqs %lu\n",
		       b->vdev.vm->name,
		       (unsigned)((b->vdev.base - PLAT_VIRTIO_MMIO_BASE) / PLAT_VIRTIO_MMIO_STRIDE),
		       b->backend == &blk_hv_backend ? "hv" : "mediated", (unsigned long)b->reqs,
		       (unsigned long)(b->bytes_read >> 10),
		       (unsigned long)(b->bytes_written >> 10), (unsigned long)b->errors,
		       (unsigned long)b->vdev.notifies, (unsigned long)b->vdev.irqs);
	}
	mediated_print_stats();
	virtio_net_print_stats();
}
