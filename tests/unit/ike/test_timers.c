// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: the IKE engine's timers fire on time. ike_tick() looks only
 * at the SAs whose deadline has come (a heap of per-SA deadlines), so a
 * deadline the engine forgets to file would fire late, at some other
 * timer's wake-up, or never. Each test runs the clock in 100 ms ticks and
 * asserts the tick at which one timer acts: a liveness check after
 * dpd_interval of silence, a half-open SA's expiry, a replaced Child SA
 * the peer never deleted removed at its hard expiry, retransmissions on
 * their backoff, a rekey at its lifetime.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "ike/ike.h"
#include "harness.h"

#define MAXLOG 64

/* What each peer did, and when (virtual clock). */
static struct {
	uint64_t sent_at[MAXLOG];
	unsigned int nsent;
	struct {
		uint32_t spi_in;
		uint64_t at;
	} down[MAXLOG];
	unsigned int ndown;
	uint32_t last_up_spi;
	const char *last_reason;
	uint64_t last_reason_at;
} rec[2];

#define R(p) (&rec[(p) == &A ? 0 : 1])

/* Datagrams p sent since the last look (lost ones too), stamped now. */
static void note_sent(struct peer *p, unsigned int *seen)
{
	for (; *seen < p->sent; (*seen)++) {
		if (R(p)->nsent < MAXLOG)
			R(p)->sent_at[R(p)->nsent] = clock_ms;
		R(p)->nsent++;
	}
}

static unsigned int seen_a, seen_b;

static void child_up(struct peer *p, struct ike_sa *sa,
		     const struct ike_child_info *info)
{
	R(p)->last_up_spi = info->spi_in;
}

static void child_down(struct peer *p, struct ike_sa *sa, uint32_t spi_in,
		       uint32_t spi_out)
{
	if (R(p)->ndown < MAXLOG) {
		R(p)->down[R(p)->ndown].spi_in = spi_in;
		R(p)->down[R(p)->ndown].at = clock_ms;
	}
	R(p)->ndown++;
}

static void sa_event(struct peer *p, struct ike_sa *sa, const char *reason)
{
	if (reason) {
		R(p)->last_reason = reason;
		R(p)->last_reason_at = clock_ms;
	}
}

static const struct h_config cfg = {
	.conn = { .name = "timers" },
	.pump_max = 100,
	.hooks = { .child_up = child_up,
		   .child_down = child_down, .sa_event = sa_event },
	.fail = h_fail_cmocka,
};

static int setup(void **state)
{
	memset(rec, 0, sizeof(rec));
	seen_a = seen_b = 0;
	h_setup(&cfg);
	return 0;
}

static int teardown(void **state)
{
	h_teardown();
	return 0;
}

static void note_both(void)
{
	note_sent(&A, &seen_a);
	note_sent(&B, &seen_b);
}

/* Advance the clock in 100 ms ticks, delivering traffic. */
static void run_for(uint64_t ms)
{
	h_run_for(ms, note_both);
}

static void establish(void)
{
	assert_non_null(h_initiate(&A));
	h_pump();
	assert_int_not_equal(R(&A)->last_up_spi, 0);
	assert_int_not_equal(R(&B)->last_up_spi, 0);
	seen_a = A.sent;
	seen_b = B.sent;
}

/* After dpd_interval (10 s) without a message from the peer, each side
 * sends a liveness check: in the first tick past it. */
static void test_dpd_on_time(void **state)
{
	uint64_t t0;

	B.conn.dpd_interval = 0; /* only A checks */
	establish();
	t0 = clock_ms;
	run_for(9900);
	assert_int_equal(R(&A)->nsent, 0);
	run_for(100);
	assert_int_equal(R(&A)->nsent, 1);
	assert_int_equal(R(&A)->sent_at[0] - t0, 10000);
	/* answered: the next one 10 s after the answer */
	run_for(10000);
	assert_int_equal(R(&A)->nsent, 2);
	assert_int_equal(R(&A)->sent_at[1] - t0, 20000);
}

/* A half-open SA (the IKE_SA_INIT answer lost) expires in the first tick
 * past 32 retransmission bases (32 s). */
static void test_half_open_expiry_on_time(void **state)
{
	uint64_t t0 = clock_ms;

	assert_non_null(h_initiate(&A));
	A.unreachable = true; /* B's answer is lost */
	B.unreachable = true; /* and A's retransmissions */
	h_pump();
	run_for(32000);
	assert_null(R(&B)->last_reason);
	run_for(100);
	assert_non_null(R(&B)->last_reason);
	assert_string_equal(R(&B)->last_reason, "half-open IKE SA timed out");
	assert_int_equal(R(&B)->last_reason_at - t0, 32100);
}

/* Retransmissions of an unanswered request: 1, 2, 4, 8, 16 s apart. */
static void test_retransmits_on_time(void **state)
{
	uint64_t t0 = clock_ms;
	static const uint64_t want[] = { 0, 1000, 3000, 7000, 15000, 31000 };

	B.unreachable = true;
	assert_non_null(h_initiate(&A));
	note_sent(&A, &seen_a);
	run_for(40000);
	assert_int_equal(R(&A)->nsent, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(R(&A)->sent_at[i] - t0, want[i]);
}

/* B answers A's Child SA rekey, then never hears A's DELETE for the old
 * one: B removes the replaced Child SA at its hard expiry (lifetime x
 * 1.1), in the first tick past it, not at some later wake-up. */
static void test_replaced_child_expiry_on_time(void **state)
{
	uint32_t old_b;
	struct ike_sa *sa = NULL;
	uint64_t t_old;

	/* B's first Child SA lives 60 s (hard expiry 66 s); the one that
	 * replaces it an hour, so B starts no rekey of its own meanwhile
	 * (an outstanding request would hold the removal back) */
	A.conn.child_lifetime = B.conn.child_lifetime = 60;
	A.conn.dpd_interval = B.conn.dpd_interval = 0;
	t_old = clock_ms;
	sa = h_initiate(&A);
	assert_non_null(sa);
	h_pump();
	old_b = R(&B)->last_up_spi;
	A.conn.child_lifetime = B.conn.child_lifetime = 3600;
	assert_int_equal(ike_sa_rekey_child(sa), 0);
	clock_ms += 100;
	h_tick(&A); /* A's CREATE_CHILD_SA */
	h_pump();   /* B answers; A installs, and queues the DELETE */
	assert_int_not_equal(R(&B)->last_up_spi, old_b);
	B.unreachable = true; /* the DELETE and anything after is lost */
	for (uint64_t t = 200; t < 66000; t += 100) {
		clock_ms += 100;
		h_tick(&A);
		h_tick(&B);
		h_pump();
		for (unsigned int i = 0; i < R(&B)->ndown && i < MAXLOG; i++)
			if (R(&B)->down[i].spi_in == old_b)
				fail_msg("old Child SA removed after %" PRIu64
					 " ms, before its expiry",
					 R(&B)->down[i].at - t_old);
	}
	clock_ms += 100;
	h_tick(&B);
	for (unsigned int i = 0; i < R(&B)->ndown && i < MAXLOG; i++)
		if (R(&B)->down[i].spi_in == old_b) {
			assert_int_equal(R(&B)->down[i].at - t_old, 66000);
			return;
		}
	fail_msg("old Child SA %08x not removed at its hard expiry", old_b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dpd_on_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_half_open_expiry_on_time,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmits_on_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_replaced_child_expiry_on_time, setup, teardown),
	};

	vpn_crypto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
