/* SPDX-License-Identifier: MIT */
/*
 * config.h: /etc/vagent/vagent.conf parsed into struct config, with built-in defaults so the
 * binary runs without the file. Format: INI sections, "key = value", '#' comments.
 */
#pragma once

/* Debian's default user in cloud-init (config/cloud.cfg.tmpl). */
#define DEFAULT_USER_GROUPS "adm,audio,cdrom,dialout,dip,floppy,netdev,plugdev,sudo,video"
#define DEFAULT_USER_SUDO "ALL=(ALL) NOPASSWD:ALL"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum hostname_policy {
	HOSTNAME_FIRST_BOOT, /* apply on an instance's first boot only (default) */
	HOSTNAME_EVERY_BOOT,
	HOSTNAME_NEVER,
};

enum sshkeys_policy {
	SSHKEYS_SYNC, /* vagent's block mirrors the metadata: revoked keys go (default) */
	SSHKEYS_ADD_ONLY,
};

enum sshkeys_target {
	SSHKEYS_TARGET_BLOCK, /* a marked block inside ~/.ssh/authorized_keys (default) */
	SSHKEYS_TARGET_FILE,  /* ~/.ssh/authorized_keys.d/vagent */
};

enum hostkeys_policy {
	HOSTKEYS_PER_INSTANCE, /* new host keys on an instance's first boot (default) */
	HOSTKEYS_KEEP,         /* never replace existing keys (missing types are still made) */
};

enum rsa_host_key {
	/* a missing RSA key is made by vagent-hostkeys.service, after ssh.service has started
	 * with the other types (default: RSA 3072 takes seconds on a slow CPU) */
	RSA_HOST_KEY_AFTER_SSH,
	RSA_HOST_KEY_BEFORE_SSH, /* with the other types, before ssh.service */
};

enum network_manage {
	NETWORK_MANAGE_AUTO,     /* networkd when systemd-networkd is enabled (default) */
	NETWORK_MANAGE_NETWORKD, /* always write the systemd-networkd files */
	NETWORK_MANAGE_NO,       /* leave the network alone */
};

enum fs_type {
	FS_EXT4,
	FS_XFS,
};

enum verify_mode {
	VERIFY_AUTO,  /* full when it fits the budget, else quick (default) */
	VERIFY_FULL,  /* read every byte */
	VERIFY_QUICK, /* the structured scan */
};

#define DEFAULT_METADATA_HEADER "Metadata-Token: cloudinit"

struct config {
	/* [metadata] */
	char *metadata_url;          /* url, default http://169.254.169.254 */
	uint64_t deadline_usec;      /* deadline: overall, all tries, default 20 s */
	/* busy-deadline: a first boot (no cache) while the service answers 429/503, default 2 min */
	uint64_t busy_deadline_usec;
	/* cache-deadline: with a cached document, the boot's try before the cache, default 2 s */
	uint64_t cache_deadline_usec;
	uint64_t connect_timeout_usec; /* connect-timeout: per try, default 2 s */
	uint64_t request_timeout_usec; /* request-timeout: per try, whole transfer, default 5 s */
	uint64_t backoff_initial_usec; /* backoff-initial: default 250 ms */
	uint64_t backoff_max_usec;   /* backoff-max: default 4 s */
	uint64_t max_document_size;  /* max-document-size: default 1 MiB */
	uint64_t max_userdata_size;  /* max-userdata-size: default 16 MiB */
	/* late-backoff-initial, late-backoff-max: the late path's (`vagent late`) backoff,
	 * default 1 s doubling to 1 min */
	uint64_t late_backoff_initial_usec;
	uint64_t late_backoff_max_usec;
	char **metadata_headers;     /* header (repeatable): "Name: value" request headers,
				      * default "Metadata-Token: cloudinit"; never NULL */

	/* [platform] */
	bool platform_check; /* check, default yes: act only on a Vultr-style platform */

	/* [hostname] */
	enum hostname_policy hostname_policy; /* policy */

	/* [ssh] */
	char *ssh_user;                     /* user, default root */
	/* user-groups, user-sudo, user-shell: what a cloud-config "default" user gets when the
	 * [ssh] user is not root (cloud-init's Debian default_user); "none": no groups, no rule */
	char *ssh_user_groups;
	char *ssh_user_sudo;
	char *ssh_user_shell;
	enum sshkeys_policy sshkeys_policy; /* policy */
	enum sshkeys_target sshkeys_target; /* target */
	enum hostkeys_policy hostkeys_policy; /* host-keys, default per-instance */
	enum rsa_host_key rsa_host_key;       /* rsa-host-key, default after-ssh */

	/* [userdata] */
	bool userdata_enabled;         /* run, default yes */
	uint64_t userdata_timeout_usec; /* timeout, default 10 min */

	/* [network] */
	enum network_manage network_manage; /* manage, default auto */

	/* [storage] */
	bool storage_enabled;      /* enabled, default yes */
	enum fs_type fs_type;      /* filesystem, default ext4 */
	char *mount_dir;           /* mount-dir, default /mnt */
	uint64_t min_size;         /* min-size, default 64 MiB */
	bool require_zeros;        /* require-zeros, default yes */
	bool discard;              /* discard at mkfs time, default no */
	uint64_t lock_timeout_usec; /* lock-timeout, default 5 min (outwaits a scan) */
	enum verify_mode verify_mode; /* verify, default auto */
	uint64_t verify_budget_usec;  /* verify-budget: what auto may spend on a full read */
	char *storage_devices;        /* devices: "auto", "none" or globs (by-id or kernel names) */

	/* [grow] */
	bool grow_root;            /* root, default yes: grow / into its disk every boot */
	bool grow_volumes;         /* volumes, default yes: own volumes grow with their disk */
};

/* Fill in the defaults (allocates). */
int config_init(struct config *c);
void config_done(struct config *c);

/*
 * Load PATH over the defaults. Missing file: 0 when !MUST_EXIST. A malformed file logs
 * "PATH:LINE: reason" once and returns -EINVAL.
 */
int config_load(struct config *c, const char *path, bool must_exist);

/* Print the configuration in the file's own format (tests compare it with conf/vagent.conf). */
void config_dump(const struct config *c, FILE *f);

const char *fs_type_to_string(enum fs_type t);
/* "auto" "full" "quick" */
const char *verify_mode_to_string(enum verify_mode m);

