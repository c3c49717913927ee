/* SPDX-License-Identifier: MIT */
/*
 * process.c: run a program from an argv with posix_spawn (never through a shell), in its own
 * process group, stdin from /dev/null, stdout+stderr through one pipe that we split into lines
 * (for the journal) and copy to a log file. A timeout kills the whole group: SIGTERM first,
 * SIGKILL five seconds later.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "base/log.h"
#include "base/process.h"
#include "base/util.h"

static char *default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
	"HOME=/root",
	NULL,
};

static void emit_lines(char *buf, size_t *len, bool flush, const struct spawn_options *o)
{
	size_t start = 0;

	for (size_t i = 0; i < *len; i++) {
		if (buf[i] != '\n')
			continue;
		buf[i] = 0;
		if (o->line_cb)
			o->line_cb(buf + start, o->userdata);
		start = i + 1;
	}
	/* A very long line without newline is cut into pieces rather than buffered forever. */
	if (flush || (start == 0 && *len >= 4000)) {
		if (*len > start) {
			buf[*len] = 0;
			if (o->line_cb)
				o->line_cb(buf + start, o->userdata);
		}
		start = *len;
	}
	memmove(buf, buf + start, *len - start);
	*len -= start;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

/* One running program of spawn_run_all(). */
struct child {
	const struct spawn_options *o;
	pid_t pid;
	int fd; /* the read end of its output pipe; -1 once at its end */
	char buf[4097];
	size_t len;
	uint64_t deadline, kill_at;
	bool timed_out;
	bool idle; /* under SCHED_IDLE, waiting for o->idle_until */
};

#define IDLE_CHECK_MS 100

/* C back to SCHED_OTHER once its idle_until path exists. Returns how long poll() may wait for
 * it in ms (-1: no limit). */
static int check_idle(struct child *c)
{
	struct sched_param none = { .sched_priority = 0 };

	if (!c->idle)
		return -1;
	if (access(c->o->idle_until, F_OK) < 0)
		return IDLE_CHECK_MS;
	c->idle = false;
	if (sched_setscheduler(c->pid, SCHED_OTHER, &none) < 0)
		log_warning_errno(errno, "Failed to take PID %d off SCHED_IDLE: %m, ignoring.",
				  (int)c->pid);
	else
		log_debug("'%s' exists: PID %d off SCHED_IDLE.", c->o->idle_until, (int)c->pid);
	return -1;
}

static const struct spawn_options no_options = { .log_fd = -1 };

static int start(char *const argv[], struct child *c)
{
	const struct spawn_options *o = c->o;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pipefd[2] = { -1, -1 };
	int r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return negative_errno();

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (o->stdin_fd > STDERR_FILENO)
		posix_spawn_file_actions_adddup2(&fa, o->stdin_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	/* The program as an open file: fd 3 in the child, run as /proc/self/fd/3, so what runs is
	 * exactly what the caller checked (an interpreter named by "#!" opens that path too). */
	if (o->exec_fd > STDERR_FILENO)
		posix_spawn_file_actions_adddup2(&fa, o->exec_fd, SPAWN_EXEC_FD);
	posix_spawnattr_setpgroup(&attr, 0);
	{
		sigset_t none, all;
		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setsigdefault(&attr, &all);
	}
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);

	if (o->exec_fd > STDERR_FILENO)
		r = posix_spawn(&c->pid, "/proc/self/fd/" STRINGIFY(SPAWN_EXEC_FD), &fa, &attr,
				argv, o->envp ? o->envp : default_env);
	else
		r = posix_spawnp(&c->pid, argv[0], &fa, &attr, argv,
				 o->envp ? o->envp : default_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return -r;
	}
	c->fd = pipefd[0];
	/* Set once it runs: glibc's posix_spawnattr_setschedpolicy() takes no SCHED_IDLE. */
	if (o->sched_idle) {
		struct sched_param none = { .sched_priority = 0 };

		if (sched_setscheduler(c->pid, SCHED_IDLE, &none) < 0)
			log_warning_errno(errno, "Failed to put %s under SCHED_IDLE: %m, ignoring.",
					  argv[0]);
		else
			c->idle = o->idle_until != NULL;
	}
	if (o->timeout_usec)
		c->deadline = now_usec() + o->timeout_usec;
	return 0;
}

/* The end of C's output (end of file, a read error, or SIGKILL sent for the timeout). */
static void stop_reading(struct child *c)
{
	if (c->len > 0)
		emit_lines(c->buf, &c->len, true, c->o);
	close(c->fd);
	c->fd = -1;
}

/* Its timeout: SIGTERM at the deadline, SIGKILL 5 s later. Returns how long poll() may wait
 * for it in ms (-1: no limit); stops reading once SIGKILL is sent (descendants may keep the
 * pipe open). */
static int check_timeout(struct child *c, uint64_t now)
{
	if (c->deadline && !c->timed_out) {
		if (now < c->deadline)
			return (int)((c->deadline - now) / 1000ULL) + 1;
		c->timed_out = true;
		kill(-c->pid, SIGTERM);
		c->kill_at = now + 5000000ULL;
	}
	if (!c->timed_out)
		return -1;
	if (now >= c->kill_at) {
		kill(-c->pid, SIGKILL);
		stop_reading(c);
		return -1;
	}
	return (int)((c->kill_at - now) / 1000ULL) + 1;
}

/* Read what C has written; false at its end. */
static bool read_some(struct child *c)
{
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	if (c->o->log_fd >= 0)
		write_all(c->o->log_fd, c->buf + c->len, (size_t)n);
	c->len += (size_t)n;
	emit_lines(c->buf, &c->len, false, c->o);
	return true;
}

static int reap(struct child *c, int *ret_exit)
{
	int status;

	if (c->timed_out)
		kill(-c->pid, SIGKILL);
	while (waitpid(c->pid, &status, 0) < 0)
		if (errno != EINTR)
			return negative_errno();

	/* A script may leave background children behind in its group; they do not outlive us. */
	if (c->timed_out)
		return -ETIME;

	if (WIFEXITED(status))
		*ret_exit = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*ret_exit = 128 + WTERMSIG(status);
	else
		*ret_exit = 255;
	return 0;
}

int spawn_run_all(size_t n, char *const *const argvs[], const struct spawn_options *const o[],
		  int ret[])
{
	_cleanup_free_ struct child *c = NULL;
	_cleanup_free_ struct pollfd *p = NULL;
	size_t started = 0;
	int r = 0;

	c = calloc(n ? n : 1, sizeof(*c));
	p = calloc(n ? n : 1, sizeof(*p));
	if (!c || !p)
		return -ENOMEM;
	for (; started < n; started++) {
		c[started].o = o && o[started] ? o[started] : &no_options;
		r = start(argvs[started], &c[started]);
		if (r < 0) {
			ret[started] = r;
			break;
		}
	}

	for (;;) {
		uint64_t now = now_usec();
		int timeout_ms = -1, k;
		size_t np = 0;

		for (size_t i = 0; i < started; i++) {
			int t = c[i].fd >= 0 ? check_timeout(&c[i], now) : -1;
			int w = c[i].fd >= 0 ? check_idle(&c[i]) : -1;

			if (c[i].fd < 0)
				continue;
			if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
				timeout_ms = t;
			if (w >= 0 && (timeout_ms < 0 || w < timeout_ms))
				timeout_ms = w;
			p[np++] = (struct pollfd){ .fd = c[i].fd, .events = POLLIN };
		}
		if (np == 0)
			break;
		k = poll(p, np, timeout_ms);
		if (k < 0 && errno != EINTR) {
			for (size_t i = 0; i < started; i++)
				if (c[i].fd >= 0)
					stop_reading(&c[i]);
			break;
		}
		for (size_t i = 0, j = 0; k > 0 && i < started; i++) {
			if (c[i].fd < 0)
				continue;
			if (p[j++].revents && !read_some(&c[i]))
				stop_reading(&c[i]);
		}
	}

	for (size_t i = 0; i < started; i++) {
		int q = reap(&c[i], &ret[i]);

		if (q < 0) {
			ret[i] = q;
			r = r < 0 ? r : q;
		}
	}
	return r;
}

int spawn_run(char *const argv[], const struct spawn_options *o, int *ret_exit)
{
	char *const *argvs[] = { argv };
	const struct spawn_options *opts[] = { o };
	int ret = 0, r;

	r = spawn_run_all(1, argvs, opts, &ret);
	if (r < 0)
		return r;
	*ret_exit = ret;
	return 0;
}
