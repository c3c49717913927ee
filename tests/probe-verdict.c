/* SPDX-License-Identifier: MIT */
/*
 * probe-verdict.c: test helper for tests/test-probe-states.sh. Runs probe_device() on one
 * device and prints "verdict<TAB>reason" (plus own details) on stdout. Options: --auto (the
 * device was not named by the user), --no-zeros (require-zeros = no), --min-size BYTES,
 * --fs ext4|xfs, --partition (print probe_partition_fs() of the device instead).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "probe.h"

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "auto", no_argument, NULL, 'a' },
		{ "no-zeros", no_argument, NULL, 'z' },
		{ "min-size", required_argument, NULL, 'm' },
		{ "fs", required_argument, NULL, 'f' },
		{ "partition", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{}
	};
	struct config cfg = { .min_size = 64 << 20, .require_zeros = true, .fs_type = FS_EXT4 };
	struct probe_result res;
	bool explicit = true, partition = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
		switch (c) {
		case 'a':
			explicit = false;
			break;
		case 'z':
			cfg.require_zeros = false;
			break;
		case 'm':
			cfg.min_size = strtoull(optarg, NULL, 10);
			break;
		case 'f':
			cfg.fs_type = streq(optarg, "xfs") ? FS_XFS : FS_EXT4;
			break;
		case 'p':
			partition = true;
			break;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		default:
			return 2;
		}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: probe-verdict [OPTIONS] DEVICE\n");
		return 2;
	}

	if (partition) {
		char *type = NULL, *uuid = NULL;

		r = probe_partition_fs(argv[optind], &type, &uuid);
		if (r < 0) {
			printf("error\t%s\n", strerror(-r));
			return 1;
		}
		printf("%s\t%s\n", type ?: "-", uuid ?: "-");
		free(type);
		free(uuid);
		return 0;
	}

	r = probe_device(argv[optind], explicit, &cfg, &res);
	if (r < 0)
		return 1;
	printf("%s\t%s", verdict_to_string(res.verdict), res.reason ?: "");
	if (res.verdict == VERDICT_OWN)
		printf("\t%s %s %s %s", res.own_done ? "done" : "pending", res.own_partition,
		       res.own_fstype ?: "-", res.own_uuid ?: "-");
	if (res.verdict == VERDICT_BLANK)
		printf("\tfd=%s", res.excl_fd >= 0 ? "held" : "none");
	printf("\n");
	probe_result_done(&res);
	return 0;
}
