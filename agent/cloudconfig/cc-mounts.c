/* SPDX-License-Identifier: MIT */
/*
 * cc-mounts.c: cloud-config mounts as extra lines of ROOT/etc/fstab, each marked with the
 * X-vagent.cloud-config option (mount(8) ignores X- options) so vagent can find and replace its
 * own lines and never touches another byte of the file. These lines are kept apart from the
 * storage step's X-vagent.volume= lines: `vagent umount` never considers them. Fields missing
 * from an entry take cloud-init's defaults (auto, defaults,nofail, 0, 2); "vdb" means /dev/vdb.
 * Mount points are created inside ROOT; without --root each new line is mounted at once.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "base/fstab.h"
#include "base/log.h"
#include "cloudconfig/cc-modules.h"
#include "base/util.h"

#define MARK "X-vagent.cloud-config"

static bool line_is_ours(const char *line, size_t len)
{
	size_t i = 0, field = 0;

	while (i < len) {
		size_t s;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i < len && field == 0 && line[i] == '#')
			return false;
		s = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (i > s && field == 3) {
			for (size_t o = s; o < i;) {
				size_t e = o;
				while (e < i && line[e] != ',')
					e++;
				if (e - o == strlen(MARK) && memcmp(line + o, MARK, e - o) == 0)
					return true;
				o = e + 1;
			}
			return false;
		}
		if (i > s)
			field++;
	}
	return false;
}

static bool field_ok(const char *s)
{
	return *s && *s != '#' && !strpbrk(s, " \t") && !string_has_control(s, strlen(s), false);
}

/* The fstab line for entry M, or NULL (and a warning) when it cannot be one. */
static char *entry_line(const struct cc_mount *m, size_t index, char **ret_mountpoint)
{
	static const char *const defaults[6] = { NULL, NULL, "auto", "defaults,nofail", "0", "2" };
	const char *f[6];
	_cleanup_free_ char *spec = NULL;
	char *line;

	for (size_t i = 0; i < 6; i++)
		f[i] = i < m->n_fields && m->field[i] ? m->field[i] : defaults[i];
	if (!f[0] || !f[1]) {
		log_warning("cloud-config mounts[%zu]: no device or no mount point, ignoring.", index);
		return NULL;
	}
	for (size_t i = 0; i < 6; i++)
		if (!field_ok(f[i])) {
			log_warning("cloud-config mounts[%zu]: field %zu is empty or has a blank or "
				    "control character, ignoring.", index, i + 1);
			return NULL;
		}
	if (f[1][0] != '/' && !streq(f[1], "none") && !streq(f[1], "swap")) {
		log_warning("cloud-config mounts[%zu]: the mount point is not an absolute path, "
			    "ignoring.", index);
		return NULL;
	}
	if (f[1][0] == '/' && path_has_dotdot(f[1])) {
		log_warning("cloud-config mounts[%zu]: the mount point has a '..' component, "
			    "ignoring.", index);
		return NULL;
	}
	/* X-vagent.* options mark vagent's own lines (storage volumes, these lines): never the
	 * user's to set, or `vagent umount` would take a user's mount for a volume. */
	if (strcasestr(f[3], "x-vagent.")) {
		log_warning("cloud-config mounts[%zu]: options may not carry X-vagent.* (vagent's "
			    "own marks), ignoring.", index);
		return NULL;
	}
	/* cloud-init's short device names: "vdb" is /dev/vdb. */
	if (!strchr(f[0], '/') && !strchr(f[0], '='))
		if (asprintf(&spec, "/dev/%s", f[0]) < 0)
			return NULL;
	if (asprintf(&line, "%s\t%s\t%s\t%s," MARK "\t%s\t%s", spec ? spec : f[0], f[1], f[2], f[3],
		     f[4], f[5]) < 0)
		return NULL;
	*ret_mountpoint = f[1][0] == '/' ? strdup(f[1]) : NULL;
	return line;
}

/* Every byte that is not one of our lines stays; our lines go to the end, in order. */
static int mounts_edit(const char *old, size_t old_len, void *userdata, char **ret_new)
{
	char *const *lines = userdata;
	_cleanup_free_ char *new = NULL;
	size_t new_len = 0;
	FILE *f;

	f = open_memstream(&new, &new_len);
	if (!f)
		return log_error_errno(-ENOMEM, "Out of memory.");
	for (size_t i = 0; i < old_len;) {
		const char *nl = memchr(old + i, '\n', old_len - i);
		size_t llen = nl ? (size_t)(nl - (old + i)) : old_len - i;

		if (!line_is_ours(old + i, llen)) {
			fwrite(old + i, 1, llen, f);
			if (nl || lines)
				fputc('\n', f);
		}
		i += llen + (nl ? 1 : 0);
	}
	for (size_t i = 0; lines && lines[i]; i++)
		fprintf(f, "%s\n", lines[i]);
	if (fclose(f) != 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (new_len == old_len && memcmp(new, old, new_len) == 0)
		return 0;
	*ret_new = TAKE_PTR(new);
	return 1;
}

int cc_mounts(const struct cc_run *c, const struct cloud_config *cc)
{
	_cleanup_strv_free_ char **lines = NULL, **mountpoints = NULL;
	size_t bad = 0, n;
	int r;

	for (size_t i = 0; i < cc->n_mounts; i++) {
		char *mp = NULL, *line = entry_line(&cc->mounts[i], i, &mp);

		if (!line) {
			bad++;
			continue;
		}
		if (strv_push(&lines, line) < 0 || (mp && strv_push(&mountpoints, mp) < 0))
			return log_error_errno(-ENOMEM, "Out of memory.");
	}
	n = strv_length(lines);

	r = fstab_edit(c->root, mounts_edit, lines, true, c->dry_run);
	if (r < 0)
		return r;
	if (r == 0) {
		cc_plan(c, "%-20s %zu fstab line%s, unchanged", "mounts", n, n == 1 ? "" : "s");
		return bad ? -EINVAL : 0;
	}
	if (c->dry_run) {
		cc_plan(c, "%-20s would write %zu fstab line%s marked %s to %s", "mounts", n,
			n == 1 ? "" : "s", MARK, FSTAB_PATH);
		return 1;
	}
	log_notice("cloud-config mounts: %zu line%s marked %s in '%s'.", n, n == 1 ? "" : "s",
		   MARK, FSTAB_PATH);

	for (size_t i = 0; mountpoints && mountpoints[i]; i++) {
		_cleanup_close_ int mfd = path_open_dir(c->root, mountpoints[i], true, 0755);
		if (mfd < 0)
			log_warning_errno(mfd, "cloud-config mounts: cannot create the mount point "
					       "'%s' (a symlink is refused): %m, ignoring.",
					  mountpoints[i]);
	}
	/* Under --root the image is not running: its fstab is read at its next boot. */
	for (size_t i = 0; root_is_host(c->root) && mountpoints && mountpoints[i]; i++) {
		char *argv[] = { "mount", mountpoints[i], NULL };
		if (cc_spawn(c, "mount", argv, NULL) < 0)
			log_warning("cloud-config mounts: '%s' is not mounted now, ignoring.",
				    mountpoints[i]);
	}
	return bad ? -EINVAL : 1;
}
