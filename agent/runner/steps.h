/* SPDX-License-Identifier: MIT */
/*
 * steps.h (runner): the step table: every step vagent has, in the order a boot runs them, with
 * its stage (the unit that runs it), its flags (steps/step.h) and its MESSAGE_ID. Adding a duty
 * is adding a row here and a step_fn in agent/steps/ (doc/steps.md).
 */
#pragma once

#include <stddef.h>

#include "steps/step.h"

struct step {
	const char *name;       /* as in `vagent status` and the report */
	step_fn run;
	enum step_stage stage;
	unsigned flags;         /* STEP_* of steps/step.h */
	const char *message_id; /* of its outcome line in the journal */
};

/* The table, in run order. */
const struct step *step_table(size_t *ret_n);
/* The step named NAME, NULL when there is none. */
const struct step *step_find(const char *name);
/* Its position in the table (report order); the table size for an unknown name. */
size_t step_index(const char *name);

/* "boot" "storage" "userdata" "shutdown", and back (-EINVAL for an unknown name). */
const char *stage_to_string(enum step_stage s);
int stage_from_string(const char *s);
/* The unit that runs stage S on a booting VM ("vagent.service"). */
const char *stage_unit(enum step_stage s);
/* The file whose absence keeps that unit from running at all (its ConditionPathExists=), or
 * NULL: without it nothing waits for the unit. */
const char *stage_condition(enum step_stage s);
