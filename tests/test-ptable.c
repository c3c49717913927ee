/* SPDX-License-Identifier: MIT */
/*
 * test-ptable.c: TAP unit tests for the plain partition-table reader (ptable.c) and the pure
 * parts of grow.c, on images built in memory (a sparse temporary file): GPT and DOS tables
 * read back with their entries, names and backup location; bad CRCs, overlaps, entries outside
 * the disk and a protective MBR without a GPT refused; how far a last partition may grow (GPT
 * after moving the backup, DOS at 2^32 sectors, 1 MiB multiples); the GPT backup areas and a
 * stale entry copy after the partitions; the superblock sizes of ext4 (32- and 64-bit), XFS
 * (with its internal log) and btrfs; the human sizes the reports print; CRC-32.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "storage/grow.h"
#include "storage/ptable.h"
#include "tap.h"

#define MIB (UINT64_C(1) << 20)
#define SS 512

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32be(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * (3 - i)));
}

static void put64be(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * (7 - i)));
}

struct part {
	uint64_t first, last; /* LBAs, inclusive */
	const char *name;
};

static char tmpl[] = "/tmp/vagent-ptable.XXXXXX";

/* A sparse file of DISK_BYTES holding a GPT made for OLD_BYTES (its backup at that end), with
 * PARTS; CORRUPT: flip a byte of the entries after the CRCs were computed. */
static int make_gpt(uint64_t disk_bytes, uint64_t old_bytes, const struct part *parts, size_t n,
		    bool corrupt, bool pmbr)
{
	static uint8_t ents[128 * 128];
	uint8_t mbr[SS] = { 0 }, hdr[SS] = { 0 };
	uint64_t old_last = old_bytes / SS - 1;
	int fd = mkstemp(tmpl);

	if (fd >= 0)
		unlink(tmpl);
	strcpy(tmpl + strlen(tmpl) - 6, "XXXXXX");
	if (fd < 0 || ftruncate(fd, (off_t)disk_bytes) < 0)
		abort();
	memset(ents, 0, sizeof(ents));
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = ents + 128 * i;
		memset(e, 0x11, 16);           /* type */
		memset(e + 16, (int)(0x20 + i), 16); /* unique */
		put64(e + 32, parts[i].first);
		put64(e + 40, parts[i].last);
		for (size_t k = 0; parts[i].name && parts[i].name[k]; k++)
			e[56 + 2 * k] = (uint8_t)parts[i].name[k];
	}
	memcpy(hdr, "EFI PART", 8);
	put32(hdr + 8, 0x10000);
	put32(hdr + 12, 92);
	put64(hdr + 24, 1);
	put64(hdr + 32, old_last);
	put64(hdr + 40, 34);
	put64(hdr + 48, old_last - 33);
	put64(hdr + 72, 2);
	put32(hdr + 80, 128);
	put32(hdr + 84, 128);
	put32(hdr + 88, ptable_crc32(ents, sizeof(ents)));
	put32(hdr + 16, ptable_crc32(hdr, 92));
	if (corrupt)
		ents[40] ^= 1;
	if (pmbr) {
		mbr[446 + 4] = 0xee;
		put32(mbr + 446 + 8, 1);
		put32(mbr + 446 + 12, 0xffffffff);
		mbr[510] = 0x55;
		mbr[511] = 0xaa;
	}
	if (pwrite(fd, mbr, SS, 0) != SS || pwrite(fd, hdr, SS, SS) != SS ||
	    pwrite(fd, ents, sizeof(ents), 2 * SS) != (ssize_t)sizeof(ents))
		abort();
	/* The backup: entries, then the header, at the old end. */
	put64(hdr + 24, old_last);
	put64(hdr + 32, 1);
	put64(hdr + 72, old_last - 32);
	memset(hdr + 16, 0, 4);
	put32(hdr + 16, ptable_crc32(hdr, 92));
	if (pwrite(fd, ents, sizeof(ents), (off_t)((old_last - 32) * SS)) != (ssize_t)sizeof(ents) ||
	    pwrite(fd, hdr, SS, (off_t)(old_last * SS)) != SS)
		abort();
	return fd;
}

static int make_dos(uint64_t disk_bytes, const uint32_t (*e)[3], size_t n)
{
	uint8_t mbr[SS] = { 0 };
	int fd = mkstemp(tmpl);

	if (fd >= 0)
		unlink(tmpl);
	strcpy(tmpl + strlen(tmpl) - 6, "XXXXXX");
	if (fd < 0 || ftruncate(fd, (off_t)disk_bytes) < 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		mbr[446 + 16 * i + 4] = (uint8_t)e[i][0];
		put32(mbr + 446 + 16 * i + 8, e[i][1]);
		put32(mbr + 446 + 16 * i + 12, e[i][2]);
	}
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	if (pwrite(fd, mbr, SS, 0) != SS)
		abort();
	return fd;
}

static void test_gpt(void)
{
	const struct part parts[] = { { 2048, 206847, "EFI" }, { 206848, 2095103, "root" } };
	struct ptable t;
	uint64_t areas[4][2];
	size_t n;
	int fd, r;

	/* Made for 1 GiB, the disk is 2 GiB now. */
	fd = make_gpt(2ULL << 30, 1ULL << 30, parts, 2, false, true);
	r = ptable_read_fd(fd, 2ULL << 30, SS, &t);
	ok(r == 0 && t.type == PTABLE_GPT && t.n == 2 && !t.hybrid, "gpt: read, 2 entries (%d)", r);
	ok(t.n == 2 && t.entries[1].number == 2 && t.entries[1].start == 206848ULL * SS &&
		   t.entries[1].end == 2095104ULL * SS && streq(t.entries[1].name, "root"),
	   "gpt: entry 2 'root' at 206848..2095103");
	ok(t.backup_lba == (1ULL << 30) / SS - 1, "gpt: the backup is at the old end");
	ok(ptable_last(&t) == ptable_find(&t, 2), "gpt: the last entry is number 2");
	/* Up to the last usable sector with the backup at the end, in whole MiB from the start. */
	ok(ptable_max_end(&t, 206848ULL * SS) == 206848ULL * SS + 1946 * MIB,
	   "gpt: a last partition at 101 MiB may end at 2047 MiB (%llu)",
	   (unsigned long long)ptable_max_end(&t, 206848ULL * SS));
	n = ptable_backup_areas(&t, fd, t.entries[1].end, t.disk_bytes, areas, 4);
	ok(n == 1 && areas[0][0] == (1ULL << 30) - 33 * SS && areas[0][1] == 1ULL << 30,
	   "gpt: the backup area at the old end is the one to leave out (%zu)", n);
	ptable_done(&t);

	/* A stale copy of the entries with a zeroed header (what libparted leaves), then the
	 * backup moved to the new end. */
	{
		uint8_t ents[128 * 128], zero[SS] = { 0 }, hdr[SS];
		uint64_t at = (1ULL << 30) - 33 * SS;

		if (pread(fd, ents, sizeof(ents), 2 * SS) != (ssize_t)sizeof(ents) ||
		    pwrite(fd, zero, SS, (1ULL << 30) - SS) != SS ||
		    pread(fd, hdr, SS, SS) != SS)
			abort();
		put64(hdr + 32, (2ULL << 30) / SS - 1);
		put64(hdr + 48, (2ULL << 30) / SS - 34);
		memset(hdr + 16, 0, 4);
		put32(hdr + 16, ptable_crc32(hdr, 92));
		if (pwrite(fd, hdr, SS, SS) != SS ||
		    pwrite(fd, ents, sizeof(ents), (off_t)((2ULL << 30) - 33 * SS)) != (ssize_t)sizeof(ents))
			abort();
		memcpy(hdr, "EFI PART", 8);
		if (pwrite(fd, hdr, SS, (off_t)((2ULL << 30) - SS)) != SS)
			abort();
		r = ptable_read_fd(fd, 2ULL << 30, SS, &t);
		n = r < 0 ? 0 : ptable_backup_areas(&t, fd, 2095104ULL * SS, t.disk_bytes, areas, 4);
		ok(r == 0 && n == 2 && areas[0][0] == at && areas[0][1] == 1ULL << 30 &&
			   areas[1][0] == (2ULL << 30) - 33 * SS && areas[1][1] == 2ULL << 30,
		   "gpt: moved backup + stale entry copy: both areas left out (%zu)", n);
		ptable_done(&t);
	}
	close(fd);

	fd = make_gpt(1ULL << 30, 1ULL << 30, parts, 2, true, true);
	ok(ptable_read_fd(fd, 1ULL << 30, SS, &t) == -EUCLEAN, "gpt: a bad entries CRC is refused");
	close(fd);

	{
		const struct part overlap[] = { { 2048, 4095, "a" }, { 4000, 8191, "b" } };
		fd = make_gpt(1ULL << 30, 1ULL << 30, overlap, 2, false, true);
		ok(ptable_read_fd(fd, 1ULL << 30, SS, &t) == -EUCLEAN, "gpt: overlapping entries are refused");
		close(fd);
	}
	{
		const struct part outside[] = { { 2048, (1ULL << 30) / SS, "a" } };
		fd = make_gpt(1ULL << 30, 1ULL << 30, outside, 1, false, true);
		ok(ptable_read_fd(fd, 1ULL << 30, SS, &t) == -EUCLEAN,
		   "gpt: an entry beyond the last usable sector is refused");
		close(fd);
	}
	{
		const struct part one[] = { { 2048, 4095, "a" } };
		uint8_t b[SS];

		fd = make_gpt(1ULL << 30, 1ULL << 30, one, 1, false, true);
		if (pread(fd, b, SS, 0) != SS)
			abort();
		b[446 + 16 + 4] = 0x83; /* a second MBR slot: hybrid */
		put32(b + 446 + 16 + 8, 2048);
		put32(b + 446 + 16 + 12, 2048);
		if (pwrite(fd, b, SS, 0) != SS)
			abort();
		ok(ptable_read_fd(fd, 1ULL << 30, SS, &t) == 0 && t.hybrid, "gpt: a hybrid MBR is noted");
		ptable_done(&t);
		close(fd);
	}
}

static void test_dos(void)
{
	const uint32_t one[][3] = { { 0x83, 2048, 2095104 } };
	const uint32_t ext[][3] = { { 0x83, 2048, 204800 }, { 0x05, 206848, 100000 } };
	const uint32_t pmbr[][3] = { { 0xee, 1, 0xffffffff } };
	struct ptable t;
	int fd;

	fd = make_dos(4ULL << 40, one, 1);
	ok(ptable_read_fd(fd, 4ULL << 40, SS, &t) == 0 && t.type == PTABLE_DOS && t.n == 1 &&
		   t.entries[0].start == 1 * MIB && t.entries[0].dos_type == 0x83,
	   "dos: one primary entry");
	ok(ptable_max_end(&t, MIB) == (UINT64_C(1) << 32) * SS,
	   "dos: a 4 TiB disk: the entry may end at 2 TiB, no further");
	ptable_done(&t);
	close(fd);

	fd = make_dos(1ULL << 30, one, 1);
	ok(ptable_read_fd(fd, 1ULL << 30, SS, &t) == 0 && ptable_max_end(&t, MIB) == 1023 * MIB + MIB,
	   "dos: on 1 GiB it may end at the end of the disk");
	ptable_done(&t);
	close(fd);

	fd = make_dos(1ULL << 30, ext, 2);
	ok(ptable_read_fd(fd, 1ULL << 30, SS, &t) == 0 && t.dos_extended, "dos: an extended partition is noted");
	ptable_done(&t);
	close(fd);

	fd = make_dos(1ULL << 30, pmbr, 1);
	ok(ptable_read_fd(fd, 1ULL << 30, SS, &t) == -EUCLEAN,
	   "dos: a protective MBR without a GPT is refused");
	close(fd);

	fd = make_dos(1ULL << 30, NULL, 0);
	ok(ptable_read_fd(fd, 1ULL << 30, SS, &t) == 0 && t.type == PTABLE_DOS && t.n == 0,
	   "dos: an empty table");
	ptable_done(&t);
	close(fd);
}

static void test_superblocks(void)
{
	static uint8_t buf[GROW_SUPERBLOCK_BYTES];
	struct fs_superblock sb;

	memset(buf, 0, sizeof(buf));
	buf[1024 + 56] = 0x53;
	buf[1024 + 57] = 0xef;
	put32(buf + 1024 + 4, 262144); /* blocks */
	put32(buf + 1024 + 24, 2);     /* 4 KiB */
	ok(grow_superblock_parse("ext4", buf, sizeof(buf), &sb) == 0 && sb.size_bytes == 1ULL << 30,
	   "ext4: 262144 blocks of 4 KiB = 1 GiB");
	put32(buf + 1024 + 0x60, 0x80); /* 64bit */
	put32(buf + 1024 + 0x150, 1);
	ok(grow_superblock_parse("ext4", buf, sizeof(buf), &sb) == 0 &&
		   sb.size_bytes == ((1ULL << 32) + 262144) * 4096,
	   "ext4 64bit: the high half of the block count counts");
	put32(buf + 1024 + 24, 9);
	ok(grow_superblock_parse("ext4", buf, sizeof(buf), &sb) == -EUCLEAN, "ext4: a silly block size is refused");

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "XFSB", 4);
	put32be(buf + 4, 4096);
	put64be(buf + 8, 153600);
	put64be(buf + 48, 65540); /* internal log */
	put32be(buf + 96, 1368);
	ok(grow_superblock_parse("xfs", buf, sizeof(buf), &sb) == 0 && sb.size_bytes == 600 * MIB &&
		   sb.log_bytes == 1368ULL * 4096,
	   "xfs: 600 MiB with a 1368-block internal log");
	ok(grow_superblock_parse("xfs", buf, 100, &sb) == -EUCLEAN, "xfs: a short read is refused");

	memset(buf, 0, sizeof(buf));
	memcpy(buf + 65536 + 0x40, "_BHRfS_M", 8);
	put64(buf + 65536 + 0x88, 1);
	put64(buf + 65536 + 0xc9 + 8, 1946 * MIB);
	ok(grow_superblock_parse("btrfs", buf, sizeof(buf), &sb) == 0 && sb.size_bytes == 1946 * MIB &&
		   sb.n_devices == 1,
	   "btrfs: the device item's size");
	ok(grow_superblock_parse("vfat", buf, sizeof(buf), &sb) == -EOPNOTSUPP, "vfat: not a grow target");
}

static void test_misc(void)
{
	char b[32];

	ok(ptable_crc32("123456789", 9) == 0xcbf43926u, "crc32 check value");
	grow_human_size(10ULL << 30, b, sizeof(b));
	ok(streq(b, "10 GiB"), "10 GiB: %s", b);
	grow_human_size(1022 * MIB, b, sizeof(b));
	ok(streq(b, "1022 MiB"), "1022 MiB: %s", b);
	grow_human_size(2046 * MIB, b, sizeof(b));
	ok(streq(b, "2.0 GiB"), "2046 MiB: %s", b);
	grow_human_size((1ULL << 40) - 2 * MIB, b, sizeof(b));
	ok(streq(b, "1.0 TiB"), "1 TiB less 2 MiB: %s", b);
	grow_human_size(1536, b, sizeof(b));
	ok(streq(b, "1.5 KiB"), "1536 bytes: %s", b);
	grow_human_size(0, b, sizeof(b));
	ok(streq(b, "0 bytes"), "0: %s", b);
}

int main(void)
{
	/* The images are sparse files in /tmp, unlinked as soon as they are made. */
	test_gpt();
	test_dos();
	test_superblocks();
	test_misc();
	return tap_done();
}
