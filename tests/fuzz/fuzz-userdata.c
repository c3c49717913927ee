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
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		FUZZ_ASSERT(k == USERDATA_GZIP);
	else if (size >= 2 && d[0] == '#' && d[1] == '!')
		FUZZ_ASSERT(k == USERDATA_SCRIPT);
	else if (k == USERDATA_CLOUD_CONFIG)
		FUZZ_ASSERT(size >= 13 && memcmp(d, "#cloud-config", 13) == 0);
	else if (k == USERDATA_MIME)
		/* cc-mime.h: starts like a MIME message, a Content-Type: or MIME-Version: header. */
		FUZZ_ASSERT((size >= 13 && strncasecmp(d, "content-type:", 13) == 0) ||
			    (size >= 13 && strncasecmp(d, "mime-version:", 13) == 0));
	else {
		while (i < size && strchr(" \t\n\r", d[i]) && d[i])
			i++;
		FUZZ_ASSERT((k == USERDATA_JSON) == (i < size && (d[i] == '{' || d[i] == '[')));
		FUZZ_ASSERT(k == USERDATA_JSON || k == USERDATA_OTHER);
	}
	return 0;
}
