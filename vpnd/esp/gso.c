// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: TCP and UDP segmentation of TUN super-packets (gso.h).
 *
 * What the kernel's tcp_gso_segment() and __udp_gso_segment() do for a
 * device without TSO, done on a packet TUN hands to user space: the
 * headers are copied in front of each gso_size slice of the payload and
 * fixed up per segment, and every L4 checksum is computed in full (the
 * super-packet's holds only the pseudo-header sum, or nothing useful).
 */
#include "gso.h"

#include <stdbool.h>
#include <string.h>

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

uint32_t vpn_csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
	uint64_t s = sum;

	for (; len >= 2; data += 2, len -= 2)
		s += get16(data);
	if (len)
		s += (uint32_t)data[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

uint16_t vpn_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The parsed headers of a packet. */
struct hdrs {
	int v;		 /* 4 or 6 */
	size_t ip_len;	 /* IP header bytes */
	uint8_t proto;	 /* TCP or UDP (GSO), any (no GSO) */
	size_t l4_len;	 /* TCP or UDP header bytes */
};

static int parse(const uint8_t *pkt, size_t len, struct hdrs *h)
{
	if (len < 1)
		return -1;
	h->v = pkt[0] >> 4;
	if (h->v == 4) {
		if (len < 20)
			return -1;
		h->ip_len = (size_t)(pkt[0] & 0x0f) * 4;
		if (h->ip_len < 20 || h->ip_len > len ||
		    get16(pkt + 2) != len)
			return -1;
		h->proto = pkt[9];
	} else if (h->v == 6) {
		if (len < 40 || get16(pkt + 4) != len - 40)
			return -1;
		h->ip_len = 40;
		h->proto = pkt[6]; /* GSO only without extension headers */
	} else {
		return -1;
	}
	h->l4_len = 0;
	if (h->proto == IPPROTO_TCP_ && len >= h->ip_len + 20) {
		h->l4_len = (size_t)(pkt[h->ip_len + 12] >> 4) * 4;
		if (h->l4_len < 20 || h->ip_len + h->l4_len > len)
			return -1;
	} else if (h->proto == IPPROTO_UDP_ && len >= h->ip_len + 8) {
		h->l4_len = 8;
	}
	return 0;
}

/* The pseudo-header sum for an L4 segment of l4len bytes (RFC 793, RFC
 * 768, RFC 8200 8.1). */
static uint32_t pseudo(const uint8_t *ip, const struct hdrs *h, size_t l4len)
{
	uint32_t s;

	if (h->v == 4)
		s = vpn_csum_add(0, ip + 12, 8);
	else
		s = vpn_csum_add(0, ip + 8, 32);
	s += h->proto;
	s += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff);
	return s;
}

/* No GSO: the packet as it is, its checksum completed if asked. */
static int whole(const struct vpn_vnet_hdr *vh, const uint8_t *pkt,
		 size_t len, uint8_t *out, size_t stride, uint16_t *lens)
{
	if (len > stride)
		return -1;
	memcpy(out, pkt, len);
	lens[0] = (uint16_t)len;
	if (vh->flags & VPN_VNET_F_NEEDS_CSUM) {
		size_t start = vh->csum_start, at = start + vh->csum_offset;
		uint16_t c;

		if (start > len || at + 2 > len)
			return -1;
		/* the field holds the pseudo-header sum: sum it all */
		c = vpn_csum_fold(vpn_csum_add(0, out + start, len - start));
		/* UDP's 0 means "no checksum" (RFC 768); the kernel does
		 * the same (CSUM_MANGLED_0) */
		if (c == 0 && vh->csum_offset == 6)
			c = 0xffff;
		put16(out + at, c);
	}
	return 1;
}

int vpn_gso_split(const struct vpn_vnet_hdr *vh, const uint8_t *pkt,
		  size_t len, uint8_t *out, size_t stride, unsigned int max,
		  uint16_t *lens)
{
	return vpn_gso_split_max(vh, pkt, len, out, stride, stride, max, lens);
}

int vpn_gso_split_max(const struct vpn_vnet_hdr *vh, const uint8_t *pkt,
		      size_t len, uint8_t *out, size_t stride, size_t maxlen,
		      unsigned int max, uint16_t *lens)
{
	struct hdrs h;
	size_t hlen, payload, mss, off;
	unsigned int nseg;
	uint8_t want;
	uint16_t ip_id;
	uint32_t seq = 0;

	if (!vh || !pkt || !out || !lens || max == 0 || maxlen > stride ||
	    len > VPN_GSO_MAX_PACKET)
		return -1;
	if (vh->gso_type == VPN_VNET_GSO_NONE)
		return whole(vh, pkt, len, out, maxlen, lens);

	switch (vh->gso_type) {
	case VPN_VNET_GSO_TCPV4:
	case VPN_VNET_GSO_TCPV6:
		want = IPPROTO_TCP_;
		break;
	case VPN_VNET_GSO_UDP_L4:
		want = IPPROTO_UDP_;
		break;
	default: /* UFO, ECN, anything else: not offered */
		return -1;
	}
	if (parse(pkt, len, &h) < 0 || h.proto != want || !h.l4_len)
		return -1;
	if ((vh->gso_type == VPN_VNET_GSO_TCPV4 && h.v != 4) ||
	    (vh->gso_type == VPN_VNET_GSO_TCPV6 && h.v != 6))
		return -1;
	hlen = h.ip_len + h.l4_len;
	payload = len - hlen;
	mss = vh->gso_size;
	if (mss == 0 || hlen + mss > maxlen)
		return -1;
	nseg = payload ? (unsigned int)((payload + mss - 1) / mss) : 1;
	if (nseg > max)
		return -1;
	ip_id = h.v == 4 ? get16(pkt + 4) : 0;
	if (want == IPPROTO_TCP_)
		seq = get32(pkt + h.ip_len + 4);

	off = hlen;
	for (unsigned int i = 0; i < nseg; i++) {
		size_t n = payload - (off - hlen) < mss ? payload - (off - hlen)
							: mss;
		uint8_t *s = out + (size_t)i * stride;
		uint8_t *l4 = s + h.ip_len;
		size_t l4len = h.l4_len + n;
		bool last = i + 1 == nseg;
		uint32_t sum;

		memcpy(s, pkt, hlen);
		memcpy(s + hlen, pkt + off, n);
		off += n;
		lens[i] = (uint16_t)(hlen + n);
		if (h.v == 4) {
			put16(s + 2, (uint16_t)(hlen + n));
			put16(s + 4, (uint16_t)(ip_id + i));
			put16(s + 10, 0);
			put16(s + 10, vpn_csum_fold(vpn_csum_add(0, s,
								 h.ip_len)));
		} else {
			put16(s + 4, (uint16_t)l4len);
		}
		if (want == IPPROTO_TCP_) {
			put32(l4 + 4, seq + (uint32_t)(i * mss));
			if (!last)
				l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (i)
				l4[13] &= (uint8_t)~TCP_CWR;
			put16(l4 + 16, 0);
			sum = pseudo(s, &h, l4len);
			sum = vpn_csum_add(sum, l4, l4len);
			put16(l4 + 16, vpn_csum_fold(sum));
		} else {
			uint16_t c;

			put16(l4 + 4, (uint16_t)l4len);
			put16(l4 + 6, 0);
			sum = pseudo(s, &h, l4len);
			c = vpn_csum_fold(vpn_csum_add(sum, l4, l4len));
			put16(l4 + 6, c ? c : 0xffff);
		}
	}
	return (int)nseg;
}

/* ------------------------------------------------------------------ */
/* Coalescing (GRO)                                                    */
/* ------------------------------------------------------------------ */

#define TCP_ACK 0x10
#define GRO_WINDOW 128 /* packets looked at together */

struct seg {
	struct hdrs h;
	bool tcp; /* a TCP packet whose headers parse */
	size_t plen;
	uint32_t seq;
	uint8_t flags;
};

struct group {
	unsigned int first, last; /* input indexes */
	unsigned int count;
	size_t total;	/* payload bytes */
	size_t mss;	/* the first segment's payload */
	uint32_t next;	/* sequence number expected next */
	bool open;
	bool mergeable; /* its packets may take more */
};

/* A TCP segment that may be merged: IPv4 without options or fragments,
 * or IPv6 straight to TCP; ACK and at most PSH; payload; valid checksums. */
static bool gro_seg(const uint8_t *p, size_t len, struct seg *s)
{
	uint32_t sum;

	s->tcp = parse(p, len, &s->h) == 0 && s->h.proto == IPPROTO_TCP_ &&
		 s->h.l4_len;
	if (!s->tcp)
		return false;
	/* IPv4: no options, no fragment, no bit but DF among the flags,
	 * and a valid header checksum (a merged packet gets a new one: a
	 * damaged header must not hide in it) */
	if (s->h.v == 4 &&
	    (s->h.ip_len != 20 || (get16(p + 6) & 0xbfff) ||
	     vpn_csum_fold(vpn_csum_add(0, p, 20)) != 0))
		return false;
	s->plen = len - s->h.ip_len - s->h.l4_len;
	s->seq = get32(p + s->h.ip_len + 4);
	s->flags = p[s->h.ip_len + 13];
	if (!s->plen || (s->flags & ~TCP_PSH) != TCP_ACK)
		return false;
	sum = pseudo(p, &s->h, len - s->h.ip_len);
	sum = vpn_csum_add(sum, p + s->h.ip_len, len - s->h.ip_len);
	return vpn_csum_fold(sum) == 0;
}

/* The same TCP flow: addresses and ports. */
static bool gro_flow(const uint8_t *a, const struct seg *sa, const uint8_t *b,
		     const struct seg *sb)
{
	if (sa->h.v != sb->h.v)
		return false;
	if (sa->h.v == 4 ? memcmp(a + 12, b + 12, 8)
			 : memcmp(a + 8, b + 8, 32))
		return false;
	return !memcmp(a + sa->h.ip_len, b + sb->h.ip_len, 4);
}

/* b belongs with a: the same flow and the same header fields, but for
 * those a segment changes (lengths, IPv4 ID and checksum, sequence
 * number, checksum, PSH). */
static bool gro_same(const uint8_t *a, const struct seg *sa,
		     const uint8_t *b, const struct seg *sb)
{
	size_t ip = sa->h.ip_len;

	if (sa->h.v != sb->h.v || sa->h.l4_len != sb->h.l4_len)
		return false;
	if (sa->h.v == 4) {
		if (a[1] != b[1] || a[8] != b[8] || (a[6] ^ b[6]) & 0x40 ||
		    memcmp(a + 12, b + 12, 8))
			return false;
	} else if (memcmp(a, b, 4) || a[7] != b[7] ||
		   memcmp(a + 8, b + 8, 32)) {
		return false;
	}
	return !memcmp(a + ip, b + ip, 4) &&	       /* ports */
	       !memcmp(a + ip + 8, b + ip + 8, 4) &&   /* ACK */
	       a[ip + 12] == b[ip + 12] &&	       /* offset, AE */
	       !memcmp(a + ip + 14, b + ip + 14, 2) && /* window */
	       !memcmp(a + ip + 18, b + ip + 18, 2) && /* urgent pointer */
	       !memcmp(a + ip + 20, b + ip + 20, sa->h.l4_len - 20);
}

/* The super-packet of group g at dst (room checked by the caller). */
static uint16_t gro_build(const struct vpn_gro_in *in, const struct seg *segs,
			  const unsigned int *next, const struct group *g,
			  uint8_t *dst, struct vpn_vnet_hdr *vh)
{
	const struct seg *h = &segs[g->first];
	size_t ip = h->h.ip_len, hl = ip + h->h.l4_len, len = hl + g->total;
	uint8_t *l4 = dst + ip;
	size_t off = hl;

	memcpy(dst, in[g->first].pkt, hl);
	for (unsigned int i = g->first;; i = next[i]) {
		memcpy(dst + off, in[i].pkt + hl, segs[i].plen);
		off += segs[i].plen;
		if (i == g->last)
			break;
	}
	if (h->h.v == 4) {
		put16(dst + 2, (uint16_t)len);
		put16(dst + 10, 0);
		put16(dst + 10, vpn_csum_fold(vpn_csum_add(0, dst, ip)));
	} else {
		put16(dst + 4, (uint16_t)(len - 40));
	}
	l4[13] = (uint8_t)(TCP_ACK | (segs[g->last].flags & TCP_PSH));
	/* the pseudo-header sum, for the kernel to complete */
	put16(l4 + 16, (uint16_t)~vpn_csum_fold(pseudo(dst, &h->h, len - ip)));
	*vh = (struct vpn_vnet_hdr){
		.flags = VPN_VNET_F_NEEDS_CSUM,
		.gso_type = h->h.v == 4 ? VPN_VNET_GSO_TCPV4
					: VPN_VNET_GSO_TCPV6,
		.hdr_len = (uint16_t)hl,
		.gso_size = (uint16_t)g->mss,
		.csum_start = (uint16_t)ip,
		.csum_offset = 16,
	};
	return (uint16_t)len;
}

static unsigned int gro_window(const struct vpn_gro_in *in, unsigned int n,
			       struct vpn_gro_out *out, uint8_t **buf,
			       size_t *room)
{
	struct seg segs[GRO_WINDOW];
	struct group groups[GRO_WINDOW];
	unsigned int next[GRO_WINDOW], ng = 0, nout = 0;

	for (unsigned int i = 0; i < n; i++) {
		bool ok = gro_seg(in[i].pkt, in[i].len, &segs[i]);
		struct group *g = NULL;

		/* the open group of its flow, if any; a packet of the flow
		 * that cannot be merged closes it (nothing of the flow
		 * passes it) */
		for (unsigned int k = ng; segs[i].tcp && k-- > 0;) {
			struct group *c = &groups[k];

			if (!c->open || !gro_flow(in[c->first].pkt,
						  &segs[c->first], in[i].pkt,
						  &segs[i]))
				continue;
			if (ok && gro_same(in[c->first].pkt, &segs[c->first],
					   in[i].pkt, &segs[i]))
				g = c;
			else
				c->open = false;
			break;
		}
		if (g && segs[i].seq == g->next && segs[i].plen <= g->mss &&
		    segs[g->first].h.ip_len + segs[g->first].h.l4_len +
				    g->total + segs[i].plen <=
			    VPN_GSO_MAX_PACKET) {
			next[g->last] = i;
			g->last = i;
			g->count++;
			g->total += segs[i].plen;
			g->next += (uint32_t)segs[i].plen;
			if (segs[i].plen < g->mss || segs[i].flags & TCP_PSH)
				g->open = false;
			continue;
		}
		if (g) /* its flow goes on in a new group */
			g->open = false;
		groups[ng++] = (struct group){
			.first = i,
			.last = i,
			.count = 1,
			.total = ok ? segs[i].plen : 0,
			.mss = ok ? segs[i].plen : 0,
			.next = ok ? segs[i].seq + (uint32_t)segs[i].plen : 0,
			.open = ok && !(segs[i].flags & TCP_PSH),
			.mergeable = ok,
		};
	}
	for (unsigned int k = 0; k < ng; k++) {
		struct group *g = &groups[k];
		size_t need = g->count > 1 ? segs[g->first].h.ip_len +
						     segs[g->first].h.l4_len +
						     g->total
					   : 0;

		if (g->count > 1 && need <= *room) {
			out[nout].len = gro_build(in, segs, next, g, *buf,
						  &out[nout].vh);
			out[nout].pkt = *buf;
			out[nout++].nseg = (uint16_t)g->count;
			*buf += need;
			*room -= need;
			continue;
		}
		for (unsigned int i = g->first;; i = next[i]) {
			out[nout++] = (struct vpn_gro_out){
				.pkt = in[i].pkt, .len = in[i].len, .nseg = 1};
			if (i == g->last)
				break;
		}
	}
	return nout;
}

unsigned int vpn_gro_tcp(const struct vpn_gro_in *in, unsigned int n,
			 struct vpn_gro_out *out, uint8_t *buf,
			 size_t bufsize)
{
	unsigned int nout = 0;

	if (!in || !out || (!buf && bufsize))
		return 0;
	for (unsigned int at = 0; at < n; at += GRO_WINDOW) {
		unsigned int w = n - at < GRO_WINDOW ? n - at : GRO_WINDOW;

		nout += gro_window(in + at, w, out + nout, &buf, &bufsize);
	}
	return nout;
}
