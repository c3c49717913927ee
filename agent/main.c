/* SPDX-License-Identifier: MIT */
/*
 * main.c: parse the command line, load the configuration, run the verb, and map the result to
 * the exit status: 0 success, 1 failure, 2 usage or configuration error.
 */
#include <locale.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "base/config.h"
#include "metadata/http.h"
#include "base/log.h"
#include "base/util.h"

/*
 * Like util-linux's close_stdout(): output that could not be written is a failure ("vagent
 * --version > /dev/full" must not exit 0). A closed pipe (`vagent status | head -1`) is not.
 */
static int close_stdout(int status)
{
	int err = 0;

	if (fflush(stdout) != 0)
		err = errno;
	if (ferror(stdout) && !err)
		err = EIO;
	if (fclose(stdout) != 0 && !err)
		err = errno;
	if (err && err != EPIPE) {
		log_error("Failed to write to standard output: %s.", strerror(err));
		return status == 0 ? 1 : status;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct invocation inv;
	struct config cfg;
	int r;

	umask(0022);
	log_setup();

	r = cli_parse(argc, argv, &inv);
	if (r > 0)
		return close_stdout(0);
	if (r < 0)
		return 2;
	if (inv.verbose)
		log_set_max_level(inv.verbose > 1 ? LOG_DEBUG : LOG_INFO);

	if (config_init(&cfg) < 0) {
		log_error("Out of memory.");
		return 1;
	}
	r = config_load(&cfg, inv.config_path, inv.config_explicit);
	if (r < 0) {
		config_done(&cfg);
		return 2;
	}
	if (inv.metadata_url) {
		free(cfg.metadata_url);
		cfg.metadata_url = strdup(inv.metadata_url);
		if (!cfg.metadata_url) {
			config_done(&cfg);
			return 1;
		}
	}

	if (inv.dump_config) {
		config_dump(&cfg, stdout);
		config_done(&cfg);
		return close_stdout(0);
	}

	/* libcurl is loaded and initialised at the first fetch (metadata/http.c). */
	r = inv.verb->run(&inv, &cfg);
	http_global_done();
	config_done(&cfg);
	/* A verb may choose its exit status (status --wait: 2 degraded). */
	return close_stdout(r < 0 ? 1 : r);
}
