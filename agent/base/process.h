/* SPDX-License-Identifier: MIT */
/*
 * process.h: run a program from an argv with posix_spawn (never a shell string), stdin from
 * /dev/null, stdout and stderr captured line by line, with a timeout that kills the whole
 * process group; one program, or several side by side. Used by user data (scripts), storage
 * (mkfs.*), host keys (ssh-keygen, one per type at once).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spawn_options {
	uint64_t timeout_usec; /* 0 = no timeout; else SIGTERM, then SIGKILL 5 s later */
	int log_fd;            /* a copy of all output goes here; -1 for none */
	void (*line_cb)(const char *line, void *userdata); /* each output line; may be NULL */
	void *userdata;
	char *const *envp;     /* NULL: a minimal environment (PATH, LANG=C.UTF-8, HOME=/root) */
	int stdin_fd;          /* > 2: the child's stdin (a file it reads as /dev/stdin); else
				* /dev/null */
	int exec_fd;           /* > 2: run this open file (argv[0] only names it), not a path
				* someone could swap; 0 (unset) runs argv[0] */
	bool sched_idle;       /* SCHED_IDLE (only on a CPU nothing else wants), set as soon as
				* it started: before spawn_run_all() starts the next */
	const char *idle_until; /* with sched_idle: back to SCHED_OTHER once this path exists
				 * (looked at every 100 ms) */
};

/* The fd number the program gets in the child with exec_fd (it runs as /proc/self/fd/3). */
#define SPAWN_EXEC_FD 3

/*
 * Run ARGV (argv[0] is an absolute path, or looked up in PATH). Returns 0 when the program ran,
 * with *ret_exit = its exit status, or 128+signal when it died of a signal; -ETIME when it was
 * killed for the timeout; another negative errno when it could not be started.
 */
int spawn_run(char *const argv[], const struct spawn_options *o, int *ret_exit);

/*
 * Run N programs at once, ARGVS[i] with O[i] (O or O[i] may be NULL: no options), each as
 * spawn_run() runs one; their output is read as it comes. Returns 0 when all ran, RET[i] being
 * each exit status as above; else the first error (-ETIME for a timeout, or why one could not
 * be started: those after it are not started, RET[i] holds the error of each that failed), once
 * every started program has ended.
 */
int spawn_run_all(size_t n, char *const *const argvs[], const struct spawn_options *const o[],
		  int ret[]);
