/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h: shared helpers for the libFuzzer targets in tests/fuzz/ (built by run.sh with clang
 * and -fsanitize=fuzzer,address,undefined, never by the normal build): silence vagent's log,
 * copy the input into exact-size or NUL-terminated buffers, split it at a separator, and
 * FUZZ_ASSERT for the properties each target checks beyond "does not crash".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: property failed: %s (%s:%d)\n", #cond, __FILE__,  \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Nothing from vagent's log: libFuzzer's own output stays readable (and fast). */
static inline void fuzz_quiet(void)
{
	if (!getenv("FUZZ_VERBOSE"))
		log_set_max_level(-1);
	else
		log_set_max_level(LOG_DEBUG);
}

/* N bytes of D as a NUL-terminated string (an inner NUL simply ends it early). */
static inline char *fuzz_strndup(const void *d, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, d, n);
	s[n] = 0;
	return s;
}

/*
 * Split [D, D+N) at the first SEP: the head is [D, *HEAD_N), the tail starts at *TAIL.
 * Without SEP the head is everything and the tail is empty (returns false).
 */
static inline bool fuzz_split(const uint8_t *d, size_t n, const char *sep, size_t *head_n,
			      const uint8_t **tail, size_t *tail_n)
{
	const uint8_t *s = memmem(d, n, sep, strlen(sep));

	if (!s) {
		*head_n = n;
		*tail = d + n;
		*tail_n = 0;
		return false;
	}
	*head_n = (size_t)(s - d);
	*tail = s + strlen(sep);
	*tail_n = n - *head_n - strlen(sep);
	return true;
}

/* Write N bytes of D to PATH (created or truncated, MODE). */
static inline void fuzz_write_file(const char *path, const void *d, size_t n, unsigned mode)
{
	FILE *f = fopen(path, "we");

	if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		abort();
	}
	if (chmod(path, mode) < 0)
		abort();
}
