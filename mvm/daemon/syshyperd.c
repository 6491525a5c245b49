/* syshyperd: the MVM's block backend for mediated GVM disks.
 *
 * Maps the mediated area through /dev/syshyper, checks its disks against
 * /etc/syshyper/disks.conf (which file or block device, at which offset,
 * backs each disk), then serves requests with a pool of worker threads.
 *
 * Waiting: one worker at a time (the leader) sleeps in read() on the
 * device until the hypervisor's next service interrupt; the others sleep on
 * a condition until there is work. A worker that finishes looks at the
 * ring before it sleeps, so at queue depth 1 the same thread takes the
 * interrupt, does the I/O and reports it, with no hand-off between threads.
 * With -p US a worker that finds no worker doing I/O first polls for US
 * microseconds (HC_MED_POLL in a loop: each call takes the requests the
 * GVMs queued, which meanwhile notify nobody), trading the MVM CPU's idle
 * time for the notify trap, the IPI, the service interrupt and the wake-up
 * of each request.
 *
 * I/O: a worker takes a run of requests that continue each other (same
 * disk, both reads or both writes, adjacent sectors: a guest's large
 * request arrives as slots of 64 KiB) and does it as one preadv/pwritev
 * on the slots' pages, up to 1 MiB. The backing store is opened with
 * O_DIRECT (block devices and files that allow it): the device moves data
 * straight between the slots and the disk, and the MVM's page cache does
 * not grow with GVM I/O. Where O_DIRECT is refused the daemon falls back
 * to buffered I/O on that disk (the page cache then holds its data, which
 * FLUSH writes back).
 *
 * Completions: {tag, status, stamps} on cmp_ring, in whatever order they
 * finish (a tag's generation lets the hypervisor ignore a stale one, e.g.
 * from before a resync), then one completion hypercall; a worker that
 * finishes while another is in the hypercall leaves its completions to it,
 * so bursts cost one hypercall. A write is completed only when
 * pwrite/pwritev succeeded (with O_DIRECT: the device has it; buffered: the
 * page cache has it), a FLUSH only after fdatasync() succeeded. On start
 * it asks the hypervisor to queue again every request still in flight, so
 * a killed and restarted daemon loses nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backing.h"
#include "placement.h"
#include "syshyper/ioctl.h"
#include "syshyper/med_ring.h"
#include "syshyper/mediated.h"

#define WORKERS 16
#define RUN_MAX_BYTES (1u << 20) /* one I/O for up to this many bytes of adjacent requests */
#define RUN_MAX (RUN_MAX_BYTES / MED_SLOT_DATA)
#define LOG(...) fprintf(stderr, "syshyperd: " __VA_ARGS__)
_Static_assert(RUN_MAX <= BACKING_IOV_MAX, "a run is one backing_io");

/* A run of requests done as one I/O. */
struct run {
	unsigned n;
	uint64_t tag[RUN_MAX];
	struct med_slot slot[RUN_MAX];
	struct med_cmp times[RUN_MAX];
	int status;
};

static struct med_area *area;
static uint32_t area_slots; /* the slots mapped (the header's nslots, read once) */
static int dev_fd;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cond = PTHREAD_COND_INITIALIZER;
static int leader;          /* a worker waits in read() for the interrupt */
static unsigned idle;       /* workers waiting on work_cond */
static unsigned unreported; /* completions given but not yet announced */
static int reporting;       /* a worker is in the completion hypercall */
static unsigned poll_us;    /* -p or mediated-poll: how long a worker polls first */
static unsigned busy;       /* workers doing I/O */
static int poller;          /* a worker polls (-p) */
static int poll_set;        /* -p given: the configuration's poll does not count */

/* One request that is not part of a read/write run. The slot's fields are
 * the hypervisor's; data is the slot's MED_SLOT_DATA bytes. */
static int serve_one(const struct med_slot *s, unsigned char *data)
{
	if (s->disk >= MED_MAX_DISKS || disks[s->disk].fd < 0)
		return MED_S_IOERR;
	struct backing *b = &disks[s->disk];
	int writes = s->type == MED_REQ_WRITE || s->type == MED_REQ_DISCARD ||
		     s->type == MED_REQ_WRITE_ZEROES;

	if (writes && b->read_only)
		return MED_S_IOERR;
	if ((s->type == MED_REQ_READ || s->type == MED_REQ_WRITE) && s->len > MED_SLOT_DATA)
		return MED_S_IOERR;
	if (s->type != MED_REQ_FLUSH && s->type != MED_REQ_GET_ID &&
	    !in_range(b, s->sector, s->len))
		return MED_S_IOERR;
	off_t off = (off_t)(b->offset + s->sector * MED_SECTOR);
	struct iovec v = {data, s->len};
	switch (s->type) {
	case MED_REQ_READ:
	case MED_REQ_WRITE:
		return backing_io(b, &v, 1, off, s->type == MED_REQ_WRITE) ? MED_S_IOERR : MED_S_OK;
	case MED_REQ_FLUSH: /* also what went around the page cache: the device's cache */
		return fdatasync(b->fd) ? MED_S_IOERR : MED_S_OK;
	case MED_REQ_DISCARD:
	case MED_REQ_WRITE_ZEROES:
		return zero_range(b, off, s->len, s->type == MED_REQ_DISCARD) ? MED_S_IOERR
									      : MED_S_OK;
	default:
		return MED_S_UNSUPP;
	}
}

/* A run of adjacent reads or writes (r->n > 1, checked by med_can_merge)
 * as one I/O; any failure fails them all (the guest retries or reports). */
static int serve_run(const struct run *r)
{
	const struct med_slot *first = &r->slot[0];
	struct iovec v[RUN_MAX];
	uint64_t bytes = 0;

	if (first->disk >= MED_MAX_DISKS || disks[first->disk].fd < 0)
		return MED_S_IOERR;
	struct backing *b = &disks[first->disk];
	if (first->type == MED_REQ_WRITE && b->read_only)
		return MED_S_IOERR;
	for (unsigned i = 0; i < r->n; i++) {
		v[i].iov_base = MED_SLOT_DATA_PTR(area, MED_TAG_SLOT(r->tag[i]));
		v[i].iov_len = r->slot[i].len;
		bytes += r->slot[i].len;
	}
	if (!in_range(b, first->sector, bytes))
		return MED_S_IOERR;
	off_t off = (off_t)(b->offset + first->sector * MED_SECTOR);
	return backing_io(b, v, (int)r->n, off, first->type == MED_REQ_WRITE) ? MED_S_IOERR
									      : MED_S_OK;
}

/* The counter every VM and the hypervisor read alike (CNTVOFF_EL2 is 0):
 * the stamps of the MVM's stages (syshyper/mediated.h). */
static uint64_t counter(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
}

/* The service interrupt that announced a request queued at t_queued: the
 * module's latest, unless that came before the request (the backend found
 * it without one): then its pick-up. */
static uint64_t announced_at(uint64_t t_queued, uint64_t t_pickup)
{
	uint64_t irq = MED_READ_ONCE(area->mvm_irq_at);

	return irq >= t_queued && irq <= t_pickup ? irq : t_pickup;
}

/* Takes the next request and the ones queued right after it that continue
 * it; lock held. Returns a med_ring result. */
static int take_run(struct run *r)
{
	uint32_t n = MED_RING_SIZE;
	uint64_t tag, bytes;
	int res = med_req_take(area, n, &tag);

	if (res != MED_RING_OK)
		return res;
	if (MED_TAG_SLOT(tag) >= area_slots) /* the ring's bound is not the area's */
		return MED_RING_CORRUPT;
	r->n = 1;
	r->tag[0] = tag;
	r->slot[0] = area->slots[MED_TAG_SLOT(tag)];
	bytes = r->slot[0].len;
	if (r->slot[0].len > MED_SLOT_DATA || r->slot[0].len % MED_SECTOR)
		return MED_RING_OK; /* served alone (and refused there) */
	while (r->n < RUN_MAX && med_req_peek(area, n, &tag) == MED_RING_OK &&
	       MED_TAG_SLOT(tag) < area_slots) {
		struct med_slot next = area->slots[MED_TAG_SLOT(tag)];
		if (!med_can_merge(&r->slot[0], bytes, &next, RUN_MAX_BYTES))
			break;
		area->req_cons++; /* taken: it was the entry med_req_peek read */
		r->tag[r->n] = tag;
		r->slot[r->n++] = next;
		bytes += next.len;
	}
	return MED_RING_OK;
}

static void serve(struct run *r)
{
	uint64_t pickup = counter();

	for (unsigned i = 0; i < r->n; i++) {
		r->times[i].t_pickup = pickup;
		r->times[i].t_irq = announced_at(r->slot[i].t_queued, pickup);
	}
	r->status =
		r->n > 1 ? serve_run(r)
			 : serve_one(&r->slot[0], MED_SLOT_DATA_PTR(area, MED_TAG_SLOT(r->tag[0])));
	uint64_t done = counter();
	for (unsigned i = 0; i < r->n; i++)
		r->times[i].t_done = done;
}

/* Gives the run's completions and announces them; lock held (dropped
 * around the hypercall). One worker at a time makes the hypercall and goes
 * on while others added completions meanwhile. */
static void report(const struct run *r)
{
	for (unsigned i = 0; i < r->n; i++)
		if (med_cmp_give_timed(area, MED_RING_SIZE, r->tag[i], r->status, &r->times[i]) !=
		    MED_RING_OK)
			LOG("completion ring full: slot %u waits for a resync\n",
			    MED_TAG_SLOT(r->tag[i]));
	unreported += r->n;
	if (reporting)
		return;
	reporting = 1;
	while (unreported) {
		unreported = 0;
		pthread_mutex_unlock(&ring_lock);
		ioctl(dev_fd, SYSHYPER_IOC_COMPLETE);
		pthread_mutex_lock(&ring_lock);
	}
	reporting = 0;
}

/* Whether req_ring holds a request (or something to resync on): read
 * without the lock, a hint the caller's take_run checks. */
static int ring_has_work(void)
{
	uint64_t tag;

	return med_req_peek(area, MED_RING_SIZE, &tag) != MED_RING_EMPTY;
}

/* Polls for poll_us: 1 once req_ring holds a request. Every way out ends
 * the poll window, so that the GVMs' notifies go on again while nobody
 * polls; the hypervisor queued requests without a service interrupt until
 * then, so the ring is looked at after that call. */
static int poll_for_work(void)
{
	uint64_t hz = area->counter_hz, end;
	int found = 0;

	if (hz < 1000000)
		return 0;
	end = counter() + poll_us * (hz / 1000000);
	while (!found && counter() < end) {
		if (ioctl(dev_fd, SYSHYPER_IOC_POLL, (unsigned long)poll_us))
			break; /* refused: interrupts as without -p */
		found = ring_has_work();
	}
	ioctl(dev_fd, SYSHYPER_IOC_POLL, 0UL);
	return found || ring_has_work();
}

/* Waits for work; lock held. With -p, one worker polls first while no
 * worker does I/O (polling then would take the CPU the I/O's completion
 * needs, and each completion looks at the ring anyway). Then the leader
 * sleeps in read() until the next service interrupt (one since the last
 * read returns at once), the others on work_cond. */
static void wait_for_work(void)
{
	if (poll_us && !busy && !poller) {
		poller = 1;
		pthread_mutex_unlock(&ring_lock);
		int found = poll_for_work();
		pthread_mutex_lock(&ring_lock);
		poller = 0;
		if (found)
			return;
	}
	if (!leader) {
		unsigned long long count;
		leader = 1;
		pthread_mutex_unlock(&ring_lock);
		if (read(dev_fd, &count, sizeof(count)) < 0 && errno != EINTR) {
			LOG("read: %s\n", strerror(errno));
			usleep(10000);
		}
		pthread_mutex_lock(&ring_lock);
		leader = 0;
		if (idle) /* someone must wait for the next interrupt */
			pthread_cond_signal(&work_cond);
		return;
	}
	idle++;
	pthread_cond_wait(&work_cond, &ring_lock);
	idle--;
}

static void *worker(void *arg)
{
	struct run *r = malloc(sizeof(*r));

	(void)arg;
	if (!r) {
		LOG("out of memory\n");
		return NULL;
	}
	pthread_mutex_lock(&ring_lock);
	for (;;) {
		int res = take_run(r);
		if (res == MED_RING_EMPTY) {
			wait_for_work();
			continue;
		}
		if (res != MED_RING_OK) {
			LOG("request ring corrupt (prod %u cons %u): resync\n", area->req_prod,
			    area->req_cons);
			ioctl(dev_fd, SYSHYPER_IOC_RESYNC);
			continue;
		}
		uint64_t more;
		if (idle && med_req_peek(area, MED_RING_SIZE, &more) == MED_RING_OK)
			pthread_cond_signal(&work_cond); /* another worker for the rest */
		busy++;
		pthread_mutex_unlock(&ring_lock);
		serve(r);
		pthread_mutex_lock(&ring_lock);
		busy--;
		report(r);
	}
	return NULL;
}

/* Maps the area: its header first, then as many slots as the hypervisor
 * says it has (the module refuses a mapping larger than the area). */
static int map_area(void)
{
	area = mmap(NULL, MED_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd, 0);
	if (area == MAP_FAILED) {
		LOG("cannot map the mediated area: %s\n", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 1000 && area->magic != MED_MAGIC; i++)
		usleep(10000);
	uint32_t nslots = area->nslots;
	if (area->magic != MED_MAGIC || area->version != MED_VERSION || nslots == 0 ||
	    nslots > MED_MAX_SLOTS || area->slot_data_size != MED_SLOT_DATA ||
	    area->data_offset != MED_HDR_SIZE) {
		LOG("the mediated area is not initialised by the hypervisor (version %u, this "
		    "daemon speaks %u)\n",
		    area->version, (unsigned)MED_VERSION);
		return -1;
	}
	munmap(area, MED_HDR_SIZE);
	size_t size = MED_HDR_SIZE + (size_t)nslots * MED_SLOT_DATA;
	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd, 0);
	if (area == MAP_FAILED) {
		LOG("cannot map the mediated area's %u slots: %s\n", nslots, strerror(errno));
		return -1;
	}
	area_slots = nslots;
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf = "/etc/syshyper/disks.conf";
	pthread_t t;
	int opt;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		unsigned long us = opt == 'p' ? strtoul(optarg, NULL, 10) : ~0UL;
		if (us > MED_POLL_MAX_US) {
			fprintf(stderr, "usage: syshyperd [-p US (0..%u)] [disks.conf]\n",
				MED_POLL_MAX_US);
			return 2;
		}
		poll_us = (unsigned)us;
		poll_set = 1;
	}
	if (optind < argc)
		conf = argv[optind];

	signal(SIGPIPE, SIG_IGN);
	dev_fd = open("/dev/syshyper", O_RDWR);
	if (dev_fd < 0) {
		LOG("cannot open /dev/syshyper: %s (is syshyper.ko loaded?)\n", strerror(errno));
		return 1;
	}
	if (map_area())
		return 1;
	unsigned conf_poll = 0;
	load_config(conf, &conf_poll);
	if (!poll_set) /* -p overrides the configuration */
		poll_us = conf_poll;
	check_disks(area);
	int fds[MED_MAX_DISKS];
	for (unsigned i = 0; i < MED_MAX_DISKS; i++)
		fds[i] = disks[i].fd;
	place_workers(fds, MED_MAX_DISKS);
	if (ioctl(dev_fd, SYSHYPER_IOC_RESYNC))
		LOG("resync refused: %s\n", strerror(errno));
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t, NULL, worker, NULL);
	LOG("serving %u disk(s) with %d workers, polling %u us\n", area->ndisks, WORKERS, poll_us);
	pthread_join(t, NULL);
	return 1;
}
