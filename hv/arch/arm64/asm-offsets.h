/* Structure offsets shared with assembly; arch/arm64/asm_offsets_check.c
 * holds them against the C structures with static asserts. */
#ifndef ASM_OFFSETS_H
#define ASM_OFFSETS_H
#define PCPU_SIZE 64
#define PCPU_STACK_TOP 32
#define HV_STACK_SHIFT 14 /* 16 KiB per CPU */
#define MAX_PCPUS_ASM 8
#define FRAME_ELR (31 * 8)
#define FRAME_SPSR (32 * 8)
#define FRAME_ESR (33 * 8)
#define FRAME_FAR (34 * 8)
#define FRAME_HPFAR (35 * 8)
#define FRAME_SIZE (36 * 8)
#endif
