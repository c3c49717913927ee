/* SPDX-License-Identifier: MIT */
/*
 * cc-ntp.c: the cloud-config key ntp, for systemd-timesyncd (Debian's client when cloud-init
 * picks one that is installed, cloudinit/config/cc_ntp.py): its servers and pools as one NTP=
 * line in a timesyncd.conf drop-in (cloud-init's timesyncd.conf template; without either, the
 * distribution's pools 0-3.debian.pool.ntp.org), then systemd-timesyncd restarted (started when it was stopped, as cloud-init does).
 * Other clients (chrony, ntp) are refused by the reader; peers and allow mean nothing to
 * timesyncd and are warned about there.
 */
#include <ctype.h>

#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/util.h"

#define TIMESYNCD_DROPIN "/etc/systemd/timesyncd.conf.d/vagent.conf"
#define NTP_POOLS 4

/* A host name or address for NTP=: no space, no control character, nothing odd. */
static bool ntp_host_ok(const char *s)
{
	if (!*s || strlen(s) > 253)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".-_:[]%", *s))
			return false;
	return true;
}

int cc_ntp(const struct cc_run *c, const struct cloud_config *cc)
{
	static const char *const timesyncd[] = { "/usr/lib/systemd/systemd-timesyncd",
						 "/lib/systemd/systemd-timesyncd", NULL };
	const struct cc_ntp *n = &cc->ntp;
	_cleanup_free_ char *text = NULL;
	size_t len = 0, hosts = 0;
	FILE *f;
	int r;

	if (!n->enabled) {
		log_info("cloud-config ntp: disabled (enabled: false).");
		cc_plan(c, "%-20s disabled (enabled: false): nothing to do", "ntp");
		return 0;
	}
	f = open_memstream(&text, &len);
	if (!f)
		return log_error_errno(-ENOMEM, "Out of memory.");
	fputs("# Written by vagent from the cloud-config key ntp.\n"
	      "# See timesyncd.conf(5) for details.\n"
	      "\n"
	      "[Time]\n",
	      f);
	for (int list = 0; list < 2; list++) {
		char *const *l = list ? n->pools : n->servers;

		for (size_t i = 0; l && l[i]; i++) {
			if (!ntp_host_ok(l[i])) {
				fclose(f);
				return log_error_errno(-EINVAL, "cloud-config ntp: %s[%zu] is not a "
						       "host name or address, not applied.",
						       list ? "pools" : "servers", i);
			}
			fprintf(f, "%s%s", hosts++ ? " " : "NTP=", l[i]);
		}
	}
	/* cc_ntp.generate_server_names(): the distribution's pools when nothing is given. */
	for (int i = 0; hosts == 0 && i < NTP_POOLS; i++)
		fprintf(f, "%s%d.debian.pool.ntp.org", i ? " " : "NTP=", i);
	fputc('\n', f);
	if (fclose(f) != 0)
		return log_error_errno(-ENOMEM, "Out of memory.");

	r = cc_write(c, "ntp", TIMESYNCD_DROPIN, text, len, 0644);
	if (r <= 0)
		return r;
	if (!cc_root_has(c, timesyncd)) {
		log_notice("cloud-config ntp: systemd-timesyncd is not installed; the drop-in is "
			   "written for when it is.");
		cc_plan(c, "%-20s systemd-timesyncd is not installed: nothing restarted", "ntp");
		return 1;
	}
	/* timesyncd reads its configuration only when it starts (it has no reload): cloud-init's
	 * manage_service("reload") is systemctl reload-or-restart, which also starts a stopped
	 * one, so the servers asked for are in use once the pass is done. */
	r = cc_service(c, "ntp", "reload-or-restart", "systemd-timesyncd.service");
	return r < 0 ? r : 1;
}
