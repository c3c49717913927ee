/* SPDX-License-Identifier: MIT */
/*
 * volumes.c: the storage and umount steps. Each volume considered goes into the run's report
 * (verdict, reason, action, result); the step's own outcome counts what changed in this run
 * (formatted, newly mounted, grown, unmounted), never what was merely planned, so a second
 * `vagent mount` over mounted volumes is "unchanged".
 */
#include "base/log.h"
#include "storage/storage.h"
#include "steps/volumes.h"

static int add_volumes(struct step_context *c, struct volume_report *v, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		if (r >= 0)
			r = boot_report_add_volume(c->report, &v[i]);
		volume_report_done(&v[i]);
	}
	free(v);
	return r;
}

int step_storage(struct step_context *c, struct step_outcome *o)
{
	struct volume_report *v = NULL;
	size_t n = 0, formatted = 0, mounted = 0, grown = 0, other = 0;
	bool changed = false;
	int r, k;

	if (!c->cfg->storage_enabled && !c->devices)
		return step_set(o, STEP_SKIPPED, "disabled by [storage] enabled = no (name devices "
				"to override)");
	r = storage_mount(c->root, c->cfg, c->devices, c->dry_run, &v, &n);
	for (size_t i = 0; i < n; i++) {
		if (streq(v[i].action, "format-and-mount"))
			formatted++;
		else if (streq(v[i].action, "mount"))
			mounted++;
		else
			other++;
		grown += !!v[i].grow;
		changed = changed || v[i].changed;
	}
	k = add_volumes(c, v, n);
	if (k < 0)
		return step_fail(o, k, "out of memory");
	if (r < 0)
		return step_fail(o, r, "%zu volume(s): %zu %sformatted, %zu %smounted, %zu %sgrown, %zu "
				 "left alone; failed: %m", n, formatted, c->dry_run ? "to be " : "",
				 mounted, c->dry_run ? "to be " : "", grown, c->dry_run ? "to be " : "",
				 other);
	return step_set(o, c->dry_run ? (formatted + mounted + grown > 0 ? STEP_CHANGED :
					 STEP_UNCHANGED) :
			changed ? STEP_CHANGED : STEP_UNCHANGED,
			"%zu volume(s): %zu %sformatted, %zu %smounted, %zu %sgrown, %zu left alone", n,
			formatted, c->dry_run ? "to be " : "", mounted, c->dry_run ? "to be " : "",
			grown, c->dry_run ? "to be " : "", other);
}

int step_umount(struct step_context *c, struct step_outcome *o)
{
	struct volume_report *v = NULL;
	size_t n = 0, unmounted = 0;
	int r, k;

	r = storage_umount(c->root, c->cfg, c->devices, c->dry_run, &v, &n);
	for (size_t i = 0; i < n; i++)
		unmounted += v[i].changed;
	k = add_volumes(c, v, n);
	if (k < 0)
		return step_fail(o, k, "out of memory");
	if (r < 0)
		return step_fail(o, r, "%zu volume(s), %zu unmounted; failed: %m", n, unmounted);
	return step_set(o, unmounted > 0 ? STEP_CHANGED : STEP_UNCHANGED,
			"%zu volume(s), %zu unmounted", n, unmounted);
}
