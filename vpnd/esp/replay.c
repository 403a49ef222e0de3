// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: ESP anti-replay window.
 *
 * The idea of WireGuard's counter.c (a ring of words, cleared as the top
 * moves into them) with RFC 4303's extended sequence number inference.
 * The ring has one word more than the window needs, so the window's bits
 * never share a word with bits of numbers that left it.
 */
#include "replay.h"

#include <string.h>

#if ESP_REPLAY_WINDOW % 64 || ESP_REPLAY_WINDOW < 1024
#error "ESP_REPLAY_WINDOW must be a multiple of 64, at least 1024"
#endif

#define W ((uint64_t)ESP_REPLAY_WINDOW)

void esp_replay_init(struct esp_replay *w, bool esn)
{
	memset(w, 0, sizeof(*w));
	w->esn = esn;
}

static unsigned int word_of(uint64_t seq)
{
	return (unsigned int)((seq / 64) % ESP_REPLAY_WORDS);
}

static uint64_t bit_of(uint64_t seq)
{
	return (uint64_t)1 << (seq % 64);
}

/* seq is neither 0, nor left of the window, nor already seen. */
static bool fresh(const struct esp_replay *w, uint64_t seq)
{
	if (seq == 0)
		return false;
	if (seq > w->top)
		return true;
	if (w->top - seq >= W)
		return false;
	return !(w->bitmap[word_of(seq)] & bit_of(seq));
}

/*
 * RFC 4303 appendix A2.2: the high half Seqh from the window top
 * T = Th | Tl and the received low half Seql.
 *   Tl >= W - 1 (window within one subspace):
 *     Seql >= Tl - W + 1: Seqh = Th, else Seqh = Th + 1
 *   Tl < W - 1 (window spans two subspaces):
 *     Seql >= Tl - W + 1 (mod 2^32): Seqh = Th - 1, else Seqh = Th
 * False when Seqh falls outside 0 .. 2^32 - 1.
 */
static bool infer_esn(uint64_t top, uint32_t seql, uint64_t *seq)
{
	uint32_t th = (uint32_t)(top >> 32);
	uint32_t tl = (uint32_t)top;
	uint32_t bottom = tl - (uint32_t)W + 1; /* mod 2^32 */
	uint64_t seqh;

	if (tl >= W - 1) {
		if (seql >= bottom) {
			seqh = th;
		} else {
			if (th == UINT32_MAX)
				return false;
			seqh = (uint64_t)th + 1;
		}
	} else {
		if (seql >= bottom) {
			if (th == 0)
				return false;
			seqh = (uint64_t)th - 1;
		} else {
			seqh = th;
		}
	}
	*seq = seqh << 32 | seql;
	return true;
}

bool esp_replay_check(const struct esp_replay *w, uint32_t seq_low,
		      uint64_t *seq)
{
	uint64_t s = seq_low;

	if (w->esn && !infer_esn(w->top, seq_low, &s))
		return false;
	*seq = s;
	return fresh(w, s);
}

bool esp_replay_update(struct esp_replay *w, uint64_t seq)
{
	if (!w->esn && seq > UINT32_MAX)
		return false;
	if (!fresh(w, seq))
		return false;
	if (seq > w->top) {
		uint64_t from = w->top / 64, to = seq / 64;
		uint64_t n = to - from;

		/* Clear the words the top moves into (at most all). */
		if (n > ESP_REPLAY_WORDS)
			n = ESP_REPLAY_WORDS;
		for (uint64_t i = 1; i <= n; i++)
			w->bitmap[(from + i) % ESP_REPLAY_WORDS] = 0;
		w->top = seq;
	}
	w->bitmap[word_of(seq)] |= bit_of(seq);
	return true;
}
