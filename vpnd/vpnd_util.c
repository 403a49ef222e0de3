// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: clock and address helpers (see vpnd_util.h).
 */
#include <zebra.h>

#include <netinet/in.h>

#include "vpnd_util.h"

uint64_t vpn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void vpn_addr_from_ipaddr(struct ike_addr *a, const struct ipaddr *ip)
{
	memset(a, 0, sizeof(*a));
	if (IS_IPADDR_V4(ip)) {
		a->family = AF_INET;
		memcpy(a->addr, &ip->ipaddr_v4, 4);
	} else {
		a->family = AF_INET6;
		memcpy(a->addr, &ip->ipaddr_v6, 16);
	}
}

socklen_t vpn_sockaddr_from(struct sockaddr_storage *ss,
			    const struct ike_addr *a)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(a->port);
		memcpy(&s->sin_addr, a->addr, 4);
		return sizeof(*s);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(a->port);
	memcpy(&s6->sin6_addr, a->addr, 16);
	return sizeof(*s6);
}

void vpn_addr_from_sockaddr(struct ike_addr *a,
			    const struct sockaddr_storage *ss)
{
	memset(a, 0, sizeof(*a));
	a->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		a->port = ntohs(s->sin_port);
		memcpy(a->addr, &s->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)ss;

		a->port = ntohs(s6->sin6_port);
		memcpy(a->addr, &s6->sin6_addr, 16);
	}
}

const char *vpn_addr_str(const struct ike_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->addr, buf, len))
		strlcpy(buf, "?", len);
	return buf;
}
