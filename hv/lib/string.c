/* libc string routines for the freestanding EL2 image. */
#include "lib/lib.h"

/* 64 bytes a step in 8-byte words where source and destination share
 * their alignment to 8 (guest pages, mediated slots and most buffers do;
 * -mstrict-align allows aligned words only), bytes elsewhere: a byte a step
 * cost about 3 ms a MiB on the block path under QEMU's TCG. Loop
 * distribution is off here, as it would turn these loops into memcpy
 * calls, that is into calls of this function. */
typedef uint64_t __attribute__((may_alias)) word_t;

__attribute__((optimize("no-tree-loop-distribute-patterns"))) void *
memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if ((((uintptr_t)d ^ (uintptr_t)s) & 7) == 0) {
		for (; n && ((uintptr_t)d & 7); n--)
			*d++ = *s++;
		word_t *dw = (word_t *)(void *)d;
		const word_t *sw = (const word_t *)(const void *)s;
		for (; n >= 64; n -= 64, dw += 8, sw += 8) {
			word_t w0 = sw[0], w1 = sw[1], w2 = sw[2], w3 = sw[3];
			word_t w4 = sw[4], w5 = sw[5], w6 = sw[6], w7 = sw[7];
			dw[0] = w0;
			dw[1] = w1;
			dw[2] = w2;
			dw[3] = w3;
			dw[4] = w4;
			dw[5] = w5;
			dw[6] = w6;
			dw[7] = w7;
		}
		for (; n >= 8; n -= 8)
			*dw++ = *sw++;
		d = (uint8_t *)dw;
		s = (const uint8_t *)sw;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (uint8_t)*a - (uint8_t)*b;
		if (!*a)
			return 0;
	}
	return 0;
}
