/* SPDX-License-Identifier: MIT */
/*
 * journal.h: a journal entry over journald's native socket and sd_notify(3) state, without
 * libsystemd (both are small documented datagram protocols). log.c is the caller.
 */
#pragma once

#include <stddef.h>

/*
 * One journal entry over journald's native socket. FIELDS: N strings "NAME=value" (NAME in
 * [A-Z0-9_], not starting with '_'); values may hold any byte but NUL. 0 sent, <0 when it
 * could not be sent (no journald, too large): the caller then prints the message instead.
 */
int journal_send(const char *const *fields, size_t n);

/* Tests only: the socket journal_send() writes to (default /run/systemd/journal/socket). */
void journal_set_socket(const char *path);

/* STATE ("STATUS=...", "READY=1") to $NOTIFY_SOCKET; 0 when there is none, 1 sent, <0. */
int notify_send(const char *state);
