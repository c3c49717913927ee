/* SPDX-License-Identifier: MIT */
/*
 * invocation.h: one parsed command line (struct invocation) and the shape of a verb, shared by
 * the parser (cli.c) and the verbs (commands.c) so that neither includes the other's header.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"

struct invocation;

struct verb {
	const char *name;
	const char *args;    /* for --help */
	int min_args, max_args; /* -1: unlimited */
	const char *help;
	int (*run)(const struct invocation *inv, const struct config *cfg);
};

struct invocation {
	const char *config_path;
	bool config_explicit;
	const char *root;
	const char *metadata_url;
	bool dry_run;
	bool json;
	int verbose;
	bool dump_config;
	unsigned stages;  /* boot --stage: STAGE_MASK()s (0: boot, storage and userdata) */
	bool no_userdata; /* boot: leave the user-data stage to `vagent userdata` */
	bool no_storage;  /* boot: leave the storage stage to `vagent mount` */
	bool wait;        /* status: until every unit of this boot has finished */
	uint64_t timeout_usec; /* status --wait: give up after this long (0: never) */
	bool image;       /* clean: also what makes an image one instance's (golden images) */
	const struct verb *verb;
	char **args;      /* NULL-terminated, borrowed from argv */
	int n_args;
};
