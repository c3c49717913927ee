/* SPDX-License-Identifier: MIT */
/*
 * fuzz-json.c: the metadata document and the status file, the two JSON texts vagent reads.
 * The input goes to metadata_parse(), metadata_render() (whole document, secrets redacted) and
 * boot_report_from_json(). Beyond "no crash, no leak": a parsed document honours the promises of
 * metadata.h (instance id safe as a directory name, hostname without control characters, lists
 * never NULL), an error is one line, and a status file that loads survives a round trip through
 * boot_report_to_json() unchanged.
 */
#include <errno.h>

#include "fuzz.h"
#include "metadata/json.h"

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void check_metadata(const uint8_t *data, size_t size)
{
	struct metadata *m = NULL;
	char *error = NULL;
	int r;

	r = metadata_parse((const char *)data, size, &m, &error);
	if (r < 0) {
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
		FUZZ_ASSERT(!m);
		if (r == -EBADMSG) {
			FUZZ_ASSERT(error);
			FUZZ_ASSERT(!strchr(error, '\n'));
		}
		free(error);
		return;
	}
	FUZZ_ASSERT(!error);
	FUZZ_ASSERT(m->instance_id && m->instance_id[0] && strlen(m->instance_id) <= 64);
	FUZZ_ASSERT(strspn(m->instance_id, "0123456789abcdefABCDEF-") == strlen(m->instance_id));
	FUZZ_ASSERT(m->hostname && !has_control(m->hostname));
	FUZZ_ASSERT(m->region_code && !has_control(m->region_code));
	FUZZ_ASSERT(!m->country_code || !has_control(m->country_code));
	FUZZ_ASSERT(!m->legacy_id || !has_control(m->legacy_id));
	FUZZ_ASSERT(m->public_keys && m->tags);
	for (char **t = m->tags; *t; t++)
		FUZZ_ASSERT(!has_control(*t));
	FUZZ_ASSERT(m->has_user_data == (m->user_data != NULL));
	if (m->user_data)
		FUZZ_ASSERT(m->user_data_len > 0 && strlen(m->user_data) == m->user_data_len);
	metadata_free(m);
}

static void check_render(const uint8_t *data, size_t size)
{
	char *text = NULL;
	int r;

	r = metadata_render((const char *)data, size, NULL, &text);
	if (r < 0) {
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
		return;
	}
	FUZZ_ASSERT(text && text[0] && text[strlen(text) - 1] == '\n');
	free(text);
}

static void check_status(const uint8_t *data, size_t size)
{
	struct boot_report b = {}, b2 = {};
	char *t1 = NULL, *t2 = NULL;
	int r;

	r = boot_report_from_json((const char *)data, size, &b);
	if (r < 0) {
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
		return;
	}
	FUZZ_ASSERT(boot_report_to_json(&b, &t1) == 0);
	FUZZ_ASSERT(boot_report_from_json(t1, strlen(t1), &b2) == 0);
	FUZZ_ASSERT(boot_report_to_json(&b2, &t2) == 0);
	FUZZ_ASSERT(strcmp(t1, t2) == 0);
	free(t1);
	free(t2);
	boot_report_done(&b);
	boot_report_done(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_metadata(data, size);
	check_render(data, size);
	check_status(data, size);
	return 0;
}
