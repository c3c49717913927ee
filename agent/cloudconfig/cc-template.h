/* SPDX-License-Identifier: MIT */
/*
 * cc-template.h: "## template: jinja" user data rendered with the instance's variables, the
 * subset of jinja users write in cloud-config and scripts (cc-template.c): {{ name }} and
 * {{ a.b.c }} with white space and the {{- -}} trims, {# comments #} (with jinja's
 * trim_blocks, as cloud-init sets it: the line break after one goes). Everything else jinja
 * has ({% statements %}, filters, calls, literals, operators) is refused with the construct
 * and its line, so nothing half-rendered ever runs. Pure: no I/O, no logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The variables, as cloud-init's instance data names them (sources/__init__.py "v1", the
 * Vultr datasource's meta_data): v1.instance_id, v1.local_hostname, v1.region,
 * v1.availability_zone, v1.cloud_name, v1.cloud_id, v1.platform, the same names at the top
 * level (cloud-init copies v1's keys there), ds.meta_data.instance_id, .local_hostname and
 * .region, and ds.meta_data.KEY for the document's other top-level scalars through META_DATA.
 * A NULL value renders as Python's None (what cloud-init prints for a null).
 */
struct cc_vars {
	const char *instance_id;
	const char *local_hostname;
	const char *region;
	const char *availability_zone;
	const char *cloud_name;
	const char *platform;
	/* ds.meta_data.KEY (KEY as written: "instance_v2_id" also finds "instance-v2-id"): 0 and
	 * *RET (malloc'd) the value as jinja prints it, -ENOENT none, -EMEDIUMTYPE not a scalar,
	 * -ENOMEM. NULL: none known. */
	int (*meta_data)(void *userdata, const char *key, char **ret);
	void *userdata;
};

struct cc_template {
	char *text; /* the rendered text, header line removed; NUL-terminated (not counted) */
	size_t len;
	size_t n_substituted;
	size_t n_missing; /* unknown names, rendered as CI_MISSING_JINJA_VAR/NAME */
	char missing[160]; /* "'foo', 'bar'": the first of them (names only, never values) */
	unsigned line;	   /* on error: the line (1-based, the header is line 1) */
	char error[200];   /* on error: what and why, secret-free (no text of the template) */
};

void cc_template_done(struct cc_template *t);

/*
 * Render DATA (its first line "## template: jinja") with V (NULL: no variables) into T.
 * Returns 0; -EBADMSG when the template uses what vagent does not render or is malformed
 * (T->line, T->error say what); -EFBIG when the result would exceed MAX bytes; -ENOMEM.
 */
int cc_template_render(const char *data, size_t len, const struct cc_vars *v, size_t max,
		       struct cc_template *t);

#define CC_MISSING_JINJA_PREFIX "CI_MISSING_JINJA_VAR/"
