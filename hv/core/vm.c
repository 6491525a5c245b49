/* VM creation from the configuration, stage-2 set-up and the guest
 * memory accessors. */
#include "core/vm.h"

#include "arch/arm64/arch.h"
#include "arch/arm64/cache.h"
#include "drivers/gic.h"
#include "core/vcpu.h"
#include "core/vdevs.h"
#include "core/irq.h"
#include "lib/lib.h"
#include "core/percpu.h"
#include "platform/board.h"
#include "core/print.h"
#include "core/stage2.h"
#include "console/vuart.h"
#include "core/vpwrbtn.h"
#include "core/page_alloc.h"
#include "virtio/virtio_mmio.h"

struct vm vms[CFG_MAX_VMS];
unsigned nvms;

static struct s2_table s2[CFG_MAX_VMS];
static unsigned parange;

int vm_register_mmio(struct vm *vm, ipa_t base, uint64_t size, mmio_handler_fn fn, void *dev)
{
	if (vm->nmmio >= VM_MAX_MMIO)
		return -1;
	vm->mmio[vm->nmmio++] = (struct mmio_region){base, size, fn, dev};
	return 0;
}

/* Page by page, so two devices sharing a 4 KiB page map it once. */
static int map_device(struct vm *vm, ipa_t ipa, paddr_t pa, uint64_t size)
{
	struct s2_table *t = &s2[vm->id];

	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		paddr_t cur;
		if (s2_translate(t, ipa + off, &cur) == 0) {
			if (cur != pa + off)
				return -1;
			continue;
		}
		if (s2_map(t, ipa + off, pa + off, PAGE_SIZE, S2_DEVICE))
			return -1;
	}
	return 0;
}

int vm_map(struct vm *vm, ipa_t ipa, paddr_t pa, uint64_t size, bool device)
{
	if (device)
		return map_device(vm, ALIGN_DOWN(ipa, PAGE_SIZE), ALIGN_DOWN(pa, PAGE_SIZE),
				  ALIGN_UP(size + (pa & (PAGE_SIZE - 1)), PAGE_SIZE));
	return s2_map(&s2[vm->id], ipa, pa, size, S2_NORMAL);
}

bool vm_in_read_page(const struct vm *vm, ipa_t ipa)
{
	for (unsigned i = 0; i < vm->nread_pages; i++)
		if (ipa - vm->read_pages[i] < PAGE_SIZE)
			return true;
	return false;
}

/* A page of hypervisor memory mapped read-only at `page` for the windows
 * there: the guest reads the registers from it without trapping. */
static int map_read_page(struct vm *vm, ipa_t page)
{
	uint8_t *rp = palloc(1);

	if (!rp)
		return -1;
	/* The guest reads this page through its Device mapping, past the
	 * caches, and only the windows are cleaned when published: zero the
	 * whole page to the point of coherency before it is mapped, or what
	 * no window covers may read stale RAM instead of 0. */
	mem_zero_poc(rp, PAGE_SIZE);
	if (s2_map(&s2[vm->id], page, (paddr_t)(uintptr_t)rp, PAGE_SIZE, S2_READ_ONLY))
		return -1;
	for (unsigned i = 0; i < vm->nmmio; i++) {
		struct virtio_dev *dev = virtio_mmio_region_dev(&vm->mmio[i]);
		if (dev && ALIGN_DOWN(vm->mmio[i].base, PAGE_SIZE) == page)
			virtio_mmio_attach_read_window(dev, rp + (vm->mmio[i].base - page));
	}
	vm->read_pages[vm->nread_pages++] = page;
	return 0;
}

/* After every MMIO region of the VM is registered: a read page over each
 * page that holds virtio-mmio windows and nothing else the VM has there
 * (no other emulated device, no device passed through); other pages keep
 * trapping every access. */
static int map_read_pages(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nmmio; i++) {
		ipa_t page = ALIGN_DOWN(vm->mmio[i].base, PAGE_SIZE);
		paddr_t pa;
		if (!virtio_mmio_region_dev(&vm->mmio[i]) || vm->nread_pages >= VM_MAX_READ_PAGES ||
		    s2_translate(&s2[vm->id], page, &pa) == 0 || /* mapped, or done already */
		    !virtio_mmio_page_only_windows(vm->mmio, vm->nmmio, page))
			continue;
		if (map_read_page(vm, page))
			return -1;
	}
	return 0;
}

struct vcpu *vm_find_vcpu_by_mpidr(struct vm *vm, uint64_t mpidr)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].vmpidr == (mpidr & MPIDR_AFF_MASK))
			return &vm->vcpus[i];
	return NULL;
}

void *vm_ipa_to_hva(const struct vm *vm, ipa_t ipa, uint64_t len)
{
	return guest_ptr(&vm->mem, ipa, len);
}

/* EL2 maps all RAM 1:1, so a region's host pointer is its physical address. */
static void init_guest_mem(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg->nmem; i++) {
		const struct cfg_mem *m = &vm->cfg->mem[i];
		vm->regions[i] =
			(struct guest_region){m->ipa, m->size, (uint8_t *)(uintptr_t)m->pa};
	}
	vm->mem = (struct guest_mem){vm->regions, vm->cfg->nmem};
}

static int map_memory_and_devices(struct vm *vm)
{
	const struct cfg_vm *cfg = vm->cfg;

	for (unsigned i = 0; i < cfg->nmem; i++)
		if (vm_map(vm, cfg->mem[i].ipa, cfg->mem[i].pa, cfg->mem[i].size, false))
			return -1;
	for (unsigned i = 0; i < cfg->ndevs; i++) {
		const struct cfg_passthrough *d = &cfg->devs[i];
		if (vm_map(vm, d->pa, d->pa, d->size, true))
			return -1;
		for (unsigned j = 0; j < d->nirqs; j++) {
			irq_set_owner(d->irqs[j], vm);
			vgic_assign_hw_irq(vm, d->irqs[j]);
		}
	}
	return 0;
}

static void init_vcpus(struct vm *vm)
{
	const struct cfg_vm *cfg = vm->cfg;

	vm->ncpus = cfg->ncpus;
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		v->vm = vm;
		v->id = i;
		v->pcpu = cfg->cpus[i];
		v->vmpidr = i; /* Aff0 = vCPU index: what the guest's DT says */
		v->state = VCPU_OFF;
		pcpus[v->pcpu].vcpu = v;
	}
}

/* A device passed through at `pa` (its page is mapped: nothing there can
 * be emulated). */
static bool has_device_at(const struct cfg_vm *cfg, paddr_t pa)
{
	for (unsigned i = 0; i < cfg->ndevs; i++)
		if (pa - ALIGN_DOWN(cfg->devs[i].pa, PAGE_SIZE) <
		    ALIGN_UP(cfg->devs[i].size + (cfg->devs[i].pa & (PAGE_SIZE - 1)), PAGE_SIZE))
			return true;
	return false;
}

static int vm_create(unsigned id, const struct cfg_vm *cfg)
{
	struct vm *vm = &vms[id];

	vm->cfg = cfg;
	vm->id = id;
	vm->name = cfg->name;
	init_guest_mem(vm);
	if (s2_init(&s2[id], s2_ipa_bits_from_parange(parange)))
		return -1;
	vm->s2_root = (paddr_t)(uintptr_t)s2[id].root;
	vm->vttbr = vm->s2_root | ((uint64_t)(id + 1) << 48); /* VMID */
	init_vcpus(vm);
	if (map_memory_and_devices(vm))
		return -1;
	if (vgic_init_vm(vm))
		return -1;
	if (vuart_create(vm, PLAT_GUEST_UART_IPA, PLAT_GUEST_UART_IRQ))
		return -1;
	if (cfg->role == VM_ROLE_GVM && !has_device_at(cfg, PLAT_GUEST_GPIO_IPA) &&
	    vpwrbtn_create(vm))
		return -1;
	if (vm_create_virtio(vm))
		return -1;
	return map_read_pages(vm);
}

int vms_create_all(void)
{
	parange = read_sysreg(id_aa64mmfr0_el1) & 0xf;
	nvms = sys_config.nvms;
	for (unsigned i = 0; i < nvms; i++) {
		if (vm_create(i, &sys_config.vms[i])) {
			printk("vm %s: creation failed (stage-2 or device set-up)\n",
			       sys_config.vms[i].name);
			return -1;
		}
		printk("vm %s: %u vCPU(s), %lu MiB, %u passthrough and %u virtio device(s), "
		       "%u virtio read page(s)\n",
		       vms[i].name, vms[i].ncpus,
		       (unsigned long)(sys_config.vms[i].mem[0].size >> 20),
		       sys_config.vms[i].ndevs, sys_config.vms[i].nvirtio, vms[i].nread_pages);
	}
	return 0;
}

uint64_t vm_vtcr(void)
{
	return s2_vtcr(&s2[0], parange);
}

/* Boots vCPU 0 of every VM whose images the loader placed (the kernel's
 * entry with x0 = its DTB); the others have their RAM zeroed and are
 * STOPPED until the MVM loads and starts them (vm_life_boot). */
void vms_start_all(void)
{
	for (unsigned i = 0; i < nvms; i++)
		vm_life_boot(&vms[i]);
}
