/* SPDX-License-Identifier: MIT */
/*
 * commands.h: one function per verb of the command line. Each returns 0 on success and a
 * negative errno on failure; main() maps that to the exit status.
 */
#pragma once

#include "cli/invocation.h"
#include "base/config.h"

int verb_boot(const struct invocation *inv, const struct config *cfg);
int verb_metadata(const struct invocation *inv, const struct config *cfg);
int verb_hostname(const struct invocation *inv, const struct config *cfg);
int verb_sshkeys(const struct invocation *inv, const struct config *cfg);
int verb_network(const struct invocation *inv, const struct config *cfg);
int verb_userdata(const struct invocation *inv, const struct config *cfg);
int verb_late(const struct invocation *inv, const struct config *cfg);
int verb_mount(const struct invocation *inv, const struct config *cfg);
int verb_umount(const struct invocation *inv, const struct config *cfg);
int verb_status(const struct invocation *inv, const struct config *cfg);
int verb_clean(const struct invocation *inv, const struct config *cfg);
