/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host the IKE engine's tests run it in: two engines, A and B, in one
 * process, a queue of the datagrams between them that the test controls
 * (deliver, drop, take one out), a virtual clock, SPI numbering, and the
 * ike_ops callbacks, which count what the host saw and then call the
 * test's own hooks for the callbacks it cares about.
 *
 * Used by tests/unit/ike/test_{exchange,inject,dos}.c and, compiled with
 * the fuzz flags, by tests/fuzz/ike/fuzz_ike_engine.c. harness.c does not
 * use cmocka: a broken invariant goes to h_config.fail (cmocka tests pass
 * h_fail_cmocka, below), else it is printed and the process aborts (a
 * crash to libFuzzer).
 *
 * A test's round: h_setup(&cfg) (clock at 1000000 ms, empty queue, peers
 * A and B with their connections and engines), the test, h_teardown().
 */
#ifndef VPND_TEST_IKE_HARNESS_H
#define VPND_TEST_IKE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/ike.h"

#define H_QLEN 64	/* datagrams the queue can hold */
#define H_LOG_LEN (64 * 1024)
#define H_IKE "aes256gcm16-prfsha256-x25519" /* default proposals */
#define H_ESP "aes256gcm16"

struct peer;

/* A datagram in flight. */
struct dgram {
	struct peer *to;
	struct ike_addr src, dst; /* as the sender had them: local, remote */
	size_t len;
	char desc[64];		  /* hooks.queued may describe it */
	uint8_t buf[IKE_MSG_MAX]; /* last: copies take only len bytes */
};

struct peer {
	const char *name; /* "A" or "B" */
	struct ike_engine *eng;
	struct ike_conn conn;
	struct peer *other;
	uint32_t next_spi; /* A from 0xa0000001, B from 0xb0000001 */
	bool unreachable;  /* datagrams to this peer are lost */
	/* What the host saw, counted before the test's hook runs. */
	unsigned int sent;	  /* datagrams sent (lost ones too) */
	unsigned int ups, downs;  /* child_up, child_down */
	unsigned int events;	  /* child_up + child_down + sa_event */
	unsigned int established; /* sa_event for an established IKE SA */
	unsigned int keepalives;
	const char *last_reason; /* of the last sa_event with a reason */
	/* random bytes drawn by this engine, ordered (h_order_nonces()) */
	uint8_t rand_prefix;
	uint32_t rand_count;
	/* log lines, one a line (h_config.log_capture) */
	size_t loglen;
	char log[H_LOG_LEN]; /* last: h_setup() clears only its first byte */
};

/* The test's own callbacks: each runs after the harness's bookkeeping. */
struct h_hooks {
	/* NULL: p->next_spi++ */
	uint32_t (*alloc_spi)(struct peer *p);
	void (*child_up)(struct peer *p, struct ike_sa *sa,
			 const struct ike_child_info *info);
	void (*child_down)(struct peer *p, struct ike_sa *sa, uint32_t spi_in,
			   uint32_t spi_out);
	void (*sa_event)(struct peer *p, struct ike_sa *sa, const char *reason);
	void (*keepalive)(struct peer *p, const struct ike_addr *local,
			  const struct ike_addr *remote);
	void (*log)(struct peer *p, int level, const char *msg);
	/* a datagram has been queued (d->desc is empty) */
	void (*queued)(struct dgram *d);
};

/* A connection as h_conn_init() makes it: IPv4 or IPv6 by the addresses,
 * PSK, proposals, lifetimes 28800 s / 3600 s, any-to-any IPv4 selectors,
 * no IDs. */
struct h_conn {
	const char *name;	 /* NULL: the peer's name */
	const char *psk;	 /* NULL: "secret" */
	const char *const *ike;	 /* NULL-terminated; NULL: H_IKE */
	const char *const *esp;	 /* NULL-terminated; NULL: H_ESP */
	bool no_dpd;		 /* else liveness checks 10 s, dead after 30 s */
	bool ids_from_addr;	 /* local and remote ID: the addresses */
};

enum h_find {
	H_FIND_BY_ADDR, /* the peer's connection for its remote address */
	H_FIND_ANY,	/* the peer's connection, whoever sends */
};

struct h_config {
	struct h_conn conn;	    /* both peers' */
	const char *addr_a, *addr_b; /* NULL: 192.0.2.1, 192.0.2.2 */
	enum h_find find;	    /* the engines' find_conn */
	unsigned int qlimit;	    /* in flight at most; 0, > H_QLEN: H_QLEN */
	bool qfull_lost;	    /* one more is lost (else: a failure) */
	unsigned int pump_max;	    /* h_pump() delivers this many at most */
	/* The engines get a log callback only with log_capture or
	 * hooks.log (without, they write no log lines and count none as
	 * suppressed). IKE_TEST_VERBOSE in the environment: lines to stderr. */
	bool log_capture; /* into peer->log; a full log is a failure */
	struct h_hooks hooks;
	void (*fail)(const char *msg); /* must not return; NULL: abort() */
};

extern struct peer A, B;
extern uint64_t clock_ms; /* what now_ms() returns */
extern unsigned int h_drop_next; /* lose this many datagrams sent from now */
extern bool h_lose_all;		 /* lose every datagram sent */
/* While the harness runs an engine (h_initiate, h_tick, deliveries): */
extern struct peer *h_current; /* that peer; NULL otherwise */
extern bool h_in_tick;	       /* it runs ike_tick() */

void h_setup(const struct h_config *cfg);
void h_teardown(void);
/* A new engine for p with the harness's callbacks. */
struct ike_engine *h_engine_new(struct peer *p);

void h_conn_init(struct ike_conn *c, const char *lip, const char *rip,
		 const struct h_conn *o);
/* Parse NULL-terminated proposal strings into out[0..*n). */
void h_props(struct vpn_proposal *out, unsigned int *n,
	     enum vpn_proposal_kind kind, const char *const *strs);

/* ike_initiate(), ike_tick() on p's engine, with h_current (and
 * h_in_tick) set. */
struct ike_sa *h_initiate(struct peer *p);
void h_tick(struct peer *p);
/* ike_input() into p's engine on a heap copy of exactly len bytes (ASan
 * sees reads beyond it). local, remote: as p sees them. */
void h_input(struct peer *p, const struct ike_addr *local,
	     const struct ike_addr *remote, const uint8_t *buf, size_t len);
/* A datagram (taken out of the queue) to its receiver, by h_input(). */
void h_deliver_dgram(const struct dgram *d);

/* The queue, first in flight first. */
unsigned int h_queue_len(void);
bool h_queue_empty(void);
struct dgram *h_queue_at(unsigned int i); /* NULL past the end */
/* The first datagram out of the queue: valid until the next one is
 * queued; NULL if none. */
struct dgram *h_pop(void);
/* The i-th out of the queue, into *d (the others keep their order). */
bool h_take(unsigned int i, struct dgram *d);
bool h_drop(void); /* the first one lost; false if none */
void h_queue_clear(void);
/* Deliver the first n in order (all: ~0u), what they cause included;
 * returns how many. */
unsigned int h_deliver(unsigned int n);
/* Deliver until none is in flight: a failure if h_config.pump_max
 * deliveries do not get there. */
void h_pump(void);
/* Advance the clock in 100 ms ticks: tick A, tick B, pump; then `each`
 * (may be NULL) after every tick. */
void h_run_for(uint64_t ms, void (*each)(void));

/* Random bytes: install before vpn_crypto_init() (sodium_init). */
enum h_rng {
	H_RNG_SYSTEM,	     /* the system's */
	H_RNG_DETERMINISTIC, /* a fixed sequence, restarted by h_setup() */
};
int h_rng_install(enum h_rng kind);
/* From now on (until h_setup()) every buffer of random bytes an engine
 * draws through the harness begins with its peer's prefix and a count of
 * its draws: every nonce `low` draws is lower than any `high` draws. */
void h_order_nonces(struct peer *low, struct peer *high);

/* A failure: h_config.fail, or printed and abort(). */
void h_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef fail_msg
/* cmocka.h came first: h_config.fail = h_fail_cmocka fails the test. */
static inline void h_fail_cmocka(const char *msg)
{
	fail_msg("%s", msg);
}
#endif

#endif /* VPND_TEST_IKE_HARNESS_H */
