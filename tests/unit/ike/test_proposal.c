// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: proposal string parser (vpnd/ike/proposal.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>

#include "ike/proposal.h"

struct ok_case {
	const char *in;
	enum vpn_proposal_kind kind;
	const char *canonical;
};

/* Every keyword appears in at least one accepted proposal below. */
static const struct ok_case ok_cases[] = {
	{ "aes256-sha256-modp2048", VPN_PROPOSAL_IKE,
	  "aes256-sha256-modp2048-prfsha256" },
	{ "aes128-sha1-modp1024", VPN_PROPOSAL_IKE,
	  "aes128-sha1-modp1024-prfsha1" },
	{ "aes192-sha384-prfsha384-ecp384", VPN_PROPOSAL_IKE,
	  "aes192-sha384-prfsha384-ecp384" },
	{ "aes-sha-modp1536", VPN_PROPOSAL_IKE, "aes128-sha1-modp1536-prfsha1" },
	{ "3des-sha512-modp3072", VPN_PROPOSAL_IKE,
	  "3des-sha512-modp3072-prfsha512" },
	{ "aes256gcm16-prfsha384-ecp384", VPN_PROPOSAL_IKE,
	  "aes256gcm16-prfsha384-ecp384" },
	{ "aes128gcm16-prfsha256-ecp256", VPN_PROPOSAL_IKE,
	  "aes128gcm16-prfsha256-ecp256" },
	{ "aes192gcm16-prfsha512-ecp521", VPN_PROPOSAL_IKE,
	  "aes192gcm16-prfsha512-ecp521" },
	{ "aes256gcm128-prfsha1-modp4096", VPN_PROPOSAL_IKE,
	  "aes256gcm16-prfsha1-modp4096" },
	{ "chacha20poly1305-prfsha256-x25519", VPN_PROPOSAL_IKE,
	  "chacha20poly1305-prfsha256-x25519" },
	{ "chacha20poly1305-prfsha256-curve25519", VPN_PROPOSAL_IKE,
	  "chacha20poly1305-prfsha256-x25519" },
	/* strongSwan: with AEAD, an integrity keyword names the PRF. */
	{ "aes256gcm16-sha384-ecp384", VPN_PROPOSAL_IKE,
	  "aes256gcm16-ecp384-prfsha384" },
	/* Several of one kind: each integrity brings its PRF, in order. */
	{ "aes128-aes256-sha256-sha1-ecp256-modp2048", VPN_PROPOSAL_IKE,
	  "aes128-aes256-sha256-sha1-ecp256-modp2048-prfsha256-prfsha1" },
	{ "aes256gcm16", VPN_PROPOSAL_ESP, "aes256gcm16" },
	{ "aes128gcm16-aes192gcm16", VPN_PROPOSAL_ESP,
	  "aes128gcm16-aes192gcm16" },
	{ "chacha20poly1305", VPN_PROPOSAL_ESP, "chacha20poly1305" },
	{ "aes128-sha256", VPN_PROPOSAL_ESP, "aes128-sha256" },
	{ "aes256-sha1-modp2048", VPN_PROPOSAL_ESP, "aes256-sha1-modp2048" },
	{ "aes256gcm16-x25519-esn", VPN_PROPOSAL_ESP, "aes256gcm16-x25519-esn" },
	{ "aes256gcm16-esn-noesn", VPN_PROPOSAL_ESP, "aes256gcm16-esn-noesn" },
	{ "3des-sha1-noesn", VPN_PROPOSAL_ESP, "3des-sha1-noesn" },
	{ "aes192-sha512-ecp384", VPN_PROPOSAL_ESP, "aes192-sha512-ecp384" },
};

static void test_accepted(void **state)
{
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		struct vpn_proposal p;
		char err[512] = "", out[512];

		if (vpn_proposal_parse(ok_cases[i].in, ok_cases[i].kind, &p,
				       err, sizeof(err)) != 0)
			fail_msg("'%s' refused: %s", ok_cases[i].in, err);
		vpn_proposal_format(&p, out, sizeof(out));
		if (strcmp(out, ok_cases[i].canonical) != 0)
			fail_msg("'%s' -> '%s', expected '%s'", ok_cases[i].in,
				 out, ok_cases[i].canonical);
	}
}

static void test_transform_ids(void **state)
{
	struct vpn_proposal p;

	assert_int_equal(vpn_proposal_parse("aes256-sha384-ecp384",
					    VPN_PROPOSAL_IKE, &p, NULL, 0),
			 0);
	assert_false(p.aead);
	assert_int_equal(p.ntransforms, 4);
	assert_int_equal(p.transforms[0].type, VPN_TT_ENCR);
	assert_int_equal(p.transforms[0].id, 12);
	assert_int_equal(p.transforms[0].keylen, 256);
	assert_int_equal(p.transforms[1].type, VPN_TT_INTEG);
	assert_int_equal(p.transforms[1].id, 13);
	assert_int_equal(p.transforms[2].type, VPN_TT_DH);
	assert_int_equal(p.transforms[2].id, 20);
	assert_int_equal(p.transforms[3].type, VPN_TT_PRF);
	assert_int_equal(p.transforms[3].id, 6);

	assert_int_equal(vpn_proposal_parse("chacha20poly1305-prfsha512-x25519",
					    VPN_PROPOSAL_IKE, &p, NULL, 0),
			 0);
	assert_true(p.aead);
	assert_int_equal(p.transforms[0].id, 28);
	assert_int_equal(p.transforms[0].keylen, 0);
	assert_int_equal(p.transforms[1].id, 7);
	assert_int_equal(p.transforms[2].id, 31);

	/* DH group numbers: 2, 5, 14, 15, 16, 19, 20, 21, 31. */
	static const struct {
		const char *name;
		uint16_t id;
	} groups[] = { { "modp1024", 2 }, { "modp1536", 5 },
		       { "modp2048", 14 }, { "modp3072", 15 },
		       { "modp4096", 16 }, { "ecp256", 19 },
		       { "ecp384", 20 },  { "ecp521", 21 },
		       { "x25519", 31 } };
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		char s[64];

		snprintf(s, sizeof(s), "aes128-sha256-%s", groups[i].name);
		assert_int_equal(vpn_proposal_parse(s, VPN_PROPOSAL_IKE, &p,
						    NULL, 0),
				 0);
		assert_int_equal(p.transforms[2].type, VPN_TT_DH);
		assert_int_equal(p.transforms[2].id, groups[i].id);
	}

	assert_int_equal(vpn_proposal_parse("aes128gcm16-esn",
					    VPN_PROPOSAL_ESP, &p, NULL, 0),
			 0);
	assert_int_equal(p.transforms[0].id, 20);
	assert_int_equal(p.transforms[0].keylen, 128);
	assert_int_equal(p.transforms[1].type, VPN_TT_ESN);
	assert_int_equal(p.transforms[1].id, 1);
	assert_int_equal(vpn_proposal_count(&p, VPN_TT_DH), 0);
}

struct bad_case {
	const char *in;
	enum vpn_proposal_kind kind;
	const char *must_contain; /* in the error message */
};

static const struct bad_case bad_cases[] = {
	{ "", VPN_PROPOSAL_IKE, "empty ike proposal" },
	{ "aes256-sha7-modp2048", VPN_PROPOSAL_IKE, "unknown algorithm 'sha7'" },
	{ "aes257-sha256-modp2048", VPN_PROPOSAL_IKE,
	  "unknown algorithm 'aes257'" },
	{ "AES256-sha256-modp2048", VPN_PROPOSAL_IKE,
	  "unknown algorithm 'AES256'" },
	{ "aes256-sha256-modp2047", VPN_PROPOSAL_IKE,
	  "unknown algorithm 'modp2047'" },
	{ "aes256-sha256-ecp255", VPN_PROPOSAL_IKE,
	  "unknown algorithm 'ecp255'" },
	{ "aes256-sha256-x448", VPN_PROPOSAL_IKE, "unknown algorithm 'x448'" },
	{ "aes256gcm8-prfsha256-ecp256", VPN_PROPOSAL_IKE,
	  "unknown algorithm 'aes256gcm8'" },
	{ "chacha20-prfsha256-x25519", VPN_PROPOSAL_IKE,
	  "unknown algorithm 'chacha20'" },
	{ "md5-aes128-modp2048", VPN_PROPOSAL_IKE, "unknown algorithm 'md5'" },
	{ "aes256--sha256-modp2048", VPN_PROPOSAL_IKE, "stray '-'" },
	{ "-aes256-sha256-modp2048", VPN_PROPOSAL_IKE, "stray '-'" },
	{ "aes256-sha256-modp2048-", VPN_PROPOSAL_IKE, "stray '-'" },
	{ "aes256 sha256", VPN_PROPOSAL_IKE, "unknown algorithm 'aes256 sha256'" },
	{ "sha256-modp2048", VPN_PROPOSAL_IKE, "no encryption algorithm" },
	{ "aes256-modp2048", VPN_PROPOSAL_IKE, "needs an integrity algorithm" },
	{ "aes256-sha256", VPN_PROPOSAL_IKE, "needs a dh-group" },
	{ "aes256gcm16-ecp384", VPN_PROPOSAL_IKE, "needs a prf" },
	{ "aes256gcm16-aes256-sha256-prfsha256-ecp384", VPN_PROPOSAL_IKE,
	  "cannot share one proposal" },
	{ "aes256-aes256-sha256-modp2048", VPN_PROPOSAL_IKE,
	  "'aes256' appears twice" },
	{ "aes-aes128-sha256-modp2048", VPN_PROPOSAL_IKE,
	  "'aes128' appears twice" },
	{ "aes256-sha256-modp2048-esn", VPN_PROPOSAL_IKE,
	  "'esn' is not allowed in an ike proposal" },
	{ "aes256-sha256-prfsha256", VPN_PROPOSAL_ESP,
	  "'prfsha256' is not allowed in an ipsec proposal" },
	{ "aes256gcm16-sha256", VPN_PROPOSAL_ESP,
	  "takes no integrity algorithm" },
	{ "aes256", VPN_PROPOSAL_ESP, "needs an integrity algorithm" },
	{ "modp2048", VPN_PROPOSAL_ESP, "no encryption algorithm" },
	{ "chacha20poly1305-aes256-sha1", VPN_PROPOSAL_ESP,
	  "cannot share one proposal" },
};

static void test_refused(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct vpn_proposal p;
		char err[1024] = "";

		if (vpn_proposal_parse(bad_cases[i].in, bad_cases[i].kind, &p,
				       err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad_cases[i].in);
		if (strstr(err, bad_cases[i].must_contain) == NULL)
			fail_msg("'%s': message '%s' lacks '%s'",
				 bad_cases[i].in, err,
				 bad_cases[i].must_contain);
	}
}

/* An unknown keyword's message lists what is accepted. */
static void test_message_lists_accepted(void **state)
{
	struct vpn_proposal p;
	char err[1024];

	assert_int_equal(vpn_proposal_parse("aes256-sha7-modp2048",
					    VPN_PROPOSAL_IKE, &p, err,
					    sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "accepted: encryption aes128"));
	assert_non_null(strstr(err, "x25519"));
	assert_non_null(strstr(err, "prfsha512"));

	assert_int_equal(vpn_proposal_parse("foo", VPN_PROPOSAL_ESP, &p, err,
					    sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "esn noesn"));
	assert_null(strstr(err, "prfsha"));
}

static void test_limits(void **state)
{
	struct vpn_proposal p;
	char big[400];
	char err[256];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(vpn_proposal_parse(big, VPN_PROPOSAL_IKE, &p, err,
					    sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "longer than"));

	/* NULL and tiny error buffers are safe. */
	assert_int_equal(vpn_proposal_parse("nope", VPN_PROPOSAL_IKE, &p, NULL,
					    0),
			 -1);
	assert_int_equal(vpn_proposal_parse("nope", VPN_PROPOSAL_IKE, &p, err,
					    1),
			 -1);
	assert_int_equal(err[0], '\0');

	/* Format truncates like snprintf and reports the full length. */
	char small[8];

	assert_int_equal(vpn_proposal_parse("aes256-sha256-modp2048",
					    VPN_PROPOSAL_ESP, &p, NULL, 0),
			 0);
	assert_int_equal(vpn_proposal_format(&p, small, sizeof(small)),
			 (int)strlen("aes256-sha256-modp2048"));
	assert_string_equal(small, "aes256-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_transform_ids),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_message_lists_accepted),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests_name("proposal", tests, NULL, NULL);
}
