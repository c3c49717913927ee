/* SPDX-License-Identifier: MIT */
/*
 * log.c: messages go to the journal with PRIORITY, MESSAGE_ID and CODE_* fields when stderr is
 * connected to journald (JOURNAL_STREAM matches; sent by base/systemd.c, and printed to stderr
 * when that fails), otherwise to stderr as "vagent: message". One call, one line. Callers
 * never pass secrets; this file cannot check that, so every format string in the tree is
 * reviewed for it (tests grep the output for markers).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/journal.h"
#include "base/util.h"

static int max_level = LOG_NOTICE;
static bool to_journal;

void log_set_max_level(int level)
{
	max_level = level;
}

void log_setup(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return;
	if (fstat(STDERR_FILENO, &st) < 0)
		return;
	to_journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Send one event: BUF is the message, already formatted; STEP and RESULT add the step fields. */
static void emit(int level, const char *message_id, const char *file, int line, const char *step,
		 const char *result, const char *raw)
{
	char buf[2048 * 4 + 1], pbuf[16], lbuf[32], fbuf[256], idbuf[64], sbuf[96], rbuf[64];
	char mbuf[sizeof(buf) + 8];
	const char *fields[8];
	size_t n = 0;

	/* One event, one line, no terminal or journal escape sequences from input. */
	escape_controls(raw, buf, sizeof(buf));
	if (to_journal) {
		snprintf(mbuf, sizeof(mbuf), "MESSAGE=%s", buf);
		snprintf(pbuf, sizeof(pbuf), "PRIORITY=%d", level);
		snprintf(fbuf, sizeof(fbuf), "CODE_FILE=%s", file);
		snprintf(lbuf, sizeof(lbuf), "CODE_LINE=%d", line);
		fields[n++] = mbuf;
		fields[n++] = pbuf;
		if (step || message_id) {
			snprintf(idbuf, sizeof(idbuf), "MESSAGE_ID=%s",
				 message_id ? message_id : MSGID_STEP);
			fields[n++] = idbuf;
		}
		if (step) {
			snprintf(sbuf, sizeof(sbuf), "VAGENT_STEP=%s", step);
			snprintf(rbuf, sizeof(rbuf), "VAGENT_RESULT=%s", result);
			fields[n++] = sbuf;
			fields[n++] = rbuf;
		}
		fields[n++] = fbuf;
		fields[n++] = lbuf;
		fields[n++] = "SYSLOG_IDENTIFIER=vagent";
		if (journal_send(fields, n) >= 0)
			return;
	}
	if (level <= max_level || to_journal)
		fprintf(stderr, "vagent: %s\n", buf);
}

static bool wanted(int level)
{
	return level <= max_level || (to_journal && level <= LOG_INFO);
}

int log_full(int level, int error, const char *message_id, const char *file, int line,
	     const char *format, ...)
{
	char buf[2048];
	va_list ap;
	int saved = errno;

	if (error < 0)
		error = -error;
	if (!wanted(level))
		return error ? -error : 0;

	errno = error ? error : saved;
	va_start(ap, format);
	vsnprintf(buf, sizeof(buf), format, ap);
	va_end(ap);
	emit(level, message_id, file, line, NULL, NULL, buf);
	errno = saved;
	return error ? -error : 0;
}

void log_step(int level, const char *message_id, const char *step, const char *result,
	      const char *message)
{
	char buf[2048];

	if (!wanted(level))
		return;
	snprintf(buf, sizeof(buf), "%s: %s%s%s%s", step, result, message && *message ? " (" : "",
		 message && *message ? message : "", message && *message ? ")" : "");
	emit(level, message_id, __FILE__, __LINE__, step, result, buf);
}

void notify_status(const char *format, ...)
{
	char buf[512];
	va_list ap;

	if (!getenv("NOTIFY_SOCKET"))
		return;
	memcpy(buf, "STATUS=", 7);
	va_start(ap, format);
	vsnprintf(buf + 7, sizeof(buf) - 7, format, ap);
	va_end(ap);
	(void)notify_send(buf);
}

void notify_ready(void)
{
	(void)notify_send("READY=1");
}
