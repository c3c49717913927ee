/* SPDX-License-Identifier: MIT */
/*
 * fuzz-gzip.c: gunzip_capped() (cc-gzip.c, the only zlib user) on arbitrary bytes. Properties:
 * documented results only; an output is NUL-terminated and within the cap; a stream that
 * inflates to L bytes inflates the same with a cap of exactly L (issue 18 item 14: another,
 * empty member after it must not matter), fails with -EFBIG below L, and with -EDQUOT when the
 * shared budget is below L (the budget unchanged), while a budget of L is used up exactly.
 */
#include <errno.h>

#include "cloudconfig/cc-gzip.h"
#include "fuzz.h"

#define CAP (1U << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL, *again = NULL;
	size_t len = 0, len2 = 0, budget;
	int r;

	(void)gzip_is(data, size);
	r = gunzip_capped(data, size, CAP, NULL, &out, &len);
	FUZZ_ASSERT(r == 0 || r == -EFBIG || r == -EBADMSG || r == -ENOMEM);
	if (r < 0)
		return 0;
	FUZZ_ASSERT(out && len <= CAP && out[len] == 0);

	r = gunzip_capped(data, size, len, NULL, &again, &len2);
	FUZZ_ASSERT(r == 0 && len2 == len && memcmp(out, again, len) == 0);
	free(again);
	again = NULL;
	if (len > 0) {
		FUZZ_ASSERT(gunzip_capped(data, size, len - 1, NULL, &again, &len2) == -EFBIG);
		budget = len - 1;
		FUZZ_ASSERT(gunzip_capped(data, size, CAP, &budget, &again, &len2) == -EDQUOT);
		FUZZ_ASSERT(budget == len - 1);
	}
	budget = len;
	r = gunzip_capped(data, size, CAP, &budget, &again, &len2);
	FUZZ_ASSERT(r == 0 && budget == 0 && len2 == len);
	free(again);
	free(out);
	return 0;
}
