/* SPDX-License-Identifier: MIT */
/*
 * runparts.c: a directory's executables, in name order (runparts.h). The directory is opened
 * inside ROOT without following symlinks; each entry is checked with fstatat() and run by its
 * path, one at a time, with a timeout on its whole process group. Names reach the journal
 * escaped; the scripts' own output is theirs (one journal line each, named by WHAT).
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/process.h"
#include "base/runparts.h"
#include "base/util.h"

void runparts_result_done(struct runparts_result *r)
{
	free(r->first_failed);
	*r = (struct runparts_result){};
}

static void part_line(const char *line, void *userdata)
{
	log_full_id(LOG_INFO, MSGID_SCRIPTS, "%s output: %s", (const char *)userdata, line);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int runparts(const char *root, const struct config *cfg, const char *dir, const char *what,
	     const char *id, int log_fd, bool dry_run, FILE *plan, struct runparts_result *ret)
{
	_cleanup_strv_free_ char **names = NULL, **env = NULL;
	_cleanup_free_ char *full = NULL;
	_cleanup_close_ int dfd = -1;
	bool host = root_is_host(root);
	DIR *d;
	struct dirent *de;
	int r = 0;

	*ret = (struct runparts_result){};
	dfd = path_open_dir(root, dir, false, 0);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to open '%s': %m", dir);
	{
		int fd = dup(dfd);

		d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) {
			if (fd >= 0)
				close(fd);
			return log_error_errno(errno, "Failed to list '%s': %m", dir);
		}
	}
	while (r >= 0 && (de = readdir(d)))
		if (de->d_name[0] != '.')
			r = strv_push(&names, strdup(de->d_name));
	closedir(d);
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	if (!names)
		return 0;
	qsort(names, strv_length(names), sizeof(char *), by_name);

	full = path_join_root(root, dir);
	r = full ? strv_push(&env, strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
					   "/sbin:/bin")) : -ENOMEM;
	if (r >= 0)
		r = strv_push(&env, strdup("LANG=C.UTF-8"));
	if (r >= 0)
		r = strv_push(&env, strdup("HOME=/root"));
	if (r >= 0 && id) {
		char *s = NULL;

		r = asprintf(&s, "INSTANCE_ID=%s", id) < 0 ? -ENOMEM : strv_push(&env, s);
	}
	if (r < 0)
		return log_error_errno(r, "Out of memory.");

	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *path = NULL, *label = NULL;
		char shown[256];
		struct stat st;
		int status = -1, k;

		escape_controls(names[i], shown, sizeof(shown));
		/* A symlink is followed on the running system (cloud-init does), never under
		 * --root: it would point outside the image. */
		if (fstatat(dfd, names[i], &st, host ? 0 : AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode)) {
			log_debug("'%s/%s' is not a regular file, not run.", dir, shown);
			continue;
		}
		if (!(st.st_mode & 0111) || faccessat(dfd, names[i], X_OK, host ? 0 :
						      AT_SYMLINK_NOFOLLOW) < 0) {
			log_warning("'%s/%s' is not executable, skipping it.", dir, shown);
			ret->skipped++;
			continue;
		}
		if (dry_run) {
			if (plan)
				fprintf(plan, "%s: would run %s/%s\n", what, dir, shown);
			ret->ran++;
			continue;
		}
		if (asprintf(&path, "%s/%s", full, names[i]) < 0 ||
		    asprintf(&label, "%s %s", what, shown) < 0)
			return log_error_errno(-ENOMEM, "Out of memory.");
		struct spawn_options o = {
			.timeout_usec = cfg->userdata_timeout_usec,
			.log_fd = log_fd,
			.line_cb = part_line,
			.userdata = label,
			.envp = env,
		};
		char *argv[] = { path, NULL };

		log_full_id(LOG_INFO, MSGID_SCRIPTS, "Running '%s/%s'.", dir, shown);
		ret->ran++;
		k = spawn_run(argv, &o, &status);
		if (k < 0 || status != 0) {
			if (k == -ETIME)
				log_warning("'%s/%s' was killed after its timeout.", dir, shown);
			else if (k < 0)
				log_warning_errno(k, "Failed to start '%s/%s': %m", dir, shown);
			else
				log_warning("'%s/%s' exited with status %d.", dir, shown, status);
			ret->failed++;
			if (!ret->first_failed)
				ret->first_failed = strdup(shown);
		}
	}
	if (ret->failed)
		return -EPROTO;
	return ret->ran > 0;
}
