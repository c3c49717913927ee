/* SPDX-License-Identifier: MIT */
/*
 * cc-modules.h: the cloud-config modules that change the system, shared between cc-apply.c
 * (which orders and stamps them) and the file that implements each: cc-files.c (write_files),
 * cc-users.c (users and groups, sudo rules, the passwd/group lookups), cc-mounts.c (fstab),
 * and the system keys: cc-system.c (timezone, locale, keyboard), cc-ntp.c, cc-apt.c,
 * cc-certs.c (ca_certs), cc-rsyslog.c, cc-power.c (final_message, power_state,
 * package_reboot_if_required).
 * Every module honours dry_run in exactly one place and writes plan lines instead.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cloudconfig/cloudconfig.h"
#include "base/config.h"
#include "base/macro.h"
#include "base/report.h"

/* What a module says about one of its keys (cc_key_set()); unset keys get the default. */
struct cc_key_state {
	bool set;
	enum key_status status;
	char *reason;
};

struct cc_run {
	const char *root;
	const struct config *cfg;
	const char *id;
	bool dry_run;
	FILE *plan; /* dry run: one line per action goes here (may be NULL) */
	int log_fd; /* command output copy (the instance's cloud-config.log), -1 for none */
	size_t *files_left; /* write_files: decoded bytes still allowed, both passes together */
	const struct cc_host *host; /* may be NULL: nothing fetched */
	struct cc_key_state *keys; /* [_CC_KEY_MAX]: what the modules said about their keys */
};

/*
 * The status of key K as its module found it: KEY_PARTIAL when some entries were dropped
 * ("2 of 3 files written"), KEY_ERROR when it failed, KEY_IGNORED when it did not run (why),
 * KEY_APPLIED with a short note. A later call for the same key keeps the worse status; one as
 * bad replaces the reason (a key two modules apply, write_files and its deferred files, says
 * its totals). Without a call, a key is
 * applied, or an error when its module returned <0. The parser's problems are added to the
 * reason by the driver.
 */
void cc_key_set(const struct cc_run *c, enum cc_key k, enum key_status s, const char *fmt, ...)
	_printf_(4, 5);

void cc_plan(const struct cc_run *c, const char *fmt, ...) _printf_(2, 3);

/* Run ARGV (WHAT names it in messages) with the instance's environment; its output goes to
 * the journal and to C->log_fd. 0 exit status 0, -EPROTO non-zero, other <0 not started. */
int cc_spawn(const struct cc_run *c, const char *what, char *const argv[], char *const *extra_env);
/* The same with STDIN_FD as the command's stdin (no extra environment). */
int cc_spawn_stdin(const struct cc_run *c, const char *what, char *const argv[], int stdin_fd);

/*
 * For the system keys (cc-run.c). A file inside ROOT, written atomically without following a
 * symlink, only when its content or mode differ; a dry run writes the plan line instead. KEY
 * names the key in messages. <0 failed (logged), 0 already so, 1 written (or would be).
 */
int cc_write(const struct cc_run *c, const char *key, const char *path, const void *data,
	     size_t len, mode_t mode);
/* Remove PATH inside ROOT (no symlink followed): <0 failed (logged), 0 not there, 1 removed. */
int cc_remove(const struct cc_run *c, const char *key, const char *path);
/*
 * Run ARGV, a command that changes the running system (a service restart, update-ca-certificates,
 * shutdown's scheduling): under --root it is not run but recorded (a notice, the plan, the
 * instance's cloud-config.log), since it would act on this machine, not on the image. <0 it
 * failed, 1 ran (or would run), 2 recorded, not run (--root).
 */
int cc_system_command(const struct cc_run *c, const char *key, char *const argv[],
		      char *const *extra_env);
/* systemd runs ROOT (ROOT/run/systemd/system is a directory). */
bool cc_systemd_running(const struct cc_run *c);
/* The first of PATHS (NULL-terminated, absolute) that is a file inside ROOT, or NULL. */
const char *cc_root_has(const struct cc_run *c, const char *const *paths);
/* systemctl ACTION UNIT (reload-or-restart, try-reload-or-restart, restart) through
 * cc_system_command() when systemd runs the system; otherwise a notice says why not (0). */
int cc_service(const struct cc_run *c, const char *key, const char *action, const char *unit);
/* N commands as one shell script, as cloud-init's util.shellify: "#!/bin/sh", then each string
 * as a line and each list as its words in single quotes (a ' as '\''), joined by spaces. */
int cc_shellify(const struct cc_command *cmds, size_t n, char **ret, size_t *ret_len);

/* write_files, the entries with defer == DEFERRED. Their decoded contents count against
 * *C->files_left (an entry beyond it fails). Adds to *N_OK and *N_FAILED. <0 some failed, 0
 * none, 1 wrote. */
int cc_write_files(const struct cc_run *c, const struct cloud_config *cc, bool deferred,
		   size_t *n_ok, size_t *n_failed);

/* users. <0 some failed, 0 nothing to do, 1 changed. */
int cc_users(const struct cc_run *c, const struct cloud_config *cc);

/* Set USER's password (a crypt hash when HASHED) with chpasswd, the password on its stdin.
 * 0 set (or would be), <0 failed (logged, without the password). */
int cc_set_password(const struct cc_run *c, const char *user, const char *password, bool hashed);

/* chpasswd (list and users forms, expire) and password (the default user): <0 some failed,
 * 0 nothing to do, 1 changed. */
int cc_passwords(const struct cc_run *c, const struct cloud_config *cc);

/* ssh_pwauth: PasswordAuthentication in /etc/ssh/sshd_config.d/50-vagent.conf, sshd reloaded
 * when it runs. <0 failed, 0 unchanged (or "unchanged"), 1 changed. */
int cc_ssh_pwauth(const struct cc_run *c, const struct cloud_config *cc);

/* mounts, mount_default_fields and swap: vagent's cloud-config lines in etc/fstab, the swap
 * file. <0 failed (or some entries refused), 0 unchanged, 1 changed. */
int cc_mounts(const struct cc_run *c, const struct cloud_config *cc);
/* cloud-init's suggested_swapsize(): bytes of swap for MEM bytes of memory, MAXSIZE (0: none)
 * and AVAIL free bytes where the file goes. */
uint64_t cc_suggested_swapsize(uint64_t mem, uint64_t maxsize, uint64_t avail);

/* The system keys, each only when present. <0 failed, 0 nothing to do, 1 changed (or would),
 * 2 skipped (under --root: it would act on this machine). */
int cc_timezone(const struct cc_run *c, const struct cloud_config *cc);
int cc_locale(const struct cc_run *c, const struct cloud_config *cc);
int cc_keyboard(const struct cc_run *c, const struct cloud_config *cc);
int cc_ntp(const struct cc_run *c, const struct cloud_config *cc);
int cc_apt(const struct cc_run *c, const struct cloud_config *cc);
int cc_ca_certs(const struct cc_run *c, const struct cloud_config *cc);
int cc_rsyslog(const struct cc_run *c, const struct cloud_config *cc);
/* final_message: every boot, with {{uptime}} {{timestamp}} {{version}} {{datasource}}. */
int cc_final_message(const struct cc_run *c, const struct cloud_config *cc);
/* power_state, or the reboot package_reboot_if_required asks for once packages ran
 * (PACKAGES_RAN): a detached waiter runs shutdown(8) once this vagent process has exited
 * (or after power_state's timeout), as cloud-init does after its final stage. */
int cc_power_state(const struct cc_run *c, const struct cloud_config *cc, bool packages_ran);
