/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: small helpers every daemon file may use (it calls nothing else of
 * the daemon): the monotonic clock, conversions between the engine's
 * struct ike_addr, FRR's struct ipaddr and socket addresses, the daemon's
 * memory group and its privileges (defined in vpnd_main.c).
 */
#ifndef VPND_UTIL_H
#define VPND_UTIL_H

#include <stdint.h>
#include <sys/socket.h>

#include "ipaddr.h"
#include "memory.h"
#include "privs.h"

#include "ike/ike.h"

/* The daemon's memory group (defined in vpnd.c). */
DECLARE_MGROUP(VPND);

extern struct zebra_privs_t vpnd_privs;

/* Monotonic clock in milliseconds (the IKE engine's time). */
uint64_t vpn_now_ms(void);

void vpn_addr_from_ipaddr(struct ike_addr *a, const struct ipaddr *ip);
/* Fills ss from a (port included); returns the length to pass along. */
socklen_t vpn_sockaddr_from(struct sockaddr_storage *ss,
			    const struct ike_addr *a);
void vpn_addr_from_sockaddr(struct ike_addr *a,
			    const struct sockaddr_storage *ss);
/* "192.0.2.1" or "2001:db8::1" into buf (at least INET6_ADDRSTRLEN). */
const char *vpn_addr_str(const struct ike_addr *a, char *buf, size_t len);

#endif /* VPND_UTIL_H */
