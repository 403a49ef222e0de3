/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vpnd: configuration objects of the daemon (policies, connections).
 *
 * These are the applied form of the northbound running configuration: the
 * northbound callbacks (vpnd_nb_config.c) build them from the YANG data
 * tree, and everything else in the daemon reads them. vpnd.c hands each
 * change to the connection manager (vpnd_conn.h) and calls nothing else.
 */
#ifndef VPND_H
#define VPND_H

#include "typesafe.h"
#include "ipaddr.h"
#include "prefix.h"
#include "memory.h"
#include "ike/ike.h"
#include "ike/proposal.h"
#include "vpnd_util.h"


#define VPN_NAME_MAX 64
#define VPN_ID_MAX 256
#define VPN_PSK_MAX 129
#define VPN_IFNAME_MAX 16
#define VPN_POLICY_MAX_PROPOSALS 16

/* Built-in policy names (also spelled out in yang/vpnd.yang). */
#define VPN_POLICY_DEFAULT "default"

/* Defaults that the model does not carry as YANG defaults. */
#define VPN_DPD_TIMEOUT_DEFAULT 45

enum vpn_conn_mode {
	VPN_MODE_DEFAULT = 0,
	VPN_MODE_INITIATOR_ONLY = 1,
	VPN_MODE_RESPONDER_ONLY = 2,
};

enum vpn_conn_state {
	VPN_STATE_SHUTDOWN,
	VPN_STATE_INCOMPLETE,
	VPN_STATE_IDLE,	       /* complete; no IKE SA (yet) */
	VPN_STATE_CONNECTING,  /* IKE SA being negotiated */
	VPN_STATE_ESTABLISHED, /* a Child SA is installed */
};

PREDECL_RBTREE_UNIQ(vpn_policies);
PREDECL_RBTREE_UNIQ(vpn_conns);

struct vpn_policy {
	struct vpn_policies_item item;
	char name[VPN_NAME_MAX];
	enum vpn_proposal_kind kind;
	bool builtin;
	unsigned int nproposals;
	struct vpn_proposal proposals[VPN_POLICY_MAX_PROPOSALS];
	uint32_t lifetime_s;
	uint32_t lifetime_kb; /* ESP only; 0 = no volume limit */
};

struct vpn_ts {
	struct prefix local;
	struct prefix remote;
};

struct vpn_connection {
	struct vpn_conns_item item;
	char name[VPN_NAME_MAX];

	bool has_local, has_remote;
	struct ipaddr local;
	struct ipaddr remote;
	char local_id[VPN_ID_MAX];  /* empty: local-address */
	char remote_id[VPN_ID_MAX]; /* empty: remote-address */
	char psk[VPN_PSK_MAX];	    /* empty: not set; wiped on change */
	char ike_policy[VPN_NAME_MAX];
	char ipsec_policy[VPN_NAME_MAX];
	char ifname[VPN_IFNAME_MAX]; /* empty: not set */
	unsigned int nts;
	struct vpn_ts *ts;
	unsigned int nroutes; /* 'route' prefixes */
	struct prefix *routes;
	unsigned int naccept; /* 'accept-prefix' prefixes */
	struct prefix *accept;
	uint16_t dpd_interval;
	uint16_t dpd_timeout; /* 0: not set, see vpn_connection_dpd_timeout */
	enum vpn_conn_mode mode;
	bool shutdown;

	/* From the configuration alone: shutdown, incomplete (with the
	 * reason, a static string) or idle (complete). What happens at run
	 * time is the connection manager's (vpn_conn_get_oper). */
	enum vpn_conn_state state;
	const char *state_reason;

	/* Runtime state: owned by the connection manager (vpnd_conn.c),
	 * opaque to everyone else. */
	struct vpn_conn_rt *rt;
};

static inline int vpn_policy_cmp(const struct vpn_policy *a,
				 const struct vpn_policy *b)
{
	return strcmp(a->name, b->name);
}
DECLARE_RBTREE_UNIQ(vpn_policies, struct vpn_policy, item, vpn_policy_cmp);

static inline int vpn_conn_cmp(const struct vpn_connection *a,
			       const struct vpn_connection *b)
{
	return strcmp(a->name, b->name);
}
DECLARE_RBTREE_UNIQ(vpn_conns, struct vpn_connection, item, vpn_conn_cmp);

struct vpn_globals {
	bool configured; /* the 'vpn' container exists */
	struct vpn_policies_head ike_policies;
	struct vpn_policies_head ipsec_policies;
	struct vpn_conns_head conns;
	/* vpn/ike: the IKE engine's defences (defaults without 'vpn'). */
	struct ike_dos_config dos;
};

extern struct vpn_globals vpn;

void vpn_init(void);
/* Remove every policy and connection (the 'vpn' node was deleted). */
void vpn_clear(void);
void vpn_terminate(void);

/* Policies: configured ones and the built-in table. */
struct vpn_policy *vpn_policy_create(enum vpn_proposal_kind kind,
				     const char *name);
void vpn_policy_delete(struct vpn_policy *pol);
/* The policy's proposals or lifetimes changed: the connections that use
 * it are re-evaluated (and renegotiate when what they negotiate changed). */
void vpn_policy_changed(const struct vpn_policy *pol);
struct vpn_policy *vpn_policy_lookup(enum vpn_proposal_kind kind,
				     const char *name);
const struct vpn_policy *vpn_policy_builtin(enum vpn_proposal_kind kind,
					    const char *name);
/* Configured policy, else built-in one, else NULL. */
const struct vpn_policy *vpn_policy_resolve(enum vpn_proposal_kind kind,
					    const char *name);
const struct vpn_policy *vpn_policy_builtins(enum vpn_proposal_kind kind,
					     size_t *count);
struct vpn_policies_head *vpn_policy_head(enum vpn_proposal_kind kind);

/* Connections. */
struct vpn_connection *vpn_connection_create(const char *name);
void vpn_connection_delete(struct vpn_connection *conn);
struct vpn_connection *vpn_connection_lookup(const char *name);
void vpn_connection_set_ts(struct vpn_connection *conn,
			   const struct vpn_ts *ts, unsigned int nts);
void vpn_connection_set_routes(struct vpn_connection *conn,
			       const struct prefix *routes, unsigned int n);
void vpn_connection_set_accept(struct vpn_connection *conn,
			       const struct prefix *accept, unsigned int n);
void vpn_connection_set_psk(struct vpn_connection *conn, const char *psk);
/* Re-evaluate after a configuration change. */
void vpn_connection_update(struct vpn_connection *conn);

/* The DPD timeout in force: configured, else the default or three
 * intervals, whichever is longer. */
static inline uint16_t
vpn_connection_dpd_timeout(const struct vpn_connection *conn)
{
	if (conn->dpd_timeout)
		return conn->dpd_timeout;
	if (conn->dpd_interval * 3 > VPN_DPD_TIMEOUT_DEFAULT)
		return conn->dpd_interval * 3;
	return VPN_DPD_TIMEOUT_DEFAULT;
}

/*
 * The IKE defences (vpn/ike): the fields of struct ike_dos_config by their
 * YANG leaf under vpn/ike (also the CLI keyword after 'ike') and their
 * JSON key, so that the northbound, the running-config and the show
 * commands name each field the same way.
 */
struct vpn_dos_field {
	const char *yang;
	const char *json;
	size_t off;
};
extern const struct vpn_dos_field vpn_dos_fields[];
extern const unsigned int vpn_dos_nfields;

static inline unsigned int *vpn_dos_field(struct ike_dos_config *cfg,
					  const struct vpn_dos_field *f)
{
	return (unsigned int *)((char *)cfg + f->off);
}

static inline unsigned int vpn_dos_field_get(const struct ike_dos_config *cfg,
					     const struct vpn_dos_field *f)
{
	return *(const unsigned int *)((const char *)cfg + f->off);
}

/* Apply new defences (the engine takes them at once). */
void vpn_set_dos(const struct ike_dos_config *cfg);

const char *vpn_conn_state_str(enum vpn_conn_state state);
const char *vpn_conn_mode_str(enum vpn_conn_mode mode);

#endif /* VPND_H */
