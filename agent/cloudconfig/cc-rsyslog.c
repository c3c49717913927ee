/* SPDX-License-Identifier: MIT */
/*
 * cc-rsyslog.c: the cloud-config key rsyslog (cloudinit/config/cc_rsyslog.py): each config
 * entry's content into its drop-in in config_dir (/etc/rsyslog.d; the default file
 * 20-cloud-config.conf; a file named twice gets both contents, in order), the remotes rendered
 * as rsyslog forwarding lines ("*.* @@[2001:db8::1]:514 # name") between "# begin remotes" and
 * "# end remotes" in the default file, then rsyslog reloaded or restarted when it runs
 * (systemctl try-reload-or-restart, or the service_reload_command given). The drop-ins are
 * written whole and atomically, so a pass that runs again writes the same files.
 */
#include <ctype.h>

#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/util.h"

#define RSYSLOG_DIR "/etc/rsyslog.d"
#define RSYSLOG_FILE "20-cloud-config.conf"
#define RSYSLOG_MAX_FILES 64

struct dropin {
	char *path;
	FILE *f;
	char *buf;
	size_t len;
};

/* cc_rsyslog.parse_remotes_line() + SyslogRemotesLine.__str__(): "[MATCH ]{@,@@}HOST[:PORT]
 * [# COMMENT]" -> "MATCH @HOST:PORT # NAME" (MATCH *.*, UDP unless @@), written to F; blanks
 * around the words are dropped. -EINVAL with *WHY. */
static int render_remote(FILE *f, const char *name, const char *line, const char **why)
{
	_cleanup_free_ char *data = NULL, *addr = NULL;
	const char *hash, *p, *match = "*.*", *hp;
	size_t mlen = 3, n;
	int at = 0;
	unsigned long port = 0;

	/* re.split(r"[ ]*[#]+[ ]*", line): exactly one '#' run splits off a comment */
	hash = strchr(line, '#');
	if (hash) {
		const char *after = hash + strspn(hash, "#");
		if (strchr(after, '#'))
			hash = NULL; /* more than one: ValueError, the whole line is the data */
	}
	n = hash ? (size_t)(hash - line) : strlen(line);
	while (hash && n > 0 && line[n - 1] == ' ')
		n--;
	data = strndup(line, n);
	if (!data)
		return -ENOMEM;
	/* one or two words: [match] host_port */
	p = data + strspn(data, " \t");
	hp = p + strcspn(p, " \t");
	if (*hp) {
		const char *second = hp + strspn(hp, " \t");
		size_t k = strcspn(second, " \t");

		if (*second && second[k + strspn(second + k, " \t")] != 0) {
			*why = "more than two words";
			return -EINVAL;
		}
		if (*second) {
			match = p;
			mlen = (size_t)(hp - p);
			p = second;
		}
		data[(size_t)(p - data) + strcspn(p, " \t")] = 0; /* trailing blanks */
	}
	while (*p == '@' && at < 2)
		p++, at++;
	if (*p == '[') {
		const char *e = strchr(p, ']');

		if (!e) {
			*why = "an unclosed '['";
			return -EINVAL;
		}
		addr = strndup(p + 1, (size_t)(e - p - 1));
		p = e + 1;
	} else {
		size_t k = strcspn(p, ":");

		addr = strndup(p, k);
		p += k;
	}
	if (!addr)
		return -ENOMEM;
	if (*p == ':') {
		char *end;

		errno = 0;
		port = strtoul(p + 1, &end, 10);
		if (!isdigit((unsigned char)p[1]) || *end || errno || port > 65535) {
			*why = "a port that is not a number";
			return -EINVAL;
		}
		p = end;
	}
	if (*p) {
		*why = "not [match] [@|@@]host[:port]";
		return -EINVAL;
	}
	if (!*addr || addr[strcspn(addr, " \t[]\"\\")] != 0) {
		*why = "no address";
		return -EINVAL;
	}
	fprintf(f, "%.*s %s", (int)mlen, match, at == 2 ? "@@" : "@");
	fprintf(f, strchr(addr, ':') ? "[%s]" : "%s", addr);
	if (port)
		fprintf(f, ":%lu", port);
	if (name && *name)
		fprintf(f, " # %s", name);
	fputc('\n', f);
	return 0;
}

static bool file_name_ok(const char *s)
{
	return *s && !path_has_dotdot(s) && !string_has_control(s, strlen(s), false) &&
	       strlen(s) < 256;
}

/* The drop-in for FILENAME (relative to DIR, or absolute), opened on first use. */
static struct dropin *dropin_get(struct dropin *d, size_t *n, const char *dir,
				 const char *filename)
{
	_cleanup_free_ char *path = NULL;

	path = filename[0] == '/' ? strdup(filename) : path_join(dir, filename);
	if (!path)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		if (streq(d[i].path, path))
			return &d[i];
	if (*n >= RSYSLOG_MAX_FILES)
		return NULL;
	d[*n].f = open_memstream(&d[*n].buf, &d[*n].len);
	if (!d[*n].f)
		return NULL;
	d[*n].path = TAKE_PTR(path);
	return &d[(*n)++];
}

int cc_rsyslog(const struct cc_run *c, const struct cloud_config *cc)
{
	static const char *const rsyslogd[] = { "/usr/sbin/rsyslogd", "/sbin/rsyslogd", NULL };
	const struct cc_rsyslog *s = &cc->rsyslog;
	const char *dir = s->config_dir ? s->config_dir : RSYSLOG_DIR;
	const char *def = s->config_filename ? s->config_filename : RSYSLOG_FILE;
	struct dropin d[RSYSLOG_MAX_FILES] = {};
	size_t n = 0, bad = 0;
	int r = 0, changed = 0;

	if (dir[0] != '/' || !file_name_ok(dir) || !file_name_ok(def))
		return log_error_errno(-EINVAL, "cloud-config rsyslog: config_dir must be an "
				       "absolute path and config_filename a file name, not applied.");
	for (size_t i = 0; i < s->n_configs && r >= 0; i++) {
		const struct cc_rsyslog_config *e = &s->configs[i];
		const char *fn = e->filename ? e->filename : def;
		size_t cl = strlen(e->content);
		struct dropin *x;

		if (!file_name_ok(fn)) {
			log_warning("cloud-config rsyslog configs[%zu]: not a usable file name, "
				    "ignoring.", i);
			bad++;
			continue;
		}
		x = dropin_get(d, &n, dir, fn);
		if (!x) {
			r = log_error_errno(-ENOMEM, "cloud-config rsyslog: out of memory or more "
					    "than %u files.", RSYSLOG_MAX_FILES);
			break;
		}
		fputs(e->content, x->f);
		if (cl == 0 || e->content[cl - 1] != '\n')
			fputc('\n', x->f);
	}
	if (r >= 0 && s->n_remotes > 0) {
		struct dropin *x = dropin_get(d, &n, dir, def);

		if (!x)
			r = log_error_errno(-ENOMEM, "Out of memory.");
		else
			fputs("# begin remotes\n", x->f);
		for (size_t i = 0; r >= 0 && i < s->n_remotes; i++) {
			const char *why = "";
			int k = render_remote(x->f, s->remote_names[i], s->remote_lines[i], &why);

			if (k == -ENOMEM)
				r = log_error_errno(k, "Out of memory.");
			else if (k < 0) {
				log_warning("cloud-config rsyslog remotes '%s': %s, ignoring.",
					    s->remote_names[i], why);
				bad++;
			}
		}
		if (r >= 0)
			fputs("# end remotes\n", x->f);
	}
	for (size_t i = 0; i < n; i++)
		if (fclose(d[i].f) != 0 && r >= 0)
			r = log_error_errno(-ENOMEM, "Out of memory.");
	for (size_t i = 0; i < n && r >= 0; i++) {
		int k = cc_write(c, "rsyslog", d[i].path, d[i].buf, d[i].len, 0644);

		if (k < 0)
			r = k;
		changed |= k > 0;
	}
	for (size_t i = 0; i < n; i++) {
		free(d[i].path);
		free(d[i].buf);
	}
	if (r < 0)
		return r;
	if (changed) {
		if (s->reload_custom) {
			char *sh[] = { "sh", "-c", s->reload.shell, NULL };

			r = cc_system_command(c, "rsyslog", s->reload.shell ? sh : s->reload.argv,
					      NULL);
		} else if (!cc_root_has(c, rsyslogd)) {
			log_notice("cloud-config rsyslog: rsyslog is not installed; the drop-ins are "
				   "written for when it is.");
			r = 0;
		} else
			r = cc_service(c, "rsyslog", "try-reload-or-restart", "rsyslog.service");
		/* cloud-init: a failed reload is a warning, the configuration stays written */
		if (r < 0)
			log_warning("cloud-config rsyslog: the reload failed, ignoring.");
	}
	if (bad)
		return -EINVAL;
	return changed;
}
