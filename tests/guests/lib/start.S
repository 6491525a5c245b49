/* Entry, stack and exception vectors of the bare-metal test guests.
 *
 * The hypervisor enters at the image's first byte at EL1 with the MMU off and
 * x0 = the guest's DTB. We mask interrupts, take a stack, install the vector
 * table, zero .bss, turn the MMU on (identity map, see mmu.c) and call
 * main(dtb). Every exception saves a struct exc_frame (guest.h) and calls
 * exception_entry(frame, kind); the frame's elr/spsr are restored on return,
 * so a handler may resume anywhere. */
	.section .text.start, "ax"
	.global _start
_start:
	msr	daifset, #0xf
	ldr	x1, =__stack_top
	mov	sp, x1
	mov	x19, x0
	ldr	x1, =exception_vectors
	msr	vbar_el1, x1
	mov	x1, #(3 << 20)		/* CPACR_EL1.FPEN: no FP/SIMD traps */
	msr	cpacr_el1, x1
	isb
	ldr	x1, =__bss_start
	ldr	x2, =__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	ldr	x1, =guest_dtb
	str	x19, [x1]
	bl	mmu_enable
	mov	x0, x19
	bl	main
	bl	guest_halt
3:	wfi
	b	3b

/* Frame: x0..x30 at 0..240, elr 248, spsr 256, esr 264, far 272. */
#define FRAME 288

	.macro ventry kind
	.balign 0x80
	sub	sp, sp, #FRAME
	stp	x0, x1, [sp, #0]
	mov	x0, #\kind
	b	vector_common
	.endm

	.text
	.balign 0x800
	.global exception_vectors
exception_vectors:
	ventry 0	/* current EL, SP_EL0: sync */
	ventry 1	/* irq */
	ventry 2	/* fiq */
	ventry 3	/* serror */
	ventry 4	/* current EL, SP_ELx: sync */
	ventry 5
	ventry 6
	ventry 7
	ventry 8	/* lower EL, AArch64 (unused) */
	ventry 9
	ventry 10
	ventry 11
	ventry 12	/* lower EL, AArch32 (unused) */
	ventry 13
	ventry 14
	ventry 15

vector_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	mrs	x2, elr_el1
	mrs	x3, spsr_el1
	stp	x2, x3, [sp, #248]
	mrs	x2, esr_el1
	mrs	x3, far_el1
	stp	x2, x3, [sp, #264]
	mov	x1, x0
	mov	x0, sp
	bl	exception_entry
	ldp	x2, x3, [sp, #248]
	msr	elr_el1, x2
	msr	spsr_el1, x3
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	add	sp, sp, #FRAME
	eret

	.section .bss.stack, "aw", %nobits
	.balign 16
	.space	64 * 1024
	.global __stack_top
__stack_top:
