/* SPDX-License-Identifier: MIT */
/*
 * network.c: the network step (network.h): the NIC list from sysfs, the plan (which file each
 * interface of the metadata gets, rendered as text, no I/O), applying it to /run/systemd/network
 * and `networkctl reload`. The addresses and MACs it writes were validated by json.c; this
 * file only decides and renders.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/process.h"
#include "base/util.h"
#include "steps/network.h"

#define NETWORK_FILE_MAX (64U * 1024U)

/* ---- NICs ---------------------------------------------------------------------------------- */

void nic_list_free(struct nic *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		free(l[i].name);
	free(l);
}

/* The first line of ENTRY/NAME (a sysfs attribute), NUL-terminated, without the newline. */
static int read_attr(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_free_ char *s = NULL;
	size_t n;
	int r;

	r = read_file_at(dirfd, name, 4096, &s, &n);
	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = '\0';
	if (strlen(s) >= size)
		return -EINVAL;
	strcpy(buf, s);
	return 0;
}

static bool mac_is_valid(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int nic_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nic *)a)->name, ((const struct nic *)b)->name);
}

int nic_list(const char *root, struct nic **ret, size_t *ret_n)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	struct nic *l = NULL;
	size_t n = 0;
	DIR *d;
	int fd;

	*ret = NULL;
	*ret_n = 0;
	fd = path_open_dir(root, "/sys/class/net", false, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return log_error_errno(fd, "Failed to open '%s/sys/class/net': %m", root ? root : "");
	d = fdopendir(fd);
	if (!d) {
		int r = negative_errno();
		close(fd);
		return r;
	}

	for (struct dirent *de; (de = readdir(d));) {
		_cleanup_close_ int efd = -1;
		char mac[18], type[16];
		struct nic *t;

		if (de->d_name[0] == '.' || streq(de->d_name, "lo"))
			continue;
		/* sysfs entries are symlinks into /sys/devices: followed, for reading only */
		efd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (efd < 0)
			continue;
		if (read_attr(efd, "type", type, sizeof(type)) == 0 && !streq(type, "1"))
			continue; /* not Ethernet (ARPHRD_ETHER) */
		if (read_attr(efd, "address", mac, sizeof(mac)) < 0 || !mac_is_valid(mac))
			continue;
		for (char *p = mac; *p; p++)
			*p = (char)tolower((unsigned char)*p);

		t = reallocarray(l, n + 1, sizeof(*l));
		if (!t)
			goto oom;
		l = t;
		l[n].name = strdup(de->d_name);
		if (!l[n].name)
			goto oom;
		memcpy(l[n].mac, mac, sizeof(mac));
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(l, n, sizeof(*l), nic_cmp);
	*ret = l;
	*ret_n = n;
	return 0;

oom:
	closedir(d);
	nic_list_free(l, n);
	return -ENOMEM;
}

/* ---- the plan ----------------------------------------------------------------------------- */

void network_plan_done(struct network_plan *p)
{
	for (size_t i = 0; i < p->n_entries; i++) {
		free(p->entries[i].name);
		free(p->entries[i].text);
		free(p->entries[i].error_owned);
	}
	free(p->entries);
	*p = (struct network_plan){};
}

static bool mac_eq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

static const struct nic *nic_by_mac(const struct nic *nics, size_t n, const char *mac)
{
	for (size_t i = 0; mac && i < n; i++)
		if (mac_eq(nics[i].mac, mac))
			return &nics[i];
	return NULL;
}

/* "10-vagent-560005aabbcc.network": stable for a NIC, so an admin can replace it by name. */
static char *file_name(const char *mac)
{
	char hex[13];
	size_t j = 0;
	char *s;

	for (const char *p = mac; *p && j < 12; p++)
		if (*p != ':')
			hex[j++] = (char)tolower((unsigned char)*p);
	hex[j] = '\0';
	if (asprintf(&s, NETWORK_FILE_PREFIX "%s.network", hex) < 0)
		return NULL;
	return s;
}

static void put_addresses(FILE *f, const struct md_address *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "Address=%s/%" PRId64 "\n", a[i].address, a[i].prefix);
}

/*
 * The .network file for interface I. REQUIRED: whether systemd-networkd-wait-online waits for
 * it (a private NIC only when no public one is configured).
 */
static char *render(const struct md_interface *i, size_t index, bool required)
{
	bool public = i->type == MD_NETWORK_PUBLIC;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	if (!f)
		return NULL;

	fprintf(f,
		"# Written by vagent from the instance metadata (interfaces[%zu], %s) at boot;\n"
		"# rebuilt every boot. To change it, put a file of the same name in\n"
		"# " NETWORK_ETC_DIR "/: it replaces this one, and vagent leaves the NIC alone.\n",
		index, md_network_type_to_string(i->type));
	fprintf(f, "\n[Match]\nMACAddress=%s\n", i->mac);
	/* not a VLAN, bond or bridge that carries the same MAC */
	fputs("Type=ether\n", f);

	if (i->mtu > 0 || !required) {
		fputs("\n[Link]\n", f);
		if (i->mtu > 0)
			fprintf(f, "MTUBytes=%" PRId64 "\n", i->mtu);
		if (!required)
			fputs("RequiredForOnline=no\n", f);
	}

	fputs("\n[Network]\n", f);
	if (public) {
		fputs("DHCP=ipv4\nIPv6AcceptRA=yes\n", f);
	} else {
		/* no DHCP server and no router advertisements on a VPC */
		fputs("DHCP=no\nIPv6AcceptRA=no\n", f);
		fprintf(f, "Address=%s/%" PRId64 "\n", i->ipv4_address, i->ipv4_prefix);
		if (i->ipv6_address && i->ipv6_prefix > 0)
			fprintf(f, "Address=%s/%" PRId64 "\n", i->ipv6_address, i->ipv6_prefix);
	}
	put_addresses(f, i->ipv4_additional, i->n_ipv4_additional);
	put_addresses(f, i->ipv6_additional, i->n_ipv6_additional);

	for (size_t r = 0; r < i->n_ipv4_routes; r++) {
		const struct md_route *rt = &i->ipv4_routes[r];
		/* a route without its own gateway goes through the NIC's, else it is on-link */
		const char *gw = rt->gateway ? rt->gateway : public ? i->ipv4_gateway : NULL;

		fprintf(f, "\n[Route]\nDestination=%s/%" PRId64 "\n", rt->network, rt->prefix);
		if (gw)
			fprintf(f, "Gateway=%s\n", gw);
		else
			fputs("Scope=link\n", f);
	}

	if (fclose(f) != 0 || !text) {
		free(text);
		return NULL;
	}
	return text;
}

/* The index of the first valid, configured interface before K with MAC, else K. */
static size_t first_with_mac(const struct metadata *md, size_t k, const char *mac)
{
	for (size_t j = 0; j < k; j++)
		if (!md->interfaces[j].error && !md->interfaces[j].unconfigured &&
		    mac_eq(md->interfaces[j].mac, mac))
			return j;
	return k;
}

int network_plan_build(const struct metadata *md, const struct nic *nics, size_t n_nics,
		       bool every_mac, struct network_plan *ret)
{
	struct network_plan p = {};
	bool any_public = false;

	*ret = (struct network_plan){};
	if (md->n_interfaces == 0)
		return 0;
	p.entries = calloc(md->n_interfaces, sizeof(*p.entries));
	if (!p.entries)
		return -ENOMEM;
	p.n_entries = md->n_interfaces;

	for (size_t k = 0; k < md->n_interfaces; k++) {
		const struct md_interface *i = &md->interfaces[k];
		struct network_entry *e = &p.entries[k];
		const struct nic *nic;
		size_t dup;

		e->index = k;
		e->mac = i->mac;
		if (i->error) {
			e->fate = NETWORK_MALFORMED;
			e->error = i->error;
		} else if (i->unconfigured)
			e->fate = NETWORK_UNCONFIGURED;
		else if (!(nic = nic_by_mac(nics, n_nics, i->mac)) && !every_mac)
			e->fate = NETWORK_NO_NIC;
		else if ((dup = first_with_mac(md, k, i->mac)) < k) {
			/* one file per MAC: the second description of a NIC is refused */
			e->fate = NETWORK_MALFORMED;
			if (asprintf(&e->error_owned,
				     "field 'interfaces[%zu].mac': the same as interfaces[%zu].mac",
				     k, dup) < 0) {
				e->error_owned = NULL;
				network_plan_done(&p);
				return -ENOMEM;
			}
			e->error = e->error_owned;
		} else {
			e->fate = NETWORK_WRITE;
			e->nic = nic ? nic->name : NULL;
			if (i->type == MD_NETWORK_PUBLIC)
				any_public = true;
		}
	}

	for (size_t k = 0; k < p.n_entries; k++) {
		struct network_entry *e = &p.entries[k];
		const struct md_interface *i = &md->interfaces[k];

		if (e->fate != NETWORK_WRITE)
			continue;
		e->name = file_name(i->mac);
		e->text = render(i, k, i->type == MD_NETWORK_PUBLIC || !any_public);
		if (!e->name || !e->text) {
			network_plan_done(&p);
			return -ENOMEM;
		}
	}
	*ret = p;
	return 0;
}

/* ---- applying it -------------------------------------------------------------------------- */

void network_applied_done(struct network_applied *a)
{
	strv_free(a->overridden_names);
	*a = (struct network_applied){};
}

/* The NIC's name, or its MAC when the plan did not look for the NIC (every_mac). */
static const char *entry_nic(const struct network_entry *e)
{
	return e->nic ? e->nic : e->mac;
}

static bool is_own_name(const char *name)
{
	size_t n = strlen(name);

	return startswith(name, NETWORK_FILE_PREFIX) && n > 8 && streq(name + n - 8, ".network");
}

static bool in_plan(const struct network_plan *plan, const char *name, bool *ret_overridden,
		    const bool *overridden)
{
	for (size_t k = 0; k < plan->n_entries; k++)
		if (plan->entries[k].name && streq(plan->entries[k].name, name)) {
			*ret_overridden = overridden[k];
			return true;
		}
	return false;
}

int network_apply(const char *root, const struct network_plan *plan, bool dry_run,
		  FILE *plan_out, struct network_applied *ret)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ bool *overridden = NULL;
	_cleanup_close_ int etcfd = -1, runfd = -1;
	struct network_applied a = {};
	int r = 0;

	*ret = (struct network_applied){};
	overridden = calloc(plan->n_entries ? plan->n_entries : 1, sizeof(bool));
	if (!overridden)
		return -ENOMEM;

	etcfd = path_open_dir(root, NETWORK_ETC_DIR, false, 0);
	if (etcfd < 0 && etcfd != -ENOENT)
		return log_error_errno(etcfd, "Failed to open '%s': %m", NETWORK_ETC_DIR);
	runfd = path_open_dir(root, NETWORK_RUN_DIR, !dry_run, 0755);
	if (runfd < 0 && !(dry_run && runfd == -ENOENT))
		return log_error_errno(runfd, "Failed to open '%s': %m", NETWORK_RUN_DIR);

	for (size_t k = 0; k < plan->n_entries; k++) {
		const struct network_entry *e = &plan->entries[k];
		_cleanup_free_ char *old = NULL;
		struct stat st;
		size_t old_len = 0;
		const char *what;

		if (e->fate != NETWORK_WRITE)
			continue;

		/* systemd reads /etc first: a file of the same name there replaces ours. */
		if (etcfd >= 0 && fstatat(etcfd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			overridden[k] = true;
			a.overridden++;
			r = strv_push(&a.overridden_names, strdup(entry_nic(e)));
			if (r < 0)
				goto fail;
			if (plan_out)
				fprintf(plan_out, "# %s/%s: not written, %s/%s replaces it\n",
					NETWORK_RUN_DIR, e->name, NETWORK_ETC_DIR, e->name);
			continue;
		}

		if (runfd >= 0) {
			r = read_file_at(runfd, e->name, NETWORK_FILE_MAX, &old, &old_len);
			if (r < 0 && r != -ENOENT) {
				log_warning_errno(r, "Failed to read '%s/%s': %m, rewriting it.",
						  NETWORK_RUN_DIR, e->name);
				free(old);
				old = NULL;
			}
		}
		if (old && streq(old, e->text)) {
			a.unchanged++;
			what = "unchanged";
		} else {
			what = dry_run ? "would be written" : "written";
			if (!dry_run) {
				r = write_file_atomic_at(runfd, e->name, e->text, strlen(e->text),
							 0644, (uid_t)-1, (gid_t)-1);
				if (r < 0) {
					log_error_errno(r, "Failed to write '%s/%s': %m",
							NETWORK_RUN_DIR, e->name);
					goto fail;
				}
			}
			a.written++;
		}
		if (plan_out)
			fprintf(plan_out, "# %s/%s (%s, %s)\n%s\n", NETWORK_RUN_DIR, e->name,
				entry_nic(e), what, e->text);
	}

	/* vagent's files that this plan does not have (or that /etc now replaces) go. */
	if (runfd >= 0) {
		_cleanup_close_ int dfd = fcntl(runfd, F_DUPFD_CLOEXEC, 3);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;

		if (!d) {
			r = log_error_errno(negative_errno(), "Failed to list '%s': %m",
					    NETWORK_RUN_DIR);
			goto fail;
		}
		dfd = -1; /* owned by D now */
		for (struct dirent *de; (de = readdir(d));) {
			bool ov = false;

			if (!is_own_name(de->d_name))
				continue;
			if (in_plan(plan, de->d_name, &ov, overridden) && !ov)
				continue;
			if (plan_out)
				fprintf(plan_out, "# %s/%s: %s\n", NETWORK_RUN_DIR, de->d_name,
					dry_run ? "would be removed" : "removed");
			if (!dry_run && unlinkat(runfd, de->d_name, 0) < 0 && errno != ENOENT) {
				r = log_error_errno(negative_errno(), "Failed to remove '%s/%s': %m",
						    NETWORK_RUN_DIR, de->d_name);
				closedir(d);
				goto fail;
			}
			a.removed++;
		}
		closedir(d);
	}

	*ret = a;
	return 0;

fail:
	network_applied_done(&a);
	return r;
}

/* ---- the step ----------------------------------------------------------------------------- */

static bool exists(const char *root, const char *dir, const char *name)
{
	_cleanup_close_ int fd = path_open_dir(root, dir, false, 0);
	struct stat st;

	return fd >= 0 && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool unit_enabled(const char *root, const char *wants, const char *unit)
{
	_cleanup_free_ char *dir = NULL;

	if (asprintf(&dir, "/etc/systemd/system/%s", wants) < 0)
		return false;
	return exists(root, dir, unit);
}

static bool networkd_enabled(const char *root)
{
	return unit_enabled(root, "multi-user.target.wants", "systemd-networkd.service") ||
	       unit_enabled(root, "sockets.target.wants", "systemd-networkd.socket") ||
	       /* running right now (its state directory is there) */
	       exists(root, "/run/systemd", "netif");
}

/* Which network manager this system uses instead, for the status line (NULL: none found). */
static const char *other_manager(const char *root)
{
	if (unit_enabled(root, "multi-user.target.wants", "NetworkManager.service"))
		return "NetworkManager";
	if (exists(root, "/etc", "netplan"))
		return "netplan";
	if (unit_enabled(root, "multi-user.target.wants", "networking.service") ||
	    exists(root, "/etc/network", "interfaces"))
		return "ifupdown";
	return NULL;
}

static int run_tool(char *const argv[])
{
	struct spawn_options o = { .timeout_usec = 30ULL * 1000000ULL, .log_fd = -1 };
	int r, status;

	r = spawn_run(argv, &o, &status);
	if (r < 0)
		return r;
	return status == 0 ? 0 : -EPROTO;
}

/*
 * Make the running systemd-networkd read the files: `networkctl reload`, which talks to it
 * over D-Bus. A minimal image may have no system bus; then (or when the reload fails)
 * `systemctl restart --no-block systemd-networkd.service`, which needs none. Not waited for:
 * a restart takes seconds (3 s measured under TCG) and ssh.service waits for vagent, while
 * nothing that needs the network can miss it: systemd-networkd-wait-online is restarted with
 * networkd and network-online.target waits for both it and vagent. *RET_HOW says which.
 */
static int networkd_reload(const char **ret_how)
{
	char *reload[] = { (char *)"networkctl", (char *)"reload", NULL };
	char *restart[] = { (char *)"systemctl", (char *)"restart", (char *)"--no-block",
			    (char *)"systemd-networkd.service", NULL };
	int r;

	if (access("/run/dbus/system_bus_socket", F_OK) == 0) {
		r = run_tool(reload);
		if (r >= 0) {
			*ret_how = "networkd reloaded";
			return 0;
		}
		log_notice_errno(r, "`networkctl reload` failed (%m), restarting systemd-networkd "
				 "instead.");
	}
	r = run_tool(restart);
	*ret_how = "networkd restart queued (no D-Bus for networkctl reload)";
	return r;
}

/* One phrase per interface, joined by ", ", into F. */
static void describe(FILE *f, const struct metadata *md, const struct network_plan *p,
		     bool written)
{
	for (size_t k = 0; k < p->n_entries; k++) {
		const struct network_entry *e = &p->entries[k];

		if (k)
			fputs(", ", f);
		switch (e->fate) {
		case NETWORK_WRITE:
			fprintf(f, "%s %s", entry_nic(e),
				md_network_type_to_string(md->interfaces[k].type));
			if (!written)
				fputs(" left unconfigured", f);
			break;
		case NETWORK_UNCONFIGURED:
			fprintf(f, "interfaces[%zu] unconfigured", k);
			break;
		case NETWORK_NO_NIC:
			fprintf(f, "interfaces[%zu] (%s) matches no NIC", k, e->mac);
			break;
		case NETWORK_MALFORMED:
			fprintf(f, "interfaces[%zu] malformed (%s)", k, e->error);
			break;
		}
	}
}

/* The network step; EARLY: network-early, before systemd-networkd (every_mac: the NICs may
 * not be probed yet, and the files must be what the boot stage will render with them). */
static int network_step(struct step_context *ctx, struct step_outcome *out, bool early)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_(network_plan_done) struct network_plan plan = {};
	_cleanup_(network_applied_done) struct network_applied a = {};
	_cleanup_free_ char *text = NULL;
	const struct metadata *md = ctx->md;
	struct nic *nics = NULL;
	size_t n_nics = 0, len = 0, malformed = 0;
	bool changed, reloaded = false;
	const char *reload_note = "", *other;
	FILE *f;
	int r;

	if (ctx->cfg->network_manage == NETWORK_MANAGE_NO)
		return step_set(out, STEP_SKIPPED, "disabled by [network] manage = no");
	if (!md)
		return step_set(out, STEP_SKIPPED, "no metadata: left as it is");
	if (md->n_interfaces == 0)
		return step_set(out, STEP_SKIPPED, "the metadata lists no interfaces");

	r = nic_list(ctx->root, &nics, &n_nics);
	if (r < 0)
		return step_fail(out, r, "cannot list the NICs: %m");
	r = network_plan_build(md, nics, n_nics, early, &plan);
	if (r < 0) {
		nic_list_free(nics, n_nics);
		return step_fail(out, r, "%m");
	}

	if (ctx->cfg->network_manage == NETWORK_MANAGE_AUTO && !networkd_enabled(ctx->root)) {
		f = open_memstream(&text, &len);
		if (!f) {
			nic_list_free(nics, n_nics);
			return step_fail(out, -ENOMEM, "%m");
		}
		describe(f, md, &plan, false);
		fclose(f);
		nic_list_free(nics, n_nics);
		other = other_manager(ctx->root);
		return step_set(out, STEP_SKIPPED, "systemd-networkd is not enabled (%s%s): %s",
				other ? other : "nor NetworkManager, netplan or ifupdown",
				other ? " is in use" : "", text ? text : "");
	}

	for (size_t k = 0; k < plan.n_entries; k++) {
		if (plan.entries[k].fate == NETWORK_NO_NIC)
			log_warning("Interface %zu of the metadata (MAC %s) matches no NIC, ignoring.",
				    k, plan.entries[k].mac);
		if (plan.entries[k].fate == NETWORK_MALFORMED)
			malformed++;
	}

	r = network_apply(ctx->root, &plan, ctx->dry_run, ctx->dry_run ? ctx->plan : NULL, &a);
	if (r < 0) {
		nic_list_free(nics, n_nics);
		return step_fail(out, r, "cannot write " NETWORK_RUN_DIR ": %m");
	}
	changed = a.written + a.removed > 0;

	if (changed && !ctx->dry_run) {
		if (!root_is_host(ctx->root))
			reload_note = "; networkd not reloaded (--root)";
		else if (!exists(NULL, "/run/systemd", "netif"))
			reload_note = "; networkd not running, it reads them when it starts";
		else {
			r = networkd_reload(&reload_note);
			if (r < 0) {
				nic_list_free(nics, n_nics);
				return step_fail(out, r, "files written but systemd-networkd could not "
					       "be reloaded: %m");
			}
			reloaded = true;
		}
	}

	f = open_memstream(&text, &len);
	if (!f) {
		nic_list_free(nics, n_nics);
		return step_fail(out, -ENOMEM, "%m");
	}
	describe(f, md, &plan, true);
	fprintf(f, "; %zu file(s) %s, %zu unchanged", a.written,
		ctx->dry_run ? "to write" : "written", a.unchanged);
	if (a.removed)
		fprintf(f, ", %zu %s", a.removed, ctx->dry_run ? "to remove" : "removed");
	if (a.overridden) {
		fprintf(f, ", %zu replaced by " NETWORK_ETC_DIR " (", a.overridden);
		for (char **n = a.overridden_names; n && *n; n++)
			fprintf(f, "%s%s", n == a.overridden_names ? "" : " ", *n);
		fputc(')', f);
	}
	fprintf(f, "%s%s", reloaded ? "; " : "", reload_note);
	fclose(f);
	nic_list_free(nics, n_nics);
	if (!text)
		return step_fail(out, -ENOMEM, "%m");

	if (malformed > 0)
		return step_fail(out, -EBADMSG, "%s", text);
	return step_set(out, changed ? STEP_CHANGED : STEP_UNCHANGED, "%s", text);
}

int step_network(struct step_context *ctx, struct step_outcome *out)
{
	return network_step(ctx, out, false);
}

int step_network_early(struct step_context *ctx, struct step_outcome *out)
{
	return network_step(ctx, out, true);
}
