/* SPDX-License-Identifier: MIT */
/*
 * metadata.h (steps): the metadata step, which fills the run's context (step.h) with the
 * instance's document, identity and first-boot flag, and the same for a stage that does not
 * fetch (the cache first).
 */
#pragma once

#include "steps/step.h"

/* Per-instance stamp written once an instance has booted (its next boots are not first). */
#define STAMP_BOOTED "booted"

/* The metadata step: the service within the deadline, else the cache (degraded: failed, the
 * boot goes on), else nothing (failed). Stores the fetched user data for the later stages. */
int step_metadata(struct step_context *ctx, struct step_outcome *out);

/*
 * For a run without the metadata step (user data, a single verb): the cached document, or, when
 * there is none and this boot's report does not exist yet (nothing fetched this boot), the
 * service. CACHE_ONLY (the early stage): never the service, and the user data is not stored
 * again. Nothing is logged as a step. 0 with a document, -ENODATA without one.
 */
int metadata_load(struct step_context *ctx, bool cache_only);

/* After a run whose metadata step came from the service on a first boot: stamp it booted. */
void metadata_mark_booted(struct step_context *ctx);
