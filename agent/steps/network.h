/* SPDX-License-Identifier: MIT */
/*
 * network.h: the network step. From the metadata's interfaces (struct md_interface, already
 * validated by json.c) and the NICs the system has, one systemd-networkd .network file per
 * interface in /run/systemd/network/, matched by MAC, rebuilt every boot:
 *
 *   public  (keyed on network-type, not on the index): DHCP=ipv4, IPv6AcceptRA=yes, the extra
 *           IPv4 and IPv6 addresses, the routes, the MTU when given;
 *   private (a VPC NIC, no DHCP server): the static address and extra addresses, no gateway,
 *           MTUBytes=, IPv6AcceptRA=no, RequiredForOnline=no unless no public NIC is
 *           configured (vpc_only), so systemd-networkd-wait-online never waits for it.
 *
 * "unconfigured": true gives no file; an interface whose MAC matches no NIC gives one warning
 * and no file (in the boot stage; network-early, which runs before udev may have probed the
 * NICs, writes a file for every MAC, as if each NIC were there, so that with the NICs there
 * the boot stage renders the same bytes and reloads nothing); a malformed interface fails
 * the step (its error names the field) while the others are still written. A file of the same name in /etc/systemd/network/ wins (systemd's
 * rule): vagent then leaves that NIC alone and never writes /etc. `networkctl reload` runs
 * only when a file changed. Nothing here parses JSON or writes netplan, ifupdown or
 * NetworkManager files.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "metadata/metadata.h"
#include "steps/step.h"

#define NETWORK_RUN_DIR "/run/systemd/network"
#define NETWORK_ETC_DIR "/etc/systemd/network"
#define NETWORK_FILE_PREFIX "10-vagent-"

/* An Ethernet NIC of this system, from ROOT/sys/class/net/NAME/{address,type}. */
struct nic {
	char *name;
	char mac[18]; /* lowercase aa:bb:cc:dd:ee:ff */
};

/* The Ethernet NICs (type 1) with a MAC, sorted by name. A missing ROOT/sys/class/net is an
 * empty list. */
int nic_list(const char *root, struct nic **ret, size_t *ret_n);
void nic_list_free(struct nic *l, size_t n);

/* What becomes of one interface of the document. */
enum network_fate {
	NETWORK_WRITE,        /* a file (possibly overridden by /etc, see network_apply) */
	NETWORK_UNCONFIGURED, /* "unconfigured": true */
	NETWORK_NO_NIC,       /* no NIC has its MAC */
	NETWORK_MALFORMED,    /* md_interface.error */
};

struct network_entry {
	size_t index;           /* interfaces[index] */
	enum network_fate fate;
	const char *mac;        /* borrowed from the metadata (NULL when malformed without one) */
	const char *nic;        /* borrowed from the NIC list (NETWORK_WRITE; NULL: every_mac
				 * and no NIC has the MAC) */
	const char *error;      /* NETWORK_MALFORMED: the field and the reason */
	char *error_owned;      /* (the plan's own errors: a MAC given twice) */
	char *name;             /* NETWORK_WRITE: "10-vagent-560005aabbcc.network" */
	char *text;             /* NETWORK_WRITE: the file */
};

struct network_plan {
	struct network_entry *entries; /* one per interface, in document order */
	size_t n_entries;
};

/*
 * Decide every interface of MD against NICS and render the files. EVERY_MAC: a file for every
 * valid interface whether a NIC has its MAC or not (network-early; the entries' nic stays
 * NULL where none has). A file's text never depends on the NICs' names. Pure: no I/O.
 * Returns 0 or -ENOMEM.
 */
int network_plan_build(const struct metadata *md, const struct nic *nics, size_t n_nics,
		       bool every_mac, struct network_plan *ret);
void network_plan_done(struct network_plan *p);

struct network_applied {
	size_t written, unchanged, removed, overridden;
	char **overridden_names; /* the NIC names whose file /etc overrides */
};

/*
 * Bring ROOT/run/systemd/network in line with PLAN: write the files whose content differs
 * (atomically, 0644), leave identical ones alone, skip (and remove from /run) a name that
 * ROOT/etc/systemd/network also has, and remove vagent's files no longer in the plan. DRY_RUN:
 * nothing is written; each file is printed to PLAN_OUT (when not NULL) with what would
 * happen to it. Returns 0, or a negative errno (logged) when a write or removal failed.
 */
int network_apply(const char *root, const struct network_plan *plan, bool dry_run,
		  FILE *plan_out, struct network_applied *ret);
void network_applied_done(struct network_applied *a);

/* The step (see step.h): [network] manage decides; the plan, network_apply(), and
 * `networkctl reload` when something changed on the running system. */
int step_network(struct step_context *ctx, struct step_outcome *out);
/* The same from the cached document before systemd-networkd starts (vagent-early.service):
 * a file for every interface's MAC (network_plan_build()'s every_mac), so the boot stage
 * finds its files unchanged and networkd is neither reloaded nor restarted. */
int step_network_early(struct step_context *ctx, struct step_outcome *out);
