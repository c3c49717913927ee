/* SPDX-License-Identifier: MIT */
/*
 * userdata.h: the user-data step (once per instance: a "#!" script runs, cloud-config is
 * applied through cloudconfig/cc-apply.h, other formats are stored and reported), the per-
 * instance stored copy it runs from, and the run's decoded user data that the hostname,
 * ssh-keys and bootcmd steps read.
 */
#pragma once

#include "steps/step.h"

/* The stored copy in the instance's state directory (0600): the user data that runs, or ran. */
#define USERDATA_STORED "user-data"

/* The cloud-config modules of the merged document (vendor data, a #cloud-config startup
 * script, the user data), once per instance. */
int step_userdata(struct step_context *ctx, struct step_outcome *out);
/* The user's scripts (MIME shell parts, runcmd, a "#!" user data), once per instance. */
int step_user_scripts(struct step_context *ctx, struct step_outcome *out);

/*
 * Keep this run's fetched user data as the instance's stored copy, unless the user data
 * already ran for the instance (then a changed copy is only noted: it will not run again).
 * Called by the metadata step. 1 written, 0 nothing to do, <0 error.
 */
int userdata_store(struct step_context *ctx);

/* The run's document, decoded once: the vendor data (unless the user data says vendor_data:
 * {enabled: false}), a #cloud-config startup script and the user data (this run's fetched
 * copy, else the stored one), merged key by key in that order of priority (the user's wins),
 * the vendor's scripts before the user's. Its kind, gzip and plain describe the user data.
 * NULL when the user data is unknown, there is nothing, or running user data is disabled. */
const struct cc_doc *userdata_doc(struct step_context *ctx);
