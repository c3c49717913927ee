/* SPDX-License-Identifier: MIT */
/*
 * fuzz-template.c: the "## template: jinja" renderer, cc_template_render() (cc-template.c),
 * with the v1 variables and a ds.meta_data lookup that knows some keys, refuses "interfaces"
 * and fails on "oom". The result is one of the documented errors (-EBADMSG with a line within
 * the input and a printable message, -EFBIG past the cap) or a text within the cap; a body
 * without '{' renders to itself with jinja's line breaks; rendering again the same input gives
 * the same result.
 */
#include <errno.h>

#include "base/util.h"
#include "cloudconfig/cc-template.h"
#include "fuzz.h"

#define CAP (256U << 10)

static int meta(void *userdata, const char *key, char **ret)
{
	(void)userdata;
	if (streq(key, "interfaces"))
		return -EMEDIUMTYPE;
	if (streq(key, "oom"))
		return -ENOMEM;
	if (streq(key, "hostname") || streq(key, "instanceid") || streq(key, "x"))
		*ret = strdup(streq(key, "x") ? "{{ v1.region }}" : "web-1");
	else
		return -ENOENT;
	return *ret ? 0 : -ENOMEM;
}

static const struct cc_vars vars = {
	.instance_id = "7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34",
	.local_hostname = "build-runner-07",
	.region = "de",
	.cloud_name = "vultr",
	.platform = "vultr",
	.meta_data = meta,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;
	struct cc_template t, t2;
	unsigned lines = 1;
	int r, r2;

	/* Lines as jinja counts them: \r\n, \r and \n end one. */
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n' || (data[i] == '\r' && !(i + 1 < size && data[i + 1] == '\n'));
	r = cc_template_render(s, size, &vars, CAP, &t);
	FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -EFBIG || r == -ENOMEM);
	if (r == -EBADMSG) {
		FUZZ_ASSERT(t.line >= 1 && t.line <= lines && t.error[0]);
		for (const char *c = t.error; *c; c++)
			FUZZ_ASSERT(*c >= 0x20 && *c < 0x7f);
	}
	if (r == 0) {
		FUZZ_ASSERT(t.text && t.len <= CAP && t.text[t.len] == 0);
		/* The header line goes; a body with no '{' is copied with its line breaks as
		 * jinja writes them: \r\n and \r as \n, the last one dropped, a \n put back
		 * when the text ended in one (cloud-init). */
		nl = memchr(s, '\n', size);
		if (size && s[0] == '#' && nl && !memchr(nl + 1, '{', size - (size_t)(nl + 1 - s))) {
			const char *b = nl + 1;
			size_t bn = size - (size_t)(b - s), k = 0;
			char *want = malloc(bn + 2);

			FUZZ_ASSERT(want);
			for (size_t i = 0; i < bn; i++) {
				if (b[i] == '\r') {
					want[k++] = '\n';
					if (i + 1 < bn && b[i + 1] == '\n')
						i++;
				} else
					want[k++] = b[i];
			}
			if (k && want[k - 1] == '\n')
				k--;
			if (bn && b[bn - 1] == '\n')
				want[k++] = '\n';
			FUZZ_ASSERT(t.len == k && memcmp(t.text, want, k) == 0);
			free(want);
		}
		FUZZ_ASSERT(t.n_missing == 0 || t.missing[0] == '\'');
	}
	r2 = cc_template_render(s, size, &vars, CAP, &t2);
	FUZZ_ASSERT(r2 == r || r2 == -ENOMEM || r == -ENOMEM);
	if (r == 0 && r2 == 0)
		FUZZ_ASSERT(t.len == t2.len && memcmp(t.text, t2.text, t.len) == 0);
	cc_template_done(&t2);
	cc_template_done(&t);
	return 0;
}
