/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: inbound policy of an ESP SA (RFC 4301 section 5.2): does a
 * decapsulated packet belong to the traffic selectors negotiated for its
 * Child SA? Pure functions over buffers: no FRR, no sockets, no
 * allocation; safe on any thread (the policy is read only).
 *
 * A packet matches when its source falls in one of the remote selectors
 * and its destination in one of the local selectors, each with the
 * packet's protocol and that end's port. A selector with protocol 0
 * takes every protocol; one with the full port range (0-65535) takes
 * packets that show no port. Ports, as the packet shows them:
 *   - TCP, UDP, SCTP, UDP-Lite: source and destination port;
 *   - ICMP and ICMPv6: type and code (type << 8 | code) as the port of
 *     both ends (RFC 7296 section 3.13.1);
 *   - none (-1) for non-first fragments (IPv4, or an IPv6 fragment
 *     header), another protocol, or a transport header cut short.
 * IPv6 extension headers (hop-by-hop, routing, destination options,
 * fragment; at most 8) are walked to find the transport header.
 * A packet whose IP header (or an extension header's first 8 bytes) is
 * cut short, or whose IP version is not the one next_header announces,
 * never matches.
 */
#ifndef VPND_ESP_POLICY_H
#define VPND_ESP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/message.h"

struct esp_policy {
	/* any4, any6: a selector pair covers every packet of that family
	 * (every address, protocol and port on both ends). */
	bool any4, any6;
	unsigned int n_local, n_remote;
	struct ike_ts local[IKE_MAX_TS], remote[IKE_MAX_TS];
};

/* Copies the selectors (at most IKE_MAX_TS of each side; the rest are
 * ignored). local: our end (the destination of inbound packets), remote:
 * the peer's end (their source). */
void esp_policy_set(struct esp_policy *p, const struct ike_ts *local,
		    unsigned int nl, const struct ike_ts *remote,
		    unsigned int nr);

/* pkt: the inner packet (len bytes) of an inbound ESP packet whose next
 * header was next_header (ESP_NH_IPV4 or ESP_NH_IPV6; anything else does
 * not match). Reads nothing outside pkt[0..len-1]. */
bool esp_policy_check(const struct esp_policy *p, const uint8_t *pkt,
		      size_t len, uint8_t next_header);

#endif /* VPND_ESP_POLICY_H */
