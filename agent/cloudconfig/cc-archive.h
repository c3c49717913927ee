/* SPDX-License-Identifier: MIT */
/*
 * cc-archive.h: "#cloud-config-archive" user data (cc-archive.c), a YAML list whose entries
 * become parts as a MIME multipart's do, the way cloud-init's user_data.py _explode_archive
 * makes them: a string is a part's content; a mapping gives content, type, and headers
 * (Merge-Type); without a type the content's prefix decides, else text/cloud-config
 * (application/octet-stream for !!binary content). launch-index and filename are read and
 * have no effect (Vultr has no launch index; vagent names parts by their index).
 */
#pragma once

#include <stddef.h>

#include "cloudconfig/cc-mime.h"
#include "cloudconfig/cc-node.h"
#include "cloudconfig/cloudconfig.h"

/*
 * Split DATA (the "#cloud-config-archive" line included) into its parts, in order, charged to
 * B. An entry cloud-init leaves out (neither a string nor a mapping, content not a string, a
 * type without '/') is a part with SKIPPED set. Returns 0; -EBADMSG when the text is not YAML
 * or its top level is not a list (ERR says where and why, secret-free); -E2BIG more than
 * MIME_MAX_PARTS entries or B ran out (ERR->problem); -ENOMEM.
 */
int cc_archive_split(const char *data, size_t len, struct cc_budget *b, struct mime_part **ret,
		     size_t *ret_n, struct cc_error *err);
