// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the tunnel's receive path, on its RX worker: the tunnel's socket
 * is readable -> recvmmsg() (UDP GRO: a datagram may hold several
 * packets) -> NAT keepalives dropped, IKE (non-ESP marker) posted to the
 * main thread -> SPI among the published SAs -> esp_decap in place ->
 * inbound selector check (esp/policy.h) -> TUN write. ESP that arrives on
 * the shared socket instead is looked up by SPI on the main thread
 * (vpn_esp_input, the UDP layer's ESP receiver) and copied into the
 * tunnel's hand-off ring for the same RX worker. Counts per SA and asks
 * for a rekey when the volume runs low (tsa_check_volume).
 *
 * Calls: down to the ESP engine and the sockets; up only through
 * vpn_dp_post() to main-thread targets: tun_ike (-> vpn_udp_ike_input),
 * tun_esp_elsewhere (-> vpn_esp_input), tun_peer_moved
 * (vpnd_tunnel_sa.c). tun_sock_rx() is the handler vpnd_tunnel_sa.c
 * installs for a tunnel's socket.
 */
#include <zebra.h>

#include <netinet/udp.h>
#include <sys/eventfd.h>

#include "lib/memory.h"

#include "vpnd_tunnel_int.h"
#include "esp/gso.h"
#include "vpnd_udp.h"
#include "vpnd_util.h"
#include "util/bytes.h"

atomic_uint_fast64_t tun_drop_unknown_spi;

/* Main thread, posted by a worker: an IKE message on a tunnel's socket. */
static void tun_ike(uint32_t spi, const struct ike_addr *local,
		    const struct ike_addr *remote, uint8_t *data, size_t len)
{
	vpn_udp_ike_input(local, remote, data, len);
}

/* Main thread, posted by a worker: ESP on a tunnel's socket with an SPI
 * that is not the tunnel's (another tunnel with the same endpoints, or
 * the moment before the socket was connected). */
static void tun_esp_elsewhere(uint32_t spi, const struct ike_addr *local,
			      const struct ike_addr *remote, uint8_t *data,
			      size_t len)
{
	vpn_esp_input(local, remote, data, len);
}

/* The SA of spi among the published ones (RX worker). */
static struct vpn_tsa *state_find(struct tun_state *st, uint32_t spi)
{
	if (!st)
		return NULL;
	for (unsigned int i = 0; i < st->nsa; i++)
		if (st->sa[i]->spi_in == spi)
			return st->sa[i];
	return NULL;
}

/* A packet to the kernel; behind an empty virtio_net_hdr when the device
 * has one (no offload asked: the kernel checks the checksums). */
static ssize_t tun_write(struct vpn_tunnel *t, const uint8_t *pkt, size_t len)
{
	static const uint8_t none[VPN_VNET_HDR_LEN];
	struct iovec iov[2] = {
		{ .iov_base = (void *)none, .iov_len = sizeof(none) },
		{ .iov_base = (void *)pkt, .iov_len = len },
	};

	if (!t->vnet)
		return write(t->fd, pkt, len);
	return writev(t->fd, iov, 2);
}

/* Decrypted packets of one batch of datagrams, to be coalesced (TCP
 * segments of a flow into one super-packet, esp/gso.h) and written to a
 * TUN device with a virtio_net_hdr. They point into the batch's receive
 * buffers: written before the next recvmmsg(). */
#define RX_GRO_MAX 128

struct rx_gro {
	struct vpn_dp_scratch *sc;
	unsigned int n;
	struct vpn_gro_in in[RX_GRO_MAX];
};

_Static_assert(sizeof(struct vpn_vnet_hdr) == VPN_VNET_HDR_LEN,
	       "virtio_net_hdr is 10 bytes");

static void rx_gro_flush(struct vpn_tunnel *t, struct rx_gro *g)
{
	struct vpn_gro_out out[RX_GRO_MAX];
	unsigned int k;
	uint64_t merged = 0;

	if (!g || !g->n)
		return;
	k = vpn_gro_tcp(g->in, g->n, out, g->sc->gro, sizeof(g->sc->gro));
	for (unsigned int i = 0; i < k; i++) {
		struct iovec iov[2] = {
			{ .iov_base = &out[i].vh, .iov_len = VPN_VNET_HDR_LEN },
			{ .iov_base = (void *)out[i].pkt, .iov_len = out[i].len },
		};

		if (writev(t->fd, iov, 2) < 0)
			ctr_add(&t->drop_tun_write, out[i].nseg);
		else if (out[i].nseg > 1)
			merged++;
	}
	if (merged)
		ctr_add(&t->gro_writes, merged);
	g->n = 0;
}

/* One ESP packet for tunnel t (len >= 8). handoff: it came from the main
 * thread, which has already looked for its SPI everywhere. */
static void rx_esp(struct vpn_tunnel *t, struct tun_state *st,
		   const struct ike_addr *local, const struct ike_addr *remote,
		   uint8_t *buf, size_t len, bool handoff, struct rx_gro *g)
{
	struct vpn_tsa *s = state_find(st, vpn_get_be32(buf));
	struct esp_inner inner;
	enum esp_status r;

	if (!s) {
		if (handoff ||
		    vpn_dp_post(tun_esp_elsewhere, 0, local, remote, buf,
				len) < 0)
			atomic_fetch_add_explicit(&tun_drop_unknown_spi, 1,
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
	/* The peer sends on an SA we hold back: it has it, we may too. */
	if (atomic_load_explicit(&s->standby, memory_order_relaxed) &&
	    atomic_exchange(&s->standby, false))
		vpn_dp_post(tun_sa_promote, s->spi_in, NULL, NULL, NULL, 0);
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
	if (g && t->vnet) {
		g->in[g->n].pkt = inner.data;
		g->in[g->n++].len = (uint16_t)inner.len;
		if (g->n == RX_GRO_MAX)
			rx_gro_flush(t, g);
		return;
	}
	if (tun_write(t, inner.data, inner.len) < 0)
		ctr_add(&t->drop_tun_write, 1);
}

/* A datagram on the tunnel's socket. */
static void rx_datagram(struct vpn_tunnel *t, struct tun_state *st,
			const struct ike_addr *local,
			const struct ike_addr *remote, uint8_t *buf, size_t n,
			struct rx_gro *g)
{
	if (n == 1 && buf[0] == 0xff)
		return; /* NAT keepalive */
	if (n >= 4 && !buf[0] && !buf[1] && !buf[2] && !buf[3]) {
		/* IKE, behind the non-ESP marker: the main thread's */
		vpn_dp_post(tun_ike, 0, local, remote, buf + 4, n - 4);
		return;
	}
	if (n >= 8)
		rx_esp(t, st, local, remote, buf, n, false, g);
}

/* With UDP GRO: the size of the packets joined in a datagram of len
 * bytes (the last one may be shorter). */
static size_t gro_seg(struct msghdr *mh, size_t len)
{
	size_t seg = len;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int g;

			memcpy(&g, CMSG_DATA(c), sizeof(g));
			if (g > 0)
				seg = (size_t)g;
		}
	return seg;
}

/* Per batch: the inbound volume counts towards the lifetime. */
static void rx_check_volume(struct tun_state *st)
{
	for (unsigned int i = 0; st && i < st->nsa; i++)
		tsa_check_volume(st->sa[i], false);
}

/* The tunnel's socket is readable: batches of datagrams (recvmmsg); with
 * UDP GRO a datagram may hold several packets of gso_size bytes (the
 * last one shorter). */
void tun_sock_rx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w)
{
	struct tun_sock *ts = container_of(ep, struct tun_sock, ep);
	struct vpn_tunnel *t = ts->tun;
	struct tun_state *st = tun_state_get(t);
	struct vpn_dp_scratch *sc = vpn_dp_scratch(w);
	struct sockaddr_storage from[VPN_DP_RX_MSGS];
	struct mmsghdr msgs[VPN_DP_RX_MSGS];
	struct iovec iov[VPN_DP_RX_MSGS];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm[VPN_DP_RX_MSGS];
	struct rx_gro g = { .sc = sc };

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
			size_t len = msgs[i].msg_len, seg;
			uint8_t *buf = iov[i].iov_base;

			if (mh->msg_flags & MSG_TRUNC)
				continue;
			seg = gro_seg(mh, len);
			vpn_addr_from_sockaddr(&remote, &from[i]);
			for (size_t off = 0; off < len; off += seg)
				rx_datagram(t, st, &ts->local, &remote,
					    buf + off, MIN(seg, len - off), &g);
		}
		rx_gro_flush(t, &g); /* before the buffers are read into again */
		if (n < VPN_DP_RX_MSGS)
			break;
	}
	rx_check_volume(st);
}

/* ESP from the shared socket, handed over by the main thread. */
static void handoff_rx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w)
{
	struct handoff *h = container_of(ep, struct handoff, ep);
	struct vpn_tunnel *t = h->tun;
	struct tun_state *st = tun_state_get(t);
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
		       true, NULL);
		tail++;
		atomic_store_explicit(&h->tail, tail, memory_order_release);
	}
	rx_check_volume(st);
}

/* Main thread: the tunnel's hand-off ring, made on first use; NULL
 * when it cannot be. */
static struct handoff *handoff_get(struct vpn_tunnel *t)
{
	struct handoff *h = t->handoff;

	if (h)
		return h;
	h = XCALLOC(MTYPE_VPN_TUN_STATE, sizeof(*h));
	h->ep.handler = handoff_rx;
	h->tun = t;
	h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->efd < 0 || vpn_dp_watch(t->rxw, h->efd, &h->ep) < 0) {
		if (h->efd >= 0)
			close(h->efd);
		XFREE(MTYPE_VPN_TUN_STATE, h);
		return NULL;
	}
	t->handoff = h;
	return h;
}

void vpn_esp_input(const struct ike_addr *local, const struct ike_addr *remote,
		   uint8_t *buf, size_t len)
{
	struct vpn_tsa *s = tun_sa_find(vpn_get_be32(buf));
	struct vpn_tunnel *t;
	struct handoff *h;
	unsigned int head, tail;
	uint64_t one = 1;

	if (!s) {
		atomic_fetch_add_explicit(&tun_drop_unknown_spi, 1,
					  memory_order_relaxed);
		return;
	}
	t = s->tun;
	if (len > PKT_MAX) {
		ctr_add(&t->drop_handoff, 1);
		return;
	}
	h = handoff_get(t);
	if (!h) {
		ctr_add(&t->drop_handoff, 1);
		return;
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

void tun_handoff_unwatch(struct vpn_tunnel *t)
{
	if (t->handoff)
		vpn_dp_unwatch(t->rxw, t->handoff->efd);
}

void tun_handoff_free(struct vpn_tunnel *t)
{
	if (t->handoff) {
		close(t->handoff->efd);
		XFREE(MTYPE_VPN_TUN_STATE, t->handoff);
	}
}
