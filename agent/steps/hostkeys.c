/* SPDX-License-Identifier: MIT */
/*
 * hostkeys.c: the host-keys step. A clone of an image must not share the image's host key, and
 * an image whose builder removed the keys must still get an SSH server: so on the first boot
 * of a new instance (a new instance-v2-id from the service: never in degraded mode, never from
 * the cache alone) the keys are made anew, unless [ssh] host-keys = keep or the cloud-config
 * says ssh_deletekeys: false; and at every boot a missing type is made. ssh_genkeytypes
 * chooses the types, as in cloud-init; ssh_keys gives a new instance the user's own keys. It runs in vagent.service, which is ordered before
 * ssh.service. The fingerprints (public) go to the console between cloud-init's marker
 * lines, to the journal and to the report; a private key never goes anywhere.
 */
#include "base/console.h"
#include "base/hostkeys.h"
#include "base/log.h"
#include "base/state.h"
#include "base/units.h"
#include "base/util.h"
#include "cloudconfig/cc-apply.h"
#include "steps/hostkeys.h"
#include "steps/userdata.h"

#define FP_BEGIN "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
#define FP_END "-----END SSH HOST KEY FINGERPRINTS-----"
#define KEYS_BEGIN "-----BEGIN SSH HOST KEY KEYS-----"
#define KEYS_END "-----END SSH HOST KEY KEYS-----"
#define RULE "#############################################################"

static bool sshd_installed(const char *root)
{
	_cleanup_free_ char *p = path_join_root(root, HOSTKEYS_SSHD);

	return p && access(p, F_OK) >= 0;
}

/* The types ssh_genkeytypes asks for (all three without it); others are warned about. */
static unsigned wanted_types(const struct cc_doc *d)
{
	unsigned types = 0;

	if (!cc_doc_has_config(d) || !d->cc->has[CC_SSH_GENKEYTYPES])
		return HOSTKEY_ALL;
	for (char **t = d->cc->ssh_genkeytypes; t && *t; t++) {
		int k = hostkey_type_from_string(*t);
		char buf[64];

		if (k >= 0)
			types |= 1U << k;
		else
			log_warning("cloud-config ssh_genkeytypes: '%s' is not a type vagent "
				    "generates (rsa, ecdsa, ed25519), ignoring.",
				    (escape_controls(*t, buf, sizeof(buf)), buf));
	}
	return types;
}

/* The fingerprints to the console (with the public lines, as cloud-init prints them) and to
 * the journal, one line each, between the marker lines tools look for. */
static void announce(const char *root, char *const *fps, char *const *pubs)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f;

	log_full_id(LOG_INFO, MSGID_HOSTKEYS, "%s", FP_BEGIN);
	for (size_t i = 0; fps && fps[i]; i++)
		log_full_id(LOG_INFO, MSGID_HOSTKEYS, "%s", fps[i]);
	log_full_id(LOG_INFO, MSGID_HOSTKEYS, "%s", FP_END);

	f = open_memstream(&text, &len);
	if (!f)
		return;
	fprintf(f, "\n%s\n%s\n", RULE, FP_BEGIN);
	for (size_t i = 0; fps && fps[i]; i++)
		fprintf(f, "%s\n", fps[i]);
	fprintf(f, "%s\n%s\n", FP_END, RULE);
	if (pubs && pubs[0]) {
		fprintf(f, "%s\n", KEYS_BEGIN);
		for (size_t i = 0; pubs[i]; i++)
			fprintf(f, "%s\n", pubs[i]);
		fprintf(f, "%s\n", KEYS_END);
	}
	if (fclose(f) == 0 && text)
		(void)console_write(root, text);
}

#define RSA (1U << HOSTKEY_RSA)

/*
 * Whether this run leaves the RSA key to vagent-hostkeys.service: RSA 3072 takes seconds where
 * the CPU is slow (the other types are milliseconds), and sshd starts with whatever keys it
 * has. Only in a run of the boot stage without the after-ssh stage (vagent.service: a `vagent
 * boot` by hand runs both and makes every key at once), only when RSA is to be generated (not
 * there, or a new instance), and only when sshd will have another type meanwhile.
 */
static bool defer_rsa(const struct step_context *c, unsigned generate, unsigned given,
		      bool regenerate)
{
	if (c->cfg->rsa_host_key != RSA_HOST_KEY_AFTER_SSH ||
	    !(c->stages & STAGE_MASK(STAGE_BOOT)) || (c->stages & STAGE_MASK(STAGE_AFTER_SSH)))
		return false;
	if (!(generate & RSA) || !((generate & ~RSA) | given))
		return false;
	/* an RSA spare already made (vagent-keygen.service) costs nothing to install now */
	if (hostkeys_spare_ready(c->root) & RSA)
		return false;
	return regenerate || !(hostkeys_present(c->root) & RSA);
}

/* The types the boot stage left to vagent-hostkeys.service (RUN_HOSTKEYS_AFTER_SSH). */
static int read_after_ssh(const char *root, unsigned *ret)
{
	_cleanup_free_ char *text = NULL;
	unsigned types = 0;
	char *save = NULL;
	size_t len;
	int r;

	*ret = 0;
	r = read_file(root, RUN_HOSTKEYS_AFTER_SSH, 4096, &text, &len);
	if (r < 0)
		return r;
	for (char *t = strtok_r(text, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		int k = hostkey_type_from_string(t);
		char buf[64];

		if (k >= 0)
			types |= 1U << k;
		else
			log_warning("'%s' names '%s', not a host key type, ignoring.",
				    RUN_HOSTKEYS_AFTER_SSH, (escape_controls(t, buf, sizeof(buf)), buf));
	}
	*ret = types;
	return 0;
}

static int write_after_ssh(const char *root, unsigned types)
{
	char text[64] = "";
	size_t n = 0;

	for (size_t i = 0; i < _HOSTKEY_MAX; i++)
		if (types & (1U << i))
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n",
					      hostkey_type_to_string((enum hostkey_type)i));
	return write_file_atomic(root, RUN_HOSTKEYS_AFTER_SSH, text, n, 0644);
}

/* The fingerprints of every key there is now: console, journal, report. */
static int announce_all(struct step_context *c)
{
	_cleanup_strv_free_ char **fps = NULL, **pubs = NULL;
	int r;

	r = hostkeys_fingerprints(c->root, &fps, &pubs);
	if (r < 0)
		return r;
	if (fps && fps[0]) {
		announce(c->root, fps, pubs);
		strv_free(c->report->host_keys);
		c->report->host_keys = TAKE_PTR(fps);
	}
	return 0;
}

int step_hostkeys(struct step_context *c, struct step_outcome *o)
{
	const struct cc_doc *d = userdata_doc(c);
	struct hostkeys_result res;
	const char *kept = NULL;
	bool regenerate = false, changed, deferred;
	unsigned types, given = 0;
	char have[64], made[64], pub[64], from_ud[96] = "", later[96] = "";
	int r;

	if (!sshd_installed(c->root))
		return step_set(o, STEP_SKIPPED, "no OpenSSH server (%s) here", HOSTKEYS_SSHD);
	types = wanted_types(d);

	if (c->first_boot && !c->degraded) {
		if (c->cfg->hostkeys_policy == HOSTKEYS_KEEP)
			kept = "[ssh] host-keys = keep";
		else if (cc_doc_has_config(d) && d->cc->has[CC_SSH_DELETEKEYS] &&
			 !d->cc->ssh_deletekeys)
			kept = "cloud-config ssh_deletekeys: false";
		else if (types == 0)
			/* cloud-init would delete them all and make none: no SSH at all. */
			kept = "cloud-config ssh_genkeytypes is empty";
		else
			regenerate = true;
	}

	/* ssh_keys: the user's own host keys, installed once per instance as cloud-init's cc_ssh
	 * does (whatever ssh_genkeytypes says); the other types are made as usual. */
	if (c->first_boot && !c->degraded && cc_doc_has_config(d) && d->cc->has[CC_SSH_KEYS])
		for (unsigned t = 0; t < _HOSTKEY_MAX; t++)
			if (d->cc->ssh_keys_private[t])
				given |= 1U << t;

	deferred = defer_rsa(c, types & ~given, given, regenerate);
	if (deferred) {
		types &= ~RSA;
		snprintf(later, sizeof(later), "; rsa %s after ssh.service (vagent-hostkeys.service)",
			 c->dry_run ? "would be made" : "to be made");
		if (c->dry_run && c->plan)
			fprintf(c->plan, "host-keys: would leave the rsa key to "
				"vagent-hostkeys.service\n");
	}

	r = hostkeys_ensure(c->root, types & ~given, regenerate, c->dry_run, c->plan, &res);
	if (r < 0)
		return step_fail(o, r, "host keys in %s: %m", HOSTKEYS_DIR);
	changed = r > 0;
	if (given) {
		struct hostkeys_result derived;
		char names[64];

		for (unsigned t = 0; t < _HOSTKEY_MAX; t++) {
			if (!(given & (1U << t)))
				continue;
			r = hostkeys_install(c->root, (enum hostkey_type)t, d->cc->ssh_keys_private[t],
					     d->cc->ssh_keys_public[t], c->dry_run, c->plan);
			if (r < 0)
				return step_fail(o, r, "the %s host key from the user data: %m",
						 hostkey_type_to_string((enum hostkey_type)t));
		}
		/* A private key given without its public one: the .pub from ssh-keygen -y (which
		 * also fails, clearly, on a key that is not one). */
		r = hostkeys_ensure(c->root, given, false, c->dry_run, c->plan, &derived);
		if (r < 0)
			return step_fail(o, r, "the host keys from the user data: %m");
		res.present |= given;
		changed = true;
		snprintf(from_ud, sizeof(from_ud), "; from the user data (ssh_keys): %s",
			 hostkey_types_format(given, names, sizeof(names)));
	}

	if (deferred && !c->dry_run) {
		r = write_after_ssh(c->root, RSA);
		if (r < 0)
			return step_fail(o, r, "'%s': %m", RUN_HOSTKEYS_AFTER_SSH);
		changed = true;
	}
	if (!c->dry_run && announce_all(c) == -ENOMEM)
		return step_fail(o, -ENOMEM, "out of memory");

	hostkey_types_format(res.present | res.generated, have, sizeof(have));
	hostkey_types_format(res.generated, made, sizeof(made));
	if (regenerate)
		return step_set(o, STEP_CHANGED, "%s host keys for the new instance: %s (%zu old key "
				"file%s %s)%s%s", c->dry_run ? "would make new" : "new", made,
				res.removed, res.removed == 1 ? "" : "s",
				c->dry_run ? "would go" : "replaced", from_ud, later);
	if (changed && res.generated)
		return step_set(o, STEP_CHANGED, "%s the missing %s host key%s%s%s; keys: %s%s%s",
				c->dry_run ? "would generate" : "generated", made,
				__builtin_popcount(res.generated) == 1 ? "" : "s",
				res.derived ? " and the .pub of " : "",
				res.derived ? hostkey_types_format(res.derived, pub, sizeof(pub)) : "",
				have, from_ud, later);
	if (changed && res.derived)
		return step_set(o, STEP_CHANGED, "%s the missing .pub of %s; keys: %s%s%s",
				c->dry_run ? "would restore" : "restored",
				hostkey_types_format(res.derived, pub, sizeof(pub)), have, from_ud,
				later);
	if (changed || deferred)
		return step_set(o, STEP_CHANGED, "keys: %s%s%s", have, from_ud, later);
	return step_set(o, STEP_UNCHANGED, "host keys present: %s%s%s%s", have,
			kept ? " (kept for the new instance: " : "", kept ? kept : "", kept ? ")" : "");
}

int step_hostkeys_spare(struct step_context *c, struct step_outcome *o)
{
	_cleanup_free_ char *cache = path_join_root(c->root, STATE_CACHE);
	_cleanup_free_ char *waited = path_join_root(c->root, RUN_HOSTKEYS_AFTER_SSH);
	unsigned present, types, made;
	const char *why;
	char buf[64], have[64];
	int r;

	if (!cache || !waited)
		return step_fail(o, -ENOMEM, "out of memory");
	if (!sshd_installed(c->root))
		return step_set(o, STEP_SKIPPED, "no OpenSSH server (%s) here", HOSTKEYS_SSHD);
	present = hostkeys_present(c->root);
	types = HOSTKEY_ALL & ~present;
	why = "missing from " HOSTKEYS_DIR;
	/* No cached document: the image's first boot, whose host-keys step makes every type for
	 * the new instance (unless the user data says otherwise: then a spare goes unused). */
	if (c->cfg->hostkeys_policy != HOSTKEYS_KEEP && access(cache, F_OK) < 0) {
		types = HOSTKEY_ALL;
		why = "no cached document: a first boot";
	}
	if (c->cfg->rsa_host_key != RSA_HOST_KEY_AFTER_SSH)
		types &= ~RSA;
	hostkey_types_format(present, have, sizeof(have));
	if (types == 0)
		return step_set(o, STEP_UNCHANGED, "no spare host key to make (keys: %s)", have);

	/* RSA under SCHED_IDLE while the login path needs the CPU, at full speed once the boot
	 * stage has left it to vagent-hostkeys.service (which then waits for it) */
	r = hostkeys_make_spares(c->root, types, RSA, waited, c->dry_run, c->plan, &made);
	if (r < 0)
		return step_fail(o, r, "spare host keys in %s: %m", HOSTKEYS_SPARE_DIR);
	if (r == 0)
		return step_set(o, STEP_UNCHANGED, "spare %s host keys already in %s",
				hostkey_types_format(types, buf, sizeof(buf)), HOSTKEYS_SPARE_DIR);
	return step_set(o, STEP_CHANGED, "%s spare %s host keys in %s (%s)%s",
			c->dry_run ? "would make" : "made", hostkey_types_format(made, buf, sizeof(buf)),
			HOSTKEYS_SPARE_DIR, why,
			(made & RSA) ? "; rsa under SCHED_IDLE until the boot waited for it" : "");
}

int step_hostkeys_after_ssh(struct step_context *c, struct step_outcome *o)
{
	struct hostkeys_result res;
	unsigned types;
	char made[64], have[64];
	int r, k;

	r = read_after_ssh(c->root, &types);
	if (r == -ENOENT)
		return step_set(o, STEP_SKIPPED, "no host key left for after ssh.service");
	if (r < 0)
		return step_fail(o, r, "'%s': %m", RUN_HOSTKEYS_AFTER_SSH);
	if (!sshd_installed(c->root))
		r = step_set(o, STEP_SKIPPED, "no OpenSSH server (%s) here", HOSTKEYS_SSHD);
	else {
		r = hostkeys_ensure(c->root, types, false, c->dry_run, c->plan, &res);
		if (r < 0) /* the file stays: the next boot's host-keys step leaves it again */
			return step_fail(o, r, "host keys in %s: %m", HOSTKEYS_DIR);
		hostkey_types_format(res.generated | res.derived, made, sizeof(made));
		hostkey_types_format(res.present | res.generated, have, sizeof(have));
		if (c->dry_run)
			return step_set(o, r > 0 ? STEP_CHANGED : STEP_UNCHANGED, r > 0 ?
					"would generate %s, then reload ssh.service" :
					"%s already there", r > 0 ? made : have);
		if (announce_all(c) == -ENOMEM)
			return step_fail(o, -ENOMEM, "out of memory");
		if (r == 0)
			r = step_set(o, STEP_UNCHANGED, "host keys present: %s", have);
		else {
			k = units_reload_ssh(c->root, false);
			r = step_set(o, STEP_CHANGED, "generated %s; keys: %s; %s", made, have,
				     k > 0 ? "ssh.service reloaded (if it runs)" :
				     k == 0 ? "not the running system: ssh.service left alone" :
				     "reloading ssh.service failed (sshd offers rsa after its "
				     "next restart)");
		}
	}
	if (!c->dry_run) {
		k = rm_rf(c->root, RUN_HOSTKEYS_AFTER_SSH);
		if (k < 0)
			log_warning_errno(k, "Failed to remove '%s': %m, ignoring.",
					  RUN_HOSTKEYS_AFTER_SSH);
	}
	return r;
}
