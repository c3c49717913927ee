/* SPDX-License-Identifier: MIT */
/*
 * fuzz-hostname.c: hostname_validate() and hostname_apply() in a scratch --root on /dev/shm.
 * Input: "NAME%%HOSTS%%\nHOSTS" (NAME as the metadata gives it, HOSTS the existing /etc/hosts).
 * Properties: the verdict agrees with a plain re-statement of RFC 1123 as hostname.h states it;
 * a valid name is applied as its lowercased short name in /etc/hostname and a second apply changes
 * nothing; an invalid name writes nothing; /etc/hosts keeps every line but the 127.0.1.1 one.
 */
#include <ctype.h>
#include <errno.h>
#include <unistd.h>

#include "fuzz.h"
#include "steps/hostname.h"
#include "base/util.h"

static char root[] = "/dev/shm/fuzz-hostname.XXXXXX";
static char hostname_path[128], hosts_path[128];

static void cleanup(void)
{
	(void)rm_rf(NULL, root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128];

	fuzz_quiet();
	if (!mkdtemp(root))
		abort();
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/etc", root);
	if (mkdir(path, 0755) < 0)
		abort();
	snprintf(hostname_path, sizeof(hostname_path), "%s/etc/hostname", root);
	snprintf(hosts_path, sizeof(hosts_path), "%s/etc/hosts", root);
	return 0;
}

static bool reference_valid(const char *s)
{
	size_t len = strlen(s), label_len = 0;
	bool digits = true;

	if (len == 0 || len > 253 || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == 0) {
			if (label_len == 0 || s[i - 1] == '-')
				return false;
			if (c == 0)
				break;
			label_len = 0;
			digits = true;
			continue;
		}
		if (!(isascii((unsigned char)c) && (isalnum((unsigned char)c) || c == '-')))
			return false;
		if (c == '-' && label_len == 0)
			return false;
		if (!isdigit((unsigned char)c))
			digits = false;
		if (++label_len > 63)
			return false;
	}
	return !digits;
}

static char *slurp(const char *path, size_t *n)
{
	char *buf = NULL;

	if (read_file(NULL, path, 64U << 20, &buf, n) < 0)
		return NULL;
	return buf;
}

/* Drop the 127.0.1.1 lines (and the newline a rewrite may add at the end). */
static size_t strip_ours(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t l = nl ? (size_t)(nl - (s + i)) + 1 : n - i, j = i;

		while (j < i + l && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (!(i + l - j >= 9 && memcmp(s + j, "127.0.1.1", 9) == 0)) {
			memcpy(out + o, s + i, l);
			o += l;
		}
		i += l;
	}
	if (o > 0 && out[o - 1] == '\n')
		o--;
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *hosts;
	size_t name_n, hosts_n, n1, n2, k1, k2;
	char reason[128], *name, *msg = NULL, *h1 = NULL, *h2 = NULL, *s1, *s2, *hn;
	bool valid;
	int r;

	fuzz_split(data, size, "%%HOSTS%%\n", &name_n, &hosts, &hosts_n);
	name = fuzz_strndup(data, name_n);

	valid = hostname_validate(name, reason, sizeof(reason)) == 0;
	FUZZ_ASSERT(valid == reference_valid(name));
	FUZZ_ASSERT(valid == hostname_is_valid(name));
	if (!valid)
		FUZZ_ASSERT(reason[0] && !strchr(reason, '\n'));

	unlink(hostname_path);
	fuzz_write_file(hosts_path, hosts, hosts_n, 0644);
	r = hostname_apply(root, name, HOSTNAME_EVERY_BOOT, true, false, &msg);
	free(msg);
	msg = NULL;
	h1 = slurp(hosts_path, &n1);
	FUZZ_ASSERT(h1);
	if (!name[0] || !valid) {
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
		FUZZ_ASSERT(access(hostname_path, F_OK) < 0);
		FUZZ_ASSERT(n1 == hosts_n && memcmp(h1, hosts, n1) == 0);
		goto out;
	}
	FUZZ_ASSERT(r == 1);
	hn = slurp(hostname_path, &n2);
	FUZZ_ASSERT(hn && n2 == strcspn(name, ".") + 1 && hn[n2 - 1] == '\n');
	for (size_t i = 0; i + 1 < n2; i++)
		FUZZ_ASSERT(hn[i] == tolower((unsigned char)name[i]));
	free(hn);

	/* Every line but 127.0.1.1 kept. */
	s1 = malloc(hosts_n + 1);
	s2 = malloc(n1 + 1);
	FUZZ_ASSERT(s1 && s2);
	k1 = strip_ours((const char *)hosts, hosts_n, s1);
	k2 = strip_ours(h1, n1, s2);
	FUZZ_ASSERT(k1 == k2 && memcmp(s1, s2, k1) == 0);
	free(s1);
	free(s2);

	r = hostname_apply(root, name, HOSTNAME_EVERY_BOOT, true, false, &msg);
	FUZZ_ASSERT(r == 0);
	h2 = slurp(hosts_path, &n2);
	FUZZ_ASSERT(h2 && n1 == n2 && memcmp(h1, h2, n1) == 0);
out:
	free(msg);
	free(h1);
	free(h2);
	free(name);
	return 0;
}
