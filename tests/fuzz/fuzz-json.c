/* SPDX-License-Identifier: MIT */
/*
 * fuzz-json.c: the metadata document and the status file, the two JSON texts vagent reads.
 * The input goes to metadata_parse(), metadata_render() (whole document, secrets redacted) and
 * boot_report_from_json(). Beyond "no crash, no leak": a parsed document honours the promises of
 * metadata.h (instance id safe as a directory name, hostname without control characters, lists
 * never NULL, an interface either refused with its own error or well-formed, the .network files
 * made from it (network_plan_build()) line by line well-formed), an error is one line, and a
 * status file that loads survives a round trip through boot_report_to_json() unchanged.
 */
#include <errno.h>

#include "fuzz.h"
#include "metadata/json.h"
#include "steps/network.h"

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

/* An interface is either refused with a one-line error naming a field of interfaces[], or every
 * value the network step writes into a .network file is well-formed. */
static void check_interface(const struct md_interface *i)
{
	if (i->error) {
		FUZZ_ASSERT(!strchr(i->error, '\n') && strstr(i->error, "field 'interfaces["));
		return;
	}
	FUZZ_ASSERT(i->mac && strlen(i->mac) == 17 && !has_control(i->mac));
	FUZZ_ASSERT(i->type == MD_NETWORK_PUBLIC || i->type == MD_NETWORK_PRIVATE);
	FUZZ_ASSERT(i->mtu == 0 || (i->mtu >= 68 && i->mtu <= 65535));
	FUZZ_ASSERT(!i->ipv4_address || (i->ipv4_prefix >= 1 && i->ipv4_prefix <= 32));
	FUZZ_ASSERT(i->unconfigured || i->type != MD_NETWORK_PRIVATE || i->ipv4_address);
	FUZZ_ASSERT(i->ipv6_prefix >= 0 && i->ipv6_prefix <= 128);
	for (size_t j = 0; j < i->n_ipv4_additional; j++)
		FUZZ_ASSERT(i->ipv4_additional[j].address && !has_control(i->ipv4_additional[j].address) &&
			    i->ipv4_additional[j].prefix >= 1 && i->ipv4_additional[j].prefix <= 32);
	for (size_t j = 0; j < i->n_ipv6_additional; j++)
		FUZZ_ASSERT(i->ipv6_additional[j].address && !has_control(i->ipv6_additional[j].address) &&
			    i->ipv6_additional[j].prefix >= 1 && i->ipv6_additional[j].prefix <= 128);
	for (size_t j = 0; j < i->n_ipv4_routes; j++)
		FUZZ_ASSERT(i->ipv4_routes[j].network && i->ipv4_routes[j].prefix >= 0 &&
			    i->ipv4_routes[j].prefix <= 32);
}

/* Every interface given a NIC of its MAC: each rendered .network line is a comment, a
 * [Section] or Key=Value without control characters (nothing from the document can inject a
 * line or a key). */
static void check_network_files(const struct metadata *m)
{
	struct nic *nics = calloc(m->n_interfaces + 1, sizeof(*nics));
	struct network_plan p = {};
	size_t n = 0;

	FUZZ_ASSERT(nics);
	for (size_t i = 0; i < m->n_interfaces; i++)
		if (m->interfaces[i].mac && strlen(m->interfaces[i].mac) == 17) {
			nics[n].name = (char *)"eth0";
			memcpy(nics[n].mac, m->interfaces[i].mac, 18);
			n++;
		}
	if (network_plan_build(m, nics, n, false, &p) == 0) {
		for (size_t k = 0; k < p.n_entries; k++) {
			const char *t = p.entries[k].text;

			if (p.entries[k].fate != NETWORK_WRITE)
				continue;
			FUZZ_ASSERT(t && p.entries[k].name && !strchr(p.entries[k].name, '/'));
			for (const char *l = t; *l; l = strchr(l, '\n') + 1) {
				const char *e = strchr(l, '\n');

				FUZZ_ASSERT(e);
				for (const char *c = l; c < e; c++)
					FUZZ_ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f);
				FUZZ_ASSERT(e == l || l[0] == '#' || l[0] == '[' ||
					    (memchr(l, '=', (size_t)(e - l)) && l[0] != '='));
			}
		}
		/* network-early's plan (no NIC probed yet, every_mac) renders the same bytes the boot
		 * stage renders with every NIC there: what keeps networkd from reloading. */
		{
			struct network_plan q = {};

			if (network_plan_build(m, NULL, 0, true, &q) == 0) {
				FUZZ_ASSERT(q.n_entries == p.n_entries);
				for (size_t k = 0; k < p.n_entries; k++) {
					FUZZ_ASSERT(q.entries[k].fate == p.entries[k].fate);
					if (p.entries[k].fate == NETWORK_WRITE)
						FUZZ_ASSERT(streq(q.entries[k].text, p.entries[k].text) &&
							    streq(q.entries[k].name, p.entries[k].name));
				}
				network_plan_done(&q);
			}
		}
		network_plan_done(&p);
	}
	free(nics);
}

static void check_metadata(const uint8_t *data, size_t size)
{
	struct metadata *m = NULL;
	char *error = NULL;
	int r;

	r = metadata_parse((const char *)data, size, &m, &error);
	if (r < 0) {
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
		FUZZ_ASSERT(!m);
		if (r == -EBADMSG) {
			FUZZ_ASSERT(error);
			FUZZ_ASSERT(!strchr(error, '\n'));
		}
		free(error);
		return;
	}
	FUZZ_ASSERT(!error);
	FUZZ_ASSERT(m->instance_id && m->instance_id[0] && strlen(m->instance_id) <= 64);
	FUZZ_ASSERT(strspn(m->instance_id, "0123456789abcdefABCDEF-") == strlen(m->instance_id));
	FUZZ_ASSERT(m->hostname && !has_control(m->hostname));
	FUZZ_ASSERT(m->region_code && !has_control(m->region_code));
	FUZZ_ASSERT(!m->country_code || !has_control(m->country_code));
	FUZZ_ASSERT(!m->legacy_id || !has_control(m->legacy_id));
	FUZZ_ASSERT(m->public_keys && m->tags);
	for (char **t = m->tags; *t; t++)
		FUZZ_ASSERT(!has_control(*t));
	FUZZ_ASSERT(m->has_user_data == (m->user_data != NULL));
	if (m->user_data)
		FUZZ_ASSERT(m->user_data_len > 0 && strlen(m->user_data) == m->user_data_len);
	FUZZ_ASSERT(m->has_vendor_data == (m->vendor_data != NULL));
	if (m->vendor_data)
		FUZZ_ASSERT(m->vendor_data_len > 0 && strlen(m->vendor_data) == m->vendor_data_len);
	FUZZ_ASSERT(m->has_startup_script == (m->startup_script != NULL));
	if (m->startup_script)
		FUZZ_ASSERT(m->startup_script_len > 0 &&
			    strlen(m->startup_script) == m->startup_script_len);
	FUZZ_ASSERT(m->n_interfaces == 0 || m->interfaces);
	for (size_t i = 0; i < m->n_interfaces; i++)
		check_interface(&m->interfaces[i]);
	check_network_files(m);
	metadata_free(m);
}

static void check_render(const uint8_t *data, size_t size)
{
	char *text = NULL;
	int r;

	r = metadata_render((const char *)data, size, NULL, &text);
	if (r < 0) {
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
		return;
	}
	FUZZ_ASSERT(text && text[0] && text[strlen(text) - 1] == '\n');
	free(text);
}

static void check_status(const uint8_t *data, size_t size)
{
	struct boot_report b = {}, b2 = {};
	char *t1 = NULL, *t2 = NULL;
	int r;

	r = boot_report_from_json((const char *)data, size, &b);
	if (r < 0) {
		FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
		return;
	}
	FUZZ_ASSERT(boot_report_to_json(&b, &t1) == 0);
	FUZZ_ASSERT(boot_report_from_json(t1, strlen(t1), &b2) == 0);
	FUZZ_ASSERT(boot_report_to_json(&b2, &t2) == 0);
	FUZZ_ASSERT(strcmp(t1, t2) == 0);
	free(t1);
	free(t2);
	boot_report_done(&b);
	boot_report_done(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_metadata(data, size);
	check_render(data, size);
	check_status(data, size);
	return 0;
}
