/* syshyperd's placement of its workers: every step of a request that
 * happens in the MVM is on one CPU: the hypervisor's service interrupt, the worker that takes
 * the request, the disk's completion interrupt and the completion
 * hypercall. A worker on the other CPU, or a disk interrupting the other
 * CPU, costs an inter-processor interrupt per wake-up (the hypervisor traps
 * and forwards it, and wakes a physical CPU that idles in WFI): measured
 * under QEMU, a GVM's 4 KiB reads at queue depth 1 took 1.4-1.9 times as
 * long end to end with the workers free to run on either CPU as with them
 * on the CPU of the service interrupt. So the workers stay on the CPU the
 * service interrupt is routed to, and the interrupts of the block devices
 * that back the disks are routed there too.
 *
 * SYSHYPERD_CPU=N puts the workers on CPU N, -1 leaves them free (for
 * measurements); by default, the service interrupt's CPU. */
#ifndef SYSHYPERD_PLACEMENT_H
#define SYSHYPERD_PLACEMENT_H

/* Pins the calling thread (the workers it creates inherit it) and routes
 * the interrupts of the block devices among disk_fds (-1: none) there. */
void place_workers(const int *disk_fds, unsigned ndisks);

#endif
