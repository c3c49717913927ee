/* SPDX-License-Identifier: MIT */
/*
 * cc-detect.c: what kind of user data a blob is (cc-detect.h), from its first bytes, the way
 * cloud-init tells them apart: gzip magic, a MIME message, one of cloud-init's "#" prefixes
 * (after leading white space, in any case, the longest first), JSON, anything else.
 */
#include <strings.h>

#include "base/util.h"
#include "cloudconfig/cc-detect.h"
#include "cloudconfig/cc-mime.h"

static const struct kind {
	const char *name;
	const char *prefix; /* as cloud-init matches it: lowercased */
	const char *mime;
} kinds[_USERDATA_KIND_MAX] = {
	[USERDATA_NONE] = { "none" },
	[USERDATA_SCRIPT] = { "script", "#!", "text/x-shellscript" },
	[USERDATA_CLOUD_CONFIG] = { "cloud-config", "#cloud-config", "text/cloud-config" },
	[USERDATA_MIME] = { "MIME multipart", NULL, "multipart/mixed" },
	[USERDATA_GZIP] = { "gzip" },
	[USERDATA_JSON] = { "JSON" },
	[USERDATA_OTHER] = { "unrecognised" },
	[USERDATA_INCLUDE] = { "#include", "#include", "text/x-include-url" },
	[USERDATA_INCLUDE_ONCE] = { "#include-once", "#include-once", "text/x-include-once-url" },
	[USERDATA_BOOTHOOK] = { "#cloud-boothook", "#cloud-boothook", "text/cloud-boothook" },
	[USERDATA_PART_HANDLER] = { "#part-handler", "#part-handler", "text/part-handler" },
	[USERDATA_ARCHIVE] = { "#cloud-config-archive", "#cloud-config-archive",
			       "text/cloud-config-archive" },
	[USERDATA_JSONP] = { "#cloud-config-jsonp", "#cloud-config-jsonp",
			     "text/cloud-config-jsonp" },
	[USERDATA_JINJA] = { "## template: jinja", "## template: jinja", "text/jinja2" },
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The kind whose prefix starts DATA (after white space), the longest prefix first. */
static enum userdata_kind by_prefix(const char *data, size_t len)
{
	enum userdata_kind best = USERDATA_NONE;
	size_t i = 0, best_len = 0;

	while (i < len && is_space(data[i]))
		i++;
	for (size_t k = 0; k < _USERDATA_KIND_MAX; k++) {
		const char *p = kinds[k].prefix;
		size_t n = p ? strlen(p) : 0;

		if (n > best_len && len - i >= n && strncasecmp(data + i, p, n) == 0) {
			best = (enum userdata_kind)k;
			best_len = n;
		}
	}
	return best;
}

static bool mime_version_within(const char *data, size_t len)
{
	static const char needle[] = "mime-version:";
	size_t n = len < 4096 ? len : 4096;

	for (size_t i = 0; i + sizeof(needle) - 1 <= n; i++)
		if (strncasecmp(data + i, needle, sizeof(needle) - 1) == 0)
			return true;
	return false;
}

enum userdata_kind userdata_detect(const char *data, size_t len)
{
	enum userdata_kind k;
	size_t i = 0;

	if (!data || len == 0)
		return USERDATA_NONE;
	if (len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b)
		return USERDATA_GZIP;
	if (mime_is(data, len))
		return USERDATA_MIME; /* "Content-Type:" or "MIME-Version:" first */
	k = by_prefix(data, len);
	if (k != USERDATA_NONE)
		return k;
	if (mime_version_within(data, len))
		return USERDATA_MIME; /* cloud-init looks for it in the first 4 KiB */
	while (i < len && is_space(data[i]))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '['))
		return USERDATA_JSON;
	return USERDATA_OTHER;
}

const char *userdata_kind_to_string(enum userdata_kind k)
{
	return (size_t)k < _USERDATA_KIND_MAX ? kinds[k].name : NULL;
}

const char *userdata_kind_mime_type(enum userdata_kind k)
{
	return (size_t)k < _USERDATA_KIND_MAX ? kinds[k].mime : NULL;
}

const char *userdata_kind_prefix(enum userdata_kind k)
{
	return (size_t)k < _USERDATA_KIND_MAX ? kinds[k].prefix : NULL;
}
