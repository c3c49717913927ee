/* SPDX-License-Identifier: MIT */
/*
 * cc-apt.c: the cloud-config key apt on Debian (cloudinit/config/cc_apt_configure.py): proxy,
 * http_proxy, https_proxy, ftp_proxy as Acquire::*::Proxy lines in their own apt.conf.d file;
 * conf as a file of its own; primary/security mirrors as the deb822 debian.sources cloud-init's
 * Debian template renders (the old sources.list removed, as cloud-init does); sources as
 * one-line .list files in sources.list.d with $MIRROR, $PRIMARY, $SECURITY, $RELEASE and
 * $KEY_FILE replaced, then apt-get update. A key goes into its own keyring under
 * /etc/apt/keyrings (ASCII-armored .asc, which apt reads as it is) and the source is tied to it
 * with signed-by: apt-key and the global trusted.gpg.d are never used (cloud-init puts a key
 * without $KEY_FILE there, trusting it for every repository). Proxies may carry credentials
 * and keys are long: neither is ever logged; a proxy file with credentials is 0600.
 */
#include <ctype.h>
#include <fcntl.h>
#include <sys/utsname.h>

#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/util.h"

#define APT_PROXY_FILE "/etc/apt/apt.conf.d/90vagent-aptproxy"
#define APT_CONF_FILE "/etc/apt/apt.conf.d/94vagent-config"
#define APT_SOURCES_D "/etc/apt/sources.list.d"
#define APT_DEBIAN_SOURCES APT_SOURCES_D "/debian.sources"
#define APT_SOURCES_LIST "/etc/apt/sources.list"
#define APT_KEYRINGS "/etc/apt/keyrings"
#define APT_ARCHIVE_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"
#define DEBIAN_PRIMARY "http://deb.debian.org/debian"
#define DEBIAN_SECURITY "http://deb.debian.org/debian-security"
#define APT_MAX_FILE (1U << 20)

/* dpkg's name of this machine's architecture (the image runs on it). */
static const char *dpkg_arch(void)
{
	static const struct {
		const char *machine, *arch;
	} map[] = {
		{ "x86_64", "amd64" },	{ "aarch64", "arm64" },	 { "i686", "i386" },
		{ "i386", "i386" },	{ "armv7l", "armhf" },	 { "ppc64le", "ppc64el" },
		{ "s390x", "s390x" },	{ "riscv64", "riscv64" },
	};
	static struct utsname u;

	if (uname(&u) < 0)
		return "amd64";
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (streq(u.machine, map[i].machine))
			return map[i].arch;
	return u.machine;
}

/* VERSION_CODENAME from the image's os-release ("bookworm"). */
static int release_codename(const struct cc_run *c, char **ret)
{
	static const char *const files[] = { "/etc/os-release", "/usr/lib/os-release" };

	*ret = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *text = NULL;
		_cleanup_close_ int fd = open_in_root(c->root, files[i], O_RDONLY);

		if (fd < 0 || read_fd(fd, 65536, &text, NULL) < 0)
			continue;
		char *save = NULL;

		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *v;
			size_t n;

			if (!startswith(l, "VERSION_CODENAME="))
				continue;
			v = l + strlen("VERSION_CODENAME=");
			n = strlen(v);
			if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
				v++, n -= 2;
			for (size_t k = 0; k < n; k++)
				if (!isalnum((unsigned char)v[k]) && v[k] != '-')
					return -EINVAL;
			if (n == 0)
				break;
			*ret = strndup(v, n);
			return *ret ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
}

/* A value for an apt.conf string or a sources line: one line, no quote that would end it. */
static bool apt_value_ok(const char *s)
{
	return *s && !string_has_control(s, strlen(s), false) && !strchr(s, '"');
}

/* "scheme://user:pass@host": the URL carries credentials. */
static bool has_credentials(const char *url)
{
	const char *a = strstr(url, "://");
	size_t n;

	if (!a)
		return strchr(url, '@') != NULL;
	a += 3;
	n = strcspn(a, "/?#");
	return memchr(a, '@', n) != NULL;
}

static int apt_proxy(const struct cc_run *c, const struct cc_apt *a)
{
	/* apply_apt_config(): in cloud-init's order */
	static const struct {
		enum cc_apt_proxy p;
		const char *scheme;
	} lines[] = {
		{ CC_APT_PROXY, "http" },
		{ CC_APT_HTTP_PROXY, "http" },
		{ CC_APT_FTP_PROXY, "ftp" },
		{ CC_APT_HTTPS_PROXY, "https" },
	};
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	bool secret = false;
	FILE *f;
	int r;

	f = open_memstream(&buf, &len);
	if (!f)
		return log_error_errno(-ENOMEM, "Out of memory.");
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		const char *v = a->proxy[lines[i].p];

		if (!v || !*v)
			continue;
		if (!apt_value_ok(v)) {
			fclose(f);
			return log_error_errno(-EINVAL, "cloud-config apt: a proxy holds a quote or a "
					       "control character, not applied.");
		}
		secret = secret || has_credentials(v);
		fprintf(f, "Acquire::%s::Proxy \"%s\";\n", lines[i].scheme, v);
	}
	if (fclose(f) != 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (len == 0)
		return cc_remove(c, "apt", APT_PROXY_FILE); /* cloud-init: none, its file goes */
	r = cc_write(c, "apt", APT_PROXY_FILE, buf, len, secret ? 0600 : 0644);
	explicit_bzero(buf, len);
	return r;
}

static bool is_public_key(const char *k)
{
	return strstr(k, "-----BEGIN PGP PUBLIC KEY BLOCK-----") &&
	       strstr(k, "-----END PGP PUBLIC KEY BLOCK-----");
}

/* STEM's keyring in /etc/apt/keyrings: *RET_PATH. */
static int write_keyring(const struct cc_run *c, const char *label, const char *stem,
			 const char *key, char **ret_path)
{
	_cleanup_free_ char *path = NULL;
	int r;

	if (!is_public_key(key))
		return log_error_errno(-EINVAL, "cloud-config apt %s: the key is not an "
				       "ASCII-armored public key block, not applied.", label);
	if (asprintf(&path, APT_KEYRINGS "/vagent-%s.asc", stem) < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	r = cc_write(c, "apt", path, key, strlen(key), 0644);
	if (r < 0)
		return r;
	*ret_path = TAKE_PTR(path);
	return r;
}

/* get_arch_mirrorconfig() + get_mirror(): the entry for ARCH, else the "default" one. */
static const struct cc_apt_mirror *pick_mirror(const struct cc_apt_mirror *m, size_t n,
					       const char *arch)
{
	const struct cc_apt_mirror *def = NULL;

	for (size_t i = 0; i < n; i++) {
		if (strv_contains(m[i].arches, arch))
			return &m[i];
		if (strv_contains(m[i].arches, "default"))
			def = &m[i];
	}
	return def;
}

static bool url_ok(const char *u)
{
	return (startswith(u, "http://") || startswith(u, "https://") || startswith(u, "ftp://") ||
		startswith(u, "file:/") || startswith(u, "mirror+")) &&
	       !strpbrk(u, " \t\"") && !string_has_control(u, strlen(u), false);
}

struct mirrors {
	char *primary, *security, *release;
	char *primary_key, *security_key; /* keyring paths, NULL: the archive's keyring */
};

static void mirrors_done(struct mirrors *m)
{
	free(m->primary);
	free(m->security);
	free(m->release);
	free(m->primary_key);
	free(m->security_key);
}

/* The mirrors cloud-config asks for (Debian's defaults otherwise) and their keyrings. */
static int find_mirrors(const struct cc_run *c, const struct cc_apt *a, struct mirrors *m,
			int *changed)
{
	const char *arch = dpkg_arch();
	const struct cc_apt_mirror *p = pick_mirror(a->primary, a->n_primary, arch);
	const struct cc_apt_mirror *s = pick_mirror(a->security, a->n_security, arch);
	int r;

	if ((p && p->uri && !url_ok(p->uri)) || (s && s->uri && !url_ok(s->uri)))
		return log_error_errno(-EINVAL, "cloud-config apt: a mirror uri is not an "
				       "http(s), ftp or file URL, not applied.");
	m->primary = strdup(p && p->uri ? p->uri : DEBIAN_PRIMARY);
	/* cloud-init falls back to the primary mirror for security; Debian's security suites
	 * are not on its mirrors, so the security mirror stays Debian's unless given. */
	m->security = strdup(s && s->uri ? s->uri : DEBIAN_SECURITY);
	if (!m->primary || !m->security)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if ((a->has_primary && !(p && p->uri)) || (a->has_security && !(s && s->uri)))
		log_warning("cloud-config apt: no %s mirror with a uri for '%s' (search and "
			    "search_dns are not supported), Debian's is used, ignoring.",
			    a->has_primary && !(p && p->uri) ? "primary" : "security", arch);
	if (p && p->key) {
		r = write_keyring(c, "primary", "primary", p->key, &m->primary_key);
		if (r < 0)
			return r;
		*changed |= r;
	}
	if (s && s->key) {
		r = write_keyring(c, "security", "security", s->key, &m->security_key);
		if (r < 0)
			return r;
		*changed |= r;
	}
	r = release_codename(c, &m->release);
	if (r == -ENOMEM)
		return log_error_errno(r, "Out of memory.");
	return 0;
}

/* generate_sources_list() with cloud-init's sources.list.debian.deb822 template. */
static int write_debian_sources(const struct cc_run *c, const struct mirrors *m)
{
	const char *rel = m->release;
	const char *pk = m->primary_key ? m->primary_key : APT_ARCHIVE_KEYRING;
	const char *sk = m->security_key ? m->security_key : pk;
	bool old = streq(rel, "buster") || streq(rel, "stretch");
	_cleanup_free_ char *text = NULL;
	int r, k;

	if (asprintf(&text,
		     "## Written by vagent from the cloud-config key apt (primary/security).\n"
		     "## To keep your own sources instead: apt: {preserve_sources_list: true}.\n"
		     "## See the sources.list(5) manual page for further settings.\n"
		     "Types: deb deb-src\n"
		     "URIs: %s\n"
		     "Suites: %s %s-updates %s-backports\n"
		     "Components: main\n"
		     "Signed-By: %s\n"
		     "\n"
		     "## Major bug fix updates produced after the final release of the "
		     "distribution.\n"
		     "Types: deb deb-src\n"
		     "URIs: %s\n"
		     "Suites: %s%s\n"
		     "Components: main\n"
		     "Signed-By: %s\n",
		     m->primary, rel, rel, rel, pk, m->security, rel, old ? "/updates" : "-security",
		     sk) < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	r = cc_write(c, "apt", APT_DEBIAN_SOURCES, text, strlen(text), 0644);
	if (r < 0)
		return r;
	/* cloud-init: the one-line list goes, so the mirrors are not listed twice */
	k = cc_remove(c, "apt", APT_SOURCES_LIST);
	if (k < 0)
		return k;
	return r || k;
}

/* templater.basic_render(): $NAME and ${NAME} from PARAMS ("NAME=value"); an unknown name is
 * an error, as in cloud-init. */
static int render(const char *in, char *const *params, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	for (const char *p = in; *p;) {
		const char *q, *name;
		size_t n;
		bool brace, found = false;

		if (*p != '$') {
			fputc(*p++, f);
			continue;
		}
		brace = p[1] == '{';
		name = p + 1 + brace;
		for (q = name; isalnum((unsigned char)*q) || *q == '_' || *q == '.'; q++)
			;
		n = (size_t)(q - name);
		if (n == 0 || (brace && *q != '}')) {
			fputc(*p++, f);
			continue;
		}
		for (size_t i = 0; params[i] && !found; i++)
			if (strncmp(params[i], name, n) == 0 && params[i][n] == '=') {
				fputs(params[i] + n + 1, f);
				found = true;
			}
		if (!found) {
			fclose(f);
			return -ENOKEY;
		}
		p = q + brace;
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* "deb [opts] uri ..." with signed-by=KEYRING among the options. */
static char *add_signed_by(const char *line, const char *keyring)
{
	size_t t = strcspn(line, " \t");
	const char *rest = line + t + strspn(line + t, " \t");
	char *s;

	if (*rest == '[')
		return asprintf(&s, "%.*s [signed-by=%s %s", (int)t, line, keyring, rest + 1) < 0 ?
			       NULL :
			       s;
	return asprintf(&s, "%.*s [signed-by=%s] %s", (int)t, line, keyring, rest) < 0 ? NULL : s;
}

/* cloud-init's ADD_APT_REPO_MATCH, ^[\w-]+:\w: "ppa:user/name" */
static bool add_apt_repo_match(const char *s)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '-')
		n++;
	return n > 0 && s[n] == ':' && (isalnum((unsigned char)s[n + 1]) || s[n + 1] == '_');
}

static bool source_name_ok(const char *s)
{
	return *s && !path_has_dotdot(s) && !string_has_control(s, strlen(s), false) &&
	       strlen(s) < 200;
}

/* add_apt_sources(): one entry. <0 failed, 0 unchanged, 1 written. */
static int apt_source(const struct cc_run *c, const struct cc_apt_source *e,
		      const struct mirrors *m)
{
	_cleanup_free_ char *path = NULL, *stem = NULL, *keyring = NULL, *line = NULL, *old = NULL,
			    *text = NULL;
	const char *fn = e->filename ? e->filename : e->name;
	const char *base, *dot;
	size_t old_len = 0;
	int r, changed = 0;

	if (!source_name_ok(fn))
		return log_error_errno(-EINVAL, "cloud-config apt sources '%s': not a usable file "
				       "name, not applied.", e->name);
	if (e->keyid && !e->key)
		return log_error_errno(-EOPNOTSUPP, "cloud-config apt sources '%s': its key would "
				       "come from a keyserver (keyid), which vagent does not do; "
				       "give the key itself. Not applied.", e->name);
	/* pathlib.Path(filename).stem */
	base = strrchr(fn, '/') ? strrchr(fn, '/') + 1 : fn;
	dot = strrchr(base, '.');
	stem = strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
	if (!stem)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (e->key) {
		r = write_keyring(c, e->name, stem, e->key, &keyring);
		if (r < 0)
			return r;
		changed |= r;
	}
	if (!e->source) {
		if (keyring)
			log_warning("cloud-config apt sources '%s': a key without a source is trusted "
				    "by no repository here (cloud-init would trust it for all); "
				    "refer to it with [signed-by=%s], ignoring.", e->name, keyring);
		return changed;
	}
	if (add_apt_repo_match(e->source))
		return log_error_errno(-EOPNOTSUPP, "cloud-config apt sources '%s': a ppa:-style "
				       "source needs add-apt-repository (Ubuntu), not applied.",
				       e->name);
	{
		_cleanup_free_ char *p_mirror = NULL, *p_primary = NULL, *p_security = NULL,
				    *p_release = NULL, *p_key = NULL;
		char *params[6] = {};
		size_t k = 0;

		if (asprintf(&p_mirror, "MIRROR=%s", m->primary) < 0 ||
		    asprintf(&p_primary, "PRIMARY=%s", m->primary) < 0 ||
		    asprintf(&p_security, "SECURITY=%s", m->security) < 0)
			return log_error_errno(-ENOMEM, "Out of memory.");
		params[k++] = p_mirror;
		params[k++] = p_primary;
		params[k++] = p_security;
		if (m->release && asprintf(&p_release, "RELEASE=%s", m->release) >= 0)
			params[k++] = p_release;
		if (keyring && asprintf(&p_key, "KEY_FILE=%s", keyring) >= 0)
			params[k++] = p_key;
		r = render(e->source, params, &line);
		if (r == -ENOMEM)
			return log_error_errno(r, "Out of memory.");
		if (r < 0)
			return log_error_errno(r, "cloud-config apt sources '%s': an unknown $variable "
					       "(known: MIRROR, PRIMARY, SECURITY, RELEASE%s), not "
					       "applied.", e->name, keyring ? ", KEY_FILE" : "");
	}
	if (!apt_value_ok(line) || !(startswith(line, "deb ") || startswith(line, "deb-src ")))
		return log_error_errno(-EINVAL, "cloud-config apt sources '%s': not a one-line "
				       "'deb ...' entry, not applied.", e->name);
	if (keyring && !strstr(e->source, "$KEY_FILE") && !strstr(e->source, "${KEY_FILE}") &&
	    !strstr(line, "signed-by=")) {
		char *s = add_signed_by(line, keyring);

		if (!s)
			return log_error_errno(-ENOMEM, "Out of memory.");
		free(line);
		line = s;
	}

	if (fn[0] == '/')
		path = strdup(fn);
	else
		path = path_join(APT_SOURCES_D, fn);
	if (path && !(strlen(path) >= 5 && streq(path + strlen(path) - 5, ".list"))) {
		char *s;
		if (asprintf(&s, "%s.list", path) < 0)
			s = NULL;
		free(path);
		path = s;
	}
	if (!path)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (e->append) {
		r = read_file(c->root, path, APT_MAX_FILE, &old, &old_len);
		if (r < 0 && r != -ENOENT && r != -ENOTDIR)
			return log_error_errno(r, "cloud-config apt: cannot read '%s': %m", path);
	}
	/* Appending is idempotent here: a line already in the file is not added twice. */
	if (old) {
		size_t ll = strlen(line);
		for (const char *p = old; p && *p;) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);

			if (n == ll && memcmp(p, line, ll) == 0)
				return changed;
			p = nl ? nl + 1 : NULL;
		}
	}
	if (asprintf(&text, "%s%s%s\n", old ? old : "",
		     old_len > 0 && old[old_len - 1] != '\n' ? "\n" : "", line) < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	r = cc_write(c, "apt", path, text, strlen(text), 0644);
	if (r < 0)
		return r;
	return r || changed;
}

int cc_apt(const struct cc_run *c, const struct cloud_config *cc)
{
	static char *const update[] = { "apt-get", "-q", "-y", "update", NULL };
	static char *const apt_env[] = { "DEBIAN_FRONTEND=noninteractive", NULL };
	const struct cc_apt *a = &cc->apt;
	struct mirrors m = {};
	bool failed = false, sources = false;
	int r, changed = 0;

	r = apt_proxy(c, a);
	if (r < 0)
		failed = true;
	else
		changed |= r;
	if (a->conf && *a->conf) {
		r = cc_write(c, "apt", APT_CONF_FILE, a->conf, strlen(a->conf), 0644);
	} else
		r = cc_remove(c, "apt", APT_CONF_FILE);
	if (r < 0)
		failed = true;
	else
		changed |= r;

	r = find_mirrors(c, a, &m, &changed);
	if (r < 0) {
		mirrors_done(&m);
		return r;
	}
	/* Only when asked: vagent does not rewrite an image's sources for "apt: {}". */
	if ((a->has_primary || a->has_security) && !a->preserve_sources_list) {
		if (!m.release) {
			log_error("cloud-config apt: the image's os-release has no VERSION_CODENAME; "
				  "the mirrors are not applied.");
			failed = true;
		} else {
			r = write_debian_sources(c, &m);
			if (r < 0)
				failed = true;
			else
				changed |= r;
			sources = sources || r > 0;
		}
	}
	for (size_t i = 0; i < a->n_sources; i++) {
		r = apt_source(c, &a->sources[i], &m);
		if (r < 0)
			failed = true;
		else if (r > 0)
			changed = 1, sources = true;
	}
	mirrors_done(&m);
	/* update_package_sources(force=True) after the sources */
	if (sources) {
		r = cc_system_command(c, "apt", update, apt_env);
		if (r < 0)
			failed = true;
	}
	return failed ? -EINVAL : changed;
}
