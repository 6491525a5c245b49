/* EL2 exception vectors and the guest entry/exit path.
 *
 * While a guest runs, SP_EL2 points at its vCPU's trap frame, so a trap
 * saves the guest registers straight into the vCPU, then moves to the
 * CPU's own stack (pcpu->stack_top) to run C. */
#include "arch/arm64/asm-offsets.h"

.macro	save_guest_regs
	stp	x0, x1, [sp, #0]
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
	mrs	x0, elr_el2
	mrs	x1, spsr_el2
	stp	x0, x1, [sp, #FRAME_ELR]
	mrs	x0, esr_el2
	mrs	x1, far_el2
	stp	x0, x1, [sp, #FRAME_ESR]
	mrs	x0, hpfar_el2
	str	x0, [sp, #FRAME_HPFAR]
	mov	x0, sp			/* the vCPU (its frame is first) */
	mrs	x1, tpidr_el2
	ldr	x1, [x1, #PCPU_STACK_TOP]
	mov	sp, x1
.endm

.macro	save_hv_regs
	sub	sp, sp, #(FRAME_SIZE + 16)
	stp	x0, x1, [sp, #0]
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
	mrs	x0, elr_el2
	mrs	x1, spsr_el2
	stp	x0, x1, [sp, #FRAME_ELR]
	mrs	x0, esr_el2
	mrs	x1, far_el2
	stp	x0, x1, [sp, #FRAME_ESR]
	mov	x0, sp
.endm

.macro	restore_hv_regs
	ldp	x0, x1, [sp, #FRAME_ELR]
	msr	elr_el2, x0
	msr	spsr_el2, x1
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
	add	sp, sp, #(FRAME_SIZE + 16)
.endm

.macro	vector handler
	.balign	0x80
	b	\handler
.endm

.section .text
.balign 0x800
.global el2_vectors
el2_vectors:
	vector	hv_bad_exception	/* current EL, SP_EL0 */
	vector	hv_bad_exception
	vector	hv_bad_exception
	vector	hv_bad_exception
	vector	hv_sync_entry		/* current EL, SP_ELx */
	vector	hv_irq_entry
	vector	hv_bad_exception
	vector	hv_bad_exception
	vector	guest_sync_entry	/* lower EL, AArch64 */
	vector	guest_irq_entry
	vector	guest_fiq_entry
	vector	guest_serror_entry
	vector	guest_sync_entry	/* lower EL, AArch32: a guest's 32-bit EL0 */
	vector	guest_irq_entry
	vector	guest_fiq_entry
	vector	guest_serror_entry

hv_bad_exception:
	save_hv_regs
	bl	hv_fatal_exception
	b	.

hv_sync_entry:				/* returns only for a fixed-up fault (at.S) */
	save_hv_regs
	bl	hv_handle_sync
	restore_hv_regs
	eret

hv_irq_entry:
	save_hv_regs
	bl	hv_handle_irq
	restore_hv_regs
	eret

guest_sync_entry:
	save_guest_regs
	bl	guest_handle_sync
	b	guest_enter

guest_irq_entry:
	save_guest_regs
	bl	guest_handle_irq
	b	guest_enter

guest_fiq_entry:
	save_guest_regs
	bl	guest_handle_irq
	b	guest_enter

guest_serror_entry:
	save_guest_regs
	bl	guest_handle_serror
	b	guest_enter

/* guest_enter(struct vcpu *x0): load its frame and return to it. */
.global guest_enter
guest_enter:
	mov	sp, x0
	ldp	x0, x1, [sp, #FRAME_ELR]
	msr	elr_el2, x0
	msr	spsr_el2, x1
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
	eret

/* FP/SIMD context: q0-q31, FPSR, FPCR (used when a vCPU leaves its CPU). */
.global fp_save
fp_save:
	stp	q0, q1, [x0, #0]
	stp	q2, q3, [x0, #32]
	stp	q4, q5, [x0, #64]
	stp	q6, q7, [x0, #96]
	stp	q8, q9, [x0, #128]
	stp	q10, q11, [x0, #160]
	stp	q12, q13, [x0, #192]
	stp	q14, q15, [x0, #224]
	stp	q16, q17, [x0, #256]
	stp	q18, q19, [x0, #288]
	stp	q20, q21, [x0, #320]
	stp	q22, q23, [x0, #352]
	stp	q24, q25, [x0, #384]
	stp	q26, q27, [x0, #416]
	stp	q28, q29, [x0, #448]
	stp	q30, q31, [x0, #480]
	mrs	x1, fpsr
	mrs	x2, fpcr
	add	x0, x0, #512
	stp	x1, x2, [x0]
	ret

.global fp_restore
fp_restore:
	ldp	q0, q1, [x0, #0]
	ldp	q2, q3, [x0, #32]
	ldp	q4, q5, [x0, #64]
	ldp	q6, q7, [x0, #96]
	ldp	q8, q9, [x0, #128]
	ldp	q10, q11, [x0, #160]
	ldp	q12, q13, [x0, #192]
	ldp	q14, q15, [x0, #224]
	ldp	q16, q17, [x0, #256]
	ldp	q18, q19, [x0, #288]
	ldp	q20, q21, [x0, #320]
	ldp	q22, q23, [x0, #352]
	ldp	q24, q25, [x0, #384]
	ldp	q26, q27, [x0, #416]
	ldp	q28, q29, [x0, #448]
	ldp	q30, q31, [x0, #480]
	add	x0, x0, #512
	ldp	x1, x2, [x0]
	msr	fpsr, x1
	msr	fpcr, x2
	ret
