/* SPDX-License-Identifier: MIT */
/*
 * fstab.h: vagent's lines in ROOT/etc/fstab. A line is vagent's when its options field carries
 * X-vagent.volume=<volume id> (mount(8) ignores X- options); every other byte of the file
 * (foreign lines, comments, blank lines, tabs, a missing final newline) is preserved exactly.
 * The text functions are pure so tests can drive them without a file system.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"

#define FSTAB_PATH "/etc/fstab"
#define FSTAB_VOLUME_OPTION "X-vagent.volume="

/* One of vagent's lines, as parsed back. */
struct fstab_entry {
	char *volume_id;
	char *spec;       /* "UUID=..." */
	char *mountpoint; /* unescaped ("\040" -> " ") */
	char *fstype;
};

void fstab_entries_free(struct fstab_entry *e, size_t n);

/* A volume id is 1-64 bytes of [A-Za-z0-9_-], not starting with '-'. */
bool fstab_volume_id_valid(const char *id);

/*
 * "UUID=<uuid> <mountpoint> <fs> defaults,nofail,x-systemd.device-timeout=10s,
 * x-systemd.before=vagent-storage.service,X-vagent.volume=<id> 0 2" (one line, no newline).
 * The x-systemd.before= option orders the mount unit systemd makes of the line so that at
 * shutdown vagent-storage.service stops (and unmounts cleanly) before systemd unmounts. Spaces, tabs, newlines and backslashes in
 * the mount point are escaped as octal (\040 ...). NULL with errno EINVAL for an invalid
 * uuid/volume id/mount point, ENOMEM on OOM.
 */
char *fstab_line(const char *uuid, const char *mountpoint, enum fs_type fs, const char *volume_id);

/*
 * Rewrite the text OLD (LEN bytes) so that the line(s) for VOLUME_ID become LINE (NULL: removed).
 * The first such line is replaced in place (its line ending kept), later duplicates are dropped;
 * when there is none, LINE is appended (a newline is added before it only when OLD does not end
 * with one). Returns 1 and *RET_NEW (NUL-terminated) when the text changed, 0 and *RET_NEW = NULL
 * when it did not, negative errno on failure (-EBADMSG: OLD holds a NUL byte, -EINVAL: bad
 * VOLUME_ID or LINE).
 */
int fstab_rewrite(const char *old, size_t len, const char *volume_id, const char *line,
		  char **ret_new);

/* A field with space, tab, newline and backslash octal-escaped (\040 \011 \012 \134, as
 * cloud-init's util.escape_fstab_field), and back (N bytes of S). NULL on OOM. */
char *fstab_escape(const char *s);
char *fstab_unescape(const char *s, size_t n);

/* vagent's lines in TEXT, in file order. */
int fstab_parse_vagent(const char *text, size_t len, struct fstab_entry **ret, size_t *ret_n);

/* The text edit fstab_edit() applies: OLD (LEN bytes; "" for a missing file) → 1 and *RET_NEW
 * (malloc'd, NUL-terminated) when it changes, 0 when not, <0 error (logged by the edit). */
typedef int (*fstab_edit_fn)(const char *old, size_t len, void *userdata, char **ret_new);

/*
 * The one way vagent writes ROOT/etc/fstab: read it (symlinks and non-regular files refused),
 * apply EDIT, and unless DRY_RUN write the result atomically when it changed, keeping the
 * file's mode and owner (a new file: 0644). CREATE: a missing file is edited as empty;
 * otherwise a missing file means there is nothing to do. 1 changed (or would), 0 unchanged,
 * <0 error (logged).
 */
int fstab_edit(const char *root, fstab_edit_fn edit, void *userdata, bool create, bool dry_run);

/* fstab_edit() with fstab_rewrite() for VOLUME_ID (storage's lines). */
int fstab_update(const char *root, const char *volume_id, const char *line_or_null);

/*
 * Every line of TEXT (LEN bytes) that is vagent's, of either kind: an option beginning with
 * "X-vagent." (the storage step's X-vagent.volume= lines, cloud-config's X-vagent.cloud-config
 * lines). Their mount points (unescaped, in file order) go to *RET_MOUNTPOINTS (may be NULL),
 * TEXT without them to *RET_NEW (malloc'd, every other byte kept; NULL when there are none).
 * Returns how many lines, or -ENOMEM.
 */
int fstab_strip_vagent(const char *text, size_t len, char ***ret_mountpoints, char **ret_new);

/* vagent's lines in ROOT/etc/fstab (an empty list when the file is missing). */
int fstab_list_vagent(const char *root, struct fstab_entry **ret, size_t *ret_n);
