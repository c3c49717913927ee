/* SPDX-License-Identifier: MIT */
/*
 * route.h: whether the kernel can route to the metadata service's address yet, so that a fetch
 * that started before DHCP does not sleep through the network coming up (route.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct route_target {
	struct sockaddr_storage sa;
	socklen_t len;
	char shown[64]; /* the address, for messages */
};

/* The numeric IPv4 or IPv6 host of http(s) URL, port 80. -ENOENT: a name, not an address. */
int route_target_from_url(const char *url, struct route_target *ret);

/* 1: the kernel has a route to T; 0: none (unreachable); < 0: cannot tell. Sends nothing. */
int route_check(const struct route_target *t);

/* Sleep USEC, looking for a route to T every 100 ms: true when one appeared before the end. */
bool route_sleep(const struct route_target *t, uint64_t usec);
