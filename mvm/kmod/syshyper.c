// SPDX-License-Identifier: GPL-2.0
/* sysHyper MVM kernel module: the MVM's door to the hypervisor.
 *
 * It registers the mediated block area (a region of its memory that its
 * device tree reserves: the configuration's `mediated-area`) by hypercall,
 * counts the hypervisor's service interrupts, and gives user space
 * /dev/syshyper: mmap of the area, read()/poll() that wait for the next
 * interrupt, and ioctls for the completion/resync hypercalls and the
 * information hypercalls of the CLI. */
#include <linux/arm-smccc.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/platform_device.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <asm/sysreg.h>

#include "syshyper/hypercall.h"
#include "syshyper/ioctl.h"
#include "syshyper/mediated.h"
#include "vmctl.h"

static void *area;
static phys_addr_t area_pa;
static size_t area_size;
static void *info_page;
static atomic64_t irq_count;
static DECLARE_WAIT_QUEUE_HEAD(irq_wait);
static DEFINE_MUTEX(info_lock);

static void hvc(struct syshyper_hvc *c)
{
	struct arm_smccc_res res;

	arm_smccc_1_1_hvc(c->x[0], c->x[1], c->x[2], c->x[3], &res);
	c->x[0] = res.a0;
	c->x[1] = res.a1;
	c->x[2] = res.a2;
	c->x[3] = res.a3;
}

static long hvc_simple(unsigned long fid)
{
	struct syshyper_hvc c = {.x = {fid}};

	hvc(&c);
	return (long)c.x[0];
}

static irqreturn_t service_irq(int irq, void *dev)
{
	/* the stamp of the MVM's stages (syshyper/mediated.h): the counter
	 * the hypervisor and the daemon read too (CNTVOFF_EL2 is 0) */
	WRITE_ONCE(((struct med_area *)area)->mvm_irq_at, read_sysreg(cntvct_el0));
	atomic64_inc(&irq_count);
	wake_up_interruptible(&irq_wait);
	return IRQ_HANDLED;
}

/* Each open file remembers the interrupt count it last returned, and
 * whether it polls the area (SYSHYPER_IOC_POLL). */
struct dev_file {
	u64 seen;
	bool polled;
};

static int dev_open(struct inode *inode, struct file *f)
{
	struct dev_file *df = kzalloc(sizeof(*df), GFP_KERNEL);

	if (!df)
		return -ENOMEM;
	f->private_data = df;
	return 0;
}

static int dev_release(struct inode *inode, struct file *f)
{
	struct dev_file *df = f->private_data;
	struct syshyper_hvc c = {.x = {HC_MED_POLL, 0}};

	if (df->polled) /* a daemon that died polling: no wait for the tick */
		hvc(&c);
	kfree(df);
	return 0;
}

static ssize_t dev_read(struct file *f, char __user *buf, size_t len, loff_t *off)
{
	struct dev_file *df = f->private_data;
	u64 now;
	int err;

	if (len < sizeof(now))
		return -EINVAL;
	err = wait_event_interruptible(irq_wait, (u64)atomic64_read(&irq_count) != df->seen);
	if (err)
		return err;
	now = atomic64_read(&irq_count);
	df->seen = now;
	return copy_to_user(buf, &now, sizeof(now)) ? -EFAULT : sizeof(now);
}

static __poll_t dev_poll(struct file *f, poll_table *wait)
{
	struct dev_file *df = f->private_data;

	poll_wait(f, &irq_wait, wait);
	return (u64)atomic64_read(&irq_count) != df->seen ? EPOLLIN | EPOLLRDNORM : 0;
}

/* HC_MED_POLL for `us` microseconds (0: stopped); the hypervisor bounds it. */
static long poll_area(struct file *f, unsigned long us)
{
	struct dev_file *df = f->private_data;
	struct syshyper_hvc c = {.x = {HC_MED_POLL, us}};

	df->polled = us != 0;
	hvc(&c);
	return (long)c.x[0] == HC_OK ? 0 : -EIO;
}

/* The area's pages are mapped as the ordinary pages they are (not as a
 * PFN range), so the daemon's O_DIRECT I/O can pin them and the disk moves
 * data straight to and from the slots. */
static int dev_mmap(struct file *f, struct vm_area_struct *vma)
{
	unsigned long size = vma->vm_end - vma->vm_start, off;
	int err;

	if (vma->vm_pgoff || size > area_size)
		return -EINVAL;
	for (off = 0; off < size; off += PAGE_SIZE) {
		err = vm_insert_page(vma, vma->vm_start + off, virt_to_page((char *)area + off));
		if (err)
			return err;
	}
	return 0;
}

static long ioctl_hvc(void __user *arg)
{
	struct syshyper_hvc c;
	long ret = 0;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	/* decided on exactly the 32-bit id the HVC passes on */
	if (!hc_user_allowed(c.x[0]))
		return -EPERM;
	c.x[0] = hc_function_id(c.x[0]);
	if (c.x[0] != HC_VM_INFO) {
		hvc(&c);
		return copy_to_user(arg, &c, sizeof(c)) ? -EFAULT : 0;
	}
	mutex_lock(&info_lock);
	c.x[2] = virt_to_phys(info_page); /* never an address user space chose */
	hvc(&c);
	if ((long)c.x[0] == HC_OK &&
	    copy_to_user((void __user *)(uintptr_t)c.buf, info_page, sizeof(struct hc_vm_info)))
		ret = -EFAULT;
	mutex_unlock(&info_lock);
	if (!ret && copy_to_user(arg, &c, sizeof(c)))
		ret = -EFAULT;
	return ret;
}

static long dev_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case SYSHYPER_IOC_COMPLETE:
		return hvc_simple(HC_MED_COMPLETE) == HC_OK ? 0 : -EIO;
	case SYSHYPER_IOC_RESYNC:
		return hvc_simple(HC_MED_RESYNC) == HC_OK ? 0 : -EIO;
	case SYSHYPER_IOC_POLL:
		return poll_area(f, arg);
	case SYSHYPER_IOC_HVC:
		return ioctl_hvc((void __user *)arg);
	default:
		return vmctl_ioctl(cmd, arg);
	}
}

static const struct file_operations dev_fops = {
	.owner = THIS_MODULE,
	.open = dev_open,
	.release = dev_release,
	.read = dev_read,
	.poll = dev_poll,
	.mmap = dev_mmap,
	.unlocked_ioctl = dev_ioctl,
};

static struct miscdevice misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "syshyper",
	.fops = &dev_fops,
};

/* The region the node's memory-region names: reserved by the kernel at
 * boot (no-map is not set, so it is in the linear map and has struct
 * pages, which mmap needs). */
static int find_area(struct device *dev)
{
	struct device_node *np = of_parse_phandle(dev->of_node, "memory-region", 0);
	struct resource res;
	int err;

	if (!np) {
		dev_err(dev, "no memory-region for the mediated area\n");
		return -ENODEV;
	}
	err = of_address_to_resource(np, 0, &res);
	of_node_put(np);
	if (err)
		return err;
	if (resource_size(&res) < MED_AREA_MIN || resource_size(&res) > MED_AREA_MAX ||
	    !PAGE_ALIGNED(res.start)) {
		dev_err(dev, "mediated area %pR: bad size or alignment\n", &res);
		return -EINVAL;
	}
	area = memremap(res.start, resource_size(&res), MEMREMAP_WB);
	if (!area)
		return -ENOMEM;
	if (!virt_addr_valid(area)) { /* not in the linear map: no pages to mmap */
		memunmap(area);
		area = NULL;
		return -EINVAL;
	}
	area_pa = res.start;
	area_size = resource_size(&res); /* the hypervisor writes the header */
	return 0;
}

static int syshyper_probe(struct platform_device *pdev)
{
	struct syshyper_hvc c;
	int irq, err;

	irq = platform_get_irq(pdev, 0);
	if (irq < 0)
		return irq;
	err = find_area(&pdev->dev);
	if (err)
		return err;
	info_page = (void *)get_zeroed_page(GFP_KERNEL);
	if (!info_page) {
		err = -ENOMEM;
		goto free;
	}
	err = devm_request_irq(&pdev->dev, irq, service_irq, 0, "syshyper", NULL);
	if (err)
		goto free;
	c = (struct syshyper_hvc){.x = {HC_MED_REGISTER, area_pa, area_size}};
	hvc(&c);
	if ((long)c.x[0] != HC_OK) {
		dev_err(&pdev->dev, "the hypervisor refused the mediated area (%ld)\n",
			(long)c.x[0]);
		err = -EIO;
		goto free;
	}
	vmctl_probe(pdev);
	err = misc_register(&misc);
	if (err) /* the hypervisor writes into the area now: it stays mapped */
		return err;
	dev_info(&pdev->dev, "mediated area at %pa, %zu KiB, irq %d\n", &area_pa, area_size >> 10,
		 irq);
	return 0;
free:
	memunmap(area);
	if (info_page)
		free_page((unsigned long)info_page);
	area = info_page = NULL;
	return err;
}

static int syshyper_remove(struct platform_device *pdev)
{
	misc_deregister(&misc);
	/* the hypervisor keeps the area registered: it is reserved memory,
	 * never given back to the kernel */
	return 0;
}

static const struct of_device_id syshyper_of_match[] = {
	{.compatible = "syshyper,hypervisor"},
	{},
};
MODULE_DEVICE_TABLE(of, syshyper_of_match);

static struct platform_driver syshyper_driver = {
	.probe = syshyper_probe,
	.remove = syshyper_remove,
	.driver =
		{
			.name = "syshyper",
			.of_match_table = syshyper_of_match,
		},
};
module_platform_driver(syshyper_driver);

MODULE_DESCRIPTION("sysHyper MVM interface: mediated block area and hypercalls");
MODULE_LICENSE("GPL");
