/* SPDX-License-Identifier: MIT */
/*
 * cc-detect.h: the kinds of user data and how to tell them apart (cc-detect.c).
 */
#pragma once

#include <stddef.h>

enum userdata_kind {
	USERDATA_NONE,
	USERDATA_SCRIPT,       /* "#!" */
	USERDATA_CLOUD_CONFIG, /* "#cloud-config" */
	USERDATA_MIME,         /* a MIME message ("Content-Type: multipart/...") */
	USERDATA_GZIP,
	USERDATA_JSON,
	USERDATA_OTHER,
	/* formats cloud-init has a handler for (handlers/__init__.py INCLUSION_TYPES_MAP) */
	USERDATA_INCLUDE,      /* "#include": URLs to fetch */
	USERDATA_INCLUDE_ONCE, /* "#include-once" */
	USERDATA_BOOTHOOK,     /* "#cloud-boothook" */
	USERDATA_PART_HANDLER, /* "#part-handler": Python code */
	USERDATA_ARCHIVE,      /* "#cloud-config-archive": a YAML list of parts */
	USERDATA_JSONP,        /* "#cloud-config-jsonp": a JSON patch */
	USERDATA_JINJA,        /* "## template: jinja" */
	_USERDATA_KIND_MAX,
};

/*
 * What DATA is, as cloud-init decides (user_data.py convert_string, handlers
 * type_from_starts_with): gzip by its magic; MIME when it starts with a header or, as in
 * cloud-init, "mime-version:" is within its first 4096 bytes and no known prefix starts it;
 * otherwise by its first characters after leading white space, case-insensitive, the longest
 * of cloud-init's prefixes first ("#cloud-config-archive" before "#cloud-config").
 */
enum userdata_kind userdata_detect(const char *data, size_t len);
const char *userdata_kind_to_string(enum userdata_kind k);
/* The MIME type cloud-init gives the kind ("text/cloud-config"), NULL for none. */
const char *userdata_kind_mime_type(enum userdata_kind k);
/* The prefix that marks the kind ("#include"), NULL for none. */
const char *userdata_kind_prefix(enum userdata_kind k);
