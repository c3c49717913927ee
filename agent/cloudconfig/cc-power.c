/* SPDX-License-Identifier: MIT */
/*
 * cc-power.c: the cloud-config keys that end a pass. final_message (every boot, as cloud-init's
 * PER_ALWAYS cc_final_message.py): the message with {{uptime}}, {{timestamp}}, {{version}},
 * {{datasource}} (or $uptime...) replaced, and logged (the runner's /run/vagent/boot-finished
 * is what tools wait for, as they do for cloud-init's).
 * power_state (cc_power_state_change.py) and package_reboot_if_required
 * (cc_package_update_upgrade_install.py): shutdown(8) from an argv ("shutdown -r +5 message"),
 * started by a detached waiter once this vagent process has exited (at most power_state's
 * timeout later), so the pass finishes and its status is written first, as cloud-init waits
 * for its own process. Both act on this machine: under --root they are recorded, never run.
 */
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define FINAL_DEFAULT                                                                              \
	"## template: jinja\n"                                                                     \
	"vagent v. {{version}} finished at {{timestamp}}. Datasource {{datasource}}.  Up "        \
	"{{uptime}} seconds"
#define FINAL_MAX 4096

struct subs {
	const char *name, *value;
};

/* "## template: jinja" on the first line (templater.detect_template). */
static const char *jinja_body(const char *s)
{
	const char *p = s;

	if (!startswith(p, "##"))
		return NULL;
	p += 2;
	p += strspn(p, " \t");
	if (strncasecmp(p, "template:", 9) != 0)
		return NULL;
	p += 9;
	p += strspn(p, " \t");
	if (strncasecmp(p, "jinja", 5) != 0)
		return NULL;
	p += 5;
	p += strspn(p, " \t\r");
	if (*p != '\n' && *p)
		return NULL;
	return *p ? p + 1 : p;
}

static const char *sub_get(const struct subs *s, const char *name, size_t n)
{
	for (; s->name; s++)
		if (strlen(s->name) == n && strncasecmp(s->name, name, n) == 0)
			return s->value;
	return NULL;
}

/* {{ name }} (jinja) or $name / ${name} (cloud-init's basic renderer), names in either case as
 * cloud-init offers them. An unknown jinja name renders as cloud-init's CI_MISSING_JINJA_VAR/;
 * an unknown $name stays as it is (*UNKNOWN counts them). */
static char *render(const char *in, const struct subs *s, size_t *unknown)
{
	const char *body = jinja_body(in);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (const char *p = body ? body : in; *p;) {
		if (body && p[0] == '{' && p[1] == '{') {
			const char *b = p + 2 + strspn(p + 2, " "), *e = b, *v;

			while (isalnum((unsigned char)*e) || *e == '_')
				e++;
			v = e + strspn(e, " ");
			if (e > b && v[0] == '}' && v[1] == '}') {
				const char *val = sub_get(s, b, (size_t)(e - b));

				if (val)
					fputs(val, f);
				else
					fprintf(f, "CI_MISSING_JINJA_VAR/%.*s", (int)(e - b), b);
				p = v + 2;
				continue;
			}
		} else if (!body && p[0] == '$') {
			bool brace = p[1] == '{';
			const char *b = p + 1 + brace, *e = b, *val;

			while (isalnum((unsigned char)*e) || *e == '_' || *e == '.')
				e++;
			if (e > b && (!brace || *e == '}')) {
				val = sub_get(s, b, (size_t)(e - b));
				if (val) {
					fputs(val, f);
					p = e + brace;
					continue;
				}
				(*unknown)++;
			}
		}
		fputc(*p++, f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int cc_final_message(const struct cc_run *c, const struct cloud_config *cc)
{
	_cleanup_free_ char *in = NULL, *msg = NULL, *uptime = NULL;
	char stamp[64];
	size_t unknown = 0;
	struct tm tm;
	time_t now = time(NULL);

	in = strdup(cc->final_message ? cc->final_message : "");
	if (!in)
		return log_error_errno(-ENOMEM, "Out of memory.");
	/* msg_in.strip(); empty: cloud-init's default message */
	{
		char *b = in + strspn(in, " \t\r\n");
		size_t n = strlen(b);

		while (n > 0 && strchr(" \t\r\n", b[n - 1]))
			n--;
		memmove(in, b, n);
		in[n] = 0;
	}
	if (!*in) {
		free(in);
		in = strdup(FINAL_DEFAULT);
		if (!in)
			return log_error_errno(-ENOMEM, "Out of memory.");
	}
	if (read_file(NULL, "/proc/uptime", 256, &uptime, NULL) >= 0)
		uptime[strcspn(uptime, " \n")] = 0;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%a, %d %b %Y %H:%M:%S %z", &tm); /* time_rfc2822() */
	{
		const struct subs s[] = {
			{ "uptime", uptime ? uptime : "0" },
			{ "timestamp", stamp },
			{ "version", PACKAGE_VERSION },
			{ "datasource", c->host && c->host->datasource ? c->host->datasource :
									 "vultr" },
			{},
		};
		msg = render(in, s, &unknown);
	}
	if (!msg)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (strlen(msg) > FINAL_MAX)
		msg[FINAL_MAX] = 0;
	if (c->dry_run) {
		cc_plan(c, "%-20s would log the final message (%zu bytes), every boot", "final_message",
			strlen(msg));
		return 1;
	}
	if (unknown)
		log_warning("cloud-config final_message: %zu unknown $variable%s (known: uptime, "
			    "timestamp, version, datasource) left as written, ignoring.", unknown,
			    unknown == 1 ? "" : "s");
	/* The user's words, meant to be seen: one journal line (control characters escaped). */
	log_full_id(LOG_NOTICE, MSGID_USERDATA, "%s", msg);
	return 1;
}

/* --- power_state ------------------------------------------------------------------------------- */

/* A package asked for a reboot (REBOOT_FILES of cloud-init; /var/run is the image's /run). */
static bool reboot_required(const struct cc_run *c)
{
	static const char *const files[] = { "/var/run/reboot-required", "/run/reboot-required",
					     "/run/reboot-needed" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_close_ int fd = open_in_root(c->root, files[i], O_RDONLY | O_NONBLOCK);
		if (fd >= 0)
			return true;
	}
	return false;
}

/* cc_power_state_change.check_condition(): 1 go, 0 not. */
static int condition_met(const struct cc_run *c, const struct cc_power *p)
{
	char *sh[] = { "sh", "-c", p->command.shell, NULL };
	int r;

	if (p->condition != CC_POWER_COND_COMMAND)
		return p->condition == CC_POWER_COND_TRUE;
	r = cc_spawn(c, "power_state condition", p->command.shell ? sh : p->command.argv, NULL);
	/* cc_spawn() logs the exit status: 1 is "not met", anything else unexpected */
	return r == 0;
}

/*
 * The waiter: a child in a session of its own that polls until its parent (this vagent) is
 * gone or TIMEOUT passed, then becomes shutdown(8) (looked up in vagent's PATH, run with the
 * fixed environment of every command). Nothing of the parent's is kept open.
 */
static int spawn_waiter(char *const argv[], uint64_t timeout_usec)
{
	static char *const env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
		NULL
	};
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid < 0)
		return negative_errno();
	if (pid == 0) {
		uint64_t deadline = now_usec() + timeout_usec;
		struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
		sigset_t none;
		int fd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		(void)setsid();
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		close_range(3, ~0U, 0);
		while (getppid() == parent && now_usec() < deadline)
			nanosleep(&ts, NULL);
		execvpe(argv[0], argv, env);
		_exit(127);
	}
	return 0;
}

int cc_power_state(const struct cc_run *c, const struct cloud_config *cc, bool packages_ran)
{
	static const char *const flags[] = {
		[CC_POWER_POWEROFF] = "-P",
		[CC_POWER_REBOOT] = "-r",
		[CC_POWER_HALT] = "-H",
	};
	const struct cc_power *p = &cc->power_state;
	bool power = cc->has[CC_POWER_STATE];
	bool pkgs = (cc->has[CC_PACKAGE_UPGRADE] && cc->package_upgrade) ||
		    (cc->has[CC_APT_UPGRADE] && cc->apt_upgrade) ||
		    (cc->has[CC_PACKAGES] && cc->packages && cc->packages[0]);
	bool reboot = ((cc->has[CC_PACKAGE_REBOOT_IF_REQUIRED] && cc->package_reboot_if_required) ||
		       (cc->has[CC_APT_REBOOT_IF_REQUIRED] && cc->apt_reboot_if_required)) &&
		      pkgs;
	char *argv[5] = {};
	uint64_t timeout = p->timeout_usec;
	const char *why;
	int r;

	if (!power && !reboot)
		return 0;
	if (c->dry_run) {
		if (power)
			cc_plan(c, "%-20s would run shutdown %s %s%s once vagent has finished (at most "
				"%.1f s later)%s", "power_state", flags[p->mode], p->delay,
				p->message ? " with a message" : "", (double)timeout / 1e6,
				p->condition == CC_POWER_COND_COMMAND ? ", if its condition exits 0" :
				p->condition == CC_POWER_COND_FALSE ? ": condition false, nothing" :
								      "");
		if (reboot)
			cc_plan(c, "%-20s would reboot after the pass if a package asks for it "
				"(/run/reboot-required)%s", "package_reboot_if_required",
				power ? " and power_state does not act" : "");
		return root_is_host(c->root) ? 1 : 2;
	}
	if (!root_is_host(c->root)) {
		log_notice("cloud-config power_state/package_reboot_if_required: not run under "
			   "--root (it would act on this machine, not on the image).");
		if (c->log_fd >= 0)
			dprintf(c->log_fd, "power_state: not run under --root\n");
		return 2;
	}

	if (power && condition_met(c, p)) {
		argv[0] = "shutdown";
		argv[1] = (char *)flags[p->mode];
		argv[2] = p->delay;
		argv[3] = p->message;
		why = "power_state";
	} else if (reboot && packages_ran && reboot_required(c)) {
		static char msg[] = "vagent: a package asked for a reboot (/run/reboot-required)";

		argv[0] = "shutdown";
		argv[1] = "-r";
		argv[2] = "now";
		argv[3] = msg;
		timeout = 30 * 1000000ULL;
		why = "package_reboot_if_required";
	} else {
		log_info("cloud-config %s: %s, nothing to do.", power ? "power_state" :
			 "package_reboot_if_required", power ? "the condition is not met" :
			 packages_ran ? "no package asked for a reboot" : "the packages did not run");
		return 0;
	}
	r = spawn_waiter(argv, timeout);
	if (r < 0)
		return log_error_errno(r, "cloud-config %s: cannot start the waiter: %m", why);
	log_notice("cloud-config %s: 'shutdown %s %s' runs once vagent has finished (within %.1f "
		   "s).", why, argv[1], argv[2], (double)timeout / 1e6);
	return 1;
}
