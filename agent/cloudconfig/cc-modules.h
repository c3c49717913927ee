/* SPDX-License-Identifier: MIT */
/*
 * cc-modules.h: the cloud-config modules that change the system, shared between cc-apply.c
 * (which orders and stamps them) and the file that implements each: cc-files.c (write_files),
 * cc-users.c (users and groups, sudo rules, the passwd/group lookups), cc-mounts.c (fstab).
 * Every module honours dry_run in exactly one place and writes plan lines instead.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cloudconfig/cloudconfig.h"
#include "base/config.h"
#include "base/macro.h"

struct cc_run {
	const char *root;
	const struct config *cfg;
	const char *id;
	bool dry_run;
	FILE *plan; /* dry run: one line per action goes here (may be NULL) */
	int log_fd; /* command output copy (the instance's cloud-config.log), -1 for none */
	size_t *files_left; /* write_files: decoded bytes still allowed, both passes together */
};

void cc_plan(const struct cc_run *c, const char *fmt, ...) _printf_(2, 3);

/* Run ARGV (WHAT names it in messages) with the instance's environment; its output goes to
 * the journal and to C->log_fd. 0 exit status 0, -EPROTO non-zero, other <0 not started. */
int cc_spawn(const struct cc_run *c, const char *what, char *const argv[], char *const *extra_env);
/* The same with STDIN_FD as the command's stdin (no extra environment). */
int cc_spawn_stdin(const struct cc_run *c, const char *what, char *const argv[], int stdin_fd);

/* write_files, the entries with defer == DEFERRED. Their decoded contents count against
 * *C->files_left (an entry beyond it fails). <0 some failed, 0 none, 1 wrote. */
int cc_write_files(const struct cc_run *c, const struct cloud_config *cc, bool deferred);

/* users. <0 some failed, 0 nothing to do, 1 changed. */
int cc_users(const struct cc_run *c, const struct cloud_config *cc);

/* mounts: vagent's cloud-config lines in etc/fstab. <0 failed, 0 unchanged, 1 changed. */
int cc_mounts(const struct cc_run *c, const struct cloud_config *cc);
