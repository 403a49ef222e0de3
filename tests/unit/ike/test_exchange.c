// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: IKEv2 exchanges between two vpnd engines in one process.
 * Datagrams go through a queue the test controls (deliver, drop); time is
 * a virtual clock. Checks both peers' view after every scenario.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "ike/ike.h"

#define MAX_CHILD 256
#define QLEN 64

struct peer;

struct dgram {
	struct peer *to;
	struct ike_addr src, dst;
	size_t len;
	uint8_t buf[IKE_MSG_MAX];
};

struct child_rec {
	bool up;
	struct ike_child_info info;
	uint64_t up_at, down_at;
};

struct peer {
	const char *name;
	struct ike_engine *eng;
	struct ike_conn conn;
	struct peer *other;
	uint32_t next_spi;
	struct child_rec child[MAX_CHILD];
	unsigned int nchild;
	unsigned int ups, downs;
	char log[64 * 1024];
	size_t loglen;
	const char *last_reason;
	unsigned int sent;
	unsigned int keepalives;
};

static uint64_t clock_ms;
static struct dgram queue[QLEN];
static unsigned int qhead, qtail;
static struct peer A, B;
static unsigned int drop_next; /* drop this many upcoming datagrams */
static bool drop_to_b;	       /* blackhole everything to B */

static void q_push(struct peer *to, const struct ike_addr *src,
		   const struct ike_addr *dst, const uint8_t *buf, size_t len)
{
	struct dgram *d;

	if (drop_next) {
		drop_next--;
		return;
	}
	if (drop_to_b && to == &B)
		return;
	assert_true(qtail - qhead < QLEN);
	d = &queue[qtail++ % QLEN];
	d->to = to;
	d->src = *src;
	d->dst = *dst;
	d->len = len;
	memcpy(d->buf, buf, len);
}

static void h_send(void *host, const struct ike_addr *local,
		   const struct ike_addr *remote, const uint8_t *buf,
		   size_t len)
{
	struct peer *p = host;

	p->sent++;
	q_push(p->other, local, remote, buf, len);
}

static uint64_t h_now(void *host)
{
	return clock_ms;
}

static uint32_t h_spi(void *host)
{
	struct peer *p = host;

	return p->next_spi++;
}

static struct ike_conn *h_find(void *host, const struct ike_addr *local,
			       const struct ike_addr *remote)
{
	struct peer *p = host;

	return memcmp(remote->addr, p->conn.remote.addr, 4) == 0 ? &p->conn
								  : NULL;
}

static void h_child_up(void *host, struct ike_sa *sa,
		       const struct ike_child_info *info)
{
	struct peer *p = host;

	assert_true(p->nchild < MAX_CHILD);
	p->child[p->nchild].up = true;
	p->child[p->nchild].info = *info;
	p->child[p->nchild].up_at = clock_ms;
	p->nchild++;
	p->ups++;
}

static void h_child_down(void *host, struct ike_sa *sa, uint32_t spi_in,
			 uint32_t spi_out)
{
	struct peer *p = host;

	for (unsigned int i = 0; i < p->nchild; i++)
		if (p->child[i].up && p->child[i].info.spi_in == spi_in) {
			p->child[i].up = false;
			p->child[i].down_at = clock_ms;
			p->downs++;
			return;
		}
	fail_msg("%s: child_down for unknown SPI %08x", p->name, spi_in);
}

static void h_event(void *host, struct ike_sa *sa, const char *reason)
{
	struct peer *p = host;

	if (reason)
		p->last_reason = reason;
}

static void h_keepalive(void *host, const struct ike_addr *local,
			const struct ike_addr *remote)
{
	struct peer *p = host;

	assert_int_equal(local->port, IKE_NATT_PORT);
	assert_int_equal(remote->port, IKE_NATT_PORT);
	p->keepalives++;
}

static void h_log(void *host, int level, const char *msg)
{
	struct peer *p = host;
	int n = snprintf(p->log + p->loglen, sizeof(p->log) - p->loglen,
			 "%s\n", msg);

	if (n > 0 && p->loglen + n < sizeof(p->log))
		p->loglen += n;
	if (getenv("IKE_TEST_VERBOSE"))
		fprintf(stderr, "[%s] %s\n", p->name, msg);
}

static const struct ike_ops ops = {
	.send = h_send,
	.now_ms = h_now,
	.alloc_spi = h_spi,
	.find_conn = h_find,
	.child_up = h_child_up,
	.child_down = h_child_down,
	.sa_event = h_event,
	.keepalive = h_keepalive,
	.log = h_log,
};

static void set_props(struct vpn_proposal *out, unsigned int *n,
		      enum vpn_proposal_kind kind, const char *const *strs)
{
	*n = 0;
	for (; *strs; strs++) {
		char err[512];

		if (vpn_proposal_parse(*strs, kind, &out[*n], err,
				       sizeof(err)) < 0)
			fail_msg("%s", err);
		(*n)++;
	}
}

static void conn_init(struct ike_conn *c, const char *name, const char *lip,
		      const char *rip, const char *psk)
{
	static const char *const ike[] = { "aes256gcm16-prfsha256-x25519",
					   NULL };
	static const char *const esp[] = { "aes256gcm16", NULL };
	uint8_t any[4] = { 0 };

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->local.family = c->remote.family = AF_INET;
	inet_pton(AF_INET, lip, c->local.addr);
	inet_pton(AF_INET, rip, c->remote.addr);
	c->psklen = strlen(psk);
	memcpy(c->psk, psk, c->psklen);
	set_props(c->ike_props, &c->n_ike_props, VPN_PROPOSAL_IKE, ike);
	set_props(c->esp_props, &c->n_esp_props, VPN_PROPOSAL_ESP, esp);
	c->ike_lifetime = 28800;
	c->child_lifetime = 3600;
	c->dpd_interval = 10;
	c->dpd_timeout = 30;
	ike_ts_from_prefix(&c->local_ts[0], AF_INET, any, 0);
	ike_ts_from_prefix(&c->remote_ts[0], AF_INET, any, 0);
	c->n_local_ts = c->n_remote_ts = 1;
}

static void peer_init(struct peer *p, const char *name, struct peer *other,
		      const char *lip, const char *rip, uint32_t spi_base)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->other = other;
	p->next_spi = spi_base;
	conn_init(&p->conn, name, lip, rip, "shared-secret");
	p->eng = ike_engine_new(&ops, p);
	assert_non_null(p->eng);
}

static int setup(void **state)
{
	clock_ms = 1000000;
	qhead = qtail = 0;
	drop_next = 0;
	drop_to_b = false;
	peer_init(&A, "A", &B, "192.0.2.1", "192.0.2.2", 0xa0000001);
	peer_init(&B, "B", &A, "192.0.2.2", "192.0.2.1", 0xb0000001);
	return 0;
}

static int teardown(void **state)
{
	ike_engine_free(A.eng);
	ike_engine_free(B.eng);
	return 0;
}

/* Deliver queued datagrams until none are left. */
static void pump(void)
{
	unsigned int guard = 0;

	while (qhead != qtail) {
		struct dgram *d = &queue[qhead++ % QLEN];
		uint8_t buf[IKE_MSG_MAX];

		assert_true(++guard < 1000);
		memcpy(buf, d->buf, d->len);
		/* the receiver sees the sender's address as remote */
		ike_input(d->to->eng, &d->dst, &d->src, buf, d->len);
	}
}

/* Advance the clock in 100 ms ticks, delivering traffic. */
static void run_for(uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 100) {
		clock_ms += 100;
		ike_tick(A.eng);
		ike_tick(B.eng);
		pump();
	}
}

static unsigned int up_children(const struct peer *p)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < p->nchild; i++)
		n += p->child[i].up;
	return n;
}

static const struct child_rec *newest_up(const struct peer *p)
{
	for (int i = (int)p->nchild - 1; i >= 0; i--)
		if (p->child[i].up)
			return &p->child[i];
	return NULL;
}

/* Both sides hold the same Child SA, mirrored. */
static void check_mirrored(void)
{
	const struct child_rec *a = newest_up(&A), *b = newest_up(&B);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->info.spi_out, b->info.spi_in);
	assert_int_equal(a->info.spi_in, b->info.spi_out);
	assert_int_equal(a->info.encr, b->info.encr);
	assert_int_equal(a->info.integ, b->info.integ);
	assert_int_equal(a->info.encr_keylen, b->info.encr_keylen);
	assert_memory_equal(a->info.encr_key_out, b->info.encr_key_in,
			    a->info.encr_keylen);
	assert_memory_equal(a->info.encr_key_in, b->info.encr_key_out,
			    a->info.encr_keylen);
	if (a->info.integ_keylen) {
		assert_memory_equal(a->info.integ_key_out,
				    b->info.integ_key_in,
				    a->info.integ_keylen);
		assert_memory_equal(a->info.integ_key_in,
				    b->info.integ_key_out,
				    a->info.integ_keylen);
	}
	assert_memory_not_equal(a->info.encr_key_in, a->info.encr_key_out,
				a->info.encr_keylen);
}

static void establish(void)
{
	assert_non_null(ike_initiate(A.eng, &A.conn));
	pump();
	assert_int_equal(up_children(&A), 1);
	assert_int_equal(up_children(&B), 1);
	check_mirrored();
}

static void test_establish(void **state)
{
	establish();
	assert_non_null(strstr(A.log, "IKE SA established"));
	assert_non_null(strstr(B.log, "IKE SA established"));
	assert_int_equal(newest_up(&A)->info.encr, VPN_ENCR_AES_GCM_16);
	assert_int_equal(newest_up(&A)->info.encr_keylen, 36);
}

/* Proposal combinations that together use every algorithm and group. */
static void test_proposal_matrix(void **state)
{
	static const char *const cases[][2] = {
		{ "aes128-sha1-modp1024", "aes128-sha1" },
		{ "aes256-sha256-modp2048", "aes256-sha256" },
		{ "aes192-sha384-ecp384", "aes192-sha384-esn" },
		{ "aes256-sha512-ecp521", "aes256-sha512" },
		{ "3des-sha1-modp1536", "3des-sha1" },
		{ "aes128gcm16-prfsha256-ecp256", "aes128gcm16" },
		{ "aes256gcm16-prfsha384-x25519", "aes256gcm16-esn" },
		{ "chacha20poly1305-prfsha512-modp3072", "chacha20poly1305" },
		{ "aes192gcm16-prfsha1-modp4096", "aes192gcm16" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *ike[] = { cases[i][0], NULL };
		const char *esp[] = { cases[i][1], NULL };

		teardown(state);
		setup(state);
		set_props(A.conn.ike_props, &A.conn.n_ike_props,
			  VPN_PROPOSAL_IKE, ike);
		set_props(B.conn.ike_props, &B.conn.n_ike_props,
			  VPN_PROPOSAL_IKE, ike);
		set_props(A.conn.esp_props, &A.conn.n_esp_props,
			  VPN_PROPOSAL_ESP, esp);
		set_props(B.conn.esp_props, &B.conn.n_esp_props,
			  VPN_PROPOSAL_ESP, esp);
		ike_initiate(A.eng, &A.conn);
		pump();
		if (up_children(&A) != 1 || up_children(&B) != 1)
			fail_msg("%s / %s did not establish:\nA:\n%s\nB:\n%s",
				 cases[i][0], cases[i][1], A.log, B.log);
		check_mirrored();
		assert_int_equal(newest_up(&A)->info.esn,
				 strstr(cases[i][1], "-esn") != NULL);
	}
}

static void test_wrong_psk(void **state)
{
	B.conn.psklen = 5;
	memcpy(B.conn.psk, "wrong", 5);
	ike_initiate(A.eng, &A.conn);
	pump();
	assert_int_equal(up_children(&A), 0);
	assert_int_equal(up_children(&B), 0);
	assert_non_null(strstr(B.log, "authentication failed"));
	assert_non_null(strstr(A.log, "authentication failed"));
	/* the key itself never appears in a log line */
	assert_null(strstr(A.log, "shared-secret"));
	assert_null(strstr(B.log, "shared-secret"));
	assert_null(strstr(B.log, "wrong"));
}

static void test_wrong_id(void **state)
{
	ike_id_parse("someone-else.example", &B.conn.remote_id_type,
		     B.conn.remote_id, &B.conn.remote_id_len);
	ike_initiate(A.eng, &A.conn);
	pump();
	assert_int_equal(up_children(&B), 0);
	assert_non_null(strstr(B.log, "is not the configured remote-id"));
}

static void test_no_proposal(void **state)
{
	static const char *const ike_b[] = { "aes128-sha1-modp2048", NULL };

	set_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		  ike_b);
	ike_initiate(A.eng, &A.conn);
	pump();
	assert_int_equal(up_children(&A), 0);
	assert_non_null(strstr(B.log, "no proposal chosen; peer offered "
				      "aes256gcm16-prfsha256-x25519; we "
				      "accept aes128-sha1-modp2048-prfsha1"));
	assert_non_null(strstr(A.log, "no proposal chosen"));
}

static void test_no_child_proposal(void **state)
{
	static const char *const esp_b[] = { "aes128-sha1", NULL };

	set_props(B.conn.esp_props, &B.conn.n_esp_props, VPN_PROPOSAL_ESP,
		  esp_b);
	ike_initiate(A.eng, &A.conn);
	pump();
	run_for(2000);
	assert_int_equal(up_children(&A), 0);
	assert_int_equal(up_children(&B), 0);
	assert_non_null(strstr(B.log, "Child SA failed: no proposal chosen"));
	assert_non_null(strstr(A.log, "Child SA failed: no proposal chosen"));
}

static void test_invalid_ke(void **state)
{
	static const char *const ike_a[] = {
		"aes256-sha256-ecp256-modp2048", NULL };
	static const char *const ike_b[] = { "aes256-sha256-modp2048", NULL };

	set_props(A.conn.ike_props, &A.conn.n_ike_props, VPN_PROPOSAL_IKE,
		  ike_a);
	set_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		  ike_b);
	establish();
	assert_non_null(strstr(A.log, "peer asked for DH group 14 instead of "
				      "19"));
}

static void test_cookie(void **state)
{
	ike_engine_set_cookie_threshold(B.eng, 0);
	establish();
	assert_non_null(strstr(A.log, "peer asked for a cookie"));
}

static void test_retransmit(void **state)
{
	/* lose the first IKE_SA_INIT request */
	drop_next = 1;
	ike_initiate(A.eng, &A.conn);
	pump();
	assert_int_equal(up_children(&A), 0);
	run_for(1500);
	assert_int_equal(up_children(&A), 1);
	assert_int_equal(up_children(&B), 1);
	check_mirrored();
}

static void test_unreachable(void **state)
{
	drop_to_b = true;
	ike_initiate(A.eng, &A.conn);
	run_for(70000);
	assert_non_null(strstr(A.log, "unreachable: no answer after 6 tries"));
	assert_string_equal(A.last_reason, "peer unreachable");
	assert_int_equal(A.sent, 6);
}

static void test_dpd(void **state)
{
	establish();
	/* idle but alive: liveness checks answered */
	run_for(25000);
	assert_int_equal(up_children(&A), 1);
	assert_true(B.sent > 2);
	drop_to_b = true;
	run_for(45000);
	assert_int_equal(up_children(&A), 0);
	assert_non_null(strstr(A.log, "is dead: no answer to liveness checks "
				      "for 30 s"));
	assert_string_equal(A.last_reason, "dead peer detected");
}

static void test_delete(void **state)
{
	establish();
	ike_conn_down(A.eng, &A.conn, false);
	pump();
	assert_int_equal(up_children(&A), 0);
	assert_int_equal(up_children(&B), 0);
	assert_string_equal(B.last_reason, "deleted by peer");
}

/* The new SA of a rekey is installed before the old one is removed. */
static void check_make_before_break(const struct peer *p)
{
	const struct child_rec *n = newest_up(p);

	for (unsigned int i = 0; i < p->nchild; i++)
		if (!p->child[i].up)
			assert_true(p->child[i].down_at >= n->up_at);
}

static void rekey_child_and_check(bool pfs)
{
	static const char *const esp_pfs[] = { "aes256gcm16-ecp256", NULL };
	struct ike_sa *sa;
	uint32_t old_a;

	if (pfs) {
		set_props(A.conn.esp_props, &A.conn.n_esp_props,
			  VPN_PROPOSAL_ESP, esp_pfs);
		set_props(B.conn.esp_props, &B.conn.n_esp_props,
			  VPN_PROPOSAL_ESP, esp_pfs);
	}
	sa = ike_initiate(A.eng, &A.conn);
	pump();
	check_mirrored();
	old_a = newest_up(&A)->info.spi_in;
	assert_int_equal(ike_sa_rekey_child(sa), 0);
	run_for(1000);
	assert_int_equal(up_children(&A), 1);
	assert_int_equal(up_children(&B), 1);
	assert_int_not_equal(newest_up(&A)->info.spi_in, old_a);
	check_mirrored();
	assert_int_equal(A.ups, 2);
	assert_int_equal(A.downs, 1);
	assert_int_equal(B.ups, 2);
	assert_int_equal(B.downs, 1);
	check_make_before_break(&A);
	check_make_before_break(&B);
}

static void test_rekey_child(void **state)
{
	rekey_child_and_check(false);
}

static void test_rekey_child_pfs(void **state)
{
	rekey_child_and_check(true);
}

static void test_rekey_ike(void **state)
{
	struct ike_sa *sa = ike_initiate(A.eng, &A.conn);
	uint32_t spi;

	pump();
	spi = newest_up(&A)->info.spi_in;
	assert_int_equal(ike_sa_rekey_ike(sa), 0);
	run_for(2000);
	assert_non_null(strstr(A.log, "IKE SA rekeyed"));
	/* the Child SA moved to the new IKE SA untouched */
	assert_int_equal(up_children(&A), 1);
	assert_int_equal(up_children(&B), 1);
	assert_int_equal(newest_up(&A)->info.spi_in, spi);
	assert_int_equal(A.downs, 0);
	assert_int_equal(B.downs, 0);
	/* the new IKE SA works: liveness checks and a Child SA rekey */
	run_for(25000);
	assert_int_equal(up_children(&A), 1);
	drop_to_b = true;
	run_for(45000);
	assert_int_equal(up_children(&A), 0);
}

/* Short lifetimes: rekeys keep exactly one Child SA up, forever. */
static void test_lifetimes(void **state)
{
	A.conn.child_lifetime = B.conn.child_lifetime = 3;
	A.conn.ike_lifetime = B.conn.ike_lifetime = 7;
	establish();
	for (int i = 0; i < 60; i++) {
		run_for(500);
		assert_true(up_children(&A) >= 1);
		assert_true(up_children(&B) >= 1);
	}
	assert_true(A.ups + B.ups > 10);
	run_for(3000);
	check_mirrored();
	assert_null(strstr(A.log, "unreachable"));
	assert_null(strstr(B.log, "unreachable"));
}

static void test_modes(void **state)
{
	A.conn.responder_only = true;
	assert_null(ike_initiate(A.eng, &A.conn));
	A.conn.responder_only = false;
	B.conn.initiator_only = true;
	ike_initiate(A.eng, &A.conn);
	pump();
	assert_int_equal(up_children(&B), 0);
	assert_non_null(strstr(B.log, "connection-mode initiator-only"));
}

/* Narrowing: A proposes any-to-any, B accepts only its prefixes. */
static void test_ts_narrowing(void **state)
{
	uint8_t n1[4] = { 10, 1, 0, 0 }, n2[4] = { 10, 2, 0, 0 };

	ike_ts_from_prefix(&B.conn.local_ts[0], AF_INET, n2, 16);
	ike_ts_from_prefix(&B.conn.remote_ts[0], AF_INET, n1, 16);
	establish();
	assert_int_equal(newest_up(&A)->info.n_local_ts, 1);
	assert_memory_equal(newest_up(&A)->info.local_ts[0].start, n1, 4);
	assert_memory_equal(newest_up(&A)->info.remote_ts[0].start, n2, 4);
	assert_int_equal(newest_up(&A)->info.remote_ts[0].end[1], 2);
	assert_int_equal(newest_up(&A)->info.remote_ts[0].end[2], 255);

	/* disjoint selectors are refused */
	teardown(state);
	setup(state);
	ike_ts_from_prefix(&A.conn.local_ts[0], AF_INET, n1, 16);
	ike_ts_from_prefix(&B.conn.remote_ts[0], AF_INET, n2, 16);
	ike_initiate(A.eng, &A.conn);
	pump();
	run_for(2000);
	assert_int_equal(up_children(&A), 0);
	assert_non_null(strstr(B.log, "traffic selectors unacceptable"));
}

/* NAT keepalives every 20 s on port 4500, from both sides. */
static void test_keepalive(void **state)
{
	establish();
	run_for(41000);
	assert_int_equal(A.keepalives, 2);
	assert_int_equal(B.keepalives, 2);
}

/* The host reports a volume lifetime reached: the Child SA is rekeyed. */
static void test_volume_rekey(void **state)
{
	uint32_t spi;

	establish();
	spi = newest_up(&A)->info.spi_in;
	assert_int_equal(ike_rekey_child_spi(A.eng, 0x12345678), -1);
	assert_int_equal(ike_rekey_child_spi(A.eng, spi), 0);
	run_for(1000);
	assert_int_not_equal(newest_up(&A)->info.spi_in, spi);
	check_mirrored();
	assert_non_null(strstr(A.log, "reached its volume lifetime"));
}

/* Both sides initiate at once: two IKE SAs, each with a Child SA; neither
 * side tears the other's down (no INITIAL_CONTACT), nothing goes down. */
static void test_simultaneous_initiation(void **state)
{
	ike_initiate(A.eng, &A.conn);
	ike_initiate(B.eng, &B.conn);
	pump();
	run_for(2000);
	assert_int_equal(up_children(&A), 2);
	assert_int_equal(up_children(&B), 2);
	assert_int_equal(A.downs, 0);
	assert_int_equal(B.downs, 0);
	assert_null(strstr(A.log, "INITIAL_CONTACT"));
	assert_null(strstr(B.log, "INITIAL_CONTACT"));
}

/* A restarted peer (INITIAL_CONTACT): the old SAs go, after the new Child
 * SA is installed. */
static void test_initial_contact(void **state)
{
	establish();
	/* B forgets everything, as after a restart */
	ike_engine_free(B.eng);
	memset(B.child, 0, sizeof(B.child));
	B.nchild = 0;
	B.eng = ike_engine_new(&ops, &B);
	ike_initiate(B.eng, &B.conn);
	pump();
	assert_non_null(strstr(A.log, "peer sent INITIAL_CONTACT"));
	assert_int_equal(up_children(&A), 1);
	assert_int_equal(A.downs, 1);
	/* the new one was up before the old one went */
	assert_true(A.child[1].up_at <= A.child[0].down_at);
	check_mirrored();
}

static void grab_sa(struct ike_sa *sa, void *arg)
{
	*(struct ike_sa **)arg = sa;
}

/*
 * The responder supports only the initiator's second cipher and group:
 * its answer must name exactly the transforms it chose (one per type),
 * for the IKE SA, the Child SA and a rekey the responder starts.
 */
static void test_responder_chooses_subset(void **state)
{
	static const char *const ike_a[] = {
		"aes128gcm16-aes256gcm16-prfsha512-prfsha256-ecp256-x25519",
		NULL };
	static const char *const ike_b[] = { "aes256gcm16-prfsha256-x25519",
					     NULL };
	static const char *const esp_a[] = {
		"aes128gcm16-aes256gcm16-ecp256-x25519", NULL };
	static const char *const esp_b[] = { "aes256gcm16-x25519", NULL };
	struct ike_sa *bsa = NULL;

	set_props(A.conn.ike_props, &A.conn.n_ike_props, VPN_PROPOSAL_IKE,
		  ike_a);
	set_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		  ike_b);
	set_props(A.conn.esp_props, &A.conn.n_esp_props, VPN_PROPOSAL_ESP,
		  esp_a);
	set_props(B.conn.esp_props, &B.conn.n_esp_props, VPN_PROPOSAL_ESP,
		  esp_b);
	establish();
	assert_int_equal(newest_up(&A)->info.encr_keylen, 36);
	ike_foreach_sa(B.eng, grab_sa, &bsa);
	assert_non_null(bsa);
	assert_int_equal(ike_sa_rekey_child(bsa), 0);
	run_for(1000);
	check_mirrored();
	assert_int_equal(B.ups, 2);
	ike_foreach_sa(B.eng, grab_sa, &bsa);
	assert_int_equal(ike_sa_rekey_ike(bsa), 0);
	run_for(2000);
	assert_non_null(strstr(B.log, "IKE SA rekeyed"));
	/* the rekeyed IKE SA works: it can rekey the Child SA again */
	ike_foreach_sa(B.eng, grab_sa, &bsa);
	assert_int_equal(ike_sa_rekey_child(bsa), 0);
	run_for(1000);
	check_mirrored();
	assert_int_equal(B.ups, 3);
	assert_null(strstr(A.log, "integrity check failed"));
}

/*
 * A rekey the peer refuses (no proposal chosen) is answered with the
 * notify, leaves the SA in place, and is retried 10 s later.
 */
static void test_rekey_child_refused_retried(void **state)
{
	static const char *const esp_other[] = { "chacha20poly1305", NULL };
	struct ike_sa *sa = ike_initiate(A.eng, &A.conn);
	struct ike_sa_status st;
	uint64_t refused_at;

	pump();
	set_props(B.conn.esp_props, &B.conn.n_esp_props, VPN_PROPOSAL_ESP,
		  esp_other);
	assert_int_equal(ike_sa_rekey_child(sa), 0);
	run_for(100);
	refused_at = clock_ms;
	assert_non_null(strstr(B.log, "Child SA rekey refused: no proposal chosen"));
	assert_non_null(strstr(A.log, "Child SA rekey refused by peer (notify 14)"));
	assert_int_equal(A.ups, 1);
	ike_sa_get_status(sa, &st);
	assert_true(st.child_installed);
	assert_int_equal(st.child_rekey_at_ms, refused_at + 10000);

	set_props(B.conn.esp_props, &B.conn.n_esp_props, VPN_PROPOSAL_ESP,
		  (const char *const[]){ "aes256gcm16", NULL });
	run_for(9000);
	assert_int_equal(A.ups, 1);
	run_for(2000);
	assert_int_equal(A.ups, 2);
	assert_int_equal(up_children(&A), 1);
	assert_int_equal(up_children(&B), 1);
	check_mirrored();
}

static void test_rekey_ike_refused_retried(void **state)
{
	static const char *const ike_other[] = { "aes128-sha256-prfsha256-ecp256",
						 NULL };
	struct ike_sa *sa = ike_initiate(A.eng, &A.conn);
	struct ike_sa_status st;
	uint64_t refused_at;

	pump();
	set_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		  ike_other);
	assert_int_equal(ike_sa_rekey_ike(sa), 0);
	run_for(100);
	refused_at = clock_ms;
	assert_non_null(strstr(B.log, "IKE SA rekey refused: no proposal chosen"));
	assert_non_null(strstr(A.log, "IKE SA rekey refused by peer (notify 14)"));
	ike_sa_get_status(sa, &st);
	assert_int_equal(st.state, IKE_SA_ESTABLISHED);
	assert_int_equal(st.rekey_at_ms, refused_at + 10000);

	set_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		  (const char *const[]){ "aes256gcm16-prfsha256-x25519",
					 NULL });
	run_for(11000);
	assert_non_null(strstr(A.log, "IKE SA rekeyed"));
	assert_int_equal(up_children(&A), 1);
	assert_int_equal(up_children(&B), 1);
	assert_int_equal(A.downs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_establish, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_proposal_matrix, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_psk, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_id, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_proposal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_child_proposal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalid_ke, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cookie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dpd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_child, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rekey_child_pfs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rekey_ike, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lifetimes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_responder_chooses_subset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_initiation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_initial_contact, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_volume_rekey, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ts_narrowing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_refused_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_ike_refused_retried,
						setup, teardown),
	};

	vpn_crypto_init();
	return cmocka_run_group_tests_name("exchange", tests, NULL, NULL);
}
