/*
 * lib/string.c: string and memory routines for the kernel and user programs.
 * The kernel builds with -ffreestanding, so gcc may emit calls to memset/memcpy itself,
 * and these are the definitions it gets.  memset, memcpy and memmove move 8 bytes per
 * step with rep stosq/movsq and the last n % 8 with rep stosb/movsb: they zero and copy
 * every page the kernel hands out or copies on write.  Under QEMU's TCG each rep
 * iteration counts (and costs) one instruction, so a 4 KiB page takes 512 iterations
 * this way, 4096 with rep stosb (what Linux's clear_page uses, for hardware with fast
 * byte strings) and about 16,400 instructions with a byte loop.  x86 allows unaligned
 * quadword accesses, so no alignment prologue is needed for correctness; the pages that
 * matter are aligned anyway.
 */
#include <stdint.h>
#include "inc/string.h"

size_t
strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t
strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int
strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}

char *
strchr(const char *s, int c)
{
	for (; *s; s++)
		if (*s == (char)c)
			return (char *)s;
	return c == 0 ? (char *)s : NULL;
}

char *
strncpy(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	for (; i < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}

/* Copy at most size-1 characters and always terminate; returns strlen(src). */
size_t
strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* Base 0 accepts 0x (hex) and 0 (octal) prefixes. */
unsigned long
strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0 && s[0] == '0') {
		base = 8;
	} else if (base == 0) {
		base = 10;
	}
	for (;; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'z')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'Z')
			d = *s - 'A' + 10;
		else
			break;
		if (d >= base)
			break;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (end)
		*end = (char *)s;
	return v;
}

long
strtol(const char *s, char **end, int base)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-')
		return -(long)strtoul(s + 1, end, base);
	return (long)strtoul(s, end, base);
}

void *
memset(void *dst, int c, size_t n)
{
	uint64_t v = (uint8_t)c * 0x0101010101010101ULL;
	void *d = dst;
	size_t q = n / 8;

	__asm__ volatile("rep stosq\n\t"
			 "mov %[rest], %%rcx\n\t"
			 "rep stosb"
			 : "+D"(d), "+c"(q)
			 : "a"(v), [rest] "r"(n % 8)
			 : "memory");
	return dst;
}

/*
 * Copies forward, so it is also memmove's copy when dst lies below src: every quadword
 * and byte is loaded before any store that could overlap it.
 */
void *
memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t q = n / 8;

	__asm__ volatile("rep movsq\n\t"
			 "mov %[rest], %%rcx\n\t"
			 "rep movsb"
			 : "+D"(d), "+S"(s), "+c"(q)
			 : [rest] "r"(n % 8)
			 : "memory");
	return dst;
}

/*
 * When dst overlaps the end of src, copy backward with the direction flag set: the last
 * n % 8 bytes one by one, then the quadwords below them, top first.  The flag is cleared
 * again before returning (the ABI requires it clear; interrupts and system calls clear
 * it on entry to the kernel and restore the user's on return).
 */
void *
memmove(void *dst, const void *src, size_t n)
{
	if ((uintptr_t)dst - (uintptr_t)src >= n)
		return memcpy(dst, src, n);
	if (dst == src)
		return dst;
	void *d = (uint8_t *)dst + n - 1;
	const void *s = (const uint8_t *)src + n - 1;
	size_t rest = n % 8;

	__asm__ volatile("std\n\t"
			 "rep movsb\n\t"
			 "sub $7, %%rsi\n\t"
			 "sub $7, %%rdi\n\t"
			 "mov %[q], %%rcx\n\t"
			 "rep movsq\n\t"
			 "cld"
			 : "+D"(d), "+S"(s), "+c"(rest)
			 : [q] "r"(n / 8)
			 : "memory", "cc");
	return dst;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n > 0; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}
