/* SPDX-License-Identifier: MIT */
/*
 * grow.h: using the space a grown disk adds. vagent's own volumes (their one partition extended
 * to the new aligned end, the filesystem grown online) and the root filesystem (its partition,
 * when it is the last one on its disk, extended to the end of the disk, the filesystem grown
 * online). The plan is made with plain reads (ptable.h, the superblocks, sysfs); the table is
 * written by partition.c under the disk's BSD lock, the kernel told with BLKPG, and the
 * filesystem grown by its own tool from an argv: `resize2fs DEV` (ext4), `xfs_growfs MOUNTPOINT`
 * (XFS), `btrfs filesystem resize max MOUNTPOINT`. Nothing shrinks, no start moves, and each
 * step leaves a state the next run finishes (table written, kernel not told: tell it; kernel
 * told, filesystem not grown: grow it).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"

/* Less than this is not worth a write (growpart's fudge). */
#define GROW_MIN_BYTES (UINT64_C(1) << 20)

/* "10 GiB", "1.5 GiB", "512 MiB" */
void grow_human_size(uint64_t bytes, char *buf, size_t size);

/* What a superblock says (grow_superblock_parse()). */
struct fs_superblock {
	uint64_t size_bytes;  /* ext4: blocks; XFS: data blocks; btrfs: this device's share */
	uint64_t log_bytes;   /* XFS: the internal log (statfs leaves it out) */
	uint64_t n_devices;   /* btrfs: devices in the filesystem */
};

/*
 * Parse the superblock of FSTYPE ("ext4", "xfs", "btrfs") from BUF, the first LEN bytes of the
 * device (at least GROW_SUPERBLOCK_BYTES to cover btrfs at 64 KiB). 0 and *RET, -EUCLEAN when
 * the magic or a field is wrong, -EOPNOTSUPP for other filesystems. (Exposed for the fuzzer.)
 */
#define GROW_SUPERBLOCK_BYTES (64 * 1024 + 4096)
int grow_superblock_parse(const char *fstype, const uint8_t *buf, size_t len,
			  struct fs_superblock *ret);

/*
 * The size of the filesystem FSTYPE on DEV, mounted at MOUNTPOINT (absolute, canonical): ext4
 * from its superblock, XFS from statfs plus its internal log (its on-disk superblock lags
 * behind a grow), btrfs from its superblock read past the cache. 0 and *RET, <0 on error.
 */
int grow_fs_size(const char *dev, const char *mountpoint, const char *fstype, uint64_t *ret);

/*
 * Grow the filesystem FSTYPE on DEV, mounted at MOUNTPOINT, to fill DEV when DEV is at least
 * GROW_MIN_BYTES larger. *RET_BEFORE / *RET_AFTER: its size (either may be NULL). DRY_RUN:
 * the sizes it would grow from and to, nothing run. 1 grown (or would be), 0 nothing to do,
 * <0 (logged: the tool's exit status and last line).
 */
int grow_fs(const char *dev, const char *mountpoint, const char *fstype, bool dry_run,
	    uint64_t *ret_before, uint64_t *ret_after);

/* ---- vagent's own volumes ---- */

struct grow_plan {
	char *partition;     /* /dev path of the partition (sysfs) */
	unsigned number;
	uint64_t disk_bytes;
	uint64_t start;
	uint64_t table_end;  /* where the table says the partition ends */
	uint64_t kernel_end; /* where the kernel thinks it ends */
	uint64_t new_end;    /* where it will end */
	bool table;          /* the table must change (partition or backup header) */
	bool kernel;         /* the kernel must be told */
};

void grow_plan_done(struct grow_plan *p);

/*
 * Plan growing vagent's own volume on DISK (open at FD): the GPT must be vagent's (one
 * partition at 1 MiB named with a marker) and end at the aligned end of the disk or before it
 * on a MiB boundary. EXPECT_BYTES: the size the probe saw (0: any); a disk of another size is
 * -ESTALE (its new space was not checked). CHECK_GAP: the space after the partition must scan
 * as blank (the blank proof's scan with [storage] verify, the GPT backup areas left out) before
 * the plan may extend it; ROOT, DRY_RUN for the scan's progress file. 1 and *RET when something
 * is to do, 0 when nothing is, -EUCLEAN when the table is not vagent's, -ENOTEMPTY (and *RET_WHY)
 * when the space after the partition is not blank, other <0 on error.
 */
int grow_own_plan(const char *disk, int fd, uint64_t expect_bytes, bool check_gap,
		  const struct config *cfg, const char *root, bool dry_run, struct grow_plan *ret,
		  char **ret_why);

/*
 * Carry out PLAN on DISK: the table (partition_grow(), own), then the kernel (BLKPG). FD is an
 * open descriptor of DISK whose BSD lock the caller holds. 0, or <0 (logged).
 */
int grow_own_apply(const char *disk, int fd, const struct grow_plan *plan);

/* ---- the root filesystem ---- */

enum grow_root_status {
	GROW_ROOT_GROWN,     /* grown (or, in a dry run, would be) */
	GROW_ROOT_FULL,      /* already fills what it can */
	GROW_ROOT_DISABLED,  /* [grow] root = no, /etc/growroot-disabled */
	GROW_ROOT_UNHANDLED, /* not a layout vagent grows (LVM, not the last partition, ...) */
	GROW_ROOT_FAILED,
};

struct grow_root_result {
	enum grow_root_status status;
	char *message; /* one line for the step: what grew and by how much, or why not */
	bool warn;     /* not grown and more than 1 % of its disk is unused */
};

void grow_root_result_done(struct grow_root_result *r);

/*
 * Grow the root filesystem: the filesystem mounted at / (with ROOT, at ROOT itself, which must
 * be a mount point and not hold this machine's own system disks: how tests give it a loop
 * device). Its device must be a partition that starts last on its disk (GPT or DOS, no
 * extended or hybrid table) or the whole disk; nothing but zeros in the first MiB after the
 * partition (the GPT's backup copies aside). GPT: the backup header moves to the end first.
 * The kernel is told with BLKPG (the mounted root cannot be re-read), then the filesystem is
 * grown online. Root on LVM, md, a network or memory filesystem or anything else: not
 * handled, one line says so.
 * Returns 0 with *RET filled (its status says what happened), <0 only for out-of-memory.
 */
int grow_root(const char *root, const struct config *cfg, bool dry_run, struct grow_root_result *ret);
