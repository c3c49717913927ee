/* SPDX-License-Identifier: MIT */
/*
 * fuzz-config.c: config_load() on an arbitrary file (the input, put in a memfd and loaded by its
 * /proc/self/fd path, so config.c runs unchanged). Errors are -EINVAL (malformed) or -EFBIG
 * (too large); a file that loads keeps the invariants the steps rely on, and config_dump() of it
 * loads again to the same dump (so `--dump-config` output is always a valid file), and the
 * metadata URL's host is an address or a name to route.c.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/config.h"
#include "fuzz.h"
#include "metadata/route.h"

static int fd_in = -1, fd_dump = -1;
static char path_in[64], path_dump[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	fd_in = memfd_create("fuzz-config", MFD_CLOEXEC);
	fd_dump = memfd_create("fuzz-config-dump", MFD_CLOEXEC);
	if (fd_in < 0 || fd_dump < 0)
		abort();
	snprintf(path_in, sizeof(path_in), "/proc/self/fd/%d", fd_in);
	snprintf(path_dump, sizeof(path_dump), "/proc/self/fd/%d", fd_dump);
	return 0;
}

static void put(int fd, const void *d, size_t n)
{
	if (ftruncate(fd, 0) < 0 || (n && pwrite(fd, d, n, 0) != (ssize_t)n))
		abort();
}

static char *dump(const struct config *c, size_t *ret_n)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, ret_n);

	if (!f)
		abort();
	config_dump(c, f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, c2;
	char *d1, *d2;
	size_t n1, n2;
	int r;

	put(fd_in, data, size);
	FUZZ_ASSERT(config_init(&c) == 0);
	r = config_load(&c, path_in, true);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -EFBIG || r == -ENOMEM);
		config_done(&c);
		return 0;
	}
	FUZZ_ASSERT(strncmp(c.metadata_url, "http://", 7) == 0 ||
		    strncmp(c.metadata_url, "https://", 8) == 0);
	/* The URL's host as route.c reads it: an address, a name (-ENOENT), nothing else. */
	{
		struct route_target rt;
		int q = route_target_from_url(c.metadata_url, &rt);

		FUZZ_ASSERT(q == 0 || q == -ENOENT || q == -EINVAL);
		FUZZ_ASSERT(q != 0 || ((rt.sa.ss_family == AF_INET || rt.sa.ss_family == AF_INET6) &&
				       rt.len > 0 && rt.shown[0]));
	}
	FUZZ_ASSERT(c.mount_dir[0] == '/');
	FUZZ_ASSERT(c.ssh_user[0] && !strchr(c.ssh_user, '/') && !strchr(c.ssh_user, ':'));
	FUZZ_ASSERT(c.deadline_usec > 0 && c.connect_timeout_usec > 0 &&
		    c.request_timeout_usec > 0);
	FUZZ_ASSERT((unsigned)c.hostname_policy <= HOSTNAME_NEVER);
	FUZZ_ASSERT((unsigned)c.sshkeys_policy <= SSHKEYS_ADD_ONLY);
	FUZZ_ASSERT((unsigned)c.sshkeys_target <= SSHKEYS_TARGET_FILE);
	FUZZ_ASSERT((unsigned)c.fs_type <= FS_XFS);

	d1 = dump(&c, &n1);
	put(fd_dump, d1, n1);
	FUZZ_ASSERT(config_init(&c2) == 0);
	FUZZ_ASSERT(config_load(&c2, path_dump, true) == 0);
	d2 = dump(&c2, &n2);
	FUZZ_ASSERT(n1 == n2 && memcmp(d1, d2, n1) == 0);
	free(d1);
	free(d2);
	config_done(&c);
	config_done(&c2);
	return 0;
}
