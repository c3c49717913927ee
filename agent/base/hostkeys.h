/* SPDX-License-Identifier: MIT */
/*
 * hostkeys.h: the SSH host keys in ROOT/etc/ssh (ssh_host_<type>_key and .pub): which types are
 * there, generating the missing ones (or all of them, for a new instance) with ssh-keygen from
 * an argv, their fingerprints and public lines for the console, and removing them for a golden
 * image. Private keys are never parsed, logged or printed here: only ssh-keygen reads them (a
 * spare key is copied as bytes).
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#define HOSTKEYS_DIR "/etc/ssh"
/* What says an OpenSSH server is installed: without it there is nothing to do. */
#define HOSTKEYS_SSHD "/usr/sbin/sshd"
/* Spare keys made at the start of a boot (hostkeys_make_spares()); tmpfs, never in an image. */
#define HOSTKEYS_SPARE_PARENT "/run/vagent"
#define HOSTKEYS_SPARE_NAME "host-keys-spare"
#define HOSTKEYS_SPARE_DIR HOSTKEYS_SPARE_PARENT "/" HOSTKEYS_SPARE_NAME

enum hostkey_type {
	HOSTKEY_RSA,
	HOSTKEY_ECDSA,
	HOSTKEY_ED25519,
	_HOSTKEY_MAX,
};

#define HOSTKEY_ALL ((1U << _HOSTKEY_MAX) - 1)

/* "rsa" "ecdsa" "ed25519", and back (-EINVAL for anything else, "dsa" included). */
const char *hostkey_type_to_string(enum hostkey_type t);
int hostkey_type_from_string(const char *s);

/* The types of TYPES as "rsa, ecdsa" into BUF (SIZE bytes); "none" when empty. */
const char *hostkey_types_format(unsigned types, char *buf, size_t size);

struct hostkeys_result {
	unsigned present;   /* types with both files after the call (before, in a dry run) */
	unsigned generated; /* types generated (or that would be) */
	unsigned derived;   /* types whose missing .pub was derived from the private key */
	size_t removed;     /* key files removed (or that would be) before the new ones went in */
};

/*
 * Make ROOT/etc/ssh hold a key pair of each type in TYPES. A type whose private key is missing
 * is generated (`ssh-keygen -q -N '' -t TYPE [-b 3072] -f TMP`, one process per type side by
 * side, or a spare of this boot taken instead, in a fresh directory beside the keys, modes
 * fixed to 0600/0644, fsynced, then renamed into place: a crash leaves the old keys or the new
 * ones); one whose .pub alone is missing gets it back with `ssh-keygen -y`.
 * REGENERATE (a new instance): every type of TYPES is generated anew and every other
 * ssh_host_*key* file (another type, a certificate) is removed once the new keys are ready.
 * With DRY_RUN nothing is written and the plan goes to PLAN (when not NULL).
 * Returns <0 error (logged), 0 nothing to do, 1 changed (or would).
 */
int hostkeys_ensure(const char *root, unsigned types, bool regenerate, bool dry_run, FILE *plan,
		    struct hostkeys_result *ret);

/*
 * Spare keys: a pair of each type of TYPES made now (those of IDLE after the others, under
 * SCHED_IDLE until the path IDLE_UNTIL exists, when not NULL) in
 * ROOT/run/vagent/host-keys-spare (0700; tmpfs, so a spare never reaches an image, a snapshot
 * or a later boot), each published by rename once complete. hostkeys_ensure() takes
 * (copies, then removes) a spare of a type it has to generate instead of running ssh-keygen:
 * a spare key is used once or never. Types already there are not made again. *RET_MADE: the
 * types made (or that would be, with DRY_RUN: the plan to PLAN). Returns <0 error (logged), 0
 * nothing to do, 1 made.
 */
int hostkeys_make_spares(const char *root, unsigned types, unsigned idle, const char *idle_until,
			 bool dry_run, FILE *plan, unsigned *ret_made);

/* The types with a complete spare pair in ROOT/run/vagent/host-keys-spare. */
unsigned hostkeys_spare_ready(const char *root);

/* The types whose private key and .pub are both in ROOT/etc/ssh (regular, not empty). */
unsigned hostkeys_present(const char *root);

/*
 * Install a host key pair given in the user data (cloud-config ssh_keys) as type T:
 * ROOT/etc/ssh/ssh_host_<t>_key (0600, PRIVATE_KEY as given) and its .pub (0644, PUBLIC_KEY
 * with a final newline); without PUBLIC_KEY an old .pub is removed, for hostkeys_ensure() to
 * derive it from the new private key. Atomic writes, no symlink followed. The key is never
 * logged. With DRY_RUN only the plan. Returns <0 error (logged), 1 installed (or would be).
 */
int hostkeys_install(const char *root, enum hostkey_type t, const char *private_key,
		     const char *public_key, bool dry_run, FILE *plan);

/*
 * The fingerprints (`ssh-keygen -l`: "256 SHA256:... comment (ED25519)") and the public lines
 * of ROOT/etc/ssh/ssh_host_*key.pub, in name order. Either list may be NULL. A .pub that is not
 * a regular file or not a public key is left out with a warning. One `ssh-keygen -l` reads
 * every .pub; when it cannot fingerprint them all, they are asked for one by one, and the
 * fingerprint of a .pub ssh-keygen cannot read is left out with its error.
 */
int hostkeys_fingerprints(const char *root, char ***ret_fingerprints, char ***ret_public);

/*
 * Every ssh_host_*key* file of ROOT/etc/ssh (for `clean --image`): removed unless DRY_RUN; the
 * paths in *RET (may be NULL). Returns how many, or <0.
 */
int hostkeys_remove(const char *root, bool dry_run, char ***ret);
