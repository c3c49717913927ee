/* SPDX-License-Identifier: MIT */
/*
 * test-probe.c: TAP unit tests for blockdev.c and probe.c that need no devices: verdict names,
 * the own-partition geometry, automatic-candidate names, and partition lookup by number on a
 * fake sysfs tree (vdb → vdb1, nvme0n1 → nvme0n1p1, loop0 → loop0p1; never "%s1"), the
 * candidate policy per platform kind and [storage] devices on that tree, the platform kind
 * from a fake root, and the /proc/locks and fdinfo parsers of holders.c. The device
 * states themselves are covered by test-probe-states.sh (root, loop devices).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/platform.h"
#include "storage/blockdev.h"
#include "storage/holders.h"
#include "storage/probe.h"
#include "tap.h"
#include "base/util.h"

static void test_verdict_names(void)
{
	static const char *const want[] = { "blank",	    "own",	   "in-use", "has-data",
					    "unknown-data", "unsupported", "error" };

	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		ok(streq(verdict_to_string((enum verdict)i), want[i]), "verdict %zu is %s", i,
		   want[i]);
	ok(streq(verdict_to_string((enum verdict)99), "error"), "unknown verdict is error");
}

static void test_own_range(void)
{
	const uint64_t M = OWN_ALIGN_BYTES;
	uint64_t s = 0, e = 0;

	ok(own_partition_range(256 * M, 512, &s, &e) == 0 && s == M && e == 255 * M,
	   "256 MiB disk: [1 MiB, 255 MiB)");
	ok(own_partition_range(1024 * M + 17 * 1024, 512, &s, &e) == 0 && e == 1024 * M,
	   "1 GiB + 17 KiB disk ends at 1 GiB");
	ok(own_partition_range(1024 * M + 16 * 1024, 512, &s, &e) == 0 && e == 1023 * M,
	   "1 GiB + 16 KiB disk (backup GPT does not fit after 1 GiB) ends at 1023 MiB");
	ok(own_partition_range(256 * M, 4096, &s, &e) == 0 && s == M && e == 255 * M,
	   "4K sectors: [1 MiB, 255 MiB)");
	ok(own_partition_range(2 * M, 512, &s, &e) == -ERANGE, "2 MiB disk is too small");
	ok(own_partition_range(256 * M, 1000, &s, &e) == -EINVAL, "odd sector size refused");
}

static void test_candidates(void)
{
	static const char *const yes[] = { "vda", "vdb", "vdaa", "nvme0n1", "nvme10n12" };
	static const char *const no[] = { "vd", "vd1", "vda1", "nvme0", "nvme0n", "nvme0c0n1",
					  "nvme0n1p1", "loop0", "sda", "dm-0", "md0", "zram0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		ok(blockdev_name_is_candidate(yes[i]), "%s is a candidate", yes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		ok(!blockdev_name_is_candidate(no[i]), "%s is not a candidate", no[i]);
}

static int mkfile(const char *root, const char *rel, const char *content)
{
	_cleanup_free_ char *p = path_join(root, rel);
	_cleanup_free_ char *dir = NULL;
	char *slash;
	FILE *f;

	if (!p)
		return -ENOMEM;
	dir = strdup(p);
	if (!dir)
		return -ENOMEM;
	/* mkdir -p of the parent */
	for (slash = strchr(dir + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		(void)mkdir(dir, 0755);
		*slash = '/';
	}
	slash = strrchr(dir, '/');
	*slash = 0;
	(void)mkdir(dir, 0755);
	if (!content)
		return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
	f = fopen(p, "we");
	if (!f)
		return -errno;
	fputs(content, f);
	return fclose(f) == 0 ? 0 : -errno;
}

static void test_fake_sysfs(void)
{
	static const char *const files[][2] = {
		{ "block/vdb/size", "524288\n" },	{ "block/vdb/vdb1/partition", "1\n" },
		{ "block/vdb/vdb2/partition", "2\n" },	{ "block/vdb/queue/rotational", "0\n" },
		{ "block/vdb/holders", NULL },		{ "block/vda/size", "100\n" },
		{ "block/nvme0n1/nvme0n1p1/partition", "1\n" },
		{ "block/nvme0n1/nvme0n1p2/partition", "2\n" },
		{ "block/loop0/loop0p1/partition", "1\n" },
		{ "block/loop0/loop0p10/partition", "10\n" },
		{ "block/nvme0c0n1/size", "8\n" },	{ "block/sda/size", "8\n" },
	};
	char tmpl[] = "/tmp/test-probe-sysfs.XXXXXX";
	_cleanup_strv_free_ char **cands = NULL;
	char *root, *p = NULL;
	bool built = true;
	int r;

	root = mkdtemp(tmpl);
	ok(root != NULL, "fake sysfs root created");
	if (!root)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (mkfile(root, files[i][0], files[i][1]) < 0)
			built = false;
	ok(built, "fake sysfs tree written");
	blockdev_set_sysfs_root(root);
	ok(streq(blockdev_get_sysfs_root(), root), "sysfs root is the fake tree");

	static const struct {
		const char *disk;
		unsigned n;
		const char *want;
	} cases[] = {
		{ "vdb", 1, "/dev/vdb1" },	   { "vdb", 2, "/dev/vdb2" },
		{ "nvme0n1", 1, "/dev/nvme0n1p1" }, { "nvme0n1", 2, "/dev/nvme0n1p2" },
		{ "loop0", 1, "/dev/loop0p1" },	   { "loop0", 10, "/dev/loop0p10" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		r = blockdev_partition_path(cases[i].disk, cases[i].n, &p);
		ok(r == 0 && streq(p, cases[i].want), "%s partition %u is %s (got %s)",
		   cases[i].disk, cases[i].n, cases[i].want, r == 0 ? p : strerror(-r));
		free(p);
		p = NULL;
	}
	ok(blockdev_partition_path("vdb", 3, &p) == -ENOENT, "vdb has no partition 3");
	ok(blockdev_partition_path("loop0", 0, &p) == -EINVAL, "partition 0 is invalid");
	ok(blockdev_partition_path("sda", 1, &p) == -ENOENT, "sda has no partitions");
	ok(blockdev_partition_path("missing", 1, &p) == -ENOENT, "missing disk");
	ok(blockdev_partition_path("../block/vdb", 1, &p) == -EINVAL, "path-like name refused");

	r = blockdev_list_candidates(&cands);
	ok(r == 0 && strv_length(cands) == 3 && streq(cands[0], "/dev/nvme0n1") &&
		   streq(cands[1], "/dev/vda") && streq(cands[2], "/dev/vdb"),
	   "candidates: nvme0n1 vda vdb, sorted, without nvme0c0n1, sda, loop0");

	/* The platform decides what is picked up without configuration. */
	static const struct {
		enum platform_kind kind;
		const char *devices;
		const char *want; /* space-separated */
		bool configured;
	} sel[] = {
		{ PLATFORM_VM, "auto", "/dev/nvme0n1 /dev/vda /dev/vdb", false },
		{ PLATFORM_BARE_METAL, "auto", "", false },
		{ PLATFORM_UNKNOWN, "auto", "", false },
		{ PLATFORM_VM, "none", "", false },
		{ PLATFORM_BARE_METAL, "nvme0n1", "/dev/nvme0n1", true },
		{ PLATFORM_BARE_METAL, "vd[b-z] loop*", "/dev/loop0 /dev/vdb", true },
		{ PLATFORM_VM, "sda,vdb", "/dev/sda /dev/vdb", true },
		{ PLATFORM_BARE_METAL, "vdb1 nvme0n1p*", "", true },
	};
	for (size_t i = 0; i < ARRAY_SIZE(sel); i++) {
		_cleanup_strv_free_ char **l = NULL;
		_cleanup_free_ char *why = NULL, *joined = NULL;
		bool configured = !sel[i].configured;
		size_t len = 0;

		r = blockdev_select_candidates(sel[i].kind, sel[i].devices, &l, &configured, &why);
		joined = calloc(1, 1024);
		for (char **k = l; r == 0 && joined && *k; k++)
			len += (size_t)snprintf(joined + len, 1024 - len, "%s%s", len ? " " : "", *k);
		ok(r == 0 && joined && streq(joined, sel[i].want) &&
			   configured == sel[i].configured && why,
		   "%s, devices = %s: [%s] (%s)", platform_kind_to_string(sel[i].kind),
		   sel[i].devices, joined ? joined : "?", why ? why : "?");
	}

	blockdev_set_sysfs_root(NULL);
	ok(streq(blockdev_get_sysfs_root(), "/sys"), "sysfs root reset to /sys");
	(void)rm_rf(NULL, root);
}

static void test_platform_kind(void)
{
	static const struct {
		const char *vendor, *cmdline;
		bool etc_vultr;
		enum platform_kind want;
	} cases[] = {
		{ "Vultr\n", "root=/dev/vda1 console=ttyS0\n", false, PLATFORM_VM },
		{ "Vultr\n", "vultr\n", false, PLATFORM_VM },
		{ NULL, "BOOT_IMAGE=/vmlinuz vultr quiet\n", false, PLATFORM_BARE_METAL },
		{ "Supermicro\n", "ro vultr\n", false, PLATFORM_BARE_METAL },
		{ NULL, "quiet\n", true, PLATFORM_BARE_METAL },
		{ "QEMU\n", "novultr vultr=1\n", false, PLATFORM_UNKNOWN },
		{ NULL, NULL, false, PLATFORM_UNKNOWN },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char tmpl[] = "/tmp/test-probe-platform.XXXXXX";
		char *root = mkdtemp(tmpl);
		bool built = root != NULL;

		if (built && cases[i].vendor)
			built = mkfile(root, "sys/class/dmi/id/sys_vendor", cases[i].vendor) == 0;
		if (built && cases[i].cmdline)
			built = mkfile(root, "proc/cmdline", cases[i].cmdline) == 0;
		if (built && cases[i].etc_vultr)
			built = mkfile(root, "etc/vultr", "") == 0;
		ok(built && platform_kind(root) == cases[i].want, "platform %zu: %s", i,
		   platform_kind_to_string(cases[i].want));
		if (root)
			(void)rm_rf(NULL, root);
	}
}

static void test_holder_parsers(void)
{
	struct lock_entry e;
	unsigned fl = 0;
	static const char fdinfo[] = "pos:\t0\nflags:\t0100002\nmnt_id:\t25\nino:\t7\n";

	ok(holders_parse_lock_line("1: FLOCK  ADVISORY  WRITE 1234 00:05:4242 0 EOF\n", &e) == 0 &&
		   e.flock && e.write && e.pid == 1234 && e.dev == makedev(0, 5) && e.inode == 4242,
	   "/proc/locks FLOCK line");
	ok(holders_parse_lock_line("2: POSIX  ADVISORY  READ 77 fd:01:12 0 EOF", &e) == 0 &&
		   !e.flock && !e.write && e.dev == makedev(0xfd, 1),
	   "/proc/locks POSIX line, hex major:minor");
	ok(holders_parse_lock_line("3: OFDLCK ADVISORY  WRITE -1 00:05:9 0 EOF", &e) == 0 &&
		   e.pid == -1,
	   "OFD lock: pid -1");
	ok(holders_parse_lock_line("1: -> FLOCK  ADVISORY  WRITE 99 00:05:4242 0 EOF", &e) < 0,
	   "a waiter is not a holder");
	ok(holders_parse_lock_line("garbage", &e) < 0, "garbage refused");
	ok(holders_parse_fdinfo_flags(fdinfo, strlen(fdinfo), &fl) == 0 && fl == 0100002,
	   "fdinfo flags 0100002 (O_RDWR|O_LARGEFILE)");
	ok(holders_parse_fdinfo_flags("flags:\t09\n", 9, &fl) < 0, "non-octal flags refused");
	ok(holders_parse_fdinfo_flags("pos: 0\n", 7, &fl) < 0, "no flags line");
	ok(holders_comm_is_transient("(udev-worker)") && holders_comm_is_transient("systemd-udevd") &&
		   !holders_comm_is_transient("dd") && !holders_comm_is_transient(NULL),
	   "udev's processes are the only transient ones");
}

static void test_not_block(void)
{
	struct config cfg = { .min_size = 64 << 20, .require_zeros = true };
	struct probe_result res;
	int r;

	r = probe_device("/dev/null", true, &cfg, NULL, &res);
	ok(r == 0 && res.verdict == VERDICT_UNSUPPORTED && res.excl_fd < 0,
	   "/dev/null: unsupported (%s)", res.reason ?: "");
	probe_result_done(&res);
	r = probe_device("/nonexistent-vagent-device", true, &cfg, NULL, &res);
	ok(r == 0 && res.verdict == VERDICT_ERROR, "missing device: error (%s)", res.reason ?: "");
	probe_result_done(&res);
	ok(res.excl_fd == -1 && !res.reason, "probe_result_done resets the result");
}

int main(void)
{
	test_verdict_names();
	test_own_range();
	test_candidates();
	test_fake_sysfs();
	test_platform_kind();
	test_holder_parsers();
	test_not_block();
	return tap_done();
}
