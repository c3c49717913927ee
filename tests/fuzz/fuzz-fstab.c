/* SPDX-License-Identifier: MIT */
/*
 * fuzz-fstab.c: fstab_rewrite() and fstab_parse_vagent() on an arbitrary /etc/fstab. Input:
 * "FLAGS MOUNTPOINT%%FSTAB%%\nTEXT" (FLAGS: the first byte; bit 0 set means remove the line).
 * The volume is "vol1". Properties: after a replace there is exactly one line for vol1 and it is
 * ours; after a remove there is none; a second rewrite with the same arguments changes nothing;
 * every line that is not vol1's is kept byte for byte and in order. fstab_strip_vagent() (clean
 * --image) on the same text: it removes at least every vagent volume line, a second strip finds
 * nothing, and the lines it keeps are a subsequence of the input's.
 */
#include <errno.h>

#include "base/fstab.h"
#include "base/util.h"
#include "fuzz.h"

#define VOL "vol1"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static size_t count_vol(const char *text, size_t len)
{
	struct fstab_entry *e = NULL;
	size_t n = 0, k = 0;

	FUZZ_ASSERT(fstab_parse_vagent(text, len, &e, &n) == 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].volume_id, VOL) == 0)
			k++;
	fstab_entries_free(e, n);
	return k;
}

/* TEXT without vol1's lines (using the same rule, via fstab_rewrite with no line). */
static char *others(const char *text, size_t len, size_t *ret_len)
{
	char *o = NULL;
	int r = fstab_rewrite(text, len, VOL, NULL, &o);

	FUZZ_ASSERT(r >= 0);
	if (r == 0) {
		*ret_len = len;
		return fuzz_strndup(text, len);
	}
	*ret_len = strlen(o);
	return o;
}

/* fstab_strip_vagent()'s properties on TEXT. */
static void check_strip(const char *text, size_t len)
{
	char **mps = NULL, *stripped = NULL, *again = NULL;
	struct fstab_entry *e = NULL;
	size_t n_vol = 0;
	int n;

	n = fstab_strip_vagent(text, len, &mps, &stripped);
	FUZZ_ASSERT(n >= 0 && (size_t)n == strv_length(mps) && (n > 0) == (stripped != NULL));
	FUZZ_ASSERT(fstab_parse_vagent(text, len, &e, &n_vol) == 0);
	fstab_entries_free(e, n_vol);
	FUZZ_ASSERT((size_t)n >= n_vol);
	if (stripped) {
		size_t sl = strlen(stripped), j = 0;

		FUZZ_ASSERT(sl <= len);
		FUZZ_ASSERT(fstab_strip_vagent(stripped, sl, NULL, &again) == 0 && !again);
		/* a subsequence of the input (whole lines are dropped, nothing is added) */
		for (size_t i = 0; i < len && j < sl; i++)
			if (text[i] == stripped[j])
				j++;
		FUZZ_ASSERT(j == sl);
	}
	strv_free(mps);
	free(stripped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *text;
	size_t head_n, text_n, n_new, o1_n, o2_n;
	char *head, *line = NULL, *new = NULL, *again = NULL, *o1, *o2;
	bool remove;
	int r;

	if (size < 1)
		return 0;
	fuzz_split(data + 1, size - 1, "%%FSTAB%%\n", &head_n, &text, &text_n);
	if (!memchr(text, 0, text_n))
		check_strip((const char *)text, text_n);
	remove = data[0] & 1;
	head = fuzz_strndup(data + 1, head_n);
	if (!remove) {
		line = fstab_line("0123abcd-ef", head, (data[0] & 2) ? FS_XFS : FS_EXT4, VOL);
		if (!line)
			line = fstab_line("0123abcd-ef", "/mnt/vol1", FS_EXT4, VOL);
		FUZZ_ASSERT(line && !strchr(line, '\n'));
	}

	r = fstab_rewrite((const char *)text, text_n, VOL, line, &new);
	if (r < 0) {
		/* Only a text vagent must not rewrite (a NUL byte) is refused. */
		FUZZ_ASSERT(r == -EBADMSG && memchr(text, 0, text_n));
		goto out;
	}
	FUZZ_ASSERT(r == 0 || r == 1);
	FUZZ_ASSERT((r == 1) == (new != NULL));
	if (r == 0) {
		new = fuzz_strndup(text, text_n);
		n_new = text_n;
	} else
		n_new = strlen(new);

	FUZZ_ASSERT(count_vol(new, n_new) == (remove ? 0 : 1));
	FUZZ_ASSERT(fstab_rewrite(new, n_new, VOL, line, &again) == 0 && !again);

	/* Everything but vol1's lines is unchanged. */
	o1 = others((const char *)text, text_n, &o1_n);
	o2 = others(new, n_new, &o2_n);
	if (o1_n > 0 && o1[o1_n - 1] != '\n' && o2_n == o1_n + 1)
		o2_n--; /* a newline was added before the appended line */
	FUZZ_ASSERT(o1_n == o2_n && memcmp(o1, o2, o1_n) == 0);
	free(o1);
	free(o2);
out:
	free(new);
	free(line);
	free(head);
	return 0;
}
