// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: IKEv2 exchanges between two vpnd engines in one process.
 * Datagrams go through a queue the test controls (deliver, drop); time is
 * a virtual clock. Checks both peers' view after every scenario.
 *
 * Every host callback (Child SA installed / removed, IKE SA established /
 * ended) is stamped with a global sequence number, so order is checked by
 * sequence, never by the clock: everything inside one h_pump() happens at
 * the same clock_ms. After each settle (timers run until no datagram
 * moves) the tests assert exact counts of IKE SAs and Child SAs per side.
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

#include "harness.h"

#define MAX_CHILD 256
#define MAX_IKE 64

/* Set in the inbound SPIs a peer allocates while the engine runs its
 * timers (ike_tick): SPIs of CREATE_CHILD_SA exchanges that side started.
 * SPIs allocated while answering (ike_input) do not carry it. */
#define SPI_OWN_REKEY 0x01000000u

struct child_rec {
	bool up;
	struct ike_child_info info;
	unsigned int up_seq, down_seq; /* event sequence numbers; 0: never */
};

/* One IKE SA as the host saw it through sa_event. */
struct ike_rec {
	uint64_t spi_i, spi_r;
	bool initiator;
	unsigned int up_seq, down_seq; /* established / ended; 0: never */
	const char *reason;
};

/* What a peer's host saw of its SAs (the harness counts the rest). */
struct rec {
	struct child_rec child[MAX_CHILD];
	unsigned int nchild;
	/* Child SA removals that left no Child SA installed: the first one */
	unsigned int bare_downs;
	uint32_t bare_down_spi;
	unsigned int bare_down_seq;
	struct ike_rec ike[MAX_IKE];
	unsigned int nike;
};

static struct rec recs[2];
static unsigned int ev_seq; /* last event sequence number given out */

static struct rec *rec(const struct peer *p)
{
	return &recs[p == &B];
}

static void dgram_describe(struct dgram *d);

static uint32_t alloc_spi(struct peer *p)
{
	assert_true((p->next_spi & SPI_OWN_REKEY) == 0);
	return p->next_spi++ | (h_in_tick ? SPI_OWN_REKEY : 0);
}

static unsigned int up_children(const struct peer *p)
{
	const struct rec *r = rec(p);
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->nchild; i++)
		n += r->child[i].up;
	return n;
}

static void child_up(struct peer *p, struct ike_sa *sa,
		     const struct ike_child_info *info)
{
	struct rec *r = rec(p);

	assert_true(r->nchild < MAX_CHILD);
	for (unsigned int i = 0; i < r->nchild; i++)
		if (r->child[i].info.spi_in == info->spi_in)
			fail_msg("%s: Child SA %08x installed twice", p->name,
				 info->spi_in);
	r->child[r->nchild].up = true;
	r->child[r->nchild].info = *info;
	r->child[r->nchild].up_seq = ++ev_seq;
	r->nchild++;
}

static void child_down(struct peer *p, struct ike_sa *sa, uint32_t spi_in,
		       uint32_t spi_out)
{
	struct rec *r = rec(p);

	for (unsigned int i = 0; i < r->nchild; i++)
		if (r->child[i].up && r->child[i].info.spi_in == spi_in) {
			r->child[i].up = false;
			r->child[i].down_seq = ++ev_seq;
			if (up_children(p) == 0 && r->bare_downs++ == 0) {
				r->bare_down_spi = spi_in;
				r->bare_down_seq = ev_seq;
			}
			return;
		}
	fail_msg("%s: child_down for unknown SPI %08x", p->name, spi_in);
}

static struct ike_rec *ike_rec_find(struct peer *p, uint64_t spi_i,
				    uint64_t spi_r)
{
	struct rec *r = rec(p);

	for (unsigned int i = 0; i < r->nike; i++)
		if (r->ike[i].spi_i == spi_i && r->ike[i].spi_r == spi_r)
			return &r->ike[i];
	return NULL;
}

static void sa_event(struct peer *p, struct ike_sa *sa, const char *reason)
{
	struct ike_sa_status st;
	struct ike_rec *r;

	ike_sa_get_status(sa, &st);
	r = ike_rec_find(p, st.spi_i, st.spi_r);
	if (!r) {
		struct rec *pr = rec(p);

		assert_true(pr->nike < MAX_IKE);
		r = &pr->ike[pr->nike++];
		*r = (struct ike_rec){ .spi_i = st.spi_i,
				       .spi_r = st.spi_r,
				       .initiator = st.initiator };
	}
	if (reason) {
		if (r->down_seq)
			fail_msg("%s: IKE SA %016llx/%016llx ended twice",
				 p->name, (unsigned long long)st.spi_i,
				 (unsigned long long)st.spi_r);
		r->down_seq = ++ev_seq;
		r->reason = reason;
	} else {
		if (r->up_seq)
			fail_msg("%s: IKE SA %016llx/%016llx established twice",
				 p->name, (unsigned long long)st.spi_i,
				 (unsigned long long)st.spi_r);
		r->up_seq = ++ev_seq;
	}
}

static void keepalive(struct peer *p, const struct ike_addr *local,
		      const struct ike_addr *remote)
{
	assert_int_equal(local->port, IKE_NATT_PORT);
	assert_int_equal(remote->port, IKE_NATT_PORT);
}

/* Connections named after their peer ("A", "B"). */
static const struct h_config cfg = {
	.conn = { .psk = "shared-secret" },
	.find = H_FIND_BY_ADDR,
	.pump_max = 999,
	.log_capture = true,
	.hooks = {
		.alloc_spi = alloc_spi,
		.child_up = child_up,
		.child_down = child_down,
		.sa_event = sa_event,
		.keepalive = keepalive,
		.queued = dgram_describe,
	},
	.fail = h_fail_cmocka,
};

static int setup(void **state)
{
	ev_seq = 0;
	memset(recs, 0, sizeof(recs));
	h_setup(&cfg);
	return 0;
}

static int teardown(void **state)
{
	h_teardown();
	return 0;
}

/* Advance the clock in 100 ms ticks, delivering traffic. */
static void run_for(uint64_t ms)
{
	h_run_for(ms, NULL);
}

/*
 * Run the timers until no datagram has been sent for 5 ticks (500 ms):
 * every exchange started has ended and the work it queued (DELETEs of
 * replaced SAs) is done. Gives up after 30 s of virtual time.
 */
static void settle(void)
{
	unsigned int quiet = 0;

	for (unsigned int i = 0; quiet < 5; i++) {
		unsigned int before = A.sent + B.sent;

		if (i >= 300)
			fail_msg("no settle: datagrams still moving after 30 s");
		run_for(100);
		quiet = A.sent + B.sent == before ? quiet + 1 : 0;
	}
}

static const struct child_rec *newest_up(const struct peer *p)
{
	const struct rec *r = rec(p);

	for (int i = (int)r->nchild - 1; i >= 0; i--)
		if (r->child[i].up)
			return &r->child[i];
	return NULL;
}

static const struct child_rec *child_rec(const struct peer *p,
					 uint32_t spi_in)
{
	const struct rec *r = rec(p);

	for (unsigned int i = 0; i < r->nchild; i++)
		if (r->child[i].info.spi_in == spi_in)
			return &r->child[i];
	fail_msg("%s: no Child SA %08x was ever installed", p->name, spi_in);
	return NULL;
}

/*
 * Make-before-break on one side, by event order: the Child SA with
 * inbound SPI new_spi was installed before the one with old_spi, which
 * it replaces, was removed.
 */
static void assert_replaced(const struct peer *p, uint32_t old_spi,
			    uint32_t new_spi)
{
	const struct child_rec *o = child_rec(p, old_spi);
	const struct child_rec *n = child_rec(p, new_spi);

	if (o->up || !o->down_seq)
		fail_msg("%s: old Child SA %08x is still installed", p->name,
			 old_spi);
	if (!n->up_seq || n->up_seq > o->down_seq)
		fail_msg("%s: make-before-break broken: old Child SA %08x "
			 "removed at event #%u, new %08x installed at event #%u",
			 p->name, old_spi, o->down_seq, new_spi, n->up_seq);
}

/* No Child SA removal on p left it without an installed Child SA: every
 * rekey installed the new SA first. */
static void check_make_before_break(const struct peer *p)
{
	const struct rec *r = rec(p);

	if (r->bare_downs)
		fail_msg("%s: make-before-break broken: removing Child SA %08x "
			 "(event #%u) left no Child SA installed (%u such "
			 "removals)",
			 p->name, r->bare_down_spi, r->bare_down_seq,
			 r->bare_downs);
}

/* The IKE SA with SPIs new_i/new_r was established before the one with
 * old_i/old_r, which it replaces, ended. */
static void assert_ike_replaced(struct peer *p, uint64_t old_i,
				uint64_t old_r, uint64_t new_i, uint64_t new_r)
{
	const struct ike_rec *o = ike_rec_find(p, old_i, old_r);
	const struct ike_rec *n = ike_rec_find(p, new_i, new_r);

	assert_non_null(o);
	assert_non_null(n);
	if (!o->down_seq)
		fail_msg("%s: old IKE SA %016llx/%016llx has not ended",
			 p->name, (unsigned long long)old_i,
			 (unsigned long long)old_r);
	if (!n->up_seq || n->up_seq > o->down_seq)
		fail_msg("%s: old IKE SA ended at event #%u, new one "
			 "established at event #%u",
			 p->name, o->down_seq, n->up_seq);
}

struct sa_census {
	unsigned int n, established;
	struct ike_sa *last;
	struct ike_sa_status st; /* of last */
};

static void census_cb(struct ike_sa *sa, void *arg)
{
	struct sa_census *c = arg;

	c->n++;
	c->last = sa;
	ike_sa_get_status(sa, &c->st);
	c->established += c->st.state == IKE_SA_ESTABLISHED;
}

struct owner_arg {
	uint32_t spi_in;
	unsigned int owners;
};

static void owner_cb(struct ike_sa *sa, void *arg)
{
	struct owner_arg *o = arg;

	o->owners += ike_sa_has_child(sa, o->spi_in);
}

static void current_cb(struct ike_sa *sa, void *arg)
{
	const struct peer *p = arg;
	struct ike_sa_status st;

	ike_sa_get_status(sa, &st);
	if (st.state == IKE_SA_ESTABLISHED && st.child_installed &&
	    !child_rec(p, st.child_spi_in)->up)
		fail_msg("%s: the engine's current Child SA %08x is not "
			 "installed",
			 p->name, st.child_spi_in);
}

/*
 * Exact state of one side after a settle: n_ike IKE SAs, all established
 * (none half-open, none replaced and waiting), and n_child Child SAs
 * installed; each installed one owned by exactly one IKE SA, and each IKE
 * SA's current Child SA installed. Returns the last IKE SA, if any.
 */
static struct ike_sa *expect_side(struct peer *p, unsigned int n_ike,
				  unsigned int n_child)
{
	const struct rec *r = rec(p);
	struct sa_census c = { 0 };

	ike_foreach_sa(p->eng, census_cb, &c);
	if (c.n != n_ike || c.established != n_ike)
		fail_msg("%s: %u IKE SAs (%u established), expected %u "
			 "established",
			 p->name, c.n, c.established, n_ike);
	if (up_children(p) != n_child)
		fail_msg("%s: %u Child SAs installed, expected %u", p->name,
			 up_children(p), n_child);
	for (unsigned int i = 0; i < r->nchild; i++) {
		struct owner_arg o = { r->child[i].info.spi_in, 0 };

		if (!r->child[i].up)
			continue;
		ike_foreach_sa(p->eng, owner_cb, &o);
		if (o.owners != 1)
			fail_msg("%s: installed Child SA %08x has %u IKE SAs",
				 p->name, o.spi_in, o.owners);
	}
	ike_foreach_sa(p->eng, current_cb, p);
	return c.last;
}

/* Both sides after a settle: n_ike IKE SAs and n_child Child SAs each. */
static void expect_settled(unsigned int n_ike, unsigned int n_child)
{
	expect_side(&A, n_ike, n_child);
	expect_side(&B, n_ike, n_child);
}

/* The only IKE SA of p (asserts there is exactly one). */
static struct ike_sa *only_sa(struct peer *p)
{
	struct sa_census c = { 0 };

	ike_foreach_sa(p->eng, census_cb, &c);
	assert_int_equal(c.n, 1);
	return c.last;
}

static struct ike_sa_status sa_status(struct ike_sa *sa)
{
	struct ike_sa_status st;

	ike_sa_get_status(sa, &st);
	return st;
}
/* The Child SA installed on p came from an exchange p started (own) or
 * one it answered (by the SPI_OWN_REKEY mark of its inbound SPI). */
static void expect_child_from(const struct peer *p, bool own)
{
	uint32_t spi = newest_up(p)->info.spi_in;

	if (!(spi & SPI_OWN_REKEY) != !own)
		fail_msg("%s: installed Child SA %08x comes from an exchange "
			 "%s %s; expected one it %s",
			 p->name, spi, p->name, own ? "answered" : "started",
			 own ? "started" : "answered");
}

/* p is (or is not) the original initiator of its only IKE SA. */
static void expect_ike_initiator(struct peer *p, bool initiator)
{
	struct ike_sa_status st = sa_status(only_sa(p));

	if (st.initiator != initiator)
		fail_msg("%s: IKE SA %016llx/%016llx: %s is %sits initiator",
			 p->name, (unsigned long long)st.spi_i,
			 (unsigned long long)st.spi_r, p->name,
			 st.initiator ? "" : "not ");
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

/* A starts the connection; afterwards exactly one IKE SA and one Child SA
 * on each side. */
static void establish(void)
{
	assert_non_null(h_initiate(&A));
	h_pump();
	expect_settled(1, 1);
	check_mirrored();
}

static void test_establish(void **state)
{
	struct ike_sa_status a, b;

	establish();
	a = sa_status(only_sa(&A));
	b = sa_status(only_sa(&B));
	assert_true(a.initiator);
	assert_false(b.initiator);
	assert_true(a.spi_i == b.spi_i && a.spi_r == b.spi_r);
	assert_true(a.child_spi_in == b.child_spi_out &&
		    a.child_spi_out == b.child_spi_in);
	/* one IKE SA established on each side, before its Child SA */
	assert_int_equal(rec(&A)->nike, 1);
	assert_int_equal(rec(&B)->nike, 1);
	assert_true(rec(&A)->ike[0].up_seq &&
		    rec(&A)->ike[0].up_seq < rec(&A)->child[0].up_seq);
	assert_true(rec(&B)->ike[0].up_seq &&
		    rec(&B)->ike[0].up_seq < rec(&B)->child[0].up_seq);
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
		h_props(A.conn.ike_props, &A.conn.n_ike_props,
			VPN_PROPOSAL_IKE, ike);
		h_props(B.conn.ike_props, &B.conn.n_ike_props,
			VPN_PROPOSAL_IKE, ike);
		h_props(A.conn.esp_props, &A.conn.n_esp_props,
			VPN_PROPOSAL_ESP, esp);
		h_props(B.conn.esp_props, &B.conn.n_esp_props,
			VPN_PROPOSAL_ESP, esp);
		h_initiate(&A);
		h_pump();
		if (up_children(&A) != 1 || up_children(&B) != 1)
			fail_msg("%s / %s did not establish:\nA:\n%s\nB:\n%s",
				 cases[i][0], cases[i][1], A.log, B.log);
		expect_settled(1, 1);
		check_mirrored();
		assert_int_equal(newest_up(&A)->info.esn,
				 strstr(cases[i][1], "-esn") != NULL);
	}
}

static void test_wrong_psk(void **state)
{
	B.conn.psklen = 5;
	memcpy(B.conn.psk, "wrong", 5);
	h_initiate(&A);
	h_pump();
	settle();
	expect_settled(0, 0);
	assert_int_equal(A.ups + B.ups, 0);
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
	h_initiate(&A);
	h_pump();
	settle();
	expect_settled(0, 0);
	assert_int_equal(A.ups + B.ups, 0);
	assert_non_null(strstr(B.log, "is not the configured remote-id"));
}

static void test_no_proposal(void **state)
{
	static const char *const ike_b[] = { "aes128-sha1-modp2048", NULL };

	h_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		ike_b);
	h_initiate(&A);
	h_pump();
	/* The refusal is unauthenticated: A keeps waiting a while for a
	 * response it can use (retransmitting; B refuses again), then
	 * gives up with the refusal as the reason. */
	run_for(1500);
	only_sa(&A);
	run_for(1000);
	settle();
	expect_settled(0, 0);
	assert_int_equal(A.ups + B.ups, 0);
	assert_string_equal(A.last_reason, "no proposal chosen");
	assert_non_null(strstr(B.log, "no proposal chosen; peer offered "
				      "aes256gcm16-prfsha256-x25519; we "
				      "accept aes128-sha1-modp2048-prfsha1"));
	assert_non_null(strstr(A.log, "no proposal chosen"));
}

/* The IKE SA comes up, its Child SA is refused: the responder deletes
 * the IKE SA, nothing is left on either side. */
static void test_no_child_proposal(void **state)
{
	static const char *const esp_b[] = { "aes128-sha1", NULL };

	h_props(B.conn.esp_props, &B.conn.n_esp_props, VPN_PROPOSAL_ESP,
		esp_b);
	h_initiate(&A);
	h_pump();
	run_for(2000);
	settle();
	expect_settled(0, 0);
	assert_int_equal(A.ups + B.ups, 0);
	assert_non_null(strstr(B.log, "Child SA failed: no proposal chosen"));
	assert_non_null(strstr(A.log, "Child SA failed: no proposal chosen"));
}

static void test_invalid_ke(void **state)
{
	static const char *const ike_a[] = {
		"aes256-sha256-ecp256-modp2048", NULL };
	static const char *const ike_b[] = { "aes256-sha256-modp2048", NULL };

	h_props(A.conn.ike_props, &A.conn.n_ike_props, VPN_PROPOSAL_IKE,
		ike_a);
	h_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		ike_b);
	establish();
	assert_int_equal(sa_status(only_sa(&A)).dh, 14);
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
	h_drop_next = 1;
	h_initiate(&A);
	h_pump();
	assert_int_equal(up_children(&A), 0);
	run_for(1500);
	settle();
	expect_settled(1, 1);
	check_mirrored();
}

static void test_unreachable(void **state)
{
	B.unreachable = true;
	h_initiate(&A);
	run_for(70000);
	expect_settled(0, 0);
	assert_non_null(strstr(A.log, "unreachable: no answer after 6 tries"));
	assert_string_equal(A.last_reason, "peer unreachable");
	assert_int_equal(A.sent, 6);
}

static void test_dpd(void **state)
{
	establish();
	/* idle but alive: liveness checks answered */
	run_for(25000);
	settle();
	expect_settled(1, 1);
	assert_true(B.sent > 2);
	B.unreachable = true;
	run_for(45000);
	/* A's checks go unanswered: dead after dpd_timeout; B hears nothing
	 * from A any more and ends its IKE SA the same way */
	expect_settled(0, 0);
	assert_non_null(strstr(A.log, "is dead: no answer to liveness checks "
				      "for 30 s"));
	assert_string_equal(A.last_reason, "dead peer detected");
	assert_string_equal(B.last_reason, "dead peer detected");
}

static void test_delete(void **state)
{
	establish();
	ike_conn_down(A.eng, &A.conn, false);
	h_pump();
	settle();
	expect_settled(0, 0);
	assert_int_equal(A.downs, 1);
	assert_int_equal(B.downs, 1);
	assert_string_equal(B.last_reason, "deleted by peer");
}

/* One Child SA rekey started by A: on each side the new SA is installed
 * before the old one is removed, and exactly one remains. */
static void rekey_child_and_check(bool pfs)
{
	static const char *const esp_pfs[] = { "aes256gcm16-ecp256", NULL };
	uint32_t old_a, old_b, new_a, new_b;
	struct ike_sa *sa;

	if (pfs) {
		h_props(A.conn.esp_props, &A.conn.n_esp_props,
			VPN_PROPOSAL_ESP, esp_pfs);
		h_props(B.conn.esp_props, &B.conn.n_esp_props,
			VPN_PROPOSAL_ESP, esp_pfs);
	}
	sa = h_initiate(&A);
	h_pump();
	expect_settled(1, 1);
	check_mirrored();
	old_a = newest_up(&A)->info.spi_in;
	old_b = newest_up(&B)->info.spi_in;
	assert_int_equal(ike_sa_rekey_child(sa), 0);
	run_for(1000);
	settle();
	expect_settled(1, 1);
	check_mirrored();
	new_a = newest_up(&A)->info.spi_in;
	new_b = newest_up(&B)->info.spi_in;
	assert_int_not_equal(new_a, old_a);
	assert_int_not_equal(new_b, old_b);
	/* A started the exchange, B answered it */
	expect_child_from(&A, true);
	expect_child_from(&B, false);
	/* Only the responder of a rekey holds the new SA back from sending
	 * (RFC 7296 2.8); the first Child SAs came with IKE_AUTH. */
	assert_false(newest_up(&A)->info.rekey_responder);
	assert_true(newest_up(&B)->info.rekey_responder);
	for (unsigned int i = 0; i < 2; i++) {
		assert_false(rec(&A)->child[i].info.rekey_responder &&
			     rec(&A)->child[i].info.spi_in == old_a);
		assert_false(rec(&B)->child[i].info.rekey_responder &&
			     rec(&B)->child[i].info.spi_in == old_b);
	}
	assert_int_equal(A.ups, 2);
	assert_int_equal(A.downs, 1);
	assert_int_equal(B.ups, 2);
	assert_int_equal(B.downs, 1);
	assert_replaced(&A, old_a, new_a);
	assert_replaced(&B, old_b, new_b);
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
	struct ike_sa *sa = h_initiate(&A);
	struct ike_sa_status old_a, old_b, new_a, new_b;
	uint32_t spi;

	h_pump();
	expect_settled(1, 1);
	old_a = sa_status(sa);
	old_b = sa_status(only_sa(&B));
	spi = newest_up(&A)->info.spi_in;
	assert_int_equal(ike_sa_rekey_ike(sa), 0);
	run_for(2000);
	settle();
	assert_non_null(strstr(A.log, "IKE SA rekeyed"));
	expect_settled(1, 1);
	new_a = sa_status(only_sa(&A));
	new_b = sa_status(only_sa(&B));
	assert_true(new_a.spi_i != old_a.spi_i && new_a.spi_r != old_a.spi_r);
	assert_true(new_a.spi_i == new_b.spi_i && new_a.spi_r == new_b.spi_r);
	assert_true(new_a.initiator);
	assert_false(new_b.initiator);
	/* the new IKE SA came up before the old one ended, on each side */
	assert_ike_replaced(&A, old_a.spi_i, old_a.spi_r, new_a.spi_i,
			    new_a.spi_r);
	assert_ike_replaced(&B, old_b.spi_i, old_b.spi_r, new_b.spi_i,
			    new_b.spi_r);
	/* the Child SA moved to the new IKE SA untouched */
	assert_int_equal(newest_up(&A)->info.spi_in, spi);
	assert_int_equal(new_a.child_spi_in, spi);
	assert_int_equal(A.ups, 1);
	assert_int_equal(B.ups, 1);
	assert_int_equal(A.downs, 0);
	assert_int_equal(B.downs, 0);
	/* the new IKE SA works: liveness checks and a Child SA rekey */
	run_for(25000);
	settle();
	expect_settled(1, 1);
	B.unreachable = true;
	run_for(45000);
	expect_side(&A, 0, 0);
}

/* How many times s occurs in p's log. */
static unsigned int log_count(const struct peer *p, const char *s)
{
	unsigned int n = 0;

	for (const char *q = p->log; (q = strstr(q, s)); q += strlen(s))
		n++;
	return n;
}

/* IKE SAs established on p so far. */
static unsigned int ike_ups(const struct peer *p)
{
	const struct rec *r = rec(p);
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->nike; i++)
		n += r->ike[i].up_seq != 0;
	return n;
}

/*
 * Short lifetimes on one side only: `fast` rekeys its Child SA every 3 s
 * and its IKE SA every 7 s; `slow` has 5 s and 11 s, so each SA `fast`
 * makes is replaced before `slow` would rekey it: `slow` never starts a
 * rekey, and no collision can happen. (Lifetimes under 10 s carry no
 * jitter: the schedule is fixed.) After every settle: exactly one IKE SA
 * and one Child SA on each side, mirrored; every Child SA after the first
 * came from an exchange `fast` started; every removal was preceded by
 * its replacement's install.
 */
static void lifetimes_one_side(struct peer *fast, struct peer *slow)
{
	uint64_t start;
	unsigned int rekeys, ike_rekeys;

	fast->conn.child_lifetime = 3;
	fast->conn.ike_lifetime = 7;
	slow->conn.child_lifetime = 5;
	slow->conn.ike_lifetime = 11;
	establish();
	start = clock_ms;
	for (int i = 0; i < 60; i++) {
		run_for(500);
		settle();
		expect_settled(1, 1);
		check_mirrored();
		if (fast->ups > 1) {
			expect_child_from(fast, true);
			expect_child_from(slow, false);
		}
	}
	rekeys = fast->ups - 1;
	ike_rekeys = ike_ups(fast) - 1;
	/* one rekey per lifetime, late by at most a tick or two when an IKE
	 * SA rekey goes first */
	assert_true(rekeys >= (clock_ms - start) / 3200 - 1);
	assert_true(rekeys <= (clock_ms - start) / 3000);
	assert_true(ike_rekeys >= (clock_ms - start) / 7200 - 1);
	assert_true(ike_rekeys <= (clock_ms - start) / 7000);
	assert_true(rekeys > 10 && ike_rekeys > 4);
	assert_int_equal(slow->ups, fast->ups);
	assert_int_equal(fast->downs, rekeys);
	assert_int_equal(slow->downs, rekeys);
	assert_int_equal(ike_ups(slow), ike_ups(fast));
	expect_ike_initiator(fast, true);
	check_make_before_break(fast);
	check_make_before_break(slow);
	assert_null(strstr(A.log, "simultaneous"));
	assert_null(strstr(B.log, "simultaneous"));
	assert_null(strstr(A.log, "unreachable"));
	assert_null(strstr(B.log, "unreachable"));
}

static void test_lifetimes(void **state)
{
	lifetimes_one_side(&A, &B);
}

/* The same with the IKE_AUTH responder doing the rekeys. */
static void test_lifetimes_responder(void **state)
{
	lifetimes_one_side(&B, &A);
}

/*
 * Equal short lifetimes (3 s / 7 s, no jitter under 10 s): both sides
 * install each SA in the same tick, so every rekey collides, by design.
 * A's nonces are ordered below B's, so by RFC 7296 2.8.1 / 2.8.2 the SA
 * of A's exchange (which holds the lowest nonce) is redundant every
 * time: B's exchange's SA is kept, A deletes its own, B deletes the old
 * one. After every settle: one IKE SA and one Child SA each, and the
 * Child SA is the one B's exchange created.
 */
static void test_lifetimes_collide(void **state)
{
	A.conn.child_lifetime = B.conn.child_lifetime = 3;
	A.conn.ike_lifetime = B.conn.ike_lifetime = 7;
	h_order_nonces(&A, &B);
	establish();
	for (int i = 0; i < 60; i++) {
		run_for(500);
		settle();
		expect_settled(1, 1);
		check_mirrored();
		if (A.ups > 1) {
			expect_child_from(&B, true);
			expect_child_from(&A, false);
		}
	}
	/* each rekey round: two new Child SAs per side, two removed */
	assert_true(A.ups > 10);
	assert_int_equal(A.ups, B.ups);
	assert_int_equal(A.downs, A.ups - 1);
	assert_int_equal(B.downs, B.ups - 1);
	assert_int_equal(A.downs % 2, 0);
	/* every round was a collision, settled the same way */
	assert_int_equal(log_count(&A, "simultaneous Child SA rekey: ours is "
				       "redundant"),
			 A.downs / 2);
	assert_int_equal(log_count(&B, "simultaneous Child SA rekey: keeping "
				       "ours"),
			 A.downs / 2);
	assert_int_equal(log_count(&A, "simultaneous Child SA rekey: keeping"),
			 0);
	/* each IKE rekey round: two new IKE SAs per side, B's kept */
	assert_true(ike_ups(&A) > 4);
	assert_int_equal(ike_ups(&A) % 2, 1);
	assert_int_equal(ike_ups(&A), ike_ups(&B));
	assert_int_equal(log_count(&A, "simultaneous IKE SA rekey: ours is "
				       "redundant"),
			 ike_ups(&A) / 2);
	assert_int_equal(log_count(&B, "simultaneous IKE SA rekey: keeping "
				       "ours"),
			 ike_ups(&A) / 2);
	expect_ike_initiator(&B, true);
	expect_ike_initiator(&A, false);
	check_make_before_break(&A);
	check_make_before_break(&B);
	assert_null(strstr(A.log, "unreachable"));
	assert_null(strstr(B.log, "unreachable"));
}

/*
 * Both sides rekey the Child SA in the same tick (RFC 7296 2.8.1), with
 * `low`'s nonces below `high`'s: the SA of `low`'s exchange holds the
 * lowest nonce and is redundant. Each side installs both new SAs, then
 * removes the redundant one and the old one; the kept one is `high`'s.
 */
static void child_collision(struct peer *low, struct peer *high)
{
	struct ike_sa *sa_a, *sa_b;
	uint32_t old_a, old_b, kept_a, kept_b;

	h_order_nonces(low, high);
	establish();
	old_a = newest_up(&A)->info.spi_in;
	old_b = newest_up(&B)->info.spi_in;
	sa_a = only_sa(&A);
	sa_b = only_sa(&B);
	assert_int_equal(ike_sa_rekey_child(sa_a), 0);
	assert_int_equal(ike_sa_rekey_child(sa_b), 0);
	settle();
	expect_settled(1, 1);
	check_mirrored();
	assert_int_equal(A.ups, 3);
	assert_int_equal(B.ups, 3);
	assert_int_equal(A.downs, 2);
	assert_int_equal(B.downs, 2);
	/* kept: the SA of high's exchange */
	expect_child_from(high, true);
	expect_child_from(low, false);
	kept_a = newest_up(&A)->info.spi_in;
	kept_b = newest_up(&B)->info.spi_in;
	assert_replaced(&A, old_a, kept_a);
	assert_replaced(&B, old_b, kept_b);
	check_make_before_break(&A);
	check_make_before_break(&B);
	assert_non_null(strstr(low->log, "simultaneous Child SA rekey: ours "
					 "is redundant, deleting it"));
	assert_non_null(strstr(high->log, "simultaneous Child SA rekey: "
					  "keeping ours"));
	/* the kept SA rekeys normally afterwards */
	assert_int_equal(ike_sa_rekey_child(only_sa(&A)), 0);
	settle();
	expect_settled(1, 1);
	check_mirrored();
	assert_replaced(&A, kept_a, newest_up(&A)->info.spi_in);
	assert_replaced(&B, kept_b, newest_up(&B)->info.spi_in);
	assert_int_equal(A.ups, 4);
	assert_int_equal(B.downs, 3);
}

static void test_rekey_child_collision_a_low(void **state)
{
	child_collision(&A, &B);
}

static void test_rekey_child_collision_b_low(void **state)
{
	child_collision(&B, &A);
}

/*
 * Both sides rekey the IKE SA in the same tick (RFC 7296 2.8.2), with
 * `low`'s nonces below `high`'s: the new IKE SA of `low`'s exchange is
 * redundant; `high`'s is kept (and `high` is its original initiator),
 * takes the Child SA untouched, and works.
 */
static void ike_collision(struct peer *low, struct peer *high)
{
	struct ike_sa_status old_a, old_b, new_a, new_b;
	uint32_t child_a;

	h_order_nonces(low, high);
	establish();
	old_a = sa_status(only_sa(&A));
	old_b = sa_status(only_sa(&B));
	child_a = newest_up(&A)->info.spi_in;
	assert_int_equal(ike_sa_rekey_ike(only_sa(&A)), 0);
	assert_int_equal(ike_sa_rekey_ike(only_sa(&B)), 0);
	settle();
	expect_settled(1, 1);
	new_a = sa_status(only_sa(&A));
	new_b = sa_status(only_sa(&B));
	assert_true(new_a.spi_i == new_b.spi_i && new_a.spi_r == new_b.spi_r);
	assert_true(new_a.spi_i != old_a.spi_i);
	expect_ike_initiator(high, true);
	expect_ike_initiator(low, false);
	/* three IKE SAs seen per side: the old one and two new ones; the
	 * kept one came up before the old one ended */
	assert_int_equal(rec(&A)->nike, 3);
	assert_int_equal(rec(&B)->nike, 3);
	assert_ike_replaced(&A, old_a.spi_i, old_a.spi_r, new_a.spi_i,
			    new_a.spi_r);
	assert_ike_replaced(&B, old_b.spi_i, old_b.spi_r, new_b.spi_i,
			    new_b.spi_r);
	/* the Child SA is untouched, now under the kept IKE SA */
	assert_int_equal(A.ups, 1);
	assert_int_equal(B.ups, 1);
	assert_int_equal(A.downs + B.downs, 0);
	assert_int_equal(new_a.child_spi_in, child_a);
	assert_non_null(strstr(low->log, "simultaneous IKE SA rekey: ours is "
					 "redundant, deleting it"));
	assert_non_null(strstr(high->log, "simultaneous IKE SA rekey: keeping "
					  "ours"));
	/* the kept IKE SA works */
	assert_int_equal(ike_sa_rekey_child(only_sa(&A)), 0);
	settle();
	expect_settled(1, 1);
	check_mirrored();
	assert_replaced(&A, child_a, newest_up(&A)->info.spi_in);
	assert_null(strstr(A.log, "integrity check failed"));
	assert_null(strstr(B.log, "integrity check failed"));
}

static void test_rekey_ike_collision_a_low(void **state)
{
	ike_collision(&A, &B);
}

static void test_rekey_ike_collision_b_low(void **state)
{
	ike_collision(&B, &A);
}

/* ------------------------------------------------------------------ */
/* Collisions message by message                                       */
/* ------------------------------------------------------------------ */

/*
 * As strongSwan's exchange suites do: the test starts the exchanges,
 * then delivers one chosen datagram at a time and asserts, after every
 * one, both peers' whole state and every datagram still in flight.
 *
 * A peer's state reads, for each of its live IKE SAs in the order the
 * host saw them established, "ike<N> <state> [<Child SAs>]", N being the
 * index of the host's record (ike_rec) of that SA. Child SAs are the
 * installed ones the SA owns, in install order, each named by the counter
 * part of its inbound SPI, with "r" when the side allocated it for an
 * exchange it started itself (SPI_OWN_REKEY), and "*" on the SA's current
 * one (ike_sa_get_status). E.g. "ike0 est [1 *2r]". A side without IKE
 * SAs reads "-"; installed Child SAs no IKE SA owns read "orphan [...]".
 *
 * A datagram reads "A>B CCSA req ike0 #2": sender, receiver, exchange,
 * request or response, which IKE SA (the index of the sender's record,
 * "/" the receiver's when different, "-" for none, as when it was sent)
 * and the message ID.
 */
static char step_ctx[128]; /* the last action, for failure messages */

static const char *exch_str(uint8_t e)
{
	switch (e) {
	case IKE_SA_INIT:
		return "INIT";
	case IKE_AUTH:
		return "AUTH";
	case CREATE_CHILD_SA:
		return "CCSA";
	case INFORMATIONAL:
		return "INFO";
	}
	return "?";
}

static const char *state_str(enum ike_sa_state st)
{
	switch (st) {
	case IKE_SA_INIT_SENT:
		return "init";
	case IKE_SA_AUTH_SENT:
		return "auth";
	case IKE_SA_RESPONDED:
		return "half";
	case IKE_SA_ESTABLISHED:
		return "est";
	case IKE_SA_DELETING:
		return "del";
	case IKE_SA_DEAD:
		return "dead";
	}
	return "?";
}

static uint64_t be64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/* Index of p's record of the IKE SA spi_i/spi_r, or -1. */
static int ike_index(struct peer *p, uint64_t spi_i, uint64_t spi_r)
{
	const struct ike_rec *r = ike_rec_find(p, spi_i, spi_r);

	return r ? (int)(r - rec(p)->ike) : -1;
}

static void ike_label(char *buf, size_t len, int i)
{
	if (i < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%d", i);
}

static void dgram_describe(struct dgram *d)
{
	const uint8_t *h = d->buf;
	struct peer *from = d->to->other;
	uint64_t spi_i, spi_r;
	char s[12], r[12], sa[32];
	int si, ri;

	if (d->len < 28) {
		snprintf(d->desc, sizeof(d->desc), "%s>%s short", from->name,
			 d->to->name);
		return;
	}
	spi_i = be64(h);
	spi_r = be64(h + 8);
	si = ike_index(from, spi_i, spi_r);
	ri = ike_index(d->to, spi_i, spi_r);
	ike_label(s, sizeof(s), si);
	ike_label(r, sizeof(r), ri);
	if (si == ri)
		snprintf(sa, sizeof(sa), "ike%s", s);
	else
		snprintf(sa, sizeof(sa), "ike%s/%s", s, r);
	snprintf(d->desc, sizeof(d->desc), "%s>%s %s %s %s #%u", from->name,
		 d->to->name, exch_str(h[18]),
		 h[19] & IKE_FLAG_RESPONSE ? "resp" : "req", sa,
		 (unsigned int)h[20] << 24 | h[21] << 16 | h[22] << 8 | h[23]);
}

struct live_sas {
	struct ike_sa *sa[MAX_IKE];
	bool shown[MAX_IKE];
	unsigned int n;
};

static void live_cb(struct ike_sa *sa, void *arg)
{
	struct live_sas *l = arg;

	assert_true(l->n < MAX_IKE);
	l->sa[l->n++] = sa;
}

static void child_label(char *buf, size_t len, uint32_t spi, bool current)
{
	snprintf(buf, len, "%s%u%s", current ? "*" : "", spi & 0x00ffffffu,
		 spi & SPI_OWN_REKEY ? "r" : "");
}

/* One live IKE SA and the Child SAs it owns, appended to out. */
static void sa_describe(const struct peer *p, struct ike_sa *sa,
			const char *name, char *out, size_t len)
{
	const struct rec *r = rec(p);
	struct ike_sa_status st;
	size_t n = strlen(out);

	ike_sa_get_status(sa, &st);
	n += snprintf(out + n, len - n, "%s%s %s [", n ? " " : "", name,
		      state_str(st.state));
	for (unsigned int i = 0, k = 0; i < r->nchild; i++) {
		char c[16];

		if (!r->child[i].up ||
		    !ike_sa_has_child(sa, r->child[i].info.spi_in))
			continue;
		child_label(c, sizeof(c), r->child[i].info.spi_in,
			    st.child_installed &&
				    st.child_spi_in == r->child[i].info.spi_in);
		n += snprintf(out + n, len - n, "%s%s", k++ ? " " : "", c);
	}
	snprintf(out + n, len - n, "]");
}

static void peer_describe(struct peer *p, char *out, size_t len)
{
	const struct rec *pr = rec(p);
	struct live_sas l = { 0 };
	size_t n;
	bool orphans = false;

	out[0] = '\0';
	ike_foreach_sa(p->eng, live_cb, &l);
	for (unsigned int r = 0; r < pr->nike; r++)
		for (unsigned int i = 0; i < l.n; i++) {
			struct ike_sa_status st;
			char name[16];

			ike_sa_get_status(l.sa[i], &st);
			if (l.shown[i] || st.spi_i != pr->ike[r].spi_i ||
			    st.spi_r != pr->ike[r].spi_r)
				continue;
			l.shown[i] = true;
			snprintf(name, sizeof(name), "ike%u", r);
			sa_describe(p, l.sa[i], name, out, len);
		}
	for (unsigned int i = 0; i < l.n; i++)
		if (!l.shown[i])
			sa_describe(p, l.sa[i], "ike-", out, len);
	for (unsigned int i = 0; i < pr->nchild; i++) {
		struct owner_arg o = { pr->child[i].info.spi_in, 0 };
		char c[16];

		if (!pr->child[i].up)
			continue;
		ike_foreach_sa(p->eng, owner_cb, &o);
		if (o.owners)
			continue;
		n = strlen(out);
		child_label(c, sizeof(c), o.spi_in, false);
		snprintf(out + n, len - n, "%s%s%s",
			 orphans ? " " : n ? " " : "",
			 orphans ? "" : "orphan [", c);
		orphans = true;
	}
	if (orphans) {
		n = strlen(out);
		snprintf(out + n, len - n, "]");
	}
	if (!out[0])
		snprintf(out, len, "-");
}

static void queue_describe(char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < h_queue_len(); i++)
		n += snprintf(out + n, len - n, "%s%s", i ? ", " : "",
			      h_queue_at(i)->desc);
}

/*
 * After every action: x and y are exactly in the states xs and ys, and
 * exactly the datagrams described by the format are in flight, in order
 * ("" for none).
 */
static void check(struct peer *x, const char *xs, struct peer *y,
		  const char *ys, const char *qfmt, ...)
{
	char got[1024], want[1024];
	va_list ap;

	peer_describe(x, got, sizeof(got));
	if (strcmp(got, xs) != 0)
		fail_msg("after %s: %s is \"%s\", expected \"%s\"", step_ctx,
			 x->name, got, xs);
	peer_describe(y, got, sizeof(got));
	if (strcmp(got, ys) != 0)
		fail_msg("after %s: %s is \"%s\", expected \"%s\"", step_ctx,
			 y->name, got, ys);
	va_start(ap, qfmt);
	vsnprintf(want, sizeof(want), qfmt, ap);
	va_end(ap);
	queue_describe(got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("after %s: in flight \"%s\", expected \"%s\"",
			 step_ctx, got, want);
}

/* Deliver the first datagram in flight that reads as the format says
 * (others stay queued, in order). */
static void deliver(const char *fmt, ...)
{
	char want[96], q[1024];
	struct dgram d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	for (unsigned int i = 0; i < h_queue_len(); i++) {
		if (strcmp(h_queue_at(i)->desc, want) != 0)
			continue;
		h_take(i, &d);
		snprintf(step_ctx, sizeof(step_ctx), "delivering %s", want);
		h_deliver_dgram(&d);
		return;
	}
	queue_describe(q, sizeof(q));
	fail_msg("after %s: no \"%s\" in flight (in flight: \"%s\")",
		 step_ctx, want, q);
}

/* p's timers run once, the clock standing still: queued work starts. */
static void step_tick(struct peer *p)
{
	snprintf(step_ctx, sizeof(step_ctx), "%s's timers", p->name);
	h_tick(p);
}

/* The message ID of p's next request on the first IKE SA (A started it:
 * IKE_SA_INIT and IKE_AUTH took 0 and 1). */
static unsigned int mid(const struct peer *p)
{
	return p == &A ? 2 : 0;
}

/*
 * Child SA rekey collision (RFC 7296 2.8.1), message by message: both
 * requests cross; `low`'s exchange completes first; the SA of `low`'s
 * exchange holds the lowest nonce and is redundant: `low` deletes it,
 * `high` deletes the old one.
 */
static void child_collision_steps(struct peer *low, struct peer *high)
{
	const char *L = low->name, *H = high->name;
	unsigned int ml = mid(low), mh = mid(high);

	h_order_nonces(low, high);
	establish();
	snprintf(step_ctx, sizeof(step_ctx), "establishing");
	check(low, "ike0 est [*1]", high, "ike0 est [*1]", "");
	assert_int_equal(ike_sa_rekey_child(only_sa(low)), 0);
	assert_int_equal(ike_sa_rekey_child(only_sa(high)), 0);
	step_tick(low);
	step_tick(high);
	check(low, "ike0 est [*1]", high, "ike0 est [*1]",
	      "%s>%s CCSA req ike0 #%u, %s>%s CCSA req ike0 #%u", L, H, ml, H,
	      L, mh);
	/* each answers the other's: installs the new SA (3), the old one
	 * stays until deleted */
	deliver("%s>%s CCSA req ike0 #%u", L, H, ml);
	check(low, "ike0 est [*1]", high, "ike0 est [1 *3]",
	      "%s>%s CCSA req ike0 #%u, %s>%s CCSA resp ike0 #%u", H, L, mh,
	      H, L, ml);
	deliver("%s>%s CCSA req ike0 #%u", H, L, mh);
	check(low, "ike0 est [1 *3]", high, "ike0 est [1 *3]",
	      "%s>%s CCSA resp ike0 #%u, %s>%s CCSA resp ike0 #%u", H, L, ml,
	      L, H, mh);
	/* low's own SA (2r) comes up redundant: high's (3) stays current */
	deliver("%s>%s CCSA resp ike0 #%u", H, L, ml);
	check(low, "ike0 est [1 *3 2r]", high, "ike0 est [1 *3]",
	      "%s>%s CCSA resp ike0 #%u", L, H, mh);
	/* high's own SA (2r) is kept; the one low's exchange made (3) goes */
	deliver("%s>%s CCSA resp ike0 #%u", L, H, mh);
	check(low, "ike0 est [1 *3 2r]", high, "ike0 est [1 3 *2r]", "");
	/* low deletes its redundant SA, high the old one */
	step_tick(low);
	step_tick(high);
	check(low, "ike0 est [1 *3 2r]", high, "ike0 est [1 3 *2r]",
	      "%s>%s INFO req ike0 #%u, %s>%s INFO req ike0 #%u", L, H,
	      ml + 1, H, L, mh + 1);
	deliver("%s>%s INFO req ike0 #%u", L, H, ml + 1);
	check(low, "ike0 est [1 *3 2r]", high, "ike0 est [1 *2r]",
	      "%s>%s INFO req ike0 #%u, %s>%s INFO resp ike0 #%u", H, L,
	      mh + 1, H, L, ml + 1);
	deliver("%s>%s INFO req ike0 #%u", H, L, mh + 1);
	check(low, "ike0 est [*3 2r]", high, "ike0 est [1 *2r]",
	      "%s>%s INFO resp ike0 #%u, %s>%s INFO resp ike0 #%u", H, L,
	      ml + 1, L, H, mh + 1);
	deliver("%s>%s INFO resp ike0 #%u", H, L, ml + 1);
	check(low, "ike0 est [*3]", high, "ike0 est [1 *2r]",
	      "%s>%s INFO resp ike0 #%u", L, H, mh + 1);
	deliver("%s>%s INFO resp ike0 #%u", L, H, mh + 1);
	check(low, "ike0 est [*3]", high, "ike0 est [*2r]", "");
	settle();
	expect_settled(1, 1);
	check_mirrored();
	expect_child_from(high, true);
	expect_child_from(low, false);
	check_make_before_break(&A);
	check_make_before_break(&B);
	assert_int_equal(A.ups + B.ups, 6);
	assert_int_equal(A.downs + B.downs, 4);
}

static void test_rekey_child_collision_steps_a_low(void **state)
{
	child_collision_steps(&A, &B);
}

static void test_rekey_child_collision_steps_b_low(void **state)
{
	child_collision_steps(&B, &A);
}

/*
 * IKE SA rekey collision (RFC 7296 2.8.2), message by message: both
 * requests cross, `low`'s exchange completes first. Each side ends up
 * with three IKE SAs: the old one (ike0), the one it made answering
 * (ike1) and its own (ike2). `high`'s exchange's SA is kept: low's ike1,
 * high's ike2, which take the Child SA; low deletes its redundant ike2,
 * high the old ike0.
 */
static void ike_collision_steps(struct peer *low, struct peer *high)
{
	const char *L = low->name, *H = high->name;
	unsigned int ml = mid(low), mh = mid(high);
	struct ike_sa_status kl, kh;

	h_order_nonces(low, high);
	establish();
	assert_int_equal(ike_sa_rekey_ike(only_sa(low)), 0);
	assert_int_equal(ike_sa_rekey_ike(only_sa(high)), 0);
	step_tick(low);
	step_tick(high);
	check(low, "ike0 est [*1]", high, "ike0 est [*1]",
	      "%s>%s CCSA req ike0 #%u, %s>%s CCSA req ike0 #%u", L, H, ml, H,
	      L, mh);
	/* answering makes a new IKE SA, which takes the Child SA */
	deliver("%s>%s CCSA req ike0 #%u", L, H, ml);
	check(low, "ike0 est [*1]", high, "ike0 est [] ike1 est [*1]",
	      "%s>%s CCSA req ike0 #%u, %s>%s CCSA resp ike0 #%u", H, L, mh,
	      H, L, ml);
	deliver("%s>%s CCSA req ike0 #%u", H, L, mh);
	check(low, "ike0 est [] ike1 est [*1]", high,
	      "ike0 est [] ike1 est [*1]",
	      "%s>%s CCSA resp ike0 #%u, %s>%s CCSA resp ike0 #%u", H, L, ml,
	      L, H, mh);
	/* low's own new SA is redundant: the Child SA stays in ike1 */
	deliver("%s>%s CCSA resp ike0 #%u", H, L, ml);
	check(low, "ike0 est [] ike1 est [*1] ike2 est []", high,
	      "ike0 est [] ike1 est [*1]", "%s>%s CCSA resp ike0 #%u", L, H,
	      mh);
	/* high's own is kept: the Child SA moves there */
	deliver("%s>%s CCSA resp ike0 #%u", L, H, mh);
	check(low, "ike0 est [] ike1 est [*1] ike2 est []", high,
	      "ike0 est [] ike1 est [] ike2 est [*1]", "");
	step_tick(low);
	step_tick(high);
	check(low, "ike0 est [] ike1 est [*1] ike2 del []", high,
	      "ike0 del [] ike1 est [] ike2 est [*1]",
	      "%s>%s INFO req ike2/1 #0, %s>%s INFO req ike0 #%u", L, H, H,
	      L, mh + 1);
	deliver("%s>%s INFO req ike2/1 #0", L, H);
	check(low, "ike0 est [] ike1 est [*1] ike2 del []", high,
	      "ike0 del [] ike2 est [*1]",
	      "%s>%s INFO req ike0 #%u, %s>%s INFO resp ike1/2 #0", H, L,
	      mh + 1, H, L);
	deliver("%s>%s INFO req ike0 #%u", H, L, mh + 1);
	check(low, "ike1 est [*1] ike2 del []", high,
	      "ike0 del [] ike2 est [*1]",
	      "%s>%s INFO resp ike1/2 #0, %s>%s INFO resp ike0 #%u", H, L, L,
	      H, mh + 1);
	deliver("%s>%s INFO resp ike1/2 #0", H, L);
	check(low, "ike1 est [*1]", high, "ike0 del [] ike2 est [*1]",
	      "%s>%s INFO resp ike0 #%u", L, H, mh + 1);
	deliver("%s>%s INFO resp ike0 #%u", L, H, mh + 1);
	check(low, "ike1 est [*1]", high, "ike2 est [*1]", "");
	/* the same SA on both sides, high its initiator; it works */
	kl = sa_status(only_sa(low));
	kh = sa_status(only_sa(high));
	assert_true(kl.spi_i == kh.spi_i && kl.spi_r == kh.spi_r);
	assert_true(rec(low)->ike[1].spi_i == kl.spi_i);
	expect_ike_initiator(high, true);
	assert_int_equal(A.ups + B.ups, 2);
	assert_int_equal(A.downs + B.downs, 0);
	assert_int_equal(ike_sa_rekey_child(only_sa(low)), 0);
	settle();
	expect_settled(1, 1);
	check_mirrored();
}

static void test_rekey_ike_collision_steps_a_low(void **state)
{
	ike_collision_steps(&A, &B);
}

static void test_rekey_ike_collision_steps_b_low(void **state)
{
	ike_collision_steps(&B, &A);
}

/*
 * `xc` rekeys the Child SA while `yi` rekeys the IKE SA (RFC 7296
 * 2.25.2: a request to rekey a Child SA while rekeying the IKE SA gets
 * TEMPORARY_FAILURE; vpnd answers an IKE SA rekey while it rekeys a
 * Child SA the same way, as strongSwan does). Both are refused, nothing
 * changes; both are retried later and complete. No nonces decide
 * anything here.
 */
static void child_vs_ike_steps(struct peer *xc, struct peer *yi)
{
	const char *X = xc->name, *Y = yi->name;
	unsigned int mx = mid(xc), my = mid(yi);
	struct ike_sa_status now_x, now_y;

	assert_int_equal(ike_sa_rekey_child(only_sa(xc)), 0);
	assert_int_equal(ike_sa_rekey_ike(only_sa(yi)), 0);
	step_tick(xc);
	step_tick(yi);
	check(xc, "ike0 est [*1]", yi, "ike0 est [*1]",
	      "%s>%s CCSA req ike0 #%u, %s>%s CCSA req ike0 #%u", X, Y, mx, Y,
	      X, my);
	deliver("%s>%s CCSA req ike0 #%u", X, Y, mx);
	check(xc, "ike0 est [*1]", yi, "ike0 est [*1]",
	      "%s>%s CCSA req ike0 #%u, %s>%s CCSA resp ike0 #%u", Y, X, my,
	      Y, X, mx);
	deliver("%s>%s CCSA req ike0 #%u", Y, X, my);
	check(xc, "ike0 est [*1]", yi, "ike0 est [*1]",
	      "%s>%s CCSA resp ike0 #%u, %s>%s CCSA resp ike0 #%u", Y, X, mx,
	      X, Y, my);
	deliver("%s>%s CCSA resp ike0 #%u", Y, X, mx);
	check(xc, "ike0 est [*1]", yi, "ike0 est [*1]",
	      "%s>%s CCSA resp ike0 #%u", X, Y, my);
	deliver("%s>%s CCSA resp ike0 #%u", X, Y, my);
	check(xc, "ike0 est [*1]", yi, "ike0 est [*1]", "");
	assert_non_null(strstr(xc->log, "Child SA rekey refused by peer "
					"(notify 43)"));
	assert_non_null(strstr(yi->log, "IKE SA rekey refused by peer "
					"(notify 43)"));
	assert_int_equal(A.ups + B.ups, 2);
	assert_int_equal(A.downs + B.downs, 0);
	assert_int_equal(rec(&A)->nike + rec(&B)->nike, 2);
	/* no lockstep: the IKE SA rekey is retried first, 5 s on, alone */
	run_for(4900);
	assert_int_equal(ike_ups(&A) + ike_ups(&B), 2);
	run_for(200);
	assert_int_equal(ike_ups(&A), 2);
	assert_int_equal(ike_ups(&B), 2);
	assert_int_equal(A.ups + B.ups, 2);
	/* the Child SA, now under the new IKE SA, 10 s on */
	run_for(4800);
	assert_int_equal(A.ups + B.ups, 2);
	run_for(200);
	assert_int_equal(A.ups + B.ups, 4);
	settle();
	assert_null(strstr(A.log, "simultaneous"));
	assert_null(strstr(B.log, "simultaneous"));
	assert_int_equal(log_count(xc, "rekeying Child SA"), 2);
	assert_int_equal(log_count(yi, "rekeying IKE SA"), 2);
	expect_settled(1, 1);
	check_mirrored();
	now_x = sa_status(only_sa(xc));
	now_y = sa_status(only_sa(yi));
	assert_true(now_x.spi_i == now_y.spi_i && now_x.spi_r == now_y.spi_r);
	assert_int_equal(ike_ups(&A), 2);
	assert_int_equal(ike_ups(&B), 2);
	assert_int_equal(A.ups, 2);
	assert_int_equal(B.ups, 2);
	expect_child_from(xc, true);
	expect_ike_initiator(yi, true);
	check_make_before_break(&A);
	check_make_before_break(&B);
}

static void test_rekey_child_vs_ike_a_child(void **state)
{
	establish();
	child_vs_ike_steps(&A, &B);
}

static void test_rekey_child_vs_ike_b_child(void **state)
{
	establish();
	child_vs_ike_steps(&B, &A);
}

/*
 * `x` rekeys the IKE SA while `y` deletes it (the connection goes down:
 * one DELETE, y forgets the SA at once). RFC 7296 2.25.2: a request to
 * close an IKE SA being rekeyed is answered as usual and the rekey is
 * forgotten. `late_delete`: y answers the rekey first, then deletes
 * both the old and the new IKE SA, which x learns of only then.
 */
static void ike_vs_delete_steps(struct peer *x, struct peer *y,
				bool late_delete)
{
	const char *X = x->name, *Y = y->name;
	unsigned int mx = mid(x), my = mid(y);

	establish();
	assert_int_equal(ike_sa_rekey_ike(only_sa(x)), 0);
	step_tick(x);
	check(x, "ike0 est [*1]", y, "ike0 est [*1]",
	      "%s>%s CCSA req ike0 #%u", X, Y, mx);
	if (!late_delete) {
		snprintf(step_ctx, sizeof(step_ctx), "%s closing", Y);
		ike_conn_down(y->eng, &y->conn, false);
		check(x, "ike0 est [*1]", y, "-",
		      "%s>%s CCSA req ike0 #%u, %s>%s INFO req ike0 #%u", X, Y,
		      mx, Y, X, my);
		/* y knows the SA no more: the rekey is dropped */
		deliver("%s>%s CCSA req ike0 #%u", X, Y, mx);
		check(x, "ike0 est [*1]", y, "-", "%s>%s INFO req ike0 #%u",
		      Y, X, my);
		/* x answers the DELETE and forgets its rekey */
		deliver("%s>%s INFO req ike0 #%u", Y, X, my);
		check(x, "-", y, "-", "%s>%s INFO resp ike0 #%u", X, Y, my);
		deliver("%s>%s INFO resp ike0 #%u", X, Y, my);
		check(x, "-", y, "-", "");
	} else {
		deliver("%s>%s CCSA req ike0 #%u", X, Y, mx);
		check(x, "ike0 est [*1]", y, "ike0 est [] ike1 est [*1]",
		      "%s>%s CCSA resp ike0 #%u", Y, X, mx);
		snprintf(step_ctx, sizeof(step_ctx), "%s closing", Y);
		ike_conn_down(y->eng, &y->conn, false);
		check(x, "ike0 est [*1]", y, "-",
		      "%s>%s CCSA resp ike0 #%u, %s>%s INFO req ike1/- #0, "
		      "%s>%s INFO req ike0 #%u",
		      Y, X, mx, Y, X, Y, X, my);
		deliver("%s>%s CCSA resp ike0 #%u", Y, X, mx);
		check(x, "ike0 est [] ike1 est [*1]", y, "-",
		      "%s>%s INFO req ike1/- #0, %s>%s INFO req ike0 #%u", Y, X,
		      Y, X, my);
		deliver("%s>%s INFO req ike1/- #0", Y, X);
		check(x, "ike0 est []", y, "-",
		      "%s>%s INFO req ike0 #%u, %s>%s INFO resp ike1 #0", Y, X,
		      my, X, Y);
		deliver("%s>%s INFO req ike0 #%u", Y, X, my);
		check(x, "-", y, "-",
		      "%s>%s INFO resp ike1 #0, %s>%s INFO resp ike0 #%u", X, Y,
		      X, Y, my);
		deliver("%s>%s INFO resp ike1 #0", X, Y);
		deliver("%s>%s INFO resp ike0 #%u", X, Y, my);
		check(x, "-", y, "-", "");
	}
	settle();
	expect_settled(0, 0);
	assert_int_equal(x->downs, 1);
	assert_int_equal(y->downs, 1);
	assert_int_equal(x->ups, 1);
	assert_int_equal(y->ups, 1);
	assert_string_equal(x->last_reason, "deleted by peer");
	assert_string_equal(y->last_reason, "connection closed");
	for (unsigned int i = 0; i < rec(x)->nike; i++)
		assert_true(rec(x)->ike[i].down_seq > 0);
	for (unsigned int i = 0; i < rec(y)->nike; i++)
		assert_true(rec(y)->ike[i].down_seq > 0);
}

static void test_rekey_ike_vs_delete_a_rekeys(void **state)
{
	ike_vs_delete_steps(&A, &B, false);
}

static void test_rekey_ike_vs_delete_b_rekeys(void **state)
{
	ike_vs_delete_steps(&B, &A, false);
}

static void test_rekey_ike_vs_late_delete_a_rekeys(void **state)
{
	ike_vs_delete_steps(&A, &B, true);
}

static void test_rekey_ike_vs_late_delete_b_rekeys(void **state)
{
	ike_vs_delete_steps(&B, &A, true);
}

/*
 * `x` rekeys (the Child SA, or with `ike` the IKE SA) while `y` sends a
 * liveness check (an empty INFORMATIONAL); the requests cross. Each is
 * answered as usual, the rekey completes, and the message IDs stay in
 * step: afterwards both sides' next requests carry the next IDs and are
 * answered.
 */
static void rekey_vs_dpd_steps(struct peer *x, struct peer *y, bool ike)
{
	const char *X = x->name, *Y = y->name;
	unsigned int mx = mid(x), my = mid(y);

	establish();
	if (ike)
		assert_int_equal(ike_sa_rekey_ike(only_sa(x)), 0);
	else
		assert_int_equal(ike_sa_rekey_child(only_sa(x)), 0);
	step_tick(x);
	snprintf(step_ctx, sizeof(step_ctx), "%s probing", Y);
	ike_conn_probe(y->eng, &y->conn);
	check(x, "ike0 est [*1]", y, "ike0 est [*1]",
	      "%s>%s CCSA req ike0 #%u, %s>%s INFO req ike0 #%u", X, Y, mx, Y,
	      X, my);
	/* x answers the liveness check while its rekey is out */
	deliver("%s>%s INFO req ike0 #%u", Y, X, my);
	check(x, "ike0 est [*1]", y, "ike0 est [*1]",
	      "%s>%s CCSA req ike0 #%u, %s>%s INFO resp ike0 #%u", X, Y, mx,
	      X, Y, my);
	/* y answers the rekey while its liveness check is out */
	deliver("%s>%s CCSA req ike0 #%u", X, Y, mx);
	check(x, "ike0 est [*1]", y,
	      ike ? "ike0 est [] ike1 est [*1]" : "ike0 est [1 *2]",
	      "%s>%s INFO resp ike0 #%u, %s>%s CCSA resp ike0 #%u", X, Y, my,
	      Y, X, mx);
	deliver("%s>%s INFO resp ike0 #%u", X, Y, my);
	check(x, "ike0 est [*1]", y,
	      ike ? "ike0 est [] ike1 est [*1]" : "ike0 est [1 *2]",
	      "%s>%s CCSA resp ike0 #%u", Y, X, mx);
	deliver("%s>%s CCSA resp ike0 #%u", Y, X, mx);
	check(x, ike ? "ike0 est [] ike1 est [*1]" : "ike0 est [1 *2r]", y,
	      ike ? "ike0 est [] ike1 est [*1]" : "ike0 est [1 *2]", "");
	/* x deletes the old SA, with its next message ID */
	step_tick(x);
	check(x, ike ? "ike0 del [] ike1 est [*1]" : "ike0 est [1 *2r]", y,
	      ike ? "ike0 est [] ike1 est [*1]" : "ike0 est [1 *2]",
	      "%s>%s INFO req ike0 #%u", X, Y, mx + 1);
	deliver("%s>%s INFO req ike0 #%u", X, Y, mx + 1);
	check(x, ike ? "ike0 del [] ike1 est [*1]" : "ike0 est [1 *2r]", y,
	      ike ? "ike1 est [*1]" : "ike0 est [*2]",
	      "%s>%s INFO resp ike0 #%u", Y, X, mx + 1);
	deliver("%s>%s INFO resp ike0 #%u", Y, X, mx + 1);
	check(x, ike ? "ike1 est [*1]" : "ike0 est [*2r]", y,
	      ike ? "ike1 est [*1]" : "ike0 est [*2]", "");
	/* the next requests both ways: next message IDs, answered */
	snprintf(step_ctx, sizeof(step_ctx), "both probing");
	ike_conn_probe(x->eng, &x->conn);
	ike_conn_probe(y->eng, &y->conn);
	if (ike) {
		check(x, "ike1 est [*1]", y, "ike1 est [*1]",
		      "%s>%s INFO req ike1 #0, %s>%s INFO req ike1 #0", X, Y, Y,
		      X);
		deliver("%s>%s INFO req ike1 #0", X, Y);
		deliver("%s>%s INFO req ike1 #0", Y, X);
		check(x, "ike1 est [*1]", y, "ike1 est [*1]",
		      "%s>%s INFO resp ike1 #0, %s>%s INFO resp ike1 #0", Y, X,
		      X, Y);
		deliver("%s>%s INFO resp ike1 #0", Y, X);
		deliver("%s>%s INFO resp ike1 #0", X, Y);
	} else {
		check(x, "ike0 est [*2r]", y, "ike0 est [*2]",
		      "%s>%s INFO req ike0 #%u, %s>%s INFO req ike0 #%u", X, Y,
		      mx + 2, Y, X, my + 1);
		deliver("%s>%s INFO req ike0 #%u", X, Y, mx + 2);
		deliver("%s>%s INFO req ike0 #%u", Y, X, my + 1);
		check(x, "ike0 est [*2r]", y, "ike0 est [*2]",
		      "%s>%s INFO resp ike0 #%u, %s>%s INFO resp ike0 #%u", Y,
		      X, mx + 2, X, Y, my + 1);
		deliver("%s>%s INFO resp ike0 #%u", Y, X, mx + 2);
		deliver("%s>%s INFO resp ike0 #%u", X, Y, my + 1);
	}
	check(x, ike ? "ike1 est [*1]" : "ike0 est [*2r]", y,
	      ike ? "ike1 est [*1]" : "ike0 est [*2]", "");
	settle();
	expect_settled(1, 1);
	check_mirrored();
	check_make_before_break(&A);
	check_make_before_break(&B);
	assert_null(strstr(A.log, "dead"));
	assert_null(strstr(B.log, "dead"));
	assert_null(strstr(A.log, "unreachable"));
	assert_null(strstr(B.log, "unreachable"));
}

static void test_rekey_child_vs_dpd_a_rekeys(void **state)
{
	rekey_vs_dpd_steps(&A, &B, false);
}

static void test_rekey_child_vs_dpd_b_rekeys(void **state)
{
	rekey_vs_dpd_steps(&B, &A, false);
}

static void test_rekey_ike_vs_dpd_a_rekeys(void **state)
{
	rekey_vs_dpd_steps(&A, &B, true);
}

static void test_rekey_ike_vs_dpd_b_rekeys(void **state)
{
	rekey_vs_dpd_steps(&B, &A, true);
}

/*
 * `x` rekeys the Child SA while `y` deletes it (RFC 7296 2.25.1), as
 * strongSwan's child_rekey suite does:
 *  0: the requests cross: y refuses the rekey with TEMPORARY_FAILURE (it
 *     is closing that SA), x answers the DELETE as usual;
 *  1: the same, but the DELETE reaches x only after the refusal (x has
 *     scheduled a retry, which then finds nothing to rekey);
 *  2: the rekey reaches y only after the DELETE exchange is over: it is
 *     answered with CHILD_SA_NOT_FOUND.
 * Every time: the Child SA goes on both sides, once, no new one comes up,
 * the IKE SA stays, and no rekey is tried again.
 */
static void child_vs_delete_steps(struct peer *x, struct peer *y,
				  int variant)
{
	const char *X = x->name, *Y = y->name;
	unsigned int mx = mid(x), my = mid(y);

	establish();
	assert_int_equal(ike_sa_rekey_child(only_sa(x)), 0);
	assert_int_equal(ike_delete_child_spi(y->eng,
					      newest_up(y)->info.spi_in),
			 0);
	assert_int_equal(ike_delete_child_spi(y->eng,
					      newest_up(y)->info.spi_in),
			 -1);
	step_tick(x);
	step_tick(y);
	/* the SA y deletes is no longer its current one */
	check(x, "ike0 est [*1]", y, "ike0 est [1]",
	      "%s>%s CCSA req ike0 #%u, %s>%s INFO req ike0 #%u", X, Y, mx, Y,
	      X, my);
	switch (variant) {
	case 0:
		deliver("%s>%s CCSA req ike0 #%u", X, Y, mx);
		check(x, "ike0 est [*1]", y, "ike0 est [1]",
		      "%s>%s INFO req ike0 #%u, %s>%s CCSA resp ike0 #%u", Y, X,
		      my, Y, X, mx);
		deliver("%s>%s INFO req ike0 #%u", Y, X, my);
		check(x, "ike0 est []", y, "ike0 est [1]",
		      "%s>%s CCSA resp ike0 #%u, %s>%s INFO resp ike0 #%u", Y,
		      X, mx, X, Y, my);
		deliver("%s>%s CCSA resp ike0 #%u", Y, X, mx);
		check(x, "ike0 est []", y, "ike0 est [1]",
		      "%s>%s INFO resp ike0 #%u", X, Y, my);
		deliver("%s>%s INFO resp ike0 #%u", X, Y, my);
		break;
	case 1:
		deliver("%s>%s CCSA req ike0 #%u", X, Y, mx);
		check(x, "ike0 est [*1]", y, "ike0 est [1]",
		      "%s>%s INFO req ike0 #%u, %s>%s CCSA resp ike0 #%u", Y, X,
		      my, Y, X, mx);
		deliver("%s>%s CCSA resp ike0 #%u", Y, X, mx);
		check(x, "ike0 est [*1]", y, "ike0 est [1]",
		      "%s>%s INFO req ike0 #%u", Y, X, my);
		deliver("%s>%s INFO req ike0 #%u", Y, X, my);
		check(x, "ike0 est []", y, "ike0 est [1]",
		      "%s>%s INFO resp ike0 #%u", X, Y, my);
		deliver("%s>%s INFO resp ike0 #%u", X, Y, my);
		break;
	case 2:
		deliver("%s>%s INFO req ike0 #%u", Y, X, my);
		check(x, "ike0 est []", y, "ike0 est [1]",
		      "%s>%s CCSA req ike0 #%u, %s>%s INFO resp ike0 #%u", X, Y,
		      mx, X, Y, my);
		deliver("%s>%s INFO resp ike0 #%u", X, Y, my);
		check(x, "ike0 est []", y, "ike0 est []",
		      "%s>%s CCSA req ike0 #%u", X, Y, mx);
		deliver("%s>%s CCSA req ike0 #%u", X, Y, mx);
		check(x, "ike0 est []", y, "ike0 est []",
		      "%s>%s CCSA resp ike0 #%u", Y, X, mx);
		deliver("%s>%s CCSA resp ike0 #%u", Y, X, mx);
		break;
	}
	check(x, "ike0 est []", y, "ike0 est []", "");
	assert_non_null(strstr(x->log, variant == 2
					       ? "Child SA rekey refused by peer "
						 "(notify 44)"
					       : "Child SA rekey refused by peer "
						 "(notify 43)"));
	if (variant != 2)
		assert_non_null(strstr(y->log, "rekey refused: we are "
						"deleting it"));
	/* nothing more: no retry, no Child SA; the IKE SA lives on */
	run_for(25000);
	settle();
	expect_settled(1, 0);
	assert_int_equal(log_count(x, "rekeying Child SA"), 1);
	assert_int_equal(x->ups, 1);
	assert_int_equal(y->ups, 1);
	assert_int_equal(x->downs, 1);
	assert_int_equal(y->downs, 1);
}

static void test_rekey_child_vs_delete_a_rekeys(void **state)
{
	child_vs_delete_steps(&A, &B, 0);
}

static void test_rekey_child_vs_delete_b_rekeys(void **state)
{
	child_vs_delete_steps(&B, &A, 0);
}

static void test_rekey_child_vs_late_delete_a_rekeys(void **state)
{
	child_vs_delete_steps(&A, &B, 1);
}

static void test_rekey_child_vs_late_delete_b_rekeys(void **state)
{
	child_vs_delete_steps(&B, &A, 1);
}

static void test_rekey_child_late_vs_delete_a_rekeys(void **state)
{
	child_vs_delete_steps(&A, &B, 2);
}

static void test_rekey_child_late_vs_delete_b_rekeys(void **state)
{
	child_vs_delete_steps(&B, &A, 2);
}

static void test_modes(void **state)
{
	struct sa_census c = { 0 };

	A.conn.responder_only = true;
	assert_null(h_initiate(&A));
	A.conn.responder_only = false;
	B.conn.initiator_only = true;
	h_initiate(&A);
	h_pump();
	assert_non_null(strstr(B.log, "connection-mode initiator-only"));
	/* B keeps no state; A waits for an answer */
	expect_side(&B, 0, 0);
	ike_foreach_sa(A.eng, census_cb, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.st.state, IKE_SA_INIT_SENT);
	assert_int_equal(up_children(&A), 0);
}

/* Narrowing: A proposes any-to-any, B accepts only its prefixes. */
static void test_ts_narrowing(void **state)
{
	uint8_t n1[4] = { 10, 1, 0, 0 }, n2[4] = { 10, 2, 0, 0 };

	ike_ts_from_prefix(&B.conn.local_ts[0], AF_INET, n2, 16);
	ike_ts_from_prefix(&B.conn.remote_ts[0], AF_INET, n1, 16);
	/* what the hosts allow as routes: A a 'route 10.2.0.0/16', B its
	 * configured remote selector */
	ike_ts_from_prefix(&A.conn.route_limit[0], AF_INET, n2, 16);
	A.conn.n_route_limit = 1;
	B.conn.route_limit[0] = B.conn.remote_ts[0];
	B.conn.n_route_limit = 1;
	establish();
	assert_int_equal(newest_up(&A)->info.n_local_ts, 1);
	assert_memory_equal(newest_up(&A)->info.local_ts[0].start, n1, 4);
	assert_memory_equal(newest_up(&A)->info.remote_ts[0].start, n2, 4);
	assert_int_equal(newest_up(&A)->info.remote_ts[0].end[1], 2);
	assert_int_equal(newest_up(&A)->info.remote_ts[0].end[2], 255);

	/* disjoint selectors are refused, and the IKE SA deleted */
	teardown(state);
	setup(state);
	ike_ts_from_prefix(&A.conn.local_ts[0], AF_INET, n1, 16);
	ike_ts_from_prefix(&B.conn.remote_ts[0], AF_INET, n2, 16);
	h_initiate(&A);
	h_pump();
	run_for(2000);
	settle();
	expect_settled(0, 0);
	assert_int_equal(A.ups + B.ups, 0);
	assert_non_null(strstr(B.log, "traffic selectors unacceptable"));
}

/* B narrows A's any-to-any to local selectors `b_local` (B's own side);
 * A allows `limit` as routes. Returns after the exchange settled. */
static void narrow_from_b(const uint8_t *b_local, unsigned int plen,
			  const uint8_t *limit, unsigned int limit_len)
{
	uint8_t n1[4] = { 10, 1, 0, 0 };

	ike_ts_from_prefix(&B.conn.local_ts[0], AF_INET, b_local, plen);
	ike_ts_from_prefix(&B.conn.remote_ts[0], AF_INET, n1, 16);
	B.conn.route_limit[0] = B.conn.remote_ts[0];
	B.conn.n_route_limit = 1;
	if (limit) {
		ike_ts_from_prefix(&A.conn.route_limit[0], AF_INET, limit,
				   limit_len);
		A.conn.n_route_limit = 1;
	}
	h_initiate(&A);
	h_pump();
	run_for(2000);
	settle();
}

/*
 * A peer's narrowed selectors choose routes on the host: they are taken
 * only inside what the connection allows (route_limit), never covering the
 * peer's own address, IPv6 only as one prefix; anything else refuses the
 * Child SA, on either side.
 */
static void test_ts_route_limit(void **state)
{
	uint8_t n2[4] = { 10, 2, 0, 0 }, ten[4] = { 10, 0, 0, 0 };
	uint8_t half[4] = { 0, 0, 0, 0 }, peer_net[4] = { 192, 0, 2, 0 };
	uint8_t any[4] = { 0 };

	/* initiator: the responder narrows to 10.2/16, A allows nothing */
	narrow_from_b(n2, 16, NULL, 0);
	expect_settled(0, 0);
	assert_int_equal(A.ups, 0); /* never installed on A (B's went) */
	assert_non_null(strstr(A.log, "traffic selector 10.2.0.0-10.2.255.255 "
				      "refused: outside the connection's"));
	teardown(state);
	setup(state);
	/* the responder narrows to 0.0.0.0/1, A allows 10/8 only */
	narrow_from_b(half, 1, ten, 8);
	expect_settled(0, 0);
	assert_non_null(strstr(A.log, "refused: outside"));
	teardown(state);
	setup(state);
	/* inside what A allows (0/0 as a route limit) but covering B's own
	 * address */
	narrow_from_b(peer_net, 24, any, 0);
	expect_settled(0, 0);
	assert_non_null(strstr(A.log, "covers the peer's own address"));
	teardown(state);
	setup(state);
	/* allowed: 10.2/16 inside A's 10/8 */
	narrow_from_b(n2, 16, ten, 8);
	expect_settled(1, 1);
	assert_memory_equal(newest_up(&A)->info.remote_ts[0].start, n2, 4);
	teardown(state);
	setup(state);
	/* responder: A proposes its 10.1/16, B (any-to-any) allows nothing:
	 * TS_UNACCEPTABLE */
	ike_ts_from_prefix(&A.conn.local_ts[0], AF_INET, (uint8_t[4]){ 10, 1 },
			   16);
	h_initiate(&A);
	h_pump();
	run_for(2000);
	settle();
	expect_settled(0, 0);
	assert_non_null(strstr(B.log, "refused: outside"));
	assert_non_null(strstr(B.log, "traffic selectors unacceptable"));
}

/* IPv6: a narrowed range that is not one prefix is refused. */
static void test_ts_route_limit_v6(void **state)
{
	uint8_t any6[16] = { 0 }, pfx[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	for (int v6only = 0; v6only < 2; v6only++) {
		A.conn.local_ts[0] = A.conn.local_ts[0];
		ike_ts_from_prefix(&A.conn.local_ts[1], AF_INET6, any6, 0);
		ike_ts_from_prefix(&A.conn.remote_ts[1], AF_INET6, any6, 0);
		A.conn.n_local_ts = A.conn.n_remote_ts = 2;
		ike_ts_from_prefix(&A.conn.route_limit[0], AF_INET6, pfx, 32);
		A.conn.n_route_limit = 1;
		B.conn.local_ts[0] = (struct ike_ts){ 0 };
		ike_ts_from_prefix(&B.conn.local_ts[0], AF_INET6, pfx, 48);
		if (!v6only)
			/* 2001:db8::-2001:db8:1:0:0:0:0:ff: not a prefix */
			B.conn.local_ts[0].end[5] = 0x01,
			memset(B.conn.local_ts[0].end + 6, 0, 9),
			B.conn.local_ts[0].end[15] = 0xff;
		ike_ts_from_prefix(&B.conn.remote_ts[0], AF_INET6, any6, 0);
		B.conn.n_local_ts = B.conn.n_remote_ts = 1;
		h_initiate(&A);
		h_pump();
		run_for(2000);
		settle();
		if (!v6only) {
			expect_settled(0, 0);
			assert_non_null(strstr(A.log, "not one prefix"));
		} else {
			expect_settled(1, 1);
		}
		teardown(state);
		setup(state);
	}
}

/* NAT keepalives every 20 s on port 4500, from both sides. */
static void test_keepalive(void **state)
{
	establish();
	run_for(41000);
	assert_int_equal(A.keepalives, 2);
	assert_int_equal(B.keepalives, 2);
	settle();
	expect_settled(1, 1);
}

/* The host reports a volume lifetime reached: the Child SA is rekeyed. */
static void test_volume_rekey(void **state)
{
	uint32_t spi, spi_b;

	establish();
	spi = newest_up(&A)->info.spi_in;
	spi_b = newest_up(&B)->info.spi_in;
	assert_int_equal(ike_rekey_child_spi(A.eng, 0x12345678), -1);
	assert_int_equal(ike_rekey_child_spi(A.eng, spi), 0);
	run_for(1000);
	settle();
	expect_settled(1, 1);
	assert_int_not_equal(newest_up(&A)->info.spi_in, spi);
	check_mirrored();
	assert_replaced(&A, spi, newest_up(&A)->info.spi_in);
	assert_replaced(&B, spi_b, newest_up(&B)->info.spi_in);
	assert_int_equal(A.ups, 2);
	assert_int_equal(B.ups, 2);
	assert_non_null(strstr(A.log, "reached its volume lifetime"));
}

/* Both sides initiate at once: two IKE SAs, each with a Child SA; neither
 * side tears the other's down (no INITIAL_CONTACT), nothing goes down. */
static void test_simultaneous_initiation(void **state)
{
	struct ike_sa *sa;
	struct ike_sa_status st;

	h_initiate(&A);
	h_initiate(&B);
	h_pump();
	run_for(2000);
	settle();
	/* Both IKE SAs came up; the one B (the higher address) started is
	 * deleted by B, with its Child SA: one of each is left, A's. */
	expect_settled(1, 1);
	assert_int_equal(A.ups, 2);
	assert_int_equal(B.ups, 2);
	assert_int_equal(A.downs, 1);
	assert_int_equal(B.downs, 1);
	sa = only_sa(&A);
	ike_sa_get_status(sa, &st);
	assert_true(st.initiator);
	ike_sa_get_status(only_sa(&B), &st);
	assert_false(st.initiator);
	assert_non_null(strstr(B.log, "duplicate IKE SA"));
	assert_null(strstr(A.log, "duplicate IKE SA"));
	assert_null(strstr(A.log, "INITIAL_CONTACT"));
	assert_null(strstr(B.log, "INITIAL_CONTACT"));
}

/* A's IKE_SA_INIT is lost; B initiates and comes up first: A drops its
 * own attempt at once instead of bringing it up later as a duplicate
 * (which would then cost B the IKE SA it has). */
static void test_unanswered_attempt_abandoned(void **state)
{
	struct ike_sa_status st;

	h_drop_next = 1;
	h_initiate(&A);
	h_initiate(&B);
	h_pump();
	assert_non_null(strstr(A.log, "attempt abandoned"));
	run_for(40000); /* past every retransmission A would have sent */
	settle();
	expect_settled(1, 1);
	assert_int_equal(A.ups, 1);
	assert_int_equal(B.ups, 1);
	assert_int_equal(A.downs, 0);
	assert_int_equal(B.downs, 0);
	ike_sa_get_status(only_sa(&A), &st);
	assert_false(st.initiator);
	assert_null(strstr(B.log, "duplicate IKE SA"));
}

/* A restarted peer (INITIAL_CONTACT): the old SAs go, after the new Child
 * SA is installed. */
static void test_initial_contact(void **state)
{
	struct ike_sa_status old_a, new_a;
	uint32_t old_child;

	establish();
	old_a = sa_status(only_sa(&A));
	old_child = newest_up(&A)->info.spi_in;
	/* B forgets everything, as after a restart */
	ike_engine_free(B.eng);
	memset(rec(&B)->child, 0, sizeof(rec(&B)->child));
	rec(&B)->nchild = B.ups = B.downs = rec(&B)->nike = 0;
	B.eng = h_engine_new(&B);
	h_initiate(&B);
	h_pump();
	settle();
	assert_non_null(strstr(A.log, "peer sent INITIAL_CONTACT"));
	expect_settled(1, 1);
	check_mirrored();
	new_a = sa_status(only_sa(&A));
	assert_false(new_a.initiator);
	assert_int_equal(A.ups, 2);
	assert_int_equal(A.downs, 1);
	assert_int_equal(B.ups, 1);
	assert_int_equal(B.downs, 0);
	/* the new Child SA was up before the old one went, and the new IKE
	 * SA before the old one ended */
	assert_replaced(&A, old_child, new_a.child_spi_in);
	check_make_before_break(&A);
	assert_ike_replaced(&A, old_a.spi_i, old_a.spi_r, new_a.spi_i,
			    new_a.spi_r);
	assert_string_equal(ike_rec_find(&A, old_a.spi_i, old_a.spi_r)->reason,
			    "replaced after peer restart");
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

	h_props(A.conn.ike_props, &A.conn.n_ike_props, VPN_PROPOSAL_IKE,
		ike_a);
	h_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		ike_b);
	h_props(A.conn.esp_props, &A.conn.n_esp_props, VPN_PROPOSAL_ESP,
		esp_a);
	h_props(B.conn.esp_props, &B.conn.n_esp_props, VPN_PROPOSAL_ESP,
		esp_b);
	establish();
	assert_int_equal(newest_up(&A)->info.encr_keylen, 36);
	ike_foreach_sa(B.eng, grab_sa, &bsa);
	assert_non_null(bsa);
	assert_int_equal(ike_sa_rekey_child(bsa), 0);
	run_for(1000);
	settle();
	expect_settled(1, 1);
	check_mirrored();
	assert_int_equal(B.ups, 2);
	expect_child_from(&B, true);
	ike_foreach_sa(B.eng, grab_sa, &bsa);
	assert_int_equal(ike_sa_rekey_ike(bsa), 0);
	run_for(2000);
	settle();
	expect_settled(1, 1);
	assert_non_null(strstr(B.log, "IKE SA rekeyed"));
	expect_ike_initiator(&B, true);
	/* the rekeyed IKE SA works: it can rekey the Child SA again */
	ike_foreach_sa(B.eng, grab_sa, &bsa);
	assert_int_equal(ike_sa_rekey_child(bsa), 0);
	run_for(1000);
	settle();
	expect_settled(1, 1);
	check_mirrored();
	assert_int_equal(B.ups, 3);
	assert_int_equal(A.ups, 3);
	check_make_before_break(&A);
	check_make_before_break(&B);
	assert_null(strstr(A.log, "integrity check failed"));
}

/*
 * A rekey the peer refuses (no proposal chosen) is answered with the
 * notify, leaves the SA in place, and is retried 10 s later.
 */
static void test_rekey_child_refused_retried(void **state)
{
	static const char *const esp_other[] = { "chacha20poly1305", NULL };
	struct ike_sa *sa = h_initiate(&A);
	struct ike_sa_status st;
	uint64_t refused_at;
	uint32_t old_a, old_b;

	h_pump();
	old_a = newest_up(&A)->info.spi_in;
	old_b = newest_up(&B)->info.spi_in;
	h_props(B.conn.esp_props, &B.conn.n_esp_props, VPN_PROPOSAL_ESP,
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
	expect_settled(1, 1);

	h_props(B.conn.esp_props, &B.conn.n_esp_props, VPN_PROPOSAL_ESP,
		(const char *const[]){ "aes256gcm16", NULL });
	run_for(9000);
	assert_int_equal(A.ups, 1);
	run_for(2000);
	settle();
	assert_int_equal(A.ups, 2);
	expect_settled(1, 1);
	check_mirrored();
	assert_replaced(&A, old_a, newest_up(&A)->info.spi_in);
	assert_replaced(&B, old_b, newest_up(&B)->info.spi_in);
}

static void test_rekey_ike_refused_retried(void **state)
{
	static const char *const ike_other[] = { "aes128-sha256-prfsha256-ecp256",
						 NULL };
	struct ike_sa *sa = h_initiate(&A);
	struct ike_sa_status st, old_a, new_a;
	uint64_t refused_at;

	h_pump();
	old_a = sa_status(sa);
	h_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		ike_other);
	assert_int_equal(ike_sa_rekey_ike(sa), 0);
	run_for(100);
	refused_at = clock_ms;
	assert_non_null(strstr(B.log, "IKE SA rekey refused: no proposal chosen"));
	assert_non_null(strstr(A.log, "IKE SA rekey refused by peer (notify 14)"));
	ike_sa_get_status(sa, &st);
	assert_int_equal(st.state, IKE_SA_ESTABLISHED);
	assert_int_equal(st.rekey_at_ms, refused_at + 10000);
	expect_settled(1, 1);

	h_props(B.conn.ike_props, &B.conn.n_ike_props, VPN_PROPOSAL_IKE,
		(const char *const[]){ "aes256gcm16-prfsha256-x25519",
				       NULL });
	run_for(11000);
	settle();
	assert_non_null(strstr(A.log, "IKE SA rekeyed"));
	expect_settled(1, 1);
	new_a = sa_status(only_sa(&A));
	assert_ike_replaced(&A, old_a.spi_i, old_a.spi_r, new_a.spi_i,
			    new_a.spi_r);
	assert_int_equal(A.ups, 1);
	assert_int_equal(A.downs, 0);
	assert_int_equal(B.downs, 0);
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
		cmocka_unit_test_setup_teardown(test_lifetimes_responder,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifetimes_collide, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_collision_a_low, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_collision_b_low, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_ike_collision_a_low,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_ike_collision_b_low,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_collision_steps_a_low, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_collision_steps_b_low, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_ike_collision_steps_a_low, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_ike_collision_steps_b_low, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_vs_ike_a_child, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_vs_ike_b_child, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_ike_vs_delete_a_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_ike_vs_delete_b_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_ike_vs_late_delete_a_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_ike_vs_late_delete_b_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_vs_dpd_a_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_vs_dpd_b_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_ike_vs_dpd_a_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_ike_vs_dpd_b_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_vs_delete_a_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_vs_delete_b_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_vs_late_delete_a_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_vs_late_delete_b_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_late_vs_delete_a_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_late_vs_delete_b_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_responder_chooses_subset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_attempt_abandoned,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_initiation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_initial_contact, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_volume_rekey, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ts_route_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ts_route_limit_v6, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ts_narrowing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_rekey_child_refused_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_ike_refused_retried,
						setup, teardown),
	};

	/* before sodium_init(): every random byte goes through the harness
	 * (h_order_nonces()) */
	if (h_rng_install(H_RNG_SYSTEM) != 0)
		return 1;
	vpn_crypto_init();
	return cmocka_run_group_tests_name("exchange", tests, NULL, NULL);
}
