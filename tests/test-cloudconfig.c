/* SPDX-License-Identifier: MIT */
/* Unit tests for cloudconfig.c (libyaml, no mock), cc-node.c, cc-mime.c, cc-gzip.c and the
 * decoding in cc-apply.c: every supported key's shape, YAML 1.1 scalars, errors with line and
 * column, wrong shapes kept out, unknown keys listed, merging of parts, alias expansion capped,
 * MIME parts in order with base64, gzip with a cap; the tree (merge keys, duplicate keys, tags,
 * a second document); the limits of issue 18 as counted work (budget units used), never as
 * time: deep nesting, aliases of unsupported sub-keys, many keys, long lists, many parts,
 * gzip budgets. Fixtures: tests/fixtures/cloud-config/. */
#include "cloudconfig/cc-apply.h"
#include "cloudconfig/cc-gzip.h"
#include "cloudconfig/cc-mime.h"
#include "cloudconfig/cc-modules.h"
#include "cloudconfig/cloudconfig.h"
#include "base/config.h"
#include "tap.h"
#include "base/util.h"

#define WORK_MAX ((size_t)CC_WORK_PER_NODE * CC_MAX_NODES)

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
	ok(strv_length(cc->unknown) == 2 && streq(cc->unknown[0], "snap") &&
		   streq(cc->unknown[1], "byobu_by_default"),
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
		ok(cc->has[CC_WRITE_FILES] && cc->partial[CC_WRITE_FILES] && cc->n_files == 0 &&
			   strstr(cc->why[CC_WRITE_FILES], "entry 0 has no path: skipped"),
		   "write_files: an entry without a path is skipped, the key partial");
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

/* Two cloud-config parts in one MIME archive, the second with HEADER (a Merge-Type line or ""). */
static int decode_two(const char *one, const char *two, const char *header, struct cc_doc *d)
{
	_cleanup_free_ char *t = NULL;
	struct config cfg;
	size_t len;
	FILE *f = open_memstream(&t, &len);
	int r;

	fprintf(f, "Content-Type: multipart/mixed; boundary=\"B\"\nMIME-Version: 1.0\n\n"
		   "--B\nContent-Type: text/cloud-config\n\n%s\n--B\nContent-Type: "
		   "text/cloud-config\n%s%s\n%s\n--B--\n", one, header, *header ? "\n" : "", two);
	fclose(f);
	config_init(&cfg);
	r = cc_doc_decode(&cfg, t, len, d);
	config_done(&cfg);
	return r;
}

static void test_merge(void)
{
	struct cc_error e;
	static const char one[] = "#cloud-config\nhostname: one\nruncmd: [x]\nfoo: 1\n"
				  "users: [{name: a, groups: [g1]}]\n";
	static const char two[] = "#cloud-config\nhostname: two\nbar: 2\nfoo: 3\nruncmd: [y, z]\n";
	struct cc_doc d;
	int r;

	/* cloud-init's default for parts: dict(replace)+list()+str() */
	r = decode_two(one, two, "", &d);
	if (ok(r == 0 && d.cc, "merge: default")) {
		ok(streq(d.cc->hostname, "two") && d.cc->n_runcmd == 2 && d.cc->n_users == 1,
		   "merge: a later key replaces, the others stay");
		ok(strv_length(d.cc->unknown) == 2 && d.cc->n_top == 5 && !d.merge_how,
		   "merge: unknown keys once, the top-level keys in order");
	}
	cc_doc_done(&d);

	/* the common choice: lists appended, scalars of the first part kept (no_replace) */
	r = decode_two(one, "#cloud-config\nmerge_how: 'list(append)+dict(recurse_array)+str()'\n"
			    "hostname: two\nruncmd: [y]\nusers: [b]\n", "", &d);
	if (ok(r == 0 && d.cc, "merge_how: list(append)+dict(recurse_array)+str()")) {
		ok(d.cc->n_runcmd == 2 && streq(d.cc->runcmd[1].shell, "y") && d.cc->n_users == 2,
		   "merge_how: lists appended");
		ok(streq(d.cc->hostname, "one"), "merge_how: dict no_replace keeps the first hostname");
		ok(d.merge_how && streq(d.merge_how, "dict(no_replace,recurse_array)+list(append)+"
						     "str()"), "merge_how: named (%s)", d.merge_how);
		ok(!cc_map_get(NULL, "merge_how") && d.cc->n_top == 4,
		   "merge_how is not a key of the merged config");
	}
	cc_doc_done(&d);

	/* the same from the part's Merge-Type header, and merge_how's list form */
	r = decode_two(one, two, "Merge-Type: list(append)+dict(no_replace,recurse_list)+str()", &d);
	ok(r == 0 && d.cc && d.cc->n_runcmd == 3 && streq(d.cc->hostname, "one"),
	   "Merge-Type header: lists appended, the first hostname kept");
	cc_doc_done(&d);
	r = decode_two(one, two, "X-Merge-Type: list(append)+dict(replace,recurse_list)", &d);
	ok(r == 0 && d.cc && d.cc->n_runcmd == 2 && streq(d.cc->hostname, "two"),
	   "X-Merge-Type: dict(replace) replaces lists too, as in cloud-init");
	cc_doc_done(&d);
	r = decode_two(one, "#cloud-config\nmerge_how:\n  - name: list\n    settings: [prepend]\n"
			    "  - [dict, recurse_list]\nruncmd: [y]\n", "", &d);
	ok(r == 0 && d.cc && d.cc->n_runcmd == 2 && streq(d.cc->runcmd[0].shell, "y"),
	   "merge_how list form: prepend");
	cc_doc_done(&d);

	/* dict(allow_delete): a null removes the key */
	r = decode_two(one, "#cloud-config\nmerge_how: dict(allow_delete)+list()\nfoo: null\n", "",
		       &d);
	ok(r == 0 && d.cc && d.cc->n_unknown == 0 && d.cc->has[CC_HOSTNAME],
	   "dict(allow_delete): foo removed");
	cc_doc_done(&d);

	/* no dict() merger: as cloud-init's lookup, the part adds nothing */
	r = decode_two(one, "#cloud-config\nmerge_how: list(append)\nhostname: two\nbar: 1\n", "",
		       &d);
	ok(r == 0 && d.cc && streq(d.cc->hostname, "one") && d.cc->n_unknown == 1,
	   "merge_how without dict(): the part adds nothing");
	cc_doc_done(&d);

	/* a merge_how cloud-init refuses: the part is left out, the status says so */
	r = decode_two(one, "#cloud-config\nmerge_how: 'list(append'\nhostname: two\n", "", &d);
	ok(r == 0 && d.cc && streq(d.cc->hostname, "one") && d.merge_error && !d.error,
	   "bad merge_how: the part is left out (%s)", d.merge_error);
	cc_doc_done(&d);
	r = decode_two(one, "#cloud-config\nmerge_how: 'set(x)'\nhostname: two\n", "", &d);
	ok(r == 0 && d.merge_error && strstr(d.merge_error, "no merger named 'set'"),
	   "unknown merger: named");
	cc_doc_done(&d);

	/* A key that is not a scalar (YAML's "? {a: b}") is never found in the old mapping: the
	 * pair is added, and cc_node_merge still returns 0, not cc_map_put's 1 (fuzz-cloudconfig
	 * found it). */
	{
		static const char complex[] = "#cloud-config\nssh_keys:\n? {a: b}\n";
		struct cc_node *t1 = NULL, *t2 = NULL;
		struct cc_merge m = {};
		struct cc_budget b;
		char why[160];

		cc_budget_init(&b, sizeof(complex));
		r = cloud_config_load(complex, strlen(complex), &b, &t1, NULL, &e);
		if (r == 0)
			r = cloud_config_load(complex, strlen(complex), &b, &t2, NULL, &e);
		if (ok(r == 0 && t1 && t2, "complex key: parsed twice") &&
		    ok(cc_merge_add(&m, "list(append)+dict(no_replace,recurse_list)+str()", why,
				    sizeof(why)) == 0, "complex key: merger")) {
			r = cc_node_merge(&b, &t1, TAKE_PTR(t2), &m);
			ok(r == 0, "complex key: the merge returns 0 (got %d)", r);
			ok(t1 && t1->map.n == 3 && t1->map.pairs[2].key->type == CC_NODE_MAPPING,
			   "complex key: the new pair is added beside the old two (%zu pairs)",
			   t1 ? t1->map.n : 0);
		}
		cc_node_free(t1);
		cc_node_free(t2);
	}
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
	ok(gunzip_capped(gz, sizeof(gz) - 6, 1024, NULL, &out, &len) == -EBADMSG,
	   "gunzip: truncated");

	{
		/* Python's base64.b64decode (checked against python3) */
		static const struct {
			const char *in, *out; /* out NULL: an error */
			unsigned flags;
		} cases[] = {
			{ "aGVs\nbG8K", "hello\n" },   { "aGVsbG8K====", "hello\n" },
			{ "aGk=junk", "hi" },	       { "a-G_k=", "hi" },
			{ "=aGk=", "hi" },	       { "aG=k=", "hi" },
			{ "aGk", NULL },	       { "aGk", "hi", BASE64_PAD_OK },
			{ "a$==", NULL },	       { "aGk=\xc3\xa9", "hi" },
			{ "\xc3\xa9" "aGk=", NULL, BASE64_ASCII },
		};
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			r = base64_decode(cases[i].in, strlen(cases[i].in), cases[i].flags, &b, &len);
			ok(cases[i].out ? r == 0 && len == strlen(cases[i].out) &&
						  streq(b, cases[i].out) :
					  r == -EBADMSG,
			   "base64 as Python's b64decode: case %zu (r=%d)", i, r);
			free(b);
			b = NULL;
		}
	}

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
	r = mime_split("Content-Type: text/plain\n\nhi\n", 29, &parts, &n);
	ok(r == 0 && n == 1 && streq(parts[0].type, "text/plain") && parts[0].len == 3,
	   "MIME: a message that is not multipart is its only part");
	mime_parts_free(parts, n);
	{
		static const char qp[] = "Content-Type: text/cloud-config\n"
					 "Content-Transfer-Encoding: quoted-printable\n\n"
					 "#cloud-config\nhostname: q=\np=3Dx\nruncmd: [\"a=20b\"]\n";
		r = mime_split(qp, strlen(qp), &parts, &n);
		ok(r == 0 && n == 1 && parts[0].decoded &&
		       streq(parts[0].body, "#cloud-config\nhostname: qp=x\nruncmd: [\"a b\"]\n"),
		   "MIME: quoted-printable undone as Python's a2b_qp");
		mime_parts_free(parts, n);
	}

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

/* TEXT (LEN bytes) parsed with a fresh budget; *WORK: the units of work it used. */
static int parse_counted(const char *text, size_t len, struct cloud_config **cc, struct cc_error *e,
			 size_t *work)
{
	struct cc_budget b;
	int r;

	cc_budget_init(&b, len);
	r = cloud_config_parse_budget(text, len, &b, cc, e);
	*work = WORK_MAX - b.work;
	return r;
}

/* A memstream document: COUNT times PIECE between HEAD and TAIL. */
static char *repeat(const char *head, const char *piece, size_t count, const char *tail,
		    size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		exit(1);
	fputs(head, f);
	for (size_t i = 0; i < count; i++)
		fputs(piece, f);
	fputs(tail, f);
	fclose(f);
	return buf;
}

static void test_depth(void)
{
	struct cloud_config *cc = NULL;
	struct cc_error e;
	size_t len, work;
	char *t;
	int r;

	/* issue 18 item 3: 75 s and 129 s with libyaml's document loader */
	t = repeat("#cloud-config\nx: ", "[", 100000, "", &len);
	memset(t + len, 0, 0);
	{
		char *u = repeat(t, "]", 100000, "\n", &len);
		free(t);
		t = u;
	}
	r = parse_counted(t, len, &cc, &e, &work);
	ok(r == -E2BIG && !cc && strstr(e.problem, "nesting deeper than 64 levels") && e.line == 2,
	   "'[' x 1e5: -E2BIG at line %u: %s", e.line, e.problem);
	ok(work < 200, "'[' x 1e5: abandoned after %zu units of work", work);
	free(t);

	t = repeat("#cloud-config\nx: ", "{a: ", 100000, "\n", &len);
	r = parse_counted(t, len, &cc, &e, &work);
	ok(r == -E2BIG && strstr(e.problem, "nesting deeper than 64"), "'{a: ' x 1e5: -E2BIG (%s)",
	   e.problem);
	ok(work < 300, "'{a: ' x 1e5: abandoned after %zu units of work", work);
	free(t);

	/* the root mapping and 63 lists: 64 levels are fine, 65 are not */
	{
		char *a = repeat("x: ", "[", 63, "", &len), *b = repeat(a, "]", 63, "\n", &len);
		r = parse(b, &cc, &e);
		ok(r == 0 && cc, "64 levels of nesting are fine (%d: %s)", r, e.problem);
		cloud_config_free(cc);
		cc = NULL;
		free(a);
		free(b);
		a = repeat("x: ", "[", 64, "", &len);
		b = repeat(a, "]", 64, "\n", &len);
		r = parse(b, &cc, &e);
		ok(r == -E2BIG, "65 levels are refused (%d: %s)", r, e.problem);
		free(a);
		free(b);
	}

	/* an alias does not get around the limit */
	{
		char *a = repeat("a: &a ", "[", 40, "", &len),
		     *b = repeat(a, "]", 40, "\nb: ", &len);
		char *c = repeat(b, "[", 40, "*a", &len), *d = repeat(c, "]", 40, "\n", &len);
		r = parse(d, &cc, &e);
		ok(r == -E2BIG && strstr(e.problem, "through an alias"),
		   "nesting through an alias: -E2BIG (%s)", e.problem);
		free(a);
		free(b);
		free(c);
		free(d);
	}
}

static void test_aliases(void)
{
	_cleanup_free_ char *map = NULL, *t = NULL, *t2 = NULL, *t3 = NULL;
	struct cloud_config *cc = NULL;
	struct cc_error e;
	size_t len, work, repeated = 0;
	char piece[32];
	FILE *f;
	int r;

	/* issue 18 item 1: 800 aliases of a user with 800 unsupported sub-keys: 640 004 warning
	 * lines and 131 s. Every copy is charged: the parse stops at the values budget. */
	f = open_memstream(&t, &len);
	fputs("#cloud-config\nx: &a {name: u", f);
	for (int i = 0; i < 800; i++)
		fprintf(f, ", k%d: 0", i);
	fputs("}\nusers: [*a", f);
	for (int i = 1; i < 800; i++)
		fputs(", *a", f);
	fputs("]\n", f);
	fclose(f);
	r = parse_counted(t, len, &cc, &e, &work);
	ok(r == -E2BIG && !cc && strstr(e.problem, "more than 131072 values"),
	   "800 aliases x 800 sub-keys: -E2BIG (%s)", e.problem);
	ok(work <= WORK_MAX, "800 x 800: %zu units of work, at most %zu", work, WORK_MAX);

	/* 40 x 40 fits: one problem line per sub-key, with its count */
	f = open_memstream(&t2, &len);
	fputs("#cloud-config\nx: &a {name: u", f);
	for (int i = 0; i < 40; i++)
		fprintf(f, ", k%d: 0", i);
	fputs("}\nusers: [*a", f);
	for (int i = 1; i < 40; i++)
		fputs(", *a", f);
	fputs("]\n", f);
	fclose(f);
	r = parse_counted(t2, len, &cc, &e, &work);
	if (ok(r == 0 && cc, "40 aliases x 40 sub-keys: parses (%d: %s)", r, e.problem)) {
		for (size_t i = 0; i < cc->n_problems; i++)
			repeated += strstr(cc->problems[i], "(40 times, the first here)") != NULL;
		/* entries of one name are merged into one, as cloud-init's ug_util does */
		ok(cc->n_users == 1 && cc->has[CC_USERS] && cc->partial[CC_USERS],
		   "40 x 40: one user 'u' (40 entries merged), 'users' partial");
		ok(cc->n_problems == 40 && repeated == 40 &&
		       strv_length(cc->problems) == cc->n_problems,
		   "40 x 40: 40 problem lines, each counted 40 times (%zu lines: %s)",
		   cc->n_problems, cc->problems ? cc->problems[0] : "none");
		ok(work < 20000, "40 x 40: %zu units of work", work);
	}
	cloud_config_free(cc);
	cc = NULL;

	/* 100 different sub-keys: CC_MAX_PROBLEMS lines and one that counts the rest */
	f = open_memstream(&t3, &len);
	fputs("users:\n  - name: u\n", f);
	for (int i = 0; i < 100; i++) {
		snprintf(piece, sizeof(piece), "    k%d: 0\n", i);
		fputs(piece, f);
	}
	fclose(f);
	r = parse(t3, &cc, &e);
	if (ok(r == 0 && cc, "100 unsupported sub-keys: parses")) {
		ok(cc->n_problems == CC_MAX_PROBLEMS + 1 && cc->problems_dropped == 36 &&
		       strstr(cc->problems[CC_MAX_PROBLEMS], "36 more problems not shown"),
		   "100 sub-keys: %u lines and a count of the other 36 (%s)", CC_MAX_PROBLEMS,
		   cc->problems ? cc->problems[cc->n_problems - 1] : "none");
	}
	cloud_config_free(cc);
	cc = NULL;

	r = parse("a: *nope\n", &cc, &e);
	ok(r == -EBADMSG && strstr(e.problem, "undefined alias") && e.line == 1,
	   "undefined alias: -EBADMSG at line %u (%s)", e.line, e.problem);
	r = parse("a: &a [1, *a]\n", &cc, &e);
	ok(r == -EBADMSG && strstr(e.problem, "cycle"),
	   "an alias inside its own node: -EBADMSG (%s)", e.problem);
	r = parse("a: &a [x]\nb: &a [y]\nruncmd: *a\n", &cc, &e);
	ok(r == 0 && cc->n_runcmd == 1 && streq(cc->runcmd[0].shell, "y"),
	   "a redefined anchor: the latest wins");
	cloud_config_free(cc);
	cc = NULL;
	(void)map;
}

static void test_counts(void)
{
	struct cloud_config *cc = NULL;
	struct cc_error e;
	size_t len, work;
	char *t;
	int r;

	/* issue 18 item 2: 200 k unique top-level keys took 121 s */
	{
		FILE *f = open_memstream(&t, &len);
		fputs("#cloud-config\n", f);
		for (int i = 0; i < 200000; i++)
			fprintf(f, "k%06d: 1\n", i);
		fclose(f);
	}
	r = parse_counted(t, len, &cc, &e, &work);
	ok(r == -E2BIG && strstr(e.problem, "more than 1024 top-level keys"),
	   "200 k top-level keys: -E2BIG (%s)", e.problem);
	ok(work < 4 * 1100, "200 k keys: abandoned after %zu units of work", work);
	free(t);

	t = repeat("#cloud-config\n", "k: 1\n", 50000, "", &len);
	r = parse_counted(t, len, &cc, &e, &work);
	ok(r == 0 && cc && cc->n_unknown == 1, "50 k times the same key: one key");
	cloud_config_free(cc);
	cc = NULL;
	free(t);

	/* a 15 MiB flow list took 305 s and 905 MiB */
	t = repeat("#cloud-config\npackages: [", "a,", 7 << 20, "a]\n", &len);
	r = parse_counted(t, len, &cc, &e, &work);
	ok(r == -E2BIG && strstr(e.problem, "more than 131072 values"),
	   "15 MiB flow list: -E2BIG (%s)", e.problem);
	ok(work <= WORK_MAX, "15 MiB flow list: %zu units of work", work);
	free(t);

	t = repeat("packages: [", "a,", CC_MAX_ENTRIES, "a]\n", &len);
	r = parse(t, &cc, &e);
	ok(r == 0 && cc->invalid[CC_PACKAGES] && cc->problems &&
	       strstr(cc->problems[0], "more than 1024 entries"),
	   "1025 packages: invalid, with the limit named (%s)",
	   cc && cc->problems ? cc->problems[0] : "none");
	cloud_config_free(cc);
	cc = NULL;
	free(t);

	t = repeat("users: u0", ", u", CC_MAX_ENTRIES, "\n", &len);
	r = parse(t, &cc, &e);
	ok(r == 0 && cc->invalid[CC_USERS] && cc->n_users == 0, "1025 users in a string: invalid");
	cloud_config_free(cc);
	cc = NULL;
	free(t);

	t = repeat("users:\n", "  - name: u\n", CC_MAX_ENTRIES + 1, "", &len);
	r = parse(t, &cc, &e);
	ok(r == 0 && cc->invalid[CC_USERS], "1025 users as mappings: invalid");
	cloud_config_free(cc);
	cc = NULL;
	free(t);

	t = repeat("write_files:\n", "  - path: /x\n", CC_MAX_ENTRIES, "", &len);
	r = parse(t, &cc, &e);
	ok(r == 0 && cc->has[CC_WRITE_FILES] && cc->n_files == CC_MAX_ENTRIES,
	   "1024 write_files: fine");
	cloud_config_free(cc);
	cc = NULL;
	free(t);
}

static void test_tree(void)
{
	_cleanup_(cc_node_freep) struct cc_node *root = NULL;
	struct cloud_config *cc = NULL;
	struct cc_budget b;
	struct cc_error e;
	bool more;
	int r;

	/* YAML 1.1 merge keys, as PyYAML applies them */
	r = parse("base: &b {name: x, shell: /bin/sh, gecos: B}\n"
		  "other: &o {gecos: O, lock_passwd: false}\n"
		  "users:\n"
		  "  - <<: *b\n"
		  "    name: y\n"
		  "  - <<: [*o, *b]\n"
		  "    name: z\n",
		  &cc, &e);
	if (ok(r == 0 && cc && cc->n_users == 2, "merge keys: parses (%d: %s)", r, e.problem)) {
		ok(streq(cc->users[0].name, "y") && streq(cc->users[0].shell, "/bin/sh") &&
		       streq(cc->users[0].gecos, "B"),
		   "<<: the merged keys, the own key wins");
		ok(streq(cc->users[1].gecos, "O") && !cc->users[1].lock_passwd &&
		       streq(cc->users[1].shell, "/bin/sh"),
		   "<<: [a, b]: the earlier mapping wins");
		ok(cc->n_problems == 0, "<<: no problem lines (%zu)", cc->n_problems);
	}
	cloud_config_free(cc);
	cc = NULL;
	r = parse("users:\n  - <<: 1\n    name: y\n", &cc, &e);
	ok(r == -EBADMSG && strstr(e.problem, "merge key"), "<<: a scalar is an error (%s)",
	   e.problem);
	r = parse("a: &m {k: 1}\nb:\n  <<: *m\n  c: 2\nc: *m\n", &cc, &e);
	ok(r == 0 && cc, "an anchored mapping merged, then aliased again");
	cloud_config_free(cc);
	cc = NULL;
	/* what a merge key reads in place must stay whole for a later alias */
	r = parse("a: {<<: &x {name: n1}, b: 2}\nusers: [*x]\n", &cc, &e);
	ok(r == 0 && cc->n_users == 1 && streq(cc->users[0].name, "n1"),
	   "<<: &x {...}: the anchored mapping is still whole for *x");
	cloud_config_free(cc);
	cc = NULL;
	r = parse("a: {<<: &s [{name: n2}, {name: n3, shell: /bin/sh}]}\nusers: *s\n", &cc, &e);
	ok(r == 0 && cc->n_users == 2 && streq(cc->users[0].name, "n2") &&
	       streq(cc->users[1].name, "n3") && streq(cc->users[1].shell, "/bin/sh"),
	   "<<: &s [...]: the anchored list is still whole for *s");
	cloud_config_free(cc);
	cc = NULL;
	r = parse("a: {<<: &s [{name: n2}]}\nusers: *s\n", &cc, &e);
	ok(r == 0 && cc->n_users == 1 && streq(cc->users[0].name, "n2"), "<<: &s [{name}]: *s");
	cloud_config_free(cc);
	cc = NULL;
	r = parse("a: &d {k: &v [x]}\nb: {<<: *d}\nc: *v\nruncmd: *v\n", &cc, &e);
	ok(r == 0 && cc->n_runcmd == 1, "an anchor inside a merged mapping: still whole");
	cloud_config_free(cc);
	cc = NULL;

	/* duplicate keys: the last value, the first place (a Python dict) */
	r = parse("hostname: a\nruncmd: [x]\nhostname: b\n", &cc, &e);
	ok(r == 0 && streq(cc->hostname, "b"), "a duplicate key: the last value wins");
	cloud_config_free(cc);
	cc = NULL;

	/* tags */
	r = parse("preserve_hostname: !!str yes\n", &cc, &e);
	ok(r == 0 && cc->invalid[CC_PRESERVE_HOSTNAME], "!!str yes is a string");
	cloud_config_free(cc);
	cc = NULL;
	r = parse("preserve_hostname: !!bool 'Yes'\n", &cc, &e);
	ok(r == 0 && cc->has[CC_PRESERVE_HOSTNAME] && cc->preserve_hostname,
	   "!!bool 'Yes' is true");
	cloud_config_free(cc);
	cc = NULL;

	/* a second document: PyYAML's safe_load refuses the whole text, so does vagent */
	r = parse("hostname: a\n---\nhostname: b\n", &cc, &e);
	ok(r == -EBADMSG && !cc && strstr(e.problem, "second YAML document"),
	   "a second document: the user data is refused (%s)", e.problem);

	/* the tree itself */
	cc_budget_init(&b, 0);
	{
		static const char doc[] = "a: 1\nb:\n  - x\n  - 'y'\n  - |\n    z\nc: {d: e}\n";
		r = cloud_config_load(doc, strlen(doc), &b, &root, &more, &e);
	}
	if (ok(r == 0 && root && root->type == CC_NODE_MAPPING && root->map.n == 3 && !more,
	       "load: a mapping of 3")) {
		const struct cc_node *l = cc_map_get(root, "b");
		ok(l && l->type == CC_NODE_SEQUENCE && l->seq.n == 3 &&
		       l->seq.items[0]->style == CC_STYLE_PLAIN &&
		       l->seq.items[1]->style == CC_STYLE_SINGLE &&
		       l->seq.items[2]->style == CC_STYLE_LITERAL &&
		       cc_scalar_is(l->seq.items[2], "z\n") && l->seq.items[1]->line == 4 &&
		       l->seq.items[1]->column == 5,
		   "load: styles, text, line and column kept");
		ok(cc_scalar_is(cc_map_get(cc_map_get(root, "c"), "d"), "e") &&
		       !cc_map_get(root, "x"),
		   "cc_map_get");
	}
	{
		/* a large mapping is indexed; lookups find every key */
		_cleanup_free_ char *t = NULL;
		struct cc_node *big = NULL;
		size_t len;
		bool all = true;
		FILE *f = open_memstream(&t, &len);

		for (int i = 0; i < 1000; i++)
			fprintf(f, "key%d: %d\n", i, i);
		fclose(f);
		cc_budget_init(&b, len);
		r = cloud_config_load(t, len, &b, &big, NULL, &e);
		for (int i = 0; r == 0 && i < 1000; i++) {
			char k[16], v[16];
			snprintf(k, sizeof(k), "key%d", i);
			snprintf(v, sizeof(v), "%d", i);
			all = all && cc_scalar_is(cc_map_get(big, k), v);
		}
		ok(r == 0 && big->map.index && all, "load: 1000 keys, indexed, all found");
		cc_node_free(big);
	}
}

static void test_merge_limits(void)
{
	_cleanup_free_ char *t1 = NULL, *t2 = NULL, *t3 = NULL;
	struct cloud_config *a = NULL;
	struct cc_error e;
	struct cc_doc d;
	FILE *f;
	size_t len1, len2, len3;
	int r;

	f = open_memstream(&t1, &len1);
	fputs("#cloud-config\n", f);
	for (int i = 0; i < 600; i++)
		fprintf(f, "a%d: 1\n", i);
	fclose(f);
	f = open_memstream(&t2, &len2);
	fputs("#cloud-config\n", f);
	for (int i = 0; i < 600; i++)
		fprintf(f, "b%d: 1\n", i);
	fclose(f);
	r = decode_two(t1, t1, "", &d);
	ok(r == 0 && d.cc && d.cc->n_unknown == 600 && strv_length(d.cc->unknown) == 600,
	   "merge: the same 600 keys twice are 600");
	cc_doc_done(&d);
	r = decode_two(t1, t2, "", &d);
	ok(r == 0 && d.error == -E2BIG && strstr(d.error_message, "more than 1024 top-level keys"),
	   "merge: 1200 different keys: -E2BIG (%s)", d.error_message);
	cc_doc_done(&d);

	/* problems: 70 unsupported sub-keys: CC_MAX_PROBLEMS lines and one count */
	f = open_memstream(&t3, &len3);
	fputs("write_files:\n  - path: /x\n", f);
	for (int i = 0; i < 70; i++)
		fprintf(f, "    k%d: 0\n", i);
	fclose(f);
	if (cloud_config_parse(t3, len3, &a, &e) == 0) {
		ok(a->n_problems == CC_MAX_PROBLEMS + 1 && a->problems_dropped == 6 &&
		       strstr(a->problems[CC_MAX_PROBLEMS], "6 more problems") &&
		       strv_length(a->problems) == a->n_problems && a->partial[CC_WRITE_FILES] &&
		       a->n_why[CC_WRITE_FILES] == 70 &&
		       strstr(a->why[CC_WRITE_FILES], "sub-key 'k0' is not supported"),
		   "problems capped, one line counts the other 6 (%s)",
		   a->problems[a->n_problems - 1]);
	} else
		ok(false, "problems: parse");
	cloud_config_free(a);
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

static void test_mime_limits(void)
{
	_cleanup_free_ char *t = NULL, *h = NULL;
	struct mime_part *parts = NULL;
	size_t len, n = 0;
	struct cc_doc d;
	struct config cfg;
	int r;

	t = repeat("Content-Type: multipart/mixed; boundary=B\n\n", "--B\n\nx\n", MIME_MAX_PARTS,
		   "--B--\n", &len);
	r = mime_split(t, len, &parts, &n);
	ok(r == 0 && n == MIME_MAX_PARTS, "MIME: %u parts are fine", MIME_MAX_PARTS);
	mime_parts_free(parts, n);
	free(t);
	/* 1e5 parts took 7 s, 4e5 45 s */
	t = repeat("Content-Type: multipart/mixed; boundary=B\n\n", "--B\nContent-Type: x/y\n\nx\n",
		   400000, "--B--\n", &len);
	ok(mime_split(t, len, &parts, &n) == -E2BIG, "MIME: 4e5 parts: -E2BIG");
	config_init(&cfg);
	r = cc_doc_decode(&cfg, t, len, &d);
	ok(r == 0 && d.error == -E2BIG && strstr(d.error_message, "more than 1024 parts"),
	   "decode: 4e5 parts: an error naming the limit (%s)", d.error_message);
	cc_doc_done(&d);
	config_done(&cfg);

	/* a header folded over 1e5 lines */
	h = repeat("Content-Type: multipart/mixed;\n", " x=y;\n", 100000,
		   " boundary=B\n\n--B\n\nx\n--B--\n", &len);
	r = mime_split(h, len, &parts, &n);
	ok(r == 0 && n == 1, "MIME: a header folded over 1e5 lines");
	mime_parts_free(parts, n);
}

/* users as cloud-init's ug_util.normalize_users_groups reads it (issue 15 item 3). */
static void test_users_forms(void)
{
	struct cloud_config *cc = NULL;
	struct cc_error e;
	int r;

	/* a string: sorted, each once */
	r = parse("users: 'bob, alice,bob'\n", &cc, &e);
	ok(r == 0 && cc->n_users == 2 && streq(cc->users[0].name, "alice") &&
	       streq(cc->users[1].name, "bob") && !cc->partial[CC_USERS],
	   "users: 'bob, alice,bob' is alice, bob (uniq_merge_sorted)");
	cloud_config_free(cc);

	/* the dict form: a mapping per name, true names one, false leaves it out */
	r = parse("users:\n  alice: {shell: /bin/sh}\n  bob: true\n  carol: false\n  dave: 'yes'\n",
		  &cc, &e);
	ok(r == 0 && cc->has[CC_USERS] && cc->n_users == 3 && streq(cc->users[0].name, "alice") &&
	       streq(cc->users[0].shell, "/bin/sh") && streq(cc->users[1].name, "bob") &&
	       streq(cc->users[2].name, "dave"),
	   "users: {alice: {...}, bob: true, carol: false, dave: 'yes'} is alice, bob, dave");
	cloud_config_free(cc);

	/* a nameless entry is "default", merged with a "default" string (first value wins) */
	r = parse("users:\n  - default\n  - {gecos: G1, lock-passwd: false}\n"
		  "  - {name: default, gecos: G2, groups: [a]}\n",
		  &cc, &e);
	ok(r == 0 && cc->n_users == 1 && cc->users[0].is_default &&
	       streq(cc->users[0].gecos, "G1") && !cc->users[0].lock_passwd &&
	       strv_length(cc->users[0].groups) == 1 && !cc->partial[CC_USERS],
	   "users: default + nameless + name: default merge into one (first wins, dashes read)");
	cloud_config_free(cc);

	/* every key cloud-init's add_user passes to useradd, dashed or not */
	r = parse("users:\n  - name: svc\n    system: true\n    no-create-home: true\n"
		  "    homedir: /srv/svc\n    uid: 1500\n    primary_group: staff\n"
		  "    no_user_group: yes\n    expiredate: '2031-01-02'\n    inactive: 5\n"
		  "    ssh_authorized_keys: ssh-ed25519 AAAAC3Nza k@x\n    ssh_import_id: [gh:x]\n"
		  "    create_groups: false\n    no_log_init: true\n",
		  &cc, &e);
	if (ok(r == 0 && cc->n_users == 1, "users: all add_user keys parse (%d)", r)) {
		const struct cc_user *u = &cc->users[0];
		ok(u->system && u->no_create_home && streq(u->homedir, "/srv/svc") &&
		       streq(u->uid, "1500") && streq(u->primary_group, "staff") &&
		       u->no_user_group && streq(u->expiredate, "2031-01-02") &&
		       streq(u->inactive, "5") && !u->create_groups && u->no_log_init,
		   "users: system, no_create_home, homedir, uid, primary_group, no_user_group, "
		   "expiredate, inactive, create_groups, no_log_init read");
		ok(strv_length(u->ssh_authorized_keys) == 1, "users: a string ssh_authorized_keys "
		   "is one key");
		ok(cc->partial[CC_USERS] && cc->why[CC_USERS] &&
		       strstr(cc->why[CC_USERS], "'ssh_import_id' is not supported"),
		   "users: ssh_import_id named, the key partial (%s)", cc->why[CC_USERS]);
	}
	cloud_config_free(cc);

	/* Python truth values: "false" (a string) is true, 0 is false; noted */
	r = parse("users:\n  - {name: a, lock_passwd: 'false', system: 0}\n", &cc, &e);
	ok(r == 0 && cc->n_users == 1 && cc->users[0].lock_passwd && !cc->users[0].system &&
	       cc->partial[CC_USERS],
	   "users: lock_passwd: 'false' is true, system: 0 false (Python's truth), noted");
	cloud_config_free(cc);

	/* a wrong shape keeps the key out */
	r = parse("users:\n  a: [1]\n", &cc, &e);
	ok(r == 0 && cc->invalid[CC_USERS] && cc->n_users == 0, "users: {a: [1]} is invalid");
	cloud_config_free(cc);

	/* merging for the default user: the first wins, groups are the union */
	{
		struct cc_user a, b;
		cc_user_init(&a, strdup("x"));
		cc_user_init(&b, strdup("y"));
		a.shell = strdup("/bin/a");
		a.set |= 1U << CC_USER_SHELL;
		strv_push(&a.groups, strdup("g1"));
		a.set |= 1U << CC_USER_GROUPS;
		b.shell = strdup("/bin/b");
		b.gecos = strdup("B");
		b.set |= 1U << CC_USER_SHELL | 1U << CC_USER_GECOS | 1U << CC_USER_GROUPS;
		strv_push(&b.groups, strdup("g1"));
		strv_push(&b.groups, strdup("g2"));
		ok(cc_user_merge(&a, &b) == 0 && streq(a.shell, "/bin/a") && streq(a.gecos, "B") &&
		       strv_length(a.groups) == 2,
		   "cc_user_merge: first wins, missing keys taken, groups united");
		cc_user_done(&a);
		cc_user_done(&b);
	}
}

/* mounts, mount_default_fields and swap as cloud-init reads them (cc_mounts.py, its schema and
 * util.human2bytes), and its suggested_swapsize() table (tests/unittests/config/test_cc_mounts.py). */
static void test_mounts(void)
{
	static const struct {
		const char *in;
		uint64_t bytes; /* UINT64_MAX: refused */
	} h[] = {
		{ "10M", 10485760 }, { "10MB", 10485760 }, { "10MiB", 10485760 }, { "1.5G", 1610612736 },
		{ ".5T", UINT64_C(549755813888) }, { "200K", 204800 }, { "10485760B", 10485760 },
		{ "4096", 4096 }, { "0", 0 }, { "-1M", UINT64_MAX }, { "1e3", UINT64_MAX },
		{ "M", UINT64_MAX }, { "1.2.3G", UINT64_MAX }, { "inf", UINT64_MAX }, { "", UINT64_MAX },
		{ "99999999999T", UINT64_MAX },
	};
	static const struct {
		uint64_t mem_gib_x4, want_gib_x4; /* in quarters of a GiB */
	} sw[] = {
		{ 1, 1 }, { 2, 2 }, { 4, 4 }, { 8, 8 }, { 16, 16 }, { 32, 16 }, { 64, 16 },
		{ 128, 24 }, { 256, 32 }, { 512, 44 }, { 1024, 64 }, { 2048, 92 },
	};
	const uint64_t q = UINT64_C(1) << 28, big = UINT64_C(1) << 62;
	_cleanup_(cloud_config_freep) struct cloud_config *cc = NULL;
	struct cc_error e;
	bool good = true;

	for (size_t i = 0; i < ARRAY_SIZE(h); i++) {
		uint64_t v = 0;
		int r = cc_human2bytes(h[i].in, &v);
		if (h[i].bytes == UINT64_MAX ? r != -EINVAL : r != 0 || v != h[i].bytes) {
			printf("# human2bytes('%s'): %d %llu\n", h[i].in, r, (unsigned long long)v);
			good = false;
		}
	}
	ok(good, "swap sizes: util.human2bytes' units (B, K, M, G, T; B and iB dropped)");
	good = true;
	for (size_t i = 0; i < ARRAY_SIZE(sw); i++)
		good &= cc_suggested_swapsize(sw[i].mem_gib_x4 * q, 0, big) == sw[i].want_gib_x4 * q;
	ok(good, "size auto: cloud-init's suggested_swapsize table (256 MB..512 GB)");
	ok(cc_suggested_swapsize(8 * 4 * q, 0, 4 * 4 * q) == 4 * q &&
		   cc_suggested_swapsize(8 * 4 * q, 100 << 20, big) == 100 << 20 &&
		   cc_suggested_swapsize(8 * 4 * q, 8 * 4 * q, 1000 << 20) == 900 << 20,
	   "size auto: 25 %% of the free space, maxsize, 90 %% of the free space");

	ok(parse("mounts:\n - [vdb, /data]\n - vdc\n - []\n - [a, b, c, d, e, f, g]\n"
		 " - [vdd, [x]]\n - [vde]\n - [tmpfs, /t, tmpfs, null, 0, 0]\n", &cc, &e) == 0 &&
		   cc->has[CC_MOUNTS] && cc->partial[CC_MOUNTS] && cc->n_mounts == 7 &&
		   cc->mounts[0].n_fields == 2 && cc->mounts[1].n_fields == 0 &&
		   cc->mounts[2].n_fields == 0 && cc->mounts[3].n_fields == 0 &&
		   cc->mounts[4].n_fields == 0 && cc->mounts[5].n_fields == 1 &&
		   cc->mounts[6].n_fields == 6 && !cc->mounts[6].field[3] &&
		   streq(cc->mounts[6].field[4], "0") && strv_length(cc->problems) == 4,
	   "mounts: entries that are not lists of 1-6 strings dropped (partial), the rest kept");
	cloud_config_free(TAKE_PTR(cc));
	ok(parse("mount_default_fields: [null, null, ext4, 'defaults,noatime', '0', '0']\n"
		 "swap: {filename: /var/swap, size: 1G, maxsize: 2G}\n", &cc, &e) == 0 &&
		   cc->has[CC_MOUNT_DEFAULT_FIELDS] && !cc->mount_default_fields[1] &&
		   streq(cc->mount_default_fields[2], "ext4") && cc->has[CC_SWAP] &&
		   streq(cc->swap.filename, "/var/swap") && cc->swap.size == (UINT64_C(1) << 30) &&
		   cc->swap.maxsize == (UINT64_C(2) << 30) && !cc->swap.size_auto,
	   "mount_default_fields: 6 fields; swap: filename, size, maxsize");
	cloud_config_free(TAKE_PTR(cc));
	ok(parse("swap: {size: AUTO, other: 1}\n", &cc, &e) == 0 && cc->has[CC_SWAP] &&
		   cc->swap.size_auto && streq(cc->swap.filename, "/swap.img") &&
		   cc->partial[CC_SWAP],
	   "swap: size auto (any case), default filename /swap.img, unknown sub-key partial");
	cloud_config_free(TAKE_PTR(cc));
	ok(parse("mount_default_fields: [a, b, c, d, e]\nswap: {size: 1.5MT}\nmounts: {a: b}\n",
		 &cc, &e) == 0 && cc->invalid[CC_MOUNT_DEFAULT_FIELDS] && cc->invalid[CC_SWAP] &&
		   cc->invalid[CC_MOUNTS] && !cc->has[CC_SWAP],
	   "mount_default_fields of 5, a bad size, mounts as a mapping: errors, kept out");
	cloud_config_free(TAKE_PTR(cc));
	ok(parse("swap: {filename: swap.img, size: 1M}\n", &cc, &e) == 0 && cc->invalid[CC_SWAP],
	   "swap: a relative filename is an error");
	cloud_config_free(TAKE_PTR(cc));
	ok(parse("swap: {filename: null, size: 1M}\n", &cc, &e) == 0 && cc->has[CC_SWAP] &&
		   !cc->swap.filename && cc->swap.size == 0,
	   "swap: a null filename is no swap file (cloud-init: no need to setup swap)");
}

/* resize_rootfs and growpart are known keys that are never read: the status names why. */
static void test_grow_keys(void)
{
	struct cloud_config *cc = NULL;
	struct cc_error e;

	ok(parse("#cloud-config\nresize_rootfs: false\ngrowpart: {mode: 'off'}\n", &cc, &e) == 0,
	   "resize_rootfs, growpart: parsed");
	ok(cc && cc->has[CC_RESIZE_ROOTFS] && cc->has[CC_GROWPART] && !cc->unknown,
	   "resize_rootfs and growpart recognised, not unknown");
	cloud_config_free(cc);
}

int main(void)
{
	test_users_forms();
	test_all_keys();
	test_errors();
	test_merge();
	test_mime_gzip();
	test_depth();
	test_aliases();
	test_counts();
	test_tree();
	test_merge_limits();
	test_gzip_limits();
	test_mime_limits();
	test_mounts();
	test_grow_keys();
	return tap_done();
}
