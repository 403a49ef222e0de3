/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the IKE engine's host. It holds the one struct ike_engine of the
 * daemon and gives it what ike_ops asks for: sends through the UDP layer
 * (vpnd_udp.h), the clock, the 100 ms tick, log lines through zlog. It
 * is the UDP layer's IKE receiver.
 *
 * It knows nothing of configuration: the engine's questions and events
 * (which connection is this datagram for, a Child SA is up or down, an
 * IKE SA ended, a new SPI is needed) go up to the connection manager
 * through the struct vpn_ike_events it registers at init. Calls go down
 * only: to vpnd_udp and the engine.
 */
#ifndef VPND_IKE_HOST_H
#define VPND_IKE_HOST_H

#include "thread.h"

#include "ike/ike.h"

/* Upward: the connection manager's side of ike_ops (vpnd_conn.c). */
struct vpn_ike_events {
	uint32_t (*alloc_spi)(void);
	struct ike_conn *(*find_conn)(const struct ike_addr *local,
				      const struct ike_addr *remote);
	void (*child_up)(struct ike_sa *sa, const struct ike_child_info *ci);
	void (*child_down)(struct ike_sa *sa, uint32_t spi_in);
	void (*sa_event)(struct ike_sa *sa, const char *reason);
};

void vpn_ike_init(struct thread_master *master,
		  const struct vpn_ike_events *events);
void vpn_ike_terminate(void);

/* The engine's operations on one connection's IKE SAs. */
void vpn_ike_initiate(struct ike_conn *ic);
/* Delete its IKE SAs (DELETE sent unless silent). */
void vpn_ike_conn_down(struct ike_conn *ic, bool silent);
/* A liveness check now (the underlay path changed). */
void vpn_ike_conn_probe(struct ike_conn *ic);
/* ic is going away: the engine forgets it without sending anything. */
void vpn_ike_conn_forget(struct ike_conn *ic);
/* Has ic an IKE SA of its own: one we initiated, or one the peer has
 * authenticated (a half-open responder SA, made by one unauthenticated
 * datagram, is not)? */
bool vpn_ike_conn_has_sa(struct ike_conn *ic);
/* Rekey the Child SA with this inbound SPI (volume lifetime). */
void vpn_ike_rekey_child(uint32_t spi_in);

/* Every IKE SA of ic (NULL: of every connection), for state readers. */
void vpn_ike_foreach_sa(struct ike_conn *ic, ike_sa_iter_cb cb, void *arg);

/* The engine's defences against unauthenticated load (it starts with the
 * defaults and applies a change to the next datagram), and, for the state
 * readers, what is in force and its statistics. */
void vpn_ike_set_dos(const struct ike_dos_config *cfg);
void vpn_ike_get_dos(struct ike_dos_config *cfg);
void vpn_ike_get_stats(struct ike_stats *st);

#endif /* VPND_IKE_HOST_H */
