/* SPDX-License-Identifier: MIT */
/*
 * test-sshkeys.c: TAP tests for sshkeys.c: the key validation table (keys from ssh-keygen when
 * it is installed, and blobs built here), and sshkeys_apply() in a temporary --root with its own
 * etc/passwd: modes and owners, the user's lines kept byte for byte, idempotence, sync and
 * add-only, refusals (symlinks, foreign home, broken block, hard links) and the file target.
 * Needs root, to chown to uid 1000 (exits 77 otherwise).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/authkeys.h"
#include "tap.h"
#include "base/util.h"

static char tmpdir[] = "/tmp/test-sshkeys.XXXXXX";

static char *p(const char *rel)
{
	static char buf[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, rel);
	return buf[i];
}

static void put(const char *rel, const char *content)
{
	FILE *f = fopen(p(rel), "we");

	if (!f || fputs(content, f) < 0 || fclose(f) != 0) {
		perror(rel);
		exit(99);
	}
}

static char *get(const char *rel)
{
	char *buf = NULL;

	if (read_file(NULL, p(rel), 16 << 20, &buf, NULL) < 0)
		return NULL;
	return buf;
}

static bool content_is(const char *rel, const char *want)
{
	_cleanup_free_ char *got = get(rel);

	if (!got || !streq(got, want)) {
		printf("# %s: got:\n# %s\n# want:\n# %s\n", rel, got ?: "(unreadable)", want);
		return false;
	}
	return true;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static bool has_mode_owner(const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(p(rel), &st) < 0)
		return false;
	if ((st.st_mode & 07777) != mode || st.st_uid != uid || st.st_gid != gid) {
		printf("# %s: mode %04o uid %u gid %u\n", rel, (unsigned)(st.st_mode & 07777),
		       (unsigned)st.st_uid, (unsigned)st.st_gid);
		return false;
	}
	return true;
}

static char *base64(const uint8_t *d, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *r = malloc((n + 2) / 3 * 4 + 1), *o = r;

	if (!r)
		exit(99);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? a[v & 63] : '=';
	}
	*o = 0;
	return r;
}

static size_t put_string(uint8_t *b, const void *s, size_t n)
{
	b[0] = (uint8_t)(n >> 24);
	b[1] = (uint8_t)(n >> 16);
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	memcpy(b + 4, s, n);
	return 4 + n;
}

/* "LINE_TYPE base64(string BLOB_TYPE, string 32 bytes from SEED) COMMENT"; caller frees. */
static char *make_key(const char *line_type, const char *blob_type, unsigned seed,
		      const char *comment)
{
	uint8_t blob[256], pk[32];
	_cleanup_free_ char *b64 = NULL;
	size_t n;
	char *r;

	for (size_t i = 0; i < sizeof(pk); i++)
		pk[i] = (uint8_t)(seed >> (8 * (i % 4)) ^ (i * 37));
	n = put_string(blob, blob_type, strlen(blob_type));
	n += put_string(blob + n, pk, sizeof(pk));
	b64 = base64(blob, n);
	if (asprintf(&r, "%s %s%s%s", line_type, b64, comment ? " " : "", comment ?: "") < 0)
		exit(99);
	return r;
}

static char *ed25519(unsigned seed, const char *comment)
{
	return make_key("ssh-ed25519", "ssh-ed25519", seed, comment);
}

static int apply(const char *user, char *const *keys, enum sshkeys_policy policy,
		 enum sshkeys_target target, bool dry_run, char **ret_message)
{
	_cleanup_free_ char *m = NULL;
	int r;

	r = sshkeys_apply(tmpdir, user, keys, policy, target, dry_run, &m);
	printf("# apply(%s) -> %d: %s\n", user, r, m ?: "(no message)");
	if (ret_message)
		*ret_message = TAKE_PTR(m);
	return r;
}

/* Keys made by ssh-keygen, when it is installed: NULL-terminated, may be empty. */
static char **keygen_keys(void)
{
	static const char *types[] = { "ed25519", "rsa", "ecdsa" };
	char **l = NULL;
	int r;

	if (access("/usr/bin/ssh-keygen", X_OK) < 0) {
		printf("# ssh-keygen not installed, using built blobs only\n");
		return calloc(1, sizeof(char *));
	}
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		_cleanup_free_ char *cmd = NULL, *pub = NULL;
		char *key;

		r = asprintf(&cmd,
			     "/usr/bin/ssh-keygen -q -t %s -N '' -C 'test key %zu' -f %s/k%zu "
			     "</dev/null >/dev/null",
			     types[i], i, tmpdir, i);
		if (r < 0 || system(cmd) != 0) {
			printf("# ssh-keygen -t %s failed\n", types[i]);
			continue;
		}
		r = asprintf(&pub, "k%zu.pub", i);
		if (r < 0)
			exit(99);
		key = get(pub);
		if (!key)
			continue;
		key[strcspn(key, "\n")] = 0;
		if (strv_push(&l, key) < 0)
			exit(99);
	}
	return l ?: calloc(1, sizeof(char *));
}

static void test_validation(void)
{
	_cleanup_strv_free_ char **generated = keygen_keys();
	_cleanup_free_ char *k = ed25519(1, "ops@example"), *nocomment = ed25519(2, NULL),
			    *spaced = NULL, *mismatch = make_key("ssh-rsa", "ssh-ed25519", 3, NULL),
			    *unknown = make_key("ssh-foo", "ssh-foo", 4, NULL), *options = NULL,
			    *options2 = NULL, *cr = NULL, *tab = NULL, *huge = NULL, *badpad = NULL,
			    *trunc = NULL, *cert = NULL;
	const char *reason;
	uint8_t blob[64];
	struct {
		const char *line;
		const char *reason;
	} bad[16];
	size_t n_bad = 0;

	for (size_t i = 0; generated[i]; i++) {
		char type[40] = "";

		int r = sshkey_validate(generated[i], &reason);

		sscanf(generated[i], "%39s", type);
		ok(r == 0, "valid: ssh-keygen %s key (%s)", type, r == 0 ? "ok" : reason);
	}
	{
		int r = sshkey_validate(k, &reason);

		ok(r == 0, "valid: built ed25519 key (%s)", r == 0 ? "ok" : reason);
	}
	ok(sshkey_validate(nocomment, NULL) == 0, "valid: key without a comment");
	if (asprintf(&spaced, "  %s with a longer comment  ", k) < 0)
		exit(99);
	ok(sshkey_validate(spaced, NULL) == 0, "valid: blanks around, comment with spaces");
	cert = make_key("ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519-cert-v01@openssh.com", 5,
			NULL);
	ok(sshkey_validate(cert, NULL) == 0, "valid: certificate type");

	if (asprintf(&options, "command=\"echo hi\" %s", k) < 0 ||
	    asprintf(&options2, "no-pty %s", k) < 0 || asprintf(&cr, "%s\rx", k) < 0 ||
	    asprintf(&tab, "ssh-ed25519\t%s", strchr(k, ' ') + 1) < 0)
		exit(99);
	huge = malloc(20 * 1024 + 1);
	if (!huge)
		exit(99);
	memset(huge, 'A', 20 * 1024);
	memcpy(huge, "ssh-rsa ", 8);
	huge[20 * 1024] = 0;
	/* "ssh-ed25519 AAAA=": 5 characters, not a multiple of 4 */
	if (asprintf(&badpad, "%.16s=", k) < 0)
		exit(99);
	trunc = base64(blob, put_string(blob, "ssh-ed25519", 11));
	{
		char *t;
		if (asprintf(&t, "ssh-ed25519 %s", trunc) < 0)
			exit(99);
		free(trunc);
		trunc = t;
	}

#define BAD(l, r) bad[n_bad++] = (typeof(bad[0])){ (l), (r) }
	BAD(unknown, "unknown key type");
	BAD("ssh-ed25519 not*base64!", "base64 does not decode");
	BAD("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3xQ1f8m2kq9Lw0TzR7cY4uV6pN5hJ2dE8sA1gK0oX",
	    "base64 does not decode");
	BAD(badpad, "base64 does not decode");
	BAD(mismatch, "key blob type does not match");
	BAD(trunc, "key blob is truncated");
	BAD(cr, "control character");
	BAD(tab, "control character");
	BAD("ssh-ed25519 AAAA\nssh-rsa AAAA", "control character");
	BAD(options, "options are not accepted from metadata");
	BAD(options2, "options are not accepted from metadata");
	BAD(huge, "too long");
	BAD("", "empty");
	BAD("   ", "empty");
	BAD("ssh-ed25519", "no key data");
#undef BAD

	for (size_t i = 0; i < n_bad; i++) {
		int r = sshkey_validate(bad[i].line, &reason);

		ok(r == -EINVAL && reason && streq(reason, bad[i].reason),
		      "invalid: entry %zu: \"%s\" (want \"%s\")", i, r == 0 ? "accepted" : reason,
		      bad[i].reason);
	}
	ok(sshkey_validate(NULL, &reason) == -EINVAL, "invalid: NULL");

	/* From the user data, options are the user's choice (cloud-init keeps them). */
	ok(sshkey_validate_flags(options, SSHKEY_OPTIONS_OK, NULL) == 0 &&
		   sshkey_validate_flags(options2, SSHKEY_OPTIONS_OK, NULL) == 0,
	   "user data: command=\"...\" and no-pty accepted");
	{
		static const struct {
			const char *opts, *reason; /* NULL: valid */
		} o[] = {
			{ "from=\"10.0.0.0/8,::1\",no-pty,cert-authority", NULL },
			{ "command=\"echo \\\"a b\\\"\"", NULL },
			{ "environment=\"A=b c\",principals=\"x\"", NULL },
			{ "no-pty,", "the options are malformed" },
			{ ",no-pty", "the options are malformed" },
			{ "command=\"unterminated", "the options are malformed" },
			{ "command=bare", "the options are malformed" },
			{ "no_pty", "the options are malformed" },
			{ "no-pty ssh-foo", "unknown key type" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(o); i++) {
			char *l = NULL;
			int r;

			if (asprintf(&l, "%s %s", o[i].opts, k) < 0)
				exit(99);
			reason = NULL;
			r = sshkey_validate_flags(l, SSHKEY_OPTIONS_OK, &reason);
			ok(o[i].reason ? r == -EINVAL && reason && streq(reason, o[i].reason) : r == 0,
			   "user data options %zu: %s (%s)", i, o[i].opts, reason ? reason : "ok");
			ok(sshkey_validate(l, NULL) == -EINVAL, "metadata options %zu: refused", i);
			free(l);
		}
	}
}

static const char *BEGIN = SSHKEYS_BLOCK_BEGIN "\n";
static const char *END = SSHKEYS_BLOCK_END "\n";

static char *block(char *const *keys)
{
	char *r = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&r, &n);

	if (!f)
		exit(99);
	fputs(BEGIN, f);
	for (size_t i = 0; keys[i]; i++)
		fprintf(f, "%s\n", keys[i]);
	fputs(END, f);
	fclose(f);
	return r;
}

static char *cat3(const char *a, const char *b, const char *c)
{
	char *r;

	if (asprintf(&r, "%s%s%s", a, b, c) < 0)
		exit(99);
	return r;
}

static void test_apply(void)
{
	_cleanup_free_ char *k1 = ed25519(11, "k1@example"), *k2 = ed25519(12, "k2@example"),
			    *k3 = ed25519(13, "k3@example"), *k4 = ed25519(14, NULL),
			    *u1 = ed25519(21, "me@laptop"), *m = NULL, *want = NULL, *b = NULL;
	const char *AK = "home/alice/.ssh/authorized_keys";
	struct stat s1, s2;
	int r;

	ok(mkdir(p("etc"), 0755) == 0 && mkdir(p("root"), 0700) == 0 &&
		      mkdir(p("home"), 0755) == 0 && mkdir(p("home/alice"), 0755) == 0 &&
		      chown(p("home/alice"), 1000, 1000) == 0 && mkdir(p("home/bob"), 0755) == 0 &&
		      chown(p("home/bob"), 1000, 1000) == 0 && mkdir(p("home/carol"), 0755) == 0 &&
		      chown(p("home/carol"), 1002, 1002) == 0 && mkdir(p("victim"), 0755) == 0 &&
		      symlink("alice", p("home/link")) == 0,
	      "set up the root");
	put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
			  "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"
			  "bob:x:1001:1001::/home/bob:/bin/sh\n"
			  "carol:x:1002:1002::/home/carol:/bin/sh\n"
			  "dave:x:1003:1003::/home/link:/bin/sh\n"
			  "erin:x:1004:1004::/home/erin:/bin/sh");
	put("victim/file", "precious\n");

	/* Fresh: .ssh created 0700, the file 0600, both the user's. */
	{
		char *keys[] = { k1, k2, k1, NULL };
		char *want_keys[] = { k1, k2, NULL };

		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		ok(r == 1 && m &&
			      streq(m, "added 2, removed 0, kept 0 (block in "
				       "/home/alice/.ssh/authorized_keys)"),
		      "fresh: added (%s)", m ?: "");
		free(TAKE_PTR(m));
		ok(has_mode_owner("home/alice/.ssh", 0700, 1000, 1000), ".ssh is 0700 alice's");
		ok(has_mode_owner(AK, 0600, 1000, 1000), "authorized_keys is 0600 alice's");
		b = block(want_keys);
		ok(content_is(AK, b), "fresh: the block, deduplicated");
	}

	/* Second run: unchanged, not rewritten. */
	{
		char *keys[] = { k1, k2, NULL };

		stat(p(AK), &s1);
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		stat(p(AK), &s2);
		ok(r == 0 && same_file(&s1, &s2), "second run: unchanged, same inode and mtime");
	}

	/* The user's lines around the block are kept byte for byte; k2 is revoked (sync). */
	{
		char *keys[] = { k1, k3, NULL };
		char *want_keys[] = { k1, k3, NULL };
		_cleanup_free_ char *before = NULL, *nb = NULL;
		const char *after = "# after the block\r\n\tfrom=\"10.0.0.0/8\" ssh-rsa AAAAuser";

		if (asprintf(&before, "# my own keys  \n%s\n\n", u1) < 0)
			exit(99);
		free(want);
		want = cat3(before, b, after);
		put(AK, want);
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		ok(r == 1 && m && strstr(m, "added 1, removed 1, kept 1"), "sync: %s", m ?: "");
		free(TAKE_PTR(m));
		nb = block(want_keys);
		free(want);
		want = cat3(before, nb, after);
		ok(content_is(AK, want), "sync: revoked key gone, user's lines byte for byte");
		ok(has_mode_owner(AK, 0600, 1000, 1000), "rewritten file is 0600 alice's");
	}

	/* add-only keeps what is there and appends. */
	{
		char *keys_k1[] = { k1, NULL };
		char *keys_k4[] = { k4, k1, NULL };

		stat(p(AK), &s1);
		r = apply("alice", keys_k1, SSHKEYS_ADD_ONLY, SSHKEYS_TARGET_BLOCK, false, NULL);
		stat(p(AK), &s2);
		ok(r == 0 && same_file(&s1, &s2) && content_is(AK, want),
		      "add-only: a subset of the block changes nothing");
		r = apply("alice", keys_k4, SSHKEYS_ADD_ONLY, SSHKEYS_TARGET_BLOCK, false, &m);
		ok(r == 1 && m && strstr(m, "added 1, removed 0, kept 2"), "add-only: %s",
		      m ?: "");
		free(TAKE_PTR(m));
		{
			_cleanup_free_ char *got = get(AK);
			char *a = got ? strstr(got, k1) : NULL, *c = got ? strstr(got, k3) : NULL,
			     *d = got ? strstr(got, k4) : NULL;
			ok(a && c && d && a < c && c < d,
			      "add-only: old order, then the new key");
		}
	}

	/* A key the user has outside the block is not added to it. */
	{
		char *keys[] = { u1, k1, NULL };
		_cleanup_free_ char *got = NULL;

		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		got = get(AK);
		{
			char *first = got ? strstr(got, strchr(u1, ' ')) : NULL;
			ok(r == 1 && first && !strstr(first + 1, strchr(u1, ' ')) && m &&
				      strstr(m, "1 already outside the block"),
			      "user's own key not duplicated into the block (%s)", m ?: "");
		}
		free(TAKE_PTR(m));
	}

	/* All keys invalid: the block stays. */
	{
		char *keys[] = { "ssh-ed25519 garbage!", "no-pty ssh-rsa AAAA", NULL };

		free(want);
		want = get(AK);
		stat(p(AK), &s1);
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		stat(p(AK), &s2);
		ok(r == 0 && same_file(&s1, &s2) && want && content_is(AK, want) && m &&
			      strstr(m, "none of the 2 keys"),
		      "all keys invalid: block kept (%s)", m ?: "");
		free(TAKE_PTR(m));
	}

	/* One invalid key among valid ones is skipped; no keys at all removes the block. */
	{
		char *keys[] = { "ssh-ed25519 garbage!", k2, NULL };
		char *none[] = { NULL };
		_cleanup_free_ char *got = NULL;

		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		ok(r == 1 && m && strstr(m, "added 1, removed 1, kept 0") &&
			      strstr(m, "1 invalid key ignored"),
		      "invalid key skipped, the valid one applied: %s", m ?: "");
		free(TAKE_PTR(m));
		r = apply("alice", none, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		got = get(AK);
		ok(r == 1 && got && !strstr(got, "vagent") && strstr(got, "# after the block") &&
			      strstr(got, u1),
		      "no keys in metadata, sync: block removed, user's lines kept");
		stat(p(AK), &s1);
		r = apply("alice", NULL, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		stat(p(AK), &s2);
		ok(r == 0 && same_file(&s1, &s2), "no keys and no block: nothing to do");
	}

	/* A user file without a final newline gets one before the block. */
	{
		char *keys[] = { k2, NULL };
		char *want_keys[] = { k2, NULL };
		_cleanup_free_ char *nb = block(want_keys);

		put(AK, "# no final newline");
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		free(want);
		want = cat3("# no final newline\n", nb, "");
		ok(r == 1 && content_is(AK, want), "newline added before a new block");
	}

	/* Dry run writes nothing: neither a new .ssh nor a change to an existing file. */
	{
		char *keys[] = { k1, k2, NULL };
		struct stat st;

		r = apply("carol", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, true, &m);
		ok(r == 1 && m && strstr(m, "would add 2 keys, remove 0"), "dry run: %s",
		      m ?: "");
		free(TAKE_PTR(m));
		ok(lstat(p("home/carol/.ssh"), &st) < 0 && errno == ENOENT,
		      "dry run: no .ssh created");
		stat(p(AK), &s1);
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, true, NULL);
		stat(p(AK), &s2);
		ok(r == 1 && same_file(&s1, &s2) && content_is(AK, want),
		      "dry run: existing file untouched");
	}

	/* An existing .ssh with a wrong mode and owner is fixed. */
	{
		char *keys[] = { k1, NULL };

		ok(mkdir(p("home/carol/.ssh"), 0755) == 0, "mkdir carol's .ssh 0755 root-owned");
		r = apply("carol", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		ok(r == 1 && has_mode_owner("home/carol/.ssh", 0700, 1002, 1002) &&
			      has_mode_owner("home/carol/.ssh/authorized_keys", 0600, 1002, 1002),
		      "existing .ssh made 0700 and carol's");
	}

	/* Refusals. */
	{
		char *keys[] = { k1, NULL };
		_cleanup_free_ char *before = get(AK);

		ok(symlink("../victim", p("root/.ssh")) == 0, "symlink /root/.ssh -> /victim");
		r = apply("root", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		ok(r == -ELOOP && m && streq(m, "'/root/.ssh' is a symlink, refusing"),
		      ".ssh symlink refused (%s)", m ?: "");
		free(TAKE_PTR(m));
		ok(access(p("victim/authorized_keys"), F_OK) < 0 &&
			      content_is("victim/file", "precious\n"),
		      ".ssh symlink: its target untouched");

		unlink(p(AK));
		ok(symlink("../../../victim/file", p(AK)) == 0, "symlink authorized_keys");
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		ok(r == -ELOOP && m && strstr(m, "is a symlink, refusing"),
		      "authorized_keys symlink refused (%s)", m ?: "");
		free(TAKE_PTR(m));
		lstat(p(AK), &s1);
		ok(content_is("victim/file", "precious\n") && S_ISLNK(s1.st_mode),
		      "authorized_keys symlink: target untouched, link still there");
		unlink(p(AK));

		ok(link(p("victim/file"), p(AK)) == 0, "hard link authorized_keys");
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		ok(r == -EMLINK && content_is("victim/file", "precious\n"),
		      "hard-linked authorized_keys refused");
		unlink(p(AK));
		put(AK, before ?: "");

		r = apply("bob", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		ok(r == -EPERM && m &&
			      streq(m, "home '/home/bob' is owned by uid 1000, not by 'bob'"),
		      "foreign home refused (%s)", m ?: "");
		free(TAKE_PTR(m));
		ok(access(p("home/bob/.ssh"), F_OK) < 0, "foreign home: nothing created");

		r = apply("dave", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		ok(r == -ELOOP || r == -ENOTDIR, "home through a symlink refused (%d)", r);
		r = apply("erin", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		ok(r == -ENOENT, "missing home refused (%d)", r);
		r = apply("mallory", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		ok(r == -ESRCH, "unknown user refused (%d)", r);

		free(want);
		want = cat3("# mine\n", BEGIN, k2);
		put(AK, want);
		stat(p(AK), &s1);
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		stat(p(AK), &s2);
		ok(r == -EBADMSG && same_file(&s1, &s2) && content_is(AK, want) && m &&
			      strstr(m, "BEGIN line without END"),
		      "BEGIN without END refused, nothing written (%s)", m ?: "");
		free(TAKE_PTR(m));
		put(AK, "# mine\n");
	}

	/* Target file: authorized_keys.d/vagent is written, authorized_keys left alone. */
	{
		char *keys[] = { k3, k4, NULL };
		const char *F = "home/alice/.ssh/authorized_keys.d/vagent";
		_cleanup_free_ char *got = NULL;
		struct stat st;

		stat(p(AK), &s1);
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_FILE, false, &m);
		stat(p(AK), &s2);
		ok(r == 1 && m && strstr(m, "added 2, removed 0, kept 0 (file /home/alice/"),
		      "target file: %s", m ?: "");
		free(TAKE_PTR(m));
		ok(same_file(&s1, &s2) && content_is(AK, "# mine\n"),
		      "target file: authorized_keys untouched");
		got = get(F);
		ok(got && strstr(got, k3) && strstr(got, k4) &&
			      strstr(got, k3) < strstr(got, k4),
		      "target file: both keys, in order");
		ok(has_mode_owner(F, 0600, 1000, 1000) &&
			      has_mode_owner("home/alice/.ssh/authorized_keys.d", 0700, 1000, 1000),
		      "target file: 0600 in a 0700 directory, alice's");
		stat(p(F), &s1);
		r = apply("alice", keys, SSHKEYS_SYNC, SSHKEYS_TARGET_FILE, false, NULL);
		stat(p(F), &s2);
		ok(r == 0 && same_file(&s1, &s2), "target file: second run unchanged");
		r = apply("alice", NULL, SSHKEYS_SYNC, SSHKEYS_TARGET_FILE, false, NULL);
		ok(r == 1 && lstat(p(F), &st) < 0 && errno == ENOENT,
		      "target file: no keys, sync: file removed");
	}

	/* 2000 keys. */
	{
		_cleanup_strv_free_ char **many = NULL;
		_cleanup_free_ char *got = NULL;
		size_t lines = 0;

		for (unsigned i = 0; i < 2000; i++)
			if (strv_push(&many, ed25519(100000 + i, "bulk")) < 0)
				exit(99);
		r = apply("root", many, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		ok(r == -ELOOP, "root's .ssh is still the symlink (%d)", r);
		free(TAKE_PTR(m));
		unlink(p("root/.ssh"));
		r = apply("root", many, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, &m);
		ok(r == 1 && m && strstr(m, "added 2000, removed 0, kept 0"), "2000 keys: %s",
		      m ?: "");
		free(TAKE_PTR(m));
		got = get("root/.ssh/authorized_keys");
		for (char *c = got; c && *c; c++)
			lines += *c == '\n';
		ok(lines == 2002 && has_mode_owner("root/.ssh", 0700, 0, 0),
		      "2000 keys: 2000 lines plus the markers (%zu)", lines);
		stat(p("root/.ssh/authorized_keys"), &s1);
		r = apply("root", many, SSHKEYS_SYNC, SSHKEYS_TARGET_BLOCK, false, NULL);
		stat(p("root/.ssh/authorized_keys"), &s2);
		ok(r == 0 && same_file(&s1, &s2), "2000 keys: second run unchanged");
	}
}

/* Write N bytes of D to REL (binary: put() stops at a NUL). */
static void put_bytes(const char *rel, const char *d, size_t n, mode_t mode)
{
	int fd = open(p(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, d, n) != (ssize_t)n || fchmod(fd, mode) < 0 || close(fd) < 0) {
		perror(rel);
		exit(99);
	}
}

/*
 * Regression (tests/fuzz/fuzz-sshkeys): NUL bytes in the user's authorized_keys. The line copy
 * stopped at the NUL while its key was looked for over the full length (a heap read past the
 * copy, ASan: heap-buffer-overflow in next_token); then blanks, a CR or nothing at all left
 * before the NUL made the file change on every run. Now: no over-read, the user's bytes are
 * kept as they are, and a second run changes nothing, for both targets and both policies.
 */
static void test_nul_bytes(void)
{
	const char *srcdir = getenv("srcdir") ?: ".";
	_cleanup_free_ char *fixture = NULL, *old = NULL, *k1 = ed25519(31, "nul@example");
	char *keys[] = { k1, NULL };
	size_t len = 0;
	int r;

	if (asprintf(&fixture, "%s/tests/fixtures/authorized_keys-nul-byte", srcdir) < 0)
		exit(99);
	if (read_file(NULL, fixture, 1 << 20, &old, &len) < 0 || !memchr(old, 0, len)) {
		ok(false, "read fixture %s", fixture);
		return;
	}
	for (int target = 0; target < 2; target++)
		for (int policy = 0; policy < 2; policy++) {
			const char *f = target ? "home/alice/.ssh/authorized_keys.d/vagent"
					       : "home/alice/.ssh/authorized_keys";
			enum sshkeys_target t = target ? SSHKEYS_TARGET_FILE : SSHKEYS_TARGET_BLOCK;
			enum sshkeys_policy pol = policy ? SSHKEYS_ADD_ONLY : SSHKEYS_SYNC;
			_cleanup_free_ char *got = NULL;
			size_t got_len = 0;
			struct stat s1, s2;

			rm_rf(NULL, p("home/alice/.ssh"));
			mkdir(p("home/alice/.ssh"), 0700);
			mkdir(p("home/alice/.ssh/authorized_keys.d"), 0700);
			chown(p("home/alice/.ssh"), 1000, 1000);
			chown(p("home/alice/.ssh/authorized_keys.d"), 1000, 1000);
			put_bytes(f, old, len, 0600);
			chown(p(f), 1000, 1000);

			r = apply("alice", keys, pol, t, false, NULL);
			read_file(NULL, p(f), 1 << 20, &got, &got_len);
			ok(r == 1 && got && (target || (got_len > len && !memcmp(got, old, len))),
			      "NUL bytes (%s, %s): applied%s (r=%d)", target ? "file" : "block",
			      policy ? "add-only" : "sync", target ? "" : ", own bytes kept", r);
			stat(p(f), &s1);
			r = apply("alice", keys, pol, t, false, NULL);
			stat(p(f), &s2);
			ok(r == 0 && same_file(&s1, &s2), "NUL bytes (%s, %s): second run unchanged",
			      target ? "file" : "block", policy ? "add-only" : "sync");
		}
	rm_rf(NULL, p("home/alice/.ssh"));
}

int main(void)
{
	log_set_max_level(LOG_INFO);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}

	test_validation();
	if (geteuid() != 0) {
		printf("# SKIP: the apply tests chown to uid 1000 and need root\n");
		rm_rf(NULL, tmpdir);
		return tap_done() ?: 77;
	}
	test_apply();
	test_nul_bytes();

	rm_rf(NULL, tmpdir);
	return tap_done();
}
