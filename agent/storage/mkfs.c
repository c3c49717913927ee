/* SPDX-License-Identifier: MIT */
/*
 * mkfs.c: spawning mkfs.ext4 / mkfs.xfs with an argv built here (no shell), quiet, labelled,
 * with or without discard, and checking the result with probe_partition_fs(). No force flag is
 * ever passed (-F/-f): mkfs.xfs then refuses to overwrite a filesystem by itself; mkfs.ext4
 * only asks on a terminal, which is why the caller must have proven the partition empty first.
 */
#include <inttypes.h>

#include "base/fault.h"
#include "base/log.h"
#include "storage/mkfs.h"
#include "storage/probe.h"
#include "base/process.h"
#include "base/util.h"

#define MKFS_TIMEOUT_USEC (10 * 60 * 1000000ULL)

size_t mkfs_label_max(enum fs_type fs)
{
	return fs == FS_XFS ? 12 : 16;
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

char *mkfs_make_label(const char *volume_id, enum fs_type fs)
{
	size_t max = mkfs_label_max(fs), n = 0;
	char *l = malloc(max + 1);

	if (!l)
		return NULL;
	for (const char *p = volume_id; *p && n < max; p++)
		if (label_char(*p) && !(n == 0 && *p == '-'))
			l[n++] = *p;
	l[n] = 0;
	if (n == 0) {
		free(l);
		errno = EINVAL;
		return NULL;
	}
	return l;
}

static bool label_valid(const char *label, enum fs_type fs)
{
	size_t n = strlen(label);

	if (n == 0 || n > mkfs_label_max(fs) || label[0] == '-')
		return false;
	for (const char *p = label; *p; p++)
		if (!label_char(*p))
			return false;
	return true;
}

static void log_line(const char *line, void *userdata)
{
	log_debug("%s: %s", (const char *)userdata, line);
}

int mkfs_run(const char *partition, enum fs_type fs, const char *label, bool discard,
	     char **ret_uuid)
{
	_cleanup_free_ char *type = NULL, *uuid = NULL;
	const char *argv[12];
	const char *prog = fs == FS_XFS ? "mkfs.xfs" : "mkfs.ext4";
	struct spawn_options o = {
		.timeout_usec = MKFS_TIMEOUT_USEC,
		.log_fd = -1,
		.line_cb = log_line,
		.userdata = (void *)prog,
	};
	size_t n = 0;
	uint64_t t0;
	int r, status = 0;

	if (label && !label_valid(label, fs))
		return log_error_errno(-EINVAL, "Invalid label '%s' for %s", label,
				       fs_type_to_string(fs));

	argv[n++] = prog;
	argv[n++] = "-q";
	if (label) {
		argv[n++] = "-L";
		argv[n++] = label;
	}
	if (!discard)
		argv[n++] = fs == FS_XFS ? "-K" : "-E";
	if (!discard && fs == FS_EXT4)
		argv[n++] = "nodiscard";
	argv[n++] = partition;
	argv[n] = NULL;

	if (fault_enabled("during-mkfs"))
		o.timeout_usec = fault_delay_usec();

	log_info("Making %s on '%s'%s", fs_type_to_string(fs), partition,
		 discard ? "" : " (no discard)");
	t0 = now_usec();
	r = spawn_run((char *const *)argv, &o, &status);
	if (fault_enabled("during-mkfs"))
		fault_point("during-mkfs");
	if (r == -ETIME)
		return log_error_errno(r, "%s on '%s' did not finish in %llu s", prog, partition,
				       MKFS_TIMEOUT_USEC / 1000000ULL);
	if (r < 0)
		return log_error_errno(r, "Failed to run %s: %m", prog);
	if (status != 0)
		return log_error_errno(-EIO, "%s on '%s' failed with status %d", prog, partition,
				       status);
	log_info("%s on '%s' took %" PRIu64 " ms", prog, partition, (now_usec() - t0) / 1000);

	r = probe_partition_fs(partition, &type, &uuid);
	if (r < 0)
		return log_error_errno(r, "Failed to probe '%s' after %s: %m", partition, prog);
	if (!type || !streq(type, fs_type_to_string(fs)))
		return log_error_errno(-EIO, "'%s' holds %s after %s, not %s", partition,
				       type ? type : "nothing", prog, fs_type_to_string(fs));
	if (!uuid || !*uuid)
		return log_error_errno(-EIO, "The %s on '%s' has no UUID", type, partition);

	*ret_uuid = TAKE_PTR(uuid);
	return 0;
}
