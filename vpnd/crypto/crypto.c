// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: crypto basics: initialisation, random numbers, wiping,
 * constant-time comparison, secret memory and SHA-1.
 */
#include "crypto.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

int vpn_crypto_init(void)
{
	/* 0: initialised now, 1: already was, -1: failure. */
	return sodium_init() < 0 ? -1 : 0;
}

void vpn_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

void vpn_memzero(void *p, size_t len)
{
	if (p && len)
		sodium_memzero(p, len);
}

uint64_t vpn_shorthash(const uint8_t key[VPN_SHORTHASH_KEYLEN],
		       const void *data, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t v;

	_Static_assert(crypto_shorthash_KEYBYTES == VPN_SHORTHASH_KEYLEN,
		       "SipHash key length");
	_Static_assert(crypto_shorthash_BYTES == sizeof(v), "SipHash output");
	crypto_shorthash(out, data, len, key);
	memcpy(&v, out, sizeof(v));
	return v;
}

bool vpn_memeq(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return true;
	return sodium_memcmp(a, b, len) == 0;
}

/*
 * sodium_malloc(): guard pages around the block, mlock()ed, wiped by
 * sodium_free(). It needs sodium_init() (page size); calling it again is
 * cheap and thread-safe.
 */
void *vpn_secret_alloc(size_t len)
{
	void *p;

	if (sodium_init() < 0)
		return NULL;
	p = sodium_malloc(len ? len : 1);
	if (p)
		memset(p, 0, len ? len : 1);
	return p;
}

void vpn_secret_free(void *p, size_t len)
{
	(void)len; /* libsodium knows the size and wipes all of it */
	sodium_free(p);
}

int vpn_sha1(const struct iovec *iov, int n, uint8_t out[VPN_SHA1_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int outlen = 0;
	int ret = -1;

	if (!ctx || n < 0)
		goto out;
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1)
		goto out;
	for (int i = 0; i < n; i++)
		if (iov[i].iov_len
		    && EVP_DigestUpdate(ctx, iov[i].iov_base, iov[i].iov_len)
			       != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, out, &outlen) != 1
	    || outlen != VPN_SHA1_LEN)
		goto out;
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}
