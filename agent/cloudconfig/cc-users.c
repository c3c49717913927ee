/* SPDX-License-Identifier: MIT */
/*
 * cc-users.c: cloud-config users, applied as cloud-init's distro create_user/add_user do.
 * Accounts are created by shadow-utils from an argv ("useradd --root ROOT ..." under --root),
 * which edits etc/passwd, etc/group and etc/shadow with its own locking and atomic
 * replacement; missing groups are created with groupadd the same way. An existing user is not
 * created again: only its password, lock or unlock, sudo rule and keys are applied (as in
 * cloud-init). "default" is the configured [ssh] user, merged with the entry of that name and,
 * when it is not root, with the [ssh] user-groups/user-sudo/user-shell settings (cloud-init's
 * distribution default user); root is never created or locked, its keys are the ssh-keys
 * step's. An [ssh] user made here gets the metadata's keys too (the ssh-keys step ran before
 * it existed). sudo rules go to etc/sudoers.d/90-vagent-<user> (0440, atomic, no symlink
 * followed), checked with visudo when it is installed. Keys go through sshkeys_apply_from()
 * into the user's own managed block.
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

/* What the entry asks of useradd, checked before anything runs: one line naming the key. */
static int check_user(const struct cc_user *u)
{
	const char *bad = NULL;

	if ((u->gecos && !field_ok(u->gecos)))
		bad = "gecos has a ':' or a control character";
	else if (u->shell && (!field_ok(u->shell) || u->shell[0] != '/'))
		bad = "shell is not an absolute path without ':' or a control character";
	else if (u->homedir && (!field_ok(u->homedir) || u->homedir[0] != '/'))
		bad = "homedir is not an absolute path without ':' or a control character";
	else if (u->uid && (!*u->uid || strspn(u->uid, "0123456789") != strlen(u->uid) ||
			    strlen(u->uid) > 10 || strtoull(u->uid, NULL, 10) >= UINT32_MAX))
		bad = "uid is not a number";
	else if (u->inactive && (!*u->inactive ||
				 strspn(u->inactive + (u->inactive[0] == '-'), "0123456789") !=
				     strlen(u->inactive + (u->inactive[0] == '-')) ||
				 strlen(u->inactive) > 10))
		bad = "inactive is not a number of days";
	else if (u->expiredate && (!*u->expiredate || !field_ok(u->expiredate) ||
				   strspn(u->expiredate, "0123456789-") != strlen(u->expiredate)))
		bad = "expiredate is not a date (YYYY-MM-DD)";
	else if (u->primary_group && !account_name_ok(u->primary_group))
		bad = "primary_group is not a valid group name";
	else if ((u->system || u->no_create_home) && u->ssh_authorized_keys)
		/* cc_users_groups: NO_HOME and NEED_HOME keys together */
		bad = "ssh_authorized_keys cannot be given with system or no_create_home";
	if (bad)
		return log_error_errno(-EINVAL, "cloud-config users '%s': %s, not creating the user "
				       "(as cloud-init).", u->name, bad);
	return 0;
}

static int create_user(const struct cc_run *c, const struct cc_user *u, char ***planned)
{
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *groups = NULL;
	bool home = !u->no_create_home && !u->system;
	gid_t gid;
	int r;

	for (size_t i = 0; u->groups && u->groups[i]; i++) {
		char *g;

		if (u->create_groups) {
			r = ensure_group(c, u->name, u->groups[i], planned);
			if (r < 0)
				return r;
		}
		if (asprintf(&g, "%s%s%s", groups ? groups : "", groups ? "," : "",
			     u->groups[i]) < 0)
			return log_error_errno(-ENOMEM, "Out of memory.");
		free(groups);
		groups = g;
	}
	if (u->primary_group && u->create_groups) {
		r = ensure_group(c, u->name, u->primary_group, planned);
		if (r < 0)
			return r;
	}
	if (c->dry_run) {
		cc_plan(c, "%-20s would create %suser '%s' (%s, %zu supplementary group%s)",
			"users", u->system ? "system " : "", u->name, home ? "home" : "no home",
			strv_length(u->groups), strv_length(u->groups) == 1 ? "" : "s");
		return 1;
	}

	r = shadow_argv(c, "useradd", &argv);
	if (r >= 0)
		r = strv_push(&argv, strdup(home ? "--create-home" : "--no-create-home"));
	if (r >= 0 && u->system)
		r = strv_push(&argv, strdup("--system"));
	if (r >= 0 && u->no_log_init)
		r = strv_push(&argv, strdup("--no-log-init"));
	if (r >= 0 && u->gecos)
		r = push2(&argv, "--comment", u->gecos);
	if (r >= 0 && u->homedir)
		r = push2(&argv, "--home-dir", u->homedir);
	if (r >= 0 && u->shell)
		r = push2(&argv, "--shell", u->shell);
	if (r >= 0 && u->uid)
		r = push2(&argv, "--uid", u->uid);
	if (r >= 0 && u->expiredate)
		r = push2(&argv, "--expiredate", u->expiredate);
	if (r >= 0 && u->inactive)
		r = push2(&argv, "--inactive", u->inactive);
	if (r >= 0 && groups)
		r = push2(&argv, "--groups", groups);
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	/* The primary group: the one named; with no_user_group useradd's default (USERS_GID);
	 * else a group of the user's name, which may exist already (then it is the primary
	 * group: useradd would refuse --user-group). */
	if (u->primary_group)
		r = push2(&argv, "--gid", u->primary_group);
	else if (u->no_user_group)
		r = strv_push(&argv, strdup("--no-user-group"));
	else if (passwd_resolve_group(c->root, u->name, &gid) >= 0)
		r = push2(&argv, "--gid", u->name);
	else
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
/* usermod --lock (ACTION "--lock") or --unlock. */
static int lock_password(const struct cc_run *c, const struct cc_user *u, bool lock)
{
	_cleanup_strv_free_ char **argv = NULL;
	int r;

	if (c->dry_run) {
		cc_plan(c, "%-20s would %s the password of '%s'", "users", lock ? "lock" : "unlock",
			u->name);
		return 1;
	}
	r = shadow_argv(c, "usermod", &argv);
	if (r >= 0)
		r = strv_push(&argv, strdup(lock ? "--lock" : "--unlock"));
	if (r >= 0)
		r = strv_push(&argv, strdup(u->name));
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	r = cc_spawn(c, lock ? "usermod --lock" : "usermod --unlock", argv, NULL);
	if (r < 0)
		return log_error_errno(r, "cloud-config users: failed to %s the password of '%s'.",
				       lock ? "lock" : "unlock", u->name);
	return 1;
}

/* Whether USER has a password in etc/shadow: not empty and not only "!" (cloud-init's
 * shadow_empty_locked_passwd_patterns). No shadow file or no line: no password. */
static bool has_password(const char *root, const char *user)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, n = strlen(user);
	bool found = false;

	if (read_file(root, "/etc/shadow", ACCOUNTS_MAX, &buf, &len) < 0)
		return false;
	for (char *line = buf; line && *line && !found;) {
		char *end = strchr(line, '\n');

		if (end)
			*end = 0;
		if (strncmp(line, user, n) == 0 && line[n] == ':') {
			const char *h = line + n + 1;
			size_t hl = strcspn(h, ":");

			found = !(hl == 0 || (hl == 1 && h[0] == '!'));
			explicit_bzero(line, strlen(line));
			break;
		}
		line = end ? end + 1 : NULL;
	}
	explicit_bzero(buf, len);
	return found;
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

/* The entry's keys into USER's own block; for the [ssh] user made now (META set) with the
 * metadata's keys and the top-level ssh_authorized_keys too, as the ssh-keys step would have
 * written them had the user existed. */
static int user_keys(const struct cc_run *c, const struct cloud_config *cc,
		     const struct cc_user *u, size_t index, char *const *meta, bool ssh_user)
{
	_cleanup_strv_free_ char **keys = NULL;
	_cleanup_free_ char *m = NULL;
	char *const *lists[2] = { ssh_user && cc->has[CC_SSH_AUTHORIZED_KEYS] ?
				  cc->ssh_authorized_keys : NULL, u->ssh_authorized_keys };
	int r;

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			const char *reason;

			if (sshkey_validate_flags(lists[l][i], SSHKEY_OPTIONS_OK, &reason) < 0) {
				/* the top-level list's are named by the ssh-keys step's rules */
				if (l == 1)
					log_warning("User-data cloud-config users[%zu]."
						    "ssh_authorized_keys[%zu]: %s, ignoring.",
						    index, i, reason);
				continue;
			}
			if (strv_contains(keys, lists[l][i]))
				continue;
			r = strv_push(&keys, strdup(lists[l][i]));
			if (r < 0)
				return log_error_errno(r, "Out of memory.");
		}
	if (!keys && !meta)
		return 0;
	r = sshkeys_apply_from(c->root, u->name, meta, keys, c->cfg->sshkeys_policy,
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

/* A password given as "" is refused: cloud-init would then allow a login without one. */
static const char *given(const struct cc_run *c, const char *name, const char *key,
			 const char *p)
{
	if (p && !*p) {
		log_warning("cloud-config users '%s': %s is empty: a login without a password is "
			    "not set up by vagent, ignoring.", name, key);
		cc_key_set(c, CC_USERS, KEY_PARTIAL, "an empty %s left out", key);
		return NULL;
	}
	return p;
}

/* passwd (a hash, for a user made now), plain_text_passwd, hashed_passwd: cloud-init's order,
 * before the lock (usermod --lock keeps the hash behind a '!'). *RET_GIVEN: a password was
 * given that applies (lock_passwd: false then unlocks). */
static int user_passwords(const struct cc_run *c, const char *name, const struct cc_user *u,
			  bool existed, bool *ret_given)
{
	const char *passwd = given(c, name, "passwd", u->passwd),
		   *plain = given(c, name, "plain_text_passwd", u->plain_text_passwd),
		   *hashed = given(c, name, "hashed_passwd", u->hashed_passwd);
	int r = 0, k;

	if (passwd && existed && !plain && !hashed) {
		log_warning("cloud-config users '%s': passwd applies to a new user only (cloud-init: "
			    "use hashed_passwd or plain_text_passwd for an existing one), ignoring.",
			    name);
		cc_key_set(c, CC_USERS, KEY_PARTIAL, "passwd of an existing user ignored (as "
			   "cloud-init)");
	} else if (passwd && !existed && (k = cc_set_password(c, name, passwd, true)) < 0)
		r = k;
	if (plain && (k = cc_set_password(c, name, plain, false)) < 0)
		r = k;
	if (hashed && (k = cc_set_password(c, name, hashed, true)) < 0)
		r = k;
	*ret_given = (passwd && !existed) || plain || hashed;
	return r < 0 ? r : *ret_given;
}

/* The keys cloud-init leaves alone on a user that exists, named once in the log. */
static void say_left(const struct cc_user *u)
{
	static const struct {
		enum cc_user_field f;
		const char *name;
	} create_only[] = {
		{ CC_USER_GECOS, "gecos" },	      { CC_USER_SHELL, "shell" },
		{ CC_USER_HOMEDIR, "homedir" },	      { CC_USER_PRIMARY_GROUP, "primary_group" },
		{ CC_USER_UID, "uid" },		      { CC_USER_EXPIREDATE, "expiredate" },
		{ CC_USER_INACTIVE, "inactive" },     { CC_USER_GROUPS, "groups" },
		{ CC_USER_SYSTEM, "system" },	      { CC_USER_NO_CREATE_HOME, "no_create_home" },
		{ CC_USER_NO_USER_GROUP, "no_user_group" },
	};
	char list[256] = "";
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(create_only); i++)
		if (u->set & (1U << create_only[i].f))
			n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0,
					      "%s%s", n ? ", " : "", create_only[i].name);
	log_info("cloud-config users: '%s' exists, not created again%s%s%s (its password, lock, "
		 "sudo rule and keys are applied, as cloud-init does).", u->name,
		 n ? " (" : "", list, n ? " left as they are)" : "");
}

/* U: the entry as it applies (for the [ssh] user: merged with "default"). SSH_USER: U is the
 * configured [ssh] user; META: the metadata's keys (for writing them when it is made now). */
static int one_user(const struct cc_run *c, const struct cloud_config *cc,
		    const struct cc_user *u, size_t index, char ***planned)
{
	bool ssh_user = streq(u->name, c->cfg->ssh_user), exists, pw_given = false;
	char *const *meta = c->host ? c->host->public_keys : NULL;
	uid_t uid;
	gid_t gid;
	int r, changed = 0;

	if (meta && !*meta)
		meta = NULL;
	if (!account_name_ok(u->name))
		return log_error_errno(-EINVAL, "cloud-config users[%zu]: not a valid user name, "
						"refusing.", index);
	if (streq(u->name, "root")) {
		/* Vultr's root: it exists, its password is the console's (never locked), its
		 * keys are the ssh-keys step's; cloud-init's user creation does not apply. */
		cc_plan(c, "%-20s 'root': keys merged by the ssh-keys step", "users");
		r = user_passwords(c, "root", u, true, &pw_given);
		if (r >= 0 && u->sudo)
			r = write_sudo(c, u);
		return r;
	}
	r = check_user(u);
	if (r < 0)
		return r;

	exists = passwd_resolve_user(c->root, u->name, &uid, &gid) >= 0;
	if (exists) {
		say_left(u);
		cc_plan(c, "%-20s '%s' exists: not created again", "users", u->name);
	} else {
		r = create_user(c, u, planned);
		if (r < 0)
			return r;
		changed = 1;
	}
	r = user_passwords(c, u->name, u, exists, &pw_given);
	if (r < 0)
		return r;
	changed |= r;
	if (u->lock_passwd) {
		r = lock_password(c, u, true);
		if (r < 0)
			return r;
	} else if (pw_given || (exists && has_password(c->root, u->name))) {
		/* lock_passwd: false unlocks a password given now or the one it has */
		r = lock_password(c, u, false);
		if (r < 0)
			return r;
		changed = 1;
	} else {
		log_warning("cloud-config users '%s': lock_passwd is false but no password is set "
			    "or given, not unlocking (as cloud-init).", u->name);
		cc_key_set(c, CC_USERS, KEY_PARTIAL, "lock_passwd: false without a password: not "
			   "unlocked (as cloud-init)");
	}
	if (u->sudo) {
		r = write_sudo(c, u);
		if (r < 0)
			return r;
		changed = 1;
	}
	if (ssh_user && exists) {
		/* it existed when the ssh-keys step ran: the keys are that step's */
		cc_plan(c, "%-20s '%s': keys merged by the ssh-keys step", "users", u->name);
	} else if (c->dry_run && !exists && (u->ssh_authorized_keys || (ssh_user && meta))) {
		cc_plan(c, "%-20s would add %zu key%s for '%s'", "users",
			strv_length(u->ssh_authorized_keys) + (ssh_user ? strv_length(meta) : 0),
			strv_length(u->ssh_authorized_keys) +
			(ssh_user ? strv_length(meta) : 0) == 1 ? "" : "s", u->name);
		changed = 1;
	} else if (u->ssh_authorized_keys || (ssh_user && meta)) {
		r = user_keys(c, cc, u, index, ssh_user ? meta : NULL, ssh_user);
		if (r < 0)
			return r;
		changed |= r > 0;
	}
	return changed;
}

/* The list of groups in S, comma-separated ("none": no groups), pushed onto L. */
static int push_groups(char ***l, const char *s)
{
	if (streq(s, "none"))
		return 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		const char *b = s, *e = s + n;

		while (b < e && *b == ' ')
			b++;
		while (e > b && e[-1] == ' ')
			e--;
		if (e > b) {
			char *g = strndup(b, (size_t)(e - b));
			if (!g)
				return -ENOMEM;
			if (strv_contains(*l, g))
				free(g);
			else if (strv_push(l, g) < 0)
				return -ENOMEM;
		}
		s += n + (s[n] == ',');
	}
	return 0;
}

/*
 * The "default" entry as cloud-init's normalize_users_groups makes it: the entry named for the
 * [ssh] user first, then the "default" entry, then the distribution's default user (for vagent
 * the [ssh] user-groups, user-sudo and user-shell settings, when the [ssh] user is not root).
 * Groups are the union of all three (cloud-init drops the "default" entry's own).
 */
/* A copy of the entry named for the [ssh] user, or an entry of that name with no keys. */
static int named_ssh_user(const struct cc_run *c, const struct cloud_config *cc,
			  struct cc_user *ret)
{
	const char *name = c->cfg->ssh_user;

	for (size_t i = 0; i < cc->n_users; i++)
		if (!cc->users[i].is_default && streq(cc->users[i].name, name))
			return cc_user_copy(&cc->users[i], ret);
	cc_user_init(ret, strdup(name));
	return ret->name ? 0 : -ENOMEM;
}

static int effective_default(const struct cc_run *c, const struct cloud_config *cc,
			     const struct cc_user *def, struct cc_user *ret)
{
	struct cc_user u = {}, d = {}, distro;
	int r;

	r = named_ssh_user(c, cc, &u);
	if (r < 0)
		return r;
	r = cc_user_copy(def, &d);
	if (r >= 0)
		r = cc_user_merge(&u, &d);
	cc_user_done(&d);
	if (r >= 0 && !streq(u.name, "root")) {
		cc_user_init(&distro, NULL);
		r = push_groups(&distro.groups, c->cfg->ssh_user_groups);
		distro.set |= distro.groups ? 1U << CC_USER_GROUPS : 0;
		if (r >= 0 && !streq(c->cfg->ssh_user_sudo, "none") && *c->cfg->ssh_user_sudo) {
			r = strv_push(&distro.sudo, strdup(c->cfg->ssh_user_sudo));
			distro.set |= 1U << CC_USER_SUDO;
		}
		if (r >= 0) {
			distro.shell = strdup(c->cfg->ssh_user_shell);
			r = distro.shell ? 0 : -ENOMEM;
			distro.set |= 1U << CC_USER_SHELL;
		}
		if (r >= 0)
			r = cc_user_merge(&u, &distro);
		cc_user_done(&distro);
	}
	if (r < 0) {
		cc_user_done(&u);
		return log_error_errno(r, "Out of memory.");
	}
	u.is_default = true;
	*ret = u;
	return 0;
}

int cc_users(const struct cc_run *c, const struct cloud_config *cc)
{
	_cleanup_strv_free_ char **planned = NULL;
	const struct cc_user *def = NULL;
	size_t failed = 0, done = 0;
	int changed = 0;

	for (size_t i = 0; i < cc->n_users && !def; i++)
		if (cc->users[i].is_default)
			def = &cc->users[i];
	for (size_t i = 0; i < cc->n_users; i++) {
		const struct cc_user *u = &cc->users[i];
		struct cc_user eff = {};
		int r;

		/* The [ssh] user's own entry is applied where "default" is, merged with it. */
		if (def && !u->is_default && streq(u->name, c->cfg->ssh_user))
			continue;
		if (u->is_default) {
			r = effective_default(c, cc, u, &eff);
			if (r < 0)
				return r;
			u = &eff;
		}
		r = one_user(c, cc, u, i, &planned);
		cc_user_done(&eff);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			failed++;
		else {
			done++;
			changed |= r > 0;
		}
	}
	if (failed && done)
		cc_key_set(c, CC_USERS, KEY_PARTIAL, "%zu of %zu users %s", done, done + failed,
			   c->dry_run ? "would be applied" : "applied");
	else if (failed)
		cc_key_set(c, CC_USERS, KEY_ERROR, "none of %zu user%s %s", failed,
			   failed == 1 ? "" : "s", c->dry_run ? "could be applied" : "applied");
	return failed ? -EIO : changed;
}
