// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: text and JSON output of connections and SAs (see vpnd_show.h).
 */
#include <zebra.h>

#include "lib/ipaddr.h"

#include "vpnd_show.h"
#include "vpnd_util.h"

/* ------------------------------------------------------------------ */
/* Child SAs and the tunnel                                            */
/* ------------------------------------------------------------------ */

static void counters_json(json_object *j, const void *obj,
			  const struct vpn_counter_desc *d, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		json_object_int_add(j, d[i].json, vpn_counter_get(obj, &d[i]));
}

static json_object *child_json(const struct vpn_child_oper *c)
{
	json_object *j = json_object_new_object();

	json_object_string_addf(j, "spiIn", "%08x", c->spi_in);
	json_object_string_addf(j, "spiOut", "%08x", c->spi_out);
	json_object_boolean_add(j, "active", c->active);
	json_object_string_add(j, "encryption",
			       vpn_state_tname(VPN_TT_ENCR, c->encr,
					       c->encr_keybits));
	if (c->integ)
		json_object_string_add(j, "integrity",
				       vpn_state_tname(VPN_TT_INTEG, c->integ,
						       0));
	json_object_boolean_add(j, "esn", c->esn);
	json_object_int_add(j, "ageSeconds", c->age_s);
	json_object_int_add(j, "lifetimeSecondsLeft", c->lifetime_s_left);
	if (c->lifetime_bytes)
		json_object_int_add(j, "lifetimeBytesLeft",
				    c->lifetime_bytes_left);
	counters_json(j, c, vpn_child_counters, vpn_child_ncounters);
	return j;
}

static void child_text(struct vty *vty, const struct vpn_child_oper *c)
{
	vty_out(vty,
		"  Child SA %08x_i %08x_o%s: %s%s%s%s, age %" PRIu64
		"s, rekey in about %" PRIu64 "s\n",
		c->spi_in, c->spi_out, c->active ? " (active)" : "",
		vpn_state_tname(VPN_TT_ENCR, c->encr, c->encr_keybits),
		c->integ ? "-" : "",
		c->integ ? vpn_state_tname(VPN_TT_INTEG, c->integ, 0) : "",
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

static void tunnel_json(json_object *j, const struct vpn_ike_sa_oper *sa)
{
	const struct vpn_tunnel_oper *t = &sa->tun;
	json_object *jarr = json_object_new_array();
	char buf[INET6_ADDRSTRLEN];

	json_object_string_add(j, "interface", t->ifname);
	json_object_boolean_add(j, "carrier", t->carrier);
	counters_json(j, t, vpn_tunnel_counters, vpn_tunnel_ncounters);
	json_object_int_add(j, "txWorker", t->tx_worker);
	json_object_int_add(j, "rxWorker", t->rx_worker);
	json_object_string_add(j, "tunOffloads", vpn_tunnel_offloads_str(t));
	if (t->has_esp) {
		json_object_string_add(j, "espLocalAddress",
				       vpn_addr_str(&t->esp_local, buf,
						    sizeof(buf)));
		json_object_int_add(j, "espLocalPort", t->esp_local.port);
		json_object_string_add(j, "espRemoteAddress",
				       vpn_addr_str(&t->esp_remote, buf,
						    sizeof(buf)));
		json_object_int_add(j, "espRemotePort", t->esp_remote.port);
		json_object_boolean_add(j, "espOwnSocket", t->esp_own_socket);
	}
	for (unsigned int i = 0; i < sa->nchildren; i++)
		json_object_array_add(jarr, child_json(&sa->children[i]));
	json_object_object_add(j, "childSas", jarr);
}

static void tunnel_text(struct vty *vty, const struct vpn_ike_sa_oper *sa)
{
	const struct vpn_tunnel_oper *t = &sa->tun;
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

	vty_out(vty, "  Interface %s, carrier %s, datapath workers tx %u rx %u\n",
		t->ifname, t->carrier ? "up" : "down", t->tx_worker,
		t->rx_worker);
	vty_out(vty,
		"  TUN offloads: %s; reads cut %" PRIu64
		", writes merged %" PRIu64 "\n",
		vpn_tunnel_offloads_str(t), t->tso_reads, t->gro_writes);
	vty_out(vty,
		"  drops: no SA %" PRIu64 ", TUN read %" PRIu64
		", TUN write %" PRIu64 ", hand-off %" PRIu64
		", unknown SPI (all tunnels) %" PRIu64 "\n",
		t->drop_no_sa, t->drop_tun_read, t->drop_tun_write,
		t->drop_handoff, t->drop_unknown_spi);
	if (t->has_esp)
		vty_out(vty, "  ESP %s:%u <-> %s:%u%s\n",
			vpn_addr_str(&t->esp_local, l, sizeof(l)),
			t->esp_local.port,
			vpn_addr_str(&t->esp_remote, r, sizeof(r)),
			t->esp_remote.port,
			t->esp_own_socket ? "" : " (through the shared socket)");
	for (unsigned int i = 0; i < sa->nchildren; i++)
		child_text(vty, &sa->children[i]);
}

/* ------------------------------------------------------------------ */
/* IKE SAs                                                             */
/* ------------------------------------------------------------------ */

json_object *vpn_show_sa_json(const struct vpn_ike_sa_oper *sa)
{
	const struct ike_sa_status *st = &sa->st;
	json_object *j = json_object_new_object();
	char buf[INET6_ADDRSTRLEN];

	json_object_string_add(j, "connection", sa->conn_name);
	json_object_string_add(j, "state", ike_sa_state_str(st->state));
	json_object_boolean_add(j, "initiator", st->initiator);
	json_object_string_addf(j, "spiInitiator", "%016" PRIx64, st->spi_i);
	json_object_string_addf(j, "spiResponder", "%016" PRIx64, st->spi_r);
	json_object_string_add(j, "localAddress",
			       vpn_addr_str(&st->local, buf, sizeof(buf)));
	json_object_int_add(j, "localPort", st->local.port);
	json_object_string_add(j, "remoteAddress",
			       vpn_addr_str(&st->remote, buf, sizeof(buf)));
	json_object_int_add(j, "remotePort", st->remote.port);
	if (st->state == IKE_SA_ESTABLISHED) {
		json_object_string_add(j, "encryption",
				       vpn_state_tname(VPN_TT_ENCR, st->encr,
						       st->encr_keybits));
		if (st->integ)
			json_object_string_add(
				j, "integrity",
				vpn_state_tname(VPN_TT_INTEG, st->integ, 0));
		json_object_string_add(j, "prf",
				       vpn_state_tname(VPN_TT_PRF, st->prf, 0));
		json_object_string_add(j, "dhGroup",
				       vpn_state_tname(VPN_TT_DH, st->dh, 0));
		json_object_int_add(j, "rekeySeconds", sa->rekey_s);
	}
	if (sa->has_tunnel)
		tunnel_json(j, sa);
	return j;
}

void vpn_show_sa_text(struct vty *vty, const struct vpn_ike_sa_oper *sa)
{
	const struct ike_sa_status *st = &sa->st;
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

	vty_out(vty, "Connection %s: IKE SA %s, %s\n", sa->conn_name,
		ike_sa_state_str(st->state),
		st->initiator ? "initiator" : "responder");
	vty_out(vty, "  %s:%u <-> %s:%u, SPIs %016" PRIx64 "_i %016" PRIx64
		     "_r\n",
		vpn_addr_str(&st->local, l, sizeof(l)), st->local.port,
		vpn_addr_str(&st->remote, r, sizeof(r)), st->remote.port,
		st->spi_i, st->spi_r);
	if (st->state == IKE_SA_ESTABLISHED)
		vty_out(vty, "  %s%s%s/%s/%s, rekey in %" PRId64 "s\n",
			vpn_state_tname(VPN_TT_ENCR, st->encr,
					st->encr_keybits),
			st->integ ? "-" : "",
			st->integ ? vpn_state_tname(VPN_TT_INTEG, st->integ, 0)
				  : "",
			vpn_state_tname(VPN_TT_PRF, st->prf, 0),
			vpn_state_tname(VPN_TT_DH, st->dh, 0), sa->rekey_s);
	if (sa->has_tunnel)
		tunnel_text(vty, sa);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static const char *ipaddr_str(const struct ipaddr *a, bool set, char *buf,
			      size_t len)
{
	if (!set)
		return "";
	return ipaddr2str(a, buf, len);
}

static const char *route_src_str(enum vpn_route_source src, bool text)
{
	if (src == VPN_ROUTE_SRC_ROUTE)
		return "route";
	return text ? "traffic selector" : "traffic-selector";
}

/* The configuration part of a connection's JSON. */
static void conn_config_json(json_object *j, const struct vpn_connection *c)
{
	json_object *jts = json_object_new_array();
	char buf[INET6_ADDRSTRLEN];

	json_object_string_add(j, "name", c->name);
	json_object_boolean_add(j, "shutdown", c->shutdown);
	json_object_string_add(j, "localAddress",
			       ipaddr_str(&c->local, c->has_local, buf,
					  sizeof(buf)));
	json_object_string_add(j, "remoteAddress",
			       ipaddr_str(&c->remote, c->has_remote, buf,
					  sizeof(buf)));
	json_object_string_add(j, "localId", c->local_id);
	json_object_string_add(j, "remoteId", c->remote_id);
	json_object_boolean_add(j, "preSharedKeySet", c->psk[0] != '\0');
	json_object_string_add(j, "interface", c->ifname);
	json_object_string_add(j, "ikePolicy", c->ike_policy);
	json_object_string_add(j, "ipsecPolicy", c->ipsec_policy);
	json_object_string_add(j, "connectionMode",
			       vpn_conn_mode_str(c->mode));
	json_object_int_add(j, "dpdInterval", c->dpd_interval);
	for (unsigned int i = 0; i < c->nts; i++) {
		json_object *t = json_object_new_object();

		json_object_string_addf(t, "local", "%pFX", &c->ts[i].local);
		json_object_string_addf(t, "remote", "%pFX", &c->ts[i].remote);
		json_object_array_add(jts, t);
	}
	json_object_object_add(j, "trafficSelectors", jts);
	jts = json_object_new_array();
	for (unsigned int i = 0; i < c->naccept; i++)
		json_object_array_add(jts, json_object_new_stringf(
						   "%pFX", &c->accept[i]));
	json_object_object_add(j, "acceptPrefixes", jts);
}

static void underlay_json(json_object *j, const struct vpn_underlay_oper *u)
{
	json_object *ju = json_object_new_object();
	json_object *jnh = json_object_new_array();

	json_object_string_add(ju, "state", vpn_underlay_state_str(u->state));
	for (unsigned int i = 0; i < u->nnh; i++)
		json_object_array_add(jnh, json_object_new_string(u->nh[i]));
	json_object_object_add(ju, "nexthops", jnh);
	json_object_boolean_add(ju, "pinned", u->pinned);
	json_object_object_add(j, "underlay", ju);
}

static void routes_json(json_object *j, const struct vpn_conn_info *s)
{
	json_object *jr = json_object_new_array();

	for (unsigned int i = 0; i < s->nroutes; i++) {
		json_object *r = json_object_new_object();

		json_object_string_addf(r, "prefix", "%pFX", &s->routes[i].p);
		json_object_string_add(r, "source",
				       route_src_str(s->routes[i].src, false));
		json_object_boolean_add(r, "installed", s->routes[i].installed);
		json_object_array_add(jr, r);
	}
	json_object_object_add(j, "routes", jr);
}

json_object *vpn_show_conn_json(const struct vpn_conn_info *s)
{
	json_object *j = json_object_new_object();

	conn_config_json(j, s->conn);
	json_object_string_add(j, "state", vpn_conn_state_str(s->oper.state));
	if (s->conn->state_reason)
		json_object_string_add(j, "stateReason",
				       s->conn->state_reason);
	json_object_int_add(j, "dpdTimeout", s->dpd_timeout);
	json_object_string_add(j, "lastError", s->oper.last_error);
	json_object_boolean_add(j, "carrier", s->oper.carrier);
	if (vpn_state_conn_sa(s))
		json_object_object_add(j, "ikeSa",
				       vpn_show_sa_json(vpn_state_conn_sa(s)));
	underlay_json(j, &s->underlay);
	routes_json(j, s);
	return j;
}

static void conn_config_text(struct vty *vty, const struct vpn_connection *c)
{
	char lbuf[INET6_ADDRSTRLEN], rbuf[INET6_ADDRSTRLEN];

	vty_out(vty, "  Local %s, remote %s, interface %s\n",
		c->has_local ? ipaddr2str(&c->local, lbuf, sizeof(lbuf)) : "-",
		c->has_remote ? ipaddr2str(&c->remote, rbuf, sizeof(rbuf))
			      : "-",
		c->ifname[0] ? c->ifname : "-");
	vty_out(vty, "  Local id %s, remote id %s, pre-shared key %s\n",
		c->local_id[0] ? c->local_id : "(local-address)",
		c->remote_id[0] ? c->remote_id : "(remote-address)",
		c->psk[0] ? "set" : "not set");
	vty_out(vty, "  IKE policy %s, IPsec policy %s, mode %s\n",
		c->ike_policy, c->ipsec_policy, vpn_conn_mode_str(c->mode));
	vty_out(vty, "  DPD interval %us, timeout %us\n", c->dpd_interval,
		vpn_connection_dpd_timeout(c));
	if (c->nts == 0)
		vty_out(vty, "  Traffic selectors: any to any\n");
	for (unsigned int i = 0; i < c->nts; i++)
		vty_out(vty, "  Traffic selector: %pFX === %pFX\n",
			&c->ts[i].local, &c->ts[i].remote);
	for (unsigned int i = 0; i < c->naccept; i++)
		vty_out(vty, "%s%pFX%s", i ? ", " : "  Accept prefixes: ",
			&c->accept[i], i + 1 == c->naccept ? "\n" : "");
}

static void underlay_text(struct vty *vty, const struct vpn_conn_info *s)
{
	const struct vpn_underlay_oper *u = &s->underlay;

	vty_out(vty, "  Underlay: remote-address %s",
		vpn_underlay_state_str(u->state));
	for (unsigned int i = 0; i < u->nnh; i++)
		vty_out(vty, "%s%s", i ? ", " : " via ", u->nh[i]);
	vty_out(vty, "%s\n", u->pinned ? " (pinned)" : "");
	for (unsigned int i = 0; i < s->nroutes; i++)
		vty_out(vty, "  Route %pFX (%s): %s\n", &s->routes[i].p,
			route_src_str(s->routes[i].src, true),
			s->routes[i].installed ? "installed" : "not installed");
}

void vpn_show_conn_text(struct vty *vty, const struct vpn_conn_info *s)
{
	vty_out(vty, "Connection %s: %s", s->conn->name,
		vpn_conn_state_str(s->oper.state));
	if (s->conn->state_reason)
		vty_out(vty, " (%s)", s->conn->state_reason);
	vty_out(vty, "\n");
	conn_config_text(vty, s->conn);
	underlay_text(vty, s);
	if (s->oper.last_error[0])
		vty_out(vty, "  Last error: %s\n", s->oper.last_error);
	for (unsigned int i = 0; i < s->nsas; i++)
		vpn_show_sa_text(vty, &s->sas[i]);
}

/* ------------------------------------------------------------------ */
/* The IKE engine                                                      */
/* ------------------------------------------------------------------ */

json_object *vpn_show_ike_json(const struct ike_stats *st,
			       const struct ike_dos_config *dos)
{
	json_object *j = json_object_new_object();
	json_object *jd = json_object_new_object();

	counters_json(j, st, vpn_ike_counters, vpn_ike_ncounters);
	for (unsigned int i = 0; i < vpn_dos_nfields; i++)
		json_object_int_add(jd, vpn_dos_fields[i].json,
				    vpn_dos_field_get(dos, &vpn_dos_fields[i]));
	json_object_object_add(j, "dosProtection", jd);
	return j;
}

void vpn_show_ike_text(struct vty *vty, const struct ike_stats *st,
		       const struct ike_dos_config *dos)
{
	vty_out(vty, "IKE statistics since vpnd started:\n");
	for (unsigned int i = 0; i < vpn_ike_ncounters; i++)
		vty_out(vty, "  %-42s %" PRIu64 "\n", vpn_ike_counters[i].text,
			vpn_counter_get(st, &vpn_ike_counters[i]));
	/* as the configuration names them ('ike ...' under 'vpn') */
	vty_out(vty, "DoS protection in force:\n");
	for (unsigned int i = 0; i < vpn_dos_nfields; i++)
		vty_out(vty, "  %-42s %u\n", vpn_dos_fields[i].yang,
			vpn_dos_field_get(dos, &vpn_dos_fields[i]));
}

/* ------------------------------------------------------------------ */
/* Connections in brief                                                */
/* ------------------------------------------------------------------ */

/* As FRR's show commands print an uptime: 01:02:03, 1d02h03m, 02w3d04h. */
static const char *uptime_str(const struct vpn_conn_brief *b, char *buf,
			      size_t len)
{
	uint64_t s = b->uptime_s;

	if (!b->has_sa)
		return "-";
	if (s < 86400)
		snprintf(buf, len, "%02u:%02u:%02u", (unsigned int)(s / 3600),
			 (unsigned int)(s / 60 % 60), (unsigned int)(s % 60));
	else if (s < 7 * 86400)
		snprintf(buf, len, "%ud%02uh%02um", (unsigned int)(s / 86400),
			 (unsigned int)(s / 3600 % 24),
			 (unsigned int)(s / 60 % 60));
	else
		snprintf(buf, len, "%02uw%ud%02uh",
			 (unsigned int)(s / (7 * 86400)),
			 (unsigned int)(s / 86400 % 7),
			 (unsigned int)(s / 3600 % 24));
	return buf;
}

static const char *peer_str(const struct vpn_connection *c, char *buf,
			    size_t len)
{
	return c->has_remote ? ipaddr2str(&c->remote, buf, len) : "-";
}

static unsigned int summary_established(const struct vpn_conn_brief *b,
					unsigned int n)
{
	unsigned int est = 0;

	for (unsigned int i = 0; i < n; i++)
		est += b[i].state == VPN_STATE_ESTABLISHED;
	return est;
}

json_object *vpn_show_summary_json(const struct vpn_conn_brief *b,
				   unsigned int n)
{
	json_object *j = json_object_new_object();
	json_object *jarr = json_object_new_array_ext(n);
	char buf[INET6_ADDRSTRLEN];

	for (unsigned int i = 0; i < n; i++) {
		const struct vpn_connection *c = b[i].conn;
		json_object *jc = json_object_new_object();

		json_object_string_add(jc, "name", c->name);
		json_object_string_add(jc, "state",
				       vpn_conn_state_str(b[i].state));
		json_object_string_add(jc, "remoteAddress",
				       ipaddr_str(&c->remote, c->has_remote,
						  buf, sizeof(buf)));
		json_object_string_add(jc, "interface", c->ifname);
		json_object_int_add(jc, "uptimeSeconds", b[i].uptime_s);
		json_object_int_add(jc, "bytesIn", b[i].bytes_in);
		json_object_int_add(jc, "bytesOut", b[i].bytes_out);
		json_object_array_add(jarr, jc);
	}
	json_object_object_add(j, "connections", jarr);
	json_object_int_add(j, "total", n);
	json_object_int_add(j, "established", summary_established(b, n));
	return j;
}

/* Columns as wide as their widest value. */
struct summary_widths {
	int name, peer, ifname;
};

static void summary_widths(const struct vpn_conn_brief *b, unsigned int n,
			   struct summary_widths *w)
{
	char buf[INET6_ADDRSTRLEN];

	w->name = strlen("Connection");
	w->peer = strlen("Peer");
	w->ifname = strlen("Interface");
	for (unsigned int i = 0; i < n; i++) {
		const struct vpn_connection *c = b[i].conn;

		w->name = MAX(w->name, (int)strlen(c->name));
		w->peer = MAX(w->peer,
			      (int)strlen(peer_str(c, buf, sizeof(buf))));
		w->ifname = MAX(w->ifname, (int)strlen(c->ifname));
	}
}

void vpn_show_summary_text(struct vty *vty, const struct vpn_conn_brief *b,
			   unsigned int n)
{
	struct summary_widths w;
	char pbuf[INET6_ADDRSTRLEN], ubuf[32];

	summary_widths(b, n, &w);
	vty_out(vty, "%-*s %-11s %-*s %-*s %-9s %14s %14s\n", w.name,
		"Connection", "State", w.peer, "Peer", w.ifname, "Interface",
		"Uptime", "Bytes in", "Bytes out");
	for (unsigned int i = 0; i < n; i++) {
		const struct vpn_connection *c = b[i].conn;

		vty_out(vty, "%-*s %-11s %-*s %-*s %-9s %14" PRIu64 " %14" PRIu64
			     "\n",
			w.name, c->name, vpn_conn_state_str(b[i].state), w.peer,
			peer_str(c, pbuf, sizeof(pbuf)), w.ifname,
			c->ifname[0] ? c->ifname : "-",
			uptime_str(&b[i], ubuf, sizeof(ubuf)), b[i].bytes_in,
			b[i].bytes_out);
	}
	vty_out(vty, "\n%u connection%s, %u established\n", n,
		n == 1 ? "" : "s", summary_established(b, n));
}

/* ------------------------------------------------------------------ */
/* Streamed JSON                                                       */
/* ------------------------------------------------------------------ */

#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A string as a JSON string literal, quotes and escapes included. */
static void json_str_out(struct vty *vty, const char *s)
{
	json_object *j = json_object_new_string(s);

	vty_out(vty, "%s", json_object_to_json_string_ext(j, JSON_FLAGS));
	json_object_free(j);
}

void vpn_json_stream_begin(struct vpn_json_stream *js, struct vty *vty,
			   const char *key, bool array)
{
	js->vty = vty;
	js->array = array;
	js->first = true;
	vty_out(vty, "{\n  ");
	json_str_out(vty, key);
	vty_out(vty, ":%s", array ? "[" : "{");
}

/* s, each of its lines after the first indented by 4 spaces (an object
 * printed at the depth of a member of the answer's list), in one vty_out. */
static void indented_out(struct vty *vty, const char *s)
{
	size_t len = strlen(s), nl = 0;
	char *buf, *p;

	for (const char *q = s; (q = strchr(q, '\n')); q++)
		nl++;
	p = buf = XMALLOC(MTYPE_TMP, len + 4 * nl + 1);
	for (; *s; s++) {
		*p++ = *s;
		if (*s == '\n') {
			memset(p, ' ', 4);
			p += 4;
		}
	}
	*p = '\0';
	vty_out(vty, "%s", buf);
	XFREE(MTYPE_TMP, buf);
}

void vpn_json_stream_add(struct vpn_json_stream *js, const char *name,
			 json_object *j)
{
	vty_out(js->vty, "%s\n    ", js->first ? "" : ",");
	js->first = false;
	if (!js->array) {
		json_str_out(js->vty, name);
		vty_out(js->vty, ":");
	}
	indented_out(js->vty, json_object_to_json_string_ext(j, JSON_FLAGS));
	json_object_free(j);
}

void vpn_json_stream_end(struct vpn_json_stream *js)
{
	vty_out(js->vty, "%s%s\n}\n", js->first ? "" : "\n  ",
		js->array ? "]" : "}");
}
