/* SPDX-License-Identifier: MIT */
/*
 * commands.c: the verbs. Each one calls the steps, then prints what happened on stdout: a
 * human table, or one JSON document with --json. Output never contains user data, vendor data,
 * a startup script or a whole key; `metadata` redacts those unless asked for by name.
 */
#include <fcntl.h>
#include <sys/file.h>

#include "cli/commands.h"
#include "metadata/fetch.h"
#include "metadata/json.h"
#include "base/log.h"
#include "base/platform.h"
#include "base/state.h"
#include "runner/steps.h"
#include "storage/storage.h"
#include "base/util.h"

static void print_report_human(const struct boot_report *b, FILE *f)
{
	fprintf(f, "instance:        %s\n", b->instance_id ? b->instance_id : "unknown");
	fprintf(f, "first boot:      %s\n", b->first_boot ? "yes" : "no");
	fprintf(f, "metadata source: %s\n", b->metadata_source ? b->metadata_source : "none");
	if (b->started)
		fprintf(f, "started:         %s\n", b->started);
	if (b->finished)
		fprintf(f, "finished:        %s\n", b->finished);
	if (b->userdata_ran)
		fprintf(f, "user data exit:  %d\n", b->userdata_exit);
	if (b->n_steps > 0)
		fprintf(f, "\n%-10s %-10s %8s  %s\n", "STEP", "RESULT", "TIME", "MESSAGE");
	for (size_t i = 0; i < b->n_steps; i++)
		fprintf(f, "%-10s %-10s %6llums  %s\n", b->steps[i].name,
			step_result_to_string(b->steps[i].result),
			(unsigned long long)b->steps[i].duration_ms,
			b->steps[i].message ? b->steps[i].message : "");
	if (b->n_volumes > 0)
		fprintf(f, "\n%-16s %-12s %-16s %-24s %s\n", "DEVICE", "VERDICT", "ACTION",
			"MOUNTPOINT", "REASON");
	for (size_t i = 0; i < b->n_volumes; i++) {
		const struct volume_report *v = &b->volumes[i];
		fprintf(f, "%-16s %-12s %-16s %-24s %s%s%s\n", v->device, v->verdict, v->action,
			v->mountpoint ? v->mountpoint : "-", v->reason ? v->reason : "",
			v->result ? "; " : "", v->result ? v->result : "");
	}
}

static int print_report(const struct invocation *inv, const struct boot_report *b)
{
	if (inv->json) {
		_cleanup_free_ char *j = NULL;
		int r = boot_report_to_json(b, &j);
		if (r < 0)
			return log_error_errno(r, "Failed to format the report: %m");
		fputs(j, stdout);
		return 0;
	}
	print_report_human(b, stdout);
	return 0;
}

/* 1: go on; 0: this machine is opted out or not our platform (said once, exit 0). */
static int may_act(const struct invocation *inv, const struct config *cfg)
{
	_cleanup_free_ char *why = NULL;
	int r;

	r = platform_check(inv->root, cfg, &why);
	if (r < 0)
		return log_error_errno(r, "Failed to check the platform: %m");
	if (r == 0) {
		log_notice("Doing nothing: %s.", why);
		notify_status("Doing nothing: %s.", why);
		if (!inv->json)
			printf("vagent: doing nothing: %s\n", why);
	}
	return r;
}

/*
 * One vagent at a time acts on a root: without this, two boots at once both found the user-data
 * stamp missing and both ran the script (tests/test-repeat.sh). The lock is taken before any
 * step looks at its state and held until the process exits; a second run waits, then finds the
 * work done. A dry run writes nothing, not even the lock file, and does not wait.
 */
#define RUN_LOCK_PATH RUN_DIR "/run.lock"

static int run_lock(const struct invocation *inv)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int dfd = -1;
	int fd;

	if (inv->dry_run)
		return -1;
	dfd = path_open_parent(inv->root, RUN_LOCK_PATH, true, &name);
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to create the directory of '%s': %m",
				       RUN_LOCK_PATH);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return log_error_errno(errno, "Failed to open '%s': %m", RUN_LOCK_PATH);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	log_notice("Another vagent is running on this system, waiting for it to finish.");
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int r = log_error_errno(errno, "Failed to lock '%s': %m", RUN_LOCK_PATH);
			close(fd);
			return r;
		}
	return fd;
}

/*
 * The storage and user-data units run their steps in processes of their own: fold the result
 * into the boot's report so that `vagent status` shows the whole boot. Failing to record is
 * logged, never fatal.
 */
static void record_step(const struct invocation *inv, const char *name, int r, uint64_t t0,
			const char *message, struct volume_report *v, size_t n,
			const struct boot_report *extra)
{
	struct boot_report b = { .userdata_exit = -1 };
	enum step_result res = r < 0 ? STEP_FAILED : r == 0 ? STEP_UNCHANGED :
			       r == STEP_RET_SKIPPED ? STEP_SKIPPED : STEP_CHANGED;
	char now[32];
	int k;

	if (inv->dry_run)
		return;
	k = state_read_report(inv->root, &b, NULL);
	if (k < 0 && k != -ENOENT)
		log_warning_errno(k, "Failed to read the boot report: %m, starting a new one.");
	if (k < 0) {
		format_iso8601(now_realtime_usec(), now);
		b = (struct boot_report){ .userdata_exit = -1, .started = strdup(now),
					  .metadata_source = strdup("none") };
	}
	k = boot_report_add_step(&b, name, res, (now_usec() - t0) / 1000ULL, message);
	for (size_t i = 0; k >= 0 && i < n; i++)
		k = boot_report_add_volume(&b, &v[i]);
	if (k >= 0 && extra && extra->userdata_ran) {
		b.userdata_ran = true;
		b.userdata_exit = extra->userdata_exit;
	}
	if (k >= 0)
		k = state_write_report(inv->root, &b);
	if (k < 0)
		log_warning_errno(k, "Failed to record the %s step in '%s': %m, ignoring.", name,
				  RUN_STATUS);
	boot_report_done(&b);
}

static struct boot_options boot_options_of(const struct invocation *inv)
{
	return (struct boot_options){
		.root = inv->root,
		.dry_run = inv->dry_run,
		.userdata = !inv->no_userdata,
		.storage = !inv->no_storage,
	};
}

int verb_boot(const struct invocation *inv, const struct config *cfg)
{
	struct boot_options o = boot_options_of(inv);
	_cleanup_close_ int lock = -1;
	struct boot_report b;
	int r, k;

	r = may_act(inv, cfg);
	if (r <= 0)
		return r;
	lock = run_lock(inv);
	if (lock < -1)
		return lock;
	r = boot_run(cfg, &o, &b);
	notify_ready();
	k = print_report(inv, &b);
	boot_report_done(&b);
	return r < 0 ? r : k;
}

static int one_step(const struct invocation *inv, const struct config *cfg, const char *name)
{
	struct boot_options o = boot_options_of(inv);
	_cleanup_close_ int lock = run_lock(inv);
	struct boot_report b;
	uint64_t t0 = now_usec();
	int r, k;

	if (lock < -1)
		return lock;

	/* userdata --dry-run: the cloud-config plan (what would be done, what is ignored) first. */
	if (streq(name, "userdata") && inv->dry_run && !inv->json)
		o.plan = stdout;
	r = step_run_one(cfg, &o, name, &b);
	if (o.plan)
		fputc('\n', stdout);
	if (streq(name, "userdata") && b.n_steps > 0) {
		const struct step_report *s = &b.steps[b.n_steps - 1];
		record_step(inv, name,
			    s->result == STEP_FAILED	? -EPROTO :
			    s->result == STEP_SKIPPED	? STEP_RET_SKIPPED :
			    s->result == STEP_UNCHANGED ? 0 :
							  1,
			    t0, s->message, NULL, 0, &b);
	}
	k = print_report(inv, &b);
	boot_report_done(&b);
	return r < 0 ? r : k;
}

int verb_hostname(const struct invocation *inv, const struct config *cfg)
{
	return one_step(inv, cfg, "hostname");
}

int verb_sshkeys(const struct invocation *inv, const struct config *cfg)
{
	return one_step(inv, cfg, "ssh-keys");
}

int verb_userdata(const struct invocation *inv, const struct config *cfg)
{
	int r = may_act(inv, cfg);
	if (r <= 0)
		return r;
	return one_step(inv, cfg, "userdata");
}

int verb_metadata(const struct invocation *inv, const struct config *cfg)
{
	_cleanup_free_ char *text = NULL;
	struct fetched f;
	int r;

	/* Reading never writes: the cache is refreshed by boot, not by looking. */
	r = metadata_acquire(inv->root, cfg, true, true, &f);
	if (r < 0) {
		log_error("No metadata: %s.", f.error ? f.error : "unknown error");
		fetched_done(&f);
		return r;
	}
	if (f.source == SOURCE_CACHE)
		log_notice("Service unavailable (%s); showing the cached document.", f.error);

	r = metadata_render(f.doc, f.doc_len, inv->n_args > 0 ? inv->args[0] : NULL, &text);
	fetched_done(&f);
	if (r == -ENOENT)
		return log_error_errno(r, "No key '%s' in the metadata document.", inv->args[0]);
	if (r < 0)
		return log_error_errno(r, "Failed to render the document: %m");
	fputs(text, stdout);
	return 0;
}

static void print_volumes_human(const struct volume_report *v, size_t n, bool dry_run)
{
	if (n == 0) {
		printf("No volumes found.\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s: %s", v[i].device, v[i].verdict);
		if (v[i].volume_id)
			printf(" (volume %s)", v[i].volume_id);
		printf("\n  reason: %s\n", v[i].reason ? v[i].reason : "-");
		printf("  %s: %s", dry_run ? "would do" : "action", v[i].action);
		if (v[i].mountpoint)
			printf(" at %s", v[i].mountpoint);
		printf("\n");
		if (v[i].uuid)
			printf("  filesystem uuid: %s\n", v[i].uuid);
		if (v[i].result)
			printf("  result: %s\n", v[i].result);
	}
}

static int storage_verb(const struct invocation *inv, const struct config *cfg, bool mount)
{
	struct volume_report *v = NULL;
	uint64_t t0 = now_usec();
	size_t n = 0, acted = 0;
	int r, k = 0;

	if (mount)
		r = storage_mount(inv->root, cfg, inv->n_args > 0 ? inv->args : NULL, inv->dry_run,
				  &v, &n);
	else
		r = storage_umount(inv->root, cfg, inv->n_args > 0 ? inv->args : NULL, &v, &n);

	if (inv->json) {
		_cleanup_free_ char *j = NULL;
		k = volumes_to_json(v, n, &j);
		if (k >= 0)
			fputs(j, stdout);
	} else
		print_volumes_human(v, n, inv->dry_run);

	if (mount) {
		_cleanup_free_ char *m = NULL;
		for (size_t i = 0; i < n; i++)
			acted += !streq(v[i].action, "none");
		if (asprintf(&m, "%zu volume(s), %zu formatted or mounted", n, acted) < 0)
			m = NULL;
		/* The report is shared with a boot running beside us: update it under the run
		 * lock (after that boot, if one is running). */
		_cleanup_close_ int lock = run_lock(inv);
		record_step(inv, "storage", r < 0 ? r : acted > 0, t0, m, v, n, NULL);
	}
	for (size_t i = 0; i < n; i++)
		volume_report_done(&v[i]);
	free(v);
	return r < 0 ? r : k;
}

int verb_mount(const struct invocation *inv, const struct config *cfg)
{
	int r = may_act(inv, cfg);
	if (r <= 0)
		return r;
	if (!cfg->storage_enabled && inv->n_args == 0) {
		log_notice("Storage is disabled by [storage] enabled = no; name devices to override.");
		return 0;
	}
	return storage_verb(inv, cfg, true);
}

int verb_umount(const struct invocation *inv, const struct config *cfg)
{
	return storage_verb(inv, cfg, false);
}

int verb_status(const struct invocation *inv, const struct config *cfg _unused_)
{
	_cleanup_free_ char *path = NULL;
	struct boot_report b = {};
	int r;

	r = state_read_report(inv->root, &b, &path);
	if (r == -ENOENT)
		return log_error_errno(r, "No boot report yet ('%s' and '%s' are missing).",
				       RUN_STATUS, STATE_LAST_BOOT);
	if (r < 0)
		return log_error_errno(r, "Failed to read the boot report: %m");
	r = print_report(inv, &b);
	boot_report_done(&b);
	return r;
}

int verb_clean(const struct invocation *inv, const struct config *cfg _unused_)
{
	if (inv->dry_run) {
		printf("would remove %s, %s, %s and %s\n", STATE_INSTANCES, STATE_CACHE,
		       STATE_LAST_BOOT, RUN_STATUS);
		return 0;
	}
	return state_clean(inv->root);
}
