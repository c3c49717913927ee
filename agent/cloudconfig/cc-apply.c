/* SPDX-License-Identifier: MIT */
/*
 * cc-apply.c: cloud-config user data from bytes to effects. The user data is decoded once per
 * run (gunzip, MIME split, each cloud-config part parsed into a tree and merged into the earlier
 * ones with cloud-init's mergers, the result read once), then used three ways: bootcmd runs
 * every boot before the other steps; the hostname and ssh-keys steps take the hostname and keys
 * from it; the userdata step runs the per-instance pass here, in cloud-init's order (modules[]),
 * stamping each module in the instance state before it starts, and reports every top-level
 * key's status from key_fates[] (who applies it), the parser's problems and the modules' word. Commands
 * run from an argv (a string is "sh -c STRING"); their output goes to the journal and to a
 * 0600 log in the instance state. Only key names, paths, counts and positions are logged:
 * never the content of the user data.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "cloudconfig/cc-apply.h"
#include "cloudconfig/cc-archive.h"
#include "cloudconfig/cc-gzip.h"
#include "cloudconfig/cc-mime.h"
#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/process.h"
#include "base/script.h"
#include "base/authkeys.h"
#include "base/set.h"
#include "base/state.h"
#include "base/util.h"

#define CC_LOG "cloud-config.log"
#define NAMES_SHOWN 4

void cc_doc_done(struct cc_doc *d)
{
	free(d->plain);
	cc_node_free(d->tree);
	cloud_config_free(d->cc);
	free(d->merge_how);
	free(d->merge_error);
	for (size_t i = 0; i < d->n_scripts; i++)
		free(d->scripts[i].data);
	free(d->scripts);
	strv_free(d->ignored_parts);
	free(d->error_message);
	*d = (struct cc_doc){};
}

static int doc_fail(struct cc_doc *d, int error, const char *fmt, ...) _printf_(3, 4);
static int doc_fail(struct cc_doc *d, int error, const char *fmt, ...)
{
	va_list ap;
	int r;

	d->error = error;
	va_start(ap, fmt);
	r = message_setv(&d->error_message, 0, fmt, ap);
	va_end(ap);
	return r;
}

/* merge_how's list form: [{name: list, settings: [append]}, [dict, recurse_array], ...]. */
static int merge_from_list(struct cc_merge *m, const struct cc_node *l, char *why, size_t size)
{
	for (size_t i = 0; i < l->seq.n; i++) {
		const struct cc_node *e = l->seq.items[i], *name = NULL, *opts = NULL;
		_cleanup_strv_free_ char **o = NULL;
		_cleanup_free_ char *n = NULL;
		size_t first = 0;
		int r;

		if (e->type == CC_NODE_MAPPING) {
			name = cc_map_get(e, "name");
			opts = cc_map_get(e, "settings");
		} else if (e->type == CC_NODE_SEQUENCE && e->seq.n > 0) {
			name = e->seq.items[0];
			opts = e;
			first = 1;
		}
		if (!cc_scalar_str(name) || (opts && opts->type != CC_NODE_SEQUENCE)) {
			snprintf(why, size, "entry %zu is not {name: ..., settings: [...]} or "
				 "[name, option, ...]", i);
			return -EINVAL;
		}
		n = strdup(cc_scalar_str(name));
		if (!n)
			return -ENOMEM;
		for (char *c = n; *c; c++)
			*c = *c == '-' ? '_' : *c;
		for (size_t j = first; opts && j < opts->seq.n; j++) {
			const char *v = cc_scalar_str(opts->seq.items[j]);

			if (v && strv_push(&o, strdup(v)) < 0)
				return -ENOMEM;
		}
		r = cc_merge_add_one(m, n, o, why, size);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Parse one cloud-config text (part PART, 0 when not MIME) and merge its tree into D->tree with
 * its mergers (merge_how or merge_type in it, then MERGE_HEADER), cloud-init's default for
 * parts when it names none. WHERE prefixes errors ("part 2: ").
 */
static int doc_add_config(struct cc_doc *d, const char *text, size_t len, const char *where,
			  unsigned part, const char *merge_header)
{
	_cleanup_(cc_node_freep) struct cc_node *root = NULL, *how = NULL;
	struct cc_merge m = {};
	struct cc_error e;
	char why[160] = "", name[160];
	bool more = false, named = false;
	int r = 0;

	d->budget.part = part;
	r = cloud_config_load(text, len, &d->budget, &root, &more, &e);
	if (r >= 0 && more)
		r = cloud_config_more_documents_error(&e);
	if (r == -ENOMEM)
		return r;
	if (r == -EBADMSG && more)
		return doc_fail(d, r, "%sthe cloud-config holds %s", where, e.problem + 2);
	if (r == -EBADMSG)
		return doc_fail(d, r, "%sinvalid YAML at line %u, column %u: %s", where, e.line,
				e.column, e.problem);
	if (r < 0)
		return doc_fail(d, r, "%sthe cloud-config cannot be read: %s", where,
				r == -E2BIG ? e.problem : strerror(-r));
	d->n_configs++;
	if (root && cc_node_is_null(root))
		return 0;
	if (root && root->type != CC_NODE_MAPPING)
		return doc_fail(d, -EBADMSG, "%sthe cloud-config's top level is a %s, not a mapping",
				where, root->type == CC_NODE_SEQUENCE ? "list" : "scalar");
	if (!root)
		return 0;

	how = cc_map_take(root, "merge_how");
	if (!how)
		how = cc_map_take(root, "merge_type");
	if (how && !cc_node_is_null(how)) {
		named = true;
		if (how->type == CC_NODE_SEQUENCE)
			r = merge_from_list(&m, how, why, sizeof(why));
		else if (cc_scalar_str(how))
			r = cc_merge_add(&m, cc_scalar_str(how), why, sizeof(why));
		else {
			snprintf(why, sizeof(why), "merge_how must be a string or a list");
			r = -EINVAL;
		}
	}
	if (r >= 0 && merge_header && *merge_header) {
		named = true;
		r = cc_merge_add(&m, merge_header, why, sizeof(why));
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* cloud-init logs "Failed at merging in cloud config part" and goes on without it. */
		log_warning("User data %smerge_how/Merge-Type not understood (%s): as cloud-init "
			    "does, this cloud-config is left out.", where, why);
		free(d->merge_error);
		if (asprintf(&d->merge_error, "%snot understood (%s): that cloud-config was left "
			     "out, as cloud-init does", where, why) < 0)
			d->merge_error = NULL;
		return 0;
	}
	if (named) {
		if (!m.dict)
			log_warning("User data %smerge_how names no dict() merger: as in cloud-init, "
				    "its keys are not merged in, ignoring them.", where);
		free(d->merge_how);
		d->merge_how = strdup(cc_merge_name(&m, name, sizeof(name)));
		if (!d->merge_how)
			return -ENOMEM;
	} else
		cc_merge_default(&m);

	if (!d->tree) {
		/* cloud-init merges the first part into an empty mapping too. */
		r = cc_node_new_collection(&d->budget, CC_NODE_MAPPING, NULL, 1, 1, &d->tree);
		if (r == -ENOMEM)
			return r;
	}
	if (r >= 0)
		r = cc_node_merge(&d->budget, &d->tree, TAKE_PTR(root), &m);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return doc_fail(d, r, "%sthe cloud-config cannot be merged: %s", where,
				d->budget.why);
	if (d->tree->type == CC_NODE_MAPPING && d->tree->map.n > CC_MAX_KEYS)
		return doc_fail(d, -E2BIG, "%sthe parts together have more than %u top-level keys",
				where, CC_MAX_KEYS);
	return 0;
}

/* The merged tree read once into D->cc. */
static int doc_finish(struct cc_doc *d)
{
	struct cc_error e;
	int r;

	if (d->error || d->n_configs == 0)
		return 0;
	/* The tree is kept: cc_doc_merge() merges the vendor data's, the startup script's and
	 * the user data's trees and reads the result again. */
	r = cloud_config_from_tree(d->tree, &d->budget, &d->cc, &e);
	if (r == -ENOMEM)
		return r;
	if (r == -EBADMSG)
		return doc_fail(d, r, "invalid cloud-config at line %u, column %u: %s", e.line,
				e.column, e.problem);
	if (r < 0)
		return doc_fail(d, r, "the cloud-config cannot be read: %s",
				r == -E2BIG ? e.problem : strerror(-r));
	return 0;
}

static const char *gunzip_error(int r)
{
	if (r == -EFBIG)
		return "larger than max-userdata-size";
	if (r == -EDQUOT)
		return "the user data's gzip data together inflate beyond max-userdata-size";
	return strerror(-r);
}

static bool sniffable(const char *type)
{
	return streq(type, "") || streq(type, "text/plain") || streq(type, "text/x-not-multipart") ||
	       streq(type, "application/octet-stream") || streq(type, "application/x-gzip") ||
	       streq(type, "application/gzip");
}

/* A MIME type cloud-init acts on and vagent does not (NULL: neither does cloud-init). */
static const char *cloud_init_only(const char *type)
{
	static const char *const types[] = {
		"text/x-include-url",	      "text/x-include-once-url",
		"text/cloud-boothook",	      "text/part-handler",
		"text/cloud-config-jsonp",    "text/x-shellscript-per-boot",
		"text/x-shellscript-per-instance", "text/x-shellscript-per-once",
		"text/upstart-job",
	};
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (streq(type, types[i]))
			return types[i];
	return NULL;
}

/*
 * Render the "## template: jinja" DATA with D's variables into *RET (WHERE prefixes messages,
 * "" for the whole user data). A template vagent cannot render fails D: nothing of the user
 * data is applied, so no half-rendered script ever runs. The names it does not know are
 * warned about (names only: the text and the values are user data).
 */
static int doc_render(struct cc_doc *d, const struct config *cfg, const char *data, size_t len,
		      const char *where, char **ret, size_t *ret_len)
{
	struct cc_template t;
	int r;

	*ret = NULL;
	r = cc_template_render(data, len, d->vars, cfg->max_userdata_size, &t);
	if (r == -ENOMEM)
		return r;
	if (r == -EFBIG)
		return doc_fail(d, r, "%s## template: jinja: the rendered text is larger than "
				"max-userdata-size (%zu bytes); nothing of the user data is applied",
				where, cfg->max_userdata_size);
	if (r < 0)
		return doc_fail(d, r, "%s## template: jinja line %u: %s; nothing of the user data "
				"is applied", where, t.line, t.error);
	d->n_templates++;
	d->n_missing_vars += t.n_missing;
	if (t.n_missing)
		log_warning("User data %s## template: jinja: %zu variable%s vagent does not know "
			    "rendered as " CC_MISSING_JINJA_PREFIX "<name>, as cloud-init does: %s%s",
			    where, t.n_missing, t.n_missing == 1 ? "" : "s", t.missing,
			    strlen(t.missing) + 2 < sizeof(t.missing) ? "." : ", ...");
	*ret = t.text;
	*ret_len = t.len;
	return 0;
}

static int doc_add_part(struct cc_doc *d, const struct config *cfg, struct mime_part *p,
			size_t i);

/* The entries of the #cloud-config-archive DATA as parts (numbered from D->part_count on). */
static int doc_add_archive(struct cc_doc *d, const struct config *cfg, const char *data,
			   size_t len, const char *where)
{
	struct mime_part *parts = NULL;
	struct cc_error e = {};
	size_t n = 0;
	int r;

	r = cc_archive_split(data, len, &d->budget, &parts, &n, &e);
	if (r == -ENOMEM)
		return r;
	if (r == -EBADMSG)
		return doc_fail(d, r, "%s#cloud-config-archive: invalid YAML at line %u, column %u: "
				"%s", where, e.line, e.column, e.problem);
	if (r < 0)
		return doc_fail(d, r, "%s#cloud-config-archive cannot be read: %s", where,
				r == -E2BIG ? e.problem : strerror(-r));
	d->n_archive_entries += n;
	d->in_archive = true;
	for (size_t j = 0; j < n && d->error == 0 && r >= 0; j++) {
		size_t idx = ++d->part_count;

		if (parts[j].skipped) {
			char *note;

			/* cloud-init skips such an entry too (or fails on it). */
			if (asprintf(&note, "part %zu (archive entry %zu: %s)", idx, j + 1,
				     parts[j].skipped) < 0)
				r = -ENOMEM;
			else
				r = strv_push(&d->ignored_parts, note);
			continue;
		}
		r = doc_add_part(d, cfg, &parts[j], idx);
	}
	d->in_archive = false;
	mime_parts_free(parts, n);
	return r;
}

static int doc_add_part(struct cc_doc *d, const struct config *cfg, struct mime_part *p, size_t i)
{
	_cleanup_free_ char *plain = NULL, *where = NULL, *note = NULL, *rendered = NULL;
	const char *body = p->body, *type = p->type;
	size_t len = p->len;
	enum userdata_kind k;
	int r;

	if (asprintf(&where, "part %zu: ", i) < 0)
		return -ENOMEM;
	if (!p->decoded) {
		if (asprintf(&note, "part %zu (%s, transfer encoding not supported)", i,
			     p->type) < 0)
			return -ENOMEM;
		d->n_parts_not_run++;
		return strv_push(&d->ignored_parts, TAKE_PTR(note));
	}
	if (gzip_is(body, len)) {
		r = gunzip_capped(body, len, cfg->max_userdata_size, &d->gunzip_left, &plain, &len);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return doc_fail(d, r, "%sgzip data cannot be decompressed: %s", where,
					gunzip_error(r));
		body = plain;
		type = ""; /* cloud-init: the type of a decompressed part is found from its start */
	}
	k = userdata_detect(body, len);
	if (sniffable(type) || streq(type, "text/x-shellscript"))
		type = userdata_kind_mime_type(k) ?: type;
	if (streq(type, "text/jinja2") && !d->in_template) {
		/* cloud-init's jinja handler: render, then the sub-handler the result's
		 * prefix names (cloud-config, shell script). */
		d->in_template = true;
		r = doc_render(d, cfg, body, len, where, &rendered, &len);
		d->in_template = false;
		if (r < 0 || d->error)
			return r;
		body = rendered;
		k = userdata_detect(body, len);
		if (k != USERDATA_CLOUD_CONFIG && k != USERDATA_SCRIPT) {
			if (asprintf(&note, "part %zu (## template: jinja rendered to %s, which "
				     "cloud-init's jinja handler does not run either)", i,
				     userdata_kind_to_string(k)) < 0)
				return -ENOMEM;
			return strv_push(&d->ignored_parts, TAKE_PTR(note));
		}
		type = userdata_kind_mime_type(k);
	}
	if (streq(type, "text/cloud-config-archive") && !d->in_archive)
		return doc_add_archive(d, cfg, body, len, where); /* as _process_msg explodes it */
	if (streq(type, "text/cloud-config"))
		return doc_add_config(d, body, len, where, (unsigned)i, p->merge_type);
	if (streq(type, "text/x-shellscript")) {
		struct cc_script *n = reallocarray(d->scripts, d->n_scripts + 1, sizeof(*n));
		char *copy = malloc(len + 1);

		if (!n || !copy) {
			free(copy);
			if (n)
				d->scripts = n;
			return -ENOMEM;
		}
		memcpy(copy, body, len);
		copy[len] = 0;
		d->scripts = n;
		d->scripts[d->n_scripts++] = (struct cc_script){ .data = copy, .len = len, .index = i,
								 .origin = "user-data" };
		return 0;
	}
	if (cloud_init_only(type))
		d->n_parts_not_run++;
	if (asprintf(&note, "part %zu (%s)", i, *type ? type : "no type") < 0)
		return -ENOMEM;
	return strv_push(&d->ignored_parts, TAKE_PTR(note));
}

int cc_doc_decode(const struct config *cfg, const char *data, size_t len, struct cc_doc *d)
{
	return cc_doc_decode_vars(cfg, NULL, data, len, d);
}

static int doc_decode(const struct config *cfg, const struct cc_vars *vars, const char *data,
		      size_t len, struct cc_doc *d);

int cc_doc_decode_vars(const struct config *cfg, const struct cc_vars *vars, const char *data,
		       size_t len, struct cc_doc *d)
{
	int r;

	r = doc_decode(cfg, vars, data, len, d);
	d->vars = NULL;
	return r;
}

static int doc_decode(const struct config *cfg, const struct cc_vars *vars, const char *data,
		      size_t len, struct cc_doc *d)
{
	struct mime_part *parts = NULL;
	size_t n = 0;
	int r;

	*d = (struct cc_doc){ .kind = USERDATA_NONE, .gunzip_left = cfg->max_userdata_size,
			      .vars = vars };
	if (!data || len == 0)
		return 0;
	if (gzip_is(data, len)) {
		d->gzip = true;
		r = gunzip_capped(data, len, cfg->max_userdata_size, &d->gunzip_left, &d->plain,
				  &d->plain_len);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			d->kind = USERDATA_GZIP;
			return doc_fail(d, r, "gzip user data cannot be decompressed: %s",
					gunzip_error(r));
		}
		data = d->plain;
		len = d->plain_len;
	}
	cc_budget_init(&d->budget, len);
	d->kind = userdata_detect(data, len);
	if (d->kind == USERDATA_JINJA) {
		char *text;
		size_t text_len;

		/* Rendered first; then the rest is read as the rendered text (cloud-init's jinja
		 * handler passes it to the cloud-config or shell-script handler). */
		r = doc_render(d, cfg, data, len, "", &text, &text_len);
		if (r < 0 || d->error)
			return r;
		free(d->plain);
		d->plain = text;
		d->plain_len = text_len;
		d->rendered = true;
		data = d->plain;
		len = d->plain_len;
		cc_budget_init(&d->budget, len);
		d->kind = userdata_detect(data, len);
		if (d->kind != USERDATA_CLOUD_CONFIG && d->kind != USERDATA_SCRIPT &&
		    d->kind != USERDATA_NONE)
			return doc_fail(d, -EMEDIUMTYPE, "## template: jinja rendered to %s: vagent, "
					"as cloud-init's jinja handler, runs a template that renders "
					"to #cloud-config or #!", userdata_kind_to_string(d->kind));
	}
	if (d->kind == USERDATA_CLOUD_CONFIG) {
		r = doc_add_config(d, data, len, "", 0, NULL);
		return r < 0 ? r : doc_finish(d);
	}
	if (d->kind == USERDATA_ARCHIVE) {
		r = doc_add_archive(d, cfg, data, len, "");
		return r < 0 ? r : doc_finish(d);
	}
	if (d->kind != USERDATA_MIME)
		return 0;

	r = mime_split(data, len, &parts, &n);
	if (r == -ENOMEM)
		return r;
	if (r == -E2BIG)
		return doc_fail(d, r, "MIME user data has more than %u parts", MIME_MAX_PARTS);
	if (r < 0)
		return doc_fail(d, r, "MIME user data has no multipart boundary");
	d->part_count = n;
	for (size_t i = 0; i < n && d->error == 0; i++) {
		r = doc_add_part(d, cfg, &parts[i], i + 1);
		if (r < 0)
			break;
	}
	mime_parts_free(parts, n);
	if (r >= 0)
		r = doc_finish(d);
	return r < 0 ? r : 0;
}

int cc_doc_merge(struct cc_doc *dst, struct cc_doc *src)
{
	int r;

	if (src->tree && !dst->tree) {
		dst->tree = TAKE_PTR(src->tree);
		dst->budget = src->budget;
		cloud_config_free(dst->cc);
		dst->cc = TAKE_PTR(src->cc);
	} else if (src->tree) {
		/* SRC's tree over DST's with cloud-init's default mergers (dict(replace)+list()
		 * +str()): SRC's keys win, mappings are merged key by key. The result is read
		 * again, by the same key_defs[]; the budget is both documents' together. */
		struct cc_merge m = {};
		struct cc_error e;
		struct cc_budget b;

		cc_budget_init(&b, (dst->budget.bytes_max + src->budget.bytes_max) / 4);
		cc_merge_default(&m);
		r = cc_node_merge(&b, &dst->tree, TAKE_PTR(src->tree), &m);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return doc_fail(dst, r, "the vendor data and the user data cannot be merged: "
					"%s", b.why);
		cloud_config_free(dst->cc);
		dst->cc = NULL;
		r = cloud_config_from_tree(dst->tree, &b, &dst->cc, &e);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return doc_fail(dst, r, "the merged cloud-config cannot be read: %s",
					r == -E2BIG || r == -EBADMSG ? e.problem : strerror(-r));
		dst->budget = b;
	}
	/* The user data's (merged last) merge_how is what the report shows. */
	free(dst->merge_how);
	free(dst->merge_error);
	dst->merge_how = TAKE_PTR(src->merge_how);
	dst->merge_error = TAKE_PTR(src->merge_error);
	dst->n_parts_not_run += src->n_parts_not_run;
	dst->n_configs += src->n_configs;
	dst->n_templates += src->n_templates;
	dst->n_missing_vars += src->n_missing_vars;
	dst->n_archive_entries += src->n_archive_entries;
	if (src->n_scripts > 0) {
		struct cc_script *n = reallocarray(dst->scripts, dst->n_scripts + src->n_scripts,
						   sizeof(*n));

		if (!n)
			return -ENOMEM;
		memcpy(n + dst->n_scripts, src->scripts, src->n_scripts * sizeof(*n));
		dst->scripts = n;
		dst->n_scripts += src->n_scripts;
		free(src->scripts);
		src->scripts = NULL;
		src->n_scripts = 0;
	}
	for (size_t i = 0; src->ignored_parts && src->ignored_parts[i]; i++) {
		r = strv_push(&dst->ignored_parts, TAKE_PTR(src->ignored_parts[i]));
		if (r < 0)
			return r;
	}
	strv_free(src->ignored_parts);
	src->ignored_parts = NULL;
	return 0;
}

bool cc_doc_has_config(const struct cc_doc *d)
{
	return d && d->error == 0 && d->cc;
}

/* The first label of NAME in BUF (the part before the first dot). */
static const char *first_label(const char *name, char *buf, size_t size)
{
	size_t n = strcspn(name, ".");

	if (n >= size)
		n = size - 1;
	memcpy(buf, name, n);
	buf[n] = 0;
	return buf;
}

void cc_doc_hostname_info(const struct cc_doc *d, struct cc_hostname *h)
{
	const struct cloud_config *cc = cc_doc_has_config(d) ? d->cc : NULL;
	const char *hn, *fq;

	*h = (struct cc_hostname){ .manage_etc_hosts = true };
	if (!cc)
		return;
	h->preserve = cc->has[CC_PRESERVE_HOSTNAME] && cc->preserve_hostname;
	h->prefer_fqdn = cc->has[CC_PREFER_FQDN_OVER_HOSTNAME] && cc->prefer_fqdn_over_hostname;
	h->no_hostname_file = cc->has[CC_CREATE_HOSTNAME_FILE] && !cc->create_hostname_file;
	if (cc->has[CC_MANAGE_ETC_HOSTS])
		h->manage_etc_hosts = cc->manage_etc_hosts;

	/* cloud-init's util.get_hostname_fqdn: the hostname key wins for the short name; the fqdn
	 * is fqdn, or a hostname with a dot (its first label the short name). */
	hn = cc->has[CC_HOSTNAME] ? cc->hostname : NULL;
	fq = cc->has[CC_FQDN] ? cc->fqdn : NULL;
	if (fq) {
		h->fqdn = fq;
		h->hostname = hn ? hn : first_label(fq, h->label, sizeof(h->label));
	} else if (hn && strchr(hn, '.') && hn[0] != '.') {
		h->fqdn = hn;
		h->hostname = first_label(hn, h->label, sizeof(h->label));
	} else
		h->hostname = hn;
	if (fq && hostname_validate(fq, h->invalid_reason, sizeof(h->invalid_reason)) < 0)
		h->invalid_key = "fqdn";
	else if (hn && hostname_validate(hn, h->invalid_reason, sizeof(h->invalid_reason)) < 0)
		h->invalid_key = "hostname";
	else if (h->hostname &&
		 hostname_validate(h->hostname, h->invalid_reason, sizeof(h->invalid_reason)) < 0)
		h->invalid_key = fq ? "fqdn" : "hostname";
	if (h->invalid_key)
		h->hostname = h->fqdn = NULL;
}

/* The keys a cloud-config may add, all lists together, and the warnings about bad ones. */
#define CC_KEYS_MAX CC_MAX_ENTRIES
#define CC_KEY_WARNINGS_MAX 16

struct key_walk {
	struct strlist keys;
	struct strset seen;
	size_t invalid;
};

/* 0 go on, 1 full (CC_KEYS_MAX reached), <0 failed. */
static int push_valid_keys(struct key_walk *k, char *const *keys, const char *label)
{
	for (size_t i = 0; keys && keys[i]; i++) {
		const char *reason;
		char *copy;
		int r;

		if (sshkey_validate_flags(keys[i], SSHKEY_OPTIONS_OK, &reason) < 0) {
			if (k->invalid++ < CC_KEY_WARNINGS_MAX)
				log_warning("User-data cloud-config %s[%zu]: %s, ignoring.", label,
					    i, reason);
			continue;
		}
		if (strset_has_str(&k->seen, keys[i]))
			continue;
		if (k->keys.n >= CC_KEYS_MAX) {
			log_warning(
			    "cloud-config %s[%zu]: more than %u keys in all, ignoring it and "
			    "the rest.",
			    label, i, CC_KEYS_MAX);
			return 1;
		}
		copy = strdup(keys[i]);
		r = strlist_push(&k->keys, copy);
		if (r < 0)
			return r;
		r = strset_put_str(&k->seen, copy, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

bool cc_doc_makes_user(const struct cc_doc *d, const char *user)
{
	if (!cc_doc_has_config(d) || !d->cc->has[CC_USERS])
		return false;
	for (size_t i = 0; i < d->cc->n_users; i++)
		if (d->cc->users[i].is_default || streq(d->cc->users[i].name, user))
			return true;
	return false;
}

int cc_doc_ssh_keys(const struct cc_doc *d, const char *user, char ***ret)
{
	struct key_walk k = {};
	int r = 0;

	*ret = NULL;
	if (!cc_doc_has_config(d))
		return 0;
	if (d->cc->has[CC_SSH_AUTHORIZED_KEYS])
		r = push_valid_keys(&k, d->cc->ssh_authorized_keys, "ssh_authorized_keys");
	for (size_t i = 0; r == 0 && d->cc->has[CC_USERS] && i < d->cc->n_users; i++) {
		const struct cc_user *u = &d->cc->users[i];
		char label[64];

		if (!u->is_default && !streq(u->name, user))
			continue;
		snprintf(label, sizeof(label), "users[%zu].ssh_authorized_keys", i);
		r = push_valid_keys(&k, u->ssh_authorized_keys, label);
	}
	if (k.invalid > CC_KEY_WARNINGS_MAX)
		log_warning("cloud-config: %zu invalid keys in all, %zu more not shown, ignoring.",
			    k.invalid, k.invalid - CC_KEY_WARNINGS_MAX);
	strset_done(&k.seen);
	if (r < 0) {
		strlist_done(&k.keys);
		return r;
	}
	*ret = strlist_steal(&k.keys);
	return 0;
}

/* bootcmd or runcmd as one /bin/sh script (cloud-init's shellify), so cd, variables and export
 * carry over from one entry to the next; BASE.script in the instance state, output in
 * BASE.log. ONCE: stamped before it starts (runcmd), else every boot (bootcmd). */
static int run_shellified(const struct cc_run *c, enum cc_key key, const struct cc_command *cmds,
			  size_t n, bool once, char **ret_message)
{
	const char *name = cc_key_to_string(key);
	_cleanup_free_ char *script = NULL;
	struct script_result u = {};
	size_t len = 0;
	int r;

	if (c->dry_run) {
		cc_plan(c, "%-20s would run %zu command%s as one /bin/sh script", name, n,
			n == 1 ? "" : "s");
		return message_set(ret_message, 0, "would run %zu command%s as one script", n,
				   n == 1 ? "" : "s") ?: 1;
	}
	r = cc_shellify(cmds, n, &script, &len);
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	r = once ? script_run_once(c->root, c->cfg, c->id, name, script, len, &u)
		 : script_run(c->root, c->cfg, c->id, name, script, len, &u);
	if (ret_message) {
		free(*ret_message);
		*ret_message = TAKE_PTR(u.message);
	}
	free(u.message);
	if (r < 0)
		return r;
	return 1;
}

static bool package_name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return false; /* never an option: "-o..." */
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(".+-_:~=/", *s)))
			return false;
	return true;
}

static int run_packages(const struct cc_run *c, const struct cloud_config *cc)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	static char *const apt_env[] = { "DEBIAN_FRONTEND=noninteractive", NULL };
	static char *const update[] = { "apt-get", "-q", "-y", "update", NULL };
	static char *const upgrade[] = { "apt-get", "-q", "-y", "-o",
					 "Dpkg::Options::=--force-confold", "dist-upgrade", NULL };
	_cleanup_free_ char **install = NULL;
	size_t n = cc->has[CC_PACKAGES] ? strv_length(cc->packages) : 0, k = 0, bad = 0;
	/* cloud-init's _multi_cfg_bool_get(): the old apt_* spellings or'ed in */
	bool do_upgrade = (cc->has[CC_PACKAGE_UPGRADE] && cc->package_upgrade) ||
			  (cc->has[CC_APT_UPGRADE] && cc->apt_upgrade);
	bool do_update = (cc->has[CC_PACKAGE_UPDATE] && cc->package_update) ||
			 (cc->has[CC_APT_UPDATE] && cc->apt_update) || do_upgrade || n > 0;
	int r = 0;

	if (!do_update)
		return 0;
	if (!root_is_host(c->root)) {
		log_notice("cloud-config packages, package_update and package_upgrade: skipped "
			   "under --root.");
		cc_plan(c, "%-20s skipped under --root", "packages");
		return 2;
	}

	install = calloc(n + 8, sizeof(char *));
	if (!install)
		return log_error_errno(-ENOMEM, "Out of memory.");
	install[k++] = "apt-get";
	install[k++] = "-q";
	install[k++] = "-y";
	install[k++] = "-o";
	install[k++] = "Dpkg::Options::=--force-confold";
	install[k++] = "install";
	for (size_t i = 0; i < n; i++) {
		if (!package_name_ok(cc->packages[i])) {
			log_warning("cloud-config packages[%zu]: not a package name, ignoring.", i);
			bad++;
			continue;
		}
		install[k++] = cc->packages[i];
	}

	if (c->dry_run) {
		cc_plan(c, "%-20s would run apt-get update%s%s%zu package%s", "packages",
			do_upgrade ? ", apt-get dist-upgrade" : "", n - bad > 0 ? ", install " : "",
			n - bad, n - bad == 1 ? "" : "s");
		return 1;
	}
	if (cc_spawn(c, "apt-get update", update, apt_env) < 0)
		r = -EPROTO;
	if (do_upgrade && cc_spawn(c, "apt-get dist-upgrade", upgrade, apt_env) < 0)
		r = -EPROTO;
	if (n - bad > 0 && cc_spawn(c, "apt-get install", install, apt_env) < 0)
		r = -EPROTO;
	if (bad > 0)
		r = -EINVAL;
	return r < 0 ? r : 1;
}

int cc_bootcmd(const char *root, const struct config *cfg, const char *id,
	       const struct cc_doc *d, bool dry_run, char **ret_message)
{
	struct cc_run c = { .root = root, .cfg = cfg, .id = id, .dry_run = dry_run, .log_fd = -1 };
	size_t n;
	int r;

	if (d && d->error)
		return message_set(ret_message, 0, "user data not usable (see the userdata step)") ?: 2;
	if (!cc_doc_has_config(d))
		return message_set(ret_message, 0, "no cloud-config") ?: 2;
	if (d->cc->invalid[CC_BOOTCMD]) {
		log_warning("cloud-config 'bootcmd' has the wrong shape, not run.");
		return message_set(ret_message, 0, "bootcmd has the wrong shape, not run") ?: -EINVAL;
	}
	n = d->cc->n_bootcmd;
	if (!d->cc->has[CC_BOOTCMD] || n == 0)
		return message_set(ret_message, 0, "no bootcmd") ?: 2;
	if (!cfg->userdata_enabled)
		return message_set(ret_message, 0, "%zu command%s not run: [userdata] run = no", n,
			       n == 1 ? "" : "s") ?: 2;
	r = run_shellified(&c, CC_BOOTCMD, d->cc->bootcmd, n, false, ret_message);
	return r < 0 ? r : 1;
}

/* --- the per-instance pass ---------------------------------------------------------------------
 */

struct tally {
	bool failed[_CC_KEY_MAX];
	bool interrupted_key[_CC_KEY_MAX];
	bool packages_ran; /* package_reboot_if_required: packages ran this pass */
	size_t scripts, scripts_ran, scripts_failed;
	size_t commands, commands_failed; /* runcmd's entries, when its script ran */
	size_t files_ok, files_failed;
	char **interrupted; /* "runcmd", "MIME part 2": cut short before, not run again */
};

static void tally_done(struct tally *t)
{
	strv_free(t->interrupted);
}

/* Both write_files passes say their totals: some files not written is partial, none an error. */
static int files_pass(const struct cc_run *c, const struct cc_doc *d, struct tally *t,
		      bool deferred)
{
	int r = cc_write_files(c, d->cc, deferred, &t->files_ok, &t->files_failed);
	size_t all = t->files_ok + t->files_failed;

	if (t->files_failed > 0 && t->files_ok > 0)
		cc_key_set(c, CC_WRITE_FILES, KEY_PARTIAL, "%zu of %zu files %s", t->files_ok, all,
			   c->dry_run ? "would be written" : "written");
	else if (t->files_failed > 0)
		cc_key_set(c, CC_WRITE_FILES, KEY_ERROR, "none of %zu file%s %s", all,
			   all == 1 ? "" : "s", c->dry_run ? "could be written" : "written");
	return r;
}

static int mod_write_files(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	return files_pass(c, d, t, false);
}

static int mod_write_files_deferred(const struct cc_run *c, const struct cc_doc *d,
				    struct tally *t)
{
	return files_pass(c, d, t, true);
}

static int mod_mounts(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	int r = cc_mounts(c, d->cc);

	t->failed[CC_MOUNTS] |= r < 0 && d->cc->has[CC_MOUNTS];
	t->failed[CC_SWAP] |= r < 0 && d->cc->has[CC_SWAP];
	return r;
}

static int mod_users(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	int r = cc_users(c, d->cc);

	t->failed[CC_USERS] |= r < 0;
	return r;
}

static int mod_packages(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	static const enum cc_key keys[] = { CC_PACKAGES, CC_PACKAGE_UPDATE, CC_PACKAGE_UPGRADE };
	int r = run_packages(c, d->cc);

	t->packages_ran = r == 1 || r < 0;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		t->failed[keys[i]] |= r < 0;
		if (r == 2)
			cc_key_set(c, keys[i], KEY_IGNORED,
				   "not run under --root (apt-get would act on the host)");
	}
	return r == 2 ? 0 : r;
}

/* A system key's module (cc-modules.h): 2 is "a command that would act on this machine was
 * recorded, not run" (under --root); the files inside the root are written all the same, so
 * the key is applied to the image, and the reason says what was not run. */
static int system_key(const struct cc_run *c, struct tally *t, enum cc_key k,
		      int (*fn)(const struct cc_run *c, const struct cloud_config *cc),
		      const struct cloud_config *cc)
{
	int r = fn(c, cc);

	t->failed[k] |= r < 0;
	if (r == 2)
		cc_key_set(c, k, KEY_APPLIED, "%s inside the root; its command is recorded, not "
			   "run under --root (it would act on this machine)",
			   c->dry_run ? "would be written" : "written");
	return r == 2 ? 0 : r;
}

#define SYSTEM_MODULE(name, key)                                                                   \
	static int mod_##name(const struct cc_run *c, const struct cc_doc *d, struct tally *t)      \
	{                                                                                          \
		return system_key(c, t, key, cc_##name, d->cc);                                    \
	}
SYSTEM_MODULE(ca_certs, CC_CA_CERTS)
SYSTEM_MODULE(rsyslog, CC_RSYSLOG)
SYSTEM_MODULE(keyboard, CC_KEYBOARD)
SYSTEM_MODULE(locale, CC_LOCALE)
SYSTEM_MODULE(apt, CC_APT)
SYSTEM_MODULE(ntp, CC_NTP)
SYSTEM_MODULE(timezone, CC_TIMEZONE)
SYSTEM_MODULE(final_message, CC_FINAL_MESSAGE)
#undef SYSTEM_MODULE

/* power_state, or the reboot package_reboot_if_required asks for once packages ran. */
static int mod_power_state(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	static const enum cc_key keys[] = { CC_POWER_STATE, CC_PACKAGE_REBOOT_IF_REQUIRED };
	int r = cc_power_state(c, d->cc, t->packages_ran);

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!d->cc->has[keys[i]])
			continue;
		t->failed[keys[i]] |= r < 0;
		if (r == 2)
			cc_key_set(c, keys[i], KEY_IGNORED,
				   "not run under --root (shutdown would act on this machine)");
	}
	return r == 2 ? 0 : r;
}

/* The shell scripts of ORIGIN ("user-data", "vendor-data"), each once per instance (stamped
 * before it starts; one that started and never finished is reported as interrupted, never run
 * twice). */
static int run_scripts(const struct cc_run *c, const struct cc_doc *d, const char *origin,
		       struct tally *t)
{
	int r = 0;

	for (size_t i = 0; i < d->n_scripts; i++) {
		const struct cc_script *s = &d->scripts[i];
		struct script_result u = {};
		char base[64], stamp[80];
		int k;

		if (!streq(s->origin, origin))
			continue;
		t->scripts++;
		if (s->index)
			snprintf(base, sizeof(base), "%s.part-%zu", s->origin, s->index);
		else
			snprintf(base, sizeof(base), "%s", s->origin);
		if (c->dry_run) {
			if (s->index)
				cc_plan(c, "%-20s would run the shell script of MIME part %zu of the "
					"%s", "x-shellscript", s->index, s->origin);
			else
				cc_plan(c, "%-20s would run the %s script", "x-shellscript",
					s->origin);
			continue;
		}
		snprintf(stamp, sizeof(stamp), "%s.ran", base);
		if (state_instance_has(c->root, c->id, stamp)) {
			char exit_stamp[80], what[64];

			/* Started before: finished (its exit status is kept) or cut short. */
			snprintf(exit_stamp, sizeof(exit_stamp), "%s.exit", base);
			if (state_instance_has(c->root, c->id, exit_stamp))
				continue;
			if (s->index && streq(s->origin, "user-data"))
				snprintf(what, sizeof(what), "MIME part %zu", s->index);
			else if (s->index)
				snprintf(what, sizeof(what), "%s MIME part %zu", s->origin, s->index);
			else
				snprintf(what, sizeof(what), "the %s script", s->origin);
			if (strv_push(&t->interrupted, strdup(what)) < 0)
				return -ENOMEM;
			r = -EINTR;
			continue;
		}
		k = script_run_once(c->root, c->cfg, c->id, base, s->data, s->len, &u);
		if (u.ran)
			t->scripts_ran++;
		if (k < 0) {
			t->scripts_failed++;
			r = k;
		}
		free(u.message);
	}
	return r < 0 ? r : t->scripts_ran > 0;
}

static int mod_scripts(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	return run_scripts(c, d, "user-data", t);
}

static int mod_vendor_scripts(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	return run_scripts(c, d, "vendor-data", t);
}

/* chpasswd, or the top-level password for the [ssh] user (cc-passwords.c). */
static int mod_passwords(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	int r = cc_passwords(c, d->cc);

	if (r < 0) {
		t->failed[CC_CHPASSWD] |= d->cc->has[CC_CHPASSWD];
		t->failed[CC_PASSWORD] |= !d->cc->has[CC_CHPASSWD] && d->cc->has[CC_PASSWORD];
	}
	if (d->cc->has[CC_CHPASSWD] && d->cc->has[CC_PASSWORD] && d->cc->n_chpasswd > 0)
		cc_key_set(c, CC_PASSWORD, KEY_IGNORED, "chpasswd names the passwords (cloud-init's "
			   "rule)");
	return r;
}

static int mod_ssh_pwauth(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	int r = cc_ssh_pwauth(c, d->cc);

	t->failed[CC_SSH_PWAUTH] |= r < 0;
	if (r >= 0 && d->cc->ssh_pwauth == CC_PWAUTH_UNCHANGED)
		cc_key_set(c, CC_SSH_PWAUTH, KEY_APPLIED, "unchanged: sshd left alone");
	return r;
}

static int mod_runcmd(const struct cc_run *c, const struct cc_doc *d, struct tally *t)
{
	_cleanup_free_ char *m = NULL;
	int r = run_shellified(c, CC_RUNCMD, d->cc->runcmd, d->cc->n_runcmd, true, &m);

	t->failed[CC_RUNCMD] |= r < 0;
	if (r != 0) {
		t->commands = d->cc->n_runcmd;
		t->commands_failed = r < 0;
	}
	cc_key_set(c, CC_RUNCMD, r < 0 ? KEY_ERROR : KEY_APPLIED, "%s", m ? m : "");
	return r;
}

/*
 * The per-instance modules, in cloud-init's order (config/cloud.cfg.tmpl: write_files, mounts
 * and users_groups in its init stage, packages and write_files_deferred in its final stage,
 * then scripts_user: the shell-script parts and runcmd). Each is stamped in the instance state
 * (cloud-config.NAME; NAME.started when it began). RESUMES: it may run again after a pass was
 * cut short (it checks what it did before); commands never run twice.
 */
enum cc_mod {
	MOD_NONE,
	MOD_WRITE_FILES,
	MOD_MOUNTS,
	MOD_CA_CERTS,
	MOD_RSYSLOG,
	MOD_USERS,
	/* cloud-init's config stage */
	MOD_KEYBOARD,
	MOD_LOCALE,
	MOD_PASSWORDS, /* set_passwords: chpasswd, password, ssh_pwauth */
	MOD_SSH_PWAUTH,
	MOD_APT,
	MOD_NTP,
	MOD_TIMEZONE,
	/* its final stage */
	MOD_PACKAGES,
	MOD_WRITE_FILES_DEFERRED,
	MOD_VENDOR_SCRIPTS, /* the vendor-scripts step's phase (scripts_vendor) */
	MOD_SCRIPTS,        /* the user-scripts step's phase (scripts_user), with runcmd */
	MOD_RUNCMD,
	MOD_FINAL_MESSAGE,
	MOD_POWER_STATE,
	_MOD_MAX,
};

static const struct module_def {
	const char *stamp; /* NULL: the module stamps each of its items itself */
	bool resumes;
	int (*run)(const struct cc_run *c, const struct cc_doc *d, struct tally *t);
	enum cc_key key; /* runs only when the cloud-config has this key (_CC_KEY_MAX: always) */
	enum cc_phase phase; /* the step that runs it (cc-apply.h) */
} modules[_MOD_MAX] = {
	[MOD_WRITE_FILES] = { "cloud-config.write_files", true, mod_write_files, CC_WRITE_FILES },
	[MOD_MOUNTS] = { "cloud-config.mounts", true, mod_mounts, CC_MOUNTS },
	[MOD_CA_CERTS] = { "cloud-config.ca_certs", true, mod_ca_certs, CC_CA_CERTS },
	[MOD_RSYSLOG] = { "cloud-config.rsyslog", true, mod_rsyslog, CC_RSYSLOG },
	[MOD_USERS] = { "cloud-config.users", true, mod_users, CC_USERS },
	[MOD_KEYBOARD] = { "cloud-config.keyboard", true, mod_keyboard, CC_KEYBOARD },
	[MOD_LOCALE] = { "cloud-config.locale", true, mod_locale, CC_LOCALE },
	[MOD_PASSWORDS] = { "cloud-config.passwords", true, mod_passwords, _CC_KEY_MAX },
	[MOD_SSH_PWAUTH] = { "cloud-config.ssh_pwauth", true, mod_ssh_pwauth, CC_SSH_PWAUTH },
	[MOD_APT] = { "cloud-config.apt", true, mod_apt, CC_APT },
	[MOD_NTP] = { "cloud-config.ntp", true, mod_ntp, CC_NTP },
	[MOD_TIMEZONE] = { "cloud-config.timezone", true, mod_timezone, CC_TIMEZONE },
	[MOD_PACKAGES] = { "cloud-config.packages", true, mod_packages, _CC_KEY_MAX },
	[MOD_WRITE_FILES_DEFERRED] = { "cloud-config.write_files_deferred", true,
				       mod_write_files_deferred, CC_WRITE_FILES },
	[MOD_VENDOR_SCRIPTS] = { NULL, false, mod_vendor_scripts, _CC_KEY_MAX,
				 CC_PHASE_VENDOR_SCRIPTS },
	[MOD_SCRIPTS] = { NULL, false, mod_scripts, _CC_KEY_MAX, CC_PHASE_USER_SCRIPTS },
	[MOD_RUNCMD] = { "cloud-config.runcmd", false, mod_runcmd, CC_RUNCMD,
			 CC_PHASE_USER_SCRIPTS },
	/* every boot (cc_apply_always() on the boots after the first): no stamp */
	[MOD_FINAL_MESSAGE] = { NULL, true, mod_final_message, CC_FINAL_MESSAGE },
	/* never twice: no reboot loop; it looks at both of its keys itself */
	[MOD_POWER_STATE] = { "cloud-config.power_state", false, mod_power_state, _CC_KEY_MAX },
};

/*
 * Who applies each key vagent knows, one row per key: a module of this pass (MODULE), another
 * step (STEP: its name), or nobody (IGNORED: why). The status of a key follows from its row,
 * what the parser found (invalid, partial) and what its module reported (cc_key_set()).
 */
static const struct key_fate {
	enum cc_mod module;
	const char *step;
	const char *ignored;
} key_fates[_CC_KEY_MAX] = {
	[CC_HOSTNAME] = { .step = "hostname" },
	[CC_FQDN] = { .step = "hostname" },
	[CC_PRESERVE_HOSTNAME] = { .step = "hostname" },
	[CC_PREFER_FQDN_OVER_HOSTNAME] = { .step = "hostname" },
	[CC_MANAGE_ETC_HOSTS] = { .step = "hostname" },
	[CC_CREATE_HOSTNAME_FILE] = { .step = "hostname" },
	[CC_SSH_AUTHORIZED_KEYS] = { .step = "ssh-keys" },
	[CC_USERS] = { MOD_USERS },
	[CC_WRITE_FILES] = { MOD_WRITE_FILES },
	[CC_BOOTCMD] = { .step = "bootcmd" },
	[CC_RUNCMD] = { MOD_RUNCMD },
	[CC_PACKAGES] = { MOD_PACKAGES },
	[CC_PACKAGE_UPDATE] = { MOD_PACKAGES },
	[CC_PACKAGE_UPGRADE] = { MOD_PACKAGES },
	[CC_MOUNTS] = { MOD_MOUNTS },
	[CC_MOUNT_DEFAULT_FIELDS] = { MOD_MOUNTS },
	[CC_SWAP] = { MOD_MOUNTS },
	[CC_SSH_DELETEKEYS] = { .step = "host-keys" },
	[CC_SSH_GENKEYTYPES] = { .step = "host-keys" },
	[CC_SSH_KEYS] = { .step = "host-keys" },
	[CC_VENDOR_DATA] = { .step = "userdata" },
	[CC_CHPASSWD] = { MOD_PASSWORDS },
	[CC_PASSWORD] = { MOD_PASSWORDS },
	[CC_SSH_PWAUTH] = { MOD_SSH_PWAUTH },
	[CC_DISABLE_ROOT] = { .step = "ssh-keys" },
	[CC_DISK_SETUP] = { .ignored = "never executed: the storage step partitions, formats and "
				       "mounts blank volumes under its blank-only rule" },
	[CC_FS_SETUP] = { .ignored = "never executed: the storage step partitions, formats and "
				     "mounts blank volumes under its blank-only rule" },
	[CC_RESIZE_ROOTFS] = { .ignored = "not read: the grow-root step grows / at every boot, "
					  "before the user data arrives ([grow] root = no, or "
					  "/etc/growroot-disabled, turns it off)" },
	[CC_GROWPART] = { .ignored = "not read: the grow-root step grows / at every boot, before "
				     "the user data arrives ([grow] root = no, or "
				     "/etc/growroot-disabled, turns it off)" },
	[CC_TIMEZONE] = { MOD_TIMEZONE },
	[CC_LOCALE] = { MOD_LOCALE },
	[CC_KEYBOARD] = { MOD_KEYBOARD },
	[CC_NTP] = { MOD_NTP },
	[CC_APT] = { MOD_APT },
	[CC_CA_CERTS] = { MOD_CA_CERTS },
	[CC_RSYSLOG] = { MOD_RSYSLOG },
	[CC_PACKAGE_REBOOT_IF_REQUIRED] = { MOD_POWER_STATE },
	[CC_POWER_STATE] = { MOD_POWER_STATE },
	[CC_FINAL_MESSAGE] = { MOD_FINAL_MESSAGE },
	[CC_CA_CERTS_DASHED] = { MOD_CA_CERTS },
	[CC_APT_UPDATE] = { MOD_PACKAGES },
	[CC_APT_UPGRADE] = { MOD_PACKAGES },
	[CC_APT_REBOOT_IF_REQUIRED] = { MOD_POWER_STATE },
};

/* cloud-init's deprecated spellings: the key each stands for, the version that deprecated it
 * (its schema), and whether cloud-init ignores it when the new key is given too (ca-certs; the
 * apt_* ones are or'ed with theirs). Its status is the new key's, with "deprecated". */
static const struct alias {
	enum cc_key key, target;
	const char *since;
	bool ignored_beside_target;
} aliases[] = {
	{ CC_CA_CERTS_DASHED, CC_CA_CERTS, "22.1", true },
	{ CC_APT_UPDATE, CC_PACKAGE_UPDATE, "22.2", false },
	{ CC_APT_UPGRADE, CC_PACKAGE_UPGRADE, "22.2", false },
	{ CC_APT_REBOOT_IF_REQUIRED, CC_PACKAGE_REBOOT_IF_REQUIRED, "22.2", false },
};

static const struct alias *alias_of(enum cc_key k)
{
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (aliases[i].key == k)
			return &aliases[i];
	return NULL;
}

/* REASON with the parser's first problem for K and how many more there were. */
static int with_why(const struct cloud_config *cc, enum cc_key k, const char *reason, char **ret)
{
	const char *why = cc->why[k];
	unsigned more = cc->n_why[k] > 1 ? cc->n_why[k] - 1 : 0;
	char tail[48] = "";

	if (more)
		snprintf(tail, sizeof(tail), "; %u more problem%s in the log", more,
			 more == 1 ? "" : "s");
	if (asprintf(ret, "%s%s%s%s", reason ? reason : "", reason && why ? "; " : "",
		     why ? why : "", tail) < 0)
		return -ENOMEM;
	return 0;
}

/* The status of known key K once the pass is over (or planned). */
static int key_status(const struct cc_run *c, const struct cc_doc *d, const struct tally *t,
		      enum cc_key k, enum key_status *ret, char **ret_reason)
{
	const struct cloud_config *cc = d->cc;
	const struct key_fate *f = &key_fates[k];
	const struct cc_key_state *st = &c->keys[k];
	const char *step = f->step;
	_cleanup_free_ char *base = NULL;

	*ret_reason = NULL;
	if (cc->invalid[k]) {
		*ret = KEY_ERROR;
		return with_why(cc, k, "not applied", ret_reason);
	}
	if (alias_of(k)) {
		const struct alias *al = alias_of(k);
		const char *target = cc_key_to_string(al->target);
		_cleanup_free_ char *tr = NULL;
		int r;

		if (al->ignored_beside_target && (cc->has[al->target] || cc->invalid[al->target])) {
			*ret = KEY_IGNORED;
			return message_set(ret_reason, 0, "'%s' is given too: as cloud-init does, "
					   "the deprecated '%s' is ignored", target,
					   cc_key_to_string(k));
		}
		/* the same module applied it: the new key's status (and its own problems) */
		r = key_status(c, d, t, al->target, ret, &tr);
		if (r >= 0 && cc->partial[k] && *ret == KEY_APPLIED) {
			*ret = KEY_PARTIAL;
			free(tr);
			tr = NULL;
			r = with_why(cc, k, NULL, &tr);
		}
		if (r < 0)
			return r;
		return message_set(ret_reason, 0, "%s%sdeprecated since cloud-init %s: use '%s'",
				   tr && *tr ? tr : "", tr && *tr ? "; " : "", al->since, target);
	}
	if (f->ignored) {
		*ret = KEY_IGNORED;
		return message_set(ret_reason, 0, "%s", f->ignored);
	}
	if (st->set) {
		*ret = st->status;
		if (*ret == KEY_APPLIED && cc->partial[k])
			*ret = KEY_PARTIAL;
		return *ret == KEY_PARTIAL ? with_why(cc, k, st->reason, ret_reason) :
					     message_set(ret_reason, 0, "%s", st->reason ?: "");
	}
	if (t->interrupted_key[k]) {
		*ret = KEY_ERROR;
		return message_set(ret_reason, 0, "cut short by an earlier boot; not run again");
	}
	if (t->failed[k]) {
		*ret = KEY_ERROR;
		return with_why(cc, k, "failed (the journal says why)", ret_reason);
	}
	if (k == CC_HOSTNAME || k == CC_FQDN) {
		struct cc_hostname h;

		cc_doc_hostname_info(d, &h);
		if (h.preserve) {
			*ret = KEY_IGNORED;
			return message_set(ret_reason, 0, "preserve_hostname is true");
		}
		if (h.invalid_key && streq(h.invalid_key, cc_key_to_string(k))) {
			*ret = KEY_ERROR;
			return message_set(ret_reason, 0, "not a valid hostname (%s): the hostname "
					   "step uses the metadata's name", h.invalid_reason);
		}
	}
	if (k == CC_DISABLE_ROOT && cc->disable_root && streq(c->cfg->ssh_user, "root")) {
		*ret = KEY_IGNORED;
		return message_set(ret_reason, 0, "root is the [ssh] user: disabling it would lock "
				   "root out");
	}
	if (k == CC_SSH_AUTHORIZED_KEYS) {
		/* The ssh-keys step left out the keys that are not keys (it said which). */
		size_t all = strv_length(cc->ssh_authorized_keys), bad = 0;
		const char *why = NULL, *reason;

		for (size_t i = 0; i < all; i++)
			if (sshkey_validate_flags(cc->ssh_authorized_keys[i], SSHKEY_OPTIONS_OK,
						  &reason) < 0 && bad++ == 0)
				why = reason;
		if (bad > 0) {
			*ret = bad == all ? KEY_ERROR : KEY_PARTIAL;
			return message_set(ret_reason, 0, "%zu of %zu keys refused by the ssh-keys "
					   "step (%s)", bad, all, why);
		}
	}
	/* runcmd: the user-scripts step runs it after this one (cloud-init's scripts_user). */
	if (!step && f->module != MOD_NONE && modules[f->module].phase == CC_PHASE_USER_SCRIPTS)
		step = "user-scripts";
	if (step && asprintf(&base, "%s by the %s step", c->dry_run ? "would be applied" :
			     "applied", step) < 0)
		return -ENOMEM;
	*ret = cc->partial[k] ? KEY_PARTIAL : KEY_APPLIED;
	if (cc->partial[k])
		return with_why(cc, k, base, ret_reason);
	return message_set(ret_reason, 0, "%s", base ?: "");
}

/* Every top-level key, in document order, into REPORT (and the plan), with the counts. */
struct counts {
	size_t n[4];
	char **names[4];
};

static void counts_done(struct counts *n)
{
	for (size_t i = 0; i < ARRAY_SIZE(n->names); i++)
		strv_free(n->names[i]);
}

static int report_key(struct boot_report *report, struct counts *n,
		      const char *key, enum key_status st, const char *reason)
{
	int r = 0;

	n->n[st]++;
	if (st != KEY_APPLIED)
		r = strv_push(&n->names[st], strdup(key));
	if (r >= 0 && report)
		r = boot_report_add_key(report, key, st, reason && *reason ? reason : NULL);
	return r;
}

static int report_keys(const struct cc_run *c, const struct cc_doc *d, const struct tally *t,
		       const char *all_ignored, struct boot_report *report, struct counts *n)
{
	const struct cloud_config *cc = d->cc;
	int r = 0;

	if (report)
		boot_report_clear_keys(report);
	if (d->merge_how || d->merge_error)
		r = report_key(report, n, "merge_how", d->merge_error ? KEY_ERROR : KEY_APPLIED,
			       d->merge_error ?: d->merge_how);
	for (size_t i = 0; cc && r >= 0 && i < cc->n_top; i++) {
		_cleanup_free_ char *reason = NULL;
		enum key_status st;

		if (all_ignored) {
			st = KEY_IGNORED;
			r = message_set(&reason, 0, "%s", all_ignored);
		} else if (cc->top[i].key == _CC_KEY_MAX) {
			st = KEY_IGNORED;
			r = message_set(&reason, 0, "not supported by vagent");
		} else
			r = key_status(c, d, t, cc->top[i].key, &st, &reason);
		if (r >= 0)
			r = report_key(report, n, cc->top[i].name, st, reason);
	}
	return r;
}

int cc_doc_report_ignored(const struct cc_doc *d, const struct config *cfg, const char *why,
			  struct boot_report *report)
{
	struct cc_key_state keys[_CC_KEY_MAX] = {};
	struct cc_run c = { .cfg = cfg, .keys = keys };
	struct tally t = {};
	struct counts n = {};
	int r;

	if (!cc_doc_has_config(d))
		return 0;
	r = report_keys(&c, d, &t, why, report, &n);
	counts_done(&n);
	return r;
}

/* "a, b, c, d, ..." */
static void append_names(FILE *f, char *const *names, size_t n)
{
	for (size_t i = 0; i < n && i < NAMES_SHOWN; i++)
		fprintf(f, "%s%s", i ? ", " : "", names[i]);
	if (n > NAMES_SHOWN)
		fputs(", ...", f);
}

static int summary(const struct cc_doc *d, const struct tally *t, const struct counts *n,
		   bool dry_run, char **ret)
{
	static const char *const words[] = {
		[KEY_APPLIED] = "applied",
		[KEY_PARTIAL] = "partly applied",
		[KEY_IGNORED] = "ignored",
		[KEY_ERROR] = "failed",
	};
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "cloud-config: %s%zu key%s%s", dry_run ? "would apply " : "", n->n[KEY_APPLIED],
		n->n[KEY_APPLIED] == 1 ? "" : "s", dry_run ? "" : " applied");
	static const enum key_status order[] = { KEY_ERROR, KEY_PARTIAL, KEY_IGNORED };

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		enum key_status s = order[i];

		if (!n->n[s])
			continue;
		fprintf(f, ", %zu %s (", n->n[s], words[s]);
		append_names(f, n->names[s], n->n[s]);
		fputc(')', f);
	}
	if (t->interrupted) {
		fprintf(f, ", %zu interrupted by an earlier boot and not run again (",
			strv_length(t->interrupted));
		append_names(f, t->interrupted, strv_length(t->interrupted));
		fputc(')', f);
	}
	if (d->ignored_parts) {
		size_t k = strv_length(d->ignored_parts);

		fprintf(f, ", %zu MIME part%s not run (", k, k == 1 ? "" : "s");
		append_names(f, d->ignored_parts, k);
		fputc(')', f);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	free(*ret);
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The scripts phases: "2 scripts ran, with failures; runcmd: 3 commands ran". */
static int scripts_summary(const struct cc_doc *d, enum cc_phase phase, const struct tally *t,
			   bool dry_run, char **ret)
{
	const struct cloud_config *cc = d->cc;
	size_t n_cmd = phase == CC_PHASE_USER_SCRIPTS && cc && cc->has[CC_RUNCMD] ? cc->n_runcmd : 0;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (t->scripts == 0 && n_cmd == 0)
		return message_set(ret, 0, "no %s scripts%s", phase == CC_PHASE_VENDOR_SCRIPTS ?
				   "vendor-data" : "user-data", phase == CC_PHASE_USER_SCRIPTS ?
				   " and no runcmd" : "");
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	if (t->scripts)
		fprintf(f, "%zu %s script%s %s%s", t->scripts, phase == CC_PHASE_VENDOR_SCRIPTS ?
			"vendor-data" : "user-data", t->scripts == 1 ? "" : "s",
			dry_run ? "to run" : t->scripts_ran == 0 ? "already ran" : "ran",
			t->scripts_failed ? ", with failures" : "");
	if (n_cmd)
		fprintf(f, "%sruncmd: %zu command%s %s", t->scripts ? "; " : "", n_cmd,
			n_cmd == 1 ? "" : "s", dry_run ? "to run" : t->commands == 0 ? "already ran" :
			t->commands_failed ? "ran with failures" : "ran");
	if (t->interrupted) {
		fprintf(f, "; %zu interrupted by an earlier boot and not run again (",
			strv_length(t->interrupted));
		append_names(f, t->interrupted, strv_length(t->interrupted));
		fputc(')', f);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	free(*ret);
	*ret = TAKE_PTR(buf);
	return 0;
}

static void report_ignored(const struct cc_run *c, const struct cc_doc *d)
{
	const struct cloud_config *cc = d->cc;

	for (size_t i = 0; cc && cc->unknown && cc->unknown[i]; i++)
		log_warning("cloud-config key '%s' is not supported by vagent, ignoring.",
			    cc->unknown[i]);
	for (size_t i = 0; cc && i < ARRAY_SIZE(aliases); i++) {
		const struct alias *al = &aliases[i];

		if (!cc->has[al->key] && !cc->invalid[al->key])
			continue;
		log_warning("cloud-config key '%s' is deprecated since cloud-init %s: use '%s'.",
			    cc_key_to_string(al->key), al->since, cc_key_to_string(al->target));
		if (al->ignored_beside_target && (cc->has[al->target] || cc->invalid[al->target]))
			log_warning("cloud-config: both '%s' (deprecated) and '%s' given: '%s' is "
				    "ignored, as cloud-init does.", cc_key_to_string(al->key),
				    cc_key_to_string(al->target), cc_key_to_string(al->key));
	}
	for (size_t k = 0; cc && k < _CC_KEY_MAX; k++)
		if (key_fates[k].ignored && (cc->has[k] || cc->invalid[k]))
			log_warning("cloud-config '%s' is %s, ignoring.",
				    cc_key_to_string((enum cc_key)k), key_fates[k].ignored);
	for (size_t i = 0; cc && cc->problems && cc->problems[i]; i++) {
		log_warning("cloud-config %s, ignoring.", cc->problems[i]);
		cc_plan(c, "%-20s problem: %s", "", cc->problems[i]);
	}
	for (size_t i = 0; d->ignored_parts && d->ignored_parts[i]; i++) {
		log_warning("User data MIME %s: not run by vagent, ignoring.", d->ignored_parts[i]);
		cc_plan(c, "%-20s ignored: MIME %s", "", d->ignored_parts[i]);
	}
}

/* Plan lines for the keys other steps apply, so the dry run shows the whole picture. */
static void plan_other_steps(const struct cc_run *c, const struct cloud_config *cc)
{
	if (!cc)
		return;
	if (cc->has[CC_PRESERVE_HOSTNAME] && cc->preserve_hostname)
		cc_plan(c, "%-20s the hostname step leaves the hostname alone", "preserve_hostname");
	else if (cc->has[CC_FQDN] || cc->has[CC_HOSTNAME])
		cc_plan(c, "%-20s the hostname step applies it (policy %s)",
			cc->has[CC_FQDN] ? "fqdn" : "hostname",
			c->cfg->hostname_policy == HOSTNAME_FIRST_BOOT ? "first-boot" :
			c->cfg->hostname_policy == HOSTNAME_EVERY_BOOT ? "every-boot" :
									  "never");
	if (cc->has[CC_SSH_AUTHORIZED_KEYS])
		cc_plan(c, "%-20s %zu key%s added to '%s' by the ssh-keys step",
			"ssh_authorized_keys", strv_length(cc->ssh_authorized_keys),
			strv_length(cc->ssh_authorized_keys) == 1 ? "" : "s", c->cfg->ssh_user);
	if (cc->has[CC_SSH_DELETEKEYS] || cc->has[CC_SSH_GENKEYTYPES])
		cc_plan(c, "%-20s read by the host-keys step on the instance's first boot",
			cc->has[CC_SSH_DELETEKEYS] ? "ssh_deletekeys" : "ssh_genkeytypes");
	if (cc->has[CC_BOOTCMD])
		cc_plan(c, "%-20s %zu command%s, every boot, by the bootcmd step", "bootcmd",
			cc->n_bootcmd, cc->n_bootcmd == 1 ? "" : "s");
}

static bool module_wanted(const struct cc_doc *d, enum cc_mod m)
{
	enum cc_key k = modules[m].key;

	if (m == MOD_SCRIPTS || m == MOD_VENDOR_SCRIPTS) {
		const char *origin = m == MOD_SCRIPTS ? "user-data" : "vendor-data";

		for (size_t i = 0; i < d->n_scripts; i++)
			if (streq(d->scripts[i].origin, origin))
				return true;
		return false;
	}
	if (!d->cc)
		return false;
	if (m == MOD_CA_CERTS) /* cloud-init: cfg.get("ca_certs", cfg.get("ca-certs")) */
		return d->cc->has[CC_CA_CERTS] ||
		       (d->cc->has[CC_CA_CERTS_DASHED] && !d->cc->invalid[CC_CA_CERTS]);
	if (m == MOD_MOUNTS) /* cloud-init's cc_mounts: mounts, swap, their defaults */
		return d->cc->has[CC_MOUNTS] || d->cc->has[CC_SWAP] ||
		       d->cc->has[CC_MOUNT_DEFAULT_FIELDS];
	return k == _CC_KEY_MAX || d->cc->has[k];
}

int cc_apply_always(const char *root, const struct config *cfg, const char *id,
		    const struct cc_doc *d, const struct cc_host *host, bool dry_run, FILE *plan)
{
	struct cc_run c = { .root = root,
			    .cfg = cfg,
			    .id = id,
			    .dry_run = dry_run,
			    .plan = dry_run ? plan : NULL,
			    .log_fd = -1,
			    .host = host };
	struct cc_key_state keys[_CC_KEY_MAX] = {};
	struct tally t = {};
	int r;

	if (d->error || !d->cc || !d->cc->has[CC_FINAL_MESSAGE])
		return 0;
	c.keys = keys;
	r = mod_final_message(&c, d, &t);
	tally_done(&t);
	for (size_t i = 0; i < _CC_KEY_MAX; i++)
		free(keys[i].reason);
	return r;
}

/* A scripts phase's stamp, written when it has run for the instance. */
static const char *const phase_done[] = {
	[CC_PHASE_CONFIG] = CC_STAMP_DONE,
	[CC_PHASE_VENDOR_SCRIPTS] = "vendor-scripts.done",
	[CC_PHASE_USER_SCRIPTS] = "user-scripts.done",
};

int cc_apply_instance(const char *root, const struct config *cfg, const char *id,
		      const struct cc_doc *d, const struct cc_host *host, enum cc_phase phase,
		      bool dry_run, FILE *plan, struct boot_report *report, char **ret_message)
{
	_cleanup_close_ int dfd = -1, logfd = -1;
	size_t files_left = cfg->max_userdata_size;
	struct cc_key_state keys[_CC_KEY_MAX] = {};
	struct cc_run c = { .root = root,
			    .cfg = cfg,
			    .id = id,
			    .dry_run = dry_run,
			    .plan = dry_run ? plan : NULL,
			    .log_fd = -1,
			    .files_left = &files_left,
			    .host = host,
			    .keys = keys };
	_cleanup_(tally_done) struct tally t = {};
	_cleanup_(counts_done) struct counts n = {};
	bool failed = false, did = false;
	int r;

	if (d->error) {
		log_error("User data of instance '%s' is not usable: %s.", id, d->error_message);
		return message_set(ret_message, 0, "%s", d->error_message) ?: -EBADMSG;
	}

	/* A scripts phase that finished (or was reported as cut short) is done for the
	 * instance: what was interrupted is said once, not at every boot. */
	if (phase != CC_PHASE_CONFIG && state_instance_has(root, id, phase_done[phase]))
		return message_set(ret_message, 0, "%s already ran for this instance",
				   phase == CC_PHASE_VENDOR_SCRIPTS ? "the vendor-data scripts" :
				   "the user-data scripts and runcmd") ?: 0;
	if (c.plan && phase == CC_PHASE_CONFIG)
		fprintf(c.plan, "cloud-config plan for instance '%s' (dry run):\n", id);
	if (!dry_run) {
		dfd = state_instance_open(root, id, true);
		if (dfd < 0)
			return log_error_errno(dfd, "Failed to open the state of instance '%s': %m",
					       id);
		logfd = openat(dfd, CC_LOG, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
			       0600);
		if (logfd < 0)
			log_warning_errno(errno, "Failed to open '%s': %m, ignoring.", CC_LOG);
		c.log_fd = logfd;
	}
	if (phase == CC_PHASE_CONFIG) {
		report_ignored(&c, d);
		plan_other_steps(&c, d->cc);
	}

	for (size_t m = MOD_NONE + 1; m < _MOD_MAX; m++) {
		const char *stamp = modules[m].stamp;
		char started[80];

		if (modules[m].phase != phase || !module_wanted(d, (enum cc_mod)m))
			continue;
		/* STAMP: the module finished for this instance. STAMP.started: it began; without
		 * STAMP the pass was cut short there. */
		if (stamp && state_instance_has(root, id, stamp))
			continue;
		if (stamp)
			snprintf(started, sizeof(started), "%s.started", stamp);
		if (stamp && !modules[m].resumes && state_instance_has(root, id, started)) {
			log_warning("cloud-config: '%s' of instance '%s' was cut short by an earlier "
				    "boot; it is not run twice. To run it again: rm %s/%s/%s && vagent "
				    "userdata", stamp + strlen("cloud-config."), id, STATE_INSTANCES, id,
				    started);
			if (strv_push(&t.interrupted, strdup(stamp + strlen("cloud-config."))) < 0)
				return log_error_errno(-ENOMEM, "Out of memory.");
			if (modules[m].key < _CC_KEY_MAX)
				t.interrupted_key[modules[m].key] = true;
			failed = true;
			continue;
		}
		if (stamp && !dry_run) {
			/* Before it starts: a command list cut short is never run twice. */
			r = write_file_atomic_at(dfd, started, "", 0, 0600, (uid_t)-1, (gid_t)-1);
			if (r < 0)
				return log_error_errno(r, "Failed to write the stamp '%s': %m", started);
		}
		r = modules[m].run(&c, d, &t);
		if (r == -ENOMEM)
			return log_error_errno(r, "Out of memory.");
		if (r < 0)
			failed = true;
		else if (r > 0)
			did = true;
		if (stamp && !dry_run) {
			int k = write_file_atomic_at(dfd, stamp, "", 0, 0600, (uid_t)-1, (gid_t)-1);
			if (k < 0)
				return log_error_errno(k, "Failed to write the stamp '%s': %m", stamp);
		}
	}
	if (phase != CC_PHASE_CONFIG) {
		if (!dry_run) {
			r = write_file_atomic_at(dfd, phase_done[phase], "", 0, 0600, (uid_t)-1,
						 (gid_t)-1);
			if (r < 0)
				log_warning_errno(r, "Failed to write the stamp '%s': %m, ignoring.",
						  phase_done[phase]);
		}
		r = scripts_summary(d, phase, &t, dry_run, ret_message);
		if (r >= 0 && report && d->cc && keys[CC_RUNCMD].set) {
			/* runcmd ran here: its status in the report is now what it did */
			_cleanup_free_ char *reason = NULL;
			enum key_status st;

			r = key_status(&c, d, &t, CC_RUNCMD, &st, &reason);
			if (r >= 0)
				r = boot_report_add_key(report, "runcmd", st,
							reason && *reason ? reason : NULL);
		}
		for (size_t i = 0; i < _CC_KEY_MAX; i++)
			free(keys[i].reason);
		if (r < 0)
			return log_error_errno(r, "Out of memory.");
		return failed ? -EPROTO : did || (dry_run && (t.scripts || t.commands));
	}
	if (d->cc)
		for (size_t i = 0; i < _CC_KEY_MAX; i++)
			failed = failed || d->cc->invalid[i];
	failed = failed || d->merge_error || d->n_parts_not_run > 0;

	if (!dry_run) {
		r = write_file_atomic_at(dfd, CC_STAMP_DONE, "", 0, 0600, (uid_t)-1, (gid_t)-1);
		if (r < 0)
			log_warning_errno(r, "Failed to write the stamp '%s': %m, ignoring.",
					  CC_STAMP_DONE);
	}
	r = report_keys(&c, d, &t, NULL, report, &n);
	if (r >= 0)
		r = summary(d, &t, &n, dry_run, ret_message);
	for (size_t i = 0; i < _CC_KEY_MAX; i++)
		free(keys[i].reason);
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	if (failed || n.n[KEY_ERROR] > 0)
		return -EPROTO;
	/* the scripts are the vendor-scripts and user-scripts steps' */
	return did || (d->cc && d->cc->n_top > 0) ? 1 : 0;
}
