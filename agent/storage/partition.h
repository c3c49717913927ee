/* SPDX-License-Identifier: MIT */
/*
 * partition.h: writing vagent's partition table (blank-disk.md step 9): a fresh GPT with one
 * partition covering own_partition_range() (start 1 MiB), named "vagent-pending", and later
 * renamed "vagent-done". partition.c is the only libparted user; no libparted type leaves it.
 */
#pragma once

#include <stdint.h>

/*
 * Write a fresh GPT with vagent's single pending partition on DISK, which probe_device() found
 * blank. EXCL_FD is the O_EXCL descriptor from that probe with its flock held; the size and
 * diskseq are checked against EXPECTED_* first (a change means another disk: refuse). After the
 * table is on the device the flock is released (Debian's libparted runs `udevadm settle` while
 * informing the kernel) but EXCL_FD stays open: the caller closes it after probing the new
 * partition. Returns 0 and the partition's /dev path found in sysfs, negative errno on failure
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
