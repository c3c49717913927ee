/* SPDX-License-Identifier: MIT */
/*
 * log.c: the only libsystemd user. Messages go to the journal with PRIORITY, MESSAGE_ID and
 * CODE_* fields when stderr is connected to journald (JOURNAL_STREAM matches), otherwise to
 * stderr as "vagent: message" (with a "<N>" priority prefix when stderr is not a terminal but
 * a service log). One call, one line. Callers never pass secrets; this file cannot check that,
 * so every format string in the tree is reviewed for it (tests grep the output for markers).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "base/log.h"
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
	char buf[2048 * 4 + 1], lbuf[32];

	/* One event, one line, no terminal or journal escape sequences from input. */
	escape_controls(raw, buf, sizeof(buf));
	if (to_journal) {
		snprintf(lbuf, sizeof(lbuf), "CODE_LINE=%d", line);
		if (step)
			sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", level, "MESSAGE_ID=%s",
					message_id ? message_id : MSGID_STEP, "VAGENT_STEP=%s", step,
					"VAGENT_RESULT=%s", result, "CODE_FILE=%s", file, lbuf,
					"SYSLOG_IDENTIFIER=vagent", NULL);
		else if (message_id)
			sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", level,
					"MESSAGE_ID=%s", message_id, "CODE_FILE=%s", file, lbuf,
					"SYSLOG_IDENTIFIER=vagent", NULL);
		else
			sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", level, "CODE_FILE=%s",
					file, lbuf, "SYSLOG_IDENTIFIER=vagent", NULL);
	} else if (level <= max_level) {
		fprintf(stderr, "vagent: %s\n", buf);
	}
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
	va_start(ap, format);
	vsnprintf(buf, sizeof(buf), format, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

void notify_ready(void)
{
	if (getenv("NOTIFY_SOCKET"))
		sd_notify(0, "READY=1");
}
