// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The IKE engine compiled into the engine fuzzer, plus the accessors of
 * fuzz_ike_peek.h. ike.c is included here (not linked from the engine
 * library) so that it is built with the fuzzer's coverage and sanitizer
 * flags, and so that these few test-only functions can read an SA's keys
 * and message IDs without any test hook in vpnd/ike/ itself. If a field
 * used below is renamed, this file stops compiling: update it then.
 */
#include "ike/ike.c"

#include "fuzz_ike_peek.h"

struct ike_sa *fuzz_ike_nth_sa(struct ike_engine *eng, unsigned int idx)
{
	unsigned int n = 0;
	struct ike_sa *sa;

	for (sa = eng->sas; sa; sa = sa->next)
		if (sa->state != IKE_SA_DEAD)
			n++;
	if (!n)
		return NULL;
	idx %= n;
	for (sa = eng->sas; sa; sa = sa->next)
		if (sa->state != IKE_SA_DEAD && idx-- == 0)
			return sa;
	return NULL;
}

struct ike_sa *fuzz_ike_find(struct ike_engine *eng,
			     const struct ike_header *h)
{
	return sa_find(eng, h);
}

bool fuzz_ike_sa_has_keys(const struct ike_sa *sa)
{
	return sa_has_keys(sa);
}

uint32_t fuzz_ike_sa_msgid(const struct ike_sa *sa, bool response)
{
	return response ? sa->msgid_out : sa->msgid_in;
}

uint8_t fuzz_ike_sa_req_exchange(const struct ike_sa *sa)
{
	return req_exchange(sa->req_kind);
}

int fuzz_ike_seal_in(struct ike_sa *sa, struct ike_header *h, uint8_t first,
		     const uint8_t *inner, size_t len, uint8_t *out,
		     size_t cap)
{
	static uint8_t mem[IKE_MSG_MAX];
	struct ike_buf b;

	if (len > sizeof(mem))
		return -1;
	ike_build_inner(&b, mem, sizeof(mem));
	memcpy(mem, inner, len);
	b.len = len;
	b.first = first;
	h->spi_i = sa->spi_i;
	h->spi_r = sa->spi_r;
	h->version = IKE_VERSION;
	return ike_sk_seal(&sa->sk_in, h, &b, out, cap);
}

int fuzz_ike_open_in(struct ike_sa *sa, uint8_t *buf, size_t len,
		     struct ike_header *h, uint8_t **pt, size_t *ptlen,
		     uint8_t *first)
{
	static struct ike_msg msg;
	const struct vpn_cipher_info *ci;
	size_t icvlen, ctlen;
	uint8_t *ct;

	if (!sa_has_keys(sa) || ike_parse(buf, len, &msg) != IKE_PARSE_OK ||
	    !msg.has_sk || ike_sk_open(&sa->sk_in, buf, &msg) < 0)
		return -1;
	/* where ike_sk_open() left the plaintext (see sk.c's layout) */
	ci = vpn_cipher_get_info(sa->sk_in.cipher);
	icvlen = ci->aead ? ci->icvlen : vpn_integ_icvlen(sa->sk_in.integ_id);
	ct = buf + msg.sk.offset + IKE_GENERIC_HDR_LEN + ci->ivlen;
	ctlen = msg.sk.len - ci->ivlen - icvlen;
	*h = msg.hdr;
	*first = msg.sk.first_inner;
	*pt = ct;
	*ptlen = ctlen - ct[ctlen - 1] - 1;
	return 0;
}
