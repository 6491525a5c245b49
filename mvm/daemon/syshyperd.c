/* syshyperd: the MVM's block backend for mediated GVM disks.
 *
 * Maps the mediated area through /dev/syshyper, checks its disks against
 * /etc/syshyper/disks.conf (backing.h: which file or block device, at which
 * offset, backs each disk), then serves requests: one thread, the engine,
 * takes them all and has the kernel do reads and writes asynchronously; a
 * pool of sync workers does the rest.
 *
 * Waiting: the engine sleeps in poll() on the device (readable once the
 * hypervisor's service interrupt came since it last read it) and on an
 * eventfd the kernel counts up as each asynchronous I/O completes and a
 * sync worker as it finishes a request the engine may be waiting for.
 * After a wake-up it reaps the completions and takes what req_ring holds,
 * so at queue depth 1 one thread takes the interrupt, does the I/O (a lone
 * request with nothing else in flight synchronously, serve_inline) and
 * reports it, with no hand-off between threads. With -p US, while none of
 * its I/O is in flight, it first polls for US microseconds (HC_MED_POLL in
 * a loop: each call takes the requests the GVMs queued, which meanwhile
 * notify nobody), trading the MVM CPU's idle time for the notify trap, the
 * IPI, the service interrupt and the wake-up of each request.
 *
 * I/O: the engine takes runs of requests that continue each other (same
 * disk, both reads or both writes, adjacent sectors: a guest's large
 * request arrives as slots of 64 KiB), each one I/O on the slots' pages of
 * up to 1 MiB (take.h: what a run holds, checked), and submits the reads
 * and writes of disks opened with O_DIRECT as Linux native AIO (aio.h:
 * IOCB_CMD_PREADV/PWRITEV), all it took in one io_submit, up to RUNS_MAX
 * runs in flight: no thread blocks per request, and the CPU that the
 * daemon and the disk's interrupts share (placement.h) switches threads per
 * wake-up, which reaps whatever completed, not per request.
 * The sync workers do, with preadv/pwritev and fdatasync (the engine itself
 * when the request is alone with nothing else in flight): FLUSH,
 * DISCARD, WRITE_ZEROES and whatever else is not a read or write; the
 * reads and writes of a disk without O_DIRECT (buffered I/O, backing.h);
 * a run the kernel refused (io_submit failed, or EINVAL/EFAULT: O_DIRECT
 * refused, from then on buffered) or did only in part (done again from its
 * start); and everything when the kernel has no AIO.
 *
 * Completions: {tag, status, stamps} on cmp_ring, in whatever order they
 * finish (a tag's generation lets the hypervisor ignore a stale one, e.g.
 * from before a resync), then one completion hypercall for all the engine
 * reaped at once; a thread that finishes while another is in the hypercall
 * leaves its completions to it. A write is completed only when all its
 * bytes were written (O_DIRECT: the device has them; buffered: the page
 * cache has them): an AIO result short of the full length is never OK. A
 * FLUSH only after fdatasync() succeeded; the writes reported before it
 * was taken had completed by then, so it covers them. On start the daemon
 * asks the hypervisor to queue again every request still in flight, so a
 * killed and restarted daemon loses nothing (the kernel waits for a dead
 * process's AIO as it frees its memory). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aio.h"
#include "backing.h"
#include "placement.h"
#include "take.h"
#include "syshyper/ioctl.h"
#include "syshyper/med_ring.h"
#include "syshyper/mediated.h"

#define SYNC_WORKERS 16 /* threads for the requests not done asynchronously */
#define RUNS_MAX 64     /* runs in flight at most, asynchronous or not: the AIO context's depth */
#define LOG(...) fprintf(stderr, "syshyperd: " __VA_ARGS__)

/* A run of requests done as one I/O: taken by the engine, done by the
 * kernel asynchronously or by a sync worker, completed, then free again. */
struct run {
	struct run_reqs req; /* take_run */
	struct med_cmp times[RUN_MAX];
	int status;
	struct run_io io; /* a read or write run, once checked (prepare_rw) */
	struct iocb cb;   /* its AIO while in_aio */
	int in_aio;
	struct run *next; /* on the free list or the sync queue */
};

static struct med_area *area;
static uint32_t area_slots; /* the slots mapped (the header's nslots, read once) */
static int dev_fd;
static unsigned poll_us; /* -p or mediated-poll: how long the engine polls first */
static int poll_set;     /* -p given: the configuration's poll does not count */
/* The counter's frequency in kHz, read from the area once and checked, or
 * 0: the engine does not poll (see counter_khz). */
static uint64_t poll_khz;

/* The engine's (the main thread's) alone. */
static struct aio_queue aioq = {0, -1};
static int aio_on;            /* AIO works: reads and writes go to the kernel asynchronously */
static unsigned aio_inflight; /* runs the kernel has */

/* Under ring_lock: cmp_ring, the runs' free list and the sync queue. */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond = PTHREAD_COND_INITIALIZER;
static struct run runs[RUNS_MAX];
static struct run *free_runs;
static struct run *sync_head, **sync_tail = &sync_head;
static unsigned sync_pending; /* runs queued for the sync workers or being served there */
static unsigned unreported;   /* completions given but not yet announced */
static int reporting;         /* a thread is in the completion hypercall */

/* A request other than a read or write (those are runs: prepare_rw). */
static int serve_other(const struct med_slot *s)
{
	struct backing *b;
	off_t off;
	int status = check_other(disks, s, &b, &off);

	if (status != MED_S_OK)
		return status;
	switch (s->type) {
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

/* Checks run r's reads or writes and points its I/O at its slots. */
static int prepare_run(struct run *r)
{
	return prepare_rw(area, disks, &r->req, &r->io);
}

/* Whether the kernel may do run r (prepare_rw accepted it, so its slots
 * are whole sectors) asynchronously: O_DIRECT on its disk, some bytes; the
 * rest is done synchronously. */
static int can_aio(const struct run *r)
{
	return aio_on && r->io.bytes && __atomic_load_n(&r->io.b->direct_ok, __ATOMIC_RELAXED);
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

static void stamp_pickup(struct run *r)
{
	uint64_t pickup = counter();

	for (unsigned i = 0; i < r->req.n; i++) {
		r->times[i].t_pickup = pickup;
		r->times[i].t_irq = announced_at(r->req.slot[i].t_queued, pickup);
	}
}

static void stamp_done(struct run *r, uint64_t done)
{
	for (unsigned i = 0; i < r->req.n; i++)
		r->times[i].t_done = done;
}

/* Does run r synchronously: what the engine does not give the kernel
 * asynchronously, and what the kernel refused or did in part (done again
 * from its start: the slots still hold the data). */
static void serve_sync(struct run *r)
{
	if (!run_is_rw(&r->req)) {
		r->status = serve_other(&r->req.slot[0]);
	} else {
		r->status = prepare_run(r);
		if (r->status == MED_S_OK &&
		    backing_io(r->io.b, r->io.iov, (int)r->req.n, r->io.off, r->io.write))
			r->status = MED_S_IOERR;
	}
	stamp_done(r, counter());
}

/* ---- completions: under ring_lock, from the engine and the sync workers ---- */

/* Puts run r's completions on cmp_ring; lock held. */
static void give_run(const struct run *r)
{
	for (unsigned i = 0; i < r->req.n; i++)
		if (med_cmp_give_timed(area, MED_RING_SIZE, r->req.tag[i], r->status,
				       &r->times[i]) != MED_RING_OK)
			LOG("completion ring full: slot %u waits for a resync\n",
			    MED_TAG_SLOT(r->req.tag[i]));
	unreported += r->req.n;
}

/* Announces the completions given; lock held (dropped around the
 * hypercall). One thread at a time makes the hypercall and goes on while
 * others gave completions meanwhile: a burst costs one hypercall. */
static void announce(void)
{
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

/* ---- the runs: a fixed pool (it bounds what is in flight) ---- */

static struct run *alloc_run(void)
{
	pthread_mutex_lock(&ring_lock);
	struct run *r = free_runs;
	if (r)
		free_runs = r->next;
	pthread_mutex_unlock(&ring_lock);
	return r;
}

/* Returns r to the pool; lock held. Whether the pool was empty (the engine
 * may wait for a run). */
static int release_run(struct run *r)
{
	int was_empty = !free_runs;

	r->next = free_runs;
	free_runs = r;
	return was_empty;
}

/* Gives r to the sync workers; lock held. */
static void queue_sync_locked(struct run *r)
{
	r->next = NULL;
	*sync_tail = r;
	sync_tail = &r->next;
	sync_pending++;
	pthread_cond_signal(&sync_cond);
}

static void queue_sync(struct run *r)
{
	pthread_mutex_lock(&ring_lock);
	queue_sync_locked(r);
	pthread_mutex_unlock(&ring_lock);
}

/* The oldest run queued for the sync workers; lock held, one queued. */
static struct run *pop_sync(void)
{
	struct run *r = sync_head;

	sync_head = r->next;
	if (!sync_head)
		sync_tail = &sync_head;
	return r;
}

/* A sync worker: serves the runs the engine queues, reports each, and
 * wakes the engine when it may be waiting for this one (the last run in
 * flight: it may poll now; the pool was empty: it may take requests). */
static void *sync_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&ring_lock);
	for (;;) {
		while (!sync_head)
			pthread_cond_wait(&sync_cond, &ring_lock);
		struct run *r = pop_sync();
		pthread_mutex_unlock(&ring_lock);
		serve_sync(r);
		pthread_mutex_lock(&ring_lock);
		give_run(r);
		sync_pending--;
		int wake = release_run(r) || !sync_pending;
		announce();
		if (wake)
			aio_wake(&aioq);
	}
	return NULL;
}

static unsigned sync_busy(void)
{
	pthread_mutex_lock(&ring_lock);
	unsigned n = sync_pending;
	pthread_mutex_unlock(&ring_lock);
	return n;
}

/* Whether req_ring holds a request (or something to resync on): read
 * without the lock, a hint the caller's take_run checks. */
static int ring_has_work(void)
{
	uint64_t tag;

	return med_req_peek(area, MED_RING_SIZE, &tag) != MED_RING_EMPTY;
}

/* The area's counter frequency in kHz if it is a sane one (1 MHz..10 GHz:
 * poll_us times it cannot overflow, a window's end is never out of reach,
 * and the hypervisor's poll window, counted in microseconds, is at least a
 * tick), else 0 (logged: called once). The area is the hypervisor's word,
 * but one value read once is what the poll windows are measured by. */
static uint64_t counter_khz(void)
{
	uint64_t hz = MED_READ_ONCE(area->counter_hz);

	if (hz >= 1000000 && hz <= 10000000000ULL)
		return hz / 1000;
	LOG("counter frequency %llu Hz out of bounds: no polling\n", (unsigned long long)hz);
	return 0;
}

/* Polls for poll_us: 1 once req_ring holds a request. Every way out ends
 * the poll window, so that the GVMs' notifies go on again while nobody
 * polls; the hypervisor queued requests without a service interrupt until
 * then, so the ring is looked at after that call. */
static int poll_for_work(void)
{
	uint64_t end;
	int found = 0;

	if (!poll_khz)
		return 0;
	end = counter() + (uint64_t)poll_us * poll_khz / 1000;
	while (!found && counter() < end) {
		if (ioctl(dev_fd, SYSHYPER_IOC_POLL, (unsigned long)poll_us))
			break; /* refused: interrupts as without -p */
		found = ring_has_work();
	}
	ioctl(dev_fd, SYSHYPER_IOC_POLL, 0UL);
	return found || ring_has_work();
}

/* ---- the engine: the main thread takes every request and does the
 * asynchronous I/O ---- */

/* Starts run r: a read or write the kernel may do asynchronously goes into
 * batch (*n of them so far), the rest to the sync workers (which also fail
 * what prepare_rw refused). */
static void start_run(struct run *r, struct iocb **batch, unsigned *n)
{
	if (!run_is_rw(&r->req) || prepare_run(r) != MED_S_OK || !can_aio(r)) {
		queue_sync(r);
		return;
	}
	aio_prep_rw(&r->cb, aioq.efd, r->io.b->fd_direct, r->io.iov, r->req.n, (uint64_t)r->io.off,
		    r->io.write, (uint64_t)(r - runs));
	batch[(*n)++] = &r->cb;
}

/* Takes what req_ring holds while a run is free, into taken[]; returns how
 * many runs. *corrupt: the ring is (the caller starts the runs, then
 * resyncs). */
static unsigned take_requests(struct run **taken, int *corrupt)
{
	unsigned n = 0;
	struct run *r;

	*corrupt = 0;
	while ((r = alloc_run())) {
		int res = take_run(area, area_slots, &r->req);
		if (res != MED_RING_OK) {
			pthread_mutex_lock(&ring_lock);
			release_run(r);
			pthread_mutex_unlock(&ring_lock);
			*corrupt = res != MED_RING_EMPTY;
			break;
		}
		stamp_pickup(r);
		taken[n++] = r;
	}
	return n;
}

/* Hands batch[0..n) to the kernel in one call; a run it refuses is done
 * synchronously (and with the kernel lacking AIO, every later one). */
static void submit(struct iocb *const *batch, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		int taken = aio_submit(&aioq, batch + done, n - done);
		if (taken > 0) {
			for (int i = 0; i < taken; i++)
				runs[batch[done + (unsigned)i]->aio_data].in_aio = 1;
			aio_inflight += (unsigned)taken;
			done += (unsigned)taken;
			continue;
		}
		if (taken == -ENOSYS && aio_on) {
			aio_on = 0;
			LOG("no asynchronous I/O in the kernel: synchronous from now on\n");
		}
		queue_sync(&runs[batch[done++]->aio_data]);
	}
}

/* A completed AIO; lock held. Only its full length completes it OK. */
static void complete_aio(const struct io_event *e, uint64_t done)
{
	if (e->data >= RUNS_MAX || !runs[e->data].in_aio)
		return; /* not one of ours: cannot happen */
	struct run *r = &runs[e->data];
	r->in_aio = 0;
	aio_inflight--;
	switch (aio_outcome(e->res, r->io.bytes)) {
	case AIO_REDO_SYNC:
		queue_sync_locked(r);
		return;
	case AIO_FAILED:
		r->status = MED_S_IOERR;
		break;
	case AIO_DONE:
		r->status = MED_S_OK;
		break;
	}
	stamp_done(r, done);
	give_run(r);
	release_run(r);
}

/* Reports the AIOs that completed, with one hypercall. */
static void reap(void)
{
	struct io_event ev[RUNS_MAX];

	if (!aio_inflight)
		return;
	int n = aio_reap(&aioq, ev, RUNS_MAX);
	if (n <= 0)
		return;
	uint64_t done = counter();
	pthread_mutex_lock(&ring_lock);
	for (int i = 0; i < n; i++)
		complete_aio(&ev[i], done);
	announce();
	pthread_mutex_unlock(&ring_lock);
}

/* Waits until none of the daemon's I/O is in flight (the kernel's AIO, the
 * sync workers' runs), reporting each as it completes. The eventfd fires
 * on every AIO completion and when the last sync run is done. */
static void drain(void)
{
	struct pollfd p = {.fd = aioq.efd, .events = POLLIN};

	while (aio_inflight || sync_busy()) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR) {
			LOG("poll: %s\n", strerror(errno));
			usleep(10000);
		}
		aio_clear(&aioq); /* before the reap: a completion after it fires again */
		reap();
	}
}

/* The hypervisor queues again, with new tags, every request still at the
 * MVM, so the daemon first lets all its I/O finish: a run still in flight
 * would otherwise be done twice at once, and once the copy with the new
 * tag completed and the slot went to another request, the old one would
 * write that request's data at its own sector (or read over it). */
static void resync_ring(void)
{
	LOG("request ring corrupt (prod %u cons %u): resync once the I/O in flight is done\n",
	    area->req_prod, area->req_cons);
	drain();
	pthread_mutex_lock(&ring_lock); /* no completion given meanwhile */
	ioctl(dev_fd, SYSHYPER_IOC_RESYNC);
	pthread_mutex_unlock(&ring_lock);
}

/* Waits for the hypervisor's service interrupt (one since the last wait
 * returns at once), a completed AIO or a sync worker's word. With -p it
 * first polls while none of its I/O is in flight (polling then would take
 * the CPU the I/O's completion needs, and each completion looks at the
 * ring anyway). Returns whether the eventfd fired (completions to reap). */
static int wait_for_events(void)
{
	struct pollfd p[2] = {{.fd = dev_fd, .events = POLLIN}, {.fd = aioq.efd, .events = POLLIN}};
	unsigned long long count;

	if (poll_us && !aio_inflight && !sync_busy() && poll_for_work())
		return 0;
	if (poll(p, 2, -1) < 0) {
		if (errno != EINTR) {
			LOG("poll: %s\n", strerror(errno));
			usleep(10000);
		}
		return 0;
	}
	if ((p[0].revents & POLLIN) && read(dev_fd, &count, sizeof(count)) < 0 && errno != EINTR) {
		LOG("read: %s\n", strerror(errno));
		usleep(10000);
	}
	if (!(p[1].revents & POLLIN))
		return 0;
	aio_clear(&aioq); /* before the reap: a completion after it fires again */
	return 1;
}

/* A lone request with nothing else in flight (queue depth 1) is done right
 * here, as a sync worker does it, whichever way it would have gone:
 * submitting it would add an io_submit, a poll() and a reap, handing it to
 * a worker two thread switches, per request. What arrives meanwhile waits
 * for at most this one I/O. */
static void serve_inline(struct run *r)
{
	serve_sync(r);
	pthread_mutex_lock(&ring_lock);
	give_run(r);
	release_run(r);
	announce();
	pthread_mutex_unlock(&ring_lock);
}

/* Starts the runs taken: the kernel's in one io_submit. */
static void start_runs(struct run *const *taken, unsigned n)
{
	struct iocb *batch[RUNS_MAX];
	unsigned nb = 0;

	for (unsigned i = 0; i < n; i++)
		start_run(taken[i], batch, &nb);
	submit(batch, nb);
}

static void engine(void)
{
	struct run *taken[RUNS_MAX];
	int corrupt;

	for (;;) {
		unsigned n = take_requests(taken, &corrupt);
		if (n == 1 && !corrupt && !aio_inflight && !sync_busy())
			serve_inline(taken[0]);
		else
			start_runs(taken, n);
		if (corrupt) { /* the runs just taken are in flight too: resync drains them */
			resync_ring();
			continue;
		}
		if (wait_for_events())
			reap();
	}
}

/* SYSHYPERD_AIO=0 serves every request synchronously (for measurements and
 * for testing that path). */
static int aio_wanted(void)
{
	const char *env = getenv("SYSHYPERD_AIO");

	return !env || strcmp(env, "0");
}

/* The runs' pool, the AIO context (without it every request is served
 * synchronously) and the sync workers. */
static int start_engine(void)
{
	pthread_t t;

	for (unsigned i = 0; i < RUNS_MAX; i++)
		release_run(&runs[i]);
	if (aio_events_open(&aioq)) {
		LOG("eventfd: %s\n", strerror(errno));
		return -1;
	}
	aio_on = aio_wanted() && !aio_context_open(&aioq, RUNS_MAX);
	if (!aio_on && aio_wanted())
		LOG("no asynchronous I/O (%s): every request served synchronously\n",
		    strerror(errno));
	for (int i = 0; i < SYNC_WORKERS; i++)
		if (pthread_create(&t, NULL, sync_worker, NULL)) {
			LOG("cannot start the sync workers\n");
			return -1;
		}
	return 0;
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
	if (poll_us)
		poll_khz = counter_khz();
	if (!poll_khz)
		poll_us = 0; /* as the line below says */
	check_disks(area);
	int fds[MED_MAX_DISKS];
	for (unsigned i = 0; i < MED_MAX_DISKS; i++)
		fds[i] = disks[i].fd;
	place_workers(fds, MED_MAX_DISKS);
	if (start_engine())
		return 1;
	if (ioctl(dev_fd, SYSHYPER_IOC_RESYNC))
		LOG("resync refused: %s\n", strerror(errno));
	LOG("serving %u disk(s): %s I/O, up to %d runs in flight, %d sync workers, polling %u "
	    "us\n",
	    area->ndisks, aio_on ? "asynchronous" : "synchronous", RUNS_MAX, SYNC_WORKERS, poll_us);
	engine();
	return 1;
}
