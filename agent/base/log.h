/* SPDX-License-Identifier: MIT */
/*
 * log.h: levels, errno-returning log calls, journald fields (MESSAGE_ID per event kind) and
 * service-manager notifications. log.c is the only libsystemd user.
 */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "base/macro.h"

/* MESSAGE_IDs (128-bit, hex) so `journalctl MESSAGE_ID=...` finds each event kind. */
#define MSGID_BOOT_DONE "5f0b6a0e2c8d4c1e9a3b7d1f4e6a2c90"
#define MSGID_METADATA "7a1c3e5d9b2f4a6c8e0d1b3f5a7c9e01"
#define MSGID_METADATA_DEGRADED "7a1c3e5d9b2f4a6c8e0d1b3f5a7c9e02"
#define MSGID_HOSTNAME "3d5f7b9a1c2e4f6a8b0c2d4e6f8a0b11"
#define MSGID_SSHKEYS "3d5f7b9a1c2e4f6a8b0c2d4e6f8a0b12"
#define MSGID_USERDATA "3d5f7b9a1c2e4f6a8b0c2d4e6f8a0b13"
#define MSGID_STORAGE "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c01"
#define MSGID_STORAGE_REFUSED "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c02"
#define MSGID_STORAGE_FORMATTED "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c03"
#define MSGID_STORAGE_UNMOUNTED "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c04"
#define MSGID_STORAGE_GROWN "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c05"
#define MSGID_GROW_ROOT "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c06"
#define MSGID_BOOTCMD "3d5f7b9a1c2e4f6a8b0c2d4e6f8a0b14"
#define MSGID_HOSTKEYS "3d5f7b9a1c2e4f6a8b0c2d4e6f8a0b15"
#define MSGID_NETWORK "3d5f7b9a1c2e4f6a8b0c2d4e6f8a0b16"
#define MSGID_SCRIPTS "3d5f7b9a1c2e4f6a8b0c2d4e6f8a0b17"
#define MSGID_STARTUP "3d5f7b9a1c2e4f6a8b0c2d4e6f8a0b18"
#define MSGID_VENDOR "3d5f7b9a1c2e4f6a8b0c2d4e6f8a0b19"
/* A step's outcome line when its table entry names no MESSAGE_ID of its own. */
#define MSGID_STEP "5f0b6a0e2c8d4c1e9a3b7d1f4e6a2c91"

/* Highest priority that is still printed (LOG_ERR .. LOG_DEBUG). */
void log_set_max_level(int level);
/* Send to the journal when stderr is the journal (JOURNAL_STREAM), else print to stderr. */
void log_setup(void);

/* Returns -abs(error) when error != 0, else 0; sets errno to abs(error) so "%m" works. */
int log_full(int level, int error, const char *message_id, const char *file, int line,
	     const char *format, ...) _printf_(6, 7);

#define log_full_id(level, id, ...) log_full(level, 0, id, __FILE__, __LINE__, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, 0, NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, 0, NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, 0, NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_full(LOG_DEBUG, 0, NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_error_errno(r, ...) log_full(LOG_ERR, (r), NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_warning_errno(r, ...)                                                                  \
	log_full(LOG_WARNING, (r), NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_notice_errno(r, ...) log_full(LOG_NOTICE, (r), NULL, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug_errno(r, ...) log_full(LOG_DEBUG, (r), NULL, __FILE__, __LINE__, __VA_ARGS__)

/*
 * The one line the runner logs per step: "STEP: RESULT (MESSAGE)", with MESSAGE_ID and, in the
 * journal, VAGENT_STEP= and VAGENT_RESULT= fields (`journalctl VAGENT_STEP=storage`).
 */
void log_step(int level, const char *message_id, const char *step, const char *result,
	      const char *message);

/* Tell the service manager (no-op outside a unit): STATUS=... and READY=1. */
void notify_status(const char *format, ...) _printf_(1, 2);
void notify_ready(void);
