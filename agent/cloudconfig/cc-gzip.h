/* SPDX-License-Identifier: MIT */
/*
 * cc-gzip.h: gunzip a buffer with a cap on the output, for gzip-compressed user data (what
 * Terraform's cloudinit_config sends by default) and write_files' gz encodings. cc-gzip.c is
 * the only zlib user.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* true when DATA starts with the gzip magic bytes */
bool gzip_is(const void *data, size_t len);

/*
 * Decompress the gzip member(s) in DATA into a NUL-terminated buffer (the NUL is not counted).
 * The output may be at most MAX bytes and, when BUDGET is not NULL, at most *BUDGET bytes: the
 * total left for every blob of one user data, reduced by the output on success. Returns 0,
 * -EFBIG when the output would exceed MAX, -EDQUOT when it would exceed *BUDGET, -EBADMSG when
 * DATA is not valid gzip (truncated, bad checksum, trailing garbage), -ENOMEM.
 */
int gunzip_capped(const void *data, size_t len, size_t max, size_t *budget, char **ret,
		  size_t *ret_len);
