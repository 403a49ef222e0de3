// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the IKE engine's defences against unauthenticated load (dos.h).
 */
#include "ike/dos.h"

#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "crypto/crypto.h"
#include "util/bytes.h"

/* One peer address with IKE SAs. */
struct ike_dos_ip {
	struct ike_hnode h;
	uint8_t family;
	uint8_t addr[16];
	unsigned int n[IKE_DOS_NCLASS];
};

int ike_dos_init(struct ike_dos *d, uint64_t now_ms)
{
	memset(d, 0, sizeof(*d));
	ike_dos_defaults(&d->cfg);
	if (ike_htab_init(&d->ips) < 0)
		return -1;
	vpn_random(d->secret, sizeof(d->secret));
	vpn_random(d->prev, sizeof(d->prev));
	d->rotate_ms = now_ms + (uint64_t)d->cfg.cookie_lifetime_s * 1000;
	d->log_window_ms = now_ms;
	return 0;
}

void ike_dos_fini(struct ike_dos *d)
{
	for (size_t i = 0; i < d->ips.nbuckets; i++) {
		struct ike_hnode *n = d->ips.b[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(ike_hnode_entry(n, struct ike_dos_ip, h));
		}
	}
	ike_htab_fini(&d->ips);
	vpn_memzero(d, sizeof(*d));
}

static uint64_t ip_hash(const struct ike_dos *d, const struct ike_addr *ip)
{
	uint8_t key[17];

	key[0] = ip->family;
	memcpy(key + 1, ip->addr, ike_addr_len(ip));
	return ike_htab_hash(&d->ips, key, 1 + ike_addr_len(ip));
}

static struct ike_dos_ip *ip_find(const struct ike_dos *d,
				  const struct ike_addr *ip, uint64_t hash)
{
	struct ike_hnode *n = ike_htab_first(&d->ips, hash);

	for (; n; n = ike_htab_next(n, hash)) {
		struct ike_dos_ip *e = ike_hnode_entry(n, struct ike_dos_ip, h);

		if (e->family == ip->family &&
		    !memcmp(e->addr, ip->addr, ike_addr_len(ip)))
			return e;
	}
	return NULL;
}

void ike_dos_inc(struct ike_dos *d, const struct ike_addr *ip,
		 enum ike_dos_class cls)
{
	uint64_t hash = ip_hash(d, ip);
	struct ike_dos_ip *e = ip_find(d, ip, hash);

	d->total[cls]++;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return; /* counted in total only; dec copes */
		e->family = ip->family;
		memcpy(e->addr, ip->addr, ike_addr_len(ip));
		ike_htab_add(&d->ips, &e->h, hash);
	}
	e->n[cls]++;
}

void ike_dos_dec(struct ike_dos *d, const struct ike_addr *ip,
		 enum ike_dos_class cls)
{
	struct ike_dos_ip *e = ip_find(d, ip, ip_hash(d, ip));

	if (d->total[cls])
		d->total[cls]--;
	if (!e || !e->n[cls])
		return;
	e->n[cls]--;
	for (int i = 0; i < IKE_DOS_NCLASS; i++)
		if (e->n[i])
			return;
	ike_htab_del(&d->ips, &e->h);
	free(e);
}

unsigned int ike_dos_count(const struct ike_dos *d, const struct ike_addr *ip,
			   enum ike_dos_class cls)
{
	const struct ike_dos_ip *e;

	if (!ip)
		return d->total[cls];
	e = ip_find(d, ip, ip_hash(d, ip));
	return e ? e->n[cls] : 0;
}

size_t ike_dos_addresses(const struct ike_dos *d)
{
	return d->ips.count;
}

/* A new secret every cookie_lifetime_s; the one before stays valid for
 * one more period, so a cookie handed out just before a rotation still
 * works. After a long quiet spell both are replaced. */
static void rotate(struct ike_dos *d, uint64_t now_ms)
{
	uint64_t life = (uint64_t)(d->cfg.cookie_lifetime_s ?: 1) * 1000;

	if (now_ms < d->rotate_ms)
		return;
	if (now_ms >= d->rotate_ms + life)
		vpn_random(d->prev, sizeof(d->prev));
	else
		memcpy(d->prev, d->secret, sizeof(d->prev));
	vpn_random(d->secret, sizeof(d->secret));
	d->rotate_ms = now_ms + life;
}

/* cookie = SHA-1(Ni | IPi | SPIi | secret) (RFC 7296 2.6). */
static void cookie_make(const uint8_t *secret, const struct ike_addr *remote,
			uint64_t spi_i, const uint8_t *nonce, size_t noncelen,
			uint8_t out[IKE_DOS_COOKIE_LEN])
{
	uint8_t spi[8];
	struct iovec iov[4] = {
		{ (void *)nonce, noncelen },
		{ (void *)remote->addr, ike_addr_len(remote) },
		{ spi, sizeof(spi) },
		{ (void *)secret, IKE_DOS_SECRET_LEN },
	};

	vpn_put_be64(spi, spi_i);
	vpn_sha1(iov, 4, out);
}

static bool cookie_valid(const struct ike_dos *d,
			 const struct ike_addr *remote, uint64_t spi_i,
			 const uint8_t *nonce, size_t noncelen,
			 const uint8_t *cookie, size_t cookielen,
			 const uint8_t cur[IKE_DOS_COOKIE_LEN])
{
	uint8_t old[IKE_DOS_COOKIE_LEN];
	bool ok;

	if (!cookie || cookielen != IKE_DOS_COOKIE_LEN)
		return false;
	if (vpn_memeq(cookie, cur, IKE_DOS_COOKIE_LEN))
		return true;
	cookie_make(d->prev, remote, spi_i, nonce, noncelen, old);
	ok = vpn_memeq(cookie, old, IKE_DOS_COOKIE_LEN);
	vpn_memzero(old, sizeof(old));
	return ok;
}

static bool cookie_required(const struct ike_dos *d,
			    const struct ike_addr *remote)
{
	return d->total[IKE_DOS_HALF_OPEN] >= d->cfg.cookie_threshold ||
	       ike_dos_count(d, remote, IKE_DOS_HALF_OPEN) >=
		       d->cfg.cookie_threshold_ip;
}

enum ike_dos_verdict ike_dos_check_init(struct ike_dos *d, uint64_t now_ms,
					const struct ike_addr *remote,
					uint64_t spi_i, const uint8_t *nonce,
					size_t noncelen, const uint8_t *cookie,
					size_t cookielen, uint8_t *out,
					bool *bad_cookie)
{
	unsigned int lim;

	*bad_cookie = false;
	if (cookie_required(d, remote)) {
		rotate(d, now_ms);
		cookie_make(d->secret, remote, spi_i, nonce, noncelen, out);
		if (!cookie_valid(d, remote, spi_i, nonce, noncelen, cookie,
				  cookielen, out)) {
			*bad_cookie = cookie != NULL;
			return IKE_DOS_V_COOKIE;
		}
	}
	lim = d->cfg.block_threshold;
	if (lim && ike_dos_count(d, remote, IKE_DOS_HALF_OPEN) >= lim)
		return IKE_DOS_V_BLOCKED;
	lim = d->cfg.half_open_limit;
	if (lim && d->total[IKE_DOS_HALF_OPEN] >= lim)
		return IKE_DOS_V_HALF_OPEN_LIMIT;
	lim = d->cfg.peer_sa_limit;
	if (lim && ike_dos_count(d, remote, IKE_DOS_PEER_SA) >= lim)
		return IKE_DOS_V_PEER_LIMIT;
	return IKE_DOS_V_ACCEPT;
}

bool ike_dos_log_ok(struct ike_dos *d, uint64_t now_ms, uint64_t *held)
{
	*held = 0;
	if (now_ms >= d->log_window_ms + 1000) {
		d->log_window_ms = now_ms;
		d->log_lines = 0;
	}
	if (d->log_lines >= IKE_DOS_LOG_PER_S) {
		d->log_held++;
		return false;
	}
	d->log_lines++;
	*held = d->log_held;
	d->log_held = 0;
	return true;
}
