/* SPDX-License-Identifier: MIT */
/*
 * mount.h: mounting vagent's volumes with mount(2) and unmounting them cleanly: plain
 * umount(2) only (never lazy, never forced); when the kernel says busy, the processes holding
 * the mount are named. Also the "safe to detach" check done after an unmount.
 */
#pragma once

#include <stdbool.h>
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
 * Mount PARTITION (filesystem FS) at MOUNTPOINT inside ROOT, creating the directory (0755, no
 * symlink followed anywhere below ROOT). 0 when PARTITION is already mounted there, 1 mounted,
 * -EBUSY when something else is mounted there or PARTITION is mounted elsewhere.
 */
int mount_volume(const char *root, const char *partition, const char *mountpoint,
		 enum fs_type fs);

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

/* After vagent changed /etc/fstab on the running system: `systemctl daemon-reload`, so the
 * mount units systemd makes of the new lines (and their shutdown ordering) exist now, not at
 * the next boot. A no-op without a running systemd. Failure is logged, never fatal. */
void mount_reload_systemd(void);

/* Wait (at most TIMEOUT_USEC) until udev has no events queued (/run/udev/queue is gone), like
 * `udevadm settle` without running it. A no-op without udev. */
void udev_wait_idle(uint64_t timeout_usec);
