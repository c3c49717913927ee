/* SPDX-License-Identifier: MIT */
/*
 * config.c: /etc/vagent/vagent.conf → struct config. Built-in defaults first, then the file:
 * INI sections ([metadata], [platform], [hostname], [ssh], [userdata], [network], [storage]),
 * "key = value" lines, '#' or ';' comments. A missing file is fine; anything malformed is one error naming the file,
 * the line and the reason, and the command stops with exit status 2. This file writes nothing.
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <strings.h>

#include "base/config.h"
#include "base/log.h"
#include "base/util.h"

#define CONFIG_MAX_SIZE (256U * 1024U)

int config_init(struct config *c)
{
	*c = (struct config){
		.deadline_usec = 20ULL * 1000000ULL,
		.busy_deadline_usec = 120ULL * 1000000ULL,
		.cache_deadline_usec = 2ULL * 1000000ULL,
		.late_backoff_initial_usec = 1ULL * 1000000ULL,
		.late_backoff_max_usec = 60ULL * 1000000ULL,
		.connect_timeout_usec = 2ULL * 1000000ULL,
		.request_timeout_usec = 5ULL * 1000000ULL,
		.backoff_initial_usec = 250ULL * 1000ULL,
		.backoff_max_usec = 4ULL * 1000000ULL,
		.max_document_size = 1ULL << 20,
		.max_userdata_size = 16ULL << 20,
		.platform_check = true,
		.hostname_policy = HOSTNAME_FIRST_BOOT,
		.sshkeys_policy = SSHKEYS_SYNC,
		.sshkeys_target = SSHKEYS_TARGET_BLOCK,
		.hostkeys_policy = HOSTKEYS_PER_INSTANCE,
		.rsa_host_key = RSA_HOST_KEY_AFTER_SSH,
		.userdata_enabled = true,
		.userdata_timeout_usec = 600ULL * 1000000ULL,
		.network_manage = NETWORK_MANAGE_AUTO,
		.storage_enabled = true,
		.grow_root = true,
		.grow_volumes = true,
		.fs_type = FS_EXT4,
		.min_size = 64ULL << 20,
		.require_zeros = true,
		.discard = false,
		.lock_timeout_usec = 300ULL * 1000000ULL,
		.verify_mode = VERIFY_AUTO,
		.verify_budget_usec = 120ULL * 1000000ULL,
	};
	c->metadata_url = strdup("http://169.254.169.254");
	/* Vultr shapes the vendor data by the request's headers; this is what cloud-init sends,
	 * so vagent gets the document cloud-init gets (its own User-Agent stays). */
	c->metadata_headers = calloc(2, sizeof(char *));
	if (c->metadata_headers)
		c->metadata_headers[0] = strdup(DEFAULT_METADATA_HEADER);
	if (!c->metadata_headers || !c->metadata_headers[0]) {
		config_done(c);
		return -ENOMEM;
	}
	c->ssh_user = strdup("root");
	c->ssh_user_groups = strdup(DEFAULT_USER_GROUPS);
	c->ssh_user_sudo = strdup(DEFAULT_USER_SUDO);
	c->ssh_user_shell = strdup("/bin/bash");
	c->mount_dir = strdup("/mnt");
	c->storage_devices = strdup("auto");
	if (!c->metadata_url || !c->ssh_user || !c->mount_dir || !c->storage_devices ||
	    !c->ssh_user_groups || !c->ssh_user_sudo || !c->ssh_user_shell) {
		config_done(c);
		return -ENOMEM;
	}
	return 0;
}

void config_done(struct config *c)
{
	free(c->metadata_url);
	free(c->ssh_user);
	free(c->ssh_user_groups);
	free(c->ssh_user_sudo);
	free(c->ssh_user_shell);
	c->ssh_user_groups = c->ssh_user_sudo = c->ssh_user_shell = NULL;
	free(c->mount_dir);
	free(c->storage_devices);
	strv_free(c->metadata_headers);
	c->metadata_headers = NULL;
	c->metadata_url = c->ssh_user = c->mount_dir = c->storage_devices = NULL;
}

const char *fs_type_to_string(enum fs_type t)
{
	return t == FS_XFS ? "xfs" : "ext4";
}

static const char *const hostname_policies[] = {
	[HOSTNAME_FIRST_BOOT] = "first-boot",
	[HOSTNAME_EVERY_BOOT] = "every-boot",
	[HOSTNAME_NEVER] = "never",
};
static const char *const sshkeys_policies[] = {
	[SSHKEYS_SYNC] = "sync",
	[SSHKEYS_ADD_ONLY] = "add-only",
};
static const char *const sshkeys_targets[] = {
	[SSHKEYS_TARGET_BLOCK] = "authorized_keys",
	[SSHKEYS_TARGET_FILE] = "authorized_keys.d",
};
static const char *const hostkeys_policies[] = {
	[HOSTKEYS_PER_INSTANCE] = "per-instance",
	[HOSTKEYS_KEEP] = "keep",
};
static const char *const rsa_host_keys[] = {
	[RSA_HOST_KEY_AFTER_SSH] = "after-ssh",
	[RSA_HOST_KEY_BEFORE_SSH] = "before-ssh",
};
static const char *const network_manages[] = {
	[NETWORK_MANAGE_AUTO] = "auto",
	[NETWORK_MANAGE_NETWORKD] = "networkd",
	[NETWORK_MANAGE_NO] = "no",
};
static const char *const fs_types[] = {
	[FS_EXT4] = "ext4",
	[FS_XFS] = "xfs",
};
static const char *const verify_modes[] = {
	[VERIFY_AUTO] = "auto",
	[VERIFY_FULL] = "full",
	[VERIFY_QUICK] = "quick",
};

const char *verify_mode_to_string(enum verify_mode m)
{
	return (size_t)m < ARRAY_SIZE(verify_modes) ? verify_modes[m] : "auto";
}


enum kind { K_HEADERS, K_STRING, K_URL, K_PATH, K_USER, K_DURATION, K_SIZE, K_BOOL, K_ENUM };

struct option_def {
	const char *section;
	const char *key;
	enum kind kind;
	size_t offset;
	const char *const *names; /* K_ENUM */
	size_t n_names;
};

#define O(f) offsetof(struct config, f)
#define E(t) t, ARRAY_SIZE(t)
static const struct option_def options[] = {
	{ "metadata", "url", K_URL, O(metadata_url), NULL, 0 },
	{ "metadata", "header", K_HEADERS, O(metadata_headers), NULL, 0 },
	{ "metadata", "deadline", K_DURATION, O(deadline_usec), NULL, 0 },
	{ "metadata", "busy-deadline", K_DURATION, O(busy_deadline_usec), NULL, 0 },
	{ "metadata", "cache-deadline", K_DURATION, O(cache_deadline_usec), NULL, 0 },
	{ "metadata", "connect-timeout", K_DURATION, O(connect_timeout_usec), NULL, 0 },
	{ "metadata", "request-timeout", K_DURATION, O(request_timeout_usec), NULL, 0 },
	{ "metadata", "backoff-initial", K_DURATION, O(backoff_initial_usec), NULL, 0 },
	{ "metadata", "backoff-max", K_DURATION, O(backoff_max_usec), NULL, 0 },
	{ "metadata", "max-document-size", K_SIZE, O(max_document_size), NULL, 0 },
	{ "metadata", "max-userdata-size", K_SIZE, O(max_userdata_size), NULL, 0 },
	{ "metadata", "late-backoff-initial", K_DURATION, O(late_backoff_initial_usec), NULL, 0 },
	{ "metadata", "late-backoff-max", K_DURATION, O(late_backoff_max_usec), NULL, 0 },
	{ "platform", "check", K_BOOL, O(platform_check), NULL, 0 },
	{ "hostname", "policy", K_ENUM, O(hostname_policy), E(hostname_policies) },
	{ "ssh", "user", K_USER, O(ssh_user), NULL, 0 },
	{ "ssh", "user-groups", K_STRING, O(ssh_user_groups), NULL, 0 },
	{ "ssh", "user-sudo", K_STRING, O(ssh_user_sudo), NULL, 0 },
	{ "ssh", "user-shell", K_PATH, O(ssh_user_shell), NULL, 0 },
	{ "ssh", "policy", K_ENUM, O(sshkeys_policy), E(sshkeys_policies) },
	{ "ssh", "target", K_ENUM, O(sshkeys_target), E(sshkeys_targets) },
	{ "ssh", "host-keys", K_ENUM, O(hostkeys_policy), E(hostkeys_policies) },
	{ "ssh", "rsa-host-key", K_ENUM, O(rsa_host_key), E(rsa_host_keys) },
	{ "userdata", "run", K_BOOL, O(userdata_enabled), NULL, 0 },
	{ "userdata", "timeout", K_DURATION, O(userdata_timeout_usec), NULL, 0 },
	{ "network", "manage", K_ENUM, O(network_manage), E(network_manages) },
	{ "storage", "enabled", K_BOOL, O(storage_enabled), NULL, 0 },
	{ "storage", "filesystem", K_ENUM, O(fs_type), E(fs_types) },
	{ "storage", "mount-dir", K_PATH, O(mount_dir), NULL, 0 },
	{ "storage", "min-size", K_SIZE, O(min_size), NULL, 0 },
	{ "storage", "require-zeros", K_BOOL, O(require_zeros), NULL, 0 },
	{ "storage", "discard", K_BOOL, O(discard), NULL, 0 },
	{ "storage", "lock-timeout", K_DURATION, O(lock_timeout_usec), NULL, 0 },
	{ "storage", "verify", K_ENUM, O(verify_mode), E(verify_modes) },
	{ "storage", "verify-budget", K_DURATION, O(verify_budget_usec), NULL, 0 },
	{ "storage", "devices", K_STRING, O(storage_devices), NULL, 0 },
	{ "grow", "root", K_BOOL, O(grow_root), NULL, 0 },
	{ "grow", "volumes", K_BOOL, O(grow_volumes), NULL, 0 },
};

static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int parse_bool(const char *v, bool *ret)
{
	if (streq(v, "yes") || streq(v, "true") || streq(v, "on") || streq(v, "1"))
		*ret = true;
	else if (streq(v, "no") || streq(v, "false") || streq(v, "off") || streq(v, "0"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

static bool valid_user(const char *v)
{
	/* Debian's useradd rule, roughly: [a-z_][a-z0-9_-]*[$]?, at most 32. */
	size_t n = strlen(v);

	if (n == 0 || n > 32 || !(islower((unsigned char)v[0]) || v[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!(islower(c) || isdigit(c) || c == '_' || c == '-' || (c == '$' && i == n - 1)))
			return false;
	}
	return true;
}

/* "Name: value": an HTTP token, a colon, a value; not one vagent sets itself. */
static bool header_ok(const char *v, const char **ret_reason)
{
	static const char *const own[] = { "user-agent", "host", "content-length", "accept-encoding",
					   "transfer-encoding", "connection" };
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : 0;

	if (!colon || n == 0) {
		*ret_reason = "not 'Name: value'";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)v[i]) || strchr("!#$%&'*+-.^_`|~", v[i]))) {
			*ret_reason = "not 'Name: value' (the name is not an HTTP token)";
			return false;
		}
	for (size_t i = 0; i < ARRAY_SIZE(own); i++)
		if (n == strlen(own[i]) && strncasecmp(v, own[i], n) == 0) {
			*ret_reason = "a header vagent sets itself";
			return false;
		}
	return true;
}

static int set_option(struct config *c, const struct option_def *d, const char *v,
		      const char **ret_reason)
{
	char *base = (char *)c;
	int r;

	switch (d->kind) {
	case K_HEADERS: {
		/* Repeatable: each line adds one (the file's first replaces the default);
		 * "none" sends none. */
		char ***l = (char ***)(base + d->offset);

		if (streq(v, "none"))
			return 0;
		if (!header_ok(v, ret_reason))
			return -EINVAL;
		return strv_push(l, strdup(v));
	}
	case K_URL:
		if (!startswith(v, "http://") && !startswith(v, "https://")) {
			*ret_reason = "must start with http:// or https://";
			return -EINVAL;
		}
		goto string;
	case K_PATH:
		if (v[0] != '/' || strstr(v, "/../") || strstr(v, "/./") ||
		    string_has_control(v, strlen(v), false)) {
			*ret_reason = "must be an absolute path without '.' or '..' components";
			return -EINVAL;
		}
		goto string;
	case K_USER:
		if (!valid_user(v)) {
			*ret_reason = "not a valid user name";
			return -EINVAL;
		}
		goto string;
	case K_STRING:
	string: {
		char **p = (char **)(base + d->offset);
		char *n = strdup(v);
		if (!n)
			return -ENOMEM;
		free(*p);
		*p = n;
		return 0;
	}
	case K_DURATION:
		r = parse_duration_usec(v, (uint64_t *)(base + d->offset));
		if (r < 0)
			*ret_reason = "not a duration (e.g. 20s, 500ms, 2min)";
		return r;
	case K_SIZE:
		r = parse_size(v, (uint64_t *)(base + d->offset));
		if (r < 0)
			*ret_reason = "not a size (e.g. 1M, 16MiB, 4096)";
		return r;
	case K_BOOL:
		r = parse_bool(v, (bool *)(base + d->offset));
		if (r < 0)
			*ret_reason = "not a boolean (yes/no)";
		return r;
	case K_ENUM:
		for (size_t i = 0; i < d->n_names; i++)
			if (d->names[i] && streq(d->names[i], v)) {
				*(int *)(base + d->offset) = (int)i;
				return 0;
			}
		*ret_reason = "not one of the allowed values";
		return -EINVAL;
	}
	return -EINVAL;
}

int config_load(struct config *c, const char *path, bool must_exist)
{
	_cleanup_free_ char *buf = NULL;
	char section[64] = "";
	bool headers_seen = false;
	unsigned line = 0;
	size_t len;
	char *p, *next;
	int r;

	/* The config file is the operator's choice: symlinks (/etc/alternatives style) are fine. */
	{
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			if (errno == ENOENT && !must_exist)
				return 0;
			return log_error_errno(errno, "Failed to open config file '%s': %m", path);
		}
		r = read_fd(fd, CONFIG_MAX_SIZE, &buf, &len);
		if (r == -EFBIG)
			return log_error_errno(r, "%s: larger than %u bytes", path, CONFIG_MAX_SIZE);
		if (r < 0)
			return log_error_errno(r, "Failed to read config file '%s': %m", path);
	}

	if (memchr(buf, 0, len))
		return log_error_errno(EINVAL, "%s: contains a NUL byte", path);

	for (p = buf; p && *p; p = next) {
		const struct option_def *d = NULL;
		const char *reason = NULL;
		char *eq, *key, *val, *s;

		line++;
		next = strchr(p, '\n');
		if (next)
			*next++ = 0;

		s = strip(p);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (string_has_control(s, strlen(s), true))
			return log_error_errno(EINVAL, "%s:%u: contains a control character", path,
					       line);
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e || e[1])
				return log_error_errno(EINVAL, "%s:%u: malformed section header",
						       path, line);
			*e = 0;
			s = strip(s + 1);
			bool known = false;
			for (size_t i = 0; i < ARRAY_SIZE(options); i++)
				if (streq(options[i].section, s))
					known = true;
			if (!known || strlen(s) >= sizeof(section))
				return log_error_errno(EINVAL, "%s:%u: unknown section '[%s]'", path,
						       line, s);
			strcpy(section, s);
			continue;
		}

		eq = strchr(s, '=');
		if (!eq)
			return log_error_errno(EINVAL, "%s:%u: expected 'key = value'", path, line);
		*eq = 0;
		key = strip(s);
		val = strip(eq + 1);
		if (!*section)
			return log_error_errno(EINVAL, "%s:%u: '%s' is outside any [section]",
					       path, line, key);
		for (size_t i = 0; i < ARRAY_SIZE(options); i++)
			if (streq(options[i].section, section) && streq(options[i].key, key))
				d = &options[i];
		if (!d)
			return log_error_errno(EINVAL, "%s:%u: unknown option '%s' in [%s]", path,
					       line, key, section);
		if (!*val)
			return log_error_errno(EINVAL, "%s:%u: '%s' has an empty value", path,
					       line, key);
		if (d->kind == K_HEADERS && !headers_seen) {
			headers_seen = true;
			strv_free(c->metadata_headers);
			c->metadata_headers = calloc(1, sizeof(char *));
			if (!c->metadata_headers)
				return log_error_errno(-ENOMEM, "Out of memory");
		}
		r = set_option(c, d, val, &reason);
		if (r == -ENOMEM)
			return log_error_errno(r, "Out of memory");
		if (r < 0)
			return log_error_errno(EINVAL, "%s:%u: '%s': value '%s' is %s", path, line,
					       key, val, reason ? reason : "invalid");
	}

	if (c->connect_timeout_usec == 0 || c->request_timeout_usec == 0 ||
	    c->deadline_usec == 0)
		return log_error_errno(EINVAL, "%s: timeouts and the deadline must be above zero",
				       path);
	return 0;
}

static void format_duration(uint64_t usec, char *buf, size_t n)
{
	if (usec % 60000000ULL == 0 && usec >= 60000000ULL)
		snprintf(buf, n, "%" PRIu64 "min", (uint64_t)(usec / 60000000ULL));
	else if (usec % 1000000ULL == 0)
		snprintf(buf, n, "%" PRIu64 "s", (uint64_t)(usec / 1000000ULL));
	else if (usec % 1000ULL == 0)
		snprintf(buf, n, "%" PRIu64 "ms", (uint64_t)(usec / 1000ULL));
	else
		snprintf(buf, n, "%" PRIu64 "us", usec);
}

static void format_size(uint64_t v, char *buf, size_t n)
{
	if (v && v % (1ULL << 30) == 0)
		snprintf(buf, n, "%" PRIu64 "G", v >> 30);
	else if (v && v % (1ULL << 20) == 0)
		snprintf(buf, n, "%" PRIu64 "M", v >> 20);
	else if (v && v % (1ULL << 10) == 0)
		snprintf(buf, n, "%" PRIu64 "K", v >> 10);
	else
		snprintf(buf, n, "%" PRIu64, v);
}

static const char *format_value(const struct config *c, const struct option_def *d, char *buf,
				size_t n)
{
	const char *base = (const char *)c;

	switch (d->kind) {
	case K_HEADERS:
		return ""; /* config_dump() prints one line each */
	case K_STRING:
	case K_URL:
	case K_PATH:
	case K_USER:
		return *(char *const *)(base + d->offset);
	case K_DURATION:
		format_duration(*(const uint64_t *)(base + d->offset), buf, n);
		return buf;
	case K_SIZE:
		format_size(*(const uint64_t *)(base + d->offset), buf, n);
		return buf;
	case K_BOOL:
		return *(const bool *)(base + d->offset) ? "yes" : "no";
	case K_ENUM:
		return d->names[*(const int *)(base + d->offset)];
	}
	return "";
}

void config_dump(const struct config *c, FILE *f)
{
	const char *section = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		const struct option_def *d = &options[i];
		char buf[64];

		if (!section || !streq(section, d->section)) {
			fprintf(f, "%s[%s]\n", section ? "\n" : "", d->section);
			section = d->section;
		}
		if (d->kind == K_HEADERS) {
			char *const *l = *(char **const *)((const char *)c + d->offset);

			if (!l || !l[0])
				fprintf(f, "%s = none\n", d->key);
			for (size_t k = 0; l && l[k]; k++)
				fprintf(f, "%s = %s\n", d->key, l[k]);
			continue;
		}
		fprintf(f, "%s = %s\n", d->key, format_value(c, d, buf, sizeof(buf)));
	}
}
