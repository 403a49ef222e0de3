// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: encryption transforms.
 *
 * AES-CBC (RFC 3602), 3DES-CBC (RFC 2451), AES-GCM with a 16-byte ICV
 * (RFC 4106, RFC 5282) and ChaCha20-Poly1305 (RFC 7634, IETF variant of
 * RFC 8439) through OpenSSL EVP. ChaCha20-Poly1305 falls back to
 * libsodium where OpenSSL does not offer it (a provider without it):
 * OpenSSL's is 2-3 times faster here (bench/crypto).
 *
 * A context keeps two EVP_CIPHER_CTX, one per direction, each initialised
 * once with the key (CBC decryption needs its own key schedule). Per call
 * only the IV is set: no allocation, no key expansion. The AEAD nonce is
 * salt (the last 4 bytes of the key material) | the 8-byte explicit IV.
 * Encryption and decryption share one path, cipher_crypt().
 */
#include "crypto.h"
#include "crypto_test.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#define ENCR_3DES 3
#define ENCR_AES_CBC 12
#define ENCR_AES_GCM_16 20
#define ENCR_CHACHA20_POLY1305 28

#define SALT_LEN 4
#define AEAD_IV_LEN 8
#define AEAD_NONCE_LEN (SALT_LEN + AEAD_IV_LEN)
#define AEAD_TAG_LEN 16
#define CHACHA_KEY_LEN crypto_aead_chacha20poly1305_ietf_KEYBYTES

struct vpn_cipher {
	struct vpn_cipher_info info;
	uint16_t id;
	EVP_CIPHER_CTX *enc, *dec;   /* OpenSSL transforms */
	uint8_t salt[SALT_LEN];	     /* AEAD */
	uint8_t key[CHACHA_KEY_LEN]; /* ChaCha20-Poly1305 through libsodium */
};

int vpn_cipher_info(uint16_t encr_id, uint16_t keybits,
		    struct vpn_cipher_info *info)
{
	struct vpn_cipher_info i = {0};
	bool aes_len = keybits == 128 || keybits == 192 || keybits == 256;

	switch (encr_id) {
	case ENCR_3DES:
		if (keybits != 0)
			return -1;
		i = (struct vpn_cipher_info){false, 24, 0, 8, 8, 0};
		break;
	case ENCR_AES_CBC:
		if (!aes_len)
			return -1;
		i = (struct vpn_cipher_info){false, keybits / 8, 0, 16, 16, 0};
		break;
	case ENCR_AES_GCM_16:
		if (!aes_len)
			return -1;
		i = (struct vpn_cipher_info){true,     keybits / 8 + SALT_LEN,
					     SALT_LEN, AEAD_IV_LEN,
					     4,	       AEAD_TAG_LEN};
		break;
	case ENCR_CHACHA20_POLY1305:
		/* RFC 7634 section 4: no Key Length attribute. */
		if (keybits != 0)
			return -1;
		i = (struct vpn_cipher_info){
			true,	  CHACHA_KEY_LEN + SALT_LEN,
			SALT_LEN, AEAD_IV_LEN,
			4,	  AEAD_TAG_LEN};
		break;
	default:
		return -1;
	}
	if (info)
		*info = i;
	return 0;
}

static const EVP_CIPHER *evp_cipher(uint16_t encr_id, uint16_t keybits)
{
	switch (encr_id) {
	case ENCR_3DES:
		return EVP_des_ede3_cbc();
	case ENCR_AES_CBC:
		return keybits == 128	? EVP_aes_128_cbc()
		       : keybits == 192 ? EVP_aes_192_cbc()
					: EVP_aes_256_cbc();
	case ENCR_AES_GCM_16:
		return keybits == 128	? EVP_aes_128_gcm()
		       : keybits == 192 ? EVP_aes_192_gcm()
					: EVP_aes_256_gcm();
	case ENCR_CHACHA20_POLY1305:
		return EVP_chacha20_poly1305();
	}
	return NULL;
}

static EVP_CIPHER_CTX *evp_ctx_new(const EVP_CIPHER *type, const uint8_t *key,
				   int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!ctx)
		return NULL;
	if (EVP_CipherInit_ex(ctx, type, NULL, key, NULL, enc) != 1
	    || EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static bool force_sodium; /* crypto_test.h */

void vpn_cipher_test_force_sodium(bool on)
{
	force_sodium = on;
}

bool vpn_cipher_test_is_sodium(const struct vpn_cipher *c)
{
	return c && c->id == ENCR_CHACHA20_POLY1305 && !c->enc;
}

struct vpn_cipher *vpn_cipher_new(uint16_t encr_id, uint16_t keybits,
				  const uint8_t *key, size_t keylen)
{
	struct vpn_cipher_info info;
	struct vpn_cipher *c;
	size_t klen;

	if (vpn_cipher_info(encr_id, keybits, &info) < 0
	    || keylen != info.keylen || !key)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->info = info;
	c->id = encr_id;
	klen = info.keylen - info.saltlen;
	memcpy(c->salt, key + klen, info.saltlen);

	if (!(force_sodium && encr_id == ENCR_CHACHA20_POLY1305)) {
		c->enc = evp_ctx_new(evp_cipher(encr_id, keybits), key, 1);
		c->dec = evp_ctx_new(evp_cipher(encr_id, keybits), key, 0);
		if (c->enc && c->dec)
			return c;
	}
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	c->enc = c->dec = NULL;
	if (encr_id == ENCR_CHACHA20_POLY1305) { /* libsodium's, then */
		memcpy(c->key, key, klen);
		return c;
	}
	vpn_cipher_free(c);
	return NULL;
}

void vpn_cipher_free(struct vpn_cipher *c)
{
	if (!c)
		return;
	/* EVP_CIPHER_CTX_free() cleanses the key schedule. */
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	vpn_memzero(c, sizeof(*c));
	free(c);
}

const struct vpn_cipher_info *vpn_cipher_get_info(const struct vpn_cipher *c)
{
	return c ? &c->info : NULL;
}

static int cbc_crypt(EVP_CIPHER_CTX *ctx, const struct vpn_cipher_info *info,
		     const uint8_t *iv, const uint8_t *in, size_t len,
		     uint8_t *out)
{
	uint8_t last[EVP_MAX_BLOCK_LENGTH];
	int outl = 0, finl = 0;

	if (len % info->blocksize || len > INT_MAX)
		return -1;
	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, -1) != 1)
		return -1;
	if (len && EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1)
		return -1;
	/* Whole blocks, no padding: nothing is left for the final call. */
	if (EVP_CipherFinal_ex(ctx, last, &finl) != 1 || finl != 0
	    || (size_t)outl != len)
		return -1;
	return 0;
}

/* AES-GCM and ChaCha20-Poly1305 through EVP: the same AEAD calls. */
static int evp_aead_crypt(EVP_CIPHER_CTX *ctx, const uint8_t *nonce,
			  const uint8_t *aad, size_t aadlen, const uint8_t *in,
			  size_t len, uint8_t *out, uint8_t *tag, bool enc)
{
	uint8_t last[EVP_MAX_BLOCK_LENGTH];
	int outl = 0, finl = 0;

	if (len > INT_MAX || aadlen > INT_MAX)
		return -1;
	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, -1) != 1)
		return -1;
	if (aadlen && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1)
		return -1;
	if (len
	    && (EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1
		|| (size_t)outl != len))
		return -1;
	if (!enc
	    && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN,
				   tag)
		       != 1)
		return -1;
	/* Decryption: fails here when the tag does not verify. */
	if (EVP_CipherFinal_ex(ctx, last, &finl) != 1 || finl != 0)
		return -1;
	if (enc
	    && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN,
				   tag)
		       != 1)
		return -1;
	return 0;
}

/* libsodium declares its buffers non-null even for length 0. */
static uint8_t empty[1];

static void aead_nonce(const struct vpn_cipher *c, const uint8_t *iv,
		       uint8_t nonce[AEAD_NONCE_LEN])
{
	memcpy(nonce, c->salt, SALT_LEN);
	memcpy(nonce + SALT_LEN, iv, AEAD_IV_LEN);
}

static int chacha_crypt(const struct vpn_cipher *c, bool enc,
			const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
			const uint8_t *in, size_t len, uint8_t *out,
			uint8_t *tag)
{
	int rc;

	if (enc)
		rc = crypto_aead_chacha20poly1305_ietf_encrypt_detached(
			out, tag, NULL, in, len, aad, aadlen, NULL, nonce,
			c->key);
	else
		rc = crypto_aead_chacha20poly1305_ietf_decrypt_detached(
			out, NULL, in, len, tag, aad, aadlen, nonce, c->key);
	return rc == 0 ? 0 : -1;
}

/*
 * Either direction. CBC ignores aad and tag. AEAD needs the tag (written
 * when encrypting, checked when decrypting) and aad when aadlen is not 0;
 * its nonce is salt | iv.
 */
static int cipher_crypt(struct vpn_cipher *c, bool enc, const uint8_t *iv,
			const uint8_t *aad, size_t aadlen, const uint8_t *in,
			size_t len, uint8_t *out, uint8_t *tag)
{
	uint8_t nonce[AEAD_NONCE_LEN];

	if (!c || !iv || (len && (!in || !out)))
		return -1;
	if (!c->info.aead)
		return cbc_crypt(enc ? c->enc : c->dec, &c->info, iv, in, len,
				 out);
	if (!tag || (aadlen && !aad))
		return -1;
	aead_nonce(c, iv, nonce);
	if (!len)
		in = out = empty;
	if (!c->enc) /* ChaCha20-Poly1305 without OpenSSL's */
		return chacha_crypt(c, enc, nonce, aad, aadlen, in, len, out,
				    tag);
	return evp_aead_crypt(enc ? c->enc : c->dec, nonce, aad, aadlen, in,
			      len, out, tag, enc);
}

int vpn_cipher_encrypt(struct vpn_cipher *c, const uint8_t *iv,
		       const uint8_t *aad, size_t aadlen, const uint8_t *in,
		       size_t len, uint8_t *out, uint8_t *icv)
{
	return cipher_crypt(c, true, iv, aad, aadlen, in, len, out, icv);
}

int vpn_cipher_decrypt(struct vpn_cipher *c, const uint8_t *iv,
		       const uint8_t *aad, size_t aadlen, const uint8_t *in,
		       size_t len, uint8_t *out, const uint8_t *icv)
{
	uint8_t tag[AEAD_TAG_LEN];

	/* EVP wants a writable tag: a copy (AEAD_TAG_LEN bytes, AEAD only). */
	if (c && c->info.aead && icv)
		memcpy(tag, icv, sizeof(tag));
	return cipher_crypt(c, false, iv, aad, aadlen, in, len, out,
			    icv ? tag : NULL);
}
