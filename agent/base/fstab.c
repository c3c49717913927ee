/* SPDX-License-Identifier: MIT */
/*
 * fstab.c: formatting, finding, replacing and removing vagent's lines in /etc/fstab. The text is
 * handled as bytes: only lines whose options field carries X-vagent.volume=<id> are ever touched,
 * everything else is copied through unchanged. The only I/O is reading and atomically rewriting
 * ROOT/etc/fstab through util.c (no symlinks followed, mode and owner kept).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "base/fstab.h"
#include "base/log.h"
#include "base/util.h"

#define FSTAB_MAX (UINT64_C(4) << 20)

void fstab_entries_free(struct fstab_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++) {
		free(e[i].volume_id);
		free(e[i].spec);
		free(e[i].mountpoint);
		free(e[i].fstype);
	}
	free(e);
}

bool fstab_volume_id_valid(const char *id)
{
	size_t n;

	if (!id)
		return false;
	n = strlen(id);
	if (n == 0 || n > 64 || id[0] == '-')
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

static bool uuid_valid(const char *uuid)
{
	if (!uuid || !*uuid || strlen(uuid) > 64)
		return false;
	for (const char *p = uuid; *p; p++)
		if (!((*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

char *fstab_line(const char *uuid, const char *mountpoint, enum fs_type fs, const char *volume_id)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *mp = NULL;
	size_t k = 0;
	char *line;

	if (!uuid_valid(uuid) || !fstab_volume_id_valid(volume_id) || !mountpoint ||
	    mountpoint[0] != '/') {
		errno = EINVAL;
		return NULL;
	}

	mp = malloc(strlen(mountpoint) * 4 + 1);
	if (!mp)
		return NULL;
	for (const char *p = mountpoint; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\\')
			k += (size_t)sprintf(mp + k, "\\%03o", c);
		else
			mp[k++] = (char)c;
	}
	mp[k] = 0;

	if (asprintf(&line,
		     "UUID=%s %s %s defaults,nofail,x-systemd.device-timeout=10s,"
		     "x-systemd.before=vagent-storage.service," FSTAB_VOLUME_OPTION
		     "%s 0 2",
		     uuid, mp, fs_type_to_string(fs), volume_id) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return line;
}

/* Split one line (without its terminator) into at most N whitespace-separated fields. Returns
 * the number of fields; comment and blank lines have 0. Fields point into LINE with lengths. */
struct field {
	const char *p;
	size_t len;
};

static size_t split_fields(const char *line, size_t len, struct field *f, size_t n)
{
	size_t i = 0, nf = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] == '#')
		return 0;
	while (i < len && nf < n) {
		size_t s = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		f[nf++] = (struct field){ line + s, i - s };
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
	}
	return nf;
}

/* The volume id carried in the options field, or NULL (pointer into LINE, length in *ret_len). */
static const char *line_volume_id(const char *line, size_t len, size_t *ret_len)
{
	struct field f[4];
	const char *o, *end;
	size_t plen = strlen(FSTAB_VOLUME_OPTION);

	if (split_fields(line, len, f, 4) < 4)
		return NULL;
	o = f[3].p;
	end = f[3].p + f[3].len;
	while (o < end) {
		const char *c = memchr(o, ',', (size_t)(end - o));
		size_t olen = c ? (size_t)(c - o) : (size_t)(end - o);

		if (olen > plen && memcmp(o, FSTAB_VOLUME_OPTION, plen) == 0) {
			*ret_len = olen - plen;
			return o + plen;
		}
		o += olen + 1;
	}
	return NULL;
}

static bool line_is_volume(const char *line, size_t len, const char *volume_id)
{
	size_t n;
	const char *id = line_volume_id(line, len, &n);

	return id && n == strlen(volume_id) && memcmp(id, volume_id, n) == 0;
}

struct buf {
	char *p;
	size_t len, alloc;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->alloc) {
		size_t a = (b->len + n + 1) * 2;
		char *p = realloc(b->p, a);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->alloc = a;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int fstab_rewrite(const char *old, size_t len, const char *volume_id, const char *line,
		  char **ret_new)
{
	struct buf b = {};
	bool replaced = false, changed = false;
	size_t i = 0;
	int r;

	*ret_new = NULL;
	if (!fstab_volume_id_valid(volume_id))
		return -EINVAL;
	if (line && (strchr(line, '\n') || !line_is_volume(line, strlen(line), volume_id)))
		return -EINVAL;
	/* The result is a C string (fstab_update() writes strlen() bytes): a NUL byte in OLD would
	 * silently cut the file there. Such a file is not one mount(8) reads either: leave it. */
	if (memchr(old, '\0', len))
		return -EBADMSG;

	r = buf_add(&b, "", 0);
	while (r >= 0 && i < len) {
		const char *nl = memchr(old + i, '\n', len - i);
		size_t llen = nl ? (size_t)(nl - (old + i)) : len - i;
		size_t tlen = nl ? llen + 1 : llen; /* with terminator */

		if (!line_is_volume(old + i, llen, volume_id)) {
			r = buf_add(&b, old + i, tlen);
		} else if (line && !replaced) {
			replaced = true;
			if (llen != strlen(line) || memcmp(old + i, line, llen) != 0)
				changed = true;
			r = buf_add(&b, line, strlen(line));
			if (r >= 0 && nl)
				r = buf_add(&b, "\n", 1);
		} else
			changed = true; /* removed (or a duplicate) */
		i += tlen;
	}
	if (r >= 0 && line && !replaced) {
		changed = true;
		if (b.len > 0 && b.p[b.len - 1] != '\n')
			r = buf_add(&b, "\n", 1);
		if (r >= 0)
			r = buf_add(&b, line, strlen(line));
		if (r >= 0)
			r = buf_add(&b, "\n", 1);
	}
	if (r < 0 || !changed) {
		free(b.p);
		return r < 0 ? r : 0;
	}
	*ret_new = b.p;
	return 1;
}

char *fstab_escape(const char *s)
{
	char *r = malloc(strlen(s) * 4 + 1);
	size_t k = 0;

	if (!r)
		return NULL;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\\')
			k += (size_t)sprintf(r + k, "\\%03o", c);
		else
			r[k++] = (char)c;
	}
	r[k] = 0;
	return r;
}

char *fstab_unescape(const char *s, size_t n)
{
	char *r = malloc(n + 1), *w = r;

	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			*w++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else
			*w++ = s[i];
	}
	*w = 0;
	return r;
}

int fstab_parse_vagent(const char *text, size_t len, struct fstab_entry **ret, size_t *ret_n)
{
	struct fstab_entry *e = NULL;
	size_t n = 0, i = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t llen = nl ? (size_t)(nl - (text + i)) : len - i;
		const char *id;
		size_t idlen;
		struct field f[4];

		id = line_volume_id(text + i, llen, &idlen);
		if (id && split_fields(text + i, llen, f, 4) == 4) {
			struct fstab_entry *ne = reallocarray(e, n + 1, sizeof(*e));
			if (!ne)
				goto oom;
			e = ne;
			e[n] = (struct fstab_entry){
				.volume_id = strndup(id, idlen),
				.spec = strndup(f[0].p, f[0].len),
				.mountpoint = fstab_unescape(f[1].p, f[1].len),
				.fstype = strndup(f[2].p, f[2].len),
			};
			n++;
			if (!e[n - 1].volume_id || !e[n - 1].spec || !e[n - 1].mountpoint ||
			    !e[n - 1].fstype)
				goto oom;
		}
		i += nl ? llen + 1 : llen;
	}
	*ret = e;
	*ret_n = n;
	return 0;
oom:
	fstab_entries_free(e, n);
	return -ENOMEM;
}

/* The options field of LINE carries an option beginning with "X-vagent.". */
static bool line_is_vagent(const char *line, size_t len, struct field f[4])
{
	static const char prefix[] = "X-vagent.";

	if (split_fields(line, len, f, 4) < 4)
		return false;
	for (const char *o = f[3].p, *end = f[3].p + f[3].len; o < end;) {
		const char *c = memchr(o, ',', (size_t)(end - o));
		size_t olen = c ? (size_t)(c - o) : (size_t)(end - o);

		if (olen >= sizeof(prefix) - 1 && memcmp(o, prefix, sizeof(prefix) - 1) == 0)
			return true;
		o += olen + 1;
	}
	return false;
}

int fstab_strip_vagent(const char *text, size_t len, char ***ret_mountpoints, char **ret_new)
{
	_cleanup_strv_free_ char **mps = NULL;
	_cleanup_free_ char *new = NULL;
	size_t new_len = 0, i = 0;
	int n = 0;
	FILE *f;

	f = open_memstream(&new, &new_len);
	if (!f)
		return -ENOMEM;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t llen = nl ? (size_t)(nl - (text + i)) : len - i;
		struct field fl[4];

		if (line_is_vagent(text + i, llen, fl)) {
			n++;
			if (ret_mountpoints &&
			    strv_push(&mps, fstab_unescape(fl[1].p, fl[1].len)) < 0) {
				fclose(f);
				return -ENOMEM;
			}
		} else
			fwrite(text + i, 1, llen + (nl ? 1 : 0), f);
		i += llen + (nl ? 1 : 0);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	if (ret_mountpoints)
		*ret_mountpoints = TAKE_PTR(mps);
	if (ret_new)
		*ret_new = n > 0 ? TAKE_PTR(new) : NULL;
	return n;
}

int fstab_edit(const char *root, fstab_edit_fn edit, void *userdata, bool create, bool dry_run)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *old = NULL, *new = NULL, *name = NULL;
	_cleanup_close_ int dfd = -1;
	mode_t mode = 0644;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	size_t len = 0;
	struct stat st;
	int r;

	dfd = path_open_parent(root, FSTAB_PATH, create && !dry_run, &name);
	if (dfd == -ENOENT && (!create || dry_run))
		return create ? edit("", 0, userdata, &new) : 0;
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to open the directory of '%s': %m", FSTAB_PATH);

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return log_error_errno(errno, "Failed to stat '%s': %m", FSTAB_PATH);
		if (!create)
			return 0;
	} else {
		if (!S_ISREG(st.st_mode))
			return log_error_errno(-EBADFD, "'%s' is not a regular file, refusing",
					       FSTAB_PATH);
		mode = st.st_mode & 07777;
		uid = st.st_uid;
		gid = st.st_gid;
		r = read_file_at(dfd, name, FSTAB_MAX, &old, &len);
		if (r < 0)
			return log_error_errno(r, "Failed to read '%s': %m", FSTAB_PATH);
	}

	r = edit(old ? old : "", len, userdata, &new);
	if (r <= 0 || dry_run)
		return r;
	r = write_file_atomic_at(dfd, name, new, strlen(new), mode, uid, gid);
	if (r < 0)
		return log_error_errno(r, "Failed to write '%s': %m", FSTAB_PATH);
	return 1;
}

struct volume_edit {
	const char *volume_id;
	const char *line;
};

static int volume_edit(const char *old, size_t len, void *userdata, char **ret_new)
{
	const struct volume_edit *e = userdata;
	int r = fstab_rewrite(old, len, e->volume_id, e->line, ret_new);

	if (r < 0)
		return log_error_errno(r, "Failed to update the line for volume '%s' in '%s': %m",
				       e->volume_id, FSTAB_PATH);
	return r;
}

int fstab_update(const char *root, const char *volume_id, const char *line_or_null)
{
	struct volume_edit e = { .volume_id = volume_id, .line = line_or_null };
	int r = fstab_edit(root, volume_edit, &e, !!line_or_null, false);

	if (r > 0)
		log_info("%s the line for volume '%s' in '%s'", line_or_null ? "Wrote" : "Removed",
			 volume_id, FSTAB_PATH);
	return r;
}

int fstab_list_vagent(const char *root, struct fstab_entry **ret, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file(root, FSTAB_PATH, FSTAB_MAX, &text, &len);
	if (r == -ENOENT) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "Failed to read '%s' below '%s': %m", FSTAB_PATH,
				       root ? root : "/");
	return fstab_parse_vagent(text, len, ret, ret_n);
}
