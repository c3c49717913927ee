/* SPDX-License-Identifier: MIT */
/*
 * metadata.c (steps): the metadata step. The document comes from metadata/fetch.c (service,
 * else cache, else none); this file turns that into the run's context: the instance id, whether
 * this is the instance's first boot (never when the document is the cached one: a metadata
 * hiccup must not look like a new instance), degraded mode, and the user data stored per
 * instance (0600) so that the user-data stage can run from it without asking the service again.
 */
#include "base/log.h"
#include "base/state.h"
#include "metadata/fetch.h"
#include "metadata/metadata.h"
#include "steps/metadata.h"
#include "steps/userdata.h"

static void context_take(struct step_context *c)
{
	c->md = c->fetched->md;
	c->instance_id = c->md ? c->md->instance_id : NULL;
	c->degraded = c->fetched->source == SOURCE_CACHE;
	c->first_boot = c->fetched->source == SOURCE_SERVICE &&
			!state_instance_has(c->root, c->instance_id, STAMP_BOOTED);
}

int step_metadata(struct step_context *c, struct step_outcome *o)
{
	struct fetched *f = c->fetched;
	int r;

	/* The late path: the runner already waited for the service's document. */
	if (c->late && f->source == SOURCE_SERVICE)
		r = 0;
	else {
		fetched_done(f);
		r = metadata_acquire(c->root, c->cfg, true, c->dry_run, f);
	}
	if (r == -ENODATA)
		return step_fail(o, r, "%s and no cached document (%s)",
				 f->invalid ? "the service's document is invalid" : "service unavailable",
				 f->error ? f->error : "unknown error");
	if (r < 0)
		return step_fail(o, r, "cannot get the metadata: %m");
	context_take(c);
	if (c->degraded)
		return step_fail(o, f->invalid ? -EBADMSG : -EHOSTUNREACH,
				 "%s (%s); using the cached document",
				 f->invalid ? "the service's document is invalid" : "service unavailable",
				 f->error ? f->error : "unknown error");

	if (!c->dry_run) {
		r = userdata_store(c);
		if (r < 0)
			log_warning_errno(r, "Failed to store the user data of instance '%s': %m, "
					  "ignoring.", c->instance_id);
	}
	return step_set(o, c->first_boot ? STEP_CHANGED : STEP_UNCHANGED, "instance %s%s, %zu bytes",
			c->instance_id, c->first_boot ? " (first boot)" : "", f->doc_len);
}

int metadata_load(struct step_context *c, bool cache_only)
{
	struct fetched *f = c->fetched;
	int r;

	fetched_done(f);
	r = metadata_acquire(c->root, c->cfg, false, c->dry_run, f);
	/* Nothing cached: unless this boot already asked the service (its report exists), ask. */
	if (r == -ENODATA && !cache_only && !state_run_report_exists(c->root)) {
		fetched_done(f);
		r = metadata_acquire(c->root, c->cfg, true, c->dry_run, f);
	}
	if (r < 0)
		return r;
	context_take(c);
	if (!c->dry_run && !cache_only) {
		r = userdata_store(c);
		if (r < 0)
			log_warning_errno(r, "Failed to store the user data of instance '%s': %m, "
					  "ignoring.", c->instance_id);
	}
	c->first_boot = false; /* decided by the boot stage, not here */
	/* A cached document is how later stages always work: not degraded for them. */
	c->degraded = false;
	return 0;
}

void metadata_mark_booted(struct step_context *c)
{
	int r;

	if (c->dry_run || !c->first_boot || !c->fetched || c->fetched->source != SOURCE_SERVICE)
		return;
	r = state_instance_write(c->root, c->instance_id, STAMP_BOOTED, "", 0);
	if (r < 0)
		log_warning_errno(r, "Failed to mark instance '%s' as booted: %m, ignoring.",
				  c->instance_id);
}
