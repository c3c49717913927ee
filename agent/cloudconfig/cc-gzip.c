/* SPDX-License-Identifier: MIT */
/*
 * cc-gzip.c: the only zlib user. One-shot inflate of a gzip stream (concatenated members too,
 * as gzip(1) accepts) into a buffer that grows only when zlib asks for more room and never
 * beyond the caller's caps, so a small "zip bomb" in user data costs at most the cap in memory:
 * one cap per blob and, when given, a budget shared by every blob of one user data.
 */
#include <stdint.h>
#include <zlib.h>

#include "cloudconfig/cc-gzip.h"
#include "base/macro.h"

bool gzip_is(const void *data, size_t len)
{
	const unsigned char *p = data;

	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int gunzip_capped(const void *data, size_t len, size_t max, size_t *budget, char **ret,
		  size_t *ret_len)
{
	_cleanup_free_ char *out = NULL;
	size_t cap = budget && *budget < max ? *budget : max, alloc, used = 0;
	z_stream z = {};
	int zr, r = 0;

	if (len > UINT32_MAX)
		return -EFBIG;
	if (cap > SIZE_MAX / 2)
		cap = SIZE_MAX / 2;
	/* ALLOC counts the NUL after the output. */
	alloc = len < SIZE_MAX / 8 && len * 4 > 4096 ? len * 4 : 4096;
	if (alloc > cap + 1)
		alloc = cap + 1;
	out = malloc(alloc);
	if (!out)
		return -ENOMEM;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;

	for (;;) {
		size_t room = alloc - 1 - used;
		uInt given = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
		bool probing = room == 0;
		char probe;

		if (probing && alloc - 1 < cap) {
			size_t a = alloc > (cap + 1) / 2 ? cap + 1 : alloc * 2;
			char *n = realloc(out, a);

			if (!n) {
				r = -ENOMEM;
				break;
			}
			out = n;
			alloc = a;
			continue;
		}
		/* At the cap, zlib gets one byte it must not use: it may still read a trailer or
		 * an empty member, and if it writes that byte the output is too large. */
		z.next_out = probing ? (Bytef *)&probe : (Bytef *)out + used;
		z.avail_out = probing ? 1 : given;
		zr = inflate(&z, Z_NO_FLUSH);
		if (probing && z.avail_out == 0) {
			r = cap < max ? -EDQUOT : -EFBIG;
			break;
		}
		if (!probing)
			used += given - z.avail_out;
		if (zr == Z_STREAM_END) {
			/* Another member may follow (gzip -c a b). */
			if (z.avail_in == 0)
				break;
			if (inflateReset(&z) != Z_OK) {
				r = -EBADMSG;
				break;
			}
			continue;
		}
		if (zr == Z_MEM_ERROR) {
			r = -ENOMEM;
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			r = -EBADMSG;
			break;
		}
		/* Z_BUF_ERROR with room left: no progress possible, the input ended early. */
		if (zr == Z_BUF_ERROR && (probing || z.avail_out > 0)) {
			r = -EBADMSG;
			break;
		}
	}
	inflateEnd(&z);
	if (r < 0)
		return r;
	out[used] = 0;
	if (budget)
		*budget -= used;
	*ret = TAKE_PTR(out);
	*ret_len = used;
	return 0;
}
