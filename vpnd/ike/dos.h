/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the IKE engine's defences against unauthenticated load (see
 * struct ike_dos_config in ike.h): half-open and established IKE SAs
 * counted per peer address in O(1), stateless cookies (RFC 7296 2.6)
 * from a secret that rotates with the previous one still valid, and a
 * rate limit for log lines that unauthenticated input causes.
 */
#ifndef VPND_IKE_DOS_H
#define VPND_IKE_DOS_H

#include <stdbool.h>
#include <stdint.h>

#include "ike/ike.h"
#include "ike/htab.h"

#define IKE_DOS_COOKIE_LEN 20 /* SHA-1 */
#define IKE_DOS_SECRET_LEN 16
/* Unauthenticated log lines written per second, at most. */
#define IKE_DOS_LOG_PER_S 10

/* What an IKE SA counts as, for its peer's address. */
enum ike_dos_class {
	IKE_DOS_HALF_OPEN, /* responder, waiting for IKE_AUTH */
	IKE_DOS_PEER_SA,   /* established (or being deleted) */
	IKE_DOS_NCLASS,
};

enum ike_dos_verdict {
	IKE_DOS_V_ACCEPT,
	IKE_DOS_V_COOKIE,		 /* ask for a cookie (stateless answer) */
	IKE_DOS_V_BLOCKED,	 /* block_threshold from the address */
	IKE_DOS_V_HALF_OPEN_LIMIT, /* half_open_limit in all */
	IKE_DOS_V_PEER_LIMIT,	 /* peer_sa_limit with the address */
};

struct ike_dos {
	struct ike_dos_config cfg;
	struct ike_htab ips;	  /* struct ike_dos_ip by address */
	unsigned int total[IKE_DOS_NCLASS];
	uint8_t secret[IKE_DOS_SECRET_LEN], prev[IKE_DOS_SECRET_LEN];
	uint64_t rotate_ms;	  /* when the secret is replaced next */
	uint64_t log_window_ms;	  /* start of the current second */
	unsigned int log_lines;	  /* written in it */
	uint64_t log_held;	  /* suppressed since the last report */
};

/* -1: out of memory. */
int ike_dos_init(struct ike_dos *d, uint64_t now_ms);
void ike_dos_fini(struct ike_dos *d);

/* An IKE SA with the peer at `ip` enters / leaves a class. */
void ike_dos_inc(struct ike_dos *d, const struct ike_addr *ip,
		 enum ike_dos_class cls);
void ike_dos_dec(struct ike_dos *d, const struct ike_addr *ip,
		 enum ike_dos_class cls);
/* IKE SAs of a class with the peer at ip (NULL: with every peer). */
unsigned int ike_dos_count(const struct ike_dos *d,
			   const struct ike_addr *ip, enum ike_dos_class cls);
/* Addresses with any IKE SA counted (tests: entries are freed at 0). */
size_t ike_dos_addresses(const struct ike_dos *d);

/*
 * May an IKE_SA_INIT request from `remote` make a half-open SA? `cookie`
 * is the COOKIE it carries (NULL: none). IKE_DOS_V_COOKIE: send `out`
 * (IKE_DOS_COOKIE_LEN bytes) as a COOKIE notify; *bad_cookie is set when
 * the request carried a cookie that is not ours, or too old.
 */
enum ike_dos_verdict ike_dos_check_init(struct ike_dos *d, uint64_t now_ms,
					const struct ike_addr *remote,
					uint64_t spi_i, const uint8_t *nonce,
					size_t noncelen, const uint8_t *cookie,
					size_t cookielen, uint8_t *out,
					bool *bad_cookie);

/* May one more unauthenticated log line be written now? When it may and
 * lines were held back since the last one, *held says how many (to be
 * reported), else 0. */
bool ike_dos_log_ok(struct ike_dos *d, uint64_t now_ms, uint64_t *held);

#endif /* VPND_IKE_DOS_H */
