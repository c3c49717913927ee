/* SPDX-License-Identifier: MIT */
/*
 * cc-mime.h: multipart MIME user data (cloud-init's "Content-Type: multipart/mixed" archives,
 * as Terraform's cloudinit_config and write-mime-multipart make them) split into parts, with
 * base64 transfer encoding undone; and the base64 decoder write_files uses. Pure functions.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Parts of one archive at most (Terraform's cloudinit_config makes a handful). */
#define MIME_MAX_PARTS 1024

struct mime_part {
	char *type;     /* lowercased "text/x-shellscript"; "" when the part has none */
	char *merge_type; /* its Merge-Type (or X-Merge-Type) header, NULL when none */
	bool decoded;   /* false: a transfer encoding vagent does not handle (TYPE kept) */
	char *body;     /* NUL-terminated (not counted); NULL when !DECODED */
	size_t len;
	const char *skipped; /* a #cloud-config-archive entry left out: why (static), else NULL */
};

void mime_parts_free(struct mime_part *p, size_t n);

/*
 * Split DATA (a whole message: headers, a blank line, the multipart body) into its parts, in
 * order; a message whose type is not multipart is its own only part (its headers and body).
 * Transfer encodings: 7bit, 8bit, binary, base64, quoted-printable. Returns 0, -EBADMSG when a
 * multipart type has no boundary,
 * -E2BIG when it has more than MIME_MAX_PARTS parts, -ENOMEM. Nested multipart parts are returned
 * as they are (type "multipart/...").
 */
int mime_split(const char *data, size_t len, struct mime_part **ret, size_t *ret_n);

/* true when DATA starts like a MIME message: "Content-Type:" or "MIME-Version:" header. */
bool mime_is(const char *data, size_t len);

/*
 * Decode base64 as Python's base64.b64decode(s) does (binascii without strict mode), which is
 * what cloud-init calls: characters outside the alphabet are skipped, a '=' where no padding
 * can be is skipped, the padding that completes a quantum ends the data (the rest is ignored).
 * One character left over is -EBADMSG; two or three without their padding are -EBADMSG unless
 * BASE64_PAD_OK (Python's email module adds the padding). With BASE64_ASCII a byte >= 0x80 is
 * -EBADMSG (Python refuses a str that is not ASCII).
 */
enum {
	BASE64_PAD_OK = 1 << 0,
	BASE64_ASCII = 1 << 1,
};
int base64_decode(const char *s, size_t len, unsigned flags, char **ret, size_t *ret_len);
