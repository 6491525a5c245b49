/* A minimal flattened-device-tree reader: enough to find the GIC, memory and
 * CPUs in the board's DTB. Read-only, bounds-checked against totalsize. */
#ifndef DT_H
#define DT_H
#include "lib/types.h"

/* 0 if `fdt` has a valid header (magic, version >= 16, sane offsets). */
int dt_check(const void *fdt);
/* Offset of the first node after `start` (-1: from the root) whose
 * "compatible" list contains `compat`; -1 if none. */
int dt_find_compatible(const void *fdt, int start, const char *compat);
/* Offset of the node at absolute `path` ("/cpus", "/memory@40000000"), -1 if none. */
int dt_path_offset(const void *fdt, const char *path);
/* Property value and length, NULL if absent. */
const void *dt_getprop(const void *fdt, int node, const char *name, int *len);
/* The idx-th (address, size) pair of "reg", honouring the parent's
 * #address-cells/#size-cells. 0 on success, -1 if absent. */
int dt_get_reg(const void *fdt, int node, int idx, uint64_t *addr, uint64_t *size);
/* Calls fn for each child of `node` whose name starts with `prefix`. */
int dt_for_each_child(const void *fdt, int node, const char *prefix,
		      void (*fn)(const void *fdt, int child, void *arg), void *arg);
uint32_t dt_be32(const void *p);
uint64_t dt_be64(const void *p);
#endif
