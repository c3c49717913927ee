/* SPDX-License-Identifier: MIT */
/*
 * mountinfo.c: reading /proc/self/mountinfo (mountinfo.h). Each line is
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER"; malformed lines
 * are skipped.
 */
#include <sys/sysmacros.h>

#include "base/mountinfo.h"
#include "base/util.h"

void unescape_octal(char *s)
{
	char *w = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*w++ = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
			p += 3;
		} else
			*w++ = *p;
	}
	*w = 0;
}

int mountinfo_foreach(int (*cb)(const struct mount_entry *e, void *userdata), void *userdata)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t alloc = 0;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return negative_errno();

	while (getline(&line, &alloc, f) > 0) {
		char *fields[7], *save = NULL, *sep;
		unsigned maj, min;
		size_t n = 0;
		int r;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = 0;
		for (char *t = strtok_r(line, " \n", &save); t && n < 5; t = strtok_r(NULL, " \n", &save))
			fields[n++] = t;
		if (n < 5)
			continue;
		save = NULL;
		fields[5] = strtok_r(sep + 3, " \n", &save);
		fields[6] = fields[5] ? strtok_r(NULL, " \n", &save) : NULL;
		if (!fields[5] || !fields[6] || sscanf(fields[2], "%u:%u", &maj, &min) != 2)
			continue;
		unescape_octal(fields[4]);
		unescape_octal(fields[6]);
		r = cb(&(struct mount_entry){ .dev = makedev(maj, min),
					      .path = fields[4],
					      .source = fields[6],
					      .fstype = fields[5] },
		       userdata);
		if (r != 0)
			return r;
	}
	return ferror(f) ? -EIO : 0;
}
