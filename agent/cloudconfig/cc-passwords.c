/* SPDX-License-Identifier: MIT */
/*
 * cc-passwords.c: cloud-config passwords and password logins, with cloud-init's meaning
 * (cc_set_passwords.py): chpasswd (its list form, a list or a multi-line string, where a
 * "$1$/$2a$/$2y$/$5$/$6$" value is a hash and anything else plain text; its users form, type
 * hash by default; expire, true by default, runs `passwd --expire`), the top-level password
 * (the default user's, the [ssh] user here) when chpasswd sets none, and the users' passwd,
 * hashed_passwd and plain_text_passwd (cc-users.c calls cc_set_password()); ssh_pwauth as
 * PasswordAuthentication in a drop-in of sshd_config.d, sshd reloaded when it runs.
 *
 * Passwords and hashes are secrets: they go to chpasswd on its stdin (a memfd, never argv or a
 * file) and nowhere else; messages name the user and whether the value was a hash. Plain
 * passwords are hashed by chpasswd through PAM on the running system, as cloud-init does;
 * under --root (PAM cannot run inside an image) by chpasswd -R with the image's
 * ENCRYPT_METHOD (login.defs; SHA512 when it names none). RANDOM passwords are not supported:
 * they would have to be shown somewhere.
 */
#include <ctype.h>
#include <sys/mman.h>

#include "base/log.h"
#include "base/passwd.h"
#include "base/util.h"
#include "cloudconfig/cc-modules.h"

#define SSHD_CONFIG "/etc/ssh/sshd_config"
#define SSHD_DROPIN "/etc/ssh/sshd_config.d/50-vagent.conf"
#define LOGIN_DEFS "/etc/login.defs"

/* ENCRYPT_METHOD of ROOT/etc/login.defs, when it is one chpasswd -c knows. */
static const char *encrypt_method(const char *root)
{
	static const char *const known[] = { "YESCRYPT", "SHA512", "SHA256", "MD5", "DES" };
	static char found[16];
	_cleanup_free_ char *text = NULL;

	if (read_file(root, LOGIN_DEFS, 1U << 20, &text, NULL) < 0)
		return "SHA512";
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = line, *v;

		while (isspace((unsigned char)*p))
			p++;
		if (!startswith(p, "ENCRYPT_METHOD") || !isspace((unsigned char)p[14]))
			continue;
		v = p + 14;
		while (isspace((unsigned char)*v))
			v++;
		v[strcspn(v, " \t\r")] = 0;
		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			if (streq(v, known[i])) {
				snprintf(found, sizeof(found), "%s", v);
				return found;
			}
	}
	return "SHA512";
}

int cc_set_password(const struct cc_run *c, const char *user, const char *password, bool hashed)
{
	_cleanup_free_ char *input = NULL;
	_cleanup_close_ int fd = -1;
	char *argv[8];
	size_t k = 0;
	uid_t uid;
	gid_t gid;
	int r;

	if (strchr(user, ':') || strchr(user, '\n') || string_has_control(user, strlen(user), false))
		return log_error_errno(EINVAL, "cloud-config: a user name for a password is not "
				       "valid, not set.");
	if (strchr(password, '\n'))
		return log_error_errno(EINVAL, "cloud-config: the password of '%s' has a newline, "
				       "not set.", user);
	if (c->dry_run) {
		cc_plan(c, "%-20s would set the password of '%s' (%s)", "passwords", user,
			hashed ? "a hash" : "plain text, hashed by chpasswd");
		return 0;
	}
	if (passwd_resolve_user(c->root, user, &uid, &gid) < 0)
		return log_error_errno(ESRCH, "cloud-config: no user '%s' in /etc/passwd, its "
				       "password is not set.", user);
	argv[k++] = "chpasswd";
	if (hashed)
		argv[k++] = "-e";
	if (!root_is_host(c->root)) {
		argv[k++] = "-R";
		argv[k++] = (char *)c->root;
		if (!hashed) {
			argv[k++] = "-c";
			argv[k++] = (char *)encrypt_method(c->root);
		}
	}
	argv[k] = NULL;
	if (asprintf(&input, "%s:%s\n", user, password) < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	/* On stdin from memory only: the password never touches a disk or an argv. */
	fd = memfd_create("vagent-chpasswd", MFD_CLOEXEC);
	if (fd < 0)
		return log_error_errno(errno, "Failed to make a memfd: %m");
	r = (size_t)write(fd, input, strlen(input)) == strlen(input) &&
	    lseek(fd, 0, SEEK_SET) == 0 ? 0 : -EIO;
	explicit_bzero(input, strlen(input));
	if (r < 0)
		return log_error_errno(r, "Failed to hand the password to chpasswd: %m");
	r = cc_spawn_stdin(c, "chpasswd", argv, fd);
	if (r < 0)
		return log_error_errno(r, "cloud-config: failed to set the password of '%s'.", user);
	log_info("cloud-config: set the password of '%s' (%s).", user, hashed ? "a hash" :
		 "plain text");
	return 0;
}

static int expire(const struct cc_run *c, const char *user)
{
	char *host[] = { "passwd", "--expire", (char *)user, NULL };
	char *rooted[] = { "passwd", "-R", (char *)c->root, "--expire", (char *)user, NULL };

	if (c->dry_run) {
		cc_plan(c, "%-20s would expire the password of '%s' (chpasswd: expire)",
			"passwords", user);
		return 0;
	}
	return cc_spawn(c, "passwd --expire", root_is_host(c->root) ? host : rooted, NULL);
}

int cc_passwords(const struct cc_run *c, const struct cloud_config *cc)
{
	struct cc_password def = {};
	const struct cc_password *list = cc->has[CC_CHPASSWD] ? cc->chpasswd : NULL;
	size_t n = cc->has[CC_CHPASSWD] ? cc->n_chpasswd : 0, set = 0, failed = 0;
	bool do_expire = cc->has[CC_CHPASSWD] ? cc->chpasswd_expire : true;

	if (cc->has[CC_CHPASSWD] && cc->chpasswd_random > 0)
		log_warning("cloud-config chpasswd: %zu entr%s ask%s for a RANDOM password, which "
			    "vagent does not make (it would have to show it), ignoring.",
			    cc->chpasswd_random, cc->chpasswd_random == 1 ? "y" : "ies",
			    cc->chpasswd_random == 1 ? "s" : "");
	/* The default user's password, when chpasswd names none (cloud-init's rule). */
	if (n == 0 && cc->has[CC_PASSWORD] && cc->password) {
		def = (struct cc_password){ .user = c->cfg->ssh_user, .password = cc->password,
					    .hashed = cc_password_is_hash(cc->password) };
		list = &def;
		n = 1;
	}
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (cc_set_password(c, list[i].user, list[i].password, list[i].hashed) < 0) {
			failed++;
			continue;
		}
		set++;
		/* cloud-init expires hashed passwords too (EXPIRE_APPLIES_TO_HASHED_USERS) */
		if (do_expire && expire(c, list[i].user) < 0)
			failed++;
	}
	if (failed)
		return log_warning_errno(EPROTO, "cloud-config passwords: %zu of %zu failed.",
					 failed, n);
	return set > 0;
}

/* ROOT/etc/ssh/sshd_config reads the drop-in directory (Debian 12's does, first). */
static bool includes_dropins(const char *root)
{
	_cleanup_free_ char *text = NULL;

	if (read_file(root, SSHD_CONFIG, 1U << 20, &text, NULL) < 0)
		return false;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		while (isspace((unsigned char)*line))
			line++;
		if (strncasecmp(line, "Include", 7) == 0 && isspace((unsigned char)line[7]) &&
		    strstr(line, "sshd_config.d/"))
			return true;
	}
	return false;
}

int cc_ssh_pwauth(const struct cc_run *c, const struct cloud_config *cc)
{
	_cleanup_free_ char *old = NULL, *text = NULL;
	const char *value;
	char *reload[] = { "systemctl", "try-reload-or-restart", "ssh.service", NULL };
	int r;

	if (cc->ssh_pwauth == CC_PWAUTH_UNCHANGED) {
		cc_plan(c, "%-20s unchanged: sshd is left alone", "ssh_pwauth");
		return 0;
	}
	value = cc->ssh_pwauth == CC_PWAUTH_YES ? "yes" : "no";
	if (!includes_dropins(c->root))
		return log_error_errno(ENOTSUP, "cloud-config ssh_pwauth: %s does not Include "
				       "/etc/ssh/sshd_config.d/*.conf, PasswordAuthentication is "
				       "not changed.", SSHD_CONFIG);
	if (asprintf(&text, "# Written by vagent from the cloud-config's ssh_pwauth (once per "
		     "instance).\nPasswordAuthentication %s\n", value) < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (read_file(c->root, SSHD_DROPIN, 4096, &old, NULL) >= 0 && streq(old, text))
		return 0;
	if (c->dry_run) {
		cc_plan(c, "%-20s would write PasswordAuthentication %s to %s and reload sshd",
			"ssh_pwauth", value, SSHD_DROPIN);
		return 1;
	}
	r = write_file_atomic(c->root, SSHD_DROPIN, text, strlen(text), 0644);
	if (r < 0)
		return log_error_errno(r, "Failed to write '%s': %m", SSHD_DROPIN);
	log_info("cloud-config ssh_pwauth: PasswordAuthentication %s in '%s'.", value, SSHD_DROPIN);
	/* cloud-init restarts a running sshd; a reload reads the drop-in without dropping
	 * sessions. A stopped sshd reads it when it starts. */
	if (root_is_host(c->root) && cc_spawn(c, "systemctl try-reload-or-restart ssh", reload,
					      NULL) < 0)
		log_warning("cloud-config ssh_pwauth: sshd could not be reloaded, it reads '%s' "
			    "when it next starts, ignoring.", SSHD_DROPIN);
	return 1;
}
