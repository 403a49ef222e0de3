// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: northbound configuration callbacks.
 *
 * Structure and value checks live in yang/vpnd.yang (patterns, ranges,
 * 'must' rules with their error messages). What YANG cannot express is
 * checked here in the VALIDATE phase (proposal strings), so that the CLI,
 * configuration files and NETCONF all get the same refusals.
 *
 * Each list entry (policy, connection) is rebuilt from its data node in
 * its apply_finish callback, once per transaction, whatever leaves changed.
 */
#include <zebra.h>

#include "northbound.h"
#include "yang.h"
#include "log.h"

#include "vpnd.h"
#include "vpnd_nb.h"

int vpn_nb_create_noop(struct nb_cb_create_args *args)
{
	return NB_OK;
}

int vpn_nb_modify_noop(struct nb_cb_modify_args *args)
{
	return NB_OK;
}

int vpn_nb_destroy_noop(struct nb_cb_destroy_args *args)
{
	return NB_OK;
}

int vpn_nb_move_noop(struct nb_cb_move_args *args)
{
	return NB_OK;
}

/* /vpnd:vpn */
int vpn_create(struct nb_cb_create_args *args)
{
	if (args->event != NB_EV_APPLY)
		return NB_OK;
	vpn.configured = true;
	nb_running_set_entry(args->dnode, &vpn);
	return NB_OK;
}

int vpn_destroy(struct nb_cb_destroy_args *args)
{
	if (args->event != NB_EV_APPLY)
		return NB_OK;
	/* Drops the running entries of every policy and connection too. */
	nb_running_unset_entry(args->dnode);
	vpn_clear();
	return NB_OK;
}

static enum vpn_proposal_kind policy_kind(const struct lyd_node *dnode)
{
	return strcmp(dnode->schema->name, "ike-policy") == 0
		       ? VPN_PROPOSAL_IKE
		       : VPN_PROPOSAL_ESP;
}

/* /vpnd:vpn/ike: the engine takes its defences as one set, once per
 * transaction however many leaves changed. Removing 'vpn' restores the
 * defaults (vpn_clear). */
void vpn_ike_apply_finish(struct nb_cb_apply_finish_args *args)
{
	struct ike_dos_config cfg = {};
	char xpath[64];

	/* vpn_dos_fields names every field */
	for (unsigned int i = 0; i < vpn_dos_nfields; i++) {
		snprintf(xpath, sizeof(xpath), "./%s", vpn_dos_fields[i].yang);
		*vpn_dos_field(&cfg, &vpn_dos_fields[i]) =
			yang_dnode_get_uint32(args->dnode, xpath);
	}
	vpn_set_dos(&cfg);
}

/* /vpnd:vpn/{ike,ipsec}-policy */
int vpn_policy_create_cb(struct nb_cb_create_args *args)
{
	struct vpn_policy *pol;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	pol = vpn_policy_create(policy_kind(args->dnode),
				yang_dnode_get_string(args->dnode, "./name"));
	nb_running_set_entry(args->dnode, pol);
	return NB_OK;
}

int vpn_policy_destroy_cb(struct nb_cb_destroy_args *args)
{
	struct vpn_policy *pol;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	pol = nb_running_unset_entry(args->dnode);
	vpn_policy_delete(pol);
	return NB_OK;
}

static int policy_load_proposal(const struct lyd_node *dnode, void *arg)
{
	struct vpn_policy *pol = arg;
	char err[512];

	if (pol->nproposals >= VPN_POLICY_MAX_PROPOSALS)
		return YANG_ITER_STOP;
	/* Validated when it was committed; cannot fail here. */
	if (vpn_proposal_parse(yang_dnode_get_string(dnode, NULL), pol->kind,
			       &pol->proposals[pol->nproposals], err,
			       sizeof(err)) == 0)
		pol->nproposals++;
	return YANG_ITER_CONTINUE;
}

void vpn_policy_apply_finish(struct nb_cb_apply_finish_args *args)
{
	struct vpn_policy *pol = nb_running_get_entry(args->dnode, NULL, true);

	pol->nproposals = 0;
	yang_dnode_iterate(policy_load_proposal, pol, args->dnode,
			   "./proposal");
	if (pol->kind == VPN_PROPOSAL_IKE) {
		pol->lifetime_s = yang_dnode_get_uint32(args->dnode,
							"./lifetime");
		pol->lifetime_kb = 0;
	} else {
		pol->lifetime_s = yang_dnode_get_uint32(args->dnode,
							"./lifetime/seconds");
		pol->lifetime_kb = yang_dnode_get_uint32(
			args->dnode, "./lifetime/kilobytes");
	}
	vpn_policy_changed(pol);
}

/* /vpnd:vpn/{ike,ipsec}-policy/proposal */
int vpn_policy_proposal_create(struct nb_cb_create_args *args)
{
	struct vpn_proposal prop;

	if (args->event != NB_EV_VALIDATE)
		return NB_OK;
	if (vpn_proposal_parse(yang_dnode_get_string(args->dnode, NULL),
			       policy_kind(lyd_parent(args->dnode)), &prop,
			       args->errmsg, args->errmsg_len) < 0)
		return NB_ERR_VALIDATION;
	return NB_OK;
}

/* /vpnd:vpn/connection */
int vpn_conn_create(struct nb_cb_create_args *args)
{
	struct vpn_connection *conn;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	conn = vpn_connection_create(
		yang_dnode_get_string(args->dnode, "./name"));
	nb_running_set_entry(args->dnode, conn);
	return NB_OK;
}

int vpn_conn_destroy(struct nb_cb_destroy_args *args)
{
	struct vpn_connection *conn;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	conn = nb_running_unset_entry(args->dnode);
	vpn_connection_delete(conn);
	return NB_OK;
}

static void get_string_opt(char *buf, size_t len, const struct lyd_node *dnode,
			   const char *xpath)
{
	if (yang_dnode_exists(dnode, xpath))
		yang_dnode_get_string_buf(buf, len, dnode, xpath);
	else
		buf[0] = '\0';
}

struct ts_collect {
	struct vpn_ts *ts;
	unsigned int n;
};

static int dnode_count(const struct lyd_node *dnode, void *arg)
{
	(*(unsigned int *)arg)++;
	return YANG_ITER_CONTINUE;
}

static int conn_collect_ts(const struct lyd_node *dnode, void *arg)
{
	struct ts_collect *c = arg;

	yang_dnode_get_prefix(&c->ts[c->n].local, dnode, "./local");
	yang_dnode_get_prefix(&c->ts[c->n].remote, dnode, "./remote");
	c->n++;
	return YANG_ITER_CONTINUE;
}

static void conn_load_ts(struct vpn_connection *conn,
			 const struct lyd_node *dnode)
{
	unsigned int n = 0;
	struct ts_collect c;

	yang_dnode_iterate(dnode_count, &n, dnode, "./traffic-selector");
	c.ts = n ? XCALLOC(MTYPE_TMP, n * sizeof(*c.ts)) : NULL;
	c.n = 0;
	if (n)
		yang_dnode_iterate(conn_collect_ts, &c, dnode,
				   "./traffic-selector");
	vpn_connection_set_ts(conn, c.ts, c.n);
	XFREE(MTYPE_TMP, c.ts);
}

static int collect_prefix(const struct lyd_node *dnode, void *arg)
{
	struct prefix **p = arg;

	yang_dnode_get_prefix(*p, dnode, NULL);
	(*p)++;
	return YANG_ITER_CONTINUE;
}

/* The prefixes of a leaf-list (MTYPE_TMP; NULL when none). */
static struct prefix *load_prefixes(const struct lyd_node *dnode,
				    const char *xpath, unsigned int *n)
{
	struct prefix *p, *next;

	*n = 0;
	yang_dnode_iterate(dnode_count, n, dnode, xpath);
	if (!*n)
		return NULL;
	p = XCALLOC(MTYPE_TMP, *n * sizeof(*p));
	next = p;
	yang_dnode_iterate(collect_prefix, &next, dnode, xpath);
	return p;
}

/* 'route' and 'accept-prefix'. */
static void conn_load_routes(struct vpn_connection *conn,
			     const struct lyd_node *dnode)
{
	unsigned int n;
	struct prefix *p;

	p = load_prefixes(dnode, "./route", &n);
	vpn_connection_set_routes(conn, p, n);
	XFREE(MTYPE_TMP, p);
	p = load_prefixes(dnode, "./accept-prefix", &n);
	vpn_connection_set_accept(conn, p, n);
	XFREE(MTYPE_TMP, p);
}

void vpn_conn_apply_finish(struct nb_cb_apply_finish_args *args)
{
	const struct lyd_node *dn = args->dnode;
	struct vpn_connection *conn = nb_running_get_entry(dn, NULL, true);

	conn->has_local = yang_dnode_exists(dn, "./local-address");
	if (conn->has_local)
		yang_dnode_get_ip(&conn->local, dn, "./local-address");
	conn->has_remote = yang_dnode_exists(dn, "./remote-address");
	if (conn->has_remote)
		yang_dnode_get_ip(&conn->remote, dn, "./remote-address");
	get_string_opt(conn->local_id, sizeof(conn->local_id), dn,
		       "./local-id");
	get_string_opt(conn->remote_id, sizeof(conn->remote_id), dn,
		       "./remote-id");
	vpn_connection_set_psk(conn,
			       yang_dnode_exists(dn, "./pre-shared-key")
				       ? yang_dnode_get_string(
						 dn, "./pre-shared-key")
				       : NULL);
	yang_dnode_get_string_buf(conn->ike_policy, sizeof(conn->ike_policy),
				  dn, "./ike-policy");
	yang_dnode_get_string_buf(conn->ipsec_policy,
				  sizeof(conn->ipsec_policy), dn,
				  "./ipsec-policy");
	get_string_opt(conn->ifname, sizeof(conn->ifname), dn, "./interface");
	conn_load_ts(conn, dn);
	conn_load_routes(conn, dn);
	conn->dpd_interval = yang_dnode_get_uint16(dn, "./dpd/interval");
	conn->dpd_timeout = yang_dnode_exists(dn, "./dpd/timeout")
				    ? yang_dnode_get_uint16(dn, "./dpd/timeout")
				    : 0;
	conn->mode = yang_dnode_get_enum(dn, "./connection-mode");
	conn->shutdown = yang_dnode_get_bool(dn, "./shutdown");

	vpn_connection_update(conn);
}
