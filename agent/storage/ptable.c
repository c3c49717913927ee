/* SPDX-License-Identifier: MIT */
/*
 * ptable.c: partition tables read with plain reads (ptable.h). The GPT is taken from its
 * primary header only when that header and its entry array pass their CRCs and every field is
 * inside the disk; anything odd is -EUCLEAN, never a guess. The DOS table is the four primary
 * entries of sector 0; an extended partition is flagged and not followed (the grow paths leave
 * such disks alone). No library, nothing written.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/util.h"
#include "storage/ptable.h"

#define MIB (UINT64_C(1) << 20)
#define GPT_STALE_WINDOW (2 * MIB)

const char *ptable_type_to_string(enum ptable_type t)
{
	switch (t) {
	case PTABLE_GPT:
		return "gpt";
	case PTABLE_DOS:
		return "dos";
	default:
		return "none";
	}
}

uint32_t ptable_crc32(const void *data, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const uint8_t *p = data;
	uint32_t c = 0xffffffffu;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;
			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
		ready = true;
	}
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

void ptable_done(struct ptable *t)
{
	free(t->entries);
	free(t->raw_entries);
	*t = (struct ptable){};
}

static bool read_exact(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t k = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
		if (k <= 0)
			return false;
		done += (size_t)k;
	}
	return true;
}

static int add_entry(struct ptable *t, const struct ptable_entry *e)
{
	struct ptable_entry *n = reallocarray(t->entries, t->n + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	t->entries = n;
	n[t->n++] = *e;
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct ptable_entry *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorted by start, inside the disk, no two overlapping. */
static int check_entries(struct ptable *t)
{
	if (t->n > 1)
		qsort(t->entries, t->n, sizeof(*t->entries), by_start);
	for (size_t i = 0; i < t->n; i++) {
		if (t->entries[i].end <= t->entries[i].start || t->entries[i].end > t->disk_bytes)
			return -EUCLEAN;
		if (i > 0 && t->entries[i].start < t->entries[i - 1].end)
			return -EUCLEAN;
	}
	return 0;
}

static int read_gpt(int fd, struct ptable *t, const uint8_t *mbr)
{
	const uint64_t ss = t->sector_size, sectors = t->disk_bytes / ss;
	_cleanup_free_ uint8_t *hdr = NULL;
	uint32_t hdr_size, crc;
	uint64_t first_usable;
	size_t len;
	int r;

	hdr = malloc(ss);
	if (!hdr)
		return -ENOMEM;
	if (!read_exact(fd, hdr, ss, ss))
		return -EIO;
	if (memcmp(hdr, "EFI PART", 8) != 0)
		return 0;

	hdr_size = le32(hdr + 12);
	if (hdr_size < 92 || hdr_size > ss)
		return -EUCLEAN;
	crc = le32(hdr + 16);
	memset(hdr + 16, 0, 4);
	if (ptable_crc32(hdr, hdr_size) != crc || le64(hdr + 24) != 1)
		return -EUCLEAN;

	t->backup_lba = le64(hdr + 32);
	first_usable = t->first_usable_lba = le64(hdr + 40);
	memcpy(t->disk_guid, hdr + 56, 16);
	t->last_usable_lba = le64(hdr + 48);
	t->entries_lba = le64(hdr + 72);
	t->n_entries = le32(hdr + 80);
	t->entry_size = le32(hdr + 84);
	if (t->entry_size < 128 || t->entry_size > 4096 || t->entry_size % 8 || t->n_entries == 0 ||
	    t->n_entries > 4096 || t->backup_lba >= sectors || t->backup_lba < 2 ||
	    t->entries_lba < 2 || t->entries_lba >= sectors || first_usable > t->last_usable_lba ||
	    t->last_usable_lba >= t->backup_lba)
		return -EUCLEAN;
	len = (size_t)t->n_entries * t->entry_size;
	if (t->entries_lba + (len + ss - 1) / ss > first_usable)
		return -EUCLEAN;

	t->raw_entries = malloc(len);
	if (!t->raw_entries)
		return -ENOMEM;
	if (!read_exact(fd, t->raw_entries, len, t->entries_lba * ss))
		return -EIO;
	if (ptable_crc32(t->raw_entries, len) != le32(hdr + 88))
		return -EUCLEAN;

	for (uint32_t i = 0; i < t->n_entries; i++) {
		static const uint8_t zero[16];
		const uint8_t *e = t->raw_entries + (size_t)i * t->entry_size;
		struct ptable_entry pe = { .number = i + 1 };
		uint64_t s = le64(e + 32), l = le64(e + 40);
		size_t k;

		if (memcmp(e, zero, 16) == 0)
			continue;
		if (s < first_usable || l > t->last_usable_lba || l < s)
			return -EUCLEAN;
		pe.start = s * ss;
		pe.end = (l + 1) * ss;
		for (k = 0; k < 36; k++) {
			unsigned c = e[56 + 2 * k] | e[57 + 2 * k] << 8;
			if (c == 0)
				break;
			pe.name[k] = c < 0x80 && c >= 0x20 ? (char)c : '?';
		}
		pe.name[k] = 0;
		r = add_entry(t, &pe);
		if (r < 0)
			return r;
	}

	/* A hybrid MBR: partitions other than the protective one. */
	if (mbr[510] == 0x55 && mbr[511] == 0xaa)
		for (int i = 0; i < 4; i++) {
			uint8_t type = mbr[446 + 16 * i + 4];
			if (type != 0 && type != 0xee)
				t->hybrid = true;
		}
	t->type = PTABLE_GPT;
	r = check_entries(t);
	return r < 0 ? r : 1;
}

static int read_dos(struct ptable *t, const uint8_t *mbr)
{
	const uint64_t ss = t->sector_size;
	int r;

	if (mbr[510] != 0x55 || mbr[511] != 0xaa)
		return 0;
	/* A filesystem boot sector (FAT, NTFS) also ends in 55 AA: only status bytes 0x00 or
	 * 0x80 in every slot, as libblkid and the kernel require. */
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + 446 + 16 * i;
		if (e[0] != 0 && e[0] != 0x80)
			return 0;
	}
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = mbr + 446 + 16 * i;
		struct ptable_entry pe = { .number = (unsigned)i + 1, .dos_type = e[4] };
		uint64_t s = le32(e + 8), n = le32(e + 12);

		if (e[4] == 0 || n == 0)
			continue;
		if (e[4] == 0xee)
			return -EUCLEAN; /* protective MBR without a valid GPT */
		if (e[4] == 0x05 || e[4] == 0x0f || e[4] == 0x85)
			t->dos_extended = true;
		pe.start = s * ss;
		pe.end = (s + n) * ss;
		r = add_entry(t, &pe);
		if (r < 0)
			return r;
	}
	t->type = PTABLE_DOS;
	r = check_entries(t);
	return r < 0 ? r : 1;
}

int ptable_read_fd(int fd, uint64_t disk_bytes, uint32_t sector_size, struct ptable *ret)
{
	_cleanup_free_ uint8_t *mbr = NULL;
	int r;

	*ret = (struct ptable){ .sector_size = sector_size, .disk_bytes = disk_bytes };
	if (sector_size < 512 || sector_size > 65536 || (sector_size & (sector_size - 1)) ||
	    disk_bytes < 4ULL * sector_size)
		return -EINVAL;
	mbr = malloc(sector_size);
	if (!mbr)
		return -ENOMEM;
	if (!read_exact(fd, mbr, sector_size, 0))
		return -EIO;

	r = read_gpt(fd, ret, mbr);
	if (r == 0) {
		ptable_done(ret);
		*ret = (struct ptable){ .sector_size = sector_size, .disk_bytes = disk_bytes };
		r = read_dos(ret, mbr);
	}
	if (r < 0) {
		ptable_done(ret);
		*ret = (struct ptable){ .sector_size = sector_size, .disk_bytes = disk_bytes };
		return r;
	}
	return 0;
}

int ptable_read(const char *path, struct ptable *ret)
{
	_cleanup_close_ int fd = -1;
	uint64_t size = 0;
	int ss = 0;

	*ret = (struct ptable){};
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &ss) < 0 || ss <= 0)
		return negative_errno();
	return ptable_read_fd(fd, size, (uint32_t)ss, ret);
}

const struct ptable_entry *ptable_find(const struct ptable *t, unsigned number)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->entries[i].number == number)
			return &t->entries[i];
	return NULL;
}

const struct ptable_entry *ptable_last(const struct ptable *t)
{
	return t->n > 0 ? &t->entries[t->n - 1] : NULL;
}

uint64_t ptable_max_end(const struct ptable *t, uint64_t start)
{
	const uint64_t ss = t->sector_size, sectors = t->disk_bytes / ss;
	uint64_t limit, size;

	if (t->type == PTABLE_GPT) {
		uint64_t table = ((uint64_t)t->n_entries * t->entry_size + ss - 1) / ss;
		if (sectors < table + 2)
			return 0;
		limit = (sectors - 1 - table) * ss; /* the last usable sector ends here */
	} else if (t->type == PTABLE_DOS) {
		limit = (sectors < (UINT64_C(1) << 32) ? sectors : (UINT64_C(1) << 32)) * ss;
	} else
		return 0;
	if (limit <= start)
		return 0;
	size = (limit - start) / MIB * MIB;
	return size ? start + size : 0;
}

static void add_area(uint64_t (*ret)[2], size_t max, size_t *n, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < *n; i++)
		if (ret[i][0] <= a && ret[i][1] >= b)
			return; /* already covered (the live backup is a copy of the entries too) */
	if (*n < max && b > a) {
		ret[*n][0] = a;
		ret[*n][1] = b;
		(*n)++;
	}
}

static int area_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

size_t ptable_backup_areas(const struct ptable *t, int fd, uint64_t from, uint64_t to,
			   uint64_t (*ret)[2], size_t max)
{
	const uint64_t ss = t->sector_size;
	uint64_t table, len, win_end;
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t hdr[8];
	size_t n = 0;

	if (t->type != PTABLE_GPT || to <= from)
		return 0;
	table = ((uint64_t)t->n_entries * t->entry_size + ss - 1) / ss * ss;
	len = (uint64_t)t->n_entries * t->entry_size;

	/* The backup the primary points to (at the old end of a grown disk, or at the end). */
	add_area(ret, max, &n, t->backup_lba * ss - table, (t->backup_lba + 1) * ss);
	/* A backup header at the very end (written by a tool that moved it). */
	if (read_exact(fd, hdr, sizeof(hdr), t->disk_bytes - ss) && memcmp(hdr, "EFI PART", 8) == 0 &&
	    t->backup_lba * ss != t->disk_bytes - ss)
		add_area(ret, max, &n, t->disk_bytes - ss - table, t->disk_bytes);

	/* A stale copy of the entry array just after the partitions: libparted zeroes the old
	 * backup header when it moves it, and leaves the entries. */
	win_end = from + GPT_STALE_WINDOW + table < to ? from + GPT_STALE_WINDOW + table : to;
	if (win_end > from && win_end - from >= len) {
		uint64_t w = win_end - from;
		buf = malloc(w);
		if (buf && read_exact(fd, buf, w, from))
			for (uint64_t o = (ss - from % ss) % ss; o + len <= w; o += ss)
				if (memcmp(buf + o, t->raw_entries, 16) == 0 &&
				    memcmp(buf + o, t->raw_entries, len) == 0) {
					uint64_t at = from + o;
					add_area(ret, max, &n, at, at + table + ss);
					break;
				}
	}
	if (n > 1)
		qsort(ret, n, sizeof(*ret), area_cmp);
	return n;
}
