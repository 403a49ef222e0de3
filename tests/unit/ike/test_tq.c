// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: the IKE engine's timer queue (vpnd/ike/tq.c) and hash
 * table (vpnd/ike/htab.c), against plain reference models: random
 * inserts, moves earlier and later, and removals; the queue must always
 * yield the earliest deadline, the table find exactly what is in it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "ike/htab.h"
#include "ike/tq.h"

#define N 2000

static uint64_t rnd(void)
{
	uint64_t v;

	vpn_random(&v, sizeof(v));
	return v;
}

/* The reference: the earliest deadline among the queued nodes. */
static struct ike_tq_node *ref_first(struct ike_tq_node *nodes, size_t n)
{
	struct ike_tq_node *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (ike_tq_queued(&nodes[i]) && (!best || nodes[i].at < best->at))
			best = &nodes[i];
	return best;
}

static void test_tq_random(void **state)
{
	static struct ike_tq_node nodes[N];
	struct ike_tq q;

	ike_tq_init(&q);
	for (size_t i = 0; i < N; i++)
		ike_tq_node_init(&nodes[i]);
	for (int step = 0; step < 20000; step++) {
		struct ike_tq_node *n = &nodes[rnd() % N];
		struct ike_tq_node *want, *got;

		switch (rnd() % 4) {
		case 0:
		case 1: /* insert or move, earlier or later */
			assert_int_equal(ike_tq_set(&q, n, rnd() % 100000), 0);
			break;
		case 2:
			ike_tq_del(&q, n);
			assert_false(ike_tq_queued(n));
			break;
		case 3: /* pop the earliest, as ike_tick does */
			got = ike_tq_first(&q);
			if (got)
				ike_tq_del(&q, got);
			break;
		}
		want = ref_first(nodes, N);
		got = ike_tq_first(&q);
		if (!want)
			assert_null(got);
		else
			assert_true(got && got->at == want->at);
	}
	/* drain in order */
	for (uint64_t last = 0; ike_tq_first(&q);) {
		struct ike_tq_node *n = ike_tq_first(&q);

		assert_true(n->at >= last);
		last = n->at;
		ike_tq_del(&q, n);
	}
	assert_null(ref_first(nodes, N));
	ike_tq_fini(&q);
}

struct item {
	struct ike_hnode h;
	uint64_t key;
	bool in;
};

static struct item *find(struct ike_htab *t, uint64_t key)
{
	uint64_t h = ike_htab_hash(t, &key, sizeof(key));

	for (struct ike_hnode *n = ike_htab_first(t, h); n;
	     n = ike_htab_next(n, h)) {
		struct item *it = ike_hnode_entry(n, struct item, h);

		if (it->key == key)
			return it;
	}
	return NULL;
}

/* Thousands of entries (the table grows from 64 buckets), half removed
 * again, a few keys shared by two entries: every lookup agrees with
 * what was added and not removed. */
static void test_htab_random(void **state)
{
	static struct item items[N];
	struct ike_htab t;

	assert_int_equal(ike_htab_init(&t), 0);
	for (size_t i = 0; i < N; i++) {
		items[i].key = i % 500 == 0 ? 42 : rnd();
		items[i].in = true;
		ike_htab_add(&t, &items[i].h,
			     ike_htab_hash(&t, &items[i].key, sizeof(uint64_t)));
	}
	assert_true(t.nbuckets >= N);
	for (size_t i = 0; i < N; i += 2) {
		ike_htab_del(&t, &items[i].h);
		items[i].in = false;
	}
	assert_int_equal(t.count, N / 2);
	for (size_t i = 0; i < N; i++) {
		struct item *it = find(&t, items[i].key);

		if (items[i].key == 42)
			continue; /* shared key: checked below */
		if (items[i].in)
			assert_ptr_equal(it, &items[i]);
		else
			assert_null(it);
	}
	/* 42: four entries were added (0, 500, 1000, 1500), all removed
	 * (even indexes) */
	assert_null(find(&t, 42));
	assert_null(find(&t, 7));
	ike_htab_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tq_random),
		cmocka_unit_test(test_htab_random),
	};

	vpn_crypto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
