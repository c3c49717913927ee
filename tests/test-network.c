/* SPDX-License-Identifier: MIT */
/*
 * test-network.c: TAP tests for steps/network.c below the step: the NIC list from a fake
 * sys/class/net (Ethernet only, MACs lowercased, sorted), each interface's fate in the plan,
 * the details of the rendered files (routes, MTU, wait-online, both IPv6 shapes), and
 * network_apply() on a scratch root (only vagent's own names are ever removed, a symlinked
 * run/systemd/network is refused). The whole step over --root is tests/test-networkd.sh
 * (another name: automake gives tests/test-network and a tests/test-network.sh one log file,
 * so only one of them would run).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "metadata/json.h"
#include "steps/network.h"
#include "tap.h"

static char scratch[] = "/tmp/vagent-test-network.XXXXXX";

static void put(const char *rel, const char *text)
{
	_cleanup_free_ char *p = NULL;

	if (asprintf(&p, "%s/%s", scratch, rel) < 0 ||
	    write_file_atomic(NULL, p, text, strlen(text), 0644) < 0) {
		printf("Bail out! cannot write %s\n", rel);
		exit(1);
	}
}

static bool has(const char *s, const char *needle)
{
	return s && strstr(s, needle);
}

static struct metadata *parse(const char *interfaces)
{
	_cleanup_free_ char *doc = NULL, *error = NULL;
	struct metadata *m = NULL;

	if (asprintf(&doc,
		     "{\"hostname\": \"x\", \"instance-v2-id\": \"7c1e\", \"public-keys\": [], "
		     "\"region\": {\"regioncode\": \"EWR\"}, \"interfaces\": [%s]}",
		     interfaces) < 0 ||
	    metadata_parse(doc, strlen(doc), &m, &error) < 0) {
		printf("Bail out! test document refused: %s\n", error ? error : "?");
		exit(1);
	}
	return m;
}

static void test_nic_list(void)
{
	struct nic *l = NULL;
	size_t n = 99;
	int r;

	r = nic_list(scratch, &l, &n);
	ok(r == 0 && n == 0 && !l, "no sys/class/net: no NICs (r=%d)", r);

	put("sys/class/net/lo/address", "00:00:00:00:00:00\n");
	put("sys/class/net/lo/type", "772\n");
	put("sys/class/net/ens7/address", "5A:00:05:AA:BB:CC\n");
	put("sys/class/net/ens7/type", "1\n");
	put("sys/class/net/ens3/address", "56:00:05:aa:bb:cc\n");
	put("sys/class/net/wg0/address", "\n");
	put("sys/class/net/wg0/type", "65534\n");
	put("sys/class/net/ib0/address", "80:00:00:48:fe:80:00:00:00:00:00:00:00:02:c9:03\n");
	put("sys/class/net/ib0/type", "32\n");
	put("sys/class/net/junk/address", "not a mac\n");
	r = nic_list(scratch, &l, &n);
	ok(r == 0 && n == 2 && streq(l[0].name, "ens3") && streq(l[0].mac, "56:00:05:aa:bb:cc") &&
		   streq(l[1].name, "ens7") && streq(l[1].mac, "5a:00:05:aa:bb:cc"),
	   "Ethernet NICs only, lowercased, sorted by name (r=%d, n=%zu)", r, n);
	nic_list_free(l, n);
}

static const struct nic nics[] = {
	{ .name = (char *)"ens3", .mac = "56:00:05:aa:bb:cc" },
	{ .name = (char *)"ens7", .mac = "5a:00:05:aa:bb:cc" },
	{ .name = (char *)"ens8", .mac = "5a:00:05:aa:bb:dd" },
};

#define PUBLIC "{\"mac\": \"56:00:05:AA:BB:CC\", \"network-type\": \"public\""
/* a private interface: IPV4 more keys of its ipv4 object, MORE more keys of the interface */
#define PRIVATE(mac, ipv4, more)                                                                   \
	"{\"mac\": \"" mac "\", \"network-type\": \"private\", \"ipv4\": {\"address\": "          \
	"\"10.1.0.5\", \"netmask\": \"255.255.0.0\"" ipv4 "}" more "}"

static void test_plan(void)
{
	_cleanup_metadata_free_ struct metadata *m = NULL;
	struct network_plan p = {};
	const char *pub, *priv;
	int r;

	m = parse(PUBLIC ", \"mtu\": 9000, \"ipv4\": {\"gateway\": \"203.0.113.1\", \"routes\": ["
			 "{\"network\": \"10.9.0.0\", \"netmask\": 16, \"gateway\": \"203.0.113.9\"},"
			 "{\"network\": \"169.254.169.254\", \"netmask\": \"32\"}]},"
			 "\"ipv6\": {\"additional\": [{\"network\": \"2001:db8:1::\", \"prefix\": \"64\"},"
			 "{\"address\": \"2001:db8:2::5\", \"prefix\": 56}]}}, " PRIVATE(
				 "5a:00:05:aa:bb:cc",
				 ", \"routes\": [{\"network\": \"10.2.0.0\", \"netmask\": 16}]",
				 ", \"ipv6\": {\"address\": \"fd00::5\", \"prefix\": \"64\"}") ", "
			 "{\"mac\": \"5a:00:05:aa:bb:ee\", \"network-type\": \"private\"},"
			 "{\"mac\": \"5a:00:05:aa:bb:dd\", \"network-type\": \"private\", "
			 "\"unconfigured\": true}");
	r = network_plan_build(m, nics, ARRAY_SIZE(nics), false, &p);
	ok(r == 0 && p.n_entries == 4, "plan: one entry per interface (r=%d)", r);
	if (r < 0 || p.n_entries != 4)
		return;
	ok(p.entries[0].fate == NETWORK_WRITE && streq(p.entries[0].nic, "ens3") &&
		   streq(p.entries[0].name, "10-vagent-560005aabbcc.network"),
	   "plan: public matched by MAC whatever its case, file named by MAC");
	ok(p.entries[1].fate == NETWORK_WRITE && streq(p.entries[1].nic, "ens7"),
	   "plan: private matched");
	ok(p.entries[2].fate == NETWORK_MALFORMED &&
		   has(p.entries[2].error, "'interfaces[2].ipv4.address': missing"),
	   "plan: a private NIC without an address is malformed, naming the field");
	ok(p.entries[3].fate == NETWORK_UNCONFIGURED, "plan: unconfigured");

	pub = p.entries[0].text;
	priv = p.entries[1].text;
	ok(has(pub, "[Match]\nMACAddress=56:00:05:AA:BB:CC\nType=ether\n"),
	   "public: matched by MAC, physical Ethernet only (not a VLAN or bond with that MAC)");
	ok(has(pub, "[Link]\nMTUBytes=9000\n\n") && !has(pub, "RequiredForOnline"),
	   "public: MTU given as a number; wait-online waits for it");
	ok(has(pub, "DHCP=ipv4\nIPv6AcceptRA=yes\n") && !has(pub, "10.1.0.5"),
	   "public: DHCP and router advertisements, no static main address");
	ok(has(pub, "Address=2001:db8:1::/64\nAddress=2001:db8:2::5/56\n"),
	   "public: both ipv6.additional shapes ({network, prefix} and {address, prefix})");
	ok(has(pub, "[Route]\nDestination=10.9.0.0/16\nGateway=203.0.113.9\n") &&
		   has(pub, "[Route]\nDestination=169.254.169.254/32\nGateway=203.0.113.1\n"),
	   "public: routes through their own gateway, else the NIC's");
	ok(has(priv, "[Link]\nRequiredForOnline=no\n\n") && !has(priv, "MTUBytes"),
	   "private beside a public NIC: not required for online; no MTU when none given");
	ok(has(priv, "DHCP=no\nIPv6AcceptRA=no\nAddress=10.1.0.5/16\nAddress=fd00::5/64\n") &&
		   !has(priv, "Gateway="),
	   "private: static IPv4 and IPv6, no DHCP, no RA, no gateway");
	ok(has(priv, "[Route]\nDestination=10.2.0.0/16\nScope=link\n"),
	   "private: a route without a gateway is on-link");

	/* every_mac (network-early, before udev may have probed the NICs): with no NIC there,
	 * the same files, byte for byte, as the boot stage renders with the NICs there. */
	{
		struct network_plan q = {};
		bool same = true;

		r = network_plan_build(m, NULL, 0, true, &q);
		ok(r == 0 && q.n_entries == 4 && q.entries[0].fate == NETWORK_WRITE &&
			   !q.entries[0].nic && q.entries[1].fate == NETWORK_WRITE &&
			   q.entries[2].fate == NETWORK_MALFORMED &&
			   q.entries[3].fate == NETWORK_UNCONFIGURED,
		   "every_mac, no NIC there: a file for each valid interface, no NIC name (r=%d)", r);
		for (size_t k = 0; r == 0 && k < 2 && k < q.n_entries; k++)
			same = same && q.entries[k].text && streq(q.entries[k].text, p.entries[k].text) &&
			       streq(q.entries[k].name, p.entries[k].name);
		ok(r == 0 && same, "every_mac: the files' names and bytes are the boot stage's");
		network_plan_done(&q);
	}
	network_plan_done(&p);
	metadata_free(m);

	/* Two private NICs and no public one (vpc_only): both required for online. */
	m = parse(PRIVATE("5a:00:05:aa:bb:cc", "", "") ", " PRIVATE("5a:00:05:aa:bb:dd", "", ""));
	r = network_plan_build(m, nics, ARRAY_SIZE(nics), false, &p);
	ok(r == 0 && p.n_entries == 2 && !has(p.entries[0].text, "RequiredForOnline") &&
		   !has(p.entries[1].text, "RequiredForOnline"),
	   "no public NIC: the private ones are required for online (r=%d)", r);
	network_plan_done(&p);
	metadata_free(m);

	/* The same MAC twice: the second is refused (one file per NIC). */
	m = parse(PUBLIC "}, {\"mac\": \"56:00:05:aa:bb:cc\", \"network-type\": \"public\"}");
	r = network_plan_build(m, nics, ARRAY_SIZE(nics), false, &p);
	ok(r == 0 && p.n_entries == 2 && p.entries[0].fate == NETWORK_WRITE &&
		   p.entries[1].fate == NETWORK_MALFORMED &&
		   has(p.entries[1].error, "field 'interfaces[1].mac': the same as interfaces[0].mac"),
	   "the same MAC twice: the second interface is refused (r=%d)", r);
	network_plan_done(&p);
	metadata_free(m);

	/* A public NIC that matches no NIC does not make the private ones optional. */
	m = parse("{\"mac\": \"56:00:05:00:00:09\", \"network-type\": \"public\"}, " PRIVATE(
		"5a:00:05:aa:bb:cc", "", ""));
	r = network_plan_build(m, nics, ARRAY_SIZE(nics), false, &p);
	ok(r == 0 && p.entries[0].fate == NETWORK_NO_NIC && !has(p.entries[1].text, "Required"),
	   "public NIC absent: the private one is the NIC wait-online waits for (r=%d)", r);
	network_plan_done(&p);
}

static void test_apply(void)
{
	_cleanup_metadata_free_ struct metadata *m = parse(PUBLIC "}");
	_cleanup_free_ char *sym = NULL, *target = NULL, *root2 = NULL;
	struct network_applied a = {};
	struct network_plan p = {};
	struct stat st;
	int r;

	if (network_plan_build(m, nics, ARRAY_SIZE(nics), false, &p) < 0)
		return;
	put("run/systemd/network/10-netplan-ens3.network", "[Match]\nName=ens3\n");
	put("run/systemd/network/10-vagent-000000000001.network", "stale\n");
	put("run/systemd/network/10-vagent-notes.txt", "not a .network file\n");
	r = network_apply(scratch, &p, false, NULL, &a);
	ok(r == 0 && a.written == 1 && a.removed == 1, "apply: written 1, removed 1 (r=%d)", r);
	network_applied_done(&a);
	{
		_cleanup_free_ char *a1 = NULL, *a2 = NULL, *a3 = NULL;

		if (asprintf(&a1, "%s/run/systemd/network/10-netplan-ens3.network", scratch) < 0 ||
		    asprintf(&a2, "%s/run/systemd/network/10-vagent-notes.txt", scratch) < 0 ||
		    asprintf(&a3, "%s/run/systemd/network/10-vagent-000000000001.network", scratch) < 0)
			return;
		ok(stat(a1, &st) == 0 && stat(a2, &st) == 0 && stat(a3, &st) < 0,
		   "apply: only vagent's own stale .network file is removed, others' files stay");
	}

	/* run/systemd/network through a symlink: refused, nothing written through it */
	if (asprintf(&root2, "%s/r2", scratch) < 0 || asprintf(&target, "%s/elsewhere", scratch) < 0 ||
	    asprintf(&sym, "%s/r2/run", scratch) < 0)
		return;
	put("r2/placeholder", "");
	put("elsewhere/systemd/network/.keep", "");
	if (symlink(target, sym) < 0)
		return;
	r = network_apply(root2, &p, false, NULL, &a);
	ok(r == -ELOOP || r == -ENOTDIR, "apply: a symlinked run/ is refused (r=%d)", r);
	{
		_cleanup_free_ char *leak = NULL;

		if (asprintf(&leak, "%s/elsewhere/systemd/network/10-vagent-560005aabbcc.network",
			     scratch) >= 0)
			ok(stat(leak, &st) < 0, "apply: nothing written through the symlink");
	}
	network_applied_done(&a);
	network_plan_done(&p);
}

int main(void)
{
	if (!mkdtemp(scratch))
		tap_skip_all("mkdtemp failed");
	test_nic_list();
	test_plan();
	test_apply();
	rm_rf(NULL, scratch);
	return tap_done();
}
