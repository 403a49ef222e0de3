// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: inbound traffic-selector check (vpnd/esp/policy.c).
 *
 * IPv4 and IPv6 (with extension headers), fragments, TCP/UDP/SCTP ports,
 * ICMP and ICMPv6 type/code as the port, protocol-specific selectors, the
 * any4/any6 fast paths, several selectors, address-range edges, packets
 * cut short at every byte, wrong IP version for the next header.
 *
 * Every packet is checked from a heap buffer of exactly its length, so
 * that the ASan build catches any read past its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "esp/esp.h"
#include "esp/policy.h"

#define V4 IKE_TS_IPV4_ADDR_RANGE
#define V6 IKE_TS_IPV6_ADDR_RANGE

static struct ike_ts ts(uint8_t type, uint8_t proto, const char *start,
			const char *end, uint16_t sport, uint16_t eport)
{
	struct ike_ts t = {
		.type = type,
		.proto = proto,
		.start_port = sport,
		.end_port = eport,
	};
	int af = type == V4 ? AF_INET : AF_INET6;

	assert_int_equal(inet_pton(af, start, t.start), 1);
	assert_int_equal(inet_pton(af, end, t.end), 1);
	return t;
}

static struct ike_ts all4(void)
{
	return ts(V4, 0, "0.0.0.0", "255.255.255.255", 0, 0xffff);
}

static struct ike_ts all6(void)
{
	return ts(V6, 0, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0,
		  0xffff);
}

/* One selector each side. */
static void pol1(struct esp_policy *p, struct ike_ts local,
		 struct ike_ts remote)
{
	esp_policy_set(p, &local, 1, &remote, 1);
}

/* From an exact-size heap copy. */
static bool check(const struct esp_policy *p, const uint8_t *pkt, size_t len,
		  uint8_t nh)
{
	uint8_t *buf = malloc(len ? len : 1);
	bool r;

	assert_non_null(buf);
	memcpy(buf, pkt, len);
	r = esp_policy_check(p, buf, len, nh);
	free(buf);
	return r;
}

/* IPv4 header (ihl words) + l4 bytes; frag: the 16-bit flags/offset
 * field. Returns the length. */
static size_t ip4(uint8_t *b, unsigned int ihl, uint8_t proto, const char *src,
		  const char *dst, uint16_t frag, const uint8_t *l4,
		  size_t l4len)
{
	size_t hl = ihl * 4;

	memset(b, 0, hl);
	b[0] = (uint8_t)(0x40 | ihl);
	b[6] = (uint8_t)(frag >> 8);
	b[7] = (uint8_t)frag;
	b[8] = 64;
	b[9] = proto;
	assert_int_equal(inet_pton(AF_INET, src, b + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, b + 16), 1);
	memcpy(b + hl, l4, l4len);
	return hl + l4len;
}

/* An IPv4 packet (20-byte header, then the 8 bytes at l4) through p. */
static bool pass4(const struct esp_policy *p, uint8_t proto, const char *src,
		  const char *dst, uint16_t frag, const uint8_t *l4)
{
	uint8_t b[64];
	size_t n = ip4(b, 5, proto, src, dst, frag, l4, 8);

	return check(p, b, n, ESP_NH_IPV4);
}

/* IPv6 header; next: first next-header value. Then `ext` bytes of
 * extension headers (already chained) and l4 bytes. */
static size_t ip6(uint8_t *b, uint8_t next, const char *src, const char *dst,
		  const uint8_t *ext, size_t extlen, const uint8_t *l4,
		  size_t l4len)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	b[6] = next;
	b[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, b + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, b + 24), 1);
	if (extlen)
		memcpy(b + 40, ext, extlen);
	memcpy(b + 40 + extlen, l4, l4len);
	return 40 + extlen + l4len;
}

/* An IPv6 packet through p. */
static bool pass6(const struct esp_policy *p, uint8_t next, const char *src,
		  const char *dst, const uint8_t *ext, size_t extlen,
		  const uint8_t *l4, size_t l4len)
{
	uint8_t b[256];
	size_t n = ip6(b, next, src, dst, ext, extlen, l4, l4len);

	return check(p, b, n, ESP_NH_IPV6);
}

/* TCP/UDP header start: ports 1234 -> 80. */
static const uint8_t l4_ports[8] = {0x04, 0xd2, 0x00, 0x50, 0, 8, 0, 0};
/* ICMP echo request: type 8 code 0 (port 0x0800). */
static const uint8_t icmp_echo[8] = {8, 0, 0, 0, 0, 1, 0, 1};
/* ICMPv6 echo request: type 128 code 0 (port 0x8000). */
static const uint8_t icmp6_echo[8] = {128, 0, 0, 0, 0, 1, 0, 1};

/* Peer 10.2.0.0/24 -> us 10.1.0.0/24, TCP to port 80 only. */
static void pol_tcp80(struct esp_policy *p)
{
	pol1(p, ts(V4, IPPROTO_TCP, "10.1.0.0", "10.1.0.255", 80, 80),
	     ts(V4, IPPROTO_TCP, "10.2.0.0", "10.2.0.255", 0, 0xffff));
}

static void test_v4_tcp_ports(void **state)
{
	struct esp_policy p;
	uint8_t b[128], l4[8];
	size_t n;

	pol_tcp80(&p);
	assert_true(
		pass4(&p, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0, l4_ports));
	/* port 81, 79: outside */
	memcpy(l4, l4_ports, 8);
	l4[3] = 81;
	assert_false(pass4(&p, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0, l4));
	l4[3] = 79;
	assert_false(pass4(&p, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0, l4));
	/* UDP to port 80: the selectors are TCP's */
	assert_false(
		pass4(&p, IPPROTO_UDP, "10.2.0.7", "10.1.0.9", 0, l4_ports));
	/* addresses the wrong way round */
	assert_false(
		pass4(&p, IPPROTO_TCP, "10.1.0.9", "10.2.0.7", 0, l4_ports));
	/* options in the IP header: ports found after them */
	n = ip4(b, 7, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0, l4_ports, 8);
	assert_true(check(&p, b, n, ESP_NH_IPV4));
}

static void test_port_range_edges(void **state)
{
	struct esp_policy p;
	uint8_t b[128], l4[8] = {0x04, 0xd2, 0, 0};
	const uint16_t ports[] = {999, 1000, 1500, 2000, 2001};
	const bool want[] = {false, true, true, true, false};

	pol1(&p, ts(V4, IPPROTO_UDP, "10.1.0.0", "10.1.0.255", 1000, 2000),
	     all4());
	for (size_t i = 0; i < 5; i++) {
		size_t n;

		l4[2] = (uint8_t)(ports[i] >> 8);
		l4[3] = (uint8_t)ports[i];
		n = ip4(b, 5, IPPROTO_UDP, "192.0.2.1", "10.1.0.1", 0, l4, 8);
		assert_int_equal(check(&p, b, n, ESP_NH_IPV4), want[i]);
	}
}

static void test_other_l4(void **state)
{
	struct esp_policy p;

	/* SCTP and UDP-Lite have ports; GRE (47) has none */
	pol1(&p, ts(V4, 0, "10.1.0.0", "10.1.0.255", 80, 80), all4());
	assert_true(
		pass4(&p, IPPROTO_SCTP, "10.2.0.7", "10.1.0.9", 0, l4_ports));
	assert_true(pass4(&p, IPPROTO_UDPLITE, "10.2.0.7", "10.1.0.9", 0,
			  l4_ports));
	assert_false(pass4(&p, 47, "10.2.0.7", "10.1.0.9", 0, l4_ports));
	/* GRE with a full port range selector: passes */
	pol1(&p, ts(V4, 0, "10.1.0.0", "10.1.0.255", 0, 0xffff), all4());
	assert_true(pass4(&p, 47, "10.2.0.7", "10.1.0.9", 0, l4_ports));
	/* protocol-specific selector: GRE only */
	pol1(&p, ts(V4, 47, "10.1.0.0", "10.1.0.255", 0, 0xffff), all4());
	assert_true(pass4(&p, 47, "10.2.0.7", "10.1.0.9", 0, l4_ports));
	assert_false(
		pass4(&p, IPPROTO_UDP, "10.2.0.7", "10.1.0.9", 0, l4_ports));
}

static void test_v4_fragments(void **state)
{
	struct esp_policy p;

	pol_tcp80(&p);
	/* first fragment (MF set, offset 0): ports seen */
	assert_true(pass4(&p, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0x2000,
			  l4_ports));
	/* non-first (offset 185, MF or not): no ports; port 80 only fails */
	assert_false(pass4(&p, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0x20b9,
			   l4_ports));
	assert_false(pass4(&p, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0x0001,
			   l4_ports));
	/* a full-range selector takes it */
	pol1(&p, ts(V4, IPPROTO_TCP, "10.1.0.0", "10.1.0.255", 0, 0xffff),
	     ts(V4, IPPROTO_TCP, "10.2.0.0", "10.2.0.255", 0, 0xffff));
	assert_true(pass4(&p, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0x0001,
			  l4_ports));
	/* DF alone is no fragment */
	pol_tcp80(&p);
	assert_true(pass4(&p, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0x4000,
			  l4_ports));
}

static void test_icmp(void **state)
{
	struct esp_policy p;
	uint8_t l4[8];

	/* echo request only (type 8 code 0 = port 0x0800), both ends */
	pol1(&p, ts(V4, IPPROTO_ICMP, "10.1.0.0", "10.1.0.255", 0x0800, 0x0800),
	     ts(V4, IPPROTO_ICMP, "10.2.0.0", "10.2.0.255", 0x0800, 0x08ff));
	assert_true(
		pass4(&p, IPPROTO_ICMP, "10.2.0.7", "10.1.0.9", 0, icmp_echo));
	memcpy(l4, icmp_echo, 8);
	l4[0] = 0; /* echo reply */
	assert_false(pass4(&p, IPPROTO_ICMP, "10.2.0.7", "10.1.0.9", 0, l4));
	l4[0] = 8;
	l4[1] = 1; /* code 1: 0x0801, outside the local range */
	assert_false(pass4(&p, IPPROTO_ICMP, "10.2.0.7", "10.1.0.9", 0, l4));
	/* ICMPv6 echo request (0x8000) */
	pol1(&p,
	     ts(V6, IPPROTO_ICMPV6, "2001:db8:1::", "2001:db8:1::ffff", 0x8000,
		0x80ff),
	     all6());
	assert_true(pass6(&p, IPPROTO_ICMPV6, "2001:db8:2::7", "2001:db8:1::9",
			  NULL, 0, icmp6_echo, 8));
	memcpy(l4, icmp6_echo, 8);
	l4[0] = 129; /* echo reply: 0x8100 */
	assert_false(pass6(&p, IPPROTO_ICMPV6, "2001:db8:2::7", "2001:db8:1::9",
			   NULL, 0, l4, 8));
	/* only one byte of ICMP: no port */
	assert_false(pass6(&p, IPPROTO_ICMPV6, "2001:db8:2::7", "2001:db8:1::9",
			   NULL, 0, icmp6_echo, 1));
}

static void test_any_fast_paths(void **state)
{
	struct esp_policy p;
	struct ike_ts l[2], r[2];
	uint8_t b[128];
	size_t n;

	l[0] = all4();
	r[0] = all4();
	esp_policy_set(&p, l, 1, r, 1);
	assert_true(p.any4);
	assert_false(p.any6);
	/* the fast path does not look past the version: a bad IHL passes */
	n = ip4(b, 5, IPPROTO_TCP, "1.2.3.4", "5.6.7.8", 0, l4_ports, 8);
	b[0] = 0x4f;
	assert_true(check(&p, b, n, ESP_NH_IPV4));
	/* IPv6 is not covered */
	assert_false(pass6(&p, IPPROTO_TCP, "2001:db8::1", "2001:db8::2", NULL,
			   0, l4_ports, 8));

	l[1] = all6();
	r[1] = all6();
	esp_policy_set(&p, l, 2, r, 2);
	assert_true(p.any4 && p.any6);
	assert_true(pass6(&p, IPPROTO_TCP, "2001:db8::1", "2001:db8::2", NULL,
			  0, l4_ports, 8));

	/* full on one side only: no fast path */
	r[0] = ts(V4, 0, "10.0.0.0", "10.255.255.255", 0, 0xffff);
	esp_policy_set(&p, l, 1, r, 1);
	assert_false(p.any4);
	/* a protocol or a port range is not "any" */
	l[0].proto = IPPROTO_TCP;
	r[0] = all4();
	esp_policy_set(&p, l, 1, r, 1);
	assert_false(p.any4);
	l[0] = all4();
	l[0].end_port = 0xfffe;
	esp_policy_set(&p, l, 1, r, 1);
	assert_false(p.any4);
	l[0] = all4();
	l[0].end[3] = 0xfe;
	esp_policy_set(&p, l, 1, r, 1);
	assert_false(p.any4);
}

static void test_several_selectors(void **state)
{
	struct esp_policy p;
	struct ike_ts l[3], r[2];

	l[0] = ts(V6, 0, "2001:db8:1::", "2001:db8:1::ffff", 0, 0xffff);
	l[1] = ts(V4, IPPROTO_UDP, "10.1.0.0", "10.1.0.255", 53, 53);
	l[2] = ts(V4, IPPROTO_TCP, "10.1.1.0", "10.1.1.255", 80, 80);
	r[0] = ts(V4, 0, "10.2.0.0", "10.2.0.255", 0, 0xffff);
	r[1] = ts(V4, 0, "10.3.0.0", "10.3.0.255", 0, 0xffff);
	esp_policy_set(&p, l, 3, r, 2);
	/* second remote, third local */
	assert_true(
		pass4(&p, IPPROTO_TCP, "10.3.0.1", "10.1.1.1", 0, l4_ports));
	/* TCP to port 80 in the UDP selector's range: no */
	assert_false(
		pass4(&p, IPPROTO_TCP, "10.3.0.1", "10.1.0.1", 0, l4_ports));
	/* no remote selector */
	assert_false(
		pass4(&p, IPPROTO_TCP, "10.4.0.1", "10.1.1.1", 0, l4_ports));
	/* nothing installed: nothing passes */
	esp_policy_set(&p, l, 0, r, 0);
	assert_false(
		pass4(&p, IPPROTO_TCP, "10.3.0.1", "10.1.1.1", 0, l4_ports));
}

static void test_too_many_selectors(void **state)
{
	struct esp_policy p;
	struct ike_ts l[IKE_MAX_TS + 1], r[1] = {all4()};

	for (int i = 0; i < IKE_MAX_TS + 1; i++)
		l[i] = ts(V4, 0, "10.9.9.9", "10.9.9.9", 0, 0xffff);
	l[IKE_MAX_TS] = ts(V4, 0, "10.1.0.1", "10.1.0.1", 0, 0xffff);
	esp_policy_set(&p, l, IKE_MAX_TS + 1, r, 1);
	assert_int_equal(p.n_local, IKE_MAX_TS);
	/* the one past IKE_MAX_TS is ignored */
	assert_false(
		pass4(&p, IPPROTO_TCP, "10.3.0.1", "10.1.0.1", 0, l4_ports));
}

static void test_address_edges(void **state)
{
	struct esp_policy p;
	uint8_t b[128];
	const char *v4[] = {"10.1.0.9", "10.1.0.10", "10.1.0.15", "10.1.0.20",
			    "10.1.0.21"};
	const char *v6[] = {"2001:db8::ff", "2001:db8::100", "2001:db8::1ff",
			    "2001:db8::200", "2001:db8::201"};
	const bool want[] = {false, true, true, true, false};

	pol1(&p, ts(V4, 0, "10.1.0.10", "10.1.0.20", 0, 0xffff), all4());
	for (size_t i = 0; i < 5; i++) {
		size_t n = ip4(b, 5, IPPROTO_UDP, "10.2.0.1", v4[i], 0,
			       l4_ports, 8);

		assert_int_equal(check(&p, b, n, ESP_NH_IPV4), want[i]);
	}
	/* the remote side: source addresses */
	pol1(&p, all6(),
	     ts(V6, 0, "2001:db8::100", "2001:db8::200", 0, 0xffff));
	for (size_t i = 0; i < 5; i++) {
		size_t n = ip6(b, IPPROTO_UDP, v6[i], "2001:db8:1::1", NULL, 0,
			       l4_ports, 8);

		assert_int_equal(check(&p, b, n, ESP_NH_IPV6), want[i]);
	}
}

/* Hop-by-hop (8 bytes) -> routing (16) -> destination options (8) ->
 * fragment (8) -> UDP; frag: the fragment header's offset field. */
static size_t v6_chain(uint8_t *b, uint16_t frag, size_t l4len)
{
	uint8_t ext[40] = {};

	ext[0] = IPPROTO_ROUTING; /* hop-by-hop, length 0 */
	ext[8] = IPPROTO_DSTOPTS; /* routing, length 1 (16 bytes) */
	ext[9] = 1;
	ext[24] = IPPROTO_FRAGMENT; /* destination options, length 0 */
	ext[32] = IPPROTO_UDP;	    /* fragment */
	ext[34] = (uint8_t)(frag >> 8);
	ext[35] = (uint8_t)frag;
	return ip6(b, IPPROTO_HOPOPTS, "2001:db8:2::7", "2001:db8:1::9", ext,
		   40, l4_ports, l4len);
}

static void pol_udp80_v6(struct esp_policy *p)
{
	pol1(p, ts(V6, IPPROTO_UDP, "2001:db8:1::", "2001:db8:1::ffff", 80, 80),
	     ts(V6, 0, "2001:db8:2::", "2001:db8:2::ffff", 0, 0xffff));
}

static void test_v6_ext_headers(void **state)
{
	struct esp_policy p;
	uint8_t b[256], ext[8] = {IPPROTO_UDP};
	size_t n;

	pol_udp80_v6(&p);
	assert_true(pass6(&p, IPPROTO_UDP, "2001:db8:2::7", "2001:db8:1::9",
			  NULL, 0, l4_ports, 8));
	assert_true(pass6(&p, IPPROTO_HOPOPTS, "2001:db8:2::7", "2001:db8:1::9",
			  ext, 8, l4_ports, 8));
	/* the whole chain, first fragment (M set) */
	n = v6_chain(b, 0x0001, 8);
	assert_true(check(&p, b, n, ESP_NH_IPV6));
	/* port 81 */
	b[n - 8 + 3] = 81;
	assert_false(check(&p, b, n, ESP_NH_IPV6));
}

static void test_v6_fragments(void **state)
{
	struct esp_policy p;
	uint8_t b[256], ext[8] = {IPPROTO_UDP};
	size_t n;

	pol_udp80_v6(&p);
	/* non-first: no ports; the protocol is the fragment header's */
	n = v6_chain(b, 0x0008, 8);
	assert_false(check(&p, b, n, ESP_NH_IPV6));
	pol1(&p,
	     ts(V6, IPPROTO_UDP, "2001:db8:1::", "2001:db8:1::ffff", 0, 0xffff),
	     all6());
	assert_true(check(&p, b, n, ESP_NH_IPV6));
	pol1(&p,
	     ts(V6, IPPROTO_TCP, "2001:db8:1::", "2001:db8:1::ffff", 0, 0xffff),
	     all6());
	assert_false(check(&p, b, n, ESP_NH_IPV6));
	/* a fragment header alone, first and non-first */
	pol_udp80_v6(&p);
	assert_true(pass6(&p, IPPROTO_FRAGMENT, "2001:db8:2::7",
			  "2001:db8:1::9", ext, 8, l4_ports, 8));
	ext[2] = 0x01; /* offset 32 */
	assert_false(pass6(&p, IPPROTO_FRAGMENT, "2001:db8:2::7",
			   "2001:db8:1::9", ext, 8, l4_ports, 8));
}

static void test_v6_hop_limit(void **state)
{
	struct esp_policy p;
	uint8_t b[256], ext[72] = {};
	size_t n;

	/* 9 destination-options headers: the walk stops after 8, with the
	 * 9th's type as the protocol and no ports */
	for (int i = 0; i < 9; i++)
		ext[i * 8] = i < 8 ? IPPROTO_DSTOPTS : IPPROTO_UDP;
	pol1(&p,
	     ts(V6, 0, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0,
		0xffff),
	     ts(V6, 0, "2001:db8::", "2001:db8::ffff", 0, 0xfffe));
	assert_false(pass6(&p, IPPROTO_DSTOPTS, "2001:db8::1", "2001:db8::2",
			   ext, 72, l4_ports, 8));
	pol1(&p, all6(),
	     ts(V6, IPPROTO_DSTOPTS, "2001:db8::", "2001:db8::ffff", 0,
		0xffff));
	assert_true(pass6(&p, IPPROTO_DSTOPTS, "2001:db8::1", "2001:db8::2",
			  ext, 72, l4_ports, 8));
	/* 8 of them, then UDP: ports seen */
	ext[7 * 8] = IPPROTO_UDP;
	n = ip6(b, IPPROTO_DSTOPTS, "2001:db8::1", "2001:db8::2", ext, 64,
		l4_ports, 8);
	pol1(&p, all6(),
	     ts(V6, IPPROTO_UDP, "2001:db8::", "2001:db8::ffff", 1234, 1234));
	assert_true(check(&p, b, n, ESP_NH_IPV6));
}

/* Every prefix of a packet: no match below min_len (headers cut short),
 * no port-restricted match below full (transport cut short), a match at
 * full length; `loose` matches from min_len on. */
static void cut_everywhere(const struct esp_policy *strict,
			   const struct esp_policy *loose, const uint8_t *pkt,
			   size_t full, size_t min_len, uint8_t nh)
{
	for (size_t len = 0; len <= full; len++) {
		bool want_loose = len >= min_len;
		bool want_strict = len >= full;

		assert_int_equal(check(strict, pkt, len, nh), want_strict);
		assert_int_equal(check(loose, pkt, len, nh), want_loose);
	}
}

static void test_truncated(void **state)
{
	struct esp_policy strict, loose;
	uint8_t b[256], ext[16];
	size_t n;

	/* IPv4 with options: the header is 24 bytes, ports at 24..27 */
	pol_tcp80(&strict);
	pol1(&loose, ts(V4, 0, "10.1.0.0", "10.1.0.255", 0, 0xffff),
	     ts(V4, 0, "10.2.0.0", "10.2.0.255", 0, 0xffff));
	n = ip4(b, 6, IPPROTO_TCP, "10.2.0.7", "10.1.0.9", 0, l4_ports, 4);
	cut_everywhere(&strict, &loose, b, n, 24, ESP_NH_IPV4);
	/* ICMP: type and code at 20..21 */
	pol1(&strict, ts(V4, 0, "10.1.0.0", "10.1.0.255", 0x0800, 0x0800),
	     all4());
	n = ip4(b, 5, IPPROTO_ICMP, "10.2.0.7", "10.1.0.9", 0, icmp_echo, 2);
	cut_everywhere(&strict, &loose, b, n, 20, ESP_NH_IPV4);

	/* IPv6 chain: 40 + 40 of extension headers + 4 of UDP ports; each
	 * extension header needs its first 8 bytes there */
	pol_udp80_v6(&strict);
	pol1(&loose, ts(V6, 0, "2001:db8:1::", "2001:db8:1::ffff", 0, 0xffff),
	     all6());
	n = v6_chain(b, 0, 4);
	cut_everywhere(&strict, &loose, b, n, 80, ESP_NH_IPV6);
	/* hop-by-hop of 16 bytes then UDP: a cut in its second 8 bytes
	 * leaves the packet without ports (not refused) */
	memset(ext, 0, sizeof(ext));
	ext[0] = IPPROTO_UDP;
	ext[1] = 1;
	n = ip6(b, IPPROTO_HOPOPTS, "2001:db8:2::7", "2001:db8:1::9", ext, 16,
		l4_ports, 4);
	cut_everywhere(&strict, &loose, b, n, 48, ESP_NH_IPV6);
}

static void test_wrong_version(void **state)
{
	struct esp_policy p;
	uint8_t b4[128], b6[64];
	size_t n4, n6;
	struct ike_ts l[2] = {all4(), all6()}, r[2] = {all4(), all6()};

	esp_policy_set(&p, l, 2, r, 2);
	n4 = ip4(b4, 5, IPPROTO_UDP, "10.2.0.7", "10.1.0.9", 0, l4_ports, 8);
	n6 = ip6(b6, IPPROTO_UDP, "2001:db8::1", "2001:db8::2", NULL, 0,
		 l4_ports, 8);
	assert_true(check(&p, b4, n4, ESP_NH_IPV4));
	assert_true(check(&p, b6, n6, ESP_NH_IPV6));
	assert_false(check(&p, b4, n4, ESP_NH_IPV6)); /* also too short */
	assert_false(check(&p, b6, n6, ESP_NH_IPV4));
	assert_false(check(&p, b4, n4, ESP_NH_NONE));
	assert_false(check(&p, b6, n6, 0));
	/* without the fast paths */
	l[0].end_port = l[1].end_port = 0xfffe;
	esp_policy_set(&p, l, 2, r, 2);
	assert_true(check(&p, b4, n4, ESP_NH_IPV4));
	assert_false(check(&p, b6, n6, ESP_NH_IPV4));
	memcpy(b4 + n4, b6, 40); /* long enough for IPv6, still version 4 */
	assert_false(check(&p, b4, n4 + 40, ESP_NH_IPV6));
	/* an IPv6 selector never matches an IPv4 packet */
	l[0] = all6();
	l[0].end_port = 0xfffe;
	esp_policy_set(&p, l, 1, r, 2);
	assert_false(check(&p, b4, n4, ESP_NH_IPV4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_tcp_ports),
		cmocka_unit_test(test_port_range_edges),
		cmocka_unit_test(test_other_l4),
		cmocka_unit_test(test_v4_fragments),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_any_fast_paths),
		cmocka_unit_test(test_several_selectors),
		cmocka_unit_test(test_too_many_selectors),
		cmocka_unit_test(test_address_edges),
		cmocka_unit_test(test_v6_ext_headers),
		cmocka_unit_test(test_v6_fragments),
		cmocka_unit_test(test_v6_hop_limit),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_wrong_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
