/* The guest-memory model and EL2 stubs (see guest_mem_model.h). */
#include "guest_mem_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "drivers/gic.h"
#include "blk/mediated.h"
#include "core/print.h"
#include "syshyper/mediated.h"
#include "core/vgic.h"
#include "arch/arm64/cache.h"

#define GUARD 4096UL

struct gmm gmm;
struct vm vms[CFG_MAX_VMS];
unsigned nvms;
static struct cfg_vm cfgs[CFG_MAX_VMS];

/* ---------------------------------------------------------------- memory */

/* [guard][size bytes][guard]: only the middle is accessible. */
static uint8_t *guarded_map(uint64_t size)
{
	uint64_t total = size + 2 * GUARD;
	uint8_t *p =
		mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	if (mprotect(p + GUARD, size, PROT_READ | PROT_WRITE)) {
		perror("mprotect");
		abort();
	}
	return p + GUARD;
}

static void guarded_unmap(uint8_t *p, uint64_t size)
{
	munmap(p - GUARD, size + 2 * GUARD);
}

static struct vm *new_vm(const char *name, enum vm_role role, uint64_t ipa, uint8_t *hva,
			 uint64_t size)
{
	unsigned i = nvms++;
	struct vm *vm = &vms[i];

	memset(vm, 0, sizeof(*vm));
	memset(&cfgs[i], 0, sizeof(cfgs[i]));
	snprintf(cfgs[i].name, sizeof(cfgs[i].name), "%s", name);
	cfgs[i].role = role;
	vm->cfg = &cfgs[i];
	vm->id = i;
	vm->name = cfgs[i].name;
	vm->ncpus = 1;
	vm->vcpus[0].vm = vm;
	vm->vcpus[0].pcpu = i;
	vm->regions[0] = (struct guest_region){ipa, size, hva};
	vm->mem = (struct guest_mem){vm->regions, 1};
	return vm;
}

void gmm_init(unsigned ngvms, uint64_t ram_size)
{
	memset(&gmm, 0, sizeof(gmm));
	nvms = 0;
	gmm.area_size = GMM_AREA_SIZE;
	gmm.area = guarded_map(gmm.area_size);
	gmm.mvm = new_vm("mvm", VM_ROLE_MVM, GMM_MVM_IPA, gmm.area, gmm.area_size);
	cfgs[gmm.mvm->id].med_area = (struct cfg_image){GMM_MVM_IPA, gmm.area_size};
	gmm.ngvms = ngvms;
	for (unsigned i = 0; i < ngvms; i++) {
		struct gmm_gvm *g = &gmm.gvm[i];
		char name[16];
		snprintf(name, sizeof(name), "gvm%u", i + 1);
		g->ram_size = ram_size;
		g->ram = guarded_map(ram_size);
		g->vm = new_vm(name, VM_ROLE_GVM, GMM_RAM_IPA, g->ram, ram_size);
	}
}

void gmm_fini(void)
{
	for (unsigned i = 0; i < gmm.ngvms; i++)
		guarded_unmap(gmm.gvm[i].ram, gmm.gvm[i].ram_size);
	guarded_unmap(gmm.area, gmm.area_size);
	memset(&gmm, 0, sizeof(gmm));
	nvms = 0;
}

void *gmm_ptr(struct gmm_gvm *g, uint64_t ipa)
{
	return g->ram + (ipa - GMM_RAM_IPA);
}

/* ---------------------------------------------------------------- EL2 stubs */

static struct gmm_gvm *gvm_of(const struct vm *vm)
{
	for (unsigned i = 0; i < gmm.ngvms; i++)
		if (gmm.gvm[i].vm == vm)
			return &gmm.gvm[i];
	return NULL;
}

int vm_register_mmio(struct vm *vm, ipa_t base, uint64_t size, mmio_handler_fn fn, void *dev)
{
	struct gmm_gvm *g = gvm_of(vm);

	(void)base;
	(void)size;
	if (!g)
		return -1;
	g->mmio_fn = fn;
	g->mmio_dev = dev;
	return 0;
}

void *vm_ipa_to_hva(const struct vm *vm, ipa_t ipa, uint64_t len)
{
	return guest_ptr(&vm->mem, ipa, len);
}

/* the read window's cache clean: host memory is coherent */
void dcache_clean_poc(void *p, uint64_t len)
{
	(void)p, (void)len;
}

void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	(void)vcpu;
	(void)intid;
	if (vm == gmm.mvm) {
		gmm.irqs_to_mvm++;
		return;
	}
	struct gmm_gvm *g = gvm_of(vm);
	if (!g)
		return;
	gmm.irqs_to_gvm[g - gmm.gvm]++;
	if (gmm.on_gvm_irq)
		gmm.on_gvm_irq(g);
}

void gic_send_sgi(unsigned pcpu, unsigned sgi)
{
	(void)pcpu;
	(void)sgi;
	gmm.sgis++;
}

void printk(const char *fmt, ...)
{
	va_list ap;

	gmm.printks++;
	if (!getenv("GMM_VERBOSE"))
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void vm_log(struct vm *vm, enum log_cause cause, const char *fmt, ...)
{
	va_list ap;

	if (cause < LOG_CAUSES)
		gmm.log_lines[cause]++;
	if (!getenv("GMM_VERBOSE"))
		return;
	fprintf(stderr, "vm %s: ", vm ? vm->name : "-");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

/* ---------------------------------------------------------------- device */

void gmm_create_blk(struct gmm_gvm *g, uint64_t sectors, bool read_only,
		    const struct blk_backend_ops *backend)
{
	unsigned index = (unsigned)(g - gmm.gvm);

	memset(&g->blk, 0, sizeof(g->blk));
	if (virtio_blk_create(&g->blk, g->vm, GMM_MMIO_BASE, GMM_BLK_IRQ, sectors, read_only,
			      backend)) {
		fprintf(stderr, "virtio_blk_create failed\n");
		abort();
	}
	if (backend == &mediated_blk_backend && mediated_add_disk(&g->blk, index)) {
		fprintf(stderr, "mediated_add_disk failed\n");
		abort();
	}
}

static uint64_t mmio_access(struct gmm_gvm *g, uint64_t off, bool write, uint32_t v)
{
	struct mmio_access acc = {
		.addr = GMM_MMIO_BASE + off, .width = 4, .write = write, .value = v};

	if (!g->mmio_fn(&g->vm->vcpus[0], &acc, g->mmio_dev))
		return ~0ULL;
	return acc.value;
}

uint32_t gmm_mmio_read(struct gmm_gvm *g, uint64_t off)
{
	return (uint32_t)mmio_access(g, off, false, 0);
}

void gmm_mmio_write(struct gmm_gvm *g, uint64_t off, uint32_t v)
{
	mmio_access(g, off, true, v);
}

uint32_t gmm_driver_init(struct gmm_gvm *g, uint64_t extra_features)
{
	uint64_t want = VIRTIO_F_VERSION_1 | extra_features;

	gmm_mmio_write(g, 0x070, 0);
	gmm_mmio_write(g, 0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	gmm_mmio_write(g, 0x024, 0);
	gmm_mmio_write(g, 0x020, (uint32_t)want);
	gmm_mmio_write(g, 0x024, 1);
	gmm_mmio_write(g, 0x020, (uint32_t)(want >> 32));
	gmm_mmio_write(g, 0x070, gmm_mmio_read(g, 0x070) | VIRTIO_STATUS_FEATURES_OK);
	gmm_mmio_write(g, 0x030, 0);
	gmm_mmio_write(g, 0x038, GMM_QSZ);
	gmm_mmio_write(g, 0x080, (uint32_t)GMM_DESC_IPA);
	gmm_mmio_write(g, 0x084, (uint32_t)(GMM_DESC_IPA >> 32));
	gmm_mmio_write(g, 0x090, (uint32_t)GMM_AVAIL_IPA);
	gmm_mmio_write(g, 0x094, (uint32_t)(GMM_AVAIL_IPA >> 32));
	gmm_mmio_write(g, 0x0a0, (uint32_t)GMM_USED_IPA);
	gmm_mmio_write(g, 0x0a4, (uint32_t)(GMM_USED_IPA >> 32));
	memset(gmm_ptr(g, GMM_AVAIL_IPA), 0, 6 + 2 * GMM_QSZ);
	memset(gmm_ptr(g, GMM_USED_IPA), 0, 6 + 8 * GMM_QSZ);
	g->avail_idx = 0;
	g->used_seen = 0;
	gmm_mmio_write(g, 0x044, 1);
	gmm_mmio_write(g, 0x070, gmm_mmio_read(g, 0x070) | VIRTIO_STATUS_DRIVER_OK);
	return gmm_mmio_read(g, 0x070);
}

void gmm_set_desc(struct gmm_gvm *g, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};

	memcpy((uint8_t *)gmm_ptr(g, GMM_DESC_IPA) + 16 * (i % GMM_QSZ), &d, sizeof(d));
}

void gmm_set_avail_idx(struct gmm_gvm *g, uint16_t idx)
{
	uint16_t *avail = gmm_ptr(g, GMM_AVAIL_IPA);

	g->avail_idx = idx;
	__atomic_store_n(&avail[1], idx, __ATOMIC_RELEASE);
}

void gmm_offer(struct gmm_gvm *g, uint16_t head)
{
	uint16_t *avail = gmm_ptr(g, GMM_AVAIL_IPA);

	avail[2 + g->avail_idx % GMM_QSZ] = head;
	gmm_set_avail_idx(g, (uint16_t)(g->avail_idx + 1));
}

void gmm_notify(struct gmm_gvm *g)
{
	gmm_mmio_write(g, 0x050, 0);
}

uint16_t gmm_used_idx(struct gmm_gvm *g)
{
	uint16_t *used = gmm_ptr(g, GMM_USED_IPA);

	return __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
}

void gmm_used_elem(struct gmm_gvm *g, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint32_t *ring = (uint32_t *)((uint8_t *)gmm_ptr(g, GMM_USED_IPA) + 4);

	*id = ring[2 * (i % GMM_QSZ)];
	*len = ring[2 * (i % GMM_QSZ) + 1];
}

uint16_t gmm_blk_request(struct gmm_gvm *g, unsigned first, uint32_t type, uint64_t sector,
			 uint64_t hdr_ipa, const uint64_t *data_ipa, const uint32_t *data_len,
			 unsigned ndata, uint64_t status_ipa)
{
	uint8_t *hdr = gmm_ptr(g, hdr_ipa);
	uint16_t wr =
		type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID ? VIRTQ_DESC_F_WRITE : 0;
	unsigned d = first;

	memset(hdr, 0, 16);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	*(uint8_t *)gmm_ptr(g, status_ipa) = 0xee;
	gmm_set_desc(g, d, hdr_ipa, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
	d++;
	for (unsigned i = 0; i < ndata; i++, d++)
		gmm_set_desc(g, d, data_ipa[i], data_len[i], VIRTQ_DESC_F_NEXT | wr,
			     (uint16_t)(d + 1));
	gmm_set_desc(g, d, status_ipa, 1, VIRTQ_DESC_F_WRITE, 0);
	return (uint16_t)first;
}

/* ---------------------------------------------------------------- MVM side */

struct med_area *gmm_area(void)
{
	return (struct med_area *)gmm.area;
}

int64_t gmm_mvm_hypercall(uint64_t fid, uint64_t a1, uint64_t a2)
{
	return mediated_hypercall(&gmm.mvm->vcpus[0], fid, a1, a2);
}
