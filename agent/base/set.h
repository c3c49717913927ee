/* SPDX-License-Identifier: MIT */
/*
 * set.h: the two containers code that reads outside input builds its lists with, so that no
 * document can make it quadratic: a string list that knows its length (appends amortised
 * O(1), still a NULL-terminated char ** for the code that takes one), and a set of strings
 * with a value each (open addressing, SipHash-2-4 with a per-process random key, so colliding
 * keys cannot be computed in advance; expected O(1) per operation). Nothing here iterates in
 * hash order, so no output depends on the key. No external library, no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/macro.h"

/* A NULL-terminated list of strings (V is NULL while empty) with its length. */
struct strlist {
	char **v;
	size_t n, allocated;
};

/* Append S (owned from now on; freed on failure, -ENOMEM also when S is NULL). */
int strlist_push(struct strlist *l, char *s);
/* Hand the list over as a plain char ** (NULL when empty); L is empty afterwards. */
char **strlist_steal(struct strlist *l);
/* Take over a plain NULL-terminated list (its length counted once). */
void strlist_adopt(struct strlist *l, char **v);
void strlist_done(struct strlist *l);

/*
 * A set of byte strings, each with a size_t value (an index, a count). Keys are borrowed: the
 * caller keeps each key's bytes alive and unchanged while it is in the set.
 */
struct strset_entry {
	const char *key;
	size_t len;
	size_t value;
	uint64_t hash;
};

struct strset {
	struct strset_entry *e; /* NULL until the first put; key NULL: free slot */
	size_t n, capacity;	/* capacity: 0 or a power of two */
};

/* Add KEY (LEN bytes) with VALUE. 1 added, 0 already there (*RET_VALUE, when not NULL, its
 * value; nothing changed), -ENOMEM. */
int strset_put(struct strset *s, const char *key, size_t len, size_t value, size_t *ret_value);
/* Add or replace: afterwards KEY maps to VALUE (and to the new KEY pointer). 1 added, 0
 * replaced, -ENOMEM. */
int strset_replace(struct strset *s, const char *key, size_t len, size_t value);
/* true when KEY is in the set; *RET_VALUE (when not NULL) its value. */
bool strset_get(const struct strset *s, const char *key, size_t len, size_t *ret_value);
/* A pointer to KEY's value (to change it in place), NULL when missing. */
size_t *strset_value(const struct strset *s, const char *key, size_t len);
void strset_done(struct strset *s);

static inline int strset_put_str(struct strset *s, const char *key, size_t value)
{
	return strset_put(s, key, strlen(key), value, NULL);
}
static inline bool strset_has_str(const struct strset *s, const char *key)
{
	return strset_get(s, key, strlen(key), NULL);
}

/* SipHash-2-4 of DATA with the 16-byte KEY (exposed for the unit test's reference vector). */
uint64_t siphash24(const void *data, size_t len, const uint8_t key[static 16]);
