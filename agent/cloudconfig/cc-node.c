/* SPDX-License-Identifier: MIT */
/*
 * cc-node.c: the YAML tree (cc-node.h): constructors that charge the budget, amortised appends,
 * mappings that keep each key once and get a hash index past 8 keys, deep copies for aliases
 * with the depth checked, and the YAML 1.1 scalar readings. Recursion (copy, free) follows the
 * tree, whose depth is at most CC_MAX_DEPTH.
 */
#include <strings.h>
#include <sys/types.h>

#include "cloudconfig/cc-node.h"

#define INDEX_FROM 8

#define TAG_NULL "tag:yaml.org,2002:null"
#define TAG_BOOL "tag:yaml.org,2002:bool"

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
