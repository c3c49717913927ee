/* SPDX-License-Identifier: MIT */
/*
 * runner.c: the one runner (runner.h). The only place that times a step, logs its outcome,
 * tells systemd about it and records it; steps only set their outcome (steps/step.h). Runs of
 * different units share this boot's report: each merges its own steps into it under a short
 * lock, so `vagent status` shows what every unit of a booting VM did.
 */
#include <fcntl.h>
#include <limits.h>
#include <time.h>

#include "base/lock.h"
#include "base/log.h"
#include "base/platform.h"
#include "base/process.h"
#include "base/state.h"
#include "base/units.h"
#include "base/util.h"
#include "cloudconfig/cc-apply.h"
#include "metadata/fetch.h"
#include "metadata/json.h"
#include "runner/runner.h"
#include "runner/steps.h"
#include "steps/metadata.h"
#include "storage/storage.h"

/* How long a run waits for another vagent on the same root: longer than a user-data run (its
 * unit allows 15 min), bounded so a stuck holder is named instead of waited on forever. */
#define RUN_LOCK_TIMEOUT_USEC (16ULL * 60 * 1000000)
#define REPORT_LOCK_TIMEOUT_USEC (30ULL * 1000000)

struct run {
	const struct run_options *o;
	struct step_context ctx;
	struct fetched fetched;
	int storage_lock;
	int hostkeys_lock;
	bool ran_metadata;
	bool failed;
	struct boot_report earlier; /* late: this boot's report before the late run */
};

static bool selected(const struct run_options *o, const struct step *s)
{
	if (o->devices && (s->flags & STEP_NO_DEVICES))
		return false;
	if (o->step)
		return streq(s->name, o->step) ||
		       (streq(s->name, "metadata") && step_find(o->step) &&
			(step_find(o->step)->flags & STEP_NEEDS_METADATA));
	return o->stages & STAGE_MASK(s->stage);
}

static int stamp_name(const struct step *s, char *buf, size_t size)
{
	return snprintf(buf, size, "step.%s", s->name) < (int)size ? 0 : -ENAMETOOLONG;
}

/* Why S cannot run in this run (a skip message), or NULL. */
static const char *precondition(struct run *run, const struct step *s)
{
	struct step_context *c = &run->ctx;
	char stamp[64];

	if ((s->flags & STEP_NEEDS_METADATA) && !c->md)
		return "no metadata: left as it is";
	if ((s->flags & STEP_NEEDS_SERVICE) && c->degraded)
		return "metadata from the cache: left as it is";
	if ((s->flags & STEP_PER_INSTANCE) && c->instance_id && stamp_name(s, stamp, sizeof(stamp)) >= 0 &&
	    state_instance_has(c->root, c->instance_id, stamp))
		return "already done for this instance";
	if (c->late && (s->flags & STEP_ONCE_PER_BOOT))
		for (size_t i = 0; i < run->earlier.n_steps; i++)
			if (streq(run->earlier.steps[i].name, s->name) &&
			    run->earlier.steps[i].result != STEP_SKIPPED)
				return "already ran this boot";
	return NULL;
}

static int run_step(struct run *run, const struct step *s, struct boot_report *report)
{
	struct step_context *c = &run->ctx;
	struct step_outcome out = { .result = STEP_UNCHANGED };
	uint64_t t0 = now_usec();
	const char *why;
	int r;

	notify_status("%s...", s->name);
	why = precondition(run, s);
	if (why) {
		r = step_set(&out, (s->flags & STEP_PER_INSTANCE) && c->md ? STEP_UNCHANGED :
									    STEP_SKIPPED, "%s", why);
	} else if ((s->flags & STEP_STORAGE_LOCK) && !run->o->dry_run && run->storage_lock < 0 &&
		   (run->storage_lock = lock_file(c->root, STORAGE_LOCK_PATH, "the storage lock",
						  c->cfg->lock_timeout_usec)) < 0) {
		r = step_fail(&out, run->storage_lock, "another vagent is working on storage: %m");
	} else if ((s->flags & STEP_HOSTKEYS_LOCK) && !run->o->dry_run && run->hostkeys_lock < 0 &&
		   (run->hostkeys_lock = lock_file(c->root, RUN_HOSTKEYS_LOCK, "the host-keys lock",
						   c->cfg->lock_timeout_usec)) < 0) {
		r = step_fail(&out, run->hostkeys_lock,
			      "another vagent is working on the host keys: %m");
	} else {
		r = s->run(c, &out);
		if (r < 0 && out.result != STEP_FAILED)
			r = step_fail(&out, r, "%m");
		else if (r >= 0 && out.result == STEP_FAILED)
			r = -EIO;
		if (r >= 0 && (s->flags & STEP_PER_INSTANCE) && !run->o->dry_run && c->instance_id) {
			char stamp[64];
			int k = stamp_name(s, stamp, sizeof(stamp));

			if (k >= 0)
				k = state_instance_write(c->root, c->instance_id, stamp, "", 0);
			if (k < 0)
				log_warning_errno(k, "Failed to stamp step '%s' for instance '%s': %m, "
						  "ignoring.", s->name, c->instance_id);
		}
	}
	/* Not held past the step: the late path goes on to the user data, for minutes. */
	run->hostkeys_lock = safe_close(run->hostkeys_lock);
	if (r == -ENOMEM) {
		step_outcome_done(&out);
		return r;
	}
	run->failed = run->failed || out.result == STEP_FAILED;
	log_step(out.result == STEP_FAILED ? LOG_WARNING : LOG_INFO, s->message_id, s->name,
		 step_result_to_string(out.result), out.message);
	r = boot_report_add_step(report, s->name, out.result, (now_usec() - t0) / 1000ULL,
				 out.message);
	step_outcome_done(&out);
	return r;
}

static void stamp_now(char **field)
{
	char buf[32];

	format_iso8601(now_realtime_usec(), buf);
	free(*field);
	*field = strdup(buf);
}

static int by_table_order(const void *a, const void *b)
{
	size_t x = step_index(((const struct step_report *)a)->name);
	size_t y = step_index(((const struct step_report *)b)->name);

	return x < y ? -1 : x > y;
}

/* Merge RUN's steps (and volumes, and, when it ran the metadata step, the instance facts) into
 * this boot's report. A report of an earlier boot is replaced, never merged into. */
static int merge(struct boot_report *b, const struct boot_report *run, bool with_metadata,
		 const char *boot_id)
{
	bool fresh = !b->boot_id || !boot_id || !streq(b->boot_id, boot_id);
	int r = 0;

	if (fresh) {
		boot_report_done(b);
		r = free_and_strdup(&b->started, run->started);
		if (r >= 0)
			r = free_and_strdup(&b->metadata_source, "none");
	}
	if (r >= 0 && (with_metadata || !b->instance_id)) {
		if ((r = free_and_strdup(&b->instance_id, run->instance_id)) >= 0 && with_metadata)
			r = free_and_strdup(&b->metadata_source, run->metadata_source);
		if (with_metadata) {
			b->first_boot = run->first_boot;
			b->metadata_late_s = run->metadata_late_s;
			if (r >= 0 && !run->metadata_late_s)
				r = free_and_strdup(&b->started, run->started);
		}
	}
	for (size_t i = 0; r >= 0 && i < run->n_steps; i++)
		r = boot_report_add_step(b, run->steps[i].name, run->steps[i].result,
					 run->steps[i].duration_ms, run->steps[i].message);
	for (size_t i = 0; r >= 0 && i < run->n_volumes; i++) {
		struct volume_report v = {};

		if (free_and_strdup(&v.device, run->volumes[i].device) < 0 ||
		    free_and_strdup(&v.verdict, run->volumes[i].verdict) < 0 ||
		    free_and_strdup(&v.reason, run->volumes[i].reason) < 0 ||
		    free_and_strdup(&v.action, run->volumes[i].action) < 0 ||
		    free_and_strdup(&v.mountpoint, run->volumes[i].mountpoint) < 0 ||
		    free_and_strdup(&v.uuid, run->volumes[i].uuid) < 0 ||
		    free_and_strdup(&v.volume_id, run->volumes[i].volume_id) < 0 ||
		    free_and_strdup(&v.result, run->volumes[i].result) < 0 ||
		    free_and_strdup(&v.grow, run->volumes[i].grow) < 0 ||
		    volume_scan_copy(&v.scan, &run->volumes[i].scan) < 0)
			r = -ENOMEM;
		else
			r = boot_report_add_volume(b, &v);
		volume_report_done(&v);
	}
	/* The keys are the last cloud-config pass's: a run that reported some replaces them all. */
	if (r >= 0 && run->n_keys > 0) {
		boot_report_clear_keys(b);
		for (size_t i = 0; r >= 0 && i < run->n_keys; i++)
			r = boot_report_add_key(b, run->keys[i].key, run->keys[i].status,
						run->keys[i].reason);
	}
	if (r >= 0 && run->userdata_ran) {
		b->userdata_ran = true;
		b->userdata_exit = run->userdata_exit;
	}
	if (r >= 0 && run->host_keys) {
		strv_free(b->host_keys);
		b->host_keys = NULL;
		for (size_t i = 0; r >= 0 && run->host_keys[i]; i++)
			r = strv_push(&b->host_keys, strdup(run->host_keys[i]));
	}
	for (size_t i = 0; r >= 0 && run->stages && run->stages[i]; i++)
		if (!strv_contains(b->stages, run->stages[i]))
			r = strv_push(&b->stages, strdup(run->stages[i]));
	if (r >= 0)
		r = free_and_strdup(&b->boot_id, boot_id);
	if (r >= 0)
		r = free_and_strdup(&b->finished, run->finished);
	if (r >= 0 && b->n_steps > 1)
		qsort(b->steps, b->n_steps, sizeof(*b->steps), by_table_order);
	return r;
}

int runner_read_report(const char *root, bool this_boot, struct boot_report *ret,
		       const char **ret_path)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = state_read_report(root, this_boot, &buf, &len, ret_path);
	if (r < 0)
		return r;
	return boot_report_from_json(buf, len, ret);
}

static bool exists_in(const char *root, const char *path)
{
	_cleanup_free_ char *p = path_join_root(root, path);

	return p && access(p, F_OK) >= 0;
}

int runner_boot_progress(const char *root, const struct boot_report *b, char ***ret_waiting,
			 char ***ret_failed)
{
	_cleanup_strv_free_ char **waiting = NULL, **failed = NULL;
	const char *units[_STAGE_MAX];
	struct unit_state st[_STAGE_MAX];
	size_t n = 0;
	int r;

	for (size_t s = 0; s < _STAGE_MAX; s++)
		/* (the early stage is before vagent.service, and nothing waits for the keygen
		 * stage but vagent-hostkeys.service, ordered after it) */
		if (s != STAGE_SHUTDOWN && s != STAGE_EARLY && s != STAGE_KEYGEN &&
		    !strv_contains(b->stages, stage_to_string((enum step_stage)s)) &&
		    (!stage_condition((enum step_stage)s) ||
		     exists_in(root, stage_condition((enum step_stage)s))))
			units[n++] = stage_unit((enum step_stage)s);
	r = units_state(root, units, n, st);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (st[i].pending)
			r = strv_push(&waiting, strdup(units[i]));
		if (r >= 0 && st[i].failed)
			r = strv_push(&failed, strdup(units[i]));
	}
	if (r < 0)
		return r;
	r = !waiting;
	if (ret_waiting)
		*ret_waiting = TAKE_PTR(waiting);
	if (ret_failed)
		*ret_failed = TAKE_PTR(failed);
	return r;
}

/* The unit that finishes last says so: /run/vagent/boot-finished, for --wait and for tools. */
static void mark_finished(const char *root, const struct boot_report *b)
{
	int r;

	if (!b->boot_id || state_boot_finished(root))
		return;
	r = runner_boot_progress(root, b, NULL, NULL);
	if (r <= 0)
		return;
	r = state_write_boot_finished(root, b->boot_id, b->finished ? b->finished : "");
	if (r < 0)
		log_warning_errno(r, "Failed to write '%s': %m, ignoring.", RUN_BOOT_FINISHED);
	else
		log_full_id(LOG_INFO, MSGID_BOOT_DONE, "Every vagent unit of this boot has finished "
			    "(%s).", RUN_BOOT_FINISHED);
}

static void record(struct run *run, const struct boot_report *report)
{
	_cleanup_(boot_report_done) struct boot_report b = { .userdata_exit = -1 };
	_cleanup_free_ char *boot_id = NULL, *json = NULL;
	_cleanup_close_ int lock = -1;
	const char *root = run->ctx.root;
	int r;

	lock = lock_file(root, REPORT_LOCK_PATH, "the report lock", REPORT_LOCK_TIMEOUT_USEC);
	if (lock < 0)
		return; /* logged */
	(void)state_boot_id(&boot_id);
	r = runner_read_report(root, true, &b, NULL);
	if (r < 0 && r != -ENOENT)
		log_warning_errno(r, "Failed to read '%s': %m, starting a new report.", RUN_STATUS);
	r = merge(&b, report, run->ran_metadata, boot_id);
	if (r >= 0)
		r = boot_report_to_json(&b, &json);
	if (r >= 0)
		r = state_write_report(root, json);
	if (r < 0) {
		log_warning_errno(r, "Failed to record the steps in '%s': %m, ignoring.", RUN_STATUS);
		return;
	}
	/* The early stage is never the last: vagent.service is ordered after it (and it would
	 * load libsystemd before systemd-networkd starts for nothing); the keygen stage's keys
	 * are waited for by the stage that takes them, not by the boot's progress. */
	if (run->o->stages != STAGE_MASK(STAGE_EARLY) && run->o->stages != STAGE_MASK(STAGE_KEYGEN))
		mark_finished(root, &b);
}

static void context_done(struct run *run)
{
	if (run->ctx.userdata_doc) {
		cc_doc_done(run->ctx.userdata_doc);
		free(run->ctx.userdata_doc);
	}
	fetched_done(&run->fetched);
	run->storage_lock = safe_close(run->storage_lock);
	run->hostkeys_lock = safe_close(run->hostkeys_lock);
	boot_report_done(&run->earlier);
}

/* Seconds from ISO (format_iso8601()'s "YYYY-MM-DDTHH:MM:SS.mmmZ") to now, at least 1. */
static int seconds_since(const char *iso)
{
	struct tm tm = {};
	time_t t, now = (time_t)(now_realtime_usec() / 1000000ULL);

	if (!iso || sscanf(iso, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1 || now <= t)
		return 1;
	return now - t > INT_MAX ? INT_MAX : (int)(now - t);
}

/*
 * The late path, before any lock: 1 with *RET_WHY when nothing is late (this boot's metadata
 * came from the service, or no boot stage ran this boot); else wait for the service's document
 * into RUN's fetched (logged), 0.
 */
static int late_wait(struct run *run, char **ret_why)
{
	const struct run_options *o = run->o;
	unsigned tries = 0;
	bool cached;
	int r;

	r = runner_read_report(o->root, true, &run->earlier, NULL);
	if (r == -ENOENT || (r >= 0 && run->earlier.metadata_source &&
			     streq(run->earlier.metadata_source, "service"))) {
		if (!o->dry_run)
			(void)state_set_metadata_late(o->root, false, NULL);
		*ret_why = strdup(r == -ENOENT ? "no boot stage ran this boot" :
						 "this boot's metadata came from the service");
		if (!*ret_why)
			return log_error_errno(-ENOMEM, "Out of memory.");
		log_notice("Nothing late: %s.", *ret_why);
		return 1;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to read this boot's report: %m");
	cached = run->earlier.metadata_source && streq(run->earlier.metadata_source, "cache");
	notify_status("Waiting for the metadata service (this boot went on %s)...",
		      cached ? "from the cache" : "without metadata");
	log_info("This boot went on %s; asking the metadata service until it answers.",
		 cached ? "from the cached document" : "without metadata");
	r = metadata_late(o->root, o->cfg, o->dry_run, 0, &tries, &run->fetched);
	if (r < 0)
		return log_error_errno(r, "Failed to get the metadata: %m");
	log_info("Metadata arrived after %u tries, %d s after the boot started.", tries,
		 seconds_since(run->earlier.started));
	return 0;
}

/* Host keys made by the late path: sshd must load them (or start, having had none). */
static void late_reload_ssh(const struct run *run, const struct boot_report *report)
{
	int r;

	for (size_t i = 0; i < report->n_steps; i++) {
		/* (host-keys-after-ssh reloads ssh.service itself) */
		if (!streq(report->steps[i].name, "host-keys") ||
		    report->steps[i].result != STEP_CHANGED)
			continue;
		r = run->o->dry_run ? 0 : units_reload_ssh(run->o->root, true);
		if (r == 0)
			log_info("New host keys; not on the running system: ssh.service left alone.");
		else if (r < 0)
			log_warning("Failed to reload ssh.service for the new host keys (%s), "
				    "ignoring.", r == -EPROTO ? "systemctl failed" : strerror(-r));
		else
			log_info("New host keys: ssh.service reloaded (or started).");
		return;
	}
}

int runner_run(const struct run_options *o, struct boot_report *report, char **ret_why)
{
	struct run run = { .o = o, .storage_lock = -1, .hostkeys_lock = -1 };
	_cleanup_close_ int run_lock = -1;
	const struct step *table;
	bool need_run_lock = false, need_metadata = false, has_metadata_step = false;
	bool need_service = false;
	size_t n;
	int r;

	*report = (struct boot_report){ .userdata_exit = -1 };
	stamp_now(&report->started);

	r = platform_check(o->root, o->cfg, ret_why);
	if (r < 0)
		return log_error_errno(r, "Failed to check the platform: %m");
	if (r == 0) {
		log_notice("Doing nothing: %s.", *ret_why);
		notify_status("Doing nothing: %s.", *ret_why);
		return 1;
	}

	table = step_table(&n);
	for (size_t i = 0; i < n; i++) {
		if (!selected(o, &table[i]))
			continue;
		need_run_lock = need_run_lock ||
				!(table[i].flags & (STEP_STORAGE_LOCK | STEP_NO_RUN_LOCK));
		need_metadata = need_metadata || (table[i].flags & STEP_NEEDS_METADATA);
		need_service = need_service || ((table[i].flags & STEP_NEEDS_METADATA) &&
						!(table[i].flags & STEP_CACHE_ONLY));
		has_metadata_step = has_metadata_step || table[i].run == step_metadata;
	}

	/* Late: wait for the service before taking the run lock (the user-data unit and `vagent
	 * hostname` by hand must not wait behind a service that is down). */
	if (o->late) {
		r = late_wait(&run, ret_why);
		if (r != 0) {
			context_done(&run);
			return r;
		}
	}

	/* A dry run writes nothing, not even a lock file, and waits for no one. */
	if (need_run_lock && !o->dry_run) {
		run_lock = lock_file(o->root, RUN_LOCK_PATH, "the run lock", RUN_LOCK_TIMEOUT_USEC);
		if (run_lock < 0) {
			context_done(&run);
			return run_lock;
		}
	}

	run.ctx = (struct step_context){
		.root = o->root,
		.cfg = o->cfg,
		.dry_run = o->dry_run,
		.plan = o->plan,
		.devices = o->devices,
		.stages = o->step ? 0 : o->stages,
		.fetched = &run.fetched,
		.report = report,
		.late = o->late,
	};
	if (need_metadata && !has_metadata_step) {
		r = metadata_load(&run.ctx, !need_service);
		if (r == -ENOMEM) {
			context_done(&run);
			return log_error_errno(r, "Out of memory.");
		}
		if (free_and_strdup(&report->metadata_source,
			      metadata_source_to_string(run.fetched.source)) < 0 ||
		    free_and_strdup(&report->instance_id, run.ctx.instance_id) < 0) {
			context_done(&run);
			return log_error_errno(-ENOMEM, "Out of memory.");
		}
	}

	for (size_t i = 0; i < n; i++) {
		if (!selected(o, &table[i]))
			continue;
		r = run_step(&run, &table[i], report);
		if (r < 0) {
			context_done(&run);
			return log_error_errno(r, "Out of memory.");
		}
		if (table[i].run == step_metadata) {
			run.ran_metadata = true;
			if (free_and_strdup(&report->metadata_source,
				      metadata_source_to_string(run.fetched.source)) < 0 ||
			    free_and_strdup(&report->instance_id, run.ctx.instance_id) < 0) {
				context_done(&run);
				return log_error_errno(-ENOMEM, "Out of memory.");
			}
			report->first_boot = run.ctx.first_boot;
			if (o->late && run.fetched.source == SOURCE_SERVICE)
				report->metadata_late_s = seconds_since(run.earlier.started);
		}
	}

	if (run.ran_metadata)
		metadata_mark_booted(&run.ctx);
	/* vagent-late.service runs (ConditionPathExists=) while the service has not been heard. */
	if (run.ran_metadata && !o->dry_run && (o->stages & STAGE_MASK(STAGE_BOOT))) {
		_cleanup_free_ char *boot_id = NULL;

		(void)state_boot_id(&boot_id);
		r = state_set_metadata_late(o->root, run.fetched.source != SOURCE_SERVICE, boot_id);
		if (r < 0)
			log_warning_errno(r, "Failed to update '%s': %m, ignoring.", RUN_METADATA_LATE);
	}
	/* Whole stages (not one step by hand) count for this boot's progress. */
	for (size_t s = 0; !o->step && !o->dry_run && s < _STAGE_MAX; s++)
		if ((o->stages & STAGE_MASK(s)) &&
		    strv_push(&report->stages, strdup(stage_to_string((enum step_stage)s))) < 0) {
			context_done(&run);
			return log_error_errno(-ENOMEM, "Out of memory.");
		}
	stamp_now(&report->finished);
	if (o->late && report->metadata_late_s)
		(void)free_and_strdup(&report->started, run.earlier.started);
	if (!o->dry_run)
		record(&run, report);
	if (o->late)
		late_reload_ssh(&run, report);
	notify_status("%s", run.failed ? "Finished with failures (see `vagent status`)." :
					 "Finished.");
	if (run.ran_metadata)
		log_full_id(run.failed ? LOG_WARNING : LOG_INFO, MSGID_BOOT_DONE,
			    "Boot %s for instance '%s' (metadata from %s).",
			    run.failed ? "finished with failures" : "finished",
			    run.ctx.instance_id ? run.ctx.instance_id : "unknown",
			    report->metadata_source);
	context_done(&run);
	return run.failed ? -EPROTO : 0;
}
