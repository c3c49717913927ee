/* SPDX-License-Identifier: MIT */
/*
 * set.c: struct strlist (a length-tracked, NULL-terminated string list) and struct strset (an
 * open-addressing hash set of borrowed strings with linear probing, grown at 50 % load, keyed
 * with SipHash-2-4 under a random per-process key from getrandom()). Written from the SipHash
 * paper (Aumasson, Bernstein 2012); checked against its reference vector in tests/test-set.c.
 */
#include <sys/random.h>
#include <time.h>

#include "base/set.h"

int strlist_push(struct strlist *l, char *s)
{
	if (!s)
		return -ENOMEM;
	if (l->n + 2 > l->allocated) {
		size_t a = l->allocated ? l->allocated * 2 : 8;
		char **nv;

		if (a < l->n + 2 || a > SIZE_MAX / sizeof(char *)) {
			free(s);
			return -ENOMEM;
		}
		nv = realloc(l->v, a * sizeof(char *));
		if (!nv) {
			free(s);
			return -ENOMEM;
		}
		l->v = nv;
		l->allocated = a;
	}
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
	return 0;
}

char **strlist_steal(struct strlist *l)
{
	char **v = l->v;

	*l = (struct strlist){};
	return v;
}

void strlist_adopt(struct strlist *l, char **v)
{
	size_t n = 0;

	strlist_done(l);
	while (v && v[n])
		n++;
	*l = (struct strlist){ .v = v, .n = n, .allocated = v ? n + 1 : 0 };
}

void strlist_done(struct strlist *l)
{
	strv_free(l->v);
	*l = (struct strlist){};
}

/* --- SipHash-2-4 ------------------------------------------------------------------------------ */

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#define SIPROUND(v0, v1, v2, v3)                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = rotl(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = rotl(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = rotl(v2, 32);                                                                 \
	} while (0)

uint64_t siphash24(const void *data, size_t len, const uint8_t key[static 16])
{
	const uint8_t *p = data, *end = p + (len & ~(size_t)7);
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56;

	for (; p < end; p += 8) {
		uint64_t m = load_le64(p);

		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (unsigned i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (unsigned i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* --- the set ------------------------------------------------------------------------------------
 */

static uint8_t hash_key[16];
static bool hash_key_set;

static uint64_t hash(const char *key, size_t len)
{
	if (!hash_key_set) {
		/* Not a secret worth failing for: without entropy, fall back to time and address.
		 */
		if (getrandom(hash_key, sizeof(hash_key), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(hash_key)) {
			struct timespec ts;
			uint64_t a, b;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)getpid();
			b = (uint64_t)(uintptr_t)&ts ^ (uint64_t)(uintptr_t)key;
			memcpy(hash_key, &a, 8);
			memcpy(hash_key + 8, &b, 8);
		}
		hash_key_set = true;
	}
	return siphash24(key, len, hash_key);
}

/* The slot holding KEY, or the free slot where it would go. CAPACITY must be non-zero. */
static size_t find(const struct strset *s, const char *key, size_t len, uint64_t h)
{
	size_t mask = s->capacity - 1, i = (size_t)h & mask;

	while (s->e[i].key) {
		if (s->e[i].hash == h && s->e[i].len == len && memcmp(s->e[i].key, key, len) == 0)
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

static int grow(struct strset *s)
{
	size_t cap = s->capacity ? s->capacity * 2 : 16;
	struct strset_entry *old = s->e, *e;

	if (s->n + 1 <= s->capacity / 2)
		return 0;
	if (cap < s->capacity || cap > SIZE_MAX / sizeof(*e))
		return -ENOMEM;
	e = calloc(cap, sizeof(*e));
	if (!e)
		return -ENOMEM;
	s->e = e;
	for (size_t i = 0; i < s->capacity; i++)
		if (old[i].key) {
			size_t mask = cap - 1, j = (size_t)old[i].hash & mask;

			while (e[j].key)
				j = (j + 1) & mask;
			e[j] = old[i];
		}
	s->capacity = cap;
	free(old);
	return 0;
}

static int put(struct strset *s, const char *key, size_t len, size_t value, bool replace,
	       size_t *ret_value)
{
	uint64_t h = hash(key, len);
	size_t i;
	int r;

	if (s->capacity) {
		i = find(s, key, len, h);
		if (s->e[i].key) {
			if (replace) {
				s->e[i].key = key;
				s->e[i].value = value;
			}
			if (ret_value)
				*ret_value = s->e[i].value;
			return 0;
		}
	}
	r = grow(s);
	if (r < 0)
		return r;
	i = find(s, key, len, h);
	s->e[i] = (struct strset_entry){ .key = key, .len = len, .value = value, .hash = h };
	s->n++;
	if (ret_value)
		*ret_value = value;
	return 1;
}

int strset_put(struct strset *s, const char *key, size_t len, size_t value, size_t *ret_value)
{
	return put(s, key, len, value, false, ret_value);
}

int strset_replace(struct strset *s, const char *key, size_t len, size_t value)
{
	return put(s, key, len, value, true, NULL);
}

size_t *strset_value(const struct strset *s, const char *key, size_t len)
{
	size_t i;

	if (!s->capacity)
		return NULL;
	i = find(s, key, len, hash(key, len));
	return s->e[i].key ? &s->e[i].value : NULL;
}

bool strset_get(const struct strset *s, const char *key, size_t len, size_t *ret_value)
{
	size_t *v = strset_value(s, key, len);

	if (v && ret_value)
		*ret_value = *v;
	return v != NULL;
}

void strset_done(struct strset *s)
{
	free(s->e);
	*s = (struct strset){};
}
