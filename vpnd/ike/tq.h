/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the IKE engine's timer queue: a binary min-heap of deadlines,
 * one node per IKE SA (embedded in it), so ike_tick() visits only the SAs
 * that are due instead of every SA. Insert, change and remove are
 * O(log n), finding the earliest O(1).
 */
#ifndef VPND_IKE_TQ_H
#define VPND_IKE_TQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE_TQ_NONE ((size_t)-1)

struct ike_tq_node {
	uint64_t at;
	size_t idx; /* position in the heap; IKE_TQ_NONE: not queued */
};

struct ike_tq {
	struct ike_tq_node **h;
	size_t n, cap;
};

void ike_tq_init(struct ike_tq *q);
void ike_tq_fini(struct ike_tq *q);
static inline void ike_tq_node_init(struct ike_tq_node *n)
{
	n->at = 0;
	n->idx = IKE_TQ_NONE;
}
static inline bool ike_tq_queued(const struct ike_tq_node *n)
{
	return n->idx != IKE_TQ_NONE;
}
/* Queue the node for `at`, or move it there if queued. -1: out of
 * memory (the node is not queued). */
int ike_tq_set(struct ike_tq *q, struct ike_tq_node *n, uint64_t at);
void ike_tq_del(struct ike_tq *q, struct ike_tq_node *n);
/* The earliest node, or NULL. */
static inline struct ike_tq_node *ike_tq_first(const struct ike_tq *q)
{
	return q->n ? q->h[0] : NULL;
}

#endif /* VPND_IKE_TQ_H */
