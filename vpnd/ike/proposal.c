// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: IKEv2 / ESP proposal strings (strongSwan-compatible keywords).
 */
#include "proposal.h"

#include <stdio.h>
#include <string.h>

#define KIND_IKE (1u << VPN_PROPOSAL_IKE)
#define KIND_ESP (1u << VPN_PROPOSAL_ESP)
#define KIND_ANY (KIND_IKE | KIND_ESP)

struct alg_def {
	const char *name; /* canonical keyword first, aliases after it */
	uint8_t type;
	uint16_t id;
	uint16_t keylen;
	bool aead;
	bool alias;
	unsigned int kinds;
};

/* clang-format off */
static const struct alg_def algs[] = {
	{ "aes128",           VPN_TT_ENCR,  VPN_ENCR_AES_CBC,            128, false, false, KIND_ANY },
	{ "aes192",           VPN_TT_ENCR,  VPN_ENCR_AES_CBC,            192, false, false, KIND_ANY },
	{ "aes256",           VPN_TT_ENCR,  VPN_ENCR_AES_CBC,            256, false, false, KIND_ANY },
	{ "aes",              VPN_TT_ENCR,  VPN_ENCR_AES_CBC,            128, false, true,  KIND_ANY },
	{ "3des",             VPN_TT_ENCR,  VPN_ENCR_3DES,               0,   false, false, KIND_ANY },
	{ "aes128gcm16",      VPN_TT_ENCR,  VPN_ENCR_AES_GCM_16,         128, true,  false, KIND_ANY },
	{ "aes192gcm16",      VPN_TT_ENCR,  VPN_ENCR_AES_GCM_16,         192, true,  false, KIND_ANY },
	{ "aes256gcm16",      VPN_TT_ENCR,  VPN_ENCR_AES_GCM_16,         256, true,  false, KIND_ANY },
	{ "aes128gcm128",     VPN_TT_ENCR,  VPN_ENCR_AES_GCM_16,         128, true,  true,  KIND_ANY },
	{ "aes192gcm128",     VPN_TT_ENCR,  VPN_ENCR_AES_GCM_16,         192, true,  true,  KIND_ANY },
	{ "aes256gcm128",     VPN_TT_ENCR,  VPN_ENCR_AES_GCM_16,         256, true,  true,  KIND_ANY },
	{ "chacha20poly1305", VPN_TT_ENCR,  VPN_ENCR_CHACHA20_POLY1305,  0,   true,  false, KIND_ANY },
	{ "sha1",             VPN_TT_INTEG, VPN_INTEG_HMAC_SHA1_96,      0,   false, false, KIND_ANY },
	{ "sha",              VPN_TT_INTEG, VPN_INTEG_HMAC_SHA1_96,      0,   false, true,  KIND_ANY },
	{ "sha256",           VPN_TT_INTEG, VPN_INTEG_HMAC_SHA2_256_128, 0,   false, false, KIND_ANY },
	{ "sha384",           VPN_TT_INTEG, VPN_INTEG_HMAC_SHA2_384_192, 0,   false, false, KIND_ANY },
	{ "sha512",           VPN_TT_INTEG, VPN_INTEG_HMAC_SHA2_512_256, 0,   false, false, KIND_ANY },
	{ "prfsha1",          VPN_TT_PRF,   VPN_PRF_HMAC_SHA1,           0,   false, false, KIND_IKE },
	{ "prfsha256",        VPN_TT_PRF,   VPN_PRF_HMAC_SHA2_256,       0,   false, false, KIND_IKE },
	{ "prfsha384",        VPN_TT_PRF,   VPN_PRF_HMAC_SHA2_384,       0,   false, false, KIND_IKE },
	{ "prfsha512",        VPN_TT_PRF,   VPN_PRF_HMAC_SHA2_512,       0,   false, false, KIND_IKE },
	{ "modp1024",         VPN_TT_DH,    VPN_DH_MODP1024,             0,   false, false, KIND_ANY },
	{ "modp1536",         VPN_TT_DH,    VPN_DH_MODP1536,             0,   false, false, KIND_ANY },
	{ "modp2048",         VPN_TT_DH,    VPN_DH_MODP2048,             0,   false, false, KIND_ANY },
	{ "modp3072",         VPN_TT_DH,    VPN_DH_MODP3072,             0,   false, false, KIND_ANY },
	{ "modp4096",         VPN_TT_DH,    VPN_DH_MODP4096,             0,   false, false, KIND_ANY },
	{ "ecp256",           VPN_TT_DH,    VPN_DH_ECP256,               0,   false, false, KIND_ANY },
	{ "ecp384",           VPN_TT_DH,    VPN_DH_ECP384,               0,   false, false, KIND_ANY },
	{ "ecp521",           VPN_TT_DH,    VPN_DH_ECP521,               0,   false, false, KIND_ANY },
	{ "x25519",           VPN_TT_DH,    VPN_DH_X25519,               0,   false, false, KIND_ANY },
	{ "curve25519",       VPN_TT_DH,    VPN_DH_X25519,               0,   false, true,  KIND_ANY },
	{ "esn",              VPN_TT_ESN,   VPN_ESN_YES,                 0,   false, false, KIND_ESP },
	{ "noesn",            VPN_TT_ESN,   VPN_ESN_NO,                  0,   false, false, KIND_ESP },
};
/* clang-format on */

#define NALGS (sizeof(algs) / sizeof(algs[0]))

static const char accepted_ike[] =
	"encryption aes128 aes192 aes256 3des aes128gcm16 aes192gcm16 "
	"aes256gcm16 chacha20poly1305; integrity sha1 sha256 sha384 sha512; "
	"prf prfsha1 prfsha256 prfsha384 prfsha512; dh-group modp1024 "
	"modp1536 modp2048 modp3072 modp4096 ecp256 ecp384 ecp521 x25519";

static const char accepted_esp[] =
	"encryption aes128 aes192 aes256 3des aes128gcm16 aes192gcm16 "
	"aes256gcm16 chacha20poly1305; integrity sha1 sha256 sha384 sha512; "
	"dh-group (for PFS) modp1024 modp1536 modp2048 modp3072 modp4096 "
	"ecp256 ecp384 ecp521 x25519; esn noesn";

const char *vpn_proposal_accepted(enum vpn_proposal_kind kind)
{
	return kind == VPN_PROPOSAL_IKE ? accepted_ike : accepted_esp;
}

const char *vpn_transform_type_name(uint8_t type)
{
	switch (type) {
	case VPN_TT_ENCR:
		return "encryption";
	case VPN_TT_PRF:
		return "prf";
	case VPN_TT_INTEG:
		return "integrity";
	case VPN_TT_DH:
		return "dh-group";
	case VPN_TT_ESN:
		return "esn";
	}
	return "unknown";
}

const char *vpn_transform_name(const struct vpn_transform *t)
{
	for (size_t i = 0; i < NALGS; i++) {
		if (algs[i].alias)
			continue;
		if (algs[i].type == t->type && algs[i].id == t->id &&
		    algs[i].keylen == t->keylen)
			return algs[i].name;
	}
	return "unknown";
}

static const struct alg_def *alg_lookup(const char *tok, size_t len)
{
	for (size_t i = 0; i < NALGS; i++) {
		if (strlen(algs[i].name) == len &&
		    strncmp(algs[i].name, tok, len) == 0)
			return &algs[i];
	}
	return NULL;
}

/* The PRF that strongSwan pairs with an integrity algorithm. */
static uint16_t integ_to_prf(uint16_t integ)
{
	switch (integ) {
	case VPN_INTEG_HMAC_SHA1_96:
		return VPN_PRF_HMAC_SHA1;
	case VPN_INTEG_HMAC_SHA2_256_128:
		return VPN_PRF_HMAC_SHA2_256;
	case VPN_INTEG_HMAC_SHA2_384_192:
		return VPN_PRF_HMAC_SHA2_384;
	case VPN_INTEG_HMAC_SHA2_512_256:
		return VPN_PRF_HMAC_SHA2_512;
	}
	return 0;
}

unsigned int vpn_proposal_count(const struct vpn_proposal *p, uint8_t type)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < p->ntransforms; i++)
		if (p->transforms[i].type == type)
			n++;
	return n;
}

static bool proposal_has(const struct vpn_proposal *p,
			 const struct vpn_transform *t)
{
	for (unsigned int i = 0; i < p->ntransforms; i++)
		if (p->transforms[i].type == t->type &&
		    p->transforms[i].id == t->id &&
		    p->transforms[i].keylen == t->keylen)
			return true;
	return false;
}

#define FAIL(...)                                                              \
	do {                                                                   \
		if (err && errlen)                                             \
			snprintf(err, errlen, __VA_ARGS__);                    \
		return -1;                                                     \
	} while (0)

static int proposal_add(struct vpn_proposal *p, const struct vpn_transform *t,
			const char *str, char *err, size_t errlen)
{
	if (proposal_has(p, t))
		FAIL("proposal '%s': %s '%s' appears twice", str,
		     vpn_transform_type_name(t->type), vpn_transform_name(t));
	if (p->ntransforms >= VPN_PROPOSAL_MAX_TRANSFORMS)
		FAIL("proposal '%s': more than %d algorithms", str,
		     VPN_PROPOSAL_MAX_TRANSFORMS);
	p->transforms[p->ntransforms++] = *t;
	return 0;
}

/*
 * Checks that need the whole proposal: AEAD consistency, the transform types
 * each protocol requires, and the IKE PRF derived from integrity algorithms
 * when none is written (strongSwan's rule).
 */
static int proposal_complete(struct vpn_proposal *p, const char *str,
			     char *err, size_t errlen)
{
	const char *kname = p->kind == VPN_PROPOSAL_IKE ? "ike" : "ipsec";
	unsigned int nint = vpn_proposal_count(p, VPN_TT_INTEG);
	struct vpn_proposal in = *p;

	if (vpn_proposal_count(p, VPN_TT_ENCR) == 0)
		FAIL("%s proposal '%s': no encryption algorithm; accepted: %s",
		     kname, str, vpn_proposal_accepted(p->kind));

	if (p->aead && nint && p->kind == VPN_PROPOSAL_ESP)
		FAIL("ipsec proposal '%s': an AEAD cipher (aes*gcm16, "
		     "chacha20poly1305) takes no integrity algorithm",
		     str);
	if (!p->aead && nint == 0)
		FAIL("%s proposal '%s': needs an integrity algorithm "
		     "(sha1 sha256 sha384 sha512)",
		     kname, str);

	if (p->kind == VPN_PROPOSAL_ESP)
		return 0;

	/*
	 * IKE: with an AEAD cipher, integrity keywords name the PRF
	 * (strongSwan: "aes256gcm16-sha384-ecp384"); without a PRF keyword,
	 * each integrity algorithm brings its HMAC PRF.
	 */
	if (p->aead || vpn_proposal_count(p, VPN_TT_PRF) == 0) {
		p->ntransforms = 0;
		for (unsigned int i = 0; i < in.ntransforms; i++) {
			if (p->aead && in.transforms[i].type == VPN_TT_INTEG)
				continue;
			p->transforms[p->ntransforms++] = in.transforms[i];
		}
		for (unsigned int i = 0; i < in.ntransforms; i++) {
			struct vpn_transform t = { .type = VPN_TT_PRF };

			if (in.transforms[i].type != VPN_TT_INTEG)
				continue;
			t.id = integ_to_prf(in.transforms[i].id);
			if (proposal_has(p, &t))
				continue;
			if (proposal_add(p, &t, str, err, errlen) < 0)
				return -1;
		}
	}
	if (vpn_proposal_count(p, VPN_TT_PRF) == 0)
		FAIL("ike proposal '%s': an AEAD cipher needs a prf "
		     "(prfsha1 prfsha256 prfsha384 prfsha512)",
		     str);
	if (vpn_proposal_count(p, VPN_TT_DH) == 0)
		FAIL("ike proposal '%s': needs a dh-group (modp1024 modp1536 "
		     "modp2048 modp3072 modp4096 ecp256 ecp384 ecp521 x25519)",
		     str);
	return 0;
}

int vpn_proposal_parse(const char *str, enum vpn_proposal_kind kind,
		       struct vpn_proposal *out, char *err, size_t errlen)
{
	const char *kname = kind == VPN_PROPOSAL_IKE ? "ike" : "ipsec";
	const char *tok = str;
	bool have_encr = false;

	memset(out, 0, sizeof(*out));
	out->kind = kind;

	if (str == NULL || *str == '\0')
		FAIL("empty %s proposal; accepted: %s", kname,
		     vpn_proposal_accepted(kind));
	if (strlen(str) >= VPN_PROPOSAL_STR_MAX)
		FAIL("%s proposal longer than %d characters", kname,
		     VPN_PROPOSAL_STR_MAX - 1);

	for (;;) {
		const char *dash = strchr(tok, '-');
		size_t len = dash ? (size_t)(dash - tok) : strlen(tok);
		const struct alg_def *def;
		struct vpn_transform t;

		if (len == 0)
			FAIL("%s proposal '%s': empty algorithm name (stray "
			     "'-')",
			     kname, str);
		def = alg_lookup(tok, len);
		if (def == NULL)
			FAIL("%s proposal '%s': unknown algorithm '%.*s'; "
			     "accepted: %s",
			     kname, str, (int)len, tok,
			     vpn_proposal_accepted(kind));
		if (!(def->kinds & (1u << kind)))
			FAIL("%s proposal '%s': '%s' is not allowed in an %s "
			     "proposal; accepted: %s",
			     kname, str, def->name, kname,
			     vpn_proposal_accepted(kind));
		if (def->type == VPN_TT_ENCR) {
			if (have_encr && def->aead != out->aead)
				FAIL("%s proposal '%s': AEAD (aes*gcm16, "
				     "chacha20poly1305) and non-AEAD ciphers "
				     "cannot share one proposal; write two "
				     "proposals",
				     kname, str);
			have_encr = true;
			out->aead = def->aead;
		}
		t.type = def->type;
		t.id = def->id;
		t.keylen = def->keylen;
		if (proposal_add(out, &t, str, err, errlen) < 0)
			return -1;

		if (!dash)
			break;
		tok = dash + 1;
	}

	return proposal_complete(out, str, err, errlen);
}

int vpn_proposal_format(const struct vpn_proposal *p, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned int i = 0; i < p->ntransforms; i++) {
		int n = snprintf(buf + (off < len ? off : len),
				 off < len ? len - off : 0, "%s%s",
				 i ? "-" : "",
				 vpn_transform_name(&p->transforms[i]));
		if (n < 0)
			return n;
		off += (size_t)n;
	}
	return (int)off;
}
