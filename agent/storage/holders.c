/* SPDX-License-Identifier: MIT */
/*
 * holders.c: who uses a block device behind the kernel's back: processes holding the disk or a
 * partition open (every /proc/PID/fd entry is stat()ed and matched by st_rdev, so renamed nodes,
 * by-id links and nodes in other mount namespaces are found too), loop devices whose backing
 * file is the disk or a partition (sysfs loop/backing_file, and the loop status ioctl when the
 * name no longer resolves), and the owner of a BSD lock on the disk's node (/proc/locks). A
 * process that writes to a disk without O_EXCL, or a loop device on top of it, is invisible to
 * the exclusive open and to holders/; this is where they are found. Only reads.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "storage/holders.h"

#define MAX_FDINFO 4096

static void dir_closep(DIR **d)
{
	if (*d)
		closedir(*d);
}

int holders_parse_lock_line(const char *line, struct lock_entry *ret)
{
	char kind[16], mode[16], rw[16];
	unsigned ma, mi;
	long long pid;
	unsigned long long ino;
	int n = 0;

	/* "ID: KIND MODE RW PID MAJ:MIN:INODE START END"; waiters have "ID: -> KIND ...". */
	if (sscanf(line, "%*u: %15s %15s %15s %lld %x:%x:%llu %n", kind, mode, rw, &pid, &ma, &mi,
		   &ino, &n) != 7 ||
	    n == 0)
		return -EINVAL;
	if (streq(kind, "->") || pid < -1 || pid > INT32_MAX)
		return -EINVAL;
	*ret = (struct lock_entry){
		.flock = streq(kind, "FLOCK"),
		.write = streq(rw, "WRITE"),
		.pid = (pid_t)pid,
		.dev = makedev(ma, mi),
		.inode = ino,
	};
	return 0;
}

int holders_parse_fdinfo_flags(const char *text, size_t len, unsigned *ret)
{
	for (size_t i = 0; i < len;) {
		const char *line = text + i, *nl = memchr(line, '\n', len - i);
		size_t l = nl ? (size_t)(nl - line) : len - i;

		if (l > 6 && strneq(line, "flags:", 6)) {
			unsigned long v = 0;
			size_t k = 6;
			bool any = false;

			while (k < l && (line[k] == ' ' || line[k] == '\t'))
				k++;
			for (; k < l && line[k] >= '0' && line[k] <= '7'; k++) {
				if (v > (UINT32_MAX >> 3))
					return -EINVAL;
				v = v * 8 + (unsigned long)(line[k] - '0');
				any = true;
			}
			if (!any || k != l)
				return -EINVAL;
			*ret = (unsigned)v;
			return 0;
		}
		i += l + 1;
	}
	return -EINVAL;
}

bool holders_comm_is_transient(const char *comm)
{
	return comm && (streq(comm, "systemd-udevd") || streq(comm, "(udev-worker)") ||
			streq(comm, "udevd") || streq(comm, "udev-worker"));
}

static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* /proc/PID/comm, trimmed; "?" when gone. */
static char *read_comm(const char *pid)
{
	char path[PATH_MAX], buf[64];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return strdup("?");
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	return strdup(buf);
}

static int fd_flags(int fdinfo_dir, const char *fd, unsigned *ret)
{
	_cleanup_close_ int f = openat(fdinfo_dir, fd, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (f < 0 || read_fd(f, MAX_FDINFO, &buf, &len) < 0)
		return -ENOENT;
	return holders_parse_fdinfo_flags(buf, len, ret);
}

static ssize_t devnum_index(const dev_t *devs, size_t n, dev_t d)
{
	for (size_t i = 0; i < n; i++)
		if (devs[i] == d)
			return (ssize_t)i;
	return -1;
}

int holders_find_process(const struct blockdev *b, char **ret_what, bool *ret_transient)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ dev_t *devs = NULL;
	_cleanup_(dir_closep) DIR *proc = NULL;
	_cleanup_free_ char *first = NULL;
	bool transient = true;
	struct dirent *de;
	char self[32];
	size_t nd;
	int r;

	*ret_transient = false;
	r = blockdev_devnums(b, &devs, &names, &nd);
	if (r < 0)
		return r;
	snprintf(self, sizeof(self), "%d", (int)getpid());

	proc = opendir("/proc");
	if (!proc)
		return log_debug_errno(negative_errno(), "Failed to open /proc: %m");
	while ((errno = 0, de = readdir(proc))) {
		_cleanup_(dir_closep) DIR *fds = NULL;
		_cleanup_close_ int fdinfo = -1;
		char path[sizeof(de->d_name) + 16];
		struct dirent *fe;

		if (!is_pid(de->d_name) || streq(de->d_name, self))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
		fds = opendir(path);
		if (!fds)
			continue; /* gone, or a kernel thread */
		snprintf(path, sizeof(path), "/proc/%s/fdinfo", de->d_name);
		fdinfo = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		while ((fe = readdir(fds))) {
			_cleanup_free_ char *comm = NULL;
			unsigned flags = 0;
			const char *mode;
			struct stat st;
			ssize_t k;

			if (fe->d_name[0] == '.')
				continue;
			if (fstatat(dirfd(fds), fe->d_name, &st, 0) < 0 || !S_ISBLK(st.st_mode))
				continue;
			k = devnum_index(devs, nd, st.st_rdev);
			if (k < 0)
				continue;
			if (fdinfo < 0 || fd_flags(fdinfo, fe->d_name, &flags) < 0)
				mode = "open";
			else
				mode = (flags & O_ACCMODE) == O_RDONLY ? "open read-only" :
									 "open read-write";
			comm = read_comm(de->d_name);
			if (!comm)
				return -ENOMEM;
			/* Read-only opens are probes (udev, an LVM or blkid scan of every disk) that
			 * end by themselves; a writer, or an open whose mode is unknown, is not. */
			if (!streq(mode, "open read-only"))
				transient = false;
			if (!first &&
			    asprintf(&first, "pid %s (%s) has %s %s", de->d_name, comm, names[k],
				     mode) < 0) {
				first = NULL;
				return -ENOMEM;
			}
			if (!transient)
				break;
		}
		if (first && !transient)
			break;
	}
	if (!first)
		return 0;
	*ret_transient = transient;
	*ret_what = TAKE_PTR(first);
	return 1;
}

/* The node of loop device NAME: its backing file's (st_dev, st_ino) from LOOP_GET_STATUS64. */
static int loop_backing_id(const char *name, dev_t *ret_dev, uint64_t *ret_ino)
{
	struct loop_info64 info = {};
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
		return negative_errno(); /* ENXIO: not bound */
	*ret_dev = (dev_t)info.lo_device;
	*ret_ino = info.lo_inode;
	return 0;
}

static bool is_loop_name(const char *s)
{
	return startswith(s, "loop") && s[4] && is_pid(s + 4);
}

int holders_find_loop(const struct blockdev *b, char **ret_what)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ dev_t *devs = NULL;
	_cleanup_free_ char *dir = NULL;
	_cleanup_(dir_closep) DIR *d = NULL;
	struct stat *nodes = NULL;
	dev_t own_dev = 0;
	uint64_t own_ino = 0;
	bool own_loop = false;
	struct dirent *de;
	size_t nd;
	int r, ret = 0;

	r = blockdev_devnums(b, &devs, &names, &nd);
	if (r < 0)
		return r;
	/* The device nodes themselves, for loop devices whose backing name no longer resolves. */
	nodes = calloc(nd, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	for (size_t i = 0; i < nd; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "/dev/%s", names[i]);
		if (stat(p, &nodes[i]) < 0 || !S_ISBLK(nodes[i].st_mode) ||
		    nodes[i].st_rdev != devs[i])
			nodes[i] = (struct stat){ .st_ino = 0 };
	}
	if (is_loop_name(b->name) && loop_backing_id(b->name, &own_dev, &own_ino) >= 0)
		own_loop = true;

	if (asprintf(&dir, "%s/block", blockdev_get_sysfs_root()) < 0) {
		dir = NULL;
		ret = -ENOMEM;
		goto out;
	}
	d = opendir(dir);
	if (!d) {
		ret = log_debug_errno(negative_errno(), "Failed to open \"%s\": %m", dir);
		goto out;
	}
	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		char buf[PATH_MAX + 16];
		_cleanup_close_ int fd = -1;
		struct stat st;
		dev_t ldev = 0;
		uint64_t lino = 0;
		bool have_id;
		ssize_t n;

		if (!is_loop_name(de->d_name) || streq(de->d_name, b->name))
			continue;
		if (asprintf(&sub, "%s/%s/loop/backing_file", dir, de->d_name) < 0) {
			sub = NULL;
			ret = -ENOMEM;
			goto out;
		}
		fd = open(sub, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			continue; /* not bound */
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		have_id = loop_backing_id(de->d_name, &ldev, &lino) >= 0;

		/* By device number when the backing name still resolves to a block device. */
		if (stat(buf, &st) == 0 && S_ISBLK(st.st_mode)) {
			ssize_t k = devnum_index(devs, nd, st.st_rdev);

			if (k >= 0) {
				ret = asprintf(ret_what, "%s backs %s", names[k], de->d_name) < 0 ?
					      -ENOMEM :
					      1;
				goto out;
			}
		}
		if (!have_id)
			continue;
		/* By the node's identity (a renamed or deleted name). */
		for (size_t k = 0; k < nd; k++)
			if (nodes[k].st_ino != 0 && nodes[k].st_dev == ldev &&
			    (uint64_t)nodes[k].st_ino == lino) {
				ret = asprintf(ret_what, "%s backs %s", names[k], de->d_name) < 0 ?
					      -ENOMEM :
					      1;
				goto out;
			}
		/* Our loop disk's file also backs this one: writes to one show in the other. */
		if (own_loop && ldev == own_dev && lino == own_ino) {
			ret = asprintf(ret_what, "%s's backing file also backs %s", b->name,
				       de->d_name) < 0 ?
				      -ENOMEM :
				      1;
			goto out;
		}
	}
	if (errno != 0)
		ret = negative_errno();
out:
	free(nodes);
	return ret;
}

int holders_find_lock_owner(const struct blockdev *b, char **ret_what, bool *ret_transient)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	struct stat st;

	*ret_transient = false;
	if (stat(b->path, &st) < 0)
		return negative_errno();
	f = fopen("/proc/locks", "re");
	if (!f)
		return errno == ENOENT ? 0 : negative_errno();
	while (getline(&line, &cap, f) > 0) {
		struct lock_entry e;
		char pid[32];
		_cleanup_free_ char *comm = NULL;

		if (holders_parse_lock_line(line, &e) < 0 || !e.flock || e.pid <= 0 ||
		    e.dev != st.st_dev || e.inode != (uint64_t)st.st_ino || e.pid == getpid())
			continue;
		snprintf(pid, sizeof(pid), "%d", (int)e.pid);
		comm = read_comm(pid);
		if (!comm)
			return -ENOMEM;
		*ret_transient = holders_comm_is_transient(comm);
		return asprintf(ret_what, "pid %s (%s)", pid, comm) < 0 ? -ENOMEM : 1;
	}
	return 0;
}

/* Field 3 (major:minor) and field 5 (mount point, still escaped) of a mountinfo line. */
static bool mountinfo_fields(char *line, dev_t *ret_dev, char **ret_target)
{
	char *save = NULL, *tok;
	unsigned ma, mi;
	int field = 0;
	bool ok = false;

	*ret_target = NULL;
	for (tok = strtok_r(line, " ", &save); tok && field < 5; tok = strtok_r(NULL, " ", &save)) {
		field++;
		if (field == 3)
			ok = sscanf(tok, "%u:%u", &ma, &mi) == 2;
		else if (field == 5)
			*ret_target = tok;
	}
	if (!ok || !*ret_target)
		return false;
	*ret_dev = makedev(ma, mi);
	return true;
}

int holders_find_foreign_mount(const struct blockdev *b, char **ret_what)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ dev_t *devs = NULL;
	_cleanup_(dir_closep) DIR *proc = NULL;
	struct dirent *de;
	size_t nd;
	int r;

	r = blockdev_devnums(b, &devs, &names, &nd);
	if (r < 0)
		return r;
	proc = opendir("/proc");
	if (!proc)
		return negative_errno();
	while ((errno = 0, de = readdir(proc))) {
		_cleanup_fclose_ FILE *f = NULL;
		_cleanup_free_ char *line = NULL;
		char path[sizeof(de->d_name) + 16];
		size_t cap = 0;

		if (!is_pid(de->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/mountinfo", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (getline(&line, &cap, f) > 0) {
			_cleanup_free_ char *comm = NULL;
			char *target;
			dev_t d;
			ssize_t k;

			if (!mountinfo_fields(line, &d, &target))
				continue;
			k = devnum_index(devs, nd, d);
			if (k < 0)
				continue;
			comm = read_comm(de->d_name);
			if (!comm)
				return -ENOMEM;
			return asprintf(ret_what, "%s mounted at %s in the mount namespace of pid %s (%s)",
					names[k], target, de->d_name, comm) < 0 ?
				       -ENOMEM :
				       1;
		}
	}
	return 0;
}
