/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the Encrypted and Authenticated payload (SK, RFC 7296 3.14) with
 * CBC + HMAC and with AEAD ciphers (RFC 5282).
 */
#ifndef VPND_IKE_SK_H
#define VPND_IKE_SK_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "ike/message.h"

/* One direction's protection: cipher and, for non-AEAD, integrity. */
struct ike_sk_dir {
	struct vpn_cipher *cipher;
	struct vpn_integ *integ; /* NULL with an AEAD cipher */
	uint16_t integ_id;	 /* its transform ID (ICV length) */
	uint64_t iv_counter;	 /* AEAD explicit IVs: never repeat */
};

/*
 * Build a complete protected message into out[0..cap): header `hdr`, then
 * an SK payload carrying the plaintext payload chain `inner` (built with
 * ike_build_inner; its first payload type in inner->first). Returns the
 * message length, or -1 if it does not fit, crypto fails or dir has no
 * keys.
 */
int ike_sk_seal(struct ike_sk_dir *dir, const struct ike_header *hdr,
		const struct ike_buf *inner, uint8_t *out, size_t cap);

/*
 * Verify and decrypt the SK payload of a parsed message in place (buf is
 * msg->raw, writable), then parse the inner payloads into msg. Returns 0,
 * or -1 when the ICV does not verify or the padding or inner chain is
 * malformed, or dir has no keys (the message must then be dropped
 * silently, RFC 7296 2.21.2).
 */
int ike_sk_open(struct ike_sk_dir *dir, uint8_t *buf, struct ike_msg *msg);

void ike_sk_dir_free(struct ike_sk_dir *dir);

#endif /* VPND_IKE_SK_H */
