/* SPDX-License-Identifier: MIT */
/*
 * journal.c: the two datagrams vagent sends to systemd without a library, in their documented
 * protocols: a journal entry on journald's native socket ("NAME=value\n" fields, or "NAME\n"
 * + 64-bit little-endian length + bytes + "\n" for a value with a newline) and sd_notify(3)
 * state on $NOTIFY_SOCKET (a path or an abstract "@name"). No logging here: log.c is the
 * caller.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include "base/journal.h"
#include "base/macro.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define JOURNAL_MAX_FIELDS 16

static const char *journal_socket = JOURNAL_SOCKET;
static int journal_fd = -1;

void journal_set_socket(const char *path)
{
	journal_socket = path ? path : JOURNAL_SOCKET;
	journal_fd = safe_close(journal_fd);
}

static int unix_address(const char *path, struct sockaddr_un *sa, socklen_t *ret_len)
{
	size_t l = strlen(path);

	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (l == 0 || l >= sizeof(sa->sun_path))
		return -EINVAL;
	memcpy(sa->sun_path, path, l);
	if (path[0] == '@') /* abstract namespace */
		sa->sun_path[0] = 0;
	*ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l + (path[0] == '@' ? 0 : 1));
	return 0;
}

int journal_send(const char *const *fields, size_t n)
{
	struct iovec iov[JOURNAL_MAX_FIELDS * 4];
	uint64_t lens[JOURNAL_MAX_FIELDS];
	struct sockaddr_un sa;
	struct msghdr mh = {};
	socklen_t salen;
	size_t k = 0;
	int r;

	if (n > JOURNAL_MAX_FIELDS)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(fields[i], '=');

		if (!eq || eq == fields[i])
			return -EINVAL;
		if (!strchr(eq + 1, '\n')) {
			iov[k++] = (struct iovec){ (void *)fields[i], strlen(fields[i]) };
			iov[k++] = (struct iovec){ (void *)"\n", 1 };
			continue;
		}
		/* A value with a newline: NAME, newline, length (LE64), the bytes, newline. */
		uint64_t l = strlen(eq + 1);
		for (int b = 0; b < 8; b++)
			((unsigned char *)&lens[i])[b] = (unsigned char)(l >> (8 * b));
		iov[k++] = (struct iovec){ (void *)fields[i], (size_t)(eq - fields[i]) };
		iov[k++] = (struct iovec){ (void *)"\n", 1 };
		iov[k++] = (struct iovec){ &lens[i], sizeof(lens[i]) };
		iov[k++] = (struct iovec){ (void *)(eq + 1), l };
		iov[k++] = (struct iovec){ (void *)"\n", 1 };
	}

	r = unix_address(journal_socket, &sa, &salen);
	if (r < 0)
		return r;
	if (journal_fd < 0) {
		journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (journal_fd < 0)
			return negative_errno();
	}
	mh.msg_name = &sa;
	mh.msg_namelen = salen;
	mh.msg_iov = iov;
	mh.msg_iovlen = k;
	if (sendmsg(journal_fd, &mh, MSG_NOSIGNAL) < 0)
		return negative_errno();
	return 0;
}

/* ---- sd_notify ---- */

int notify_send(const char *state)
{
	const char *e = getenv("NOTIFY_SOCKET");
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	socklen_t salen;
	int r;

	if (!e || (e[0] != '/' && e[0] != '@'))
		return 0;
	r = unix_address(e, &sa, &salen);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		return negative_errno();
	return 1;
}
