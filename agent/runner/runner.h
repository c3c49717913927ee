/* SPDX-License-Identifier: MIT */
/*
 * runner.h: the one runner. Every verb that acts runs its steps through runner_run(), which
 * alone: applies the opt-out and the platform check, takes the run lock (or the storage lock
 * for storage steps), gets the metadata the steps need, skips steps whose flags are not met,
 * times each step, logs one line per step with its MESSAGE_ID, sends STATUS= to systemd, and
 * merges the outcomes into this boot's report (/run/vagent/status.json, last-boot.json).
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "base/config.h"
#include "base/report.h"
#include "steps/step.h"

struct run_options {
	const char *root;
	const struct config *cfg;
	bool dry_run;
	FILE *plan;            /* dry run: plan lines (NULL: none) */
	char *const *devices;  /* devices named on the command line, NULL: discover */
	unsigned stages;       /* STAGE_MASK()s of the stages to run ... */
	const char *step;      /* ... or one step by name (the metadata step runs first if the
				* step needs a document) */
	/* The late path (`vagent late`): when this boot's metadata did not come from the service,
	 * wait for it (no deadline, the late backoff, no lock held), then run STAGES' steps with
	 * it, a step of STEP_ONCE_PER_BOOT only if it has not run this boot; record when the
	 * document came, and reload ssh.service when the host keys changed. */
	bool late;
};

/*
 * Run the selected steps in table order, filling *REPORT with this run's steps (and volumes).
 * Returns 0 when every step succeeded or was skipped, 1 when nothing ran because this machine
 * is opted out or not a Vultr-style platform, or, late, nothing is late (*RET_WHY says why), -EPROTO when a step
 * failed (the report says which), another negative errno when the run could not happen (lock,
 * out of memory).
 */
int runner_run(const struct run_options *o, struct boot_report *report, char **ret_why);

/* This boot's report (THIS_BOOT), else the last boot's: /run/vagent/status.json, else
 * /var/lib/vagent/last-boot.json. -ENOENT when there is none. */
int runner_read_report(const char *root, bool this_boot, struct boot_report *ret,
		       const char **ret_path);

/*
 * This boot's progress, from its report B: 1 when every stage of the step table (shutdown
 * aside) finished a run this boot or will not run (its unit has no start job and is not
 * activating: disabled, masked, skipped by a condition, or failed before it could report), 0
 * while a unit is still to finish. *RET_WAITING (may be NULL) names those units,
 * *RET_FAILED (may be NULL) the units of unfinished stages systemd reports failed.
 */
int runner_boot_progress(const char *root, const struct boot_report *b, char ***ret_waiting,
			 char ***ret_failed);
