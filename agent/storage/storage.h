/* SPDX-License-Identifier: MIT */
/*
 * storage.h: the storage step and the `mount` / `umount` commands: which volumes to consider,
 * the verdict for each (probe.h), and acting on it in the order design/blank-disk.md fixes:
 * partition, probe the new partition, mkfs, mark done, fstab, mount. One vagent at a time
 * works on storage: the runner holds STORAGE_LOCK_PATH around these calls.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"
#include "base/report.h"

#define STORAGE_LOCK_PATH "/run/vagent/storage.lock"

/*
 * Consider DEVICES (NULL: the automatic candidates vd* and nvme*n*); for each, probe it and
 * (unless DRY_RUN) act: blank -> partition, mkfs, fstab, mount ("format-and-mount"); own ->
 * finish what a previous run left (mkfs only when the pending partition is empty), fstab line,
 * mount ("mount"); anything else is left alone ("none"). One volume_report per device in
 * *RET_REPORTS (free with storage_reports_free()). Returns 0 when every volume was handled or
 * legitimately skipped, <0 when an action failed or a device could not be examined. A report's
 * CHANGED says whether this call changed anything for that volume (formatted, mounted, its
 * fstab line restored).
 */
int storage_mount(const char *root, const struct config *cfg, char *const *devices, bool dry_run,
		  struct volume_report **ret_reports, size_t *ret_n);

/*
 * Unmount vagent's volumes: those of DEVICES (whole disks), or every volume vagent has a line
 * for in ROOT/etc/fstab when DEVICES is NULL. Only mounts at a mount point from one of vagent's
 * fstab lines are touched; plain umount(2), a busy volume is reported with its holders and
 * fails. Each report's result says whether the disk is now safe to detach. DRY_RUN: what would
 * be unmounted, nothing is.
 */
int storage_umount(const char *root, const struct config *cfg, char *const *devices, bool dry_run,
		   struct volume_report **ret_reports, size_t *ret_n);

void storage_reports_free(struct volume_report *r, size_t n);
