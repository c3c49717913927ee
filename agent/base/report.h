/* SPDX-License-Identifier: MIT */
/*
 * report.h: plain C records of what vagent did, shared by the steps, the status files and the
 * command output: one struct per boot step, per volume, and the whole boot. json.c turns them
 * into JSON and back; nothing here does I/O.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "base/macro.h"

/* What a step ended with (the words are the report's: changed unchanged skipped failed). */
enum step_result {
	STEP_CHANGED,
	STEP_UNCHANGED,
	STEP_SKIPPED,
	STEP_FAILED,
};

/* One boot step's outcome. */
struct step_report {
	char *name;            /* "metadata", "hostname", "ssh-keys", "storage", "userdata" */
	enum step_result result;
	uint64_t duration_ms;
	char *message;         /* one line, secret-free */
};

/* What a verdict's read scan rested on (storage/scan.c); mode NULL when no scan ran. */
struct volume_scan {
	char *mode;           /* "full" (every byte) or "quick" (the structured scan) */
	char *requested;      /* [storage] verify: "auto" "full" "quick" */
	uint64_t size;        /* bytes in the scanned range */
	uint64_t bytes_read;
	double coverage;      /* bytes_read / size, at most 1 */
	uint64_t regions;     /* reads issued */
	uint64_t duration_ms;
	uint64_t rate;        /* bytes per second */
};

/* One volume considered by the storage step or `mount`. */
struct volume_report {
	char *device;     /* /dev/vdb */
	char *verdict;    /* blank own in-use has-data unknown-data unsupported error */
	char *reason;     /* what was found, e.g. "ext4 at offset 1080" */
	char *action;     /* format-and-mount mount none */
	char *mountpoint; /* NULL when none */
	char *uuid;       /* filesystem UUID, NULL when none */
	char *volume_id;  /* serial / provider mount id, NULL when unknown */
	char *result;     /* what happened: "formatted and mounted", "refused", ... (NULL in dry-run) */
	char *grow;       /* what grew: "vdb1 from 10 GiB to 20 GiB" (dry run: would), NULL: nothing */
	bool changed;     /* this run changed something for it (not stored in the report files) */
	struct volume_scan scan;
};

/* What became of one top-level key of the user data's cloud-config (the userdata step's). */
enum key_status {
	KEY_APPLIED, /* done (with --dry-run: would be) as cloud-init does it */
	KEY_PARTIAL, /* done, but some entries or sub-keys were dropped or fell back (REASON) */
	KEY_IGNORED, /* not done: vagent does not support it, or a setting says no (REASON) */
	KEY_ERROR,   /* not done: it is malformed or applying it failed (REASON) */
};

struct key_report {
	char *key;    /* the top-level key as written ("write_files") */
	enum key_status status;
	char *reason; /* one line, secret-free; NULL when there is nothing to add */
};

struct boot_report {
	char *instance_id;      /* NULL when unknown */
	bool first_boot;
	char *metadata_source;  /* "service" "cache" "none" */
	int metadata_late_s;    /* the document reached the service by the late path this many
				 * seconds (at least 1) after the boot stage started; 0: not late */
	char *boot_id;          /* the kernel's boot id when written: a report of an earlier boot is
				 * started afresh, never merged into */
	char *started;          /* ISO 8601 UTC */
	char *finished;
	struct step_report *steps;
	size_t n_steps;
	struct volume_report *volumes;
	size_t n_volumes;
	bool userdata_ran;
	int userdata_exit;      /* exit status of the user-data script when it ran; -1 unknown */
	char **host_keys;       /* the SSH host key fingerprints ("256 SHA256:... (ED25519)"), public */
	char **stages;          /* the stages whose whole run finished this boot ("boot" ...) */
	struct key_report *keys; /* the cloud-config's keys, as the last userdata step left them */
	size_t n_keys;
};

const char *step_result_to_string(enum step_result r);
int step_result_from_string(const char *s);

const char *key_status_to_string(enum key_status s);
int key_status_from_string(const char *s);

void step_report_done(struct step_report *s);
void key_report_done(struct key_report *k);
void volume_report_done(struct volume_report *v);
/* Copy SRC's scan into *DST (strings duplicated; DST's own freed first). */
int volume_scan_copy(struct volume_scan *dst, const struct volume_scan *src);
void boot_report_done(struct boot_report *b);

/* Append a copy of the step (strings duplicated), or replace the step of the same name. */
int boot_report_add_step(struct boot_report *b, const char *name, enum step_result result,
			 uint64_t duration_ms, const char *message);
/* Append a copy of the key (strings duplicated), or replace the entry of the same key. */
int boot_report_add_key(struct boot_report *b, const char *key, enum key_status status,
			const char *reason);
/* Drop every key entry (a new userdata pass reports its keys afresh). */
void boot_report_clear_keys(struct boot_report *b);
/* Append V, or replace the entry of the same device, taking ownership of its strings (V is
 * zeroed). */
int boot_report_add_volume(struct boot_report *b, struct volume_report *v);
