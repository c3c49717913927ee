/* SPDX-License-Identifier: MIT */
/*
 * cc-types.h: the typed values of the system keys of a cloud-config (timezone, locale,
 * keyboard, ntp, apt, ca_certs, rsyslog, power_state, final_message,
 * package_reboot_if_required), as cc-keys.c reads them from the tree and the modules
 * (cc-system.c, cc-ntp.c, cc-apt.c, cc-certs.c, cc-rsyslog.c, cc-power.c) act on them. Plain C
 * strings, already checked for their shape; what a value means on the system (a zone file that
 * exists, a remote's syntax) is the module's check. Part of struct cloud_config
 * (cloudconfig.h); no functions here.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One command: SHELL (a line as written) or ARGV (words). A bootcmd/runcmd list runs as one
 * /bin/sh script, strings as lines and lists as quoted words (cc_shellify(), cloud-init's
 * shellify); a single command (power_state condition) runs as "sh -c SHELL" or directly. */
struct cc_command {
	char *shell;
	char **argv;
};

struct cc_keyboard {
	char *layout; /* required */
	char *model;  /* NULL: "pc105", cloud-init's default */
	char *variant;
	char *options;
};

struct cc_ntp {
	bool enabled;	/* "enabled: false" turns the module off */
	char **servers; /* NULL: none */
	char **pools;
};

/* One apt primary/security mirror entry. */
struct cc_apt_mirror {
	char **arches; /* dpkg architectures, "default" included */
	char *uri;     /* NULL: none (search/search_dns are not supported) */
	char *key;     /* an ASCII-armored public key block, NULL: none */
};

/* One apt "sources" entry, NAME its mapping key. */
struct cc_apt_source {
	char *name;
	char *source;	/* one "deb ..." line with $MIRROR, $RELEASE...; NULL: a key only */
	char *key;	/* ASCII-armored public key block, NULL: none */
	char *filename; /* NULL: NAME */
	bool append;	/* default true: the line is added to the file */
	bool keyid;	/* a keyid without a key (a keyserver lookup, not supported) */
};

enum cc_apt_proxy {
	CC_APT_PROXY,
	CC_APT_HTTP_PROXY,
	CC_APT_HTTPS_PROXY,
	CC_APT_FTP_PROXY,
	_CC_APT_PROXY_MAX,
};

struct cc_apt {
	char *proxy[_CC_APT_PROXY_MAX]; /* secret: may carry credentials */
	char *conf;			/* apt.conf text */
	struct cc_apt_mirror *primary, *security;
	size_t n_primary, n_security;
	bool has_primary, has_security;
	bool preserve_sources_list;
	struct cc_apt_source *sources;
	size_t n_sources;
};

struct cc_ca_certs {
	bool remove_defaults;
	char **trusted; /* PEM certificates */
};

struct cc_rsyslog_config {
	char *content;
	char *filename; /* NULL: the default file name */
};

struct cc_rsyslog {
	char *config_dir;      /* NULL: /etc/rsyslog.d */
	char *config_filename; /* NULL: 20-cloud-config.conf */
	struct cc_rsyslog_config *configs;
	size_t n_configs;
	char **remote_names; /* REMOTE_NAMES[i] -> REMOTE_LINES[i] */
	char **remote_lines;
	size_t n_remotes;
	bool reload_custom; /* service_reload_command given: RELOAD, else "auto" */
	struct cc_command reload;
};

enum cc_power_mode {
	CC_POWER_POWEROFF,
	CC_POWER_REBOOT,
	CC_POWER_HALT,
};

enum cc_power_condition {
	CC_POWER_COND_TRUE,
	CC_POWER_COND_FALSE,
	CC_POWER_COND_COMMAND, /* COMMAND exits 0: go; 1: no; other: no, with a warning */
};

struct cc_power {
	enum cc_power_mode mode;
	char *delay;		/* shutdown's TIME: "now" or "+N" (minutes) */
	char *message;		/* NULL: none */
	uint64_t timeout_usec;	/* how long to wait for vagent to finish, default 30 s */
	enum cc_power_condition condition;
	struct cc_command command;
};

/*
 * What the step layer lends the cloud-config pass: cloudconfig/ is layer 1 beside metadata/ and
 * may not include its HTTP client, so the step that runs the pass hands a fetch function over.
 */
struct cc_host {
	/* GET URL (http or https) with HEADERS ("Name: value", NULL-terminated, may be NULL),
	 * the body at most MAX bytes, no redirect followed, bounded in time. 0 with *RET (its
	 * length *RET_LEN) on a 2xx answer; <0 otherwise, logged once without the URL's query,
	 * credentials or the headers. NULL: no fetching (write_files source: falls back). */
	int (*fetch)(void *userdata, const char *url, char *const *headers, size_t max,
		     char **ret, size_t *ret_len);
	void *userdata;
	const char *datasource; /* final_message's {{datasource}}, NULL: "vultr" */
	/* the metadata's SSH keys (NULL: none), written by the users module for an [ssh] user
	 * it makes (the ssh-keys step ran before the user existed) */
	char *const *public_keys;
};
