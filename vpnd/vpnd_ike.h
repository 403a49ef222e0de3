/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the FRR side of IKE: UDP sockets on ports 500 and 4500, timers,
 * and the link between configured connections and the IKE engine.
 */
#ifndef VPND_IKE_GLUE_H
#define VPND_IKE_GLUE_H

#include "thread.h"
#include "json.h"
#include "vty.h"

#include "ike/ike.h"

struct vpn_connection;
struct vpn_tunnel;

/* Runtime state of one configured connection. */
struct vpn_conn_rt {
	struct vpn_connection *conn;
	struct ike_conn ike;
	bool ike_ready;		/* ike is complete and usable */
	char cfg_digest[32];	/* changes force a new IKE SA */
	struct vpn_tunnel *tun; /* TUN interface and its ESP SAs */
	bool carrier;		/* tunnel carrier (routes follow it) */
	struct vpn_zroute *zr;	/* zebra state (vpnd_zebra.c) */
	struct thread *t_retry;
	unsigned int retry_s;	/* next retry delay */
	unsigned int nchildren; /* installed Child SAs */
	char last_error[160];	/* last failure, for show */
};

void vpn_ike_init(struct thread_master *master);
void vpn_ike_terminate(void);

/* The connection's configuration changed (or it was just created). */
void vpn_ike_conn_update(struct vpn_connection *conn);
/* The connection is being deleted. */
void vpn_ike_conn_delete(struct vpn_connection *conn);
/* zebra: the underlay path to the remote-address was lost (reachable
 * false), appeared, or changed (reachable, known_before). */
void vpn_ike_underlay_changed(struct vpn_connection *conn, bool reachable,
			      bool known_before);
/* zebra: the connection's local-address appeared on an interface. */
void vpn_ike_local_address_up(struct vpn_connection *conn);
/* 'clear vpn connection NAME': drop its SAs and start again. */
void vpn_ike_conn_clear(struct vpn_connection *conn);

/* An IKE datagram (non-ESP marker removed) received on another socket
 * than the shared ones (a tunnel's); main thread only. */
void vpn_ike_input(const struct ike_addr *local, const struct ike_addr *remote,
		   uint8_t *buf, size_t len);

/* A Child SA reached its volume lifetime: rekey it. */
void vpn_ike_rekey_child(uint32_t spi_in);

/* 'show vpn sa [json]'. */
void vpn_ike_show_sa(struct vty *vty, json_object *json);
/* IKE details for 'show vpn connection'. */
void vpn_ike_show_conn(struct vty *vty, json_object *j,
		       struct vpn_connection *conn);

#endif /* VPND_IKE_GLUE_H */
