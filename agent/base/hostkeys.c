/* SPDX-License-Identifier: MIT */
/*
 * hostkeys.c: SSH host keys (hostkeys.h). ssh-keygen does the cryptography from an argv; this
 * file decides which types to make, makes them in a directory of its own beside the keys
 * (ROOT/etc/ssh/.vagent-hostkeys.XXXXXX, 0700), fixes the modes sshd wants (private 0600,
 * public 0644), fsyncs, and renames them into place, .pub first, so a crash leaves either the
 * old pair or the new one (a new instance's pair half-renamed is generated again at the next
 * boot, which is still the instance's first). The directory is opened without following
 * symlinks; a key file that is a symlink counts as missing and is replaced, never followed.
 * Spare keys made early in the boot (vagent-keygen.service) wait in /run/vagent/host-keys-spare
 * and are copied in, byte for byte, instead of running ssh-keygen. Only ssh-keygen parses a
 * private key; nothing here logs or prints one.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/fault.h"
#include "base/hostkeys.h"
#include "base/log.h"
#include "base/process.h"
#include "base/util.h"

#define TMP_PREFIX ".vagent-hostkeys."
#define KEYGEN_TIMEOUT_USEC (120ULL * 1000000ULL)
#define PUB_MAX (16U * 1024U)

static const char *const type_names[_HOSTKEY_MAX] = {
	[HOSTKEY_RSA] = "rsa",
	[HOSTKEY_ECDSA] = "ecdsa",
	[HOSTKEY_ED25519] = "ed25519",
};

const char *hostkey_type_to_string(enum hostkey_type t)
{
	return (size_t)t < _HOSTKEY_MAX ? type_names[t] : NULL;
}

int hostkey_type_from_string(const char *s)
{
	for (size_t i = 0; s && i < _HOSTKEY_MAX; i++)
		if (streq(type_names[i], s))
			return (int)i;
	return -EINVAL;
}

const char *hostkey_types_format(unsigned types, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < _HOSTKEY_MAX; i++)
		if (types & (1U << i)) {
			int k = snprintf(buf + n, size - n, "%s%s", n ? ", " : "", type_names[i]);
			if (k < 0 || (size_t)k >= size - n)
				break;
			n += (size_t)k;
		}
	if (n == 0)
		snprintf(buf, size, "none");
	return buf;
}

/* ssh_host_*key*, as cloud-init's ssh_deletekeys matches them. */
static bool is_key_file(const char *name)
{
	return startswith(name, "ssh_host_") && strstr(name + 9, "key");
}

static bool regular_at(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode) &&
	       st.st_size > 0;
}

static void key_names(enum hostkey_type t, char priv[64], char pub[64])
{
	snprintf(priv, 64, "ssh_host_%s_key", type_names[t]);
	snprintf(pub, 64, "ssh_host_%s_key.pub", type_names[t]);
}

/* The last line a tool printed (for the error message: ssh-keygen -q prints errors only). */
struct last_line {
	char text[8192]; /* a public key line (RSA 16384 is ~2.8 KB) fits */
};

static void keep_line(const char *line, void *userdata)
{
	struct last_line *l = userdata;

	escape_controls(line, l->text, sizeof(l->text));
}

/* How ssh-keygen for WHAT ended: STATUS its exit status, or <0 when it could not run or timed
 * out; OUT its last line. 0 when it exited 0, else the error (logged). */
static int keygen_result(const char *what, int status, const struct last_line *out)
{
	if (status < 0)
		return log_error_errno(status, "Failed to run ssh-keygen for %s: %m", what);
	if (status > 0)
		return log_error_errno(EPROTO, "ssh-keygen for %s exited with status %d%s%s", what,
				       status, out->text[0] ? ": " : "", out->text);
	return 0;
}

static int keygen(char *const argv[], const char *what, struct last_line *out)
{
	struct spawn_options o = {
		.timeout_usec = KEYGEN_TIMEOUT_USEC,
		.log_fd = -1,
		.line_cb = keep_line,
		.userdata = out,
	};
	int r, status = -1;

	out->text[0] = 0;
	r = spawn_run(argv, &o, &status);
	return keygen_result(what, r < 0 ? r : status, out);
}

/* A directory stream on a copy of DFD, from its start (a dup shares the read position). */
static DIR *opendir_at(int dfd)
{
	int fd = dup(dfd);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		safe_close(fd);
		return NULL;
	}
	rewinddir(d);
	return d;
}

/* Remove the temp directories an interrupted run left behind in DFD (PATH inside ROOT). */
static void remove_leftovers(const char *root, const char *path, int dfd)
{
	DIR *d = opendir_at(dfd);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;

		if (!startswith(de->d_name, TMP_PREFIX))
			continue;
		if (asprintf(&p, "%s/%s", path, de->d_name) >= 0)
			(void)rm_rf(root, p);
	}
	closedir(d);
}

static int make_tmpdir(int dfd, char name[64])
{
	for (int attempt = 0;; attempt++) {
		uint64_t rnd;

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = now_usec() ^ (uint64_t)getpid();
		snprintf(name, 64, TMP_PREFIX "%06llx", (unsigned long long)(rnd & 0xffffff));
		if (mkdirat(dfd, name, 0700) >= 0)
			return 0;
		if (errno != EEXIST || attempt > 16)
			return negative_errno();
	}
}

/* Fix the mode sshd wants and fsync NAME in DFD. */
static int settle(int dfd, const char *name, mode_t mode)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return negative_errno();
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		return negative_errno();
	return 0;
}

/* The .pub of a private key that lost it, from `ssh-keygen -y`. */
static int derive_public(const char *dir, int dfd, enum hostkey_type t)
{
	_cleanup_free_ char *path = NULL, *line = NULL;
	struct last_line out;
	char priv[64], pub[64];
	int r;

	key_names(t, priv, pub);
	if (asprintf(&path, "%s/%s", dir, priv) < 0)
		return -ENOMEM;
	char *argv[] = { "ssh-keygen", "-y", "-f", path, NULL };
	r = keygen(argv, pub, &out);
	if (r < 0)
		return r;
	if (!startswith(out.text, "ssh-") && !startswith(out.text, "ecdsa-"))
		return log_error_errno(EBADMSG, "ssh-keygen -y gave no public key for '%s/%s'.",
				       HOSTKEYS_DIR, priv);
	if (asprintf(&line, "%s\n", out.text) < 0)
		return -ENOMEM;
	r = write_file_atomic_at(dfd, pub, line, strlen(line), 0644, 0, 0);
	if (r < 0)
		return log_error_errno(r, "Failed to write '%s/%s': %m", HOSTKEYS_DIR, pub);
	return 0;
}

/*
 * `ssh-keygen -q -N '' -t TYPE [-b 3072] -f DIR/TMP/ssh_host_TYPE_key` for each type of TYPES,
 * side by side: each is one process on one CPU, and a new instance's ecdsa and ed25519 keys are
 * on the way to its first login. The types of IDLE run under SCHED_IDLE (until IDLE_UNTIL
 * exists, when not NULL). Errors are logged, the first type's in the list.
 */
static int keygen_all(const char *dir, const char *tmp, unsigned types, unsigned idle,
		      const char *idle_until)
{
	char *paths[_HOSTKEY_MAX] = {}, *argv[_HOSTKEY_MAX][11] = {};
	char *const *argvs[_HOSTKEY_MAX];
	struct spawn_options opts[_HOSTKEY_MAX];
	const struct spawn_options *o[_HOSTKEY_MAX];
	struct last_line out[_HOSTKEY_MAX];
	enum hostkey_type which[_HOSTKEY_MAX];
	int status[_HOSTKEY_MAX] = {}, r;
	size_t n = 0;

	for (size_t i = 0; i < _HOSTKEY_MAX; i++) {
		char priv[64], pub[64];
		size_t k = 0;

		if (!(types & (1U << i)))
			continue;
		key_names((enum hostkey_type)i, priv, pub);
		if (asprintf(&paths[n], "%s/%s/%s", dir, tmp, priv) < 0) {
			paths[n] = NULL;
			r = -ENOMEM;
			goto out;
		}
		argv[n][k++] = "ssh-keygen";
		argv[n][k++] = "-q";
		argv[n][k++] = "-N";
		argv[n][k++] = "";
		argv[n][k++] = "-t";
		argv[n][k++] = (char *)type_names[i];
		if (i == HOSTKEY_RSA) {
			argv[n][k++] = "-b";
			argv[n][k++] = "3072";
		}
		argv[n][k++] = "-f";
		argv[n][k++] = paths[n];
		argv[n][k] = NULL;
		argvs[n] = argv[n];
		out[n].text[0] = 0;
		opts[n] = (struct spawn_options){
			.timeout_usec = KEYGEN_TIMEOUT_USEC,
			.log_fd = -1,
			.line_cb = keep_line,
			.userdata = &out[n],
			.sched_idle = idle & (1U << i),
			.idle_until = idle_until,
		};
		o[n] = &opts[n];
		which[n++] = (enum hostkey_type)i;
	}

	r = spawn_run_all(n, argvs, o, status);
	for (size_t j = 0; j < n; j++) {
		char priv[64], pub[64];

		key_names(which[j], priv, pub);
		if (status[j] != 0) {
			r = keygen_result(priv, status[j], &out[j]);
			goto out;
		}
	}
	if (r < 0)
		log_error_errno(r, "Failed to run ssh-keygen: %m");
out:
	for (size_t j = 0; j < _HOSTKEY_MAX; j++)
		free(paths[j]);
	return r;
}

/*
 * The spare keys (hostkeys.h): ROOT/run/vagent/host-keys-spare, 0700 and ours, or nothing.
 * -ENOENT when there is none and not CREATE; -EPERM when it is not a directory only we can read.
 */
static int open_spare_dir(const char *root, bool create)
{
	_cleanup_close_ int run = -1;
	struct stat st;
	int fd;

	run = path_open_dir(root, HOSTKEYS_SPARE_PARENT, create, 0755);
	if (run < 0)
		return run;
	if (create && mkdirat(run, HOSTKEYS_SPARE_NAME, 0700) < 0 && errno != EEXIST)
		return negative_errno();
	fd = openat(run, HOSTKEYS_SPARE_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		safe_close(fd);
		return -EPERM;
	}
	return fd;
}

/* The types with both files of their pair in DFD (regular, not empty); none when DFD < 0. */
static unsigned pairs_in(int dfd)
{
	unsigned present = 0;

	for (size_t i = 0; dfd >= 0 && i < _HOSTKEY_MAX; i++) {
		char priv[64], pub[64];

		key_names((enum hostkey_type)i, priv, pub);
		if (regular_at(dfd, priv) && regular_at(dfd, pub))
			present |= 1U << i;
	}
	return present;
}

unsigned hostkeys_spare_ready(const char *root)
{
	_cleanup_close_ int sfd = open_spare_dir(root, false);

	return pairs_in(sfd);
}

/* Copy NAME from SFD into DFD (a fresh temp directory of ours) with MODE. */
static int copy_key_file(int sfd, int dfd, const char *name, mode_t mode)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	r = read_file_at(sfd, name, 64U * 1024U, &text, &len);
	if (r < 0)
		return r;
	r = write_file_atomic_at(dfd, name, text, len, mode, 0, 0);
	explicit_bzero(text, len);
	return r;
}

/*
 * Move the spare pairs of TYPES into TFD, the temp directory beside the keys: copied, then
 * removed from the spare directory (a spare that cannot be removed is not used: a key is used
 * once or never). Returns the types taken; a spare that fails is made anew instead (warned).
 */
static unsigned take_spares(const char *root, int tfd, unsigned types)
{
	_cleanup_close_ int sfd = open_spare_dir(root, false);
	unsigned taken = 0, ready;
	char buf[64];

	if (sfd == -EPERM)
		log_warning("'%s' is not a directory only root can read: its keys are not used.",
			    HOSTKEYS_SPARE_DIR);
	ready = pairs_in(sfd) & types;
	for (size_t i = 0; i < _HOSTKEY_MAX; i++) {
		char priv[64], pub[64];
		int r;

		if (!(ready & (1U << i)))
			continue;
		key_names((enum hostkey_type)i, priv, pub);
		r = copy_key_file(sfd, tfd, pub, 0644);
		if (r >= 0)
			r = copy_key_file(sfd, tfd, priv, 0600);
		if (r >= 0 && (unlinkat(sfd, priv, 0) < 0 || unlinkat(sfd, pub, 0) < 0))
			r = negative_errno();
		if (r < 0) {
			(void)unlinkat(tfd, priv, 0);
			(void)unlinkat(tfd, pub, 0);
			log_warning_errno(r, "Failed to take the spare %s key from '%s': %m; "
					  "generating one.", type_names[i], HOSTKEYS_SPARE_DIR);
			continue;
		}
		taken |= 1U << i;
	}
	if (taken)
		log_info("Took the spare %s host key%s made at the start of this boot.",
			 hostkey_types_format(taken, buf, sizeof(buf)),
			 __builtin_popcount(taken) == 1 ? "" : "s");
	return taken;
}

/* One round of hostkeys_make_spares(): TYPES made in a temp directory of SFD, then renamed
 * in, each .pub before its private key (a private key there means its pair is complete). */
static int make_spare_round(const char *root, const char *dir, int sfd, unsigned types,
			    unsigned idle, const char *idle_until)
{
	_cleanup_close_ int tfd = -1;
	char tmp[64];
	int r;

	r = make_tmpdir(sfd, tmp);
	if (r < 0)
		return log_error_errno(r, "Failed to make a directory in '%s': %m",
				       HOSTKEYS_SPARE_DIR);
	tfd = openat(sfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0)
		r = log_error_errno(errno, "Failed to open '%s/%s': %m", HOSTKEYS_SPARE_DIR, tmp);
	else
		r = keygen_all(dir, tmp, types, idle, idle_until);
	for (size_t i = 0; r >= 0 && i < _HOSTKEY_MAX; i++) {
		char priv[64], pub[64];

		if (!(types & (1U << i)))
			continue;
		key_names((enum hostkey_type)i, priv, pub);
		r = settle(tfd, priv, 0600);
		if (r >= 0)
			r = settle(tfd, pub, 0644);
		if (r >= 0 && (renameat(tfd, pub, sfd, pub) < 0 || renameat(tfd, priv, sfd, priv) < 0))
			r = negative_errno();
		if (r < 0)
			log_error_errno(r, "Failed to put the spare %s key in '%s': %m", type_names[i],
					HOSTKEYS_SPARE_DIR);
	}
	if (tfd >= 0)
		(void)unlinkat(sfd, tmp, AT_REMOVEDIR); /* empty once renamed */
	if (r < 0) {
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "%s/%s", HOSTKEYS_SPARE_DIR, tmp) >= 0)
			(void)rm_rf(root, p);
	}
	return r;
}

int hostkeys_make_spares(const char *root, unsigned types, unsigned idle, const char *idle_until,
			 bool dry_run, FILE *plan, unsigned *ret_made)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int sfd = -1;
	unsigned rounds[2];
	char buf[64];
	int r;

	*ret_made = 0;
	types &= HOSTKEY_ALL & ~hostkeys_spare_ready(root);
	if (types == 0)
		return 0;
	if (dry_run) {
		if (plan)
			fprintf(plan, "host-keys-spare: would make spare %s keys in %s\n",
				hostkey_types_format(types, buf, sizeof(buf)), HOSTKEYS_SPARE_DIR);
		*ret_made = types;
		return 1;
	}
	sfd = open_spare_dir(root, true);
	if (sfd < 0)
		return log_error_errno(sfd, "Failed to open '%s'%s: %m", HOSTKEYS_SPARE_DIR,
				       sfd == -EPERM ? " (not a directory only root can read)" : "");
	dir = path_join_root(root, HOSTKEYS_SPARE_DIR);
	if (!dir)
		return -ENOMEM;
	remove_leftovers(root, HOSTKEYS_SPARE_DIR, sfd);
	/* The quick types first, published at once; then the slow ones under SCHED_IDLE until
	 * IDLE_UNTIL says somebody waits for them. */
	rounds[0] = types & ~idle;
	rounds[1] = types & idle;
	for (size_t k = 0; k < ARRAY_SIZE(rounds); k++) {
		if (!rounds[k])
			continue;
		r = make_spare_round(root, dir, sfd, rounds[k], idle, idle_until);
		if (r < 0)
			return r;
		*ret_made |= rounds[k];
	}
	return 1;
}

/* Generate TYPES into a fresh directory beside the keys, then move them in. */
static int generate(const char *root, const char *dir, int dfd, unsigned types, bool regenerate,
		    size_t *ret_removed)
{
	_cleanup_close_ int tfd = -1;
	unsigned taken;
	char tmp[64];
	int r;

	r = make_tmpdir(dfd, tmp);
	if (r < 0)
		return log_error_errno(r, "Failed to make a directory in '%s': %m", HOSTKEYS_DIR);
	tfd = openat(dfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0) {
		r = log_error_errno(errno, "Failed to open '%s/%s': %m", HOSTKEYS_DIR, tmp);
		goto out;
	}

	taken = take_spares(root, tfd, types);
	if (types & ~taken) {
		r = keygen_all(dir, tmp, types & ~taken, 0, NULL);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < _HOSTKEY_MAX; i++) {
		char priv[64], pub[64];

		if (!(types & (1U << i)))
			continue;
		key_names((enum hostkey_type)i, priv, pub);
		r = settle(tfd, priv, 0600);
		if (r >= 0)
			r = settle(tfd, pub, 0644);
		if (r < 0) {
			log_error_errno(r, "Failed to settle the new '%s': %m", priv);
			goto out;
		}
	}
	fault_point("hostkeys-generated");

	/* A new instance: whatever else is there (another type, a certificate of the old key)
	 * belongs to the image's keys and goes; the new pairs replace the old ones by rename. */
	if (regenerate) {
		DIR *d = opendir_at(dfd);
		struct dirent *de;

		if (!d) {
			r = log_error_errno(errno, "Failed to list '%s': %m", HOSTKEYS_DIR);
			goto out;
		}
		while ((de = readdir(d))) {
			bool replaced = false;

			if (!is_key_file(de->d_name))
				continue;
			for (size_t i = 0; i < _HOSTKEY_MAX; i++) {
				char priv[64], pub[64];

				key_names((enum hostkey_type)i, priv, pub);
				replaced = replaced || ((types & (1U << i)) &&
							(streq(de->d_name, priv) ||
							 streq(de->d_name, pub)));
			}
			(*ret_removed)++;
			if (!replaced && unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT) {
				r = log_error_errno(errno, "Failed to remove '%s/%s': %m",
						    HOSTKEYS_DIR, de->d_name);
				closedir(d);
				goto out;
			}
		}
		closedir(d);
	}

	for (size_t i = 0; i < _HOSTKEY_MAX; i++) {
		char priv[64], pub[64];

		if (!(types & (1U << i)))
			continue;
		key_names((enum hostkey_type)i, priv, pub);
		if (renameat(tfd, pub, dfd, pub) < 0 || renameat(tfd, priv, dfd, priv) < 0) {
			r = log_error_errno(errno, "Failed to move the new '%s' into '%s': %m", priv,
					    HOSTKEYS_DIR);
			goto out;
		}
	}
	if (fsync(dfd) < 0)
		r = log_error_errno(errno, "Failed to sync '%s': %m", HOSTKEYS_DIR);
	else
		r = 0;
out:
	{
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "%s/%s", HOSTKEYS_DIR, tmp) >= 0)
			(void)rm_rf(root, p);
	}
	return r;
}

int hostkeys_install(const char *root, enum hostkey_type t, const char *private_key,
		     const char *public_key, bool dry_run, FILE *plan)
{
	_cleanup_free_ char *pubtext = NULL;
	_cleanup_close_ int dfd = -1;
	char priv[64], pub[64];
	size_t plen = strlen(private_key);
	int r;

	key_names(t, priv, pub);
	if (dry_run) {
		if (plan)
			fprintf(plan, "host-keys: would install the %s host key from the user data%s\n",
				type_names[t], public_key ? "" : " (its .pub derived)");
		return 1;
	}
	dfd = path_open_dir(root, HOSTKEYS_DIR, true, 0755);
	if (dfd < 0)
		return log_error_errno(dfd, "Failed to open '%s': %m", HOSTKEYS_DIR);
	if (plen > 0 && private_key[plen - 1] == '\n')
		r = write_file_atomic_at(dfd, priv, private_key, plen, 0600, 0, 0);
	else {
		/* ssh-keygen refuses a PEM/OpenSSH key without its final newline. */
		_cleanup_free_ char *text = NULL;

		if (asprintf(&text, "%s\n", private_key) < 0)
			return -ENOMEM;
		r = write_file_atomic_at(dfd, priv, text, plen + 1, 0600, 0, 0);
		explicit_bzero(text, plen + 1);
	}
	if (r < 0)
		return log_error_errno(r, "Failed to write '%s/%s': %m", HOSTKEYS_DIR, priv);
	if (!public_key) {
		if (unlinkat(dfd, pub, 0) < 0 && errno != ENOENT)
			return log_error_errno(errno, "Failed to remove the old '%s/%s': %m",
					       HOSTKEYS_DIR, pub);
		return 1;
	}
	if (asprintf(&pubtext, "%s%s", public_key,
		     *public_key && public_key[strlen(public_key) - 1] == '\n' ? "" : "\n") < 0)
		return -ENOMEM;
	r = write_file_atomic_at(dfd, pub, pubtext, strlen(pubtext), 0644, 0, 0);
	if (r < 0)
		return log_error_errno(r, "Failed to write '%s/%s': %m", HOSTKEYS_DIR, pub);
	return 1;
}

unsigned hostkeys_present(const char *root)
{
	_cleanup_close_ int dfd = path_open_dir(root, HOSTKEYS_DIR, false, 0);

	return pairs_in(dfd);
}

int hostkeys_ensure(const char *root, unsigned types, bool regenerate, bool dry_run, FILE *plan,
		    struct hostkeys_result *ret)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -1;
	unsigned missing = 0, no_pub = 0;
	char buf[64];
	int r;

	*ret = (struct hostkeys_result){};
	types &= HOSTKEY_ALL;
	dfd = path_open_dir(root, HOSTKEYS_DIR, !dry_run, 0755);
	if (dfd == -ENOENT && dry_run)
		missing = types;
	else if (dfd < 0)
		return log_error_errno(dfd, "Failed to open '%s': %m", HOSTKEYS_DIR);

	for (size_t i = 0; dfd >= 0 && i < _HOSTKEY_MAX; i++) {
		char priv[64], pub[64];

		key_names((enum hostkey_type)i, priv, pub);
		if (!regular_at(dfd, priv))
			missing |= (1U << i) & types;
		else if (!regular_at(dfd, pub))
			no_pub |= 1U << i;
		else
			ret->present |= 1U << i;
	}
	if (regenerate) {
		ret->generated = types;
		no_pub &= ~types;
	} else
		ret->generated = missing;
	if (regenerate && dfd >= 0) {
		DIR *d = opendir_at(dfd);
		struct dirent *de;

		if (d) {
			while ((de = readdir(d)))
				ret->removed += is_key_file(de->d_name);
			closedir(d);
		}
	}

	if (ret->generated == 0 && no_pub == 0)
		return 0;
	if (dry_run) {
		if (plan && regenerate && ret->removed)
			fprintf(plan, "host-keys: would remove the %zu host key files of the image\n",
				ret->removed);
		if (plan && ret->generated)
			fprintf(plan, "host-keys: would generate %s\n",
				hostkey_types_format(ret->generated, buf, sizeof(buf)));
		if (plan && no_pub)
			fprintf(plan, "host-keys: would derive the missing .pub of %s\n",
				hostkey_types_format(no_pub, buf, sizeof(buf)));
		ret->derived = no_pub;
		return 1;
	}

	dir = path_join_root(root, HOSTKEYS_DIR);
	if (!dir)
		return -ENOMEM;
	remove_leftovers(root, HOSTKEYS_DIR, dfd);
	ret->removed = 0;
	if (ret->generated) {
		r = generate(root, dir, dfd, ret->generated, regenerate, &ret->removed);
		if (r < 0)
			return r;
		ret->present |= ret->generated;
	}
	for (size_t i = 0; i < _HOSTKEY_MAX; i++) {
		if (!(no_pub & (1U << i)))
			continue;
		r = derive_public(dir, dfd, (enum hostkey_type)i);
		if (r < 0)
			return r;
		ret->derived |= 1U << i;
		ret->present |= 1U << i;
	}
	return 1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_pub_file(const char *name)
{
	size_t n = strlen(name);

	return startswith(name, "ssh_host_") && n > 8 && streq(name + n - 7, "key.pub");
}

/* The sorted names of ROOT/etc/ssh that FILTER accepts, and the directory. -ENOENT: none. */
static int list_keys(const char *root, bool (*filter)(const char *), int *ret_dfd,
		     char ***ret_names)
{
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_close_ int dfd = -1;
	DIR *d;
	struct dirent *de;
	int r = 0;

	*ret_names = NULL;
	dfd = path_open_dir(root, HOSTKEYS_DIR, false, 0);
	if (dfd < 0)
		return dfd;
	d = opendir_at(dfd);
	if (!d)
		return negative_errno();
	while (r >= 0 && (de = readdir(d)))
		if (filter(de->d_name))
			r = strv_push(&names, strdup(de->d_name));
	closedir(d);
	if (r < 0)
		return r;
	if (names)
		qsort(names, strv_length(names), sizeof(char *), by_name);
	*ret_names = TAKE_PTR(names);
	*ret_dfd = TAKE_FD(dfd);
	return 0;
}

static void push_line(const char *line, void *userdata)
{
	char ***l = userdata;
	char text[8192];

	escape_controls(line, text, sizeof(text));
	(void)strv_push(l, strdup(text)); /* a missing line falls back to one run per key */
}

/*
 * The fingerprints of the public lines PUBS, in their order, from one `ssh-keygen -l -f
 * /dev/stdin` reading them all (a memfd): one process instead of one per key. ssh-keygen skips
 * a line it cannot parse without a word, so anything but one fingerprint per line returns
 * -EBADMSG and the caller asks key by key (naming the bad one).
 */
static int fingerprints_at_once(char *const *pubs, char ***ret)
{
	_cleanup_strv_free_ char **lines = NULL;
	_cleanup_close_ int fd = -1;
	char *argv[] = { "ssh-keygen", "-l", "-f", "/dev/stdin", NULL };
	struct spawn_options o = {
		.timeout_usec = KEYGEN_TIMEOUT_USEC,
		.log_fd = -1,
		.line_cb = push_line,
		.userdata = &lines,
	};
	int r, status = -1;

	fd = memfd_create("vagent-hostkeys", MFD_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	for (size_t i = 0; pubs[i]; i++)
		if (dprintf(fd, "%s\n", pubs[i]) < 0)
			return -EIO;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return negative_errno();
	o.stdin_fd = fd;
	r = spawn_run(argv, &o, &status);
	if (r < 0)
		return r;
	if (status != 0 || strv_length(lines) != strv_length(pubs))
		return -EBADMSG;
	*ret = TAKE_PTR(lines);
	return 0;
}

int hostkeys_fingerprints(const char *root, char ***ret_fingerprints, char ***ret_public)
{
	_cleanup_strv_free_ char **names = NULL, **fps = NULL, **pubs = NULL, **paths = NULL;
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -1;
	int r;

	if (ret_fingerprints)
		*ret_fingerprints = NULL;
	if (ret_public)
		*ret_public = NULL;
	r = list_keys(root, is_pub_file, &dfd, &names);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return log_error_errno(r, "Failed to list '%s': %m", HOSTKEYS_DIR);
	dir = path_join_root(root, HOSTKEYS_DIR);
	if (!dir)
		return -ENOMEM;

	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_free_ char *text = NULL, *path = NULL;
		size_t len;

		/* A symlink or a device is not read, not even by ssh-keygen. */
		r = read_file_at(dfd, names[i], PUB_MAX, &text, &len);
		if (r < 0) {
			log_warning_errno(r, "Failed to read '%s/%s': %m, ignoring.", HOSTKEYS_DIR,
					  names[i]);
			continue;
		}
		text[strcspn(text, "\r\n")] = 0;
		if (string_has_control(text, strlen(text), false) ||
		    !(startswith(text, "ssh-") || startswith(text, "ecdsa-"))) {
			log_warning("'%s/%s' is not an OpenSSH public key, ignoring.", HOSTKEYS_DIR,
				    names[i]);
			continue;
		}
		if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
			return -ENOMEM;
		r = strv_push(&paths, TAKE_PTR(path));
		if (r >= 0)
			r = strv_push(&pubs, TAKE_PTR(text));
		if (r < 0)
			return r;
	}

	/* Key by key only when the one run could not fingerprint them all. */
	if (ret_fingerprints && pubs && fingerprints_at_once(pubs, &fps) < 0) {
		for (size_t i = 0; paths[i]; i++) {
			char *argv[] = { "ssh-keygen", "-l", "-f", paths[i], NULL };
			struct last_line out;

			if (keygen(argv, paths[i] + strlen(dir) + 1, &out) < 0)
				continue; /* logged */
			r = strv_push(&fps, strdup(out.text));
			if (r < 0)
				return r;
		}
	}
	if (ret_fingerprints)
		*ret_fingerprints = TAKE_PTR(fps);
	if (ret_public)
		*ret_public = TAKE_PTR(pubs);
	return 0;
}

int hostkeys_remove(const char *root, bool dry_run, char ***ret)
{
	_cleanup_strv_free_ char **names = NULL, **paths = NULL;
	_cleanup_close_ int dfd = -1;
	int r, n = 0;

	if (ret)
		*ret = NULL;
	r = list_keys(root, is_key_file, &dfd, &names);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return log_error_errno(r, "Failed to list '%s': %m", HOSTKEYS_DIR);
	for (size_t i = 0; names && names[i]; i++) {
		char *p = NULL;

		if (!dry_run && unlinkat(dfd, names[i], 0) < 0 && errno != ENOENT)
			return log_error_errno(errno, "Failed to remove '%s/%s': %m", HOSTKEYS_DIR,
					       names[i]);
		if (asprintf(&p, "%s/%s", HOSTKEYS_DIR, names[i]) < 0)
			return -ENOMEM;
		r = strv_push(&paths, p);
		if (r < 0)
			return r;
		n++;
	}
	if (!dry_run && n > 0 && fsync(dfd) < 0)
		return log_error_errno(errno, "Failed to sync '%s': %m", HOSTKEYS_DIR);
	if (ret)
		*ret = TAKE_PTR(paths);
	return n;
}
