/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the connection manager. It owns the runtime state of every
 * configured connection (struct vpn_conn_rt, reached through conn->rt)
 * and its lifecycle: build the engine's view from the configuration,
 * create and free the tunnel interface, initiate and retry with backoff,
 * the simultaneous-start tie-break, carrier, the zebra state (nexthop
 * tracking, routes), clear and delete.
 *
 * Above it: vpnd.c (configuration changes), the CLI (clear) and the state
 * readers (vpnd_state.c). Below it, each told what to do and reporting
 * back only through the callbacks registered here at init: the IKE host
 * (vpnd_ike.c), the tunnel datapath (vpnd_tunnel.h) and the zebra client
 * (vpnd_zebra.c).
 */
#ifndef VPND_CONN_H
#define VPND_CONN_H

#include "thread.h"

#include "ike/ike.h"
#include "vpnd.h"

struct vpn_policy;
struct vpn_tunnel;
struct vpn_zconn;

void vpn_conn_init(struct thread_master *master);
void vpn_conn_terminate(void);

/*
 * The connection's configuration changed (or it is new). ike/esp: its
 * resolved policies; NULL when it cannot negotiate (conn->state is then
 * shutdown or incomplete).
 */
void vpn_conn_update(struct vpn_connection *conn, const struct vpn_policy *ike,
		     const struct vpn_policy *esp);
/* The connection is being deleted: everything of it goes. */
void vpn_conn_delete(struct vpn_connection *conn);
/* 'clear vpn connection NAME': drop its SAs and start again. */
void vpn_conn_clear(struct vpn_connection *conn);
/* The IKE engine's defences against unauthenticated load (vpn/ike). */
void vpn_conn_set_dos(const struct ike_dos_config *cfg);

/* State readers (vpnd_state.c). */
struct vpn_conn_oper {
	enum vpn_conn_state state; /* shutdown and incomplete from conn */
	const char *last_error;	   /* "" when none */
	bool carrier;		   /* the tunnel interface's carrier */
};
void vpn_conn_get_oper(const struct vpn_connection *conn,
		       struct vpn_conn_oper *o);
/* The connection's tunnel and zebra state (NULL when none). */
struct vpn_tunnel *vpn_conn_tunnel(const struct vpn_connection *conn);
struct vpn_zconn *vpn_conn_zebra(const struct vpn_connection *conn);
/* Its IKE SAs. */
void vpn_conn_foreach_sa(const struct vpn_connection *conn, ike_sa_iter_cb cb,
			 void *arg);

#endif /* VPND_CONN_H */
