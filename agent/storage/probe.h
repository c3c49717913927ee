/* SPDX-License-Identifier: MIT */
/*
 * probe.h: read-only verdicts on block devices, the storage safety contract of
 * design/blank-disk.md steps 1-8 plus the recognition of vagent's own volume (step 10).
 * probe.c is the only libblkid user and never opens a device for writing; every error or
 * unexpected answer gives a verdict other than blank. The own-partition geometry is defined
 * here (own_partition_range()) so that the code writing the table and the code recognising it
 * share one formula.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/config.h"
#include "base/report.h"

enum verdict {
	VERDICT_BLANK,
	VERDICT_OWN,
	VERDICT_IN_USE,
	VERDICT_HAS_DATA,
	VERDICT_UNKNOWN_DATA,
	VERDICT_UNSUPPORTED,
	VERDICT_ERROR,
};

/* "blank" "own" "in-use" "has-data" "unknown-data" "unsupported" "error" */
const char *verdict_to_string(enum verdict v);

/* GPT partition names vagent writes: pending until mkfs succeeded, then done. */
#define VAGENT_PART_PENDING "vagent-pending"
#define VAGENT_PART_DONE "vagent-done"

/* Own partitions start at 1 MiB and end on the last 1 MiB boundary before the backup GPT. */
#define OWN_ALIGN_BYTES (UINT64_C(1) << 20)

/*
 * The byte range [*ret_start, *ret_end) of vagent's partition on a disk of DISK_BYTES with
 * logical SECTOR_SIZE: start 1 MiB; end = the last usable byte (before the backup GPT entries,
 * 128 x 128 bytes, and header, one sector) rounded down to 1 MiB. -ERANGE when the disk is too
 * small to hold it.
 */
int own_partition_range(uint64_t disk_bytes, uint32_t sector_size, uint64_t *ret_start,
			uint64_t *ret_end);

struct probe_result {
	enum verdict verdict;
	char *reason; /* one line: "ext4 at offset 1080", "mounted at /mnt/x", ... */

	/* VERDICT_OWN only: */
	bool own_done;       /* done marker (else pending) */
	char *own_partition; /* /dev path of the partition, found in sysfs */
	char *own_fstype;    /* filesystem on the partition, NULL when none (pending: needs mkfs) */
	char *own_uuid;
	bool own_grown;        /* the disk grew since: the partition ends before the aligned end */
	uint64_t own_part_end; /* byte offset where the partition ends */

	/* VERDICT_BLANK only: the claim is kept so nobody races us. */
	int excl_fd; /* O_RDONLY|O_EXCL, flock(LOCK_EX) held; -1 otherwise */

	/* The read scan the verdict rests on (mode NULL when none ran). */
	struct volume_scan scan;

	/* Identity, filled in whenever step 1 got that far. */
	uint64_t size_bytes;
	uint64_t diskseq;
	char *serial;
	char *kernel_name;
};

/* Free the strings and close excl_fd if open; R is reset (excl_fd = -1). */
void probe_result_done(struct probe_result *r);

struct probe_options {
	const char *root; /* --root: where the scan's progress file goes */
	bool dry_run;     /* write nothing, not even the progress file */
	bool no_scan;     /* signatures only (umount's informational verdicts) */
};

/*
 * Run the decision procedure on DEVICE and fill RET (always initialised, even on failure).
 * EXPLICIT: the user named the device (loop, ram, md, ... accepted); otherwise only vd* and
 * nvme*n* are. Returns 0 when a verdict was reached (including VERDICT_ERROR for a device that
 * could not be examined), negative errno only for out-of-memory. Never writes.
 */
int probe_device(const char *device, bool explicit, const struct config *cfg,
		 const struct probe_options *po, struct probe_result *ret);

/*
 * The in-use checks again, for the moment right before the first write (the caller holds the
 * probe's O_EXCL claim, which this process's own descriptors do not count against): holders/,
 * mounts, swaps, loop devices backed by DEVICE and other processes with it or a partition open.
 * 1 and *RET_WHAT when something uses it, 0 when nothing does, <0 on error.
 */
int probe_check_in_use(const char *device, char **ret_what);

/*
 * Filesystem on PARTITION (read-only safeprobe of superblocks plus the signature enumeration):
 * 0 and TYPE/UUID (each may be NULL) when there is exactly one signature or none (type NULL);
 * -EUCLEAN when the result is ambivalent (more than one signature), other negative errno on
 * failure.
 */
int probe_partition_fs(const char *partition, char **ret_type, char **ret_uuid);
