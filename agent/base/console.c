/* SPDX-License-Identifier: MIT */
/*
 * console.c: writing to the system console (console.h). O_NOCTTY so a unit never acquires it as
 * its terminal, O_NONBLOCK so a console nobody drains (a full serial buffer, flow control)
 * cannot hold up the boot: what does not fit is dropped, the journal keeps the same lines.
 */
#include <fcntl.h>

#include "base/console.h"
#include "base/macro.h"
#include "base/util.h"

#define CONSOLE "/dev/console"

int console_write(const char *root, const char *text)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);

	if (!root_is_host(root))
		return 0;
	fd = open(CONSOLE, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? negative_errno() : -EIO;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}
