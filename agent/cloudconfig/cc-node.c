/* SPDX-License-Identifier: MIT */
/*
 * cc-node.c: the YAML tree (cc-node.h): constructors that charge the budget, amortised appends,
 * mappings that keep each key once and get a hash index past 8 keys, deep copies for aliases
 * with the depth checked, and the YAML 1.1 scalar readings. Recursion (copy, free) follows the
 * tree, whose depth is at most CC_MAX_DEPTH.
 */
#include <regex.h>
#include <stdio.h>
#include <strings.h>
#include <sys/types.h>

#include "cloudconfig/cc-node.h"
#include "base/util.h"

#define INDEX_FROM 8

#define TAG_NULL "tag:yaml.org,2002:null"
#define TAG_BOOL "tag:yaml.org,2002:bool"
#define TAG_STR "tag:yaml.org,2002:str"

void cc_budget_init(struct cc_budget *b, size_t len)
{
	size_t bytes = len > SIZE_MAX / 4 ? SIZE_MAX : len * 4;

	if (bytes < CC_MIN_BYTES)
		bytes = CC_MIN_BYTES;
	*b = (struct cc_budget){
	    .nodes = CC_MAX_NODES,
	    .bytes = bytes,
	    .work = (size_t)CC_WORK_PER_NODE * CC_MAX_NODES,
	    .bytes_max = bytes,
	};
}

int cc_budget_charge(struct cc_budget *b, size_t nodes, size_t bytes, size_t work)
{
	if (nodes > b->nodes)
		snprintf(b->why, sizeof(b->why),
			 "more than %u values (YAML nodes, aliases expanded)", CC_MAX_NODES);
	else if (bytes > b->bytes)
		snprintf(b->why, sizeof(b->why), "more than %zu bytes of values (aliases expanded)",
			 b->bytes_max);
	else if (work > b->work)
		snprintf(b->why, sizeof(b->why), "more than %zu units of parse work",
			 (size_t)CC_WORK_PER_NODE * CC_MAX_NODES);
	else {
		b->nodes -= nodes;
		b->bytes -= bytes;
		b->work -= work;
		return 0;
	}
	/* Once passed, stay passed: nothing after this may succeed. */
	b->nodes = b->bytes = b->work = 0;
	return -E2BIG;
}

static struct cc_node *node_alloc(size_t extra)
{
	return calloc(1, sizeof(struct cc_node) + extra);
}

int cc_node_new_scalar(struct cc_budget *b, const char *value, size_t len, enum cc_node_style style,
		       const char *tag, unsigned line, unsigned column, struct cc_node **ret)
{
	struct cc_node *n;
	int r;

	r = cc_budget_charge(b, 1, len, 1);
	if (r < 0)
		return r;
	if (len > SIZE_MAX - sizeof(*n) - 1)
		return -ENOMEM;
	/* The text lives right after the node: one allocation per scalar. */
	n = node_alloc(len + 1);
	if (!n)
		return -ENOMEM;
	if (tag) {
		n->tag = strdup(tag);
		if (!n->tag) {
			free(n);
			return -ENOMEM;
		}
	}
	n->type = CC_NODE_SCALAR;
	n->style = style;
	n->part = b->part;
	n->line = line;
	n->column = column;
	n->scalar.value = (char *)(n + 1);
	if (len)
		memcpy(n->scalar.value, value, len);
	n->scalar.value[len] = 0;
	n->scalar.len = len;
	*ret = n;
	return 0;
}

int cc_node_new_collection(struct cc_budget *b, enum cc_node_type type, const char *tag,
			   unsigned line, unsigned column, struct cc_node **ret)
{
	struct cc_node *n;
	int r;

	r = cc_budget_charge(b, 1, 0, 1);
	if (r < 0)
		return r;
	n = node_alloc(0);
	if (!n)
		return -ENOMEM;
	if (tag) {
		n->tag = strdup(tag);
		if (!n->tag) {
			free(n);
			return -ENOMEM;
		}
	}
	n->type = type;
	n->style = CC_STYLE_ANY;
	n->part = b->part;
	n->line = line;
	n->column = column;
	*ret = n;
	return 0;
}

void cc_node_free(struct cc_node *n)
{
	if (!n)
		return;
	switch (n->type) {
	case CC_NODE_SCALAR:
		break;
	case CC_NODE_SEQUENCE:
		for (size_t i = 0; i < n->seq.n; i++)
			cc_node_free(n->seq.items[i]);
		free(n->seq.items);
		break;
	case CC_NODE_MAPPING:
		for (size_t i = 0; i < n->map.n; i++) {
			cc_node_free(n->map.pairs[i].key);
			cc_node_free(n->map.pairs[i].value);
		}
		free(n->map.pairs);
		if (n->map.index) {
			strset_done(n->map.index);
			free(n->map.index);
		}
		break;
	}
	free(n->tag);
	free(n);
}

/* Room for one more element in a growing array of SIZE-byte elements. */
static int reserve(void **a, size_t *allocated, size_t n, size_t size)
{
	size_t na;
	void *p;

	if (n < *allocated)
		return 0;
	na = *allocated ? *allocated * 2 : 4;
	if (na <= n || na > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*a, na * size);
	if (!p)
		return -ENOMEM;
	*a = p;
	*allocated = na;
	return 0;
}

int cc_seq_append(struct cc_node *seq, struct cc_node *item)
{
	void *items = seq->seq.items;
	int r;

	r = reserve(&items, &seq->seq.allocated, seq->seq.n, sizeof(struct cc_node *));
	seq->seq.items = items;
	if (r < 0) {
		cc_node_free(item);
		return r;
	}
	seq->seq.items[seq->seq.n++] = item;
	return 0;
}

/* The index of scalar key K in MAP, or -1. */
static ssize_t map_find(const struct cc_node *map, const char *k, size_t len)
{
	size_t i;

	if (map->map.index)
		return strset_get(map->map.index, k, len, &i) ? (ssize_t)i : -1;
	for (i = 0; i < map->map.n; i++) {
		const struct cc_node *key = map->map.pairs[i].key;

		if (key->type == CC_NODE_SCALAR && key->scalar.len == len &&
		    memcmp(key->scalar.value, k, len) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static int map_index(struct cc_node *map, size_t i)
{
	const struct cc_node *key = map->map.pairs[i].key;

	if (key->type != CC_NODE_SCALAR)
		return 0;
	return strset_put(map->map.index, key->scalar.value, key->scalar.len, i, NULL);
}

void cc_graveyard_done(struct cc_graveyard *g)
{
	for (size_t i = 0; g && i < g->n; i++)
		cc_node_free(g->v[i]);
	if (g)
		free(g->v);
}

static void bury(struct cc_node *n, struct cc_graveyard *g)
{
	if (g)
		g->v[g->n++] = n; /* room reserved by the caller */
	else
		cc_node_free(n);
}

int cc_map_put(struct cc_node *map, struct cc_node *key, struct cc_node *value,
	       struct cc_graveyard *g)
{
	ssize_t i = -1;
	void *a;
	int r = 0;

	if (key->type == CC_NODE_SCALAR)
		i = map_find(map, key->scalar.value, key->scalar.len);
	if (i >= 0) {
		if (g) {
			a = g->v;
			r = reserve(&a, &g->allocated, g->n + 1, sizeof(struct cc_node *));
			g->v = a;
			if (r < 0)
				goto fail;
		}
		bury(map->map.pairs[i].value, g);
		bury(key, g);
		map->map.pairs[i].value = value;
		return 0;
	}
	if (!map->map.index && map->map.n + 1 > INDEX_FROM) {
		map->map.index = calloc(1, sizeof(struct strset));
		if (!map->map.index) {
			r = -ENOMEM;
			goto fail;
		}
		for (size_t j = 0; j < map->map.n && r >= 0; j++)
			r = map_index(map, j);
		if (r < 0) {
			strset_done(map->map.index);
			free(map->map.index);
			map->map.index = NULL;
			goto fail;
		}
	}
	a = map->map.pairs;
	r = reserve(&a, &map->map.allocated, map->map.n, sizeof(struct cc_pair));
	map->map.pairs = a;
	if (r < 0)
		goto fail;
	map->map.pairs[map->map.n] = (struct cc_pair){ .key = key, .value = value };
	if (map->map.index) {
		r = map_index(map, map->map.n);
		if (r < 0)
			goto fail;
	}
	map->map.n++;
	return 1;
fail:
	cc_node_free(key);
	cc_node_free(value);
	return r;
}

static int copy(struct cc_budget *b, const struct cc_node *n, unsigned depth, struct cc_node **ret)
{
	struct cc_node *c = NULL;
	int r;

	if (n->type != CC_NODE_SCALAR && depth > CC_MAX_DEPTH) {
		snprintf(b->why, sizeof(b->why), "nesting deeper than %u levels (through an alias)",
			 CC_MAX_DEPTH);
		b->nodes = b->bytes = b->work = 0;
		return -E2BIG;
	}
	if (n->type == CC_NODE_SCALAR)
		return cc_node_new_scalar(b, n->scalar.value, n->scalar.len, n->style, n->tag,
					  n->line, n->column, ret);
	r = cc_node_new_collection(b, n->type, n->tag, n->line, n->column, &c);
	if (r < 0)
		return r;
	if (n->type == CC_NODE_SEQUENCE) {
		for (size_t i = 0; i < n->seq.n && r >= 0; i++) {
			struct cc_node *item;

			r = copy(b, n->seq.items[i], depth + 1, &item);
			if (r >= 0)
				r = cc_seq_append(c, item);
		}
	} else {
		for (size_t i = 0; i < n->map.n && r >= 0; i++) {
			struct cc_node *k = NULL, *v = NULL;

			r = copy(b, n->map.pairs[i].key, depth + 1, &k);
			if (r >= 0)
				r = copy(b, n->map.pairs[i].value, depth + 1, &v);
			if (r >= 0)
				r = cc_map_put(c, k, v, NULL);
			else
				cc_node_free(k);
		}
	}
	if (r < 0) {
		cc_node_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int cc_node_copy(struct cc_budget *b, const struct cc_node *n, unsigned depth, unsigned line,
		 unsigned column, struct cc_node **ret)
{
	int r = copy(b, n, depth, ret);

	if (r >= 0) {
		(*ret)->line = line;
		(*ret)->column = column;
	}
	return r;
}

struct cc_node *cc_map_get(const struct cc_node *map, const char *key)
{
	ssize_t i;

	if (!map || map->type != CC_NODE_MAPPING)
		return NULL;
	i = map_find(map, key, strlen(key));
	return i < 0 ? NULL : map->map.pairs[i].value;
}

bool cc_node_is_plain(const struct cc_node *n)
{
	return n && n->type == CC_NODE_SCALAR && n->style == CC_STYLE_PLAIN && !n->tag;
}

static bool plain_is(const struct cc_node *n, const char *const *words)
{
	if (!cc_node_is_plain(n))
		return false;
	for (; *words; words++)
		if (cc_scalar_is(n, *words))
			return true;
	return false;
}

bool cc_node_is_null(const struct cc_node *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};

	if (n && n->type == CC_NODE_SCALAR && n->tag && streq(n->tag, TAG_NULL))
		return true;
	return plain_is(n, nulls);
}

int cc_node_bool(const struct cc_node *n)
{
	static const char *const yes[] = {"yes",  "Yes", "YES", "true", "True",
					  "TRUE", "on",	 "On",	"ON",	NULL};
	static const char *const no[] = {"no",	  "No",	 "NO",	"false", "False",
					 "FALSE", "off", "Off", "OFF",	 NULL};

	if (n && n->type == CC_NODE_SCALAR && n->tag && streq(n->tag, TAG_BOOL)) {
		/* !!bool: PyYAML looks the lowercased text up whatever the style. */
		static const char *const yes_l[] = {"yes", "true", "on", NULL};
		static const char *const no_l[] = {"no", "false", "off", NULL};

		for (size_t i = 0; yes_l[i]; i++)
			if (strcasecmp(n->scalar.value, yes_l[i]) == 0 &&
			    strlen(yes_l[i]) == n->scalar.len)
				return 1;
		for (size_t i = 0; no_l[i]; i++)
			if (strcasecmp(n->scalar.value, no_l[i]) == 0 &&
			    strlen(no_l[i]) == n->scalar.len)
				return 0;
		return -1;
	}
	return plain_is(n, yes) ? 1 : plain_is(n, no) ? 0 : -1;
}

bool cc_scalar_is(const struct cc_node *n, const char *s)
{
	size_t len = strlen(s);

	return n && n->type == CC_NODE_SCALAR && n->scalar.len == len &&
	       memcmp(n->scalar.value, s, len) == 0;
}

const char *cc_scalar_str(const struct cc_node *n)
{
	if (!n || n->type != CC_NODE_SCALAR || memchr(n->scalar.value, 0, n->scalar.len))
		return NULL;
	return n->scalar.value;
}

/* PyYAML's implicit resolvers for YAML 1.1 ints, floats and timestamps (resolver.py). */
static const char *const implicit_patterns[] = {
	"^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|"
	"[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$",
	"^([-+]?([0-9][0-9_]*)\\.[0-9_]*([eE][-+][0-9]+)?|\\.[0-9_]+([eE][-+][0-9]+)?|"
	"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN))$",
	"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:"
	"[0-9]{2}:[0-9]{2}(\\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)$",
};

static bool plain_resolves(const char *s)
{
	static regex_t re[ARRAY_SIZE(implicit_patterns)];
	static int compiled; /* 0 not yet, 1 done, -1 failed */

	if (compiled == 0) {
		compiled = 1;
		for (size_t i = 0; i < ARRAY_SIZE(re); i++)
			if (regcomp(&re[i], implicit_patterns[i], REG_EXTENDED | REG_NOSUB) != 0)
				compiled = -1;
	}
	if (compiled < 0)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(re); i++)
		if (regexec(&re[i], s, 0, NULL, 0) == 0)
			return true;
	return false;
}

bool cc_node_is_str(const struct cc_node *n)
{
	if (!n || n->type != CC_NODE_SCALAR)
		return false;
	if (n->tag)
		return streq(n->tag, TAG_STR);
	if (n->style != CC_STYLE_PLAIN)
		return true;
	if (cc_node_is_null(n) || cc_node_bool(n) >= 0)
		return false;
	/* A plain scalar is short in practice; the patterns are linear (no back-references). */
	return memchr(n->scalar.value, 0, n->scalar.len) || !plain_resolves(n->scalar.value);
}

/* Rebuild MAP's index after pairs moved. */
static int map_reindex(struct cc_node *map)
{
	int r = 0;

	if (!map->map.index)
		return 0;
	strset_done(map->map.index);
	*map->map.index = (struct strset){};
	for (size_t j = 0; j < map->map.n && r >= 0; j++)
		r = map_index(map, j);
	return r;
}

struct cc_node *cc_map_take(struct cc_node *map, const char *key)
{
	struct cc_node *v;
	ssize_t i;

	if (!map || map->type != CC_NODE_MAPPING)
		return NULL;
	i = map_find(map, key, strlen(key));
	if (i < 0)
		return NULL;
	v = map->map.pairs[i].value;
	cc_node_free(map->map.pairs[i].key);
	memmove(&map->map.pairs[i], &map->map.pairs[i + 1],
		(map->map.n - (size_t)i - 1) * sizeof(struct cc_pair));
	map->map.n--;
	if (map_reindex(map) < 0) {
		/* Out of memory: drop the index, lookups fall back to the scan. */
		strset_done(map->map.index);
		free(map->map.index);
		map->map.index = NULL;
	}
	return v;
}

/* --- merging ------------------------------------------------------------------------------------
 */

void cc_merge_default(struct cc_merge *m)
{
	*m = (struct cc_merge){ .dict = true, .list = true, .str = true, .dict_replace = true };
}

static bool has_opt(char *const *opts, const char *o)
{
	for (size_t i = 0; opts && opts[i]; i++)
		if (streq(opts[i], o))
			return true;
	return false;
}

int cc_merge_add_one(struct cc_merge *m, const char *name, char *const *opts, char *why,
		     size_t why_size)
{
	/* The first merger of each type is the one cloud-init's lookup finds. */
	if (streq(name, "dict") || streq(name, "m_dict")) {
		if (m->dict)
			return 0;
		m->dict = true;
		/* m_dict: the first of "replace", "no_replace" listed in MERGE_TYPES that is in
		 * the options; no_replace by default. */
		m->dict_replace = has_opt(opts, "replace");
		m->dict_recurse_str = has_opt(opts, "recurse_str");
		m->dict_recurse_array = has_opt(opts, "recurse_array") ||
					has_opt(opts, "recurse_list");
		m->dict_allow_delete = has_opt(opts, "allow_delete");
		return 0;
	}
	if (streq(name, "list") || streq(name, "m_list")) {
		if (m->list)
			return 0;
		m->list = true;
		/* m_list's MERGE_TYPES order: append, prepend, replace, no_replace. */
		m->list_method = has_opt(opts, "append")     ? CC_LIST_APPEND :
				 has_opt(opts, "prepend")    ? CC_LIST_PREPEND :
				 has_opt(opts, "replace")    ? CC_LIST_REPLACE :
				 has_opt(opts, "no_replace") ? CC_LIST_NO_REPLACE :
							       CC_LIST_REPLACE;
		m->list_recurse_str = has_opt(opts, "recurse_str");
		m->list_recurse_dict = has_opt(opts, "recurse_dict");
		m->list_recurse_array = has_opt(opts, "recurse_array") ||
					has_opt(opts, "recurse_list");
		return 0;
	}
	if (streq(name, "str") || streq(name, "m_str")) {
		if (m->str)
			return 0;
		m->str = true;
		m->str_append = has_opt(opts, "append");
		return 0;
	}
	snprintf(why, why_size, "no merger named '%.32s' (cloud-init has dict, list and str)",
		 name);
	return -EINVAL;
}

static char *lower_trim(const char *s, size_t n)
{
	char *r;

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
			 s[n - 1] == '\r'))
		n--;
	r = strndup(s, n);
	for (char *c = r; c && *c; c++) {
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
		else if (*c == '-')
			*c = '_';
	}
	return r;
}

int cc_merge_add(struct cc_merge *m, const char *spec, char *why, size_t why_size)
{
	const char *p = spec;

	for (;;) {
		size_t n = strcspn(p, "+");
		_cleanup_free_ char *item = lower_trim(p, n);
		_cleanup_strv_free_ char **opts = NULL;
		char *open, *o;
		int r;

		if (!item)
			return -ENOMEM;
		if (*item) {
			/* ^[a-zA-Z_][A-Za-z0-9_]*\((.*?)\)$ */
			open = strchr(item, '(');
			if (!open || item[strlen(item) - 1] != ')' || open == item ||
			    !((item[0] >= 'a' && item[0] <= 'z') || item[0] == '_')) {
				snprintf(why, why_size, "'%.40s' is not of the form name(options)",
					 item);
				return -EINVAL;
			}
			for (const char *c = item; c < open; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
				      *c == '_')) {
					snprintf(why, why_size,
						 "'%.40s' is not of the form name(options)", item);
					return -EINVAL;
				}
			*open = 0;
			item[strlen(open + 1) + (size_t)(open - item)] = 0; /* the ')' */
			for (o = open + 1; *o;) {
				size_t k = strcspn(o, ",");
				char *opt = lower_trim(o, k);

				if (!opt)
					return -ENOMEM;
				if (*opt) {
					r = strv_push(&opts, opt);
					if (r < 0)
						return r;
				} else
					free(opt);
				o += k + (o[k] == ',');
			}
			r = cc_merge_add_one(m, item, opts, why, why_size);
			if (r < 0)
				return r;
		}
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

const char *cc_merge_name(const struct cc_merge *m, char *buf, size_t size)
{
	static const char *const methods[] = {
		[CC_LIST_REPLACE] = "replace",
		[CC_LIST_APPEND] = "append",
		[CC_LIST_PREPEND] = "prepend",
		[CC_LIST_NO_REPLACE] = "no_replace",
	};
	size_t o = 0;

	buf[0] = 0;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		int _k = snprintf(buf + o, o < size ? size - o : 0, __VA_ARGS__);                  \
		if (_k > 0)                                                                        \
			o += (size_t)_k;                                                           \
	} while (0)
	if (m->dict)
		ADD("dict(%s%s%s%s)", m->dict_replace ? "replace" : "no_replace",
		    m->dict_recurse_array ? ",recurse_array" : "",
		    m->dict_recurse_str ? ",recurse_str" : "",
		    m->dict_allow_delete ? ",allow_delete" : "");
	if (m->list)
		ADD("%slist(%s%s%s%s)", o ? "+" : "", methods[m->list_method],
		    m->list_recurse_array ? ",recurse_array" : "",
		    m->list_recurse_dict ? ",recurse_dict" : "",
		    m->list_recurse_str ? ",recurse_str" : "");
	if (m->str)
		ADD("%sstr(%s)", o ? "+" : "", m->str_append ? "append" : "");
#undef ADD
	return buf;
}

static int merge(struct cc_budget *b, struct cc_node **dst, struct cc_node *src,
		 const struct cc_merge *m);

/* m_dict's merge_same_key(OLD, NEW): the value kept under a key both have. */
static int dict_same_key(struct cc_budget *b, struct cc_node **old, struct cc_node *new,
			 const struct cc_merge *m)
{
	if (m->dict_replace ||
	    !((new->type == CC_NODE_SEQUENCE && m->dict_recurse_array) ||
	      (cc_node_is_str(new) && m->dict_recurse_str) || new->type == CC_NODE_MAPPING)) {
		if (m->dict_replace) {
			cc_node_free(*old);
			*old = new;
		} else
			cc_node_free(new); /* no_replace: the old value stays */
		return 0;
	}
	return merge(b, old, new, m);
}

static int merge_dict(struct cc_budget *b, struct cc_node *old, struct cc_node *new,
		      const struct cc_merge *m)
{
	bool deleted = false;
	int r = 0;

	for (size_t i = 0; i < new->map.n; i++) {
		struct cc_node *k = TAKE_PTR(new->map.pairs[i].key);
		struct cc_node *v = TAKE_PTR(new->map.pairs[i].value);
		ssize_t j = -1;

		if (r >= 0)
			r = cc_budget_charge(b, 0, 0, 1);
		if (r < 0) {
			cc_node_free(k);
			cc_node_free(v);
			continue;
		}
		if (k->type == CC_NODE_SCALAR)
			j = map_find(old, k->scalar.value, k->scalar.len);
		if (j < 0) {
			/* 1 (added) is not a result of the merge's */
			r = cc_map_put(old, k, v, NULL) < 0 ? -ENOMEM : 0;
			continue;
		}
		if (cc_node_is_null(v) && m->dict_allow_delete) {
			/* Marked: the pair goes when the loop is over (one compaction). */
			cc_node_free(old->map.pairs[j].value);
			old->map.pairs[j].value = NULL;
			deleted = true;
			cc_node_free(k);
			cc_node_free(v);
			continue;
		}
		cc_node_free(k);
		if (!old->map.pairs[j].value) {
			/* deleted earlier in this merge, then given again */
			old->map.pairs[j].value = v;
			continue;
		}
		r = dict_same_key(b, &old->map.pairs[j].value, v, m);
	}
	new->map.n = 0;
	if (deleted) {
		size_t o = 0;

		for (size_t i = 0; i < old->map.n; i++) {
			if (!old->map.pairs[i].value) {
				cc_node_free(old->map.pairs[i].key);
				continue;
			}
			old->map.pairs[o++] = old->map.pairs[i];
		}
		old->map.n = o;
		if (map_reindex(old) < 0 && r >= 0)
			r = -ENOMEM;
	}
	cc_node_free(new);
	return r;
}

/* m_list's merge_same_index(OLD, NEW) for the replace method. */
static int list_same_index(struct cc_budget *b, struct cc_node **old, struct cc_node *new,
			   const struct cc_merge *m)
{
	if ((new->type == CC_NODE_SEQUENCE && m->list_recurse_array) ||
	    (cc_node_is_str(new) && m->list_recurse_str) ||
	    (new->type == CC_NODE_MAPPING && m->list_recurse_dict))
		return merge(b, old, new, m);
	cc_node_free(*old);
	*old = new;
	return 0;
}

static int merge_list(struct cc_budget *b, struct cc_node **dst, struct cc_node *new,
		      const struct cc_merge *m)
{
	struct cc_node *old = *dst;
	int r = 0;

	if (new->type != CC_NODE_SEQUENCE) {
		/* cloud-init: replace takes the new value; the other methods iterate over it
		 * (a string's characters, a mapping's keys), which no one means: the old list
		 * stays. */
		if (m->list_method == CC_LIST_REPLACE) {
			cc_node_free(old);
			*dst = new;
		} else
			cc_node_free(new);
		return 0;
	}
	switch (m->list_method) {
	case CC_LIST_APPEND:
	case CC_LIST_PREPEND: {
		struct cc_node *first = m->list_method == CC_LIST_APPEND ? old : new;
		struct cc_node *second = first == old ? new : old;

		for (size_t i = 0; i < second->seq.n && r >= 0; i++) {
			r = cc_budget_charge(b, 0, 0, 1);
			if (r >= 0)
				r = cc_seq_append(first, TAKE_PTR(second->seq.items[i]));
		}
		if (r >= 0)
			second->seq.n = 0;
		/* On failure the moved items are NULL in SECOND: cc_node_free skips them. */
		if (first != old) {
			cc_node_free(old);
			*dst = first;
		} else
			cc_node_free(second);
		return r;
	}
	case CC_LIST_NO_REPLACE:
		cc_node_free(new);
		return 0;
	case CC_LIST_REPLACE:
		for (size_t i = 0; i < new->seq.n; i++) {
			struct cc_node *v = TAKE_PTR(new->seq.items[i]);

			if (r >= 0)
				r = cc_budget_charge(b, 0, 0, 1);
			if (r < 0 || i >= old->seq.n) {
				cc_node_free(v); /* past the old length: dropped, as in m_list */
				continue;
			}
			r = list_same_index(b, &old->seq.items[i], v, m);
		}
		new->seq.n = 0;
		cc_node_free(new);
		return r;
	}
	cc_node_free(new);
	return 0;
}

static int merge(struct cc_budget *b, struct cc_node **dst, struct cc_node *src,
		 const struct cc_merge *m)
{
	struct cc_node *old = *dst;
	int r;

	r = cc_budget_charge(b, 0, 0, 1);
	if (r < 0) {
		cc_node_free(src);
		return r;
	}
	if (old->type == CC_NODE_MAPPING && m->dict) {
		if (src->type != CC_NODE_MAPPING) {
			cc_node_free(src);
			return 0;
		}
		return merge_dict(b, old, src, m);
	}
	if (old->type == CC_NODE_SEQUENCE && m->list)
		return merge_list(b, dst, src, m);
	if (cc_node_is_str(old) && m->str) {
		if (m->str_append && cc_node_is_str(src)) {
			size_t len = old->scalar.len + src->scalar.len;
			struct cc_node *n = NULL;

			r = cc_budget_charge(b, 0, len, 0);
			if (r >= 0 && !(n = node_alloc(len + 1)))
				r = -ENOMEM;
			if (r < 0) {
				cc_node_free(src);
				return r;
			}
			*n = *old;
			n->tag = TAKE_PTR(old->tag);
			n->scalar.value = (char *)(n + 1);
			memcpy(n->scalar.value, old->scalar.value, old->scalar.len);
			memcpy(n->scalar.value + old->scalar.len, src->scalar.value,
			       src->scalar.len + 1);
			n->scalar.len = len;
			cc_node_free(old);
			cc_node_free(src);
			*dst = n;
			return 0;
		}
		cc_node_free(old);
		*dst = src;
		return 0;
	}
	/* Anything else (a number, a boolean, null, or a type without a merger): the old
	 * value, as cloud-init's UnknownMerger returns it. */
	cc_node_free(src);
	return 0;
}

int cc_node_merge(struct cc_budget *b, struct cc_node **dst, struct cc_node *src,
		  const struct cc_merge *m)
{
	if (!src)
		return 0;
	if (!*dst) {
		*dst = src;
		return 0;
	}
	return merge(b, dst, src, m);
}
