/* SPDX-License-Identifier: MIT */
/*
 * cc-system.c: the cloud-config keys timezone, locale and keyboard, the way cloud-init's Debian
 * distro applies them (cloudinit/distros/debian.py, set_etc_timezone in distros/__init__.py):
 * files inside ROOT, written atomically without following a symlink, and the one command that
 * acts on the running system (locale-gen, the console-setup restart) recorded instead of run
 * under --root. timezone: /etc/timezone and /etc/localtime (a symlink into
 * /usr/share/zoneinfo when it is one or missing, else a copy). locale: the locale enabled in
 * /etc/locale.gen (cloud-init's lookup in /usr/share/i18n/SUPPORTED), locale-gen
 * --keep-existing, LANG in /etc/default/locale (update-locale's edit, done here). keyboard:
 * /etc/default/keyboard as cloud-init writes it, then console-setup restarted (which runs
 * setupcon) when it is installed.
 */
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/util.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define MAX_SYSTEM_FILE (4U << 20) /* a zone file, locale.gen, SUPPORTED */

/* A zone name: "Europe/Berlin", "UTC", "Etc/GMT+1"; relative, no "..", no odd bytes. */
static bool zone_name_ok(const char *tz)
{
	if (!*tz || *tz == '/' || strlen(tz) > 200 || path_has_dotdot(tz))
		return false;
	for (const char *p = tz; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-.", *p))
			return false;
	return true;
}

/* The zone file TZ in ROOT (the image's own symlinks followed inside it): its content. */
static int read_zone(const struct cc_run *c, const char *tz, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *path = path_join(ZONEINFO, tz);
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (!path)
		return -ENOMEM;
	fd = open_in_root(c->root, path, O_RDONLY);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	return read_fd(fd, MAX_SYSTEM_FILE, ret, ret_len);
}

int cc_timezone(const struct cc_run *c, const struct cloud_config *cc)
{
	_cleanup_free_ char *zone = NULL, *line = NULL, *target = NULL, *name = NULL;
	_cleanup_close_ int dfd = -1;
	const char *tz = cc->timezone;
	size_t zone_len = 0;
	struct stat st;
	bool link;
	int r, changed;

	if (!tz || !*tz)
		return 0; /* cloud-init: an empty timezone is no timezone */
	if (!zone_name_ok(tz))
		return log_error_errno(-EINVAL, "cloud-config timezone: not a zone name such as "
				       "'Europe/Berlin', not applied.");
	r = read_zone(c, tz, &zone, &zone_len);
	if (r == -ENOMEM)
		return log_error_errno(r, "Out of memory.");
	if (r < 0)
		return log_error_errno(r, "cloud-config timezone '%s': no zone file %s/%s in the "
				       "system (%m), not applied.", tz, ZONEINFO, tz);
	if (asprintf(&line, "%s\n", tz) < 0 || !(target = path_join(ZONEINFO, tz)))
		return log_error_errno(-ENOMEM, "Out of memory.");

	changed = cc_write(c, "timezone", "/etc/timezone", line, strlen(line), 0644);
	if (changed < 0)
		return changed;

	/* /etc/localtime: a symlink when it is one or is missing (systemd's way), else a copy. */
	dfd = path_open_parent(c->root, "/etc/localtime", !c->dry_run, &name);
	if (dfd < 0 && !(c->dry_run && dfd == -ENOENT))
		return log_error_errno(dfd, "cloud-config timezone: cannot open /etc: %m");
	link = dfd < 0 || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode);
	if (!link)
		return cc_write(c, "timezone", "/etc/localtime", zone, zone_len, 0644) ?: changed;
	if (dfd >= 0) {
		char old[4096];
		ssize_t n = readlinkat(dfd, name, old, sizeof(old) - 1);

		if (n >= 0 && (size_t)n == strlen(target) && memcmp(old, target, (size_t)n) == 0)
			return changed;
	}
	if (c->dry_run) {
		cc_plan(c, "%-20s would link /etc/localtime -> %s", "timezone", target);
		return 1;
	}
	r = symlink_atomic_at(dfd, name, target);
	if (r < 0)
		return log_error_errno(r, "cloud-config timezone: failed to link /etc/localtime: %m");
	log_info("cloud-config timezone: /etc/localtime -> %s.", target);
	return 1;
}

/* --- locale ------------------------------------------------------------------------------------ */

/* A locale name: "en_US.UTF-8", "de_DE@euro", "C". */
static bool locale_name_ok(const char *s)
{
	if (!*s || strlen(s) > 100)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.@-", *s))
			return false;
	return true;
}

/* VAR's value in a shell-style KEY=VALUE file (quotes removed), NULL when not set. */
static char *shell_var(const char *text, const char *var)
{
	size_t vl = strlen(var);
	char *found = NULL;

	for (const char *p = text; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		if (n > vl && strncmp(p, var, vl) == 0 && p[vl] == '=') {
			const char *v = p + vl + 1;
			size_t k = n - vl - 1;

			while (k > 0 && isspace((unsigned char)v[k - 1]))
				k--;
			if (k >= 2 && (v[0] == '"' || v[0] == '\'') && v[k - 1] == v[0])
				v++, k -= 2;
			free(found);
			found = strndup(v, k);
		}
		p = e ? e + 1 : NULL;
	}
	return found;
}

/* Split "fi_FI.UTF-8@euro" as cloud-init does: ^([A-Za-z_]+)(\.[A-Za-z0-9-]+)?(@[A-Za-z0-9_-]+)?$;
 * *PREFIX is base + "@mod", *CHARSET the charset (NULL: none). Not of that form: all of it. */
static int split_locale(const char *s, char **prefix, char **charset)
{
	const char *p = s, *cs = NULL, *mod = NULL;
	size_t base, csl = 0;

	*prefix = *charset = NULL;
	while (isalpha((unsigned char)*p) || *p == '_')
		p++;
	base = (size_t)(p - s);
	if (*p == '.') {
		cs = ++p;
		while (isalnum((unsigned char)*p) || *p == '-')
			p++;
		csl = (size_t)(p - cs);
	}
	if (*p == '@') {
		mod = p++;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
			p++;
	}
	if (base == 0 || *p || (cs && csl == 0) || (mod && p == mod + 1)) {
		*prefix = strdup(s);
		return *prefix ? 0 : -ENOMEM;
	}
	if (asprintf(prefix, "%.*s%s", (int)base, s, mod ? mod : "") < 0) {
		*prefix = NULL;
		return -ENOMEM;
	}
	if (cs && !(*charset = strndup(cs, csl)))
		return -ENOMEM;
	return 0;
}

/* A SUPPORTED line "NAME CHARMAP" whose NAME is PREFIX, PREFIX.x, PREFIX@x or PREFIX.x@y. */
static bool supported_matches(const char *line, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix), i;

	if (n <= pl || strncmp(line, prefix, pl) != 0)
		return false;
	i = pl;
	if (line[i] == '.') /* (?:\.[^\s@]+)? */
		for (i++; i < n && !isspace((unsigned char)line[i]) && line[i] != '@'; i++)
			;
	if (i < n && line[i] == '@') /* (?:@[^\s]+)? */
		for (i++; i < n && !isspace((unsigned char)line[i]); i++)
			;
	if (i >= n || !isspace((unsigned char)line[i]))
		return false;
	while (i < n && isspace((unsigned char)line[i]))
		i++;
	if (i >= n)
		return false;
	while (i < n && !isspace((unsigned char)line[i])) /* one charmap, nothing after it */
		i++;
	return i == n;
}

/* cloud-init's _lookup_supported_i18n_value(): the locale.gen line for REQUESTED. */
static int supported_line(const struct cc_run *c, const char *requested, char **ret)
{
	_cleanup_free_ char *prefix = NULL, *charset = NULL, *text = NULL;
	_cleanup_close_ int fd = -1;
	const char *first = NULL, *utf8 = NULL;
	size_t first_n = 0, utf8_n = 0;
	int r;

	r = split_locale(requested, &prefix, &charset);
	if (r < 0)
		return r;
	fd = open_in_root(c->root, "/usr/share/i18n/SUPPORTED", O_RDONLY);
	if (fd >= 0)
		(void)read_fd(fd, MAX_SYSTEM_FILE, &text, NULL);
	for (const char *p = text; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *l = p;

		p = e ? e + 1 : NULL;
		while (n > 0 && isspace((unsigned char)*l))
			l++, n--;
		while (n > 0 && isspace((unsigned char)l[n - 1]))
			n--;
		if (!supported_matches(l, n, prefix))
			continue;
		if (charset) {
			size_t pl = strlen(prefix), cl = strlen(charset);

			if (n > pl + 1 + cl && l[pl] == '.' && strncmp(l + pl + 1, charset, cl) == 0 &&
			    (l[pl + 1 + cl] == '@' || isspace((unsigned char)l[pl + 1 + cl])))
				return (*ret = strndup(l, n)) ? 0 : -ENOMEM;
		}
		if (!first)
			first = l, first_n = n;
		if (!utf8 && n > 6 && strncasecmp(l + n - 5, "UTF-8", 5) == 0 &&
		    isspace((unsigned char)l[n - 6]))
			utf8 = l, utf8_n = n;
	}
	if (utf8)
		return (*ret = strndup(utf8, utf8_n)) ? 0 : -ENOMEM;
	if (first)
		return (*ret = strndup(first, first_n)) ? 0 : -ENOMEM;
	if (asprintf(ret, "%s.%s %s", prefix, charset ?: "UTF-8", charset ?: "UTF-8") < 0)
		return -ENOMEM;
	return 0;
}

/* cloud-init's regenerate_locale(): LINE enabled in /etc/locale.gen (uncommented or added). */
static int enable_in_locale_gen(const struct cc_run *c, const char *line)
{
	_cleanup_free_ char *old = NULL, *buf = NULL;
	size_t old_len = 0, len = 0, ll = strlen(line);
	bool found = false;
	FILE *f;
	int r;

	r = read_file(c->root, "/etc/locale.gen", MAX_SYSTEM_FILE, &old, &old_len);
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		return log_error_errno(r, "cloud-config locale: cannot read /etc/locale.gen: %m");
	f = open_memstream(&buf, &len);
	if (!f)
		return log_error_errno(-ENOMEM, "Out of memory.");
	for (const char *p = old; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *s = p, *t;
		size_t sn = n;

		while (sn > 0 && isspace((unsigned char)*s))
			s++, sn--;
		while (sn > 0 && isspace((unsigned char)s[sn - 1]))
			sn--;
		for (t = s; t < s + sn && (*t == '#' || *t == ' '); t++)
			;
		if (sn > 0 && (size_t)(s + sn - t) == ll && memcmp(t, line, ll) == 0) {
			fprintf(f, "%s\n", line);
			found = true;
		} else
			fprintf(f, "%.*s\n", (int)n, p);
		p = e ? e + 1 : NULL;
	}
	if (!found)
		fprintf(f, "%s\n", line);
	if (fclose(f) != 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	while (len > 1 && isspace((unsigned char)buf[len - 1]) && isspace((unsigned char)buf[len - 2]))
		len--; /* "\n".join(lines).rstrip() + "\n" */
	return cc_write(c, "locale", "/etc/locale.gen", buf, len, 0644);
}

/* update-locale --locale-file=/etc/default/locale LANG=LOCALE: that line replaced or added. */
static int set_default_locale(const struct cc_run *c, const char *old, const char *locale)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	bool done = false;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return log_error_errno(-ENOMEM, "Out of memory.");
	for (const char *p = old; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *s = p;

		while (s < p + n && (*s == ' ' || *s == '\t'))
			s++;
		if (strncmp(s, "LANG=", 5) == 0) {
			if (!done)
				fprintf(f, "LANG=%s\n", locale);
			done = true;
		} else
			fprintf(f, "%.*s\n", (int)n, p);
		p = e ? e + 1 : NULL;
	}
	if (!done)
		fprintf(f, "LANG=%s\n", locale);
	if (fclose(f) != 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	return cc_write(c, "locale", "/etc/default/locale", buf, len, 0644);
}

int cc_locale(const struct cc_run *c, const struct cloud_config *cc)
{
	static char *const env[] = { "LANGUAGE=C.UTF-8", "LC_ALL=C.UTF-8", NULL };
	static char *const locale_gen[] = { "locale-gen", "--keep-existing", NULL };
	_cleanup_free_ char *conf = NULL, *system = NULL, *line = NULL;
	const char *locale = cc->locale;
	bool exists, need_regen;
	int r, changed = 0;

	if (!locale) {
		log_info("cloud-config locale: disabled (locale: false).");
		cc_plan(c, "%-20s disabled (false): nothing to do", "locale");
		return 0;
	}
	if (!locale_name_ok(locale))
		return log_error_errno(-EINVAL, "cloud-config locale: not a locale name such as "
				       "'en_US.UTF-8', not applied.");
	r = read_file(c->root, "/etc/default/locale", MAX_SYSTEM_FILE, &conf, NULL);
	if (r < 0 && r != -ENOENT && r != -ENOTDIR)
		return log_error_errno(r, "cloud-config locale: cannot read /etc/default/locale: %m");
	exists = r >= 0;
	system = exists ? shell_var(conf, "LANG") : NULL;
	if (system && !*system) {
		free(system);
		system = NULL;
	}
	/* cloud-init's apply_locale(): the system's LANG, else C.UTF-8, compared without case. */
	need_regen = !exists || !system || strcasecmp(locale, system) != 0;
	if (!need_regen) {
		log_info("cloud-config locale: already %s.", locale);
		cc_plan(c, "%-20s already %s", "locale", locale);
		return 0;
	}
	if (strcasecmp(locale, "C") != 0 && strcasecmp(locale, "C.UTF-8") != 0 &&
	    strcasecmp(locale, "C.utf8") != 0 && strcasecmp(locale, "POSIX") != 0) {
		r = supported_line(c, locale, &line);
		if (r < 0)
			return log_error_errno(r, "Out of memory.");
		changed = enable_in_locale_gen(c, line);
		if (changed < 0)
			return changed;
		r = cc_system_command(c, "locale", locale_gen, env);
		if (r < 0)
			return r;
	}
	r = set_default_locale(c, conf, locale);
	if (r < 0)
		return r;
	return r || changed;
}

/* --- keyboard ---------------------------------------------------------------------------------- */

/* A value for a double-quoted shell assignment: nothing the shell would expand or end. */
static bool kb_value_ok(const char *s)
{
	return !string_has_control(s, strlen(s), false) && !strpbrk(s, "\"\\$`") && strlen(s) < 256;
}

int cc_keyboard(const struct cc_run *c, const struct cloud_config *cc)
{
	static const char *const setupcon[] = { "/usr/bin/setupcon", "/bin/setupcon", NULL };
	const struct cc_keyboard *kb = &cc->keyboard;
	const char *model = kb->model ? kb->model : "pc105";
	_cleanup_free_ char *text = NULL;
	int r;

	if (!kb_value_ok(kb->layout) || !kb_value_ok(model) || !kb_value_ok(kb->variant ?: "") ||
	    !kb_value_ok(kb->options ?: ""))
		return log_error_errno(-EINVAL, "cloud-config keyboard: a value holds a quote, a "
				       "backslash, '$', '`' or a control character, not applied.");
	/* debian.py set_keymap(): this file, shared by X and the console (keyboard(5)). */
	if (asprintf(&text,
		     "# This file was generated by vagent (cloud-config keyboard)\n"
		     "\n"
		     "XKBMODEL=\"%s\"\n"
		     "XKBLAYOUT=\"%s\"\n"
		     "XKBVARIANT=\"%s\"\n"
		     "XKBOPTIONS=\"%s\"\n"
		     "\n"
		     "BACKSPACE=\"guess\"\n",
		     model, kb->layout, kb->variant ?: "", kb->options ?: "") < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	r = cc_write(c, "keyboard", "/etc/default/keyboard", text, strlen(text), 0644);
	if (r <= 0)
		return r;
	/* console-setup.service runs setupcon, which loads the new keymap on the consoles. */
	if (!cc_root_has(c, setupcon)) {
		log_info("cloud-config keyboard: console-setup is not installed, nothing restarted.");
		return 1;
	}
	r = cc_service(c, "keyboard", "restart", "console-setup.service");
	return r < 0 ? r : 1;
}
