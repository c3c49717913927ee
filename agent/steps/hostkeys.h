/* SPDX-License-Identifier: MIT */
/*
 * hostkeys.h: the host-keys step: the SSH host keys of the instance (base/hostkeys.h does the
 * work): new ones on a new instance's first boot, any missing type every boot, the
 * fingerprints on the console, in the journal and in the report.
 */
#pragma once

#include "steps/step.h"

int step_hostkeys(struct step_context *ctx, struct step_outcome *out);

/*
 * The host-keys-spare step (stage keygen, vagent-keygen.service, early in the boot, beside
 * everything): the keys this boot will make, made ahead as spares (base/hostkeys.h) while the
 * boot waits for the network: the types missing from /etc/ssh, or every type on an image
 * that has no cached document yet (its first boot makes all of them, for a new instance). RSA
 * under SCHED_IDLE, and only with [ssh] rsa-host-key = after-ssh (before-ssh makes it in
 * vagent.service at full speed). The host-keys steps take a spare instead of running
 * ssh-keygen; an RSA spare ready in time is installed before ssh.service, not after it.
 */
int step_hostkeys_spare(struct step_context *ctx, struct step_outcome *out);

/*
 * The host-keys-after-ssh step (stage after-ssh, vagent-hostkeys.service, after ssh.service):
 * the types the host-keys step left to it (/run/vagent/host-keys-after-ssh: RSA, by default),
 * then the fingerprints of every key and a reload of ssh.service so sshd offers them.
 */
int step_hostkeys_after_ssh(struct step_context *ctx, struct step_outcome *out);
