/* SPDX-License-Identifier: MIT */
/*
 * steps.h: the boot sequence (metadata, bootcmd, hostname, ssh-keys, storage, user data) and the
 * single-step entry points the commands use. One step's failure never stops the next.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "base/config.h"
#include "metadata/fetch.h"
#include "base/report.h"

/* Step return values beyond <0 (failed), 0 (unchanged), 1 (changed). */
#define STEP_RET_SKIPPED 2

struct boot_options {
	const char *root;     /* NULL or --root */
	bool dry_run;
	bool userdata;        /* run the user-data script here (false: store it only) */
	bool storage;         /* run the storage step */
	char *const *devices; /* storage: explicit devices, NULL for discovery */
	FILE *plan;           /* dry run: the cloud-config plan is printed here (NULL: nowhere) */
};

/* Run every step in order and fill REPORT. Returns 0 when every step succeeded or was
 * skipped, -EPROTO when at least one failed (the report says which). */
int boot_run(const struct config *cfg, const struct boot_options *o, struct boot_report *report);

/* Run the one step NAME ("hostname", "ssh-keys", "userdata") like boot does, after getting the
 * metadata (the cache first for "userdata", so a second unit does not wait for the service
 * again). Fills REPORT with the metadata step and NAME. */
int step_run_one(const struct config *cfg, const struct boot_options *o, const char *name,
		 struct boot_report *report);
