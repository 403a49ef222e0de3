/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: IKEv2 message encoding and decoding (RFC 7296 section 3).
 *
 * Decoding never allocates and never trusts a length: parsed payloads point
 * into the caller's buffer, and every count is bounded by the IKE_MAX_*
 * limits below (exceeding one is an error, not a truncation). Encryption of
 * the SK payload is not done here (see ike/sk.h); this module only places
 * and finds it.
 */
#ifndef VPND_IKE_MESSAGE_H
#define VPND_IKE_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE_HDR_LEN 28
#define IKE_GENERIC_HDR_LEN 4
#define IKE_VERSION 0x20 /* major 2, minor 0 */

enum ike_exchange {
	IKE_SA_INIT = 34,
	IKE_AUTH = 35,
	CREATE_CHILD_SA = 36,
	INFORMATIONAL = 37,
};

enum ike_flags {
	IKE_FLAG_INITIATOR = 0x08,
	IKE_FLAG_VERSION = 0x10,
	IKE_FLAG_RESPONSE = 0x20,
};

enum ike_payload_type {
	IKE_PL_NONE = 0,
	IKE_PL_SA = 33,
	IKE_PL_KE = 34,
	IKE_PL_IDI = 35,
	IKE_PL_IDR = 36,
	IKE_PL_CERT = 37,
	IKE_PL_CERTREQ = 38,
	IKE_PL_AUTH = 39,
	IKE_PL_NONCE = 40,
	IKE_PL_NOTIFY = 41,
	IKE_PL_DELETE = 42,
	IKE_PL_VENDOR = 43,
	IKE_PL_TSI = 44,
	IKE_PL_TSR = 45,
	IKE_PL_SK = 46,
	IKE_PL_CP = 47,
	IKE_PL_EAP = 48,
	IKE_PL_SKF = 53,
};

#define IKE_PL_CRITICAL 0x80 /* flag byte of the generic payload header */

enum ike_protocol {
	IKE_PROTO_IKE = 1,
	IKE_PROTO_AH = 2,
	IKE_PROTO_ESP = 3,
};

enum ike_id_type {
	IKE_ID_IPV4_ADDR = 1,
	IKE_ID_FQDN = 2,
	IKE_ID_RFC822_ADDR = 3,
	IKE_ID_IPV6_ADDR = 5,
	IKE_ID_KEY_ID = 11,
};

enum ike_auth_method {
	IKE_AUTH_PSK = 2, /* Shared Key Message Integrity Code */
};

enum ike_ts_type {
	IKE_TS_IPV4_ADDR_RANGE = 7,
	IKE_TS_IPV6_ADDR_RANGE = 8,
};

/* Notify message types used by vpnd (RFC 7296 3.10.1, RFC 7383, ...). */
enum ike_notify_type {
	/* errors */
	IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD = 1,
	IKE_N_INVALID_IKE_SPI = 4,
	IKE_N_INVALID_MAJOR_VERSION = 5,
	IKE_N_INVALID_SYNTAX = 7,
	IKE_N_INVALID_MESSAGE_ID = 9,
	IKE_N_INVALID_SPI = 11,
	IKE_N_NO_PROPOSAL_CHOSEN = 14,
	IKE_N_INVALID_KE_PAYLOAD = 17,
	IKE_N_AUTHENTICATION_FAILED = 24,
	IKE_N_SINGLE_PAIR_REQUIRED = 34,
	IKE_N_NO_ADDITIONAL_SAS = 35,
	IKE_N_INTERNAL_ADDRESS_FAILURE = 36,
	IKE_N_FAILED_CP_REQUIRED = 37,
	IKE_N_TS_UNACCEPTABLE = 38,
	IKE_N_INVALID_SELECTORS = 39,
	IKE_N_TEMPORARY_FAILURE = 43,
	IKE_N_CHILD_SA_NOT_FOUND = 44,
	/* status */
	IKE_N_INITIAL_CONTACT = 16384,
	IKE_N_SET_WINDOW_SIZE = 16385,
	IKE_N_ADDITIONAL_TS_POSSIBLE = 16386,
	IKE_N_IPCOMP_SUPPORTED = 16387,
	IKE_N_NAT_DETECTION_SOURCE_IP = 16388,
	IKE_N_NAT_DETECTION_DESTINATION_IP = 16389,
	IKE_N_COOKIE = 16390,
	IKE_N_USE_TRANSPORT_MODE = 16391,
	IKE_N_REKEY_SA = 16393,
	IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
	IKE_N_NON_FIRST_FRAGMENTS_ALSO = 16395,
	IKE_N_MOBIKE_SUPPORTED = 16396,
	IKE_N_IKEV2_FRAGMENTATION_SUPPORTED = 16430,
	IKE_N_SIGNATURE_HASH_ALGORITHMS = 16431,
};

/* Bounds on what one message may carry. */
#define IKE_MAX_PROPOSALS 16
#define IKE_MAX_TRANSFORMS 128 /* per proposal (strongSwan defaults: ~40) */
#define IKE_MAX_NOTIFY 16
#define IKE_MAX_DELETE 4
#define IKE_MAX_TS 16 /* per TS payload */
#define IKE_MAX_VENDOR 8
#define IKE_MAX_SPI_LEN 8

/* Nonce Data size (RFC 7296 3.9); the parser refuses anything else. */
#define IKE_NONCE_MIN_LEN 16
#define IKE_NONCE_MAX_LEN 256

struct ike_header {
	uint64_t spi_i; /* host byte order */
	uint64_t spi_r;
	uint8_t next_payload;
	uint8_t version;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msgid;
	uint32_t length;
};

struct ike_transform {
	uint8_t type;
	uint16_t id;
	uint16_t keylen; /* Key Length attribute in bits, 0 when absent */
	bool unknown_attr; /* an attribute other than Key Length */
};

struct ike_proposal {
	uint8_t num;
	uint8_t protocol; /* enum ike_protocol */
	uint8_t spi_size;
	uint8_t spi[IKE_MAX_SPI_LEN];
	unsigned int ntransforms;
	struct ike_transform transforms[IKE_MAX_TRANSFORMS];
};

struct ike_sa_payload {
	unsigned int nproposals;
	struct ike_proposal proposals[IKE_MAX_PROPOSALS];
};

struct ike_blob {
	const uint8_t *data;
	size_t len;
};

struct ike_ke {
	uint16_t group;
	const uint8_t *data;
	size_t len;
};

struct ike_id {
	uint8_t type;
	const uint8_t *data; /* identification data */
	size_t len;
	/* The payload body from the ID type on: what AUTH covers
	 * (RFC 7296 2.15, "RestOfInitIDPayload" / "RestOfRespIDPayload"). */
	const uint8_t *body;
	size_t bodylen;
};

struct ike_auth {
	uint8_t method;
	const uint8_t *data;
	size_t len;
};

struct ike_notify {
	uint8_t protocol;
	uint8_t spi_size;
	const uint8_t *spi;
	uint16_t type;
	const uint8_t *data;
	size_t len;
};

struct ike_delete {
	uint8_t protocol;
	uint8_t spi_size;
	uint16_t nspis;
	const uint8_t *spis; /* nspis * spi_size bytes */
};

struct ike_ts {
	uint8_t type; /* enum ike_ts_type */
	uint8_t proto;
	uint16_t start_port;
	uint16_t end_port;
	uint8_t start[16]; /* 4 or 16 bytes used, network order */
	uint8_t end[16];
};

struct ike_ts_payload {
	unsigned int nts;
	struct ike_ts ts[IKE_MAX_TS];
};

/* Encrypted payload (SK) as found on the wire. */
struct ike_sk {
	uint8_t first_inner;  /* next-payload of the SK payload */
	size_t offset;	      /* of the SK generic header in the message */
	const uint8_t *data;  /* IV | ciphertext | padding | ICV */
	size_t len;
};

/* Encrypted fragment (SKF, RFC 7383). */
struct ike_skf {
	uint8_t first_inner; /* only meaningful in fragment 1 */
	uint16_t number;
	uint16_t total;
	size_t offset;
	const uint8_t *data;
	size_t len;
};

struct ike_msg {
	struct ike_header hdr;
	const uint8_t *raw; /* the whole message */
	size_t rawlen;

	bool has_sa, has_ke, has_nonce, has_idi, has_idr, has_auth;
	bool has_tsi, has_tsr, has_sk, has_skf, has_cp;
	struct ike_sa_payload sa;
	struct ike_ke ke;
	struct ike_blob nonce;
	struct ike_id idi, idr;
	struct ike_auth auth;
	struct ike_ts_payload tsi, tsr;
	struct ike_sk sk;
	struct ike_skf skf;
	struct ike_blob cp; /* raw CP body */

	unsigned int nnotify;
	struct ike_notify notify[IKE_MAX_NOTIFY];
	unsigned int ndelete;
	struct ike_delete del[IKE_MAX_DELETE];
	unsigned int nvendor;
	struct ike_blob vendor[IKE_MAX_VENDOR];

	/* An unrecognised payload with the critical bit set: its type, or 0.
	 * The caller answers UNSUPPORTED_CRITICAL_PAYLOAD (RFC 7296 2.5). */
	uint8_t unsupported_critical;
};

enum ike_parse_result {
	IKE_PARSE_OK = 0,
	IKE_PARSE_TRUNCATED = -1,     /* shorter than a header or a length */
	IKE_PARSE_BAD_VERSION = -2,   /* major version is not 2 */
	IKE_PARSE_BAD_LENGTH = -3,    /* header length != datagram length */
	IKE_PARSE_MALFORMED = -4,     /* a payload's content is invalid */
	IKE_PARSE_TOO_MANY = -5,      /* more than an IKE_MAX_* bound */
	IKE_PARSE_DUPLICATE = -6,     /* a payload that may appear once */
	IKE_PARSE_SK_NOT_LAST = -7,   /* SK/SKF must be the last payload */
};

const char *ike_parse_strerror(int err);

/* Parse only the fixed header (28 bytes). */
int ike_parse_header(const uint8_t *buf, size_t len, struct ike_header *hdr);

/*
 * Parse a whole message: header, then the payload chain up to and
 * including an SK or SKF payload, which must be last. `msg` is reset
 * first. The message length field must equal `len`.
 */
int ike_parse(const uint8_t *buf, size_t len, struct ike_msg *msg);

/*
 * Parse a decrypted inner payload chain (the plaintext of SK) starting with
 * payload type `first`, adding to `msg` (which keeps its header). The
 * chain must end exactly at `len`.
 */
int ike_parse_payloads(uint8_t first, const uint8_t *buf, size_t len,
		       struct ike_msg *msg);

/* First notify of a type, or NULL. */
const struct ike_notify *ike_msg_notify(const struct ike_msg *msg,
					uint16_t type);

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

/*
 * A builder writes into a caller-supplied buffer. Each ike_add_* call
 * appends one payload and patches the previous payload's next-payload
 * field (or the header's). When the buffer is too small, `overflow` is set
 * and further calls do nothing; ike_build_finish() then fails.
 */
struct ike_buf {
	uint8_t *data;
	size_t cap;
	size_t len;
	bool overflow;
	bool has_header;   /* built with ike_build_init (vs. an inner chain) */
	size_t np_offset;  /* where the next payload type goes */
	uint8_t first;	   /* type of the first payload appended */
};

/* Start a message: writes the header from `hdr` (length filled later). */
void ike_build_init(struct ike_buf *b, uint8_t *mem, size_t cap,
		    const struct ike_header *hdr);

/* Start a bare payload chain (the plaintext inside SK). */
void ike_build_inner(struct ike_buf *b, uint8_t *mem, size_t cap);

/* Append a payload with the given body; returns a pointer to the body in
 * the buffer (NULL on overflow). body may be NULL to reserve space. */
uint8_t *ike_add_payload(struct ike_buf *b, uint8_t type, bool critical,
			 const void *body, size_t len);

void ike_add_sa(struct ike_buf *b, const struct ike_proposal *props,
		unsigned int n);
void ike_add_ke(struct ike_buf *b, uint16_t group, const uint8_t *data,
		size_t len);
void ike_add_nonce(struct ike_buf *b, const uint8_t *data, size_t len);
/* type is IKE_PL_IDI or IKE_PL_IDR. */
void ike_add_id(struct ike_buf *b, uint8_t type, uint8_t id_type,
		const uint8_t *data, size_t len);
void ike_add_auth(struct ike_buf *b, uint8_t method, const uint8_t *data,
		  size_t len);
void ike_add_notify(struct ike_buf *b, uint8_t protocol, const uint8_t *spi,
		    uint8_t spi_size, uint16_t type, const uint8_t *data,
		    size_t len);
void ike_add_delete(struct ike_buf *b, uint8_t protocol, uint8_t spi_size,
		    const uint8_t *spis, uint16_t nspis);
/* type is IKE_PL_TSI or IKE_PL_TSR. */
void ike_add_ts(struct ike_buf *b, uint8_t type, const struct ike_ts *ts,
		unsigned int n);
void ike_add_vendor(struct ike_buf *b, const uint8_t *data, size_t len);

/*
 * Append an SK payload header whose next-payload is `first_inner`, and
 * reserve `len` bytes of body (IV | ciphertext | ICV) to be filled by the
 * caller. Returns the body pointer, or NULL on overflow.
 */
uint8_t *ike_add_sk(struct ike_buf *b, uint8_t first_inner, size_t len);

/* Finish: write the total length into the header (messages only).
 * Returns the length, or -1 if the buffer overflowed. */
int ike_build_finish(struct ike_buf *b);

#endif /* VPND_IKE_MESSAGE_H */
