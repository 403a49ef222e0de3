/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the unit tests: hex strings to bytes.
 */
#ifndef VPND_TEST_UTIL_H
#define VPND_TEST_UTIL_H

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode hex (spaces allowed) into out; aborts on bad input or overflow.
 * Returns the number of bytes. */
static inline size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (isspace((unsigned char)*s))
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			abort();
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			abort();
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		abort();
	return n;
}

/* A decoded vector: fixed storage, length. */
struct hexbuf {
	uint8_t b[2048];
	size_t n;
};

static inline struct hexbuf hb(const char *s)
{
	struct hexbuf h;

	h.n = unhex(s, h.b, sizeof(h.b));
	return h;
}

/* Concatenation of several hex strings (NULL-terminated). */
static inline struct hexbuf hbcat(const char *s, ...)
{
	struct hexbuf h = {.n = 0};
	va_list ap;

	va_start(ap, s);
	for (; s; s = va_arg(ap, const char *))
		h.n += unhex(s, h.b + h.n, sizeof(h.b) - h.n);
	va_end(ap);
	return h;
}

#endif
