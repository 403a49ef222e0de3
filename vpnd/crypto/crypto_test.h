/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: crypto test hooks, for unit tests only.
 */
#ifndef VPND_CRYPTO_TEST_H
#define VPND_CRYPTO_TEST_H

#include <stdbool.h>

#include "crypto/crypto.h"

/* ChaCha20-Poly1305 contexts made after this use libsodium (true), or
 * OpenSSL where it offers the algorithm (false, the default): the
 * fallback's known answers are checked too. */
void vpn_cipher_test_force_sodium(bool on);

/* Whether c runs through libsodium. */
bool vpn_cipher_test_is_sodium(const struct vpn_cipher *c);

#endif
