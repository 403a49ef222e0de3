// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the tunnel's send path, on its TX worker: the TUN device is
 * readable -> read batches (at TUN_HEADROOM, room for the ESP header in
 * front; with TUN offloads, each read a packet of up to 64 KiB behind its
 * virtio_net_hdr, cut into segments there, esp/gso.h) -> esp_encap in
 * place with the published outbound SA -> one
 * sendmmsg() on the tunnel's connected socket, runs of equal-size packets
 * as one UDP GSO datagram each (or vpn_udp_send_batch() through the
 * shared socket when the tunnel has no socket of its own). Counts per SA
 * and asks for a rekey when the volume or the sequence numbers run low
 * (tsa_check_volume).
 *
 * Calls: down to the ESP engine, vpnd_udp and the socket; tun_tx() is
 * the handler vpnd_tunnel.c installs for the TUN fd. Reads only what the
 * main thread published (vpnd_tunnel_int.h); writes only the TX counters
 * and tun_sock.no_gso.
 */
#include <zebra.h>

#include <netinet/udp.h>

#include "vpnd_tunnel_int.h"
#include "esp/gso.h"
#include "vpnd_udp.h"

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

/* The longest inner packet a batch slot takes: room for the ESP header
 * in front (TUN_HEADROOM) and its trailer and ICV behind. */
#define TUN_INNER_MAX (PKT_MAX - TUN_HEADROOM - 64)

/* A TUN read with its virtio_net_hdr (sc->tso, len bytes): the packet
 * cut into segments (the kernel's TSO/USO) in the batch slots from slot
 * on, or as it is with its checksum completed. Returns the segments, -1
 * when it is malformed or the slots left cannot take them. */
static int tun_split(struct vpn_dp_scratch *sc, size_t len, unsigned int slot,
		     uint16_t *lens)
{
	struct vpn_vnet_hdr vh;

	if (len < VPN_VNET_HDR_LEN)
		return -1;
	memcpy(&vh, sc->tso, sizeof(vh));
	return vpn_gso_split_max(&vh, sc->tso + VPN_VNET_HDR_LEN,
				 len - VPN_VNET_HDR_LEN,
				 sc->pkt[slot] + TUN_HEADROOM, PKT_MAX,
				 TUN_INNER_MAX, TUN_BATCH - slot, lens);
}

/* TUN readable: read batches, encapsulate each packet in place, send
 * each batch with one system call. */
void tun_tx(struct vpn_dp_ep *ep, struct vpn_dp_worker *w)
{
	struct vpn_tunnel *t = container_of(ep, struct vpn_tunnel, tun_ep);
	struct tun_state *st = tun_state_get(t);
	struct vpn_tsa *s = st ? st->out : NULL;
	struct vpn_dp_scratch *sc = vpn_dp_scratch(w);
	struct iovec out[TUN_BATCH];
	uint64_t packets = 0, bytes = 0, nosa = 0, cut = 0;
	size_t head = s ? esp_sa_head_len(s->out) : 0;
	bool more = true;

	for (int round = 0; round < TUN_ROUNDS && more; round++) {
		/* slot: the next free batch slot; nout: packets to send (a
		 * packet that failed to encapsulate leaves its slot unused) */
		unsigned int nout = 0, slot = 0;

		for (int n = 0; n < TUN_BATCH && slot < TUN_BATCH; n++) {
			uint16_t lens[TUN_BATCH];
			unsigned int base = slot;
			ssize_t len;
			int nseg = 1;

			if (t->vnet) {
				len = read(t->fd, sc->tso, sizeof(sc->tso));
				if (len <= 0) {
					more = false;
					break;
				}
				nseg = tun_split(sc, (size_t)len, slot, lens);
				if (nseg < 0 && slot) {
					/* not enough slots left, perhaps:
					 * the batch goes first */
					if (nout && st->sock)
						tun_send(st->sock, out, nout);
					base = slot = nout = 0;
					nseg = tun_split(sc, (size_t)len, 0,
							 lens);
				}
				if (nseg < 0) {
					ctr_add(&t->drop_tun_read, 1);
					continue;
				}
				if (nseg > 1)
					cut++;
			} else {
				len = read(t->fd, sc->pkt[slot] + TUN_HEADROOM,
					   TUN_INNER_MAX);
				if (len <= 0) {
					more = false;
					break;
				}
				lens[0] = (uint16_t)len;
			}
			if (!s) {
				nosa += (uint64_t)nseg;
				continue;
			}
			slot += (unsigned int)nseg;
			for (int i = 0; i < nseg; i++) {
				uint8_t *inner =
					sc->pkt[base + i] + TUN_HEADROOM;
				size_t esplen;
				uint8_t nh;
				enum esp_status r;

				nh = (inner[0] >> 4) == 6 ? ESP_NH_IPV6
							  : ESP_NH_IPV4;
				r = esp_encap(s->out, inner, lens[i], nh,
					      inner - head,
					      PKT_MAX - TUN_HEADROOM + head,
					      &esplen);
				if (r != ESP_OK) {
					ctr_add(&s->tx_drop[r], 1);
					continue;
				}
				packets++;
				bytes += lens[i];
				out[nout].iov_base = inner - head;
				out[nout].iov_len = esplen;
				nout++;
			}
		}
		if (nout && st->sock)
			tun_send(st->sock, out, nout);
	}
	if (nosa)
		ctr_add(&t->drop_no_sa, nosa);
	if (cut)
		ctr_add(&t->tso_reads, cut);
	if (s && packets) {
		ctr_add(&s->tx_packets, packets);
		ctr_add(&s->tx_bytes, bytes);
		tsa_check_volume(s, true);
	}
}
