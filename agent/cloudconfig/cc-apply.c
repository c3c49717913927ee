/* SPDX-License-Identifier: MIT */
/*
 * cc-apply.c: cloud-config user data from bytes to effects. The user data is decoded once per
 * run (gunzip, MIME split, each cloud-config part parsed and merged in order), then used three
 * ways: bootcmd runs every boot before the other steps; the hostname and ssh-keys steps take
 * the hostname and keys from it; the userdata step runs the per-instance pass here, in
 * cloud-init's order, stamping each module in the instance state before it starts. Commands
 * run from an argv (a string is "sh -c STRING"); their output goes to the journal and to a
 * 0600 log in the instance state. Only key names, paths, counts and positions are logged:
 * never the content of the user data.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "cloudconfig/cc-apply.h"
#include "cloudconfig/cc-gzip.h"
#include "cloudconfig/cc-mime.h"
#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/process.h"
#include "base/script.h"
#include "base/authkeys.h"
#include "base/set.h"
#include "base/state.h"
#include "base/util.h"

#define CC_LOG "cloud-config.log"
#define BOOTCMD_LOG "bootcmd.log"
#define NAMES_SHOWN 4

void cc_doc_done(struct cc_doc *d)
{
	free(d->plain);
	cloud_config_free(d->cc);
	for (size_t i = 0; i < d->n_scripts; i++)
		free(d->scripts[i].data);
	free(d->scripts);
	strv_free(d->ignored_parts);
	free(d->error_message);
	*d = (struct cc_doc){};
}

static int doc_fail(struct cc_doc *d, int error, const char *fmt, ...) _printf_(3, 4);
static int doc_fail(struct cc_doc *d, int error, const char *fmt, ...)
{
	va_list ap;
	int r;

	d->error = error;
	va_start(ap, fmt);
	r = message_setv(&d->error_message, 0, fmt, ap);
	va_end(ap);
	return r;
}

/* Parse one cloud-config text and merge it into D->cc. WHERE prefixes errors ("part 2: "). */
static int doc_add_config(struct cc_doc *d, const char *text, size_t len, const char *where)
{
	_cleanup_(cloud_config_freep) struct cloud_config *cc = NULL;
	struct cc_error e;
	int r;

	r = cloud_config_parse_budget(text, len, &d->budget, &cc, &e);
	if (r == -ENOMEM)
		return r;
	if (r == -EBADMSG)
		return doc_fail(d, r, "%sinvalid YAML at line %u, column %u: %s", where, e.line,
				e.column, e.problem);
	if (r < 0)
		return doc_fail(d, r, "%sthe cloud-config cannot be read: %s", where,
				r == -E2BIG ? e.problem : strerror(-r));
	if (!d->cc) {
		d->cc = TAKE_PTR(cc);
		return 0;
	}
	r = cloud_config_merge(d->cc, cc);
	if (r == -E2BIG)
		return doc_fail(d, r, "%sthe parts together have more than %u top-level keys",
				where, CC_MAX_KEYS);
	return r;
}

static const char *gunzip_error(int r)
{
	if (r == -EFBIG)
		return "larger than max-userdata-size";
	if (r == -EDQUOT)
		return "the user data's gzip data together inflate beyond max-userdata-size";
	return strerror(-r);
}

static bool sniffable(const char *type)
{
	return streq(type, "") || streq(type, "text/plain") ||
	       streq(type, "application/octet-stream") || streq(type, "application/x-gzip") ||
	       streq(type, "application/gzip");
}

static int doc_add_part(struct cc_doc *d, const struct config *cfg, struct mime_part *p, size_t i)
{
	_cleanup_free_ char *plain = NULL, *where = NULL, *note = NULL;
	const char *body = p->body;
	size_t len = p->len;
	enum userdata_kind k;
	int r;

	if (asprintf(&where, "part %zu: ", i) < 0)
		return -ENOMEM;
	if (!p->decoded) {
		if (asprintf(&note, "part %zu (%s, transfer encoding not supported)", i,
			     p->type) < 0)
			return -ENOMEM;
		return strv_push(&d->ignored_parts, TAKE_PTR(note));
	}
	if (gzip_is(body, len)) {
		r = gunzip_capped(body, len, cfg->max_userdata_size, &d->gunzip_left, &plain, &len);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return doc_fail(d, r, "%sgzip data cannot be decompressed: %s", where,
					gunzip_error(r));
		body = plain;
	}
	k = userdata_detect(body, len);
	if (streq(p->type, "text/cloud-config") || (sniffable(p->type) && k == USERDATA_CLOUD_CONFIG))
		return doc_add_config(d, body, len, where);
	if (streq(p->type, "text/x-shellscript") || (sniffable(p->type) && k == USERDATA_SCRIPT)) {
		struct cc_script *n = reallocarray(d->scripts, d->n_scripts + 1, sizeof(*n));
		char *copy = malloc(len + 1);

		if (!n || !copy) {
			free(copy);
			if (n)
				d->scripts = n;
			return -ENOMEM;
		}
		memcpy(copy, body, len);
		copy[len] = 0;
		d->scripts = n;
		d->scripts[d->n_scripts++] = (struct cc_script){ .data = copy, .len = len, .index = i };
		return 0;
	}
	if (asprintf(&note, "part %zu (%s)", i, *p->type ? p->type : "no type") < 0)
		return -ENOMEM;
	return strv_push(&d->ignored_parts, TAKE_PTR(note));
}

int cc_doc_decode(const struct config *cfg, const char *data, size_t len, struct cc_doc *d)
{
	struct mime_part *parts = NULL;
	size_t n = 0;
	int r;

	*d = (struct cc_doc){ .kind = USERDATA_NONE, .gunzip_left = cfg->max_userdata_size };
	if (!data || len == 0)
		return 0;
	if (gzip_is(data, len)) {
		d->gzip = true;
		r = gunzip_capped(data, len, cfg->max_userdata_size, &d->gunzip_left, &d->plain,
				  &d->plain_len);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			d->kind = USERDATA_GZIP;
			return doc_fail(d, r, "gzip user data cannot be decompressed: %s",
					gunzip_error(r));
		}
		data = d->plain;
		len = d->plain_len;
	}
	cc_budget_init(&d->budget, len);
	d->kind = userdata_detect(data, len);
	if (d->kind == USERDATA_CLOUD_CONFIG)
		return doc_add_config(d, data, len, "");
	if (d->kind != USERDATA_MIME)
		return 0;

	r = mime_split(data, len, &parts, &n);
	if (r == -ENOMEM)
		return r;
	if (r == -E2BIG)
		return doc_fail(d, r, "MIME user data has more than %u parts", MIME_MAX_PARTS);
	if (r < 0)
		return doc_fail(d, r, "MIME user data has no multipart boundary");
	for (size_t i = 0; i < n && d->error == 0; i++) {
		r = doc_add_part(d, cfg, &parts[i], i + 1);
		if (r < 0)
			break;
	}
	mime_parts_free(parts, n);
	return r < 0 ? r : 0;
}

bool cc_doc_has_config(const struct cc_doc *d)
{
	return d && d->error == 0 && d->cc;
}

const char *cc_doc_hostname(const struct cc_doc *d, bool *ret_preserve)
{
	*ret_preserve = cc_doc_has_config(d) && d->cc->has[CC_PRESERVE_HOSTNAME] &&
			d->cc->preserve_hostname;
	if (!cc_doc_has_config(d))
		return NULL;
	if (d->cc->has[CC_FQDN])
		return d->cc->fqdn;
	return d->cc->has[CC_HOSTNAME] ? d->cc->hostname : NULL;
}

/* The keys a cloud-config may add, all lists together, and the warnings about bad ones. */
#define CC_KEYS_MAX CC_MAX_ENTRIES
#define CC_KEY_WARNINGS_MAX 16

struct key_walk {
	struct strlist keys;
	struct strset seen;
	size_t invalid;
};

/* 0 go on, 1 full (CC_KEYS_MAX reached), <0 failed. */
static int push_valid_keys(struct key_walk *k, char *const *keys, const char *label)
{
	for (size_t i = 0; keys && keys[i]; i++) {
		const char *reason;
		char *copy;
		int r;

		if (sshkey_validate(keys[i], &reason) < 0) {
			if (k->invalid++ < CC_KEY_WARNINGS_MAX)
				log_warning("cloud-config %s[%zu]: %s, ignoring.", label, i,
					    reason);
			continue;
		}
		if (strset_has_str(&k->seen, keys[i]))
			continue;
		if (k->keys.n >= CC_KEYS_MAX) {
			log_warning(
			    "cloud-config %s[%zu]: more than %u keys in all, ignoring it and "
			    "the rest.",
			    label, i, CC_KEYS_MAX);
			return 1;
		}
		copy = strdup(keys[i]);
		r = strlist_push(&k->keys, copy);
		if (r < 0)
			return r;
		r = strset_put_str(&k->seen, copy, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int cc_doc_ssh_keys(const struct cc_doc *d, const char *user, char ***ret)
{
	struct key_walk k = {};
	int r = 0;

	*ret = NULL;
	if (!cc_doc_has_config(d))
		return 0;
	if (d->cc->has[CC_SSH_AUTHORIZED_KEYS])
		r = push_valid_keys(&k, d->cc->ssh_authorized_keys, "ssh_authorized_keys");
	for (size_t i = 0; r == 0 && d->cc->has[CC_USERS] && i < d->cc->n_users; i++) {
		const struct cc_user *u = &d->cc->users[i];
		char label[64];

		if (!u->is_default && !streq(u->name, user))
			continue;
		snprintf(label, sizeof(label), "users[%zu].ssh_authorized_keys", i);
		r = push_valid_keys(&k, u->ssh_authorized_keys, label);
	}
	if (k.invalid > CC_KEY_WARNINGS_MAX)
		log_warning("cloud-config: %zu invalid keys in all, %zu more not shown, ignoring.",
			    k.invalid, k.invalid - CC_KEY_WARNINGS_MAX);
	strset_done(&k.seen);
	if (r < 0) {
		strlist_done(&k.keys);
		return r;
	}
	*ret = strlist_steal(&k.keys);
	return 0;
}

/* bootcmd or runcmd: each entry on its own, in order; a failure does not stop the next. */
static int run_commands(const struct cc_run *c, const char *key, const struct cc_command *cmds,
			size_t n, size_t *ret_failed)
{
	size_t failed = 0, shell = 0;

	for (size_t i = 0; i < n; i++)
		shell += !!cmds[i].shell;
	if (c->dry_run) {
		cc_plan(c, "%-20s would run %zu command%s (%zu through sh -c, %zu directly)", key, n,
			n == 1 ? "" : "s", shell, n - shell);
		*ret_failed = 0;
		return n > 0;
	}
	for (size_t i = 0; i < n; i++) {
		char what[48];
		char *sh[] = { "sh", "-c", cmds[i].shell, NULL };

		snprintf(what, sizeof(what), "%s[%zu]", key, i);
		if (cc_spawn(c, what, cmds[i].shell ? sh : cmds[i].argv, NULL) < 0)
			failed++;
	}
	*ret_failed = failed;
	if (failed > 0)
		return log_warning_errno(EPROTO, "cloud-config %s: %zu of %zu command%s failed.",
					 key, failed, n, n == 1 ? "" : "s");
	return n > 0;
}

static bool package_name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return false; /* never an option: "-o..." */
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(".+-_:~=/", *s)))
			return false;
	return true;
}

static int run_packages(const struct cc_run *c, const struct cloud_config *cc)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	static char *const apt_env[] = { "DEBIAN_FRONTEND=noninteractive", NULL };
	static char *const update[] = { "apt-get", "-q", "-y", "update", NULL };
	static char *const upgrade[] = { "apt-get", "-q", "-y", "-o",
					 "Dpkg::Options::=--force-confold", "dist-upgrade", NULL };
	_cleanup_free_ char **install = NULL;
	size_t n = cc->has[CC_PACKAGES] ? strv_length(cc->packages) : 0, k = 0, bad = 0;
	bool do_upgrade = cc->has[CC_PACKAGE_UPGRADE] && cc->package_upgrade;
	bool do_update = (cc->has[CC_PACKAGE_UPDATE] && cc->package_update) || do_upgrade || n > 0;
	int r = 0;

	if (!do_update)
		return 0;
	if (!root_is_host(c->root)) {
		log_notice("cloud-config packages, package_update and package_upgrade: skipped "
			   "under --root.");
		cc_plan(c, "%-20s skipped under --root", "packages");
		return 2;
	}

	install = calloc(n + 8, sizeof(char *));
	if (!install)
		return log_error_errno(-ENOMEM, "Out of memory.");
	install[k++] = "apt-get";
	install[k++] = "-q";
	install[k++] = "-y";
	install[k++] = "-o";
	install[k++] = "Dpkg::Options::=--force-confold";
	install[k++] = "install";
	for (size_t i = 0; i < n; i++) {
		if (!package_name_ok(cc->packages[i])) {
			log_warning("cloud-config packages[%zu]: not a package name, ignoring.", i);
			bad++;
			continue;
		}
		install[k++] = cc->packages[i];
	}

	if (c->dry_run) {
		cc_plan(c, "%-20s would run apt-get update%s%s%zu package%s", "packages",
			do_upgrade ? ", apt-get dist-upgrade" : "", n - bad > 0 ? ", install " : "",
			n - bad, n - bad == 1 ? "" : "s");
		return 1;
	}
	if (cc_spawn(c, "apt-get update", update, apt_env) < 0)
		r = -EPROTO;
	if (do_upgrade && cc_spawn(c, "apt-get dist-upgrade", upgrade, apt_env) < 0)
		r = -EPROTO;
	if (n - bad > 0 && cc_spawn(c, "apt-get install", install, apt_env) < 0)
		r = -EPROTO;
	if (bad > 0)
		r = -EINVAL;
	return r < 0 ? r : 1;
}

int cc_bootcmd(const char *root, const struct config *cfg, const char *id,
	       const struct cc_doc *d, bool dry_run, char **ret_message)
{
	_cleanup_close_ int dfd = -1, logfd = -1;
	struct cc_run c = { .root = root, .cfg = cfg, .id = id, .dry_run = dry_run, .log_fd = -1 };
	size_t failed = 0, n;
	int r;

	if (d && d->error)
		return message_set(ret_message, 0, "user data not usable (see the userdata step)") ?: 2;
	if (!cc_doc_has_config(d))
		return message_set(ret_message, 0, "no cloud-config") ?: 2;
	if (d->cc->invalid[CC_BOOTCMD]) {
		log_warning("cloud-config 'bootcmd' has the wrong shape, not run.");
		return message_set(ret_message, 0, "bootcmd has the wrong shape, not run") ?: -EINVAL;
	}
	n = d->cc->n_bootcmd;
	if (!d->cc->has[CC_BOOTCMD] || n == 0)
		return message_set(ret_message, 0, "no bootcmd") ?: 2;
	if (!cfg->userdata_enabled)
		return message_set(ret_message, 0, "%zu command%s not run: [userdata] run = no", n,
			       n == 1 ? "" : "s") ?: 2;
	if (dry_run)
		return message_set(ret_message, 0, "would run %zu command%s", n, n == 1 ? "" : "s") ?: 1;

	dfd = state_instance_open(root, id, true);
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to open the state of instance '%s': %m", id);
	logfd = openat(dfd, BOOTCMD_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		       0600);
	if (logfd < 0)
		log_warning_errno(errno, "Failed to open '%s': %m, ignoring.", BOOTCMD_LOG);
	c.log_fd = logfd;

	r = run_commands(&c, "bootcmd", d->cc->bootcmd, n, &failed);
	message_set(ret_message, 0, "%zu command%s ran, %zu failed (output in %s/%s/%s)", n,
		n == 1 ? "" : "s", failed, STATE_INSTANCES, id, BOOTCMD_LOG);
	return r < 0 ? r : 1;
}

/* The per-instance modules, in cloud-init's order. */
enum module {
	MOD_WRITE_FILES,
	MOD_USERS,
	MOD_MOUNTS,
	/* the system keys, in cloud-init's order (init, then config stage) */
	MOD_CA_CERTS,
	MOD_RSYSLOG,
	MOD_KEYBOARD,
	MOD_LOCALE,
	MOD_APT,
	MOD_NTP,
	MOD_TIMEZONE,
	MOD_PACKAGES,
	MOD_SCRIPTS,
	MOD_RUNCMD,
	MOD_WRITE_FILES_DEFERRED,
	MOD_FINAL_MESSAGE, /* every boot: no stamp */
	MOD_POWER_STATE,
	_MOD_MAX,
};

static const char *const module_stamps[_MOD_MAX] = {
	[MOD_WRITE_FILES] = "cloud-config.write_files",
	[MOD_USERS] = "cloud-config.users",
	[MOD_MOUNTS] = "cloud-config.mounts",
	[MOD_PACKAGES] = "cloud-config.packages",
	[MOD_SCRIPTS] = NULL, /* each script part has its own stamp */
	[MOD_RUNCMD] = "cloud-config.runcmd",
	[MOD_WRITE_FILES_DEFERRED] = "cloud-config.write_files_deferred",
	[MOD_CA_CERTS] = "cloud-config.ca_certs",
	[MOD_RSYSLOG] = "cloud-config.rsyslog",
	[MOD_KEYBOARD] = "cloud-config.keyboard",
	[MOD_LOCALE] = "cloud-config.locale",
	[MOD_APT] = "cloud-config.apt",
	[MOD_NTP] = "cloud-config.ntp",
	[MOD_TIMEZONE] = "cloud-config.timezone",
	[MOD_FINAL_MESSAGE] = NULL,
	[MOD_POWER_STATE] = "cloud-config.power_state", /* never twice: no reboot loop */
};

/* Modules that can run again after a pass was cut short (a reboot, the unit's time limit):
 * what they did is checked again, what they did not do is done. The others (commands) must
 * never run twice: an interrupted one is reported, not repeated. */
static const bool module_resumes[_MOD_MAX] = {
	[MOD_WRITE_FILES] = true,
	[MOD_USERS] = true,
	[MOD_MOUNTS] = true,
	[MOD_PACKAGES] = true,
	[MOD_WRITE_FILES_DEFERRED] = true,
	[MOD_CA_CERTS] = true,
	[MOD_RSYSLOG] = true,
	[MOD_KEYBOARD] = true,
	[MOD_LOCALE] = true,
	[MOD_APT] = true,
	[MOD_NTP] = true,
	[MOD_TIMEZONE] = true,
};

struct tally {
	bool failed[_CC_KEY_MAX];
	bool skipped; /* packages under --root */
	bool root_skipped[_CC_KEY_MAX]; /* system keys that would act on this machine */
	bool packages_ran;		/* package_reboot_if_required: packages ran this pass */
	size_t scripts_ran, scripts_failed;
	char **interrupted; /* "runcmd", "MIME part 2": cut short before, not run again */
};

static void tally_done(struct tally *t)
{
	strv_free(t->interrupted);
}

/* The system keys: their module and the key each applies (cc-modules.h). */
static const struct {
	enum module m;
	enum cc_key k;
	int (*fn)(const struct cc_run *c, const struct cloud_config *cc);
} system_modules[] = {
	{ MOD_CA_CERTS, CC_CA_CERTS, cc_ca_certs },
	{ MOD_RSYSLOG, CC_RSYSLOG, cc_rsyslog },
	{ MOD_KEYBOARD, CC_KEYBOARD, cc_keyboard },
	{ MOD_LOCALE, CC_LOCALE, cc_locale },
	{ MOD_APT, CC_APT, cc_apt },
	{ MOD_NTP, CC_NTP, cc_ntp },
	{ MOD_TIMEZONE, CC_TIMEZONE, cc_timezone },
	{ MOD_FINAL_MESSAGE, CC_FINAL_MESSAGE, cc_final_message },
};

static int run_system_module(const struct cc_run *c, const struct cc_doc *d, enum module m,
			     struct tally *t)
{
	const struct cloud_config *cc = d->cc;
	int r = 0;

	if (!cc)
		return 0;
	if (m == MOD_POWER_STATE) {
		r = cc_power_state(c, cc, t->packages_ran);
		if (r < 0)
			t->failed[cc->has[CC_POWER_STATE] ? CC_POWER_STATE :
							    CC_PACKAGE_REBOOT_IF_REQUIRED] = true;
		if (r == 2) {
			t->root_skipped[CC_POWER_STATE] = cc->has[CC_POWER_STATE];
			t->root_skipped[CC_PACKAGE_REBOOT_IF_REQUIRED] =
				cc->has[CC_PACKAGE_REBOOT_IF_REQUIRED];
		}
		return r == 2 ? 0 : r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(system_modules); i++) {
		if (system_modules[i].m != m)
			continue;
		if (!cc->has[system_modules[i].k])
			return 0;
		r = system_modules[i].fn(c, cc);
		if (r < 0)
			t->failed[system_modules[i].k] = true;
		if (r == 2)
			t->root_skipped[system_modules[i].k] = true;
		return r == 2 ? 0 : r;
	}
	return 0;
}

static int run_module(const struct cc_run *c, const struct cc_doc *d, enum module m,
		      struct tally *t)
{
	const struct cloud_config *cc = d->cc;
	size_t failed = 0;
	int r = 0;

	switch (m) {
	case MOD_WRITE_FILES:
	case MOD_WRITE_FILES_DEFERRED:
		if (cc && cc->has[CC_WRITE_FILES])
			r = cc_write_files(c, cc, m == MOD_WRITE_FILES_DEFERRED);
		if (r < 0)
			t->failed[CC_WRITE_FILES] = true;
		break;
	case MOD_USERS:
		if (cc && cc->has[CC_USERS])
			r = cc_users(c, cc);
		if (r < 0)
			t->failed[CC_USERS] = true;
		break;
	case MOD_MOUNTS:
		if (cc && cc->has[CC_MOUNTS])
			r = cc_mounts(c, cc);
		if (r < 0)
			t->failed[CC_MOUNTS] = true;
		break;
	case MOD_PACKAGES:
		if (cc)
			r = run_packages(c, cc);
		if (r < 0)
			t->failed[CC_PACKAGES] = true;
		t->skipped = r == 2;
		t->packages_ran = r == 1 || r < 0;
		break;
	case MOD_SCRIPTS:
		for (size_t i = 0; i < d->n_scripts; i++) {
			struct script_result u = {};
			char base[64], stamp[80];
			int k;

			snprintf(base, sizeof(base), "user-data.part-%zu", d->scripts[i].index);
			if (c->dry_run) {
				cc_plan(c, "%-20s would run the shell script of MIME part %zu",
					"x-shellscript", d->scripts[i].index);
				continue;
			}
			snprintf(stamp, sizeof(stamp), "%s.ran", base);
			if (state_instance_has(c->root, c->id, stamp)) {
				char exit_stamp[80], what[48];

				/* Started before: finished (its exit status is kept) or cut short. */
				snprintf(exit_stamp, sizeof(exit_stamp), "%s.exit", base);
				if (state_instance_has(c->root, c->id, exit_stamp))
					continue;
				snprintf(what, sizeof(what), "MIME part %zu", d->scripts[i].index);
				if (strv_push(&t->interrupted, strdup(what)) < 0)
					return -ENOMEM;
				r = -EINTR;
				continue;
			}
			k = script_run_once(c->root, c->cfg, c->id, base, d->scripts[i].data,
					    d->scripts[i].len, &u);
			if (u.ran)
				t->scripts_ran++;
			if (k < 0) {
				t->scripts_failed++;
				r = k;
			}
			free(u.message);
		}
		break;
	case MOD_RUNCMD:
		if (cc && cc->has[CC_RUNCMD])
			r = run_commands(c, "runcmd", cc->runcmd, cc->n_runcmd, &failed);
		if (r < 0)
			t->failed[CC_RUNCMD] = true;
		break;
	case _MOD_MAX:
		break;
	default:
		return run_system_module(c, d, m, t);
	}
	return r;
}

/* "a, b, c, d, ..." */
static void append_names(FILE *f, char *const *names, size_t n)
{
	for (size_t i = 0; i < n && i < NAMES_SHOWN; i++)
		fprintf(f, "%s%s", i ? ", " : "", names[i]);
	if (n > NAMES_SHOWN)
		fputs(", ...", f);
}

static int summary(const struct cc_doc *d, const struct tally *t, bool dry_run, char **ret)
{
	_cleanup_strv_free_ char **failed = NULL, **ignored = NULL, **skipped_names = NULL;
	const struct cloud_config *cc = d->cc;
	_cleanup_free_ char *buf = NULL;
	size_t applied = 0, skipped = 0, len = 0;
	FILE *f;
	int r = 0;

	if (t->skipped && cc &&
	    (cc->has[CC_PACKAGES] || cc->has[CC_PACKAGE_UPDATE] || cc->has[CC_PACKAGE_UPGRADE]))
		r = strv_push(&skipped_names, strdup("packages"));
	for (size_t i = 0; cc && i < _CC_KEY_MAX && r >= 0; i++) {
		const char *name = cc_key_to_string((enum cc_key)i);

		if (i == CC_DISK_SETUP || i == CC_FS_SETUP) {
			if (cc->has[i] || cc->invalid[i])
				r = strv_push(&ignored, strdup(name));
		} else if (cc->invalid[i] || t->failed[i])
			r = strv_push(&failed, strdup(name));
		else if (t->skipped &&
			 (i == CC_PACKAGES || i == CC_PACKAGE_UPDATE || i == CC_PACKAGE_UPGRADE))
			skipped += cc->has[i];
		else if (t->root_skipped[i]) {
			skipped++;
			r = strv_push(&skipped_names, strdup(name));
		} else if (cc->has[i])
			applied++;
	}

	for (size_t i = 0; cc && cc->unknown && cc->unknown[i] && r >= 0; i++)
		r = strv_push(&ignored, strdup(cc->unknown[i]));
	if (r < 0)
		return r;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "cloud-config: %s%zu key%s%s", dry_run ? "would apply " : "", applied,
		applied == 1 ? "" : "s", dry_run ? "" : " applied");
	if (failed) {
		fprintf(f, ", %zu failed (", strv_length(failed));
		append_names(f, failed, strv_length(failed));
		fputc(')', f);
	}
	if (skipped) {
		fprintf(f, ", %zu skipped under --root (", skipped);
		append_names(f, skipped_names, strv_length(skipped_names));
		fputc(')', f);
	}
	if (ignored) {
		fprintf(f, ", %zu ignored (", strv_length(ignored));
		append_names(f, ignored, strv_length(ignored));
		fputc(')', f);
	}
	if (d->n_scripts > 0)
		fprintf(f, ", %zu script part%s %s", d->n_scripts, d->n_scripts == 1 ? "" : "s",
			dry_run ? "to run" : t->scripts_failed ? "ran with failures" : "ran");
	if (t->interrupted) {
		fprintf(f, ", %zu interrupted by an earlier boot and not run again (",
			strv_length(t->interrupted));
		append_names(f, t->interrupted, strv_length(t->interrupted));
		fputc(')', f);
	}
	if (d->ignored_parts)
		fprintf(f, ", %zu MIME part%s ignored", strv_length(d->ignored_parts),
			strv_length(d->ignored_parts) == 1 ? "" : "s");
	if (fclose(f) != 0)
		return -ENOMEM;
	free(*ret);
	*ret = TAKE_PTR(buf);
	return 0;
}

static void report_ignored(const struct cc_run *c, const struct cc_doc *d)
{
	const struct cloud_config *cc = d->cc;

	for (size_t i = 0; cc && cc->unknown && cc->unknown[i]; i++) {
		log_warning("cloud-config key '%s' is not supported by vagent, ignoring.",
			    cc->unknown[i]);
		cc_plan(c, "%-20s ignored: not supported by vagent", cc->unknown[i]);
	}
	if (cc && (cc->has[CC_DISK_SETUP] || cc->has[CC_FS_SETUP] || cc->invalid[CC_DISK_SETUP] ||
		   cc->invalid[CC_FS_SETUP])) {
		log_warning("cloud-config disk_setup and fs_setup are not executed: vagent's storage "
			    "step already partitions, formats and mounts blank volumes under its "
			    "blank-only rule, ignoring.");
		cc_plan(c, "%-20s ignored: the storage step handles blank volumes",
			"disk_setup/fs_setup");
	}
	for (size_t i = 0; cc && cc->problems && cc->problems[i]; i++) {
		log_warning("cloud-config %s, ignoring.", cc->problems[i]);
		cc_plan(c, "%-20s problem: %s", "", cc->problems[i]);
	}
	for (size_t i = 0; d->ignored_parts && d->ignored_parts[i]; i++) {
		log_warning("User data MIME %s: not handled by vagent, ignoring.",
			    d->ignored_parts[i]);
		cc_plan(c, "%-20s ignored: MIME %s", "", d->ignored_parts[i]);
	}
}

/* Plan lines for the keys other steps apply, so the dry run shows the whole picture. */
static void plan_other_steps(const struct cc_run *c, const struct cloud_config *cc)
{
	if (!cc)
		return;
	if (cc->has[CC_PRESERVE_HOSTNAME] && cc->preserve_hostname)
		cc_plan(c, "%-20s the hostname step leaves the hostname alone", "preserve_hostname");
	else if (cc->has[CC_FQDN] || cc->has[CC_HOSTNAME])
		cc_plan(c, "%-20s the hostname step applies it (policy %s)",
			cc->has[CC_FQDN] ? "fqdn" : "hostname",
			c->cfg->hostname_policy == HOSTNAME_FIRST_BOOT ? "first-boot" :
			c->cfg->hostname_policy == HOSTNAME_EVERY_BOOT ? "every-boot" :
									  "never");
	if (cc->has[CC_SSH_AUTHORIZED_KEYS])
		cc_plan(c, "%-20s %zu key%s added to '%s' by the ssh-keys step",
			"ssh_authorized_keys", strv_length(cc->ssh_authorized_keys),
			strv_length(cc->ssh_authorized_keys) == 1 ? "" : "s", c->cfg->ssh_user);
	if (cc->has[CC_SSH_DELETEKEYS] || cc->has[CC_SSH_GENKEYTYPES])
		cc_plan(c, "%-20s read by the host-keys step on the instance's first boot",
			cc->has[CC_SSH_DELETEKEYS] ? "ssh_deletekeys" : "ssh_genkeytypes");
	if (cc->has[CC_BOOTCMD])
		cc_plan(c, "%-20s %zu command%s, every boot, by the bootcmd step", "bootcmd",
			cc->n_bootcmd, cc->n_bootcmd == 1 ? "" : "s");
	for (size_t i = 0; i < _CC_KEY_MAX; i++)
		if (cc->invalid[i])
			cc_plan(c, "%-20s not applied: wrong shape", cc_key_to_string((enum cc_key)i));
}

int cc_apply_always(const char *root, const struct config *cfg, const char *id,
		    const struct cc_doc *d, const struct cc_host *host, bool dry_run, FILE *plan)
{
	struct cc_run c = { .root = root,
			    .cfg = cfg,
			    .id = id,
			    .dry_run = dry_run,
			    .plan = dry_run ? plan : NULL,
			    .log_fd = -1,
			    .host = host };
	struct tally t = {};
	int r;

	if (d->error || !d->cc)
		return 0;
	r = run_system_module(&c, d, MOD_FINAL_MESSAGE, &t);
	tally_done(&t);
	return r;
}

int cc_apply_instance(const char *root, const struct config *cfg, const char *id,
		      const struct cc_doc *d, const struct cc_host *host, bool dry_run, FILE *plan,
		      char **ret_message)
{
	_cleanup_close_ int dfd = -1, logfd = -1;
	size_t files_left = cfg->max_userdata_size;
	struct cc_run c = { .root = root,
			    .cfg = cfg,
			    .id = id,
			    .dry_run = dry_run,
			    .plan = dry_run ? plan : NULL,
			    .log_fd = -1,
			    .files_left = &files_left,
			    .host = host };
	_cleanup_(tally_done) struct tally t = {};
	bool failed = false, did = false;
	int r;

	if (d->error) {
		log_error("User data of instance '%s' is not usable: %s.", id, d->error_message);
		return message_set(ret_message, 0, "%s", d->error_message) ?: -EBADMSG;
	}

	if (c.plan)
		fprintf(c.plan, "cloud-config plan for instance '%s' (dry run):\n", id);
	if (!dry_run) {
		dfd = state_instance_open(root, id, true);
		if (dfd < 0)
			return log_error_errno(dfd, "Failed to open the state of instance '%s': %m",
					       id);
		logfd = openat(dfd, CC_LOG, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
			       0600);
		if (logfd < 0)
			log_warning_errno(errno, "Failed to open '%s': %m, ignoring.", CC_LOG);
		c.log_fd = logfd;
	}
	report_ignored(&c, d);
	plan_other_steps(&c, d->cc);

	for (size_t m = 0; m < _MOD_MAX; m++) {
		const char *stamp = module_stamps[m];
		char started[80];

		/* STAMP: the module finished for this instance. STAMP.started: it began; without
		 * STAMP the pass was cut short there. */
		if (stamp && state_instance_has(root, id, stamp))
			continue;
		if (stamp)
			snprintf(started, sizeof(started), "%s.started", stamp);
		if (stamp && !module_resumes[m] && state_instance_has(root, id, started)) {
			log_warning("cloud-config: '%s' of instance '%s' was cut short by an earlier "
				    "boot; it is not run twice. To run it again: rm %s/%s/%s && vagent "
				    "userdata", stamp + strlen("cloud-config."), id, STATE_INSTANCES, id,
				    started);
			if (strv_push(&t.interrupted, strdup(stamp + strlen("cloud-config."))) < 0)
				return log_error_errno(-ENOMEM, "Out of memory.");
			failed = true;
			continue;
		}
		if (stamp && !dry_run) {
			/* Before it starts: a command list cut short is never run twice. */
			r = write_file_atomic_at(dfd, started, "", 0, 0600, (uid_t)-1, (gid_t)-1);
			if (r < 0)
				return log_error_errno(r, "Failed to write the stamp '%s': %m", started);
		}
		r = run_module(&c, d, (enum module)m, &t);
		if (r == -ENOMEM)
			return log_error_errno(r, "Out of memory.");
		if (r < 0)
			failed = true;
		else if (r > 0)
			did = true;
		if (stamp && !dry_run) {
			int k = write_file_atomic_at(dfd, stamp, "", 0, 0600, (uid_t)-1, (gid_t)-1);
			if (k < 0)
				return log_error_errno(k, "Failed to write the stamp '%s': %m", stamp);
		}
	}
	if (d->cc)
		for (size_t i = 0; i < _CC_KEY_MAX; i++)
			failed = failed || d->cc->invalid[i];

	if (!dry_run) {
		r = write_file_atomic_at(dfd, CC_STAMP_DONE, "", 0, 0600, (uid_t)-1, (gid_t)-1);
		if (r < 0)
			log_warning_errno(r, "Failed to write the stamp '%s': %m, ignoring.",
					  CC_STAMP_DONE);
	}
	r = summary(d, &t, dry_run, ret_message);
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	if (failed)
		return -EPROTO;
	return did || cloud_config_n_keys(d->cc) > 0 || d->n_scripts > 0 ? 1 : 0;
}
