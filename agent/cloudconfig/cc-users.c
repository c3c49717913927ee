/* SPDX-License-Identifier: MIT */
/*
 * cc-users.c: cloud-config users. Accounts are created by shadow-utils from an argv
 * ("useradd --root ROOT ..." under --root), which edits etc/passwd, etc/group and etc/shadow with
 * its own locking and atomic replacement; missing supplementary groups are created with
 * groupadd the same way. An existing user is not modified (as in cloud-init) beyond its
 * password lock, sudo rule and keys. sudo rules go to etc/sudoers.d/90-vagent-<user> (0440,
 * atomic, no symlink followed), checked with visudo when it is installed. Keys go through
 * sshkeys_apply() into the user's own managed block; the "default" user is the configured [ssh]
 * user, whose cloud-config keys the ssh-keys step merges with the metadata's. Also the passwd
 * and group lookups write_files needs.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/authkeys.h"
#include "base/passwd.h"
#include "base/state.h"
#include "base/util.h"

#define ACCOUNTS_MAX (16U << 20)
#define SUDOERS_DIR "/etc/sudoers.d"

/* What useradd accepts on Debian, minus the odd corners: [a-z_][a-z0-9_.-]*[$]?, <= 32. */
static bool account_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '-' || ch == '.' || (ch == '$' && i == n - 1)))
			return false;
	}
	return true;
}

static bool field_ok(const char *s)
{
	return !strchr(s, ':') && !string_has_control(s, strlen(s), false);
}

/* argv for shadow-utils: PROGRAM [--root ROOT] ARGS... */
static int shadow_argv(const struct cc_run *c, const char *program, char ***ret)
{
	int r = strv_push(ret, strdup(program));

	if (r >= 0 && !root_is_host(c->root)) {
		r = strv_push(ret, strdup("--root"));
		if (r >= 0)
			r = strv_push(ret, strdup(c->root));
	}
	return r;
}

static int push2(char ***l, const char *a, const char *b)
{
	int r = strv_push(l, strdup(a));
	return r < 0 ? r : strv_push(l, strdup(b));
}

static int ensure_group(const struct cc_run *c, const char *user, const char *group,
			char ***planned)
{
	_cleanup_strv_free_ char **argv = NULL;
	gid_t gid;
	int r;

	if (!account_name_ok(group))
		return log_error_errno(-EINVAL, "cloud-config users '%s': group '%s' is not a valid "
						"group name.", user, group);
	if (passwd_resolve_group(c->root, group, &gid) >= 0)
		return 0;
	if (c->dry_run) {
		/* Once per group in the plan, however many users name it. */
		if (strv_contains(*planned, group))
			return 1;
		cc_plan(c, "%-20s would create group '%s'", "users", group);
		return strv_push(planned, strdup(group)) < 0 ? -ENOMEM : 1;
	}
	r = shadow_argv(c, "groupadd", &argv);
	if (r >= 0)
		r = strv_push(&argv, strdup(group));
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	r = cc_spawn(c, "groupadd", argv, NULL);
	if (r < 0)
		return log_error_errno(r, "cloud-config users: failed to create group '%s'.", group);
	log_notice("cloud-config users: created group '%s'.", group);
	return 1;
}

static int create_user(const struct cc_run *c, const struct cc_user *u, char ***planned)
{
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *groups = NULL;
	gid_t gid;
	int r;

	for (size_t i = 0; u->groups && u->groups[i]; i++) {
		char *g;

		r = ensure_group(c, u->name, u->groups[i], planned);
		if (r < 0)
			return r;
		if (asprintf(&g, "%s%s%s", groups ? groups : "", groups ? "," : "",
			     u->groups[i]) < 0)
			return log_error_errno(-ENOMEM, "Out of memory.");
		free(groups);
		groups = g;
	}
	if (c->dry_run) {
		cc_plan(c, "%-20s would create user '%s' (home, %zu supplementary group%s)", "users",
			u->name, strv_length(u->groups), strv_length(u->groups) == 1 ? "" : "s");
		return 1;
	}

	r = shadow_argv(c, "useradd", &argv);
	if (r >= 0)
		r = strv_push(&argv, strdup("--create-home"));
	if (r >= 0 && u->gecos)
		r = push2(&argv, "--comment", u->gecos);
	if (r >= 0 && u->shell)
		r = push2(&argv, "--shell", u->shell);
	if (r >= 0 && groups)
		r = push2(&argv, "--groups", groups);
	/* A group of the user's name may exist already: then it is the primary group. */
	if (r >= 0 && passwd_resolve_group(c->root, u->name, &gid) >= 0)
		r = push2(&argv, "--gid", u->name);
	else if (r >= 0)
		r = strv_push(&argv, strdup("--user-group"));
	if (r >= 0)
		r = strv_push(&argv, strdup(u->name));
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	r = cc_spawn(c, "useradd", argv, NULL);
	if (r < 0)
		return log_error_errno(r, "cloud-config users: failed to create user '%s'.", u->name);
	log_notice("cloud-config users: created user '%s'.", u->name);
	return 1;
}

static int lock_password(const struct cc_run *c, const struct cc_user *u)
{
	_cleanup_strv_free_ char **argv = NULL;
	int r;

	if (c->dry_run) {
		cc_plan(c, "%-20s would lock the password of '%s'", "users", u->name);
		return 1;
	}
	r = shadow_argv(c, "usermod", &argv);
	if (r >= 0)
		r = strv_push(&argv, strdup("--lock"));
	if (r >= 0)
		r = strv_push(&argv, strdup(u->name));
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	r = cc_spawn(c, "usermod --lock", argv, NULL);
	if (r < 0)
		return log_error_errno(r, "cloud-config users: failed to lock the password of '%s'.",
				       u->name);
	return 1;
}

/*
 * sudoers.d/90-vagent-NAME with NAME escaped one-to-one (sudo skips file names with a dot):
 * "_" → "__", "." → "_d", "$" → "_s", so users "a.b" and "a_b" never share a file.
 */
static char *sudoers_file_name(const char *user)
{
	char *s = malloc(strlen("90-vagent-") + 2 * strlen(user) + 1), *w;

	if (!s)
		return NULL;
	w = stpcpy(s, "90-vagent-");
	for (const char *p = user; *p; p++) {
		if (*p == '_' || *p == '.' || *p == '$') {
			*w++ = '_';
			*w++ = *p == '_' ? '_' : *p == '.' ? 'd' : 's';
		} else
			*w++ = *p;
	}
	*w = 0;
	return s;
}

/* visudo -c on a copy in the instance state, read through our fd. -ENOENT: no visudo. */
static int sudo_check(const struct cc_run *c, const char *text, size_t len)
{
	static const char *const visudo[] = { "/usr/sbin/visudo", "/sbin/visudo" };
	_cleanup_close_ int dfd = -1, checkfd = -1;
	const char *prog = NULL;
	int r, k;

	for (size_t i = 0; i < ARRAY_SIZE(visudo); i++)
		if (access(visudo[i], X_OK) == 0)
			prog = visudo[i];
	if (!prog)
		return -ENOENT;
	dfd = state_instance_open(c->root, c->id, true);
	if (dfd < 0)
		return dfd;
	r = write_file_atomic_at(dfd, "sudoers.check", text, len, 0600, (uid_t)-1, (gid_t)-1);
	if (r < 0)
		return r;
	/* visudo reads the copy through our fd (/proc/self/fd/N), not a path. */
	checkfd = openat_trusted(dfd, "sudoers.check");
	(void)unlinkat(dfd, "sudoers.check", 0);
	if (checkfd < 0)
		return checkfd;
	char *argv[] = { (char *)prog, "-c", "-q", "-f", "/dev/stdin", NULL };
	k = cc_spawn_stdin(c, "visudo -c", argv, checkfd);
	return k < 0 ? -EBADMSG : 0;
}

static int write_sudo(const struct cc_run *c, const struct cc_user *u)
{
	_cleanup_free_ char *text = NULL, *name = NULL;
	_cleanup_close_ int dfd = -1;
	size_t len = 0;
	FILE *f;
	int r;

	for (size_t i = 0; u->sudo[i]; i++) {
		const char *rule = u->sudo[i];
		size_t n = strlen(rule);

		if (n == 0 || string_has_control(rule, n, true) || rule[n - 1] == '\\')
			return log_error_errno(-EINVAL, "cloud-config users '%s': sudo rule %zu is "
					       "empty, has a control character or ends in a line "
					       "continuation, refusing.", u->name, i);
	}
	name = sudoers_file_name(u->name);
	if (!name)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (c->dry_run) {
		cc_plan(c, "%-20s would write %s/%s (0440, %zu rule%s)", "users", SUDOERS_DIR, name,
			strv_length(u->sudo), strv_length(u->sudo) == 1 ? "" : "s");
		return 1;
	}

	f = open_memstream(&text, &len);
	if (!f)
		return log_error_errno(-ENOMEM, "Out of memory.");
	fprintf(f, "# Written by vagent from the cloud-config of instance %s.\n", c->id);
	for (size_t i = 0; u->sudo[i]; i++)
		fprintf(f, "%s %s\n", u->name, u->sudo[i]);
	if (fclose(f) != 0)
		return log_error_errno(-ENOMEM, "Out of memory.");

	/* A rule that cannot be checked is not installed: a broken sudoers.d file breaks sudo for
	 * every user of the machine. */
	r = sudo_check(c, text, len);
	if (r == -EBADMSG)
		return log_error_errno(r, "cloud-config users '%s': visudo rejects the sudo rule, "
					  "not installed.", u->name);
	if (r == -ENOENT)
		return log_error_errno(r, "cloud-config users '%s': visudo is not installed, so the "
					  "sudo rule cannot be checked; not installed.", u->name);
	if (r < 0)
		return log_error_errno(r, "cloud-config users '%s': the sudo rule could not be "
					  "checked with visudo (%m); not installed.", u->name);

	dfd = path_open_dir(c->root, SUDOERS_DIR, true, 0750);
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to open '%s' (a symlink is refused): %m",
				       SUDOERS_DIR);
	r = write_file_atomic_at(dfd, name, text, len, 0440, 0, 0);
	if (r < 0)
		return log_error_errno(r, "Failed to write '%s/%s': %m", SUDOERS_DIR, name);
	log_notice("cloud-config users: wrote '%s/%s' for '%s'.", SUDOERS_DIR, name, u->name);
	return 1;
}

static int user_keys(const struct cc_run *c, const struct cc_user *u, size_t index)
{
	_cleanup_strv_free_ char **keys = NULL;
	_cleanup_free_ char *m = NULL;
	int r;

	for (size_t i = 0; u->ssh_authorized_keys[i]; i++) {
		const char *reason;

		if (sshkey_validate_flags(u->ssh_authorized_keys[i], SSHKEY_OPTIONS_OK, &reason) <
		    0) {
			log_warning("User-data cloud-config users[%zu].ssh_authorized_keys[%zu]: %s, "
				    "ignoring.", index, i, reason);
			continue;
		}
		r = strv_push(&keys, strdup(u->ssh_authorized_keys[i]));
		if (r < 0)
			return log_error_errno(r, "Out of memory.");
	}
	if (!keys)
		return 0;
	r = sshkeys_apply_from(c->root, u->name, NULL, keys, c->cfg->sshkeys_policy,
			       c->cfg->sshkeys_target, c->dry_run, &m);
	if (c->dry_run)
		cc_plan(c, "%-20s keys of '%s': %s", "users", u->name, m ? m : "");
	if (r < 0)
		return log_error_errno(r, "cloud-config users '%s': keys not applied: %s.", u->name,
				       m ? m : "error");
	if (!c->dry_run)
		log_info("cloud-config users '%s': keys %s.", u->name, m ? m : "applied");
	return r;
}

/* passwd (a hash, for a user made now), plain_text_passwd, hashed_passwd: cloud-init's order,
 * before the lock (usermod --lock keeps the hash behind a '!'). */
static int user_passwords(const struct cc_run *c, const char *name, const struct cc_user *u,
			  bool existed)
{
	int r = 0, k;

	if (u->passwd && existed)
		log_warning("cloud-config users '%s': passwd applies to a new user only (cloud-init: "
			    "use hashed_passwd or plain_text_passwd for an existing one), ignoring.",
			    name);
	else if (u->passwd && (k = cc_set_password(c, name, u->passwd, true)) < 0)
		r = k;
	if (u->plain_text_passwd && (k = cc_set_password(c, name, u->plain_text_passwd, false)) < 0)
		r = k;
	if (u->hashed_passwd && (k = cc_set_password(c, name, u->hashed_passwd, true)) < 0)
		r = k;
	return r < 0 ? r : (u->passwd && !existed) || u->plain_text_passwd || u->hashed_passwd;
}

static int one_user(const struct cc_run *c, const struct cc_user *u, size_t index,
		    char ***planned)
{
	uid_t uid;
	gid_t gid;
	bool exists;
	int r, changed = 0;

	if (u->is_default || streq(u->name, c->cfg->ssh_user)) {
		/* The configured [ssh] user: its keys are merged by the ssh-keys step. */
		cc_plan(c, "%-20s '%s': keys merged by the ssh-keys step", "users",
			u->is_default ? "default" : u->name);
		if (u->is_default)
			return user_passwords(c, c->cfg->ssh_user, u, true);
	}
	if (!account_name_ok(u->name))
		return log_error_errno(-EINVAL, "cloud-config users[%zu]: not a valid user name, "
						"refusing.", index);
	if ((u->gecos && !field_ok(u->gecos)) || (u->shell && (!field_ok(u->shell) ||
							       u->shell[0] != '/')))
		return log_error_errno(-EINVAL, "cloud-config users '%s': gecos or shell has a "
						"':' or a control character, or the shell is not "
						"an absolute path, refusing.", u->name);

	exists = passwd_resolve_user(c->root, u->name, &uid, &gid) >= 0;
	if (exists) {
		log_info("cloud-config users: '%s' exists, not modified (only its lock, sudo rule "
			 "and keys are applied).", u->name);
		cc_plan(c, "%-20s '%s' exists: not modified", "users", u->name);
	} else {
		r = create_user(c, u, planned);
		if (r < 0)
			return r;
		changed = 1;
	}
	r = user_passwords(c, u->name, u, exists);
	if (r < 0)
		return r;
	changed |= r;
	if (u->lock_passwd && !streq(u->name, c->cfg->ssh_user)) {
		r = lock_password(c, u);
		if (r < 0)
			return r;
	}
	if (u->sudo) {
		r = write_sudo(c, u);
		if (r < 0)
			return r;
		changed = 1;
	}
	if (u->ssh_authorized_keys && !streq(u->name, c->cfg->ssh_user) && c->dry_run &&
	    !exists) {
		cc_plan(c, "%-20s would add %zu key%s for '%s'", "users",
			strv_length(u->ssh_authorized_keys),
			strv_length(u->ssh_authorized_keys) == 1 ? "" : "s", u->name);
		changed = 1;
	} else if (u->ssh_authorized_keys && !streq(u->name, c->cfg->ssh_user)) {
		r = user_keys(c, u, index);
		if (r < 0)
			return r;
		changed |= r > 0;
	}
	return changed;
}

int cc_users(const struct cc_run *c, const struct cloud_config *cc)
{
	_cleanup_strv_free_ char **planned = NULL;
	size_t failed = 0;
	int changed = 0;

	for (size_t i = 0; i < cc->n_users; i++) {
		int r = one_user(c, &cc->users[i], i, &planned);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			failed++;
		else
			changed |= r > 0;
	}
	return failed ? -EIO : changed;
}
