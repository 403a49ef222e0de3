/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: tunnel interfaces and their ESP datapath. One TUN device per
 * connection, created when the connection names an interface and kept
 * (carrier down) while no Child SA is installed. Packets are carried by
 * the datapath worker threads (vpnd_dp.h); every function declared here
 * is for the main thread.
 *
 * The files behind this header, one job each:
 *   vpnd_tunnel.c     the TUN device and the tunnel object (create, free,
 *                     carrier, MTU), operational state for show
 *   vpnd_tunnel_sa.c  Child SAs: the SPI table, building and publishing
 *                     the immutable per-tunnel state the workers read,
 *                     the tunnel's connected socket following the peer
 *   vpnd_tunnel_tx.c  send path (TX worker): TUN read, ESP encap, sendmmsg
 *                     with UDP GSO
 *   vpnd_tunnel_rx.c  receive path (RX worker): recvmmsg with UDP GRO, ESP
 *                     decap, inbound selector check (esp/policy.h), TUN
 *                     write; ESP handed over from the shared socket
 *
 * Inside the module, vpnd_tunnel.c is on top (it alone is called from
 * outside, but for child_down and alloc_spi), the TX and RX files call
 * vpnd_tunnel_sa.c, and vpnd_tunnel_sa.c calls none of them: the RX
 * handler it installs on a tunnel's socket is given to it at init.
 * Calls go down only: to vpnd_dp (workers), vpnd_udp (sockets), the ESP
 * engine. What must go up (a Child SA wants a rekey) goes through the
 * callback given to vpn_tunnel_init().
 */
#ifndef VPND_TUNNEL_H
#define VPND_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "thread.h"

#include "ike/ike.h"

struct vpn_tunnel;

/* At most this many Child SAs per tunnel (make-before-break needs 2). */
#define VPN_TUNNEL_MAX_SA 4

/* Upward: a Child SA reached 90% of its volume lifetime, or its
 * sequence numbers run low. Main thread. */
typedef void (*vpn_tunnel_rekey_fn)(uint32_t spi_in);

void vpn_tunnel_init(struct thread_master *master, vpn_tunnel_rekey_fn rekey);
/* Shutdown in two steps: after _begin, freed tunnels keep their
 * interface until vpn_tunnel_terminate() deletes them all at once. */
void vpn_tunnel_terminate_begin(void);
void vpn_tunnel_terminate(void);

/* conn_name: for log lines only; mtu: the interface's first MTU
 * (vpn_tunnel_expected_mtu). NULL when the device cannot be made
 * (logged). */
struct vpn_tunnel *vpn_tunnel_new(const char *conn_name, const char *ifname,
				  int mtu);
/* The MTU a Child SA negotiated from `esp` (the first proposal's first
 * algorithms, the most preferred) would give, over an outer IP of
 * `family`: set at creation, so that the usual first Child SA changes
 * nothing (each MTU change is an interface event for zebra and its
 * clients, and a walk of the kernel's IPv6 routes). 1400 without one. */
int vpn_tunnel_expected_mtu(int family, const struct vpn_proposal *esp,
			    unsigned int nesp);
void vpn_tunnel_free(struct vpn_tunnel *t);
const char *vpn_tunnel_ifname(const struct vpn_tunnel *t);

/* Carrier: the connection manager decides (a Child SA installed and the
 * underlay reachable). */
void vpn_tunnel_set_carrier(struct vpn_tunnel *t, bool up);

/* Install / remove a Child SA's ESP SAs. The newest installed SA carries
 * outbound traffic; every installed SA accepts inbound traffic. */
int vpn_tunnel_child_up(struct vpn_tunnel *t, const struct ike_child_info *ci);
int vpn_tunnel_child_down(struct vpn_tunnel *t, uint32_t spi_in);

/* An inbound SPI not in use by any SA (never 0..255). */
uint32_t vpn_tunnel_alloc_spi(void);

/* Operational state, read from the tunnel's structs (vpnd_state.c). */
struct vpn_tunnel_oper {
	const char *ifname;
	bool carrier;
	uint64_t drop_no_sa;	 /* TX: outbound packet while no Child SA */
	uint64_t drop_tun_write; /* RX: the TUN device refused a packet */
	uint64_t drop_tun_read;	 /* TX: a TUN packet that could not be cut */
	uint64_t tso_reads;	 /* TX: TUN reads cut into several packets */
	uint64_t gro_writes;	 /* RX: TUN writes of several packets merged */
	uint64_t drop_handoff;	 /* hand-off ring from the shared socket full */
	uint64_t drop_unknown_spi; /* all tunnels: ESP with an unknown SPI */
	unsigned int tx_worker, rx_worker;
	bool vnet;		/* TUN with virtio_net_hdr */
	unsigned int offloads;	/* TUN_F_* the kernel took */
	bool has_esp; /* the ESP endpoints below are known */
	struct ike_addr esp_local, esp_remote;
	bool esp_own_socket; /* false: through the shared socket */
};

struct vpn_child_oper {
	uint32_t spi_in, spi_out;
	bool active; /* carries outbound traffic */
	uint16_t encr, encr_keybits, integ;
	bool esn;
	uint64_t age_s;
	uint64_t lifetime_s_left;
	uint64_t lifetime_bytes;      /* 0: no volume limit */
	uint64_t lifetime_bytes_left;
	uint64_t packets_in, bytes_in, packets_out, bytes_out;
	uint64_t drop_replay, drop_integrity, drop_malformed, drop_policy,
		drop_other;
};

/* The TUN offloads in use, as show prints them: "csum tso4 tso6 uso4
 * uso6", fewer where the kernel refused some, "none" without. Main
 * thread (a static buffer). */
const char *vpn_tunnel_offloads_str(const struct vpn_tunnel_oper *o);

void vpn_tunnel_get_oper(const struct vpn_tunnel *t,
			 struct vpn_tunnel_oper *o);
/* The tunnel's installed Child SAs, oldest slot first; returns how many
 * were written (at most max). */
unsigned int vpn_tunnel_get_children(const struct vpn_tunnel *t,
				     struct vpn_child_oper *out,
				     unsigned int max);

#endif /* VPND_TUNNEL_H */
