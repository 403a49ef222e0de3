// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: ESP packet engine (RFC 4303), see esp.h.
 *
 * Encapsulation: payload | padding 1, 2, ... | pad length | next header,
 * encrypted in place after SPI | Seq | IV; then the ICV (AEAD tag, or
 * HMAC over SPI .. ciphertext, with the high 32 bits of an extended
 * sequence number appended but not sent, RFC 4303 section 2.2.1).
 *
 * Decapsulation, in this order: length and block checks, SPI, replay
 * check (no state change), ICV (AEAD: AAD SPI | Seq or SPI | Seq-high |
 * Seq-low, RFC 4106 section 5), decryption, replay update, padding check.
 */
#include "esp.h"
#include "esp_test.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "util/bytes.h"

#define ENCR_AES_CBC 12
#define IVGEN_KEYLEN 16

struct esp_sa {
	uint32_t spi;
	bool esn;
	bool aead;
	struct vpn_cipher *cipher;
	struct vpn_integ *integ;  /* CBC */
	struct vpn_cipher *ivgen; /* CBC: AES-128 under a random key */
	size_t ivlen;
	size_t icvlen;
	size_t align;	  /* the trailer ends on a multiple */
	size_t head;	  /* ESP_HDR_LEN + ivlen */
	size_t min_ct;	  /* shortest ciphertext */
	uint64_t seq_out; /* last sequence number sent */
	uint64_t seq_max; /* last one that may be sent */
	struct esp_replay replay;
	struct esp_stats stats;
};

/* ------------------------------------------------------------------ */
/* SA                                                                  */
/* ------------------------------------------------------------------ */

struct esp_sa *esp_sa_new(const struct esp_sa_params *p)
{
	struct vpn_cipher_info ci;
	uint8_t ivkey[IVGEN_KEYLEN];
	struct esp_sa *sa;

	if (!p || p->spi == 0 || !p->encr_key
	    || vpn_cipher_info(p->encr, p->keybits, &ci) < 0
	    || p->encr_keylen != ci.keylen)
		return NULL;
	if (ci.aead ? p->integ != 0
		    : (vpn_integ_keylen(p->integ) == 0 || !p->integ_key
		       || p->integ_keylen != vpn_integ_keylen(p->integ)))
		return NULL;

	sa = calloc(1, sizeof(*sa));
	if (!sa)
		return NULL;
	sa->spi = p->spi;
	sa->esn = p->esn;
	sa->aead = ci.aead;
	sa->ivlen = ci.ivlen;
	sa->align = ci.blocksize > 4 ? ci.blocksize : 4;
	sa->head = ESP_HDR_LEN + ci.ivlen;
	sa->min_ct = ci.aead ? ESP_TRAILER_LEN : ci.blocksize;
	sa->seq_max = p->esn ? UINT64_MAX : UINT32_MAX;
	esp_replay_init(&sa->replay, p->esn);

	sa->cipher = vpn_cipher_new(p->encr, p->keybits, p->encr_key,
				    p->encr_keylen);
	if (!sa->cipher)
		goto fail;
	if (ci.aead) {
		sa->icvlen = ci.icvlen;
		return sa;
	}
	sa->icvlen = vpn_integ_icvlen(p->integ);
	sa->integ = vpn_integ_new(p->integ, p->integ_key, p->integ_keylen);
	vpn_random(ivkey, sizeof(ivkey));
	sa->ivgen = vpn_cipher_new(ENCR_AES_CBC, 128, ivkey, sizeof(ivkey));
	vpn_memzero(ivkey, sizeof(ivkey));
	if (!sa->integ || !sa->ivgen)
		goto fail;
	return sa;
fail:
	esp_sa_free(sa);
	return NULL;
}

void esp_sa_free(struct esp_sa *sa)
{
	if (!sa)
		return;
	vpn_cipher_free(sa->cipher);
	vpn_integ_free(sa->integ);
	vpn_cipher_free(sa->ivgen);
	vpn_memzero(sa, sizeof(*sa));
	free(sa);
}

uint32_t esp_sa_spi(const struct esp_sa *sa)
{
	return sa->spi;
}

size_t esp_sa_head_len(const struct esp_sa *sa)
{
	return sa->head;
}

static size_t padded_len(const struct esp_sa *sa, size_t inner_len)
{
	return (inner_len + ESP_TRAILER_LEN + sa->align - 1) / sa->align
	       * sa->align;
}

size_t esp_sa_encap_len(const struct esp_sa *sa, size_t inner_len)
{
	return sa->head + padded_len(sa, inner_len) + sa->icvlen;
}

size_t esp_sa_overhead_max(const struct esp_sa *sa)
{
	return sa->head + sa->align - 1 + ESP_TRAILER_LEN + sa->icvlen;
}

void esp_sa_get_stats(const struct esp_sa *sa, struct esp_stats *st)
{
	*st = sa->stats;
}

uint64_t esp_sa_bytes(const struct esp_sa *sa)
{
	return sa->stats.in_bytes + sa->stats.out_bytes;
}

uint64_t esp_sa_seq_out(const struct esp_sa *sa)
{
	return sa->seq_out;
}

uint64_t esp_sa_seq_left(const struct esp_sa *sa)
{
	return sa->seq_max - sa->seq_out;
}

const char *esp_status_name(enum esp_status s)
{
	switch (s) {
	case ESP_OK:
		return "ok";
	case ESP_UNKNOWN_SPI:
		return "unknown-spi";
	case ESP_MALFORMED:
		return "malformed";
	case ESP_REPLAY:
		return "replay";
	case ESP_INTEGRITY:
		return "integrity";
	case ESP_SEQ_EXHAUSTED:
		return "seq-exhausted";
	case ESP_NO_SPACE:
		return "no-space";
	case ESP_CRYPTO_ERROR:
		return "crypto-error";
	case ESP_STATUS_MAX:
		break;
	}
	return "unknown";
}

static enum esp_status drop(struct esp_sa *sa, enum esp_status st)
{
	sa->stats.drops[st]++;
	return st;
}

/* ------------------------------------------------------------------ */
/* Encapsulation                                                       */
/* ------------------------------------------------------------------ */

/* CBC IV: E_K'(seq | 0), K' random and private to the SA. */
static int cbc_iv(struct esp_sa *sa, uint64_t seq, uint8_t *iv)
{
	static const uint8_t zero[16];
	uint8_t block[16] = {0};

	vpn_put_be64(block, seq);
	if (vpn_cipher_encrypt(sa->ivgen, zero, NULL, 0, block, sizeof(block),
			       block, NULL)
	    < 0)
		return -1;
	memcpy(iv, block, sa->ivlen);
	return 0;
}

/* AEAD AAD from the packet's SPI | Seq (RFC 4106 section 5): SPI | Seq
 * with a 32-bit sequence number, SPI | Seq-high | Seq-low with ESN. */
static size_t esp_aad(const struct esp_sa *sa, const uint8_t *pkt,
		      const uint8_t seqhi[4], uint8_t aad[12])
{
	size_t aadlen = 8;

	memcpy(aad, pkt, 4);
	if (sa->esn) {
		memcpy(aad + 4, seqhi, 4);
		aadlen = 12;
	}
	memcpy(aad + aadlen - 4, pkt + 4, 4);
	return aadlen;
}

/* Builds the packet; the caller checked the size and owns seq. */
static enum esp_status seal(struct esp_sa *sa, uint64_t seq, const uint8_t *iv,
			    const uint8_t *inner, size_t inner_len,
			    uint8_t next_header, uint8_t *out)
{
	size_t padded = padded_len(sa, inner_len);
	size_t padlen = padded - inner_len - ESP_TRAILER_LEN;
	uint8_t *payload = out + sa->head;
	uint8_t *icv = payload + padded;
	uint8_t seqhi[4];

	/* First the payload: inner may sit anywhere in out. */
	memmove(payload, inner, inner_len);
	for (size_t i = 0; i < padlen; i++)
		payload[inner_len + i] = (uint8_t)(i + 1);
	payload[padded - 2] = (uint8_t)padlen;
	payload[padded - 1] = next_header;
	vpn_put_be32(out, sa->spi);
	vpn_put_be32(out + 4, (uint32_t)seq);
	vpn_put_be32(seqhi, (uint32_t)(seq >> 32));

	if (sa->aead) {
		uint8_t aad[12];
		size_t aadlen = esp_aad(sa, out, seqhi, aad);

		if (iv)
			memcpy(out + ESP_HDR_LEN, iv, sa->ivlen);
		else
			vpn_put_be64(out + ESP_HDR_LEN, seq);
		if (vpn_cipher_encrypt(sa->cipher, out + ESP_HDR_LEN, aad,
				       aadlen, payload, padded, payload, icv)
		    < 0)
			return ESP_CRYPTO_ERROR;
	} else {
		struct iovec iov[2]
			= {{out, sa->head + padded}, {seqhi, sizeof(seqhi)}};

		if (iv)
			memcpy(out + ESP_HDR_LEN, iv, sa->ivlen);
		else if (cbc_iv(sa, seq, out + ESP_HDR_LEN) < 0)
			return ESP_CRYPTO_ERROR;
		if (vpn_cipher_encrypt(sa->cipher, out + ESP_HDR_LEN, NULL, 0,
				       payload, padded, payload, NULL)
			    < 0
		    || vpn_integ_sign(sa->integ, iov, sa->esn ? 2 : 1, icv) < 0)
			return ESP_CRYPTO_ERROR;
	}
	return ESP_OK;
}

static bool fits(const struct esp_sa *sa, size_t inner_len, size_t out_size)
{
	/* inner_len <= out_size keeps the sums below from overflowing. */
	return inner_len <= out_size
	       && esp_sa_encap_len(sa, inner_len) <= out_size;
}

enum esp_status esp_encap(struct esp_sa *sa, const uint8_t *inner,
			  size_t inner_len, uint8_t next_header, uint8_t *out,
			  size_t out_size, size_t *out_len)
{
	enum esp_status st;

	if (sa->seq_out >= sa->seq_max)
		return drop(sa, ESP_SEQ_EXHAUSTED);
	if (!fits(sa, inner_len, out_size))
		return drop(sa, ESP_NO_SPACE);
	/* The number is spent even if sealing fails: never reused. */
	sa->seq_out++;
	st = seal(sa, sa->seq_out, NULL, inner, inner_len, next_header, out);
	if (st != ESP_OK)
		return drop(sa, st);
	*out_len = esp_sa_encap_len(sa, inner_len);
	sa->stats.out_packets++;
	sa->stats.out_bytes += inner_len;
	return ESP_OK;
}

/* ------------------------------------------------------------------ */
/* Decapsulation                                                       */
/* ------------------------------------------------------------------ */

enum esp_status esp_decap(struct esp_sa *sa, uint8_t *pkt, size_t len,
			  struct esp_inner *inner)
{
	size_t ctlen, padlen;
	uint8_t *ct, *icv, seqhi[4];
	uint64_t seq;

	if (len < sa->head + sa->min_ct + sa->icvlen)
		return drop(sa, ESP_MALFORMED);
	ctlen = len - sa->head - sa->icvlen;
	/* CBC: whole blocks. AEAD: any length (senders align to 4, RFC
	 * 4303 2.4, but the tag covers it all, so nothing is gained by
	 * refusing). */
	if (!sa->aead && ctlen % sa->align)
		return drop(sa, ESP_MALFORMED);
	if (vpn_get_be32(pkt) != sa->spi)
		return ESP_UNKNOWN_SPI;
	if (!esp_replay_check(&sa->replay, vpn_get_be32(pkt + 4), &seq))
		return drop(sa, ESP_REPLAY);

	ct = pkt + sa->head;
	icv = ct + ctlen;
	vpn_put_be32(seqhi, (uint32_t)(seq >> 32));
	if (sa->aead) {
		uint8_t aad[12];
		size_t aadlen = esp_aad(sa, pkt, seqhi, aad);

		if (vpn_cipher_decrypt(sa->cipher, pkt + ESP_HDR_LEN, aad,
				       aadlen, ct, ctlen, ct, icv)
		    < 0)
			return drop(sa, ESP_INTEGRITY);
	} else {
		struct iovec iov[2]
			= {{pkt, sa->head + ctlen}, {seqhi, sizeof(seqhi)}};

		/* Authenticate before decrypting. */
		if (!vpn_integ_verify(sa->integ, iov, sa->esn ? 2 : 1, icv))
			return drop(sa, ESP_INTEGRITY);
		if (vpn_cipher_decrypt(sa->cipher, pkt + ESP_HDR_LEN, NULL, 0,
				       ct, ctlen, ct, NULL)
		    < 0)
			return drop(sa, ESP_CRYPTO_ERROR);
	}
	/* Authentic: the sequence number is spent, whatever follows. */
	if (!esp_replay_update(&sa->replay, seq))
		return drop(sa, ESP_REPLAY);

	padlen = ct[ctlen - 2];
	if (padlen + ESP_TRAILER_LEN > ctlen)
		return drop(sa, ESP_MALFORMED);
	for (size_t i = 0; i < padlen; i++)
		if (ct[ctlen - ESP_TRAILER_LEN - padlen + i]
		    != (uint8_t)(i + 1))
			return drop(sa, ESP_MALFORMED);

	inner->data = ct;
	inner->len = ctlen - ESP_TRAILER_LEN - padlen;
	inner->next_header = ct[ctlen - 1];
	inner->seq = seq;
	sa->stats.in_packets++;
	sa->stats.in_bytes += inner->len;
	return ESP_OK;
}

/* ------------------------------------------------------------------ */
/* Test hooks (esp_test.h)                                             */
/* ------------------------------------------------------------------ */

enum esp_status esp_test_encap(struct esp_sa *sa, uint64_t seq,
			       const uint8_t *iv, const uint8_t *inner,
			       size_t inner_len, uint8_t next_header,
			       uint8_t *out, size_t out_size, size_t *out_len)
{
	enum esp_status st;

	if (!fits(sa, inner_len, out_size))
		return ESP_NO_SPACE;
	st = seal(sa, seq, iv, inner, inner_len, next_header, out);
	if (st == ESP_OK)
		*out_len = esp_sa_encap_len(sa, inner_len);
	return st;
}

void esp_test_set_seq_out(struct esp_sa *sa, uint64_t seq)
{
	sa->seq_out = seq;
}

void esp_test_set_replay_top(struct esp_sa *sa, uint64_t top)
{
	esp_replay_init(&sa->replay, sa->esn);
	if (top)
		esp_replay_update(&sa->replay, top);
}

void esp_test_reset_stats(struct esp_sa *sa)
{
	memset(&sa->stats, 0, sizeof(sa->stats));
}
