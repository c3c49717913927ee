/* SPDX-License-Identifier: MIT */
/*
 * fuzz-render.c: `vagent metadata KEY`: metadata_render() with a path. The input is
 * "PATH\nDOCUMENT" (no newline: the whole input is the document and PATH is NULL). The result is
 * one of the documented errors, or a text ending in a newline.
 */
#include <errno.h>

#include "fuzz.h"
#include "metadata/json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *doc;
	size_t path_n, doc_n;
	char *path = NULL, *text = NULL;
	int r;

	if (fuzz_split(data, size, "\n", &path_n, &doc, &doc_n))
		path = fuzz_strndup(data, path_n);
	else
		doc = data, doc_n = size;

	r = metadata_render((const char *)doc, doc_n, path, &text);
	if (r < 0)
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOENT || r == -EINVAL || r == -ENOMEM);
	else
		FUZZ_ASSERT(text && text[0] && text[strlen(text) - 1] == '\n');
	free(text);
	free(path);
	return 0;
}
