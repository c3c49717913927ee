/* SPDX-License-Identifier: MIT */
/*
 * json.h: every conversion between JSON text and vagent's plain C records: the metadata document
 * (v1.json) into struct metadata, the document rendered for `vagent metadata [KEY]`, and the
 * boot and volume reports for `status --json`, `mount --json` and the status file. json.c is the
 * only json-c user; no json-c type crosses this interface.
 */
#pragma once

#include <stddef.h>

#include "metadata/metadata.h"
#include "base/report.h"

/* Nesting deeper than this is refused (the real document is 5 levels deep). */
#define JSON_MAX_DEPTH 32

/*
 * Parse and validate a v1.json document of LEN bytes (BUF need not be NUL-terminated). On success
 * returns 0 and a new struct metadata in *RET. An invalid document gives -EBADMSG and, when
 * RET_ERROR is not NULL, a malloc'd single line in *RET_ERROR naming the field and the reason,
 * e.g. "field 'public-keys[1]': expected a string, got number". The line never contains a value
 * from the document. Out of memory gives -ENOMEM (*RET_ERROR may then be NULL).
 */
int metadata_parse(const char *buf, size_t len, struct metadata **ret, char **ret_error);

/*
 * `vagent metadata [KEY]`. PATH NULL: the whole document as pretty JSON, with the secret fields
 * user-data, vendor-data and startup-script replaced by "<redacted: N bytes>" (an empty array
 * stays []). PATH "a.b.0.c": the value there (array elements by decimal index); a string is
 * printed raw followed by a newline (a string holding a NUL byte is printed as a JSON string),
 * anything else as pretty JSON; a secret asked for by name is printed. The text (always ending
 * in a newline) is malloc'd into *RET_TEXT.
 * Errors: -EBADMSG document not valid JSON or not an object, -ENOENT no value at PATH,
 * -EINVAL malformed PATH (an empty component), -ENOMEM.
 */
int metadata_render(const char *buf, size_t len, const char *path, char **ret_text);

/*
 * The document's top-level scalar KEY as cloud-init's jinja prints ds.meta_data.KEY: a string
 * as it is, a number as JSON writes it, true/false as True/False, null as None. KEY also finds
 * a key spelled with '-' where KEY has '_' (cloud-init's jinja aliases). -ENOENT none,
 * -EMEDIUMTYPE an object or an array, -EBADMSG not a document, -ENOMEM.
 */
int metadata_top_scalar(const char *buf, size_t len, const char *key, char **ret);

/*
 * The boot report as the status document (`status --json` and the status file):
 * {"instance_id", "first_boot", "metadata_source", "steps": [{"name", "result", "duration_ms",
 * "message"}], "started", "finished", "volumes": [{"device", "verdict", "reason", "action",
 * "mountpoint", "uuid", "volume_id", "result"}], "userdata_ran", "userdata_exit"}; absent strings
 * are null, userdata_exit is null when unknown (< 0). Pretty-printed, ending in a newline.
 */
int boot_report_to_json(const struct boot_report *b, char **ret);

/*
 * The inverse of boot_report_to_json(). Missing keys keep their defaults (NULL, false, 0, -1)
 * so older status files load; a key of the wrong type, an unknown step result or a string with
 * a NUL byte gives -EBADMSG. *RET is only written on success (release it with
 * boot_report_done()).
 */
int boot_report_from_json(const char *buf, size_t len, struct boot_report *ret);

/*
 * `mount --json`: {"devices": [{"device", "verdict", "reason", "action", "mountpoint", "uuid"}]},
 * null for absent strings. Pretty-printed, ending in a newline.
 */
int volumes_to_json(const struct volume_report *v, size_t n, char **ret);
