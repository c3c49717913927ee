/* SPDX-License-Identifier: MIT */
/*
 * network-hook.c: runs the real network step (steps/network.c) over a --root and a metadata
 * document, the way the runner will: `network-hook ROOT DOCUMENT [--dry-run]
 * [--manage=auto|networkd|no]`. Prints "RESULT: MESSAGE" (and the dry-run plan) on stdout and
 * exits 0 changed/unchanged/skipped, 1 failed, 2 usage or unreadable document. Used by
 * tests/test-network.sh until the step has its `vagent network` verb.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/report.h"
#include "base/util.h"
#include "metadata/json.h"
#include "steps/network.h"

int main(int argc, char **argv)
{
	struct step_outcome out = { .result = STEP_UNCHANGED };
	struct step_context ctx = {};
	struct metadata *md = NULL;
	struct config cfg;
	char *doc = NULL, *error = NULL;
	size_t len;
	int r;

	if (argc < 3)
		return fprintf(stderr, "usage: network-hook ROOT DOCUMENT [--dry-run] [--manage=X]\n"), 2;
	if (config_init(&cfg) < 0)
		return 2;
	for (int i = 3; i < argc; i++) {
		if (streq(argv[i], "--dry-run"))
			ctx.dry_run = true;
		else if (streq(argv[i], "--manage=auto"))
			cfg.network_manage = NETWORK_MANAGE_AUTO;
		else if (streq(argv[i], "--manage=networkd"))
			cfg.network_manage = NETWORK_MANAGE_NETWORKD;
		else if (streq(argv[i], "--manage=no"))
			cfg.network_manage = NETWORK_MANAGE_NO;
		else
			return fprintf(stderr, "network-hook: unknown option '%s'\n", argv[i]), 2;
	}
	r = read_file(NULL, argv[2], 1 << 20, &doc, &len);
	if (r < 0)
		return fprintf(stderr, "network-hook: cannot read '%s': %s\n", argv[2], strerror(-r)), 2;
	r = metadata_parse(doc, len, &md, &error);
	if (r < 0)
		return fprintf(stderr, "network-hook: %s\n", error ? error : strerror(-r)), 2;

	ctx.root = streq(argv[1], "/") ? NULL : argv[1];
	ctx.cfg = &cfg;
	ctx.plan = stdout;
	ctx.md = md;
	ctx.instance_id = md->instance_id;

	r = step_network(&ctx, &out);
	if (r < 0 && out.result != STEP_FAILED)
		out.result = STEP_FAILED;
	printf("%s: %s\n", step_result_to_string(out.result), out.message ? out.message : "");
	r = out.result == STEP_FAILED ? 1 : 0;
	step_outcome_done(&out);
	metadata_free(md);
	free(doc);
	free(error);
	config_done(&cfg);
	return r;
}
