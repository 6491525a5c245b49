/* ringcorrupt [-f N] cons|prod|tag: corrupts the mediated area's request
 * ring from MVM user space, as a buggy or hostile process with
 * /dev/syshyper could, in a way the block daemon's next take reports as
 * MED_RING_CORRUPT:
 *   cons  req_cons (the daemon's own index) half the index space away from
 *         req_prod: the consumer ahead of the producer
 *   prod  req_prod (the hypervisor's published copy) likewise; its next
 *         publish writes it again, so the daemon may not see it
 *   tag   every entry waiting on the ring names a slot the area does not
 *         have (the area's slot count; needs fewer than 256 slots), and so
 *         do those queued after it until the daemon resyncs (for up to two
 *         seconds: it may have read an entry before the change)
 * -f N first waits (up to two seconds) until the daemon has at least N
 * requests in flight (taken, not completed: req_cons - cmp_prod, both reset
 * by a resync), so that its resync has I/O to wait for; tag also waits for
 * an entry on the ring (the daemon takes them within microseconds).
 * A test tool: the system tests check that the daemon notices, drains its
 * I/O and resyncs, and that no GVM request is lost or done twice. A change
 * can be lost to a race with the daemon or the hypervisor writing the same
 * place: the caller watches the daemon's log and tries again.
 * Prints what it found and wrote; exit 0, 1 if there was nothing to
 * corrupt (tag: no entry waiting) or no area, 2 usage. */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "syshyper/med_ring.h"
#include "syshyper/mediated.h"

/* Bogus tags in the entries waiting between cons and prod that do not
 * have one yet; how many. */
static unsigned corrupt_tags(struct med_area *a, uint32_t prod, uint32_t cons, uint32_t nslots)
{
	int64_t pending = med_ring_pending(prod, cons, MED_RING_SIZE);
	unsigned n = 0;

	for (int64_t i = 0; i < pending; i++) {
		uint64_t *e = &a->req_ring[(cons + (uint32_t)i) % MED_RING_SIZE];
		uint64_t tag = MED_READ_ONCE(*e);
		if (MED_TAG_SLOT(tag) == nslots)
			continue;
		MED_WRITE_ONCE(*e, (tag & ~(uint64_t)((1u << MED_TAG_SLOT_BITS) - 1)) | nslots);
		n++;
	}
	return n;
}

/* The area's indices, read once each. */
struct indices {
	uint32_t req_prod, req_cons, cmp_prod;
};

static struct indices read_indices(const struct med_area *a)
{
	return (struct indices){MED_READ_ONCE(a->req_prod), MED_READ_ONCE(a->req_cons),
				MED_READ_ONCE(a->cmp_prod)};
}

/* Requests the daemon took and has not completed (0 if the indices make
 * no sense). */
static uint32_t in_flight(const struct indices *x)
{
	uint32_t n = x->req_cons - x->cmp_prod;

	return n <= MED_RING_SIZE ? n : 0;
}

/* Waits until the daemon has at least `want` requests in flight and, for
 * tag, one waits on the ring, or two seconds passed; returns the indices
 * seen last. */
static struct indices wait_for_moment(const struct med_area *a, uint32_t want, int need_entry)
{
	time_t end = time(NULL) + 2;
	struct indices x = read_indices(a);

	while (time(NULL) < end &&
	       (in_flight(&x) < want ||
		(need_entry && med_ring_pending(x.req_prod, x.req_cons, MED_RING_SIZE) <= 0))) {
		sched_yield();
		x = read_indices(a);
	}
	return x;
}

/* tag: the entries waiting get bogus tags, and those the daemon queues
 * later too (it may have read an entry before the change landed), until a
 * resync sets req_cons back (the daemon took one) or two seconds passed.
 * Returns the entries changed. */
static unsigned corrupt_tags_until_resync(struct med_area *a, struct indices x, uint32_t nslots)
{
	time_t end = time(NULL) + 2;
	uint32_t last = x.req_cons;
	unsigned changed = 0;

	while (time(NULL) < end) {
		changed += corrupt_tags(a, x.req_prod, x.req_cons, nslots);
		sched_yield();
		x = read_indices(a);
		if ((int32_t)(x.req_cons - last) < 0)
			break; /* resynced */
		last = x.req_cons;
	}
	return changed;
}

static int corrupt(struct med_area *a, const char *mode, uint32_t want)
{
	uint32_t nslots = MED_READ_ONCE(a->nslots);
	int tag = !strcmp(mode, "tag");

	if (tag && nslots >= MED_MAX_SLOTS) {
		printf("ringcorrupt: tag: every slot number exists (%u slots)\n", nslots);
		return 1;
	}
	struct indices x = wait_for_moment(a, want, tag);
	printf("ringcorrupt: %s: prod %u cons %u, %u in flight", mode, x.req_prod, x.req_cons,
	       in_flight(&x));
	if (!strcmp(mode, "cons")) {
		MED_WRITE_ONCE(a->req_cons, x.req_prod + 0x80000000u);
		printf(" -> cons %u\n", x.req_prod + 0x80000000u);
	} else if (!strcmp(mode, "prod")) {
		MED_WRITE_ONCE(a->req_prod, x.req_cons + 0x80000000u);
		printf(" -> prod %u\n", x.req_cons + 0x80000000u);
	} else {
		unsigned n = corrupt_tags_until_resync(a, x, nslots);
		printf(" -> %u entries name slot %u\n", n, nslots);
		if (!n)
			return 1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: ringcorrupt [-f N] cons|prod|tag\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint32_t want = 0;
	int opt;

	while ((opt = getopt(argc, argv, "f:")) != -1) {
		if (opt != 'f')
			return usage();
		want = (uint32_t)strtoul(optarg, NULL, 10);
	}
	if (optind != argc - 1)
		return usage();
	const char *mode = argv[optind];
	if (strcmp(mode, "cons") && strcmp(mode, "prod") && strcmp(mode, "tag"))
		return usage();
	int fd = open("/dev/syshyper", O_RDWR);
	if (fd < 0) {
		perror("ringcorrupt: /dev/syshyper");
		return 1;
	}
	/* the header alone, as the daemon maps it first: the rings are in it */
	struct med_area *a = mmap(NULL, MED_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED) {
		perror("ringcorrupt: mmap");
		return 1;
	}
	if (a->magic != MED_MAGIC || a->version != MED_VERSION) {
		fprintf(stderr, "ringcorrupt: no mediated area (magic %#x version %u)\n", a->magic,
			a->version);
		return 1;
	}
	int status = corrupt(a, mode, want);
	munmap(a, MED_HDR_SIZE);
	close(fd);
	return status;
}
