/* SPDX-License-Identifier: MIT */
/*
 * fault.h: crash-consistency fault injection for the storage path, compiled in only when the
 * build defines VAGENT_FAULT_INJECTION (the test build does; release builds do not, and then
 * every hook is an empty inline). With VAGENT_FAULT=<point> in the environment the process
 * kills itself with SIGKILL at that point, as a power cut or OOM kill would. Points, in the
 * order a blank volume passes them: after-gpt (table written and known to the kernel, no
 * filesystem), during-mkfs (mkfs is stopped VAGENT_FAULT_DELAY_MS, default 50, after it
 * started, then we die), after-mkfs (filesystem written, partition still "pending"),
 * after-rename (partition "done", no fstab line), after-fstab (fstab written, not mounted).
 * Growing (grow.c, partition.c): grow-after-backup (the GPT's backup header moved to the end,
 * the partition not extended), grow-after-table (the table grown, the kernel not told),
 * grow-after-kernel (the kernel told, the filesystem not grown).
 * fault_pause() points only wait: before-first-write (between the verdict and the in-use
 * re-check that precedes the first write). fault_read_error(): with VAGENT_FAULT=read-error,
 * a read by the blank proof's zero scan that covers byte VAGENT_FAULT_OFFSET fails with EIO,
 * as a bad sector would (this machine has no device-mapper for an error target).
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
#include "base/macro.h"

#ifdef VAGENT_FAULT_INJECTION
static inline bool fault_enabled(const char *point)
{
	const char *e = getenv("VAGENT_FAULT");
	return e && streq(e, point);
}

/* Microseconds to let mkfs run before "during-mkfs" stops it. */
static inline uint64_t fault_delay_usec(void)
{
	const char *e = getenv("VAGENT_FAULT_DELAY_MS");
	long v = e ? strtol(e, NULL, 10) : 50;
	return (uint64_t)(v > 0 ? v : 1) * 1000;
}

static inline void fault_point(const char *point)
{
	if (!fault_enabled(point))
		return;
	log_warning("fault injection: killing ourselves at '%s'", point);
	raise(SIGKILL);
}
/* With VAGENT_FAULT=<point>, stop VAGENT_FAULT_DELAY_MS there instead of dying: lets a test
 * change the world between a decision and the act ("before-first-write": the in-use re-check). */
static inline void fault_pause(const char *point)
{
	if (!fault_enabled(point))
		return;
	log_warning("fault injection: pausing at '%s'", point);
	usleep((useconds_t)fault_delay_usec());
}

/* Does the read [OFF, OFF+LEN) fail ("read-error" at VAGENT_FAULT_OFFSET)? */
static inline bool fault_read_error(uint64_t off, size_t len)
{
	const char *e = getenv("VAGENT_FAULT_OFFSET");
	uint64_t at;

	if (!e || !fault_enabled("read-error"))
		return false;
	at = strtoull(e, NULL, 10);
	return at >= off && at - off < len;
}
#else
static inline bool fault_enabled(const char *point _unused_)
{
	return false;
}
static inline uint64_t fault_delay_usec(void)
{
	return 0;
}
static inline void fault_point(const char *point _unused_)
{
}
static inline void fault_pause(const char *point _unused_)
{
}
static inline bool fault_read_error(uint64_t off _unused_, size_t len _unused_)
{
	return false;
}
#endif
