/* SPDX-License-Identifier: MIT */
/*
 * steps.c: the ordered list of boot steps and the loop that runs them: each step gets the
 * context (metadata, instance identity, first boot or not), returns <0 failed, 0 unchanged,
 * 1 changed or 2 skipped with one line of message, and is timed. Degraded mode lives here:
 * when the document came from the cache, hostname and keys are left as they are and nothing
 * is treated as a new instance. The user data is decoded once per run (cc-apply.h) and shared:
 * bootcmd runs right after the metadata, the hostname and ssh-keys steps take cloud-config's
 * hostname and keys, the userdata step applies the rest once per instance.
 */
#include "cloudconfig/cc-apply.h"
#include "steps/hostname.h"
#include "base/log.h"
#include "steps/sshkeys.h"
#include "base/state.h"
#include "runner/steps.h"
#include "storage/storage.h"
#include "steps/userdata.h"
#include "base/util.h"

#define STAMP_BOOTED "booted"

struct boot_ctx {
	const struct config *cfg;
	const struct boot_options *o;
	struct fetched f;
	const char *instance_id; /* borrowed from f.md */
	bool first_boot;
	struct boot_report *report;
	struct cc_doc doc; /* the user data, decoded once (see ctx_doc) */
	bool doc_ready;
};

struct step {
	const char *name;
	int (*run)(struct boot_ctx *c, char **ret_message);
};

static int msg(char **ret, const char *fmt, ...) _printf_(2, 3);
static int msg(char **ret, const char *fmt, ...)
{
	va_list ap;

	free(*ret);
	va_start(ap, fmt);
	if (vasprintf(ret, fmt, ap) < 0)
		*ret = NULL;
	va_end(ap);
	return *ret ? 0 : -ENOMEM;
}

static int step_metadata(struct boot_ctx *c, char **ret)
{
	int r;

	r = metadata_acquire(c->o->root, c->cfg, true, c->o->dry_run, &c->f);
	c->report->metadata_source = strdup(metadata_source_to_string(c->f.source));
	if (!c->report->metadata_source)
		return -ENOMEM;
	if (r == -ENODATA) {
		log_full_id(LOG_WARNING, MSGID_METADATA_DEGRADED,
			    "Metadata service unavailable (%s) and no cached document: hostname, "
			    "keys and user data are left as they are; boot goes on.",
			    c->f.error ? c->f.error : "unknown error");
		msg(ret, "service unavailable and no cache: %s", c->f.error ? c->f.error : "?");
		return -ENODATA;
	}
	if (r < 0)
		return r;

	c->instance_id = c->f.md->instance_id;
	c->report->instance_id = strdup(c->instance_id);
	if (!c->report->instance_id)
		return -ENOMEM;

	if (c->f.source == SOURCE_CACHE) {
		/* Degraded: never a first boot, whatever the stamps say. */
		c->first_boot = false;
		msg(ret, "service unavailable (%s); using the cached document", c->f.error);
		return -EHOSTUNREACH;
	}

	c->first_boot = !state_instance_has(c->o->root, c->instance_id, STAMP_BOOTED);
	c->report->first_boot = c->first_boot;
	msg(ret, "instance %s%s, %zu bytes", c->instance_id, c->first_boot ? " (first boot)" : "",
	    c->f.doc_len);
	return c->first_boot ? 1 : 0;
}

static bool degraded(struct boot_ctx *c, char **ret)
{
	if (c->f.source == SOURCE_SERVICE)
		return false;
	msg(ret, c->f.source == SOURCE_CACHE ? "metadata from cache: left as it is" :
					       "no metadata: left as it is");
	return true;
}

/* The user data this run works on, decoded once: the fetched copy, else the stored one. NULL
 * when there is none or running user data is disabled. */
static const struct cc_doc *ctx_doc(struct boot_ctx *c)
{
	_cleanup_free_ char *stored = NULL;
	const char *data = c->f.user_data;
	size_t len = c->f.user_data_len;

	if (c->doc_ready)
		return c->doc.kind == USERDATA_NONE && !c->doc.error ? NULL : &c->doc;
	c->doc_ready = true;
	if (!c->instance_id || !c->cfg->userdata_enabled)
		return NULL;
	if (!c->f.user_data_known) {
		if (state_instance_read(c->o->root, c->instance_id, USERDATA_STORED,
					c->cfg->max_userdata_size, &stored, &len) < 0)
			return NULL;
		data = stored;
	}
	if (cc_doc_decode(c->cfg, data, len, &c->doc) < 0)
		return NULL;
	return ctx_doc(c);
}

static int step_bootcmd(struct boot_ctx *c, char **ret)
{
	if (!c->instance_id) {
		msg(ret, "no metadata: nothing to do");
		return STEP_RET_SKIPPED;
	}
	return cc_bootcmd(c->o->root, c->cfg, c->instance_id, ctx_doc(c), c->o->dry_run, ret);
}

static int step_hostname(struct boot_ctx *c, char **ret)
{
	const char *name;
	bool preserve;

	if (degraded(c, ret))
		return STEP_RET_SKIPPED;
	name = cc_doc_hostname(ctx_doc(c), &preserve);
	if (preserve) {
		msg(ret, "preserve_hostname in cloud-config: left as it is");
		return STEP_RET_SKIPPED;
	}
	return hostname_apply(c->o->root, name ? name : c->f.md->hostname, c->cfg->hostname_policy,
			      c->first_boot, c->o->dry_run, ret);
}

static int step_sshkeys(struct boot_ctx *c, char **ret)
{
	_cleanup_strv_free_ char **keys = NULL, **extra = NULL;
	int r;

	if (degraded(c, ret))
		return STEP_RET_SKIPPED;
	/* One block per user: the metadata's keys and cloud-config's, together, so the sync
	 * policy keeps both and still drops what either source revoked. */
	r = cc_doc_ssh_keys(ctx_doc(c), c->cfg->ssh_user, &extra);
	if (r < 0)
		return r;
	if (!extra)
		return sshkeys_apply(c->o->root, c->cfg->ssh_user, c->f.md->public_keys,
				     c->cfg->sshkeys_policy, c->cfg->sshkeys_target, c->o->dry_run,
				     ret);
	for (size_t i = 0; c->f.md->public_keys && c->f.md->public_keys[i] && r >= 0; i++)
		r = strv_push(&keys, strdup(c->f.md->public_keys[i]));
	for (size_t i = 0; extra[i] && r >= 0; i++)
		if (!strv_contains(keys, extra[i]))
			r = strv_push(&keys, strdup(extra[i]));
	if (r < 0)
		return r;
	return sshkeys_apply(c->o->root, c->cfg->ssh_user, keys, c->cfg->sshkeys_policy,
			     c->cfg->sshkeys_target, c->o->dry_run, ret);
}

static int step_storage(struct boot_ctx *c, char **ret)
{
	struct volume_report *v = NULL;
	size_t n = 0, formatted = 0, mounted = 0, refused = 0;
	int r;

	if (!c->cfg->storage_enabled) {
		msg(ret, "disabled by [storage] enabled = no");
		return STEP_RET_SKIPPED;
	}
	if (!c->o->storage) {
		msg(ret, "left to `vagent mount` (vagent-storage.service)");
		return STEP_RET_SKIPPED;
	}
	r = storage_mount(c->o->root, c->cfg, c->o->devices, c->o->dry_run, &v, &n);
	for (size_t i = 0; i < n; i++) {
		if (streq(v[i].action, "format-and-mount"))
			formatted++;
		else if (streq(v[i].action, "mount"))
			mounted++;
		else
			refused++;
		(void)boot_report_add_volume(c->report, &v[i]);
	}
	free(v);
	msg(ret, "%zu volume(s): %zu %sformatted, %zu %smounted, %zu left alone", n, formatted,
	    c->o->dry_run ? "to be " : "", mounted, c->o->dry_run ? "to be " : "", refused);
	if (r < 0)
		return r;
	return formatted + mounted > 0 ? 1 : 0;
}

static int step_userdata(struct boot_ctx *c, char **ret)
{
	struct userdata_result u;
	int r;

	if (!c->instance_id) {
		msg(ret, "no metadata: nothing to do");
		return STEP_RET_SKIPPED;
	}
	r = userdata_apply_doc(c->o->root, c->cfg, c->instance_id, c->f.user_data,
			       c->f.user_data_len, c->f.user_data_known, !c->o->userdata,
			       c->o->dry_run, ctx_doc(c), c->o->plan, &u);
	if (u.ran) {
		c->report->userdata_ran = true;
		c->report->userdata_exit = u.exit_status;
	}
	free(*ret);
	*ret = u.message;
	/* The service answered but its user data could not be had (too large, 5xx past the
	 * deadline): that is this step failing, even when an earlier copy was there to use. */
	if (r >= 0 && c->f.user_data_error) {
		_cleanup_free_ char *was = TAKE_PTR(*ret);
		msg(ret, "user data not fetched (%s)%s%s", c->f.user_data_error, was ? "; " : "",
		    was ? was : "");
		return -EIO;
	}
	return r;
}

static const struct step boot_steps[] = {
	{ "metadata", step_metadata }, { "bootcmd", step_bootcmd }, { "hostname", step_hostname },
	{ "ssh-keys", step_sshkeys },  { "storage", step_storage },  { "userdata", step_userdata },
};

static enum step_result to_result(int r)
{
	if (r < 0)
		return STEP_FAILED;
	if (r == 0)
		return STEP_UNCHANGED;
	if (r == STEP_RET_SKIPPED)
		return STEP_SKIPPED;
	return STEP_CHANGED;
}

static int run_step(struct boot_ctx *c, const struct step *s)
{
	_cleanup_free_ char *m = NULL;
	uint64_t t0 = now_usec();
	enum step_result res;
	int r;

	notify_status("%s...", s->name);
	r = s->run(c, &m);
	res = to_result(r);
	if (r < 0 && !m)
		msg(&m, "%s", strerror(-r));
	log_full(res == STEP_FAILED ? LOG_WARNING : LOG_INFO, 0, NULL, __FILE__, __LINE__,
		 "Step %s: %s (%s).", s->name, step_result_to_string(res), m ? m : "");
	return boot_report_add_step(c->report, s->name, res, (now_usec() - t0) / 1000ULL, m) ?:
										   r;
}

static void stamp_now(char **field)
{
	char buf[32];

	format_iso8601(now_realtime_usec(), buf);
	free(*field);
	*field = strdup(buf);
}

static int finish(struct boot_ctx *c, bool failed)
{
	int r;

	stamp_now(&c->report->finished);
	if (c->o->dry_run)
		return failed ? -EPROTO : 0;

	/* vagent-storage.service runs beside this one and may have recorded its step already. */
	if (!c->o->storage)
		state_keep_step(c->o->root, c->report, "storage");
	r = state_write_report(c->o->root, c->report);
	if (r < 0)
		log_warning_errno(r, "Failed to write '%s': %m, ignoring.", RUN_STATUS);
	return failed ? -EPROTO : 0;
}

int boot_run(const struct config *cfg, const struct boot_options *o, struct boot_report *report)
{
	struct boot_ctx c = { .cfg = cfg, .o = o, .report = report };
	bool failed = false;
	int r;

	*report = (struct boot_report){ .userdata_exit = -1 };
	stamp_now(&report->started);

	for (size_t i = 0; i < ARRAY_SIZE(boot_steps); i++) {
		r = run_step(&c, &boot_steps[i]);
		if (r == -ENOMEM) {
			cc_doc_done(&c.doc);
			fetched_done(&c.f);
			return log_error_errno(r, "Out of memory");
		}
		if (r < 0)
			failed = true;
	}

	/* The instance has now booted once: per-instance steps will not repeat. */
	if (!o->dry_run && c.f.source == SOURCE_SERVICE && c.first_boot) {
		r = state_instance_write(o->root, c.instance_id, STAMP_BOOTED, "", 0);
		if (r < 0)
			log_warning_errno(r, "Failed to mark instance '%s' as booted: %m, ignoring.",
					  c.instance_id);
	}

	r = finish(&c, failed);
	log_full_id(failed ? LOG_WARNING : LOG_INFO, MSGID_BOOT_DONE,
		    "Boot %s for instance '%s' (metadata from %s).",
		    failed ? "finished with failures" : "finished",
		    c.instance_id ? c.instance_id : "unknown", report->metadata_source);
	cc_doc_done(&c.doc);
	fetched_done(&c.f);
	return r;
}

int step_run_one(const struct config *cfg, const struct boot_options *o, const char *name,
		 struct boot_report *report)
{
	struct boot_ctx c = { .cfg = cfg, .o = o, .report = report };
	const struct step *s = NULL;
	int r;

	*report = (struct boot_report){ .userdata_exit = -1 };
	stamp_now(&report->started);
	for (size_t i = 0; i < ARRAY_SIZE(boot_steps); i++)
		if (streq(boot_steps[i].name, name))
			s = &boot_steps[i];
	if (!s)
		return -EINVAL;

	if (streq(name, "userdata")) {
		/* After boot: the cache and the stored user data are enough. */
		r = metadata_acquire(o->root, cfg, false, o->dry_run, &c.f);
		/* vagent.service already waited out the deadline this boot (its report is in /run):
		 * do not wait a second time, there is no document to be had. */
		if (r == -ENODATA && state_run_report_exists(o->root)) {
			log_notice("No metadata this boot (the boot step found none); nothing to run.");
		} else if (r == -ENODATA) {
			fetched_done(&c.f); /* its error line would leak */
			r = metadata_acquire(o->root, cfg, true, o->dry_run, &c.f);
		}
		if (r >= 0) {
			c.instance_id = c.f.md->instance_id;
			report->instance_id = strdup(c.instance_id);
		}
		report->metadata_source = strdup(metadata_source_to_string(c.f.source));
	} else {
		r = run_step(&c, &boot_steps[0]);
		if (r == -ENOMEM) {
			fetched_done(&c.f);
			return r;
		}
	}

	r = run_step(&c, s);
	stamp_now(&report->finished);
	cc_doc_done(&c.doc);
	fetched_done(&c.f);
	return r < 0 ? r : 0;
}
