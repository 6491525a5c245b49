/* A small vsnprintf: the conversions the hypervisor's log uses. */
#include <stdarg.h>

#include "core/print.h"

struct outbuf {
	char *buf;
	size_t size, len;
};

static void out(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_number(struct outbuf *o, uint64_t v, unsigned base, bool neg, int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	for (int i = n; i < width; i++)
		out(o, pad);
	while (n)
		out(o, tmp[--n]);
}

static void out_string(struct outbuf *o, const char *s, int width)
{
	int n = 0;

	if (!s)
		s = "(null)";
	for (; *s; s++, n++)
		out(o, *s);
	for (; n < width; n++)
		out(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = {buf, size, 0};

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out(&o, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, longs = 0;
		if (*fmt == '-')
			fmt++; /* left-justify only for %s: ignored otherwise */
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;
		if (*fmt == 'z')
			longs = 1, fmt++;
		switch (*fmt) {
		case 'd': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			out_number(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			out_number(&o, longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10,
				   false, width, pad);
			break;
		case 'x':
			out_number(&o, longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16,
				   false, width, pad);
			break;
		case 'p':
			out(&o, '0');
			out(&o, 'x');
			out_number(&o, (uint64_t)va_arg(ap, void *), 16, false, width, pad);
			break;
		case 's':
			out_string(&o, va_arg(ap, const char *), width);
			break;
		case 'c':
			out(&o, (char)va_arg(ap, int));
			break;
		case '%':
			out(&o, '%');
			break;
		default:
			out(&o, '%');
			out(&o, *fmt);
			if (!*fmt)
				fmt--;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
