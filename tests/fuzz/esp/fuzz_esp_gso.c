// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: segmentation of TUN super-packets and TCP coalescing
 * of received packets (vpnd/esp/gso.c).
 *
 * Byte 0 even: segmentation. Then 10 bytes of virtio_net_hdr (in this
 * machine's byte order, as TUN gives it), then the packet, split from a
 * heap buffer of exactly its length (the sanitizers see any read past the
 * end) into 16 segments of at most 1500 bytes. Checked besides: the
 * result is -1 or 1..16 segments within the sizes; a segmented packet's
 * payload comes out whole, in order, and every segment's IPv4 header
 * checksum (if IPv4) sums to zero.
 *
 * Byte 0 odd: coalescing. Then packets, each a 2-byte length (big
 * endian) and that many bytes, each copied into a heap buffer of exactly
 * its length, coalesced. Checked besides: every input is in exactly one
 * output, in order within it; a merged output splits back (as the kernel
 * would) into exactly the packets it was made of, but for IPv4 IDs and
 * header checksums.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp/gso.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

#define STRIDE 1500
#define MAXSEG 16

#define GRO_N 64

/* The same packet, but for the IPv4 identification and header checksum:
 * a merged packet keeps its first segment's ID, and segmenting numbers
 * them from there (the kernel's GRO and GSO do the same). */
static bool same_but_id(const uint8_t *a, size_t alen, const uint8_t *b,
			size_t blen)
{
	if (alen != blen)
		return false;
	if (alen >= 20 && a[0] >> 4 == 4)
		return !memcmp(a, b, 4) && !memcmp(a + 6, b + 6, 4) &&
		       !memcmp(a + 12, b + 12, alen - 12);
	return !memcmp(a, b, alen);
}

static void coalesce(const uint8_t *data, size_t size)
{
	static uint8_t buf[4 * 65536], segs[GRO_N * 65536];
	struct vpn_gro_in in[GRO_N];
	struct vpn_gro_out out[GRO_N];
	uint16_t lens[GRO_N];
	unsigned int n = 0, k, at = 0;

	while (n < GRO_N && size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		uint8_t *p;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		p = malloc(len ? len : 1);
		CHECK(p);
		memcpy(p, data, len);
		in[n].pkt = p;
		in[n++].len = (uint16_t)len;
		data += len;
		size -= len;
	}
	k = vpn_gro_tcp(in, n, out, buf, sizeof(buf));
	CHECK(k <= n);
	for (unsigned int i = 0; i < k; i++) {
		CHECK(out[i].nseg >= 1);
		if (out[i].nseg == 1) {
			/* as it came: one of the inputs */
			bool found = false;

			for (unsigned int j = 0; j < n; j++)
				found |= out[i].pkt == in[j].pkt &&
					 out[i].len == in[j].len;
			CHECK(found);
			at++;
			continue;
		}
		/* merged: splits back into the inputs it was made of, which
		 * came in this order (perhaps with other flows between) */
		{
			int m = vpn_gso_split(&out[i].vh, out[i].pkt,
					      out[i].len, segs, 65536, GRO_N,
					      lens);
			unsigned int j = 0;

			CHECK(m == out[i].nseg);
			for (int s = 0; s < m; s++) {
				while (j < n && !same_but_id(in[j].pkt, in[j].len,
							     segs + (size_t)s * 65536,
							     lens[s]))
					j++;
				CHECK(j < n);
				j++;
			}
			at += (unsigned int)m;
		}
	}
	CHECK(at == n);
	for (unsigned int j = 0; j < n; j++)
		free((void *)in[j].pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[MAXSEG * STRIDE];
	struct vpn_vnet_hdr vh;
	uint16_t lens[MAXSEG];
	uint8_t *pkt;
	size_t len, hlen = 0, got = 0;
	int n;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		coalesce(data + 1, size - 1);
		return 0;
	}
	data++;
	size--;
	if (size < VPN_VNET_HDR_LEN)
		return 0;
	memcpy(&vh, data, sizeof(vh));
	len = size - VPN_VNET_HDR_LEN;
	pkt = malloc(len ? len : 1);
	CHECK(pkt);
	memcpy(pkt, data + VPN_VNET_HDR_LEN, len);
	n = vpn_gso_split(&vh, pkt, len, out, STRIDE, MAXSEG, lens);
	CHECK(n == -1 || (n >= 1 && n <= MAXSEG));
	for (int i = 0; i < n; i++)
		CHECK(lens[i] <= STRIDE);
	if (n >= 1 && vh.gso_type != VPN_VNET_GSO_NONE) {
		int v = pkt[0] >> 4;

		hlen = (v == 4 ? (size_t)(pkt[0] & 15) * 4 : 40) +
		       (vh.gso_type == VPN_VNET_GSO_UDP_L4
				? 8
				: (size_t)(pkt[(v == 4 ? (pkt[0] & 15) * 4
						       : 40) + 12] >> 4) * 4);
		for (int i = 0; i < n; i++) {
			const uint8_t *s = out + (size_t)i * STRIDE;

			CHECK(lens[i] >= hlen);
			CHECK(!memcmp(s + hlen, pkt + hlen + got,
				      lens[i] - hlen));
			got += lens[i] - hlen;
			if (v == 4)
				CHECK(vpn_csum_fold(vpn_csum_add(
					      0, s, (size_t)(s[0] & 15) * 4)) ==
				      0);
		}
		CHECK(hlen + got == len);
	}
	free(pkt);
	return 0;
}
