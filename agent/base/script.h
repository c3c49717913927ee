/* SPDX-License-Identifier: MIT */
/*
 * script.h: run a user-supplied script once per instance (see script.c for the rules).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"

struct script_result {
	bool ran;        /* the script was started in this call */
	int exit_status; /* its exit status (128+N for signal N), -1 when it did not finish */
	char *message;   /* one line for the status (the caller frees it) */
};

/*
 * Run DATA (LEN bytes) as a script for instance ID: BASE.script (0700) in the instance's state
 * directory, the stamp BASE.ran written before it starts, output to BASE.log (0600) and the
 * journal, exit status to BASE.exit; killed after cfg->userdata_timeout_usec. It runs through an
 * fd of the file just written and checked (base/util.h openat_trusted), so "$0" is
 * /proc/self/fd/3; its environment has PATH, LANG, HOME, INSTANCE_ID and VAGENT_SCRIPT (the
 * file's path). Returns <0 failed (non-zero exit, timeout, could not start), 1 ran and
 * succeeded.
 */
int script_run_once(const char *root, const struct config *cfg, const char *id, const char *base,
		    const char *data, size_t len, struct script_result *ret);

/* The same without the BASE.ran stamp: a script that runs every boot (cloud-config bootcmd). */
int script_run(const char *root, const struct config *cfg, const char *id, const char *base,
	       const char *data, size_t len, struct script_result *ret);
