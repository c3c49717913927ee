/* SPDX-License-Identifier: MIT */
/*
 * mount.c: mount(2) and umount(2) for vagent's volumes, plus what they need to read: the
 * mount table (/proc/self/mountinfo) and, when an unmount is refused as busy, every process's
 * cwd, root, exe, open files and memory maps (/proc/PID/...) to name the holders. The mount
 * point directory is created and opened inside --root without following symlinks, and the
 * mount goes onto that opened directory (/proc/self/fd/N), so nothing can redirect it.
 * Unmounting is never lazy or forced: a busy volume stays mounted and the caller is told why.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "storage/blockdev.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "storage/mount.h"
#include "base/process.h"
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

int mount_volume(const char *root, const char *partition, const char *mountpoint,
		 enum fs_type fs)
{
	_cleanup_(mount_info_done) struct mount_info here = {}, elsewhere = {};
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int dfd = -1;
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

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", dfd);
	if (mount(partition, fdpath, fs_type_to_string(fs), 0, NULL) < 0)
		return log_error_errno(errno, "Failed to mount '%s' at '%s': %m", partition, path);
	log_full_id(LOG_NOTICE, MSGID_STORAGE, "Mounted '%s' (%s) at '%s'", partition,
		    fs_type_to_string(fs), path);
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

void mount_reload_systemd(void)
{
	char *argv[] = { "systemctl", "daemon-reload", NULL };
	struct spawn_options o = { .timeout_usec = 60ULL * 1000000ULL, .log_fd = -1 };
	int r, status = 0;

	if (access("/run/systemd/system", F_OK) < 0)
		return;
	r = spawn_run(argv, &o, &status);
	if (r < 0 || status != 0)
		log_warning("'systemctl daemon-reload' after the fstab change failed (%s), ignoring.",
			    r < 0 ? strerror(-r) : "non-zero exit");
}

void udev_wait_idle(uint64_t timeout_usec)
{
	uint64_t deadline = now_usec() + timeout_usec;

	while (access("/run/udev/queue", F_OK) == 0 && now_usec() < deadline)
		(void)usleep(20000);
}
