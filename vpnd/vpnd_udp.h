/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the UDP socket layer. One shared socket per port (500, 4500) and
 * family, read on the main thread and dispatched by content: IKE (port
 * 500, or behind the non-ESP marker on 4500) to the IKE receiver, ESP in
 * UDP to the ESP receiver, NAT keepalives dropped. Also the sends that go
 * through those sockets, and the per-tunnel connected sockets opened
 * beside them.
 *
 * The receivers are registered from above (vpnd_ike.c registers IKE,
 * vpnd_tunnel.c registers ESP); this file calls nothing of the daemon but
 * vpnd_util.
 */
#ifndef VPND_UDP_H
#define VPND_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "thread.h"

#include "ike/ike.h"

#define VPN_UDP_BATCH 64

/* A received datagram (non-ESP marker removed for IKE). Main thread. */
typedef void (*vpn_udp_rx_fn)(const struct ike_addr *local,
			      const struct ike_addr *remote, uint8_t *buf,
			      size_t len);

void vpn_udp_init(struct thread_master *master);
void vpn_udp_terminate(void);

/* Where IKE messages and ESP packets go (NULL: dropped). */
void vpn_udp_set_ike_receiver(vpn_udp_rx_fn fn);
void vpn_udp_set_esp_receiver(vpn_udp_rx_fn fn);

/* An IKE message (non-ESP marker removed) that arrived on another socket
 * (a tunnel's): handed to the IKE receiver. Main thread. */
void vpn_udp_ike_input(const struct ike_addr *local,
		       const struct ike_addr *remote, uint8_t *buf,
		       size_t len);

/* Send a datagram from local to remote (ports included) on the shared
 * socket of local's port; with `marker` the 4-byte non-ESP marker is
 * prepended (IKE on port 4500). Any thread. */
int vpn_udp_send(const struct ike_addr *local, const struct ike_addr *remote,
		 const uint8_t *buf, size_t len, bool marker);

/* Send n datagrams (one iovec each) with one sendmmsg() on the shared
 * socket. Any thread. */
int vpn_udp_send_batch(const struct ike_addr *local,
		       const struct ike_addr *remote, struct iovec *pkts,
		       unsigned int n);

/* A UDP socket bound to local and connected to remote (ports included),
 * beside the shared socket of local's port; -1 on failure (logged). */
int vpn_udp_open_connected(const struct ike_addr *local,
			   const struct ike_addr *remote);

/* The source address the kernel would use towards remote. */
int vpn_udp_source_for(const struct ike_addr *remote, struct ike_addr *local);

#endif /* VPND_UDP_H */
