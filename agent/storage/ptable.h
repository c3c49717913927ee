/* SPDX-License-Identifier: MIT */
/*
 * ptable.h: a partition table read with plain reads, no library: the GPT (primary header and
 * entries, both CRCs checked, where the backup header is) or the DOS table of sector 0 (primary
 * entries; an extended partition is noted, never followed). The grow paths plan with it (what
 * would grow, by how much) without opening the disk for writing, and check libparted's work
 * against it afterwards. Nothing here writes.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ptable_type {
	PTABLE_NONE, /* no table: a filesystem on the whole disk, or nothing known */
	PTABLE_GPT,
	PTABLE_DOS,
};

/* "none" "gpt" "dos" */
const char *ptable_type_to_string(enum ptable_type t);

struct ptable_entry {
	unsigned number;     /* 1-based, as the kernel numbers it */
	uint64_t start, end; /* bytes, [start, end) */
	uint8_t dos_type;    /* DOS only: the system id (0x83, 0x8e, ...) */
	char name[37];       /* GPT only: the name in ASCII, other characters as '?' */
};

struct ptable {
	enum ptable_type type;
	uint32_t sector_size;
	uint64_t disk_bytes;

	struct ptable_entry *entries; /* in use, sorted by start */
	size_t n;

	/* GPT: the primary header's view */
	uint64_t backup_lba;      /* where it says the backup header is */
	uint64_t first_usable_lba;
	uint64_t last_usable_lba; /* its last usable sector */
	uint8_t disk_guid[16];
	uint64_t entries_lba;
	uint32_t n_entries, entry_size;
	uint8_t *raw_entries; /* the whole entry array as read (n_entries * entry_size bytes) */
	bool hybrid;          /* the MBR lists partitions besides the protective one */

	/* DOS */
	bool dos_extended; /* an extended partition is listed */
};

void ptable_done(struct ptable *t);

/*
 * Read the table of the disk open at FD (DISK_BYTES long, logical SECTOR_SIZE). 0 and *RET
 * (type PTABLE_NONE when there is neither a GPT nor a DOS signature), -EUCLEAN when a table is
 * there but malformed (bad CRC, entries outside the disk, overlaps), other negative errno on
 * read errors. A GPT whose protective MBR is missing is still read as GPT.
 */
int ptable_read_fd(int fd, uint64_t disk_bytes, uint32_t sector_size, struct ptable *ret);

/* The same for the block device at PATH (opened read-only, not claimed). */
int ptable_read(const char *path, struct ptable *ret);

/* The entry with kernel partition NUMBER, NULL when none. */
const struct ptable_entry *ptable_find(const struct ptable *t, unsigned number);

/* The entry that starts last on the disk, NULL when the table is empty. */
const struct ptable_entry *ptable_last(const struct ptable *t);

/*
 * How far a partition starting at START may end (exclusive, bytes) when it is the last one on
 * the disk: GPT up to the last usable sector once the backup header is at the end of the disk;
 * DOS up to the end of the disk but no further than 2^32 sectors (what its 32-bit fields can
 * address); the size rounded down to a multiple of 1 MiB, as growpart does. 0 when there is no
 * room at all.
 */
uint64_t ptable_max_end(const struct ptable *t, uint64_t start);

/* The [from, to) byte ranges that hold a GPT's backup copies after the partitions: the backup
 * the primary header points to, and stale copies of the entry array (one left behind when the
 * backup header was moved to a grown disk's end) found in [FROM, TO). At most MAX ranges, sorted;
 * the number written. FD is the disk. */
size_t ptable_backup_areas(const struct ptable *t, int fd, uint64_t from, uint64_t to,
			   uint64_t (*ret)[2], size_t max);

/* IEEE 802.3 CRC-32, as the GPT uses it. */
uint32_t ptable_crc32(const void *data, size_t len);
