/* SPDX-License-Identifier: MIT */
/*
 * bootcmd.c: the bootcmd step: the run's decoded user data (userdata.h) handed to
 * cloudconfig/cc-apply.h's cc_bootcmd(), every boot, after the keys are in place.
 */
#include "cloudconfig/cc-apply.h"
#include "steps/bootcmd.h"
#include "steps/userdata.h"

int step_bootcmd(struct step_context *c, struct step_outcome *o)
{
	_cleanup_free_ char *m = NULL;
	int r;

	r = cc_bootcmd(c->root, c->cfg, c->instance_id, userdata_doc(c), c->dry_run, &m);
	if (r < 0)
		return step_fail(o, r, "%s", m ? m : "bootcmd failed");
	return step_set(o, r == 2 ? STEP_SKIPPED : r == 1 ? STEP_CHANGED : STEP_UNCHANGED, "%s",
			m ? m : "");
}
