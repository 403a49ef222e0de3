// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: Diffie-Hellman groups (vpnd/crypto/dh.c).
 *
 * Vectors: RFC 7748 section 6.1 and RFC 8031 appendix A (X25519),
 * RFC 5903 section 8 (ECP 256, 384, 521). MODP: both sides agree, the
 * result matches an independent computation over OpenSSL's copies of the
 * RFC 2409 / RFC 3526 primes (BN_get_rfc*_prime_*), and bad peer values
 * are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bn.h>

#include "crypto/crypto.h"
#include "../testutil.h"

/* ------------------------------------------------------------------ */
/* Known answers                                                       */
/* ------------------------------------------------------------------ */

struct kex_case {
	uint16_t group;
	const char *i, *gi; /* initiator private, public (KE data) */
	const char *r, *gr; /* responder private, public */
	const char *shared;
};

static const struct kex_case kex_cases[] = {
	/* RFC 7748 section 6.1 (Alice, Bob) */
	{31, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	 "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	 "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	 "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	 "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
	/* RFC 8031 appendix A */
	{31, "751fb4308655b476b6789b7325f9ea8cddd16a58533ff6d9e60009464a5f9d94",
	 "48d5ddd4061257ba166fa3f9bbdb74f1a4e81c089384fa77f790709f0dfbc766",
	 "0a54645253290d60ddadd0e030bacd9e5501efdc220755a1e978f1b839a05688",
	 "0be7c1f5aad87d7e448662673298a443478b859745179eaf564c79c0ef6eee25",
	 "c74950607a12327f3204d94b6825bfb068b7f8319a9e3708ed3d43ce8130c950"},
	/* RFC 5903 section 8.1 */
	{19, "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
	 "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
	 "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
	 "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
	 "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
	 "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
	 "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"},
	/* RFC 5903 section 8.2 */
	{20,
	 "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655"
	 "e35b538041e649ee3faef896783ab194",
	 "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6"
	 "de3ac808acb4bdb4c88732aee95f41aa"
	 "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e"
	 "eb9fcff3c2c947dae69b4c634573a81c",
	 "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942"
	 "e0308312916b8ed2960e4bd55a7448fc",
	 "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d"
	 "0d1ac43a0336def96fda41d0774a3571"
	 "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff"
	 "f83fa40142209dff5eaad96db9e6386c",
	 "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4"
	 "d603135569b9e9d09cf5d4a270f59746"},
	/* RFC 5903 section 8.3 */
	{21,
	 "0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a0"
	 "95aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d"
	 "4a52",
	 "0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbe"
	 "e1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176c"
	 "ed3e"
	 "017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10a"
	 "d8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f"
	 "9582",
	 "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e"
	 "9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb15168"
	 "5eb9",
	 "00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a21"
	 "9b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9"
	 "460f"
	 "015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87"
	 "220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0f"
	 "c56a",
	 "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04"
	 "d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3"
	 "ddea"},
};

static void test_kex_vectors(void **state)
{
	for (size_t n = 0; n < sizeof(kex_cases) / sizeof(kex_cases[0]); n++) {
		const struct kex_case *c = &kex_cases[n];
		struct hexbuf i = hb(c->i), gi = hb(c->gi), r = hb(c->r);
		struct hexbuf gr = hb(c->gr), shared = hb(c->shared);
		uint8_t pub[VPN_DH_MAX_PUB], sec[VPN_DH_MAX_PUB];
		struct vpn_dh *di, *dr;
		size_t seclen = 0;

		assert_int_equal(gi.n, vpn_dh_pub_len(c->group));
		assert_int_equal(gr.n, vpn_dh_pub_len(c->group));
		di = vpn_dh_new_from_private(c->group, i.b, i.n);
		dr = vpn_dh_new_from_private(c->group, r.b, r.n);
		assert_non_null(di);
		assert_non_null(dr);
		assert_int_equal(vpn_dh_group(di), c->group);

		assert_int_equal(vpn_dh_public(di, pub, gi.n), 0);
		assert_memory_equal(pub, gi.b, gi.n);
		assert_int_equal(vpn_dh_public(dr, pub, gr.n), 0);
		assert_memory_equal(pub, gr.b, gr.n);
		assert_int_equal(vpn_dh_public(di, pub, gi.n - 1), -1);

		assert_int_equal(vpn_dh_shared(di, gr.b, gr.n, sec, &seclen),
				 0);
		assert_int_equal(seclen, shared.n);
		assert_memory_equal(sec, shared.b, shared.n);
		seclen = 0;
		assert_int_equal(vpn_dh_shared(dr, gi.b, gi.n, sec, &seclen),
				 0);
		assert_int_equal(seclen, shared.n);
		assert_memory_equal(sec, shared.b, shared.n);

		/* Wrong lengths refused. */
		assert_int_equal(
			vpn_dh_shared(di, gr.b, gr.n - 1, sec, &seclen), -1);
		assert_int_equal(
			vpn_dh_shared(di, gr.b, gr.n + 1, sec, &seclen), -1);
		vpn_dh_free(di);
		vpn_dh_free(dr);
	}
}

/* Fresh keys on both sides agree, for every group. */
static void test_agree(void **state)
{
	static const uint16_t all[] = {2, 5, 14, 15, 16, 19, 20, 21, 31};

	for (size_t g = 0; g < sizeof(all) / sizeof(all[0]); g++) {
		size_t len = vpn_dh_pub_len(all[g]);
		uint8_t pa[VPN_DH_MAX_PUB], pb[VPN_DH_MAX_PUB];
		uint8_t sa[VPN_DH_MAX_PUB], sb[VPN_DH_MAX_PUB];
		size_t la = 0, lb = 0;
		struct vpn_dh *a = vpn_dh_new(all[g]);
		struct vpn_dh *b = vpn_dh_new(all[g]);

		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(vpn_dh_public(a, pa, len), 0);
		assert_int_equal(vpn_dh_public(b, pb, len), 0);
		assert_memory_not_equal(pa, pb, len);
		assert_int_equal(vpn_dh_shared(a, pb, len, sa, &la), 0);
		assert_int_equal(vpn_dh_shared(b, pa, len, sb, &lb), 0);
		assert_int_equal(la, lb);
		assert_memory_equal(sa, sb, la);
		/* MODP and X25519: secret as long as the KE data; ECP: x. */
		assert_int_equal(la,
				 all[g] >= 19 && all[g] <= 21 ? len / 2 : len);
		vpn_dh_free(a);
		vpn_dh_free(b);
	}
}

/* ------------------------------------------------------------------ */
/* MODP                                                                */
/* ------------------------------------------------------------------ */

static BIGNUM *ref_prime(uint16_t group)
{
	switch (group) {
	case 2:
		return BN_get_rfc2409_prime_1024(NULL);
	case 5:
		return BN_get_rfc3526_prime_1536(NULL);
	case 14:
		return BN_get_rfc3526_prime_2048(NULL);
	case 15:
		return BN_get_rfc3526_prime_3072(NULL);
	case 16:
		return BN_get_rfc3526_prime_4096(NULL);
	}
	return NULL;
}

static void bn_out(const BIGNUM *v, uint8_t *out, size_t len)
{
	assert_int_equal(BN_bn2binpad(v, out, (int)len), (int)len);
}

/*
 * With a chosen private x: our public value is 2^x mod p and the shared
 * secret with a peer y is y^x mod p, both computed independently with the
 * reference prime. This pins the embedded group 2 prime and the named
 * groups to the RFCs, and the left padding of short results.
 */
static void test_modp_reference(void **state)
{
	static const uint16_t modp[] = {2, 5, 14, 15, 16};
	BN_CTX *bnctx = BN_CTX_new();

	for (size_t g = 0; g < sizeof(modp) / sizeof(modp[0]); g++) {
		size_t len = vpn_dh_pub_len(modp[g]);
		BIGNUM *p = ref_prime(modp[g]), *two = BN_new();
		BIGNUM *x = BN_new(), *e = BN_new(), *y = BN_new();
		BIGNUM *k = BN_new();
		uint8_t priv[64], pub[VPN_DH_MAX_PUB], want[VPN_DH_MAX_PUB];
		uint8_t peer[VPN_DH_MAX_PUB], sec[VPN_DH_MAX_PUB];
		struct vpn_dh *dh;
		size_t seclen = 0;

		assert_non_null(p);
		assert_int_equal(BN_num_bytes(p), (int)len);
		/* Group 2's prime is embedded in dh.c: check that the
		 * reference is a safe prime, q = (p - 1) / 2 prime too. */
		if (modp[g] == 2) {
			assert_true(BN_rshift1(k, p));
			assert_int_equal(BN_check_prime(p, bnctx, NULL), 1);
			assert_int_equal(BN_check_prime(k, bnctx, NULL), 1);
		}

		vpn_random(priv, sizeof(priv));
		priv[0] |= 0x80;
		assert_non_null(BN_bin2bn(priv, sizeof(priv), x));
		assert_true(BN_set_word(two, 2));
		dh = vpn_dh_new_from_private(modp[g], priv, sizeof(priv));
		assert_non_null(dh);

		assert_true(BN_mod_exp(e, two, x, p, bnctx));
		bn_out(e, want, len);
		assert_int_equal(vpn_dh_public(dh, pub, len), 0);
		assert_memory_equal(pub, want, len);

		/* A peer value from another random exponent. */
		vpn_random(priv, 32);
		assert_non_null(BN_bin2bn(priv, 32, k));
		assert_true(BN_mod_exp(y, two, k, p, bnctx));
		bn_out(y, peer, len);
		assert_true(BN_mod_exp(e, y, x, p, bnctx));
		bn_out(e, want, len);
		assert_int_equal(vpn_dh_shared(dh, peer, len, sec, &seclen), 0);
		assert_int_equal(seclen, len);
		assert_memory_equal(sec, want, len);
		vpn_dh_free(dh);

		/* x = 1: the secret is the peer value itself, left-padded:
		 * y = 4 gives 00 .. 00 04. */
		priv[0] = 1;
		dh = vpn_dh_new_from_private(modp[g], priv, 1);
		assert_non_null(dh);
		assert_int_equal(vpn_dh_public(dh, pub, len), 0);
		memset(want, 0, len);
		want[len - 1] = 2;
		assert_memory_equal(pub, want, len);
		memset(peer, 0, len);
		peer[len - 1] = 4;
		assert_int_equal(vpn_dh_shared(dh, peer, len, sec, &seclen), 0);
		want[len - 1] = 4;
		assert_memory_equal(sec, want, len);
		vpn_dh_free(dh);

		BN_free(p);
		BN_free(two);
		BN_free(x);
		BN_free(e);
		BN_free(y);
		BN_free(k);
	}
	BN_CTX_free(bnctx);
}

/* Peer values 0, 1, p - 1, p, p + 1, all-ones and a value outside the
 * order-q subgroup are refused. */
static void test_modp_bad_peer(void **state)
{
	static const uint16_t modp[] = {2, 5, 14, 15, 16};

	for (size_t g = 0; g < sizeof(modp) / sizeof(modp[0]); g++) {
		size_t len = vpn_dh_pub_len(modp[g]);
		BIGNUM *p = ref_prime(modp[g]), *v = BN_new();
		uint8_t peer[VPN_DH_MAX_PUB], sec[VPN_DH_MAX_PUB];
		struct vpn_dh *dh = vpn_dh_new(modp[g]);
		size_t seclen = 0;
		const int deltas[] = {-1, 0, 1};

		assert_non_null(dh);
		memset(peer, 0, len);
		assert_int_equal(vpn_dh_shared(dh, peer, len, sec, &seclen),
				 -1);
		peer[len - 1] = 1;
		assert_int_equal(vpn_dh_shared(dh, peer, len, sec, &seclen),
				 -1);
		memset(peer, 0xff, len);
		assert_int_equal(vpn_dh_shared(dh, peer, len, sec, &seclen),
				 -1);
		for (size_t d = 0; d < 3; d++) {
			assert_non_null(BN_copy(v, p));
			if (deltas[d] < 0)
				assert_true(BN_sub_word(v, 1));
			else if (deltas[d] > 0)
				assert_true(BN_add_word(v, 1));
			if (BN_num_bytes(v) > (int)len)
				continue;
			bn_out(v, peer, len);
			assert_int_equal(
				vpn_dh_shared(dh, peer, len, sec, &seclen), -1);
		}
		/* p - 2 = -2 mod p: not in the subgroup of order q (2 is a
		 * square modulo these primes, -1 is not). */
		assert_non_null(BN_copy(v, p));
		assert_true(BN_sub_word(v, 2));
		bn_out(v, peer, len);
		assert_int_equal(vpn_dh_shared(dh, peer, len, sec, &seclen),
				 -1);
		/* Still usable with a good value. */
		memset(peer, 0, len);
		peer[len - 1] = 4;
		assert_int_equal(vpn_dh_shared(dh, peer, len, sec, &seclen), 0);
		vpn_dh_free(dh);
		BN_free(p);
		BN_free(v);
	}
}

/* ------------------------------------------------------------------ */
/* ECP and X25519 bad peer values                                      */
/* ------------------------------------------------------------------ */

static void test_ecp_bad_peer(void **state)
{
	for (size_t n = 2; n < sizeof(kex_cases) / sizeof(kex_cases[0]); n++) {
		const struct kex_case *c = &kex_cases[n];
		struct hexbuf gr = hb(c->gr);
		uint8_t sec[VPN_DH_MAX_PUB];
		struct vpn_dh *dh = vpn_dh_new(c->group);
		size_t seclen = 0, half = gr.n / 2;

		assert_non_null(dh);
		/* y changed: not on the curve. */
		gr.b[gr.n - 1] ^= 1;
		assert_int_equal(vpn_dh_shared(dh, gr.b, gr.n, sec, &seclen),
				 -1);
		gr.b[gr.n - 1] ^= 1;
		/* x changed. */
		gr.b[half - 1] ^= 1;
		assert_int_equal(vpn_dh_shared(dh, gr.b, gr.n, sec, &seclen),
				 -1);
		gr.b[half - 1] ^= 1;
		/* (0, 0) and all-ones (coordinates >= p). */
		memset(gr.b, 0, gr.n);
		assert_int_equal(vpn_dh_shared(dh, gr.b, gr.n, sec, &seclen),
				 -1);
		memset(gr.b, 0xff, gr.n);
		assert_int_equal(vpn_dh_shared(dh, gr.b, gr.n, sec, &seclen),
				 -1);
		/* The original point works. */
		gr = hb(c->gr);
		assert_int_equal(vpn_dh_shared(dh, gr.b, gr.n, sec, &seclen),
				 0);
		vpn_dh_free(dh);
	}
}

static void test_x25519_zero(void **state)
{
	struct vpn_dh *dh = vpn_dh_new(31);
	uint8_t peer[32], sec[32];
	size_t seclen = 0;

	assert_non_null(dh);
	/* Points of small order give the all-zero secret: refused. */
	memset(peer, 0, sizeof(peer)); /* u = 0 */
	assert_int_equal(vpn_dh_shared(dh, peer, 32, sec, &seclen), -1);
	peer[0] = 1; /* u = 1 */
	assert_int_equal(vpn_dh_shared(dh, peer, 32, sec, &seclen), -1);
	/* A good value after the refusals. */
	memset(peer, 0, sizeof(peer));
	peer[0] = 9; /* the base point */
	assert_int_equal(vpn_dh_shared(dh, peer, 32, sec, &seclen), 0);
	assert_int_equal(seclen, 32);
	vpn_dh_free(dh);
}

/* ------------------------------------------------------------------ */
/* Group IDs                                                           */
/* ------------------------------------------------------------------ */

static void test_groups(void **state)
{
	static const struct {
		uint16_t id;
		size_t publen;
	} good[] = {
		{2, 128}, {5, 192}, {14, 256}, {15, 384}, {16, 512},
		{19, 64}, {20, 96}, {21, 132}, {31, 32},
	};
	/* MODP 768 (1), EC2N (3, 4), 6144/8192 (17, 18), ECP 192/224 (25,
	 * 26), Brainpool (27-30), Curve448 (32), ... */
	static const uint16_t bad[] = {0,  1,  3,  4,  6,  13, 17, 18,	22,
				       23, 24, 25, 26, 27, 30, 32, 1024};
	uint8_t priv[32] = {1};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(vpn_dh_supported(good[i].id));
		assert_int_equal(vpn_dh_pub_len(good[i].id), good[i].publen);
		assert_true(good[i].publen <= VPN_DH_MAX_PUB);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(vpn_dh_supported(bad[i]));
		assert_int_equal(vpn_dh_pub_len(bad[i]), 0);
		assert_null(vpn_dh_new(bad[i]));
		assert_null(vpn_dh_new_from_private(bad[i], priv, 32));
	}
	/* Private values out of range. */
	memset(priv, 0, sizeof(priv));
	assert_null(vpn_dh_new_from_private(19, priv, 32)); /* zero */
	assert_null(vpn_dh_new_from_private(14, priv, 32)); /* zero */
	memset(priv, 0xff, sizeof(priv));
	assert_null(vpn_dh_new_from_private(19, priv, 32)); /* >= n */
	assert_null(vpn_dh_new_from_private(19, priv, 31)); /* length */
	assert_null(vpn_dh_new_from_private(31, priv, 31)); /* length */
	vpn_dh_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kex_vectors),
		cmocka_unit_test(test_agree),
		cmocka_unit_test(test_modp_reference),
		cmocka_unit_test(test_modp_bad_peer),
		cmocka_unit_test(test_ecp_bad_peer),
		cmocka_unit_test(test_x25519_zero),
		cmocka_unit_test(test_groups),
	};

	if (vpn_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
