/* SPDX-License-Identifier: MIT */
/*
 * step.c: setting a step's outcome (step.h). The one way a step hands its result and its
 * message to the runner.
 */
#include <stdarg.h>

#include "base/util.h"
#include "steps/step.h"

/* Messages carry input (key names, part types, paths): no control character reaches the
 * journal, a terminal or the status file raw. */
static int escape_message(struct step_outcome *out)
{
	char *e;

	if (!out->message || !string_has_control(out->message, strlen(out->message), false))
		return 0;
	e = escape_controls_dup(out->message);
	if (!e)
		return -ENOMEM;
	free(out->message);
	out->message = e;
	return 0;
}

int step_set(struct step_outcome *out, enum step_result result, const char *format, ...)
{
	va_list ap;
	int r;

	out->result = result;
	va_start(ap, format);
	r = message_setv(&out->message, 0, format, ap);
	va_end(ap);
	if (r >= 0)
		r = escape_message(out);
	if (r < 0)
		out->result = STEP_FAILED;
	return r;
}

int step_fail(struct step_outcome *out, int error, const char *format, ...)
{
	va_list ap;

	if (error >= 0)
		error = -EIO;
	out->result = STEP_FAILED;
	va_start(ap, format);
	(void)message_setv(&out->message, error, format, ap);
	va_end(ap);
	(void)escape_message(out);
	return error;
}

void step_outcome_done(struct step_outcome *out)
{
	free(out->message);
	*out = (struct step_outcome){ .result = STEP_UNCHANGED };
}
