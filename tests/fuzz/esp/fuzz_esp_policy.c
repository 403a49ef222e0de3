// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the inbound traffic-selector check (vpnd/esp/policy.c).
 *
 * Input:
 *   byte 0      next header: bit 0 clear IPv4 (4), set IPv6 (41); with
 *               bit 1 set, byte 0 itself is passed (anything at all)
 *   byte 1      low nibble: local selectors, high nibble: remote ones
 *               (each % 4)
 *   7 bytes per selector, local ones first:
 *     [0] flags: bit 0 IPv6, bit 1 protocol 0 (any), bit 2 full port
 *         range, bit 3 full address range
 *     [1] protocol  [2..3] start port  [4..5] end port
 *     [6] prefix length: the range is that prefix around the packet's
 *         own destination (local) or source (remote) address, so that
 *         matches happen
 *   the rest    the inner packet, checked from a heap buffer of exactly
 *               its length (the sanitizers see any read past the end)
 *
 * Checked besides: no selectors never match; selectors covering
 * everything match every packet with the announced IP version and a
 * whole IP header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp/esp.h"
#include "esp/policy.h"
#include "util/bytes.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

#define SEL_LEN 7

/* The packet's source or destination address, as far as it is there. */
static void pkt_addr(const uint8_t *pkt, size_t len, bool v6, bool dst,
		     uint8_t *addr)
{
	size_t off = v6 ? (dst ? 24 : 8) : (dst ? 16 : 12);
	size_t alen = v6 ? 16 : 4;

	memset(addr, 0, 16);
	if (len > off)
		memcpy(addr, pkt + off, len - off < alen ? len - off : alen);
}

static void make_ts(struct ike_ts *ts, const uint8_t *d, const uint8_t *pkt,
		    size_t len, bool local)
{
	bool v6 = d[0] & 1;
	unsigned int alen = v6 ? 16 : 4, plen = d[6] % (alen * 8 + 1);
	uint8_t base[16];

	memset(ts, 0, sizeof(*ts));
	ts->type = v6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
	ts->proto = d[0] & 2 ? 0 : d[1];
	ts->start_port = d[0] & 4 ? 0 : vpn_get_be16(d + 2);
	ts->end_port = d[0] & 4 ? 0xffff : vpn_get_be16(d + 4);
	if (d[0] & 8)
		plen = 0;
	pkt_addr(pkt, len, v6, local, base);
	for (unsigned int i = 0; i < alen; i++) {
		unsigned int bits = plen > i * 8 ? plen - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		ts->start[i] = base[i] & mask;
		ts->end[i] = base[i] | (uint8_t)~mask;
	}
}

static bool check_copy(const struct esp_policy *p, const uint8_t *pkt,
		       size_t len, uint8_t nh)
{
	uint8_t *buf = malloc(len ? len : 1);
	bool r;

	CHECK(buf);
	if (len)
		memcpy(buf, pkt, len);
	r = esp_policy_check(p, buf, len, nh);
	free(buf);
	return r;
}

/* Every address, protocol and port of both families, on both sides. */
static void policy_all(struct esp_policy *p)
{
	struct ike_ts ts[2] = {
		{ .type = IKE_TS_IPV4_ADDR_RANGE, .end_port = 0xffff },
		{ .type = IKE_TS_IPV6_ADDR_RANGE, .end_port = 0xffff },
	};

	memset(ts[0].end, 0xff, 4);
	memset(ts[1].end, 0xff, 16);
	esp_policy_set(p, ts, 2, ts, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct esp_policy p, all, none;
	struct ike_ts local[4], remote[4];
	unsigned int nl, nr;
	const uint8_t *pkt;
	size_t len;
	uint8_t nh;
	bool r, whole;

	if (size < 2)
		return 0;
	nh = data[0] & 2 ? data[0] : (data[0] & 1 ? ESP_NH_IPV6 : ESP_NH_IPV4);
	nl = (data[1] & 0xf) % 4;
	nr = (data[1] >> 4) % 4;
	if (size < 2 + (nl + nr) * SEL_LEN)
		return 0;
	pkt = data + 2 + (nl + nr) * SEL_LEN;
	len = size - 2 - (nl + nr) * SEL_LEN;
	for (unsigned int i = 0; i < nl; i++)
		make_ts(&local[i], data + 2 + i * SEL_LEN, pkt, len, true);
	for (unsigned int i = 0; i < nr; i++)
		make_ts(&remote[i], data + 2 + (nl + i) * SEL_LEN, pkt, len,
			false);
	esp_policy_set(&p, local, nl, remote, nr);
	r = check_copy(&p, pkt, len, nh);
	/* the same answer twice: nothing kept between calls */
	CHECK(r == check_copy(&p, pkt, len, nh));

	esp_policy_set(&none, local, 0, remote, 0);
	CHECK(!check_copy(&none, pkt, len, nh));
	policy_all(&all);
	whole = (nh == ESP_NH_IPV4 && len >= 20 && pkt[0] >> 4 == 4) ||
		(nh == ESP_NH_IPV6 && len >= 40 && pkt[0] >> 4 == 6);
	CHECK(check_copy(&all, pkt, len, nh) == whole);
	return 0;
}
