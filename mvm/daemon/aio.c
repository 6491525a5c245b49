/* syshyperd: Linux native AIO through raw system calls (aio.h). */
#define _GNU_SOURCE
#include "aio.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

int aio_events_open(struct aio_queue *q)
{
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return q->efd < 0 ? -1 : 0;
}

int aio_context_open(struct aio_queue *q, unsigned depth)
{
	q->ctx = 0; /* io_setup insists */
	return syscall(SYS_io_setup, depth, &q->ctx) ? -1 : 0;
}

void aio_prep_rw(struct iocb *cb, int efd, int fd, const struct iovec *iov, unsigned cnt,
		 uint64_t off, int write, uint64_t data)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_data = data;
	cb->aio_lio_opcode = write ? IOCB_CMD_PWRITEV : IOCB_CMD_PREADV;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = (uint64_t)(uintptr_t)iov;
	cb->aio_nbytes = cnt; /* the vectored commands: the number of iovecs */
	cb->aio_offset = (int64_t)off;
	cb->aio_flags = IOCB_FLAG_RESFD;
	cb->aio_resfd = (uint32_t)efd;
}

int aio_submit(const struct aio_queue *q, struct iocb *const *cbs, unsigned n)
{
	long taken = syscall(SYS_io_submit, q->ctx, (long)n, cbs);

	if (taken < 0)
		return -errno;
	return (int)taken;
}

int aio_reap(const struct aio_queue *q, struct io_event *ev, unsigned max)
{
	struct timespec now = {0, 0};
	long n;

	do
		n = syscall(SYS_io_getevents, q->ctx, 0L, (long)max, ev, &now);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

void aio_clear(const struct aio_queue *q)
{
	uint64_t count;
	ssize_t n = read(q->efd, &count, sizeof(count));

	(void)n; /* EAGAIN: it was 0 already */
}

void aio_wake(const struct aio_queue *q)
{
	uint64_t one = 1;
	ssize_t n = write(q->efd, &one, sizeof(one));

	(void)n; /* EAGAIN: the count is at its maximum, poll returns anyway */
}

enum aio_outcome aio_outcome(int64_t res, uint64_t want)
{
	if (res >= 0)
		return (uint64_t)res == want ? AIO_DONE : AIO_REDO_SYNC;
	if (res == -EINVAL || res == -EFAULT || res == -EAGAIN || res == -EINTR)
		return AIO_REDO_SYNC;
	return AIO_FAILED;
}
