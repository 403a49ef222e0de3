// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: IKEv2 key derivation and PSK AUTH: SKEYSEED and the IKE SA keys
 * (RFC 7296 2.14, 2.18), Child SA KEYMAT (2.17), the PSK AUTH value (2.15).
 */
#include "keys.h"

#include <string.h>

#include "util/bytes.h"

/*
 * SKEYSEED (RFC 7296 2.14): prf(Ni | Nr, g^ir) for a new IKE SA; for a
 * rekey (2.18), prf(SK_d of the old SA, g^ir (new) | Ni | Nr) under the old
 * SA's PRF. out receives vpn_prf_len(prf) bytes.
 */
static int compute_skeyseed(uint16_t prf, const uint8_t *ni, size_t nilen,
			    const uint8_t *nr, size_t nrlen, const uint8_t *gir,
			    size_t girlen, uint16_t old_prf,
			    const uint8_t *old_sk_d, size_t old_sk_d_len,
			    uint8_t *out)
{
	/* The key is Ni | Nr; HMAC takes keys of any length. */
	uint8_t nonces[512];
	int ret;

	if (old_sk_d) {
		struct iovec iov[3] = {
			{ (void *)gir, girlen },
			{ (void *)ni, nilen },
			{ (void *)nr, nrlen },
		};

		return vpn_prf_iov(old_prf, old_sk_d, old_sk_d_len, iov, 3,
				   out);
	}
	if (nilen + nrlen > sizeof(nonces))
		return -1;
	memcpy(nonces, ni, nilen);
	memcpy(nonces + nilen, nr, nrlen);
	ret = vpn_prf(prf, nonces, nilen + nrlen, gir, girlen, out);
	vpn_memzero(nonces, sizeof(nonces));
	return ret;
}

int ike_derive_sa_keys(struct ike_sa_keys *keys, const uint8_t *ni,
		       size_t nilen, const uint8_t *nr, size_t nrlen,
		       const uint8_t *gir, size_t girlen, uint64_t spi_i,
		       uint64_t spi_r, uint16_t old_prf,
		       const uint8_t *old_sk_d, size_t old_sk_d_len,
		       uint8_t *skeyseed_out)
{
	uint8_t skeyseed[VPN_PRF_MAX_LEN];
	uint8_t *seed = NULL, *km = NULL;
	size_t seedlen = nilen + nrlen + 16;
	size_t kmlen, off = 0;
	int ret = -1;

	keys->prf_len = vpn_prf_len(keys->prf);
	if (keys->prf_len == 0 || keys->prf_len > IKE_KEY_MAX ||
	    keys->integ_len > IKE_KEY_MAX || keys->encr_len > IKE_KEY_MAX)
		return -1;
	if (compute_skeyseed(keys->prf, ni, nilen, nr, nrlen, gir, girlen,
			     old_prf, old_sk_d, old_sk_d_len, skeyseed) < 0)
		return -1;

	/* {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
	 * prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) */
	kmlen = 3 * keys->prf_len + 2 * keys->integ_len + 2 * keys->encr_len;
	seed = vpn_secret_alloc(seedlen);
	km = vpn_secret_alloc(kmlen);
	if (!seed || !km)
		goto out;
	memcpy(seed, ni, nilen);
	memcpy(seed + nilen, nr, nrlen);
	vpn_put_be64(seed + nilen + nrlen, spi_i);
	vpn_put_be64(seed + nilen + nrlen + 8, spi_r);
	if (vpn_prf_plus(keys->prf, skeyseed, keys->prf_len, seed, seedlen, km,
			 kmlen) < 0)
		goto out;

#define TAKE(dst, n)                                                           \
	do {                                                                   \
		memcpy(dst, km + off, n);                                      \
		off += n;                                                      \
	} while (0)
	TAKE(keys->sk_d, keys->prf_len);
	TAKE(keys->sk_ai, keys->integ_len);
	TAKE(keys->sk_ar, keys->integ_len);
	TAKE(keys->sk_ei, keys->encr_len);
	TAKE(keys->sk_er, keys->encr_len);
	TAKE(keys->sk_pi, keys->prf_len);
	TAKE(keys->sk_pr, keys->prf_len);
#undef TAKE
	if (skeyseed_out)
		memcpy(skeyseed_out, skeyseed, keys->prf_len);
	ret = 0;
out:
	vpn_memzero(skeyseed, sizeof(skeyseed));
	if (seed)
		vpn_secret_free(seed, seedlen);
	if (km)
		vpn_secret_free(km, kmlen);
	return ret;
}

int ike_derive_child_keymat(uint16_t prf, const uint8_t *sk_d, size_t sk_d_len,
			    const uint8_t *gir, size_t girlen,
			    const uint8_t *ni, size_t nilen, const uint8_t *nr,
			    size_t nrlen, uint8_t *keymat, size_t keymatlen)
{
	size_t seedlen = (gir ? girlen : 0) + nilen + nrlen;
	uint8_t *seed = vpn_secret_alloc(seedlen);
	size_t off = 0;
	int ret;

	if (!seed)
		return -1;
	if (gir) {
		memcpy(seed, gir, girlen);
		off = girlen;
	}
	memcpy(seed + off, ni, nilen);
	memcpy(seed + off + nilen, nr, nrlen);
	ret = vpn_prf_plus(prf, sk_d, sk_d_len, seed, seedlen, keymat,
			   keymatlen);
	vpn_secret_free(seed, seedlen);
	return ret;
}

static const char key_pad[] = "Key Pad for IKEv2";

int ike_psk_auth(uint16_t prf, const uint8_t *psk, size_t psklen,
		 const uint8_t *msg, size_t msglen, const uint8_t *nonce,
		 size_t noncelen, const uint8_t *sk_p, size_t sk_p_len,
		 const uint8_t *id_body, size_t id_body_len, uint8_t *out)
{
	uint8_t padkey[VPN_PRF_MAX_LEN], maced_id[VPN_PRF_MAX_LEN];
	size_t plen = vpn_prf_len(prf);
	int ret = -1;

	if (plen == 0)
		return -1;
	if (vpn_prf(prf, sk_p, sk_p_len, id_body, id_body_len, maced_id) < 0)
		goto out;
	if (vpn_prf(prf, psk, psklen, (const uint8_t *)key_pad,
		    sizeof(key_pad) - 1, padkey) < 0)
		goto out;
	{
		struct iovec iov[3] = {
			{ (void *)msg, msglen },
			{ (void *)nonce, noncelen },
			{ maced_id, plen },
		};

		ret = vpn_prf_iov(prf, padkey, plen, iov, 3, out);
	}
out:
	vpn_memzero(padkey, sizeof(padkey));
	vpn_memzero(maced_id, sizeof(maced_id));
	return ret;
}

void ike_sa_keys_wipe(struct ike_sa_keys *keys)
{
	vpn_memzero(keys, sizeof(*keys));
}
