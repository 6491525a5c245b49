/* Flattened device tree reader (see dt.h). Every offset is checked against
 * the blob's size before it is read. */
#include "drivers/dt.h"

#include "lib/lib.h"

#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9
#define MAX_DEPTH 16

struct fdt_view {
	const uint8_t *base;
	uint32_t size;
	uint32_t struct_off, struct_size;
	uint32_t strings_off, strings_size;
};

uint32_t dt_be32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t dt_be64(const void *p)
{
	return (uint64_t)dt_be32(p) << 32 | dt_be32((const uint8_t *)p + 4);
}

static int view(const void *fdt, struct fdt_view *v)
{
	const uint8_t *h = fdt;

	if (!fdt || dt_be32(h) != FDT_MAGIC || dt_be32(h + 20) < 16)
		return -1;
	v->base = h;
	v->size = dt_be32(h + 4);
	v->struct_off = dt_be32(h + 8);
	v->strings_off = dt_be32(h + 12);
	v->strings_size = dt_be32(h + 32);
	v->struct_size = dt_be32(h + 36);
	if (v->size < 40 || v->struct_off > v->size || v->struct_size > v->size - v->struct_off ||
	    v->strings_off > v->size || v->strings_size > v->size - v->strings_off)
		return -1;
	return 0;
}

int dt_check(const void *fdt)
{
	struct fdt_view v;
	return view(fdt, &v);
}

static bool in_struct(const struct fdt_view *v, uint32_t off, uint32_t len)
{
	return off >= v->struct_off && len <= v->struct_size &&
	       off - v->struct_off <= v->struct_size - len;
}

/* Length of the NUL-terminated string at off inside the struct block, or -1. */
static int str_len(const struct fdt_view *v, uint32_t off)
{
	for (uint32_t n = 0; in_struct(v, off + n, 1); n++)
		if (v->base[off + n] == 0)
			return (int)n;
	return -1;
}

static const char *prop_name(const struct fdt_view *v, uint32_t nameoff)
{
	if (nameoff >= v->strings_size)
		return NULL;
	const char *s = (const char *)v->base + v->strings_off + nameoff;
	for (uint32_t n = 0; nameoff + n < v->strings_size; n++)
		if (s[n] == 0)
			return s;
	return NULL;
}

/* One token at *off; advances *off past it. Returns the token, -1 on error. */
static int next_token(const struct fdt_view *v, uint32_t *off, uint32_t *payload)
{
	if (!in_struct(v, *off, 4))
		return -1;
	uint32_t tok = dt_be32(v->base + *off);
	*payload = *off + 4;
	*off += 4;
	switch (tok) {
	case FDT_BEGIN_NODE: {
		int n = str_len(v, *off);
		if (n < 0)
			return -1;
		*off = ALIGN_UP(*off + (uint32_t)n + 1, 4);
		return FDT_BEGIN_NODE;
	}
	case FDT_PROP: {
		if (!in_struct(v, *off, 8))
			return -1;
		uint32_t len = dt_be32(v->base + *off);
		if (!in_struct(v, *off + 8, len))
			return -1;
		*off = ALIGN_UP(*off + 8 + len, 4);
		return FDT_PROP;
	}
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		return (int)tok;
	default:
		return -1;
	}
}

const void *dt_getprop(const void *fdt, int node, const char *name, int *len)
{
	struct fdt_view v;
	uint32_t off = (uint32_t)node, payload;
	int depth = 0;

	if (node < 0 || view(fdt, &v) || next_token(&v, &off, &payload) != FDT_BEGIN_NODE)
		return NULL;
	for (;;) {
		int tok = next_token(&v, &off, &payload);
		if (tok < 0 || tok == FDT_END)
			return NULL;
		if (tok == FDT_BEGIN_NODE)
			depth++;
		else if (tok == FDT_END_NODE && depth-- == 0)
			return NULL;
		else if (tok == FDT_PROP && depth == 0) {
			const char *n = prop_name(&v, dt_be32(v.base + payload + 4));
			if (n && strcmp(n, name) == 0) {
				if (len)
					*len = (int)dt_be32(v.base + payload);
				return v.base + payload + 8;
			}
		}
	}
}

static bool compat_has(const char *list, int len, const char *compat)
{
	size_t clen = strlen(compat);

	for (int i = 0; i < len;) {
		size_t n = 0;
		while (i + (int)n < len && list[i + n])
			n++;
		if (n == clen && memcmp(list + i, compat, n) == 0)
			return true;
		i += (int)n + 1;
	}
	return false;
}

int dt_find_compatible(const void *fdt, int start, const char *compat)
{
	struct fdt_view v;
	uint32_t off, payload;

	if (view(fdt, &v))
		return -1;
	off = v.struct_off;
	for (;;) {
		uint32_t here = off;
		int tok = next_token(&v, &off, &payload);
		if (tok < 0 || tok == FDT_END)
			return -1;
		if (tok != FDT_BEGIN_NODE || (int)here <= start)
			continue;
		int len;
		const char *c = dt_getprop(fdt, (int)here, "compatible", &len);
		if (c && compat_has(c, len, compat))
			return (int)here;
	}
}

/* Walks the direct children of one node. */
struct child_cursor {
	uint32_t off;
	int depth;
};

static int children_start(const struct fdt_view *v, int node, struct child_cursor *c)
{
	uint32_t payload;

	c->off = (uint32_t)node;
	c->depth = 0;
	return node >= 0 && next_token(v, &c->off, &payload) == FDT_BEGIN_NODE ? 0 : -1;
}

/* Offset of the next child (its name in *name), or -1 at the end or on a
 * malformed blob. */
static int next_child(const struct fdt_view *v, struct child_cursor *c, const char **name)
{
	for (;;) {
		uint32_t here = c->off, payload;
		int tok = next_token(v, &c->off, &payload);
		if (tok < 0 || tok == FDT_END)
			return -1;
		if (tok == FDT_BEGIN_NODE) {
			if (c->depth++ == 0) {
				*name = (const char *)v->base + payload;
				return (int)here;
			}
		} else if (tok == FDT_END_NODE && c->depth-- == 0) {
			return -1;
		}
	}
}

/* Offset of the child of `node` named `name` (up to `len` chars), or -1. */
static int child_named(const struct fdt_view *v, int node, const char *name, size_t len)
{
	struct child_cursor c;
	const char *n;
	int child;

	if (children_start(v, node, &c))
		return -1;
	while ((child = next_child(v, &c, &n)) >= 0)
		if (strncmp(n, name, len) == 0 && n[len] == 0)
			return child;
	return -1;
}

int dt_path_offset(const void *fdt, const char *path)
{
	struct fdt_view v;
	int node;

	if (view(fdt, &v) || path[0] != '/')
		return -1;
	node = (int)v.struct_off;
	while (*path) {
		while (*path == '/')
			path++;
		if (!*path)
			break;
		size_t n = 0;
		while (path[n] && path[n] != '/')
			n++;
		node = child_named(&v, node, path, n);
		if (node < 0)
			return -1;
		path += n;
	}
	return node;
}

/* The parent of `node` (the root has none): found by walking from the root. */
static int parent_of(const struct fdt_view *v, int node)
{
	int stack[MAX_DEPTH];
	int depth = 0;
	uint32_t off = v->struct_off, payload;

	for (;;) {
		uint32_t here = off;
		int tok = next_token(v, &off, &payload);
		if (tok < 0 || tok == FDT_END)
			return -1;
		if (tok == FDT_BEGIN_NODE) {
			if ((int)here == node)
				return depth > 0 ? stack[depth - 1] : -1;
			if (depth >= MAX_DEPTH)
				return -1;
			stack[depth++] = (int)here;
		} else if (tok == FDT_END_NODE) {
			if (depth == 0)
				return -1;
			depth--;
		}
	}
}

static uint32_t cells(const void *fdt, int node, const char *name, uint32_t dflt)
{
	int len;
	const void *p = node >= 0 ? dt_getprop(fdt, node, name, &len) : NULL;

	return p && len == 4 ? dt_be32(p) : dflt;
}

int dt_get_reg(const void *fdt, int node, int idx, uint64_t *addr, uint64_t *size)
{
	struct fdt_view v;
	int len;

	if (view(fdt, &v) || idx < 0)
		return -1;
	int parent = parent_of(&v, node);
	uint32_t ac = cells(fdt, parent, "#address-cells", 2);
	uint32_t sc = cells(fdt, parent, "#size-cells", 1);
	const uint8_t *reg = dt_getprop(fdt, node, "reg", &len);
	if (!reg || ac == 0 || ac > 2 || sc > 2)
		return -1;
	uint32_t stride = 4 * (ac + sc);
	if (len < 0 || (uint64_t)(idx + 1) * stride > (uint64_t)len)
		return -1;
	reg += (uint32_t)idx * stride;
	*addr = ac == 2 ? dt_be64(reg) : dt_be32(reg);
	*size = sc == 2 ? dt_be64(reg + 4 * ac) : sc == 1 ? dt_be32(reg + 4 * ac) : 0;
	return 0;
}

int dt_for_each_child(const void *fdt, int node, const char *prefix,
		      void (*fn)(const void *fdt, int child, void *arg), void *arg)
{
	struct fdt_view v;
	struct child_cursor c;
	const char *n;
	int child, count = 0;
	size_t plen = strlen(prefix);

	if (view(fdt, &v) || children_start(&v, node, &c))
		return -1;
	while ((child = next_child(&v, &c, &n)) >= 0) {
		if (strncmp(n, prefix, plen) == 0) {
			fn(fdt, child, arg);
			count++;
		}
	}
	return count;
}
