/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: operational state, read from the owners' structures through their
 * getters (connection manager, IKE engine, tunnels, zebra client) into
 * plain structs. The one accessor layer under both the CLI's show
 * commands (vpnd_show.c, text and JSON) and the NETCONF state callbacks
 * (vpnd_nb_state.c), so the two cannot disagree.
 */
#ifndef VPND_STATE_H
#define VPND_STATE_H

#include "ike/ike.h"
#include "vpnd.h"
#include "vpnd_conn.h"
#include "vpnd_tunnel.h"
#include "vpnd_zebra.h"

/* One IKE SA with its tunnel's counters and its own Child SAs. */
struct vpn_ike_sa_oper {
	const char *conn_name;
	struct ike_sa_status st;
	int64_t rekey_s; /* seconds to rekey (0: due or none) */
	bool has_tunnel;
	struct vpn_tunnel_oper tun;
	unsigned int nchildren;
	struct vpn_child_oper children[VPN_TUNNEL_MAX_SA];
};

struct vpn_conn_info {
	const struct vpn_connection *conn;
	struct vpn_conn_oper oper;
	uint16_t dpd_timeout;
	/* The connection's IKE SAs, newest first. */
	unsigned int nsas;
	struct vpn_ike_sa_oper *sas;
	struct vpn_underlay_oper underlay;
	unsigned int nroutes;
	struct vpn_route_oper *routes;
};

/* Fill (allocates; vpn_state_conn_fini frees). */
void vpn_state_conn(const struct vpn_connection *conn,
		    struct vpn_conn_info *s);
void vpn_state_conn_fini(struct vpn_conn_info *s);
/* The IKE SA that stands for the connection (its JSON "ikeSa", NETCONF's
 * ike-sa): the newest established one, else the newest; NULL if none. */
const struct vpn_ike_sa_oper *vpn_state_conn_sa(const struct vpn_conn_info *s);

/*
 * One connection in brief ('show vpn connection summary'): its state, and
 * from its IKE SAs only what the summary prints. No allocation per
 * connection: a summary of every connection is one array.
 */
struct vpn_conn_brief {
	const struct vpn_connection *conn;
	enum vpn_conn_state state;
	bool has_sa;	   /* an established IKE SA (the ikeSa one) */
	uint64_t uptime_s; /* seconds since that IKE SA was established */
	/* over the Child SAs installed for the connection's IKE SAs */
	uint64_t bytes_in, bytes_out;
};
void vpn_state_conn_brief(const struct vpn_connection *conn,
			  struct vpn_conn_brief *b);
/* Every connection, in name order: an array of *n (free it with
 * vpn_state_conn_summary_free). */
struct vpn_conn_brief *vpn_state_conn_summary(unsigned int *n);
void vpn_state_conn_summary_free(struct vpn_conn_brief *b);

/* Every IKE SA of every connection, connection by connection. */
typedef void (*vpn_state_sa_fn)(const struct vpn_ike_sa_oper *sa, void *arg);
void vpn_state_foreach_sa(vpn_state_sa_fn fn, void *arg);

/* IKE SAs in total and half-open (not yet authenticated). */
void vpn_state_sa_counts(unsigned int *total, unsigned int *half_open);

/*
 * Counters by name, one table per struct, so that the JSON of the show
 * commands and the NETCONF leaves name the same field: the JSON key, the
 * YANG leaf (NULL: none), where the uint64_t is, and (tables printed as
 * they are) the text output's label.
 */
struct vpn_counter_desc {
	const char *json;
	const char *yang;
	size_t off;
	const char *text;
};

/* struct vpn_child_oper; YANG leaves under child-sa/statistics/. */
extern const struct vpn_counter_desc vpn_child_counters[];
extern const unsigned int vpn_child_ncounters;
/* struct vpn_tunnel_oper; YANG leaves under ike-sa/. */
extern const struct vpn_counter_desc vpn_tunnel_counters[];
extern const unsigned int vpn_tunnel_ncounters;

/* struct ike_stats, every field; YANG leaves under vpn/ike/statistics/. */
extern const struct vpn_counter_desc vpn_ike_counters[];
extern const unsigned int vpn_ike_ncounters;

/* The IKE engine's statistics, and the defences it applies. */
void vpn_state_ike_stats(struct ike_stats *st);
void vpn_state_ike_dos(struct ike_dos_config *dos);

static inline uint64_t vpn_counter_get(const void *obj,
				       const struct vpn_counter_desc *d)
{
	return *(const uint64_t *)((const char *)obj + d->off);
}

/* Names for algorithm numbers in show output. */
const char *vpn_state_tname(uint8_t type, uint16_t id, uint16_t keylen);

#endif /* VPND_STATE_H */
