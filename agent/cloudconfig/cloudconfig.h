/* SPDX-License-Identifier: MIT */
/*
 * cloudconfig.h: a "#cloud-config" document turned into plain C: the subset of cloud-init's keys
 * vagent supports (hostname, fqdn, preserve_hostname, ssh_authorized_keys, users, write_files,
 * bootcmd, runcmd, packages, package_update, package_upgrade, mounts; disk_setup and fs_setup
 * noted only), each checked for its shape; every other key is listed by name. cloudconfig.c is
 * the only libyaml user; nothing here does I/O or logs the document's content.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum cc_key {
	CC_HOSTNAME,
	CC_FQDN,
	CC_PRESERVE_HOSTNAME,
	CC_SSH_AUTHORIZED_KEYS,
	CC_USERS,
	CC_WRITE_FILES,
	CC_BOOTCMD,
	CC_RUNCMD,
	CC_PACKAGES,
	CC_PACKAGE_UPDATE,
	CC_PACKAGE_UPGRADE,
	CC_MOUNTS,
	CC_DISK_SETUP, /* recognised, never executed: the storage step owns blank volumes */
	CC_FS_SETUP,
	_CC_KEY_MAX,
};

const char *cc_key_to_string(enum cc_key k);

enum cc_encoding {
	CC_ENC_TEXT,
	CC_ENC_B64,
	CC_ENC_GZIP,
	CC_ENC_GZIP_B64,
};

/* One write_files entry. CONTENT is as written in the document (still encoded). */
struct cc_file {
	char *path;
	char *content;
	size_t content_len;
	enum cc_encoding encoding;
	char *owner; /* "user[:group]"; NULL: root:root */
	mode_t mode; /* default 0644 */
	bool append;
	bool defer;
};

/* One bootcmd/runcmd entry: SHELL ("sh -c SHELL") or ARGV (run directly). */
struct cc_command {
	char *shell;
	char **argv;
};

/* One users entry; IS_DEFAULT for "default" (NAME is then NULL). */
struct cc_user {
	char *name;
	bool is_default;
	char *gecos;
	char *shell;
	char **groups;
	char **sudo; /* sudoers rules, NULL: none */
	bool lock_passwd;
	char **ssh_authorized_keys;
};

/* One mounts entry: N_FIELDS (2..6) fstab fields as given, NULL for a YAML null. */
struct cc_mount {
	char *field[6];
	size_t n_fields;
};

struct cloud_config {
	bool has[_CC_KEY_MAX];     /* present with a valid shape */
	bool invalid[_CC_KEY_MAX]; /* present with a wrong shape: not applied */

	char *hostname;
	char *fqdn;
	bool preserve_hostname;
	char **ssh_authorized_keys;
	struct cc_user *users;
	size_t n_users;
	struct cc_file *files;
	size_t n_files;
	struct cc_command *bootcmd;
	size_t n_bootcmd;
	struct cc_command *runcmd;
	size_t n_runcmd;
	char **packages; /* "name" or "name=version" */
	bool package_update;
	bool package_upgrade;
	struct cc_mount *mounts;
	size_t n_mounts;

	char **unknown;  /* other top-level keys, in document order, no duplicates */
	char **problems; /* secret-free lines: "'runcmd' at line 5, column 3: expected a list" */
};

/* Where and why a document is not YAML (1-based line and column). */
struct cc_error {
	unsigned line;
	unsigned column;
	char problem[160];
};

/*
 * Parse TEXT (LEN bytes, the "#cloud-config" line included or not). An empty document gives an
 * empty config. Returns 0 and *RET, -EBADMSG when TEXT is not YAML or its top level is not a
 * mapping (ERR says where and why), -E2BIG when aliases would expand it beyond a sane size,
 * -ENOMEM. A known key of the wrong shape is not an error: it is marked invalid with a problem.
 */
int cloud_config_parse(const char *text, size_t len, struct cloud_config **ret,
		       struct cc_error *err);

/* Merge SRC into DST the way cloud-init merges parts by default: a key present in SRC replaces
 * DST's; unknown keys and problems are appended. SRC is left empty. */
int cloud_config_merge(struct cloud_config *dst, struct cloud_config *src);

/* How many known keys are present (valid or not). */
size_t cloud_config_n_keys(const struct cloud_config *cc);

void cloud_config_free(struct cloud_config *cc);
static inline void cloud_config_freep(struct cloud_config **cc)
{
	cloud_config_free(*cc);
}
