/* SPDX-License-Identifier: MIT */
/*
 * blockdev.h: what the kernel says about block devices, read from sysfs and procfs only (no
 * external library, nothing is opened for writing): identity (dev_t, kernel name, whole disk or
 * partition, read-only, removable, size, serial, diskseq), partitions found as sysfs children
 * (never by building names), holders, mounts and swaps that use a disk or its partitions, the
 * whole disks behind the running system, and the automatic candidate list (vd*, nvme*n*).
 * The sysfs root is a parameter so tests can point it at a fake tree.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/macro.h"
#include "base/platform.h"

struct blockdev {
	char *path;    /* realpath() of what the caller named, e.g. /dev/loop3 */
	char *name;    /* kernel name, e.g. loop3, nvme0n1 */
	char *syspath; /* resolved sysfs directory, e.g. /sys/devices/virtual/block/loop3 */
	char *serial;  /* trimmed serial (block/X/serial or device/serial); NULL if none */
	dev_t devnum;
	uint64_t size_bytes;
	uint64_t diskseq; /* 0 when the kernel does not expose it */
	unsigned partno;  /* partition number when !whole, else 0 */
	bool whole;       /* no `partition` attribute */
	bool ro;
	bool removable;
};

/* Default "/sys". Tests point it at a fake tree; NULL restores the default. */
void blockdev_set_sysfs_root(const char *root);
const char *blockdev_get_sysfs_root(void);

/*
 * Resolve PATH, check it is a block device and fill RET from sysfs. -ENOTBLK when PATH is not a
 * block device, -ENOENT when it does not exist, other negative errno on failure. On success the
 * caller calls blockdev_done().
 */
int blockdev_load(const char *path, struct blockdev *ret);
void blockdev_done(struct blockdev *b);

/* Kernel names of the partitions of the whole disk B (sysfs children with `partition`), sorted
 * by partition number. An empty list (not NULL) when there are none. */
int blockdev_list_partitions(const struct blockdev *b, char ***ret_names);

/* "/dev/<child>" for partition number N of the disk with kernel name DISK (looked up below
 * <sysfs root>/block/DISK), -ENOENT when the kernel lists no such partition. */
int blockdev_partition_path(const char *disk, unsigned n, char **ret_path);

/* The disk's own dev_t followed by those of its partitions, with their kernel names in
 * RET_NAMES (same order, NULL-terminated); *RET_N entries. */
int blockdev_devnums(const struct blockdev *b, dev_t **ret, char ***ret_names, size_t *ret_n);

/* Read one sysfs attribute of partition CHILD of disk B ("start", "size", ...) as u64. */
int blockdev_read_partition_u64(const struct blockdev *b, const char *child, const char *attr,
				uint64_t *ret);

/* 1 and the first holder's name ("dm-0", or "loop3p1: dm-0") when the disk or one of its
 * partitions has holders, 0 when none, <0 on error. */
int blockdev_find_holder(const struct blockdev *b, char **ret_what);

/* 1 and "<what> mounted at <dir>" when the disk or one of its partitions is in
 * /proc/self/mountinfo (by major:minor or by mount source), 0 when not, <0 on error. */
int blockdev_find_mount(const struct blockdev *b, char **ret_what);

/* 1 and "<what> is an active swap" when the disk or a partition is in /proc/swaps. */
int blockdev_find_swap(const struct blockdev *b, char **ret_what);

/* 1 and a description ("holds /boot") when B is a whole disk behind /, /boot, /boot/efi, /usr,
 * /var or any swap (partitions walked to their disk, dm/md walked through slaves/). */
int blockdev_is_system_disk(const struct blockdev *b, char **ret_what);

/* Whole disks the agent may pick up by itself: /sys/block entries vd* and nvme<N>n<M>
 * (not nvme<N>c<M>...). */
bool blockdev_name_is_candidate(const char *name);
/* Sorted "/dev/<name>" list of candidates present; an empty list when there are none. */
int blockdev_list_candidates(char ***ret_paths);

/*
 * The disks vagent considers by itself. DEVICES is [storage] devices: "auto" (on a VM the
 * virtio and NVMe disks, anywhere else none: Vultr Block Storage cannot attach to bare metal,
 * so every disk there is a local disk), "none", or globs (fnmatch) over kernel names and
 * /dev/disk/by-id names, which select whole disks of any kind on any platform
 * (*RET_CONFIGURED: the operator named them). *RET_WHY says which rule applied.
 */
int blockdev_select_candidates(enum platform_kind kind, const char *devices,
			       char ***ret_paths, bool *ret_configured, char **ret_why);
