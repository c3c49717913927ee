/* SPDX-License-Identifier: MIT */
/*
 * state.h: what vagent remembers between runs, all under ROOT: the cached metadata document
 * (/var/lib/vagent/metadata.json, 0600), per-instance state (/var/lib/vagent/instances/<id>/),
 * the last boot's report (/var/lib/vagent/last-boot.json and /run/vagent/status.json).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>


#define STATE_DIR "/var/lib/vagent"
#define STATE_CACHE STATE_DIR "/metadata.json"
#define STATE_INSTANCES STATE_DIR "/instances"
#define STATE_LAST_BOOT STATE_DIR "/last-boot.json"
#define RUN_DIR "/run/vagent"
#define RUN_STATUS RUN_DIR "/status.json"
/* One vagent at a time runs steps on a root (storage steps excepted: STORAGE_LOCK_PATH). */
#define RUN_LOCK_PATH RUN_DIR "/run.lock"
/* Written by the unit that finishes last: every stage of this boot is done. */
#define RUN_BOOT_FINISHED RUN_DIR "/boot-finished"
/* Present while this boot's metadata did not come from the service: vagent-late.service runs
 * only then (ConditionPathExists=). */
#define RUN_METADATA_LATE RUN_DIR "/metadata-late"
/* Present while the boot stage left host key types (one name a line: "rsa") for
 * vagent-hostkeys.service to make after ssh.service started (ConditionPathExists=). */
#define RUN_HOSTKEYS_AFTER_SSH RUN_DIR "/host-keys-after-ssh"
/* Held around the host-keys steps (STEP_HOSTKEYS_LOCK), which may run beside another run. */
#define RUN_HOSTKEYS_LOCK RUN_DIR "/host-keys.lock"
/* Held only while a run merges its steps into RUN_STATUS. */
#define REPORT_LOCK_PATH RUN_DIR "/report.lock"

/*
 * sshd's StrictModes for vagent's own directories (/var/lib/vagent and below, /run/vagent):
 * owned by root (or by the user vagent runs as), writable by no one else; otherwise -EPERM,
 * logged once naming the directory and the fix. FD is the open directory, PATH its name.
 */
int state_check_dir(int fd, const char *path);
/* Open (with CREATE: make, MODE) vagent's directory PATH inside ROOT without following a
 * symlink, and check it as above. */
int state_open_dir(const char *root, const char *path, bool create, mode_t mode);

/* The cached document: written atomically (0600) only when it changed. 1 written, 0 same. */
int state_cache_write(const char *root, const char *buf, size_t len);
int state_cache_read(const char *root, size_t max, char **ret, size_t *ret_len);

/* Open (creating with 0700 when CREATE) the directory of instance ID. */
int state_instance_open(const char *root, const char *id, bool create);
/* Per-instance stamps and files (NAME inside the instance directory). */
bool state_instance_has(const char *root, const char *id, const char *name);
int state_instance_write(const char *root, const char *id, const char *name, const void *data,
			 size_t len);
int state_instance_read(const char *root, const char *id, const char *name, size_t max,
			char **ret, size_t *ret_len);

/* Boot reports (JSON text, runner/runner.h converts): /run/vagent/status.json and
 * /var/lib/vagent/last-boot.json (0644), both written. */
int state_write_report(const char *root, const char *json);
/* Read /run/vagent/status.json, else (unless THIS_BOOT) last-boot.json; *RET_PATH says which.
 * -ENOENT when there is none. */
int state_read_report(const char *root, bool this_boot, char **ret, size_t *ret_len,
		      const char **ret_path);

/* Does this boot's report (/run/vagent/status.json) exist? */
bool state_run_report_exists(const char *root);
/* The kernel's id of the running boot (/proc/sys/kernel/random/boot_id), malloc'd. */
int state_boot_id(char **ret);

/* RUN_BOOT_FINISHED: "BOOT_ID\nTIME\n" (0644), and whether it is there for the running boot. */
int state_write_boot_finished(const char *root, const char *boot_id, const char *time);
bool state_boot_finished(const char *root);
/* RUN_METADATA_LATE created (holding BOOT_ID) or, LATE false, removed. */
int state_set_metadata_late(const char *root, bool late, const char *boot_id);

/* `clean`: remove instance state, the cache and the last-boot report. */
int state_clean(const char *root);
