/* SPDX-License-Identifier: MIT */
/*
 * cloudconfig.c: the only libyaml user. A "#cloud-config" document is loaded with libyaml's
 * document API and walked by the shape of each supported key (never generically, so an alias
 * cycle cannot loop), copying values into struct cloud_config. Scalars follow YAML 1.1 as
 * cloud-init's PyYAML reads them (yes/no/on/off booleans, 0644 as octal). A document that is not
 * YAML is an error with libyaml's line, column and reason; a key of the wrong shape is kept out
 * with a problem line naming the key and where it is. Problems and errors never quote the
 * document: it is user data, and secret.
 */
#include <stdarg.h>
#include <yaml.h>

#include "cloudconfig/cloudconfig.h"
#include "base/util.h"

/* Aliases let a small document name the same list many times: cap what is copied out. */
#define COPY_BUDGET_MIN (4U << 20)
#define PER_ITEM_COST 64U

static const char *const key_names[_CC_KEY_MAX] = {
	[CC_HOSTNAME] = "hostname",
	[CC_FQDN] = "fqdn",
	[CC_PRESERVE_HOSTNAME] = "preserve_hostname",
	[CC_SSH_AUTHORIZED_KEYS] = "ssh_authorized_keys",
	[CC_USERS] = "users",
	[CC_WRITE_FILES] = "write_files",
	[CC_BOOTCMD] = "bootcmd",
	[CC_RUNCMD] = "runcmd",
	[CC_PACKAGES] = "packages",
	[CC_PACKAGE_UPDATE] = "package_update",
	[CC_PACKAGE_UPGRADE] = "package_upgrade",
	[CC_MOUNTS] = "mounts",
	[CC_DISK_SETUP] = "disk_setup",
	[CC_FS_SETUP] = "fs_setup",
};

const char *cc_key_to_string(enum cc_key k)
{
	return k < _CC_KEY_MAX ? key_names[k] : NULL;
}

struct walk {
	yaml_document_t *doc;
	struct cloud_config *cc;
	size_t budget;
	const char *key; /* the top-level key being read, for problems */
};

static int add_problem(struct walk *w, const yaml_node_t *n, const char *fmt, ...) _printf_(3, 4);
static int add_problem(struct walk *w, const yaml_node_t *n, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL;
	char *line;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (asprintf(&line, "'%s' at line %zu, column %zu: %s", w->key, n->start_mark.line + 1,
		     n->start_mark.column + 1, what) < 0)
		return -ENOMEM;
	r = strv_push(&w->cc->problems, line);
	return r < 0 ? r : -EINVAL;
}

static yaml_node_t *get(struct walk *w, int i)
{
	return yaml_document_get_node(w->doc, i);
}

static int charge(struct walk *w, size_t n)
{
	if (n + PER_ITEM_COST > w->budget)
		return -E2BIG;
	w->budget -= n + PER_ITEM_COST;
	return 0;
}

static bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool plain_is(const yaml_node_t *n, const char *const *words)
{
	if (!is_plain(n))
		return false;
	for (; *words; words++)
		if (n->data.scalar.length == strlen(*words) &&
		    memcmp(n->data.scalar.value, *words, n->data.scalar.length) == 0)
			return true;
	return false;
}

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	return plain_is(n, nulls);
}

/* YAML 1.1 booleans as PyYAML resolves them: 1 true, 0 false, -1 not a boolean. */
static int plain_bool(const yaml_node_t *n)
{
	static const char *const yes[] = { "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On",
					   "ON", NULL };
	static const char *const no[] = { "no", "No", "NO", "false", "False", "FALSE", "off", "Off",
					  "OFF", NULL };

	return plain_is(n, yes) ? 1 : plain_is(n, no) ? 0 : -1;
}

static int node_bool(struct walk *w, const yaml_node_t *n, const char *what, bool *ret)
{
	int b = plain_bool(n);

	if (b < 0)
		return add_problem(w, n, "%s must be true or false", what);
	*ret = b;
	return 0;
}

/* A scalar (numbers included, cloud-init str()s them) as a C string; no NUL inside. */
static int node_string(struct walk *w, const yaml_node_t *n, const char *what, char **ret)
{
	char *s;
	int r;

	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return add_problem(w, n, "%s must be a string", what);
	if (memchr(n->data.scalar.value, 0, n->data.scalar.length))
		return add_problem(w, n, "%s holds a NUL byte", what);
	r = charge(w, n->data.scalar.length);
	if (r < 0)
		return r;
	s = strndup((const char *)n->data.scalar.value, n->data.scalar.length);
	if (!s)
		return -ENOMEM;
	free(*ret);
	*ret = s;
	return 0;
}

static int strv_push_node(struct walk *w, char ***l, const yaml_node_t *n, const char *what)
{
	char *s = NULL;
	int r;

	r = node_string(w, n, what, &s);
	if (r < 0)
		return r;
	return strv_push(l, s);
}

/* Push the comma-separated words of S (spaces trimmed, empty ones dropped). */
static int strv_push_split(struct walk *w, char ***l, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, ",");
		const char *b = s, *e = s + n;
		int r;

		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b) {
			r = charge(w, (size_t)(e - b));
			if (r < 0)
				return r;
			r = strv_push(l, strndup(b, (size_t)(e - b)));
			if (r < 0)
				return r;
		}
		s += n + (s[n] == ',');
	}
	return 0;
}

/* A list of strings; with SPLIT a single comma-separated string is accepted too. */
static int node_strv(struct walk *w, const yaml_node_t *n, const char *what, bool split,
		     char ***ret)
{
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	_cleanup_strv_free_ char **l = NULL;
	int r;

	if (split && n->type == YAML_SCALAR_NODE && !is_null(n)) {
		_cleanup_free_ char *s = NULL;
		r = node_string(w, n, what, &s);
		if (r >= 0)
			r = strv_push_split(w, &l, s);
		if (r < 0)
			return r;
	} else if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			r = strv_push_node(w, &l, get(w, *i), what);
			if (r < 0)
				return r;
		}
	} else
		return add_problem(w, n, "%s must be a list of strings", what);
	strv_free(*ret);
	*ret = TAKE_PTR(l);
	return 0;
}

/* Parse "0644", 0644 (YAML 1.1 octal), 420 or 0o644 into a mode. */
static int node_mode(struct walk *w, const yaml_node_t *n, mode_t *ret)
{
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	_cleanup_free_ char *s = NULL;
	unsigned long v;
	const char *p;
	char *end;
	int base = 8, r;

	r = node_string(w, n, "permissions", &s);
	if (r < 0)
		return r;
	p = s;
	if (startswith(p, "0o"))
		p += 2;
	else if (is_plain(n) && p[0] != '0')
		base = 10; /* a plain integer: PyYAML reads 420 as decimal */
	errno = 0;
	v = strtoul(p, &end, base);
	if (!*p || *end || errno || v > 07777)
		return add_problem(w, n, "permissions must be an octal mode such as '0644'");
	*ret = (mode_t)v;
	return 0;
}

static int node_commands(struct walk *w, const yaml_node_t *n, struct cc_command **ret,
			 size_t *ret_n)
{
	struct cc_command *l = NULL;
	size_t k = 0, total;
	int r = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return add_problem(w, n, "must be a list of commands");
	total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	l = calloc(total ? total : 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++, k++) {
		yaml_node_t *c = get(w, *i);

		if (c->type == YAML_SCALAR_NODE)
			r = node_string(w, c, "a command", &l[k].shell);
		else if (c->type == YAML_SEQUENCE_NODE) {
			r = node_strv(w, c, "a command's arguments", false, &l[k].argv);
			if (r >= 0 && !l[k].argv)
				r = add_problem(w, c, "a command needs at least a program");
		} else
			r = add_problem(w, c, "a command must be a string or a list of strings");
		if (r < 0)
			break;
	}
	if (r < 0) {
		for (size_t j = 0; j < total; j++) {
			free(l[j].shell);
			strv_free(l[j].argv);
		}
		free(l);
		return r;
	}
	*ret = l;
	*ret_n = total;
	return 0;
}

static void files_free(struct cc_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].content);
		free(f[i].owner);
	}
	free(f);
}

static int node_encoding(struct walk *w, const yaml_node_t *n, enum cc_encoding *ret)
{
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	static const struct {
		const char *name;
		enum cc_encoding e;
	} table[] = {
		{ "b64", CC_ENC_B64 },		  { "base64", CC_ENC_B64 },
		{ "gz", CC_ENC_GZIP },		  { "gzip", CC_ENC_GZIP },
		{ "gz+b64", CC_ENC_GZIP_B64 },	  { "gz+base64", CC_ENC_GZIP_B64 },
		{ "gzip+b64", CC_ENC_GZIP_B64 },  { "gzip+base64", CC_ENC_GZIP_B64 },
		{ "text/plain", CC_ENC_TEXT },
	};
	_cleanup_free_ char *s = NULL;
	int r;

	r = node_string(w, n, "encoding", &s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strcasecmp(s, table[i].name) == 0) {
			*ret = table[i].e;
			return 0;
		}
	return add_problem(w, n, "encoding must be b64, gzip, gz+b64 or text/plain");
}

static int node_file(struct walk *w, const yaml_node_t *n, struct cc_file *f)
{
	int r = 0;

	f->mode = 0644;
	if (n->type != YAML_MAPPING_NODE)
		return add_problem(w, n, "each entry must be a mapping with a path");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; r >= 0 && p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = get(w, p->key), *v = get(w, p->value);
		const char *name = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";

		if (streq(name, "path"))
			r = node_string(w, v, "path", &f->path);
		else if (streq(name, "content")) {
			if (is_null(v))
				continue;
			if (v->type != YAML_SCALAR_NODE)
				r = add_problem(w, v, "content must be a string");
			else
				r = charge(w, v->data.scalar.length);
			if (r < 0)
				break;
			free(f->content);
			f->content = malloc(v->data.scalar.length + 1);
			if (!f->content)
				return -ENOMEM;
			memcpy(f->content, v->data.scalar.value, v->data.scalar.length);
			f->content[v->data.scalar.length] = 0;
			f->content_len = v->data.scalar.length;
		} else if (streq(name, "encoding"))
			r = node_encoding(w, v, &f->encoding);
		else if (streq(name, "owner"))
			r = node_string(w, v, "owner", &f->owner);
		else if (streq(name, "permissions"))
			r = node_mode(w, v, &f->mode);
		else if (streq(name, "append"))
			r = node_bool(w, v, "append", &f->append);
		else if (streq(name, "defer"))
			r = node_bool(w, v, "defer", &f->defer);
		else if (streq(name, "source"))
			r = add_problem(w, k, "'source' (a URL) is not supported");
		else
			(void)add_problem(w, k, "sub-key '%s' is not supported, ignoring it", name);
	}
	if (r >= 0 && (!f->path || f->path[0] != '/'))
		r = add_problem(w, n, "each entry needs an absolute path");
	return r;
}

static int node_files(struct walk *w, const yaml_node_t *n, struct cloud_config *cc)
{
	struct cc_file *l;
	size_t total;
	int r = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return add_problem(w, n, "must be a list of files");
	total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	l = calloc(total ? total : 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < total; i++)
		r = node_file(w, get(w, n->data.sequence.items.start[i]), &l[i]);
	if (r < 0) {
		files_free(l, total);
		return r;
	}
	files_free(cc->files, cc->n_files);
	cc->files = l;
	cc->n_files = total;
	return 0;
}

static void user_done(struct cc_user *u)
{
	free(u->name);
	free(u->gecos);
	free(u->shell);
	strv_free(u->groups);
	strv_free(u->sudo);
	strv_free(u->ssh_authorized_keys);
}

static void users_free(struct cc_user *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		user_done(&u[i]);
	free(u);
}

static int node_user(struct walk *w, const yaml_node_t *n, struct cc_user *u)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	int r = 0;

	u->lock_passwd = true; /* cloud-init's default */
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; r >= 0 && p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = get(w, p->key), *v = get(w, p->value);
		const char *name = k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
		if (streq(name, "name"))
			r = node_string(w, v, "name", &u->name);
		else if (streq(name, "gecos"))
			r = node_string(w, v, "gecos", &u->gecos);
		else if (streq(name, "shell"))
			r = node_string(w, v, "shell", &u->shell);
		else if (streq(name, "groups"))
			r = node_strv(w, v, "groups", true, &u->groups);
		else if (streq(name, "lock_passwd"))
			r = node_bool(w, v, "lock_passwd", &u->lock_passwd);
		else if (streq(name, "ssh_authorized_keys"))
			r = node_strv(w, v, "ssh_authorized_keys", false, &u->ssh_authorized_keys);
		else if (streq(name, "sudo")) {
			if (is_null(v) || plain_bool(v) == 0) {
				strv_free(u->sudo);
				u->sudo = NULL;
				continue;
			}
			if (plain_bool(v) == 1) {
				r = add_problem(w, v, "sudo must be a rule, a list of rules or false");
				break;
			}
			strv_free(u->sudo);
			u->sudo = NULL;
			if (v->type == YAML_SCALAR_NODE)
				r = strv_push_node(w, &u->sudo, v, "sudo");
			else
				r = node_strv(w, v, "sudo", false, &u->sudo);
		} else
			(void)add_problem(w, k, "sub-key '%s' is not supported, ignoring it", name);
	}
	if (r >= 0 && !u->name)
		r = add_problem(w, n, "each user needs a name");
	if (r >= 0 && streq(u->name, "default"))
		u->is_default = true;
	return r;
}

static int node_users(struct walk *w, const yaml_node_t *n, struct cloud_config *cc)
{
	_cleanup_strv_free_ char **names = NULL;
	struct cc_user *l = NULL;
	size_t total = 0;
	int r = 0;

	/* "users: default" or "users: [a, b]": each scalar may name several, comma-separated. */
	if (n->type == YAML_SCALAR_NODE)
		r = node_strv(w, n, "users", true, &names);
	else if (n->type != YAML_SEQUENCE_NODE)
		r = add_problem(w, n, "must be a list of users");
	if (r < 0)
		return r;

	if (names) {
		total = strv_length(names);
		l = calloc(total ? total : 1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		for (size_t i = 0; i < total; i++) {
			l[i] = (struct cc_user){ .name = TAKE_PTR(names[i]), .lock_passwd = true };
			l[i].is_default = streq(l[i].name, "default");
		}
	} else {
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     r >= 0 && i < n->data.sequence.items.top; i++) {
			yaml_node_t *c = get(w, *i);
			_cleanup_strv_free_ char **more = NULL;
			struct cc_user *nl;
			size_t add = 0;

			if (c->type == YAML_SCALAR_NODE) {
				r = node_strv(w, c, "a user", true, &more);
				add = strv_length(more);
			} else if (c->type == YAML_MAPPING_NODE)
				add = 1;
			else
				r = add_problem(w, c, "each user must be a name or a mapping");
			if (r < 0)
				break;
			nl = reallocarray(l, total + add + 1, sizeof(*l));
			if (!nl) {
				r = -ENOMEM;
				break;
			}
			l = nl;
			for (size_t j = 0; more && j < add; j++) {
				l[total] = (struct cc_user){ .name = TAKE_PTR(more[j]),
							     .lock_passwd = true };
				l[total].is_default = streq(l[total].name, "default");
				total++;
			}
			if (!more) {
				l[total] = (struct cc_user){};
				r = node_user(w, c, &l[total]);
				total++;
			}
		}
		if (r < 0) {
			users_free(l, total);
			return r;
		}
	}
	users_free(cc->users, cc->n_users);
	cc->users = l;
	cc->n_users = total;
	return 0;
}

static int node_packages(struct walk *w, const yaml_node_t *n, struct cloud_config *cc)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	_cleanup_strv_free_ char **l = NULL;
	int r = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return add_problem(w, n, "must be a list of packages");
	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     r >= 0 && i < n->data.sequence.items.top; i++) {
		yaml_node_t *c = get(w, *i);
		_cleanup_strv_free_ char **pair = NULL;
		char *s;

		if (c->type == YAML_SCALAR_NODE) {
			r = strv_push_node(w, &l, c, "a package");
			continue;
		}
		r = node_strv(w, c, "a package", false, &pair);
		if (r < 0)
			break;
		if (strv_length(pair) != 2) {
			r = add_problem(w, c, "a package as a list must be [name, version]");
			break;
		}
		if (asprintf(&s, "%s=%s", pair[0], pair[1]) < 0)
			return -ENOMEM;
		r = strv_push(&l, s);
	}
	if (r < 0)
		return r;
	strv_free(cc->packages);
	cc->packages = TAKE_PTR(l);
	return 0;
}

static void mounts_free(struct cc_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ARRAY_SIZE(m[i].field); j++)
			free(m[i].field[j]);
	free(m);
}

static int node_mounts(struct walk *w, const yaml_node_t *n, struct cloud_config *cc)
{
	struct cc_mount *l;
	size_t total;
	int r = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return add_problem(w, n, "must be a list of fstab entries");
	total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	l = calloc(total ? total : 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < total; i++) {
		yaml_node_t *c = get(w, n->data.sequence.items.start[i]);
		size_t nf;

		if (c->type != YAML_SEQUENCE_NODE) {
			r = add_problem(w, c, "each entry must be a list of 1 to 6 fstab fields");
			break;
		}
		nf = (size_t)(c->data.sequence.items.top - c->data.sequence.items.start);
		if (nf < 1 || nf > 6) {
			r = add_problem(w, c, "each entry must be a list of 1 to 6 fstab fields");
			break;
		}
		l[i].n_fields = nf;
		for (size_t j = 0; r >= 0 && j < nf; j++) {
			yaml_node_t *f = get(w, c->data.sequence.items.start[j]);
			if (!is_null(f))
				r = node_string(w, f, "an fstab field", &l[i].field[j]);
		}
	}
	if (r < 0) {
		mounts_free(l, total);
		return r;
	}
	mounts_free(cc->mounts, cc->n_mounts);
	cc->mounts = l;
	cc->n_mounts = total;
	return 0;
}

static void commands_free(struct cc_command *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].shell);
		strv_free(c[i].argv);
	}
	free(c);
}

static int node_key(struct walk *w, enum cc_key k, const yaml_node_t *v)
{
	struct cloud_config *cc = w->cc;
	struct cc_command *cmds = NULL;
	size_t n = 0;
	int r;

	switch (k) {
	case CC_HOSTNAME:
		return node_string(w, v, "the value", &cc->hostname);
	case CC_FQDN:
		return node_string(w, v, "the value", &cc->fqdn);
	case CC_PRESERVE_HOSTNAME:
		return node_bool(w, v, "the value", &cc->preserve_hostname);
	case CC_SSH_AUTHORIZED_KEYS:
		return node_strv(w, v, "the value", false, &cc->ssh_authorized_keys);
	case CC_USERS:
		return node_users(w, v, cc);
	case CC_WRITE_FILES:
		return node_files(w, v, cc);
	case CC_BOOTCMD:
	case CC_RUNCMD:
		r = node_commands(w, v, &cmds, &n);
		if (r < 0)
			return r;
		if (k == CC_BOOTCMD) {
			commands_free(cc->bootcmd, cc->n_bootcmd);
			cc->bootcmd = cmds;
			cc->n_bootcmd = n;
		} else {
			commands_free(cc->runcmd, cc->n_runcmd);
			cc->runcmd = cmds;
			cc->n_runcmd = n;
		}
		return 0;
	case CC_PACKAGES:
		return node_packages(w, v, cc);
	case CC_PACKAGE_UPDATE:
		return node_bool(w, v, "the value", &cc->package_update);
	case CC_PACKAGE_UPGRADE:
		return node_bool(w, v, "the value", &cc->package_upgrade);
	case CC_MOUNTS:
		return node_mounts(w, v, cc);
	case CC_DISK_SETUP:
	case CC_FS_SETUP:
	case _CC_KEY_MAX:
		return 0;
	}
	return 0;
}

static int parse_error(const yaml_parser_t *p, const char *text, size_t len, struct cc_error *err)
{
	size_t line = p->problem_mark.line, column = p->problem_mark.column;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset, not a mark. */
		line = column = 0;
		for (size_t i = 0; i < p->problem_offset && i < len; i++) {
			column++;
			if (text[i] == '\n')
				line++, column = 0;
		}
	}
	err->line = (unsigned)line + 1;
	err->column = (unsigned)column + 1;
	snprintf(err->problem, sizeof(err->problem), "%s%s%s",
		 p->problem ? p->problem : "not valid YAML", p->context ? " " : "",
		 p->context ? p->context : "");
	return -EBADMSG;
}

int cloud_config_parse(const char *text, size_t len, struct cloud_config **ret,
		       struct cc_error *err)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	struct cloud_config *cc = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct walk w;
	int r = 0;

	*err = (struct cc_error){};
	*ret = NULL;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = parse_error(&parser, text, len, err);
		yaml_parser_delete(&parser);
		return r;
	}

	cc = calloc(1, sizeof(*cc));
	if (!cc) {
		r = -ENOMEM;
		goto finish;
	}
	w = (struct walk){ .doc = &doc, .cc = cc, .budget = len * 4 };
	if (w.budget < COPY_BUDGET_MIN)
		w.budget = COPY_BUDGET_MIN;

	root = yaml_document_get_root_node(&doc);
	if (!root || is_null(root))
		goto finish; /* an empty document: nothing to do */
	if (root->type != YAML_MAPPING_NODE) {
		err->line = (unsigned)root->start_mark.line + 1;
		err->column = (unsigned)root->start_mark.column + 1;
		snprintf(err->problem, sizeof(err->problem), "the top level is a %s, not a mapping",
			 root->type == YAML_SEQUENCE_NODE ? "list" : "scalar");
		r = -EBADMSG;
		goto finish;
	}

	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = get(&w, p->key), *v = get(&w, p->value);
		_cleanup_free_ char *name = NULL;
		enum cc_key key = _CC_KEY_MAX;

		w.key = "?";
		r = k->type == YAML_SCALAR_NODE ? node_string(&w, k, "a key", &name) :
						  add_problem(&w, k, "a key must be a string");
		if (r == -EINVAL)
			continue;
		if (r < 0)
			goto finish;
		for (size_t i = 0; i < _CC_KEY_MAX; i++)
			if (streq(name, key_names[i]))
				key = (enum cc_key)i;
		if (key == _CC_KEY_MAX) {
			if (!strv_contains(cc->unknown, name)) {
				r = strv_push(&cc->unknown, TAKE_PTR(name));
				if (r < 0)
					goto finish;
			}
			continue;
		}
		w.key = key_names[key];
		cc->has[key] = cc->invalid[key] = false;
		r = node_key(&w, key, v);
		if (r == -EINVAL) {
			cc->invalid[key] = true;
			continue;
		}
		if (r < 0)
			goto finish;
		cc->has[key] = true;
	}
	r = 0;

finish:
	if (r == -E2BIG)
		snprintf(err->problem, sizeof(err->problem),
			 "aliases expand the document beyond %zu bytes", len * 4);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (r < 0) {
		cloud_config_free(cc);
		return r;
	}
	*ret = cc;
	return 0;
}

#define MOVE(field)                                                                                \
	do {                                                                                       \
		dst->field = src->field;                                                           \
		src->field = 0;                                                                    \
	} while (0)

static void clear_key(struct cloud_config *cc, enum cc_key k)
{
	switch (k) {
	case CC_HOSTNAME:
		free(cc->hostname);
		cc->hostname = NULL;
		break;
	case CC_FQDN:
		free(cc->fqdn);
		cc->fqdn = NULL;
		break;
	case CC_SSH_AUTHORIZED_KEYS:
		strv_free(cc->ssh_authorized_keys);
		cc->ssh_authorized_keys = NULL;
		break;
	case CC_USERS:
		users_free(cc->users, cc->n_users);
		cc->users = NULL;
		cc->n_users = 0;
		break;
	case CC_WRITE_FILES:
		files_free(cc->files, cc->n_files);
		cc->files = NULL;
		cc->n_files = 0;
		break;
	case CC_BOOTCMD:
		commands_free(cc->bootcmd, cc->n_bootcmd);
		cc->bootcmd = NULL;
		cc->n_bootcmd = 0;
		break;
	case CC_RUNCMD:
		commands_free(cc->runcmd, cc->n_runcmd);
		cc->runcmd = NULL;
		cc->n_runcmd = 0;
		break;
	case CC_PACKAGES:
		strv_free(cc->packages);
		cc->packages = NULL;
		break;
	case CC_MOUNTS:
		mounts_free(cc->mounts, cc->n_mounts);
		cc->mounts = NULL;
		cc->n_mounts = 0;
		break;
	default:
		break;
	}
}

/* Append SRC's strings to DST (skipping those DST has when UNIQUE); SRC ends up empty. */
static int move_strv(char ***dst, char ***src, bool unique)
{
	size_t n = strv_length(*src);
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		char *s = TAKE_PTR((*src)[i]);

		if (r < 0 || (unique && strv_contains(*dst, s)))
			free(s);
		else
			r = strv_push(dst, s);
	}
	free(*src);
	*src = NULL;
	return r;
}

int cloud_config_merge(struct cloud_config *dst, struct cloud_config *src)
{
	int r;

	for (size_t i = 0; i < _CC_KEY_MAX; i++) {
		enum cc_key k = (enum cc_key)i;

		if (!src->has[k] && !src->invalid[k])
			continue;
		clear_key(dst, k);
		dst->has[k] = src->has[k];
		dst->invalid[k] = src->invalid[k];
		switch (k) {
		case CC_HOSTNAME:
			MOVE(hostname);
			break;
		case CC_FQDN:
			MOVE(fqdn);
			break;
		case CC_PRESERVE_HOSTNAME:
			MOVE(preserve_hostname);
			break;
		case CC_SSH_AUTHORIZED_KEYS:
			MOVE(ssh_authorized_keys);
			break;
		case CC_USERS:
			MOVE(users);
			MOVE(n_users);
			break;
		case CC_WRITE_FILES:
			MOVE(files);
			MOVE(n_files);
			break;
		case CC_BOOTCMD:
			MOVE(bootcmd);
			MOVE(n_bootcmd);
			break;
		case CC_RUNCMD:
			MOVE(runcmd);
			MOVE(n_runcmd);
			break;
		case CC_PACKAGES:
			MOVE(packages);
			break;
		case CC_PACKAGE_UPDATE:
			MOVE(package_update);
			break;
		case CC_PACKAGE_UPGRADE:
			MOVE(package_upgrade);
			break;
		case CC_MOUNTS:
			MOVE(mounts);
			MOVE(n_mounts);
			break;
		default:
			break;
		}
	}
	r = move_strv(&dst->unknown, &src->unknown, true);
	if (r < 0)
		return r;
	return move_strv(&dst->problems, &src->problems, false);
}

size_t cloud_config_n_keys(const struct cloud_config *cc)
{
	size_t n = 0;

	for (size_t i = 0; cc && i < _CC_KEY_MAX; i++)
		n += cc->has[i] || cc->invalid[i];
	return n;
}

void cloud_config_free(struct cloud_config *cc)
{
	if (!cc)
		return;
	for (size_t i = 0; i < _CC_KEY_MAX; i++)
		clear_key(cc, (enum cc_key)i);
	strv_free(cc->unknown);
	strv_free(cc->problems);
	free(cc);
}
