/* SPDX-License-Identifier: MIT */
/*
 * mountinfo.h: the one reader of /proc/self/mountinfo (the storage code asks "is this device
 * mounted", "what is mounted here", cloud-config mounts ask the same).
 */
#pragma once

#include <sys/types.h>

/* One line of /proc/self/mountinfo, unescaped (\040 and friends undone). */
struct mount_entry {
	dev_t dev;          /* major:minor of the mounted filesystem */
	const char *path;   /* mount point */
	const char *source; /* e.g. /dev/vdb1 */
	const char *fstype;
};

/*
 * Call CB(entry, userdata) for every mount, in the file's order (later entries are mounted on
 * top of earlier ones at the same path). CB returns 0 to go on, anything else to stop; that is
 * returned. 0 at the end, <0 when the table cannot be read.
 */
int mountinfo_foreach(int (*cb)(const struct mount_entry *e, void *userdata), void *userdata);

/* Undo the octal escapes (\040 etc.) of mountinfo, /proc/swaps and fstab, in place. */
void unescape_octal(char *s);
