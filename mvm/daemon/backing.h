/* syshyperd's backing stores: what backs each mediated disk in the MVM
 * (/etc/syshyper/disks.conf: a file or block device, at an offset), checked
 * against the disks the hypervisor announces, and the synchronous I/O on
 * them. Each is opened twice: buffered, and with O_DIRECT where the kernel
 * allows it (block devices, files on file systems that support it), so
 * that the device moves data straight between the shared slots and the
 * disk and the MVM's page cache does not grow with GVM I/O. Where O_DIRECT
 * is refused that disk falls back to buffered I/O (the page cache then
 * holds its data, which FLUSH writes back). */
#ifndef SYSHYPERD_BACKING_H
#define SYSHYPERD_BACKING_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "syshyper/mediated.h"

#define BACKING_IOV_MAX 16 /* iovecs of one backing_io */

struct backing {
	int fd;        /* buffered; -1: not configured or unusable: requests fail */
	int fd_direct; /* O_DIRECT, or -1 */
	int direct_ok; /* atomic: 0 once O_DIRECT I/O was refused */
	unsigned long long offset, size;
	int read_only;
};

extern struct backing disks[MED_MAX_DISKS];

/* Opens the backing stores `path` names ("<disk> <path> [offset <bytes>]
 * [ro]" lines); a "poll <us>" line (the configuration's mediated-poll) sets
 * *poll_us. */
void load_config(const char *path, unsigned *poll_us);

/* Holds each disk of area to its backing store: one missing or too small
 * is closed (its requests fail); the size the guest sees is the size. */
void check_disks(const struct med_area *area);

/* Whether [sector, + len bytes) lies in backing b. */
int in_range(const struct backing *b, uint64_t sector, uint64_t len);

/* Reads or writes iov (cnt <= BACKING_IOV_MAX entries) at off of backing b,
 * all of it: O_DIRECT while the kernel takes it, else buffered. 0, or -1
 * with errno. */
int backing_io(struct backing *b, const struct iovec *iov, int cnt, off_t off, int write);

/* Zeroes len bytes at off of b (discard: punches a hole where it can). */
int zero_range(struct backing *b, off_t off, size_t len, int discard);

#endif
