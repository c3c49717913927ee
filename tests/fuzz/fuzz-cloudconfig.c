/* SPDX-License-Identifier: MIT */
/*
 * fuzz-cloudconfig.c: the cloud-config parser (cloudconfig.c, cc-node.c): YAML events -> tree ->
 * struct cloud_config, and the merge of two parts. Properties: documented results only; the
 * tree nests at most CC_MAX_DEPTH levels, holds at most CC_MAX_NODES values and each scalar key
 * of a mapping once; the work charged never passes the budget; the typed config keeps its
 * counts (lists NULL-terminated at their stated length, at most CC_MAX_ENTRIES entries, at most
 * CC_MAX_PROBLEMS + 1 problem lines, unknown keys without duplicates); merging the tree with a
 * copy of itself (list(append)) loses no key and adds no unknown key.
 */
#include <errno.h>

#include "base/set.h"
#include "base/util.h"
#include "cloudconfig/cloudconfig.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static size_t check_tree(const struct cc_node *n, unsigned depth)
{
	size_t count = 1;

	if (n->type != CC_NODE_SCALAR)
		FUZZ_ASSERT(depth <= CC_MAX_DEPTH);
	FUZZ_ASSERT(n->line >= 1 && n->column >= 1);
	if (n->type == CC_NODE_SCALAR) {
		FUZZ_ASSERT(n->scalar.value && n->scalar.value[n->scalar.len] == 0);
	} else if (n->type == CC_NODE_SEQUENCE) {
		for (size_t i = 0; i < n->seq.n; i++)
			count += check_tree(n->seq.items[i], depth + 1);
	} else {
		struct strset keys = {};

		for (size_t i = 0; i < n->map.n; i++) {
			const struct cc_node *k = n->map.pairs[i].key;

			if (k->type == CC_NODE_SCALAR) {
				FUZZ_ASSERT(strset_put(&keys, k->scalar.value, k->scalar.len, i,
						       NULL) == 1);
				/* an indexed mapping finds its keys */
				if (!memchr(k->scalar.value, 0, k->scalar.len))
					FUZZ_ASSERT(cc_map_get(n, k->scalar.value) ==
						    n->map.pairs[i].value);
			}
			count +=
			    check_tree(k, depth + 1) + check_tree(n->map.pairs[i].value, depth + 1);
		}
		strset_done(&keys);
	}
	return count;
}

static void check_strv(char **l, size_t max)
{
	FUZZ_ASSERT(strv_length(l) <= max);
}

static void check_config(const struct cloud_config *cc)
{
	struct strset seen = {};

	FUZZ_ASSERT(strv_length(cc->problems) == cc->n_problems);
	FUZZ_ASSERT(cc->n_problems <= CC_MAX_PROBLEMS + 1);
	FUZZ_ASSERT(strv_length(cc->unknown) == cc->n_unknown);
	FUZZ_ASSERT(cc->n_unknown + cloud_config_n_keys(cc) <= CC_MAX_KEYS);
	for (size_t i = 0; i < cc->n_unknown; i++)
		FUZZ_ASSERT(strset_put(&seen, cc->unknown[i], strlen(cc->unknown[i]), i, NULL) ==
			    1);
	strset_done(&seen);
	for (size_t k = 0; k < _CC_KEY_MAX; k++) {
		FUZZ_ASSERT(!(cc->has[k] && cc->invalid[k]));
		FUZZ_ASSERT(!cc->partial[k] || cc->has[k]);
	}
	FUZZ_ASSERT(cc->n_users <= CC_MAX_ENTRIES && cc->n_files <= CC_MAX_ENTRIES &&
		    cc->n_bootcmd <= CC_MAX_ENTRIES && cc->n_runcmd <= CC_MAX_ENTRIES &&
		    cc->n_mounts <= CC_MAX_ENTRIES);
	check_strv(cc->packages, CC_MAX_ENTRIES);
	check_strv(cc->ssh_authorized_keys, CC_MAX_ENTRIES);
	for (size_t i = 0; i < cc->n_users; i++) {
		FUZZ_ASSERT(cc->users[i].name);
		check_strv(cc->users[i].groups, CC_MAX_ENTRIES);
		check_strv(cc->users[i].sudo, CC_MAX_ENTRIES);
		check_strv(cc->users[i].ssh_authorized_keys, CC_MAX_ENTRIES);
	}
	for (size_t i = 0; i < cc->n_files; i++)
		FUZZ_ASSERT(
		    cc->files[i].path && cc->files[i].path[0] == '/' &&
		    (!cc->files[i].content || cc->files[i].content[cc->files[i].content_len] == 0));
	/* n_fields 0: an entry the reader dropped (no field kept) */
	for (size_t i = 0; i < cc->n_mounts; i++) {
		FUZZ_ASSERT(cc->mounts[i].n_fields <= 6);
		for (size_t j = cc->mounts[i].n_fields; j < 6; j++)
			FUZZ_ASSERT(!cc->mounts[i].field[j]);
	}
	if (cc->has[CC_SWAP])
		FUZZ_ASSERT(!cc->swap.filename || (cc->swap.filename[0] == '/' &&
						   !path_has_dotdot(cc->swap.filename)));
	if (cc->has[CC_SWAP] && !cc->swap.filename)
		FUZZ_ASSERT(cc->swap.size == 0 && !cc->swap.size_auto);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct cloud_config *a = NULL, *b = NULL;
	struct cc_node *root = NULL;
	struct cc_budget budget;
	struct cc_error e;
	bool has[_CC_KEY_MAX], invalid[_CC_KEY_MAX];
	size_t n_unknown;
	int r;

	/* One libyaml pass; the typed view is read twice from the same tree for the merge. */
	cc_budget_init(&budget, size);
	r = cloud_config_load(text, size, &budget, &root, NULL, &e);
	FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -E2BIG || r == -ENOMEM);
	FUZZ_ASSERT(budget.work <= (size_t)CC_WORK_PER_NODE * CC_MAX_NODES);
	if (r < 0) {
		if (r != -ENOMEM)
			FUZZ_ASSERT(e.line >= 1 && *e.problem);
		FUZZ_ASSERT(!root);
		return 0;
	}
	if (root)
		FUZZ_ASSERT(check_tree(root, 1) <= CC_MAX_NODES);

	r = cloud_config_from_tree(root, &budget, &a, &e);
	FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -E2BIG || r == -ENOMEM);
	FUZZ_ASSERT((r == 0) == (a != NULL));
	if (r < 0) {
		cc_node_free(root);
		return 0;
	}
	check_config(a);
	memcpy(has, a->has, sizeof(has));
	memcpy(invalid, a->invalid, sizeof(invalid));
	n_unknown = a->n_unknown;

	/* The tree merged with a copy of itself with the common list(append)+dict(no_replace,
	 * recurse_list): the same keys, lists twice as long (cc-node.c's merge of the default
	 * dict(replace) is test-cloudconfig's). */
	if (root && root->type == CC_NODE_MAPPING) {
		struct cc_node *copy = NULL;
		struct cc_merge m = {};
		char why[160];

		FUZZ_ASSERT(cc_merge_add(&m, "list(append)+dict(no_replace,recurse_list)+str()", why,
					 sizeof(why)) == 0);
		cc_budget_init(&budget, size);
		r = cc_node_copy(&budget, root, 1, root->line, root->column, &copy);
		if (r == 0) {
			r = cc_node_merge(&budget, &root, copy, &m);
			FUZZ_ASSERT(r == 0 || r == -E2BIG || r == -ENOMEM);
		}
		if (r == 0) {
			FUZZ_ASSERT(check_tree(root, 1) <= 2 * CC_MAX_NODES);
			cc_budget_init(&budget, size);
			r = cloud_config_from_tree(root, &budget, &b, &e);
			FUZZ_ASSERT(r == 0 || r == -E2BIG || r == -ENOMEM);
		}
		if (r == 0) {
			FUZZ_ASSERT(b->n_unknown == n_unknown);
			for (size_t k = 0; k < _CC_KEY_MAX; k++)
				FUZZ_ASSERT(b->has[k] || b->invalid[k] || (!has[k] && !invalid[k]));
			check_config(b);
		}
		cloud_config_free(b);
		b = NULL;
	}
	cloud_config_free(a);
	cloud_config_free(b);
	cc_node_free(root);
	return 0;
}
