/* SPDX-License-Identifier: MIT */
/*
 * cc-node.h: a YAML document as a plain tree (mappings, sequences, scalars, each with its tag,
 * style, line and column), the form every cloud-config is held in between libyaml's events
 * (cloudconfig.c) and the typed struct cloud_config the modules read. Aliases are expanded into
 * copies when the tree is built, so it is a tree (no sharing, no cycles) that can be merged and
 * changed in place; every value made, copies included, is charged to a budget that bounds the
 * memory and the work one user data can cost (see struct cc_budget). Mappings hold each key
 * once (a later duplicate replaces the value, as PyYAML's dict does) and are indexed when they
 * grow. The accessors read scalars as YAML 1.1 does (PyYAML, cloud-init's parser): yes/no/on/off
 * booleans, ~ and null. No I/O, no libyaml here.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/set.h"

/* Limits of one user data (all its cloud-config parts together). */
#define CC_MAX_DEPTH 64		/* nesting of collections, through aliases too */
#define CC_MAX_NODES (1U << 17) /* values (YAML nodes), alias copies included */
#define CC_MIN_BYTES (4U << 20) /* scalar bytes: max(this, 4 x the user data's size) */
#define CC_WORK_PER_NODE 4U	/* work: libyaml events + values made + values read */

/*
 * What is left of a user data's budget. Values made (copies of aliases included) cost a node
 * and their scalar bytes; every libyaml event, value made and value read costs one unit of
 * work. The work budget is CC_WORK_PER_NODE x CC_MAX_NODES: a parse never does more than that
 * (plus the linear scan of its input) before it is abandoned. The first limit passed is named
 * in WHY (secret-free: numbers only).
 */
struct cc_budget {
	size_t nodes;
	size_t bytes;
	size_t work;
	size_t bytes_max; /* for messages */
	unsigned part;	  /* the MIME part being read (1-based), 0: not MIME; nodes keep it */
	char why[128];
};

/* A fresh budget for a user data of LEN bytes (after decompression). */
void cc_budget_init(struct cc_budget *b, size_t len);
/* Charge NODES values, BYTES scalar bytes and WORK units: 0, or -E2BIG with B->why set. */
int cc_budget_charge(struct cc_budget *b, size_t nodes, size_t bytes, size_t work);

enum cc_node_type {
	CC_NODE_SCALAR,
	CC_NODE_SEQUENCE,
	CC_NODE_MAPPING,
};

enum cc_node_style {
	CC_STYLE_ANY, /* collections: block or flow (not kept) */
	CC_STYLE_PLAIN,
	CC_STYLE_SINGLE, /* 'quoted' */
	CC_STYLE_DOUBLE, /* "quoted" */
	CC_STYLE_LITERAL,
	CC_STYLE_FOLDED,
};

struct cc_node;

struct cc_pair {
	struct cc_node *key;
	struct cc_node *value;
};

struct cc_node {
	enum cc_node_type type;
	enum cc_node_style style;
	bool anchored;	       /* the builder's: an anchor names it, so it is never changed */
	unsigned line, column; /* 1-based: where the node, or the alias copied into it, starts */
	unsigned part;	       /* the MIME part it came from (cc_budget.part when made) */
	char *tag; /* an explicit tag as libyaml resolves it ("tag:yaml.org,2002:binary",
		      "!foo"); NULL: none */
	union {
		struct {
			char *value; /* NUL-terminated; may hold NUL bytes, LEN counts them */
			size_t len;
		} scalar;
		struct {
			struct cc_node **items;
			size_t n, allocated;
		} seq;
		struct {
			struct cc_pair *pairs; /* in document order, each scalar key once */
			size_t n, allocated;
			struct strset *index; /* scalar key -> pair index, once N > 8 */
		} map;
	};
};

/* Constructors: each charges B (one node, the scalar's bytes). TAG is copied (may be NULL). */
int cc_node_new_scalar(struct cc_budget *b, const char *value, size_t len, enum cc_node_style style,
		       const char *tag, unsigned line, unsigned column, struct cc_node **ret);
int cc_node_new_collection(struct cc_budget *b, enum cc_node_type type, const char *tag,
			   unsigned line, unsigned column, struct cc_node **ret);
/* Append ITEM (owned from now on, freed on failure) to sequence SEQ. */
int cc_seq_append(struct cc_node *seq, struct cc_node *item);
/* Nodes taken out of a tree while it is being built (something may still point at them, an
 * anchor): freed together at the end. */
struct cc_graveyard {
	struct cc_node **v;
	size_t n, allocated;
};
void cc_graveyard_done(struct cc_graveyard *g);

/*
 * Add KEY: VALUE (both owned from now on) to mapping MAP. A scalar key already there keeps its
 * place and gets VALUE; the replaced value and the duplicate key go to G when it is not NULL,
 * else they are freed. 1 added, 0 replaced, -ENOMEM (KEY and VALUE freed, MAP unchanged).
 */
int cc_map_put(struct cc_node *map, struct cc_node *key, struct cc_node *value,
	       struct cc_graveyard *g);
/* A deep copy of N placed at DEPTH (the copy's root is at DEPTH): -E2BIG when B runs out or the
 * copy would nest deeper than CC_MAX_DEPTH (B->why says which). LINE, COLUMN: the copy root's. */
int cc_node_copy(struct cc_budget *b, const struct cc_node *n, unsigned depth, unsigned line,
		 unsigned column, struct cc_node **ret);
void cc_node_free(struct cc_node *n);
static inline void cc_node_freep(struct cc_node **n)
{
	cc_node_free(*n);
}

/* Accessors. A NULL node reads as missing. */
/* MAP's value for scalar key KEY (NUL-free), NULL when missing or MAP is not a mapping. */
struct cc_node *cc_map_get(const struct cc_node *map, const char *key);
/* A scalar without an explicit tag, written plain: the only kind YAML 1.1 resolves. */
bool cc_node_is_plain(const struct cc_node *n);
/* YAML 1.1 null: a plain "", "~", "null", "Null", "NULL", or !!null. */
bool cc_node_is_null(const struct cc_node *n);
/* YAML 1.1 boolean (plain yes/no/true/false/on/off in their three casings, or !!bool):
 * 1 true, 0 false, -1 not a boolean. */
int cc_node_bool(const struct cc_node *n);
/* A scalar whose text is exactly S (any style). */
bool cc_scalar_is(const struct cc_node *n, const char *s);
/* A scalar's text when it has no NUL byte, else NULL. */
const char *cc_scalar_str(const struct cc_node *n);
/* What PyYAML makes a str: a quoted or block scalar, !!str, or a plain one that YAML 1.1 does not
 * resolve to null, a boolean, an integer, a float or a timestamp. */
bool cc_node_is_str(const struct cc_node *n);
/* Take KEY's value out of MAP (the key is freed, the other pairs keep their order): NULL when
 * missing. */
struct cc_node *cc_map_take(struct cc_node *map, const char *key);

/*
 * cloud-init's mergers (cloudinit/mergers/m_dict.py, m_list.py, m_str.py): how a later part is
 * merged into what the earlier ones made. A part's merge_how (or merge_type) and its Merge-Type
 * header name them, "list(append)+dict(recurse_array)+str()"; the first merger of each type
 * counts. A type without a merger keeps the old value (as cloud-init's lookup does); with no
 * merger named at all a part gets cloud-init's default for parts, dict(replace)+list()+str().
 */
enum cc_list_method {
	CC_LIST_REPLACE, /* index by index, the old length kept */
	CC_LIST_APPEND,
	CC_LIST_PREPEND,
	CC_LIST_NO_REPLACE,
};

struct cc_merge {
	bool dict, list, str; /* the mergers named */
	bool dict_replace, dict_recurse_str, dict_recurse_array, dict_allow_delete;
	enum cc_list_method list_method;
	bool list_recurse_str, list_recurse_dict, list_recurse_array;
	bool str_append;
};

/* The default for parts: dict(replace)+list()+str(). */
void cc_merge_default(struct cc_merge *m);
/* Add the mergers of SPEC ("list(append)+dict(recurse_array)", cloud-init's
 * string_extract_mergers) to M. -EINVAL when SPEC is not of that form or names another merger
 * (cloud-init then leaves the part out); WHY says which (secret-free: merger names only). */
int cc_merge_add(struct cc_merge *m, const char *spec, char *why, size_t why_size);
/* Add one merger NAME with its options (merge_how's list form). */
int cc_merge_add_one(struct cc_merge *m, const char *name, char *const *opts, char *why,
		     size_t why_size);
/* "dict(replace)+list()+str()": M as cloud-init would name it (static buffer of BUF). */
const char *cc_merge_name(const struct cc_merge *m, char *buf, size_t size);

/*
 * Merge SRC into *DST as cloud-init's merger.merge(DST, SRC) does; SRC is consumed (moved into
 * *DST or freed). Each value visited is one unit of B's work: -E2BIG when it runs out, -ENOMEM.
 */
int cc_node_merge(struct cc_budget *b, struct cc_node **dst, struct cc_node *src,
		  const struct cc_merge *m);
