// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: HMAC (RFC 2104) for the PRF and integrity transforms, and prf+
 * (RFC 7296 section 2.13).
 *
 * The key is absorbed once: a context keeps the hash states after the
 * inner (K ^ ipad) and outer (K ^ opad) blocks, and each MAC starts from a
 * copy of them. No allocation per call.
 *
 * This file uses OpenSSL's low-level SHA1/SHA256/SHA512 functions, which
 * OpenSSL 3 marks deprecated. The EVP interfaces are not usable here: in
 * OpenSSL 3.0 every EVP_MAC_init() and every EVP_DigestInit_ex() or
 * EVP_MD_CTX_copy_ex() on a provider digest frees and allocates the
 * provider context (two allocations per HMAC, measured), which the packet
 * path must not do. The low-level states are plain structures (a struct
 * copy restarts a MAC) and run the same assembly (SHA-NI, AVX2). Swapping
 * this file for EVP_MAC is a local change if that ever matters.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#define HMAC_BLOCK_MAX 128 /* SHA-384/512 */
#define HMAC_OUT_MAX 64

union hash_ctx {
	SHA_CTX sha1;
	SHA256_CTX sha256;
	SHA512_CTX sha512;
};

struct hash_alg {
	size_t block;
	size_t out;
	void (*init)(union hash_ctx *h);
	void (*update)(union hash_ctx *h, const void *p, size_t len);
	void (*final)(union hash_ctx *h, uint8_t *out);
};

/*
 * alg_<name>: a hash_alg over OpenSSL's <NAME>_Init/_Update/_Final, whose
 * state is member `field` of union hash_ctx (SHA-384 uses SHA-512's).
 */
#define HASH_ALG(name, NAME, field, block_len, out_len)                       \
	static void name##_init(union hash_ctx *h)                             \
	{                                                                      \
		NAME##_Init(&h->field);                                        \
	}                                                                      \
	static void name##_update(union hash_ctx *h, const void *p,            \
				  size_t len)                                  \
	{                                                                      \
		NAME##_Update(&h->field, p, len);                              \
	}                                                                      \
	static void name##_final(union hash_ctx *h, uint8_t *out)              \
	{                                                                      \
		NAME##_Final(out, &h->field);                                  \
	}                                                                      \
	static const struct hash_alg alg_##name = {                            \
		block_len, out_len, name##_init, name##_update, name##_final   \
	}

HASH_ALG(sha1, SHA1, sha1, 64, 20);
HASH_ALG(sha256, SHA256, sha256, 64, 32);
HASH_ALG(sha384, SHA384, sha512, 128, 48);
HASH_ALG(sha512, SHA512, sha512, 128, 64);

/* A keyed HMAC: hash states after the inner and outer pad blocks. */
struct hmac {
	const struct hash_alg *alg;
	union hash_ctx inner;
	union hash_ctx outer;
};

static void hmac_setkey(struct hmac *m, const struct hash_alg *alg,
			const uint8_t *key, size_t keylen)
{
	uint8_t k[HMAC_BLOCK_MAX];
	uint8_t pad[HMAC_BLOCK_MAX];
	union hash_ctx h;

	memset(k, 0, sizeof(k));
	if (keylen > alg->block) {
		alg->init(&h);
		alg->update(&h, key, keylen);
		alg->final(&h, k);
	} else if (keylen) {
		memcpy(k, key, keylen);
	}

	m->alg = alg;
	for (size_t i = 0; i < alg->block; i++)
		pad[i] = k[i] ^ 0x36;
	alg->init(&m->inner);
	alg->update(&m->inner, pad, alg->block);
	for (size_t i = 0; i < alg->block; i++)
		pad[i] = k[i] ^ 0x5c;
	alg->init(&m->outer);
	alg->update(&m->outer, pad, alg->block);

	vpn_memzero(k, sizeof(k));
	vpn_memzero(pad, sizeof(pad));
	vpn_memzero(&h, sizeof(h));
}

/* out receives alg->out bytes. */
static void hmac_compute(const struct hmac *m, const struct iovec *iov, int n,
			 uint8_t *out)
{
	const struct hash_alg *alg = m->alg;
	uint8_t md[HMAC_OUT_MAX];
	union hash_ctx h;

	h = m->inner;
	for (int i = 0; i < n; i++)
		if (iov[i].iov_len)
			alg->update(&h, iov[i].iov_base, iov[i].iov_len);
	alg->final(&h, md);
	h = m->outer;
	alg->update(&h, md, alg->out);
	alg->final(&h, out);
	/* The copies hold key-equivalent state. */
	vpn_memzero(&h, sizeof(h));
	vpn_memzero(md, sizeof(md));
}

/* ------------------------------------------------------------------ */
/* PRF                                                                 */
/* ------------------------------------------------------------------ */

static const struct hash_alg *prf_alg(uint16_t prf_id)
{
	switch (prf_id) {
	case 2: /* PRF_HMAC_SHA1 */
		return &alg_sha1;
	case 5: /* PRF_HMAC_SHA2_256 */
		return &alg_sha256;
	case 6: /* PRF_HMAC_SHA2_384 */
		return &alg_sha384;
	case 7: /* PRF_HMAC_SHA2_512 */
		return &alg_sha512;
	}
	return NULL;
}

size_t vpn_prf_len(uint16_t prf_id)
{
	const struct hash_alg *alg = prf_alg(prf_id);

	return alg ? alg->out : 0;
}

int vpn_prf_iov(uint16_t prf_id, const uint8_t *key, size_t keylen,
		const struct iovec *iov, int n, uint8_t *out)
{
	const struct hash_alg *alg = prf_alg(prf_id);
	struct hmac m;

	if (!alg || !out || n < 0 || (keylen && !key))
		return -1;
	hmac_setkey(&m, alg, key, keylen);
	hmac_compute(&m, iov, n, out);
	vpn_memzero(&m, sizeof(m));
	return 0;
}

int vpn_prf(uint16_t prf_id, const uint8_t *key, size_t keylen,
	    const uint8_t *data, size_t datalen, uint8_t *out)
{
	struct iovec iov = {(void *)data, datalen};

	if (datalen && !data)
		return -1;
	return vpn_prf_iov(prf_id, key, keylen, &iov, 1, out);
}

int vpn_prf_plus(uint16_t prf_id, const uint8_t *key, size_t keylen,
		 const uint8_t *seed, size_t seedlen, uint8_t *out,
		 size_t outlen)
{
	const struct hash_alg *alg = prf_alg(prf_id);
	uint8_t t[HMAC_OUT_MAX];
	uint8_t counter;
	struct iovec iov[3];
	struct hmac m;
	size_t done = 0;

	if (!alg || (keylen && !key) || (seedlen && !seed) || (outlen && !out)
	    || outlen > 255 * alg->out)
		return -1;

	hmac_setkey(&m, alg, key, keylen);
	for (counter = 1; done < outlen; counter++) {
		size_t take;

		/* T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n) */
		iov[0].iov_base = t;
		iov[0].iov_len = counter == 1 ? 0 : alg->out;
		iov[1].iov_base = (void *)seed;
		iov[1].iov_len = seedlen;
		iov[2].iov_base = &counter;
		iov[2].iov_len = 1;
		hmac_compute(&m, iov, 3, t);
		take = outlen - done < alg->out ? outlen - done : alg->out;
		memcpy(out + done, t, take);
		done += take;
	}
	vpn_memzero(t, sizeof(t));
	vpn_memzero(&m, sizeof(m));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Integrity                                                           */
/* ------------------------------------------------------------------ */

struct vpn_integ {
	struct hmac m;
	size_t icvlen;
};

struct integ_def {
	const struct hash_alg *alg;
	size_t keylen;
	size_t icvlen;
};

static bool integ_def(uint16_t integ_id, struct integ_def *d)
{
	switch (integ_id) {
	case 2: /* AUTH_HMAC_SHA1_96 (RFC 2404) */
		*d = (struct integ_def){&alg_sha1, 20, 12};
		return true;
	case 12: /* AUTH_HMAC_SHA2_256_128 (RFC 4868) */
		*d = (struct integ_def){&alg_sha256, 32, 16};
		return true;
	case 13: /* AUTH_HMAC_SHA2_384_192 */
		*d = (struct integ_def){&alg_sha384, 48, 24};
		return true;
	case 14: /* AUTH_HMAC_SHA2_512_256 */
		*d = (struct integ_def){&alg_sha512, 64, 32};
		return true;
	}
	return false;
}

size_t vpn_integ_keylen(uint16_t integ_id)
{
	struct integ_def d;

	return integ_def(integ_id, &d) ? d.keylen : 0;
}

size_t vpn_integ_icvlen(uint16_t integ_id)
{
	struct integ_def d;

	return integ_def(integ_id, &d) ? d.icvlen : 0;
}

struct vpn_integ *vpn_integ_new(uint16_t integ_id, const uint8_t *key,
				size_t keylen)
{
	struct vpn_integ *ctx;
	struct integ_def d;

	if (!integ_def(integ_id, &d) || keylen != d.keylen || !key)
		return NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	hmac_setkey(&ctx->m, d.alg, key, keylen);
	ctx->icvlen = d.icvlen;
	return ctx;
}

void vpn_integ_free(struct vpn_integ *ctx)
{
	if (!ctx)
		return;
	vpn_memzero(ctx, sizeof(*ctx));
	free(ctx);
}

int vpn_integ_sign(struct vpn_integ *ctx, const struct iovec *iov, int n,
		   uint8_t *icv)
{
	uint8_t md[HMAC_OUT_MAX];

	if (!ctx || !icv || n < 0)
		return -1;
	hmac_compute(&ctx->m, iov, n, md);
	memcpy(icv, md, ctx->icvlen);
	vpn_memzero(md, sizeof(md));
	return 0;
}

bool vpn_integ_verify(struct vpn_integ *ctx, const struct iovec *iov, int n,
		      const uint8_t *icv)
{
	uint8_t md[HMAC_OUT_MAX];
	bool ok;

	if (!ctx || !icv || n < 0)
		return false;
	hmac_compute(&ctx->m, iov, n, md);
	ok = vpn_memeq(md, icv, ctx->icvlen);
	vpn_memzero(md, sizeof(md));
	return ok;
}
