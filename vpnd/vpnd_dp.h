/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: datapath worker threads.
 *
 * Packet work (TUN -> ESP -> UDP and UDP -> ESP -> TUN) runs on a few
 * worker pthreads, never on FRR's event loop (the main thread). Each
 * worker waits in its own epoll set; a file descriptor is watched by one
 * worker and its endpoint's handler runs there.
 *
 * Sharing with the main thread is quiescent-state based (QSBR, the
 * userspace-RCU "qsbr" flavour): the main thread publishes new objects with
 * one atomic pointer store and, before it frees or wipes an object that
 * workers may still hold, calls vpn_dp_sync(), which returns once every
 * worker has gone back to epoll_wait() (its quiescent point) after the
 * store. Workers take no lock and do no atomic read-modify-write per
 * packet; a handler may keep what it loaded until it returns.
 *
 * Workers never call into FRR (no zlog, no thread_*): what the main
 * thread must do (an IKE message arrived on a tunnel's socket, a rekey is
 * due, the peer moved) is posted with vpn_dp_post() and runs on the main
 * thread.
 */
#ifndef VPND_DP_H
#define VPND_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "thread.h"

#include "ike/ike.h"

#define VPN_DP_MAX_THREADS 64
#define VPN_DP_DEFAULT_MAX 8 /* default: online CPUs, at most this */

struct vpn_dp_worker;

/* Something a worker watches. handler runs on that worker. */
struct vpn_dp_ep {
	void (*handler)(struct vpn_dp_ep *ep, struct vpn_dp_worker *w);
};

/* Number of workers (--dp-threads); 0 chooses the default. Before
 * vpn_dp_start(). */
void vpn_dp_set_threads(unsigned int n);
unsigned int vpn_dp_threads(void);

/* --dp-split: a tunnel's RX on another worker than its TX (default: the
 * same worker; tunnels are spread over the workers either way). */
void vpn_dp_set_split(bool on);
bool vpn_dp_split(void);

/* --no-tun-offload: tunnel devices without IFF_VNET_HDR and TUN offloads
 * (one packet per read, as before them). */
void vpn_dp_set_tun_offload(bool on);
bool vpn_dp_tun_offload(void);

/* Start the workers (once; later calls do nothing). After the daemon has
 * forked. Returns -1 if no worker could be started. */
int vpn_dp_start(struct thread_master *master);
/* Stop and join them. */
void vpn_dp_stop(void);

/* Worker i modulo the number of workers. */
struct vpn_dp_worker *vpn_dp_worker(unsigned int i);
unsigned int vpn_dp_worker_index(const struct vpn_dp_worker *w);

/* Main thread: watch fd for input on worker w (level-triggered), or stop
 * watching it. After vpn_dp_unwatch() and vpn_dp_sync() the handler no
 * longer runs for ep. */
int vpn_dp_watch(struct vpn_dp_worker *w, int fd, struct vpn_dp_ep *ep);
void vpn_dp_unwatch(struct vpn_dp_worker *w, int fd);

/* Main thread: wait until every worker has passed its quiescent point
 * since the call (objects unpublished before it can then be freed). */
void vpn_dp_sync(void);

/* Per-worker scratch memory for one batch (never shared). */
#define VPN_DP_BATCH 64
#define VPN_DP_PKT 2048
#define VPN_DP_RX_MSGS 32 /* datagrams per recvmmsg(), each up to 64 KiB:
			   * UDP GRO joins packets */
struct vpn_dp_scratch {
	uint8_t pkt[VPN_DP_BATCH][VPN_DP_PKT]; /* TX: one packet each */
	uint8_t rx[VPN_DP_RX_MSGS][65536];
	/* TX: a TUN read with its virtio_net_hdr (10 bytes), up to 64 KiB */
	uint8_t tso[65536 + 16];
	/* RX: TCP segments coalesced for the TUN device (esp/gso.h) */
	uint8_t gro[4 * 65536];
};
struct vpn_dp_scratch *vpn_dp_scratch(struct vpn_dp_worker *w);

/*
 * Worker -> main thread: fn(spi, local, remote, data, len) runs later on
 * the main thread. data is copied (len may be 0). Returns -1 when the
 * queue is full (the message is dropped). Not for per-packet use: IKE
 * messages, rekey requests, address changes.
 */
typedef void (*vpn_dp_main_fn)(uint32_t spi, const struct ike_addr *local,
			       const struct ike_addr *remote, uint8_t *data,
			       size_t len);
int vpn_dp_post(vpn_dp_main_fn fn, uint32_t spi, const struct ike_addr *local,
		const struct ike_addr *remote, const uint8_t *data,
		size_t len);

#endif /* VPND_DP_H */
