/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: IKEv2 key derivation (RFC 7296 2.13-2.15, 2.17, 2.18) and the
 * pre-shared-key AUTH value. Pure functions over buffers.
 */
#ifndef VPND_IKE_KEYS_H
#define VPND_IKE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define IKE_KEY_MAX 64 /* any single SK_* key: prf output or cipher key */

/* The seven IKE SA keys (lengths per the negotiated transforms). */
struct ike_sa_keys {
	uint16_t prf;
	size_t prf_len;	  /* SK_d, SK_pi, SK_pr */
	size_t integ_len; /* SK_ai, SK_ar (0 with an AEAD cipher) */
	size_t encr_len;  /* SK_ei, SK_er (cipher key + salt) */
	uint8_t sk_d[IKE_KEY_MAX];
	uint8_t sk_ai[IKE_KEY_MAX], sk_ar[IKE_KEY_MAX];
	uint8_t sk_ei[IKE_KEY_MAX], sk_er[IKE_KEY_MAX];
	uint8_t sk_pi[IKE_KEY_MAX], sk_pr[IKE_KEY_MAX];
};

/*
 * SKEYSEED = prf(Ni | Nr, g^ir) for a new IKE SA, or
 * SKEYSEED = prf(SK_d(old), g^ir(new) | Ni | Nr) for a rekeyed one
 * (old_sk_d != NULL, old_prf is the old SA's PRF).
 * Then {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
 *   prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
 * `keys` must have prf, integ_len and encr_len set by the caller.
 */
int ike_derive_sa_keys(struct ike_sa_keys *keys, const uint8_t *ni,
		       size_t nilen, const uint8_t *nr, size_t nrlen,
		       const uint8_t *gir, size_t girlen, uint64_t spi_i,
		       uint64_t spi_r, uint16_t old_prf,
		       const uint8_t *old_sk_d, size_t old_sk_d_len,
		       uint8_t *skeyseed_out /* may be NULL */);

/*
 * KEYMAT = prf+(SK_d, [g^ir(new) |] Ni | Nr) for a Child SA (2.17).
 * gir may be NULL (no PFS).
 */
int ike_derive_child_keymat(uint16_t prf, const uint8_t *sk_d, size_t sk_d_len,
			    const uint8_t *gir, size_t girlen,
			    const uint8_t *ni, size_t nilen, const uint8_t *nr,
			    size_t nrlen, uint8_t *keymat, size_t keymatlen);

/*
 * AUTH for a pre-shared key (2.15):
 *   prf(prf(PSK, "Key Pad for IKEv2"),
 *       RealMessage | Nonce(peer) | prf(SK_p, ID body))
 * where `msg` is our own first message (IKE_SA_INIT request for the
 * initiator, response for the responder), `nonce` the other side's
 * nonce, `sk_p` SK_pi (initiator) or SK_pr (responder) and `id_body` the
 * ID payload body of the side being authenticated. out gets prf_len
 * bytes.
 */
int ike_psk_auth(uint16_t prf, const uint8_t *psk, size_t psklen,
		 const uint8_t *msg, size_t msglen, const uint8_t *nonce,
		 size_t noncelen, const uint8_t *sk_p, size_t sk_p_len,
		 const uint8_t *id_body, size_t id_body_len, uint8_t *out);

void ike_sa_keys_wipe(struct ike_sa_keys *keys);

#endif /* VPND_IKE_KEYS_H */
