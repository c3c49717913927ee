/* SPDX-License-Identifier: MIT */
/*
 * blockdev.c: block device facts from sysfs and procfs: identity of a device node, its
 * partitions (as sysfs children, never by name arithmetic), holders, mounts, swaps, the whole
 * disks behind the running system, and automatic candidates (by platform kind, or the
 * configured globs over kernel and /dev/disk/by-id names). Only reads; includes no external
 * library (libblkid belongs to probe.c). Sysfs paths go through blockdev_set_sysfs_root() so the
 * naming logic can be tested on a fake tree.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "storage/blockdev.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "base/util.h"

#define SYSFS_DEFAULT "/sys"
#define MAX_STACK_DEPTH 16

static const char *sysfs_root = SYSFS_DEFAULT;

void blockdev_set_sysfs_root(const char *root)
{
	sysfs_root = root ? root : SYSFS_DEFAULT;
}

const char *blockdev_get_sysfs_root(void)
{
	return sysfs_root;
}

static char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
static char *strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

/* Read DIR/ATTR (a small sysfs file), strip surrounding whitespace. -ENOENT when missing. */
static int read_attr(const char *dir, const char *attr, char **ret)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int fd = -1;
	char buf[4096];
	ssize_t n;
	char *s, *e;

	p = strdup_printf("%s/%s", dir, attr);
	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return negative_errno();
	buf[n] = 0;
	for (s = buf; *s && isspace((unsigned char)*s); s++)
		;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	*e = 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int read_attr_u64(const char *dir, const char *attr, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	unsigned long long v;
	char *end;
	int r;

	r = read_attr(dir, attr, &s);
	if (r < 0)
		return r;
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int read_attr_devnum(const char *dir, const char *attr, dev_t *ret)
{
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	_cleanup_free_ char *s = NULL;
	unsigned ma, mi;
	int r, n = 0;

	r = read_attr(dir, attr, &s);
	if (r < 0)
		return r;
	if (sscanf(s, "%u:%u%n", &ma, &mi, &n) != 2 || s[n] != 0)
		return -EINVAL;
	*ret = makedev(ma, mi);
	return 0;
}

static bool attr_exists(const char *dir, const char *attr)
{
	_cleanup_free_ char *p = strdup_printf("%s/%s", dir, attr);

	return p && access(p, F_OK) == 0;
}

/* Resolved sysfs directory of DEVNUM ("<root>/dev/block/M:m"). */
static int sysfs_dir_of(dev_t devnum, char **ret)
{
	_cleanup_free_ char *p = NULL;
	char *r;

	p = strdup_printf("%s/dev/block/%u:%u", sysfs_root, major(devnum), minor(devnum));
	if (!p)
		return -ENOMEM;
	r = realpath(p, NULL);
	if (!r)
		return negative_errno();
	*ret = r;
	return 0;
}

int blockdev_load(const char *path, struct blockdev *ret)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	_cleanup_free_ char *rp = NULL, *sp = NULL, *serial = NULL;
	struct blockdev b = {};
	uint64_t v;
	struct stat st;
	char *slash;
	int r;

	rp = realpath(path, NULL);
	if (!rp)
		return negative_errno();
	if (stat(rp, &st) < 0)
		return negative_errno();
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;

	r = sysfs_dir_of(st.st_rdev, &sp);
	if (r < 0)
		return log_debug_errno(r, "No sysfs directory for \"%s\": %m", rp);

	b.devnum = st.st_rdev;
	r = read_attr_u64(sp, "partition", &v);
	if (r == -ENOENT)
		b.whole = true;
	else if (r < 0)
		return r;
	else
		b.partno = (unsigned)v;

	r = read_attr_u64(sp, "size", &v);
	if (r < 0)
		return log_debug_errno(r, "Failed to read size of \"%s\": %m", rp);
	if (v > UINT64_MAX / 512)
		return -EOVERFLOW;
	b.size_bytes = v * 512;

	r = read_attr_u64(sp, "ro", &v);
	if (r < 0)
		return r;
	b.ro = v != 0;

	/* Partitions carry no `removable`; it is a property of the disk. */
	r = read_attr_u64(sp, "removable", &v);
	if (r >= 0)
		b.removable = v != 0;
	else if (r != -ENOENT)
		return r;

	if (read_attr_u64(sp, "diskseq", &v) >= 0)
		b.diskseq = v;

	if (read_attr(sp, "serial", &serial) < 0 && read_attr(sp, "device/serial", &serial) < 0)
		serial = NULL;
	if (serial && !serial[0])
		serial = (free(serial), NULL);

	slash = strrchr(sp, '/');
	b.name = strdup(slash ? slash + 1 : sp);
	if (!b.name)
		return -ENOMEM;
	b.path = TAKE_PTR(rp);
	b.syspath = TAKE_PTR(sp);
	b.serial = TAKE_PTR(serial);
	*ret = b;
	return 0;
}

void blockdev_done(struct blockdev *b)
{
	free(b->path);
	free(b->name);
	free(b->syspath);
	free(b->serial);
	*b = (struct blockdev){};
}

struct child {
	char *name;
	unsigned partno;
};

static int child_cmp(const void *a, const void *b)
{
	const struct child *x = a, *y = b;

	return x->partno < y->partno ? -1 : x->partno > y->partno;
}

static void dir_closep(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Partitions below the disk directory DIR, sorted by number, as a NULL-terminated list. */
static int list_children(const char *dir, char ***ret)
{
	_cleanup_(dir_closep) DIR *d = NULL;
	struct child *c = NULL;
	size_t n = 0, i;
	struct dirent *de;
	char **l;
	int r = 0;

	d = opendir(dir);
	if (!d)
		return negative_errno();
	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		struct child *nc;
		uint64_t pn;

		if (de->d_name[0] == '.')
			continue;
		sub = strdup_printf("%s/%s", dir, de->d_name);
		if (!sub) {
			r = -ENOMEM;
			goto out;
		}
		if (read_attr_u64(sub, "partition", &pn) < 0)
			continue;
		nc = realloc(c, (n + 1) * sizeof(*c));
		if (!nc) {
			r = -ENOMEM;
			goto out;
		}
		c = nc;
		c[n].name = strdup(de->d_name);
		if (!c[n].name) {
			r = -ENOMEM;
			goto out;
		}
		c[n++].partno = (unsigned)pn;
	}
	if (errno != 0) {
		r = negative_errno();
		goto out;
	}
	if (n > 0)
		qsort(c, n, sizeof(*c), child_cmp);
	l = calloc(n + 1, sizeof(char *));
	if (!l) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		l[i] = TAKE_PTR(c[i].name);
	*ret = l;
out:
	for (i = 0; i < n; i++)
		free(c[i].name);
	free(c);
	return r;
}

int blockdev_list_partitions(const struct blockdev *b, char ***ret_names)
{
	if (!b->whole) {
		*ret_names = calloc(1, sizeof(char *));
		return *ret_names ? 0 : -ENOMEM;
	}
	return list_children(b->syspath, ret_names);
}

int blockdev_partition_path(const char *disk, unsigned n, char **ret_path)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_strv_free_ char **l = NULL;
	int r;

	if (!disk || !*disk || strchr(disk, '/') || streq(disk, "..") || n == 0)
		return -EINVAL;
	dir = strdup_printf("%s/block/%s", sysfs_root, disk);
	if (!dir)
		return -ENOMEM;
	r = list_children(dir, &l);
	if (r < 0)
		return r;
	for (char **i = l; *i; i++) {
		_cleanup_free_ char *sub = strdup_printf("%s/%s", dir, *i);
		uint64_t pn;

		if (!sub)
			return -ENOMEM;
		if (read_attr_u64(sub, "partition", &pn) < 0 || pn != n)
			continue;
		*ret_path = strdup_printf("/dev/%s", *i);
		return *ret_path ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

int blockdev_read_partition_u64(const struct blockdev *b, const char *child, const char *attr,
				uint64_t *ret)
{
	_cleanup_free_ char *sub = NULL;

	if (strchr(child, '/'))
		return -EINVAL;
	sub = strdup_printf("%s/%s", b->syspath, child);
	if (!sub)
		return -ENOMEM;
	return read_attr_u64(sub, attr, ret);
}

/* First entry of DIR/holders, or NULL. */
static int first_holder(const char *dir, char **ret)
{
	_cleanup_free_ char *p = strdup_printf("%s/holders", dir);
	_cleanup_(dir_closep) DIR *d = NULL;
	struct dirent *de;

	*ret = NULL;
	if (!p)
		return -ENOMEM;
	d = opendir(p);
	if (!d)
		return errno == ENOENT ? 0 : negative_errno();
	while ((errno = 0, de = readdir(d)))
		if (de->d_name[0] != '.') {
			*ret = strdup(de->d_name);
			return *ret ? 1 : -ENOMEM;
		}
	return errno ? negative_errno() : 0;
}

int blockdev_find_holder(const struct blockdev *b, char **ret_what)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_strv_free_ char **parts = NULL;
	_cleanup_free_ char *h = NULL;
	int r;

	r = first_holder(b->syspath, &h);
	if (r != 0) {
		if (r > 0)
			*ret_what = TAKE_PTR(h);
		return r;
	}
	r = blockdev_list_partitions(b, &parts);
	if (r < 0)
		return r;
	for (char **i = parts; *i; i++) {
		_cleanup_free_ char *sub = strdup_printf("%s/%s", b->syspath, *i);

		if (!sub)
			return -ENOMEM;
		r = first_holder(sub, &h);
		if (r < 0)
			return r;
		if (r > 0) {
			*ret_what = strdup_printf("%s: %s", *i, h);
			return *ret_what ? 1 : -ENOMEM;
		}
	}
	return 0;
}

int blockdev_devnums(const struct blockdev *b, dev_t **ret, char ***ret_names, size_t *ret_n)
{
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	_cleanup_strv_free_ char **parts = NULL, **names = NULL;
	_cleanup_free_ dev_t *v = NULL;
	size_t n = 0, np;
	int r;

	r = blockdev_list_partitions(b, &parts);
	if (r < 0)
		return r;
	for (np = 0; parts[np]; np++)
		;
	v = calloc(np + 1, sizeof(dev_t));
	names = calloc(np + 2, sizeof(char *));
	if (!v || !names)
		return -ENOMEM;
	v[0] = b->devnum;
	names[0] = strdup(b->name);
	if (!names[0])
		return -ENOMEM;
	n = 1;
	for (char **i = parts; *i; i++) {
		_cleanup_free_ char *sub = strdup_printf("%s/%s", b->syspath, *i);

		if (!sub)
			return -ENOMEM;
		r = read_attr_devnum(sub, "dev", &v[n]);
		if (r < 0)
			return r;
		names[n] = strdup(*i);
		if (!names[n])
			return -ENOMEM;
		n++;
	}
	*ret = TAKE_PTR(v);
	*ret_names = TAKE_PTR(names);
	*ret_n = n;
	return 0;
}

struct mounted {
	dev_t devnum;   /* from the major:minor field */
	dev_t source;   /* st_rdev of the source when it is a block device node, else 0 */
	char *target;
};

static void mount_entries_free(struct mounted *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].target);
	free(m);
}

static dev_t blk_rdev_of(const char *path)
{
	struct stat st;

	if (path[0] != '/' || stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return 0;
	return st.st_rdev;
}

struct mounted_list {
	struct mounted *m;
	size_t n;
};

static int collect_mount(const struct mount_entry *e, void *userdata)
{
	struct mounted_list *l = userdata;
	struct mounted *nm = realloc(l->m, (l->n + 1) * sizeof(*l->m));

	if (!nm)
		return -ENOMEM;
	l->m = nm;
	l->m[l->n] = (struct mounted){ .devnum = e->dev, .source = blk_rdev_of(e->source),
				       .target = strdup(e->path) };
	if (!l->m[l->n].target)
		return -ENOMEM;
	l->n++;
	return 0;
}

static int read_mountinfo(struct mounted **ret, size_t *ret_n)
{
	struct mounted_list l = {};
	int r = mountinfo_foreach(collect_mount, &l);

	if (r < 0) {
		mount_entries_free(l.m, l.n);
		return log_debug_errno(r, "Failed to read mountinfo: %m");
	}
	*ret = l.m;
	*ret_n = l.n;
	return 0;
}

int blockdev_find_mount(const struct blockdev *b, char **ret_what)
{
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ dev_t *devs = NULL;
	struct mounted *m = NULL;
	size_t nd, nm;
	int r;

	r = blockdev_devnums(b, &devs, &names, &nd);
	if (r < 0)
		return r;
	r = read_mountinfo(&m, &nm);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nm; i++)
		for (size_t j = 0; j < nd; j++) {
			if (m[i].devnum != devs[j] && m[i].source != devs[j])
				continue;
			if (j == 0)
				*ret_what = strdup_printf("mounted at %s", m[i].target);
			else
				*ret_what = strdup_printf("partition %s mounted at %s", names[j],
							  m[i].target);
			mount_entries_free(m, nm);
			return *ret_what ? 1 : -ENOMEM;
		}
	mount_entries_free(m, nm);
	return 0;
}

/* Filenames of active swaps (unescaped). */
static int read_swaps(char ***ret)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	_cleanup_strv_free_ char **l = NULL;
	size_t cap = 0, n = 0;
	bool first = true;

	f = fopen("/proc/swaps", "re");
	if (!f) {
		if (errno == ENOENT) {
			*ret = calloc(1, sizeof(char *));
			return *ret ? 0 : -ENOMEM;
		}
		return negative_errno();
	}
	l = calloc(1, sizeof(char *));
	if (!l)
		/* cppcheck-suppress resourceLeak ; _cleanup_ not modelled */
		return -ENOMEM;
	while (getline(&line, &cap, f) > 0) {
		char *sp, **nl;

		if (first) { /* header */
			first = false;
			continue;
		}
		sp = strpbrk(line, " \t\n");
		if (sp)
			*sp = 0;
		if (!line[0])
			continue;
		unescape_octal(line);
		nl = realloc(l, (n + 2) * sizeof(char *));
		if (!nl)
			return -ENOMEM;
		l = nl;
		l[n] = strdup(line);
		l[n + 1] = NULL;
		if (!l[n])
			return -ENOMEM;
		n++;
	}
	if (ferror(f))
		return -EIO;
	*ret = TAKE_PTR(l);
	return 0;
}

int blockdev_find_swap(const struct blockdev *b, char **ret_what)
{
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	_cleanup_strv_free_ char **names = NULL, **swaps = NULL;
	_cleanup_free_ dev_t *devs = NULL;
	size_t nd;
	int r;

	r = blockdev_devnums(b, &devs, &names, &nd);
	if (r < 0)
		return r;
	r = read_swaps(&swaps);
	if (r < 0)
		return r;
	for (char **s = swaps; *s; s++) {
		_cleanup_free_ char *rp = realpath(*s, NULL);
		dev_t d = rp ? blk_rdev_of(rp) : 0;

		if (d == 0)
			continue;
		for (size_t j = 0; j < nd; j++)
			if (d == devs[j]) {
				*ret_what = j == 0 ? strdup("active swap") :
						     strdup_printf("partition %s is an active swap",
								   names[j]);
				return *ret_what ? 1 : -ENOMEM;
			}
	}
	return 0;
}

struct devset {
	dev_t *v;
	char **why;
	size_t n;
};

static void devset_done(struct devset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->why[i]);
	free(s->v);
	free(s->why);
}

static int devset_add(struct devset *s, dev_t d, const char *why)
{
	dev_t *nv;
	char **nw;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == d)
			return 0;
	nv = realloc(s->v, (s->n + 1) * sizeof(dev_t));
	if (!nv)
		return -ENOMEM;
	s->v = nv;
	nw = realloc(s->why, (s->n + 1) * sizeof(char *));
	if (!nw)
		return -ENOMEM;
	s->why = nw;
	s->why[s->n] = strdup(why);
	if (!s->why[s->n])
		return -ENOMEM;
	s->v[s->n++] = d;
	return 0;
}

/* Add the whole disk(s) under DEVNUM: partition → parent disk, dm/md → every slave. */
static int add_whole_disks(struct devset *s, dev_t devnum, const char *why, unsigned depth)
{
	_cleanup_free_ char *dir = NULL, *slaves = NULL, *parent = NULL, *pp = NULL;
	_cleanup_(dir_closep) DIR *d = NULL;
	struct dirent *de;
	bool any = false;
	dev_t pd;
	int r;

	if (depth > MAX_STACK_DEPTH)
		return -ELOOP;
	r = sysfs_dir_of(devnum, &dir);
	if (r == -ENOENT)
		return 0; /* not a block device (tmpfs, overlay, ...) */
	if (r < 0)
		return r;

	if (attr_exists(dir, "partition")) {
		pp = strdup_printf("%s/..", dir);
		if (!pp)
			return -ENOMEM;
		parent = realpath(pp, NULL);
		if (!parent)
			return negative_errno();
		r = read_attr_devnum(parent, "dev", &pd);
		if (r < 0)
			return r;
		return add_whole_disks(s, pd, why, depth + 1);
	}

	slaves = strdup_printf("%s/slaves", dir);
	if (!slaves)
		return -ENOMEM;
	d = opendir(slaves);
	if (d) {
		while ((errno = 0, de = readdir(d))) {
			_cleanup_free_ char *sd = NULL;

			if (de->d_name[0] == '.')
				continue;
			sd = strdup_printf("%s/%s", slaves, de->d_name);
			if (!sd)
				return -ENOMEM;
			r = read_attr_devnum(sd, "dev", &pd);
			if (r < 0)
				return r;
			r = add_whole_disks(s, pd, why, depth + 1);
			if (r < 0)
				return r;
			any = true;
		}
		if (errno != 0)
			return negative_errno();
	} else if (errno != ENOENT)
		return negative_errno();

	return any ? 0 : devset_add(s, devnum, why);
}

static int system_disks(struct devset *s)
{
	/* scan-build: its NULL/garbage reports here are false positives (an out-parameter is
	 * set whenever the callee returns >= 0, see macro.h). */
	static const char *const targets[] = { "/", "/boot", "/boot/efi", "/usr", "/var" };
	_cleanup_strv_free_ char **swaps = NULL;
	struct mounted *m = NULL;
	size_t nm;
	int r;

	r = read_mountinfo(&m, &nm);
	if (r < 0)
		return r;
	for (size_t t = 0; t < ARRAY_SIZE(targets); t++) {
		_cleanup_free_ char *why = NULL;
		ssize_t last = -1;

		r = 0;

		/* The last entry for a mount point is the one on top. */
		for (size_t i = 0; i < nm; i++)
			if (streq(m[i].target, targets[t]))
				last = (ssize_t)i;
		if (last < 0)
			continue;
		why = strdup_printf("system disk (holds %s)", targets[t]);
		if (!why) {
			r = -ENOMEM;
			break;
		}
		if (major(m[last].devnum) != 0)
			r = add_whole_disks(s, m[last].devnum, why, 0);
		if (r >= 0 && m[last].source != 0)
			r = add_whole_disks(s, m[last].source, why, 0);
		if (r < 0)
			break;
	}
	mount_entries_free(m, nm);
	if (r < 0)
		return r;

	r = read_swaps(&swaps);
	if (r < 0)
		return r;
	for (char **i = swaps; *i; i++) {
		_cleanup_free_ char *why = strdup_printf("system disk (swap %s)", *i);
		struct stat st;
		dev_t d;

		if (!why)
			return -ENOMEM;
		if (stat(*i, &st) < 0)
			return log_debug_errno(negative_errno(), "Failed to stat swap \"%s\": %m",
					       *i);
		/* A swap partition is itself the device; a swap file lives on st_dev. */
		d = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
		r = add_whole_disks(s, d, why, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int blockdev_is_system_disk(const struct blockdev *b, char **ret_what)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_(devset_done) struct devset s = {};
	int r;

	r = system_disks(&s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s.n; i++)
		if (s.v[i] == b->devnum) {
			*ret_what = strdup(s.why[i]);
			return *ret_what ? 1 : -ENOMEM;
		}
	return 0;
}

bool blockdev_name_is_candidate(const char *name)
{
	const char *p;

	if (startswith(name, "vd")) {
		if (!name[2])
			return false;
		for (p = name + 2; *p; p++)
			if (*p < 'a' || *p > 'z')
				return false;
		return true;
	}
	if (startswith(name, "nvme")) {
		/* nvme<digits>n<digits>, nothing else (nvme0c0n1 paths, nvme0n1p1 partitions). */
		p = name + 4;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p++ != 'n' || !isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		return *p == 0;
	}
	return false;
}

static int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int blockdev_list_candidates(char ***ret_paths)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *dir = strdup_printf("%s/block", sysfs_root);
	_cleanup_(dir_closep) DIR *d = NULL;
	_cleanup_strv_free_ char **l = NULL;
	struct dirent *de;
	size_t n = 0;

	if (!dir)
		return -ENOMEM;
	l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		/* cppcheck-suppress memleak ; _cleanup_ not modelled */
		return log_debug_errno(negative_errno(), "Failed to open \"%s\": %m", dir);
	while ((errno = 0, de = readdir(d))) {
		char **nl;

		if (!blockdev_name_is_candidate(de->d_name))
			continue;
		nl = realloc(l, (n + 2) * sizeof(char *));
		if (!nl)
			return -ENOMEM;
		l = nl;
		l[n] = strdup_printf("/dev/%s", de->d_name);
		l[n + 1] = NULL;
		if (!l[n])
			return -ENOMEM;
		n++;
	}
	if (errno != 0)
		return negative_errno();
	qsort(l, n, sizeof(char *), strv_cmp);
	*ret_paths = TAKE_PTR(l);
	return 0;
}

/* Split a "devices =" value into globs (whitespace or commas between them). */
static int split_globs(const char *value, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	size_t n = 0;

	l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	for (const char *p = value; *p;) {
		size_t k = strcspn(p, " \t,");
		char **nl;

		if (k == 0) {
			p++;
			continue;
		}
		nl = realloc(l, (n + 2) * sizeof(char *));
		if (!nl)
			return -ENOMEM;
		l = nl;
		l[n] = strndup(p, k);
		l[n + 1] = NULL;
		if (!l[n])
			return -ENOMEM;
		n++;
		p += k;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

static bool matches_any(char *const *globs, const char *name)
{
	for (char *const *g = globs; *g; g++)
		if (fnmatch(*g, name, 0) == 0)
			return true;
	return false;
}

static int strv_add_unique(char ***l, size_t *n, const char *s)
{
	char **nl;

	for (size_t i = 0; i < *n; i++)
		if (streq((*l)[i], s))
			return 0;
	nl = realloc(*l, (*n + 2) * sizeof(char *));
	if (!nl)
		return -ENOMEM;
	*l = nl;
	nl[*n] = strdup(s);
	nl[*n + 1] = NULL;
	if (!nl[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Whole disks (sysfs /block entries) whose kernel name, or one of whose /dev/disk/by-id names,
 * matches a glob; partitions (by-id "-partN" links) never count. */
static int list_configured(char *const *globs, char ***ret_paths)
{
	/* scan-build: its leak reports here are false positives (_cleanup_ is not modelled, see
	 * macro.h). */
	_cleanup_free_ char *dir = strdup_printf("%s/block", sysfs_root);
	_cleanup_(dir_closep) DIR *d = NULL, *byid = NULL;
	_cleanup_strv_free_ char **l = NULL;
	struct dirent *de;
	size_t n = 0;
	int r;

	if (!dir)
		return -ENOMEM;
	l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return log_debug_errno(negative_errno(), "Failed to open \"%s\": %m", dir);
	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *p = NULL;

		if (de->d_name[0] == '.' || !matches_any(globs, de->d_name))
			continue;
		p = strdup_printf("/dev/%s", de->d_name);
		if (!p)
			return -ENOMEM;
		r = strv_add_unique(&l, &n, p);
		if (r < 0)
			return r;
	}
	if (errno != 0)
		return negative_errno();

	byid = opendir("/dev/disk/by-id");
	while (byid && (errno = 0, de = readdir(byid))) {
		_cleanup_free_ char *link = NULL, *target = NULL, *attr = NULL;
		const char *name;

		if (de->d_name[0] == '.' || !matches_any(globs, de->d_name))
			continue;
		link = strdup_printf("/dev/disk/by-id/%s", de->d_name);
		if (!link)
			return -ENOMEM;
		target = realpath(link, NULL);
		if (!target || !startswith(target, "/dev/"))
			continue;
		name = target + 5;
		if (strchr(name, '/'))
			continue;
		/* Only whole disks: /sys/block/NAME exists for disks, not for partitions. */
		attr = strdup_printf("%s/%s", dir, name);
		if (!attr)
			return -ENOMEM;
		if (access(attr, F_OK) < 0)
			continue;
		r = strv_add_unique(&l, &n, target);
		if (r < 0)
			return r;
	}
	if (n > 0)
		qsort(l, n, sizeof(char *), strv_cmp);
	*ret_paths = TAKE_PTR(l);
	return 0;
}

int blockdev_select_candidates(enum platform_kind kind, const char *devices,
			       char ***ret_paths, bool *ret_configured, char **ret_why)
{
	_cleanup_strv_free_ char **globs = NULL;
	int r;

	*ret_configured = false;
	*ret_why = NULL;
	if (!devices || streq(devices, "auto")) {
		if (kind == PLATFORM_VM) {
			*ret_why = strdup("VM platform: virtio and NVMe disks");
			return *ret_why ? blockdev_list_candidates(ret_paths) : -ENOMEM;
		}
		*ret_why = strdup_printf("%s platform: no automatic candidates (local disks are "
					 "not block storage); name them in [storage] devices",
					 platform_kind_to_string(kind));
		if (!*ret_why)
			return -ENOMEM;
		*ret_paths = calloc(1, sizeof(char *));
		return *ret_paths ? 0 : -ENOMEM;
	}
	if (streq(devices, "none")) {
		*ret_why = strdup("[storage] devices = none");
		if (!*ret_why)
			return -ENOMEM;
		*ret_paths = calloc(1, sizeof(char *));
		return *ret_paths ? 0 : -ENOMEM;
	}
	r = split_globs(devices, &globs);
	if (r < 0)
		return r;
	*ret_why = strdup_printf("[storage] devices = %s", devices);
	if (!*ret_why)
		return -ENOMEM;
	*ret_configured = true;
	return list_configured(globs, ret_paths);
}
