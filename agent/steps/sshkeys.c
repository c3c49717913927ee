/* SPDX-License-Identifier: MIT */
/*
 * sshkeys.c: the ssh-keys step. One managed block per user holds the metadata's keys and the
 * cloud-config's keys for that user together, so the sync policy keeps both and still drops
 * what either source revoked. The metadata's keys never wait on the user data: if the user data
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
	_cleanup_strv_free_ char **keys = NULL, **extra = NULL;
	_cleanup_free_ char *m = NULL;
	char *const *use = c->md->public_keys;
	int r;

	r = cc_doc_ssh_keys(userdata_doc(c), c->cfg->ssh_user, &extra);
	if (r < 0)
		return step_fail(o, r, "out of memory");
	if (extra) {
		for (size_t i = 0; c->md->public_keys && c->md->public_keys[i] && r >= 0; i++)
			r = strv_push(&keys, strdup(c->md->public_keys[i]));
		for (size_t i = 0; extra[i] && r >= 0; i++)
			if (!strv_contains(keys, extra[i]))
				r = strv_push(&keys, strdup(extra[i]));
		if (r < 0)
			return step_fail(o, r, "out of memory");
		use = keys;
	}
	r = sshkeys_apply(c->root, c->cfg->ssh_user, use, c->cfg->sshkeys_policy,
			  c->cfg->sshkeys_target, c->dry_run, &m);
	if (r < 0)
		return step_fail(o, r, "%s", m ? m : "failed");
	return step_set(o, r > 0 ? STEP_CHANGED : STEP_UNCHANGED, "%s", m ? m : "");
}
