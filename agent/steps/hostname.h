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
#include "base/util.h" /* hostname_validate() */
#include "steps/step.h"

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

/*
 * What hostname_set() applies: NAME (the short name; with FQDN NULL a dotted NAME is the fqdn
 * and its first label the short name, as for the metadata's name) and FQDN, both valid;
 * PREFER_FQDN: /etc/hostname and the kernel get the fqdn (cloud-config
 * prefer_fqdn_over_hostname); NO_HOSTNAME_FILE: /etc/hostname is not written
 * (create_hostname_file: false); NO_HOSTS: /etc/hosts is not touched (manage_etc_hosts:
 * false). SOURCE names where NAME came from in messages ("metadata", "cloud-config").
 */
struct hostname_want {
	const char *name;
	const char *fqdn;
	bool prefer_fqdn;
	bool no_hostname_file;
	bool no_hosts;
	const char *source;
};
int hostname_set(const char *root, const struct hostname_want *w, enum hostname_policy policy,
		 bool first_boot, bool dry_run, char **ret_message);

/* The hostname step: the cloud-config's hostname and fqdn as cloud-init's get_hostname_fqdn
 * reads them (hostname wins for the short name), or else the metadata's name, through
 * hostname_set() and its policy; preserve_hostname leaves it alone. */
int step_hostname(struct step_context *ctx, struct step_outcome *out);
