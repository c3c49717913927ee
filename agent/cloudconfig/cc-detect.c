/* SPDX-License-Identifier: MIT */
/*
 * cc-detect.c: what kind of user data a blob is (cc-detect.h), from its first bytes, the way
 * cloud-init tells them apart: gzip magic, "#!", "#cloud-config", a MIME multipart header,
 * JSON, anything else.
 */
#include <strings.h>

#include "base/util.h"
#include "cloudconfig/cc-detect.h"
#include "cloudconfig/cc-mime.h"

enum userdata_kind userdata_detect(const char *data, size_t len)
{
	static const char mime[] = "content-type: multipart/";
	size_t i = 0;

	if (!data || len == 0)
		return USERDATA_NONE;
	if (len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b)
		return USERDATA_GZIP;
	if (len >= 2 && data[0] == '#' && data[1] == '!')
		return USERDATA_SCRIPT;
	if (len >= 13 && strneq(data, "#cloud-config", 13) &&
	    (len == 13 || data[13] == '\n' || data[13] == '\r' || data[13] == ' '))
		return USERDATA_CLOUD_CONFIG;
	if (len >= sizeof(mime) - 1 && strncasecmp(data, mime, sizeof(mime) - 1) == 0)
		return USERDATA_MIME;
	if (mime_is(data, len))
		return USERDATA_MIME; /* "MIME-Version: 1.0" first, as Python's email module writes */
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '['))
		return USERDATA_JSON;
	return USERDATA_OTHER;
}

const char *userdata_kind_to_string(enum userdata_kind k)
{
	static const char *const names[] = {
		[USERDATA_NONE] = "none",
		[USERDATA_SCRIPT] = "script",
		[USERDATA_CLOUD_CONFIG] = "cloud-config",
		[USERDATA_MIME] = "MIME multipart",
		[USERDATA_GZIP] = "gzip",
		[USERDATA_JSON] = "JSON",
		[USERDATA_OTHER] = "unrecognised",
	};
	return names[k];
}
