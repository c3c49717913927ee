/* SPDX-License-Identifier: MIT */
/*
 * json.c: the only json-c user. It turns the metadata document (v1.json) into struct metadata,
 * validating every field the steps use and naming the field (never its value) when one is wrong;
 * renders the document for `vagent metadata [KEY]` with the secrets redacted; and converts the
 * boot and volume reports to JSON and back. json-c objects never leave this file: values are
 * copied into plain C strings before the tree is released, and values borrowed from
 * json_object_object_get_ex() are never put.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "metadata/json.h"

#define PRINT_FLAGS                                                                                \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

static const char *const secret_fields[] = { "user-data", "vendor-data", "startup-script" };

static void json_object_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}

static void json_tokener_freep(struct json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}

#define _cleanup_json_ _cleanup_(json_object_putp)
#define _cleanup_tokener_ _cleanup_(json_tokener_freep)

/*
 * Store a formatted message in *ERROR (when ERROR is not NULL) and return -EBADMSG, or -ENOMEM
 * when the message cannot be allocated. Callers pass field names and fixed reasons only, never
 * a value from the document.
 */
_printf_(2, 3) static int bad(char **error, const char *format, ...)
{
	va_list ap;
	char *s;
	int n;

	if (!error)
		return -EBADMSG;

	va_start(ap, format);
	n = vsnprintf(NULL, 0, format, ap);
	va_end(ap);
	if (n < 0)
		return -EBADMSG;
	s = malloc((size_t)n + 1);
	if (!s)
		return -ENOMEM;
	va_start(ap, format);
	vsnprintf(s, (size_t)n + 1, format, ap);
	va_end(ap);

	free(*error);
	*error = s;
	return -EBADMSG;
}

/* A JSON null is a NULL json_object, for which json_object_get_type() returns json_type_null. */
static const char *type_name(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_int:
	case json_type_double:
		return "number";
	case json_type_object:
		return "object";
	case json_type_array:
		return "array";
	case json_type_string:
		return "string";
	}
	return "unknown";
}

static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

static char *memdup_nul(const char *s, size_t n)
{
	char *c = malloc(n + 1);

	if (!c)
		return NULL;
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

/* Append S to the NULL-terminated list *L holding *N entries; takes S (freed on failure). */
static int strv_append(char ***l, size_t *n, char *s)
{
	char **t;

	t = reallocarray(*l, *n + 2, sizeof(char *));
	if (!t) {
		free(s);
		return -ENOMEM;
	}
	t[(*n)++] = s;
	t[*n] = NULL;
	*l = t;
	return 0;
}

/*
 * Parse LEN bytes of JSON text strictly: one value, nothing but whitespace after it, no NUL byte,
 * no comments or trailing commas, at most JSON_MAX_DEPTH levels. The value must be an object.
 */
static int parse_text(const char *buf, size_t len, struct json_object **ret, char **error)
{
	_cleanup_tokener_ struct json_tokener *tok = NULL;
	_cleanup_json_ struct json_object *root = NULL;
	enum json_tokener_error e;
	const char *nul;
	size_t end;

	if (len == 0)
		return bad(error, "document: empty");
	nul = memchr(buf, '\0', len);
	if (nul)
		return bad(error, "document: contains a NUL byte at offset %zu",
			   (size_t)(nul - buf));
	if (len > INT_MAX)
		return bad(error, "document: too large");

	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	/* Strict: rejects trailing commas, comments, leading zeros and data after the value. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);

	root = json_tokener_parse_ex(tok, buf, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (e == json_tokener_continue)
		return bad(error, "document: not valid JSON at offset %zu (unexpected end of data)",
			   len);
	if (e != json_tokener_success)
		return bad(error, "document: not valid JSON at offset %zu (%s)", end,
			   json_tokener_error_desc(e));
	/* Belt and braces: strict mode already refuses anything after the value. */
	for (size_t i = end; i < len; i++)
		if (!strchr(" \t\r\n", buf[i]))
			return bad(error, "document: not valid JSON at offset %zu (trailing data)",
				   i);
	if (!json_object_is_type(root, json_type_object))
		return bad(error, "document: top level is not an object");

	*ret = TAKE_PTR(root);
	return 0;
}

/*
 * Copy string V (named FIELD in messages) into *RET (and its length into *RET_LEN when not NULL).
 * An embedded NUL (a "\u0000" escape) is always refused; control characters unless
 * ALLOW_CONTROL.
 */
static int copy_string(struct json_object *v, const char *field, bool allow_control, char **ret,
		       size_t *ret_len, char **error)
{
	const char *s;
	size_t n;
	char *c;

	if (!json_object_is_type(v, json_type_string))
		return bad(error, "field '%s': expected a string, got %s", field, type_name(v));
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', n))
		return bad(error, "field '%s': contains a NUL byte", field);
	if (!allow_control && has_control(s, n))
		return bad(error, "field '%s': contains a control character", field);

	c = memdup_nul(s, n);
	if (!c)
		return -ENOMEM;
	*ret = c;
	if (ret_len)
		*ret_len = n;
	return 0;
}

static int get_required(struct json_object *o, const char *key, const char *field,
			struct json_object **ret, char **error)
{
	if (!json_object_object_get_ex(o, key, ret))
		return bad(error, "field '%s': missing", field);
	return 0;
}

static int parse_instance_id(struct json_object *root, struct metadata *m, char **error)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	struct json_object *v;
	size_t n;
	int r;

	r = get_required(root, "instance-v2-id", "instance-v2-id", &v, error);
	if (r < 0)
		return r;
	r = copy_string(v, "instance-v2-id", false, &m->instance_id, &n, error);
	if (r < 0)
		return r;
	/* It names a directory under /var/lib/vagent: nothing but a UUID's characters. */
	if (n == 0)
		return bad(error, "field 'instance-v2-id': empty");
	if (n > 64)
		return bad(error, "field 'instance-v2-id': longer than 64 characters");
	if (strspn(m->instance_id, "0123456789abcdefABCDEF-") != n)
		return bad(error, "field 'instance-v2-id': not a UUID (only hex digits and '-' "
				  "are allowed)");
	return 0;
}

/* "instanceid" is a numeric-looking string on the wire; an integer is accepted as well. */
static int parse_legacy_id(struct json_object *root, struct metadata *m, char **error)
{
	struct json_object *v;
	char buf[32];

	if (!json_object_object_get_ex(root, "instanceid", &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		snprintf(buf, sizeof(buf), "%" PRId64, json_object_get_int64(v));
		m->legacy_id = strdup(buf);
		return m->legacy_id ? 0 : -ENOMEM;
	}
	if (!json_object_is_type(v, json_type_string))
		return bad(error, "field 'instanceid': expected a string, got %s", type_name(v));
	return copy_string(v, "instanceid", false, &m->legacy_id, NULL, error);
}

/*
 * public-keys: an array of strings, or (old documents) one string with a key per line.
 *
 * Only a NUL byte fails the document here. Control characters (a stray CR, an escape) inside a
 * key are kept on purpose: the ssh-keys step refuses such a key individually with a warning that
 * names its index, so one bad key does not cost the user every other key. Array entries keep
 * their index (public_keys[i] is public-keys[i]) so those warnings match the document.
 */
static int parse_public_keys(struct json_object *root, struct metadata *m, char **error)
{
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	_cleanup_strv_free_ char **keys = NULL;
	struct json_object *v;
	size_t n = 0;
	int r;

	r = get_required(root, "public-keys", "public-keys", &v, error);
	if (r < 0)
		return r;

	if (json_object_is_type(v, json_type_string)) {
		_cleanup_free_ char *s = NULL;
		char *p, *nl;

		r = copy_string(v, "public-keys", true, &s, NULL, error);
		if (r < 0)
			return r;
		for (p = s; *p; p = nl ? nl + 1 : p + strlen(p)) {
			char *line;

			nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			if (!*p)
				continue;
			line = strdup(p);
			if (!line)
				return -ENOMEM;
			r = strv_append(&keys, &n, line);
			if (r < 0)
				return r;
		}
	} else if (json_object_is_type(v, json_type_array)) {
		size_t len = json_object_array_length(v);

		for (size_t i = 0; i < len; i++) {
			char field[48], *key;

			snprintf(field, sizeof(field), "public-keys[%zu]", i);
			r = copy_string(json_object_array_get_idx(v, i), field, true, &key, NULL,
					error);
			if (r < 0)
				return r;
			r = strv_append(&keys, &n, key);
			if (r < 0)
				return r;
		}
	} else
		return bad(error,
			   "field 'public-keys': expected an array of strings or a string, got %s",
			   type_name(v));

	if (!keys) {
		keys = calloc(1, sizeof(char *));
		if (!keys)
			return -ENOMEM;
	}
	strv_free(m->public_keys);
	m->public_keys = TAKE_PTR(keys);
	return 0;
}

static int parse_region(struct json_object *root, struct metadata *m, char **error)
{
	struct json_object *region, *v;
	int r;

	r = get_required(root, "region", "region", &region, error);
	if (r < 0)
		return r;
	if (!json_object_is_type(region, json_type_object))
		return bad(error, "field 'region': expected an object, got %s", type_name(region));

	r = get_required(region, "regioncode", "region.regioncode", &v, error);
	if (r < 0)
		return r;
	r = copy_string(v, "region.regioncode", false, &m->region_code, NULL, error);
	if (r < 0)
		return r;

	if (!json_object_object_get_ex(region, "countrycode", &v))
		return 0;
	return copy_string(v, "region.countrycode", false, &m->country_code, NULL, error);
}

static int parse_tags(struct json_object *root, struct metadata *m, char **error)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	struct json_object *v;
	size_t len, n = 0;
	int r;

	if (!json_object_object_get_ex(root, "tags", &v))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return bad(error, "field 'tags': expected an array of strings, got %s",
			   type_name(v));

	len = json_object_array_length(v);
	for (size_t i = 0; i < len; i++) {
		char field[48], *tag;

		snprintf(field, sizeof(field), "tags[%zu]", i);
		r = copy_string(json_object_array_get_idx(v, i), field, false, &tag, NULL, error);
		if (r < 0)
			return r;
		r = strv_append(&m->tags, &n, tag);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * user-data, vendor-data, startup-script: a string, or [] when there is none. Only user-data is
 * kept (its bytes are a script, YAML, anything: control characters are fine, a NUL is not). The
 * other two are only noted as present: vagent never keeps or acts on them.
 */
static int parse_secret(struct json_object *root, const char *key, bool *ret_present,
			char **ret_data, size_t *ret_len, char **error)
{
	struct json_object *v;

	*ret_present = false;
	if (!json_object_object_get_ex(root, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_array)) {
		if (json_object_array_length(v) > 0)
			return bad(error,
				   "field '%s': expected a string or [], got a non-empty array",
				   key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return bad(error, "field '%s': expected a string or [], got %s", key, type_name(v));
	if (json_object_get_string_len(v) == 0)
		return 0;

	if (ret_data) {
		int r = copy_string(v, key, true, ret_data, ret_len, error);
		if (r < 0)
			return r;
	}
	*ret_present = true;
	return 0;
}

/* interfaces: checked to be an array of objects; what is inside is for the network code. */
static int parse_interfaces(struct json_object *root, struct metadata *m, char **error)
{
	struct json_object *v;
	size_t len;

	if (!json_object_object_get_ex(root, "interfaces", &v))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return bad(error, "field 'interfaces': expected an array, got %s", type_name(v));

	len = json_object_array_length(v);
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_object))
			return bad(error, "field 'interfaces[%zu]': expected an object, got %s", i,
				   type_name(e));
	}
	m->n_interfaces = len;
	return 0;
}

int metadata_parse(const char *buf, size_t len, struct metadata **ret, char **ret_error)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_metadata_free_ struct metadata *m = NULL;
	_cleanup_free_ char *error = NULL;
	struct json_object *v;
	int r;

	if (ret_error)
		*ret_error = NULL;

	r = parse_text(buf, len, &root, &error);
	if (r < 0)
		goto fail;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->public_keys = calloc(1, sizeof(char *));
	m->tags = calloc(1, sizeof(char *));
	if (!m->public_keys || !m->tags)
		return -ENOMEM;

	r = parse_instance_id(root, m, &error);
	if (r < 0)
		goto fail;
	r = parse_legacy_id(root, m, &error);
	if (r < 0)
		goto fail;

	r = get_required(root, "hostname", "hostname", &v, &error);
	if (r < 0)
		goto fail;
	r = copy_string(v, "hostname", false, &m->hostname, NULL, &error);
	if (r < 0)
		goto fail;

	r = parse_public_keys(root, m, &error);
	if (r < 0)
		goto fail;
	r = parse_region(root, m, &error);
	if (r < 0)
		goto fail;
	r = parse_tags(root, m, &error);
	if (r < 0)
		goto fail;
	r = parse_interfaces(root, m, &error);
	if (r < 0)
		goto fail;

	r = parse_secret(root, "user-data", &m->has_user_data, &m->user_data, &m->user_data_len,
			 &error);
	if (r < 0)
		goto fail;
	r = parse_secret(root, "vendor-data", &m->has_vendor_data, NULL, NULL, &error);
	if (r < 0)
		goto fail;
	r = parse_secret(root, "startup-script", &m->has_startup_script, NULL, NULL, &error);
	if (r < 0)
		goto fail;

	*ret = TAKE_PTR(m);
	return 0;

fail:
	if (r == -EBADMSG && ret_error)
		*ret_error = TAKE_PTR(error);
	return r;
}

/* TEXT followed by a newline, malloc'd. */
static int text_with_newline(const char *text, char **ret)
{
	size_t n;
	char *s;

	if (!text)
		return -ENOMEM;
	n = strlen(text);
	s = malloc(n + 2);
	if (!s)
		return -ENOMEM;
	memcpy(s, text, n);
	s[n] = '\n';
	s[n + 1] = '\0';
	*ret = s;
	return 0;
}

static int redact_secrets(struct json_object *root)
{
	for (size_t i = 0; i < ARRAY_SIZE(secret_fields); i++) {
		struct json_object *v, *r;
		char buf[64];

		if (!json_object_object_get_ex(root, secret_fields[i], &v))
			continue;
		if (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0)
			continue;
		if (json_object_is_type(v, json_type_string))
			snprintf(buf, sizeof(buf), "<redacted: %d bytes>",
				 json_object_get_string_len(v));
		else
			snprintf(buf, sizeof(buf), "<redacted>");

		r = json_object_new_string(buf);
		if (!r)
			return -ENOMEM;
		/* Replaces (and releases) the old value in place. */
		if (json_object_object_add(root, secret_fields[i], r) < 0) {
			json_object_put(r);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Follow dotted PATH from ROOT; the result is borrowed from ROOT (NULL for a JSON null). */
static int lookup_path(struct json_object *root, const char *path, struct json_object **ret)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *copy = strdup(path);
	struct json_object *cur = root;
	char *p, *dot;

	if (!copy)
		return -ENOMEM;

	for (p = copy;; p = dot + 1) {
		dot = strchr(p, '.');
		if (dot)
			*dot = '\0';
		if (!*p)
			return -EINVAL;

		if (json_object_is_type(cur, json_type_object)) {
			if (!json_object_object_get_ex(cur, p, &cur))
				return -ENOENT;
		} else if (json_object_is_type(cur, json_type_array)) {
			size_t idx;

			if (strspn(p, "0123456789") != strlen(p) || strlen(p) > 9)
				return -ENOENT;
			idx = (size_t)strtoul(p, NULL, 10);
			if (idx >= json_object_array_length(cur))
				return -ENOENT;
			cur = json_object_array_get_idx(cur, idx);
		} else
			return -ENOENT;

		if (!dot)
			break;
	}

	*ret = cur;
	return 0;
}

int metadata_render(const char *buf, size_t len, const char *path, char **ret_text)
{
	_cleanup_json_ struct json_object *root = NULL;
	struct json_object *v;
	int r;

	r = parse_text(buf, len, &root, NULL);
	if (r < 0)
		return r;

	if (!path) {
		r = redact_secrets(root);
		if (r < 0)
			return r;
		return text_with_newline(json_object_to_json_string_ext(root, PRINT_FLAGS),
					 ret_text);
	}

	r = lookup_path(root, path, &v);
	if (r < 0)
		return r;

	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		/* Raw, unless a NUL would cut it short: then quoted and escaped. */
		if (!memchr(s, '\0', (size_t)json_object_get_string_len(v)))
			return text_with_newline(s, ret_text);
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE);
		return text_with_newline(s, ret_text);
	}
	return text_with_newline(json_object_to_json_string_ext(v, PRINT_FLAGS), ret_text);
}

/* Add V under KEY (V NULL means out of memory); on failure V is released. */
static int add_value(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Add string S under KEY, or null when S is NULL. */
static int add_string(struct json_object *o, const char *key, const char *s)
{
	if (!s)
		return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
	return add_value(o, key, json_object_new_string(s));
}

static int array_append(struct json_object *a, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int to_text(struct json_object *o, char **ret)
{
	return text_with_newline(json_object_to_json_string_ext(o, PRINT_FLAGS), ret);
}

static struct json_object *volume_to_json(const struct volume_report *v, bool full)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (add_string(o, "device", v->device) < 0 || add_string(o, "verdict", v->verdict) < 0 ||
	    add_string(o, "reason", v->reason) < 0 || add_string(o, "action", v->action) < 0 ||
	    add_string(o, "mountpoint", v->mountpoint) < 0 || add_string(o, "uuid", v->uuid) < 0)
		return NULL;
	if (full && (add_string(o, "volume_id", v->volume_id) < 0 ||
		     add_string(o, "result", v->result) < 0))
		return NULL;
	return TAKE_PTR(o);
}

static struct json_object *step_to_json(const struct step_report *s)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (add_string(o, "name", s->name) < 0 ||
	    add_string(o, "result", step_result_to_string(s->result)) < 0 ||
	    add_value(o, "duration_ms", json_object_new_uint64(s->duration_ms)) < 0 ||
	    add_string(o, "message", s->message) < 0)
		return NULL;
	return TAKE_PTR(o);
}

int boot_report_to_json(const struct boot_report *b, char **ret)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct json_object *steps, *volumes;
	int r;

	o = json_object_new_object();
	if (!o)
		return -ENOMEM;

	r = add_string(o, "instance_id", b->instance_id);
	if (r < 0)
		return r;
	r = add_value(o, "first_boot", json_object_new_boolean(b->first_boot));
	if (r < 0)
		return r;
	r = add_string(o, "metadata_source", b->metadata_source);
	if (r < 0)
		return r;

	steps = json_object_new_array();
	r = add_value(o, "steps", steps);
	if (r < 0)
		return r;
	for (size_t i = 0; i < b->n_steps; i++) {
		r = array_append(steps, step_to_json(&b->steps[i]));
		if (r < 0)
			return r;
	}

	r = add_string(o, "started", b->started);
	if (r < 0)
		return r;
	r = add_string(o, "finished", b->finished);
	if (r < 0)
		return r;

	volumes = json_object_new_array();
	r = add_value(o, "volumes", volumes);
	if (r < 0)
		return r;
	for (size_t i = 0; i < b->n_volumes; i++) {
		r = array_append(volumes, volume_to_json(&b->volumes[i], true));
		if (r < 0)
			return r;
	}

	r = add_value(o, "userdata_ran", json_object_new_boolean(b->userdata_ran));
	if (r < 0)
		return r;
	if (b->userdata_exit >= 0)
		r = add_value(o, "userdata_exit", json_object_new_int(b->userdata_exit));
	else
		r = json_object_object_add(o, "userdata_exit", NULL) < 0 ? -ENOMEM : 0;
	if (r < 0)
		return r;

	return to_text(o, ret);
}

int volumes_to_json(const struct volume_report *v, size_t n, char **ret)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct json_object *devices;
	int r;

	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	devices = json_object_new_array();
	r = add_value(o, "devices", devices);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = array_append(devices, volume_to_json(&v[i], true));
		if (r < 0)
			return r;
	}
	return to_text(o, ret);
}

/* KEY absent or null: *RET = NULL. A string without NUL: *RET borrows it. Else -EBADMSG. */
static int get_opt_string(struct json_object *o, const char *key, const char **ret)
{
	struct json_object *v;

	*ret = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -EBADMSG;
	if (memchr(json_object_get_string(v), '\0', (size_t)json_object_get_string_len(v)))
		return -EBADMSG;
	*ret = json_object_get_string(v);
	return 0;
}

/* The same, copied into *RET (which must be NULL). */
static int dup_opt_string(struct json_object *o, const char *key, char **ret)
{
	const char *s;
	int r;

	r = get_opt_string(o, key, &s);
	if (r < 0 || !s)
		return r;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int get_opt_bool(struct json_object *o, const char *key, bool *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -EBADMSG;
	*ret = json_object_get_boolean(v);
	return 0;
}

/* KEY absent: *RET = NULL. When present the value must be an array. */
static int get_opt_array(struct json_object *o, const char *key, struct json_object **ret)
{
	struct json_object *v;

	*ret = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int step_from_json(struct json_object *o, struct boot_report *b)
{
	const char *name, *result, *message;
	struct json_object *v;
	uint64_t duration = 0;
	int r, res;

	if (!json_object_is_type(o, json_type_object))
		return -EBADMSG;
	r = get_opt_string(o, "name", &name);
	if (r < 0)
		return r;
	r = get_opt_string(o, "result", &result);
	if (r < 0)
		return r;
	res = step_result_from_string(result);
	if (res < 0)
		return -EBADMSG;
	r = get_opt_string(o, "message", &message);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(o, "duration_ms", &v)) {
		if (!json_object_is_type(v, json_type_int))
			return -EBADMSG;
		if (json_object_get_int64(v) < 0)
			return -EBADMSG;
		duration = json_object_get_uint64(v);
	}
	return boot_report_add_step(b, name, (enum step_result)res, duration, message);
}

static int volume_from_json(struct json_object *o, struct boot_report *b)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_(volume_report_done) struct volume_report v = {};
	int r;

	if (!json_object_is_type(o, json_type_object))
		return -EBADMSG;
	if ((r = dup_opt_string(o, "device", &v.device)) < 0 ||
	    (r = dup_opt_string(o, "verdict", &v.verdict)) < 0 ||
	    (r = dup_opt_string(o, "reason", &v.reason)) < 0 ||
	    (r = dup_opt_string(o, "action", &v.action)) < 0 ||
	    (r = dup_opt_string(o, "mountpoint", &v.mountpoint)) < 0 ||
	    (r = dup_opt_string(o, "uuid", &v.uuid)) < 0 ||
	    (r = dup_opt_string(o, "volume_id", &v.volume_id)) < 0 ||
	    (r = dup_opt_string(o, "result", &v.result)) < 0)
		return r;
	return boot_report_add_volume(b, &v);
}

int boot_report_from_json(const char *buf, size_t len, struct boot_report *ret)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_(boot_report_done) struct boot_report b = { .userdata_exit = -1 };
	struct json_object *a, *v;
	int r;

	r = parse_text(buf, len, &root, NULL);
	if (r < 0)
		return r;

	if ((r = dup_opt_string(root, "instance_id", &b.instance_id)) < 0 ||
	    (r = get_opt_bool(root, "first_boot", &b.first_boot)) < 0 ||
	    (r = dup_opt_string(root, "metadata_source", &b.metadata_source)) < 0 ||
	    (r = dup_opt_string(root, "started", &b.started)) < 0 ||
	    (r = dup_opt_string(root, "finished", &b.finished)) < 0 ||
	    (r = get_opt_bool(root, "userdata_ran", &b.userdata_ran)) < 0)
		return r;

	r = get_opt_array(root, "steps", &a);
	if (r < 0)
		return r;
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		r = step_from_json(json_object_array_get_idx(a, i), &b);
		if (r < 0)
			return r;
	}

	r = get_opt_array(root, "volumes", &a);
	if (r < 0)
		return r;
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		r = volume_from_json(json_object_array_get_idx(a, i), &b);
		if (r < 0)
			return r;
	}

	if (json_object_object_get_ex(root, "userdata_exit", &v) && v) {
		int64_t e;

		if (!json_object_is_type(v, json_type_int))
			return -EBADMSG;
		e = json_object_get_int64(v);
		if (e < INT_MIN || e > INT_MAX)
			return -EBADMSG;
		b.userdata_exit = e < 0 ? -1 : (int)e;
	}

	*ret = b;
	b = (struct boot_report){};
	return 0;
}
