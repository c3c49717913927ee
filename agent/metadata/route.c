/* SPDX-License-Identifier: MIT */
/*
 * route.c: route_check() connects a UDP socket to the address, which makes the kernel look the
 * route up and sends no packet: ENETUNREACH (or EHOSTUNREACH) means no route yet. A boot fetch
 * starts once systemd-networkd does, usually before the DHCP lease installs the route to
 * 169.254.169.254; its backoff alone could then sleep seconds past the moment the route
 * appears. Includes no external library.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/macro.h"
#include "base/util.h"
#include "metadata/route.h"

#define ROUTE_POLL_USEC (100 * 1000ULL)

int route_target_from_url(const char *url, struct route_target *ret)
{
	const char *h, *e;
	char host[64];
	size_t n;

	*ret = (struct route_target){};
	if (strncasecmp(url, "http://", 7) == 0)
		h = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		h = url + 8;
	else
		return -EINVAL;
	if (*h == '[') {
		e = strchr(++h, ']');
		if (!e)
			return -EINVAL;
	} else {
		e = h + strcspn(h, ":/?#");
	}
	n = (size_t)(e - h);
	if (n == 0 || n >= sizeof(host))
		return -ENOENT;
	memcpy(host, h, n);
	host[n] = 0;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ret->sa)->sin_addr) == 1) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ret->sa;

		s->sin_family = AF_INET;
		s->sin_port = htons(80);
		ret->len = sizeof(*s);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ret->sa)->sin6_addr) == 1) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ret->sa;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(80);
		ret->len = sizeof(*s);
	} else {
		return -ENOENT;
	}
	memcpy(ret->shown, host, n + 1);
	return 0;
}

int route_check(const struct route_target *t)
{
	int fd, r;

	fd = socket(t->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	r = connect(fd, (const struct sockaddr *)&t->sa, t->len) == 0 ? 1 : negative_errno();
	close(fd);
	if (r == -ENETUNREACH || r == -EHOSTUNREACH)
		return 0;
	return r;
}

static void sleep_usec(uint64_t usec)
{
	struct timespec ts = { .tv_sec = (time_t)(usec / 1000000ULL),
			       .tv_nsec = (long)(usec % 1000000ULL) * 1000L };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

bool route_sleep(const struct route_target *t, uint64_t usec)
{
	uint64_t end = now_usec() + usec;

	for (;;) {
		uint64_t now = now_usec();

		if (now >= end)
			return false;
		sleep_usec(end - now < ROUTE_POLL_USEC ? end - now : ROUTE_POLL_USEC);
		if (route_check(t) == 1)
			return true;
	}
}
