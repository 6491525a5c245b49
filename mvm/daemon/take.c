/* syshyperd: which requests a run holds, and whether their slots and
 * sectors are valid (take.h). */
#include "take.h"

#include <stddef.h> /* before med_ring.h, which uses NULL */

#include "syshyper/med_ring.h"

int take_run(struct med_area *a, uint32_t slots, struct run_reqs *r)
{
	uint32_t n = MED_RING_SIZE;
	uint64_t tag, bytes;
	int res = med_req_take(a, n, &tag);

	if (res != MED_RING_OK)
		return res;
	if (MED_TAG_SLOT(tag) >= slots) /* the ring's bound is not the area's */
		return MED_RING_CORRUPT;
	r->n = 1;
	r->tag[0] = tag;
	r->slot[0] = a->slots[MED_TAG_SLOT(tag)];
	bytes = r->slot[0].len;
	if (r->slot[0].len > MED_SLOT_DATA || r->slot[0].len % MED_SECTOR)
		return MED_RING_OK; /* served alone (and refused there) */
	while (r->n < RUN_MAX && med_req_peek(a, n, &tag) == MED_RING_OK &&
	       MED_TAG_SLOT(tag) < slots) {
		struct med_slot next = a->slots[MED_TAG_SLOT(tag)];
		if (!med_can_merge(&r->slot[0], bytes, &next, RUN_MAX_BYTES))
			break;
		a->req_cons++; /* taken: it was the entry med_req_peek read */
		r->tag[r->n] = tag;
		r->slot[r->n++] = next;
		bytes += next.len;
	}
	return MED_RING_OK;
}

int run_is_rw(const struct run_reqs *r)
{
	return r->slot[0].type == MED_REQ_READ || r->slot[0].type == MED_REQ_WRITE;
}

/* The backing of disk d in table, or NULL where none serves it (no such
 * disk, none configured, or closed as too small: check_disks). */
static struct backing *backing_of(struct backing *table, uint32_t d)
{
	return d < MED_MAX_DISKS && table[d].fd >= 0 ? &table[d] : NULL;
}

/* Where sector starts in b, once in_range accepted it (so neither the
 * product nor the sum wraps: both stay within the backing's end). */
static off_t sector_offset(const struct backing *b, uint64_t sector)
{
	return (off_t)(b->offset + sector * MED_SECTOR);
}

int prepare_rw(struct med_area *a, struct backing *table, const struct run_reqs *r,
	       struct run_io *io)
{
	const struct med_slot *first = &r->slot[0];
	struct backing *b = backing_of(table, first->disk);

	io->bytes = 0;
	if (!b)
		return MED_S_IOERR;
	io->write = first->type == MED_REQ_WRITE;
	if (io->write && b->read_only)
		return MED_S_IOERR;
	for (unsigned i = 0; i < r->n; i++) {
		/* whole sectors only: the hypervisor sends nothing else, and
		 * O_DIRECT would refuse it and leave the disk buffered for good */
		if (r->slot[i].len > MED_SLOT_DATA || r->slot[i].len % MED_SECTOR)
			return MED_S_IOERR;
		io->iov[i].iov_base = MED_SLOT_DATA_PTR(a, MED_TAG_SLOT(r->tag[i]));
		io->iov[i].iov_len = r->slot[i].len;
		io->bytes += r->slot[i].len;
	}
	if (!in_range(b, first->sector, io->bytes))
		return MED_S_IOERR;
	io->b = b;
	io->off = sector_offset(b, first->sector);
	return MED_S_OK;
}

int check_other(struct backing *table, const struct med_slot *s, struct backing **b, off_t *off)
{
	int writes = s->type == MED_REQ_DISCARD || s->type == MED_REQ_WRITE_ZEROES;
	int has_sectors = s->type != MED_REQ_FLUSH && s->type != MED_REQ_GET_ID;

	*b = backing_of(table, s->disk);
	*off = 0;
	if (!*b)
		return MED_S_IOERR;
	if (writes && (*b)->read_only)
		return MED_S_IOERR;
	if (has_sectors) {
		if (!in_range(*b, s->sector, s->len))
			return MED_S_IOERR;
		*off = sector_offset(*b, s->sector);
	}
	return MED_S_OK;
}
