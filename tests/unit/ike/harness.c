// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The IKE engine's test host (harness.h). No cmocka here: the engine
 * fuzzer compiles this file too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sodium.h>

#include "harness.h"

struct peer A, B;
uint64_t clock_ms;
unsigned int h_drop_next;
bool h_lose_all;
struct peer *h_current;
bool h_in_tick;

static struct h_config cfg;
static struct ike_ops ops;
static struct dgram queue[H_QLEN];
static unsigned int qhead, qtail; /* in flight: [qhead, qtail) mod H_QLEN */

void h_failf(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cfg.fail)
		cfg.fail(msg);
	fprintf(stderr, "IKE test harness: %s\n", msg);
	abort();
}

/* ------------------------------------------------------------------ */
/* Random bytes                                                        */
/* ------------------------------------------------------------------ */

/*
 * The system's (unit tests) or splitmix64 from a fixed seed (the fuzzer:
 * same input, same SPIs, nonces and IVs). With h_order_nonces() each
 * buffer a peer's engine draws begins with that peer's prefix byte and a
 * counter of its draws (big-endian). Nonces then compare by peer first,
 * and within one peer by when they were drawn: rekey collisions (RFC 7296
 * 2.8.1, 2.8.2: the SA created with the lowest of the four nonces is
 * redundant) have one known outcome.
 */

#define RNG_SEED 0x76706e642d66757aULL

static enum h_rng rng_kind;
static uint64_t rng_state;
static bool ordered; /* h_order_nonces() in force */

static uint64_t splitmix64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_buf(void *const buf, const size_t size)
{
	uint8_t hdr[5], *p = buf;

	if (rng_kind == H_RNG_DETERMINISTIC)
		for (size_t i = 0; i < size; i += 8) {
			uint64_t v = splitmix64();

			memcpy(p + i, &v, size - i < 8 ? size - i : 8);
		}
	else
		randombytes_sysrandom_implementation.buf(buf, size);
	if (!ordered || !h_current)
		return;
	h_current->rand_count++;
	hdr[0] = h_current->rand_prefix;
	hdr[1] = h_current->rand_count >> 24;
	hdr[2] = h_current->rand_count >> 16;
	hdr[3] = h_current->rand_count >> 8;
	hdr[4] = h_current->rand_count;
	memcpy(buf, hdr, size < sizeof(hdr) ? size : sizeof(hdr));
}

static uint32_t rng_random(void)
{
	uint32_t v;

	if (rng_kind == H_RNG_DETERMINISTIC && !ordered)
		return (uint32_t)splitmix64();
	rng_buf(&v, sizeof(v));
	return v;
}

static const char *rng_name(void)
{
	return rng_kind == H_RNG_DETERMINISTIC ? "vpnd-test-deterministic"
					       : "vpnd-test-ordered";
}

static randombytes_implementation rng = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

int h_rng_install(enum h_rng kind)
{
	rng_kind = kind;
	rng_state = RNG_SEED;
	return randombytes_set_implementation(&rng);
}

void h_order_nonces(struct peer *low, struct peer *high)
{
	ordered = true;
	low->rand_prefix = 0x10;
	high->rand_prefix = 0x90;
}

/* ------------------------------------------------------------------ */
/* The queue                                                           */
/* ------------------------------------------------------------------ */

static void dgram_copy(struct dgram *dst, const struct dgram *src)
{
	memcpy(dst, src, offsetof(struct dgram, buf) + src->len);
}

unsigned int h_queue_len(void)
{
	return qtail - qhead;
}

bool h_queue_empty(void)
{
	return qhead == qtail;
}

struct dgram *h_queue_at(unsigned int i)
{
	return i < h_queue_len() ? &queue[(qhead + i) % H_QLEN] : NULL;
}

struct dgram *h_pop(void)
{
	return h_queue_empty() ? NULL : &queue[qhead++ % H_QLEN];
}

bool h_take(unsigned int i, struct dgram *d)
{
	if (i >= h_queue_len())
		return false;
	dgram_copy(d, h_queue_at(i));
	/* the ones before it move up one */
	for (; i > 0; i--)
		dgram_copy(h_queue_at(i), h_queue_at(i - 1));
	qhead++;
	return true;
}

bool h_drop(void)
{
	return h_pop() != NULL;
}

void h_queue_clear(void)
{
	qhead = qtail = 0;
}

static void q_push(struct peer *to, const struct ike_addr *src,
		   const struct ike_addr *dst, const uint8_t *buf, size_t len)
{
	unsigned int limit = cfg.qlimit && cfg.qlimit < H_QLEN ? cfg.qlimit
							       : H_QLEN;
	struct dgram *d;

	if (h_drop_next) {
		h_drop_next--;
		return;
	}
	if (h_lose_all || to->unreachable)
		return;
	if (h_queue_len() >= limit) {
		if (cfg.qfull_lost)
			return;
		h_failf("datagram queue full: %u in flight", h_queue_len());
	}
	d = &queue[qtail++ % H_QLEN];
	d->to = to;
	d->src = *src;
	d->dst = *dst;
	d->len = len;
	d->desc[0] = '\0';
	memcpy(d->buf, buf, len);
	if (cfg.hooks.queued)
		cfg.hooks.queued(d);
}

void h_input(struct peer *p, const struct ike_addr *local,
	     const struct ike_addr *remote, const uint8_t *buf, size_t len)
{
	/* the addresses may be in a queue slot the engine's answers reuse */
	struct ike_addr l = *local, r = *remote;
	struct peer *was = h_current;
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		h_failf("out of memory");
	memcpy(copy, buf, len);
	h_current = p;
	ike_input(p->eng, &l, &r, copy, len);
	h_current = was;
	free(copy);
}

/* The receiver sees the sender's addresses the other way round. */
void h_deliver_dgram(const struct dgram *d)
{
	h_input(d->to, &d->dst, &d->src, d->buf, d->len);
}

unsigned int h_deliver(unsigned int n)
{
	unsigned int done = 0;

	while (done < n && !h_queue_empty()) {
		struct dgram *d = h_pop();

		h_deliver_dgram(d);
		done++;
	}
	return done;
}

void h_pump(void)
{
	h_deliver(cfg.pump_max);
	if (!h_queue_empty())
		h_failf("datagrams still in flight after %u deliveries",
			cfg.pump_max);
}

void h_run_for(uint64_t ms, void (*each)(void))
{
	for (uint64_t t = 0; t < ms; t += 100) {
		clock_ms += 100;
		h_tick(&A);
		h_tick(&B);
		h_pump();
		if (each)
			each();
	}
}

/* ------------------------------------------------------------------ */
/* The host callbacks                                                  */
/* ------------------------------------------------------------------ */

static void h_send(void *host, const struct ike_addr *local,
		   const struct ike_addr *remote, const uint8_t *buf,
		   size_t len)
{
	struct peer *p = host;

	p->sent++;
	if (len == 0 || len > IKE_MSG_MAX)
		h_failf("%s sends a datagram of %zu bytes", p->name, len);
	q_push(p->other, local, remote, buf, len);
}

static uint64_t h_now(void *host)
{
	return clock_ms;
}

static uint32_t h_spi(void *host)
{
	struct peer *p = host;

	return cfg.hooks.alloc_spi ? cfg.hooks.alloc_spi(p) : p->next_spi++;
}

static struct ike_conn *h_find(void *host, const struct ike_addr *local,
			       const struct ike_addr *remote)
{
	struct peer *p = host;

	if (cfg.find == H_FIND_ANY)
		return &p->conn;
	return ike_addr_same_ip(remote, &p->conn.remote) ? &p->conn : NULL;
}

static void h_child_up(void *host, struct ike_sa *sa,
		       const struct ike_child_info *info)
{
	struct peer *p = host;

	p->ups++;
	p->events++;
	if (cfg.hooks.child_up)
		cfg.hooks.child_up(p, sa, info);
}

static void h_child_down(void *host, struct ike_sa *sa, uint32_t spi_in,
			 uint32_t spi_out)
{
	struct peer *p = host;

	p->downs++;
	p->events++;
	if (cfg.hooks.child_down)
		cfg.hooks.child_down(p, sa, spi_in, spi_out);
}

static void h_event(void *host, struct ike_sa *sa, const char *reason)
{
	struct peer *p = host;
	struct ike_sa_status st;

	p->events++;
	ike_sa_get_status(sa, &st);
	if (st.state == IKE_SA_ESTABLISHED)
		p->established++;
	if (reason)
		p->last_reason = reason;
	if (cfg.hooks.sa_event)
		cfg.hooks.sa_event(p, sa, reason);
}

static void h_keepalive(void *host, const struct ike_addr *local,
			const struct ike_addr *remote)
{
	struct peer *p = host;

	p->keepalives++;
	if (cfg.hooks.keepalive)
		cfg.hooks.keepalive(p, local, remote);
}

static void h_log(void *host, int level, const char *msg)
{
	struct peer *p = host;

	if (cfg.log_capture) {
		int n = snprintf(p->log + p->loglen, sizeof(p->log) - p->loglen,
				 "%s\n", msg);

		/* a log line lost would make log checks lie */
		if (n < 0 || p->loglen + n >= sizeof(p->log))
			h_failf("%s: test log full", p->name);
		p->loglen += n;
	}
	if (getenv("IKE_TEST_VERBOSE"))
		fprintf(stderr, "[%s] %s\n", p->name, msg);
	if (cfg.hooks.log)
		cfg.hooks.log(p, level, msg);
}

/* ------------------------------------------------------------------ */
/* Connections and peers                                               */
/* ------------------------------------------------------------------ */

void h_props(struct vpn_proposal *out, unsigned int *n,
	     enum vpn_proposal_kind kind, const char *const *strs)
{
	*n = 0;
	for (; *strs; strs++) {
		char err[512];

		if (vpn_proposal_parse(*strs, kind, &out[*n], err,
				       sizeof(err)) < 0)
			h_failf("%s", err);
		(*n)++;
	}
}

void h_conn_init(struct ike_conn *c, const char *lip, const char *rip,
		 const struct h_conn *o)
{
	static const char *const ike[] = { H_IKE, NULL };
	static const char *const esp[] = { H_ESP, NULL };
	const char *psk = o->psk ? o->psk : "secret";
	int af = strchr(lip, ':') ? AF_INET6 : AF_INET;
	uint8_t any[4] = { 0 };

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", o->name ? o->name : "test");
	c->local.family = c->remote.family = af;
	inet_pton(af, lip, c->local.addr);
	inet_pton(af, rip, c->remote.addr);
	if (o->ids_from_addr) {
		ike_id_from_addr(&c->local, &c->local_id_type, c->local_id,
				 &c->local_id_len);
		ike_id_from_addr(&c->remote, &c->remote_id_type, c->remote_id,
				 &c->remote_id_len);
	}
	c->psklen = strlen(psk);
	memcpy(c->psk, psk, c->psklen);
	h_props(c->ike_props, &c->n_ike_props, VPN_PROPOSAL_IKE,
		o->ike ? o->ike : ike);
	h_props(c->esp_props, &c->n_esp_props, VPN_PROPOSAL_ESP,
		o->esp ? o->esp : esp);
	c->ike_lifetime = 28800;
	c->child_lifetime = 3600;
	if (!o->no_dpd) {
		c->dpd_interval = 10;
		c->dpd_timeout = 30;
	}
	ike_ts_from_prefix(&c->local_ts[0], AF_INET, any, 0);
	ike_ts_from_prefix(&c->remote_ts[0], AF_INET, any, 0);
	c->n_local_ts = c->n_remote_ts = 1;
}

struct ike_engine *h_engine_new(struct peer *p)
{
	struct ike_engine *eng = ike_engine_new(&ops, p);

	if (!eng)
		h_failf("%s: no engine", p->name);
	return eng;
}

static void peer_init(struct peer *p, const char *name, struct peer *other,
		      const char *lip, const char *rip, uint32_t spi_base)
{
	struct h_conn o = cfg.conn;

	/* all but the log buffer, which is large (a fuzzer's round) */
	memset(p, 0, offsetof(struct peer, log));
	p->log[0] = '\0';
	p->name = name;
	p->other = other;
	p->next_spi = spi_base;
	if (!o.name)
		o.name = name;
	h_conn_init(&p->conn, lip, rip, &o);
}

void h_setup(const struct h_config *c)
{
	cfg = *c;
	ops = (struct ike_ops){
		.send = h_send,
		.now_ms = h_now,
		.alloc_spi = h_spi,
		.find_conn = h_find,
		.child_up = h_child_up,
		.child_down = h_child_down,
		.sa_event = h_event,
		.keepalive = h_keepalive,
		.log = cfg.log_capture || cfg.hooks.log ? h_log : NULL,
	};
	clock_ms = 1000000;
	h_queue_clear();
	h_drop_next = 0;
	h_lose_all = false;
	h_current = NULL;
	h_in_tick = false;
	ordered = false;
	rng_state = RNG_SEED;
	peer_init(&A, "A", &B, cfg.addr_a ? cfg.addr_a : "192.0.2.1",
		  cfg.addr_b ? cfg.addr_b : "192.0.2.2", 0xa0000001);
	peer_init(&B, "B", &A, cfg.addr_b ? cfg.addr_b : "192.0.2.2",
		  cfg.addr_a ? cfg.addr_a : "192.0.2.1", 0xb0000001);
	A.eng = h_engine_new(&A);
	B.eng = h_engine_new(&B);
}

void h_teardown(void)
{
	ike_engine_free(A.eng);
	ike_engine_free(B.eng);
	A.eng = B.eng = NULL;
	h_queue_clear();
}

/* ------------------------------------------------------------------ */
/* Running an engine                                                   */
/* ------------------------------------------------------------------ */

struct ike_sa *h_initiate(struct peer *p)
{
	struct ike_sa *sa;

	h_current = p;
	sa = ike_initiate(p->eng, &p->conn);
	h_current = NULL;
	return sa;
}

void h_tick(struct peer *p)
{
	h_current = p;
	h_in_tick = true;
	ike_tick(p->eng);
	h_in_tick = false;
	h_current = NULL;
}
