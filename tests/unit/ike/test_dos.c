// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: the IKE engine's defences against unauthenticated load
 * (struct ike_dos_config): cookies above a global and a per-address
 * count of half-open SAs, per-address blocking, the global half-open cap,
 * the per-peer IKE SA limit, cookie secret rotation, the datagram size
 * limit, rate-limited logs, the counters of `show vpn ike statistics`,
 * and the per-address accounting that all of them rest on (nothing
 * leaks when SAs go away, thousands of SAs are found by SPI).
 *
 * Engine A (initiator) makes real IKE_SA_INIT requests; the test hands
 * them to engine B (responder) from whatever address it wants.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "ike/dos.h"
#include "ike/ike.h"
#include "util/bytes.h"

#include "harness.h"

static unsigned int log_lines;
static char last_log[1024], prev_log[1024];

static void log_b(struct peer *p, int level, const char *msg)
{
	if (p == &B) {
		log_lines++;
		memcpy(prev_log, last_log, sizeof(prev_log));
		snprintf(last_log, sizeof(last_log), "%s", msg);
	}
}

/* Every address may talk to the one connection (a test picks senders). */
static const struct h_config cfg = {
	.conn = { .name = "dos", .no_dpd = true },
	.find = H_FIND_ANY,
	.pump_max = 100,
	.hooks = { .log = log_b },
	.fail = h_fail_cmocka,
};

static int setup(void **state)
{
	log_lines = 0;
	h_setup(&cfg);
	return 0;
}

static int teardown(void **state)
{
	h_teardown();
	return 0;
}

static struct ike_addr addr(unsigned int n)
{
	struct ike_addr a = { .family = AF_INET, .port = IKE_PORT };

	vpn_put_be32(a.addr, 0xc6120000u + n); /* 198.18.0.0/15 */
	return a;
}

static struct dgram *pop(void)
{
	assert_true(!h_queue_empty());
	return h_pop();
}

/* A's next datagram, handed to B as if sent from `from`. */
static void to_b_from(const struct ike_addr *from)
{
	struct dgram *d = pop();

	assert_ptr_equal(d->to, &B);
	ike_input(B.eng, &d->dst, from, d->buf, d->len);
}

/* A new IKE_SA_INIT request from A, given to B from `from`. */
static void init_from(const struct ike_addr *from)
{
	assert_non_null(ike_initiate(A.eng, &A.conn));
	to_b_from(from);
}

static uint16_t notify_type(const struct dgram *d)
{
	static struct ike_msg msg;

	assert_int_equal(ike_parse(d->buf, d->len, &msg), IKE_PARSE_OK);
	for (uint16_t t = 1; t < 50; t++) /* error types */
		if (ike_msg_notify(&msg, t))
			return t;
	for (uint16_t t = 16384; t < 16400; t++)
		if (ike_msg_notify(&msg, t))
			return t;
	return 0;
}

/* B's answer: a COOKIE notify (true: it goes back to A, which retries
 * with it) or an IKE_SA_INIT response (false: A never sees it, so B's SA
 * stays half-open). */
static bool answer_is_cookie(void)
{
	struct dgram *d = pop();
	bool cookie = notify_type(d) == IKE_N_COOKIE;

	assert_ptr_equal(d->to, &A);
	if (cookie)
		ike_input(A.eng, &d->dst, &d->src, d->buf, d->len);
	return cookie;
}

static struct ike_stats stats(void)
{
	struct ike_stats st;

	ike_engine_get_stats(B.eng, &st);
	return st;
}

static void set_dos(void (*edit)(struct ike_dos_config *))
{
	struct ike_dos_config cfg;

	ike_engine_get_dos(B.eng, &cfg);
	edit(&cfg);
	ike_engine_set_dos(B.eng, &cfg);
}

/* ------------------------------------------------------------------ */

static void test_defaults(void **state)
{
	struct ike_dos_config cfg;

	ike_engine_get_dos(B.eng, &cfg);
	assert_int_equal(cfg.cookie_threshold, 30);
	assert_int_equal(cfg.cookie_threshold_ip, 3);
	assert_int_equal(cfg.block_threshold, 5);
	assert_int_equal(cfg.half_open_limit, 1000);
	assert_int_equal(cfg.peer_sa_limit, 8);
	assert_int_equal(cfg.cookie_lifetime_s, 120);
	assert_int_equal(cfg.max_packet, 10000);
}

/* Three half-open SAs from one address: the fourth request from it must
 * bring a cookie; another address is not affected. With the cookie it
 * gets in, until the address has five (block threshold): then even a
 * valid cookie is dropped, without an answer. */
static void test_cookie_per_address_and_block(void **state)
{
	struct ike_addr x = addr(1), y = addr(2);

	for (int i = 0; i < 3; i++) {
		init_from(&x);
		assert_false(answer_is_cookie());
	}
	assert_int_equal(stats().half_open, 3);
	init_from(&y); /* another address: no cookie needed */
	assert_false(answer_is_cookie());
	init_from(&x);
	assert_true(answer_is_cookie()); /* A retries with the cookie */
	assert_int_equal(stats().cookies_sent, 1);
	assert_int_equal(stats().half_open, 4);
	to_b_from(&x); /* the retry carries B's cookie: accepted */
	assert_false(answer_is_cookie());
	assert_int_equal(stats().half_open, 5);
	init_from(&x);
	assert_true(answer_is_cookie());
	to_b_from(&x);
	assert_false(answer_is_cookie()); /* x: 5 half-open now */
	init_from(&x);
	assert_true(answer_is_cookie());
	to_b_from(&x); /* valid cookie, but x is at the block threshold */
	assert_true(h_queue_empty());
	assert_int_equal(stats().drop_blocked, 1);
	assert_int_equal(stats().half_open, 6);
	assert_int_equal(stats().cookies_invalid, 0);
}

/* 30 half-open SAs in all (from addresses under the per-address
 * threshold): every new address must bring a cookie. */
static void test_cookie_global(void **state)
{
	for (unsigned int i = 0; i < 30; i++) {
		struct ike_addr a = addr(100 + i / 2);

		init_from(&a);
		assert_false(answer_is_cookie());
	}
	struct ike_addr n = addr(999);

	init_from(&n);
	assert_true(answer_is_cookie());
	to_b_from(&n);
	assert_false(answer_is_cookie());
	assert_int_equal(stats().half_open, 31);
}

static void cfg_cookies_always(struct ike_dos_config *c)
{
	c->cookie_threshold = 0;
}

/* A cookie that is not ours gets a new COOKIE, counted as invalid. */
static void test_forged_cookie(void **state)
{
	static struct ike_msg msg;
	struct ike_addr x = addr(1);
	struct dgram *d;
	size_t off;

	set_dos(cfg_cookies_always);
	init_from(&x);
	assert_true(answer_is_cookie());
	d = pop(); /* A's retry with the cookie: spoil one byte of it */
	assert_int_equal(ike_parse(d->buf, d->len, &msg), IKE_PARSE_OK);
	off = (size_t)(ike_msg_notify(&msg, IKE_N_COOKIE)->data - d->buf);
	d->buf[off] ^= 1;
	ike_input(B.eng, &d->dst, &x, d->buf, d->len);
	assert_int_equal(notify_type(pop()), IKE_N_COOKIE);
	assert_int_equal(stats().cookies_invalid, 1);
	assert_int_equal(stats().half_open, 0);
}

static void cfg_no_cookies_cap_10(struct ike_dos_config *c)
{
	c->cookie_threshold = c->cookie_threshold_ip = 100000;
	c->half_open_limit = 10;
}

/* The global half-open cap drops new requests, cookie or not. */
static void test_half_open_limit(void **state)
{
	set_dos(cfg_no_cookies_cap_10);
	for (unsigned int i = 0; i < 10; i++) {
		struct ike_addr a = addr(i);

		init_from(&a);
		assert_false(answer_is_cookie());
	}
	struct ike_addr a = addr(50);

	init_from(&a);
	assert_true(h_queue_empty());
	assert_int_equal(stats().drop_half_open_limit, 1);
	assert_int_equal(stats().half_open, 10);
	/* half-open SAs expire; then requests get in again */
	clock_ms += 40000;
	ike_tick(B.eng);
	assert_int_equal(stats().half_open, 0);
	assert_int_equal(stats().half_open_expired, 10);
	init_from(&a);
	assert_false(answer_is_cookie());
}

static void cfg_peer_limit_2(struct ike_dos_config *c)
{
	c->peer_sa_limit = 2;
}

/* Two established IKE SAs with one peer address: a third IKE_SA_INIT
 * from it is dropped; one going away makes room again. */
static void test_peer_sa_limit(void **state)
{
	struct ike_sa *sa;

	set_dos(cfg_peer_limit_2);
	for (int i = 0; i < 2; i++) {
		assert_non_null(ike_initiate(A.eng, &A.conn));
		h_pump();
	}
	assert_int_equal(B.established, 2);
	sa = ike_initiate(A.eng, &A.conn);
	assert_non_null(sa);
	h_pump();
	assert_int_equal(B.established, 2);
	assert_int_equal(stats().drop_peer_sa_limit, 1);
	assert_int_equal(stats().ike_sas, 2);
	ike_conn_down(B.eng, &B.conn, false);
	h_pump();
	assert_int_equal(stats().ike_sas, 0);
	assert_non_null(ike_initiate(A.eng, &A.conn));
	h_pump();
	assert_int_equal(B.established, 3);
}

/* An IKE_SA_INIT request without SA, KE and nonce: answered with
 * INVALID_SYNTAX, nothing kept, counted as malformed. */
static void test_init_without_payloads(void **state)
{
	struct ike_addr x = addr(1);
	uint8_t msg[28] = { 0 };

	msg[0] = 0x42; /* SPIi */
	msg[17] = 0x20;
	msg[18] = 34; /* IKE_SA_INIT */
	msg[19] = 0x08; /* initiator */
	vpn_put_be32(msg + 24, sizeof(msg));
	h_input(&B, &B.conn.local, &x, msg, sizeof(msg));
	assert_int_equal(notify_type(pop()), IKE_N_INVALID_SYNTAX);
	assert_true(h_queue_empty());
	assert_int_equal(stats().drop_malformed, 1);
	assert_int_equal(stats().half_open, 0);
	assert_int_equal(stats().ike_sas, 0);
}

/* Datagrams above max-packet are dropped before they are parsed. */
static void test_max_packet(void **state)
{
	static uint8_t big[IKE_DOS_MAX_PACKET + 1];
	struct ike_addr x = addr(1);
	struct dgram *d;

	assert_non_null(ike_initiate(A.eng, &A.conn));
	d = pop();
	memcpy(big, d->buf, d->len);
	vpn_put_be32(big + 24, sizeof(big)); /* header length: all of it */
	ike_input(B.eng, &d->dst, &x, big, sizeof(big));
	assert_true(h_queue_empty());
	assert_int_equal(stats().drop_too_large, 1);
	assert_int_equal(stats().drop_malformed, 0);
	assert_int_equal(stats().half_open, 0);
	/* one byte less is read (and found malformed: padding after the
	 * last payload) */
	vpn_put_be32(big + 24, sizeof(big) - 1);
	ike_input(B.eng, &d->dst, &x, big, sizeof(big) - 1);
	assert_int_equal(stats().drop_too_large, 1);
	assert_int_equal(stats().rx, 2);
}

/* 1000 messages with unknown SPIs in one second: at most
 * IKE_DOS_LOG_PER_S log lines; the next second says how many were held
 * back. Every one is counted. */
static void test_log_rate_limit(void **state)
{
	struct ike_addr x = addr(1);
	uint8_t msg[28] = { 0 };

	msg[0] = 1; /* SPIi */
	msg[8] = 2; /* SPIr */
	msg[17] = 0x20;
	msg[18] = 37; /* INFORMATIONAL */
	vpn_put_be32(msg + 24, sizeof(msg));
	for (int i = 0; i < 1000; i++) {
		uint8_t buf[28];

		memcpy(buf, msg, sizeof(buf));
		ike_input(B.eng, &B.conn.local, &x, buf, sizeof(buf));
	}
	assert_int_equal(stats().drop_unknown_spi, 1000);
	assert_true(log_lines <= IKE_DOS_LOG_PER_S);
	assert_int_equal(stats().log_suppressed, 1000 - log_lines);
	clock_ms += 1000;
	log_lines = 0;
	ike_input(B.eng, &B.conn.local, &x, msg, sizeof(msg));
	assert_int_equal(log_lines, 2);
	assert_non_null(strstr(prev_log, "990 log lines about unauthenticated"));
	assert_non_null(strstr(last_log, "unknown SPIs"));
}

static void count_sa(struct ike_sa *sa, void *arg)
{
	assert_ptr_equal(ike_sa_conn(sa), &B.conn);
	(*(unsigned int *)arg)++;
}

static void cfg_open(struct ike_dos_config *c)
{
	c->cookie_threshold = c->cookie_threshold_ip = 100000;
	c->block_threshold = c->half_open_limit = 0;
}

/* 3000 half-open SAs from 1500 addresses: each one's retransmitted
 * request is recognised (found by the peer's SPI) and answered again,
 * a different request with the same SPI is not; when they expire,
 * nothing is left in the per-address accounting. */
static void test_many_half_open(void **state)
{
	enum { N = 3000 };
	static struct dgram reqs[N];

	set_dos(cfg_open);
	for (unsigned int i = 0; i < N; i++) {
		struct ike_addr a = addr(i / 2);

		assert_non_null(ike_initiate(A.eng, &A.conn));
		reqs[i] = *pop();
		ike_input(B.eng, &reqs[i].dst, &a, reqs[i].buf, reqs[i].len);
		assert_false(answer_is_cookie());
		h_queue_clear();
	}
	assert_int_equal(stats().half_open, N);
	assert_int_equal(stats().ike_sas, N);
	/* the per-connection index has each of them, and nothing else */
	{
		unsigned int n = 0;
		struct ike_conn other;

		ike_foreach_conn_sa(B.eng, &B.conn, count_sa, &n);
		assert_int_equal(n, N);
		n = 0;
		ike_foreach_conn_sa(B.eng, &other, count_sa, &n);
		assert_int_equal(n, 0);
	}
	for (unsigned int i = 0; i < N; i += 7) {
		struct ike_addr a = addr(i / 2);

		ike_input(B.eng, &reqs[i].dst, &a, reqs[i].buf, reqs[i].len);
		pop();
		assert_true(h_queue_empty());
	}
	assert_int_equal(stats().retransmits_answered, (N + 6) / 7);
	/* same SPI, another nonce byte: not the request we answered */
	reqs[0].buf[reqs[0].len - 1] ^= 1;
	{
		struct ike_addr a = addr(0);

		ike_input(B.eng, &reqs[0].dst, &a, reqs[0].buf, reqs[0].len);
	}
	assert_true(h_queue_empty());
	assert_int_equal(stats().half_open, N);
	clock_ms += 40000;
	ike_tick(B.eng);
	assert_int_equal(stats().half_open, 0);
	assert_int_equal(stats().ike_sas, 0);
}

/* ------------------------------------------------------------------ */
/* The accounting module itself                                        */
/* ------------------------------------------------------------------ */

static void test_dos_counts_and_release(void **state)
{
	struct ike_dos d;
	struct ike_addr a = addr(1), b = addr(2);
	struct ike_addr v6 = { .family = AF_INET6 };

	assert_int_equal(ike_dos_init(&d, 0), 0);
	memcpy(v6.addr, a.addr, 4); /* same first bytes, other family */
	ike_dos_inc(&d, &a, IKE_DOS_HALF_OPEN);
	ike_dos_inc(&d, &a, IKE_DOS_HALF_OPEN);
	ike_dos_inc(&d, &a, IKE_DOS_PEER_SA);
	ike_dos_inc(&d, &b, IKE_DOS_HALF_OPEN);
	ike_dos_inc(&d, &v6, IKE_DOS_HALF_OPEN);
	assert_int_equal(ike_dos_count(&d, &a, IKE_DOS_HALF_OPEN), 2);
	assert_int_equal(ike_dos_count(&d, &a, IKE_DOS_PEER_SA), 1);
	assert_int_equal(ike_dos_count(&d, &v6, IKE_DOS_HALF_OPEN), 1);
	assert_int_equal(ike_dos_count(&d, NULL, IKE_DOS_HALF_OPEN), 4);
	assert_int_equal(ike_dos_addresses(&d), 3);
	ike_dos_dec(&d, &a, IKE_DOS_HALF_OPEN);
	ike_dos_dec(&d, &a, IKE_DOS_HALF_OPEN);
	assert_int_equal(ike_dos_addresses(&d), 3); /* a still has a peer SA */
	ike_dos_dec(&d, &a, IKE_DOS_PEER_SA);
	ike_dos_dec(&d, &b, IKE_DOS_HALF_OPEN);
	ike_dos_dec(&d, &v6, IKE_DOS_HALF_OPEN);
	assert_int_equal(ike_dos_addresses(&d), 0);
	assert_int_equal(ike_dos_count(&d, NULL, IKE_DOS_HALF_OPEN), 0);
	ike_dos_dec(&d, &b, IKE_DOS_HALF_OPEN); /* underflow: ignored */
	assert_int_equal(ike_dos_count(&d, NULL, IKE_DOS_HALF_OPEN), 0);
	ike_dos_fini(&d);
}

static enum ike_dos_verdict check(struct ike_dos *d, uint64_t t,
				  const uint8_t *cookie, uint8_t *out)
{
	static const uint8_t nonce[32] = { 7 };
	struct ike_addr a = addr(1);
	bool bad;

	return ike_dos_check_init(d, t, &a, 0x1234, nonce, sizeof(nonce),
				  cookie, cookie ? IKE_DOS_COOKIE_LEN : 0, out,
				  &bad);
}

/* The secret rotates every cookie_lifetime_s; a cookie from just before
 * a rotation still works after it, and not after the next one. */
static void test_cookie_rotation(void **state)
{
	struct ike_dos d;
	uint8_t c0[IKE_DOS_COOKIE_LEN], c[IKE_DOS_COOKIE_LEN];
	uint8_t x[IKE_DOS_COOKIE_LEN];

	assert_int_equal(ike_dos_init(&d, 0), 0);
	d.cfg.cookie_threshold = 0; /* always */
	assert_int_equal(check(&d, 1000, NULL, c0), IKE_DOS_V_COOKIE);
	assert_int_equal(check(&d, 119000, c0, c), IKE_DOS_V_ACCEPT);
	/* rotated at 120 s: the old secret is still accepted */
	assert_int_equal(check(&d, 130000, c0, c), IKE_DOS_V_ACCEPT);
	assert_memory_not_equal(c, c0, sizeof(c)); /* new cookies differ */
	/* rotated again at 250 s: c0 is too old; c (from 130 s) is fine */
	assert_int_equal(check(&d, 251000, c0, x), IKE_DOS_V_COOKIE);
	assert_int_equal(check(&d, 252000, c, x), IKE_DOS_V_ACCEPT);
	/* a long quiet spell: both secrets are new */
	assert_int_equal(check(&d, 2000000, c, x), IKE_DOS_V_COOKIE);
	ike_dos_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_cookie_per_address_and_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_global, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forged_cookie, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_half_open_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_peer_sa_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_init_without_payloads,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_packet, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_rate_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_half_open, setup,
						teardown),
		cmocka_unit_test(test_dos_counts_and_release),
		cmocka_unit_test(test_cookie_rotation),
	};

	vpn_crypto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
