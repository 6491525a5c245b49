/* cfgc: the sysHyper configuration compiler.
 *
 *   cfgc [-D VAR=value]... [-B DIR] [--initramfs-dir DIR] [--no-files]
 *        [-o OUT.c] [-q LOADER_ARGS] [-d DEVICE_ARGS] [-m FRAGMENT.mk]
 *        [--manifest VMS.conf] [--disks DISKS.conf] [--dts VM OUT.dts] CONFIG.cfg
 *
 * Parses a configuration (the format is described at the top of
 * configs/qemu-virt.cfg), resolves device names against the board's list
 * (hv/platform/BOARD/devices.c), runs the checks the hypervisor runs again
 * at boot (hv/core/config_check.c) and the build's own (build_check.c), and
 * writes what was asked:
 *   -o          the C definition of `sys_config` (out_c.c)
 *   -q, -d      QEMU's loader and board arguments, one per line (out_qemu.c)
 *   -m          the make fragment naming each VM's images (out_make.c)
 *   --manifest  the MVM's list of the GVMs it loads (out_manifest.c)
 *   --disks     the MVM's disks.conf: what backs each mediated disk (out_disks.c)
 *   --dts       one VM's device tree source (out_dts.c; needs -D GIC=2|3)
 * Without outputs it only checks.
 *
 * Images written "@ ADDRESS" are made by the build under -B DIR (default
 * build/gen) and --initramfs-dir DIR (default build); see images.c. Image
 * paths are relative to the directory cfgc runs in and are measured for
 * -o and -q; --no-files skips that (sizes 0), and --dts measures only its
 * VM's initrd, whose end the device tree names.
 *
 * Every error is one line, FILE:LINE: FIELD: message, and the exit status
 * is 1, with no output written; a usage error exits with 2. */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfgc.h"

static void __attribute__((noreturn)) usage(const char *why)
{
	if (why)
		fprintf(stderr, "cfgc: %s\n", why);
	fprintf(stderr, "usage: cfgc [-D VAR=value]... [-B DIR] [--initramfs-dir DIR] "
			"[--no-files] [-o OUT.c] [-q LOADER_ARGS] [-d DEVICE_ARGS] "
			"[-m FRAGMENT.mk] [--manifest VMS.conf] [--disks DISKS.conf] "
			"[--dts VM OUT.dts] CONFIG.cfg\n");
	exit(2);
}

static void define(char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		usage("-D needs VAR=value");
	*eq = '\0';
	for (const char *p = arg; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			usage("-D: a variable name is letters, digits and '_'");
	if (ndefs >= MAX_DEFS)
		usage("too many -D");
	defs[ndefs].name = arg;
	defs[ndefs++].value = eq + 1;
}

/* Writes `path` through a temporary file, so a failed run leaves no half file. */
static void write_file(const char *path, void (*fn)(FILE *))
{
	size_t len = strlen(path) + 5;
	char *tmp = malloc(len);
	FILE *o;
	int bad;

	if (!tmp) {
		fprintf(stderr, "cfgc: out of memory\n");
		exit(1);
	}
	snprintf(tmp, len, "%s.tmp", path);
	o = fopen(tmp, "w");
	if (!o) {
		fprintf(stderr, "cfgc: cannot write %s: %s\n", tmp, strerror(errno));
		free(tmp);
		exit(1);
	}
	fn(o);
	bad = ferror(o);
	bad |= fclose(o) != 0;
	if (bad || rename(tmp, path)) {
		fprintf(stderr, "cfgc: cannot write %s: %s\n", path, strerror(errno));
		remove(tmp);
		free(tmp);
		exit(1);
	}
	free(tmp);
}

/* --dts: which VM, for the GIC of -D GIC. */
static int dts_vm = -1;
static unsigned dts_gic;

static void write_dts_of_vm(FILE *o)
{
	write_dts(o, (unsigned)dts_vm, dts_gic);
}

struct outputs {
	const char *c, *loader, *devices, *make, *manifest, *disks, *dts_name, *dts;
	bool measure;
};

static void parse_args(int argc, char **argv, struct outputs *out)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **value = NULL;

		if (!strcmp(a, "-o"))
			value = &out->c;
		else if (!strcmp(a, "-q"))
			value = &out->loader;
		else if (!strcmp(a, "-d"))
			value = &out->devices;
		else if (!strcmp(a, "-m"))
			value = &out->make;
		else if (!strcmp(a, "--manifest"))
			value = &out->manifest;
		else if (!strcmp(a, "--disks"))
			value = &out->disks;
		else if (!strcmp(a, "-B"))
			value = &out_dir;
		else if (!strcmp(a, "--initramfs-dir"))
			value = &initramfs_dir;
		if (value || !strcmp(a, "-D") || !strcmp(a, "--dts")) {
			if (i + 1 >= argc || (!strcmp(a, "--dts") && i + 2 >= argc))
				usage("an option needs an argument");
			if (value)
				*value = argv[++i];
			else if (a[1] == 'D')
				define(argv[++i]);
			else {
				out->dts_name = argv[++i];
				out->dts = argv[++i];
			}
		} else if (!strncmp(a, "-D", 2)) {
			define(argv[i] + 2);
		} else if (!strcmp(a, "--no-files")) {
			out->measure = false;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(NULL);
		} else if (a[0] == '-' && a[1]) {
			usage("unknown option");
		} else if (cfg_path) {
			usage("one configuration file only");
		} else {
			cfg_path = a;
		}
	}
	if (!cfg_path)
		usage("no configuration file");
	if (out->dts && (out->c || out->loader))
		usage("--dts measures only its VM's initrd: give -o and -q in another run");
}

static void dts_target(const struct outputs *out)
{
	const char *gic = define_value("GIC");

	dts_vm = vm_index(out->dts_name);
	if (dts_vm < 0) {
		fprintf(stderr, "cfgc: --dts: %s has no vm %s\n", cfg_path, out->dts_name);
		exit(2);
	}
	if (!gic || (strcmp(gic, "2") && strcmp(gic, "3")))
		usage("--dts needs -D GIC=2 or -D GIC=3");
	dts_gic = (unsigned)(gic[0] - '0');
}

/* Each output asked for, in this order; a write that fails exits. */
static void write_outputs(const struct outputs *out)
{
	const struct {
		const char *path;
		void (*fn)(FILE *);
	} files[] = {
		{out->c, write_c},
		{out->loader, write_qemu_loader},
		{out->devices, write_qemu_devices},
		{out->make, write_make_fragment},
		{out->manifest, write_manifest},
		{out->disks, write_disks},
		{out->dts, write_dts_of_vm},
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i].path)
			write_file(files[i].path, files[i].fn);
}

int main(int argc, char **argv)
{
	struct outputs out = {.measure = true};
	struct cfg_error err;
	FILE *f;

	parse_args(argc, argv, &out);
	f = fopen(cfg_path, "r");
	if (!f) {
		fprintf(stderr, "%s:0: file: cannot open: %s\n", cfg_path, strerror(errno));
		return 1;
	}
	parse_config(f);
	fclose(f);
	check_required();
	place_med_area();
	if (out.dts)
		dts_target(&out);
	resolve_images(out.measure && !out.dts, out.measure ? dts_vm : -1);
	if (config_check(&cfg, platform_devs, platform_ndevs, &err))
		die_at(line_of_field(err.field), err.field, "%s", err.msg);
	check_build();
	write_outputs(&out);
	return 0;
}
