/* SPDX-License-Identifier: MIT */
/*
 * test-http.c: TAP test of agent/http.c against a real HTTP server on 127.0.0.1
 * (tests/mock-metadata.py, started here and switched between fault modes through its
 * --mode-file). Checks bodies, statuses, retry/backoff behaviour, Retry-After, timeouts, the
 * size cap, redirects, refused connections, URL schemes and proxy variables, each with a bound
 * on the elapsed time. The server's request log tells how many tries reached it.
 * Environment: MOCK_METADATA (path of the mock), srcdir (source tree), PYTHON3 (interpreter).
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metadata/http.h"
#include "metadata/route.h"
#include "base/log.h"
#include "base/macro.h"
#include "tap.h"
#include "base/util.h"

#define MSEC 1000ULL
#define SEC  1000000ULL

static pid_t mock_pid = -1;
static char tmpdir[] = "/tmp/test-http.XXXXXX";
static char log_path[512], mode_path[512], doc_path[512], ud_path[512];
static int port;

static void stop_mock(void)
{
	char p[600];

	if (mock_pid > 0) {
		kill(mock_pid, SIGTERM);
		waitpid(mock_pid, NULL, 0);
		mock_pid = -1;
	}
	if (tmpdir[strlen(tmpdir) - 1] != 'X') {
		unlink(log_path);
		unlink(mode_path);
		snprintf(p, sizeof(p), "%s.tmp", mode_path);
		unlink(p);
		rmdir(tmpdir);
	}
}

static void on_signal(int sig)
{
	/* Not async-signal-safe in theory (waitpid is; the rest is unlink/rmdir): good enough. */
	stop_mock();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int start_mock(void)
{
	const char *srcdir = getenv("srcdir") ?: ".";
	const char *mock = getenv("MOCK_METADATA");
	const char *python = getenv("PYTHON3") ?: "python3";
	char mock_buf[512], line[32] = "";
	struct pollfd pfd;
	size_t got = 0;
	int pipefd[2];

	if (!mock) {
		snprintf(mock_buf, sizeof(mock_buf), "%s/tests/mock-metadata.py", srcdir);
		mock = mock_buf;
	}
	snprintf(doc_path, sizeof(doc_path), "%s/tests/fixtures/v1-typical.json", srcdir);
	snprintf(ud_path, sizeof(ud_path), "%s/tests/fixtures/user-data-script.sh", srcdir);
	snprintf(log_path, sizeof(log_path), "%s/requests.log", tmpdir);
	snprintf(mode_path, sizeof(mode_path), "%s/mode", tmpdir);

	if (pipe(pipefd) < 0)
		return -errno;
	if (fcntl(pipefd[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	mock_pid = fork();
	if (mock_pid < 0)
		return -errno;
	if (mock_pid == 0) {
		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		dup2(pipefd[1], STDOUT_FILENO);
		execlp(python, python, mock, "--port", "0", "--log", log_path, "--mode-file",
		       mode_path, "--document", doc_path, "--user-data", ud_path, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);

	/* The first line of its stdout is the port. */
	pfd = (struct pollfd){.fd = pipefd[0], .events = POLLIN};
	while (got < sizeof(line) - 1 && !strchr(line, '\n')) {
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0)
			break;
		n = read(pipefd[0], line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		line[got] = '\0';
	}
	close(pipefd[0]);
	port = atoi(line);
	return port > 0 && port < 65536 ? 0 : -EIO;
}

static int set_mode(const char *mode)
{
	char tmp[600];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", mode_path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", mode);
	if (fclose(f) != 0)
		return -errno;
	return rename(tmp, mode_path) < 0 ? -errno : 0;
}

/* Lines in the request log containing NEEDLE (all lines when NULL). */
static unsigned count_requests(const char *needle)
{
	_cleanup_fclose_ FILE *f = fopen(log_path, "re");
	char line[1024];
	unsigned n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!needle || strstr(line, needle))
			n++;
	return n;
}

static int read_all(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	long size;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		return -errno;
	buf = malloc((size_t)size + 1);
	if (!buf)
		return -ENOMEM;
	if (fread(buf, 1, (size_t)size, f) != (size_t)size)
		return -EIO;
	buf[size] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = (size_t)size;
	return 0;
}

static struct http_options test_options(void)
{
	return (struct http_options){
		.connect_timeout_usec = 1 * SEC,
		.request_timeout_usec = 5 * SEC,
		.backoff_initial_usec = 50 * MSEC,
		.backoff_max_usec = 200 * MSEC,
		.max_size = 1024 * 1024,
	};
}

struct result {
	int r;
	long status;
	char *body;
	size_t len;
	double elapsed; /* seconds */
	unsigned requests;
};

static void result_done(struct result *res)
{
	free(res->body);
	*res = (struct result){};
}

/* Switch the server to MODE (NULL: leave it), empty its log, GET PATH with O and a deadline
 * DEADLINE from now (0: none), and note what happened. */
static void fetch(const char *name, const char *mode, const char *url_or_path,
		  struct http_options o, uint64_t deadline, struct result *res)
{
	char url[512];
	uint64_t start;

	*res = (struct result){.status = -1};
	if (mode && set_mode(mode) < 0)
		printf("# failed to set mode '%s'\n", mode);
	if (truncate(log_path, 0) < 0 && errno != ENOENT)
		printf("# failed to truncate the log\n");
	if (url_or_path[0] == '/')
		snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, url_or_path);
	else
		snprintf(url, sizeof(url), "%s", url_or_path);

	start = now_usec();
	o.deadline_usec = deadline ? start + deadline : 0;
	res->r = http_get(url, &o, &res->status, &res->body, &res->len);
	res->elapsed = (double)(now_usec() - start) / SEC;
	/* The server logs on arrival; give a cut-off request a moment to land. */
	usleep(50 * 1000);
	res->requests = count_requests(NULL);
	printf("# %-22s r=%-4d (%s) status=%ld len=%zu requests=%u elapsed=%.3f s\n", name, res->r,
	       res->r < 0 ? strerror(-res->r) : "ok", res->status, res->len, res->requests,
	       res->elapsed);
	fflush(stdout);
}

static bool body_equals(const struct result *res, const char *path)
{
	_cleanup_free_ char *want = NULL;
	size_t want_len = 0;

	if (read_all(path, &want, &want_len) < 0 || !res->body)
		return false;
	return res->len == want_len && memcmp(res->body, want, want_len) == 0 &&
	       res->body[res->len] == '\0';
}

static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		return -1;
	return ntohs(a.sin_port); /* closed on return: nobody listens there */
}


/* GET PATH on the mock with O as it is (absolute deadlines), noting the result in RES. */
static int http_get_url(const char *path, const struct http_options *o, struct result *res)
{
	char url[512];
	uint64_t start = now_usec();

	*res = (struct result){ .status = -1 };
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	res->r = http_get(url, o, &res->status, &res->body, &res->len);
	res->elapsed = (double)(now_usec() - start) / SEC;
	usleep(50 * 1000);
	res->requests = count_requests(NULL);
	printf("# %-22s r=%-4d status=%ld requests=%u elapsed=%.3f s\n", path, res->r, res->status,
	       res->requests, res->elapsed);
	fflush(stdout);
	return res->r;
}

/* As fetch() (URL absolute), with the client's give-up line captured: *RET_TRIES is the N of
 * its "(N tries in". */
static void fetch_counting_tries(const char *name, const char *url, struct http_options o,
				 uint64_t deadline, struct result *res, unsigned *ret_tries)
{
	char path[600], line[1024];
	_cleanup_fclose_ FILE *f = NULL;
	int saved, fd;

	*ret_tries = 0;
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (saved < 0 || fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
		printf("# failed to redirect stderr\n");
		return;
	}
	close(fd);
	fetch(name, NULL, url, o, deadline, res);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);

	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, " tries in ");
		const char *q = p;

		if (!p)
			continue;
		while (q > line && q[-1] >= '0' && q[-1] <= '9')
			q--;
		*ret_tries = (unsigned)strtoul(q, NULL, 10);
	}
	unlink(path);
}

/* A service that is up but busy (429/503): past the deadline up to busy_deadline_usec, and no
 * further; other failures end at the deadline. */
static void test_busy(struct http_options o)
{
	struct result res;
	uint64_t start;

	/* 503 + Retry-After: 1 for good, deadline 1.2 s, busy deadline 8.5 s. Every wait is at
	 * least 1 s, so without the extension 2 requests at most; the first two waits are at most
	 * 3 s and 5 s, so with it a third request always fits. */
	set_mode("503");
	if (truncate(log_path, 0) < 0)
		printf("# truncate failed\n");
	start = now_usec();
	o.deadline_usec = start + 1200 * MSEC;
	o.busy_deadline_usec = start + 8500 * MSEC;
	http_get_url("/v1.json", &o, &res);
	ok(res.r == -ETIMEDOUT && res.elapsed >= 2.0 && res.elapsed < 9.5 && res.requests >= 3,
	   "busy for good: kept trying past the deadline, gave up by the busy deadline (%u "
	   "requests, %.3f s)",
	   res.requests, res.elapsed);
	result_done(&res);

	/* busy, then free (after 2 answers of 503 + Retry-After: 1, at least 2 s): arrives
	 * past the 1 s deadline */
	set_mode("503-then-ok 2 1");
	if (truncate(log_path, 0) < 0)
		printf("# truncate failed\n");
	start = now_usec();
	o.deadline_usec = start + 1 * SEC;
	o.busy_deadline_usec = start + 20 * SEC;
	http_get_url("/v1.json", &o, &res);
	ok(res.r == 0 && res.status == 200 && res.requests == 3 && res.elapsed >= 2.0 &&
		   res.elapsed < 15.0,
	   "busy, then free: the document arrives past the deadline (%u requests, %.3f s)",
	   res.requests, res.elapsed);
	result_done(&res);

	/* the first case without the extension (a boot with a cache) ends at the deadline */
	set_mode("503");
	if (truncate(log_path, 0) < 0)
		printf("# truncate failed\n");
	start = now_usec();
	o.deadline_usec = start + 1500 * MSEC;
	o.busy_deadline_usec = 0;
	http_get_url("/v1.json", &o, &res);
	ok(res.r == -ETIMEDOUT && res.elapsed < 2.0,
	   "busy, no busy deadline: gives up at the deadline (%u requests, %.3f s)", res.requests,
	   res.elapsed);
	result_done(&res);

	/* a 500 is an error, not "busy": no extension */
	set_mode("500");
	if (truncate(log_path, 0) < 0)
		printf("# truncate failed\n");
	start = now_usec();
	o.deadline_usec = start + 1500 * MSEC;
	o.busy_deadline_usec = start + 10 * SEC;
	http_get_url("/v1.json", &o, &res);
	ok(res.r == -ETIMEDOUT && res.elapsed < 2.5,
	   "500 with a busy deadline: gives up at the deadline (%.3f s)", res.elapsed);
	result_done(&res);
}

/* One try at a time and the wait that follows: what a caller that keeps trying in the
 * background uses. */
static void test_schedule(struct http_options o)
{
	struct http_backoff b = {};
	uint64_t wait = 0, lo = UINT64_MAX, hi = 0;
	unsigned buckets[8] = {}, fewest = UINT_MAX;
	char url[256];
	long status = 0;
	char *body = NULL;
	int r, pipefd[2];
	uint64_t child[2] = {};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1.json", port);
	set_mode("503-then-ok 2 2");
	r = http_get_once(url, &o, &b, &wait, &status, &body, NULL);
	ok(r == -EAGAIN && b.busy && b.failures == 1 && b.retry_after_usec == 2 * SEC && !body,
	   "once: 503 -> -EAGAIN, busy, Retry-After 2 s, 1 failure (%d)", r);
	ok(wait >= 2 * SEC && wait <= 6 * SEC, "once: first wait in [2 s, 6 s] (%.3f s)",
	   (double)wait / SEC);
	r = http_get_once(url, &o, &b, &wait, &status, &body, NULL);
	ok(r == -EAGAIN && b.failures == 2 && wait >= 2 * SEC && wait <= 10 * SEC,
	   "once: second 503 -> wait in [2 s, 10 s] (%.3f s)", (double)wait / SEC);
	r = http_get_once(url, &o, &b, &wait, &status, &body, NULL);
	ok(r == 0 && status == 200 && body && b.failures == 0 && !b.busy,
	   "once: then 200, the failures reset");
	free(body);
	body = NULL;

	set_mode("500");
	b = (struct http_backoff){};
	r = http_get_once(url, &o, &b, &wait, &status, &body, NULL);
	ok(r == -EAGAIN && !b.busy && b.retry_after_usec == 0 && wait <= o.backoff_initial_usec,
	   "once: 500 -> -EAGAIN, not busy, full jitter up to backoff-initial (%.3f s)",
	   (double)wait / SEC);
	set_mode("403");
	r = http_get_once(url, &o, &b, &wait, &status, &body, NULL);
	ok(r == -EPROTO && !body, "once: 403 -> -EPROTO, final (%d)", r);

	/* The spread: 4000 first waits after "Retry-After: 2" cover [2 s, 6 s] evenly. */
	b = (struct http_backoff){ .failures = 1, .busy = true, .retry_after_usec = 2 * SEC };
	for (unsigned i = 0; i < 4000; i++) {
		uint64_t w = http_backoff_wait(&o, &b);

		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
		if (w >= 2 * SEC && w <= 6 * SEC)
			buckets[w == 6 * SEC ? 7 : (w - 2 * SEC) / (SEC / 2)]++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(buckets); i++)
		fewest = buckets[i] < fewest ? buckets[i] : fewest;
	ok(lo >= 2 * SEC && hi <= 6 * SEC, "spread: never before Retry-After, at most 3 x it "
	   "(%.3f..%.3f s)", (double)lo / SEC, (double)hi / SEC);
	ok(fewest >= 250, "spread: every 0.5 s of [2 s, 6 s] gets its share (fewest %u of 500)",
	   fewest);

	/* Capped: many failures in a row wait at most RA + max(4 RA, 2 backoff-max). */
	b.failures = 40;
	hi = 0;
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t w = http_backoff_wait(&o, &b);
		hi = w > hi ? w : hi;
	}
	ok(hi <= 10 * SEC && hi > 8 * SEC, "spread: capped at 2 s + 8 s (max %.3f s)",
	   (double)hi / SEC);
	b = (struct http_backoff){ .failures = 40 };
	hi = 0;
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t w = http_backoff_wait(&o, &b);
		hi = w > hi ? w : hi;
	}
	ok(hi <= o.backoff_max_usec, "full jitter: capped at backoff-max (max %.3f s)",
	   (double)hi / SEC);

	/* Two forked processes (as two agents) do not draw the same wait. */
	b = (struct http_backoff){ .failures = 1, .busy = true, .retry_after_usec = 2 * SEC };
	if (pipe(pipefd) == 0) {
		for (int i = 0; i < 2; i++) {
			pid_t pid = fork();

			if (pid == 0) {
				uint64_t w = http_backoff_wait(&o, &b);
				_exit(write(pipefd[1], &w, sizeof(w)) == sizeof(w) ? 0 : 1);
			}
			if (pid > 0)
				waitpid(pid, NULL, 0);
		}
		if (read(pipefd[0], &child[0], sizeof(child[0])) != sizeof(child[0]) ||
		    read(pipefd[0], &child[1], sizeof(child[1])) != sizeof(child[1]))
			child[0] = child[1] = 0;
		close(pipefd[0]);
		close(pipefd[1]);
	}
	ok(child[0] != 0 && child[0] != child[1],
	   "two forked agents draw different waits (%.6f s, %.6f s)", (double)child[0] / SEC,
	   (double)child[1] / SEC);
}

/* route.c's reading of a URL's host, and its route check (127.0.0.1 has a route here). */
static void test_route_target(void)
{
	struct route_target t;

	ok(route_target_from_url("http://169.254.169.254", &t) == 0 && t.sa.ss_family == AF_INET &&
		   streq(t.shown, "169.254.169.254") && route_check(&t) >= 0,
	   "route target: http://169.254.169.254 is an IPv4 address");
	ok(route_target_from_url("https://[fe80::a9fe:a9fe]:8080/v1.json", &t) == 0 &&
		   t.sa.ss_family == AF_INET6 && streq(t.shown, "fe80::a9fe:a9fe"),
	   "route target: a bracketed IPv6 address with a port and a path");
	ok(route_target_from_url("http://metadata.internal/v1.json", &t) == -ENOENT &&
		   route_target_from_url("http://[fe80::1/x", &t) == -EINVAL &&
		   route_target_from_url("http:///v1.json", &t) == -ENOENT &&
		   route_target_from_url("ftp://1.2.3.4/", &t) == -EINVAL,
	   "route target: a name, a broken bracket, no host, another scheme: not watched");
	ok(route_target_from_url("http://127.0.0.1:8080/", &t) == 0 && route_check(&t) == 1,
	   "route check: 127.0.0.1 has a route");
}

int main(void)
{
	struct http_options o = test_options();
	struct result res;
	char url[256], proxy[64];
	uint64_t t0 = now_usec();
	int cport, r;

	if (getenv("V"))
		log_set_max_level(LOG_DEBUG);

	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	atexit(stop_mock);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	r = start_mock();
	if (r < 0 && mock_pid > 0) {
		int status;

		/* exec failed (no python3)? Then this is a skip, not a failure. */
		for (int i = 0; i < 20; i++, usleep(50 * 1000))
			if (waitpid(mock_pid, &status, WNOHANG) == mock_pid) {
				mock_pid = -1;
				if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
					tap_skip_all("python3 not found, cannot run the mock "
						     "metadata server");
				break;
			}
	}
	if (r < 0) {
		printf("Bail out! could not start the mock metadata server: %s\n", strerror(-r));
		return 1;
	}
	printf("# mock metadata server pid %d on port %d\n", (int)mock_pid, port);

	ok(http_global_init() == 0, "http_global_init");

	/* ok: the body byte for byte, no retry */
	fetch("ok", "ok", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == 0 && res.status == 200, "ok: HTTP 200");
	ok(body_equals(&res, doc_path), "ok: body equals the fixture, NUL-terminated");
	ok(res.requests == 1 && res.elapsed < 1.0, "ok: one request, under 1 s");
	result_done(&res);

	fetch("user-data", "ok", "/latest/user-data", o, 3 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && body_equals(&res, ud_path),
	   "user-data: HTTP 200, body equals the fixture");
	result_done(&res);

	fetch("unknown path", "ok", "/no/such/thing", o, 3 * SEC, &res);
	ok(res.r == 0 && res.status == 404 && res.requests == 1,
	   "unknown path: returns 0 with status 404, not retried");
	result_done(&res);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1.json", port);
	{
		long status = 0;
		_cleanup_free_ char *body = NULL;
		size_t len = 0;

		r = http_get(url, NULL, &status, &body, &len);
		ok(r == 0 && status == 200 && len > 0, "NULL options: defaults work");
		r = http_get(url, &o, NULL, NULL, NULL);
		ok(r == 0, "NULL output pointers are allowed");
	}

	/* 404 */
	fetch("404", "404", "/latest/user-data", o, 3 * SEC, &res);
	ok(res.r == 0 && res.status == 404, "404: returns 0 with status 404");
	ok(res.requests == 1 && res.elapsed < 1.0, "404: not retried");
	result_done(&res);

	/* 500: retried with backoff until the deadline */
	fetch("500", "500", "/v1.json", o, 2 * SEC, &res);
	ok(res.r == -ETIMEDOUT, "500: -ETIMEDOUT after the deadline (got %d)", res.r);
	ok(res.requests >= 3, "500: retried (%u requests)", res.requests);
	ok(res.elapsed < 3.0, "500: gave up within deadline + 1 s (%.3f s)", res.elapsed);
	/* The random wait that would pass the deadline is cut short: the last try starts 100 ms
	 * (HTTP_MIN_TRY_USEC) before it, so the whole deadline is used, whatever the jitter. */
	ok(res.elapsed >= 1.88, "500: used the deadline, the last try 100 ms before it (%.3f s)",
	   res.elapsed);
	result_done(&res);

	/* 500 without a deadline: a single try */
	fetch("500 single try", "500", "/v1.json", o, 0, &res);
	ok(res.r == -ETIMEDOUT && res.requests == 1, "deadline 0: exactly one try");
	result_done(&res);

	/* 503 with Retry-After: 1 honoured (the backoff alone would allow dozens of tries): every
	 * wait is at least 1 s, so at most 6 tries fit in 5.5 s */
	fetch("503 retry-after", "503", "/v1.json", o, 5500 * MSEC, &res);
	ok(res.r == -ETIMEDOUT, "503: -ETIMEDOUT after the deadline (got %d)", res.r);
	ok(res.requests >= 2 && res.requests <= 6, "503: Retry-After honoured (%u requests)",
	   res.requests);
	ok(res.elapsed < 6.5, "503: within deadline + 1 s (%.3f s)", res.elapsed);
	result_done(&res);

	/* Retry-After: 3 is a floor with a random spread above it (up to 2 x 3 s more on the first
	 * retry): about 3 s, never less */
	fetch("503 RA 3 then ok", "503-then-ok 1 3", "/v1.json", o, 15 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && res.requests == 2,
	   "503 + Retry-After: 3: the document arrives on the second request (%u)", res.requests);
	ok(res.elapsed >= 3.0, "503 + Retry-After: 3: waited at least 3 s (%.3f s)", res.elapsed);
	ok(res.elapsed < 10.0, "503 + Retry-After: 3: and at most 3 x 3 s + 1 s (%.3f s)",
	   res.elapsed);
	result_done(&res);

	fetch("503-then-ok", "503-then-ok 2", "/v1.json", o, 12 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && body_equals(&res, doc_path),
	   "503-then-ok: the document arrives");
	ok(res.requests == 3, "503-then-ok: three requests (%u)", res.requests);
	ok(res.elapsed >= 2.0 && res.elapsed < 9.0,
	   "503-then-ok: waited Retry-After twice, plus a spread (%.3f s)", res.elapsed);
	result_done(&res);

	fetch("429-then-ok", "429-then-ok 1", "/v1.json", o, 5 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && body_equals(&res, doc_path),
	   "429-then-ok: the document arrives");
	ok(res.requests == 2 && res.elapsed >= 1.0 && res.elapsed < 4.0,
	   "429-then-ok: one retry after Retry-After (%u requests, %.3f s)", res.requests,
	   res.elapsed);
	result_done(&res);

	fetch("503-then-ok date", "503-then-ok 1 date:2", "/v1.json", o, 9 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && res.requests == 2 && res.elapsed >= 0.9 &&
		   res.elapsed < 7.5,
	   "Retry-After as an HTTP date is honoured (%.3f s)", res.elapsed);
	result_done(&res);

	test_busy(o);
	test_schedule(o);

	fetch("503-then-ok no RA", "503-then-ok 1 none", "/v1.json", o, 5 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && res.requests == 2 && res.elapsed < 0.5,
	   "503 without Retry-After: jittered backoff (%.3f s)", res.elapsed);
	result_done(&res);

	/* Retry-After longer than the time left: give up at once */
	fetch("503 short deadline", "503", "/v1.json", o, 800 * MSEC, &res);
	ok(res.r == -ETIMEDOUT && res.requests == 1 && res.elapsed < 0.5,
	   "503 with Retry-After beyond the deadline: gives up at once (%.3f s)", res.elapsed);
	result_done(&res);

	/* Other 4xx: fail fast */
	fetch("403", "403", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == -EPROTO, "403: -EPROTO (got %d)", res.r);
	ok(res.requests == 1 && res.elapsed < 0.5, "403: not retried (%u requests)", res.requests);
	result_done(&res);

	/* The HTTP layer does not judge the body */
	fetch("nonjson", "nonjson", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && res.len > 0, "nonjson: delivered as is");
	result_done(&res);

	/* hang: accepted, never answered */
	fetch("hang", "hang", "/v1.json", o, 2 * SEC, &res);
	ok(res.r == -ETIMEDOUT, "hang: -ETIMEDOUT (got %d)", res.r);
	ok(res.elapsed >= 1.9 && res.elapsed < 3.0, "hang: ends at the deadline (%.3f s)",
	   res.elapsed);
	result_done(&res);

	/* hang with a short per-try timeout: several tries inside the deadline */
	{
		struct http_options q = o;

		q.request_timeout_usec = 500 * MSEC;
		fetch("hang per-try", "hang", "/v1.json", q, 2 * SEC, &res);
		ok(res.r == -ETIMEDOUT && res.requests >= 3 && res.elapsed < 3.0,
		   "hang: per-try timeout, retried (%u requests, %.3f s)", res.requests,
		   res.elapsed);
		result_done(&res);
	}

	/* trickle: 1 byte/s; the low-speed limit cuts a try before its 4 s timeout */
	{
		struct http_options q = o;

		q.request_timeout_usec = 4 * SEC;
		fetch("trickle", "trickle", "/v1.json", q, 3500 * MSEC, &res);
		ok(res.r == -ETIMEDOUT, "trickle: -ETIMEDOUT (got %d)", res.r);
		ok(res.elapsed < 4.5, "trickle: within deadline + 1 s (%.3f s)", res.elapsed);
		ok(res.requests >= 2, "trickle: low-speed limit cut the first try (%u requests)",
		   res.requests);
		result_done(&res);
	}

	/* A slow but ordinary answer (1 s of silence) is not cut by the low-speed limit */
	fetch("slow-ok", "slow-ok", "/v1.json", o, 5 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && res.requests == 1 && body_equals(&res, doc_path),
	   "slow-ok: a 1 s pause is not a trickle");
	result_done(&res);

	/* truncated: Content-Length larger than what arrives */
	fetch("truncated", "truncated", "/v1.json", o, 1500 * MSEC, &res);
	ok(res.r == -EPROTO, "truncated: -EPROTO (got %d)", res.r);
	ok(res.requests >= 2, "truncated: retried (%u requests)", res.requests);
	ok(res.elapsed < 2.5 && !res.body, "truncated: bounded, no body returned (%.3f s)",
	   res.elapsed);
	result_done(&res);

	/* oversized: 2 MiB against a 1 MiB cap */
	fetch("oversized", "oversized", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == -EFBIG, "oversized: -EFBIG (got %d)", res.r);
	ok(res.requests == 1 && res.elapsed < 1.0 && !res.body,
	   "oversized: not retried, no body (%.3f s)", res.elapsed);
	result_done(&res);

	fetch("oversized-nolength", "oversized-nolength", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == -EFBIG && res.requests == 1 && !res.body,
	   "oversized without Content-Length: -EFBIG while receiving (got %d)", res.r);
	result_done(&res);

	/* The cap acts on the announced length and while receiving, not at the end: these two
	 * servers never finish, so only an early refusal beats the deadline. */
	fetch("oversized-then-hang", "oversized-then-hang", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == -EFBIG && res.elapsed < 0.5,
	   "Content-Length over the cap: refused on the headers (%.3f s)", res.elapsed);
	result_done(&res);

	fetch("nolength-then-hang", "oversized-nolength-then-hang", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == -EFBIG && res.elapsed < 0.5,
	   "body over the cap: refused while receiving (%.3f s)", res.elapsed);
	result_done(&res);

	{
		struct http_options q = o;

		q.max_size = 4 * 1024 * 1024;
		fetch("oversized 4M cap", "oversized", "/v1.json", q, 3 * SEC, &res);
		ok(res.r == 0 && res.len == 2 * 1024 * 1024,
		   "oversized: accepted with a 4 MiB cap (the cap is what refused it)");
		result_done(&res);

		q.max_size = 2 * 1024 * 1024;
		fetch("exact cap", "oversized-nolength", "/v1.json", q, 3 * SEC, &res);
		ok(res.r == 0 && res.len == 2 * 1024 * 1024, "a body of exactly max_size fits");
		result_done(&res);
	}

	/* redirect: an error, and the target is never requested */
	fetch("redirect", "redirect", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == -EPROTO, "redirect: -EPROTO (got %d)", res.r);
	ok(res.requests == 1 && count_requests("/redirect-target") == 0,
	   "redirect: not followed (%u requests)", res.requests);
	result_done(&res);

	/* refused: nobody listens */
	cport = closed_port();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1.json", cport);
	fetch("refused", NULL, url, o, 1 * SEC, &res);
	ok(cport > 0 && res.r == -ECONNREFUSED, "refused: -ECONNREFUSED (got %d)", res.r);
	ok(res.elapsed < 2.0, "refused: within deadline + 1 s (%.3f s)", res.elapsed);
	result_done(&res);

	/* refused for 3 s: retried with backoff, not in a tight loop (the give-up line counts the
	 * tries; full jitter up to 50, 100, 200, 200 ms... makes ~30, a loop thousands) */
	{
		unsigned tries = 0;

		fetch_counting_tries("refused 3 s", url, o, 3 * SEC, &res, &tries);
		ok(res.r == -ECONNREFUSED && tries >= 5 && tries <= 100,
		   "refused: retried with backoff (%u tries in %.3f s)", tries, res.elapsed);
		ok(res.elapsed >= 2.5 && res.elapsed < 4.0,
		   "refused: kept trying until close to the deadline (%.3f s)", res.elapsed);
		result_done(&res);
	}

	/* reset: the server reads the request and resets the connection; it counts the tries */
	fetch("reset", "reset", "/v1.json", o, 3 * SEC, &res);
	ok(res.r < 0 && res.r != -EAGAIN && res.requests >= 5 && res.requests <= 100,
	   "reset: retried with backoff (%d, %u requests in %.3f s)", res.r, res.requests,
	   res.elapsed);
	ok(res.elapsed < 4.0, "reset: bounded by the deadline (%.3f s)", res.elapsed);
	result_done(&res);

	/* the mock's own refuse mode through --mode-file: hangs up without an answer */
	fetch("hang-up", "refuse", "/v1.json", o, 1 * SEC, &res);
	ok(res.r < 0 && res.requests >= 2 && res.elapsed < 2.0,
	   "empty reply: retried, error, bounded (%d, %.3f s)", res.r, res.elapsed);
	result_done(&res);

	/* deadline already passed: no request at all */
	{
		long status = -1;
		char *body = NULL;

		set_mode("ok");
		if (truncate(log_path, 0) < 0)
			printf("# truncate failed\n");
		o.deadline_usec = now_usec() - 1;
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1.json", port);
		r = http_get(url, &o, &status, &body, NULL);
		usleep(50 * 1000);
		ok(r == -ETIMEDOUT && !body && count_requests(NULL) == 0,
		   "deadline in the past: -ETIMEDOUT, no request");
		o.deadline_usec = 0;
	}

	/* schemes */
	{
		static const char *const bad[] = {
			"ftp://127.0.0.1/v1.json",
			"file:///etc/passwd",
			"gopher://127.0.0.1/",
			"dict://127.0.0.1/",
			"127.0.0.1/v1.json",
			"",
			"http:/x",
		};
		char *body = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			uint64_t s = now_usec();

			o.deadline_usec = s + 2 * SEC;
			r = http_get(bad[i], &o, NULL, &body, NULL);
			ok(r == -EINVAL && !body && now_usec() - s < 500 * MSEC,
			   "URL '%s': -EINVAL at once (got %d)", bad[i], r);
		}
		r = http_get(NULL, &o, NULL, NULL, NULL);
		ok(r == -EINVAL, "NULL URL: -EINVAL");
		o.deadline_usec = 0;
	}

	snprintf(url, sizeof(url), "HTTP://127.0.0.1:%d/v1.json", port);
	fetch("HTTP:// upper case", "ok", url, o, 3 * SEC, &res);
	ok(res.r == 0 && res.status == 200, "HTTP:// in upper case is fine");
	result_done(&res);

	/* Proxy variables are ignored: a dead proxy does not matter... */
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
	setenv("https_proxy", "http://127.0.0.1:1", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
	setenv("all_proxy", "http://127.0.0.1:1", 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	fetch("dead proxy in env", "ok", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && body_equals(&res, doc_path),
	   "http_proxy=http://127.0.0.1:1 is ignored");
	result_done(&res);

	/* ...and a live one is never asked: point it at the mock and fetch from a closed port.
	 * Through the proxy this would succeed (the mock answers any path). */
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	setenv("http_proxy", proxy, 1);
	setenv("HTTP_PROXY", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	setenv("all_proxy", proxy, 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1.json", cport);
	fetch("live proxy in env", "ok", url, o, 500 * MSEC, &res);
	ok(res.r == -ECONNREFUSED && res.requests == 0,
	   "http_proxy pointing at a live server is not used (%u requests via proxy)",
	   res.requests);
	result_done(&res);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");

	/* wrongtypes is the metadata parser's business: delivered as is */
	fetch("wrongtypes", "wrongtypes", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == 0 && res.status == 200 && res.len > 0, "wrongtypes: delivered as is");
	result_done(&res);

	/* Connection reuse must not leak state between calls: ok after all of the above */
	fetch("ok again", "ok", "/v1.json", o, 3 * SEC, &res);
	ok(res.r == 0 && body_equals(&res, doc_path), "ok again after the fault modes");
	result_done(&res);

	http_global_done();
	stop_mock();
	ok(mock_pid == -1, "mock server stopped");

	printf("# total %.3f s\n", (double)(now_usec() - t0) / SEC);
	test_route_target();
	return tap_done();
}
