/* SPDX-License-Identifier: MIT */
/*
 * sshkeys.c: the ssh-keys step. One managed block per user holds the metadata's keys and the
 * cloud-config's keys for that user together, so the sync policy keeps both and still drops
 * what either source revoked. The user data's keys may carry options (from=, command=,
 * no-pty: the user's own choice, kept as cloud-init does); the metadata's may not. The metadata's keys never wait on the user data: if the user data
 * cannot be decoded (invalid YAML, over its parse budget), the metadata's keys alone are applied.
 */
#include "base/authkeys.h"
#include "base/util.h"
#include "cloudconfig/cc-apply.h"
#include "metadata/metadata.h"
#include "steps/sshkeys.h"
#include "steps/userdata.h"

int step_sshkeys(struct step_context *c, struct step_outcome *o)
{
	_cleanup_strv_free_ char **extra = NULL;
	_cleanup_free_ char *m = NULL;
	int r;

	/* The user data's keys may carry options (the user's choice); the metadata's may not. */
	r = cc_doc_ssh_keys(userdata_doc(c), c->cfg->ssh_user, &extra);
	if (r < 0)
		return step_fail(o, r, "out of memory");
	r = sshkeys_apply_from(c->root, c->cfg->ssh_user, c->md->public_keys, extra,
			       c->cfg->sshkeys_policy, c->cfg->sshkeys_target, c->dry_run, &m);
	if (r < 0)
		return step_fail(o, r, "%s", m ? m : "failed");
	return step_set(o, r > 0 ? STEP_CHANGED : STEP_UNCHANGED, "%s", m ? m : "");
}
