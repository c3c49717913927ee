/* SPDX-License-Identifier: MIT */
/*
 * http.c: the only libcurl user. http_get() fetches a URL from the metadata service under
 * strict bounds: http/https only, no proxy from the environment, no redirects, no ~/.netrc, a
 * body cap checked against Content-Length and again while receiving, per-try connect and
 * transfer timeouts clipped to an overall deadline, a low-speed cut for trickling servers, and
 * retries (connection errors, timeouts, broken responses, 429, 5xx), one at a time, with capped
 * exponential backoff and full jitter, or the server's Retry-After plus a growing random spread
 * (a fleet boots at once: see bench/storm). While the answers are 429/503 it may go on up to a
 * longer busy deadline. http_get_once() is one try and the wait that should follow. What the
 * body means is the caller's business; it is never logged.
 *
 * libcurl.so.4 (and the ~30 libraries it pulls in: TLS, Kerberos, LDAP, ...) is loaded at the
 * first fetch (base/dlopen.h), so the units that never fetch (vagent-storage, the hotplug unit,
 * `vagent umount`) never map it. Every call goes through the table below; curl's type-checking
 * macros are off because they would rewrite those calls (the option types are checked here by
 * hand: long, char *, curl_off_t, callbacks).
 */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "metadata/http.h"
#include "metadata/route.h"
#include "base/dlopen.h"
#include "base/log.h"
#include "base/macro.h"
#include "base/util.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC  UINT64_C(1000000)

/* A retry is only worth it when at least this much time is left for the try itself. */
#define HTTP_MIN_TRY_USEC (100 * USEC_PER_MSEC)
/* A transfer slower than this many bytes per second for the low-speed time is cut. */
#define HTTP_LOW_SPEED_LIMIT 1024L

struct transfer {
	CURL *curl;
	size_t max_size;
	char *buf;
	size_t len;
	size_t allocated;
	/* Final status of this try, 0 until its headers ended. */
	long status;
	/* From this response's Retry-After, 0 when none. */
	uint64_t retry_after_usec;
	/* Content-Length or the received body went over max_size. */
	bool too_big;
	/* The status is not one whose body we keep: stopped after the headers. */
	bool not_wanted;
	bool oom;
};

static struct {
	typeof(curl_global_init) *curl_global_init;
	typeof(curl_global_cleanup) *curl_global_cleanup;
	typeof(curl_easy_init) *curl_easy_init;
	typeof(curl_easy_setopt) *curl_easy_setopt;
	typeof(curl_easy_perform) *curl_easy_perform;
	typeof(curl_easy_getinfo) *curl_easy_getinfo;
	typeof(curl_easy_cleanup) *curl_easy_cleanup;
	typeof(curl_easy_strerror) *curl_easy_strerror;
	typeof(curl_getdate) *curl_getdate;
	typeof(curl_slist_append) *curl_slist_append;
	typeof(curl_slist_free_all) *curl_slist_free_all;
} sym;
static void *libcurl;
static bool curl_ready;

static void curl_easy_cleanupp(CURL **c)
{
	if (*c)
		sym.curl_easy_cleanup(*c);
}

/* Load libcurl and initialise it, once per process, before the first handle. */
static int load_curl(void)
{
	static const struct dl_symbol syms[] = {
		DL_SYMBOL(sym, curl_global_init),
		DL_SYMBOL(sym, curl_global_cleanup),
		DL_SYMBOL(sym, curl_easy_init),
		DL_SYMBOL(sym, curl_easy_setopt),
		DL_SYMBOL(sym, curl_easy_perform),
		DL_SYMBOL(sym, curl_easy_getinfo),
		DL_SYMBOL(sym, curl_easy_cleanup),
		DL_SYMBOL(sym, curl_easy_strerror),
		DL_SYMBOL(sym, curl_getdate),
		DL_SYMBOL(sym, curl_slist_append),
		DL_SYMBOL(sym, curl_slist_free_all),
	};
	CURLcode e;
	int r;

	if (curl_ready)
		return 0;
	r = dl_load(&libcurl, "libcurl.so.4", "fetch the metadata", syms, ARRAY_SIZE(syms));
	if (r < 0)
		return r;
	e = sym.curl_global_init(CURL_GLOBAL_DEFAULT);
	if (e != CURLE_OK) {
		log_error("Failed to initialize libcurl: %s", sym.curl_easy_strerror(e));
		return -EIO;
	}
	curl_ready = true;
	return 0;
}

int http_global_init(void)
{
	return load_curl();
}

void http_global_done(void)
{
	if (curl_ready)
		sym.curl_global_cleanup();
	curl_ready = false;
}

/* xorshift64*, seeded from the kernel without ever blocking (early boot has little entropy:
 * getrandom() may not be ready, AT_RANDOM always is), and again in a forked child, which must
 * not draw the same waits as its parent. Only used for jitter. */
static uint64_t random_u64(void)
{
	static uint64_t state;
	static pid_t seeded_by;

	if (state == 0 || seeded_by != getpid()) {
		const uint64_t *at_random = (const uint64_t *)getauxval(AT_RANDOM);
		uint64_t seed = 0;
		struct timespec ts;

		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
			seed = 0;
		if (at_random) {
			uint64_t a;
			memcpy(&a, (const char *)at_random + 8, sizeof(a));
			seed ^= a;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		seed ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ now_usec() ^
			((uint64_t)getpid() << 44);
		seed ^= state * UINT64_C(0x9e3779b97f4a7c15);
		state = seed ? seed : UINT64_C(0x9e3779b97f4a7c15);
		seeded_by = getpid();
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * UINT64_C(0x2545f4914f6cdd1d);
}

/* Uniform in [0, max]. */
static uint64_t random_upto(uint64_t max)
{
	if (max == UINT64_MAX)
		return random_u64();
	return random_u64() % (max + 1);
}

/* min(cap, base * 2^n) without overflow. */
static uint64_t backoff_cap(uint64_t base, uint64_t cap, unsigned n)
{
	if (base == 0)
		return 0;
	if (n >= 63 || base > (cap >> n))
		return cap;
	return base << n;
}

void http_sleep(uint64_t usec)
{
	struct timespec ts = {
		.tv_sec = (time_t)(usec / USEC_PER_SEC),
		.tv_nsec = (long)(usec % USEC_PER_SEC) * 1000L,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* Milliseconds for curl, rounded up and never 0 (which would mean "no timeout"). */
static long usec_to_ms_ceil(uint64_t usec)
{
	uint64_t ms = (usec + USEC_PER_MSEC - 1) / USEC_PER_MSEC;

	if (ms == 0)
		ms = 1;
	if (ms > LONG_MAX)
		ms = LONG_MAX;
	return (long)ms;
}

static bool status_is_final_ok(long status)
{
	return (status >= 200 && status <= 299) || status == 404;
}

static bool status_is_retryable(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

/* "Retry-After: 120" or "Retry-After: Fri, 31 Dec 1999 23:59:59 GMT" (LINE not NUL-terminated),
 * clipped to HTTP_RETRY_AFTER_MAX_USEC. 0 when absent, unparsable or in the past. */
static uint64_t parse_retry_after(const char *line, size_t n)
{
	static const char name[] = "retry-after:";
	char value[128];
	size_t i = sizeof(name) - 1, j = 0;
	uint64_t sec = 0;

	if (n <= i || strncasecmp(line, name, i) != 0)
		return 0;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (i < n && j < sizeof(value) - 1 && line[i] != '\r' && line[i] != '\n')
		value[j++] = line[i++];
	value[j] = '\0';

	if (j > 0 && strspn(value, "0123456789") == j) {
		for (const char *p = value; *p && sec <= HTTP_RETRY_AFTER_MAX_USEC / USEC_PER_SEC;
		     p++)
			sec = sec * 10 + (uint64_t)(*p - '0');
	} else if (j > 0) {
		time_t when = sym.curl_getdate(value, NULL), now = time(NULL);

		if (when == -1 || when <= now)
			return 0;
		sec = (uint64_t)(when - now);
	}
	if (sec >= HTTP_RETRY_AFTER_MAX_USEC / USEC_PER_SEC)
		return HTTP_RETRY_AFTER_MAX_USEC;
	return sec * USEC_PER_SEC;
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	size_t n = size * nmemb;
	curl_off_t length = -1;
	long status = 0;

	if (n == 0)
		return n;
	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* A status line: a new response (after a 1xx) starts from scratch. */
		t->retry_after_usec = 0;
		return n;
	}
	if (line[0] != '\r' && line[0] != '\n') {
		uint64_t ra = parse_retry_after(line, n);

		if (ra > 0)
			t->retry_after_usec = ra;
		return n;
	}

	/* The empty line that ends a header block. */
	if (sym.curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		return n;
	if (status >= 100 && status <= 199)
		return n; /* interim response, the real one follows */
	t->status = status;

	/* Bodies of errors and redirects are of no use: stop reading, the status says it all. */
	if (!status_is_final_ok(status)) {
		t->not_wanted = true;
		return 0;
	}

	if (sym.curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) != CURLE_OK)
		length = -1;
	if (length >= 0 && (uint64_t)length > t->max_size) {
		t->too_big = true;
		return 0;
	}
	if (length > 0 && (size_t)length + 1 > t->allocated) {
		char *p = realloc(t->buf, (size_t)length + 1);
		if (!p) {
			t->oom = true;
			return 0;
		}
		t->buf = p;
		t->allocated = (size_t)length + 1;
	}
	return n;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct transfer *t = userdata;
	size_t n = size * nmemb;

	if (t->not_wanted)
		return 0;
	if (n > t->max_size - t->len) {
		t->too_big = true;
		return 0;
	}
	if (t->len + n + 1 > t->allocated) {
		size_t want = t->allocated < 4096 ? 4096 : t->allocated * 2;
		char *p;

		if (want < t->len + n + 1)
			want = t->len + n + 1;
		if (want > t->max_size + 1)
			want = t->max_size + 1;
		p = realloc(t->buf, want);
		if (!p) {
			t->oom = true;
			return 0;
		}
		t->buf = p;
		t->allocated = want;
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	return n;
}

static int setup_handle(CURL *c, struct transfer *t, char *errbuf, const char *url)
{
	bool bad = false;

	bad |= sym.curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
	bad |= sym.curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
	bad |= sym.curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
	       CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
				(long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK;
#endif
	bad |= sym.curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L) != CURLE_OK;
	/* The metadata service is link-local: never ask a proxy, whatever http_proxy says. */
	bad |= sym.curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_NOPROXY, "*") != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_USERAGENT, "vagent/" PACKAGE_VERSION) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_HEADERDATA, t) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_WRITEDATA, t) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, HTTP_LOW_SPEED_LIMIT) != CURLE_OK;

	return bad ? -EIO : 0;
}

static int set_try_timeouts(CURL *c, const struct http_options *o, uint64_t remaining)
{
	uint64_t connect = MIN(o->connect_timeout_usec, remaining);
	uint64_t total = MIN(o->request_timeout_usec, remaining);
	/* Cut a trickle after half the request timeout (at least 1 s) below the limit. */
	long low_speed_time = (long)(o->request_timeout_usec / 2 / USEC_PER_SEC);
	bool bad = false;

	if (low_speed_time < 1)
		low_speed_time = 1;
	bad |= sym.curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, usec_to_ms_ceil(connect)) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, usec_to_ms_ceil(total)) != CURLE_OK;
	bad |= sym.curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, low_speed_time) != CURLE_OK;
	return bad ? -EIO : 0;
}

enum try_outcome {
	TRY_DONE,
	TRY_RETRY,
	TRY_FAIL,
};

/*
 * Classify one finished try. *ret_error is the errno of this try's failure; REASON (size
 * REASON_SIZE) gets a short secret-free description for the logs.
 */
static enum try_outcome classify(const struct transfer *t, CURLcode code, const char *errbuf,
				 int *ret_error, char *reason, size_t reason_size)
{
	long os_errno = 0;

	*ret_error = 0;
	if (t->oom) {
		snprintf(reason, reason_size, "out of memory");
		*ret_error = -ENOMEM;
		return TRY_FAIL;
	}
	if (t->too_big) {
		snprintf(reason, reason_size, "body larger than %zu bytes", t->max_size);
		*ret_error = -EFBIG;
		return TRY_FAIL;
	}
	if (t->status != 0 && (code == CURLE_OK || t->not_wanted)) {
		snprintf(reason, reason_size, "HTTP %ld", t->status);
		if (code == CURLE_OK && status_is_final_ok(t->status))
			return TRY_DONE;
		if (status_is_retryable(t->status)) {
			*ret_error = -ETIMEDOUT;
			return TRY_RETRY;
		}
		if (t->status >= 300 && t->status <= 399)
			snprintf(reason, reason_size, "HTTP %ld, redirect not followed", t->status);
		*ret_error = -EPROTO;
		return TRY_FAIL;
	}

	snprintf(reason, reason_size, "%s", errbuf[0] ? errbuf : sym.curl_easy_strerror(code));
	switch (code) {
	case CURLE_OK:
		/* A transfer without a status line (HTTP/0.9 is refused by curl anyway). */
		snprintf(reason, reason_size, "no HTTP status");
		*ret_error = -EPROTO;
		return TRY_FAIL;
	case CURLE_COULDNT_CONNECT:
		if (sym.curl_easy_getinfo(t->curl, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK ||
		    os_errno <= 0)
			os_errno = ECONNREFUSED;
		*ret_error = -(int)os_errno;
		return TRY_RETRY;
	case CURLE_COULDNT_RESOLVE_HOST:
		*ret_error = -EHOSTUNREACH;
		return TRY_RETRY;
	case CURLE_OPERATION_TIMEDOUT:
		*ret_error = -ETIMEDOUT;
		return TRY_RETRY;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		*ret_error = -EPROTO;
		return TRY_RETRY;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		*ret_error = -EINVAL;
		return TRY_FAIL;
	case CURLE_OUT_OF_MEMORY:
		*ret_error = -ENOMEM;
		return TRY_FAIL;
	default:
		*ret_error = -EPROTO;
		return TRY_FAIL;
	}
}

static bool url_ok(const char *url)
{
	return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

static int refuse_url(const char *url)
{
	return log_error_errno(-EINVAL,
			       "Refusing to fetch '%s': only http:// and https:// URLs are supported.",
			       url ? url : "(null)");
}

/* O with its zeros replaced by the defaults (O NULL: all defaults, deadline from START). */
static struct http_options options_fill(const struct http_options *options, uint64_t start)
{
	struct http_options o = {};

	if (options)
		o = *options;
	else
		o.deadline_usec = start + HTTP_DEFAULT_DEADLINE_USEC;
	if (o.connect_timeout_usec == 0)
		o.connect_timeout_usec = HTTP_DEFAULT_CONNECT_TIMEOUT_USEC;
	if (o.request_timeout_usec == 0)
		o.request_timeout_usec = HTTP_DEFAULT_REQUEST_TIMEOUT_USEC;
	if (o.backoff_initial_usec == 0)
		o.backoff_initial_usec = HTTP_DEFAULT_BACKOFF_INITIAL_USEC;
	if (o.backoff_max_usec == 0)
		o.backoff_max_usec = HTTP_DEFAULT_BACKOFF_MAX_USEC;
	if (o.backoff_max_usec < o.backoff_initial_usec)
		o.backoff_max_usec = o.backoff_initial_usec;
	if (o.max_size == 0)
		o.max_size = HTTP_DEFAULT_MAX_SIZE;
	if (o.max_size >= SIZE_MAX)
		o.max_size = SIZE_MAX - 1;
	if (o.busy_deadline_usec < o.deadline_usec || o.deadline_usec == 0)
		o.busy_deadline_usec = o.deadline_usec;
	return o;
}

static void curl_slist_free_allp(struct curl_slist **l)
{
	if (*l)
		sym.curl_slist_free_all(*l);
}

/* The URL as messages show it. */
static const char *shown(const char *url, const struct http_options *o)
{
	return o && o->log_url ? o->log_url : url;
}

/* A handle for URL with O's request headers (*RET_HEADERS: kept until the handle is gone). */
static int handle_new(const char *url, const struct http_options *o, struct transfer *t,
		      char *errbuf, CURL **ret, struct curl_slist **ret_headers)
{
	_cleanup_(curl_easy_cleanupp) CURL *c = NULL;
	int r;

	r = load_curl();
	if (r < 0)
		return r;
	c = sym.curl_easy_init();
	if (!c)
		return log_error_errno(-ENOMEM, "Failed to create a curl handle for '%s'.",
				       shown(url, o));
	t->curl = c;
	r = setup_handle(c, t, errbuf, url);
	for (size_t i = 0; r >= 0 && o->headers && o->headers[i]; i++) {
		struct curl_slist *n = sym.curl_slist_append(*ret_headers, o->headers[i]);

		if (!n)
			r = -ENOMEM;
		else
			*ret_headers = n;
	}
	if (r >= 0 && *ret_headers &&
	    sym.curl_easy_setopt(c, CURLOPT_HTTPHEADER, *ret_headers) != CURLE_OK)
		r = -EIO;
	if (r < 0)
		return log_error_errno(r, "Failed to set up the curl handle for '%s'.",
				       shown(url, o));
	*ret = TAKE_PTR(c);
	return 0;
}

/* a * b, saturating. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

uint64_t http_backoff_wait(const struct http_options *options, const struct http_backoff *b)
{
	struct http_options o = options_fill(options, 0);
	unsigned n = b->failures > 0 ? b->failures : 1;

	if (b->retry_after_usec > 0) {
		uint64_t ra = b->retry_after_usec;
		uint64_t cap = MAX(mul_sat(ra, 4), mul_sat(o.backoff_max_usec, 2));

		/* The doubling starts at 2 RA: the first retry is where a fleet that was turned
		 * away together must be spread the most (bench/storm). */
		return ra + random_upto(backoff_cap(ra, cap, n));
	}
	return random_upto(backoff_cap(o.backoff_initial_usec, o.backoff_max_usec, n - 1));
}

/*
 * One try on the prepared handle C, its timeouts clipped to DEADLINE (0: none). 0 with an
 * answer, -EAGAIN with B updated, or a final error (in B too).
 */
static int try_once(CURL *c, struct transfer *t, char *errbuf, const char *url,
		    const struct http_options *o, uint64_t deadline, struct http_backoff *b,
		    long *ret_status, char **ret_body, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	uint64_t now = now_usec();
	enum try_outcome outcome;
	CURLcode code;
	int error, r;

	if (deadline != 0 && now >= deadline) {
		snprintf(b->reason, sizeof(b->reason), "deadline already passed");
		return b->error = -ETIMEDOUT;
	}
	r = set_try_timeouts(c, o, deadline != 0 ? deadline - now : UINT64_MAX);
	if (r < 0)
		return log_error_errno(r, "Failed to set the curl timeouts for '%s'.", shown(url, o));

	*t = (struct transfer){ .curl = c, .max_size = o->max_size };
	errbuf[0] = '\0';
	code = sym.curl_easy_perform(c);
	/* The callbacks owned the buffer while curl ran; now it is ours. */
	buf = TAKE_PTR(t->buf);

	outcome = classify(t, code, errbuf, &error, b->reason, sizeof(b->reason));
	if (outcome == TRY_DONE) {
		if (!buf) {
			buf = malloc(1);
			if (!buf)
				return log_error_errno(-ENOMEM, "Out of memory.");
		}
		buf[t->len] = '\0';
		b->failures = 0;
		b->busy = false;
		b->retry_after_usec = 0;
		b->error = 0;
		if (ret_status)
			*ret_status = t->status;
		if (ret_len)
			*ret_len = t->len;
		if (ret_body)
			*ret_body = TAKE_PTR(buf);
		return 0;
	}

	b->error = error;
	if (outcome == TRY_FAIL)
		return error;
	if (b->failures < UINT_MAX)
		b->failures++;
	/* 429 and 503 alike: the service is there and says "later"; a Retry-After on any 5xx is
	 * honoured, but only those two make a first boot wait longer. */
	b->busy = t->status == 429 || t->status == 503;
	b->retry_after_usec = t->status != 0 ? t->retry_after_usec : 0;
	return -EAGAIN;
}

int http_get_once(const char *url, const struct http_options *options, struct http_backoff *b,
		  uint64_t *ret_wait_usec, long *ret_status, char **ret_body, size_t *ret_len)
{
	_cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
	_cleanup_(curl_easy_cleanupp) CURL *c = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct transfer t = {};
	struct http_options o;
	int r;

	if (!url_ok(url))
		return refuse_url(shown(url, options));
	o = options_fill(options, now_usec());
	r = handle_new(url, &o, &t, errbuf, &c, &headers);
	if (r < 0)
		return r;
	r = try_once(c, &t, errbuf, url, &o, o.deadline_usec, b, ret_status, ret_body, ret_len);
	if (r == -EAGAIN && ret_wait_usec)
		*ret_wait_usec = http_backoff_wait(&o, b);
	log_debug("Fetching '%s': %s (%u failures in a row).", shown(url, &o),
		  r == 0 ? "answered" : b->reason, b->failures);
	return r;
}

int http_get(const char *url, const struct http_options *options, long *ret_status, char **ret_body,
	     size_t *ret_len)
{
	_cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
	_cleanup_(curl_easy_cleanupp) CURL *c = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct http_backoff b = {};
	struct transfer t = {};
	struct http_options o;
	struct route_target rt;
	uint64_t start = now_usec();
	bool extended = false, watch_route;
	unsigned tries = 0, refused = 0;
	int r;

	if (!url_ok(url))
		return refuse_url(shown(url, options));
	o = options_fill(options, start);
	if (o.deadline_usec != 0 && start >= o.deadline_usec)
		return log_warning_errno(-ETIMEDOUT, "Not fetching '%s': the deadline already passed.",
					 shown(url, &o));
	r = handle_new(url, &o, &t, errbuf, &c, &headers);
	if (r < 0)
		return r;
	/* A numeric host (169.254.169.254): while the kernel has no route to it, the waits end as
	 * soon as one appears (route.h). */
	watch_route = route_target_from_url(url, &rt) == 0;

	for (;;) {
		/* Past the deadline only while the service keeps saying "busy". */
		uint64_t deadline = b.busy ? o.busy_deadline_usec : o.deadline_usec;
		uint64_t wait, now;

		tries++;
		r = try_once(c, &t, errbuf, url, &o, deadline, &b, ret_status, ret_body, ret_len);
		if (r == 0) {
			log_debug("Fetched '%s': HTTP %ld, %zu bytes, %u tries.", shown(url, &o),
				  t.status, t.len, tries);
			return 0;
		}
		if (r != -EAGAIN)
			break;
		r = b.error;
		refused = r == -ECONNREFUSED ? refused + 1 : 0;
		if (o.max_refused && refused >= o.max_refused)
			break;

		/* Refused with a limit on it: the tries are about learning that nothing listens,
		 * not about sparing a loaded service, so the waits do not grow. */
		wait = o.max_refused && refused ? random_upto(o.backoff_initial_usec) :
						  http_backoff_wait(&o, &b);
		deadline = b.busy ? o.busy_deadline_usec : o.deadline_usec;
		now = now_usec();
		if (deadline == 0 || now + HTTP_MIN_TRY_USEC > deadline)
			break;
		/* A random wait that would pass the deadline is cut short to leave one last try of
		 * HTTP_MIN_TRY_USEC: the deadline is the time the caller gave, and giving up early
		 * by a random amount wastes it. Not a server's Retry-After: that is a floor. */
		if (now + wait + HTTP_MIN_TRY_USEC > deadline) {
			if (b.retry_after_usec > 0)
				break;
			wait = deadline - now - HTTP_MIN_TRY_USEC;
		}
		if (!extended && now + wait + HTTP_MIN_TRY_USEC > o.deadline_usec) {
			extended = true;
			log_notice("'%s' keeps answering '%s': it is up but busy; trying on past the "
				   "deadline, for at most %" PRIu64 " s more.",
				   shown(url, &o), b.reason,
				   (o.busy_deadline_usec - o.deadline_usec) / USEC_PER_SEC);
		}
		if (watch_route && route_check(&rt) == 0) {
			log_info("Fetching '%s' failed (%s), retrying in %" PRIu64 " ms or once there "
				 "is a route to %s.", shown(url, &o), b.reason, wait / USEC_PER_MSEC,
				 rt.shown);
			if (route_sleep(&rt, wait))
				log_info("A route to %s appeared: retrying now.", rt.shown);
			continue;
		}
		log_info("Fetching '%s' failed (%s), retrying in %" PRIu64 " ms.", shown(url, &o),
			 b.reason, wait / USEC_PER_MSEC);
		http_sleep(wait);
	}

	return log_warning_errno(r, "Failed to fetch '%s' (%u %s in %" PRIu64 " ms, last: %s): %m",
				 shown(url, &o), tries, tries == 1 ? "try" : "tries",
				 (now_usec() - start) / USEC_PER_MSEC, b.reason);
}
