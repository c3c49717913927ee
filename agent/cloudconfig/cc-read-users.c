/* SPDX-License-Identifier: MIT */
/*
 * cc-read-users.c: the cloud-config "users" key read from the tree into struct cc_user, in the
 * normalized form cloud-init's ug_util.normalize_users_groups makes: a comma-separated string
 * (names sorted, each once), a list of names, mappings and lists of names, or the dict form
 * {name: {...}} ({name: true} is a name, a false one is left out). A mapping without a name
 * is the "default" entry; entries of one name are merged into the first (the first value of
 * each key wins, as its mergemanydict does). Key names read with dashes as underscores
 * (lock-passwd). Values follow cloud-init's use of them: flags are Python truth values, uid,
 * inactive and expiredate may be numbers or strings, groups a list or a comma-separated
 * string, ssh_authorized_keys one key or a list. A sub-key vagent does not apply
 * (ssh_import_id, ssh_redirect_user, doas, snapuser, selinux_user) is one problem line naming
 * it: the key is then partial and the user is still made. Also the merging helpers cc-users.c uses for the default
 * user. No I/O, no libyaml, never a value in a problem line.
 */
#include "cloudconfig/cloudconfig.h"
#include "base/util.h"

enum ukind {
	U_STRING, /* a scalar (a number is its text) */
	U_SECRET, /* the same, zeroed when freed */
	U_GROUPS, /* a list of strings, a comma-separated string, a mapping's keys */
	U_KEYS,	  /* one key, a list of keys, a mapping's values */
	U_SUDO,	  /* a rule, a list of rules; null or false: none */
	U_FLAG,	  /* a Python truth value */
};

struct ukey {
	const char *name;
	enum ukind kind;
	size_t offset;
	enum cc_user_field field;
};

#define F(name, kind, member, field) { name, kind, offsetof(struct cc_user, member), field }
static const struct ukey ukeys[] = {
	F("gecos", U_STRING, gecos, CC_USER_GECOS),
	F("shell", U_STRING, shell, CC_USER_SHELL),
	F("homedir", U_STRING, homedir, CC_USER_HOMEDIR),
	F("primary_group", U_STRING, primary_group, CC_USER_PRIMARY_GROUP),
	F("uid", U_STRING, uid, CC_USER_UID),
	F("expiredate", U_STRING, expiredate, CC_USER_EXPIREDATE),
	F("inactive", U_STRING, inactive, CC_USER_INACTIVE),
	F("groups", U_GROUPS, groups, CC_USER_GROUPS),
	F("sudo", U_SUDO, sudo, CC_USER_SUDO),
	F("lock_passwd", U_FLAG, lock_passwd, CC_USER_LOCK_PASSWD),
	F("system", U_FLAG, system, CC_USER_SYSTEM),
	F("no_create_home", U_FLAG, no_create_home, CC_USER_NO_CREATE_HOME),
	F("no_user_group", U_FLAG, no_user_group, CC_USER_NO_USER_GROUP),
	F("no_log_init", U_FLAG, no_log_init, CC_USER_NO_LOG_INIT),
	F("create_groups", U_FLAG, create_groups, CC_USER_CREATE_GROUPS),
	F("ssh_authorized_keys", U_KEYS, ssh_authorized_keys, CC_USER_SSH_AUTHORIZED_KEYS),
	F("passwd", U_SECRET, passwd, CC_USER_PASSWD),
	F("hashed_passwd", U_SECRET, hashed_passwd, CC_USER_HASHED_PASSWD),
	F("plain_text_passwd", U_SECRET, plain_text_passwd, CC_USER_PLAIN_TEXT_PASSWD),
};
#undef F

static void secret_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

void cc_user_init(struct cc_user *u, char *name)
{
	*u = (struct cc_user){ .name = name, .lock_passwd = true, .create_groups = true };
	u->is_default = name && streq(name, "default");
}

static void field_free(struct cc_user *u, const struct ukey *k)
{
	void *p = (char *)u + k->offset;

	switch (k->kind) {
	case U_STRING:
		free(*(char **)p);
		*(char **)p = NULL;
		break;
	case U_SECRET:
		secret_free(*(char **)p);
		*(char **)p = NULL;
		break;
	case U_GROUPS:
	case U_KEYS:
	case U_SUDO:
		strv_free(*(char ***)p);
		*(char ***)p = NULL;
		break;
	case U_FLAG:
		break;
	}
}

void cc_user_done(struct cc_user *u)
{
	for (size_t i = 0; i < ARRAY_SIZE(ukeys); i++)
		field_free(u, &ukeys[i]);
	free(u->name);
	*u = (struct cc_user){};
}

int cc_user_merge(struct cc_user *dst, struct cc_user *src)
{
	for (size_t i = 0; i < ARRAY_SIZE(ukeys); i++) {
		const struct ukey *k = &ukeys[i];
		unsigned bit = 1U << k->field;
		void *d = (char *)dst + k->offset, *s = (char *)src + k->offset;

		if (!(src->set & bit))
			continue;
		if (k->field == CC_USER_GROUPS && (dst->set & bit)) {
			for (char **g = src->groups; g && *g; g++)
				if (!strv_contains(dst->groups, *g) &&
				    strv_push(&dst->groups, strdup(*g)) < 0)
					return -ENOMEM;
			continue;
		}
		if (dst->set & bit)
			continue;
		if (k->kind == U_FLAG)
			*(bool *)d = *(bool *)s;
		else if (k->kind == U_STRING || k->kind == U_SECRET)
			*(char **)d = TAKE_PTR(*(char **)s);
		else
			*(char ***)d = TAKE_PTR(*(char ***)s);
		dst->set |= bit;
	}
	return 0;
}

static char **strv_dup(char *const *v)
{
	char **l = NULL;

	for (; *v; v++)
		if (strv_push(&l, strdup(*v)) < 0) {
			strv_free(l);
			return NULL;
		}
	return l ?: calloc(1, sizeof(char *));
}

int cc_user_copy(const struct cc_user *u, struct cc_user *ret)
{
	struct cc_user c = { .name = u->name ? strdup(u->name) : NULL,
			     .is_default = u->is_default,
			     .set = u->set };
	bool oom = u->name && !c.name;

	for (size_t i = 0; i < ARRAY_SIZE(ukeys); i++) {
		const struct ukey *k = &ukeys[i];
		const void *s = (const char *)u + k->offset;
		void *d = (char *)&c + k->offset;

		if (k->kind == U_FLAG)
			*(bool *)d = *(const bool *)s;
		else if (k->kind == U_STRING || k->kind == U_SECRET) {
			const char *v = *(char *const *)s;
			*(char **)d = v ? strdup(v) : NULL;
			oom |= v && !*(char **)d;
		} else {
			char *const *v = *(char **const *)s;
			*(char ***)d = v ? strv_dup(v) : NULL;
			oom |= v && !*(char ***)d;
		}
	}
	if (oom) {
		cc_user_done(&c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

/* Python's truth value of a YAML scalar as PyYAML loads it (null, false, 0, "" are false). A
 * value that is not a boolean is noted: cloud-init's schema wants one. */
static int user_flag(struct walk *w, const struct cc_node *n, const char *what, bool *ret)
{
	int b = cc_node_bool(n);
	const char *s;

	if (touch(w) < 0)
		return -E2BIG;
	if (b >= 0) {
		*ret = b;
		return 0;
	}
	if (cc_node_is_null(n)) {
		*ret = false;
		return 0;
	}
	if (n->type != CC_NODE_SCALAR)
		*ret = n->type == CC_NODE_SEQUENCE ? n->seq.n > 0 : n->map.n > 0;
	else {
		s = n->scalar.value;
		/* a plain 0 (or 0.0, 00) is a false number; any string that is not empty is true */
		*ret = n->scalar.len > 0 &&
		       !(cc_node_is_plain(n) && strspn(s, "0.") == n->scalar.len);
	}
	return note(w, n, "%s is not true or false: read as Python's truth value (%s), as "
		    "cloud-init does", what, *ret ? "true" : "false");
}

/* *RET: one string per pair of mapping N, its keys (KEYS) or its values, each read as WHAT. */
static int map_strings(struct walk *w, const struct cc_node *n, bool keys, const char *what,
		       char ***ret)
{
	struct strlist l = {};
	int r = check_entries(w, n, n->map.n);

	for (size_t i = 0; r >= 0 && i < n->map.n; i++) {
		char *s = NULL;

		r = node_string(w, keys ? n->map.pairs[i].key : n->map.pairs[i].value, what, &s);
		if (r >= 0)
			r = strlist_push(&l, s);
	}
	if (r < 0) {
		strlist_done(&l);
		return r;
	}
	strv_free(*ret);
	*ret = strlist_steal(&l);
	return 0;
}

/* A list of strings, a comma-separated string, or (deprecated) a mapping: its keys. */
static int user_groups(struct walk *w, const struct cc_node *n, char ***ret)
{
	if (n->type != CC_NODE_MAPPING)
		return node_strv(w, n, "groups", true, ret);
	return map_strings(w, n, true, "a group", ret);
}

/* One key, a list of keys, or a mapping (its values), as cloud-init's create_user takes them. */
static int user_keys(struct walk *w, const struct cc_node *n, char ***ret)
{
	if (n->type == CC_NODE_SEQUENCE)
		return node_strv(w, n, "ssh_authorized_keys", false, ret);
	if (n->type == CC_NODE_SCALAR) {
		struct strlist l = {};
		char *s = NULL;
		int r = node_string(w, n, "ssh_authorized_keys", &s);

		if (r >= 0)
			r = strlist_push(&l, s);
		if (r < 0) {
			strlist_done(&l);
			return r;
		}
		strv_free(*ret);
		*ret = strlist_steal(&l);
		return 0;
	}
	return map_strings(w, n, false, "a key", ret);
}

static int user_sudo(struct walk *w, const struct cc_node *v, char ***ret)
{
	if (cc_node_is_null(v) || cc_node_bool(v) == 0) {
		strv_free(*ret);
		*ret = NULL;
		return touch(w) < 0 ? -E2BIG : 0;
	}
	if (cc_node_bool(v) == 1)
		return add_problem(w, v, "sudo must be a rule, a list of rules or false");
	if (v->type == CC_NODE_SCALAR) {
		char **l = calloc(2, sizeof(char *));
		int r;

		if (!l)
			return -ENOMEM;
		r = node_string(w, v, "sudo", &l[0]);
		if (r < 0) {
			free(l);
			return r;
		}
		strv_free(*ret);
		*ret = l;
		return 0;
	}
	return node_strv(w, v, "sudo", false, ret);
}

/* KEY's name as cloud-init reads it: dashes as underscores, surrounding spaces dropped. */
static void normalize_key(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s && n + 1 < size; s++)
		buf[n++] = *s == '-' ? '_' : *s;
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = 0;
}

static int user_entry(struct walk *w, const struct cc_node *n, struct cc_user *u)
{
	int r = 0;

	cc_user_init(u, NULL);
	for (size_t i = 0; r >= 0 && i < n->map.n; i++) {
		const struct cc_node *k = n->map.pairs[i].key, *v = n->map.pairs[i].value;
		const struct ukey *d = NULL;
		char name[32];

		normalize_key(cc_scalar_str(k) ?: "", name, sizeof(name));
		if (streq(name, "name")) {
			r = node_string(w, v, "name", &u->name);
			continue;
		}
		for (size_t j = 0; !d && j < ARRAY_SIZE(ukeys); j++)
			if (streq(name, ukeys[j].name))
				d = &ukeys[j];
		if (!d) {
			r = ignore_subkey(w, k);
			continue;
		}
		void *p = (char *)u + d->offset;
		switch (d->kind) {
		case U_STRING:
		case U_SECRET:
			r = node_string(w, v, d->name, (char **)p);
			break;
		case U_GROUPS:
			r = user_groups(w, v, (char ***)p);
			break;
		case U_KEYS:
			r = user_keys(w, v, (char ***)p);
			break;
		case U_SUDO:
			r = user_sudo(w, v, (char ***)p);
			break;
		case U_FLAG:
			r = user_flag(w, v, d->name, (bool *)p);
			break;
		}
		u->set |= 1U << d->field;
	}
	if (r >= 0 && !u->name) {
		u->name = strdup("default"); /* cloud-init: user_config.pop("name", "default") */
		if (!u->name)
			r = -ENOMEM;
	}
	if (r < 0) {
		cc_user_done(u);
		return r;
	}
	u->is_default = streq(u->name, "default");
	return 0;
}

struct ulist {
	struct cc_user *v;
	size_t n, allocated;
};

static void ulist_done(struct ulist *l)
{
	for (size_t i = 0; i < l->n; i++)
		cc_user_done(&l->v[i]);
	free(l->v);
	*l = (struct ulist){};
}

static struct cc_user *ulist_find(struct ulist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

/* Add U (taken): merged into an earlier entry of its name, else appended. */
static int ulist_add(struct walk *w, const struct cc_node *at, struct ulist *l, struct cc_user *u)
{
	struct cc_user *old = ulist_find(l, u->name);
	int r;

	if (old) {
		r = cc_user_merge(old, u);
		cc_user_done(u);
		return r;
	}
	if (l->n >= CC_MAX_ENTRIES) {
		cc_user_done(u);
		return add_problem(w, at, "more than %u users (vagent's limit), not applied",
				   CC_MAX_ENTRIES);
	}
	if (l->n == l->allocated) {
		size_t na = l->allocated ? 2 * l->allocated : 8;
		void *p = reallocarray(l->v, na, sizeof(*l->v));

		if (!p) {
			cc_user_done(u);
			return -ENOMEM;
		}
		l->v = p;
		l->allocated = na;
	}
	l->v[l->n++] = *u;
	*u = (struct cc_user){};
	return 0;
}

/* Names (each taken): added as entries with no keys, unless there is one of that name. */
static int ulist_add_names(struct walk *w, const struct cc_node *at, struct ulist *l,
			   char **names)
{
	int r = 0;

	for (size_t i = 0; names && names[i]; i++) {
		struct cc_user u;

		if (r < 0 || ulist_find(l, names[i])) {
			free(TAKE_PTR(names[i]));
			continue;
		}
		cc_user_init(&u, TAKE_PTR(names[i]));
		r = ulist_add(w, at, l, &u);
	}
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_entry(struct walk *w, const struct cc_node *c, struct ulist *l)
{
	struct cc_user u;
	int r;

	r = user_entry(w, c, &u);
	if (r < 0)
		return r;
	return ulist_add(w, c, l, &u);
}

/* The dict form: {name: {...}}, {name: true} (a name), {name: false} (left out). */
static int read_dict(struct walk *w, const struct cc_node *n, struct ulist *l)
{
	int r = check_entries(w, n, n->map.n);

	for (size_t i = 0; r >= 0 && i < n->map.n; i++) {
		const struct cc_node *k = n->map.pairs[i].key, *v = n->map.pairs[i].value;
		_cleanup_free_ char *name = NULL;
		struct cc_user u;

		r = node_string(w, k, "a user's name", &name);
		if (r < 0)
			break;
		if (v->type == CC_NODE_MAPPING) {
			r = user_entry(w, v, &u);
			if (r < 0)
				break;
			/* the mapping's key is the name (cloud-init: v["name"] = k) */
			free(u.name);
			u.name = TAKE_PTR(name);
			u.is_default = streq(u.name, "default");
			r = ulist_add(w, v, l, &u);
		} else if (v->type == CC_NODE_SCALAR) {
			char *one[2] = { NULL, NULL };
			bool yes = false;

			/* util.is_true: a boolean true, or true/1/on/yes */
			if (cc_node_bool(v) == 1)
				yes = true;
			else if (cc_node_bool(v) < 0 && cc_scalar_str(v)) {
				char buf[8];
				normalize_key(v->scalar.value, buf, sizeof(buf));
				yes = !strcasecmp(buf, "true") || streq(buf, "1") ||
				      !strcasecmp(buf, "on") || !strcasecmp(buf, "yes");
			}
			if (!yes)
				continue;
			one[0] = TAKE_PTR(name);
			r = ulist_add_names(w, v, l, one);
		} else
			r = add_problem(w, v, "a user's value must be a mapping or true/false");
	}
	return r;
}

int cc_users_read(struct walk *w, const struct cc_node *n, struct cloud_config *cc)
{
	struct ulist l = {};
	int r = 0;

	if (n->type == CC_NODE_SCALAR) {
		/* "users: default" or "a, b": util.uniq_merge_sorted, so sorted and each once */
		_cleanup_strv_free_ char **names = NULL;

		r = node_strv(w, n, "users", true, &names);
		if (r >= 0 && names)
			qsort(names, strv_length(names), sizeof(char *), cmp_str);
		if (r >= 0)
			r = ulist_add_names(w, n, &l, names);
	} else if (n->type == CC_NODE_MAPPING)
		r = read_dict(w, n, &l);
	else {
		r = check_entries(w, n, n->seq.n);
		for (size_t i = 0; r >= 0 && i < n->seq.n; i++) {
			const struct cc_node *c = n->seq.items[i];
			_cleanup_strv_free_ char **names = NULL;

			if (c->type == CC_NODE_MAPPING) {
				r = read_entry(w, c, &l);
				continue;
			}
			/* a name, "a,b", or a list of names */
			r = node_strv(w, c, "a user", true, &names);
			if (r >= 0)
				r = ulist_add_names(w, c, &l, names);
		}
	}
	if (r < 0) {
		ulist_done(&l);
		return r;
	}
	cc_users_clear(cc);
	cc->users = l.v;
	cc->n_users = l.n;
	return 0;
}

void cc_users_clear(struct cloud_config *cc)
{
	struct ulist l = { .v = cc->users, .n = cc->n_users };

	ulist_done(&l);
	cc->users = NULL;
	cc->n_users = 0;
}
