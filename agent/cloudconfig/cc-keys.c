/* SPDX-License-Identifier: MIT */
/*
 * cc-keys.c: the system keys of a cloud-config read from the tree into cc-types.h's structs
 * (timezone, locale, keyboard, ntp, apt, ca_certs, rsyslog, package_reboot_if_required,
 * power_state, final_message) and write_files' "source:", with cloudconfig.c's walk helpers:
 * a wrong shape is a problem line that keeps the key out, an unsupported sub-key one problem
 * line per name (the key is then partial). Shapes follow cloud-init's schema and the defaults
 * its modules use (cloudinit/config/cc_*.py); nothing is looked up on the system here. Also
 * freeing and moving them for cloud_config_merge(). No I/O, no libyaml, never a value logged.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>

#include "cloudconfig/cloudconfig.h"
#include "base/util.h"

bool cc_keys_is_system(enum cc_key k)
{
	return (k >= CC_TIMEZONE && k <= CC_FINAL_MESSAGE) || k == CC_CA_CERTS_DASHED;
}

#define USEC_PER_SEC UINT64_C(1000000)

#define PAIR_NAME(n, i) (cc_scalar_str((n)->map.pairs[i].key) ?: "")

static int need_mapping(struct walk *w, const struct cc_node *n, const char *what)
{
	if (touch(w) < 0)
		return -E2BIG;
	if (n->type != CC_NODE_MAPPING)
		return add_problem(w, n, "%s must be a mapping", what);
	return 0;
}

/* cloud-init's util.is_false(): the boolean false or the strings off/0/no/false. */
static bool is_false(const struct cc_node *n)
{
	static const char *const words[] = { "off", "0", "no", "false" };

	if (cc_node_bool(n) == 0)
		return true;
	if (n->type != CC_NODE_SCALAR || !cc_scalar_str(n))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasecmp(n->scalar.value, words[i]) == 0)
			return true;
	return false;
}

static int read_locale(struct walk *w, const struct cc_node *v, struct cloud_config *cc)
{
	if (touch(w) < 0)
		return -E2BIG;
	free(cc->locale);
	cc->locale = NULL;
	if (is_false(v))
		return 0; /* disabled */
	return node_string(w, v, "the value", &cc->locale);
}

static void keyboard_done(struct cc_keyboard *k)
{
	free(k->layout);
	free(k->model);
	free(k->variant);
	free(k->options);
	*k = (struct cc_keyboard){};
}

static int read_keyboard(struct walk *w, const struct cc_node *v, struct cc_keyboard *kb)
{
	int r;

	keyboard_done(kb);
	r = need_mapping(w, v, "the value");
	for (size_t i = 0; r >= 0 && i < v->map.n; i++) {
		const char *name = PAIR_NAME(v, i);
		const struct cc_node *x = v->map.pairs[i].value;

		if (streq(name, "layout"))
			r = node_string(w, x, "layout", &kb->layout);
		else if (streq(name, "model"))
			r = node_string(w, x, "model", &kb->model);
		else if (streq(name, "variant"))
			r = node_string(w, x, "variant", &kb->variant);
		else if (streq(name, "options"))
			r = node_string(w, x, "options", &kb->options);
		else
			r = ignore_subkey(w, v->map.pairs[i].key);
	}
	if (r >= 0 && !kb->layout)
		r = add_problem(w, v, "a layout is required");
	return r;
}

static void ntp_done(struct cc_ntp *n)
{
	strv_free(n->servers);
	strv_free(n->pools);
	*n = (struct cc_ntp){};
}

static int read_ntp(struct walk *w, const struct cc_node *v, struct cc_ntp *ntp)
{
	int r = 0;

	ntp_done(ntp);
	ntp->enabled = true;
	if (cc_node_is_null(v))
		return touch(w); /* "ntp:": the defaults */
	r = need_mapping(w, v, "the value");
	for (size_t i = 0; r >= 0 && i < v->map.n; i++) {
		const char *name = PAIR_NAME(v, i);
		const struct cc_node *x = v->map.pairs[i].value;

		if (streq(name, "enabled"))
			ntp->enabled = !is_false(x);
		else if (streq(name, "ntp_client")) {
			_cleanup_free_ char *client = NULL;

			r = node_string(w, x, "ntp_client", &client);
			if (r >= 0 && !streq(client, "auto") && !streq(client, "systemd-timesyncd"))
				r = add_problem(w, x, "ntp_client must be auto or systemd-timesyncd "
						      "(vagent configures systemd-timesyncd only)");
		} else if (streq(name, "servers"))
			r = node_strv(w, x, "servers", false, &ntp->servers);
		else if (streq(name, "pools"))
			r = node_strv(w, x, "pools", false, &ntp->pools);
		else
			r = ignore_subkey(w, v->map.pairs[i].key); /* peers, allow, config */
	}
	return r;
}

static void mirrors_free(struct cc_apt_mirror *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strv_free(m[i].arches);
		free(m[i].uri);
		free(m[i].key);
	}
	free(m);
}

static void sources_free(struct cc_apt_source *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].source);
		free(s[i].key);
		free(s[i].filename);
	}
	free(s);
}

static void apt_done(struct cc_apt *a)
{
	for (size_t i = 0; i < _CC_APT_PROXY_MAX; i++)
		free(a->proxy[i]);
	free(a->conf);
	mirrors_free(a->primary, a->n_primary);
	mirrors_free(a->security, a->n_security);
	sources_free(a->sources, a->n_sources);
	*a = (struct cc_apt){};
}

static int read_mirrors(struct walk *w, const struct cc_node *v, const char *what,
			struct cc_apt_mirror **ret, size_t *ret_n)
{
	struct cc_apt_mirror *l;
	int r;

	if (touch(w) < 0)
		return -E2BIG;
	if (v->type != CC_NODE_SEQUENCE)
		return add_problem(w, v, "%s must be a list of mirrors", what);
	r = check_entries(w, v, v->seq.n);
	if (r < 0)
		return r;
	l = calloc(v->seq.n ?: 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < v->seq.n; i++) {
		const struct cc_node *e = v->seq.items[i];

		r = need_mapping(w, e, "a mirror");
		for (size_t j = 0; r >= 0 && j < e->map.n; j++) {
			const char *name = PAIR_NAME(e, j);
			const struct cc_node *x = e->map.pairs[j].value;

			if (streq(name, "arches"))
				r = node_strv(w, x, "arches", false, &l[i].arches);
			else if (streq(name, "uri"))
				r = node_string(w, x, "uri", &l[i].uri);
			else if (streq(name, "key"))
				r = node_string(w, x, "key", &l[i].key);
			else
				r = ignore_subkey(w, e->map.pairs[j].key); /* search, keyid... */
		}
	}
	if (r < 0) {
		mirrors_free(l, v->seq.n);
		return r;
	}
	*ret = l;
	*ret_n = v->seq.n;
	return 0;
}

static int read_sources(struct walk *w, const struct cc_node *v, struct cc_apt *a)
{
	struct cc_apt_source *l;
	int r;

	r = need_mapping(w, v, "sources");
	if (r < 0)
		return r;
	r = check_entries(w, v, v->map.n);
	if (r < 0)
		return r;
	l = calloc(v->map.n ?: 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < v->map.n; i++) {
		const struct cc_node *e = v->map.pairs[i].value;

		l[i].append = true;
		r = node_string(w, v->map.pairs[i].key, "a source's name", &l[i].name);
		if (r >= 0)
			r = need_mapping(w, e, "a source");
		for (size_t j = 0; r >= 0 && j < e->map.n; j++) {
			const char *name = PAIR_NAME(e, j);
			const struct cc_node *x = e->map.pairs[j].value;

			if (streq(name, "source"))
				r = node_string(w, x, "source", &l[i].source);
			else if (streq(name, "key"))
				r = node_string(w, x, "key", &l[i].key);
			else if (streq(name, "filename"))
				r = node_string(w, x, "filename", &l[i].filename);
			else if (streq(name, "append"))
				r = node_bool(w, x, "append", &l[i].append);
			else {
				if (streq(name, "keyid"))
					l[i].keyid = true;
				r = ignore_subkey(w, e->map.pairs[j].key); /* keyid, keyserver */
			}
		}
	}
	if (r < 0) {
		sources_free(l, v->map.n);
		return r;
	}
	a->sources = l;
	a->n_sources = v->map.n;
	return 0;
}

static int read_apt(struct walk *w, const struct cc_node *v, struct cc_apt *a)
{
	static const char *const proxies[_CC_APT_PROXY_MAX] = {
		[CC_APT_PROXY] = "proxy",
		[CC_APT_HTTP_PROXY] = "http_proxy",
		[CC_APT_HTTPS_PROXY] = "https_proxy",
		[CC_APT_FTP_PROXY] = "ftp_proxy",
	};
	int r = 0;

	apt_done(a);
	if (cc_node_is_null(v))
		return touch(w);
	r = need_mapping(w, v, "the value");
	for (size_t i = 0; r >= 0 && i < v->map.n; i++) {
		const char *name = PAIR_NAME(v, i);
		const struct cc_node *x = v->map.pairs[i].value;
		bool done = false;

		for (size_t p = 0; p < _CC_APT_PROXY_MAX && !done; p++)
			if (streq(name, proxies[p])) {
				r = node_string(w, x, proxies[p], &a->proxy[p]);
				done = true;
			}
		if (done)
			continue;
		if (streq(name, "conf"))
			r = node_string(w, x, "conf", &a->conf);
		else if (streq(name, "primary")) {
			mirrors_free(a->primary, a->n_primary);
			a->primary = NULL;
			a->n_primary = 0;
			r = read_mirrors(w, x, "primary", &a->primary, &a->n_primary);
			a->has_primary = r >= 0;
		} else if (streq(name, "security")) {
			mirrors_free(a->security, a->n_security);
			a->security = NULL;
			a->n_security = 0;
			r = read_mirrors(w, x, "security", &a->security, &a->n_security);
			a->has_security = r >= 0;
		} else if (streq(name, "preserve_sources_list"))
			r = node_bool(w, x, "preserve_sources_list", &a->preserve_sources_list);
		else if (streq(name, "sources")) {
			sources_free(a->sources, a->n_sources);
			a->sources = NULL;
			a->n_sources = 0;
			r = read_sources(w, x, a);
		} else
			r = ignore_subkey(w, v->map.pairs[i].key);
	}
	return r;
}

static void ca_certs_done(struct cc_ca_certs *c)
{
	strv_free(c->trusted);
	*c = (struct cc_ca_certs){};
}

static int read_ca_certs(struct walk *w, const struct cc_node *v, struct cc_ca_certs *c)
{
	int r;

	ca_certs_done(c);
	r = need_mapping(w, v, "the value");
	for (size_t i = 0; r >= 0 && i < v->map.n; i++) {
		const char *name = PAIR_NAME(v, i);
		const struct cc_node *x = v->map.pairs[i].value;

		if (streq(name, "remove_defaults") || streq(name, "remove-defaults"))
			r = node_bool(w, x, name, &c->remove_defaults);
		else if (streq(name, "trusted")) {
			if (x->type == CC_NODE_SCALAR && !cc_node_is_null(x)) {
				/* util.get_cfg_option_list: one string is a list of one */
				char *s = NULL;

				strv_free(c->trusted);
				c->trusted = NULL;
				r = node_string(w, x, "trusted", &s);
				if (r >= 0)
					r = strv_push(&c->trusted, s);
			} else if (!cc_node_is_null(x))
				r = node_strv(w, x, "trusted", false, &c->trusted);
		} else
			r = ignore_subkey(w, v->map.pairs[i].key);
	}
	return r;
}

static void rsyslog_done(struct cc_rsyslog *s)
{
	free(s->config_dir);
	free(s->config_filename);
	for (size_t i = 0; i < s->n_configs; i++) {
		free(s->configs[i].content);
		free(s->configs[i].filename);
	}
	free(s->configs);
	strv_free(s->remote_names);
	strv_free(s->remote_lines);
	command_done(&s->reload);
	*s = (struct cc_rsyslog){};
}

static int read_rsyslog_configs(struct walk *w, const struct cc_node *v, struct cc_rsyslog *s)
{
	int r;

	if (touch(w) < 0)
		return -E2BIG;
	if (v->type != CC_NODE_SEQUENCE)
		return add_problem(w, v, "configs must be a list");
	r = check_entries(w, v, v->seq.n);
	if (r < 0)
		return r;
	s->configs = calloc(v->seq.n ?: 1, sizeof(*s->configs));
	if (!s->configs)
		return -ENOMEM;
	s->n_configs = v->seq.n;
	for (size_t i = 0; r >= 0 && i < v->seq.n; i++) {
		const struct cc_node *e = v->seq.items[i];
		struct cc_rsyslog_config *c = &s->configs[i];

		if (e->type == CC_NODE_SCALAR) {
			r = node_string(w, e, "a config", &c->content);
			continue;
		}
		r = need_mapping(w, e, "a config");
		for (size_t j = 0; r >= 0 && j < e->map.n; j++) {
			const char *name = PAIR_NAME(e, j);
			const struct cc_node *x = e->map.pairs[j].value;

			if (streq(name, "content"))
				r = node_string(w, x, "content", &c->content);
			else if (streq(name, "filename"))
				r = node_string(w, x, "filename", &c->filename);
			else
				r = ignore_subkey(w, e->map.pairs[j].key);
		}
		if (r >= 0 && !c->content)
			r = add_problem(w, e, "a config needs a content");
	}
	return r;
}

static int read_rsyslog(struct walk *w, const struct cc_node *v, struct cc_rsyslog *s)
{
	struct strlist names = {}, lines = {};
	int r = 0;

	rsyslog_done(s);
	if (touch(w) < 0)
		return -E2BIG;
	if (v->type == CC_NODE_SEQUENCE)
		return read_rsyslog_configs(w, v, s); /* the old form: a list of configs */
	r = need_mapping(w, v, "the value");
	for (size_t i = 0; r >= 0 && i < v->map.n; i++) {
		const char *name = PAIR_NAME(v, i);
		const struct cc_node *x = v->map.pairs[i].value;

		if (streq(name, "config_dir"))
			r = node_string(w, x, "config_dir", &s->config_dir);
		else if (streq(name, "config_filename"))
			r = node_string(w, x, "config_filename", &s->config_filename);
		else if (streq(name, "configs"))
			r = read_rsyslog_configs(w, x, s);
		else if (streq(name, "remotes")) {
			r = need_mapping(w, x, "remotes");
			if (r >= 0)
				r = check_entries(w, x, x->map.n);
			for (size_t j = 0; r >= 0 && j < x->map.n; j++) {
				char *n = NULL, *l = NULL;

				if (cc_node_is_null(x->map.pairs[j].value))
					continue; /* cloud-init skips an empty remote */
				r = node_string(w, x->map.pairs[j].key, "a remote's name", &n);
				if (r >= 0)
					r = node_string(w, x->map.pairs[j].value, "a remote", &l);
				if (r < 0) {
					free(n);
					free(l);
					break;
				}
				r = strlist_push(&names, n); /* frees N on failure */
				if (r >= 0)
					r = strlist_push(&lines, l);
				else
					free(l);
			}
		} else if (streq(name, "service_reload_command")) {
			command_done(&s->reload);
			s->reload_custom = !cc_scalar_is(x, "auto");
			if (s->reload_custom)
				r = node_command(w, x, &s->reload);
		} else if (streq(name, "install_rsyslog") && is_false(x))
			r = touch(w); /* cloud-init's default on Debian: nothing to install */
		else
			r = ignore_subkey(w, v->map.pairs[i].key); /* install_rsyslog: true, packages */
	}
	s->n_remotes = lines.n;
	s->remote_names = strlist_steal(&names);
	s->remote_lines = strlist_steal(&lines);
	return r;
}

static void power_done(struct cc_power *p)
{
	free(p->delay);
	free(p->message);
	command_done(&p->command);
	*p = (struct cc_power){};
}

/* cloud-init: "now", or int(delay) minutes (5, "5", "+5"), as shutdown's "+N". */
static int read_delay(struct walk *w, const struct cc_node *v, char **ret)
{
	_cleanup_free_ char *s = NULL;
	const char *p;
	uint64_t m;
	int r;

	r = node_string(w, v, "delay", &s);
	if (r < 0)
		return r;
	if (streq(s, "now"))
		return free_and_strdup(ret, "now");
	p = s + (s[0] == '+');
	if (parse_u64(p, &m) < 0 || m > 100000)
		return add_problem(w, v, "delay must be 'now' or a number of minutes ('+5')");
	free(*ret);
	return asprintf(ret, "+%" PRIu64, m) < 0 ? (*ret = NULL, -ENOMEM) : 0;
}

static int read_power_state(struct walk *w, const struct cc_node *v, struct cc_power *p)
{
	bool mode = false;
	int r;

	power_done(p);
	p->timeout_usec = 30 * USEC_PER_SEC;
	r = need_mapping(w, v, "the value");
	for (size_t i = 0; r >= 0 && i < v->map.n; i++) {
		const char *name = PAIR_NAME(v, i);
		const struct cc_node *x = v->map.pairs[i].value;

		if (streq(name, "mode")) {
			if (cc_scalar_is(x, "poweroff"))
				p->mode = CC_POWER_POWEROFF;
			else if (cc_scalar_is(x, "reboot"))
				p->mode = CC_POWER_REBOOT;
			else if (cc_scalar_is(x, "halt"))
				p->mode = CC_POWER_HALT;
			else
				r = add_problem(w, x, "mode must be poweroff, reboot or halt");
			mode = r >= 0;
		} else if (streq(name, "delay"))
			r = read_delay(w, x, &p->delay);
		else if (streq(name, "message")) {
			if (!cc_node_is_null(x))
				r = node_string(w, x, "message", &p->message);
		} else if (streq(name, "timeout")) {
			_cleanup_free_ char *s = NULL;
			char *end;
			double d;

			r = node_string(w, x, "timeout", &s);
			if (r < 0)
				break;
			errno = 0;
			d = strtod(s, &end);
			if (!*s || *end || errno || !isfinite(d) || d < 0 || d > 86400)
				r = add_problem(w, x, "timeout must be a number of seconds");
			else
				p->timeout_usec = (uint64_t)(d * USEC_PER_SEC);
		} else if (streq(name, "condition")) {
			int b = cc_node_bool(x);

			command_done(&p->command);
			if (b >= 0)
				p->condition = b ? CC_POWER_COND_TRUE : CC_POWER_COND_FALSE;
			else {
				p->condition = CC_POWER_COND_COMMAND;
				r = node_command(w, x, &p->command);
			}
		} else
			r = ignore_subkey(w, v->map.pairs[i].key);
	}
	if (r >= 0 && !mode)
		r = add_problem(w, v, "a mode (poweroff, reboot or halt) is required");
	if (r >= 0 && !p->delay)
		r = free_and_strdup(&p->delay, "now");
	return r;
}

int cc_keys_read(struct walk *w, enum cc_key k, const struct cc_node *v, struct cloud_config *cc)
{
	switch (k) {
	case CC_TIMEZONE:
		return node_string(w, v, "the value", &cc->timezone);
	case CC_LOCALE:
		return read_locale(w, v, cc);
	case CC_KEYBOARD:
		return read_keyboard(w, v, &cc->keyboard);
	case CC_NTP:
		return read_ntp(w, v, &cc->ntp);
	case CC_APT:
		return read_apt(w, v, &cc->apt);
	case CC_CA_CERTS:
		return read_ca_certs(w, v, &cc->ca_certs);
	case CC_CA_CERTS_DASHED:
		return read_ca_certs(w, v, &cc->ca_certs_dashed);
	case CC_RSYSLOG:
		return read_rsyslog(w, v, &cc->rsyslog);
	case CC_PACKAGE_REBOOT_IF_REQUIRED:
		return node_bool(w, v, "the value", &cc->package_reboot_if_required);
	case CC_POWER_STATE:
		return read_power_state(w, v, &cc->power_state);
	case CC_FINAL_MESSAGE:
		return node_string(w, v, "the value", &cc->final_message);
	default:
		return 0;
	}
}

/* An HTTP header name: a token (RFC 9110). */
static bool header_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("!#$%&'*+-.^_`|~", *s)))
			return false;
	return true;
}

/* source headers: NAME: VALUE pairs as "Name: value" lines. */
static int read_headers(struct walk *w, const struct cc_node *x, struct strlist *headers)
{
	int r;

	r = need_mapping(w, x, "source headers");
	if (r >= 0)
		r = check_entries(w, x, x->map.n);
	for (size_t j = 0; r >= 0 && j < x->map.n; j++) {
		const struct cc_node *k = x->map.pairs[j].key;
		_cleanup_free_ char *hn = NULL, *hv = NULL;
		char *line;

		r = node_string(w, k, "a header name", &hn);
		if (r >= 0)
			r = node_string(w, x->map.pairs[j].value, "a header value", &hv);
		if (r < 0)
			break;
		if (!header_name_ok(hn) || string_has_control(hv, strlen(hv), true))
			return add_problem(w, k, "a header must be a token name and one line");
		if (asprintf(&line, "%s: %s", hn, hv) < 0)
			return -ENOMEM;
		r = strlist_push(headers, line);
	}
	return r;
}

int cc_keys_read_source(struct walk *w, const struct cc_node *v, struct cc_file *f)
{
	struct strlist headers = {};
	int r = 0;

	if (cc_node_is_null(v))
		return touch(w);
	r = need_mapping(w, v, "source");
	for (size_t i = 0; r >= 0 && i < v->map.n; i++) {
		const char *name = PAIR_NAME(v, i);
		const struct cc_node *x = v->map.pairs[i].value;

		if (streq(name, "uri"))
			r = node_string(w, x, "source uri", &f->source_uri);
		else if (streq(name, "headers"))
			r = read_headers(w, x, &headers);
		else
			r = ignore_subkey(w, v->map.pairs[i].key);
	}
	if (r < 0) {
		strlist_done(&headers);
		return r;
	}
	strv_free(f->source_headers);
	f->source_headers = strlist_steal(&headers);
	return 0;
}

void cc_keys_clear(struct cloud_config *cc, enum cc_key k)
{
	switch (k) {
	case CC_TIMEZONE:
		free(cc->timezone);
		cc->timezone = NULL;
		break;
	case CC_LOCALE:
		free(cc->locale);
		cc->locale = NULL;
		break;
	case CC_KEYBOARD:
		keyboard_done(&cc->keyboard);
		break;
	case CC_NTP:
		ntp_done(&cc->ntp);
		break;
	case CC_APT:
		apt_done(&cc->apt);
		break;
	case CC_CA_CERTS:
		ca_certs_done(&cc->ca_certs);
		break;
	case CC_CA_CERTS_DASHED:
		ca_certs_done(&cc->ca_certs_dashed);
		break;
	case CC_RSYSLOG:
		rsyslog_done(&cc->rsyslog);
		break;
	case CC_POWER_STATE:
		power_done(&cc->power_state);
		break;
	case CC_FINAL_MESSAGE:
		free(cc->final_message);
		cc->final_message = NULL;
		break;
	default:
		break;
	}
}

#define MOVE_FIELD(f)                                                                              \
	do {                                                                                       \
		dst->f = src->f;                                                                   \
		memset(&src->f, 0, sizeof(src->f));                                                \
	} while (0)

void cc_keys_move(struct cloud_config *dst, struct cloud_config *src, enum cc_key k)
{
	switch (k) {
	case CC_TIMEZONE:
		MOVE_FIELD(timezone);
		break;
	case CC_LOCALE:
		MOVE_FIELD(locale);
		break;
	case CC_KEYBOARD:
		MOVE_FIELD(keyboard);
		break;
	case CC_NTP:
		MOVE_FIELD(ntp);
		break;
	case CC_APT:
		MOVE_FIELD(apt);
		break;
	case CC_CA_CERTS:
		MOVE_FIELD(ca_certs);
		break;
	case CC_CA_CERTS_DASHED:
		MOVE_FIELD(ca_certs_dashed);
		break;
	case CC_RSYSLOG:
		MOVE_FIELD(rsyslog);
		break;
	case CC_PACKAGE_REBOOT_IF_REQUIRED:
		MOVE_FIELD(package_reboot_if_required);
		break;
	case CC_POWER_STATE:
		MOVE_FIELD(power_state);
		break;
	case CC_FINAL_MESSAGE:
		MOVE_FIELD(final_message);
		break;
	default:
		break;
	}
}
