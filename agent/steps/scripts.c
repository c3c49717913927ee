/* SPDX-License-Identifier: MIT */
/*
 * scripts.c: the vendor-scripts, startup-script and scripts-per-{once,boot,instance} steps.
 * Frequencies as cloud-init's: the vendor data's scripts, the startup script and per-instance
 * once per instance, per-once once per machine (until `vagent clean --image`), per-boot every
 * boot. Each once-only script or directory is stamped before it starts, so a crash or reboot
 * in the middle never runs it twice. Content is never logged; output goes to the journal and
 * to a 0600 log in vagent's state. `[userdata] run = no` turns all of them off.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/runparts.h"
#include "base/script.h"
#include "base/state.h"
#include "base/util.h"
#include "cloudconfig/cc-apply.h"
#include "metadata/metadata.h"
#include "steps/scripts.h"
#include "steps/userdata.h"

/* What Vultr puts in startup-script when none is configured. */
#define STARTUP_PLACEHOLDER "echo No configured startup script"
#define STARTUP_BASE "startup-script"

int step_vendor_scripts(struct step_context *c, struct step_outcome *o)
{
	_cleanup_free_ char *m = NULL;
	const struct cc_doc *d;
	size_t n = 0;
	int r;

	if (!c->md->has_vendor_data)
		return step_set(o, STEP_SKIPPED, "no vendor data");
	if (!c->cfg->userdata_enabled)
		return step_set(o, STEP_SKIPPED, "not run: [userdata] run = no");
	d = userdata_doc(c);
	if (!d)
		return step_set(o, STEP_SKIPPED, "user data unknown: vendor data not applied");
	if (d->error)
		return step_set(o, STEP_SKIPPED, "user data not usable: vendor data not applied");
	if (d->vendor_disabled)
		return step_set(o, STEP_SKIPPED, "vendor data disabled by the user data "
				"(vendor_data: {enabled: false})");
	for (size_t i = 0; i < d->n_scripts; i++)
		n += streq(d->scripts[i].origin, "vendor-data");
	if (n == 0)
		return step_set(o, STEP_SKIPPED, "no vendor-data scripts");
	r = cc_apply_instance(c->root, c->cfg, c->instance_id, d, NULL, CC_PHASE_VENDOR_SCRIPTS,
			      c->dry_run, c->plan, NULL, &m);
	if (r < 0)
		return step_fail(o, r, "%s", m ? m : "vendor-data scripts failed");
	return step_set(o, r > 0 ? STEP_CHANGED : STEP_UNCHANGED, "%s", m ? m : "");
}

/* The startup script without leading and trailing white space: is it Vultr's "none"? */
static bool placeholder(const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
			   s[len - 1] == '\r'))
		len--;
	return len == 0 || (len == strlen(STARTUP_PLACEHOLDER) &&
			    memcmp(s, STARTUP_PLACEHOLDER, len) == 0);
}

int step_startup_script(struct step_context *c, struct step_outcome *o)
{
	_cleanup_free_ char *prev = NULL, *with_shebang = NULL;
	struct script_result u = { .exit_status = -1 };
	const struct metadata *md = c->md;
	const char *data = md->startup_script;
	size_t len = md->startup_script_len;
	int r;

	if (!md->has_startup_script || placeholder(data, len))
		return step_set(o, STEP_SKIPPED, "no startup script");
	if (userdata_detect(data, len) == USERDATA_CLOUD_CONFIG)
		return step_set(o, STEP_SKIPPED, "a #cloud-config startup script: merged into the "
				"cloud-config (userdata step)");
	if (!c->cfg->userdata_enabled)
		return step_set(o, STEP_SKIPPED, "not run: [userdata] run = no");
	if (state_instance_has(c->root, c->instance_id, STARTUP_BASE ".ran")) {
		if (state_instance_read(c->root, c->instance_id, STARTUP_BASE ".exit", 64, &prev,
					NULL) >= 0)
			prev[strcspn(prev, "\n")] = 0;
		return step_set(o, STEP_UNCHANGED, "startup script already ran for this instance "
				"(exit status %s)", prev ? prev : "unknown");
	}
	if (c->dry_run)
		return step_set(o, STEP_CHANGED, "would run the %zu-byte startup script", len);
	/* Vultr runs a startup script without a "#!" line with /bin/bash. */
	if (!(len >= 2 && data[0] == '#' && data[1] == '!')) {
		if (asprintf(&with_shebang, "#!/bin/bash\n%s", data) < 0)
			return step_fail(o, -ENOMEM, "out of memory");
		data = with_shebang;
		len += strlen("#!/bin/bash\n");
	}
	r = script_run_once(c->root, c->cfg, c->instance_id, STARTUP_BASE, data, len, &u);
	if (with_shebang)
		explicit_bzero(with_shebang, len);
	if (r < 0)
		r = step_fail(o, r, "startup %s", u.message ? u.message : "script failed");
	else
		r = step_set(o, STEP_CHANGED, "startup %s", u.message ? u.message : "script ran");
	free(u.message);
	return r;
}

enum frequency { PER_ONCE, PER_BOOT, PER_INSTANCE };

static const char *const dir_names[] = {
	[PER_ONCE] = SCRIPTS_DIR "/per-once",
	[PER_BOOT] = SCRIPTS_DIR "/per-boot",
	[PER_INSTANCE] = SCRIPTS_DIR "/per-instance",
};
static const char *const labels[] = {
	[PER_ONCE] = "scripts-per-once",
	[PER_BOOT] = "scripts-per-boot",
	[PER_INSTANCE] = "scripts-per-instance",
};

/* The stamp (per-once: vagent's state; per-instance: the instance's) and the log. */
static int open_state(struct step_context *c, enum frequency f)
{
	if (f == PER_INSTANCE)
		return state_instance_open(c->root, c->instance_id, true);
	return path_open_dir(c->root, STATE_DIR, true, 0755);
}

static bool once_stamped(const char *root, const char *stamp)
{
	_cleanup_close_ int fd = path_open_dir(root, STATE_DIR, false, 0);
	struct stat st;

	return fd >= 0 && fstatat(fd, stamp, &st, AT_SYMLINK_NOFOLLOW) >= 0;
}

static int run_dir(struct step_context *c, struct step_outcome *o, enum frequency f)
{
	_cleanup_(runparts_result_done) struct runparts_result res = {};
	_cleanup_free_ char *stamp = NULL, *logname = NULL;
	_cleanup_close_ int sfd = -1, logfd = -1;
	const char *dir = dir_names[f];
	int r;

	if (!c->cfg->userdata_enabled)
		return step_set(o, STEP_SKIPPED, "not run: [userdata] run = no");
	if (f == PER_INSTANCE && !c->instance_id)
		return step_set(o, STEP_SKIPPED, "no instance: left for the first boot with metadata");
	if (asprintf(&stamp, "%s.ran", labels[f]) < 0 || asprintf(&logname, "%s.log", labels[f]) < 0)
		return step_fail(o, -ENOMEM, "out of memory");

	sfd = c->dry_run ? -1 : open_state(c, f);
	if (!c->dry_run && sfd < 0)
		return step_fail(o, sfd, "cannot open vagent's state: %m");
	if (f == PER_INSTANCE ? state_instance_has(c->root, c->instance_id, stamp) :
	    f == PER_ONCE && once_stamped(c->root, stamp))
		return step_set(o, STEP_UNCHANGED, "already ran %s", f == PER_ONCE ?
				"on this machine" : "for this instance");

	/* What is there to run (a dry run of the directory): nothing, nothing stamped. */
	r = runparts(c->root, c->cfg, dir, labels[f], c->instance_id, -1, true,
		     c->dry_run ? c->plan : NULL, &res);
	if (r < 0)
		return step_fail(o, r, "cannot read %s: %m", dir);
	if (res.ran == 0)
		return step_set(o, STEP_SKIPPED, "no executables in %s%s", dir,
				res.skipped ? " (some files are not executable)" : "");
	if (c->dry_run)
		return step_set(o, STEP_CHANGED, "would run %zu script%s in %s", res.ran,
				res.ran == 1 ? "" : "s", dir);
	runparts_result_done(&res);

	if (f != PER_BOOT) {
		/* Before they start: a crash or a reboot in the middle never runs them twice. */
		r = write_file_atomic_at(sfd, stamp, "", 0, 0600, (uid_t)-1, (gid_t)-1);
		if (r < 0)
			return step_fail(o, r, "cannot write the stamp '%s': %m", stamp);
	}
	logfd = openat(sfd, logname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (logfd < 0)
		log_warning_errno(errno, "Failed to open the log '%s': %m, ignoring.", logname);
	r = runparts(c->root, c->cfg, dir, labels[f], c->instance_id, logfd, false, NULL, &res);
	if (r == -EPROTO)
		return step_fail(o, r, "%zu of %zu script%s in %s failed (first: %s)", res.failed,
				 res.ran, res.ran == 1 ? "" : "s", dir,
				 res.first_failed ? res.first_failed : "?");
	if (r < 0)
		return step_fail(o, r, "cannot run the scripts in %s: %m", dir);
	return step_set(o, STEP_CHANGED, "%zu script%s in %s ran", res.ran, res.ran == 1 ? "" : "s",
			dir);
}

int step_scripts_per_once(struct step_context *c, struct step_outcome *o)
{
	return run_dir(c, o, PER_ONCE);
}

int step_scripts_per_boot(struct step_context *c, struct step_outcome *o)
{
	return run_dir(c, o, PER_BOOT);
}

int step_scripts_per_instance(struct step_context *c, struct step_outcome *o)
{
	return run_dir(c, o, PER_INSTANCE);
}
