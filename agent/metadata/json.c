/* SPDX-License-Identifier: MIT */
/*
 * json.c: the only json-c user. It turns the metadata document (v1.json) into struct metadata
 * through field tables (one table per JSON object: key, C type, flags, place in the struct,
 * check), validating every field the steps use and naming the field path (never its value) when
 * one is wrong; renders the document for `vagent metadata [KEY]` with the secrets redacted; and converts the
 * boot and volume reports to JSON and back. json-c objects never leave this file: values are
 * copied into plain C strings before the tree is released, and values borrowed from
 * json_object_object_get_ex() are never put.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
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

/* json-c reads NaN, Infinity and -Infinity (and 1e999 as infinity), which JSON has not. */
static bool has_nonfinite(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_double:
		return !isfinite(json_object_get_double(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (has_nonfinite(json_object_array_get_idx(o, i)))
				return true;
		return false;
	case json_type_object: {
		json_object_object_foreach(o, key, v) {
			(void)key;
			if (has_nonfinite(v))
				return true;
		}
		return false;
	}
	default:
		return false;
	}
}

/*
 * Parse LEN bytes of JSON text strictly: one value, nothing but whitespace after it, no NUL byte,
 * no comments or trailing commas, no NaN or Infinity, at most JSON_MAX_DEPTH levels. The value
 * must be an object.
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
	/* The walk is bounded: the tokener refused anything deeper than JSON_MAX_DEPTH. */
	if (has_nonfinite(root))
		return bad(error, "document: not valid JSON (NaN or Infinity is not a number)");

	*ret = TAKE_PTR(root);
	return 0;
}

/*
 * Copy string V (named FIELD in messages) into *RET (and its length into *RET_LEN when not NULL).
 * An embedded NUL (a "\u0000" escape) is always refused; control characters unless
 * ALLOW_CONTROL.
 */
/* ---- the metadata document as field tables ------------------------------------------------
 *
 * Each JSON object the steps read is described once by a table of fields: the key, the C type
 * it becomes, flags, where it goes in the C struct, and an optional check. One walker
 * (decode_object) fills the struct from the table, names the field path in every error
 * (interfaces[1].ipv4.netmask) and never quotes a value; one walker (schema_free) releases
 * what it filled. Keys not in a table are ignored, as the metadata contract says.
 */

enum field_type {
	FIELD_STRING, /* char *: a JSON string, copied (or converted by .parse) */
	FIELD_BOOL,   /* bool */
	FIELD_INT64,  /* int64_t within [.min, .max] */
	FIELD_INT,    /* int within [.min, .max] */
	FIELD_UINT64, /* uint64_t */
	FIELD_DOUBLE, /* double (a JSON number) */
	FIELD_STRV,   /* char **: an array of strings; never NULL once decoded (absent: empty) */
	FIELD_OBJECT, /* an object: the fields of .sub fill the struct at .offset */
	FIELD_ARRAY,  /* an array of objects: a .sub struct array at .offset, its size_t count at
		       * .aux */
};

enum {
	F_REQUIRED = 1 << 0,   /* missing is an error */
	F_SECRET = 1 << 1,     /* a string or [] ("" and [] are none), bytes kept as they are,
				* control characters included; its size_t length at .aux */
	F_LENIENT = 1 << 2,    /* string: an integer is taken as its decimal text; int: a string
				* holding a decimal integer is accepted; strv: a single string
				* gives one entry per non-empty line */
	F_CONTROL = 1 << 3,    /* control characters are kept (a NUL byte never is) */
	F_EMPTY_NONE = 1 << 4, /* "" reads as absent */
	F_ISOLATE = 1 << 5,    /* array: an error inside element i is stored in that element's
				* char *error (at .sub->error_offset) and the document still
				* parses; the elements' shape (objects) is still checked */
	F_ALIAS = 1 << 6,      /* another key for the member of the field before (freed once) */
	F_NULL_NONE = 1 << 7,  /* null reads as absent (and an absent string is written as null) */
	F_NEGATIVE_NONE = 1 << 8, /* FIELD_INT: a negative value is "unknown": written as null, read
				   * as the default */
};

struct decoder;

struct field {
	const char *name;
	enum field_type type;
	unsigned flags;
	size_t offset;
	size_t aux;
	int64_t min, max; /* FIELD_INT64, FIELD_INT */
	/* FIELD_STRING: NULL when S is acceptable, else the reason (a fixed text) */
	const char *(*check)(const char *s);
	/* FIELD_STRING: convert S into the C value at .offset instead of copying it; returns
	 * NULL, or the reason it cannot */
	const char *(*parse)(const char *s, void *ret);
	/* FIELD_STRING with .parse, when written: the C value at .offset as its string */
	const char *(*format)(const void *value);
	const struct schema *sub; /* FIELD_OBJECT, FIELD_ARRAY */
};

struct schema {
	const struct field *fields;
	size_t n_fields;
	size_t size;         /* of the struct (FIELD_ARRAY elements) */
	size_t error_offset; /* F_ISOLATE elements: their char *error */
	/* after every field: rules across fields (fail with decoder_fail_at()) */
	int (*finish)(struct decoder *d, void *base);
	/* FIELD_ARRAY elements: when set, each element is decoded on its own and handed to
	 * add(PARENT, ELEM), which takes what it wants (ELEM is then freed), instead of being
	 * stored at the field's offset */
	int (*add)(void *parent, void *elem);
};

#define SCHEMA(f, type, ...) { .fields = (f), .n_fields = ARRAY_SIZE(f), .size = sizeof(type), __VA_ARGS__ }

struct decoder {
	char **error;
	char path[192]; /* built from the tables' names and indices only */
	size_t len;
};

static size_t path_push(struct decoder *d, const char *format, ...) _printf_(2, 3);
static size_t path_push(struct decoder *d, const char *format, ...)
{
	size_t saved = d->len;
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(d->path + d->len, sizeof(d->path) - d->len, format, ap);
	va_end(ap);
	if (n > 0)
		d->len = d->len + (size_t)n < sizeof(d->path) ? d->len + (size_t)n
							     : sizeof(d->path) - 1;
	return saved;
}

static size_t path_key(struct decoder *d, const char *key)
{
	return path_push(d, "%s%s", d->len ? "." : "", key);
}

static void path_restore(struct decoder *d, size_t saved)
{
	d->len = saved;
	d->path[saved] = '\0';
}

/* "field 'PATH': REASON" into *d->error; returns -EBADMSG (or -ENOMEM). */
_printf_(2, 3) static int decoder_fail(struct decoder *d, const char *format, ...)
{
	char reason[160];
	va_list ap;

	va_start(ap, format);
	vsnprintf(reason, sizeof(reason), format, ap);
	va_end(ap);
	return bad(d->error, "field '%s': %s", d->path, reason);
}

/* The same for the field REL below the current path (for the rules of a finish hook). */
static int decoder_fail_at(struct decoder *d, const char *rel, const char *reason)
{
	size_t saved = path_key(d, rel);
	int r = decoder_fail(d, "%s", reason);

	path_restore(d, saved);
	return r;
}

/*
 * A JSON integer as int64_t. json-c saturates an integer beyond int64 (to INT64_MAX, or keeps
 * it as uint64, or to INT64_MIN) without telling: all three are refused, INT64_MIN included
 * since it cannot be told apart from an overflow.
 */
static int get_int64(struct decoder *d, struct json_object *v, int64_t *ret)
{
	int64_t i = json_object_get_int64(v);

	if ((i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) || i == INT64_MIN)
		return decoder_fail(d, "integer beyond the 64-bit range");
	*ret = i;
	return 0;
}

/*
 * The string V (an integer too with F_LENIENT), checked for NUL bytes and (unless F_CONTROL or
 * F_SECRET) control characters, copied into *RET and its length into *RET_LEN. "" gives NULL
 * with F_EMPTY_NONE or F_SECRET.
 */
static int take_string(struct decoder *d, struct json_object *v, unsigned flags, char **ret,
		       size_t *ret_len)
{
	char num[32];
	const char *s;
	size_t n;
	int r;

	*ret = NULL;
	if ((flags & F_LENIENT) && json_object_is_type(v, json_type_int)) {
		int64_t i;

		r = get_int64(d, v, &i);
		if (r < 0)
			return r;
		snprintf(num, sizeof(num), "%" PRId64, i);
		s = num;
		n = strlen(num);
	} else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
	} else
		return decoder_fail(d, "expected a string%s, got %s",
				    flags & F_SECRET ? " or []" : flags & F_LENIENT ? " or an integer" : "",
				    type_name(v));

	if (memchr(s, '\0', n))
		return decoder_fail(d, "contains a NUL byte");
	if (!(flags & (F_CONTROL | F_SECRET)) && has_control(s, n))
		return decoder_fail(d, "contains a control character");
	if (n == 0 && (flags & (F_EMPTY_NONE | F_SECRET)))
		return 0;

	*ret = memdup_nul(s, n);
	if (!*ret)
		return -ENOMEM;
	if (ret_len)
		*ret_len = n;
	return 0;
}

static int decode_string(struct decoder *d, struct json_object *v, const struct field *f,
			 char *base)
{
	_cleanup_free_ char *s = NULL;
	const char *reason;
	size_t n = 0;
	int r;

	if ((f->flags & F_SECRET) && json_object_is_type(v, json_type_array)) {
		if (json_object_array_length(v) > 0)
			return decoder_fail(d, "expected a string or [], got a non-empty array");
		return 0;
	}
	r = take_string(d, v, f->flags, &s, &n);
	if (r < 0 || !s)
		return r;
	if (f->check && (reason = f->check(s)))
		return decoder_fail(d, "%s", reason);
	if (f->parse) {
		reason = f->parse(s, base + f->offset);
		return reason ? decoder_fail(d, "%s", reason) : 0;
	}
	free(*(char **)(base + f->offset));
	*(char **)(base + f->offset) = TAKE_PTR(s);
	if (f->flags & F_SECRET)
		*(size_t *)(base + f->aux) = n;
	return 0;
}

static int decode_int(struct decoder *d, struct json_object *v, const struct field *f,
		      char *base)
{
	int64_t i;
	int r;

	if (f->type == FIELD_UINT64) {
		/* the whole uint64 range (a status file's durations); json-c cannot tell
		 * UINT64_MAX from a saturated larger value */
		if (!json_object_is_type(v, json_type_int))
			return decoder_fail(d, "expected an integer, got %s", type_name(v));
		if (json_object_get_int64(v) < 0)
			return decoder_fail(d, "negative");
		*(uint64_t *)(base + f->offset) = json_object_get_uint64(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		r = get_int64(d, v, &i);
		if (r < 0)
			return r;
	} else if ((f->flags & F_LENIENT) && json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v), *digits = s + (s[0] == '-');
		size_t n = (size_t)json_object_get_string_len(v);

		if (n == 0 && (f->flags & F_EMPTY_NONE))
			return 0;
		if (strlen(s) != n || !*digits || strspn(digits, "0123456789") != strlen(digits) ||
		    n > 20)
			return decoder_fail(d, "not an integer");
		errno = 0;
		i = strtoll(s, NULL, 10);
		if (errno == ERANGE)
			return decoder_fail(d, "integer beyond the 64-bit range");
	} else
		return decoder_fail(d, "expected an integer%s, got %s",
				    f->flags & F_LENIENT ? " or a string holding one" : "",
				    type_name(v));

	if (i < f->min || i > f->max)
		return decoder_fail(d, "out of range (%" PRId64 "..%" PRId64 ")", f->min, f->max);
	if (f->type == FIELD_INT) {
		if (i >= 0 || !(f->flags & F_NEGATIVE_NONE))
			*(int *)(base + f->offset) = (int)i;
	} else
		*(int64_t *)(base + f->offset) = i;
	return 0;
}

static int decode_strv(struct decoder *d, struct json_object *v, const struct field *f,
		       char *base)
{
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	char ***dst = (char ***)(base + f->offset);
	_cleanup_strv_free_ char **l = NULL;
	size_t n = 0;
	int r;

	if ((f->flags & F_LENIENT) && json_object_is_type(v, json_type_string)) {
		_cleanup_free_ char *s = NULL;
		char *p, *nl;

		r = take_string(d, v, f->flags & ~F_LENIENT, &s, NULL);
		if (r < 0)
			return r;
		for (p = s; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
			char *line;

			nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			if (!*p)
				continue;
			line = strdup(p);
			if (!line)
				return -ENOMEM;
			r = strv_append(&l, &n, line);
			if (r < 0)
				return r;
		}
	} else if (json_object_is_type(v, json_type_array)) {
		size_t len = json_object_array_length(v);

		for (size_t i = 0; i < len; i++) {
			size_t saved = path_push(d, "[%zu]", i);
			char *s;

			/* an element is kept even when "" (indexes match the document) */
			r = take_string(d, json_object_array_get_idx(v, i),
					f->flags & ~(F_LENIENT | F_EMPTY_NONE), &s, NULL);
			path_restore(d, saved);
			if (r < 0)
				return r;
			if (!s && !(s = strdup("")))
				return -ENOMEM;
			r = strv_append(&l, &n, s);
			if (r < 0)
				return r;
		}
	} else
		return decoder_fail(d, "expected an array of strings%s, got %s",
				    f->flags & F_LENIENT ? " or a string" : "", type_name(v));

	if (!l) {
		l = calloc(1, sizeof(char *));
		if (!l)
			return -ENOMEM;
	}
	strv_free(*dst);
	*dst = TAKE_PTR(l);
	return 0;
}

static int decode_object(struct decoder *d, struct json_object *o, const struct schema *s,
			 char *base);

static void schema_free(const struct schema *s, char *base, bool with_error);

/* Each element decoded into a zeroed struct of its own and handed to the schema's add(). */
static int decode_array_add(struct decoder *d, struct json_object *v, const struct field *f,
			    char *base)
{
	const struct schema *sub = f->sub;
	_cleanup_free_ char *elem = calloc(1, sub->size);
	int r = 0;

	if (!elem)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < json_object_array_length(v); i++) {
		size_t saved = path_push(d, "[%zu]", i);

		r = decode_object(d, json_object_array_get_idx(v, i), sub, elem);
		if (r >= 0)
			r = sub->add(base, elem);
		schema_free(sub, elem, false);
		memset(elem, 0, sub->size);
		path_restore(d, saved);
	}
	return r;
}

static int decode_array(struct decoder *d, struct json_object *v, const struct field *f,
			char *base)
{
	const struct schema *sub = f->sub;
	size_t n;
	char *elems;
	int r;

	if (!json_object_is_type(v, json_type_array))
		return decoder_fail(d, "expected an array, got %s", type_name(v));
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_object)) {
			path_push(d, "[%zu]", i);
			return decoder_fail(d, "expected an object, got %s", type_name(e));
		}
	}

	if (sub->add)
		return decode_array_add(d, v, f, base);

	elems = calloc(n ? n : 1, sub->size);
	if (!elems)
		return -ENOMEM;
	/* Stored before the elements are decoded, so schema_free() releases a partial array. */
	*(void **)(base + f->offset) = elems;
	*(size_t *)(base + f->aux) = n;

	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		size_t saved = path_push(d, "[%zu]", i);
		char *elem = elems + i * sub->size;

		if (f->flags & F_ISOLATE) {
			char **outer = d->error, *error = NULL;

			d->error = &error;
			r = decode_object(d, e, sub, elem);
			d->error = outer;
			if (r == -EBADMSG) {
				*(char **)(elem + sub->error_offset) = error;
				r = 0;
			} else
				free(error);
		} else
			r = decode_object(d, e, sub, elem);
		path_restore(d, saved);
		if (r < 0)
			return r;
	}
	return 0;
}

static int decode_field(struct decoder *d, struct json_object *o, const struct field *f,
			char *base)
{
	size_t saved = path_key(d, f->name);
	struct json_object *v;
	int r = 0;

	if (!json_object_object_get_ex(o, f->name, &v) || (!v && (f->flags & F_NULL_NONE))) {
		if (f->flags & F_REQUIRED)
			r = decoder_fail(d, "missing");
		else if (f->type == FIELD_STRV && !*(char ***)(base + f->offset)) {
			*(char ***)(base + f->offset) = calloc(1, sizeof(char *));
			if (!*(char ***)(base + f->offset))
				r = -ENOMEM;
		}
		goto out;
	}

	switch (f->type) {
	case FIELD_STRING:
		r = decode_string(d, v, f, base);
		break;
	case FIELD_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			r = decoder_fail(d, "expected a boolean, got %s", type_name(v));
		else
			*(bool *)(base + f->offset) = json_object_get_boolean(v);
		break;
	case FIELD_INT64:
	case FIELD_INT:
	case FIELD_UINT64:
		r = decode_int(d, v, f, base);
		break;
	case FIELD_DOUBLE:
		if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
			r = decoder_fail(d, "expected a number, got %s", type_name(v));
		else
			*(double *)(base + f->offset) = json_object_get_double(v);
		break;
	case FIELD_STRV:
		r = decode_strv(d, v, f, base);
		break;
	case FIELD_OBJECT:
		if (!json_object_is_type(v, json_type_object))
			r = decoder_fail(d, "expected an object, got %s", type_name(v));
		else
			r = decode_object(d, v, f->sub, base + f->offset);
		break;
	case FIELD_ARRAY:
		r = decode_array(d, v, f, base);
		break;
	}
out:
	path_restore(d, saved);
	return r;
}

static int decode_object(struct decoder *d, struct json_object *o, const struct schema *s,
			 char *base)
{
	int r;

	for (size_t i = 0; i < s->n_fields; i++) {
		r = decode_field(d, o, &s->fields[i], base);
		if (r < 0)
			return r;
	}
	return s->finish ? s->finish(d, base) : 0;
}

/* Release what decode_object() filled in from S at BASE (not BASE itself). */
static void schema_free(const struct schema *s, char *base, bool with_error)
{
	for (size_t i = 0; i < s->n_fields; i++) {
		const struct field *f = &s->fields[i];

		switch (f->type) {
		case FIELD_STRING:
			if (!f->parse && !(f->flags & F_ALIAS))
				free(*(char **)(base + f->offset));
			break;
		case FIELD_STRV:
			strv_free(*(char ***)(base + f->offset));
			break;
		case FIELD_OBJECT:
			schema_free(f->sub, base + f->offset, false);
			break;
		case FIELD_ARRAY: {
			char *elems = *(char **)(base + f->offset);
			size_t n = *(size_t *)(base + f->aux);

			for (size_t j = 0; elems && j < n; j++)
				schema_free(f->sub, elems + j * f->sub->size, f->flags & F_ISOLATE);
			free(elems);
			break;
		}
		case FIELD_BOOL:
		case FIELD_INT64:
		case FIELD_INT:
		case FIELD_UINT64:
		case FIELD_DOUBLE:
			break;
		}
	}
	if (with_error)
		free(*(char **)(base + s->error_offset));
}

/* ---- checks and conversions the tables name --------------------------------------------- */

/* It names a directory under /var/lib/vagent: nothing but a UUID's characters. */
static const char *check_instance_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "empty";
	if (n > 64)
		return "longer than 64 characters";
	if (strspn(s, "0123456789abcdefABCDEF-") != n)
		return "not a UUID (only hex digits and '-' are allowed)";
	return NULL;
}

static const char *check_mac(const char *s)
{
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    p[2] != (i < 5 ? ':' : '\0'))
			return "not a MAC address (six ':'-separated hex pairs)";
	}
	return NULL;
}

static const char *check_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1 ? NULL : "not an IPv4 address";
}

static const char *check_ipv6(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1 ? NULL : "not an IPv6 address";
}

/* A dotted netmask ("255.255.240.0", contiguous, not 0.0.0.0) into its prefix length. */
static const char *parse_netmask(const char *s, void *ret)
{
	struct in_addr a;
	uint32_t m, inv;

	if (inet_pton(AF_INET, s, &a) != 1)
		return "not an IPv4 netmask";
	m = ntohl(a.s_addr);
	inv = ~m;
	if (m == 0 || (inv & (inv + 1)) != 0)
		return "not an IPv4 netmask (not contiguous)";
	*(int64_t *)ret = __builtin_popcount(m);
	return NULL;
}

static const char *parse_network_type(const char *s, void *ret)
{
	if (streq(s, "public"))
		*(enum md_network_type *)ret = MD_NETWORK_PUBLIC;
	else if (streq(s, "private"))
		*(enum md_network_type *)ret = MD_NETWORK_PRIVATE;
	else
		return "neither \"public\" nor \"private\"";
	return NULL;
}

const char *md_network_type_to_string(enum md_network_type t)
{
	return t == MD_NETWORK_PRIVATE ? "private" : "public";
}

/* ipv6.additional[]: {network, prefix} or {address, prefix} (both shapes are in the wild). */
static int finish_address6(struct decoder *d, void *base)
{
	const struct md_address *a = base;

	return a->address ? 0 : decoder_fail_at(d, "network", "missing");
}

/* A private NIC has no DHCP server: its static address is the whole configuration. */
static int finish_interface(struct decoder *d, void *base)
{
	const struct md_interface *i = base;

	if (i->ipv4_address && !i->ipv4_prefix)
		return decoder_fail_at(d, "ipv4.netmask", "missing");
	if (i->unconfigured || i->type != MD_NETWORK_PRIVATE)
		return 0;
	if (!i->ipv4_address)
		return decoder_fail_at(d, "ipv4.address", "missing");
	return 0;
}

/* ---- the metadata document's tables ----------------------------------------------------- */

#define M(member) offsetof(struct metadata, member)
#define I(member) offsetof(struct md_interface, member)
#define A(member) offsetof(struct md_address, member)
#define R(member) offsetof(struct md_route, member)

static const struct field address4_fields[] = {
	{ "address", FIELD_STRING, F_REQUIRED, A(address), .check = check_ipv4 },
	{ "netmask", FIELD_STRING, F_REQUIRED, A(prefix), .parse = parse_netmask },
};
static const struct schema address4_schema = SCHEMA(address4_fields, struct md_address);

static const struct field address6_fields[] = {
	/* the same member: "address" wins when both are given */
	{ "network", FIELD_STRING, F_EMPTY_NONE, A(address), .check = check_ipv6 },
	{ "address", FIELD_STRING, F_EMPTY_NONE | F_ALIAS, A(address), .check = check_ipv6 },
	{ "prefix", FIELD_INT64, F_REQUIRED | F_LENIENT, A(prefix), .min = 1, .max = 128 },
};
static const struct schema address6_schema =
	SCHEMA(address6_fields, struct md_address, .finish = finish_address6);

static const struct field route_fields[] = {
	{ "network", FIELD_STRING, F_REQUIRED, R(network), .check = check_ipv4 },
	{ "netmask", FIELD_INT64, F_REQUIRED | F_LENIENT, R(prefix), .min = 0, .max = 32 },
	{ "gateway", FIELD_STRING, F_EMPTY_NONE, R(gateway), .check = check_ipv4 },
};
static const struct schema route_schema = SCHEMA(route_fields, struct md_route);

/* "ipv4" and "ipv6" fill members of struct md_interface itself. */
static const struct field ipv4_fields[] = {
	{ "address", FIELD_STRING, F_EMPTY_NONE, I(ipv4_address), .check = check_ipv4 },
	{ "netmask", FIELD_STRING, F_EMPTY_NONE, I(ipv4_prefix), .parse = parse_netmask },
	{ "gateway", FIELD_STRING, F_EMPTY_NONE, I(ipv4_gateway), .check = check_ipv4 },
	{ "additional", FIELD_ARRAY, 0, I(ipv4_additional), I(n_ipv4_additional),
	  .sub = &address4_schema },
	{ "routes", FIELD_ARRAY, 0, I(ipv4_routes), I(n_ipv4_routes), .sub = &route_schema },
};
static const struct schema ipv4_schema = SCHEMA(ipv4_fields, struct md_interface);

static const struct field ipv6_fields[] = {
	{ "address", FIELD_STRING, F_EMPTY_NONE, I(ipv6_address), .check = check_ipv6 },
	{ "network", FIELD_STRING, F_EMPTY_NONE, I(ipv6_network), .check = check_ipv6 },
	{ "prefix", FIELD_INT64, F_EMPTY_NONE | F_LENIENT, I(ipv6_prefix), .min = 1, .max = 128 },
	{ "additional", FIELD_ARRAY, 0, I(ipv6_additional), I(n_ipv6_additional),
	  .sub = &address6_schema },
};
static const struct schema ipv6_schema = SCHEMA(ipv6_fields, struct md_interface);

static const struct field interface_fields[] = {
	{ "mac", FIELD_STRING, F_REQUIRED, I(mac), .check = check_mac },
	{ "network-type", FIELD_STRING, F_REQUIRED, I(type), .parse = parse_network_type },
	{ "unconfigured", FIELD_BOOL, 0, I(unconfigured) },
	{ "mtu", FIELD_INT64, F_EMPTY_NONE | F_LENIENT, I(mtu), .min = 68, .max = 65535 },
	{ "network-v2-id", FIELD_STRING, F_EMPTY_NONE, I(network_id) },
	{ "ipv4", FIELD_OBJECT, 0, 0, .sub = &ipv4_schema },
	{ "ipv6", FIELD_OBJECT, 0, 0, .sub = &ipv6_schema },
};
static const struct schema interface_schema = SCHEMA(interface_fields, struct md_interface,
						     .error_offset = I(error),
						     .finish = finish_interface);

static const struct field region_fields[] = {
	{ "regioncode", FIELD_STRING, F_REQUIRED, M(region_code) },
	{ "countrycode", FIELD_STRING, 0, M(country_code) },
};
static const struct schema region_schema = SCHEMA(region_fields, struct metadata);

/* The order is the order errors are found in. */
static const struct field metadata_fields[] = {
	{ "instance-v2-id", FIELD_STRING, F_REQUIRED, M(instance_id), .check = check_instance_id },
	{ "instanceid", FIELD_STRING, F_LENIENT, M(legacy_id) },
	{ "hostname", FIELD_STRING, F_REQUIRED, M(hostname) },
	/* control characters are left for the ssh-keys step, which refuses such a key alone */
	{ "public-keys", FIELD_STRV, F_REQUIRED | F_LENIENT | F_CONTROL, M(public_keys) },
	{ "region", FIELD_OBJECT, F_REQUIRED, 0, .sub = &region_schema },
	{ "tags", FIELD_STRV, 0, M(tags) },
	{ "interfaces", FIELD_ARRAY, F_ISOLATE, M(interfaces), M(n_interfaces),
	  .sub = &interface_schema },
	{ "user-data", FIELD_STRING, F_SECRET, M(user_data), M(user_data_len) },
	{ "vendor-data", FIELD_STRING, F_SECRET, M(vendor_data), M(vendor_data_len) },
	{ "startup-script", FIELD_STRING, F_SECRET, M(startup_script), M(startup_script_len) },
};
static const struct schema metadata_schema = SCHEMA(metadata_fields, struct metadata);

void metadata_free(struct metadata *m)
{
	if (!m)
		return;
	schema_free(&metadata_schema, (char *)m, false);
	free(m);
}

int metadata_parse(const char *buf, size_t len, struct metadata **ret, char **ret_error)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_metadata_free_ struct metadata *m = NULL;
	_cleanup_free_ char *error = NULL;
	struct decoder d = { .error = &error };
	int r;

	if (ret_error)
		*ret_error = NULL;

	r = parse_text(buf, len, &root, &error);
	if (r < 0)
		goto fail;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	r = decode_object(&d, root, &metadata_schema, (char *)m);
	if (r < 0)
		goto fail;
	m->has_user_data = m->user_data;
	m->has_vendor_data = m->vendor_data;
	m->has_startup_script = m->startup_script;

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

static bool alias_is(const char *name, const char *key)
{
	for (; *name && *key; name++, key++)
		if (*name != *key && !(*name == '-' && *key == '_'))
			return false;
	return !*name && !*key;
}

int metadata_top_scalar(const char *buf, size_t len, const char *key, char **ret)
{
	_cleanup_json_ struct json_object *root = NULL;
	struct json_object *v = NULL;
	const char *s;
	int r;

	r = parse_text(buf, len, &root, NULL);
	if (r < 0)
		return r;
	if (!json_object_is_type(root, json_type_object))
		return -EBADMSG;
	if (!json_object_object_get_ex(root, key, &v)) {
		bool found = false;

		json_object_object_foreach(root, name, val) {
			if (!found && alias_is(name, key)) {
				v = val;
				found = true;
			}
		}
		if (!found)
			return -ENOENT;
	}
	switch (json_object_get_type(v)) {
	case json_type_null:
		s = "None";
		break;
	case json_type_boolean:
		s = json_object_get_boolean(v) ? "True" : "False";
		break;
	case json_type_string:
		s = json_object_get_string(v);
		break;
	case json_type_int:
	case json_type_double:
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		break;
	default:
		return -EMEDIUMTYPE;
	}
	*ret = strdup(s ? s : "");
	return *ret ? 0 : -ENOMEM;
}

/* ---- writing a struct from the same tables ---------------------------------------------- */

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

static int add_null(struct json_object *o, const char *key)
{
	return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
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

static struct json_object *encode_object(const struct schema *s, const char *base);

static struct json_object *encode_array(const struct schema *sub, const char *elems, size_t n)
{
	_cleanup_json_ struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (array_append(a, encode_object(sub, elems + i * sub->size)) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static int encode_field(struct json_object *o, const struct field *f, const char *base)
{
	const void *p = base + f->offset;

	switch (f->type) {
	case FIELD_STRING: {
		const char *s = f->format ? f->format(p) : *(char *const *)p;

		return s ? add_value(o, f->name, json_object_new_string(s)) : add_null(o, f->name);
	}
	case FIELD_BOOL:
		return add_value(o, f->name, json_object_new_boolean(*(const bool *)p));
	case FIELD_INT64:
		return add_value(o, f->name, json_object_new_int64(*(const int64_t *)p));
	case FIELD_INT:
		if ((f->flags & F_NEGATIVE_NONE) && *(const int *)p < 0)
			return add_null(o, f->name);
		return add_value(o, f->name, json_object_new_int(*(const int *)p));
	case FIELD_UINT64:
		return add_value(o, f->name, json_object_new_uint64(*(const uint64_t *)p));
	case FIELD_DOUBLE:
		return add_value(o, f->name, json_object_new_double(*(const double *)p));
	case FIELD_STRV: {
		_cleanup_json_ struct json_object *a = json_object_new_array();

		if (!a)
			return -ENOMEM;
		for (char *const *l = *(char **const *)p; l && *l; l++)
			if (array_append(a, json_object_new_string(*l)) < 0)
				return -ENOMEM;
		return add_value(o, f->name, TAKE_PTR(a));
	}
	case FIELD_OBJECT:
		return add_value(o, f->name, encode_object(f->sub, (const char *)p));
	case FIELD_ARRAY:
		return add_value(o, f->name,
				 encode_array(f->sub, *(char *const *)p,
					      *(const size_t *)(base + f->aux)));
	}
	return -EINVAL;
}

/* The JSON object for the struct at BASE, its keys in table order (NULL: out of memory). */
static struct json_object *encode_object(const struct schema *s, const char *base)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	for (size_t i = 0; i < s->n_fields; i++)
		if (encode_field(o, &s->fields[i], base) < 0)
			return NULL;
	return TAKE_PTR(o);
}

static int to_text(struct json_object *o, char **ret)
{
	if (!o)
		return -ENOMEM;
	return text_with_newline(json_object_to_json_string_ext(o, PRINT_FLAGS), ret);
}

/* ---- the status document's tables (boot_report_to_json() and back) ---------------------- */

static const char *parse_step_result(const char *s, void *ret)
{
	int r = step_result_from_string(s);

	if (r < 0)
		return "not a step result";
	*(enum step_result *)ret = (enum step_result)r;
	return NULL;
}

static const char *format_step_result(const void *value)
{
	return step_result_to_string(*(const enum step_result *)value);
}

/* A step again (a unit of its own re-ran it) replaces the first one, as at run time. */
static int add_step(void *parent, void *elem)
{
	const struct step_report *s = elem;

	return boot_report_add_step(parent, s->name, s->result, s->duration_ms, s->message);
}

static const char *parse_key_status(const char *s, void *ret)
{
	int r = key_status_from_string(s);

	if (r < 0)
		return "not a key status";
	*(enum key_status *)ret = (enum key_status)r;
	return NULL;
}

static const char *format_key_status(const void *value)
{
	return key_status_to_string(*(const enum key_status *)value);
}

static int add_key(void *parent, void *elem)
{
	const struct key_report *k = elem;

	return boot_report_add_key(parent, k->key, k->status, k->reason);
}

static int add_volume(void *parent, void *elem)
{
	return boot_report_add_volume(parent, elem);
}

#define S(member) offsetof(struct step_report, member)
#define V(member) offsetof(struct volume_report, member)
#define B(member) offsetof(struct boot_report, member)
#define K(member) offsetof(struct key_report, member)

/* Strings may be null; control characters are kept (messages are the steps' own). */
#define REPORT_STRING (F_NULL_NONE | F_CONTROL)

static const struct field step_fields[] = {
	{ "name", FIELD_STRING, REPORT_STRING, S(name) },
	{ "result", FIELD_STRING, F_REQUIRED, S(result), .parse = parse_step_result,
	  .format = format_step_result },
	{ "duration_ms", FIELD_UINT64, 0, S(duration_ms) },
	{ "message", FIELD_STRING, REPORT_STRING, S(message) },
};
static const struct schema step_schema =
	SCHEMA(step_fields, struct step_report, .add = add_step);

/* What the verdict rests on (storage/scan.c); "mode" is null when no scan ran. */
#define VS(member) offsetof(struct volume_scan, member)
static const struct field volume_scan_fields[] = {
	{ "mode", FIELD_STRING, REPORT_STRING, VS(mode) },
	{ "requested", FIELD_STRING, REPORT_STRING, VS(requested) },
	{ "bytes_read", FIELD_UINT64, 0, VS(bytes_read) },
	{ "size", FIELD_UINT64, 0, VS(size) },
	{ "coverage", FIELD_DOUBLE, 0, VS(coverage) },
	{ "regions", FIELD_UINT64, 0, VS(regions) },
	{ "duration_ms", FIELD_UINT64, 0, VS(duration_ms) },
	{ "rate", FIELD_UINT64, 0, VS(rate) },
};
static const struct schema volume_scan_schema =
	SCHEMA(volume_scan_fields, struct volume_scan);

static const struct field volume_fields[] = {
	{ "device", FIELD_STRING, REPORT_STRING, V(device) },
	{ "verdict", FIELD_STRING, REPORT_STRING, V(verdict) },
	{ "reason", FIELD_STRING, REPORT_STRING, V(reason) },
	{ "action", FIELD_STRING, REPORT_STRING, V(action) },
	{ "mountpoint", FIELD_STRING, REPORT_STRING, V(mountpoint) },
	{ "uuid", FIELD_STRING, REPORT_STRING, V(uuid) },
	{ "volume_id", FIELD_STRING, REPORT_STRING, V(volume_id) },
	{ "result", FIELD_STRING, REPORT_STRING, V(result) },
	{ "grow", FIELD_STRING, REPORT_STRING, V(grow) },
	{ "scan", FIELD_OBJECT, 0, V(scan), .sub = &volume_scan_schema },
};
static const struct schema volume_schema =
	SCHEMA(volume_fields, struct volume_report, .add = add_volume);

/* {"key": "write_files", "status": "applied" | "partial" | "ignored" | "error", "reason": ...} */
static const struct field key_fields[] = {
	{ "key", FIELD_STRING, REPORT_STRING, K(key) },
	{ "status", FIELD_STRING, F_REQUIRED, K(status), .parse = parse_key_status,
	  .format = format_key_status },
	{ "reason", FIELD_STRING, REPORT_STRING, K(reason) },
};
static const struct schema key_schema = SCHEMA(key_fields, struct key_report, .add = add_key);

static const struct field boot_fields[] = {
	{ "instance_id", FIELD_STRING, REPORT_STRING, B(instance_id) },
	{ "first_boot", FIELD_BOOL, 0, B(first_boot) },
	{ "metadata_source", FIELD_STRING, REPORT_STRING, B(metadata_source) },
	{ "metadata_late_s", FIELD_INT, 0, B(metadata_late_s), .min = 0, .max = INT_MAX },
	{ "boot_id", FIELD_STRING, REPORT_STRING, B(boot_id) },
	{ "steps", FIELD_ARRAY, 0, B(steps), B(n_steps), .sub = &step_schema },
	{ "started", FIELD_STRING, REPORT_STRING, B(started) },
	{ "finished", FIELD_STRING, REPORT_STRING, B(finished) },
	{ "volumes", FIELD_ARRAY, 0, B(volumes), B(n_volumes), .sub = &volume_schema },
	{ "userdata_ran", FIELD_BOOL, 0, B(userdata_ran) },
	{ "userdata_exit", FIELD_INT, F_NULL_NONE | F_NEGATIVE_NONE, B(userdata_exit),
	  .min = INT_MIN, .max = INT_MAX },
	{ "host_keys", FIELD_STRV, 0, B(host_keys) },
	{ "stages", FIELD_STRV, 0, B(stages) },
	{ "keys", FIELD_ARRAY, 0, B(keys), B(n_keys), .sub = &key_schema },
};
static const struct schema boot_schema = SCHEMA(boot_fields, struct boot_report);

int boot_report_to_json(const struct boot_report *b, char **ret)
{
	_cleanup_json_ struct json_object *o = encode_object(&boot_schema, (const char *)b);

	return to_text(o, ret);
}

int volumes_to_json(const struct volume_report *v, size_t n, char **ret)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	if (!o || add_value(o, "devices", encode_array(&volume_schema, (const char *)v, n)) < 0)
		return -ENOMEM;
	return to_text(o, ret);
}

int boot_report_from_json(const char *buf, size_t len, struct boot_report *ret)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_(boot_report_done) struct boot_report b = { .userdata_exit = -1 };
	struct decoder d = {};
	int r;

	r = parse_text(buf, len, &root, NULL);
	if (r < 0)
		return r;
	r = decode_object(&d, root, &boot_schema, (char *)&b);
	if (r < 0)
		return r;

	*ret = b;
	b = (struct boot_report){};
	return 0;
}
