/* SPDX-License-Identifier: MIT */
/*
 * http.h: one bounded HTTP GET for the metadata service: http:// and https:// only, no proxy,
 * no redirects, no ~/.netrc, a body size cap, per-try connect and transfer timeouts, an overall
 * deadline, and retries with capped exponential backoff and full jitter (Retry-After honoured).
 * http.c is the only libcurl user; it knows nothing about JSON or what the body means.
 */
#pragma once

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
	size_t max_size;	       /* body cap in bytes; 0: HTTP_DEFAULT_MAX_SIZE */
};

/* Call once per process before http_get() (not thread-safe, as curl_global_init()). */
int http_global_init(void);
void http_global_done(void);

/*
 * GET URL. O may be NULL (the defaults above, deadline 20 s from now).
 *
 * Returns 0 when a final answer arrived: *ret_status is 200..299 or 404, *ret_body the body
 * (NUL-terminated, possibly empty; *ret_len excludes the NUL). Any output pointer may be NULL.
 *
 * Connection errors, timeouts, truncated or broken responses, 429 and 5xx are retried until the
 * deadline; waits are random in [0, min(backoff_max, backoff_initial * 2^n)] (full jitter), or
 * Retry-After (delta-seconds or HTTP date, clipped to HTTP_RETRY_AFTER_MAX_USEC) plus up to
 * backoff_initial when the server sent one. Each try's connect and total timeouts are clipped to
 * the deadline; a try moving less than 1 KiB/s for half the request timeout (at least 1 s) is
 * cut. When a wait would leave less than 100 ms before the deadline, it gives up at once.
 *
 * Errors: -EINVAL bad URL or scheme other than http/https; -EFBIG body larger than max_size
 * (announced by Content-Length or found while receiving; not retried); -EPROTO 3xx (never
 * followed), other 4xx or any other final status, an unparsable response, or a broken response
 * when it was the last try's failure; -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH when the last
 * try could not connect (the connect(2) errno); -ETIMEDOUT when the deadline passed otherwise
 * (timeouts, 429, 5xx); -ENOMEM.
 *
 * Logs one info line per retry and one warning line with the reason when it gives up; never
 * the body. Callers need not log the failure again.
 */
int http_get(const char *url, const struct http_options *o, long *ret_status, char **ret_body,
	     size_t *ret_len);
