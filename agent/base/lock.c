/* SPDX-License-Identifier: MIT */
/*
 * lock.c: lock files inside --root (lock.h). One way to take a lock: open without following a
 * symlink, then flock_wait() (util.h, the one retry loop) with a bound. When the bound is hit,
 * /proc/locks names the holder by the file's device and inode.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/lock.h"
#include "base/log.h"
#include "base/state.h"
#include "base/util.h"

char *lock_holder(int fd)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	f = fopen("/proc/locks", "re");
	if (!f)
		return NULL;
	/* "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF" (a "->" marks a waiter: skipped) */
	while (getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		unsigned long long ino;
		char kind[16], mode[16], rw[16];
		int pid;

		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*d: %15s %15s %15s %d %x:%x:%llu", kind, mode, rw, &pid, &maj, &min,
			   &ino) != 7)
			continue;
		if (ino != (unsigned long long)st.st_ino || makedev(maj, min) != st.st_dev)
			continue;
		_cleanup_free_ char *comm = NULL, *path = NULL;
		if (asprintf(&path, "/proc/%d/comm", pid) >= 0) {
			_cleanup_close_ int cfd = open(path, O_RDONLY | O_CLOEXEC);
			if (cfd >= 0 && read_fd(cfd, 64, &comm, NULL) >= 0)
				comm[strcspn(comm, "\n")] = 0;
		}
		char *s;
		if (asprintf(&s, "pid %d (%s)", pid, comm ? comm : "?") < 0)
			return NULL;
		return s;
	}
	return NULL;
}

int lock_file(const char *root, const char *path, const char *what, uint64_t timeout_usec)
{
	_cleanup_free_ char *name = NULL, *holder = NULL, *dir = NULL;
	_cleanup_close_ int dfd = -1, fd = -1;
	uint64_t t0 = now_usec();
	struct stat st;
	int r;

	dfd = path_open_parent(root, path, true, &name);
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to open the directory of '%s': %m", path);
	dir = strndup(path, strrchr(path, '/') - path);
	if (!dir)
		return -ENOMEM;
	r = state_check_dir(dfd, dir);
	if (r < 0)
		return r;
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return log_error_errno(errno, "Failed to open '%s': %m", path);
	/* Someone else's lock file in our directory: refused, not waited on. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()))
		return log_error_errno(-EPERM, "'%s' is not vagent's lock file (owner or type), "
				       "refusing to use it.", path);

	r = flock_wait(fd, LOCK_EX, 0);
	if (r == 0)
		return TAKE_FD(fd);
	if (r != -EWOULDBLOCK)
		return log_error_errno(r, "Failed to lock '%s': %m", path);
	if (timeout_usec > 0) {
		holder = lock_holder(fd);
		log_notice("Waiting for %s ('%s', held by %s).", what, path,
			   holder ? holder : "another process");
		r = flock_wait(fd, LOCK_EX, timeout_usec);
		if (r == 0)
			return TAKE_FD(fd);
		if (r != -EWOULDBLOCK)
			return log_error_errno(r, "Failed to lock '%s': %m", path);
	}
	free(holder);
	holder = lock_holder(fd);
	return log_error_errno(-EWOULDBLOCK, "Gave up waiting for %s ('%s', held by %s) after %" PRIu64
			       " s.", what, path, holder ? holder : "another process",
			       (now_usec() - t0 + 500000) / 1000000);
}
