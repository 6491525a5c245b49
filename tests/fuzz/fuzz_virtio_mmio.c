/* libFuzzer harness: the virtio-mmio register file with the virtio-console
 * device behind it, against a guest that writes anything into its registers
 * and its RAM (rings, descriptors, indices) in any order, types input and
 * resets at any time. The guest's RAM is one exact-size heap block, so
 * ASan sees any access outside it. Properties: the console is only handed
 * bytes of the VM's RAM and at most 64 KiB per call; a notify takes a
 * bounded number of chains. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fuzz_input.h"
#include "console/console.h"
#include "console/virtio_console.h"
#include "core/vm.h"
#include "arch/arm64/cache.h"

#define BASE 0x0a000000ULL
#define RAM_IPA 0x40000000ULL
#define RAM_SIZE 0x4000

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static uint8_t *ram;
static mmio_handler_fn handler;
static void *handler_dev;
static console_sink_fn hvc_input;
static void *hvc_dev;
static unsigned writes_this_notify;

/* the read window's cache clean: host memory is coherent */
void dcache_clean_poc(void *p, uint64_t len)
{
	(void)p, (void)len;
}

void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	(void)vm, (void)vcpu, (void)intid;
}
void vm_log(struct vm *vm, enum log_cause cause, const char *fmt, ...)
{
	(void)vm, (void)cause, (void)fmt;
}
int vm_register_mmio(struct vm *vm, ipa_t b, uint64_t s, mmio_handler_fn f, void *d)
{
	(void)vm, (void)b, (void)s;
	handler = f;
	handler_dev = d;
	return 0;
}
void console_attach_hvc(int vm_id, console_sink_fn fn, void *dev)
{
	(void)vm_id;
	hvc_input = fn;
	hvc_dev = dev;
}
void console_write(int source, const char *s, size_t n)
{
	(void)source;
	CHECK(n <= 65536);
	CHECK((const uint8_t *)s >= ram && n <= RAM_SIZE &&
	      (size_t)((const uint8_t *)s - ram) <= RAM_SIZE - n);
	writes_this_notify++;
	volatile uint8_t sum = 0;
	for (size_t i = 0; i < n; i += 512) /* touch it: ASan checks the range */
		sum += (uint8_t)s[i];
	(void)sum;
}

static bool mmio(uint64_t off, unsigned width, bool write, uint64_t value)
{
	struct mmio_access acc = {.addr = BASE + off, .width = width, .write = write};

	acc.value = value;
	writes_this_notify = 0;
	bool ok = handler(NULL, &acc, handler_dev);
	/* one chain gives at most 64 buffers: a bound on the notify's work */
	CHECK(writes_this_notify <= VIRTIO_CHAINS_PER_NOTIFY * VIRTQ_MAX_SEGS);
	return ok;
}

/* Where bring_up() put each queue's rings (offsets into RAM) and its size. */
static uint32_t desc_at[2], avail_at[2], qsize[2];

/* The usual driver set-up with rings at fuzzer-chosen places, so most
 * inputs reach the queues. */
static void bring_up(struct fuzz_in *in)
{
	mmio(0x070, 4, true, 0);
	mmio(0x070, 4, true, 3);
	mmio(0x024, 4, true, 0);
	mmio(0x020, 4, true, fin_le(in, 1) << 24 & 0x30000000u); /* INDIRECT_DESC, EVENT_IDX */
	mmio(0x024, 4, true, 1);
	mmio(0x020, 4, true, 1);
	mmio(0x070, 4, true, 11);
	for (unsigned q = 0; q < 2; q++) {
		qsize[q] = 1u << (fin_le(in, 1) % 5);
		desc_at[q] = (uint32_t)fin_le(in, 2) & 0x3ff0;
		avail_at[q] = (uint32_t)fin_le(in, 2) & 0x3ffe;
		mmio(0x030, 4, true, q);
		mmio(0x038, 4, true, qsize[q]);
		mmio(0x080, 4, true, RAM_IPA + desc_at[q]);
		mmio(0x090, 4, true, RAM_IPA + avail_at[q]);
		mmio(0x0a0, 4, true, RAM_IPA + ((uint32_t)fin_le(in, 2) & 0x3ffc));
		mmio(0x044, 4, true, 1);
	}
	mmio(0x070, 4, true, 15);
}

static void put16(uint32_t at, uint16_t v)
{
	if (at <= RAM_SIZE - 2)
		memcpy(ram + at, &v, 2);
}

/* A descriptor of queue q (mostly inside RAM) offered in its avail ring. */
static void offer(struct fuzz_in *in)
{
	unsigned q = (unsigned)fin_le(in, 1) & 1;
	uint16_t i = (uint16_t)fin_le(in, 1);
	uint64_t addr = RAM_IPA + fin_le(in, 2) - 0x10;
	uint32_t len = (uint32_t)fin_le(in, 2) + 1;
	uint16_t flags = (uint16_t)fin_le(in, 1) & 7, next = (uint16_t)fin_le(in, 1);
	uint32_t n = qsize[q] ? qsize[q] : 1;
	uint32_t at = desc_at[q] + 16 * (i % n);

	if (fin_le(in, 1) == 0xff)
		len = 0xffffffffu; /* a huge one */
	if (at <= RAM_SIZE - 16) {
		memcpy(ram + at, &addr, 8);
		memcpy(ram + at + 8, &len, 4);
		memcpy(ram + at + 12, &flags, 2);
		memcpy(ram + at + 14, &next, 2);
	}
	if (avail_at[q] > RAM_SIZE - 4)
		return;
	uint16_t idx;
	memcpy(&idx, ram + avail_at[q] + 2, 2);
	put16(avail_at[q] + 4 + 2 * (idx % n), i);
	put16(avail_at[q] + 2, (uint16_t)(idx + 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned widths[4] = {1, 2, 4, 8};
	static struct vm vm;
	static struct guest_region region;
	static struct virtio_console con;
	struct fuzz_in in = {data, size};

	ram = malloc(RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	memset(&vm, 0, sizeof(vm));
	memset(&con, 0, sizeof(con));
	memset(desc_at, 0, sizeof(desc_at));
	memset(avail_at, 0, sizeof(avail_at));
	memset(qsize, 0, sizeof(qsize));
	region = (struct guest_region){.ipa = RAM_IPA, .size = RAM_SIZE, .hva = ram};
	vm.mem = (struct guest_mem){.regions = &region, .n = 1};
	vm.name = "fuzz";
	if (virtio_console_create(&con, &vm, BASE, 48))
		abort();
	for (unsigned steps = 0; in.n && steps < 256; steps++) {
		uint8_t op = (uint8_t)fin_le(&in, 1);
		switch (op % 8) {
		case 0: /* register write, any offset and width */
		case 1: {
			uint64_t off = fin_le(&in, 2) & 0x3ff;
			mmio(off, widths[op >> 6], true, fin_le(&in, 4));
			break;
		}
		case 2: { /* register read */
			uint64_t off = fin_le(&in, 2) & 0x3ff;
			mmio(off, widths[op >> 6], false, 0);
			break;
		}
		case 3: /* the guest writes its RAM (rings, descriptors, indices) */
		case 4: {
			uint32_t at = (uint32_t)fin_le(&in, 2) % (RAM_SIZE - 8);
			uint64_t v = fin_le(&in, 8);
			memcpy(ram + at, &v, sizeof(v));
			break;
		}
		case 5: /* offer a chain, then notify */
			offer(&in);
			mmio(0x050, 4, true, fin_le(&in, 1) & 1);
			break;
		case 6:
			hvc_input(hvc_dev, (char)fin_le(&in, 1));
			break;
		case 7:
			bring_up(&in);
			break;
		}
	}
	free(ram);
	return 0;
}
