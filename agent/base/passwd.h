/* SPDX-License-Identifier: MIT */
/*
 * passwd.h: users and groups as ROOT/etc/passwd and ROOT/etc/group say (never the host's NSS:
 * --root may be another system, and a Vultr image has only files). The one reader both the
 * ssh-keys step and cloud-config use.
 */
#pragma once

#include <sys/types.h>

struct passwd_entry {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;  /* absolute */
	char *shell;
};

void passwd_entry_done(struct passwd_entry *p);

/* USER's entry in ROOT/etc/passwd. -ESRCH when there is none, -EINVAL when its uid, gid or home
 * is unusable (ids are 0 .. 2^32-2; a home must be absolute). */
int passwd_lookup(const char *root, const char *user, struct passwd_entry *ret);

/*
 * A user named or numbered by NAME ("alice", or a decimal uid) → uid and primary gid. A number
 * not in etc/passwd is taken as is (its gid = the uid), as chown(1) does; a number beyond the
 * 32-bit range or (uid_t)-1 is -ERANGE. -ESRCH for an unknown name.
 */
int passwd_resolve_user(const char *root, const char *name, uid_t *ret_uid, gid_t *ret_gid);

/* The same for a group in ROOT/etc/group. */
int passwd_resolve_group(const char *root, const char *name, gid_t *ret_gid);
