/* SPDX-License-Identifier: MIT */
/*
 * test-scan.c: TAP unit tests for scan.c that need no block device: the quick plan (sorted,
 * disjoint, aligned, inside the range, and covering what scan.h promises: both 8 MiB ends,
 * 8 KiB around every MiB boundary, the DOS cylinder starts, ext4 backup superblocks of a
 * filesystem at sector 63, XFS AG headers of a whole-disk XFS, its cost on 1 TiB), full and
 * quick scans of a sparse regular file with non-zero bytes placed in and between the regions,
 * auto's fallback to quick, and the progress file's parser, formatter and listing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "storage/scan.h"
#include "tap.h"

#define MIB (UINT64_C(1) << 20)

/* Is [from, to) read by the (sorted) regions, possibly by several adjacent ones? */
static bool covered(const uint64_t *p, size_t n, uint64_t from, uint64_t to)
{
	uint64_t pos = from;

	for (size_t i = 0; i < n && pos < to; i++)
		if (p[2 * i] <= pos && p[2 * i] + p[2 * i + 1] > pos)
			pos = p[2 * i] + p[2 * i + 1];
	return pos >= to;
}

static void test_plan(void)
{
	uint64_t *p = NULL, size = 10ULL << 30, total = 0;
	size_t n = 0;
	bool sorted = true, aligned = true, inside = true;
	bool bounds = true, cyl = true, ext4 = true;

	int r = scan_quick_plan(size, 512, &p, &n);

	ok(r == 0 && n > 0, "quick plan for 10 GiB: %zu regions", n);
	for (size_t i = 0; i < n; i++) {
		total += p[2 * i + 1];
		if (i > 0 && p[2 * i] < p[2 * i - 2] + p[2 * i - 1])
			sorted = false;
		if (p[2 * i] % 512 || p[2 * i + 1] % 512 || p[2 * i + 1] == 0)
			aligned = false;
		if (p[2 * i] + p[2 * i + 1] > size)
			inside = false;
	}
	ok(sorted, "regions sorted and disjoint");
	ok(aligned, "regions sector-aligned");
	ok(inside, "regions inside the device");
	ok(covered(p, n, 0, 8 * MIB) && covered(p, n, size - 8 * MIB, size), "first and last 8 MiB");
	for (uint64_t k = 8 * MIB; k < size - 8 * MIB; k += MIB)
		if (!covered(p, n, k - 8192, k + 8192))
			bounds = false;
	ok(bounds, "8 KiB either side of every MiB boundary");
	for (uint64_t c = 255 * 63 * 512; c < size - 8 * MIB; c += 255 * 63 * 512)
		if (!covered(p, n, c, c + 4096) || !covered(p, n, c + 63 * 512, c + 63 * 512 + 4096))
			cyl = false;
	ok(cyl, "every DOS cylinder start and 63 sectors after it");
	/* ext4 with 4 KiB blocks at sector 63: backups in groups 1, 3, 5, 7, 9, 25, 27, 49. */
	for (uint64_t g = 1; g <= 49; g++)
		if ((g == 1 || g == 3 || g == 5 || g == 7 || g == 9 || g == 25 || g == 27 || g == 49) &&
		    !covered(p, n, 63 * 512 + g * 128 * MIB, 63 * 512 + g * 128 * MIB + 2048))
			ext4 = false;
	ok(ext4, "ext4 backup superblocks of a filesystem at sector 63");
	/* mkfs.xfs on the whole 10 GiB: 4 AGs of 655360 blocks. */
	ok(covered(p, n, 655360ULL * 4096, 655360ULL * 4096 + 2048) &&
		   covered(p, n, 3 * 655360ULL * 4096, 3 * 655360ULL * 4096 + 2048),
	   "XFS AG headers of a whole-disk XFS");
	ok(total < size / 20, "10 GiB: %.2f %% read", 100.0 * (double)total / (double)size);
	free(p);

	r = scan_quick_plan(1ULL << 40, 512, &p, &n);
	ok(r == 0, "quick plan for 1 TiB");
	total = 0;
	for (size_t i = 0; i < n; i++)
		total += p[2 * i + 1];
	ok(total < (1ULL << 40) / 40, "1 TiB: %zu regions, %.2f %% read", n,
	   100.0 * (double)total / (double)(1ULL << 40));
	free(p);
	ok(scan_quick_plan(4 * MIB + 512, 4096, &p, &n) == 0 && n == 1 && p[0] == 0 &&
		   p[1] == 4 * MIB,
	   "a tiny range: one region, whole 4K sectors");
	free(p);
}

static int sparse_file(uint64_t size, const uint64_t *marks, size_t n)
{
	char tmpl[] = "/var/tmp/test-scan.XXXXXX";
	int fd = mkstemp(tmpl);

	if (fd < 0)
		return -1;
	(void)unlink(tmpl);
	if (ftruncate(fd, (off_t)size) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (pwrite(fd, "\x5a", 1, (off_t)marks[i]) != 1)
			return -1;
	return fd;
}

static void test_scan(void)
{
	struct scan_options o = { .mode = VERIFY_FULL, .name = "test", .sector_size = 512 };
	struct scan_result r;
	uint64_t size = 64 * MIB, mark;
	int fd, rc;

	fd = sparse_file(size, NULL, 0);
	ok(fd >= 0 && scan_device(fd, size, &o, &r) == 0 && !r.found && r.full &&
		   r.bytes_read == size,
	   "full: an all-zero file, every byte read");
	scan_result_done(&r);
	o.mode = VERIFY_QUICK;
	rc = scan_device(fd, size, &o, &r);
	ok(rc == 0 && !r.found && r.quick && !r.full,
	   "quick: all zero, %llu of %llu bytes read", (unsigned long long)r.bytes_read,
	   (unsigned long long)size);
	scan_result_done(&r);
	close(fd);

	mark = 40 * MIB + 100; /* inside a boundary region */
	fd = sparse_file(size, &mark, 1);
	o.mode = VERIFY_QUICK;
	ok(fd >= 0 && scan_device(fd, size, &o, &r) == 0 && r.found && r.offset == mark &&
		   r.bytes[0] == 0x5a,
	   "quick finds a byte just after a MiB boundary at its offset");
	scan_result_done(&r);
	close(fd);

	mark = 40 * MIB + 300 * 1024; /* between the regions (no sample lands there) */
	fd = sparse_file(size, &mark, 1);
	o.mode = VERIFY_FULL;
	ok(fd >= 0 && scan_device(fd, size, &o, &r) == 0 && r.found && r.offset == mark,
	   "full finds a byte between the quick regions");
	scan_result_done(&r);
	o.start = 41 * MIB;
	o.end = 60 * MIB;
	ok(scan_device(fd, size, &o, &r) == 0 && !r.found && r.bytes_read == 19 * MIB,
	   "a range after the byte reads zero");
	scan_result_done(&r);
	o.start = o.end = 0;
	close(fd);

	/* auto decides once 64 MiB are read: a smaller file is read in full whatever the budget,
	 * a bigger one falls back to quick when the rate does not fit the budget. */
	o.mode = VERIFY_AUTO;
	o.budget_usec = 1;
	fd = sparse_file(32 * MIB, NULL, 0);
	rc = fd >= 0 ? scan_device(fd, 32 * MIB, &o, &r) : -1;
	ok(rc == 0 && r.full && !r.quick && r.why && strstr(r.why, "small enough"),
	   "auto, 32 MiB: %s", r.why ? r.why : "?");
	scan_result_done(&r);
	close(fd);
	fd = sparse_file(256 * MIB, NULL, 0);
	rc = fd >= 0 ? scan_device(fd, 256 * MIB, &o, &r) : -1;
	ok(rc == 0 && !r.full && r.quick && r.why && strstr(r.why, "so quick"),
	   "auto, 256 MiB, 1 us budget: %s", r.why ? r.why : "?");
	scan_result_done(&r);
	close(fd);
	o.budget_usec = 3600ULL * 1000000ULL;
	fd = sparse_file(256 * MIB, NULL, 0);
	rc = fd >= 0 ? scan_device(fd, 256 * MIB, &o, &r) : -1;
	ok(rc == 0 && r.full && !r.quick && r.why && strstr(r.why, "fits the 1 h 0 min budget"),
	   "auto, 256 MiB, 1 h budget: %s", r.why ? r.why : "?");
	scan_result_done(&r);
	close(fd);
}

static int parse_str(const char *s, struct scan_progress *p)
{
	return scan_progress_parse(s, strlen(s), p);
}

/*
 * A read error is never "zero": the scan fails with it, whether the device is otherwise blank
 * or holds data above it; data below it is found first. The error comes from the test build's
 * fault injection (fault.h: a read covering VAGENT_FAULT_OFFSET fails with EIO).
 */
static void test_read_error(void)
{
#ifdef VAGENT_FAULT_INJECTION
	struct scan_options o = { .mode = VERIFY_FULL, .name = "test", .sector_size = 512 };
	struct scan_result r;
	uint64_t size = 16 * MIB, mark;
	int fd, rc;

	setenv("VAGENT_FAULT", "read-error", 1);
	setenv("VAGENT_FAULT_OFFSET", "5243000", 1); /* in the sixth MiB */
	fd = sparse_file(size, NULL, 0);
	rc = fd >= 0 ? scan_device(fd, size, &o, &r) : -EBADF;
	ok(rc == -EIO, "full: a read error on an otherwise blank device fails the scan (%d)", rc);
	if (rc == 0)
		scan_result_done(&r);
	o.mode = VERIFY_QUICK;
	setenv("VAGENT_FAULT_OFFSET", "4096", 1); /* in the first 8 MiB, which quick always reads */
	rc = fd >= 0 ? scan_device(fd, size, &o, &r) : -EBADF;
	ok(rc == -EIO, "quick: a read error in a region it reads fails the scan (%d)", rc);
	if (rc == 0)
		scan_result_done(&r);
	if (fd >= 0)
		close(fd);
	o.mode = VERIFY_FULL;
	setenv("VAGENT_FAULT_OFFSET", "5243000", 1);
	mark = 10 * MIB;
	fd = sparse_file(size, &mark, 1);
	rc = fd >= 0 ? scan_device(fd, size, &o, &r) : -EBADF;
	ok(rc == -EIO, "full: a read error below the data fails the scan (%d)", rc);
	if (rc == 0)
		scan_result_done(&r);
	if (fd >= 0)
		close(fd);
	mark = 2 * MIB + 3;
	fd = sparse_file(size, &mark, 1);
	rc = fd >= 0 ? scan_device(fd, size, &o, &r) : -EBADF;
	ok(rc == 0 && r.found && r.offset == mark, "full: data below a read error is the answer");
	if (rc == 0)
		scan_result_done(&r);
	if (fd >= 0)
		close(fd);
	unsetenv("VAGENT_FAULT");
	unsetenv("VAGENT_FAULT_OFFSET");
#else
	for (int i = 0; i < 4; i++)
		printf("ok %d # SKIP read errors: not a fault-injection build\n", ++tap_n);
#endif
}

static void test_progress(void)
{
	static const char good[] = "name=vdb\nmode=full\ndone=440401920\ntotal=1073741824\n"
				   "rate=1100000000\neta=420\npid=1\n";
	struct scan_progress p = {}, *l = NULL;
	static const char dead[] = "name=dead\nmode=full\ndone=1\ntotal=2\npid=2147483646\n";
	char tmpl[] = "/tmp/test-scan-root.XXXXXX", *root, text[256];
	_cleanup_free_ char *s = NULL;
	size_t n = 0;
	int len;

	ok(scan_progress_parse(good, strlen(good), &p) == 0 && streq(p.name, "vdb") &&
		   p.done == 440401920 && p.pid == 1,
	   "progress file parsed");
	s = scan_progress_format(&p);
	ok(s && streq(s, "verifying vdb: 41 % (420 MiB of 1.0 GiB, 1.1 GB/s, about 7 min left)"),
	   "formatted: %s", s ? s : "?");
	free(p.name);
	free(p.mode);
	ok(parse_str("name=../x\nmode=full\ndone=1\ntotal=2\npid=1\n", &p) < 0,
	   "a name with a slash is refused");
	ok(parse_str("name=x\nmode=full\ndone=3\ntotal=2\npid=1\n", &p) < 0,
	   "done > total is refused");
	ok(parse_str("name=x\nmode=fast\ndone=1\ntotal=2\npid=1\n", &p) < 0,
	   "an unknown mode is refused");

	root = mkdtemp(tmpl);
	len = snprintf(text, sizeof(text), "name=vdc\nmode=quick\ndone=1\ntotal=2\npid=%d\n",
		       (int)getpid());
	ok(root && write_file_atomic(root, SCAN_PROGRESS_DIR "/vdc", text, (size_t)len, 0644) >= 0 &&
		   write_file_atomic(root, SCAN_PROGRESS_DIR "/dead", dead, strlen(dead), 0644) >= 0,
	   "progress files written");
	len = scan_progress_list(root, &l, &n);
	ok(len == 0 && n == 1 && streq(l[0].name, "vdc"),
	   "listing skips the file of a dead process (%zu listed)", n);
	scan_progress_free(l, n);
	if (root)
		(void)rm_rf(NULL, root);
}

int main(void)
{
	test_plan();
	test_scan();
	test_read_error();
	test_progress();
	return tap_done();
}
