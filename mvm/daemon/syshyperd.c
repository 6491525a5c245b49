/* syshyperd: the MVM's block backend for mediated GVM disks.
 *
 * Maps the mediated area through /dev/syshyper, checks its disks against
 * /etc/syshyper/disks.conf (which file or block device, at which offset,
 * backs each disk), then serves requests: worker threads take slots from
 * req_ring, do the I/O with pread/pwrite/fdatasync/fallocate, and return
 * their tags with a status on cmp_ring in whatever order they finish (a
 * tag's generation lets the hypervisor ignore a stale completion, e.g. one
 * from before a resync); one completion hypercall
 * per batch. A write is completed only after pwrite() succeeded, so what a
 * guest was told is written is in the MVM's page cache of the backing
 * store (and on it after the guest's flush). On start it asks the
 * hypervisor to queue again every request still in flight, so a killed and
 * restarted daemon loses nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syshyper/ioctl.h"
#include "syshyper/med_ring.h"
#include "syshyper/mediated.h"

#define WORKERS 4
#define LOG(...) fprintf(stderr, "syshyperd: " __VA_ARGS__)

struct backing {
	int fd; /* -1: not configured or unusable: requests fail */
	unsigned long long offset, size;
	int read_only;
};

static struct med_area *area;
static int dev_fd;
static struct backing disks[MED_MAX_DISKS];
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cond = PTHREAD_COND_INITIALIZER;
static unsigned busy_workers;

static unsigned long long disk_bytes(int fd)
{
	struct stat st;
	unsigned long long size = 0;

	if (fstat(fd, &st))
		return 0;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);
		return end < 0 ? 0 : (unsigned long long)end;
	}
	size = (unsigned long long)st.st_size;
	return size;
}

/* "<disk> <path> [offset <bytes>] [ro]" lines. */
static void load_config(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	for (unsigned i = 0; i < MED_MAX_DISKS; i++)
		disks[i].fd = -1;
	if (!f) {
		LOG("cannot read %s: %s\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char file[256], opt[32];
		unsigned idx;
		int n, pos = 0;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		if (sscanf(line, "%u %255s%n", &idx, file, &pos) != 2)
			continue;
		if (idx >= MED_MAX_DISKS) {
			LOG("disk %u: index out of range\n", idx);
			continue;
		}
		struct backing *b = &disks[idx];
		b->offset = 0;
		b->read_only = 0;
		while (sscanf(line + pos, "%31s%n", opt, &n) == 1) {
			pos += n;
			if (!strcmp(opt, "offset") &&
			    sscanf(line + pos, "%llu%n", &b->offset, &n) == 1)
				pos += n;
			else if (!strcmp(opt, "ro"))
				b->read_only = 1;
		}
		b->fd = open(file, b->read_only ? O_RDONLY : O_RDWR);
		if (b->fd < 0) {
			LOG("disk %u: cannot open %s: %s\n", idx, file, strerror(errno));
			continue;
		}
		unsigned long long total = disk_bytes(b->fd);
		b->size = total > b->offset ? total - b->offset : 0;
		LOG("disk %u: %s offset %llu, %llu MiB%s\n", idx, file, b->offset, b->size >> 20,
		    b->read_only ? ", read-only" : "");
	}
	fclose(f);
}

static void check_disks(void)
{
	for (unsigned i = 0; i < area->ndisks && i < MED_MAX_DISKS; i++) {
		struct med_disk *d = &area->disks[i];
		if (!d->valid)
			continue;
		unsigned long long need = d->sectors * MED_SECTOR;
		if (disks[i].fd < 0) {
			LOG("disk %u (%.16s): no backing store configured: its requests fail\n", i,
			    d->name);
		} else if (disks[i].size < need) {
			LOG("disk %u (%.16s): backing store has %llu bytes, the guest sees %llu: "
			    "requests fail\n",
			    i, d->name, disks[i].size, need);
			close(disks[i].fd);
			disks[i].fd = -1;
		} else {
			disks[i].size = need;
		}
	}
}

static int full_io(int fd, unsigned char *buf, size_t len, off_t off, int write)
{
	while (len) {
		ssize_t n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int zero_range(struct backing *b, off_t off, size_t len, int discard)
{
	static const unsigned char zeros[65536];

	if (discard && !fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len))
		return 0;
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
		if (full_io(b->fd, (unsigned char *)zeros, n, off, 1))
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

/* One request. The slot's fields are the hypervisor's; data is the slot's
 * MED_SLOT_DATA bytes. */
static int serve(const struct med_slot *s, unsigned char *data)
{
	if (s->disk >= MED_MAX_DISKS || disks[s->disk].fd < 0)
		return MED_S_IOERR;
	struct backing *b = &disks[s->disk];
	unsigned long long start = s->sector * MED_SECTOR;
	int writes = s->type == MED_REQ_WRITE || s->type == MED_REQ_DISCARD ||
		     s->type == MED_REQ_WRITE_ZEROES;

	if (writes && b->read_only)
		return MED_S_IOERR;
	if ((s->type == MED_REQ_READ || s->type == MED_REQ_WRITE) && s->len > MED_SLOT_DATA)
		return MED_S_IOERR;
	if (s->type != MED_REQ_FLUSH && s->type != MED_REQ_GET_ID &&
	    (s->sector > b->size / MED_SECTOR || start > b->size || s->len > b->size - start))
		return MED_S_IOERR;
	off_t off = (off_t)(b->offset + start);
	switch (s->type) {
	case MED_REQ_READ:
		return full_io(b->fd, data, s->len, off, 0) ? MED_S_IOERR : MED_S_OK;
	case MED_REQ_WRITE:
		return full_io(b->fd, data, s->len, off, 1) ? MED_S_IOERR : MED_S_OK;
	case MED_REQ_FLUSH:
		return fdatasync(b->fd) ? MED_S_IOERR : MED_S_OK;
	case MED_REQ_DISCARD:
	case MED_REQ_WRITE_ZEROES:
		return zero_range(b, off, s->len, s->type == MED_REQ_DISCARD) ? MED_S_IOERR
									      : MED_S_OK;
	default:
		return MED_S_UNSUPP;
	}
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

/* Workers take tags from req_ring and give back {tag, status}: the tag
 * tells the hypervisor which use of the slot this completion is for. */
static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&ring_lock);
	for (;;) {
		uint64_t tag;
		int r = med_req_take(area, area->nslots, &tag);
		if (r == MED_RING_EMPTY) {
			pthread_cond_wait(&work_cond, &ring_lock);
			continue;
		}
		if (r != MED_RING_OK) {
			LOG("request ring corrupt (prod %u cons %u): resync\n", area->req_prod,
			    area->req_cons);
			ioctl(dev_fd, SYSHYPER_IOC_RESYNC);
			continue;
		}
		busy_workers++;
		pthread_mutex_unlock(&ring_lock);
		struct med_cmp times = {.t_pickup = counter()};
		uint32_t slot = MED_TAG_SLOT(tag);
		struct med_slot s = area->slots[slot];
		times.t_irq = announced_at(s.t_queued, times.t_pickup);
		int status = serve(&s, MED_SLOT_DATA_PTR(area, slot));
		times.t_done = counter();
		pthread_mutex_lock(&ring_lock);
		busy_workers--;
		if (med_cmp_give_timed(area, area->nslots, tag, status, &times) != MED_RING_OK)
			LOG("completion ring full: slot %u waits for a resync\n", slot);
		/* the last worker of a batch tells the hypervisor once */
		if (busy_workers == 0 && area->req_prod == area->req_cons)
			ioctl(dev_fd, SYSHYPER_IOC_COMPLETE);
	}
	return NULL;
}

static int wait_for_area(void)
{
	for (int i = 0; i < 1000 && area->magic != MED_MAGIC; i++)
		usleep(10000);
	if (area->magic != MED_MAGIC || area->version != MED_VERSION || area->nslots == 0 ||
	    area->nslots > MED_MAX_SLOTS || area->slot_data_size != MED_SLOT_DATA ||
	    area->data_offset != MED_HDR_SIZE) {
		LOG("the mediated area is not initialised by the hypervisor (version %u, this "
		    "daemon speaks %u)\n",
		    area->version, MED_VERSION);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf = argc > 1 ? argv[1] : "/etc/syshyper/disks.conf";
	pthread_t t;

	signal(SIGPIPE, SIG_IGN);
	dev_fd = open("/dev/syshyper", O_RDWR);
	if (dev_fd < 0) {
		LOG("cannot open /dev/syshyper: %s (is syshyper.ko loaded?)\n", strerror(errno));
		return 1;
	}
	area = mmap(NULL, MED_AREA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd, 0);
	if (area == MAP_FAILED) {
		LOG("cannot map the mediated area: %s\n", strerror(errno));
		return 1;
	}
	if (wait_for_area())
		return 1;
	load_config(conf);
	check_disks();
	if (ioctl(dev_fd, SYSHYPER_IOC_RESYNC))
		LOG("resync refused: %s\n", strerror(errno));
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&t, NULL, worker, NULL);
	LOG("serving %u disk(s) with %d workers\n", area->ndisks, WORKERS);
	for (;;) {
		unsigned long long count;
		if (read(dev_fd, &count, sizeof(count)) < 0 && errno != EINTR) {
			LOG("read: %s\n", strerror(errno));
			return 1;
		}
		pthread_mutex_lock(&ring_lock);
		pthread_cond_broadcast(&work_cond);
		pthread_mutex_unlock(&ring_lock);
	}
}
