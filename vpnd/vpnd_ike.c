// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the FRR side of IKE.
 *
 * One UDP socket per port and family, shared by all connections: port 500
 * for IKE_SA_INIT, port 4500 for everything after it (IKE behind the
 * non-ESP marker, ESP in UDP, NAT keepalives). Received ESP is handed to
 * the tunnel datapath (vpnd_tunnel.c).
 */
#include <zebra.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/memory.h"
#include "lib/privs.h"
#include "lib/sockopt.h"

#include "vpnd.h"
#include "vpnd_ike.h"
#include "vpnd_tunnel.h"
#include "vpnd_zebra.h"
#include "vpnd_udp.h"
#include "vpnd_util.h"

DEFINE_MTYPE_STATIC(VPND, VPN_CONN_RT, "VPN connection runtime");

static struct thread_master *vpn_master;
static struct ike_engine *vpn_ike;
static struct thread *t_tick;

#define RETRY_MIN_S 2
#define RETRY_MAX_S 30

/* ------------------------------------------------------------------ */
/* Engine host callbacks                                               */
/* ------------------------------------------------------------------ */

/* The IKE receiver of the UDP layer: every IKE datagram, whichever
 * socket it came on. */
void vpn_ike_input(const struct ike_addr *local, const struct ike_addr *remote,
		   uint8_t *buf, size_t len)
{
	if (vpn_ike)
		ike_input(vpn_ike, local, remote, buf, len);
}

static void h_send(void *host, const struct ike_addr *local,
		   const struct ike_addr *remote, const uint8_t *buf,
		   size_t len)
{
	vpn_udp_send(local, remote, buf, len, local->port == IKE_NATT_PORT);
}

static uint64_t h_now(void *host)
{
	return vpn_now_ms();
}

static uint32_t h_alloc_spi(void *host)
{
	return vpn_tunnel_alloc_spi();
}

static struct ike_conn *h_find_conn(void *host, const struct ike_addr *local,
				    const struct ike_addr *remote)
{
	struct vpn_connection *conn;

	frr_each (vpn_conns, &vpn.conns, conn) {
		struct vpn_conn_rt *rt = conn->rt;

		if (!rt || !rt->ike_ready ||
		    conn->state == VPN_STATE_SHUTDOWN)
			continue;
		if (rt->ike.remote.family != remote->family ||
		    memcmp(rt->ike.remote.addr, remote->addr,
			   remote->family == AF_INET ? 4 : 16))
			continue;
		if (conn->has_local &&
		    memcmp(rt->ike.local.addr, local->addr,
			   local->family == AF_INET ? 4 : 16))
			continue;
		rt->ike.local = *local;
		return &rt->ike;
	}
	return NULL;
}

static struct vpn_conn_rt *rt_of(struct ike_sa *sa)
{
	return ike_sa_conn(sa)->host;
}

static void conn_state_refresh(struct vpn_conn_rt *rt);

/* A traffic selector range as prefixes (split when not one prefix). */
static unsigned int ts_prefixes(const struct ike_ts *ts, struct prefix *out,
				unsigned int max)
{
	unsigned int n = 0;

	if (ts->type == IKE_TS_IPV4_ADDR_RANGE) {
		uint64_t a, b;

		a = ((uint32_t)ts->start[0] << 24) | (ts->start[1] << 16) |
		    (ts->start[2] << 8) | ts->start[3];
		b = ((uint32_t)ts->end[0] << 24) | (ts->end[1] << 16) |
		    (ts->end[2] << 8) | ts->end[3];
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

static void h_child_up(void *host, struct ike_sa *sa,
		       const struct ike_child_info *info)
{
	struct vpn_conn_rt *rt = rt_of(sa);
	struct prefix ts[VPN_ZR_TS_MAX];
	unsigned int nts = 0;

	for (unsigned int i = 0; i < info->n_remote_ts && nts < VPN_ZR_TS_MAX;
	     i++)
		nts += ts_prefixes(&info->remote_ts[i], &ts[nts],
				   VPN_ZR_TS_MAX - nts);
	vpn_zebra_set_ts(rt->conn, ts, nts);
	if (rt->tun && vpn_tunnel_child_up(rt->tun, info) == 0)
		rt->nchildren++;
	rt->retry_s = RETRY_MIN_S;
	rt->last_error[0] = '\0';
	conn_state_refresh(rt);
}

static void h_child_down(void *host, struct ike_sa *sa, uint32_t spi_in,
			 uint32_t spi_out)
{
	struct vpn_conn_rt *rt = rt_of(sa);

	if (rt->tun && vpn_tunnel_child_down(rt->tun, spi_in) == 0 &&
	    rt->nchildren)
		rt->nchildren--;
	conn_state_refresh(rt);
}

static void retry_cb(struct thread *t);

static bool conn_has_sa_cb_found;
static void conn_has_sa_cb(struct ike_sa *sa, void *arg)
{
	struct ike_sa_status st;

	ike_sa_get_status(sa, &st);
	if (ike_sa_conn(sa) == arg && st.state != IKE_SA_DEAD)
		conn_has_sa_cb_found = true;
}

static bool conn_has_sa(struct vpn_conn_rt *rt)
{
	conn_has_sa_cb_found = false;
	ike_foreach_sa(vpn_ike, conn_has_sa_cb, &rt->ike);
	return conn_has_sa_cb_found;
}

static void h_sa_event(void *host, struct ike_sa *sa, const char *reason)
{
	struct vpn_conn_rt *rt = rt_of(sa);

	if (reason)
		strlcpy(rt->last_error, reason, sizeof(rt->last_error));
	conn_state_refresh(rt);
	/* Ended (not replaced by a rekey): try again, with backoff. */
	if (reason && !rt->nchildren && !rt->ike.responder_only &&
	    rt->conn->state != VPN_STATE_SHUTDOWN) {
		thread_cancel(&rt->t_retry);
		thread_add_timer(vpn_master, retry_cb, rt, rt->retry_s,
				 &rt->t_retry);
		rt->retry_s = MIN(rt->retry_s * 2, RETRY_MAX_S);
	}
}

static void h_keepalive(void *host, const struct ike_addr *local,
			const struct ike_addr *remote)
{
	static const uint8_t ka = 0xff;

	vpn_udp_send(local, remote, &ka, 1, false);
}

static void h_log(void *host, int level, const char *msg)
{
	switch (level) {
	case LOG_ERR:
		zlog_err("%s", msg);
		break;
	case LOG_WARNING:
		zlog_warn("%s", msg);
		break;
	case LOG_NOTICE:
	case LOG_INFO:
		zlog_info("%s", msg);
		break;
	default:
		zlog_debug("%s", msg);
	}
}

static const struct ike_ops vpn_ike_ops = {
	.send = h_send,
	.now_ms = h_now,
	.alloc_spi = h_alloc_spi,
	.find_conn = h_find_conn,
	.child_up = h_child_up,
	.child_down = h_child_down,
	.sa_event = h_sa_event,
	.keepalive = h_keepalive,
	.log = h_log,
};

void vpn_ike_rekey_child(uint32_t spi_in)
{
	ike_rekey_child_spi(vpn_ike, spi_in);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static void conn_set_carrier(struct vpn_conn_rt *rt, bool up)
{
	rt->carrier = up && rt->tun;
	if (rt->tun)
		vpn_tunnel_set_carrier(rt->tun, rt->carrier);
	vpn_zebra_conn_update(rt->conn);
}

static void conn_state_refresh(struct vpn_conn_rt *rt)
{
	struct vpn_connection *conn = rt->conn;

	if (conn->state == VPN_STATE_SHUTDOWN ||
	    conn->state == VPN_STATE_INCOMPLETE)
		return;
	if (rt->nchildren)
		conn->state = VPN_STATE_ESTABLISHED;
	else if (conn_has_sa(rt))
		conn->state = VPN_STATE_CONNECTING;
	else
		conn->state = VPN_STATE_IDLE;
	/* Without an underlay path the SA cannot carry anything: routing
	 * should know now, not when DPD gives up. */
	conn_set_carrier(rt, rt->nchildren > 0 &&
				     !vpn_zebra_underlay_lost(conn));
}

static void conn_initiate(struct vpn_conn_rt *rt)
{
	if (!rt->ike_ready || rt->ike.responder_only ||
	    rt->conn->state == VPN_STATE_SHUTDOWN || conn_has_sa(rt))
		return;
	if (vpn_zebra_underlay_lost(rt->conn)) {
		/* zebra tells when a path appears (vpn_ike_underlay_changed);
		 * the retry timer is only a fallback. */
		strlcpy(rt->last_error,
			"remote-address unreachable: no underlay route",
			sizeof(rt->last_error));
		thread_add_timer(vpn_master, retry_cb, rt, RETRY_MAX_S,
				 &rt->t_retry);
		return;
	}
	if (!rt->conn->has_local &&
	    vpn_udp_source_for(&rt->ike.remote, &rt->ike.local) < 0) {
		strlcpy(rt->last_error, "no route to remote-address",
			sizeof(rt->last_error));
		thread_add_timer(vpn_master, retry_cb, rt, rt->retry_s,
				 &rt->t_retry);
		return;
	}
	ike_initiate(vpn_ike, &rt->ike);
	conn_state_refresh(rt);
}

static void retry_cb(struct thread *t)
{
	conn_initiate(THREAD_ARG(t));
}

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

/*
 * Build the engine's view of a connection from its configuration. Returns
 * false (with a reason) when it cannot negotiate.
 */
static bool conn_build(struct vpn_connection *conn, struct ike_conn *ic,
		       const char **why)
{
	const struct vpn_policy *ikep, *espp;

	memset(ic, 0, sizeof(*ic));
	strlcpy(ic->name, conn->name, sizeof(ic->name));
	ikep = vpn_policy_resolve(VPN_PROPOSAL_IKE, conn->ike_policy);
	espp = vpn_policy_resolve(VPN_PROPOSAL_ESP, conn->ipsec_policy);
	if (!ikep || ikep->nproposals == 0) {
		*why = "ike-policy has no proposals";
		return false;
	}
	if (!espp || espp->nproposals == 0) {
		*why = "ipsec-policy has no proposals";
		return false;
	}
	vpn_addr_from_ipaddr(&ic->remote, &conn->remote);
	if (conn->has_local)
		vpn_addr_from_ipaddr(&ic->local, &conn->local);
	else
		ic->local.family = ic->remote.family;
	if (conn->local_id[0] &&
	    ike_id_parse(conn->local_id, &ic->local_id_type, ic->local_id,
			 &ic->local_id_len) < 0) {
		*why = "bad local-id";
		return false;
	}
	if (conn->remote_id[0] &&
	    ike_id_parse(conn->remote_id, &ic->remote_id_type, ic->remote_id,
			 &ic->remote_id_len) < 0) {
		*why = "bad remote-id";
		return false;
	}
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
	if (conn->nts == 0) {
		ts_any(ic->local_ts, &ic->n_local_ts);
		ts_any(ic->remote_ts, &ic->n_remote_ts);
	} else {
		for (unsigned int i = 0;
		     i < conn->nts && i < IKE_CONN_MAX_TS; i++) {
			ts_from_prefix(&ic->local_ts[ic->n_local_ts++],
				       &conn->ts[i].local);
			ts_from_prefix(&ic->remote_ts[ic->n_remote_ts++],
				       &conn->ts[i].remote);
		}
	}
	ic->host = conn->rt;
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

/*
 * Two gateways that both may initiate usually start together (a site
 * comes up, both configs load): each initiates, and the tunnel ends up
 * with two IKE SAs (legitimate, but twice the state and rekeys). The side
 * with the higher address waits a little first, and does not initiate if
 * the peer's IKE SA arrived meanwhile (conn_initiate checks).
 */
#define FIRST_ATTEMPT_YIELD_MS 2000

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
	rt->retry_s = RETRY_MIN_S;
	thread_cancel(&rt->t_retry);
	thread_add_timer_msec(vpn_master, retry_cb, rt,
			      first_attempt_delay_ms(rt->conn), &rt->t_retry);
}

void vpn_ike_conn_update(struct vpn_connection *conn)
{
	struct vpn_conn_rt *rt = conn->rt;
	struct ike_conn ic;
	const char *why = NULL;
	char digest[32] = {};

	if (!rt) {
		rt = XCALLOC(MTYPE_VPN_CONN_RT, sizeof(*rt));
		rt->conn = conn;
		rt->retry_s = RETRY_MIN_S;
		conn->rt = rt;
	}

	/* The tunnel interface exists as long as the connection names it. */
	if (rt->tun && strcmp(vpn_tunnel_ifname(rt->tun), conn->ifname)) {
		ike_conn_down(vpn_ike, &rt->ike, false);
		vpn_tunnel_free(rt->tun);
		rt->tun = NULL;
		rt->nchildren = 0;
	}
	if (!rt->tun && conn->ifname[0])
		rt->tun = vpn_tunnel_new(conn->name, conn->ifname);

	if (conn->state == VPN_STATE_INCOMPLETE ||
	    conn->state == VPN_STATE_SHUTDOWN) {
		if (rt->ike_ready)
			ike_conn_down(vpn_ike, &rt->ike, false);
		rt->ike_ready = false;
		rt->nchildren = 0;
		thread_cancel(&rt->t_retry);
		conn_set_carrier(rt, false);
		return;
	}
	if (!conn_build(conn, &ic, &why)) {
		if (rt->ike_ready)
			ike_conn_down(vpn_ike, &rt->ike, false);
		rt->ike_ready = false;
		conn->state = VPN_STATE_INCOMPLETE;
		conn->state_reason = why;
		vpn_memzero(&ic, sizeof(ic));
		conn_set_carrier(rt, false);
		return;
	}
	conn_digest(&ic, digest);
	if (rt->ike_ready && memcmp(digest, rt->cfg_digest, VPN_SHA1_LEN)) {
		/* Negotiated parameters changed: start over, as the cloud
		 * gateways do when a policy changes. */
		zlog_info("connection %s: configuration changed, renegotiating",
			  conn->name);
		ike_conn_down(vpn_ike, &rt->ike, false);
		rt->nchildren = 0;
	}
	if (!rt->ike_ready || memcmp(digest, rt->cfg_digest, VPN_SHA1_LEN)) {
		struct ike_addr keep_local = rt->ike.local;

		rt->ike = ic;
		if (!conn->has_local && keep_local.family == ic.remote.family)
			rt->ike.local = keep_local;
		memcpy(rt->cfg_digest, digest, sizeof(digest));
		rt->ike_ready = true;
	}
	vpn_memzero(&ic, sizeof(ic));
	conn_state_refresh(rt);
	/* After the rest of this configuration batch (a config file is read
	 * in one event): connection-mode may come later in it. */
	conn_attempt_soon(rt);
}

void vpn_ike_conn_delete(struct vpn_connection *conn)
{
	struct vpn_conn_rt *rt = conn->rt;

	if (!rt)
		return;
	if (vpn_ike)
		ike_conn_forget(vpn_ike, &rt->ike);
	thread_cancel(&rt->t_retry);
	vpn_zebra_conn_delete(conn);
	if (rt->tun)
		vpn_tunnel_free(rt->tun);
	vpn_memzero(&rt->ike, sizeof(rt->ike));
	XFREE(MTYPE_VPN_CONN_RT, rt);
	conn->rt = NULL;
}

void vpn_ike_underlay_changed(struct vpn_connection *conn, bool reachable,
			      bool known_before)
{
	struct vpn_conn_rt *rt = conn->rt;

	if (!rt || !rt->ike_ready)
		return;
	if (!reachable)
		strlcpy(rt->last_error, "remote-address unreachable: no underlay route",
			sizeof(rt->last_error));
	conn_state_refresh(rt);
	if (!reachable)
		return;
	if (conn_has_sa(rt)) {
		/* A new or restored path: check the peer is still there
		 * rather than wait for the next liveness interval. */
		if (known_before)
			ike_conn_probe(vpn_ike, &rt->ike);
		return;
	}
	conn_attempt_soon(rt);
}

void vpn_ike_local_address_up(struct vpn_connection *conn)
{
	struct vpn_conn_rt *rt = conn->rt;

	if (!rt || !rt->ike_ready || conn_has_sa(rt))
		return;
	conn_attempt_soon(rt);
}

void vpn_ike_conn_clear(struct vpn_connection *conn)
{
	struct vpn_conn_rt *rt = conn->rt;

	if (!rt)
		return;
	ike_conn_down(vpn_ike, &rt->ike, false);
	rt->nchildren = 0;
	rt->retry_s = RETRY_MIN_S;
	thread_cancel(&rt->t_retry);
	conn_state_refresh(rt);
	conn_initiate(rt);
}

/* ------------------------------------------------------------------ */
/* Timers and start-up                                                 */
/* ------------------------------------------------------------------ */

static void tick_cb(struct thread *t)
{
	ike_tick(vpn_ike);
	thread_add_timer_msec(vpn_master, tick_cb, NULL, 100, &t_tick);
}

void vpn_ike_init(struct thread_master *master)
{
	vpn_master = master;
	vpn_ike = ike_engine_new(&vpn_ike_ops, NULL);
	vpn_udp_init(master);
	vpn_udp_set_ike_receiver(vpn_ike_input);
	thread_add_timer_msec(master, tick_cb, NULL, 100, &t_tick);
}

void vpn_ike_terminate(void)
{
	struct vpn_connection *conn;

	frr_each (vpn_conns, &vpn.conns, conn)
		vpn_ike_conn_delete(conn);
	thread_cancel(&t_tick);
	vpn_udp_terminate();
	if (vpn_ike)
		ike_engine_free(vpn_ike);
	vpn_ike = NULL;
}

/* ------------------------------------------------------------------ */
/* show                                                                */
/* ------------------------------------------------------------------ */

static const char *tname(uint8_t type, uint16_t id, uint16_t keylen)
{
	struct vpn_transform t = { type, id, keylen };

	return vpn_transform_name(&t);
}

struct show_ctx {
	struct vty *vty;
	json_object *jarr;
	struct vpn_connection *only;
	json_object *jconn;
};

/* TEMP (tunnel branch): the old vpn_tunnel_show(), from the tunnel's
 * getters; same JSON keys and text lines. */
static void tunnel_show_json(json_object *j, const struct vpn_tunnel_oper *o,
			     const char *local, const char *remote)
{
	json_object_string_add(j, "interface", o->ifname);
	json_object_boolean_add(j, "carrier", o->carrier);
	json_object_int_add(j, "dropNoSa", o->drop_no_sa);
	json_object_int_add(j, "dropTunWrite", o->drop_tun_write);
	json_object_int_add(j, "dropHandoff", o->drop_handoff);
	json_object_int_add(j, "dropUnknownSpiGlobal", o->drop_unknown_spi);
	json_object_int_add(j, "txWorker", o->tx_worker);
	json_object_int_add(j, "rxWorker", o->rx_worker);
	if (o->has_esp) {
		json_object_string_add(j, "espLocalAddress", local);
		json_object_int_add(j, "espLocalPort", o->esp_local.port);
		json_object_string_add(j, "espRemoteAddress", remote);
		json_object_int_add(j, "espRemotePort", o->esp_remote.port);
		json_object_boolean_add(j, "espOwnSocket", o->esp_own_socket);
	}
}

static void tunnel_show_text(struct vty *vty, const struct vpn_tunnel_oper *o,
			     const char *local, const char *remote)
{
	vty_out(vty, "  Interface %s, carrier %s, datapath workers tx %u rx %u\n",
		o->ifname, o->carrier ? "up" : "down", o->tx_worker,
		o->rx_worker);
	vty_out(vty,
		"  drops: no SA %" PRIu64 ", TUN write %" PRIu64
		", hand-off %" PRIu64 ", unknown SPI (all tunnels) %" PRIu64
		"\n",
		o->drop_no_sa, o->drop_tun_write, o->drop_handoff,
		o->drop_unknown_spi);
	if (o->has_esp)
		vty_out(vty, "  ESP %s:%u <-> %s:%u%s\n", local,
			o->esp_local.port, remote, o->esp_remote.port,
			o->esp_own_socket ? "" : " (through the shared socket)");
}

static json_object *child_show_json(const struct vpn_child_oper *c)
{
	json_object *jc = json_object_new_object();

	json_object_string_addf(jc, "spiIn", "%08x", c->spi_in);
	json_object_string_addf(jc, "spiOut", "%08x", c->spi_out);
	json_object_boolean_add(jc, "active", c->active);
	json_object_string_add(jc, "encryption",
			       tname(VPN_TT_ENCR, c->encr, c->encr_keybits));
	if (c->integ)
		json_object_string_add(jc, "integrity",
				       tname(VPN_TT_INTEG, c->integ, 0));
	json_object_boolean_add(jc, "esn", c->esn);
	json_object_int_add(jc, "ageSeconds", (int64_t)c->age_s);
	json_object_int_add(jc, "lifetimeSecondsLeft",
			    (int64_t)c->lifetime_s_left);
	if (c->lifetime_bytes)
		json_object_int_add(jc, "lifetimeBytesLeft",
				    (int64_t)c->lifetime_bytes_left);
	json_object_int_add(jc, "packetsIn", c->packets_in);
	json_object_int_add(jc, "bytesIn", c->bytes_in);
	json_object_int_add(jc, "packetsOut", c->packets_out);
	json_object_int_add(jc, "bytesOut", c->bytes_out);
	json_object_int_add(jc, "dropReplay", c->drop_replay);
	json_object_int_add(jc, "dropIntegrity", c->drop_integrity);
	json_object_int_add(jc, "dropMalformed", c->drop_malformed);
	json_object_int_add(jc, "dropPolicy", c->drop_policy);
	json_object_int_add(jc, "dropOther", c->drop_other);
	return jc;
}

static void child_show_text(struct vty *vty, const struct vpn_child_oper *c)
{
	vty_out(vty,
		"  Child SA %08x_i %08x_o%s: %s%s%s%s, age %" PRIu64
		"s, rekey in about %" PRIu64 "s\n",
		c->spi_in, c->spi_out, c->active ? " (active)" : "",
		tname(VPN_TT_ENCR, c->encr, c->encr_keybits),
		c->integ ? "-" : "",
		c->integ ? tname(VPN_TT_INTEG, c->integ, 0) : "",
		c->esn ? "-esn" : "", c->age_s, c->lifetime_s_left);
	vty_out(vty,
		"    in %" PRIu64 " packets %" PRIu64 " bytes, out %" PRIu64
		" packets %" PRIu64 " bytes\n",
		c->packets_in, c->bytes_in, c->packets_out, c->bytes_out);
	vty_out(vty,
		"    drops: replay %" PRIu64 ", integrity %" PRIu64
		", malformed %" PRIu64 ", policy %" PRIu64 ", other %" PRIu64
		"\n",
		c->drop_replay, c->drop_integrity, c->drop_malformed,
		c->drop_policy, c->drop_other);
}

/* Counters and the Child SAs of IKE SA sa (json: added to j). */
static void tunnel_show(struct vty *vty, json_object *j,
			const struct vpn_tunnel *t, const struct ike_sa *sa)
{
	struct vpn_child_oper ch[VPN_TUNNEL_MAX_SA];
	struct vpn_tunnel_oper o;
	char local[INET6_ADDRSTRLEN] = "", remote[INET6_ADDRSTRLEN] = "";
	json_object *jarr = NULL;
	unsigned int n;

	vpn_tunnel_get_oper(t, &o);
	if (o.has_esp) {
		inet_ntop(o.esp_local.family, o.esp_local.addr, local,
			  sizeof(local));
		inet_ntop(o.esp_remote.family, o.esp_remote.addr, remote,
			  sizeof(remote));
	}
	if (j) {
		tunnel_show_json(j, &o, local, remote);
		jarr = json_object_new_array();
		json_object_object_add(j, "childSas", jarr);
	} else {
		tunnel_show_text(vty, &o, local, remote);
	}
	n = vpn_tunnel_get_children(t, ch, VPN_TUNNEL_MAX_SA);
	for (unsigned int i = 0; i < n; i++) {
		if (!ike_sa_has_child(sa, ch[i].spi_in))
			continue;
		if (jarr)
			json_object_array_add(jarr, child_show_json(&ch[i]));
		else
			child_show_text(vty, &ch[i]);
	}
}

static void show_sa_cb(struct ike_sa *sa, void *arg)
{
	struct show_ctx *c = arg;
	struct vpn_conn_rt *rt = rt_of(sa);
	struct ike_sa_status st;
	char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];
	uint64_t now_ms = h_now(NULL);
	long rekey_s;

	if (c->only && rt->conn != c->only)
		return;
	ike_sa_get_status(sa, &st);
	inet_ntop(st.local.family, st.local.addr, local, sizeof(local));
	inet_ntop(st.remote.family, st.remote.addr, remote, sizeof(remote));
	rekey_s = st.rekey_at_ms > now_ms
			  ? (long)((st.rekey_at_ms - now_ms) / 1000)
			  : 0;

	if (c->jarr || c->jconn) {
		json_object *j = json_object_new_object();

		json_object_string_add(j, "connection", rt->conn->name);
		json_object_string_add(j, "state", ike_sa_state_str(st.state));
		json_object_boolean_add(j, "initiator", st.initiator);
		json_object_string_addf(j, "spiInitiator", "%016" PRIx64,
					st.spi_i);
		json_object_string_addf(j, "spiResponder", "%016" PRIx64,
					st.spi_r);
		json_object_string_add(j, "localAddress", local);
		json_object_int_add(j, "localPort", st.local.port);
		json_object_string_add(j, "remoteAddress", remote);
		json_object_int_add(j, "remotePort", st.remote.port);
		if (st.state == IKE_SA_ESTABLISHED) {
			json_object_string_add(j, "encryption",
					       tname(VPN_TT_ENCR, st.encr,
						     st.encr_keybits));
			if (st.integ)
				json_object_string_add(
					j, "integrity",
					tname(VPN_TT_INTEG, st.integ, 0));
			json_object_string_add(j, "prf",
					       tname(VPN_TT_PRF, st.prf, 0));
			json_object_string_add(j, "dhGroup",
					       tname(VPN_TT_DH, st.dh, 0));
			json_object_int_add(j, "rekeySeconds", rekey_s);
		}
		if (rt->tun)
			tunnel_show(c->vty, j, rt->tun, sa);
		if (c->jconn)
			json_object_object_add(c->jconn, "ikeSa", j);
		else
			json_object_array_add(c->jarr, j);
		return;
	}
	vty_out(c->vty, "Connection %s: IKE SA %s, %s\n", rt->conn->name,
		ike_sa_state_str(st.state),
		st.initiator ? "initiator" : "responder");
	vty_out(c->vty, "  %s:%u <-> %s:%u, SPIs %016" PRIx64 "_i %016" PRIx64
			"_r\n",
		local, st.local.port, remote, st.remote.port, st.spi_i,
		st.spi_r);
	if (st.state == IKE_SA_ESTABLISHED)
		vty_out(c->vty, "  %s%s%s/%s/%s, rekey in %lds\n",
			tname(VPN_TT_ENCR, st.encr, st.encr_keybits),
			st.integ ? "-" : "",
			st.integ ? tname(VPN_TT_INTEG, st.integ, 0) : "",
			tname(VPN_TT_PRF, st.prf, 0),
			tname(VPN_TT_DH, st.dh, 0), rekey_s);
	if (rt->tun)
		tunnel_show(c->vty, NULL, rt->tun, sa);
}

void vpn_ike_show_sa(struct vty *vty, json_object *json)
{
	struct show_ctx c = { .vty = vty };

	if (json) {
		c.jarr = json_object_new_array();
		json_object_object_add(json, "ikeSas", c.jarr);
	}
	ike_foreach_sa(vpn_ike, show_sa_cb, &c);
}

void vpn_ike_show_conn(struct vty *vty, json_object *j,
		       struct vpn_connection *conn)
{
	struct show_ctx c = { .vty = vty, .only = conn, .jconn = j };
	struct vpn_conn_rt *rt = conn->rt;

	if (!rt)
		return;
	if (j) {
		json_object_string_add(j, "lastError", rt->last_error);
		json_object_boolean_add(j, "carrier", rt->nchildren > 0);
		ike_foreach_sa(vpn_ike, show_sa_cb, &c);
		return;
	}
	if (rt->last_error[0])
		vty_out(vty, "  Last error: %s\n", rt->last_error);
	ike_foreach_sa(vpn_ike, show_sa_cb, &c);
}
