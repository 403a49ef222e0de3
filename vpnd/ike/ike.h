/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: the IKEv2 engine: IKE SAs and their Child SAs, driven by received
 * datagrams and by ike_tick(). No sockets, no clock, no FRR: the host (the
 * daemon, or a test harness holding two engines) supplies I/O, time and
 * SPI allocation through struct ike_ops.
 *
 * Exchanges: IKE_SA_INIT (with COOKIE and INVALID_KE_PAYLOAD), IKE_AUTH with
 * pre-shared keys and the first Child SA, INFORMATIONAL (DELETE, liveness
 * checks), CREATE_CHILD_SA (Child SA and IKE SA rekeying), retransmission
 * with backoff. ESP is always UDP-encapsulated (RFC 3948): vpnd has no
 * kernel ESP, so NAT detection is forced and IKE moves to port 4500.
 */
#ifndef VPND_IKE_IKE_H
#define VPND_IKE_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "ike/message.h"
#include "ike/proposal.h"
#include "ike/keys.h"
#include "ike/sk.h"

#define IKE_PORT 500
#define IKE_NATT_PORT 4500
#define IKE_MSG_MAX 8192
#define IKE_NONCE_LEN 32
#define IKE_CONN_MAX_TS 16
#define IKE_CONN_MAX_PROPOSALS 16
#define IKE_CONN_MAX_LIMIT 64
#define IKE_KEEPALIVE_MS 20000 /* NAT keepalive interval */

struct ike_addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
};

/* Bytes of addr in use: 4 for AF_INET, else 16. */
static inline size_t ike_addr_len(const struct ike_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

/* Same family and address (ports not compared). */
static inline bool ike_addr_same_ip(const struct ike_addr *a,
				    const struct ike_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, ike_addr_len(a)) == 0;
}

/* Same family, address and port. */
static inline bool ike_addr_eq(const struct ike_addr *a,
			       const struct ike_addr *b)
{
	return ike_addr_same_ip(a, b) && a->port == b->port;
}

/* One connection's configuration, owned by the host. */
struct ike_conn {
	char name[64];
	struct ike_addr local;	/* port ignored */
	struct ike_addr remote; /* port ignored */
	uint8_t local_id_type, remote_id_type;
	uint8_t local_id[256], remote_id[256];
	size_t local_id_len, remote_id_len;
	uint8_t psk[128];
	size_t psklen;
	struct vpn_proposal ike_props[IKE_CONN_MAX_PROPOSALS];
	unsigned int n_ike_props;
	struct vpn_proposal esp_props[IKE_CONN_MAX_PROPOSALS];
	unsigned int n_esp_props;
	uint32_t ike_lifetime;	 /* seconds before the IKE SA is rekeyed */
	uint32_t child_lifetime; /* seconds before a Child SA is rekeyed */
	uint64_t child_lifetime_bytes; /* 0: no volume limit */
	uint16_t dpd_interval;	 /* seconds */
	uint16_t dpd_timeout;	 /* seconds */
	bool initiator_only, responder_only;
	struct ike_ts local_ts[IKE_CONN_MAX_TS];
	unsigned int n_local_ts;
	struct ike_ts remote_ts[IKE_CONN_MAX_TS];
	unsigned int n_remote_ts;
	/*
	 * Remote selectors narrower than "any" become routes on the host, so
	 * the peer must not choose them freely (RFC 7296 2.9 would let it
	 * narrow to anything inside ours): each one must lie within one of
	 * these prefixes, must not cover the peer's own address, and (IPv6)
	 * must be exactly one prefix; otherwise the Child SA is refused
	 * (TS_UNACCEPTABLE). None: only "any" is accepted.
	 */
	struct ike_ts route_limit[IKE_CONN_MAX_LIMIT];
	unsigned int n_route_limit;
	void *host; /* the host's connection object */
};

/* What the host needs to install one Child SA (both directions). */
struct ike_child_info {
	uint32_t spi_in, spi_out;
	uint16_t encr, encr_keybits, integ;
	bool esn;
	size_t encr_keylen, integ_keylen;
	uint8_t encr_key_in[64], integ_key_in[64];
	uint8_t encr_key_out[64], integ_key_out[64];
	unsigned int n_local_ts, n_remote_ts;
	struct ike_ts local_ts[IKE_MAX_TS], remote_ts[IKE_MAX_TS];
	uint32_t lifetime;	   /* seconds */
	uint64_t lifetime_bytes;   /* 0: none */
	struct ike_addr local, remote; /* UDP endpoints for ESP */
	/* We answered the peer's rekey: it may not have installed this SA
	 * yet (RFC 7296 2.8), so outbound traffic should stay on the old SA
	 * until the peer uses the new one or deletes the old one. */
	bool rekey_responder;
};

struct ike_sa;

struct ike_ops {
	/* Send a datagram. For port 4500 the host prepends the non-ESP
	 * marker. */
	void (*send)(void *host, const struct ike_addr *local,
		     const struct ike_addr *remote, const uint8_t *buf,
		     size_t len);
	/* Current time in milliseconds (monotonic). */
	uint64_t (*now_ms)(void *host);
	/* A new inbound ESP SPI, unique on this host, never 0..255. */
	uint32_t (*alloc_spi)(void *host);
	/* Responder: the connection for a datagram's addresses, or NULL. */
	struct ike_conn *(*find_conn)(void *host, const struct ike_addr *local,
				      const struct ike_addr *remote);
	/* A Child SA is negotiated: install it (make-before-break: the old
	 * SA of a rekey is removed later through child_down). */
	void (*child_up)(void *host, struct ike_sa *sa,
			 const struct ike_child_info *info);
	/* Remove a Child SA (by our inbound SPI). */
	void (*child_down)(void *host, struct ike_sa *sa, uint32_t spi_in,
			   uint32_t spi_out);
	/* The IKE SA changed state; reason is set when it failed or ended. */
	void (*sa_event)(void *host, struct ike_sa *sa, const char *reason);
	/* Send a NAT keepalive (RFC 3948 2.3: one 0xff byte on port 4500). */
	void (*keepalive)(void *host, const struct ike_addr *local,
			  const struct ike_addr *remote);
	/* A log line (never carries keys). level: LOG_ERR .. LOG_DEBUG. */
	void (*log)(void *host, int level, const char *msg);
};

enum ike_sa_state {
	IKE_SA_INIT_SENT,     /* initiator, waiting for IKE_SA_INIT response */
	IKE_SA_AUTH_SENT,     /* initiator, waiting for IKE_AUTH response */
	IKE_SA_RESPONDED,     /* responder, waiting for IKE_AUTH request */
	IKE_SA_ESTABLISHED,
	IKE_SA_DELETING,
	IKE_SA_DEAD,	      /* to be freed */
};

struct ike_engine;

/* The engine: every IKE SA of one host. */
struct ike_engine *ike_engine_new(const struct ike_ops *ops, void *host);
void ike_engine_free(struct ike_engine *eng);

/*
 * Defences against unauthenticated load (RFC 7296 2.6, RFC 8019), with
 * strongSwan's defaults. "Half-open" is a responder IKE SA that answered
 * an IKE_SA_INIT and waits for IKE_AUTH. The checks on an IKE_SA_INIT
 * request, in order: a COOKIE is asked for (statelessly) when the
 * half-open SAs in all reach cookie_threshold or those from the request's
 * address reach cookie_threshold_ip, unless the request returns a valid
 * one; then it is dropped when the address has block_threshold half-open
 * SAs, when half_open_limit are half-open in all, or when the address
 * already has peer_sa_limit IKE SAs past half-open.
 */
struct ike_dos_config {
	unsigned int cookie_threshold;	  /* 30; 0: cookies always */
	unsigned int cookie_threshold_ip; /* 3; 0: cookies always */
	unsigned int block_threshold;	  /* 5; 0: no limit */
	unsigned int half_open_limit;	  /* 1000; 0: no limit */
	unsigned int peer_sa_limit;	  /* 8; 0: no limit */
	unsigned int cookie_lifetime_s;	  /* 120: the secret's rotation;
					   * the previous one stays valid */
	unsigned int max_packet;	  /* 10000: larger datagrams dropped
					   * before anything is read */
};
#define IKE_DOS_COOKIE_THRESHOLD 30
#define IKE_DOS_COOKIE_THRESHOLD_IP 3
#define IKE_DOS_BLOCK_THRESHOLD 5
#define IKE_DOS_HALF_OPEN_LIMIT 1000
#define IKE_DOS_PEER_SA_LIMIT 8
#define IKE_DOS_COOKIE_LIFETIME 120
#define IKE_DOS_MAX_PACKET 10000

void ike_dos_defaults(struct ike_dos_config *cfg);
void ike_engine_set_dos(struct ike_engine *eng,
			const struct ike_dos_config *cfg);
void ike_engine_get_dos(const struct ike_engine *eng,
			struct ike_dos_config *cfg);
/* Shorthand: cfg.cookie_threshold = n (tests). */
void ike_engine_set_cookie_threshold(struct ike_engine *eng,
				     unsigned int n);

/* What the engine saw and did with unauthenticated input (counters since
 * start, except the two gauges). */
struct ike_stats {
	uint64_t ike_sas;	 /* gauge: IKE SAs, every state */
	uint64_t half_open;	 /* gauge: half-open responder SAs */
	uint64_t rx;		 /* datagrams given to the engine */
	uint64_t drop_too_large; /* above max_packet */
	uint64_t drop_malformed; /* unparsable, or an IKE_SA_INIT request
				  * without SA, KE or a valid nonce */
	uint64_t drop_unknown_spi;
	uint64_t drop_unexpected; /* wrong state, exchange or message ID,
				   * or a pre-key message to an SA */
	uint64_t drop_integrity;  /* SK checksum or decryption failed */
	uint64_t drop_no_connection; /* IKE_SA_INIT, no connection */
	uint64_t cookies_sent;
	uint64_t cookies_invalid; /* a COOKIE that was not ours (or old) */
	uint64_t drop_blocked;	  /* block_threshold from one address */
	uint64_t drop_half_open_limit;
	uint64_t drop_peer_sa_limit;
	uint64_t half_open_expired;
	uint64_t no_proposal_chosen; /* answered NO_PROPOSAL_CHOSEN */
	uint64_t invalid_ke_sent;    /* answered INVALID_KE_PAYLOAD */
	uint64_t retransmits_answered; /* cached answer sent again */
	uint64_t log_suppressed;   /* unauthenticated log lines not written */
};
void ike_engine_get_stats(const struct ike_engine *eng,
			  struct ike_stats *st);
/* Retransmission: first timeout (ms), doubling, and number of
 * retransmissions before giving up. Defaults: 1000 ms, 5. */
void ike_engine_set_retransmit(struct ike_engine *eng, unsigned int base_ms,
			       unsigned int tries);

/* Start an IKE SA for a connection (as initiator). */
struct ike_sa *ike_initiate(struct ike_engine *eng, struct ike_conn *conn);

/* A datagram arrived (non-ESP marker already removed). */
void ike_input(struct ike_engine *eng, const struct ike_addr *local,
	       const struct ike_addr *remote, uint8_t *buf, size_t len);

/* Timers: retransmissions, liveness checks, rekeys, expiries. Every
 * deadline is checked against ops->now_ms() when this runs, so timers are
 * as precise as the calls are frequent: the daemon calls it every 100 ms. */
void ike_tick(struct ike_engine *eng);

/* Delete every IKE SA of a connection (DELETE sent to the peer when
 * established); with `silent` nothing is sent. */
void ike_conn_down(struct ike_engine *eng, struct ike_conn *conn,
		   bool silent);
/* The connection's configuration object is going away. */
/* Send a liveness check now on the connection's established IKE SAs (the
 * underlay path changed); no answer within dpd_timeout kills them. */
void ike_conn_probe(struct ike_engine *eng, struct ike_conn *conn);
void ike_conn_forget(struct ike_engine *eng, struct ike_conn *conn);

/* Rekey the Child SA / the IKE SA now (tests, operators). */
int ike_sa_rekey_child(struct ike_sa *sa);
/* Rekey the Child SA whose inbound SPI is spi_in, if it is a current one
 * (byte lifetimes: the host counts the bytes). */
int ike_rekey_child_spi(struct ike_engine *eng, uint32_t spi_in);
int ike_sa_rekey_ike(struct ike_sa *sa);
/* Delete the Child SA whose inbound SPI is spi_in (operators): a DELETE
 * goes to the peer when the IKE SA's window is free; the SA stays
 * installed until the peer answers. -1: no such Child SA, or it is
 * already being deleted. */
int ike_delete_child_spi(struct ike_engine *eng, uint32_t spi_in);

/* Introspection for show commands. */
typedef void (*ike_sa_iter_cb)(struct ike_sa *sa, void *arg);
void ike_foreach_sa(struct ike_engine *eng, ike_sa_iter_cb cb, void *arg);
/* The same for one connection's SAs, found through an index (no walk of
 * every SA). cb only reads: it must not make, end or free SAs. */
void ike_foreach_conn_sa(struct ike_engine *eng, const struct ike_conn *conn,
			 ike_sa_iter_cb cb, void *arg);

struct ike_sa_status {
	enum ike_sa_state state;
	bool initiator;
	uint64_t spi_i, spi_r;
	struct ike_addr local, remote;
	uint16_t encr, encr_keybits, integ, prf, dh;
	uint64_t established_ms;
	uint64_t rekey_at_ms; /* 0 if none */
	/* the current Child SA */
	bool child_installed;
	uint32_t child_spi_in, child_spi_out;
	uint16_t child_encr, child_encr_keybits, child_integ;
	bool child_esn;
	uint64_t child_rekey_at_ms;
};
void ike_sa_get_status(const struct ike_sa *sa, struct ike_sa_status *st);
struct ike_conn *ike_sa_conn(const struct ike_sa *sa);
/* Does the IKE SA own the Child SA with this inbound SPI? */
bool ike_sa_has_child(const struct ike_sa *sa, uint32_t spi_in);
const char *ike_sa_state_str(enum ike_sa_state st);

/* Identity helpers: "1.2.3.4", "2001:db8::1" -> IP; "keyid:xx" -> KEY_ID;
 * "user@fqdn" -> RFC822; "@fqdn" or "fqdn" -> FQDN. */
int ike_id_parse(const char *s, uint8_t *type, uint8_t *data, size_t *len);
void ike_id_from_addr(const struct ike_addr *a, uint8_t *type, uint8_t *data,
		      size_t *len);
/* Traffic selector covering a prefix (all protocols and ports). */
void ike_ts_from_prefix(struct ike_ts *ts, uint8_t family, const uint8_t *addr,
			unsigned int plen);

#endif /* VPND_IKE_IKE_H */
