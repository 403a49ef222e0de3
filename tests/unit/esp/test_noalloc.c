// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test: the ESP packet path allocates nothing.
 *
 * OpenSSL's allocations are counted through CRYPTO_set_mem_functions()
 * (installed before OpenSSL allocates anything); the engine's own calls
 * to malloc/calloc/realloc are counted through the linker's --wrap (see
 * meson.build). After the SAs are made, encapsulation and decapsulation
 * (good packets, forgeries, replays, malformed ones) must not allocate,
 * for every SA kind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>

#include "crypto/crypto.h"
#include "esp/esp.h"

static bool counting;
static unsigned long allocs;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
	if (counting)
		allocs++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	if (counting)
		allocs++;
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	if (counting)
		allocs++;
	return __real_realloc(p, n);
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
	if (counting)
		allocs++;
	return __real_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
	if (counting)
		allocs++;
	return __real_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
	free(p);
}

static const struct {
	uint16_t encr, keybits, integ;
} kinds[] = {
	{3, 0, 2},     {12, 128, 2}, {12, 128, 12}, {12, 192, 13},
	{12, 256, 14}, {20, 128, 0}, {20, 256, 0},  {28, 0, 0},
};

static void test_no_alloc(void **state)
{
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (int esn = 0; esn < 2; esn++) {
			uint8_t ekey[64], ikey[64], inner[1400], pkt[2048];
			uint8_t keep[2048];
			struct vpn_cipher_info ci;
			struct esp_sa_params p;
			struct esp_sa *out, *in;
			struct esp_inner res;
			size_t len = 0, keeplen = 0;

			assert_int_equal(vpn_cipher_info(kinds[k].encr,
							 kinds[k].keybits, &ci),
					 0);
			vpn_random(ekey, sizeof(ekey));
			vpn_random(ikey, sizeof(ikey));
			memset(inner, 0x45, sizeof(inner));
			p = (struct esp_sa_params){
				.spi = 0x4242,
				.encr = kinds[k].encr,
				.keybits = kinds[k].keybits,
				.integ = kinds[k].integ,
				.esn = esn,
				.encr_key = ekey,
				.encr_keylen = ci.keylen,
				.integ_key = ikey,
				.integ_keylen
				= kinds[k].integ
					  ? vpn_integ_keylen(kinds[k].integ)
					  : 0,
			};
			out = esp_sa_new(&p);
			in = esp_sa_new(&p);
			assert_non_null(out);
			assert_non_null(in);

			allocs = 0;
			counting = true;
			for (int i = 0; i < 200; i++) {
				size_t ilen = (size_t)(i * 7) % sizeof(inner);

				assert_int_equal(esp_encap(out, inner, ilen,
							   ESP_NH_IPV4, pkt,
							   sizeof(pkt), &len),
						 ESP_OK);
				if (i == 0) {
					memcpy(keep, pkt, len);
					keeplen = len;
				}
				if (i % 5 == 0)
					pkt[len - 1] ^= 1; /* forged */
				assert_int_equal(esp_decap(in, pkt, len, &res),
						 i % 5 ? ESP_OK
						       : ESP_INTEGRITY);
			}
			/* A replay, a short packet, no space. */
			memcpy(pkt, keep, keeplen);
			assert_int_equal(esp_decap(in, pkt, keeplen, &res),
					 ESP_OK);
			memcpy(pkt, keep, keeplen);
			assert_int_equal(esp_decap(in, pkt, keeplen, &res),
					 ESP_REPLAY);
			assert_int_equal(esp_decap(in, pkt, 9, &res),
					 ESP_MALFORMED);
			assert_int_equal(esp_encap(out, inner, 100, ESP_NH_IPV4,
						   pkt, 50, &len),
					 ESP_NO_SPACE);
			counting = false;
			assert_int_equal(allocs, 0);

			esp_sa_free(out);
			esp_sa_free(in);
		}
	}
}

/* The counters work: making an SA does allocate. */
static void test_counter_works(void **state)
{
	uint8_t key[36] = {0};
	struct esp_sa_params p = {.spi = 1,
				  .encr = 20,
				  .keybits = 256,
				  .encr_key = key,
				  .encr_keylen = 36};
	struct esp_sa *sa;

	allocs = 0;
	counting = true;
	sa = esp_sa_new(&p);
	counting = false;
	assert_non_null(sa);
	assert_true(allocs > 0);
	esp_sa_free(sa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_alloc),
		cmocka_unit_test(test_counter_works),
	};

	/* Before anything in OpenSSL allocates. */
	if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free))
		return 1;
	if (vpn_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
