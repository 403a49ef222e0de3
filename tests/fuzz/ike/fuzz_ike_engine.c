// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the IKE engine (vpnd/ike/ike.c with message.c, sk.c,
 * keys.c, proposal.c and the crypto wrappers), driven through ike_input()
 * and ike_tick() in every state, past decryption.
 *
 * Per input, two engines A and B talk in one process (a datagram queue, a
 * virtual clock, deterministic randomness) until the state chosen by the
 * first byte; then the rest of the input is a list of records, each a
 * hostile datagram into A or B, an honest datagram delivered, dropped or
 * spliced, a timer step or an operator action. Afterwards both engines are
 * freed (ASan checks for leaks).
 *
 * Input layout:
 *
 *   byte 0 (setup):
 *     bits 0-2  state: 0 A's IKE_SA_INIT outstanding (A has no keys);
 *               1 B half-open (B's IKE_SA_INIT response queued to A);
 *               2 IKE_AUTH pending (A's IKE_AUTH request queued to B);
 *               3 established; 4 A's Child SA rekey outstanding;
 *               5 A's IKE SA rekey outstanding; 6 A's old IKE SA
 *               deleting after an IKE rekey (DELETE queued to B);
 *               7 B's liveness check outstanding
 *     bit 3     known-key mode (see datagram records below)
 *     bit 4     B asks for cookies always
 *     bits 5-6  algorithms: 0 AES-GCM/x25519, 1 AES-CBC+SHA-256/ecp256
 *               with PFS, 2 ChaCha20-Poly1305/x25519 with ESN,
 *               3 3DES+SHA-1/x25519 against a second offer
 *     bit 7     IPv6 underlay (else IPv4)
 *
 *   then records: a control byte c, then what it takes:
 *     bit 0     target engine (0 A, 1 B); hostile datagrams come from the
 *               target's peer address
 *     bit 1     port (0: 500, 1: 4500)
 *     bits 2-3  clock step before the record, then both engines tick:
 *               0 none, 1 +500 ms, 2 +5 s, 3 +60 s
 *     bits 4-6  operation:
 *       0-3  datagram (3: from another address than the peer's, a
 *            stranger or the peer behind a new NAT mapping): 2 length
 *            bytes (big-endian, clipped), then
 *            the bytes. Raw mode: the datagram as is. Known-key mode:
 *            exchange (0: the one expected), flags, message ID delta
 *            (signed, to the ID the target SA expects), first inner
 *            payload type, then the inner payload chain, sealed with
 *            the keys the target SA opens with (the peer's), for that
 *            SA's SPIs. An SA without keys gets the chain in the clear.
 *       4    raw mode: a datagram as in 0-3 with the SPIs of a target SA
 *            and the length field written in. Known-key mode: splice:
 *            the first queued honest datagram for the target is
 *            opened, its plaintext edited and sealed again; 2 length
 *            bytes, then mode (bit 0: set the first payload type to
 *            32 + mode >> 1), 2 offset bytes, a delete count, the bytes
 *            to insert. Unencrypted datagrams are edited as they are.
 *       5    deliver: a byte n, deliver up to (n & 7) + 1 honest
 *            datagrams
 *       6    drop the first queued datagram
 *       7    operator: a byte: 0 rekey a Child SA, 1 rekey the IKE SA,
 *            2 liveness check, 3 connection down silently, 4 down with
 *            DELETE, 5 initiate, 6 volume lifetime of the SA's Child SA
 *            reached, 7 connection forgotten
 *     bit 7     which of the target's IKE SAs (0: first, 1: second)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "ike/ike.h"
#include "util/bytes.h"

#include "fuzz_ike_peek.h"
#include "harness.h"

#define QLEN 32	   /* datagrams in flight; more are lost */
#define SETTLE_MAX 64 /* honest datagrams to reach a state */
#define FINAL_DELIVER 8

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			abort();                                               \
	} while (0)

static bool debug;

/* ------------------------------------------------------------------ */
/* Host: the IKE test harness (tests/unit/ike/harness.c), with these   */
/* ------------------------------------------------------------------ */

static void child_up(struct peer *p, struct ike_sa *sa,
		     const struct ike_child_info *info)
{
	CHECK(info->encr_keylen <= sizeof(info->encr_key_in));
	CHECK(info->integ_keylen <= sizeof(info->integ_key_in));
	CHECK(info->n_local_ts <= IKE_MAX_TS && info->n_remote_ts <= IKE_MAX_TS);
	CHECK(info->spi_in != 0);
}

static void sa_event(struct peer *p, struct ike_sa *sa, const char *reason)
{
	if (reason)
		CHECK(strlen(reason) < 1024);
}

static void log_line(struct peer *p, int level, const char *msg)
{
	CHECK(strlen(msg) < 1024);
	if (debug)
		fprintf(stderr, "%s: %s\n", p->name, msg);
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

struct algs {
	const char *ike, *ike2, *esp;
};

static const struct algs alg_sets[4] = {
	{ "aes256gcm16-prfsha256-x25519", NULL, "aes256gcm16" },
	{ "aes128-sha256-ecp256", NULL, "aes128-sha256-x25519" },
	{ "chacha20poly1305-prfsha512-x25519", NULL, "chacha20poly1305-esn" },
	{ "3des-sha1-x25519", "aes256gcm16-prfsha384-ecp384",
	  "aes256-sha512-noesn" },
};

/* Selectors beyond the harness's any-to-any IPv4: 10.1/16 and IPv6. */
static void more_ts(struct ike_conn *c)
{
	uint8_t any[16] = { 0 }, net[4] = { 10, 1, 0, 0 };

	ike_ts_from_prefix(&c->local_ts[1], AF_INET, net, 16);
	ike_ts_from_prefix(&c->local_ts[2], AF_INET6, any, 0);
	ike_ts_from_prefix(&c->remote_ts[1], AF_INET6, any, 0);
	c->n_local_ts = 3;
	c->n_remote_ts = 2;
}

static struct ike_sa *nth(struct peer *p, unsigned int i)
{
	return fuzz_ike_nth_sa(p->eng, i);
}

static bool state_is(struct peer *p, enum ike_sa_state st)
{
	struct ike_sa *sa = nth(p, 0);
	struct ike_sa_status s;

	if (!sa)
		return false;
	ike_sa_get_status(sa, &s);
	return s.state == st;
}

static void setup(uint8_t sel)
{
	const struct algs *a = &alg_sets[(sel >> 5) & 3];
	bool v6 = sel & 0x80;
	struct h_config cfg = {
		/* B also accepts a second IKE proposal (below) */
		.conn = { .name = "fuzz",
			  .ike = (const char *const[]){ a->ike, NULL },
			  .esp = (const char *const[]){ a->esp, NULL },
			  .ids_from_addr = true },
		.addr_a = v6 ? "2001:db8::1" : "192.0.2.1",
		.addr_b = v6 ? "2001:db8::2" : "192.0.2.2",
		.find = H_FIND_BY_ADDR,
		.qlimit = QLEN,
		.qfull_lost = true,
		.hooks = { .child_up = child_up,
			   .sa_event = sa_event,
			   .log = log_line },
	};
	struct ike_sa *sa;
	unsigned int n;

	h_setup(&cfg); /* fails with abort() */
	if (a->ike2)
		h_props(B.conn.ike_props, &B.conn.n_ike_props,
			VPN_PROPOSAL_IKE,
			(const char *const[]){ a->ike, a->ike2, NULL });
	more_ts(&A.conn);
	more_ts(&B.conn);
	if (sel & 0x10)
		ike_engine_set_cookie_threshold(B.eng, 0);

	CHECK(ike_initiate(A.eng, &A.conn));
	if ((sel & 7) == 0)
		return;
	/* until B holds a half-open SA (a COOKIE round trip first, maybe) */
	for (n = 0; n < 4 && !h_queue_empty() && !state_is(&B, IKE_SA_RESPONDED);
	     n++)
		h_deliver(1);
	if ((sel & 7) == 1)
		return;
	h_deliver(1); /* B's response: A sends IKE_AUTH */
	if ((sel & 7) == 2)
		return;
	h_deliver(SETTLE_MAX);
	sa = nth(&A, 0);
	switch (sel & 7) {
	case 4:
		if (sa && ike_sa_rekey_child(sa) == 0)
			ike_tick(A.eng);
		break;
	case 5:
	case 6:
		if (sa && ike_sa_rekey_ike(sa) == 0)
			ike_tick(A.eng);
		if ((sel & 7) == 6) {
			h_deliver(SETTLE_MAX);
			ike_tick(A.eng); /* the old SA sends its DELETE */
		}
		break;
	case 7:
		ike_conn_probe(B.eng, &B.conn);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

struct in {
	const uint8_t *p;
	size_t n;
};

static bool take(struct in *in, size_t n, const uint8_t **out)
{
	if (in->n < n)
		return false;
	*out = in->p;
	in->p += n;
	in->n -= n;
	return true;
}

static int byte(struct in *in)
{
	const uint8_t *b;

	return take(in, 1, &b) ? *b : -1;
}

/* A length-prefixed chunk (clipped to what is left). */
static const uint8_t *chunk(struct in *in, size_t *len)
{
	const uint8_t *b;
	size_t n;

	if (!take(in, 2, &b))
		return NULL;
	n = (size_t)b[0] << 8 | b[1];
	if (n > in->n)
		n = in->n;
	*len = n;
	take(in, n, &b);
	return b;
}

/* Hostile datagrams come from the target's peer, or (op 3) from another
 * address: a third party, or the peer behind a new NAT mapping. */
static bool from_stranger;

/* ike_input() on a heap copy of exactly len bytes (ASan sees overreads). */
static void inject(struct peer *p, uint16_t port, const uint8_t *buf,
		   size_t len)
{
	struct ike_addr from = p->conn.remote, to = p->conn.local;

	if (from_stranger)
		from.addr[ike_addr_len(&from) - 1] ^= 0x80;
	from.port = to.port = port;
	h_input(p, &to, &from, buf, len);
}

static uint8_t out[2 * IKE_MSG_MAX];

/* An unencrypted message: header, then the chain as it is. */
static size_t plain_msg(struct ike_sa *sa, uint8_t exch, uint8_t flags,
			uint32_t msgid, uint8_t first, const uint8_t *chain,
			size_t len)
{
	if (len > sizeof(out) - IKE_HDR_LEN)
		len = sizeof(out) - IKE_HDR_LEN;
	memset(out, 0, IKE_HDR_LEN);
	if (sa) {
		struct ike_sa_status st;

		ike_sa_get_status(sa, &st);
		vpn_put_be64(out, st.spi_i);
		vpn_put_be64(out + 8, st.spi_r);
	}
	out[16] = first;
	out[17] = IKE_VERSION;
	out[18] = exch;
	out[19] = flags;
	vpn_put_be32(out + 20, msgid);
	vpn_put_be32(out + 24, (uint32_t)(IKE_HDR_LEN + len));
	memcpy(out + IKE_HDR_LEN, chain, len);
	return IKE_HDR_LEN + len;
}

/* Known-key mode: header fields and an inner chain, sealed for the SA. */
static void sealed(struct peer *p, uint16_t port, struct ike_sa *sa,
		   const uint8_t *b, size_t len)
{
	struct ike_header h;
	uint8_t exch, flags, first;
	bool response;
	int n;

	if (len < 4)
		return;
	exch = b[0];
	flags = b[1];
	first = b[3];
	response = flags & IKE_FLAG_RESPONSE;
	memset(&h, 0, sizeof(h));
	if (!sa || !fuzz_ike_sa_has_keys(sa)) {
		n = (int)plain_msg(sa, exch ? exch : IKE_SA_INIT, flags,
				   (uint32_t)(int8_t)b[2], first, b + 4,
				   len - 4);
		inject(p, port, out, (size_t)n);
		return;
	}
	if (exch == 0)
		exch = response ? fuzz_ike_sa_req_exchange(sa) : INFORMATIONAL;
	h.exchange = exch;
	h.flags = flags;
	h.msgid = fuzz_ike_sa_msgid(sa, response) + (uint32_t)(int8_t)b[2];
	n = fuzz_ike_seal_in(sa, &h, first, b + 4, len - 4, out, sizeof(out));
	if (n > 0)
		inject(p, port, out, (size_t)n);
}

/* Raw mode with the SA's SPIs and the true length written in. */
static void stamped(struct peer *p, uint16_t port, struct ike_sa *sa,
		    const uint8_t *b, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	CHECK(copy);
	memcpy(copy, b, len);
	if (sa && len >= 16) {
		struct ike_sa_status st;

		ike_sa_get_status(sa, &st);
		vpn_put_be64(copy, st.spi_i);
		vpn_put_be64(copy + 8, st.spi_r);
	}
	if (len >= IKE_HDR_LEN)
		vpn_put_be32(copy + 24, (uint32_t)len);
	inject(p, port, copy, len);
	free(copy);
}

/* dst = src[0..off) | ins | src[off + del..); returns its length. */
static size_t edit(uint8_t *dst, size_t cap, const uint8_t *src,
		   size_t srclen, size_t off, size_t del, const uint8_t *ins,
		   size_t inslen)
{
	size_t n = 0;

	if (off > srclen)
		off = srclen;
	if (del > srclen - off)
		del = srclen - off;
	if (off + inslen + (srclen - off - del) > cap)
		return 0;
	memcpy(dst, src, off);
	n = off;
	memcpy(dst + n, ins, inslen);
	n += inslen;
	memcpy(dst + n, src + off + del, srclen - off - del);
	return n + srclen - off - del;
}

/* Known-key mode: open the target's first queued honest datagram, edit
 * its plaintext, seal it again and deliver it. */
static void splice(struct peer *p, const uint8_t *b, size_t len)
{
	static uint8_t inner[IKE_MSG_MAX];
	static struct dgram d;
	struct ike_header h;
	struct ike_sa *sa;
	uint8_t *raw, *pt, first;
	const uint8_t *msg;
	size_t ptlen, n, off, del, msglen;
	unsigned int i;
	int m;

	if (len < 4)
		return;
	for (i = 0; i < h_queue_len() && h_queue_at(i)->to != p; i++)
		;
	if (!h_take(i, &d))
		return;
	/* opened on a heap copy of exactly the datagram (ASan) */
	raw = malloc(d.len);
	CHECK(raw);
	memcpy(raw, d.buf, d.len);
	msg = raw; /* as it is, unless edited below */
	msglen = d.len;
	off = (size_t)b[1] << 8 | b[2];
	del = b[3];
	if (ike_parse_header(raw, d.len, &h) == IKE_PARSE_OK &&
	    (sa = fuzz_ike_find(p->eng, &h)) &&
	    fuzz_ike_open_in(sa, raw, d.len, &h, &pt, &ptlen, &first) == 0) {
		if (debug) {
			fprintf(stderr, "splice: plaintext (first %u):", first);
			for (size_t k = 0; k < ptlen; k++)
				fprintf(stderr, "%s%02x", k % 32 ? "" : "\n  ",
					pt[k]);
			fprintf(stderr, "\n");
		}
		n = edit(inner, sizeof(inner), pt, ptlen, off, del, b + 4,
			 len - 4);
		if (b[0] & 1)
			first = 32 + (b[0] >> 1);
		m = fuzz_ike_seal_in(sa, &h, first, inner, n, out,
				     sizeof(out));
		if (m > 0) {
			msg = out;
			msglen = (size_t)m;
		}
	} else if (d.len >= IKE_HDR_LEN) {
		/* in the clear (IKE_SA_INIT): edit after the header */
		n = edit(out + IKE_HDR_LEN, sizeof(out) - IKE_HDR_LEN,
			 raw + IKE_HDR_LEN, d.len - IKE_HDR_LEN, off, del,
			 b + 4, len - 4);
		memcpy(out, raw, IKE_HDR_LEN);
		if (b[0] & 1)
			out[16] = 32 + (b[0] >> 1);
		vpn_put_be32(out + 24, (uint32_t)(IKE_HDR_LEN + n));
		msg = out;
		msglen = IKE_HDR_LEN + n;
	}
	h_input(d.to, &d.dst, &d.src, msg, msglen);
	free(raw);
}

static void operator(struct peer *p, struct ike_sa *sa, int op)
{
	switch (op % 8) {
	case 0:
		if (sa)
			ike_sa_rekey_child(sa);
		break;
	case 1:
		if (sa)
			ike_sa_rekey_ike(sa);
		break;
	case 2:
		ike_conn_probe(p->eng, &p->conn);
		break;
	case 3:
		ike_conn_down(p->eng, &p->conn, true);
		break;
	case 4:
		ike_conn_down(p->eng, &p->conn, false);
		break;
	case 5:
		ike_initiate(p->eng, &p->conn);
		break;
	case 6: /* the host counted the Child SA's volume lifetime */
		if (sa) {
			struct ike_sa_status st;

			ike_sa_get_status(sa, &st);
			ike_rekey_child_spi(p->eng, st.child_spi_in);
		}
		break;
	case 7:
		ike_conn_forget(p->eng, &p->conn);
		break;
	}
}

static void record(struct in *in, bool known_key)
{
	static const uint64_t steps[4] = { 0, 500, 5000, 60000 };
	int c = byte(in), v;
	struct peer *p;
	uint16_t port;
	struct ike_sa *sa;
	const uint8_t *b;
	size_t len;

	if (c < 0)
		return;
	p = c & 1 ? &B : &A;
	port = c & 2 ? IKE_NATT_PORT : IKE_PORT;
	if (c & 0x0c) {
		clock_ms += steps[(c >> 2) & 3];
		ike_tick(A.eng);
		ike_tick(B.eng);
	}
	sa = nth(p, c >> 7);
	from_stranger = ((c >> 4) & 7) == 3;
	switch ((c >> 4) & 7) {
	case 0:
	case 1:
	case 2:
	case 3:
		b = chunk(in, &len);
		if (!b)
			return;
		if (known_key)
			sealed(p, port, sa, b, len);
		else
			inject(p, port, b, len);
		break;
	case 4:
		b = chunk(in, &len);
		if (!b)
			return;
		if (known_key)
			splice(p, b, len);
		else
			stamped(p, port, sa, b, len);
		break;
	case 5:
		v = byte(in);
		h_deliver(v < 0 ? 1 : (unsigned int)(v & 7) + 1);
		break;
	case 6:
		h_drop();
		break;
	case 7:
		v = byte(in);
		if (v >= 0)
			operator(p, sa, v);
		break;
	}
}

static void dump_state(const char *when)
{
	struct peer *ps[2] = { &A, &B };

	if (!debug)
		return;
	for (int i = 0; i < 2; i++)
		for (unsigned int j = 0; j < 4; j++) {
			struct ike_sa *sa = nth(ps[i], j);
			struct ike_sa_status st;

			if (!sa || (j && sa == nth(ps[i], 0)))
				break;
			ike_sa_get_status(sa, &st);
			fprintf(stderr, "%s: %s SA %u: %s spi %016llx/%016llx\n",
				when, i ? "B" : "A", j,
				ike_sa_state_str(st.state),
				(unsigned long long)st.spi_i,
				(unsigned long long)st.spi_r);
		}
	fprintf(stderr, "%s: %u queued\n", when, h_queue_len());
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	debug = getenv("FUZZ_IKE_DEBUG") != NULL;
	if (h_rng_install(H_RNG_DETERMINISTIC) != 0 || vpn_crypto_init() < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	int sel = byte(&in);

	if (sel < 0)
		return 0;
	setup((uint8_t)sel);
	dump_state("setup");
	while (in.n)
		record(&in, sel & 8);
	/* what the hostile input left behind meets the honest peer */
	h_deliver(FINAL_DELIVER);
	dump_state("end");
	h_teardown();
	return 0;
}
