/* SPDX-License-Identifier: MIT */
/*
 * hostname.c: the hostname step. It validates the name the metadata gives (RFC 1123, lowercased),
 * decides from the policy whether to apply it, and keeps /etc/hostname, the 127.0.1.1 line of
 * /etc/hosts and the kernel's name in step, each only when it differs, atomically and never
 * through a symlink. A name that is not valid is refused with its reason; the name itself is
 * only ever shown escaped and cut to 64 characters. Nothing here talks to the network.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "steps/hostname.h"
#include "base/log.h"
#include "cloudconfig/cc-apply.h"
#include "metadata/metadata.h"
#include "steps/userdata.h"
#include "base/util.h"

#define HOSTNAME_FILE_MAX (64U * 1024U)
#define HOSTS_FILE_MAX (4U * 1024U * 1024U)
#define HOSTS_ADDRESS "127.0.1.1"
/* 64 shown characters, each at most "\xNN", plus "..." and the NUL. */
#define ESCAPED_MAX (64 * 4 + 4)

/* An error goes back as the one-line message; the step's runner logs it, once. */
#define fail(ret_message, r, ...) message_set((ret_message), (r), __VA_ARGS__)

/* Printable ASCII as is, everything else as \n, \t or \xNN; at most 64 source characters. */
static void escape_name(const char *s, char buf[static ESCAPED_MAX])
{
	size_t o = 0, i;

	for (i = 0; i < 64 && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			o += (size_t)sprintf(buf + o, "\\n");
		else if (c == '\t')
			o += (size_t)sprintf(buf + o, "\\t");
		else if (c == '\\' || c == '\'')
			o += (size_t)sprintf(buf + o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)sprintf(buf + o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (s[i])
		o += (size_t)sprintf(buf + o, "...");
	buf[o] = 0;
}

/* The name the system has now: the first line of /etc/hostname, else (no ROOT) the kernel's. */
static char *current_hostname(const char *root)
{
	_cleanup_free_ char *buf = NULL;
	char kernel[HOSTNAME_MAX + 2];

	if (read_file(root, "/etc/hostname", HOSTNAME_FILE_MAX, &buf, NULL) >= 0) {
		size_t n = strcspn(buf, "\n");

		while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\r'))
			n--;
		if (n > 0)
			return strndup(buf, n);
	}
	if (root)
		return NULL;
	if (gethostname(kernel, sizeof(kernel)) < 0)
		return NULL;
	kernel[sizeof(kernel) - 1] = 0;
	return kernel[0] ? strdup(kernel) : NULL;
}

/*
 * Read NAME in ETCFD if it exists. Refuses a symlink and anything but a regular file, so that
 * the write that follows never replaces something else. Returns 1 read (mode and owner in
 * *RET_ST), 0 missing, <0 error (logged).
 */
static int read_etc_file(int etcfd, const char *name, size_t max, char **ret_message, char **ret,
			 size_t *ret_len, struct stat *ret_st)
{
	int r;

	*ret = NULL;
	*ret_len = 0;
	if (etcfd < 0)
		return 0;
	if (fstatat(etcfd, name, ret_st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(ret_message, -errno, "Failed to stat '/etc/%s': %m", name);
	}
	if (S_ISLNK(ret_st->st_mode))
		return fail(ret_message, -ELOOP, "'/etc/%s' is a symlink, refusing", name);
	if (!S_ISREG(ret_st->st_mode))
		return fail(ret_message, -EBADFD, "'/etc/%s' is not a regular file, refusing",
			    name);

	r = read_file_at(etcfd, name, max, ret, ret_len);
	if (r == -ELOOP)
		return fail(ret_message, r, "'/etc/%s' is a symlink, refusing", name);
	if (r < 0)
		return fail(ret_message, r, "Failed to read '/etc/%s': %m", name);
	return 1;
}

static bool first_field_is(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
		return false;
	p += n;
	return p == end || *p == ' ' || *p == '\t';
}

/*
 * OLD with the first line whose first field is 127.0.1.1 replaced by LINE (that line's ending,
 * or the lack of one, is kept), or with LINE appended on a line of its own. Every other byte is
 * kept as it was.
 */
static int hosts_update(const char *old, size_t old_len, const char *line, char **ret,
			size_t *ret_len)
{
	const char *p = old, *end = old + old_len;
	bool replaced = false;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		const char *content_end = nl ? nl : end;

		if (content_end > p && content_end[-1] == '\r')
			content_end--;
		if (!replaced && first_field_is(p, content_end, HOSTS_ADDRESS)) {
			fputs(line, f);
			fwrite(content_end, 1, (size_t)(next - content_end), f);
			replaced = true;
		} else
			fwrite(p, 1, (size_t)(next - p), f);
		p = next;
	}
	if (!replaced) {
		if (old_len > 0 && old[old_len - 1] != '\n')
			fputc('\n', f);
		fprintf(f, "%s\n", line);
	}

	if (ferror(f)) {
		fclose(f);
		free(buf);
		return -ENOMEM;
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = size;
	return 0;
}

static bool same_content(const char *old, size_t old_len, bool exists, const char *new,
			 size_t new_len)
{
	return exists && old_len == new_len && memcmp(old, new, new_len) == 0;
}

int hostname_apply(const char *root, const char *hostname, enum hostname_policy policy,
		   bool first_boot, bool dry_run, char **ret_message)
{
	struct hostname_want w = { .name = hostname, .source = "metadata" };

	return hostname_set(root, &w, policy, first_boot, dry_run, ret_message);
}

static char *lowercase(const char *s)
{
	char *l = strdup(s);

	for (char *p = l; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return l;
}

int hostname_set(const char *root, const struct hostname_want *w, enum hostname_policy policy,
		 bool first_boot, bool dry_run, char **ret_message)
{
	const char *hostname = w->name, *source = w->source ? w->source : "metadata";
	/* scan-build: its leak and NULL/garbage reports here are false positives (_cleanup_ is
	 * not modelled; an out-parameter is set whenever the callee returns >= 0; see macro.h). */
	_cleanup_free_ char *name = NULL, *short_name = NULL, *want_hostname = NULL,
			    *hosts_line = NULL, *old_hostname = NULL, *old_hosts = NULL,
			    *new_hosts = NULL, *what = NULL, *set = NULL;
	size_t old_hostname_len, old_hosts_len = 0, new_hosts_len;
	bool hostname_changed, hosts_changed, kernel_changed = false;
	struct stat hostname_st, hosts_st;
	const char *written;
	_cleanup_close_ int etcfd = -1;
	char reason[128];
	int r, hostname_exists, hosts_exists;

	if (ret_message)
		*ret_message = NULL;

	if (!hostname || !*hostname)
		return message_set(ret_message, 0, "kept: empty hostname in %s", source);

	if (policy == HOSTNAME_NEVER || (policy == HOSTNAME_FIRST_BOOT && !first_boot)) {
		const char *why = policy == HOSTNAME_NEVER
					  ? "policy never"
					  : "policy first-boot and not the first boot";
		_cleanup_free_ char *current = current_hostname(root);
		char shown[ESCAPED_MAX];

		if (!current)
			return message_set(ret_message, 0, "kept: %s", why);
		escape_name(current, shown);
		return message_set(ret_message, 0, "kept '%s': %s", shown, why);
	}

	for (size_t i = 0; i < 2; i++) {
		const char *n = i == 0 ? hostname : w->fqdn;
		char shown[ESCAPED_MAX];

		if (!n || hostname_validate(n, reason, sizeof(reason)) == 0)
			continue;
		escape_name(n, shown);
		return message_set(ret_message, -EINVAL, "invalid %s '%s' in %s: %s",
				   i == 0 ? "hostname" : "fqdn", shown, source, reason);
	}

	/* NAME: the fqdn (or the short name when there is none), SHORT_NAME: the host's name. */
	if (w->fqdn) {
		name = lowercase(w->fqdn);
		short_name = lowercase(hostname);
	} else {
		name = lowercase(hostname);
		short_name = name ? strndup(name, strcspn(name, ".")) : NULL;
	}
	if (!name || !short_name)
		return log_error_errno(-ENOMEM, "Out of memory.");
	if (streq(name, short_name)) {
		r = asprintf(&set, "'%s'", short_name);
		if (r >= 0)
			r = asprintf(&hosts_line, HOSTS_ADDRESS "\t%s", short_name);
	} else {
		r = asprintf(&set, "'%s' (fqdn %s)", short_name, name);
		if (r >= 0)
			r = asprintf(&hosts_line, HOSTS_ADDRESS "\t%s %s", name, short_name);
	}
	/* cloud-init's _select_hostname: the fqdn only when preferred */
	written = w->prefer_fqdn ? name : short_name;
	if (r < 0 || asprintf(&want_hostname, "%s\n", written) < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");

	/* Plan: read what is there, refusing symlinks before anything is written. */
	etcfd = path_open_dir(root, "/etc", !dry_run, 0755);
	if (etcfd < 0 && !(dry_run && etcfd == -ENOENT)) {
		if (etcfd == -ELOOP || etcfd == -ENOTDIR)
			return fail(ret_message, etcfd,
				    "'/etc' is a symlink or not a directory, refusing");
		return fail(ret_message, etcfd, "Failed to open '/etc': %m");
	}

	hostname_exists = read_etc_file(etcfd, "hostname", HOSTNAME_FILE_MAX, ret_message,
					&old_hostname, &old_hostname_len, &hostname_st);
	if (hostname_exists < 0)
		return hostname_exists;
	/* manage_etc_hosts: false leaves /etc/hosts unread and untouched */
	hosts_exists = w->no_hosts ? 0 :
		       read_etc_file(etcfd, "hosts", HOSTS_FILE_MAX, ret_message, &old_hosts,
				     &old_hosts_len, &hosts_st);
	if (hosts_exists < 0)
		return hosts_exists;

	r = hosts_update(old_hosts ?: "", old_hosts_len, hosts_line, &new_hosts, &new_hosts_len);
	if (r < 0)
		return log_error_errno(r, "Out of memory.");

	hostname_changed = !w->no_hostname_file &&
			   !same_content(old_hostname, old_hostname_len, hostname_exists,
					 want_hostname, strlen(want_hostname));
	hosts_changed = !w->no_hosts && !same_content(old_hosts, old_hosts_len, hosts_exists,
						      new_hosts, new_hosts_len);
	if (root_is_host(root)) {
		char kernel[HOSTNAME_MAX + 2] = "";

		if (gethostname(kernel, sizeof(kernel)) < 0)
			log_warning_errno(errno,
					  "Failed to read the kernel's hostname, ignoring: %m");
		kernel[sizeof(kernel) - 1] = 0;
		kernel_changed = !streq(kernel, written);
	}

	if (!hostname_changed && !hosts_changed && !kernel_changed)
		return message_set(ret_message, 0, "already %s", set);

	r = asprintf(&what, "%s%s%s", hostname_changed ? " /etc/hostname" : "",
		     hosts_changed ? " /etc/hosts" : "", kernel_changed ? " kernel" : "");
	if (r < 0)
		return log_error_errno(-ENOMEM, "Out of memory.");

	if (dry_run)
		return message_set(ret_message, 1, "would set to %s (changes:%s)", set, what);

	/* Apply. */
	if (hostname_changed) {
		r = write_file_atomic_at(etcfd, "hostname", want_hostname, strlen(want_hostname),
					 0644, (uid_t)-1, (gid_t)-1);
		if (r < 0)
			return fail(ret_message, r, "Failed to write '/etc/hostname': %m");
	}
	if (hosts_changed) {
		mode_t mode = hosts_exists ? hosts_st.st_mode & 07777 : 0644;
		uid_t uid = hosts_exists ? hosts_st.st_uid : (uid_t)-1;
		gid_t gid = hosts_exists ? hosts_st.st_gid : (gid_t)-1;

		r = write_file_atomic_at(etcfd, "hosts", new_hosts, new_hosts_len, mode, uid, gid);
		if (r < 0)
			return fail(ret_message, r, "Failed to write '/etc/hosts': %m");
	}
	if (kernel_changed && sethostname(written, strlen(written)) < 0)
		return fail(ret_message, -errno, "Failed to set the kernel's hostname to '%s': %m",
			    written);

	return message_set(ret_message, 1, "set to %s (changed:%s)", set, what);
}

int step_hostname(struct step_context *c, struct step_outcome *o)
{
	_cleanup_free_ char *m = NULL;
	struct hostname_want w = { .name = c->md->hostname, .source = "metadata" };
	struct cc_hostname h;
	int r;

	cc_doc_hostname_info(userdata_doc(c), &h);
	if (h.preserve)
		return step_set(o, STEP_SKIPPED, "preserve_hostname in cloud-config: left as it is");
	if (h.invalid_key)
		/* The user's typo must not cost the instance the metadata's valid name. */
		log_warning("User-data cloud-config %s is not a valid hostname (%s), using the "
			    "metadata's, ignoring.", h.invalid_key, h.invalid_reason);
	else if (h.hostname) {
		w.name = h.hostname;
		w.fqdn = h.fqdn;
		w.source = "cloud-config";
	}
	w.prefer_fqdn = h.prefer_fqdn;
	w.no_hostname_file = h.no_hostname_file;
	w.no_hosts = !h.manage_etc_hosts;
	r = hostname_set(c->root, &w, c->cfg->hostname_policy, c->first_boot, c->dry_run, &m);
	if (r < 0)
		return step_fail(o, r, "%s", m ? m : "failed");
	return step_set(o, r > 0 ? STEP_CHANGED : STEP_UNCHANGED, "%s", m ? m : "");
}
