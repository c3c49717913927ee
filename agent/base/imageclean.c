/* SPDX-License-Identifier: MIT */
/*
 * imageclean.c: `vagent clean --image` (imageclean.h). First every check (nothing of vagent's
 * in /etc/fstab mounted, the mount directories empty), then the removals, so a refusal leaves
 * the image as it was. Each removal goes through the module that owns the file: state.c's
 * paths, hostkeys.c for the host keys, fstab_edit() (the one fstab writer) for the lines,
 * authkeys.c for the key block; /etc/machine-id is rewritten atomically. Paths are resolved
 * inside ROOT without following symlinks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "base/authkeys.h"
#include "base/fstab.h"
#include "base/hostkeys.h"
#include "base/imageclean.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "base/state.h"
#include "base/util.h"

#define MACHINE_ID "/etc/machine-id"
#define DBUS_MACHINE_ID "/var/lib/dbus/machine-id"
#define UNINITIALIZED "uninitialized\n"
#define FSTAB_READ_MAX (16U << 20)

struct mounted {
	char *const *paths; /* ROOT-joined mount points */
	const char *found;
};

static int is_mounted(const struct mount_entry *e, void *userdata)
{
	struct mounted *m = userdata;

	for (char *const *p = m->paths; p && *p; p++)
		if (streq(e->path, *p)) {
			m->found = *p;
			return 1;
		}
	return 0;
}

/* A directory of PATH inside ROOT: 1 empty, 0 missing, -ENOTEMPTY, or another error. */
static int dir_empty(const char *root, const char *path)
{
	_cleanup_close_ int fd = path_open_dir(root, path, false, 0);
	DIR *d;
	struct dirent *de;
	int r = 1;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d)
		return negative_errno();
	fd = -1;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
			r = -ENOTEMPTY;
			break;
		}
	closedir(d);
	return r;
}

static int strip_edit(const char *old, size_t len, void *userdata _unused_, char **ret_new)
{
	int r = fstab_strip_vagent(old, len, NULL, ret_new);

	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	return r > 0;
}

static void said(FILE *out, bool dry_run, const char *what, const char *path)
{
	fprintf(out, "%s %s%s%s\n", dry_run ? "would remove" : "removed", what, *what ? " " : "",
		path);
}

static int remove_path(const char *root, const char *path, bool dry_run, FILE *out)
{
	_cleanup_free_ char *p = path_join_root(root, path);
	struct stat st;
	int r;

	if (!p)
		return -ENOMEM;
	if (lstat(p, &st) < 0)
		return errno == ENOENT ? 0 : log_error_errno(errno, "Failed to stat '%s': %m", path);
	if (!dry_run) {
		r = rm_rf(root, path);
		if (r < 0)
			return log_error_errno(r, "Failed to remove '%s': %m", path);
	}
	said(out, dry_run, "", path);
	return 1;
}

int image_clean(const char *root, const struct config *cfg, bool dry_run, FILE *out)
{
	static const char *const state_paths[] = { STATE_DIR, RUN_STATUS, RUN_BOOT_FINISHED };
	_cleanup_strv_free_ char **mps = NULL, **joined = NULL, **keys = NULL, **dirs = NULL;
	_cleanup_free_ char *fstab = NULL, *msg = NULL;
	struct fstab_entry *vols = NULL;
	size_t len = 0, n_vols = 0;
	struct mounted m = {};
	struct stat st;
	int r;

	/* --- the checks: nothing is removed when one fails ---------------------------------- */
	r = read_file(root, FSTAB_PATH, FSTAB_READ_MAX, &fstab, &len);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "Failed to read '%s': %m", FSTAB_PATH);
	if (fstab) {
		r = fstab_strip_vagent(fstab, len, &mps, NULL);
		if (r < 0)
			return log_error_errno(r, "Out of memory.");
		r = fstab_parse_vagent(fstab, len, &vols, &n_vols);
		if (r < 0)
			return log_error_errno(r, "Out of memory.");
		for (size_t i = 0; i < n_vols && r >= 0; i++)
			r = strv_push(&dirs, strdup(vols[i].mountpoint));
		fstab_entries_free(vols, n_vols);
		if (r < 0)
			return log_error_errno(r, "Out of memory.");
	}
	for (size_t i = 0; mps && mps[i]; i++) {
		r = strv_push(&joined, root_is_host(root) ? strdup(mps[i]) :
							    path_join_root(root, mps[i]));
		if (r < 0)
			return log_error_errno(r, "Out of memory.");
	}
	m.paths = joined;
	r = joined ? mountinfo_foreach(is_mounted, &m) : 0;
	if (r < 0)
		return log_error_errno(r, "Failed to read the mount table: %m");
	if (m.found)
		return log_error_errno(EBUSY, "'%s' is mounted (a line of vagent's in %s): unmount "
				       "it first (vagent umount), refusing to clean the image.",
				       m.found, FSTAB_PATH);
	for (size_t i = 0; dirs && dirs[i]; i++) {
		r = dir_empty(root, dirs[i]);
		if (r == -ENOTEMPTY)
			return log_error_errno(r, "The mount directory '%s' is not empty (written "
					       "while the volume was not mounted?), refusing to "
					       "clean the image.", dirs[i]);
		if (r < 0 && r != -ENOTDIR)
			return log_error_errno(r, "Failed to open the mount directory '%s': %m",
					       dirs[i]);
	}

	/* --- the removals ----------------------------------------------------------------------- */
	for (size_t i = 0; i < ARRAY_SIZE(state_paths); i++) {
		r = remove_path(root, state_paths[i], dry_run, out);
		if (r < 0)
			return r;
	}

	r = hostkeys_remove(root, dry_run, &keys);
	if (r < 0)
		return r;
	for (size_t i = 0; keys && keys[i]; i++)
		said(out, dry_run, "", keys[i]);

	{
		_cleanup_free_ char *old = NULL;

		r = read_file(root, MACHINE_ID, 4096, &old, NULL);
		if (r < 0 && r != -ENOENT)
			return log_error_errno(r, "Failed to read '%s': %m", MACHINE_ID);
		if (!old || !streq(old, UNINITIALIZED)) {
			/* systemd(1): "uninitialized" is a first boot; it writes a new id. */
			if (!dry_run) {
				r = write_file_atomic(root, MACHINE_ID, UNINITIALIZED,
						      strlen(UNINITIALIZED), 0444);
				if (r < 0)
					return log_error_errno(r, "Failed to write '%s': %m",
							       MACHINE_ID);
			}
			fprintf(out, "%s %s (left as \"uninitialized\": systemd makes a new one)\n",
				dry_run ? "would empty" : "emptied", MACHINE_ID);
		}
	}
	{
		_cleanup_free_ char *p = path_join_root(root, DBUS_MACHINE_ID);

		if (!p)
			return -ENOMEM;
		if (lstat(p, &st) >= 0 && S_ISREG(st.st_mode)) {
			r = remove_path(root, DBUS_MACHINE_ID, dry_run, out);
			if (r < 0)
				return r;
		}
	}

	if (mps) {
		r = fstab_edit(root, strip_edit, NULL, false, dry_run);
		if (r < 0)
			return r;
		fprintf(out, "%s %zu line%s of vagent's from %s\n", dry_run ? "would remove" :
			"removed", strv_length(mps), strv_length(mps) == 1 ? "" : "s", FSTAB_PATH);
	}
	for (size_t i = 0; dirs && dirs[i]; i++) {
		_cleanup_free_ char *name = NULL;
		_cleanup_close_ int dfd = path_open_parent(root, dirs[i], false, &name);

		if (dfd == -ENOENT)
			continue;
		if (dfd < 0)
			return log_error_errno(dfd, "Failed to open the parent of '%s': %m", dirs[i]);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (!dry_run && unlinkat(dfd, name, AT_REMOVEDIR) < 0)
			return log_error_errno(errno, "Failed to remove the mount directory '%s': %m",
					       dirs[i]);
		said(out, dry_run, "mount directory", dirs[i]);
	}

	r = sshkeys_apply(root, cfg->ssh_user, NULL, SSHKEYS_SYNC, cfg->sshkeys_target, dry_run,
			  &msg);
	if (r < 0 && r != -ESRCH && r != -ENOENT)
		return log_error_errno(r, "Failed to remove vagent's keys of '%s': %s",
				       cfg->ssh_user, msg ? msg : "error");
	if (r > 0)
		fprintf(out, "%s vagent's key block of '%s' (%s)\n", dry_run ? "would remove" :
			"removed", cfg->ssh_user, msg ? msg : "");
	return 0;
}
