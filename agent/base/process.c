/* SPDX-License-Identifier: MIT */
/*
 * process.c: run a program from an argv with posix_spawn (never through a shell), in its own
 * process group, stdin from /dev/null, stdout+stderr through one pipe that we split into lines
 * (for the journal) and copy to a log file. A timeout kills the whole group: SIGTERM first,
 * SIGKILL five seconds later.
 */
#include <fcntl.h>
#include <poll.h>
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

int spawn_run(char *const argv[], const struct spawn_options *o, int *ret_exit)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pipefd[2] = { -1, -1 };
	char buf[4097];
	size_t len = 0;
	uint64_t deadline = 0, kill_at = 0;
	bool timed_out = false;
	pid_t pid;
	int status, r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return negative_errno();

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (o && o->stdin_fd > STDERR_FILENO)
		posix_spawn_file_actions_adddup2(&fa, o->stdin_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	/* The program as an open file: fd 3 in the child, run as /proc/self/fd/3, so what runs is
	 * exactly what the caller checked (an interpreter named by "#!" opens that path too). */
	if (o && o->exec_fd > STDERR_FILENO)
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

	if (o && o->exec_fd > STDERR_FILENO)
		r = posix_spawn(&pid, "/proc/self/fd/" STRINGIFY(SPAWN_EXEC_FD), &fa, &attr, argv,
				o->envp ? o->envp : default_env);
	else
		r = posix_spawnp(&pid, argv[0], &fa, &attr, argv,
				 o && o->envp ? o->envp : default_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return -r;
	}

	if (o && o->timeout_usec)
		deadline = now_usec() + o->timeout_usec;

	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		int timeout_ms = -1;
		uint64_t now = now_usec();

		if (deadline && !timed_out) {
			if (now >= deadline) {
				timed_out = true;
				kill(-pid, SIGTERM);
				kill_at = now + 5000000ULL;
			} else
				timeout_ms = (int)((deadline - now) / 1000ULL) + 1;
		}
		if (timed_out) {
			if (now >= kill_at) {
				kill(-pid, SIGKILL);
				/* Descendants may keep the pipe open; stop reading. */
				break;
			}
			timeout_ms = (int)((kill_at - now) / 1000ULL) + 1;
		}

		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;

		ssize_t n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* end of file, or a read error */
		if (o && o->log_fd >= 0)
			write_all(o->log_fd, buf + len, (size_t)n);
		len += (size_t)n;
		if (o)
			emit_lines(buf, &len, false, o);
	}
	if (o && len > 0)
		emit_lines(buf, &len, true, o);
	close(pipefd[0]);

	if (timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return negative_errno();

	/* A script may leave background children behind in its group; they do not outlive us. */
	if (timed_out)
		return -ETIME;

	if (WIFEXITED(status))
		*ret_exit = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*ret_exit = 128 + WTERMSIG(status);
	else
		*ret_exit = 255;
	return 0;
}
