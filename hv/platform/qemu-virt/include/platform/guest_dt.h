/* What a VM's device tree says about this board beyond platform/board.h:
 * facts only the trees need (tools/cfgc writes them; EL2 never reads these). */
#ifndef PLATFORM_GUEST_DT_H
#define PLATFORM_GUEST_DT_H

/* The CPU every vCPU is (QEMU's -cpu, scripts/qemu.sh). */
#define PLAT_GUEST_CPU_COMPAT "arm,cortex-a57"
/* The reference clock of the (emulated) PL011, as QEMU's own tree gives it. */
#define PLAT_GUEST_APB_CLOCK_HZ 24000000

#endif
