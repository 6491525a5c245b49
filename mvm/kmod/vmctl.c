// SPDX-License-Identifier: GPL-2.0
/* The VM lifecycle part of the MVM module.
 *
 * Loading: user space hands a file's bytes; the module copies them, one
 * HC_LOAD_CHUNK at a time, into a buffer it allocated itself and asks the
 * hypervisor (HC_VM_LOAD) to copy that into the stopped GVM. The source
 * address the hypervisor sees is always this buffer's, never one user
 * space chose, and the MVM never maps GVM memory.
 *
 * Events: the hypervisor raises HC_VM_EVENT_INTID on every VM state change;
 * the module counts them and lets user space wait for the next one
 * (SYSHYPER_IOC_VM_WAIT), so the supervisor reacts without polling. */
#include <linux/arm-smccc.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "syshyper/hypercall.h"
#include "syshyper/ioctl.h"
#include "vmctl.h"

#define LOAD_MAX (1ULL << 30) /* more than any VM's image */
#define WAIT_MAX_MS 60000

static void *load_buf;
static phys_addr_t load_pa;
static DEFINE_MUTEX(load_lock);

static bool have_events;
static atomic64_t events;
static DECLARE_WAIT_QUEUE_HEAD(event_wait);

static irqreturn_t vm_event_irq(int irq, void *dev)
{
	atomic64_inc(&events);
	wake_up_interruptible_all(&event_wait);
	return IRQ_HANDLED;
}

void vmctl_probe(struct platform_device *pdev)
{
	int irq;

	load_buf = alloc_pages_exact(HC_LOAD_CHUNK, GFP_KERNEL);
	if (load_buf)
		load_pa = virt_to_phys(load_buf);
	else
		dev_warn(&pdev->dev, "no memory for the load buffer: VMs cannot be loaded\n");
	irq = platform_get_irq_optional(pdev, 1);
	if (irq > 0 && !devm_request_irq(&pdev->dev, irq, vm_event_irq, 0, "syshyper-vm", NULL))
		have_events = true;
	else
		dev_warn(&pdev->dev, "no VM event interrupt: VM waits poll\n");
}

/* Copies [done, len) chunk by chunk; stops at the hypervisor's first error. */
static long load_chunks(struct syshyper_vm_load *l)
{
	while (l->done < l->len) {
		u64 n = min_t(u64, l->len - l->done, HC_LOAD_CHUNK);
		struct arm_smccc_res res;

		if (fatal_signal_pending(current))
			return -EINTR;
		if (copy_from_user(load_buf, u64_to_user_ptr(l->src + l->done), n))
			return -EFAULT;
		arm_smccc_1_1_hvc(HC_VM_LOAD, l->vm, l->dest_ipa + l->done, load_pa, n, &res);
		l->status = (long)res.a0;
		if (l->status != HC_OK)
			return 0;
		l->done += n;
		cond_resched();
	}
	return 0;
}

static long ioctl_load(void __user *arg)
{
	struct syshyper_vm_load l;
	long err;

	if (copy_from_user(&l, arg, sizeof(l)))
		return -EFAULT;
	if (!load_buf)
		return -ENOMEM;
	/* the hypervisor checks the ranges; this only keeps the loop sane */
	if (!l.len || l.len > LOAD_MAX || l.dest_ipa + l.len < l.dest_ipa || l.src + l.len < l.src)
		return -EINVAL;
	l.status = HC_OK;
	l.done = 0;
	if (mutex_lock_interruptible(&load_lock))
		return -EINTR;
	err = load_chunks(&l);
	mutex_unlock(&load_lock);
	if (err)
		return err;
	return copy_to_user(arg, &l, sizeof(l)) ? -EFAULT : 0;
}

static long ioctl_wait(void __user *arg)
{
	struct syshyper_vm_wait w;
	long left;

	if (copy_from_user(&w, arg, sizeof(w)))
		return -EFAULT;
	if (!have_events)
		return -ENODEV;
	left = wait_event_interruptible_timeout(
		event_wait, (u64)atomic64_read(&events) != w.seen,
		msecs_to_jiffies(min_t(u64, w.timeout_ms, WAIT_MAX_MS)));
	if (left < 0)
		return left;
	w.seen = atomic64_read(&events);
	return copy_to_user(arg, &w, sizeof(w)) ? -EFAULT : 0;
}

long vmctl_ioctl(unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case SYSHYPER_IOC_VM_LOAD:
		return ioctl_load((void __user *)arg);
	case SYSHYPER_IOC_VM_WAIT:
		return ioctl_wait((void __user *)arg);
	default:
		return -ENOTTY;
	}
}
