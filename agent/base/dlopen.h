/* SPDX-License-Identifier: MIT */
/*
 * dlopen.h: loading a library at the first call that needs it, as systemd does for its
 * optional libraries: the units that never partition, probe or talk to the bus never map
 * libparted, libblkid or libsystemd (less to relocate at exec, a lower RSS). The file that
 * uses a library is still its only includer: it keeps a table of function pointers typed
 * from the library's own header and resolves it with dl_load().
 */
#pragma once

#include <stddef.h>

struct dl_symbol {
	const char *name;
	void **ptr;
};

/* One row of a symbol table: DL_SYMBOL(sym, blkid_new_probe) for sym.blkid_new_probe. */
#define DL_SYMBOL(table, fn) { #fn, (void **)&(table).fn }

/*
 * Load SONAME (once per process: *HANDLE stays set) and resolve every symbol of SYMS. 0 when
 * loaded, now or earlier; -ENOPKG when the library or a symbol is missing, logged as
 * "SONAME is needed to WHAT: <dlerror>" (WHAT: "partition a disk", ...) at every failed
 * call. Nothing is partially resolved on failure: every pointer of SYMS is then NULL.
 */
int dl_load(void **handle, const char *soname, const char *what, const struct dl_symbol *syms,
	    size_t n);
