// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: inbound policy check of ESP SAs (RFC 4301 section 5.2); see
 * policy.h. Called by the daemon's RX path for every decapsulated packet,
 * so: no allocation, one pass over the headers, every read bounded by len.
 */
#include <string.h>
#include <netinet/in.h>

#include "esp/esp.h"
#include "esp/policy.h"
#include "util/bytes.h"

#define IPV6_EXT_HOPS 8 /* extension headers walked at most */

/* What the selectors are matched against. port -1: the packet shows
 * none (non-first fragment, short or unknown transport). */
struct flow {
	uint8_t type; /* IKE_TS_IPV4_ADDR_RANGE or IKE_TS_IPV6_ADDR_RANGE */
	uint8_t proto;
	const uint8_t *src, *dst;
	int sport, dport;
};

/* A selector covering every address, protocol and port of its family. */
static bool ts_full(const struct ike_ts *ts)
{
	size_t alen = ts->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
	static const uint8_t zero[16];
	static const uint8_t ones[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff };

	return ts->proto == 0 && ts->start_port == 0 &&
	       ts->end_port == 0xffff && !memcmp(ts->start, zero, alen) &&
	       !memcmp(ts->end, ones, alen);
}

static bool ts_any(const struct ike_ts *ts, unsigned int n, uint8_t type)
{
	for (unsigned int i = 0; i < n; i++)
		if (ts[i].type == type && ts_full(&ts[i]))
			return true;
	return false;
}

void esp_policy_set(struct esp_policy *p, const struct ike_ts *local,
		    unsigned int nl, const struct ike_ts *remote,
		    unsigned int nr)
{
	p->n_local = nl < IKE_MAX_TS ? nl : IKE_MAX_TS;
	p->n_remote = nr < IKE_MAX_TS ? nr : IKE_MAX_TS;
	memcpy(p->local, local, p->n_local * sizeof(p->local[0]));
	memcpy(p->remote, remote, p->n_remote * sizeof(p->remote[0]));
	p->any4 = ts_any(p->local, p->n_local, IKE_TS_IPV4_ADDR_RANGE) &&
		  ts_any(p->remote, p->n_remote, IKE_TS_IPV4_ADDR_RANGE);
	p->any6 = ts_any(p->local, p->n_local, IKE_TS_IPV6_ADDR_RANGE) &&
		  ts_any(p->remote, p->n_remote, IKE_TS_IPV6_ADDR_RANGE);
}

/* Does one of the n selectors take addr, proto and port? */
static bool ts_match(const struct ike_ts *ts, unsigned int n, uint8_t type,
		     const uint8_t *addr, uint8_t proto, int port)
{
	size_t alen = type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;

	for (unsigned int i = 0; i < n; i++) {
		const struct ike_ts *x = &ts[i];

		if (x->type != type || (x->proto && x->proto != proto))
			continue;
		if (memcmp(addr, x->start, alen) < 0 ||
		    memcmp(addr, x->end, alen) > 0)
			continue;
		if ((x->start_port != 0 || x->end_port != 0xffff) &&
		    (port < x->start_port || port > x->end_port))
			continue;
		return true;
	}
	return false;
}

static bool l4_has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

/* Ports of the transport header at p (rest bytes); ICMP's type and code
 * count as the port of both ends (RFC 7296 3.13.1). */
static void l4_ports(struct flow *f, const uint8_t *p, size_t rest)
{
	f->sport = f->dport = -1;
	if (l4_has_ports(f->proto) && rest >= 4) {
		f->sport = vpn_get_be16(p);
		f->dport = vpn_get_be16(p + 2);
	} else if ((f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) &&
		   rest >= 2) {
		f->sport = f->dport = vpn_get_be16(p);
	}
}

/* IPv4 header (len >= 20, version 4). */
static bool flow_v4(const uint8_t *pkt, size_t len, struct flow *f)
{
	size_t hl = (size_t)(pkt[0] & 0xf) * 4;

	if (hl < 20 || hl > len)
		return false;
	f->type = IKE_TS_IPV4_ADDR_RANGE;
	f->proto = pkt[9];
	f->src = pkt + 12;
	f->dst = pkt + 16;
	if (vpn_get_be16(pkt + 6) & 0x1fff) /* not the first fragment */
		f->sport = f->dport = -1;
	else
		l4_ports(f, pkt + hl, len - hl);
	return true;
}

/* IPv6 header (len >= 40, version 6), then the extension headers before
 * the transport header. */
static bool flow_v6(const uint8_t *pkt, size_t len, struct flow *f)
{
	size_t off = 40;

	f->type = IKE_TS_IPV6_ADDR_RANGE;
	f->src = pkt + 8;
	f->dst = pkt + 24;
	f->proto = pkt[6];
	f->sport = f->dport = -1;
	for (int hops = 0; hops < IPV6_EXT_HOPS; hops++) {
		if (f->proto == IPPROTO_HOPOPTS ||
		    f->proto == IPPROTO_ROUTING ||
		    f->proto == IPPROTO_DSTOPTS) {
			if (off + 8 > len)
				return false;
			f->proto = pkt[off];
			off += ((size_t)pkt[off + 1] + 1) * 8;
		} else if (f->proto == IPPROTO_FRAGMENT) {
			if (off + 8 > len)
				return false;
			f->proto = pkt[off];
			if (vpn_get_be16(pkt + off + 2) & 0xfff8)
				return true; /* not the first: no ports */
			off += 8;
		} else {
			break;
		}
	}
	if (off <= len)
		l4_ports(f, pkt + off, len - off);
	return true;
}

bool esp_policy_check(const struct esp_policy *p, const uint8_t *pkt,
		      size_t len, uint8_t next_header)
{
	bool v4 = next_header == ESP_NH_IPV4;
	struct flow f;

	if (!v4 && next_header != ESP_NH_IPV6)
		return false;
	if (len < (v4 ? 20u : 40u) || pkt[0] >> 4 != (v4 ? 4 : 6))
		return false;
	if (v4 ? p->any4 : p->any6)
		return true;
	if (!(v4 ? flow_v4(pkt, len, &f) : flow_v6(pkt, len, &f)))
		return false;
	return ts_match(p->remote, p->n_remote, f.type, f.src, f.proto,
			f.sport) &&
	       ts_match(p->local, p->n_local, f.type, f.dst, f.proto,
			f.dport);
}
