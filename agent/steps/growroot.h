/* SPDX-License-Identifier: MIT */
/*
 * growroot.h: the grow-root step (the storage stage, first): the root filesystem grown into
 * its disk every boot (storage/grow.h does the work).
 */
#pragma once

#include "steps/step.h"

int step_grow_root(struct step_context *ctx, struct step_outcome *out);
