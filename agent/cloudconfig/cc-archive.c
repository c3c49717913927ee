/* SPDX-License-Identifier: MIT */
/*
 * cc-archive.c: a "#cloud-config-archive" list into MIME-like parts (cc-archive.h). The YAML
 * is read by cloudconfig.c (the only libyaml user) into a cc_node tree; each entry is turned
 * into a struct mime_part as cloud-init's _explode_archive builds its MIME parts, so cc-apply.c
 * handles them exactly as a multipart's.
 */
#include <strings.h>

#include "base/util.h"
#include "cloudconfig/cc-archive.h"
#include "cloudconfig/cc-detect.h"

#define TAG_BINARY "tag:yaml.org,2002:binary"

static int set_error(struct cc_error *err, const struct cc_node *n, int r, const char *problem)
{
	*err = (struct cc_error){ .line = n ? n->line : 1, .column = n ? n->column : 1 };
	snprintf(err->problem, sizeof(err->problem), "%s", problem);
	return r;
}

static char *lower_dup(const char *s)
{
	char *r = strdup(s);

	for (char *c = r; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return r;
}

/* One entry into P (zeroed). 0, or -ENOMEM. */
static int entry_part(const struct cc_node *ent, struct mime_part *p)
{
	const struct cc_node *content = NULL, *type = NULL;
	const char *mtype = NULL;
	bool binary = false;

	if (ent->type == CC_NODE_SCALAR && cc_node_is_str(ent))
		content = ent;
	else if (ent->type == CC_NODE_MAPPING) {
		content = cc_map_get(ent, "content");
		type = cc_map_get(ent, "type");
		for (size_t i = 0; i < ent->map.n; i++) {
			const char *k = cc_scalar_str(ent->map.pairs[i].key);
			const char *v = cc_scalar_str(ent->map.pairs[i].value);

			/* Other keys are headers of the part; Merge-Type is the one that counts
			 * (the first of Merge-Type, X-Merge-Type, as cc-mime.c reads them). */
			if (k && v && ent->map.pairs[i].value->type == CC_NODE_SCALAR &&
			    (strcasecmp(k, "merge-type") == 0 ||
			     (strcasecmp(k, "x-merge-type") == 0 && !p->merge_type))) {
				free(p->merge_type);
				p->merge_type = strdup(v);
				if (!p->merge_type)
					return -ENOMEM;
			}
		}
	} else {
		p->skipped = "neither a string nor a mapping";
		return 0;
	}
	if (content && cc_node_is_null(content))
		content = NULL; /* ent.get("content", "") with content: ~ is None: not a str */
	if (ent->type == CC_NODE_MAPPING && !cc_map_get(ent, "content"))
		content = NULL;
	if (content && content->type == CC_NODE_SCALAR && content->tag &&
	    streq(content->tag, TAG_BINARY))
		binary = true;
	else if (content && (content->type != CC_NODE_SCALAR || !cc_node_is_str(content))) {
		p->skipped = "content is not a string";
		return 0;
	}
	if (type && !cc_node_is_null(type)) {
		if (type->type != CC_NODE_SCALAR || !cc_scalar_str(type)) {
			p->skipped = "type is not a string";
			return 0;
		}
		mtype = cc_scalar_str(type);
		if (*mtype && !strchr(mtype, '/')) {
			p->skipped = "type has no '/' (cloud-init cannot split it)";
			return 0;
		}
		if (!*mtype)
			mtype = NULL;
	}
	if (binary) {
		int r = base64_decode(content->scalar.value, content->scalar.len, BASE64_ASCII,
				      &p->body, &p->len);

		if (r == -EBADMSG) {
			p->skipped = "!!binary content is not base64";
			return 0;
		}
		if (r < 0)
			return r;
	} else {
		size_t n = content ? content->scalar.len : 0;

		p->body = malloc(n + 1);
		if (!p->body)
			return -ENOMEM;
		if (n)
			memcpy(p->body, content->scalar.value, n);
		p->body[n] = 0;
		p->len = n;
	}
	if (!mtype) {
		/* handlers.type_from_starts_with(content, default) */
		enum userdata_kind k = binary ? USERDATA_NONE : userdata_detect(p->body, p->len);

		mtype = userdata_kind_prefix(k) ? userdata_kind_mime_type(k) : NULL;
		if (!mtype)
			mtype = binary ? "application/octet-stream" : "text/cloud-config";
	}
	p->type = lower_dup(mtype);
	p->decoded = true;
	return p->type ? 0 : -ENOMEM;
}

int cc_archive_split(const char *data, size_t len, struct cc_budget *b, struct mime_part **ret,
		     size_t *ret_n, struct cc_error *err)
{
	_cleanup_(cc_node_freep) struct cc_node *root = NULL;
	struct mime_part *parts;
	bool more = false;
	int r;

	*ret = NULL;
	*ret_n = 0;
	r = cloud_config_load(data, len, b, &root, &more, err);
	if (r >= 0 && more)
		r = cloud_config_more_documents_error(err);
	if (r < 0)
		return r;
	if (!root || cc_node_is_null(root))
		return 0; /* an empty list */
	if (root->type != CC_NODE_SEQUENCE)
		return set_error(err, root, -EBADMSG,
				 root->type == CC_NODE_MAPPING ? "the top level is a mapping, not a list"
							       : "the top level is a scalar, not a list");
	if (root->seq.n > MIME_MAX_PARTS)
		return set_error(err, root, -E2BIG, "more entries than a MIME archive may have parts");
	if (root->seq.n == 0)
		return 0;
	parts = calloc(root->seq.n, sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	for (size_t i = 0; i < root->seq.n; i++) {
		r = entry_part(root->seq.items[i], &parts[i]);
		if (r < 0) {
			mime_parts_free(parts, root->seq.n);
			return r;
		}
	}
	*ret = parts;
	*ret_n = root->seq.n;
	return 0;
}
