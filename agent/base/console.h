/* SPDX-License-Identifier: MIT */
/*
 * console.h: text for the system console (/dev/console: the serial console on a cloud VM),
 * where an operator or a tool reads what a booting instance says before it can log in (the SSH
 * host key fingerprints). Only public text goes there.
 */
#pragma once

/*
 * Write TEXT to /dev/console without blocking and without making it our controlling terminal.
 * Under --root (ROOT is not the running system) nothing is written. Returns 0, or <0 when the
 * console could not be written (callers ignore it: the journal has the same lines).
 */
int console_write(const char *root, const char *text);
