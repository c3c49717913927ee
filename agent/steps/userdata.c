/* SPDX-License-Identifier: MIT */
/*
 * userdata.c: the user-data step. The user data is secret: it is stored (0600) in the
 * instance's state directory by the metadata step and never logged; only its kind and size
 * are. It runs once per instance, from the stored copy: a "#!" script through base/script.h
 * (stamped before it starts, so a crash never runs it twice), cloud-config (plain, gzip,
 * MIME or #cloud-config-archive) through cloudconfig/cc-apply.h, each module stamped so an
 * interrupted pass resumes; "## template: jinja" is rendered first with the instance's
 * variables (template_vars()). Other formats are stored and reported as not handled. A user data that changes after it
 * ran is noted, never run again.
 */
#include <ctype.h>

#include "base/log.h"
#include "base/script.h"
#include "base/state.h"
#include "base/util.h"
#include "cloudconfig/cc-apply.h"
#include "metadata/fetch.h"
#include "metadata/http.h"
#include "metadata/json.h"
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
		.public_keys = c->md ? c->md->public_keys : NULL,
	};
}

static bool is_cc_kind(enum userdata_kind k)
{
	return k == USERDATA_CLOUD_CONFIG || k == USERDATA_MIME || k == USERDATA_GZIP ||
	       k == USERDATA_ARCHIVE;
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

/* The vendor data decoded as user data is, its scripts named "vendor-data"; NULL-safe. A
 * vendor data that is not usable is left out (it must not hold up the user's). */
static int vendor_doc(struct step_context *c, const struct cc_vars *vars, struct cc_doc *v)
{
	const struct metadata *md = c->md;
	int r;

	*v = (struct cc_doc){ .kind = USERDATA_NONE };
	if (!md || !md->has_vendor_data)
		return 0;
	r = cc_doc_decode_vars(c->cfg, vars, md->vendor_data, md->vendor_data_len, v);
	if (r < 0)
		return r;
	if (v->error) {
		log_warning("The vendor data of instance '%s' is not usable (%s), ignoring it.",
			    c->instance_id, v->error_message);
		cc_doc_done(v);
		*v = (struct cc_doc){ .kind = USERDATA_NONE };
		return 0;
	}
	for (size_t i = 0; i < v->n_scripts; i++)
		v->scripts[i].origin = "vendor-data";
	if (v->kind == USERDATA_SCRIPT) {
		/* A whole "#!" vendor data: one script (gunzipped when it was gzip). */
		const char *data = v->plain ? v->plain : md->vendor_data;
		size_t len = v->plain ? v->plain_len : md->vendor_data_len;
		char *copy = malloc(len + 1);

		v->scripts = reallocarray(v->scripts, v->n_scripts + 1, sizeof(*v->scripts));
		if (!copy || !v->scripts) {
			free(copy);
			return -ENOMEM;
		}
		memcpy(copy, data, len);
		copy[len] = 0;
		v->scripts[v->n_scripts++] = (struct cc_script){ .data = copy, .len = len,
								 .origin = "vendor-data" };
	} else if (v->kind != USERDATA_CLOUD_CONFIG && v->kind != USERDATA_MIME &&
		   v->kind != USERDATA_ARCHIVE && v->kind != USERDATA_NONE)
		log_notice("The vendor data of instance '%s' is %s: not handled, ignoring it.",
			   c->instance_id, userdata_kind_to_string(v->kind));
	return 0;
}

/* A "#cloud-config" startup script is cloud-config between the vendor's and the user's. */
static int startup_doc(struct step_context *c, struct cc_doc *s)
{
	const struct metadata *md = c->md;

	*s = (struct cc_doc){ .kind = USERDATA_NONE };
	if (!md || !md->has_startup_script ||
	    userdata_detect(md->startup_script, md->startup_script_len) != USERDATA_CLOUD_CONFIG)
		return 0;
	return cc_doc_decode(c->cfg, md->startup_script, md->startup_script_len, s);
}

/* ds.meta_data.KEY: the document's top-level scalars (cc-template.h struct cc_vars). */
static int meta_data_lookup(void *userdata, const char *key, char **ret)
{
	const struct fetched *f = userdata;

	if (!f || !f->doc)
		return -ENOENT;
	return metadata_top_scalar(f->doc, f->doc_len, key, ret);
}

/* The instance's jinja variables as cloud-init's Vultr datasource makes them
 * (sources/helpers/vultr.py, sources/__init__.py "v1"): REGION is the buffer for the lowercased
 * country code, else region code. */
static void template_vars(struct step_context *c, struct cc_vars *v, char *region, size_t size)
{
	const struct metadata *md = c->md;
	const char *rc = md ? (md->country_code ? md->country_code : md->region_code) : NULL;

	*v = (struct cc_vars){ .cloud_name = "vultr", .platform = "vultr",
			       .meta_data = meta_data_lookup, .userdata = (void *)c->fetched };
	if (!md)
		return;
	v->instance_id = md->instance_id;
	v->local_hostname = md->hostname && *md->hostname ? md->hostname : "guest";
	if (rc) {
		size_t i;

		for (i = 0; rc[i] && i + 1 < size; i++)
			region[i] = (char)tolower((unsigned char)rc[i]);
		region[i] = 0;
		v->region = region;
	}
}

static size_t kept_keys(const struct cloud_config *base, const struct cloud_config *over)
{
	size_t n = 0;

	for (size_t i = 0; base && i < _CC_KEY_MAX; i++)
		n += (base->has[i] || base->invalid[i]) &&
		     !(over && (over->has[i] || over->invalid[i]));
	return n;
}

/* vendor ⊕ startup-script cloud-config ⊕ user data, into C->userdata_doc. */
static int merged_doc(struct step_context *c, const char *data, size_t len)
{
	_cleanup_(cc_doc_done) struct cc_doc u = {}, v = {}, st = {};
	struct cc_doc *m = c->userdata_doc;
	struct cc_vars vars;
	char region[64];
	bool vendor_on;
	int r;

	template_vars(c, &vars, region, sizeof(region));
	r = cc_doc_decode_vars(c->cfg, &vars, data, len, &u);
	if (r < 0)
		return r;
	if (u.error) {
		/* The user data may say vendor_data: {enabled: false}; unreadable, it is taken
		 * as saying so: nothing of the vendor's runs on a guess. */
		if (c->md && c->md->has_vendor_data)
			log_warning("The user data of instance '%s' is not usable: the vendor data "
				    "is not applied either.", c->instance_id);
		*m = u;
		u = (struct cc_doc){};
		return 0;
	}
	/* Only the user data decides (vendor data cannot re-enable itself). */
	vendor_on = !(cc_doc_has_config(&u) && u.cc->has[CC_VENDOR_DATA] &&
		      !u.cc->vendor_data_enabled);
	*m = (struct cc_doc){ .kind = USERDATA_NONE };
	if (vendor_on) {
		r = vendor_doc(c, &vars, &v);
		if (r >= 0)
			r = cc_doc_merge(m, &v);
	} else
		m->vendor_disabled = c->md && c->md->has_vendor_data;
	if (r >= 0)
		r = startup_doc(c, &st);
	if (r >= 0 && st.error)
		log_warning("The #cloud-config startup script of instance '%s' is not usable (%s), "
			    "ignoring it.", c->instance_id, st.error_message);
	else if (r >= 0)
		r = cc_doc_merge(m, &st);
	if (r < 0)
		return r;
	m->vendor_keys = vendor_on ? kept_keys(m->cc, u.cc) : 0;
	r = cc_doc_merge(m, &u);
	if (r < 0)
		return r;
	/* The rest describes the user data itself (what the userdata steps run). */
	m->kind = u.kind;
	m->gzip = u.gzip;
	m->rendered = u.rendered;
	m->plain = TAKE_PTR(u.plain);
	m->plain_len = u.plain_len;
	return 0;
}

const struct cc_doc *userdata_doc(struct step_context *c)
{
	_cleanup_free_ char *stored = NULL;
	const struct fetched *f = c->fetched;
	const struct cc_doc *d = c->userdata_doc;
	const char *data = NULL;
	size_t len = 0;

	if (c->userdata_doc_ready)
		return d && (d->kind != USERDATA_NONE || d->error || d->cc || d->n_scripts ||
			     d->vendor_disabled) ? d : NULL;
	c->userdata_doc_ready = true;
	if (!c->instance_id || !c->cfg->userdata_enabled)
		return NULL;
	/* The hostname and keys follow this boot's user data; the stored copy when it could not
	 * be fetched. Without either nothing is known (not even whether the user data turns the
	 * vendor data off): no document. */
	if (f->user_data_known) {
		data = f->user_data;
		len = f->user_data_len;
	} else if (state_instance_read(c->root, c->instance_id, USERDATA_STORED,
				       c->cfg->max_userdata_size, &stored, &len) >= 0)
		data = stored;
	else
		return NULL;
	c->userdata_doc = calloc(1, sizeof(*c->userdata_doc));
	if (!c->userdata_doc || merged_doc(c, data, len) < 0) {
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
	       k == USERDATA_PART_HANDLER || k == USERDATA_JSONP;
}

/* The user data's bytes for a userdata-stage step, or the outcome that ends it (1: go on). */
static int stage_bytes(struct step_context *c, struct step_outcome *o, char **buf,
		       const char **data, size_t *len)
{
	const struct fetched *f = c->fetched;
	int r;

	r = userdata_bytes(c, buf, data, len);
	if (r < 0)
		return step_fail(o, r, "cannot read the stored user data: %m");
	/* The service answered but its user data could not be had (too large, 5xx past the
	 * deadline): that is this step failing, even when an earlier copy is there to use. */
	if (f->user_data_error && r == 0)
		return step_fail(o, -EIO, "user data not fetched (%s), nothing stored",
				 f->user_data_error);
	if (r == 0) {
		r = step_set(o, STEP_SKIPPED, "user data unknown (not fetched), nothing stored");
		return r < 0 ? r : 0;
	}
	return 1;
}

/* " (vendor data: 3 keys)" and the like, after a cloud-config message. */
static const char *vendor_note(const struct cc_doc *d, char *buf, size_t size)
{
	size_t l;

	buf[0] = 0;
	if (d && d->vendor_disabled)
		snprintf(buf, size, " (vendor data disabled by the user data)");
	else if (d && d->vendor_keys)
		snprintf(buf, size, " (%zu from the vendor data)", d->vendor_keys);
	/* How the user data was read, when it was not plain cloud-config or MIME. */
	l = strlen(buf);
	if (d && d->n_archive_entries && l < size)
		l += (size_t)snprintf(buf + l, size - l, " (#cloud-config-archive: %zu entr%s)",
				      d->n_archive_entries, d->n_archive_entries == 1 ? "y" : "ies");
	if (d && d->n_templates && d->n_missing_vars && l < size)
		snprintf(buf + l, size - l, " (## template: jinja rendered, %zu unknown variable%s)",
			 d->n_missing_vars, d->n_missing_vars == 1 ? "" : "s");
	else if (d && d->n_templates && l < size)
		snprintf(buf + l, size - l, " (## template: jinja rendered)");
	return buf;
}

/* The cloud-config modules of the merged document: vendor data ⊕ a #cloud-config startup
 * script ⊕ the user data (write_files, users, passwords, ssh_pwauth, mounts, packages,
 * deferred write_files). The scripts are the later steps'. */
int step_userdata(struct step_context *c, struct step_outcome *o)
{
	_cleanup_free_ char *buf = NULL, *m = NULL;
	const struct fetched *f = c->fetched;
	const struct cc_doc *doc;
	struct cc_host host;
	const char *data = NULL;
	enum userdata_kind kind;
	size_t len = 0;
	char note[192];
	int r;

	r = stage_bytes(c, o, &buf, &data, &len);
	if (r <= 0)
		return r;
	kind = userdata_detect(data, len);
	doc = userdata_doc(c);
	if (doc && ((doc->gzip && doc->kind != USERDATA_NONE) || doc->rendered))
		kind = doc->kind; /* what the gzip data is */
	if (kind == USERDATA_NONE && !(c->md && c->md->has_vendor_data) &&
	    !(doc && (doc->cc || doc->n_scripts)))
		return step_set(o, STEP_UNCHANGED, "no user data");
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
	if (!c->cfg->userdata_enabled) {
		if (doc && (doc->error || doc->cc)) {
			r = cc_doc_report_ignored(doc, c->cfg, "[userdata] run = no", c->report);
			if (r < 0)
				return step_fail(o, r, "out of memory");
		}
		return step_set(o, STEP_SKIPPED, "%s %s, not run: [userdata] run = no",
				kind == USERDATA_NONE ? "no user data" :
				userdata_kind_to_string(kind), c->dry_run ? "would be stored" : "stored");
	}
	if (doc && doc->error) {
		host = userdata_host(c);
		r = cc_apply_instance(c->root, c->cfg, c->instance_id, doc, &host, CC_PHASE_CONFIG,
				      c->dry_run, c->plan, c->report, &m);
		return step_fail(o, r < 0 ? r : -EBADMSG, "%s", m ? m : "user data not usable");
	}
	if (!is_cc_kind(kind) && kind != USERDATA_SCRIPT && kind != USERDATA_NONE && !c->dry_run)
		log_full_id(LOG_WARNING, MSGID_USERDATA,
			    "User data of instance '%s' is %s (%zu bytes): not a format "
			    "cloud-init or vagent runs (#cloud-config, #!, MIME), ignoring.",
			    c->instance_id, userdata_kind_to_string(kind), len);
	if (!cc_doc_has_config(doc)) {
		if (!is_cc_kind(kind) && kind != USERDATA_SCRIPT && kind != USERDATA_NONE)
			return step_set(o, STEP_SKIPPED, "%s user data (%zu bytes): not "
					"#cloud-config, #! or MIME, not run",
					userdata_kind_to_string(kind), len);
		return step_set(o, STEP_SKIPPED, "%s%s", kind == USERDATA_NONE ? "no user data" :
				"no cloud-config", vendor_note(doc, note, sizeof(note)));
	}
	if (state_instance_has(c->root, c->instance_id, CC_STAMP_DONE)) {
		/* A boot after the pass: the modules cloud-init runs every boot (final_message). */
		host = userdata_host(c);
		(void)cc_apply_always(c->root, c->cfg, c->instance_id, doc, &host, c->dry_run,
				      c->plan);
		return step_set(o, STEP_UNCHANGED, "cloud-config already applied for this instance");
	}
	if (is_cc_kind(kind) && state_instance_has(c->root, c->instance_id, UD_RAN))
		/* A pass that did not finish (crash, reboot) resumes: its modules are stamped. */
		log_notice("The cloud-config pass of instance '%s' did not finish; resuming.",
			   c->instance_id);
	else if (is_cc_kind(kind) && !c->dry_run) {
		r = state_instance_write(c->root, c->instance_id, UD_RAN, "", 0);
		if (r < 0)
			return step_fail(o, r, "cannot write the user-data stamp: %m");
	}
	host = userdata_host(c);
	r = cc_apply_instance(c->root, c->cfg, c->instance_id, doc, &host, CC_PHASE_CONFIG,
			      c->dry_run, c->plan, c->report, &m);
	vendor_note(doc, note, sizeof(note));
	if (r < 0)
		return step_fail(o, r, "%s%s", m ? m : "cloud-config failed", note);
	if (f->user_data_error)
		return step_fail(o, -EIO, "user data not fetched (%s); %s", f->user_data_error,
				 m ? m : "");
	return step_set(o, r > 0 ? STEP_CHANGED : STEP_UNCHANGED, "%s%s", m ? m : "cloud-config",
			note);
}

/* The user's scripts, after the vendor's, the startup script and the script directories: the
 * shell-script parts of a MIME user data, runcmd, or the whole "#!" user data, each once per
 * instance (cloud-init's scripts_user). */
int step_user_scripts(struct step_context *c, struct step_outcome *o)
{
	_cleanup_free_ char *buf = NULL, *m = NULL, *prev_exit = NULL;
	const struct cc_doc *doc;
	struct cc_host host;
	const char *data = NULL;
	enum userdata_kind kind;
	size_t len = 0;
	int r;

	r = stage_bytes(c, o, &buf, &data, &len);
	if (r <= 0)
		return r;
	if (!c->cfg->userdata_enabled)
		return step_set(o, STEP_SKIPPED, "not run: [userdata] run = no");
	kind = userdata_detect(data, len);
	doc = userdata_doc(c);
	if (doc && doc->error)
		return step_set(o, STEP_SKIPPED, "user data not usable (see the userdata step)");
	if (doc && ((doc->gzip && doc->kind != USERDATA_NONE) || doc->rendered))
		kind = doc->kind; /* what the gzip data is: a compressed "#!" script runs */

	if (kind == USERDATA_SCRIPT) {
		const char *script = doc && doc->plain ? doc->plain : data;
		size_t script_len = doc && doc->plain ? doc->plain_len : len;

		if (state_instance_has(c->root, c->instance_id, UD_RAN)) {
			if (state_instance_read(c->root, c->instance_id, UD_EXIT, 64, &prev_exit,
						NULL) >= 0)
				prev_exit[strcspn(prev_exit, "\n")] = 0;
			return step_set(o, STEP_UNCHANGED, "script already ran for this instance "
					"(exit status %s)", prev_exit ? prev_exit : "unknown");
		}
		if (c->dry_run)
			return step_set(o, STEP_CHANGED, "would run the %zu-byte user-data script",
					script_len);
		return run_script(c, o, script, script_len);
	}
	if (!doc || (!cc_doc_has_config(doc) && doc->n_scripts == 0))
		return step_set(o, STEP_SKIPPED, "%s", kind == USERDATA_NONE ? "no user data" :
				"no user-data scripts and no runcmd");
	host = userdata_host(c);
	r = cc_apply_instance(c->root, c->cfg, c->instance_id, doc, &host, CC_PHASE_USER_SCRIPTS,
			      c->dry_run, c->plan, c->report, &m);
	if (r < 0)
		return step_fail(o, r, "%s", m ? m : "user-data scripts failed");
	return step_set(o, r > 0 ? STEP_CHANGED : m && startswith(m, "no ") ? STEP_SKIPPED :
			STEP_UNCHANGED, "%s", m ? m : "");
}
