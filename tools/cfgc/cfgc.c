/* cfgc: the sysHyper configuration compiler.
 *
 *   cfgc [-D VAR=value]... [--no-files] -o OUT.c [-q QEMU_ARGS] CONFIG.cfg
 *
 * Parses the configuration (see configs/qemu-virt.cfg), measures the image
 * files, resolves device names against the board's list, runs the same
 * checks the hypervisor runs at boot (hv/core/config_check.c), and writes
 * the C definition of `sys_config` plus QEMU's loader arguments. Every
 * error is one line: FILE:LINE: FIELD: message. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vm_config.h"

extern const struct platform_dev platform_devs[];
extern const unsigned platform_ndevs;

#define MAX_LINE 512
#define MAX_DEFS 16
#define MAX_FIELDS 256

static const char *cfg_path;
static int lineno;
static bool check_files = true;
static const char *defs[MAX_DEFS][2];
static int ndefs;

static struct sys_config cfg;
static char image_paths[CFG_MAX_VMS][3][256];

/* Where each field was given, to point errors from config_check at a line. */
static struct {
	char field[48];
	int line;
} fields[MAX_FIELDS];
static int nfields;

static void __attribute__((noreturn, format(printf, 2, 3))) die(const char *field, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: %s: ", cfg_path, lineno, field);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void remember(const char *field)
{
	if (nfields < MAX_FIELDS) {
		snprintf(fields[nfields].field, sizeof(fields[0].field), "%s", field);
		fields[nfields++].line = lineno;
	}
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = 0;
	return s;
}

/* ${VAR} from -D definitions. */
static void substitute(const char *in, char *out, size_t size, const char *field)
{
	size_t n = 0;

	while (*in && n + 1 < size) {
		if (in[0] == '$' && in[1] == '{') {
			const char *end = strchr(in, '}');
			if (!end)
				die(field, "unterminated ${...}");
			size_t len = (size_t)(end - in - 2);
			int i;
			for (i = 0; i < ndefs; i++)
				if (strlen(defs[i][0]) == len && !strncmp(defs[i][0], in + 2, len))
					break;
			if (i == ndefs)
				die(field, "${%.*s} is not defined (cfgc -D %.*s=...)", (int)len, in + 2,
				    (int)len, in + 2);
			n += (size_t)snprintf(out + n, size - n, "%s", defs[i][1]);
			in = end + 1;
		} else {
			out[n++] = *in++;
		}
	}
	out[n < size ? n : size - 1] = 0;
}

static uint64_t number(const char *s, const char *field)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (end == s || errno)
		die(field, "'%s' is not a number", s);
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	}
	if (*trim(end))
		die(field, "'%s' is not a number", s);
	if (shift && v > (~0ULL >> shift))
		die(field, "'%s' is too large", s);
	return (uint64_t)v << shift;
}

/* "BASE + SIZE" -> base, size; returns the rest after SIZE. */
static char *base_plus_size(char *v, uint64_t *base, uint64_t *size, const char *field)
{
	char *plus = strchr(v, '+');
	if (!plus)
		die(field, "expected 'BASE + SIZE'");
	*plus = 0;
	*base = number(trim(v), field);
	char *rest = trim(plus + 1);
	char *sp = rest;
	while (*sp && !isspace((unsigned char)*sp))
		sp++;
	char *after = *sp ? sp + 1 : sp;
	*sp = 0;
	*size = number(rest, field);
	return trim(after);
}

static void parse_system(const char *key, char *v)
{
	char field[48];

	snprintf(field, sizeof(field), "system: %s", key);
	remember(field);
	if (!strcmp(key, "ram")) {
		if (*base_plus_size(v, &cfg.ram_base, &cfg.ram_size, field))
			die(field, "unexpected text after the size");
	} else if (!strcmp(key, "hypervisor")) {
		if (*base_plus_size(v, &cfg.hv_base, &cfg.hv_size, field))
			die(field, "unexpected text after the size");
	} else if (!strcmp(key, "cpus")) {
		cfg.ncpus = (uint32_t)number(v, field);
	} else if (!strcmp(key, "hv-disk")) {
		unsigned i;
		for (i = 0; i < platform_ndevs; i++)
			if (!strcmp(platform_devs[i].name, v))
				break;
		if (i == platform_ndevs)
			die(field, "no device '%s' on this board", v);
		snprintf(cfg.hv_disk.name, sizeof(cfg.hv_disk.name), "%s", v);
		cfg.hv_disk.pa = platform_devs[i].pa;
		cfg.hv_disk.size = platform_devs[i].size;
		cfg.hv_disk.irqs[0] = platform_devs[i].irq;
		cfg.hv_disk.nirqs = 1;
	} else {
		die(field, "unknown key (known: ram, hypervisor, cpus, hv-disk)");
	}
}

static void parse_image(struct cfg_vm *vm, unsigned vi, int which, char *v, const char *field)
{
	struct cfg_image *img = which == 0 ? &vm->kernel : which == 1 ? &vm->initrd : &vm->dtb;
	char *at = strchr(v, '@');

	if (!at)
		die(field, "expected 'PATH @ ADDRESS'");
	*at = 0;
	char *path = trim(v);
	img->pa = number(trim(at + 1), field);
	snprintf(image_paths[vi][which], sizeof(image_paths[0][0]), "%s", path);
	if (check_files) {
		struct stat st;
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			die(field, "image file '%s' is missing", path);
		img->size = (uint64_t)st.st_size;
	}
}

static void parse_cpus(struct cfg_vm *vm, char *v, const char *field)
{
	for (char *tok = strtok(v, " \t,"); tok; tok = strtok(NULL, " \t,")) {
		if (vm->ncpus >= CFG_MAX_CPUS)
			die(field, "at most %d CPUs", CFG_MAX_CPUS);
		vm->cpus[vm->ncpus++] = (uint32_t)number(tok, field);
	}
}

static void parse_memory(struct cfg_vm *vm, char *v, const char *field)
{
	struct cfg_mem *m;

	if (vm->nmem >= CFG_MAX_MEM)
		die(field, "at most %d memory regions", CFG_MAX_MEM);
	m = &vm->mem[vm->nmem++];
	char *rest = base_plus_size(v, &m->ipa, &m->size, field);
	m->pa = m->ipa;
	if (!strncmp(rest, "at ", 3))
		m->pa = number(trim(rest + 3), field);
	else if (*rest)
		die(field, "expected 'IPA + SIZE [at PA]'");
}

static void parse_device(struct cfg_vm *vm, const char *v, const char *field)
{
	unsigned i;

	if (vm->ndevs >= CFG_MAX_DEVS)
		die(field, "at most %d devices", CFG_MAX_DEVS);
	for (i = 0; i < platform_ndevs; i++)
		if (!strcmp(platform_devs[i].name, v))
			break;
	if (i == platform_ndevs)
		die(field, "no device '%s' on this board", v);
	struct cfg_passthrough *d = &vm->devs[vm->ndevs++];
	snprintf(d->name, sizeof(d->name), "%s", v);
	d->pa = platform_devs[i].pa;
	d->size = platform_devs[i].size;
	d->irqs[0] = platform_devs[i].irq;
	d->nirqs = 1;
}

/* virtio-blk = SLOT mediated disk=N size=S [ro] | SLOT hv [size=S] [ro] */
static void parse_virtio_blk(struct cfg_vm *vm, char *v, const char *field)
{
	if (vm->nvirtio >= CFG_MAX_VIRTIO)
		die(field, "at most %d virtio devices", CFG_MAX_VIRTIO);
	struct cfg_virtio *d = &vm->virtio[vm->nvirtio++];
	d->type = CFG_VIRTIO_BLK;
	char *tok = strtok(v, " \t");
	if (!tok)
		die(field, "expected 'SLOT mediated|hv [disk=N] [size=S] [ro]'");
	d->slot = (uint32_t)number(tok, field);
	tok = strtok(NULL, " \t");
	if (tok && !strcmp(tok, "mediated"))
		d->backend = CFG_BLK_MEDIATED;
	else if (tok && !strcmp(tok, "hv"))
		d->backend = CFG_BLK_HV_DRIVER;
	else
		die(field, "backend must be 'mediated' or 'hv'");
	while ((tok = strtok(NULL, " \t"))) {
		if (!strncmp(tok, "disk=", 5))
			d->disk = (uint32_t)number(tok + 5, field);
		else if (!strncmp(tok, "size=", 5))
			d->sectors = number(tok + 5, field) / 512;
		else if (!strcmp(tok, "ro"))
			d->read_only = 1;
		else
			die(field, "unknown option '%s'", tok);
	}
}

static void parse_vm(unsigned vi, const char *key, char *v)
{
	struct cfg_vm *vm = &cfg.vms[vi];
	char field[48];
	int idx = !strcmp(key, "memory")   ? (int)vm->nmem
		  : !strcmp(key, "device") ? (int)vm->ndevs
		  : !strcmp(key, "virtio-blk") ? (int)vm->nvirtio
					       : -1;

	if (idx >= 0)
		snprintf(field, sizeof(field), "vm %s: %s[%d]", vm->name,
			 !strcmp(key, "virtio-blk") ? "virtio" : key, idx);
	else
		snprintf(field, sizeof(field), "vm %s: %s", vm->name, key);
	remember(field);
	if (!strcmp(key, "role")) {
		if (!strcmp(v, "mvm"))
			vm->role = VM_ROLE_MVM;
		else if (!strcmp(v, "gvm"))
			vm->role = VM_ROLE_GVM;
		else
			die(field, "must be mvm or gvm");
	} else if (!strcmp(key, "cpus")) {
		parse_cpus(vm, v, field);
	} else if (!strcmp(key, "memory")) {
		parse_memory(vm, v, field);
	} else if (!strcmp(key, "kernel")) {
		parse_image(vm, vi, 0, v, field);
	} else if (!strcmp(key, "initrd")) {
		parse_image(vm, vi, 1, v, field);
	} else if (!strcmp(key, "dtb")) {
		parse_image(vm, vi, 2, v, field);
	} else if (!strcmp(key, "device")) {
		parse_device(vm, v, field);
	} else if (!strcmp(key, "virtio-blk")) {
		parse_virtio_blk(vm, v, field);
	} else {
		die(field, "unknown key (known: role, cpus, memory, kernel, initrd, dtb, device, "
			   "virtio-blk)");
	}
}

static void parse_file(FILE *f)
{
	char raw[MAX_LINE], line[MAX_LINE];
	int vm = -1; /* -2: [system] */
	bool seen_key[CFG_MAX_VMS + 1][8] = {{0}};
	static const char *const once[] = {"role", "cpus", "kernel", "initrd", "dtb",
					   "ram",  "hypervisor", "hv-disk"};

	while (fgets(raw, sizeof(raw), f)) {
		lineno++;
		char *hash = strchr(raw, '#');
		if (hash)
			*hash = 0;
		substitute(trim(raw), line, sizeof(line), "syntax");
		char *s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			char name[CFG_NAME_LEN + 8];
			if (!strcmp(s, "[system]")) {
				vm = -2;
			} else if (sscanf(s, "[vm %23[^]]]", name) == 1) {
				if (cfg.nvms >= CFG_MAX_VMS)
					die("syntax", "at most %d VMs", CFG_MAX_VMS);
				if (strlen(name) >= CFG_NAME_LEN)
					die("syntax", "VM name '%s' longer than %d", name,
					    CFG_NAME_LEN - 1);
				vm = (int)cfg.nvms++;
				snprintf(cfg.vms[vm].name, CFG_NAME_LEN, "%s", name);
			} else {
				die("syntax", "unknown section '%s' (known: [system], [vm NAME])", s);
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			die("syntax", "expected 'key = value'");
		*eq = 0;
		char *key = trim(s), *val = trim(eq + 1);
		if (vm == -1)
			die(key, "key outside a section");
		for (unsigned k = 0; k < 8; k++)
			if (!strcmp(key, once[k])) {
				if (seen_key[vm + 2 > 0 ? vm + 1 : 0][k])
					die(key, "given twice");
				seen_key[vm + 2 > 0 ? vm + 1 : 0][k] = true;
			}
		if (vm == -2)
			parse_system(key, val);
		else
			parse_vm((unsigned)vm, key, val);
	}
}

static int line_of(const char *field)
{
	for (int i = 0; i < nfields; i++)
		if (!strcmp(fields[i].field, field))
			return fields[i].line;
	/* "vm x: memory[2]" given on the line of "vm x: memory[2]"; else the section */
	for (int i = nfields - 1; i >= 0; i--)
		if (!strncmp(fields[i].field, field, strcspn(field, ":")))
			return fields[i].line;
	return lineno;
}

static void write_c(FILE *o)
{
	fprintf(o, "/* Generated by tools/cfgc from %s: do not edit. */\n#include \"vm_config.h\"\n\n",
		cfg_path);
	fprintf(o, "const struct sys_config sys_config = {\n");
	fprintf(o, "\t.ram_base = 0x%llx, .ram_size = 0x%llx,\n", (unsigned long long)cfg.ram_base,
		(unsigned long long)cfg.ram_size);
	fprintf(o, "\t.hv_base = 0x%llx, .hv_size = 0x%llx,\n", (unsigned long long)cfg.hv_base,
		(unsigned long long)cfg.hv_size);
	fprintf(o, "\t.ncpus = %u, .nvms = %u,\n", cfg.ncpus, cfg.nvms);
	fprintf(o, "\t.hv_disk = {\"%s\", 0x%llx, 0x%llx, {%u}, %u},\n", cfg.hv_disk.name,
		(unsigned long long)cfg.hv_disk.pa, (unsigned long long)cfg.hv_disk.size,
		cfg.hv_disk.irqs[0], cfg.hv_disk.nirqs);
	fprintf(o, "\t.vms = {\n");
	for (unsigned v = 0; v < cfg.nvms; v++) {
		const struct cfg_vm *vm = &cfg.vms[v];
		fprintf(o, "\t\t{\n\t\t\t.name = \"%s\", .role = %u, .ncpus = %u, .cpus = {", vm->name,
			vm->role, vm->ncpus);
		for (unsigned i = 0; i < vm->ncpus; i++)
			fprintf(o, "%s%u", i ? ", " : "", vm->cpus[i]);
		fprintf(o, "},\n\t\t\t.nmem = %u, .mem = {", vm->nmem);
		for (unsigned i = 0; i < vm->nmem; i++)
			fprintf(o, "%s{0x%llx, 0x%llx, 0x%llx}", i ? ", " : "",
				(unsigned long long)vm->mem[i].ipa, (unsigned long long)vm->mem[i].pa,
				(unsigned long long)vm->mem[i].size);
		fprintf(o, "},\n");
		const struct cfg_image *img[3] = {&vm->kernel, &vm->initrd, &vm->dtb};
		static const char *const names[3] = {"kernel", "initrd", "dtb"};
		for (unsigned i = 0; i < 3; i++)
			fprintf(o, "\t\t\t.%s = {0x%llx, 0x%llx},\n", names[i],
				(unsigned long long)img[i]->pa, (unsigned long long)img[i]->size);
		fprintf(o, "\t\t\t.ndevs = %u, .devs = {", vm->ndevs);
		for (unsigned i = 0; i < vm->ndevs; i++)
			fprintf(o, "%s{\"%s\", 0x%llx, 0x%llx, {%u}, 1}", i ? ", " : "",
				vm->devs[i].name, (unsigned long long)vm->devs[i].pa,
				(unsigned long long)vm->devs[i].size, vm->devs[i].irqs[0]);
		fprintf(o, "},\n\t\t\t.nvirtio = %u, .virtio = {", vm->nvirtio);
		for (unsigned i = 0; i < vm->nvirtio; i++) {
			const struct cfg_virtio *d = &vm->virtio[i];
			fprintf(o, "%s{.type = %u, .slot = %u, .backend = %u, .disk = %u, "
				   ".sectors = %llu, .read_only = %u}",
				i ? ", " : "", d->type, d->slot, d->backend, d->disk,
				(unsigned long long)d->sectors, d->read_only);
		}
		fprintf(o, "},\n\t\t},\n");
	}
	fprintf(o, "\t},\n};\n");
}

static void write_qemu_args(FILE *o)
{
	for (unsigned v = 0; v < cfg.nvms; v++) {
		const struct cfg_vm *vm = &cfg.vms[v];
		const struct cfg_image *img[3] = {&vm->kernel, &vm->initrd, &vm->dtb};
		for (unsigned i = 0; i < 3; i++)
			if (img[i]->pa && image_paths[v][i][0])
				fprintf(o, "-device\nloader,file=%s,addr=0x%llx,force-raw=on\n",
					image_paths[v][i], (unsigned long long)img[i]->pa);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: cfgc [-D VAR=value]... [--no-files] -o OUT.c [-q QEMU_ARGS] "
			"CONFIG.cfg\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *out = NULL, *qemu = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-D") && i + 1 < argc && ndefs < MAX_DEFS) {
			char *eq = strchr(argv[++i], '=');
			if (!eq)
				usage();
			*eq = 0;
			defs[ndefs][0] = argv[i];
			defs[ndefs++][1] = eq + 1;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "-q") && i + 1 < argc) {
			qemu = argv[++i];
		} else if (!strcmp(argv[i], "--no-files")) {
			check_files = false;
		} else if (argv[i][0] != '-' && !cfg_path) {
			cfg_path = argv[i];
		} else {
			usage();
		}
	}
	if (!cfg_path)
		usage();
	FILE *f = fopen(cfg_path, "r");
	if (!f) {
		fprintf(stderr, "%s: cannot open: %s\n", cfg_path, strerror(errno));
		return 1;
	}
	parse_file(f);
	fclose(f);

	struct cfg_error err;
	if (config_check(&cfg, platform_devs, platform_ndevs, &err)) {
		lineno = line_of(err.field);
		die(err.field, "%s", err.msg);
	}
	if (out) {
		FILE *o = fopen(out, "w");
		if (!o)
			die("output", "cannot write %s", out);
		write_c(o);
		fclose(o);
	}
	if (qemu) {
		FILE *o = fopen(qemu, "w");
		if (!o)
			die("output", "cannot write %s", qemu);
		write_qemu_args(o);
		fclose(o);
	}
	return 0;
}
