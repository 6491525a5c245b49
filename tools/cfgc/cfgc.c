/* cfgc: the sysHyper configuration compiler.
 *
 *   cfgc [-D VAR=value]... [--no-files] [-o OUT.c] [-q QEMU_ARGS] CONFIG.cfg
 *
 * Parses a configuration (the format is described at the top of
 * configs/qemu-virt.cfg), measures the image files, resolves device names
 * against the board's list (hv/platform/qemu-virt/devices.c), runs the
 * checks the hypervisor runs again at boot (hv/core/config_check.c), and
 * writes the C definition of `sys_config` (-o) and QEMU's loader arguments,
 * one per line (-q). Without -o and -q it only checks.
 *
 * Image paths are used as written: relative ones are relative to the
 * directory cfgc runs in. --no-files skips measuring them (sizes are 0),
 * for checking a configuration whose images are not built.
 *
 * Every error is one line, FILE:LINE: FIELD: message, and the exit status
 * is 1; a usage error exits with 2. */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/vm_config.h"


#define MAX_LINE 1024
#define MAX_PATH 512
#define MAX_DEFS 32
#define MAX_LOCS 512
#define FIELD_LEN sizeof(((struct cfg_error *)0)->field)

enum image_kind { IMG_KERNEL, IMG_INITRD, IMG_DTB, IMG_COUNT };
static const char *const image_keys[IMG_COUNT] = {"kernel", "initrd", "dtb"};

static const char *cfg_path;
static bool measure_files = true;
static struct {
	const char *name, *value;
} defs[MAX_DEFS];
static unsigned ndefs;

static struct sys_config cfg;
static char image_path[CFG_MAX_VMS][IMG_COUNT][MAX_PATH];

/* Where each field was given: config_check's errors name a field, and
 * they are reported at the line that set it. */
static struct {
	char field[FIELD_LEN];
	int line;
} locs[MAX_LOCS];
static unsigned nlocs;
static int system_line;          /* line of [system], 0: none yet */
static int vm_line[CFG_MAX_VMS]; /* line of each [vm NAME] */
static int last_line = 1;

/* ---------------------------------------------------------------- errors */

static void __attribute__((noreturn, format(printf, 3, 4)))
die_at(int line, const char *field, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: %s: ", cfg_path, line, field);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn)) usage(const char *why)
{
	if (why)
		fprintf(stderr, "cfgc: %s\n", why);
	fprintf(stderr, "usage: cfgc [-D VAR=value]... [--no-files] [-o OUT.c] [-q QEMU_ARGS] "
			"CONFIG.cfg\n");
	exit(2);
}

/* The line that set `field`, or -1. */
static int loc_find(const char *field)
{
	for (unsigned i = 0; i < nlocs; i++)
		if (!strcmp(locs[i].field, field))
			return locs[i].line;
	return -1;
}

static void loc_add(const char *field, int line)
{
	if (nlocs < MAX_LOCS) {
		snprintf(locs[nlocs].field, sizeof(locs[nlocs].field), "%s", field);
		locs[nlocs++].line = line;
	}
}

/* Best line for a field named by config_check: the line that set it; for
 * "vm X: memory" the first memory line; else the section's header. */
static int line_of_field(const char *field)
{
	char prefix[FIELD_LEN + 1];
	int line = loc_find(field);

	if (line > 0)
		return line;
	snprintf(prefix, sizeof(prefix), "%s[", field);
	for (unsigned i = 0; i < nlocs; i++)
		if (!strncmp(locs[i].field, prefix, strlen(prefix)))
			return locs[i].line;
	for (unsigned v = 0; v < cfg.nvms; v++) {
		size_t n = strlen(cfg.vms[v].name);
		if (!strncmp(field, "vm ", 3) && !strncmp(field + 3, cfg.vms[v].name, n) &&
		    field[3 + n] == ':')
			return vm_line[v];
	}
	return system_line ? system_line : 1;
}

/* ---------------------------------------------------------------- lexing */

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Decimal or 0x-hex, optionally followed by K, M or G (binary multiples). */
static bool parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10, shift = 0, digits = 0;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		unsigned d;
		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
		digits++;
	}
	if (!digits)
		return false;
	switch (toupper((unsigned char)*s)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	}
	if (shift)
		s++;
	if (*s || v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

static uint64_t number(const char *s, int line, const char *field)
{
	uint64_t v;

	if (!parse_u64(s, &v))
		die_at(line, field, "bad number '%s' (decimal or 0x-hex, optional K/M/G)", s);
	return v;
}

static uint32_t number32(const char *s, int line, const char *field)
{
	uint64_t v = number(s, line, field);

	if (v > UINT32_MAX)
		die_at(line, field, "number '%s' is too large", s);
	return (uint32_t)v;
}

/* Replaces each ${VAR} of `in` by its -D value. */
static void substitute(const char *in, char *out, size_t size, int line, const char *field)
{
	size_t n = 0;

	while (*in) {
		const char *piece = in;
		size_t len = 1;

		if (in[0] == '$' && in[1] == '{') {
			const char *end = strchr(in + 2, '}');
			size_t nlen;
			unsigned i;

			if (!end)
				die_at(line, field, "unterminated ${");
			nlen = (size_t)(end - in - 2);
			for (i = ndefs; i-- > 0;) /* the last -D of a name wins */
				if (strlen(defs[i].name) == nlen &&
				    !strncmp(defs[i].name, in + 2, nlen))
					break;
			if (i == (unsigned)-1)
				die_at(line, field,
				       "${%.*s} is not defined (give cfgc -D %.*s=...)", (int)nlen,
				       in + 2, (int)nlen, in + 2);
			piece = defs[i].value;
			len = strlen(piece);
			in = end + 1;
		} else {
			in++;
		}
		if (n + len >= size)
			die_at(line, field, "value too long after substitution");
		memcpy(out + n, piece, len);
		n += len;
	}
	out[n] = '\0';
}

/* "BASE + SIZE[ rest]": returns the rest (maybe ""). */
static char *base_plus_size(char *v, uint64_t *base, uint64_t *size, int line, const char *field,
			    const char *syntax)
{
	char *plus = strchr(v, '+'), *b, *s, *e;

	if (!plus)
		die_at(line, field, "expected '%s'", syntax);
	*plus = '\0';
	b = trim(v);
	s = trim(plus + 1);
	for (e = s; *e && !isspace((unsigned char)*e);)
		e++;
	if (*e)
		*e++ = '\0';
	if (!*b || !*s)
		die_at(line, field, "expected '%s'", syntax);
	*base = number(b, line, field);
	*size = number(s, line, field);
	return trim(e);
}

static const struct platform_dev *platform_lookup(const char *name)
{
	for (unsigned i = 0; i < platform_ndevs; i++)
		if (!strcmp(platform_devs[i].name, name))
			return &platform_devs[i];
	return NULL;
}

static void passthrough_from(struct cfg_passthrough *d, const struct platform_dev *p)
{
	snprintf(d->name, sizeof(d->name), "%s", p->name);
	d->pa = p->pa;
	d->size = p->size;
	d->nirqs = p->nirqs;
	for (unsigned i = 0; i < p->nirqs && i < CFG_MAX_IRQS; i++)
		d->irqs[i] = p->irqs[i];
}

static const struct platform_dev *device_by_name(const char *v, int line, const char *field)
{
	const struct platform_dev *p = platform_lookup(v);

	if (!p)
		die_at(line, field, "unknown device '%s' (known: virtio-mmio0..31, pl031, pl061)",
		       v);
	return p;
}

/* ---------------------------------------------------------------- [system] */

static void system_key(const char *key, char *v, int line, const char *field)
{
	if (!strcmp(key, "ram")) {
		if (*base_plus_size(v, &cfg.ram_base, &cfg.ram_size, line, field, "BASE + SIZE"))
			die_at(line, field, "expected 'BASE + SIZE'");
	} else if (!strcmp(key, "hypervisor")) {
		if (*base_plus_size(v, &cfg.hv_base, &cfg.hv_size, line, field, "BASE + SIZE"))
			die_at(line, field, "expected 'BASE + SIZE'");
	} else if (!strcmp(key, "cpus")) {
		cfg.ncpus = number32(v, line, field);
	} else if (!strcmp(key, "hv-disk")) {
		passthrough_from(&cfg.hv_disk, device_by_name(v, line, field));
	}
}

/* ---------------------------------------------------------------- [vm NAME] */

static void vm_cpus(struct cfg_vm *vm, char *v, int line, const char *field)
{
	for (char *tok = strtok(v, " \t,"); tok; tok = strtok(NULL, " \t,")) {
		if (vm->ncpus >= CFG_MAX_CPUS)
			die_at(line, field, "at most %d CPUs per VM", CFG_MAX_CPUS);
		vm->cpus[vm->ncpus++] = number32(tok, line, field);
	}
	if (!vm->ncpus)
		die_at(line, field, "expected a list of physical CPUs");
}

static void vm_memory(struct cfg_vm *vm, char *v, int line, const char *field)
{
	static const char syntax[] = "IPA + SIZE [at PA]";
	struct cfg_mem *m;
	char *rest;

	if (vm->nmem >= CFG_MAX_MEM)
		die_at(line, field, "at most %d memory regions per VM", CFG_MAX_MEM);
	m = &vm->mem[vm->nmem++];
	rest = base_plus_size(v, &m->ipa, &m->size, line, field, syntax);
	m->pa = m->ipa;
	if (!*rest)
		return;
	if (strncmp(rest, "at", 2) || !isspace((unsigned char)rest[2]))
		die_at(line, field, "expected '%s'", syntax);
	m->pa = number(trim(rest + 2), line, field);
}

static void vm_image(unsigned vi, enum image_kind kind, char *v, int line, const char *field)
{
	struct cfg_vm *vm = &cfg.vms[vi];
	struct cfg_image *images[IMG_COUNT] = {&vm->kernel, &vm->initrd, &vm->dtb};
	struct cfg_image *img = images[kind];
	char *at = strrchr(v, '@'), *path;
	struct stat st;

	if (!at)
		die_at(line, field, "expected 'PATH @ ADDRESS'");
	*at = '\0';
	path = trim(v);
	if (!*path)
		die_at(line, field, "expected 'PATH @ ADDRESS'");
	if (strlen(path) >= MAX_PATH)
		die_at(line, field, "path longer than %d characters", MAX_PATH - 1);
	img->pa = number(trim(at + 1), line, field);
	snprintf(image_path[vi][kind], MAX_PATH, "%s", path);
	if (!measure_files)
		return;
	if (stat(path, &st))
		die_at(line, field, "cannot read image file '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die_at(line, field, "image file '%s' is not a regular file", path);
	img->size = (uint64_t)st.st_size;
}

static void vm_device(struct cfg_vm *vm, char *v, int line, const char *field)
{
	if (vm->ndevs >= CFG_MAX_DEVS)
		die_at(line, field, "at most %d devices per VM", CFG_MAX_DEVS);
	passthrough_from(&vm->devs[vm->ndevs++], device_by_name(v, line, field));
}

/* virtio-blk = SLOT mediated disk=N size=SIZE [ro]  |  SLOT hv [size=SIZE] [ro] */
static void vm_virtio_blk(struct cfg_vm *vm, char *v, int line, const char *field)
{
	static const char syntax[] = "SLOT mediated disk=N size=SIZE [ro]' or 'SLOT hv [size=SIZE] "
				     "[ro]";
	bool have_disk = false, have_size = false;
	struct cfg_virtio *d;
	char *tok;

	if (vm->nvirtio >= CFG_MAX_VIRTIO)
		die_at(line, field, "at most %d virtio devices per VM", CFG_MAX_VIRTIO);
	d = &vm->virtio[vm->nvirtio++];
	d->type = CFG_VIRTIO_BLK;
	tok = strtok(v, " \t");
	if (!tok)
		die_at(line, field, "expected '%s'", syntax);
	d->slot = number32(tok, line, field);
	tok = strtok(NULL, " \t");
	if (tok && !strcmp(tok, "mediated"))
		d->backend = CFG_BLK_MEDIATED;
	else if (tok && !strcmp(tok, "hv"))
		d->backend = CFG_BLK_HV_DRIVER;
	else
		die_at(line, field, "expected '%s'", syntax);
	while ((tok = strtok(NULL, " \t"))) {
		if (!strncmp(tok, "disk=", 5) && d->backend == CFG_BLK_MEDIATED && !have_disk) {
			d->disk = number32(tok + 5, line, field);
			have_disk = true;
		} else if (!strncmp(tok, "size=", 5) && !have_size) {
			uint64_t bytes = number(tok + 5, line, field);
			if (bytes % 512)
				die_at(line, field, "size must be a multiple of 512 bytes");
			d->sectors = bytes / 512;
			have_size = true;
		} else if (!strcmp(tok, "ro") && !d->read_only) {
			d->read_only = 1;
		} else {
			die_at(line, field, "unexpected '%s': expected '%s'", tok, syntax);
		}
	}
	if (d->backend == CFG_BLK_MEDIATED && (!have_disk || !have_size))
		die_at(line, field, "a mediated disk needs disk=N and size=SIZE");
}

/* virtio-net = SLOT mac=XX:XX:XX:XX:XX:XX */
static void vm_virtio_net(struct cfg_vm *vm, char *v, int line, const char *field)
{
	struct cfg_virtio *d;
	char *tok;
	unsigned m[6];
	char tail;

	if (vm->nvirtio >= CFG_MAX_VIRTIO)
		die_at(line, field, "at most %d virtio devices per VM", CFG_MAX_VIRTIO);
	d = &vm->virtio[vm->nvirtio++];
	d->type = CFG_VIRTIO_NET;
	tok = strtok(v, " \t");
	if (!tok)
		die_at(line, field, "expected 'SLOT mac=XX:XX:XX:XX:XX:XX'");
	d->slot = number32(tok, line, field);
	tok = strtok(NULL, " \t");
	if (!tok || strncmp(tok, "mac=", 4) ||
	    sscanf(tok + 4, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
		   &tail) != 6)
		die_at(line, field, "expected 'SLOT mac=XX:XX:XX:XX:XX:XX'");
	for (unsigned i = 0; i < 6; i++)
		d->mac[i] = (uint8_t)m[i];
	if ((tok = strtok(NULL, " \t")))
		die_at(line, field, "unexpected '%s'", tok);
}

static void vm_key(unsigned vi, const char *key, char *v, int line, const char *field)
{
	struct cfg_vm *vm = &cfg.vms[vi];

	if (!strcmp(key, "role")) {
		if (!strcmp(v, "mvm"))
			vm->role = VM_ROLE_MVM;
		else if (!strcmp(v, "gvm"))
			vm->role = VM_ROLE_GVM;
		else
			die_at(line, field, "role must be mvm or gvm, not '%s'", v);
	} else if (!strcmp(key, "cpus")) {
		vm_cpus(vm, v, line, field);
	} else if (!strcmp(key, "memory")) {
		vm_memory(vm, v, line, field);
	} else if (!strcmp(key, "kernel")) {
		vm_image(vi, IMG_KERNEL, v, line, field);
	} else if (!strcmp(key, "initrd")) {
		vm_image(vi, IMG_INITRD, v, line, field);
	} else if (!strcmp(key, "dtb")) {
		vm_image(vi, IMG_DTB, v, line, field);
	} else if (!strcmp(key, "device")) {
		vm_device(vm, v, line, field);
	} else if (!strcmp(key, "virtio-blk")) {
		vm_virtio_blk(vm, v, line, field);
	} else if (!strcmp(key, "virtio-net")) {
		vm_virtio_net(vm, v, line, field);
	} else if (!strcmp(key, "virtio-console")) {
		struct cfg_virtio *d;
		if (vm->nvirtio >= CFG_MAX_VIRTIO)
			die_at(line, field, "at most %d virtio devices per VM", CFG_MAX_VIRTIO);
		d = &vm->virtio[vm->nvirtio++];
		d->type = CFG_VIRTIO_CONSOLE;
		d->slot = number32(v, line, field);
	}
}

/* ---------------------------------------------------------------- the file */

static const char *const system_keys[] = {"ram", "hypervisor", "cpus", "hv-disk", NULL};
static const char *const system_required[] = {"ram", "hypervisor", "cpus", NULL};
static const char *const vm_keys[] = {
	"role", "cpus", "memory", "kernel", "initrd", "dtb", "device", "virtio-blk", "virtio-net",
	"virtio-console", NULL,
};
static const char *const vm_required[] = {"role", "cpus", "memory", "kernel", "dtb", NULL};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

static void known_keys(char *buf, size_t size, const char *const *list)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *list && n < size; list++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", *list);
}

static bool valid_vm_name(const char *s)
{
	if (!*s || strlen(s) >= CFG_NAME_LEN)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

/* Current section: -1 none, -2 [system], else the VM index. */
#define SEC_NONE (-1)
#define SEC_SYSTEM (-2)

static int section_header(char *s, int line)
{
	char *close = strchr(s, ']'), *inner;

	if (!close || trim(close + 1)[0])
		die_at(line, "syntax", "expected '[system]' or '[vm NAME]'");
	*close = '\0';
	inner = trim(s + 1);
	if (!strcmp(inner, "system")) {
		if (system_line)
			die_at(line, "syntax",
			       "a second [system] section (the first is on line %d)", system_line);
		system_line = line;
		return SEC_SYSTEM;
	}
	if (!strncmp(inner, "vm", 2) && isspace((unsigned char)inner[2])) {
		char *name = trim(inner + 2);
		char field[FIELD_LEN];
		if (!valid_vm_name(name))
			die_at(line, "syntax",
			       "bad VM name '%s' (1 to %d letters, digits, '-', '_' or '.')", name,
			       CFG_NAME_LEN - 1);
		snprintf(field, sizeof(field), "vm %s: name", name);
		for (unsigned v = 0; v < cfg.nvms; v++)
			if (!strcmp(cfg.vms[v].name, name))
				die_at(line, field, "a VM named '%s' is already defined on line %d",
				       name, vm_line[v]);
		if (cfg.nvms >= CFG_MAX_VMS)
			die_at(line, "syntax", "at most %d VMs", CFG_MAX_VMS);
		snprintf(cfg.vms[cfg.nvms].name, CFG_NAME_LEN, "%s", name);
		vm_line[cfg.nvms] = line;
		loc_add(field, line);
		return (int)cfg.nvms++;
	}
	die_at(line, "syntax", "unknown section '[%s]' (known: [system], [vm NAME])", inner);
}

/* The field config_check would name for `key` given now in the section. */
static void field_for(char *field, size_t size, int sec, const char *key)
{
	if (sec == SEC_SYSTEM) {
		snprintf(field, size, "system: %s", key);
		return;
	}
	const struct cfg_vm *vm = &cfg.vms[sec];
	if (!strcmp(key, "memory"))
		snprintf(field, size, "vm %s: memory[%u]", vm->name, vm->nmem);
	else if (!strcmp(key, "device"))
		snprintf(field, size, "vm %s: device[%u]", vm->name, vm->ndevs);
	else if (!strncmp(key, "virtio-", 7))
		snprintf(field, size, "vm %s: virtio[%u]", vm->name, vm->nvirtio);
	else
		snprintf(field, size, "vm %s: %.24s", vm->name, key);
}

static void key_line(int sec, char *s, int line)
{
	char *eq = strchr(s, '='), *key, *raw;
	char field[FIELD_LEN], value[MAX_LINE], known[128];
	bool sys = sec == SEC_SYSTEM;
	int first;

	if (!eq)
		die_at(line, "syntax", "expected 'key = value' or a [section]");
	*eq = '\0';
	key = trim(s);
	raw = trim(eq + 1);
	if (!*key)
		die_at(line, "syntax", "missing key before '='");
	if (sec == SEC_NONE)
		die_at(line, "syntax", "'%s' outside a section: start with [system]", key);
	field_for(field, sizeof(field), sec, key);
	if (!in_list(sys ? system_keys : vm_keys, key)) {
		known_keys(known, sizeof(known), sys ? system_keys : vm_keys);
		die_at(line, field, "unknown key '%s' in [%s] (known: %s)", key,
		       sys ? "system" : "vm", known);
	}
	first = loc_find(field);
	if (first > 0)
		die_at(line, field, "duplicate key '%s' (first given on line %d)", key, first);
	if (!*raw)
		die_at(line, field, "missing value");
	loc_add(field, line);
	substitute(raw, value, sizeof(value), line, field);
	if (sys)
		system_key(key, value, line, field);
	else
		vm_key((unsigned)sec, key, value, line, field);
}

static void parse(FILE *f)
{
	char buf[MAX_LINE + 2];
	int line = 0, sec = SEC_NONE;

	while (fgets(buf, sizeof(buf), f)) {
		size_t len = strlen(buf);
		char *s, *hash;

		line++;
		if (len > MAX_LINE || (len == sizeof(buf) - 1 && buf[len - 1] != '\n'))
			die_at(line, "syntax", "line longer than %d characters", MAX_LINE);
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		s = trim(buf);
		if (!*s)
			continue;
		if (*s == '[')
			sec = section_header(s, line);
		else
			key_line(sec, s, line);
	}
	if (ferror(f))
		die_at(line, "syntax", "read error: %s", strerror(errno));
	last_line = line > 0 ? line : 1;
}

/* Keys a section cannot go without; reported at its header. */
static void check_required(void)
{
	char field[FIELD_LEN];

	if (!system_line)
		die_at(last_line, "system", "the [system] section is missing");
	for (const char *const *k = system_required; *k; k++) {
		snprintf(field, sizeof(field), "system: %s", *k);
		if (loc_find(field) < 0)
			die_at(system_line, field, "missing required key '%s'", *k);
	}
	for (unsigned v = 0; v < cfg.nvms; v++)
		for (const char *const *k = vm_required; *k; k++) {
			char indexed[FIELD_LEN + 4];
			snprintf(field, sizeof(field), "vm %s: %s", cfg.vms[v].name, *k);
			snprintf(indexed, sizeof(indexed), "%s[0]", field);
			if (loc_find(field) < 0 && loc_find(indexed) < 0)
				die_at(vm_line[v], field, "missing required key '%s'", *k);
		}
}

/* ---------------------------------------------------------------- output */

static void c_string(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(o, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			fprintf(o, "\\%03o", c);
		else
			fputc(c, o);
	}
	fputc('"', o);
}

static void c_passthrough(FILE *o, const struct cfg_passthrough *d)
{
	fputs("{.name = ", o);
	c_string(o, d->name);
	fprintf(o, ", .pa = 0x%" PRIx64 ", .size = 0x%" PRIx64 ", .irqs = {", d->pa, d->size);
	for (unsigned i = 0; i < d->nirqs; i++)
		fprintf(o, "%s%" PRIu32, i ? ", " : "", d->irqs[i]);
	fprintf(o, "}, .nirqs = %" PRIu32 "}", d->nirqs);
}

static void c_image(FILE *o, const char *key, const struct cfg_image *img)
{
	fprintf(o, "\t\t\t.%s = {.pa = 0x%" PRIx64 ", .size = 0x%" PRIx64 "},\n", key, img->pa,
		img->size);
}

static void c_vm(FILE *o, const struct cfg_vm *vm)
{
	fputs("\t\t{\n\t\t\t.name = ", o);
	c_string(o, vm->name);
	fprintf(o, ",\n\t\t\t.role = %s,\n",
		vm->role == VM_ROLE_MVM ? "VM_ROLE_MVM" : "VM_ROLE_GVM");
	fprintf(o, "\t\t\t.ncpus = %" PRIu32 ",\n\t\t\t.cpus = {", vm->ncpus);
	for (unsigned i = 0; i < vm->ncpus; i++)
		fprintf(o, "%s%" PRIu32, i ? ", " : "", vm->cpus[i]);
	fprintf(o, "},\n\t\t\t.nmem = %" PRIu32 ",\n\t\t\t.mem = {\n", vm->nmem);
	for (unsigned i = 0; i < vm->nmem; i++)
		fprintf(o,
			"\t\t\t\t{.ipa = 0x%" PRIx64 ", .pa = 0x%" PRIx64 ", .size = 0x%" PRIx64
			"},\n",
			vm->mem[i].ipa, vm->mem[i].pa, vm->mem[i].size);
	fputs("\t\t\t},\n", o);
	c_image(o, image_keys[IMG_KERNEL], &vm->kernel);
	c_image(o, image_keys[IMG_INITRD], &vm->initrd);
	c_image(o, image_keys[IMG_DTB], &vm->dtb);
	fprintf(o, "\t\t\t.ndevs = %" PRIu32 ",\n", vm->ndevs);
	if (vm->ndevs)
		fputs("\t\t\t.devs = {\n", o);
	for (unsigned i = 0; i < vm->ndevs; i++) {
		fputs("\t\t\t\t", o);
		c_passthrough(o, &vm->devs[i]);
		fputs(i + 1 < vm->ndevs ? ",\n" : ",\n\t\t\t},\n", o);
	}
	fprintf(o, "\t\t\t.nvirtio = %" PRIu32 ",\n", vm->nvirtio);
	if (vm->nvirtio)
		fputs("\t\t\t.virtio = {\n", o);
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		const struct cfg_virtio *d = &vm->virtio[i];
		fprintf(o,
			"\t\t\t\t{.type = %" PRIu32 ", .slot = %" PRIu32 ", .backend = %" PRIu32
			", .disk = %" PRIu32 ", .sectors = %" PRIu64 ", .read_only = %" PRIu32
			", .mac = {%u, %u, %u, %u, %u, %u}},\n",
			d->type, d->slot, d->backend, d->disk, d->sectors, d->read_only, d->mac[0],
			d->mac[1], d->mac[2], d->mac[3], d->mac[4], d->mac[5]);
	}
	fputs(vm->nvirtio ? "\t\t\t},\n\t\t},\n" : "\t\t},\n", o);
}

static void write_c(FILE *o)
{
	fputs("/* Generated by tools/cfgc from ", o);
	for (const char *p = cfg_path; *p; p++) /* keep the comment closed */
		fputc(p[0] == '*' && p[1] == '/' ? '_' : p[0], o);
	fputs(": do not edit. */\n#include \"core/vm_config.h\"\n\n", o);
	fputs("const struct sys_config sys_config = {\n", o);
	fprintf(o, "\t.ram_base = 0x%" PRIx64 ",\n\t.ram_size = 0x%" PRIx64 ",\n", cfg.ram_base,
		cfg.ram_size);
	fprintf(o, "\t.hv_base = 0x%" PRIx64 ",\n\t.hv_size = 0x%" PRIx64 ",\n", cfg.hv_base,
		cfg.hv_size);
	fprintf(o, "\t.ncpus = %" PRIu32 ",\n", cfg.ncpus);
	if (cfg.hv_disk.pa) {
		fputs("\t.hv_disk = ", o);
		c_passthrough(o, &cfg.hv_disk);
		fputs(",\n", o);
	}
	fprintf(o, "\t.nvms = %" PRIu32 ",\n\t.vms = {\n", cfg.nvms);
	for (unsigned v = 0; v < cfg.nvms; v++)
		c_vm(o, &cfg.vms[v]);
	fputs("\t},\n};\n", o);
}

/* QEMU's option syntax: a ',' inside a value is written ",,". */
static void qemu_value(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == ',')
			fputc(',', o);
		fputc(*s, o);
	}
}

static void write_qemu_args(FILE *o)
{
	for (unsigned v = 0; v < cfg.nvms; v++) {
		const struct cfg_vm *vm = &cfg.vms[v];
		const struct cfg_image *img[IMG_COUNT] = {&vm->kernel, &vm->initrd, &vm->dtb};
		for (unsigned i = 0; i < IMG_COUNT; i++) {
			if (!image_path[v][i][0])
				continue;
			fputs("-device\nloader,file=", o);
			qemu_value(o, image_path[v][i]);
			fprintf(o, ",addr=0x%" PRIx64 ",force-raw=on\n", img[i]->pa);
		}
	}
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

/* ---------------------------------------------------------------- main */

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

int main(int argc, char **argv)
{
	const char *out = NULL, *qemu = NULL;
	struct cfg_error err;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-D") || !strcmp(a, "-o") || !strcmp(a, "-q")) {
			if (i + 1 >= argc)
				usage("an option needs an argument");
			if (a[1] == 'D')
				define(argv[++i]);
			else if (a[1] == 'o')
				out = argv[++i];
			else
				qemu = argv[++i];
		} else if (!strncmp(a, "-D", 2)) {
			define(argv[i] + 2);
		} else if (!strcmp(a, "--no-files")) {
			measure_files = false;
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

	f = fopen(cfg_path, "r");
	if (!f) {
		fprintf(stderr, "%s:0: file: cannot open: %s\n", cfg_path, strerror(errno));
		return 1;
	}
	parse(f);
	fclose(f);
	check_required();
	if (config_check(&cfg, platform_devs, platform_ndevs, &err))
		die_at(line_of_field(err.field), err.field, "%s", err.msg);

	if (out)
		write_file(out, write_c);
	if (qemu)
		write_file(qemu, write_qemu_args);
	return 0;
}
