/* SPDX-License-Identifier: MIT */
/*
 * hostname.h: the hostname step: validate the name from the metadata (RFC 1123), then keep
 * /etc/hostname, Debian's "127.0.1.1 fqdn short" line in /etc/hosts and the kernel's name in
 * step with it, according to the configured policy. No network, no metadata parsing here.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"
#include "steps/step.h"

#define HOSTNAME_MAX 253
#define HOSTNAME_LABEL_MAX 63

/*
 * RFC 1123 host name: dot-separated labels of 1-63 characters from [a-z0-9-] (A-Z is accepted
 * and lowercased when applied), no label starting or ending with a hyphen, at most 253
 * characters, no empty label, no trailing dot, and the last label not all digits (so that an
 * IPv4 address is never taken for a name).
 */
bool hostname_is_valid(const char *name);

/*
 * The same check with the reason: 0 when valid, else -EINVAL and REASON (if not NULL) gets a
 * short text such as "label 2 has a space" (never the name itself).
 */
int hostname_validate(const char *name, char *reason, size_t reason_size);

/*
 * Apply HOSTNAME (from the metadata). ROOT is NULL (the running system) or a directory (--root):
 * with ROOT set, sethostname(2) is skipped. FIRST_BOOT: this instance's first boot
 * (HOSTNAME_FIRST_BOOT applies only then). DRY_RUN: decide and log the plan, write nothing; 1
 * then means "would change".
 *
 * Writes, only when the content differs, atomically and never through a symlink:
 * /etc/hostname ("short\n", 0644) and the 127.0.1.1 line of /etc/hosts (the rest of the file is
 * kept byte for byte, its mode and owner too). Then sethostname(short) when the kernel's name
 * differs (ROOT NULL only).
 *
 * Returns <0 error (-EINVAL: invalid name, -ELOOP: a symlink was refused), 0 unchanged or
 * skipped, 1 changed. *RET_MESSAGE (if not NULL) gets one line for the status, also on error;
 * the caller frees it.
 */
int hostname_apply(const char *root, const char *hostname, enum hostname_policy policy,
		   bool first_boot, bool dry_run, char **ret_message);

/* The hostname step: the cloud-config's hostname (fqdn first) or else the metadata's, through
 * hostname_apply() and its policy; preserve_hostname leaves it alone. */
int step_hostname(struct step_context *ctx, struct step_outcome *out);
