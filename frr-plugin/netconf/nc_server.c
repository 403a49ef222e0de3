// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd NETCONF module: the server pthread.
 *
 * libnetconf2 2.0 does SSH (libssh), the hello exchange, both framings
 * (RFC 6242: end-of-message for base:1.0, chunked for base:1.1), RPC
 * parsing, <close-session> and <get-schema>. This file serves the other
 * operations: it turns requests into jobs for the main pthread
 * (nc_datastore.c) and their results into replies.
 *
 * This thread has its own libyang context, built from the modules the
 * daemon loaded (printed from FRR's context) plus ietf-netconf,
 * ietf-netconf-monitoring and ietf-netconf-with-defaults. Data crosses
 * between the contexts as XML text; edits cross as instructions with data
 * paths, which the main pthread hands to the northbound
 * (nb_candidate_edit), exactly as the CLI does.
 */
#include <zebra.h>

#include <sys/capability.h>

#include "northbound.h"
#include "yang.h"

#include <nc_server.h>

#include "netconf.h"

#define ENDPT "main"
/* Seconds a client has for each step of its login: libnetconf2's SSH
 * authentication (30 s by default) and <hello> (60 s). Its key exchange
 * and channel opening have a fixed 10 s each. */
#define HANDSHAKE_TIMEOUT 10

static struct ly_ctx *nc_ctx;
/* The sessions being served. libnetconf2 locks it: the accepting threads
 * add sessions while the polling thread polls. */
static struct nc_pollsession *ps;
/* libnetconf2's listening socket (found after it binds), for the session
 * limit: a connection beyond it is accepted and closed here, before the
 * SSH handshake. */
static int listen_fd = -1;
/*
 * The sessions counted against max-sessions: those in their handshake and
 * those being served. Taken (under the gate) before nc_accept(), given
 * back when the handshake fails or the session ends; the count of
 * nc_ps_session_count() alone would let handshakes in parallel pass it.
 */
static _Atomic unsigned int nsessions;
/*
 * The accepting threads take turns at the listening socket: the one in
 * the gate polls it, refuses a connection beyond max-sessions or takes a
 * slot, and accepts the TCP connection (in nc_accept()); it leaves the
 * gate once the connection is accepted, before the SSH handshake, so that
 * another thread accepts the next client while this one's handshake goes
 * on. Without the gate, two threads woken by one connection would both
 * decide on it: one refusing it at the limit for the slot the other took.
 */
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local bool gate_held;

/* ------------------------------------------------------------------ */
/* Errors and replies                                                  */
/* ------------------------------------------------------------------ */

static struct nc_server_reply *reply_error(const struct nc_error *e)
{
	struct lyd_node *err;
	int type = e->type ? e->type : NC_ERR_TYPE_APP;

	switch (e->tag) {
	case NC_ERR_LOCK_DENIED:
		err = nc_err(nc_ctx, NC_ERR_LOCK_DENIED, e->sid);
		break;
	case NC_ERR_DATA_EXISTS:
	case NC_ERR_DATA_MISSING:
	case NC_ERR_MALFORMED_MSG:
		err = nc_err(nc_ctx, e->tag);
		break;
	case NC_ERR_MISSING_ELEM:
	case NC_ERR_BAD_ELEM:
	case NC_ERR_UNKNOWN_ELEM:
		err = nc_err(nc_ctx, e->tag, type, e->path[0] ? e->path : "");
		break;
	case NC_ERR_MISSING_ATTR:
	case NC_ERR_BAD_ATTR:
	case NC_ERR_UNKNOWN_ATTR:
		err = nc_err(nc_ctx, e->tag, type, "operation",
			     e->path[0] ? e->path : "");
		break;
	case NC_ERR_IN_USE:
	case NC_ERR_INVALID_VALUE:
	case NC_ERR_ACCESS_DENIED:
	case NC_ERR_ROLLBACK_FAILED:
	case NC_ERR_OP_NOT_SUPPORTED:
	case NC_ERR_TOO_BIG:
	case NC_ERR_RES_DENIED:
		err = nc_err(nc_ctx, e->tag,
			     type == NC_ERR_TYPE_PROT ? NC_ERR_TYPE_PROT
						      : NC_ERR_TYPE_APP);
		break;
	default:
		err = nc_err(nc_ctx, NC_ERR_OP_FAILED,
			     type == NC_ERR_TYPE_PROT ? NC_ERR_TYPE_PROT
						      : NC_ERR_TYPE_APP);
		break;
	}
	if (!err)
		return NULL;
	if (e->apptag[0])
		nc_err_set_app_tag(err, e->apptag);
	if (e->path[0])
		nc_err_set_path(err, e->path);
	if (e->msg[0])
		nc_err_set_msg(err, e->msg, "en");
	return nc_server_reply_err(err);
}

static struct nc_server_reply *reply_msg(int tag, const char *path,
					 const char *msg)
{
	struct nc_error e;

	nc_error_set(&e, tag, path, "%s", msg);
	return reply_error(&e);
}

/* The first libyang error of this thread on nc_ctx. */
static void ly_error(struct nc_error *e, int tag, const char *fallback)
{
	const struct ly_err_item *ei = ly_err_first(nc_ctx);

	if (!ei) {
		nc_error_set(e, tag, NULL, "%s", fallback);
		return;
	}
	if (ei->msg && strstr(ei->msg, "not found as a child"))
		tag = NC_ERR_UNKNOWN_ELEM;
	nc_error_set(e, tag, NULL, "%s", ei->msg ? ei->msg : fallback);
	nc_ly_errpath(e->path, sizeof(e->path), ei->path);
	if (ei->apptag)
		strlcpy(e->apptag, ei->apptag, sizeof(e->apptag));
	ly_err_clean(nc_ctx, NULL);
}

/* <rpc-reply> with an anyxml output (get, get-config). */
static struct nc_server_reply *reply_data(const struct lyd_node *rpc,
					  struct lyd_node *data, NC_WD_MODE wd)
{
	struct lyd_node *out = NULL;

	if (lyd_dup_single(rpc, NULL, 0, &out) ||
	    lyd_new_any(out, NULL, "data", data, 1, LYD_ANYDATA_DATATREE, 1,
			NULL)) {
		lyd_free_all(data);
		lyd_free_all(out);
		return reply_msg(NC_ERR_OP_FAILED, NULL,
				 "cannot build the reply");
	}
	return nc_server_reply_data(out, wd, NC_PARAMTYPE_FREE);
}

static struct nc_server_reply *run_job(struct nc_job *job)
{
	nc_job_run_main(job);
	if (job->failed)
		return reply_error(&job->err);
	return nc_server_reply_ok();
}

/* ------------------------------------------------------------------ */
/* Request parameters                                                  */
/* ------------------------------------------------------------------ */

static struct lyd_node *child(const struct lyd_node *rpc, const char *name)
{
	struct lyd_node *n;

	LY_LIST_FOR (lyd_child(rpc), n)
		if (!strcmp(LYD_NAME(n), name))
			return n;
	return NULL;
}

/* target/source: the name of the datastore (its only child). */
static enum nc_ds datastore(const struct lyd_node *rpc, const char *param)
{
	struct lyd_node *p = child(rpc, param), *ds;

	if (!p || !(ds = lyd_child(p)))
		return NC_DS_NONE;
	if (!strcmp(LYD_NAME(ds), "running"))
		return NC_DS_RUNNING;
	if (!strcmp(LYD_NAME(ds), "candidate"))
		return NC_DS_CANDIDATE;
	if (!strcmp(LYD_NAME(ds), "config"))
		return NC_DS_CONFIG;
	return NC_DS_NONE;
}

static enum nc_wd with_defaults(const struct lyd_node *rpc)
{
	struct lyd_node *n = child(rpc, "with-defaults");
	const char *v = n ? lyd_get_value(n) : NULL;

	if (v && !strcmp(v, "report-all"))
		return NC_WDM_ALL;
	if (v && !strcmp(v, "trim"))
		return NC_WDM_TRIM;
	if (v && !strcmp(v, "report-all-tagged"))
		return NC_WDM_ALL_TAGGED;
	return NC_WDM_EXPLICIT;
}

/*
 * The XML text of an anyxml/anydata parameter. A tree is printed with
 * every node: an empty non-presence container (<yang-library/> in a
 * filter, <dpd/> in an edit) is marked default by the parser and would
 * vanish otherwise.
 */
static char *any_text(const struct lyd_node *any)
{
	const struct lyd_node_any *a = (const struct lyd_node_any *)any;
	char *str = NULL;

	if (!any || !(any->schema->nodetype & LYD_NODE_ANY))
		return NULL;
	if (a->value_type == LYD_ANYDATA_DATATREE) {
		if (a->value.tree &&
		    lyd_print_mem(&str, a->value.tree, LYD_XML,
				  LYD_PRINT_WITHSIBLINGS | LYD_PRINT_WD_ALL |
					  LYD_PRINT_KEEPEMPTYCONT))
			str = NULL;
		return str;
	}
	if (lyd_any_value_str(any, &str) != LY_SUCCESS)
		return NULL;
	return str;
}

/* Parse configuration XML (in nc_ctx) without validating it. */
static int parse_config(const char *xml, struct lyd_node **tree,
			struct nc_error *err)
{
	*tree = NULL;
	if (!xml || !*xml)
		return 0;
	ly_err_clean(nc_ctx, NULL);
	if (lyd_parse_data_mem(nc_ctx, xml, LYD_XML,
			       LYD_PARSE_ONLY | LYD_PARSE_STRICT |
				       LYD_PARSE_NO_STATE,
			       0, tree) != LY_SUCCESS) {
		ly_error(err, NC_ERR_INVALID_VALUE, "cannot parse the configuration");
		lyd_free_all(*tree);
		*tree = NULL;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* edit-config: the edit document as northbound instructions            */
/* ------------------------------------------------------------------ */

enum eop { EOP_MERGE, EOP_REPLACE, EOP_CREATE, EOP_DELETE, EOP_REMOVE, EOP_NONE };

static int eop_parse(const char *s, enum eop *op)
{
	static const char *const names[] = { "merge",  "replace", "create",
					     "delete", "remove",  "none" };

	for (size_t i = 0; i < array_size(names); i++)
		if (!strcmp(s, names[i])) {
			*op = i;
			return 0;
		}
	return -1;
}

static const char *node_op(const struct lyd_node *n)
{
	struct lyd_meta *m = lyd_find_meta(n->meta, NULL,
					   "ietf-netconf:operation");

	return m ? lyd_get_meta_value(m) : NULL;
}

static bool subtree_has_op(const struct lyd_node *first)
{
	const struct lyd_node *n, *d;

	LY_LIST_FOR (first, n) {
		LYD_TREE_DFS_BEGIN (n, d) {
			if (node_op(d))
				return true;
			LYD_TREE_DFS_END(n, d);
		}
	}
	return false;
}

static int edit_walk(const struct lyd_node *first, enum eop inherited,
		     struct nc_edit *e, struct nc_error *err)
{
	const struct lyd_node *n;

	LY_LIST_FOR (first, n) {
		const char *opstr = node_op(n);
		enum eop op = inherited;
		bool term = n->schema->nodetype & LYD_NODE_TERM;
		bool ll = n->schema->nodetype == LYS_LEAFLIST;
		const char *val = term ? lyd_get_value(n) : NULL;
		char *path;
		int ret = 0;

		if (opstr && eop_parse(opstr, &op) < 0) {
			nc_error_set(err, NC_ERR_BAD_ATTR, NULL,
				     "unknown operation '%s'", opstr);
			err->type = NC_ERR_TYPE_PROT;
			return -1;
		}
		if (n->schema->nodetype & LYD_NODE_ANY) {
			nc_error_set(err, NC_ERR_OP_NOT_SUPPORTED, NULL,
				     "anydata and anyxml cannot be edited");
			return -1;
		}
		if (lysc_is_key(n->schema)) {
			if (opstr && op != inherited) {
				path = lyd_path(n, LYD_PATH_STD, NULL, 0);
				nc_error_set(err, NC_ERR_BAD_ATTR, path,
					     "a list key takes the operation of its list entry");
				free(path);
				return -1;
			}
			continue;
		}
		path = lyd_path(n, ll ? LYD_PATH_STD_NO_LAST_PRED : LYD_PATH_STD,
				NULL, 0);
		switch (op) {
		case EOP_NONE:
			if (!term && subtree_has_op(lyd_child(n)))
				nc_edit_add(e, NCI_EXISTS, path, NULL, false);
			if (!term)
				ret = edit_walk(lyd_child(n), EOP_NONE, e, err);
			break;
		case EOP_MERGE:
			nc_edit_add(e, NCI_MERGE, path, val, ll);
			if (!term)
				ret = edit_walk(lyd_child(n), EOP_MERGE, e, err);
			break;
		case EOP_REPLACE:
			if (!term || ll)
				nc_edit_add(e, NCI_REMOVE, path, val, ll);
			nc_edit_add(e, NCI_MERGE, path, val, ll);
			if (!term)
				ret = edit_walk(lyd_child(n), EOP_REPLACE, e,
						err);
			break;
		case EOP_CREATE:
			nc_edit_add(e, NCI_CREATE, path, val, ll);
			if (!term)
				ret = edit_walk(lyd_child(n), EOP_MERGE, e, err);
			break;
		case EOP_DELETE:
			nc_edit_add(e, NCI_DELETE, path, val, ll);
			break;
		case EOP_REMOVE:
			nc_edit_add(e, NCI_REMOVE, path, val, ll);
			break;
		}
		free(path);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* The <config> parameter of edit-config, copy-config or validate. */
static struct nc_edit *config_edit(const struct lyd_node *config,
				   enum eop defop, bool whole,
				   struct nc_error *err)
{
	struct nc_edit *e = calloc(1, sizeof(*e));
	struct lyd_node *tree = NULL;
	char *xml = any_text(config);
	int ret;

	ret = parse_config(xml, &tree, err);
	free(xml);
	if (ret < 0) {
		free(e);
		return NULL;
	}
	if (whole)
		nc_edit_add(e, NCI_CLEAR, NULL, NULL, false);
	ret = edit_walk(tree, defop, e, err);
	lyd_free_all(tree);
	if (ret < 0) {
		nc_edit_free(e);
		return NULL;
	}
	return e;
}

/* ------------------------------------------------------------------ */
/* Filters                                                             */
/* ------------------------------------------------------------------ */

struct strv {
	char **v;
	size_t n;
};

static void strv_add(struct strv *s, const char *str)
{
	s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = strdup(str);
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static const char *fnode_module(const struct lyd_node *n)
{
	const struct lys_module *mod;

	if (n->schema)
		return n->schema->module->name;
	mod = ly_ctx_get_module_implemented_ns(
		nc_ctx, ((const struct lyd_node_opaq *)n)->name.module_ns);
	return mod ? mod->name : NULL;
}

static bool blank(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* RFC 6241 6.2: a subtree filter node as XPath expressions. */
static void subtree_xpaths(const struct lyd_node *n, const char *parent,
			   const char *parent_mod, struct strv *out)
{
	const char *mod = fnode_module(n);
	const struct lyd_node *c;
	bool selects = false;
	char *path;
	size_t len;

	if (!mod)
		return; /* unknown namespace: selects nothing */
	len = strlen(parent) + strlen(mod) + strlen(LYD_NAME(n)) + 4;
	path = malloc(len);
	if (parent_mod && !strcmp(parent_mod, mod))
		snprintf(path, len, "%s/%s", parent, LYD_NAME(n));
	else
		snprintf(path, len, "%s/%s:%s", parent, mod, LYD_NAME(n));

	/* Content-match nodes become predicates. */
	LY_LIST_FOR (lyd_child(n), c) {
		const char *v = lyd_get_value(c);
		char *p;
		char q;

		if (lyd_child(c) || blank(v))
			continue;
		q = strchr(v, '\'') ? '"' : '\'';
		len = strlen(path) + strlen(LYD_NAME(c)) + strlen(v) + 8;
		p = malloc(len);
		snprintf(p, len, "%s[%s=%c%s%c]", path, LYD_NAME(c), q, v, q);
		free(path);
		path = p;
	}
	LY_LIST_FOR (lyd_child(n), c) {
		if (!lyd_child(c) && !blank(lyd_get_value(c)))
			continue;
		selects = true;
		subtree_xpaths(c, path, mod, out);
	}
	if (!selects)
		strv_add(out, path);
	free(path);
}

/* Keep the parts of tree that the <filter> selects. */
static int apply_filter(const struct lyd_node *filter, struct lyd_node **tree,
			struct nc_error *err)
{
	struct lyd_meta *m;
	const char *type = "subtree";
	struct strv xp = {};
	struct lyd_node *result = NULL;

	if (!filter)
		return 0;
	m = lyd_find_meta(filter->meta, NULL, "ietf-netconf:type");
	if (m)
		type = lyd_get_meta_value(m);

	if (!strcmp(type, "xpath")) {
		m = lyd_find_meta(filter->meta, NULL, "ietf-netconf:select");
		if (!m) {
			nc_error_set(err, NC_ERR_MISSING_ATTR, "filter",
				     "an xpath filter needs a select attribute");
			err->type = NC_ERR_TYPE_PROT;
			return -1;
		}
		strv_add(&xp, lyd_get_meta_value(m));
	} else {
		char *xml = any_text(filter);
		struct lyd_node *ftree = NULL, *n;

		if (blank(xml)) {
			/* An empty filter selects nothing. */
			free(xml);
			lyd_free_all(*tree);
			*tree = NULL;
			return 0;
		}
		ly_err_clean(nc_ctx, NULL);
		if (lyd_parse_data_mem(nc_ctx, xml, LYD_XML,
				       LYD_PARSE_ONLY | LYD_PARSE_OPAQ, 0,
				       &ftree) != LY_SUCCESS) {
			ly_error(err, NC_ERR_BAD_ELEM,
				 "cannot parse the subtree filter");
			free(xml);
			return -1;
		}
		free(xml);
		LY_LIST_FOR (ftree, n)
			subtree_xpaths(n, "", NULL, &xp);
		lyd_free_all(ftree);
	}

	for (size_t i = 0; i < xp.n && *tree; i++) {
		struct ly_set *set = NULL;

		ly_err_clean(nc_ctx, NULL);
		if (lyd_find_xpath(*tree, xp.v[i], &set) != LY_SUCCESS) {
			ly_error(err, NC_ERR_INVALID_VALUE,
				 "invalid filter expression");
			strv_free(&xp);
			lyd_free_all(result);
			return -1;
		}
		for (uint32_t j = 0; j < set->count; j++) {
			struct lyd_node *dup = NULL;

			if (lyd_dup_single(set->dnodes[j], NULL,
					   LYD_DUP_RECURSIVE |
						   LYD_DUP_WITH_PARENTS,
					   &dup))
				continue;
			while (dup->parent)
				dup = lyd_parent(dup);
			lyd_merge_siblings(&result, dup, LYD_MERGE_DESTRUCT);
		}
		ly_set_free(set, NULL);
	}
	strv_free(&xp);
	lyd_free_all(*tree);
	*tree = result;
	return 0;
}

/* ------------------------------------------------------------------ */
/* ietf-netconf-monitoring and ietf-yang-library data                   */
/* ------------------------------------------------------------------ */

static struct lyd_node *monitoring_data(void)
{
	struct lyd_node *root = NULL, *yl = NULL;
	const struct lys_module *mod;
	uint32_t idx = 0;
	char path[512];
	const char **cap;

	cap = nc_server_get_cpblts_version(nc_ctx, LYS_VERSION_1_0);
	if (cap && lyd_new_path(NULL, nc_ctx,
				"/ietf-netconf-monitoring:netconf-state/capabilities",
				NULL, 0, &root) == LY_SUCCESS) {
		struct lyd_node *caps = lyd_child(root);

		for (size_t i = 0; cap[i]; i++)
			lyd_new_term(caps, NULL, "capability", cap[i], 0, NULL);
	}
	for (size_t i = 0; cap && cap[i]; i++)
		lydict_remove(nc_ctx, cap[i]);
	free(cap);
	while ((mod = ly_ctx_get_module_iter(nc_ctx, &idx))) {
		const char *rev = mod->revision ? mod->revision : "";
		static const char *const leaves[][2] = {
			{ "namespace", NULL },
			{ "location", "NETCONF" },
		};

		for (size_t i = 0; i < array_size(leaves); i++) {
			snprintf(path, sizeof(path),
				 "/ietf-netconf-monitoring:netconf-state/schemas/schema[identifier='%s'][version='%s'][format='yang']/%s",
				 mod->name, rev, leaves[i][0]);
			lyd_new_path(root, nc_ctx, path,
				     leaves[i][1] ? leaves[i][1] : mod->ns, 0,
				     root ? NULL : &root);
		}
	}
	if (ly_ctx_get_yanglib_data(nc_ctx, &yl, "%u",
				    ly_ctx_get_change_count(nc_ctx)) ==
	    LY_SUCCESS)
		lyd_merge_siblings(&root, yl, LYD_MERGE_DESTRUCT);
	return root;
}

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

static struct nc_server_reply *op_get(struct lyd_node *rpc, uint32_t sid,
				      bool config_only)
{
	struct nc_job job = { .type = config_only ? J_GET_CONFIG : J_GET,
			      .sid = sid,
			      .wd = with_defaults(rpc) };
	struct lyd_node *tree = NULL;
	struct nc_error err;

	if (config_only) {
		job.source = datastore(rpc, "source");
		if (job.source != NC_DS_RUNNING &&
		    job.source != NC_DS_CANDIDATE)
			return reply_msg(NC_ERR_INVALID_VALUE, NULL,
					 "source: running or candidate");
	}
	nc_job_run_main(&job);
	if (job.failed) {
		free(job.xml);
		return reply_error(&job.err);
	}
	ly_err_clean(nc_ctx, NULL);
	if (job.xml &&
	    lyd_parse_data_mem(nc_ctx, job.xml, LYD_XML, LYD_PARSE_ONLY, 0,
			       &tree) != LY_SUCCESS) {
		free(job.xml);
		ly_error(&err, NC_ERR_OP_FAILED, "cannot read the data back");
		return reply_error(&err);
	}
	free(job.xml);
	if (!config_only) {
		struct lyd_node *mon = monitoring_data();

		if (mon)
			lyd_merge_siblings(&tree, mon, LYD_MERGE_DESTRUCT);
	}
	if (apply_filter(child(rpc, "filter"), &tree, &err) < 0) {
		lyd_free_all(tree);
		return reply_error(&err);
	}
	/* The main pthread printed what the mode asks for; report-all-tagged
	 * came as report-all, tagged here by value (RFC 6243 3.4). */
	return reply_data(rpc, tree,
			  job.wd == NC_WDM_ALL_TAGGED ? NC_WD_ALL_TAG
						      : NC_WD_EXPLICIT);
}

static struct nc_server_reply *op_edit(struct lyd_node *rpc, uint32_t sid)
{
	struct nc_job job = { .type = J_EDIT, .sid = sid };
	struct lyd_node *n;
	enum eop defop = EOP_MERGE;
	struct nc_server_reply *reply;

	job.target = datastore(rpc, "target");
	if (job.target != NC_DS_RUNNING && job.target != NC_DS_CANDIDATE)
		return reply_msg(NC_ERR_INVALID_VALUE, NULL,
				 "target: running or candidate");
	n = child(rpc, "default-operation");
	if (n)
		eop_parse(lyd_get_value(n), &defop);
	n = child(rpc, "test-option");
	job.test_only = n && !strcmp(lyd_get_value(n), "test-only");
	/* error-option: every edit is applied whole or not at all, so
	 * stop-on-error and continue-on-error act as rollback-on-error. */
	n = child(rpc, "config");
	if (!n)
		return reply_msg(NC_ERR_OP_NOT_SUPPORTED, NULL,
				 "edit-config: only inline <config> is supported");
	job.edit = config_edit(n, defop, defop == EOP_REPLACE, &job.err);
	if (!job.edit)
		return reply_error(&job.err);
	reply = run_job(&job);
	nc_edit_free(job.edit);
	return reply;
}

/* copy-config and validate: <source> is a datastore or an inline
 * <config>, then the job runs on the main thread. */
static struct nc_server_reply *run_from_source(struct lyd_node *rpc,
					       struct nc_job *job)
{
	struct nc_server_reply *reply;

	job->source = datastore(rpc, "source");
	if (job->source == NC_DS_NONE)
		return reply_msg(NC_ERR_INVALID_VALUE, NULL,
				 "source: running, candidate or config");
	if (job->source == NC_DS_CONFIG) {
		job->edit = config_edit(child(child(rpc, "source"), "config"),
					EOP_MERGE, true, &job->err);
		if (!job->edit)
			return reply_error(&job->err);
	}
	reply = run_job(job);
	nc_edit_free(job->edit);
	return reply;
}

static struct nc_server_reply *op_copy(struct lyd_node *rpc, uint32_t sid)
{
	struct nc_job job = { .type = J_COPY, .sid = sid };

	job.target = datastore(rpc, "target");
	if (job.target != NC_DS_RUNNING && job.target != NC_DS_CANDIDATE)
		return reply_msg(NC_ERR_INVALID_VALUE, NULL,
				 "target: running or candidate");
	return run_from_source(rpc, &job);
}

static struct nc_server_reply *op_validate(struct lyd_node *rpc, uint32_t sid)
{
	struct nc_job job = { .type = J_VALIDATE, .sid = sid };

	return run_from_source(rpc, &job);
}

static struct nc_server_reply *op_target(struct lyd_node *rpc, uint32_t sid,
					 enum nc_job_type type)
{
	struct nc_job job = { .type = type, .sid = sid };

	job.target = datastore(rpc, "target");
	if (job.target != NC_DS_RUNNING && job.target != NC_DS_CANDIDATE)
		return reply_msg(NC_ERR_INVALID_VALUE, NULL,
				 "target: running or candidate");
	return run_job(&job);
}

static struct nc_server_reply *op_kill(struct lyd_node *rpc,
				       struct nc_session *self)
{
	struct lyd_node *n = child(rpc, "session-id");
	uint32_t id = n ? strtoul(lyd_get_value(n), NULL, 10) : 0;

	if (id == nc_session_get_id(self))
		return reply_msg(NC_ERR_INVALID_VALUE, NULL,
				 "kill-session: use close-session for this session");
	for (uint16_t i = 0; i < nc_ps_session_count(ps); i++) {
		struct nc_session *s = nc_ps_get_session(ps, i);

		if (nc_session_get_id(s) != id)
			continue;
		nc_session_set_term_reason(s, NC_SESSION_TERM_KILLED);
		nc_session_set_killed_by(s, nc_session_get_id(self));
		nc_session_set_status(s, NC_STATUS_INVALID);
		return nc_server_reply_ok();
	}
	return reply_msg(NC_ERR_INVALID_VALUE, NULL, "no such session");
}

/*
 * <get-schema>. libnetconf2 2.0.24 has a default callback, but with
 * libyang 2.1 it hands lyd_new_any() a dictionary string that libyang
 * inserts into the dictionary again and frees: a use-after-free as the
 * reply is printed. This one gives libyang a malloc'd string.
 */
static struct nc_server_reply *op_get_schema(struct lyd_node *rpc,
					     struct nc_session *session)
{
	struct lyd_node *n, *out = NULL;
	const char *id = NULL, *version = NULL, *format = NULL;
	const struct lys_module *mod;
	LYS_OUTFORMAT fmt = LYS_OUT_YANG;
	char *text = NULL;

	if ((n = child(rpc, "identifier")))
		id = lyd_get_value(n);
	if ((n = child(rpc, "version")) && lyd_get_value(n)[0])
		version = lyd_get_value(n);
	if ((n = child(rpc, "format")))
		format = lyd_get_value(n);
	if (format && strstr(format, "yin"))
		fmt = LYS_OUT_YIN;
	else if (format && !strstr(format, "yang"))
		return reply_msg(NC_ERR_INVALID_VALUE, NULL,
				 "get-schema: format yang or yin");
	mod = version ? ly_ctx_get_module(nc_ctx, id, version)
		      : ly_ctx_get_module_implemented(nc_ctx, id);
	if (!mod && !version)
		mod = ly_ctx_get_module_latest(nc_ctx, id);
	if (!mod)
		return reply_msg(NC_ERR_INVALID_VALUE, NULL,
				 "get-schema: no such schema");
	if (lys_print_mem(&text, mod, fmt, 0) != LY_SUCCESS ||
	    lyd_dup_single(rpc, NULL, 0, &out) ||
	    lyd_new_any(out, NULL, "data", text, 1, LYD_ANYDATA_STRING, 1,
			NULL)) {
		lyd_free_all(out);
		return reply_msg(NC_ERR_OP_FAILED, NULL,
				 "get-schema: cannot print the schema");
	}
	return nc_server_reply_data(out, NC_WD_EXPLICIT, NC_PARAMTYPE_FREE);
}

static struct nc_server_reply *rpc_clb(struct lyd_node *rpc,
				       struct nc_session *session)
{
	const char *name = rpc->schema->name;
	const char *mod = rpc->schema->module->name;
	uint32_t sid = nc_session_get_id(session);

	nc_log_debug("session %u: %s:%s", sid, mod, name);
	if (strcmp(mod, "ietf-netconf"))
		return reply_msg(NC_ERR_OP_NOT_SUPPORTED, NULL,
				 "operation not supported");
	if (!strcmp(name, "get"))
		return op_get(rpc, sid, false);
	if (!strcmp(name, "get-config"))
		return op_get(rpc, sid, true);
	if (!strcmp(name, "edit-config"))
		return op_edit(rpc, sid);
	if (!strcmp(name, "copy-config"))
		return op_copy(rpc, sid);
	if (!strcmp(name, "delete-config"))
		return op_target(rpc, sid, J_DELETE);
	if (!strcmp(name, "lock"))
		return op_target(rpc, sid, J_LOCK);
	if (!strcmp(name, "unlock"))
		return op_target(rpc, sid, J_UNLOCK);
	if (!strcmp(name, "commit")) {
		struct nc_job job = { .type = J_COMMIT, .sid = sid };

		if (child(rpc, "confirmed"))
			return reply_msg(NC_ERR_OP_NOT_SUPPORTED, NULL,
					 "confirmed commit is not supported");
		return run_job(&job);
	}
	if (!strcmp(name, "discard-changes")) {
		struct nc_job job = { .type = J_DISCARD, .sid = sid };

		return run_job(&job);
	}
	if (!strcmp(name, "validate"))
		return op_validate(rpc, sid);
	if (!strcmp(name, "kill-session"))
		return op_kill(rpc, session);
	return reply_msg(NC_ERR_OP_NOT_SUPPORTED, NULL,
			 "operation not supported");
}

/* ------------------------------------------------------------------ */
/* SSH authentication                                                  */
/* ------------------------------------------------------------------ */

static void gate_leave(void)
{
	if (!gate_held)
		return;
	gate_held = false;
	pthread_mutex_unlock(&gate);
}

/*
 * libnetconf2 2.0 asks for the host key in nc_accept(), on the accepting
 * thread, right after it accepted the TCP connection (and left its
 * bind_lock) and before the first SSH byte: the moment this thread's turn
 * at the listening socket is over.
 */
static int hostkey_clb(const char *name, void *user_data, char **privkey_path,
		       char **privkey_data, NC_SSH_KEY_TYPE *privkey_type)
{
	gate_leave();
	*privkey_path = strdup(nc_cfg.hostkey);
	*privkey_data = NULL;
	return 0;
}

/* The key is in the authorized-keys file (read at each attempt, so that
 * keys can be added or revoked without a restart). */
static int pubkey_auth_clb(const struct nc_session *session, ssh_key key,
			   void *user_data)
{
	FILE *f = fopen(nc_cfg.authkeys, "re");
	char line[8192], why[512];
	int ret = 1;

	if (!f) {
		nc_log_err("cannot read the authorized keys %s: %s",
			   nc_cfg.authkeys, strerror(errno));
		return 1;
	}
	/* The file may have changed since the start: check it again. */
	if (nc_key_file_check(fileno(f), nc_cfg.authkeys, why, sizeof(why))) {
		nc_log_err("authorized keys refused: %s", why);
		fclose(f);
		return 1;
	}
	while (ret && fgets(line, sizeof(line), f)) {
		char *save = NULL, *type, *b64;
		ssh_key k = NULL;

		type = strtok_r(line, " \t\r\n", &save);
		if (!type || type[0] == '#')
			continue;
		b64 = strtok_r(NULL, " \t\r\n", &save);
		if (!b64)
			continue;
		if (ssh_pki_import_pubkey_base64(b64,
						 ssh_key_type_from_name(type),
						 &k) != SSH_OK)
			continue;
		if (!ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC))
			ret = 0;
		ssh_key_free(k);
	}
	fclose(f);
	if (ret)
		nc_log_info("user %s: public key not authorized",
			    nc_session_get_username(session));
	return ret;
}

/* ------------------------------------------------------------------ */
/* The libyang context                                                 */
/* ------------------------------------------------------------------ */

static void free_text(void *text, void *user_data)
{
	free(text);
}

/* Modules come from the embedded IETF set, else from FRR's context. */
static LY_ERR imp_clb(const char *mod_name, const char *mod_rev,
		      const char *submod_name, const char *submod_rev,
		      void *user_data, LYS_INFORMAT *format,
		      const char **module_data,
		      void (**free_module_data)(void *model_data,
						void *user_data))
{
	const struct lys_module *mod;
	char *text = NULL;

	if (submod_name)
		return LY_ENOTFOUND;
	for (const struct nc_embedded_module *m = nc_embedded_modules;
	     m->name; m++)
		if (!strcmp(m->name, mod_name) &&
		    (!mod_rev || !strcmp(m->revision, mod_rev))) {
			*format = LYS_IN_YANG;
			*module_data = m->text;
			*free_module_data = NULL;
			return LY_SUCCESS;
		}
	mod = mod_rev ? ly_ctx_get_module(ly_native_ctx, mod_name, mod_rev)
		      : ly_ctx_get_module_latest(ly_native_ctx, mod_name);
	if (!mod || lys_print_mem(&text, mod, LYS_OUT_YANG, 0) != LY_SUCCESS)
		return LY_ENOTFOUND;
	*format = LYS_IN_YANG;
	*module_data = text;
	*free_module_data = free_text;
	return LY_SUCCESS;
}

static int ctx_build(void)
{
	static const char *nc_features[] = { "writable-running", "candidate",
					     "rollback-on-error", "validate",
					     "xpath", NULL };
	static const char *all[] = { "*", NULL };
	const struct lys_module *mod;
	uint32_t idx = 0;

	if (ly_ctx_new(NULL, LY_CTX_DISABLE_SEARCHDIRS, &nc_ctx)) {
		nc_log_err("cannot create a libyang context");
		return -1;
	}
	ly_ctx_set_module_imp_clb(nc_ctx, imp_clb, NULL);
	if (!ly_ctx_load_module(nc_ctx, "ietf-netconf", "2013-09-29",
				nc_features) ||
	    !ly_ctx_load_module(nc_ctx, "ietf-netconf-monitoring", NULL,
				NULL) ||
	    !ly_ctx_load_module(nc_ctx, "ietf-netconf-with-defaults", NULL,
				NULL)) {
		nc_log_err("cannot load the NETCONF modules");
		return -1;
	}
	/* Every module the daemon implements. */
	while ((mod = ly_ctx_get_module_iter(ly_native_ctx, &idx))) {
		if (!mod->implemented ||
		    ly_ctx_get_module_implemented(nc_ctx, mod->name))
			continue;
		if (!ly_ctx_load_module(nc_ctx, mod->name, mod->revision, all))
			nc_log_err("cannot load module %s into the NETCONF context",
				   mod->name);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Start, loop, stop                                                   */
/* ------------------------------------------------------------------ */

static void nc_print_clb(const struct nc_session *session,
			 NC_VERB_LEVEL level, const char *msg)
{
	uint32_t sid = session ? nc_session_get_id(session) : 0;

	if (level == NC_VERB_ERROR)
		nc_log_err("session %u: %s", sid, msg);
	else if (level == NC_VERB_WARNING)
		nc_log_info("session %u: %s", sid, msg);
	else
		nc_log_debug("session %u: %s", sid, msg);
}

/* Bind the listening socket, with CAP_NET_BIND_SERVICE raised for this
 * thread while it does (vpnd keeps it in its permitted set). */
static int listen_on(const char *address)
{
	cap_t caps = cap_get_proc();
	cap_value_t bind = CAP_NET_BIND_SERVICE;
	bool raised = false;
	int ret;

	if (caps && cap_set_flag(caps, CAP_EFFECTIVE, 1, &bind, CAP_SET) == 0 &&
	    cap_set_proc(caps) == 0)
		raised = true;
	ret = nc_server_endpt_set_address(ENDPT, address);
	if (ret == 0)
		ret = nc_server_endpt_set_port(ENDPT, nc_cfg.port);
	if (raised) {
		cap_set_flag(caps, CAP_EFFECTIVE, 1, &bind, CAP_CLEAR);
		cap_set_proc(caps);
	}
	if (caps)
		cap_free(caps);
	return ret;
}

/* The local port of TCP socket fd, or -1 (not a TCP socket). */
static int tcp_port(int fd, bool *listening)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int acc = 0, type = 0;
	socklen_t ol = sizeof(acc);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &ol) < 0)
		return -1;
	ol = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) < 0 ||
	    type != SOCK_STREAM)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	*listening = acc;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static int max_fd(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		return rl.rlim_cur;
	return 1024;
}

/* libnetconf2 2.0 binds in nc_server_endpt_set_port and does not say
 * with which descriptor: the listening TCP socket on our port is it. */
static int find_listen_fd(uint16_t port)
{
	for (int fd = 0, max = max_fd(); fd < max; fd++) {
		bool listening;

		if (tcp_port(fd, &listening) == port && listening)
			return fd;
	}
	return -1;
}

/*
 * libnetconf2 does not say which descriptors it accepted either: they are
 * the connected TCP sockets on our port. shutdown(SHUT_RD) makes their
 * next read return 0, so a handshake fails at once (instead of at its
 * timeout) and its thread can be joined; the descriptor stays
 * libnetconf2's to close. A served session sees its client gone, as it
 * is about to be. In the gate, with nc_stopping() true: no thread accepts
 * a connection after the scan.
 */
void nc_srv_abort_handshakes(void)
{
	pthread_mutex_lock(&gate);
	for (int fd = 0, max = max_fd(); fd < max; fd++) {
		bool listening;

		if (tcp_port(fd, &listening) == nc_cfg.port && !listening)
			shutdown(fd, SHUT_RD);
	}
	pthread_mutex_unlock(&gate);
}

int nc_srv_prepare(void)
{
	struct lysc_node *gs;
	const char *addr;

	ly_log_clb frr_ly_log = ly_get_log_clb();

	/* libnetconf2 takes libyang's log over too: give it back to FRR. */
	nc_set_print_clb_session(nc_print_clb);
	ly_set_log_clb(frr_ly_log, 1);
	nc_verbosity(NC_VERB_WARNING);
	if (ctx_build() < 0)
		return -1;
	if (nc_server_init(nc_ctx)) {
		nc_log_err("nc_server_init failed");
		return -1;
	}
	/* libnetconf2 2.0 tests also-supported bit by bit with enum values
	 * 1..4: this is report-all, report-all-tagged, trim and explicit. */
	nc_server_set_capab_withdefaults(NC_WD_EXPLICIT,
					 NC_WD_ALL | NC_WD_ALL_TAG | NC_WD_TRIM |
						 NC_WD_EXPLICIT);
	nc_set_global_rpc_clb(rpc_clb);
	gs = (struct lysc_node *)lys_find_path(
		nc_ctx, NULL, "/ietf-netconf-monitoring:get-schema", 0);
	if (gs)
		gs->priv = op_get_schema;
	nc_server_ssh_set_hostkey_clb(hostkey_clb, NULL, NULL);
	nc_server_ssh_set_pubkey_auth_clb(pubkey_auth_clb, NULL, NULL);

	if (access(nc_cfg.hostkey, R_OK) != 0)
		nc_log_err("host key %s is not readable by the daemon's user: %s",
			   nc_cfg.hostkey, strerror(errno));
	/* A stalled client holds an accepting thread: not for long. */
	nc_server_set_hello_timeout(HANDSHAKE_TIMEOUT);
	if (nc_server_add_endpt(ENDPT, NC_TI_LIBSSH) ||
	    nc_server_ssh_endpt_add_hostkey(ENDPT, "hostkey", -1) ||
	    nc_server_ssh_endpt_set_auth_methods(ENDPT,
						 NC_SSH_AUTH_PUBLICKEY) ||
	    nc_server_ssh_endpt_set_auth_timeout(ENDPT, HANDSHAKE_TIMEOUT)) {
		nc_log_err("cannot set up the SSH endpoint");
		return -1;
	}
	/* Loopback unless address= says otherwise: a management interface
	 * is opened on purpose, not by default. */
	addr = nc_cfg.address[0] ? nc_cfg.address : "127.0.0.1";
	if (listen_on(addr) < 0) {
		nc_log_err("cannot listen on [%s]:%u", addr, nc_cfg.port);
		return -1;
	}
	ps = nc_ps_new();
	listen_fd = find_listen_fd(nc_cfg.port);
	if (listen_fd < 0)
		nc_log_err("cannot find the listening socket: max-sessions is not enforced");
	nc_log_info("listening on [%s]:%u (SSH, public keys from %s, at most %u sessions)",
		    addr, nc_cfg.port, nc_cfg.authkeys, nc_cfg.max_sessions);
	return 0;
}

static void session_end(struct nc_session *s)
{
	struct nc_job job = { .type = J_SESSION_END,
			      .sid = nc_session_get_id(s) };
	const char *u = nc_session_get_username(s);
	char user[128];

	strlcpy(user, u ? u : "?", sizeof(user));
	nc_ps_del_session(ps, s);
	nc_session_free(s, NULL);
	/* Logged once its place under max-sessions is free again. */
	nsessions--;
	nc_log_info("session %u (%s) ended", job.sid, user);
	nc_job_run_main(&job);
}

/* Drop the sessions that ended (closed, killed, broken). */
static void sweep(void)
{
	for (uint16_t i = 0; i < nc_ps_session_count(ps);) {
		struct nc_session *s = nc_ps_get_session(ps, i);

		if (nc_session_get_status(s) != NC_STATUS_RUNNING)
			session_end(s);
		else
			i++;
	}
}

/*
 * The polling thread: requests of the sessions in ps. It never accepts,
 * so a client that stalls in its SSH handshake delays nobody's RPCs.
 */
void nc_srv_loop(void)
{
	while (!nc_stopping()) {
		struct nc_session *s = NULL;
		int r;

		if (!nc_ps_session_count(ps)) {
			usleep(20 * 1000);
			continue;
		}
		r = nc_ps_poll(ps, 100, &s);
		if (r & (NC_PSPOLL_SESSION_TERM | NC_PSPOLL_SESSION_ERROR) && s)
			session_end(s);
		sweep();
	}
}

/* A connection beyond max-sessions: accepted and closed at once, before
 * any SSH byte. Logged once per burst: the first refusal, then how many
 * when a connection is taken again. Only the thread in the gate counts. */
static unsigned int refused;

static void refuse_one(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int fd;

	fd = accept4(listen_fd, (struct sockaddr *)&ss, &len,
		     SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  host, sizeof(host));
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  host, sizeof(host));
	close(fd);
	if (!refused++)
		nc_log_err("session limit (max-sessions=%u) reached: closing new connections (first from %s)",
			   nc_cfg.max_sessions, host);
}

/*
 * A turn in the gate: wait up to 100 ms for a connection and refuse it at
 * the limit, or take a slot for it. True: a slot is taken and the gate
 * still held, for nc_accept() to accept the connection.
 */
static bool gate_turn(void)
{
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };

	pthread_mutex_lock(&gate);
	gate_held = true;
	if (nc_stopping()) {
		gate_leave();
		return false;
	}
	/* Without the socket, nc_accept() waits itself (and no limit). */
	if (listen_fd >= 0 &&
	    (poll(&pfd, 1, 100) <= 0 || !(pfd.revents & POLLIN))) {
		gate_leave();
		return false;
	}
	/* Only the gate adds to nsessions: it cannot grow past the check. */
	if (listen_fd >= 0 && nsessions >= nc_cfg.max_sessions) {
		refuse_one();
		gate_leave();
		return false;
	}
	nsessions++;
	if (refused) {
		nc_log_info("%u connection%s closed at the session limit",
			    refused, refused == 1 ? "" : "s");
		refused = 0;
	}
	return true;
}

void nc_srv_accept_loop(void)
{
	while (!nc_stopping()) {
		struct nc_session *s = NULL;
		NC_MSG_TYPE msg;

		if (!gate_turn())
			continue;
		/* The TCP accept, then (out of the gate: hostkey_clb) the SSH
		 * handshake, authentication and <hello>. */
		msg = nc_accept(listen_fd >= 0 ? 0 : 100, &s);
		/* Still held if nc_accept() returned before asking for the
		 * host key (no connection taken). */
		gate_leave();
		if (msg != NC_MSG_HELLO) {
			nsessions--;
			continue;
		}
		nc_log_info("session %u: user %s from %s",
			    nc_session_get_id(s), nc_session_get_username(s),
			    nc_session_get_host(s));
		if (nc_stopping() || nc_ps_add_session(ps, s)) {
			nc_session_free(s, NULL);
			nsessions--;
		}
	}
}

void nc_srv_cleanup(void)
{
	if (ps) {
		nc_ps_clear(ps, 1, NULL);
		nc_ps_free(ps);
		ps = NULL;
	}
	nc_server_destroy();
	if (nc_ctx)
		ly_ctx_destroy(nc_ctx);
	nc_ctx = NULL;
}
