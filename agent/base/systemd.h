/* SPDX-License-Identifier: MIT */
/*
 * systemd.h: systemd's unit names, the transient mount units vagent's volumes are mounted
 * through (so systemd orders their unmount at shutdown after `vagent umount` without a
 * daemon-reload), and the state of units (for units.c). systemd.c is the only libsystemd user
 * (loaded with dlopen).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether systemd is the running service manager (/run/systemd/system exists). */
bool systemd_booted(void);

/*
 * systemd's unit name for PATH (absolute, normalised, as in /proc/self/mountinfo): "/"
 * removed at both ends, '/' → '-', every byte outside [A-Za-z0-9:_.] and a leading '.' as
 * "\xNN" ("/mnt/blk-1" + ".mount" → "mnt-blk\x2d1.mount", `systemd-escape --path`). -EINVAL
 * for a relative path, "." or ".." components or a name longer than 255 bytes.
 */
int unit_name_from_path(const char *path, const char *suffix, char **ret);

struct transient_mount {
	const char *what;        /* the device: /dev/disk/by-uuid/... or the partition node */
	const char *where;       /* canonical absolute mount point */
	const char *type;        /* "ext4", "xfs" */
	const char *options;     /* "nofail,X-vagent.volume=ID" */
	const char *description; /* the unit's Description= */
	const char *before;      /* a unit started after the mount and so stopped before it */
	uint64_t timeout_usec;   /* bound on the job, waiting for the device included */
};

/*
 * Ask systemd over D-Bus to create and start the transient mount unit for M->where (its
 * name from unit_name_from_path(), the properties of M, CollectMode=inactive-or-failed) and
 * wait for the job, at most M->timeout_usec (then the job is canceled: -ETIMEDOUT).
 * 1 mounted; -EEXIST when systemd already has a unit of that name (one made from /etc/fstab:
 * the caller mounts by itself and systemd files the mount under that unit); -ENOTCONN when
 * systemd cannot be reached (no bus, no libsystemd: the caller mounts by itself); any other
 * <0 when the job failed (logged, with the job's result).
 */
int systemd_mount_transient(const struct transient_mount *m);

/*
 * The state of each of the N UNITS, from systemd over its bus (PID 1's private socket, else
 * the system bus): RET_PENDING[i] while the unit has a job or is activating or reloading,
 * RET_FAILED[i] when its ActiveState is "failed"; a unit systemd has not loaded has neither.
 * 0 on success; -ENOTCONN without libsystemd, another <0 when the bus failed (not logged:
 * units.c then asks systemctl).
 */
int systemd_units_state(const char *const *units, size_t n, bool *ret_pending, bool *ret_failed);
