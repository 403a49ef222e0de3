// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: IKEv2 message encoding and decoding (see message.h).
 *
 * Decoding rules, applied everywhere below:
 * - every length is checked against what is left of its container before
 *   anything behind it is read, by subtraction (never `off + len > end`,
 *   which could wrap);
 * - the generic payload layer answers IKE_PARSE_TRUNCATED when a header or
 *   a payload does not fit in the buffer; anything wrong inside a payload
 *   body (substructure lengths, counts, types) is IKE_PARSE_MALFORMED;
 * - a payload a message may carry only once (once_payloads[]) is refused
 *   as IKE_PARSE_DUPLICATE the second time, before its body is read;
 * - nothing is allocated: parsed items point into the caller's buffer.
 *
 * Encoding appends payloads to a struct ike_buf, patching the previous
 * payload's next-payload byte; any error sets b->overflow, and
 * ike_build_finish() reports it once.
 */
#include "message.h"

#include <stddef.h>
#include <string.h>

#include "util/bytes.h"

/* ------------------------------------------------------------------ */
/* Decoding                                                            */
/* ------------------------------------------------------------------ */

/* Substructure sizes (RFC 7296 3.3). */
#define PROP_HDR_LEN 8
#define XFORM_HDR_LEN 8
#define ATTR_HDR_LEN 4
#define ATTR_AF 0x8000
#define ATTR_KEY_LENGTH 14
#define PROP_MORE 2
#define XFORM_MORE 3
#define TS_HDR_LEN 8 /* type, protocol, length, ports */
#define TS_IPV4_LEN 16
#define TS_IPV6_LEN 40

#define array_size(a) (sizeof(a) / sizeof((a)[0]))

const char *ike_parse_strerror(int err)
{
	switch (err) {
	case IKE_PARSE_OK:
		return "ok";
	case IKE_PARSE_TRUNCATED:
		return "truncated";
	case IKE_PARSE_BAD_VERSION:
		return "unsupported major version";
	case IKE_PARSE_BAD_LENGTH:
		return "header length does not match datagram length";
	case IKE_PARSE_MALFORMED:
		return "malformed payload";
	case IKE_PARSE_TOO_MANY:
		return "too many payloads or substructures";
	case IKE_PARSE_DUPLICATE:
		return "duplicate payload";
	case IKE_PARSE_SK_NOT_LAST:
		return "encrypted payload is not the last payload";
	}
	return "unknown error";
}

/*
 * The header is filled in whenever 28 bytes are there, so that a caller can
 * answer INVALID_MAJOR_VERSION (RFC 7296 2.5) from it. The length field is
 * not compared with `len` here; ike_parse() does that.
 */
int ike_parse_header(const uint8_t *buf, size_t len, struct ike_header *hdr)
{
	if (!buf || len < IKE_HDR_LEN)
		return IKE_PARSE_TRUNCATED;
	hdr->spi_i = vpn_get_be64(buf);
	hdr->spi_r = vpn_get_be64(buf + 8);
	hdr->next_payload = buf[16];
	hdr->version = buf[17];
	hdr->exchange = buf[18];
	hdr->flags = buf[19];
	hdr->msgid = vpn_get_be32(buf + 20);
	hdr->length = vpn_get_be32(buf + 24);
	if ((hdr->version >> 4) != (IKE_VERSION >> 4))
		return IKE_PARSE_BAD_VERSION;
	return IKE_PARSE_OK;
}

/*
 * A substructure (proposal, transform, traffic selector) at x, with rem
 * bytes left in its container: its header fits, and its length (bytes 2
 * and 3) covers at least the header and fits too. The length into *slen.
 */
static int substruct_len(const uint8_t *x, size_t rem, size_t hdrlen,
			 uint16_t *slen)
{
	if (rem < hdrlen)
		return IKE_PARSE_MALFORMED;
	*slen = vpn_get_be16(x + 2);
	if (*slen < hdrlen || *slen > rem)
		return IKE_PARSE_MALFORMED;
	return IKE_PARSE_OK;
}

/*
 * A proposal or transform: substruct_len(), and its first byte is `more`
 * exactly when another one follows it in the container (it does not end
 * there), else 0.
 */
static int chained_len(const uint8_t *x, size_t rem, size_t hdrlen,
		       uint8_t more, uint16_t *slen)
{
	int rc = substruct_len(x, rem, hdrlen, slen);

	if (rc)
		return rc;
	if (x[0] == 0)
		return *slen == rem ? IKE_PARSE_OK : IKE_PARSE_MALFORMED;
	if (x[0] == more)
		return *slen == rem ? IKE_PARSE_MALFORMED : IKE_PARSE_OK;
	return IKE_PARSE_MALFORMED;
}

static int parse_attributes(const uint8_t *p, size_t len,
			    struct ike_transform *t)
{
	size_t off = 0;
	bool seen_keylen = false;

	while (off < len) {
		size_t rem = len - off;
		uint16_t af_type, val;

		if (rem < ATTR_HDR_LEN)
			return IKE_PARSE_MALFORMED;
		af_type = vpn_get_be16(p + off);
		val = vpn_get_be16(p + off + 2);
		if (af_type & ATTR_AF) {
			/* TV: the value is the second half-word. */
			if ((af_type & ~ATTR_AF) == ATTR_KEY_LENGTH) {
				if (seen_keylen || val == 0)
					return IKE_PARSE_MALFORMED;
				seen_keylen = true;
				t->keylen = val;
			} else {
				t->unknown_attr = true;
			}
			off += ATTR_HDR_LEN;
		} else {
			/* TLV: Key Length is only ever TV (RFC 7296 3.3.5). */
			if (af_type == ATTR_KEY_LENGTH)
				return IKE_PARSE_MALFORMED;
			if (val > rem - ATTR_HDR_LEN)
				return IKE_PARSE_MALFORMED;
			t->unknown_attr = true;
			off += ATTR_HDR_LEN + val;
		}
	}
	return IKE_PARSE_OK;
}

static int parse_transforms(const uint8_t *p, size_t len, unsigned int count,
			    struct ike_proposal *prop)
{
	size_t off = 0;
	int rc;

	prop->ntransforms = 0;
	while (off < len) {
		size_t rem = len - off;
		const uint8_t *x = p + off;
		struct ike_transform *t;
		uint16_t tlen;

		rc = chained_len(x, rem, XFORM_HDR_LEN, XFORM_MORE, &tlen);
		if (rc)
			return rc;
		/* More transforms than the proposal announced. */
		if (prop->ntransforms >= count)
			return IKE_PARSE_MALFORMED;

		t = &prop->transforms[prop->ntransforms++];
		memset(t, 0, sizeof(*t));
		t->type = x[4];
		t->id = vpn_get_be16(x + 6);
		rc = parse_attributes(x + XFORM_HDR_LEN, tlen - XFORM_HDR_LEN,
				      t);
		if (rc)
			return rc;
		off += tlen;
	}
	if (prop->ntransforms != count)
		return IKE_PARSE_MALFORMED;
	return IKE_PARSE_OK;
}

static bool spi_size_ok(uint8_t size)
{
	return size == 0 || size == 4 || size == 8;
}

static int parse_sa(const uint8_t *p, size_t len, struct ike_sa_payload *sa)
{
	size_t off = 0;
	int rc;

	sa->nproposals = 0;
	if (len == 0)
		return IKE_PARSE_MALFORMED;
	while (off < len) {
		size_t rem = len - off;
		const uint8_t *x = p + off;
		struct ike_proposal *prop;
		uint16_t plen;
		uint8_t spi_size, ntr;

		rc = chained_len(x, rem, PROP_HDR_LEN, PROP_MORE, &plen);
		if (rc)
			return rc;
		if (sa->nproposals >= IKE_MAX_PROPOSALS)
			return IKE_PARSE_TOO_MANY;

		spi_size = x[6];
		ntr = x[7];
		if (!spi_size_ok(spi_size) || spi_size > plen - PROP_HDR_LEN)
			return IKE_PARSE_MALFORMED;
		if (ntr > IKE_MAX_TRANSFORMS)
			return IKE_PARSE_TOO_MANY;

		prop = &sa->proposals[sa->nproposals++];
		memset(prop, 0, sizeof(*prop));
		prop->num = x[4];
		prop->protocol = x[5];
		prop->spi_size = spi_size;
		memcpy(prop->spi, x + PROP_HDR_LEN, spi_size);
		rc = parse_transforms(x + PROP_HDR_LEN + spi_size,
				      plen - PROP_HDR_LEN - spi_size, ntr,
				      prop);
		if (rc)
			return rc;
		off += plen;
	}
	return IKE_PARSE_OK;
}

/* A payload made of a 4-byte fixed part and a data tail (KE, ID, AUTH;
 * what add_fixed4() builds): the tail, unless the body is shorter. */
static int fixed4_tail(const uint8_t *p, size_t len, const uint8_t **data,
		       size_t *datalen)
{
	if (len < 4)
		return IKE_PARSE_MALFORMED;
	*data = p + 4;
	*datalen = len - 4;
	return IKE_PARSE_OK;
}

static int parse_id(const uint8_t *p, size_t len, struct ike_id *id)
{
	if (fixed4_tail(p, len, &id->data, &id->len))
		return IKE_PARSE_MALFORMED;
	id->type = p[0];
	id->body = p;
	id->bodylen = len;
	/* Fixed-size identities: the only case where the type fixes the
	 * length, and a caller copying an address relies on it. */
	if (id->type == IKE_ID_IPV4_ADDR && id->len != 4)
		return IKE_PARSE_MALFORMED;
	if (id->type == IKE_ID_IPV6_ADDR && id->len != 16)
		return IKE_PARSE_MALFORMED;
	return IKE_PARSE_OK;
}

/* The head of Notify and Delete: protocol, SPI size (0, 4 or 8), and a
 * 16-bit field (the notify type, the number of SPIs). */
static int parse_spi_head(const uint8_t *p, size_t len, uint8_t *spi_size,
			  uint16_t *field)
{
	if (len < 4)
		return IKE_PARSE_MALFORMED;
	*spi_size = p[1];
	*field = vpn_get_be16(p + 2);
	return spi_size_ok(*spi_size) ? IKE_PARSE_OK : IKE_PARSE_MALFORMED;
}

/* A Notify payload, appended to msg->notify. */
static int parse_notify(struct ike_msg *msg, const uint8_t *p, size_t len)
{
	struct ike_notify n;

	if (msg->nnotify >= IKE_MAX_NOTIFY)
		return IKE_PARSE_TOO_MANY;
	if (parse_spi_head(p, len, &n.spi_size, &n.type) ||
	    n.spi_size > len - 4)
		return IKE_PARSE_MALFORMED;
	n.protocol = p[0];
	n.spi = n.spi_size ? p + 4 : NULL;
	n.data = p + 4 + n.spi_size;
	n.len = len - 4 - n.spi_size;
	msg->notify[msg->nnotify++] = n;
	return IKE_PARSE_OK;
}

/* A Delete payload, appended to msg->del. */
static int parse_delete(struct ike_msg *msg, const uint8_t *p, size_t len)
{
	struct ike_delete d;

	if (msg->ndelete >= IKE_MAX_DELETE)
		return IKE_PARSE_TOO_MANY;
	if (parse_spi_head(p, len, &d.spi_size, &d.nspis))
		return IKE_PARSE_MALFORMED;
	/* At most 65535 * 8: no overflow in size_t. */
	if ((size_t)d.spi_size * d.nspis != len - 4)
		return IKE_PARSE_MALFORMED;
	/* An SPI count with no SPI size would let a caller loop over
	 * nothing; the IKE SA delete carries neither. */
	if (d.spi_size == 0 && d.nspis != 0)
		return IKE_PARSE_MALFORMED;
	d.protocol = p[0];
	d.spis = d.nspis ? p + 4 : NULL;
	msg->del[msg->ndelete++] = d;
	return IKE_PARSE_OK;
}

/*
 * Traffic selectors (RFC 7296 3.13.1). Unknown TS types are skipped (they
 * still count against the announced number), so nts may end up smaller
 * than the wire count, down to 0: the caller answers TS_UNACCEPTABLE.
 */
static int parse_ts(const uint8_t *p, size_t len, struct ike_ts_payload *tsp)
{
	size_t off = 4;
	unsigned int count, seen = 0;

	tsp->nts = 0;
	if (len < 4)
		return IKE_PARSE_MALFORMED;
	count = p[0];
	if (count == 0)
		return IKE_PARSE_MALFORMED;
	if (count > IKE_MAX_TS)
		return IKE_PARSE_TOO_MANY;
	while (off < len) {
		size_t rem = len - off;
		const uint8_t *x = p + off;
		uint16_t slen;
		size_t alen;
		struct ike_ts *ts;

		if (substruct_len(x, rem, TS_HDR_LEN, &slen))
			return IKE_PARSE_MALFORMED;
		if (++seen > count)
			return IKE_PARSE_MALFORMED;
		off += slen;
		if (x[0] == IKE_TS_IPV4_ADDR_RANGE) {
			if (slen != TS_IPV4_LEN)
				return IKE_PARSE_MALFORMED;
			alen = 4;
		} else if (x[0] == IKE_TS_IPV6_ADDR_RANGE) {
			if (slen != TS_IPV6_LEN)
				return IKE_PARSE_MALFORMED;
			alen = 16;
		} else {
			continue;
		}
		ts = &tsp->ts[tsp->nts++];
		memset(ts, 0, sizeof(*ts));
		ts->type = x[0];
		ts->proto = x[1];
		ts->start_port = vpn_get_be16(x + 4);
		ts->end_port = vpn_get_be16(x + 6);
		memcpy(ts->start, x + TS_HDR_LEN, alen);
		memcpy(ts->end, x + TS_HDR_LEN + alen, alen);
	}
	if (seen != count)
		return IKE_PARSE_MALFORMED;
	return IKE_PARSE_OK;
}

/* KE: DH group, 2 reserved bytes, key exchange data. The length of the
 * data is the group's business (the caller checks it per group). */
static int parse_ke(const uint8_t *body, size_t len, struct ike_ke *ke)
{
	if (fixed4_tail(body, len, &ke->data, &ke->len))
		return IKE_PARSE_MALFORMED;
	ke->group = vpn_get_be16(body);
	return IKE_PARSE_OK;
}

static int parse_nonce(const uint8_t *body, size_t len, struct ike_blob *n)
{
	if (len < IKE_NONCE_MIN_LEN || len > IKE_NONCE_MAX_LEN)
		return IKE_PARSE_MALFORMED;
	n->data = body;
	n->len = len;
	return IKE_PARSE_OK;
}

/* AUTH: method, 3 reserved bytes, authentication data. */
static int parse_auth(const uint8_t *body, size_t len, struct ike_auth *auth)
{
	if (fixed4_tail(body, len, &auth->data, &auth->len))
		return IKE_PARSE_MALFORMED;
	auth->method = body[0];
	return IKE_PARSE_OK;
}

/* SKF (RFC 7383 2.5): fragment number and total, then as SK.
 * 1 <= Fragment Number <= Total Fragments. */
static int parse_skf(const uint8_t *body, size_t len, uint8_t np, size_t off,
		     struct ike_skf *skf)
{
	if (len < 4)
		return IKE_PARSE_MALFORMED;
	skf->first_inner = np;
	skf->number = vpn_get_be16(body);
	skf->total = vpn_get_be16(body + 2);
	if (skf->number == 0 || skf->number > skf->total)
		return IKE_PARSE_MALFORMED;
	skf->offset = off;
	skf->data = body + 4;
	skf->len = len - 4;
	return IKE_PARSE_OK;
}

/* A Vendor ID payload, appended to msg->vendor. */
static int parse_vendor(struct ike_msg *msg, const uint8_t *body, size_t len)
{
	if (msg->nvendor >= IKE_MAX_VENDOR)
		return IKE_PARSE_TOO_MANY;
	msg->vendor[msg->nvendor].data = body;
	msg->vendor[msg->nvendor].len = len;
	msg->nvendor++;
	return IKE_PARSE_OK;
}

/* The payloads that may appear once in a message, and their has_ flag. */
static const struct {
	uint8_t type;
	size_t seen; /* offset of the flag in struct ike_msg */
} once_payloads[] = {
	{ IKE_PL_SA, offsetof(struct ike_msg, has_sa) },
	{ IKE_PL_KE, offsetof(struct ike_msg, has_ke) },
	{ IKE_PL_NONCE, offsetof(struct ike_msg, has_nonce) },
	{ IKE_PL_IDI, offsetof(struct ike_msg, has_idi) },
	{ IKE_PL_IDR, offsetof(struct ike_msg, has_idr) },
	{ IKE_PL_AUTH, offsetof(struct ike_msg, has_auth) },
	{ IKE_PL_TSI, offsetof(struct ike_msg, has_tsi) },
	{ IKE_PL_TSR, offsetof(struct ike_msg, has_tsr) },
	{ IKE_PL_CP, offsetof(struct ike_msg, has_cp) },
	{ IKE_PL_SK, offsetof(struct ike_msg, has_sk) },
	{ IKE_PL_SKF, offsetof(struct ike_msg, has_skf) },
};

/* A payload that may appear only once: mark it, or fail if seen. Other
 * payloads pass. */
static int once(struct ike_msg *msg, uint8_t type)
{
	for (size_t i = 0; i < array_size(once_payloads); i++) {
		bool *seen;

		if (once_payloads[i].type != type)
			continue;
		seen = (bool *)((uint8_t *)msg + once_payloads[i].seen);
		if (*seen)
			return IKE_PARSE_DUPLICATE;
		*seen = true;
	}
	return IKE_PARSE_OK;
}

/* The body of a payload of type `type`: see parse_one(). Cases in the
 * order of the payload type numbers. */
static int parse_body(struct ike_msg *msg, uint8_t type, uint8_t flags,
		      uint8_t np, const uint8_t *body, size_t len, size_t off)
{
	switch (type) {
	case IKE_PL_SA:
		return parse_sa(body, len, &msg->sa);
	case IKE_PL_KE:
		return parse_ke(body, len, &msg->ke);
	case IKE_PL_IDI:
	case IKE_PL_IDR:
		return parse_id(body, len,
				type == IKE_PL_IDI ? &msg->idi : &msg->idr);
	case IKE_PL_AUTH:
		return parse_auth(body, len, &msg->auth);
	case IKE_PL_NONCE:
		return parse_nonce(body, len, &msg->nonce);
	case IKE_PL_NOTIFY:
		return parse_notify(msg, body, len);
	case IKE_PL_DELETE:
		return parse_delete(msg, body, len);
	case IKE_PL_VENDOR:
		return parse_vendor(msg, body, len);
	case IKE_PL_TSI:
	case IKE_PL_TSR:
		return parse_ts(body, len,
				type == IKE_PL_TSI ? &msg->tsi : &msg->tsr);
	case IKE_PL_SK:
		msg->sk = (struct ike_sk){ .first_inner = np,
					   .offset = off,
					   .data = body,
					   .len = len };
		return IKE_PARSE_OK;
	case IKE_PL_CP:
		msg->cp = (struct ike_blob){ .data = body, .len = len };
		return IKE_PARSE_OK;
	case IKE_PL_SKF:
		return parse_skf(body, len, np, off, &msg->skf);
	case IKE_PL_CERT:
	case IKE_PL_CERTREQ:
	case IKE_PL_EAP:
		/* Defined by RFC 7296 (so the critical bit is ignored), but
		 * not used by vpnd: skipped. */
		return IKE_PARSE_OK;
	default:
		if ((flags & IKE_PL_CRITICAL) && !msg->unsupported_critical)
			msg->unsupported_critical = type;
		return IKE_PARSE_OK;
	}
}

/*
 * One payload body of type `type` at body[0..len). `off` is the offset of
 * its generic header in msg->raw (outer chain only). A payload that may
 * appear once is refused as a duplicate before its body is read.
 */
static int parse_one(struct ike_msg *msg, uint8_t type, uint8_t flags,
		     uint8_t np, const uint8_t *body, size_t len, size_t off)
{
	int rc = once(msg, type);

	return rc ? rc : parse_body(msg, type, flags, np, body, len, off);
}

/*
 * Walk a payload chain starting with type `np` over buf[off..end). `outer`
 * is true for the chain of a message (SK/SKF allowed, and then last);
 * an inner chain must not carry SK/SKF. Every payload is at least 4 bytes,
 * so the loop ends after at most (end - off) / 4 rounds.
 */
static int parse_chain(struct ike_msg *msg, uint8_t np, const uint8_t *buf,
		       size_t off, size_t end, bool outer)
{
	int rc;

	while (np != IKE_PL_NONE) {
		size_t rem = end - off;
		const uint8_t *g = buf + off;
		uint8_t type = np;
		uint16_t plen;

		if (rem < IKE_GENERIC_HDR_LEN)
			return IKE_PARSE_TRUNCATED;
		np = g[0];
		plen = vpn_get_be16(g + 2);
		if (plen < IKE_GENERIC_HDR_LEN)
			return IKE_PARSE_MALFORMED;
		if (plen > rem)
			return IKE_PARSE_TRUNCATED;

		if (type == IKE_PL_SK || type == IKE_PL_SKF) {
			if (!outer)
				return IKE_PARSE_MALFORMED;
			if (plen != rem)
				return IKE_PARSE_SK_NOT_LAST;
		}
		rc = parse_one(msg, type, g[1], np, g + IKE_GENERIC_HDR_LEN,
			       plen - IKE_GENERIC_HDR_LEN, off);
		if (rc)
			return rc;
		off += plen;
		if (type == IKE_PL_SK || type == IKE_PL_SKF)
			return IKE_PARSE_OK; /* its next payload is inside */
	}
	/* The chain ended: nothing may follow it. */
	if (off != end)
		return IKE_PARSE_MALFORMED;
	return IKE_PARSE_OK;
}

int ike_parse(const uint8_t *buf, size_t len, struct ike_msg *msg)
{
	int rc;

	memset(msg, 0, sizeof(*msg));
	rc = ike_parse_header(buf, len, &msg->hdr);
	if (rc)
		return rc;
	if (msg->hdr.length != len)
		return IKE_PARSE_BAD_LENGTH;
	msg->raw = buf;
	msg->rawlen = len;
	return parse_chain(msg, msg->hdr.next_payload, buf, IKE_HDR_LEN, len,
			   true);
}

int ike_parse_payloads(uint8_t first, const uint8_t *buf, size_t len,
		       struct ike_msg *msg)
{
	if (!buf && len)
		return IKE_PARSE_TRUNCATED;
	return parse_chain(msg, first, buf, 0, len, false);
}

const struct ike_notify *ike_msg_notify(const struct ike_msg *msg,
					uint16_t type)
{
	for (unsigned int i = 0; i < msg->nnotify; i++)
		if (msg->notify[i].type == type)
			return &msg->notify[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

/* np_offset when no next-payload byte is to be patched: the start of an
 * inner chain (first == 0), or after an SK payload (first != 0), when
 * appending anything more is a caller error. */
#define NP_NONE ((size_t)-1)
#define PAYLOAD_MAX_BODY (0xffff - IKE_GENERIC_HDR_LEN)

void ike_build_init(struct ike_buf *b, uint8_t *mem, size_t cap,
		    const struct ike_header *hdr)
{
	memset(b, 0, sizeof(*b));
	b->data = mem;
	b->cap = cap;
	b->has_header = true;
	b->np_offset = 16;
	if (!mem || cap < IKE_HDR_LEN) {
		b->overflow = true;
		return;
	}
	vpn_put_be64(mem, hdr->spi_i);
	vpn_put_be64(mem + 8, hdr->spi_r);
	mem[16] = IKE_PL_NONE;
	mem[17] = hdr->version ? hdr->version : IKE_VERSION;
	mem[18] = hdr->exchange;
	mem[19] = hdr->flags;
	vpn_put_be32(mem + 20, hdr->msgid);
	vpn_put_be32(mem + 24, 0);
	b->len = IKE_HDR_LEN;
}

void ike_build_inner(struct ike_buf *b, uint8_t *mem, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->data = mem;
	b->cap = cap;
	b->has_header = false;
	b->np_offset = NP_NONE;
}

uint8_t *ike_add_payload(struct ike_buf *b, uint8_t type, bool critical,
			 const void *body, size_t len)
{
	uint8_t *g;

	if (b->overflow)
		return NULL;
	/* Nothing may follow SK; type 0 would end the chain. */
	if ((b->np_offset == NP_NONE && b->first != IKE_PL_NONE)
	    || type == IKE_PL_NONE || len > PAYLOAD_MAX_BODY || !b->data
	    || b->len > b->cap || len + IKE_GENERIC_HDR_LEN > b->cap - b->len) {
		b->overflow = true;
		return NULL;
	}
	if (b->np_offset != NP_NONE)
		b->data[b->np_offset] = type;
	if (b->first == IKE_PL_NONE)
		b->first = type;

	g = b->data + b->len;
	g[0] = IKE_PL_NONE;
	g[1] = critical ? IKE_PL_CRITICAL : 0;
	vpn_put_be16(g + 2, (uint16_t)(len + IKE_GENERIC_HDR_LEN));
	if (body)
		memmove(g + IKE_GENERIC_HDR_LEN, body, len);
	else if (len)
		memset(g + IKE_GENERIC_HDR_LEN, 0, len);
	b->np_offset = b->len;
	b->len += IKE_GENERIC_HDR_LEN + len;
	return g + IKE_GENERIC_HDR_LEN;
}

/* A payload made of a 4-byte fixed part and a data tail. */
static uint8_t *add_fixed4(struct ike_buf *b, uint8_t type, const uint8_t f[4],
			   const uint8_t *data, size_t len)
{
	uint8_t *p;

	if (len > PAYLOAD_MAX_BODY - 4 || (len && !data)) {
		b->overflow = true;
		return NULL;
	}
	p = ike_add_payload(b, type, false, NULL, 4 + len);
	if (!p)
		return NULL;
	memcpy(p, f, 4);
	if (len)
		memcpy(p + 4, data, len);
	return p;
}

static size_t transform_len(const struct ike_transform *t)
{
	return XFORM_HDR_LEN + (t->keylen ? ATTR_HDR_LEN : 0);
}

void ike_add_sa(struct ike_buf *b, const struct ike_proposal *props,
		unsigned int n)
{
	size_t total = 0;
	uint8_t *p;

	if (b->overflow)
		return;
	if (n == 0 || n > 255 || !props) {
		b->overflow = true;
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct ike_proposal *pr = &props[i];
		size_t plen = PROP_HDR_LEN + pr->spi_size;

		if (pr->spi_size > IKE_MAX_SPI_LEN
		    || pr->ntransforms > IKE_MAX_TRANSFORMS) {
			b->overflow = true;
			return;
		}
		for (unsigned int j = 0; j < pr->ntransforms; j++)
			plen += transform_len(&pr->transforms[j]);
		if (plen > 0xffff) {
			b->overflow = true;
			return;
		}
		total += plen;
	}

	p = ike_add_payload(b, IKE_PL_SA, false, NULL, total);
	if (!p)
		return;
	for (unsigned int i = 0; i < n; i++) {
		const struct ike_proposal *pr = &props[i];
		uint8_t *x = p;
		size_t plen = PROP_HDR_LEN + pr->spi_size;

		x[0] = (i + 1 == n) ? 0 : PROP_MORE;
		x[1] = 0;
		x[4] = pr->num;
		x[5] = pr->protocol;
		x[6] = pr->spi_size;
		x[7] = (uint8_t)pr->ntransforms;
		memcpy(x + PROP_HDR_LEN, pr->spi, pr->spi_size);
		p += plen;
		for (unsigned int j = 0; j < pr->ntransforms; j++) {
			const struct ike_transform *t = &pr->transforms[j];
			size_t tlen = transform_len(t);

			p[0] = (j + 1 == pr->ntransforms) ? 0 : XFORM_MORE;
			p[1] = 0;
			vpn_put_be16(p + 2, (uint16_t)tlen);
			p[4] = t->type;
			p[5] = 0;
			vpn_put_be16(p + 6, t->id);
			if (t->keylen) {
				vpn_put_be16(p + 8, ATTR_AF | ATTR_KEY_LENGTH);
				vpn_put_be16(p + 10, t->keylen);
			}
			p += tlen;
			plen += tlen;
		}
		vpn_put_be16(x + 2, (uint16_t)plen);
	}
}

void ike_add_ke(struct ike_buf *b, uint16_t group, const uint8_t *data,
		size_t len)
{
	uint8_t f[4] = {group >> 8, group & 0xff, 0, 0};

	add_fixed4(b, IKE_PL_KE, f, data, len);
}

void ike_add_nonce(struct ike_buf *b, const uint8_t *data, size_t len)
{
	if (len && !data) {
		b->overflow = true;
		return;
	}
	ike_add_payload(b, IKE_PL_NONCE, false, data, len);
}

void ike_add_id(struct ike_buf *b, uint8_t type, uint8_t id_type,
		const uint8_t *data, size_t len)
{
	uint8_t f[4] = {id_type, 0, 0, 0};

	if (type != IKE_PL_IDI && type != IKE_PL_IDR) {
		b->overflow = true;
		return;
	}
	add_fixed4(b, type, f, data, len);
}

void ike_add_auth(struct ike_buf *b, uint8_t method, const uint8_t *data,
		  size_t len)
{
	uint8_t f[4] = {method, 0, 0, 0};

	add_fixed4(b, IKE_PL_AUTH, f, data, len);
}

void ike_add_notify(struct ike_buf *b, uint8_t protocol, const uint8_t *spi,
		    uint8_t spi_size, uint16_t type, const uint8_t *data,
		    size_t len)
{
	uint8_t *p;

	if (b->overflow)
		return;
	if ((spi_size && !spi) || (len && !data)
	    || len > PAYLOAD_MAX_BODY - 4 - spi_size) {
		b->overflow = true;
		return;
	}
	p = ike_add_payload(b, IKE_PL_NOTIFY, false, NULL, 4 + spi_size + len);
	if (!p)
		return;
	p[0] = protocol;
	p[1] = spi_size;
	vpn_put_be16(p + 2, type);
	if (spi_size)
		memcpy(p + 4, spi, spi_size);
	if (len)
		memcpy(p + 4 + spi_size, data, len);
}

void ike_add_delete(struct ike_buf *b, uint8_t protocol, uint8_t spi_size,
		    const uint8_t *spis, uint16_t nspis)
{
	size_t len = (size_t)spi_size * nspis;
	uint8_t f[4] = {protocol, spi_size, nspis >> 8, nspis & 0xff};

	add_fixed4(b, IKE_PL_DELETE, f, spis, len);
}

void ike_add_ts(struct ike_buf *b, uint8_t type, const struct ike_ts *ts,
		unsigned int n)
{
	size_t total = 4;
	uint8_t *p;

	if (b->overflow)
		return;
	if ((type != IKE_PL_TSI && type != IKE_PL_TSR) || n == 0 || n > 255
	    || !ts) {
		b->overflow = true;
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (ts[i].type == IKE_TS_IPV4_ADDR_RANGE) {
			total += TS_IPV4_LEN;
		} else if (ts[i].type == IKE_TS_IPV6_ADDR_RANGE) {
			total += TS_IPV6_LEN;
		} else {
			b->overflow = true;
			return;
		}
	}
	p = ike_add_payload(b, type, false, NULL, total);
	if (!p)
		return;
	p[0] = (uint8_t)n;
	p[1] = p[2] = p[3] = 0;
	p += 4;
	for (unsigned int i = 0; i < n; i++) {
		size_t alen = ts[i].type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
		size_t slen = TS_HDR_LEN + 2 * alen;

		p[0] = ts[i].type;
		p[1] = ts[i].proto;
		vpn_put_be16(p + 2, (uint16_t)slen);
		vpn_put_be16(p + 4, ts[i].start_port);
		vpn_put_be16(p + 6, ts[i].end_port);
		memcpy(p + TS_HDR_LEN, ts[i].start, alen);
		memcpy(p + TS_HDR_LEN + alen, ts[i].end, alen);
		p += slen;
	}
}

void ike_add_vendor(struct ike_buf *b, const uint8_t *data, size_t len)
{
	if (len && !data) {
		b->overflow = true;
		return;
	}
	ike_add_payload(b, IKE_PL_VENDOR, false, data, len);
}

uint8_t *ike_add_sk(struct ike_buf *b, uint8_t first_inner, size_t len)
{
	uint8_t *p;
	size_t at = b->len;

	p = ike_add_payload(b, IKE_PL_SK, false, NULL, len);
	if (!p)
		return NULL;
	/* The SK payload's next-payload field names the first inner
	 * payload; nothing may be appended after it. */
	b->data[at] = first_inner;
	b->np_offset = NP_NONE;
	return p;
}

int ike_build_finish(struct ike_buf *b)
{
	if (b->overflow || b->len > 0x7fffffff)
		return -1;
	if (b->has_header)
		vpn_put_be32(b->data + 24, (uint32_t)b->len);
	return (int)b->len;
}
