/* SPDX-License-Identifier: MIT */
/*
 * cc-gzip.c: the only zlib user. One-shot inflate of a gzip stream (concatenated members too,
 * as gzip(1) accepts) into a growing buffer that never exceeds the caller's cap, so a small
 * "zip bomb" in user data costs at most MAX bytes of memory.
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

int gunzip_capped(const void *data, size_t len, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = NULL;
	size_t alloc = 0, used = 0;
	z_stream z = {};
	int zr = Z_OK, r = 0;

	if (len > UINT32_MAX)
		return -EFBIG;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;

	for (;;) {
		if (used + 1 >= alloc) {
			size_t a = alloc ? alloc * 2 : (len * 4 < 4096 ? 4096 : len * 4);
			char *n;

			if (a > max + 1)
				a = max + 1;
			if (a <= used + 1) {
				r = -EFBIG;
				break;
			}
			n = realloc(out, a);
			if (!n) {
				r = -ENOMEM;
				break;
			}
			out = n;
			alloc = a;
		}
		z.next_out = (Bytef *)out + used;
		z.avail_out = (uInt)(alloc - used - 1);
		zr = inflate(&z, Z_NO_FLUSH);
		used = alloc - 1 - z.avail_out;
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
		if (zr == Z_BUF_ERROR && z.avail_in == 0) {
			r = -EBADMSG; /* truncated */
			break;
		}
	}
	inflateEnd(&z);
	if (r < 0)
		return r;
	if (used > max)
		return -EFBIG;
	out[used] = 0;
	*ret = TAKE_PTR(out);
	*ret_len = used;
	return 0;
}
