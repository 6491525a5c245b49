/* cfgc's error reports: one line "FILE:LINE: FIELD: message" and exit
 * status 1. Every key is remembered with the line that set it, so an error
 * config_check names by field is reported at that line. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cfgc.h"

#define MAX_LOCS 512

static struct {
	char field[FIELD_LEN];
	int line;
} locs[MAX_LOCS];
static unsigned nlocs;

void die_at(int line, const char *field, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: %s: ", cfg_path, line, field);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The line that set `field`, or -1. */
int loc_find(const char *field)
{
	for (unsigned i = 0; i < nlocs; i++)
		if (!strcmp(locs[i].field, field))
			return locs[i].line;
	return -1;
}

void loc_reset(void)
{
	nlocs = 0;
}

void loc_add(const char *field, int line)
{
	if (nlocs < MAX_LOCS) {
		snprintf(locs[nlocs].field, sizeof(locs[nlocs].field), "%s", field);
		locs[nlocs++].line = line;
	}
}

/* Best line for a field named by config_check: the line that set it; for
 * "vm X: memory" the first memory line; else the section's header. */
int line_of_field(const char *field)
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
			return vmb[v].line;
	}
	line = loc_find("system");
	return line > 0 ? line : 1;
}
