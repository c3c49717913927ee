/* SPDX-License-Identifier: MIT */
/* Unit tests for the user-data step (steps/userdata.c, through the step contract with a
 * hand-built context), cc-detect.c and process.c: format detection, a script runs once per
 * instance with its output logged and its exit status kept, the timeout kills it, other formats
 * are stored and not run, a later run from the stored copy, dry run. Everything happens in a
 * scratch --root. */
#include <sys/stat.h>

#include "base/config.h"
#include "base/process.h"
#include "base/report.h"
#include "cloudconfig/cc-apply.h"
#include "cloudconfig/cc-detect.h"
#include "metadata/fetch.h"
#include "steps/step.h"
#include "steps/userdata.h"
#include "tap.h"
#include "base/util.h"

static char root[] = "/tmp/vagent-test-userdata.XXXXXX";
static char marker[600];

static int lines_in(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	int n = 0;

	if (read_file(NULL, path, 1 << 20, &buf, NULL) < 0)
		return -1;
	for (char *p = buf; *p; p++)
		n += *p == '\n';
	return n;
}

struct result {
	int r;
	enum step_result res;
	bool ran;
	int exit_status;
	char message[512];
};

/* One run of the user-data steps (the cloud-config one, then the user's scripts, as the stage
 * runs them) for instance ID with DATA as this run's fetched user data (KNOWN false: it could
 * not be fetched). The metadata step stores the user data first (not in a dry run). The
 * result is the weightier of the two outcomes: failed, changed, unchanged, skipped. */
static struct result run(struct config *cfg, const char *id, const char *data, bool known,
			 bool dry_run)
{
	struct boot_report report = { .userdata_exit = -1 };
	struct fetched f = { .source = SOURCE_SERVICE, .user_data_known = known,
			     .user_data = (char *)data, .user_data_len = data ? strlen(data) : 0 };
	struct step_context c = { .root = root, .cfg = cfg, .dry_run = dry_run, .fetched = &f,
				  .instance_id = id, .report = &report };
	struct step_outcome o = { .result = STEP_UNCHANGED }, o2 = { .result = STEP_UNCHANGED };
	static const int weight[] = { [STEP_FAILED] = 3, [STEP_CHANGED] = 2, [STEP_UNCHANGED] = 1,
				      [STEP_SKIPPED] = 0 };
	struct result res = {};
	int r2;

	if (!dry_run)
		(void)userdata_store(&c);
	res.r = step_userdata(&c, &o);
	r2 = step_user_scripts(&c, &o2);
	if (weight[o2.result] > weight[o.result]) {
		step_outcome_done(&o);
		o = o2;
		o2 = (struct step_outcome){};
		res.r = r2;
	}
	step_outcome_done(&o2);
	res.res = o.result;
	res.ran = report.userdata_ran;
	res.exit_status = report.userdata_exit;
	snprintf(res.message, sizeof(res.message), "%s", o.message ? o.message : "");
	step_outcome_done(&o);
	if (c.userdata_doc) {
		cc_doc_done(c.userdata_doc);
		free(c.userdata_doc);
	}
	boot_report_done(&report);
	return res;
}

static void keep_first(const char *line, void *userdata)
{
	char *buf = userdata;

	if (!buf[0])
		snprintf(buf, 64, "%s", line);
}

static void append_line(const char *line, void *userdata)
{
	char *buf = userdata;
	size_t n = strlen(buf);

	snprintf(buf + n, 64 - n, "%s%s", n ? " " : "", line);
}

static void count_line(const char *line, void *userdata)
{
	(void)line;
	(*(int *)userdata)++;
}

int main(void)
{
	struct result u;
	struct config cfg;
	char script[1024], path[1024];
	struct stat st;
	int r, lines = 0, status = -1;

	if (!mkdtemp(root) || config_init(&cfg) < 0)
		return 1;
	snprintf(marker, sizeof(marker), "%s/ran", root);

	ok(userdata_detect("#!/bin/sh\n", 10) == USERDATA_SCRIPT, "detect: script");
	ok(userdata_detect("#cloud-config\na: 1\n", 19) == USERDATA_CLOUD_CONFIG,
	   "detect: cloud-config");
	ok(userdata_detect("#cloud-configX", 14) == USERDATA_CLOUD_CONFIG,
	   "detect: a prefix is enough, as in cloud-init");
	ok(userdata_detect("\n  #Cloud-Config\t\n", 19) == USERDATA_CLOUD_CONFIG,
	   "detect: leading blank lines, any case, a tab");
	ok(userdata_detect("#cloud-config-archive\n", 22) == USERDATA_ARCHIVE,
	   "detect: the longest prefix first");
	ok(userdata_detect("#include\nhttp://x\n", 18) == USERDATA_INCLUDE &&
	       userdata_detect("#include-once\n", 14) == USERDATA_INCLUDE_ONCE &&
	       userdata_detect("#cloud-boothook\n", 16) == USERDATA_BOOTHOOK &&
	       userdata_detect("#part-handler\n", 14) == USERDATA_PART_HANDLER &&
	       userdata_detect("#cloud-config-jsonp\n", 20) == USERDATA_JSONP &&
	       userdata_detect("## Template: Jinja\n", 19) == USERDATA_JINJA,
	   "detect: cloud-init's other formats");
	ok(userdata_detect("X-Foo: 1\nMIME-Version: 1.0\n", 27) == USERDATA_MIME,
	   "detect: MIME-Version within the first 4 KiB");
	ok(userdata_detect("Content-Type: multipart/mixed; b=1\n", 35) == USERDATA_MIME,
	   "detect: MIME");
	ok(userdata_detect("\x1f\x8b\x08", 3) == USERDATA_GZIP, "detect: gzip");
	ok(userdata_detect("  {\"a\": 1}", 10) == USERDATA_JSON, "detect: JSON");
	ok(userdata_detect("hello", 5) == USERDATA_OTHER, "detect: other");
	ok(userdata_detect("", 0) == USERDATA_NONE, "detect: empty");

	/* process.c directly: output lines, exit status, signals, timeout. */
	{
		char *argv[] = { "/bin/sh", "-c", "echo a; echo b >&2; printf c; exit 3", NULL };
		struct spawn_options o = { .log_fd = -1, .line_cb = count_line, .userdata = &lines };
		r = spawn_run(argv, &o, &status);
		ok(r == 0 && status == 3 && lines == 3, "spawn: exit 3, 3 lines (r=%d status=%d lines=%d)",
		   r, status, lines);
	}
	{
		char *argv[] = { "/bin/sh", "-c", "kill -9 $$", NULL };
		struct spawn_options o = { .log_fd = -1 };
		r = spawn_run(argv, &o, &status);
		ok(r == 0 && status == 128 + 9, "spawn: killed by signal 9 → 137 (%d)", status);
	}
	{
		char *argv[] = { "/bin/sh", "-c", "sleep 30 & sleep 30", NULL };
		struct spawn_options o = { .log_fd = -1, .timeout_usec = 300000 };
		uint64_t t0 = now_usec();
		r = spawn_run(argv, &o, &status);
		ok(r == -ETIME && now_usec() - t0 < 3000000ULL,
		   "spawn: timeout kills the whole group (r=%d, %llu ms)", r,
		   (unsigned long long)((now_usec() - t0) / 1000));
	}
	{
		char *argv[] = { "/nonexistent/program", NULL };
		struct spawn_options o = { .log_fd = -1 };
		ok(spawn_run(argv, &o, &status) == -ENOENT, "spawn: missing program is -ENOENT");
	}
	{
		/* Side by side: A waits for the file B makes, so run one after the other A would
		 * reach its timeout (-ETIME) instead of seeing it. Each one's lines go to its own
		 * callback, each exit status to its own slot. */
		char flag[600], wait_cmd[700], make_cmd[700];
		int la = 0, lb = 0, ex[2] = { -1, -1 };

		snprintf(flag, sizeof(flag), "%s/spawn-all-flag", root);
		snprintf(wait_cmd, sizeof(wait_cmd),
			 "while [ ! -e %s ]; do sleep 0.01; done; echo saw; echo it; exit 4", flag);
		snprintf(make_cmd, sizeof(make_cmd), "echo making; : >%s", flag);
		char *a[] = { "/bin/sh", "-c", wait_cmd, NULL };
		char *b[] = { "/bin/sh", "-c", make_cmd, NULL };
		char *const *argvs[] = { a, b };
		struct spawn_options oa = { .log_fd = -1, .line_cb = count_line, .userdata = &la,
					    .timeout_usec = 20000000 };
		struct spawn_options ob = { .log_fd = -1, .line_cb = count_line, .userdata = &lb,
					    .timeout_usec = 20000000 };
		const struct spawn_options *opts[] = { &oa, &ob };

		r = spawn_run_all(2, argvs, opts, ex);
		ok(r == 0 && ex[0] == 4 && ex[1] == 0 && la == 2 && lb == 1,
		   "spawn_run_all: both at once (r=%d, exits %d %d, lines %d %d)", r, ex[0], ex[1],
		   la, lb);
	}
	{
		/* The scheduling policy is field 41 of /proc/PID/stat (5 SCHED_IDLE, 0 normal). A
		 * reads it only once B, started after A, wrote the fifo: so what A reads is what
		 * spawn_run_all() set before it started the next program, never a race. */
		char fifo[600], wait_cmd[800], go_cmd[700];
		char idle[64] = "", normal[64] = "";
		int ex[3] = { -1, -1, -1 };

		snprintf(fifo, sizeof(fifo), "%s/sched-fifo", root);
		ok(mkfifo(fifo, 0600) == 0, "a fifo for the scheduling check");
		snprintf(wait_cmd, sizeof(wait_cmd),
			 "read go <%s; awk '{ print $41 }' /proc/self/stat", fifo);
		snprintf(go_cmd, sizeof(go_cmd), "echo go >%s", fifo);
		char *a[] = { "/bin/sh", "-c", wait_cmd, NULL };
		char *b[] = { "/bin/sh", "-c", go_cmd, NULL };
		char *n[] = { "/bin/sh", "-c", "awk '{ print $41 }' /proc/self/stat", NULL };
		char *const *argvs[] = { a, b, n };
		struct spawn_options oa = { .log_fd = -1, .line_cb = keep_first, .userdata = idle,
					    .sched_idle = true, .timeout_usec = 20000000 };
		struct spawn_options ob = { .log_fd = -1, .timeout_usec = 20000000 };
		struct spawn_options on = { .log_fd = -1, .line_cb = keep_first, .userdata = normal };
		const struct spawn_options *opts[] = { &oa, &ob, &on };

		r = spawn_run_all(3, argvs, opts, ex);
		ok(r == 0 && ex[0] == 0 && ex[1] == 0 && streq(idle, "5"),
		   "spawn_run_all with sched_idle: the program runs under SCHED_IDLE (policy '%s')",
		   idle);
		ok(ex[2] == 0 && streq(normal, "0"),
		   "without it: SCHED_OTHER, as its parent (policy '%s')", normal);
	}
	{
		/* idle_until: the program makes the path itself, then waits (at most 5 s) to be
		 * taken off SCHED_IDLE; its two lines are its policy before and after. */
		char until[600], cmd[1200], policies[64] = "";
		int ex = -1;

		snprintf(until, sizeof(until), "%s/sched-until", root);
		snprintf(cmd, sizeof(cmd),
			 "p() { awk '{ print $41 }' /proc/$$/stat; }; p; : >%s; i=0; "
			 "while [ \"$(p)\" != 0 ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done; p",
			 until);
		char *a[] = { "/bin/sh", "-c", cmd, NULL };
		struct spawn_options oa = { .log_fd = -1, .line_cb = append_line,
					    .userdata = policies, .sched_idle = true,
					    .idle_until = until, .timeout_usec = 20000000 };

		r = spawn_run(a, &oa, &ex);
		ok(r == 0 && ex == 0 && streq(policies, "5 0"),
		   "spawn_run with idle_until: SCHED_IDLE, then SCHED_OTHER once the path exists "
		   "(policies '%s')", policies);
	}
	{
		char *a[] = { "/bin/sh", "-c", "exit 0", NULL };
		char *b[] = { "/nonexistent/program", NULL };
		char *c[] = { "/bin/sh", "-c", "exit 0", NULL };
		char *const *argvs[] = { a, b, c };
		int ex[3] = { -1, -1, -1 };

		r = spawn_run_all(3, argvs, NULL, ex);
		ok(r == -ENOENT && ex[0] == 0 && ex[1] == -ENOENT && ex[2] == -1,
		   "spawn_run_all: a missing program is its error, the ones before it ran, the ones "
		   "after it did not start (r=%d, %d %d %d)", r, ex[0], ex[1], ex[2]);
	}
	{
		char *a[] = { "/bin/sh", "-c", "sleep 30", NULL };
		char *b[] = { "/bin/sh", "-c", "exit 2", NULL };
		char *const *argvs[] = { a, b };
		struct spawn_options oa = { .log_fd = -1, .timeout_usec = 200000 };
		const struct spawn_options *opts[] = { &oa, NULL };
		int ex[2] = { -1, -1 };

		r = spawn_run_all(2, argvs, opts, ex);
		ok(r == -ETIME && ex[0] == -ETIME && ex[1] == 2,
		   "spawn_run_all: one's timeout is its -ETIME, the other's status stays (r=%d, %d %d)",
		   r, ex[0], ex[1]);
	}

	/* A script runs once per instance. */
	snprintf(script, sizeof(script), "#!/bin/sh\necho line >>%s\necho out; echo err >&2\nexit 0\n",
		 marker);
	u = run(&cfg, "i-1", script, true, true);
	ok(u.r == 0 && u.res == STEP_CHANGED && lines_in(marker) < 0,
	   "dry run: would run, nothing ran (%s)", u.message);
	snprintf(path, sizeof(path), "%s/var/lib/vagent/instances/i-1", root);
	ok(stat(path, &st) < 0, "dry run: no state written");

	u = run(&cfg, "i-1", script, true, false);
	ok(u.r == 0 && u.res == STEP_CHANGED && u.ran && u.exit_status == 0,
	   "first run: ran, exit 0 (%s)", u.message);
	ok(lines_in(marker) == 1, "script ran exactly once");
	snprintf(path, sizeof(path), "%s/var/lib/vagent/instances/i-1/user-data", root);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "stored user data is 0600");
	snprintf(path, sizeof(path), "%s/var/lib/vagent/instances/i-1/user-data.log", root);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && lines_in(path) == 2,
	   "script log is 0600 and holds stdout and stderr");
	snprintf(path, sizeof(path), "%s/var/lib/vagent/instances/i-1", root);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700, "instance directory is 0700");

	u = run(&cfg, "i-1", script, true, false);
	ok(u.r == 0 && u.res == STEP_UNCHANGED && !u.ran && lines_in(marker) == 1,
	   "second run: not again (%s)", u.message);
	u = run(&cfg, "i-1", "#!/bin/sh\necho changed\n", true, false);
	ok(u.r == 0 && u.res == STEP_UNCHANGED && !u.ran && lines_in(marker) == 1,
	   "changed user data: not run again");

	/* A new instance runs it again; a failing script is a failure with its status. */
	u = run(&cfg, "i-2", script, true, false);
	ok(u.r == 0 && u.res == STEP_CHANGED && lines_in(marker) == 2, "new instance: runs again");
	u = run(&cfg, "i-3", "#!/bin/sh\nexit 7\n", true, false);
	ok(u.r < 0 && u.res == STEP_FAILED && u.ran && u.exit_status == 7,
	   "failing script: failure, exit 7 kept (%s)", u.message);
	cfg.userdata_timeout_usec = 300000;
	u = run(&cfg, "i-4", "#!/bin/sh\nsleep 20\n", true, false);
	ok(u.r < 0 && u.res == STEP_FAILED && u.ran && u.exit_status == -1,
	   "hanging script: killed at the timeout (%s)", u.message);

	/* Cloud-config is stored and applied by cc-apply.c (tests/test-cloudconfig-boot.sh covers
	 * it); other formats are stored, not run. */
	u = run(&cfg, "i-5", "#cloud-config\nruncmd: [[\"true\"]]\n", true, false);
	ok(u.r == 0 && u.res == STEP_CHANGED && !u.ran, "cloud-config: applied (%s)", u.message);
	snprintf(path, sizeof(path), "%s/var/lib/vagent/instances/i-5/user-data", root);
	ok(stat(path, &st) == 0, "cloud-config stored");
	u = run(&cfg, "i-5b", "{\"json\": true}", true, false);
	ok(u.r == 0 && u.res == STEP_SKIPPED && !u.ran, "JSON: stored, not handled (%s)",
	   u.message);

	/* Stored by one run (the metadata step of vagent.service), run by a later one that could
	 * not fetch it (vagent-userdata.service works from the stored copy). */
	{
		struct boot_report report = { .userdata_exit = -1 };
		struct fetched f = { .source = SOURCE_SERVICE, .user_data_known = true,
				     .user_data = script, .user_data_len = strlen(script) };
		struct step_context c = { .root = root, .cfg = &cfg, .fetched = &f,
					  .instance_id = "i-6", .report = &report };
		ok(userdata_store(&c) == 1 && lines_in(marker) == 2, "stored, not run");
		boot_report_done(&report);
	}
	u = run(&cfg, "i-6", NULL, false, false);
	ok(u.r == 0 && u.res == STEP_CHANGED && u.ran && lines_in(marker) == 3,
	   "later run from the stored copy (%s)", u.message);
	u = run(&cfg, "i-6b", NULL, false, false);
	ok(u.r == 0 && u.res == STEP_SKIPPED && !u.ran, "unknown and nothing stored: skipped (%s)",
	   u.message);

	/* Disabled by configuration. */
	cfg.userdata_enabled = false;
	u = run(&cfg, "i-7", script, true, false);
	ok(u.r == 0 && u.res == STEP_SKIPPED && !u.ran && lines_in(marker) == 3,
	   "run = no: stored, not run");

	/* No user data at all. */
	u = run(&cfg, "i-8", NULL, true, false);
	ok(u.r == 0 && u.res == STEP_UNCHANGED && !u.ran, "no user data: nothing to do (%s)",
	   u.message);

	config_done(&cfg);
	rm_rf(NULL, root);
	return tap_done();
}
