/* SPDX-License-Identifier: MIT */
/*
 * macro.h: small language helpers shared by every file: cleanup attributes, string equality,
 * array sizes, errno arithmetic. Nothing here includes an external library or does I/O.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

/*
 * scan-build (clang 14) reports two kinds of false positives in this tree; the functions it
 * flags say "scan-build:" at their top. It does not model __attribute__((cleanup)), so every
 * _cleanup_ variable looks leaked at each return. And it cannot tell that negative_errno()
 * (-errno) and the variadic error helpers (log_*_errno(), fail(), bad(), add_problem()) return
 * < 0, so after a failed call it follows a ">= 0" path on which an out-parameter that the
 * callee sets only on success is still NULL or uninitialised.
 */
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _nonnull_ __attribute__((nonnull))

static inline int negative_errno(void)
{
	/* errno is positive and non-zero after a failed call; make sure we never return 0. */
	return errno > 0 ? -errno : -EIO;
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

/* Close FD when it is open (errno kept) and return -1: `fd = safe_close(fd);`. */
static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

static inline void closep(int *fd)
{
	*fd = safe_close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* Free a NULL-terminated array of strings. */
static inline void strv_free(char **l)
{
	if (!l)
		return;
	for (char **i = l; *i; i++)
		free(*i);
	free(l);
}

static inline void strv_freep(char ***l)
{
	strv_free(*l);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Take ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})
