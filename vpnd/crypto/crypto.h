/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: crypto primitives for IKEv2 and ESP.
 *
 * Thin wrappers over OpenSSL 3 (AES-CBC, AES-GCM, 3DES, HMAC, MODP/ECP DH,
 * X25519, SHA-1) and libsodium (ChaCha20-Poly1305, random numbers, wiping
 * and constant-time comparison). Algorithms are named by their IANA
 * IKEv2 transform IDs (ike/proposal.h). No FRR, no sockets.
 *
 * Contexts (cipher, integ) hold expanded keys and are made once per SA and
 * direction; one context is used by one thread at a time. All key material
 * they hold is wiped when they are freed.
 *
 * Functions returning int return 0 on success and -1 on failure.
 */
#ifndef VPND_CRYPTO_H
#define VPND_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Call once before anything else (initialises libsodium). */
int vpn_crypto_init(void);

/* Random bytes from a CSPRNG (libsodium). */
void vpn_random(void *buf, size_t len);

/* Wipe memory so the compiler cannot optimise it away. */
void vpn_memzero(void *p, size_t len);

/* Constant-time comparison: true when equal. */
bool vpn_memeq(const void *a, const void *b, size_t len);

/* Allocation for key material: wiped on free. */
void *vpn_secret_alloc(size_t len);
void vpn_secret_free(void *p, size_t len);

/* ------------------------------------------------------------------ */
/* Hashes                                                              */
/* ------------------------------------------------------------------ */

#define VPN_SHA1_LEN 20

/* SHA-1 over the concatenation of iov[0..n-1] (NAT detection, RFC 7296
 * 2.23). */
int vpn_sha1(const struct iovec *iov, int n, uint8_t out[VPN_SHA1_LEN]);

/* Keyed 64-bit hash for hash tables whose keys an attacker chooses
 * (SipHash-2-4): without the key, collisions cannot be aimed. */
#define VPN_SHORTHASH_KEYLEN 16
uint64_t vpn_shorthash(const uint8_t key[VPN_SHORTHASH_KEYLEN],
		       const void *data, size_t len);

/* ------------------------------------------------------------------ */
/* PRF (transform type 2): HMAC-SHA1, HMAC-SHA2-256/384/512           */
/* ------------------------------------------------------------------ */

#define VPN_PRF_MAX_LEN 64

/* Output length of the PRF in bytes (also its preferred key length);
 * 0 if unsupported. */
size_t vpn_prf_len(uint16_t prf_id);

/* out = prf(key, data); out holds vpn_prf_len(prf_id) bytes. */
int vpn_prf(uint16_t prf_id, const uint8_t *key, size_t keylen,
	    const uint8_t *data, size_t datalen, uint8_t *out);

/* Same over a scatter list of data (e.g. Ni | Nr). */
int vpn_prf_iov(uint16_t prf_id, const uint8_t *key, size_t keylen,
		const struct iovec *iov, int n, uint8_t *out);

/* prf+ (RFC 7296 2.13): T1 | T2 | ... truncated to outlen bytes, where
 * T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n). outlen must not exceed
 * 255 * vpn_prf_len(prf_id). */
int vpn_prf_plus(uint16_t prf_id, const uint8_t *key, size_t keylen,
		 const uint8_t *seed, size_t seedlen, uint8_t *out,
		 size_t outlen);

/* ------------------------------------------------------------------ */
/* Integrity (transform type 3): HMAC-SHA1-96, HMAC-SHA2-256-128,     */
/* HMAC-SHA2-384-192, HMAC-SHA2-512-256                                */
/* ------------------------------------------------------------------ */

#define VPN_ICV_MAX_LEN 32

/* Key length and (truncated) ICV length in bytes; 0 if unsupported. */
size_t vpn_integ_keylen(uint16_t integ_id);
size_t vpn_integ_icvlen(uint16_t integ_id);

struct vpn_integ;

/* keylen must equal vpn_integ_keylen(integ_id). NULL on failure. */
struct vpn_integ *vpn_integ_new(uint16_t integ_id, const uint8_t *key,
				size_t keylen);
void vpn_integ_free(struct vpn_integ *ctx);

/* icv = truncated HMAC over iov[0..n-1] (vpn_integ_icvlen bytes). */
int vpn_integ_sign(struct vpn_integ *ctx, const struct iovec *iov, int n,
		   uint8_t *icv);

/* Constant-time check of an ICV over iov[0..n-1]. */
bool vpn_integ_verify(struct vpn_integ *ctx, const struct iovec *iov, int n,
		      const uint8_t *icv);

/* ------------------------------------------------------------------ */
/* Encryption (transform type 1): AES-CBC, 3DES-CBC, AES-GCM-16,      */
/* ChaCha20-Poly1305                                                   */
/* ------------------------------------------------------------------ */

struct vpn_cipher_info {
	bool aead;
	size_t keylen;	  /* key material to take from KEYMAT: cipher key
			   * plus salt (4 bytes for GCM and ChaCha20) */
	size_t saltlen;	  /* trailing salt bytes within keylen */
	size_t ivlen;	  /* explicit IV on the wire: 16 AES-CBC, 8 3DES,
			   * 8 GCM and ChaCha20-Poly1305 */
	size_t blocksize; /* plaintext must be padded to a multiple:
			   * 16 AES-CBC, 8 3DES; 4 for AEAD (ESP's trailer
			   * alignment; IKE's SK payload needs none) */
	size_t icvlen;	  /* AEAD tag length (16), 0 for CBC */
};

/* Sizes for an algorithm; keybits is the Key Length attribute (128, 192,
 * 256 for AES; 0 for 3DES and ChaCha20-Poly1305). */
int vpn_cipher_info(uint16_t encr_id, uint16_t keybits,
		    struct vpn_cipher_info *info);

struct vpn_cipher;

/* key holds info.keylen bytes (salt included for AEAD). One context can
 * both encrypt and decrypt. NULL on failure. */
struct vpn_cipher *vpn_cipher_new(uint16_t encr_id, uint16_t keybits,
				  const uint8_t *key, size_t keylen);
void vpn_cipher_free(struct vpn_cipher *ctx);
const struct vpn_cipher_info *vpn_cipher_get_info(const struct vpn_cipher *c);

/*
 * Encrypt len bytes (a multiple of blocksize for CBC) from in to out (may be
 * the same buffer). iv is the explicit IV (ivlen bytes); for AEAD the nonce
 * is salt | iv and aad is authenticated, and the tag is written to icv.
 * For CBC, aad and icv are ignored.
 */
int vpn_cipher_encrypt(struct vpn_cipher *c, const uint8_t *iv,
		       const uint8_t *aad, size_t aadlen, const uint8_t *in,
		       size_t len, uint8_t *out, uint8_t *icv);

/* Decrypt; for AEAD returns -1 when the tag does not verify (out is then
 * undefined). */
int vpn_cipher_decrypt(struct vpn_cipher *c, const uint8_t *iv,
		       const uint8_t *aad, size_t aadlen, const uint8_t *in,
		       size_t len, uint8_t *out, const uint8_t *icv);

/* ------------------------------------------------------------------ */
/* Diffie-Hellman (transform type 4): MODP 2, 5, 14, 15, 16;          */
/* ECP 19, 20, 21 (RFC 5903); Curve25519 31 (RFC 8031)                 */
/* ------------------------------------------------------------------ */

#define VPN_DH_MAX_PUB 512 /* modp4096 */

bool vpn_dh_supported(uint16_t group);

/* Length of the KE payload's key exchange data for a group; 0 if
 * unsupported. MODP: prime length; ECP: x | y; X25519: 32. */
size_t vpn_dh_pub_len(uint16_t group);

struct vpn_dh;

/* New private key for a group. NULL on failure. */
struct vpn_dh *vpn_dh_new(uint16_t group);
void vpn_dh_free(struct vpn_dh *dh);

/* A key pair from a given private value: MODP exponent or ECP scalar
 * (big-endian, the ECP scalar of the field length), X25519 the 32-byte
 * string of RFC 7748. For known-answer tests against published vectors;
 * vpnd itself uses vpn_dh_new(). */
struct vpn_dh *vpn_dh_new_from_private(uint16_t group, const uint8_t *priv,
				       size_t privlen);
uint16_t vpn_dh_group(const struct vpn_dh *dh);

/* Our public value, vpn_dh_pub_len bytes, as sent in the KE payload. */
int vpn_dh_public(const struct vpn_dh *dh, uint8_t *out, size_t len);

/*
 * Shared secret g^ir from the peer's public value (which is validated:
 * wrong length, point not on the curve, 0/1/p-1 for MODP and the all-zero
 * X25519 result are refused). MODP: left-padded to the prime length; ECP:
 * x coordinate (RFC 5903 section 7); X25519: 32 bytes. *secretlen is set.
 */
int vpn_dh_shared(const struct vpn_dh *dh, const uint8_t *peer,
		  size_t peerlen, uint8_t *secret, size_t *secretlen);

#endif /* VPND_CRYPTO_H */
