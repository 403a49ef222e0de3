// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: ESP anti-replay window (vpnd/esp/replay.c).
 *
 * Edges of the window, duplicates, old packets, far jumps, the 64-bit
 * sequence number inference of RFC 4303 appendix A across the wrap of the
 * low half, and a long random run against a plain reference model.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "esp/replay.h"

#define W ((uint64_t)ESP_REPLAY_WINDOW)

/* check, then (the ICV having verified) update. */
static bool recv_seq(struct esp_replay *w, uint32_t low, uint64_t *seq)
{
	uint64_t s;

	if (!esp_replay_check(w, low, &s))
		return false;
	if (seq)
		*seq = s;
	return esp_replay_update(w, s);
}

static void test_window_size(void **state)
{
	assert_true(ESP_REPLAY_WINDOW >= 1024);
	assert_int_equal(ESP_REPLAY_WINDOW % 64, 0);
}

static void test_basic(void **state)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, false);
	/* 0 is never valid. */
	assert_false(esp_replay_check(&w, 0, &s));
	assert_false(esp_replay_update(&w, 0));
	assert_true(recv_seq(&w, 1, &s));
	assert_int_equal(s, 1);
	assert_false(esp_replay_check(&w, 1, &s));
	assert_false(esp_replay_update(&w, 1));
	/* In order, each once. */
	for (uint32_t i = 2; i < 5000; i++)
		assert_true(recv_seq(&w, i, NULL));
	for (uint32_t i = 1; i < 5000; i++)
		assert_false(esp_replay_check(&w, i, &s));
	assert_int_equal(w.top, 4999);
}

/* The window is exactly [top - W + 1, top]. */
static void test_edges(void **state)
{
	struct esp_replay w;
	uint64_t s;
	uint32_t top = 10000;

	esp_replay_init(&w, false);
	assert_true(recv_seq(&w, top, NULL));
	assert_true(esp_replay_check(&w, top - (uint32_t)W + 1, &s));
	assert_false(esp_replay_check(&w, top - (uint32_t)W, &s));
	assert_false(esp_replay_check(&w, 1, &s));
	/* Everything inside is still acceptable once, from the bottom. */
	for (uint32_t i = top - (uint32_t)W + 1; i < top; i++)
		assert_true(recv_seq(&w, i, NULL));
	for (uint32_t i = top - (uint32_t)W + 1; i <= top; i++)
		assert_false(esp_replay_check(&w, i, &s));
	/* One step of the top moves the bottom by one. */
	assert_true(recv_seq(&w, top + 1, NULL));
	assert_false(esp_replay_check(&w, top - (uint32_t)W + 1, &s));
	assert_false(esp_replay_update(&w, top - (uint32_t)W + 1));

	/* A window that has not filled yet accepts everything from 1. */
	esp_replay_init(&w, false);
	assert_true(recv_seq(&w, (uint32_t)W - 1, NULL));
	assert_true(esp_replay_check(&w, 1, &s));
	assert_true(recv_seq(&w, (uint32_t)W, NULL));
	assert_true(esp_replay_check(&w, 1, &s));
	assert_true(recv_seq(&w, (uint32_t)W + 1, NULL));
	assert_false(esp_replay_check(&w, 1, &s));
	assert_true(esp_replay_check(&w, 2, &s));
}

/* Jumps further than the window clear it; bits of numbers that left the
 * window are never mistaken for the numbers that share their slot. */
static void test_jumps(void **state)
{
	struct esp_replay w;
	uint64_t s;
	const uint64_t ring = 64 * ESP_REPLAY_WORDS;

	esp_replay_init(&w, false);
	for (uint32_t i = 1; i <= 3 * ring; i++)
		assert_true(recv_seq(&w, i, NULL));
	/* Far ahead: accepted; the whole old window is now too old. */
	assert_true(recv_seq(&w, (uint32_t)(3 * ring + 10 * W), NULL));
	for (uint32_t i = 1; i <= 3 * ring; i++)
		assert_false(esp_replay_check(&w, i, &s));
	/* Every number of the new window below the top is unseen. */
	for (uint64_t i = 3 * ring + 9 * W + 1; i < 3 * ring + 10 * W; i++)
		assert_true(esp_replay_check(&w, (uint32_t)i, &s));

	/* Jumps of every size around the ring length. */
	for (uint64_t jump = ring - 130; jump <= ring + 130; jump++) {
		uint64_t base = 100000;

		esp_replay_init(&w, false);
		for (uint64_t i = base - W + 1; i <= base; i++)
			assert_true(recv_seq(&w, (uint32_t)i, NULL));
		assert_true(recv_seq(&w, (uint32_t)(base + jump), NULL));
		for (uint64_t i = base + jump - W + 1; i < base + jump; i++) {
			bool seen = i <= base;

			assert_int_equal(esp_replay_check(&w, (uint32_t)i, &s),
					 !seen);
		}
	}
}

/* A packet whose ICV fails is checked but never recorded: the window
 * does not move and the number stays acceptable. */
static void test_no_update_without_icv(void **state)
{
	struct esp_replay w, before;
	uint64_t s;

	esp_replay_init(&w, false);
	for (uint32_t i = 1; i <= 100; i++)
		assert_true(recv_seq(&w, i, NULL));
	memcpy(&before, &w, sizeof(w));
	/* A forged far jump: checked, then dropped (no update). */
	assert_true(esp_replay_check(&w, 1000000, &s));
	assert_memory_equal(&w, &before, sizeof(w));
	/* Old numbers near 100 are still fine, 100 is still a duplicate. */
	assert_true(recv_seq(&w, 101, NULL));
	assert_false(esp_replay_check(&w, 100, &s));
	/* The real 1000000 later is accepted. */
	assert_true(recv_seq(&w, 1000000, NULL));
}

/* A duplicate that passed check() twice is caught by update(). */
static void test_update_rechecks(void **state)
{
	struct esp_replay w;
	uint64_t s1, s2;

	esp_replay_init(&w, false);
	assert_true(esp_replay_check(&w, 7, &s1));
	assert_true(esp_replay_check(&w, 7, &s2));
	assert_true(esp_replay_update(&w, s1));
	assert_false(esp_replay_update(&w, s2));
	/* Without ESN, nothing above 2^32 - 1. */
	assert_false(esp_replay_update(&w, (uint64_t)1 << 32));
	assert_true(recv_seq(&w, UINT32_MAX, NULL));
	assert_false(esp_replay_check(&w, UINT32_MAX, &s1));
	assert_false(esp_replay_check(&w, 0, &s1));
}

/* ------------------------------------------------------------------ */
/* Extended sequence numbers                                           */
/* ------------------------------------------------------------------ */

static void test_esn_wrap(void **state)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, true);
	assert_true(recv_seq(&w, 1, &s));
	assert_int_equal(s, 1);
	/* Up to the end of the first subspace, then across. */
	esp_replay_init(&w, true);
	assert_true(esp_replay_update(&w, 0xfffffff0));
	for (uint32_t i = 0xfffffff1; i != 0; i++) {
		assert_true(recv_seq(&w, i, &s));
		assert_int_equal(s, (uint64_t)i);
	}
	/* 0xffffffff -> 0x1_00000000: the low half 0 is the next one. */
	assert_true(recv_seq(&w, 0, &s));
	assert_int_equal(s, 0x100000000ULL);
	assert_true(recv_seq(&w, 1, &s));
	assert_int_equal(s, 0x100000001ULL);
	/* Late packets from before the wrap map to the old subspace. */
	assert_true(esp_replay_check(&w, 0xffffff00, &s));
	assert_int_equal(s, 0xffffff00ULL);
	assert_true(esp_replay_update(&w, s));
	/* Duplicates on both sides of the wrap. */
	assert_false(esp_replay_check(&w, 0xffffffff, &s));
	assert_false(esp_replay_check(&w, 0xffffff00, &s));
	assert_false(esp_replay_check(&w, 0, &s));
	assert_false(esp_replay_check(&w, 1, &s));
	/* The bottom of the window, across the wrap: top is 0x1_00000001,
	 * the window starts at 0x1_00000001 - W + 1. */
	s = 0;
	assert_true(
		esp_replay_check(&w, (uint32_t)(0x100000001ULL - W + 1), &s));
	assert_int_equal(s, 0x100000001ULL - W + 1);
	/* One below the bottom: RFC 4303 A2.2 reads it as subspace Th
	 * (far ahead, 0x1_fffff801); the ICV would then fail. */
	assert_true(esp_replay_check(&w, (uint32_t)(0x100000001ULL - W), &s));
	assert_int_equal(s, 0x100000000ULL + (uint32_t)(0x100000001ULL - W));
}

/* Window inside one subspace: low halves below it belong to the next. */
static void test_esn_inference(void **state)
{
	struct esp_replay w;
	uint64_t s;

	esp_replay_init(&w, true);
	assert_true(esp_replay_update(&w, 0x500000000ULL + 10000));
	assert_true(esp_replay_check(&w, 10001, &s));
	assert_int_equal(s, 0x500000000ULL + 10001);
	assert_true(esp_replay_check(&w, 10000 - (uint32_t)W + 1, &s));
	assert_int_equal(s, 0x500000000ULL + 10000 - W + 1);
	assert_true(esp_replay_check(&w, 5, &s));
	assert_int_equal(s, 0x600000005ULL);
	assert_true(esp_replay_check(&w, 0xfffffff0, &s));
	assert_int_equal(s, 0x5fffffff0ULL);
	assert_false(esp_replay_check(&w, 10000, &s));

	/* Window spanning two subspaces, at the very start: the upper low
	 * halves would be in subspace -1, which does not exist. */
	esp_replay_init(&w, true);
	assert_false(esp_replay_check(&w, 0xffffffff, &s));
	assert_false(esp_replay_check(&w, 0, &s));
	assert_true(esp_replay_check(&w, 1, &s));
	assert_int_equal(s, 1);

	/* The last subspace: nothing after 2^64 - 1. */
	esp_replay_init(&w, true);
	assert_true(esp_replay_update(&w, UINT64_MAX - 100));
	assert_true(esp_replay_check(&w, UINT32_MAX, &s));
	assert_int_equal(s, UINT64_MAX);
	assert_true(esp_replay_update(&w, s));
	assert_false(esp_replay_check(&w, UINT32_MAX, &s));
	assert_false(esp_replay_check(&w, 5, &s)); /* would be 2^64 + 5 */
	assert_true(esp_replay_check(&w, UINT32_MAX - 1, &s));
	assert_int_equal(s, UINT64_MAX - 1);
}

/* ------------------------------------------------------------------ */
/* Random run against a reference model                                */
/* ------------------------------------------------------------------ */

#define MODEL_MAX (1u << 24)

static uint8_t seen_model[MODEL_MAX / 8];

static bool model_fresh(uint64_t top, uint64_t s)
{
	if (s == 0 || s >= MODEL_MAX)
		return false;
	if (s + W <= top)
		return false;
	return !(seen_model[s / 8] & (1u << (s % 8)));
}

static void test_random_model(void **state)
{
	struct esp_replay w;
	uint64_t top = 0, s;
	unsigned int rnd = 12345;

	memset(seen_model, 0, sizeof(seen_model));
	esp_replay_init(&w, false);
	for (int n = 0; n < 400000; n++) {
		uint64_t cand;
		unsigned int r;
		bool want, icv_ok;

		rnd = rnd * 1103515245u + 12345u;
		r = rnd >> 8;
		switch (r % 8) {
		case 0: /* ahead, now and then further than the window */
			cand = top + 1 + (r % 64 ? r % (W / 4) : r % (3 * W));
			break;
		case 1: /* around the bottom edge */
			cand = top + 3 > W ? top - W + (r % 6) : 1 + r % 4;
			break;
		case 2: /* too old */
			cand = top > 3 * W ? top - W - r % W : 1;
			break;
		default: /* near the top, reordered */
			cand = top + 8 > 3 * W / 2 ? top + 8 - r % (3 * W / 2)
						   : 1 + r % (top + 8);
			break;
		}
		if (cand >= MODEL_MAX - 4 * W)
			break;
		want = model_fresh(top, cand);
		assert_int_equal(esp_replay_check(&w, (uint32_t)cand, &s),
				 want);
		if (!want)
			continue;
		assert_int_equal(s, cand);
		icv_ok = (r >> 12) % 10 != 0; /* 10% forged */
		if (!icv_ok)
			continue;
		assert_true(esp_replay_update(&w, s));
		seen_model[s / 8] |= (uint8_t)(1u << (s % 8));
		if (s > top)
			top = s;
		assert_int_equal(w.top, top);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_size),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_jumps),
		cmocka_unit_test(test_no_update_without_icv),
		cmocka_unit_test(test_update_rechecks),
		cmocka_unit_test(test_esn_wrap),
		cmocka_unit_test(test_esn_inference),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
