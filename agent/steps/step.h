/* SPDX-License-Identifier: MIT */
/*
 * step.h: what a step is (the contract of doc/steps.md). Every duty vagent performs is one
 * function of type step_fn, listed once in the step table (runner/steps.c) with its stage and
 * flags, and run only by the runner (runner/runner.c). The runner alone applies the opt-out and
 * the platform check, takes the run or storage lock, skips steps whose flags are not met,
 * times each step, logs exactly one line for it (with the step's MESSAGE_ID), tells systemd
 * (STATUS=), and merges the outcome into the boot report that `vagent status` shows.
 *
 * A step sets its outcome with step_set() (or step_fail()) and never logs the outcome itself.
 * It may log what the outcome line cannot carry (one warning per refused key, say), once each.
 * It honours ctx->dry_run in one place: everything but the write, plan lines to ctx->plan.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "base/config.h"
#include "base/macro.h"
#include "base/report.h"

struct fetched;
struct metadata;
struct cc_doc;

/* Where a step runs: each stage is one unit of a booting VM (see the table in runner/steps.c). */
enum step_stage {
	/* vagent-early.service: `vagent boot --stage=early`, before systemd-networkd, from the
	 * cached document only (never the service: there is no network yet) */
	STAGE_EARLY,
	/* vagent-keygen.service: `vagent boot --stage=keygen`, early in the boot, beside
	 * everything (no lock, no metadata): spare host keys for the host-keys steps to take */
	STAGE_KEYGEN,
	STAGE_BOOT,     /* vagent.service: `vagent boot --stage=boot`, before ssh and logins */
	STAGE_STORAGE,  /* vagent-storage.service: `vagent mount`, beside vagent.service */
	STAGE_USERDATA, /* vagent-userdata.service: `vagent userdata`, after both */
	/* vagent-hostkeys.service: `vagent boot --stage=after-ssh`, after ssh.service, only when
	 * the boot stage left a host key to it (/run/vagent/host-keys-after-ssh) */
	STAGE_AFTER_SSH,
	STAGE_SHUTDOWN, /* vagent-storage.service's ExecStop: `vagent umount` */
	_STAGE_MAX,
};

#define STAGE_MASK(s) (1U << (s))

/* Step flags: conditions the runner checks before calling the step. */
enum {
	/* Needs a metadata document (fetched or cached): skipped "no metadata" without one. */
	STEP_NEEDS_METADATA = 1 << 0,
	/* Needs the document from the service this run: skipped in degraded mode (cache only). */
	STEP_NEEDS_SERVICE = 1 << 1,
	/* Once per instance: after it succeeded (changed or unchanged) for an instance the runner
	 * stamps it (instances/<id>/step.<name>) and later runs skip it "already done for this
	 * instance". Steps with their own resume rules (user data) do not set this. */
	STEP_PER_INSTANCE = 1 << 2,
	/* Runs under the storage lock, beside a boot, instead of under the run lock. */
	STEP_STORAGE_LOCK = 1 << 3,
	/* About the whole system, not one disk: not run (nor recorded) when the command line
	 * names devices (`vagent mount DEV`, the hotplug unit). */
	STEP_NO_DEVICES = 1 << 4,
	/* Once per boot (bootcmd): the late path (`vagent late`) skips it when it already ran this
	 * boot (from the cache), runs it when it was skipped for want of a document. */
	STEP_ONCE_PER_BOOT = 1 << 5,
	/* Works on /etc/ssh's host keys: runs under RUN_HOSTKEYS_LOCK (base/state.h), taken for
	 * the step alone, so that the host-keys step of one run and the after-ssh stage of
	 * another never make keys at the same time. */
	STEP_HOSTKEYS_LOCK = 1 << 6,
	/* Needs no run lock (the after-ssh stage: RSA keygen takes seconds, and the user-data
	 * unit, which runs beside it, must not wait for it); with STEP_HOSTKEYS_LOCK. */
	STEP_NO_RUN_LOCK = 1 << 7,
	/* The document from the cache or none, never from the service (network-early: before
	 * the network exists, a fetch could only wait out its deadline). */
	STEP_CACHE_ONLY = 1 << 8,
};

/* What a step ended with. The runner fills RESULT from the return value when the step did not
 * call step_set()/step_fail(). */
struct step_outcome {
	enum step_result result;
	char *message; /* one line, secret-free (the runner logs it and puts it in the report) */
};

/* What a step may read (and, for the report, add to). Owned by the runner. */
struct step_context {
	/* the invocation */
	const char *root;             /* --root, or NULL for the running system */
	const struct config *cfg;
	bool dry_run;
	FILE *plan;                   /* dry run: plan lines go here (NULL: nowhere) */
	char *const *devices;         /* devices named on the command line, NULL: discover */
	unsigned stages;              /* STAGE_MASK()s of this run's stages (0: one step by
				       * name): a step may leave work to a later stage's unit */

	/* this run's metadata: filled by the metadata step, or by the runner from the cache for
	 * a stage that does not fetch (storage, user data) */
	struct fetched *fetched;      /* never NULL while a step runs */
	const struct metadata *md;    /* NULL: no document this run */
	const char *instance_id;      /* NULL: no document this run */
	bool first_boot;              /* the instance's first boot (never with a cached document) */
	bool degraded;                /* the document came from the cache */
	bool late;                    /* the late path: the runner waited for the service's
				       * document (in fetched) before taking the run lock */

	struct boot_report *report;   /* steps may add volumes */

	/* values computed once per run, on demand (see the accessors in the steps' headers) */
	struct cc_doc *userdata_doc;  /* steps/userdata.h: userdata_doc() */
	bool userdata_doc_ready;
};

typedef int (*step_fn)(struct step_context *ctx, struct step_outcome *out);

/*
 * Set the outcome to RESULT with a formatted one-line message. Returns 0, or -ENOMEM (then the
 * message is lost and the runner reports the step as failed).
 */
int step_set(struct step_outcome *out, enum step_result result, const char *format, ...)
	_printf_(3, 4);

/*
 * The step failed: the outcome is "failed" with the formatted message ("%m" is ERROR's text).
 * Returns ERROR (negative), so a step can end with `return step_fail(out, r, "...: %m");`.
 */
int step_fail(struct step_outcome *out, int error, const char *format, ...) _printf_(3, 4);

void step_outcome_done(struct step_outcome *out);
