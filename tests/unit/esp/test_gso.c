// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: segmentation of TUN super-packets (vpnd/esp/gso.c).
 *
 * TCP over IPv4 (with options) and IPv6, UDP (USO) over both, a payload
 * that divides evenly and one whose last segment is short, checksum
 * completion without GSO, and refusals. Coalescing (GRO): one flow and
 * interleaved flows merged and split back into the very same segments,
 * and what must not merge (gaps, flags, a damaged segment, changed
 * header fields, a short or PSH segment ending a run, fragments), limits. Every checksum is checked with
 * ref_csum() below, written apart from vpnd's (byte pairs, carry folded
 * at each step, RFC 1071 4.1), and the payload is checked to reassemble
 * byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "esp/gso.h"

#define TCP 6
#define UDP 17
#define STRIDE 2048
#define MAXSEG 64

static uint8_t segs[MAXSEG * STRIDE + 64];
static uint16_t lens[MAXSEG];

/* RFC 1071 4.1, the carry folded at every step. */
static uint16_t ref_csum(const uint8_t *a, size_t alen, const uint8_t *b,
			 size_t blen)
{
	uint32_t sum = 0;
	const uint8_t *p[2] = {a, b};
	size_t n[2] = {alen, blen};

	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < n[k]; i += 2) {
			uint16_t w = (uint16_t)(p[k][i] << 8);

			if (i + 1 < n[k])
				w |= p[k][i + 1];
			sum += w;
			sum = (sum & 0xffff) + (sum >> 16);
		}
	}
	return (uint16_t)~sum;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The L4 checksum of a segment is right: summing the pseudo-header and
 * the segment's L4 bytes, field included, gives 0 (RFC 1071). */
static void check_l4(const uint8_t *s, size_t len, int v, uint8_t proto)
{
	uint8_t ph[40];
	size_t iph = v == 4 ? (size_t)(s[0] & 15) * 4 : 40;
	size_t l4 = len - iph, phl;

	memset(ph, 0, sizeof(ph));
	if (v == 4) {
		memcpy(ph, s + 12, 8);
		ph[9] = proto;
		wr16(ph + 10, (uint16_t)l4);
		phl = 12;
	} else {
		memcpy(ph, s + 8, 32);
		ph[32] = 0;
		ph[33] = 0;
		wr16(ph + 34, (uint16_t)l4);
		ph[39] = proto;
		phl = 40;
	}
	assert_int_equal(ref_csum(ph, phl, s + iph, l4), 0);
	if (proto == UDP)
		assert_int_not_equal(rd16(s + iph + 6), 0);
}

static size_t ip_header(uint8_t *p, int v, uint8_t proto, size_t total)
{
	if (v == 4) {
		static const uint8_t h[20] = {0x45, 0x02, 0, 0, 0x12, 0x34,
					      0x40, 0,	  64,	0,    0, 0,
					      10,   1,	  2,	3,    10, 4,
					      5,    6};
		memcpy(p, h, 20);
		p[9] = proto;
		wr16(p + 2, (uint16_t)total);
		return 20;
	}
	memset(p, 0, 40);
	p[0] = 0x60;
	wr16(p + 4, (uint16_t)(total - 40));
	p[6] = proto;
	p[7] = 64;
	p[8] = 0x20;
	p[9] = 0x01;
	p[23] = 1;
	p[24] = 0x20;
	p[25] = 0x01;
	p[39] = 2;
	return 40;
}

/* A super-packet: IP, TCP (with 12 bytes of options) or UDP, payload of
 * plen bytes (byte i is i * 7 + 3). */
static size_t super(uint8_t *p, int v, uint8_t proto, size_t plen,
		    uint8_t tcpflags)
{
	size_t l4 = proto == TCP ? 32 : 8;
	size_t iph = v == 4 ? 20 : 40, total = iph + l4 + plen;

	ip_header(p, v, proto, total);
	memset(p + iph, 0, l4);
	wr16(p + iph, 40000);
	wr16(p + iph + 2, 443);
	if (proto == TCP) {
		p[iph + 4] = 0xfe; /* a sequence number about to wrap */
		p[iph + 5] = 0xff;
		p[iph + 6] = 0xff;
		p[iph + 7] = 0x00;
		p[iph + 12] = 8 << 4; /* 32 bytes */
		p[iph + 13] = tcpflags;
		wr16(p + iph + 14, 502);
		/* NOP NOP timestamps */
		p[iph + 20] = 1;
		p[iph + 21] = 1;
		p[iph + 22] = 8;
		p[iph + 23] = 10;
		for (int i = 24; i < 32; i++)
			p[iph + i] = (uint8_t)i;
		wr16(p + iph + 16, 0xbeef); /* what the kernel leaves */
	} else {
		wr16(p + iph + 4, (uint16_t)(l4 + plen));
		wr16(p + iph + 6, 0xbeef);
	}
	for (size_t i = 0; i < plen; i++)
		p[iph + l4 + i] = (uint8_t)(i * 7 + 3);
	return total;
}

static void split_and_check(int v, uint8_t proto, size_t plen, size_t mss)
{
	static uint8_t pkt[70000], joined[70000];
	uint8_t flags = 0x10 | 0x08 | 0x01 | 0x80; /* ACK PSH FIN CWR */
	size_t len = super(pkt, v, proto, plen, flags);
	size_t iph = v == 4 ? 20 : 40, l4 = proto == TCP ? 32 : 8;
	struct vpn_vnet_hdr vh = {
		.flags = VPN_VNET_F_NEEDS_CSUM,
		.gso_type = proto == UDP  ? VPN_VNET_GSO_UDP_L4
			    : v == 4	  ? VPN_VNET_GSO_TCPV4
					  : VPN_VNET_GSO_TCPV6,
		.hdr_len = 9999, /* not trusted */
		.gso_size = (uint16_t)mss,
		.csum_start = (uint16_t)iph,
		.csum_offset = proto == TCP ? 16 : 6,
	};
	int n = vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG, lens);
	size_t want = plen ? (plen + mss - 1) / mss : 1, got = 0;

	assert_int_equal(n, (int)want);
	for (int i = 0; i < n; i++) {
		const uint8_t *s = segs + (size_t)i * STRIDE;
		size_t seglen = lens[i], pl = seglen - iph - l4;
		bool last = i == n - 1;

		assert_int_equal(pl, last ? plen - (size_t)i * mss : mss);
		if (v == 4) {
			assert_int_equal(rd16(s + 2), seglen);
			assert_int_equal(rd16(s + 4), 0x1234 + i);
			assert_int_equal(ref_csum(s, 20, NULL, 0), 0);
			assert_memory_equal(s + 12, pkt + 12, 8);
			assert_int_equal(s[1], pkt[1]); /* TOS */
			assert_int_equal(s[6], pkt[6]); /* DF */
		} else {
			assert_int_equal(rd16(s + 4), seglen - 40);
			assert_memory_equal(s + 8, pkt + 8, 32);
		}
		if (proto == TCP) {
			const uint8_t *t = s + iph;

			assert_int_equal(rd32(t + 4),
					 (uint32_t)(0xfeffff00u +
						    (uint32_t)(i * mss)));
			assert_int_equal(rd32(t + 8), rd32(pkt + iph + 8));
			assert_int_equal(t[13] & 0x01, last ? 0x01 : 0);
			assert_int_equal(t[13] & 0x08, last ? 0x08 : 0);
			assert_int_equal(t[13] & 0x80, i == 0 ? 0x80 : 0);
			assert_int_equal(t[13] & 0x10, 0x10);
			assert_memory_equal(t + 20, pkt + iph + 20, 12);
		} else {
			assert_int_equal(rd16(s + iph + 4), seglen - iph);
		}
		check_l4(s, seglen, v, proto);
		memcpy(joined + got, s + iph + l4, pl);
		got += pl;
	}
	assert_int_equal(got, plen);
	assert_memory_equal(joined, pkt + iph + l4, plen);
}

static void test_tcp4(void **state)
{
	(void)state;
	split_and_check(4, TCP, 3000, 1000); /* even */
	split_and_check(4, TCP, 3100, 1000); /* the last one short */
	split_and_check(4, TCP, 65535 - 52, 1388);
	split_and_check(4, TCP, 1, 1388);
	split_and_check(4, TCP, 1001, 1000); /* odd length */
}

static void test_tcp6(void **state)
{
	(void)state;
	split_and_check(6, TCP, 4000, 1368);
	split_and_check(6, TCP, 65535 - 72, 1368);
	split_and_check(6, TCP, 777, 1368);
}

static void test_udp(void **state)
{
	(void)state;
	split_and_check(4, UDP, 2400, 1200);
	split_and_check(4, UDP, 2401, 1200);
	split_and_check(6, UDP, 5000, 1232);
	split_and_check(6, UDP, 3, 1232);
}

/* A UDP segment whose checksum comes out 0 carries 0xffff (RFC 768). */
static void test_udp_zero_checksum(void **state)
{
	uint8_t pkt[64];
	struct vpn_vnet_hdr vh = {.gso_type = VPN_VNET_GSO_UDP_L4,
				  .gso_size = 100};
	size_t len = super(pkt, 4, UDP, 2, 0);
	int n;
	uint16_t c;

	(void)state;
	/* choose payload bytes that make the sum come out 0 */
	pkt[28] = 0;
	pkt[29] = 0;
	n = vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG, lens);
	assert_int_equal(n, 1);
	c = rd16(segs + 26);
	/* a payload word equal to that checksum makes the sum 0xffff, so
	 * the checksum 0 */
	wr16(pkt + 28, c);
	n = vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG, lens);
	assert_int_equal(n, 1);
	assert_int_equal(rd16(segs + 26), 0xffff);
	check_l4(segs, lens[0], 4, UDP);
}

/* Without GSO: the packet as it is, its partial checksum completed. */
static void test_no_gso(void **state)
{
	uint8_t pkt[1500], ph[12];
	size_t len = super(pkt, 4, TCP, 1000, 0x18);
	struct vpn_vnet_hdr vh = {.flags = VPN_VNET_F_NEEDS_CSUM,
				  .gso_type = VPN_VNET_GSO_NONE,
				  .csum_start = 20,
				  .csum_offset = 16};
	uint16_t partial;

	(void)state;
	/* the kernel leaves the folded pseudo-header sum in the field */
	memcpy(ph, pkt + 12, 8);
	ph[8] = 0;
	ph[9] = TCP;
	wr16(ph + 10, (uint16_t)(len - 20));
	partial = (uint16_t)~ref_csum(ph, 12, NULL, 0);
	wr16(pkt + 36, partial);
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 1);
	assert_int_equal(lens[0], len);
	check_l4(segs, len, 4, TCP);
	assert_memory_equal(segs, pkt, 36);
	assert_memory_equal(segs + 38, pkt + 38, len - 38);

	/* no checksum asked: untouched, any protocol */
	vh.flags = 0;
	pkt[9] = 47;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 1);
	assert_memory_equal(segs, pkt, len);
	/* a checksum place beyond the packet */
	vh.flags = VPN_VNET_F_NEEDS_CSUM;
	vh.csum_start = (uint16_t)(len - 1);
	vh.csum_offset = 0;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
}

static void test_refused(void **state)
{
	static uint8_t pkt[70000];
	struct vpn_vnet_hdr vh = {.gso_type = VPN_VNET_GSO_TCPV4,
				  .gso_size = 1000};
	size_t len = super(pkt, 4, TCP, 3000, 0x10);

	(void)state;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 3);
	/* not offered: UFO, ECN */
	vh.gso_type = VPN_VNET_GSO_UDP;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	vh.gso_type = VPN_VNET_GSO_TCPV4 | VPN_VNET_GSO_ECN;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	/* the type does not match the packet */
	vh.gso_type = VPN_VNET_GSO_TCPV6;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	vh.gso_type = VPN_VNET_GSO_UDP_L4;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	vh.gso_type = VPN_VNET_GSO_TCPV4;
	/* no segment size, too many segments, segments too long */
	vh.gso_size = 0;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	vh.gso_size = 1000;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, 2, lens),
			 -1);
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, 1000, MAXSEG,
				       lens),
			 -1);
	/* IPv4 total length, header length, TCP data offset wrong */
	wr16(pkt + 2, (uint16_t)(len - 1));
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	wr16(pkt + 2, (uint16_t)len);
	pkt[0] = 0x44;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	pkt[0] = 0x45;
	pkt[32] = 4 << 4;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	pkt[32] = 8 << 4;
	/* truncated, oversized, not IP */
	assert_int_equal(vpn_gso_split(&vh, pkt, 30, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	assert_int_equal(vpn_gso_split(&vh, pkt, 65536, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
	pkt[0] = 0x55;
	assert_int_equal(vpn_gso_split(&vh, pkt, len, segs, STRIDE, MAXSEG,
				       lens),
			 -1);
}

/* Random packets under random headers: never more than asked for, never
 * a byte written past the segments' buffers. */
static void test_random_input(void **state)
{
	static uint8_t pkt[2100];
	uint8_t *guard = segs + 8 * 256;

	(void)state;
	srand(1071);
	for (int it = 0; it < 200000; it++) {
		struct vpn_vnet_hdr vh;
		size_t len = (size_t)rand() % sizeof(pkt);
		int n;

		for (size_t i = 0; i < len; i++)
			pkt[i] = (uint8_t)rand();
		if (len && it % 2)
			pkt[0] = (uint8_t)((it % 4 ? 0x45 : 0x60));
		if (len > 4 && it % 3) {
			wr16(pkt + 2, (uint16_t)len);
			wr16(pkt + 4, (uint16_t)(len - 40));
		}
		memset(&vh, 0, sizeof(vh));
		vh.flags = (uint8_t)(rand() % 2);
		vh.gso_type = (uint8_t)(rand() % 6);
		vh.gso_size = (uint16_t)(rand() % 300);
		vh.csum_start = (uint16_t)(rand() % 2200);
		vh.csum_offset = (uint16_t)(rand() % 20);
		memset(guard, 0xa5, 64);
		n = vpn_gso_split(&vh, pkt, len, segs, 256, 8, lens);
		assert_true(n >= -1 && n <= 8);
		for (int i = 0; i < n; i++)
			assert_true(lens[i] <= 256);
		for (int i = 0; i < 64; i++)
			assert_int_equal(guard[i], 0xa5);
	}
}

/* -- coalescing ------------------------------------------------------------ */

#define FLOWS 3

/* Compute the IPv4 header and TCP checksums of a segment (made, or whose
 * header a test changed). */
static void fix_csums(uint8_t *p, int v)
{
	size_t iph = v == 4 ? 20 : 40;
	size_t len = v == 4 ? rd16(p + 2) : 40u + rd16(p + 4);
	uint8_t ph[40];
	size_t phl;

	memset(ph, 0, sizeof(ph));
	if (v == 4) {
		wr16(p + 10, 0);
		wr16(p + 10, ref_csum(p, 20, NULL, 0));
		memcpy(ph, p + 12, 8);
		ph[9] = TCP;
		wr16(ph + 10, (uint16_t)(len - iph));
		phl = 12;
	} else {
		memcpy(ph, p + 8, 32);
		wr16(ph + 34, (uint16_t)(len - iph));
		ph[39] = TCP;
		phl = 40;
	}
	wr16(p + iph + 16, 0);
	wr16(p + iph + 16, ref_csum(ph, phl, p + iph, len - iph));
}

/* A valid TCP segment of flow f (ports differ), seq, payload plen bytes
 * (byte k of the flow's stream is (k * 13 + f) & 0xff), flags; IPv4 ID
 * id. Returns its length. */
static size_t tcp_seg(uint8_t *p, int v, int f, uint32_t seq, size_t plen,
		      uint8_t flags, uint16_t id)
{
	size_t iph = v == 4 ? 20 : 40, len = iph + 32 + plen;
	uint8_t *t = p + iph;

	ip_header(p, v, TCP, len);
	if (v == 4)
		wr16(p + 4, id);
	memset(t, 0, 32);
	wr16(t, (uint16_t)(40000 + f));
	wr16(t + 2, 443);
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[11] = 0x77; /* ACK number */
	t[12] = 8 << 4;
	t[13] = flags;
	wr16(t + 14, 502);
	t[20] = 1;
	t[21] = 1;
	t[22] = 8;
	t[23] = 10;
	t[27] = 9; /* timestamp */
	for (size_t k = 0; k < plen; k++)
		t[32 + k] = (uint8_t)(((seq - 1000u + k) * 13 + (size_t)f));
	fix_csums(p, v); /* valid checksums */
	return len;
}

static uint8_t gin[200][1600];
static uint8_t gbuf[8 * 65536];
static struct vpn_gro_in ins[200];
static struct vpn_gro_out outs[200];

/* n segments of one flow, mss bytes each but the last (last bytes). */
static unsigned int stream(int v, int f, unsigned int at, unsigned int n,
			   size_t mss, size_t last, uint32_t seq0)
{
	for (unsigned int i = 0; i < n; i++) {
		size_t pl = i + 1 == n ? last : mss;
		uint8_t fl = 0x10 | (i + 1 == n ? 0x08 : 0);

		ins[at + i].pkt = gin[at + i];
		ins[at + i].len = (uint16_t)tcp_seg(gin[at + i], v, f,
						   seq0 + (uint32_t)(i * mss),
						   pl, fl,
						   (uint16_t)(0x1234 + i));
	}
	return n;
}

/* The merged packet splits back into exactly the segments it was made
 * of (the way the kernel would segment it again). */
static void check_roundtrip(const struct vpn_gro_out *o,
			    const struct vpn_gro_in *orig)
{
	int n = vpn_gso_split(&o->vh, o->pkt, o->len, segs, STRIDE, MAXSEG,
			      lens);

	assert_int_equal(n, o->nseg);
	for (int i = 0; i < n; i++) {
		assert_int_equal(lens[i], orig[i].len);
		assert_memory_equal(segs + (size_t)i * STRIDE, orig[i].pkt,
				    lens[i]);
	}
}

static void test_gro_one_flow(void **state)
{
	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		unsigned int n = stream(v, 0, 0, 10, 1000, 400, 1000);
		unsigned int k = vpn_gro_tcp(ins, n, outs, gbuf, sizeof(gbuf));
		size_t iph = v == 4 ? 20 : 40;

		assert_int_equal(k, 1);
		assert_int_equal(outs[0].nseg, 10);
		assert_int_equal(outs[0].len, iph + 32 + 9400);
		assert_int_equal(outs[0].vh.flags, VPN_VNET_F_NEEDS_CSUM);
		assert_int_equal(outs[0].vh.gso_type,
				 v == 4 ? VPN_VNET_GSO_TCPV4
					: VPN_VNET_GSO_TCPV6);
		assert_int_equal(outs[0].vh.gso_size, 1000);
		assert_int_equal(outs[0].vh.hdr_len, iph + 32);
		assert_int_equal(outs[0].vh.csum_start, iph);
		assert_int_equal(outs[0].vh.csum_offset, 16);
		assert_int_equal(outs[0].pkt[iph + 13], 0x18); /* ACK PSH */
		check_roundtrip(&outs[0], ins);
	}
}

/* Interleaved flows: each merged, in the order of its first packet. */
static void test_gro_flows(void **state)
{
	unsigned int k;

	(void)state;
	for (unsigned int i = 0; i < 12; i++) {
		int f = (int)(i % FLOWS);
		unsigned int j = i / FLOWS;

		ins[i].pkt = gin[i];
		ins[i].len = (uint16_t)tcp_seg(gin[i], 4, f,
					       1000 + j * 500, 500, 0x10,
					       (uint16_t)(0x1234 + j));
	}
	k = vpn_gro_tcp(ins, 12, outs, gbuf, sizeof(gbuf));
	assert_int_equal(k, FLOWS);
	for (int f = 0; f < FLOWS; f++) {
		struct vpn_gro_in orig[4];

		assert_int_equal(outs[f].nseg, 4);
		assert_int_equal(rd16(outs[f].pkt + 20), 40000 + f);
		for (int j = 0; j < 4; j++)
			orig[j] = ins[j * FLOWS + f];
		check_roundtrip(&outs[f], orig);
	}
}

/* What must not be merged goes as it came, and nothing of its flow
 * passes it. */
static void test_gro_not_merged(void **state)
{
	unsigned int k;

	(void)state;
	/* a gap in the sequence */
	stream(4, 0, 0, 2, 1000, 1000, 1000);
	stream(4, 0, 2, 2, 1000, 1000, 5000);
	k = vpn_gro_tcp(ins, 4, outs, gbuf, sizeof(gbuf));
	assert_int_equal(k, 2);
	assert_int_equal(outs[0].nseg, 2);
	assert_int_equal(outs[1].nseg, 2);

	/* FIN, SYN, RST, URG, ECE, CWR, no ACK, no payload: alone, and
	 * the flow's next segments after it */
	{
		static const uint8_t bad[] = {0x11, 0x12, 0x14, 0x30,
					      0x50, 0x90, 0x00};

		for (size_t b = 0; b <= sizeof(bad); b++) {
			stream(4, 0, 0, 4, 1000, 1000, 1000);
			if (b < sizeof(bad))
				tcp_seg(gin[1], 4, 0, 2000, 1000, bad[b],
					0x1235);
			else { /* a pure ACK takes no sequence space: the
				* segments after it follow on from the first */
				ins[1].len = (uint16_t)tcp_seg(
					gin[1], 4, 0, 2000, 0, 0x10, 0x1235);
				tcp_seg(gin[2], 4, 0, 2000, 1000, 0x10,
					0x1236);
				tcp_seg(gin[3], 4, 0, 3000, 1000, 0x18,
					0x1237);
			}
			k = vpn_gro_tcp(ins, 4, outs, gbuf, sizeof(gbuf));
			assert_int_equal(k, 3);
			assert_int_equal(outs[0].nseg, 1);
			assert_ptr_equal(outs[0].pkt, ins[0].pkt);
			assert_ptr_equal(outs[1].pkt, ins[1].pkt);
			assert_int_equal(outs[1].vh.gso_type, 0);
			assert_int_equal(outs[2].nseg, 2);
		}
	}

	/* a damaged segment: not hidden in a merged one */
	stream(6, 0, 0, 3, 1000, 1000, 1000);
	gin[1][100] ^= 1;
	k = vpn_gro_tcp(ins, 3, outs, gbuf, sizeof(gbuf));
	assert_int_equal(k, 3);
	for (unsigned int i = 0; i < 3; i++)
		assert_ptr_equal(outs[i].pkt, ins[i].pkt);

	/* a header field a segment does not change differs: a new packet */
	{
		/* ACK, window, options, TTL, TOS, the reserved bits beside
		 * the data offset, the urgent pointer */
		static const size_t at[] = {20 + 11, 20 + 15, 20 + 27, 8, 1,
					    20 + 12, 20 + 19};

		for (size_t b = 0; b < sizeof(at) / sizeof(at[0]); b++) {
			stream(4, 0, 0, 3, 1000, 1000, 1000);
			/* beside the offset: the AE bit, not the offset */
			gin[2][at[b]] ^= at[b] == 20 + 12 ? 0x01 : 0x40;
			fix_csums(gin[2], 4);
			k = vpn_gro_tcp(ins, 3, outs, gbuf, sizeof(gbuf));
			assert_int_equal(k, 2);
			assert_int_equal(outs[0].nseg, 2);
			assert_ptr_equal(outs[1].pkt, ins[2].pkt);
		}
	}

	/* a shorter segment ends a merge; a longer one after it starts a
	 * new one; PSH ends one */
	stream(4, 0, 0, 4, 1000, 1000, 1000);
	ins[1].len = (uint16_t)tcp_seg(gin[1], 4, 0, 2000, 500, 0x10, 0x1235);
	tcp_seg(gin[2], 4, 0, 2500, 1000, 0x18, 0x1236);
	tcp_seg(gin[3], 4, 0, 3500, 1000, 0x10, 0x1237);
	k = vpn_gro_tcp(ins, 4, outs, gbuf, sizeof(gbuf));
	assert_int_equal(k, 3);
	assert_int_equal(outs[0].nseg, 2);
	assert_int_equal(outs[1].nseg, 1);
	assert_int_equal(outs[2].nseg, 1);
	check_roundtrip(&outs[0], ins);

	/* a fragment, the reserved flag, a damaged IPv4 header: as it
	 * came */
	{
		static const struct {
			size_t at;
			uint8_t x;
			bool fix; /* checksums made right again after it */
		} bad[] = {{6, 0x20, true}, {6, 0x80, true}, {10, 0x01, false}};

		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			stream(4, 0, 0, 2, 1000, 1000, 1000);
			gin[1][bad[b].at] ^= bad[b].x;
			if (bad[b].fix)
				fix_csums(gin[1], 4);
			k = vpn_gro_tcp(ins, 2, outs, gbuf, sizeof(gbuf));
			assert_int_equal(k, 2);
		}
	}
}

/* No room in buf: everything as it came; over 64 KiB: several. */
static void test_gro_limits(void **state)
{
	unsigned int k, total = 0;

	(void)state;
	stream(4, 0, 0, 5, 1000, 1000, 1000);
	k = vpn_gro_tcp(ins, 5, outs, gbuf, 3000);
	assert_int_equal(k, 5);
	for (unsigned int i = 0; i < 5; i++)
		assert_ptr_equal(outs[i].pkt, ins[i].pkt);

	/* 200 segments of 1400 bytes: no output over 65535 bytes, every
	 * segment in exactly one output, in order */
	stream(4, 0, 0, 200, 1400, 1400, 1000);
	k = vpn_gro_tcp(ins, 200, outs, gbuf, sizeof(gbuf));
	assert_true(k >= 5 && k < 200);
	for (unsigned int i = 0; i < k; i++) {
		assert_true(outs[i].len <= 65535);
		if (outs[i].nseg > 1)
			check_roundtrip(&outs[i], ins + total);
		total += outs[i].nseg;
	}
	assert_int_equal(total, 200);
}

/* Random packets: never more outputs than inputs, each input in one. */
static void test_gro_random(void **state)
{
	(void)state;
	srand(8200);
	for (int it = 0; it < 3000; it++) {
		unsigned int n = (unsigned int)rand() % 40, k, total = 0;

		for (unsigned int i = 0; i < n; i++) {
			size_t len;

			if (rand() % 3) {
				len = tcp_seg(gin[i], rand() % 2 ? 4 : 6,
					      rand() % 2, 1000u + (unsigned)(rand() % 3) * 1000,
					      (size_t)(rand() % 3) * 500,
					      (uint8_t)(rand() % 2 ? 0x10 : rand()),
					      0);
			} else {
				len = (size_t)rand() % 1600;
				for (size_t b = 0; b < len; b++)
					gin[i][b] = (uint8_t)rand();
			}
			if (rand() % 10 == 0 && len)
				gin[i][(size_t)rand() % len] ^= 0xff;
			ins[i].pkt = gin[i];
			ins[i].len = (uint16_t)len;
		}
		k = vpn_gro_tcp(ins, n, outs, gbuf, sizeof(gbuf));
		assert_true(k <= n);
		for (unsigned int i = 0; i < k; i++) {
			total += outs[i].nseg;
			if (outs[i].nseg > 1) {
				int m = vpn_gso_split(&outs[i].vh, outs[i].pkt,
						      outs[i].len, segs,
						      STRIDE, MAXSEG, lens);
				assert_int_equal(m, outs[i].nseg);
			}
		}
		assert_int_equal(total, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_udp_zero_checksum),
		cmocka_unit_test(test_no_gso),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_random_input),
		cmocka_unit_test(test_gro_one_flow),
		cmocka_unit_test(test_gro_flows),
		cmocka_unit_test(test_gro_not_merged),
		cmocka_unit_test(test_gro_limits),
		cmocka_unit_test(test_gro_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
