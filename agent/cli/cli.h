/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the command line as ../shared/design/cli.md fixes it: global options, the verb table,
 * --help and --version. The parsed result is a struct invocation; the verbs live in
 * commands.c.
 */
#pragma once

#include <stdbool.h>

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
	bool no_userdata; /* boot: store the user data, leave running it to `vagent userdata` */
	bool no_storage;  /* boot: skip the storage step */
	const struct verb *verb;
	char **args;      /* NULL-terminated, borrowed from argv */
	int n_args;
};

/* 0: run INV; 1: --help or --version was printed (exit 0); -EINVAL: usage error printed. */
int cli_parse(int argc, char **argv, struct invocation *inv);
