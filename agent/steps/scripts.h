/* SPDX-License-Identifier: MIT */
/*
 * scripts.h: the scripts of the user-data stage that are not the user's, in cloud-init's
 * order: the vendor data's scripts, Vultr's startup script, then the image's
 * /var/lib/cloud/scripts/per-once, per-boot and per-instance directories; the user's scripts
 * follow (steps/userdata.h).
 */
#pragma once

#include "steps/step.h"

#define SCRIPTS_DIR "/var/lib/cloud/scripts"

int step_vendor_scripts(struct step_context *ctx, struct step_outcome *out);
int step_startup_script(struct step_context *ctx, struct step_outcome *out);
int step_scripts_per_once(struct step_context *ctx, struct step_outcome *out);
int step_scripts_per_boot(struct step_context *ctx, struct step_outcome *out);
int step_scripts_per_instance(struct step_context *ctx, struct step_outcome *out);
