/* SPDX-License-Identifier: MIT */
/* Unit tests for systemd.c and dlopen.c: unit names from paths (systemd-escape --path's
 * answers, and `systemd-escape` itself on this machine when it is installed), the journal's
 * native datagram byte for byte (a value with a newline in the binary form) on a socket of
 * our own, sd_notify's datagram on a path and an abstract socket, dl_load() of a present and
 * a missing library, the bus request without a systemd to answer it. */
#include <sys/socket.h>
#include <sys/un.h>

#include "base/dlopen.h"
#include "base/systemd.h"
#include "base/journal.h"
#include "base/util.h"
#include "tap.h"

static const struct {
	const char *path, *unit;
} names[] = {
	{ "/mnt/blk-virtio-0001", "mnt-blk\\x2dvirtio\\x2d0001.mount" },
	{ "/", "-.mount" },
	{ "/mnt//a/", "mnt-a.mount" },
	{ "/.hidden/x", "\\x2ehidden-x.mount" },
	{ "/mnt/a b", "mnt-a\\x20b.mount" },
	{ "/mnt/a\\b", "mnt-a\\x5cb.mount" },
	{ "/mnt/\xc3\xa9", "mnt-\\xc3\\xa9.mount" },
	{ "/mnt/a.b/.c", "mnt-a.b-.c.mount" },
	{ "/mnt/a:b_c", "mnt-a:b_c.mount" },
	{ "/mnt/-x", "mnt-\\x2dx.mount" },
};

static void test_unit_names(void)
{
	bool have_escape = access("/usr/bin/systemd-escape", X_OK) == 0;
	char *u = NULL, big[300];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		int r = unit_name_from_path(names[i].path, ".mount", &u);

		ok(r == 0 && u && streq(u, names[i].unit), "unit name of '%s' is '%s' (got '%s')",
		   names[i].path, names[i].unit, u ? u : "(none)");
		if (have_escape && u) {
			char cmd[512], out[512] = "";
			FILE *f;

			snprintf(cmd, sizeof(cmd), "systemd-escape --path --suffix=mount -- '%s'",
				 names[i].path);
			f = popen(cmd, "r");
			if (f) {
				if (!fgets(out, sizeof(out), f))
					out[0] = 0;
				pclose(f);
			}
			out[strcspn(out, "\n")] = 0;
			ok(streq(out, u), "systemd-escape agrees on '%s' ('%s')", names[i].path, out);
		}
		free(u);
		u = NULL;
	}
	ok(unit_name_from_path("mnt/x", ".mount", &u) == -EINVAL && !u, "a relative path is refused");
	ok(unit_name_from_path("/mnt/../x", ".mount", &u) == -EINVAL, "'..' is refused");
	ok(unit_name_from_path("/mnt/./x", ".mount", &u) == -EINVAL, "'.' is refused");
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = 0;
	ok(unit_name_from_path(big, ".mount", &u) == -ENAMETOOLONG, "a name over 255 bytes is refused");
}

static int bound_socket(const char *path, bool abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len;

	if (fd < 0)
		return -1;
	if (abstract) {
		memcpy(sa.sun_path + 1, path, strlen(path));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	} else {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		len = sizeof(sa);
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_journal(const char *dir)
{
	static const char want[] = "MESSAGE=hello\n"
				   "PRIORITY=5\n"
				   "MULTI\n\x06\0\0\0\0\0\0\0a\nb\n=c\n"
				   "EMPTY=\n";
	const char *fields[] = { "MESSAGE=hello", "PRIORITY=5", "MULTI=a\nb\n=c", "EMPTY=" };
	char path[256], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/journal", dir);
	fd = bound_socket(path, false);
	ok(fd >= 0, "a datagram socket stands in for journald");
	journal_set_socket(path);
	ok(journal_send(fields, ARRAY_SIZE(fields)) == 0, "journal_send: sent");
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	ok(n == (ssize_t)(sizeof(want) - 1) && memcmp(buf, want, sizeof(want) - 1) == 0,
	   "journal_send: the native protocol, newline-bearing value as NAME\\nLE64 length\\nbytes\\n "
	   "(%zd bytes)",
	   n);
	ok(journal_send((const char *[]){ "NOEQUALS" }, 1) == -EINVAL, "a field without '=' is refused");
	ok(journal_send((const char *[]){ "=x" }, 1) == -EINVAL, "a field without a name is refused");
	close(fd);
	unlink(path);
	ok(journal_send(fields, 1) < 0, "no journald listening: an error, so the caller prints instead");
	journal_set_socket(NULL);
}

static void test_notify(const char *dir)
{
	char path[256], abs_name[64], buf[64];
	ssize_t n;
	int fd;

	unsetenv("NOTIFY_SOCKET");
	ok(notify_send("READY=1") == 0, "notify_send without $NOTIFY_SOCKET: nothing to do");

	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = bound_socket(path, false);
	setenv("NOTIFY_SOCKET", path, 1);
	ok(fd >= 0 && notify_send("STATUS=scanning") == 1, "notify_send to a path socket");
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	ok(n == 15 && memcmp(buf, "STATUS=scanning", 15) == 0, "the state, as one datagram");
	if (fd >= 0)
		close(fd);

	snprintf(abs_name, sizeof(abs_name), "vagent-test-%d", (int)getpid());
	fd = bound_socket(abs_name, true);
	snprintf(path, sizeof(path), "@%s", abs_name);
	setenv("NOTIFY_SOCKET", path, 1);
	ok(fd >= 0 && notify_send("READY=1") == 1, "notify_send to an abstract socket (@name)");
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	ok(n == 7 && memcmp(buf, "READY=1", 7) == 0, "the abstract socket got READY=1");
	if (fd >= 0)
		close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_dlopen(void)
{
	static struct {
		size_t (*strlen)(const char *);
	} libc_sym;
	static struct {
		void (*nothing)(void);
	} missing_sym;
	void *h = NULL, *h2 = NULL;
	const struct dl_symbol syms[] = { DL_SYMBOL(libc_sym, strlen) };
	const struct dl_symbol bad[] = { DL_SYMBOL(missing_sym, nothing) };

	ok(dl_load(&h, "libc.so.6", "test", syms, 1) == 0 && h && libc_sym.strlen &&
		   libc_sym.strlen("four") == 4,
	   "dl_load: libc.so.6's strlen resolved and callable");
	ok(dl_load(&h, "libc.so.6", "test", syms, 1) == 0, "dl_load: a second call is a no-op");
	ok(dl_load(&h2, "libvagent-does-not-exist.so.9", "test", bad, 1) == -ENOPKG && !h2,
	   "dl_load: a missing library is -ENOPKG");
	ok(dl_load(&h2, "libc.so.6", "test", bad, 1) == -ENOPKG && !h2 && !missing_sym.nothing,
	   "dl_load: a missing symbol is -ENOPKG, nothing left resolved");
}

/*
 * The bus side with the real libsystemd (dlopen'ed by systemd.c): without a running systemd
 * (no /run/systemd/private, no system bus) the request cannot be made and the caller is told
 * -ENOTCONN, its cue to mount by itself. On a machine run by systemd a real transient mount
 * needs a real block device: that is exercised by tests/vm (the volumes of the first boot).
 */
static void test_bus(void)
{
	const struct transient_mount m = {
		.what = "/dev/null-vagent-test",
		.where = "/mnt/vagent-test-never",
		.type = "ext4",
		.timeout_usec = 1000000,
	};

	if (systemd_booted() || access("/run/dbus/system_bus_socket", F_OK) == 0) {
		printf("ok %d # SKIP systemd or a system bus runs here: a real transient mount "
		       "needs a block device, tests/vm does it\n", ++tap_n);
		return;
	}
	ok(systemd_mount_transient(&m) == -ENOTCONN,
	   "no systemd to ask: systemd_mount_transient() is -ENOTCONN (the caller mounts itself)");
}

int main(void)
{
	char dir[] = "/tmp/vagent-test-systemd.XXXXXX";

	if (!mkdtemp(dir))
		return 1;
	test_unit_names();
	test_journal(dir);
	test_notify(dir);
	test_dlopen();
	test_bus();
	(void)rmdir(dir);
	return tap_done();
}
