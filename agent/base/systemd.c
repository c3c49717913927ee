/* SPDX-License-Identifier: MIT */
/*
 * systemd.c: the only libsystemd user: systemd's unit names, and its bus for two things,
 * starting the transient mount unit of a volume (as systemd-mount does: StartTransientUnit,
 * then the job's JobRemoved signal) and reading whether units still have to run (GetUnit,
 * then ActiveState and Job), on PID 1's private socket, or on the system bus when that
 * fails. libsystemd is loaded with dlopen the first time it is needed (the journal and
 * sd_notify need no library: base/journal.c).
 */
#include <inttypes.h>
#include <stdint.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>

#include "base/dlopen.h"
#include "base/log.h"
#include "base/systemd.h"
#include "base/util.h"

bool systemd_booted(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- unit names ---- */

int unit_name_from_path(const char *path, const char *suffix, char **ret)
{
	static const char hex[] = "0123456789abcdef";
	_cleanup_free_ char *s = NULL;
	size_t n = 0, cap;
	bool first = true;
	const char *p;

	*ret = NULL;
	if (!path || path[0] != '/' || !suffix)
		return -EINVAL;
	cap = strlen(path) * 4 + strlen(suffix) + 2;
	s = malloc(cap);
	if (!s)
		return -ENOMEM;

	for (p = path; *p;) {
		size_t l;

		while (*p == '/')
			p++;
		l = strcspn(p, "/");
		if (l == 0)
			break;
		if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (!first)
			s[n++] = '-';
		for (size_t i = 0; i < l; i++) {
			unsigned char c = (unsigned char)p[i];
			bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				     (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '.';

			if (!plain || (first && i == 0 && c == '.')) {
				s[n++] = '\\';
				s[n++] = 'x';
				s[n++] = hex[c >> 4];
				s[n++] = hex[c & 15];
			} else
				s[n++] = (char)c;
		}
		first = false;
		p += l;
	}
	if (first) /* the root directory */
		s[n++] = '-';
	strcpy(s + n, suffix);
	if (strlen(s) > 255)
		return -ENAMETOOLONG;
	*ret = TAKE_PTR(s);
	return 0;
}

/* ---- the bus (libsystemd, loaded on first use) ---- */

static struct {
	typeof(sd_bus_new) *sd_bus_new;
	typeof(sd_bus_set_address) *sd_bus_set_address;
	typeof(sd_bus_start) *sd_bus_start;
	typeof(sd_bus_open_system) *sd_bus_open_system;
	typeof(sd_bus_flush_close_unref) *sd_bus_flush_close_unref;
	typeof(sd_bus_call_method) *sd_bus_call_method;
	typeof(sd_bus_message_new_method_call) *sd_bus_message_new_method_call;
	typeof(sd_bus_message_append) *sd_bus_message_append;
	typeof(sd_bus_message_open_container) *sd_bus_message_open_container;
	typeof(sd_bus_message_close_container) *sd_bus_message_close_container;
	typeof(sd_bus_message_read) *sd_bus_message_read;
	typeof(sd_bus_message_unref) *sd_bus_message_unref;
	typeof(sd_bus_call) *sd_bus_call;
	typeof(sd_bus_error_free) *sd_bus_error_free;
	typeof(sd_bus_error_has_name) *sd_bus_error_has_name;
	typeof(sd_bus_match_signal) *sd_bus_match_signal;
	typeof(sd_bus_slot_unref) *sd_bus_slot_unref;
	typeof(sd_bus_process) *sd_bus_process;
	typeof(sd_bus_wait) *sd_bus_wait;
	typeof(sd_bus_get_property) *sd_bus_get_property;
	typeof(sd_bus_get_property_string) *sd_bus_get_property_string;
} sym;
static void *libsystemd;

static int load_libsystemd(const char *why)
{
	static const struct dl_symbol syms[] = {
		DL_SYMBOL(sym, sd_bus_new),
		DL_SYMBOL(sym, sd_bus_set_address),
		DL_SYMBOL(sym, sd_bus_start),
		DL_SYMBOL(sym, sd_bus_open_system),
		DL_SYMBOL(sym, sd_bus_flush_close_unref),
		DL_SYMBOL(sym, sd_bus_call_method),
		DL_SYMBOL(sym, sd_bus_message_new_method_call),
		DL_SYMBOL(sym, sd_bus_message_append),
		DL_SYMBOL(sym, sd_bus_message_open_container),
		DL_SYMBOL(sym, sd_bus_message_close_container),
		DL_SYMBOL(sym, sd_bus_message_read),
		DL_SYMBOL(sym, sd_bus_message_unref),
		DL_SYMBOL(sym, sd_bus_call),
		DL_SYMBOL(sym, sd_bus_error_free),
		DL_SYMBOL(sym, sd_bus_error_has_name),
		DL_SYMBOL(sym, sd_bus_match_signal),
		DL_SYMBOL(sym, sd_bus_slot_unref),
		DL_SYMBOL(sym, sd_bus_process),
		DL_SYMBOL(sym, sd_bus_wait),
		DL_SYMBOL(sym, sd_bus_get_property),
		DL_SYMBOL(sym, sd_bus_get_property_string),
	};

	return dl_load(&libsystemd, "libsystemd.so.0", why, syms, ARRAY_SIZE(syms));
}

static void bus_closep(sd_bus **b)
{
	if (*b)
		sym.sd_bus_flush_close_unref(*b);
}

static void bus_message_unrefp(sd_bus_message **m)
{
	if (*m)
		sym.sd_bus_message_unref(*m);
}

static void bus_slot_unrefp(sd_bus_slot **s)
{
	if (*s)
		sym.sd_bus_slot_unref(*s);
}

static void bus_error_freep(sd_bus_error *e)
{
	if (sym.sd_bus_error_free)
		sym.sd_bus_error_free(e);
}

/* PID 1's private socket (root, no dbus-daemon needed, signals come unasked), else the bus. */
static int bus_connect(sd_bus **ret, bool *ret_direct)
{
	sd_bus *bus = NULL;
	int r;

	r = sym.sd_bus_new(&bus);
	if (r < 0)
		return r;
	r = sym.sd_bus_set_address(bus, "unix:path=/run/systemd/private");
	if (r >= 0)
		r = sym.sd_bus_start(bus);
	if (r >= 0) {
		*ret = bus;
		*ret_direct = true;
		return 0;
	}
	log_debug_errno(r, "Cannot connect to /run/systemd/private (%m), trying the system bus");
	sym.sd_bus_flush_close_unref(bus);
	bus = NULL;
	r = sym.sd_bus_open_system(&bus);
	if (r < 0)
		return r;
	*ret = bus;
	*ret_direct = false;
	return 0;
}

struct job_wait {
	const char *path; /* the job's object path, set once the call returned */
	char result[32];
	bool done;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct job_wait *w = userdata;
	const char *path, *unit, *result;
	uint32_t id;

	(void)error;
	if (sym.sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path && streq(path, w->path)) {
		snprintf(w->result, sizeof(w->result), "%s", result);
		w->done = true;
	}
	return 0;
}

static int append_properties(sd_bus_message *msg, const struct transient_mount *m)
{
	int r;

	r = sym.sd_bus_message_open_container(msg, 'a', "(sv)");
	if (r >= 0 && m->description)
		r = sym.sd_bus_message_append(msg, "(sv)", "Description", "s", m->description);
	if (r >= 0)
		r = sym.sd_bus_message_append(msg, "(sv)", "What", "s", m->what);
	if (r >= 0 && m->type)
		r = sym.sd_bus_message_append(msg, "(sv)", "Type", "s", m->type);
	if (r >= 0 && m->options)
		r = sym.sd_bus_message_append(msg, "(sv)", "Options", "s", m->options);
	if (r >= 0 && m->before)
		r = sym.sd_bus_message_append(msg, "(sv)", "Before", "as", 1, m->before);
	if (r >= 0)
		r = sym.sd_bus_message_append(msg, "(sv)", "CollectMode", "s",
					      "inactive-or-failed");
	if (r >= 0)
		r = sym.sd_bus_message_close_container(msg);
	if (r >= 0) /* no auxiliary units */
		r = sym.sd_bus_message_append(msg, "a(sa(sv))", 0);
	return r;
}

int systemd_mount_transient(const struct transient_mount *m)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_(bus_closep) sd_bus *bus = NULL;
	_cleanup_(bus_message_unrefp) sd_bus_message *msg = NULL, *reply = NULL;
	_cleanup_(bus_slot_unrefp) sd_bus_slot *slot = NULL;
	_cleanup_(bus_error_freep) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *unit = NULL, *job = NULL;
	struct job_wait w = {};
	uint64_t deadline;
	const char *path;
	bool direct;
	int r;

	r = unit_name_from_path(m->where, ".mount", &unit);
	if (r < 0)
		return log_error_errno(r, "No unit name for '%s': %m", m->where);
	if (load_libsystemd("mount through systemd") < 0)
		return -ENOTCONN;
	r = bus_connect(&bus, &direct);
	if (r < 0) {
		log_warning_errno(r, "Cannot talk to systemd (%m), mounting '%s' without it.",
				  m->where);
		return -ENOTCONN;
	}

	/* The match first: the job may end before the call's reply is read. */
	r = sym.sd_bus_match_signal(bus, &slot, direct ? NULL : "org.freedesktop.systemd1",
				    "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
				    "JobRemoved", on_job_removed, &w);
	if (r < 0)
		return log_error_errno(r, "Failed to watch systemd's jobs: %m");
	if (!direct) /* on the bus, systemd only signals subscribers */
		(void)sym.sd_bus_call_method(bus, "org.freedesktop.systemd1",
					     "/org/freedesktop/systemd1",
					     "org.freedesktop.systemd1.Manager", "Subscribe", NULL,
					     NULL, "");

	r = sym.sd_bus_message_new_method_call(bus, &msg, "org.freedesktop.systemd1",
					       "/org/freedesktop/systemd1",
					       "org.freedesktop.systemd1.Manager",
					       "StartTransientUnit");
	if (r >= 0)
		r = sym.sd_bus_message_append(msg, "ss", unit, "fail");
	if (r >= 0)
		r = append_properties(msg, m);
	if (r < 0)
		return log_error_errno(r, "Failed to build the request for '%s': %m", unit);
	r = sym.sd_bus_call(bus, msg, 10ULL * 1000000ULL, &error, &reply);
	if (r < 0) {
		if (sym.sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists")) {
			log_debug("systemd already has '%s': %s", unit, error.message);
			return -EEXIST;
		}
		return log_error_errno(r, "systemd refused the mount unit '%s': %s", unit,
				       error.message ? error.message : strerror(-r));
	}
	r = sym.sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return log_error_errno(r, "Unexpected reply to StartTransientUnit: %m");
	job = strdup(path);
	if (!job)
		return -ENOMEM;
	w.path = job;

	/* systemd 252 cannot set JobTimeoutSec= on a transient unit: the bound is ours, and a job
	 * still waiting then (for its device, say) is canceled, so nothing mounts behind us. */
	deadline = now_usec() + m->timeout_usec;
	while (!w.done) {
		uint64_t now = now_usec();

		r = sym.sd_bus_process(bus, NULL);
		if (r < 0)
			return log_error_errno(r, "Lost systemd while waiting for '%s': %m", unit);
		if (r > 0)
			continue;
		if (now >= deadline) {
			_cleanup_(bus_error_freep) sd_bus_error cerr = SD_BUS_ERROR_NULL;

			r = sym.sd_bus_call_method(bus, "org.freedesktop.systemd1", job,
						   "org.freedesktop.systemd1.Job", "Cancel", &cerr,
						   NULL, "");
			if (r < 0)
				log_warning_errno(r, "Cannot cancel systemd's job %s (%s), ignoring.", job,
						  cerr.message ? cerr.message : strerror(-r));
			return log_error_errno(-ETIMEDOUT, "systemd did not mount '%s' at '%s' within "
							   "%" PRIu64 " s: job %s canceled (journalctl -u '%s')",
					       m->what, m->where, m->timeout_usec / 1000000, job, unit);
		}
		r = sym.sd_bus_wait(bus, deadline - now);
		if (r < 0)
			return log_error_errno(r, "Lost systemd while waiting for '%s': %m", unit);
	}
	if (streq(w.result, "done"))
		return 1;
	r = streq(w.result, "timeout")	  ? -ETIMEDOUT :
	    streq(w.result, "canceled")	  ? -ECANCELED :
	    streq(w.result, "dependency") ? -ENODEV :
					    -EIO;
	return log_error_errno(r, "systemd did not mount '%s' at '%s': job %s (journalctl -u '%s')",
			       m->what, m->where, w.result, unit);
}

/* ---- whether units still have to run ---- */

#define SD_DEST "org.freedesktop.systemd1"

/* UNIT's state into *RET_PENDING, *RET_FAILED (loaded or not). <0: the bus failed. */
static int unit_state_on(sd_bus *bus, const char *unit, bool *ret_pending, bool *ret_failed)
{
	_cleanup_(bus_message_unrefp) sd_bus_message *reply = NULL, *job = NULL;
	_cleanup_(bus_error_freep) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *state = NULL;
	const char *path, *job_path;
	uint32_t job_id = 0;
	int r;

	*ret_pending = *ret_failed = false;
	r = sym.sd_bus_call_method(bus, SD_DEST, "/org/freedesktop/systemd1",
				   SD_DEST ".Manager", "GetUnit", &error, &reply, "s", unit);
	/* Not loaded: no job, nothing to run (a unit of this boot's transaction is loaded). */
	if (r < 0 && sym.sd_bus_error_has_name(&error, SD_DEST ".NoSuchUnit"))
		return 0;
	if (r >= 0)
		r = sym.sd_bus_message_read(reply, "o", &path);
	if (r >= 0)
		r = sym.sd_bus_get_property_string(bus, SD_DEST, path, SD_DEST ".Unit",
						   "ActiveState", &error, &state);
	if (r >= 0)
		r = sym.sd_bus_get_property(bus, SD_DEST, path, SD_DEST ".Unit", "Job", &error,
					    &job, "(uo)");
	if (r >= 0)
		r = sym.sd_bus_message_read(job, "(uo)", &job_id, &job_path);
	if (r < 0)
		return r;
	*ret_pending = job_id != 0 || streq(state, "activating") || streq(state, "reloading");
	*ret_failed = streq(state, "failed");
	return 0;
}

int systemd_units_state(const char *const *units, size_t n, bool *ret_pending, bool *ret_failed)
{
	_cleanup_(bus_closep) sd_bus *bus = NULL;
	bool direct;
	int r;

	if (load_libsystemd("ask systemd about its units") < 0)
		return -ENOTCONN;
	r = bus_connect(&bus, &direct);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = unit_state_on(bus, units[i], &ret_pending[i], &ret_failed[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
