/* syshyperd's AIO layer (mvm/daemon/aio.c) against the host's kernel: what
 * a completion's result means (never OK for part of the data), vectored
 * writes and reads through io_submit/io_getevents on a temporary file
 * (O_DIRECT where its file system allows it), a batch the kernel takes in
 * part, and the eventfd that announces completions and wake-ups. Skipped
 * where the kernel has no AIO. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../mvm/daemon/aio.h"

#define BLK 4096

static struct aio_queue q;
static int fd = -1;
static char path[] = "/tmp/test_daemon_aio.XXXXXX";

static int setup(void **state)
{
	(void)state;
	if (aio_events_open(&q))
		return -1;
	if (aio_context_open(&q, 8)) {
		q.ctx = 0; /* the tests that need it skip */
		return 0;
	}
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags | O_DIRECT); /* refused on some file systems */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (fd >= 0)
		close(fd);
	close(q.efd);
	return 0;
}

static int readable(int efd, int ms)
{
	struct pollfd p = {.fd = efd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Reaps until n completions came (each waited for on the eventfd). */
static int reap_all(struct io_event *ev, int n)
{
	int got = 0;

	while (got < n) {
		if (!readable(q.efd, 5000))
			return got;
		aio_clear(&q);
		int r = aio_reap(&q, ev + got, (unsigned)(n - got));
		if (r < 0)
			return r;
		got += r;
	}
	return got;
}

static void *block(unsigned blocks, int fill)
{
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, BLK, (size_t)blocks * BLK), 0);
	memset(p, fill, (size_t)blocks * BLK);
	return p;
}

static void test_outcome(void **state)
{
	(void)state;
	assert_int_equal(aio_outcome(65536, 65536), AIO_DONE);
	assert_int_equal(aio_outcome(0, 0), AIO_DONE);
	/* part of the data is never success */
	assert_int_equal(aio_outcome(0, 4096), AIO_REDO_SYNC);
	assert_int_equal(aio_outcome(4095, 4096), AIO_REDO_SYNC);
	assert_int_equal(aio_outcome(8192, 4096), AIO_REDO_SYNC);
	/* O_DIRECT refused, no room, interrupted: done again synchronously */
	assert_int_equal(aio_outcome(-EINVAL, 4096), AIO_REDO_SYNC);
	assert_int_equal(aio_outcome(-EFAULT, 4096), AIO_REDO_SYNC);
	assert_int_equal(aio_outcome(-EAGAIN, 4096), AIO_REDO_SYNC);
	assert_int_equal(aio_outcome(-EINTR, 4096), AIO_REDO_SYNC);
	/* the device's errors fail the request */
	assert_int_equal(aio_outcome(-EIO, 4096), AIO_FAILED);
	assert_int_equal(aio_outcome(-ENOSPC, 4096), AIO_FAILED);
	assert_int_equal(aio_outcome(INT64_MIN, 4096), AIO_FAILED);
}

static void test_wake_and_clear(void **state)
{
	(void)state;
	aio_clear(&q);
	assert_false(readable(q.efd, 0));
	aio_wake(&q);
	aio_wake(&q);
	assert_true(readable(q.efd, 0));
	aio_clear(&q);
	assert_false(readable(q.efd, 0));
	aio_clear(&q); /* nothing to clear: no harm */
	assert_false(readable(q.efd, 0));
}

/* Two iovecs written at an offset, read back into two others. */
static void test_vectored_write_then_read(void **state)
{
	(void)state;
	if (!q.ctx)
		skip();
	char *a = block(1, 0x5a), *b = block(2, 0xa5), *c = block(1, 0), *d = block(2, 0);
	struct iovec w[2] = {{a, BLK}, {b, 2 * BLK}}, r[2] = {{c, BLK}, {d, 2 * BLK}};
	struct iocb cb;
	struct iocb *cbs[1] = {&cb};
	struct io_event ev[1];

	aio_prep_rw(&cb, q.efd, fd, w, 2, BLK, 1, 7);
	assert_int_equal(aio_submit(&q, cbs, 1), 1);
	assert_int_equal(reap_all(ev, 1), 1);
	assert_int_equal(ev[0].data, 7);
	assert_int_equal(aio_outcome(ev[0].res, 3 * BLK), AIO_DONE);

	aio_prep_rw(&cb, q.efd, fd, r, 2, BLK, 0, 9);
	assert_int_equal(aio_submit(&q, cbs, 1), 1);
	assert_int_equal(reap_all(ev, 1), 1);
	assert_int_equal(ev[0].data, 9);
	assert_int_equal(ev[0].res, 3 * BLK);
	assert_memory_equal(a, c, BLK);
	assert_memory_equal(b, d, 2 * BLK);
	/* reaped: nothing more, and the eventfd quiet */
	assert_int_equal(aio_reap(&q, ev, 1), 0);
	assert_false(readable(q.efd, 0));
	free(a);
	free(b);
	free(c);
	free(d);
}

/* A batch of reads past the end of the file: each completes, short (0
 * bytes), which is not success. */
static void test_batch_short_reads(void **state)
{
	(void)state;
	if (!q.ctx)
		skip();
	char *buf = block(4, 0);
	struct iovec v[4];
	struct iocb cb[4];
	struct iocb *cbs[4];
	struct io_event ev[4];
	unsigned seen = 0;

	for (unsigned i = 0; i < 4; i++) {
		v[i] = (struct iovec){buf + i * BLK, BLK};
		aio_prep_rw(&cb[i], q.efd, fd, &v[i], 1, (64u + i) * BLK, 0, 100 + i);
		cbs[i] = &cb[i];
	}
	assert_int_equal(aio_submit(&q, cbs, 4), 4);
	assert_int_equal(reap_all(ev, 4), 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_in_range(ev[i].data, 100, 103);
		seen |= 1u << (ev[i].data - 100);
		assert_int_equal(aio_outcome(ev[i].res, BLK), AIO_REDO_SYNC);
	}
	assert_int_equal(seen, 0xf);
	free(buf);
}

/* The kernel takes a batch up to the first iocb it refuses; one refused
 * first is an error and nothing is taken. */
static void test_submit_refused(void **state)
{
	(void)state;
	if (!q.ctx)
		skip();
	char *buf = block(1, 0x11);
	struct iovec v = {buf, BLK};
	struct iocb good, bad;
	struct iocb *both[2] = {&good, &bad}, *bad_first[2] = {&bad, &good};
	struct io_event ev[2];

	aio_prep_rw(&good, q.efd, fd, &v, 1, 0, 1, 1);
	aio_prep_rw(&bad, q.efd, -1, &v, 1, 0, 1, 2);
	assert_int_equal(aio_submit(&q, bad_first, 2), -EBADF);
	assert_int_equal(aio_submit(&q, both, 2), 1);
	assert_int_equal(reap_all(ev, 1), 1);
	assert_int_equal(ev[0].data, 1);
	assert_int_equal(ev[0].res, BLK);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome),
		cmocka_unit_test(test_wake_and_clear),
		cmocka_unit_test(test_vectored_write_then_read),
		cmocka_unit_test(test_batch_short_reads),
		cmocka_unit_test(test_submit_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
