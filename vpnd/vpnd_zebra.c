// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: zebra client.
 *
 * zebra's route types are compiled into Debian's zebra, so vpnd registers
 * under the existing NHRP type (the other tunnel-overlay protocol, never
 * run beside vpnd here): its routes show as "N" in 'show ip route' and
 * bgpd can 'redistribute nhrp'.
 *
 * What vpnd does with zebra:
 *  - interfaces and addresses: the interface database (libfrr's, fed by
 *    zebra) gives tunnel ifindexes and tells when a tunnel interface is
 *    operative, and when a connection's local-address appears;
 *  - nexthop tracking of every remote-address: the underlay path. When it
 *    disappears, the tunnel's carrier goes down at once (routing fails
 *    over without waiting for DPD); when it comes back or changes, the
 *    IKE SA is probed (or initiated);
 *  - the underlay pin: a host route to the remote-address through the
 *    underlay nexthop it resolves through, so that a default route learned
 *    over the tunnel (forced tunnelling) never captures the tunnel's own
 *    IKE and ESP packets;
 *  - routes: each connection's 'route' prefixes and the remote traffic
 *    selectors it negotiated (when narrower than any), via its tunnel
 *    interface while a Child SA is up.
 */
#include <zebra.h>

#include "lib/zclient.h"
#include "lib/if.h"
#include "lib/log.h"
#include "lib/privs.h"
#include "lib/memory.h"
#include "lib/prefix.h"
#include "lib/vrf.h"

#include "vpnd.h"
#include "vpnd_ike.h"
#include "vpnd_zebra.h"

extern struct zebra_privs_t vpnd_privs;

DEFINE_MTYPE_STATIC(VPND, VPN_ZROUTE, "vpnd zebra state");

#define ZR_MAX_NH 8

enum zr_underlay {
	UNDERLAY_UNKNOWN,     /* not tracked yet / zebra not connected */
	UNDERLAY_REACHABLE,
	UNDERLAY_UNREACHABLE,
};

enum zr_source {
	ZR_SRC_ROUTE,	/* 'route' statement */
	ZR_SRC_TS,	/* negotiated remote traffic selector */
};

struct zr_route {
	struct prefix p;
	enum zr_source src;
};

/* Per connection (conn->rt->zr). */
struct vpn_zroute {
	/* nexthop tracking */
	bool nht_registered;
	struct prefix nht_p;
	enum zr_underlay underlay;
	unsigned int nnh;
	struct zapi_nexthop nh[ZR_MAX_NH];
	/* the pin: remote-address/32 (or /128) through the underlay */
	bool pinned;
	unsigned int npin;
	struct zapi_nexthop pin[ZR_MAX_NH];
	/* remote traffic selectors of the newest Child SA, as prefixes */
	unsigned int nts;
	struct prefix ts[VPN_ZR_TS_MAX];
	/* routes installed in zebra, and through which ifindex */
	unsigned int ninst;
	struct zr_route *inst;
	ifindex_t inst_ifindex;
};

static struct zclient *zclient;

static bool zebra_up(void)
{
	return zclient && zclient->sock >= 0;
}

static struct vpn_zroute *zr_get(struct vpn_connection *conn)
{
	if (!conn->rt)
		return NULL;
	if (!conn->rt->zr)
		conn->rt->zr = XCALLOC(MTYPE_VPN_ZROUTE, sizeof(struct vpn_zroute));
	return conn->rt->zr;
}

static bool ifindex_operative(ifindex_t ifindex)
{
	struct interface *ifp = if_lookup_by_index(ifindex, VRF_DEFAULT);

	return ifp && if_is_operative(ifp);
}

/* Is ifindex one of vpnd's tunnel interfaces? */
static bool is_tunnel_ifindex(ifindex_t ifindex)
{
	struct interface *ifp = if_lookup_by_index(ifindex, VRF_DEFAULT);
	struct vpn_connection *c;

	if (!ifp)
		return false;
	frr_each (vpn_conns, &vpn.conns, c)
		if (c->ifname[0] && strcmp(c->ifname, ifp->name) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Routes                                                              */
/* ------------------------------------------------------------------ */

static void route_send(bool add, const struct prefix *p,
		       const struct zapi_nexthop *nh, unsigned int nnh)
{
	struct zapi_route api;

	memset(&api, 0, sizeof(api));
	api.type = ZEBRA_ROUTE_NHRP;
	api.safi = SAFI_UNICAST;
	api.vrf_id = VRF_DEFAULT;
	prefix_copy(&api.prefix, p);
	apply_mask(&api.prefix);
	if (add) {
		SET_FLAG(api.message, ZAPI_MESSAGE_NEXTHOP);
		api.nexthop_num = MIN(nnh, (unsigned int)MULTIPATH_NUM);
		for (unsigned int i = 0; i < api.nexthop_num; i++) {
			api.nexthops[i] = nh[i];
			api.nexthops[i].vrf_id = VRF_DEFAULT;
		}
	}
	zclient_route_send(add ? ZEBRA_ROUTE_ADD : ZEBRA_ROUTE_DELETE, zclient,
			   &api);
}

static void route_via_ifindex(bool add, const struct prefix *p,
			      ifindex_t ifindex)
{
	struct zapi_nexthop nh;

	memset(&nh, 0, sizeof(nh));
	nh.type = NEXTHOP_TYPE_IFINDEX;
	nh.ifindex = ifindex;
	route_send(add, p, &nh, 1);
}

static bool zr_has(const struct zr_route *set, unsigned int n,
		   const struct prefix *p)
{
	for (unsigned int i = 0; i < n; i++)
		if (prefix_same(&set[i].p, p))
			return true;
	return false;
}

/* The routes the connection should have in zebra now. */
static unsigned int routes_wanted(struct vpn_connection *conn,
				  struct vpn_zroute *zr, struct zr_route *out,
				  unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < conn->nroutes && n < max; i++) {
		if (zr_has(out, n, &conn->routes[i]))
			continue;
		out[n].p = conn->routes[i];
		out[n++].src = ZR_SRC_ROUTE;
	}
	for (unsigned int i = 0; i < zr->nts && n < max; i++) {
		if (zr_has(out, n, &zr->ts[i]))
			continue;
		out[n].p = zr->ts[i];
		out[n++].src = ZR_SRC_TS;
	}
	return n;
}

static struct interface *conn_ifp(struct vpn_connection *conn)
{
	struct interface *ifp;

	if (!conn->ifname[0])
		return NULL;
	ifp = if_lookup_by_name(conn->ifname, VRF_DEFAULT);
	if (!ifp || ifp->ifindex == IFINDEX_INTERNAL)
		return NULL;
	return ifp;
}

static void routes_sync(struct vpn_connection *conn, struct vpn_zroute *zr)
{
	struct interface *ifp = conn_ifp(conn);
	unsigned int max = conn->nroutes + zr->nts, n = 0;
	struct zr_route *want = NULL;
	bool up = conn->rt && conn->rt->carrier && ifp && if_is_operative(ifp);

	if (!zebra_up())
		return;
	if (up && max) {
		want = XCALLOC(MTYPE_TMP, max * sizeof(*want));
		n = routes_wanted(conn, zr, want, max);
	}
	/* The interface was re-created: everything is re-announced. */
	if (up && zr->ninst && zr->inst_ifindex != ifp->ifindex) {
		for (unsigned int i = 0; i < zr->ninst; i++)
			route_via_ifindex(false, &zr->inst[i].p,
					  zr->inst_ifindex);
		zr->ninst = 0;
	}
	for (unsigned int i = 0; i < zr->ninst; i++)
		if (!zr_has(want, n, &zr->inst[i].p)) {
			route_via_ifindex(false, &zr->inst[i].p,
					  zr->inst_ifindex);
			zlog_info("%s: route %pFX removed", conn->name,
				  &zr->inst[i].p);
		}
	for (unsigned int i = 0; i < n; i++)
		if (!zr_has(zr->inst, zr->ninst, &want[i].p)) {
			route_via_ifindex(true, &want[i].p, ifp->ifindex);
			zlog_info("%s: route %pFX via %s installed", conn->name,
				  &want[i].p, ifp->name);
		}
	XFREE(MTYPE_VPN_ZROUTE, zr->inst);
	zr->inst = NULL;
	zr->ninst = n;
	if (n) {
		zr->inst = XCALLOC(MTYPE_VPN_ZROUTE, n * sizeof(*want));
		memcpy(zr->inst, want, n * sizeof(*want));
		zr->inst_ifindex = ifp->ifindex;
	}
	XFREE(MTYPE_TMP, want);
}

static void routes_withdraw(struct vpn_zroute *zr)
{
	if (zebra_up())
		for (unsigned int i = 0; i < zr->ninst; i++)
			route_via_ifindex(false, &zr->inst[i].p,
					  zr->inst_ifindex);
	XFREE(MTYPE_VPN_ZROUTE, zr->inst);
	zr->inst = NULL;
	zr->ninst = 0;
}

/* ------------------------------------------------------------------ */
/* The underlay: nexthop tracking and the pin                          */
/* ------------------------------------------------------------------ */

static void host_prefix(struct prefix *p, const struct ipaddr *a)
{
	memset(p, 0, sizeof(*p));
	if (IS_IPADDR_V4(a)) {
		p->family = AF_INET;
		p->prefixlen = IPV4_MAX_BITLEN;
		p->u.prefix4 = a->ipaddr_v4;
	} else {
		p->family = AF_INET6;
		p->prefixlen = IPV6_MAX_BITLEN;
		p->u.prefix6 = a->ipaddr_v6;
	}
}

/* Is the address of connected prefix p the address a? */
static bool addr_is(const struct prefix *p, const struct ipaddr *a)
{
	if (IS_IPADDR_V4(a))
		return p->family == AF_INET &&
		       IPV4_ADDR_SAME(&p->u.prefix4, &a->ipaddr_v4);
	return p->family == AF_INET6 &&
	       IPV6_ADDR_SAME(&p->u.prefix6, &a->ipaddr_v6);
}

static void pin_remove(struct vpn_zroute *zr)
{
	if (zr->pinned && zebra_up())
		route_send(false, &zr->nht_p, NULL, 0);
	zr->pinned = false;
	zr->npin = 0;
}

static bool nh_same(const struct zapi_nexthop *a, unsigned int na,
		    const struct zapi_nexthop *b, unsigned int nb)
{
	if (na != nb)
		return false;
	for (unsigned int i = 0; i < na; i++)
		if (a[i].type != b[i].type || a[i].ifindex != b[i].ifindex ||
		    memcmp(&a[i].gate, &b[i].gate, sizeof(a[i].gate)))
			return false;
	return true;
}

static void pin_set(struct vpn_connection *conn, struct vpn_zroute *zr)
{
	if (zr->pinned && nh_same(zr->pin, zr->npin, zr->nh, zr->nnh))
		return;
	memcpy(zr->pin, zr->nh, zr->nnh * sizeof(zr->nh[0]));
	zr->npin = zr->nnh;
	zr->pinned = true;
	route_send(true, &zr->nht_p, zr->pin, zr->npin);
	zlog_info("%s: underlay route %pFX pinned through %s", conn->name,
		  &zr->nht_p, ifindex2ifname(zr->pin[0].ifindex, VRF_DEFAULT));
}

static void nht_register(struct vpn_zroute *zr, bool reg)
{
	if (!zebra_up())
		return;
	zclient_send_rnh(zclient,
			 reg ? ZEBRA_NEXTHOP_REGISTER
			     : ZEBRA_NEXTHOP_UNREGISTER,
			 &zr->nht_p, SAFI_UNICAST, false, true, VRF_DEFAULT);
}

static void nht_sync(struct vpn_connection *conn, struct vpn_zroute *zr)
{
	struct prefix p;
	bool want = conn->has_remote && conn->state != VPN_STATE_SHUTDOWN;

	if (want)
		host_prefix(&p, &conn->remote);
	if (zr->nht_registered && (!want || !prefix_same(&p, &zr->nht_p))) {
		pin_remove(zr);
		nht_register(zr, false);
		zr->nht_registered = false;
		zr->underlay = UNDERLAY_UNKNOWN;
		zr->nnh = 0;
	}
	if (want && !zr->nht_registered && zebra_up()) {
		zr->nht_p = p;
		nht_register(zr, true);
		zr->nht_registered = true;
	}
}

static int nht_update(ZAPI_CALLBACK_ARGS)
{
	struct prefix match;
	struct zapi_route nhr;
	struct vpn_connection *conn;

	if (!zapi_nexthop_update_decode(zclient->ibuf, &match, &nhr)) {
		zlog_warn("zebra: bad nexthop update");
		return -1;
	}
	/* Several connections may share a remote-address: each is told. */
	frr_each (vpn_conns, &vpn.conns, conn) {
		struct vpn_zroute *zr = conn->rt ? conn->rt->zr : NULL;
		enum zr_underlay old;
		struct zapi_nexthop nh[ZR_MAX_NH];
		unsigned int nnh = 0;
		bool ours, changed;

		if (!zr || !zr->nht_registered ||
		    !prefix_same(&zr->nht_p, &match))
			continue;
		old = zr->underlay;
		/* Resolved through our own pin: the pinned path holds. */
		ours = nhr.type == ZEBRA_ROUTE_NHRP &&
		       prefix_same(&nhr.prefix, &zr->nht_p);
		for (unsigned int i = 0; i < nhr.nexthop_num && nnh < ZR_MAX_NH;
		     i++) {
			/* Never through a tunnel: that is the overlay. */
			if (nhr.nexthops[i].ifindex &&
			    is_tunnel_ifindex(nhr.nexthops[i].ifindex))
				continue;
			if (nhr.nexthops[i].type == NEXTHOP_TYPE_BLACKHOLE)
				continue;
			/* zebra leaves our pin selected over a downed
			 * interface until we withdraw it */
			if (nhr.nexthops[i].ifindex &&
			    !ifindex_operative(nhr.nexthops[i].ifindex))
				continue;
			nh[nnh++] = nhr.nexthops[i];
		}
		changed = !nh_same(nh, nnh, zr->nh, zr->nnh);
		memcpy(zr->nh, nh, nnh * sizeof(nh[0]));
		zr->nnh = nnh;
		zr->underlay = nnh ? UNDERLAY_REACHABLE : UNDERLAY_UNREACHABLE;
		if (!nnh) {
			pin_remove(zr);
		} else if (!ours) {
			pin_set(conn, zr);
		}
		if (zr->underlay != old || (changed && !ours)) {
			zlog_info("%s: remote-address %pFX %s", conn->name,
				  &match,
				  nnh ? (old == UNDERLAY_UNREACHABLE
						 ? "reachable again"
						 : "reachable")
				      : "unreachable: no underlay route");
			vpn_ike_underlay_changed(conn, nnh > 0,
						 old != UNDERLAY_UNKNOWN);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Per connection                                                      */
/* ------------------------------------------------------------------ */

bool vpn_zebra_underlay_lost(struct vpn_connection *conn)
{
	return conn->rt && conn->rt->zr &&
	       conn->rt->zr->underlay == UNDERLAY_UNREACHABLE;
}

void vpn_zebra_set_ts(struct vpn_connection *conn,
		      const struct prefix *ts, unsigned int n)
{
	struct vpn_zroute *zr = zr_get(conn);

	if (!zr)
		return;
	zr->nts = 0;
	for (unsigned int i = 0; i < n && zr->nts < VPN_ZR_TS_MAX; i++)
		if (ts[i].prefixlen != 0) /* any: routing decides, not IKE */
			zr->ts[zr->nts++] = ts[i];
}

void vpn_zebra_conn_update(struct vpn_connection *conn)
{
	struct vpn_zroute *zr = zr_get(conn);

	if (!zr)
		return;
	nht_sync(conn, zr);
	routes_sync(conn, zr);
}

void vpn_zebra_conn_delete(struct vpn_connection *conn)
{
	struct vpn_zroute *zr = conn->rt ? conn->rt->zr : NULL;

	if (!zr)
		return;
	routes_withdraw(zr);
	pin_remove(zr);
	if (zr->nht_registered)
		nht_register(zr, false);
	XFREE(MTYPE_VPN_ZROUTE, conn->rt->zr);
}

static const char *underlay_str(enum zr_underlay u)
{
	switch (u) {
	case UNDERLAY_REACHABLE:
		return "reachable";
	case UNDERLAY_UNREACHABLE:
		return "unreachable";
	case UNDERLAY_UNKNOWN:
		break;
	}
	return "unknown";
}

static void nh_str(const struct zapi_nexthop *nh, char *buf, size_t len)
{
	const char *ifn = nh->ifindex ? ifindex2ifname(nh->ifindex, VRF_DEFAULT)
				      : NULL;

	switch (nh->type) {
	case NEXTHOP_TYPE_IPV4:
	case NEXTHOP_TYPE_IPV4_IFINDEX:
		snprintfrr(buf, len, "%pI4%s%s", &nh->gate.ipv4,
			   ifn ? " dev " : "", ifn ? ifn : "");
		break;
	case NEXTHOP_TYPE_IPV6:
	case NEXTHOP_TYPE_IPV6_IFINDEX:
		snprintfrr(buf, len, "%pI6%s%s", &nh->gate.ipv6,
			   ifn ? " dev " : "", ifn ? ifn : "");
		break;
	default:
		snprintfrr(buf, len, "dev %s", ifn ? ifn : "?");
	}
}

void vpn_zebra_show_conn(struct vty *vty, json_object *j,
			 struct vpn_connection *conn)
{
	struct vpn_zroute *zr = conn->rt ? conn->rt->zr : NULL;
	enum zr_underlay u = zr ? zr->underlay : UNDERLAY_UNKNOWN;
	char buf[128];
	unsigned int max = conn->nroutes + (zr ? zr->nts : 0), n = 0;
	struct zr_route *want = NULL;

	if (max) {
		want = XCALLOC(MTYPE_TMP, max * sizeof(*want));
		if (zr)
			n = routes_wanted(conn, zr, want, max);
		else
			for (; n < conn->nroutes; n++) {
				want[n].p = conn->routes[n];
				want[n].src = ZR_SRC_ROUTE;
			}
	}

	if (j) {
		json_object *ju = json_object_new_object();
		json_object *jnh = json_object_new_array();
		json_object *jr = json_object_new_array();

		json_object_string_add(ju, "state", underlay_str(u));
		for (unsigned int i = 0; zr && i < zr->nnh; i++) {
			nh_str(&zr->nh[i], buf, sizeof(buf));
			json_object_array_add(jnh,
					      json_object_new_string(buf));
		}
		json_object_object_add(ju, "nexthops", jnh);
		json_object_boolean_add(ju, "pinned", zr && zr->pinned);
		json_object_object_add(j, "underlay", ju);
		for (unsigned int i = 0; i < n; i++) {
			json_object *r = json_object_new_object();

			json_object_string_addf(r, "prefix", "%pFX",
						&want[i].p);
			json_object_string_add(r, "source",
					       want[i].src == ZR_SRC_ROUTE
						       ? "route"
						       : "traffic-selector");
			json_object_boolean_add(
				r, "installed",
				zr && zr_has(zr->inst, zr->ninst, &want[i].p));
			json_object_array_add(jr, r);
		}
		json_object_object_add(j, "routes", jr);
	} else {
		vty_out(vty, "  Underlay: remote-address %s", underlay_str(u));
		for (unsigned int i = 0; zr && i < zr->nnh; i++) {
			nh_str(&zr->nh[i], buf, sizeof(buf));
			vty_out(vty, "%s%s", i ? ", " : " via ", buf);
		}
		if (zr && zr->pinned)
			vty_out(vty, " (pinned)");
		vty_out(vty, "\n");
		for (unsigned int i = 0; i < n; i++)
			vty_out(vty, "  Route %pFX (%s): %s\n", &want[i].p,
				want[i].src == ZR_SRC_ROUTE ? "route"
							    : "traffic selector",
				zr && zr_has(zr->inst, zr->ninst, &want[i].p)
					? "installed"
					: "not installed");
	}
	XFREE(MTYPE_TMP, want);
}

/* ------------------------------------------------------------------ */
/* Interfaces and addresses                                            */
/* ------------------------------------------------------------------ */

static void conns_on_ifp(struct interface *ifp)
{
	struct vpn_connection *c;

	frr_each (vpn_conns, &vpn.conns, c)
		if (c->ifname[0] && strcmp(c->ifname, ifp->name) == 0 &&
		    c->rt && c->rt->zr)
			routes_sync(c, c->rt->zr);
}

static int vpn_ifp_create(struct interface *ifp)
{
	conns_on_ifp(ifp);
	return 0;
}

static int vpn_ifp_up(struct interface *ifp)
{
	conns_on_ifp(ifp);
	return 0;
}

/*
 * An underlay interface went down: zebra keeps routes through it selected
 * (protocols are expected to withdraw them, as staticd does), so the pin
 * through it goes now; the nexthop update that follows tells whether
 * another path reaches the peer.
 */
static void pins_on_ifp(struct interface *ifp)
{
	struct vpn_connection *c;

	frr_each (vpn_conns, &vpn.conns, c) {
		struct vpn_zroute *zr = c->rt ? c->rt->zr : NULL;
		bool uses = false;

		if (!zr || !zr->pinned)
			continue;
		for (unsigned int i = 0; i < zr->npin; i++)
			if (zr->pin[i].ifindex == ifp->ifindex)
				uses = true;
		if (!uses)
			continue;
		zlog_info("%s: underlay interface %s down", c->name, ifp->name);
		pin_remove(zr);
	}
}

static int vpn_ifp_down(struct interface *ifp)
{
	pins_on_ifp(ifp);
	conns_on_ifp(ifp);
	return 0;
}

static int vpn_ifp_destroy(struct interface *ifp)
{
	pins_on_ifp(ifp);
	conns_on_ifp(ifp);
	return 0;
}

/* A connection's local-address appearing (boot order, renumbering):
 * worth an attempt now rather than at the next retry. */
static int vpn_if_addr(ZAPI_CALLBACK_ARGS)
{
	struct connected *ifc;
	struct vpn_connection *c;

	ifc = zebra_interface_address_read(cmd, zclient->ibuf, vrf_id);
	if (!ifc)
		return 0;
	if (cmd == ZEBRA_INTERFACE_ADDRESS_ADD) {
		frr_each (vpn_conns, &vpn.conns, c)
			if (c->has_local && addr_is(ifc->address, &c->local))
				vpn_ike_local_address_up(c);
	} else {
		connected_free(&ifc);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* zclient                                                             */
/* ------------------------------------------------------------------ */

static void vpn_zebra_connected(struct zclient *zc)
{
	struct vpn_connection *c;

	zlog_info("connected to zebra");
	zclient_send_reg_requests(zc, VRF_DEFAULT);
	/* A (re)connected zebra has none of our state: send it again. */
	frr_each (vpn_conns, &vpn.conns, c) {
		struct vpn_zroute *zr = c->rt ? c->rt->zr : NULL;

		if (!zr)
			continue;
		zr->nht_registered = false;
		zr->pinned = false;
		zr->ninst = 0;
		vpn_zebra_conn_update(c);
	}
}

static zclient_handler *const vpn_handlers[] = {
	[ZEBRA_NEXTHOP_UPDATE] = nht_update,
	[ZEBRA_INTERFACE_ADDRESS_ADD] = vpn_if_addr,
	[ZEBRA_INTERFACE_ADDRESS_DELETE] = vpn_if_addr,
};

void vpn_zebra_init(struct thread_master *master)
{
	if_zapi_callbacks(vpn_ifp_create, vpn_ifp_up, vpn_ifp_down,
			  vpn_ifp_destroy);
	zclient = zclient_new(master, &zclient_options_default, vpn_handlers,
			      array_size(vpn_handlers));
	zclient->zebra_connected = vpn_zebra_connected;
	zclient_init(zclient, ZEBRA_ROUTE_NHRP, 0, &vpnd_privs);
}

void vpn_zebra_stop(void)
{
	if (!zclient)
		return;
	zclient_stop(zclient);
	zclient_free(zclient);
	zclient = NULL;
}
