/* SPDX-License-Identifier: MIT */
/*
 * volumes.h: the storage step (blank volumes formatted and mounted, vagent's own volumes
 * mounted, everything else left alone) and the umount step, over storage/storage.h.
 */
#pragma once

#include "steps/step.h"

int step_storage(struct step_context *ctx, struct step_outcome *out);
int step_umount(struct step_context *ctx, struct step_outcome *out);
