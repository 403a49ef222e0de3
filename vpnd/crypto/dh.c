// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: Diffie-Hellman groups for IKEv2 (transform type 4).
 *
 * MODP 2 (RFC 2409 6.2, prime embedded here: OpenSSL has no name for it),
 * 5, 14, 15, 16 (RFC 3526, OpenSSL's "modp_*" named groups); ECP 19, 20,
 * 21 (RFC 5903: KE data x | y without the 0x04 prefix, shared secret the
 * x coordinate); Curve25519 31 (RFC 8031).
 *
 * Peer values are checked before use: exact length; MODP 1 < y < p-1
 * (with a safe prime this keeps y out of the small subgroups); ECP point
 * on the curve (OpenSSL's full public key check); X25519 all-zero result
 * refused (RFC 8031 section 2).
 */
#include "crypto.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <sodium.h>

enum dh_kind { DH_MODP, DH_ECP, DH_X25519 };

struct dh_group {
	uint16_t id;
	enum dh_kind kind;
	size_t publen;	  /* KE data length */
	const char *name; /* OpenSSL group name; NULL: explicit prime */
	int nid;	  /* ECP curve */
};

static const struct dh_group groups[] = {
	{2, DH_MODP, 128, NULL, 0},
	{5, DH_MODP, 192, "modp_1536", 0},
	{14, DH_MODP, 256, "modp_2048", 0},
	{15, DH_MODP, 384, "modp_3072", 0},
	{16, DH_MODP, 512, "modp_4096", 0},
	{19, DH_ECP, 64, "prime256v1", NID_X9_62_prime256v1},
	{20, DH_ECP, 96, "secp384r1", NID_secp384r1},
	{21, DH_ECP, 132, "secp521r1", NID_secp521r1},
	{31, DH_X25519, 32, "X25519", 0},
};

/* RFC 2409 section 6.2, Second Oakley Group (generator 2). */
static const uint8_t modp1024_p[128] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2,
	0x21, 0x68, 0xC2, 0x34, 0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1,
	0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74, 0x02, 0x0B, 0xBE, 0xA6,
	0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
	0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D,
	0xF2, 0x5F, 0x14, 0x37, 0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45,
	0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6, 0xF4, 0x4C, 0x42, 0xE9,
	0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
	0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11,
	0x7C, 0x4B, 0x1F, 0xE6, 0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

struct vpn_dh {
	const struct dh_group *g;
	EVP_PKEY *pkey;
	uint8_t pub[VPN_DH_MAX_PUB];
};

static const struct dh_group *group_find(uint16_t id)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].id == id)
			return &groups[i];
	return NULL;
}

bool vpn_dh_supported(uint16_t group)
{
	return group_find(group) != NULL;
}

size_t vpn_dh_pub_len(uint16_t group)
{
	const struct dh_group *g = group_find(group);

	return g ? g->publen : 0;
}

uint16_t vpn_dh_group(const struct vpn_dh *dh)
{
	return dh ? dh->g->id : 0;
}

/* ------------------------------------------------------------------ */
/* Building keys                                                       */
/* ------------------------------------------------------------------ */

/*
 * Domain parameters of a MODP group into a parameter builder. Group 2 is
 * given as p and g = 2 only: OpenSSL 3 refuses to generate keys for an
 * explicit 1024-bit group that has q (below its 112-bit minimum), so the
 * subgroup check that OpenSSL does for the named groups is done here for
 * group 2 (modp_peer()).
 */
static int modp_push_domain(OSSL_PARAM_BLD *bld, const struct dh_group *g,
			    BIGNUM **p, BIGNUM **gen)
{
	if (g->name)
		return OSSL_PARAM_BLD_push_utf8_string(
			       bld, OSSL_PKEY_PARAM_GROUP_NAME, g->name, 0)
			       ? 0
			       : -1;
	*p = BN_bin2bn(modp1024_p, sizeof(modp1024_p), NULL);
	*gen = BN_new();
	if (!*p || !*gen || !BN_set_word(*gen, 2)
	    || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, *p)
	    || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, *gen))
		return -1;
	return 0;
}

/*
 * EVP_PKEY from parameters. MODP: domain plus optional public and private
 * values; ECP: curve plus optional encoded point and private scalar.
 */
static EVP_PKEY *pkey_fromdata(const struct dh_group *g, const BIGNUM *pub_bn,
			       const uint8_t *point, size_t pointlen,
			       const BIGNUM *priv, int selection)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *p = NULL, *gen = NULL;

	if (!bld)
		return NULL;
	if (g->kind == DH_MODP) {
		if (modp_push_domain(bld, g, &p, &gen) < 0)
			goto out;
		if (pub_bn
		    && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY,
					       pub_bn))
			goto out;
	} else {
		if (!OSSL_PARAM_BLD_push_utf8_string(
			    bld, OSSL_PKEY_PARAM_GROUP_NAME, g->name, 0))
			goto out;
		if (point
		    && !OSSL_PARAM_BLD_push_octet_string(
			    bld, OSSL_PKEY_PARAM_PUB_KEY, point, pointlen))
			goto out;
	}
	if (priv
	    && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, g->kind == DH_MODP ? "DH" : "EC",
					 NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1
	    || EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(gen);
	return pkey;
}

static EVP_PKEY *modp_keygen(const struct dh_group *g)
{
	EVP_PKEY *params, *pkey = NULL;
	EVP_PKEY_CTX *ctx;

	params = pkey_fromdata(g, NULL, NULL, 0, NULL, EVP_PKEY_KEY_PARAMETERS);
	if (!params)
		return NULL;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1
	    || EVP_PKEY_keygen(ctx, &pkey) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(params);
	return pkey;
}

static EVP_PKEY *keygen(const struct dh_group *g)
{
	switch (g->kind) {
	case DH_MODP:
		return modp_keygen(g);
	case DH_ECP:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", g->name);
	case DH_X25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	}
	return NULL;
}

/* Our public value in KE payload form. */
static int export_public(struct vpn_dh *dh)
{
	const struct dh_group *g = dh->g;
	uint8_t point[1 + VPN_DH_MAX_PUB];
	BIGNUM *y = NULL;
	size_t len = 0;
	int ret = -1;

	switch (g->kind) {
	case DH_MODP:
		if (EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &y)
			    == 1
		    && BN_bn2binpad(y, dh->pub, (int)g->publen)
			       == (int)g->publen)
			ret = 0;
		BN_free(y);
		break;
	case DH_ECP:
		if (EVP_PKEY_get_octet_string_param(
			    dh->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
			    sizeof(point), &len)
			    == 1
		    && len == 1 + g->publen && point[0] == 0x04) {
			memcpy(dh->pub, point + 1, g->publen);
			ret = 0;
		}
		break;
	case DH_X25519:
		len = g->publen;
		if (EVP_PKEY_get_raw_public_key(dh->pkey, dh->pub, &len) == 1
		    && len == g->publen)
			ret = 0;
		break;
	}
	return ret;
}

static struct vpn_dh *dh_wrap(const struct dh_group *g, EVP_PKEY *pkey)
{
	struct vpn_dh *dh;

	if (!pkey)
		return NULL;
	dh = OPENSSL_zalloc(sizeof(*dh));
	if (!dh) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	dh->g = g;
	dh->pkey = pkey;
	if (export_public(dh) < 0) {
		vpn_dh_free(dh);
		return NULL;
	}
	return dh;
}

struct vpn_dh *vpn_dh_new(uint16_t group)
{
	const struct dh_group *g = group_find(group);

	return g ? dh_wrap(g, keygen(g)) : NULL;
}

/* MODP: y = 2^x mod p (all our groups have generator 2). */
static EVP_PKEY *modp_from_private(const struct dh_group *g,
				   const uint8_t *priv, size_t privlen)
{
	EVP_PKEY *params, *pkey = NULL;
	BIGNUM *x = NULL, *p = NULL, *two = NULL, *y = NULL;
	BN_CTX *bnctx = BN_CTX_new();

	params = pkey_fromdata(g, NULL, NULL, 0, NULL, EVP_PKEY_KEY_PARAMETERS);
	x = BN_bin2bn(priv, (int)privlen, NULL);
	two = BN_new();
	y = BN_new();
	if (!bnctx || !params || !x || !two || !y || BN_is_zero(x)
	    || !BN_set_word(two, 2)
	    || EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_P, &p) != 1
	    || BN_cmp(x, p) >= 0 || !BN_mod_exp(y, two, x, p, bnctx))
		goto out;
	pkey = pkey_fromdata(g, y, NULL, 0, x, EVP_PKEY_KEYPAIR);
out:
	BN_clear_free(x);
	BN_free(p);
	BN_free(two);
	BN_free(y);
	BN_CTX_free(bnctx);
	EVP_PKEY_free(params);
	return pkey;
}

/* ECP: Q = d * G, then the key pair from d and Q. */
static EVP_PKEY *ecp_from_private(const struct dh_group *g, const uint8_t *priv,
				  size_t privlen)
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(g->nid);
	EC_POINT *q = NULL;
	BIGNUM *d = NULL;
	BN_CTX *bnctx = BN_CTX_new();
	uint8_t point[1 + VPN_DH_MAX_PUB];
	EVP_PKEY *pkey = NULL;
	size_t len;

	if (!grp || !bnctx || privlen != g->publen / 2)
		goto out;
	d = BN_bin2bn(priv, (int)privlen, NULL);
	q = EC_POINT_new(grp);
	if (!d || !q || BN_is_zero(d)
	    || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0
	    || !EC_POINT_mul(grp, q, d, NULL, NULL, bnctx))
		goto out;
	len = EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, point,
				 sizeof(point), bnctx);
	if (len != 1 + g->publen)
		goto out;
	pkey = pkey_fromdata(g, NULL, point, len, d, EVP_PKEY_KEYPAIR);
out:
	BN_clear_free(d);
	EC_POINT_free(q);
	EC_GROUP_free(grp);
	BN_CTX_free(bnctx);
	return pkey;
}

struct vpn_dh *vpn_dh_new_from_private(uint16_t group, const uint8_t *priv,
				       size_t privlen)
{
	const struct dh_group *g = group_find(group);
	EVP_PKEY *pkey = NULL;

	if (!g || !priv || privlen == 0 || privlen > VPN_DH_MAX_PUB)
		return NULL;
	switch (g->kind) {
	case DH_MODP:
		pkey = modp_from_private(g, priv, privlen);
		break;
	case DH_ECP:
		pkey = ecp_from_private(g, priv, privlen);
		break;
	case DH_X25519:
		if (privlen == 32)
			pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519",
							       NULL, priv, 32);
		break;
	}
	return dh_wrap(g, pkey);
}

void vpn_dh_free(struct vpn_dh *dh)
{
	if (!dh)
		return;
	EVP_PKEY_free(dh->pkey); /* clears the private key */
	OPENSSL_clear_free(dh, sizeof(*dh));
}

int vpn_dh_public(const struct vpn_dh *dh, uint8_t *out, size_t len)
{
	if (!dh || !out || len != dh->g->publen)
		return -1;
	memcpy(out, dh->pub, len);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Shared secret                                                       */
/* ------------------------------------------------------------------ */

/*
 * MODP: 1 < y < p - 1, and for group 2 y^q = 1 with q = (p - 1) / 2 (the
 * named groups get the same check from OpenSSL's public key check); then
 * the peer key on our domain.
 */
static EVP_PKEY *modp_peer(const struct vpn_dh *dh, const uint8_t *peer,
			   size_t len)
{
	BIGNUM *y = BN_bin2bn(peer, (int)len, NULL);
	BIGNUM *p = NULL, *pm1 = BN_new(), *q = NULL, *t = NULL;
	BN_CTX *bnctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (!y || !pm1
	    || EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_FFC_P, &p) != 1
	    || !BN_sub(pm1, p, BN_value_one()))
		goto out;
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, pm1) >= 0)
		goto out;
	if (!dh->g->name) {
		bnctx = BN_CTX_new();
		q = BN_new();
		t = BN_new();
		if (!bnctx || !q || !t || !BN_rshift1(q, p)
		    || !BN_mod_exp(t, y, q, p, bnctx) || !BN_is_one(t))
			goto out;
	}
	pkey = pkey_fromdata(dh->g, y, NULL, 0, NULL, EVP_PKEY_PUBLIC_KEY);
out:
	BN_free(y);
	BN_free(p);
	BN_free(pm1);
	BN_free(q);
	BN_free(t);
	BN_CTX_free(bnctx);
	return pkey;
}

/* ECP: 0x04 | x | y, decoded (which checks the point is on the curve). */
static EVP_PKEY *ecp_peer(const struct vpn_dh *dh, const uint8_t *peer,
			  size_t len)
{
	uint8_t point[1 + VPN_DH_MAX_PUB];

	point[0] = 0x04;
	memcpy(point + 1, peer, len);
	return pkey_fromdata(dh->g, NULL, point, len + 1, NULL,
			     EVP_PKEY_PUBLIC_KEY);
}

int vpn_dh_shared(const struct vpn_dh *dh, const uint8_t *peer, size_t peerlen,
		  uint8_t *secret, size_t *secretlen)
{
	const struct dh_group *g;
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t outlen;
	int ret = -1;

	if (!dh || !peer || !secret || !secretlen)
		return -1;
	g = dh->g;
	if (peerlen != g->publen)
		return -1;
	switch (g->kind) {
	case DH_MODP:
		pk = modp_peer(dh, peer, peerlen);
		break;
	case DH_ECP:
		pk = ecp_peer(dh, peer, peerlen);
		break;
	case DH_X25519:
		pk = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer,
						    peerlen);
		break;
	}
	if (!pk)
		goto out;

	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1)
		goto out;
	/* MODP: g^ir left-padded to the prime length (RFC 7296 2.14). */
	if (g->kind == DH_MODP && EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1)
		goto out;
	/* Validates the peer key (public key check) against our domain. */
	if (EVP_PKEY_derive_set_peer_ex(ctx, pk, 1) != 1)
		goto out;
	outlen = g->kind == DH_ECP ? g->publen / 2 : g->publen;
	if (EVP_PKEY_derive(ctx, secret, &outlen) != 1
	    || outlen != (g->kind == DH_ECP ? g->publen / 2 : g->publen))
		goto out;
	if (g->kind == DH_X25519 && sodium_is_zero(secret, outlen)) {
		vpn_memzero(secret, outlen);
		goto out;
	}
	*secretlen = outlen;
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ret;
}
