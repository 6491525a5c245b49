/* Shared pieces of the libFuzzer harnesses (see fuzz_stubs.h). */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fuzz_stubs.h"
#include "core/mmio.h"
#include "lib/ratelimit.h"
#include "core/vm.h"
#include "arch/arm64/cache.h"

#define WEAK __attribute__((weak))
#define NOCOV FUZZ_NOCOV

/* the read window's cache clean: host memory is coherent */
WEAK void dcache_clean_poc(void *p, uint64_t len)
{
	(void)p, (void)len;
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: property violated: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* ---------------------------------------------------------------- stubs */

struct vm vms[CFG_MAX_VMS];
unsigned nvms;
struct fuzz_irq fuzz_irqs[64];
unsigned fuzz_nirqs;

void fuzz_irqs_reset(void)
{
	fuzz_nirqs = 0;
}

WEAK void printk(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt); /* formatted, so bad arguments show under the sanitizers */
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

WEAK void panic(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "panic: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

WEAK void vm_log(struct vm *vm, enum log_cause cause, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	FUZZ_ASSERT(cause < LOG_CAUSES, "log cause %d", (int)cause);
	(void)vm;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

WEAK void vgic_inject(struct vm *vm, struct vcpu *vcpu, uint32_t intid)
{
	if (fuzz_nirqs < ARRAY_SIZE(fuzz_irqs))
		fuzz_irqs[fuzz_nirqs] = (struct fuzz_irq){vm, vcpu, intid};
	fuzz_nirqs++;
}

WEAK int vm_register_mmio(struct vm *vm, ipa_t base, uint64_t size, mmio_handler_fn fn, void *dev)
{
	if (vm->nmmio >= VM_MAX_MMIO)
		return -1;
	vm->mmio[vm->nmmio++] = (struct mmio_region){base, size, fn, dev};
	return 0;
}

WEAK int vm_map(struct vm *vm, ipa_t ipa, paddr_t pa, uint64_t size, bool device)
{
	(void)vm, (void)ipa, (void)pa, (void)size, (void)device;
	return 0;
}

/* The counter (arch.h under HOST_UNIT_TEST): 1 MHz, a millisecond a read. */
WEAK uint64_t timer_now(void)
{
	static uint64_t now;
	return now += 1000;
}

WEAK uint64_t timer_freq(void)
{
	return 1000000;
}

/* ---------------------------------------------------------------- guest memory */

static uint8_t *map_guarded(size_t size)
{
	size_t page = 4096, total = size + 2 * page;
	uint8_t *p = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + page, size, PROT_READ | PROT_WRITE))
		abort();
	return p + page;
}

void fuzz_guest_init(struct fuzz_guest *g)
{
	if (!g->regions[0].hva) { /* mapped once per guest, kept across inputs */
		uint8_t *r0 = map_guarded(FUZZ_GUEST_R0), *r1 = map_guarded(FUZZ_GUEST_R1);
		g->regions[0] = (struct guest_region){FUZZ_GUEST_IPA, FUZZ_GUEST_R0, r0};
		g->regions[1] =
			(struct guest_region){FUZZ_GUEST_IPA + FUZZ_GUEST_R0, FUZZ_GUEST_R1, r1};
	}
	g->mem = (struct guest_mem){g->regions, 2};
	fuzz_guest_clear(g);
}

void fuzz_guest_clear(struct fuzz_guest *g)
{
	memset(g->regions[0].hva, 0, FUZZ_GUEST_R0);
	memset(g->regions[1].hva, 0, FUZZ_GUEST_R1);
}

uint8_t *fuzz_guest_byte(struct fuzz_guest *g, uint64_t off)
{
	return off < FUZZ_GUEST_R0 ? g->regions[0].hva + off
				   : g->regions[1].hva + (off - FUZZ_GUEST_R0);
}

NOCOV void fuzz_guest_write(struct fuzz_guest *g, uint64_t off, const void *src, size_t len)
{
	const uint8_t *s = src;

	for (size_t i = 0; i < len && off + i < FUZZ_GUEST_SIZE; i++)
		*fuzz_guest_byte(g, off + i) = s[i];
}

NOCOV void fuzz_guest_snapshot(struct fuzz_guest *g)
{
	memcpy(g->snap, g->regions[0].hva, FUZZ_GUEST_R0);
	memcpy(g->snap + FUZZ_GUEST_R0, g->regions[1].hva, FUZZ_GUEST_R1);
}

bool fuzz_guest_contains(const struct fuzz_guest *g, ipa_t ipa, uint64_t len)
{
	for (unsigned i = 0; i < 2; i++) {
		const struct guest_region *r = &g->regions[i];
		if (ipa >= r->ipa && ipa - r->ipa <= r->size && len <= r->size - (ipa - r->ipa))
			return true;
	}
	return false;
}

bool fuzz_guest_owns(const struct fuzz_guest *g, const void *p, uint64_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (unsigned i = 0; i < 2; i++) {
		uintptr_t b = (uintptr_t)g->regions[i].hva;
		if (a >= b && a - b <= g->regions[i].size && len <= g->regions[i].size - (a - b))
			return true;
	}
	return false;
}

/* ---------------------------------------------------------------- write oracle */

static uint8_t allowed[FUZZ_GUEST_SIZE];

/* Marks [ipa, ipa+len) clipped to the guest's RAM. */
NOCOV static void allow(ipa_t ipa, uint64_t len)
{
	if (ipa < FUZZ_GUEST_IPA)
		return;
	for (uint64_t off = ipa - FUZZ_GUEST_IPA; len && off < FUZZ_GUEST_SIZE; off++, len--)
		allowed[off] = 1;
}

static void read_guest(const uint8_t *mem, ipa_t ipa, void *dst, size_t len)
{
	memcpy(dst, mem + (ipa - FUZZ_GUEST_IPA), len);
}

/* The writable buffers a descriptor table of `n` entries names, in the
 * memory image `mem` (flat: the snapshot or a copy of the current RAM). */
NOCOV static void allow_table(const uint8_t *mem, ipa_t table, uint64_t n, bool nested)
{
	for (uint64_t i = 0; i < n; i++) {
		struct virtq_desc d;
		ipa_t at = table + 16 * i;
		if (at < FUZZ_GUEST_IPA || at - FUZZ_GUEST_IPA > FUZZ_GUEST_SIZE - 16)
			return;
		read_guest(mem, at, &d, sizeof(d));
		if (d.flags & VIRTQ_DESC_F_WRITE)
			allow(d.addr, d.len);
		if ((d.flags & VIRTQ_DESC_F_INDIRECT) && !nested)
			allow_table(mem, d.addr, d.len / 16, true);
	}
}

NOCOV void fuzz_check_writes(struct fuzz_guest *g, const struct fuzz_queue_view *qs, unsigned nq,
			     const char *what)
{
	static uint8_t now[FUZZ_GUEST_SIZE];

	memset(allowed, 0, sizeof(allowed));
	memcpy(now, g->regions[0].hva, FUZZ_GUEST_R0);
	memcpy(now + FUZZ_GUEST_R0, g->regions[1].hva, FUZZ_GUEST_R1);
	for (unsigned q = 0; q < nq; q++) {
		if (!qs[q].num)
			continue;
		allow(qs[q].used_ipa, 6 + 8ULL * qs[q].num);
		/* as the device saw them (a buffer may overlap the table itself) */
		allow_table(g->snap, qs[q].desc_ipa, qs[q].num, false);
		allow_table(now, qs[q].desc_ipa, qs[q].num, false);
	}
	for (uint64_t off = 0; off < FUZZ_GUEST_SIZE; off++)
		FUZZ_ASSERT(
			now[off] == g->snap[off] || allowed[off],
			"%s: the device wrote guest byte at ipa 0x%lx (0x%02x -> 0x%02x), which "
			"no device-writable buffer or used ring covers",
			what, (unsigned long)(FUZZ_GUEST_IPA + off), g->snap[off], now[off]);
}

/* ---------------------------------------------------------------- chains */

static bool flat_range(ipa_t ipa, uint64_t len)
{
	return ipa >= FUZZ_GUEST_IPA && len <= FUZZ_GUEST_SIZE &&
	       ipa - FUZZ_GUEST_IPA <= FUZZ_GUEST_SIZE - len;
}

/* Buffers must lie in one region, as the device requires. */
static bool one_region(ipa_t ipa, uint64_t len)
{
	uint64_t off = ipa - FUZZ_GUEST_IPA;

	return flat_range(ipa, len) && (off + len <= FUZZ_GUEST_R0 || off >= FUZZ_GUEST_R0);
}

NOCOV static int walk_table(const uint8_t *mem, ipa_t table, unsigned size, uint16_t idx,
			    bool nested, bool indirect_ok, struct fuzz_seg *segs, unsigned n,
			    unsigned max)
{
	for (unsigned steps = 0;; steps++) {
		struct virtq_desc d;
		if (idx >= size || steps >= size || !flat_range(table + 16ULL * idx, 16))
			return -1;
		memcpy(&d, mem + (table + 16ULL * idx - FUZZ_GUEST_IPA), sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (nested || !indirect_ok || (d.flags & VIRTQ_DESC_F_NEXT) || !d.len ||
			    d.len % 16 || d.len / 16 > VIRTQ_MAX_SEGS || (d.addr & 15) ||
			    !one_region(d.addr, d.len))
				return -1;
			return walk_table(mem, d.addr, d.len / 16, 0, true, false, segs, n, max);
		}
		bool w = d.flags & VIRTQ_DESC_F_WRITE;
		if (n >= max || !d.len || !one_region(d.addr, d.len) ||
		    (!w && n && segs[n - 1].writable))
			return -1;
		segs[n++] = (struct fuzz_seg){d.addr - FUZZ_GUEST_IPA, d.len, w};
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return (int)n;
		idx = d.next;
	}
}

int fuzz_walk_chain(const uint8_t *mem, ipa_t desc_ipa, unsigned num, uint16_t head,
		    bool indirect_ok, struct fuzz_seg *segs, unsigned max)
{
	return walk_table(mem, desc_ipa, num, head, false, indirect_ok, segs, 0, max);
}

NOCOV size_t fuzz_gather(const uint8_t *mem, const struct fuzz_seg *segs, int n, bool writable,
			 uint8_t *dst, size_t cap)
{
	size_t got = 0;

	for (int i = 0; i < n; i++) {
		if (segs[i].writable != writable)
			continue;
		for (uint32_t k = 0; k < segs[i].len && got < cap; k++)
			dst[got++] = mem[segs[i].off + k];
	}
	return got;
}

void fuzz_guest_flat(struct fuzz_guest *g, uint8_t *dst)
{
	memcpy(dst, g->regions[0].hva, FUZZ_GUEST_R0);
	memcpy(dst + FUZZ_GUEST_R0, g->regions[1].hva, FUZZ_GUEST_R1);
}

/* ---------------------------------------------------------------- corpus */

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

void fuzz_add_corpus(int *argc, char ***argv, const char *name, const char *const *seed_dirs)
{
	static char *args[256];
	static char paths[8][512];
	int n = 0, positional = 0, npaths = 0;

	for (int i = 1; i < *argc; i++) {
		const char *a = (*argv)[i];
		if (a[0] == '-')
			continue;
		if (!is_dir(a))
			return; /* reproducing single inputs: leave the command alone */
		positional++;
	}
	if (!positional || *argc + 10 > (int)ARRAY_SIZE(args))
		return;
	snprintf(paths[npaths++], sizeof(paths[0]), "%s/regressions/%s", FUZZ_SRC_DIR, name);
	for (; seed_dirs && *seed_dirs && npaths < 8; seed_dirs++)
		snprintf(paths[npaths++], sizeof(paths[0]), "%s/../../%s", FUZZ_SRC_DIR,
			 *seed_dirs);
	for (int i = 0; i < *argc; i++)
		args[n++] = (*argv)[i];
	for (int i = 0; i < npaths; i++)
		if (is_dir(paths[i]))
			args[n++] = paths[i];
	args[n] = NULL;
	*argc = n;
	*argv = args;
}
