/* SPDX-License-Identifier: MIT */
/*
 * partition.c: the only libparted user. It writes vagent's partition table on a disk that
 * probe_device() found blank (a fresh GPT, one partition at own_partition_range(), named
 * "vagent-pending"), renames that partition to "vagent-done" once mkfs succeeded, and reads
 * entry 1 of the table back (PARTUUID and name, plain reads of the primary GPT), and grows a
 * partition whose disk grew (partition_grow(): vagent's own, or the root's last partition; a
 * DOS entry is rewritten without libparted, one sector) and tells the kernel (BLKPG). Every
 * libparted exception is logged; questions are answered CANCEL (or NO), never IGNORE/YES, and
 * any warning or error makes the operation fail even if libparted would carry on. The one FIX
 * is "the GPT does not use all of the space", answered only inside partition_grow(). The
 * partition node is found in sysfs, never built from a name.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <parted/parted.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "storage/blockdev.h"
#include "base/log.h"
#include "storage/partition.h"
#include "storage/probe.h"
#include "storage/ptable.h"
#include "base/fault.h"
#include "base/dlopen.h"
#include "base/util.h"

/* libparted.so.2 is loaded by load_parted() at the first use (base/dlopen.h): a unit that never
 * needs to partition a disk never maps it. Every call goes through this table. */
static struct {
	typeof(ped_constraint_destroy) *ped_constraint_destroy;
	typeof(ped_partition_set_name) *ped_partition_set_name;
	typeof(ped_partition_get_name) *ped_partition_get_name;
	typeof(ped_exception_set_handler) *ped_exception_set_handler;
	typeof(ped_disk_next_partition) *ped_disk_next_partition;
	typeof(ped_disk_commit_to_dev) *ped_disk_commit_to_dev;
	typeof(ped_device_sync) *ped_device_sync;
	typeof(ped_partition_new) *ped_partition_new;
	typeof(ped_partition_destroy) *ped_partition_destroy;
	typeof(ped_geometry_new) *ped_geometry_new;
	typeof(ped_geometry_destroy) *ped_geometry_destroy;
	typeof(ped_exception_get_type_string) *ped_exception_get_type_string;
	typeof(ped_disk_type_get) *ped_disk_type_get;
	typeof(ped_disk_new_fresh) *ped_disk_new_fresh;
	typeof(ped_disk_new) *ped_disk_new;
	typeof(ped_disk_destroy) *ped_disk_destroy;
	typeof(ped_disk_add_partition) *ped_disk_add_partition;
	typeof(ped_device_open) *ped_device_open;
	typeof(ped_device_get_optimal_aligned_constraint) *ped_device_get_optimal_aligned_constraint;
	typeof(ped_device_get) *ped_device_get;
	typeof(ped_device_destroy) *ped_device_destroy;
	typeof(ped_device_close) *ped_device_close;
	typeof(ped_constraint_intersect) *ped_constraint_intersect;
	typeof(ped_constraint_exact) *ped_constraint_exact;
	typeof(ped_disk_set_partition_geom) *ped_disk_set_partition_geom;
} sym;
static void *libparted;

static int load_parted(void)
{
	static const struct dl_symbol syms[] = {
		DL_SYMBOL(sym, ped_constraint_destroy),
		DL_SYMBOL(sym, ped_partition_set_name),
		DL_SYMBOL(sym, ped_partition_get_name),
		DL_SYMBOL(sym, ped_exception_set_handler),
		DL_SYMBOL(sym, ped_disk_next_partition),
		DL_SYMBOL(sym, ped_disk_commit_to_dev),
		DL_SYMBOL(sym, ped_device_sync),
		DL_SYMBOL(sym, ped_partition_new),
		DL_SYMBOL(sym, ped_partition_destroy),
		DL_SYMBOL(sym, ped_geometry_new),
		DL_SYMBOL(sym, ped_geometry_destroy),
		DL_SYMBOL(sym, ped_exception_get_type_string),
		DL_SYMBOL(sym, ped_disk_type_get),
		DL_SYMBOL(sym, ped_disk_new_fresh),
		DL_SYMBOL(sym, ped_disk_new),
		DL_SYMBOL(sym, ped_disk_destroy),
		DL_SYMBOL(sym, ped_disk_add_partition),
		DL_SYMBOL(sym, ped_device_open),
		DL_SYMBOL(sym, ped_device_get_optimal_aligned_constraint),
		DL_SYMBOL(sym, ped_device_get),
		DL_SYMBOL(sym, ped_device_destroy),
		DL_SYMBOL(sym, ped_device_close),
		DL_SYMBOL(sym, ped_constraint_intersect),
		DL_SYMBOL(sym, ped_constraint_exact),
		DL_SYMBOL(sym, ped_disk_set_partition_geom),
	};

	return dl_load(&libparted, "libparted.so.2", "partition a disk", syms, ARRAY_SIZE(syms));
}

#define PARTITION_WAIT_USEC (5 * 1000000ULL)

/* Set by the exception handler: a warning or worse was raised during the current operation. */
static bool ped_failed;
static char ped_last_message[256];
/* partition_grow() only: the one question answered FIX, and whether it was asked. */
static bool ped_allow_fix;
static bool ped_fixed;

/* "the GPT does not use all of the space": libparted asks when the disk grew behind the table.
 * FIX moves the backup header to the new end at once (it writes inside sym.ped_disk_new()). */
static bool is_grown_gpt_question(const PedException *ex)
{
	return ex->type == PED_EXCEPTION_WARNING &&
	       ex->options == (PED_EXCEPTION_FIX | PED_EXCEPTION_IGNORE) &&
	       startswith(ex->message, "Not all of the space available to");
}

static PedExceptionOption exception_handler(PedException *ex)
{
	const char *type = sym.ped_exception_get_type_string(ex->type);

	/* The one exception to CANCEL/NO, and only in the grow path (partition_grow()), which
	 * has checked the table, the space after the partition and the disk's size first. */
	if (ped_allow_fix && is_grown_gpt_question(ex)) {
		log_info("libparted: the GPT does not use all of the disk: moving its backup header "
			 "to the end (FIX)");
		ped_fixed = true;
		return PED_EXCEPTION_FIX;
	}

	if (ex->type >= PED_EXCEPTION_WARNING) {
		ped_failed = true;
		snprintf(ped_last_message, sizeof(ped_last_message), "%s", ex->message);
		log_error("libparted %s: %s", type, ex->message);
	} else
		log_info("libparted %s: %s", type, ex->message);

	/* Otherwise never FIX, IGNORE, YES or RETRY: those carry on over whatever libparted
	 * found. */
	if (ex->options & PED_EXCEPTION_CANCEL)
		return PED_EXCEPTION_CANCEL;
	if (ex->options & PED_EXCEPTION_NO)
		return PED_EXCEPTION_NO;
	if (ex->type == PED_EXCEPTION_INFORMATION && ex->options == PED_EXCEPTION_OK)
		return PED_EXCEPTION_OK;
	return PED_EXCEPTION_UNHANDLED;
}

/* The libparted objects of one operation; released in reverse order. */
struct ped {
	PedDevice *dev;
	PedDisk *disk;
	PedConstraint *constraint;
	bool open;
};

static void ped_done(struct ped *p)
{
	if (!libparted) /* never loaded: nothing was made */
		return;
	if (p->constraint)
		sym.ped_constraint_destroy(p->constraint);
	if (p->disk)
		sym.ped_disk_destroy(p->disk);
	if (p->open)
		sym.ped_device_close(p->dev);
	if (p->dev)
		sym.ped_device_destroy(p->dev); /* drop libparted's cached view of the disk */
	sym.ped_exception_set_handler(NULL);
	ped_allow_fix = false;
	*p = (struct ped){};
}

static int ped_begin(struct ped *p, const char *disk)
{
	int r = load_parted();

	if (r < 0)
		return r;
	ped_failed = false;
	ped_fixed = false;
	ped_last_message[0] = 0;
	sym.ped_exception_set_handler(exception_handler);

	p->dev = sym.ped_device_get(disk);
	if (!p->dev || ped_failed)
		return log_error_errno(-EIO, "libparted cannot use '%s'", disk);
	if (!sym.ped_device_open(p->dev) || ped_failed)
		return log_error_errno(-EIO, "libparted cannot open '%s'", disk);
	p->open = true;
	return 0;
}

static int check_same_device(const char *disk, int fd, uint64_t expected_size,
			     uint64_t expected_diskseq, uint32_t *ret_sector_size)
{
	struct stat a, b;
	uint64_t size = 0;
	int ss = 0;

	if (fstat(fd, &a) < 0 || stat(disk, &b) < 0)
		return log_error_errno(errno, "Failed to stat '%s': %m", disk);
	if (!S_ISBLK(a.st_mode) || !S_ISBLK(b.st_mode) || a.st_rdev != b.st_rdev)
		return log_error_errno(-ESTALE, "'%s' is no longer the device that was probed, "
					       "refusing",
				       disk);
	if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &ss) < 0 || ss <= 0)
		return log_error_errno(errno, "Failed to read the size of '%s': %m", disk);
	if (size != expected_size)
		return log_error_errno(-ESTALE,
				       "The size of '%s' changed since it was probed (%" PRIu64
				       " -> %" PRIu64 " bytes), refusing",
				       disk, expected_size, size);
#ifdef BLKGETDISKSEQ
	if (expected_diskseq) {
		uint64_t seq = 0;
		if (ioctl(fd, BLKGETDISKSEQ, &seq) < 0)
			return log_error_errno(errno, "Failed to read the diskseq of '%s': %m", disk);
		if (seq != expected_diskseq)
			return log_error_errno(-ESTALE,
					       "'%s' changed since it was probed (diskseq %" PRIu64
					       " -> %" PRIu64 "), refusing",
					       disk, expected_diskseq, seq);
	}
#else
	(void)expected_diskseq;
#endif
	*ret_sector_size = (uint32_t)ss;
	return 0;
}

/* Wait until the kernel lists partition 1 of DISK in sysfs with the expected geometry. */
static int find_partition(const char *disk, uint64_t start_bytes, uint64_t end_bytes,
			  char **ret_partition)
{
	_cleanup_(blockdev_done) struct blockdev bd = {};
	uint64_t deadline = now_usec() + PARTITION_WAIT_USEC;
	int r;

	r = blockdev_load(disk, &bd);
	if (r < 0)
		return log_error_errno(r, "Failed to look up '%s' in sysfs: %m", disk);

	for (;;) {
		_cleanup_free_ char *path = NULL;
		_cleanup_(blockdev_done) struct blockdev part = {};

		r = blockdev_partition_path(bd.name, 1, &path);
		if (r >= 0)
			r = blockdev_load(path, &part);
		if (r >= 0) {
			uint64_t start = 0;
			r = blockdev_read_partition_u64(&bd, part.name, "start", &start);
			if (r < 0)
				return log_error_errno(r, "Failed to read the start of '%s': %m",
						       path);
			if (start * 512 != start_bytes || part.size_bytes != end_bytes - start_bytes)
				return log_error_errno(-EUCLEAN,
						       "The kernel's partition '%s' is not the one "
						       "written (start %" PRIu64 " size %" PRIu64
						       "), refusing",
						       path, start * 512, part.size_bytes);
			*ret_partition = TAKE_PTR(path);
			return 0;
		}
		if (r != -ENOENT)
			return log_error_errno(r, "Failed to find partition 1 of '%s': %m", disk);
		if (now_usec() > deadline)
			return log_error_errno(-ETIMEDOUT,
					       "The kernel does not list partition 1 of '%s' after "
					       "%llu s",
					       disk, PARTITION_WAIT_USEC / 1000000ULL);
		usleep(20 * 1000);
	}
}

/* One BLKPG operation (add, resize) for partition NUMBER at [START, END) bytes. */
static int kernel_partition(int fd, int op, unsigned number, uint64_t start, uint64_t end)
{
	struct blkpg_partition part = {
		.start = (long long)start,
		.length = (long long)(end - start),
		.pno = (int)number,
	};
	struct blkpg_ioctl_arg arg = {
		.op = op,
		.datalen = sizeof(part),
		.data = &part,
	};

	if (end <= start || number == 0)
		return -EINVAL;
	return ioctl(fd, BLKPG, &arg) < 0 ? -errno : 0;
}

int partition_create_gpt(const char *disk, int excl_fd, uint64_t expected_size,
			 uint64_t expected_diskseq, char **ret_partition)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	_cleanup_(ped_done) struct ped p = {};
	PedConstraint *optimal = NULL, *exact = NULL;
	PedGeometry *geom = NULL;
	PedPartition *part = NULL;
	PedDiskType *gpt;
	uint64_t start, end;
	PedSector s0, s1;
	uint32_t ss;
	int r;

	r = check_same_device(disk, excl_fd, expected_size, expected_diskseq, &ss);
	if (r < 0)
		return r;
	r = own_partition_range(expected_size, ss, &start, &end);
	if (r < 0)
		return log_error_errno(r, "'%s' is too small for a partition, refusing", disk);
	s0 = (PedSector)(start / ss);
	s1 = (PedSector)(end / ss) - 1;

	r = ped_begin(&p, disk);
	if (r < 0)
		return r;
	if ((uint64_t)p.dev->length * (uint64_t)p.dev->sector_size != expected_size ||
	    (uint64_t)p.dev->sector_size != ss)
		return log_error_errno(-ESTALE, "libparted sees '%s' with a different size, refusing",
				       disk);

	gpt = sym.ped_disk_type_get("gpt");
	if (!gpt)
		return log_error_errno(-EOPNOTSUPP, "libparted has no GPT support");
	p.disk = sym.ped_disk_new_fresh(p.dev, gpt);
	if (!p.disk || ped_failed)
		return log_error_errno(-EIO, "Failed to create a GPT for '%s'", disk);

	geom = sym.ped_geometry_new(p.dev, s0, s1 - s0 + 1);
	if (!geom)
		return log_error_errno(-ENOMEM, "Out of memory");
	optimal = sym.ped_device_get_optimal_aligned_constraint(p.dev);
	exact = sym.ped_constraint_exact(geom);
	if (optimal && exact)
		p.constraint = sym.ped_constraint_intersect(optimal, exact);
	sym.ped_geometry_destroy(geom);
	if (optimal)
		sym.ped_constraint_destroy(optimal);
	if (exact)
		sym.ped_constraint_destroy(exact);
	if (!p.constraint)
		return log_error_errno(-EINVAL,
				       "A partition at %" PRIu64 "..%" PRIu64
				       " is not optimally aligned on '%s', refusing",
				       start, end, disk);

	part = sym.ped_partition_new(p.disk, PED_PARTITION_NORMAL, NULL, s0, s1);
	if (!part || ped_failed)
		return log_error_errno(-EIO, "Failed to create a partition on '%s'", disk);
	if (!sym.ped_disk_add_partition(p.disk, part, p.constraint) || ped_failed) {
		sym.ped_partition_destroy(part);
		return log_error_errno(-EIO, "Failed to add the partition on '%s'", disk);
	}
	if (part->num != 1 || part->geom.start != s0 || part->geom.end != s1)
		return log_error_errno(-EIO, "libparted placed the partition on '%s' elsewhere "
					     "(%lld..%lld), refusing",
				       disk, (long long)part->geom.start, (long long)part->geom.end);
	if (!sym.ped_partition_set_name(part, VAGENT_PART_PENDING) || ped_failed)
		return log_error_errno(-EIO, "Failed to name the partition on '%s'", disk);

	if (!sym.ped_disk_commit_to_dev(p.disk) || ped_failed)
		return log_error_errno(-EIO, "Failed to write the partition table to '%s'", disk);
	if (!sym.ped_device_sync(p.dev) || ped_failed)
		return log_error_errno(-EIO, "Failed to flush '%s'", disk);
	log_info("Wrote a GPT with partition '" VAGENT_PART_PENDING "' at %" PRIu64 "..%" PRIu64
		 " to '%s'",
		 start, end, disk);

	/* Keep O_EXCL, but let udev proceed: it postpones the events of a locked disk, and the
	 * new partition's must reach it before mount_wait_source() waits for its link. */
	if (flock(excl_fd, LOCK_UN) < 0)
		return log_error_errno(errno, "Failed to release the lock on '%s': %m", disk);

	/*
	 * Tell the kernel with one BLKPG_ADD_PARTITION on the claimed disk. There is nothing to
	 * delete first: the blank verdict rests on the kernel listing no partition of the disk
	 * (probe.c, step 3), and a partition that appeared since makes the add fail (EBUSY, an
	 * overlap). Not ped_disk_commit_to_os(): it tries to delete partitions 1..256 and Debian's
	 * libparted runs system("udevadm settle") before and after, a shell string and a wait for
	 * the whole udev queue inside the storage unit (the 0.4 s between the GPT and mkfs under
	 * TCG in bench/vm-compare). Nothing here needs udev to be done: mount_wait_source() waits
	 * for exactly the link it needs.
	 */
	r = kernel_partition(excl_fd, BLKPG_ADD_PARTITION, 1, start, end);
	if (r < 0)
		return log_error_errno(r, "Failed to tell the kernel about the partition on '%s': %m",
				       disk);
	ped_done(&p);

	return find_partition(disk, start, end, ret_partition);
}

/*
 * Open DISK's table under an O_EXCL claim + flock and check it is exactly vagent's. On success P holds
 * the disk and *RET_PART its partition; *RET_FD the claim.
 */
static int open_own(struct ped *p, const char *disk, bool locked, int *ret_fd,
		    PedPartition **ret_part, uint64_t *ret_start, uint64_t *ret_end)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	_cleanup_close_ int fd = -1;
	PedPartition *part = NULL, *i;
	const char *name;
	uint64_t size, start, end;
	uint32_t ss;
	int n = 0, r;

	fd = open(disk, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return log_error_errno(errno, "Failed to claim '%s': %m", disk);
	/* udev may still hold its shared lock from the mkfs that just closed the partition.
	 * (LOCKED: the caller holds the lock through another fd, which would conflict.) */
	r = locked ? 0 : flock_wait(fd, LOCK_EX, 10ULL * 1000000ULL);
	if (r < 0)
		return log_error_errno(r, "Failed to lock '%s': %m", disk);
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		return log_error_errno(errno, "Failed to read the size of '%s': %m", disk);
	r = check_same_device(disk, fd, size, 0, &ss);
	if (r < 0)
		return r;
	r = own_partition_range(size, ss, &start, &end);
	if (r < 0)
		return log_error_errno(-EUCLEAN, "'%s' is too small to be vagent's, refusing", disk);

	r = ped_begin(p, disk);
	if (r < 0)
		return r;
	p->disk = sym.ped_disk_new(p->dev);
	if (!p->disk || ped_failed)
		return log_error_errno(-EUCLEAN, "Failed to read the partition table of '%s', "
						 "refusing",
				       disk);
	if (!streq(p->disk->type->name, "gpt"))
		return log_error_errno(-EUCLEAN, "'%s' has a %s table, not vagent's GPT, refusing",
				       disk, p->disk->type->name);
	for (i = sym.ped_disk_next_partition(p->disk, NULL); i;
	     i = sym.ped_disk_next_partition(p->disk, i))
		if (i->num > 0) {
			n++;
			part = i;
		}
	if (n != 1 || part->num != 1)
		return log_error_errno(-EUCLEAN, "'%s' has %d partitions, not vagent's one, refusing",
				       disk, n);
	name = sym.ped_partition_get_name(part);
	if (ped_failed || !name ||
	    (!streq(name, VAGENT_PART_PENDING) && !streq(name, VAGENT_PART_DONE)))
		return log_error_errno(-EUCLEAN, "The partition on '%s' is named '%s', not vagent's, "
						 "refusing",
				       disk, name ? name : "");
	if ((uint64_t)part->geom.start * ss != start || (uint64_t)(part->geom.end + 1) * ss != end)
		return log_error_errno(-EUCLEAN, "The partition on '%s' is not where vagent puts it, "
						 "refusing",
				       disk);

	*ret_fd = TAKE_FD(fd);
	*ret_part = part;
	*ret_start = start;
	*ret_end = end;
	return 0;
}

int partition_set_name(const char *disk, const char *name, bool locked)
{
	_cleanup_(ped_done) struct ped p = {};
	_cleanup_close_ int fd = -1;
	PedPartition *part = NULL;
	uint64_t start, end;
	int r;

	if (!streq(name, VAGENT_PART_PENDING) && !streq(name, VAGENT_PART_DONE))
		return -EINVAL;

	r = open_own(&p, disk, locked, &fd, &part, &start, &end);
	if (r < 0)
		return r;
	if (streq(sym.ped_partition_get_name(part), name))
		return 0;

	if (!sym.ped_partition_set_name(part, name) || ped_failed)
		return log_error_errno(-EIO, "Failed to rename the partition on '%s'", disk);
	if (!sym.ped_disk_commit_to_dev(p.disk) || !sym.ped_device_sync(p.dev) || ped_failed)
		return log_error_errno(-EIO, "Failed to write the partition table to '%s'", disk);
	/* Close libparted's writable fd while our lock is still held: udev's watch then sees the
	 * disk locked and does not make the kernel re-read the (unchanged) geometry. */
	ped_done(&p);
	log_info("Renamed the partition on '%s' to '%s'", disk, name);
	return 1;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

int partition_read_entry(const char *disk, char **ret_uuid, char **ret_name)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *hdr = NULL, *ents = NULL;
	uint64_t entries_lba;
	uint32_t entry_size, n_entries;
	size_t len;
	const uint8_t *g;
	char name[37];
	int ss = 0, used = 0;

	fd = open(disk, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return log_error_errno(errno, "Failed to open '%s': %m", disk);
	if (ioctl(fd, BLKSSZGET, &ss) < 0 || ss < 512 || ss > 65536)
		return log_error_errno(errno ? errno : EINVAL,
				       "Failed to read the sector size of '%s': %m", disk);
	hdr = malloc((size_t)ss);
	if (!hdr)
		return log_error_errno(-ENOMEM, "Out of memory");

	if (pread(fd, hdr, (size_t)ss, ss) != ss || memcmp(hdr, "EFI PART", 8) != 0)
		return log_debug_errno(-EUCLEAN, "No GPT header on '%s'", disk);
	entries_lba = le64(hdr + 72);
	n_entries = le32(hdr + 80);
	entry_size = le32(hdr + 84);
	if (entry_size < 128 || entry_size > 4096 || n_entries == 0 || n_entries > 1024 ||
	    entries_lba < 2 || entries_lba > UINT64_MAX / (uint64_t)ss / 2)
		return log_debug_errno(-EUCLEAN, "Malformed GPT header on '%s'", disk);
	len = (size_t)entry_size * n_entries;
	ents = malloc(len);
	if (!ents)
		return log_error_errno(-ENOMEM, "Out of memory");
	if (pread(fd, ents, len, (off_t)(entries_lba * (uint64_t)ss)) != (ssize_t)len)
		return log_error_errno(-EIO, "Failed to read the GPT entries of '%s'", disk);

	/* An entry is in use when its type GUID is not all zero. */
	for (uint32_t i = 0; i < n_entries; i++) {
		static const uint8_t zero[16];
		if (memcmp(ents + (size_t)i * entry_size, zero, 16) != 0)
			used++;
	}

	g = ents + 16; /* entry 1: unique partition GUID, mixed endian */
	if (ret_uuid &&
	    asprintf(ret_uuid, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", le32(g),
		     (unsigned)(g[4] | g[5] << 8), (unsigned)(g[6] | g[7] << 8), g[8], g[9], g[10],
		     g[11], g[12], g[13], g[14], g[15]) < 0)
		return log_error_errno(-ENOMEM, "Out of memory");
	if (ret_name) {
		/* UTF-16LE, 36 code units; anything beyond ASCII becomes '?' */
		size_t k;
		for (k = 0; k < 36; k++) {
			unsigned c = ents[56 + 2 * k] | ents[57 + 2 * k] << 8;
			if (c == 0)
				break;
			name[k] = c < 0x80 && c >= 0x20 ? (char)c : '?';
		}
		name[k] = 0;
		*ret_name = strdup(name);
		if (!*ret_name) {
			if (ret_uuid)
				free(*ret_uuid);
			return log_error_errno(-ENOMEM, "Out of memory");
		}
	}
	return used;
}

/* ---- growing (issue 12) ---- */

int partition_kernel_resize(int fd, const char *disk, unsigned number, uint64_t start,
			    uint64_t end)
{
	int r = kernel_partition(fd, BLKPG_RESIZE_PARTITION, number, start, end);

	if (r < 0)
		return log_error_errno(r, "Failed to tell the kernel that partition %u of '%s' "
					  "now ends at %" PRIu64 ": %m",
				       number, disk, end);
	log_info("Told the kernel that partition %u of '%s' now spans %" PRIu64 "..%" PRIu64,
		 number, disk, start, end);
	return 0;
}

/* CHS of LBA for the DOS entry, with the 255-head, 63-sector geometry every current tool uses;
 * 1023/254/63 beyond what CHS can address. */
static void dos_chs(uint64_t lba, uint8_t out[3])
{
	uint64_t c = lba / (255 * 63), h = (lba / 63) % 255, s = lba % 63 + 1;

	if (c > 1023) {
		c = 1023;
		h = 254;
		s = 63;
	}
	out[0] = (uint8_t)h;
	out[1] = (uint8_t)(s | ((c >> 8) << 6));
	out[2] = (uint8_t)(c & 0xff);
}

/* DOS: rewrite entry NUMBER's size (and CHS end) in sector 0 of DISK: one sector, nothing else
 * changes. The sector must still hold the entry TABLE described. */
static int grow_dos(const char *disk, const struct ptable *t, const struct ptable_entry *e,
		    uint64_t new_end)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *sec = NULL;
	const uint32_t ss = t->sector_size;
	uint8_t *ent;
	uint64_t start_lba = e->start / ss, new_n = (new_end - e->start) / ss, old_n;

	if (e->number < 1 || e->number > 4 || new_n > UINT32_MAX ||
	    start_lba + new_n > (UINT64_C(1) << 32))
		return log_error_errno(-ERANGE, "Partition %u of '%s' cannot end at %" PRIu64
						" in a DOS table, refusing",
				       e->number, disk, new_end);
	sec = malloc(ss);
	if (!sec)
		return log_error_errno(-ENOMEM, "Out of memory");
	fd = open(disk, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return log_error_errno(errno, "Failed to open '%s' for writing: %m", disk);
	if (pread(fd, sec, ss, 0) != (ssize_t)ss)
		return log_error_errno(-EIO, "Failed to read the partition table of '%s'", disk);
	ent = sec + 446 + 16 * (e->number - 1);
	old_n = (uint64_t)ent[12] | (uint64_t)ent[13] << 8 | (uint64_t)ent[14] << 16 |
		(uint64_t)ent[15] << 24;
	if (sec[510] != 0x55 || sec[511] != 0xaa || ent[4] != e->dos_type ||
	    ((uint64_t)ent[8] | (uint64_t)ent[9] << 8 | (uint64_t)ent[10] << 16 |
	     (uint64_t)ent[11] << 24) != start_lba ||
	    (start_lba + old_n) * ss != e->end)
		return log_error_errno(-ESTALE, "The DOS table of '%s' changed since it was read, "
						"refusing",
				       disk);
	ent[12] = (uint8_t)new_n;
	ent[13] = (uint8_t)(new_n >> 8);
	ent[14] = (uint8_t)(new_n >> 16);
	ent[15] = (uint8_t)(new_n >> 24);
	dos_chs(start_lba + new_n - 1, ent + 5);
	if (pwrite(fd, sec, ss, 0) != (ssize_t)ss || fsync(fd) < 0)
		return log_error_errno(errno ? errno : EIO,
				       "Failed to write the partition table of '%s': %m", disk);
	return 1;
}

/* The table on the disk now must be T with entry NUMBER ending at NEW_END and the GPT backup at
 * the end: libparted rewrote the whole table, so check it changed nothing else. */
static int check_grown_gpt(const char *disk, int fd, const struct ptable *t, unsigned number,
			   uint64_t new_end, const uint8_t *mbr_before)
{
	_cleanup_(ptable_done) struct ptable now = {};
	uint8_t mbr[512];
	const uint64_t ss = t->sector_size;
	size_t len = (size_t)t->n_entries * t->entry_size, off = (size_t)(number - 1) * t->entry_size;
	int r;

	r = ptable_read_fd(fd, t->disk_bytes, t->sector_size, &now);
	if (r < 0 || now.type != PTABLE_GPT)
		return log_error_errno(r < 0 ? r : -EUCLEAN,
				       "The GPT of '%s' does not read back after growing it", disk);
	if (now.n_entries != t->n_entries || now.entry_size != t->entry_size ||
	    now.entries_lba != t->entries_lba || now.backup_lba != t->disk_bytes / ss - 1 ||
	    now.first_usable_lba != t->first_usable_lba ||
	    memcmp(now.disk_guid, t->disk_guid, sizeof(t->disk_guid)) != 0 ||
	    memcmp(now.raw_entries, t->raw_entries, off + 40) != 0 ||
	    memcmp(now.raw_entries + off + 48, t->raw_entries + off + 48, len - off - 48) != 0 ||
	    !ptable_find(&now, number) || ptable_find(&now, number)->end != new_end)
		return log_error_errno(-EIO, "The GPT of '%s' changed in more than partition %u's "
					     "end after growing it",
				       disk, number);
	/* Sector 0: the boot code and the other MBR slots stay; only the protective entry (slot
	 * 1, bytes 446..461) follows the new size. */
	if (pread(fd, mbr, sizeof(mbr), 0) != (ssize_t)sizeof(mbr) ||
	    memcmp(mbr, mbr_before, 446) != 0 || memcmp(mbr + 462, mbr_before + 462, 50) != 0)
		return log_error_errno(-EIO, "libparted changed the boot code or the MBR of '%s' "
					     "while growing its GPT",
				       disk);
	return 0;
}

int partition_grow(const char *disk, int lock_fd, const struct ptable *t, unsigned number,
		   uint64_t new_end, bool own)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	_cleanup_(ped_done) struct ped p = {};
	const struct ptable_entry *e = ptable_find(t, number);
	PedPartition *part = NULL, *i;
	PedGeometry *geom = NULL;
	const uint32_t ss = t->sector_size;
	PedSector s0, s1;
	uint64_t size = 0;
	uint8_t mbr[512];
	size_t n = 0;
	int r;

	if (!e || new_end < e->end || new_end > t->disk_bytes || new_end % ss)
		return log_error_errno(-EINVAL, "No way to grow partition %u of '%s' to %" PRIu64,
				       number, disk, new_end);
	if (ioctl(lock_fd, BLKGETSIZE64, &size) < 0)
		return log_error_errno(errno, "Failed to read the size of '%s': %m", disk);
	if (size != t->disk_bytes)
		return log_error_errno(-ESTALE, "The size of '%s' changed since it was checked (%" PRIu64
						" -> %" PRIu64 " bytes), refusing",
				       disk, t->disk_bytes, size);

	if (t->type == PTABLE_DOS) {
		if (new_end == e->end)
			return 0;
		return grow_dos(disk, t, e, new_end);
	}
	if (t->type != PTABLE_GPT || t->hybrid)
		return log_error_errno(-EOPNOTSUPP, "'%s' has no plain GPT, refusing to grow it", disk);
	if (new_end == e->end && t->backup_lba == t->disk_bytes / ss - 1)
		return 0;
	if (pread(lock_fd, mbr, sizeof(mbr), 0) != (ssize_t)sizeof(mbr))
		return log_error_errno(-EIO, "Failed to read sector 0 of '%s'", disk);

	r = ped_begin(&p, disk);
	if (r < 0)
		return r;
	if ((uint64_t)p.dev->length * (uint64_t)p.dev->sector_size != size ||
	    (uint64_t)p.dev->sector_size != ss)
		return log_error_errno(-ESTALE, "libparted sees '%s' with a different size, refusing",
				       disk);
	/* From here on libparted may write: answering FIX moves the backup header at once. */
	ped_allow_fix = true;
	p.disk = sym.ped_disk_new(p.dev);
	ped_allow_fix = false;
	if (!p.disk || ped_failed)
		return log_error_errno(-EIO, "Failed to read the partition table of '%s'", disk);
	if (!streq(p.disk->type->name, "gpt"))
		return log_error_errno(-EUCLEAN, "libparted sees a %s table on '%s', refusing",
				       p.disk->type->name, disk);
	if (ped_fixed)
		fault_point("grow-after-backup");

	/* libparted must see exactly the table that was checked. */
	for (i = sym.ped_disk_next_partition(p.disk, NULL); i;
	     i = sym.ped_disk_next_partition(p.disk, i)) {
		const struct ptable_entry *x;

		if (i->num <= 0)
			continue;
		n++;
		x = ptable_find(t, (unsigned)i->num);
		if (!x || (uint64_t)i->geom.start * ss != x->start ||
		    (uint64_t)(i->geom.end + 1) * ss != x->end)
			return log_error_errno(-ESTALE, "libparted's view of '%s' differs from the table "
							"that was checked, refusing",
					       disk);
		if (i->num == (int)number)
			part = i;
	}
	if (n != t->n || !part)
		return log_error_errno(-ESTALE, "libparted's view of '%s' differs from the table that "
						"was checked, refusing",
				       disk);
	if (own) {
		const char *name = sym.ped_partition_get_name(part);
		if (n != 1 || number != 1 || e->start != OWN_ALIGN_BYTES || !name ||
		    (!streq(name, VAGENT_PART_PENDING) && !streq(name, VAGENT_PART_DONE)))
			return log_error_errno(-EUCLEAN, "The table of '%s' is not vagent's, refusing",
					       disk);
	}

	if (new_end > e->end) {
		s0 = part->geom.start;
		s1 = (PedSector)(new_end / ss) - 1;
		geom = sym.ped_geometry_new(p.dev, s0, s1 - s0 + 1);
		if (!geom)
			return log_error_errno(-ENOMEM, "Out of memory");
		p.constraint = sym.ped_constraint_exact(geom);
		sym.ped_geometry_destroy(geom);
		if (!p.constraint)
			return log_error_errno(-ENOMEM, "Out of memory");
		if (!sym.ped_disk_set_partition_geom(p.disk, part, p.constraint, s0, s1) || ped_failed ||
		    part->geom.start != s0 || part->geom.end != s1)
			return log_error_errno(-EIO, "libparted cannot make partition %u of '%s' end "
						     "at %" PRIu64 ", refusing",
					       number, disk, new_end);
	}
	if (!sym.ped_disk_commit_to_dev(p.disk) || !sym.ped_device_sync(p.dev) || ped_failed)
		return log_error_errno(-EIO, "Failed to write the partition table to '%s'", disk);
	/* Close libparted's writable descriptor while the caller's lock is still held: udev's
	 * watch then sees the disk locked and does not make the kernel re-read the table. */
	ped_done(&p);

	r = check_grown_gpt(disk, lock_fd, t, number, new_end, mbr);
	if (r < 0)
		return r;
	log_info("Grew partition %u of '%s' to end at %" PRIu64 " (was %" PRIu64
		 "), the backup GPT at the end",
		 number, disk, new_end, e->end);
	return 1;
}
