/* SPDX-License-Identifier: MIT */
/*
 * units.c: the state of systemd units (units.h). systemd is asked over its bus
 * (systemd_units_state(): PID 1's private socket, no process), else with one
 * `systemctl show -p Id,ActiveState,Job` call for all the units asked about (a systemctl costs
 * 0.3-1 s under qemu TCG, and every vagent unit asks when it finishes): a unit is still to run
 * while it has a job ("Job=N", printed only when there is one) or is activating; a unit
 * without a job that is inactive, active or failed will not run again this boot.
 * Without systemd (a chroot, an image under --root) the enablement symlinks are read instead.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/process.h"
#include "base/systemd.h"
#include "base/units.h"
#include "base/util.h"

#define SYSTEMCTL_TIMEOUT_USEC (30ULL * 1000000ULL)

static const char *const unit_dirs[] = {
	"/etc/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
};

struct show {
	const char *const *units;
	size_t n;
	struct unit_state *ret;
	size_t cur; /* index of the block being read; n: none */
	bool any;
};

static void show_line(const char *line, void *userdata)
{
	struct show *s = userdata;

	if (startswith(line, "Id=")) {
		s->cur = s->n;
		for (size_t i = 0; i < s->n; i++)
			if (streq(s->units[i], line + 3))
				s->cur = i;
		s->any = s->any || s->cur < s->n;
		return;
	}
	if (s->cur >= s->n)
		return;
	if (startswith(line, "Job=") && line[4] && !streq(line + 4, "0"))
		s->ret[s->cur].pending = true;
	else if (streq(line, "ActiveState=activating") || streq(line, "ActiveState=reloading"))
		s->ret[s->cur].pending = true;
	else if (streq(line, "ActiveState=failed"))
		s->ret[s->cur].failed = true;
}

static int ask_systemd(const char *const *units, size_t n, struct unit_state *ret)
{
	_cleanup_free_ char **argv = calloc(n + 5, sizeof(char *));
	struct show s = { .units = units, .n = n, .ret = ret, .cur = n };
	struct spawn_options o = {
		.timeout_usec = SYSTEMCTL_TIMEOUT_USEC,
		.log_fd = -1,
		.line_cb = show_line,
		.userdata = &s,
	};
	int r, status = -1;

	if (!argv)
		return -ENOMEM;
	argv[0] = "systemctl";
	argv[1] = "show";
	argv[2] = "--property=Id,ActiveState,Job";
	argv[3] = "--";
	for (size_t i = 0; i < n; i++)
		argv[4 + i] = (char *)units[i];
	r = spawn_run(argv, &o, &status);
	if (r < 0 || status != 0 || !s.any)
		return -EHOSTDOWN;
	return 1;
}

static bool masked(const char *root, const char *unit)
{
	_cleanup_free_ char *p = NULL, *dir = path_join_root(root, "/etc/systemd/system");
	char target[16];
	ssize_t n;

	if (!dir || asprintf(&p, "%s/%s", dir, unit) < 0)
		return false;
	n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return streq(target, "/dev/null");
}

/* A symlink named UNIT in some *.wants/ directory of ROOT's unit directories. */
static bool enabled(const char *root, const char *unit)
{
	for (size_t i = 0; i < ARRAY_SIZE(unit_dirs); i++) {
		_cleanup_free_ char *dir = path_join_root(root, unit_dirs[i]);
		DIR *d = dir ? opendir(dir) : NULL;
		struct dirent *de;
		bool found = false;

		if (!d)
			continue;
		while (!found && (de = readdir(d))) {
			size_t len = strlen(de->d_name);
			struct stat st;
			_cleanup_close_ int wfd = -1;

			if (len < 7 || !streq(de->d_name + len - 6, ".wants"))
				continue;
			wfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				     O_CLOEXEC);
			found = wfd >= 0 && fstatat(wfd, unit, &st, AT_SYMLINK_NOFOLLOW) >= 0;
		}
		closedir(d);
		if (found)
			return true;
	}
	return false;
}

int units_state(const char *root, const char *const *units, size_t n, struct unit_state *ret)
{
	int r;

	for (size_t i = 0; i < n; i++)
		ret[i] = (struct unit_state){};
	if (n == 0)
		return 0;
	if (root_is_host(root) && access("/run/systemd/system", F_OK) >= 0) {
		_cleanup_free_ bool *pending = calloc(n, sizeof(bool));
		_cleanup_free_ bool *failed = calloc(n, sizeof(bool));

		if (!pending || !failed)
			return -ENOMEM;
		r = systemd_units_state(units, n, pending, failed);
		if (r >= 0) {
			for (size_t i = 0; i < n; i++)
				ret[i] = (struct unit_state){ .pending = pending[i], .failed = failed[i] };
			return 1;
		}
		if (r == -ENOMEM)
			return r;
		log_notice_errno(r, "Cannot ask systemd over its bus about its units (%m), asking "
				 "systemctl.");
		r = ask_systemd(units, n, ret);
		if (r != -EHOSTDOWN)
			return r;
		for (size_t i = 0; i < n; i++)
			ret[i] = (struct unit_state){};
	}
	for (size_t i = 0; i < n; i++)
		ret[i].pending = enabled(root, units[i]) && !masked(root, units[i]);
	return 0;
}

int units_reload_ssh(const char *root, bool start)
{
	char *argv[] = { (char *)"systemctl", (char *)"--no-block",
			 (char *)(start ? "reload-or-restart" : "try-reload-or-restart"),
			 (char *)"ssh.service", NULL };
	struct spawn_options o = { .timeout_usec = SYSTEMCTL_TIMEOUT_USEC, .log_fd = -1 };
	int r, status = -1;

	if (!root_is_host(root) || access("/run/systemd/system", F_OK) < 0)
		return 0;
	r = spawn_run(argv, &o, &status);
	if (r < 0)
		return r;
	return status == 0 ? 1 : -EPROTO;
}
