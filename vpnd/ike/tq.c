// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the IKE engine's timer queue (tq.h).
 */
#include "ike/tq.h"

#include <stdlib.h>

void ike_tq_init(struct ike_tq *q)
{
	q->h = NULL;
	q->n = q->cap = 0;
}

void ike_tq_fini(struct ike_tq *q)
{
	for (size_t i = 0; i < q->n; i++)
		q->h[i]->idx = IKE_TQ_NONE;
	free(q->h);
	ike_tq_init(q);
}

static void place(struct ike_tq *q, size_t i, struct ike_tq_node *n)
{
	q->h[i] = n;
	n->idx = i;
}

static void sift_up(struct ike_tq *q, size_t i)
{
	struct ike_tq_node *n = q->h[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (q->h[parent]->at <= n->at)
			break;
		place(q, i, q->h[parent]);
		i = parent;
	}
	place(q, i, n);
}

static void sift_down(struct ike_tq *q, size_t i)
{
	struct ike_tq_node *n = q->h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && q->h[c + 1]->at < q->h[c]->at)
			c++;
		if (n->at <= q->h[c]->at)
			break;
		place(q, i, q->h[c]);
		i = c;
	}
	place(q, i, n);
}

int ike_tq_set(struct ike_tq *q, struct ike_tq_node *n, uint64_t at)
{
	if (ike_tq_queued(n)) {
		uint64_t was = n->at;

		n->at = at;
		if (at < was)
			sift_up(q, n->idx);
		else
			sift_down(q, n->idx);
		return 0;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct ike_tq_node **h = realloc(q->h, cap * sizeof(*h));

		if (!h)
			return -1;
		q->h = h;
		q->cap = cap;
	}
	n->at = at;
	place(q, q->n++, n);
	sift_up(q, n->idx);
	return 0;
}

void ike_tq_del(struct ike_tq *q, struct ike_tq_node *n)
{
	size_t i = n->idx;
	struct ike_tq_node *last;

	if (i == IKE_TQ_NONE)
		return;
	n->idx = IKE_TQ_NONE;
	last = q->h[--q->n];
	if (i == q->n)
		return;
	place(q, i, last);
	if (i > 0 && q->h[(i - 1) / 2]->at > last->at)
		sift_up(q, i);
	else
		sift_down(q, i);
}
