// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: IKEv2 message codec (vpnd/ike/message.c).
 *
 * Every parse of untrusted bytes goes through parse_exact(), which copies
 * the input into a heap block of exactly that size: under ASan any read
 * past the end is reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ike/message.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static struct ike_msg msg; /* large: keep it off the stack */

static const struct ike_header init_hdr = {
	.spi_i = 0x1122334455667788ULL,
	.spi_r = 0,
	.version = IKE_VERSION,
	.exchange = IKE_SA_INIT,
	.flags = IKE_FLAG_INITIATOR,
	.msgid = 0,
};

/* Parse a copy of buf[0..len) held in a block of exactly len bytes. */
static int parse_exact(const uint8_t *buf, size_t len, struct ike_msg *m)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	rc = ike_parse(copy, len, m);
	free(copy);
	/* m now points into freed memory: callers only look at rc (and at
	 * plain values, never at pointers). */
	return rc;
}

static int parse_payloads_exact(uint8_t first, const uint8_t *buf, size_t len,
				struct ike_msg *m)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	rc = ike_parse_payloads(first, copy, len, m);
	free(copy);
	return rc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* A message: the init header, first payload `np`, then body bytes. */
static size_t mkmsg(uint8_t *out, uint8_t np, const uint8_t *body, size_t len)
{
	memset(out, 0, IKE_HDR_LEN);
	out[7] = 1;
	out[16] = np;
	out[17] = IKE_VERSION;
	out[18] = IKE_SA_INIT;
	out[19] = IKE_FLAG_INITIATOR;
	if (len)
		memcpy(out + IKE_HDR_LEN, body, len);
	put32(out + 24, (uint32_t)(IKE_HDR_LEN + len));
	return IKE_HDR_LEN + len;
}

/* Parse a message made of one payload `type` with body[0..len). */
static int parse_one_payload(uint8_t type, uint8_t flags, const uint8_t *body,
			     size_t len)
{
	uint8_t pl[1024], m[1100];

	assert_true(len + 4 <= sizeof(pl));
	pl[0] = 0;
	pl[1] = flags;
	put16(pl + 2, (uint16_t)(len + 4));
	memcpy(pl + 4, body, len);
	return parse_exact(m, mkmsg(m, type, pl, len + 4), &msg);
}

/* ------------------------------------------------------------------ */
/* Header                                                              */
/* ------------------------------------------------------------------ */

static void test_header_roundtrip(void **state)
{
	struct ike_header h = {
		.spi_i = 0x0102030405060708ULL,
		.spi_r = 0xf1f2f3f4f5f6f7f8ULL,
		.version = IKE_VERSION,
		.exchange = INFORMATIONAL,
		.flags = IKE_FLAG_RESPONSE,
		.msgid = 0xdeadbeef,
	};
	uint8_t buf[64];
	struct ike_buf b;
	struct ike_header out;

	ike_build_init(&b, buf, sizeof(buf), &h);
	assert_int_equal(ike_build_finish(&b), IKE_HDR_LEN);
	assert_int_equal(ike_parse(buf, IKE_HDR_LEN, &msg), IKE_PARSE_OK);
	assert_true(msg.hdr.spi_i == h.spi_i);
	assert_true(msg.hdr.spi_r == h.spi_r);
	assert_int_equal(msg.hdr.next_payload, IKE_PL_NONE);
	assert_int_equal(msg.hdr.version, IKE_VERSION);
	assert_int_equal(msg.hdr.exchange, INFORMATIONAL);
	assert_int_equal(msg.hdr.flags, IKE_FLAG_RESPONSE);
	assert_int_equal(msg.hdr.msgid, 0xdeadbeef);
	assert_int_equal(msg.hdr.length, IKE_HDR_LEN);
	assert_ptr_equal(msg.raw, buf);
	assert_int_equal(msg.rawlen, IKE_HDR_LEN);
	/* Big-endian on the wire. */
	assert_int_equal(buf[0], 0x01);
	assert_int_equal(buf[15], 0xf8);
	assert_int_equal(buf[20], 0xde);
	assert_int_equal(buf[23], 0xef);
	assert_int_equal(buf[27], IKE_HDR_LEN);

	assert_int_equal(ike_parse_header(buf, IKE_HDR_LEN, &out),
			 IKE_PARSE_OK);
	assert_int_equal(out.msgid, 0xdeadbeef);
}

static void test_header_truncated(void **state)
{
	uint8_t m[IKE_HDR_LEN];
	struct ike_header h;

	mkmsg(m, 0, NULL, 0);
	for (size_t len = 0; len < IKE_HDR_LEN; len++) {
		assert_int_equal(parse_exact(m, len, &msg),
				 IKE_PARSE_TRUNCATED);
		assert_int_equal(ike_parse_header(m, len, &h),
				 IKE_PARSE_TRUNCATED);
	}
	assert_int_equal(parse_exact(m, IKE_HDR_LEN, &msg), IKE_PARSE_OK);
}

static void test_header_version(void **state)
{
	uint8_t m[IKE_HDR_LEN];
	struct ike_header h;

	mkmsg(m, 0, NULL, 0);
	m[17] = 0x10; /* IKEv1 */
	assert_int_equal(parse_exact(m, sizeof(m), &msg),
			 IKE_PARSE_BAD_VERSION);
	/* The header is still filled in, to answer INVALID_MAJOR_VERSION. */
	assert_int_equal(ike_parse_header(m, sizeof(m), &h),
			 IKE_PARSE_BAD_VERSION);
	assert_int_equal(h.version, 0x10);
	assert_int_equal(h.exchange, IKE_SA_INIT);
	m[17] = 0x30;
	assert_int_equal(parse_exact(m, sizeof(m), &msg),
			 IKE_PARSE_BAD_VERSION);
	m[17] = 0x00;
	assert_int_equal(parse_exact(m, sizeof(m), &msg),
			 IKE_PARSE_BAD_VERSION);
	/* A higher minor version is accepted (RFC 7296 2.5). */
	m[17] = 0x21;
	assert_int_equal(parse_exact(m, sizeof(m), &msg), IKE_PARSE_OK);
}

static void test_header_length_mismatch(void **state)
{
	uint8_t m[IKE_HDR_LEN + 8];
	static const uint32_t bad[] = {0, 27, 29, 36, 0xffff, 0xffffffff};

	memset(m, 0, sizeof(m));
	mkmsg(m, 0, NULL, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put32(m + 24, bad[i]);
		assert_int_equal(parse_exact(m, IKE_HDR_LEN, &msg),
				 IKE_PARSE_BAD_LENGTH);
	}
	/* Datagram longer than the header says. */
	put32(m + 24, IKE_HDR_LEN);
	assert_int_equal(parse_exact(m, sizeof(m), &msg), IKE_PARSE_BAD_LENGTH);
	/* Datagram shorter than the header says. */
	put32(m + 24, sizeof(m));
	assert_int_equal(parse_exact(m, IKE_HDR_LEN + 4, &msg),
			 IKE_PARSE_BAD_LENGTH);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static void check_proposal(const struct ike_proposal *a,
			   const struct ike_proposal *b)
{
	assert_int_equal(a->num, b->num);
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->spi_size, b->spi_size);
	assert_memory_equal(a->spi, b->spi, a->spi_size);
	assert_int_equal(a->ntransforms, b->ntransforms);
	for (unsigned int i = 0; i < a->ntransforms; i++) {
		assert_int_equal(a->transforms[i].type, b->transforms[i].type);
		assert_int_equal(a->transforms[i].id, b->transforms[i].id);
		assert_int_equal(a->transforms[i].keylen,
				 b->transforms[i].keylen);
	}
}

static const struct ike_proposal sa_props[] = {
	{.num = 1,
	 .protocol = IKE_PROTO_IKE,
	 .ntransforms = 4,
	 .transforms = {{1, 12, 256}, {2, 5, 0}, {3, 12, 0}, {4, 14, 0}}},
	{.num = 2,
	 .protocol = IKE_PROTO_IKE,
	 .ntransforms = 5,
	 .transforms
	 = {{1, 20, 128}, {1, 20, 256}, {2, 7, 0}, {4, 19, 0}, {4, 31, 0}}},
	{.num = 3,
	 .protocol = IKE_PROTO_IKE,
	 .spi_size = 8,
	 .spi = {1, 2, 3, 4, 5, 6, 7, 8},
	 .ntransforms = 1,
	 .transforms = {{1, 28, 0}}},
};

static void test_sa_roundtrip(void **state)
{
	uint8_t buf[512];
	struct ike_buf b;
	const uint8_t *p;
	size_t off;
	int len;

	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_sa(&b, sa_props, 3);
	len = ike_build_finish(&b);
	assert_true(len > 0);
	assert_int_equal(buf[16], IKE_PL_SA);

	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	assert_true(msg.has_sa);
	assert_int_equal(msg.sa.nproposals, 3);
	for (int i = 0; i < 3; i++)
		check_proposal(&msg.sa.proposals[i], &sa_props[i]);

	/* Walk the wire form: last markers and the TV Key Length. */
	p = buf + IKE_HDR_LEN + 4;
	off = 0;
	for (int i = 0; i < 3; i++) {
		const uint8_t *x = p + off;
		const uint8_t *t = x + 8 + x[6];

		assert_int_equal(x[0], i == 2 ? 0 : 2);
		assert_int_equal(x[4], sa_props[i].num);
		assert_int_equal(x[7], sa_props[i].ntransforms);
		for (unsigned int j = 0; j < sa_props[i].ntransforms; j++) {
			unsigned int tl = (t[2] << 8) | t[3];

			assert_int_equal(
				t[0], j + 1 == sa_props[i].ntransforms ? 0 : 3);
			if (sa_props[i].transforms[j].keylen) {
				assert_int_equal(tl, 12);
				assert_int_equal(t[8], 0x80);
				assert_int_equal(t[9], 0x0e);
			} else {
				assert_int_equal(tl, 8);
			}
			t += tl;
		}
		off += (x[2] << 8) | x[3];
		assert_ptr_equal(t, p + off);
	}
}

static void test_ke_nonce_roundtrip(void **state)
{
	uint8_t buf[512], ke[97], nonce[32];
	struct ike_buf b;
	int len;

	for (size_t i = 0; i < sizeof(ke); i++)
		ke[i] = i;
	memset(nonce, 0x5a, sizeof(nonce));
	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_ke(&b, 19, ke, sizeof(ke));
	ike_add_nonce(&b, nonce, sizeof(nonce));
	len = ike_build_finish(&b);
	assert_true(len > 0);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	assert_true(msg.has_ke);
	assert_int_equal(msg.ke.group, 19);
	assert_int_equal(msg.ke.len, sizeof(ke));
	assert_memory_equal(msg.ke.data, ke, sizeof(ke));
	assert_true(msg.has_nonce);
	assert_int_equal(msg.nonce.len, sizeof(nonce));
	assert_memory_equal(msg.nonce.data, nonce, sizeof(nonce));
	/* Pointers into the caller's buffer. */
	assert_true(msg.ke.data > buf && msg.ke.data < buf + len);
}

static void test_id_auth_roundtrip(void **state)
{
	static const uint8_t fqdn[] = "gw1.example.net";
	static const uint8_t v4[] = {192, 0, 2, 1};
	uint8_t buf[512], mac[32];
	struct ike_buf b;
	int len;

	memset(mac, 0xa5, sizeof(mac));
	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_id(&b, IKE_PL_IDI, IKE_ID_FQDN, fqdn, sizeof(fqdn) - 1);
	ike_add_id(&b, IKE_PL_IDR, IKE_ID_IPV4_ADDR, v4, sizeof(v4));
	ike_add_auth(&b, IKE_AUTH_PSK, mac, sizeof(mac));
	len = ike_build_finish(&b);
	assert_true(len > 0);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);

	assert_true(msg.has_idi);
	assert_int_equal(msg.idi.type, IKE_ID_FQDN);
	assert_int_equal(msg.idi.len, sizeof(fqdn) - 1);
	assert_memory_equal(msg.idi.data, fqdn, sizeof(fqdn) - 1);
	/* body: from the ID type byte to the end of the payload. */
	assert_ptr_equal(msg.idi.body, buf + IKE_HDR_LEN + 4);
	assert_int_equal(msg.idi.bodylen, 4 + sizeof(fqdn) - 1);
	assert_int_equal(msg.idi.body[0], IKE_ID_FQDN);
	assert_ptr_equal(msg.idi.data, msg.idi.body + 4);

	assert_true(msg.has_idr);
	assert_int_equal(msg.idr.type, IKE_ID_IPV4_ADDR);
	assert_int_equal(msg.idr.len, 4);
	assert_memory_equal(msg.idr.data, v4, 4);
	assert_int_equal(msg.idr.bodylen, 8);

	assert_true(msg.has_auth);
	assert_int_equal(msg.auth.method, IKE_AUTH_PSK);
	assert_int_equal(msg.auth.len, sizeof(mac));
	assert_memory_equal(msg.auth.data, mac, sizeof(mac));
}

static void test_notify_roundtrip(void **state)
{
	static const uint8_t spi[4] = {0xc0, 0x01, 0xd0, 0x0d};
	uint8_t buf[512], hash[20];
	struct ike_buf b;
	const struct ike_notify *n;
	int len;

	memset(hash, 0x33, sizeof(hash));
	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_notify(&b, 0, NULL, 0, IKE_N_NAT_DETECTION_SOURCE_IP, hash,
		       sizeof(hash));
	ike_add_notify(&b, IKE_PROTO_ESP, spi, 4, IKE_N_REKEY_SA, NULL, 0);
	ike_add_notify(&b, 0, NULL, 0, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED,
		       NULL, 0);
	len = ike_build_finish(&b);
	assert_true(len > 0);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	assert_int_equal(msg.nnotify, 3);

	n = ike_msg_notify(&msg, IKE_N_NAT_DETECTION_SOURCE_IP);
	assert_non_null(n);
	assert_ptr_equal(n, &msg.notify[0]);
	assert_int_equal(n->protocol, 0);
	assert_int_equal(n->spi_size, 0);
	assert_int_equal(n->len, sizeof(hash));
	assert_memory_equal(n->data, hash, sizeof(hash));

	n = ike_msg_notify(&msg, IKE_N_REKEY_SA);
	assert_non_null(n);
	assert_int_equal(n->protocol, IKE_PROTO_ESP);
	assert_int_equal(n->spi_size, 4);
	assert_memory_equal(n->spi, spi, 4);
	assert_int_equal(n->len, 0);

	n = ike_msg_notify(&msg, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED);
	assert_non_null(n);
	assert_int_equal(n->len, 0);
	assert_null(ike_msg_notify(&msg, IKE_N_COOKIE));
}

static void test_delete_roundtrip(void **state)
{
	static const uint8_t spis[12] = {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
	uint8_t buf[256];
	struct ike_buf b;
	int len;

	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_delete(&b, IKE_PROTO_IKE, 0, NULL, 0);
	ike_add_delete(&b, IKE_PROTO_ESP, 4, spis, 3);
	len = ike_build_finish(&b);
	assert_true(len > 0);
	/* 28 + (4 + 4) + (4 + 4 + 12) */
	assert_int_equal(len, 56);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	assert_int_equal(msg.ndelete, 2);
	assert_int_equal(msg.del[0].protocol, IKE_PROTO_IKE);
	assert_int_equal(msg.del[0].spi_size, 0);
	assert_int_equal(msg.del[0].nspis, 0);
	assert_int_equal(msg.del[1].protocol, IKE_PROTO_ESP);
	assert_int_equal(msg.del[1].spi_size, 4);
	assert_int_equal(msg.del[1].nspis, 3);
	assert_memory_equal(msg.del[1].spis, spis, 12);
}

static void test_ts_roundtrip(void **state)
{
	struct ike_ts tsi[2] = {
		{.type = IKE_TS_IPV4_ADDR_RANGE,
		 .proto = 0,
		 .start_port = 0,
		 .end_port = 65535,
		 .start = {10, 0, 0, 0},
		 .end = {10, 0, 255, 255}},
		{.type = IKE_TS_IPV4_ADDR_RANGE,
		 .proto = 6,
		 .start_port = 179,
		 .end_port = 179,
		 .start = {169, 254, 21, 1},
		 .end = {169, 254, 21, 2}},
	};
	struct ike_ts tsr[2] = {
		{.type = IKE_TS_IPV6_ADDR_RANGE,
		 .proto = 17,
		 .start_port = 500,
		 .end_port = 4500,
		 .start = {0x20, 0x01, 0x0d, 0xb8},
		 .end = {0x20, 0x01, 0x0d, 0xb8, [15] = 0xff}},
		{.type = IKE_TS_IPV4_ADDR_RANGE,
		 .end_port = 65535,
		 .end = {255, 255, 255, 255}},
	};
	uint8_t buf[512];
	struct ike_buf b;
	int len;

	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_ts(&b, IKE_PL_TSI, tsi, 2);
	ike_add_ts(&b, IKE_PL_TSR, tsr, 2);
	len = ike_build_finish(&b);
	/* 28 + (4 + 4 + 16 + 16) + (4 + 4 + 40 + 16) */
	assert_int_equal(len, 28 + 40 + 64);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	assert_true(msg.has_tsi && msg.has_tsr);
	assert_int_equal(msg.tsi.nts, 2);
	assert_int_equal(msg.tsr.nts, 2);
	for (int i = 0; i < 2; i++) {
		const struct ike_ts *e[2] = {&tsi[i], &tsr[i]};
		const struct ike_ts *g[2] = {&msg.tsi.ts[i], &msg.tsr.ts[i]};

		for (int k = 0; k < 2; k++) {
			size_t al
				= e[k]->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;

			assert_int_equal(g[k]->type, e[k]->type);
			assert_int_equal(g[k]->proto, e[k]->proto);
			assert_int_equal(g[k]->start_port, e[k]->start_port);
			assert_int_equal(g[k]->end_port, e[k]->end_port);
			assert_memory_equal(g[k]->start, e[k]->start, al);
			assert_memory_equal(g[k]->end, e[k]->end, al);
		}
	}
}

static void test_vendor_cp_roundtrip(void **state)
{
	static const uint8_t vid1[] = {0x88, 0x2f, 0xe5, 0x6d, 0x6f};
	static const uint8_t cp[] = {1, 0, 0, 0, 0, 1, 0, 0};
	uint8_t buf[256];
	struct ike_buf b;
	uint8_t *body;
	int len;

	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_vendor(&b, vid1, sizeof(vid1));
	ike_add_vendor(&b, NULL, 0);
	body = ike_add_payload(&b, IKE_PL_CP, false, cp, sizeof(cp));
	assert_non_null(body);
	assert_memory_equal(body, cp, sizeof(cp));
	len = ike_build_finish(&b);
	assert_true(len > 0);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	assert_int_equal(msg.nvendor, 2);
	assert_int_equal(msg.vendor[0].len, sizeof(vid1));
	assert_memory_equal(msg.vendor[0].data, vid1, sizeof(vid1));
	assert_int_equal(msg.vendor[1].len, 0);
	assert_true(msg.has_cp);
	assert_int_equal(msg.cp.len, sizeof(cp));
	assert_memory_equal(msg.cp.data, cp, sizeof(cp));
}

/* IKE_AUTH: a Vendor ID outside, then SK; inner chain parsed after. */
static void test_sk_placement_and_inner(void **state)
{
	static const uint8_t fqdn[] = "peer";
	static const uint8_t vid[] = {1, 2, 3};
	struct ike_header h = init_hdr;
	struct ike_ts ts = {.type = IKE_TS_IPV4_ADDR_RANGE,
			    .end_port = 65535,
			    .end = {255, 255, 255, 255}};
	struct ike_proposal esp = {.num = 1,
				   .protocol = IKE_PROTO_ESP,
				   .spi_size = 4,
				   .spi = {0xca, 0xfe, 0xba, 0xbe},
				   .ntransforms = 2,
				   .transforms = {{1, 20, 256}, {5, 0, 0}}};
	uint8_t in[512], buf[1024], mac[32];
	struct ike_buf ib, b;
	uint8_t *body;
	int ilen, len;

	memset(mac, 7, sizeof(mac));
	ike_build_inner(&ib, in, sizeof(in));
	ike_add_id(&ib, IKE_PL_IDI, IKE_ID_FQDN, fqdn, 4);
	ike_add_auth(&ib, IKE_AUTH_PSK, mac, sizeof(mac));
	ike_add_sa(&ib, &esp, 1);
	ike_add_ts(&ib, IKE_PL_TSI, &ts, 1);
	ike_add_ts(&ib, IKE_PL_TSR, &ts, 1);
	ike_add_notify(&ib, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	ilen = ike_build_finish(&ib);
	assert_int_equal(ilen, (int)ib.len);
	assert_int_equal(ib.first, IKE_PL_IDI);
	/* Each payload's next-payload byte names the following one. */
	assert_int_equal(in[0], IKE_PL_AUTH);

	h.exchange = IKE_AUTH;
	h.msgid = 1;
	ike_build_init(&b, buf, sizeof(buf), &h);
	ike_add_vendor(&b, vid, sizeof(vid));
	body = ike_add_sk(&b, ib.first, 16 + ilen + 16);
	assert_non_null(body);
	len = ike_build_finish(&b);
	assert_int_equal(len, 28 + 7 + 4 + 16 + ilen + 16);
	/* "Decrypt": plaintext after a 16-byte IV. */
	memcpy(body + 16, in, ilen);

	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	assert_int_equal(buf[16], IKE_PL_VENDOR);
	assert_int_equal(buf[28], IKE_PL_SK);
	assert_true(msg.has_sk);
	assert_int_equal(msg.sk.offset, 28 + 7);
	assert_int_equal(buf[msg.sk.offset], IKE_PL_IDI);
	assert_int_equal(msg.sk.first_inner, IKE_PL_IDI);
	assert_ptr_equal(msg.sk.data, buf + 28 + 7 + 4);
	assert_ptr_equal(msg.sk.data, body);
	assert_int_equal(msg.sk.len, 16 + ilen + 16);
	assert_false(msg.has_idi);

	assert_int_equal(
		ike_parse_payloads(msg.sk.first_inner, body + 16, ilen, &msg),
		IKE_PARSE_OK);
	assert_int_equal(msg.hdr.exchange, IKE_AUTH); /* kept */
	assert_true(msg.has_sk);
	assert_true(msg.has_idi && msg.has_auth && msg.has_sa);
	assert_true(msg.has_tsi && msg.has_tsr);
	assert_int_equal(msg.idi.len, 4);
	assert_int_equal(msg.nvendor, 1);
	check_proposal(&msg.sa.proposals[0], &esp);
	assert_non_null(ike_msg_notify(&msg, IKE_N_INITIAL_CONTACT));

	/* SK first, with no other payload: offset 28. */
	ike_build_init(&b, buf, sizeof(buf), &h);
	assert_non_null(ike_add_sk(&b, IKE_PL_IDI, 40));
	len = ike_build_finish(&b);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	assert_int_equal(msg.sk.offset, IKE_HDR_LEN);
	assert_int_equal(msg.sk.len, 40);
	assert_int_equal(buf[16], IKE_PL_SK);
	assert_int_equal(buf[28], IKE_PL_IDI);
}

static void test_skf(void **state)
{
	struct ike_header h = init_hdr;
	uint8_t buf[256], *body;
	struct ike_buf b;
	int len;

	h.exchange = IKE_AUTH;
	ike_build_init(&b, buf, sizeof(buf), &h);
	body = ike_add_payload(&b, IKE_PL_SKF, false, NULL, 4 + 40);
	assert_non_null(body);
	buf[28] = IKE_PL_IDI; /* first inner */
	put16(body, 1);
	put16(body + 2, 3);
	len = ike_build_finish(&b);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	assert_true(msg.has_skf);
	assert_false(msg.has_sk);
	assert_int_equal(msg.skf.first_inner, IKE_PL_IDI);
	assert_int_equal(msg.skf.number, 1);
	assert_int_equal(msg.skf.total, 3);
	assert_int_equal(msg.skf.offset, IKE_HDR_LEN);
	assert_ptr_equal(msg.skf.data, body + 4);
	assert_int_equal(msg.skf.len, 40);

	/* Fragment number 0, or above the total. */
	put16(body, 0);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_MALFORMED);
	put16(body, 4);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_MALFORMED);
	put16(body, 3);
	assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
	/* SKF body shorter than its 4 fixed bytes. */
	{
		static const uint8_t two[] = {0, 1};

		assert_int_equal(parse_one_payload(IKE_PL_SKF, 0, two, 2),
				 IKE_PARSE_MALFORMED);
	}
}

/* ------------------------------------------------------------------ */
/* Byte-exact IKE_SA_INIT request                                      */
/* ------------------------------------------------------------------ */

/*
 * HDR, SA(1 proposal: AES-CBC-256, PRF-HMAC-SHA2-256, HMAC-SHA2-256-128,
 * ECP-256), KE(19, 8 bytes), Ni(16 bytes), N(IKEV2_FRAGMENTATION_SUPPORTED)
 * laid out by hand from RFC 7296 3.1-3.10.
 */
/* clang-format off */
static const uint8_t sa_init_expected[] = {
	/* IKE header */
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* SPIi */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* SPIr */
	0x21, 0x20, 0x22, 0x08, /* next SA, v2.0, IKE_SA_INIT, I */
	0x00, 0x00, 0x00, 0x00, /* message ID */
	0x00, 0x00, 0x00, 0x78, /* length 120 */
	/* SA payload, length 48 */
	0x22, 0x00, 0x00, 0x30,
	/* proposal: last, length 44, #1, IKE, SPI size 0, 4 transforms */
	0x00, 0x00, 0x00, 0x2c, 0x01, 0x01, 0x00, 0x04,
	/* ENCR AES-CBC (12), Key Length 256 (TV 0x800e) */
	0x03, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x0c, 0x80, 0x0e, 0x01, 0x00,
	/* PRF HMAC-SHA2-256 (5) */
	0x03, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x05,
	/* INTEG HMAC-SHA2-256-128 (12) */
	0x03, 0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x0c,
	/* D-H ECP-256 (19), last transform */
	0x00, 0x00, 0x00, 0x08, 0x04, 0x00, 0x00, 0x13,
	/* KE payload, length 16: group 19, reserved, 8 bytes */
	0x28, 0x00, 0x00, 0x10, 0x00, 0x13, 0x00, 0x00,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	/* Nonce payload, length 20 */
	0x29, 0x00, 0x00, 0x14,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	/* Notify payload, length 8: protocol 0, SPI size 0, type 16430 */
	0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x40, 0x2e,
};
/* clang-format on */

static const struct ike_proposal sa_init_prop = {
	.num = 1,
	.protocol = IKE_PROTO_IKE,
	.ntransforms = 4,
	.transforms = {{1, 12, 256}, {2, 5, 0}, {3, 12, 0}, {4, 19, 0}},
};

static size_t build_sa_init(uint8_t *buf, size_t cap)
{
	uint8_t ke[8], nonce[16];
	struct ike_buf b;
	int len;

	for (int i = 0; i < 8; i++)
		ke[i] = 0xa0 + i;
	for (int i = 0; i < 16; i++)
		nonce[i] = 0xb0 + i;
	ike_build_init(&b, buf, cap, &init_hdr);
	ike_add_sa(&b, &sa_init_prop, 1);
	ike_add_ke(&b, 19, ke, sizeof(ke));
	ike_add_nonce(&b, nonce, sizeof(nonce));
	ike_add_notify(&b, 0, NULL, 0, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED,
		       NULL, 0);
	len = ike_build_finish(&b);
	return len < 0 ? 0 : (size_t)len;
}

static void test_sa_init_bytes(void **state)
{
	uint8_t buf[256];
	size_t len = build_sa_init(buf, sizeof(buf));

	assert_int_equal(len, sizeof(sa_init_expected));
	assert_memory_equal(buf, sa_init_expected, len);

	assert_int_equal(parse_exact(sa_init_expected, len, &msg),
			 IKE_PARSE_OK);
	assert_int_equal(msg.hdr.length, 120);
	assert_true(msg.has_sa && msg.has_ke && msg.has_nonce);
	assert_int_equal(msg.nnotify, 1);
	check_proposal(&msg.sa.proposals[0], &sa_init_prop);
	assert_int_equal(msg.ke.group, 19);
	assert_int_equal(msg.ke.len, 8);
	assert_int_equal(msg.nonce.len, 16);
	assert_int_equal(msg.notify[0].type,
			 IKE_N_IKEV2_FRAGMENTATION_SUPPORTED);
}

/* ------------------------------------------------------------------ */
/* Builder                                                             */
/* ------------------------------------------------------------------ */

static void test_builder_overflow(void **state)
{
	uint8_t buf[256], nonce[16] = {0};
	struct ike_buf b;

	/* Every capacity below the full size overflows; the full size fits. */
	for (size_t cap = 0; cap < sizeof(sa_init_expected); cap++) {
		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(build_sa_init(buf, cap), 0);
		/* Nothing is written past cap. */
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xee);
	}
	assert_int_equal(build_sa_init(buf, sizeof(sa_init_expected)),
			 sizeof(sa_init_expected));

	/* After an overflow, further calls do nothing. */
	ike_build_init(&b, buf, 40, &init_hdr);
	ike_add_nonce(&b, nonce, 16);
	assert_true(b.overflow);
	assert_int_equal(b.len, IKE_HDR_LEN);
	ike_add_vendor(&b, nonce, 1);
	assert_null(ike_add_payload(&b, IKE_PL_VENDOR, false, NULL, 0));
	assert_null(ike_add_sk(&b, IKE_PL_IDI, 1));
	assert_int_equal(b.len, IKE_HDR_LEN);
	assert_int_equal(buf[16], IKE_PL_NONE);
	assert_int_equal(ike_build_finish(&b), -1);

	/* A body over the 16-bit payload length. */
	ike_build_inner(&b, buf, sizeof(buf));
	assert_null(ike_add_payload(&b, IKE_PL_VENDOR, false, NULL, 65532));
	assert_int_equal(ike_build_finish(&b), -1);

	/* Inputs the encoder cannot represent. */
	{
		static uint8_t big[70000];
		struct ike_proposal bad = {.num = 1, .spi_size = 9};
		struct ike_ts ts = {.type = 9};

		ike_build_inner(&b, big, sizeof(big));
		ike_add_sa(&b, &bad, 1);
		assert_int_equal(ike_build_finish(&b), -1);
		ike_build_inner(&b, big, sizeof(big));
		ike_add_ts(&b, IKE_PL_TSI, &ts, 1);
		assert_int_equal(ike_build_finish(&b), -1);
		ike_build_inner(&b, big, sizeof(big));
		ike_add_nonce(&b, big, 65531);
		assert_int_equal(ike_build_finish(&b), 65535);
		ike_build_inner(&b, big, sizeof(big));
		ike_add_nonce(&b, big, 65532);
		assert_int_equal(ike_build_finish(&b), -1);
	}
}

static void test_builder_chain(void **state)
{
	uint8_t buf[128];
	struct ike_buf b;
	uint8_t *p;

	/* Inner chain: first type remembered, next-payload bytes patched,
	 * critical bit written. */
	ike_build_inner(&b, buf, sizeof(buf));
	assert_int_equal(b.first, IKE_PL_NONE);
	assert_int_equal(ike_build_finish(&b), 0);
	p = ike_add_payload(&b, IKE_PL_VENDOR, true, "ab", 2);
	assert_ptr_equal(p, buf + 4);
	assert_int_equal(b.first, IKE_PL_VENDOR);
	ike_add_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	assert_int_equal(ike_build_finish(&b), 14);
	static const uint8_t want[]
		= {0x29, 0x80, 0x00, 0x06, 'a',	 'b',  0x00,
		   0x00, 0x00, 0x08, 0x00, 0x00, 0x40, 0x00};
	assert_memory_equal(buf, want, sizeof(want));

	/* Reserved space is zeroed. */
	memset(buf, 0xff, sizeof(buf));
	ike_build_inner(&b, buf, sizeof(buf));
	p = ike_add_payload(&b, IKE_PL_VENDOR, false, NULL, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(p[i], 0);

	/* Nothing may follow SK. */
	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	assert_non_null(ike_add_sk(&b, IKE_PL_IDI, 8));
	ike_add_vendor(&b, (const uint8_t *)"x", 1);
	assert_int_equal(buf[28], IKE_PL_IDI);
	assert_int_equal(ike_build_finish(&b), -1);

	/* Key length 0: no attribute, transform length 8. */
	{
		struct ike_proposal pr = {.num = 7,
					  .protocol = IKE_PROTO_ESP,
					  .spi_size = 4,
					  .ntransforms = 1,
					  .transforms = {{1, 28, 0}}};

		ike_build_inner(&b, buf, sizeof(buf));
		ike_add_sa(&b, &pr, 1);
		assert_int_equal(ike_build_finish(&b), 4 + 8 + 4 + 8);
		assert_int_equal(buf[8], 7);  /* proposal number as given */
		assert_int_equal(buf[19], 8); /* transform length */
	}
}

/* ------------------------------------------------------------------ */
/* Malformed generic chain                                             */
/* ------------------------------------------------------------------ */

static void test_payload_length_small(void **state)
{
	/* A zero-length payload must not loop forever or be accepted. */
	for (uint16_t l = 0; l < 4; l++) {
		uint8_t pl[8] = {0, 0, 0, 0, 0, 0, 0, 0}, m[64];

		put16(pl + 2, l);
		assert_int_equal(
			parse_exact(m, mkmsg(m, IKE_PL_VENDOR, pl, 8), &msg),
			IKE_PARSE_MALFORMED);
		/* Same for an unknown type. */
		assert_int_equal(parse_exact(m, mkmsg(m, 99, pl, 8), &msg),
				 IKE_PARSE_MALFORMED);
	}
}

static void test_payload_length_past_end(void **state)
{
	uint8_t pl[16] = {0, 0, 0, 20}, m[64];

	assert_int_equal(parse_exact(m, mkmsg(m, IKE_PL_VENDOR, pl, 16), &msg),
			 IKE_PARSE_TRUNCATED);
	put16(pl + 2, 0xffff);
	assert_int_equal(parse_exact(m, mkmsg(m, IKE_PL_VENDOR, pl, 16), &msg),
			 IKE_PARSE_TRUNCATED);
	/* Generic header itself cut short. */
	assert_int_equal(parse_exact(m, mkmsg(m, IKE_PL_VENDOR, pl, 3), &msg),
			 IKE_PARSE_TRUNCATED);
	/* A chain that announces another payload after the last byte. */
	pl[0] = IKE_PL_VENDOR;
	put16(pl + 2, 16);
	assert_int_equal(parse_exact(m, mkmsg(m, IKE_PL_VENDOR, pl, 16), &msg),
			 IKE_PARSE_TRUNCATED);
	/* Header names a payload but there are none. */
	assert_int_equal(parse_exact(m, mkmsg(m, IKE_PL_SA, NULL, 0), &msg),
			 IKE_PARSE_TRUNCATED);
}

static void test_trailing_bytes(void **state)
{
	uint8_t pl[12] = {0, 0, 0, 8}, m[64];

	/* Chain ends (next 0) with 4 bytes left before the header length. */
	assert_int_equal(parse_exact(m, mkmsg(m, IKE_PL_VENDOR, pl, 12), &msg),
			 IKE_PARSE_MALFORMED);
	/* No payloads at all but bytes present. */
	assert_int_equal(parse_exact(m, mkmsg(m, 0, pl, 4), &msg),
			 IKE_PARSE_MALFORMED);
}

/* Every prefix of a valid message, with the header length patched to it,
 * must be refused without reading past it. */
static void test_every_truncation(void **state)
{
	uint8_t m[256];
	size_t len = build_sa_init(m, sizeof(m));

	for (size_t l = IKE_HDR_LEN + 1; l < len; l++) {
		put32(m + 24, (uint32_t)l);
		assert_int_not_equal(parse_exact(m, l, &msg), IKE_PARSE_OK);
	}
}

static void test_unknown_payloads(void **state)
{
	/* unknown 200 (critical) -> unknown 201 (not critical) -> Vendor */
	uint8_t pl[] = {201, 0x80, 0, 6, 'x', 'y', IKE_PL_VENDOR, 0x00, 0,
			5,   'z',  0, 0, 0,   4};
	uint8_t m[64];

	assert_int_equal(parse_exact(m, mkmsg(m, 200, pl, sizeof(pl)), &msg),
			 IKE_PARSE_OK);
	assert_int_equal(msg.unsupported_critical, 200);
	assert_int_equal(msg.nvendor, 1);

	/* Non-critical unknown only: skipped, nothing recorded. */
	pl[1] = 0;
	assert_int_equal(parse_exact(m, mkmsg(m, 200, pl, sizeof(pl)), &msg),
			 IKE_PARSE_OK);
	assert_int_equal(msg.unsupported_critical, 0);
	assert_int_equal(msg.nvendor, 1);

	/* Two critical unknowns: the first is reported. */
	pl[1] = 0x80;
	pl[7] = 0x80;
	pl[6] = 202;
	assert_int_equal(parse_exact(m, mkmsg(m, 200, pl, sizeof(pl)), &msg),
			 IKE_PARSE_OK);
	assert_int_equal(msg.unsupported_critical, 200);
	assert_int_equal(msg.nvendor, 0);

	/* An IKEv1 payload type (1, SA) in an IKEv2 message (CVE-2015-3991):
	 * just an unknown type. */
	pl[6] = IKE_PL_VENDOR;
	pl[7] = 0;
	assert_int_equal(parse_exact(m, mkmsg(m, 1, pl, sizeof(pl)), &msg),
			 IKE_PARSE_OK);
	assert_int_equal(msg.unsupported_critical, 1);

	/* Known RFC 7296 types that vpnd does not use: critical bit ignored. */
	assert_int_equal(
		parse_exact(m, mkmsg(m, IKE_PL_CERTREQ, pl, sizeof(pl)), &msg),
		IKE_PARSE_OK);
	assert_int_equal(msg.unsupported_critical, 0);
	/* Critical bit on a known payload is ignored. */
	assert_int_equal(parse_one_payload(IKE_PL_VENDOR, 0x80, pl, 3),
			 IKE_PARSE_OK);
	assert_int_equal(msg.unsupported_critical, 0);
}

static void test_duplicates(void **state)
{
	static const uint8_t once[] = {IKE_PL_SA,  IKE_PL_KE,  IKE_PL_NONCE,
				       IKE_PL_IDI, IKE_PL_IDR, IKE_PL_AUTH,
				       IKE_PL_TSI, IKE_PL_TSR, IKE_PL_CP};
	struct ike_ts ts = {.type = IKE_TS_IPV4_ADDR_RANGE};
	uint8_t buf[512], zero[16] = {0};

	for (size_t i = 0; i < sizeof(once); i++) {
		struct ike_buf b;
		int len;

		ike_build_init(&b, buf, sizeof(buf), &init_hdr);
		for (int k = 0; k < 2; k++) {
			switch (once[i]) {
			case IKE_PL_SA:
				ike_add_sa(&b, &sa_init_prop, 1);
				break;
			case IKE_PL_KE:
				ike_add_ke(&b, 14, zero, 4);
				break;
			case IKE_PL_NONCE:
				ike_add_nonce(&b, zero, 16);
				break;
			case IKE_PL_IDI:
			case IKE_PL_IDR:
				ike_add_id(&b, once[i], IKE_ID_FQDN, zero, 3);
				break;
			case IKE_PL_AUTH:
				ike_add_auth(&b, 2, zero, 16);
				break;
			case IKE_PL_TSI:
			case IKE_PL_TSR:
				ike_add_ts(&b, once[i], &ts, 1);
				break;
			default:
				ike_add_payload(&b, once[i], false, zero, 8);
			}
			len = ike_build_finish(&b);
			assert_true(len > 0);
			assert_int_equal(parse_exact(buf, len, &msg),
					 k == 0 ? IKE_PARSE_OK
						: IKE_PARSE_DUPLICATE);
		}
	}

	/* Outside and inside SK: still a duplicate. */
	{
		uint8_t in[128];
		struct ike_buf ib, b;
		int ilen, len;

		ike_build_inner(&ib, in, sizeof(in));
		ike_add_sa(&ib, &sa_init_prop, 1);
		ilen = ike_build_finish(&ib);
		ike_build_init(&b, buf, sizeof(buf), &init_hdr);
		ike_add_sa(&b, &sa_init_prop, 1);
		ike_add_sk(&b, IKE_PL_VENDOR, 16);
		len = ike_build_finish(&b);
		assert_int_equal(ike_parse(buf, len, &msg), IKE_PARSE_OK);
		assert_int_equal(ike_parse_payloads(IKE_PL_SA, in, ilen, &msg),
				 IKE_PARSE_DUPLICATE);
	}
}

static void test_sk_not_last(void **state)
{
	/* SK (len 8) followed by a Vendor payload. */
	uint8_t pl[] = {IKE_PL_IDI, 0, 0, 8, 1, 2, 3, 4, 0, 0, 0, 4};
	uint8_t m[64];

	assert_int_equal(
		parse_exact(m, mkmsg(m, IKE_PL_SK, pl, sizeof(pl)), &msg),
		IKE_PARSE_SK_NOT_LAST);
	pl[4] = 0;
	pl[5] = 1;
	pl[6] = 0;
	pl[7] = 1; /* fragment 1 of 1 */
	assert_int_equal(
		parse_exact(m, mkmsg(m, IKE_PL_SKF, pl, sizeof(pl)), &msg),
		IKE_PARSE_SK_NOT_LAST);
	/* SK covering exactly the rest is fine; its next-payload field is
	 * the first inner payload, not a successor. */
	put16(pl + 2, sizeof(pl));
	assert_int_equal(
		parse_exact(m, mkmsg(m, IKE_PL_SK, pl, sizeof(pl)), &msg),
		IKE_PARSE_OK);
	assert_int_equal(msg.sk.first_inner, IKE_PL_IDI);
	assert_int_equal(msg.sk.len, sizeof(pl) - 4);
	/* SK is not allowed inside an inner chain. */
	assert_int_equal(parse_payloads_exact(IKE_PL_SK, pl, sizeof(pl), &msg),
			 IKE_PARSE_MALFORMED);
}

static void test_inner_chain_bounds(void **state)
{
	uint8_t pl[] = {0, 0, 0, 8, 1, 2, 3, 4, 0xee, 0xee};

	memset(&msg, 0, sizeof(msg));
	assert_int_equal(parse_payloads_exact(IKE_PL_VENDOR, pl, 8, &msg),
			 IKE_PARSE_OK);
	assert_int_equal(msg.nvendor, 1);
	/* Must end exactly at len. */
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(parse_payloads_exact(IKE_PL_VENDOR, pl, 10, &msg),
			 IKE_PARSE_MALFORMED);
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(parse_payloads_exact(IKE_PL_VENDOR, pl, 7, &msg),
			 IKE_PARSE_TRUNCATED);
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(parse_payloads_exact(IKE_PL_VENDOR, pl, 0, &msg),
			 IKE_PARSE_TRUNCATED);
	/* An empty chain. */
	assert_int_equal(parse_payloads_exact(IKE_PL_NONE, pl, 0, &msg),
			 IKE_PARSE_OK);
	assert_int_equal(parse_payloads_exact(IKE_PL_NONE, pl, 4, &msg),
			 IKE_PARSE_MALFORMED);
}

/* ------------------------------------------------------------------ */
/* Malformed SA                                                        */
/* ------------------------------------------------------------------ */

/* One proposal (#1 IKE, no SPI) with one transform ENCR 12 keylen 128. */
static size_t sa_body(uint8_t *p)
{
	static const uint8_t b[] = {
		0x00, 0x00, 0x00, 0x14, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x0c, 0x01, 0x00, 0x00, 0x0c, 0x80, 0x0e, 0x00, 0x80,
	};

	memcpy(p, b, sizeof(b));
	return sizeof(b);
}

static void test_sa_proposal_length(void **state)
{
	uint8_t p[64];
	size_t n = sa_body(p);

	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n), IKE_PARSE_OK);
	assert_int_equal(msg.sa.proposals[0].transforms[0].keylen, 128);

	/* Proposal length past the SA payload (nested length). */
	put16(p + 2, 0x15);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	put16(p + 2, 0xffff);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* Shorter than a proposal header, and zero. */
	put16(p + 2, 7);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	put16(p + 2, 0);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* Shorter than its content: leaves bytes that are no proposal. */
	put16(p + 2, 0x10);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	put16(p + 2, 0x14);
	/* "More proposals" but none follows; bad marker value. */
	p[0] = 2;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	p[0] = 1;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	p[0] = 0;
	/* SA with no proposal; SA shorter than a proposal header. */
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, 0),
			 IKE_PARSE_MALFORMED);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, 5),
			 IKE_PARSE_MALFORMED);
	/* "Last" marker but another proposal follows. */
	memcpy(p + n, p, n);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, 2 * n),
			 IKE_PARSE_MALFORMED);
	p[0] = 2;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, 2 * n),
			 IKE_PARSE_OK);
	assert_int_equal(msg.sa.nproposals, 2);
}

static void test_sa_spi_size(void **state)
{
	uint8_t p[64];
	size_t n = sa_body(p);

	/* SPI size 3: not a size any protocol uses. */
	p[6] = 3;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* SPI size 8 larger than what the proposal has left after the
	 * header... with the transform eaten as SPI, count mismatches. */
	p[6] = 8;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* SPI larger than the whole proposal body. */
	{
		static const uint8_t q[]
			= {0, 0, 0, 12, 1, 3, 8, 0, 1, 2, 3, 4};

		assert_int_equal(parse_one_payload(IKE_PL_SA, 0, q, sizeof(q)),
				 IKE_PARSE_MALFORMED);
	}
	/* A 4-byte ESP SPI with no transforms is syntactically fine. */
	{
		static const uint8_t q[]
			= {0, 0, 0, 12, 1, 3, 4, 0, 1, 2, 3, 4};

		assert_int_equal(parse_one_payload(IKE_PL_SA, 0, q, sizeof(q)),
				 IKE_PARSE_OK);
		assert_int_equal(msg.sa.proposals[0].spi_size, 4);
		assert_int_equal(msg.sa.proposals[0].spi[3], 4);
		assert_int_equal(msg.sa.proposals[0].ntransforms, 0);
	}
}

static void test_sa_transform_length(void **state)
{
	uint8_t p[64];
	size_t n = sa_body(p);

	/* Transform length past the proposal. */
	put16(p + 8 + 2, 13);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	put16(p + 8 + 2, 0xfff0);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* Below a transform header; zero. */
	put16(p + 8 + 2, 7);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	put16(p + 8 + 2, 0);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* Shorter than its content (leaves 4 stray bytes). */
	put16(p + 8 + 2, 8);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	put16(p + 8 + 2, 12);
	/* "More transforms" marker on the last one; bad marker. */
	p[8] = 3;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	p[8] = 2;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	p[8] = 0;
	/* Count in the proposal header disagrees with the transforms. */
	p[7] = 2;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	p[7] = 0;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	p[7] = 1;
	/* Transform region shorter than a transform header. */
	put16(p + 2, 12);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, 12),
			 IKE_PARSE_MALFORMED);
}

static void test_sa_attributes(void **state)
{
	uint8_t p[64];
	size_t n = sa_body(p);

	/* TLV attribute (type 1) whose length overruns the transform. */
	p[16] = 0x00;
	p[17] = 0x01;
	put16(p + 18, 1);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	put16(p + 18, 0xffff);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* An empty TLV attribute fits; it is unknown, which makes the
	 * proposal unacceptable (RFC 7296 3.3.6), not the message bad. */
	put16(p + 18, 0);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n), IKE_PARSE_OK);
	assert_int_equal(msg.sa.proposals[0].transforms[0].keylen, 0);
	assert_true(msg.sa.proposals[0].transforms[0].unknown_attr);
	/* Key Length in TLV form is not allowed. */
	p[17] = 0x0e;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* Unknown TV attribute: parsed and flagged. */
	p[16] = 0x80;
	p[17] = 0x07;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n), IKE_PARSE_OK);
	assert_int_equal(msg.sa.proposals[0].transforms[0].keylen, 0);
	assert_true(msg.sa.proposals[0].transforms[0].unknown_attr);
	/* Key Length alone is known. */
	put16(p + 16, 0x800e);
	put16(p + 18, 128);
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n), IKE_PARSE_OK);
	assert_int_equal(msg.sa.proposals[0].transforms[0].keylen, 128);
	assert_false(msg.sa.proposals[0].transforms[0].unknown_attr);
	put16(p + 18, 0);
	/* Key Length of 0 is meaningless. */
	p[17] = 0x0e;
	assert_int_equal(parse_one_payload(IKE_PL_SA, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* Half an attribute: grow the transform by 2 bytes. */
	put16(p + 18, 128);
	{
		static const uint8_t q[] = {
			0x00, 0x00, 0x00, 0x16, 0x01, 0x01, 0x00, 0x01,
			0x00, 0x00, 0x00, 0x0e, 0x01, 0x00, 0x00, 0x0c,
			0x80, 0x0e, 0x00, 0x80, 0x80, 0x0e,
		};
		assert_int_equal(parse_one_payload(IKE_PL_SA, 0, q, sizeof(q)),
				 IKE_PARSE_MALFORMED);
	}
	/* Key Length twice. */
	{
		static const uint8_t q[] = {
			0x00, 0x00, 0x00, 0x18, 0x01, 0x01, 0x00, 0x01,
			0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x0c,
			0x80, 0x0e, 0x00, 0x80, 0x80, 0x0e, 0x01, 0x00,
		};
		assert_int_equal(parse_one_payload(IKE_PL_SA, 0, q, sizeof(q)),
				 IKE_PARSE_MALFORMED);
	}
}

static void test_sa_too_many(void **state)
{
	static struct ike_proposal props[IKE_MAX_PROPOSALS + 1];
	static uint8_t buf[4096];
	struct ike_buf b;
	int len;

	for (int i = 0; i <= IKE_MAX_PROPOSALS; i++)
		props[i] = (struct ike_proposal){
			.num = i + 1,
			.protocol = IKE_PROTO_IKE,
			.ntransforms = 1,
			.transforms = {{1, 20, 256}},
		};
	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_sa(&b, props, IKE_MAX_PROPOSALS);
	len = ike_build_finish(&b);
	assert_int_equal(parse_exact(buf, len, &msg), IKE_PARSE_OK);
	assert_int_equal(msg.sa.nproposals, IKE_MAX_PROPOSALS);
	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_sa(&b, props, IKE_MAX_PROPOSALS + 1);
	len = ike_build_finish(&b);
	assert_int_equal(parse_exact(buf, len, &msg), IKE_PARSE_TOO_MANY);

	/* IKE_MAX_TRANSFORMS transforms: fine; one more announced: refused
	 * before anything is stored. */
	props[0].ntransforms = IKE_MAX_TRANSFORMS;
	for (int j = 0; j < IKE_MAX_TRANSFORMS; j++)
		props[0].transforms[j]
			= (struct ike_transform){4, (uint16_t)j, 0};
	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	ike_add_sa(&b, props, 1);
	len = ike_build_finish(&b);
	assert_int_equal(parse_exact(buf, len, &msg), IKE_PARSE_OK);
	assert_int_equal(msg.sa.proposals[0].ntransforms, IKE_MAX_TRANSFORMS);
	/* Append one more transform by hand. */
	{
		uint8_t *sa = buf + IKE_HDR_LEN;
		uint8_t *last = buf + len - 8;
		static const uint8_t t[] = {0, 0, 0, 8, 4, 0, 0, 99};

		last[0] = 3;
		memcpy(buf + len, t, 8);
		sa[4 + 7] = IKE_MAX_TRANSFORMS + 1;
		put16(sa + 2, ((sa[2] << 8) | sa[3]) + 8);
		put16(sa + 4 + 2, ((sa[6] << 8) | sa[7]) + 8);
		put32(buf + 24, len + 8);
		assert_int_equal(parse_exact(buf, len + 8, &msg),
				 IKE_PARSE_TOO_MANY);
		/* Announce 255 with 33 present: still refused. */
		sa[4 + 7] = 255;
		assert_int_equal(parse_exact(buf, len + 8, &msg),
				 IKE_PARSE_TOO_MANY);
	}
}

/* ------------------------------------------------------------------ */
/* Malformed KE, Nonce, ID, AUTH, Notify, Delete, TS                   */
/* ------------------------------------------------------------------ */

static void test_fixed_minimums(void **state)
{
	static const uint8_t z[300] = {0};
	static const uint8_t types[]
		= {IKE_PL_KE,	IKE_PL_IDI,    IKE_PL_IDR,
		   IKE_PL_AUTH, IKE_PL_NOTIFY, IKE_PL_DELETE,
		   IKE_PL_TSI,	IKE_PL_TSR,    IKE_PL_SKF};

	/* Payloads with a 4-byte fixed part, given 0..3 bytes of body
	 * (a zero-length payload body included). */
	for (size_t i = 0; i < sizeof(types); i++)
		for (size_t l = 0; l < 4; l++)
			assert_int_equal(parse_one_payload(types[i], 0, z, l),
					 IKE_PARSE_MALFORMED);

	/* KE with no key data: syntactically fine, group checks the size. */
	assert_int_equal(parse_one_payload(IKE_PL_KE, 0, z, 4), IKE_PARSE_OK);
	assert_int_equal(msg.ke.len, 0);
	/* AUTH with no data: the verifier compares lengths. */
	assert_int_equal(parse_one_payload(IKE_PL_AUTH, 0, z, 4), IKE_PARSE_OK);
	assert_int_equal(msg.auth.len, 0);
	/* Empty vendor ID and CP: fine. */
	assert_int_equal(parse_one_payload(IKE_PL_VENDOR, 0, z, 0),
			 IKE_PARSE_OK);
	assert_int_equal(parse_one_payload(IKE_PL_CP, 0, z, 0), IKE_PARSE_OK);
}

static void test_nonce_length(void **state)
{
	static const uint8_t z[300] = {0};

	/* RFC 7296 3.9: 16..256 bytes; a zero-length nonce is refused. */
	assert_int_equal(parse_one_payload(IKE_PL_NONCE, 0, z, 0),
			 IKE_PARSE_MALFORMED);
	assert_int_equal(parse_one_payload(IKE_PL_NONCE, 0, z, 15),
			 IKE_PARSE_MALFORMED);
	assert_int_equal(parse_one_payload(IKE_PL_NONCE, 0, z, 16),
			 IKE_PARSE_OK);
	assert_int_equal(parse_one_payload(IKE_PL_NONCE, 0, z, 256),
			 IKE_PARSE_OK);
	assert_int_equal(msg.nonce.len, 256);
	assert_int_equal(parse_one_payload(IKE_PL_NONCE, 0, z, 257),
			 IKE_PARSE_MALFORMED);
}

static void test_id_lengths(void **state)
{
	uint8_t p[24] = {IKE_ID_IPV4_ADDR, 0, 0, 0, 10, 0, 0, 1, 0};

	assert_int_equal(parse_one_payload(IKE_PL_IDI, 0, p, 8), IKE_PARSE_OK);
	assert_int_equal(parse_one_payload(IKE_PL_IDI, 0, p, 9),
			 IKE_PARSE_MALFORMED);
	assert_int_equal(parse_one_payload(IKE_PL_IDI, 0, p, 7),
			 IKE_PARSE_MALFORMED);
	p[0] = IKE_ID_IPV6_ADDR;
	assert_int_equal(parse_one_payload(IKE_PL_IDR, 0, p, 20), IKE_PARSE_OK);
	assert_int_equal(parse_one_payload(IKE_PL_IDR, 0, p, 8),
			 IKE_PARSE_MALFORMED);
	/* Variable-length types: an empty identity is the caller's call. */
	p[0] = IKE_ID_KEY_ID;
	assert_int_equal(parse_one_payload(IKE_PL_IDR, 0, p, 4), IKE_PARSE_OK);
	assert_int_equal(msg.idr.len, 0);
	assert_int_equal(msg.idr.bodylen, 4);
}

static void test_notify_spi(void **state)
{
	uint8_t p[16] = {IKE_PROTO_ESP, 4, 0x40, 0x09, 1, 2, 3, 4};

	assert_int_equal(parse_one_payload(IKE_PL_NOTIFY, 0, p, 8),
			 IKE_PARSE_OK);
	assert_int_equal(msg.notify[0].spi_size, 4);
	assert_int_equal(msg.notify[0].len, 0);
	/* SPI size past the payload. */
	assert_int_equal(parse_one_payload(IKE_PL_NOTIFY, 0, p, 7),
			 IKE_PARSE_MALFORMED);
	p[1] = 8;
	assert_int_equal(parse_one_payload(IKE_PL_NOTIFY, 0, p, 8),
			 IKE_PARSE_MALFORMED);
	assert_int_equal(parse_one_payload(IKE_PL_NOTIFY, 0, p, 12),
			 IKE_PARSE_OK);
	p[1] = 255;
	assert_int_equal(parse_one_payload(IKE_PL_NOTIFY, 0, p, 16),
			 IKE_PARSE_MALFORMED);
	p[1] = 5;
	assert_int_equal(parse_one_payload(IKE_PL_NOTIFY, 0, p, 16),
			 IKE_PARSE_MALFORMED);
}

static void test_delete_counts(void **state)
{
	uint8_t p[32] = {IKE_PROTO_ESP, 4, 0, 3};

	/* 3 SPIs announced, 2 present; 4 present. */
	assert_int_equal(parse_one_payload(IKE_PL_DELETE, 0, p, 12),
			 IKE_PARSE_MALFORMED);
	assert_int_equal(parse_one_payload(IKE_PL_DELETE, 0, p, 20),
			 IKE_PARSE_MALFORMED);
	assert_int_equal(parse_one_payload(IKE_PL_DELETE, 0, p, 16),
			 IKE_PARSE_OK);
	assert_int_equal(msg.del[0].nspis, 3);
	/* A huge count that a 16-bit product would wrap. */
	p[2] = 0x40;
	p[3] = 0x00;
	assert_int_equal(parse_one_payload(IKE_PL_DELETE, 0, p, 16),
			 IKE_PARSE_MALFORMED);
	p[2] = 0xff;
	p[3] = 0xff;
	assert_int_equal(parse_one_payload(IKE_PL_DELETE, 0, p, 16),
			 IKE_PARSE_MALFORMED);
	/* SPI size 0 with a count. */
	p[1] = 0;
	p[2] = 0;
	p[3] = 5;
	assert_int_equal(parse_one_payload(IKE_PL_DELETE, 0, p, 4),
			 IKE_PARSE_MALFORMED);
	/* Odd SPI size. */
	p[1] = 2;
	p[3] = 1;
	assert_int_equal(parse_one_payload(IKE_PL_DELETE, 0, p, 6),
			 IKE_PARSE_MALFORMED);
	/* IKE SA delete. */
	p[0] = IKE_PROTO_IKE;
	p[1] = 0;
	p[3] = 0;
	assert_int_equal(parse_one_payload(IKE_PL_DELETE, 0, p, 4),
			 IKE_PARSE_OK);
	assert_null(msg.del[0].spis);
}

static size_t ts_v4(uint8_t *p, uint8_t type, uint16_t len)
{
	memset(p, 0, len);
	p[0] = type;
	put16(p + 2, len);
	put16(p + 6, 65535);
	return len;
}

static void test_ts_lengths(void **state)
{
	uint8_t p[256];
	size_t n;

	p[0] = 1;
	p[1] = p[2] = p[3] = 0;
	n = 4 + ts_v4(p + 4, IKE_TS_IPV4_ADDR_RANGE, 16);
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, n), IKE_PARSE_OK);
	assert_int_equal(msg.tsi.nts, 1);

	/* IPv4 type with the IPv6 length, and the reverse. */
	n = 4 + ts_v4(p + 4, IKE_TS_IPV4_ADDR_RANGE, 40);
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, n),
			 IKE_PARSE_MALFORMED);
	n = 4 + ts_v4(p + 4, IKE_TS_IPV6_ADDR_RANGE, 16);
	assert_int_equal(parse_one_payload(IKE_PL_TSR, 0, p, n),
			 IKE_PARSE_MALFORMED);
	n = 4 + ts_v4(p + 4, IKE_TS_IPV6_ADDR_RANGE, 40);
	assert_int_equal(parse_one_payload(IKE_PL_TSR, 0, p, n), IKE_PARSE_OK);
	/* Selector length 0 (must not loop) and past the payload. */
	n = 4 + ts_v4(p + 4, IKE_TS_IPV4_ADDR_RANGE, 16);
	put16(p + 4 + 2, 0);
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, n),
			 IKE_PARSE_MALFORMED);
	put16(p + 4 + 2, 17);
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, n),
			 IKE_PARSE_MALFORMED);
	/* Body shorter than a selector header. */
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, 4 + 7),
			 IKE_PARSE_MALFORMED);
	/* Unknown TS type of a plausible length: skipped, counted. */
	n = 4 + ts_v4(p + 4, 10, 12);
	n += ts_v4(p + n, IKE_TS_IPV4_ADDR_RANGE, 16);
	p[0] = 2;
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, n), IKE_PARSE_OK);
	assert_int_equal(msg.tsi.nts, 1);
	assert_int_equal(msg.tsi.ts[0].type, IKE_TS_IPV4_ADDR_RANGE);
}

static void test_ts_counts(void **state)
{
	uint8_t p[4 + 17 * 16];
	size_t n = 4;

	memset(p, 0, 4);
	for (int i = 0; i < 17; i++)
		n += ts_v4(p + n, IKE_TS_IPV4_ADDR_RANGE, 16);

	p[0] = 16;
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, 4 + 16 * 16),
			 IKE_PARSE_OK);
	assert_int_equal(msg.tsi.nts, 16);
	/* 17 selectors (Openswan stack overflow). */
	p[0] = 17;
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, n),
			 IKE_PARSE_TOO_MANY);
	/* 255 announced with 17 present; and count/content mismatches. */
	p[0] = 255;
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, n),
			 IKE_PARSE_TOO_MANY);
	p[0] = 2;
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, 4 + 16),
			 IKE_PARSE_MALFORMED);
	p[0] = 1;
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, 4 + 32),
			 IKE_PARSE_MALFORMED);
	p[0] = 0;
	assert_int_equal(parse_one_payload(IKE_PL_TSI, 0, p, 4),
			 IKE_PARSE_MALFORMED);
}

static void test_too_many_repeatable(void **state)
{
	static uint8_t buf[2048];
	uint8_t spi[4] = {1, 2, 3, 4};
	struct ike_buf b;
	int len;

	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	for (int i = 0; i < IKE_MAX_NOTIFY; i++)
		ike_add_notify(&b, 0, NULL, 0, 16384 + i, NULL, 0);
	len = ike_build_finish(&b);
	assert_int_equal(parse_exact(buf, len, &msg), IKE_PARSE_OK);
	assert_int_equal(msg.nnotify, IKE_MAX_NOTIFY);
	ike_add_notify(&b, 0, NULL, 0, IKE_N_COOKIE, NULL, 0);
	len = ike_build_finish(&b);
	assert_int_equal(parse_exact(buf, len, &msg), IKE_PARSE_TOO_MANY);

	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	for (int i = 0; i < IKE_MAX_DELETE; i++)
		ike_add_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
	len = ike_build_finish(&b);
	assert_int_equal(parse_exact(buf, len, &msg), IKE_PARSE_OK);
	assert_int_equal(msg.ndelete, IKE_MAX_DELETE);
	/* Repeated Delete payloads (libreswan CVE-2023-38712 class). */
	ike_add_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
	len = ike_build_finish(&b);
	assert_int_equal(parse_exact(buf, len, &msg), IKE_PARSE_TOO_MANY);

	ike_build_init(&b, buf, sizeof(buf), &init_hdr);
	for (int i = 0; i < IKE_MAX_VENDOR; i++)
		ike_add_vendor(&b, spi, 4);
	len = ike_build_finish(&b);
	assert_int_equal(parse_exact(buf, len, &msg), IKE_PARSE_OK);
	ike_add_vendor(&b, spi, 4);
	len = ike_build_finish(&b);
	assert_int_equal(parse_exact(buf, len, &msg), IKE_PARSE_TOO_MANY);
}

/* Flip, zero and saturate every byte of valid messages: whatever comes
 * back, nothing may be read out of bounds (checked under ASan). */
static void test_mutations(void **state)
{
	static const uint8_t vals[]
		= {0x00, 0x01, 0x04, 0x07, 0x08, 0x80, 0xff};
	uint8_t m[256], in[256];
	size_t len = build_sa_init(m, sizeof(m));
	struct ike_ts ts = {.type = IKE_TS_IPV6_ADDR_RANGE};
	struct ike_buf ib;
	int ilen;

	ike_build_inner(&ib, in, sizeof(in));
	ike_add_id(&ib, IKE_PL_IDI, IKE_ID_FQDN, (const uint8_t *)"abc", 3);
	ike_add_ts(&ib, IKE_PL_TSI, &ts, 1);
	ike_add_delete(&ib, IKE_PROTO_ESP, 4, (const uint8_t *)"abcdefgh", 2);
	ike_add_notify(&ib, 3, (const uint8_t *)"spi!", 4, 1, NULL, 0);
	ilen = ike_build_finish(&ib);
	assert_true(ilen > 0);

	for (size_t i = IKE_HDR_LEN; i < len; i++) {
		uint8_t save = m[i];

		for (size_t v = 0; v < sizeof(vals); v++) {
			m[i] = vals[v];
			(void)parse_exact(m, len, &msg);
			m[i] = save ^ vals[v];
			(void)parse_exact(m, len, &msg);
		}
		m[i] = save;
	}
	for (int i = 0; i < ilen; i++) {
		uint8_t save = in[i];

		for (size_t v = 0; v < sizeof(vals); v++) {
			in[i] = vals[v];
			memset(&msg, 0, sizeof(msg));
			(void)parse_payloads_exact(ib.first, in, ilen, &msg);
		}
		in[i] = save;
	}
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(parse_payloads_exact(ib.first, in, ilen, &msg),
			 IKE_PARSE_OK);
}

static void test_strerror(void **state)
{
	for (int e = IKE_PARSE_SK_NOT_LAST; e <= IKE_PARSE_OK; e++) {
		assert_non_null(ike_parse_strerror(e));
		assert_true(strlen(ike_parse_strerror(e)) > 0);
	}
	assert_non_null(ike_parse_strerror(-100));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_roundtrip),
		cmocka_unit_test(test_header_truncated),
		cmocka_unit_test(test_header_version),
		cmocka_unit_test(test_header_length_mismatch),
		cmocka_unit_test(test_sa_roundtrip),
		cmocka_unit_test(test_ke_nonce_roundtrip),
		cmocka_unit_test(test_id_auth_roundtrip),
		cmocka_unit_test(test_notify_roundtrip),
		cmocka_unit_test(test_delete_roundtrip),
		cmocka_unit_test(test_ts_roundtrip),
		cmocka_unit_test(test_vendor_cp_roundtrip),
		cmocka_unit_test(test_sk_placement_and_inner),
		cmocka_unit_test(test_skf),
		cmocka_unit_test(test_sa_init_bytes),
		cmocka_unit_test(test_builder_overflow),
		cmocka_unit_test(test_builder_chain),
		cmocka_unit_test(test_payload_length_small),
		cmocka_unit_test(test_payload_length_past_end),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_unknown_payloads),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_sk_not_last),
		cmocka_unit_test(test_inner_chain_bounds),
		cmocka_unit_test(test_sa_proposal_length),
		cmocka_unit_test(test_sa_spi_size),
		cmocka_unit_test(test_sa_transform_length),
		cmocka_unit_test(test_sa_attributes),
		cmocka_unit_test(test_sa_too_many),
		cmocka_unit_test(test_fixed_minimums),
		cmocka_unit_test(test_nonce_length),
		cmocka_unit_test(test_id_lengths),
		cmocka_unit_test(test_notify_spi),
		cmocka_unit_test(test_delete_counts),
		cmocka_unit_test(test_ts_lengths),
		cmocka_unit_test(test_ts_counts),
		cmocka_unit_test(test_too_many_repeatable),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
