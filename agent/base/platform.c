/* SPDX-License-Identifier: MIT */
/*
 * platform.c: the decision whether vagent acts on this machine. Opt-outs first (a file and a
 * kernel command line word, both also conditions of the units, so `systemctl status` shows
 * them too), then the platform: DMI sys_vendor "Vultr" on VMs, the command line word "vultr"
 * or the file /etc/vultr on bare metal, "vagent=force" or `[platform] check = no` to override.
 * platform_kind() tells a VM from bare metal for the storage candidates.
 */
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/platform.h"
#include "base/util.h"

#define DISABLED_FILE "/etc/vagent/disabled"

bool cmdline_has_word(const char *cmdline, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = cmdline; (p = strstr(p, word)); p += n) {
		bool start = p == cmdline || isspace((unsigned char)p[-1]);
		bool end = p[n] == 0 || isspace((unsigned char)p[n]);
		if (start && end)
			return true;
	}
	return false;
}

/* Kernel files: /sys/class/dmi/id is a symlink into /sys/devices, so this follows links (it
 * only reads, and only from /proc and /sys). */
static char *read_trimmed(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *buf = NULL;
	size_t len;

	if (fd < 0 || read_fd(fd, 4096, &buf, &len) < 0)
		return NULL;
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = 0;
	return buf;
}

int platform_check(const char *root, const struct config *cfg, char **ret_reason)
{
	_cleanup_free_ char *cmdline = NULL, *vendor = NULL, *p = NULL;
	struct stat st;

	p = path_join_root(root, DISABLED_FILE);
	if (!p)
		return -ENOMEM;
	if (lstat(p, &st) == 0)
		return asprintf(ret_reason, "disabled by %s", DISABLED_FILE) < 0 ? -ENOMEM : 0;
	if (!root_is_host(root)) {
		/* An image: its own command line when it has one (tests), never the host's. */
		_cleanup_free_ char *q = path_join_root(root, "/proc/cmdline");
		if (!q)
			return -ENOMEM;
		cmdline = read_trimmed(q);
		if (cmdline && cmdline_has_word(cmdline, "vagent=disabled"))
			return asprintf(ret_reason, "disabled by vagent=disabled on the kernel "
					"command line") < 0 ? -ENOMEM : 0;
		return 1;
	}

	cmdline = read_trimmed("/proc/cmdline");
	if (cmdline && cmdline_has_word(cmdline, "vagent=disabled"))
		return asprintf(ret_reason, "disabled by vagent=disabled on the kernel command line") <
				       0 ?
			       -ENOMEM :
			       0;
	if (!cfg->platform_check || (cmdline && cmdline_has_word(cmdline, "vagent=force")))
		return 1;

	vendor = read_trimmed("/sys/class/dmi/id/sys_vendor");
	if (vendor && streq(vendor, "Vultr"))
		return 1;
	if (cmdline && cmdline_has_word(cmdline, "vultr"))
		return 1;
	if (access("/etc/vultr", F_OK) == 0)
		return 1;

	return asprintf(ret_reason,
			"not a Vultr-style platform (DMI sys_vendor '%s', no 'vultr' on the kernel "
			"command line, no /etc/vultr); set [platform] check = no to override",
			vendor ? vendor : "unknown") < 0 ?
		       -ENOMEM :
		       0;
}

const char *platform_kind_to_string(enum platform_kind k)
{
	switch (k) {
	case PLATFORM_VM:
		return "vm";
	case PLATFORM_BARE_METAL:
		return "bare-metal";
	default:
		return "unknown";
	}
}

enum platform_kind platform_kind(const char *root)
{
	_cleanup_free_ char *vp = path_join_root(root, "/sys/class/dmi/id/sys_vendor");
	_cleanup_free_ char *cp = path_join_root(root, "/proc/cmdline");
	_cleanup_free_ char *ep = path_join_root(root, "/etc/vultr");
	_cleanup_free_ char *vendor = NULL, *cmdline = NULL;

	if (!vp || !cp || !ep)
		return PLATFORM_UNKNOWN; /* out of memory: the safe answer */
	vendor = read_trimmed(vp);
	if (vendor && streq(vendor, "Vultr"))
		return PLATFORM_VM;
	cmdline = read_trimmed(cp);
	if ((cmdline && cmdline_has_word(cmdline, "vultr")) || access(ep, F_OK) == 0)
		return PLATFORM_BARE_METAL;
	return PLATFORM_UNKNOWN;
}
