/* Hypervisor log output: formatted printing onto the console multiplexer. */
#ifndef PRINT_H
#define PRINT_H
#include <stdarg.h>
#include "lib/types.h"

/* %s %c %d %u %x %lx %lu %ld %llx %p %%, with width/zero-pad (e.g. %08lx). */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Hypervisor log line(s), prefixed "[hv] ". */
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define pr_info(...) printk(__VA_ARGS__)
#endif
