/* SPDX-License-Identifier: MIT */
/*
 * http.h: one bounded HTTP GET for the metadata service: http:// and https:// only, no proxy,
 * no redirects, no ~/.netrc, a body size cap, per-try connect and transfer timeouts, an overall
 * deadline (longer while the service says it is busy, if the caller wants), and retries with
 * capped exponential backoff and full jitter, Retry-After taken as a floor with a random spread
 * above it. One request at a time: a caller never has two in flight. http_get() does the whole
 * dance; http_get_once() is one try plus the wait before the next, for a caller that keeps
 * trying on its own schedule. http.c is the only libcurl user; it knows nothing about JSON or
 * what the body means.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_DEFAULT_CONNECT_TIMEOUT_USEC (UINT64_C(2) * 1000000)
#define HTTP_DEFAULT_REQUEST_TIMEOUT_USEC (UINT64_C(5) * 1000000)
#define HTTP_DEFAULT_BACKOFF_INITIAL_USEC (UINT64_C(250) * 1000)
#define HTTP_DEFAULT_BACKOFF_MAX_USEC	  (UINT64_C(4) * 1000000)
/* Relative to the call, used when the options are NULL. */
#define HTTP_DEFAULT_DEADLINE_USEC (UINT64_C(20) * 1000000)
#define HTTP_DEFAULT_MAX_SIZE	   ((size_t)1024 * 1024)

/* A Retry-After longer than this is clipped to it. */
#define HTTP_RETRY_AFTER_MAX_USEC (UINT64_C(120) * 1000000)

struct http_options {
	uint64_t connect_timeout_usec; /* per try; 0: default */
	uint64_t request_timeout_usec; /* per try, whole transfer; 0: default */
	uint64_t backoff_initial_usec; /* cap of the first retry wait; 0: default */
	uint64_t backoff_max_usec;     /* cap of the exponential backoff; 0: default */
	/* Absolute CLOCK_MONOTONIC (now_usec()) deadline for all tries; 0: one try only. */
	uint64_t deadline_usec;
	/* Absolute; while the service answers 429 or 503 (it is up, just shedding load), tries go
	 * on past deadline_usec up to this. 0, or not after deadline_usec: no extension. */
	uint64_t busy_deadline_usec;
	/* Stop after this many tries in a row whose connection was refused (the host answered,
	 * nothing listens), deadline or not, the waits between them not growing (each up to
	 * backoff_initial_usec); 0: no such limit. */
	unsigned max_refused;
	size_t max_size;	       /* body cap in bytes; 0: HTTP_DEFAULT_MAX_SIZE */
	char *const *headers;	       /* request headers "Name: value", NULL: none (not logged) */
	const char *log_url;	       /* the URL as messages show it (no query, no credentials);
					  NULL: the URL itself */
};

/*
 * What one caller remembers between tries (zero it before the first). http_get_once() updates
 * it; a caller that keeps trying for hours may keep it anywhere (plain data).
 */
struct http_backoff {
	unsigned failures;	   /* retryable failures in a row; 0 after an answer */
	bool busy;		   /* the last failure was a 429 or a 503 */
	uint64_t retry_after_usec; /* the last failure's Retry-After (clipped), 0: none */
	int error;		   /* the last failure as a negative errno, 0: none */
	char reason[256];	   /* the last failure, short and secret-free ("HTTP 503") */
};

/* libcurl is loaded (dlopen) and initialised at the first fetch, in a single-threaded process
 * (curl_global_init() is not thread-safe). http_global_init() does it now: 0, or -ENOPKG when
 * libcurl.so.4 is not installed. http_global_done() at exit undoes it if it was done. */
int http_global_init(void);
void http_global_done(void);

/*
 * GET URL. O may be NULL (the defaults above, deadline 20 s from now, no busy extension).
 *
 * Returns 0 when a final answer arrived: *ret_status is 200..299 or 404, *ret_body the body
 * (NUL-terminated, possibly empty; *ret_len excludes the NUL). Any output pointer may be NULL.
 *
 * Connection errors (refused, reset), timeouts, truncated or broken responses, 429 and 5xx are
 * retried until the deadline, or while the answers are 429/503 until busy_deadline; the waits
 * are http_backoff_wait()'s. Each try's connect and total timeouts are clipped to the deadline
 * in force; a try moving less than 1 KiB/s for half the request timeout (at least 1 s) is cut.
 * When a wait would leave less than 100 ms before the deadline, it gives up at once.
 *
 * Errors: -EINVAL bad URL or scheme other than http/https; -EFBIG body larger than max_size
 * (announced by Content-Length or found while receiving; not retried); -EPROTO 3xx (never
 * followed), other 4xx or any other final status, an unparsable response, or a broken response
 * when it was the last try's failure; -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH when the last
 * try could not connect (the connect(2) errno); -ETIMEDOUT when the deadline passed otherwise
 * (timeouts, 429, 5xx); -ENOMEM.
 *
 * Logs one info line per retry and one warning line with the reason when it gives up; never
 * the body or the headers, and the URL as O->log_url when set. Callers need not log the
 * failure again.
 */
int http_get(const char *url, const struct http_options *o, long *ret_status, char **ret_body,
	     size_t *ret_len);

/*
 * One try of GET URL, never sleeping; O as for http_get() (its deadline only clips this try's
 * timeouts; 0: no clip). Returns 0 with an answer as http_get() does (B's failures reset), the
 * same final errors, or -EAGAIN when the failure is worth another try: B records it and
 * *ret_wait_usec (may be NULL) is how long to wait first (http_backoff_wait()). Logs nothing but
 * debug lines and local failures: the caller decides what a failure means.
 */
int http_get_once(const char *url, const struct http_options *o, struct http_backoff *b,
		  uint64_t *ret_wait_usec, long *ret_status, char **ret_body, size_t *ret_len);

/*
 * The wait before the next try after B's last failure (B->failures >= 1), random:
 *  - with a Retry-After RA: RA + uniform [0, min(max(4 RA, 2 backoff_max), RA 2^n)], n = 1, 2,
 *    ... the failures in a row: RA is a floor, not a schedule, and the spread above it grows so a
 *    fleet told "2 s" neither comes back in the same millisecond nor keeps the same pace while
 *    the service stays full;
 *  - without: uniform [0, min(backoff_max, backoff_initial 2^(n-1))] (full jitter).
 * O NULL: the defaults.
 */
uint64_t http_backoff_wait(const struct http_options *o, const struct http_backoff *b);

/* Sleep USEC on CLOCK_MONOTONIC (signals do not cut it short): the waits between tries. */
void http_sleep(uint64_t usec);
