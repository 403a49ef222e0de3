/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: IKEv2 / ESP proposal strings.
 *
 * Parses strongSwan-style proposal strings ("aes256-sha256-modp2048",
 * "aes256gcm16-prfsha384-ecp384", "aes256gcm16-x25519" ...) into sets of
 * IANA transform identifiers (RFC 7296 section 3.3.2), and names them back.
 * Pure functions over strings: no FRR, no sockets, no allocation.
 */
#ifndef VPND_IKE_PROPOSAL_H
#define VPND_IKE_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IKEv2 transform types (RFC 7296 3.3.2). */
enum vpn_transform_type {
	VPN_TT_ENCR = 1,
	VPN_TT_PRF = 2,
	VPN_TT_INTEG = 3,
	VPN_TT_DH = 4,
	VPN_TT_ESN = 5,
};

/* Transform IDs we implement (IANA "IKEv2 Transform Type N" registries). */
enum vpn_encr_id {
	VPN_ENCR_3DES = 3,
	VPN_ENCR_AES_CBC = 12,
	VPN_ENCR_AES_GCM_16 = 20,
	VPN_ENCR_CHACHA20_POLY1305 = 28,
};

enum vpn_prf_id {
	VPN_PRF_HMAC_SHA1 = 2,
	VPN_PRF_HMAC_SHA2_256 = 5,
	VPN_PRF_HMAC_SHA2_384 = 6,
	VPN_PRF_HMAC_SHA2_512 = 7,
};

enum vpn_integ_id {
	VPN_INTEG_HMAC_SHA1_96 = 2,
	VPN_INTEG_HMAC_SHA2_256_128 = 12,
	VPN_INTEG_HMAC_SHA2_384_192 = 13,
	VPN_INTEG_HMAC_SHA2_512_256 = 14,
};

enum vpn_dh_id {
	VPN_DH_MODP1024 = 2,
	VPN_DH_MODP1536 = 5,
	VPN_DH_MODP2048 = 14,
	VPN_DH_MODP3072 = 15,
	VPN_DH_MODP4096 = 16,
	VPN_DH_ECP256 = 19,
	VPN_DH_ECP384 = 20,
	VPN_DH_ECP521 = 21,
	VPN_DH_X25519 = 31,
};

enum vpn_esn_id {
	VPN_ESN_NO = 0,
	VPN_ESN_YES = 1,
};

/* Which protocol a proposal is for: decides which transforms are legal. */
enum vpn_proposal_kind {
	VPN_PROPOSAL_IKE,
	VPN_PROPOSAL_ESP,
};

/* One transform: type, id and (for variable-length ciphers) key bits. */
struct vpn_transform {
	uint8_t type;	 /* enum vpn_transform_type */
	uint16_t id;	 /* IANA transform ID */
	uint16_t keylen; /* bits, 0 when the algorithm has no Key Length attr */
};

#define VPN_PROPOSAL_MAX_TRANSFORMS 32
#define VPN_PROPOSAL_STR_MAX 256

/*
 * One proposal: every transform in it, in the order they were written.
 * Within one type the order is the order of preference.
 */
struct vpn_proposal {
	enum vpn_proposal_kind kind;
	bool aead; /* encryption algorithms are combined-mode ciphers */
	unsigned int ntransforms;
	struct vpn_transform transforms[VPN_PROPOSAL_MAX_TRANSFORMS];
};

/*
 * Parse `str` as a proposal of `kind`. On success fills `out` and returns 0.
 * On failure returns -1 and writes a one-line reason naming the offending
 * token and what is accepted into `err` (if not NULL).
 */
int vpn_proposal_parse(const char *str, enum vpn_proposal_kind kind,
		       struct vpn_proposal *out, char *err, size_t errlen);

/* Number of transforms of `type` in `p`. */
unsigned int vpn_proposal_count(const struct vpn_proposal *p, uint8_t type);

/* Canonical keyword of one transform ("aes256", "prfsha384", "x25519"). */
const char *vpn_transform_name(const struct vpn_transform *t);

/* Human-readable name of a transform type ("encryption", "dh-group" ...). */
const char *vpn_transform_type_name(uint8_t type);

/*
 * Canonical text of a proposal: every transform's keyword joined with '-',
 * PRFs that were derived from integrity algorithms included. Returns the
 * length that was (or would have been) written, like snprintf.
 */
int vpn_proposal_format(const struct vpn_proposal *p, char *buf, size_t len);

/* Accepted keywords of one kind, space-separated, for error messages. */
const char *vpn_proposal_accepted(enum vpn_proposal_kind kind);

#endif /* VPND_IKE_PROPOSAL_H */
