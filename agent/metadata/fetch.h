/* SPDX-License-Identifier: MIT */
/*
 * fetch.h: getting the instance's metadata for a run: fetch v1.json (and the user data when the
 * document does not carry it) from the service within the configured deadline, validate it,
 * cache it, or fall back to the cache (degraded mode), or to nothing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "metadata/metadata.h"

enum metadata_source {
	SOURCE_NONE,
	SOURCE_SERVICE,
	SOURCE_CACHE,
};

struct fetched {
	enum metadata_source source;
	struct metadata *md;   /* NULL with SOURCE_NONE */
	char *doc;             /* the raw document (secret: never log) */
	size_t doc_len;
	bool user_data_known;  /* false when the user data could not be fetched */
	char *user_data;       /* NULL: none (secret) */
	size_t user_data_len;
	char *error;           /* why the service was not used (one line, secret-free) */
	bool invalid;          /* the service answered 200 with a document that does not parse */
	char *user_data_error; /* why the user data could not be fetched (secret-free) */
};

const char *metadata_source_to_string(enum metadata_source s);
void fetched_done(struct fetched *f);

/*
 * Fill F. With FROM_SERVICE, ask the service first (cache the good document unless DRY_RUN);
 * on failure, or without FROM_SERVICE, use the cache. The service gets the configured deadline;
 * when there is no cached document and it keeps answering 429/503, busy-deadline. Returns 0 when
 * some document was found, -ENODATA when neither the service nor the cache gave one (F->error
 * says why), other negative errno on local failures.
 */
int metadata_acquire(const char *root, const struct config *cfg, bool from_service, bool dry_run,
		     struct fetched *f);

/*
 * The service part alone, with the caller's absolute (now_usec()) DEADLINE and BUSY_DEADLINE
 * (see struct http_options; DEADLINE 0: one try of each request), for a caller that keeps
 * trying on its own schedule; MAX_REFUSED (0: none) ends the document's tries after that many
 * refused connections in a row (http_options.max_refused). F must be zeroed. 0: F holds the service's document (cached
 * unless DRY_RUN) and the user data; <0: F->error says why (F may hold a document that failed
 * later: fetched_done() it). Nothing falls back to the cache here.
 */
int metadata_from_service(const char *root, const struct config *cfg, bool dry_run,
			  uint64_t deadline, uint64_t busy_deadline, unsigned max_refused,
			  struct fetched *f);

/*
 * The late path (`vagent late`, vagent-late.service): ask the service until it answers with a
 * valid document, one request at a time, with no deadline: capped exponential backoff with full
 * jitter between tries (late-backoff-initial doubling up to late-backoff-max), a Retry-After
 * taken as a floor (http_backoff_wait()); final answers that are no document (a 404, a broken
 * body) are waited on the same way, never retried in a tight loop. One info line per failed
 * try with the next wait. MAX_TRIES 0: no limit, else -ETIMEDOUT after that many. *RET_TRIES
 * (may be NULL): the document requests made. 0: F as for metadata_from_service().
 */
int metadata_late(const char *root, const struct config *cfg, bool dry_run, unsigned max_tries,
		  unsigned *ret_tries, struct fetched *f);
