/* SPDX-License-Identifier: MIT */
/*
 * hostkeys.h: the host-keys step: the SSH host keys of the instance (base/hostkeys.h does the
 * work): new ones on a new instance's first boot, any missing type every boot, the
 * fingerprints on the console, in the journal and in the report.
 */
#pragma once

#include "steps/step.h"

int step_hostkeys(struct step_context *ctx, struct step_outcome *out);
