/* SPDX-License-Identifier: MIT */
/* Unit tests for cc-template.c (the "## template: jinja" renderer) and cc-archive.c
 * ("#cloud-config-archive"), alone and through cc_doc_decode_vars(): the variables cloud-init's
 * v1 and ds.meta_data give, white space and trims, comments, unknown names as cloud-init
 * renders them, every refused construct with its line, the size cap; archive entries as
 * strings and mappings, default types, Merge-Type, skipped entries, archives inside MIME. */
#include "base/config.h"
#include "base/util.h"
#include "cloudconfig/cc-apply.h"
#include "cloudconfig/cc-archive.h"
#include "cloudconfig/cc-template.h"
#include "tap.h"

static int meta(void *userdata, const char *key, char **ret)
{
	(void)userdata;
	if (streq(key, "hostname") || streq(key, "instance_v2_id"))
		*ret = strdup(streq(key, "hostname") ? "web-1" : "uuid-1");
	else if (streq(key, "instanceid"))
		*ret = strdup("12345");
	else if (streq(key, "interfaces"))
		return -EMEDIUMTYPE;
	else
		return -ENOENT;
	return *ret ? 0 : -ENOMEM;
}

static const struct cc_vars vars = {
	.instance_id = "d5a7b7a2-1b4e-4f3c-9a8e-0c1d2e3f4a5b",
	.local_hostname = "web-1",
	.region = "ewr",
	.availability_zone = NULL,
	.cloud_name = "vultr",
	.platform = "vultr",
	.meta_data = meta,
};

/* Render S; 0 and the text in OUT (size N), or the error. */
static int render(const char *s, char *out, size_t n, struct cc_template *t)
{
	int r = cc_template_render(s, strlen(s), &vars, 1 << 20, t);

	snprintf(out, n, "%s", r >= 0 ? t->text : t->error);
	cc_template_done(t);
	return r;
}

static void refused(const char *s, unsigned line, const char *what)
{
	struct cc_template t;
	char out[512];
	int r = render(s, out, sizeof(out), &t);

	ok(r == -EBADMSG && t.line == line && strstr(out, what),
	   "refused at line %u, naming %s: r=%d line %u '%s'", line, what, r, t.line, out);
}

int main(void)
{
	struct cc_template t;
	struct config cfg;
	char out[1024];
	int r;

	if (config_init(&cfg) < 0)
		return 1;

	r = render("## template: jinja\n#cloud-config\nid: {{ v1.instance_id }}\n", out, sizeof(out),
		   &t);
	ok(r == 0 && streq(out, "#cloud-config\nid: d5a7b7a2-1b4e-4f3c-9a8e-0c1d2e3f4a5b\n") &&
	       t.n_substituted == 1 && t.n_missing == 0,
	   "v1.instance_id, header removed, trailing newline kept");
	r = render("## template: jinja\n{{v1.local_hostname}} {{  v1.region  }} {{ v1 . cloud_name }} "
		   "{{ v1.platform }} {{ v1.availability_zone }} {{ instance_id }} {{ cloud_id }}",
		   out, sizeof(out), &t);
	ok(r == 0 && streq(out, "web-1 ewr vultr vultr None d5a7b7a2-1b4e-4f3c-9a8e-0c1d2e3f4a5b "
			   "vultr"),
	   "the v1 keys, white space inside braces and around dots, None for null, top-level "
	   "aliases: '%s'", out);
	r = render("## TEMPLATE:   Jinja  \r\n{{ ds.meta_data.hostname }}/{{ ds.meta_data.instanceid }}"
		   "/{{ ds.meta_data.instance_v2_id }}/{{ ds.meta_data.region }}",
		   out, sizeof(out), &t);
	ok(r == 0 && streq(out, "web-1/12345/uuid-1/ewr"),
	   "ds.meta_data: the document's scalars, the datasource's region; header in any case: '%s'",
	   out);
	r = render("## template: jinja\na {# a comment\nover lines #}\nb {#- trimmed -#}   c\n"
		   "d   {{- v1.region -}}   e\n{{ '{{' if 0 }}", out, sizeof(out), &t);
	ok(r == -EBADMSG && t.line == 6, "a bad expression after comments: its line counted (%u)",
	   t.line);
	r = render("## template: jinja\na {# a comment\nover lines #}\nb {#- trimmed -#}   c\n"
		   "d   {{- v1.region -}}   e\n", out, sizeof(out), &t);
	ok(r == 0 && streq(out, "a bc\ndewre\n"),
	   "comments dropped (trim_blocks: the line break after one), {{- -}} trim");
	r = render("## template: jinja\n{{ nosuch }} {{ v1.nope }} {{ ds.meta_data.absent }} "
		   "{{ v1.region.upper_x }}", out, sizeof(out), &t);
	ok(r == 0 && streq(out, "CI_MISSING_JINJA_VAR/nosuch CI_MISSING_JINJA_VAR/nope "
			   "CI_MISSING_JINJA_VAR/absent CI_MISSING_JINJA_VAR/upper_x") &&
	       t.n_missing == 4 && streq(t.missing, "'nosuch', 'nope', 'absent', 'upper_x'"),
	   "unknown names as cloud-init renders them, named for the warning: '%s' (%s)", out,
	   t.missing);
	r = render("## template: jinja\n{ not a tag } {x} }} %} #}\n", out, sizeof(out), &t);
	ok(r == 0 && streq(out, "{ not a tag } {x} }} %} #}\n"), "lone braces are text");
	r = render("## template: jinja", out, sizeof(out), &t);
	ok(r == 0 && streq(out, ""), "a header alone renders to nothing");
	r = cc_template_render("## template: jinja\n{{ v1.instance_id }}{{ v1.instance_id }}", 59,
			       &vars, 40, &t);
	ok(r == -EFBIG, "the result is capped (%d)", r);
	r = cc_template_render("## template: jinja\n{{ v1.instance_id }}", 39, NULL, 1024, &t);
	ok(r == 0 && streq(t.text, "CI_MISSING_JINJA_VAR/instance_id"),
	   "no variables known: every name missing ('%s')", t.text);
	cc_template_done(&t);

	refused("## template: jinja\n#cloud-config\n{% if v1.region == 'ewr' %}\nx: 1\n{% endif %}\n",
		3, "'{% if %}'");
	refused("## template: jinja\n\n\n{%- for x in y %}", 4, "'{% for %}'");
	refused("## template: jinja\n{% secret stuff %}", 2, "a jinja {% %} statement");
	refused("## template: jinja\na\n{{ v1.region | upper }}", 3, "a filter ('|')");
	refused("## template: jinja\n{{ range(3) }}", 2, "a call");
	refused("## template: jinja\n{{ v1['region'] }}", 2, "a subscript");
	refused("## template: jinja\n{{ 'x' }}", 2, "a string literal");
	refused("## template: jinja\n{{ 42 }}", 2, "a number");
	refused("## template: jinja\n{{ a + b }}", 2, "an expression");
	refused("## template: jinja\n{{ }}", 2, "an empty {{ }}");
	refused("## template: jinja\nx\n{{ v1.region\n", 3, "not closed");
	refused("## template: jinja\n{# open", 2, "not closed");
	refused("## template: jinja\n{{ v1 }}", 2, "a mapping");
	refused("## template: jinja\n{{ ds.meta_data.interfaces }}", 2, "not a scalar");
	refused("## template: jinja\n{{ nosuch.key }}", 2, "'nosuch' is undefined");
	refused("## template: jinjax\nx", 1, "other than jinja");
	refused("## template: basic\nx", 1, "other than jinja");
	refused("## template: jinja\n{{ a.b.c.d.e.f.g.h.i }}", 2, "longer than");
	{
		/* The refusal never echoes the template's text. */
		struct cc_template t2;
		int r2 = cc_template_render("## template: jinja\n{% set SECRET-MARKER = 1 %}", 46,
					    &vars, 1024, &t2);
		ok(r2 == -EBADMSG && !strstr(t2.error, "SECRET"), "the error holds no user text: '%s'",
		   t2.error);
	}

	/* cc_doc_decode_vars: a whole jinja cloud-config, a jinja script, a refused template. */
	{
		const char *s = "## template: jinja\n#cloud-config\nhostname: h-{{ v1.region }}\n"
				"runcmd: [echo {{ v1.instance_id }}]\n";
		struct cc_doc d;

		r = cc_doc_decode_vars(&cfg, &vars, s, strlen(s), &d);
		ok(r == 0 && cc_doc_has_config(&d) && d.rendered && d.kind == USERDATA_CLOUD_CONFIG &&
			   d.n_templates == 1 && streq(d.cc->hostname, "h-ewr") &&
			   strstr(d.plain, "echo d5a7b7a2-"),
		   "decode: jinja cloud-config rendered before it is read (kind %d, %s)", d.kind,
		   d.error_message ?: "ok");
		ok(d.vars == NULL, "decode: the borrowed variables are not kept");
		cc_doc_done(&d);
		s = "## template: jinja\n#!/bin/sh\necho {{ v1.local_hostname }}\n";
		r = cc_doc_decode_vars(&cfg, &vars, s, strlen(s), &d);
		ok(r == 0 && !d.error && d.kind == USERDATA_SCRIPT && d.rendered &&
			   streq(d.plain, "#!/bin/sh\necho web-1\n"),
		   "decode: a jinja script is the rendered script");
		cc_doc_done(&d);
		s = "## template: jinja\n#!/bin/sh\nrm -rf /{% if x %}tmp/x{% endif %}\n";
		r = cc_doc_decode_vars(&cfg, &vars, s, strlen(s), &d);
		ok(r == 0 && d.error == -EBADMSG && d.error_message &&
			   strstr(d.error_message, "line 3: the jinja statement '{% if %}'") &&
			   strstr(d.error_message, "nothing of the user data is applied") &&
			   d.kind == USERDATA_JINJA && !d.plain && d.n_scripts == 0,
		   "decode: a statement refuses the whole user data, nothing to run: '%s'",
		   d.error_message ?: "");
		cc_doc_done(&d);
		s = "## template: jinja\n#cloud-config-archive\n- '#!/bin/sh'\n";
		r = cc_doc_decode_vars(&cfg, &vars, s, strlen(s), &d);
		ok(r == 0 && d.error && strstr(d.error_message, "rendered to #cloud-config-archive"),
		   "decode: a template rendering to another format is refused: '%s'",
		   d.error_message ?: "");
		cc_doc_done(&d);
	}

	/* cc_archive_split directly. */
	{
		const char *s = "#cloud-config-archive\n"
				"- '#!/bin/sh\n  echo one'\n"
				"- content: 'runcmd: [x]'\n"
				"- {type: text/X-Shellscript, content: 'echo two', filename: a.sh, "
				"launch-index: 0}\n"
				"- {content: '#cloud-config\n\n    a: 1', Merge-Type: 'list(append)'}\n"
				"- 42\n"
				"- {type: nonsense, content: x}\n"
				"- {content: !!binary aGVsbG8=}\n"
				"- {content: [1, 2]}\n"
				"- {}\n";
		struct mime_part *p = NULL;
		struct cc_budget b;
		struct cc_error e;
		size_t n = 0;

		cc_budget_init(&b, strlen(s));
		r = cc_archive_split(s, strlen(s), &b, &p, &n, &e);
		ok(r == 0 && n == 9, "archive: 9 entries (r=%d n=%zu)", r, n);
		if (r == 0 && n == 9) {
			ok(streq(p[0].type, "text/x-shellscript") && streq(p[0].body, "#!/bin/sh echo one"),
			   "archive: a string entry, its type from its prefix ('%s')", p[0].body);
			ok(streq(p[1].type, "text/cloud-config") && streq(p[1].body, "runcmd: [x]"),
			   "archive: no type and no prefix: text/cloud-config, as cloud-init");
			ok(streq(p[2].type, "text/x-shellscript") && streq(p[2].body, "echo two"),
			   "archive: type given (lowercased), filename and launch-index ignored");
			ok(streq(p[3].type, "text/cloud-config") && p[3].merge_type &&
				   streq(p[3].merge_type, "list(append)"),
			   "archive: Merge-Type as a header");
			ok(p[4].skipped && p[5].skipped && strstr(p[5].skipped, "'/'") && p[7].skipped,
			   "archive: a number, a type without '/', a list content: skipped");
			ok(!p[6].skipped && streq(p[6].type, "application/octet-stream") &&
				   p[6].len == 5 && memcmp(p[6].body, "hello", 5) == 0,
			   "archive: !!binary content: its bytes, application/octet-stream");
			ok(!p[8].skipped && streq(p[8].type, "text/cloud-config") && p[8].len == 0,
			   "archive: {} is an empty cloud-config (content defaults to '')");
		}
		mime_parts_free(p, n);
		cc_budget_init(&b, 100);
		r = cc_archive_split("#cloud-config-archive\na: 1\n", 26, &b, &p, &n, &e);
		ok(r == -EBADMSG && strstr(e.problem, "mapping, not a list"),
		   "archive: a mapping is refused (%s)", e.problem);
		cc_budget_init(&b, 100);
		r = cc_archive_split("#cloud-config-archive\n- [\n", 25, &b, &p, &n, &e);
		ok(r == -EBADMSG && e.line > 0, "archive: bad YAML names its line (%u)", e.line);
		cc_budget_init(&b, 100);
		r = cc_archive_split("#cloud-config-archive\n", 22, &b, &p, &n, &e);
		ok(r == 0 && n == 0, "archive: nothing in it is no parts");
	}

	/* Through cc_doc_decode_vars: parts merged and scripts kept as from MIME. */
	{
		const char *s = "#cloud-config-archive\n"
				"- |\n  #cloud-config\n  hostname: first\n  runcmd: [a]\n"
				"- {type: text/x-shellscript, content: \"#!/bin/sh\\necho s\\n\"}\n"
				"- content: |\n    ## template: jinja\n    #cloud-config\n"
				"    hostname: h-{{ v1.region }}\n"
				"- {type: text/x-include-url, content: 'http://x/'}\n"
				"- 7\n";
		struct cc_doc d;

		r = cc_doc_decode_vars(&cfg, &vars, s, strlen(s), &d);
		ok(r == 0 && cc_doc_has_config(&d) && d.kind == USERDATA_ARCHIVE &&
			   d.n_archive_entries == 5 && d.n_configs == 2 && d.n_scripts == 1 &&
			   d.scripts[0].index == 2 && streq(d.cc->hostname, "h-ewr") &&
			   d.n_templates == 1,
		   "decode: archive parts merged in order (a jinja entry rendered), the script kept "
		   "(%s)", d.error_message ?: "ok");
		ok(d.n_parts_not_run == 1 && strv_contains(d.ignored_parts,
							   "part 4 (text/x-include-url)") &&
			   strv_contains(d.ignored_parts,
					 "part 5 (archive entry 5: neither a string nor a mapping)"),
		   "decode: an include entry is not run (counted), a number skipped");
		cc_doc_done(&d);

		s = "Content-Type: multipart/mixed; boundary=B\n\n--B\n"
		    "Content-Type: text/cloud-config-archive\n\n"
		    "- \"#cloud-config\\nhostname: from-archive\\n\"\n"
		    "- \"#!/bin/sh\\necho a\\n\"\n"
		    "--B\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho b\n--B--\n";
		r = cc_doc_decode_vars(&cfg, &vars, s, strlen(s), &d);
		ok(r == 0 && cc_doc_has_config(&d) && streq(d.cc->hostname, "from-archive") &&
			   d.n_scripts == 2 && d.scripts[0].index == 4 && d.scripts[1].index == 2,
		   "decode: an archive part of a MIME message is exploded (its entries numbered "
		   "after the parts) (%s)", d.error_message ?: "ok");
		cc_doc_done(&d);

		s = "#cloud-config-archive\n- {type: text/cloud-config-archive, content: '- x'}\n";
		r = cc_doc_decode_vars(&cfg, &vars, s, strlen(s), &d);
		ok(r == 0 && !d.error && d.n_parts_not_run == 0 &&
			   strv_contains(d.ignored_parts, "part 1 (text/cloud-config-archive)"),
		   "decode: an archive inside an archive is not exploded (nor by cloud-init)");
		cc_doc_done(&d);

		s = "#cloud-config-archive\nfoo: bar\n";
		r = cc_doc_decode_vars(&cfg, &vars, s, strlen(s), &d);
		ok(r == 0 && d.error == -EBADMSG &&
			   strstr(d.error_message, "#cloud-config-archive: invalid YAML at line"),
		   "decode: an archive that is not a list is not usable: '%s'",
		   d.error_message ?: "");
		cc_doc_done(&d);

		s = "#cloud-config-archive\n- \"## template: jinja\\n#!/bin/sh\\n{% if 1 %}\\n\"\n";
		r = cc_doc_decode_vars(&cfg, &vars, s, strlen(s), &d);
		ok(r == 0 && d.error == -EBADMSG && d.n_scripts == 0 &&
			   strstr(d.error_message, "part 1: ## template: jinja line 3"),
		   "decode: a refused template entry refuses the whole user data: '%s'",
		   d.error_message ?: "");
		cc_doc_done(&d);
	}
	config_done(&cfg);
	return tap_done();
}
