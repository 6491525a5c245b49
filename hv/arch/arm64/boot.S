/* EL2 entry. CPU 0 arrives here from QEMU's loader; the others come from
 * PSCI CPU_ON with their CPU index as context id. */
#include "arch/arm64/asm-offsets.h"

.section .text.boot, "ax"
.global _start
_start:
	mov	x19, #0			/* CPU index */
	/* adrp/add: the image with its .bss may span more than adr's 1 MiB */
	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __bss_end
	add	x1, x1, :lo12:__bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:	bl	cpu_setup
	bl	hv_main
	b	.

.global secondary_entry
secondary_entry:
	mov	x19, x0			/* context id = CPU index */
	bl	cpu_setup
	mov	x0, x19
	bl	secondary_main
	b	.

/* Stack and per-CPU pointer from x19 (CPU index), vectors, EL2 controls. */
cpu_setup:
	adrp	x1, pcpus
	add	x1, x1, :lo12:pcpus
	mov	x2, #PCPU_SIZE
	madd	x1, x19, x2, x1
	msr	tpidr_el2, x1
	adrp	x2, hv_stacks
	add	x2, x2, :lo12:hv_stacks
	add	x3, x19, #1
	lsl	x3, x3, #HV_STACK_SHIFT
	add	x2, x2, x3
	mov	sp, x2
	str	x2, [x1, #PCPU_STACK_TOP]
	adr	x2, el2_vectors
	msr	vbar_el2, x2
	mov	x2, #0x33ff		/* CPTR_EL2: RES1 bits, FP/SIMD not trapped */
	msr	cptr_el2, x2
	msr	cntvoff_el2, xzr
	mov	x2, #3			/* CNTHCTL_EL2: EL1 may use physical counter/timer */
	msr	cnthctl_el2, x2
	isb
	ret

.section .bss
.balign 4096
.global hv_stacks
hv_stacks:
	.space	(MAX_PCPUS_ASM << HV_STACK_SHIFT)
