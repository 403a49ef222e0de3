// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: SHA-1, PRF (HMAC-SHA1/SHA2), integrity transforms with their
 * truncations, prf+ (vpnd/crypto/hmac.c, crypto.c).
 *
 * Vectors: RFC 4231 (HMAC-SHA-256/384/512, test cases 1-7), RFC 2202
 * (HMAC-SHA-1, test cases 1-7), RFC 4868 section 2.7.2 (HMAC-SHA-256-128,
 * -384-192, -512-256 with full-length keys).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "crypto/crypto.h"
#include "../testutil.h"

#define PRF_SHA1 2
#define PRF_SHA256 5
#define PRF_SHA384 6
#define PRF_SHA512 7

#define INTEG_SHA1_96 2
#define INTEG_SHA256_128 12
#define INTEG_SHA384_192 13
#define INTEG_SHA512_256 14

/* ------------------------------------------------------------------ */
/* RFC 4231 and RFC 2202 through the PRF                               */
/* ------------------------------------------------------------------ */

struct hmac_case {
	const char *key; /* hex, or NULL: keyrep x keylen */
	uint8_t keyrep;
	size_t keylen;
	const char *data; /* ASCII, or NULL: datarep x datalen */
	uint8_t datarep;
	size_t datalen;
	const char *sha1, *sha256, *sha384, *sha512; /* NULL: not given */
	size_t trunc; /* RFC 4231 case 5 / RFC 2202 case 5: compare a prefix */
};

static const struct hmac_case rfc4231[] = {
	{/* 1 */ NULL, 0x0b, 20, "Hi There", 0, 0, NULL,
	 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	 "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	 "faea9ea9076ede7f4af152e8b2fa9cb6",
	 "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	 "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
	 0},
	{/* 2 */ "4a656665", 0, 0, "what do ya want for nothing?", 0, 0, NULL,
	 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	 "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	 "8e2240ca5e69e2c78b3239ecfab21649",
	 "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	 "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
	 0},
	{/* 3 */ NULL, 0xaa, 20, NULL, 0xdd, 50, NULL,
	 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	 "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
	 "2a5ab39dc13814b94e3ab6e101a34f27",
	 "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	 "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
	 0},
	{/* 4 */ "0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0,
	 NULL, 0xcd, 50, NULL,
	 "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
	 "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
	 "6801dd23c4a7d679ccf8a386c674cffb",
	 "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	 "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
	 0},
	{/* 5: truncated to 128 bits */ NULL, 0x0c, 20, "Test With Truncation",
	 0, 0, NULL, "a3b6167473100ee06e0c796c2955552b",
	 "3abf34c3503b2a23a46efc619baef897", "415fad6271580a531d4179bc891d87a6",
	 16},
	{/* 6 */ NULL, 0xaa, 131,
	 "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0, NULL,
	 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	 "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
	 "0c2ef6ab4030fe8296248df163f44952",
	 "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	 "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
	 0},
	{/* 7 */ NULL, 0xaa, 131,
	 "This is a test using a larger than block-size key and a larger "
	 "than block-size data. The key needs to be hashed before being "
	 "used by the HMAC algorithm.",
	 0, 0, NULL,
	 "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	 "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
	 "a678cc31e799176d3860e6110c46523e",
	 "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
	 "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
	 0},
};

static const struct hmac_case rfc2202[] = {
	{NULL, 0x0b, 20, "Hi There", 0, 0,
	 "b617318655057264e28bc0b6fb378c8ef146be00", NULL, NULL, NULL, 0},
	{"4a656665", 0, 0, "what do ya want for nothing?", 0, 0,
	 "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", NULL, NULL, NULL, 0},
	{NULL, 0xaa, 20, NULL, 0xdd, 50,
	 "125d7342b9ac11cd91a39af48aa17b4f63f175d3", NULL, NULL, NULL, 0},
	{"0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0, NULL, 0xcd,
	 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da", NULL, NULL, NULL, 0},
	{NULL, 0x0c, 20, "Test With Truncation", 0, 0,
	 "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04", NULL, NULL, NULL, 0},
	{NULL, 0xaa, 80,
	 "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	 "aa4ae5e15272d00e95705637ce8a3b55ed402112", NULL, NULL, NULL, 0},
	{NULL, 0xaa, 80,
	 "Test Using Larger Than Block-Size Key and Larger Than One "
	 "Block-Size Data",
	 0, 0, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91", NULL, NULL, NULL, 0},
};

static void case_inputs(const struct hmac_case *c, struct hexbuf *key,
			struct hexbuf *data)
{
	if (c->key) {
		*key = hb(c->key);
	} else {
		memset(key->b, c->keyrep, c->keylen);
		key->n = c->keylen;
	}
	if (c->data) {
		data->n = strlen(c->data);
		memcpy(data->b, c->data, data->n);
	} else {
		memset(data->b, c->datarep, c->datalen);
		data->n = c->datalen;
	}
}

static void check_prf(uint16_t prf, const struct hmac_case *c,
		      const char *expect)
{
	struct hexbuf key, data, want = hb(expect);
	uint8_t out[VPN_PRF_MAX_LEN];
	size_t cmp = c->trunc ? c->trunc : vpn_prf_len(prf);

	case_inputs(c, &key, &data);
	assert_int_equal(want.n, cmp);
	memset(out, 0, sizeof(out));
	assert_int_equal(vpn_prf(prf, key.b, key.n, data.b, data.n, out), 0);
	assert_memory_equal(out, want.b, cmp);
}

static void test_rfc4231(void **state)
{
	for (size_t i = 0; i < sizeof(rfc4231) / sizeof(rfc4231[0]); i++) {
		check_prf(PRF_SHA256, &rfc4231[i], rfc4231[i].sha256);
		check_prf(PRF_SHA384, &rfc4231[i], rfc4231[i].sha384);
		check_prf(PRF_SHA512, &rfc4231[i], rfc4231[i].sha512);
	}
}

static void test_rfc2202(void **state)
{
	for (size_t i = 0; i < sizeof(rfc2202) / sizeof(rfc2202[0]); i++)
		check_prf(PRF_SHA1, &rfc2202[i], rfc2202[i].sha1);
}

/* The same MAC whatever the split of the data over iovecs. */
static void test_prf_iov(void **state)
{
	const struct hmac_case *c = &rfc4231[6];
	struct hexbuf key, data, want = hb(c->sha256);
	uint8_t out[VPN_PRF_MAX_LEN];

	case_inputs(c, &key, &data);
	for (size_t cut1 = 0; cut1 <= data.n; cut1 += 7) {
		for (size_t cut2 = cut1; cut2 <= data.n; cut2 += 13) {
			struct iovec iov[3] = {
				{data.b, cut1},
				{data.b + cut1, cut2 - cut1},
				{data.b + cut2, data.n - cut2},
			};

			memset(out, 0, sizeof(out));
			assert_int_equal(vpn_prf_iov(PRF_SHA256, key.b, key.n,
						     iov, 3, out),
					 0);
			assert_memory_equal(out, want.b, 32);
		}
	}
}

static void test_prf_ids(void **state)
{
	static const uint16_t bad[] = {0, 1, 3, 4, 8, 9, 255, 1024, 65535};
	uint8_t out[VPN_PRF_MAX_LEN];
	uint8_t key[4] = {1, 2, 3, 4};

	assert_int_equal(vpn_prf_len(PRF_SHA1), 20);
	assert_int_equal(vpn_prf_len(PRF_SHA256), 32);
	assert_int_equal(vpn_prf_len(PRF_SHA384), 48);
	assert_int_equal(vpn_prf_len(PRF_SHA512), 64);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vpn_prf_len(bad[i]), 0);
		assert_int_equal(vpn_prf(bad[i], key, 4, key, 4, out), -1);
		assert_int_equal(vpn_prf_plus(bad[i], key, 4, key, 4, out, 16),
				 -1);
	}
}

/* ------------------------------------------------------------------ */
/* Integrity: RFC 4868 2.7.2 and HMAC-SHA1-96 from RFC 2202            */
/* ------------------------------------------------------------------ */

struct integ_case {
	uint16_t id;
	uint8_t keyrep; /* key: keyrep x keylen, or key hex */
	const char *key;
	const char *data; /* ASCII or NULL: 0xdd x 50 */
	const char *icv;
};

static const struct integ_case integ_cases[] = {
	/* RFC 2202 cases 1 and 3, truncated to 96 bits (RFC 2404). */
	{INTEG_SHA1_96, 0x0b, NULL, "Hi There", "b617318655057264e28bc0b6"},
	{INTEG_SHA1_96, 0xaa, NULL, NULL, "125d7342b9ac11cd91a39af4"},
	/* RFC 4868 section 2.7.2.1-3, authentication test cases 1-3. */
	{INTEG_SHA256_128, 0x0b, NULL, "Hi There",
	 "198a607eb44bfbc69903a0f1cf2bbdc5"},
	{INTEG_SHA384_192, 0x0b, NULL, "Hi There",
	 "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973"},
	{INTEG_SHA512_256, 0x0b, NULL, "Hi There",
	 "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"},
	{INTEG_SHA256_128, 0,
	 "4a6566654a6566654a6566654a6566654a6566654a656665"
	 "4a6566654a656665",
	 "what do ya want for nothing?", "167f928588c5cc2eef8e3093caa0e87c"},
	{INTEG_SHA384_192, 0,
	 "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665"
	 "4a6566654a6566654a6566654a656665",
	 "what do ya want for nothing?",
	 "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d"},
	{INTEG_SHA512_256, 0,
	 "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665"
	 "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665",
	 "what do ya want for nothing?",
	 "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454"},
	{INTEG_SHA256_128, 0xaa, NULL, NULL,
	 "cdcb1220d1ecccea91e53aba3092f962"},
	{INTEG_SHA384_192, 0xaa, NULL, NULL,
	 "809f439be00274321d4a538652164b53554a508184a0c316"},
	{INTEG_SHA512_256, 0xaa, NULL, NULL,
	 "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8"},
};

static void test_integ_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(integ_cases) / sizeof(integ_cases[0]);
	     i++) {
		const struct integ_case *c = &integ_cases[i];
		size_t keylen = vpn_integ_keylen(c->id);
		struct hexbuf key, data, want = hb(c->icv);
		uint8_t icv[VPN_ICV_MAX_LEN + 1];
		struct vpn_integ *ctx;
		struct iovec iov;

		if (c->key) {
			key = hb(c->key);
		} else {
			memset(key.b, c->keyrep, keylen);
			key.n = keylen;
		}
		if (c->data) {
			data.n = strlen(c->data);
			memcpy(data.b, c->data, data.n);
		} else {
			memset(data.b, 0xdd, 50);
			data.n = 50;
		}
		assert_int_equal(key.n, keylen);
		assert_int_equal(want.n, vpn_integ_icvlen(c->id));
		ctx = vpn_integ_new(c->id, key.b, key.n);
		assert_non_null(ctx);
		iov = (struct iovec){data.b, data.n};
		/* Twice: the context is reused packet after packet. */
		for (int rep = 0; rep < 2; rep++) {
			memset(icv, 0xee, sizeof(icv));
			assert_int_equal(vpn_integ_sign(ctx, &iov, 1, icv), 0);
			assert_memory_equal(icv, want.b, want.n);
			/* Nothing written past the truncated length. */
			assert_int_equal(icv[want.n], 0xee);
			assert_true(vpn_integ_verify(ctx, &iov, 1, want.b));
		}
		for (size_t b = 0; b < want.n; b++) {
			want.b[b] ^= 0x01;
			assert_false(vpn_integ_verify(ctx, &iov, 1, want.b));
			want.b[b] ^= 0x01;
		}
		data.b[0] ^= 0x80;
		assert_false(vpn_integ_verify(ctx, &iov, 1, want.b));
		vpn_integ_free(ctx);
	}
}

static void test_integ_ids(void **state)
{
	static const struct {
		uint16_t id;
		size_t keylen, icvlen;
	} good[] = {
		{INTEG_SHA1_96, 20, 12},
		{INTEG_SHA256_128, 32, 16},
		{INTEG_SHA384_192, 48, 24},
		{INTEG_SHA512_256, 64, 32},
	};
	/* NONE, HMAC_MD5_96, DES_MAC, KPDK_MD5, AES_XCBC_96, HMAC_MD5_128,
	 * HMAC_SHA1_160, AES_CMAC_96, AES_128_GMAC ... */
	static const uint16_t bad[]
		= {0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 255, 65535};
	uint8_t key[64] = {0};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct vpn_integ *ctx;

		assert_int_equal(vpn_integ_keylen(good[i].id), good[i].keylen);
		assert_int_equal(vpn_integ_icvlen(good[i].id), good[i].icvlen);
		assert_true(good[i].icvlen <= VPN_ICV_MAX_LEN);
		/* The key must be exactly the transform's key length. */
		assert_null(vpn_integ_new(good[i].id, key, good[i].keylen - 1));
		assert_null(vpn_integ_new(good[i].id, key, good[i].keylen + 1));
		ctx = vpn_integ_new(good[i].id, key, good[i].keylen);
		assert_non_null(ctx);
		vpn_integ_free(ctx);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vpn_integ_keylen(bad[i]), 0);
		assert_int_equal(vpn_integ_icvlen(bad[i]), 0);
		assert_null(vpn_integ_new(bad[i], key, 20));
	}
	vpn_integ_free(NULL);
}

/* ------------------------------------------------------------------ */
/* prf+                                                                */
/* ------------------------------------------------------------------ */

/* Reference HMAC from OpenSSL's EVP_Q_mac, independent of hmac.c. */
static void ref_hmac(const char *md, const uint8_t *key, size_t keylen,
		     const uint8_t *data, size_t len, uint8_t *out)
{
	size_t outlen = 0;

	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key, keylen,
				  data, len, out, VPN_PRF_MAX_LEN, &outlen));
}

static void test_prf_plus(void **state)
{
	static const struct {
		uint16_t id;
		const char *md;
	} prfs[] = {
		{PRF_SHA1, "SHA1"},
		{PRF_SHA256, "SHA256"},
		{PRF_SHA384, "SHA384"},
		{PRF_SHA512, "SHA512"},
	};
	uint8_t key[37], seed[70];
	static uint8_t out[255 * 64 + 16], ref[255 * 64 + 16];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(0xa0 + i);

	for (size_t p = 0; p < sizeof(prfs) / sizeof(prfs[0]); p++) {
		size_t hl = vpn_prf_len(prfs[p].id);
		size_t max = 255 * hl;
		const size_t lens[] = {0,	   1,	hl - 1,	 hl, hl + 1,
				       2 * hl + 3, 132, max - 1, max};
		uint8_t buf[VPN_PRF_MAX_LEN + sizeof(seed) + 1];
		size_t done = 0;

		/* Reference T1 | T2 | ... | T255 with EVP_Q_mac. */
		for (unsigned int n = 1; n <= 255; n++) {
			size_t blen = 0;

			if (n > 1) {
				memcpy(buf, ref + done - hl, hl);
				blen = hl;
			}
			memcpy(buf + blen, seed, sizeof(seed));
			blen += sizeof(seed);
			buf[blen++] = (uint8_t)n;
			ref_hmac(prfs[p].md, key, sizeof(key), buf, blen,
				 ref + done);
			done += hl;
		}
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			memset(out, 0x5a, sizeof(out));
			assert_int_equal(
				vpn_prf_plus(prfs[p].id, key, sizeof(key), seed,
					     sizeof(seed), out, lens[l]),
				0);
			if (lens[l])
				assert_memory_equal(out, ref, lens[l]);
			/* Exactly outlen bytes written. */
			assert_int_equal(out[lens[l]], 0x5a);
		}
		/* Past 255 blocks the counter would wrap: refused. */
		assert_int_equal(vpn_prf_plus(prfs[p].id, key, sizeof(key),
					      seed, sizeof(seed), out, max + 1),
				 -1);
	}
}

/* ------------------------------------------------------------------ */
/* SHA-1                                                               */
/* ------------------------------------------------------------------ */

static void test_sha1(void **state)
{
	/* FIPS 180 "abc" and the empty message. */
	struct hexbuf abc = hb("a9993e364706816aba3e25717850c26c9cd0d89d");
	struct hexbuf empty = hb("da39a3ee5e6b4b0d3255bfef95601890afd80709");
	struct iovec iov[3] = {{"a", 1}, {"", 0}, {"bc", 2}};
	uint8_t out[VPN_SHA1_LEN];

	assert_int_equal(vpn_sha1(iov, 3, out), 0);
	assert_memory_equal(out, abc.b, VPN_SHA1_LEN);
	assert_int_equal(vpn_sha1(iov, 0, out), 0);
	assert_memory_equal(out, empty.b, VPN_SHA1_LEN);
}

/* ------------------------------------------------------------------ */
/* Basics                                                              */
/* ------------------------------------------------------------------ */

static void test_basics(void **state)
{
	uint8_t a[32], b[32];
	uint8_t *s;

	memset(a, 1, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(vpn_memeq(a, b, sizeof(a)));
	assert_true(vpn_memeq(a, b, 0));
	b[31] ^= 1;
	assert_false(vpn_memeq(a, b, sizeof(a)));
	vpn_memzero(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0);

	memset(a, 0, sizeof(a));
	vpn_random(a, sizeof(a));
	vpn_random(b, sizeof(b));
	assert_false(vpn_memeq(a, b, sizeof(a)));

	s = vpn_secret_alloc(100);
	assert_non_null(s);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(s[i], 0);
	memset(s, 0xab, 100);
	vpn_secret_free(s, 100);
	vpn_secret_free(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_rfc2202),
		cmocka_unit_test(test_prf_iov),
		cmocka_unit_test(test_prf_ids),
		cmocka_unit_test(test_integ_vectors),
		cmocka_unit_test(test_integ_ids),
		cmocka_unit_test(test_prf_plus),
		cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_basics),
	};

	if (vpn_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
