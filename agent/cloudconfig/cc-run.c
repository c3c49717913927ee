/* SPDX-License-Identifier: MIT */
/*
 * cc-run.c: what every cloud-config module uses to act (cc-modules.h): plan lines for a dry run,
 * and running a command from an argv with the instance's environment, its output to the journal
 * and to the instance's cloud-config log. The modules call only this and base/; the driver
 * (cc-apply.c) calls the modules. Nothing here knows a cloud-config key.
 */
#include <stdarg.h>

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
