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

/* Is WORD a whole word of the kernel command line in CMDLINE? */
bool cmdline_has_word(const char *cmdline, const char *word);
