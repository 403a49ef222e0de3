/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzer-only access to the inside of IKE SAs (tests/fuzz/ike/fuzz_ike_peek.c
 * compiles vpnd/ike/ike.c itself and adds these). They let the engine
 * fuzzer seal a message with the keys an SA will open it with, and take
 * apart a real message to splice hostile payloads into it: sk.c and the
 * exchange handlers then see hostile plaintext. Nothing here is in vpnd.
 */
#ifndef VPND_FUZZ_IKE_PEEK_H
#define VPND_FUZZ_IKE_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/ike.h"

/* The idx-th (modulo their number) live IKE SA of an engine, or NULL. */
struct ike_sa *fuzz_ike_nth_sa(struct ike_engine *eng, unsigned int idx);

/* The SA a header is for, as ike_input() finds it, or NULL. */
struct ike_sa *fuzz_ike_find(struct ike_engine *eng,
			     const struct ike_header *h);

/* Does the SA have inbound keys (would ike_input() try to open SK)? */
bool fuzz_ike_sa_has_keys(const struct ike_sa *sa);

/* The message ID the SA expects next: of a request from the peer, or of
 * the response to its own outstanding request. */
uint32_t fuzz_ike_sa_msgid(const struct ike_sa *sa, bool response);

/* The exchange of the SA's outstanding request (0: none). */
uint8_t fuzz_ike_sa_req_exchange(const struct ike_sa *sa);

/* Seal the inner chain (first payload type `first`) under header `h`
 * (SPIs taken from the SA) with the SA's inbound keys, as its peer would.
 * Returns the message length or -1. */
int fuzz_ike_seal_in(struct ike_sa *sa, struct ike_header *h, uint8_t first,
		     const uint8_t *inner, size_t len, uint8_t *out,
		     size_t cap);

/* Open a message for the SA in place (buf, len: a whole datagram) with its
 * inbound keys; on success *pt, *ptlen is the plaintext inner chain inside
 * buf, *first its first payload type, *h the header. 0 or -1. */
int fuzz_ike_open_in(struct ike_sa *sa, uint8_t *buf, size_t len,
		     struct ike_header *h, uint8_t **pt, size_t *ptlen,
		     uint8_t *first);

#endif /* VPND_FUZZ_IKE_PEEK_H */
