/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: everything that talks to zebra (see vpnd_zebra.c).
 */
#ifndef VPND_ZEBRA_H
#define VPND_ZEBRA_H

#include "thread.h"
#include "json.h"
#include "prefix.h"
#include "vty.h"

struct vpn_connection;

/* Remote traffic selectors kept per connection for routes. */
#define VPN_ZR_TS_MAX 16

void vpn_zebra_init(struct thread_master *master);
void vpn_zebra_stop(void);

/* Bring zebra in line with the connection: nexthop tracking of its
 * remote-address, and its routes (installed while rt->carrier is up). */
void vpn_zebra_conn_update(struct vpn_connection *conn);
/* Withdraw everything of the connection (it is going away). */
void vpn_zebra_conn_delete(struct vpn_connection *conn);
/* The remote traffic selectors of the newest Child SA (any: ignored). */
void vpn_zebra_set_ts(struct vpn_connection *conn, const struct prefix *ts,
		      unsigned int n);
/* zebra says no underlay route reaches the remote-address. */
bool vpn_zebra_underlay_lost(struct vpn_connection *conn);
/* Underlay and routes for 'show vpn connection' (json: add to j). */
void vpn_zebra_show_conn(struct vty *vty, json_object *j,
			 struct vpn_connection *conn);

#endif /* VPND_ZEBRA_H */
