// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: IKEv2 key derivation (ike/keys.c) against a NIST CAVS
 * SP 800-135 IKEv2 KDF vector (HMAC-SHA1, DKM length 132 bytes), as used
 * by libreswan's CAVP test driver.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "ike/keys.h"
#include "ike/proposal.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		sscanf(hex + 2 * i, "%2x", &b);
		out[i] = (uint8_t)b;
	}
	return n;
}

#define GIR "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52"
#define GIR_NEW                                                                \
	"863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330"
#define NI "32b50d5f4a3763f3"
#define NR "9206a04b26564cb1"
#define SPII 0x34c9e7c188868785ULL
#define SPIR 0x3ff77d760d2b2199ULL
#define SKEYSEED "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7"
#define DKM                                                                    \
	"a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002"     \
	"a2a63080e514a062768b76606f9fa5e992204fc5a670bde3f10d6b027113936a"     \
	"5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd1119"     \
	"8af1670b143d384bd275c5f594cf266b05ebadca855e4249520a441a81157435"     \
	"a7a56cc4"
#define DKM_CHILD                                                              \
	"8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c581"     \
	"1a8e7b5d1cdabd9560b2d5e092d1f24e2d4b85eccdf0ad0dc9abd94b51ee7181"     \
	"4ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf"     \
	"285f524aea6545b33106bc03e614296d319d41d4b50b3f510b1c0a22f3e66499"     \
	"4d234cb4"
#define DKM_CHILD_DH                                                           \
	"bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d373016"     \
	"28190e38c66232eab4b3ab14c400a5197dd3730ed4820a8a10394d51e1c04000"     \
	"52f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a"     \
	"05884d1b7d2f933708450b7b3288f1fc863ab49fa901227cffc06e27899c7054"     \
	"d56fd74c"
#define SKEYSEED_REKEY "63e81194946ebd05df7df5ebf5d8750056bf1f1d"

struct vec {
	uint8_t gir[64], gir_new[64], ni[16], nr[16];
	size_t girlen, gir_newlen, nilen, nrlen;
};

static void load(struct vec *v)
{
	v->girlen = unhex(GIR, v->gir, sizeof(v->gir));
	v->gir_newlen = unhex(GIR_NEW, v->gir_new, sizeof(v->gir_new));
	v->nilen = unhex(NI, v->ni, sizeof(v->ni));
	v->nrlen = unhex(NR, v->nr, sizeof(v->nr));
}

/* 132 = 3 * 20 (SK_d, SK_pi, SK_pr) + 2 * 20 (SK_a*) + 2 * 16 (SK_e*). */
static void derive(struct ike_sa_keys *k, const struct vec *v,
		   uint8_t *skeyseed)
{
	memset(k, 0, sizeof(*k));
	k->prf = VPN_PRF_HMAC_SHA1;
	k->integ_len = 20;
	k->encr_len = 16;
	assert_int_equal(ike_derive_sa_keys(k, v->ni, v->nilen, v->nr, v->nrlen,
					    v->gir, v->girlen, SPII, SPIR, 0,
					    NULL, 0, skeyseed),
			 0);
}

static void test_skeyseed_and_dkm(void **state)
{
	struct vec v;
	struct ike_sa_keys k;
	uint8_t skeyseed[VPN_PRF_MAX_LEN], want[256], got[256];
	size_t n, off = 0;

	load(&v);
	derive(&k, &v, skeyseed);
	n = unhex(SKEYSEED, want, sizeof(want));
	assert_memory_equal(skeyseed, want, n);

	/* The DKM is the seven keys in order. */
	n = unhex(DKM, want, sizeof(want));
	assert_int_equal(n, 132);
#define PUT(x, l) (memcpy(got + off, x, l), off += l)
	PUT(k.sk_d, 20);
	PUT(k.sk_ai, 20);
	PUT(k.sk_ar, 20);
	PUT(k.sk_ei, 16);
	PUT(k.sk_er, 16);
	PUT(k.sk_pi, 20);
	PUT(k.sk_pr, 20);
#undef PUT
	assert_int_equal(off, n);
	assert_memory_equal(got, want, n);
}

static void test_child_keymat(void **state)
{
	struct vec v;
	struct ike_sa_keys k;
	uint8_t want[256], got[256];
	size_t n;

	load(&v);
	derive(&k, &v, NULL);

	n = unhex(DKM_CHILD, want, sizeof(want));
	assert_int_equal(ike_derive_child_keymat(k.prf, k.sk_d, 20, NULL, 0,
						 v.ni, v.nilen, v.nr, v.nrlen,
						 got, n),
			 0);
	assert_memory_equal(got, want, n);

	n = unhex(DKM_CHILD_DH, want, sizeof(want));
	assert_int_equal(ike_derive_child_keymat(k.prf, k.sk_d, 20, v.gir_new,
						 v.gir_newlen, v.ni, v.nilen,
						 v.nr, v.nrlen, got, n),
			 0);
	assert_memory_equal(got, want, n);
}

static void test_rekey_skeyseed(void **state)
{
	struct vec v;
	struct ike_sa_keys old, k;
	uint8_t skeyseed[VPN_PRF_MAX_LEN], want[32];
	size_t n;

	load(&v);
	derive(&old, &v, NULL);
	memset(&k, 0, sizeof(k));
	k.prf = VPN_PRF_HMAC_SHA1;
	k.integ_len = 20;
	k.encr_len = 16;
	assert_int_equal(ike_derive_sa_keys(&k, v.ni, v.nilen, v.nr, v.nrlen,
					    v.gir_new, v.gir_newlen, SPII,
					    SPIR, old.prf, old.sk_d, 20,
					    skeyseed),
			 0);
	n = unhex(SKEYSEED_REKEY, want, sizeof(want));
	assert_memory_equal(skeyseed, want, n);
}

/* PSK AUTH: deterministic, depends on every input, and initiator and
 * responder computations differ. (No published vector exists; interop
 * with strongSwan checks the exact value.) */
static void test_psk_auth(void **state)
{
	const uint8_t psk[] = "secret", msg[] = "message-one", nonce[] = "nn";
	const uint8_t skp[20] = { 1 }, id[] = { 2, 0, 0, 0, 'a' };
	uint8_t a1[64], a2[64], a3[64];

	assert_int_equal(ike_psk_auth(VPN_PRF_HMAC_SHA2_256, psk, 6, msg, 11,
				      nonce, 2, skp, 20, id, 5, a1),
			 0);
	assert_int_equal(ike_psk_auth(VPN_PRF_HMAC_SHA2_256, psk, 6, msg, 11,
				      nonce, 2, skp, 20, id, 5, a2),
			 0);
	assert_memory_equal(a1, a2, 32);
	assert_int_equal(ike_psk_auth(VPN_PRF_HMAC_SHA2_256,
				      (const uint8_t *)"secreT", 6, msg, 11,
				      nonce, 2, skp, 20, id, 5, a3),
			 0);
	assert_memory_not_equal(a1, a3, 32);
	assert_int_equal(ike_psk_auth(VPN_PRF_HMAC_SHA2_256, psk, 6, msg, 11,
				      nonce, 2, skp, 20, id, 4, a3),
			 0);
	assert_memory_not_equal(a1, a3, 32);
	assert_int_equal(ike_psk_auth(0, psk, 6, msg, 11, nonce, 2, skp, 20,
				      id, 5, a3),
			 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skeyseed_and_dkm),
		cmocka_unit_test(test_child_keymat),
		cmocka_unit_test(test_rekey_skeyseed),
		cmocka_unit_test(test_psk_auth),
	};

	vpn_crypto_init();
	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
