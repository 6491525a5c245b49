/* syshyperd's asynchronous I/O: Linux native AIO (io_setup, io_submit,
 * io_getevents) through raw system calls, no library. Each I/O names an
 * eventfd (IOCB_FLAG_RESFD) that the kernel counts up when it completes, so
 * one poll() waits for the hypervisor's service interrupt and for
 * completions alike.
 *
 * The kernel does reads and writes on an O_DIRECT file descriptor of a
 * block device (or of a file system that supports it) asynchronously: the
 * caller keeps many in flight from one thread, and io_submit hands a batch
 * of them to the block layer in one call. Anything the kernel refuses or
 * does only in part is the caller's to do again synchronously
 * (aio_outcome). */
#ifndef SYSHYPERD_AIO_H
#define SYSHYPERD_AIO_H

#include <linux/aio_abi.h>
#include <stdint.h>
#include <sys/uio.h>

struct aio_queue {
	aio_context_t ctx;
	int efd; /* eventfd, non-blocking: readable once an I/O completed */
};

/* The eventfd (q->efd, non-blocking): 0, or -1 with errno. */
int aio_events_open(struct aio_queue *q);

/* A context for `depth` I/Os in flight: 0, or -1 with errno (no AIO in the
 * kernel: ENOSYS; too many contexts system-wide: EAGAIN). */
int aio_context_open(struct aio_queue *q, unsigned depth);

/* Fills *cb for a vectored read or write of iov[0..cnt) at off of fd,
 * announced on efd; data comes back in the completion's io_event.data. The
 * iovecs are read when the I/O is submitted. */
void aio_prep_rw(struct iocb *cb, int efd, int fd, const struct iovec *iov, unsigned cnt,
		 uint64_t off, int write, uint64_t data);

/* Submits cbs[0..n): how many the kernel took (the first ones), or -errno
 * when it took none (cbs[0] refused: EINVAL, EBADF; EAGAIN: no room). */
int aio_submit(const struct aio_queue *q, struct iocb *const *cbs, unsigned n);

/* Up to max completed I/Os into ev, without waiting: their number, or
 * -errno. */
int aio_reap(const struct aio_queue *q, struct io_event *ev, unsigned max);

/* Resets the eventfd's count: completions after this call make it readable
 * again (reap after it, not before). */
void aio_clear(const struct aio_queue *q);

/* Makes poll() on the eventfd return (another thread's word to the one
 * that waits). */
void aio_wake(const struct aio_queue *q);

enum aio_outcome {
	AIO_DONE,      /* the whole I/O was done */
	AIO_FAILED,    /* the device failed it */
	AIO_REDO_SYNC, /* refused or done in part: do it again synchronously */
};

/* What an I/O of `want` bytes that completed with result res (bytes, or
 * -errno) means. Only the full length counts as done: a short result is
 * never reported as success. EINVAL and EFAULT (O_DIRECT refused: the
 * synchronous path then falls back to buffered I/O), EAGAIN and EINTR are
 * done again. */
enum aio_outcome aio_outcome(int64_t res, uint64_t want);

#endif
