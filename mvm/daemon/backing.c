/* syshyperd: the backing stores of the mediated disks (backing.h). */
#define _GNU_SOURCE
#include "backing.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG(...) fprintf(stderr, "syshyperd: " __VA_ARGS__)

struct backing disks[MED_MAX_DISKS];

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

void load_config(const char *path, unsigned *poll_us)
{
	char line[512];
	FILE *f = fopen(path, "r");

	for (unsigned i = 0; i < MED_MAX_DISKS; i++)
		disks[i].fd = disks[i].fd_direct = -1;
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
		unsigned us;
		if (sscanf(line, " poll %u", &us) == 1) {
			if (us > MED_POLL_MAX_US)
				LOG("poll %u: at most %u microseconds: not polling\n", us,
				    MED_POLL_MAX_US);
			else
				*poll_us = us;
			continue;
		}
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
		b->fd_direct = open(file, (b->read_only ? O_RDONLY : O_RDWR) | O_DIRECT);
		b->direct_ok = b->fd_direct >= 0;
		unsigned long long total = disk_bytes(b->fd);
		b->size = total > b->offset ? total - b->offset : 0;
		LOG("disk %u: %s offset %llu, %llu MiB%s, %s\n", idx, file, b->offset,
		    b->size >> 20, b->read_only ? ", read-only" : "",
		    b->direct_ok ? "direct I/O" : "buffered I/O");
	}
	fclose(f);
}

void check_disks(const struct med_area *area)
{
	for (unsigned i = 0; i < area->ndisks && i < MED_MAX_DISKS; i++) {
		const struct med_disk *d = &area->disks[i];
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
			if (disks[i].fd_direct >= 0)
				close(disks[i].fd_direct);
			disks[i].fd = disks[i].fd_direct = -1;
		} else {
			disks[i].size = need;
		}
	}
}

/* The whole of iov (cnt entries, advanced in place) at off, in as many
 * calls as it takes; -1 with errno on failure. */
static int full_iov(int fd, struct iovec *iov, int cnt, off_t off, int write)
{
	for (;;) {
		while (cnt > 0 && !iov->iov_len) {
			iov++;
			cnt--;
		}
		if (!cnt)
			return 0;
		ssize_t n = write ? pwritev(fd, iov, cnt, off) : preadv(fd, iov, cnt, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* past the end */
			return -1;
		}
		off += n;
		while (n > 0 && cnt > 0) { /* the kernel moved n <= what iov holds */
			size_t done = (size_t)n < iov->iov_len ? (size_t)n : iov->iov_len;
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= done;
			n -= (ssize_t)done;
			if (!iov->iov_len) {
				iov++;
				cnt--;
			}
		}
	}
}

/* A module that maps the area as PFNs, or a file system without O_DIRECT,
 * refuses O_DIRECT with EINVAL or EFAULT: from then on that disk is
 * buffered. */
int backing_io(struct backing *b, const struct iovec *iov, int cnt, off_t off, int write)
{
	struct iovec v[BACKING_IOV_MAX];

	if (cnt < 1 || cnt > BACKING_IOV_MAX)
		return -1;
	if (__atomic_load_n(&b->direct_ok, __ATOMIC_RELAXED)) {
		memcpy(v, iov, sizeof(*iov) * (size_t)cnt);
		if (!full_iov(b->fd_direct, v, cnt, off, write))
			return 0;
		if (errno != EINVAL && errno != EFAULT)
			return -1;
		if (__atomic_exchange_n(&b->direct_ok, 0, __ATOMIC_RELAXED))
			LOG("direct I/O refused (%s): buffered from now on\n", strerror(errno));
	}
	memcpy(v, iov, sizeof(*iov) * (size_t)cnt);
	return full_iov(b->fd, v, cnt, off, write);
}

int zero_range(struct backing *b, off_t off, size_t len, int discard)
{
	/* never written; not const because writev takes a non-const iovec */
	static unsigned char zeros[65536] __attribute__((aligned(4096)));

	if (discard && !fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len))
		return 0;
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
		struct iovec v = {zeros, n};
		if (backing_io(b, &v, 1, off, 1))
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

int in_range(const struct backing *b, uint64_t sector, uint64_t len)
{
	uint64_t start = sector * MED_SECTOR;

	return sector <= b->size / MED_SECTOR && start <= b->size && len <= b->size - start;
}
