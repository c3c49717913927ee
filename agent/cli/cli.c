/* SPDX-License-Identifier: MIT */
/*
 * cli.c: getopt_long table, the verb table, --help and --version. Usage errors print one line
 * and "Try 'vagent --help'"; only --help prints the usage text. No I/O besides that.
 */
#include <getopt.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "base/log.h"
#include "base/util.h"
#include "runner/runner.h"
#include "runner/steps.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif
#define DEFAULT_CONFIG "/etc/vagent/vagent.conf"

static const struct verb verbs[] = {
	{ "boot", "", 0, 0,
	  "run the boot's steps: metadata, keys, network, hostname, storage, then user data",
	  verb_boot },
	{ "metadata", "[KEY]", 0, 1,
	  "print the metadata document (secrets redacted), or one value by dotted path",
	  verb_metadata },
	{ "hostname", "", 0, 0, "apply the hostname", verb_hostname },
	{ "ssh-keys", "", 0, 0, "apply the authorized keys", verb_sshkeys },
	{ "network", "", 0, 0, "write the systemd-networkd files for the metadata's interfaces",
	  verb_network },
	{ "userdata", "", 0, 0, "run the user data, once per instance", verb_userdata },
	{ "late", "", 0, 0, "when this boot went on without the service: wait for it, then run "
	  "what the boot could not (vagent-late.service)", verb_late },
	{ "mount", "[DEVICE...]", 0, -1,
	  "bootstrap block storage: format blank volumes, mount vagent's volumes", verb_mount },
	{ "umount", "[DEVICE...]", 0, -1, "cleanly unmount vagent's volumes", verb_umount },
	{ "status", "", 0, 0, "what the last boot did, step by step, with timings (--wait: once "
	  "it is done)", verb_status },
	{ "clean", "", 0, 0, "forget per-instance state so the next boot is a first boot (--image: "
	  "for a golden image)", verb_clean },
};

static void help(void)
{
	printf("Usage: vagent [OPTIONS] COMMAND [ARGS]\n"
	       "\n"
	       "In-guest agent for Vultr-style VMs: hostname, SSH keys, user data and blank block\n"
	       "storage from the metadata service, safely and fast.\n"
	       "\n"
	       "Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		printf("  %-9s%-13s %s\n", verbs[i].name, verbs[i].args, verbs[i].help);
	printf("\n"
	       "Options:\n"
	       "  -c, --config FILE       config file (default " DEFAULT_CONFIG ";\n"
	       "                          missing is fine, malformed is an error)\n"
	       "      --root DIR          act on the system image under DIR (no sethostname)\n"
	       "      --metadata-url URL  base URL of the metadata service\n"
	       "                          (default http://169.254.169.254)\n"
	       "  -n, --dry-run           decide and print the plan; change nothing\n"
	       "      --json              machine-readable output on stdout\n"
	       "  -v, --verbose           more detail on stderr (twice: debug)\n"
	       "      --dump-config       print the effective configuration and exit\n"
	       "      --stage LIST        boot: only these stages, comma-separated: boot\n"
	       "                          (vagent.service), storage, userdata, after-ssh;\n"
	       "                          or early alone (before networkd, from the cache),\n"
	       "                          or keygen alone (spare host keys, early in the boot)\n"
	       "      --no-userdata       boot: leave the user-data stage to 'vagent userdata'\n"
	       "      --no-storage        boot: leave the storage stage to 'vagent mount'\n"
	       "      --wait              status: block until every vagent unit of this boot\n"
	       "                          has finished (exit 0 done, 1 a step failed, 2 degraded)\n"
	       "      --timeout S         status --wait: give up after S seconds (exit 1)\n"
	       "      --image             clean: also the SSH host keys, /etc/machine-id, vagent's\n"
	       "                          fstab lines and mount directories, the managed keys\n"
	       "                          block and vagent's logs (before snapshotting an image)\n"
	       "  -h, --help              show this help\n"
	       "  -V, --version           show the version\n"
	       "\n"
	       "Exit status: 0 success (a volume left alone because it is not blank is not a\n"
	       "failure), 1 failure, 2 usage or configuration error.\n"
	       "See vagent(8) and vagent.conf(5).\n");
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("vagent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'vagent --help' for more information.\n", stderr);
	return -EINVAL;
}

/* "boot,storage" → STAGE_MASK()s; the shutdown stage is `vagent umount`'s alone, and the early
 * stage runs alone (it is before the network: the other stages' metadata step would come
 * after its step). */
static int parse_stages(const char *arg, unsigned *ret)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *save = NULL;
	unsigned m = 0;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int s = stage_from_string(t);
		if (s < 0 || s == STAGE_SHUTDOWN)
			return -EINVAL;
		m |= STAGE_MASK(s);
	}
	if (m == 0 || ((m & STAGE_MASK(STAGE_EARLY)) && m != STAGE_MASK(STAGE_EARLY)) ||
	    ((m & STAGE_MASK(STAGE_KEYGEN)) && m != STAGE_MASK(STAGE_KEYGEN)))
		return -EINVAL;
	*ret = m;
	return 0;
}

int cli_parse(int argc, char **argv, struct invocation *inv)
{
	enum {
		ARG_ROOT = 0x100,
		ARG_METADATA_URL,
		ARG_JSON,
		ARG_DUMP_CONFIG,
		ARG_NO_USERDATA,
		ARG_NO_STORAGE,
		ARG_STAGE,
		ARG_WAIT,
		ARG_TIMEOUT,
		ARG_IMAGE,
	};
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, ARG_ROOT },
		{ "metadata-url", required_argument, NULL, ARG_METADATA_URL },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, ARG_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "dump-config", no_argument, NULL, ARG_DUMP_CONFIG },
		{ "no-userdata", no_argument, NULL, ARG_NO_USERDATA },
		{ "no-storage", no_argument, NULL, ARG_NO_STORAGE },
		{ "stage", required_argument, NULL, ARG_STAGE },
		{ "wait", no_argument, NULL, ARG_WAIT },
		{ "timeout", required_argument, NULL, ARG_TIMEOUT },
		{ "image", no_argument, NULL, ARG_IMAGE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	int c;

	*inv = (struct invocation){ .config_path = DEFAULT_CONFIG };
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":c:nvhV", options, NULL)) >= 0) {
		switch (c) {
		case 'c':
			inv->config_path = optarg;
			inv->config_explicit = true;
			break;
		case ARG_ROOT:
			if (optarg[0] != '/')
				return usage_error("--root needs an absolute path, got '%s'", optarg);
			inv->root = optarg;
			break;
		case ARG_METADATA_URL:
			if (!startswith(optarg, "http://") && !startswith(optarg, "https://"))
				return usage_error("--metadata-url must be an http:// or https:// "
						   "URL, got '%s'", optarg);
			inv->metadata_url = optarg;
			break;
		case 'n':
			inv->dry_run = true;
			break;
		case ARG_JSON:
			inv->json = true;
			break;
		case 'v':
			inv->verbose++;
			break;
		case ARG_DUMP_CONFIG:
			inv->dump_config = true;
			break;
		case ARG_NO_USERDATA:
			inv->no_userdata = true;
			break;
		case ARG_NO_STORAGE:
			inv->no_storage = true;
			break;
		case ARG_STAGE:
			if (parse_stages(optarg, &inv->stages) < 0)
				return usage_error("--stage takes boot, storage, userdata or "
						   "after-ssh (comma-separated), or early alone, "
						   "or keygen alone, "
						   "got '%s'", optarg);
			break;
		case ARG_WAIT:
			inv->wait = true;
			break;
		case ARG_TIMEOUT: {
			uint64_t v;

			if (parse_duration_usec(optarg, &v) < 0 || v == 0)
				return usage_error("--timeout takes a duration above zero (seconds, or "
						   "e.g. 90s, 5min), got '%s'", optarg);
			inv->timeout_usec = v;
			break;
		}
		case ARG_IMAGE:
			inv->image = true;
			break;
		case 'h':
			help();
			return 1;
		case 'V':
			printf("vagent %s\n", PACKAGE_VERSION);
			return 1;
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}

	if (optind >= argc) {
		if (inv->dump_config)
			return 0;
		return usage_error("no command given");
	}
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(verbs[i].name, argv[optind]))
			inv->verb = &verbs[i];
	if (!inv->verb)
		return usage_error("unknown command '%s'", argv[optind]);

	inv->args = argv + optind + 1;
	inv->n_args = argc - optind - 1;
	if (inv->n_args < inv->verb->min_args)
		return usage_error("'%s' needs %s", inv->verb->name, inv->verb->args);
	if (inv->verb->max_args >= 0 && inv->n_args > inv->verb->max_args)
		return usage_error("too many arguments for '%s'", inv->verb->name);
	if ((inv->no_userdata || inv->no_storage || inv->stages) && !streq(inv->verb->name, "boot"))
		return usage_error("--stage, --no-userdata and --no-storage go with 'boot'");
	if ((inv->wait || inv->timeout_usec) && !streq(inv->verb->name, "status"))
		return usage_error("--wait and --timeout go with 'status'");
	if (inv->timeout_usec && !inv->wait)
		return usage_error("--timeout goes with 'status --wait'");
	if (inv->image && !streq(inv->verb->name, "clean"))
		return usage_error("--image goes with 'clean'");
	return 0;
}
