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
#include <arpa/inet.h>
#include <stdlib.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "ike/ike.h"
#include "util/bytes.h"

#define QLEN 64
#define MAXLOG 64

struct peer;

struct dgram {
	struct peer *to;
	struct ike_addr src, dst;
	size_t len;
	uint8_t buf[IKE_MSG_MAX];
};

struct peer {
	const char *name;
	struct ike_engine *eng;
	struct ike_conn conn;
	struct peer *other;
	uint32_t next_spi;
	bool drop_out; /* what this peer sends is lost */
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
};

static uint64_t clock_ms;
static struct dgram queue[QLEN];
static unsigned int qhead, qtail;
static struct peer A, B;

static void h_send(void *host, const struct ike_addr *local,
		   const struct ike_addr *remote, const uint8_t *buf,
		   size_t len)
{
	struct peer *p = host;
	struct dgram *d;

	if (p->nsent < MAXLOG)
		p->sent_at[p->nsent] = clock_ms;
	p->nsent++;
	if (p->drop_out)
		return;
	assert_true(qtail - qhead < QLEN);
	d = &queue[qtail++ % QLEN];
	d->to = p->other;
	d->src = *local;
	d->dst = *remote;
	d->len = len;
	memcpy(d->buf, buf, len);
}

static uint64_t h_now(void *host)
{
	return clock_ms;
}

static uint32_t h_spi(void *host)
{
	return ((struct peer *)host)->next_spi++;
}

static struct ike_conn *h_find(void *host, const struct ike_addr *local,
			       const struct ike_addr *remote)
{
	return &((struct peer *)host)->conn;
}

static void h_child_up(void *host, struct ike_sa *sa,
		       const struct ike_child_info *info)
{
	((struct peer *)host)->last_up_spi = info->spi_in;
}

static void h_child_down(void *host, struct ike_sa *sa, uint32_t spi_in,
			 uint32_t spi_out)
{
	struct peer *p = host;

	if (p->ndown < MAXLOG) {
		p->down[p->ndown].spi_in = spi_in;
		p->down[p->ndown].at = clock_ms;
	}
	p->ndown++;
}

static void h_event(void *host, struct ike_sa *sa, const char *reason)
{
	struct peer *p = host;

	if (reason) {
		p->last_reason = reason;
		p->last_reason_at = clock_ms;
	}
}

static const struct ike_ops ops = {
	.send = h_send,
	.now_ms = h_now,
	.alloc_spi = h_spi,
	.find_conn = h_find,
	.child_up = h_child_up,
	.child_down = h_child_down,
	.sa_event = h_event,
};

static void conn_init(struct ike_conn *c, const char *lip, const char *rip)
{
	uint8_t any[4] = { 0 };
	char err[512];

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "timers");
	c->local.family = c->remote.family = AF_INET;
	inet_pton(AF_INET, lip, c->local.addr);
	inet_pton(AF_INET, rip, c->remote.addr);
	c->psklen = 6;
	memcpy(c->psk, "secret", 6);
	assert_int_equal(vpn_proposal_parse("aes256gcm16-prfsha256-x25519",
					    VPN_PROPOSAL_IKE, &c->ike_props[0],
					    err, sizeof(err)),
			 0);
	assert_int_equal(vpn_proposal_parse("aes256gcm16", VPN_PROPOSAL_ESP,
					    &c->esp_props[0], err, sizeof(err)),
			 0);
	c->n_ike_props = c->n_esp_props = 1;
	c->ike_lifetime = 28800;
	c->child_lifetime = 3600;
	c->dpd_interval = 10;
	c->dpd_timeout = 30;
	ike_ts_from_prefix(&c->local_ts[0], AF_INET, any, 0);
	ike_ts_from_prefix(&c->remote_ts[0], AF_INET, any, 0);
	c->n_local_ts = c->n_remote_ts = 1;
}

static int setup(void **state)
{
	clock_ms = 1000000;
	qhead = qtail = 0;
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	A.name = "A";
	B.name = "B";
	A.other = &B;
	B.other = &A;
	A.next_spi = 0xa0000001;
	B.next_spi = 0xb0000001;
	conn_init(&A.conn, "192.0.2.1", "192.0.2.2");
	conn_init(&B.conn, "192.0.2.2", "192.0.2.1");
	A.eng = ike_engine_new(&ops, &A);
	B.eng = ike_engine_new(&ops, &B);
	return 0;
}

static int teardown(void **state)
{
	ike_engine_free(A.eng);
	ike_engine_free(B.eng);
	return 0;
}

static void pump(void)
{
	while (qhead != qtail) {
		struct dgram *d = &queue[qhead++ % QLEN];

		ike_input(d->to->eng, &d->dst, &d->src, d->buf, d->len);
	}
}

/* Advance the clock in 100 ms ticks, delivering traffic, until `until`
 * (true) or ms have passed. */
static void run_for(uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 100) {
		clock_ms += 100;
		ike_tick(A.eng);
		ike_tick(B.eng);
		pump();
	}
}

static void establish(void)
{
	assert_non_null(ike_initiate(A.eng, &A.conn));
	pump();
	assert_non_null(A.last_up_spi);
	assert_non_null(B.last_up_spi);
	/* the first tick after set-up files each SA at its deadlines */
	A.nsent = B.nsent = 0;
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
	assert_int_equal(A.nsent, 0);
	run_for(100);
	assert_int_equal(A.nsent, 1);
	assert_int_equal(A.sent_at[0] - t0, 10000);
	/* answered: the next one 10 s after the answer */
	run_for(10000);
	assert_int_equal(A.nsent, 2);
	assert_int_equal(A.sent_at[1] - t0, 20000);
}

/* A half-open SA (the IKE_SA_INIT answer lost) expires in the first tick
 * past 32 retransmission bases (32 s). */
static void test_half_open_expiry_on_time(void **state)
{
	uint64_t t0 = clock_ms;

	B.drop_out = true;
	A.drop_out = false;
	assert_non_null(ike_initiate(A.eng, &A.conn));
	A.drop_out = true; /* A's retransmissions are lost */
	pump();
	run_for(32000);
	assert_null(B.last_reason);
	run_for(100);
	assert_non_null(B.last_reason);
	assert_string_equal(B.last_reason, "half-open IKE SA timed out");
	assert_int_equal(B.last_reason_at - t0, 32100);
}

/* Retransmissions of an unanswered request: 1, 2, 4, 8, 16 s apart. */
static void test_retransmits_on_time(void **state)
{
	uint64_t t0 = clock_ms;
	static const uint64_t want[] = { 0, 1000, 3000, 7000, 15000, 31000 };

	B.drop_out = true;
	A.drop_out = true;
	assert_non_null(ike_initiate(A.eng, &A.conn));
	run_for(40000);
	assert_int_equal(A.nsent, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(A.sent_at[i] - t0, want[i]);
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
	sa = ike_initiate(A.eng, &A.conn);
	assert_non_null(sa);
	pump();
	old_b = B.last_up_spi;
	A.conn.child_lifetime = B.conn.child_lifetime = 3600;
	assert_int_equal(ike_sa_rekey_child(sa), 0);
	clock_ms += 100;
	ike_tick(A.eng); /* A's CREATE_CHILD_SA */
	pump();		 /* B answers; A installs, and queues the DELETE */
	assert_int_not_equal(B.last_up_spi, old_b);
	A.drop_out = true; /* the DELETE and anything after is lost */
	for (uint64_t t = 200; t < 66000; t += 100) {
		clock_ms += 100;
		ike_tick(A.eng);
		ike_tick(B.eng);
		pump();
		for (unsigned int i = 0; i < B.ndown && i < MAXLOG; i++)
			if (B.down[i].spi_in == old_b)
				fail_msg("old Child SA removed after %" PRIu64
					 " ms, before its expiry",
					 B.down[i].at - t_old);
	}
	clock_ms += 100;
	ike_tick(B.eng);
	for (unsigned int i = 0; i < B.ndown && i < MAXLOG; i++)
		if (B.down[i].spi_in == old_b) {
			assert_int_equal(B.down[i].at - t_old, 66000);
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
