/* SPDX-License-Identifier: MIT */
/*
 * cc-certs.c: the cloud-config key ca_certs, as cloud-init does it on Debian
 * (cloudinit/config/cc_ca_certs.py): remove_defaults first ('!' before every certificate
 * /etc/ca-certificates.conf selects, under one header line, and debconf told not to trust new
 * ones), then each trusted certificate in /usr/local/share/ca-certificates/ (one .crt file per
 * entry, 0644), then update-ca-certificates. The two commands act on this machine: under --root
 * they are recorded, not run. Only PEM certificates are accepted.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/util.h"

#define CA_LOCAL_DIR "/usr/local/share/ca-certificates"
#define CA_CONF "/etc/ca-certificates.conf"
#define CA_HEADER "# Modified by vagent to deselect certs due to user-data"
#define CA_MAX_CONF (4U << 20)

/* disable_system_ca_certs(): every selected entry of CA_CONF deselected. */
static int deselect_defaults(const struct cc_run *c)
{
	_cleanup_free_ char *old = NULL, *buf = NULL;
	size_t len = 0;
	bool header = false;
	FILE *f;
	int r;

	r = read_file(c->root, CA_CONF, CA_MAX_CONF, &old, NULL);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0; /* cloud-init: nothing to deselect */
	if (r < 0)
		return log_error_errno(r, "cloud-config ca_certs: cannot read %s: %m", CA_CONF);
	if (!*old)
		return 0;
	f = open_memstream(&buf, &len);
	if (!f)
		return log_error_errno(-ENOMEM, "Out of memory.");
	for (const char *p = old; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == strlen(CA_HEADER) && strncmp(p, CA_HEADER, n) == 0) {
			header = true;
			fprintf(f, "%.*s\n", (int)n, p);
		} else if (n == 0 || p[0] == '#' || p[0] == '!')
			fprintf(f, "%.*s\n", (int)n, p);
		else {
			if (!header)
				fprintf(f, "%s\n", CA_HEADER);
			header = true;
			fprintf(f, "!%.*s\n", (int)n, p);
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (fclose(f) != 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	return cc_write(c, "ca_certs", CA_CONF, buf, len, 0644);
}

static bool is_pem_certificate(const char *s)
{
	return strstr(s, "-----BEGIN CERTIFICATE-----") && strstr(s, "-----END CERTIFICATE-----");
}

int cc_ca_certs(const struct cc_run *c, const struct cloud_config *cc)
{
	static char *const update[] = { "update-ca-certificates", NULL };
	static char *const debconf[] = { "debconf-set-selections", NULL };
	static const char selection[] = "ca-certificates ca-certificates/trust_new_crts select no\n";
	/* cloud-init: cfg.get("ca_certs", cfg.get("ca-certs")) */
	const struct cc_ca_certs *ca = cc->has[CC_CA_CERTS] ? &cc->ca_certs : &cc->ca_certs_dashed;
	size_t bad = 0;
	int r, changed = 0;

	if (ca->remove_defaults) {
		r = deselect_defaults(c);
		if (r < 0)
			return r;
		changed |= r;
		if (c->dry_run || !root_is_host(c->root))
			r = cc_system_command(c, "ca_certs", debconf, NULL);
		else {
			/* debconf-set-selections reads the selection on stdin: a sealed memfd. */
			_cleanup_close_ int fd = memfd_create("vagent-debconf", MFD_CLOEXEC);

			if (fd < 0 || write(fd, selection, sizeof(selection) - 1) !=
					      (ssize_t)(sizeof(selection) - 1) ||
			    lseek(fd, 0, SEEK_SET) < 0)
				return log_error_errno(errno ? -errno : -EIO,
						       "cloud-config ca_certs: cannot prepare the "
						       "debconf selection: %m");
			r = cc_spawn_stdin(c, "debconf-set-selections", debconf, fd) < 0 ? -EPROTO :
											   1;
		}
		if (r < 0)
			return r;
	}
	for (size_t i = 0; ca->trusted && ca->trusted[i]; i++) {
		const char *pem = ca->trusted[i];
		char path[128];

		if (!is_pem_certificate(pem)) {
			log_warning("cloud-config ca_certs trusted[%zu]: not a PEM certificate "
				    "(-----BEGIN CERTIFICATE-----), ignoring.", i);
			bad++;
			continue;
		}
		snprintf(path, sizeof(path), CA_LOCAL_DIR "/vagent-ca-cert-%zu.crt", i + 1);
		r = cc_write(c, "ca_certs", path, pem, strlen(pem), 0644);
		if (r < 0)
			return r;
		changed |= r;
	}
	/* cloud-init runs it every time the module runs: it also drops deselected certificates. */
	r = cc_system_command(c, "ca_certs", update, NULL);
	if (r < 0)
		return r;
	if (bad)
		return -EINVAL;
	return changed || r == 1;
}
