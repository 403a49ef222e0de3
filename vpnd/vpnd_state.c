// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: operational state from the owners' getters (see vpnd_state.h).
 */
#include <zebra.h>

#include "lib/memory.h"

#include "vpnd_ike.h"
#include "vpnd_state.h"
#include "vpnd_util.h"

DEFINE_MTYPE_STATIC(VPND, VPN_STATE, "VPN operational state");

#define CHILD(j, y, f) { j, y, offsetof(struct vpn_child_oper, f) }
const struct vpn_counter_desc vpn_child_counters[] = {
	CHILD("packetsIn", "in-packets", packets_in),
	CHILD("bytesIn", "in-bytes", bytes_in),
	CHILD("packetsOut", "out-packets", packets_out),
	CHILD("bytesOut", "out-bytes", bytes_out),
	CHILD("dropReplay", "drop-replay", drop_replay),
	CHILD("dropIntegrity", "drop-integrity", drop_integrity),
	CHILD("dropMalformed", "drop-malformed", drop_malformed),
	CHILD("dropPolicy", NULL, drop_policy),
	CHILD("dropOther", "drop-other", drop_other),
};
const unsigned int vpn_child_ncounters = array_size(vpn_child_counters);

#define TUN(j, y, f) { j, y, offsetof(struct vpn_tunnel_oper, f) }
const struct vpn_counter_desc vpn_tunnel_counters[] = {
	TUN("dropNoSa", "drop-no-sa", drop_no_sa),
	TUN("dropTunWrite", NULL, drop_tun_write),
	TUN("dropTunRead", NULL, drop_tun_read),
	TUN("tunTsoReads", NULL, tso_reads),
	TUN("tunGroWrites", NULL, gro_writes),
	TUN("dropHandoff", NULL, drop_handoff),
	TUN("dropUnknownSpiGlobal", "drop-unknown-spi", drop_unknown_spi),
};
const unsigned int vpn_tunnel_ncounters = array_size(vpn_tunnel_counters);

#define IKE(j, y, f, t) { j, y, offsetof(struct ike_stats, f), t }
const struct vpn_counter_desc vpn_ike_counters[] = {
	IKE("ikeSas", "ike-sas", ike_sas, "IKE SAs now"),
	IKE("halfOpen", "half-open", half_open,
	    "half-open IKE SAs now (responder)"),
	IKE("datagramsReceived", "datagrams-received", rx,
	    "datagrams received"),
	IKE("dropTooLarge", "drop-too-large", drop_too_large,
	    "dropped: larger than max-packet"),
	IKE("dropMalformed", "drop-malformed", drop_malformed,
	    "dropped: malformed"),
	IKE("dropUnknownSpi", "drop-unknown-spi", drop_unknown_spi,
	    "dropped: unknown SPI"),
	IKE("dropUnexpected", "drop-unexpected", drop_unexpected,
	    "dropped: unexpected"),
	IKE("dropIntegrity", "drop-integrity", drop_integrity,
	    "dropped: integrity check failed"),
	IKE("dropNoConnection", "drop-no-connection", drop_no_connection,
	    "dropped: no connection for the addresses"),
	IKE("cookiesSent", "cookies-sent", cookies_sent, "COOKIEs sent"),
	IKE("cookiesInvalid", "cookies-invalid", cookies_invalid,
	    "COOKIEs invalid"),
	IKE("dropBlocked", "drop-blocked", drop_blocked,
	    "dropped: block-threshold"),
	IKE("dropHalfOpenLimit", "drop-half-open-limit", drop_half_open_limit,
	    "dropped: half-open-limit"),
	IKE("dropPeerSaLimit", "drop-peer-sa-limit", drop_peer_sa_limit,
	    "dropped: peer-sa-limit"),
	IKE("halfOpenExpired", "half-open-expired", half_open_expired,
	    "half-open IKE SAs expired"),
	IKE("noProposalChosen", "no-proposal-chosen", no_proposal_chosen,
	    "NO_PROPOSAL_CHOSEN sent"),
	IKE("invalidKeSent", "invalid-ke-sent", invalid_ke_sent,
	    "INVALID_KE_PAYLOAD sent"),
	IKE("retransmitsAnswered", "retransmits-answered",
	    retransmits_answered, "retransmitted requests answered"),
	IKE("logSuppressed", "log-suppressed", log_suppressed,
	    "log lines suppressed"),
};
const unsigned int vpn_ike_ncounters = array_size(vpn_ike_counters);
/* A counter added to struct ike_stats needs its line above (and its leaf
 * in yang/vpnd.yang and vpnd_nb.c). */
_Static_assert(sizeof(vpn_ike_counters) / sizeof(vpn_ike_counters[0]) *
			       sizeof(uint64_t) ==
		       sizeof(struct ike_stats),
	       "vpn_ike_counters must name every field of struct ike_stats");

void vpn_state_ike_stats(struct ike_stats *st)
{
	vpn_ike_get_stats(st);
}

/* Read back from the engine: what it applies, not what was asked. */
void vpn_state_ike_dos(struct ike_dos_config *dos)
{
	vpn_ike_get_dos(dos);
}

const char *vpn_state_tname(uint8_t type, uint16_t id, uint16_t keylen)
{
	struct vpn_transform t = { type, id, keylen };

	return vpn_transform_name(&t);
}

/* One IKE SA of conn, with the Child SAs of its tunnel that it owns. */
static void sa_fill(const struct vpn_connection *conn, struct ike_sa *sa,
		    struct vpn_ike_sa_oper *o)
{
	struct vpn_tunnel *tun = vpn_conn_tunnel(conn);
	struct vpn_child_oper all[VPN_TUNNEL_MAX_SA];
	uint64_t now_ms = vpn_now_ms();
	unsigned int n;

	memset(o, 0, sizeof(*o));
	o->conn_name = conn->name;
	ike_sa_get_status(sa, &o->st);
	o->rekey_s = o->st.rekey_at_ms > now_ms
			     ? (int64_t)((o->st.rekey_at_ms - now_ms) / 1000)
			     : 0;
	if (!tun)
		return;
	o->has_tunnel = true;
	vpn_tunnel_get_oper(tun, &o->tun);
	n = vpn_tunnel_get_children(tun, all, VPN_TUNNEL_MAX_SA);
	for (unsigned int i = 0; i < n; i++)
		if (ike_sa_has_child(sa, all[i].spi_in))
			o->children[o->nchildren++] = all[i];
}

struct collect {
	const struct vpn_connection *conn;
	struct vpn_conn_info *s;
	unsigned int max;
};

static void collect_sa(struct ike_sa *sa, void *arg)
{
	struct collect *c = arg;
	struct vpn_conn_info *s = c->s;

	if (s->nsas == c->max) {
		c->max = c->max ? c->max * 2 : 2;
		s->sas = XREALLOC(MTYPE_VPN_STATE, s->sas,
				  c->max * sizeof(*s->sas));
	}
	sa_fill(c->conn, sa, &s->sas[s->nsas++]);
}

void vpn_state_conn(const struct vpn_connection *conn,
		    struct vpn_conn_info *s)
{
	struct vpn_zconn *zc = vpn_conn_zebra(conn);
	struct collect c = { .conn = conn, .s = s };
	unsigned int max = vpn_zebra_conn_nroutes_max(zc);

	memset(s, 0, sizeof(*s));
	s->conn = conn;
	vpn_conn_get_oper(conn, &s->oper);
	s->dpd_timeout = vpn_connection_dpd_timeout(conn);
	vpn_conn_foreach_sa(conn, collect_sa, &c);
	vpn_zebra_conn_get_underlay(zc, &s->underlay);
	if (!zc) {
		/* not running: the configured routes, none installed */
		max = conn->nroutes;
		s->routes = XCALLOC(MTYPE_VPN_STATE,
				    (max + 1) * sizeof(*s->routes));
		for (; s->nroutes < max; s->nroutes++) {
			s->routes[s->nroutes].p = conn->routes[s->nroutes];
			s->routes[s->nroutes].src = VPN_ROUTE_SRC_ROUTE;
		}
		return;
	}
	s->routes = XCALLOC(MTYPE_VPN_STATE, (max + 1) * sizeof(*s->routes));
	s->nroutes = vpn_zebra_conn_get_routes(zc, s->routes, max);
}

const struct vpn_ike_sa_oper *vpn_state_conn_sa(const struct vpn_conn_info *s)
{
	for (unsigned int i = 0; i < s->nsas; i++)
		if (s->sas[i].st.state == IKE_SA_ESTABLISHED)
			return &s->sas[i];
	return s->nsas ? &s->sas[0] : NULL;
}

void vpn_state_conn_fini(struct vpn_conn_info *s)
{
	XFREE(MTYPE_VPN_STATE, s->sas);
	XFREE(MTYPE_VPN_STATE, s->routes);
}

struct foreach {
	const struct vpn_connection *conn;
	vpn_state_sa_fn fn;
	void *arg;
};

static void foreach_sa(struct ike_sa *sa, void *arg)
{
	struct foreach *f = arg;
	struct vpn_ike_sa_oper o;

	sa_fill(f->conn, sa, &o);
	f->fn(&o, f->arg);
}

void vpn_state_foreach_sa(vpn_state_sa_fn fn, void *arg)
{
	struct vpn_connection *conn;
	struct foreach f = { .fn = fn, .arg = arg };

	frr_each (vpn_conns, &vpn.conns, conn) {
		f.conn = conn;
		vpn_conn_foreach_sa(conn, foreach_sa, &f);
	}
}

static void count_sa(const struct vpn_ike_sa_oper *sa, void *arg)
{
	unsigned int *n = arg;

	n[0]++;
	if (sa->st.state == IKE_SA_INIT_SENT ||
	    sa->st.state == IKE_SA_AUTH_SENT ||
	    sa->st.state == IKE_SA_RESPONDED)
		n[1]++;
}

void vpn_state_sa_counts(unsigned int *total, unsigned int *half_open)
{
	unsigned int n[2] = {};

	vpn_state_foreach_sa(count_sa, n);
	*total = n[0];
	*half_open = n[1];
}

/* ------------------------------------------------------------------ */
/* Connections in brief                                                */
/* ------------------------------------------------------------------ */

struct brief {
	struct vpn_conn_brief *b;
	uint64_t now_ms;
	unsigned int nchildren;
	struct vpn_child_oper children[VPN_TUNNEL_MAX_SA];
	bool counted[VPN_TUNNEL_MAX_SA];
};

/* IKE SAs come newest first: the first established one is the one
 * vpn_state_conn_sa stands for the connection with. */
static void brief_sa(struct ike_sa *sa, void *arg)
{
	struct brief *br = arg;
	struct vpn_conn_brief *b = br->b;
	struct ike_sa_status st;

	ike_sa_get_status(sa, &st);
	if (!b->has_sa && st.state == IKE_SA_ESTABLISHED) {
		b->has_sa = true;
		b->uptime_s = br->now_ms > st.established_ms
				      ? (br->now_ms - st.established_ms) / 1000
				      : 0;
	}
	for (unsigned int i = 0; i < br->nchildren; i++) {
		if (br->counted[i] ||
		    !ike_sa_has_child(sa, br->children[i].spi_in))
			continue;
		br->counted[i] = true;
		b->bytes_in += br->children[i].bytes_in;
		b->bytes_out += br->children[i].bytes_out;
	}
}

void vpn_state_conn_brief(const struct vpn_connection *conn,
			  struct vpn_conn_brief *b)
{
	struct vpn_tunnel *tun = vpn_conn_tunnel(conn);
	struct vpn_conn_oper oper;
	struct brief br = { .b = b, .now_ms = vpn_now_ms() };

	memset(b, 0, sizeof(*b));
	b->conn = conn;
	vpn_conn_get_oper(conn, &oper);
	b->state = oper.state;
	if (tun)
		br.nchildren = vpn_tunnel_get_children(tun, br.children,
						       VPN_TUNNEL_MAX_SA);
	vpn_conn_foreach_sa(conn, brief_sa, &br);
}

struct vpn_conn_brief *vpn_state_conn_summary(unsigned int *n)
{
	struct vpn_connection *conn;
	struct vpn_conn_brief *b;
	unsigned int i = 0;

	b = XCALLOC(MTYPE_VPN_STATE,
		    (vpn_conns_count(&vpn.conns) + 1) * sizeof(*b));
	frr_each (vpn_conns, &vpn.conns, conn)
		vpn_state_conn_brief(conn, &b[i++]);
	*n = i;
	return b;
}

void vpn_state_conn_summary_free(struct vpn_conn_brief *b)
{
	XFREE(MTYPE_VPN_STATE, b);
}
