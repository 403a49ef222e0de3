/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the zebra client (see vpnd_zebra.c). It keeps one struct
 * vpn_zconn per connection, made and configured by the connection
 * manager; what zebra tells about a connection (its underlay path came or
 * went, its local-address appeared) goes back up through the struct
 * vpn_zebra_events registered at init, with the owner pointer given to
 * vpn_zebra_conn_new(). It reads no other module's structures.
 */
#ifndef VPND_ZEBRA_H
#define VPND_ZEBRA_H

#include "thread.h"
#include "ipaddr.h"
#include "prefix.h"

struct vpn_zconn;

/* Remote traffic selectors kept per connection for routes. */
#define VPN_ZR_TS_MAX 16
/* Underlay nexthops kept per connection. */
#define VPN_ZR_MAX_NH 8

struct vpn_zebra_events {
	/* The underlay path to the remote-address was lost (reachable
	 * false), appeared, or changed (reachable; known_before: it was
	 * tracked already). */
	void (*underlay_changed)(void *owner, bool reachable,
				 bool known_before);
	/* The connection's local-address appeared on an interface. */
	void (*local_address_up)(void *owner);
};

void vpn_zebra_init(struct thread_master *master,
		    const struct vpn_zebra_events *events);
void vpn_zebra_stop(void);

/* What zebra needs of a connection's configuration; copied. */
struct vpn_zconn_config {
	const char *ifname;	  /* "" when none */
	bool track;		  /* track remote (has one, not shut down) */
	struct ipaddr remote;
	bool has_local;
	struct ipaddr local;
	const struct prefix *routes; /* 'route' prefixes */
	unsigned int nroutes;
};

struct vpn_zconn *vpn_zebra_conn_new(void *owner, const char *name);
/* Withdraw everything of the connection and free it. */
void vpn_zebra_conn_free(struct vpn_zconn *zc);
void vpn_zebra_conn_config(struct vpn_zconn *zc,
			   const struct vpn_zconn_config *cfg);
/* Routes are installed while the carrier is up. */
void vpn_zebra_conn_set_carrier(struct vpn_zconn *zc, bool up);
/* The remote traffic selectors of the newest Child SA (any: ignored). */
void vpn_zebra_conn_set_ts(struct vpn_zconn *zc, const struct prefix *ts,
			   unsigned int n);
/* zebra says no underlay route reaches the remote-address. */
bool vpn_zebra_conn_underlay_lost(const struct vpn_zconn *zc);

/* Operational state (vpnd_state.c). */
enum vpn_underlay_state {
	VPN_UNDERLAY_UNKNOWN, /* not tracked yet / zebra not connected */
	VPN_UNDERLAY_REACHABLE,
	VPN_UNDERLAY_UNREACHABLE,
};

struct vpn_underlay_oper {
	enum vpn_underlay_state state;
	unsigned int nnh;
	char nh[VPN_ZR_MAX_NH][64]; /* "192.0.2.2 dev eth0" */
	bool pinned;
};

enum vpn_route_source {
	VPN_ROUTE_SRC_ROUTE, /* 'route' statement */
	VPN_ROUTE_SRC_TS,    /* negotiated remote traffic selector */
};

struct vpn_route_oper {
	struct prefix p;
	enum vpn_route_source src;
	bool installed;
};

void vpn_zebra_conn_get_underlay(const struct vpn_zconn *zc,
				 struct vpn_underlay_oper *o);
/* The routes the connection wants (installed or not); returns how many
 * were written, at most max. */
unsigned int vpn_zebra_conn_get_routes(const struct vpn_zconn *zc,
				       struct vpn_route_oper *out,
				       unsigned int max);
/* How many routes it wants (to size the array above). */
unsigned int vpn_zebra_conn_nroutes_max(const struct vpn_zconn *zc);

const char *vpn_underlay_state_str(enum vpn_underlay_state u);

#endif /* VPND_ZEBRA_H */
