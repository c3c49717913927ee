/* SPDX-License-Identifier: MIT */
/*
 * growroot.c: the grow-root step. It runs first in the storage stage, which starts after the
 * local filesystems and before the user data (the first thing that needs the space), and
 * needs no metadata: an instance booted on a disk bigger than its image gets the space before
 * anything else happens. Its outcome: changed (grown, by how much), unchanged (/ fills what it
 * can), skipped (turned off, or a layout vagent does not grow: one line says why; when more
 * than 1 % of the disk stays unused it starts with "warning:", and the journal has a warning
 * too), failed.
 */
#include "base/log.h"
#include "steps/growroot.h"
#include "storage/grow.h"

int step_grow_root(struct step_context *c, struct step_outcome *o)
{
	_cleanup_(grow_root_result_done) struct grow_root_result g = {};
	enum step_result res;
	int r;

	r = grow_root(c->root, c->cfg, c->dry_run, &g);
	if (r < 0)
		return step_fail(o, r, "out of memory");
	switch (g.status) {
	case GROW_ROOT_GROWN:
		res = STEP_CHANGED;
		if (c->dry_run && c->plan)
			fprintf(c->plan, "%s\n", g.message);
		break;
	case GROW_ROOT_FULL:
		res = STEP_UNCHANGED;
		break;
	case GROW_ROOT_FAILED:
		return step_fail(o, -EIO, "%s", g.message);
	default:
		res = STEP_SKIPPED;
	}
	return step_set(o, res, "%s%s", g.warn ? "warning: " : "", g.message);
}
