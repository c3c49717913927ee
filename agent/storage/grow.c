/* SPDX-License-Identifier: MIT */
/*
 * grow.c: growing vagent's own volumes and the root filesystem into the space a grown disk adds
 * (grow.h). It plans with plain reads (ptable.c for the table, the superblocks here, sysfs
 * through blockdev.c), checks the space the partition would take (the blank proof's scan for a
 * volume; zeros in the first MiB for the root), lets partition.c write the table under the
 * disk's BSD lock and tell the kernel, and runs the filesystem's own grow tool. Every state a
 * crash can leave is one the next run recognises and finishes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "base/fault.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "base/process.h"
#include "base/util.h"
#include "storage/blockdev.h"
#include "storage/grow.h"
#include "storage/mount.h"
#include "storage/partition.h"
#include "storage/probe.h"
#include "storage/ptable.h"
#include "storage/scan.h"

#define MIB (UINT64_C(1) << 20)
#define GROW_TOOL_TIMEOUT_USEC (10ULL * 60 * 1000000)
#define GROW_LOCK_TIMEOUT_USEC (10ULL * 1000000)

void grow_human_size(uint64_t v, char *buf, size_t size)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned u = 0;
	uint64_t d = 1;

	/* The next unit once this one would read 1024.0 (1 TiB less 2 MiB is "1.0 TiB"). */
	while (u + 1 < ARRAY_SIZE(units) && (double)v / (double)d >= 1023.95) {
		d *= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " bytes", v);
	else if (v % d == 0)
		snprintf(buf, size, "%" PRIu64 " %s", v / d, units[u]);
	else
		snprintf(buf, size, "%.1f %s", (double)v / (double)d, units[u]);
}

/* ---- filesystem sizes ---- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

int grow_superblock_parse(const char *fstype, const uint8_t *buf, size_t len,
			  struct fs_superblock *ret)
{
	*ret = (struct fs_superblock){};
	if (!fstype)
		return -EOPNOTSUPP;

	if (streq(fstype, "ext4")) {
		const uint8_t *sb = buf + 1024;
		uint64_t blocks;
		uint32_t log;

		if (len < 2048 || sb[56] != 0x53 || sb[57] != 0xef)
			return -EUCLEAN;
		log = le32(sb + 24);
		if (log > 6)
			return -EUCLEAN;
		blocks = le32(sb + 4);
		if (le32(sb + 0x60) & 0x80) /* INCOMPAT_64BIT: the high half of the count */
			blocks |= (uint64_t)le32(sb + 0x150) << 32;
		if (blocks == 0 || blocks > (UINT64_MAX >> (10 + log)))
			return -EUCLEAN;
		ret->size_bytes = blocks << (10 + log);
		return 0;
	}
	if (streq(fstype, "xfs")) {
		uint32_t bs;
		uint64_t dblocks;

		if (len < 512 || memcmp(buf, "XFSB", 4) != 0)
			return -EUCLEAN;
		bs = be32(buf + 4);
		dblocks = be64(buf + 8);
		if (bs < 512 || bs > 65536 || (bs & (bs - 1)) || dblocks == 0 ||
		    dblocks > UINT64_MAX / bs)
			return -EUCLEAN;
		ret->size_bytes = dblocks * bs;
		/* sb_logstart (48) non-zero: the log is inside the data device; sb_logblocks (96) */
		if (be64(buf + 48) != 0)
			ret->log_bytes = (uint64_t)be32(buf + 96) * bs;
		return 0;
	}
	if (streq(fstype, "btrfs")) {
		const uint8_t *sb = buf + 65536;

		if (len < 65536 + 4096 || memcmp(sb + 0x40, "_BHRfS_M", 8) != 0)
			return -EUCLEAN;
		ret->n_devices = le64(sb + 0x88);
		ret->size_bytes = le64(sb + 0xc9 + 8); /* dev_item.total_bytes */
		if (ret->size_bytes == 0 || ret->n_devices == 0)
			return -EUCLEAN;
		return 0;
	}
	return -EOPNOTSUPP;
}

static int read_superblock(const char *dev, const char *fstype, struct fs_superblock *ret)
{
	_cleanup_close_ int fd = -1;
	void *buf = NULL;
	bool direct = streq(fstype, "btrfs");
	ssize_t k;
	int r;

	/* btrfs writes its superblock around the block device's cache: read past it. ext4's
	 * lives in that cache (a buffered read sees a grow at once). */
	fd = open(dev, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (direct ? O_DIRECT : 0));
	if (fd < 0)
		return log_error_errno(errno, "Failed to open '%s': %m", dev);
	if (posix_memalign(&buf, 4096, GROW_SUPERBLOCK_BYTES) != 0)
		return log_error_errno(-ENOMEM, "Out of memory");
	k = pread(fd, buf, GROW_SUPERBLOCK_BYTES, 0);
	if (k < 0)
		r = log_error_errno(errno, "Failed to read the superblock of '%s': %m", dev);
	else {
		r = grow_superblock_parse(fstype, buf, (size_t)k, ret);
		if (r < 0)
			log_error_errno(r, "No usable %s superblock on '%s'", fstype, dev);
	}
	free(buf);
	return r;
}

int grow_fs_size(const char *dev, const char *mountpoint, const char *fstype, uint64_t *ret)
{
	struct fs_superblock sb;
	int r;

	r = read_superblock(dev, fstype, &sb);
	if (r < 0)
		return r;
	if (streq(fstype, "xfs")) {
		struct statvfs st;

		/* XFS logs a grow and writes the superblock later: statfs is current, and leaves
		 * out the internal log, which a grow never changes. */
		if (!mountpoint || statvfs(mountpoint, &st) < 0)
			return log_error_errno(mountpoint ? errno : EINVAL,
					       "Failed to ask the XFS at '%s' its size: %m",
					       mountpoint ? mountpoint : "-");
		*ret = (uint64_t)st.f_blocks * st.f_frsize + sb.log_bytes;
		return 0;
	}
	if (streq(fstype, "btrfs") && sb.n_devices != 1)
		return log_error_errno(-EOPNOTSUPP, "The btrfs on '%s' spans %" PRIu64 " devices",
				       dev, sb.n_devices);
	*ret = sb.size_bytes;
	return 0;
}

static int device_size(const char *dev, uint64_t *ret)
{
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, ret) < 0)
		return log_error_errno(errno, "Failed to read the size of '%s': %m", dev);
	return 0;
}

struct tool_output {
	const char *prog;
	char last[256];
	bool own; /* LAST is one of the tool's own "PROG: ..." lines */
};

static void tool_line(const char *line, void *userdata)
{
	struct tool_output *o = userdata;
	size_t n = strlen(o->prog);

	log_debug("%s: %s", o->prog, line);
	/* Keep its own complaint ("resize2fs: Permission denied ..."), else the last line. */
	if (*line && (!o->own || (strneq(line, o->prog, n) && line[n] == ':'))) {
		snprintf(o->last, sizeof(o->last), "%s", line);
		o->own = strneq(line, o->prog, n) && line[n] == ':';
	}
}

static int run_grow_tool(const char *dev, const char *mountpoint, const char *fstype)
{
	const char *argv[8];
	struct tool_output out = {};
	struct spawn_options o = {
		.timeout_usec = GROW_TOOL_TIMEOUT_USEC,
		.log_fd = -1,
		.line_cb = tool_line,
		.userdata = &out,
	};
	size_t n = 0;
	int r, status = 0;

	/* resize2fs takes the device and grows a mounted ext4 online; xfs_growfs and btrfs take
	 * the mount point (they only work mounted). */
	if (streq(fstype, "ext4")) {
		argv[n++] = "resize2fs";
		argv[n++] = dev;
	} else if (streq(fstype, "xfs")) {
		argv[n++] = "xfs_growfs";
		argv[n++] = mountpoint;
	} else if (streq(fstype, "btrfs")) {
		argv[n++] = "btrfs";
		argv[n++] = "filesystem";
		argv[n++] = "resize";
		argv[n++] = "max";
		argv[n++] = mountpoint;
	} else
		return log_error_errno(-EOPNOTSUPP, "No way to grow %s on '%s'", fstype, dev);
	argv[n] = NULL;
	out.prog = argv[0];

	log_info("Growing the %s on '%s' (mounted at '%s')", fstype, dev, mountpoint);
	r = spawn_run((char *const *)argv, &o, &status);
	if (r == -ETIME)
		return log_error_errno(r, "%s on '%s' did not finish in %llu s", out.prog, dev,
				       GROW_TOOL_TIMEOUT_USEC / 1000000ULL);
	if (r < 0)
		return log_error_errno(r, "Failed to run %s: %m", out.prog);
	if (status != 0)
		return log_error_errno(-EIO, "%s on '%s' failed with status %d: %s", out.prog, dev,
				       status, out.last);
	return 0;
}

int grow_fs(const char *dev, const char *mountpoint, const char *fstype, bool dry_run,
	    uint64_t *ret_before, uint64_t *ret_after)
{
	uint64_t before, after, size;
	struct statvfs st;
	int r;

	r = grow_fs_size(dev, mountpoint, fstype, &before);
	if (r < 0)
		return r;
	r = device_size(dev, &size);
	if (r < 0)
		return r;
	if (ret_before)
		*ret_before = before;
	if (ret_after)
		*ret_after = before;
	if (before >= size || size - before < GROW_MIN_BYTES)
		return 0;
	if (ret_after)
		*ret_after = size;
	if (dry_run)
		return 1;
	if (statvfs(mountpoint, &st) == 0 && (st.f_flag & ST_RDONLY))
		return log_error_errno(-EROFS, "'%s' is mounted read-only: its %s cannot grow",
				       mountpoint, fstype);

	r = run_grow_tool(dev, mountpoint, fstype);
	if (r < 0)
		return r;
	r = grow_fs_size(dev, mountpoint, fstype, &after);
	if (r < 0)
		return r;
	if (ret_after)
		*ret_after = after;
	if (after <= before)
		return log_error_errno(-EIO, "The %s on '%s' did not grow (%" PRIu64 " bytes)",
				       fstype, dev, before);
	return 1;
}

/* ---- the space after a partition ---- */

/* Ranges of [FROM, TO) outside the GPT backup areas. */
static size_t gap_ranges(const struct ptable *t, int fd, uint64_t from, uint64_t to,
			 uint64_t (*out)[2], size_t max)
{
	uint64_t skip[4][2], pos = from;
	size_t n_skip = ptable_backup_areas(t, fd, from, to, skip, ARRAY_SIZE(skip)), n = 0;

	for (size_t i = 0; i < n_skip && n < max; i++) {
		if (skip[i][1] <= pos || skip[i][0] >= to)
			continue;
		if (skip[i][0] > pos)
			out[n][0] = pos, out[n++][1] = skip[i][0];
		pos = skip[i][1];
	}
	if (pos < to && n < max)
		out[n][0] = pos, out[n++][1] = to;
	return n;
}

/* The blank proof's scan over the space after a volume's partition. 0 blank, -ENOTEMPTY and
 * *RET_WHY when not, <0 on error. */
static int scan_gap(int fd, const char *name, const struct ptable *t, uint64_t from,
		    const struct config *cfg, const char *root, bool dry_run, char **ret_why)
{
	uint64_t r[6][2];
	size_t n = gap_ranges(t, fd, from, t->disk_bytes, r, ARRAY_SIZE(r));
	int k;

	for (size_t i = 0; i < n; i++) {
		_cleanup_(scan_result_done) struct scan_result sr = {};
		struct scan_options so = {
			.mode = cfg->verify_mode,
			.budget_usec = cfg->verify_budget_usec,
			.name = name,
			.root = root,
			.progress_file = !dry_run,
			.start = r[i][0],
			.end = r[i][1],
			.sector_size = t->sector_size,
		};

		k = scan_device(fd, t->disk_bytes, &so, &sr);
		if (k < 0)
			return log_error_errno(k, "Failed to read the space after the partition on "
						  "'%s': %m",
					       name);
		if (sr.found)
			return message_set(ret_why, -ENOTEMPTY,
					   "the space after the partition is not free: non-zero "
					   "bytes at offset %" PRIu64,
					   sr.offset);
	}
	return 0;
}

/* The root's check: zeros in the first MiB after the partition, the GPT copies aside. */
static int zero_gap(int fd, const struct ptable *t, uint64_t from, uint64_t to, char **ret_why)
{
	uint64_t r[6][2], end = from + MIB < to ? from + MIB : to;
	size_t n = gap_ranges(t, fd, from, end, r, ARRAY_SIZE(r));
	_cleanup_free_ uint8_t *buf = malloc(MIB);

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)(r[i][1] - r[i][0]);

		if (pread(fd, buf, len, (off_t)r[i][0]) != (ssize_t)len)
			return log_error_errno(-EIO, "Failed to read after the root partition");
		for (size_t k = 0; k < len; k++)
			if (buf[k])
				return message_set(ret_why, -ENOTEMPTY,
						   "non-zero bytes at offset %" PRIu64
						   " after the partition",
						   r[i][0] + k);
	}
	return 0;
}

/* ---- vagent's own volumes ---- */

void grow_plan_done(struct grow_plan *p)
{
	free(p->partition);
	*p = (struct grow_plan){};
}

/* Where the kernel says partition NUMBER of DISK starts and ends, and its node. */
static int kernel_partition(const char *disk, unsigned number, uint64_t *ret_start,
			    uint64_t *ret_end, char **ret_path)
{
	_cleanup_(blockdev_done) struct blockdev bd = {}, part = {};
	_cleanup_free_ char *path = NULL;
	uint64_t start = 0;
	int r;

	r = blockdev_load(disk, &bd);
	if (r < 0)
		return r;
	r = blockdev_partition_path(bd.name, number, &path);
	if (r < 0)
		return r;
	r = blockdev_load(path, &part);
	if (r < 0)
		return r;
	r = blockdev_read_partition_u64(&bd, part.name, "start", &start);
	if (r < 0)
		return r;
	*ret_start = start * 512;
	*ret_end = start * 512 + part.size_bytes;
	if (ret_path)
		*ret_path = TAKE_PTR(path);
	return 0;
}

int grow_own_plan(const char *disk, int fd, uint64_t expect_bytes, bool check_gap,
		  const struct config *cfg, const char *root, bool dry_run, struct grow_plan *ret,
		  char **ret_why)
{
	_cleanup_(ptable_done) struct ptable t = {};
	_cleanup_(grow_plan_done) struct grow_plan p = {};
	const struct ptable_entry *e;
	uint64_t size = 0, own_start, own_end, kstart;
	int ss = 0, r;

	*ret = (struct grow_plan){};
	if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &ss) < 0 || ss <= 0)
		return log_error_errno(errno, "Failed to read the size of '%s': %m", disk);
	if (expect_bytes && size != expect_bytes)
		return log_error_errno(-ESTALE, "The size of '%s' changed since it was checked (%" PRIu64
						" -> %" PRIu64 " bytes), leaving it for the next run",
				       disk, expect_bytes, size);
	r = ptable_read_fd(fd, size, (uint32_t)ss, &t);
	if (r < 0)
		return log_error_errno(r, "Failed to read the partition table of '%s': %m", disk);
	e = ptable_find(&t, 1);
	if (t.type != PTABLE_GPT || t.hybrid || t.n != 1 || !e || e->start != OWN_ALIGN_BYTES ||
	    (!streq(e->name, VAGENT_PART_PENDING) && !streq(e->name, VAGENT_PART_DONE)))
		return log_error_errno(-EUCLEAN, "'%s' does not hold vagent's table, not growing it",
				       disk);
	r = own_partition_range(size, (uint32_t)ss, &own_start, &own_end);
	if (r < 0 || e->end > own_end || e->end % OWN_ALIGN_BYTES)
		return log_error_errno(-EUCLEAN, "vagent's partition on '%s' is not where vagent "
						 "puts it, not growing it",
				       disk);

	p.number = 1;
	p.disk_bytes = size;
	p.start = e->start;
	p.table_end = e->end;
	p.new_end = own_end;
	r = kernel_partition(disk, 1, &kstart, &p.kernel_end, &p.partition);
	if (r < 0)
		return log_error_errno(r, "The kernel does not list vagent's partition on '%s': %m",
				       disk);
	if (kstart != p.start || p.kernel_end > p.table_end)
		return log_error_errno(-EUCLEAN, "The kernel's partition on '%s' is not the table's, "
						 "not growing it",
				       disk);
	p.table = p.table_end < p.new_end || t.backup_lba != size / (uint64_t)ss - 1;
	p.kernel = p.kernel_end < p.new_end;
	if (!p.table && !p.kernel)
		return 0;

	/* Only free, zero space may become part of the volume. */
	if (p.table_end < p.new_end && check_gap) {
		_cleanup_(blockdev_done) struct blockdev bd = {};

		r = blockdev_load(disk, &bd);
		if (r < 0)
			return log_error_errno(r, "Failed to look up '%s': %m", disk);
		r = scan_gap(fd, bd.name, &t, p.table_end, cfg, root, dry_run, ret_why);
		if (r < 0)
			return r;
	}
	*ret = p;
	p = (struct grow_plan){};
	return 1;
}

int grow_own_apply(const char *disk, int fd, const struct grow_plan *plan)
{
	_cleanup_(ptable_done) struct ptable t = {};
	int ss = 0, r;

	if (plan->table) {
		if (ioctl(fd, BLKSSZGET, &ss) < 0 || ss <= 0)
			return log_error_errno(errno, "Failed to read the sector size of '%s': %m",
					       disk);
		r = ptable_read_fd(fd, plan->disk_bytes, (uint32_t)ss, &t);
		if (r < 0)
			return log_error_errno(r, "Failed to read the partition table of '%s': %m",
					       disk);
		if (!ptable_find(&t, plan->number) ||
		    ptable_find(&t, plan->number)->end != plan->table_end)
			return log_error_errno(-ESTALE, "The table of '%s' changed since it was "
							"checked, refusing",
					       disk);
		r = partition_grow(disk, fd, &t, plan->number, plan->new_end, true);
		if (r < 0)
			return r;
		fault_point("grow-after-table");
	}
	if (plan->kernel) {
		r = partition_kernel_resize(fd, disk, plan->number, plan->start, plan->new_end);
		if (r < 0)
			return r;
		fault_point("grow-after-kernel");
	}
	return 0;
}

/* ---- the root filesystem ---- */

void grow_root_result_done(struct grow_root_result *r)
{
	free(r->message);
	*r = (struct grow_root_result){};
}

struct root_ctx {
	const char *root;
	const struct config *cfg;
	bool dry_run;
	struct grow_root_result *res;

	char *mountpoint; /* canonical */
	char *fstype;
	dev_t devnum;
	char *dev;  /* /dev/<kernel name> of the root's device */
	char *name; /* kernel name */
	char *disk; /* /dev/<whole disk> */
	unsigned partno;
	uint64_t fs_size;
	uint64_t disk_size;
};

static void root_ctx_done(struct root_ctx *c)
{
	free(c->mountpoint);
	free(c->fstype);
	free(c->dev);
	free(c->name);
	free(c->disk);
}

static int set_result(struct root_ctx *c, enum grow_root_status s, const char *fmt, ...)
	_printf_(3, 4);
static int set_result(struct root_ctx *c, enum grow_root_status s, const char *fmt, ...)
{
	va_list ap;
	int r;

	c->res->status = s;
	va_start(ap, fmt);
	r = message_setv(&c->res->message, 0, fmt, ap);
	va_end(ap);
	return r < 0 ? -ENOMEM : 0;
}

/*
 * Not grown: say why, and when more than 1 % of the disk lies unused, warn. UNUSED is what a
 * grow would have added (0: not known).
 */
static int not_grown(struct root_ctx *c, enum grow_root_status s, uint64_t unused,
		     const char *why)
{
	char u[32], d[32];
	int r;

	if (unused > 0 && c->disk_size > 0 && unused > c->disk_size / 100) {
		grow_human_size(unused, u, sizeof(u));
		grow_human_size(c->disk_size, d, sizeof(d));
		c->res->warn = true;
		r = set_result(c, s, "not grown: %s (%s of its disk's %s unused)", why, u, d);
		if (r >= 0)
			log_full_id(LOG_WARNING, MSGID_GROW_ROOT,
				    "The root filesystem was not grown: %s; %s of its disk's %s "
				    "is unused.",
				    why, u, d);
		return r;
	}
	return set_result(c, s, "%s", why);
}

struct find_root {
	const char *path;
	dev_t dev;
	char *source;
	char *fstype;
	bool found;
};

static int find_root_cb(const struct mount_entry *e, void *userdata)
{
	struct find_root *f = userdata;

	if (!streq(e->path, f->path))
		return 0;
	/* The last entry at the path is the one on top. */
	if (free_and_strdup(&f->source, e->source) < 0 || free_and_strdup(&f->fstype, e->fstype) < 0)
		return -ENOMEM;
	f->dev = e->dev;
	f->found = true;
	return 0;
}

/* The kernel name of block device DEV ("vda1"), from /sys/dev/block/M:m. */
static int devnum_name(dev_t dev, char **ret)
{
	_cleanup_free_ char *link = NULL, *real = NULL;
	const char *slash;

	if (asprintf(&link, "%s/dev/block/%u:%u", blockdev_get_sysfs_root(), major(dev),
		     minor(dev)) < 0)
		return -ENOMEM;
	real = realpath(link, NULL);
	if (!real)
		return negative_errno();
	slash = strrchr(real, '/');
	*ret = strdup(slash ? slash + 1 : real);
	return *ret ? 0 : -ENOMEM;
}

static bool has_slaves(const char *syspath)
{
	_cleanup_free_ char *dir = path_join(syspath, "slaves");
	DIR *d;
	struct dirent *de;
	bool any = false;

	if (!dir || !(d = opendir(dir)))
		return false;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			any = true;
			break;
		}
	closedir(d);
	return any;
}

/* Which filesystem is the root, on which device. 1 found, 0 not handled (result set). */
static int find_root_device(struct root_ctx *c)
{
	struct find_root f = {};
	struct stat st;
	int r;

	if (root_is_host(c->root))
		c->mountpoint = strdup("/");
	else
		c->mountpoint = realpath(c->root, NULL);
	if (!c->mountpoint)
		return -ENOMEM;

	f.path = c->mountpoint;
	r = mountinfo_foreach(find_root_cb, &f);
	if (r < 0 || !f.found) {
		free(f.source);
		free(f.fstype);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return set_result(c, GROW_ROOT_FAILED, "cannot read the mount table: %s",
					  strerror(-r));
		return set_result(c, GROW_ROOT_UNHANDLED,
				  "--root %s is not a mount point: no root filesystem of its own",
				  c->mountpoint) < 0 ? -ENOMEM : 0;
	}
	c->fstype = f.fstype;
	c->devnum = f.dev;
	/* btrfs reports an anonymous device number: its source names the device. */
	if (major(c->devnum) == 0 && streq(c->fstype, "btrfs") && f.source && f.source[0] == '/' &&
	    stat(f.source, &st) == 0 && S_ISBLK(st.st_mode))
		c->devnum = st.st_rdev;
	if (major(c->devnum) == 0) {
		r = set_result(c, GROW_ROOT_UNHANDLED, "%s is %s from '%s', not a block device: not "
				"handled", c->mountpoint, c->fstype, f.source ? f.source : "-");
		free(f.source);
		return r < 0 ? r : 0;
	}
	free(f.source);
	if (!streq(c->fstype, "ext4") && !streq(c->fstype, "xfs") && !streq(c->fstype, "btrfs"))
		return set_result(c, GROW_ROOT_UNHANDLED, "%s is %s: not handled (ext4, XFS and "
				  "btrfs are)", c->mountpoint, c->fstype) < 0 ? -ENOMEM : 0;
	return 1;
}

/* "/dev/<disk>" of the whole disk that partition BD belongs to (its parent in sysfs). */
static int parent_disk(const struct blockdev *bd, char **ret)
{
	_cleanup_free_ char *parent = NULL;
	const char *slash = strrchr(bd->syspath, '/');

	if (!slash || slash == bd->syspath)
		return -ENOENT;
	parent = strndup(bd->syspath, (size_t)(slash - bd->syspath));
	if (!parent)
		return -ENOMEM;
	slash = strrchr(parent, '/');
	return asprintf(ret, "/dev/%s", slash ? slash + 1 : parent) < 0 ? -ENOMEM : 0;
}

/* The size of the one whole disk under a stacked device (LVM, LUKS, md), 0 when there is not
 * exactly one. */
static uint64_t stacked_disk_size(const char *syspath, unsigned depth)
{
	_cleanup_free_ char *dir = path_join(syspath, "slaves");
	uint64_t size = 0;
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (!dir || depth > 4 || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		_cleanup_free_ char *dev = NULL, *disk = NULL;
		_cleanup_(blockdev_done) struct blockdev bd = {}, whole = {};

		if (de->d_name[0] == '.')
			continue;
		n++;
		if (asprintf(&dev, "/dev/%s", de->d_name) < 0 || blockdev_load(dev, &bd) < 0)
			continue;
		if (has_slaves(bd.syspath))
			size = stacked_disk_size(bd.syspath, depth + 1);
		else if (bd.whole)
			size = bd.size_bytes;
		else if (parent_disk(&bd, &disk) >= 0 && blockdev_load(disk, &whole) >= 0)
			size = whole.size_bytes;
	}
	closedir(d);
	return n == 1 ? size : 0;
}

/* Under --root the target must not be one of this machine's own system disks. */
static int refuse_host_disk(struct root_ctx *c, const struct blockdev *disk)
{
	_cleanup_free_ char *what = NULL;
	int r;

	if (root_is_host(c->root))
		return 0;
	r = blockdev_is_system_disk(disk, &what);
	if (r == -ENOMEM)
		return r;
	if (r != 0) {
		r = set_result(c, GROW_ROOT_UNHANDLED, "the disk under --root %s, %s, is this "
			       "machine's own (%s): not touched", c->mountpoint, c->disk,
			       r > 0 ? what : "cannot tell");
		return r < 0 ? r : 1;
	}
	return 0;
}

static int report_grown(struct root_ctx *c, uint64_t before, uint64_t after, const char *how)
{
	char b[32], a[32];

	grow_human_size(before, b, sizeof(b));
	grow_human_size(after, a, sizeof(a));
	return set_result(c, GROW_ROOT_GROWN, "%s %s (%s, %s) from %s to %s%s",
			  c->dry_run ? "would grow" : "grew", c->mountpoint, c->name, c->fstype, b, a,
			  how);
}

/* Root on the whole disk: only the filesystem can grow. */
static int grow_root_whole(struct root_ctx *c, const struct blockdev *bd)
{
	uint64_t before = 0, after = 0;
	char s[32];
	int r;

	c->disk_size = bd->size_bytes;
	c->disk = strdup(c->dev);
	if (!c->disk)
		return -ENOMEM;
	r = refuse_host_disk(c, bd);
	if (r != 0)
		return r < 0 ? r : 0;
	r = grow_fs(c->dev, c->mountpoint, c->fstype, c->dry_run, &before, &after);
	if (r == -EROFS)
		return not_grown(c, GROW_ROOT_UNHANDLED, c->disk_size - before,
				 "it is mounted read-only");
	if (r < 0)
		return set_result(c, GROW_ROOT_FAILED, "growing the %s on %s failed: %s", c->fstype,
				  c->dev, strerror(-r));
	if (r > 0)
		return report_grown(c, before, after, " (the whole disk)");
	grow_human_size(before, s, sizeof(s));
	return set_result(c, GROW_ROOT_FULL, "%s (%s, %s, %s) fills its disk", c->mountpoint,
			  c->name, c->fstype, s);
}

static int grow_root_partition(struct root_ctx *c, const struct blockdev *bd)
{
	_cleanup_(blockdev_done) struct blockdev disk = {};
	_cleanup_(ptable_done) struct ptable t = {};
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *why = NULL;
	const struct ptable_entry *e, *last;
	uint64_t size = 0, kstart = 0, kend, max_end, new_end, unused, before = 0, after = 0;
	bool grow_part, dos_capped;
	struct statvfs st;
	char s[32];
	int ss = 0, r;

	r = parent_disk(bd, &c->disk);
	if (r < 0)
		return r == -ENOMEM ? r : set_result(c, GROW_ROOT_FAILED, "no disk found for %s",
						     c->dev);
	r = blockdev_load(c->disk, &disk);
	if (r < 0)
		return set_result(c, GROW_ROOT_FAILED, "cannot look up %s: %s", c->disk,
				  strerror(-r));
	if (has_slaves(disk.syspath))
		return not_grown(c, GROW_ROOT_UNHANDLED, 0, "/ is a partition of a device-mapper or "
				 "md device: not handled");
	r = refuse_host_disk(c, &disk);
	if (r != 0)
		return r < 0 ? r : 0;

	fd = open(c->disk, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return set_result(c, GROW_ROOT_FAILED, "cannot open %s: %s", c->disk, strerror(errno));
	/* The disk's BSD lock while the table is read and changed: udev keeps off. */
	if (!c->dry_run) {
		r = flock_wait(fd, LOCK_EX, GROW_LOCK_TIMEOUT_USEC);
		if (r < 0)
			return set_result(c, GROW_ROOT_FAILED, "cannot lock %s: %s", c->disk,
					  strerror(-r));
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &ss) < 0 || ss <= 0)
		return set_result(c, GROW_ROOT_FAILED, "cannot read the size of %s: %s", c->disk,
				  strerror(errno));
	c->disk_size = size;
	r = grow_fs_size(c->dev, c->mountpoint, c->fstype, &c->fs_size);
	if (r < 0)
		return set_result(c, GROW_ROOT_FAILED, "cannot tell the size of the %s on %s: %s",
				  c->fstype, c->dev, strerror(-r));
	unused = size > c->fs_size ? size - c->fs_size : 0; /* until the table says better */

	r = ptable_read_fd(fd, size, (uint32_t)ss, &t);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return not_grown(c, GROW_ROOT_UNHANDLED, unused, r == -EUCLEAN ?
				 "the partition table is not one vagent can read safely" :
				 "the partition table cannot be read");
	if (t.type == PTABLE_NONE)
		return not_grown(c, GROW_ROOT_UNHANDLED, unused, "no GPT or DOS table found");
	if (t.hybrid)
		return not_grown(c, GROW_ROOT_UNHANDLED, unused, "a hybrid MBR: not handled");
	if (t.dos_extended)
		return not_grown(c, GROW_ROOT_UNHANDLED, unused, "a DOS table with an extended "
				 "partition: not handled");
	e = ptable_find(&t, c->partno);
	r = blockdev_read_partition_u64(&disk, bd->name, "start", &kstart);
	kend = kstart * 512 + bd->size_bytes;
	if (!e || r < 0 || kstart * 512 != e->start || kend > e->end)
		return not_grown(c, GROW_ROOT_UNHANDLED, unused, "the kernel's partition is not the "
				 "table's");

	last = ptable_last(&t);
	max_end = ptable_max_end(&t, e->start);
	if (last != e) {
		uint64_t after_last = ptable_max_end(&t, last->start);
		unused = (after_last > last->end ? after_last - last->end : 0) +
			 (kend - e->start > c->fs_size ? kend - e->start - c->fs_size : 0);
		r = message_set(&why, 0, "partition %u follows it on %s", last->number, c->disk);
		return r < 0 ? -ENOMEM : not_grown(c, GROW_ROOT_UNHANDLED, unused, why);
	}
	grow_part = max_end >= e->end + GROW_MIN_BYTES;
	new_end = grow_part ? max_end : e->end;
	unused = new_end - e->start > c->fs_size ? new_end - e->start - c->fs_size : 0;
	dos_capped = t.type == PTABLE_DOS && size / (uint64_t)ss > (UINT64_C(1) << 32);

	if (grow_part) {
		r = zero_gap(fd, &t, e->end, size, &why);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return not_grown(c, GROW_ROOT_UNHANDLED, unused, why ? why : "the space after "
					 "it cannot be read");
	}
	if (!grow_part && kend == e->end && unused < GROW_MIN_BYTES) {
		grow_human_size(c->fs_size, s, sizeof(s));
		return set_result(c, GROW_ROOT_FULL, "%s (%s, %s, %s) fills its partition, the "
				  "last on %s%s", c->mountpoint, c->name, c->fstype, s, c->disk,
				  dos_capped ? " up to the 2 TiB a DOS table can address" : "");
	}
	if (statvfs(c->mountpoint, &st) == 0 && (st.f_flag & ST_RDONLY))
		return not_grown(c, GROW_ROOT_UNHANDLED, unused, "it is mounted read-only");

	if (c->dry_run)
		return report_grown(c, c->fs_size, new_end - e->start,
				    grow_part ? "" : " (the filesystem only)");

	if (grow_part) {
		r = partition_grow(c->disk, fd, &t, c->partno, new_end, false);
		if (r < 0)
			return set_result(c, GROW_ROOT_FAILED, "growing partition %u of %s failed: %s",
					  c->partno, c->disk, strerror(-r));
		fault_point("grow-after-table");
	}
	if (kend < new_end) {
		r = partition_kernel_resize(fd, c->disk, c->partno, e->start, new_end);
		if (r < 0)
			return set_result(c, GROW_ROOT_FAILED, "telling the kernel about partition %u "
					  "of %s failed: %s", c->partno, c->disk, strerror(-r));
		fault_point("grow-after-kernel");
	}
	fd = safe_close(fd); /* the table is done: let udev look */

	r = grow_fs(c->dev, c->mountpoint, c->fstype, false, &before, &after);
	if (r < 0)
		return set_result(c, GROW_ROOT_FAILED, "%sgrowing the %s on %s failed: %s",
				  grow_part ? "the partition grew, but " : "", c->fstype, c->dev,
				  strerror(-r));
	if (r == 0 && !grow_part && kend == new_end) {
		grow_human_size(before, s, sizeof(s));
		return set_result(c, GROW_ROOT_FULL, "%s (%s, %s, %s) fills its partition",
				  c->mountpoint, c->name, c->fstype, s);
	}
	r = report_grown(c, c->fs_size, after, "");
	if (r >= 0 && dos_capped) {
		c->res->warn = true;
		log_full_id(LOG_WARNING, MSGID_GROW_ROOT, "A DOS table addresses 2 TiB: %s stays "
			    "partly unused.", c->disk);
	}
	return r;
}

int grow_root(const char *root, const struct config *cfg, bool dry_run, struct grow_root_result *ret)
{
	_cleanup_(blockdev_done) struct blockdev bd = {};
	struct root_ctx c = { .root = root, .cfg = cfg, .dry_run = dry_run, .res = ret };
	_cleanup_free_ char *marker = NULL;
	struct stat st;
	int r;

	*ret = (struct grow_root_result){};
	if (!cfg->grow_root) {
		r = set_result(&c, GROW_ROOT_DISABLED, "disabled by [grow] root = no");
		goto done;
	}
	/* cloud-init's marker (cc_growpart): an image that must keep its root size says so. */
	marker = path_join_root(root, "/etc/growroot-disabled");
	if (!marker) {
		r = -ENOMEM;
		goto done;
	}
	if (lstat(marker, &st) == 0) {
		r = set_result(&c, GROW_ROOT_DISABLED, "disabled by /etc/growroot-disabled");
		goto done;
	}

	r = find_root_device(&c);
	if (r <= 0)
		goto done;
	r = devnum_name(c.devnum, &c.name);
	if (r == -ENOMEM)
		goto done;
	if (r < 0) {
		r = set_result(&c, GROW_ROOT_UNHANDLED, "%s is on device %u:%u, which sysfs does not "
			       "list: not handled", c.mountpoint, major(c.devnum), minor(c.devnum));
		goto done;
	}
	if (asprintf(&c.dev, "/dev/%s", c.name) < 0) {
		r = -ENOMEM;
		goto done;
	}
	r = blockdev_load(c.dev, &bd);
	if (r < 0 || bd.devnum != c.devnum) {
		r = set_result(&c, GROW_ROOT_UNHANDLED, "%s is on %s, which has no usable device "
			       "node: not handled", c.mountpoint, c.name);
		goto done;
	}
	if (has_slaves(bd.syspath)) {
		uint64_t disk = stacked_disk_size(bd.syspath, 0);
		_cleanup_free_ char *why = NULL;

		if (disk > 0 && grow_fs_size(c.dev, c.mountpoint, c.fstype, &c.fs_size) >= 0)
			c.disk_size = disk;
		r = message_set(&why, 0, "%s is on %s (device-mapper or md: LVM, LUKS or RAID): "
				"not handled", c.mountpoint, c.name);
		if (r >= 0)
			r = not_grown(&c, GROW_ROOT_UNHANDLED,
				      disk > c.fs_size && c.fs_size ? disk - c.fs_size : 0, why);
		goto done;
	}
	c.partno = bd.partno;
	if (bd.whole)
		r = grow_root_whole(&c, &bd);
	else
		r = grow_root_partition(&c, &bd);
done:
	root_ctx_done(&c);
	if (r >= 0 && !ret->message)
		r = -ENOMEM;
	return r < 0 ? r : 0;
}
