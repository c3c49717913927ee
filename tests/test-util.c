/* SPDX-License-Identifier: MIT */
/* Unit tests for util.c: root-relative paths that never follow symlinks, atomic writes, capped
 * reads, rm_rf that stays on its filesystem, parsers for sizes and durations. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "tap.h"
#include "base/util.h"

static char root[] = "/tmp/vagent-test-util.XXXXXX";

static bool file_is(const char *path, const char *content)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (read_file(root, path, 1 << 20, &buf, &len) < 0)
		return false;
	return len == strlen(content) && memcmp(buf, content, len) == 0;
}

int main(void)
{
	_cleanup_free_ char *p = NULL, *name = NULL, *buf = NULL;
	char outside[512];
	uint64_t v;
	struct stat st;
	int fd;

	if (!mkdtemp(root))
		return 1;

	ok(write_file_atomic(root, "/etc/a/b/file", "hello\n", 6, 0640) == 0,
	   "write_file_atomic creates parents");
	ok(file_is("/etc/a/b/file", "hello\n"), "content written");
	p = path_join_root(root, "/etc/a/b/file");
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0640, "mode applied");
	ok(write_file_atomic(root, "/etc/a/b/file", "x", 1, 0600) == 0 && file_is("/etc/a/b/file", "x"),
	   "replaced atomically");

	/* No temp files are left behind. */
	{
		_cleanup_free_ char *d = path_join_root(root, "/etc/a/b");
		int n = 0;
		DIR *dir = opendir(d);
		struct dirent *de;
		while (dir && (de = readdir(dir)))
			n++;
		if (dir)
			closedir(dir);
		ok(n == 3, "no temp files left (%d entries)", n);
	}

	/* A symlinked directory component is refused, its target untouched. */
	snprintf(outside, sizeof(outside), "%s-outside", root);
	ok(mkdir(outside, 0755) == 0, "made an outside directory");
	{
		_cleanup_free_ char *l = path_join_root(root, "/link");
		ok(symlink(outside, l) == 0, "planted a symlink");
	}
	ok(write_file_atomic(root, "/link/evil", "x", 1, 0644) == -ELOOP ||
		   write_file_atomic(root, "/link/evil", "x", 1, 0644) == -ENOTDIR,
	   "write through a symlinked directory refused");
	{
		char t[600];
		snprintf(t, sizeof(t), "%s/evil", outside);
		ok(access(t, F_OK) < 0, "nothing written outside the root");
	}
	ok(path_open_dir(root, "/link", false, 0) < 0, "path_open_dir refuses a symlink");
	ok(path_open_dir(root, "/etc/../etc", false, 0) == -EINVAL, "'..' refused");

	/* read_file: caps, symlinks, missing. */
	ok(read_file(root, "/etc/a/b/file", 0, &buf, NULL) == -EFBIG, "cap enforced");
	ok(read_file(root, "/missing", 10, &buf, NULL) == -ENOENT, "missing is -ENOENT");
	{
		_cleanup_free_ char *l = path_join_root(root, "/etc/filelink");
		ok(symlink("/etc/passwd", l) == 0, "planted a file symlink");
		ok(read_file(root, "/etc/filelink", 1 << 20, &buf, NULL) == -ELOOP,
		   "read_file does not follow a symlink");
	}

	/* path_open_parent */
	fd = path_open_parent(root, "/etc/a/b/file", false, &name);
	ok(fd >= 0 && name && streq(name, "file"), "path_open_parent splits the name");
	if (fd >= 0)
		close(fd);

	/* rm_rf removes a tree but not through a symlink. */
	{
		char t[600];
		snprintf(t, sizeof(t), "%s/keep", outside);
		close(open(t, O_CREAT | O_WRONLY, 0644));
		_cleanup_free_ char *l = path_join_root(root, "/etc/a/outlink");
		ok(symlink(outside, l) == 0, "symlink inside the tree to remove");
		ok(rm_rf(root, "/etc/a") == 0, "rm_rf succeeds");
		ok(access(t, F_OK) == 0, "rm_rf did not follow the symlink");
		ok(rm_rf(root, "/etc/a") == 0, "rm_rf of a missing path is fine");
		unlink(t);
	}

	/* parsers */
	ok(parse_size("16M", &v) == 0 && v == 16ULL << 20, "parse_size 16M");
	ok(parse_size("1GiB", &v) == 0 && v == 1ULL << 30, "parse_size 1GiB");
	ok(parse_size("4096", &v) == 0 && v == 4096, "parse_size plain");
	ok(parse_size("-1", &v) < 0 && parse_size("1X", &v) < 0 && parse_size("", &v) < 0,
	   "parse_size rejects junk");
	ok(parse_size("99999999999999999999", &v) < 0, "parse_size rejects overflow");
	ok(parse_duration_usec("20s", &v) == 0 && v == 20000000ULL, "duration 20s");
	ok(parse_duration_usec("500ms", &v) == 0 && v == 500000ULL, "duration 500ms");
	ok(parse_duration_usec("2min", &v) == 0 && v == 120000000ULL, "duration 2min");
	ok(parse_duration_usec("7", &v) == 0 && v == 7000000ULL, "duration default unit s");
	ok(parse_duration_usec("1 fortnight", &v) < 0, "duration rejects junk");
	ok(string_has_control("a\tb", 3, true) == false && string_has_control("a\tb", 3, false),
	   "string_has_control and TAB");
	ok(string_has_control("a\x7f", 2, true), "DEL is a control character");

	rm_rf(NULL, root);
	rmdir(outside);
	return tap_done();
}
