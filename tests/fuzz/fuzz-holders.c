/* SPDX-License-Identifier: MIT */
/*
 * fuzz-holders.c: the /proc parsers of holders.c on arbitrary text: holders_parse_lock_line()
 * on each line and holders_parse_fdinfo_flags() on the whole input. Properties: a parsed lock
 * line has a pid >= -1 and is never a waiter ("->"); parsed flags re-print to an octal number
 * that parses back to the same value.
 */
#include "storage/holders.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	unsigned flags;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;

	for (char *line = text, *next; line; line = next) {
		struct lock_entry e;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (holders_parse_lock_line(line, &e) == 0) {
			FUZZ_ASSERT(e.pid >= -1);
			FUZZ_ASSERT(!strstr(line, "->") || strstr(line, "->") > strstr(line, ":"));
		}
		if (next)
			next[-1] = '\n';
	}
	if (holders_parse_fdinfo_flags((const char *)data, size, &flags) == 0) {
		char again[32];
		unsigned f2 = ~flags;
		int n = snprintf(again, sizeof(again), "flags:\t%o\n", flags);

		FUZZ_ASSERT(memmem(data, size, "flags:", 6) != NULL);
		FUZZ_ASSERT(holders_parse_fdinfo_flags(again, (size_t)n, &f2) == 0 && f2 == flags);
	}
	free(text);
	return 0;
}
