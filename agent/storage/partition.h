/* SPDX-License-Identifier: MIT */
/*
 * partition.h: writing vagent's partition table (blank-disk.md step 9): a fresh GPT with one
 * partition covering own_partition_range() (start 1 MiB), named "vagent-pending", and later
 * renamed "vagent-done"; and growing a partition whose disk grew (vagent's own, or the root's
 * last partition), then telling the kernel. partition.c is the only libparted user; no
 * libparted type leaves it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct ptable;

/*
 * Write a fresh GPT with vagent's single pending partition on DISK, which probe_device() found
 * blank. EXCL_FD is the O_EXCL descriptor from that probe with its flock held; the size and
 * diskseq are checked against EXPECTED_* first (a change means another disk: refuse). After the
 * table is on the device the flock is released (udev postpones the events of a locked disk) but
 * EXCL_FD stays open, and the kernel learns of the partition by one BLKPG_ADD_PARTITION on it
 * (not libparted's commit-to-os); the caller closes it after probing the new partition. Returns 0 and the partition's /dev path found in sysfs, negative errno on failure
 * (logged). libparted questions are answered CANCEL/NO; any warning or error fails the call.
 */
int partition_create_gpt(const char *disk, int excl_fd, uint64_t expected_size,
			 uint64_t expected_diskseq, char **ret_partition);

/*
 * Rename vagent's partition on DISK to NAME (VAGENT_PART_PENDING or VAGENT_PART_DONE) after
 * re-checking under O_EXCL + flock that the table is still exactly ours: GPT, one partition,
 * number 1, the own geometry, named with one of our markers. Only the table on the device is
 * rewritten (the geometry does not change, so the kernel's view stays valid). 1 renamed, 0
 * already so named, -EBUSY when the disk is in use, -EUCLEAN when the table is not ours.
 * LOCKED: the caller already holds the disk's BSD lock (through another fd) and keeps it.
 */
int partition_set_name(const char *disk, const char *name, bool locked);

/*
 * Read GPT entry 1 of DISK from the primary table, without libparted and without a claim (so it
 * works while the partition is mounted): its unique GUID (PARTUUID, lower case) and its name
 * (ASCII; other characters as '?'). Either RET may be NULL. Returns the number of entries in
 * use (>= 0), -EUCLEAN when there is no valid GPT header.
 */
int partition_read_entry(const char *disk, char **ret_uuid, char **ret_name);

/*
 * Grow partition NUMBER of DISK to end at NEW_END (bytes, exclusive, a multiple of the sector
 * size): the start never moves and the partition never shrinks. T is the table ptable_read()
 * found moments ago, which the caller checked (last partition, free space after it); the disk
 * must still be T's size (a disk that grew again since is -ESTALE: its new space was not
 * checked). GPT, through libparted: the backup header is moved to the end of the disk first
 * (the one libparted question answered FIX, "the GPT does not use all of the space", only in
 * this call), then the entry's end is changed; libparted must see exactly T, and the table
 * read back must differ from T in that entry's end, the headers and the protective MBR's size
 * only. DOS (no libparted): the entry's size and CHS end in sector 0, one sector written.
 * OWN: the table must also be vagent's (GPT, one partition named with a marker, at 1 MiB).
 * The caller holds the disk's BSD lock through LOCK_FD (any open descriptor of DISK) and tells
 * the kernel afterwards (partition_kernel_resize()). 1 written (also when only the backup
 * header moved), 0 nothing to do, <0 (logged).
 */
int partition_grow(const char *disk, int lock_fd, const struct ptable *t, unsigned number,
		   uint64_t new_end, bool own);

/*
 * Tell the kernel that partition NUMBER of the whole disk open at FD now spans [START, END)
 * (BLKPG_RESIZE_PARTITION: the start is unchanged; it works while the partition is mounted,
 * where a re-read of the table cannot). 0, or <0 (logged).
 */
int partition_kernel_resize(int fd, const char *disk, unsigned number, uint64_t start,
			    uint64_t end);
