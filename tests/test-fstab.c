/* SPDX-License-Identifier: MIT */
/*
 * test-fstab.c: TAP tests for fstab.c. The text functions are checked byte for byte (foreign
 * lines, comments, tabs and a missing final newline survive every rewrite), and fstab_update()
 * is exercised on a temporary root: mode kept, no write when nothing changes, symlinks refused.
 * Needs no privileges.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "base/fstab.h"
#include "base/log.h"
#include "tap.h"
#include "base/util.h"

/* asprintf() that never returns NULL (a test has no use for OOM handling). */
static char *fmt(const char *f, ...) _printf_(1, 2);
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static bool str_is(const char *got, const char *want)
{
	if (got && want && streq(got, want))
		return true;
	printf("# got:  \"%s\"\n# want: \"%s\"\n", got ? got : "(null)", want ? want : "(null)");
	return false;
}

#define FOREIGN                                                                                    \
	"# /etc/fstab: static file system information.\n"                                          \
	"#\n"                                                                                      \
	"UUID=1111-2222\t/\text4\terrors=remount-ro\t0\t1\n"                                       \
	"\n"                                                                                       \
	"  # indented comment X-vagent.volume=vol1 must stay\n"                                    \
	"/dev/sr0  /media/cdrom0   udf,iso9660 user,noauto 0 0   \n"                               \
	"tmpfs /tmp tmpfs defaults,X-vagent.volume=vol10 0 0"

static void test_line(void)
{
	_cleanup_free_ char *l = NULL, *s = NULL;

	l = fstab_line("0b4f-aa", "/mnt/vol1", FS_EXT4, "vol1");
	ok(str_is(l, "UUID=0b4f-aa /mnt/vol1 ext4 "
		     "defaults,nofail,x-systemd.device-timeout=10s,x-systemd.before=vagent-storage.service,X-vagent.volume=vol1 0 2"),
	   "line format (ext4)");

	s = fstab_line("0b4f-aa", "/mnt/my vol\\x", FS_XFS, "vol_2-b");
	ok(str_is(s, "UUID=0b4f-aa /mnt/my\\040vol\\134x xfs "
		     "defaults,nofail,x-systemd.device-timeout=10s,x-systemd.before=vagent-storage.service,X-vagent.volume=vol_2-b 0 2"),
	   "space and backslash in the mount point escaped as octal");

	ok(!fstab_line("0b4f-aa", "/mnt/x", FS_EXT4, "bad id") && errno == EINVAL,
	   "volume id with a space refused");
	ok(!fstab_line("0b4f aa", "/mnt/x", FS_EXT4, "v") && errno == EINVAL,
	   "uuid with a space refused");
	ok(!fstab_line("0b4f", "relative", FS_EXT4, "v") && errno == EINVAL,
	   "relative mount point refused");
	ok(!fstab_volume_id_valid("") && !fstab_volume_id_valid("-x") &&
		   !fstab_volume_id_valid("a/b") && !fstab_volume_id_valid("a,b") &&
		   fstab_volume_id_valid("vol-1_A"),
	   "volume id validation");
}

static void test_rewrite(void)
{
	_cleanup_free_ char *l1 = fstab_line("aaaa-1111", "/mnt/vol1", FS_EXT4, "vol1");
	_cleanup_free_ char *l1b = fstab_line("bbbb-2222", "/mnt/vol1", FS_EXT4, "vol1");
	_cleanup_free_ char *added = NULL, *again = NULL, *replaced = NULL, *removed = NULL;
	_cleanup_free_ char *mid = NULL, *mid2 = NULL, *dup = NULL, *empty = NULL, *want = NULL;
	struct fstab_entry *e = NULL;
	size_t n = 0;
	int r;

	/* add to a file without a final newline: one newline goes in before our line */
	r = fstab_rewrite(FOREIGN, strlen(FOREIGN), "vol1", l1, &added);
	want = fmt("%s\n%s\n", FOREIGN, l1);
	ok(r == 1 && str_is(added, want), "add: foreign text byte for byte, newline inserted");

	/* the same again: nothing to do, nothing returned */
	r = fstab_rewrite(added, strlen(added), "vol1", l1, &again);
	ok(r == 0 && !again, "idempotent: unchanged text gives 0 and no buffer");

	/* replace */
	r = fstab_rewrite(added, strlen(added), "vol1", l1b, &replaced);
	free(want);
	want = fmt("%s\n%s\n", FOREIGN, l1b);
	ok(r == 1 && str_is(replaced, want), "replace in place");

	/* remove: the newline we inserted stays (it now ends the foreign text, harmless) */
	r = fstab_rewrite(replaced, strlen(replaced), "vol1", NULL, &removed);
	free(want);
	want = fmt("%s\n", FOREIGN);
	ok(r == 1 && str_is(removed, want), "remove leaves foreign lines untouched");

	/* removing what is not there */
	r = fstab_rewrite(FOREIGN, strlen(FOREIGN), "vol1", NULL, &empty);
	ok(r == 0 && !empty, "remove of a missing line is a no-op (vol10 and comments ignored)");

	/* replace in the middle keeps the position and the surrounding bytes */
	{
		_cleanup_free_ char *text = NULL;
		text = fmt("a b c d 0 0\n%s\n\t# tail\t\n", l1);
		r = fstab_rewrite(text, strlen(text), "vol1", l1b, &mid);
		free(want);
		want = fmt("a b c d 0 0\n%s\n\t# tail\t\n", l1b);
		ok(r == 1 && str_is(mid, want), "replace in the middle");
		r = fstab_rewrite(text, strlen(text), "vol1", NULL, &mid2);
		ok(r == 1 && str_is(mid2, "a b c d 0 0\n\t# tail\t\n"), "remove in the middle");
	}

	/* duplicates: first replaced, the rest dropped; last line without newline */
	{
		_cleanup_free_ char *text = NULL;
		text = fmt("%s\nx y z w 0 0\n%s", l1, l1);
		r = fstab_rewrite(text, strlen(text), "vol1", l1b, &dup);
		free(want);
		want = fmt("%s\nx y z w 0 0\n", l1b);
		ok(r == 1 && str_is(dup, want), "duplicate lines collapse into one");
	}

	/* a line for another volume is refused as LINE */
	{
		_cleanup_free_ char *x = NULL;
		ok(fstab_rewrite("", 0, "vol2", l1, &x) == -EINVAL && !x,
		   "LINE must carry the volume's own marker");
	}

	/* empty file */
	{
		_cleanup_free_ char *x = NULL;
		free(want);
		want = fmt("%s\n", l1);
		ok(fstab_rewrite("", 0, "vol1", l1, &x) == 1 && str_is(x, want),
		   "add to an empty file");
	}

	/* parse back */
	{
		_cleanup_free_ char *sp = fstab_line("cc-33", "/mnt/a b", FS_XFS, "v3");
		_cleanup_free_ char *text = NULL;
		text = fmt("%s%s\n", added, sp);
		r = fstab_parse_vagent(text, strlen(text), &e, &n);
		ok(r == 0 && n == 3, "parse: three vagent lines (vol10 in a foreign line counts)");
		ok(n == 3 && streq(e[1].volume_id, "vol1") && streq(e[1].spec, "UUID=aaaa-1111") &&
			   streq(e[1].mountpoint, "/mnt/vol1") && streq(e[1].fstype, "ext4"),
		   "parse: fields of our line");
		ok(n == 3 && streq(e[2].mountpoint, "/mnt/a b") && streq(e[2].fstype, "xfs"),
		   "parse: mount point unescaped");
		fstab_entries_free(e, n);
	}
}

static int write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -EIO;
	}
	fchmod(fd, mode);
	close(fd);
	return 0;
}

static void test_update(void)
{
	char root[] = "/tmp/test-fstab.XXXXXX";
	_cleanup_free_ char *etc = NULL, *path = NULL, *text = NULL, *l1 = NULL, *want = NULL;
	struct fstab_entry *e = NULL;
	struct stat st1, st2;
	size_t n;
	int r;

	if (!mkdtemp(root)) {
		ok(false, "mkdtemp: %m");
		return;
	}
	etc = path_join(root, "etc");
	path = path_join(root, "etc/fstab");
	l1 = fstab_line("aaaa-1111", "/mnt/vol1", FS_EXT4, "vol1");

	ok(fstab_update(root, "vol1", NULL) == 0, "remove without /etc: nothing created");
	ok(access(etc, F_OK) < 0, "no /etc created for a removal");

	r = fstab_update(root, "vol1", l1);
	ok(r == 1 && stat(path, &st1) == 0 && (st1.st_mode & 07777) == 0644,
	   "new fstab created with 0644");
	rm_rf(NULL, path);

	mkdir(etc, 0755);
	write_text(path, FOREIGN, 0600);
	r = fstab_update(root, "vol1", l1);
	ok(r == 1, "update adds the line");
	stat(path, &st1);
	ok((st1.st_mode & 07777) == 0600, "mode 0600 kept");
	read_file(root, "/etc/fstab", 1 << 20, &text, NULL);
	want = fmt("%s\n%s\n", FOREIGN, l1);
	ok(str_is(text, want), "file content");

	r = fstab_update(root, "vol1", l1);
	stat(path, &st2);
	ok(r == 0 && st1.st_ino == st2.st_ino, "unchanged: no write (same inode)");

	ok(fstab_list_vagent(root, &e, &n) == 0 && n == 2 && streq(e[1].volume_id, "vol1"),
	   "list vagent lines");
	fstab_entries_free(e, n);

	r = fstab_update(root, "vol1", NULL);
	free(text);
	text = NULL;
	read_file(root, "/etc/fstab", 1 << 20, &text, NULL);
	free(want);
	want = fmt("%s\n", FOREIGN);
	ok(r == 1 && str_is(text, want), "update removes the line");

	/* symlinked fstab refused, target untouched */
	{
		_cleanup_free_ char *target = path_join(root, "target");
		write_text(target, "keep\n", 0644);
		unlink(path);
		symlink(target, path);
		log_set_max_level(LOG_EMERG);
		r = fstab_update(root, "vol1", l1);
		log_set_max_level(LOG_NOTICE);
		free(text);
		text = NULL;
		read_file(root, "/target", 1 << 20, &text, NULL);
		ok(r < 0 && str_is(text, "keep\n"), "symlinked fstab refused (r=%d)", r);
	}

	rm_rf(NULL, root);
}

/*
 * Regression (tests/fuzz/fuzz-fstab): a NUL byte in /etc/fstab made fstab_rewrite() return a
 * text that fstab_update() wrote up to the NUL only, dropping the rest of the file and the new
 * line. Such a file is now refused and left as it is.
 */
static void test_nul_byte(void)
{
	char root[] = "/tmp/test-fstab-nul.XXXXXX";
	const char *srcdir = getenv("srcdir") ?: ".";
	_cleanup_free_ char *fixture = fmt("%s/tests/fixtures/fstab-nul-byte", srcdir);
	_cleanup_free_ char *old = NULL, *new = NULL, *after = NULL, *etc = NULL, *l1 = NULL;
	_cleanup_free_ char *path = NULL;
	size_t len = 0, after_len = 0;
	int r, fd;

	if (read_file(NULL, fixture, 1 << 20, &old, &len) < 0 || !memchr(old, 0, len)) {
		ok(false, "read fixture %s", fixture);
		return;
	}
	l1 = fstab_line("aaaa-1111", "/mnt/vol1", FS_EXT4, "vol1");
	r = fstab_rewrite(old, len, "vol1", l1, &new);
	ok(r == -EBADMSG && !new, "NUL byte: rewrite refused (r=%d)", r);
	r = fstab_rewrite(old, len, "vol1", NULL, &new);
	ok(r == -EBADMSG && !new, "NUL byte: removal refused too (r=%d)", r);

	if (!mkdtemp(root)) {
		ok(false, "mkdtemp: %m");
		return;
	}
	etc = path_join(root, "etc");
	path = path_join(root, "etc/fstab");
	mkdir(etc, 0755);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, old, len) != (ssize_t)len || close(fd) < 0) {
		ok(false, "write fstab");
		return;
	}
	log_set_max_level(LOG_EMERG);
	r = fstab_update(root, "vol1", l1);
	log_set_max_level(LOG_NOTICE);
	read_file(root, "/etc/fstab", 1 << 20, &after, &after_len);
	ok(r == -EBADMSG && after && after_len == len && memcmp(after, old, len) == 0,
	   "NUL byte: fstab_update fails and keeps the file byte for byte (r=%d)", r);
	rm_rf(NULL, root);
}

int main(void)
{
	test_line();
	test_rewrite();
	test_update();
	test_nul_byte();
	return tap_done();
}
