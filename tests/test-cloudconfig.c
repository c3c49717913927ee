/* SPDX-License-Identifier: MIT */
/* Unit tests for cloudconfig.c (libyaml, no mock), cc-mime.c, cc-gzip.c and the decoding in
 * cc-apply.c: every supported key's shape, YAML 1.1 scalars, errors with line and column, wrong
 * shapes kept out, unknown keys listed, merging of parts, alias expansion capped, MIME parts in
 * order with base64, gzip with a cap. Fixtures: tests/fixtures/cloud-config/. */
#include "cloudconfig/cc-apply.h"
#include "cloudconfig/cc-gzip.h"
#include "cloudconfig/cc-mime.h"
#include "cloudconfig/cloudconfig.h"
#include "base/config.h"
#include "tap.h"
#include "base/util.h"

static char *fixture(const char *name, size_t *len)
{
	_cleanup_free_ char *path = NULL;
	const char *top = getenv("top_srcdir");
	char *buf = NULL;

	if (asprintf(&path, "%s/tests/fixtures/cloud-config/%s", top ? top : ".", name) < 0 ||
	    read_file(NULL, path, 1 << 20, &buf, len) < 0) {
		fprintf(stderr, "cannot read fixture %s\n", name);
		exit(1);
	}
	return buf;
}

static int parse(const char *text, struct cloud_config **cc, struct cc_error *e)
{
	return cloud_config_parse(text, strlen(text), cc, e);
}

static void test_all_keys(void)
{
	_cleanup_(cloud_config_freep) struct cloud_config *cc = NULL;
	_cleanup_free_ char *t = NULL;
	struct cc_error e;
	size_t len;
	int r;

	t = fixture("all-keys.yaml", &len);
	r = cloud_config_parse(t, len, &cc, &e);
	if (!ok(r == 0 && cc, "all-keys: parses (r=%d, line %u: %s)", r, e.line, e.problem))
		return;
	ok(cc->has[CC_HOSTNAME] && streq(cc->hostname, "web-01"), "hostname");
	ok(cc->has[CC_FQDN] && streq(cc->fqdn, "web-01.example.com"), "fqdn");
	ok(cc->has[CC_PRESERVE_HOSTNAME] && !cc->preserve_hostname, "preserve_hostname: no");
	ok(strv_length(cc->ssh_authorized_keys) == 1, "ssh_authorized_keys: 1");
	ok(cc->n_users == 4, "users: default, deploy, alice, bob (%zu)", cc->n_users);
	if (cc->n_users == 4) {
		const struct cc_user *u = &cc->users[1];
		ok(cc->users[0].is_default, "users[0] is default");
		ok(streq(u->name, "deploy") && streq(u->gecos, "Deploy User") &&
			   streq(u->shell, "/bin/sh") && u->lock_passwd,
		   "users[1]: name, gecos, shell, lock_passwd");
		ok(strv_length(u->groups) == 2 && streq(u->groups[1], "adm"),
		   "users[1]: groups as a comma-separated string");
		ok(strv_length(u->sudo) == 1 && streq(u->sudo[0], "ALL=(ALL) NOPASSWD:ALL"),
		   "users[1]: sudo as one string");
		ok(strv_length(u->ssh_authorized_keys) == 1, "users[1]: keys");
		ok(streq(cc->users[2].name, "alice") && streq(cc->users[3].name, "bob") &&
			   cc->users[3].lock_passwd,
		   "users: 'alice, bob' is two users, locked by default");
	}
	ok(cc->n_files == 4, "write_files: 4");
	if (cc->n_files == 4) {
		ok(streq(cc->files[0].content, "line one\nline two\n") && cc->files[0].mode == 0644,
		   "write_files[0]: block scalar, default 0644");
		ok(cc->files[1].encoding == CC_ENC_B64 && cc->files[1].mode == 0600 &&
			   cc->files[1].defer && streq(cc->files[1].owner, "deploy:deploy"),
		   "write_files[1]: b64, '0600', defer, owner");
		ok(cc->files[2].mode == 0640, "write_files[2]: plain 0640 is octal (%o)",
		   (unsigned)cc->files[2].mode);
		ok(cc->files[3].append, "write_files[3]: append: yes");
	}
	ok(cc->n_bootcmd == 1 && cc->bootcmd[0].shell, "bootcmd: one string");
	ok(cc->n_runcmd == 2 && cc->runcmd[0].shell && strv_length(cc->runcmd[1].argv) == 3,
	   "runcmd: a string and a list");
	ok(strv_length(cc->packages) == 2 && streq(cc->packages[1], "nginx=1.22.1-9"),
	   "packages: [name, version] is name=version");
	ok(cc->package_update && cc->has[CC_PACKAGE_UPGRADE] && !cc->package_upgrade,
	   "package_update, package_upgrade");
	ok(cc->n_mounts == 2 && cc->mounts[1].n_fields == 2 && streq(cc->mounts[0].field[3],
								 "defaults,nofail"),
	   "mounts: 6 fields and 2 fields");
	ok(cc->has[CC_DISK_SETUP] && cc->has[CC_FS_SETUP], "disk_setup and fs_setup recognised");
	ok(strv_length(cc->unknown) == 2 && streq(cc->unknown[0], "apt") &&
		   streq(cc->unknown[1], "timezone"),
	   "unknown keys listed in order");
	ok(!cc->problems, "no problems");
	ok(cloud_config_n_keys(cc) == 14, "14 known keys (%zu)", cloud_config_n_keys(cc));
}

static void test_errors(void)
{
	_cleanup_(cloud_config_freep) struct cloud_config *cc = NULL;
	_cleanup_free_ char *t = NULL, *t2 = NULL, *t3 = NULL;
	struct cc_error e;
	size_t len;
	int r;

	t = fixture("bad-yaml.yaml", &len);
	r = cloud_config_parse(t, len, &cc, &e);
	ok(r == -EBADMSG && !cc && e.line == 5 && e.column == 2 && *e.problem,
	   "bad YAML: -EBADMSG at line %u, column %u: %s", e.line, e.column, e.problem);
	ok(!strstr(e.problem, "misindented"), "bad YAML: the error does not quote the document");

	t2 = fixture("not-a-mapping.yaml", &len);
	r = cloud_config_parse(t2, len, &cc, &e);
	ok(r == -EBADMSG && e.line == 2 && strstr(e.problem, "list"),
	   "top level a list: error at line %u (%s)", e.line, e.problem);

	r = parse("#cloud-config\nhostname: \"a\tb\"\nx: 'unterminated\n", &cc, &e);
	ok(r == -EBADMSG && e.line >= 3, "unterminated quote: line %u: %s", e.line, e.problem);

	t3 = fixture("bad-shapes.yaml", &len);
	r = cloud_config_parse(t3, len, &cc, &e);
	if (ok(r == 0 && cc, "wrong shapes still parse")) {
		ok(cc->invalid[CC_HOSTNAME] && !cc->has[CC_HOSTNAME], "hostname list: invalid");
		ok(cc->invalid[CC_RUNCMD] && !cc->has[CC_RUNCMD], "runcmd string: invalid");
		ok(cc->invalid[CC_WRITE_FILES], "write_files without path: invalid");
		ok(cc->has[CC_PACKAGES], "packages still fine");
		ok(strv_length(cc->problems) == 3 && strstr(cc->problems[1], "'runcmd' at line 3"),
		   "problems name the key, line and column (%s)",
		   cc->problems ? cc->problems[1] : "none");
	}
	cloud_config_free(cc);
	cc = NULL;

	r = parse("#cloud-config\n", &cc, &e);
	ok(r == 0 && cc && cloud_config_n_keys(cc) == 0, "empty document: nothing to do");
	cloud_config_free(cc);
	cc = NULL;

	/* yes/no are booleans only when plain */
	r = parse("preserve_hostname: 'yes'\n", &cc, &e);
	ok(r == 0 && cc->invalid[CC_PRESERVE_HOSTNAME], "quoted 'yes' is a string, not a bool");
	cloud_config_free(cc);
	cc = NULL;
	r = parse("preserve_hostname: On\n", &cc, &e);
	ok(r == 0 && cc->preserve_hostname, "On is true");
	cloud_config_free(cc);
	cc = NULL;

	/* aliases cannot blow the copy up */
	{
		_cleanup_free_ char *bomb = NULL;
		FILE *f;
		size_t blen;

		f = open_memstream(&bomb, &blen);
		fputs("a: &a [", f);
		for (int i = 0; i < 4000; i++)
			fputs("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,", f);
		fputs("x]\nruncmd: [", f);
		for (int i = 0; i < 4000; i++)
			fputs("*a,", f);
		fputs("*a]\n", f);
		fclose(f);
		r = cloud_config_parse(bomb, blen, &cc, &e);
		ok(r == -E2BIG && !cc, "alias bomb: -E2BIG (%d: %s)", r, e.problem);
	}
}

static void test_merge(void)
{
	_cleanup_(cloud_config_freep) struct cloud_config *a = NULL, *b = NULL;
	struct cc_error e;

	if (parse("hostname: one\nruncmd: [x]\nfoo: 1\n", &a, &e) < 0 ||
	    parse("hostname: two\nbar: 2\nfoo: 3\n", &b, &e) < 0) {
		ok(false, "merge: parse");
		return;
	}
	ok(cloud_config_merge(a, b) == 0, "merge");
	ok(streq(a->hostname, "two") && a->n_runcmd == 1, "merge: later key replaces, others stay");
	ok(strv_length(a->unknown) == 2, "merge: unknown keys without duplicates");
}

static void test_mime_gzip(void)
{
	static const unsigned char gz[] = {
		0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x53, 0x4e, 0xce, 0xc9,
		0x2f, 0x4d, 0xd1, 0x4d, 0xce, 0xcf, 0x4b, 0xcb, 0x4c, 0xe7, 0xca, 0xc8, 0x2f, 0x2e,
		0xc9, 0x4b, 0xcc, 0x4d, 0xb5, 0x52, 0x48, 0xaf, 0xe2, 0x02, 0x00, 0x69, 0xd1, 0x87,
		0x05, 0x1b, 0x00, 0x00, 0x00,
	};
	_cleanup_free_ char *out = NULL, *t = NULL, *b = NULL;
	struct mime_part *parts = NULL;
	struct cc_doc d;
	struct config cfg;
	size_t n = 0, len;
	int r;

	ok(gzip_is(gz, sizeof(gz)), "gzip magic");
	r = gunzip_capped(gz, sizeof(gz), 1024, NULL, &out, &len);
	ok(r == 0 && len == 27 && streq(out, "#cloud-config\nhostname: gz\n"), "gunzip");
	free(out);
	out = NULL;
	ok(gunzip_capped(gz, sizeof(gz), 10, NULL, &out, &len) == -EFBIG, "gunzip: cap");
	ok(gunzip_capped(gz, sizeof(gz) - 6, 1024, NULL, &out, &len) == -EBADMSG, "gunzip: truncated");

	r = base64_decode("aGVs\nbG8K", 9, &b, &len);
	ok(r == 0 && len == 6 && streq(b, "hello\n"), "base64 with a line break");
	free(b);
	b = NULL;
	ok(base64_decode("a$==", 4, &b, &len) == -EBADMSG, "base64: bad character");

	t = fixture("multipart.txt", &len);
	r = mime_split(t, len, &parts, &n);
	ok(r == 0 && n == 4, "MIME: 4 parts (r=%d n=%zu)", r, n);
	if (n == 4) {
		ok(streq(parts[0].type, "text/cloud-config") && parts[0].decoded &&
			   parts[0].body[parts[0].len - 1] == '1',
		   "part 1: cloud-config, the line break before the delimiter dropped");
		ok(streq(parts[1].type, "text/x-shellscript") && parts[1].decoded &&
			   startswith(parts[1].body, "#!/bin/sh\n"),
		   "part 2: base64 undone");
		ok(streq(parts[3].type, "text/x-include-url"), "part 4: include-url");
	}
	mime_parts_free(parts, n);
	ok(mime_split("Content-Type: text/plain\n\nhi\n", 27, &parts, &n) == -EBADMSG,
	   "MIME: not multipart");

	config_init(&cfg);
	r = cc_doc_decode(&cfg, t, len, &d);
	ok(r == 0 && d.kind == USERDATA_MIME && !d.error && d.cc, "decode MIME");
	if (d.cc) {
		ok(streq(d.cc->hostname, "second") && d.cc->n_runcmd == 1,
		   "decode MIME: cloud-config parts merged in order");
		ok(d.n_scripts == 1 && d.scripts[0].index == 2, "decode MIME: one script, part 2");
		ok(strv_length(d.ignored_parts) == 1 && strstr(d.ignored_parts[0], "include-url"),
		   "decode MIME: include-url ignored");
		ok(strv_length(d.cc->unknown) == 1, "decode MIME: unknown key of part 3");
	}
	cc_doc_done(&d);

	r = cc_doc_decode(&cfg, (const char *)gz, sizeof(gz), &d);
	ok(r == 0 && d.gzip && d.kind == USERDATA_CLOUD_CONFIG && d.cc &&
		   streq(d.cc->hostname, "gz"),
	   "decode gzip cloud-config");
	cc_doc_done(&d);

	r = cc_doc_decode(&cfg, "#cloud-config\nruncmd: [\n", 24, &d);
	ok(r == 0 && d.error == -EBADMSG && strstr(d.error_message, "line 3"),
	   "decode: bad YAML is an error with its line (%s)", d.error_message);
	cc_doc_done(&d);
	config_done(&cfg);
}

static void test_gzip_limits(void)
{
	/* "#cloud-config\nhostname: gz\n" (27 bytes), then an empty member (gzip </dev/null) */
	static const unsigned char two[] = {
	    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x53, 0x4e, 0xce, 0xc9,
	    0x2f, 0x4d, 0xd1, 0x4d, 0xce, 0xcf, 0x4b, 0xcb, 0x4c, 0xe7, 0xca, 0xc8, 0x2f, 0x2e,
	    0xc9, 0x4b, 0xcc, 0x4d, 0xb5, 0x52, 0x48, 0xaf, 0xe2, 0x02, 0x00, 0x69, 0xd1, 0x87,
	    0x05, 0x1b, 0x00, 0x00, 0x00, 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	    0x03, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	/* 8192 bytes of cloud-config comment, gzipped, in base64 */
	static const char big[] =
	    "H4sIAAAAAAACA+3BsQkAIAwAsL1vOHuVoghiJ//3DiFJaTtvry3PWDMKAAAAAAAAAPCfeGMEbvQAIAAA";
	_cleanup_free_ char *mime = NULL;
	char *out = NULL;
	size_t len, budget, mlen;
	struct cc_doc d;
	struct config cfg;
	FILE *f;
	int r;

	/* issue 18 item 14 */
	r = gunzip_capped(two, sizeof(two), 27, NULL, &out, &len);
	ok(r == 0 && len == 27 && out && out[27] == 0,
	   "gunzip: exactly the cap, then an empty member: fine (%d)", r);
	free(out);
	out = NULL;
	ok(gunzip_capped(two, sizeof(two), 26, NULL, &out, &len) == -EFBIG,
	   "gunzip: cap - 1: -EFBIG");
	ok(gunzip_capped(two, 47, 27, NULL, &out, &len) == 0 && len == 27, "gunzip: one member");
	free(out);
	out = NULL;
	ok(gunzip_capped(two, 47, 0, NULL, &out, &len) == -EFBIG, "gunzip: cap 0");
	ok(gunzip_capped(two + 47, 20, 0, NULL, &out, &len) == 0 && len == 0 && out[0] == 0,
	   "gunzip: an empty member with cap 0");
	free(out);
	out = NULL;
	ok(gunzip_capped(two, sizeof(two) - 3, 27, NULL, &out, &len) == -EBADMSG,
	   "gunzip: a truncated second member");

	/* a budget shared by several calls */
	budget = 30;
	r = gunzip_capped(two, sizeof(two), 1024, &budget, &out, &len);
	ok(r == 0 && budget == 3, "gunzip: the budget is charged (%zu left)", budget);
	free(out);
	out = NULL;
	ok(gunzip_capped(two, sizeof(two), 1024, &budget, &out, &len) == -EDQUOT && budget == 3,
	   "gunzip: beyond the budget: -EDQUOT, budget unchanged");
	budget = 27;
	ok(gunzip_capped(two, sizeof(two), 1024, &budget, &out, &len) == 0 && budget == 0,
	   "gunzip: exactly the budget");
	free(out);
	out = NULL;

	/* issue 18 item 5: all gzip parts of a user data share max-userdata-size */
	f = open_memstream(&mime, &mlen);
	fputs("Content-Type: multipart/mixed; boundary=\"B\"\n\n", f);
	for (int i = 0; i < 3; i++)
		fprintf(f,
			"--B\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n%s\n",
			big);
	fputs("--B--\n", f);
	fclose(f);
	config_init(&cfg);
	cfg.max_userdata_size = 20000;
	r = cc_doc_decode(&cfg, mime, mlen, &d);
	ok(r == 0 && d.error == -EDQUOT && strstr(d.error_message, "part 3") &&
	       strstr(d.error_message, "together"),
	   "3 gzip parts of 8 KiB, max-userdata-size 20000: part 3 refused (%s)", d.error_message);
	cc_doc_done(&d);
	cfg.max_userdata_size = 30000;
	r = cc_doc_decode(&cfg, mime, mlen, &d);
	ok(r == 0 && d.error == 0 && d.cc, "the same with 30000: fine (%s)",
	   d.error_message ? d.error_message : "");
	cc_doc_done(&d);
	config_done(&cfg);
}

int main(void)
{
	test_all_keys();
	test_errors();
	test_merge();
	test_mime_gzip();
	test_gzip_limits();
	return tap_done();
}
