/* SPDX-License-Identifier: MIT */
/*
 * fuzz-sshkeys.c: sshkey_validate() and the authorized_keys merge, driven through
 * sshkeys_apply() in a scratch --root on /dev/shm (a user "u" with this process's uid).
 * Input: FLAGS, then the existing file, then "%%KEYS%%\n", then the metadata keys separated by
 * 0x1e (so a key may hold a newline, as a JSON string can). FLAGS: bit 0 add-only, bit 1 file
 * target, bit 2 dry run, bit 3 no existing file, bit 4 the keys are the user data's (options
 * allowed: sshkeys_apply_from()).
 * Properties: a second run with the same keys changes nothing; a dry run writes nothing; with
 * the block target the user's bytes before the block are kept; when sync mode changed the file,
 * every line in vagent's part passes sshkey_validate() (with SSHKEY_OPTIONS_OK for user keys);
 * a key valid without options is valid with SSHKEY_OPTIONS_OK.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "base/authkeys.h"
#include "base/util.h"

static char root[] = "/dev/shm/fuzz-sshkeys.XXXXXX";
static char ssh_dir[128], keys_path[160], sub_dir[160], file_path[192];

static void cleanup(void)
{
	(void)rm_rf(NULL, root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128], passwd[128];

	fuzz_quiet();
	if (!mkdtemp(root))
		abort();
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/etc", root);
	if (mkdir(path, 0755) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	snprintf(passwd, sizeof(passwd), "root:x:0:0::/root:/bin/sh\nu:x:%u:%u::/home/u:/bin/sh\n",
		 (unsigned)getuid(), (unsigned)getgid());
	fuzz_write_file(path, passwd, strlen(passwd), 0644);
	snprintf(path, sizeof(path), "%s/home", root);
	if (mkdir(path, 0755) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/home/u", root);
	if (mkdir(path, 0755) < 0)
		abort();
	snprintf(ssh_dir, sizeof(ssh_dir), "%s/home/u/.ssh", root);
	snprintf(keys_path, sizeof(keys_path), "%s/authorized_keys", ssh_dir);
	snprintf(sub_dir, sizeof(sub_dir), "%s/authorized_keys.d", ssh_dir);
	snprintf(file_path, sizeof(file_path), "%s/vagent", sub_dir);
	return 0;
}

static char *slurp(const char *path, size_t *n)
{
	char *buf = NULL;

	if (read_file(NULL, path, 64U << 20, &buf, n) < 0)
		return NULL;
	return buf;
}

/* Every key line inside vagent's block (or the whole file) passes sshkey_validate(). */
static void check_written_keys(const char *buf, bool whole, unsigned flags)
{
	char *copy = strdup(buf), *line, *save = NULL;
	bool inside = whole;

	FUZZ_ASSERT(copy);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# BEGIN vagent managed keys", 27) == 0)
			inside = true;
		else if (strcmp(line, SSHKEYS_BLOCK_END) == 0)
			inside = false;
		else if (inside && line[0] != '#')
			FUZZ_ASSERT(sshkey_validate_flags(line, flags, NULL) == 0);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *tail;
	size_t old_n, tail_n, n_keys = 0, before_n = 0, after_n = 0;
	char **keys = NULL, *msg = NULL, *before = NULL, *after = NULL, *k, *next, *tailstr;
	bool add_only, to_file, dry_run, no_file, user;
	const char *path;
	int r, r2;

	if (size < 1)
		return 0;
	add_only = data[0] & 1;
	to_file = data[0] & 2;
	dry_run = data[0] & 4;
	no_file = data[0] & 8;
	user = data[0] & 16;
	fuzz_split(data + 1, size - 1, "%%KEYS%%\n", &old_n, &tail, &tail_n);

	/* The metadata keys, each validated on its own too. */
	tailstr = fuzz_strndup(tail, tail_n);
	keys = calloc(tail_n + 2, sizeof(char *));
	FUZZ_ASSERT(keys);
	for (k = tailstr; k; k = next) {
		next = strchr(k, '\x1e');
		if (next)
			*next++ = 0;
		if (sshkey_validate(k, NULL) == 0)
			FUZZ_ASSERT(sshkey_validate_flags(k, SSHKEY_OPTIONS_OK, NULL) == 0);
		keys[n_keys++] = k;
	}

	/* A fresh home with the existing file. */
	FUZZ_ASSERT(rm_rf(NULL, ssh_dir) >= 0);
	path = to_file ? file_path : keys_path;
	if (!no_file) {
		FUZZ_ASSERT(mkdir(ssh_dir, 0700) == 0);
		if (to_file)
			FUZZ_ASSERT(mkdir(sub_dir, 0700) == 0);
		fuzz_write_file(path, data + 1, old_n, 0600);
	}

	r = sshkeys_apply_from(root, "u", user ? NULL : keys, user ? keys : NULL,
			       add_only ? SSHKEYS_ADD_ONLY : SSHKEYS_SYNC,
			       to_file ? SSHKEYS_TARGET_FILE : SSHKEYS_TARGET_BLOCK, dry_run, &msg);
	free(msg);
	msg = NULL;
	FUZZ_ASSERT(r >= -4095 && r <= 1);
	if (r < 0 || dry_run) {
		/* Nothing written. */
		after = slurp(path, &after_n);
		if (no_file)
			FUZZ_ASSERT(!after);
		else
			FUZZ_ASSERT(after && after_n == old_n && memcmp(after, data + 1, old_n) == 0);
		goto out;
	}

	before = slurp(path, &before_n);
	if (before) {
		if (!to_file && old_n > 0 && !memmem(data + 1, old_n, "# BEGIN vagent", 14) &&
		    !no_file)
			FUZZ_ASSERT(before_n >= old_n && memcmp(before, data + 1, old_n) == 0);
		/* Sync rewrote vagent's part from validated keys only (r == 0 may keep old lines). */
		if (!add_only && r == 1)
			check_written_keys(before, to_file, user ? SSHKEY_OPTIONS_OK : 0);
	}

	r2 = sshkeys_apply_from(root, "u", user ? NULL : keys, user ? keys : NULL,
			       add_only ? SSHKEYS_ADD_ONLY : SSHKEYS_SYNC,
			       to_file ? SSHKEYS_TARGET_FILE : SSHKEYS_TARGET_BLOCK, false, &msg);
	FUZZ_ASSERT(r2 == 0);
	after = slurp(path, &after_n);
	FUZZ_ASSERT(!before == !after);
	FUZZ_ASSERT(!before || (before_n == after_n && memcmp(before, after, after_n) == 0));
out:
	free(msg);
	free(before);
	free(after);
	free(keys);
	free(tailstr);
	return 0;
}
