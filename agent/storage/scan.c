/* SPDX-License-Identifier: MIT */
/*
 * scan.c: the zero scan behind a `blank` verdict (scan.h): the full read, the quick plan, auto's
 * choice between them from the measured rate, and progress (journal every 5 %, sd_notify
 * STATUS=, a key=value file under ROOT/run/vagent/verify/ for `vagent status`). Reads use a
 * second O_DIRECT descriptor on the same device (the caller keeps its O_EXCL claim) with
 * 4 MiB aligned requests; quick's small regions are read by a few threads at once so a
 * network volume's latency does not add up. Includes no external library.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fault.h"
#include "base/log.h"
#include "base/util.h"
#include "storage/scan.h"

#define MIB (UINT64_C(1) << 20)
#define KIB (UINT64_C(1) << 10)
/*
 * 4 MiB: the buffer is most of the storage unit's memory (cgroup memory.peak 21.4 MiB with
 * 16 MiB, 9.4 MiB with 4), and bench/vm-compare read a blank 1 GiB virtio volume just as fast
 * (3 boots each under TCG: 260-265 MB/s with 4 MiB, 245-279 MB/s with 16 MiB).
 */
#define FULL_CHUNK (4 * MIB)
#define EDGE_BYTES (8 * MIB)
#define BOUNDARY_BEFORE (8 * KIB)
#define BOUNDARY_AFTER (8 * KIB)
#define CYLINDER_BYTES (UINT64_C(255) * 63 * 512)
#define CYLINDER_READ (8 * KIB)
#define POINT_READ (4 * KIB)
#define SAMPLE_BYTES MIB
#define QUICK_THREADS 8
#define MAX_REGION (8 * MIB)
#define AUTO_MEASURE_BYTES (64 * MIB)
#define PROGRESS_USEC (1ULL * 1000000ULL)
#define PROGRESS_FILE_MAX 4096

void scan_result_done(struct scan_result *r)
{
	free(r->why);
	r->why = NULL;
}

/* ---- the zero test ---- */

/* Index of the first non-zero byte in BUF, or LEN. */
static size_t first_nonzero(const uint8_t *buf, size_t len)
{
	size_t i = 0;

	/* 64 bytes at a time with an OR reduction the compiler vectorises. */
	for (; i + 64 <= len; i += 64) {
		uint64_t acc = 0, w[8];

		memcpy(w, buf + i, 64);
		for (int k = 0; k < 8; k++)
			acc |= w[k];
		if (acc)
			break;
	}
	for (; i < len; i++)
		if (buf[i])
			return i;
	return len;
}

/* ---- the reader ---- */

struct reader {
	int fd;          /* O_DIRECT when possible */
	bool direct;
	uint32_t align;  /* offsets and lengths are multiples of this */
};

static int reader_open(int fd, uint32_t sector_size, struct reader *ret)
{
	char path[64];
	struct stat a, b;
	int d;

	ret->align = sector_size >= 512 ? sector_size : 512;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	d = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	if (d >= 0 && fstat(d, &a) == 0 && fstat(fd, &b) == 0 && S_ISBLK(a.st_mode) &&
	    a.st_rdev == b.st_rdev) {
		ret->fd = d;
		ret->direct = true;
		return 0;
	}
	if (d >= 0)
		close(d);
	/* No O_DIRECT: read through the cache and drop what we read. */
	ret->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (ret->fd < 0)
		return negative_errno();
	ret->direct = false;
	(void)posix_fadvise(ret->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

/* Read [off, off+len) fully into BUF (aligned). */
static int read_exact(const struct reader *rd, uint8_t *buf, uint64_t off, size_t len)
{
	size_t got = 0;

	if (fault_read_error(off, len))
		return -EIO;
	while (got < len) {
		ssize_t n = pread(rd->fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return -EIO; /* the device is shorter than its size said */
		got += (size_t)n;
	}
	if (!rd->direct)
		(void)posix_fadvise(rd->fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
	return 0;
}

static void record_hit(struct scan_result *r, const uint8_t *buf, size_t avail, uint64_t off)
{
	r->found = true;
	r->offset = off;
	r->n_bytes = avail < sizeof(r->bytes) ? avail : sizeof(r->bytes);
	memcpy(r->bytes, buf, r->n_bytes);
}

/* ---- progress ---- */

struct progress {
	const struct scan_options *o;
	const char *mode;
	uint64_t total, t0, last, last_pct_logged;
	bool file_written;
};

static void human_bytes(uint64_t v, char *buf, size_t n)
{
	if (v >= (UINT64_C(1) << 30))
		snprintf(buf, n, "%.1f GiB", (double)v / (double)(UINT64_C(1) << 30));
	else
		snprintf(buf, n, "%.0f MiB", (double)v / (double)MIB);
}

static void human_rate(uint64_t bps, char *buf, size_t n)
{
	if (bps >= 1000000000ULL)
		snprintf(buf, n, "%.1f GB/s", (double)bps / 1e9);
	else
		snprintf(buf, n, "%.0f MB/s", (double)bps / 1e6);
}

static void human_duration(uint64_t usec, char *buf, size_t n)
{
	uint64_t sec = usec / 1000000ULL;

	if (sec >= 3600)
		snprintf(buf, n, "%" PRIu64 " h %" PRIu64 " min", sec / 3600, sec % 3600 / 60);
	else if (sec >= 60)
		snprintf(buf, n, "%" PRIu64 " min", (sec + 30) / 60);
	else if (sec >= 10 || usec % 1000000ULL == 0)
		snprintf(buf, n, "%" PRIu64 " s", sec);
	else
		snprintf(buf, n, "%.1f s", (double)usec / 1e6);
}

char *scan_progress_format(const struct scan_progress *p)
{
	char d[32], t[32], r[32], e[32];
	unsigned pct = p->total ? (unsigned)(p->done * 100 / p->total) : 0;
	char *s;

	human_bytes(p->done, d, sizeof(d));
	human_bytes(p->total, t, sizeof(t));
	human_rate(p->rate, r, sizeof(r));
	human_duration(p->eta_sec * 1000000ULL, e, sizeof(e));
	if (asprintf(&s, "verifying %s%s: %u %% (%s of %s, %s, about %s left)", p->name,
		     p->mode && streq(p->mode, "quick") ? " (quick)" : "", pct, d, t, r, e) < 0)
		return NULL;
	return s;
}

static int progress_path(const struct scan_options *o, char **ret)
{
	return asprintf(ret, SCAN_PROGRESS_DIR "/%s", o->name) < 0 ? -ENOMEM : 0;
}

static void progress_update(struct progress *p, uint64_t done, bool force)
{
	uint64_t now = now_usec(), el = now - p->t0, rate, eta;
	struct scan_progress sp;
	_cleanup_free_ char *line = NULL;
	unsigned pct;

	if (!force && now - p->last < PROGRESS_USEC)
		return;
	p->last = now;
	rate = el > 0 ? (uint64_t)((double)done * 1e6 / (double)el) : 0;
	eta = rate > 0 && p->total > done ? (p->total - done) / rate : 0;
	sp = (struct scan_progress){ .name = (char *)p->o->name, .mode = (char *)p->mode,
				     .done = done, .total = p->total, .rate = rate,
				     .eta_sec = eta, .pid = (int)getpid() };
	line = scan_progress_format(&sp);
	if (!line)
		return;
	notify_status("%s", line);
	pct = p->total ? (unsigned)(done * 100 / p->total) : 0;
	if (pct >= p->last_pct_logged + 5) {
		log_info("%s", line);
		p->last_pct_logged = pct / 5 * 5;
	}
	if (p->o->progress_file) {
		_cleanup_free_ char *path = NULL, *text = NULL;
		int n;

		n = asprintf(&text,
			     "name=%s\nmode=%s\ndone=%" PRIu64 "\ntotal=%" PRIu64 "\nrate=%" PRIu64
			     "\neta=%" PRIu64 "\npid=%d\n",
			     p->o->name, p->mode, done, p->total, rate, eta, (int)getpid());
		if (n < 0 || progress_path(p->o, &path) < 0)
			return;
		if (write_file_atomic(p->o->root, path, text, (size_t)n, 0644) >= 0)
			p->file_written = true;
	}
}

static void progress_end(struct progress *p)
{
	_cleanup_free_ char *path = NULL, *full = NULL;

	if (!p->file_written || progress_path(p->o, &path) < 0)
		return;
	full = path_join_root(p->o->root, path);
	if (full)
		(void)unlink(full);
}

/* ---- full ---- */

/*
 * Read [from, to) in FULL_CHUNK requests, stopping at the first non-zero byte. With AUTO set,
 * stop early (returning 1) once the measured rate says the rest would not fit the budget.
 */
static int scan_range_full(const struct reader *rd, uint64_t from, uint64_t to, bool autom,
			   const struct scan_options *o, struct progress *p, uint64_t *ret_done,
			   struct scan_result *res)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t t0 = now_usec(), pos = from;

	if (posix_memalign((void **)&buf, 4096, FULL_CHUNK) != 0)
		return -ENOMEM;
	while (pos < to) {
		size_t want = (size_t)(to - pos < FULL_CHUNK ? to - pos : FULL_CHUNK);
		size_t i;
		int r;

		r = read_exact(rd, buf, pos, want);
		if (r < 0)
			return log_error_errno(r, "Failed to read '%s' at offset %" PRIu64 ": %m",
					       o->name, pos);
		res->regions++;
		res->bytes_read += want;
		i = first_nonzero(buf, want);
		if (i < want) {
			record_hit(res, buf + i, want - i, pos + i);
			*ret_done = pos + want - from;
			return 0;
		}
		pos += want;
		*ret_done = pos - from;
		progress_update(p, pos - from, false);

		if (autom) {
			uint64_t el = now_usec() - t0, done = pos - from;

			if (done >= AUTO_MEASURE_BYTES && el > 0) {
				double rate = (double)done * 1e6 / (double)el;
				double total = (double)(to - from) / rate * 1e6;

				res->rate = (uint64_t)rate;
				/* Slack of 25 % so that noise near the limit does not flip it. */
				if (total > (double)o->budget_usec * 1.25)
					return 1;
			}
		}
	}
	return 0;
}

/* ---- quick ---- */

struct plan {
	uint64_t *v; /* off, len pairs */
	size_t n, cap;
};

static int plan_add(struct plan *p, uint64_t size, uint32_t align, int64_t off, uint64_t len)
{
	uint64_t a, e;

	if (off < 0) {
		if ((uint64_t)(-off) >= len)
			return 0;
		len -= (uint64_t)(-off);
		off = 0;
	}
	if ((uint64_t)off >= size)
		return 0;
	a = (uint64_t)off / align * align;
	e = (uint64_t)off + len;
	if (e > size)
		e = size;
	e = (e + align - 1) / align * align;
	if (e > size)
		e = size; /* size is a multiple of the sector size */
	if (e <= a)
		return 0;
	if (p->n + 1 > p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 1024;
		uint64_t *nv = reallocarray(p->v, nc, 2 * sizeof(uint64_t));

		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = nc;
	}
	p->v[2 * p->n] = a;
	p->v[2 * p->n + 1] = e - a;
	p->n++;
	return 0;
}

static int pair_cmp(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* Sort and merge overlapping or touching regions; split the long ones at MAX_REGION. */
static int plan_finish(struct plan *p)
{
	struct plan out = {};
	size_t i = 0;
	int r;

	if (p->n == 0)
		return 0;
	qsort(p->v, p->n, 2 * sizeof(uint64_t), pair_cmp);
	while (i < p->n) {
		uint64_t a = p->v[2 * i], e = a + p->v[2 * i + 1];

		for (i++; i < p->n && p->v[2 * i] <= e; i++)
			if (p->v[2 * i] + p->v[2 * i + 1] > e)
				e = p->v[2 * i] + p->v[2 * i + 1];
		for (uint64_t s = a; s < e; s += MAX_REGION) {
			uint64_t l = e - s < MAX_REGION ? e - s : MAX_REGION;

			if (out.n + 1 > out.cap) {
				size_t nc = out.cap ? out.cap * 2 : 1024;
				uint64_t *nv = reallocarray(out.v, nc, 2 * sizeof(uint64_t));

				if (!nv) {
					free(out.v);
					return -ENOMEM;
				}
				out.v = nv;
				out.cap = nc;
			}
			out.v[2 * out.n] = s;
			out.v[2 * out.n + 1] = l;
			out.n++;
		}
	}
	free(p->v);
	*p = out;
	r = 0;
	return r;
}

/* mkfs.xfs's default AG size (blocks) for a single disk of DBLOCKS 4 KiB blocks: 4 AGs, at most
 * 1 TiB each; from 32 TiB on always 1 TiB. */
static uint64_t xfs_default_agblocks(uint64_t dblocks)
{
	const uint64_t max = (UINT64_C(1) << 40) / 4096;
	uint64_t b;

	if (dblocks >= 32 * ((UINT64_C(1) << 40) / 4096))
		return max;
	b = dblocks >> 2;
	if ((dblocks & 3) && b < max)
		b++;
	return b < max ? b : max;
}

/* ext4 groups holding a backup superblock with sparse_super: 1 and the powers of 3, 5, 7. */
static bool ext4_backup_group(uint64_t g)
{
	static const unsigned bases[] = { 3, 5, 7 };

	if (g == 1)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		uint64_t x = g;

		while (x > 1 && x % bases[i] == 0)
			x /= bases[i];
		if (x == 1 && g > 1)
			return true;
	}
	return false;
}

int scan_quick_plan(uint64_t size, uint32_t sector_size, uint64_t **ret_pairs, size_t *ret_n)
{
	/* Starts a filesystem is likely to have once its table is gone: the whole disk, the DOS
	 * track (63 sectors) and the usual MiB alignments; MiB-aligned ones are covered by the
	 * boundary reads already, but the XFS AG positions depend on the start. */
	static const uint64_t starts[] = { 0, 63 * 512, MIB, 2 * MIB, 4 * MIB, 8 * MIB };
	uint32_t align = sector_size >= 512 ? sector_size : 512;
	struct plan p = {};
	uint64_t n_samples, stride;
	int r = 0;

	if (size % align)
		size = size / align * align;

	/* The first and last 8 MiB: tables, whole-disk superblocks, end-of-disk metadata. */
	r = plan_add(&p, size, align, 0, EDGE_BYTES);
	if (r >= 0)
		r = plan_add(&p, size, align, (int64_t)(size > EDGE_BYTES ? size - EDGE_BYTES : 0),
			     EDGE_BYTES);

	/* 8 KiB before and after every MiB boundary: the start of anything on a MiB-aligned
	 * partition (XFS, NTFS, LUKS, md 1.1/1.2, LVM, ext4 at 1024, swap, FAT) and the end of
	 * anything that ends there (md 1.0, a backup GPT), ext4 backup superblocks and btrfs
	 * mirrors of MiB-aligned filesystems. */
	for (uint64_t k = MIB; r >= 0 && k < size; k += MIB)
		r = plan_add(&p, size, align, (int64_t)(k - BOUNDARY_BEFORE),
			     BOUNDARY_BEFORE + BOUNDARY_AFTER);

	/* Old DOS partitions start at a cylinder (255 x 63 sectors) or 63 sectors after one. */
	for (uint64_t c = CYLINDER_BYTES; r >= 0 && c < size; c += CYLINDER_BYTES) {
		r = plan_add(&p, size, align, (int64_t)c, CYLINDER_READ);
		if (r >= 0)
			r = plan_add(&p, size, align, (int64_t)(c + 63 * 512), CYLINDER_READ);
	}

	for (size_t si = 0; r >= 0 && si < ARRAY_SIZE(starts); si++) {
		uint64_t S = starts[si], F, dmin, dmax;

		if (S >= size)
			break;
		/* ext4 backup superblocks for 1, 2 and 4 KiB blocks (groups of 8, 32, 128 MiB);
		 * needed only where the start is not MiB-aligned. */
		if (S % MIB)
			for (uint64_t G = 8 * MIB; r >= 0 && G <= 128 * MIB; G *= 4)
				for (uint64_t g = 1; r >= 0 && S + g * G < size; g++)
					if (ext4_backup_group(g))
						r = plan_add(&p, size, align, (int64_t)(S + g * G),
							     POINT_READ);
		/* btrfs superblock mirrors at 64 MiB and 256 GiB into the filesystem. */
		if (r >= 0 && S % MIB)
			r = plan_add(&p, size, align, (int64_t)(S + 64 * MIB + 64 * KIB), POINT_READ);
		if (r >= 0 && S % MIB)
			r = plan_add(&p, size, align,
				     (int64_t)(S + (UINT64_C(256) << 30) + 64 * KIB), POINT_READ);
		/* XFS AG headers: the filesystem spans the rest of the disk, less up to 2 MiB and a
		 * backup GPT (partition tools align the end, or stop at the last usable sector). */
		F = size - S;
		dmax = F / 4096;
		dmin = F > 2 * MIB + 17 * KIB ? (F - 2 * MIB - 17 * KIB) / 4096 : 0;
		for (uint64_t a = 1; r >= 0 && dmin > 0; a++) {
			uint64_t lo = S + a * xfs_default_agblocks(dmin) * 4096;
			uint64_t hi = S + a * xfs_default_agblocks(dmax) * 4096;

			if (lo >= size)
				break;
			r = plan_add(&p, size, align, (int64_t)lo, hi - lo + POINT_READ);
		}
	}

	/* Evenly spread 1 MiB samples: one per GiB, at least 16, at most 4096. */
	n_samples = size / (UINT64_C(1) << 30);
	n_samples = n_samples < 16 ? 16 : n_samples > 4096 ? 4096 : n_samples;
	stride = size / n_samples;
	for (uint64_t i = 0; r >= 0 && i < n_samples && stride > SAMPLE_BYTES; i++)
		r = plan_add(&p, size, align, (int64_t)(i * stride + stride / 2), SAMPLE_BYTES);

	if (r >= 0)
		r = plan_finish(&p);
	if (r < 0) {
		free(p.v);
		return r;
	}
	*ret_pairs = p.v;
	*ret_n = p.n;
	return 0;
}

struct quick_ctx {
	const struct reader *rd;
	const uint64_t *pairs;
	size_t n;
	uint64_t base;     /* absolute offset of the range */
	uint64_t skip_to;  /* relative: everything below was read already */
	atomic_size_t next;
	atomic_bool stop;
	atomic_uint_fast64_t bytes, regions;
	pthread_mutex_t lock;
	int error;
	struct scan_result *res;
};

static void *quick_worker(void *arg)
{
	struct quick_ctx *q = arg;
	uint8_t *buf = NULL;

	if (posix_memalign((void **)&buf, 4096, MAX_REGION) != 0) {
		pthread_mutex_lock(&q->lock);
		q->error = -ENOMEM;
		pthread_mutex_unlock(&q->lock);
		atomic_store(&q->stop, true);
		return NULL;
	}
	while (!atomic_load(&q->stop)) {
		size_t i = atomic_fetch_add(&q->next, 1), z;
		uint64_t off, len;
		int r;

		if (i >= q->n)
			break;
		off = q->pairs[2 * i];
		len = q->pairs[2 * i + 1];
		if (off + len <= q->skip_to)
			continue;
		if (off < q->skip_to) {
			len -= q->skip_to - off;
			off = q->skip_to;
		}
		r = read_exact(q->rd, buf, q->base + off, (size_t)len);
		if (r < 0) {
			pthread_mutex_lock(&q->lock);
			if (!q->error)
				q->error = r;
			pthread_mutex_unlock(&q->lock);
			atomic_store(&q->stop, true);
			break;
		}
		atomic_fetch_add(&q->bytes, len);
		atomic_fetch_add(&q->regions, 1);
		z = first_nonzero(buf, (size_t)len);
		if (z < len) {
			pthread_mutex_lock(&q->lock);
			/* Keep the lowest offset found. */
			if (!q->res->found || q->base + off + z < q->res->offset)
				record_hit(q->res, buf + z, (size_t)len - z, q->base + off + z);
			pthread_mutex_unlock(&q->lock);
			atomic_store(&q->stop, true);
		}
	}
	free(buf);
	return NULL;
}

static int scan_range_quick(const struct reader *rd, uint64_t base, uint64_t size,
			    uint64_t skip_to, uint32_t sector_size, struct progress *p,
			    struct scan_result *res)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ uint64_t *pairs = NULL;
	pthread_t th[QUICK_THREADS];
	size_t n, started = 0;
	uint64_t planned = 0;
	struct quick_ctx q;
	int r;

	r = scan_quick_plan(size, sector_size, &pairs, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		planned += pairs[2 * i + 1];
	q = (struct quick_ctx){ .rd = rd, .pairs = pairs, .n = n, .base = base,
				.skip_to = skip_to, .res = res };
	atomic_init(&q.next, 0);
	atomic_init(&q.stop, false);
	atomic_init(&q.bytes, 0);
	atomic_init(&q.regions, 0);
	pthread_mutex_init(&q.lock, NULL);
	p->mode = "quick";
	p->total = planned;
	for (; started < QUICK_THREADS; started++)
		if (pthread_create(&th[started], NULL, quick_worker, &q) != 0)
			break;
	if (started == 0) {
		quick_worker(&q);
	} else {
		/* Progress from this thread while the workers read. */
		while (atomic_load(&q.next) < n && !atomic_load(&q.stop)) {
			usleep(200 * 1000);
			progress_update(p, atomic_load(&q.bytes), false);
		}
		for (size_t i = 0; i < started; i++)
			pthread_join(th[i], NULL);
	}
	pthread_mutex_destroy(&q.lock);
	res->bytes_read += atomic_load(&q.bytes);
	res->regions += atomic_load(&q.regions);
	if (q.error)
		return log_error_errno(q.error, "Failed to read '%s': %m", p->o->name);
	return 0;
}

int scan_device(int fd, uint64_t size, const struct scan_options *o, struct scan_result *ret)
{
	struct reader rd = { .fd = -1 };
	struct progress p = { .o = o };
	uint64_t from = o->start, to = o->end ? o->end : size, done = 0, t0 = now_usec();
	int r;

	*ret = (struct scan_result){};
	if (to > size || from >= to)
		return -EINVAL;
	r = reader_open(fd, o->sector_size, &rd);
	if (r < 0)
		return log_error_errno(r, "Failed to open '%s' for reading: %m", o->name);
	p.t0 = t0;
	p.total = to - from;

	if (o->mode == VERIFY_QUICK) {
		ret->quick = true;
		r = scan_range_quick(&rd, from, to - from, 0, o->sector_size, &p, ret);
	} else {
		p.mode = "full";
		r = scan_range_full(&rd, from, to, o->mode == VERIFY_AUTO, o, &p, &done, ret);
		if (r == 0 && !ret->found)
			ret->full = true;
		if (r == 1) {
			char rate[32], budget[32];
			uint64_t est = ret->rate ? (uint64_t)((double)(to - from) * 1e6 /
							      (double)ret->rate) : 0;
			char estb[32];

			human_rate(ret->rate, rate, sizeof(rate));
			human_duration(est, estb, sizeof(estb));
			human_duration(o->budget_usec, budget, sizeof(budget));
			if (asprintf(&ret->why,
				     "auto: a full read would take about %s at %s, over the %s "
				     "budget, so quick",
				     estb, rate, budget) < 0)
				ret->why = NULL;
			log_notice("'%s': %s", o->name, ret->why ? ret->why : "quick scan");
			ret->quick = true;
			r = scan_range_quick(&rd, from, to - from, done, o->sector_size, &p, ret);
		} else if (r == 0 && o->mode == VERIFY_AUTO) {
			char budget[32];

			human_duration(o->budget_usec, budget, sizeof(budget));
			if (asprintf(&ret->why, "auto: %s", ret->rate ? "a full read fits the budget" :
						 "small enough to read in full") < 0)
				ret->why = NULL;
			else if (ret->rate) {
				free(ret->why);
				if (asprintf(&ret->why, "auto: a full read fits the %s budget",
					     budget) < 0)
					ret->why = NULL;
			}
		}
	}
	ret->duration_usec = now_usec() - t0;
	if (ret->duration_usec > 0 && ret->bytes_read > 0)
		ret->rate = (uint64_t)((double)ret->bytes_read * 1e6 / (double)ret->duration_usec);
	if (r >= 0) {
		char b[32], rate[32];

		human_bytes(ret->bytes_read, b, sizeof(b));
		human_rate(ret->rate, rate, sizeof(rate));
		log_info("'%s': %s scan read %s in %.1f s (%s)%s", o->name,
			 ret->quick ? "quick" : "full", b, (double)ret->duration_usec / 1e6, rate,
			 ret->found ? ", found non-zero bytes" : ", all zero");
	}
	progress_end(&p);
	close(rd.fd);
	if (r < 0)
		scan_result_done(ret);
	return r < 0 ? r : 0;
}

char *scan_describe(const struct scan_result *r, uint64_t range_bytes)
{
	char b[32];
	char *s;
	int n;

	/* No timings here: the reason is part of the plan a dry run prints (timings are in the
	 * JSON scan object and the journal). */
	human_bytes(r->bytes_read, b, sizeof(b));
	if (r->full)
		n = asprintf(&s, "every byte read, all zero (%s)%s%s", b, r->why ? "; " : "",
			     r->why ? r->why : "");
	else
		n = asprintf(&s,
			     "quick scan: %" PRIu64 " regions, %.2f %% of the device (%s), all "
			     "zero%s%s",
			     r->regions,
			     range_bytes ? 100.0 * (double)r->bytes_read / (double)range_bytes : 0.0,
			     b, r->why ? "; " : "", r->why ? r->why : "");
	return n < 0 ? NULL : s;
}

/* ---- progress files ---- */

int scan_progress_parse(const char *text, size_t len, struct scan_progress *ret)
{
	struct scan_progress p = { .pid = 0 };
	bool have_done = false, have_total = false;

	for (size_t i = 0; i < len;) {
		const char *line = text + i, *nl = memchr(line, '\n', len - i), *eq;
		size_t l = nl ? (size_t)(nl - line) : len - i;
		_cleanup_free_ char *key = NULL, *val = NULL;
		uint64_t v = 0;

		i += l + 1;
		eq = memchr(line, '=', l);
		if (!eq)
			continue;
		key = strndup(line, (size_t)(eq - line));
		val = strndup(eq + 1, l - (size_t)(eq - line) - 1);
		if (!key || !val) {
			free(p.name);
			free(p.mode);
			return -ENOMEM;
		}
		if (strlen(val) != l - (size_t)(eq - line) - 1 ||
		    string_has_control(val, strlen(val), false))
			continue;
		if (streq(key, "name") && !p.name && *val && !strchr(val, '/')) {
			p.name = TAKE_PTR(val);
		} else if (streq(key, "mode") && !p.mode && (streq(val, "full") || streq(val, "quick"))) {
			p.mode = TAKE_PTR(val);
		} else if (parse_u64(val, &v) >= 0) {
			if (streq(key, "done"))
				p.done = v, have_done = true;
			else if (streq(key, "total"))
				p.total = v, have_total = true;
			else if (streq(key, "rate"))
				p.rate = v;
			else if (streq(key, "eta"))
				p.eta_sec = v;
			else if (streq(key, "pid") && v > 0 && v <= INT32_MAX)
				p.pid = (int)v;
		}
	}
	if (!p.name || !p.mode || !have_done || !have_total || p.pid <= 0 || p.done > p.total) {
		free(p.name);
		free(p.mode);
		return -EINVAL;
	}
	*ret = p;
	return 0;
}

void scan_progress_free(struct scan_progress *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].name);
		free(p[i].mode);
	}
	free(p);
}

int scan_progress_list(const char *root, struct scan_progress **ret, size_t *ret_n)
{
	_cleanup_close_ int dfd = -1;
	struct scan_progress *l = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	*ret = NULL;
	*ret_n = 0;
	dfd = path_open_dir(root, SCAN_PROGRESS_DIR, false, 0);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	d = fdopendir(dfd);
	if (!d)
		return negative_errno();
	dfd = -1; /* owned by d */
	while ((de = readdir(d))) {
		_cleanup_free_ char *buf = NULL;
		struct scan_progress p, *nl;
		size_t len;
		char proc[32];

		if (de->d_name[0] == '.' ||
		    read_file_at(dirfd(d), de->d_name, PROGRESS_FILE_MAX, &buf, &len) < 0)
			continue;
		if (scan_progress_parse(buf, len, &p) < 0)
			continue;
		snprintf(proc, sizeof(proc), "/proc/%d", p.pid);
		if (access(proc, F_OK) < 0) { /* left by a scan that was killed */
			free(p.name);
			free(p.mode);
			continue;
		}
		nl = reallocarray(l, n + 1, sizeof(*l));
		if (!nl) {
			free(p.name);
			free(p.mode);
			scan_progress_free(l, n);
			closedir(d);
			return -ENOMEM;
		}
		l = nl;
		l[n++] = p;
	}
	closedir(d);
	*ret = l;
	*ret_n = n;
	return 0;
}
