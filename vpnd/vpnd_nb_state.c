// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: northbound operational-state callbacks (the config false nodes of
 * yang/vpnd.yang).
 *
 * The values come from the accessor layer (vpnd_state.h), the same
 * structs the show commands print, so NETCONF <get> and the CLI agree.
 * Each connection's state is read once per event-loop task and freed
 * after it: one <get> sees one consistent snapshot per connection, and
 * list entries (Child SAs, routes, nexthops) point into it.
 */
#include <zebra.h>

#include "northbound.h"
#include "thread.h"
#include "yang.h"
#include "lib/memory.h"

#include "vpnd.h"
#include "vpnd_nb.h"
#include "vpnd_state.h"
#include "vpnd_util.h"

DEFINE_MTYPE_STATIC(VPND, VPN_NB_SNAP, "VPN northbound state snapshot");

extern struct thread_master *master;

/* ------------------------------------------------------------------ */
/* The snapshot                                                        */
/* ------------------------------------------------------------------ */

struct snap {
	struct snap *next;
	struct vpn_conn_info st;
};

static struct snap *snaps;
static struct thread *t_snap_free;

static void snap_free(struct thread *t)
{
	while (snaps) {
		struct snap *s = snaps;

		snaps = s->next;
		vpn_state_conn_fini(&s->st);
		XFREE(MTYPE_VPN_NB_SNAP, s);
	}
}

static const struct vpn_conn_info *conn_snap(const void *entry)
{
	const struct vpn_connection *conn = entry;
	struct snap *s;

	for (s = snaps; s; s = s->next)
		if (s->st.conn == conn)
			return &s->st;
	if (!snaps)
		/* Runs after the task that is reading state now. */
		thread_add_event(master, snap_free, NULL, 0, &t_snap_free);
	s = XCALLOC(MTYPE_VPN_NB_SNAP, sizeof(*s));
	vpn_state_conn(conn, &s->st);
	s->next = snaps;
	snaps = s;
	return &s->st;
}

/* The IKE SA NETCONF shows (the same as the show command's "ikeSa"). */
static const struct vpn_ike_sa_oper *snap_sa(const void *conn)
{
	return vpn_state_conn_sa(conn_snap(conn));
}

/* The part of a data path below the innermost list entry. */
static const char *below_entry(const char *xpath)
{
	const char *p = strrchr(xpath, ']');

	return p && p[1] == '/' ? p + 2 : xpath;
}

static struct yang_data *leaf_str(const char *xpath, const char *v)
{
	return v && v[0] ? yang_data_new(xpath, v) : NULL;
}

static struct yang_data *leaf_u64(const char *xpath, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return yang_data_new(xpath, buf);
}

/* A counter by its YANG name, from a table of vpnd_state.h. */
static struct yang_data *counter_leaf(const char *xpath, const char *name,
				      const void *obj,
				      const struct vpn_counter_desc *d,
				      unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (d[i].yang && !strcmp(name, d[i].yang))
			return leaf_u64(xpath, vpn_counter_get(obj, &d[i]));
	return NULL;
}

/* ------------------------------------------------------------------ */
/* /vpnd:vpn/connection                                                */
/* ------------------------------------------------------------------ */

const void *vpn_conn_get_next(struct nb_cb_get_next_args *args)
{
	const struct vpn_connection *conn = args->list_entry;

	if (!conn)
		return vpn_conns_const_first(&vpn.conns);
	return vpn_conns_const_next(&vpn.conns, conn);
}

int vpn_conn_get_keys(struct nb_cb_get_keys_args *args)
{
	const struct vpn_connection *conn = args->list_entry;

	args->keys->num = 1;
	strlcpy(args->keys->key[0], conn->name, sizeof(args->keys->key[0]));
	return NB_OK;
}

const void *vpn_conn_lookup_entry(struct nb_cb_lookup_entry_args *args)
{
	return vpn_connection_lookup(args->keys->key[0]);
}

/* state/ike-sa/... of the IKE SA sa (rel: below "state/ike-sa/"). */
static struct yang_data *ike_sa_leaf(const char *xpath, const char *rel,
				     const struct vpn_ike_sa_oper *sa)
{
	const struct ike_sa_status *st = &sa->st;
	bool est = st->state == IKE_SA_ESTABLISHED;
	char buf[INET6_ADDRSTRLEN];

	if (!strcmp(rel, "sa-state"))
		return leaf_str(xpath, ike_sa_state_str(st->state));
	if (!strcmp(rel, "initiator"))
		return yang_data_new_bool(xpath, st->initiator);
	if (!strcmp(rel, "initiator-ikesa-spi"))
		return leaf_u64(xpath, st->spi_i);
	if (!strcmp(rel, "responder-ikesa-spi"))
		return leaf_u64(xpath, st->spi_r);
	if (!strcmp(rel, "local-address"))
		return leaf_str(xpath, vpn_addr_str(&st->local, buf,
						    sizeof(buf)));
	if (!strcmp(rel, "remote-address"))
		return leaf_str(xpath, vpn_addr_str(&st->remote, buf,
						    sizeof(buf)));
	if (!strcmp(rel, "encapsulation-type/espencap"))
		return yang_data_new(xpath, "espinudp");
	if (!strcmp(rel, "encapsulation-type/sport"))
		return leaf_u64(xpath, st->local.port);
	if (!strcmp(rel, "encapsulation-type/dport"))
		return leaf_u64(xpath, st->remote.port);
	if (!strncmp(rel, "drop-", 5))
		return sa->has_tunnel ? counter_leaf(xpath, rel, &sa->tun,
						     vpn_tunnel_counters,
						     vpn_tunnel_ncounters)
				      : NULL;
	if (!est)
		return NULL;
	if (!strcmp(rel, "encryption-algorithm"))
		return leaf_str(xpath, vpn_state_tname(VPN_TT_ENCR, st->encr,
						       st->encr_keybits));
	if (!strcmp(rel, "integrity-algorithm"))
		return st->integ ? leaf_str(xpath,
					    vpn_state_tname(VPN_TT_INTEG,
							    st->integ, 0))
				 : NULL;
	if (!strcmp(rel, "prf"))
		return leaf_str(xpath, vpn_state_tname(VPN_TT_PRF, st->prf, 0));
	if (!strcmp(rel, "dh-group"))
		return leaf_str(xpath, vpn_state_tname(VPN_TT_DH, st->dh, 0));
	if (!strcmp(rel, "current-rekey-time"))
		return leaf_u64(xpath, (uint64_t)sa->rekey_s);
	return NULL;
}

struct yang_data *vpn_conn_state_get_elem(struct nb_cb_get_elem_args *args)
{
	const struct vpn_conn_info *s = conn_snap(args->list_entry);
	const struct vpn_ike_sa_oper *sa = snap_sa(args->list_entry);
	const char *rel = below_entry(args->xpath), *x = args->xpath;

	if (!strcmp(rel, "state/oper-state"))
		return leaf_str(x, vpn_conn_state_str(s->oper.state));
	if (!strcmp(rel, "state/state-reason"))
		return leaf_str(x, s->conn->state_reason);
	if (!strcmp(rel, "state/last-error"))
		return leaf_str(x, s->oper.last_error);
	if (!strcmp(rel, "state/carrier"))
		return yang_data_new_bool(x, s->oper.carrier);
	if (!strcmp(rel, "state/dpd-timeout"))
		return leaf_u64(x, s->dpd_timeout);
	if (!strcmp(rel, "state/underlay/state"))
		return leaf_str(x, vpn_underlay_state_str(s->underlay.state));
	if (!strcmp(rel, "state/underlay/pinned"))
		return yang_data_new_bool(x, s->underlay.pinned);
	if (!sa)
		return NULL;
	if (!strcmp(rel, "state/ike-sa"))
		return yang_data_new(x, NULL);
	if (!strncmp(rel, "state/ike-sa/", 13))
		return ike_sa_leaf(x, rel + 13, sa);
	return NULL;
}

/* .../state/underlay/nexthop */
const void *vpn_conn_nexthop_get_next(struct nb_cb_get_next_args *args)
{
	const struct vpn_underlay_oper *u =
		&conn_snap(args->parent_list_entry)->underlay;
	const char(*cur)[64] = args->list_entry;
	unsigned int i = cur ? (unsigned int)(cur - u->nh) + 1 : 0;

	return i < u->nnh ? &u->nh[i] : NULL;
}

struct yang_data *vpn_conn_nexthop_get_elem(struct nb_cb_get_elem_args *args)
{
	return yang_data_new(args->xpath, *(const char(*)[64])args->list_entry);
}

/* ------------------------------------------------------------------ */
/* .../state/ike-sa/child-sa                                           */
/* ------------------------------------------------------------------ */

const void *vpn_child_sa_get_next(struct nb_cb_get_next_args *args)
{
	const struct vpn_ike_sa_oper *sa = snap_sa(args->parent_list_entry);
	const struct vpn_child_oper *cur = args->list_entry;
	unsigned int i = cur && sa ? (unsigned int)(cur - sa->children) + 1
				   : 0;

	return sa && i < sa->nchildren ? &sa->children[i] : NULL;
}

int vpn_child_sa_get_keys(struct nb_cb_get_keys_args *args)
{
	const struct vpn_child_oper *c = args->list_entry;

	args->keys->num = 1;
	snprintf(args->keys->key[0], sizeof(args->keys->key[0]), "%u",
		 c->spi_in);
	return NB_OK;
}

const void *vpn_child_sa_lookup_entry(struct nb_cb_lookup_entry_args *args)
{
	const struct vpn_ike_sa_oper *sa = snap_sa(args->parent_list_entry);
	char key[16];

	for (unsigned int i = 0; sa && i < sa->nchildren; i++) {
		snprintf(key, sizeof(key), "%u", sa->children[i].spi_in);
		if (strcmp(key, args->keys->key[0]) == 0)
			return &sa->children[i];
	}
	return NULL;
}

struct yang_data *vpn_child_sa_get_elem(struct nb_cb_get_elem_args *args)
{
	const struct vpn_child_oper *c = args->list_entry;
	const char *rel = below_entry(args->xpath), *x = args->xpath;

	if (!strcmp(rel, "outbound-spi"))
		return leaf_u64(x, c->spi_out);
	if (!strcmp(rel, "active"))
		return yang_data_new_bool(x, c->active);
	if (!strcmp(rel, "encryption-algorithm"))
		return leaf_str(x, vpn_state_tname(VPN_TT_ENCR, c->encr,
						   c->encr_keybits));
	if (!strcmp(rel, "integrity-algorithm"))
		return c->integ ? leaf_str(x, vpn_state_tname(VPN_TT_INTEG,
							      c->integ, 0))
				: NULL;
	if (!strcmp(rel, "ext-seq-num"))
		return yang_data_new_bool(x, c->esn);
	if (!strcmp(rel, "sa-lifetime-current/time"))
		return leaf_u64(x, c->age_s);
	if (!strcmp(rel, "sa-lifetime-current/bytes"))
		return leaf_u64(x, c->bytes_in + c->bytes_out);
	if (!strcmp(rel, "sa-lifetime-current/packets"))
		return leaf_u64(x, c->packets_in + c->packets_out);
	if (!strcmp(rel, "lifetime-seconds-left"))
		return leaf_u64(x, c->lifetime_s_left);
	if (!strcmp(rel, "lifetime-bytes-left"))
		return c->lifetime_bytes ? leaf_u64(x, c->lifetime_bytes_left)
					 : NULL;
	if (!strncmp(rel, "statistics/", 11))
		return counter_leaf(x, rel + 11, c, vpn_child_counters,
				    vpn_child_ncounters);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* .../state/route                                                     */
/* ------------------------------------------------------------------ */

const void *vpn_route_state_get_next(struct nb_cb_get_next_args *args)
{
	const struct vpn_conn_info *s = conn_snap(args->parent_list_entry);
	const struct vpn_route_oper *cur = args->list_entry;
	unsigned int i = cur ? (unsigned int)(cur - s->routes) + 1 : 0;

	return i < s->nroutes ? &s->routes[i] : NULL;
}

int vpn_route_state_get_keys(struct nb_cb_get_keys_args *args)
{
	const struct vpn_route_oper *r = args->list_entry;

	args->keys->num = 1;
	snprintfrr(args->keys->key[0], sizeof(args->keys->key[0]), "%pFX",
		   &r->p);
	return NB_OK;
}

const void *
vpn_route_state_lookup_entry(struct nb_cb_lookup_entry_args *args)
{
	const struct vpn_conn_info *s = conn_snap(args->parent_list_entry);
	char key[PREFIX2STR_BUFFER];

	for (unsigned int i = 0; i < s->nroutes; i++) {
		snprintfrr(key, sizeof(key), "%pFX", &s->routes[i].p);
		if (strcmp(key, args->keys->key[0]) == 0)
			return &s->routes[i];
	}
	return NULL;
}

struct yang_data *vpn_route_state_get_elem(struct nb_cb_get_elem_args *args)
{
	const struct vpn_route_oper *r = args->list_entry;
	const char *rel = below_entry(args->xpath);

	if (!strcmp(rel, "source"))
		return yang_data_new(args->xpath,
				     r->src == VPN_ROUTE_SRC_ROUTE
					     ? "route"
					     : "traffic-selector");
	if (!strcmp(rel, "installed"))
		return yang_data_new_bool(args->xpath, r->installed);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* /vpnd:vpn/number-ike-sas                                            */
/* ------------------------------------------------------------------ */

struct yang_data *vpn_number_ike_sas_get_elem(struct nb_cb_get_elem_args *args)
{
	unsigned int total, half;

	vpn_state_sa_counts(&total, &half);
	return leaf_u64(args->xpath,
			strstr(args->xpath, "half-open") ? half : total);
}

/* ------------------------------------------------------------------ */
/* /vpnd:vpn/ike/statistics                                            */
/* ------------------------------------------------------------------ */

/* Read per leaf: a copy of a few counters, and nothing runs the engine
 * between the leaves of one <get>. */
struct yang_data *vpn_ike_stats_get_elem(struct nb_cb_get_elem_args *args)
{
	const char *leaf = strrchr(args->xpath, '/');
	struct ike_stats st;

	if (!leaf)
		return NULL;
	vpn_state_ike_stats(&st);
	return counter_leaf(args->xpath, leaf + 1, &st, vpn_ike_counters,
			    vpn_ike_ncounters);
}
