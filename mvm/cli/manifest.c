/* The manifest of the VMs whose images live in the MVM (cfgc writes it
 * from the configuration). Two spellings are read:
 *
 *   gvm1 kernel=/lib/syshyper/gvm1/Image initrd=... dtb=... autostart=yes
 *
 * or sections:
 *
 *   [vm gvm1]
 *   kernel = /lib/syshyper/gvm1/Image
 *   autostart = yes
 *
 * '#' starts a comment. Unknown keys are ignored (newer cfgc). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static int set_key(struct vm_images *v, const char *key, const char *val)
{
	if (!strcmp(key, "kernel"))
		return copy(v->kernel, sizeof(v->kernel), val);
	if (!strcmp(key, "initrd"))
		return copy(v->initrd, sizeof(v->initrd), val);
	if (!strcmp(key, "dtb"))
		return copy(v->dtb, sizeof(v->dtb), val);
	if (!strcmp(key, "autostart"))
		v->autostart = !strcmp(val, "yes") || !strcmp(val, "1") || !strcmp(val, "true");
	return 0;
}

/* "key=value key=value" after the VM's name on one line. */
static int parse_pairs(struct vm_images *v, char *s)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return -1;
		*eq = 0;
		if (set_key(v, tok, eq + 1))
			return -1;
	}
	return 0;
}

/* "key = value": nothing but blanks between the key and '='. */
static int is_key_line(const char *s)
{
	const char *eq = strchr(s, '=');
	size_t key = strcspn(s, " \t=");

	if (!eq)
		return 0;
	while (s[key] == ' ' || s[key] == '\t')
		key++;
	return s + key == eq;
}

static struct vm_images *new_entry(struct vm_images *out, int *n, int max, const char *name)
{
	if (*n >= max || copy(out[*n].name, sizeof(out[*n].name), name))
		return NULL;
	return &out[(*n)++];
}

int manifest_read(const char *path, struct vm_images *out, int max)
{
	char line[1024];
	struct vm_images *cur = NULL;
	int n = 0, lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	memset(out, 0, sizeof(*out) * (size_t)max);
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *s, name[HC_NAME_LEN + 1];
		lineno++;
		if (hash)
			*hash = 0;
		s = trim(line);
		if (!*s)
			continue;
		if (sscanf(s, "[vm %16[^] ]]", name) == 1) {
			cur = new_entry(out, &n, max, name);
		} else if (is_key_line(s)) { /* "key = value" inside a section */
			char *eq = strchr(s, '=');
			*eq = 0;
			if (cur && set_key(cur, trim(s), trim(eq + 1)))
				cur = NULL;
		} else { /* "name key=value ..." */
			size_t len = strcspn(s, " \t");
			if (len > HC_NAME_LEN - 1)
				goto bad;
			memcpy(name, s, len);
			name[len] = 0;
			cur = new_entry(out, &n, max, name);
			if (!cur || parse_pairs(cur, s + len))
				goto bad;
			cur = NULL;
			continue;
		}
		if (!cur)
			goto bad;
	}
	fclose(f);
	return n;
bad:
	fclose(f);
	cli_fail(EX_IMAGE, "%s:%d: cannot read this line", path, lineno);
	return -1;
}

const struct vm_images *manifest_find(const struct vm_images *list, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i].name, name))
			return &list[i];
	return NULL;
}
