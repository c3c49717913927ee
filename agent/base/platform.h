/* SPDX-License-Identifier: MIT */
/*
 * platform.h: should vagent act on this machine at all? The opt-outs (/etc/vagent/disabled,
 * kernel command line "vagent=disabled") and the platform check (DMI sys_vendor "Vultr", the
 * kernel command line word "vultr" or /etc/vultr for bare metal, or the config override), so
 * that an image booted elsewhere does nothing.
 */
#pragma once

#include "base/config.h"

/* 1: act; 0: do nothing (*ret_reason says why, one line); <0: error. With ROOT set (acting on
 * an image, not on this machine) only the disabled file inside ROOT is checked. */
int platform_check(const char *root, const struct config *cfg, char **ret_reason);

/* What kind of machine this is, for the storage candidates (Vultr Block Storage attaches to
 * VMs only, so on bare metal every disk is a local disk). */
enum platform_kind {
	PLATFORM_UNKNOWN,    /* neither: an image, another cloud, a forced run */
	PLATFORM_VM,         /* DMI sys_vendor "Vultr" */
	PLATFORM_BARE_METAL, /* kernel command line word "vultr" or /etc/vultr, no DMI vendor */
};

/* "unknown" "vm" "bare-metal" */
const char *platform_kind_to_string(enum platform_kind k);

/*
 * The kind of the system at ROOT (NULL or "/": this machine): ROOT/sys/class/dmi/id/sys_vendor,
 * ROOT/proc/cmdline, ROOT/etc/vultr. Under --root these files are the image's own (usually
 * absent, so the kind is unknown); tests create them to play a platform.
 */
enum platform_kind platform_kind(const char *root);

/* Is WORD a whole word of the kernel command line in CMDLINE? */
bool cmdline_has_word(const char *cmdline, const char *word);
