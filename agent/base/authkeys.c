/* SPDX-License-Identifier: MIT */
/*
 * sshkeys.c: the ssh-keys step. It validates the metadata's public keys (plain "type base64
 * [comment]" lines whose blob really is of that type), finds the user in ROOT/etc/passwd, and
 * keeps vagent's keys in a marked block of ~/.ssh/authorized_keys (or in
 * ~/.ssh/authorized_keys.d/vagent) according to the sync or add-only policy. The home is a
 * place the user controls, so everything below it is opened one component at a time without
 * following symlinks, modes and owners are fixed on open fds only, and the file is replaced
 * atomically; the user's own lines are kept byte for byte. Keys are never logged: only their
 * index in the metadata and the reason they were refused.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/authkeys.h"
#include "base/passwd.h"
#include "base/set.h"
#include "base/util.h"

/* The largest keys file read or written (2000 RSA-4096 keys fit). */
#define KEYS_FILE_MAX (4U * 1024U * 1024U)
#define BLOCK_BEGIN_PREFIX "# BEGIN vagent managed keys"
#define FILE_HEADER "# vagent managed keys (do not edit: this file is replaced at the next boot)"

static const char *const key_types[] = {
	"ssh-ed25519",
	"ssh-rsa",
	"ssh-dss",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
	"ssh-ed25519-cert-v01@openssh.com",
	"ssh-rsa-cert-v01@openssh.com",
	"ssh-dss-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	"sk-ssh-ed25519-cert-v01@openssh.com",
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
};

/* An error goes back as the one-line message; the caller (the step) logs it, once. */
#define fail(ret_message, r, ...) message_set((ret_message), (r), __VA_ARGS__)

static const char *key_type_lookup(const char *s, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_types); i++)
		if (strlen(key_types[i]) == n && memcmp(key_types[i], s, n) == 0)
			return key_types[i];
	return NULL;
}

/*
 * The next blank-separated token of [*P, END). Double quotes protect blanks, as in sshd's
 * options (command="a b"). Returns false at the end.
 */
static bool next_token(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char *s = *p, *t;
	bool quoted = false;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s >= end)
		return false;
	for (t = s; s < end; s++) {
		if (quoted && *s == '\\' && s + 1 < end)
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (!quoted && (*s == ' ' || *s == '\t'))
			break;
	}
	*ret = t;
	*ret_len = (size_t)(s - t);
	*p = s;
	return true;
}

/* The key's identity in an authorized_keys line: the base64 blob after the first key type. */
static bool line_key_id(const char *line, size_t len, const char **ret, size_t *ret_len)
{
	const char *p = line, *end = line + len, *tok;
	size_t n;

	while (next_token(&p, end, &tok, &n)) {
		if (n > 0 && tok[0] == '#' && tok == line)
			return false;
		if (key_type_lookup(tok, n))
			return next_token(&p, end, ret, ret_len);
	}
	return false;
}

/* Strict base64 of an OpenSSH public key blob, which must start with string TYPE. */
static const char *check_blob(const char *s, size_t n, const char *type)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ uint8_t *buf = NULL;
	size_t pad = 0, o = 0, tlen = strlen(type);
	unsigned bits = 0;
	uint32_t acc = 0, blen;

	if (n == 0 || n % 4 != 0)
		return "base64 does not decode";
	if (s[n - 1] == '=') {
		pad++;
		if (s[n - 2] == '=')
			pad++;
	}
	buf = malloc(n / 4 * 3);
	if (!buf)
		return "out of memory";
	for (size_t i = 0; i < n - pad; i++) {
		int v = base64_char_value((unsigned char)s[i]);

		if (v < 0)
			return "base64 does not decode";
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Canonical encoding only: the bits the padding leaves over are zero. */
	if (acc & ((1U << bits) - 1))
		return "base64 does not decode";

	if (o < 4)
		return "key blob type does not match";
	blen = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	if (blen != tlen || o < 4 + tlen || memcmp(buf + 4, type, tlen) != 0)
		return "key blob type does not match";
	if (o == 4 + tlen)
		return "key blob is truncated";
	return NULL;
}

/* LINE without the blanks around it. */
static void trim(const char **line, size_t *len)
{
	while (*len > 0 && (**line == ' ' || **line == '\t')) {
		(*line)++;
		(*len)--;
	}
	while (*len > 0 && ((*line)[*len - 1] == ' ' || (*line)[*len - 1] == '\t'))
		(*len)--;
}

/*
 * sshd's options field: comma-separated NAME or NAME="VALUE" (a '\"' inside VALUE), NAME of
 * letters, digits and '-'. The field ends at the first blank outside quotes (next_token()).
 */
static bool options_ok(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start = i;

		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
				 (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			i++;
		if (i == start)
			return false;
		if (i < n && s[i] == '=') {
			if (++i >= n || s[i] != '"')
				return false;
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\' && i + 1 < n)
					i++;
			if (i >= n)
				return false; /* no closing quote */
			i++;
		}
		if (i == n)
			return true;
		if (s[i] != ',' || ++i == n)
			return false;
	}
	return false;
}

int sshkey_validate(const char *line, const char **ret_reason)
{
	return sshkey_validate_flags(line, 0, ret_reason);
}

int sshkey_validate_flags(const char *line, unsigned flags, const char **ret_reason)
{
	const char *reason = NULL, *p, *end, *tok, *type;
	size_t len, n;

	if (!line) {
		reason = "empty";
		goto invalid;
	}
	len = strnlen(line, SSHKEY_LINE_MAX + 1);
	if (len > SSHKEY_LINE_MAX) {
		reason = "too long";
		goto invalid;
	}
	if (string_has_control(line, len, false)) {
		reason = "control character";
		goto invalid;
	}
	trim(&line, &len);
	p = line;
	end = line + len;

	if (!next_token(&p, end, &tok, &n)) {
		reason = "empty";
		goto invalid;
	}
	type = key_type_lookup(tok, n);
	if (!type && (flags & SSHKEY_OPTIONS_OK)) {
		/* The user's own choice (cloud-init keeps them): well-formed options, then a key. */
		if (!options_ok(tok, n)) {
			reason = "the options are malformed";
			goto invalid;
		}
		if (!next_token(&p, end, &tok, &n) || !(type = key_type_lookup(tok, n))) {
			reason = "unknown key type";
			goto invalid;
		}
	}
	if (!type) {
		/* "opt,opt=... type blob": options, or a type we do not know? */
		bool options = memchr(tok, '=', n) || memchr(tok, '"', n) || memchr(tok, ',', n);

		while (!options && next_token(&p, end, &tok, &n))
			options = key_type_lookup(tok, n) != NULL;
		reason = options ? "options are not accepted from metadata" : "unknown key type";
		goto invalid;
	}
	if (!next_token(&p, end, &tok, &n)) {
		reason = "no key data";
		goto invalid;
	}
	reason = check_blob(tok, n, type);
	if (reason)
		goto invalid;

	if (ret_reason)
		*ret_reason = NULL;
	return 0;

invalid:
	if (ret_reason)
		*ret_reason = reason;
	return -EINVAL;
}

/* A list of authorized_keys lines, each known by its blob (or by the whole line). */
struct key {
	char *line;
	size_t id_off, id_len;
};

struct key_list {
	struct key *keys;
	size_t n, allocated;
	struct strset ids; /* each key's id (its blob, or the line): membership in O(1) */
};

static void key_list_done(struct key_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->keys[i].line);
	free(l->keys);
	strset_done(&l->ids);
	*l = (struct key_list){};
}

static bool key_list_contains(const struct key_list *l, const struct key *k)
{
	return strset_get(&l->ids, k->line + k->id_off, k->id_len, NULL);
}

/* Append a copy of K unless a key with the same blob is there. Returns 1 added, 0 duplicate. */
static int key_list_add(struct key_list *l, const struct key *k)
{
	char *copy;

	if (key_list_contains(l, k))
		return 0;
	if (l->n == l->allocated) {
		size_t na = l->allocated ? l->allocated * 2 : 16;
		struct key *nk = realloc(l->keys, na * sizeof(*nk));

		if (!nk)
			return -ENOMEM;
		l->keys = nk;
		l->allocated = na;
	}
	copy = strdup(k->line);
	if (!copy)
		return -ENOMEM;
	if (strset_put(&l->ids, copy + k->id_off, k->id_len, l->n, NULL) < 0) {
		free(copy);
		return -ENOMEM;
	}
	l->keys[l->n++] = (struct key){ .line = copy, .id_off = k->id_off, .id_len = k->id_len };
	return 1;
}

/* Add line [S, S+LEN) (trimmed) to L; WHOLE_LINE_ID: a line without a key is known by itself. */
static int key_list_add_line(struct key_list *l, const char *s, size_t len, bool whole_line_id)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *line = NULL;
	const char *id;
	size_t id_len;
	int r;

	trim(&s, &len);
	line = strndup(s, len);
	if (!line)
		return -ENOMEM;
	/* A NUL byte in the user's file ends the copy early: scan the copy, not LEN bytes, and
	 * drop the blanks and CRs the cut may leave at its end (the next run strips them, so the
	 * file would be rewritten every time). */
	len = strlen(line);
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (len == 0)
		return 0;
	if (!line_key_id(line, len, &id, &id_len)) {
		if (!whole_line_id)
			return 0;
		id = line;
		id_len = len;
	}
	r = key_list_add(
		l, &(struct key){ .line = line, .id_off = (size_t)(id - line), .id_len = id_len });
	return r;
}

/*
 * Open directory NAME in PARENTFD (shown as DISPLAY) without following a symlink. -ENOENT
 * (not logged) when missing. *RET_FIX tells whether its mode or owner must be fixed.
 */
static int open_user_dir(int parentfd, const char *name, const char *display, uid_t uid,
			 bool *ret_fix, char **ret_message)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		if (errno == ELOOP || errno == ENOTDIR) {
			if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				return fail(ret_message, -ELOOP, "'%s' is a symlink, refusing",
					    display);
			return fail(ret_message, -ENOTDIR, "'%s' is not a directory, refusing",
				    display);
		}
		return fail(ret_message, -errno, "Failed to open '%s': %m", display);
	}
	if (fstat(fd, &st) < 0)
		return fail(ret_message, -errno, "Failed to stat '%s': %m", display);
	*ret_fix = st.st_uid != uid || (st.st_mode & 07777) != 0700;
	return TAKE_FD(fd);
}

/* Make the directory open as FD 0700 and owned by UID:GID (on the fd, never by path). */
static int fix_user_dir(int fd, const char *display, uid_t uid, gid_t gid, char **ret_message)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fail(ret_message, -errno, "Failed to stat '%s': %m", display);
	if (st.st_uid != uid && fchown(fd, uid, gid) < 0)
		return fail(ret_message, -errno, "Failed to chown '%s': %m", display);
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
		return fail(ret_message, -errno, "Failed to chmod '%s': %m", display);
	log_info("Made '%s' 0700 and owned by uid %u.", display, (unsigned)uid);
	return 0;
}

static int create_user_dir(int parentfd, const char *name, const char *display, uid_t uid,
			   gid_t gid, char **ret_message)
{
	_cleanup_close_ int fd = -1;
	bool fix = false;
	int r;

	if (mkdirat(parentfd, name, 0700) < 0 && errno != EEXIST)
		return fail(ret_message, -errno, "Failed to create '%s': %m", display);
	fd = open_user_dir(parentfd, name, display, uid, &fix, ret_message);
	if (fd == -ENOENT)
		return fail(ret_message, fd, "Failed to open '%s': %m", display);
	if (fd < 0)
		return fd;
	if (fix) {
		r = fix_user_dir(fd, display, uid, gid, ret_message);
		if (r < 0)
			return r;
	}
	return TAKE_FD(fd);
}

/*
 * Read the keys file NAME in DIRFD (-1: its directory is missing). A symlink, anything but a
 * regular file, or a file with other hard links is refused: its content would end up in a file
 * the user owns. The checks are made on the fd that is read. Returns 1 read, 0 missing.
 */
static int read_keys_file(int dirfd, const char *name, const char *display, char **ret,
			  size_t *ret_len, char **ret_message)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	struct stat st;
	int r;

	*ret = NULL;
	*ret_len = 0;
	if (dirfd < 0)
		return 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(ret_message, -errno, "Failed to stat '%s': %m", display);
	}
	if (S_ISLNK(st.st_mode))
		return fail(ret_message, -ELOOP, "'%s' is a symlink, refusing", display);
	if (!S_ISREG(st.st_mode))
		return fail(ret_message, -EBADFD, "'%s' is not a regular file, refusing", display);

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			return fail(ret_message, -ELOOP, "'%s' is a symlink, refusing", display);
		return fail(ret_message, -errno, "Failed to open '%s': %m", display);
	}
	if (fstat(fd, &st) < 0)
		return fail(ret_message, -errno, "Failed to stat '%s': %m", display);
	if (!S_ISREG(st.st_mode))
		return fail(ret_message, -EBADFD, "'%s' is not a regular file, refusing", display);
	if (st.st_nlink > 1)
		return fail(ret_message, -EMLINK, "'%s' has %ju hard links, refusing", display,
			    (uintmax_t)st.st_nlink);
	r = read_fd(fd, KEYS_FILE_MAX, &buf, &size);
	if (r == -EFBIG)
		return fail(ret_message, r, "'%s' is larger than %u bytes, refusing", display,
			    KEYS_FILE_MAX);
	if (r < 0)
		return fail(ret_message, r, "Failed to read '%s': %m", display);
	*ret = TAKE_PTR(buf);
	*ret_len = size;
	return 1;
}

/* Where vagent's block sits in the authorized_keys file. */
struct block {
	bool found;
	size_t begin; /* offset of the BEGIN line */
	size_t end;   /* offset just after the END line (and its newline) */
};

/*
 * Split authorized_keys content: the keys inside vagent's block go to OLD, the keys of the
 * user's own lines to OUTSIDE. Returns -EBADMSG with *RET_REASON for a malformed block.
 */
static int parse_block(const char *buf, size_t len, struct block *b, struct key_list *old,
		       struct key_list *outside, const char **ret_reason)
{
	const char *p = buf, *end = buf + len;
	bool inside = false;
	int r;

	*b = (struct block){};
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end, *s = p;
		size_t n = (size_t)((nl ? nl : end) - p);

		if (n > 0 && s[n - 1] == '\r')
			n--;
		trim(&s, &n);
		if (n >= strlen(BLOCK_BEGIN_PREFIX) &&
		    strneq(s, BLOCK_BEGIN_PREFIX, strlen(BLOCK_BEGIN_PREFIX))) {
			if (inside || b->found) {
				*ret_reason = inside ? "two BEGIN lines in a row"
						     : "more than one vagent block";
				return -EBADMSG;
			}
			inside = true;
			b->begin = (size_t)(p - buf);
		} else if (n == strlen(SSHKEYS_BLOCK_END) && strneq(s, SSHKEYS_BLOCK_END, n)) {
			if (!inside) {
				*ret_reason = "an END line without BEGIN";
				return -EBADMSG;
			}
			inside = false;
			b->found = true;
			b->end = (size_t)(next - buf);
		} else if (n > 0 && s[0] != '#') {
			r = key_list_add_line(inside ? old : outside, s, n, inside);
			if (r < 0)
				return r;
		}
		p = next;
	}
	if (inside) {
		*ret_reason = "a BEGIN line without END";
		return -EBADMSG;
	}
	return 0;
}

/* The keys of a file wholly vagent's: every line but blanks and comments. */
static int parse_file(const char *buf, size_t len, struct key_list *old)
{
	const char *p = buf, *end = buf + len;
	int r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end, *s = p;
		size_t n = (size_t)((nl ? nl : end) - p);

		if (n > 0 && s[n - 1] == '\r')
			n--;
		trim(&s, &n);
		if (n > 0 && s[0] != '#') {
			r = key_list_add_line(old, s, n, true);
			if (r < 0)
				return r;
		}
		p = next;
	}
	return 0;
}

static void write_keys(FILE *f, const struct key_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		fputs(l->keys[i].line, f);
		fputc('\n', f);
	}
}

int sshkeys_apply(const char *root, const char *user, char *const *keys, enum sshkeys_policy policy,
		  enum sshkeys_target target, bool dry_run, char **ret_message)
{
	return sshkeys_apply_from(root, user, keys, NULL, policy, target, dry_run, ret_message);
}

int sshkeys_apply_from(const char *root, const char *user, char *const *keys,
		       char *const *user_keys, enum sshkeys_policy policy,
		       enum sshkeys_target target, bool dry_run, char **ret_message)
{
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	_cleanup_(key_list_done) struct key_list meta = {}, old = {}, outside = {}, new = {};
	_cleanup_free_ char *home = NULL, *ssh_display = NULL, *dir_display = NULL,
			    *file_display = NULL, *old_buf = NULL, *new_buf = NULL, *where = NULL;
	_cleanup_close_ int homefd = -1, sshfd = -1, subfd = -1;
	size_t n_meta = strv_length(keys), n_user = strv_length(user_keys), n_invalid = 0, n_outside = 0, old_len = 0, new_len = 0;
	size_t added = 0, removed = 0, kept = 0;
	bool fix_ssh = false, fix_sub = false, changed, remove_file = false;
	const bool to_file = target == SSHKEYS_TARGET_FILE;
	const char *name = to_file ? "vagent" : "authorized_keys";
	struct block block = {};
	char notes[160];
	struct stat st;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int dirfd, exists, r;
	FILE *f;

	if (ret_message)
		*ret_message = NULL;

	if (!user || !*user || strchr(user, ':') || strchr(user, '/') ||
	    string_has_control(user, strlen(user), false))
		return fail(ret_message, -EINVAL, "invalid user name in the configuration");

	/* The metadata's keys: valid ones only, in order, without duplicates. */
	for (size_t i = 0; i < n_meta; i++) {
		const char *reason, *s = keys[i];
		size_t n;

		if (sshkey_validate(keys[i], &reason) < 0) {
			log_warning("Metadata public-keys[%zu]: %s, ignoring.", i, reason);
			n_invalid++;
			continue;
		}
		n = strlen(s);
		r = key_list_add_line(&meta, s, n, false);
		if (r < 0)
			return log_error_errno(r, "Out of memory.");
		if (r == 0)
			log_info("Metadata public-keys[%zu]: duplicate key, ignoring.", i);
	}
	/* The user data's keys after them: options allowed (the caller named and checked them). */
	for (size_t i = 0; i < n_user; i++) {
		const char *reason;

		if (sshkey_validate_flags(user_keys[i], SSHKEY_OPTIONS_OK, &reason) < 0) {
			log_warning("User-data key %zu for '%s': %s, ignoring.", i, user, reason);
			n_invalid++;
			continue;
		}
		r = key_list_add_line(&meta, user_keys[i], strlen(user_keys[i]), false);
		if (r < 0)
			return log_error_errno(r, "Out of memory.");
	}
	if (n_meta > 0 && meta.n == 0) {
		/* Better stale keys than none: one bad document must not lock the admin out. */
		log_full(LOG_WARNING, 0, MSGID_SSHKEYS, __FILE__, __LINE__,
			 "None of the %zu public keys in the metadata is valid, keeping the "
			 "authorized keys of '%s' as they are.",
			 n_meta, user);
		return message_set(ret_message, 0,
				   "kept: none of the %zu keys in metadata is valid", n_meta);
	}

	/* The user and the home, which must be theirs. */
	{
		_cleanup_(passwd_entry_done) struct passwd_entry pw = {};

		r = passwd_lookup(root, user, &pw);
		if (r == -ESRCH)
			return fail(ret_message, r, "user '%s' not found in '/etc/passwd'", user);
		if (r == -EINVAL)
			return fail(ret_message, r,
				    "'/etc/passwd' has a bad uid, gid or home directory for '%s'",
				    user);
		if (r < 0)
			return fail(ret_message, r, "Failed to read '/etc/passwd': %m");
		uid = pw.uid;
		gid = pw.gid;
		home = TAKE_PTR(pw.home);
	}
	homefd = path_open_dir(root, home, false, 0);
	if (homefd == -ENOENT)
		return fail(ret_message, homefd, "home '%s' of '%s' does not exist", home, user);
	if (homefd == -ELOOP || homefd == -ENOTDIR)
		return fail(ret_message, homefd,
			    "home '%s' is a symlink, has one in its path or is not a directory, "
			    "refusing",
			    home);
	if (homefd < 0)
		return fail(ret_message, homefd, "Failed to open home '%s': %m", home);
	if (fstat(homefd, &st) < 0)
		return fail(ret_message, -errno, "Failed to stat home '%s': %m", home);
	if (st.st_uid != uid)
		return fail(ret_message, -EPERM, "home '%s' is owned by uid %u, not by '%s'", home,
			    (unsigned)st.st_uid, user);

	ssh_display = path_join(home, ".ssh");
	dir_display = to_file ? path_join(ssh_display ?: "", "authorized_keys.d") : NULL;
	file_display = path_join(to_file ? dir_display ?: "" : ssh_display ?: "", name);
	if (!ssh_display || (to_file && !dir_display) || !file_display)
		return log_error_errno(-ENOMEM, "Out of memory.");

	sshfd = open_user_dir(homefd, ".ssh", ssh_display, uid, &fix_ssh, ret_message);
	if (sshfd < 0 && sshfd != -ENOENT)
		return sshfd;
	dirfd = sshfd;
	if (to_file) {
		if (sshfd >= 0) {
			subfd = open_user_dir(sshfd, "authorized_keys.d", dir_display, uid,
					      &fix_sub, ret_message);
			if (subfd < 0 && subfd != -ENOENT)
				return subfd;
		}
		dirfd = subfd;
	}

	/* Plan. */
	exists = read_keys_file(dirfd, name, file_display, &old_buf, &old_len, ret_message);
	if (exists < 0)
		return exists;
	if (to_file)
		r = parse_file(old_buf ?: "", old_len, &old);
	else {
		const char *reason = NULL;

		r = parse_block(old_buf ?: "", old_len, &block, &old, &outside, &reason);
		if (r == -EBADMSG)
			return fail(ret_message, r,
				    "'%s' has a malformed vagent block (%s), refusing",
				    file_display, reason);
	}
	if (r < 0)
		return log_error_errno(r, "Out of memory.");

	if (policy == SSHKEYS_ADD_ONLY)
		for (size_t i = 0; i < old.n; i++)
			if (key_list_add(&new, &old.keys[i]) < 0)
				return log_error_errno(-ENOMEM, "Out of memory.");
	for (size_t i = 0; i < meta.n; i++) {
		if (key_list_contains(&new, &meta.keys[i]))
			continue;
		if (key_list_contains(&outside, &meta.keys[i])) {
			n_outside++;
			continue;
		}
		if (key_list_add(&new, &meta.keys[i]) < 0)
			return log_error_errno(-ENOMEM, "Out of memory.");
	}
	for (size_t i = 0; i < new.n; i++) {
		if (key_list_contains(&old, &new.keys[i]))
			kept++;
		else
			added++;
	}
	removed = old.n - kept;

	f = open_memstream(&new_buf, &new_len);
	if (!f)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (to_file) {
		if (new.n > 0) {
			fputs(FILE_HEADER "\n", f);
			write_keys(f, &new);
		}
	} else if (block.found) {
		fwrite(old_buf, 1, block.begin, f);
		if (new.n > 0) {
			fputs(SSHKEYS_BLOCK_BEGIN "\n", f);
			write_keys(f, &new);
			fputs(SSHKEYS_BLOCK_END "\n", f);
		}
		fwrite(old_buf + block.end, 1, old_len - block.end, f);
	} else {
		if (old_len > 0)
			fwrite(old_buf, 1, old_len, f);
		if (new.n > 0) {
			if (old_len > 0 && old_buf[old_len - 1] != '\n')
				fputc('\n', f);
			fputs(SSHKEYS_BLOCK_BEGIN "\n", f);
			write_keys(f, &new);
			fputs(SSHKEYS_BLOCK_END "\n", f);
		}
	}
	r = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) != 0 || r < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (new_len > KEYS_FILE_MAX)
		return fail(ret_message, -EFBIG, "'%s' would be larger than %u bytes, refusing",
			    file_display, KEYS_FILE_MAX);

	if (to_file && new.n == 0) {
		/* Nothing of vagent's to keep: the file goes, unless it holds no keys anyway. */
		remove_file = exists && old.n > 0;
		changed = remove_file;
	} else if (exists)
		changed = new_len != old_len || memcmp(new_buf, old_buf, new_len) != 0;
	else
		changed = new_len > 0;

	if (asprintf(&where, "%s %s", to_file ? "file" : "block in", file_display) < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	notes[0] = 0;
	if (n_invalid > 0)
		snprintf(notes, sizeof(notes), "; %zu invalid key%s ignored", n_invalid,
			 n_invalid == 1 ? "" : "s");
	if (n_outside > 0)
		snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes),
			 "; %zu already outside the block", n_outside);
	if (fix_ssh || fix_sub)
		snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes), "; %s",
			 dry_run ? "would fix directory mode/owner" : "fixed directory mode/owner");

	if (!changed && !fix_ssh && !fix_sub) {
		return message_set(ret_message, 0, "unchanged, %zu key%s (%s)%s", new.n,
				   new.n == 1 ? "" : "s", where, notes);
	}

	if (dry_run) {
		return message_set(ret_message, 1,
				   "would add %zu key%s, remove %zu, keep %zu (%s)%s", added,
				   added == 1 ? "" : "s", removed, kept, where, notes);
	}

	/* Apply: directories first (created 0700 or fixed, on fds), then the file. */
	if (sshfd < 0) {
		sshfd = create_user_dir(homefd, ".ssh", ssh_display, uid, gid, ret_message);
		if (sshfd < 0)
			return sshfd;
	} else if (fix_ssh) {
		r = fix_user_dir(sshfd, ssh_display, uid, gid, ret_message);
		if (r < 0)
			return r;
	}
	dirfd = sshfd;
	if (to_file) {
		if (subfd < 0 && changed && !remove_file) {
			subfd = create_user_dir(sshfd, "authorized_keys.d", dir_display, uid, gid,
						ret_message);
			if (subfd < 0)
				return subfd;
		} else if (subfd >= 0 && fix_sub) {
			r = fix_user_dir(subfd, dir_display, uid, gid, ret_message);
			if (r < 0)
				return r;
		}
		dirfd = subfd;
	}

	if (remove_file) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return fail(ret_message, -errno, "Failed to remove '%s': %m", file_display);
		if (fsync(dirfd) < 0)
			log_warning_errno(errno, "Failed to sync '%s', ignoring: %m", dir_display);
	} else if (changed) {
		r = write_file_atomic_at(dirfd, name, new_buf, new_len, 0600, uid, gid);
		if (r < 0)
			return fail(ret_message, r, "Failed to write '%s': %m", file_display);
	}

	return message_set(ret_message, 1, "added %zu, removed %zu, kept %zu (%s)%s", added,
			   removed, kept, where, notes);
}
