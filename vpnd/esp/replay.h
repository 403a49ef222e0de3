/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: ESP anti-replay window (RFC 4303 section 3.4.3 and appendix A).
 *
 * A sliding window of ESP_REPLAY_WINDOW sequence numbers ending at the
 * highest authenticated one, kept as a ring of 64-bit words. The receive
 * path is split in two:
 *
 *   esp_replay_check()   before the ICV is verified: infers the 64-bit
 *                        sequence number (ESN, appendix A2.2) and rejects
 *                        duplicates and numbers left of the window. It
 *                        changes nothing, so a forged packet costs only
 *                        the integrity check.
 *   esp_replay_update()  after the ICV verified: marks the number seen and
 *                        slides the window. It checks again, so a
 *                        duplicate that raced the first check is caught.
 *
 * Sequence number 0 is never accepted (senders start at 1). Far jumps
 * ahead are accepted and slide the window; the resynchronisation of RFC
 * 4303 appendix A3 (loss of 2^32 packets with ESN) is not implemented.
 * One window is used by one thread at a time.
 */
#ifndef VPND_ESP_REPLAY_H
#define VPND_ESP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

/* Window size in packets: a multiple of 64, at least 1024. */
#define ESP_REPLAY_WINDOW 2048
#define ESP_REPLAY_WORDS (ESP_REPLAY_WINDOW / 64 + 1)

struct esp_replay {
	uint64_t top; /* highest authenticated sequence number, 0: none */
	bool esn;     /* 64-bit sequence numbers, low half on the wire */
	uint64_t bitmap[ESP_REPLAY_WORDS]; /* ring: bit s % 64 of word
					    * (s / 64) % ESP_REPLAY_WORDS */
};

/* An empty window; esn selects extended sequence numbers. */
void esp_replay_init(struct esp_replay *w, bool esn);

/*
 * Before decryption: seq_low is the sequence number field of the packet.
 * Sets *seq to the full (64-bit with ESN) sequence number. Returns false
 * for a duplicate, a number left of the window, or 0.
 */
bool esp_replay_check(const struct esp_replay *w, uint32_t seq_low,
		      uint64_t *seq);

/* After the ICV verified: records seq. Returns false (and changes
 * nothing) if seq is no longer acceptable. */
bool esp_replay_update(struct esp_replay *w, uint64_t seq);

#endif /* VPND_ESP_REPLAY_H */
