/* SPDX-License-Identifier: MIT */
/*
 * sshkeys.h: the ssh-keys step: validate the OpenSSH public keys from the metadata and keep
 * them, for one user, in a marked block of ~/.ssh/authorized_keys or in a file of their own
 * (~/.ssh/authorized_keys.d/vagent), never touching the user's own lines and never following a
 * symlink inside the home. No network, no metadata parsing here.
 */
#pragma once

#include <stdbool.h>

#include "base/config.h"

#define SSHKEY_LINE_MAX (16U * 1024U)

#define SSHKEYS_BLOCK_BEGIN                                                                        \
	"# BEGIN vagent managed keys (do not edit: changes are replaced at the next boot)"
#define SSHKEYS_BLOCK_END "# END vagent managed keys"

/*
 * Validate one authorized_keys line from the metadata. Only "type base64 [comment]" is
 * accepted: options (command="...", from=..., no-pty ...) are refused, so that the metadata
 * cannot grant more than a plain key. TYPE must be a known OpenSSH key type (certificates
 * included), the base64 must decode strictly, and the decoded blob must begin with the same
 * type string (uint32 length + name). No control character (tab included) anywhere; at most
 * SSHKEY_LINE_MAX bytes. Spaces before and after the line are ignored.
 *
 * Returns 0 valid, -EINVAL with *RET_REASON (if not NULL) set to a static string: "empty",
 * "too long", "control character", "options are not accepted from metadata", "unknown key
 * type", "no key data", "base64 does not decode", "key blob type does not match", "key blob
 * is truncated".
 */
int sshkey_validate(const char *line, const char **ret_reason);

/* The same; with SSHKEY_OPTIONS_OK an options field before the key type is accepted when it
 * is well formed (comma-separated NAME or NAME="VALUE"; else "the options are malformed"):
 * for keys from the user data, whose options are the user's own choice, as in cloud-init. */
enum {
	SSHKEY_OPTIONS_OK = 1 << 0,
};
int sshkey_validate_flags(const char *line, unsigned flags, const char **ret_reason);

/*
 * Apply KEYS (the metadata's public-keys, NULL-terminated, may be NULL or empty) for USER, whose
 * uid, gid and home come from ROOT/etc/passwd (ROOT NULL: the running system).
 *
 * TARGET block: vagent's keys live between SSHKEYS_BLOCK_BEGIN and SSHKEYS_BLOCK_END in
 * ~/.ssh/authorized_keys; every byte outside the block is the user's and is kept as it is.
 * TARGET file: ~/.ssh/authorized_keys.d/vagent is wholly vagent's (sshd then needs
 * "AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys.d/vagent").
 *
 * POLICY sync: vagent's keys become exactly the valid metadata keys (metadata order, no
 * duplicates), so revoked keys go; no keys at all in the metadata removes the block (or file).
 * POLICY add-only: the old keys are kept and new ones appended. Either way a key the user
 * already has outside the block is not added again. Invalid keys are skipped with a warning
 * naming their index and the reason. If the metadata has keys but none is valid, nothing is
 * changed (a bad document must not lock the admin out).
 *
 * Refused (error, nothing written): the user missing from etc/passwd; the home missing, a
 * symlink anywhere in its path, or not owned by the user; ~/.ssh (or authorized_keys.d) a
 * symlink or not a directory; the keys file a symlink, not a regular file or hard-linked; a
 * block with a BEGIN and no END (or the reverse, or two blocks). A missing ~/.ssh is created
 * 0700; an existing one is made 0700 and owned by the user (on the open fd). The keys file is
 * written atomically, 0600, owned by the user.
 *
 * Returns <0 error, 0 unchanged, 1 changed (with DRY_RUN: would change, nothing written).
 * *RET_MESSAGE (if not NULL) gets one line for the status, also on error; the caller frees it.
 */
int sshkeys_apply(const char *root, const char *user, char *const *keys, enum sshkeys_policy policy,
		  enum sshkeys_target target, bool dry_run, char **ret_message);

/*
 * The same with USER_KEYS (the user data's, may be NULL) after the metadata's KEYS in the
 * block: they may carry options (SSHKEY_OPTIONS_OK); a key whose blob is already there (the
 * metadata's) is not added twice. "None valid, nothing changed" looks at the metadata's only.
 */
int sshkeys_apply_from(const char *root, const char *user, char *const *keys,
		       char *const *user_keys, enum sshkeys_policy policy,
		       enum sshkeys_target target, bool dry_run, char **ret_message);
