/* SPDX-License-Identifier: MIT */
/*
 * units.h: whether a systemd unit still has to run this boot, for `vagent status --wait` and
 * for the unit that finishes last (it writes /run/vagent/boot-finished). On the running system
 * with systemd, systemd is asked (`systemctl show`); under --root, or without systemd, the
 * unit counts as still to run when it is enabled in ROOT (a symlink in a *.wants/ directory of
 * ROOT/etc/systemd/system, ROOT/usr/lib/systemd/system or ROOT/lib/systemd/system) and not
 * masked.
 */
#pragma once

#include <stdbool.h>

struct unit_state {
	bool pending; /* a start job is queued or running (or, without systemd: it is enabled) */
	bool failed;  /* systemd says ActiveState=failed */
};

/*
 * The state of each of the N units in UNITS, into RET[0..N-1]. Returns 1 when systemd was
 * asked, 0 when the enablement files were read instead, <0 on failure (out of memory).
 */
int units_state(const char *root, const char *const *units, size_t n, struct unit_state *ret);

/*
 * Make ssh.service load new host keys: `systemctl --no-block try-reload-or-restart ssh.service`
 * (START: reload-or-restart, which also starts an sshd that had no key to start with). Only on
 * the running system (ROOT NULL) under systemd. Returns 1 asked, 0 not on the running system,
 * <0 systemctl could not be run or failed (not logged: the caller knows why it asked).
 */
int units_reload_ssh(const char *root, bool start);
