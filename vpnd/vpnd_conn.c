// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the connection manager (see vpnd_conn.h).
 *
 * Per connection, struct vpn_conn_rt holds the engine's view (struct
 * ike_conn, rebuilt when the configuration's digest changes), the tunnel
 * interface, the zebra state, the carrier, the retry timer and the last
 * error. The state machine:
 *
 *   idle --initiate--> connecting --Child SA up--> established
 *     ^                    |                           |
 *     +---- retry (2 s doubling to 30 s) <-- failed / ended / DELETE
 *
 * Carrier is up while a Child SA is installed and zebra has not said that
 * no underlay path reaches the peer; routes and the tunnel follow it.
 */
#include <zebra.h>

#include "lib/log.h"
#include "lib/memory.h"
#include "lib/prefix.h"
#include "lib/thread.h"
#include "lib/typesafe.h"

#include "crypto/crypto.h"
#include "ike/htab.h"
#include "util/bytes.h"
#include "vpnd.h"
#include "vpnd_conn.h"
#include "vpnd_ike.h"
#include "vpnd_tunnel.h"
#include "vpnd_udp.h"
#include "vpnd_util.h"
#include "vpnd_zebra.h"

DEFINE_MTYPE_STATIC(VPND, VPN_CONN_RT, "VPN connection runtime");

#define RETRY_MIN_S 2
#define RETRY_MAX_S 30

/*
 * Two gateways that both may initiate usually start together (a site
 * comes up, both configs load): each initiates, and the tunnel ends up
 * with two IKE SAs (legitimate, but twice the state and rekeys). The side
 * with the higher address waits a little first, and does not initiate if
 * the peer's IKE SA arrived meanwhile (conn_initiate checks).
 */
#define FIRST_ATTEMPT_YIELD_MS 2000
/*
 * With many connections the peer's initiations are paced over seconds, so
 * a fixed wait is not enough: while IKE SAs the peer started keep coming
 * up (one within the last FIRST_ATTEMPT_YIELD_MS), a yielding connection
 * waits on, up to FIRST_ATTEMPT_YIELD_MAX_MS from its configuration.
 */
#define FIRST_ATTEMPT_YIELD_MAX_MS 30000

/*
 * Initiations are paced: at most INIT_WINDOW of ours in flight (sent, and
 * neither established nor given up, for at most INIT_HOLD_MS each); the
 * others wait their turn in order. 1000 connections loaded at once then
 * do not all send IKE_SA_INIT, and retransmit it, in the same second: the
 * pace follows how fast the peers answer, and peers that do not answer
 * slow it to INIT_WINDOW per INIT_HOLD_MS at worst.
 */
#define INIT_WINDOW 64
#define INIT_HOLD_MS 1000
#define INIT_PUMP_MS 20

/*
 * Tunnel interfaces are made a few at a time (2-3 ms each in the kernel),
 * between other events: a configuration of 1000 connections does not hold
 * the event loop for seconds. A connection whose interface is not made
 * yet neither initiates nor answers.
 */
#define TUN_MAKE_BATCH 32

PREDECL_DLIST(vpn_rts);
PREDECL_DLIST(vpn_pace);
PREDECL_DLIST(vpn_mk);

/* Runtime state of one configured connection. */
struct vpn_conn_rt {
	struct vpn_rts_item item;
	struct ike_hnode h_remote; /* in rts_by_remote while ike_ready */
	bool indexed;
	struct vpn_connection *conn;
	struct ike_conn ike;
	bool ike_ready;		/* ike is complete and usable */
	char cfg_digest[32];	/* changes force a new IKE SA */
	struct vpn_tunnel *tun; /* TUN interface and its ESP SAs */
	struct vpn_zconn *zc;	/* zebra state (vpnd_zebra.c) */
	enum vpn_conn_state state; /* idle, connecting or established */
	bool carrier;		/* tunnel carrier (routes follow it) */
	struct thread *t_retry;
	unsigned int retry_s;	/* next retry delay */
	unsigned int nchildren; /* installed Child SAs */
	char last_error[160];	/* last failure, for show */
	uint64_t yield_until_ms; /* first attempt yields until (0: none) */
	struct vpn_mk_item mk_item; /* in `to_make` while tun_pending */
	bool tun_pending;	    /* its interface is still to be made */
	/* Pacing: in `waiting` or in `inflight` (since init_ms), or neither;
	 * PACE_TURN: just taken from `waiting` by pace_cb. */
	struct vpn_pace_item pace_item;
	enum { PACE_NONE, PACE_WAITING, PACE_TURN, PACE_INFLIGHT } pace;
	uint64_t init_ms;
};

DECLARE_DLIST(vpn_rts, struct vpn_conn_rt, item);
DECLARE_DLIST(vpn_pace, struct vpn_conn_rt, pace_item);
DECLARE_DLIST(vpn_mk, struct vpn_conn_rt, mk_item);

static struct thread_master *conn_master;
static struct vpn_rts_head rts;
static struct vpn_pace_head waiting, inflight;
static struct vpn_mk_head to_make;
static struct thread *t_make;
/* when an IKE SA the peer initiated last came up (any connection) */
static uint64_t last_peer_sa_ms;
static struct thread *t_pace;
/* The usable connections by remote-address: a responder finds the one
 * an IKE_SA_INIT is for without a walk of every connection. */
static struct ike_htab rts_by_remote;

static uint64_t remote_hash(const struct ike_addr *a)
{
	uint8_t key[17];

	key[0] = a->family;
	memcpy(key + 1, a->addr, ike_addr_len(a));
	return ike_htab_hash(&rts_by_remote, key, 1 + ike_addr_len(a));
}

static void rt_unindex(struct vpn_conn_rt *rt)
{
	if (!rt->indexed)
		return;
	ike_htab_del(&rts_by_remote, &rt->h_remote);
	rt->indexed = false;
}

static void rt_index(struct vpn_conn_rt *rt)
{
	rt_unindex(rt);
	ike_htab_add(&rts_by_remote, &rt->h_remote,
		     remote_hash(&rt->ike.remote));
	rt->indexed = true;
}

static const char *const UNDERLAY_LOST =
	"remote-address unreachable: no underlay route";

static void retry_cb(struct thread *t);

static struct vpn_conn_rt *rt_of(struct ike_sa *sa)
{
	return ike_sa_conn(sa)->host;
}

static bool conn_active(const struct vpn_conn_rt *rt)
{
	return rt->conn->state != VPN_STATE_SHUTDOWN &&
	       rt->conn->state != VPN_STATE_INCOMPLETE;
}

/* ------------------------------------------------------------------ */
/* Carrier and state                                                   */
/* ------------------------------------------------------------------ */

static void conn_set_carrier(struct vpn_conn_rt *rt, bool up)
{
	rt->carrier = up && rt->tun;
	if (rt->tun)
		vpn_tunnel_set_carrier(rt->tun, rt->carrier);
	vpn_zebra_conn_set_carrier(rt->zc, rt->carrier);
}

static void conn_state_refresh(struct vpn_conn_rt *rt)
{
	if (!conn_active(rt))
		return;
	if (rt->nchildren)
		rt->state = VPN_STATE_ESTABLISHED;
	else if (vpn_ike_conn_has_sa(&rt->ike))
		rt->state = VPN_STATE_CONNECTING;
	else
		rt->state = VPN_STATE_IDLE;
	/* Without an underlay path the SA cannot carry anything: routing
	 * should know now, not when DPD gives up. */
	conn_set_carrier(rt, rt->nchildren > 0 &&
				     !vpn_zebra_conn_underlay_lost(rt->zc));
}

/* Nothing negotiated any more (torn down, or not configured to run). */
static void conn_reset(struct vpn_conn_rt *rt)
{
	if (rt->ike_ready)
		vpn_ike_conn_down(&rt->ike, false);
	rt->nchildren = 0;
}

/* ------------------------------------------------------------------ */
/* Initiation and retries                                              */
/* ------------------------------------------------------------------ */

static void retry_in(struct vpn_conn_rt *rt, unsigned int seconds)
{
	thread_cancel(&rt->t_retry);
	thread_add_timer(conn_master, retry_cb, rt, seconds, &rt->t_retry);
}

static void pace_leave(struct vpn_conn_rt *rt)
{
	if (rt->pace == PACE_WAITING)
		vpn_pace_del(&waiting, rt);
	else if (rt->pace == PACE_INFLIGHT)
		vpn_pace_del(&inflight, rt);
	rt->pace = PACE_NONE;
}

static void pace_cb(struct thread *t);

static void pace_schedule(void)
{
	if (vpn_pace_count(&waiting) && !t_pace)
		thread_add_timer_msec(conn_master, pace_cb, NULL, INIT_PUMP_MS,
				      &t_pace);
}

/* May rt initiate now? If not, it waits its turn (pace_cb calls
 * conn_initiate again then). */
static bool pace_admit(struct vpn_conn_rt *rt)
{
	if (rt->pace == PACE_INFLIGHT)
		pace_leave(rt); /* a new attempt of its own */
	if (rt->pace == PACE_WAITING)
		return false;
	if (rt->pace == PACE_NONE &&
	    (vpn_pace_count(&inflight) >= INIT_WINDOW ||
	     vpn_pace_count(&waiting))) {
		vpn_pace_add_tail(&waiting, rt);
		rt->pace = PACE_WAITING;
		pace_schedule();
		return false;
	}
	rt->pace = PACE_INFLIGHT;
	rt->init_ms = vpn_now_ms();
	vpn_pace_add_tail(&inflight, rt);
	return true;
}

/* A yielding first attempt waits on while the peer is initiating. */
static bool conn_yields(struct vpn_conn_rt *rt)
{
	uint64_t now = vpn_now_ms();

	if (!rt->yield_until_ms)
		return false;
	if (now < rt->yield_until_ms && last_peer_sa_ms &&
	    now - last_peer_sa_ms < FIRST_ATTEMPT_YIELD_MS) {
		thread_cancel(&rt->t_retry);
		thread_add_timer_msec(conn_master, retry_cb, rt,
				      FIRST_ATTEMPT_YIELD_MS / 2, &rt->t_retry);
		return true;
	}
	rt->yield_until_ms = 0;
	return false;
}

static void conn_initiate(struct vpn_conn_rt *rt)
{
	if (!rt->ike_ready || rt->ike.responder_only || !conn_active(rt) ||
	    rt->tun_pending || vpn_ike_conn_has_sa(&rt->ike) ||
	    conn_yields(rt))
		return;
	if (vpn_zebra_conn_underlay_lost(rt->zc)) {
		/* zebra tells when a path appears (conn_underlay_changed);
		 * the retry timer is only a fallback. */
		strlcpy(rt->last_error, UNDERLAY_LOST, sizeof(rt->last_error));
		retry_in(rt, RETRY_MAX_S);
		return;
	}
	if (!rt->conn->has_local &&
	    vpn_udp_source_for(&rt->ike.remote, &rt->ike.local) < 0) {
		strlcpy(rt->last_error, "no route to remote-address",
			sizeof(rt->last_error));
		retry_in(rt, rt->retry_s);
		return;
	}
	if (!pace_admit(rt))
		return;
	vpn_ike_initiate(&rt->ike);
	conn_state_refresh(rt);
}

static void retry_cb(struct thread *t)
{
	conn_initiate(THREAD_ARG(t));
}

/* Let finished and overdue initiations go, and waiting ones in. */
static void pace_cb(struct thread *t)
{
	uint64_t now = vpn_now_ms();
	struct vpn_conn_rt *rt;

	frr_each_safe (vpn_pace, &inflight, rt)
		if (rt->state != VPN_STATE_CONNECTING ||
		    now - rt->init_ms >= INIT_HOLD_MS)
			pace_leave(rt);
	while (vpn_pace_count(&inflight) < INIT_WINDOW &&
	       (rt = vpn_pace_pop(&waiting))) {
		rt->pace = PACE_TURN;
		conn_initiate(rt);
		if (rt->pace == PACE_TURN) /* it had nothing to send */
			rt->pace = PACE_NONE;
	}
	pace_schedule();
}

static unsigned int first_attempt_delay_ms(const struct vpn_connection *conn)
{
	if (conn->mode != VPN_MODE_DEFAULT || !conn->has_local ||
	    !conn->has_remote)
		return 0;
	return ipaddr_cmp(&conn->local, &conn->remote) > 0
		       ? FIRST_ATTEMPT_YIELD_MS
		       : 0;
}

/* A fresh start (configuration, a path or address appearing): both
 * sides tend to see it at once, so the tie-break above applies. */
static void conn_attempt_soon(struct vpn_conn_rt *rt)
{
	unsigned int delay = first_attempt_delay_ms(rt->conn);

	rt->retry_s = RETRY_MIN_S;
	rt->yield_until_ms =
		delay ? vpn_now_ms() + FIRST_ATTEMPT_YIELD_MAX_MS : 0;
	thread_cancel(&rt->t_retry);
	thread_add_timer_msec(conn_master, retry_cb, rt, delay, &rt->t_retry);
}

/* ------------------------------------------------------------------ */
/* The engine's view of a connection                                   */
/* ------------------------------------------------------------------ */

static void copy_policy(struct vpn_proposal *dst, unsigned int *n,
			const struct vpn_policy *pol)
{
	*n = MIN(pol->nproposals, IKE_CONN_MAX_PROPOSALS);
	memcpy(dst, pol->proposals, *n * sizeof(*dst));
}

static void ts_from_prefix(struct ike_ts *ts, const struct prefix *p)
{
	ike_ts_from_prefix(ts, p->family == AF_INET ? AF_INET : AF_INET6,
			   (const uint8_t *)&p->u.prefix, p->prefixlen);
}

static void ts_any(struct ike_ts *ts, unsigned int *n)
{
	static const uint8_t zero[16];

	ike_ts_from_prefix(&ts[0], AF_INET, zero, 0);
	ike_ts_from_prefix(&ts[1], AF_INET6, zero, 0);
	*n = 2;
}

static void add_route_limit(struct ike_conn *ic, const struct prefix *p,
			    unsigned int n)
{
	for (unsigned int i = 0; i < n && ic->n_route_limit < IKE_CONN_MAX_LIMIT;
	     i++)
		ts_from_prefix(&ic->route_limit[ic->n_route_limit++], &p[i]);
}

/* What a peer may narrow our remote selectors to (they become routes):
 * inside a configured remote traffic selector, a 'route' prefix or an
 * 'accept-prefix'. The model keeps the three within IKE_CONN_MAX_LIMIT. */
static void build_route_limit(const struct vpn_connection *conn,
			      struct ike_conn *ic)
{
	for (unsigned int i = 0;
	     i < conn->nts && ic->n_route_limit < IKE_CONN_MAX_LIMIT; i++)
		ts_from_prefix(&ic->route_limit[ic->n_route_limit++],
			       &conn->ts[i].remote);
	add_route_limit(ic, conn->routes, conn->nroutes);
	add_route_limit(ic, conn->accept, conn->naccept);
}

static void build_ts(const struct vpn_connection *conn, struct ike_conn *ic)
{
	build_route_limit(conn, ic);
	if (conn->nts == 0) {
		ts_any(ic->local_ts, &ic->n_local_ts);
		ts_any(ic->remote_ts, &ic->n_remote_ts);
		return;
	}
	for (unsigned int i = 0; i < conn->nts && i < IKE_CONN_MAX_TS; i++) {
		ts_from_prefix(&ic->local_ts[ic->n_local_ts++],
			       &conn->ts[i].local);
		ts_from_prefix(&ic->remote_ts[ic->n_remote_ts++],
			       &conn->ts[i].remote);
	}
}

/* Identities: configured, else the addresses (the engine's default). */
static bool build_ids(const struct vpn_connection *conn, struct ike_conn *ic)
{
	if (conn->local_id[0] &&
	    ike_id_parse(conn->local_id, &ic->local_id_type, ic->local_id,
			 &ic->local_id_len) < 0)
		return false;
	if (conn->remote_id[0] &&
	    ike_id_parse(conn->remote_id, &ic->remote_id_type, ic->remote_id,
			 &ic->remote_id_len) < 0)
		return false;
	return true;
}

/* Build the engine's view of a connection from its configuration (vpnd.c
 * has checked that it can negotiate). */
static bool conn_build(struct vpn_conn_rt *rt, struct ike_conn *ic,
		       const struct vpn_policy *ikep,
		       const struct vpn_policy *espp)
{
	const struct vpn_connection *conn = rt->conn;

	memset(ic, 0, sizeof(*ic));
	strlcpy(ic->name, conn->name, sizeof(ic->name));
	vpn_addr_from_ipaddr(&ic->remote, &conn->remote);
	if (conn->has_local)
		vpn_addr_from_ipaddr(&ic->local, &conn->local);
	else
		ic->local.family = ic->remote.family;
	if (!build_ids(conn, ic))
		return false;
	ic->psklen = strlen(conn->psk);
	memcpy(ic->psk, conn->psk, ic->psklen);
	copy_policy(ic->ike_props, &ic->n_ike_props, ikep);
	copy_policy(ic->esp_props, &ic->n_esp_props, espp);
	ic->ike_lifetime = ikep->lifetime_s;
	ic->child_lifetime = espp->lifetime_s;
	ic->child_lifetime_bytes = (uint64_t)espp->lifetime_kb * 1024;
	ic->dpd_interval = conn->dpd_interval;
	ic->dpd_timeout = vpn_connection_dpd_timeout(conn);
	ic->initiator_only = conn->mode == VPN_MODE_INITIATOR_ONLY;
	ic->responder_only = conn->mode == VPN_MODE_RESPONDER_ONLY;
	build_ts(conn, ic);
	ic->host = rt;
	return true;
}

/* A digest of everything negotiated, to notice configuration changes. */
static void conn_digest(const struct ike_conn *ic, char *out)
{
	struct iovec iov = { (void *)ic, offsetof(struct ike_conn, host) };
	uint8_t h[VPN_SHA1_LEN];

	vpn_sha1(&iov, 1, h);
	memcpy(out, h, VPN_SHA1_LEN);
}

/* ------------------------------------------------------------------ */
/* Configuration changes                                               */
/* ------------------------------------------------------------------ */

static struct vpn_conn_rt *rt_get(struct vpn_connection *conn)
{
	struct vpn_conn_rt *rt = conn->rt;

	if (rt)
		return rt;
	rt = XCALLOC(MTYPE_VPN_CONN_RT, sizeof(*rt));
	rt->conn = conn;
	rt->retry_s = RETRY_MIN_S;
	rt->state = VPN_STATE_IDLE;
	rt->zc = vpn_zebra_conn_new(rt, conn->name);
	vpn_rts_add_tail(&rts, rt);
	conn->rt = rt;
	return rt;
}

static void mk_leave(struct vpn_conn_rt *rt)
{
	if (rt->tun_pending)
		vpn_mk_del(&to_make, rt);
	rt->tun_pending = false;
}

/* Make the next batch of waiting interfaces; each connection may then
 * negotiate. */
static void tun_make_cb(struct thread *t)
{
	struct vpn_conn_rt *rt;

	for (unsigned int n = 0; n < TUN_MAKE_BATCH &&
				 (rt = vpn_mk_pop(&to_make));
	     n++) {
		rt->tun_pending = false;
		rt->tun = vpn_tunnel_new(
			rt->conn->name, rt->conn->ifname,
			vpn_tunnel_expected_mtu(
				rt->ike.remote.family, rt->ike.esp_props,
				rt->ike_ready ? rt->ike.n_esp_props : 0));
		if (rt->ike_ready && conn_active(rt))
			conn_attempt_soon(rt);
	}
	if (vpn_mk_count(&to_make))
		thread_add_timer_msec(conn_master, tun_make_cb, NULL, 0,
				      &t_make);
}

/* The tunnel interface exists as long as the connection names it. */
static void conn_sync_tunnel(struct vpn_conn_rt *rt)
{
	const char *ifname = rt->conn->ifname;

	if (rt->tun && strcmp(vpn_tunnel_ifname(rt->tun), ifname)) {
		vpn_ike_conn_down(&rt->ike, false);
		vpn_tunnel_free(rt->tun);
		rt->tun = NULL;
		rt->nchildren = 0;
	}
	if (!ifname[0])
		mk_leave(rt);
	else if (!rt->tun && !rt->tun_pending) {
		rt->tun_pending = true;
		vpn_mk_add_tail(&to_make, rt);
		if (!t_make)
			thread_add_timer_msec(conn_master, tun_make_cb, NULL,
					      0, &t_make);
	}
}

static void conn_sync_zebra(struct vpn_conn_rt *rt)
{
	const struct vpn_connection *conn = rt->conn;
	struct vpn_zconn_config zcfg = {
		.ifname = conn->ifname,
		.track = conn->has_remote &&
			 conn->state != VPN_STATE_SHUTDOWN,
		.remote = conn->remote,
		.has_local = conn->has_local,
		.local = conn->local,
		.routes = conn->routes,
		.nroutes = conn->nroutes,
	};

	vpn_zebra_conn_config(rt->zc, &zcfg);
}

/* Adopt a new engine view; a changed one starts negotiation over, as the
 * cloud gateways do when a policy changes. */
static void conn_adopt(struct vpn_conn_rt *rt, struct ike_conn *ic)
{
	char digest[32] = {};
	struct ike_addr keep_local = rt->ike.local;

	conn_digest(ic, digest);
	if (rt->ike_ready && !memcmp(digest, rt->cfg_digest, VPN_SHA1_LEN))
		return;
	if (rt->ike_ready) {
		zlog_info("connection %s: configuration changed, renegotiating",
			  rt->conn->name);
		conn_reset(rt);
	}
	rt->ike = *ic;
	if (!rt->conn->has_local && keep_local.family == ic->remote.family)
		rt->ike.local = keep_local;
	memcpy(rt->cfg_digest, digest, sizeof(digest));
	rt->ike_ready = true;
	rt_index(rt);
}

static void conn_stop(struct vpn_conn_rt *rt)
{
	pace_leave(rt);
	conn_reset(rt);
	rt->ike_ready = false;
	rt_unindex(rt);
	thread_cancel(&rt->t_retry);
	conn_set_carrier(rt, false);
}

void vpn_conn_update(struct vpn_connection *conn, const struct vpn_policy *ike,
		     const struct vpn_policy *esp)
{
	struct vpn_conn_rt *rt = rt_get(conn);
	struct ike_conn ic;

	conn_sync_tunnel(rt);
	conn_sync_zebra(rt);
	if (!ike || !esp || !conn_active(rt)) {
		conn_stop(rt);
		return;
	}
	if (!conn_build(rt, &ic, ike, esp)) {
		strlcpy(rt->last_error, "bad local-id or remote-id",
			sizeof(rt->last_error));
		vpn_memzero(&ic, sizeof(ic));
		conn_stop(rt);
		return;
	}
	conn_adopt(rt, &ic);
	vpn_memzero(&ic, sizeof(ic));
	conn_state_refresh(rt);
	/* After the rest of this configuration batch (a config file is read
	 * in one event): connection-mode may come later in it. */
	conn_attempt_soon(rt);
}

void vpn_conn_delete(struct vpn_connection *conn)
{
	struct vpn_conn_rt *rt = conn->rt;

	if (!rt)
		return;
	vpn_ike_conn_forget(&rt->ike);
	thread_cancel(&rt->t_retry);
	pace_leave(rt);
	mk_leave(rt);
	vpn_zebra_conn_free(rt->zc);
	if (rt->tun)
		vpn_tunnel_free(rt->tun);
	rt_unindex(rt);
	vpn_memzero(&rt->ike, sizeof(rt->ike));
	vpn_rts_del(&rts, rt);
	XFREE(MTYPE_VPN_CONN_RT, rt);
	conn->rt = NULL;
}

void vpn_conn_clear(struct vpn_connection *conn)
{
	struct vpn_conn_rt *rt = conn->rt;

	if (!rt)
		return;
	if (rt->ike_ready)
		vpn_ike_conn_down(&rt->ike, false);
	rt->nchildren = 0;
	rt->retry_s = RETRY_MIN_S;
	thread_cancel(&rt->t_retry);
	conn_state_refresh(rt);
	rt->yield_until_ms = 0; /* the operator asks for it now */
	conn_initiate(rt);
}

/* Not per connection, but the connection manager is what drives the IKE
 * host from the configuration. */
void vpn_conn_set_dos(const struct ike_dos_config *cfg)
{
	vpn_ike_set_dos(cfg);
}

/* ------------------------------------------------------------------ */
/* Events from the IKE host                                            */
/* ------------------------------------------------------------------ */

/* Responder: the connection for a datagram's addresses. A lookup only:
 * an unauthenticated datagram changes nothing here (the SA keeps the
 * addresses it was reached on). */
static struct ike_conn *ev_find_conn(const struct ike_addr *local,
				     const struct ike_addr *remote)
{
	uint64_t h = remote_hash(remote);

	for (struct ike_hnode *n = ike_htab_first(&rts_by_remote, h); n;
	     n = ike_htab_next(n, h)) {
		struct vpn_conn_rt *rt =
			ike_hnode_entry(n, struct vpn_conn_rt, h_remote);

		if (!rt->ike_ready || !conn_active(rt) || rt->tun_pending)
			continue;
		if (!ike_addr_same_ip(&rt->ike.remote, remote))
			continue;
		if (rt->conn->has_local &&
		    !ike_addr_same_ip(&rt->ike.local, local))
			continue;
		return &rt->ike;
	}
	return NULL;
}

/* A traffic selector range as prefixes (split when not one prefix). */
static unsigned int ts_prefixes(const struct ike_ts *ts, struct prefix *out,
				unsigned int max)
{
	unsigned int n = 0;

	if (ts->type == IKE_TS_IPV4_ADDR_RANGE) {
		uint64_t a = vpn_get_be32(ts->start), b = vpn_get_be32(ts->end);

		while (a <= b && n < max) {
			unsigned int len = 32;

			/* the largest aligned block from a within [a, b] */
			while (len > 0 &&
			       (a & ((1ULL << (33 - len)) - 1)) == 0 &&
			       a + (1ULL << (33 - len)) - 1 <= b)
				len--;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].family = AF_INET;
			out[n].prefixlen = len;
			out[n].u.prefix4.s_addr = htonl((uint32_t)a);
			n++;
			a += 1ULL << (32 - len);
		}
	} else if (ts->type == IKE_TS_IPV6_ADDR_RANGE && max) {
		/* IPv6: one prefix when the range is one, else its cover */
		unsigned int len = 0;

		while (len < 128) {
			unsigned int byte = len / 8, bit = 7 - len % 8;

			if (((ts->start[byte] >> bit) & 1) !=
			    ((ts->end[byte] >> bit) & 1))
				break;
			len++;
		}
		memset(&out[0], 0, sizeof(out[0]));
		out[0].family = AF_INET6;
		out[0].prefixlen = len;
		memcpy(&out[0].u.prefix6, ts->start, 16);
		apply_mask(&out[0]);
		n = 1;
	}
	return n;
}

static void ev_child_up(struct ike_sa *sa, const struct ike_child_info *info)
{
	struct vpn_conn_rt *rt = rt_of(sa);
	struct prefix ts[VPN_ZR_TS_MAX];
	unsigned int nts = 0;

	for (unsigned int i = 0; i < info->n_remote_ts && nts < VPN_ZR_TS_MAX;
	     i++)
		nts += ts_prefixes(&info->remote_ts[i], &ts[nts],
				   VPN_ZR_TS_MAX - nts);
	vpn_zebra_conn_set_ts(rt->zc, ts, nts);
	if (rt->tun && vpn_tunnel_child_up(rt->tun, info) == 0)
		rt->nchildren++;
	rt->retry_s = RETRY_MIN_S;
	rt->last_error[0] = '\0';
	conn_state_refresh(rt);
}

static void ev_child_down(struct ike_sa *sa, uint32_t spi_in)
{
	struct vpn_conn_rt *rt = rt_of(sa);

	if (rt->tun && vpn_tunnel_child_down(rt->tun, spi_in) == 0 &&
	    rt->nchildren)
		rt->nchildren--;
	conn_state_refresh(rt);
}

static void ev_sa_event(struct ike_sa *sa, const char *reason)
{
	struct vpn_conn_rt *rt = rt_of(sa);
	struct ike_sa_status st;

	ike_sa_get_status(sa, &st);
	if (!reason && !st.initiator && st.state == IKE_SA_ESTABLISHED)
		last_peer_sa_ms = vpn_now_ms();

	if (reason)
		strlcpy(rt->last_error, reason, sizeof(rt->last_error));
	conn_state_refresh(rt);
	/* Ended (not replaced by a rekey): try again, with backoff. */
	if (reason && !rt->nchildren && !rt->ike.responder_only &&
	    rt->conn->state != VPN_STATE_SHUTDOWN) {
		retry_in(rt, rt->retry_s);
		rt->retry_s = MIN(rt->retry_s * 2, RETRY_MAX_S);
	}
}

static const struct vpn_ike_events ike_events = {
	.alloc_spi = vpn_tunnel_alloc_spi,
	.find_conn = ev_find_conn,
	.child_up = ev_child_up,
	.child_down = ev_child_down,
	.sa_event = ev_sa_event,
};

/* ------------------------------------------------------------------ */
/* Events from zebra and the tunnels                                   */
/* ------------------------------------------------------------------ */

static void ev_underlay_changed(void *owner, bool reachable, bool known_before)
{
	struct vpn_conn_rt *rt = owner;

	if (!rt->ike_ready)
		return;
	if (!reachable)
		strlcpy(rt->last_error, UNDERLAY_LOST, sizeof(rt->last_error));
	conn_state_refresh(rt);
	if (!reachable)
		return;
	if (vpn_ike_conn_has_sa(&rt->ike)) {
		/* A new or restored path: check the peer is still there
		 * rather than wait for the next liveness interval. */
		if (known_before)
			vpn_ike_conn_probe(&rt->ike);
		return;
	}
	conn_attempt_soon(rt);
}

static void ev_local_address_up(void *owner)
{
	struct vpn_conn_rt *rt = owner;

	if (!rt->ike_ready || vpn_ike_conn_has_sa(&rt->ike))
		return;
	conn_attempt_soon(rt);
}

static const struct vpn_zebra_events zebra_events = {
	.underlay_changed = ev_underlay_changed,
	.local_address_up = ev_local_address_up,
};

/* ------------------------------------------------------------------ */
/* State readers                                                       */
/* ------------------------------------------------------------------ */

void vpn_conn_get_oper(const struct vpn_connection *conn,
		       struct vpn_conn_oper *o)
{
	const struct vpn_conn_rt *rt = conn->rt;

	memset(o, 0, sizeof(*o));
	o->last_error = rt ? rt->last_error : "";
	o->state = conn->state;
	if (!rt || conn->state == VPN_STATE_SHUTDOWN ||
	    conn->state == VPN_STATE_INCOMPLETE)
		return;
	o->state = rt->state;
	o->carrier = rt->carrier;
}

struct vpn_tunnel *vpn_conn_tunnel(const struct vpn_connection *conn)
{
	return conn->rt ? conn->rt->tun : NULL;
}

struct vpn_zconn *vpn_conn_zebra(const struct vpn_connection *conn)
{
	return conn->rt ? conn->rt->zc : NULL;
}

void vpn_conn_foreach_sa(const struct vpn_connection *conn, ike_sa_iter_cb cb,
			 void *arg)
{
	if (conn->rt)
		vpn_ike_foreach_sa(&conn->rt->ike, cb, arg);
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */
/* ------------------------------------------------------------------ */

void vpn_conn_init(struct thread_master *master)
{
	conn_master = master;
	vpn_rts_init(&rts);
	vpn_pace_init(&waiting);
	vpn_pace_init(&inflight);
	vpn_mk_init(&to_make);
	if (ike_htab_init(&rts_by_remote) < 0)
		zlog_err("vpnd: out of memory for the connection index");
	vpn_udp_init(master);
	vpn_tunnel_init(master, vpn_ike_rekey_child);
	vpn_ike_init(master, &ike_events);
	vpn_zebra_init(master, &zebra_events);
}

void vpn_conn_terminate(void)
{
	struct vpn_conn_rt *rt;

	vpn_tunnel_terminate_begin();
	vpn_zebra_stop();
	while ((rt = vpn_rts_first(&rts)))
		vpn_conn_delete(rt->conn);
	vpn_ike_terminate();
	vpn_tunnel_terminate();
	vpn_udp_terminate();
	thread_cancel(&t_pace);
	thread_cancel(&t_make);
	vpn_mk_fini(&to_make);
	vpn_pace_fini(&waiting);
	vpn_pace_fini(&inflight);
	vpn_rts_fini(&rts);
	ike_htab_fini(&rts_by_remote);
}
