/* SPDX-License-Identifier: MIT */
/*
 * mkfs.h: making a filesystem on vagent's freshly created (or pending) partition by spawning
 * mkfs.ext4 / mkfs.xfs from an explicit argv. Never with force flags: if mkfs finds something
 * it refuses, and so do we.
 */
#pragma once

#include <stdbool.h>

#include "base/config.h"

/* Longest label each filesystem accepts: ext4 16 bytes, xfs 12. */
size_t mkfs_label_max(enum fs_type fs);

/*
 * A label for FS made from VOLUME_ID: only [A-Za-z0-9_-] kept (other bytes and a leading '-'
 * dropped), cut to mkfs_label_max(). NULL (errno EINVAL) when nothing is left, ENOMEM on OOM.
 */
char *mkfs_make_label(const char *volume_id, enum fs_type fs);

/*
 * Run mkfs for FS on PARTITION with LABEL (must satisfy the rules above; NULL for none).
 * DISCARD false adds nodiscard (ext4 "-E nodiscard", xfs "-K"). Output goes to the log at
 * debug level. Afterwards the partition is probed: it must carry exactly one filesystem of
 * type FS, whose UUID is returned. Negative errno (logged) on any failure.
 */
int mkfs_run(const char *partition, enum fs_type fs, const char *label, bool discard,
	     char **ret_uuid);
