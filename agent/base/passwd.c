/* SPDX-License-Identifier: MIT */
/*
 * passwd.c: reading ROOT/etc/passwd and ROOT/etc/group (passwd.h): one colon-separated line
 * reader, strict numeric ids (no silent truncation to 32 bits: "4294967296" is not uid 0).
 */
#include <stdint.h>

#include "base/passwd.h"
#include "base/util.h"

#define ACCOUNTS_FILE_MAX (16U << 20)

void passwd_entry_done(struct passwd_entry *p)
{
	free(p->name);
	free(p->home);
	free(p->shell);
	*p = (struct passwd_entry){};
}

/* A uid or gid: decimal, 0 .. 2^32-2 ((uid_t)-1 means "unchanged" to chown). */
static int parse_id(const char *s, uint32_t *ret)
{
	uint64_t v;

	if (parse_u64(s, &v) < 0)
		return -EINVAL;
	if (v >= UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

/*
 * Find the line of FILE whose field 0 is NAME, or (BY_ID) whose field 2 is ID; split into at
 * most 7 fields in *F (pointing into *RET_BUF). Returns the number of fields, -ESRCH when none.
 */
static int find_line(const char *root, const char *file, const char *name, bool by_id,
		     uint32_t id, char **ret_buf, char *f[static 7])
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = read_file(root, file, ACCOUNTS_FILE_MAX, &buf, NULL);
	if (r == -ENOENT)
		return -ESRCH;
	if (r < 0)
		return r;
	for (char *line = buf, *next; line; line = next) {
		char *s = line;
		uint32_t v;
		int n = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		for (int i = 0; i < 7; i++)
			f[i] = NULL;
		while (n < 7 && s)
			f[n++] = strsep(&s, ":");
		if (n < 3)
			continue;
		if (by_id ? (parse_id(f[2], &v) < 0 || v != id) : !streq(f[0], name))
			continue;
		*ret_buf = TAKE_PTR(buf);
		return n;
	}
	return -ESRCH;
}

int passwd_lookup(const char *root, const char *user, struct passwd_entry *ret)
{
	_cleanup_free_ char *buf = NULL;
	char *f[7];
	uint32_t uid, gid;
	int n;

	n = find_line(root, "/etc/passwd", user, false, 0, &buf, f);
	if (n < 0)
		return n;
	if (n < 6 || parse_id(f[2], &uid) < 0 || parse_id(f[3], &gid) < 0 || f[5][0] != '/')
		return -EINVAL;
	*ret = (struct passwd_entry){ .uid = uid, .gid = gid };
	ret->name = strdup(f[0]);
	ret->home = strdup(f[5]);
	ret->shell = strdup(n > 6 ? f[6] : "");
	if (!ret->name || !ret->home || !ret->shell) {
		passwd_entry_done(ret);
		return -ENOMEM;
	}
	return 0;
}

static bool is_number(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

int passwd_resolve_user(const char *root, const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
	_cleanup_free_ char *buf = NULL;
	char *f[7];
	uint32_t uid = 0, gid;
	bool by_id = is_number(name);
	int n;

	if (by_id) {
		n = parse_id(name, &uid);
		if (n < 0)
			return -ERANGE;
	}
	n = find_line(root, "/etc/passwd", name, by_id, uid, &buf, f);
	if (n == -ESRCH && by_id) {
		*ret_uid = uid;
		*ret_gid = uid;
		return 0;
	}
	if (n < 0)
		return n;
	if (n < 4 || parse_id(f[2], &uid) < 0 || parse_id(f[3], &gid) < 0)
		return -EINVAL;
	*ret_uid = uid;
	*ret_gid = gid;
	return 0;
}

int passwd_resolve_group(const char *root, const char *name, gid_t *ret_gid)
{
	_cleanup_free_ char *buf = NULL;
	char *f[7];
	uint32_t gid = 0;
	bool by_id = is_number(name);
	int n;

	if (by_id) {
		n = parse_id(name, &gid);
		if (n < 0)
			return -ERANGE;
	}
	n = find_line(root, "/etc/group", name, by_id, gid, &buf, f);
	if (n == -ESRCH && by_id) {
		*ret_gid = gid;
		return 0;
	}
	if (n < 0)
		return n;
	if (parse_id(f[2], &gid) < 0)
		return -EINVAL;
	*ret_gid = gid;
	return 0;
}
