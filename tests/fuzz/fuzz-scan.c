/* SPDX-License-Identifier: MIT */
/*
 * fuzz-scan.c: scan_progress_parse() (the verify progress files under /run/vagent/verify/) on
 * arbitrary text. Properties: a parsed file has a name without '/', a mode of full or quick,
 * done <= total and a positive pid; scan_progress_format() of it never fails.
 */
#include "storage/scan.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_progress p;
	char *s;

	if (scan_progress_parse((const char *)data, size, &p) < 0)
		return 0;
	FUZZ_ASSERT(p.name && !strchr(p.name, '/') && *p.name);
	FUZZ_ASSERT(strcmp(p.mode, "full") == 0 || strcmp(p.mode, "quick") == 0);
	FUZZ_ASSERT(p.done <= p.total && p.pid > 0);
	s = scan_progress_format(&p);
	FUZZ_ASSERT(s != NULL);
	free(s);
	free(p.name);
	free(p.mode);
	return 0;
}
