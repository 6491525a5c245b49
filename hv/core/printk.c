/* The hypervisor's log, written through the console multiplexer. */
#include <stdarg.h>

#include "console/console.h"
#include "lib/lib.h"
#include "core/print.h"
#include "arch/arm64/sysreg.h"

static void vprintk(const char *prefix, const char *fmt, va_list ap)
{
	char buf[256];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	console_write(CONSOLE_HV, prefix, strlen(prefix));
	console_write(CONSOLE_HV, buf, (size_t)n);
	if (n && buf[n - 1] != '\n')
		console_flush();
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk("", fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk("PANIC: ", fmt, ap);
	va_end(ap);
	console_flush();
	for (;;)
		wfi();
}
