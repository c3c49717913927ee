/* SPDX-License-Identifier: MIT */
/*
 * userdata.c: the user-data step. The user data is secret: it is stored (0600) in the
 * instance's state directory, never logged; only its kind and size are. A "#!" script runs once
 * per instance: a stamp is written before it starts, so a crash or reboot mid-script does not
 * run it twice. It runs from an argv with posix_spawn (the kernel reads the "#!" line), with a
 * timeout, its output copied to the journal and to a 0600 log beside it; the exit status is
 * kept and reported. Cloud-config (plain, gzip-compressed or in a MIME archive) is decoded by
 * cc-apply.c and applied once per instance there, each module stamped, so an interrupted pass
 * resumes; shell-script MIME parts run here like a "#!" script, each with its own stamp. Other
 * formats are stored and reported as not handled by this step.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "cloudconfig/cc-apply.h"
#include "cloudconfig/cc-gzip.h"
#include "cloudconfig/cc-mime.h"
#include "base/log.h"
#include "base/process.h"
#include "base/state.h"
#include "steps/userdata.h"
#include "base/util.h"

#define UD_STORED USERDATA_STORED
#define UD_BASE "user-data"
#define UD_RAN "user-data.ran"
#define UD_EXIT "user-data.exit"

enum userdata_kind userdata_detect(const char *data, size_t len)
{
	static const char mime[] = "content-type: multipart/";
	size_t i = 0;

	if (!data || len == 0)
		return USERDATA_NONE;
	if (len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b)
		return USERDATA_GZIP;
	if (len >= 2 && data[0] == '#' && data[1] == '!')
		return USERDATA_SCRIPT;
	if (len >= 13 && strneq(data, "#cloud-config", 13) &&
	    (len == 13 || data[13] == '\n' || data[13] == '\r' || data[13] == ' '))
		return USERDATA_CLOUD_CONFIG;
	if (len >= sizeof(mime) - 1 && strncasecmp(data, mime, sizeof(mime) - 1) == 0)
		return USERDATA_MIME;
	if (mime_is(data, len))
		return USERDATA_MIME; /* "MIME-Version: 1.0" first, as Python's email module writes */
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '['))
		return USERDATA_JSON;
	return USERDATA_OTHER;
}

const char *userdata_kind_to_string(enum userdata_kind k)
{
	static const char *const names[] = {
		[USERDATA_NONE] = "none",
		[USERDATA_SCRIPT] = "script",
		[USERDATA_CLOUD_CONFIG] = "cloud-config",
		[USERDATA_MIME] = "MIME multipart",
		[USERDATA_GZIP] = "gzip",
		[USERDATA_JSON] = "JSON",
		[USERDATA_OTHER] = "unrecognised",
	};
	return names[k];
}

static int set_message(struct userdata_result *ret, const char *fmt, ...) _printf_(2, 3);
static int set_message(struct userdata_result *ret, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(ret->message);
	ret->message = s;
	return s ? 0 : -ENOMEM;
}

static void script_line(const char *line, void *userdata _unused_)
{
	/* The script's own output: the user's words, one journal line each. */
	log_full_id(LOG_INFO, MSGID_USERDATA, "user-data script: %s", line);
}

int userdata_run_script(const char *root, const struct config *cfg, const char *id,
			const char *base, const char *data, size_t len, struct userdata_result *ret)
{
	_cleanup_free_ char *dir = NULL, *script = NULL, *n_script = NULL, *n_log = NULL,
			    *n_ran = NULL, *n_exit = NULL;
	_cleanup_close_ int dfd = -1, logfd = -1;
	struct spawn_options o;
	char buf[16];
	int r, status = -1;

	if (asprintf(&n_script, "%s.script", base) < 0 || asprintf(&n_log, "%s.log", base) < 0 ||
	    asprintf(&n_ran, "%s.ran", base) < 0 || asprintf(&n_exit, "%s.exit", base) < 0)
		return -ENOMEM;

	dfd = state_instance_open(root, id, true);
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to open the state of instance '%s': %m", id);

	r = write_file_atomic_at(dfd, n_script, data, len, 0700, (uid_t)-1, (gid_t)-1);
	if (r < 0)
		return log_error_errno(r, "Failed to write the user-data script '%s': %m", n_script);

	/* Once per instance: the stamp comes first, so a crash mid-script never runs it twice. */
	r = write_file_atomic_at(dfd, n_ran, "", 0, 0600, (uid_t)-1, (gid_t)-1);
	if (r < 0)
		return log_error_errno(r, "Failed to write the user-data stamp: %m");

	logfd = openat(dfd, n_log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (logfd < 0)
		return log_error_errno(errno, "Failed to open the user-data log: %m");

	dir = path_join_root(root, STATE_INSTANCES);
	if (!dir)
		return -ENOMEM;
	if (asprintf(&script, "%s/%s/%s", dir, id, n_script) < 0)
		return -ENOMEM;

	o = (struct spawn_options){
		.timeout_usec = cfg->userdata_timeout_usec,
		.log_fd = logfd,
		.line_cb = script_line,
	};
	log_full_id(LOG_INFO, MSGID_USERDATA, "Running the user-data script '%s' of instance '%s'.",
		    n_script, id);
	char *argv[] = { script, NULL };
	r = spawn_run(argv, &o, &status);
	ret->ran = true;
	if (r == -ETIME) {
		ret->exit_status = -1;
		set_message(ret, "script killed after the %llu s timeout",
			    (unsigned long long)(cfg->userdata_timeout_usec / 1000000ULL));
		(void)write_file_atomic_at(dfd, n_exit, "timeout\n", 8, 0600, (uid_t)-1,
					   (gid_t)-1);
		return log_error_errno(ETIME, "The user-data script '%s' of instance '%s' was "
					      "killed after its timeout.", n_script, id);
	}
	if (r < 0) {
		set_message(ret, "script could not start: %s", strerror(-r));
		return log_error_errno(r, "Failed to start the user-data script '%s': %m", script);
	}

	ret->exit_status = status;
	snprintf(buf, sizeof(buf), "%d\n", status);
	r = write_file_atomic_at(dfd, n_exit, buf, strlen(buf), 0600, (uid_t)-1, (gid_t)-1);
	if (r < 0)
		log_warning_errno(r, "Failed to record the user-data exit status: %m, ignoring.");
	set_message(ret, "script ran, exit status %d (output in %s/%s/%s)", status,
		    STATE_INSTANCES, id, n_log);
	if (status != 0)
		return log_error_errno(EPROTO, "The user-data script '%s' of instance '%s' exited "
					       "with status %d.", n_script, id, status);
	log_full_id(LOG_INFO, MSGID_USERDATA,
		    "The user-data script '%s' of instance '%s' succeeded.", n_script, id);
	return 1;
}

static bool is_cc_kind(enum userdata_kind k)
{
	return k == USERDATA_CLOUD_CONFIG || k == USERDATA_MIME || k == USERDATA_GZIP;
}

int userdata_apply(const char *root, const struct config *cfg, const char *id, const char *data,
		   size_t len, bool known, bool store_only, bool dry_run,
		   struct userdata_result *ret)
{
	return userdata_apply_doc(root, cfg, id, data, len, known, store_only, dry_run, NULL, NULL,
				  ret);
}

int userdata_apply_doc(const char *root, const struct config *cfg, const char *id,
		       const char *data, size_t len, bool known, bool store_only, bool dry_run,
		       const struct cc_doc *doc, FILE *plan, struct userdata_result *ret)
{
	_cleanup_free_ char *stored = NULL, *prev_exit = NULL;
	_cleanup_(cc_doc_done) struct cc_doc own = {};
	size_t stored_len = 0;
	enum userdata_kind kind;
	bool ran_before, have_stored, cc = false;
	const char *what;
	int r;

	*ret = (struct userdata_result){ .exit_status = -1 };

	if (!id)
		return set_message(ret, "no instance identity: nothing to do") ?: 2;

	ran_before = state_instance_has(root, id, UD_RAN);
	r = state_instance_read(root, id, UD_STORED, cfg->max_userdata_size, &stored, &stored_len);
	have_stored = r >= 0;
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		log_warning_errno(r, "Failed to read the stored user data: %m, ignoring.");

	if (!known) {
		/* Could not be fetched this time: work from what was stored before. */
		if (!have_stored)
			return set_message(ret, "user data unknown (not fetched), nothing stored") ?:
								       2;
		data = stored;
		len = stored_len;
	}

	if (ran_before) {
		bool changed = have_stored && data &&
			       (len != stored_len || memcmp(data, stored, len) != 0);

		if (changed)
			log_full_id(LOG_NOTICE, MSGID_USERDATA,
				    "The user data of instance '%s' changed after its first boot; it "
				    "will not run again. To run it: rm %s/%s/%s && vagent userdata",
				    id, STATE_INSTANCES, id, UD_RAN);
		if (!have_stored || !is_cc_kind(userdata_detect(stored, stored_len))) {
			if (state_instance_read(root, id, UD_EXIT, 64, &prev_exit, NULL) >= 0)
				prev_exit[strcspn(prev_exit, "\n")] = 0;
			return set_message(ret, "script already ran for this instance (exit status "
						"%s)", prev_exit ? prev_exit : "unknown") ?: 0;
		}
		if (state_instance_has(root, id, CC_STAMP_DONE))
			return set_message(ret, "cloud-config already applied for this instance") ?:
								       0;
		/* A pass that did not finish (crash, reboot) resumes from the stored copy. */
		log_notice("The cloud-config pass of instance '%s' did not finish; resuming.", id);
		if (changed)
			doc = NULL;
		data = stored;
		len = stored_len;
	}

	kind = userdata_detect(data, len);
	if (kind == USERDATA_NONE)
		return set_message(ret, "no user data") ?: 0;

	if (is_cc_kind(kind)) {
		if (!doc) {
			r = cc_doc_decode(cfg, data, len, &own);
			if (r < 0)
				return log_error_errno(r, "Out of memory.");
			doc = &own;
		}
		if (doc->kind == USERDATA_SCRIPT && doc->plain) {
			/* A gzip-compressed "#!" script. */
			kind = USERDATA_SCRIPT;
		} else
			cc = doc->error || doc->kind == USERDATA_CLOUD_CONFIG ||
			     doc->kind == USERDATA_MIME;
	}
	what = cc ? "cloud-config" : userdata_kind_to_string(kind);

	if (dry_run) {
		if (cc && cfg->userdata_enabled)
			return cc_apply_instance(root, cfg, id, doc, true, plan, &ret->message);
		return set_message(ret, "would store %zu bytes of %s user data%s", len,
				   userdata_kind_to_string(kind),
				   kind == USERDATA_SCRIPT && cfg->userdata_enabled ?
					   " and run the script" :
					   "") ?:
							  1;
	}

	if (!have_stored || len != stored_len || memcmp(data, stored, len) != 0) {
		r = state_instance_write(root, id, UD_STORED, data, len);
		if (r < 0)
			return log_error_errno(r, "Failed to store the user data of instance '%s': "
						  "%m", id);
	}

	if (kind != USERDATA_SCRIPT && !cc) {
		log_full_id(LOG_NOTICE, MSGID_USERDATA,
			    "User data of instance '%s' is %s (%zu bytes): stored, not handled by "
			    "this step.", id, userdata_kind_to_string(kind), len);
		return set_message(ret, "%s user data (%zu bytes) stored, not handled by this step",
				   userdata_kind_to_string(kind), len) ?:
								       2;
	}
	if (!cfg->userdata_enabled)
		return set_message(ret, "%s stored, not run: [userdata] run = no", what) ?: 2;
	if (store_only)
		return set_message(ret, "%s stored (%zu bytes); `vagent userdata` %s it", what, len,
				   cc ? "applies" : "runs") ?: 1;

	if (cc) {
		if (!ran_before) {
			r = state_instance_write(root, id, UD_RAN, "", 0);
			if (r < 0)
				return log_error_errno(r, "Failed to write the user-data stamp: %m");
		}
		return cc_apply_instance(root, cfg, id, doc, false, NULL, &ret->message);
	}
	if (doc && doc->plain)
		return userdata_run_script(root, cfg, id, UD_BASE, doc->plain, doc->plain_len, ret);
	return userdata_run_script(root, cfg, id, UD_BASE, data, len, ret);
}
