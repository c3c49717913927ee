/* SPDX-License-Identifier: MIT */
/*
 * userdata.c: the user-data step. The user data is secret: it is stored (0600) in the
 * instance's state directory by the metadata step and never logged; only its kind and size
 * are. It runs once per instance, from the stored copy: a "#!" script through base/script.h
 * (stamped before it starts, so a crash never runs it twice), cloud-config (plain, gzip or
 * MIME) through cloudconfig/cc-apply.h, each module stamped so an interrupted pass resumes, and
 * each top-level key's status put into the report. A format cloud-init runs and vagent does not
 * (#include, #cloud-boothook, #part-handler, ...) fails the step naming it; anything else is
 * stored and reported as not run. A user data that changes after it ran is noted, never run
 * again.
 */
#include "base/log.h"
#include "base/script.h"
#include "base/state.h"
#include "base/util.h"
#include "cloudconfig/cc-apply.h"
#include "metadata/fetch.h"
#include "metadata/http.h"
#include "steps/userdata.h"

#define UD_BASE "user-data"
#define UD_RAN "user-data.ran"
#define UD_EXIT "user-data.exit"

/* write_files source: the whole GET is bounded (a try, its retries, the body size). */
#define SOURCE_CONNECT_TIMEOUT_USEC (UINT64_C(5) * 1000000)
#define SOURCE_REQUEST_TIMEOUT_USEC (UINT64_C(30) * 1000000)
#define SOURCE_DEADLINE_USEC (UINT64_C(30) * 1000000)

/* URL as logs may show it: scheme://host[:port]/path, without credentials, query or fragment
 * (a signed URL's token lives there). */
static char *url_for_logs(const char *url)
{
	const char *a = strstr(url, "://"), *host, *at, *end;
	size_t hl;
	char *s;

	if (!a)
		return strdup("(a URL)");
	host = a + 3;
	hl = strcspn(host, "/?#");
	at = memchr(host, '@', hl);
	if (at) {
		hl -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	end = host + hl;
	end += strcspn(end, "?#");
	if (asprintf(&s, "%.*s%.*s%s", (int)(a + 3 - url), url, (int)(end - host), host,
		     end[0] ? "?..." : "") < 0)
		return NULL;
	return s;
}

/* The cloud-config pass's fetch (cc-types.h struct cc_host): metadata/http.c's bounded GET. */
static int userdata_fetch(void *userdata, const char *url, char *const *headers, size_t max,
			  char **ret, size_t *ret_len)
{
	_cleanup_free_ char *shown = url_for_logs(url);
	struct http_options o = {
		.connect_timeout_usec = SOURCE_CONNECT_TIMEOUT_USEC,
		.request_timeout_usec = SOURCE_REQUEST_TIMEOUT_USEC,
		.deadline_usec = now_usec() + SOURCE_DEADLINE_USEC,
		.max_size = max ? max : 1,
		.headers = headers,
		.log_url = shown ? shown : "(a URL)",
	};
	long status = 0;
	int r;

	r = http_get(url, &o, &status, ret, ret_len);
	if (r < 0)
		return r;
	if (status < 200 || status > 299) {
		free(*ret);
		*ret = NULL;
		return log_warning_errno(-ENOENT, "Failed to fetch '%s': HTTP %ld.", o.log_url,
					 status);
	}
	return 0;
}

static struct cc_host userdata_host(struct step_context *c)
{
	return (struct cc_host){
		.fetch = userdata_fetch,
		.datasource = c->degraded ? "vultr (cached metadata)" : "vultr",
	};
}

static bool is_cc_kind(enum userdata_kind k)
{
	return k == USERDATA_CLOUD_CONFIG || k == USERDATA_MIME || k == USERDATA_GZIP;
}

int userdata_store(struct step_context *c)
{
	_cleanup_free_ char *stored = NULL;
	const struct fetched *f = c->fetched;
	size_t stored_len = 0;
	bool have;
	int r;

	if (!c->instance_id || !f->user_data_known)
		return 0;
	r = state_instance_read(c->root, c->instance_id, USERDATA_STORED, c->cfg->max_userdata_size,
				&stored, &stored_len);
	if (r < 0 && r != -ENOENT)
		return r;
	have = r >= 0;
	if (have && stored_len == f->user_data_len &&
	    (stored_len == 0 || memcmp(stored, f->user_data, stored_len) == 0))
		return 0;
	/* An empty stored copy says "none": the later stages know there is nothing to run. */
	if (state_instance_has(c->root, c->instance_id, UD_RAN)) {
		log_full_id(LOG_NOTICE, MSGID_USERDATA,
			    "The user data of instance '%s' changed after it ran; it will not run "
			    "again. To run it: rm %s/%s/%s && vagent userdata",
			    c->instance_id, STATE_INSTANCES, c->instance_id, UD_RAN);
		return 0;
	}
	r = state_instance_write(c->root, c->instance_id, USERDATA_STORED,
				 f->user_data ? f->user_data : "", f->user_data_len);
	return r < 0 ? r : 1;
}

/*
 * The bytes this run works on: the stored copy when there is one (it is what runs, or ran),
 * else this run's fetched copy (a dry run stores nothing). *RET_BUF owns a stored copy.
 */
static int userdata_bytes(struct step_context *c, char **ret_buf, const char **ret_data,
			  size_t *ret_len)
{
	const struct fetched *f = c->fetched;
	int r;

	*ret_buf = NULL;
	r = state_instance_read(c->root, c->instance_id, USERDATA_STORED, c->cfg->max_userdata_size,
				ret_buf, ret_len);
	if (r >= 0 && !(c->dry_run && f->user_data_known &&
			!state_instance_has(c->root, c->instance_id, UD_RAN))) {
		*ret_data = *ret_buf;
		return 1;
	}
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		return r;
	free(*ret_buf);
	*ret_buf = NULL;
	if (!f->user_data_known)
		return 0;
	*ret_data = f->user_data;
	*ret_len = f->user_data_len;
	return 1;
}

const struct cc_doc *userdata_doc(struct step_context *c)
{
	_cleanup_free_ char *stored = NULL;
	const struct fetched *f = c->fetched;
	const char *data = NULL;
	size_t len = 0;

	if (c->userdata_doc_ready)
		return c->userdata_doc && (c->userdata_doc->kind != USERDATA_NONE ||
					   c->userdata_doc->error) ?
			       c->userdata_doc :
			       NULL;
	c->userdata_doc_ready = true;
	if (!c->instance_id || !c->cfg->userdata_enabled)
		return NULL;
	/* The hostname and keys follow this boot's user data; the stored copy when it could not
	 * be fetched. */
	if (f->user_data_known) {
		data = f->user_data;
		len = f->user_data_len;
	} else if (state_instance_read(c->root, c->instance_id, USERDATA_STORED,
				       c->cfg->max_userdata_size, &stored, &len) >= 0)
		data = stored;
	else
		return NULL;
	c->userdata_doc = calloc(1, sizeof(*c->userdata_doc));
	if (!c->userdata_doc || cc_doc_decode(c->cfg, data, len, c->userdata_doc) < 0) {
		if (c->userdata_doc)
			cc_doc_done(c->userdata_doc);
		free(c->userdata_doc);
		c->userdata_doc = NULL;
		log_error_errno(-ENOMEM, "Out of memory.");
		return NULL;
	}
	return userdata_doc(c);
}

static int run_script(struct step_context *c, struct step_outcome *o, const char *data,
		      size_t len)
{
	struct script_result u = { .exit_status = -1 };
	int r;

	r = script_run_once(c->root, c->cfg, c->instance_id, UD_BASE, data, len, &u);
	if (u.ran) {
		c->report->userdata_ran = true;
		c->report->userdata_exit = u.exit_status;
	}
	if (r < 0)
		r = step_fail(o, r, "%s", u.message ? u.message : "the script failed");
	else
		r = step_set(o, STEP_CHANGED, "%s", u.message ? u.message : "script ran");
	free(u.message);
	return r;
}

/* A format cloud-init has a handler for and vagent does not run. */
static bool cloud_init_only(enum userdata_kind k)
{
	return k == USERDATA_INCLUDE || k == USERDATA_INCLUDE_ONCE || k == USERDATA_BOOTHOOK ||
	       k == USERDATA_PART_HANDLER || k == USERDATA_JSONP || k == USERDATA_ARCHIVE ||
	       k == USERDATA_JINJA;
}

static int apply(struct step_context *c, struct step_outcome *o, const char *data, size_t len,
		 bool ran_before)
{
	_cleanup_(cc_doc_done) struct cc_doc own = {};
	_cleanup_free_ char *m = NULL;
	const struct fetched *f = c->fetched;
	enum userdata_kind kind = userdata_detect(data, len);
	const struct cc_doc *doc = &own;
	struct cc_host host;
	bool cc = false;
	int r;

	if (kind == USERDATA_NONE)
		return step_set(o, STEP_UNCHANGED, "no user data");
	if (is_cc_kind(kind)) {
		/* The same bytes the other steps decoded this run: decode them once. */
		if (f->user_data_known && f->user_data_len == len &&
		    memcmp(f->user_data, data, len) == 0 && userdata_doc(c))
			doc = userdata_doc(c);
		else {
			r = cc_doc_decode(c->cfg, data, len, &own);
			if (r < 0)
				return step_fail(o, r, "out of memory");
		}
		if (doc->gzip && !doc->error)
			kind = doc->kind; /* what the gzip data is */
		cc = doc->error || kind == USERDATA_CLOUD_CONFIG || kind == USERDATA_MIME;
	}

	if (cloud_init_only(kind)) {
		/* Not "stored, not handled": cloud-init would act on it, so the user expects
		 * something to happen. */
		log_full_id(LOG_WARNING, MSGID_USERDATA,
			    "User data of instance '%s' is %s (%s, %zu bytes): cloud-init runs this "
			    "format, vagent does not; nothing of it is applied.",
			    c->instance_id, userdata_kind_prefix(kind), userdata_kind_mime_type(kind),
			    len);
		return step_fail(o, -EOPNOTSUPP, "%s user data (%s): a format vagent does not "
				 "run, nothing applied", userdata_kind_prefix(kind),
				 userdata_kind_mime_type(kind));
	}
	if (!cc && kind != USERDATA_SCRIPT) {
		if (!c->dry_run)
			log_full_id(LOG_WARNING, MSGID_USERDATA,
				    "User data of instance '%s' is %s (%zu bytes): not a format "
				    "cloud-init or vagent runs (#cloud-config, #!, MIME), ignoring.",
				    c->instance_id, userdata_kind_to_string(kind), len);
		return step_set(o, STEP_SKIPPED, "%s user data (%zu bytes): not #cloud-config, #! "
				"or MIME, not run", userdata_kind_to_string(kind), len);
	}
	if (!c->cfg->userdata_enabled) {
		if (cc) {
			r = cc_doc_report_ignored(doc, c->cfg, "[userdata] run = no", c->report);
			if (r < 0)
				return step_fail(o, r, "out of memory");
		}
		return step_set(o, STEP_SKIPPED, "%s %s, not run: [userdata] run = no",
				cc ? "cloud-config" : "script", c->dry_run ? "would be stored" :
				"stored");
	}
	if (!cc) {
		if (c->dry_run)
			return step_set(o, STEP_CHANGED, "would run the %zu-byte user-data script",
					len);
		return run_script(c, o, doc->plain ? doc->plain : data,
				  doc->plain ? doc->plain_len : len);
	}

	if (!c->dry_run && !ran_before) {
		r = state_instance_write(c->root, c->instance_id, UD_RAN, "", 0);
		if (r < 0)
			return step_fail(o, r, "cannot write the user-data stamp: %m");
	}
	host = userdata_host(c);
	r = cc_apply_instance(c->root, c->cfg, c->instance_id, doc, &host, c->dry_run, c->plan,
			      c->report, &m);
	if (r < 0)
		return step_fail(o, r, "%s", m ? m : "cloud-config failed");
	return step_set(o, r > 0 ? STEP_CHANGED : STEP_UNCHANGED, "%s", m ? m : "cloud-config");
}

/* A boot after the pass: the modules cloud-init runs every boot (final_message). */
static void every_boot(struct step_context *c, const char *data, size_t len)
{
	_cleanup_(cc_doc_done) struct cc_doc own = {};
	const struct fetched *f = c->fetched;
	const struct cc_doc *doc = &own;
	struct cc_host host = userdata_host(c);

	if (!c->cfg->userdata_enabled)
		return;
	if (f->user_data_known && f->user_data_len == len && memcmp(f->user_data, data, len) == 0 &&
	    userdata_doc(c))
		doc = userdata_doc(c);
	else if (cc_doc_decode(c->cfg, data, len, &own) < 0)
		return;
	if (cc_doc_has_config(doc))
		(void)cc_apply_always(c->root, c->cfg, c->instance_id, doc, &host, c->dry_run,
				      c->plan);
}

int step_userdata(struct step_context *c, struct step_outcome *o)
{
	_cleanup_free_ char *buf = NULL, *prev_exit = NULL;
	const struct fetched *f = c->fetched;
	const char *data = NULL;
	size_t len = 0;
	bool ran_before;
	int r;

	r = userdata_bytes(c, &buf, &data, &len);
	if (r < 0)
		return step_fail(o, r, "cannot read the stored user data: %m");
	/* The service answered but its user data could not be had (too large, 5xx past the
	 * deadline): that is this step failing, even when an earlier copy is there to use. */
	if (f->user_data_error && r == 0)
		return step_fail(o, -EIO, "user data not fetched (%s), nothing stored",
				 f->user_data_error);
	if (r == 0)
		return step_set(o, STEP_SKIPPED, "user data unknown (not fetched), nothing stored");

	ran_before = state_instance_has(c->root, c->instance_id, UD_RAN);
	if (ran_before) {
		enum userdata_kind kind = userdata_detect(data, len);

		if (!is_cc_kind(kind)) {
			if (state_instance_read(c->root, c->instance_id, UD_EXIT, 64, &prev_exit,
						NULL) >= 0)
				prev_exit[strcspn(prev_exit, "\n")] = 0;
			r = step_set(o, STEP_UNCHANGED, "script already ran for this instance (exit "
				     "status %s)", prev_exit ? prev_exit : "unknown");
		} else if (state_instance_has(c->root, c->instance_id, CC_STAMP_DONE)) {
			every_boot(c, data, len);
			r = step_set(o, STEP_UNCHANGED, "cloud-config already applied for this "
				     "instance");
		}
		else {
			/* A pass that did not finish (crash, reboot) resumes from the stored copy. */
			log_notice("The cloud-config pass of instance '%s' did not finish; resuming.",
				   c->instance_id);
			r = apply(c, o, data, len, true);
		}
	} else
		r = apply(c, o, data, len, false);

	if (r >= 0 && f->user_data_error)
		return step_fail(o, -EIO, "user data not fetched (%s); %s", f->user_data_error,
				 o->message ? o->message : "");
	return r;
}
