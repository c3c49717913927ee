/* SPDX-License-Identifier: MIT */
/*
 * commands.c: the verbs. A verb that acts chooses its steps (a stage, or one step) and hands
 * them to the runner (runner/runner.h), then prints what happened on stdout: a human table, or
 * one JSON document with --json. Nothing here runs, logs or records a step. Output never
 * contains user data, vendor data, a startup script or a whole key; `metadata` redacts those
 * unless asked for by name; text that may carry input is printed through escape_controls().
 */
#include <time.h>

#include "base/imageclean.h"
#include "base/log.h"
#include "base/platform.h"
#include "base/state.h"
#include "base/util.h"
#include "cli/commands.h"
#include "metadata/fetch.h"
#include "metadata/json.h"
#include "runner/runner.h"
#include "runner/steps.h"
#include "storage/scan.h"

/* FIELD as printed: control characters escaped (it may carry input), "-" when absent. */
static const char *shown(const char *field, char *buf, size_t size)
{
	if (!field)
		return "-";
	escape_controls(field, buf, size);
	return buf;
}

static const char *unit_of(const char *step)
{
	const struct step *s = step_find(step);

	return s ? stage_unit(s->stage) : "-";
}

static void print_report_human(const struct boot_report *b, FILE *f)
{
	char x[1024], y[1024];

	fprintf(f, "instance:        %s\n", b->instance_id ? b->instance_id : "unknown");
	fprintf(f, "first boot:      %s\n", b->first_boot ? "yes" : "no");
	fprintf(f, "metadata source: %s\n", b->metadata_source ? b->metadata_source : "none");
	if (b->metadata_late_s > 0)
		fprintf(f, "metadata late:   arrived %d s after boot (vagent-late.service)\n",
			b->metadata_late_s);
	if (b->started)
		fprintf(f, "started:         %s\n", b->started);
	if (b->finished)
		fprintf(f, "finished:        %s\n", b->finished);
	if (b->userdata_ran)
		fprintf(f, "user data exit:  %d\n", b->userdata_exit);
	if (b->n_steps > 0)
		fprintf(f, "\n%-20s %-10s %8s  %-24s %s\n", "STEP", "RESULT", "TIME", "UNIT",
			"MESSAGE");
	for (size_t i = 0; i < b->n_steps; i++)
		fprintf(f, "%-20s %-10s %6llums  %-24s %s\n", b->steps[i].name,
			step_result_to_string(b->steps[i].result),
			(unsigned long long)b->steps[i].duration_ms, unit_of(b->steps[i].name),
			b->steps[i].message ? shown(b->steps[i].message, x, sizeof(x)) : "");
	if (b->host_keys && b->host_keys[0]) {
		fprintf(f, "\nSSH HOST KEY FINGERPRINTS\n");
		for (size_t i = 0; b->host_keys[i]; i++)
			fprintf(f, "  %s\n", shown(b->host_keys[i], x, sizeof(x)));
	}
	if (b->n_keys > 0)
		fprintf(f, "\n%-24s %-8s %s\n", "CLOUD-CONFIG KEY", "STATUS", "REASON");
	for (size_t i = 0; i < b->n_keys; i++)
		fprintf(f, "%-24s %-8s %s\n", shown(b->keys[i].key, x, sizeof(x)),
			key_status_to_string(b->keys[i].status),
			b->keys[i].reason ? shown(b->keys[i].reason, y, sizeof(y)) : "");
	if (b->n_volumes > 0)
		fprintf(f, "\n%-16s %-12s %-16s %-24s %s\n", "DEVICE", "VERDICT", "ACTION",
			"MOUNTPOINT", "REASON");
	for (size_t i = 0; i < b->n_volumes; i++) {
		const struct volume_report *v = &b->volumes[i];
		char z[256];
		fprintf(f, "%-16s %-12s %-16s %-24s %s%s%s%s%s\n", v->device ? v->device : "-",
			v->verdict ? v->verdict : "-", v->action ? v->action : "-",
			v->mountpoint ? v->mountpoint : "-", v->reason ? shown(v->reason, x, sizeof(x)) : "",
			v->result ? "; " : "", v->result ? shown(v->result, y, sizeof(y)) : "",
			v->grow ? "; grown: " : "", v->grow ? shown(v->grow, z, sizeof(z)) : "");
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
	char x[1024];

	if (n == 0) {
		printf("No volumes found.\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s: %s", v[i].device ? v[i].device : "-", v[i].verdict ? v[i].verdict : "-");
		if (v[i].volume_id)
			printf(" (volume %s)", v[i].volume_id);
		printf("\n  reason: %s\n", shown(v[i].reason, x, sizeof(x)));
		printf("  %s: %s", dry_run ? "would do" : "action", v[i].action ? v[i].action : "none");
		if (v[i].mountpoint)
			printf(" at %s", v[i].mountpoint);
		printf("\n");
		if (v[i].uuid)
			printf("  filesystem uuid: %s\n", v[i].uuid);
		if (v[i].grow)
			printf("  %s: %s\n", dry_run ? "would grow" : "grown", shown(v[i].grow, x, sizeof(x)));
		if (v[i].result)
			printf("  result: %s\n", shown(v[i].result, x, sizeof(x)));
	}
}

/* Human output of a dry run's plan: steps write it to a buffer, printed before the report. */
struct plan {
	FILE *f;
	char *buf;
	size_t len;
};

static int run_verb(const struct invocation *inv, const struct config *cfg, unsigned stages,
		    const char *step, bool volumes, bool late)
{
	_cleanup_(boot_report_done) struct boot_report b = { .userdata_exit = -1 };
	_cleanup_free_ char *why = NULL;
	struct plan plan = {};
	struct run_options o = {
		.root = inv->root,
		.cfg = cfg,
		.dry_run = inv->dry_run,
		.devices = inv->n_args > 0 ? inv->args : NULL,
		.stages = stages,
		.step = step,
		.late = late,
	};
	int r, k;

	if (inv->dry_run && !inv->json) {
		plan.f = open_memstream(&plan.buf, &plan.len);
		if (!plan.f)
			return log_error_errno(-ENOMEM, "Out of memory.");
		o.plan = plan.f;
	}
	r = runner_run(&o, &b, &why);
	if (plan.f) {
		fclose(plan.f);
		if (plan.len > 0)
			printf("%s\n", plan.buf);
		free(plan.buf);
	}
	if (r == 1) {
		if (!inv->json)
			printf("vagent: doing nothing: %s\n", why);
		return 0;
	}
	if (r < 0 && r != -EPROTO)
		return r;
	if (volumes) {
		if (inv->json) {
			_cleanup_free_ char *j = NULL;
			k = volumes_to_json(b.volumes, b.n_volumes, &j);
			if (k < 0)
				return log_error_errno(k, "Failed to format the volumes: %m");
			fputs(j, stdout);
		} else
			print_volumes_human(b.volumes, b.n_volumes, inv->dry_run);
		k = 0;
	} else
		k = print_report(inv, &b);
	return r < 0 ? r : k;
}

int verb_boot(const struct invocation *inv, const struct config *cfg)
{
	/* by hand, every stage: the host keys are made at once, none left for after ssh */
	unsigned stages = inv->stages ? inv->stages :
		STAGE_MASK(STAGE_BOOT) | STAGE_MASK(STAGE_STORAGE) | STAGE_MASK(STAGE_USERDATA) |
		STAGE_MASK(STAGE_AFTER_SSH);
	int r;

	if (inv->no_storage)
		stages &= ~STAGE_MASK(STAGE_STORAGE);
	if (inv->no_userdata)
		stages &= ~STAGE_MASK(STAGE_USERDATA);
	r = run_verb(inv, cfg, stages, NULL, false, false);
	notify_ready();
	return r;
}

int verb_hostname(const struct invocation *inv, const struct config *cfg)
{
	return run_verb(inv, cfg, 0, "hostname", false, false);
}

int verb_sshkeys(const struct invocation *inv, const struct config *cfg)
{
	return run_verb(inv, cfg, 0, "ssh-keys", false, false);
}

int verb_network(const struct invocation *inv, const struct config *cfg)
{
	return run_verb(inv, cfg, 0, "network", false, false);
}

int verb_userdata(const struct invocation *inv, const struct config *cfg)
{
	return run_verb(inv, cfg, STAGE_MASK(STAGE_USERDATA), NULL, false, false);
}

int verb_late(const struct invocation *inv, const struct config *cfg)
{
	return run_verb(inv, cfg, STAGE_MASK(STAGE_BOOT) | STAGE_MASK(STAGE_USERDATA) |
			STAGE_MASK(STAGE_AFTER_SSH), NULL, false, true);
}

int verb_mount(const struct invocation *inv, const struct config *cfg)
{
	return run_verb(inv, cfg, STAGE_MASK(STAGE_STORAGE), NULL, true, false);
}

int verb_umount(const struct invocation *inv, const struct config *cfg)
{
	return run_verb(inv, cfg, STAGE_MASK(STAGE_SHUTDOWN), NULL, true, false);
}

/* Steps still running now, said by the runner's STATUS= to systemd: a volume being verified
 * (the first attach of a big volume may take minutes) shows here too. */
static void print_in_progress(const struct invocation *inv, bool after_report)
{
	struct scan_progress *p = NULL;
	size_t n = 0;

	if (inv->json || scan_progress_list(inv->root, &p, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *line = scan_progress_format(&p[i]);
		if (line)
			printf("%s%s\n", i == 0 && after_report ? "\n" : "", line);
	}
	scan_progress_free(p, n);
}

/* How often --wait looks at the marker file, and (each call of systemctl costs up to a second
 * under qemu TCG) how often it asks systemd about units that have not reported. */
#define WAIT_POLL_USEC (200ULL * 1000ULL)
#define WAIT_ASK_USEC (2ULL * 1000000ULL)

static void sleep_usec(uint64_t usec)
{
	struct timespec ts = { .tv_sec = (time_t)(usec / 1000000ULL),
			       .tv_nsec = (long)(usec % 1000000ULL) * 1000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * status --wait: until this boot's last unit wrote /run/vagent/boot-finished, or systemd says
 * no vagent unit is left to run (one was disabled, or died before it could report). Exit 0
 * done, 1 a step or a unit failed (or the timeout passed), 2 degraded (the cached document).
 */
static int status_wait(const struct invocation *inv, const struct config *cfg)
{
	_cleanup_(boot_report_done) struct boot_report b = { .userdata_exit = -1 };
	_cleanup_strv_free_ char **waiting = NULL, **failed = NULL;
	_cleanup_free_ char *why = NULL;
	uint64_t start = now_usec(), asked = 0;
	bool have = false, failures = false;
	int r;

	r = platform_check(inv->root, cfg, &why);
	if (r < 0)
		return log_error_errno(r, "Failed to check the platform: %m");
	if (r == 0) {
		printf("vagent: doing nothing: %s\n", why);
		return 0;
	}
	for (;;) {
		bool done = state_boot_finished(inv->root);

		if (!done && (asked == 0 || now_usec() - asked >= WAIT_ASK_USEC)) {
			boot_report_done(&b);
			have = runner_read_report(inv->root, true, &b, NULL) >= 0;
			strv_free(waiting);
			strv_free(failed);
			waiting = failed = NULL;
			r = runner_boot_progress(inv->root, &b, &waiting, &failed);
			if (r < 0)
				return log_error_errno(r, "Failed to learn which units are left: %m");
			done = r > 0;
			asked = now_usec();
		}
		if (done)
			break;
		if (inv->timeout_usec && now_usec() - start >= inv->timeout_usec) {
			_cleanup_free_ char *names = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&names, &len);

			for (size_t i = 0; f && waiting && waiting[i]; i++)
				fprintf(f, "%s%s", i ? ", " : "", waiting[i]);
			if (f)
				fclose(f);
			log_error("Timed out after %llu s waiting for %s.",
				  (unsigned long long)(inv->timeout_usec / 1000000ULL),
				  names && *names ? names : "vagent's units");
			return -ETIME;
		}
		sleep_usec(WAIT_POLL_USEC);
	}

	boot_report_done(&b);
	have = runner_read_report(inv->root, true, &b, NULL) >= 0;
	for (size_t i = 0; failed && failed[i]; i++)
		log_error("%s failed before it could report its steps.", failed[i]);
	if (!have) {
		if (!failed)
			printf("vagent: no vagent unit ran this boot\n");
	} else {
		r = print_report(inv, &b);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; have && i < b.n_steps; i++)
		failures = failures || b.steps[i].result == STEP_FAILED;
	if (have && b.metadata_source && streq(b.metadata_source, "cache"))
		return 2;
	return failures || failed ? 1 : 0;
}

int verb_status(const struct invocation *inv, const struct config *cfg)
{
	struct boot_report b = {};
	int r;

	if (inv->wait)
		return status_wait(inv, cfg);
	r = runner_read_report(inv->root, false, &b, NULL);
	if (r == -ENOENT) {
		print_in_progress(inv, false);
		return log_error_errno(r, "No boot report yet ('%s' and '%s' are missing).",
				       RUN_STATUS, STATE_LAST_BOOT);
	}
	if (r < 0)
		return log_error_errno(r, "Failed to read the boot report: %m");
	r = print_report(inv, &b);
	boot_report_done(&b);
	print_in_progress(inv, true);
	return r;
}

int verb_clean(const struct invocation *inv, const struct config *cfg)
{
	if (inv->image)
		return image_clean(inv->root, cfg, inv->dry_run, stdout);
	if (inv->dry_run) {
		printf("would remove %s, %s, %s and %s\n", STATE_INSTANCES, STATE_CACHE,
		       STATE_LAST_BOOT, RUN_STATUS);
		return 0;
	}
	return state_clean(inv->root);
}
