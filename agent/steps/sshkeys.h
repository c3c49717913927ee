/* SPDX-License-Identifier: MIT */
/*
 * sshkeys.h: the ssh-keys step: the metadata's public keys, with the cloud-config's keys for
 * the [ssh] user, kept in vagent's managed block (base/authkeys.h does the file work).
 */
#pragma once

#include "steps/step.h"

int step_sshkeys(struct step_context *ctx, struct step_outcome *out);
