/* SPDX-License-Identifier: MIT */
/*
 * fuzz-userdata.c: userdata_detect() on arbitrary bytes (an exact-size buffer, so ASan sees any
 * read past the end), checked against a plain re-statement of the rules in userdata.h and
 * cc-mime.h.
 */
#include <strings.h>

#include "fuzz.h"
#include "cloudconfig/cc-detect.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	enum userdata_kind k = userdata_detect(d, size);
	size_t i = 0;

	FUZZ_ASSERT(userdata_kind_to_string(k) != NULL);
	if (size == 0) {
		FUZZ_ASSERT(k == USERDATA_NONE);
		return 0;
	}
	while (i < size && d[i] && strchr(" \t\n\r\v\f", d[i]))
		i++;
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		FUZZ_ASSERT(k == USERDATA_GZIP);
	else if ((size >= 13 && strncasecmp(d, "content-type:", 13) == 0) ||
		 (size >= 13 && strncasecmp(d, "mime-version:", 13) == 0))
		/* cc-mime.h: starts like a MIME message */
		FUZZ_ASSERT(k == USERDATA_MIME);
	else if (userdata_kind_prefix(k)) {
		const char *p = userdata_kind_prefix(k);

		/* cloud-init's prefix, after white space, in any case; no longer prefix matches */
		FUZZ_ASSERT(size - i >= strlen(p) && strncasecmp(d + i, p, strlen(p)) == 0);
		for (int o = 0; o < _USERDATA_KIND_MAX; o++) {
			const char *q = userdata_kind_prefix((enum userdata_kind)o);

			if (q && strlen(q) > strlen(p))
				FUZZ_ASSERT(!(size - i >= strlen(q) &&
					      strncasecmp(d + i, q, strlen(q)) == 0));
		}
	} else if (k == USERDATA_MIME) {
		bool found = false;

		for (size_t j = 0; j + 13 <= size && j + 13 <= 4096 && !found; j++)
			found = strncasecmp(d + j, "mime-version:", 13) == 0;
		FUZZ_ASSERT(found);
	} else {
		FUZZ_ASSERT((k == USERDATA_JSON) == (i < size && (d[i] == '{' || d[i] == '[')));
		FUZZ_ASSERT(k == USERDATA_JSON || k == USERDATA_OTHER);
	}
	return 0;
}
