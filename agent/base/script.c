/* SPDX-License-Identifier: MIT */
/*
 * script.c: running a user-supplied script once per instance (script.h): the user-data script,
 * the shell-script parts of a MIME archive, and later the vendor and startup scripts. The
 * script is written 0700 into the instance's state directory, a stamp BASE.ran is written
 * BEFORE it starts (a crash or reboot mid-script never runs it twice), it runs from an argv
 * (the kernel reads its "#!" line) with a timeout, its output goes to the journal and to
 * BASE.log (0600), and its exit status to BASE.exit. Its content is never logged.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/process.h"
#include "base/script.h"
#include "base/state.h"
#include "base/util.h"

static void script_line(const char *line, void *userdata)
{
	/* The script's own output: the user's words, one journal line each, named by BASE. */
	log_full_id(LOG_INFO, MSGID_USERDATA, "%s output: %s", (const char *)userdata, line);
}

static int run(const char *root, const struct config *cfg, const char *id, const char *base,
	       const char *data, size_t len, bool once, struct script_result *ret)
{
	_cleanup_free_ char *dir = NULL, *script = NULL, *n_script = NULL, *n_log = NULL,
			    *n_ran = NULL, *n_exit = NULL, *e_id = NULL, *e_script = NULL;
	_cleanup_close_ int dfd = -1, logfd = -1, exefd = -1;
	struct spawn_options o;
	char buf[16];
	int r, status = -1;

	if (asprintf(&n_script, "%s.script", base) < 0 || asprintf(&n_log, "%s.log", base) < 0 ||
	    asprintf(&n_ran, "%s.ran", base) < 0 || asprintf(&n_exit, "%s.exit", base) < 0)
		return -ENOMEM;

	dfd = state_instance_open(root, id, true);
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to open the state of instance '%s': %m", id);

	r = write_file_atomic_at(dfd, n_script, data, len, 0700, (uid_t)-1, (gid_t)-1);
	if (r < 0)
		return log_error_errno(r, "Failed to write the user-data script '%s': %m", n_script);

	/* Once per instance: the stamp comes first, so a crash mid-script never runs it twice. */
	r = once ? write_file_atomic_at(dfd, n_ran, "", 0, 0600, (uid_t)-1, (gid_t)-1) : 0;
	if (r < 0)
		return log_error_errno(r, "Failed to write the user-data stamp: %m");

	logfd = openat(dfd, n_log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (logfd < 0)
		return log_error_errno(errno, "Failed to open the user-data log: %m");

	dir = path_join_root(root, STATE_INSTANCES);
	if (!dir)
		return -ENOMEM;
	if (asprintf(&script, "%s/%s/%s", dir, id, n_script) < 0)
		return -ENOMEM;
	/* Run the file just written, through its fd: not a path someone could swap. */
	exefd = openat_trusted(dfd, n_script);
	if (exefd < 0)
		return log_error_errno(exefd, "The script '%s' is not the file vagent wrote (owner, "
				       "mode or links changed), not running it: %m", script);

	/* Run through its fd, "$0" is /proc/self/fd/3: the file's own path is in VAGENT_SCRIPT. */
	if (asprintf(&e_id, "INSTANCE_ID=%s", id) < 0 || asprintf(&e_script, "VAGENT_SCRIPT=%s",
								   script) < 0)
		return -ENOMEM;
	char *env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"LANG=C.UTF-8", "HOME=/root", e_id, e_script, NULL };
	o = (struct spawn_options){
		.timeout_usec = cfg->userdata_timeout_usec,
		.log_fd = logfd,
		.line_cb = script_line,
		.userdata = (void *)base,
		.envp = env,
		.exec_fd = exefd,
	};
	log_full_id(LOG_INFO, MSGID_USERDATA, "Running the script '%s' of instance '%s'.", n_script,
		    id);
	char *argv[] = { script, NULL };
	r = spawn_run(argv, &o, &status);
	ret->ran = true;
	if (r == -ETIME) {
		ret->exit_status = -1;
		message_set(&ret->message, 0, "script killed after the %llu s timeout",
			    (unsigned long long)(cfg->userdata_timeout_usec / 1000000ULL));
		(void)write_file_atomic_at(dfd, n_exit, "timeout\n", 8, 0600, (uid_t)-1,
					   (gid_t)-1);
		return log_error_errno(ETIME, "The script '%s' of instance '%s' was killed after "
					      "its timeout.", n_script, id);
	}
	if (r < 0) {
		message_set(&ret->message, 0, "script could not start: %s", strerror(-r));
		return log_error_errno(r, "Failed to start the script '%s': %m", script);
	}

	ret->exit_status = status;
	snprintf(buf, sizeof(buf), "%d\n", status);
	r = write_file_atomic_at(dfd, n_exit, buf, strlen(buf), 0600, (uid_t)-1, (gid_t)-1);
	if (r < 0)
		log_warning_errno(r, "Failed to record the exit status of '%s': %m, ignoring.",
				  n_script);
	message_set(&ret->message, 0, "script ran, exit status %d (output in %s/%s/%s)", status,
		    STATE_INSTANCES, id, n_log);
	if (status != 0)
		return log_warning_errno(EPROTO, "The script '%s' of instance '%s' exited with status "
					 "%d.", n_script, id, status);
	return 1;
}


int script_run_once(const char *root, const struct config *cfg, const char *id, const char *base,
		    const char *data, size_t len, struct script_result *ret)
{
	return run(root, cfg, id, base, data, len, true, ret);
}

int script_run(const char *root, const struct config *cfg, const char *id, const char *base,
	       const char *data, size_t len, struct script_result *ret)
{
	return run(root, cfg, id, base, data, len, false, ret);
}
