/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: tunnel interfaces and the ESP datapath between them and the UDP
 * sockets: one TUN device per connection, created when the connection
 * names an interface and kept (carrier down) while no Child SA is
 * installed. Packets are carried by the datapath worker threads
 * (vpnd_dp.h); every function here is for the main thread.
 */
#ifndef VPND_TUNNEL_H
#define VPND_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "vty.h"

#include "ike/ike.h"

struct vpn_connection;
struct vpn_tunnel;

/* At most this many Child SAs per tunnel (make-before-break needs 2). */
#define VPN_TUNNEL_MAX_SA 4

void vpn_tunnel_init(struct thread_master *master);
void vpn_tunnel_terminate(void);

struct vpn_tunnel *vpn_tunnel_new(struct vpn_connection *conn,
				  const char *ifname);
void vpn_tunnel_free(struct vpn_tunnel *t);
const char *vpn_tunnel_ifname(const struct vpn_tunnel *t);

/* Carrier follows "a Child SA is installed". */
void vpn_tunnel_set_carrier(struct vpn_tunnel *t, bool up);

/* Install / remove a Child SA's ESP SAs. The newest installed SA carries
 * outbound traffic; every installed SA accepts inbound traffic. */
int vpn_tunnel_child_up(struct vpn_tunnel *t, const struct ike_child_info *ci);
int vpn_tunnel_child_down(struct vpn_tunnel *t, uint32_t spi_in);

/* An inbound SPI not in use by any SA. */
uint32_t vpn_tunnel_alloc_spi(void);

/* ESP in UDP arrived on the shared port 4500 socket: handed to the RX
 * worker of the tunnel that owns the SPI (or counted as unknown). */
void vpn_esp_input(const struct ike_addr *local, const struct ike_addr *remote,
		   uint8_t *buf, size_t len);

/* Counters and SAs for show commands (json: add to j). */
/* Counters and SAs for show commands (json: add to j); with `keep`, only
 * the SAs whose inbound SPI it accepts (those of one IKE SA). */
void vpn_tunnel_show(struct vty *vty, json_object *j, struct vpn_tunnel *t,
		     bool (*keep)(uint32_t spi_in, const void *arg),
		     const void *arg);

#endif /* VPND_TUNNEL_H */
