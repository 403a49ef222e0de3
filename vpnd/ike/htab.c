// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the IKE engine's intrusive hash table (see htab.h).
 */
#include "ike/htab.h"

#include <stdlib.h>

#include "crypto/crypto.h"

#define HTAB_MIN 64

int ike_htab_init(struct ike_htab *t)
{
	t->b = calloc(HTAB_MIN, sizeof(*t->b));
	if (!t->b)
		return -1;
	t->nbuckets = HTAB_MIN;
	t->count = 0;
	vpn_random(t->key, sizeof(t->key));
	return 0;
}

void ike_htab_fini(struct ike_htab *t)
{
	free(t->b);
	t->b = NULL;
	t->nbuckets = t->count = 0;
}

uint64_t ike_htab_hash(const struct ike_htab *t, const void *data,
		       size_t len)
{
	return vpn_shorthash(t->key, data, len);
}

static size_t bucket(size_t nbuckets, uint64_t hash)
{
	return (size_t)(hash & (nbuckets - 1));
}

/* Twice the buckets; on allocation failure the table stays. */
static void grow(struct ike_htab *t)
{
	size_t nb = t->nbuckets ? t->nbuckets * 2 : HTAB_MIN;
	struct ike_hnode **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ike_hnode *n = t->b[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[bucket(nb, n->hash)];
			b[bucket(nb, n->hash)] = n;
		}
	}
	free(t->b);
	t->b = b;
	t->nbuckets = nb;
}

void ike_htab_add(struct ike_htab *t, struct ike_hnode *n, uint64_t hash)
{
	struct ike_hnode **head;

	if (t->count >= t->nbuckets)
		grow(t);
	n->hash = hash;
	n->next = NULL;
	if (!t->b)
		return; /* out of memory from the start: not filed */
	head = &t->b[bucket(t->nbuckets, hash)];
	n->next = *head;
	*head = n;
	t->count++;
}

void ike_htab_del(struct ike_htab *t, struct ike_hnode *n)
{
	struct ike_hnode **pp;

	if (!t->b)
		return;
	pp = &t->b[bucket(t->nbuckets, n->hash)];
	for (; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
}

struct ike_hnode *ike_htab_first(const struct ike_htab *t, uint64_t hash)
{
	struct ike_hnode *n;

	if (!t->b)
		return NULL;
	n = t->b[bucket(t->nbuckets, hash)];
	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct ike_hnode *ike_htab_next(const struct ike_hnode *n, uint64_t hash)
{
	for (n = n->next; n && n->hash != hash; n = n->next)
		;
	return (struct ike_hnode *)n;
}
