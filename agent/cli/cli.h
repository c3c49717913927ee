/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the command line as doc/cli.md fixes it: global options, the verb table, --help and
 * --version. The parsed result is a struct invocation (invocation.h); the verbs live in
 * commands.c.
 */
#pragma once

#include "cli/invocation.h"

/* 0: run INV; 1: --help or --version was printed (exit 0); -EINVAL: usage error printed. */
int cli_parse(int argc, char **argv, struct invocation *inv);
