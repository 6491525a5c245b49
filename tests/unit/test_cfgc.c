/* cfgc's outputs from one configuration (tools/cfgc): each VM's device tree
 * (CPUs, GIC of the board's version sized by the vCPUs, initrd by IPA,
 * virtio devices at the board's window, the MVM's hypervisor node), the
 * make fragment and the MVM's manifest (generated images, a kernel shared
 * by link), the MVM's disks.conf (what backs each mediated disk), QEMU's
 * arguments and the compiled C (which GVMs wait for the MVM). Rejections
 * are checked by check_bad_configs.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgc.h"

static const char config[] = "[system]\n"
			     "ram = 0x40000000 + 2G\n"
			     "hypervisor = 0x40000000 + 64M\n"
			     "cpus = 4\n"
			     "hv-disk = virtio-mmio7 disk=build/hvdisk.img\n"
			     "[vm mvm]\n"
			     "role = mvm\n"
			     "cpus = 0 1\n"
			     "memory = 0x48000000 + 512M\n"
			     "kernel = build/guest/Image @ 0x48200000\n"
			     "initrd = @ 0x58000000\n"
			     "dtb = @ 0x5fe00000   # generated\n"
			     "bootargs = \"console=ttyAMA0 # not a comment\"\n"
			     "device = virtio-mmio31 disk=build/disk.img\n"
			     "device = virtio-mmio30 net=user\n"
			     "virtio-net = 0 mac=52:54:00:5e:00:01\n"
			     "[vm gvm1]\n"
			     "role = gvm\n"
			     "cpus = 2\n"
			     "memory = 0x40000000 + 512M at 0x68000000\n"
			     "kernel = build/guest/Image @ 0x68200000\n"
			     "initrd = @ 0x70000000\n"
			     "dtb = @ 0x87e00000\n"
			     "images = mvm\n"
			     "run-script = yes\n"
			     "virtio-blk = 31 mediated disk=2 size=64M backing=/dev/vda "
			     "offset=256M\n"
			     "virtio-console = 28\n"
			     "[vm gvm2]\n"
			     "role = gvm\n"
			     "cpus = 3\n"
			     "memory = 0x40000000 + 512M at 0x88000000\n"
			     "kernel = build/guest/Image @ 0x88200000\n"
			     "initrd = @ 0x90000000\n"
			     "dtb = @ 0xa7e00000\n"
			     "images = mvm\n"
			     "autostart = no\n"
			     "virtio-net = 29 mac=52:54:00:5e:00:12 flood-rate=200 flood-burst=16\n"
			     /* a file, read-only, the lowest index */
			     "virtio-blk = 31 mediated disk=0 size=1M backing=/srv/gvm2.img ro\n"
			     /* right after gvm1's region of the same disk: no overlap */
			     "virtio-blk = 30 mediated disk=1 size=64M backing=/dev/vda "
			     "offset=0x14000000\n";

/* The MVM alone: no mediated disk, no GVM images. */
#define MVM_ONLY                                    \
	"[system]\n"                                \
	"ram = 0x40000000 + 2G\n"                   \
	"hypervisor = 0x40000000 + 64M\n"           \
	"cpus = 4\n"                                \
	"[vm mvm]\n"                                \
	"role = mvm\n"                              \
	"cpus = 0\n"                                \
	"memory = 0x48000000 + 512M\n"              \
	"kernel = build/guest/Image @ 0x48200000\n" \
	"initrd = @ 0x58000000\n"                   \
	"dtb = @ 0x5fe00000\n"
static const char mvm_only[] = MVM_ONLY;

static char *out;

static void reset(void)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(vmb, 0, sizeof(vmb));
	nqemu_devs = 0;
	ndefs = 0;
	loc_reset();
	cfg_path = "test.cfg";
	out_dir = "OUT";
	initramfs_dir = "BASE";
}

static void load(const char *text)
{
	struct cfg_error err;
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(f);
	reset();
	parse_config(f);
	fclose(f);
	check_required();
	place_med_area();
	resolve_images(false, -1);
	assert_int_equal(config_check(&cfg, platform_devs, platform_ndevs, &err), 0);
	check_build();
}

/* Runs an output into `out` (freed by the next call). */
static const char *render(void (*fn)(FILE *))
{
	size_t len;
	FILE *o;

	free(out);
	o = open_memstream(&out, &len);
	assert_non_null(o);
	fn(o);
	fclose(o);
	return out;
}

static unsigned dts_vm_index, dts_gic;
static void dts(FILE *o)
{
	write_dts(o, dts_vm_index, dts_gic);
}

static const char *render_dts(const char *vm, unsigned gic)
{
	dts_vm_index = (unsigned)vm_index(vm);
	dts_gic = gic;
	return render(dts);
}

static void assert_has(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("missing: %s\nin:\n%s", want, text);
}

static void assert_lacks(const char *text, const char *unwanted)
{
	if (strstr(text, unwanted))
		fail_msg("unexpected: %s\nin:\n%s", unwanted, text);
}

static void test_mvm_tree_gicv3(void **state)
{
	const char *t;

	(void)state;
	load(config);
	t = render_dts("mvm", 3);
	assert_has(t, "cpu@0 {");
	assert_has(t, "cpu@1 {");
	assert_lacks(t, "cpu@2");
	assert_has(t, "compatible = \"arm,gic-v3\"");
	/* one redistributor frame pair per vCPU */
	assert_has(t, "<0x0 0x80a0000 0x0 0x40000>");
	assert_has(t, "memory@48000000 {");
	assert_has(t, "bootargs = \"console=ttyAMA0 # not a comment\";");
	/* the hypervisor's node: service and VM-event SPIs */
	assert_has(t, "interrupts = <0 108 1>, <0 109 1>;");
	/* passed-through slots 31 and 30, the switch port at slot 0 */
	assert_has(t, "virtio_mmio@a003e00 {");
	assert_has(t, "interrupts = <0 47 1>;");
	assert_has(t, "virtio_mmio@a003c00 {");
	assert_has(t, "virtio_mmio@a000000 {");
	assert_has(t, "interrupts = <0 16 1>;");
	/* the initrd was not measured: no initrd properties */
	assert_lacks(t, "linux,initrd-start");
	assert_lacks(t, "gpio-keys"); /* the MVM has no power button */
}

static void test_gvm_tree_gicv2(void **state)
{
	const char *t;

	(void)state;
	load(config);
	cfg.vms[1].initrd.size = 0x1234567; /* as measured */
	t = render_dts("gvm1", 2);
	assert_has(t, "compatible = \"arm,cortex-a15-gic\"");
	assert_has(t, "<0x0 0x8010000 0x0 0x2000>");
	/* GICv2 PPIs name the VM's one CPU */
	assert_has(t, "<1 11 0x104>");
	/* the initrd by its IPA: pa 0x70000000 in a region at 0x68000000 */
	assert_has(t, "linux,initrd-start = <0x0 0x48000000>;");
	assert_has(t, "linux,initrd-end = <0x0 0x49234567>;");
	assert_has(t, "memory@40000000 {");
	assert_lacks(t, "bootargs");
	assert_lacks(t, "syshyper,hypervisor");
	assert_has(t, "virtio_mmio@a003e00 { /* slot 31: virtio-blk, mediated */");
	assert_has(t, "virtio_mmio@a003800 { /* slot 28: virtio-console */");
	assert_has(t, "interrupts = <0 44 1>;");
}

static void test_generated_paths(void **state)
{
	(void)state;
	load(config);
	/* the MVM carries GVM images and gvm1 the script: their own initrds */
	assert_string_equal(vmb[0].path[IMG_INITRD], "OUT/mvm/initrd.img");
	assert_string_equal(vmb[1].path[IMG_INITRD], "OUT/gvm1/initrd.img");
	/* gvm2 adds nothing: the shared initramfs of its role */
	assert_string_equal(vmb[2].path[IMG_INITRD], "BASE/gvm/initramfs.cpio.gz");
	assert_string_equal(vmb[2].path[IMG_DTB], "OUT/gvm2/vm.dtb");
	assert_string_equal(vmb[0].path[IMG_KERNEL], "build/guest/Image");
}

static void test_make_fragment(void **state)
{
	const char *t;

	(void)state;
	load(config);
	t = render(write_make_fragment);
	assert_has(t, "CFG_VMS := mvm gvm1 gvm2\n");
	assert_has(t, "CFG_MANIFEST := OUT/vms.conf\n");
	assert_has(t, "CFG_DISKS := OUT/disks.conf\n");
	assert_has(t, "CFG_mvm_INITRD_FILES := $(CFG_DISKS):etc/syshyper/disks.conf:644 \\\n"
		      "\t$(CFG_MANIFEST):etc/syshyper/vms.conf:644 \\\n");
	assert_has(t, "CFG_mvm_INITRD_DEPS := $(CFG_DISKS) $(CFG_MANIFEST) ");
	assert_has(t, "CFG_mvm_INITRD_APPEND := yes\nCFG_mvm_INITRD_BASE := "
		      "BASE/mvm/initramfs.cpio.gz\n");
	assert_has(t, "build/guest/Image:lib/syshyper/gvm1/kernel:644");
	/* one copy of a kernel two GVMs use */
	assert_has(t, "=../gvm1/kernel:lib/syshyper/gvm2/kernel");
	assert_lacks(t, "build/guest/Image:lib/syshyper/gvm2/kernel");
	assert_has(t, "BASE/gvm/initramfs.cpio.gz:lib/syshyper/gvm2/initrd:644");
	assert_has(t, "CFG_gvm1_RUN_SCRIPT := yes\n");
	assert_lacks(t, "CFG_gvm2_RUN_SCRIPT");
	assert_has(t, "CFG_gvm2_DTB_BUILT := yes\n");
	assert_has(t, "CFG_DRIVES := build/hvdisk.img build/disk.img\n");
	assert_has(t, "CFG_BUILT_INITRDS := BASE/mvm/initramfs.cpio.gz "
		      "BASE/gvm/initramfs.cpio.gz\n");
}

static void test_manifest(void **state)
{
	const char *t;

	(void)state;
	load(config);
	t = render(write_manifest);
	assert_has(t, "\ngvm1 autostart=yes kernel=/lib/syshyper/gvm1/kernel "
		      "initrd=/lib/syshyper/gvm1/initrd dtb=/lib/syshyper/gvm1/dtb\n");
	assert_has(t, "\ngvm2 autostart=no kernel=/lib/syshyper/gvm2/kernel");
	assert_lacks(t, "\nmvm ");
}

static void test_disks(void **state)
{
	const char *t;

	(void)state;
	load(config);
	t = render(write_disks);
	/* by index; offsets in bytes; ro where the GVM's disk is */
	assert_has(t, "\n0 /srv/gvm2.img ro # vm gvm2 slot 31, 1048576 bytes\n"
		      "1 /dev/vda offset 335544320 # vm gvm2 slot 30, 67108864 bytes\n"
		      "2 /dev/vda offset 268435456 # vm gvm1 slot 31, 67108864 bytes\n");
	assert_string_equal(disks_path(), "OUT/disks.conf");
}

/* Without mediated disks the MVM still gets its disks.conf (comments only),
 * so its initrd is the role's with that file appended. */
static void test_disks_none(void **state)
{
	const char *t;

	(void)state;
	load(mvm_only);
	t = render(write_disks);
	assert_has(t, "# <disk> <file or block device> [offset <bytes>] [ro]\n");
	for (const char *l = t; (l = strchr(l, '\n')) && l[1]; l++)
		assert_int_equal(l[1], '#');
	assert_string_equal(vmb[0].path[IMG_INITRD], "OUT/mvm/initrd.img");
	t = render(write_make_fragment);
	assert_has(t, "CFG_MANIFEST := \nCFG_DISKS := OUT/disks.conf\n");
	assert_has(t, "CFG_mvm_INITRD_FILES := $(CFG_DISKS):etc/syshyper/disks.conf:644\n");
}

static void test_qemu_and_c(void **state)
{
	const char *t;

	(void)state;
	load(config);
	t = render(write_qemu_loader);
	assert_has(t, "loader,file=OUT/mvm/initrd.img,addr=0x58000000,force-raw=on\n");
	assert_lacks(t, "0x68200000"); /* the MVM loads the GVMs' images */
	t = render(write_qemu_devices);
	assert_has(t, "-smp\n4\n-m\n2048M\n");
	assert_has(t, "-drive\nfile=build/hvdisk.img,if=none,format=raw,id=disk7\n-device\n"
		      "virtio-blk-device,drive=disk7,bus=virtio-mmio-bus.7\n");
	assert_has(t, "-netdev\nuser,id=net30\n-device\n"
		      "virtio-net-device,netdev=net30,bus=virtio-mmio-bus.30\n");
	t = render(write_c);
	/* the MVM starts at boot; both GVMs wait for the MVM */
	assert_has(t, ".stopped_at_boot = 0,");
	assert_non_null(strstr(strstr(t, "\"gvm1\""), ".stopped_at_boot = 1,"));
	assert_non_null(strstr(strstr(t, "\"gvm2\""), ".stopped_at_boot = 1,"));
	/* the region the link holds the image to (hv/platform/qemu-virt/linker.ld) */
	assert_has(t,
		   "__asm__(\".globl __hv_region_start\\n.set __hv_region_start, 0x40000000\\n\"\n"
		   "\t\".globl __hv_region_end\\n.set __hv_region_end, 0x44000000\\n\");\n");
	/* storm control: the MVM's port has the defaults, gvm2's its own */
	assert_has(t, ".mac = {82, 84, 0, 94, 0, 1}, .flood_rate = 1000, .flood_burst = 64}");
	assert_has(t, ".mac = {82, 84, 0, 94, 0, 18}, .flood_rate = 200, .flood_burst = 16}");
}

/* flood-rate=0: no limit, and no burst. */
static void test_flood_no_limit(void **state)
{
	static const char net[] = MVM_ONLY "virtio-net = 0 mac=52:54:00:5e:00:01 flood-rate=0\n";
	(void)state;
	load(net);
	assert_has(render(write_c), ".flood_rate = 0, .flood_burst = 0}");
}

static int teardown(void **state)
{
	(void)state;
	free(out);
	out = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_mvm_tree_gicv3, teardown),
		cmocka_unit_test_teardown(test_gvm_tree_gicv2, teardown),
		cmocka_unit_test_teardown(test_generated_paths, teardown),
		cmocka_unit_test_teardown(test_make_fragment, teardown),
		cmocka_unit_test_teardown(test_manifest, teardown),
		cmocka_unit_test_teardown(test_disks, teardown),
		cmocka_unit_test_teardown(test_disks_none, teardown),
		cmocka_unit_test_teardown(test_qemu_and_c, teardown),
		cmocka_unit_test_teardown(test_flood_no_limit, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
