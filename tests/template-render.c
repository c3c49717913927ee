/* SPDX-License-Identifier: MIT */
/* template-render: stdin through cc_template_render() with fixed variables (those of
 * tests/test-template-jinja.py), the result on stdout; exit 1 and "ERROR line N: ..." when it
 * is refused. A helper of the differential test, not a test itself. */
#include "base/util.h"
#include "cloudconfig/cc-template.h"

static int meta(void *userdata, const char *key, char **ret)
{
	(void)userdata;
	if (!streq(key, "hostname") && !streq(key, "instanceid"))
		return -ENOENT;
	*ret = strdup(streq(key, "hostname") ? "web-1" : "61234567");
	return *ret ? 0 : -ENOMEM;
}

int main(void)
{
	static char buf[1 << 16];
	struct cc_vars v = { .instance_id = "7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34",
			     .local_hostname = "web-1",
			     .region = "de",
			     .cloud_name = "vultr",
			     .platform = "vultr",
			     .meta_data = meta };
	struct cc_template t;
	size_t n = fread(buf, 1, sizeof(buf), stdin);
	int r = cc_template_render(buf, n, &v, 1 << 20, &t);

	if (r < 0) {
		printf("ERROR line %u: %s\n", t.line, r == -EBADMSG ? t.error : strerror(-r));
		return 1;
	}
	fwrite(t.text, 1, t.len, stdout);
	cc_template_done(&t);
	return 0;
}
