// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: unauthenticated messages injected into IKE SAs in every
 * state (the libreswan CVE-2019-12312 class): exchange type x flags x
 * message ID x SPIs x body, one message at a time, each from the peer's
 * own address. None may crash the engine (the ASan build checks) or
 * change anything: the SAs' status, the host's callbacks (no Child SA
 * installed or removed, no IKE SA event). At most one datagram may be
 * sent per injected one (a stateless error notify), and afterwards the
 * real exchange still completes as if nothing had been injected.
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
#include "ike/ike.h"
#include "util/bytes.h"

#include "harness.h"

#define MAX_SA 8

static const struct h_config cfg = {
	.conn = { .name = "inject" },
	.find = H_FIND_BY_ADDR,
	.qlimit = 16,
	.fail = h_fail_cmocka,
};

static int setup(void **state)
{
	h_setup(&cfg);
	return 0;
}

static int teardown(void **state)
{
	h_teardown();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */
/* ------------------------------------------------------------------ */

struct snap {
	unsigned int n;
	struct ike_sa_status st[MAX_SA];
	unsigned int events;
};

static void snap_cb(struct ike_sa *sa, void *arg)
{
	struct snap *s = arg;

	assert_true(s->n < MAX_SA);
	memset(&s->st[s->n], 0, sizeof(s->st[0]));
	ike_sa_get_status(sa, &s->st[s->n++]);
}

static void snap_take(struct peer *p, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	ike_foreach_sa(p->eng, snap_cb, s);
	s->events = p->events;
}

static void snap_equal(const struct snap *a, const struct snap *b,
		       const char *what)
{
	if (a->n != b->n || a->events != b->events ||
	    memcmp(a->st, b->st, a->n * sizeof(a->st[0])))
		fail_msg("state changed by %s: SAs %u -> %u, host events %u -> %u",
			 what, a->n, b->n, a->events, b->events);
}

/* ------------------------------------------------------------------ */
/* Injection                                                           */
/* ------------------------------------------------------------------ */

static const uint8_t exchanges[] = { 34, 35, 36, 37, 0, 33, 38, 255 };
static const uint8_t flags[] = { 0x00, 0x08, 0x20, 0x28, 0x10, 0xff };
static const uint32_t msgids[] = { 0, 1, 2, 3, 0x7fffffff, 0xffffffff };

enum body {
	BODY_NONE,	/* header only */
	BODY_SK_EMPTY,	/* an SK payload with nothing in it */
	BODY_SK_ZERO,	/* an SK payload of 48 zero bytes */
	BODY_SK_RANDOM, /* an SK payload of 200 random bytes */
	BODY_COOKIE,	/* N(COOKIE) */
	BODY_INVALID_KE, /* N(INVALID_KE_PAYLOAD) for another group */
	BODY_MAX,
};

/* Build the message into buf (512 bytes); returns its length. */
static size_t build(uint8_t *buf, uint64_t spi_i, uint64_t spi_r,
		    uint8_t exch, uint8_t fl, uint32_t msgid, enum body body)
{
	size_t len = 28, plen = 0;
	uint8_t first = 0;

	memset(buf, 0, 512);
	vpn_put_be64(buf, spi_i);
	vpn_put_be64(buf + 8, spi_r);
	buf[17] = 0x20;
	buf[18] = exch;
	buf[19] = fl;
	vpn_put_be32(buf + 20, msgid);
	switch (body) {
	case BODY_NONE:
	case BODY_MAX:
		break;
	case BODY_SK_EMPTY:
	case BODY_SK_ZERO:
	case BODY_SK_RANDOM:
		first = 46; /* SK */
		buf[28] = 41; /* the first inner payload: N */
		plen = body == BODY_SK_EMPTY  ? 4
		       : body == BODY_SK_ZERO ? 52
					      : 204;
		if (body == BODY_SK_RANDOM)
			vpn_random(buf + 32, plen - 4);
		break;
	case BODY_COOKIE:
	case BODY_INVALID_KE:
		first = 41; /* N */
		plen = body == BODY_COOKIE ? 8 + 16 : 8 + 2;
		vpn_put_be16(buf + 34, body == BODY_COOKIE ? 16390 : 17);
		if (body == BODY_INVALID_KE)
			vpn_put_be16(buf + 36, 14);
		break;
	}
	if (plen)
		vpn_put_be16(buf + 30, (uint16_t)plen);
	buf[16] = first;
	len += plen;
	vpn_put_be32(buf + 24, (uint32_t)len);
	return len;
}

/* Bodies that an initiator without keys may act on (RFC 7296 2.6, 1.2):
 * a COOKIE once, INVALID_KE_PAYLOAD a bounded number of times; they
 * restart the exchange, so the pre-key test leaves them to their own. */
#define BODIES_ALL ((1u << BODY_MAX) - 1)
#define BODIES_INERT                                                           \
	(BODIES_ALL & ~(1u << BODY_COOKIE) & ~(1u << BODY_INVALID_KE))

/* Every combination into p, from its peer's address and port, with the
 * SPI pairs of p's SAs (and halves of them); bodies: a mask of enum
 * body. */
static void inject(struct peer *p, uint16_t port, unsigned int bodies)
{
	struct ike_addr from = p->conn.remote, to = p->conn.local;
	struct snap before, after;
	uint64_t spis[MAX_SA * 4][2];
	unsigned int nspis = 0;
	uint8_t buf[512];
	char what[160];

	from.port = to.port = port;
	snap_take(p, &before);
	for (unsigned int i = 0; i < before.n; i++) {
		const struct ike_sa_status *st = &before.st[i];

		memcpy(spis[nspis++], (uint64_t[2]){ st->spi_i, st->spi_r },
		       sizeof(spis[0]));
		memcpy(spis[nspis++], (uint64_t[2]){ st->spi_i, 0 },
		       sizeof(spis[0]));
		memcpy(spis[nspis++], (uint64_t[2]){ 0, st->spi_r },
		       sizeof(spis[0]));
		memcpy(spis[nspis++],
		       (uint64_t[2]){ st->spi_i, 0x1122334455667788ULL },
		       sizeof(spis[0]));
	}
	h_lose_all = true; /* answers to injected messages go nowhere */
	for (unsigned int s = 0; s < nspis; s++)
		for (size_t e = 0; e < sizeof(exchanges); e++)
			for (size_t f = 0; f < sizeof(flags); f++)
				for (size_t m = 0; m < 6; m++)
					for (int b = 0; b < BODY_MAX; b++) {
						if (!(bodies & (1u << b)))
							continue;
						size_t len = build(
							buf, spis[s][0],
							spis[s][1], exchanges[e],
							flags[f], msgids[m], b);
						unsigned int sent = p->sent;

						ike_input(p->eng, &to, &from,
							  buf, len);
						snprintf(what, sizeof(what),
							 "%s: spis %u exchange %u flags %#x msgid %u body %d",
							 p->name, s,
							 exchanges[e], flags[f],
							 msgids[m], b);
						snap_take(p, &after);
						snap_equal(&before, &after,
							   what);
						if (p->sent > sent + 1)
							fail_msg("%s: %u datagrams sent",
								 what,
								 p->sent - sent);
					}
	h_lose_all = false;
}

static void inject_all(struct peer *p, uint16_t port)
{
	inject(p, port, BODIES_ALL);
}

static void assert_established(struct peer *p, unsigned int n)
{
	struct snap s;

	snap_take(p, &s);
	assert_int_equal(s.n, n);
	for (unsigned int i = 0; i < s.n; i++)
		assert_int_equal(s.st[i].state, IKE_SA_ESTABLISHED);
}

/* A waits for the IKE_SA_INIT response: no keys yet. */
static void test_initiator_without_keys(void **state)
{
	assert_non_null(ike_initiate(A.eng, &A.conn));
	inject(&A, IKE_PORT, BODIES_INERT);
	inject(&A, IKE_NATT_PORT, BODIES_INERT);
	h_deliver(~0u); /* the real exchange goes on */
	assert_established(&A, 1);
	assert_established(&B, 1);
}

/* B has answered IKE_SA_INIT (half-open, keys derived); A waits for the
 * IKE_AUTH response. */
static void test_half_open_both_sides(void **state)
{
	assert_non_null(ike_initiate(A.eng, &A.conn));
	h_deliver(1); /* IKE_SA_INIT request to B */
	h_deliver(1); /* its response to A, which sends IKE_AUTH */
	inject_all(&B, IKE_NATT_PORT);
	inject_all(&A, IKE_NATT_PORT);
	h_deliver(~0u);
	assert_established(&A, 1);
	assert_established(&B, 1);
}

/* Both established. */
static void test_established(void **state)
{
	assert_non_null(ike_initiate(A.eng, &A.conn));
	h_deliver(~0u);
	assert_established(&A, 1);
	assert_established(&B, 1);
	inject_all(&A, IKE_NATT_PORT);
	inject_all(&B, IKE_NATT_PORT);
	/* still working: a liveness check goes through */
	ike_conn_probe(A.eng, &A.conn);
	h_deliver(~0u);
	assert_established(&A, 1);
	assert_established(&B, 1);
}

/* The response to our IKE_SA_INIT lost; B's half-open SA meets
 * injections while A retransmits. */
static void test_responder_half_open(void **state)
{
	assert_non_null(ike_initiate(A.eng, &A.conn));
	h_deliver(1); /* to B */
	assert_true(h_drop()); /* B's response lost */
	inject_all(&B, IKE_PORT);
	inject_all(&B, IKE_NATT_PORT);
	/* A retransmits; B answers the same; the exchange completes */
	clock_ms += 1500;
	ike_tick(A.eng);
	h_deliver(~0u);
	assert_established(&A, 1);
	assert_established(&B, 1);
}

/* One IKE_SA_INIT response of body b into A's waiting SA, as its
 * responder would send it; returns how many datagrams A sent. */
static unsigned int answer_init(enum body b, uint16_t group)
{
	struct ike_addr from = A.conn.remote, to = A.conn.local;
	unsigned int sent = A.sent;
	struct snap s;
	uint8_t buf[512];
	size_t len;

	snap_take(&A, &s);
	assert_int_equal(s.n, 1);
	len = build(buf, s.st[0].spi_i, 0x0102030405060708ULL, 34, 0x20, 0,
		    b);
	if (b == BODY_INVALID_KE)
		vpn_put_be16(buf + 36, group);
	from.port = to.port = IKE_PORT;
	ike_input(A.eng, &to, &from, buf, len);
	return A.sent - sent;
}

/* COOKIE and INVALID_KE_PAYLOAD answers are followed a bounded number of
 * times per attempt, then the attempt fails with a reason instead of
 * going back and forth for ever. */
static void test_cookie_invalid_ke_bounded(void **state)
{
	char err[512];
	struct snap s;

	assert_int_equal(vpn_proposal_parse("aes256gcm16-prfsha256-x25519-ecp256-ecp384",
					    VPN_PROPOSAL_IKE,
					    &A.conn.ike_props[0], err,
					    sizeof(err)),
			 0);
	h_lose_all = true;
	assert_non_null(ike_initiate(A.eng, &A.conn));
	assert_int_equal(answer_init(BODY_COOKIE, 0), 1);  /* followed */
	assert_int_equal(answer_init(BODY_COOKIE, 0), 0);  /* not again */
	assert_int_equal(answer_init(BODY_INVALID_KE, 19), 1);
	assert_int_equal(answer_init(BODY_INVALID_KE, 31), 1);
	assert_int_equal(answer_init(BODY_INVALID_KE, 20), 0); /* enough */
	assert_int_equal(answer_init(BODY_INVALID_KE, 19), 0);
	/* the attempt is still waiting (a forged answer does not end it),
	 * and ends with the refusal as its reason */
	snap_take(&A, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(A.events, 0);
	clock_ms += 2500;
	ike_tick(A.eng);
	snap_take(&A, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(A.events, 1);
}

/* The 32-byte message of the report: our SPIi, SPIr 0, message ID 0,
 * INFORMATIONAL, response, an empty SK payload, while IKE_SA_INIT waits
 * for its answer. */
static void test_pre_key_informational(void **state)
{
	struct ike_addr from = A.conn.remote, to = A.conn.local;
	struct snap before, after;
	uint8_t buf[512];
	size_t len;

	assert_non_null(ike_initiate(A.eng, &A.conn));
	snap_take(&A, &before);
	len = build(buf, before.st[0].spi_i, 0, 37, 0x20, 0, BODY_SK_EMPTY);
	assert_int_equal(len, 32);
	from.port = to.port = IKE_PORT;
	ike_input(A.eng, &to, &from, buf, len);
	snap_take(&A, &after);
	snap_equal(&before, &after, "the 32-byte pre-key message");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initiator_without_keys,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_open_both_sides,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_established, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_responder_half_open,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_invalid_ke_bounded,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pre_key_informational,
						setup, teardown),
	};

	if (vpn_crypto_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
