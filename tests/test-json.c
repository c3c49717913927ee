/* SPDX-License-Identifier: MIT */
/*
 * test-json.c: TAP tests for json.c and report.c: every metadata fixture parses into the right
 * values, every bad document is refused with an error naming the field and never a secret,
 * `vagent metadata [KEY]` lookups and redaction, and boot/volume reports round-trip through
 * JSON. Fixtures are read from $srcdir/tests/fixtures (srcdir defaults to ".").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metadata/json.h"
#include "metadata/metadata.h"
#include "base/report.h"

static unsigned n_tests, n_failed;

_printf_(2, 3) static bool ok(bool cond, const char *format, ...)
{
	va_list ap;

	n_tests++;
	if (!cond)
		n_failed++;
	printf("%sok %u - ", cond ? "" : "not ", n_tests);
	va_start(ap, format);
	vprintf(format, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && streq(a, b);
}

static bool str_has(const char *s, const char *needle)
{
	return s && strstr(s, needle);
}

static size_t strv_len(char **l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

/* Read fixture NAME into a NUL-terminated malloc'd buffer; aborts the run when missing. */
static char *fixture(const char *name, size_t *ret_len)
{
	const char *srcdir = getenv("srcdir");
	_cleanup_fclose_ FILE *f = NULL;
	char path[4096], *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/%s", srcdir ? srcdir : ".", name);
	f = fopen(path, "re");
	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		printf("Bail out! cannot read fixture %s\n", path);
		exit(EXIT_FAILURE);
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		printf("Bail out! cannot read fixture %s\n", path);
		exit(EXIT_FAILURE);
	}
	buf[n] = '\0';
	*ret_len = (size_t)n;
	return buf;
}

static struct metadata *parse_fixture(const char *name)
{
	_cleanup_free_ char *buf = NULL, *error = NULL;
	struct metadata *m = NULL;
	size_t len;
	int r;

	buf = fixture(name, &len);
	r = metadata_parse(buf, len, &m, &error);
	ok(r == 0 && m && !error, "%s parses (r=%d%s%s)", name, r, error ? ", " : "", error ?: "");
	return m;
}

static void test_typical(void)
{
	_cleanup_metadata_free_ struct metadata *m = parse_fixture("v1-typical.json");

	if (!m)
		return;
	ok(str_eq(m->instance_id, "7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34"), "typical: instance id");
	ok(str_eq(m->legacy_id, "61234567"), "typical: legacy id");
	ok(str_eq(m->hostname, "build-runner-07"), "typical: hostname");
	ok(strv_len(m->public_keys) == 2 && str_has(m->public_keys[0], "ops@example") &&
	       str_has(m->public_keys[1], "ssh-rsa ") && str_has(m->public_keys[1], "ci@example"),
	   "typical: two public keys in order");
	ok(str_eq(m->region_code, "FRA") && str_eq(m->country_code, "DE"),
	   "typical: region FRA/DE");
	ok(strv_len(m->tags) == 2 && str_eq(m->tags[0], "role:runner") &&
	       str_eq(m->tags[1], "env:staging"),
	   "typical: tags");
	ok(m->n_interfaces == 2, "typical: two interfaces");
	ok(!m->has_user_data && !m->user_data && !m->has_vendor_data && !m->has_startup_script,
	   "typical: no secrets present");
}

static void test_legacy(void)
{
	_cleanup_metadata_free_ struct metadata *m = parse_fixture("v1-legacy-string-keys.json");
	_cleanup_metadata_free_ struct metadata *m2 = NULL;

	if (m) {
		ok(strv_len(m->public_keys) == 1 && str_has(m->public_keys[0], "legacy@example") &&
		       !strchr(m->public_keys[0], '\n'),
		   "legacy: single string gives one key without the newline");
		ok(str_eq(m->hostname, "legacy-box") && str_eq(m->region_code, "EWR") &&
		       str_eq(m->country_code, "US") && str_eq(m->legacy_id, "30011223"),
		   "legacy: hostname, region, legacy id");
		ok(strv_len(m->tags) == 0 && m->n_interfaces == 1,
		   "legacy: no tags, one interface");
	}

	m2 = parse_fixture("v1-legacy-multiline-keys.json");
	if (m2)
		ok(strv_len(m2->public_keys) == 3 &&
		       str_eq(m2->public_keys[0], "ssh-ed25519 AAAA one@example") &&
		       str_eq(m2->public_keys[1], "ssh-rsa AAAA two@example\r") &&
		       str_eq(m2->public_keys[2], "ssh-ed25519 AAAA three@example"),
		   "legacy multi-line: split on \\n, empty lines dropped, CR kept for ssh-keys");
}

static void test_sparse(void)
{
	_cleanup_metadata_free_ struct metadata *m = parse_fixture("v1-sparse-with-secrets.json");

	if (!m)
		return;
	ok(str_eq(m->hostname, ""), "sparse: empty hostname accepted");
	ok(m->public_keys && strv_len(m->public_keys) == 0, "sparse: no keys, list not NULL");
	ok(m->tags && strv_len(m->tags) == 0, "sparse: no tags, list not NULL");
	ok(!m->has_user_data && !m->user_data && m->user_data_len == 0,
	   "sparse: user-data [] is absent");
	ok(m->has_vendor_data && m->has_startup_script,
	   "sparse: vendor-data, startup-script present");
	ok(str_eq(m->region_code, "FRA") && !m->country_code, "sparse: region FRA, no country");
	ok(m->n_interfaces == 0, "sparse: no interfaces");
}

static void test_odd_but_valid(void)
{
	_cleanup_metadata_free_ struct metadata *m = parse_fixture("v1-odd-but-valid.json");
	static const char ud[] = "#!/bin/sh\r\n\techo \x1b[1m ok\n";

	if (!m)
		return;
	ok(str_eq(m->legacy_id, "30011223"), "odd: integer instanceid accepted as a string");
	ok(str_eq(m->instance_id, "7C1E9A52-4B3D-4F8E-A6D1-2E5F0C9B8A34"),
	   "odd: upper-case UUID accepted unchanged");
	ok(strv_len(m->public_keys) == 3 &&
	       str_eq(m->public_keys[1], "ssh-ed25519 AAAA\r bad@cr") &&
	       str_eq(m->public_keys[2], ""),
	   "odd: key with a CR and an empty key kept at their index for the ssh-keys step");
	ok(m->has_user_data && m->user_data_len == sizeof(ud) - 1 &&
	       memcmp(m->user_data, ud, sizeof(ud)) == 0,
	   "odd: user-data with control characters kept byte for byte");
	ok(!m->has_vendor_data && !m->has_startup_script, "odd: vendor-data [] absent");
	ok(m->n_interfaces == 0, "odd: missing interfaces accepted");
}

static void check_bad(const char *what, const char *buf, size_t len, const char *expect)
{
	_cleanup_free_ char *error = NULL;
	struct metadata *m = NULL;
	int r;

	r = metadata_parse(buf, len, &m, &error);
	ok(r == -EBADMSG && !m && str_has(error, expect),
	   "%s: refused with \"%s\" (got r=%d \"%s\")", what, expect, r, error ?: "(null)");
	ok(error && !strstr(error, "SECRET-MARKER") && !strchr(error, '\n'),
	   "%s: error is one line without secrets", what);
	metadata_free(m);
}

static void check_bad_fixture(const char *name, const char *expect)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	buf = fixture(name, &len);
	check_bad(name, buf, len, expect);
}

static void test_bad_documents(void)
{
	static const struct {
		const char *name, *expect;
	} table[] = {
		{ "v1-bad-not-json.json", "document: not valid JSON at offset 0" },
		{ "v1-bad-top-level-array.json", "document: top level is not an object" },
		{ "v1-bad-hostname-number.json",
		  "field 'hostname': expected a string, got number" },
		{ "v1-bad-public-keys-object.json",
		  "field 'public-keys': expected an array of strings or a string, got object" },
		{ "v1-bad-public-keys-number-element.json",
		  "field 'public-keys[1]': expected a string, got number" },
		{ "v1-bad-instance-id-missing.json", "field 'instance-v2-id': missing" },
		{ "v1-bad-instance-id-dotdot.json", "field 'instance-v2-id': not a UUID" },
		{ "v1-bad-instance-id-empty.json", "field 'instance-v2-id': empty" },
		{ "v1-bad-hostname-newline.json",
		  "field 'hostname': contains a control character" },
		{ "v1-bad-hostname-nul.json", "field 'hostname': contains a NUL byte" },
		{ "v1-bad-user-data-number.json",
		  "field 'user-data': expected a string or [], got number" },
		{ "v1-bad-user-data-array.json",
		  "field 'user-data': expected a string or [], got a non-empty array" },
		{ "v1-bad-user-data-nul.json", "field 'user-data': contains a NUL byte" },
		{ "v1-bad-region-missing.json", "field 'region': missing" },
		{ "v1-bad-region-code-missing.json", "field 'region.regioncode': missing" },
		{ "v1-bad-country-code-control.json",
		  "field 'region.countrycode': contains a control character" },
		{ "v1-bad-interfaces-string.json",
		  "field 'interfaces': expected an array, got string" },
		{ "v1-bad-interfaces-element.json",
		  "field 'interfaces[1]': expected an object, got string" },
		{ "v1-bad-tags-number.json", "field 'tags[1]': expected a string, got number" },
	};
	_cleanup_free_ char *typical = NULL, *garbage = NULL, *deep = NULL, *nul = NULL;
	_cleanup_free_ char *inner = NULL;
	char expect[128];
	size_t len, glen;
	const char *g;

	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		check_bad_fixture(table[i].name, table[i].expect);

	/* Trailing garbage: the error points at the first byte after the document. */
	garbage = fixture("v1-bad-trailing-garbage.json", &glen);
	g = strstr(garbage, "garbage");
	snprintf(expect, sizeof(expect), "document: not valid JSON at offset %zu",
		 g ? (size_t)(g - garbage) : 0);
	check_bad("trailing garbage", garbage, glen, expect);

	typical = fixture("v1-typical.json", &len);
	snprintf(expect, sizeof(expect), "document: not valid JSON at offset %zu (unexpected end",
		 len / 2);
	check_bad("typical cut in the middle", typical, len / 2, expect);
	check_bad("typical without its last byte", typical, len - 2, "unexpected end of data");
	check_bad("zero-length input", "", 0, "document: empty");
	check_bad("trailing comma", "{\"hostname\": \"x\",}", 18,
		  "document: not valid JSON at offset 17");
	check_bad("comment", "/* c */ {}", 10, "document: not valid JSON at offset 0");
	check_bad("two documents", "{}{}", 4, "document: not valid JSON at offset 2");
	check_bad("whitespace only", " \n", 2, "unexpected end of data");

	/* A raw NUL byte inside the buffer (len != strlen). */
	nul = strdup(typical);
	if (nul) {
		nul[10] = '\0';
		check_bad("embedded NUL byte", nul, len,
			  "document: contains a NUL byte at offset 10");
	}

	deep = malloc(1001);
	if (deep) {
		memset(deep, '[', 1000);
		deep[1000] = '\0';
		check_bad("1000 '['", deep, 1000, "(nesting too deep)");
	}

	/* A well-formed but too deep value inside an otherwise valid document. */
	inner = malloc(4096);
	if (inner) {
		int n = snprintf(inner, 4096,
				 "{\"hostname\": \"x\", \"instance-v2-id\": \"7c1e\", "
				 "\"public-keys\": [], \"region\": {\"regioncode\": \"EWR\"}, "
				 "\"user-data\": \"SECRET-MARKER-1\", \"interfaces\": ");
		for (int i = 0; i < 1000; i++)
			inner[n++] = '[';
		for (int i = 0; i < 1000; i++)
			inner[n++] = ']';
		inner[n++] = '}';
		inner[n] = '\0';
		check_bad("1000-deep interfaces value", inner, (size_t)n, "(nesting too deep)");
	}

	/* ret_error may be NULL. */
	{
		struct metadata *m = NULL;
		int r = metadata_parse("[]", 2, &m, NULL);
		ok(r == -EBADMSG && !m, "metadata_parse with ret_error NULL (r=%d)", r);
	}
}

/* A minimal valid document around INTERFACES (the text of the array) and EXTRA top-level keys. */
static char *doc_with(const char *interfaces, const char *extra)
{
	char *s = NULL;

	if (asprintf(&s,
		     "{\"hostname\": \"x\", \"instance-v2-id\": \"7c1e\", \"public-keys\": [], "
		     "\"region\": {\"regioncode\": \"EWR\"}, \"user-data\": \"SECRET-MARKER-1\", "
		     "\"interfaces\": [%s]%s%s}",
		     interfaces, extra ? ", " : "", extra ?: "") < 0)
		abort();
	return s;
}

static void test_interfaces(void)
{
	_cleanup_metadata_free_ struct metadata *t = parse_fixture("v1-typical.json");
	_cleanup_metadata_free_ struct metadata *m = parse_fixture("v1-network.json");
	_cleanup_metadata_free_ struct metadata *v = parse_fixture("v1-network-vpc-only.json");
	_cleanup_metadata_free_ struct metadata *u = parse_fixture("v1-network-unconfigured.json");
	const struct md_interface *i;

	if (t && t->n_interfaces == 2) {
		i = &t->interfaces[0];
		ok(!i->error && str_eq(i->mac, "56:00:05:aa:bb:cc") && i->type == MD_NETWORK_PUBLIC &&
		       !i->unconfigured && i->mtu == 0,
		   "typical: interfaces[0] public, no mtu");
		ok(str_eq(i->ipv4_address, "203.0.113.45") && i->ipv4_prefix == 23 &&
		       str_eq(i->ipv4_gateway, "203.0.113.1"),
		   "typical: interfaces[0].ipv4 address/23 and gateway");
		ok(i->n_ipv4_additional == 1 &&
		       str_eq(i->ipv4_additional[0].address, "198.51.100.77") &&
		       i->ipv4_additional[0].prefix == 24,
		   "typical: one additional IPv4 with its prefix from the netmask");
		ok(i->n_ipv4_routes == 1 && str_eq(i->ipv4_routes[0].network, "169.254.169.254") &&
		       i->ipv4_routes[0].prefix == 32 && !i->ipv4_routes[0].gateway,
		   "typical: the metadata route, netmask an integer");
		ok(str_eq(i->ipv6_network, "2001:db8:4f00:1299::") && i->ipv6_prefix == 64 &&
		       i->n_ipv6_additional == 1 &&
		       str_eq(i->ipv6_additional[0].address, "2001:db8:4f00:12a0::") &&
		       i->ipv6_additional[0].prefix == 64,
		   "typical: ipv6 prefix as a string, a routed /64 in {network, prefix}");
		i = &t->interfaces[1];
		ok(!i->error && i->type == MD_NETWORK_PRIVATE && i->mtu == 1450 &&
		       str_eq(i->ipv4_address, "10.24.96.5") && i->ipv4_prefix == 20 &&
		       !i->ipv4_gateway && !i->ipv6_network && i->ipv6_prefix == 0 &&
		       str_eq(i->network_id, "0f3d6b2a-91c4-4e7b-b8a0-5d2c7e19f460"),
		   "typical: interfaces[1] private, mtu \"1450\", \"\" gateway and prefix absent");
	} else
		ok(false, "typical: two interfaces");

	if (m && m->n_interfaces == 2)
		ok(!m->interfaces[0].error && m->interfaces[0].n_ipv4_additional == 2 &&
		       m->interfaces[0].ipv4_additional[1].prefix == 32 &&
		       !m->interfaces[1].error && m->interfaces[1].n_ipv4_additional == 1,
		   "network: two extra IPv4 on the public NIC (/24, /32), one on the private");
	if (v && v->n_interfaces == 1)
		ok(!v->interfaces[0].error && v->interfaces[0].type == MD_NETWORK_PRIVATE &&
		       v->interfaces[0].mtu == 1450 && v->interfaces[0].n_ipv6_additional == 1 &&
		       str_eq(v->interfaces[0].ipv6_additional[0].address, "fd00:7::3") &&
		       v->interfaces[0].ipv6_additional[0].prefix == 64,
		   "vpc-only: first NIC private, mtu a number, ipv6 {address, prefix} shape");
	if (u && u->n_interfaces == 2)
		ok(!u->interfaces[1].error && u->interfaces[1].unconfigured &&
		       !u->interfaces[0].unconfigured,
		   "unconfigured: flag read");

	{
		_cleanup_metadata_free_ struct metadata *b = parse_fixture("v1-network-bad-netmask.json");

		ok(b && b->n_interfaces == 2 && !b->interfaces[0].error &&
		       str_eq(b->interfaces[1].error,
			      "field 'interfaces[1].ipv4.netmask': not an IPv4 netmask (not contiguous)"),
		   "bad-netmask: only interfaces[1] is refused, naming the field");
	}
}

/* A malformed interface is its own error; the document and the other interfaces stay good. */
static void check_iface_error(const char *what, const char *iface1, const char *expect)
{
	_cleanup_free_ char *ifaces = NULL, *buf = NULL, *error = NULL;
	_cleanup_metadata_free_ struct metadata *m = NULL;
	int r;

	if (asprintf(&ifaces,
		     "{\"mac\": \"56:00:05:aa:bb:cc\", \"network-type\": \"public\"}, %s", iface1) < 0)
		abort();
	buf = doc_with(ifaces, NULL);
	r = metadata_parse(buf, strlen(buf), &m, &error);
	ok(r == 0 && m && m->n_interfaces == 2 && !m->interfaces[0].error &&
	       str_has(m->interfaces[1].error, expect),
	   "%s: interfaces[1] refused with \"%s\" (r=%d, got \"%s\")", what, expect, r,
	   m && m->n_interfaces == 2 ? m->interfaces[1].error ?: "(null)" : "(none)");
	ok(m && str_eq(m->user_data, "SECRET-MARKER-1") && str_eq(m->instance_id, "7c1e"),
	   "%s: the rest of the document still parses", what);
	ok(m && m->n_interfaces == 2 && m->interfaces[1].error &&
	       !strchr(m->interfaces[1].error, '\n') && !str_has(m->interfaces[1].error, "SECRET") &&
	       !str_has(m->interfaces[1].error, "VALUE"),
	   "%s: the error is one line and quotes no value", what);
}

static void test_interface_errors(void)
{
#define PRIV(x) "{\"mac\": \"5a:00:05:aa:bb:cc\", \"network-type\": \"private\", " x "}"
	check_iface_error("bad netmask",
			  PRIV("\"ipv4\": {\"address\": \"10.0.0.2\", \"netmask\": \"255.0.255.0\"}"),
			  "field 'interfaces[1].ipv4.netmask': not an IPv4 netmask");
	check_iface_error("netmask not a netmask",
			  PRIV("\"ipv4\": {\"address\": \"10.0.0.2\", \"netmask\": \"VALUE\"}"),
			  "field 'interfaces[1].ipv4.netmask': not an IPv4 netmask");
	check_iface_error("bad address",
			  PRIV("\"ipv4\": {\"address\": \"10.0.0.VALUE\", \"netmask\": \"255.0.0.0\"}"),
			  "field 'interfaces[1].ipv4.address': not an IPv4 address");
	check_iface_error("private without address", PRIV("\"ipv4\": {\"address\": \"\"}"),
			  "field 'interfaces[1].ipv4.address': missing");
	check_iface_error("address without netmask", PRIV("\"ipv4\": {\"address\": \"10.0.0.2\"}"),
			  "field 'interfaces[1].ipv4.netmask': missing");
	check_iface_error("bad mac",
			  "{\"mac\": \"VALUE\", \"network-type\": \"private\"}",
			  "field 'interfaces[1].mac': not a MAC address");
	check_iface_error("no mac", "{\"network-type\": \"private\"}",
			  "field 'interfaces[1].mac': missing");
	check_iface_error("unknown network-type",
			  "{\"mac\": \"5a:00:05:aa:bb:cc\", \"network-type\": \"VALUE\"}",
			  "field 'interfaces[1].network-type': neither \"public\" nor \"private\"");
	check_iface_error("mtu not a number",
			  PRIV("\"mtu\": \"VALUE\", \"ipv4\": {\"address\": \"10.0.0.2\", "
			       "\"netmask\": \"255.0.0.0\"}"),
			  "field 'interfaces[1].mtu': not an integer");
	check_iface_error("mtu too small",
			  PRIV("\"mtu\": 10, \"ipv4\": {\"address\": \"10.0.0.2\", "
			       "\"netmask\": \"255.0.0.0\"}"),
			  "field 'interfaces[1].mtu': out of range (68..65535)");
	check_iface_error("mtu a fraction",
			  PRIV("\"mtu\": 1450.5, \"ipv4\": {\"address\": \"10.0.0.2\", "
			       "\"netmask\": \"255.0.0.0\"}"),
			  "field 'interfaces[1].mtu': expected an integer or a string holding one, "
			  "got number");
	check_iface_error("extra address without netmask",
			  PRIV("\"ipv4\": {\"address\": \"10.0.0.2\", \"netmask\": \"255.0.0.0\", "
			       "\"additional\": [{\"address\": \"10.0.0.3\"}]}"),
			  "field 'interfaces[1].ipv4.additional[0].netmask': missing");
	check_iface_error("additional not an array",
			  PRIV("\"ipv4\": {\"address\": \"10.0.0.2\", \"netmask\": \"255.0.0.0\", "
			       "\"additional\": \"VALUE\"}"),
			  "field 'interfaces[1].ipv4.additional': expected an array, got string");
	check_iface_error("route netmask 33",
			  PRIV("\"ipv4\": {\"address\": \"10.0.0.2\", \"netmask\": \"255.0.0.0\", "
			       "\"routes\": [{\"network\": \"10.1.0.0\", \"netmask\": 33}]}"),
			  "field 'interfaces[1].ipv4.routes[0].netmask': out of range (0..32)");
	check_iface_error("ipv6 additional without network or address",
			  PRIV("\"ipv4\": {\"address\": \"10.0.0.2\", \"netmask\": \"255.0.0.0\"}, "
			       "\"ipv6\": {\"additional\": [{\"prefix\": \"64\"}]}"),
			  "field 'interfaces[1].ipv6.additional[0].network': missing");
	check_iface_error("ipv6 additional bad prefix",
			  PRIV("\"ipv4\": {\"address\": \"10.0.0.2\", \"netmask\": \"255.0.0.0\"}, "
			       "\"ipv6\": {\"additional\": [{\"network\": \"fd00::\", \"prefix\": \"129\"}]}"),
			  "field 'interfaces[1].ipv6.additional[0].prefix': out of range (1..128)");
	check_iface_error("ipv6 network not IPv6",
			  PRIV("\"ipv4\": {\"address\": \"10.0.0.2\", \"netmask\": \"255.0.0.0\"}, "
			       "\"ipv6\": {\"network\": \"10.0.0.0\"}"),
			  "field 'interfaces[1].ipv6.network': not an IPv6 address");
	check_iface_error("unconfigured not a boolean",
			  PRIV("\"unconfigured\": \"yes\""),
			  "field 'interfaces[1].unconfigured': expected a boolean, got string");
	check_iface_error("ipv4 not an object", PRIV("\"ipv4\": []"),
			  "field 'interfaces[1].ipv4': expected an object, got array");
#undef PRIV

	/* unconfigured: a private NIC without an address is fine */
	{
		_cleanup_free_ char *buf = doc_with(
			"{\"mac\": \"5a:00:05:aa:bb:cc\", \"network-type\": \"private\", "
			"\"unconfigured\": true}",
			NULL);
		_cleanup_metadata_free_ struct metadata *m = NULL;
		int r = metadata_parse(buf, strlen(buf), &m, NULL);

		ok(r == 0 && m && m->n_interfaces == 1 && !m->interfaces[0].error &&
		       m->interfaces[0].unconfigured,
		   "an unconfigured private NIC needs no address (r=%d)", r);
	}
}

/* JSON has no NaN or Infinity (json-c reads them); integers beyond int64 saturate in json-c. */
static void test_numbers(void)
{
	static const char *const nonfinite[] = { "NaN", "Infinity", "-Infinity", "1e999", "-1e999" };
	static const struct {
		const char *id, *expect;
	} ids[] = {
		{ "9223372036854775807", "9223372036854775807" },
		{ "-9223372036854775807", "-9223372036854775807" },
		{ "9223372036854775808", NULL },
		{ "18446744073709551615", NULL },
		{ "18446744073709551616", NULL },
		{ "99999999999999999999999999", NULL },
		{ "-9223372036854775809", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(nonfinite); i++) {
		_cleanup_free_ char *extra = NULL, *buf = NULL, *text = NULL;
		struct boot_report b = {};

		if (asprintf(&extra, "\"user-defined\": [{\"x\": %s}]", nonfinite[i]) < 0)
			abort();
		buf = doc_with("", extra);
		check_bad(nonfinite[i], buf, strlen(buf), "document: not valid JSON (NaN or Infinity");
		ok(metadata_render(buf, strlen(buf), NULL, &text) == -EBADMSG && !text,
		   "%s: metadata_render refuses it", nonfinite[i]);
		free(extra);
		extra = NULL;
		if (asprintf(&extra, "{\"steps\": [{\"name\": \"x\", \"duration_ms\": %s}]}",
			     nonfinite[i]) < 0)
			abort();
		ok(boot_report_from_json(extra, strlen(extra), &b) == -EBADMSG,
		   "%s: a status file with it is refused", nonfinite[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		_cleanup_free_ char *extra = NULL, *buf = NULL, *error = NULL;
		_cleanup_metadata_free_ struct metadata *m = NULL;
		int r;

		if (asprintf(&extra, "\"instanceid\": %s", ids[i].id) < 0)
			abort();
		buf = doc_with("", extra);
		r = metadata_parse(buf, strlen(buf), &m, &error);
		if (ids[i].expect)
			ok(r == 0 && m && str_eq(m->legacy_id, ids[i].expect),
			   "instanceid %s accepted exactly (r=%d)", ids[i].id, r);
		else
			ok(r == -EBADMSG &&
			       str_eq(error, "field 'instanceid': integer beyond the 64-bit range"),
			   "instanceid %s refused (r=%d, %s)", ids[i].id, r, error ?: "(null)");
	}
	{
		_cleanup_free_ char *buf = doc_with(
			"{\"mac\": \"5a:00:05:aa:bb:cc\", \"network-type\": \"private\", "
			"\"mtu\": \"99999999999999999999\", \"ipv4\": {\"address\": \"10.0.0.2\", "
			"\"netmask\": \"255.0.0.0\"}}",
			NULL);
		_cleanup_metadata_free_ struct metadata *m = NULL;
		int r = metadata_parse(buf, strlen(buf), &m, NULL);

		ok(r == 0 && m && m->n_interfaces == 1 &&
		       str_has(m->interfaces[0].error, "'interfaces[0].mtu': integer beyond"),
		   "an mtu string beyond int64 is refused, not saturated (r=%d)", r);
	}
}

static void test_secrets_kept(void)
{
	_cleanup_metadata_free_ struct metadata *m = parse_fixture("v1-sparse-with-secrets.json");

	if (!m)
		return;
	ok(m->vendor_data && str_has(m->vendor_data, "#cloud-config\npackage_upgrade: true\n") &&
	       m->vendor_data_len == strlen(m->vendor_data),
	   "sparse: vendor-data bytes kept");
	ok(str_eq(m->startup_script, "echo No configured startup script") &&
	       m->startup_script_len == strlen(m->startup_script),
	   "sparse: startup-script bytes kept");
}

static void check_render(const char *buf, size_t len, const char *path, const char *expect)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = metadata_render(buf, len, path, &text);
	ok(r == 0 && str_eq(text, expect), "render '%s' (r=%d)", path, r);
}

static void check_render_error(const char *buf, size_t len, const char *path, int expect)
{
	char *text = NULL;
	int r;

	r = metadata_render(buf, len, path, &text);
	ok(r == expect && !text, "render '%s' gives %d (got %d)", path ?: "(all)", expect, r);
	free(text);
}

static void test_render(void)
{
	_cleanup_free_ char *typical = NULL, *sparse = NULL, *markers = NULL, *dup = NULL;
	_cleanup_free_ char *all = NULL, *vendor = NULL, *startup = NULL, *ud = NULL;
	_cleanup_free_ char *all_markers = NULL, *all_dup = NULL, *region = NULL;
	_cleanup_metadata_free_ struct metadata *reparsed = NULL;
	_cleanup_free_ char *error = NULL;
	size_t tl, sl, ml, dl;
	char expect[128];
	int r;

	typical = fixture("v1-typical.json", &tl);
	sparse = fixture("v1-sparse-with-secrets.json", &sl);
	markers = fixture("v1-secrets-markers.json", &ml);
	dup = fixture("v1-duplicate-user-data.json", &dl);

	check_render(typical, tl, "region.regioncode", "FRA\n");
	check_render(typical, tl, "hostname", "build-runner-07\n");
	check_render(typical, tl, "interfaces.0.mac", "56:00:05:aa:bb:cc\n");
	check_render(typical, tl, "interfaces.1.mtu", "1450\n");
	check_render(typical, tl, "interfaces.0.ipv4.routes.0.netmask", "32\n");
	check_render(
	    typical, tl, "public-keys.1",
	    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7r2fLw9kQ0mZp3xV8sT1uY4bN6cD5eH2jK9aL0qW3oE7"
	    "iR ci@example\n");
	check_render(sparse, sl, "startup-script", "echo No configured startup script\n");

	r = metadata_render(typical, tl, "region", &region);
	ok(r == 0 && str_has(region, "\"regioncode\": \"FRA\"") && str_has(region, "{\n") &&
	       region[strlen(region) - 1] == '\n',
	   "render 'region' is pretty JSON ending in a newline (r=%d)", r);

	/* Whole document: secrets replaced by their size, [] kept, everything else intact. */
	r = metadata_render(sparse, sl, NULL, &all);
	ok(r == 0 && all, "render whole sparse document (r=%d)", r);
	r = metadata_render(sparse, sl, "vendor-data", &vendor);
	ok(r == 0 && vendor && !str_has(all, "chpasswd") && !str_has(all, "EXAMPLEhash"),
	   "whole document: vendor-data content absent");
	if (vendor) {
		snprintf(expect, sizeof(expect), "\"vendor-data\": \"<redacted: %zu bytes>\"",
			 strlen(vendor) - 1);
		ok(str_has(all, expect), "whole document: %s", expect);
	}
	r = metadata_render(sparse, sl, "startup-script", &startup);
	if (startup) {
		snprintf(expect, sizeof(expect), "\"startup-script\": \"<redacted: %zu bytes>\"",
			 strlen(startup) - 1);
		ok(str_has(all, expect) && !str_has(all, "No configured"), "whole document: %s",
		   expect);
	}
	ok(str_has(all, "\"user-data\": [") && !str_has(all, "\"user-data\": \"<redacted"),
	   "whole document: user-data [] stays an array");
	ok(str_has(all, "\"raid1-script\": \"\"") && str_has(all, "\"regioncode\": \"FRA\""),
	   "whole document: other fields kept");
	ok(all && all[strlen(all) - 1] == '\n' && !str_has(all, "\\/"),
	   "whole document: trailing newline, slashes not escaped");

	r = metadata_render(markers, ml, NULL, &all_markers);
	ok(r == 0 && !str_has(all_markers, "SECRET-MARKER") &&
	       str_has(all_markers, "\"user-data\": \"<redacted: ") &&
	       str_has(all_markers, "\"hostname\": \"bad-box\""),
	   "whole document with markers: no marker in the output (r=%d)", r);
	r = metadata_parse(all_markers ?: "", all_markers ? strlen(all_markers) : 0, &reparsed,
			   &error);
	ok(r == 0 && reparsed && reparsed->has_user_data &&
	       str_has(reparsed->user_data, "<redacted: "),
	   "whole document output is itself a valid document (r=%d %s)", r, error ?: "");

	r = metadata_render(markers, ml, "user-data", &ud);
	ok(r == 0 && str_eq(ud, "#!/bin/sh\necho SECRET-MARKER-1\n\n"),
	   "render 'user-data' asked for explicitly prints it raw (r=%d)", r);

	r = metadata_render(dup, dl, NULL, &all_dup);
	ok(r == 0 && !str_has(all_dup, "SECRET-MARKER") && !str_has(all_dup, "harmless") &&
	       str_has(all_dup, "<redacted: "),
	   "duplicate user-data keys: nothing leaks (r=%d)", r);

	check_render_error(typical, tl, "nope", -ENOENT);
	check_render_error(typical, tl, "region.nope", -ENOENT);
	check_render_error(typical, tl, "interfaces.2", -ENOENT);
	check_render_error(typical, tl, "interfaces.x", -ENOENT);
	check_render_error(typical, tl, "interfaces.-1", -ENOENT);
	check_render_error(typical, tl, "hostname.x", -ENOENT);
	check_render_error(typical, tl, "region..regioncode", -EINVAL);
	check_render_error(typical, tl, "", -EINVAL);
	check_render_error("[1]", 3, NULL, -EBADMSG);
	check_render_error(typical, tl / 2, NULL, -EBADMSG);
}

static bool step_eq(const struct step_report *a, const struct step_report *b)
{
	return ((!a->name && !b->name) || str_eq(a->name, b->name)) && a->result == b->result &&
	       a->duration_ms == b->duration_ms &&
	       ((!a->message && !b->message) || str_eq(a->message, b->message));
}

static bool opt_eq(const char *a, const char *b)
{
	return (!a && !b) || str_eq(a, b);
}

static bool volume_eq(const struct volume_report *a, const struct volume_report *b)
{
	return opt_eq(a->device, b->device) && opt_eq(a->verdict, b->verdict) &&
	       opt_eq(a->reason, b->reason) && opt_eq(a->action, b->action) &&
	       opt_eq(a->mountpoint, b->mountpoint) && opt_eq(a->uuid, b->uuid) &&
	       opt_eq(a->volume_id, b->volume_id) && opt_eq(a->result, b->result);
}

static void test_step_result_names(void)
{
	static const char *const names[] = { "changed", "unchanged", "skipped", "failed" };
	bool good = true;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		good = good && str_eq(step_result_to_string((enum step_result)i), names[i]) &&
		       step_result_from_string(names[i]) == (int)i;
	ok(good, "step result names both ways");
	ok(step_result_from_string("bogus") == -EINVAL && step_result_from_string(NULL) == -EINVAL,
	   "unknown step result name refused");
}

static void test_boot_report(void)
{
	_cleanup_(boot_report_done) struct boot_report b = { .userdata_exit = -1 };
	_cleanup_(boot_report_done) struct boot_report c = { .userdata_exit = -1 };
	_cleanup_(boot_report_done) struct boot_report e = { .userdata_exit = -1 };
	_cleanup_free_ char *text = NULL, *text2 = NULL, *empty = NULL, *vols = NULL;
	struct volume_report v1 = {}, v2 = {};
	bool same;
	int r;

	b.instance_id = strdup("7c1e9a52-4b3d-4f8e-a6d1-2e5f0c9b8a34");
	b.first_boot = true;
	b.metadata_source = strdup("cache");
	b.started = strdup("2024-05-01T10:00:00Z");
	b.finished = strdup("2024-05-01T10:00:02Z");
	b.userdata_ran = true;
	b.userdata_exit = 3;
	r = boot_report_add_step(&b, "metadata", STEP_CHANGED, 120,
				 "from the cache \"quoted\"/path");
	r = r ?: boot_report_add_step(&b, "hostname", STEP_UNCHANGED, 0, NULL);
	r = r
		?: boot_report_add_step(&b, "storage", STEP_FAILED, UINT64_C(18446744073709551615),
					"ünïcode ok");
	v1.device = strdup("/dev/vdb");
	v1.verdict = strdup("blank");
	v1.reason = strdup("no signature");
	v1.action = strdup("format-and-mount");
	v1.mountpoint = strdup("/mnt/vol-1");
	v1.uuid = strdup("0b7e3c1a-0000-4000-8000-000000000001");
	v1.volume_id = strdup("abcdef0123456789abcd");
	v1.result = strdup("formatted and mounted");
	v2.device = strdup("/dev/vdc");
	v2.verdict = strdup("has-data");
	v2.reason = strdup("linux_raid_member 1.0 at offset 268427264");
	v2.action = strdup("none");
	r = r ?: boot_report_add_volume(&b, &v1);
	r = r ?: boot_report_add_volume(&b, &v2);
	ok(r == 0 && b.n_steps == 3 && b.n_volumes == 2 && !v1.device && !v2.device,
	   "boot report built; volumes taken over (r=%d)", r);
	r = boot_report_add_key(&b, "write_files", KEY_PARTIAL, "sub-key 'x' is not supported");
	r = r ?: boot_report_add_key(&b, "timezone", KEY_IGNORED, "not supported by vagent");
	r = r ?: boot_report_add_key(&b, "runcmd", KEY_APPLIED, NULL);
	r = r ?: boot_report_add_key(&b, "timezone", KEY_ERROR, "replaced");
	ok(r == 0 && b.n_keys == 3 && b.keys[1].status == KEY_ERROR,
	   "keys: added, the same key replaced in place");

	r = boot_report_to_json(&b, &text);
	ok(r == 0 && str_has(text, "\"instance_id\": \"7c1e9a52") &&
	       str_has(text, "\"first_boot\": true") && str_has(text, "\"result\": \"failed\"") &&
	       str_has(text, "\"message\": null") && str_has(text, "\"userdata_exit\": 3") &&
	       str_has(text, "\"mountpoint\": null") && text[strlen(text) - 1] == '\n',
	   "boot report to JSON (r=%d)", r);

	r = boot_report_from_json(text ?: "", text ? strlen(text) : 0, &c);
	same = r == 0 && opt_eq(b.instance_id, c.instance_id) && b.first_boot == c.first_boot &&
	       opt_eq(b.metadata_source, c.metadata_source) && opt_eq(b.started, c.started) &&
	       opt_eq(b.finished, c.finished) && b.n_steps == c.n_steps &&
	       b.n_volumes == c.n_volumes && b.userdata_ran == c.userdata_ran &&
	       b.userdata_exit == c.userdata_exit;
	for (size_t i = 0; same && i < b.n_steps; i++)
		same = step_eq(&b.steps[i], &c.steps[i]);
	for (size_t i = 0; same && i < b.n_volumes; i++)
		same = volume_eq(&b.volumes[i], &c.volumes[i]);
	same = same && c.n_keys == 3;
	for (size_t i = 0; same && i < b.n_keys; i++)
		same = str_eq(b.keys[i].key, c.keys[i].key) && b.keys[i].status == c.keys[i].status &&
		       opt_eq(b.keys[i].reason, c.keys[i].reason);
	ok(same && str_has(text, "\"status\": \"partial\""),
	   "boot report round-trips field by field (r=%d)", r);

	r = boot_report_to_json(&c, &text2);
	ok(r == 0 && str_eq(text, text2), "boot report JSON is stable across a round trip");

	/* An empty report: nulls and defaults. */
	r = boot_report_to_json(&e, &empty);
	ok(r == 0 && str_has(empty, "\"instance_id\": null") &&
	       str_has(empty, "\"userdata_exit\": null"),
	   "empty boot report to JSON (r=%d)", r);
	boot_report_done(&e);
	r = boot_report_from_json("{}", 2, &e);
	ok(r == 0 && !e.instance_id && e.n_steps == 0 && e.userdata_exit == -1 && !e.first_boot,
	   "boot report from {} gives defaults (r=%d)", r);

	{
		static const char *const bad[] = {
			"[]",
			"{\"first_boot\": \"yes\"}",
			"{\"steps\": [{\"name\": \"x\", \"result\": \"bogus\"}]}",
			"{\"steps\": [{\"name\": \"x\"}]}",
			"{\"steps\": [{\"name\": \"x\", \"result\": \"changed\", "
			"\"duration_ms\": -1}]}",
			"{\"steps\": {}}",
			"{\"volumes\": [{\"device\": 5}]}",
			"{\"instance_id\": \"a\\u0000b\"}",
			"{\"userdata_exit\": 1.5}",
			"{\"userdata_exit\": 99999999999}",
			"{\"keys\": [{\"key\": \"x\", \"status\": \"done\"}]}",
			"{\"keys\": [{\"key\": \"x\"}]}",
			"{\"started\": \"x\"",
		};
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			struct boot_report x = { .instance_id = NULL };

			r = boot_report_from_json(bad[i], strlen(bad[i]), &x);
			ok(r == -EBADMSG && !x.instance_id && !x.steps,
			   "bad status document %zu refused (r=%d)", i, r);
			boot_report_done(&x);
		}
	}

	r = volumes_to_json(b.volumes, b.n_volumes, &vols);
	ok(r == 0 && str_has(vols, "\"devices\": [") && str_has(vols, "\"device\": \"/dev/vdc\"") &&
	       str_has(vols, "\"uuid\": null") && str_has(vols, "\"verdict\": \"has-data\"") &&
	       str_has(vols, "\"volume_id\": ") && str_has(vols, "\"result\": ") &&
	       !str_has(vols, "\\/"),
	   "mount --json document (r=%d)", r);
	free(vols);
	vols = NULL;
	r = volumes_to_json(NULL, 0, &vols);
	ok(r == 0 && str_has(vols, "\"devices\": ["), "mount --json with no devices (r=%d)", r);
}

int main(void)
{
	test_typical();
	test_legacy();
	test_sparse();
	test_odd_but_valid();
	test_bad_documents();
	test_interfaces();
	test_interface_errors();
	test_numbers();
	test_secrets_kept();
	test_render();
	test_step_result_names();
	test_boot_report();

	printf("1..%u\n", n_tests);
	if (n_failed)
		printf("# %u of %u failed\n", n_failed, n_tests);
	return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
