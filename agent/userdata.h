/* SPDX-License-Identifier: MIT */
/*
 * userdata.h: the user-data step: store the user data per instance (0600), run a "#!" script
 * once per instance, report other formats as not handled by this step.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

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
