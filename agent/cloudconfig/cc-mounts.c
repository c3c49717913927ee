/* SPDX-License-Identifier: MIT */
/*
 * cc-mounts.c: cloud-init's cc_mounts (`mounts`, `mount_default_fields`, `swap`) as extra lines
 * of ROOT/etc/fstab, each marked with the X-vagent.cloud-config option (mount(8) ignores X-
 * options; cloud-init marks its own with comment=cloudconfig) so vagent finds and replaces its own
 * lines and never touches another byte of the file. The storage step's X-vagent.volume= lines
 * are never removed or altered, and an entry naming a volume's mount point or device is refused.
 *
 * Each entry as cloud-init reads it: fields missing or null take `mount_default_fields`
 * (default: auto, DEFAULT_OPTIONS, 0, 2); a short name (cloud-init's DEVICE_NAME_FILTER, "vdb",
 * "sdc", "sr0", and vagent's "nvme1n1") gets /dev/; a disk with a first partition becomes that
 * partition ("vdb" -> /dev/vdb1, "/dev/vdb.2" -> /dev/vdb2); other names (tmpfs, LABEL=, UUID=,
 * server:/path) stay as written; an entry whose mount point is null removes every earlier entry of
 * that device (and writes none); device and mount point are octal-escaped (\040). Devices are this
 * machine's, also under --root (as for the storage step). Mount points are created inside ROOT;
 * on the running system new lines are mounted and swap lines activated at once; under --root
 * those commands are recorded, not run (cc_system_command).
 *
 * Where vagent differs on purpose (cloud-init writes an unusable or duplicate line): a short
 * name of a disk this machine does not have is written /dev/NAME, not the bare name; a device
 * that already has a line that is not vagent's is left alone (cloud-init adds a second line);
 * the cloud's own names (ephemeral0, swap, ami, root, ebsN) have no device on Vultr and are
 * refused; the swap file's line is marked too (cloud-init's is not, so a new instance adds a
 * second one); an existing file at the swap path is used only when it is a swap file already,
 * never overwritten.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/fstab.h"
#include "base/log.h"
#include "cloudconfig/cc-modules.h"
#include "base/util.h"

#define MARK "X-vagent.cloud-config"
/* cloud-init: "defaults,nofail,x-systemd.after=cloud-init-network.service,_netdev" on systemd
 * systems. vagent-userdata.service applies the cloud-config: at later boots the mount waits
 * for it as cloud-init's waits for its own stage (_netdev, as there: that unit runs after the
 * network is up). */
#define DEFAULT_OPTIONS "defaults,nofail,x-systemd.after=vagent-userdata.service,_netdev"
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define BTRFS_MAGIC 0x9123683EL

static bool line_is_ours(const char *line, size_t len)
{
	size_t i = 0, field = 0;

	while (i < len) {
		size_t s;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i < len && field == 0 && line[i] == '#')
			return false;
		s = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (i > s && field == 3) {
			for (size_t o = s; o < i;) {
				size_t e = o;
				while (e < i && line[e] != ',')
					e++;
				if (e - o == strlen(MARK) && memcmp(line + o, MARK, e - o) == 0)
					return true;
				o = e + 1;
			}
			return false;
		}
		if (i > s)
			field++;
	}
	return false;
}

/* The first field (unescaped) of every line that is neither a comment nor vagent's. */
static int foreign_specs(const char *text, size_t len, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t llen = nl ? (size_t)(nl - (text + i)) : len - i, s = 0, e;
		const char *line = text + i;

		i += llen + (nl ? 1 : 0);
		while (s < llen && (line[s] == ' ' || line[s] == '\t'))
			s++;
		if (s == llen || line[s] == '#' || line_is_ours(line, llen) ||
		    memmem(line, llen, "X-vagent.", strlen("X-vagent.")))
			continue;
		for (e = s; e < llen && line[e] != ' ' && line[e] != '\t';)
			e++;
		if (strv_push(&l, fstab_unescape(line + s, e - s)) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* cloud-init's DEVICE_NAME_FILTER ^([x]{0,1}[shv]d[a-z][0-9]*|sr[0-9]+)$, and nvme1n1 (which
 * cloud-init leaves bare, so no mount could use it). */
static bool short_name(const char *s)
{
	const char *p = s;

	if (p[0] == 's' && p[1] == 'r' && p[2]) {
		for (p += 2; *p; p++)
			if (*p < '0' || *p > '9')
				return false;
		return true;
	}
	if (startswith(s, "nvme")) {
		p = s + 4;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != 'n' || *p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		return !*p;
	}
	if (*p == 'x')
		p++;
	if (!strchr("shv", *p) || !*p || p[1] != 'd' || p[2] < 'a' || p[2] > 'z')
		return false;
	for (p += 3; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* cloud-init's is_meta_device_name(): names its datasources map to disks. */
static bool meta_name(const char *s)
{
	return streq(s, "ami") || streq(s, "root") || streq(s, "swap") ||
	       ((startswith(s, "ephemeral") || startswith(s, "ebs")) && !strchr(s, ':'));
}

static bool sys_block_has(const char *disk, const char *part)
{
	_cleanup_free_ char *p = NULL;
	struct stat st;

	if (asprintf(&p, "/sys/block/%s%s%s", disk, part ? "/" : "", part ? part : "") < 0)
		return false;
	return stat(p, &st) == 0;
}

/* DEV is a disk of this machine (/sys/block/NAME): its partition NUM (DEV+NUM, DEV+"p"+NUM,
 * DEV+"-part"+NUM, as cloud-init tries them, each checked to be that disk's partition), else
 * NULL with *RET_DISK telling whether DEV is a disk at all. */
static char *partition_of(const char *dev, const char *num, bool *ret_disk)
{
	static const char *const suffix[] = { "", "p", "-part" };
	_cleanup_free_ char *real = realpath(dev, NULL);
	const char *disk;

	*ret_disk = false;
	if (!real)
		return NULL;
	disk = strrchr(real, '/') + 1;
	if (!sys_block_has(disk, NULL))
		return NULL;
	*ret_disk = true;
	for (size_t i = 0; i < ARRAY_SIZE(suffix); i++) {
		_cleanup_free_ char *cand = NULL, *rp = NULL;

		if (asprintf(&cand, "%s%s%s", dev, suffix[i], num) < 0)
			return NULL;
		rp = realpath(cand, NULL);
		if (rp && sys_block_has(disk, strrchr(rp, '/') + 1))
			return TAKE_PTR(cand);
	}
	return NULL;
}

/*
 * cloud-init's sanitize_devname() for NAME: *RET the fstab spec (malloc'd), *RET_BLOCK whether
 * it is a block device of this machine. -EINVAL (and *RET_WHY) for a name vagent cannot use.
 */
static int device_spec(const char *name, char **ret, bool *ret_block, const char **ret_why)
{
	_cleanup_free_ char *base = NULL, *path = NULL;
	const char *num = NULL, *dot;
	bool disk;
	char *part;

	*ret_block = false;
	if (streq(name, "ephemeral"))
		name = "ephemeral0";
	if (strchr(name + (name[0] ? 1 : 0), ':')) { /* server:/path */
		*ret = strdup(name);
		return *ret ? 0 : -ENOMEM;
	}
	base = strdup(name);
	if (!base)
		return -ENOMEM;
	dot = strrchr(name, '.');
	if (dot) { /* cloud-init's expand_dotted_devname(): "/dev/vdb.2" is partition 2 */
		base[dot - name] = 0;
		num = dot + 1;
	}
	if (meta_name(base)) {
		*ret_why = "is a cloud's name for an instance-store or swap disk; Vultr's metadata "
			   "maps no such name to a device";
		return -EINVAL;
	}
	if (short_name(name)) {
		if (asprintf(&path, "/dev/%s", base) < 0)
			return -ENOMEM;
	} else if (base[0] == '/') {
		path = strdup(base);
		if (!path)
			return -ENOMEM;
	} else {
		/* tmpfs, LABEL=, UUID=, PARTUUID=, none: as written */
		*ret = strdup(name);
		return *ret ? 0 : -ENOMEM;
	}
	part = partition_of(path, num ? num : "1", &disk);
	if (part) {
		*ret_block = true;
		*ret = part;
		return 0;
	}
	if (disk && !num) {
		*ret_block = true;
		*ret = TAKE_PTR(path);
		return 0;
	}
	/* Not a disk here (not attached yet, or a file): "vdb" is /dev/vdb, a path as written. */
	*ret = short_name(name) && !num ? TAKE_PTR(path) : strdup(name);
	return *ret ? 0 : -ENOMEM;
}

static bool same_device(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && S_ISBLK(sa.st_mode) &&
	       S_ISBLK(sb.st_mode) && sa.st_rdev == sb.st_rdev;
}

/* A storage volume's line names MP or SPEC (or SPEC's device). */
static const char *volume_conflict(const struct fstab_entry *vol, size_t n, const char *spec,
				   bool block, const char *mp)
{
	for (size_t i = 0; i < n; i++) {
		if (streq(vol[i].mountpoint, mp) || streq(vol[i].spec, spec))
			return vol[i].volume_id;
		if (block && startswith(vol[i].spec, "UUID=")) {
			_cleanup_free_ char *p = NULL;
			if (asprintf(&p, "/dev/disk/by-uuid/%s", vol[i].spec + 5) >= 0 &&
			    same_device(p, spec))
				return vol[i].volume_id;
		}
	}
	return NULL;
}

static bool field_ok(const char *s)
{
	return *s && !strpbrk(s, " \t") && !string_has_control(s, strlen(s), false);
}

struct plan {
	const struct cc_run *c;
	const struct cloud_config *cc;
	const char *swap_file; /* the swap file's line goes last; NULL: none */
	char **lines;	       /* out */
	char **mountpoints;    /* absolute mount points of LINES */
	char **swaps;	       /* the specs of LINES of type swap */
	size_t written, refused, removed;
	size_t dropped; /* entries the reader dropped (not a list of 1-6 strings) */
};

struct entry {
	char *spec;
	const char *f[6];
	const char *why; /* the device cannot be used: why */
	bool block;
	bool drop;
};

/* Entry I's fields with the defaults: 0 and E, or -EINVAL (refused: said why). */
static int entry_fields(const struct plan *p, size_t i, struct entry *e)
{
	static const char *const hard[6] = { NULL, NULL, "auto", DEFAULT_OPTIONS, "0", "2" };
	const struct cc_mount *m = &p->cc->mounts[i];
	const char *const *def = p->cc->has[CC_MOUNT_DEFAULT_FIELDS] ?
					 (const char *const *)p->cc->mount_default_fields : hard;
	const char *why = NULL;
	int r;

	for (size_t j = 0; j < 6; j++)
		e->f[j] = j < m->n_fields && m->field[j] ? m->field[j] : def[j];
	if (!e->f[0]) {
		log_warning("cloud-config mounts[%zu]: no device, ignoring.", i);
		return -EINVAL;
	}
	r = device_spec(e->f[0], &e->spec, &e->block, &why);
	if (r == -EINVAL) { /* refused when it is to be written: a later [name, null] drops it */
		e->why = why;
		e->spec = strdup(e->f[0]);
		return e->spec ? 0 : -ENOMEM;
	}
	return r;
}

/* The fstab line of E (entry I), or NULL (refused: said why). */
static char *entry_line(struct plan *p, size_t i, const struct entry *e, char *const *foreign,
			const struct fstab_entry *vol, size_t n_vol, int *ret)
{
	_cleanup_free_ char *spec = NULL, *mp = NULL;
	const char *vid;
	char *line;

	*ret = 0;
	if (e->why) {
		log_warning("cloud-config mounts[%zu]: the device %s, ignoring.", i, e->why);
		return NULL;
	}
	for (size_t j = 0; j < 6; j++) {
		bool ok = j < 2 ? *e->f[j] && !string_has_control(e->f[j], strlen(e->f[j]), true) :
				  field_ok(e->f[j]);
		if (j < 2 && strchr(e->f[j], '\n'))
			ok = false;
		if (!ok) {
			log_warning("cloud-config mounts[%zu]: field %zu is empty or has a %s "
				    "character, ignoring.", i, j + 1, j < 2 ? "control" :
				    "blank or control");
			return NULL;
		}
	}
	if (e->spec[0] == '#') {
		log_warning("cloud-config mounts[%zu]: the device begins with '#', ignoring.", i);
		return NULL;
	}
	if (e->f[1][0] != '/' && !streq(e->f[1], "none") && !streq(e->f[1], "swap")) {
		log_warning("cloud-config mounts[%zu]: the mount point is not an absolute path, "
			    "ignoring.", i);
		return NULL;
	}
	if (e->f[1][0] == '/' && path_has_dotdot(e->f[1])) {
		log_warning("cloud-config mounts[%zu]: the mount point has a '..' component, "
			    "ignoring.", i);
		return NULL;
	}
	/* X-vagent.* options mark vagent's own lines (storage volumes, these lines): never the
	 * user's to set, or `vagent umount` would take a user's mount for a volume. */
	if (strcasestr(e->f[3], "x-vagent.")) {
		log_warning("cloud-config mounts[%zu]: options may not carry X-vagent.* (vagent's "
			    "own marks), ignoring.", i);
		return NULL;
	}
	vid = volume_conflict(vol, n_vol, e->spec, e->block, e->f[1]);
	if (vid) {
		log_warning("cloud-config mounts[%zu]: '%s' on '%s' would change the storage "
			    "volume '%s' (vagent's own line), ignoring.", i, e->spec, e->f[1], vid);
		return NULL;
	}
	if (e->block && strv_contains(foreign, e->spec)) {
		log_warning("cloud-config mounts[%zu]: '%s' already has a line in %s that is not "
			    "vagent's; left as it is, ignoring.", i, e->spec, FSTAB_PATH);
		return NULL;
	}
	spec = fstab_escape(e->spec);
	mp = fstab_escape(e->f[1]);
	if (!spec || !mp || asprintf(&line, "%s\t%s\t%s\t%s," MARK "\t%s\t%s", spec, mp, e->f[2],
				     e->f[3], e->f[4], e->f[5]) < 0) {
		*ret = -ENOMEM;
		return NULL;
	}
	return line;
}

static int plan_lines(struct plan *p, const char *old, size_t old_len)
{
	_cleanup_strv_free_ char **foreign = NULL;
	struct fstab_entry *vol = NULL;
	struct entry *e = NULL;
	size_t n = p->cc->n_mounts, n_vol = 0;
	int r;

	r = foreign_specs(old, old_len, &foreign);
	if (r >= 0)
		r = fstab_parse_vagent(old, old_len, &vol, &n_vol);
	if (r < 0)
		return log_error_errno(r, "Out of memory.");
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (p->cc->mounts[i].n_fields == 0) { /* the reader dropped it (and said why) */
			e[i].drop = true;
			p->dropped++;
			continue;
		}
		r = entry_fields(p, i, &e[i]);
		if (r == -ENOMEM)
			goto out;
		if (r < 0) {
			e[i].drop = true;
			p->refused++;
		}
	}
	/* cloud-init's remove_nonexistent_devices(): a null mount point drops the entry and every
	 * earlier entry of the same device. */
	for (size_t i = n; i-- > 0;) {
		if (e[i].drop || e[i].f[1])
			continue;
		e[i].drop = true;
		for (size_t j = 0; j < i; j++)
			if (!e[j].drop && streq(e[j].spec, e[i].spec)) {
				e[j].drop = true;
				p->removed++;
			}
	}
	r = 0;
	for (size_t i = 0; i < n; i++) {
		char *line;

		if (e[i].drop)
			continue;
		line = entry_line(p, i, &e[i], foreign, vol, n_vol, &r);
		if (r < 0)
			goto out;
		if (!line) {
			p->refused++;
			continue;
		}
		if (strv_push(&p->lines, line) < 0 ||
		    (e[i].f[1][0] == '/' && strv_push(&p->mountpoints, strdup(e[i].f[1])) < 0) ||
		    (streq(e[i].f[2], "swap") && strv_push(&p->swaps, strdup(e[i].spec)) < 0)) {
			r = -ENOMEM;
			goto out;
		}
		p->written++;
	}
	if (p->swap_file) {
		_cleanup_free_ char *esc = fstab_escape(p->swap_file);
		char *line;

		/* cloud-init: [filename, "none", "swap", "sw", "0", "0"] */
		if (!esc || asprintf(&line, "%s\tnone\tswap\tsw," MARK "\t0\t0", esc) < 0 ||
		    strv_push(&p->lines, line) < 0 || strv_push(&p->swaps, strdup(p->swap_file)) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
out:
	for (size_t i = 0; e && i < n; i++)
		free(e[i].spec);
	free(e);
	fstab_entries_free(vol, n_vol);
	return r < 0 ? log_error_errno(r, "Out of memory.") : 0;
}

/* Every byte that is not one of our lines stays; our lines go to the end, in order. */
static int mounts_edit(const char *old, size_t old_len, void *userdata, char **ret_new)
{
	struct plan *p = userdata;
	_cleanup_free_ char *new = NULL;
	size_t new_len = 0;
	FILE *f;
	int r;

	r = plan_lines(p, old, old_len);
	if (r < 0)
		return r;
	f = open_memstream(&new, &new_len);
	if (!f)
		return log_error_errno(-ENOMEM, "Out of memory.");
	for (size_t i = 0; i < old_len;) {
		const char *nl = memchr(old + i, '\n', old_len - i);
		size_t llen = nl ? (size_t)(nl - (old + i)) : old_len - i;

		if (!line_is_ours(old + i, llen)) {
			fwrite(old + i, 1, llen, f);
			if (nl || p->lines)
				fputc('\n', f);
		}
		i += llen + (nl ? 1 : 0);
	}
	for (size_t i = 0; p->lines && p->lines[i]; i++)
		fprintf(f, "%s\n", p->lines[i]);
	if (fclose(f) != 0)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (new_len == old_len && memcmp(new, old, new_len) == 0)
		return 0;
	*ret_new = TAKE_PTR(new);
	return 1;
}

/* --- swap ----------------------------------------------------------------------------------- */

/* cloud-init's suggested_swapsize(): MEM bytes of memory, MAXSIZE (0: none), AVAIL free bytes
 * of the file system that holds the file. */
uint64_t cc_suggested_swapsize(uint64_t mem, uint64_t maxsize, uint64_t avail)
{
	uint64_t max, min;

	if (maxsize == 0)
		max = avail / 4 < mem * 2 ? avail / 4 : mem * 2; /* 25 % of the space */
	else if ((double)maxsize > (double)avail * 0.9)
		max = (uint64_t)((double)avail * 0.9);
	else
		max = maxsize;
	if (mem < 4 * GiB)
		min = mem;
	else if (mem < 16 * GiB)
		min = 4 * GiB;
	else {
		/* round(sqrt(mem in GiB)) GiB, without libm */
		double x = (double)mem / (double)GiB;
		uint64_t k = 1;
		while (((double)k + 0.5) * ((double)k + 0.5) <= x)
			k++;
		min = k * GiB;
	}
	return min < max ? min : max;
}

static int read_memtotal(uint64_t *ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kb;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
			*ret = (uint64_t)kb * 1024;
			return 0;
		}
	return -ENODATA;
}

/* The file at FD starts with a swap signature (mkswap's "SWAPSPACE2" at the page's end). */
static bool is_swap_file(int fd)
{
	static const size_t pages[] = { 4096, 8192, 16384, 65536 };
	char sig[10];

	for (size_t i = 0; i < ARRAY_SIZE(pages); i++)
		if (pread(fd, sig, sizeof(sig), (off_t)(pages[i] - sizeof(sig))) == sizeof(sig) &&
		    (memcmp(sig, "SWAPSPACE2", 10) == 0 || memcmp(sig, "SWAP-SPACE", 10) == 0))
			return true;
	return false;
}

static bool swap_active(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/swaps", "re");
	_cleanup_free_ char *real = realpath(path, NULL);
	char line[PATH_MAX + 128];

	while (f && fgets(line, sizeof(line), f)) {
		char *sp = strpbrk(line, " \t");
		if (sp)
			*sp = 0;
		if (streq(line, path) || (real && streq(line, real)))
			return true;
	}
	return false;
}

/* Write SIZE bytes of zeros (dd's way, when the file system cannot allocate). */
static int write_zeros(int fd, uint64_t size)
{
	static const char zero[65536];

	for (uint64_t done = 0; done < size;) {
		size_t n = size - done < sizeof(zero) ? (size_t)(size - done) : sizeof(zero);
		ssize_t k = pwrite(fd, zero, n, (off_t)done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		done += (uint64_t)k;
	}
	return 0;
}

/*
 * swap: the file ready (created and mkswap'd, or already a swap file): 1 and *RET_FILE (its
 * path, for the fstab line), 0 nothing to do, <0 refused or failed (said why). The key's
 * status is set here.
 */
static int swap_prepare(const struct cc_run *c, const struct cc_swap *s, const char **ret_file)
{
	_cleanup_free_ char *name = NULL, *host_path = NULL;
	_cleanup_close_ int dfd = -1, fd = -1;
	uint64_t size = s->size, mib;
	struct statfs sfs;
	struct stat st;
	int r;

	*ret_file = NULL;
	if (!s->filename || (!s->size_auto && s->size == 0)) {
		cc_key_set(c, CC_SWAP, KEY_IGNORED, "no size: no swap file (as in cloud-init)");
		return 0;
	}
	host_path = path_join_root(c->root, s->filename);
	if (!host_path)
		return log_error_errno(-ENOMEM, "Out of memory.");
	dfd = path_open_parent(c->root, s->filename, !c->dry_run, &name);
	if (dfd < 0 && !(c->dry_run && dfd == -ENOENT)) {
		log_warning_errno(dfd, "cloud-config swap: cannot open the directory of '%s' (a "
				       "symlink is refused): %m", s->filename);
		cc_key_set(c, CC_SWAP, KEY_ERROR, "the directory of %s cannot be opened",
			   s->filename);
		return -EINVAL;
	}
	if (dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Never overwrite a file: cloud-init recreates one that is not in /proc/swaps. */
		fd = S_ISREG(st.st_mode) ? openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
		if (fd < 0 || !is_swap_file(fd)) {
			log_warning("cloud-config swap: '%s' exists and is not a swap file; vagent "
				    "never overwrites a file, no swap file set up.", s->filename);
			cc_key_set(c, CC_SWAP, KEY_ERROR, "%s exists and is not a swap file (never "
				   "overwritten)", s->filename);
			return -EEXIST;
		}
		cc_plan(c, "%-20s %s is a swap file already: used as it is", "swap", s->filename);
		log_info("cloud-config swap: '%s' is a swap file already, used as it is.",
			 s->filename);
		cc_key_set(c, CC_SWAP, KEY_APPLIED, "%s is a swap file already", s->filename);
		*ret_file = s->filename;
		return 1;
	}
	if (s->size_auto) {
		uint64_t mem = 0;
		struct statvfs sv;

		r = read_memtotal(&mem);
		if (r < 0) { /* cloud-init: "Not creating swap: failed to read meminfo" */
			cc_key_set(c, CC_SWAP, KEY_ERROR, "size auto: /proc/meminfo unreadable");
			return log_warning_errno(r, "cloud-config swap: cannot read /proc/meminfo: "
						    "%m, no swap file.");
		}
		if (dfd < 0 || fstatvfs(dfd, &sv) < 0) {
			cc_plan(c, "%-20s would create %s (size auto: from this machine's memory and "
				"free space)", "swap", s->filename);
			cc_key_set(c, CC_SWAP, KEY_APPLIED, "would create %s (size auto)",
				   s->filename);
			*ret_file = s->filename;
			return 1;
		}
		size = cc_suggested_swapsize(mem, s->maxsize,
					     (uint64_t)sv.f_frsize * (uint64_t)sv.f_bfree);
	}
	mib = size / MiB;
	if (mib == 0) {
		cc_key_set(c, CC_SWAP, KEY_ERROR, "a size below 1 MiB: no swap file");
		log_warning("cloud-config swap: the size is below 1 MiB, no swap file.");
		return -EINVAL;
	}
	if (c->dry_run) {
		cc_plan(c, "%-20s would create %s of %" PRIu64 " MiB (mode 0600, mkswap) and swapon "
			"it", "swap", s->filename, mib);
		cc_key_set(c, CC_SWAP, KEY_APPLIED, "would create %s of %" PRIu64 " MiB",
			   s->filename, mib);
		*ret_file = s->filename;
		return 1;
	}
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto fail_open;
	}
	/* btrfs: no copy-on-write before any data (cloud-init: truncate + chattr +C). */
	if (fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == (unsigned long)BTRFS_MAGIC) {
		int fl = 0;
		if (ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0) {
			fl |= FS_NOCOW_FL;
			(void)ioctl(fd, FS_IOC_SETFLAGS, &fl);
		}
	}
	r = fchmod(fd, 0600) < 0 ? -errno : 0;
	if (r >= 0) {
		r = -posix_fallocate(fd, 0, (off_t)(mib * MiB));
		if (r == -EOPNOTSUPP || r == -EINVAL) /* cloud-init falls back to dd */
			r = write_zeros(fd, mib * MiB);
	}
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0) {
		char *argv[] = { "mkswap", host_path, NULL };
		r = cc_spawn(c, "mkswap", argv, NULL);
	}
	if (r < 0) {
		(void)unlinkat(dfd, name, 0);
		goto fail;
	}
	log_notice("cloud-config swap: '%s' of %" PRIu64 " MiB created.", s->filename, mib);
	cc_key_set(c, CC_SWAP, KEY_APPLIED, "%s of %" PRIu64 " MiB created", s->filename, mib);
	*ret_file = s->filename;
	return 1;
fail_open:
	log_warning_errno(r, "cloud-config swap: cannot create '%s': %m", s->filename);
	cc_key_set(c, CC_SWAP, KEY_ERROR, "%s cannot be created", s->filename);
	return r;
fail:
	log_warning_errno(r, "cloud-config swap: setting up '%s' failed: %m; removed.",
			  s->filename);
	cc_key_set(c, CC_SWAP, KEY_ERROR, "setting up %s failed (removed)", s->filename);
	return r;
}

/* --- the module ----------------------------------------------------------------------------- */

int cc_mounts(const struct cc_run *c, const struct cloud_config *cc)
{
	struct plan p = { .c = c, .cc = cc };
	bool want_fstab = cc->has[CC_MOUNTS];
	int r, rs = 0;
	size_t n;

	if (cc->has[CC_MOUNT_DEFAULT_FIELDS] && (!cc->has[CC_MOUNTS] || cc->n_mounts == 0))
		cc_key_set(c, CC_MOUNT_DEFAULT_FIELDS, KEY_IGNORED, "no mounts entries to fill");
	if (cc->has[CC_SWAP]) {
		rs = swap_prepare(c, &cc->swap, &p.swap_file);
		if (rs == -ENOMEM)
			return rs;
		want_fstab = want_fstab || p.swap_file;
	}
	if (!want_fstab)
		return rs < 0 ? rs : 0;

	r = fstab_edit(c->root, mounts_edit, &p, true, c->dry_run);
	if (r < 0)
		goto out;
	n = strv_length(p.lines);
	if (cc->has[CC_MOUNTS]) {
		size_t all = p.written + p.refused + p.dropped;
		const char *verb = c->dry_run ? "would be written" : "written";

		if ((p.refused || p.dropped) && p.written)
			cc_key_set(c, CC_MOUNTS, KEY_PARTIAL, "%zu of %zu entries %s", p.written,
				   all, verb);
		else if (p.refused || p.dropped)
			cc_key_set(c, CC_MOUNTS, KEY_ERROR, "none of %zu entries %s", all, verb);
		else
			cc_key_set(c, CC_MOUNTS, KEY_APPLIED, "%zu fstab line%s %s%s", p.written,
				   p.written == 1 ? "" : "s", verb,
				   p.removed ? " (entries removed by a null mount point)" : "");
	}
	if (r == 0) {
		cc_plan(c, "%-20s %zu fstab line%s, unchanged", "mounts", n, n == 1 ? "" : "s");
		goto out;
	}
	if (c->dry_run) {
		cc_plan(c, "%-20s would write %zu fstab line%s marked %s to %s", "mounts", n,
			n == 1 ? "" : "s", MARK, FSTAB_PATH);
		goto out;
	}
	log_notice("cloud-config mounts: %zu line%s marked %s in '%s'.", n, n == 1 ? "" : "s",
		   MARK, FSTAB_PATH);

	for (size_t i = 0; p.mountpoints && p.mountpoints[i]; i++) {
		_cleanup_close_ int mfd = path_open_dir(c->root, p.mountpoints[i], true, 0755);
		if (mfd < 0)
			log_warning_errno(mfd, "cloud-config mounts: cannot create the mount point "
					       "'%s' (a symlink is refused): %m, ignoring.",
					  p.mountpoints[i]);
	}
	/* cloud-init: swapon -a, mount -a, systemctl daemon-reload. Here only vagent's lines;
	 * under --root they are recorded, not run (the image's fstab is read at its boot). */
	for (size_t i = 0; p.swaps && p.swaps[i]; i++) {
		char *argv[] = { "swapon", p.swaps[i], NULL };
		if (root_is_host(c->root) && p.swaps[i][0] == '/' && swap_active(p.swaps[i]))
			continue;
		if (cc_system_command(c, "swap", argv, NULL) < 0)
			log_warning("cloud-config mounts: swap '%s' is not active now, ignoring.",
				    p.swaps[i]);
	}
	for (size_t i = 0; p.mountpoints && p.mountpoints[i]; i++) {
		char *argv[] = { "mount", p.mountpoints[i], NULL };
		if (cc_system_command(c, "mounts", argv, NULL) < 0)
			log_warning("cloud-config mounts: '%s' is not mounted now, ignoring.",
				    p.mountpoints[i]);
	}
	if (cc_systemd_running(c)) {
		char *argv[] = { "systemctl", "daemon-reload", NULL };
		(void)cc_system_command(c, "mounts", argv, NULL);
	}
	r = 1;
out:
	strv_free(p.lines);
	strv_free(p.mountpoints);
	strv_free(p.swaps);
	if (r < 0)
		return r;
	/* Refused entries fail the module (as a failed file does); entries the reader dropped
	 * only make the key partial, as cloud-init warns and goes on. */
	return p.refused || rs < 0 ? -EINVAL : r;
}
