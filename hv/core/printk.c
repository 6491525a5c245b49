/* The hypervisor's log, written through the console multiplexer. */
#include <stdarg.h>

#include "console.h"
#include "print.h"
#include "sysreg.h"

void printk(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	console_write(CONSOLE_HV, buf, (size_t)n);
}

void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	console_write(CONSOLE_HV, "PANIC: ", 7);
	console_write(CONSOLE_HV, buf, (size_t)n);
	for (;;)
		wfi();
}
