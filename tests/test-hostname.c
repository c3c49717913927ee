/* SPDX-License-Identifier: MIT */
/*
 * test-hostname.c: TAP tests for hostname.c: the RFC 1123 validation table, and
 * hostname_apply() in a temporary --root: /etc/hostname and /etc/hosts contents, the rest of
 * /etc/hosts kept byte for byte, idempotence (same inode and mtime on the second run),
 * policies, dry run, and a symlinked /etc/hostname refused. Needs no privileges.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "steps/hostname.h"
#include "base/log.h"
#include "tap.h"
#include "base/util.h"

static char tmpdir[] = "/tmp/test-hostname.XXXXXX";

static char *p(const char *rel)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
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

/* The file's content, or NULL when it cannot be read. Caller frees. */
static char *get(const char *rel)
{
	char *buf = NULL;

	if (read_file(NULL, p(rel), 1 << 20, &buf, NULL) < 0)
		return NULL;
	return buf;
}

static bool content_is(const char *rel, const char *want)
{
	_cleanup_free_ char *got = get(rel);

	if (!got || !streq(got, want)) {
		printf("# %s: got \"%s\", want \"%s\"\n", rel, got ?: "(unreadable)", want);
		return false;
	}
	return true;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int apply(const char *name, enum hostname_policy policy, bool first_boot, bool dry_run,
		 char **ret_message)
{
	_cleanup_free_ char *m = NULL;
	int r;

	r = hostname_apply(tmpdir, name, policy, first_boot, dry_run, &m);
	printf("# apply -> %d: %s\n", r, m ?: "(no message)");
	if (ret_message)
		*ret_message = TAKE_PTR(m);
	return r;
}

static void test_validation(void)
{
	static const char *good[] = { "web-1", "a.b.c", "WEB-1.Example.COM", "1a", "123.example",
				      "a", "x-y-z.example-1.com" };
	char label63[64], label64[65], total253[254], total254[255], reason[128];
	static const char *bad[] = { "", "-a", "a-", "a..b", "a b", "a_b", "é", "../x", "a.",
				     ".a", "1.2.3.4", "123", "x\ny", "a\tb", "a.b-.c" };

	memset(label63, 'a', 63);
	label63[63] = 0;
	memset(label64, 'a', 64);
	label64[64] = 0;
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	snprintf(total253, sizeof(total253), "%s.%s.%s.%.61s", label63, label63, label63, label63);
	snprintf(total254, sizeof(total254), "%s.%s.%s.%.62s", label63, label63, label63, label63);

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		ok(hostname_is_valid(good[i]), "valid: \"%s\"", good[i]);
	ok(hostname_is_valid(label63), "valid: a 63-character label");
	ok(strlen(total253) == 253 && hostname_is_valid(total253), "valid: 253 characters");

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		bool refused = hostname_validate(bad[i], reason, sizeof(reason)) == -EINVAL;

		ok(refused && !hostname_is_valid(bad[i]), "invalid: entry %zu (%s)", i,
		   refused ? reason : "accepted");
	}
	ok(!hostname_is_valid(NULL), "invalid: NULL");
	ok(!hostname_is_valid(label64), "invalid: a 64-character label");
	ok(strlen(total254) == 254 && !hostname_is_valid(total254), "invalid: 254 characters");

	hostname_validate("web.a b", reason, sizeof(reason));
	ok(streq(reason, "label 2 has a space"), "reason names the label: \"%s\"", reason);
	hostname_validate("a_b", reason, sizeof(reason));
	ok(strstr(reason, "'_'") != NULL, "reason names the character: \"%s\"", reason);
}

static void test_apply(void)
{
	static const char hosts_in[] = "127.0.0.1\tlocalhost\n"
				       "# The following lines are desirable for IPv6\n"
				       "127.0.1.1\told-name.example.org old-name\n"
				       "::1     localhost ip6-localhost ip6-loopback\n"
				       "10.0.0.5\tdb  \t# trailing tab and spaces kept\n"
				       "ff02::2\tip6-allrouters"; /* no final newline */
	static const char hosts_out[] = "127.0.0.1\tlocalhost\n"
					"# The following lines are desirable for IPv6\n"
					"127.0.1.1\tweb-1.example.com web-1\n"
					"::1     localhost ip6-localhost ip6-loopback\n"
					"10.0.0.5\tdb  \t# trailing tab and spaces kept\n"
					"ff02::2\tip6-allrouters";
	_cleanup_free_ char *m = NULL;
	struct stat a1, a2, b1, b2;
	int r;

	ok(mkdir(p("etc"), 0755) == 0, "mkdir etc");
	put("etc/hostname", "debian\n");
	put("etc/hosts", hosts_in);
	ok(chmod(p("etc/hosts"), 0640) == 0, "chmod etc/hosts 0640");

	/* Policies that skip and the empty name touch nothing. */
	r = apply("web-1.example.com", HOSTNAME_FIRST_BOOT, false, false, &m);
	ok(r == 0 && content_is("etc/hostname", "debian\n"),
	      "first-boot policy, not the first boot: unchanged");
	ok(m && strstr(m, "kept 'debian'") && strstr(m, "not the first boot"),
	      "message says why: \"%s\"", m ?: "");
	free(TAKE_PTR(m));
	r = apply("web-1.example.com", HOSTNAME_NEVER, true, false, NULL);
	ok(r == 0 && content_is("etc/hostname", "debian\n"), "policy never: unchanged");
	r = apply("", HOSTNAME_EVERY_BOOT, true, false, &m);
	ok(r == 0 && content_is("etc/hostname", "debian\n") && m && strstr(m, "empty"),
	      "empty name: unchanged");
	free(TAKE_PTR(m));

	/* Invalid names are refused with a reason and nothing is written. */
	r = apply("bad name\n", HOSTNAME_EVERY_BOOT, true, false, &m);
	ok(r == -EINVAL && m && strstr(m, "label 1 has a space") && !strchr(m, '\n'),
	      "invalid name refused with its reason");
	ok(content_is("etc/hostname", "debian\n") && content_is("etc/hosts", hosts_in),
	      "invalid name: files untouched");
	free(TAKE_PTR(m));

	/* Dry run decides but writes nothing. */
	stat(p("etc/hosts"), &b1);
	r = apply("web-1.example.com", HOSTNAME_EVERY_BOOT, true, true, &m);
	ok(r == 1 && m && strstr(m, "would set"), "dry run: plans a change (\"%s\")", m ?: "");
	stat(p("etc/hosts"), &b2);
	ok(content_is("etc/hostname", "debian\n") && content_is("etc/hosts", hosts_in) &&
		      same_file(&b1, &b2),
	      "dry run: nothing written");
	free(TAKE_PTR(m));

	/* The real thing, with upper case in the metadata. */
	r = apply("Web-1.Example.com", HOSTNAME_FIRST_BOOT, true, false, &m);
	ok(r == 1, "first boot: changed (%d)", r);
	ok(m && streq(m, "set to 'web-1' (fqdn web-1.example.com) (changed: /etc/hostname /etc/hosts)"),
	   "message: \"%s\"",
	      m ?: "");
	free(TAKE_PTR(m));
	ok(content_is("etc/hostname", "web-1\n"), "etc/hostname has the short name");
	ok(content_is("etc/hosts", hosts_out), "etc/hosts: only the 127.0.1.1 line replaced");
	ok(stat(p("etc/hosts"), &b1) == 0 && (b1.st_mode & 07777) == 0640,
	      "etc/hosts keeps its mode");
	ok(stat(p("etc/hostname"), &a1) == 0 && (a1.st_mode & 07777) == 0644,
	      "etc/hostname is 0644");

	/* Second run: nothing to do, files not rewritten. */
	r = apply("web-1.example.com", HOSTNAME_EVERY_BOOT, true, false, NULL);
	ok(r == 0, "second run: unchanged (%d)", r);
	stat(p("etc/hostname"), &a2);
	stat(p("etc/hosts"), &b2);
	ok(same_file(&a1, &a2) && same_file(&b1, &b2), "second run: same inodes and mtimes");

	/* No 127.0.1.1 line and no final newline: the line is appended on its own line. */
	put("etc/hosts", "127.0.0.1 localhost\n#127.0.1.1 commented\n::1 localhost");
	r = apply("web-1", HOSTNAME_EVERY_BOOT, true, false, NULL);
	ok(r == 1 && content_is("etc/hosts", "127.0.0.1 localhost\n#127.0.1.1 commented\n"
						"::1 localhost\n127.0.1.1\tweb-1\n"),
	      "hosts without the line nor a final newline: appended");
	ok(content_is("etc/hostname", "web-1\n"), "short-only name: etc/hostname");

	/* Only the first 127.0.1.1 line is replaced, and its CRLF ending is kept. */
	put("etc/hosts", "127.0.1.1 a\r\n127.0.1.1 b\n");
	r = apply("web-1", HOSTNAME_EVERY_BOOT, true, false, NULL);
	ok(r == 1 && content_is("etc/hosts", "127.0.1.1\tweb-1\r\n127.0.1.1 b\n"),
	      "two 127.0.1.1 lines: the first replaced, its CRLF kept");

	/* Missing /etc/hosts and /etc/hostname are created. */
	unlink(p("etc/hosts"));
	unlink(p("etc/hostname"));
	r = apply("db-2.internal", HOSTNAME_EVERY_BOOT, true, false, NULL);
	ok(r == 1 && content_is("etc/hosts", "127.0.1.1\tdb-2.internal db-2\n") &&
		      content_is("etc/hostname", "db-2\n"),
	      "missing files created");

	/* A symlinked /etc/hostname is refused and its target left alone. */
	put("target", "precious\n");
	unlink(p("etc/hostname"));
	ok(symlink("../target", p("etc/hostname")) == 0, "symlink etc/hostname");
	stat(p("etc/hosts"), &b1);
	r = apply("other", HOSTNAME_EVERY_BOOT, true, false, &m);
	ok(r == -ELOOP && m && strstr(m, "symlink"), "symlinked etc/hostname refused (%d: %s)",
	      r, m ?: "");
	free(TAKE_PTR(m));
	stat(p("etc/hosts"), &b2);
	ok(content_is("target", "precious\n") && same_file(&b1, &b2),
	      "symlink target and etc/hosts untouched");
	{
		struct stat st;
		ok(lstat(p("etc/hostname"), &st) == 0 && S_ISLNK(st.st_mode),
		      "etc/hostname is still the symlink");
	}
}

int main(void)
{
	log_set_max_level(LOG_DEBUG);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}

	test_validation();
	test_apply();

	rm_rf(NULL, tmpdir);
	return tap_done();
}
