/* The hypervisor's own virtio-blk driver (hv/blk/vblk_drv.c) against a
 * fake device: a register file and the driver's ring page in host memory,
 * the "device" played by the test. One request is in flight at a time, in
 * descriptors 0..n+1, with one header and one status byte: after a request
 * timed out the device still owns them, so the driver must not hand them
 * out again (the device would read a new request's descriptors half-way,
 * and its late completion would answer the new request: a write reported
 * done that never was, read data that never came). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blk/vblk_drv.h"
#include "blk/virtio_blk.h"

void printk(const char *fmt, ...)
{
	(void)fmt;
}

void *palloc(size_t n)
{
	return aligned_alloc(4096, n * 4096);
}

static uint32_t regs[0x200 / 4];
static struct vblk_drv drv;

#define AVAIL(d) ((volatile uint16_t *)((uint8_t *)(d)->ring_mem + 512))
#define USED(d) ((volatile uint16_t *)((uint8_t *)(d)->ring_mem + 1024))
#define STATUS(d) ((volatile uint8_t *)(d)->ring_mem + 2064)

static int setup(void **state)
{
	(void)state;
	memset(regs, 0, sizeof(regs));
	memset(&drv, 0, sizeof(drv));
	drv.regs = regs;
	drv.ring_mem = palloc(1);
	memset(drv.ring_mem, 0, 4096);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(drv.ring_mem);
	return 0;
}

/* The device answers request number `n` (1-based) with `status`. */
static void device_completes(unsigned n, uint8_t status)
{
	*STATUS(&drv) = status;
	USED(&drv)[1] = (uint16_t)n;
}

static void test_request_after_timeout_does_not_reuse_the_ring(void **state)
{
	uint8_t buf[512];
	struct vblk_seg seg = {(paddr_t)(uintptr_t)buf, sizeof(buf)};
	(void)state;
	/* the device never answers: the poll gives up */
	assert_int_equal(vblk_drv_request(&drv, VIRTIO_BLK_T_OUT, 0, &seg, 1, true),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(AVAIL(&drv)[1], 1);
	/* the next request finds the device still holding the first one */
	assert_int_equal(vblk_drv_request(&drv, VIRTIO_BLK_T_OUT, 8, &seg, 1, true),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(AVAIL(&drv)[1], 1); /* nothing new published */
	/* once it has given it back, requests go to the device again */
	device_completes(1, VIRTIO_BLK_S_OK);
	assert_int_equal(vblk_drv_request(&drv, VIRTIO_BLK_T_OUT, 8, &seg, 1, true),
			 VIRTIO_BLK_S_IOERR); /* times out: nobody plays the device now */
	assert_int_equal(AVAIL(&drv)[1], 2);
}

/* vblk_drv_busy says whether the device still holds a timed-out request
 * (its buffers and the disk blocks it writes are not settled): the
 * hypervisor's backend keeps its bounce buffer and the request's VM
 * counted until it is false. */
static void test_busy_until_the_device_answers(void **state)
{
	uint8_t buf[512];
	struct vblk_seg seg = {(paddr_t)(uintptr_t)buf, sizeof(buf)};
	(void)state;
	assert_false(vblk_drv_busy(&drv));
	assert_int_equal(vblk_drv_request(&drv, VIRTIO_BLK_T_IN, 0, &seg, 1, false),
			 VIRTIO_BLK_S_IOERR);
	assert_true(vblk_drv_busy(&drv));
	device_completes(1, VIRTIO_BLK_S_OK);
	assert_false(vblk_drv_busy(&drv));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_after_timeout_does_not_reuse_the_ring,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_until_the_device_answers, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("vblk_drv", tests, NULL, NULL);
}
