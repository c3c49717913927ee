/* SPDX-License-Identifier: MIT */
/*
 * fuzz-pipeline.c: the whole user-data pipeline on arbitrary bytes: cc_doc_decode() (gunzip,
 * MIME split, each cloud-config part parsed and merged under one budget), the keys and hostname
 * the other steps take from it, then the per-instance pass as a dry run in a scratch --root on
 * /dev/shm (the plan goes to /dev/null; a dry run writes nothing and runs nothing), which
 * decodes every write_files entry against its byte budget. max-userdata-size is 1 MiB so a
 * "zip bomb" costs 1 MiB per layer. Properties: decode fails only for lack of memory (a bad
 * document is d.error, with a message); at most 1024 keys reach the ssh-keys step; the dry run
 * leaves the scratch root as it was.
 */
#include <errno.h>

#include "base/config.h"
#include "base/util.h"
#include "cloudconfig/cc-apply.h"
#include "fuzz.h"

static char root[] = "/dev/shm/fuzz-pipeline.XXXXXX";
static struct config cfg;
static FILE *devnull;

static void cleanup(void)
{
	(void)rm_rf(NULL, root);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char passwd[] = "root:x:0:0::/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n";
	static const char group[] = "root:x:0:\nu:x:1000:\n";
	char path[128];

	fuzz_quiet();
	if (!mkdtemp(root))
		abort();
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/etc", root);
	if (mkdir(path, 0755) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	fuzz_write_file(path, passwd, strlen(passwd), 0644);
	snprintf(path, sizeof(path), "%s/etc/group", root);
	fuzz_write_file(path, group, strlen(group), 0644);
	snprintf(path, sizeof(path), "%s/etc/fstab", root);
	fuzz_write_file(path, "", 0, 0644);
	config_init(&cfg);
	cfg.max_userdata_size = 1U << 20;
	devnull = fopen("/dev/null", "we");
	if (!devnull)
		abort();
	return 0;
}

/* The dry run wrote nothing: no state directory, fstab still empty, no new file in etc. */
static void check_untouched(void)
{
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/var", root);
	FUZZ_ASSERT(lstat(path, &st) < 0 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/etc/fstab", root);
	FUZZ_ASSERT(lstat(path, &st) == 0 && st.st_size == 0);
	snprintf(path, sizeof(path), "%s/home", root);
	FUZZ_ASSERT(lstat(path, &st) < 0 && errno == ENOENT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_strv_free_ char **keys = NULL;
	char *message = NULL;
	struct cc_doc d;
	struct cc_hostname h;
	int r;

	r = cc_doc_decode(&cfg, (const char *)data, size, &d);
	FUZZ_ASSERT(r == 0 || r == -ENOMEM);
	if (r < 0) {
		cc_doc_done(&d);
		return 0;
	}
	FUZZ_ASSERT(d.error <= 0);
	if (d.error)
		FUZZ_ASSERT(d.error_message && !cc_doc_has_config(&d));
	if (cc_doc_has_config(&d)) {
		FUZZ_ASSERT(d.cc->n_unknown + cloud_config_n_keys(d.cc) <= CC_MAX_KEYS);
		FUZZ_ASSERT(d.cc->n_problems <= CC_MAX_PROBLEMS + 1);
	}
	cc_doc_hostname_info(&d, &h);
	FUZZ_ASSERT(!h.hostname || cc_doc_has_config(&d));
	/* A name is handed to the hostname step only when it is valid. */
	FUZZ_ASSERT(!h.hostname || hostname_is_valid(h.hostname));
	FUZZ_ASSERT(!h.fqdn || hostname_is_valid(h.fqdn));
	FUZZ_ASSERT(!h.invalid_key || (!h.hostname && !h.fqdn));

	r = cc_doc_ssh_keys(&d, "u", &keys);
	FUZZ_ASSERT(r == 0 || r == -ENOMEM);
	FUZZ_ASSERT(strv_length(keys) <= CC_MAX_ENTRIES);

	if (d.kind == USERDATA_CLOUD_CONFIG || d.kind == USERDATA_MIME) {
		/* The three phases the user-data stage's steps run, in their order. */
		static const enum cc_phase phases[] = { CC_PHASE_CONFIG, CC_PHASE_VENDOR_SCRIPTS,
							CC_PHASE_USER_SCRIPTS };

		for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
			struct boot_report report = {};

			message = NULL;
			r = cc_apply_instance(root, &cfg, "i-fuzz", &d, NULL, phases[i], true,
					      devnull, &report, &message);
			FUZZ_ASSERT(r >= -4095 && r <= 1);
			/* the config phase: one status per top-level key (and merge_how) */
			if (phases[i] == CC_PHASE_CONFIG && cc_doc_has_config(&d))
				FUZZ_ASSERT(report.n_keys ==
					    d.cc->n_top + !!(d.merge_how || d.merge_error));
			for (size_t j = 0; j < report.n_keys; j++)
				FUZZ_ASSERT(report.keys[j].key &&
					    key_status_to_string(report.keys[j].status));
			boot_report_done(&report);
			free(message);
			check_untouched();
		}
	}
	cc_doc_done(&d);
	return 0;
}
