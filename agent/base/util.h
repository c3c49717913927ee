/* SPDX-License-Identifier: MIT */
/*
 * util.h: file helpers every step uses: paths resolved inside --root without following
 * symlinks, atomic writes (temp file, fsync, rename, fsync dir), capped reads, string lists,
 * clocks. No external library is included here.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/macro.h"

/*
 * Open directory PATH (absolute, interpreted inside ROOT; ROOT NULL or "/" means the real root)
 * one component at a time with O_NOFOLLOW: a symlink anywhere below ROOT gives -ELOOP (or
 * -ENOTDIR). With MKDIR, missing components are created with MODE. Returns an O_DIRECTORY fd.
 */
int path_open_dir(const char *root, const char *path, bool mkdir, mode_t mode);

/* Split "/a/b/c" into the parent "/a/b" opened as above and the last component "c". */
int path_open_parent(const char *root, const char *path, bool mkdir, char **ret_name);
/* The same, creating missing directories 0755 and giving each one it creates to UID:GID
 * ((uid_t)-1 / (gid_t)-1: leave as created), as cloud-init's ensure_dir does for write_files. */
int path_open_parent_owned(const char *root, const char *path, uid_t uid, gid_t gid,
			   char **ret_name);

/*
 * Open NAME in DIRFD for reading or running only if it is a file nobody else could have swapped
 * or changed: a regular file (no symlink followed), owned by us, not group- or world-writable,
 * one link. -EPERM when it is not, -EBADFD when not a regular file.
 */
int openat_trusted(int dirfd, const char *name);

/* PATH has a ".." component. */
bool path_has_dotdot(const char *path);

/* ROOT is the running system (NULL, "" or "/"), not an image under --root. */
bool root_is_host(const char *root);

/* ROOT + PATH as one string ("/" + PATH when ROOT is NULL); NULL on OOM. */
char *path_join_root(const char *root, const char *path);
char *path_join(const char *a, const char *b);

/*
 * Write NAME in DIRFD atomically: a temp file beside it (O_EXCL|O_NOFOLLOW), write, fchmod MODE,
 * fchown UID/GID unless (uid_t)-1, fsync, renameat over NAME, fsync DIRFD. A partial write
 * never becomes visible under NAME.
 */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			 uid_t uid, gid_t gid);
/* The same for PATH inside ROOT; parents are created (0755) without following symlinks. */
int write_file_atomic(const char *root, const char *path, const void *data, size_t len,
		      mode_t mode);

/* Make NAME in DIRFD a symlink to TARGET atomically (a temp link renamed over NAME, whatever
 * NAME was). 0 when it already was exactly that link, 1 when made. */
int symlink_atomic_at(int dirfd, const char *name, const char *target);

/*
 * Open PATH for reading (FLAGS: O_RDONLY and the like) resolved inside ROOT as if ROOT were "/":
 * the image's own symlinks are followed (an absolute one stays inside ROOT, ".." stops at ROOT;
 * openat2 RESOLVE_IN_ROOT). For files vagent only reads from the image (a zone file, the
 * locale list); never for a write.
 */
int open_in_root(const char *root, const char *path, int flags);

/*
 * Read NAME in DIRFD (O_NOFOLLOW; regular files only) up to MAX bytes. Larger: -EFBIG.
 * The buffer is NUL-terminated (not counted in *ret_len). -ENOENT when missing.
 */
int read_fd(int fd, size_t max, char **ret, size_t *ret_len);
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len);
int read_file(const char *root, const char *path, size_t max, char **ret, size_t *ret_len);

/* Remove PATH inside ROOT recursively without following symlinks; missing is fine. */
int rm_rf(const char *root, const char *path);

/*
 * flock(FD, OP|LOCK_NB) again every 20 ms until it succeeds or TIMEOUT_USEC passed: udev holds
 * a shared lock on a disk for a moment while it probes it (after mkfs, after a table write,
 * on hot-attach). Returns 0 or -EWOULDBLOCK / another negative errno.
 */
int flock_wait(int fd, int op, uint64_t timeout_usec);

/* Wait until PATH exists (a device node udev removes and re-adds when the kernel re-reads a
 * partition table), for at most TIMEOUT_USEC. 0 when it exists, -ENOENT when it never came. */
int wait_for_path(const char *path, uint64_t timeout_usec);

/* Monotonic and wall clocks. */
uint64_t now_usec(void);
void format_iso8601(uint64_t realtime_usec, char buf[static 32]);
uint64_t now_realtime_usec(void);

/*
 * Replace *RET_MESSAGE (when RET_MESSAGE is not NULL) with the formatted one-line message and
 * return R (errno is set from R for "%m"), or -ENOMEM when R >= 0 and formatting failed. For
 * steps that log once and hand the same words to the status report.
 */
int message_set(char **ret_message, int r, const char *format, ...) _printf_(3, 4);
/* Replace *P with a copy of S (NULL: with NULL). 0 or -ENOMEM (then *P is unchanged). */
int free_and_strdup(char **p, const char *s);
int message_setv(char **ret_message, int r, const char *format, va_list ap) _printf_(3, 0);

/* The value of base64 character C (RFC 4648 alphabet), -1 for anything else. */
int base64_char_value(unsigned char c);

/* NULL-terminated string lists. strv_push takes ownership of S (freed on failure). */
size_t strv_length(char *const *l);
int strv_push(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);

/*
 * The one escape for text that may carry input (a key name, a part type, a path from user data)
 * on its way to a terminal, the journal or a status file: CR, LF and TAB become a space, every
 * other control character (ESC included) "\xNN". Into BUF (SIZE bytes, always NUL-terminated,
 * cut when full); returns the length. The _dup form allocates (NULL on OOM).
 */
size_t escape_controls(const char *s, char *buf, size_t size);
char *escape_controls_dup(const char *s);

/* true if S has a byte < 0x20 or 0x7f (TAB allowed when ALLOW_TAB). */
bool string_has_control(const char *s, size_t len, bool allow_tab);
/* true if S begins with PREFIX */
static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Parse a non-negative decimal integer (no sign, no trailing junk). */
int parse_u64(const char *s, uint64_t *ret);
/* Parse "30", "30s", "500ms", "2min" into microseconds. */
int parse_duration_usec(const char *s, uint64_t *ret);
/* Parse "16M", "1MiB", "4096", "1G" into bytes. */
int parse_size(const char *s, uint64_t *ret);

/* Host names (the hostname step and the cloud-config's status of hostname and fqdn). */
#define HOSTNAME_MAX 253
#define HOSTNAME_LABEL_MAX 63

/*
 * RFC 1123 host name: dot-separated labels of 1-63 characters from [a-z0-9-] (A-Z is accepted
 * and lowercased when applied), no label starting or ending with a hyphen, at most 253
 * characters, no empty label, no trailing dot, and the last label not all digits (so that an
 * IPv4 address is never taken for a name).
 */
bool hostname_is_valid(const char *name);

/*
 * The same check with the reason: 0 when valid, else -EINVAL and REASON (if not NULL) gets a
 * short text such as "label 2 has a space" (never the name itself).
 */
int hostname_validate(const char *name, char *reason, size_t reason_size);
