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
	USERDATA_MIME,         /* "Content-Type: multipart/..." */
	USERDATA_GZIP,
	USERDATA_JSON,
	USERDATA_OTHER,
};

enum userdata_kind userdata_detect(const char *data, size_t len);
const char *userdata_kind_to_string(enum userdata_kind k);
