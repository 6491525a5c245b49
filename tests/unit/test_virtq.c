/* The virtqueue walker against well-formed and hostile chains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "virtio/virtq.h"

#define MEM_IPA 0x40000000UL
#define MEM_SIZE 0x100000UL
#define QSZ 16
#define DESC_IPA (MEM_IPA + 0x1000)
#define AVAIL_IPA (MEM_IPA + 0x2000)
#define USED_IPA (MEM_IPA + 0x3000)
#define BUF_IPA (MEM_IPA + 0x10000)

static uint8_t *mem_hva;
static struct guest_region region;
static struct guest_mem mem = {&region, 1};
static struct virtq vq;

static struct virtq_desc *desc(unsigned i)
{
	return (struct virtq_desc *)(mem_hva + (DESC_IPA - MEM_IPA)) + i;
}

static uint16_t *avail(void)
{
	return (uint16_t *)(mem_hva + (AVAIL_IPA - MEM_IPA));
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct virtq_desc){addr, len, flags, next};
}

/* Publishes `head` as the next available chain. */
static void offer(uint16_t head)
{
	uint16_t idx = avail()[1];
	avail()[2 + idx % QSZ] = head;
	avail()[1] = idx + 1;
}

static int setup(void **state)
{
	(void)state;
	mem_hva = calloc(1, MEM_SIZE);
	region = (struct guest_region){MEM_IPA, MEM_SIZE, mem_hva};
	memset(&vq, 0, sizeof(vq));
	vq.num = QSZ;
	vq.desc_ipa = DESC_IPA;
	vq.avail_ipa = AVAIL_IPA;
	vq.used_ipa = USED_IPA;
	vq.indirect = true;
	return virtq_enable(&vq, &mem);
}

static int teardown(void **state)
{
	(void)state;
	free(mem_hva);
	return 0;
}

static void test_empty(void **state)
{
	struct virtq_chain c;
	(void)state;
	assert_int_equal(virtq_pop(&vq, &mem, &c), VQ_EMPTY);
}

static void test_blk_like_chain(void **state)
{
	struct virtq_chain c;
	(void)state;
	set_desc(3, BUF_IPA, 16, VIRTQ_DESC_F_NEXT, 7);
	set_desc(7, BUF_IPA + 0x1000, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(1, BUF_IPA + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(3);
	assert_int_equal(virtq_pop(&vq, &mem, &c), VQ_OK);
	assert_int_equal(c.head, 3);
	assert_int_equal(c.nbufs, 3);
	assert_int_equal(c.nreadable, 1);
	assert_int_equal(c.readable_len, 16);
	assert_int_equal(c.writable_len, 4097);
	assert_ptr_equal(c.bufs[1].hva, mem_hva + 0x11000);
	virtq_push(&vq, c.head, 4097);
	uint16_t *used = (uint16_t *)(mem_hva + (USED_IPA - MEM_IPA));
	assert_int_equal(used[1], 1);
	assert_int_equal(((uint32_t *)&used[2])[0], 3);
	assert_int_equal(((uint32_t *)&used[2])[1], 4097);
	assert_true(virtq_needs_interrupt(&vq));
	assert_false(virtq_needs_interrupt(&vq)); /* nothing new since */
}

static void expect_error(uint16_t head, int err)
{
	struct virtq_chain c;
	offer(head);
	assert_int_equal(virtq_pop(&vq, &mem, &c), err);
}

static void test_loop(void **state)
{
	(void)state;
	set_desc(0, BUF_IPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, BUF_IPA, 8, VIRTQ_DESC_F_NEXT, 0);
	expect_error(0, VQ_ERR_LOOP);
}

static void test_self_loop(void **state)
{
	(void)state;
	set_desc(5, BUF_IPA, 8, VIRTQ_DESC_F_NEXT, 5);
	expect_error(5, VQ_ERR_LOOP);
}

static void test_index_out_of_range(void **state)
{
	(void)state;
	expect_error(QSZ, VQ_ERR_INDEX);
}

static void test_next_out_of_range(void **state)
{
	(void)state;
	set_desc(0, BUF_IPA, 8, VIRTQ_DESC_F_NEXT, 999);
	expect_error(0, VQ_ERR_INDEX);
}

static void test_address_outside(void **state)
{
	(void)state;
	set_desc(0, MEM_IPA + MEM_SIZE - 4, 8, 0, 0); /* straddles the end */
	expect_error(0, VQ_ERR_ADDR);
}

static void test_address_other_vm(void **state)
{
	(void)state;
	set_desc(0, 0x80000000UL, 8, 0, 0);
	expect_error(0, VQ_ERR_ADDR);
}

static void test_length_overflow(void **state)
{
	(void)state;
	set_desc(0, ~0UL - 2, 8, 0, 0);
	expect_error(0, VQ_ERR_ADDR);
}

static void test_zero_length(void **state)
{
	(void)state;
	set_desc(0, BUF_IPA, 0, 0, 0);
	expect_error(0, VQ_ERR_LEN);
}

static void test_order(void **state)
{
	(void)state;
	set_desc(0, BUF_IPA, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(1, BUF_IPA, 8, 0, 0);
	expect_error(0, VQ_ERR_ORDER);
}

static void test_avail_jump(void **state)
{
	struct virtq_chain c;
	(void)state;
	avail()[1] = QSZ + 1;
	assert_int_equal(virtq_pop(&vq, &mem, &c), VQ_ERR_AVAIL);
}

static void test_indirect_ok(void **state)
{
	struct virtq_chain c;
	struct virtq_desc *table = (struct virtq_desc *)(mem_hva + 0x8000);
	(void)state;
	table[0] = (struct virtq_desc){BUF_IPA, 16, VIRTQ_DESC_F_NEXT, 1};
	table[1] = (struct virtq_desc){BUF_IPA + 0x100, 512, VIRTQ_DESC_F_WRITE, 0};
	set_desc(2, MEM_IPA + 0x8000, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(2);
	assert_int_equal(virtq_pop(&vq, &mem, &c), VQ_OK);
	assert_int_equal(c.nbufs, 2);
	assert_int_equal(c.writable_len, 512);
}

static void test_indirect_nested(void **state)
{
	struct virtq_desc *table = (struct virtq_desc *)(mem_hva + 0x8000);
	(void)state;
	table[0] = (struct virtq_desc){MEM_IPA + 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0};
	set_desc(2, MEM_IPA + 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(2, VQ_ERR_INDIRECT);
}

static void test_indirect_not_negotiated(void **state)
{
	(void)state;
	vq.indirect = false;
	set_desc(2, MEM_IPA + 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(2, VQ_ERR_INDIRECT);
}

static void test_indirect_bad_len(void **state)
{
	(void)state;
	set_desc(2, MEM_IPA + 0x8000, 24, VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(2, VQ_ERR_INDIRECT);
}

static void test_indirect_loop(void **state)
{
	struct virtq_desc *table = (struct virtq_desc *)(mem_hva + 0x8000);
	(void)state;
	table[0] = (struct virtq_desc){BUF_IPA, 16, VIRTQ_DESC_F_NEXT, 1};
	table[1] = (struct virtq_desc){BUF_IPA, 16, VIRTQ_DESC_F_NEXT, 0};
	set_desc(2, MEM_IPA + 0x8000, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(2, VQ_ERR_LOOP);
}

static void test_too_many_segments(void **state)
{
	struct virtq_desc *table = (struct virtq_desc *)(mem_hva + 0x8000);
	(void)state;
	/* the table itself is capped at VIRTQ_MAX_SEGS entries */
	for (unsigned i = 0; i < VIRTQ_MAX_SEGS + 1; i++)
		table[i] = (struct virtq_desc){BUF_IPA, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1)};
	set_desc(2, MEM_IPA + 0x8000, (VIRTQ_MAX_SEGS + 1) * 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_error(2, VQ_ERR_INDIRECT);
}

/* A long chain (virtq_pop_long, virtio-blk's 1 MiB requests): an indirect
 * table of VIRTQ_LONG_SEGS entries is taken whole, buffers in order; one
 * entry more is refused, and the ordinary walker refuses it as before. */
static void test_long_chain(void **state)
{
	struct virtq_desc *table = (struct virtq_desc *)(mem_hva + 0x8000);
	static struct virtq_long_chain lc;
	static struct virtq_chain c;
	(void)state;
	for (unsigned i = 0; i < VIRTQ_LONG_SEGS + 1; i++)
		table[i] = (struct virtq_desc){BUF_IPA + i, 16 + i, VIRTQ_DESC_F_NEXT,
					       (uint16_t)(i + 1)};
	table[VIRTQ_LONG_SEGS - 1].flags = 0;
	set_desc(2, MEM_IPA + 0x8000, VIRTQ_LONG_SEGS * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(2);
	assert_int_equal(virtq_pop(&vq, &mem, &c), VQ_ERR_INDIRECT);
	assert_int_equal(virtq_pop_long(&vq, &mem, &lc), VQ_OK);
	assert_int_equal(lc.head, 2);
	assert_int_equal(lc.nbufs, VIRTQ_LONG_SEGS);
	assert_int_equal(lc.nreadable, VIRTQ_LONG_SEGS);
	assert_ptr_equal(lc.bufs[VIRTQ_LONG_SEGS - 1].hva,
			 mem_hva + (BUF_IPA - MEM_IPA) + VIRTQ_LONG_SEGS - 1);
	assert_int_equal(lc.bufs[VIRTQ_LONG_SEGS - 1].len, 16 + VIRTQ_LONG_SEGS - 1);
	/* one more: the table is too long */
	table[VIRTQ_LONG_SEGS - 1].flags = VIRTQ_DESC_F_NEXT;
	set_desc(3, MEM_IPA + 0x8000, (VIRTQ_LONG_SEGS + 1) * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(3);
	assert_int_equal(virtq_pop_long(&vq, &mem, &lc), VQ_ERR_INDIRECT);
}

static void test_ring_outside(void **state)
{
	struct virtq q = vq;
	(void)state;
	q.used_ipa = MEM_IPA + MEM_SIZE - 8;
	assert_int_equal(virtq_enable(&q, &mem), VQ_ERR_RING);
	q = vq;
	q.num = 3; /* not a power of two */
	assert_int_equal(virtq_enable(&q, &mem), VQ_ERR_RING);
	q = vq;
	q.desc_ipa += 8; /* misaligned */
	assert_int_equal(virtq_enable(&q, &mem), VQ_ERR_RING);
}

static void test_event_idx_suppression(void **state)
{
	struct virtq_chain c;
	(void)state;
	vq.event_idx = true;
	set_desc(0, BUF_IPA, 8, VIRTQ_DESC_F_WRITE, 0);
	avail()[2 + QSZ] = 5; /* used_event: interrupt once used idx passes 5 */
	for (int i = 0; i < 3; i++) {
		offer(0);
		assert_int_equal(virtq_pop(&vq, &mem, &c), VQ_OK);
		virtq_push(&vq, 0, 8);
		assert_false(virtq_needs_interrupt(&vq));
	}
	for (int i = 0; i < 3; i++) {
		offer(0);
		assert_int_equal(virtq_pop(&vq, &mem, &c), VQ_OK);
		virtq_push(&vq, 0, 8);
	}
	assert_true(virtq_needs_interrupt(&vq)); /* used idx went 3 -> 6 past 5 */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty),
		T(test_blk_like_chain),
		T(test_loop),
		T(test_self_loop),
		T(test_index_out_of_range),
		T(test_next_out_of_range),
		T(test_address_outside),
		T(test_address_other_vm),
		T(test_length_overflow),
		T(test_zero_length),
		T(test_order),
		T(test_avail_jump),
		T(test_indirect_ok),
		T(test_indirect_nested),
		T(test_indirect_not_negotiated),
		T(test_indirect_bad_len),
		T(test_indirect_loop),
		T(test_too_many_segments),
		T(test_long_chain),
		T(test_ring_outside),
		T(test_event_idx_suppression),
	};
	return cmocka_run_group_tests_name("virtq", tests, NULL, NULL);
}
