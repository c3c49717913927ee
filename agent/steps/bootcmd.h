/* SPDX-License-Identifier: MIT */
/*
 * bootcmd.h: the bootcmd step: cloud-config's bootcmd, every boot, as cloud-init runs it.
 */
#pragma once

#include "steps/step.h"

int step_bootcmd(struct step_context *ctx, struct step_outcome *out);
