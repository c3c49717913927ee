/* SPDX-License-Identifier: MIT */
/*
 * cc-run.c: what every cloud-config module uses to act (cc-modules.h): plan lines for a dry run,
 * and running a command from an argv with the instance's environment, its output to the journal
 * and to the instance's cloud-config log; for the system keys, files written only when they
 * differ, and commands that act on the running system recorded instead of run under --root.
 * The modules call only this and base/; the driver (cc-apply.c) calls the modules. Nothing
 * here knows a cloud-config key.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/process.h"
#include "base/util.h"
#include "cloudconfig/cc-modules.h"

void cc_plan(const struct cc_run *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->plan)
		return;
	fputs("  ", c->plan);
	va_start(ap, fmt);
	vfprintf(c->plan, fmt, ap);
	va_end(ap);
	fputc('\n', c->plan);
}

void cc_key_set(const struct cc_run *c, enum cc_key k, enum key_status s, const char *fmt, ...)
{
	struct cc_key_state *st;
	char *reason = NULL;
	va_list ap;

	if (!c->keys || k >= _CC_KEY_MAX)
		return;
	st = &c->keys[k];
	/* applied < partial < ignored < error: the worse wins (ignored only when nothing ran) */
	if (st->set && st->status > s)
		return;
	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) < 0)
		reason = NULL;
	va_end(ap);
	free(st->reason);
	*st = (struct cc_key_state){ .set = true, .status = s, .reason = reason };
}

static void command_line(const char *line, void *userdata)
{
	/* The command's own output: the user's words, one journal line each (as for scripts). */
	log_full_id(LOG_INFO, MSGID_USERDATA, "%s: %s", (const char *)userdata, line);
}

static int spawn(const struct cc_run *c, const char *what, char *const argv[],
		 char *const *extra_env, int stdin_fd)
{
	_cleanup_strv_free_ char **env = NULL;
	struct spawn_options o;
	int r, status = -1;

	r = strv_push(&env, strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
	if (r >= 0)
		r = strv_push(&env, strdup("LANG=C.UTF-8"));
	if (r >= 0)
		r = strv_push(&env, strdup("HOME=/root"));
	if (r >= 0 && c->id) {
		char *s;
		r = asprintf(&s, "INSTANCE_ID=%s", c->id) < 0 ? -ENOMEM : strv_push(&env, s);
	}
	for (size_t i = 0; r >= 0 && extra_env && extra_env[i]; i++)
		r = strv_push(&env, strdup(extra_env[i]));
	if (r < 0)
		return log_error_errno(r, "Out of memory.");

	o = (struct spawn_options){
		.timeout_usec = c->cfg->userdata_timeout_usec,
		.log_fd = c->log_fd,
		.line_cb = command_line,
		.userdata = (void *)what,
		.envp = env,
		.stdin_fd = stdin_fd,
	};
	r = spawn_run(argv, &o, &status);
	if (r == -ETIME)
		return log_error_errno(r, "cloud-config %s was killed after its timeout.", what);
	if (r < 0)
		return log_error_errno(r, "Failed to start cloud-config %s: %m", what);
	if (status != 0) {
		log_warning("cloud-config %s exited with status %d.", what, status);
		return -EPROTO;
	}
	log_info("cloud-config %s succeeded.", what);
	return 0;
}


int cc_spawn(const struct cc_run *c, const char *what, char *const argv[], char *const *extra_env)
{
	return spawn(c, what, argv, extra_env, -1);
}

int cc_spawn_stdin(const struct cc_run *c, const char *what, char *const argv[], int stdin_fd)
{
	return spawn(c, what, argv, NULL, stdin_fd);
}

/* ARGV as one line for messages (vagent's own fixed commands: no user data in them). */
static char *argv_line(char *const argv[])
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int cc_write(const struct cc_run *c, const char *key, const char *path, const void *data,
	     size_t len, mode_t mode)
{
	_cleanup_free_ char *old = NULL, *name = NULL;
	_cleanup_close_ int dfd = -1;
	size_t old_len = 0;
	struct stat st;
	int r;

	dfd = path_open_parent(c->root, path, false, &name);
	if (dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == mode && (size_t)st.st_size == len &&
	    read_file_at(dfd, name, len + 1, &old, &old_len) >= 0 && old_len == len &&
	    (len == 0 || memcmp(old, data, len) == 0))
		return 0;
	if (c->dry_run) {
		cc_plan(c, "%-20s would write %s (%zu bytes, %04o)", key, path, len, (unsigned)mode);
		return 1;
	}
	r = write_file_atomic(c->root, path, data, len, mode);
	if (r == -ELOOP || r == -ENOTDIR)
		return log_error_errno(r, "cloud-config %s: '%s': a parent directory is a symlink or "
				       "not a directory, refusing.", key, path);
	if (r < 0)
		return log_error_errno(r, "cloud-config %s: failed to write '%s': %m", key, path);
	log_info("cloud-config %s: wrote '%s' (%zu bytes, %04o).", key, path, len, (unsigned)mode);
	return 1;
}

int cc_remove(const struct cc_run *c, const char *key, const char *path)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int dfd = -1;
	struct stat st;

	dfd = path_open_parent(c->root, path, false, &name);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return log_error_errno(dfd, "cloud-config %s: cannot open the directory of '%s': %m",
				       key, path);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : log_error_errno(errno, "cloud-config %s: '%s': %m",
							      key, path);
	if (S_ISDIR(st.st_mode))
		return log_error_errno(-EISDIR, "cloud-config %s: '%s' is a directory, refusing.",
				       key, path);
	if (c->dry_run) {
		cc_plan(c, "%-20s would remove %s", key, path);
		return 1;
	}
	if (unlinkat(dfd, name, 0) < 0)
		return log_error_errno(errno, "cloud-config %s: failed to remove '%s': %m", key,
				       path);
	log_info("cloud-config %s: removed '%s'.", key, path);
	return 1;
}

int cc_system_command(const struct cc_run *c, const char *key, char *const argv[],
		      char *const *extra_env)
{
	_cleanup_free_ char *line = argv_line(argv);
	bool host = root_is_host(c->root);

	if (!line)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (c->dry_run) {
		cc_plan(c, "%-20s would run %s%s", key, line, host ? "" : " (not under --root)");
		return host ? 1 : 2;
	}
	if (!host) {
		log_notice("cloud-config %s: '%s' not run under --root (it would act on this "
			   "machine, not on the image).", key, line);
		if (c->log_fd >= 0)
			dprintf(c->log_fd, "%s: not run under --root: %s\n", key, line);
		return 2;
	}
	return cc_spawn(c, argv[0], argv, extra_env) < 0 ? -EPROTO : 1;
}

bool cc_systemd_running(const struct cc_run *c)
{
	_cleanup_close_ int fd = path_open_dir(c->root, "/run/systemd/system", false, 0);

	return fd >= 0;
}

const char *cc_root_has(const struct cc_run *c, const char *const *paths)
{
	for (size_t i = 0; paths[i]; i++) {
		_cleanup_free_ char *name = NULL;
		_cleanup_close_ int dfd = path_open_parent(c->root, paths[i], false, &name);
		struct stat st;

		if (dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			return paths[i];
	}
	return NULL;
}

int cc_service(const struct cc_run *c, const char *key, const char *action, const char *unit)
{
	char *argv[] = { "systemctl", (char *)action, (char *)unit, NULL };

	if (root_is_host(c->root) && !cc_systemd_running(c)) {
		log_notice("cloud-config %s: systemd is not running, '%s' not %s.", key, unit,
			   "restarted");
		cc_plan(c, "%-20s %s not restarted: systemd is not running", key, unit);
		return 0;
	}
	return cc_system_command(c, key, argv, NULL);
}

int cc_shellify(const struct cc_command *cmds, size_t n, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fputs("#!/bin/sh\n", f);
	for (size_t i = 0; i < n; i++) {
		if (cmds[i].shell) {
			fprintf(f, "%s\n", cmds[i].shell);
			continue;
		}
		for (size_t j = 0; cmds[i].argv && cmds[i].argv[j]; j++) {
			fputs(j ? " '" : "'", f);
			for (const char *p = cmds[i].argv[j]; *p; p++)
				if (*p == '\'')
					fputs("'\\''", f);
				else
					fputc(*p, f);
			fputc('\'', f);
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}
