/* SPDX-License-Identifier: MIT */
/*
 * state.c: vagent's own files under /var/lib/vagent and /run/vagent (always inside --root).
 * Every write is atomic and never follows a symlink; the cache and per-instance files are 0600
 * because they may hold user data. This file knows where things live, not what steps do.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/state.h"
#include "base/util.h"

#define REPORT_MAX (4U << 20)

int state_check_dir(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return log_error_errno(errno, "Failed to stat '%s': %m", path);
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022))
		return log_error_errno(-EPERM, "'%s' is owned by uid %u with mode %04o, but vagent's "
				       "state must be owned by root and writable by no one else; "
				       "refusing to use it (fix: chown root '%s' && chmod go-w '%s').",
				       path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), path,
				       path);
	return 0;
}

int state_open_dir(const char *root, const char *path, bool create, mode_t mode)
{
	_cleanup_close_ int fd = path_open_dir(root, path, create, mode);
	int r;

	if (fd == -ELOOP || fd == -ENOTDIR)
		return log_error_errno(fd, "'%s' or a directory above it is a symlink or not a "
				       "directory, refusing to use it.", path);
	if (fd < 0)
		return fd; /* -ENOENT without CREATE: the callers decide whether that is news */
	r = state_check_dir(fd, path);
	return r < 0 ? r : TAKE_FD(fd);
}

int state_cache_write(const char *root, const char *buf, size_t len)
{
	_cleanup_free_ char *old = NULL;
	size_t old_len = 0;
	int r;

	r = read_file(root, STATE_CACHE, len + 1, &old, &old_len);
	if (r >= 0 && old_len == len && memcmp(old, buf, len) == 0)
		return 0;

	_cleanup_close_ int fd = state_open_dir(root, STATE_DIR, true, 0755);
	if (fd < 0)
		return fd;
	r = write_file_atomic_at(fd, "metadata.json", buf, len, 0600, (uid_t)-1, (gid_t)-1);
	return r < 0 ? r : 1;
}

int state_cache_read(const char *root, size_t max, char **ret, size_t *ret_len)
{
	return read_file(root, STATE_CACHE, max, ret, ret_len);
}

int state_instance_open(const char *root, const char *id, bool create)
{
	_cleanup_close_ int base = -1;
	int fd;

	/* The id was validated by the parser, but this is a path: check again here. */
	if (!id || !*id || strchr(id, '/') || streq(id, ".") || streq(id, ".."))
		return -EINVAL;

	/* Checked one level at a time: /var/lib/vagent, instances, the instance's own. */
	base = state_open_dir(root, STATE_DIR, create, 0755);
	if (base < 0)
		return base;
	closep(&base);
	base = state_open_dir(root, STATE_INSTANCES, create, 0700);
	if (base < 0)
		return base;
	fd = openat(base, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(base, id, 0700) < 0 && errno != EEXIST)
			return negative_errno();
		fd = openat(base, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return negative_errno();
	_cleanup_free_ char *path = path_join(STATE_INSTANCES, id);
	int r = path ? state_check_dir(fd, path) : -ENOMEM;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

bool state_instance_has(const char *root, const char *id, const char *name)
{
	_cleanup_close_ int fd = state_instance_open(root, id, false);
	struct stat st;

	return fd >= 0 && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int state_instance_write(const char *root, const char *id, const char *name, const void *data,
			 size_t len)
{
	_cleanup_close_ int fd = state_instance_open(root, id, true);

	if (fd < 0)
		return fd;
	return write_file_atomic_at(fd, name, data, len, 0600, (uid_t)-1, (gid_t)-1);
}

int state_instance_read(const char *root, const char *id, const char *name, size_t max,
			char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = state_instance_open(root, id, false);

	if (fd < 0)
		return fd;
	return read_file_at(fd, name, max, ret, ret_len);
}

int state_write_report(const char *root, const char *json)
{
	int r, k;

	_cleanup_close_ int run = -1, state = -1;

	run = state_open_dir(root, RUN_DIR, true, 0755);
	if (run < 0)
		return run;
	r = write_file_atomic_at(run, "status.json", json, strlen(json), 0644, (uid_t)-1, (gid_t)-1);
	state = state_open_dir(root, STATE_DIR, true, 0755);
	k = state < 0 ? state :
			write_file_atomic_at(state, "last-boot.json", json, strlen(json), 0644,
					     (uid_t)-1, (gid_t)-1);
	return r < 0 ? r : k;
}

int state_read_report(const char *root, bool this_boot, char **ret, size_t *ret_len,
		      const char **ret_path)
{
	static const char *const paths[] = { RUN_STATUS, STATE_LAST_BOOT };
	int r = -ENOENT;

	for (size_t i = 0; i < (this_boot ? 1 : ARRAY_SIZE(paths)); i++) {
		r = read_file(root, paths[i], REPORT_MAX, ret, ret_len);
		if (r == -ENOENT)
			continue;
		if (r >= 0 && ret_path)
			*ret_path = paths[i];
		return r;
	}
	return r;
}

bool state_run_report_exists(const char *root)
{
	_cleanup_free_ char *p = path_join_root(root, RUN_STATUS);
	struct stat st;

	return p && lstat(p, &st) == 0;
}

int state_boot_id(char **ret)
{
	_cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	char *s = NULL;
	int r;

	if (fd < 0)
		return negative_errno();
	r = read_fd(fd, 64, &s, NULL);
	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = 0;
	*ret = s;
	return 0;
}

int state_write_boot_finished(const char *root, const char *boot_id, const char *time)
{
	_cleanup_free_ char *text = NULL;

	if (asprintf(&text, "%s\n%s\n", boot_id, time) < 0)
		return -ENOMEM;
	return write_file_atomic(root, RUN_BOOT_FINISHED, text, strlen(text), 0644);
}

bool state_boot_finished(const char *root)
{
	_cleanup_free_ char *text = NULL, *id = NULL;

	if (read_file(root, RUN_BOOT_FINISHED, 4096, &text, NULL) < 0 || state_boot_id(&id) < 0)
		return false;
	text[strcspn(text, "\n")] = 0;
	return streq(text, id);
}

int state_set_metadata_late(const char *root, bool late, const char *boot_id)
{
	_cleanup_free_ char *text = NULL;

	if (!late)
		return rm_rf(root, RUN_METADATA_LATE);
	if (asprintf(&text, "%s\n", boot_id ? boot_id : "") < 0)
		return -ENOMEM;
	return write_file_atomic(root, RUN_METADATA_LATE, text, strlen(text), 0644);
}

int state_clean(const char *root)
{
	static const char *const paths[] = { STATE_INSTANCES, STATE_CACHE, STATE_LAST_BOOT,
					     RUN_STATUS };
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		int k = rm_rf(root, paths[i]);
		if (k < 0)
			r = log_error_errno(k, "Failed to remove '%s': %m", paths[i]);
	}
	return r;
}
