// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vpnd: the IKEv2 engine (RFC 7296).
 *
 * One request outstanding per IKE SA in each direction (window size 1).
 * Every received message is checked in this order: header and SPIs, message
 * ID, integrity (SK), then content. Nothing about an SA changes before its
 * message authenticated, except the half-open state the RFC allows for
 * IKE_SA_INIT.
 *
 * Each exchange has a request handler (we respond) and a response handler
 * (we initiated), made of small named steps. An error notify answering an
 * encrypted request goes through respond_error()/respond_notify(); every
 * encrypted answer goes through send_response(), which keeps it for
 * retransmitted requests. Timers are driven by ike_tick() (sa_tick_*).
 */
#include "ike.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "crypto/crypto.h"
#include "ike/dos.h"
#include "ike/tq.h"
#include "util/bytes.h"

#define IKE_MAX_CHILDREN 4

/* A rekey that could not start, or whose exchange failed (the peer refused
 * it, e.g. TEMPORARY_FAILURE when it collided with another rekey, RFC 7296
 * 2.25), is retried after 10 s; the SA keeps working until its hard
 * expiry. */
#define IKE_REKEY_RETRY_MS 10000

/* An IKE SA rekey refused with TEMPORARY_FAILURE is retried sooner. RFC
 * 7296 2.25.2: a Child SA rekey and an IKE SA rekey that cross are both
 * refused that way; with one delay for both they would be retried in the
 * same instant and collide again, for ever. The IKE SA goes first; the
 * Child SA, moved to the new IKE SA, follows at IKE_REKEY_RETRY_MS. */
#define IKE_REKEY_COLLISION_RETRY_MS 5000

/* An IKE_SA_INIT attempt follows at most this many INVALID_KE_PAYLOAD
 * answers (they are unauthenticated: two groups back and forth would
 * otherwise go on for ever), and at most one COOKIE. */
#define IKE_MAX_KE_RETRIES 2

/* After an IKE_SA_INIT response that refuses or cannot be used, the
 * initiator waits this long for one that works before it gives up with
 * the refusal as the reason: such a response is unauthenticated, and one
 * forged by anyone who saw our request must not end the attempt. */
#define IKE_INIT_REFUSAL_WAIT_MS 2000

enum ike_req_kind {
	REQ_NONE,
	REQ_INIT,
	REQ_AUTH,
	REQ_DPD,
	REQ_DELETE_IKE,
	REQ_DELETE_CHILD,
	REQ_REKEY_CHILD,
	REQ_REKEY_IKE,
};

struct ike_child {
	bool used;
	uint32_t spi_in, spi_out;
	uint16_t encr, keybits, integ;
	bool esn;
	uint64_t created_ms;
	uint64_t rekey_ms;  /* when we start a rekey (0: never) */
	uint64_t expire_ms; /* hard expiry */
	bool rekeyed;	    /* replaced; waiting for its DELETE */
	uint8_t closing;    /* we delete it: 1 DELETE queued, 2 sent */
};

/* State of a CREATE_CHILD_SA exchange we started. */
struct ike_rekey {
	uint32_t old_spi_in; /* child being rekeyed (child rekey) */
	uint32_t new_spi_in;
	uint64_t new_spi_ike; /* our new IKE SPI (IKE rekey) */
	uint8_t ni[IKE_NONCE_LEN];
	struct vpn_dh *dh;
	struct vpn_proposal props[IKE_CONN_MAX_PROPOSALS];
	unsigned int nprops;
};

struct ike_sa {
	struct ike_engine *eng;
	struct ike_conn *conn;
	struct ike_sa *next;
	/* in eng->by_spi under our own SPI (SPIi or SPIr, by role); while
	 * half-open also in eng->by_peer_spi under the peer's SPIi */
	struct ike_hnode h_spi, h_peer, h_conn;
	bool in_by_spi, in_by_peer;
	/* the class this SA is counted in for dos_ip (IKE_DOS_NCLASS: none) */
	enum ike_dos_class dos_cls;
	struct ike_addr dos_ip;
	/* in eng->tq at the SA's next deadline (sa_deadline) */
	struct ike_tq_node tq;

	enum ike_sa_state state;
	bool initiator; /* original initiator of this IKE SA */
	uint64_t spi_i, spi_r;
	struct ike_addr local, remote;

	/* negotiated IKE transforms */
	uint16_t encr, keybits, integ, prf, dh;
	struct vpn_dh *dh_ctx;
	uint16_t ke_group; /* group of the KE we send */
	uint8_t ni[IKE_NONCE_LEN * 8], nr[IKE_NONCE_LEN * 8];
	size_t nilen, nrlen;
	uint8_t *init_req, *init_resp; /* RealMessage1/2, for AUTH */
	size_t init_req_len, init_resp_len;
	uint8_t cookie[64];
	size_t cookielen;
	/* INVALID_KE_PAYLOAD answers followed in this attempt (bounded) */
	unsigned int ke_retries;
	/* why the last IKE_SA_INIT response could not be used (it is
	 * unauthenticated: the attempt goes on a while, see init_unusable) */
	const char *init_refusal;
	struct ike_sa_keys keys;
	struct ike_sk_dir sk_in, sk_out;

	/* our requests */
	uint32_t msgid_out;
	enum ike_req_kind req_kind;
	uint8_t *req; /* as sent, for retransmission (malloc, reqlen) */
	size_t reqlen;
	unsigned int req_tries;
	uint64_t req_next_ms, req_giveup_ms;
	struct ike_rekey rk;
	/* work waiting for the window */
	uint32_t pending_delete_spi;
	bool pending_rekey_child, pending_rekey_ike, pending_delete_ike;

	/* the peer's requests */
	uint32_t msgid_in;
	uint8_t *resp; /* the last response (malloc, resplen) */
	size_t resplen;
	bool have_resp;
	/* digest of the whole datagram that resp answers: only that very
	 * datagram gets resp again (a retransmission) */
	uint8_t resp_req_digest[VPN_SHA1_LEN];

	/* child SA proposals sent in IKE_AUTH */
	uint32_t auth_spi_in;

	/* Simultaneous rekeys (2.8.1, 2.8.2): what the peer's colliding
	 * exchange created, and the lowest nonce of that exchange. */
	struct {
		bool active;
		uint32_t child_spi_in;	/* child rekey */
		struct ike_sa *ike_sa;	/* IKE rekey */
		uint8_t nmin[IKE_NONCE_LEN * 8];
		size_t nminlen;
	} coll;
	bool superseded; /* rekeyed: waits for its DELETE, starts nothing */

	struct ike_child child[IKE_MAX_CHILDREN];

	uint64_t created_ms, established_ms;
	uint64_t rekey_ms, expire_ms, last_rx_ms, keepalive_ms;
	const char *reason;
};

struct ike_engine {
	struct ike_ops ops;
	void *host;
	struct ike_sa *sas;
	unsigned int nsas, ndead;
	struct ike_htab by_spi, by_peer_spi;
	struct ike_htab by_conn; /* every SA, by its connection */
	struct ike_tq tq; /* every live SA, by its next deadline */
	struct ike_dos dos;
	struct ike_stats stats;
	unsigned int retx_base_ms, retx_tries;
	/* where messages are built before an SA keeps them at their size
	 * (an SA holds no IKE_MSG_MAX buffers: memory per tunnel) */
	uint8_t msgbuf[IKE_MSG_MAX];
};

static void sa_touched(struct ike_sa *sa);

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static uint64_t now(struct ike_engine *eng)
{
	return eng->ops.now_ms(eng->host);
}

static void velog(struct ike_engine *eng, int level, const char *fmt,
		  va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	eng->ops.log(eng->host, level, buf);
}

static void elog(struct ike_engine *eng, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void elog(struct ike_engine *eng, int level, const char *fmt, ...)
{
	va_list ap;

	if (!eng->ops.log)
		return;
	va_start(ap, fmt);
	velog(eng, level, fmt, ap);
	va_end(ap);
}

/* A log line caused by unauthenticated input: at most IKE_DOS_LOG_PER_S
 * a second, so a flood cannot flood the log; how many were held back is
 * said with the next one written. */
static void ulog(struct ike_engine *eng, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ulog(struct ike_engine *eng, int level, const char *fmt, ...)
{
	uint64_t held;
	va_list ap;

	if (!eng->ops.log)
		return;
	if (!ike_dos_log_ok(&eng->dos, eng->ops.now_ms(eng->host), &held)) {
		eng->stats.log_suppressed++;
		return;
	}
	if (held)
		elog(eng, LOG_NOTICE,
		     "%" PRIu64
		     " log lines about unauthenticated IKE messages suppressed",
		     held);
	va_start(ap, fmt);
	velog(eng, level, fmt, ap);
	va_end(ap);
}

#define SALOG(sa, level, fmt, ...)                                             \
	elog((sa)->eng, level, "connection %s: " fmt,                          \
	     (sa)->conn ? (sa)->conn->name : "?", ##__VA_ARGS__)
/* SALOG for what unauthenticated input caused (rate-limited). */
#define SAULOG(sa, level, fmt, ...)                                            \
	ulog((sa)->eng, level, "connection %s: " fmt,                          \
	     (sa)->conn ? (sa)->conn->name : "?", ##__VA_ARGS__)

static const char *addr_str(const struct ike_addr *a, char *buf, size_t len)
{
	inet_ntop(a->family, a->addr, buf, len);
	return buf;
}

const char *ike_sa_state_str(enum ike_sa_state st)
{
	switch (st) {
	case IKE_SA_INIT_SENT:
		return "connecting";
	case IKE_SA_AUTH_SENT:
		return "authenticating";
	case IKE_SA_RESPONDED:
		return "half-open";
	case IKE_SA_ESTABLISHED:
		return "established";
	case IKE_SA_DELETING:
		return "deleting";
	case IKE_SA_DEAD:
		return "down";
	}
	return "unknown";
}

/* ------------------------------------------------------------------ */
/* Proposals                                                           */
/* ------------------------------------------------------------------ */

/* Our configured proposal as an SA payload proposal. */
static void prop_to_wire(const struct vpn_proposal *p, uint8_t num,
			 uint8_t protocol, const uint8_t *spi, uint8_t spisize,
			 bool strip_dh, struct ike_proposal *out)
{
	bool has_esn = false;

	memset(out, 0, sizeof(*out));
	out->num = num;
	out->protocol = protocol;
	out->spi_size = spisize;
	if (spisize)
		memcpy(out->spi, spi, spisize);
	for (unsigned int i = 0; i < p->ntransforms; i++) {
		const struct vpn_transform *t = &p->transforms[i];

		if (strip_dh && t->type == VPN_TT_DH)
			continue;
		if (t->type == VPN_TT_ESN)
			has_esn = true;
		if (out->ntransforms >= IKE_MAX_TRANSFORMS)
			break;
		out->transforms[out->ntransforms].type = t->type;
		out->transforms[out->ntransforms].id = t->id;
		out->transforms[out->ntransforms].keylen = t->keylen;
		out->ntransforms++;
	}
	/* ESN is mandatory in ESP proposals. */
	if (protocol == IKE_PROTO_ESP && !has_esn &&
	    out->ntransforms < IKE_MAX_TRANSFORMS) {
		out->transforms[out->ntransforms].type = VPN_TT_ESN;
		out->transforms[out->ntransforms].id = VPN_ESN_NO;
		out->ntransforms++;
	}
}

struct ike_choice {
	uint16_t encr, keybits, integ, prf, dh;
	bool has_dh;
	uint16_t esn;
};

static bool our_has(const struct ike_proposal *ours, uint8_t type, uint16_t id,
		    uint16_t keylen)
{
	for (unsigned int i = 0; i < ours->ntransforms; i++)
		if (ours->transforms[i].type == type &&
		    ours->transforms[i].id == id &&
		    ours->transforms[i].keylen == keylen)
			return true;
	return false;
}

static bool has_type(const struct ike_proposal *p, uint8_t type)
{
	for (unsigned int i = 0; i < p->ntransforms; i++)
		if (p->transforms[i].type == type)
			return true;
	return false;
}

/*
 * Match one of the peer's proposals against one of ours: for each type in
 * the peer's proposal pick its first transform we also have; every type
 * must be covered on both sides (a DH group in only one of them is a
 * mismatch: PFS asked for but not configured). `want_dh` prefers a group
 * (the one in the peer's KE payload).
 */
static bool prop_match(const struct ike_proposal *peer,
		       const struct ike_proposal *ours, uint16_t want_dh,
		       struct ike_choice *c)
{
	static const uint8_t types[] = { VPN_TT_ENCR, VPN_TT_PRF,
					 VPN_TT_INTEG, VPN_TT_DH,
					 VPN_TT_ESN };

	memset(c, 0, sizeof(*c));
	/* RFC 7296 3.3.6: a proposal with a transform attribute we do not
	 * know is rejected as a whole. */
	for (unsigned int i = 0; i < peer->ntransforms; i++)
		if (peer->transforms[i].unknown_attr)
			return false;
	for (size_t k = 0; k < sizeof(types); k++) {
		uint8_t type = types[k];
		bool found = false;

		if (has_type(peer, type) != has_type(ours, type)) {
			/* ESN absent on one side means "no ESN" */
			if (type == VPN_TT_ESN &&
			    (has_type(ours, type) ? our_has(ours, type, 0, 0)
						  : our_has(peer, type, 0, 0)))
				continue;
			return false;
		}
		if (!has_type(peer, type))
			continue;
		if (type == VPN_TT_DH && want_dh &&
		    our_has(peer, type, want_dh, 0) &&
		    our_has(ours, type, want_dh, 0)) {
			c->dh = want_dh;
			c->has_dh = true;
			continue;
		}
		for (unsigned int i = 0; i < peer->ntransforms && !found; i++) {
			const struct ike_transform *t = &peer->transforms[i];

			if (t->type != type ||
			    !our_has(ours, type, t->id, t->keylen))
				continue;
			found = true;
			switch (type) {
			case VPN_TT_ENCR:
				c->encr = t->id;
				c->keybits = t->keylen;
				break;
			case VPN_TT_PRF:
				c->prf = t->id;
				break;
			case VPN_TT_INTEG:
				c->integ = t->id;
				break;
			case VPN_TT_DH:
				c->dh = t->id;
				c->has_dh = true;
				break;
			case VPN_TT_ESN:
				c->esn = t->id;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

/* Choose from the peer's SA payload; returns the peer proposal or NULL. */
static const struct ike_proposal *
prop_select(const struct ike_sa_payload *peer, const struct vpn_proposal *ours,
	    unsigned int nours, uint8_t protocol, bool strip_dh,
	    uint16_t want_dh, struct ike_choice *c)
{
	for (unsigned int i = 0; i < peer->nproposals; i++) {
		const struct ike_proposal *pp = &peer->proposals[i];
		struct ike_proposal stripped;

		if (pp->protocol != protocol)
			continue;
		if (strip_dh) {
			stripped = *pp;
			stripped.ntransforms = 0;
			for (unsigned int t = 0; t < pp->ntransforms; t++)
				if (pp->transforms[t].type != VPN_TT_DH)
					stripped.transforms
						[stripped.ntransforms++] =
						pp->transforms[t];
			pp = &stripped;
		}
		for (unsigned int j = 0; j < nours; j++) {
			struct ike_proposal ow;

			prop_to_wire(&ours[j], 1, protocol, NULL, 0, strip_dh,
				     &ow);
			if (prop_match(pp, &ow, want_dh, c))
				return &peer->proposals[i];
		}
	}
	return NULL;
}

/* A responder's SA proposal: exactly one transform of each chosen type
 * (RFC 7296 3.3), under the peer's proposal number, with our SPI. */
static void choice_to_wire(const struct ike_choice *c,
			   const struct ike_proposal *peer, const uint8_t *spi,
			   uint8_t spisize, struct ike_proposal *out)
{
	memset(out, 0, sizeof(*out));
	out->num = peer->num;
	out->protocol = peer->protocol;
	out->spi_size = spisize;
	if (spisize)
		memcpy(out->spi, spi, spisize);
#define ADD(t, i, k)                                                           \
	out->transforms[out->ntransforms++] =                                  \
		(struct ike_transform){ .type = t, .id = i, .keylen = k }
	ADD(VPN_TT_ENCR, c->encr, c->keybits);
	if (peer->protocol == IKE_PROTO_IKE)
		ADD(VPN_TT_PRF, c->prf, 0);
	if (c->integ)
		ADD(VPN_TT_INTEG, c->integ, 0);
	if (c->has_dh)
		ADD(VPN_TT_DH, c->dh, 0);
	if (peer->protocol == IKE_PROTO_ESP)
		ADD(VPN_TT_ESN, c->esn, 0);
#undef ADD
}

/* Our SA payload answering the peer's `chosen` proposal with `c`. */
static void add_chosen_sa(struct ike_buf *b, const struct ike_choice *c,
			  const struct ike_proposal *chosen, const uint8_t *spi,
			  uint8_t spisize)
{
	struct ike_proposal out;

	choice_to_wire(c, chosen, spi, spisize, &out);
	ike_add_sa(b, &out, 1);
}

/* "aes256-sha256-modp2048, ..." for failure logs. */
static void props_str_wire(const struct ike_sa_payload *sa, char *buf,
			   size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < sa->nproposals && off < len; i++) {
		struct vpn_proposal vp = { .ntransforms = 0 };
		char one[512];

		for (unsigned int t = 0;
		     t < sa->proposals[i].ntransforms &&
		     vp.ntransforms < VPN_PROPOSAL_MAX_TRANSFORMS;
		     t++) {
			vp.transforms[vp.ntransforms].type =
				sa->proposals[i].transforms[t].type;
			vp.transforms[vp.ntransforms].id =
				sa->proposals[i].transforms[t].id;
			vp.transforms[vp.ntransforms].keylen =
				sa->proposals[i].transforms[t].keylen;
			vp.ntransforms++;
		}
		vpn_proposal_format(&vp, one, sizeof(one));
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				one);
	}
}

static void props_str_ours(const struct vpn_proposal *p, unsigned int n,
			   char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n && off < len; i++) {
		char one[512];

		vpn_proposal_format(&p[i], one, sizeof(one));
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				one);
	}
}

/* "peer offered ...; we accept ..." for a no-proposal-chosen log line. */
static void props_mismatch_str(const struct ike_sa_payload *theirs,
			       const struct vpn_proposal *ours, unsigned int n,
			       char *buf, size_t len)
{
	char t[1024], o[1024];

	props_str_wire(theirs, t, sizeof(t));
	props_str_ours(ours, n, o, sizeof(o));
	snprintf(buf, len, "peer offered %s; we accept %s", t, o);
}

/* The first DH group of our first IKE proposal (what we send a KE for). */
static uint16_t first_dh(const struct vpn_proposal *p, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int t = 0; t < p[i].ntransforms; t++)
			if (p[i].transforms[t].type == VPN_TT_DH)
				return p[i].transforms[t].id;
	return 0;
}

static bool we_offer_dh(const struct vpn_proposal *p, unsigned int n,
			uint16_t group)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int t = 0; t < p[i].ntransforms; t++)
			if (p[i].transforms[t].type == VPN_TT_DH &&
			    p[i].transforms[t].id == group)
				return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Traffic selectors                                                   */
/* ------------------------------------------------------------------ */

static size_t ts_alen(const struct ike_ts *t)
{
	return t->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
}

void ike_ts_from_prefix(struct ike_ts *ts, uint8_t family, const uint8_t *addr,
			unsigned int plen)
{
	size_t alen = family == AF_INET ? 4 : 16;

	memset(ts, 0, sizeof(*ts));
	ts->type = family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE
				     : IKE_TS_IPV6_ADDR_RANGE;
	ts->proto = 0;
	ts->start_port = 0;
	ts->end_port = 65535;
	for (size_t i = 0; i < alen; i++) {
		unsigned int bits = plen > i * 8 ? plen - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		ts->start[i] = addr[i] & mask;
		ts->end[i] = addr[i] | (uint8_t)~mask;
	}
}

/* a ∩ b into out; false when empty. */
static bool ts_intersect(const struct ike_ts *a, const struct ike_ts *b,
			 struct ike_ts *out)
{
	size_t alen = ts_alen(a);

	if (a->type != b->type)
		return false;
	if (a->proto && b->proto && a->proto != b->proto)
		return false;
	*out = *a;
	out->proto = a->proto ? a->proto : b->proto;
	out->start_port =
		a->start_port > b->start_port ? a->start_port : b->start_port;
	out->end_port = a->end_port < b->end_port ? a->end_port : b->end_port;
	if (out->start_port > out->end_port)
		return false;
	memcpy(out->start,
	       memcmp(a->start, b->start, alen) > 0 ? a->start : b->start,
	       alen);
	memcpy(out->end, memcmp(a->end, b->end, alen) < 0 ? a->end : b->end,
	       alen);
	return memcmp(out->start, out->end, alen) <= 0;
}

static bool ts_within(const struct ike_ts *in, const struct ike_ts *outer)
{
	struct ike_ts x;

	return ts_intersect(in, outer, &x) && memcmp(&x, in, sizeof(x)) == 0;
}

/* Narrow the peer's selectors to ours (RFC 7296 2.9). */
static unsigned int ts_narrow(const struct ike_ts_payload *peer,
			      const struct ike_ts *ours, unsigned int nours,
			      struct ike_ts *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < peer->nts; i++)
		for (unsigned int j = 0; j < nours && n < IKE_MAX_TS; j++) {
			struct ike_ts x;
			bool dup = false;

			if (!ts_intersect(&peer->ts[i], &ours[j], &x))
				continue;
			for (unsigned int k = 0; k < n; k++)
				dup |= memcmp(&out[k], &x, sizeof(x)) == 0;
			if (!dup)
				out[n++] = x;
		}
	return n;
}

/* Every selector the responder chose lies within one we proposed. */
static bool ts_all_within(const struct ike_ts_payload *got,
			  const struct ike_ts *ours, unsigned int nours)
{
	if (got->nts == 0)
		return false;
	for (unsigned int i = 0; i < got->nts; i++) {
		bool ok = false;

		for (unsigned int j = 0; j < nours && !ok; j++)
			ok = ts_within(&got->ts[i], &ours[j]);
		if (!ok)
			return false;
	}
	return true;
}

/* Every address, protocol and port of its family. */
static bool ts_is_any(const struct ike_ts *t)
{
	static const uint8_t ones[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[16];
	size_t alen = ts_alen(t);

	return !t->proto && !t->start_port && t->end_port == 0xffff &&
	       !memcmp(t->start, zero, alen) && !memcmp(t->end, ones, alen);
}

/* The address range is one prefix: start and end agree on some leading
 * bits, start has only zeros after them and end only ones. */
static bool ts_is_prefix(const struct ike_ts *t)
{
	size_t alen = ts_alen(t), i = 0;

	while (i < alen && t->start[i] == t->end[i])
		i++;
	if (i == alen)
		return true;
	/* the first differing byte: start 0..0, end 1..1 below its top
	 * common bits */
	{
		uint8_t diff = t->start[i] ^ t->end[i];
		uint8_t low = (uint8_t)(0xff >> __builtin_clz((unsigned)diff << 24));

		if ((t->start[i] & low) || (t->end[i] & low) != low)
			return false;
	}
	for (i++; i < alen; i++)
		if (t->start[i] != 0 || t->end[i] != 0xff)
			return false;
	return true;
}

static bool ts_has_addr(const struct ike_ts *t, const struct ike_addr *a)
{
	size_t alen = ts_alen(t);

	if ((t->type == IKE_TS_IPV4_ADDR_RANGE) != (a->family == AF_INET))
		return false;
	return memcmp(a->addr, t->start, alen) >= 0 &&
	       memcmp(a->addr, t->end, alen) <= 0;
}

/* A remote selector we accept (see struct ike_conn's route_limit); logs
 * why not. */
static bool ts_remote_ok(const struct ike_sa *sa, const struct ike_ts *t)
{
	const struct ike_conn *conn = sa->conn;
	const char *why = NULL;
	char a[64], b[64];
	bool inside = false;

	if (ts_is_any(t))
		return true;
	for (unsigned int i = 0; i < conn->n_route_limit && !inside; i++)
		inside = ts_within(t, &conn->route_limit[i]);
	if (!inside)
		why = "outside the connection's traffic selectors and routes";
	else if (ts_has_addr(t, &sa->remote))
		why = "it covers the peer's own address";
	else if (t->type == IKE_TS_IPV6_ADDR_RANGE && !ts_is_prefix(t))
		why = "an IPv6 range that is not one prefix";
	if (!why)
		return true;
	inet_ntop(t->type == IKE_TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6,
		  t->start, a, sizeof(a));
	inet_ntop(t->type == IKE_TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6,
		  t->end, b, sizeof(b));
	SALOG(sa, LOG_WARNING,
	      "peer's traffic selector %s-%s refused: %s", a, b, why);
	return false;
}

/* Every remote selector of a Child SA acceptable. */
static bool ts_remote_all_ok(const struct ike_sa *sa, const struct ike_ts *t,
			     unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (!ts_remote_ok(sa, &t[i]))
			return false;
	return true;
}

/* The peer's TSi/TSr narrowed to our selectors (RFC 7296 2.9): TSr to our
 * local ones, TSi to our remote ones. False when either comes out empty,
 * or a remote one is not acceptable (ts_remote_ok). */
static bool ts_narrow_request(const struct ike_sa *sa,
			      const struct ike_msg *msg,
			      struct ike_ts_payload *local,
			      struct ike_ts_payload *remote)
{
	const struct ike_conn *conn = sa->conn;

	local->nts = msg->has_tsr ? ts_narrow(&msg->tsr, conn->local_ts,
					      conn->n_local_ts, local->ts)
				  : 0;
	remote->nts = msg->has_tsi ? ts_narrow(&msg->tsi, conn->remote_ts,
					       conn->n_remote_ts, remote->ts)
				   : 0;
	return local->nts && remote->nts &&
	       ts_remote_all_ok(sa, remote->ts, remote->nts);
}

/* The responder's selectors (initiator side): within ours, and the remote
 * ones acceptable. */
static bool ts_response_ok(const struct ike_sa *sa, const struct ike_msg *msg)
{
	const struct ike_conn *conn = sa->conn;

	return msg->has_tsi && msg->has_tsr &&
	       ts_all_within(&msg->tsi, conn->local_ts, conn->n_local_ts) &&
	       ts_all_within(&msg->tsr, conn->remote_ts, conn->n_remote_ts) &&
	       ts_remote_all_ok(sa, msg->tsr.ts, msg->tsr.nts);
}

/* Our answer's selectors: TSi the peer's side (our remote selectors),
 * TSr ours. */
static void add_ts_answer(struct ike_buf *b, const struct ike_ts_payload *local,
			  const struct ike_ts_payload *remote)
{
	ike_add_ts(b, IKE_PL_TSI, remote->ts, remote->nts);
	ike_add_ts(b, IKE_PL_TSR, local->ts, local->nts);
}

/* ------------------------------------------------------------------ */
/* Identities                                                          */
/* ------------------------------------------------------------------ */

void ike_id_from_addr(const struct ike_addr *a, uint8_t *type, uint8_t *data,
		      size_t *len)
{
	*type = a->family == AF_INET ? IKE_ID_IPV4_ADDR : IKE_ID_IPV6_ADDR;
	*len = ike_addr_len(a);
	memcpy(data, a->addr, *len);
}

int ike_id_parse(const char *s, uint8_t *type, uint8_t *data, size_t *len)
{
	size_t sl = strlen(s);

	if (sl == 0 || sl > 255)
		return -1;
	if (inet_pton(AF_INET, s, data) == 1) {
		*type = IKE_ID_IPV4_ADDR;
		*len = 4;
	} else if (inet_pton(AF_INET6, s, data) == 1) {
		*type = IKE_ID_IPV6_ADDR;
		*len = 16;
	} else if (strncmp(s, "keyid:", 6) == 0 && sl > 6) {
		*type = IKE_ID_KEY_ID;
		*len = sl - 6;
		memcpy(data, s + 6, *len);
	} else if (s[0] == '@' && sl > 1) {
		*type = IKE_ID_FQDN;
		*len = sl - 1;
		memcpy(data, s + 1, *len);
	} else if (strchr(s, '@')) {
		*type = IKE_ID_RFC822_ADDR;
		*len = sl;
		memcpy(data, s, sl);
	} else {
		*type = IKE_ID_FQDN;
		*len = sl;
		memcpy(data, s, sl);
	}
	return 0;
}

static void id_str(uint8_t type, const uint8_t *data, size_t len, char *buf,
		   size_t blen)
{
	if (type == IKE_ID_IPV4_ADDR && len == 4)
		inet_ntop(AF_INET, data, buf, blen);
	else if (type == IKE_ID_IPV6_ADDR && len == 16)
		inet_ntop(AF_INET6, data, buf, blen);
	else {
		size_t n = len < blen - 1 ? len : blen - 1;

		for (size_t i = 0; i < n; i++)
			buf[i] = (data[i] >= 0x20 && data[i] < 0x7f) ? data[i]
								     : '?';
		buf[n] = '\0';
	}
}

/* ------------------------------------------------------------------ */
/* SA lifecycle                                                        */
/* ------------------------------------------------------------------ */

struct ike_engine *ike_engine_new(const struct ike_ops *ops, void *host)
{
	struct ike_engine *eng = calloc(1, sizeof(*eng));

	if (!eng)
		return NULL;
	eng->ops = *ops;
	eng->host = host;
	eng->retx_base_ms = 1000;
	eng->retx_tries = 5;
	ike_tq_init(&eng->tq);
	if (ike_htab_init(&eng->by_spi) < 0 ||
	    ike_htab_init(&eng->by_peer_spi) < 0 ||
	    ike_htab_init(&eng->by_conn) < 0 ||
	    ike_dos_init(&eng->dos, now(eng)) < 0) {
		ike_htab_fini(&eng->by_spi);
		ike_htab_fini(&eng->by_peer_spi);
		ike_htab_fini(&eng->by_conn);
		free(eng);
		return NULL;
	}
	return eng;
}

void ike_dos_defaults(struct ike_dos_config *cfg)
{
	*cfg = (struct ike_dos_config){
		.cookie_threshold = IKE_DOS_COOKIE_THRESHOLD,
		.cookie_threshold_ip = IKE_DOS_COOKIE_THRESHOLD_IP,
		.block_threshold = IKE_DOS_BLOCK_THRESHOLD,
		.half_open_limit = IKE_DOS_HALF_OPEN_LIMIT,
		.peer_sa_limit = IKE_DOS_PEER_SA_LIMIT,
		.cookie_lifetime_s = IKE_DOS_COOKIE_LIFETIME,
		.max_packet = IKE_DOS_MAX_PACKET,
	};
}

void ike_engine_set_dos(struct ike_engine *eng,
			const struct ike_dos_config *cfg)
{
	eng->dos.cfg = *cfg;
}

void ike_engine_get_dos(const struct ike_engine *eng,
			struct ike_dos_config *cfg)
{
	*cfg = eng->dos.cfg;
}

void ike_engine_set_cookie_threshold(struct ike_engine *eng, unsigned int n)
{
	eng->dos.cfg.cookie_threshold = n;
}

void ike_engine_get_stats(const struct ike_engine *eng, struct ike_stats *st)
{
	*st = eng->stats;
	st->ike_sas = eng->nsas;
	st->half_open = ike_dos_count(&eng->dos, NULL, IKE_DOS_HALF_OPEN);
}

void ike_engine_set_retransmit(struct ike_engine *eng, unsigned int base_ms,
			       unsigned int tries)
{
	eng->retx_base_ms = base_ms;
	eng->retx_tries = tries;
	for (struct ike_sa *sa = eng->sas; sa; sa = sa->next)
		sa_touched(sa);
}

static uint64_t spi_hash(const struct ike_htab *t, uint64_t spi)
{
	return ike_htab_hash(t, &spi, sizeof(spi));
}

static uint64_t conn_hash(const struct ike_htab *t,
			  const struct ike_conn *conn)
{
	return ike_htab_hash(t, &conn, sizeof(conn));
}

/* The SAs of a connection, found without a walk of every SA. The body
 * must not make SAs (a table that grows is rehashed under the walk):
 * nothing that calls the host. */
#define conn_for_each_sa(eng, c, sa)                                           \
	for (struct ike_hnode *_n = ike_htab_first(&(eng)->by_conn,           \
						   conn_hash(&(eng)->by_conn, \
							     (c))),           \
			      *_next;                                          \
	     _n &&                                                             \
	     ((_next = ike_htab_next(_n, _n->hash)),                           \
	      (sa = ike_hnode_entry(_n, struct ike_sa, h_conn)), 1);          \
	     _n = _next)                                                       \
		if (sa->conn == (c))

/* Our own SPI of an IKE SA: the one we chose. */
static uint64_t sa_our_spi(const struct ike_sa *sa)
{
	return sa->initiator ? sa->spi_i : sa->spi_r;
}

static bool spi_in_use(struct ike_engine *eng, uint64_t spi)
{
	uint64_t h = spi_hash(&eng->by_spi, spi);

	for (struct ike_hnode *n = ike_htab_first(&eng->by_spi, h); n;
	     n = ike_htab_next(n, h))
		if (sa_our_spi(ike_hnode_entry(n, struct ike_sa, h_spi)) ==
		    spi)
			return true;
	return false;
}

/* A new IKE SPI of ours: random, never 0, unique on this engine (so a
 * lookup by our SPI finds one SA). */
static uint64_t new_spi64(struct ike_engine *eng)
{
	uint64_t v = 0;

	while (v == 0 || spi_in_use(eng, v))
		vpn_random(&v, sizeof(v));
	return v;
}

/* File the SA under our SPI, once its SPIs are set. */
static void sa_index(struct ike_sa *sa)
{
	struct ike_engine *eng = sa->eng;

	ike_htab_add(&eng->by_spi, &sa->h_spi,
		     spi_hash(&eng->by_spi, sa_our_spi(sa)));
	sa->in_by_spi = true;
}

static void sa_unindex_peer(struct ike_sa *sa)
{
	if (!sa->in_by_peer)
		return;
	ike_htab_del(&sa->eng->by_peer_spi, &sa->h_peer);
	sa->in_by_peer = false;
}

/* Half-open and established IKE SAs are counted per peer address (DoS
 * limits): the class follows the state. */
static enum ike_dos_class state_class(enum ike_sa_state st)
{
	switch (st) {
	case IKE_SA_RESPONDED:
		return IKE_DOS_HALF_OPEN;
	case IKE_SA_ESTABLISHED:
	case IKE_SA_DELETING:
		return IKE_DOS_PEER_SA;
	default:
		return IKE_DOS_NCLASS;
	}
}

static void sa_set_state(struct ike_sa *sa, enum ike_sa_state st)
{
	enum ike_dos_class cls = state_class(st);

	if (st != IKE_SA_RESPONDED)
		sa_unindex_peer(sa);
	if (cls != sa->dos_cls) {
		if (sa->dos_cls != IKE_DOS_NCLASS)
			ike_dos_dec(&sa->eng->dos, &sa->dos_ip, sa->dos_cls);
		sa->dos_ip = sa->remote;
		if (cls != IKE_DOS_NCLASS)
			ike_dos_inc(&sa->eng->dos, &sa->dos_ip, cls);
		sa->dos_cls = cls;
	}
	sa->state = st;
}

static struct ike_sa *sa_new(struct ike_engine *eng, struct ike_conn *conn,
			     bool initiator)
{
	struct ike_sa *sa = calloc(1, sizeof(*sa));

	if (!sa)
		return NULL;
	sa->eng = eng;
	sa->conn = conn;
	ike_htab_add(&eng->by_conn, &sa->h_conn, conn_hash(&eng->by_conn, conn));
	sa->initiator = initiator;
	sa->created_ms = now(eng);
	sa->last_rx_ms = sa->created_ms;
	sa->dos_cls = IKE_DOS_NCLASS;
	ike_tq_node_init(&sa->tq);
	/* looked at by the next tick, which files its real deadline */
	if (ike_tq_set(&eng->tq, &sa->tq, sa->created_ms) < 0) {
		free(sa);
		return NULL;
	}
	sa->next = eng->sas;
	eng->sas = sa;
	eng->nsas++;
	return sa;
}

/* Free an SA already unlinked from eng->sas. */
static void sa_free(struct ike_sa *sa)
{
	struct ike_engine *eng = sa->eng;

	if (sa->state == IKE_SA_DEAD)
		eng->ndead--;
	sa_set_state(sa, IKE_SA_DEAD);
	if (sa->in_by_spi)
		ike_htab_del(&eng->by_spi, &sa->h_spi);
	ike_htab_del(&eng->by_conn, &sa->h_conn);
	ike_tq_del(&eng->tq, &sa->tq);
	eng->nsas--;
	if (sa->dh_ctx)
		vpn_dh_free(sa->dh_ctx);
	if (sa->rk.dh)
		vpn_dh_free(sa->rk.dh);
	free(sa->init_req);
	free(sa->init_resp);
	free(sa->req);
	free(sa->resp);
	ike_sk_dir_free(&sa->sk_in);
	ike_sk_dir_free(&sa->sk_out);
	vpn_memzero(sa, sizeof(*sa));
	free(sa);
}

static void children_down(struct ike_sa *sa)
{
	for (int i = 0; i < IKE_MAX_CHILDREN; i++) {
		if (!sa->child[i].used)
			continue;
		sa->eng->ops.child_down(sa->eng->host, sa, sa->child[i].spi_in,
					sa->child[i].spi_out);
		sa->child[i].used = false;
	}
}

/* The SA is finished: remove its children and tell the host. */
static void sa_kill(struct ike_sa *sa, const char *reason)
{
	if (sa->state == IKE_SA_DEAD)
		return;
	children_down(sa);
	sa_set_state(sa, IKE_SA_DEAD);
	ike_tq_del(&sa->eng->tq, &sa->tq);
	sa->eng->ndead++;
	sa->reason = reason;
	if (sa->eng->ops.sa_event)
		sa->eng->ops.sa_event(sa->eng->host, sa, reason);
}

static void sa_reap(struct ike_engine *eng)
{
	struct ike_sa **pp = &eng->sas, *sa;

	if (!eng->ndead)
		return; /* the common case: no walk */
	while ((sa = *pp)) {
		if (sa->state == IKE_SA_DEAD) {
			*pp = sa->next;
			sa_free(sa);
		} else {
			pp = &sa->next;
		}
	}
}

void ike_engine_free(struct ike_engine *eng)
{
	struct ike_sa *sa;

	while ((sa = eng->sas)) {
		eng->sas = sa->next;
		sa_free(sa);
	}
	ike_htab_fini(&eng->by_spi);
	ike_htab_fini(&eng->by_peer_spi);
	ike_htab_fini(&eng->by_conn);
	ike_dos_fini(&eng->dos);
	ike_tq_fini(&eng->tq);
	vpn_memzero(eng, sizeof(*eng));
	free(eng);
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

static void sa_send(struct ike_sa *sa, const uint8_t *buf, size_t len)
{
	sa->eng->ops.send(sa->eng->host, &sa->local, &sa->remote, buf, len);
}

static void hdr_init(struct ike_sa *sa, struct ike_header *h, uint8_t exch,
		     bool response, uint32_t msgid)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = sa->spi_i;
	h->spi_r = sa->spi_r;
	h->version = IKE_VERSION;
	h->exchange = exch;
	h->flags = (sa->initiator ? IKE_FLAG_INITIATOR : 0) |
		   (response ? IKE_FLAG_RESPONSE : 0);
	h->msgid = msgid;
}

/* Keep a message (len bytes at src) in *dst, sized to it. */
static int msg_keep(uint8_t **dst, size_t *dstlen, const uint8_t *src,
		    size_t len)
{
	uint8_t *p = realloc(*dst, len ? len : 1);

	if (!p)
		return -1;
	memcpy(p, src, len);
	*dst = p;
	*dstlen = len;
	return 0;
}

/* Arm retransmission for the request in sa->req. */
static void req_start(struct ike_sa *sa, enum ike_req_kind kind,
		      uint64_t giveup_after_ms)
{
	struct ike_engine *eng = sa->eng;
	uint64_t t = now(eng);
	uint64_t total = 0;

	sa->req_kind = kind;
	sa->req_tries = 0;
	sa->req_next_ms = t + eng->retx_base_ms;
	for (unsigned int i = 0; i <= eng->retx_tries; i++)
		total += (uint64_t)eng->retx_base_ms << i;
	sa->req_giveup_ms = t + (giveup_after_ms ? giveup_after_ms : total);
	sa_send(sa, sa->req, sa->reqlen);
}

static void req_done(struct ike_sa *sa)
{
	sa->req_kind = REQ_NONE;
	sa->msgid_out++;
}

/* Send an encrypted request built in `inner`. */
static int send_request(struct ike_sa *sa, uint8_t exch,
			const struct ike_buf *inner, enum ike_req_kind kind,
			uint64_t giveup_after_ms)
{
	struct ike_header h;
	int len;

	hdr_init(sa, &h, exch, false, sa->msgid_out);
	len = ike_sk_seal(&sa->sk_out, &h, inner, sa->eng->msgbuf,
			  sizeof(sa->eng->msgbuf));
	if (len < 0 || msg_keep(&sa->req, &sa->reqlen, sa->eng->msgbuf,
				(size_t)len) < 0) {
		SALOG(sa, LOG_ERR, "cannot build %s request",
		      exch == INFORMATIONAL ? "INFORMATIONAL"
					    : "CREATE_CHILD_SA");
		return -1;
	}
	req_start(sa, kind, giveup_after_ms);
	return 0;
}

/* Send (and cache for retransmitted requests) an encrypted response. */
static void send_response(struct ike_sa *sa, uint8_t exch, uint32_t msgid,
			  const struct ike_buf *inner)
{
	struct ike_header h;
	int len;

	hdr_init(sa, &h, exch, true, msgid);
	len = ike_sk_seal(&sa->sk_out, &h, inner, sa->eng->msgbuf,
			  sizeof(sa->eng->msgbuf));
	if (len < 0 || msg_keep(&sa->resp, &sa->resplen, sa->eng->msgbuf,
				(size_t)len) < 0) {
		SALOG(sa, LOG_ERR, "cannot build response");
		return;
	}
	sa->have_resp = true;
	sa_send(sa, sa->resp, sa->resplen);
}

/* Answer the peer's request `msg` (same exchange and message ID) with the
 * payloads already in `b` followed by an error notify. */
static void respond_notify(struct ike_sa *sa, const struct ike_msg *msg,
			   struct ike_buf *b, uint16_t type,
			   const uint8_t *data, size_t len)
{
	ike_add_notify(b, 0, NULL, 0, type, data, len);
	send_response(sa, msg->hdr.exchange, msg->hdr.msgid, b);
}

/* Answer the peer's request `msg` with an error notify alone. */
static void respond_error(struct ike_sa *sa, const struct ike_msg *msg,
			  uint16_t type, const uint8_t *data, size_t len)
{
	uint8_t inner_mem[256];
	struct ike_buf b;

	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	respond_notify(sa, msg, &b, type, data, len);
}

/* Unencrypted error notify in answer to an IKE_SA_INIT request. */
static void send_init_notify(struct ike_engine *eng,
			     const struct ike_addr *local,
			     const struct ike_addr *remote,
			     const struct ike_header *req, uint16_t type,
			     const uint8_t *data, size_t len)
{
	uint8_t buf[256];
	struct ike_header h = *req;
	struct ike_buf b;
	int n;

	h.spi_r = 0;
	h.flags = IKE_FLAG_RESPONSE;
	h.next_payload = 0;
	ike_build_init(&b, buf, sizeof(buf), &h);
	ike_add_notify(&b, 0, NULL, 0, type, data, len);
	n = ike_build_finish(&b);
	if (n > 0)
		eng->ops.send(eng->host, local, remote, buf, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

static int sa_setup_keys(struct ike_sa *sa, const uint8_t *gir, size_t girlen,
			 uint16_t old_prf, const uint8_t *old_sk_d,
			 size_t old_sk_d_len)
{
	struct vpn_cipher_info ci;
	struct ike_sk_dir *i2r, *r2i;

	if (vpn_cipher_info(sa->encr, sa->keybits, &ci) < 0)
		return -1;
	memset(&sa->keys, 0, sizeof(sa->keys));
	sa->keys.prf = sa->prf;
	sa->keys.encr_len = ci.keylen;
	sa->keys.integ_len = ci.aead ? 0 : vpn_integ_keylen(sa->integ);
	if (ike_derive_sa_keys(&sa->keys, sa->ni, sa->nilen, sa->nr, sa->nrlen,
			       gir, girlen, sa->spi_i, sa->spi_r, old_prf,
			       old_sk_d, old_sk_d_len, NULL) < 0)
		return -1;

	i2r = sa->initiator ? &sa->sk_out : &sa->sk_in;
	r2i = sa->initiator ? &sa->sk_in : &sa->sk_out;
	ike_sk_dir_free(i2r);
	ike_sk_dir_free(r2i);
	i2r->cipher = vpn_cipher_new(sa->encr, sa->keybits, sa->keys.sk_ei,
				     ci.keylen);
	r2i->cipher = vpn_cipher_new(sa->encr, sa->keybits, sa->keys.sk_er,
				     ci.keylen);
	if (!i2r->cipher || !r2i->cipher)
		return -1;
	if (!ci.aead) {
		i2r->integ_id = r2i->integ_id = sa->integ;
		i2r->integ = vpn_integ_new(sa->integ, sa->keys.sk_ai,
					   sa->keys.integ_len);
		r2i->integ = vpn_integ_new(sa->integ, sa->keys.sk_ar,
					   sa->keys.integ_len);
		if (!i2r->integ || !r2i->integ)
			return -1;
	}
	return 0;
}

/* When to rekey an SA of `lifetime_s` created at t: at the end of its
 * lifetime, brought forward by a random up to 10% so that both peers
 * rarely start together. */
static uint64_t rekey_deadline(uint64_t t, uint32_t lifetime_s)
{
	uint32_t jitter;

	vpn_random(&jitter, sizeof(jitter));
	return t + (uint64_t)lifetime_s * 1000 -
	       (lifetime_s >= 10 ? jitter % ((uint64_t)lifetime_s * 100) : 0);
}

/* Hard expiry of an SA of `lifetime_s` created at t: its lifetime plus
 * 10%, room for a late rekey. */
static uint64_t expire_deadline(uint64_t t, uint32_t lifetime_s)
{
	return t + (uint64_t)lifetime_s * 1100;
}

/*
 * A Child SA's algorithms and keys into info, from KEYMAT (RFC 7296
 * 2.17): i->r encryption, i->r integrity, r->i encryption, r->i
 * integrity. `exch_initiator`: we initiated the exchange that creates it.
 */
static int child_keys(const struct ike_sa *sa, const struct ike_choice *c,
		      bool exch_initiator, const uint8_t *gir, size_t girlen,
		      const uint8_t *ni, size_t nilen, const uint8_t *nr,
		      size_t nrlen, struct ike_child_info *info)
{
	struct vpn_cipher_info ci;
	uint8_t keymat[4 * 64];
	size_t ek, ik;

	if (vpn_cipher_info(c->encr, c->keybits, &ci) < 0)
		return -1;
	ek = ci.keylen;
	ik = ci.aead ? 0 : vpn_integ_keylen(c->integ);
	if (ike_derive_child_keymat(sa->prf, sa->keys.sk_d, sa->keys.prf_len,
				    gir, girlen, ni, nilen, nr, nrlen, keymat,
				    2 * (ek + ik)) < 0)
		return -1;
	info->encr = c->encr;
	info->encr_keybits = c->keybits;
	info->integ = ci.aead ? 0 : c->integ;
	info->esn = c->esn == VPN_ESN_YES;
	info->encr_keylen = ek;
	info->integ_keylen = ik;
	if (exch_initiator) {
		memcpy(info->encr_key_out, keymat, ek);
		memcpy(info->integ_key_out, keymat + ek, ik);
		memcpy(info->encr_key_in, keymat + ek + ik, ek);
		memcpy(info->integ_key_in, keymat + 2 * ek + ik, ik);
	} else {
		memcpy(info->encr_key_in, keymat, ek);
		memcpy(info->integ_key_in, keymat + ek, ik);
		memcpy(info->encr_key_out, keymat + ek + ik, ek);
		memcpy(info->integ_key_out, keymat + 2 * ek + ik, ik);
	}
	vpn_memzero(keymat, sizeof(keymat));
	return 0;
}

/* A free Child SA slot, or NULL. */
static struct ike_child *child_slot(struct ike_sa *sa)
{
	for (int i = 0; i < IKE_MAX_CHILDREN; i++)
		if (!sa->child[i].used)
			return &sa->child[i];
	return NULL;
}

/* Track in slot ch the Child SA of choice c described by info, created
 * at t. */
static void child_track(struct ike_child *ch, const struct ike_choice *c,
			const struct ike_child_info *info, uint64_t t)
{
	*ch = (struct ike_child){
		.used = true,
		.spi_in = info->spi_in,
		.spi_out = info->spi_out,
		.encr = c->encr,
		.keybits = c->keybits,
		.integ = info->integ,
		.esn = info->esn,
		.created_ms = t,
		.expire_ms = expire_deadline(t, info->lifetime),
		.rekey_ms = rekey_deadline(t, info->lifetime),
	};
}

static void child_log_installed(struct ike_sa *sa, const struct ike_child *ch)
{
	char a[64];

	SALOG(sa, LOG_INFO,
	      "Child SA installed: SPIs in %08x out %08x, %s%s%s, peer %s port %u",
	      ch->spi_in, ch->spi_out,
	      vpn_transform_name(&(struct vpn_transform){
		      VPN_TT_ENCR, ch->encr, ch->keybits }),
	      ch->integ ? "-" : "",
	      ch->integ ? vpn_transform_name(&(struct vpn_transform){
				  VPN_TT_INTEG, ch->integ, 0 })
			: "",
	      addr_str(&sa->remote, a, sizeof(a)), sa->remote.port);
}

/* How a Child SA came to be: which exchange, and our role in it. */
enum child_how {
	CH_AUTH_INITIATOR,
	CH_AUTH_RESPONDER,
	CH_REKEY_INITIATOR,
	CH_REKEY_RESPONDER,
};

/*
 * Derive and install a Child SA (the host gets its keys through
 * child_up; they are wiped here after). `how`: the exchange that created
 * it and our role (the KEYMAT order follows the exchange's initiator; the
 * responder of a rekey leaves outbound traffic on the old SA for now).
 * lts/rts: our and the peer's selectors.
 */
static int child_install(struct ike_sa *sa, const struct ike_choice *c,
			 uint32_t spi_in, uint32_t spi_out, enum child_how how,
			 const uint8_t *gir, size_t girlen, const uint8_t *ni,
			 size_t nilen, const uint8_t *nr, size_t nrlen,
			 const struct ike_ts *lts, unsigned int nl,
			 const struct ike_ts *rts, unsigned int nr_ts)
{
	struct ike_conn *conn = sa->conn;
	struct ike_child_info info;
	struct ike_child *ch;
	uint64_t t = now(sa->eng);

	bool exch_initiator =
		how == CH_AUTH_INITIATOR || how == CH_REKEY_INITIATOR;

	memset(&info, 0, sizeof(info));
	if (child_keys(sa, c, exch_initiator, gir, girlen, ni, nilen, nr,
		       nrlen, &info) < 0)
		return -1;
	info.spi_in = spi_in;
	info.spi_out = spi_out;
	info.n_local_ts = nl;
	memcpy(info.local_ts, lts, nl * sizeof(*lts));
	info.n_remote_ts = nr_ts;
	memcpy(info.remote_ts, rts, nr_ts * sizeof(*rts));
	info.lifetime = conn->child_lifetime;
	info.lifetime_bytes = conn->child_lifetime_bytes;
	info.local = sa->local;
	info.remote = sa->remote;
	info.rekey_responder = how == CH_REKEY_RESPONDER;

	ch = child_slot(sa);
	if (!ch) {
		vpn_memzero(&info, sizeof(info));
		SALOG(sa, LOG_ERR, "too many Child SAs");
		return -1;
	}
	child_track(ch, c, &info, t);
	sa->eng->ops.child_up(sa->eng->host, sa, &info);
	vpn_memzero(&info, sizeof(info));
	child_log_installed(sa, ch);
	return 0;
}

static struct ike_child *child_by_spi_out(struct ike_sa *sa, uint32_t spi_out)
{
	for (int i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->child[i].used && sa->child[i].spi_out == spi_out)
			return &sa->child[i];
	return NULL;
}

static struct ike_child *child_by_spi_in(struct ike_sa *sa, uint32_t spi_in)
{
	for (int i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->child[i].used && sa->child[i].spi_in == spi_in)
			return &sa->child[i];
	return NULL;
}

bool ike_sa_has_child(const struct ike_sa *sa, uint32_t spi_in)
{
	return child_by_spi_in((struct ike_sa *)sa, spi_in) != NULL;
}

/* The newest Child SA not already replaced. */
static struct ike_child *child_current(struct ike_sa *sa)
{
	struct ike_child *best = NULL;

	for (int i = 0; i < IKE_MAX_CHILDREN; i++) {
		struct ike_child *c = &sa->child[i];

		if (c->used && !c->rekeyed && !c->closing &&
		    (!best || c->created_ms >= best->created_ms))
			best = c;
	}
	return best;
}

static void child_remove(struct ike_sa *sa, struct ike_child *ch)
{
	sa->eng->ops.child_down(sa->eng->host, sa, ch->spi_in, ch->spi_out);
	ch->used = false;
}

/* ------------------------------------------------------------------ */
/* IKE_SA_INIT                                                         */
/* ------------------------------------------------------------------ */

static void natd_hash(uint64_t spi_i, uint64_t spi_r, const struct ike_addr *a,
		      uint8_t out[VPN_SHA1_LEN])
{
	uint8_t spis[16], port[2];
	struct iovec iov[3] = {
		{ spis, 16 },
		{ (void *)a->addr, ike_addr_len(a) },
		{ port, 2 },
	};

	vpn_put_be64(spis, spi_i);
	vpn_put_be64(spis + 8, spi_r);
	vpn_put_be16(port, a->port);
	vpn_sha1(iov, 3, out);
}

/*
 * NAT detection notifies. vpnd always encapsulates ESP in UDP, so the
 * source hash is deliberately wrong: the peer sees a NAT and encapsulates
 * too (what strongSwan's encap=yes does).
 */
static void add_natd(struct ike_buf *b, struct ike_sa *sa)
{
	uint8_t h[VPN_SHA1_LEN];

	vpn_random(h, sizeof(h));
	ike_add_notify(b, 0, NULL, 0, IKE_N_NAT_DETECTION_SOURCE_IP, h,
		       sizeof(h));
	natd_hash(sa->spi_i, sa->spi_r, &sa->remote, h);
	ike_add_notify(b, 0, NULL, 0, IKE_N_NAT_DETECTION_DESTINATION_IP, h,
		       sizeof(h));
}

/* IKE_SA_INIT is done: keys from g^ir, then the DH secret and our private
 * key are wiped. */
static int init_keys(struct ike_sa *sa, uint8_t *gir, size_t girlen)
{
	int ret = sa_setup_keys(sa, gir, girlen, 0, NULL, 0);

	vpn_memzero(gir, girlen);
	vpn_dh_free(sa->dh_ctx);
	sa->dh_ctx = NULL;
	return ret;
}

/* A copy of an IKE_SA_INIT message, kept for the AUTH computation. */
static uint8_t *msg_dup(const uint8_t *buf, size_t len, size_t *outlen)
{
	uint8_t *p = malloc(len);

	if (p) {
		memcpy(p, buf, len);
		*outlen = len;
	}
	return p;
}

static int init_send_request(struct ike_sa *sa)
{
	struct ike_conn *conn = sa->conn;
	struct ike_proposal props[IKE_CONN_MAX_PROPOSALS];
	uint8_t pub[VPN_DH_MAX_PUB];
	size_t publen;
	struct ike_header h;
	struct ike_buf b;
	int len;

	if (sa->dh_ctx)
		vpn_dh_free(sa->dh_ctx);
	sa->dh_ctx = vpn_dh_new(sa->ke_group);
	publen = vpn_dh_pub_len(sa->ke_group);
	if (!sa->dh_ctx || vpn_dh_public(sa->dh_ctx, pub, publen) < 0) {
		SALOG(sa, LOG_ERR, "DH group %u unavailable", sa->ke_group);
		return -1;
	}
	for (unsigned int i = 0; i < conn->n_ike_props; i++)
		prop_to_wire(&conn->ike_props[i], i + 1, IKE_PROTO_IKE, NULL,
			     0, false, &props[i]);

	hdr_init(sa, &h, IKE_SA_INIT, false, 0);
	ike_build_init(&b, sa->eng->msgbuf, sizeof(sa->eng->msgbuf), &h);
	if (sa->cookielen)
		ike_add_notify(&b, 0, NULL, 0, IKE_N_COOKIE, sa->cookie,
			       sa->cookielen);
	ike_add_sa(&b, props, conn->n_ike_props);
	ike_add_ke(&b, sa->ke_group, pub, publen);
	ike_add_nonce(&b, sa->ni, sa->nilen);
	add_natd(&b, sa);
	len = ike_build_finish(&b);
	if (len < 0 ||
	    msg_keep(&sa->req, &sa->reqlen, sa->eng->msgbuf, (size_t)len) < 0)
		return -1;
	free(sa->init_req);
	sa->init_req = msg_dup(sa->req, sa->reqlen, &sa->init_req_len);
	if (!sa->init_req)
		return -1;
	sa->msgid_out = 0;
	req_start(sa, REQ_INIT, 0);
	return 0;
}

struct ike_sa *ike_initiate(struct ike_engine *eng, struct ike_conn *conn)
{
	struct ike_sa *sa;
	char a[64];

	if (conn->responder_only)
		return NULL;
	sa = sa_new(eng, conn, true);
	if (!sa)
		return NULL;
	sa->spi_i = new_spi64(eng);
	sa_index(sa);
	sa->local = conn->local;
	sa->local.port = IKE_PORT;
	sa->remote = conn->remote;
	sa->remote.port = IKE_PORT;
	sa->nilen = IKE_NONCE_LEN;
	vpn_random(sa->ni, sa->nilen);
	sa->ke_group = first_dh(conn->ike_props, conn->n_ike_props);
	sa_set_state(sa, IKE_SA_INIT_SENT);
	SALOG(sa, LOG_INFO, "initiating IKE SA to %s",
	      addr_str(&sa->remote, a, sizeof(a)));
	if (init_send_request(sa) < 0) {
		sa_kill(sa, "cannot build IKE_SA_INIT");
		return NULL;
	}
	return sa;
}

/* The IKE SA's negotiated transforms. */
static void sa_set_transforms(struct ike_sa *sa, const struct ike_choice *c)
{
	sa->encr = c->encr;
	sa->keybits = c->keybits;
	sa->integ = c->integ;
	sa->prf = c->prf;
	sa->dh = c->dh;
}

/* The message carries a nonce of acceptable length (RFC 7296 2.10). */
static bool has_valid_nonce(const struct ike_msg *msg)
{
	return msg->has_nonce && msg->nonce.len >= IKE_NONCE_MIN_LEN &&
	       msg->nonce.len <= IKE_NONCE_MAX_LEN;
}

/* An IKE_SA_INIT request with the SPI and address of a half-open SA we
 * made: true when handled. The request we answered, byte for byte (a
 * retransmission), gets the same answer again; anything else with its
 * SPI is dropped (no amplification, no second SA). */
static bool init_resend_answer(struct ike_engine *eng,
			       const struct ike_addr *local,
			       const struct ike_addr *remote,
			       const uint8_t *buf, size_t len,
			       const struct ike_msg *msg)
{
	uint64_t hash = spi_hash(&eng->by_peer_spi, msg->hdr.spi_i);
	struct ike_hnode *n = ike_htab_first(&eng->by_peer_spi, hash);

	for (; n; n = ike_htab_next(n, hash)) {
		struct ike_sa *sa = ike_hnode_entry(n, struct ike_sa, h_peer);

		if (sa->spi_i == msg->hdr.spi_i &&
		    ike_addr_same_ip(&sa->remote, remote) && sa->init_resp &&
		    sa->state == IKE_SA_RESPONDED) {
			/* only the very request we answered gets it again */
			if (sa->init_req_len != len ||
			    memcmp(sa->init_req, buf, len)) {
				eng->stats.drop_unexpected++;
				return true;
			}
			eng->ops.send(eng->host, local, remote, sa->init_resp,
				      sa->init_resp_len);
			eng->stats.retransmits_answered++;
			return true;
		}
	}
	return false;
}

/* The connection that may answer an IKE_SA_INIT from `remote`, or NULL
 * (logged: none configured, or initiator-only). */
static struct ike_conn *init_conn(struct ike_engine *eng,
				  const struct ike_addr *local,
				  const struct ike_addr *remote)
{
	struct ike_conn *conn = eng->ops.find_conn(eng->host, local, remote);
	char a[64];

	if (!conn) {
		eng->stats.drop_no_connection++;
		ulog(eng, LOG_INFO,
		     "IKE_SA_INIT from %s: no connection configured for this peer",
		     addr_str(remote, a, sizeof(a)));
		return NULL;
	}
	if (conn->initiator_only) {
		eng->stats.drop_no_connection++;
		ulog(eng, LOG_INFO,
		     "connection %s: IKE_SA_INIT from %s ignored: connection-mode initiator-only",
		     conn->name, addr_str(remote, a, sizeof(a)));
		return NULL;
	}
	return conn;
}

/*
 * The DoS limits (struct ike_dos_config): true when the request may make
 * a half-open SA. Otherwise a COOKIE was asked for (RFC 7296 2.6: no
 * state is kept), or the request is dropped and counted.
 */
static bool init_dos_ok(struct ike_engine *eng, const struct ike_addr *local,
			const struct ike_addr *remote,
			const struct ike_msg *msg)
{
	const struct ike_notify *cn = ike_msg_notify(msg, IKE_N_COOKIE);
	uint8_t want[IKE_DOS_COOKIE_LEN];
	bool bad_cookie;
	char a[64];
	enum ike_dos_verdict v;

	v = ike_dos_check_init(&eng->dos, now(eng), remote, msg->hdr.spi_i,
			       msg->nonce.data, msg->nonce.len,
			       cn ? cn->data : NULL, cn ? cn->len : 0, want,
			       &bad_cookie);
	switch (v) {
	case IKE_DOS_V_ACCEPT:
		return true;
	case IKE_DOS_V_COOKIE:
		eng->stats.cookies_sent++;
		eng->stats.cookies_invalid += bad_cookie;
		send_init_notify(eng, local, remote, &msg->hdr, IKE_N_COOKIE,
				 want, sizeof(want));
		return false;
	case IKE_DOS_V_BLOCKED:
		eng->stats.drop_blocked++;
		break;
	case IKE_DOS_V_HALF_OPEN_LIMIT:
		eng->stats.drop_half_open_limit++;
		break;
	case IKE_DOS_V_PEER_LIMIT:
		eng->stats.drop_peer_sa_limit++;
		break;
	}
	ulog(eng, LOG_WARNING, "IKE_SA_INIT from %s dropped: %s",
	     addr_str(remote, a, sizeof(a)),
	     v == IKE_DOS_V_BLOCKED ? "too many half-open IKE SAs from this address"
	     : v == IKE_DOS_V_HALF_OPEN_LIMIT ? "half-open IKE SA limit reached"
					    : "IKE SA limit for this peer reached");
	return false;
}

/* The peer's IKE proposal we accept, when its KE is for the chosen group;
 * otherwise NULL, NO_PROPOSAL_CHOSEN or INVALID_KE_PAYLOAD answered. */
static const struct ike_proposal *
init_choose(struct ike_engine *eng, const struct ike_conn *conn,
	    const struct ike_addr *local, const struct ike_addr *remote,
	    const struct ike_msg *msg, struct ike_choice *c)
{
	const struct ike_proposal *chosen;
	char a[64];
	uint8_t g[2];

	chosen = prop_select(&msg->sa, conn->ike_props, conn->n_ike_props,
			     IKE_PROTO_IKE, false, msg->ke.group, c);
	if (!chosen) {
		char why[2100];

		props_mismatch_str(&msg->sa, conn->ike_props, conn->n_ike_props,
				   why, sizeof(why));
		eng->stats.no_proposal_chosen++;
		ulog(eng, LOG_WARNING,
		     "connection %s: IKE_SA_INIT from %s failed: no proposal chosen; %s",
		     conn->name, addr_str(remote, a, sizeof(a)), why);
		send_init_notify(eng, local, remote, &msg->hdr,
				 IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return NULL;
	}
	if (c->dh == msg->ke.group)
		return chosen;
	vpn_put_be16(g, c->dh);
	eng->stats.invalid_ke_sent++;
	ulog(eng, LOG_INFO,
	     "connection %s: peer %s sent a KE for group %u, asking for group %u",
	     conn->name, addr_str(remote, a, sizeof(a)), msg->ke.group, c->dh);
	send_init_notify(eng, local, remote, &msg->hdr,
			 IKE_N_INVALID_KE_PAYLOAD, g, 2);
	return NULL;
}

/* The responder's new IKE SA: SPIs, addresses, transforms, nonces. */
static struct ike_sa *init_responder_sa(struct ike_engine *eng,
					struct ike_conn *conn,
					const struct ike_addr *local,
					const struct ike_addr *remote,
					const struct ike_msg *msg,
					const struct ike_choice *c)
{
	struct ike_sa *sa = sa_new(eng, conn, false);

	if (!sa)
		return NULL;
	sa->spi_i = msg->hdr.spi_i;
	sa->spi_r = new_spi64(eng);
	sa_index(sa);
	ike_htab_add(&eng->by_peer_spi, &sa->h_peer,
		     spi_hash(&eng->by_peer_spi, sa->spi_i));
	sa->in_by_peer = true;
	sa->local = *local;
	sa->remote = *remote;
	sa_set_transforms(sa, c);
	sa->nilen = msg->nonce.len;
	memcpy(sa->ni, msg->nonce.data, sa->nilen);
	sa->nrlen = IKE_NONCE_LEN;
	vpn_random(sa->nr, sa->nrlen);
	sa->msgid_in = 1;
	sa->msgid_out = 0;
	return sa;
}

/* Responder: our public value into pub, the SA keys from g^ir, and the
 * request kept for AUTH. On failure the SA is killed (bad KE data is
 * answered with INVALID_SYNTAX). */
static bool init_responder_keys(struct ike_sa *sa, const struct ike_msg *msg,
				const uint8_t *buf, size_t len, uint8_t *pub,
				size_t *publen)
{
	uint8_t gir[VPN_DH_MAX_PUB];
	size_t girlen;
	char a[64];

	sa->dh_ctx = vpn_dh_new(sa->dh);
	*publen = vpn_dh_pub_len(sa->dh);
	if (!sa->dh_ctx || vpn_dh_public(sa->dh_ctx, pub, *publen) < 0 ||
	    vpn_dh_shared(sa->dh_ctx, msg->ke.data, msg->ke.len, gir,
			  &girlen) < 0) {
		SAULOG(sa, LOG_WARNING,
		      "IKE_SA_INIT from %s failed: invalid key exchange data for group %u",
		      addr_str(&sa->remote, a, sizeof(a)), sa->dh);
		send_init_notify(sa->eng, &sa->local, &sa->remote, &msg->hdr,
				 IKE_N_INVALID_SYNTAX, NULL, 0);
		sa_kill(sa, "invalid KE");
		return false;
	}
	if (init_keys(sa, gir, girlen) < 0 ||
	    !(sa->init_req = msg_dup(buf, len, &sa->init_req_len))) {
		sa_kill(sa, "key derivation failed");
		return false;
	}
	return true;
}

/* Build, keep (for AUTH and retransmissions) and send our IKE_SA_INIT
 * response; the SA is then half-open. */
static void init_send_response(struct ike_sa *sa,
			       const struct ike_proposal *chosen,
			       const struct ike_choice *c, const uint8_t *pub,
			       size_t publen)
{
	struct ike_proposal out_prop;
	struct ike_header h;
	struct ike_buf b;
	char a[64];
	int n;

	choice_to_wire(c, chosen, NULL, 0, &out_prop);
	hdr_init(sa, &h, IKE_SA_INIT, true, 0);
	ike_build_init(&b, sa->eng->msgbuf, sizeof(sa->eng->msgbuf), &h);
	ike_add_sa(&b, &out_prop, 1);
	ike_add_ke(&b, c->dh, pub, publen);
	ike_add_nonce(&b, sa->nr, sa->nrlen);
	add_natd(&b, sa);
	n = ike_build_finish(&b);
	if (n < 0) {
		sa_kill(sa, "cannot build IKE_SA_INIT response");
		return;
	}
	sa->init_resp = msg_dup(sa->eng->msgbuf, (size_t)n,
				&sa->init_resp_len);
	if (!sa->init_resp) {
		sa_kill(sa, "out of memory");
		return;
	}
	sa_set_state(sa, IKE_SA_RESPONDED);
	SAULOG(sa, LOG_INFO, "IKE_SA_INIT from %s answered",
	      addr_str(&sa->remote, a, sizeof(a)));
	sa_send(sa, sa->init_resp, sa->init_resp_len);
}

/* Responder: an IKE_SA_INIT request. */
static void init_handle_request(struct ike_engine *eng,
				const struct ike_addr *local,
				const struct ike_addr *remote,
				const uint8_t *buf, size_t len,
				struct ike_msg *msg)
{
	struct ike_conn *conn;
	const struct ike_proposal *chosen;
	struct ike_choice c;
	struct ike_sa *sa;
	uint8_t pub[VPN_DH_MAX_PUB];
	size_t publen;

	if (init_resend_answer(eng, local, remote, buf, len, msg))
		return;
	conn = init_conn(eng, local, remote);
	if (!conn)
		return;
	if (!msg->has_sa || !msg->has_ke || !has_valid_nonce(msg)) {
		/* answered (RFC 7296 2.21.1) but nothing kept: a drop */
		eng->stats.drop_malformed++;
		send_init_notify(eng, local, remote, &msg->hdr,
				 IKE_N_INVALID_SYNTAX, NULL, 0);
		return;
	}
	if (!init_dos_ok(eng, local, remote, msg))
		return;
	chosen = init_choose(eng, conn, local, remote, msg, &c);
	if (!chosen)
		return;
	sa = init_responder_sa(eng, conn, local, remote, msg, &c);
	if (sa && init_responder_keys(sa, msg, buf, len, pub, &publen))
		init_send_response(sa, chosen, &c, pub, publen);
}

static int auth_send_request(struct ike_sa *sa);

/* Initiator: an IKE_SA_INIT response we cannot use. Keep waiting, up to
 * IKE_INIT_REFUSAL_WAIT_MS more, for the real one; give up then with
 * this reason (sa_tick_request). Nothing else of the SA changes. */
static void init_unusable(struct ike_sa *sa, const char *reason)
{
	uint64_t until = now(sa->eng) + IKE_INIT_REFUSAL_WAIT_MS;

	if (!sa->init_refusal && until < sa->req_giveup_ms)
		sa->req_giveup_ms = until;
	sa->init_refusal = reason;
}

/*
 * Initiator: an IKE_SA_INIT response that refuses. COOKIE and
 * INVALID_KE_PAYLOAD (for a group we offer) restart the exchange, other
 * refusals kill the SA. True when the response was one of these.
 */
static bool init_response_refused(struct ike_sa *sa, const struct ike_msg *msg)
{
	struct ike_conn *conn = sa->conn;
	const struct ike_notify *n;

	if ((n = ike_msg_notify(msg, IKE_N_COOKIE))) {
		if (n->len == 0 || n->len > sizeof(sa->cookie) ||
		    sa->cookielen)
			return true;
		memcpy(sa->cookie, n->data, n->len);
		sa->cookielen = n->len;
		SAULOG(sa, LOG_INFO, "peer asked for a cookie; retrying");
		init_send_request(sa);
		return true;
	}
	if ((n = ike_msg_notify(msg, IKE_N_INVALID_KE_PAYLOAD))) {
		uint16_t g = n->len == 2 ? vpn_get_be16(n->data) : 0;

		if (!g || g == sa->ke_group ||
		    !we_offer_dh(conn->ike_props, conn->n_ike_props, g)) {
			SAULOG(sa, LOG_WARNING,
			      "IKE_SA_INIT refused: peer wants DH group %u, which we do not offer",
			      g);
			init_unusable(sa, "no proposal chosen (DH group)");
			return true;
		}
		if (sa->ke_retries >= IKE_MAX_KE_RETRIES) {
			SAULOG(sa, LOG_WARNING,
			      "IKE_SA_INIT refused: peer asked for another DH group %u times",
			      sa->ke_retries + 1);
			init_unusable(sa, "no proposal chosen (DH group)");
			return true;
		}
		SAULOG(sa, LOG_INFO,
		      "peer asked for DH group %u instead of %u; retrying", g,
		      sa->ke_group);
		sa->ke_group = g;
		sa->ke_retries++;
		init_send_request(sa);
		return true;
	}
	if (ike_msg_notify(msg, IKE_N_NO_PROPOSAL_CHOSEN)) {
		char ours[1024];

		props_str_ours(conn->ike_props, conn->n_ike_props, ours,
			       sizeof(ours));
		SAULOG(sa, LOG_WARNING,
		      "IKE_SA_INIT refused: no proposal chosen: the peer accepted none of %s",
		      ours);
		init_unusable(sa, "no proposal chosen");
		return true;
	}
	return false;
}

/* Initiator: the responder's choice is one we offered, for the group of
 * our KE; false (logged, SA killed) when the response is not usable. */
static bool init_response_choice(struct ike_sa *sa, const struct ike_msg *msg,
				 struct ike_choice *c)
{
	struct ike_conn *conn = sa->conn;
	const struct ike_proposal *chosen;

	if (!msg->has_sa || !msg->has_ke || !has_valid_nonce(msg) ||
	    msg->sa.nproposals != 1 || msg->hdr.spi_r == 0) {
		SAULOG(sa, LOG_WARNING, "IKE_SA_INIT: malformed response ignored");
		init_unusable(sa, "malformed IKE_SA_INIT response");
		return false;
	}
	chosen = prop_select(&msg->sa, conn->ike_props, conn->n_ike_props,
			     IKE_PROTO_IKE, false, msg->ke.group, c);
	if (!chosen || c->dh != msg->ke.group || c->dh != sa->ke_group) {
		SAULOG(sa, LOG_WARNING,
		      "IKE_SA_INIT: response with a proposal we did not offer ignored");
		init_unusable(sa, "invalid proposal in response");
		return false;
	}
	return true;
}

/* Initiator: the IKE_SA_INIT response. */
static void init_handle_response(struct ike_sa *sa, const uint8_t *buf,
				 size_t len, struct ike_msg *msg)
{
	struct ike_choice c;
	uint8_t gir[VPN_DH_MAX_PUB];
	size_t girlen;

	if (init_response_refused(sa, msg) ||
	    !init_response_choice(sa, msg, &c))
		return;
	if (vpn_dh_shared(sa->dh_ctx, msg->ke.data, msg->ke.len, gir,
			  &girlen) < 0) {
		SALOG(sa, LOG_WARNING,
		      "IKE_SA_INIT: response with invalid key exchange data ignored");
		init_unusable(sa, "invalid KE");
		return;
	}
	sa->spi_r = msg->hdr.spi_r;
	sa_set_transforms(sa, &c);
	sa->nrlen = msg->nonce.len;
	memcpy(sa->nr, msg->nonce.data, sa->nrlen);
	if (init_keys(sa, gir, girlen) < 0 ||
	    !(sa->init_resp = msg_dup(buf, len, &sa->init_resp_len))) {
		sa_kill(sa, "key derivation failed");
		return;
	}
	req_done(sa);

	/* UDP encapsulation from here on (RFC 7296 2.23). */
	sa->local.port = IKE_NATT_PORT;
	sa->remote.port = IKE_NATT_PORT;
	if (auth_send_request(sa) < 0)
		sa_kill(sa, "cannot build IKE_AUTH");
}

/* ------------------------------------------------------------------ */
/* IKE_AUTH                                                            */
/* ------------------------------------------------------------------ */

/* A configured identity, or the address as an IP identity. */
static void conn_id(uint8_t cfg_type, const uint8_t *cfg, size_t cfg_len,
		    const struct ike_addr *addr, uint8_t *type, uint8_t *data,
		    size_t *len)
{
	if (cfg_len) {
		*type = cfg_type;
		*len = cfg_len;
		memcpy(data, cfg, cfg_len);
	} else {
		ike_id_from_addr(addr, type, data, len);
	}
}

static void local_id(const struct ike_sa *sa, uint8_t *type, uint8_t *data,
		     size_t *len)
{
	const struct ike_conn *c = sa->conn;

	conn_id(c->local_id_type, c->local_id, c->local_id_len, &c->local,
		type, data, len);
}

static void remote_id(const struct ike_sa *sa, uint8_t *type, uint8_t *data,
		      size_t *len)
{
	const struct ike_conn *c = sa->conn;

	conn_id(c->remote_id_type, c->remote_id, c->remote_id_len, &c->remote,
		type, data, len);
}

/* The ID payload body (type | 3 reserved | data) AUTH covers. */
static size_t id_body(uint8_t type, const uint8_t *data, size_t len,
		      uint8_t *out)
{
	out[0] = type;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, data, len);
	return len + 4;
}

static int compute_auth(struct ike_sa *sa, bool for_initiator,
			const uint8_t *idb, size_t idblen, uint8_t *out)
{
	struct ike_conn *conn = sa->conn;

	if (for_initiator)
		return ike_psk_auth(sa->prf, conn->psk, conn->psklen,
				    sa->init_req, sa->init_req_len, sa->nr,
				    sa->nrlen, sa->keys.sk_pi,
				    sa->keys.prf_len, idb, idblen, out);
	return ike_psk_auth(sa->prf, conn->psk, conn->psklen, sa->init_resp,
			    sa->init_resp_len, sa->ni, sa->nilen,
			    sa->keys.sk_pr, sa->keys.prf_len, idb, idblen, out);
}

static void add_child_sa(struct ike_buf *b, struct ike_sa *sa, uint32_t spi_in,
			 bool strip_dh)
{
	struct ike_proposal props[IKE_CONN_MAX_PROPOSALS];
	uint8_t spi[4];

	vpn_put_be32(spi, spi_in);
	for (unsigned int i = 0; i < sa->conn->n_esp_props; i++)
		prop_to_wire(&sa->conn->esp_props[i], i + 1, IKE_PROTO_ESP,
			     spi, 4, strip_dh, &props[i]);
	ike_add_sa(b, props, sa->conn->n_esp_props);
}

static bool conn_has_other_sa(const struct ike_sa *sa)
{
	struct ike_sa *o;

	conn_for_each_sa(sa->eng, sa->conn, o)
		if (o != sa && o->state != IKE_SA_DEAD)
			return true;
	return false;
}

static int auth_send_request(struct ike_sa *sa)
{
	struct ike_conn *conn = sa->conn;
	uint8_t inner_mem[IKE_MSG_MAX];
	uint8_t idt, idd[256], idb[260], auth[VPN_PRF_MAX_LEN];
	size_t idl, idbl;
	struct ike_buf b;

	local_id(sa, &idt, idd, &idl);
	idbl = id_body(idt, idd, idl, idb);
	if (compute_auth(sa, true, idb, idbl, auth) < 0)
		return -1;
	sa->auth_spi_in = sa->eng->ops.alloc_spi(sa->eng->host);

	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	ike_add_id(&b, IKE_PL_IDI, idt, idd, idl);
	if (conn->remote_id_len)
		ike_add_id(&b, IKE_PL_IDR, conn->remote_id_type,
			   conn->remote_id, conn->remote_id_len);
	ike_add_auth(&b, IKE_AUTH_PSK, auth, sa->keys.prf_len);
	vpn_memzero(auth, sizeof(auth));
	/* Only when we hold no other SA with this peer (RFC 7296 2.4): with
	 * simultaneous initiation the peer's SA must survive. */
	if (!conn_has_other_sa(sa))
		ike_add_notify(&b, 0, NULL, 0, IKE_N_INITIAL_CONTACT, NULL, 0);
	add_child_sa(&b, sa, sa->auth_spi_in, true);
	ike_add_ts(&b, IKE_PL_TSI, conn->local_ts, conn->n_local_ts);
	ike_add_ts(&b, IKE_PL_TSR, conn->remote_ts, conn->n_remote_ts);
	sa_set_state(sa, IKE_SA_AUTH_SENT);
	return send_request(sa, IKE_AUTH, &b, REQ_AUTH, 0);
}

static bool id_matches(const struct ike_sa *sa, const struct ike_id *got)
{
	uint8_t type, data[256];
	size_t len;

	remote_id(sa, &type, data, &len);
	return got->type == type && got->len == len &&
	       memcmp(got->data, data, len) == 0;
}

static bool auth_verify(struct ike_sa *sa, bool peer_is_initiator,
			const struct ike_msg *msg)
{
	const struct ike_id *id = peer_is_initiator ? &msg->idi : &msg->idr;
	uint8_t want[VPN_PRF_MAX_LEN];
	bool ok;

	if (!msg->has_auth || msg->auth.method != IKE_AUTH_PSK ||
	    msg->auth.len != sa->keys.prf_len)
		return false;
	if (compute_auth(sa, peer_is_initiator, id->body, id->bodylen,
			 want) < 0)
		return false;
	ok = vpn_memeq(want, msg->auth.data, sa->keys.prf_len);
	vpn_memzero(want, sizeof(want));
	return ok;
}

/* The peer's ID is the configured one and its AUTH proves the key;
 * otherwise the failure is logged with its reason (never the key). */
static bool peer_authenticated(struct ike_sa *sa, const struct ike_msg *msg,
			       bool peer_is_initiator)
{
	const struct ike_id *id = peer_is_initiator ? &msg->idi : &msg->idr;
	bool has = peer_is_initiator ? msg->has_idi : msg->has_idr;
	bool id_ok = has && id_matches(sa, id);
	char ids[300];

	if (id_ok && auth_verify(sa, peer_is_initiator, msg))
		return true;
	if (has)
		id_str(id->type, id->data, id->len, ids, sizeof(ids));
	SALOG(sa, LOG_WARNING,
	      "IKE_AUTH failed: authentication failed: peer identity '%s' %s",
	      has ? ids : "(none)",
	      id_ok ? "did not prove the pre-shared key"
		    : "is not the configured remote-id");
	return false;
}

static void sa_established(struct ike_sa *sa)
{
	uint64_t t = now(sa->eng);

	sa_set_state(sa, IKE_SA_ESTABLISHED);
	/* IKE_SA_INIT's messages served AUTH and its retransmissions */
	free(sa->init_req);
	free(sa->init_resp);
	sa->init_req = sa->init_resp = NULL;
	sa->init_req_len = sa->init_resp_len = 0;
	sa->established_ms = t;
	sa->last_rx_ms = t;
	sa->keepalive_ms = t + IKE_KEEPALIVE_MS;
	sa->rekey_ms = rekey_deadline(t, sa->conn->ike_lifetime);
	sa->expire_ms = expire_deadline(t, sa->conn->ike_lifetime);
	if (sa->eng->ops.sa_event)
		sa->eng->ops.sa_event(sa->eng->host, sa, NULL);
}

/*
 * Both gateways initiated at once: each has an IKE SA it started and one
 * the peer started, both established, for one connection (twice the state
 * and the rekeys, for nothing). The IKE SA started by the higher address
 * goes, and that side sends its DELETE: both agree without a message of
 * their own. Rekeys (a superseded SA) are not duplicates. Called once an
 * IKE_AUTH has made sa established, its Child SA installed.
 */
static void dup_resolve(struct ike_sa *sa)
{
	struct ike_sa *o, *mine = NULL;
	size_t alen = ike_addr_len(&sa->local);

	/* Our own attempt, still unanswered (a responder limiting half-open
	 * SAs per address may hold it back a long while), is not needed any
	 * more: it would only come up as a duplicate later. */
	conn_for_each_sa(sa->eng, sa->conn, o)
		if (o != sa && o->initiator && o->state == IKE_SA_INIT_SENT) {
			SALOG(o, LOG_INFO,
			      "IKE SA attempt abandoned: the connection is up");
			sa_kill(o, NULL);
		}
	if (sa->local.family != sa->remote.family ||
	    memcmp(sa->local.addr, sa->remote.addr, alen) <= 0)
		return; /* the peer's to resolve */
	conn_for_each_sa(sa->eng, sa->conn, o)
		if (o != sa && o->state == IKE_SA_ESTABLISHED &&
		    !o->superseded && !o->pending_delete_ike &&
		    o->initiator != sa->initiator) {
			mine = sa->initiator ? sa : o;
			break;
		}
	if (!mine)
		return;
	SALOG(mine, LOG_INFO,
	      "duplicate IKE SA: both sides initiated; deleting the one we started");
	mine->reason = "duplicate (the peer's IKE SA is kept)";
	mine->pending_delete_ike = true;
	sa_touched(mine);
}

/* INITIAL_CONTACT: the peer forgot every other SA we share with it. */
static void initial_contact(struct ike_sa *sa)
{
	/* the main list: sa_kill() calls the host, which may make SAs */
	for (struct ike_sa *o = sa->eng->sas; o; o = o->next)
		if (o != sa && o->conn == sa->conn &&
		    o->state == IKE_SA_ESTABLISHED) {
			SALOG(o, LOG_INFO,
			      "peer sent INITIAL_CONTACT: dropping the previous IKE SA");
			sa_kill(o, "replaced after peer restart");
		}
}

/* Responder: our IDr, and AUTH proving the key; false when AUTH cannot
 * be computed. */
static bool auth_add_own(struct ike_sa *sa, struct ike_buf *b)
{
	uint8_t idt, idd[256], idb[260], auth[VPN_PRF_MAX_LEN];
	size_t idl, idbl;

	local_id(sa, &idt, idd, &idl);
	idbl = id_body(idt, idd, idl, idb);
	if (compute_auth(sa, false, idb, idbl, auth) < 0)
		return false;
	ike_add_id(b, IKE_PL_IDR, idt, idd, idl);
	ike_add_auth(b, IKE_AUTH_PSK, auth, sa->keys.prf_len);
	vpn_memzero(auth, sizeof(auth));
	return true;
}

/*
 * Responder: the peer authenticated but its Child SA cannot be made (no
 * proposal chosen, or selectors or SPI unusable). The answer keeps IDr
 * and AUTH in `b`, since the IKE SA itself is fine (RFC 7296 1.2); being
 * route-based, we then delete that useless IKE SA.
 */
static void auth_child_refused(struct ike_sa *sa, const struct ike_msg *msg,
			       struct ike_buf *b, bool proposal_chosen)
{
	struct ike_conn *conn = sa->conn;

	if (!proposal_chosen) {
		char why[2100];

		props_mismatch_str(&msg->sa, conn->esp_props, conn->n_esp_props,
				   why, sizeof(why));
		SALOG(sa, LOG_WARNING, "Child SA failed: no proposal chosen; %s",
		      why);
	} else {
		SALOG(sa, LOG_WARNING,
		      "Child SA failed: traffic selectors unacceptable");
	}
	respond_notify(sa, msg, b,
		       proposal_chosen ? IKE_N_TS_UNACCEPTABLE
				       : IKE_N_NO_PROPOSAL_CHOSEN,
		       NULL, 0);
	sa_established(sa);
	sa->pending_delete_ike = true;
}

/* Responder: IKE_AUTH request (already decrypted). */
static void auth_handle_request(struct ike_sa *sa, struct ike_msg *msg)
{
	struct ike_conn *conn = sa->conn;
	uint8_t inner_mem[IKE_MSG_MAX], spi[4];
	struct ike_ts_payload local, remote;
	const struct ike_proposal *chosen = NULL;
	struct ike_choice c;
	struct ike_buf b;
	uint32_t spi_in;
	bool ts_ok;
	char ids[300];

	if (!peer_authenticated(sa, msg, true)) {
		respond_error(sa, msg, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
		sa_kill(sa, "authentication failed");
		return;
	}
	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	if (!auth_add_own(sa, &b)) {
		sa_kill(sa, "AUTH computation failed");
		return;
	}
	if (msg->has_sa)
		chosen = prop_select(&msg->sa, conn->esp_props,
				     conn->n_esp_props, IKE_PROTO_ESP, true, 0,
				     &c);
	ts_ok = ts_narrow_request(sa, msg, &local, &remote);
	if (!chosen || chosen->spi_size != 4 || !ts_ok) {
		auth_child_refused(sa, msg, &b, chosen != NULL);
		return;
	}
	spi_in = sa->eng->ops.alloc_spi(sa->eng->host);
	vpn_put_be32(spi, spi_in);
	add_chosen_sa(&b, &c, chosen, spi, 4);
	add_ts_answer(&b, &local, &remote);
	send_response(sa, IKE_AUTH, msg->hdr.msgid, &b);

	sa_established(sa);
	id_str(msg->idi.type, msg->idi.data, msg->idi.len, ids, sizeof(ids));
	SALOG(sa, LOG_INFO, "IKE SA established with '%s' (responder)", ids);
	child_install(sa, &c, spi_in, vpn_get_be32(chosen->spi),
		      CH_AUTH_RESPONDER, NULL, 0,
		      sa->ni, sa->nilen, sa->nr, sa->nrlen, local.ts, local.nts,
		      remote.ts, remote.nts);
	/* The peer restarted: drop what we still hold from before, after the
	 * new Child SA is in (the interface keeps its carrier). */
	if (ike_msg_notify(msg, IKE_N_INITIAL_CONTACT))
		initial_contact(sa);
	dup_resolve(sa);
}

/* Initiator: IKE_AUTH response (already decrypted). */
static void auth_handle_response(struct ike_sa *sa, struct ike_msg *msg)
{
	struct ike_conn *conn = sa->conn;
	const struct ike_proposal *chosen;
	struct ike_choice c;
	char ids[300];

	req_done(sa);
	if (ike_msg_notify(msg, IKE_N_AUTHENTICATION_FAILED)) {
		SALOG(sa, LOG_WARNING,
		      "IKE_AUTH failed: authentication failed: the peer refused our pre-shared key or identity");
		sa_kill(sa, "authentication failed (refused by peer)");
		return;
	}
	if (!peer_authenticated(sa, msg, false)) {
		sa_kill(sa, "authentication failed");
		return;
	}
	sa_established(sa);
	id_str(msg->idr.type, msg->idr.data, msg->idr.len, ids, sizeof(ids));
	SALOG(sa, LOG_INFO, "IKE SA established with '%s' (initiator)", ids);

	/* TS_UNACCEPTABLE first: such an answer has no SA payload either */
	if (ike_msg_notify(msg, IKE_N_TS_UNACCEPTABLE)) {
		SALOG(sa, LOG_WARNING,
		      "Child SA failed: the peer found our traffic selectors unacceptable");
		sa->pending_delete_ike = true;
		sa->reason = "traffic selectors unacceptable";
		return;
	}
	if (ike_msg_notify(msg, IKE_N_NO_PROPOSAL_CHOSEN) || !msg->has_sa) {
		char ours[1024];

		props_str_ours(conn->esp_props, conn->n_esp_props, ours,
			       sizeof(ours));
		SALOG(sa, LOG_WARNING,
		      "Child SA failed: no proposal chosen: the peer accepted none of %s",
		      ours);
		sa->pending_delete_ike = true;
		sa->reason = "no proposal chosen (Child SA)";
		return;
	}
	chosen = prop_select(&msg->sa, conn->esp_props, conn->n_esp_props,
			     IKE_PROTO_ESP, true, 0, &c);
	if (!chosen || msg->sa.nproposals != 1 || chosen->spi_size != 4 ||
	    !ts_response_ok(sa, msg)) {
		SALOG(sa, LOG_WARNING,
		      "Child SA failed: the peer answered with a proposal or traffic selectors we did not offer");
		sa->pending_delete_ike = true;
		sa->reason = "invalid Child SA response";
		return;
	}
	child_install(sa, &c, sa->auth_spi_in, vpn_get_be32(chosen->spi),
		      CH_AUTH_INITIATOR, NULL, 0, sa->ni, sa->nilen, sa->nr, sa->nrlen,
		      msg->tsi.ts, msg->tsi.nts, msg->tsr.ts, msg->tsr.nts);
	dup_resolve(sa);
}

/* ------------------------------------------------------------------ */
/* INFORMATIONAL                                                       */
/* ------------------------------------------------------------------ */

static void info_handle_request(struct ike_sa *sa, struct ike_msg *msg)
{
	uint8_t inner_mem[IKE_MSG_MAX];
	struct ike_buf b;
	uint8_t spis[4 * IKE_MAX_TS];
	uint16_t nspis = 0;
	bool delete_ike = false;

	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	for (unsigned int i = 0; i < msg->ndelete; i++) {
		const struct ike_delete *d = &msg->del[i];

		if (d->protocol == IKE_PROTO_IKE) {
			delete_ike = true;
			continue;
		}
		if (d->protocol != IKE_PROTO_ESP || d->spi_size != 4)
			continue;
		for (unsigned int k = 0; k < d->nspis; k++) {
			uint32_t spi = vpn_get_be32(d->spis + 4 * k);
			struct ike_child *ch = child_by_spi_out(sa, spi);

			if (!ch)
				continue;
			SALOG(sa, LOG_INFO,
			      "peer deleted Child SA %08x/%08x", ch->spi_in,
			      ch->spi_out);
			if (nspis < sizeof(spis) / 4)
				vpn_put_be32(spis + 4 * nspis++, ch->spi_in);
			child_remove(sa, ch);
		}
	}
	if (nspis)
		ike_add_delete(&b, IKE_PROTO_ESP, 4, spis, nspis);
	send_response(sa, INFORMATIONAL, msg->hdr.msgid, &b);
	if (delete_ike) {
		SALOG(sa, LOG_INFO, "peer deleted the IKE SA");
		sa_kill(sa, "deleted by peer");
	}
}

static void send_delete_ike(struct ike_sa *sa)
{
	uint8_t inner_mem[64];
	struct ike_buf b;

	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	ike_add_delete(&b, IKE_PROTO_IKE, 0, NULL, 0);
	sa_set_state(sa, IKE_SA_DELETING);
	send_request(sa, INFORMATIONAL, &b, REQ_DELETE_IKE,
		     (uint64_t)sa->eng->retx_base_ms * 4);
}

static void send_delete_child(struct ike_sa *sa, uint32_t spi_in)
{
	uint8_t inner_mem[64], spi[4];
	struct ike_buf b;

	vpn_put_be32(spi, spi_in);
	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	ike_add_delete(&b, IKE_PROTO_ESP, 4, spi, 1);
	send_request(sa, INFORMATIONAL, &b, REQ_DELETE_CHILD, 0);
	sa->rk.old_spi_in = spi_in;
}

static void send_dpd(struct ike_sa *sa)
{
	uint8_t inner_mem[16];
	struct ike_buf b;

	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	send_request(sa, INFORMATIONAL, &b, REQ_DPD,
		     (uint64_t)sa->conn->dpd_timeout * 1000);
}

/* ------------------------------------------------------------------ */
/* CREATE_CHILD_SA: rekeying                                           */
/* ------------------------------------------------------------------ */

static int nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* The lower of an exchange's two nonces. */
static void nonce_min(const uint8_t *a, size_t alen, const uint8_t *b,
		      size_t blen, uint8_t *out, size_t *outlen)
{
	if (nonce_cmp(a, alen, b, blen) <= 0) {
		memcpy(out, a, alen);
		*outlen = alen;
	} else {
		memcpy(out, b, blen);
		*outlen = blen;
	}
}

/* Record the peer's exchange that collided with ours. */
static void coll_record(struct ike_sa *sa, const uint8_t *ni, size_t nilen,
			const uint8_t *nr, size_t nrlen)
{
	sa->coll.active = true;
	nonce_min(ni, nilen, nr, nrlen, sa->coll.nmin, &sa->coll.nminlen);
}

/* After our colliding exchange completed: true when ours created the
 * redundant SA (it holds the lowest of the four nonces). */
static bool coll_we_lose(struct ike_sa *sa, const uint8_t *peer_nr,
			 size_t peer_nrlen)
{
	uint8_t ours[IKE_NONCE_LEN * 8];
	size_t ourslen;

	nonce_min(sa->rk.ni, sizeof(sa->rk.ni), peer_nr, peer_nrlen, ours,
		  &ourslen);
	return nonce_cmp(ours, ourslen, sa->coll.nmin, sa->coll.nminlen) < 0;
}

static bool esp_pfs_group(const struct ike_conn *conn, uint16_t *group)
{
	*group = first_dh(conn->esp_props, conn->n_esp_props);
	return *group != 0;
}

static int rekey_child_start(struct ike_sa *sa)
{
	struct ike_child *old = child_current(sa);
	uint8_t inner_mem[IKE_MSG_MAX], spi[4];
	uint8_t pub[VPN_DH_MAX_PUB];
	struct ike_buf b;
	uint16_t group;

	if (!old)
		return -1;
	memset(&sa->rk, 0, sizeof(sa->rk));
	sa->rk.old_spi_in = old->spi_in;
	sa->rk.new_spi_in = sa->eng->ops.alloc_spi(sa->eng->host);
	vpn_random(sa->rk.ni, sizeof(sa->rk.ni));
	vpn_put_be32(spi, old->spi_in);

	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	ike_add_notify(&b, IKE_PROTO_ESP, spi, 4, IKE_N_REKEY_SA, NULL, 0);
	add_child_sa(&b, sa, sa->rk.new_spi_in, false);
	ike_add_nonce(&b, sa->rk.ni, sizeof(sa->rk.ni));
	if (esp_pfs_group(sa->conn, &group)) {
		size_t publen = vpn_dh_pub_len(group);

		sa->rk.dh = vpn_dh_new(group);
		if (!sa->rk.dh || vpn_dh_public(sa->rk.dh, pub, publen) < 0)
			return -1;
		ike_add_ke(&b, group, pub, publen);
	}
	ike_add_ts(&b, IKE_PL_TSI, sa->conn->local_ts, sa->conn->n_local_ts);
	ike_add_ts(&b, IKE_PL_TSR, sa->conn->remote_ts, sa->conn->n_remote_ts);
	SALOG(sa, LOG_INFO, "rekeying Child SA %08x", old->spi_in);
	return send_request(sa, CREATE_CHILD_SA, &b, REQ_REKEY_CHILD, 0);
}

static int rekey_ike_start(struct ike_sa *sa)
{
	struct ike_proposal props[IKE_CONN_MAX_PROPOSALS];
	uint8_t inner_mem[IKE_MSG_MAX], spi[8], pub[VPN_DH_MAX_PUB];
	struct ike_buf b;
	uint16_t group = sa->dh;
	size_t publen = vpn_dh_pub_len(group);

	memset(&sa->rk, 0, sizeof(sa->rk));
	sa->rk.new_spi_ike = new_spi64(sa->eng);
	vpn_random(sa->rk.ni, sizeof(sa->rk.ni));
	sa->rk.dh = vpn_dh_new(group);
	if (!sa->rk.dh || vpn_dh_public(sa->rk.dh, pub, publen) < 0)
		return -1;
	vpn_put_be64(spi, sa->rk.new_spi_ike);
	for (unsigned int i = 0; i < sa->conn->n_ike_props; i++)
		prop_to_wire(&sa->conn->ike_props[i], i + 1, IKE_PROTO_IKE, spi,
			     8, false, &props[i]);
	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	ike_add_sa(&b, props, sa->conn->n_ike_props);
	ike_add_nonce(&b, sa->rk.ni, sizeof(sa->rk.ni));
	ike_add_ke(&b, group, pub, publen);
	SALOG(sa, LOG_INFO, "rekeying IKE SA");
	return send_request(sa, CREATE_CHILD_SA, &b, REQ_REKEY_IKE, 0);
}

/* Move every Child SA of `from` to `to` (IKE SA rekey). */
static void children_move(struct ike_sa *from, struct ike_sa *to)
{
	for (int i = 0; i < IKE_MAX_CHILDREN; i++) {
		if (!from->child[i].used)
			continue;
		for (int j = 0; j < IKE_MAX_CHILDREN; j++)
			if (!to->child[j].used) {
				to->child[j] = from->child[i];
				break;
			}
		from->child[i].used = false;
	}
}

/*
 * The new IKE SA of a rekey: takes over the children, new SPIs and keys,
 * message IDs from 0. `we_initiated`: we started the rekey exchange, and
 * become the new SA's original initiator.
 */
static struct ike_sa *ike_rekeyed_sa(struct ike_sa *old, bool we_initiated,
				     uint64_t spi_i, uint64_t spi_r,
				     const struct ike_choice *c,
				     const uint8_t *ni, size_t nilen,
				     const uint8_t *nr, size_t nrlen,
				     const uint8_t *gir, size_t girlen)
{
	struct ike_sa *sa = sa_new(old->eng, old->conn, we_initiated);

	if (!sa)
		return NULL;
	sa->spi_i = spi_i;
	sa->spi_r = spi_r;
	sa_index(sa);
	sa->local = old->local;
	sa->remote = old->remote;
	sa_set_transforms(sa, c);
	sa->nilen = nilen;
	memcpy(sa->ni, ni, nilen);
	sa->nrlen = nrlen;
	memcpy(sa->nr, nr, nrlen);
	if (sa_setup_keys(sa, gir, girlen, old->prf, old->keys.sk_d,
			  old->keys.prf_len) < 0) {
		sa_kill(sa, "key derivation failed");
		return NULL;
	}
	children_move(old, sa);
	sa->msgid_in = 0;
	sa->msgid_out = 0;
	sa_established(sa);
	return sa;
}

/*
 * What we answer a CREATE_CHILD_SA request with: the peer's proposal we
 * chose, our nonce and, when the choice has a DH group, our public value
 * and the shared secret (wiped once used).
 */
struct ccsa_answer {
	const struct ike_proposal *chosen;
	struct ike_choice c;
	uint8_t nr[IKE_NONCE_LEN];
	uint8_t pub[VPN_DH_MAX_PUB], gir[VPN_DH_MAX_PUB];
	size_t publen, girlen;
};

/* A well-formed request we are free to serve; otherwise answered with
 * INVALID_SYNTAX, or TEMPORARY_FAILURE while this SA is being replaced or
 * we run a rekey of the other kind (`conflicting`, RFC 7296 2.25). */
static bool ccsa_request_ok(struct ike_sa *sa, const struct ike_msg *msg,
			    enum ike_req_kind conflicting)
{
	if (!msg->has_sa || !has_valid_nonce(msg)) {
		respond_error(sa, msg, IKE_N_INVALID_SYNTAX, NULL, 0);
		return false;
	}
	if (sa->superseded || sa->req_kind == conflicting) {
		respond_error(sa, msg, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return false;
	}
	return true;
}

/* Choose among the peer's proposals (`what` names the SA in logs); on no
 * match, or a KE for another group than the chosen one, answer the
 * error. */
static bool ccsa_choose(struct ike_sa *sa, const struct ike_msg *msg,
			const struct vpn_proposal *ours, unsigned int nours,
			uint8_t protocol, const char *what,
			struct ccsa_answer *ans)
{
	struct ike_choice *c = &ans->c;

	ans->chosen = prop_select(&msg->sa, ours, nours, protocol, false,
				  msg->has_ke ? msg->ke.group : 0, c);
	if (!ans->chosen) {
		SALOG(sa, LOG_WARNING, "%s rekey refused: no proposal chosen",
		      what);
		respond_error(sa, msg, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		return false;
	}
	if (c->has_dh && (!msg->has_ke || msg->ke.group != c->dh)) {
		uint8_t g[2];

		vpn_put_be16(g, c->dh);
		respond_error(sa, msg, IKE_N_INVALID_KE_PAYLOAD, g, 2);
		return false;
	}
	return true;
}

/* Our nonce, and with a DH group our key pair and g^ir (the private key
 * is freed here); a KE we cannot use is answered with INVALID_SYNTAX. */
static bool ccsa_key_exchange(struct ike_sa *sa, const struct ike_msg *msg,
			      struct ccsa_answer *ans)
{
	struct vpn_dh *dh;
	bool ok;

	ans->publen = ans->girlen = 0;
	vpn_random(ans->nr, sizeof(ans->nr));
	if (!ans->c.has_dh)
		return true;
	dh = vpn_dh_new(ans->c.dh);
	ans->publen = vpn_dh_pub_len(ans->c.dh);
	ok = dh && vpn_dh_public(dh, ans->pub, ans->publen) >= 0 &&
	     vpn_dh_shared(dh, msg->ke.data, msg->ke.len, ans->gir,
			   &ans->girlen) >= 0;
	vpn_dh_free(dh);
	if (!ok)
		respond_error(sa, msg, IKE_N_INVALID_SYNTAX, NULL, 0);
	return ok;
}

/* Our SA payload (the chosen proposal under our SPI) and our nonce. */
static void add_answer_sa_nonce(struct ike_buf *b,
				const struct ccsa_answer *ans,
				const uint8_t *spi, uint8_t spisize)
{
	add_chosen_sa(b, &ans->c, ans->chosen, spi, spisize);
	ike_add_nonce(b, ans->nr, sizeof(ans->nr));
}

/* Send the IKE SA rekey response: SA under our new SPI, Nr, KEr. */
static void ike_rekey_respond(struct ike_sa *sa, const struct ike_msg *msg,
			      const struct ccsa_answer *ans, uint64_t new_spi)
{
	uint8_t inner_mem[IKE_MSG_MAX], spi8[8];
	struct ike_buf b;

	vpn_put_be64(spi8, new_spi);
	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	add_answer_sa_nonce(&b, ans, spi8, 8);
	ike_add_ke(&b, ans->c.dh, ans->pub, ans->publen);
	send_response(sa, CREATE_CHILD_SA, msg->hdr.msgid, &b);
}

/*
 * The peer rekeys this IKE SA (RFC 7296 1.3.2): answer, and make the new
 * SA, which takes the children. The peer then deletes this one. When we
 * are rekeying it too, the collision is settled when ours ends (2.8.2).
 */
static void ike_rekey_handle_request(struct ike_sa *sa, struct ike_msg *msg)
{
	struct ike_conn *conn = sa->conn;
	struct ccsa_answer ans;
	struct ike_sa *nsa;
	uint64_t new_spi;

	if (!ccsa_request_ok(sa, msg, REQ_REKEY_CHILD) ||
	    !ccsa_choose(sa, msg, conn->ike_props, conn->n_ike_props,
			 IKE_PROTO_IKE, "IKE SA", &ans) ||
	    !ccsa_key_exchange(sa, msg, &ans))
		return;
	/* Without an IKE SPI there is nothing to build: left unanswered. */
	if (ans.chosen->spi_size != 8) {
		vpn_memzero(ans.gir, sizeof(ans.gir));
		return;
	}
	new_spi = new_spi64(sa->eng);
	ike_rekey_respond(sa, msg, &ans, new_spi);
	nsa = ike_rekeyed_sa(sa, false, vpn_get_be64(ans.chosen->spi), new_spi,
			     &ans.c, msg->nonce.data, msg->nonce.len, ans.nr,
			     sizeof(ans.nr), ans.gir, ans.girlen);
	vpn_memzero(ans.gir, sizeof(ans.gir));
	if (!nsa)
		return;
	if (sa->req_kind == REQ_REKEY_IKE) {
		coll_record(sa, msg->nonce.data, msg->nonce.len, ans.nr,
			    sizeof(ans.nr));
		sa->coll.ike_sa = nsa;
	} else {
		sa->superseded = true;
	}
	SALOG(sa, LOG_INFO,
	      "IKE SA rekeyed by peer; waiting for the old one's DELETE");
}

/* The Child SA a REKEY_SA notify names (by the peer's inbound SPI, our
 * outbound one), or NULL. */
static struct ike_child *child_to_rekey(struct ike_sa *sa,
					const struct ike_notify *rn)
{
	if (!rn || rn->spi_size != 4)
		return NULL;
	return child_by_spi_out(sa, vpn_get_be32(rn->spi));
}

/* Send the Child SA rekey response: SA under spi_in, Nr, [KEr], TSi,
 * TSr. */
static void child_rekey_respond(struct ike_sa *sa, const struct ike_msg *msg,
				const struct ccsa_answer *ans, uint32_t spi_in,
				const struct ike_ts_payload *local,
				const struct ike_ts_payload *remote)
{
	uint8_t inner_mem[IKE_MSG_MAX], spi4[4];
	struct ike_buf b;

	vpn_put_be32(spi4, spi_in);
	ike_build_inner(&b, inner_mem, sizeof(inner_mem));
	add_answer_sa_nonce(&b, ans, spi4, 4);
	if (ans->c.has_dh)
		ike_add_ke(&b, ans->c.dh, ans->pub, ans->publen);
	add_ts_answer(&b, local, remote);
	send_response(sa, CREATE_CHILD_SA, msg->hdr.msgid, &b);
}

/*
 * The peer rekeys one of our Child SAs (RFC 7296 2.8): answer, install
 * the new SA; the old one stays until the peer, which started the rekey,
 * deletes it. A Child SA besides ours is refused: route-based connections
 * carry everything in one.
 */
static void child_handle_request(struct ike_sa *sa, struct ike_msg *msg)
{
	struct ike_conn *conn = sa->conn;
	const struct ike_notify *rn = ike_msg_notify(msg, IKE_N_REKEY_SA);
	struct ike_ts_payload local, remote;
	struct ccsa_answer ans;
	struct ike_child *old;
	uint32_t spi_in;

	if (!ccsa_request_ok(sa, msg, REQ_REKEY_IKE) ||
	    !ccsa_choose(sa, msg, conn->esp_props, conn->n_esp_props,
			 IKE_PROTO_ESP, "Child SA", &ans))
		return;
	old = child_to_rekey(sa, rn);
	if (!old) {
		respond_error(sa, msg,
			      rn ? IKE_N_CHILD_SA_NOT_FOUND
				 : IKE_N_NO_ADDITIONAL_SAS,
			      NULL, 0);
		return;
	}
	/* RFC 7296 2.25.1: a rekey of a Child SA we are closing gets
	 * TEMPORARY_FAILURE (answered, it would outlive our DELETE). */
	if (old->closing) {
		SALOG(sa, LOG_INFO,
		      "Child SA %08x rekey refused: we are deleting it",
		      old->spi_in);
		respond_error(sa, msg, IKE_N_TEMPORARY_FAILURE, NULL, 0);
		return;
	}
	if (!ccsa_key_exchange(sa, msg, &ans))
		return;
	spi_in = sa->eng->ops.alloc_spi(sa->eng->host);
	if (!ts_narrow_request(sa, msg, &local, &remote)) {
		respond_error(sa, msg, IKE_N_TS_UNACCEPTABLE, NULL, 0);
		vpn_memzero(ans.gir, sizeof(ans.gir));
		return;
	}
	child_rekey_respond(sa, msg, &ans, spi_in, &local, &remote);
	child_install(sa, &ans.c, spi_in, vpn_get_be32(ans.chosen->spi),
		      CH_REKEY_RESPONDER,
		      ans.c.has_dh ? ans.gir : NULL, ans.girlen,
		      msg->nonce.data, msg->nonce.len, ans.nr, sizeof(ans.nr),
		      local.ts, local.nts, remote.ts, remote.nts);
	vpn_memzero(ans.gir, sizeof(ans.gir));
	old->rekeyed = true;
	/* We are rekeying the same SA: decided when ours ends (2.8.1). */
	if (sa->req_kind == REQ_REKEY_CHILD &&
	    old->spi_in == sa->rk.old_spi_in) {
		coll_record(sa, msg->nonce.data, msg->nonce.len, ans.nr,
			    sizeof(ans.nr));
		sa->coll.child_spi_in = spi_in;
	}
}

/* A CREATE_CHILD_SA request: an IKE SA rekey when it proposes IKE,
 * otherwise a Child SA (only rekeys are accepted). */
static void ccsa_handle_request(struct ike_sa *sa, struct ike_msg *msg)
{
	if (msg->has_sa && msg->sa.nproposals &&
	    msg->sa.proposals[0].protocol == IKE_PROTO_IKE)
		ike_rekey_handle_request(sa, msg);
	else
		child_handle_request(sa, msg);
}

/* Our CREATE_CHILD_SA exchange is over: its key pair goes. */
static void rk_dh_free(struct ike_sa *sa)
{
	if (sa->rk.dh) {
		vpn_dh_free(sa->rk.dh);
		sa->rk.dh = NULL;
	}
}

/* Our rekey of `kind` failed: try again later; the old SA still works
 * until it expires. */
static void rekey_retry_later(struct ike_sa *sa, enum ike_req_kind kind)
{
	struct ike_child *old;

	rk_dh_free(sa);
	if (kind == REQ_REKEY_IKE) {
		sa->rekey_ms = now(sa->eng) + IKE_REKEY_RETRY_MS;
		return;
	}
	old = child_by_spi_in(sa, sa->rk.old_spi_in);
	if (old)
		old->rekey_ms = now(sa->eng) + IKE_REKEY_RETRY_MS;
}

/*
 * Both sides rekeyed this IKE SA at once (RFC 7296 2.8.2): the new SA
 * created with the lowest nonce is redundant, and its initiator deletes
 * it. True when ours, `nsa`, is kept (it takes the children of the
 * peer's, which the peer deletes).
 */
static bool ike_rekey_collision_keep_ours(struct ike_sa *sa,
					  struct ike_sa *nsa,
					  const struct ike_msg *msg)
{
	struct ike_sa *o;

	sa->coll.active = false;
	for (o = sa->eng->sas; o && o != sa->coll.ike_sa; o = o->next)
		;
	if (coll_we_lose(sa, msg->nonce.data, msg->nonce.len) || !o) {
		/* the peer deletes the old SA */
		SALOG(nsa, LOG_INFO,
		      "simultaneous IKE SA rekey: ours is redundant, deleting it");
		if (o)
			children_move(nsa, o);
		sa_touched(o);
		nsa->pending_delete_ike = true;
		return false;
	}
	SALOG(nsa, LOG_INFO, "simultaneous IKE SA rekey: keeping ours");
	children_move(o, nsa);
	o->superseded = true;
	sa_touched(o);
	return true;
}

/* The answer to our IKE SA rekey: make the new SA (it takes the
 * children), then delete this one. */
static void ike_rekey_handle_response(struct ike_sa *sa, struct ike_msg *msg)
{
	struct ike_conn *conn = sa->conn;
	const struct ike_proposal *chosen;
	struct ike_choice c;
	uint8_t gir[VPN_DH_MAX_PUB];
	size_t girlen = 0;
	struct ike_sa *nsa;

	chosen = prop_select(&msg->sa, conn->ike_props, conn->n_ike_props,
			     IKE_PROTO_IKE, false,
			     msg->has_ke ? msg->ke.group : 0, &c);
	if (!chosen || chosen->spi_size != 8 || !msg->has_ke ||
	    c.dh != vpn_dh_group(sa->rk.dh) ||
	    vpn_dh_shared(sa->rk.dh, msg->ke.data, msg->ke.len, gir,
			  &girlen) < 0) {
		rekey_retry_later(sa, REQ_REKEY_IKE);
		return;
	}
	nsa = ike_rekeyed_sa(sa, true, sa->rk.new_spi_ike,
			     vpn_get_be64(chosen->spi), &c, sa->rk.ni,
			     sizeof(sa->rk.ni), msg->nonce.data, msg->nonce.len,
			     gir, girlen);
	vpn_memzero(gir, sizeof(gir));
	rk_dh_free(sa);
	if (!nsa)
		return;
	sa->superseded = true;
	if (sa->coll.active && !ike_rekey_collision_keep_ours(sa, nsa, msg))
		return;
	SALOG(nsa, LOG_INFO, "IKE SA rekeyed");
	/* Delete the old IKE SA (its children moved). */
	sa->pending_delete_ike = true;
}

/*
 * Both sides rekeyed the same Child SA at once (RFC 7296 2.8.1): the new
 * SA created with the lowest nonce is redundant, and its initiator
 * deletes it. True when ours lost: it is marked for deletion, and the
 * peer's, now the current one, deletes the old SA.
 */
static bool child_rekey_collision_lost(struct ike_sa *sa,
				       const struct ike_msg *msg)
{
	struct ike_child *mine = child_by_spi_in(sa, sa->rk.new_spi_in);
	struct ike_child *theirs = child_by_spi_in(sa, sa->coll.child_spi_in);

	sa->coll.active = false;
	if (coll_we_lose(sa, msg->nonce.data, msg->nonce.len)) {
		SALOG(sa, LOG_INFO,
		      "simultaneous Child SA rekey: ours is redundant, deleting it");
		if (mine) {
			mine->rekeyed = true;
			sa->pending_delete_spi = mine->spi_in;
		}
		if (theirs)
			theirs->created_ms = now(sa->eng);
		return true;
	}
	SALOG(sa, LOG_INFO, "simultaneous Child SA rekey: keeping ours");
	if (theirs)
		theirs->rekeyed = true;
	return false;
}

/* Our Child SA rekey installed the new SA: settle a collision, then
 * delete the old SA (make-before-break). */
static void child_rekey_installed(struct ike_sa *sa, const struct ike_msg *msg)
{
	struct ike_child *old = child_by_spi_in(sa, sa->rk.old_spi_in);

	if (sa->coll.active && child_rekey_collision_lost(sa, msg))
		return;
	if (old) {
		old->rekeyed = true;
		sa->pending_delete_spi = old->spi_in;
	}
}

/* The answer to our Child SA rekey: install the new SA. */
static void child_rekey_handle_response(struct ike_sa *sa,
					struct ike_msg *msg)
{
	struct ike_conn *conn = sa->conn;
	const struct ike_proposal *chosen;
	struct ike_choice c;
	uint8_t gir[VPN_DH_MAX_PUB];
	size_t girlen = 0;

	chosen = prop_select(&msg->sa, conn->esp_props, conn->n_esp_props,
			     IKE_PROTO_ESP, false,
			     msg->has_ke ? msg->ke.group : 0, &c);
	if (!chosen || chosen->spi_size != 4 || !ts_response_ok(sa, msg) ||
	    (c.has_dh &&
	     (!sa->rk.dh || !msg->has_ke || c.dh != vpn_dh_group(sa->rk.dh) ||
	      vpn_dh_shared(sa->rk.dh, msg->ke.data, msg->ke.len, gir,
			    &girlen) < 0))) {
		rekey_retry_later(sa, REQ_REKEY_CHILD);
		return;
	}
	if (child_install(sa, &c, sa->rk.new_spi_in, vpn_get_be32(chosen->spi),
			  CH_REKEY_INITIATOR, c.has_dh ? gir : NULL, girlen, sa->rk.ni,
			  sizeof(sa->rk.ni), msg->nonce.data, msg->nonce.len,
			  msg->tsi.ts, msg->tsi.nts, msg->tsr.ts,
			  msg->tsr.nts) == 0)
		child_rekey_installed(sa, msg);
	vpn_memzero(gir, sizeof(gir));
	rk_dh_free(sa);
}

/* The answer to our CREATE_CHILD_SA request (a rekey of either kind). */
static void ccsa_handle_response(struct ike_sa *sa, struct ike_msg *msg)
{
	enum ike_req_kind kind = sa->req_kind;

	req_done(sa);
	if (ike_msg_notify(msg, IKE_N_INVALID_KE_PAYLOAD)) {
		SALOG(sa, LOG_INFO, "rekey: peer wants another DH group");
		rekey_retry_later(sa, kind);
		return;
	}
	if (!msg->has_sa || msg->sa.nproposals != 1 || !msg->has_nonce) {
		uint16_t type = msg->nnotify ? msg->notify[0].type : 0;

		SALOG(sa, LOG_WARNING, "%s rekey refused by peer (notify %u)",
		      kind == REQ_REKEY_IKE ? "IKE SA" : "Child SA", type);
		rekey_retry_later(sa, kind);
		if (kind == REQ_REKEY_IKE &&
		    ike_msg_notify(msg, IKE_N_TEMPORARY_FAILURE))
			sa->rekey_ms = now(sa->eng) +
				       IKE_REKEY_COLLISION_RETRY_MS;
		return;
	}
	if (kind == REQ_REKEY_IKE)
		ike_rekey_handle_response(sa, msg);
	else
		child_rekey_handle_response(sa, msg);
}

int ike_sa_rekey_child(struct ike_sa *sa)
{
	if (sa->state != IKE_SA_ESTABLISHED || !child_current(sa))
		return -1;
	sa->pending_rekey_child = true;
	sa_touched(sa);
	return 0;
}

int ike_rekey_child_spi(struct ike_engine *eng, uint32_t spi_in)
{
	for (struct ike_sa *sa = eng->sas; sa; sa = sa->next) {
		struct ike_child *ch;

		if (sa->state != IKE_SA_ESTABLISHED || sa->superseded)
			continue;
		ch = child_current(sa);
		if (ch && ch->spi_in == spi_in) {
			SALOG(sa, LOG_INFO,
			      "Child SA %08x reached its volume lifetime",
			      spi_in);
			sa->pending_rekey_child = true;
			sa_touched(sa);
			return 0;
		}
	}
	return -1;
}

int ike_delete_child_spi(struct ike_engine *eng, uint32_t spi_in)
{
	for (struct ike_sa *sa = eng->sas; sa; sa = sa->next) {
		struct ike_child *ch;

		if (sa->state != IKE_SA_ESTABLISHED)
			continue;
		ch = child_by_spi_in(sa, spi_in);
		if (!ch || ch->closing)
			continue;
		SALOG(sa, LOG_INFO, "deleting Child SA %08x", spi_in);
		ch->closing = 1;
		sa_touched(sa);
		return 0;
	}
	return -1;
}

int ike_sa_rekey_ike(struct ike_sa *sa)
{
	if (sa->state != IKE_SA_ESTABLISHED)
		return -1;
	sa->pending_rekey_ike = true;
	sa_touched(sa);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Input                                                               */
/* ------------------------------------------------------------------ */

/* The SA a message's SPIs name, found in O(1) under our own SPI: SPIi
 * when we are the original initiator, SPIr when we answered. */
static struct ike_sa *sa_find(struct ike_engine *eng,
			      const struct ike_header *h)
{
	for (int role = 0; role < 2; role++) {
		uint64_t ours = role ? h->spi_r : h->spi_i;
		uint64_t hash = spi_hash(&eng->by_spi, ours);
		struct ike_hnode *n = ike_htab_first(&eng->by_spi, hash);

		for (; n; n = ike_htab_next(n, hash)) {
			struct ike_sa *sa =
				ike_hnode_entry(n, struct ike_sa, h_spi);

			if (sa->state == IKE_SA_DEAD ||
			    sa->initiator != !role || sa->spi_i != h->spi_i ||
			    sa_our_spi(sa) != ours)
				continue;
			if (sa->spi_r == h->spi_r)
				return sa;
			/* the IKE_SA_INIT response brings the responder's
			 * SPI */
			if (sa->initiator && sa->state == IKE_SA_INIT_SENT &&
			    sa->spi_r == 0 && h->exchange == IKE_SA_INIT)
				return sa;
		}
	}
	return NULL;
}

static void handle_request(struct ike_sa *sa, struct ike_msg *msg)
{
	switch (msg->hdr.exchange) {
	case IKE_AUTH:
		if (sa->state == IKE_SA_RESPONDED)
			auth_handle_request(sa, msg);
		break;
	case INFORMATIONAL:
		if (sa->state >= IKE_SA_ESTABLISHED)
			info_handle_request(sa, msg);
		break;
	case CREATE_CHILD_SA:
		if (sa->state == IKE_SA_ESTABLISHED)
			ccsa_handle_request(sa, msg);
		break;
	}
}

static void handle_response(struct ike_sa *sa, struct ike_msg *msg)
{
	switch (sa->req_kind) {
	case REQ_AUTH:
		auth_handle_response(sa, msg);
		break;
	case REQ_REKEY_CHILD:
	case REQ_REKEY_IKE:
		ccsa_handle_response(sa, msg);
		break;
	case REQ_DELETE_IKE:
		req_done(sa);
		sa_kill(sa, sa->reason ? sa->reason : "deleted");
		break;
	case REQ_DELETE_CHILD: {
		struct ike_child *ch = child_by_spi_in(sa, sa->rk.old_spi_in);

		req_done(sa);
		if (ch)
			child_remove(sa, ch);
		break;
	}
	case REQ_DPD:
	default:
		req_done(sa);
		break;
	}
}

/* Keys are derived once the IKE_SA_INIT exchange is complete: before that
 * (our request sent, no answer yet) the SA has no SK to check anything
 * with. */
static bool sa_has_keys(const struct ike_sa *sa)
{
	return sa->state != IKE_SA_INIT_SENT && sa->state != IKE_SA_DEAD &&
	       sa->sk_in.cipher;
}

/* The exchange our outstanding request belongs to. */
static uint8_t req_exchange(enum ike_req_kind kind)
{
	switch (kind) {
	case REQ_INIT:
		return IKE_SA_INIT;
	case REQ_AUTH:
		return IKE_AUTH;
	case REQ_REKEY_CHILD:
	case REQ_REKEY_IKE:
		return CREATE_CHILD_SA;
	case REQ_DPD:
	case REQ_DELETE_IKE:
	case REQ_DELETE_CHILD:
		return INFORMATIONAL;
	case REQ_NONE:
		break;
	}
	return 0;
}

static void digest_datagram(const uint8_t *buf, size_t len,
			    uint8_t out[VPN_SHA1_LEN])
{
	struct iovec iov = { (void *)buf, len };

	vpn_sha1(&iov, 1, out);
}

/*
 * Message IDs before any cryptography (RFC 7296 2.3): a response must
 * answer our outstanding request (same message ID and exchange); a
 * request must be the next one. The previous request, datagram for
 * datagram, gets our cached answer again, and nothing else does (no
 * amplification by forged retransmissions). False: drop it.
 */
static bool msgid_acceptable(struct ike_sa *sa, const struct ike_msg *msg,
			     const uint8_t *buf, size_t len)
{
	struct ike_stats *st = &sa->eng->stats;
	uint8_t digest[VPN_SHA1_LEN];
	bool ok;

	if (msg->hdr.flags & IKE_FLAG_RESPONSE) {
		ok = sa->req_kind != REQ_NONE &&
		     msg->hdr.msgid == sa->msgid_out &&
		     msg->hdr.exchange == req_exchange(sa->req_kind);
	} else if (msg->hdr.msgid + 1 == sa->msgid_in && sa->have_resp) {
		digest_datagram(buf, len, digest);
		ok = false;
		if (vpn_memeq(digest, sa->resp_req_digest, sizeof(digest))) {
			sa_send(sa, sa->resp, sa->resplen);
			st->retransmits_answered++;
			return false;
		}
	} else {
		ok = msg->hdr.msgid == sa->msgid_in;
	}
	st->drop_unexpected += !ok;
	return ok;
}

void ike_input(struct ike_engine *eng, const struct ike_addr *local,
	       const struct ike_addr *remote, uint8_t *buf, size_t len)
{
	static struct ike_msg msg; /* large; the engine is single-threaded */
	uint8_t digest[VPN_SHA1_LEN];
	struct ike_sa *sa;
	bool response;
	int err;
	char a[64];

	eng->stats.rx++;
	/* before anything reads it (strongSwan's max_packet) */
	if (eng->dos.cfg.max_packet && len > eng->dos.cfg.max_packet) {
		eng->stats.drop_too_large++;
		ulog(eng, LOG_DEBUG,
		     "dropped IKE message from %s: %zu bytes, above %u",
		     addr_str(remote, a, sizeof(a)), len,
		     eng->dos.cfg.max_packet);
		return;
	}
	err = ike_parse(buf, len, &msg);
	if (err != IKE_PARSE_OK) {
		eng->stats.drop_malformed++;
		ulog(eng, LOG_DEBUG, "dropped IKE message from %s: %s",
		     addr_str(remote, a, sizeof(a)), ike_parse_strerror(err));
		return;
	}
	response = msg.hdr.flags & IKE_FLAG_RESPONSE;

	if (msg.hdr.exchange == IKE_SA_INIT && !response) {
		if (msg.hdr.spi_r == 0 && msg.hdr.msgid == 0)
			init_handle_request(eng, local, remote, buf, len,
					    &msg);
		else
			eng->stats.drop_unexpected++;
		sa_reap(eng);
		return;
	}

	sa = sa_find(eng, &msg.hdr);
	if (!sa) {
		eng->stats.drop_unknown_spi++;
		ulog(eng, LOG_DEBUG,
		     "dropped IKE message from %s: unknown SPIs",
		     addr_str(remote, a, sizeof(a)));
		return;
	}

	if (msg.hdr.exchange == IKE_SA_INIT) {
		if (sa->state == IKE_SA_INIT_SENT && sa->req_kind == REQ_INIT &&
		    msg.hdr.msgid == 0 && response)
			init_handle_response(sa, buf, len, &msg);
		else
			eng->stats.drop_unexpected++;
		sa_touched(sa);
		sa_reap(eng);
		return;
	}
	/* An IKE SA without keys takes nothing but the IKE_SA_INIT response
	 * it waits for: anything else could only be unauthenticated. */
	if (!sa_has_keys(sa)) {
		eng->stats.drop_unexpected++;
		return;
	}
	if (!msgid_acceptable(sa, &msg, buf, len))
		return;
	digest_datagram(buf, len, digest);
	if (!msg.has_sk || ike_sk_open(&sa->sk_in, buf, &msg) < 0) {
		eng->stats.drop_integrity++;
		ulog(eng, LOG_DEBUG,
		     "dropped IKE message from %s: integrity check failed",
		     addr_str(remote, a, sizeof(a)));
		return;
	}

	/* Authenticated: the peer is alive, and may have moved (NAT). */
	sa->last_rx_ms = now(eng);
	sa->remote = *remote;
	sa->local = *local;

	if (response) {
		handle_response(sa, &msg);
	} else {
		sa->msgid_in++;
		memcpy(sa->resp_req_digest, digest, sizeof(digest));
		sa->have_resp = false; /* until this request is answered */
		handle_request(sa, &msg);
	}
	sa_touched(sa);
	sa_reap(eng);
}

/* ------------------------------------------------------------------ */
/* Timers                                                              */
/* ------------------------------------------------------------------ */

/* Our outstanding request: give up after its deadline (the peer is dead
 * or unreachable), or retransmit with exponential backoff. */
static void sa_tick_request(struct ike_sa *sa, uint64_t t)
{
	struct ike_engine *eng = sa->eng;
	uint64_t step;
	char a[64];

	if (t >= sa->req_giveup_ms && sa->req_kind == REQ_INIT &&
	    sa->init_refusal) {
		SALOG(sa, LOG_WARNING, "IKE_SA_INIT failed: %s",
		      sa->init_refusal);
		sa_kill(sa, sa->init_refusal);
		return;
	}
	if (t >= sa->req_giveup_ms) {
		if (sa->req_kind == REQ_DPD)
			SALOG(sa, LOG_WARNING,
			      "peer %s is dead: no answer to liveness checks for %u s",
			      addr_str(&sa->remote, a, sizeof(a)),
			      sa->conn->dpd_timeout);
		else
			SALOG(sa, LOG_WARNING,
			      "peer %s unreachable: no answer after %u tries",
			      addr_str(&sa->remote, a, sizeof(a)),
			      sa->req_tries + 1);
		sa_kill(sa, sa->req_kind == REQ_DPD ? "dead peer detected"
						    : "peer unreachable");
		return;
	}
	if (t < sa->req_next_ms)
		return;
	sa->req_tries++;
	step = (uint64_t)eng->retx_base_ms
	       << (sa->req_tries < 16 ? sa->req_tries : 16);
	sa->req_next_ms = t + step;
	sa_send(sa, sa->req, sa->reqlen);
}

/* Child SAs: start a due (or asked for) rekey of the current one; true
 * when a request went out. Otherwise remove replaced ones the peer never
 * deleted, once past their hard expiry. */
static bool sa_tick_children(struct ike_sa *sa, uint64_t t)
{
	uint64_t grace = (uint64_t)sa->eng->retx_base_ms * 64;
	struct ike_child *ch = child_current(sa);

	if (ch && (sa->pending_rekey_child ||
		   (ch->rekey_ms && t >= ch->rekey_ms))) {
		sa->pending_rekey_child = false;
		ch->rekey_ms = 0;
		if (rekey_child_start(sa) < 0)
			ch->rekey_ms = t + IKE_REKEY_RETRY_MS;
		return true;
	}
	for (int i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->child[i].used && sa->child[i].rekeyed &&
		    t >= sa->child[i].created_ms + grace &&
		    t >= sa->child[i].expire_ms)
			child_remove(sa, &sa->child[i]);
	return false;
}

/* An established SA with no request outstanding: start the first queued
 * piece of work (one request at a time, window size 1). */
static void sa_tick_established(struct ike_sa *sa, uint64_t t)
{
	if (sa->superseded && !sa->pending_delete_ike) {
		/* replaced by a rekey; if the peer never deletes it, expire */
		if (t >= sa->last_rx_ms + (uint64_t)sa->eng->retx_base_ms * 64)
			sa_kill(sa, "replaced by rekey");
		return;
	}
	if (sa->pending_delete_ike) {
		sa->pending_delete_ike = false;
		send_delete_ike(sa);
		return;
	}
	if (sa->pending_delete_spi) {
		uint32_t spi = sa->pending_delete_spi;

		sa->pending_delete_spi = 0;
		if (child_by_spi_in(sa, spi)) {
			send_delete_child(sa, spi);
			return;
		}
	}
	for (int i = 0; i < IKE_MAX_CHILDREN; i++)
		if (sa->child[i].used && sa->child[i].closing == 1) {
			sa->child[i].closing = 2;
			send_delete_child(sa, sa->child[i].spi_in);
			return;
		}
	if (!sa->superseded &&
	    (sa->pending_rekey_ike || (sa->rekey_ms && t >= sa->rekey_ms))) {
		sa->pending_rekey_ike = false;
		sa->rekey_ms = 0;
		if (rekey_ike_start(sa) < 0)
			sa->rekey_ms = t + IKE_REKEY_RETRY_MS;
		return;
	}
	if (sa_tick_children(sa, t))
		return;
	if (sa->conn->dpd_interval &&
	    t >= sa->last_rx_ms + (uint64_t)sa->conn->dpd_interval * 1000)
		send_dpd(sa);
}

static void sa_tick(struct ike_sa *sa, uint64_t t)
{
	if (sa->state == IKE_SA_DEAD)
		return;
	/* Half-open responder SAs expire. */
	if (sa->state == IKE_SA_RESPONDED &&
	    t > sa->created_ms + (uint64_t)sa->eng->retx_base_ms * 32) {
		sa->eng->stats.half_open_expired++;
		sa_kill(sa, "half-open IKE SA timed out");
		return;
	}
	if (sa->req_kind != REQ_NONE)
		sa_tick_request(sa, t);
	else if (sa->state == IKE_SA_ESTABLISHED)
		sa_tick_established(sa, t);
}

/*
 * NAT keepalives: vpnd presents itself as behind a NAT (forced UDP
 * encapsulation), so it keeps the mapping alive like a NATed peer would.
 */
static void sa_keepalive(struct ike_sa *sa, uint64_t t)
{
	if (sa->state != IKE_SA_ESTABLISHED || sa->superseded ||
	    t < sa->keepalive_ms || !sa->eng->ops.keepalive)
		return;
	sa->keepalive_ms = t + IKE_KEEPALIVE_MS;
	sa->eng->ops.keepalive(sa->eng->host, &sa->local, &sa->remote);
}

/* The next time sa_tick_established() may act (0: now): a mirror of its
 * conditions. Early is harmless (the SA is looked at, and filed again);
 * late would delay a rekey or a liveness check, so every time it tests
 * has its term here. */
static inline uint64_t u64_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t u64_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t established_deadline(struct ike_sa *sa)
{
	uint64_t grace = (uint64_t)sa->eng->retx_base_ms * 64;
	uint64_t d = UINT64_MAX;
	struct ike_child *ch;

	if (sa->superseded && !sa->pending_delete_ike)
		return sa->last_rx_ms + grace;
	if (sa->pending_delete_ike || sa->pending_delete_spi ||
	    sa->pending_rekey_ike || sa->pending_rekey_child)
		return 0;
	for (int i = 0; i < IKE_MAX_CHILDREN; i++) {
		const struct ike_child *c = &sa->child[i];

		if (!c->used)
			continue;
		if (c->closing == 1)
			return 0;
		if (c->rekeyed)
			d = u64_min(d, u64_max(c->created_ms + grace, c->expire_ms));
	}
	if (!sa->superseded && sa->rekey_ms)
		d = u64_min(d, sa->rekey_ms);
	ch = child_current(sa);
	if (ch && ch->rekey_ms)
		d = u64_min(d, ch->rekey_ms);
	if (sa->conn->dpd_interval)
		d = u64_min(d, sa->last_rx_ms +
				   (uint64_t)sa->conn->dpd_interval * 1000);
	return d;
}

/* The next time sa_tick() or sa_keepalive() may act on the SA. */
static uint64_t sa_deadline(struct ike_sa *sa)
{
	uint64_t d = UINT64_MAX;

	if (sa->state == IKE_SA_RESPONDED)
		d = sa->created_ms + (uint64_t)sa->eng->retx_base_ms * 32 + 1;
	if (sa->req_kind != REQ_NONE)
		d = u64_min(d, u64_min(sa->req_next_ms, sa->req_giveup_ms));
	else if (sa->state == IKE_SA_ESTABLISHED)
		d = u64_min(d, established_deadline(sa));
	if (sa->state == IKE_SA_ESTABLISHED && !sa->superseded &&
	    sa->eng->ops.keepalive)
		d = u64_min(d, sa->keepalive_ms);
	return d;
}

/* File the SA at its next deadline, at the earliest just after t (so a
 * tick never looks at one SA twice; an SA whose work must wait, e.g. for
 * the window, is looked at again by the next tick). */
static void sa_reschedule(struct ike_sa *sa, uint64_t t)
{
	uint64_t d;

	if (sa->state == IKE_SA_DEAD)
		return;
	d = sa_deadline(sa);
	ike_tq_set(&sa->eng->tq, &sa->tq, d > t ? d : t + 1);
}

/* Something outside a tick changed the SA (a message, an operator, a
 * collision handled on another SA): file it again. */
static void sa_touched(struct ike_sa *sa)
{
	if (sa && sa->state != IKE_SA_DEAD)
		sa_reschedule(sa, now(sa->eng) - 1);
}

/* Only the SAs that are due: the earliest deadline first. */
void ike_tick(struct ike_engine *eng)
{
	uint64_t t = now(eng);
	struct ike_tq_node *n;

	while ((n = ike_tq_first(&eng->tq)) && n->at <= t) {
		struct ike_sa *sa = (struct ike_sa *)((char *)n -
						      offsetof(struct ike_sa, tq));

		sa_tick(sa, t);
		sa_keepalive(sa, t);
		sa_reschedule(sa, t);
	}
	sa_reap(eng);
}

void ike_conn_down(struct ike_engine *eng, struct ike_conn *conn, bool silent)
{
	for (struct ike_sa *sa = eng->sas; sa; sa = sa->next) {
		if (sa->conn != conn || sa->state == IKE_SA_DEAD)
			continue;
		if (!silent && sa->state == IKE_SA_ESTABLISHED) {
			uint8_t inner_mem[64];
			struct ike_buf b;
			struct ike_header h;
			uint8_t out[256];
			int n;

			/* One best-effort DELETE; we do not wait. */
			ike_build_inner(&b, inner_mem, sizeof(inner_mem));
			ike_add_delete(&b, IKE_PROTO_IKE, 0, NULL, 0);
			hdr_init(sa, &h, INFORMATIONAL, false,
				 sa->req_kind == REQ_NONE ? sa->msgid_out
							  : sa->msgid_out + 1);
			n = ike_sk_seal(&sa->sk_out, &h, &b, out, sizeof(out));
			if (n > 0)
				sa_send(sa, out, (size_t)n);
		}
		sa_kill(sa, "connection closed");
	}
	sa_reap(eng);
}

void ike_conn_probe(struct ike_engine *eng, struct ike_conn *conn)
{
	for (struct ike_sa *sa = eng->sas; sa; sa = sa->next)
		if (sa->conn == conn && sa->state == IKE_SA_ESTABLISHED &&
		    !sa->superseded && sa->req_kind == REQ_NONE) {
			send_dpd(sa);
			sa_touched(sa);
		}
}

void ike_conn_forget(struct ike_engine *eng, struct ike_conn *conn)
{
	ike_conn_down(eng, conn, false);
}

void ike_foreach_conn_sa(struct ike_engine *eng, const struct ike_conn *conn,
			 ike_sa_iter_cb cb, void *arg)
{
	struct ike_sa *sa;

	conn_for_each_sa(eng, conn, sa)
		if (sa->state != IKE_SA_DEAD)
			cb(sa, arg);
}

void ike_foreach_sa(struct ike_engine *eng, ike_sa_iter_cb cb, void *arg)
{
	for (struct ike_sa *sa = eng->sas; sa; sa = sa->next)
		if (sa->state != IKE_SA_DEAD)
			cb(sa, arg);
}

struct ike_conn *ike_sa_conn(const struct ike_sa *sa)
{
	return sa->conn;
}

void ike_sa_get_status(const struct ike_sa *sa, struct ike_sa_status *st)
{
	struct ike_child *ch = child_current((struct ike_sa *)sa);

	memset(st, 0, sizeof(*st));
	st->state = sa->state;
	st->initiator = sa->initiator;
	st->spi_i = sa->spi_i;
	st->spi_r = sa->spi_r;
	st->local = sa->local;
	st->remote = sa->remote;
	st->encr = sa->encr;
	st->encr_keybits = sa->keybits;
	st->integ = sa->integ;
	st->prf = sa->prf;
	st->dh = sa->dh;
	st->established_ms = sa->established_ms;
	st->rekey_at_ms = sa->rekey_ms;
	if (ch) {
		st->child_installed = true;
		st->child_spi_in = ch->spi_in;
		st->child_spi_out = ch->spi_out;
		st->child_encr = ch->encr;
		st->child_encr_keybits = ch->keybits;
		st->child_integ = ch->integ;
		st->child_esn = ch->esn;
		st->child_rekey_at_ms = ch->rekey_ms;
	}
}
