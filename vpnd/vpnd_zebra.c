// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: zebra client.
 *
 * zebra's route types are compiled into Debian's zebra, so vpnd registers
 * under the existing NHRP type (the other tunnel-overlay protocol, never
 * run beside vpnd here): its routes show as "N" in 'show ip route' and
 * bgpd can 'redistribute nhrp'.
 *
 * The connection manager (vpnd_conn.c) makes one struct vpn_zconn per
 * connection and tells it the connection's addresses, interface, routes,
 * carrier and negotiated selectors; this file keeps its own list of them
 * and reports zebra's news about one back through struct
 * vpn_zebra_events. It reads no other module's structures.
 *
 * What vpnd does with zebra:
 *  - interfaces and addresses: the interface database (libfrr's, fed by
 *    zebra) gives tunnel ifindexes and tells when a tunnel interface is
 *    operative, and when a connection's local-address appears;
 *  - nexthop tracking of every remote-address: the underlay path, one
 *    registration (and one pin) per address, shared by the connections
 *    to it with a reference count. When it
 *    disappears, the tunnel's carrier goes down at once (routing fails
 *    over without waiting for DPD); when it comes back or changes, the
 *    IKE SA is probed (or initiated);
 *  - the underlay pin: a host route to the remote-address through the
 *    underlay nexthop it resolves through, so that a default route learned
 *    over the tunnel (forced tunnelling) never captures the tunnel's own
 *    IKE and ESP packets;
 *  - routes: each connection's 'route' prefixes and the remote traffic
 *    selectors it negotiated (when narrower than any), via its tunnel
 *    interface while a Child SA is up. Changes are batched: a connection
 *    whose routes may have to change is marked, and one event brings
 *    every marked connection in line (a thousand tunnels coming up in
 *    one loop iteration make one pass, and a carrier that flaps within
 *    it costs zebra nothing).
 */
#include <zebra.h>

#include "lib/zclient.h"
#include "lib/if.h"
#include "lib/log.h"
#include "lib/privs.h"
#include "lib/memory.h"
#include "lib/prefix.h"
#include "lib/thread.h"
#include "lib/typesafe.h"
#include "lib/vrf.h"

#include "vpnd.h"
#include "vpnd_util.h"
#include "vpnd_zebra.h"

DEFINE_MTYPE_STATIC(VPND, VPN_ZROUTE, "vpnd zebra state");

struct zr_route {
	struct prefix p;
	enum vpn_route_source src;
};

PREDECL_DLIST(vpn_zconns);
PREDECL_DLIST(vpn_uconns);
PREDECL_DLIST(vpn_zdirty);
PREDECL_HASH(vpn_unders);
PREDECL_HASH(vpn_zifs);

/*
 * The underlay path to one remote-address: zebra's nexthop tracking and
 * the pin are per address, and several connections may share one, so it
 * is registered and pinned once, and freed with its last connection.
 */
struct zunder {
	struct vpn_unders_item hitem;
	struct prefix p; /* remote-address/32 (or /128) */
	struct vpn_uconns_head conns;
	bool registered;
	enum vpn_underlay_state state;
	unsigned int nnh;
	struct zapi_nexthop nh[VPN_ZR_MAX_NH];
	/* the pin: p through the underlay */
	bool pinned;
	unsigned int npin;
	struct zapi_nexthop pin[VPN_ZR_MAX_NH];
};

/* Per connection. */
struct vpn_zconn {
	struct vpn_zconns_item item;
	struct vpn_uconns_item uitem; /* in under->conns */
	struct vpn_zifs_item ifitem;  /* in zifs while ifname is set */
	struct vpn_zdirty_item ditem; /* in zdirty while dirty */
	bool in_zifs, dirty;
	void *owner; /* given back in events */
	char name[VPN_NAME_MAX];
	/* configuration (vpn_zebra_conn_config) */
	char ifname[VPN_IFNAME_MAX];
	bool track;
	struct ipaddr remote;
	bool has_local;
	struct ipaddr local;
	unsigned int nroutes;
	struct prefix *routes;
	bool carrier;
	/* the underlay path to remote (while tracked) */
	struct zunder *under;
	/* remote traffic selectors of the newest Child SA, as prefixes */
	unsigned int nts;
	struct prefix ts[VPN_ZR_TS_MAX];
	/* routes installed in zebra, and through which ifindex */
	unsigned int ninst;
	struct zr_route *inst;
	ifindex_t inst_ifindex;
};

DECLARE_DLIST(vpn_zconns, struct vpn_zconn, item);
DECLARE_DLIST(vpn_uconns, struct vpn_zconn, uitem);
DECLARE_DLIST(vpn_zdirty, struct vpn_zconn, ditem);

/* Connections by interface name (unique in the configuration). */
static int zif_cmp(const struct vpn_zconn *a, const struct vpn_zconn *b)
{
	return strcmp(a->ifname, b->ifname);
}

static uint32_t zif_hash(const struct vpn_zconn *zc)
{
	return string_hash_make(zc->ifname);
}

DECLARE_HASH(vpn_zifs, struct vpn_zconn, ifitem, zif_cmp, zif_hash);

static int under_cmp(const struct zunder *a, const struct zunder *b)
{
	return prefix_cmp(&a->p, &b->p);
}

static uint32_t under_hash(const struct zunder *u)
{
	return prefix_hash_key(&u->p);
}

DECLARE_HASH(vpn_unders, struct zunder, hitem, under_cmp, under_hash);

static struct zclient *zclient;
static struct thread_master *zmaster;
static struct vpn_zconns_head zconns;
static struct vpn_zifs_head zifs;
static struct vpn_zdirty_head zdirty;
static struct thread *t_routes;
static struct vpn_unders_head unders;
static struct vpn_zebra_events zevents;

static bool zebra_up(void)
{
	return zclient && zclient->sock >= 0;
}

static bool ifindex_operative(ifindex_t ifindex)
{
	struct interface *ifp = if_lookup_by_index(ifindex, VRF_DEFAULT);

	return ifp && if_is_operative(ifp);
}

/* The connection whose interface is ifp, if any. */
static struct vpn_zconn *zconn_of_ifp(const struct interface *ifp)
{
	struct vpn_zconn key;

	strlcpy(key.ifname, ifp->name, sizeof(key.ifname));
	return vpn_zifs_find(&zifs, &key);
}

/* Is ifindex one of vpnd's tunnel interfaces? */
static bool is_tunnel_ifindex(ifindex_t ifindex)
{
	struct interface *ifp = if_lookup_by_index(ifindex, VRF_DEFAULT);

	return ifp && zconn_of_ifp(ifp);
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

/* The routes the connection should have in zebra while up. */
static unsigned int routes_wanted(const struct vpn_zconn *zc,
				  struct zr_route *out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < zc->nroutes && n < max; i++) {
		if (zr_has(out, n, &zc->routes[i]))
			continue;
		out[n].p = zc->routes[i];
		out[n++].src = VPN_ROUTE_SRC_ROUTE;
	}
	for (unsigned int i = 0; i < zc->nts && n < max; i++) {
		if (zr_has(out, n, &zc->ts[i]))
			continue;
		out[n].p = zc->ts[i];
		out[n++].src = VPN_ROUTE_SRC_TS;
	}
	return n;
}

static struct interface *zc_ifp(const struct vpn_zconn *zc)
{
	struct interface *ifp;

	if (!zc->ifname[0])
		return NULL;
	ifp = if_lookup_by_name(zc->ifname, VRF_DEFAULT);
	if (!ifp || ifp->ifindex == IFINDEX_INTERNAL)
		return NULL;
	return ifp;
}

static void routes_withdraw(struct vpn_zconn *zc)
{
	if (zebra_up())
		for (unsigned int i = 0; i < zc->ninst; i++)
			route_via_ifindex(false, &zc->inst[i].p,
					  zc->inst_ifindex);
	XFREE(MTYPE_VPN_ZROUTE, zc->inst);
	zc->ninst = 0;
}

/* Remove what is installed and not wanted, install what is wanted. */
static void routes_apply(struct vpn_zconn *zc, struct interface *ifp,
			 const struct zr_route *want, unsigned int n)
{
	for (unsigned int i = 0; i < zc->ninst; i++)
		if (!zr_has(want, n, &zc->inst[i].p)) {
			route_via_ifindex(false, &zc->inst[i].p,
					  zc->inst_ifindex);
			zlog_info("%s: route %pFX removed", zc->name,
				  &zc->inst[i].p);
		}
	for (unsigned int i = 0; i < n; i++)
		if (!zr_has(zc->inst, zc->ninst, &want[i].p)) {
			route_via_ifindex(true, &want[i].p, ifp->ifindex);
			zlog_info("%s: route %pFX via %s installed", zc->name,
				  &want[i].p, ifp->name);
		}
	XFREE(MTYPE_VPN_ZROUTE, zc->inst);
	zc->ninst = n;
	if (n) {
		zc->inst = XCALLOC(MTYPE_VPN_ZROUTE, n * sizeof(*want));
		memcpy(zc->inst, want, n * sizeof(*want));
		zc->inst_ifindex = ifp->ifindex;
	}
}

static void routes_sync(struct vpn_zconn *zc)
{
	struct interface *ifp = zc_ifp(zc);
	unsigned int max = zc->nroutes + zc->nts, n = 0;
	struct zr_route *want = NULL;
	bool up = zc->carrier && ifp && if_is_operative(ifp);

	if (!zebra_up())
		return;
	if (up && max) {
		want = XCALLOC(MTYPE_TMP, max * sizeof(*want));
		n = routes_wanted(zc, want, max);
	}
	/* The interface was re-created: everything is re-announced. */
	if (up && zc->ninst && zc->inst_ifindex != ifp->ifindex)
		routes_withdraw(zc);
	routes_apply(zc, ifp, want, n);
	XFREE(MTYPE_TMP, want);
}

static void routes_flush(struct thread *t)
{
	struct vpn_zconn *zc;

	while ((zc = vpn_zdirty_pop(&zdirty))) {
		zc->dirty = false;
		routes_sync(zc);
	}
}

/* zc's routes may have to change: brought in line by routes_flush. */
static void routes_mark(struct vpn_zconn *zc)
{
	if (!zc->dirty) {
		zc->dirty = true;
		vpn_zdirty_add_tail(&zdirty, zc);
	}
	if (!t_routes)
		thread_add_event(zmaster, routes_flush, NULL, 0, &t_routes);
}

static void routes_unmark(struct vpn_zconn *zc)
{
	if (zc->dirty)
		vpn_zdirty_del(&zdirty, zc);
	zc->dirty = false;
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

static void pin_remove(struct zunder *u)
{
	if (u->pinned && zebra_up())
		route_send(false, &u->p, NULL, 0);
	u->pinned = false;
	u->npin = 0;
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

static void pin_set(struct zunder *u)
{
	if (u->pinned && nh_same(u->pin, u->npin, u->nh, u->nnh))
		return;
	memcpy(u->pin, u->nh, u->nnh * sizeof(u->nh[0]));
	u->npin = u->nnh;
	u->pinned = true;
	route_send(true, &u->p, u->pin, u->npin);
	zlog_info("underlay route %pFX pinned through %s", &u->p,
		  ifindex2ifname(u->pin[0].ifindex, VRF_DEFAULT));
}

static void nht_register(struct zunder *u, bool reg)
{
	if (!zebra_up())
		return;
	zclient_send_rnh(zclient,
			 reg ? ZEBRA_NEXTHOP_REGISTER
			     : ZEBRA_NEXTHOP_UNREGISTER,
			 &u->p, SAFI_UNICAST, false, true, VRF_DEFAULT);
	u->registered = reg;
}

/* The underlay of p, made (and registered) for its first connection. */
static struct zunder *under_get(const struct prefix *p)
{
	struct zunder key = { .p = *p }, *u;

	u = vpn_unders_find(&unders, &key);
	if (u)
		return u;
	u = XCALLOC(MTYPE_VPN_ZROUTE, sizeof(*u));
	u->p = *p;
	u->state = VPN_UNDERLAY_UNKNOWN;
	vpn_uconns_init(&u->conns);
	vpn_unders_add(&unders, u);
	nht_register(u, true);
	return u;
}

/* zc no longer uses its underlay; the last one out unpins and
 * unregisters it. */
static void under_detach(struct vpn_zconn *zc)
{
	struct zunder *u = zc->under;

	if (!u)
		return;
	vpn_uconns_del(&u->conns, zc);
	zc->under = NULL;
	if (vpn_uconns_count(&u->conns))
		return;
	pin_remove(u);
	if (u->registered)
		nht_register(u, false);
	vpn_unders_del(&unders, u);
	vpn_uconns_fini(&u->conns);
	XFREE(MTYPE_VPN_ZROUTE, u);
}

static void nht_sync(struct vpn_zconn *zc)
{
	struct prefix p;

	if (zc->track)
		host_prefix(&p, &zc->remote);
	if (zc->under && (!zc->track || !prefix_same(&p, &zc->under->p)))
		under_detach(zc);
	if (zc->track && !zc->under) {
		zc->under = under_get(&p);
		vpn_uconns_add_tail(&zc->under->conns, zc);
	}
	if (zc->under && !zc->under->registered)
		nht_register(zc->under, true);
}

/* The usable underlay nexthops of a nexthop update. */
static unsigned int nht_usable(const struct zapi_route *nhr,
			       struct zapi_nexthop *nh)
{
	unsigned int nnh = 0;

	for (unsigned int i = 0; i < nhr->nexthop_num && nnh < VPN_ZR_MAX_NH;
	     i++) {
		const struct zapi_nexthop *x = &nhr->nexthops[i];

		/* Never through a tunnel: that is the overlay. */
		if (x->ifindex && is_tunnel_ifindex(x->ifindex))
			continue;
		if (x->type == NEXTHOP_TYPE_BLACKHOLE)
			continue;
		/* zebra leaves our pin selected over a downed interface
		 * until we withdraw it */
		if (x->ifindex && !ifindex_operative(x->ifindex))
			continue;
		nh[nnh++] = *x;
	}
	return nnh;
}

/* A connection hears that its underlay changed (was: old). */
static void under_tell(struct vpn_zconn *zc, enum vpn_underlay_state old)
{
	struct zunder *u = zc->under;

	zlog_info("%s: remote-address %pFX %s", zc->name, &u->p,
		  u->nnh ? (old == VPN_UNDERLAY_UNREACHABLE ? "reachable again"
							     : "reachable")
			 : "unreachable: no underlay route");
	if (zevents.underlay_changed)
		zevents.underlay_changed(zc->owner, u->nnh > 0,
					 old != VPN_UNDERLAY_UNKNOWN);
}

/* A nexthop update for an underlay: its state and pin, then the news to
 * each connection that uses it. */
static void nht_apply(struct zunder *u, const struct zapi_route *nhr)
{
	enum vpn_underlay_state old = u->state;
	struct zapi_nexthop nh[VPN_ZR_MAX_NH];
	unsigned int nnh = nht_usable(nhr, nh);
	/* Resolved through our own pin: the pinned path holds. */
	bool ours = nhr->type == ZEBRA_ROUTE_NHRP &&
		    prefix_same(&nhr->prefix, &u->p);
	bool changed = !nh_same(nh, nnh, u->nh, u->nnh);
	struct vpn_zconn *zc;

	memcpy(u->nh, nh, nnh * sizeof(nh[0]));
	u->nnh = nnh;
	u->state = nnh ? VPN_UNDERLAY_REACHABLE : VPN_UNDERLAY_UNREACHABLE;
	if (!nnh)
		pin_remove(u);
	else if (!ours)
		pin_set(u);
	if (u->state == old && (!changed || ours))
		return;
	frr_each_safe (vpn_uconns, &u->conns, zc)
		under_tell(zc, old);
}

static int nht_update(ZAPI_CALLBACK_ARGS)
{
	struct zunder key = {}, *u;
	struct zapi_route nhr;

	if (!zapi_nexthop_update_decode(zclient->ibuf, &key.p, &nhr)) {
		zlog_warn("zebra: bad nexthop update");
		return -1;
	}
	u = vpn_unders_find(&unders, &key);
	if (u && u->registered)
		nht_apply(u, &nhr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Per connection                                                      */
/* ------------------------------------------------------------------ */

struct vpn_zconn *vpn_zebra_conn_new(void *owner, const char *name)
{
	struct vpn_zconn *zc = XCALLOC(MTYPE_VPN_ZROUTE, sizeof(*zc));

	zc->owner = owner;
	strlcpy(zc->name, name, sizeof(zc->name));
	vpn_zconns_add_tail(&zconns, zc);
	return zc;
}

void vpn_zebra_conn_free(struct vpn_zconn *zc)
{
	if (!zc)
		return;
	routes_unmark(zc);
	routes_withdraw(zc);
	under_detach(zc);
	if (zc->in_zifs)
		vpn_zifs_del(&zifs, zc);
	vpn_zconns_del(&zconns, zc);
	XFREE(MTYPE_VPN_ZROUTE, zc->routes);
	XFREE(MTYPE_VPN_ZROUTE, zc);
}

void vpn_zebra_conn_config(struct vpn_zconn *zc,
			   const struct vpn_zconn_config *cfg)
{
	if (zc->in_zifs)
		vpn_zifs_del(&zifs, zc);
	strlcpy(zc->ifname, cfg->ifname, sizeof(zc->ifname));
	/* a second connection naming the interface (never in a valid
	 * configuration) is not found by it */
	zc->in_zifs = zc->ifname[0] && !vpn_zifs_add(&zifs, zc);
	zc->track = cfg->track;
	zc->remote = cfg->remote;
	zc->has_local = cfg->has_local;
	zc->local = cfg->local;
	XFREE(MTYPE_VPN_ZROUTE, zc->routes);
	zc->nroutes = cfg->nroutes;
	if (cfg->nroutes) {
		zc->routes = XCALLOC(MTYPE_VPN_ZROUTE,
				     cfg->nroutes * sizeof(*zc->routes));
		memcpy(zc->routes, cfg->routes,
		       cfg->nroutes * sizeof(*zc->routes));
	}
	nht_sync(zc);
	routes_mark(zc);
}

void vpn_zebra_conn_set_carrier(struct vpn_zconn *zc, bool up)
{
	zc->carrier = up;
	nht_sync(zc);
	routes_mark(zc);
}

bool vpn_zebra_conn_underlay_lost(const struct vpn_zconn *zc)
{
	return zc && zc->under && zc->under->state == VPN_UNDERLAY_UNREACHABLE;
}

void vpn_zebra_conn_set_ts(struct vpn_zconn *zc, const struct prefix *ts,
			   unsigned int n)
{
	zc->nts = 0;
	for (unsigned int i = 0; i < n && zc->nts < VPN_ZR_TS_MAX; i++)
		if (ts[i].prefixlen != 0) /* any: routing decides, not IKE */
			zc->ts[zc->nts++] = ts[i];
}

/* ------------------------------------------------------------------ */
/* Operational state                                                   */
/* ------------------------------------------------------------------ */

const char *vpn_underlay_state_str(enum vpn_underlay_state u)
{
	static const char *const names[] = {
		[VPN_UNDERLAY_UNKNOWN] = "unknown",
		[VPN_UNDERLAY_REACHABLE] = "reachable",
		[VPN_UNDERLAY_UNREACHABLE] = "unreachable",
	};

	return (size_t)u < array_size(names) ? names[u] : "unknown";
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

void vpn_zebra_conn_get_underlay(const struct vpn_zconn *zc,
				 struct vpn_underlay_oper *o)
{
	const struct zunder *u = zc ? zc->under : NULL;

	memset(o, 0, sizeof(*o));
	if (!u)
		return;
	o->state = u->state;
	o->pinned = u->pinned;
	o->nnh = u->nnh;
	for (unsigned int i = 0; i < u->nnh; i++)
		nh_str(&u->nh[i], o->nh[i], sizeof(o->nh[i]));
}

unsigned int vpn_zebra_conn_nroutes_max(const struct vpn_zconn *zc)
{
	return zc ? zc->nroutes + zc->nts : 0;
}

unsigned int vpn_zebra_conn_get_routes(const struct vpn_zconn *zc,
				       struct vpn_route_oper *out,
				       unsigned int max)
{
	unsigned int n;
	struct zr_route *want;

	if (!zc || !max)
		return 0;
	want = XCALLOC(MTYPE_TMP, max * sizeof(*want));
	n = routes_wanted(zc, want, max);
	for (unsigned int i = 0; i < n; i++) {
		out[i].p = want[i].p;
		out[i].src = want[i].src;
		out[i].installed = zr_has(zc->inst, zc->ninst, &want[i].p);
	}
	XFREE(MTYPE_TMP, want);
	return n;
}

/* ------------------------------------------------------------------ */
/* Interfaces and addresses                                            */
/* ------------------------------------------------------------------ */

static void conns_on_ifp(struct interface *ifp)
{
	struct vpn_zconn *zc = zconn_of_ifp(ifp);

	if (zc)
		routes_mark(zc);
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
	struct zunder *u;

	frr_each (vpn_unders, &unders, u) {
		bool uses = false;

		if (!u->pinned)
			continue;
		for (unsigned int i = 0; i < u->npin; i++)
			if (u->pin[i].ifindex == ifp->ifindex)
				uses = true;
		if (!uses)
			continue;
		zlog_info("underlay interface %s down: route %pFX unpinned",
			  ifp->name, &u->p);
		pin_remove(u);
	}
}

static int vpn_ifp_down(struct interface *ifp)
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
	struct vpn_zconn *zc;

	ifc = zebra_interface_address_read(cmd, zclient->ibuf, vrf_id);
	if (!ifc)
		return 0;
	if (cmd != ZEBRA_INTERFACE_ADDRESS_ADD) {
		connected_free(&ifc);
		return 0;
	}
	frr_each_safe (vpn_zconns, &zconns, zc)
		if (zc->has_local && addr_is(ifc->address, &zc->local) &&
		    zevents.local_address_up)
			zevents.local_address_up(zc->owner);
	return 0;
}

/* ------------------------------------------------------------------ */
/* zclient                                                             */
/* ------------------------------------------------------------------ */

static void vpn_zebra_connected(struct zclient *zc)
{
	struct vpn_zconn *c;
	struct zunder *u;

	zlog_info("connected to zebra");
	zclient_send_reg_requests(zc, VRF_DEFAULT);
	/* A (re)connected zebra has none of our state: send it again. */
	frr_each (vpn_unders, &unders, u) {
		u->registered = false;
		u->pinned = false;
		u->npin = 0;
	}
	frr_each (vpn_zconns, &zconns, c) {
		c->ninst = 0;
		nht_sync(c);
		routes_sync(c);
	}
}

static zclient_handler *const vpn_handlers[] = {
	[ZEBRA_NEXTHOP_UPDATE] = nht_update,
	[ZEBRA_INTERFACE_ADDRESS_ADD] = vpn_if_addr,
	[ZEBRA_INTERFACE_ADDRESS_DELETE] = vpn_if_addr,
};

void vpn_zebra_init(struct thread_master *master,
		    const struct vpn_zebra_events *events)
{
	zevents = *events;
	zmaster = master;
	vpn_zconns_init(&zconns);
	vpn_zifs_init(&zifs);
	vpn_zdirty_init(&zdirty);
	vpn_unders_init(&unders);
	if_zapi_callbacks(vpn_ifp_create, vpn_ifp_up, vpn_ifp_down,
			  vpn_ifp_down);
	zclient = zclient_new(master, &zclient_options_default, vpn_handlers,
			      array_size(vpn_handlers));
	zclient->zebra_connected = vpn_zebra_connected;
	zclient_init(zclient, ZEBRA_ROUTE_NHRP, 0, &vpnd_privs);
}

void vpn_zebra_stop(void)
{
	thread_cancel(&t_routes);
	if (!zclient)
		return;
	zclient_stop(zclient);
	zclient_free(zclient);
	zclient = NULL;
}
