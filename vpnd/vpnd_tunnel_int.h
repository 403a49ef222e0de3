/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: what the tunnel files (vpnd_tunnel.c, vpnd_tunnel_sa.c,
 * vpnd_tunnel_tx.c, vpnd_tunnel_rx.c) share, and nothing else includes.
 *
 * Each tunnel has a TUN device and, once a Child SA names its endpoints,
 * its own UDP socket bound to local:4500 and connected to the peer
 * (SO_REUSEADDR/SO_REUSEPORT beside the shared 4500 socket): the kernel
 * hands that peer's datagrams straight to it. Packet work runs on the
 * datapath workers (vpnd_dp.c), never on the main thread:
 *
 *   TX worker  TUN read (batches of 64; with TUN offloads a read is a
 *              packet of up to 64 KiB, cut into segments, esp/gso.h) ->
 *              esp_encap in place -> one sendmmsg() on the tunnel's
 *              socket, runs of equal-size packets as one UDP GSO
 *              datagram each                            (vpnd_tunnel_tx.c)
 *   RX worker  recvmmsg() on the tunnel's socket (UDP GRO) -> SPI among
 *              the tunnel's SAs -> esp_decap in place -> traffic
 *              selector check -> TUN write; with TUN offloads, a batch's
 *              TCP segments of a flow merged into one write first
 *                                                       (vpnd_tunnel_rx.c)
 *
 * A tunnel's TX and RX may run on different workers (vpn_tunnel_new()
 * says which); one esp_sa is used by one of them only (outbound SA: TX,
 * inbound SA: RX), as esp.h requires.
 *
 * What arrives elsewhere reaches the same RX worker: ESP on the shared
 * socket (main thread: looked up by SPI, copied into the tunnel's
 * hand-off ring), and the tunnel's socket gives IKE messages, and ESP
 * with another tunnel's SPI, to the main thread. Authenticated ESP from a
 * new address or port (NAT) makes the main thread reconnect the tunnel's
 * socket.
 *
 * Who writes what:
 *   main thread  everything at creation; struct vpn_tunnel's view (sa[],
 *                out, sock, handoff, carrier); the SPI table; building
 *                and publishing tun_state (one atomic exchange, then
 *                vpn_dp_sync() before anything left out is freed: QSBR);
 *                the hand-off ring's head; drop_handoff
 *   TX worker    vpn_tsa.tx_*, tun_sock.no_gso, vpn_tunnel.drop_no_sa,
 *                drop_tun_read, tso_reads
 *   RX worker    vpn_tsa.rx_*, vpn_tsa.rx_top, the hand-off ring's tail,
 *                vpn_tunnel.drop_tun_write, gro_writes, moved_to,
 *                moved_from
 *   any thread   vpn_tsa.rekey_asked (exchange), tun_drop_unknown_spi
 *                (fetch-add)
 * Counters (ctr_t) have one writer each and are read by the main thread
 * for show. No allocation and no lock per packet: buffers are the
 * workers' scratch memory.
 *
 * What the workers need from the main thread (IKE on a tunnel's socket,
 * ESP for another tunnel, a rekey, the peer moved) is posted with
 * vpn_dp_post() to the targets below, which run on the main thread.
 */
#ifndef VPND_TUNNEL_INT_H
#define VPND_TUNNEL_INT_H

#include <net/if.h>
#include <stdatomic.h>

#include "memory.h"
#include "typesafe.h"

#include "vpnd_dp.h"
#include "vpnd_tunnel.h"
#include "vpnd_util.h"
#include "esp/esp.h"
#include "esp/policy.h"

DECLARE_MTYPE(VPN_TUN_STATE); /* tun_state, tun_sock, handoff */

#define TUN_BATCH VPN_DP_BATCH
#define TUN_ROUNDS 4   /* batches per wake-up, then back to epoll */
#define PKT_MAX VPN_DP_PKT /* inner MTU is below 1500; room for ESP */
/* The hand-off ring carries ESP that came through the shared socket: in
 * practice only the first packets of a tunnel, queued there before its
 * own socket existed. It is made on first use and lives as long as the
 * tunnel: 8 slots (17 KiB) rather than 32 (66 KiB, most of a tunnel's
 * memory at 1000 tunnels); a burst past them is counted (drop_handoff). */
#define HANDOFF_SLOTS 8

/* Outbound packets are read at a fixed offset that leaves room for the
 * ESP header and IV in front, and encapsulated in place. */
#define TUN_HEADROOM 32

/* Sequence numbers left below which the SA is rekeyed (without ESN, 2^32
 * packets can run out before the time lifetime at high rates). */
#define SEQ_REKEY_MARGIN (1ULL << 24)

typedef atomic_uint_fast64_t ctr_t;

/* A counter with one writer: no read-modify-write instruction needed. */
static inline void ctr_add(ctr_t *c, uint64_t v)
{
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline uint64_t ctr_get(const ctr_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

PREDECL_HASH(vpn_spis);

/* One installed Child SA of a tunnel: its two ESP SAs. Written by the
 * main thread before it is published, then only the counters change. */
struct vpn_tsa {
	struct vpn_spis_item item; /* main thread's SPI table */
	struct vpn_tunnel *tun;
	uint32_t spi_in, spi_out;
	struct esp_sa *in;  /* used by the tunnel's RX worker only */
	struct esp_sa *out; /* used by the tunnel's TX worker only */
	uint64_t installed_ms;
	uint16_t encr, keybits, integ;
	bool esn;
	uint32_t lifetime_s;
	uint64_t lifetime_bytes;

	/* Inbound policy (RFC 4301 5.2): the negotiated selectors. */
	struct esp_policy policy;

	/* Counters. rx_*: the RX worker writes them; tx_*: the TX worker. */
	ctr_t rx_packets, rx_bytes, rx_drop[ESP_STATUS_MAX], rx_drop_policy;
	ctr_t tx_packets, tx_bytes, tx_drop[ESP_STATUS_MAX];
	atomic_bool rekey_asked; /* volume or sequence numbers: once */
	/* Installed as the responder of a rekey: receives, but does not
	 * send until the peer shows it has it (its first authenticated
	 * packet: the RX worker clears this and posts tun_sa_promote), the
	 * old SA goes, or TUN_STANDBY_MS pass. */
	atomic_bool standby;
	/* Main thread: deleted (its IKE SA said so) while another SA of the
	 * tunnel goes on; it still takes what was already on its way, until
	 * this time (TUN_GRACE_MS), and sends nothing. 0: not dying. */
	uint64_t dying_until_ms;
	uint64_t rx_top; /* RX worker only: highest sequence number */
};

/* The tunnel's UDP socket, connected to the peer. fd -1: none could be
 * made; packets go out through the shared socket. Made by the main
 * thread, read by the RX worker (ep, on rxw) and the TX worker. */
struct tun_sock {
	struct vpn_dp_ep ep;
	struct vpn_tunnel *tun;
	int fd;
	struct ike_addr local, remote;
	bool no_gso; /* TX worker only: UDP GSO refused, do without */
};

/* What the workers see of a tunnel; never changed once published. */
struct tun_state {
	unsigned int nsa;
	struct vpn_tsa *sa[VPN_TUNNEL_MAX_SA];
	struct vpn_tsa *out; /* newest: carries outbound traffic */
	struct tun_sock *sock;
};

/* ESP for this tunnel that arrived on the shared socket (main thread,
 * the only producer) for the RX worker (the only consumer). */
struct handoff {
	struct vpn_dp_ep ep;
	struct vpn_tunnel *tun;
	int efd;
	atomic_uint head; /* written by the main thread */
	atomic_uint tail; /* written by the RX worker */
	struct {
		struct ike_addr local, remote;
		uint16_t len;
		uint8_t data[PKT_MAX];
	} slot[HANDOFF_SLOTS];
};

struct vpn_tunnel {
	char ifname[IFNAMSIZ];
	unsigned int ifindex; /* 0: unknown */
	int fd;
	int mtu; /* as last set */
	bool carrier;
	/* TUN with IFF_VNET_HDR: every read and write carries a
	 * virtio_net_hdr, and the kernel hands over TCP (and UDP) packets of
	 * up to 64 KiB that the TX worker cuts (esp/gso.h). Set at creation,
	 * read by the workers. */
	bool vnet;
	unsigned int offloads; /* TUN_F_* the kernel took */
	struct vpn_dp_worker *txw, *rxw;
	struct vpn_dp_ep tun_ep; /* TUN readable, on txw */

	_Atomic(struct tun_state *) state; /* published for the workers */

	/* The main thread's view. */
	struct vpn_tsa *sa[VPN_TUNNEL_MAX_SA];
	struct vpn_tsa *out;
	struct tun_sock *sock;
	struct handoff *handoff; /* made on first use */
	struct thread *t_standby; /* a standby SA's deadline */
	struct thread *t_grace;	  /* dying SAs' end */

	/* Drops that belong to no SA. */
	ctr_t drop_no_sa;	/* TX: outbound packet while no Child SA */
	ctr_t drop_tun_write;	/* RX: the TUN device refused the packet */
	ctr_t drop_tun_read;	/* TX: a TUN packet that could not be cut */
	ctr_t tso_reads;	/* TX: TUN reads cut into several packets */
	ctr_t gro_writes;	/* RX: TUN writes of several packets merged */
	ctr_t drop_handoff;	/* main: hand-off ring full */

	/* RX worker only: the move last reported, and the socket it was
	 * reported against (not again until the socket changes). */
	struct ike_addr moved_to;
	const struct tun_sock *moved_from;
};

/* Workers: the tunnel's state as published (NULL: none yet, or being
 * freed). Valid until the handler returns. */
static inline struct tun_state *tun_state_get(struct vpn_tunnel *t)
{
	return atomic_load_explicit(&t->state, memory_order_acquire);
}

/* ESP with an SPI of no tunnel; any thread. */
extern atomic_uint_fast64_t tun_drop_unknown_spi;

/* vpnd_tunnel_sa.c (main thread, but tsa_check_volume: workers) */
void tun_sa_init(struct thread_master *master, vpn_tunnel_rekey_fn rekey,
		 void (*rx)(struct vpn_dp_ep *ep, struct vpn_dp_worker *w));
/* Install a Child SA (vpn_tunnel_child_up without the MTU). */
int tun_sa_install(struct vpn_tunnel *t, const struct ike_child_info *ci);
void tun_sa_fini(void);
struct vpn_tsa *tun_sa_find(uint32_t spi_in);
void tun_sock_unwatch(struct vpn_tunnel *t, struct tun_sock *ts);
/* vpn_tunnel_free(): unpublish, vpn_dp_sync(), free the SAs and socket
 * (the caller has stopped the workers watching the tunnel's fds). */
void tun_sa_release(struct vpn_tunnel *t);
/* Posted by the RX worker: authenticated ESP from a new address. */
void tun_peer_moved(uint32_t spi_in, const struct ike_addr *local,
		    const struct ike_addr *remote, uint8_t *data, size_t len);
/* Posted by the RX worker: the first authenticated packet on a standby
 * SA; the peer has it, so it may send now. */
void tun_sa_promote(uint32_t spi_in, const struct ike_addr *local,
		    const struct ike_addr *remote, uint8_t *data, size_t len);
/* Workers: volume lifetime (90%) or, on TX, sequence numbers running
 * out: post a rekey to the main thread, once. */
void tsa_check_volume(struct vpn_tsa *s, bool tx);

/* vpnd_tunnel_tx.c (TX worker): the TUN device is readable. */
void tun_tx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w);

/* vpnd_tunnel_rx.c (RX worker): the tunnel's socket is readable. */
void tun_sock_rx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w);
/* Main thread: ESP in UDP arrived on the shared port 4500 socket (the
 * UDP layer's ESP receiver): handed to the RX worker of the tunnel that
 * owns the SPI, or counted as unknown. */
void vpn_esp_input(const struct ike_addr *local, const struct ike_addr *remote,
		   uint8_t *buf, size_t len);
/* Main thread, vpn_tunnel_free(): the hand-off ring, before and after
 * the sync. */
void tun_handoff_unwatch(struct vpn_tunnel *t);
void tun_handoff_free(struct vpn_tunnel *t);

#endif /* VPND_TUNNEL_INT_H */
