/* System register access and the EL2 register bit definitions we use. */
#ifndef SYSREG_H
#define SYSREG_H
#include "lib/types.h"

#define read_sysreg(r) __read_sysreg(r) /* expands encodings given as macros */
#define write_sysreg(r, v) __write_sysreg(r, v)
#ifdef HOST_UNIT_TEST
/* On the host the test keeps the registers, by name (provided by the test). */
uint64_t host_read_sysreg(const char *name);
void host_write_sysreg(const char *name, uint64_t v);
#define __read_sysreg(r) host_read_sysreg(#r)
#define __write_sysreg(r, v) host_write_sysreg(#r, (uint64_t)(v))
#define isb() ((void)0)
#else
#define __read_sysreg(r)                                     \
	({                                                   \
		uint64_t __v;                                \
		__asm__ volatile("mrs %0, " #r : "=r"(__v)); \
		__v;                                         \
	})
#define __write_sysreg(r, v)                                     \
	do {                                                     \
		uint64_t __w = (uint64_t)(v);                    \
		__asm__ volatile("msr " #r ", %0" : : "r"(__w)); \
	} while (0)
#define isb() __asm__ volatile("isb" ::: "memory")
#endif
#define dsb(opt) __asm__ volatile("dsb " #opt ::: "memory")
#define wfi() __asm__ volatile("wfi")
#define wfe() __asm__ volatile("wfe")
#define sev() __asm__ volatile("sev")

/* HCR_EL2 */
#define HCR_VM BIT(0)
#define HCR_SWIO BIT(1)
#define HCR_FMO BIT(3)
#define HCR_IMO BIT(4)
#define HCR_AMO BIT(5)
#define HCR_FB BIT(9)
#define HCR_BSU_IS (1UL << 10)
#define HCR_TWI BIT(13)
#define HCR_TWE BIT(14)
#define HCR_TSC BIT(19)
#define HCR_TACR BIT(21)
#define HCR_TSW BIT(22)
#define HCR_TID3 BIT(18)
#define HCR_RW BIT(31)

/* ESR_EL2 exception classes */
#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_ISS(esr) ((esr)&0x1ffffff)
#define EC_UNKNOWN 0x00
#define EC_WFX 0x01
#define EC_FP 0x07
#define EC_HVC64 0x16
#define EC_SMC64 0x17
#define EC_SYSREG 0x18
#define EC_IABT_LOW 0x20
#define EC_DABT_LOW 0x24
#define EC_DABT_CUR 0x25

#define SPSR_EL1H 0x5
#define SPSR_DAIF (0xfUL << 6)

/* MPIDR affinity as a flat number: Aff3..Aff0 */
#define MPIDR_AFF_MASK 0xff00ffffffUL
#endif
