/* SPDX-License-Identifier: MIT */
/*
 * metadata.h: struct metadata, the v1.json document reduced to the plain C values the steps act
 * on (strings are copied out of the parser; no json-c type appears here). json.c fills it in
 * (metadata_parse()) after validating every field; the steps only read it. user_data is a secret:
 * never log it. vendor-data and startup-script are only recorded as present, never kept.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/macro.h"

struct metadata {
	char *instance_id;  /* "instance-v2-id": non-empty, only [0-9a-fA-F-], at most 64 chars, so
			     * it is safe as a directory name */
	char *legacy_id;    /* "instanceid"; NULL when absent */
	char *hostname;     /* "hostname"; "" means: keep the current name */
	char **public_keys; /* "public-keys": never NULL. From an array: one entry per element, same
			     * index, unchanged (control characters are left for the ssh-keys step
			     * to reject per key). From the legacy single string: one entry per
			     * non-empty line. */
	char *region_code;  /* "region.regioncode" */
	char *country_code; /* "region.countrycode"; NULL when absent */
	char **tags;        /* "tags": never NULL (empty when absent) */
	bool has_user_data; /* "user-data" present and a non-empty string */
	char *user_data;    /* SECRET: its bytes (no NUL inside), NUL-terminated, or NULL */
	size_t user_data_len;
	bool has_vendor_data;    /* presence only (non-empty string): never kept, never acted on */
	bool has_startup_script; /* presence only (non-empty string): never kept, never acted on */
	size_t n_interfaces;     /* "interfaces": number of objects in the array (0 when absent) */
};

static inline void metadata_free(struct metadata *m)
{
	if (!m)
		return;
	free(m->instance_id);
	free(m->legacy_id);
	free(m->hostname);
	strv_free(m->public_keys);
	free(m->region_code);
	free(m->country_code);
	strv_free(m->tags);
	free(m->user_data);
	free(m);
}

static inline void metadata_freep(struct metadata **m)
{
	metadata_free(*m);
}

#define _cleanup_metadata_free_ _cleanup_(metadata_freep)
