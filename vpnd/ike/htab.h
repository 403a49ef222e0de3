/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: a small intrusive hash table for the IKE engine (SAs by SPI,
 * per-address counters). Entries embed a struct ike_hnode and are found
 * by a 64-bit hash of their key; the caller compares the key itself, so
 * a lookup walks the nodes of one bucket whose hash is equal.
 *
 * Keys an attacker picks (a peer's SPI, a source address) are hashed
 * with the table's own random SipHash key (ike_htab_hash), so nobody can
 * aim collisions at one bucket. The table doubles when it holds more
 * entries than buckets; if that allocation fails it stays as it is
 * (slower, still correct).
 */
#ifndef VPND_IKE_HTAB_H
#define VPND_IKE_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct ike_hnode {
	struct ike_hnode *next;
	uint64_t hash;
};

struct ike_htab {
	struct ike_hnode **b;
	size_t nbuckets; /* a power of two */
	size_t count;
	uint8_t key[16];
};

/* -1: out of memory. */
int ike_htab_init(struct ike_htab *t);
/* Frees the buckets, not the entries. */
void ike_htab_fini(struct ike_htab *t);
uint64_t ike_htab_hash(const struct ike_htab *t, const void *data,
		       size_t len);
void ike_htab_add(struct ike_htab *t, struct ike_hnode *n, uint64_t hash);
/* n must be in the table. */
void ike_htab_del(struct ike_htab *t, struct ike_hnode *n);
/* The nodes whose hash is `hash`: the first, then the next after n. */
struct ike_hnode *ike_htab_first(const struct ike_htab *t, uint64_t hash);
struct ike_hnode *ike_htab_next(const struct ike_hnode *n, uint64_t hash);

#define ike_hnode_entry(n, type, member)                                       \
	((type *)((char *)(n)-offsetof(type, member)))

#endif /* VPND_IKE_HTAB_H */
