/* The configuration file into cfg (what the hypervisor gets) and vmb (what
 * the build needs). The syntax is described at the top of
 * configs/qemu-virt.cfg; every error names the line and the field. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfgc.h"

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

static bool yes_no(const char *v, int line, const char *field)
{
	if (!strcmp(v, "yes"))
		return true;
	if (!strcmp(v, "no"))
		return false;
	die_at(line, field, "expected 'yes' or 'no', not '%s'", v);
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
			char name[64];
			size_t nlen;

			if (!end)
				die_at(line, field, "unterminated ${");
			nlen = (size_t)(end - in - 2);
			snprintf(name, sizeof(name), "%.*s", (int)nlen, in + 2);
			piece = nlen < sizeof(name) ? define_value(name) : NULL;
			if (!piece)
				die_at(line, field,
				       "${%.*s} is not defined (give cfgc -D %.*s=...)", (int)nlen,
				       in + 2, (int)nlen, in + 2);
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

/* ---------------------------------------------------------------- devices */

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

static bool is_virtio_mmio(const char *name, uint32_t *slot)
{
	char *end;
	unsigned long n;

	if (strncmp(name, "virtio-mmio", 11) || !isdigit((unsigned char)name[11]))
		return false;
	n = strtoul(name + 11, &end, 10);
	*slot = (uint32_t)n;
	return !*end;
}

/* "NAME [disk=FILE | net=user]": a board device and what QEMU attaches to
 * it (only virtio-mmio slots carry something; net=user only if `net_ok`). */
static void board_device(struct cfg_passthrough *d, char *v, bool net_ok, int line,
			 const char *field)
{
	char *name = strtok(v, " \t"), *tok;
	const struct platform_dev *p = name ? platform_lookup(name) : NULL;
	struct qemu_dev q = {.kind = QB_NONE, .line = line};

	if (!p)
		die_at(line, field, "unknown device '%s' (known: virtio-mmio0..31, pl031, pl061)",
		       name ? name : "");
	passthrough_from(d, p);
	while ((tok = strtok(NULL, " \t"))) {
		if (q.kind != QB_NONE || !is_virtio_mmio(p->name, &q.slot))
			die_at(line, field, "unexpected '%s'", tok);
		if (!strncmp(tok, "disk=", 5) && tok[5]) {
			if (strlen(tok + 5) >= MAX_PATH)
				die_at(line, field, "path longer than %d characters", MAX_PATH - 1);
			q.kind = QB_DISK;
			snprintf(q.file, sizeof(q.file), "%s", tok + 5);
		} else if (net_ok && !strcmp(tok, "net=user")) {
			q.kind = QB_NET_USER;
		} else {
			die_at(line, field, "unexpected '%s': expected disk=FILE%s", tok,
			       net_ok ? " or net=user" : "");
		}
	}
	snprintf(q.field, sizeof(q.field), "%s", field);
	if (q.kind != QB_NONE && nqemu_devs < MAX_QEMU_DEVS)
		qemu_devs[nqemu_devs++] = q;
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
		board_device(&cfg.hv_disk, v, false, line, field);
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

/* "PATH @ ADDRESS", or "@ ADDRESS" for an initrd or DTB the build makes
 * (images.c names and measures the files once the whole file is read). */
static void vm_image(unsigned vi, enum image_kind kind, char *v, int line, const char *field)
{
	struct cfg_vm *vm = &cfg.vms[vi];
	struct cfg_image *images[IMG_COUNT] = {&vm->kernel, &vm->initrd, &vm->dtb};
	char *at = strrchr(v, '@'), *path;

	if (!at)
		die_at(line, field, "expected 'PATH @ ADDRESS'%s",
		       kind == IMG_KERNEL ? "" : " or '@ ADDRESS' (built from the configuration)");
	*at = '\0';
	path = trim(v);
	if (strlen(path) >= MAX_PATH)
		die_at(line, field, "path longer than %d characters", MAX_PATH - 1);
	if (!*path && kind == IMG_KERNEL)
		die_at(line, field, "expected 'PATH @ ADDRESS': the build does not make kernels");
	images[kind]->pa = number(trim(at + 1), line, field);
	vmb[vi].generated[kind] = !*path;
	snprintf(vmb[vi].path[kind], MAX_PATH, "%s", path);
}

static void vm_device(struct cfg_vm *vm, char *v, int line, const char *field)
{
	if (vm->ndevs >= CFG_MAX_DEVS)
		die_at(line, field, "at most %d devices per VM", CFG_MAX_DEVS);
	board_device(&vm->devs[vm->ndevs++], v, true, line, field);
}

static struct cfg_virtio *new_virtio(struct cfg_vm *vm, uint32_t type, int line, const char *field)
{
	struct cfg_virtio *d;

	if (vm->nvirtio >= CFG_MAX_VIRTIO)
		die_at(line, field, "at most %d virtio devices per VM", CFG_MAX_VIRTIO);
	d = &vm->virtio[vm->nvirtio++];
	d->type = type;
	return d;
}

/* An absolute path with no empty, "." or ".." component: one file has one
 * spelling, so the overlap check's comparison of paths means something
 * (symbolic links and partitions of one disk it still cannot see). */
static bool path_is_canonical(const char *path)
{
	for (const char *c = path; *c; c++) {
		if (*c != '/')
			continue;
		const char *next = c + 1;
		size_t len = strcspn(next, "/");
		if (len == 0 || (len == 1 && next[0] == '.') ||
		    (len == 2 && next[0] == '.' && next[1] == '.'))
			return false;
	}
	return true;
}

/* backing=PATH: a file or block device in the MVM, as syshyperd reads it
 * (one word, no '#': its comments). */
static void blk_backing(struct med_backing *b, const char *path, int line, const char *field)
{
	if (path[0] != '/')
		die_at(line, field, "backing=%s: expected an absolute path in the MVM", path);
	if (strlen(path) >= sizeof(b->path))
		die_at(line, field, "backing path longer than %zu characters", sizeof(b->path) - 1);
	for (const char *c = path; *c; c++)
		if (*c <= ' ' || *c > '~' || *c == '#')
			die_at(line, field, "backing: a path of printable characters but '#'");
	if (!path_is_canonical(path))
		die_at(line, field,
		       "backing=%s: write the path without empty, '.' or '..' parts "
		       "(regions are compared by path)",
		       path);
	snprintf(b->path, sizeof(b->path), "%s", path);
}

/* The region [offset, offset + size) must be addressable with off_t. */
static void blk_region(const struct cfg_virtio *d, const struct med_backing *b, int line,
		       const char *field)
{
	if (b->offset % 512)
		die_at(line, field, "offset must be a multiple of 512 bytes");
	if (d->sectors > (uint64_t)INT64_MAX / 512 ||
	    b->offset > (uint64_t)INT64_MAX - d->sectors * 512)
		die_at(line, field, "offset + size is beyond what a file can hold (2^63 bytes)");
}

/* virtio-blk = SLOT mediated disk=N size=SIZE backing=PATH [offset=BYTES] [ro]
 *            | SLOT hv [size=SIZE] [ro] */
static void vm_virtio_blk(struct cfg_vm *vm, struct vm_build *vb, char *v, int line,
			  const char *field)
{
	static const char syntax[] = "SLOT mediated disk=N size=SIZE backing=PATH [offset=BYTES] "
				     "[ro]' or 'SLOT hv [size=SIZE] [ro]";
	struct cfg_virtio *d = new_virtio(vm, CFG_VIRTIO_BLK, line, field);
	struct med_backing *b = &vb->backing[vm->nvirtio - 1];
	bool have_disk = false, have_size = false, have_offset = false;
	char *tok = strtok(v, " \t");

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
		bool med = d->backend == CFG_BLK_MEDIATED;
		if (!strncmp(tok, "disk=", 5) && med && !have_disk) {
			d->disk = number32(tok + 5, line, field);
			have_disk = true;
		} else if (!strncmp(tok, "size=", 5) && !have_size) {
			uint64_t bytes = number(tok + 5, line, field);
			if (bytes % 512)
				die_at(line, field, "size must be a multiple of 512 bytes");
			d->sectors = bytes / 512;
			have_size = true;
		} else if (!strncmp(tok, "backing=", 8) && med && !b->path[0]) {
			blk_backing(b, tok + 8, line, field);
		} else if (!strncmp(tok, "offset=", 7) && med && !have_offset) {
			b->offset = number(tok + 7, line, field);
			have_offset = true;
		} else if (!strcmp(tok, "ro") && !d->read_only) {
			d->read_only = 1;
		} else {
			die_at(line, field, "unexpected '%s': expected '%s'", tok, syntax);
		}
	}
	if (d->backend != CFG_BLK_MEDIATED)
		return;
	if (!have_disk || !have_size)
		die_at(line, field, "a mediated disk needs disk=N and size=SIZE");
	if (!b->path[0])
		die_at(line, field,
		       "a mediated disk needs backing=PATH (the file or block device "
		       "serving it in the MVM)");
	blk_region(d, b, line, field);
}

/* Storm control's defaults: what a port may flood (broadcast, multicast)
 * without flood-rate/flood-burst. A VM's legitimate flooded traffic (ARP,
 * DHCP, IPv6 ND, mDNS, IGMP/MLD) is a few frames a second, tens in a burst
 * when an interface comes up or a subnet is ARP-scanned: 64 at once and
 * 1000 a second are far above that. Every flooded frame costs each other
 * VM an RX buffer and a wake-up; at 1000 a second, 64 at once, a receiver
 * with a 256-entry ring is never filled by one flooder, where an unlimited
 * guest (8000/s in the system test) starved the others' rings. */
#define FLOOD_RATE_DEFAULT 1000
#define FLOOD_BURST_DEFAULT 64

/* virtio-net = SLOT mac=XX:XX:XX:XX:XX:XX [flood-rate=N] [flood-burst=N] */
static void vm_virtio_net(struct cfg_vm *vm, char *v, int line, const char *field)
{
	static const char syntax[] = "SLOT mac=XX:XX:XX:XX:XX:XX [flood-rate=FRAMES/S] "
				     "[flood-burst=FRAMES]";
	struct cfg_virtio *d = new_virtio(vm, CFG_VIRTIO_NET, line, field);
	bool have_rate = false, have_burst = false;
	char *tok = strtok(v, " \t");
	unsigned m[6];
	char tail;

	if (!tok)
		die_at(line, field, "expected '%s'", syntax);
	d->slot = number32(tok, line, field);
	tok = strtok(NULL, " \t");
	if (!tok || strncmp(tok, "mac=", 4) ||
	    sscanf(tok + 4, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
		   &tail) != 6)
		die_at(line, field, "expected '%s'", syntax);
	for (unsigned i = 0; i < 6; i++)
		d->mac[i] = (uint8_t)m[i];
	while ((tok = strtok(NULL, " \t"))) {
		if (!strncmp(tok, "flood-rate=", 11) && !have_rate) {
			d->flood_rate = number32(tok + 11, line, field);
			have_rate = true;
		} else if (!strncmp(tok, "flood-burst=", 12) && !have_burst) {
			d->flood_burst = number32(tok + 12, line, field);
			have_burst = true;
		} else {
			die_at(line, field, "unexpected '%s': expected '%s'", tok, syntax);
		}
	}
	if (!have_rate)
		d->flood_rate = FLOOD_RATE_DEFAULT;
	if (!have_burst && d->flood_rate) /* no limit: no burst (config_check) */
		d->flood_burst = FLOOD_BURST_DEFAULT;
}

/* mediated-area = SIZE [@ PA]: the MVM's area for mediated disks; without
 * an address it goes at the top of the MVM's memory (place_med_area). */
static void vm_med_area(struct cfg_vm *vm, char *v, int line, const char *field)
{
	char *at = strchr(v, '@');

	if (at) {
		*at = '\0';
		vm->med_area.pa = number(trim(at + 1), line, field);
		if (!vm->med_area.pa)
			die_at(line, field, "expected 'SIZE [@ ADDRESS]' with a non-zero address");
	}
	if (!*trim(v))
		die_at(line, field, "expected 'SIZE [@ ADDRESS]'");
	vm->med_area.size = number(trim(v), line, field);
	if (!vm->med_area.size)
		die_at(line, field, "the size must not be 0");
}

/* bootargs = "..." : the kernel command line, one double-quoted string. */
static void vm_bootargs(struct vm_build *b, const char *v, int line, const char *field)
{
	size_t n = strlen(v);

	if (n < 2 || v[0] != '"' || v[n - 1] != '"' || memchr(v + 1, '"', n - 2))
		die_at(line, field, "expected one double-quoted string");
	if (n - 2 >= sizeof(b->bootargs))
		die_at(line, field, "longer than %zu characters", sizeof(b->bootargs) - 1);
	for (size_t i = 1; i + 1 < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == '\\')
			die_at(line, field, "control characters and '\\' are not allowed");
	snprintf(b->bootargs, sizeof(b->bootargs), "%.*s", (int)(n - 2), v + 1);
}

static void vm_key(unsigned vi, const char *key, char *v, int line, const char *field)
{
	struct cfg_vm *vm = &cfg.vms[vi];
	struct vm_build *b = &vmb[vi];

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
		vm_virtio_blk(vm, b, v, line, field);
	} else if (!strcmp(key, "virtio-net")) {
		vm_virtio_net(vm, v, line, field);
	} else if (!strcmp(key, "virtio-console")) {
		new_virtio(vm, CFG_VIRTIO_CONSOLE, line, field)->slot = number32(v, line, field);
	} else if (!strcmp(key, "mediated-area")) {
		vm_med_area(vm, v, line, field);
	} else if (!strcmp(key, "bootargs")) {
		vm_bootargs(b, v, line, field);
	} else if (!strcmp(key, "images")) {
		if (!strcmp(v, "preload"))
			b->images = IMAGES_PRELOAD;
		else if (!strcmp(v, "mvm"))
			b->images = IMAGES_MVM;
		else
			die_at(line, field, "expected 'preload' or 'mvm', not '%s'", v);
	} else if (!strcmp(key, "autostart")) {
		b->autostart = yes_no(v, line, field);
	} else if (!strcmp(key, "mediated-poll")) {
		b->poll_us = number32(v, line, field);
		b->has_poll = true;
	} else if (!strcmp(key, "run-script")) {
		b->run_script = yes_no(v, line, field);
	}
}

/* ---------------------------------------------------------------- the file */

static const char *const system_keys[] = {"ram", "hypervisor", "cpus", "hv-disk", NULL};
static const char *const system_required[] = {"ram", "hypervisor", "cpus", NULL};
static const char *const vm_keys[] = {
	"role",       "cpus",       "memory",         "kernel",
	"initrd",     "dtb",        "bootargs",       "device",
	"virtio-blk", "virtio-net", "virtio-console", "images",
	"autostart",  "run-script", "mediated-area",  "mediated-poll",
	NULL,
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

static int new_vm(const char *name, int line)
{
	char field[FIELD_LEN];
	int old = vm_index(name);

	snprintf(field, sizeof(field), "vm %s: name", name);
	if (old >= 0)
		die_at(line, field, "a VM named '%s' is already defined on line %d", name,
		       vmb[old].line);
	if (cfg.nvms >= CFG_MAX_VMS)
		die_at(line, "syntax", "at most %d VMs", CFG_MAX_VMS);
	snprintf(cfg.vms[cfg.nvms].name, CFG_NAME_LEN, "%s", name);
	vmb[cfg.nvms].line = line;
	vmb[cfg.nvms].autostart = true;
	loc_add(field, line);
	return (int)cfg.nvms++;
}

static int section_header(char *s, int line)
{
	char *close = strchr(s, ']'), *inner;

	if (!close || trim(close + 1)[0])
		die_at(line, "syntax", "expected '[system]' or '[vm NAME]'");
	*close = '\0';
	inner = trim(s + 1);
	if (!strcmp(inner, "system")) {
		int first = loc_find("system");
		if (first > 0)
			die_at(line, "syntax",
			       "a second [system] section (the first is on line %d)", first);
		loc_add("system", line);
		return SEC_SYSTEM;
	}
	if (!strncmp(inner, "vm", 2) && isspace((unsigned char)inner[2])) {
		char *name = trim(inner + 2);
		if (!valid_vm_name(name))
			die_at(line, "syntax",
			       "bad VM name '%s' (1 to %d letters, digits, '-', '_' or '.')", name,
			       CFG_NAME_LEN - 1);
		return new_vm(name, line);
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
	char field[FIELD_LEN], value[MAX_LINE], known[192];
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

/* Cuts a '#' comment that is not inside a double-quoted string. */
static void strip_comment(char *s)
{
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (*s == '#' && !quoted) {
			*s = '\0';
			return;
		}
	}
}

static int last_line = 1;

void parse_config(FILE *f)
{
	char buf[MAX_LINE + 2];
	int line = 0, sec = SEC_NONE;

	while (fgets(buf, sizeof(buf), f)) {
		size_t len = strlen(buf);
		char *s;

		line++;
		if (len > MAX_LINE || (len == sizeof(buf) - 1 && buf[len - 1] != '\n'))
			die_at(line, "syntax", "line longer than %d characters", MAX_LINE);
		strip_comment(buf);
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
void check_required(void)
{
	char field[FIELD_LEN];
	int system_line = loc_find("system");

	if (system_line < 0)
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
				die_at(vmb[v].line, field, "missing required key '%s'", *k);
		}
}
