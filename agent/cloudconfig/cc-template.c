/* SPDX-License-Identifier: MIT */
/*
 * cc-template.c: the "## template: jinja" renderer (cc-template.h). One pass over the text:
 * literal text is copied, {# #} dropped, {{ }} holding a dotted name replaced by its value from
 * a small fixed tree (v1, ds.meta_data, the top-level aliases), {% %} and any other expression
 * refused. Names are resolved as jinja resolves them with cloud-init's UndefinedJinjaVariable:
 * an unknown last name renders as CI_MISSING_JINJA_VAR/NAME, an unknown name with more after
 * it is an error (jinja raises UndefinedError and cloud-init drops the template).
 */
#include <strings.h>

#include "base/util.h"
#include "cloudconfig/cc-template.h"

#define MAX_NAMES 8	/* a.b.c...: components of one name */
#define MAX_NAME_LEN 64 /* one component */

void cc_template_done(struct cc_template *t)
{
	free(t->text);
	t->text = NULL;
}

struct out {
	char *buf;
	size_t len, allocated, max;
};

static int out_put(struct out *o, const char *s, size_t n)
{
	if (n > o->max - o->len)
		return -EFBIG;
	if (o->len + n + 1 > o->allocated) {
		size_t a = o->allocated ? o->allocated : 256;
		char *b;

		while (a < o->len + n + 1)
			a *= 2;
		b = realloc(o->buf, a);
		if (!b)
			return -ENOMEM;
		o->buf = b;
		o->allocated = a;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = 0;
	return 0;
}

/* DATA with its line breaks (\r\n, \r, \n) as \n, as jinja's lexer reads a template. */
static char *normalize(const char *data, size_t len, size_t *ret_len)
{
	char *n = malloc(len + 1);
	size_t k = 0;

	if (!n)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r') {
			n[k++] = '\n';
			if (i + 1 < len && data[i + 1] == '\n')
				i++;
		} else
			n[k++] = data[i];
	}
	n[k] = 0;
	*ret_len = k;
	return n;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static unsigned count_lines(const char *s, const char *e)
{
	unsigned n = 0;

	for (; s < e; s++)
		n += *s == '\n';
	return n;
}

static int fail(struct cc_template *t, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int fail(struct cc_template *t, unsigned line, const char *fmt, ...)
{
	va_list ap;

	t->line = line;
	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* What an expression other than a dotted name is, for the refusal (never its text). */
static const char *construct(const char *s, const char *e)
{
	for (const char *p = s; p < e; p++) {
		if (*p == '|')
			return "a filter ('|')";
		if (*p == '(')
			return "a call ('(')";
		if (*p == '[')
			return "a subscript ('[')";
		if (*p == '\'' || *p == '"')
			return "a string literal";
	}
	if (s < e && *s >= '0' && *s <= '9')
		return "a number";
	return "an expression (only variable names are rendered)";
}

/* The keyword of a {% %} statement when it is one of jinja's, else NULL (user text is never
 * echoed). */
static const char *keyword(const char *s, const char *e)
{
	static const char *const kw[] = {
		"if",	 "elif",     "else",   "endif",	  "for",  "endfor", "set",   "endset",
		"macro", "endmacro", "call",   "endcall", "filter", "endfilter", "block",
		"endblock", "extends", "include", "import", "from", "raw",    "endraw", "with",
		"endwith", "do",     "break",  "continue", "autoescape", "endautoescape",
	};
	size_t n;

	while (s < e && (is_ws(*s) || *s == '-' || *s == '+'))
		s++;
	for (n = 0; s + n < e && is_ident(s[n]); n++)
		;
	for (size_t i = 0; i < ARRAY_SIZE(kw); i++)
		if (strlen(kw[i]) == n && strncmp(s, kw[i], n) == 0)
			return kw[i];
	return NULL;
}

enum node_kind {
	NODE_UNDEFINED,
	NODE_VALUE,
	NODE_ROOT,
	NODE_V1,
	NODE_DS,
	NODE_META,
};

struct name {
	char c[MAX_NAMES][MAX_NAME_LEN + 1];
	size_t n;
};

static bool v1_value(const struct cc_vars *v, const char *name, const char **ret)
{
	if (!v)
		return false;
	if (streq(name, "instance_id"))
		*ret = v->instance_id;
	else if (streq(name, "local_hostname"))
		*ret = v->local_hostname;
	else if (streq(name, "region"))
		*ret = v->region;
	else if (streq(name, "availability_zone"))
		*ret = v->availability_zone;
	else if (streq(name, "cloud_name") || streq(name, "cloud_id"))
		*ret = v->cloud_name; /* canonical_cloud_id(): the cloud's name for Vultr */
	else if (streq(name, "platform"))
		*ret = v->platform;
	else
		return false;
	return true;
}

/*
 * Resolve NAME: 1 and *RET (malloc'd) its text, 0 undefined at its last component (*RET_MISSING
 * names it), -EBADMSG (T says why), -ENOMEM.
 */
static int resolve(const struct cc_vars *v, const struct name *nm, unsigned line,
		   struct cc_template *t, char **ret, const char **ret_missing)
{
	enum node_kind k = NODE_ROOT;
	const char *val = NULL;
	char *owned = NULL;
	int r;

	for (size_t i = 0; i < nm->n; i++) {
		const char *c = nm->c[i];
		enum node_kind next = NODE_UNDEFINED;

		switch (k) {
		case NODE_ROOT:
			if (streq(c, "v1"))
				next = NODE_V1;
			else if (streq(c, "ds"))
				next = NODE_DS;
			else if (v1_value(v, c, &val))
				next = NODE_VALUE;
			break;
		case NODE_V1:
			if (v1_value(v, c, &val))
				next = NODE_VALUE;
			break;
		case NODE_DS:
			if (streq(c, "meta_data"))
				next = NODE_META;
			break;
		case NODE_META:
			/* The datasource's own keys (helpers/vultr.py sets them), then the
			 * document's. */
			if (streq(c, "instance_id") || streq(c, "local_hostname") ||
			    streq(c, "region")) {
				(void)v1_value(v, c, &val);
				next = NODE_VALUE;
			} else if (v && v->meta_data) {
				r = v->meta_data(v->userdata, c, &owned);
				if (r == -EMEDIUMTYPE)
					return fail(t, line, "ds.meta_data.%s is not a scalar: vagent "
						    "renders only the document's top-level strings, "
						    "numbers and booleans", c);
				if (r < 0 && r != -ENOENT)
					return r;
				if (r >= 0) {
					val = owned;
					next = NODE_VALUE;
				}
			}
			break;
		case NODE_VALUE: /* an attribute of a string: jinja's undefined */
		case NODE_UNDEFINED:
			break;
		}
		if (next == NODE_UNDEFINED) {
			free(owned);
			if (i + 1 < nm->n)
				return fail(t, line, "'%s' is undefined, so '%s' after it cannot be "
					    "read (cloud-init drops such a template too)", c,
					    nm->c[i + 1]);
			*ret_missing = c;
			return 0;
		}
		if (next != NODE_VALUE || i + 1 < nm->n) {
			free(owned);
			owned = NULL;
		}
		k = next;
	}
	if (k != NODE_VALUE)
		return fail(t, line, "'%s' is a mapping: only its values can be rendered",
			    nm->c[nm->n - 1]);
	if (owned) {
		*ret = owned;
		return 1;
	}
	*ret = strdup(val ? val : "None");
	return *ret ? 1 : -ENOMEM;
}

/* Parse [S, E) as NAME(.NAME)*, white space around each. */
static int parse_name(const char *s, const char *e, unsigned line, struct cc_template *t,
		      struct name *nm)
{
	const char *p = s;

	nm->n = 0;
	for (;;) {
		const char *b;

		while (p < e && is_ws(*p))
			p++;
		if (p >= e || !is_ident_start(*p))
			break;
		b = p;
		while (p < e && is_ident(*p))
			p++;
		if (nm->n == MAX_NAMES || (size_t)(p - b) > MAX_NAME_LEN)
			return fail(t, line, "a variable name longer than vagent renders (%u parts "
				    "of %u characters)", MAX_NAMES, MAX_NAME_LEN);
		memcpy(nm->c[nm->n], b, (size_t)(p - b));
		nm->c[nm->n++][p - b] = 0;
		while (p < e && is_ws(*p))
			p++;
		if (p < e && *p == '.') {
			p++;
			continue;
		}
		if (p >= e)
			return 0;
		break;
	}
	if (nm->n == 0 && p >= e)
		return fail(t, line, "an empty {{ }}");
	return fail(t, line, "{{ }} with %s is not supported by vagent", construct(p, e));
}

static void note_missing(struct cc_template *t, const char *name)
{
	size_t l = strlen(t->missing);

	t->n_missing++;
	if (l + strlen(name) + 5 < sizeof(t->missing))
		snprintf(t->missing + l, sizeof(t->missing) - l, "%s'%s'", l ? ", " : "", name);
}

int cc_template_render(const char *data, size_t len, const struct cc_vars *v, size_t max,
		       struct cc_template *t)
{
	struct out o = { .max = max };
	_cleanup_free_ char *norm = NULL;
	const char *p, *end, *hdr;
	bool add_newline;
	unsigned line = 1;
	size_t n;
	int r = 0;

	*t = (struct cc_template){};
	/* The header: white space, then the first line (up to the first \n, as cloud-init's
	 * detect_template cuts it), "##\s*template:\s*jinja\s*". */
	p = data;
	end = data + len;
	while (p < end && is_ws(*p))
		line += *p++ == '\n';
	hdr = p;
	p = memchr(hdr, '\n', (size_t)(end - hdr)) ?: end;
	{
		const char *q = hdr, *he = p;

		if (he - q >= 2 && q[0] == '#' && q[1] == '#')
			q += 2;
		else
			return fail(t, line, "no '## template: jinja' header on the first line");
		while (q < he && is_ws(*q))
			q++;
		if (he - q < 9 || strncasecmp(q, "template:", 9) != 0)
			return fail(t, line, "no '## template: jinja' header on the first line");
		q += 9;
		while (q < he && is_ws(*q))
			q++;
		while (he > q && is_ws(he[-1]))
			he--;
		if (he - q != 5 || strncasecmp(q, "jinja", 5) != 0)
			return fail(t, line, "the header names a template type other than jinja "
				    "(cloud-init refuses it too)");
	}
	if (p < end)
		p++, line++;
	/* cloud-init puts back a "\n" at the end when the text after the header ended in one. */
	add_newline = end > p && end[-1] == '\n';
	/* The rest as jinja reads it: its line breaks as \n, the last one dropped
	 * (keep_trailing_newline off). */
	norm = normalize(p, (size_t)(end - p), &n);
	if (!norm)
		return -ENOMEM;
	p = norm;
	end = norm + n;
	if (end > p && end[-1] == '\n')
		end--;

	while (p < end && r >= 0) {
		const char *q = p, *lit_end, *body, *close;
		bool trim_before;

		while (q + 1 < end && !(q[0] == '{' && (q[1] == '{' || q[1] == '%' || q[1] == '#')))
			q++;
		if (q + 1 >= end) {
			r = out_put(&o, p, (size_t)(end - p));
			break;
		}
		trim_before = q + 2 < end && q[2] == '-';
		lit_end = q;
		if (trim_before)
			while (lit_end > p && is_ws(lit_end[-1]))
				lit_end--;
		r = out_put(&o, p, (size_t)(lit_end - p));
		if (r < 0)
			break;
		line += count_lines(p, q);
		body = q + 2 + trim_before;

		if (q[1] == '%') {
			const char *kw = keyword(body, end);

			if (kw)
				r = fail(t, line, "the jinja statement '{%% %s %%}' is not supported "
					 "by vagent (only {{ variables }} and {# comments #})", kw);
			else
				r = fail(t, line, "a jinja {%% %%} statement is not supported by "
					 "vagent (only {{ variables }} and {# comments #})");
			break;
		}
		if (q[1] == '#') {
			close = body;
			while (close + 1 < end && !(close[0] == '#' && close[1] == '}'))
				close++;
			if (close + 1 >= end) {
				r = fail(t, line, "a {# comment #} that is not closed");
				break;
			}
			line += count_lines(q, close);
			p = close + 2;
			if (close > body && close[-1] == '-') {
				while (p < end && is_ws(*p))
					line += *p++ == '\n';
			} else if (p < end && *p == '\n') /* trim_blocks */
				p++, line++;
			continue;
		}
		/* {{ ... }} */
		close = body;
		while (close + 1 < end && !(close[0] == '}' && close[1] == '}'))
			close++;
		if (close + 1 >= end) {
			r = fail(t, line, "a {{ that is not closed by }}");
			break;
		}
		{
			const char *e = close;
			bool trim_after = e > body && e[-1] == '-';
			_cleanup_free_ char *val = NULL;
			const char *missing = NULL;
			struct name nm;

			if (trim_after)
				e--;
			r = parse_name(body, e, line, t, &nm);
			if (r < 0)
				break;
			r = resolve(v, &nm, line, t, &val, &missing);
			if (r < 0)
				break;
			if (r > 0) {
				t->n_substituted++;
				r = out_put(&o, val, strlen(val));
			} else {
				note_missing(t, missing);
				r = out_put(&o, CC_MISSING_JINJA_PREFIX,
					    strlen(CC_MISSING_JINJA_PREFIX));
				if (r >= 0)
					r = out_put(&o, missing, strlen(missing));
			}
			line += count_lines(q, close);
			p = close + 2;
			if (trim_after)
				while (p < end && is_ws(*p))
					line += *p++ == '\n';
		}
	}
	if (r >= 0)
		r = out_put(&o, "\n", add_newline);
	if (r < 0) {
		free(o.buf);
		return r;
	}
	t->text = o.buf;
	t->len = o.len;
	return 0;
}
