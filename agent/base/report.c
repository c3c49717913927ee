/* SPDX-License-Identifier: MIT */
/*
 * report.c: the life cycle of the report records declared in report.h: step result names,
 * appending steps, volumes and cloud-config keys to a boot report, and freeing them. Pure memory handling: no I/O,
 * no JSON (json.c converts these records to and from JSON).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/report.h"

static const char *const step_result_table[] = {
	[STEP_CHANGED] = "changed",
	[STEP_UNCHANGED] = "unchanged",
	[STEP_SKIPPED] = "skipped",
	[STEP_FAILED] = "failed",
};

const char *step_result_to_string(enum step_result r)
{
	if ((size_t)r >= ARRAY_SIZE(step_result_table))
		return NULL;
	return step_result_table[r];
}

/* Returns the enum step_result value, or -EINVAL for an unknown name. */
int step_result_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(step_result_table); i++)
		if (streq(step_result_table[i], s))
			return (int)i;
	return -EINVAL;
}

static const char *const key_status_table[] = {
	[KEY_APPLIED] = "applied",
	[KEY_PARTIAL] = "partial",
	[KEY_IGNORED] = "ignored",
	[KEY_ERROR] = "error",
};

const char *key_status_to_string(enum key_status s)
{
	if ((size_t)s >= ARRAY_SIZE(key_status_table))
		return NULL;
	return key_status_table[s];
}

int key_status_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(key_status_table); i++)
		if (streq(key_status_table[i], s))
			return (int)i;
	return -EINVAL;
}

void key_report_done(struct key_report *k)
{
	if (!k)
		return;
	free(k->key);
	free(k->reason);
	*k = (struct key_report){};
}

void boot_report_clear_keys(struct boot_report *b)
{
	for (size_t i = 0; i < b->n_keys; i++)
		key_report_done(&b->keys[i]);
	free(b->keys);
	b->keys = NULL;
	b->n_keys = 0;
}

int boot_report_add_key(struct boot_report *b, const char *key, enum key_status status,
			const char *reason)
{
	char *k = key ? strdup(key) : NULL, *m = reason ? strdup(reason) : NULL;
	struct key_report *keys;

	if ((key && !k) || (reason && !m)) {
		free(k);
		free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->n_keys; i++)
		if (key && b->keys[i].key && streq(b->keys[i].key, key)) {
			key_report_done(&b->keys[i]);
			b->keys[i] = (struct key_report){ .key = k, .status = status, .reason = m };
			return 0;
		}
	keys = reallocarray(b->keys, b->n_keys + 1, sizeof(*keys));
	if (!keys) {
		free(k);
		free(m);
		return -ENOMEM;
	}
	b->keys = keys;
	b->keys[b->n_keys++] = (struct key_report){ .key = k, .status = status, .reason = m };
	return 0;
}

void step_report_done(struct step_report *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->message);
	*s = (struct step_report){};
}

void volume_report_done(struct volume_report *v)
{
	if (!v)
		return;
	free(v->device);
	free(v->verdict);
	free(v->reason);
	free(v->action);
	free(v->mountpoint);
	free(v->uuid);
	free(v->volume_id);
	free(v->result);
	free(v->grow);
	free(v->scan.mode);
	free(v->scan.requested);
	*v = (struct volume_report){};
}

int volume_scan_copy(struct volume_scan *dst, const struct volume_scan *src)
{
	char *mode = NULL, *requested = NULL;

	if ((src->mode && !(mode = strdup(src->mode))) ||
	    (src->requested && !(requested = strdup(src->requested)))) {
		free(mode);
		return -ENOMEM;
	}
	free(dst->mode);
	free(dst->requested);
	*dst = *src;
	dst->mode = mode;
	dst->requested = requested;
	return 0;
}

void boot_report_done(struct boot_report *b)
{
	if (!b)
		return;
	free(b->instance_id);
	free(b->metadata_source);
	free(b->boot_id);
	free(b->started);
	free(b->finished);
	for (size_t i = 0; i < b->n_steps; i++)
		step_report_done(&b->steps[i]);
	free(b->steps);
	for (size_t i = 0; i < b->n_volumes; i++)
		volume_report_done(&b->volumes[i]);
	free(b->volumes);
	strv_free(b->host_keys);
	strv_free(b->stages);
	boot_report_clear_keys(b);
	*b = (struct boot_report){ .userdata_exit = -1 };
}

int boot_report_add_step(struct boot_report *b, const char *name, enum step_result result,
			 uint64_t duration_ms, const char *message)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *n = NULL, *m = NULL;
	struct step_report *steps;

	if (name) {
		n = strdup(name);
		if (!n)
			return -ENOMEM;
	}
	if (message) {
		m = strdup(message);
		if (!m)
			return -ENOMEM;
	}

	/* A step that is already there is replaced in place (a unit of its own re-ran it). */
	for (size_t i = 0; i < b->n_steps; i++)
		if (name && b->steps[i].name && streq(b->steps[i].name, name)) {
			step_report_done(&b->steps[i]);
			b->steps[i] = (struct step_report){
				.name = TAKE_PTR(n),
				.result = result,
				.duration_ms = duration_ms,
				.message = TAKE_PTR(m),
			};
			return 0;
		}

	steps = reallocarray(b->steps, b->n_steps + 1, sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	b->steps = steps;
	b->steps[b->n_steps++] = (struct step_report){
		.name = TAKE_PTR(n),
		.result = result,
		.duration_ms = duration_ms,
		.message = TAKE_PTR(m),
	};
	return 0;
}

int boot_report_add_volume(struct boot_report *b, struct volume_report *v)
{
	struct volume_report *volumes;

	/* The same device again (a later `vagent mount`) replaces its entry. */
	for (size_t i = 0; i < b->n_volumes; i++)
		if (v->device && b->volumes[i].device && streq(b->volumes[i].device, v->device)) {
			volume_report_done(&b->volumes[i]);
			b->volumes[i] = *v;
			*v = (struct volume_report){};
			return 0;
		}

	volumes = reallocarray(b->volumes, b->n_volumes + 1, sizeof(*volumes));
	if (!volumes)
		return -ENOMEM;
	b->volumes = volumes;
	b->volumes[b->n_volumes++] = *v;
	*v = (struct volume_report){};
	return 0;
}
