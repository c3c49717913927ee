/* SPDX-License-Identifier: MIT */
/*
 * runparts.h: the executables of one directory, run in name order from an argv (no shell), as
 * cloud-init's run-parts does for /var/lib/cloud/scripts/per-{once,boot,instance}/.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "base/config.h"

struct runparts_result {
	size_t ran;       /* executables started */
	size_t failed;    /* of those, how many failed (non-zero exit, signal, timeout) */
	size_t skipped;   /* regular files that are not executable (warned about) */
	char *first_failed; /* the first that failed, by name (escaped) */
};

void runparts_result_done(struct runparts_result *r);

/*
 * Run every executable regular file of DIR (inside ROOT; a symlink to one counts on the running
 * system, never under --root) in strcmp() order of their names, each from an argv with the
 * minimal environment plus INSTANCE_ID (when ID is not NULL) and cfg->userdata_timeout_usec,
 * their output to the journal (named by WHAT) and to LOG_FD (when >= 0). A failure does not
 * stop the next one. With DRY_RUN nothing runs and PLAN (when not NULL) gets the names.
 * Returns 0 when DIR is missing or empty, 1 when something ran (or would), -EPROTO when one
 * failed, another <0 when DIR cannot be read.
 */
int runparts(const char *root, const struct config *cfg, const char *dir, const char *what,
	     const char *id, int log_fd, bool dry_run, FILE *plan, struct runparts_result *ret);
