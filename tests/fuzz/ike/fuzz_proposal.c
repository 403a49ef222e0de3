// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: proposal strings (vpnd/ike/proposal.c), as they come
 * from configuration (vtysh, NETCONF).
 *
 * The input, NUL-terminated, is parsed as an IKE and as an ESP proposal.
 * Whatever parses must: have a well-formed error-free result (known
 * transform names, bounded counts), format to its canonical text, and
 * parse back from that text to an equal proposal that formats the same.
 * Formatting into short buffers must truncate like snprintf. Refusals
 * must come with a NUL-terminated reason. A failed check aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/proposal.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static bool prop_eq(const struct vpn_proposal *a, const struct vpn_proposal *b)
{
	if (a->kind != b->kind || a->aead != b->aead ||
	    a->ntransforms != b->ntransforms)
		return false;
	for (unsigned int i = 0; i < a->ntransforms; i++)
		if (a->transforms[i].type != b->transforms[i].type ||
		    a->transforms[i].id != b->transforms[i].id ||
		    a->transforms[i].keylen != b->transforms[i].keylen)
			return false;
	return true;
}

static void one(const char *s, enum vpn_proposal_kind kind, size_t cut)
{
	struct vpn_proposal p, q;
	char err[512], text[1024], text2[1024], small[64];
	int n, n2, m;

	memset(err, 0x55, sizeof(err));
	if (vpn_proposal_parse(s, kind, &p, err, sizeof(err)) < 0) {
		CHECK(memchr(err, 0, sizeof(err)) != NULL);
		/* a NULL or zero-length error buffer is allowed */
		CHECK(vpn_proposal_parse(s, kind, &q, NULL, 0) < 0);
		CHECK(vpn_proposal_parse(s, kind, &q, err, 1) < 0 &&
		      err[0] == 0);
		return;
	}
	CHECK(p.kind == kind);
	CHECK(p.ntransforms > 0 &&
	      p.ntransforms <= VPN_PROPOSAL_MAX_TRANSFORMS);
	CHECK(vpn_proposal_count(&p, VPN_TT_ENCR) > 0);
	for (unsigned int i = 0; i < p.ntransforms; i++) {
		CHECK(strcmp(vpn_transform_name(&p.transforms[i]), "unknown"));
		CHECK(strcmp(vpn_transform_type_name(p.transforms[i].type),
			     "unknown"));
		if (kind == VPN_PROPOSAL_ESP)
			CHECK(p.transforms[i].type != VPN_TT_PRF);
		else
			CHECK(p.transforms[i].type != VPN_TT_ESN);
	}
	if (kind == VPN_PROPOSAL_IKE)
		CHECK(vpn_proposal_count(&p, VPN_TT_PRF) > 0 &&
		      vpn_proposal_count(&p, VPN_TT_DH) > 0);

	n = vpn_proposal_format(&p, text, sizeof(text));
	CHECK(n > 0 && (size_t)n < sizeof(text) && strlen(text) == (size_t)n);

	/* snprintf-like truncation */
	if (cut > sizeof(small))
		cut = sizeof(small);
	memset(small, 0x55, sizeof(small));
	m = vpn_proposal_format(&p, small, cut);
	CHECK(m == n);
	if (cut) {
		size_t k = (size_t)n < cut - 1 ? (size_t)n : cut - 1;

		CHECK(small[k] == 0 && memcmp(small, text, k) == 0);
	}

	/* round trip: the canonical text parses back to the same proposal */
	CHECK(vpn_proposal_parse(text, kind, &q, err, sizeof(err)) == 0);
	CHECK(prop_eq(&p, &q));
	n2 = vpn_proposal_format(&q, text2, sizeof(text2));
	CHECK(n2 == n && strcmp(text, text2) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t cut = size ? data[0] : 0;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	one(s, VPN_PROPOSAL_IKE, cut);
	one(s, VPN_PROPOSAL_ESP, cut);
	free(s);
	return 0;
}
