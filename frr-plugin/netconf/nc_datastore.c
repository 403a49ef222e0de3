// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd NETCONF module: the datastores, on FRR's main pthread.
 *
 * running is FRR's running_config. Every change to it is a northbound
 * transaction (nb_candidate_commit), the same the CLI makes: YANG
 * validation, the daemon's NB_EV_VALIDATE callbacks, then PREPARE/APPLY.
 *
 * candidate is the NETCONF candidate, shared by all sessions. It is kept
 * as the list of edits made to it since the last commit or
 * discard-changes, replayed on the current running configuration each time
 * it is used: changes made meanwhile from the CLI stay, and a commit never
 * reverts them. An untouched candidate is running itself.
 *
 * Locks: a lock on running is FRR's running-configuration lock, so it also
 * keeps the CLI from committing; a lock on candidate is NETCONF's own.
 */
#include <zebra.h>

#include "log.h"
#include "northbound.h"
#include "northbound_cli.h"
#include "yang.h"

#include <libnetconf2/messages_server.h>

#include "netconf.h"

/*
 * FRR 8.4 has no northbound client id for NETCONF; FRR's own NETCONF path
 * was its sysrepo plugin (with netopeer2), so its id is the closest.
 */
#define NB_CLIENT_NETCONF NB_CLIENT_SYSREPO

static struct nc_edit **journal;
static size_t njournal;
static uint32_t cand_lock_sid;
static uint32_t running_lock_sid;

static const void *nb_user(uint32_t sid)
{
	return (const void *)(uintptr_t)sid;
}

void nc_error_set(struct nc_error *err, int tag, const char *path,
		  const char *fmt, ...)
{
	va_list ap;

	memset(err, 0, sizeof(*err));
	err->tag = tag ? tag : NC_ERR_OP_FAILED;
	err->type = NC_ERR_TYPE_APP;
	if (path)
		strlcpy(err->path, path, sizeof(err->path));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Edits                                                               */
/* ------------------------------------------------------------------ */

void nc_edit_add(struct nc_edit *e, enum nc_instr_op op, const char *xpath,
		 const char *value, bool leaflist)
{
	struct nc_instr *in;

	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->v = realloc(e->v, e->cap * sizeof(*e->v));
	}
	in = &e->v[e->n++];
	in->op = op;
	in->xpath = xpath ? strdup(xpath) : NULL;
	in->value = value ? strdup(value) : NULL;
	in->leaflist = leaflist;
}

struct nc_edit *nc_edit_dup(const struct nc_edit *e)
{
	struct nc_edit *d = calloc(1, sizeof(*d));

	for (size_t i = 0; i < e->n; i++)
		nc_edit_add(d, e->v[i].op, e->v[i].xpath, e->v[i].value,
			    e->v[i].leaflist);
	return d;
}

void nc_edit_free(struct nc_edit *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].xpath);
		free(e->v[i].value);
	}
	free(e->v);
	free(e);
}

static void journal_clear(void)
{
	for (size_t i = 0; i < njournal; i++)
		nc_edit_free(journal[i]);
	free(journal);
	journal = NULL;
	njournal = 0;
}

static void journal_add(const struct nc_edit *e)
{
	journal = realloc(journal, (njournal + 1) * sizeof(*journal));
	journal[njournal++] = nc_edit_dup(e);
}

/* ------------------------------------------------------------------ */
/* libyang errors                                                      */
/* ------------------------------------------------------------------ */

/* The first error libyang stored for this thread, as an rpc-error. */
static void ly_error_to_nc(struct nc_error *err, const char *fallback)
{
	const struct ly_err_item *ei = ly_err_first(ly_native_ctx);
	int tag = NC_ERR_INVALID_VALUE;

	if (!ei) {
		nc_error_set(err, NC_ERR_OP_FAILED, NULL, "%s", fallback);
		return;
	}
	if (ei->apptag && (!strcmp(ei->apptag, "instance-required") ||
			   !strcmp(ei->apptag, "missing-choice")))
		tag = NC_ERR_DATA_MISSING;
	else if (ei->apptag && (!strcmp(ei->apptag, "must-violation") ||
				!strcmp(ei->apptag, "too-many-elements") ||
				!strcmp(ei->apptag, "too-few-elements") ||
				!strcmp(ei->apptag, "data-not-unique")))
		tag = NC_ERR_OP_FAILED;
	else if (ei->msg && !strncmp(ei->msg, "Mandatory node", 14))
		tag = NC_ERR_DATA_MISSING;
	nc_error_set(err, tag, NULL, "%s", ei->msg ? ei->msg : fallback);
	nc_ly_errpath(err->path, sizeof(err->path), ei->path);
	if (ei->apptag)
		strlcpy(err->apptag, ei->apptag, sizeof(err->apptag));
	ly_err_clean(ly_native_ctx, NULL);
}

/* ------------------------------------------------------------------ */
/* Applying an edit to a configuration                                  */
/* ------------------------------------------------------------------ */

static const char *full_path(const struct nc_instr *in, char *buf, size_t len)
{
	if (!in->leaflist)
		return in->xpath;
	snprintf(buf, len, "%s[.='%s']", in->xpath, in->value);
	return buf;
}

/* Present, and not only as a default. */
static bool dnode_present(const struct lyd_node *root, const char *xpath)
{
	const struct lyd_node *dn;

	if (!root)
		return false;
	dn = yang_dnode_get(root, xpath);
	return dn && !(dn->flags & LYD_DEFAULT);
}

static int clear_config(struct nb_config *c)
{
	if (c->dnode)
		lyd_free_all(c->dnode);
	c->dnode = yang_dnode_new(ly_native_ctx, true);
	return 0;
}

static int apply_instr(struct nb_config *c, const struct nc_instr *in,
		       struct nc_error *err)
{
	char pbuf[XPATH_MAXLEN];
	const char *path;
	struct nb_node *nb_node;
	struct yang_data *data;
	enum nb_operation op;
	int ret;

	if (in->op == NCI_CLEAR)
		return clear_config(c);

	path = full_path(in, pbuf, sizeof(pbuf));
	nb_node = nb_node_find(in->xpath);
	if (!nb_node) {
		nc_error_set(err, NC_ERR_OP_FAILED, path,
			     "no northbound node for this path");
		return -1;
	}

	switch (in->op) {
	case NCI_EXISTS:
		if (!dnode_present(c->dnode, path)) {
			nc_error_set(err, NC_ERR_DATA_MISSING, path,
				     "%s does not exist", path);
			return -1;
		}
		return 0;
	case NCI_CREATE:
		if (dnode_present(c->dnode, path)) {
			nc_error_set(err, NC_ERR_DATA_EXISTS, path,
				     "%s already exists", path);
			return -1;
		}
		/* fallthrough */
	case NCI_MERGE:
		op = nb_node->snode->nodetype == LYS_LEAF ? NB_OP_MODIFY
							   : NB_OP_CREATE;
		data = yang_data_new(in->xpath, in->value);
		ly_err_clean(ly_native_ctx, NULL);
		ret = nb_candidate_edit(c, nb_node, op, in->xpath, NULL, data);
		yang_data_free(data);
		if (ret != NB_OK) {
			ly_error_to_nc(err, "cannot edit the configuration");
			if (!err->path[0])
				strlcpy(err->path, path, sizeof(err->path));
			return -1;
		}
		return 0;
	case NCI_DELETE:
		if (!dnode_present(c->dnode, path)) {
			nc_error_set(err, NC_ERR_DATA_MISSING, path,
				     "%s does not exist", path);
			return -1;
		}
		/* fallthrough */
	case NCI_REMOVE:
		if (!c->dnode || !yang_dnode_get(c->dnode, path))
			return 0;
		data = yang_data_new(in->xpath, in->value);
		ret = nb_candidate_edit(c, nb_node, NB_OP_DESTROY, in->xpath,
					NULL, data);
		yang_data_free(data);
		if (ret != NB_OK && ret != NB_ERR_NOT_FOUND) {
			nc_error_set(err, NC_ERR_OP_FAILED, path,
				     "cannot delete %s", path);
			return -1;
		}
		return 0;
	case NCI_CLEAR:
		break;
	}
	return 0;
}

static int apply_edit(struct nb_config *c, const struct nc_edit *e,
		      struct nc_error *err)
{
	for (size_t i = 0; i < e->n; i++)
		if (apply_instr(c, &e->v[i], err) < 0)
			return -1;
	return 0;
}

/* running + the candidate's edits. */
static struct nb_config *candidate_build(struct nc_error *err)
{
	struct nb_config *c = nb_config_dup(running_config);

	for (size_t i = 0; i < njournal; i++) {
		if (apply_edit(c, journal[i], err) < 0) {
			char msg[sizeof(err->msg)];

			snprintf(msg, sizeof(msg),
				 "the candidate's changes no longer apply to the running configuration (%.900s); use discard-changes",
				 err->msg);
			strlcpy(err->msg, msg, sizeof(err->msg));
			err->tag = NC_ERR_OP_FAILED;
			nb_config_free(c);
			return NULL;
		}
	}
	return c;
}

/* ------------------------------------------------------------------ */
/* Validation and commit                                               */
/* ------------------------------------------------------------------ */

/*
 * After the northbound refused a configuration in its code validation
 * (the daemon's NB_EV_VALIDATE callbacks), find the node: replay the
 * validation of each created or changed node.
 */
static void locate_code_error(const struct nb_config *c, uint32_t sid,
			      struct nc_error *err)
{
	struct nb_context ctx = { .client = NB_CLIENT_NETCONF,
				  .user = nb_user(sid) };
	struct lyd_node *root, *dn;

	LY_LIST_FOR (c->dnode, root) {
		LYD_TREE_DFS_BEGIN (root, dn) {
			struct nb_node *nbn = dn->schema->priv;
			char path[XPATH_MAXLEN], msg[256] = "";
			const struct lyd_node *old;
			bool changed;
			int ret = NB_OK;

			if (!nbn || (dn->flags & LYD_DEFAULT) ||
			    (!nbn->cbs.create && !nbn->cbs.modify))
				goto next;
			yang_dnode_get_path(dn, path, sizeof(path));
			old = yang_dnode_get(running_config->dnode, path);
			changed = !old ||
				  ((dn->schema->nodetype & LYD_NODE_TERM) &&
				   strcmp(lyd_get_value(old),
					  lyd_get_value(dn)));
			if (!changed)
				goto next;
			if (!old && nbn->cbs.create) {
				struct nb_cb_create_args a = {
					.context = &ctx,
					.event = NB_EV_VALIDATE,
					.dnode = dn,
					.errmsg = msg,
					.errmsg_len = sizeof(msg),
				};
				ret = nbn->cbs.create(&a);
			} else if (nbn->cbs.modify) {
				struct nb_cb_modify_args a = {
					.context = &ctx,
					.event = NB_EV_VALIDATE,
					.dnode = dn,
					.errmsg = msg,
					.errmsg_len = sizeof(msg),
				};
				ret = nbn->cbs.modify(&a);
			}
			if (ret != NB_OK) {
				strlcpy(err->path, path, sizeof(err->path));
				return;
			}
		next:
			LYD_TREE_DFS_END(root, dn);
		}
	}
}

/* YANG validation of a copy, to report libyang's error item itself. */
static int validate_yang(const struct nb_config *c, struct nc_error *err)
{
	struct lyd_node *dup = NULL;
	LY_ERR ret;

	if (c->dnode &&
	    lyd_dup_siblings(c->dnode, NULL, LYD_DUP_RECURSIVE, &dup)) {
		nc_error_set(err, NC_ERR_OP_FAILED, NULL, "out of memory");
		return -1;
	}
	ly_err_clean(ly_native_ctx, NULL);
	ret = lyd_validate_all(&dup, ly_native_ctx, LYD_VALIDATE_NO_STATE,
			       NULL);
	if (ret != LY_SUCCESS)
		ly_error_to_nc(err, "the configuration is not valid");
	lyd_free_all(dup);
	return ret == LY_SUCCESS ? 0 : -1;
}

static void nb_error_to_nc(int ret, const char *errmsg, const struct nb_config *c,
			   uint32_t sid, struct nc_error *err)
{
	const char *msg = errmsg[0] ? errmsg : nb_err_name(ret);

	switch (ret) {
	case NB_ERR_LOCKED:
		nc_error_set(err, NC_ERR_IN_USE, NULL,
			     "the running configuration is locked by another session or client");
		break;
	case NB_ERR_VALIDATION:
		nc_error_set(err, NC_ERR_INVALID_VALUE, NULL, "%s", msg);
		locate_code_error(c, sid, err);
		break;
	case NB_ERR_RESOURCE:
		nc_error_set(err, NC_ERR_RES_DENIED, NULL, "%s", msg);
		break;
	default:
		nc_error_set(err, NC_ERR_OP_FAILED, NULL, "%s", msg);
		break;
	}
}

static int validate_full(struct nb_config *c, uint32_t sid,
			 struct nc_error *err)
{
	struct nb_context ctx = { .client = NB_CLIENT_NETCONF,
				  .user = nb_user(sid) };
	char errmsg[BUFSIZ] = "";
	int ret;

	if (validate_yang(c, err) < 0)
		return -1;
	ret = nb_candidate_validate(&ctx, c, errmsg, sizeof(errmsg));
	if (ret != NB_OK) {
		nb_error_to_nc(ret, errmsg, c, sid, err);
		return -1;
	}
	return 0;
}

static int commit(struct nb_config *c, uint32_t sid, struct nc_error *err)
{
	struct nb_context ctx = { .client = NB_CLIENT_NETCONF,
				  .user = nb_user(sid) };
	char errmsg[BUFSIZ] = "", comment[64];
	uint32_t tid = 0;
	bool cli_pending;
	int ret;

	if (nb_running_lock_check(ctx.client, ctx.user)) {
		nb_error_to_nc(NB_ERR_LOCKED, "", c, sid, err);
		return -1;
	}
	if (validate_yang(c, err) < 0)
		return -1;
	/* Does the CLI's shared candidate hold edits not committed yet (a
	 * batch of commands being read)? */
	cli_pending = vty_shared_candidate_config &&
		      lyd_compare_siblings(vty_shared_candidate_config->dnode,
					   running_config->dnode,
					   LYD_COMPARE_FULL_RECURSION) !=
			      LY_SUCCESS;
	snprintf(comment, sizeof(comment), "NETCONF session %u", sid);
	ret = nb_candidate_commit(&ctx, c, true, comment, &tid, errmsg,
				  sizeof(errmsg));
	if (ret != NB_OK && ret != NB_ERR_NO_CHANGES) {
		nb_error_to_nc(ret, errmsg, c, sid, err);
		return -1;
	}
	/*
	 * The CLI edits one candidate shared by its sessions and commits it
	 * whole after each command: bring it up to date, or the next CLI
	 * command would undo this commit.
	 */
	if (ret == NB_OK && vty_shared_candidate_config) {
		if (!cli_pending)
			nb_config_replace(vty_shared_candidate_config,
					  running_config, true);
		else if (nb_candidate_update(vty_shared_candidate_config) !=
			 NB_OK)
			zlog_warn("netconf: the CLI's pending changes could not be merged with session %u's commit",
				  sid);
	}
	if (ret == NB_OK)
		zlog_info("netconf: session %u committed transaction %u", sid,
			  tid);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

static uint32_t wd_flag(enum nc_wd wd)
{
	switch (wd) {
	case NC_WDM_ALL:
	case NC_WDM_ALL_TAGGED:
		return LYD_PRINT_WD_ALL;
	case NC_WDM_TRIM:
		return LYD_PRINT_WD_TRIM;
	case NC_WDM_EXPLICIT:
		break;
	}
	return LYD_PRINT_WD_EXPLICIT;
}

/*
 * Secrets are write-only over NETCONF (RFC 9061 marks keys
 * nacm:default-deny-all): every tree this module prints goes through
 * here, on a copy, never on the live configuration.
 */
static const char *const nc_secret_xpaths[] = {
	"/vpnd:vpn/connection/pre-shared-key",
};

static void strip_secrets(struct lyd_node *tree)
{
	for (size_t i = 0; tree && i < array_size(nc_secret_xpaths); i++) {
		struct ly_set *set = NULL;

		if (lyd_find_xpath(tree, nc_secret_xpaths[i], &set) !=
		    LY_SUCCESS)
			continue;
		for (uint32_t j = 0; j < set->count; j++)
			lyd_free_tree(set->dnodes[j]);
		ly_set_free(set, NULL);
	}
}

/* tree is a copy the caller owns: secrets are removed from it. */
static char *print_copy(struct lyd_node *tree, enum nc_wd wd)
{
	char *xml = NULL;

	if (tree)
		tree = lyd_first_sibling(tree);
	strip_secrets(tree);
	if (tree)
		tree = lyd_first_sibling(tree);
	if (tree && lyd_print_mem(&xml, tree, LYD_XML,
				  LYD_PRINT_WITHSIBLINGS | wd_flag(wd)))
		xml = NULL;
	return xml;
}

/* Print a tree the caller keeps (running, a candidate): a copy of it. */
static char *print_tree(const struct lyd_node *tree, enum nc_wd wd)
{
	struct lyd_node *copy = NULL;
	char *xml;

	if (!tree)
		return NULL;
	if (lyd_dup_siblings(lyd_first_sibling(tree), NULL,
			     LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS,
			     &copy) != LY_SUCCESS) {
		lyd_free_all(copy);
		return NULL;
	}
	xml = print_copy(copy, wd);
	lyd_free_all(copy);
	return xml;
}

static int oper_cb(const struct lysc_node *snode,
		   struct yang_translator *translator, struct yang_data *data,
		   void *arg)
{
	struct lyd_node **tree = arg;
	struct lyd_node *dn = NULL;

	if (lyd_new_path(*tree, ly_native_ctx, data->xpath, data->value,
			 LYD_NEW_PATH_UPDATE, &dn) != LY_SUCCESS)
		zlog_debug("netconf: state %s not added", data->xpath);
	if (!*tree && dn) {
		while (lyd_parent(dn))
			dn = lyd_parent(dn);
		*tree = dn;
	}
	yang_data_free(data);
	return NB_OK;
}

/* running + operational state of every module with state callbacks. */
static char *get_all(enum nc_wd wd)
{
	struct lyd_node *tree = NULL;
	const struct lys_module *mod;
	uint32_t idx = 0;
	char *xml;

	if (running_config->dnode)
		lyd_dup_siblings(running_config->dnode, NULL,
				 LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS,
				 &tree);
	while ((mod = ly_ctx_get_module_iter(ly_native_ctx, &idx))) {
		const struct lysc_node *snode;

		if (!mod->implemented || !mod->compiled)
			continue;
		LY_LIST_FOR (mod->compiled->data, snode) {
			struct nb_node *nbn = snode->priv;
			char xpath[XPATH_MAXLEN];

			if (!nbn || CHECK_FLAG(nbn->flags, F_NB_NODE_CONFIG_ONLY))
				continue;
			if (!(snode->nodetype & (LYS_CONTAINER | LYS_LIST)))
				continue;
			/* A presence container that is not configured. */
			if (snode->nodetype == LYS_CONTAINER &&
			    (snode->flags & LYS_CONFIG_W) &&
			    lysc_is_np_cont(snode) == 0 &&
			    !yang_dnode_get(running_config->dnode, nbn->xpath))
				continue;
			snprintf(xpath, sizeof(xpath), "/%s:%s", mod->name,
				 snode->name);
			nb_oper_data_iterate(xpath, NULL, 0, oper_cb, &tree);
		}
	}
	if (tree)
		tree = lyd_first_sibling(tree);
	xml = print_copy(tree, wd);
	lyd_free_all(tree);
	return xml;
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                */
/* ------------------------------------------------------------------ */

static bool cand_locked_by_other(uint32_t sid)
{
	return cand_lock_sid && cand_lock_sid != sid;
}

static int job_edit(struct nc_job *job, const struct nc_edit *edit)
{
	struct nc_error *err = &job->err;
	struct nb_config *c;
	int ret;

	if (job->target == NC_DS_CANDIDATE) {
		if (cand_locked_by_other(job->sid)) {
			nc_error_set(err, NC_ERR_IN_USE, NULL,
				     "the candidate is locked by session %u",
				     cand_lock_sid);
			return -1;
		}
		c = candidate_build(err);
		if (!c)
			return -1;
		ret = apply_edit(c, edit, err);
		if (ret == 0 && job->test_only)
			ret = validate_full(c, job->sid, err);
		if (ret == 0 && !job->test_only)
			journal_add(edit);
		nb_config_free(c);
		return ret;
	}

	if (nb_running_lock_check(NB_CLIENT_NETCONF, nb_user(job->sid))) {
		nb_error_to_nc(NB_ERR_LOCKED, "", NULL, job->sid, err);
		return -1;
	}
	c = nb_config_dup(running_config);
	ret = apply_edit(c, edit, err);
	if (ret == 0)
		ret = job->test_only ? validate_full(c, job->sid, err)
				     : commit(c, job->sid, err);
	nb_config_free(c);
	return ret;
}

static int job_commit(struct nc_job *job)
{
	struct nb_config *c;
	int ret;

	if (cand_locked_by_other(job->sid)) {
		nc_error_set(&job->err, NC_ERR_IN_USE, NULL,
			     "the candidate is locked by session %u",
			     cand_lock_sid);
		return -1;
	}
	if (njournal == 0)
		return 0;
	c = candidate_build(&job->err);
	if (!c)
		return -1;
	ret = commit(c, job->sid, &job->err);
	nb_config_free(c);
	if (ret == 0)
		journal_clear();
	return ret;
}

static int job_validate(struct nc_job *job)
{
	struct nb_config *c = NULL;
	int ret;

	switch (job->source) {
	case NC_DS_RUNNING:
		c = nb_config_dup(running_config);
		break;
	case NC_DS_CANDIDATE:
		c = candidate_build(&job->err);
		break;
	case NC_DS_CONFIG:
		c = nb_config_dup(running_config);
		if (apply_edit(c, job->edit, &job->err) < 0) {
			nb_config_free(c);
			return -1;
		}
		break;
	case NC_DS_NONE:
		break;
	}
	if (!c)
		return -1;
	ret = validate_full(c, job->sid, &job->err);
	nb_config_free(c);
	return ret;
}

/* lock-denied, naming the session that holds the lock (0: not NETCONF). */
static int lock_denied(struct nc_error *err, uint32_t holder, const char *msg)
{
	nc_error_set(err, NC_ERR_LOCK_DENIED, NULL, msg);
	err->type = NC_ERR_TYPE_PROT;
	err->has_sid = true;
	err->sid = holder;
	return -1;
}

static int job_lock(struct nc_job *job)
{
	struct nc_error *err = &job->err;

	if (job->target == NC_DS_RUNNING) {
		if (nb_running_lock(NB_CLIENT_NETCONF, nb_user(job->sid)))
			return lock_denied(err, running_lock_sid,
					   running_lock_sid
						   ? "running is locked by another NETCONF session"
						   : "running is locked by another client (CLI)");
		running_lock_sid = job->sid;
		return 0;
	}
	if (cand_lock_sid || njournal)
		return lock_denied(err, cand_lock_sid,
				   cand_lock_sid
					   ? "candidate is locked by another NETCONF session"
					   : "candidate has changes not committed yet");
	cand_lock_sid = job->sid;
	return 0;
}

static int job_unlock(struct nc_job *job)
{
	if (job->target == NC_DS_RUNNING) {
		if (running_lock_sid != job->sid ||
		    nb_running_unlock(NB_CLIENT_NETCONF, nb_user(job->sid))) {
			nc_error_set(&job->err, NC_ERR_OP_FAILED, NULL,
				     "running is not locked by this session");
			return -1;
		}
		running_lock_sid = 0;
		return 0;
	}
	if (cand_lock_sid != job->sid) {
		nc_error_set(&job->err, NC_ERR_OP_FAILED, NULL,
			     "candidate is not locked by this session");
		return -1;
	}
	cand_lock_sid = 0;
	return 0;
}

static void job_session_end(struct nc_job *job)
{
	if (running_lock_sid == job->sid) {
		nb_running_unlock(NB_CLIENT_NETCONF, nb_user(job->sid));
		running_lock_sid = 0;
	}
	if (cand_lock_sid == job->sid) {
		/* RFC 6241 7.5: the lock holder's changes go with it. */
		journal_clear();
		cand_lock_sid = 0;
	}
}

void nc_ds_run(struct nc_job *job)
{
	struct nb_config *c;
	int ret = 0;

	switch (job->type) {
	case J_GET_CONFIG:
		if (job->source == NC_DS_CANDIDATE && njournal) {
			c = candidate_build(&job->err);
			if (!c) {
				ret = -1;
				break;
			}
			job->xml = print_tree(c->dnode, job->wd);
			nb_config_free(c);
		} else {
			job->xml = print_tree(running_config->dnode, job->wd);
		}
		break;
	case J_GET:
		job->xml = get_all(job->wd);
		break;
	case J_EDIT:
		ret = job_edit(job, job->edit);
		break;
	case J_COPY:
		if (job->source == NC_DS_CONFIG)
			ret = job_edit(job, job->edit);
		else if (job->source == job->target)
			ret = 0;
		else if (job->target == NC_DS_CANDIDATE) {
			/* running -> candidate */
			if (cand_locked_by_other(job->sid)) {
				nc_error_set(&job->err, NC_ERR_IN_USE, NULL,
					     "the candidate is locked by session %u",
					     cand_lock_sid);
				ret = -1;
			} else
				journal_clear();
		} else
			ret = job_commit(job); /* candidate -> running */
		break;
	case J_DELETE:
		nc_error_set(&job->err, NC_ERR_OP_NOT_SUPPORTED, NULL,
			     "delete-config: running and candidate cannot be deleted");
		job->err.type = NC_ERR_TYPE_PROT;
		ret = -1;
		break;
	case J_COMMIT:
		ret = job_commit(job);
		break;
	case J_DISCARD:
		if (cand_locked_by_other(job->sid)) {
			nc_error_set(&job->err, NC_ERR_IN_USE, NULL,
				     "the candidate is locked by session %u",
				     cand_lock_sid);
			ret = -1;
		} else
			journal_clear();
		break;
	case J_VALIDATE:
		ret = job_validate(job);
		break;
	case J_LOCK:
		ret = job_lock(job);
		break;
	case J_UNLOCK:
		ret = job_unlock(job);
		break;
	case J_SESSION_END:
		job_session_end(job);
		break;
	}
	job->failed = ret < 0;
}
