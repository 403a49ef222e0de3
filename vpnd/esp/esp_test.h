/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: ESP test hooks, for known-answer tests and fuzzers only.
 *
 * Published ESP vectors use fixed IVs and sequence numbers that the
 * datapath would never choose. These functions bypass the invariants
 * esp_encap() keeps (unique IVs, increasing sequence numbers): never call
 * them on a live SA.
 */
#ifndef VPND_ESP_TEST_H
#define VPND_ESP_TEST_H

#include "esp/esp.h"

/* esp_encap() with a given sequence number and explicit IV (ivlen bytes);
 * the SA's outbound counter is not touched. */
enum esp_status esp_test_encap(struct esp_sa *sa, uint64_t seq,
			       const uint8_t *iv, const uint8_t *inner,
			       size_t inner_len, uint8_t next_header,
			       uint8_t *out, size_t out_size, size_t *out_len);

/* Set the last sequence number sent (the next packet uses seq + 1). */
void esp_test_set_seq_out(struct esp_sa *sa, uint64_t seq);

/* Reset the replay window as if top had been the last packet received
 * (top 0: a new window). */
void esp_test_set_replay_top(struct esp_sa *sa, uint64_t top);

/* Zero the counters. */
void esp_test_reset_stats(struct esp_sa *sa);

#endif /* VPND_ESP_TEST_H */
