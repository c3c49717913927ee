/* SPDX-License-Identifier: MIT */
/*
 * storage.c: the storage orchestrator. It takes the storage lock, asks probe.c for a verdict on
 * each volume and acts only on "blank" (still holding the probe's O_EXCL claim) and on "own"
 * (vagent's own table, resumed from wherever a previous run stopped): partition.c, then a probe
 * of the new partition (anything there stops us), mkfs.c, the rename to the done marker,
 * fstab.c, mount.c. Volume identity (and so the mount point) comes from the serial, or from the
 * partition's PARTUUID for disks without one, never from the kernel name. Every step is
 * idempotent, so after a crash at any point a re-run converges without formatting twice.
 * An own volume whose disk grew is grown (grow.h): its table under the same disk lock as the
 * rename, its filesystem online once mounted; a mounted one in place, under the disk's lock.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "base/platform.h"
#include "storage/blockdev.h"
#include "base/fault.h"
#include "base/fstab.h"
#include "base/log.h"
#include "storage/grow.h"
#include "storage/mkfs.h"
#include "storage/mount.h"
#include "storage/partition.h"
#include "storage/probe.h"
#include "storage/storage.h"
#include "base/util.h"

struct storage_ctx {
	const char *root;
	const struct config *cfg;
	bool dry_run;
};

void storage_reports_free(struct volume_report *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		volume_report_done(&r[i]);
	free(r);
}

/* ---- identity ---- */

/* The serial made safe for a path component and an fstab option; NULL when nothing is left. */
static char *sanitize_serial(const char *serial)
{
	size_t n = 0;
	char *s;

	if (!serial)
		return NULL;
	s = malloc(strlen(serial) + 1);
	if (!s)
		return NULL;
	for (const char *p = serial; *p && n < 64; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			c = '_';
		if (n == 0 && c == '-')
			c = '_';
		s[n++] = c;
	}
	s[n] = 0;
	if (!fstab_volume_id_valid(s)) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * The volume id: the sanitized serial (the provider's mount id on virtio, the NVMe serial), else
 * the PARTUUID of vagent's partition (written by us, stable when the disk moves).
 */
static int volume_id(const char *disk, const char *serial, char **ret)
{
	_cleanup_free_ char *uuid = NULL;
	int r;

	*ret = sanitize_serial(serial);
	if (*ret)
		return 0;
	r = partition_read_entry(disk, &uuid, NULL);
	if (r < 0)
		return log_error_errno(r, "'%s' has no serial and no readable GPT entry: %m", disk);
	if (!fstab_volume_id_valid(uuid))
		return log_error_errno(-EINVAL, "Unusable partition UUID '%s' on '%s'", uuid, disk);
	*ret = TAKE_PTR(uuid);
	return 0;
}

static int mountpoint_for(const struct config *cfg, const char *id, char **ret)
{
	if (!cfg->mount_dir || cfg->mount_dir[0] != '/')
		return log_error_errno(-EINVAL, "mount-dir '%s' is not an absolute path",
				       cfg->mount_dir ? cfg->mount_dir : "");
	*ret = path_join(cfg->mount_dir, id);
	return *ret ? 0 : -ENOMEM;
}

/* ---- growing ---- */

/* v->grow: "loop0p1 from 1022 MiB to 2046 MiB" (the partition when it grew, else the
 * filesystem), and the journal line. */
static int describe_grow(struct storage_ctx *c, const char *part, const char *id, bool table,
			 uint64_t before, uint64_t after, struct volume_report *v)
{
	const char *name = strrchr(part, '/') ? strrchr(part, '/') + 1 : part;
	char b[32], a[32];
	int r;

	grow_human_size(before, b, sizeof(b));
	grow_human_size(after, a, sizeof(a));
	r = message_set(&v->grow, 0, "%s%s from %s to %s", table ? "" : "the filesystem on ", name,
			b, a);
	if (r < 0)
		return -ENOMEM;
	if (!c->dry_run) {
		v->changed = true;
		log_full_id(LOG_NOTICE, MSGID_STORAGE_GROWN, "Grew volume '%s': %s", id ? id : "-",
			    v->grow);
	}
	return 0;
}

/*
 * The table part of growing an own volume, under the disk's BSD lock (LOCK, held by the
 * caller). PROBED: the probe's result for an unmounted volume (its scan covered the space after
 * the partition), NULL for a mounted one (the space is scanned here). *RET_TABLE: the partition
 * grew, from *RET_BEFORE to *RET_AFTER bytes. A volume whose grown space is not free is left at
 * its size (a warning), never an error: it still mounts.
 */
static int grow_own_table(struct storage_ctx *c, const char *disk, int lock,
			  const struct probe_result *probed, bool *ret_table, uint64_t *ret_before,
			  uint64_t *ret_after)
{
	_cleanup_(grow_plan_done) struct grow_plan gp = {};
	_cleanup_free_ char *why = NULL;
	int r;

	*ret_table = false;
	if (!c->cfg->grow_volumes)
		return 0;
	r = grow_own_plan(disk, lock, probed ? probed->size_bytes : 0, !probed || !probed->own_grown,
			  c->cfg, c->root, c->dry_run, &gp, &why);
	if (r == -ENOTEMPTY) {
		log_full_id(LOG_WARNING, MSGID_STORAGE_REFUSED, "Not growing '%s': %s, ignoring.",
			    disk, why);
		return 0;
	}
	/* It grew again since the probe (its newest space is unchecked): the capacity-change
	 * event that comes with it, or the next boot, grows it. */
	if (r == -ESTALE)
		return 0;
	if (r <= 0)
		return r;
	*ret_before = gp.kernel_end - gp.start;
	*ret_after = gp.new_end - gp.start;
	*ret_table = gp.kernel_end < gp.new_end;
	if (c->dry_run)
		return 0;
	return grow_own_apply(disk, lock, &gp);
}

/* Grow the mounted filesystem of an own volume to its partition (after its table grew, or to
 * finish what an interrupted run began). */
static int grow_own_fs(struct storage_ctx *c, const char *part, const char *mountpoint,
		       const char *fstype, const char *id, bool table, uint64_t part_before,
		       uint64_t part_after, struct volume_report *v)
{
	uint64_t before = 0, after = 0;
	int r;

	/* The partition grew (or, in a dry run, would: the filesystem follows it). */
	if (table) {
		r = describe_grow(c, part, id, true, part_before, part_after, v);
		if (r < 0 || c->dry_run)
			return r;
	}
	r = grow_fs(part, mountpoint, fstype, c->dry_run, &before, &after);
	if (r <= 0 || table)
		return r;
	return describe_grow(c, part, id, false, before, after, v);
}

/* ---- acting ---- */

/*
 * The common tail for blank and own volumes. MKFS: the partition was proven empty; RENAME: it
 * is still marked pending. FS_UUID/FSTYPE: what is on it already when !MKFS.
 */
static int finish_volume(struct storage_ctx *c, const char *disk, const char *part,
			 const char *id, bool mkfs, bool rename, const char *fstype,
			 const char *fs_uuid, const struct probe_result *own,
			 struct volume_report *v)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *label = NULL, *uuid = NULL, *line = NULL, *mp = NULL, *abs = NULL,
			    *what = NULL;
	_cleanup_close_ int lock = -1;
	enum fs_type fs = c->cfg->fs_type;
	uint64_t part_before = 0, part_after = 0;
	bool table = false;
	int r, mounted, grow_error = 0;

	if (!mkfs) {
		if (!fstype || !fs_uuid)
			return log_error_errno(-EINVAL, "No filesystem known on '%s'", part);
		fs = streq(fstype, "xfs") ? FS_XFS : FS_EXT4;
		if (!streq(fstype, fs_type_to_string(fs)))
			return log_error_errno(-EMEDIUMTYPE, "'%s' holds %s, refusing", part, fstype);
		uuid = strdup(fs_uuid);
		if (!uuid)
			return -ENOMEM;
	}

	r = mountpoint_for(c->cfg, id, &mp);
	if (r < 0)
		return r;
	r = free_and_strdup(&v->mountpoint, mp);
	if (r < 0)
		return r;

	if (mkfs) {
		label = mkfs_make_label(id, fs);
		if (!label)
			return log_error_errno(errno, "No usable label for volume '%s': %m", id);
		r = mkfs_run(part, fs, label, c->cfg->discard, &uuid);
		if (r < 0)
			return r;
		log_full_id(LOG_NOTICE, MSGID_STORAGE_FORMATTED,
			    "Made %s (UUID %s) on '%s' for volume '%s'", fs_type_to_string(fs),
			    uuid, part, id);
		fault_point("after-mkfs");
	}
	r = free_and_strdup(&v->uuid, uuid);
	if (r < 0)
		return r;

	/* What systemd will mount: the filesystem's by-uuid link, once udev has made it. Before
	 * the lock below, which keeps udev off the disk. */
	r = mount_wait_source(c->root, part, uuid, 10ULL * 1000000ULL, &what);
	if (r < 0)
		return r;

	/*
	 * From the rename until the volume is mounted, hold the disk's BSD lock (not O_EXCL: the
	 * mount must claim the partition). udev reacts to the table write by making the kernel
	 * re-read it unless the disk is locked; a re-read removes and re-adds the partition, and
	 * systemd unmounts a mount whose device it saw go away, even after we mounted it. Once
	 * mounted, the kernel refuses a re-read (the partition is open): the lock ends with this
	 * function, and udev then handles what the rename changed. Nothing here waits for udev.
	 */
	lock = open(disk, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (lock < 0)
		return log_error_errno(errno, "Failed to open '%s': %m", disk);
	r = flock_wait(lock, LOCK_EX, 10ULL * 1000000ULL);
	if (r < 0)
		return log_error_errno(r, "Failed to lock '%s': %m", disk);

	/* A disk that grew: the table first (the rename checks the own geometry). A failure
	 * here still mounts the volume; the step fails afterwards. */
	if (own) {
		grow_error = grow_own_table(c, disk, lock, own, &table, &part_before, &part_after);
		if (grow_error == -ENOMEM)
			return grow_error;
		if (grow_error < 0)
			table = false;
	}

	if (rename) {
		r = partition_set_name(disk, VAGENT_PART_DONE, true);
		if (r < 0)
			return r;
		fault_point("after-rename");
	}

	line = fstab_line(uuid, mp, fs, id);
	if (!line)
		return log_error_errno(errno, "Cannot make an fstab line for volume '%s': %m", id);
	r = fstab_update(c->root, id, line);
	if (r < 0)
		return r;
	fault_point("after-fstab");

	/* The node is there (mount_wait_source saw it); a commit that re-added it is waited for. */
	r = wait_for_path(part, 10ULL * 1000000ULL);
	if (r < 0)
		return log_error_errno(r, "'%s' is missing after the partition rename", part);
	mounted = mount_volume(c->root, what, part, mp, fs, id);
	if (mounted < 0 || !own)
		return mounted;
	lock = safe_close(lock);
	if (grow_error < 0)
		return message_set(&v->result, grow_error, "mounted; growing its partition failed: %s",
				   strerror(-grow_error));

	/* Mounted: the filesystem grows online (xfs_growfs only works mounted; resize2fs
	 * offline would want a fresh e2fsck first). */
	r = mount_path(c->root, mp, &abs);
	if (r < 0)
		return r;
	if (!c->cfg->grow_volumes)
		return mounted;
	r = grow_own_fs(c, part, abs, fs_type_to_string(fs), id, table, part_before, part_after, v);
	if (r < 0 && message_set(&v->result, 0, "mounted; growing its filesystem failed: %s",
				 strerror(-r)) < 0)
		return -ENOMEM;
	return r < 0 ? r : mounted;
}

static int act_blank(struct storage_ctx *c, const char *disk, struct probe_result *pr,
		     struct volume_report *v)
{
	_cleanup_free_ char *part = NULL, *type = NULL, *uuid = NULL, *id = NULL, *why = NULL;
	int r;

	/* Anything that started using the disk while we decided stops us here, before the first
	 * byte is written. */
	fault_pause("before-first-write");
	r = probe_check_in_use(disk, &why);
	if (r != 0) {
		if (r > 0 && (free_and_strdup(&v->verdict, verdict_to_string(VERDICT_IN_USE)) < 0 ||
			      free_and_strdup(&v->reason, why) < 0 || free_and_strdup(&v->action, "none") < 0))
			return -ENOMEM;
		return log_error_errno(r < 0 ? r : -EBUSY, "'%s' %s%s%s, not writing to it", disk,
				       r < 0 ? "cannot be checked for users" : "is in use now",
				       why ? ": " : "", why ? why : "");
	}
	r = partition_create_gpt(disk, pr->excl_fd, pr->size_bytes, pr->diskseq, &part);
	if (r < 0)
		return r;
	fault_point("after-gpt");

	/* The new partition must read as empty; anything else means we misjudged the disk. */
	r = probe_partition_fs(part, &type, &uuid);
	if (r < 0 || type)
		return log_error_errno(r < 0 ? r : -EUCLEAN,
				       "The new partition '%s' is not empty (%s), stopping", part,
				       r < 0 ? strerror(-r) : type);
	pr->excl_fd = safe_close(pr->excl_fd);

	r = volume_id(disk, pr->serial, &id);
	if (r < 0)
		return r;
	r = free_and_strdup(&v->volume_id, id);
	if (r < 0)
		return r;
	return finish_volume(c, disk, part, id, true, true, NULL, NULL, NULL, v);
}

static int act_own(struct storage_ctx *c, const char *disk, struct probe_result *pr,
		   struct volume_report *v)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *id = NULL;
	bool mkfs = !pr->own_done && !pr->own_fstype;
	int r;

	pr->excl_fd = safe_close(pr->excl_fd); /* the probe keeps no claim on own volumes */

	r = volume_id(disk, pr->serial, &id);
	if (r < 0)
		return r;
	r = free_and_strdup(&v->volume_id, id);
	if (r < 0)
		return r;

	if (mkfs) {
		_cleanup_free_ char *type = NULL, *uuid = NULL, *why = NULL;

		/* Nobody may have started using it meanwhile (the first write is mkfs here). */
		r = probe_check_in_use(disk, &why);
		if (r != 0)
			return log_error_errno(r < 0 ? r : -EBUSY, "'%s' %s%s%s, not formatting it",
					       disk, r < 0 ? "cannot be checked for users" :
							     "is in use now",
					       why ? ": " : "", why ? why : "");
		/* Still empty right before mkfs? (The probe said so; ask once more.) */
		r = probe_partition_fs(pr->own_partition, &type, &uuid);
		if (r < 0 || type)
			return log_error_errno(r < 0 ? r : -EUCLEAN,
					       "'%s' is no longer empty (%s), refusing to format",
					       pr->own_partition, r < 0 ? strerror(-r) : type);
	}
	return finish_volume(c, disk, pr->own_partition, id, mkfs, !pr->own_done, pr->own_fstype,
			     pr->own_uuid, pr, v);
}

/* A mounted own volume whose disk grew: see recognise_mounted_own(). */
static int grow_mounted(struct storage_ctx *c, const char *disk, const char *part,
			const char *mountpoint, const char *fstype, const char *id,
			struct volume_report *v)
{
	_cleanup_close_ int lock = -1;
	uint64_t before = 0, after = 0;
	bool table = false;
	int r;

	if (!c->cfg->grow_volumes)
		return 0;
	lock = open(disk, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (lock < 0)
		return log_error_errno(errno, "Failed to open '%s': %m", disk);
	/* Not O_EXCL (the mount claims the partition): the BSD lock keeps udev off. */
	if (!c->dry_run) {
		r = flock_wait(lock, LOCK_EX, 10ULL * 1000000ULL);
		if (r < 0)
			return log_error_errno(r, "Failed to lock '%s': %m", disk);
	}
	r = grow_own_table(c, disk, lock, NULL, &table, &before, &after);
	if (r < 0)
		return r;
	lock = safe_close(lock);
	return grow_own_fs(c, part, mountpoint, fstype, id, table, before, after, v);
}

/*
 * An in-use disk may be vagent's volume, already mounted (every boot after the first, when
 * systemd mounted it from fstab): partition 1 of the disk, named with the done marker in a
 * one-entry GPT, mounted at the volume's own mount point. Then the report says so, the fstab
 * line is made sure of, and when its disk grew it grows in place (the table under the disk's
 * BSD lock after the space was scanned, the kernel told with BLKPG, the filesystem online).
 * 1 recognised, 0 not.
 */
static int recognise_mounted_own(struct storage_ctx *c, const char *disk,
				 const struct probe_result *pr, struct volume_report *v)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_(blockdev_done) struct blockdev bd = {};
	_cleanup_(mount_info_done) struct mount_info mi = {};
	_cleanup_free_ char *part = NULL, *name = NULL, *id = NULL, *mp = NULL, *path = NULL;
	_cleanup_free_ char *type = NULL, *uuid = NULL, *line = NULL;
	struct stat st;
	int r;

	if (blockdev_load(disk, &bd) < 0 || !bd.whole)
		return 0;
	if (blockdev_partition_path(bd.name, 1, &part) < 0 || stat(part, &st) < 0)
		return 0;
	if (mount_find_device(st.st_rdev, &mi) <= 0)
		return 0;
	r = partition_read_entry(disk, NULL, &name);
	if (r != 1 || !streq(name, VAGENT_PART_DONE))
		return 0;
	if (volume_id(disk, pr->serial, &id) < 0 || mountpoint_for(c->cfg, id, &mp) < 0 ||
	    mount_path(c->root, mp, &path) < 0)
		return 0;
	if (!streq(mi.path, path))
		return 0;
	r = probe_partition_fs(part, &type, &uuid);
	if (r < 0 || !type || !uuid || !streq(type, mi.fstype) ||
	    (!streq(type, "ext4") && !streq(type, "xfs")))
		return 0;

	if (free_and_strdup(&v->verdict, verdict_to_string(VERDICT_OWN)) < 0 ||
	    message_set(&v->reason, 0, VAGENT_PART_DONE " partition %s with %s, mounted at %s", part, type,
		    mi.path) < 0 ||
	    free_and_strdup(&v->action, "mount") < 0 || free_and_strdup(&v->volume_id, id) < 0 ||
	    free_and_strdup(&v->mountpoint, mp) < 0 || free_and_strdup(&v->uuid, uuid) < 0)
		return -ENOMEM;

	r = grow_mounted(c, disk, part, mi.path, type, id, v);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		if (message_set(&v->result, 0, "already mounted; growing failed: %s", strerror(-r)) < 0)
			return -ENOMEM;
		return r;
	}
	if (c->dry_run)
		return 1;

	line = fstab_line(uuid, mp, streq(type, "xfs") ? FS_XFS : FS_EXT4, id);
	if (!line)
		return log_error_errno(errno, "Cannot make an fstab line for volume '%s': %m", id);
	r = fstab_update(c->root, id, line);
	if (r < 0)
		return r;
	v->changed = v->changed || r > 0;
	r = free_and_strdup(&v->result, r > 0 ? (v->grow ? "already mounted, grown, fstab line restored" :
						 "already mounted, fstab line restored") :
				      v->grow ? "already mounted, grown" : "already mounted");
	return r < 0 ? r : 1;
}

static int handle_device(struct storage_ctx *c, const char *dev, bool explicit,
			 struct volume_report *v)
{
	_cleanup_(probe_result_done) struct probe_result pr = { .excl_fd = -1 };
	const char *action = "none";
	uint64_t t0 = now_usec();
	int r;

	r = free_and_strdup(&v->device, dev);
	if (r < 0)
		return r;
	r = probe_device(dev, explicit, c->cfg,
			 &(struct probe_options){ .root = c->root, .dry_run = c->dry_run }, &pr);
	if (r < 0)
		return r;

	if (pr.verdict == VERDICT_BLANK)
		action = "format-and-mount";
	else if (pr.verdict == VERDICT_OWN)
		action = pr.own_done || pr.own_fstype ? "mount" : "format-and-mount";

	if (free_and_strdup(&v->verdict, verdict_to_string(pr.verdict)) < 0 ||
	    free_and_strdup(&v->reason, pr.reason) < 0 || free_and_strdup(&v->action, action) < 0 ||
	    free_and_strdup(&v->uuid, pr.own_uuid) < 0)
		return -ENOMEM;
	/* What the verdict rests on travels with the report (moved, not copied). */
	v->scan = pr.scan;
	pr.scan = (struct volume_scan){};

	if (pr.verdict == VERDICT_IN_USE) {
		r = recognise_mounted_own(c, dev, &pr, v);
		if (r != 0)
			return r < 0 ? r : 0;
	}

	if (pr.verdict != VERDICT_BLANK && pr.verdict != VERDICT_OWN) {
		log_full_id(pr.verdict == VERDICT_ERROR ? LOG_ERR : LOG_NOTICE,
			    MSGID_STORAGE_REFUSED, "Leaving '%s' alone: %s (%s)", dev,
			    verdict_to_string(pr.verdict), pr.reason ? pr.reason : "");
		if (c->dry_run)
			return pr.verdict == VERDICT_ERROR ? -EIO : 0;
		r = free_and_strdup(&v->result, pr.verdict == VERDICT_ERROR ? "failed" : "skipped");
		if (r < 0)
			return r;
		return pr.verdict == VERDICT_ERROR ? -EIO : 0;
	}

	if (c->dry_run) {
		_cleanup_free_ char *id = sanitize_serial(pr.serial), *mp = NULL;

		/* Without a serial the id comes from a PARTUUID that does not exist yet. */
		if (!id && pr.verdict == VERDICT_OWN)
			(void)volume_id(dev, NULL, &id);
		if (id && mountpoint_for(c->cfg, id, &mp) >= 0)
			if (free_and_strdup(&v->volume_id, id) < 0 || free_and_strdup(&v->mountpoint, mp) < 0)
				return -ENOMEM;
		if (pr.verdict == VERDICT_OWN && pr.own_grown) {
			_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
			uint64_t before = 0, after = 0;
			bool table = false;

			pr.excl_fd = safe_close(pr.excl_fd);
			r = fd < 0 ? -errno : grow_own_table(c, dev, fd, &pr, &table, &before, &after);
			if (r == -ENOMEM)
				return r;
			if (r >= 0 && table &&
			    describe_grow(c, pr.own_partition, v->volume_id, true, before, after, v) < 0)
				return -ENOMEM;
		}
		return 0;
	}

	log_full_id(LOG_NOTICE, MSGID_STORAGE, "'%s' is %s (%s): %s", dev,
		    verdict_to_string(pr.verdict), pr.reason ? pr.reason : "", action);
	if (pr.verdict == VERDICT_BLANK)
		r = act_blank(c, dev, &pr, v);
	else
		r = act_own(c, dev, &pr, v);

	if (r < 0) {
		if (!v->result && message_set(&v->result, 0, "failed: %s", strerror(-r)) < 0)
			return -ENOMEM;
		return r;
	}
	v->changed = v->changed || pr.verdict == VERDICT_BLANK || streq(action, "format-and-mount") ||
		     r > 0;
	if (pr.verdict == VERDICT_BLANK || streq(action, "format-and-mount"))
		r = free_and_strdup(&v->result, "formatted and mounted");
	else if (v->grow)
		r = free_and_strdup(&v->result, r > 0 ? "mounted and grown" : "already mounted, grown");
	else
		r = free_and_strdup(&v->result, r > 0 ? "mounted" : "already mounted");
	if (r < 0)
		return r;
	log_info("'%s': %s in %" PRIu64 " ms", dev, v->result, (now_usec() - t0) / 1000);
	return 0;
}

static int add_report(struct volume_report **reports, size_t *n, struct volume_report *v)
{
	struct volume_report *nr = reallocarray(*reports, *n + 1, sizeof(**reports));

	if (!nr)
		return -ENOMEM;
	*reports = nr;
	nr[(*n)++] = *v;
	*v = (struct volume_report){};
	return 0;
}

int storage_mount(const char *root, const struct config *cfg, char *const *devices, bool dry_run,
		  struct volume_report **ret_reports, size_t *ret_n)
{
	struct storage_ctx c = { .root = root, .cfg = cfg, .dry_run = dry_run };
	_cleanup_strv_free_ char **found = NULL;
	struct volume_report *reports = NULL;
	char *const *list = devices;
	bool configured = false;
	size_t n = 0;
	int r, ret = 0;

	*ret_reports = NULL;
	*ret_n = 0;

	if (!devices) {
		_cleanup_free_ char *why = NULL;

		r = blockdev_select_candidates(platform_kind(root), cfg->storage_devices, &found,
					       &configured, &why);
		if (r < 0)
			return log_error_errno(r, "Failed to list candidate volumes: %m");
		log_info("Storage candidates (%s): %zu", why, strv_length(found));
		list = found;
	}

	for (size_t i = 0; list && list[i]; i++) {
		struct volume_report v = {};

		r = handle_device(&c, list[i], !!devices || configured, &v);
		if (r == -ENOMEM) {
			volume_report_done(&v);
			storage_reports_free(reports, n);
			return log_error_errno(r, "Out of memory");
		}
		if (r < 0)
			ret = r;
		r = add_report(&reports, &n, &v);
		if (r < 0) {
			volume_report_done(&v);
			storage_reports_free(reports, n);
			return log_error_errno(r, "Out of memory");
		}
	}

	*ret_reports = reports;
	*ret_n = n;
	return ret;
}

/* ---- unmount ---- */

/* "/dev/<disk>" of the whole disk holding partition PART (its sysfs parent). */
static int whole_disk_of(const char *part, char **ret)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_(blockdev_done) struct blockdev bd = {};
	_cleanup_free_ char *parent = NULL;
	const char *slash;
	int r;

	r = blockdev_load(part, &bd);
	if (r < 0)
		return r;
	if (bd.whole)
		return asprintf(ret, "/dev/%s", bd.name) < 0 ? -ENOMEM : 0;
	slash = strrchr(bd.syspath, '/');
	if (!slash || slash == bd.syspath)
		return -ENOENT;
	parent = strndup(bd.syspath, (size_t)(slash - bd.syspath));
	if (!parent)
		return -ENOMEM;
	slash = strrchr(parent, '/');
	return asprintf(ret, "/dev/%s", slash ? slash + 1 : parent) < 0 ? -ENOMEM : 0;
}

static int umount_one(const struct fstab_entry *e, const struct mount_info *mi, bool dry_run,
		      struct volume_report *v)
{
	_cleanup_free_ char *msg = NULL, *disk = NULL, *why = NULL, *type = NULL, *uuid = NULL;
	struct stat st;
	int r;

	if (free_and_strdup(&v->device, mi->source) < 0 || free_and_strdup(&v->verdict, "own") < 0 ||
	    free_and_strdup(&v->action, "umount") < 0 || free_and_strdup(&v->volume_id, e->volume_id) < 0 ||
	    free_and_strdup(&v->mountpoint, e->mountpoint) < 0)
		return -ENOMEM;

	/* Only vagent's filesystem: the source must be the block device whose UUID fstab names. */
	if (stat(mi->source, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != mi->dev ||
	    probe_partition_fs(mi->source, &type, &uuid) < 0 || !uuid ||
	    !startswith(e->spec, "UUID=") || !streq(e->spec + 5, uuid)) {
		if (free_and_strdup(&v->verdict, "in-use") < 0 ||
		    message_set(&v->reason, 0, "'%s' is mounted there, not vagent's volume '%s'",
			    mi->source, e->volume_id) < 0 ||
		    free_and_strdup(&v->action, "none") < 0 || free_and_strdup(&v->result, "refused") < 0)
			return -ENOMEM;
		return log_error_errno(-EBUSY, "'%s' is mounted at '%s', not vagent's volume '%s', "
					       "refusing to unmount it",
				       mi->source, mi->path, e->volume_id);
	}
	if (free_and_strdup(&v->uuid, uuid) < 0)
		return -ENOMEM;
	if (dry_run)
		return message_set(&v->result, 0, "would unmount '%s'", mi->path) < 0 ? -ENOMEM : 0;

	r = umount_volume(mi->path, &msg);
	if (r == -EBUSY) {
		if (free_and_strdup(&v->reason, msg) < 0 || free_and_strdup(&v->result, "busy") < 0)
			return -ENOMEM;
		return r;
	}
	if (r < 0)
		return message_set(&v->result, 0, "failed: %s", strerror(-r)) < 0 ? -ENOMEM : r;
	v->changed = r > 0;

	r = whole_disk_of(mi->source, &disk);
	if (r >= 0)
		r = device_safe_to_detach(disk, &why);
	if (r < 0)
		return free_and_strdup(&v->result, "unmounted") < 0 ? -ENOMEM : 0;
	if (r > 0)
		return message_set(&v->result, 0, "unmounted, %s is safe to detach", disk) < 0 ? -ENOMEM
											: 0;
	return message_set(&v->result, 0, "unmounted, %s is not safe to detach: %s", disk, why) < 0
		       ? -ENOMEM
		       : 0;
}

int storage_umount(const char *root, const struct config *cfg, char *const *devices, bool dry_run,
		   struct volume_report **ret_reports, size_t *ret_n)
{
	struct fstab_entry *entries = NULL;
	struct volume_report *reports = NULL;
	size_t n_entries = 0, n = 0;
	int r, ret = 0;

	*ret_reports = NULL;
	*ret_n = 0;

	r = fstab_list_vagent(root, &entries, &n_entries);
	if (r < 0)
		return r;

	/* With DEVICES, every vagent mount on a partition of each; without, every fstab line. */
	for (size_t i = 0; i < n_entries; i++) {
		_cleanup_(mount_info_done) struct mount_info mi = {};
		_cleanup_free_ char *path = NULL, *disk = NULL;
		struct volume_report v = {};

		r = mount_path(root, entries[i].mountpoint, &path);
		if (r < 0) {
			ret = log_error_errno(r, "Bad mount point '%s': %m", entries[i].mountpoint);
			continue;
		}
		r = mount_find(path, &mi);
		if (r < 0) {
			ret = r;
			continue;
		}
		if (r > 0 && devices) {
			if (whole_disk_of(mi.source, &disk) < 0 || !strv_contains(devices, disk))
				continue;
		}
		if (r == 0) {
			if (devices)
				continue;
			if (free_and_strdup(&v.verdict, "own") < 0 || free_and_strdup(&v.action, "none") < 0 ||
			    free_and_strdup(&v.volume_id, entries[i].volume_id) < 0 ||
			    free_and_strdup(&v.mountpoint, entries[i].mountpoint) < 0 ||
			    free_and_strdup(&v.result, "not mounted") < 0)
				r = -ENOMEM;
		} else
			r = umount_one(&entries[i], &mi, dry_run, &v);
		if (r == -ENOMEM || add_report(&reports, &n, &v) < 0) {
			volume_report_done(&v);
			fstab_entries_free(entries, n_entries);
			storage_reports_free(reports, n);
			return log_error_errno(-ENOMEM, "Out of memory");
		}
		if (r < 0)
			ret = r;
	}
	fstab_entries_free(entries, n_entries);

	/* Named devices without any vagent mount: their verdict, and whether they can go. */
	for (size_t i = 0; devices && devices[i]; i++) {
		_cleanup_(probe_result_done) struct probe_result pr = { .excl_fd = -1 };
		_cleanup_free_ char *why = NULL;
		struct volume_report v = {};
		bool seen = false;

		for (size_t k = 0; k < n && !seen; k++) {
			_cleanup_free_ char *disk = NULL;
			seen = reports[k].device && whole_disk_of(reports[k].device, &disk) >= 0 &&
			       streq(disk, devices[i]);
		}
		if (seen)
			continue;
		r = probe_device(devices[i], true, cfg,
				 &(struct probe_options){ .root = root, .no_scan = true }, &pr);
		if (r >= 0) {
			pr.excl_fd = safe_close(pr.excl_fd); /* let go of the probe's claim first */
			r = device_safe_to_detach(devices[i], &why);
		}
		if (free_and_strdup(&v.device, devices[i]) < 0 ||
		    free_and_strdup(&v.verdict, verdict_to_string(pr.verdict)) < 0 ||
		    free_and_strdup(&v.reason, pr.reason) < 0 || free_and_strdup(&v.action, "none") < 0 ||
		    (r > 0 && free_and_strdup(&v.result, "not mounted by vagent, safe to detach") < 0) ||
		    (r == 0 && message_set(&v.result, 0, "not mounted by vagent, not safe to detach: %s",
				       why) < 0) ||
		    (r < 0 && free_and_strdup(&v.result, "failed") < 0) || add_report(&reports, &n, &v) < 0) {
			volume_report_done(&v);
			storage_reports_free(reports, n);
			return log_error_errno(-ENOMEM, "Out of memory");
		}
		if (r < 0)
			ret = r;
	}

	*ret_reports = reports;
	*ret_n = n;
	return ret;
}
