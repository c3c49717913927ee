/* SPDX-License-Identifier: MIT */
/*
 * dlopen.c: dl_load(), the one place that calls dlopen(3): a library by its soname, every
 * symbol its user needs resolved at once (RTLD_NOW), a clear error when it is not installed.
 */
#include <dlfcn.h>
#include <errno.h>

#include "base/dlopen.h"
#include "base/log.h"

int dl_load(void **handle, const char *soname, const char *what, const struct dl_symbol *syms,
	    size_t n)
{
	void *h;

	if (*handle)
		return 0;
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h)
		return log_error_errno(-ENOPKG, "%s is needed to %s: %s", soname, what, dlerror());
	for (size_t i = 0; i < n; i++) {
		void *p = dlsym(h, syms[i].name);

		if (!p) {
			log_error("%s is needed to %s: %s", soname, what, dlerror());
			for (size_t k = 0; k < n; k++)
				*syms[k].ptr = NULL;
			dlclose(h);
			return -ENOPKG;
		}
		*syms[i].ptr = p;
	}
	*handle = h;
	return 0;
}
