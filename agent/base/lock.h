/* SPDX-License-Identifier: MIT */
/*
 * lock.h: vagent's lock files (/run/vagent/run.lock, storage.lock, report.lock): an exclusive
 * BSD lock on a file inside --root, taken with a bound on the wait, and the name of whoever holds
 * it when the wait runs out (from /proc/locks), so "another vagent is running" says which.
 */
#pragma once

#include <stdint.h>

/*
 * Open ROOT/PATH (created 0600; its directory 0755; no symlink followed) and lock it with
 * flock(LOCK_EX), waiting at most TIMEOUT_USEC (0: do not wait). WHAT names the lock in
 * messages ("the run lock"). Returns the locked fd; -EWOULDBLOCK when the time ran out (logged
 * once, naming the holder when /proc/locks knows it); another negative errno on failure.
 */
int lock_file(const char *root, const char *path, const char *what, uint64_t timeout_usec);

/* "pid 123 (vagent)" for the process holding a lock on the file open as FD, NULL when /proc/locks
 * does not say (or on OOM). */
char *lock_holder(int fd);
