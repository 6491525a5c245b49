/* A64 load/store decoding for MMIO without a syndrome: every integer
 * single-register form (unsigned offset, pre/post-index, unscaled,
 * unprivileged, register offset) of every size and signedness, the pairs
 * (LDP/STP/LDPSW/LDNP/STNP), what the decoder must refuse, the address and
 * write-back arithmetic, and the MMIO plan checked against the fault.
 * Encodings: GNU as for aarch64 (objdump -d), comment = source line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "arch/arm64/insn_decode.h"

struct want {
	uint32_t insn;
	const char *text;
	uint8_t size, count;
	bool load, sext, reg64;
	uint8_t rt, rt2, rn;
	int64_t imm;
	bool wback, post, regoff;
	uint8_t rm, extend, shift;
};

#define LD true
#define ST false
/* {insn, text, size, count, load, sext, reg64, rt, rt2, rn, imm, wback, post, regoff, rm, ext, sh}
 */
static const struct want good[] = {
	/* unsigned offset */
	{0xb9000441, "str w1, [x2, #4]", 4, 1, ST, 0, 0, 1, 0, 2, 4},
	{0xf93ffc41, "str x1, [x2, #32760]", 8, 1, ST, 0, 1, 1, 0, 2, 32760},
	{0x393ffc83, "strb w3, [x4, #4095]", 1, 1, ST, 0, 0, 3, 0, 4, 4095},
	{0x793ffcc5, "strh w5, [x6, #8190]", 2, 1, ST, 0, 0, 5, 0, 6, 8190},
	{0xb9400041, "ldr w1, [x2]", 4, 1, LD, 0, 0, 1, 0, 2, 0},
	{0xf94007fe, "ldr x30, [sp, #8]", 8, 1, LD, 0, 1, 30, 0, 31, 8},
	{0x39400507, "ldrb w7, [x8, #1]", 1, 1, LD, 0, 0, 7, 0, 8, 1},
	{0x79400549, "ldrh w9, [x10, #2]", 2, 1, LD, 0, 0, 9, 0, 10, 2},
	{0x3980018b, "ldrsb x11, [x12]", 1, 1, LD, 1, 1, 11, 0, 12, 0},
	{0x39c0018b, "ldrsb w11, [x12]", 1, 1, LD, 1, 0, 11, 0, 12, 0},
	{0x798005cd, "ldrsh x13, [x14, #2]", 2, 1, LD, 1, 1, 13, 0, 14, 2},
	{0x79c001cd, "ldrsh w13, [x14]", 2, 1, LD, 1, 0, 13, 0, 14, 0},
	{0xb980060f, "ldrsw x15, [x16, #4]", 4, 1, LD, 1, 1, 15, 0, 16, 4},
	/* pre/post-index */
	{0xb8004c41, "str w1, [x2, #4]!", 4, 1, ST, 0, 0, 1, 0, 2, 4, 1, 0},
	{0xf81f8441, "str x1, [x2], #-8", 8, 1, ST, 0, 1, 1, 0, 2, -8, 1, 1},
	{0xb8500c83, "ldr w3, [x4, #-256]!", 4, 1, LD, 0, 0, 3, 0, 4, -256, 1, 0},
	{0xf84ff483, "ldr x3, [x4], #255", 8, 1, LD, 0, 1, 3, 0, 4, 255, 1, 1},
	{0x384014c5, "ldrb w5, [x6], #1", 1, 1, LD, 0, 0, 5, 0, 6, 1, 1, 1},
	{0x38dffcc5, "ldrsb w5, [x6, #-1]!", 1, 1, LD, 1, 0, 5, 0, 6, -1, 1, 0},
	{0x78802507, "ldrsh x7, [x8], #2", 2, 1, LD, 1, 1, 7, 0, 8, 2, 1, 1},
	{0xb8804d49, "ldrsw x9, [x10, #4]!", 4, 1, LD, 1, 1, 9, 0, 10, 4, 1, 0},
	{0x7800257f, "strh wzr, [x11], #2", 2, 1, ST, 0, 0, 31, 0, 11, 2, 1, 1},
	{0xf85f0fe0, "ldr x0, [sp, #-16]!", 8, 1, LD, 0, 1, 0, 0, 31, -16, 1, 0},
	{0xf80107e0, "str x0, [sp], #16", 8, 1, ST, 0, 1, 0, 0, 31, 16, 1, 1},
	/* unscaled and unprivileged: no write-back */
	{0xb85fd041, "ldur w1, [x2, #-3]", 4, 1, LD, 0, 0, 1, 0, 2, -3},
	{0x380ff041, "sturb w1, [x2, #255]", 1, 1, ST, 0, 0, 1, 0, 2, 255},
	{0xf8408841, "ldtr x1, [x2, #8]", 8, 1, LD, 0, 1, 1, 0, 2, 8},
	{0x78dfe841, "ldtrsh w1, [x2, #-2]", 2, 1, LD, 1, 0, 1, 0, 2, -2},
	/* register offset */
	{0xb8636841, "ldr w1, [x2, x3]", 4, 1, LD, 0, 0, 1, 0, 2, 0, 0, 0, 1, 3, 3, 0},
	{0xf8637841, "ldr x1, [x2, x3, lsl #3]", 8, 1, LD, 0, 1, 1, 0, 2, 0, 0, 0, 1, 3, 3, 3},
	{0xb8635841, "ldr w1, [x2, w3, uxtw #2]", 4, 1, LD, 0, 0, 1, 0, 2, 0, 0, 0, 1, 3, 2, 2},
	{0xb863c841, "ldr w1, [x2, w3, sxtw]", 4, 1, LD, 0, 0, 1, 0, 2, 0, 0, 0, 1, 3, 6, 0},
	{0x38236841, "strb w1, [x2, x3]", 1, 1, ST, 0, 0, 1, 0, 2, 0, 0, 0, 1, 3, 3, 0},
	{0x78a3f841, "ldrsh x1, [x2, x3, sxtx #1]", 2, 1, LD, 1, 1, 1, 0, 2, 0, 0, 0, 1, 3, 7, 1},
	{0xf8234841, "str x1, [x2, w3, uxtw]", 8, 1, ST, 0, 1, 1, 0, 2, 0, 0, 0, 1, 3, 2, 0},
	{0x38637841, "ldrb w1, [x2, x3, lsl #0]", 1, 1, LD, 0, 0, 1, 0, 2, 0, 0, 0, 1, 3, 3, 0},
	{0xb8a3d841, "ldrsw x1, [x2, w3, sxtw #2]", 4, 1, LD, 1, 1, 1, 0, 2, 0, 0, 0, 1, 3, 6, 2},
	/* pairs */
	{0x29000861, "stp w1, w2, [x3]", 4, 2, ST, 0, 0, 1, 2, 3, 0},
	{0xa9a00861, "stp x1, x2, [x3, #-512]!", 8, 2, ST, 0, 1, 1, 2, 3, -512, 1, 0},
	{0x28df8861, "ldp w1, w2, [x3], #252", 4, 2, LD, 0, 0, 1, 2, 3, 252, 1, 1},
	{0xa9410be1, "ldp x1, x2, [sp, #16]", 8, 2, LD, 0, 1, 1, 2, 31, 16},
	{0xa8c17bfd, "ldp x29, x30, [sp], #16", 8, 2, LD, 0, 1, 29, 30, 31, 16, 1, 1},
	{0xa9bf7bfd, "stp x29, x30, [sp, #-16]!", 8, 2, ST, 0, 1, 29, 30, 31, -16, 1, 0},
	{0x69410861, "ldpsw x1, x2, [x3, #8]", 4, 2, LD, 1, 1, 1, 2, 3, 8},
	{0x68ff0861, "ldpsw x1, x2, [x3], #-8", 4, 2, LD, 1, 1, 1, 2, 3, -8, 1, 1},
	{0xa8410861, "ldnp x1, x2, [x3, #16]", 8, 2, LD, 0, 1, 1, 2, 3, 16},
	{0x283f8861, "stnp w1, w2, [x3, #-4]", 4, 2, ST, 0, 0, 1, 2, 3, -4},
	{0x29c08861, "ldp w1, w2, [x3, #4]!", 4, 2, LD, 0, 0, 1, 2, 3, 4, 1, 0},
	{0x28817c7f, "stp wzr, wzr, [x3], #8", 4, 2, ST, 0, 0, 31, 31, 3, 8, 1, 1},
};

static const struct {
	uint32_t insn;
	const char *text;
} bad[] = {
	{0x3dc00020, "ldr q0, [x1]"},
	{0xfc408420, "ldr d0, [x1], #8"},
	{0xad400420, "ldp q0, q1, [x1]"},
	{0x6d810420, "stp d0, d1, [x1, #16]!"},
	{0xc85f7c20, "ldxr x0, [x1]"},
	{0xc8027c20, "stxr w2, x0, [x1]"},
	{0xc8dffc20, "ldar x0, [x1]"},
	{0xc89ffc20, "stlr x0, [x1]"},
	{0xf8200041, "ldadd x0, x1, [x2]"},
	{0xc8a07c41, "cas x0, x1, [x2]"},
	{0xf8208041, "swp x0, x1, [x2]"},
	{0x58000000, "ldr x0, <literal>"},
	{0xf9800020, "prfm pldl1keep, [x1]"},
	{0xf8a26820, "prfm pldl1keep, [x1, x2]"},
	{0xf8801020, "prfum pldl1keep, [x1, #1]"},
	{0xc87f8440, "ldaxp x0, x1, [x2]"},
	{0xf8bfc020, "ldapr x0, [x1]"},
	{0x69000440, "stgp x0, x1, [x2]"},
	{0xd9600020, "ldg x0, [x1]"},
	{0xf8200420, "ldraa x0, [x1]"},
	{0x4c407020, "ld1 {v0.16b}, [x1]"},
	{0x8b020020, "add x0, x1, x2"},
	{0xd503201f, "nop"},
	{0x00000000, "udf #0"},
	{0xffffffff, "(all ones)"},
	/* CONSTRAINED UNPREDICTABLE: refused rather than guessed */
	{0xf8408c21, "ldr x1, [x1, #8]!"},
	{0xf8008421, "str x1, [x1], #8"},
	{0xb8404442, "ldr w2, [x2], #4"},
	{0xa9400441, "ldp x1, x1, [x2]"},
	{0xa8c10821, "ldp x1, x2, [x1], #16"},
	{0xa9810841, "stp x1, x2, [x2, #16]!"},
	/* unallocated: LDRS* size 2/3 into W, register offset option 0/1/4/5,
	 * pair opc 3, LDPSW no-allocate */
	{0xb9c00041, "ldrsw w1 (size 2, opc 3)"},
	{0xf9c00041, "size 3, opc 3"},
	{0xb8630841 | (1u << 13), "ldr w1, [x2, w3, option 001]"},
	{0xb8638841, "ldr w1, [x2, w3, option 100]"},
	{0xe9400441, "ldp opc 3"},
	{0x68400441, "ldnpsw (unallocated)"},
};

static void test_good_encodings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct want *w = &good[i];
		struct mem_insn mi;
		if (!insn_decode_mem(w->insn, &mi))
			fail_msg("refused: %s", w->text);
		if (mi.size != w->size || mi.count != w->count || mi.load != w->load ||
		    mi.sign_extend != w->sext || mi.reg64 != w->reg64 || mi.rt != w->rt ||
		    mi.rn != w->rn || (w->count == 2 && mi.rt2 != w->rt2) ||
		    mi.writeback != w->wback || mi.post_index != w->post ||
		    mi.reg_offset != w->regoff)
			fail_msg("wrong decode: %s", w->text);
		if (w->regoff && (mi.rm != w->rm || mi.extend != w->extend || mi.shift != w->shift))
			fail_msg("wrong index: %s", w->text);
		if (!w->regoff && mi.imm != w->imm)
			fail_msg("wrong offset %lld: %s", (long long)mi.imm, w->text);
	}
}

static void test_refused_encodings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mem_insn mi;
		if (insn_decode_mem(bad[i].insn, &mi))
			fail_msg("accepted: %s", bad[i].text);
	}
}

/* Every combination of the opcode bits [31:21] and [11:10] with fixed
 * registers: what is accepted must decode to a consistent shape. */
static void test_opcode_space_consistent(void **state)
{
	unsigned accepted = 0;
	(void)state;
	for (uint32_t hi = 0; hi < 2048; hi++) {
		for (uint32_t mid = 0; mid < 4; mid++) {
			uint32_t insn = hi << 21 | mid << 10 | 3u << 16 | 2u << 5 | 1u;
			struct mem_insn mi;
			if (!insn_decode_mem(insn, &mi))
				continue;
			accepted++;
			assert_true(mi.size == 1 || mi.size == 2 || mi.size == 4 || mi.size == 8);
			assert_true(mi.count == 1 || (mi.count == 2 && mi.size >= 4));
			assert_true(mi.reg64 || mi.size <= 4);
			assert_true(mi.load || !mi.sign_extend);
			assert_false(mi.post_index && !mi.writeback);
			assert_false(mi.reg_offset && mi.writeback);
			assert_false((insn >> 26) & 1); /* never SIMD/FP */
		}
	}
	/* checked word by word against GNU objdump's disassembly of the same
	 * 8192 words (at development time): exactly the integer LDR/STR/LDP/STP
	 * family with a memory operand, less the CONSTRAINED UNPREDICTABLE ones */
	assert_int_equal(accepted, 266);
}

static void test_address_and_writeback(void **state)
{
	struct mem_insn mi;
	uint64_t nb;
	(void)state;
	/* pre-index: access at base + imm, base updated to it */
	assert_true(insn_decode_mem(0xb8500c83, &mi)); /* ldr w3, [x4, #-256]! */
	assert_int_equal(mem_insn_address(&mi, 0x1000, 0, &nb), 0xf00);
	assert_int_equal(nb, 0xf00);
	/* post-index: access at base, base += imm */
	assert_true(insn_decode_mem(0xf81f8441, &mi)); /* str x1, [x2], #-8 */
	assert_int_equal(mem_insn_address(&mi, 0x1000, 0, &nb), 0x1000);
	assert_int_equal(nb, 0xff8);
	/* offset: base unchanged */
	assert_true(insn_decode_mem(0xf93ffc41, &mi)); /* str x1, [x2, #32760] */
	assert_int_equal(mem_insn_address(&mi, 0x1000, 0, &nb), 0x1000 + 32760);
	assert_int_equal(nb, 0x1000);
	/* register offsets: UXTW drops the top half, SXTW sign-extends, shift */
	assert_true(insn_decode_mem(0xb8635841, &mi)); /* ldr w1, [x2, w3, uxtw #2] */
	assert_int_equal(mem_insn_address(&mi, 0x1000, 0xffffffff00000001UL, &nb), 0x1004);
	assert_true(insn_decode_mem(0xb863c841, &mi)); /* ldr w1, [x2, w3, sxtw] */
	assert_int_equal(mem_insn_address(&mi, 0x1000, 0xfffffffcUL, &nb), 0xffc);
	assert_true(insn_decode_mem(0x78a3f841, &mi)); /* ldrsh x1, [x2, x3, sxtx #1] */
	assert_int_equal(mem_insn_address(&mi, 0x1000, (uint64_t)-2, &nb), 0xffc);
	/* wrap-around is the architecture's: 64-bit modular */
	assert_true(insn_decode_mem(0xf84ff483, &mi)); /* ldr x3, [x4], #255 */
	mem_insn_address(&mi, ~0UL, 0, &nb);
	assert_int_equal(nb, 254);
}

static void regs_init(uint64_t r[32])
{
	for (unsigned i = 0; i < 32; i++)
		r[i] = 0x1111111111111111UL * (i & 0xf);
}

static void test_plan_single_and_pair(void **state)
{
	struct mem_insn mi;
	struct mmio_plan p;
	uint64_t r[32];
	(void)state;
	regs_init(r);
	/* str w1, [x2, #4]! with x2 = VA 0xffff000008000ffc -> device IPA 0x0a000000 */
	r[2] = 0xffff000008000ffcUL;
	r[1] = 0xdeadbeefcafef00dUL;
	assert_true(insn_decode_mem(0xb8004c41, &mi));
	assert_true(mmio_plan_insn(&mi, r, 0xffff000008001000UL, 0x0a000000, &p));
	assert_int_equal(p.n, 1);
	assert_int_equal(p.acc[0].addr, 0x0a000000);
	assert_int_equal(p.acc[0].width, 4);
	assert_true(p.acc[0].write);
	assert_int_equal(p.acc[0].value, 0xcafef00d); /* only the W register */
	assert_true(p.writeback);
	assert_int_equal(p.new_base, 0xffff000008001000UL);
	/* stp x29, x30, [sp, #-16]! faulting on its second element */
	regs_init(r);
	r[31] = 0x0a000110; /* SP, MMU off: VA = IPA */
	assert_true(insn_decode_mem(0xa9bf7bfd, &mi));
	assert_true(mmio_plan_insn(&mi, r, 0x0a000108, 0x0a000108, &p));
	assert_int_equal(p.n, 2);
	assert_int_equal(p.acc[0].addr, 0x0a000100);
	assert_int_equal(p.acc[1].addr, 0x0a000108);
	assert_int_equal(p.acc[0].value, r[29]);
	assert_int_equal(p.acc[1].value, r[30]);
	assert_int_equal(p.new_base, 0x0a000100);
	/* stp wzr, wzr: stores zero, not SP */
	assert_true(insn_decode_mem(0x28817c7f, &mi));
	r[3] = 0x0a000200;
	assert_true(mmio_plan_insn(&mi, r, 0x0a000200, 0x0a000200, &p));
	assert_int_equal(p.acc[0].value, 0);
	assert_int_equal(p.acc[1].value, 0);
	assert_int_equal(p.new_base, 0x0a000208);
	/* ldpsw: sign-extending 32-bit loads into X registers */
	assert_true(insn_decode_mem(0x68ff0861, &mi));
	assert_true(mmio_plan_insn(&mi, r, 0x0a000200, 0x0a000200, &p));
	assert_false(p.acc[0].write);
	assert_true(p.acc[0].sign_extend && p.acc[0].reg64);
	assert_int_equal(mmio_load_result(&p.acc[1], 0x80000000), 0xffffffff80000000UL);
	/* register offset with Rm = XZR */
	assert_true(insn_decode_mem(0xb87f6841, &mi)); /* ldr w1, [x2, xzr] */
	r[2] = 0x0a000040;
	assert_true(mmio_plan_insn(&mi, r, 0x0a000040, 0x0a000040, &p));
	assert_false(p.writeback);
}

static void test_plan_refuses_mismatch(void **state)
{
	struct mem_insn mi;
	struct mmio_plan p;
	uint64_t r[32];
	(void)state;
	regs_init(r);
	r[3] = 0x0a000100;
	assert_true(insn_decode_mem(0xa9410861, &mi)); /* ldp x1, x2, [x3, #16] */
	/* FAR outside what the instruction touches: it changed under us */
	assert_false(mmio_plan_insn(&mi, r, 0x0a000100, 0x0a000100, &p));
	assert_false(mmio_plan_insn(&mi, r, 0x0a000120, 0x0a000120, &p));
	assert_true(mmio_plan_insn(&mi, r, 0x0a000110, 0x0a000110, &p));
	assert_true(mmio_plan_insn(&mi, r, 0x0a00011f, 0x0a00011f, &p));
	/* a pair straddling the faulting page: refused */
	r[3] = 0x0a000ff0 - 16 + 8;
	assert_false(mmio_plan_insn(&mi, r, 0x0a000ff8, 0x0a000ff8, &p));
	assert_false(mmio_plan_insn(&mi, r, 0x0a001000, 0x0a001000, &p));
	/* the first element would be below IPA 0 */
	r[3] = 0x100 - 16;
	assert_false(mmio_plan_insn(&mi, r, 0x108, 0x0, &p));
	/* a tagged pointer (TBI): the top byte of FAR is not compared */
	r[3] = 0x2a00000000000100UL;
	assert_true(mmio_plan_insn(&mi, r, 0x0000000000000110UL, 0x0a000110, &p));
	assert_int_equal(p.acc[0].addr, 0x0a000110);
}

/* Loads land in their registers (W: upper half zero, XZR: dropped), the
 * base is written back (31: the SP slot), nothing else changes. */
static void test_plan_apply(void **state)
{
	struct mem_insn mi;
	struct mmio_plan p;
	uint64_t r[32], before[32];
	(void)state;
	/* ldp x29, x30, [sp], #16 */
	regs_init(r);
	r[31] = 0x0a000100;
	memcpy(before, r, sizeof(r));
	assert_true(insn_decode_mem(0xa8c17bfd, &mi));
	assert_true(mmio_plan_insn(&mi, r, 0x0a000100, 0x0a000100, &p));
	p.acc[0].value = 0x1234567890abcdefUL;
	p.acc[1].value = 0xfedcba0987654321UL;
	mmio_plan_apply(&mi, &p, r);
	assert_int_equal(r[29], 0x1234567890abcdefUL);
	assert_int_equal(r[30], 0xfedcba0987654321UL);
	assert_int_equal(r[31], 0x0a000110);
	for (unsigned i = 0; i < 29; i++)
		assert_int_equal(r[i], before[i]);
	/* ldrsb w5, [x6, #-1]!: sign-extended into W only, x6 written back */
	regs_init(r);
	r[6] = 0x0a000201;
	r[5] = ~0UL;
	assert_true(insn_decode_mem(0x38dffcc5, &mi));
	assert_true(mmio_plan_insn(&mi, r, 0x0a000200, 0x0a000200, &p));
	p.acc[0].value = 0x80;
	mmio_plan_apply(&mi, &p, r);
	assert_int_equal(r[5], 0xffffff80UL);
	assert_int_equal(r[6], 0x0a000200);
	/* ldr wzr, [x1], #4: value dropped, SP slot untouched */
	regs_init(r);
	r[31] = 0x5000;
	r[1] = 0x0a000300;
	assert_true(insn_decode_mem(0xb840443f, &mi));
	assert_int_equal(mi.rt, 31);
	assert_true(mmio_plan_insn(&mi, r, 0x0a000300, 0x0a000300, &p));
	p.acc[0].value = 0xdead;
	mmio_plan_apply(&mi, &p, r);
	assert_int_equal(r[31], 0x5000);
	assert_int_equal(r[1], 0x0a000304);
	/* a store without write-back changes no register */
	regs_init(r);
	r[3] = 0x0a000400;
	memcpy(before, r, sizeof(r));
	assert_true(insn_decode_mem(0x29000861, &mi)); /* stp w1, w2, [x3] */
	assert_true(mmio_plan_insn(&mi, r, 0x0a000400, 0x0a000400, &p));
	mmio_plan_apply(&mi, &p, r);
	assert_memory_equal(r, before, sizeof(r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_encodings),
		cmocka_unit_test(test_refused_encodings),
		cmocka_unit_test(test_opcode_space_consistent),
		cmocka_unit_test(test_address_and_writeback),
		cmocka_unit_test(test_plan_single_and_pair),
		cmocka_unit_test(test_plan_refuses_mismatch),
		cmocka_unit_test(test_plan_apply),
	};
	return cmocka_run_group_tests_name("insn_decode", tests, NULL, NULL);
}
