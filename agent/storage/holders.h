/* SPDX-License-Identifier: MIT */
/*
 * holders.h: users of a block device that neither O_EXCL nor sysfs holders/ reveal: processes
 * with the disk or one of its partitions open (found by device number in /proc/PID/fd, never by
 * path), loop devices backed by it (their backing file is the disk or a partition, or, for a loop
 * disk, the same file backs another loop device), and the owner of a BSD lock on its node
 * (/proc/locks). Read-only; no external library. The /proc and sysfs roots are parameters of the
 * callers' modules (blockdev_get_sysfs_root()) so the parsers can be tested on their own.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "storage/blockdev.h"

/* One line of /proc/locks. */
struct lock_entry {
	bool flock;     /* FLOCK (else POSIX, OFDLCK, ...) */
	bool write;     /* WRITE (exclusive) */
	pid_t pid;      /* -1 for OFD locks */
	dev_t dev;      /* device of the filesystem holding the inode (the node's, not st_rdev) */
	uint64_t inode;
};

/* Parse one /proc/locks line ("1: FLOCK  ADVISORY  WRITE 123 00:05:4242 0 EOF", also the
 * " -> " lines of waiters, which are refused): 0 and *RET, -EINVAL when it is not such a line. */
int holders_parse_lock_line(const char *line, struct lock_entry *ret);

/* The "flags:" value (octal) of a /proc/PID/fdinfo/FD text: 0 and *RET, -EINVAL without one. */
int holders_parse_fdinfo_flags(const char *text, size_t len, unsigned *ret);

/* Processes that are udev's own probing (workers, the daemon): their opens and locks are brief,
 * so the probe waits for them instead of refusing the disk. */
bool holders_comm_is_transient(const char *comm);

/*
 * The first process (other than this one) with the disk B or one of its partitions open:
 * 1 and "pid 1234 (dd) has vdb open read-write" (PARTITION NAMES from sysfs, never built),
 * 0 when none, <0 on error. *RET_TRANSIENT: every opener found reads only (a probe: udev,
 * an LVM or blkid scan; the caller waits a little for those before calling the disk in use).
 */
int holders_find_process(const struct blockdev *b, char **ret_what, bool *ret_transient);

/* 1 and "vdb backs loop5" / "vdb1 backs loop5" / "loop3's backing file also backs loop5" when a
 * loop device uses B, 0 when none, <0 on error. */
int holders_find_loop(const struct blockdev *b, char **ret_what);

/* Who holds a BSD lock on B's device node: 1 and "pid 1234 (sleep)", *RET_TRANSIENT when that
 * is udev; 0 when /proc/locks names nobody (an OFD lock, another mount namespace). */
int holders_find_lock_owner(const struct blockdev *b, char **ret_what, bool *ret_transient);

/* A mount of B or a partition in any process's mount namespace (/proc/PID/mountinfo, by
 * major:minor): 1 and "vdb1 mounted at /srv in the mount namespace of pid 123 (sh)", 0 none. */
int holders_find_foreign_mount(const struct blockdev *b, char **ret_what);
