// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench/crypto/aead: vpnd's ESP ciphers through its own cipher API
 * (vpnd/crypto/cipher.c), one thread, ESP-sized packets: AES-GCM-128/256,
 * and ChaCha20-Poly1305 through OpenSSL (what vpnd uses) and through
 * libsodium (its fallback) in the same run. Prints Gbit/s of plaintext
 * sealed and opened, and each ChaCha20-Poly1305 figure as a ratio to
 * libsodium's.
 *
 *   build/bench/crypto/bench_aead [packet bytes, default 1400] [seconds per case, default 1]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "crypto/crypto_test.h"

#define ENCR_AES_GCM_16 20
#define ENCR_CHACHA20_POLY1305 28

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Gbit/s of plaintext through c, sealing (dec false) or opening. */
static double run(struct vpn_cipher *c, size_t len, double secs, bool dec)
{
	static uint8_t pt[65536], ct[65536], out[65536];
	uint8_t iv[8] = {0}, aad[8] = {1, 2, 3, 4, 5, 6, 7, 8}, tag[16];
	unsigned long n = 0;
	double t0, t;

	if (vpn_cipher_encrypt(c, iv, aad, sizeof(aad), pt, len, ct, tag))
		return -1;
	t0 = now();
	do {
		for (int i = 0; i < 256; i++, n++) {
			int rc;

			if (dec)
				rc = vpn_cipher_decrypt(c, iv, aad, sizeof(aad),
							ct, len, out, tag);
			else {
				memcpy(iv, &n, sizeof(n));
				rc = vpn_cipher_encrypt(c, iv, aad, sizeof(aad),
							pt, len, out, tag);
			}
			if (rc)
				return -1;
		}
		t = now() - t0;
	} while (t < secs);
	return n * len * 8 / t / 1e9;
}

int main(int argc, char **argv)
{
	size_t len = argc > 1 ? strtoul(argv[1], NULL, 10) : 1400;
	double secs = argc > 2 ? atof(argv[2]) : 1.0;
	static const struct {
		const char *name;
		uint16_t id, bits;
		bool sodium;
	} cases[] = {
		{"aes128gcm16", ENCR_AES_GCM_16, 128, false},
		{"aes256gcm16", ENCR_AES_GCM_16, 256, false},
		{"chacha20poly1305 (libsodium)", ENCR_CHACHA20_POLY1305, 0,
		 true},
		{"chacha20poly1305 (OpenSSL, vpnd's)", ENCR_CHACHA20_POLY1305,
		 0, false},
	};
	uint8_t key[36] = {0};
	double sodium[2] = {0, 0};

	if (len == 0 || len > 65536)
		len = 1400;
	printf("%zu-byte packets, %.1f s per case, one thread\n", len, secs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpn_cipher_info info;
		struct vpn_cipher *c;
		double g[2];

		vpn_cipher_info(cases[i].id, cases[i].bits, &info);
		vpn_cipher_test_force_sodium(cases[i].sodium);
		c = vpn_cipher_new(cases[i].id, cases[i].bits, key,
				   info.keylen);
		vpn_cipher_test_force_sodium(false);
		if (!c) {
			printf("%-36s unavailable\n", cases[i].name);
			continue;
		}
		g[0] = run(c, len, secs, false);
		g[1] = run(c, len, secs, true);
		vpn_cipher_free(c);
		printf("%-36s seal %6.2f Gbit/s  open %6.2f Gbit/s",
		       cases[i].name, g[0], g[1]);
		if (cases[i].sodium) {
			sodium[0] = g[0];
			sodium[1] = g[1];
		} else if (cases[i].id == ENCR_CHACHA20_POLY1305 && sodium[0])
			printf("  (%.2fx, %.2fx libsodium's)", g[0] / sodium[0],
			       g[1] / sodium[1]);
		printf("\n");
	}
	return 0;
}
