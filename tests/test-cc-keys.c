/* SPDX-License-Identifier: MIT */
/* Unit tests for cc-keys.c: the shapes of the system keys as cloud-init's schema has them
 * (timezone, locale, keyboard, ntp, apt, ca_certs, rsyslog, package_reboot_if_required,
 * power_state, final_message, write_files source:), their defaults, the refusals that keep a
 * key out (with the key, line and column, never the value), the sub-keys warned about, and
 * merging of parts (a later part's key replaces the earlier one's; ASan checks nothing leaks
 * or is freed twice). */
#include "cloudconfig/cc-apply.h"
#include "cloudconfig/cloudconfig.h"
#include "tap.h"
#include "base/util.h"

static struct cloud_config *parse(const char *text)
{
	struct cloud_config *cc = NULL;
	struct cc_error e;

	if (cloud_config_parse(text, strlen(text), &cc, &e) < 0) {
		fprintf(stderr, "parse failed: %s\n", e.problem);
		exit(1);
	}
	return cc;
}

static bool has_problem(const struct cloud_config *cc, const char *s)
{
	for (size_t i = 0; i < cc->n_problems; i++)
		if (strstr(cc->problems[i], s))
			return true;
	return false;
}

static void test_shapes(void)
{
	_cleanup_(cloud_config_freep) struct cloud_config *cc = parse(
		"#cloud-config\n"
		"timezone: America/New_York\n"
		"locale: en_GB.UTF-8\n"
		"keyboard: {layout: gb, model: pc104, variant: extd, options: 'ctrl:nocaps'}\n"
		"ntp: {enabled: true, ntp_client: auto, servers: [a.example], pools: [p1, p2],"
		" allow: [10.0.0.0/8]}\n"
		"apt:\n"
		"  proxy: http://p:3128\n"
		"  ftp_proxy: ftp://p:21\n"
		"  conf: 'Acquire::Retries \"3\";'\n"
		"  preserve_sources_list: no\n"
		"  primary: [{arches: [amd64, default], uri: 'http://m/debian', search: [x]}]\n"
		"  security: [{arches: [default], uri: 'http://s/debian-security'}]\n"
		"  debconf_selections: {a: b}\n"
		"  sources:\n"
		"    one: {source: 'deb $MIRROR $RELEASE main', keyserver: k, keyid: ABC}\n"
		"    two: {key: K, filename: two.list, append: false}\n"
		"ca_certs: {remove-defaults: yes, trusted: [A, B]}\n"
		"rsyslog:\n"
		"  config_dir: /etc/rsyslog.d\n"
		"  configs: ['*.* @h', {content: c, filename: f.conf}]\n"
		"  remotes: {r1: '@@h:514', r2: null}\n"
		"  service_reload_command: [systemctl, restart, rsyslog]\n"
		"package_reboot_if_required: true\n"
		"power_state: {mode: halt, delay: '+7', message: m, timeout: 2.5,"
		" condition: 'test -e /x'}\n"
		"final_message: bye\n");

	ok(cc->has[CC_TIMEZONE] && streq(cc->timezone, "America/New_York"), "timezone");
	ok(cc->has[CC_LOCALE] && streq(cc->locale, "en_GB.UTF-8"), "locale");
	ok(streq(cc->keyboard.layout, "gb") && streq(cc->keyboard.model, "pc104") &&
		   streq(cc->keyboard.variant, "extd") && streq(cc->keyboard.options, "ctrl:nocaps"),
	   "keyboard: layout, model, variant, options");
	ok(cc->ntp.enabled && strv_length(cc->ntp.servers) == 1 && strv_length(cc->ntp.pools) == 2,
	   "ntp: servers and pools");
	ok(cc->has[CC_NTP] && cc->partial[CC_NTP] && has_problem(cc, "sub-key 'allow'"),
	   "ntp: allow means nothing to timesyncd: warned, partial");
	ok(streq(cc->apt.proxy[CC_APT_PROXY], "http://p:3128") &&
		   streq(cc->apt.proxy[CC_APT_FTP_PROXY], "ftp://p:21") &&
		   !cc->apt.proxy[CC_APT_HTTPS_PROXY],
	   "apt: proxies");
	ok(cc->apt.has_primary && cc->apt.n_primary == 1 &&
		   strv_length(cc->apt.primary[0].arches) == 2 &&
		   streq(cc->apt.primary[0].uri, "http://m/debian") && cc->apt.has_security,
	   "apt: primary and security mirrors");
	ok(cc->apt.n_sources == 2 && streq(cc->apt.sources[0].name, "one") &&
		   cc->apt.sources[0].keyid && cc->apt.sources[0].append &&
		   streq(cc->apt.sources[1].key, "K") && !cc->apt.sources[1].append &&
		   streq(cc->apt.sources[1].filename, "two.list"),
	   "apt: sources with their defaults (append: true)");
	ok(cc->partial[CC_APT] && has_problem(cc, "sub-key 'search'") &&
		   has_problem(cc, "sub-key 'debconf_selections'") && has_problem(cc, "sub-key 'keyid'"),
	   "apt: search, debconf_selections, keyid warned about");
	ok(cc->ca_certs.remove_defaults && strv_length(cc->ca_certs.trusted) == 2,
	   "ca_certs: remove-defaults (the old spelling), trusted");
	ok(cc->rsyslog.n_configs == 2 && streq(cc->rsyslog.configs[0].content, "*.* @h") &&
		   !cc->rsyslog.configs[0].filename && streq(cc->rsyslog.configs[1].filename, "f.conf"),
	   "rsyslog: configs as strings and mappings");
	ok(cc->rsyslog.n_remotes == 1 && streq(cc->rsyslog.remote_names[0], "r1"),
	   "rsyslog: remotes, a null one skipped as cloud-init does");
	ok(cc->rsyslog.reload_custom && strv_length(cc->rsyslog.reload.argv) == 3,
	   "rsyslog: service_reload_command as a list");
	ok(cc->has[CC_PACKAGE_REBOOT_IF_REQUIRED] && cc->package_reboot_if_required,
	   "package_reboot_if_required");
	ok(cc->power_state.mode == CC_POWER_HALT && streq(cc->power_state.delay, "+7") &&
		   streq(cc->power_state.message, "m") && cc->power_state.timeout_usec == 2500000 &&
		   cc->power_state.condition == CC_POWER_COND_COMMAND &&
		   streq(cc->power_state.command.shell, "test -e /x"),
	   "power_state: mode, delay, message, timeout, a shell condition");
	ok(streq(cc->final_message, "bye"), "final_message");
	ok(cloud_config_n_keys(cc) == 10 && !cc->unknown, "10 system keys, none unknown (%zu)",
	   cloud_config_n_keys(cc));
}

static void test_defaults(void)
{
	_cleanup_(cloud_config_freep) struct cloud_config *cc = parse(
		"#cloud-config\nntp:\napt:\nlocale: false\n"
		"rsyslog: {install_rsyslog: false, remotes: {r: 'h'}}\n"
		"power_state: {mode: poweroff}\n"
		"write_files:\n"
		"  - {path: /a, source: {uri: 'https://h/x', headers: {Authorization: 'Bearer t'}}}\n"
		"  - {path: /b, source: null, content: c}\n");

	ok(cc->has[CC_NTP] && cc->ntp.enabled && !cc->ntp.servers, "ntp: null is the defaults");
	ok(cc->has[CC_APT] && !cc->apt.has_primary && !cc->apt.n_sources, "apt: null is nothing");
	ok(cc->has[CC_LOCALE] && !cc->locale, "locale: false turns it off");
	ok(cc->has[CC_RSYSLOG] && !cc->partial[CC_RSYSLOG] && cc->rsyslog.n_remotes == 1,
	   "rsyslog: install_rsyslog: false (cloud-init's default) is no warning");
	ok(streq(cc->power_state.delay, "now") && cc->power_state.timeout_usec == 30000000 &&
		   cc->power_state.condition == CC_POWER_COND_TRUE && !cc->power_state.message,
	   "power_state: now, 30 s, condition true");
	ok(cc->n_files == 2 && streq(cc->files[0].source_uri, "https://h/x") &&
		   strv_length(cc->files[0].source_headers) == 1 &&
		   streq(cc->files[0].source_headers[0], "Authorization: Bearer t") &&
		   !cc->files[1].source_uri,
	   "write_files source: uri and headers");
}

static void test_refusals(void)
{
	_cleanup_(cloud_config_freep) struct cloud_config *cc = parse(
		"#cloud-config\n"
		"timezone: [UTC]\n"
		"keyboard: {model: pc105}\n"
		"ntp: {ntp_client: chrony}\n"
		"apt: {primary: {uri: x}}\n"
		"ca_certs: [x]\n"
		"rsyslog: {configs: [{filename: x}]}\n"
		"power_state: {mode: reboot, delay: soon}\n"
		"final_message: {a: b}\n"
		"write_files: [{path: /x, source: {uri: u, headers: {'Bad Name': v}}}]\n");

	for (enum cc_key k = CC_TIMEZONE; k <= CC_FINAL_MESSAGE; k++)
		if (k != CC_LOCALE && k != CC_PACKAGE_REBOOT_IF_REQUIRED)
			ok(cc->invalid[k] && !cc->has[k], "%s: a wrong shape keeps it out",
			   cc_key_to_string(k));
	ok(cc->partial[CC_WRITE_FILES] && cc->n_files == 0,
	   "write_files: a header name with a space skips that entry (cloud-init skips it)");
	ok(has_problem(cc, "'keyboard' at line 3, column 11: a layout is required") &&
		   has_problem(cc, "'power_state' at line 8, column 36: delay must be 'now'") &&
		   has_problem(cc, "ntp_client must be auto or systemd-timesyncd"),
	   "problems name the key, line and column");
	ok(!has_problem(cc, "soon") && !has_problem(cc, "chrony") && !has_problem(cc, "Bad Name"),
	   "problems never quote the value");
}

/* Two parts of a MIME archive, merged as trees with cloud-init's default mergers. */
static void test_merge(void)
{
	static const char mime[] =
		"Content-Type: multipart/mixed; boundary=XX\n\n"
		"--XX\nContent-Type: text/cloud-config\n\n"
		"#cloud-config\ntimezone: UTC\napt: {sources: {x: {source: 'deb a b c'}}}\n"
		"rsyslog: {remotes: {r: h}}\npower_state: {mode: reboot, message: one}\n"
		"--XX\nContent-Type: text/cloud-config\n\n"
		"#cloud-config\napt: {proxy: http://q}\npower_state: {mode: poweroff}\n"
		"keyboard: {layout: fr}\n"
		"--XX--\n";
	struct config cfg;
	struct cc_doc d;
	const struct cloud_config *a;

	config_init(&cfg);
	ok(cc_doc_decode(&cfg, mime, sizeof(mime) - 1, &d) == 0 && cc_doc_has_config(&d), "merge");
	a = d.cc;
	if (a) {
		ok(streq(a->timezone, "UTC") && a->rsyslog.n_remotes == 1,
		   "merge: keys only in the first part stay");
		ok(a->apt.n_sources == 0 && streq(a->apt.proxy[CC_APT_PROXY], "http://q"),
		   "merge: a later apt replaces the whole key (cloud-init's default merge)");
		ok(a->power_state.mode == CC_POWER_POWEROFF && !a->power_state.message,
		   "merge: power_state replaced");
		ok(streq(a->keyboard.layout, "fr"), "merge: a key only in the second part");
	}
	cc_doc_done(&d);
	config_done(&cfg);
}

int main(void)
{
	test_shapes();
	test_defaults();
	test_refusals();
	test_merge();
	return tap_done();
}
