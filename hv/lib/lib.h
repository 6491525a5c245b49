/* The few libc string routines the freestanding EL2 image provides. */
#ifndef LIB_H
#define LIB_H
#include "lib/types.h"
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif
