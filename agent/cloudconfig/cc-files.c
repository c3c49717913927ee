/* SPDX-License-Identifier: MIT */
/*
 * cc-files.c: cloud-config write_files. Each entry's content is decoded (b64, gzip, gz+b64, as
 * Python's b64decode and gzip do), its owner (root:root by default, as cloud-init's
 * default_owner) resolved in ROOT/etc/passwd and ROOT/etc/group (not the host's), and the file
 * written atomically inside ROOT: parents are created 0755 one component at a time without
 * following a symlink and given to the file's owner, the file itself is replaced by rename (a
 * symlink in its place is replaced, never followed: cloud-init would write through it). append:
 * the old content is read through O_NOFOLLOW and the whole file rewritten. source: {uri,
 * headers} is fetched over http(s) through the step layer's fetch (cc-types.h struct cc_host;
 * the content is the fallback, as in cloud-init). One entry that fails does not stop the
 * others. Only paths, sizes and modes are logged, never a source's query string or headers.
 */
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>

#include "cloudconfig/cc-gzip.h"
#include "cloudconfig/cc-mime.h"
#include "cloudconfig/cc-modules.h"
#include "base/log.h"
#include "base/passwd.h"
#include "base/util.h"

/* The content as bytes, counted against *LEFT: -EDQUOT beyond it. */
static int decode(const struct cc_run *c, const struct cc_file *f, size_t *left, char **ret,
		  size_t *ret_len)
{
	_cleanup_free_ char *b = NULL;
	const char *p = f->content ? f->content : "";
	size_t n = f->content ? f->content_len : 0, blen;
	int r;

	switch (f->encoding) {
	case CC_ENC_TEXT:
		if (n > *left)
			return -EDQUOT;
		*ret = malloc(n + 1);
		if (!*ret)
			return -ENOMEM;
		memcpy(*ret, p, n);
		(*ret)[n] = 0;
		*ret_len = n;
		*left -= n;
		return 0;
	case CC_ENC_B64:
		r = base64_decode(p, n, BASE64_ASCII, ret, ret_len);
		if (r >= 0 && *ret_len > *left) {
			free(*ret);
			*ret = NULL;
			return -EDQUOT;
		}
		if (r >= 0)
			*left -= *ret_len;
		return r;
	case CC_ENC_GZIP:
		return gunzip_capped(p, n, c->cfg->max_userdata_size, left, ret, ret_len);
	case CC_ENC_GZIP_B64:
		r = base64_decode(p, n, BASE64_ASCII, &b, &blen);
		if (r < 0)
			return r;
		return gunzip_capped(b, blen, c->cfg->max_userdata_size, left, ret, ret_len);
	}
	return -EINVAL;
}

/*
 * write_files source: {uri, headers}: the body, not decoded (cloud-init's read_url_or_decode),
 * counted against *LEFT. 1 fetched into *RET, 0 use the content instead (a warning said why),
 * -ENOMEM. Never in a dry run: the plan says it would be fetched.
 */
static int fetch_source(const struct cc_run *c, const struct cc_file *f, size_t index,
			size_t *left, char **ret, size_t *ret_len)
{
	const char *u = f->source_uri;
	int r;

	if (strncasecmp(u, "http://", 7) != 0 && strncasecmp(u, "https://", 8) != 0) {
		log_warning("cloud-config write_files[%zu] '%s': the source is not an http(s) URL%s, "
			    "ignoring.", index, f->path, f->content ? ", the content is used" : "");
		return 0;
	}
	if (!c->host || !c->host->fetch) {
		log_warning("cloud-config write_files[%zu] '%s': no fetching in this run%s, "
			    "ignoring.", index, f->path, f->content ? ", the content is used" : "");
		return 0;
	}
	r = c->host->fetch(c->host->userdata, u, f->source_headers, *left, ret, ret_len);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		log_warning("cloud-config write_files[%zu] '%s': the source could not be fetched "
			    "(%s)%s, ignoring.", index, f->path,
			    r == -EFBIG ? "larger than the files' budget, max-userdata-size" :
					  strerror(-r),
			    f->content ? ", the content is used" : "");
		return 0;
	}
	*left -= *ret_len;
	return 1;
}

/* cloud-init's extract_usergroup: "user:group", each part stripped; empty, "-1" or "none" is no
 * change ((uid_t)-1, (gid_t)-1). */
static bool owner_part_unset(const char *s, size_t n)
{
	return n == 0 || (n == 2 && strncmp(s, "-1", 2) == 0) ||
	       (n == 4 && strncasecmp(s, "none", 4) == 0);
}

static int resolve_owner(const char *root, const char *owner, uid_t *ret_uid, gid_t *ret_gid)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *user = NULL, *group = NULL;
	const char *colon, *u, *g = NULL;
	size_t ulen, glen = 0;
	gid_t primary;
	int r;

	*ret_uid = (uid_t)-1;
	*ret_gid = (gid_t)-1;
	if (!owner) {
		/* cloud-init's default_owner, root:root: uid and gid 0 by definition */
		*ret_uid = 0;
		*ret_gid = 0;
		return 0;
	}
	colon = strchr(owner, ':');
	u = owner;
	ulen = colon ? (size_t)(colon - owner) : strlen(owner);
	while (ulen > 0 && (*u == ' ' || *u == '\t'))
		u++, ulen--;
	while (ulen > 0 && (u[ulen - 1] == ' ' || u[ulen - 1] == '\t'))
		ulen--;
	if (colon) {
		g = colon + 1;
		glen = strlen(g);
		while (glen > 0 && (*g == ' ' || *g == '\t'))
			g++, glen--;
		while (glen > 0 && (g[glen - 1] == ' ' || g[glen - 1] == '\t'))
			glen--;
	}
	if (!owner_part_unset(u, ulen)) {
		user = strndup(u, ulen);
		if (!user)
			return -ENOMEM;
		r = passwd_resolve_user(root, user, ret_uid, &primary);
		if (r < 0)
			return r;
	}
	if (g && !owner_part_unset(g, glen)) {
		group = strndup(g, glen);
		if (!group)
			return -ENOMEM;
		return passwd_resolve_group(root, group, ret_gid);
	}
	return 0;
}

static int write_one(const struct cc_run *c, const struct cc_file *f, size_t index, size_t *left)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *data = NULL, *old = NULL, *all = NULL, *name = NULL;
	_cleanup_close_ int dfd = -1;
	size_t len = 0, old_len = 0;
	struct stat st;
	bool from_source = false;
	uid_t uid;
	gid_t gid;
	int r;

	if (f->source_uri && !c->dry_run) {
		r = fetch_source(c, f, index, left, &data, &len);
		if (r == -ENOMEM)
			return log_error_errno(r, "Out of memory.");
		from_source = r > 0;
		if (!from_source && !f->content) {
			/* cloud-init: no content could be loaded, the entry is skipped (a warning,
			 * not a failure of the module) */
			log_warning("cloud-config write_files[%zu] '%s': no content could be loaded, "
				    "skipped.", index, f->path);
			cc_key_set(c, CC_WRITE_FILES, KEY_PARTIAL, "entry %zu skipped: its source "
				   "could not be fetched and it has no content", index);
			return 0;
		}
	}
	r = from_source ? 0 : decode(c, f, left, &data, &len);
	if (r == -ENOMEM)
		return log_error_errno(r, "Out of memory.");
	if (r == -EDQUOT)
		return log_error_errno(r,
				       "cloud-config write_files[%zu] '%s': the files together "
				       "exceed max-userdata-size (%zu bytes), refusing.",
				       index, f->path, (size_t)c->cfg->max_userdata_size);
	if (r < 0)
		return log_error_errno(r, "cloud-config write_files[%zu] '%s': the content does not "
					  "decode (%s).", index, f->path, strerror(-r));
	r = resolve_owner(c->root, f->owner, &uid, &gid);
	if (r == -ESRCH && c->dry_run && f->defer) {
		/* Deferred: the users module, which runs first, may create the owner. */
		cc_plan(c, "%-20s would write '%s' (%zu bytes, %04o, owner created by then?), "
			"deferred", "write_files", f->path, len, (unsigned)f->mode);
		return 1;
	}
	if (r == -ESRCH)
		return log_error_errno(r, "cloud-config write_files[%zu] '%s': owner not found in "
					  "/etc/passwd or /etc/group.", index, f->path);
	if (r < 0)
		return log_error_errno(r, "cloud-config write_files[%zu] '%s': cannot resolve the "
					  "owner: %m", index, f->path);

	if (c->dry_run && f->source_uri) {
		cc_plan(c, "%-20s would %s '%s' from its source (fetched then%s, %04o, uid %d, gid %d)%s",
			"write_files", f->append ? "append to" : "write", f->path,
			f->content ? "; the content if that fails" : "", (unsigned)f->mode,
			uid == (uid_t)-1 ? 0 : (int)uid, gid == (gid_t)-1 ? 0 : (int)gid,
			f->defer ? ", deferred" : "");
		return 1;
	}
	if (c->dry_run) {
		cc_plan(c, "%-20s would %s '%s' (%zu bytes, %04o, uid %d, gid %d)%s", "write_files",
			f->append ? "append to" : "write", f->path, len, (unsigned)f->mode,
			uid == (uid_t)-1 ? 0 : (int)uid, gid == (gid_t)-1 ? 0 : (int)gid,
			f->defer ? ", deferred" : "");
		return 1;
	}

	/* Directories it makes belong to the file's owner, as cloud-init's ensure_dir makes
	 * them (a file in a user's home gets that user's directories). */
	dfd = path_open_parent_owned(c->root, f->path, uid == 0 ? (uid_t)-1 : uid,
				     gid == 0 ? (gid_t)-1 : gid, &name);
	if (dfd == -ELOOP || dfd == -ENOTDIR)
		return log_error_errno(dfd, "cloud-config write_files[%zu] '%s': a parent directory "
					    "is a symlink or not a directory, refusing.",
				       index, f->path);
	if (dfd < 0)
		return log_error_errno(dfd, "cloud-config write_files[%zu] '%s': cannot open the "
					    "parent directory: %m", index, f->path);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return log_error_errno(-EISDIR, "cloud-config write_files[%zu] '%s' is a directory, "
						"refusing.", index, f->path);

	if (f->append) {
		_cleanup_close_ int ofd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
						 O_NOCTTY | O_NONBLOCK);
		struct stat ost;

		/* The old content becomes part of a file we write: never through a symlink and
		 * never through a hard link to a file elsewhere (its secrets would be copied). */
		if (ofd < 0 && errno != ENOENT)
			return log_error_errno(errno, "cloud-config write_files[%zu] '%s': cannot "
					       "read it to append (a symlink is refused): %m", index,
					       f->path);
		if (ofd >= 0 && (fstat(ofd, &ost) < 0 || !S_ISREG(ost.st_mode) || ost.st_nlink != 1))
			return log_error_errno(-EMLINK, "cloud-config write_files[%zu] '%s' is not a "
					       "plain file with one link, refusing to append to it.",
					       index, f->path);
		r = ofd >= 0 ? read_fd(ofd, c->cfg->max_userdata_size, &old, &old_len) : -ENOENT;
		if (r < 0 && r != -ENOENT)
			return log_error_errno(r, "cloud-config write_files[%zu] '%s': cannot read "
						  "it to append: %m", index, f->path);
		all = malloc(old_len + len + 1);
		if (!all)
			return log_error_errno(-ENOMEM, "Out of memory.");
		if (old_len)
			memcpy(all, old, old_len);
		memcpy(all + old_len, data, len);
		len += old_len;
		free(data);
		data = TAKE_PTR(all);
	}

	/* root:root (cloud-init's default owner) is who creates it: no chown, so a non-root test
	 * run can still write. */
	r = write_file_atomic_at(dfd, name, data, len, f->mode, uid == 0 ? (uid_t)-1 : uid,
				 gid == 0 ? (gid_t)-1 : gid);
	if (r < 0)
		return log_error_errno(r, "cloud-config write_files[%zu]: failed to write '%s': %m",
				       index, f->path);
	log_info("cloud-config write_files: wrote '%s' (%zu bytes, %04o).", f->path, len,
		 (unsigned)f->mode);
	return 1;
}

int cc_write_files(const struct cc_run *c, const struct cloud_config *cc, bool deferred,
		   size_t *n_ok, size_t *n_failed)
{
	size_t wrote = 0, failed = 0, unlimited = SIZE_MAX;
	size_t *left = c->files_left ? c->files_left : &unlimited;

	for (size_t i = 0; i < cc->n_files; i++) {
		if (cc->files[i].defer != deferred)
			continue;
		if (write_one(c, &cc->files[i], cc->files[i].index, left) < 0)
			failed++;
		else
			wrote++;
	}
	*n_ok += wrote;
	*n_failed += failed;
	if (failed > 0)
		return -EIO;
	return wrote > 0;
}
