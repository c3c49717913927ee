/* SPDX-License-Identifier: MIT */
/*
 * scan.h: the read scan a `blank` verdict rests on. A fresh cloud volume reads as zeros, so the
 * scan looks for any non-zero byte: `full` reads every byte (large aligned O_DIRECT reads, so
 * the page cache is not flooded), `quick` reads a structured set of regions (the first and last
 * 8 MiB, 16 KiB around every MiB boundary, the starts of old DOS cylinders, the positions of
 * ext4 backup superblocks, XFS AG headers and btrfs mirrors for this size, and evenly spread
 * 1 MiB samples), `auto` starts a full read and falls back to quick when the measured rate
 * would not finish within the budget. Progress goes to the journal, sd_notify STATUS= and a
 * small file under ROOT/run/vagent/verify/ that scan_progress_list() reads for `vagent status`.
 * No external library: what the non-zero bytes are is asked of probe.c (libblkid) afterwards.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"

#define SCAN_PROGRESS_DIR "/run/vagent/verify"

struct scan_options {
	enum verify_mode mode;
	uint64_t budget_usec;   /* auto: what a full read may take */
	const char *name;       /* kernel name for messages and the progress file ("vdb") */
	const char *root;       /* for the progress file */
	bool progress_file;     /* write ROOT/run/vagent/verify/NAME (not in dry runs) */
	uint64_t start, end;    /* the byte range to scan, [start, end); end 0: the whole device */
	uint32_t sector_size;   /* logical sector size (alignment of the reads) */
};

struct scan_result {
	bool full;              /* every byte of the range was read (and all were zero) */
	bool quick;             /* the quick plan was used (quick, or auto's fallback) */
	bool found;             /* a non-zero byte was found */
	uint64_t offset;        /* ... at this offset (absolute) */
	uint8_t bytes[16];      /* the first bytes there */
	size_t n_bytes;
	uint64_t bytes_read;
	uint64_t regions;       /* reads issued */
	uint64_t duration_usec;
	uint64_t rate;          /* bytes per second measured (0 when unknown) */
	char *why;              /* auto's decision in one clause, NULL for full/quick */
};

void scan_result_done(struct scan_result *r);

/* Scan FD (an open block device, read-only) of SIZE bytes. 0 with *RET filled (found or not),
 * <0 on read errors or out of memory. */
int scan_device(int fd, uint64_t size, const struct scan_options *o, struct scan_result *ret);

/* "every byte read, all zero (256 MiB)" / "quick scan: 1234 regions, 2.10 % of the device
 * (21 GiB), all zero", plus auto's reason; no timings (they are in *R and the journal). */
char *scan_describe(const struct scan_result *r, uint64_t range_bytes);

/* The quick plan for a range of SIZE bytes: sorted, merged [off, off + len) pairs relative to
 * the range start, for tests and the benchmark. */
int scan_quick_plan(uint64_t size, uint32_t sector_size, uint64_t **ret_pairs, size_t *ret_n);

/* A scan running now (the progress file of a live process). */
struct scan_progress {
	char *name;
	char *mode;             /* "full" "quick" */
	uint64_t done, total;   /* bytes */
	uint64_t rate;          /* bytes/s */
	uint64_t eta_sec;
	int pid;
};

/* Every scan in progress under ROOT (files of dead processes are skipped). */
int scan_progress_list(const char *root, struct scan_progress **ret, size_t *ret_n);
void scan_progress_free(struct scan_progress *p, size_t n);
/* "verifying vdb: 41 % (410 of 1000 GiB, 1.1 GB/s, about 7 min left)" */
char *scan_progress_format(const struct scan_progress *p);
/* Parse one progress file's text (exposed for the fuzzer). */
int scan_progress_parse(const char *text, size_t len, struct scan_progress *ret);
