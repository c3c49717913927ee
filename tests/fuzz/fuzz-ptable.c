/* SPDX-License-Identifier: MIT */
/*
 * fuzz-ptable.c: the plain partition-table reader (ptable_read_fd()) and the superblock parser
 * (grow_superblock_parse()) on arbitrary disk contents. Input: one byte N, then the first
 * sectors of the disk; the disk is that long plus N MiB of zeros (a memfd, sparse). Properties:
 * entries sorted, inside the disk, disjoint, numbered; every growth limit is 0 or a whole number
 * of MiB past the start inside the disk; the backup areas are inside the disk; a parsed
 * superblock has a non-zero size.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "storage/grow.h"
#include "storage/ptable.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { "ext4", "xfs", "btrfs" };
	struct fs_superblock sb;
	struct ptable t;
	uint64_t disk, areas[4][2];
	int fd;

	if (size < 1)
		return 0;
	disk = (uint64_t)(size - 1 + 511) / 512 * 512 + (uint64_t)data[0] * (1 << 20);
	fd = memfd_create("fuzz-ptable", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)disk) < 0 ||
	    write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (ptable_read_fd(fd, disk, 512, &t) == 0) {
		for (size_t i = 0; i < t.n; i++) {
			uint64_t m = ptable_max_end(&t, t.entries[i].start);

			FUZZ_ASSERT(t.entries[i].start < t.entries[i].end && t.entries[i].end <= disk);
			FUZZ_ASSERT(i == 0 || t.entries[i - 1].end <= t.entries[i].start);
			FUZZ_ASSERT(t.entries[i].number >= 1);
			FUZZ_ASSERT(ptable_find(&t, t.entries[i].number) != NULL);
			FUZZ_ASSERT(m == 0 || (m > t.entries[i].start && m <= disk &&
					       (m - t.entries[i].start) % (1 << 20) == 0));
		}
		if (t.n > 0) {
			size_t n = ptable_backup_areas(&t, fd, ptable_last(&t)->end, disk, areas, 4);
			FUZZ_ASSERT(n <= 4);
			for (size_t i = 0; i < n; i++)
				FUZZ_ASSERT(areas[i][0] < areas[i][1] && areas[i][1] <= disk);
		}
		ptable_done(&t);
	}
	close(fd);

	for (size_t i = 0; i < 3; i++)
		if (grow_superblock_parse(types[i], data, size, &sb) == 0)
			FUZZ_ASSERT(sb.size_bytes > 0);
	return 0;
}
