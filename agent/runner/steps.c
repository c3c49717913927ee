/* SPDX-License-Identifier: MIT */
/*
 * steps.c (runner): the step table, and nothing else. Order matters: the metadata step fills
 * the context every later step reads; the keys come before anything that reads the user data
 * at length (bootcmd), so whatever the user data holds, the instance can be logged into. The
 * root grows first in the storage stage, before the volumes and the user data need space. The
 * user-data stage follows cloud-init's order: the cloud-config modules, then the vendor's
 * scripts, the startup script, the image's script directories, and the user's scripts last.
 */
#include "base/log.h"
#include "base/state.h"
#include "runner/steps.h"
#include "steps/bootcmd.h"
#include "steps/growroot.h"
#include "steps/hostkeys.h"
#include "steps/hostname.h"
#include "steps/metadata.h"
#include "steps/network.h"
#include "steps/scripts.h"
#include "steps/sshkeys.h"
#include "steps/userdata.h"
#include "steps/volumes.h"

static const struct step table[] = {
	/* before systemd-networkd, from the cache: the boot stage's network step then finds
	 * every file as it would write it, and networkd reloads nothing */
	{ "network-early", step_network_early, STAGE_EARLY,
	  STEP_NEEDS_METADATA | STEP_CACHE_ONLY | STEP_NO_DEVICES, MSGID_NETWORK },
	/* early and beside everything: the keys a fresh image's first boot will need, made while
	 * the boot waits for the network; host-keys (and host-keys-after-ssh) take them */
	{ "host-keys-spare", step_hostkeys_spare, STAGE_KEYGEN,
	  STEP_NO_RUN_LOCK | STEP_NO_DEVICES, MSGID_HOSTKEYS },
	{ "metadata", step_metadata, STAGE_BOOT, 0, MSGID_METADATA },
	{ "ssh-keys", step_sshkeys, STAGE_BOOT, STEP_NEEDS_METADATA | STEP_NEEDS_SERVICE,
	  MSGID_SSHKEYS },
	/* every boot, from the cache too (never from nothing); before bootcmd, whose commands
	 * may need the VPC */
	{ "network", step_network, STAGE_BOOT, STEP_NEEDS_METADATA, MSGID_NETWORK },
	{ "bootcmd", step_bootcmd, STAGE_BOOT, STEP_NEEDS_METADATA | STEP_ONCE_PER_BOOT,
	  MSGID_BOOTCMD },
	{ "hostname", step_hostname, STAGE_BOOT, STEP_NEEDS_METADATA | STEP_NEEDS_SERVICE,
	  MSGID_HOSTNAME },
	{ "host-keys", step_hostkeys, STAGE_BOOT, STEP_HOSTKEYS_LOCK, MSGID_HOSTKEYS },
	/* what host-keys left for after ssh.service started (RSA, by default); beside the
	 * user-data unit, which must not wait for ssh-keygen */
	{ "host-keys-after-ssh", step_hostkeys_after_ssh, STAGE_AFTER_SSH,
	  STEP_HOSTKEYS_LOCK | STEP_NO_RUN_LOCK, MSGID_HOSTKEYS },
	{ "grow-root", step_grow_root, STAGE_STORAGE, STEP_STORAGE_LOCK | STEP_NO_DEVICES,
	  MSGID_GROW_ROOT },
	{ "storage", step_storage, STAGE_STORAGE, STEP_STORAGE_LOCK, MSGID_STORAGE },
	{ "userdata", step_userdata, STAGE_USERDATA, STEP_NEEDS_METADATA, MSGID_USERDATA },
	{ "vendor-scripts", step_vendor_scripts, STAGE_USERDATA, STEP_NEEDS_METADATA,
	  MSGID_VENDOR },
	{ "startup-script", step_startup_script, STAGE_USERDATA, STEP_NEEDS_METADATA,
	  MSGID_STARTUP },
	{ "scripts-per-once", step_scripts_per_once, STAGE_USERDATA, 0, MSGID_SCRIPTS },
	{ "scripts-per-boot", step_scripts_per_boot, STAGE_USERDATA, 0, MSGID_SCRIPTS },
	{ "scripts-per-instance", step_scripts_per_instance, STAGE_USERDATA, 0, MSGID_SCRIPTS },
	{ "user-scripts", step_user_scripts, STAGE_USERDATA, STEP_NEEDS_METADATA, MSGID_USERDATA },
	{ "umount", step_umount, STAGE_SHUTDOWN, STEP_STORAGE_LOCK, MSGID_STORAGE_UNMOUNTED },
};

const struct step *step_table(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(table);
	return table;
}

const struct step *step_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(table); i++)
		if (streq(table[i].name, name))
			return &table[i];
	return NULL;
}

size_t step_index(const char *name)
{
	const struct step *s = step_find(name);

	return s ? (size_t)(s - table) : ARRAY_SIZE(table);
}

static const char *const stages[_STAGE_MAX] = {
	[STAGE_EARLY] = "early",
	[STAGE_KEYGEN] = "keygen",
	[STAGE_BOOT] = "boot",
	[STAGE_STORAGE] = "storage",
	[STAGE_USERDATA] = "userdata",
	[STAGE_AFTER_SSH] = "after-ssh",
	[STAGE_SHUTDOWN] = "shutdown",
};

static const char *const units[_STAGE_MAX] = {
	[STAGE_EARLY] = "vagent-early.service",
	[STAGE_KEYGEN] = "vagent-keygen.service",
	[STAGE_BOOT] = "vagent.service",
	[STAGE_STORAGE] = "vagent-storage.service",
	[STAGE_USERDATA] = "vagent-userdata.service",
	[STAGE_AFTER_SSH] = "vagent-hostkeys.service",
	[STAGE_SHUTDOWN] = "vagent-storage.service",
};

/* vagent-hostkeys.service runs only when the boot stage left it a key. */
static const char *const conditions[_STAGE_MAX] = {
	[STAGE_AFTER_SSH] = RUN_HOSTKEYS_AFTER_SSH,
};

const char *stage_to_string(enum step_stage s)
{
	return (size_t)s < _STAGE_MAX ? stages[s] : NULL;
}

int stage_from_string(const char *s)
{
	for (size_t i = 0; s && i < _STAGE_MAX; i++)
		if (streq(stages[i], s))
			return (int)i;
	return -EINVAL;
}

const char *stage_unit(enum step_stage s)
{
	return (size_t)s < _STAGE_MAX ? units[s] : NULL;
}

const char *stage_condition(enum step_stage s)
{
	return (size_t)s < _STAGE_MAX ? conditions[s] : NULL;
}
