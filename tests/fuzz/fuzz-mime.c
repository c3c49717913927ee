/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mime.c: multipart MIME user data (mime_split()) and the base64 decoder (base64_decode()),
 * both pure functions over outside input. Properties: documented results only; every part has
 * a type, and a decoded part a NUL-terminated body of the stated length.
 */
#include <errno.h>

#include "cloudconfig/cc-mime.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_part *p = NULL;
	size_t n = 0, blen = 0;
	char *b = NULL;
	int r;

	r = mime_split((const char *)data, size, &p, &n);
	if (r < 0)
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM || r == -EFBIG || r == -E2BIG);
	else
		for (size_t i = 0; i < n; i++) {
			FUZZ_ASSERT(p[i].type);
			FUZZ_ASSERT(!p[i].decoded || (p[i].body && p[i].body[p[i].len] == 0));
		}
	mime_parts_free(p, r < 0 ? 0 : n);

	/* Both flags, as the write_files (ASCII) and MIME (padding optional) callers pass them. */
	r = base64_decode((const char *)data, size, size > 0 ? (unsigned)data[0] & 3 : 0, &b,
			  &blen);
	if (r >= 0)
		FUZZ_ASSERT(b && blen <= size / 4 * 3 + 2 && b[blen] == 0);
	else
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
	free(b);
	return 0;
}
