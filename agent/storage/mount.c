/* SPDX-License-Identifier: MIT */
/*
 * mount.c: mounting and unmounting vagent's volumes, plus what that needs to read: the mount
 * table (/proc/self/mountinfo) and, when an unmount is refused as busy, every process's cwd,
 * root, exe, open files and memory maps (/proc/PID/...) to name the holders. On a system run
 * by systemd a volume is mounted by systemd itself, as a transient mount unit ordered before
 * vagent-storage.service (so at shutdown it is unmounted after `vagent umount` had its turn;
 * no daemon-reload is needed for that), from the filesystem's /dev/disk/by-uuid link once
 * udev has made it (the event is waited for with inotify, bounded; no settle). Without
 * systemd (and always under --root) it is mount(2) onto the mount point opened inside --root
 * without following symlinks (/proc/self/fd/N), so nothing can redirect it. Unmounting is
 * umount(2), never lazy or forced: a busy volume stays mounted and the caller is told why.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "storage/blockdev.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "storage/mount.h"
#include "base/systemd.h"
#include "base/util.h"

#define MAX_HOLDERS_NAMED 8

void mount_info_done(struct mount_info *m)
{
	if (!m)
		return;
	free(m->path);
	free(m->source);
	free(m->fstype);
	*m = (struct mount_info){};
}

struct find_ctx {
	const char *path;
	dev_t dev;
	bool by_dev, below; /* below: any mount strictly under PATH */
	struct mount_info found;
	int err;
};

static int copy_info(struct mount_info *dst, const struct mount_entry *m)
{
	mount_info_done(dst);
	dst->dev = m->dev;
	dst->path = strdup(m->path);
	dst->source = strdup(m->source);
	dst->fstype = strdup(m->fstype);
	if (!dst->path || !dst->source || !dst->fstype)
		return -ENOMEM;
	return 0;
}

static int find_cb(const struct mount_entry *m, void *userdata)
{
	/* scan-build: c->path is never NULL here: every caller sets it unless by_dev (false
	 * positive). */
	struct find_ctx *c = userdata;
	size_t l = c->path ? strlen(c->path) : 0;

	if (c->by_dev) {
		if (m->dev != c->dev)
			return 0;
		c->err = copy_info(&c->found, m);
		return 1; /* the first is enough */
	}
	if (c->below) {
		if (!strneq(m->path, c->path, l) || m->path[l] != '/')
			return 0;
		c->err = copy_info(&c->found, m);
		return 1;
	}
	if (!streq(m->path, c->path))
		return 0;
	/* later entries are mounted on top: keep the last */
	c->err = copy_info(&c->found, m);
	return c->err < 0 ? 1 : 0;
}

static int find_mount(struct find_ctx *c, struct mount_info *ret)
{
	int r = mountinfo_foreach(find_cb, c);

	if (r < 0)
		log_error_errno(r, "Failed to read '/proc/self/mountinfo': %m");

	if (r >= 0 && c->err < 0)
		r = c->err;
	if (r < 0 || !c->found.path) {
		mount_info_done(&c->found);
		return r < 0 ? r : 0;
	}
	*ret = c->found;
	return 1;
}

int mount_find(const char *path, struct mount_info *ret)
{
	return find_mount(&(struct find_ctx){ .path = path }, ret);
}

int mount_find_device(dev_t dev, struct mount_info *ret)
{
	return find_mount(&(struct find_ctx){ .dev = dev, .by_dev = true }, ret);
}

int mount_path(const char *root, const char *mountpoint, char **ret)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *real = NULL;

	if (!mountpoint || mountpoint[0] != '/')
		return -EINVAL;
	if (!root || !*root || streq(root, "/"))
		real = strdup("/");
	else
		real = realpath(root, NULL);
	if (!real)
		return negative_errno();
	*ret = path_join_root(real, mountpoint);
	return *ret ? 0 : -ENOMEM;
}

/* Whether PATH is the block device DEV (a udev link resolving to it, or the node). */
static bool is_device(const char *path, dev_t dev)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev;
}

/* Ask udev to process PARTITION again ("change", as `udevadm trigger` does). */
static void udev_trigger_change(const char *partition)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int fd = -1;
	const char *name = strrchr(partition, '/');

	if (asprintf(&p, "/sys/class/block/%s/uevent", name ? name + 1 : partition) < 0)
		return;
	fd = open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || write(fd, "change", 6) != 6)
		log_debug_errno(errno, "Cannot write '%s' (%m), ignoring.", p);
}

/*
 * Wait until LINK resolves to DEV: inotify on the deepest existing directory of /dev,
 * /dev/disk, /dev/disk/by-uuid (udev makes the link with a rename or a symlink), each event
 * checked by stat(); at most TIMEOUT_USEC. 0 found, -ETIMEDOUT, <0.
 */
static int wait_link(const char *link, dev_t dev, uint64_t timeout_usec)
{
	static const char *const dirs[] = { "/dev/disk/by-uuid", "/dev/disk", "/dev" };
	uint64_t deadline = now_usec() + timeout_usec;
	_cleanup_close_ int fd = -1;
	int watched = (int)ARRAY_SIZE(dirs); /* index of the deepest directory watched */

	if (is_device(link, dev))
		return 0;
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	for (;;) {
		char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now;
		int r;

		for (int i = 0; i < watched; i++)
			if (inotify_add_watch(fd, dirs[i], IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) >= 0) {
				watched = i;
				break;
			}
		/* After the watch, so a link made meanwhile is not missed. */
		if (is_device(link, dev))
			return 0;
		now = now_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
		if (r < 0 && errno != EINTR)
			return negative_errno();
		while (read(fd, ev, sizeof(ev)) > 0)
			;
	}
}

int mount_wait_source(const char *root, const char *partition, const char *uuid,
		      uint64_t timeout_usec, char **ret_what)
{
	_cleanup_free_ char *link = NULL;
	uint64_t t0 = now_usec();
	struct stat st;
	int r;

	*ret_what = NULL;
	if (stat(partition, &st) < 0)
		return log_error_errno(errno, "'%s' is missing: %m", partition);
	if (!S_ISBLK(st.st_mode))
		return log_error_errno(-ENOTBLK, "'%s' is not a block device", partition);
	/* Only the host's udev makes links, and only when it runs (/run/udev/control). */
	if (!root_is_host(root) || !uuid || access("/run/udev/control", F_OK) < 0)
		goto node;
	if (asprintf(&link, "/dev/disk/by-uuid/%s", uuid) < 0)
		return -ENOMEM;
	if (!is_device(link, st.st_rdev))
		udev_trigger_change(partition);
	r = wait_link(link, st.st_rdev, timeout_usec);
	if (r == 0) {
		log_debug("'%s' leads to '%s' after %" PRIu64 " ms", link, partition,
			  (now_usec() - t0) / 1000);
		*ret_what = TAKE_PTR(link);
		return 0;
	}
	log_warning_errno(r, "udev made no '%s' for '%s' within %" PRIu64 " s (%m), mounting "
			     "the partition node, ignoring.",
			  link, partition, timeout_usec / 1000000);
node:
	*ret_what = strdup(partition);
	return *ret_what ? 0 : -ENOMEM;
}

static int mount_with_systemd(const char *what, const char *path, enum fs_type fs,
			      const char *volume_id)
{
	_cleanup_free_ char *options = NULL, *description = NULL;

	if (asprintf(&options, "nofail,X-vagent.volume=%s", volume_id) < 0 ||
	    asprintf(&description, "vagent volume %s", volume_id) < 0)
		return -ENOMEM;
	return systemd_mount_transient(&(struct transient_mount){
		.what = what,
		.where = path,
		.type = fs_type_to_string(fs),
		.options = options,
		.description = description,
		.before = "vagent-storage.service",
		.timeout_usec = 60ULL * 1000000ULL, /* a bound for a hang; it takes ~0.1 s */
	});
}

int mount_volume(const char *root, const char *what, const char *partition,
		 const char *mountpoint, enum fs_type fs, const char *volume_id)
{
	_cleanup_(mount_info_done) struct mount_info here = {}, elsewhere = {};
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int dfd = -1;
	const char *how = "mount(2)";
	char fdpath[64];
	struct stat st;
	int r;

	r = mount_path(root, mountpoint, &path);
	if (r < 0)
		return log_error_errno(r, "Failed to resolve the mount point '%s': %m", mountpoint);
	if (stat(partition, &st) < 0)
		return log_error_errno(errno, "Failed to stat '%s': %m", partition);
	if (!S_ISBLK(st.st_mode))
		return log_error_errno(-ENOTBLK, "'%s' is not a block device", partition);

	dfd = path_open_dir(root, mountpoint, true, 0755);
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to create the mount point '%s': %m", path);

	r = mount_find(path, &here);
	if (r < 0)
		return r;
	if (r > 0 && here.dev == st.st_rdev) {
		log_debug("'%s' is already mounted at '%s'", partition, path);
		return 0;
	}
	if (r > 0)
		return log_error_errno(-EBUSY, "'%s' is already a mount point (of '%s'), refusing",
				       path, here.source);
	r = mount_find_device(st.st_rdev, &elsewhere);
	if (r < 0)
		return r;
	if (r > 0)
		return log_error_errno(-EBUSY, "'%s' is already mounted at '%s', refusing",
				       partition, elsewhere.path);

	/* systemd mounts it when it runs this system; the unit's name is the path's, and the
	 * path was just made sure of (a directory, no symlink on the way, nothing mounted). */
	r = -ENOTCONN;
	if (root_is_host(root) && systemd_booted())
		r = mount_with_systemd(what ? what : partition, path, fs, volume_id);
	if (r > 0) {
		mount_info_done(&here);
		r = mount_find(path, &here);
		if (r < 0)
			return r;
		if (r == 0 || here.dev != st.st_rdev)
			return log_error_errno(-EIO, "systemd reports '%s' mounted, but '%s' is not "
						     "mounted there",
					       path, partition);
		how = "systemd";
	} else if (r == -ENOTCONN || r == -EEXIST) {
		/* No systemd to ask, or a unit of that name from /etc/fstab: mount(2) (systemd
		 * files the mount under that unit, with that unit's ordering). */
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", dfd);
		if (mount(partition, fdpath, fs_type_to_string(fs), 0, NULL) < 0)
			return log_error_errno(errno, "Failed to mount '%s' at '%s': %m", partition,
					       path);
	} else
		return r;
	log_full_id(LOG_NOTICE, MSGID_STORAGE, "Mounted '%s' (%s) at '%s' (%s)", partition,
		    fs_type_to_string(fs), path, how);
	return 1;
}

/* "pid 123 (bash)" for every process using a file on filesystem DEV. */
static int proc_uses_dev(const char *pid, dev_t dev)
{
	static const char *const links[] = { "cwd", "root", "exe" };
	char p[PATH_MAX];
	struct stat st;
	DIR *d;
	struct dirent *de;
	FILE *f;
	char *line = NULL;
	size_t alloc = 0;
	bool found = false;

	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		snprintf(p, sizeof(p), "/proc/%s/%s", pid, links[i]);
		if (stat(p, &st) == 0 && st.st_dev == dev)
			return 1;
	}

	snprintf(p, sizeof(p), "/proc/%s/fd", pid);
	d = opendir(p);
	if (d) {
		while (!found && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "/proc/%s/fd/%s", pid, de->d_name);
			if (stat(p, &st) == 0 && st.st_dev == dev)
				found = true;
		}
		closedir(d);
	}
	if (found)
		return 1;

	snprintf(p, sizeof(p), "/proc/%s/maps", pid);
	f = fopen(p, "re");
	if (f) {
		while (!found && getline(&line, &alloc, f) > 0) {
			unsigned maj, min;
			unsigned long inode;
			/* "start-end perms offset MAJ:MIN inode path" (MAJ:MIN in hex) */
			if (sscanf(line, "%*s %*s %*s %x:%x %lu", &maj, &min, &inode) == 3 &&
			    inode != 0 && makedev(maj, min) == dev)
				found = true;
		}
		free(line);
		fclose(f);
	}
	return found;
}

static int describe_holders(const char *path, dev_t dev, char **ret)
{
	_cleanup_(mount_info_done) struct mount_info sub = {};
	_cleanup_free_ char *msg = NULL;
	DIR *d;
	struct dirent *de;
	size_t len = 0;
	unsigned n = 0;
	int r;
	FILE *m;

	m = open_memstream(&msg, &len);
	if (!m)
		return -ENOMEM;
	fprintf(m, "'%s' is busy", path);

	d = opendir("/proc");
	if (d) {
		while ((de = readdir(d))) {
			char cpath[PATH_MAX], comm[64] = "?";
			FILE *cf;

			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			if (proc_uses_dev(de->d_name, dev) <= 0)
				continue;
			n++;
			if (n > MAX_HOLDERS_NAMED)
				continue;
			snprintf(cpath, sizeof(cpath), "/proc/%s/comm", de->d_name);
			cf = fopen(cpath, "re");
			if (cf) {
				if (fgets(comm, sizeof(comm), cf))
					comm[strcspn(comm, "\n")] = 0;
				fclose(cf);
			}
			fprintf(m, "%s pid %s (%s)", n == 1 ? ": held by" : ",", de->d_name, comm);
		}
		closedir(d);
	}
	if (n > MAX_HOLDERS_NAMED)
		fprintf(m, " and %u more", n - MAX_HOLDERS_NAMED);

	r = find_mount(&(struct find_ctx){ .path = path, .below = true }, &sub);
	if (r > 0)
		fprintf(m, "%s'%s' is mounted below it", n ? "; " : ": ", sub.path);
	else if (n == 0)
		fprintf(m, " (no process found holding it; a mount in another namespace?)");
	if (fclose(m) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(msg);
	return 0;
}

int umount_volume(const char *path, char **ret_message)
{
	_cleanup_(mount_info_done) struct mount_info here = {};
	int r;

	if (ret_message)
		*ret_message = NULL;
	r = mount_find(path, &here);
	if (r <= 0)
		return r;

	sync();
	if (umount2(path, UMOUNT_NOFOLLOW) < 0) {
		_cleanup_free_ char *msg = NULL;
		int e = errno;

		if (e != EBUSY)
			return log_error_errno(e, "Failed to unmount '%s': %m", path);
		r = describe_holders(path, here.dev, &msg);
		if (r < 0)
			return log_error_errno(-EBUSY, "'%s' is busy", path);
		log_error("%s", msg);
		if (ret_message)
			*ret_message = TAKE_PTR(msg);
		return -EBUSY;
	}
	log_full_id(LOG_NOTICE, MSGID_STORAGE_UNMOUNTED, "Unmounted '%s' ('%s')", path,
		    here.source);
	return 1;
}

int device_safe_to_detach(const char *disk, char **ret_why)
{
	static int (*const checks[])(const struct blockdev *, char **) = {
		blockdev_find_mount,
		blockdev_find_swap,
		blockdev_find_holder,
	};
	_cleanup_(blockdev_done) struct blockdev bd = {};
	int fd, r;

	*ret_why = NULL;
	r = blockdev_load(disk, &bd);
	if (r < 0)
		return log_error_errno(r, "Failed to look up '%s': %m", disk);
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		r = checks[i](&bd, ret_why);
		if (r < 0)
			return log_error_errno(r, "Failed to check whether '%s' is in use: %m", disk);
		if (r > 0)
			return 0;
	}
	fd = open(disk, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno != EBUSY)
			return log_error_errno(errno, "Failed to open '%s': %m", disk);
		*ret_why = strdup("an exclusive open is refused (in use)");
		return *ret_why ? 0 : -ENOMEM;
	}
	close(fd);
	return 1;
}
