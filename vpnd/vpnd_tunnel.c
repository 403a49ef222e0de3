// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: tunnel interfaces (TUN) and the ESP-in-UDP datapath.
 *
 * Each tunnel has a TUN device and, once a Child SA names its endpoints,
 * its own UDP socket bound to local:4500 and connected to the peer
 * (SO_REUSEADDR/SO_REUSEPORT beside the shared 4500 socket): the kernel
 * hands that peer's datagrams straight to it. Packet work runs on the
 * datapath workers (vpnd_dp.c), never on the main thread:
 *
 *   TX worker  TUN read (batches of 64) -> esp_encap in place -> one
 *              sendmmsg() on the tunnel's socket, runs of equal-size
 *              packets as one UDP GSO datagram each
 *   RX worker  recvmmsg() on the tunnel's socket (UDP GRO) -> SPI among
 *              the tunnel's SAs -> esp_decap in place -> traffic
 *              selector check -> TUN write
 *
 * A tunnel's TX and RX may run on different workers (vpn_tunnel_new()
 * says which); one esp_sa is used by one of them only (outbound SA: TX,
 * inbound SA: RX), as esp.h requires. Counters have one writer each.
 *
 * What arrives elsewhere reaches the same RX worker: ESP on the shared
 * socket (main thread: looked up by SPI, copied into the tunnel's hand-off
 * ring), and the tunnel's socket gives IKE messages, and ESP with another
 * tunnel's SPI, to the main thread. Authenticated ESP from a new address
 * or port (NAT) makes the main thread reconnect the tunnel's socket.
 *
 * The main thread owns the configuration: it builds an immutable
 * tun_state (installed SAs, the outbound one, the socket), publishes it
 * with one atomic store and frees the previous one, and any SA or socket
 * left out of it, after vpn_dp_sync(). No allocation and no lock per
 * packet: buffers are the workers' scratch memory.
 */
#include <zebra.h>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "lib/log.h"
#include "lib/memory.h"
#include "lib/privs.h"
#include "lib/thread.h"
#include "lib/typesafe.h"
#include "lib/jhash.h"

#include "vpnd_dp.h"
#include "vpnd_tunnel.h"
#include "vpnd_udp.h"
#include "vpnd_util.h"
#include "esp/esp.h"
#include "esp/policy.h"
#include "util/bytes.h"

DECLARE_MGROUP(VPND);

DEFINE_MTYPE_STATIC(VPND, VPN_TUNNEL, "VPN tunnel");
DEFINE_MTYPE_STATIC(VPND, VPN_ESP_SA, "VPN ESP SA");
DEFINE_MTYPE_STATIC(VPND, VPN_TUN_STATE, "VPN tunnel datapath state");

#define TUN_BATCH VPN_DP_BATCH
#define TUN_ROUNDS 4   /* batches per wake-up, then back to epoll */
#define PKT_MAX VPN_DP_PKT /* inner MTU is below 1500; room for ESP */
#define HANDOFF_SLOTS 32

/* Outbound packets are read at a fixed offset that leaves room for the
 * ESP header and IV in front, and encapsulated in place. */
#define TUN_HEADROOM 32

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

/* One installed Child SA of a tunnel: its two ESP SAs. */
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
	uint64_t rx_top; /* RX worker only: highest sequence number */
};

/* Sequence numbers left below which the SA is rekeyed (without ESN, 2^32
 * packets can run out before the time lifetime at high rates). */
#define SEQ_REKEY_MARGIN (1ULL << 24)

static int vpn_spi_cmp(const struct vpn_tsa *a, const struct vpn_tsa *b)
{
	return a->spi_in < b->spi_in ? -1 : a->spi_in > b->spi_in;
}

static uint32_t vpn_spi_hash(const struct vpn_tsa *a)
{
	return jhash_1word(a->spi_in, 0x5eed);
}

DECLARE_HASH(vpn_spis, struct vpn_tsa, item, vpn_spi_cmp, vpn_spi_hash);

/* The tunnel's UDP socket, connected to the peer. fd -1: none could be
 * made; packets go out through the shared socket. */
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
	int fd;
	bool carrier;
	struct vpn_dp_worker *txw, *rxw;
	struct vpn_dp_ep tun_ep; /* TUN readable, on txw */

	_Atomic(struct tun_state *) state; /* published for the workers */

	/* The main thread's view. */
	struct vpn_tsa *sa[VPN_TUNNEL_MAX_SA];
	struct vpn_tsa *out;
	struct tun_sock *sock;
	struct handoff *handoff; /* made on first use */

	/* Drops that belong to no SA. */
	ctr_t drop_no_sa;	/* TX: outbound packet while no Child SA */
	ctr_t drop_tun_write;	/* RX: the TUN device refused the packet */
	ctr_t drop_handoff;	/* main: hand-off ring full */

	/* RX worker only: the move last reported, and the socket it was
	 * reported against (not again until the socket changes). */
	struct ike_addr moved_to;
	const struct tun_sock *moved_from;
};

static struct thread_master *tun_master;
static vpn_tunnel_rekey_fn tun_rekey_fn; /* upward: IKE rekeys */
static struct vpn_spis_head spis; /* main thread only */
static atomic_uint_fast64_t drop_unknown_spi; /* any thread */
static unsigned int tun_count;	/* tunnels made: spreads them on workers */

static void tsa_check_volume(struct vpn_tsa *s, bool tx);

/* ------------------------------------------------------------------ */
/* TUN device                                                          */
/* ------------------------------------------------------------------ */

static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = -1;

	if (fd < 0)
		return -1;
	frr_with_privs (&vpnd_privs) {
		ret = ioctl(fd, req, ifr);
	}
	close(fd);
	return ret;
}

static void tun_set_mtu(struct vpn_tunnel *t, int mtu)
{
	struct ifreq ifr = {};

	strlcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	ifr.ifr_mtu = mtu;
	if (ifreq_ioctl(SIOCSIFMTU, &ifr) < 0)
		zlog_warn("%s: cannot set MTU %d (%s)", t->ifname, mtu,
			  safe_strerror(errno));
}

static void tun_set_up(struct vpn_tunnel *t)
{
	struct ifreq ifr = {};

	strlcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	if (ifreq_ioctl(SIOCGIFFLAGS, &ifr) < 0)
		return;
	ifr.ifr_flags |= IFF_UP;
	if (ifreq_ioctl(SIOCSIFFLAGS, &ifr) < 0)
		zlog_warn("%s: cannot set the interface up (%s)", t->ifname,
			  safe_strerror(errno));
}

void vpn_tunnel_set_carrier(struct vpn_tunnel *t, bool up)
{
	int on = up;

	if (t->carrier == up)
		return;
	t->carrier = up;
	frr_with_privs (&vpnd_privs) {
		if (ioctl(t->fd, TUNSETCARRIER, &on) < 0)
			zlog_warn("%s: cannot set carrier (%s)", t->ifname,
				  safe_strerror(errno));
	}
	zlog_info("%s: carrier %s", t->ifname, up ? "up" : "down");
}

static void tun_tx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w);

struct vpn_tunnel *vpn_tunnel_new(const char *conn_name, const char *ifname)
{
	struct vpn_tunnel *t;
	struct ifreq ifr = {};
	unsigned int n;
	int fd = -1;

	if (vpn_dp_start(tun_master) < 0) {
		zlog_err("%s: no datapath worker thread", ifname);
		return NULL;
	}
	frr_with_privs (&vpnd_privs) {
		fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	}
	if (fd < 0) {
		zlog_err("%s: cannot open /dev/net/tun (%s)", ifname,
			 safe_strerror(errno));
		return NULL;
	}
	strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	frr_with_privs (&vpnd_privs) {
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			zlog_err("%s: cannot create the tunnel interface (%s)",
				 ifname, safe_strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return NULL;

	t = XCALLOC(MTYPE_VPN_TUNNEL, sizeof(*t));
	t->fd = fd;
	strlcpy(t->ifname, ifr.ifr_name, sizeof(t->ifname));
	atomic_init(&t->state, NULL);
	/* Tunnels take turns on the workers; with --dp-split, a tunnel's RX
	 * runs on the worker after its TX's. */
	n = tun_count++;
	t->txw = vpn_dp_worker(n);
	t->rxw = vpn_dp_worker(vpn_dp_split() ? n + 1 : n);
	t->tun_ep.handler = tun_tx;
	/* Exists with carrier down until a Child SA is installed. */
	t->carrier = true;
	vpn_tunnel_set_carrier(t, false);
	tun_set_mtu(t, 1400);
	tun_set_up(t);
	if (vpn_dp_watch(t->txw, t->fd, &t->tun_ep) < 0) {
		close(t->fd);
		XFREE(MTYPE_VPN_TUNNEL, t);
		return NULL;
	}
	zlog_info("%s: tunnel interface created for connection %s (datapath workers: tx %u, rx %u)",
		  t->ifname, conn_name, vpn_dp_worker_index(t->txw),
		  vpn_dp_worker_index(t->rxw));
	return t;
}

const char *vpn_tunnel_ifname(const struct vpn_tunnel *t)
{
	return t->ifname;
}

/* ------------------------------------------------------------------ */
/* Publication (main thread)                                           */
/* ------------------------------------------------------------------ */

/* Publish the main thread's view; the previous state is returned, to
 * be freed after vpn_dp_sync(). */
static struct tun_state *tun_publish(struct vpn_tunnel *t)
{
	struct tun_state *st = XCALLOC(MTYPE_VPN_TUN_STATE, sizeof(*st));

	for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++)
		if (t->sa[i])
			st->sa[st->nsa++] = t->sa[i];
	st->out = t->out;
	st->sock = t->sock;
	return atomic_exchange_explicit(&t->state, st, memory_order_acq_rel);
}

static void tsa_free(struct vpn_tsa *s)
{
	if (!s)
		return;
	esp_sa_free(s->in); /* wipes the keys */
	esp_sa_free(s->out);
	vpn_memzero(s, sizeof(*s));
	XFREE(MTYPE_VPN_ESP_SA, s);
}

static void sock_rx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w);

static struct tun_sock *sock_new(struct vpn_tunnel *t,
				 const struct ike_addr *local,
				 const struct ike_addr *remote)
{
	struct tun_sock *ts = XCALLOC(MTYPE_VPN_TUN_STATE, sizeof(*ts));

	ts->ep.handler = sock_rx;
	ts->tun = t;
	ts->local = *local;
	ts->remote = *remote;
	ts->fd = vpn_udp_open_connected(local, remote);
	if (ts->fd >= 0) {
		int on = 1;

		/* joined packets (GRO) come with their size: sock_rx */
		setsockopt(ts->fd, SOL_UDP, UDP_GRO, &on, sizeof(on));
	}
	if (ts->fd >= 0 && vpn_dp_watch(t->rxw, ts->fd, &ts->ep) < 0) {
		close(ts->fd);
		ts->fd = -1;
	}
	if (ts->fd < 0)
		zlog_warn("%s: no socket of its own; ESP goes through the shared socket",
			  t->ifname);
	return ts;
}

/* Stop the RX worker watching ts (before the sync that frees it). */
static void sock_unwatch(struct vpn_tunnel *t, struct tun_sock *ts)
{
	if (ts && ts->fd >= 0)
		vpn_dp_unwatch(t->rxw, ts->fd);
}

static void sock_free(struct tun_sock *ts)
{
	if (!ts)
		return;
	if (ts->fd >= 0)
		close(ts->fd);
	XFREE(MTYPE_VPN_TUN_STATE, ts);
}

void vpn_tunnel_free(struct vpn_tunnel *t)
{
	struct tun_state *old;

	vpn_dp_unwatch(t->txw, t->fd);
	sock_unwatch(t, t->sock);
	if (t->handoff)
		vpn_dp_unwatch(t->rxw, t->handoff->efd);
	old = atomic_exchange(&t->state, NULL);
	vpn_dp_sync(); /* no worker uses the tunnel now */
	XFREE(MTYPE_VPN_TUN_STATE, old);
	for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++)
		if (t->sa[i]) {
			vpn_spis_del(&spis, t->sa[i]);
			tsa_free(t->sa[i]);
		}
	sock_free(t->sock);
	if (t->handoff) {
		close(t->handoff->efd);
		XFREE(MTYPE_VPN_TUN_STATE, t->handoff);
	}
	close(t->fd); /* a non-persistent TUN device goes with its fd */
	zlog_info("%s: tunnel interface removed", t->ifname);
	XFREE(MTYPE_VPN_TUNNEL, t);
}

/* ------------------------------------------------------------------ */
/* Child SAs                                                           */
/* ------------------------------------------------------------------ */

uint32_t vpn_tunnel_alloc_spi(void)
{
	for (;;) {
		struct vpn_tsa key;

		vpn_random(&key.spi_in, sizeof(key.spi_in));
		if (key.spi_in < 256)
			continue;
		if (!vpn_spis_find(&spis, &key))
			return key.spi_in;
	}
}

static struct esp_sa *esp_from_child(const struct ike_child_info *ci,
				     bool inbound)
{
	struct esp_sa_params p = {
		.spi = inbound ? ci->spi_in : ci->spi_out,
		.encr = ci->encr,
		.keybits = ci->encr_keybits,
		.integ = ci->integ,
		.esn = ci->esn,
		.encr_key = inbound ? ci->encr_key_in : ci->encr_key_out,
		.encr_keylen = ci->encr_keylen,
		.integ_key = inbound ? ci->integ_key_in : ci->integ_key_out,
		.integ_keylen = ci->integ_keylen,
	};

	return esp_sa_new(&p);
}

/* Inner MTU for an SA: 1500 minus outer IP, UDP, ESP header, IV, ICV,
 * worst-case padding and the ESP trailer, rounded down to 4. */
static int sa_mtu(const struct ike_child_info *ci)
{
	struct vpn_cipher_info inf;
	int overhead;

	if (vpn_cipher_info(ci->encr, ci->encr_keybits, &inf) < 0)
		return 1400;
	overhead = (ci->remote.family == AF_INET ? 20 : 40) + 8 + 8 +
		   (int)inf.ivlen +
		   (int)(inf.aead ? inf.icvlen : vpn_integ_icvlen(ci->integ)) +
		   (int)(inf.blocksize > 4 ? inf.blocksize - 1 : 3) + 2;
	return (1500 - overhead) & ~3;
}

int vpn_tunnel_child_up(struct vpn_tunnel *t, const struct ike_child_info *ci)
{
	struct vpn_tsa *s, *victim = NULL;
	struct tun_sock *oldsock = NULL;
	struct tun_state *old;
	int slot = -1;

	s = XCALLOC(MTYPE_VPN_ESP_SA, sizeof(*s));
	s->in = esp_from_child(ci, true);
	s->out = esp_from_child(ci, false);
	if (!s->in || !s->out) {
		tsa_free(s);
		zlog_err("%s: cannot set up ESP SAs", t->ifname);
		return -1;
	}
	s->tun = t;
	s->spi_in = ci->spi_in;
	s->spi_out = ci->spi_out;
	s->installed_ms = vpn_now_ms();
	s->encr = ci->encr;
	s->keybits = ci->encr_keybits;
	s->integ = ci->integ;
	s->esn = ci->esn;
	s->lifetime_s = ci->lifetime;
	s->lifetime_bytes = ci->lifetime_bytes;
	esp_policy_set(&s->policy, ci->local_ts, ci->n_local_ts, ci->remote_ts,
		       ci->n_remote_ts);

	for (int i = 0; i < VPN_TUNNEL_MAX_SA && slot < 0; i++)
		if (!t->sa[i])
			slot = i;
	if (slot < 0) {
		/* drop the oldest */
		slot = 0;
		for (int i = 1; i < VPN_TUNNEL_MAX_SA; i++)
			if (t->sa[i]->installed_ms <
			    t->sa[slot]->installed_ms)
				slot = i;
		victim = t->sa[slot];
		vpn_spis_del(&spis, victim);
	}
	t->sa[slot] = s;
	vpn_spis_add(&spis, s);
	t->out = s; /* make-before-break: the new SA sends from now on */

	/* The SA's endpoints: the tunnel's socket follows them. */
	if (!t->sock || !ike_addr_eq(&t->sock->local, &ci->local) ||
	    !ike_addr_eq(&t->sock->remote, &ci->remote)) {
		oldsock = t->sock;
		t->sock = sock_new(t, &ci->local, &ci->remote);
	}
	old = tun_publish(t);
	sock_unwatch(t, oldsock);
	if (old || victim || oldsock)
		vpn_dp_sync();
	XFREE(MTYPE_VPN_TUN_STATE, old);
	tsa_free(victim);
	sock_free(oldsock);
	tun_set_mtu(t, sa_mtu(ci));
	return 0;
}

int vpn_tunnel_child_down(struct vpn_tunnel *t, uint32_t spi_in)
{
	struct vpn_tsa *s = NULL;
	struct tun_state *old;

	for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++)
		if (t->sa[i] && t->sa[i]->spi_in == spi_in) {
			s = t->sa[i];
			t->sa[i] = NULL;
			break;
		}
	if (!s)
		return -1;
	vpn_spis_del(&spis, s);
	if (t->out == s) {
		t->out = NULL;
		for (int i = 0; i < VPN_TUNNEL_MAX_SA; i++)
			if (t->sa[i] &&
			    (!t->out ||
			     t->sa[i]->installed_ms >= t->out->installed_ms))
				t->out = t->sa[i];
	}
	old = tun_publish(t);
	vpn_dp_sync(); /* no worker holds s any more: wipe it */
	XFREE(MTYPE_VPN_TUN_STATE, old);
	tsa_free(s);
	return 0;
}

/* Main thread, posted by the RX worker: authenticated ESP of the SA
 * spi_in came from a new address or port. Reconnect the socket. */
static void tun_peer_moved(uint32_t spi_in, const struct ike_addr *local,
			   const struct ike_addr *remote, uint8_t *data,
			   size_t len)
{
	struct vpn_tsa key = { .spi_in = spi_in }, *s;
	struct vpn_tunnel *t;
	struct tun_sock *oldsock;
	struct tun_state *old;
	char buf[INET6_ADDRSTRLEN];

	s = vpn_spis_find(&spis, &key);
	if (!s)
		return;
	t = s->tun;
	if (t->sock && ike_addr_eq(&t->sock->remote, remote))
		return;
	zlog_info("%s: peer moved to %s port %u, following it", t->ifname,
		  vpn_addr_str(remote, buf, sizeof(buf)), remote->port);
	oldsock = t->sock;
	t->sock = sock_new(t, oldsock ? &oldsock->local : local, remote);
	old = tun_publish(t);
	sock_unwatch(t, oldsock);
	vpn_dp_sync();
	XFREE(MTYPE_VPN_TUN_STATE, old);
	sock_free(oldsock);
}

/* Main thread, posted by a worker: rekey before the volume lifetime or
 * the sequence numbers run out. */
static void tun_rekey(uint32_t spi_in, const struct ike_addr *local,
		      const struct ike_addr *remote, uint8_t *data, size_t len)
{
	if (tun_rekey_fn)
		tun_rekey_fn(spi_in);
}

/* Main thread, posted by a worker: an IKE message on a tunnel's socket. */
static void tun_ike(uint32_t spi, const struct ike_addr *local,
		    const struct ike_addr *remote, uint8_t *data, size_t len)
{
	vpn_udp_ike_input(local, remote, data, len);
}

/* Main thread, posted by a worker: ESP on a tunnel's socket with an SPI
 * that is not the tunnel's (another tunnel with the same endpoints, or
 * the moment before the socket was connected). */
static void vpn_esp_input(const struct ike_addr *local,
			  const struct ike_addr *remote, uint8_t *buf,
			  size_t len);

static void tun_esp_elsewhere(uint32_t spi, const struct ike_addr *local,
			      const struct ike_addr *remote, uint8_t *data,
			      size_t len)
{
	vpn_esp_input(local, remote, data, len);
}

/* ------------------------------------------------------------------ */
/* Datapath: TX worker                                                 */
/* ------------------------------------------------------------------ */

/* UDP GSO (UDP_SEGMENT): a run of equal-size ESP packets leaves as one
 * datagram that the kernel, or the NIC, cuts into packets again; over a
 * veth it stays whole up to a receiver that asked for UDP GRO. */
#define GSO_MAX_BYTES 65000
#define GSO_MAX_SEGS 64

/* Returns how many messages went (or were given up); fewer than n when
 * GSO was refused (ts->no_gso is then set) or the socket is full. */
static unsigned int tun_send_msgs(struct tun_sock *ts, struct mmsghdr *msgs,
				  unsigned int n)
{
	unsigned int done = 0;

	while (done < n) {
		int r = sendmmsg(ts->fd, msgs + done, n - done, MSG_DONTWAIT);

		if (r > 0) {
			done += (unsigned int)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EIO || errno == EINVAL) &&
		    msgs[done].msg_hdr.msg_controllen) {
			/* the route's device cannot take GSO: without */
			ts->no_gso = true;
			return done;
		}
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			/* an ICMP error reported on the connected socket
			 * (ECONNREFUSED...): it applied to an earlier
			 * datagram; this one goes on */
			done++;
			continue;
		}
		break; /* socket buffer full: the rest is dropped */
	}
	return done;
}

static void tun_send(struct tun_sock *ts, struct iovec *out, unsigned int n)
{
	struct mmsghdr msgs[TUN_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cm[TUN_BATCH];
	unsigned int nmsg = 0, done;

	if (ts->fd < 0) {
		vpn_udp_send_batch(&ts->local, &ts->remote, out, n);
		return;
	}
	for (unsigned int i = 0; i < n;) {
		size_t seg = out[i].iov_len, total = seg;
		unsigned int j = i + 1;

		/* equal sizes; a shorter one may end the run */
		while (!ts->no_gso && j < n && j - i < GSO_MAX_SEGS &&
		       out[j].iov_len <= seg &&
		       total + out[j].iov_len <= GSO_MAX_BYTES) {
			total += out[j].iov_len;
			if (out[j++].iov_len < seg)
				break;
		}
		msgs[nmsg] = (struct mmsghdr){
			.msg_hdr = { .msg_iov = &out[i], .msg_iovlen = j - i },
		};
		if (j - i > 1) {
			struct cmsghdr *c = &cm[nmsg].align;
			uint16_t gso = (uint16_t)seg;

			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(gso));
			memcpy(CMSG_DATA(c), &gso, sizeof(gso));
			msgs[nmsg].msg_hdr.msg_control = cm[nmsg].buf;
			msgs[nmsg].msg_hdr.msg_controllen = sizeof(cm[nmsg].buf);
		}
		nmsg++;
		i = j;
	}
	done = tun_send_msgs(ts, msgs, nmsg);
	if (done < nmsg && ts->no_gso && msgs[done].msg_hdr.msg_controllen) {
		/* GSO refused just now: the rest again, one by one */
		unsigned int off = (unsigned int)(msgs[done].msg_hdr.msg_iov -
						  out);

		tun_send(ts, out + off, n - off);
	}
}

/* TUN readable: read batches, encapsulate each packet in place, send
 * each batch with one system call. */
static void tun_tx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w)
{
	struct vpn_tunnel *t = container_of(ep, struct vpn_tunnel, tun_ep);
	struct tun_state *st =
		atomic_load_explicit(&t->state, memory_order_acquire);
	struct vpn_tsa *s = st ? st->out : NULL;
	struct vpn_dp_scratch *sc = vpn_dp_scratch(w);
	struct iovec out[TUN_BATCH];
	uint64_t packets = 0, bytes = 0, nosa = 0;
	size_t head = s ? esp_sa_head_len(s->out) : 0;
	bool more = true;

	for (int round = 0; round < TUN_ROUNDS && more; round++) {
		unsigned int nout = 0;

		for (int n = 0; n < TUN_BATCH; n++) {
			uint8_t *inner = sc->pkt[nout] + TUN_HEADROOM;
			ssize_t len = read(t->fd, inner,
					   PKT_MAX - TUN_HEADROOM - 64);
			size_t esplen;
			uint8_t nh;
			enum esp_status r;

			if (len <= 0) {
				more = false;
				break;
			}
			if (!s) {
				nosa++;
				continue;
			}
			nh = (inner[0] >> 4) == 6 ? ESP_NH_IPV6 : ESP_NH_IPV4;
			r = esp_encap(s->out, inner, (size_t)len, nh,
				      inner - head, PKT_MAX - TUN_HEADROOM + head,
				      &esplen);
			if (r != ESP_OK) {
				ctr_add(&s->tx_drop[r], 1);
				continue;
			}
			packets++;
			bytes += (uint64_t)len;
			out[nout].iov_base = inner - head;
			out[nout].iov_len = esplen;
			nout++;
		}
		if (nout && st->sock)
			tun_send(st->sock, out, nout);
	}
	if (nosa)
		ctr_add(&t->drop_no_sa, nosa);
	if (s && packets) {
		ctr_add(&s->tx_packets, packets);
		ctr_add(&s->tx_bytes, bytes);
		tsa_check_volume(s, true);
	}
}

/* ------------------------------------------------------------------ */
/* Datapath: RX worker                                                 */
/* ------------------------------------------------------------------ */

/* Volume lifetime (90%) or sequence numbers running out: rekey, once.
 * tx: called by the TX worker (which may read the outbound SA). */
static void tsa_check_volume(struct vpn_tsa *s, bool tx)
{
	if (atomic_load_explicit(&s->rekey_asked, memory_order_relaxed))
		return;
	if ((s->lifetime_bytes &&
	     ctr_get(&s->rx_bytes) + ctr_get(&s->tx_bytes) >=
		     s->lifetime_bytes / 10 * 9) ||
	    (tx && esp_sa_seq_left(s->out) < SEQ_REKEY_MARGIN)) {
		if (atomic_exchange(&s->rekey_asked, true))
			return;
		if (vpn_dp_post(tun_rekey, s->spi_in, NULL, NULL, NULL, 0) < 0)
			atomic_store(&s->rekey_asked, false); /* next time */
	}
}

static struct vpn_tsa *state_find(struct tun_state *st, uint32_t spi)
{
	if (!st)
		return NULL;
	for (unsigned int i = 0; i < st->nsa; i++)
		if (st->sa[i]->spi_in == spi)
			return st->sa[i];
	return NULL;
}

/* One ESP packet for tunnel t (len >= 8). handoff: it came from the main
 * thread, which has already looked for its SPI everywhere. */
static void rx_esp(struct vpn_tunnel *t, struct tun_state *st,
		   const struct ike_addr *local, const struct ike_addr *remote,
		   uint8_t *buf, size_t len, bool handoff)
{
	struct vpn_tsa *s = state_find(st, vpn_get_be32(buf));
	struct esp_inner inner;
	enum esp_status r;

	if (!s) {
		if (handoff ||
		    vpn_dp_post(tun_esp_elsewhere, 0, local, remote, buf,
				len) < 0)
			atomic_fetch_add_explicit(&drop_unknown_spi, 1,
						  memory_order_relaxed);
		return;
	}
	r = esp_decap(s->in, buf, len, &inner);
	if (r != ESP_OK) {
		ctr_add(&s->rx_drop[r], 1);
		return;
	}
	ctr_add(&s->rx_packets, 1);
	ctr_add(&s->rx_bytes, inner.len);
	/* The peer may move (NAT rebinding): follow authenticated ESP, the
	 * newest only (a late packet from the old address does not move it
	 * back). */
	if (inner.seq > s->rx_top) {
		s->rx_top = inner.seq;
		if (st->sock && !ike_addr_eq(remote, &st->sock->remote) &&
		    (t->moved_from != st->sock ||
		     !ike_addr_eq(remote, &t->moved_to))) {
			t->moved_to = *remote;
			t->moved_from = st->sock;
			vpn_dp_post(tun_peer_moved, s->spi_in, local, remote,
				    NULL, 0);
		}
	}
	if (inner.next_header != ESP_NH_IPV4 &&
	    inner.next_header != ESP_NH_IPV6)
		return; /* dummy packet */
	if (!esp_policy_check(&s->policy, inner.data, inner.len,
			      inner.next_header)) {
		ctr_add(&s->rx_drop_policy, 1);
		return;
	}
	if (write(t->fd, inner.data, inner.len) < 0)
		ctr_add(&t->drop_tun_write, 1);
}

/* A datagram on the tunnel's socket. */
static void rx_datagram(struct vpn_tunnel *t, struct tun_state *st,
			const struct ike_addr *local,
			const struct ike_addr *remote, uint8_t *buf, size_t n)
{
	if (n == 1 && buf[0] == 0xff)
		return; /* NAT keepalive */
	if (n >= 4 && !buf[0] && !buf[1] && !buf[2] && !buf[3]) {
		/* IKE, behind the non-ESP marker: the main thread's */
		vpn_dp_post(tun_ike, 0, local, remote, buf + 4, n - 4);
		return;
	}
	if (n >= 8)
		rx_esp(t, st, local, remote, buf, n, false);
}

/* The tunnel's socket is readable: batches of datagrams (recvmmsg); with
 * UDP GRO a datagram may hold several packets of gso_size bytes (the
 * last one shorter). */
static void sock_rx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w)
{
	struct tun_sock *ts = container_of(ep, struct tun_sock, ep);
	struct vpn_tunnel *t = ts->tun;
	struct tun_state *st =
		atomic_load_explicit(&t->state, memory_order_acquire);
	struct vpn_dp_scratch *sc = vpn_dp_scratch(w);
	struct sockaddr_storage from[VPN_DP_RX_MSGS];
	struct mmsghdr msgs[VPN_DP_RX_MSGS];
	struct iovec iov[VPN_DP_RX_MSGS];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm[VPN_DP_RX_MSGS];

	for (int round = 0; round < TUN_ROUNDS; round++) {
		int n;

		for (int i = 0; i < VPN_DP_RX_MSGS; i++) {
			iov[i].iov_base = sc->rx[i];
			iov[i].iov_len = sizeof(sc->rx[i]);
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i],
				.msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i],
				.msg_iovlen = 1,
				.msg_control = cm[i].buf,
				.msg_controllen = sizeof(cm[i].buf),
			};
		}
		n = recvmmsg(ts->fd, msgs, VPN_DP_RX_MSGS, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break; /* nothing, or an ICMP error (now cleared) */
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &msgs[i].msg_hdr;
			struct ike_addr remote;
			size_t len = msgs[i].msg_len, seg = len;
			uint8_t *buf = iov[i].iov_base;

			if (mh->msg_flags & MSG_TRUNC)
				continue;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c;
			     c = CMSG_NXTHDR(mh, c))
				if (c->cmsg_level == SOL_UDP &&
				    c->cmsg_type == UDP_GRO) {
					int g;

					memcpy(&g, CMSG_DATA(c), sizeof(g));
					if (g > 0)
						seg = (size_t)g;
				}
			vpn_addr_from_sockaddr(&remote, &from[i]);
			for (size_t off = 0; off < len; off += seg)
				rx_datagram(t, st, &ts->local, &remote,
					    buf + off, MIN(seg, len - off));
		}
		if (n < VPN_DP_RX_MSGS)
			break;
	}
	/* Per batch: the inbound volume counts towards the lifetime. */
	for (unsigned int i = 0; st && i < st->nsa; i++)
		tsa_check_volume(st->sa[i], false);
}

/* ESP from the shared socket, handed over by the main thread. */
static void handoff_rx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w)
{
	struct handoff *h = container_of(ep, struct handoff, ep);
	struct vpn_tunnel *t = h->tun;
	struct tun_state *st =
		atomic_load_explicit(&t->state, memory_order_acquire);
	unsigned int tail = atomic_load_explicit(&h->tail, memory_order_relaxed);
	unsigned int head;
	uint64_t v;

	if (read(h->efd, &v, sizeof(v)) < 0) {
		/* nothing signalled: the ring says what there is */
	}
	head = atomic_load_explicit(&h->head, memory_order_acquire);
	while (tail != head) {
		typeof(h->slot[0]) *sl = &h->slot[tail % HANDOFF_SLOTS];

		rx_esp(t, st, &sl->local, &sl->remote, sl->data, sl->len,
		       true);
		tail++;
		atomic_store_explicit(&h->tail, tail, memory_order_release);
	}
	for (unsigned int i = 0; st && i < st->nsa; i++)
		tsa_check_volume(st->sa[i], false);
}

/* Main thread: ESP in UDP arrived on the shared port 4500 socket (the
 * UDP layer's ESP receiver). */
static void vpn_esp_input(const struct ike_addr *local, const struct ike_addr *remote,
		   uint8_t *buf, size_t len)
{
	struct vpn_tsa key, *s;
	struct vpn_tunnel *t;
	struct handoff *h;
	unsigned int head, tail;
	uint64_t one = 1;

	key.spi_in = vpn_get_be32(buf);
	s = vpn_spis_find(&spis, &key);
	if (!s) {
		atomic_fetch_add_explicit(&drop_unknown_spi, 1,
					  memory_order_relaxed);
		return;
	}
	t = s->tun;
	if (len > PKT_MAX) {
		ctr_add(&t->drop_handoff, 1);
		return;
	}
	h = t->handoff;
	if (!h) {
		h = XCALLOC(MTYPE_VPN_TUN_STATE, sizeof(*h));
		h->ep.handler = handoff_rx;
		h->tun = t;
		h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (h->efd < 0 || vpn_dp_watch(t->rxw, h->efd, &h->ep) < 0) {
			if (h->efd >= 0)
				close(h->efd);
			XFREE(MTYPE_VPN_TUN_STATE, h);
			ctr_add(&t->drop_handoff, 1);
			return;
		}
		t->handoff = h;
	}
	head = atomic_load_explicit(&h->head, memory_order_relaxed);
	tail = atomic_load_explicit(&h->tail, memory_order_acquire);
	if (head - tail >= HANDOFF_SLOTS) {
		ctr_add(&t->drop_handoff, 1);
		return;
	}
	h->slot[head % HANDOFF_SLOTS].local = *local;
	h->slot[head % HANDOFF_SLOTS].remote = *remote;
	h->slot[head % HANDOFF_SLOTS].len = (uint16_t)len;
	memcpy(h->slot[head % HANDOFF_SLOTS].data, buf, len);
	atomic_store_explicit(&h->head, head + 1, memory_order_release);
	if (write(h->efd, &one, sizeof(one)) < 0) {
		/* counter saturated: the worker is signalled already */
	}
}

/* ------------------------------------------------------------------ */
/* Operational state (main thread)                                     */
/* ------------------------------------------------------------------ */

void vpn_tunnel_get_oper(const struct vpn_tunnel *t,
			 struct vpn_tunnel_oper *o)
{
	memset(o, 0, sizeof(*o));
	o->ifname = t->ifname;
	o->carrier = t->carrier;
	o->drop_no_sa = ctr_get(&t->drop_no_sa);
	o->drop_tun_write = ctr_get(&t->drop_tun_write);
	o->drop_handoff = ctr_get(&t->drop_handoff);
	o->drop_unknown_spi = atomic_load(&drop_unknown_spi);
	o->tx_worker = vpn_dp_worker_index(t->txw);
	o->rx_worker = vpn_dp_worker_index(t->rxw);
	if (t->sock) {
		o->has_esp = true;
		o->esp_local = t->sock->local;
		o->esp_remote = t->sock->remote;
		o->esp_own_socket = t->sock->fd >= 0;
	}
}

static void child_oper(const struct vpn_tunnel *t, const struct vpn_tsa *s,
		       uint64_t now_ms, struct vpn_child_oper *c)
{
	uint64_t used;
	long age, left;

	memset(c, 0, sizeof(*c));
	c->spi_in = s->spi_in;
	c->spi_out = s->spi_out;
	c->active = s == t->out;
	c->encr = s->encr;
	c->encr_keybits = s->keybits;
	c->integ = s->integ;
	c->esn = s->esn;
	age = (long)((now_ms - s->installed_ms) / 1000);
	left = (long)s->lifetime_s - age;
	c->age_s = (uint64_t)age;
	c->lifetime_s_left = left > 0 ? (uint64_t)left : 0;
	c->packets_in = ctr_get(&s->rx_packets);
	c->bytes_in = ctr_get(&s->rx_bytes);
	c->packets_out = ctr_get(&s->tx_packets);
	c->bytes_out = ctr_get(&s->tx_bytes);
	used = c->bytes_in + c->bytes_out;
	c->lifetime_bytes = s->lifetime_bytes;
	c->lifetime_bytes_left =
		s->lifetime_bytes > used ? s->lifetime_bytes - used : 0;
	c->drop_replay = ctr_get(&s->rx_drop[ESP_REPLAY]);
	c->drop_integrity = ctr_get(&s->rx_drop[ESP_INTEGRITY]);
	c->drop_malformed = ctr_get(&s->rx_drop[ESP_MALFORMED]);
	c->drop_policy = ctr_get(&s->rx_drop_policy);
	c->drop_other = ctr_get(&s->tx_drop[ESP_SEQ_EXHAUSTED]) +
			ctr_get(&s->tx_drop[ESP_NO_SPACE]) +
			ctr_get(&s->tx_drop[ESP_CRYPTO_ERROR]) +
			ctr_get(&s->rx_drop[ESP_CRYPTO_ERROR]);
}

unsigned int vpn_tunnel_get_children(const struct vpn_tunnel *t,
				     struct vpn_child_oper *out,
				     unsigned int max)
{
	uint64_t now_ms = vpn_now_ms();
	unsigned int n = 0;

	for (int i = 0; i < VPN_TUNNEL_MAX_SA && n < max; i++)
		if (t->sa[i])
			child_oper(t, t->sa[i], now_ms, &out[n++]);
	return n;
}

void vpn_tunnel_init(struct thread_master *master, vpn_tunnel_rekey_fn rekey)
{
	tun_master = master;
	tun_rekey_fn = rekey;
	vpn_spis_init(&spis);
	vpn_udp_set_esp_receiver(vpn_esp_input);
}

void vpn_tunnel_terminate(void)
{
	vpn_dp_stop();
	vpn_spis_fini(&spis);
}
