/* SPDX-License-Identifier: MIT */
/*
 * state.c: vagent's own files under /var/lib/vagent and /run/vagent (always inside --root).
 * Every write is atomic and never follows a symlink; the cache and per-instance files are 0600
 * because they may hold user data. This file knows where things live, not what steps do.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "metadata/json.h"
#include "base/log.h"
#include "base/state.h"
#include "base/util.h"

#define REPORT_MAX (4U << 20)

int state_cache_write(const char *root, const char *buf, size_t len)
{
	_cleanup_free_ char *old = NULL;
	size_t old_len = 0;
	int r;

	r = read_file(root, STATE_CACHE, len + 1, &old, &old_len);
	if (r >= 0 && old_len == len && memcmp(old, buf, len) == 0)
		return 0;

	_cleanup_close_ int fd = path_open_dir(root, STATE_DIR, true, 0755);
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

	base = path_open_dir(root, STATE_INSTANCES, create, 0700);
	if (base < 0)
		return base;
	fd = openat(base, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(base, id, 0700) < 0 && errno != EEXIST)
			return negative_errno();
		fd = openat(base, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd < 0 ? negative_errno() : fd;
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

int state_instance_remove(const char *root, const char *id, const char *name)
{
	_cleanup_close_ int fd = state_instance_open(root, id, false);

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	if (unlinkat(fd, name, 0) < 0 && errno != ENOENT)
		return negative_errno();
	return 0;
}

int state_write_report(const char *root, const struct boot_report *b)
{
	_cleanup_free_ char *json = NULL;
	int r, k;

	r = boot_report_to_json(b, &json);
	if (r < 0)
		return r;
	r = write_file_atomic(root, RUN_STATUS, json, strlen(json), 0644);
	k = write_file_atomic(root, STATE_LAST_BOOT, json, strlen(json), 0644);
	return r < 0 ? r : k;
}

int state_read_report(const char *root, struct boot_report *ret, char **ret_path)
{
	static const char *const paths[] = { RUN_STATUS, STATE_LAST_BOOT };
	int r = -ENOENT;

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		_cleanup_free_ char *buf = NULL;
		size_t len;

		r = read_file(root, paths[i], REPORT_MAX, &buf, &len);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		r = boot_report_from_json(buf, len, ret);
		if (r >= 0 && ret_path)
			*ret_path = strdup(paths[i]);
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

void state_keep_step(const char *root, struct boot_report *b, const char *name)
{
	_cleanup_free_ char *buf = NULL;
	struct boot_report old = {};
	size_t len;

	if (read_file(root, RUN_STATUS, REPORT_MAX, &buf, &len) < 0 ||
	    boot_report_from_json(buf, len, &old) < 0)
		return;
	for (size_t i = 0; i < old.n_steps; i++) {
		const struct step_report *s = &old.steps[i];

		if (!s->name || !streq(s->name, name) || s->result == STEP_SKIPPED)
			continue;
		(void)boot_report_add_step(b, s->name, s->result, s->duration_ms, s->message);
		if (streq(name, "storage"))
			for (size_t k = 0; k < old.n_volumes; k++)
				(void)boot_report_add_volume(b, &old.volumes[k]);
	}
	boot_report_done(&old);
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
