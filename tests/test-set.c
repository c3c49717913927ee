/* SPDX-License-Identifier: MIT */
/* Unit tests for set.c: SipHash-2-4 against the paper's reference vectors, strlist appends (a
 * NULL-terminated list at every step, adopt/steal), strset put/get/replace/value with many keys,
 * binary keys and the empty key. The sizes make a quadratic implementation visible as a hang,
 * not as a timed assertion. */
#include "base/set.h"
#include "tap.h"

static void test_siphash(void)
{
	uint8_t key[16], msg[64];

	for (unsigned i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	/* SipHash paper, appendix A, and the reference implementation's vectors. */
	ok(siphash24(msg, 15, key) == 0xa129ca6149be45e5ULL, "siphash24: paper's 15-byte vector");
	ok(siphash24(msg, 0, key) == 0x726fdb47dd0e0e31ULL, "siphash24: empty input");
	ok(siphash24(msg, 8, key) == 0x93f5f5799a932462ULL, "siphash24: one full block");
	ok(siphash24(msg, 63, key) == 0x958a324ceb064572ULL, "siphash24: 63 bytes");
}

static void test_strlist(void)
{
	struct strlist l = {};
	char **v, *s;
	bool fine = true;
	int r = 0;

	ok(strlist_push(&l, NULL) == -ENOMEM && l.n == 0, "strlist: NULL is -ENOMEM");
	for (size_t i = 0; i < 200000 && r >= 0; i++) {
		if (asprintf(&s, "s%zu", i) < 0)
			s = NULL;
		r = strlist_push(&l, s);
		fine = fine && l.v[l.n] == NULL && l.n == i + 1;
	}
	ok(r == 0 && fine && l.n == 200000, "strlist: 200000 appends, NULL-terminated throughout");
	ok(streq(l.v[0], "s0") && streq(l.v[199999], "s199999"), "strlist: order kept");
	v = strlist_steal(&l);
	ok(l.n == 0 && !l.v && v && v[200000] == NULL, "strlist: steal empties the list");
	strlist_adopt(&l, v);
	ok(l.n == 200000 && l.v == v, "strlist: adopt counts the list");
	ok(strlist_push(&l, strdup("more")) == 0 && l.n == 200001 && streq(l.v[200000], "more") &&
	       !l.v[200001],
	   "strlist: push after adopt");
	strlist_done(&l);
	ok(!l.v && l.n == 0, "strlist: done");
	ok(strlist_steal(&l) == NULL, "strlist: an empty list is NULL");
}

static void test_strset(void)
{
	_cleanup_strv_free_ char **keys = NULL;
	struct strlist kl = {};
	struct strset s = {};
	size_t v = 0, *pv;
	bool fine = true;
	int r = 0;

	ok(!strset_get(&s, "a", 1, NULL) && !strset_value(&s, "a", 1), "strset: empty");
	for (size_t i = 0; i < 200000 && r >= 0; i++) {
		char *k;

		if (asprintf(&k, "key-%zu", i) < 0)
			k = NULL;
		r = strlist_push(&kl, k);
		if (r >= 0)
			r = strset_put(&s, k, strlen(k), i, NULL);
		fine = fine && r == 1;
	}
	ok(fine && s.n == 200000, "strset: 200000 distinct keys added");
	keys = strlist_steal(&kl);
	fine = true;
	for (size_t i = 0; i < 200000; i++)
		fine = fine && strset_get(&s, keys[i], strlen(keys[i]), &v) && v == i;
	ok(fine, "strset: every key found with its value");
	ok(strset_put(&s, "key-7", 5, 99, &v) == 0 && v == 7, "strset: put of a present key: 0, "
							      "old value");
	ok(strset_replace(&s, "key-7", 5, 99) == 0 && strset_get(&s, "key-7", 5, &v) && v == 99,
	   "strset: replace");
	pv = strset_value(&s, "key-8", 5);
	if (pv)
		(*pv)++;
	ok(pv && strset_get(&s, "key-8", 5, &v) && v == 9, "strset: value in place");
	ok(!strset_get(&s, "key-", 4, NULL) && !strset_get(&s, "key-x", 5, NULL),
	   "strset: prefixes are other keys");
	ok(strset_put(&s, "", 0, 5, NULL) == 1 && strset_get(&s, "", 0, &v) && v == 5,
	   "strset: the empty key");
	ok(strset_put(&s, "a\0b", 3, 1, NULL) == 1 && !strset_get(&s, "a", 1, NULL) &&
	       strset_get(&s, "a\0b", 3, NULL),
	   "strset: keys are bytes (NUL inside)");
	ok(strset_put_str(&s, "x", 1) == 1 && strset_has_str(&s, "x"), "strset: string helpers");
	strset_done(&s);
	ok(!s.e && s.n == 0, "strset: done");
}

int main(void)
{
	test_siphash();
	test_strlist();
	test_strset();
	return tap_done();
}
