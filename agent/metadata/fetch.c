/* SPDX-License-Identifier: MIT */
/*
 * fetch.c: one place that decides where this run's metadata comes from, and how long to wait
 * for it. The service is asked for URL/v1.json within the overall deadline (http.c retries);
 * with no cached document (a first boot, as far as anyone can tell) and a service that keeps
 * answering 429/503, it keeps asking up to busy-deadline, since giving up then means an instance
 * without its keys. A document that parses is cached atomically (0600) and used. The user data
 * comes from the document's "user-data" string, else from URL/latest/user-data (404 or empty:
 * none): a healthy boot whose document carries it is one request. When the service cannot be
 * reached, or its answer is malformed, the cached document is used (degraded mode: the
 * callers then keep hostname and keys as they are); with no cache the run goes on without.
 * Nothing from the bodies is ever logged: only sizes, field names and reasons.
 */
#include <limits.h>

#include "metadata/fetch.h"
#include "metadata/http.h"
#include "metadata/json.h"
#include "base/log.h"
#include "base/state.h"
#include "base/util.h"

const char *metadata_source_to_string(enum metadata_source s)
{
	switch (s) {
	case SOURCE_SERVICE:
		return "service";
	case SOURCE_CACHE:
		return "cache";
	default:
		return "none";
	}
}

void fetched_done(struct fetched *f)
{
	if (f->md)
		metadata_free(f->md);
	free(f->doc);
	free(f->user_data);
	free(f->error);
	free(f->user_data_error);
	*f = (struct fetched){};
}

static void set_error(struct fetched *f, const char *fmt, ...) _printf_(2, 3);
static void set_error(struct fetched *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) message_setv(&f->error, 0, fmt, ap);
	va_end(ap);
}

static int take_user_data_from_document(struct fetched *f)
{
	if (!f->md->has_user_data)
		return 0;
	f->user_data = malloc(f->md->user_data_len + 1);
	if (!f->user_data)
		return -ENOMEM;
	memcpy(f->user_data, f->md->user_data, f->md->user_data_len);
	f->user_data[f->md->user_data_len] = 0;
	f->user_data_len = f->md->user_data_len;
	f->user_data_known = true;
	return 1;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* With a cache to fall back on, the boot's first try ends after this many refused connections
 * in a row (the host answered: nothing listens), well before cache-deadline. */
#define CACHE_REFUSED_TRIES 3U

static void http_options_from_config(const struct config *cfg, uint64_t deadline,
				     uint64_t busy_deadline, size_t max, struct http_options *o)
{
	*o = (struct http_options){
		.connect_timeout_usec = cfg->connect_timeout_usec,
		.request_timeout_usec = cfg->request_timeout_usec,
		.backoff_initial_usec = cfg->backoff_initial_usec,
		.backoff_max_usec = cfg->backoff_max_usec,
		.deadline_usec = deadline,
		.busy_deadline_usec = busy_deadline,
		.max_size = max,
		.headers = cfg->metadata_headers,
	};
}

/* The tail of a good answer: F takes MD and BODY, the document is cached (unless DRY_RUN), the
 * user data comes from it or from URL/latest/user-data within DEADLINE (or one full try). */
static int take_service_document(const char *root, const struct config *cfg, bool dry_run,
				 uint64_t deadline, uint64_t busy_deadline, struct metadata *md,
				 char **body, size_t len, struct fetched *f)
{
	_cleanup_free_ char *url = NULL, *ud = NULL;
	struct http_options o;
	long status = 0;
	int r;

	f->md = md;
	f->doc = TAKE_PTR(*body);
	f->doc_len = len;
	f->source = SOURCE_SERVICE;
	log_debug("Fetched '%s/v1.json' (%zu bytes, instance '%s').", cfg->metadata_url, len,
		  md->instance_id);

	if (!dry_run) {
		r = state_cache_write(root, f->doc, f->doc_len);
		if (r < 0)
			log_warning_errno(r, "Failed to cache the document in '%s': %m, ignoring.",
					  STATE_CACHE);
	}

	r = take_user_data_from_document(f);
	if (r != 0)
		return r < 0 ? r : 0;

	/* The document has no user data: ask the user-data endpoint within what is left, or one
	 * full try when the document came late (past the deadline, the service being busy). */
	url = path_join(cfg->metadata_url, "latest/user-data");
	if (!url)
		return -ENOMEM;
	deadline = max_u64(deadline, now_usec() + cfg->connect_timeout_usec + cfg->request_timeout_usec);
	http_options_from_config(cfg, deadline, busy_deadline, cfg->max_userdata_size, &o);
	r = http_get(url, &o, &status, &ud, &len);
	if (r < 0) {
		log_warning_errno(r, "Failed to fetch '%s': %m; user data unknown for this run.",
				  url);
		if (asprintf(&f->user_data_error, "'%s': %s", url,
			     r == -EFBIG ? "larger than max-userdata-size" : strerror(-r)) < 0)
			f->user_data_error = NULL;
		return 0;
	}
	f->user_data_known = true;
	if (status == 404 || len == 0)
		return 0;
	if (status != 200) {
		f->user_data_known = false;
		log_warning("Fetching '%s' gave HTTP status %ld; user data unknown for this run.",
			    url, status);
		if (asprintf(&f->user_data_error, "'%s': HTTP status %ld", url, status) < 0)
			f->user_data_error = NULL;
		return 0;
	}
	f->user_data = TAKE_PTR(ud);
	f->user_data_len = len;
	return 0;
}

int metadata_from_service(const char *root, const struct config *cfg, bool dry_run,
			  uint64_t deadline, uint64_t busy_deadline, unsigned max_refused,
			  struct fetched *f)
{
	_cleanup_free_ char *url = NULL, *body = NULL, *perr = NULL;
	struct http_options o;
	struct metadata *md = NULL;
	size_t len = 0;
	long status = 0;
	int r;

	url = path_join(cfg->metadata_url, "v1.json");
	if (!url)
		return -ENOMEM;
	http_options_from_config(cfg, deadline, busy_deadline, cfg->max_document_size, &o);
	o.max_refused = max_refused;
	r = http_get(url, &o, &status, &body, &len);
	if (r < 0) {
		f->invalid = r == -EFBIG; /* it answered, with more than max-document-size */
		set_error(f, "'%s': %s", url,
			  r == -EFBIG ? "larger than max-document-size" : strerror(-r));
		return r;
	}
	if (status != 200) {
		set_error(f, "'%s': HTTP status %ld", url, status);
		return -EPROTO;
	}
	r = metadata_parse(body, len, &md, &perr);
	if (r < 0) {
		f->invalid = r != -ENOMEM;
		set_error(f, "'%s': %s", url, perr ? perr : strerror(-r));
		return r;
	}
	return take_service_document(root, cfg, dry_run, deadline, busy_deadline, md, &body, len, f);
}

int metadata_late(const char *root, const struct config *cfg, bool dry_run, unsigned max_tries,
		  unsigned *ret_tries, struct fetched *f)
{
	_cleanup_free_ char *url = path_join(cfg->metadata_url, "v1.json");
	struct http_backoff b = {};
	struct http_options o;
	unsigned tries = 0;
	int r;

	if (!url)
		return -ENOMEM;
	for (;;) {
		_cleanup_free_ char *body = NULL, *perr = NULL;
		struct metadata *md = NULL;
		uint64_t wait = 0;
		size_t len = 0;
		long status = 0;

		/* No deadline: each try has its own timeouts; the backoff is the late one. */
		http_options_from_config(cfg, 0, 0, cfg->max_document_size, &o);
		o.backoff_initial_usec = cfg->late_backoff_initial_usec;
		o.backoff_max_usec = cfg->late_backoff_max_usec;
		r = http_get_once(url, &o, &b, &wait, &status, &body, &len);
		tries++;
		if (r == -ENOMEM || r == -EINVAL)
			break;
		if (r == 0 && status != 200) {
			snprintf(b.reason, sizeof(b.reason), "HTTP status %ld", status);
			r = -EPROTO;
		}
		if (r == 0) {
			r = metadata_parse(body, len, &md, &perr);
			if (r == -ENOMEM)
				break;
			if (r >= 0) {
				r = take_service_document(root, cfg, dry_run,
							  now_usec() + cfg->deadline_usec, 0, md,
							  &body, len, f);
				break;
			}
			snprintf(b.reason, sizeof(b.reason), "%s", perr ? perr : "not a valid document");
		}
		if (r != -EAGAIN) {
			/* A final answer that is not a document (a 404, a broken body): the service
			 * may be half up; later, with the same backoff, never in a tight loop. */
			if (b.failures < UINT_MAX)
				b.failures++;
			b.retry_after_usec = 0;
			wait = http_backoff_wait(&o, &b);
		}
		set_error(f, "'%s': %s", url, b.reason[0] ? b.reason : strerror(-r));
		if (max_tries > 0 && tries >= max_tries) {
			r = -ETIMEDOUT;
			break;
		}
		log_info("Metadata still unavailable ('%s': %s, %u tries); next try in %.1f s.", url,
			 b.reason[0] ? b.reason : strerror(-r), tries, (double)wait / 1e6);
		http_sleep(wait);
	}
	if (ret_tries)
		*ret_tries = tries;
	return r;
}

static int from_cache(const char *root, const struct config *cfg, struct fetched *f)
{
	_cleanup_free_ char *buf = NULL, *perr = NULL;
	struct metadata *md = NULL;
	size_t len;
	int r;

	r = state_cache_read(root, cfg->max_document_size, &buf, &len);
	if (r < 0)
		return r;
	r = metadata_parse(buf, len, &md, &perr);
	if (r < 0)
		return log_error_errno(r, "The cached document '%s' is not valid (%s), ignoring it.",
				       STATE_CACHE, perr ? perr : "parse error");
	f->md = md;
	f->doc = TAKE_PTR(buf);
	f->doc_len = len;
	f->source = SOURCE_CACHE;
	r = take_user_data_from_document(f);
	return r < 0 ? r : 0;
}

static bool cache_exists(const char *root, const struct config *cfg)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	/* Whether it parses is found out when it is needed; a broken one is reported then. */
	return state_cache_read(root, cfg->max_document_size, &buf, &len) >= 0;
}

int metadata_acquire(const char *root, const struct config *cfg, bool service, bool dry_run,
		     struct fetched *f)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	int r;

	*f = (struct fetched){};

	if (service) {
		uint64_t now = now_usec(), deadline, busy;
		unsigned max_refused = 0;

		/* No cache: nothing to fall back on, the instance would boot without its keys: the
		 * deadline, and while the service is busy the busy deadline. With a cache, a short
		 * first try (cache-deadline, or a few refused connections in a row), then the
		 * cache, and the late path reconciles. */
		if (!cache_exists(root, cfg)) {
			deadline = now + cfg->deadline_usec;
			busy = now + max_u64(cfg->deadline_usec, cfg->busy_deadline_usec);
		} else {
			busy = deadline = now + min_u64(cfg->deadline_usec, cfg->cache_deadline_usec);
			max_refused = CACHE_REFUSED_TRIES;
		}
		r = metadata_from_service(root, cfg, dry_run, deadline, busy, max_refused, f);
		if (r == -ENOMEM)
			return r;
		if (r >= 0)
			return 0;
		/* Keep what the service gave us out of the way of the cache. */
		if (f->md)
			metadata_free(f->md);
		f->md = NULL;
		free(f->doc);
		f->doc = NULL;
	}

	r = from_cache(root, cfg, f);
	if (r >= 0) {
		if (service)
			log_full_id(LOG_WARNING, MSGID_METADATA_DEGRADED,
				    "%s (%s); using the cached document of instance '%s': hostname "
				    "and keys stay as they are.",
				    f->invalid ? "The metadata service's document is invalid"
					       : "Metadata service unavailable",
				    f->error ? f->error : "unknown error", f->md->instance_id);
		return 0;
	}
	if (r != -ENOENT && r != -EBADMSG)
		log_warning_errno(r, "Failed to read the cached document '%s': %m, ignoring.",
				  STATE_CACHE);
	if (!f->error)
		set_error(f, "no cached document");
	f->source = SOURCE_NONE;
	return -ENODATA;
}
