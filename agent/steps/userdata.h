/* SPDX-License-Identifier: MIT */
/*
 * userdata.h: the user-data step: store the user data per instance (0600), run a "#!" script
 * once per instance, apply cloud-config (plain, gzip or MIME multipart) once per instance through
 * cc-apply.h, report other formats as not handled by this step.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/config.h"

/* The stored copy in the instance's state directory. */
#define USERDATA_STORED "user-data"

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

struct userdata_result {
	bool ran;        /* the script was started in this call */
	int exit_status; /* its exit status (128+N for signal N), -1 when it did not finish */
	char *message;   /* one line for the status */
};

/*
 * DATA/LEN: this run's user data (NULL = none); KNOWN false when it could not be fetched.
 * STORE_ONLY: store it but leave running to a later `vagent userdata` (its own unit).
 * Returns <0 failed (including a script that exited non-zero), 0 nothing to do, 1 ran or
 * stored something, 2 skipped (not handled by this step, or disabled).
 */
int userdata_apply(const char *root, const struct config *cfg, const char *instance_id,
		   const char *data, size_t len, bool known, bool store_only, bool dry_run,
		   struct userdata_result *ret);

/*
 * The same with DOC, the user data already decoded by cc_doc_decode() from the same bytes this
 * call works on (the fetched data when KNOWN, else the stored copy), or NULL to decode here; and
 * PLAN, where a dry run of cloud-config prints what it would do (NULL: nowhere).
 */
struct cc_doc;
int userdata_apply_doc(const char *root, const struct config *cfg, const char *instance_id,
		       const char *data, size_t len, bool known, bool store_only, bool dry_run,
		       const struct cc_doc *doc, FILE *plan, struct userdata_result *ret);

/*
 * Run DATA as a script for instance ID, once: BASE.script (0700) is written, the stamp BASE.ran
 * before it starts, its output to BASE.log (0600) and the journal, its exit status to
 * BASE.exit. Returns <0 failed (non-zero exit, timeout, could not start), 1 ran and succeeded.
 */
int userdata_run_script(const char *root, const struct config *cfg, const char *id,
			const char *base, const char *data, size_t len, struct userdata_result *ret);
