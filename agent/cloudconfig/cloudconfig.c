/* SPDX-License-Identifier: MIT */
/*
 * cloudconfig.c: the only libyaml user. A "#cloud-config" document is read with libyaml's event
 * API (yaml_parser_parse: its document loader is quadratic on deep flow collections) into the
 * tree of cc-node.h, with the nesting capped at CC_MAX_DEPTH while the events arrive, aliases
 * expanded into copies charged to the budget, `<<` merge keys applied as PyYAML does, and each
 * mapping key kept once (the last value wins). The tree is then read by the shape of each
 * supported key into struct cloud_config. Scalars follow YAML 1.1 as cloud-init's PyYAML reads
 * them (yes/no/on/off booleans, 0644 as octal). A document that is not YAML is an error with
 * libyaml's line, column and reason; a key of the wrong shape is kept out with a problem line
 * naming the key and where it is; an unsupported sub-key is one problem line per key and name,
 * however often it occurs. Problems and errors never quote values: user data is secret (key
 * names are shown).
 */
#include <stdarg.h>
#include <yaml.h>

#include "cloudconfig/cloudconfig.h"
#include "cloudconfig/cc-mime.h"
#include "base/set.h"
#include "base/dlopen.h"
#include "base/util.h"

/* libyaml-0.so.2 is loaded by load_yaml() at the first use (base/dlopen.h): a unit that never
 * needs to parse cloud-config never maps it. Every call goes through this table. */
static struct {
	typeof(yaml_parser_parse) *yaml_parser_parse;
	typeof(yaml_parser_set_input_string) *yaml_parser_set_input_string;
	typeof(yaml_parser_initialize) *yaml_parser_initialize;
	typeof(yaml_parser_delete) *yaml_parser_delete;
	typeof(yaml_event_delete) *yaml_event_delete;
} sym;
static void *libyaml;

static int load_yaml(void)
{
	static const struct dl_symbol syms[] = {
		DL_SYMBOL(sym, yaml_parser_parse),
		DL_SYMBOL(sym, yaml_parser_set_input_string),
		DL_SYMBOL(sym, yaml_parser_initialize),
		DL_SYMBOL(sym, yaml_parser_delete),
		DL_SYMBOL(sym, yaml_event_delete),
	};

	return dl_load(&libyaml, "libyaml-0.so.2", "parse cloud-config", syms, ARRAY_SIZE(syms));
}

#define TAG_MERGE "tag:yaml.org,2002:merge"
#define TAG_BINARY "tag:yaml.org,2002:binary"

/* --- YAML events -> tree ------------------------------------------------------------------------
 */

struct frame {
	struct cc_node *node;	 /* the collection being built */
	struct cc_node *key;	 /* a mapping's key waiting for its value */
	struct cc_node **merges; /* a mapping's "<<" values, in document order */
	size_t n_merges, allocated_merges;
	size_t anchor; /* 1 + the index of its anchor, 0: none */
};

struct anchor {
	char *name;
	struct cc_node *node; /* NULL while the anchored collection is still open */
};

struct builder {
	struct cc_budget *b;
	struct cc_error *err;
	struct frame stack[CC_MAX_DEPTH];
	unsigned depth;
	struct cc_node *root;
	bool have_root;
	struct anchor *anchors;
	size_t n_anchors, allocated_anchors;
	struct strset anchor_index; /* name -> index in ANCHORS (the latest of that name) */
	struct cc_graveyard graveyard;
};

static int fail_at(struct cc_error *err, int r, const yaml_mark_t *m, const char *fmt, ...)
    _printf_(4, 5);
static int fail_at(struct cc_error *err, int r, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	err->line = (unsigned)m->line + 1;
	err->column = (unsigned)m->column + 1;
	va_start(ap, fmt);
	vsnprintf(err->problem, sizeof(err->problem), fmt, ap);
	va_end(ap);
	if (r == -E2BIG) {
		/* Shown without the line and column otherwise ("cannot be read: ..."). */
		size_t n = strlen(err->problem);
		snprintf(err->problem + n, sizeof(err->problem) - n, ", at line %u, column %u",
			 err->line, err->column);
	}
	return r;
}

static int budget_fail(struct builder *bl, const yaml_mark_t *m)
{
	return fail_at(bl->err, -E2BIG, m, "%s", bl->b->why);
}

static int grow_array(void **a, size_t *allocated, size_t n, size_t size)
{
	size_t na;
	void *p;

	if (n < *allocated)
		return 0;
	na = *allocated ? *allocated * 2 : 8;
	if (na <= n || na > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*a, na * size);
	if (!p)
		return -ENOMEM;
	*a = p;
	*allocated = na;
	return 0;
}

/* Name the node just started (NODE NULL: a collection, set when it ends). Returns 1 + index. */
static int anchor_define(struct builder *bl, const yaml_char_t *name, struct cc_node *node,
			 size_t *ret)
{
	void *a = bl->anchors;
	char *copy;
	int r;

	r = grow_array(&a, &bl->allocated_anchors, bl->n_anchors, sizeof(struct anchor));
	bl->anchors = a;
	if (r < 0)
		return r;
	copy = strdup((const char *)name);
	if (!copy)
		return -ENOMEM;
	bl->anchors[bl->n_anchors] = (struct anchor){ .name = copy, .node = node };
	/* A later anchor of the same name hides the earlier one (YAML 1.1, 3.2.2.2). */
	r = strset_replace(&bl->anchor_index, copy, strlen(copy), bl->n_anchors);
	if (r < 0) {
		free(copy);
		return r;
	}
	if (node)
		node->anchored = true;
	*ret = ++bl->n_anchors;
	return 0;
}

static bool is_merge_key(const struct cc_node *k)
{
	return k->type == CC_NODE_SCALAR && ((cc_node_is_plain(k) && cc_scalar_is(k, "<<")) ||
					     (k->tag && streq(k->tag, TAG_MERGE)));
}

/* NODE leaves the tree; an anchor may still name it or something in it: freed at the end. */
static int bury(struct builder *bl, struct cc_node *node)
{
	void *a = bl->graveyard.v;
	int r;

	r = grow_array(&a, &bl->graveyard.allocated, bl->graveyard.n, sizeof(struct cc_node *));
	bl->graveyard.v = a;
	if (r < 0) {
		cc_node_free(node); /* the parse fails: no anchor is read again */
		return r;
	}
	bl->graveyard.v[bl->graveyard.n++] = node;
	return 0;
}

/* Hang NODE (owned) into the collection being built, or make it the root. */
static int add_node(struct builder *bl, struct cc_node *node, const yaml_mark_t *m)
{
	struct frame *f;
	int r;

	if (bl->depth == 0) {
		bl->root = node;
		bl->have_root = true;
		return 0;
	}
	f = &bl->stack[bl->depth - 1];
	if (f->node->type == CC_NODE_SEQUENCE)
		return cc_seq_append(f->node, node);
	if (!f->key) {
		f->key = node;
		return 0;
	}
	if (is_merge_key(f->key)) {
		void *a = f->merges;

		r = grow_array(&a, &f->allocated_merges, f->n_merges, sizeof(struct cc_node *));
		f->merges = a;
		if (r < 0) {
			cc_node_free(node);
			return r;
		}
		f->merges[f->n_merges++] = node;
		return bury(bl, TAKE_PTR(f->key));
	}
	r = cc_map_put(f->node, TAKE_PTR(f->key), node, &bl->graveyard);
	if (r < 0)
		return r;
	if (bl->depth == 1 && f->node->map.n > CC_MAX_KEYS)
		return fail_at(bl->err, -E2BIG, m, "more than %u top-level keys", CC_MAX_KEYS);
	return 0;
}

/* Put SRC's pairs into DST: moved, or copied when KEEP (an anchor names SRC or the list it is
 * in, so it must stay as it is for later aliases). */
static int merge_pairs(struct builder *bl, struct cc_node *dst, struct cc_node *src, bool keep,
		       const yaml_mark_t *m)
{
	int r = 0;

	for (size_t i = 0; i < src->map.n && r >= 0; i++) {
		struct cc_node *k = src->map.pairs[i].key, *v = src->map.pairs[i].value;

		if (keep) {
			k = v = NULL;
			r = cc_node_copy(bl->b, src->map.pairs[i].key, bl->depth + 1,
					 src->map.pairs[i].key->line, src->map.pairs[i].key->column,
					 &k);
			if (r >= 0)
				r = cc_node_copy(bl->b, src->map.pairs[i].value, bl->depth + 1,
						 src->map.pairs[i].value->line,
						 src->map.pairs[i].value->column, &v);
			if (r < 0) {
				cc_node_free(k);
				return r == -E2BIG ? budget_fail(bl, m) : r;
			}
		}
		r = cc_map_put(dst, k, v, &bl->graveyard);
		if (!keep)
			src->map.pairs[i] = (struct cc_pair){};
	}
	if (!keep) {
		/* Moved (or freed by a failed put); what a failure left behind is freed here. */
		for (size_t i = 0; i < src->map.n; i++) {
			cc_node_free(src->map.pairs[i].key);
			cc_node_free(src->map.pairs[i].value);
		}
		free(src->map.pairs);
		src->map.pairs = NULL;
		src->map.n = src->map.allocated = 0;
		if (src->map.index) {
			strset_done(src->map.index);
			free(src->map.index);
			src->map.index = NULL;
		}
	}
	return r;
}

/*
 * A mapping with "<<" keys, as PyYAML's flatten_mapping: the merged mappings' pairs come first
 * (of a list of mappings, the earlier ones win), then the mapping's own pairs override them.
 */
static int apply_merges(struct builder *bl, struct frame *f, const yaml_mark_t *m)
{
	struct cc_node *map = f->node, *tmp;
	int r = 0;

	for (size_t i = 0; i < f->n_merges; i++) {
		struct cc_node *v = f->merges[i];

		if (v->type == CC_NODE_SEQUENCE)
			for (size_t j = 0; j < v->seq.n; j++)
				if (v->seq.items[j]->type != CC_NODE_MAPPING)
					return fail_at(bl->err, -EBADMSG, m,
						       "a merge key (<<) needs a mapping or a "
						       "list of mappings");
		if (v->type == CC_NODE_SCALAR)
			return fail_at(bl->err, -EBADMSG, m,
				       "a merge key (<<) needs a mapping or a list of mappings");
	}
	tmp = calloc(1, sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	tmp->type = CC_NODE_MAPPING;
	for (size_t i = 0; i < f->n_merges && r >= 0; i++) {
		struct cc_node *v = f->merges[i];

		if (v->type == CC_NODE_MAPPING)
			r = merge_pairs(bl, tmp, v, v->anchored, m);
		else
			for (size_t j = v->seq.n; j > 0 && r >= 0; j--)
				r = merge_pairs(bl, tmp, v->seq.items[j - 1],
						v->anchored || v->seq.items[j - 1]->anchored, m);
	}
	if (r < 0) {
		cc_node_free(tmp);
		return r;
	}
	/* The mapping's own pairs, moved. */
	for (size_t i = 0; i < map->map.n && r >= 0; i++) {
		r = cc_map_put(tmp, map->map.pairs[i].key, map->map.pairs[i].value, &bl->graveyard);
		map->map.pairs[i] = (struct cc_pair){};
		for (size_t j = i + 1; r < 0 && j < map->map.n; j++) {
			cc_node_free(map->map.pairs[j].key);
			cc_node_free(map->map.pairs[j].value);
			map->map.pairs[j] = (struct cc_pair){};
		}
	}
	map->map.n = 0;
	if (r < 0) {
		cc_node_free(tmp);
		return r;
	}
	/* MAP takes TMP's pairs and index (its own are empty now). */
	free(map->map.pairs);
	if (map->map.index) {
		strset_done(map->map.index);
		free(map->map.index);
	}
	map->map.pairs = tmp->map.pairs;
	map->map.n = tmp->map.n;
	map->map.allocated = tmp->map.allocated;
	map->map.index = tmp->map.index;
	free(tmp);
	if (bl->depth == 1 && map->map.n > CC_MAX_KEYS)
		return fail_at(bl->err, -E2BIG, m, "more than %u top-level keys", CC_MAX_KEYS);
	return 0;
}

static void frame_done(struct builder *bl, struct frame *f)
{
	for (size_t i = 0; i < f->n_merges; i++)
		cc_node_free(f->merges[i]);
	free(f->merges);
	cc_node_free(f->key);
	cc_node_free(f->node);
	*f = (struct frame){};
}

static enum cc_node_style scalar_style(yaml_scalar_style_t s)
{
	switch (s) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		return CC_STYLE_SINGLE;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		return CC_STYLE_DOUBLE;
	case YAML_LITERAL_SCALAR_STYLE:
		return CC_STYLE_LITERAL;
	case YAML_FOLDED_SCALAR_STYLE:
		return CC_STYLE_FOLDED;
	default:
		return CC_STYLE_PLAIN;
	}
}

static int on_event(struct builder *bl, const yaml_event_t *e)
{
	const yaml_mark_t *m = &e->start_mark;
	unsigned line = (unsigned)m->line + 1, column = (unsigned)m->column + 1;
	struct cc_node *n = NULL;
	const yaml_char_t *anchor = NULL;
	size_t a = 0, idx;
	struct frame *f;
	int r;

	if (cc_budget_charge(bl->b, 0, 0, 1) < 0)
		return budget_fail(bl, m);

	switch (e->type) {
	case YAML_SCALAR_EVENT:
		r = cc_node_new_scalar(bl->b, (const char *)e->data.scalar.value,
				       e->data.scalar.length, scalar_style(e->data.scalar.style),
				       (const char *)e->data.scalar.tag, line, column, &n);
		if (r == -E2BIG)
			return budget_fail(bl, m);
		if (r < 0)
			return r;
		if (e->data.scalar.anchor) {
			r = anchor_define(bl, e->data.scalar.anchor, n, &a);
			if (r < 0) {
				cc_node_free(n);
				return r;
			}
		}
		return add_node(bl, n, m);

	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (bl->depth >= CC_MAX_DEPTH)
			return fail_at(bl->err, -E2BIG, m, "nesting deeper than %u levels",
				       CC_MAX_DEPTH);
		r = cc_node_new_collection(bl->b,
					   e->type == YAML_SEQUENCE_START_EVENT ? CC_NODE_SEQUENCE
										: CC_NODE_MAPPING,
					   (const char *)(e->type == YAML_SEQUENCE_START_EVENT
							      ? e->data.sequence_start.tag
							      : e->data.mapping_start.tag),
					   line, column, &n);
		if (r == -E2BIG)
			return budget_fail(bl, m);
		if (r < 0)
			return r;
		anchor = e->type == YAML_SEQUENCE_START_EVENT ? e->data.sequence_start.anchor
							      : e->data.mapping_start.anchor;
		if (anchor) {
			r = anchor_define(bl, anchor, NULL, &a);
			if (r < 0) {
				cc_node_free(n);
				return r;
			}
		}
		bl->stack[bl->depth++] = (struct frame){ .node = n, .anchor = a };
		return 0;

	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (bl->depth == 0)
			return -EBADMSG; /* libyaml pairs them; never reached */
		f = &bl->stack[bl->depth - 1];
		if (f->n_merges > 0) {
			r = apply_merges(bl, f, m);
			if (r < 0)
				return r;
		}
		n = f->node;
		a = f->anchor;
		f->node = NULL;
		/* The merged mappings (emptied, or kept whole for their anchors) go last. */
		for (r = 0; f->n_merges > 0; f->n_merges--)
			if (r >= 0)
				r = bury(bl, f->merges[f->n_merges - 1]);
			else
				cc_node_free(f->merges[f->n_merges - 1]);
		frame_done(bl, f);
		if (r < 0) {
			cc_node_free(n);
			return r;
		}
		bl->depth--;
		if (a) {
			bl->anchors[a - 1].node = n;
			n->anchored = true;
		}
		return add_node(bl, n, m);

	case YAML_ALIAS_EVENT:
		if (!strset_get(&bl->anchor_index, (const char *)e->data.alias.anchor,
				strlen((const char *)e->data.alias.anchor), &idx))
			return fail_at(bl->err, -EBADMSG, m, "found undefined alias");
		if (!bl->anchors[idx].node)
			return fail_at(bl->err, -EBADMSG, m,
				       "an alias inside the node it names (a cycle)");
		r = cc_node_copy(bl->b, bl->anchors[idx].node, bl->depth + 1, line, column, &n);
		if (r == -E2BIG)
			return budget_fail(bl, m);
		if (r < 0)
			return r;
		return add_node(bl, n, m);

	default:
		return 0;
	}
}

static int parse_error(const yaml_parser_t *p, const char *text, size_t len, struct cc_error *err)
{
	size_t line = p->problem_mark.line, column = p->problem_mark.column;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		line = column = 0;
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			column++;
			if (text[i] == '\n')
				line++, column = 0;
		}
	}
	err->line = (unsigned)line + 1;
	err->column = (unsigned)column + 1;
	snprintf(err->problem, sizeof(err->problem), "%s%s%s",
		 p->problem ? p->problem : "not valid YAML", p->context ? " " : "",
		 p->context ? p->context : "");
	return -EBADMSG;
}

int cloud_config_load(const char *text, size_t len, struct cc_budget *b, struct cc_node **ret_root,
		      bool *ret_more_documents, struct cc_error *err)
{
	struct builder bl = {.b = b, .err = err};
	yaml_parser_t parser;
	bool more = false, in_document = false;
	int r = 0;

	*err = (struct cc_error){};
	*ret_root = NULL;
	if (ret_more_documents)
		*ret_more_documents = false;
	r = load_yaml();
	if (r < 0)
		return r;
	if (!sym.yaml_parser_initialize(&parser))
		return -ENOMEM;
	sym.yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		yaml_event_t e;
		yaml_event_type_t t;

		if (!sym.yaml_parser_parse(&parser, &e)) {
			r = parse_error(&parser, text, len, err);
			break;
		}
		t = e.type;
		if (t == YAML_DOCUMENT_START_EVENT && bl.have_root)
			more = true;
		else if (t == YAML_DOCUMENT_START_EVENT)
			in_document = true;
		else if (in_document)
			r = on_event(&bl, &e);
		sym.yaml_event_delete(&e);
		if (r < 0 || more || t == YAML_STREAM_END_EVENT)
			break;
		if (t == YAML_DOCUMENT_END_EVENT)
			in_document = false;
	}
	while (bl.depth > 0)
		frame_done(&bl, &bl.stack[--bl.depth]);
	for (size_t i = 0; i < bl.n_anchors; i++)
		free(bl.anchors[i].name);
	free(bl.anchors);
	strset_done(&bl.anchor_index);
	cc_graveyard_done(&bl.graveyard);
	sym.yaml_parser_delete(&parser);
	if (r < 0) {
		cc_node_free(bl.root);
		return r;
	}
	*ret_root = bl.root;
	if (ret_more_documents)
		*ret_more_documents = more;
	return 0;
}

/* --- tree -> struct cloud_config -----------------------------------------------------------------
 */

struct walk {
	struct cloud_config *cc;
	struct cc_budget *b;
	const char *key; /* the top-level key being read, for problems */
	enum cc_key k;	 /* _CC_KEY_MAX: none */
	struct strlist problems;
	size_t dropped;
	/* Unsupported sub-keys: "KEY\037NAME" -> index in REPEATS, one problem line each. */
	struct strset seen;
	struct strlist seen_names;
	struct repeat {
		size_t line; /* index in PROBLEMS, SIZE_MAX: not shown (past the cap) */
		size_t count;
	} * repeats;
	size_t n_repeats, allocated_repeats;
};

static int push_problem(struct walk *w, const struct cc_node *n, const char *what, size_t *ret)
{
	char *line, part[24] = "";

	if (n->part > 0)
		snprintf(part, sizeof(part), " (part %u)", n->part);
	if (w->k < _CC_KEY_MAX) {
		struct cloud_config *cc = w->cc;

		/* The key's status names its first problem (without the key: it is beside it). */
		if (!cc->why[w->k] && asprintf(&cc->why[w->k], "%s (line %u%s)", what, n->line,
					       part) < 0) {
			cc->why[w->k] = NULL;
			return -ENOMEM;
		}
		cc->n_why[w->k]++;
	}
	if (w->problems.n >= CC_MAX_PROBLEMS) {
		w->dropped++;
		*ret = SIZE_MAX;
		return 0;
	}
	if (asprintf(&line, "'%s'%s at line %u, column %u: %s", w->key, part, n->line, n->column,
		     what) < 0)
		return -ENOMEM;
	*ret = w->problems.n;
	return strlist_push(&w->problems, line);
}

static int vproblem(struct walk *w, const struct cc_node *n, const char *fmt, va_list ap)
{
	_cleanup_free_ char *what = NULL;
	size_t i;

	if (vasprintf(&what, fmt, ap) < 0)
		return -ENOMEM;
	return push_problem(w, n, what, &i);
}

/* A problem that keeps the key out: returns -EINVAL (or -ENOMEM). */
int add_problem(struct walk *w, const struct cc_node *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vproblem(w, n, fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EINVAL;
}

/* A problem the key survives (an entry dropped, a default used, as cloud-init does): the key is
 * partial. Returns 0 (or -ENOMEM). */
int note(struct walk *w, const struct cc_node *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (w->k < _CC_KEY_MAX)
		w->cc->partial[w->k] = true;
	va_start(ap, fmt);
	r = vproblem(w, n, fmt, ap);
	va_end(ap);
	return r < 0 ? r : 0;
}

/* Sub-key K of the key being read is not supported: one problem line per name, counted. */
int ignore_subkey(struct walk *w, const struct cc_node *k)
{
	_cleanup_free_ char *id = NULL, *what = NULL;
	const char *name = cc_scalar_str(k);
	size_t i;
	void *a;
	int r;

	if (w->k < _CC_KEY_MAX)
		w->cc->partial[w->k] = true;
	if (!name)
		name = "?";
	if (asprintf(&id, "%s\037%s", w->key, name) < 0)
		return -ENOMEM;
	if (strset_get(&w->seen, id, strlen(id), &i)) {
		w->repeats[i].count++;
		return 0;
	}
	a = w->repeats;
	r = grow_array(&a, &w->allocated_repeats, w->n_repeats, sizeof(struct repeat));
	w->repeats = a;
	if (r < 0)
		return r;
	r = strset_put(&w->seen, id, strlen(id), w->n_repeats, NULL);
	if (r < 0)
		return r;
	r = strlist_push(&w->seen_names, TAKE_PTR(id));
	if (r < 0)
		return r; /* the set's key is gone: the walk fails and frees the set unread */
	if (asprintf(&what, "sub-key '%s' is not supported", name) < 0)
		return -ENOMEM;
	w->repeats[w->n_repeats] = (struct repeat){ .count = 1 };
	r = push_problem(w, k, what, &w->repeats[w->n_repeats].line);
	w->n_repeats++;
	return r;
}

/* One unit of work per value read. */
int touch(struct walk *w)
{
	return cc_budget_charge(w->b, 0, 0, 1);
}

int node_bool(struct walk *w, const struct cc_node *n, const char *what, bool *ret)
{
	int b = cc_node_bool(n);

	if (touch(w) < 0)
		return -E2BIG;
	if (b < 0)
		return add_problem(w, n, "%s must be true or false", what);
	*ret = b;
	return 0;
}

/* A scalar (numbers included, cloud-init str()s them) as a C string; no NUL inside. */
int node_string(struct walk *w, const struct cc_node *n, const char *what, char **ret)
{
	char *s;

	if (touch(w) < 0)
		return -E2BIG;
	if (n->type != CC_NODE_SCALAR || cc_node_is_null(n))
		return add_problem(w, n, "%s must be a string", what);
	if (memchr(n->scalar.value, 0, n->scalar.len))
		return add_problem(w, n, "%s holds a NUL byte", what);
	s = strndup(n->scalar.value, n->scalar.len);
	if (!s)
		return -ENOMEM;
	free(*ret);
	*ret = s;
	return 0;
}

/* A sequence of at most CC_MAX_ENTRIES entries. */
int check_entries(struct walk *w, const struct cc_node *n, size_t count)
{
	if (touch(w) < 0)
		return -E2BIG;
	if (count > CC_MAX_ENTRIES)
		return add_problem(w, n, "more than %u entries (vagent's limit), not applied",
				   CC_MAX_ENTRIES);
	return 0;
}

static int strlist_push_node(struct walk *w, struct strlist *l, const struct cc_node *n,
			     const char *what)
{
	char *s = NULL;
	int r;

	r = node_string(w, n, what, &s);
	if (r < 0)
		return r;
	return strlist_push(l, s);
}

/* Push the comma-separated words of S (spaces trimmed, empty ones dropped). */
static int strlist_push_split(struct strlist *l, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, ",");
		const char *b = s, *e = s + n;
		int r;

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b) {
			r = strlist_push(l, strndup(b, (size_t)(e - b)));
			if (r < 0)
				return r;
		}
		s += n + (s[n] == ',');
	}
	return 0;
}

/* A list of strings; with SPLIT a single comma-separated string is accepted too. */
int node_strv(struct walk *w, const struct cc_node *n, const char *what, bool split,
		     char ***ret)
{
	struct strlist l = {};
	int r = 0;

	if (split && n->type == CC_NODE_SCALAR && !cc_node_is_null(n)) {
		_cleanup_free_ char *s = NULL;
		r = node_string(w, n, what, &s);
		if (r >= 0)
			r = strlist_push_split(&l, s);
		if (r >= 0)
			r = check_entries(w, n, l.n);
	} else if (n->type == CC_NODE_SEQUENCE) {
		r = check_entries(w, n, n->seq.n);
		for (size_t i = 0; r >= 0 && i < n->seq.n; i++)
			r = strlist_push_node(w, &l, n->seq.items[i], what);
	} else
		r = add_problem(w, n, "%s must be a list of strings", what);
	if (r < 0) {
		strlist_done(&l);
		return r;
	}
	strv_free(*ret);
	*ret = strlist_steal(&l);
	return 0;
}

/* A list of strings, or one string as a list of one (cloud-init wraps a lone string). */
static int node_strv_one(struct walk *w, const struct cc_node *n, const char *what, char ***ret)
{
	if (n->type == CC_NODE_SCALAR && !cc_node_is_null(n)) {
		char **l = calloc(2, sizeof(char *));
		int r;

		if (!l)
			return -ENOMEM;
		r = node_string(w, n, what, &l[0]);
		if (r < 0) {
			free(l);
			return r;
		}
		strv_free(*ret);
		*ret = l;
		return 0;
	}
	return node_strv(w, n, what, false, ret);
}

void command_done(struct cc_command *c)
{
	free(c->shell);
	strv_free(c->argv);
	*c = (struct cc_command){};
}

static void commands_free(struct cc_command *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		command_done(&c[i]);
	free(c);
}

int node_command(struct walk *w, const struct cc_node *c, struct cc_command *ret)
{
	int r;

	if (c->type == CC_NODE_SCALAR)
		return node_string(w, c, "a command", &ret->shell);
	if (c->type != CC_NODE_SEQUENCE)
		return add_problem(w, c, "a command must be a string or a list of strings");
	r = node_strv(w, c, "a command's arguments", false, &ret->argv);
	if (r >= 0 && !ret->argv)
		r = add_problem(w, c, "a command needs at least a program");
	return r;
}

static int node_commands(struct walk *w, const struct cc_node *n, struct cc_command **ret,
			 size_t *ret_n)
{
	struct cc_command *l = NULL;
	size_t total, kept = 0;
	int r = 0;

	if (n->type != CC_NODE_SEQUENCE)
		return add_problem(w, n, "must be a list of commands");
	total = n->seq.n;
	r = check_entries(w, n, total);
	if (r < 0)
		return r;
	l = calloc(total ? total : 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t k = 0; k < total && r >= 0; k++) {
		const struct cc_node *c = n->seq.items[k];

		if (cc_node_is_null(c))
			continue; /* a YAML comment-only entry: cloud-init's shellify skips it */
		if (cc_node_is_str(c))
			r = node_string(w, c, "a command", &l[kept++].shell);
		else if (c->type == CC_NODE_SEQUENCE) {
			struct strlist argv = {};

			/* Each word as str() makes it: True, False, None, numbers as written. */
			for (size_t j = 0; r >= 0 && j < c->seq.n; j++) {
				const struct cc_node *a = c->seq.items[j];
				int b = cc_node_bool(a);

				r = touch(w);
				if (r < 0)
					break;
				if (a->type != CC_NODE_SCALAR)
					r = add_problem(w, a, "a command's word must be a string");
				else if (memchr(a->scalar.value, 0, a->scalar.len))
					r = add_problem(w, a, "a command's word holds a NUL byte");
				else
					r = strlist_push(&argv, strdup(cc_node_is_null(a) ? "None" :
								       b == 1	 ? "True" :
								       b == 0	 ? "False" :
										   a->scalar.value));
			}
			if (r < 0)
				strlist_done(&argv);
			else if (argv.n == 0) {
				l[kept].shell = strdup(""); /* [] is an empty line */
				r = l[kept++].shell ? 0 : -ENOMEM;
			} else
				l[kept++].argv = strlist_steal(&argv);
		} else
			r = add_problem(w, c, "a command must be a string or a list of strings "
					      "(cloud-init refuses the list too)");
	}
	if (r < 0) {
		commands_free(l, total);
		return r;
	}
	*ret = l;
	*ret_n = kept;
	return 0;
}

static void file_done(struct cc_file *f)
{
	free(f->path);
	free(f->content);
	free(f->owner);
	free(f->source_uri);
	strv_free(f->source_headers);
	*f = (struct cc_file){};
}

static void files_free(struct cc_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		file_done(&f[i]);
	free(f);
}

/* "TRUE " -> "true": cloud-init compares str(value).lower().strip(). */
static void lower_strip(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (; *s && n + 1 < size; s++)
		buf[n++] = (char)((*s >= 'A' && *s <= 'Z') ? *s - 'A' + 'a' : *s);
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\n' ||
			 buf[n - 1] == '\r'))
		n--;
	buf[n] = 0;
}

/* cloud-init's translate_bool: a YAML boolean, or the text true/1/on/yes in any case; anything
 * else is false (a word that is none of those is noted: the user meant something). */
static int node_cibool(struct walk *w, const struct cc_node *n, const char *what, bool *ret)
{
	static const char *const yes[] = { "true", "1", "on", "yes" };
	static const char *const no[] = { "false", "0", "off", "no", "" };
	const char *s = cc_scalar_str(n);
	char buf[16];
	int b = cc_node_bool(n);

	if (touch(w) < 0)
		return -E2BIG;
	if (b >= 0) {
		*ret = b;
		return 0;
	}
	*ret = false;
	if (cc_node_is_null(n))
		return 0;
	if (s && strlen(s) < sizeof(buf)) {
		lower_strip(s, buf, sizeof(buf));
		for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
			if (streq(buf, yes[i])) {
				*ret = true;
				return 0;
			}
		for (size_t i = 0; i < ARRAY_SIZE(no); i++)
			if (streq(buf, no[i]))
				return 0;
	}
	return note(w, n, "%s is not true or false: taken as false, as cloud-init does", what);
}

/* cloud-init's decode_perms: an integer as it is (YAML 1.1: 0644 is octal, 420 decimal, 0x1a4
 * hex), a string in base 8 ("0644", "644", "0o644"); anything else is 0644 with a note. */
static int node_perms(struct walk *w, const struct cc_node *n, mode_t *ret)
{
	const char *s = cc_scalar_str(n), *p;
	char digits[64];
	unsigned long v;
	size_t k = 0;
	int base = 8;
	char *end;

	*ret = 0644;
	if (touch(w) < 0)
		return -E2BIG;
	if (cc_node_is_null(n))
		return 0;
	if (!s || strlen(s) >= sizeof(digits))
		goto bad;
	p = s;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '+')
		p++;
	if (cc_node_is_plain(n) && !cc_node_is_str(n)) {
		/* a YAML 1.1 integer */
		if (startswith(p, "0x") || startswith(p, "0X"))
			base = 16, p += 2;
		else if (startswith(p, "0b"))
			base = 2, p += 2;
		else if (p[0] != '0')
			base = 10;
	} else if (startswith(p, "0o") || startswith(p, "0O"))
		p += 2;
	/* Python allows single underscores between digits. */
	for (; *p && k + 1 < sizeof(digits); p++) {
		if (*p == '_' && k > 0 && p[1] && p[1] != '_')
			continue;
		digits[k++] = *p;
	}
	while (k > 0 && (digits[k - 1] == ' ' || digits[k - 1] == '\t'))
		k--;
	digits[k] = 0;
	if (k == 0 || digits[0] == '-')
		goto bad;
	errno = 0;
	v = strtoul(digits, &end, base);
	if (*end || errno || v > 07777)
		goto bad;
	*ret = (mode_t)v;
	return 0;
bad:
	return note(w, n, "permissions are not a mode: 0644 is used, as cloud-init does");
}

/* ENCODING as cloud-init's canonicalize_extraction reads it: lowercased, stripped; an unknown
 * one is text/plain with a note. */
static int node_encoding(struct walk *w, const struct cc_node *n, enum cc_encoding *ret)
{
	static const struct {
		const char *name;
		enum cc_encoding e;
	} table[] = {
		{ "b64", CC_ENC_B64 },		  { "base64", CC_ENC_B64 },
		{ "gz", CC_ENC_GZIP },		  { "gzip", CC_ENC_GZIP },
		{ "gz+b64", CC_ENC_GZIP_B64 },	  { "gz+base64", CC_ENC_GZIP_B64 },
		{ "gzip+b64", CC_ENC_GZIP_B64 },  { "gzip+base64", CC_ENC_GZIP_B64 },
		{ "text/plain", CC_ENC_TEXT },	  { "", CC_ENC_TEXT },
	};
	const char *s = cc_scalar_str(n);
	char buf[32];

	*ret = CC_ENC_TEXT;
	if (touch(w) < 0)
		return -E2BIG;
	if (cc_node_is_null(n))
		return 0;
	if (s && strlen(s) < sizeof(buf)) {
		lower_strip(s, buf, sizeof(buf));
		for (size_t i = 0; i < ARRAY_SIZE(table); i++)
			if (streq(buf, table[i].name)) {
				*ret = table[i].e;
				return 0;
			}
	}
	return note(w, n, "an unknown encoding: written as text/plain, as cloud-init does");
}

/* os.path.abspath(P) with / as the working directory (cloud-init's, under systemd). */
static char *abspath(const char *p)
{
	char *out = malloc(strlen(p) + 2);
	size_t n = 0;

	if (!out)
		return NULL;
	while (*p) {
		size_t k;

		while (*p == '/')
			p++;
		k = strcspn(p, "/");
		if (k == 0)
			break;
		if (k == 1 && p[0] == '.') {
			/* nothing */
		} else if (k == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--; /* the slash before it */
		} else {
			out[n++] = '/';
			memcpy(out + n, p, k);
			n += k;
		}
		p += k;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = 0;
	return out;
}

/* 0 kept, 1 left out (with a note), <0 error. */
static int node_file(struct walk *w, const struct cc_node *n, size_t index, struct cc_file *f)
{
	int r = 0;

	*f = (struct cc_file){ .index = index, .mode = 0644 };
	if (touch(w) < 0)
		return -E2BIG;
	if (n->type != CC_NODE_MAPPING) {
		r = note(w, n, "entry %zu is not a mapping: skipped", index);
		return r < 0 ? r : 1;
	}
	for (size_t i = 0; r >= 0 && i < n->map.n; i++) {
		const struct cc_node *k = n->map.pairs[i].key, *v = n->map.pairs[i].value;
		const char *name = cc_scalar_str(k) ?: "";

		if (streq(name, "path")) {
			if (cc_node_is_null(v) || (v->type == CC_NODE_SCALAR && v->scalar.len == 0))
				continue;
			r = node_string(w, v, "path", &f->path);
			if (r == -EINVAL)
				r = 1; /* noted by node_string; the entry has no usable path */
		} else if (streq(name, "content")) {
			if (cc_node_is_null(v))
				continue;
			if (v->type != CC_NODE_SCALAR) {
				r = note(w, v, "entry %zu: content is not a string: skipped", index);
				r = r < 0 ? r : 2;
				break;
			}
			r = touch(w);
			if (r < 0)
				break;
			free(f->content);
			f->content = NULL;
			if (v->tag && streq(v->tag, TAG_BINARY)) {
				/* PyYAML gives the bytes: the encoding, if any, applies to them. */
				r = base64_decode(v->scalar.value, v->scalar.len, BASE64_ASCII,
						  &f->content, &f->content_len);
				if (r == -EBADMSG) {
					r = note(w, v, "entry %zu: !!binary content is not base64: "
						 "skipped", index);
					r = r < 0 ? r : 2;
					break;
				}
				if (r < 0)
					break;
			} else {
				f->content = malloc(v->scalar.len + 1);
				if (!f->content)
					return -ENOMEM;
				memcpy(f->content, v->scalar.value, v->scalar.len + 1);
				f->content_len = v->scalar.len;
			}
		} else if (streq(name, "encoding"))
			r = node_encoding(w, v, &f->encoding);
		else if (streq(name, "owner")) {
			if (cc_node_is_null(v))
				continue;
			r = node_string(w, v, "owner", &f->owner);
			if (r == -EINVAL) {
				r = note(w, v, "entry %zu: owner is not a string: skipped", index);
				r = r < 0 ? r : 2;
			}
		} else if (streq(name, "permissions"))
			r = node_perms(w, v, &f->mode);
		else if (streq(name, "append"))
			r = node_cibool(w, v, "append", &f->append);
		else if (streq(name, "defer"))
			r = node_cibool(w, v, "defer", &f->defer);
		else if (streq(name, "source")) {
			r = cc_keys_read_source(w, v, f);
			if (r == -EINVAL) {
				/* cloud-init skips an entry it cannot read, not the key */
				r = note(w, v, "entry %zu: the source is malformed: skipped", index);
				r = r < 0 ? r : 2;
				break;
			}
		} else
			r = ignore_subkey(w, k);
	}
	if (r == 1 || (r >= 0 && r != 2 && !f->path)) {
		r = note(w, n, "entry %zu has no path: skipped, as cloud-init does", index);
		return r < 0 ? r : 1;
	}
	if (r == 2)
		return 1;
	if (r < 0)
		return r;
	if (f->path[0] != '/' || strstr(f->path, "/.") || strstr(f->path, "//")) {
		char *p = abspath(f->path);

		if (!p)
			return -ENOMEM;
		if (f->path[0] != '/') {
			r = note(w, n, "entry %zu: a relative path, taken from / as cloud-init does",
				 index);
			if (r < 0) {
				free(p);
				return r;
			}
		}
		free(f->path);
		f->path = p;
	}
	return 0;
}

static int node_files(struct walk *w, const struct cc_node *n, struct cloud_config *cc)
{
	struct cc_file *l;
	size_t total, kept = 0;
	int r = 0;

	if (n->type != CC_NODE_SEQUENCE)
		return add_problem(w, n, "must be a list of files");
	total = n->seq.n;
	r = check_entries(w, n, total);
	if (r < 0)
		return r;
	l = calloc(total ? total : 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < total; i++) {
		r = node_file(w, n->seq.items[i], i, &l[kept]);
		if (r == 0)
			kept++;
		else
			file_done(&l[kept]); /* left out (or failed): the slot is reused */
	}
	if (r < 0) {
		files_free(l, kept);
		return r;
	}
	files_free(cc->files, cc->n_files);
	cc->files = l;
	cc->n_files = kept;
	return 0;
}

/* Free a secret string: zeroed first. */
static void secret_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

static int node_packages(struct walk *w, const struct cc_node *n, struct cloud_config *cc)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	struct strlist l = {};
	int r = 0;

	if (n->type != CC_NODE_SEQUENCE)
		return add_problem(w, n, "must be a list of packages");
	r = check_entries(w, n, n->seq.n);
	for (size_t i = 0; r >= 0 && i < n->seq.n; i++) {
		const struct cc_node *c = n->seq.items[i];
		_cleanup_strv_free_ char **pair = NULL;
		char *s;

		if (c->type == CC_NODE_SCALAR) {
			r = strlist_push_node(w, &l, c, "a package");
			continue;
		}
		r = node_strv(w, c, "a package", false, &pair);
		if (r < 0)
			break;
		if (strv_length(pair) != 2) {
			r = add_problem(w, c, "a package as a list must be [name, version]");
			break;
		}
		if (asprintf(&s, "%s=%s", pair[0], pair[1]) < 0)
			s = NULL;
		r = strlist_push(&l, s);
	}
	if (r < 0) {
		strlist_done(&l);
		return r;
	}
	strv_free(cc->packages);
	cc->packages = strlist_steal(&l);
	return 0;
}

bool cc_password_is_hash(const char *p)
{
	static const char *const ids[] = { "$1$", "$2a$", "$2y$", "$5$", "$6$" };

	if (strchr(p, ':'))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		const char *rest, *d;

		if (!startswith(p, ids[i]))
			continue;
		/* (\$.+){2} after "$ID": "$" one or more characters "$" one or more characters */
		rest = p + strlen(ids[i]) - 1;
		d = strchr(rest + 2, '$');
		while (d && !d[1])
			d = NULL;
		if (rest[1] && d)
			return true;
	}
	return false;
}

/* cloud-init's util.is_true / is_false on a scalar: a YAML boolean, or a string (numbers
 * included) whose lower-case form is one of TRUE_STRINGS / FALSE_STRINGS. 1, 0, or -1. */
static int cloudinit_bool(const struct cc_node *n)
{
	static const char *const yes[] = { "true", "1", "on", "yes" };
	static const char *const no[] = { "false", "0", "off", "no" };
	const char *v = cc_scalar_str(n);
	char buf[8];
	size_t len;
	int b = cc_node_bool(n);

	if (b >= 0)
		return b;
	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
	buf[len] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (streq(buf, yes[i]))
			return 1;
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (streq(buf, no[i]))
			return 0;
	return -1;
}

static void passwords_free(struct cc_password *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].user);
		secret_free(p[i].password);
	}
	free(p);
}

/* Append USER:PASSWORD (copied) to CC's chpasswd entries. */
static int password_push(struct cloud_config *cc, const char *user, size_t user_len,
			 const char *password, bool hashed)
{
	struct cc_password *n = reallocarray(cc->chpasswd, cc->n_chpasswd + 1, sizeof(*n));
	char *u, *p;

	if (!n)
		return -ENOMEM;
	cc->chpasswd = n;
	u = strndup(user, user_len);
	p = strdup(password);
	if (!u || !p) {
		free(u);
		secret_free(p);
		return -ENOMEM;
	}
	cc->chpasswd[cc->n_chpasswd++] = (struct cc_password){ .user = u, .password = p,
							       .hashed = hashed };
	return 0;
}

/* One "user:password" line of chpasswd's list form (cloud-init splits at the first ':'). */
static int chpasswd_line(struct walk *w, const struct cc_node *at, const char *line)
{
	const char *colon = strchr(line, ':');

	if (!colon || colon == line)
		return add_problem(w, at, "each list entry must be 'user:password'");
	if (streq(colon + 1, "R") || streq(colon + 1, "RANDOM")) {
		w->cc->chpasswd_random++;
		return note(w, at, "a RANDOM password is not made by vagent (it would have to be "
			    "shown somewhere): left out");
	}
	return password_push(w->cc, line, (size_t)(colon - line), colon + 1,
			     cc_password_is_hash(colon + 1));
}

static int node_chpasswd(struct walk *w, const struct cc_node *n, struct cloud_config *cc)
{
	int r = 0;

	passwords_free(cc->chpasswd, cc->n_chpasswd);
	cc->chpasswd = NULL;
	cc->n_chpasswd = 0;
	cc->chpasswd_random = 0;
	cc->chpasswd_expire = true; /* cloud-init's default */
	if (n->type != CC_NODE_MAPPING)
		return add_problem(w, n, "must be a mapping (list, users, expire)");
	for (size_t i = 0; r >= 0 && i < n->map.n; i++) {
		const struct cc_node *k = n->map.pairs[i].key, *v = n->map.pairs[i].value;
		const char *name = cc_scalar_str(k) ?: "";

		if (touch(w) < 0)
			return -E2BIG;
		if (streq(name, "expire")) {
			int b = cloudinit_bool(v);

			/* get_cfg_option_bool: anything that is not true is false */
			cc->chpasswd_expire = b == 1;
		} else if (streq(name, "list")) {
			if (cc_node_is_null(v))
				continue;
			if (v->type == CC_NODE_SEQUENCE) {
				if (v->seq.n > CC_MAX_ENTRIES)
					return add_problem(w, v, "more than %u entries", CC_MAX_ENTRIES);
				for (size_t j = 0; r >= 0 && j < v->seq.n; j++) {
					const char *line = cc_scalar_str(v->seq.items[j]);

					r = line ? chpasswd_line(w, v->seq.items[j], line) :
						   add_problem(w, v->seq.items[j], "each list entry "
							       "must be 'user:password'");
				}
			} else if (cc_scalar_str(v)) {
				/* the multi-line string form: one entry per line */
				const char *p = cc_scalar_str(v);
				size_t count = 0;

				while (r >= 0 && *p) {
					size_t len = strcspn(p, "\n");
					_cleanup_free_ char *line = strndup(p, len);

					if (!line)
						return -ENOMEM;
					if (len > 0 && line[len - 1] == '\r')
						line[len - 1] = 0;
					if (*line && ++count > CC_MAX_ENTRIES)
						return add_problem(w, v, "more than %u entries",
								   CC_MAX_ENTRIES);
					if (*line)
						r = chpasswd_line(w, v, line);
					explicit_bzero(line, len);
					p += len + (p[len] == '\n');
				}
			} else
				r = add_problem(w, v, "list must be a list or a string");
		} else if (streq(name, "users")) {
			if (v->type != CC_NODE_SEQUENCE)
				return add_problem(w, v, "users must be a list of {name, password, "
						   "type}");
			if (v->seq.n > CC_MAX_ENTRIES)
				return add_problem(w, v, "more than %u entries", CC_MAX_ENTRIES);
			for (size_t j = 0; r >= 0 && j < v->seq.n; j++) {
				const struct cc_node *e = v->seq.items[j];
				const char *user, *pw, *type;

				if (e->type != CC_NODE_MAPPING || !cc_scalar_str(cc_map_get(e, "name")))
					return add_problem(w, e, "each users entry needs a name");
				user = cc_scalar_str(cc_map_get(e, "name"));
				pw = cc_scalar_str(cc_map_get(e, "password"));
				type = cc_scalar_str(cc_map_get(e, "type")) ?: "hash";
				if (streq(type, "RANDOM") || !pw) {
					/* cloud-init's default password is RANDOM */
					cc->chpasswd_random++;
					r = note(w, e, "a RANDOM password is not made by vagent (it "
						 "would have to be shown somewhere): left out");
					continue;
				}
				if (!streq(type, "hash") && !streq(type, "text"))
					return add_problem(w, e, "type must be hash, text or RANDOM");
				r = password_push(cc, user, strlen(user), pw, streq(type, "hash"));
			}
		} else
			r = ignore_subkey(w, k);
	}
	return r;
}

/* vendor_data: a mapping whose "enabled" is true (the default), else vendor data is off. */
static int node_vendor_data(struct walk *w, const struct cc_node *n, struct cloud_config *cc)
{
	const struct cc_node *e;

	if (touch(w) < 0)
		return -E2BIG;
	cc->vendor_data_enabled = false;
	if (n->type != CC_NODE_MAPPING)
		return 0; /* cloud-init: "invalid vendor_data setting", disabled */
	e = cc_map_get(n, "enabled");
	cc->vendor_data_enabled = !e || cloudinit_bool(e) == 1;
	return 0;
}

static int read_commands(struct walk *w, const struct cc_node *v, struct cc_command **cmds,
			 size_t *n)
{
	struct cc_command *l = NULL;
	size_t k = 0;
	int r;

	r = node_commands(w, v, &l, &k);
	if (r < 0)
		return r;
	commands_free(*cmds, *n);
	*cmds = l;
	*n = k;
	return 0;
}

static int read_bootcmd(struct walk *w, const struct cc_node *v, struct cloud_config *cc)
{
	return read_commands(w, v, &cc->bootcmd, &cc->n_bootcmd);
}

static int read_runcmd(struct walk *w, const struct cc_node *v, struct cloud_config *cc)
{
	return read_commands(w, v, &cc->runcmd, &cc->n_runcmd);
}

/* get_cfg_option_bool: translate_bool of the value (a YAML boolean, "yes", "on", "1", ...). */
static int read_ci_bool(struct walk *w, const struct cc_node *v, bool *ret)
{
	if (v->type != CC_NODE_SCALAR)
		return add_problem(w, v, "expected true or false");
	return node_cibool(w, v, "the value", ret);
}

static int read_prefer_fqdn(struct walk *w, const struct cc_node *v, struct cloud_config *cc)
{
	return read_ci_bool(w, v, &cc->prefer_fqdn_over_hostname);
}

static int read_create_hostname_file(struct walk *w, const struct cc_node *v,
				     struct cloud_config *cc)
{
	return read_ci_bool(w, v, &cc->create_hostname_file);
}

/* cc_update_etc_hosts: translate_bool with "template" (true, deprecated) and "localhost". */
static int read_manage_etc_hosts(struct walk *w, const struct cc_node *v,
				 struct cloud_config *cc)
{
	const char *s = cc_scalar_str(v);

	if (v->type == CC_NODE_SCALAR && s && (streq(s, "template") || streq(s, "localhost"))) {
		cc->manage_etc_hosts = true;
		return touch(w);
	}
	return read_ci_bool(w, v, &cc->manage_etc_hosts);
}

static void clear_chpasswd(struct cloud_config *cc)
{
	passwords_free(cc->chpasswd, cc->n_chpasswd);
	cc->chpasswd = NULL;
	cc->n_chpasswd = 0;
	cc->chpasswd_random = 0;
}

static int read_password(struct walk *w, const struct cc_node *v, struct cloud_config *cc)
{
	secret_free(cc->password);
	cc->password = NULL;
	return node_string(w, v, "the value", &cc->password);
}

/* ssh_keys (cc_ssh.py): <type>_private, <type>_public and <type>_certificate for rsa, ecdsa and
 * ed25519. dsa keys (OpenSSH dropped them) and certificates are named and left out: the key is
 * partial. A private key without its public one is fine: the step derives the .pub. */
static int read_ssh_keys(struct walk *w, const struct cc_node *v, struct cloud_config *cc)
{
	static const char *const types[3] = { "rsa", "ecdsa", "ed25519" };
	int r = 0;

	if (v->type != CC_NODE_MAPPING)
		return add_problem(w, v, "must be a mapping of <type>_private / <type>_public keys");
	for (size_t i = 0; r >= 0 && i < v->map.n; i++) {
		const struct cc_node *k = v->map.pairs[i].key, *x = v->map.pairs[i].value;
		const char *name = cc_scalar_str(k) ?: "";
		char **slot = NULL;
		bool private = false;
		size_t nl = strlen(name);

		for (size_t t = 0; !slot && t < 3; t++) {
			size_t l = strlen(types[t]);

			if (strncmp(name, types[t], l) != 0)
				continue;
			if (streq(name + l, "_private")) {
				slot = &cc->ssh_keys_private[t];
				private = true;
			} else if (streq(name + l, "_public"))
				slot = &cc->ssh_keys_public[t];
		}
		if (slot) {
			char *s = NULL;

			r = node_string(w, x, name, &s);
			if (r < 0)
				break;
			if (private && !strstr(s, "PRIVATE KEY-----")) {
				secret_free(s);
				r = note(w, x, "%s is not a private key (no PRIVATE KEY line), left out",
					 name);
				continue;
			}
			if (private)
				secret_free(*slot);
			else
				free(*slot);
			*slot = s;
		} else if (nl > 12 && streq(name + nl - 12, "_certificate"))
			r = note(w, k, "%s: host certificates are not installed by vagent, left out", name);
		else if (startswith(name, "dsa_"))
			r = note(w, k, "%s: dsa host keys are not installed (OpenSSH dropped them)", name);
		else
			r = ignore_subkey(w, k);
	}
	return r;
}

static void clear_ssh_keys(struct cloud_config *cc)
{
	for (size_t t = 0; t < 3; t++) {
		secret_free(cc->ssh_keys_private[t]);
		free(cc->ssh_keys_public[t]);
		cc->ssh_keys_private[t] = cc->ssh_keys_public[t] = NULL;
	}
}

static void clear_password(struct cloud_config *cc)
{
	secret_free(cc->password);
	cc->password = NULL;
}

/* ssh_pwauth: cloud-init's is_true / is_false; anything else (unchanged, null) leaves sshd
 * alone. */
static int read_ssh_pwauth(struct walk *w, const struct cc_node *v, struct cloud_config *cc)
{
	int b = cloudinit_bool(v);

	if (touch(w) < 0)
		return -E2BIG;
	cc->ssh_pwauth = b == 1 ? CC_PWAUTH_YES : b == 0 ? CC_PWAUTH_NO : CC_PWAUTH_UNCHANGED;
	if (b < 0 && !cc_node_is_null(v) && !cc_scalar_is(v, "unchanged"))
		return add_problem(w, v, "must be true, false or unchanged (sshd left alone)");
	return 0;
}

/* disable_root: get_cfg_option_bool, anything that is not true is false (Vultr sends 0). */
static int read_disable_root(struct walk *w, const struct cc_node *v, struct cloud_config *cc)
{
	if (touch(w) < 0)
		return -E2BIG;
	cc->disable_root = cloudinit_bool(v) == 1;
	return 0;
}

static void clear_files(struct cloud_config *cc)
{
	files_free(cc->files, cc->n_files);
	cc->files = NULL;
	cc->n_files = 0;
}

static void clear_bootcmd(struct cloud_config *cc)
{
	commands_free(cc->bootcmd, cc->n_bootcmd);
	cc->bootcmd = NULL;
	cc->n_bootcmd = 0;
}

static void clear_runcmd(struct cloud_config *cc)
{
	commands_free(cc->runcmd, cc->n_runcmd);
	cc->runcmd = NULL;
	cc->n_runcmd = 0;
}

static void clear_packages(struct cloud_config *cc)
{
	strv_free(cc->packages);
	cc->packages = NULL;
}

/*
 * The keys vagent reads, one row each: the name, and either a field of struct cloud_config with
 * a plain type (KIND, OFFSET) or a reader and what frees its fields. A key not in this table is
 * listed as unknown (cc->unknown) and reported "ignored: not supported by vagent".
 */
enum key_kind {
	KEY_NOTED,  /* recognised, never read (the status says why) */
	KEY_STRING, /* char * */
	KEY_BOOL,   /* bool */
	KEY_STRV,   /* char **: a list of strings (a single string is one entry) */
	KEY_READER, /* READ and CLEAR */
	KEY_SYSTEM, /* a system key: cc_keys_read() and cc_keys_clear() (cc-keys.c) */
};

struct key_def {
	const char *name;
	enum key_kind kind;
	size_t offset;
	int (*read)(struct walk *w, const struct cc_node *v, struct cloud_config *cc);
	void (*clear)(struct cloud_config *cc);
};

#define FIELD(kind, member) kind, offsetof(struct cloud_config, member)

static const struct key_def key_defs[_CC_KEY_MAX] = {
	[CC_HOSTNAME] = { "hostname", FIELD(KEY_STRING, hostname) },
	[CC_FQDN] = { "fqdn", FIELD(KEY_STRING, fqdn) },
	[CC_PRESERVE_HOSTNAME] = { "preserve_hostname", FIELD(KEY_BOOL, preserve_hostname) },
	[CC_PREFER_FQDN_OVER_HOSTNAME] = { "prefer_fqdn_over_hostname", KEY_READER, 0,
					   read_prefer_fqdn, NULL },
	[CC_MANAGE_ETC_HOSTS] = { "manage_etc_hosts", KEY_READER, 0, read_manage_etc_hosts, NULL },
	[CC_CREATE_HOSTNAME_FILE] = { "create_hostname_file", KEY_READER, 0,
				      read_create_hostname_file, NULL },
	[CC_SSH_AUTHORIZED_KEYS] = { "ssh_authorized_keys",
				     FIELD(KEY_STRV, ssh_authorized_keys) },
	[CC_USERS] = { "users", KEY_READER, 0, cc_users_read, cc_users_clear },
	[CC_WRITE_FILES] = { "write_files", KEY_READER, 0, node_files, clear_files },
	[CC_BOOTCMD] = { "bootcmd", KEY_READER, 0, read_bootcmd, clear_bootcmd },
	[CC_RUNCMD] = { "runcmd", KEY_READER, 0, read_runcmd, clear_runcmd },
	[CC_PACKAGES] = { "packages", KEY_READER, 0, node_packages, clear_packages },
	[CC_PACKAGE_UPDATE] = { "package_update", FIELD(KEY_BOOL, package_update) },
	[CC_PACKAGE_UPGRADE] = { "package_upgrade", FIELD(KEY_BOOL, package_upgrade) },
	[CC_MOUNTS] = { "mounts", KEY_READER, 0, cc_read_mounts, cc_clear_mounts },
	[CC_MOUNT_DEFAULT_FIELDS] = { "mount_default_fields", KEY_READER, 0,
				      cc_read_mount_default_fields, cc_clear_mount_default_fields },
	[CC_SWAP] = { "swap", KEY_READER, 0, cc_read_swap, cc_clear_swap },
	[CC_SSH_DELETEKEYS] = { "ssh_deletekeys", FIELD(KEY_BOOL, ssh_deletekeys) },
	[CC_SSH_GENKEYTYPES] = { "ssh_genkeytypes", FIELD(KEY_STRV, ssh_genkeytypes) },
	[CC_SSH_KEYS] = { "ssh_keys", KEY_READER, 0, read_ssh_keys, clear_ssh_keys },
	[CC_VENDOR_DATA] = { "vendor_data", KEY_READER, 0, node_vendor_data, NULL },
	[CC_CHPASSWD] = { "chpasswd", KEY_READER, 0, node_chpasswd, clear_chpasswd },
	[CC_PASSWORD] = { "password", KEY_READER, 0, read_password, clear_password },
	[CC_SSH_PWAUTH] = { "ssh_pwauth", KEY_READER, 0, read_ssh_pwauth, NULL },
	[CC_DISABLE_ROOT] = { "disable_root", KEY_READER, 0, read_disable_root, NULL },
	[CC_DISK_SETUP] = { "disk_setup", KEY_NOTED },
	[CC_FS_SETUP] = { "fs_setup", KEY_NOTED },
	[CC_RESIZE_ROOTFS] = { "resize_rootfs", KEY_NOTED },
	[CC_GROWPART] = { "growpart", KEY_NOTED },
	[CC_TIMEZONE] = { "timezone", KEY_SYSTEM },
	[CC_LOCALE] = { "locale", KEY_SYSTEM },
	[CC_KEYBOARD] = { "keyboard", KEY_SYSTEM },
	[CC_NTP] = { "ntp", KEY_SYSTEM },
	[CC_APT] = { "apt", KEY_SYSTEM },
	[CC_CA_CERTS] = { "ca_certs", KEY_SYSTEM },
	[CC_RSYSLOG] = { "rsyslog", KEY_SYSTEM },
	[CC_PACKAGE_REBOOT_IF_REQUIRED] = { "package_reboot_if_required", KEY_SYSTEM },
	[CC_POWER_STATE] = { "power_state", KEY_SYSTEM },
	[CC_FINAL_MESSAGE] = { "final_message", KEY_SYSTEM },
	[CC_CA_CERTS_DASHED] = { "ca-certs", KEY_SYSTEM },
	[CC_APT_UPDATE] = { "apt_update", FIELD(KEY_BOOL, apt_update) },
	[CC_APT_UPGRADE] = { "apt_upgrade", FIELD(KEY_BOOL, apt_upgrade) },
	[CC_APT_REBOOT_IF_REQUIRED] = { "apt_reboot_if_required",
					FIELD(KEY_BOOL, apt_reboot_if_required) },
};

const char *cc_key_to_string(enum cc_key k)
{
	return k < _CC_KEY_MAX ? key_defs[k].name : NULL;
}

static void clear_key(struct cloud_config *cc, enum cc_key k)
{
	const struct key_def *d = &key_defs[k];
	void *field = (char *)cc + d->offset;

	switch (d->kind) {
	case KEY_STRING:
		free(*(char **)field);
		*(char **)field = NULL;
		break;
	case KEY_STRV:
		strv_free(*(char ***)field);
		*(char ***)field = NULL;
		break;
	case KEY_READER:
		if (d->clear)
			d->clear(cc);
		break;
	case KEY_SYSTEM:
		cc_keys_clear(cc, k);
		break;
	case KEY_BOOL:
	case KEY_NOTED:
		break;
	}
}

static int node_key(struct walk *w, enum cc_key k, const struct cc_node *v)
{
	const struct key_def *d = &key_defs[k];
	void *field = (char *)w->cc + d->offset;

	switch (d->kind) {
	case KEY_STRING:
		return node_string(w, v, "the value", (char **)field);
	case KEY_BOOL:
		return node_bool(w, v, "the value", (bool *)field);
	case KEY_STRV:
		return node_strv_one(w, v, "the value", (char ***)field);
	case KEY_READER:
		return d->read(w, v, w->cc);
	case KEY_SYSTEM:
		return cc_keys_read(w, k, v, w->cc);
	case KEY_NOTED:
		return touch(w);
	}
	return 0;
}

/* The last problem line: how many more there were. */
static int problems_trailer(struct strlist *l, size_t dropped)
{
	char *s;

	if (dropped == 0)
		return 0;
	if (asprintf(&s, "%zu more problem%s not shown (vagent keeps %u)", dropped,
		     dropped == 1 ? "" : "s", CC_MAX_PROBLEMS) < 0)
		return -ENOMEM;
	return strlist_push(l, s);
}

/* Counts onto the lines of repeated sub-keys, the trailer, and hand the lines to CC. */
static int walk_finish(struct walk *w)
{
	struct cloud_config *cc = w->cc;
	int r;

	for (size_t i = 0; i < w->n_repeats; i++) {
		struct repeat *p = &w->repeats[i];
		char *s;

		if (p->line == SIZE_MAX || p->count < 2)
			continue;
		if (asprintf(&s, "%s (%zu times, the first here)", w->problems.v[p->line],
			     p->count) < 0)
			return -ENOMEM;
		free(w->problems.v[p->line]);
		w->problems.v[p->line] = s;
	}
	r = problems_trailer(&w->problems, w->dropped);
	if (r < 0)
		return r;
	cc->problems_dropped = w->dropped;
	cc->n_problems = w->problems.n;
	cc->problems = strlist_steal(&w->problems);
	return 0;
}

static void walk_done(struct walk *w)
{
	strlist_done(&w->problems);
	strset_done(&w->seen);
	strlist_done(&w->seen_names);
	free(w->repeats);
}

static int top_add(struct cloud_config *cc, struct strset *seen, size_t *allocated,
		   const char *name, enum cc_key key)
{
	void *a = cc->top;
	int r;

	r = strset_put(seen, name, strlen(name), cc->n_top, NULL);
	if (r <= 0)
		return r; /* "1" and 1 are one key here */
	r = grow_array(&a, allocated, cc->n_top, sizeof(struct cc_top));
	cc->top = a;
	if (r < 0)
		return r;
	cc->top[cc->n_top].name = strdup(name);
	if (!cc->top[cc->n_top].name)
		return -ENOMEM;
	cc->top[cc->n_top++].key = key;
	if (key == _CC_KEY_MAX) {
		r = strv_push(&cc->unknown, strdup(name));
		if (r < 0)
			return r;
		cc->n_unknown++;
	}
	return 1;
}

int cloud_config_from_tree(const struct cc_node *root, struct cc_budget *b,
			   struct cloud_config **ret, struct cc_error *err)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	struct cloud_config *cc = NULL;
	struct strset seen = {};
	struct walk w = {.b = b, .k = _CC_KEY_MAX};
	size_t allocated = 0;
	int r = 0;

	*err = (struct cc_error){};
	*ret = NULL;
	cc = calloc(1, sizeof(*cc));
	if (!cc)
		return -ENOMEM;
	w.cc = cc;
	if (!root || cc_node_is_null(root))
		goto finish; /* an empty document: nothing to do */
	if (root->type != CC_NODE_MAPPING) {
		err->line = root->line;
		err->column = root->column;
		snprintf(err->problem, sizeof(err->problem), "the top level is a %s, not a mapping",
			 root->type == CC_NODE_SEQUENCE ? "list" : "scalar");
		r = -EBADMSG;
		goto finish;
	}
	if (root->map.n > CC_MAX_KEYS) {
		err->line = root->line;
		err->column = root->column;
		snprintf(err->problem, sizeof(err->problem), "more than %u top-level keys",
			 CC_MAX_KEYS);
		r = -E2BIG;
		goto finish;
	}

	for (size_t i = 0; i < root->map.n; i++) {
		const struct cc_node *k = root->map.pairs[i].key, *v = root->map.pairs[i].value;
		const char *name = cc_scalar_str(k);
		enum cc_key key = _CC_KEY_MAX;

		w.key = "?";
		w.k = _CC_KEY_MAX;
		r = touch(&w);
		if (r < 0)
			goto finish;
		if (!name || cc_node_is_null(k)) {
			r = add_problem(&w, k, "a key must be a string");
			if (r == -EINVAL)
				continue;
			goto finish;
		}
		for (size_t j = 0; j < _CC_KEY_MAX; j++)
			if (streq(name, key_defs[j].name))
				key = (enum cc_key)j;
		r = top_add(cc, &seen, &allocated, name, key);
		if (r < 0)
			goto finish;
		if (key == _CC_KEY_MAX || r == 0)
			continue;
		w.key = key_defs[key].name;
		w.k = key;
		r = node_key(&w, key, v);
		if (r == -EINVAL) {
			cc->invalid[key] = true;
			cc->partial[key] = false;
			clear_key(cc, key);
			continue;
		}
		if (r < 0)
			goto finish;
		cc->has[key] = true;
	}
	r = 0;

finish:
	if (r == -E2BIG && !*err->problem) {
		err->line = root ? root->line : 1;
		err->column = root ? root->column : 1;
		snprintf(err->problem, sizeof(err->problem), "%s", b->why);
	}
	if (r >= 0)
		r = walk_finish(&w);
	walk_done(&w);
	strset_done(&seen);
	if (r < 0) {
		cloud_config_free(cc);
		return r;
	}
	*ret = cc;
	return 0;
}

int cloud_config_parse_budget(const char *text, size_t len, struct cc_budget *b,
			      struct cloud_config **ret, struct cc_error *err)
{
	_cleanup_(cc_node_freep) struct cc_node *root = NULL;
	bool more = false;
	int r;

	*ret = NULL;
	r = cloud_config_load(text, len, b, &root, &more, err);
	if (r < 0)
		return r;
	if (more)
		return cloud_config_more_documents_error(err);
	return cloud_config_from_tree(root, b, ret, err);
}

int cloud_config_more_documents_error(struct cc_error *err)
{
	*err = (struct cc_error){ .line = 1, .column = 1 };
	snprintf(err->problem, sizeof(err->problem),
		 "a second YAML document follows the first ('---'): cloud-init reads no part of "
		 "such user data, and neither does vagent");
	return -EBADMSG;
}

int cloud_config_parse(const char *text, size_t len, struct cloud_config **ret,
		       struct cc_error *err)
{
	struct cc_budget b;

	cc_budget_init(&b, len);
	return cloud_config_parse_budget(text, len, &b, ret, err);
}

size_t cloud_config_n_keys(const struct cloud_config *cc)
{
	size_t n = 0;

	for (size_t i = 0; cc && i < _CC_KEY_MAX; i++)
		n += cc->has[i] || cc->invalid[i];
	return n;
}

void cloud_config_free(struct cloud_config *cc)
{
	if (!cc)
		return;
	for (size_t i = 0; i < _CC_KEY_MAX; i++) {
		clear_key(cc, (enum cc_key)i);
		free(cc->why[i]);
	}
	for (size_t i = 0; i < cc->n_top; i++)
		free(cc->top[i].name);
	free(cc->top);
	strv_free(cc->unknown);
	strv_free(cc->problems);
	free(cc);
}
