// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: SK payload protection.
 *
 * Layout of the SK body: IV | E(payloads | padding | pad length) | ICV.
 * CBC: padding to the block size, ICV = HMAC over the whole message up to
 * the ICV, computed after encryption. AEAD (RFC 5282): 8-byte IV, no
 * alignment padding, AAD = the message from the IKE header to the end of
 * the SK generic header, ICV = the AEAD tag.
 */
#include "sk.h"

#include <string.h>

#include "util/bytes.h"

static size_t sk_icvlen(const struct ike_sk_dir *dir,
			const struct vpn_cipher_info *ci)
{
	return ci->aead ? ci->icvlen : vpn_integ_icvlen(dir->integ_id);
}

/* Keys are in place: a cipher, and an integrity algorithm unless AEAD. */
static bool sk_ready(const struct ike_sk_dir *dir)
{
	return dir->cipher &&
	       (vpn_cipher_get_info(dir->cipher)->aead || dir->integ);
}

int ike_sk_seal(struct ike_sk_dir *dir, const struct ike_header *hdr,
		const struct ike_buf *inner, uint8_t *out, size_t cap)
{
	const struct vpn_cipher_info *ci;
	size_t icvlen;
	size_t block, plain, padded, padlen;
	struct ike_buf b;
	uint8_t *body, *ct;
	int msglen;

	if (inner->overflow || !sk_ready(dir))
		return -1;
	ci = vpn_cipher_get_info(dir->cipher);
	icvlen = sk_icvlen(dir, ci);
	block = ci->aead ? 1 : ci->blocksize;
	plain = inner->len + 1; /* payloads | pad length */
	padded = (plain + block - 1) / block * block;
	padlen = padded - plain;
	ike_build_init(&b, out, cap, hdr);
	body = ike_add_sk(&b, inner->first,
			  ci->ivlen + padded + icvlen);
	msglen = ike_build_finish(&b);
	if (!body || msglen < 0)
		return -1;

	ct = body + ci->ivlen;
	memcpy(ct, inner->data, inner->len);
	for (size_t i = 0; i < padlen; i++)
		ct[inner->len + i] = 0;
	ct[padded - 1] = (uint8_t)padlen;

	if (ci->aead) {
		/* Unique per key: a counter (RFC 5282 section 3). */
		vpn_put_be64(body, ++dir->iv_counter);
		if (vpn_cipher_encrypt(dir->cipher, body, out,
				       (size_t)(body - out), ct, padded, ct,
				       ct + padded) < 0)
			return -1;
	} else {
		struct iovec iov = { out, (size_t)(ct + padded - out) };

		vpn_random(body, ci->ivlen);
		if (vpn_cipher_encrypt(dir->cipher, body, NULL, 0, ct, padded,
				       ct, NULL) < 0)
			return -1;
		if (vpn_integ_sign(dir->integ, &iov, 1, ct + padded) < 0)
			return -1;
	}
	return msglen;
}

int ike_sk_open(struct ike_sk_dir *dir, uint8_t *buf, struct ike_msg *msg)
{
	const struct vpn_cipher_info *ci;
	size_t icvlen;
	size_t hdr_end = msg->sk.offset + IKE_GENERIC_HDR_LEN;
	uint8_t *body = buf + hdr_end;
	size_t len = msg->sk.len;
	uint8_t *iv, *ct, *icv;
	size_t ctlen, padlen;

	if (!msg->has_sk || !sk_ready(dir))
		return -1;
	ci = vpn_cipher_get_info(dir->cipher);
	icvlen = sk_icvlen(dir, ci);
	if (len < ci->ivlen + icvlen + 1)
		return -1;
	iv = body;
	ct = body + ci->ivlen;
	ctlen = len - ci->ivlen - icvlen;
	icv = ct + ctlen;
	if (!ci->aead && (ctlen == 0 || ctlen % ci->blocksize))
		return -1;

	if (ci->aead) {
		if (vpn_cipher_decrypt(dir->cipher, iv, buf, hdr_end, ct,
				       ctlen, ct, icv) < 0)
			return -1;
	} else {
		struct iovec iov = { buf, (size_t)(icv - buf) };

		/* Authenticate before decrypting. */
		if (!vpn_integ_verify(dir->integ, &iov, 1, icv))
			return -1;
		if (vpn_cipher_decrypt(dir->cipher, iv, NULL, 0, ct, ctlen, ct,
				       NULL) < 0)
			return -1;
	}
	padlen = ct[ctlen - 1];
	if (padlen + 1 > ctlen)
		return -1;
	if (ike_parse_payloads(msg->sk.first_inner, ct, ctlen - padlen - 1,
			       msg) != IKE_PARSE_OK)
		return -1;
	return 0;
}

void ike_sk_dir_free(struct ike_sk_dir *dir)
{
	if (dir->cipher)
		vpn_cipher_free(dir->cipher);
	if (dir->integ)
		vpn_integ_free(dir->integ);
	memset(dir, 0, sizeof(*dir));
}
