/* SPDX-License-Identifier: MIT */
/*
 * metadata.h: struct metadata, the v1.json document reduced to the plain C values the steps act
 * on (strings are copied out of the parser; no json-c type appears here). json.c fills it in
 * (metadata_parse(), from the field tables at its top) after validating every field; the steps
 * only read it. SECRET fields (user-data, vendor-data, startup-script) are never logged, never
 * written to status or test output, and only rendered when asked for by name.
 *
 * Absent values: strings NULL, numbers 0, lists empty. The
 * document's "" for "none" (a private NIC's "gateway": "", "prefix": "") reads as absent.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/macro.h"

enum md_network_type {
	MD_NETWORK_PUBLIC,  /* "public": DHCP and router advertisements */
	MD_NETWORK_PRIVATE, /* "private": a VPC NIC, static address, no DHCP server */
};

/* An extra address: ipv4.additional[] {address, netmask}, ipv6.additional[] {network or
 * address, prefix}. */
struct md_address {
	char *address;  /* validated IPv4 / IPv6 text */
	int64_t prefix; /* prefix length (from the netmask for IPv4) */
};

/* ipv4.routes[] {network, netmask (an integer prefix length), gateway (optional)}. */
struct md_route {
	char *network;  /* IPv4 destination */
	int64_t prefix; /* 0..32 */
	char *gateway;  /* NULL: on-link */
};

/*
 * One entry of "interfaces". An interface whose content is malformed does not fail the document
 * (hostname and keys still apply): ERROR then names the field and the reason, e.g. "field
 * 'interfaces[1].ipv4.netmask': not an IPv4 netmask", and the other members are unreliable.
 */
struct md_interface {
	char *error;       /* NULL: every field below is valid */
	char *mac;         /* "mac": six ':'-separated hex pairs */
	enum md_network_type type; /* "network-type" (required) */
	bool unconfigured; /* "unconfigured": true, leave this NIC alone */
	int64_t mtu;       /* "mtu" (a string or a number), 0: not given */
	char *network_id;  /* "network-v2-id", NULL when absent */

	char *ipv4_address;   /* "ipv4.address" (required on a private NIC) */
	int64_t ipv4_prefix;  /* from "ipv4.netmask" (required with the address); 0 absent */
	char *ipv4_gateway;   /* "ipv4.gateway" */
	struct md_address *ipv4_additional;
	size_t n_ipv4_additional;
	struct md_route *ipv4_routes;
	size_t n_ipv4_routes;

	char *ipv6_address;   /* "ipv6.address" */
	char *ipv6_network;   /* "ipv6.network" */
	int64_t ipv6_prefix;  /* "ipv6.prefix" (1..128), 0 absent */
	struct md_address *ipv6_additional;
	size_t n_ipv6_additional;
};

struct metadata {
	char *instance_id;  /* "instance-v2-id": non-empty, only [0-9a-fA-F-], at most 64 chars, so
			     * it is safe as a directory name */
	char *legacy_id;    /* "instanceid" (a string, or an integer within int64); NULL when
			     * absent */
	char *hostname;     /* "hostname"; "" means: keep the current name */
	char **public_keys; /* "public-keys": never NULL. From an array: one entry per element, same
			     * index, unchanged (control characters are left for the ssh-keys step
			     * to reject per key). From the legacy single string: one entry per
			     * non-empty line. */
	char *region_code;  /* "region.regioncode" */
	char *country_code; /* "region.countrycode"; NULL when absent */
	char **tags;        /* "tags": never NULL (empty when absent) */

	/* SECRET: the bytes of "user-data", "vendor-data", "startup-script" (a string, or [] for
	 * none; "" is none too): no NUL inside, NUL-terminated, or NULL. has_X == (X != NULL). */
	bool has_user_data;
	char *user_data;
	size_t user_data_len;
	bool has_vendor_data;
	char *vendor_data;
	size_t vendor_data_len;
	bool has_startup_script;
	char *startup_script;
	size_t startup_script_len;

	struct md_interface *interfaces; /* "interfaces" (an array of objects; absent: none) */
	size_t n_interfaces;
};

/* Release M and everything it owns (json.c walks the same field tables that filled it). */
void metadata_free(struct metadata *m);

static inline void metadata_freep(struct metadata **m)
{
	metadata_free(*m);
}

#define _cleanup_metadata_free_ _cleanup_(metadata_freep)

const char *md_network_type_to_string(enum md_network_type t);
