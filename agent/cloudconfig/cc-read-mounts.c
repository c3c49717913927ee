/* SPDX-License-Identifier: MIT */
/*
 * cc-read-mounts.c: the keys of cloud-init's cc_mounts read from the tree: `mounts` (a list of
 * fstab entries of 1 to 6 fields, a YAML null a field left to the defaults), `mount_default_fields`
 * (6 fields or nulls) and `swap` (filename, size, maxsize), with cloudconfig.c's walk helpers.
 * As in cloud-init an entry that is not a list is dropped with a warning and the others are kept
 * (the key is then partial); a wrong shape of the key itself keeps it out. Sizes are read as
 * cloud-init's util.human2bytes() reads them. Nothing is looked up on the system here (cc-mounts.c
 * applies them); no I/O, never a value logged.
 */
#include <stdlib.h>

#include "cloudconfig/cloudconfig.h"
#include "base/util.h"

static void mounts_free(struct cc_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ARRAY_SIZE(m[i].field); j++)
			free(m[i].field[j]);
	free(m);
}

void cc_clear_mounts(struct cloud_config *cc)
{
	mounts_free(cc->mounts, cc->n_mounts);
	cc->mounts = NULL;
	cc->n_mounts = 0;
}

/* One entry into M (n_fields 0: dropped, with a note). */
static int read_entry(struct walk *w, const struct cc_node *c, size_t index, struct cc_mount *m)
{
	int r;

	if (touch(w) < 0)
		return -E2BIG;
	if (c->type != CC_NODE_SEQUENCE)
		return note(w, c, "mounts[%zu] is not a list of fstab fields, ignoring", index);
	if (c->seq.n < 1 || c->seq.n > 6)
		return note(w, c, "mounts[%zu] has %zu fields (1 to 6), ignoring", index,
				c->seq.n);
	for (size_t j = 0; j < c->seq.n; j++) {
		const struct cc_node *f = c->seq.items[j];

		if (cc_node_is_null(f))
			continue;
		if (f->type != CC_NODE_SCALAR || memchr(f->scalar.value, 0, f->scalar.len)) {
			for (size_t k = 0; k < ARRAY_SIZE(m->field); k++) {
				free(m->field[k]);
				m->field[k] = NULL;
			}
			return note(w, f, "mounts[%zu] field %zu is not a string, ignoring the "
					"entry", index, j + 1);
		}
		r = node_string(w, f, "an fstab field", &m->field[j]);
		if (r < 0)
			return r;
	}
	m->n_fields = c->seq.n;
	return 0;
}

int cc_read_mounts(struct walk *w, const struct cc_node *n, struct cloud_config *cc)
{
	struct cc_mount *l;
	size_t total;
	int r;

	if (n->type != CC_NODE_SEQUENCE)
		return add_problem(w, n, "must be a list of fstab entries");
	total = n->seq.n;
	r = check_entries(w, n, total);
	if (r < 0)
		return r;
	l = calloc(total ? total : 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < total; i++)
		r = read_entry(w, n->seq.items[i], i, &l[i]);
	if (r < 0) {
		mounts_free(l, total);
		return r;
	}
	cc_clear_mounts(cc);
	cc->mounts = l;
	cc->n_mounts = total;
	return 0;
}

void cc_clear_mount_default_fields(struct cloud_config *cc)
{
	for (size_t i = 0; i < ARRAY_SIZE(cc->mount_default_fields); i++) {
		free(cc->mount_default_fields[i]);
		cc->mount_default_fields[i] = NULL;
	}
}

int cc_read_mount_default_fields(struct walk *w, const struct cc_node *n, struct cloud_config *cc)
{
	char *f[6] = {};
	int r = 0;

	if (n->type != CC_NODE_SEQUENCE || n->seq.n != 6)
		return add_problem(w, n, "must be a list of 6 fstab fields (strings or nulls)");
	for (size_t i = 0; r >= 0 && i < 6; i++)
		if (!cc_node_is_null(n->seq.items[i]))
			r = node_string(w, n->seq.items[i], "an fstab field", &f[i]);
	if (r < 0) {
		for (size_t i = 0; i < 6; i++)
			free(f[i]);
		return r;
	}
	cc_clear_mount_default_fields(cc);
	memcpy(cc->mount_default_fields, f, sizeof(f));
	return 0;
}

int cc_human2bytes(const char *s, uint64_t *ret)
{
	static const struct {
		char c;
		unsigned shift;
	} mult[] = { { 'B', 0 }, { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
	_cleanup_free_ char *num = NULL;
	unsigned shift = 0;
	size_t len;
	double v;
	char *end;
	bool dot = false, digit = false;

	num = strdup(s);
	if (!num)
		return -ENOMEM;
	len = strlen(num);
	/* cloud-init: an "iB" or "B" suffix is dropped, then a K/M/G/T (or B) multiplier. */
	if (len >= 2 && streq(num + len - 2, "iB"))
		num[len -= 2] = 0;
	else if (len >= 1 && num[len - 1] == 'B')
		num[--len] = 0;
	for (size_t i = 0; len > 0 && i < ARRAY_SIZE(mult); i++)
		if (num[len - 1] == mult[i].c) {
			shift = mult[i].shift;
			num[--len] = 0;
			break;
		}
	/* The schema's number: digits with at most one dot (no sign, exponent, inf or nan). */
	for (size_t i = 0; i < len; i++) {
		if (num[i] == '.' && !dot)
			dot = true;
		else if (num[i] >= '0' && num[i] <= '9')
			digit = true;
		else
			return -EINVAL;
	}
	if (!digit)
		return -EINVAL;
	errno = 0;
	v = strtod(num, &end);
	if (errno || *end)
		return -EINVAL;
	v = v * (double)(UINT64_C(1) << shift);
	if (!(v >= 0) || v >= 9.2e18)
		return -EINVAL;
	*ret = (uint64_t)v;
	return 0;
}

void cc_clear_swap(struct cloud_config *cc)
{
	free(cc->swap.filename);
	cc->swap = (struct cc_swap){};
}

static int read_size(struct walk *w, const struct cc_node *v, const char *what, bool auto_ok,
		     uint64_t *ret, bool *ret_auto)
{
	const char *s = cc_scalar_str(v);
	int r;

	if (touch(w) < 0)
		return -E2BIG;
	if (v->type != CC_NODE_SCALAR || !s || cc_node_bool(v) >= 0)
		return add_problem(w, v, "'%s' must be a size (bytes, or a number with B, K, M, G "
				   "or T)%s", what, auto_ok ? " or \"auto\"" : "");
	if (auto_ok && strcasecmp(s, "auto") == 0) {
		*ret_auto = true;
		return 0;
	}
	r = cc_human2bytes(s, ret);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return add_problem(w, v, "'%s' is not a size (bytes, or a number with B, K, M, G or "
				   "T)%s", what, auto_ok ? " nor \"auto\"" : "");
	return 0;
}

int cc_read_swap(struct walk *w, const struct cc_node *n, struct cloud_config *cc)
{
	struct cc_swap s = {};
	bool has_filename = false;
	int r = 0;

	if (touch(w) < 0)
		return -E2BIG;
	if (n->type != CC_NODE_MAPPING)
		return add_problem(w, n, "must be a mapping (filename, size, maxsize)");
	for (size_t i = 0; r >= 0 && i < n->map.n; i++) {
		const struct cc_node *k = n->map.pairs[i].key, *v = n->map.pairs[i].value;

		if (cc_scalar_is(k, "filename")) {
			has_filename = true;
			/* cloud-init: a null filename is "no need to setup swap". */
			if (!cc_node_is_null(v))
				r = node_string(w, v, "'filename'", &s.filename);
			if (r >= 0 && s.filename && (s.filename[0] != '/' || path_has_dotdot(s.filename) ||
						     streq(s.filename, "/")))
				r = add_problem(w, v, "'filename' must be an absolute path of a file "
						"without '..'");
		} else if (cc_scalar_is(k, "size")) {
			if (!cc_node_is_null(v))
				r = read_size(w, v, "size", true, &s.size, &s.size_auto);
		} else if (cc_scalar_is(k, "maxsize")) {
			bool unused = false;
			if (!cc_node_is_null(v))
				r = read_size(w, v, "maxsize", false, &s.maxsize, &unused);
		} else
			r = ignore_subkey(w, k);
	}
	if (r >= 0 && !has_filename) {
		s.filename = strdup("/swap.img");
		if (!s.filename)
			r = -ENOMEM;
	}
	if (r >= 0 && !s.filename) {
		s.size = 0; /* no file: nothing to do */
		s.size_auto = false;
	}
	if (r < 0) {
		free(s.filename);
		return r;
	}
	cc_clear_swap(cc);
	cc->swap = s;
	return 0;
}
