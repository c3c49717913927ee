/* SPDX-License-Identifier: MIT */
/*
 * cc-mime.c: a small reader for the MIME archives cloud-init accepts as user data: top-level
 * headers, a multipart body cut at "--boundary" lines (the line break before a delimiter
 * belongs to it, RFC 2046), each part's Content-Type and Content-Transfer-Encoding, base64
 * undone. Header continuation lines, CRLF or LF, quoted boundaries are handled; anything
 * richer (nested archives) is handed back for the caller to report.
 */
#include <strings.h>

#include "cloudconfig/cc-mime.h"
#include "base/util.h"

void mime_parts_free(struct mime_part *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].type);
		free(p[i].merge_type);
		free(p[i].body);
	}
	free(p);
}

int base64_decode(const char *s, size_t len, unsigned flags, char **ret, size_t *ret_len)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *out = malloc(len / 4 * 3 + 4);
	unsigned quad = 0, pads = 0;
	uint32_t acc = 0;
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;

		if (c >= 0x80 && (flags & BASE64_ASCII))
			return -EBADMSG;
		if (c == '=') {
			/* Padding counts only where a quantum can end; once it does, the data ends. */
			if (quad >= 2 && quad + ++pads >= 4)
				goto done;
			continue;
		}
		v = base64_char_value(c);
		if (v < 0)
			continue; /* not in the alphabet: skipped, as without validate=True */
		pads = 0;
		acc = (acc << 6) | (uint32_t)v;
		if (++quad == 4) {
			out[n++] = (char)(acc >> 16);
			out[n++] = (char)(acc >> 8);
			out[n++] = (char)acc;
			quad = 0;
			acc = 0;
		}
	}
	/* One character left over can never be data; two or three lack their padding. */
	if (quad == 1 || (quad > 1 && !(flags & BASE64_PAD_OK)))
		return -EBADMSG;
done:
	if (quad == 2)
		out[n++] = (char)(acc >> 4);
	else if (quad == 3) {
		out[n++] = (char)(acc >> 10);
		out[n++] = (char)(acc >> 2);
	}
	out[n] = 0;
	*ret = TAKE_PTR(out);
	*ret_len = n;
	return 0;
}

bool mime_is(const char *data, size_t len)
{
	static const char *const starts[] = { "content-type:", "mime-version:" };

	for (size_t i = 0; i < ARRAY_SIZE(starts); i++)
		if (len >= strlen(starts[i]) && strncasecmp(data, starts[i], strlen(starts[i])) == 0)
			return true;
	return false;
}

/* The next line [*P, eol) without its line break; *P moves past the break. */
static bool next_line(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char *s = *p, *nl;

	if (s >= end)
		return false;
	nl = memchr(s, '\n', (size_t)(end - s));
	*ret = s;
	*ret_len = (size_t)((nl ? nl : end) - s);
	if (*ret_len > 0 && s[*ret_len - 1] == '\r')
		(*ret_len)--;
	*p = nl ? nl + 1 : end;
	return true;
}

struct headers {
	char *type;     /* lowercased, parameters cut */
	char *boundary;
	char *encoding; /* lowercased */
	char *merge_type;
};

static void headers_done(struct headers *h)
{
	free(h->type);
	free(h->boundary);
	free(h->encoding);
	free(h->merge_type);
}

static char *trimmed_dup(const char *s, size_t n, bool lower)
{
	char *r;

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	r = strndup(s, n);
	for (char *c = r; lower && c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return r;
}

/* Content-Type value: "type/sub; boundary=\"x\"; charset=..." */
static int parse_content_type(const char *v, size_t n, struct headers *h)
{
	size_t k = strcspn(v, ";");

	if (k > n)
		k = n;
	free(h->type);
	h->type = trimmed_dup(v, k, true);
	if (!h->type)
		return -ENOMEM;
	while (k < n) {
		const char *p = v + k + 1;
		size_t m = (size_t)(v + n - p), plen = strcspn(p, ";");

		if (plen > m)
			plen = m;
		while (plen > 0 && (*p == ' ' || *p == '\t'))
			p++, plen--;
		if (plen > 9 && strncasecmp(p, "boundary=", 9) == 0) {
			const char *b = p + 9;
			size_t blen = plen - 9;

			if (blen >= 2 && b[0] == '"') {
				const char *q = memchr(b + 1, '"', blen - 1);
				blen = q ? (size_t)(q - b - 1) : blen - 1;
				b++;
			}
			free(h->boundary);
			h->boundary = trimmed_dup(b, blen, false);
			if (!h->boundary)
				return -ENOMEM;
		}
		k = (size_t)(p - v) + plen;
	}
	return 0;
}

/* Read headers from *P up to and past the blank line. */
static int parse_headers(const char **p, const char *end, struct headers *h)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *cur = NULL;
	size_t cur_len = 0, cur_alloc = 0;
	const char *line;
	size_t n;
	int r;

	for (;;) {
		bool more = next_line(p, end, &line, &n);

		if (more && n > 0 && (line[0] == ' ' || line[0] == '\t') && cur) {
			if (cur_len + n + 1 > cur_alloc) {
				/* Doubling: a header folded over many lines stays linear. */
				size_t a = cur_alloc * 2 > cur_len + n + 1 ? cur_alloc * 2
									   : cur_len + n + 1;
				char *c = realloc(cur, a);

				if (!c)
					return -ENOMEM;
				cur = c;
				cur_alloc = a;
			}
			memcpy(cur + cur_len, line, n);
			cur_len += n;
			cur[cur_len] = 0;
			continue;
		}
		if (cur) {
			const char *colon = strchr(cur, ':');
			if (colon && strncasecmp(cur, "content-type", 12) == 0 && colon - cur == 12) {
				r = parse_content_type(colon + 1, strlen(colon + 1), h);
				if (r < 0)
					return r;
			} else if (colon && colon - cur == 25 &&
				   strncasecmp(cur, "content-transfer-encoding", 25) == 0) {
				free(h->encoding);
				h->encoding = trimmed_dup(colon + 1, strlen(colon + 1), true);
				if (!h->encoding)
					return -ENOMEM;
			} else if (colon && ((colon - cur == 10 &&
					      strncasecmp(cur, "merge-type", 10) == 0) ||
					     (colon - cur == 12 &&
					      strncasecmp(cur, "x-merge-type", 12) == 0))) {
				/* cloud-init reads Merge-Type first, then X-Merge-Type. */
				if (!h->merge_type || colon - cur == 10) {
					free(h->merge_type);
					h->merge_type =
					    trimmed_dup(colon + 1, strlen(colon + 1), false);
					if (!h->merge_type)
						return -ENOMEM;
				}
			}
			free(cur);
			cur = NULL;
		}
		if (!more || n == 0)
			return 0;
		cur = strndup(line, n);
		if (!cur)
			return -ENOMEM;
		cur_len = n;
		cur_alloc = n + 1;
	}
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Quoted-printable as Python's binascii.a2b_qp (what the email module uses): =XX is a byte, a
 * '=' before the line break joins the lines (anything between it and the break is dropped),
 * "==" is one '=', any other '=' stays as it is. */
static int qp_decode(const char *s, size_t len, char **ret, size_t *ret_len)
{
	char *out = malloc(len + 1);
	size_t n = 0, i = 0;

	if (!out)
		return -ENOMEM;
	while (i < len) {
		if (s[i] != '=') {
			out[n++] = s[i++];
			continue;
		}
		if (++i >= len)
			break;
		if (s[i] == '\n' || s[i] == '\r') {
			while (i < len && s[i] != '\n')
				i++;
			if (i < len)
				i++;
		} else if (s[i] == '=') {
			out[n++] = '=';
			i++;
		} else if (i + 1 < len && hex_value(s[i]) >= 0 && hex_value(s[i + 1]) >= 0) {
			out[n++] = (char)(hex_value(s[i]) << 4 | hex_value(s[i + 1]));
			i += 2;
		} else
			out[n++] = '=';
	}
	out[n] = 0;
	*ret = out;
	*ret_len = n;
	return 0;
}

static int add_part(struct mime_part **parts, size_t *n, size_t *allocated, const char *s,
		    size_t len)
{
	struct headers h = {};
	struct mime_part *np, *part;
	const char *p = s, *end = s + len;
	int r;

	if (*n >= MIME_MAX_PARTS)
		return -E2BIG;
	r = parse_headers(&p, end, &h);
	if (r < 0)
		goto out;
	if (*n == *allocated) {
		size_t a = *allocated ? *allocated * 2 : 8;

		np = reallocarray(*parts, a, sizeof(**parts));
		if (!np) {
			r = -ENOMEM;
			goto out;
		}
		*parts = np;
		*allocated = a;
	}
	part = &(*parts)[(*n)++];
	*part = (struct mime_part){ .type = h.type ? TAKE_PTR(h.type) : strdup(""),
				    .merge_type = TAKE_PTR(h.merge_type) };
	if (!part->type) {
		r = -ENOMEM;
		goto out;
	}
	if (!h.encoding || streq(h.encoding, "7bit") || streq(h.encoding, "8bit") ||
	    streq(h.encoding, "binary")) {
		/* Not strndup(): a NUL byte in the part would leave LEN past the copy's end. */
		part->len = (size_t)(end - p);
		part->body = malloc(part->len + 1);
		if (part->body) {
			memcpy(part->body, p, part->len);
			part->body[part->len] = '\0';
		}
		part->decoded = true;
		r = part->body ? 0 : -ENOMEM;
	} else if (streq(h.encoding, "base64")) {
		/* Python's email module adds missing padding before it decodes. */
		r = base64_decode(p, (size_t)(end - p), BASE64_PAD_OK, &part->body, &part->len);
		part->decoded = r >= 0;
		if (r == -EBADMSG)
			r = 0;
	} else if (streq(h.encoding, "quoted-printable")) {
		r = qp_decode(p, (size_t)(end - p), &part->body, &part->len);
		part->decoded = r >= 0;
	}
out:
	headers_done(&h);
	return r;
}

/* true when LINE (N bytes) is "--BOUNDARY" (*RET_CLOSE: "--BOUNDARY--"), trailing blanks ok */
static bool is_delimiter(const char *line, size_t n, const char *boundary, bool *ret_close)
{
	size_t b = strlen(boundary);

	if (n < b + 2 || line[0] != '-' || line[1] != '-' || memcmp(line + 2, boundary, b) != 0)
		return false;
	line += b + 2;
	n -= b + 2;
	*ret_close = n >= 2 && line[0] == '-' && line[1] == '-';
	if (*ret_close)
		line += 2, n -= 2;
	for (size_t i = 0; i < n; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	return true;
}

int mime_split(const char *data, size_t len, struct mime_part **ret, size_t *ret_n)
{
	struct headers top = {};
	struct mime_part *parts = NULL;
	const char *p = data, *end = data + len, *part_start = NULL, *line;
	size_t n = 0, allocated = 0, llen;
	bool closed = false;
	int r;

	r = parse_headers(&p, end, &top);
	if (r >= 0 && (!top.type || !startswith(top.type, "multipart/"))) {
		/* A message of one part (Python's email walks it as its only part). */
		headers_done(&top);
		r = add_part(&parts, &n, &allocated, data, len);
		if (r < 0) {
			mime_parts_free(parts, n);
			return r;
		}
		*ret = parts;
		*ret_n = n;
		return 0;
	}
	if (r >= 0 && (!top.boundary || !*top.boundary))
		r = -EBADMSG;
	for (;;) {
		const char *line_start = p;
		bool close = false;

		if (r < 0 || !next_line(&p, end, &line, &llen))
			break;
		if (!is_delimiter(line, llen, top.boundary, &close))
			continue;
		if (part_start) {
			/* The line break before the delimiter belongs to it. */
			const char *e = line_start;
			if (e > part_start && e[-1] == '\n')
				e--;
			if (e > part_start && e[-1] == '\r')
				e--;
			r = add_part(&parts, &n, &allocated, part_start, (size_t)(e - part_start));
		}
		part_start = p;
		if (close) {
			closed = true;
			break;
		}
	}
	/* No closing delimiter: the last part runs to the end. */
	if (r >= 0 && part_start && !closed && part_start < end)
		r = add_part(&parts, &n, &allocated, part_start, (size_t)(end - part_start));
	headers_done(&top);
	if (r < 0) {
		mime_parts_free(parts, n);
		return r;
	}
	*ret = parts;
	*ret_n = n;
	return 0;
}
