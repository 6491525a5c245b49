/* Address translation of a guest virtual address on the guest's behalf.
 *
 * uint64_t guest_at_s1e1r(uint64_t va): AT S1E1R with the guest's EL1
 * regime (live on this CPU) and its stage 2; returns PAR_EL1 and puts the
 * guest's own PAR_EL1 back. A guest can point its tables anywhere, so the
 * walk may take a synchronous abort at EL2: hv_handle_sync resumes at
 * guest_at_fixup, which returns PAR.F = 1. */
.section .text
.global guest_at_s1e1r
.global guest_at_insn
.global guest_at_fixup
guest_at_s1e1r:
	mrs	x1, par_el1
guest_at_insn:
	at	s1e1r, x0
	isb
	mrs	x0, par_el1
	msr	par_el1, x1
	ret
guest_at_fixup:
	mov	x0, #1
	msr	par_el1, x1
	ret
