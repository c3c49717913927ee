/* SPDX-License-Identifier: MIT */
/*
 * cc-apply.h: cloud-config user data, decoded once per run and applied: the decoded document
 * (gzip undone, "## template: jinja" rendered, MIME parts and #cloud-config-archive entries
 * split, cloud-config parts parsed and merged), bootcmd (every boot,
 * before the other steps), the keys and hostname the other steps take from it, and the
 * per-instance pass (write_files, users, mounts, the system keys, packages, shell-script parts,
 * runcmd, deferred write_files, power_state), each module stamped in the instance state so it
 * runs once per instance; final_message runs every boot.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cloudconfig/cloudconfig.h"
#include "base/config.h"
#include "base/report.h"
#include "cloudconfig/cc-detect.h"
#include "cloudconfig/cc-template.h"

/* One text/x-shellscript part of a MIME archive (1-based INDEX among the parts; 0: the whole
 * document was the script). ORIGIN names where it came from and its state files:
 * "user-data" (user-data.part-3.*) or "vendor-data" (vendor-data.part-1.*, vendor-data.*). */
struct cc_script {
	char *data;
	size_t len;
	size_t index;
	const char *origin; /* static */
};

struct cc_doc {
	enum userdata_kind kind;     /* what the user data is, once gunzipped */
	bool gzip;                   /* it was gzip-compressed */
	char *plain;                 /* the gunzipped bytes (NULL when not gzip) */
	size_t plain_len;
	struct cloud_config *cc;     /* NULL: no cloud-config in it */
	struct cc_node *tree;	     /* while decoding: the cloud-config parts merged so far */
	size_t n_configs;	     /* cloud-config parts read */
	char *merge_how;	     /* the mergers a part named ("list(append)+..."), NULL: none */
	char *merge_error;	     /* a part left out for a merge_how cloud-init refuses too */
	struct cc_script *scripts;   /* MIME x-shellscript parts, in order */
	size_t n_scripts;
	char **ignored_parts;        /* "part 3 (text/x-include-url)" */
	size_t n_parts_not_run;	     /* of those, parts cloud-init would act on (vagent does not) */
	int error;                   /* <0: not usable; ERROR_MESSAGE says why (secret-free) */
	char *error_message;
	size_t vendor_keys;          /* merged: the vendor data's keys the user data left alone */
	bool vendor_disabled;        /* merged: vendor_data: {enabled: false} in the user data */
	struct cc_budget budget; /* what parsing its cloud-config parts may still cost */
	size_t gunzip_left;	 /* bytes its gzip layers may still inflate to, together */
	bool rendered;		 /* a "## template: jinja" user data: PLAIN is the rendered text,
				  * KIND what it rendered to */
	size_t n_templates;	 /* jinja templates rendered (the whole user data or parts) */
	size_t n_missing_vars;	 /* their names vagent does not know (CI_MISSING_JINJA_VAR/) */
	size_t n_archive_entries; /* #cloud-config-archive entries read as parts */
	/* while decoding only */
	const struct cc_vars *vars; /* the instance's template variables (borrowed), NULL none */
	size_t part_count;	    /* parts numbered so far (archive entries inside MIME go on) */
	bool in_archive, in_template;
};

/* Decode DATA (LEN bytes of user data; NULL: none). Fills D even on failure (D->error).
 * Everything its gzip layers inflate counts against one max-userdata-size, and all its
 * cloud-config parts share one parse budget (cc-node.h). Returns -ENOMEM only; a bad document
 * is D->error. */
int cc_doc_decode(const struct config *cfg, const char *data, size_t len, struct cc_doc *d);
/* The same, "## template: jinja" (the whole user data, MIME parts, archive entries) rendered
 * with VARS (NULL: none known: every name renders as CI_MISSING_JINJA_VAR/). A template using
 * what vagent does not render makes the whole document not usable (D->error names the
 * construct and its line); unknown names are warned about, never their values. */
int cc_doc_decode_vars(const struct config *cfg, const struct cc_vars *vars, const char *data,
		       size_t len, struct cc_doc *d);
void cc_doc_done(struct cc_doc *d);

/*
 * Merge SRC, a document of higher priority (the user data over the vendor data), into DST, as
 * cloud-init merges vendor and user cloud-config: each key SRC has replaces DST's, SRC's
 * scripts and ignored parts follow DST's. SRC is left without them. 0 or -ENOMEM / -E2BIG.
 */
int cc_doc_merge(struct cc_doc *dst, struct cc_doc *src);

/* true when D holds a usable cloud-config */
bool cc_doc_has_config(const struct cc_doc *d);

/*
 * The cloud-config's hostname keys as cloud-init reads them (util.get_hostname_fqdn): HOSTNAME
 * the short name (the hostname key wins; else the fqdn's first label), FQDN the fqdn key or a
 * hostname with a dot (NULL: none); both NULL when the cloud-config names none, or when one is
 * not a valid host name (INVALID_KEY then names it, INVALID_REASON says why: the metadata's
 * name is used). MANAGE_ETC_HOSTS: vagent's default (the key absent) is true, the 127.0.1.1
 * line; cloud-init's is false. Pointers into D (or H->label); D must outlive H.
 */
struct cc_hostname {
	const char *hostname;
	const char *fqdn;
	bool preserve;
	bool prefer_fqdn;
	bool no_hostname_file;
	bool manage_etc_hosts;
	const char *invalid_key;
	char invalid_reason[128];
	char label[64];
};
void cc_doc_hostname_info(const struct cc_doc *d, struct cc_hostname *ret);

/*
 * The cloud-config's SSH keys for USER (the configured [ssh] user): the top-level
 * ssh_authorized_keys, then those of a "default" users entry or of the entry named USER.
 * Invalid keys are left out with a warning naming the key's index. *RET may be NULL.
 */
int cc_doc_ssh_keys(const struct cc_doc *d, const char *user, char ***ret);
/* Whether D's users key names USER or "default" (the users module then makes USER when it is
 * missing, and writes its keys). */
bool cc_doc_makes_user(const struct cc_doc *d, const char *user);

/* bootcmd: every boot. <0 failed (a command failed), 0 nothing, 1 ran, 2 skipped. */
int cc_bootcmd(const char *root, const struct config *cfg, const char *id,
	       const struct cc_doc *d, bool dry_run, char **ret_message);

/* The per-instance pass in three phases, each a step of its own: between the vendor scripts
 * and the user's run the startup script and /var/lib/cloud/scripts/per-{once,boot,instance}
 * (cloud-init's order: its scripts_vendor, scripts_per_*, then scripts_user with runcmd). */
enum cc_phase {
	CC_PHASE_CONFIG,         /* write_files, users, chpasswd/password, ssh_pwauth, mounts,
				  * packages, deferred write_files */
	CC_PHASE_VENDOR_SCRIPTS, /* the vendor data's shell scripts */
	CC_PHASE_USER_SCRIPTS,   /* the user data's shell-script parts, then runcmd */
};

/*
 * The per-instance PHASE over D (the merged document: vendor data, a #cloud-config startup
 * script, the user data). Modules already stamped for instance ID are not run again (a crash
 * resumes where it stopped). With DRY_RUN, writes nothing and prints the plan to PLAN (when
 * not NULL). HOST (may be NULL) is what the step layer lends the modules (cc-types.h: a fetch
 * function, the datasource's name). In CC_PHASE_CONFIG every top-level key of the merged
 * cloud-config goes to REPORT's keys (when not NULL) with its status: applied, partial,
 * ignored (why) or error (why); runcmd's is "applied by the user-scripts step". *RET_MESSAGE:
 * "cloud-config: 5 keys applied, 1 partly applied (write_files), 2 ignored (snap,
 * byobu_by_default)", or for a scripts phase "2 user-data scripts ran; runcmd: 3 commands ran".
 * Returns <0 when a key failed or a part cloud-init would run is not run, 0 nothing left to
 * do, 1 applied (or would apply).
 */
int cc_apply_instance(const char *root, const struct config *cfg, const char *id,
		      const struct cc_doc *d, const struct cc_host *host, enum cc_phase phase,
		      bool dry_run, FILE *plan, struct boot_report *report, char **ret_message);

/* The modules of every boot (final_message) on a boot whose per-instance pass is already
 * done. <0 failed, 0 none, 1 ran. */
int cc_apply_always(const char *root, const struct config *cfg, const char *id,
		    const struct cc_doc *d, const struct cc_host *host, bool dry_run, FILE *plan);

/* Every top-level key of D's cloud-config into REPORT as ignored for WHY ("[userdata] run =
 * no"). */
int cc_doc_report_ignored(const struct cc_doc *d, const struct config *cfg, const char *why,
			  struct boot_report *report);

/* The stamp written when the per-instance pass is complete. */
#define CC_STAMP_DONE "cloud-config.done"
