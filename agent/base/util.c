/* SPDX-License-Identifier: MIT */
/*
 * util.c: the file and string helpers every step shares. Paths are always resolved inside the
 * --root directory one component at a time with O_NOFOLLOW, so a symlink planted anywhere (a
 * user's ~/.ssh pointing at /etc, say) is refused instead of followed. Writes are atomic: a temp
 * file beside the target, fsync, rename, fsync of the directory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <linux/openat2.h>

#include "base/util.h"

int openat_trusted(int dirfd, const char *name)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if (st.st_uid != geteuid() || (st.st_mode & 022) || st.st_nlink != 1)
		return -EPERM;
	return TAKE_FD(fd);
}

bool path_has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == 0 || p[2] == '/'))
			return true;
	return false;
}

bool root_is_host(const char *root)
{
	return !root || !*root || streq(root, "/");
}

static int open_dir(const char *root, const char *path, bool mkdir, mode_t mode, uid_t uid,
		    gid_t gid)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *copy = NULL;
	_cleanup_close_ int fd = -1;
	char *saveptr = NULL;

	if (!path || path[0] != '/')
		return -EINVAL;

	/* The root itself may be a symlink (the operator chose it); below it nothing may be. */
	fd = open(root_is_host(root) ? "/" : root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();

	copy = strdup(path);
	if (!copy)
		return -ENOMEM;

	for (char *c = strtok_r(copy, "/", &saveptr); c; c = strtok_r(NULL, "/", &saveptr)) {
		int nfd;

		if (streq(c, "."))
			continue;
		if (streq(c, ".."))
			return -EINVAL;

		nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && mkdir) {
			bool made = true;

			if (mkdirat(fd, c, mode) < 0) {
				if (errno != EEXIST)
					return negative_errno();
				made = false;
			}
			nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			/* Only what this call made changes hands, on the open fd. */
			if (nfd >= 0 && made && (uid != (uid_t)-1 || gid != (gid_t)-1) &&
			    fchown(nfd, uid, gid) < 0) {
				int r = negative_errno();
				close(nfd);
				return r;
			}
		}
		if (nfd < 0)
			return negative_errno();
		close(fd);
		fd = nfd;
	}

	return TAKE_FD(fd);
}

int path_open_dir(const char *root, const char *path, bool mkdir, mode_t mode)
{
	return open_dir(root, path, mkdir, mode, (uid_t)-1, (gid_t)-1);
}

static int open_parent(const char *root, const char *path, bool mkdir, uid_t uid, gid_t gid,
		       char **ret_name)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *dir = NULL;
	const char *slash;
	char *name;
	int fd;

	if (!path || path[0] != '/')
		return -EINVAL;
	slash = strrchr(path, '/');
	if (!slash[1] || streq(slash + 1, ".") || streq(slash + 1, ".."))
		return -EINVAL;

	dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	name = strdup(slash + 1);
	if (!name)
		return -ENOMEM;

	fd = open_dir(root, dir, mkdir, 0755, uid, gid);
	if (fd < 0) {
		free(name);
		return fd;
	}
	*ret_name = name;
	return fd;
}

int path_open_parent(const char *root, const char *path, bool mkdir, char **ret_name)
{
	return open_parent(root, path, mkdir, (uid_t)-1, (gid_t)-1, ret_name);
}

int path_open_parent_owned(const char *root, const char *path, uid_t uid, gid_t gid,
			   char **ret_name)
{
	return open_parent(root, path, true, uid, gid, ret_name);
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	char *r;

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (asprintf(&r, "%.*s/%s", (int)la, a, b) < 0)
		return NULL;
	return r;
}

char *path_join_root(const char *root, const char *path)
{
	if (root_is_host(root))
		return path[0] == '/' ? strdup(path) : path_join("/", path);
	return path_join(root, path);
}

static int fsync_dir(int dirfd)
{
	return fsync(dirfd) < 0 ? negative_errno() : 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			 uid_t uid, gid_t gid)
{
	_cleanup_close_ int fd = -1;
	char tmp[NAME_MAX + 1];
	const char *p = data;
	uint64_t rnd;
	int r;

	if (strlen(name) > NAME_MAX - 16)
		return -ENAMETOOLONG;

	for (int attempt = 0;; attempt++) {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint64_t)now_usec() ^ (uint64_t)getpid();
		snprintf(tmp, sizeof(tmp), ".#%s.%06llx", name,
			 (unsigned long long)(rnd & 0xffffff));
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			break;
		if (errno != EEXIST || attempt > 16)
			return negative_errno();
	}

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = negative_errno();
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}

	if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) {
		r = negative_errno();
		goto fail;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		r = negative_errno();
		goto fail;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = negative_errno();
		goto fail;
	}
	return fsync_dir(dirfd);

fail:
	(void)unlinkat(dirfd, tmp, 0);
	return r;
}

int symlink_atomic_at(int dirfd, const char *name, const char *target)
{
	char tmp[NAME_MAX + 1], old[PATH_MAX];
	ssize_t n;
	uint64_t rnd;

	if (strlen(name) > NAME_MAX - 16)
		return -ENAMETOOLONG;
	n = readlinkat(dirfd, name, old, sizeof(old) - 1);
	if (n >= 0 && (size_t)n == strlen(target) && memcmp(old, target, (size_t)n) == 0)
		return 0;
	for (int attempt = 0;; attempt++) {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint64_t)now_usec() ^ (uint64_t)getpid();
		snprintf(tmp, sizeof(tmp), ".#%s.%06llx", name,
			 (unsigned long long)(rnd & 0xffffff));
		if (symlinkat(target, dirfd, tmp) == 0)
			break;
		if (errno != EEXIST || attempt > 16)
			return negative_errno();
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int r = negative_errno();
		(void)unlinkat(dirfd, tmp, 0);
		return r;
	}
	return fsync_dir(dirfd) ?: 1;
}

int open_in_root(const char *root, const char *path, int flags)
{
	_cleanup_close_ int rfd = -1;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	rfd = open(root_is_host(root) ? "/" : root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return negative_errno();
	while (*path == '/')
		path++;
	fd = syscall(SYS_openat2, rfd, *path ? path : ".", &how, sizeof(how));
	if (fd < 0)
		return negative_errno();
	return (int)fd;
}

int write_file_atomic(const char *root, const char *path, const void *data, size_t len,
		      mode_t mode)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int dfd = -1;

	dfd = path_open_parent(root, path, true, &name);
	if (dfd < 0)
		return dfd;
	return write_file_atomic_at(dfd, name, data, len, mode, (uid_t)-1, (gid_t)-1);
}

int read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, alloc = 0;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;

	alloc = (size_t)st.st_size + 1;
	if (alloc < 4096)
		alloc = 4096;
	buf = malloc(alloc);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (size + 1 >= alloc) {
			char *nb = realloc(buf, alloc * 2);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			alloc *= 2;
		}
		n = read(fd, buf + size, alloc - size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > max)
			return -EFBIG;
	}
	buf[size] = 0;
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = size;
	return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	return read_fd(fd, max, ret, ret_len);
}

int read_file(const char *root, const char *path, size_t max, char **ret, size_t *ret_len)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int dfd = -1;

	dfd = path_open_parent(root, path, false, &name);
	if (dfd < 0)
		return dfd;
	return read_file_at(dfd, name, max, ret, ret_len);
}

static int rm_rf_children(int dfd)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return negative_errno();
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = negative_errno();
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int cfd = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				r = negative_errno();
				continue;
			}
			/* Never cross into another filesystem (a mounted volume, say). */
			if (st.st_dev != 0) {
				struct stat pst;
				if (fstat(dirfd(d), &pst) == 0 && pst.st_dev != st.st_dev) {
					close(cfd);
					r = -EXDEV;
					continue;
				}
			}
			int k = rm_rf_children(cfd);
			if (k < 0)
				r = k;
			if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
				r = negative_errno();
		} else if (unlinkat(dirfd(d), de->d_name, 0) < 0)
			r = negative_errno();
	}
	closedir(d);
	return r;
}

int rm_rf(const char *root, const char *path)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int pfd = -1;
	struct stat st;
	int fd, r;

	pfd = path_open_parent(root, path, false, &name);
	if (pfd == -ENOENT)
		return 0;
	if (pfd < 0)
		return pfd;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	if (!S_ISDIR(st.st_mode))
		return unlinkat(pfd, name, 0) < 0 ? negative_errno() : 0;

	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	r = rm_rf_children(fd);
	if (r < 0)
		return r;
	if (unlinkat(pfd, name, AT_REMOVEDIR) < 0)
		return negative_errno();
	return fsync_dir(pfd);
}

int flock_wait(int fd, int op, uint64_t timeout_usec)
{
	uint64_t deadline = now_usec() + timeout_usec;

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK || now_usec() >= deadline)
			return negative_errno();
		(void)usleep(20000);
	}
}

int wait_for_path(const char *path, uint64_t timeout_usec)
{
	uint64_t deadline = now_usec() + timeout_usec;

	while (access(path, F_OK) < 0) {
		if (now_usec() >= deadline)
			return -ENOENT;
		(void)usleep(20000);
	}
	return 0;
}

uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

uint64_t now_realtime_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

void format_iso8601(uint64_t realtime_usec, char buf[static 32])
{
	time_t t = (time_t)(realtime_usec / 1000000ULL);
	struct tm tm;

	char base[24];
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		base[0] = 0;
	snprintf(buf, 32, "%.20s.%03uZ", base, (unsigned)((realtime_usec / 1000ULL) % 1000ULL));
}

int free_and_strdup(char **p, const char *s)
{
	char *t = NULL;

	if (s && !(t = strdup(s)))
		return -ENOMEM;
	free(*p);
	*p = t;
	return 0;
}

int message_setv(char **ret_message, int r, const char *format, va_list ap)
{
	char *m;

	if (!ret_message)
		return r;
	if (r < 0)
		errno = -r; /* for %m */
	if (vasprintf(&m, format, ap) < 0)
		return r < 0 ? r : -ENOMEM;
	free(*ret_message);
	*ret_message = m;
	return r;
}

int message_set(char **ret_message, int r, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	r = message_setv(ret_message, r, format, ap);
	va_end(ap);
	return r;
}

int base64_char_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t strv_length(char *const *l)
{
	size_t n = 0;
	while (l && l[n])
		n++;
	return n;
}

int strv_push(char ***l, char *s)
{
	size_t n = strv_length(*l);
	char **nl;

	if (!s)
		return -ENOMEM;
	nl = realloc(*l, sizeof(char *) * (n + 2));
	if (!nl) {
		free(s);
		return -ENOMEM;
	}
	nl[n] = s;
	nl[n + 1] = NULL;
	*l = nl;
	return 0;
}

bool strv_contains(char *const *l, const char *s)
{
	for (size_t i = 0; l && l[i]; i++)
		if (streq(l[i], s))
			return true;
	return false;
}

size_t escape_controls(const char *s, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (size == 0)
		return 0;
	for (; *s && n + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n' || c == '\r' || c == '\t')
			buf[n++] = ' ';
		else if (c < 0x20 || c == 0x7f) {
			if (n + 4 >= size)
				break;
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		} else
			buf[n++] = (char)c;
	}
	buf[n] = 0;
	return n;
}

char *escape_controls_dup(const char *s)
{
	size_t size = strlen(s) * 4 + 1;
	char *buf = malloc(size);

	if (buf)
		escape_controls(s, buf, size);
	return buf;
}

bool string_has_control(const char *s, size_t len, bool allow_tab)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' && allow_tab)
			continue;
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

int parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*ret = v;
	return 0;
}

struct unit_def {
	const char *suffix;
	uint64_t factor;
};

static int parse_with_units(const char *s, const struct unit_def *units, size_t n_units,
			    uint64_t default_factor, uint64_t *ret)
{
	char num[32];
	size_t i = 0;
	uint64_t v, f = default_factor;
	const char *suffix;
	int r;

	while (s[i] >= '0' && s[i] <= '9' && i < sizeof(num) - 1) {
		num[i] = s[i];
		i++;
	}
	num[i] = 0;
	if (i == 0)
		return -EINVAL;
	suffix = s + i;
	while (*suffix == ' ')
		suffix++;
	r = parse_u64(num, &v);
	if (r < 0)
		return r;
	if (*suffix) {
		size_t k;
		for (k = 0; k < n_units; k++)
			if (streq(suffix, units[k].suffix))
				break;
		if (k == n_units)
			return -EINVAL;
		f = units[k].factor;
	}
	if (f && v > UINT64_MAX / f)
		return -ERANGE;
	*ret = v * f;
	return 0;
}

int parse_duration_usec(const char *s, uint64_t *ret)
{
	static const struct unit_def units[] = {
		{ "us", 1ULL },	       { "ms", 1000ULL },	{ "s", 1000000ULL },
		{ "sec", 1000000ULL }, { "m", 60000000ULL },	{ "min", 60000000ULL },
		{ "h", 3600000000ULL },
	};
	return parse_with_units(s, units, ARRAY_SIZE(units), 1000000ULL, ret);
}

int parse_size(const char *s, uint64_t *ret)
{
	static const struct unit_def units[] = {
		{ "K", 1ULL << 10 },   { "KiB", 1ULL << 10 }, { "M", 1ULL << 20 },
		{ "MiB", 1ULL << 20 }, { "G", 1ULL << 30 },   { "GiB", 1ULL << 30 },
		{ "T", 1ULL << 40 },   { "TiB", 1ULL << 40 }, { "B", 1ULL },
	};
	return parse_with_units(s, units, ARRAY_SIZE(units), 1ULL, ret);
}

static bool host_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int hostname_validate(const char *name, char *reason, size_t reason_size)
{
	size_t len, label = 1, label_len = 0;
	bool all_digits = true;

#define INVALID(...)                                                                               \
	do {                                                                                       \
		if (reason && reason_size > 0)                                                     \
			snprintf(reason, reason_size, __VA_ARGS__);                                \
		return -EINVAL;                                                                    \
	} while (0)

	if (!name || !*name)
		INVALID("empty");
	len = strlen(name);
	if (len > HOSTNAME_MAX)
		INVALID("longer than %d characters (%zu)", HOSTNAME_MAX, len);
	if (name[len - 1] == '.')
		INVALID("ends with a dot");

	for (const char *p = name;; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.' || c == 0) {
			if (label_len == 0)
				INVALID("label %zu is empty", label);
			if (p[-1] == '-')
				INVALID("label %zu ends with a hyphen", label);
			if (c == 0)
				break;
			label++;
			label_len = 0;
			all_digits = true;
			continue;
		}

		if (++label_len > HOSTNAME_LABEL_MAX)
			INVALID("label %zu is longer than %d characters", label,
				HOSTNAME_LABEL_MAX);
		if (c >= '0' && c <= '9')
			continue;
		all_digits = false;
		if (host_is_alpha((char)c))
			continue;
		if (c == '-') {
			if (label_len == 1)
				INVALID("label %zu starts with a hyphen", label);
			continue;
		}

		if (c == ' ')
			INVALID("label %zu has a space", label);
		if (c < 0x20 || c == 0x7f)
			INVALID("label %zu has a control character", label);
		if (c >= 0x80)
			INVALID("label %zu has a non-ASCII character", label);
		INVALID("label %zu has the character '%c'", label, c);
	}

	if (all_digits)
		INVALID("the last label is all digits (looks like an IPv4 address)");
#undef INVALID
	return 0;
}

bool hostname_is_valid(const char *name)
{
	return hostname_validate(name, NULL, 0) == 0;
}
