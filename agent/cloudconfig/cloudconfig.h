/* SPDX-License-Identifier: MIT */
/*
 * cloudconfig.h: a "#cloud-config" document turned into plain C: the subset of cloud-init's keys
 * vagent knows (enum cc_key; the table of readers is key_defs[] in cloudconfig.c; the system
 * keys of cc-types.h are read by cc-keys.c), each checked for its shape; every other key is
 * listed by name. A document is read in two steps: YAML -> a tree (cc-node.h: aliases expanded,
 * `<<` merge keys applied, each mapping key once, every value charged to the user data's
 * budget), then the tree -> struct cloud_config. The parts of a MIME archive are merged as
 * trees (cc_node_merge) before the second step, so the typed view is read once. cloudconfig.c
 * is the only libyaml user; nothing here does I/O or logs the document's content.
 *
 * Adding a key: its enum value here, its fields in struct cloud_config, a row in key_defs[]
 * (name, reader, what to free), and in cc-apply.c a row in key_fates[] saying who applies it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/macro.h"
#include "cloudconfig/cc-node.h"
#include "cloudconfig/cc-types.h"

/* Limits (with CC_MAX_DEPTH, CC_MAX_NODES and the budget in cc-node.h). */
#define CC_MAX_KEYS 1024 /* distinct top-level keys of a document, of all parts merged */
#define CC_MAX_ENTRIES                                                                             \
	1024		   /* entries of each list a module reads: users, write_files, keys,       \
			      commands, packages, mounts, groups, sudo rules */
#define CC_MAX_PROBLEMS 64 /* problem lines kept; the rest are counted in a last line */

enum cc_key {
	CC_HOSTNAME,
	CC_FQDN,
	CC_PRESERVE_HOSTNAME,
	CC_PREFER_FQDN_OVER_HOSTNAME,
	CC_MANAGE_ETC_HOSTS,
	CC_CREATE_HOSTNAME_FILE,
	CC_SSH_AUTHORIZED_KEYS,
	CC_USERS,
	CC_WRITE_FILES,
	CC_BOOTCMD,
	CC_RUNCMD,
	CC_PACKAGES,
	CC_PACKAGE_UPDATE,
	CC_PACKAGE_UPGRADE,
	CC_MOUNTS,
	CC_MOUNT_DEFAULT_FIELDS, /* read by cc-read-mounts.c, applied with mounts */
	CC_SWAP,
	CC_SSH_DELETEKEYS,  /* host keys: read by the host-keys step */
	CC_SSH_GENKEYTYPES,
	CC_SSH_KEYS,        /* host keys given in the user data: written by the host-keys step */
	CC_VENDOR_DATA,     /* {enabled: false}: read by the user-data step (from the user data) */
	CC_CHPASSWD,
	CC_PASSWORD,
	CC_SSH_PWAUTH,
	CC_DISABLE_ROOT,    /* read by the ssh-keys step */
	CC_DISK_SETUP, /* recognised, never executed: the storage step owns blank volumes */
	CC_FS_SETUP,
	CC_RESIZE_ROOTFS, /* recognised, never read: grow-root runs before the user data */
	CC_GROWPART,
	/* the system keys (cc-types.h, read by cc-keys.c) */
	CC_TIMEZONE,
	CC_LOCALE,
	CC_KEYBOARD,
	CC_NTP,
	CC_APT,
	CC_CA_CERTS,
	CC_RSYSLOG,
	CC_PACKAGE_REBOOT_IF_REQUIRED,
	CC_POWER_STATE,
	CC_FINAL_MESSAGE,
	/* cloud-init's deprecated spellings (cc-apply.c's aliases[]: the key each stands for) */
	CC_CA_CERTS_DASHED, /* "ca-certs": read as ca_certs, used only without ca_certs */
	CC_APT_UPDATE,      /* or'ed with package_update, as cloud-init does */
	CC_APT_UPGRADE,
	CC_APT_REBOOT_IF_REQUIRED,
	_CC_KEY_MAX,
};

const char *cc_key_to_string(enum cc_key k);

enum cc_encoding {
	CC_ENC_TEXT,
	CC_ENC_B64,
	CC_ENC_GZIP,
	CC_ENC_GZIP_B64,
};

/* One write_files entry. CONTENT is as written in the document (its encoding still to undo;
 * a !!binary scalar is already its bytes). */
struct cc_file {
	size_t index; /* in the document's list (entries cloud-init skips are left out) */
	char *path;   /* absolute and normalised, as os.path.abspath from / makes it */
	char *content;
	size_t content_len;
	enum cc_encoding encoding;
	char *owner;  /* "user[:group]"; NULL: root:root */
	mode_t mode;  /* default 0644 */
	bool append;
	bool defer;
	char *source_uri;      /* source: {uri, headers}: fetched over http(s), NULL: none */
	char **source_headers; /* "Name: value" (secret: may carry a token), NULL: none */
};

/* A bootcmd/runcmd entry is a struct cc_command (cc-types.h). */

/* One password to set. SECRET: PASSWORD is never logged, printed or written but to chpasswd. */
struct cc_password {
	char *user;
	char *password; /* a crypt(3) hash when HASHED, else the plain text */
	bool hashed;
};

/* cloud-init's reading of a "$1$", "$2a$", "$2y$", "$5$" or "$6$" crypt hash (its
 * cc_set_passwords regex): anything else in chpasswd's list form is a plain password. */
bool cc_password_is_hash(const char *p);

/* ssh_pwauth: true, false, or anything else ("unchanged", null): sshd is left alone. */
enum cc_pwauth {
	CC_PWAUTH_UNCHANGED,
	CC_PWAUTH_YES,
	CC_PWAUTH_NO,
};

/* The keys of a users entry, one bit each in struct cc_user.set. */
enum cc_user_field {
	CC_USER_GECOS,
	CC_USER_SHELL,
	CC_USER_HOMEDIR,
	CC_USER_PRIMARY_GROUP,
	CC_USER_UID,
	CC_USER_EXPIREDATE,
	CC_USER_INACTIVE,
	CC_USER_GROUPS,
	CC_USER_SUDO,
	CC_USER_LOCK_PASSWD,
	CC_USER_SYSTEM,
	CC_USER_NO_CREATE_HOME,
	CC_USER_NO_USER_GROUP,
	CC_USER_NO_LOG_INIT,
	CC_USER_CREATE_GROUPS,
	CC_USER_SSH_AUTHORIZED_KEYS,
	CC_USER_PASSWD,
	CC_USER_HASHED_PASSWD,
	CC_USER_PLAIN_TEXT_PASSWD,
	_CC_USER_FIELD_MAX,
};

/*
 * One users entry in cloud-init's normalized form (ug_util.normalize_users_groups): dashes in
 * key names read as underscores, the entries of one name merged into the first (the first
 * value of each key wins), a nameless entry named "default". "default" (IS_DEFAULT) is the
 * configured [ssh] user: cc-users.c merges it with the entry of that name and the [ssh]
 * default-user settings.
 */
struct cc_user {
	char *name;
	bool is_default;
	unsigned set; /* 1 << CC_USER_*: the keys the entry gives */
	char *gecos;
	char *shell;
	char *homedir;
	char *primary_group;
	char *uid;	  /* as given (digits are checked when it is used) */
	char *expiredate; /* useradd --expiredate: YYYY-MM-DD */
	char *inactive;	  /* useradd --inactive: days */
	char **groups;
	char **sudo; /* sudoers rules, NULL: none */
	bool lock_passwd;   /* default true */
	bool system;	    /* useradd --system, no home */
	bool no_create_home;
	bool no_user_group;
	bool no_log_init;
	bool create_groups; /* default true: missing groups are made */
	char **ssh_authorized_keys;
	char *passwd;            /* SECRET: a hash, for a user that does not exist yet */
	char *hashed_passwd;     /* SECRET */
	char *plain_text_passwd; /* SECRET */
};

/* An entry of NAME (taken) with cloud-init's defaults. */
void cc_user_init(struct cc_user *u, char *name);
void cc_user_done(struct cc_user *u);
/* What DST does not give is taken from SRC (moved out of it): cloud-init's mergemanydict, the
 * first source wins; groups are the union of both. -ENOMEM. */
int cc_user_merge(struct cc_user *dst, struct cc_user *src);
/* A deep copy of U into RET: -ENOMEM. */
int cc_user_copy(const struct cc_user *u, struct cc_user *ret);

/* One mounts entry: N_FIELDS (1..6) fstab fields as given, NULL for a YAML null; N_FIELDS 0:
 * an entry the reader dropped (it said why). */
struct cc_mount {
	char *field[6];
	size_t n_fields;
};

/* swap: a swap file (cloud-init's cc_mounts handle_swapcfg). SIZE 0 and not AUTO: none. */
struct cc_swap {
	char *filename; /* absolute; cloud-init's default "/swap.img" */
	uint64_t size;  /* bytes */
	bool size_auto; /* "auto": cloud-init's suggested_swapsize() */
	uint64_t maxsize; /* bytes, 0: none (only "auto" looks at it, as in cloud-init) */
};

/* A top-level key of the document, in document order: a known one (KEY) or not (_CC_KEY_MAX). */
struct cc_top {
	char *name;
	enum cc_key key;
};

struct cloud_config {
	bool has[_CC_KEY_MAX];     /* present with a valid shape */
	bool invalid[_CC_KEY_MAX]; /* present with a wrong shape: not applied */
	bool partial[_CC_KEY_MAX]; /* valid, but some entries or sub-keys were dropped or fell
				      back to a default (see why[]) */
	char *why[_CC_KEY_MAX];	   /* the first problem line of the key (invalid or partial) */
	unsigned n_why[_CC_KEY_MAX]; /* how many problems the key has */

	char *hostname;
	char *fqdn;
	bool preserve_hostname;
	bool prefer_fqdn_over_hostname; /* /etc/hostname gets the fqdn */
	bool manage_etc_hosts;		/* false: /etc/hosts untouched (true, "localhost",
					   "template": the 127.0.1.1 line) */
	bool create_hostname_file;	/* false: no /etc/hostname written (only with has[]) */
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
	char *mount_default_fields[6]; /* with has[CC_MOUNT_DEFAULT_FIELDS]; NULL: a YAML null */
	struct cc_swap swap;
	bool ssh_deletekeys;     /* cloud-init's default: true */
	char **ssh_genkeytypes;  /* "rsa" "ecdsa" "ed25519" (others are the step's to refuse) */
	/* ssh_keys: rsa, ecdsa, ed25519 in that order (base/hostkeys.h's enum); NULL: not given */
	char *ssh_keys_private[3]; /* SECRET */
	char *ssh_keys_public[3];
	bool vendor_data_enabled; /* vendor_data: {enabled: ...}; not a mapping: false */
	struct cc_password *chpasswd; /* chpasswd: list (either form) and users, in order */
	size_t n_chpasswd;
	bool chpasswd_expire;     /* cloud-init's default: true */
	size_t chpasswd_random;   /* entries asking for RANDOM (not supported: left out) */
	char *password;           /* SECRET: the default user's password */
	enum cc_pwauth ssh_pwauth;
	bool disable_root;

	/* the system keys (cc-types.h) */
	char *timezone;
	char *locale; /* NULL with has[CC_LOCALE]: "locale: false" */
	struct cc_keyboard keyboard;
	struct cc_ntp ntp;
	struct cc_apt apt;
	struct cc_ca_certs ca_certs;
	struct cc_ca_certs ca_certs_dashed; /* "ca-certs" */
	bool apt_update, apt_upgrade, apt_reboot_if_required; /* the deprecated spellings */
	struct cc_rsyslog rsyslog;
	bool package_reboot_if_required;
	struct cc_power power_state;
	char *final_message;

	struct cc_top *top; /* every top-level key, in document order, each once */
	size_t n_top;
	char **unknown;  /* the top-level keys vagent does not know, in document order */
	size_t n_unknown;
	char **problems; /* secret-free lines: "'runcmd' at line 5, column 3: expected a list";
			    past CC_MAX_PROBLEMS the last line counts the others */
	size_t n_problems;
	size_t problems_dropped;
};

/* Where and why a document is not YAML (1-based line and column). */
struct cc_error {
	unsigned line;
	unsigned column;
	char problem[160];
};

/*
 * Read TEXT (LEN bytes, the "#cloud-config" line included or not) into a tree charged to B:
 * only the first YAML document is read (*RET_MORE_DOCUMENTS, when not NULL, says whether
 * another follows). *RET_ROOT is NULL for an empty document. Returns 0; -EBADMSG when TEXT is
 * not YAML (ERR says where and why: libyaml's reason, an undefined or recursive alias, a bad
 * merge key); -E2BIG when it passes a limit: nesting deeper than CC_MAX_DEPTH, more than
 * CC_MAX_KEYS top-level keys, B's values, bytes or work (ERR->problem names the limit);
 * -ENOMEM.
 */
int cloud_config_load(const char *text, size_t len, struct cc_budget *b, struct cc_node **ret_root,
		      bool *ret_more_documents, struct cc_error *err);

/*
 * The typed view of a tree: ROOT must be a mapping (or NULL: an empty config), else -EBADMSG
 * with ERR. -E2BIG when B runs out (ERR->problem says why), -ENOMEM. A known key of the wrong
 * shape is not an error: it is marked invalid with a problem.
 */
int cloud_config_from_tree(const struct cc_node *root, struct cc_budget *b,
			   struct cloud_config **ret, struct cc_error *err);

/* Both steps, charged to B. A second YAML document in TEXT is an error (-EBADMSG): cloud-init
 * reads such a document as no cloud-config at all (PyYAML's safe_load refuses it). */
int cloud_config_parse_budget(const char *text, size_t len, struct cc_budget *b,
			      struct cloud_config **ret, struct cc_error *err);
/* The error a second YAML document is (ERR filled): -EBADMSG. */
int cloud_config_more_documents_error(struct cc_error *err);
/* Both steps with a budget of their own (cc_budget_init(LEN)). */
int cloud_config_parse(const char *text, size_t len, struct cloud_config **ret,
		       struct cc_error *err);

/* How many known keys are present (valid or not). */
size_t cloud_config_n_keys(const struct cloud_config *cc);

void cloud_config_free(struct cloud_config *cc);

/*
 * For the key readers only (cloudconfig.c, cc-keys.c, cc-read-users.c): the walk over a tree (opaque) and its
 * helpers. A helper that finds a wrong shape records a problem line ("'KEY' at line L, column
 * C: WHAT": names and positions, never values) and returns -EINVAL: the key is kept out.
 * -E2BIG when the budget runs out, -ENOMEM.
 */
struct walk;
int add_problem(struct walk *w, const struct cc_node *n, const char *fmt, ...) _printf_(3, 4);
/* An unsupported sub-key K: one problem line per name (counted), the key marked partial. 0. */
int ignore_subkey(struct walk *w, const struct cc_node *k);
int touch(struct walk *w);
int node_bool(struct walk *w, const struct cc_node *n, const char *what, bool *ret);
int node_string(struct walk *w, const struct cc_node *n, const char *what, char **ret);
int node_strv(struct walk *w, const struct cc_node *n, const char *what, bool split, char ***ret);
int check_entries(struct walk *w, const struct cc_node *n, size_t count);
/* One command: a string (sh -c) or a list of strings (argv). */
int node_command(struct walk *w, const struct cc_node *n, struct cc_command *ret);
void command_done(struct cc_command *c);

/* cc-read-mounts.c: mounts, mount_default_fields and swap (readers and what frees them). */
int cc_read_mounts(struct walk *w, const struct cc_node *v, struct cloud_config *cc);
void cc_clear_mounts(struct cloud_config *cc);
int cc_read_mount_default_fields(struct walk *w, const struct cc_node *v, struct cloud_config *cc);
void cc_clear_mount_default_fields(struct cloud_config *cc);
int cc_read_swap(struct walk *w, const struct cc_node *v, struct cloud_config *cc);
void cc_clear_swap(struct cloud_config *cc);
/* cloud-init's util.human2bytes(): "1.5G", "512M", "10MiB", "4096" (K/M/G/T are powers of
 * 1024, a B or iB suffix is dropped). 0 and *RET, or -EINVAL (negative, not a number, too big). */
int cc_human2bytes(const char *s, uint64_t *ret);

/* cc-keys.c: read, free and move the system keys (K one of CC_TIMEZONE..CC_FINAL_MESSAGE). */
bool cc_keys_is_system(enum cc_key k);
int cc_keys_read(struct walk *w, enum cc_key k, const struct cc_node *v, struct cloud_config *cc);
void cc_keys_clear(struct cloud_config *cc, enum cc_key k);
void cc_keys_move(struct cloud_config *dst, struct cloud_config *src, enum cc_key k);
/* cc-read-users.c: the users key, read and freed. */
int cc_users_read(struct walk *w, const struct cc_node *v, struct cloud_config *cc);
void cc_users_clear(struct cloud_config *cc);
/* A problem the key survives (an entry or sub-key dropped, a default used): partial. 0. */
int note(struct walk *w, const struct cc_node *n, const char *fmt, ...) _printf_(3, 4);
/* write_files' "source: {uri, headers}" into F. */
int cc_keys_read_source(struct walk *w, const struct cc_node *v, struct cc_file *f);
static inline void cloud_config_freep(struct cloud_config **cc)
{
	cloud_config_free(*cc);
}
