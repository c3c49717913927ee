/* SPDX-License-Identifier: MIT */
/*
 * mount.h: mounting vagent's volumes (through systemd, as transient mount units, when systemd
 * runs the system; else mount(2)) and unmounting them cleanly: plain umount(2) only (never
 * lazy, never forced); when the kernel says busy, the processes holding the mount are named.
 * Also the "safe to detach" check done after an unmount.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/config.h"

/* The topmost mount at a path, from /proc/self/mountinfo. */
struct mount_info {
	dev_t dev;    /* st_dev of the mounted filesystem (major:minor in mountinfo) */
	char *path;   /* unescaped mount point */
	char *source; /* e.g. /dev/loop0p1 */
	char *fstype;
};

void mount_info_done(struct mount_info *m);

/* 1 and the topmost mount at PATH (canonical, absolute), 0 when nothing is mounted there. */
int mount_find(const char *path, struct mount_info *ret);

/* 1 and the first mount of block device DEV (its mount point in *ret), 0 when none. */
int mount_find_device(dev_t dev, struct mount_info *ret);

/*
 * The canonical path of MOUNTPOINT (absolute, inside ROOT): realpath(ROOT) + MOUNTPOINT, as it
 * appears in mountinfo.
 */
int mount_path(const char *root, const char *mountpoint, char **ret);

/*
 * What systemd should mount for PARTITION, whose filesystem has UUID: on the host with udev
 * running, /dev/disk/by-uuid/UUID (what the fstab line names) once it leads to PARTITION,
 * waited for with inotify after asking udev for a "change" event of PARTITION, at most
 * TIMEOUT_USEC (then the node, with a warning); else PARTITION itself. Call it while the disk
 * is not locked: udev must be free to process the partition. 0 and *RET_WHAT, <0 when
 * PARTITION is not a block device.
 */
int mount_wait_source(const char *root, const char *partition, const char *uuid,
		      uint64_t timeout_usec, char **ret_what);

/*
 * Mount PARTITION (filesystem FS, vagent's volume VOLUME_ID) at MOUNTPOINT inside ROOT,
 * creating the directory (0755, no symlink followed anywhere below ROOT). On the host under
 * systemd: the transient unit <mount point>.mount (What=WHAT, nofail, Before=
 * vagent-storage.service), or mount(2) when systemd already has a unit of that name (one
 * made from /etc/fstab) or cannot be reached; mount(2) under --root or without systemd.
 * 0 when PARTITION is already mounted there, 1 mounted, -EBUSY when something else is mounted
 * there or PARTITION is mounted elsewhere.
 */
int mount_volume(const char *root, const char *what, const char *partition,
		 const char *mountpoint, enum fs_type fs, const char *volume_id);

/*
 * sync(), then umount2(PATH, UMOUNT_NOFOLLOW) (PATH canonical, absolute). 1 unmounted, 0 when
 * nothing was mounted there. On EBUSY *RET_MESSAGE says who holds it ("'/mnt/x' is busy: held
 * by pid 123 (bash), pid 456 (less)") and -EBUSY is returned; nothing is forced.
 */
int umount_volume(const char *path, char **ret_message);

/*
 * Whether whole disk DISK may be detached: neither it nor a partition is mounted, used as swap
 * or held, and an O_EXCL open succeeds. 1 safe, 0 not safe (*RET_WHY says why), <0 error.
 */
int device_safe_to_detach(const char *disk, char **ret_why);
