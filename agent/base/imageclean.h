/* SPDX-License-Identifier: MIT */
/*
 * imageclean.h: `vagent clean --image`: what makes a system one instance's, removed before an
 * image builder (Packer, a Marketplace snapshot) takes its snapshot, so that every instance
 * made from the image starts as a first boot with its own identity.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "base/config.h"

/*
 * Remove, inside ROOT: vagent's state (/var/lib/vagent: the cache, instance state with its
 * logs, per-once stamps, the last report) and this boot's report files, the SSH host keys,
 * the content of /etc/machine-id (left as "uninitialized": systemd makes a new id at the
 * next boot; a regular-file /var/lib/dbus/machine-id goes), vagent's /etc/fstab lines (the
 * storage step's and cloud-config's) with the storage step's mount directories, and the
 * managed key block of the [ssh] user. Refused, before anything is removed, when one of those
 * lines is mounted or a mount directory is not empty (one line says which). With DRY_RUN
 * nothing is removed. One line per thing removed (or that would be) goes to OUT.
 * Returns 0, or <0 (logged).
 */
int image_clean(const char *root, const struct config *cfg, bool dry_run, FILE *out);
