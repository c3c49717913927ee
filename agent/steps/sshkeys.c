/* SPDX-License-Identifier: MIT */
/*
 * sshkeys.c: the ssh-keys step. One managed block per user holds the metadata's keys and the
 * cloud-config's keys for that user together, so the sync policy keeps both and still drops
 * what either source revoked. The user data's keys may carry options (from=, command=,
 * no-pty: the user's own choice, kept as cloud-init does); the metadata's may not. With
 * disable_root: false root gets the same keys. The metadata's keys never wait on the user
 * data: if the user data
 * cannot be decoded (invalid YAML, over its parse budget), the metadata's keys alone are applied.
 */
#include "base/authkeys.h"
#include "base/log.h"
#include "base/passwd.h"
#include "base/util.h"
#include "cloudconfig/cc-apply.h"
#include "metadata/metadata.h"
#include "steps/sshkeys.h"
#include "steps/userdata.h"

/*
 * cloud-config disable_root, with cloud-init's meaning where vagent's [ssh] user allows it:
 * false (Vultr's vendor data sends 0) gives root the same keys as the [ssh] user; true with
 * root as the [ssh] user would lock root out (cloud-init would leave only its default user
 * able to log in, and vagent has no other), so it is refused with a warning. 1 root's keys
 * changed, 0 nothing to do, <0 failed.
 */
static int root_too(struct step_context *c, char *const *extra, char **ret_message)
{
	const struct cc_doc *d = userdata_doc(c);

	if (!cc_doc_has_config(d) || !d->cc->has[CC_DISABLE_ROOT])
		return 0;
	if (d->cc->disable_root) {
		if (streq(c->cfg->ssh_user, "root"))
			log_warning("cloud-config disable_root: true would lock root, the [ssh] user, "
				    "out: ignoring it (make another [ssh] user to use it).");
		return 0;
	}
	if (streq(c->cfg->ssh_user, "root"))
		return 0; /* root has them already */
	/* the same keys, each source by its own rule (the user data's may carry options) */
	return sshkeys_apply_from(c->root, "root", c->md->public_keys, extra,
				  c->cfg->sshkeys_policy, c->cfg->sshkeys_target, c->dry_run,
				  ret_message);
}

int step_sshkeys(struct step_context *c, struct step_outcome *o)
{
	_cleanup_strv_free_ char **extra = NULL;
	_cleanup_free_ char *m = NULL, *m_root = NULL;
	uid_t uid;
	gid_t gid;
	int r, k;

	/* The user data's keys may carry options (the user's choice); the metadata's may not. */
	r = cc_doc_ssh_keys(userdata_doc(c), c->cfg->ssh_user, &extra);
	if (r < 0)
		return step_fail(o, r, "out of memory");
	/* An [ssh] user the user data's users key makes (cloud-init's default user on an image
	 * without it): the users module writes its keys once it exists. */
	if (passwd_resolve_user(c->root, c->cfg->ssh_user, &uid, &gid) == -ESRCH &&
	    cc_doc_makes_user(userdata_doc(c), c->cfg->ssh_user)) {
		r = 0;
		if (asprintf(&m, "'%s' does not exist yet: the cloud-config users module makes it "
			     "and writes its keys", c->cfg->ssh_user) < 0) {
			m = NULL;
			return step_fail(o, -ENOMEM, "out of memory");
		}
	} else {
		r = sshkeys_apply_from(c->root, c->cfg->ssh_user, c->md->public_keys, extra,
				       c->cfg->sshkeys_policy, c->cfg->sshkeys_target, c->dry_run,
				       &m);
		if (r < 0)
			return step_fail(o, r, "%s", m ? m : "failed");
	}
	k = root_too(c, extra, &m_root);
	if (k < 0)
		return step_fail(o, k, "%s; root (disable_root: false): %s", m ? m : "",
				 m_root ? m_root : "failed");
	return step_set(o, r > 0 || k > 0 ? STEP_CHANGED : STEP_UNCHANGED, "%s%s%s", m ? m : "",
			m_root ? "; root (disable_root: false): " : "", m_root ? m_root : "");
}
