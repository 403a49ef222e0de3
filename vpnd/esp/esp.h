/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: ESP packet engine (RFC 4303), tunnel mode, for ESP in UDP
 * (RFC 3948).
 *
 * The caller owns the UDP socket: it strips the UDP header, tells ESP from
 * IKE (non-ESP marker) and NAT keepalives, looks the SA up by SPI, and
 * adds the UDP header on output. This module sees only ESP packets:
 *
 *   SPI | Seq | IV | E(payload | padding | pad length | next header) | ICV
 *
 * An SA is one direction of a Child SA. Its cipher and integrity contexts
 * are prepared once (keys expanded) when it is made; esp_encap() and
 * esp_decap() allocate nothing. One SA is used by one thread at a time.
 *
 * IVs: AEAD (AES-GCM, ChaCha20-Poly1305) uses the 64-bit sequence number,
 * unique per key (RFC 4106 section 3, RFC 7634 section 2); CBC uses the
 * sequence number encrypted with a random per-SA AES key that never
 * leaves the SA (unpredictable, RFC 3602 section 2.1).
 *
 * Sequence numbers start at 1 and never cycle: after 2^32 - 1 (2^64 - 1
 * with ESN) packets esp_encap() refuses with ESP_SEQ_EXHAUSTED and the
 * SA must be rekeyed.
 */
#ifndef VPND_ESP_H
#define VPND_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/replay.h"

#define ESP_HDR_LEN 8	  /* SPI + sequence number */
#define ESP_TRAILER_LEN 2 /* pad length + next header */

/* Next header values of tunnel mode (IANA protocol numbers). */
#define ESP_NH_IPV4 4
#define ESP_NH_IPV6 41
#define ESP_NH_NONE 59 /* dummy packet (RFC 4303 section 2.6) */

/* Result of esp_encap()/esp_decap(); also the index of drop counters. */
enum esp_status {
	ESP_OK = 0,
	ESP_UNKNOWN_SPI,   /* no SA for the SPI: counted by the caller, or
			    * the packet's SPI is not this SA's */
	ESP_MALFORMED,	   /* too short, not whole blocks, bad padding */
	ESP_REPLAY,	   /* duplicate or left of the replay window */
	ESP_INTEGRITY,	   /* ICV or AEAD tag did not verify */
	ESP_SEQ_EXHAUSTED, /* outbound: sequence numbers used up, rekey */
	ESP_NO_SPACE,	   /* outbound: output buffer too small */
	ESP_CRYPTO_ERROR,  /* the crypto library failed */
	ESP_STATUS_MAX,
};

struct esp_stats {
	uint64_t in_packets, in_bytes;	 /* accepted; inner packet bytes */
	uint64_t out_packets, out_bytes; /* sent; inner packet bytes */
	uint64_t drops[ESP_STATUS_MAX];	 /* by status; [ESP_OK] stays 0 */
};

/* What makes an SA. Keys are copied into prepared contexts. */
struct esp_sa_params {
	uint32_t spi;		 /* not 0 (reserved, RFC 4303 section 2.1) */
	uint16_t encr;		 /* IKEv2 transform ID: 3, 12, 20, 28 */
	uint16_t keybits;	 /* Key Length attribute (AES), else 0 */
	uint16_t integ;		 /* IKEv2 transform ID; 0 with AEAD */
	bool esn;		 /* extended (64-bit) sequence numbers */
	const uint8_t *encr_key; /* vpn_cipher_info().keylen bytes, salt
				  * included for AEAD */
	size_t encr_keylen;
	const uint8_t *integ_key; /* vpn_integ_keylen() bytes */
	size_t integ_keylen;
};

struct esp_sa;

/* NULL on bad parameters (unknown transform, wrong key length, AEAD with
 * integrity, CBC without) or allocation failure. */
struct esp_sa *esp_sa_new(const struct esp_sa_params *p);
void esp_sa_free(struct esp_sa *sa);

uint32_t esp_sa_spi(const struct esp_sa *sa);

/* Bytes before the payload: SPI, sequence number, IV. An inner packet
 * placed at out + esp_sa_head_len() is encapsulated without a copy. */
size_t esp_sa_head_len(const struct esp_sa *sa);

/* Length of the ESP packet for an inner packet of inner_len bytes. */
size_t esp_sa_encap_len(const struct esp_sa *sa, size_t inner_len);

/* Largest overhead over the inner packet (header, IV, worst padding,
 * trailer, ICV), for MTU computations. */
size_t esp_sa_overhead_max(const struct esp_sa *sa);

/*
 * Encapsulate an inner packet (next_header: ESP_NH_IPV4/IPV6) into out,
 * which holds out_size bytes; *out_len gets the ESP packet length. inner
 * may overlap out (in place). Padding is the minimum that aligns the
 * trailer to the cipher block (4 bytes for AEAD), bytes 1, 2, 3, ...
 * On failure nothing is sent and the drop is counted.
 */
enum esp_status esp_encap(struct esp_sa *sa, const uint8_t *inner,
			  size_t inner_len, uint8_t next_header, uint8_t *out,
			  size_t out_size, size_t *out_len);

/* The decapsulated packet, inside the caller's buffer. */
struct esp_inner {
	uint8_t *data;
	size_t len;
	uint8_t next_header; /* ESP_NH_NONE: a dummy packet, to discard */
	uint64_t seq;	     /* full sequence number */
};

/*
 * Decapsulate pkt (len bytes, from the SPI on) in place: check the
 * replay window, verify the ICV, decrypt, check the padding, then update
 * the window. On ESP_OK inner points into pkt. Otherwise the packet is
 * dropped, counted by reason (ESP_UNKNOWN_SPI excepted), and the SA
 * state is unchanged: nothing is learnt from a packet that did not
 * authenticate. pkt's contents are undefined after a failure.
 */
enum esp_status esp_decap(struct esp_sa *sa, uint8_t *pkt, size_t len,
			  struct esp_inner *inner);

void esp_sa_get_stats(const struct esp_sa *sa, struct esp_stats *st);

/* Inner bytes through the SA (in + out), for byte lifetimes. */
uint64_t esp_sa_bytes(const struct esp_sa *sa);

/* Last sequence number sent, and how many are left before
 * ESP_SEQ_EXHAUSTED (rekey well before 0). */
uint64_t esp_sa_seq_out(const struct esp_sa *sa);
uint64_t esp_sa_seq_left(const struct esp_sa *sa);

/* Stable lower-case name ("ok", "unknown-spi", "malformed", "replay",
 * "integrity", "seq-exhausted", "no-space", "crypto-error"). */
const char *esp_status_name(enum esp_status s);

#endif /* VPND_ESP_H */
