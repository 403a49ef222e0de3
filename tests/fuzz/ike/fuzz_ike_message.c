// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the IKEv2 message decoder (vpnd/ike/message.c).
 *
 * Each input is fed twice:
 * 1. to ike_parse() as a whole datagram;
 * 2. to ike_parse_payloads() as a decrypted inner chain, the first byte
 *    being the type of the first payload.
 * Whatever parses is encoded again with the builder and parsed back; the
 * two parses must agree (a disagreement aborts, so the fuzzer reports it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike/message.h"

#define OUT_MAX (1 << 17)

static struct ike_msg msg1, msg2;
static uint8_t out[OUT_MAX];

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static bool blob_eq(const uint8_t *a, size_t alen, const uint8_t *b,
		    size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void add_all(struct ike_buf *b, const struct ike_msg *m)
{
	if (m->has_sa)
		ike_add_sa(b, m->sa.proposals, m->sa.nproposals);
	if (m->has_ke)
		ike_add_ke(b, m->ke.group, m->ke.data, m->ke.len);
	if (m->has_nonce)
		ike_add_nonce(b, m->nonce.data, m->nonce.len);
	if (m->has_idi)
		ike_add_id(b, IKE_PL_IDI, m->idi.type, m->idi.data, m->idi.len);
	if (m->has_idr)
		ike_add_id(b, IKE_PL_IDR, m->idr.type, m->idr.data, m->idr.len);
	if (m->has_auth)
		ike_add_auth(b, m->auth.method, m->auth.data, m->auth.len);
	for (unsigned int i = 0; i < m->nnotify; i++) {
		const struct ike_notify *n = &m->notify[i];

		ike_add_notify(b, n->protocol, n->spi, n->spi_size, n->type,
			       n->data, n->len);
	}
	for (unsigned int i = 0; i < m->ndelete; i++) {
		const struct ike_delete *d = &m->del[i];

		ike_add_delete(b, d->protocol, d->spi_size, d->spis, d->nspis);
	}
	/* Unknown selector types were skipped: there may be none left. */
	if (m->has_tsi && m->tsi.nts)
		ike_add_ts(b, IKE_PL_TSI, m->tsi.ts, m->tsi.nts);
	if (m->has_tsr && m->tsr.nts)
		ike_add_ts(b, IKE_PL_TSR, m->tsr.ts, m->tsr.nts);
	for (unsigned int i = 0; i < m->nvendor; i++)
		ike_add_vendor(b, m->vendor[i].data, m->vendor[i].len);
	if (m->has_cp)
		ike_add_payload(b, IKE_PL_CP, false, m->cp.data, m->cp.len);
}

static void compare(const struct ike_msg *a, const struct ike_msg *b)
{
	CHECK(a->has_sa == b->has_sa);
	if (a->has_sa) {
		CHECK(a->sa.nproposals == b->sa.nproposals);
		for (unsigned int i = 0; i < a->sa.nproposals; i++) {
			const struct ike_proposal *p = &a->sa.proposals[i];
			const struct ike_proposal *q = &b->sa.proposals[i];

			CHECK(p->num == q->num && p->protocol == q->protocol);
			CHECK(p->spi_size == q->spi_size);
			CHECK(!memcmp(p->spi, q->spi, p->spi_size));
			CHECK(p->ntransforms == q->ntransforms);
			for (unsigned int j = 0; j < p->ntransforms; j++) {
				CHECK(p->transforms[j].type
				      == q->transforms[j].type);
				CHECK(p->transforms[j].id
				      == q->transforms[j].id);
				CHECK(p->transforms[j].keylen
				      == q->transforms[j].keylen);
			}
		}
	}
	CHECK(a->has_ke == b->has_ke);
	if (a->has_ke)
		CHECK(a->ke.group == b->ke.group
		      && blob_eq(a->ke.data, a->ke.len, b->ke.data, b->ke.len));
	CHECK(a->has_nonce == b->has_nonce);
	if (a->has_nonce)
		CHECK(blob_eq(a->nonce.data, a->nonce.len, b->nonce.data,
			      b->nonce.len));
	CHECK(a->has_idi == b->has_idi && a->has_idr == b->has_idr);
	/* (The reserved bytes of the body are re-encoded as zero.) */
	if (a->has_idi)
		CHECK(a->idi.type == b->idi.type
		      && blob_eq(a->idi.data, a->idi.len, b->idi.data,
				 b->idi.len)
		      && b->idi.bodylen == b->idi.len + 4);
	if (a->has_idr)
		CHECK(a->idr.type == b->idr.type
		      && blob_eq(a->idr.data, a->idr.len, b->idr.data,
				 b->idr.len));
	CHECK(a->has_auth == b->has_auth);
	if (a->has_auth)
		CHECK(a->auth.method == b->auth.method
		      && blob_eq(a->auth.data, a->auth.len, b->auth.data,
				 b->auth.len));
	CHECK(a->nnotify == b->nnotify);
	for (unsigned int i = 0; i < a->nnotify; i++) {
		const struct ike_notify *n = &a->notify[i], *o = &b->notify[i];

		CHECK(n->protocol == o->protocol && n->type == o->type);
		CHECK(blob_eq(n->spi, n->spi_size, o->spi, o->spi_size));
		CHECK(blob_eq(n->data, n->len, o->data, o->len));
	}
	CHECK(a->ndelete == b->ndelete);
	for (unsigned int i = 0; i < a->ndelete; i++) {
		const struct ike_delete *d = &a->del[i], *e = &b->del[i];

		CHECK(d->protocol == e->protocol && d->spi_size == e->spi_size);
		CHECK(d->nspis == e->nspis);
		CHECK(blob_eq(d->spis, (size_t)d->spi_size * d->nspis, e->spis,
			      (size_t)e->spi_size * e->nspis));
	}
	CHECK((a->has_tsi && a->tsi.nts) == b->has_tsi);
	CHECK((a->has_tsr && a->tsr.nts) == b->has_tsr);
	if (b->has_tsi)
		CHECK(a->tsi.nts == b->tsi.nts
		      && !memcmp(a->tsi.ts, b->tsi.ts,
				 a->tsi.nts * sizeof(a->tsi.ts[0])));
	if (b->has_tsr)
		CHECK(a->tsr.nts == b->tsr.nts
		      && !memcmp(a->tsr.ts, b->tsr.ts,
				 a->tsr.nts * sizeof(a->tsr.ts[0])));
	CHECK(a->nvendor == b->nvendor);
	for (unsigned int i = 0; i < a->nvendor; i++)
		CHECK(blob_eq(a->vendor[i].data, a->vendor[i].len,
			      b->vendor[i].data, b->vendor[i].len));
	CHECK(a->has_cp == b->has_cp);
	if (a->has_cp)
		CHECK(blob_eq(a->cp.data, a->cp.len, b->cp.data, b->cp.len));
}

static void roundtrip_message(const struct ike_msg *m)
{
	struct ike_buf b;
	uint8_t *body;
	int len;

	ike_build_init(&b, out, sizeof(out), &m->hdr);
	add_all(&b, m);
	if (m->has_sk) {
		body = ike_add_sk(&b, m->sk.first_inner, m->sk.len);
		if (body)
			memcpy(body, m->sk.data, m->sk.len);
	} else if (m->has_skf) {
		body = ike_add_payload(&b, IKE_PL_SKF, false, NULL,
				       4 + m->skf.len);
		if (body) {
			out[b.np_offset] = m->skf.first_inner;
			body[0] = m->skf.number >> 8;
			body[1] = m->skf.number & 0xff;
			body[2] = m->skf.total >> 8;
			body[3] = m->skf.total & 0xff;
			memcpy(body + 4, m->skf.data, m->skf.len);
		}
	}
	len = ike_build_finish(&b);
	CHECK(len > 0);
	CHECK(ike_parse(out, (size_t)len, &msg2) == IKE_PARSE_OK);
	CHECK(msg2.hdr.spi_i == m->hdr.spi_i && msg2.hdr.spi_r == m->hdr.spi_r);
	CHECK(msg2.hdr.exchange == m->hdr.exchange);
	CHECK(msg2.hdr.flags == m->hdr.flags && msg2.hdr.msgid == m->hdr.msgid);
	compare(m, &msg2);
	CHECK(msg2.has_sk == m->has_sk && msg2.has_skf == m->has_skf);
	if (m->has_sk)
		CHECK(msg2.sk.first_inner == m->sk.first_inner
		      && blob_eq(msg2.sk.data, msg2.sk.len, m->sk.data,
				 m->sk.len)
		      && out[msg2.sk.offset + 1] == 0
		      && msg2.sk.data == out + msg2.sk.offset + 4);
	if (m->has_skf)
		CHECK(msg2.skf.number == m->skf.number
		      && msg2.skf.total == m->skf.total
		      && blob_eq(msg2.skf.data, msg2.skf.len, m->skf.data,
				 m->skf.len));
}

static void roundtrip_inner(const struct ike_msg *m)
{
	struct ike_buf b;
	int len;

	ike_build_inner(&b, out, sizeof(out));
	add_all(&b, m);
	len = ike_build_finish(&b);
	CHECK(len >= 0);
	memset(&msg2, 0, sizeof(msg2));
	CHECK(ike_parse_payloads(b.first, out, (size_t)len, &msg2)
	      == IKE_PARSE_OK);
	compare(m, &msg2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_header hdr;

	(void)ike_parse_header(data, size, &hdr);

	if (ike_parse(data, size, &msg1) == IKE_PARSE_OK) {
		CHECK(msg1.hdr.length == size);
		if (msg1.has_sk)
			CHECK(msg1.sk.offset + 4 + msg1.sk.len == size
			      && msg1.sk.data == data + msg1.sk.offset + 4);
		if (size <= OUT_MAX / 2)
			roundtrip_message(&msg1);
	}

	if (size >= 1) {
		memset(&msg1, 0, sizeof(msg1));
		if (ike_parse_payloads(data[0], data + 1, size - 1, &msg1)
			    == IKE_PARSE_OK
		    && size <= OUT_MAX / 2)
			roundtrip_inner(&msg1);
	}
	return 0;
}
